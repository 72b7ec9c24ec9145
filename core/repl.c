/* Continuous replication (repl.h). The record (cloud, interval, the
 * replica's checkpoint and the one a cycle is making) is in state.yaml
 * before a cycle's job begins, so that a mount can drop what a killed
 * maasfs left: a backup job, a checkpoint, a seed half made.
 *
 * A cycle does not reserve the VM (its other writes go on); it raises
 * cycling, and what would reserve the VM waits for the cycle's end first
 * (repl_wait_idle). One thread runs the cycles of every replicated VM, one
 * after another; a seed runs in the writer's thread. */
#include "repl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../backend/copy/relay.h"
#include "../lib/log.h"
#include "events.h"
#include "janitor.h"
#include "xfer.h"
#include "names.h"
#include "txn.h"
#include "vm.h"

#define REPL_TICK_MS 1000
#define REPL_LAG_MS 2000          /* how often the lag is asked */
#define REPL_WAIT_MS 60000        /* for a cycle's end */

struct replicator {
	struct model *m;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop, running;          /* lock */
	pthread_t thread;
};

/* One cycle: what its steps share, copied from the VM. */
struct cycle {
	struct model *m;
	struct vm *v;                /* cycling: not freed meanwhile */
	struct cloud *from, *to;
	char uuid[VIRT_UUID_LEN + 1];
	char ckpt[REPL_CKPT_LEN], since[REPL_CKPT_LEN];
	uint64_t capacity, bytes;
	int64_t begin_ms, copy_ms;   /* how long the job's start, the copy */
	time_t at;                   /* the instant the replica will hold */
	bool (*cancelled)(void *);
	void *ctx;
	bool quiet;                  /* no event: a write says how it went */
	char err[ERRLEN];
};

/* Checkpoints are named by the wall clock's ms: never twice for a VM. */
static long long now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool repl_capable(const struct cloud *c)
{
	const struct virtdrv_ops *o = c->virt->ops;
	const struct hostdrv_ops *h = c->host->ops;

	return o->repl_begin && o->repl_end && o->ckpt_drop && o->ckpt_size &&
	       o->suspend && h->repl_dir && h->repl_source && h->repl_sink;
}

int repl_wait_idle(struct model *m, struct vm *v, char *err)
{
	struct timespec ts;

	deadline_in(&ts, REPL_WAIT_MS);
	while (v->repl.cycling)
		if (pthread_cond_timedwait(&m->repl_idle, &m->lock, &ts))
			break;
	return v->repl.cycling ? err_set(err, EBUSY, "a replication cycle "
					 "of %s does not end", v->name) : 0;
}

/* ---- a cycle ---- */

/* The blocks of this cycle, from the job's export on the source to the
 * replica on the target, verified; bytes sent in c->bytes. */
static int cycle_copy(struct cycle *c)
{
	struct relay_opts o = { .bandwidth = c->m->bandwidth_mib << 20,
				.cancelled = c->cancelled, .ctx = c->ctx };
	struct hostdrv *fh = c->from->host, *th = c->to->host;
	struct copy_src *s = NULL;
	struct copy_dst *d = NULL;
	int r;

	r = fh->ops->repl_source(fh, c->uuid, c->since[0] != '\0', &s,
				 c->err);
	if (r == 0 && s->size != c->capacity && !c->since[0])
		r = err_set(c->err, EIO, "the disk of %s serves %llu bytes, "
			    "not %llu", c->uuid, (unsigned long long)s->size,
			    (unsigned long long)c->capacity);
	if (r == 0)
		r = th->ops->repl_sink(th, c->uuid, s->size, &d, c->err);
	if (r == 0) {
		c->bytes = s->data;
		r = copy_relay(s, d, &o, c->err);
	}
	copy_src_close(s);
	return r;
}

/* The job and its folder on the source go, whatever happened. */
static void cycle_end(struct cycle *c)
{
	struct virtdrv *fv = c->from->virt;
	struct hostdrv *fh = c->from->host;
	char err[ERRLEN];

	if (fv->ops->repl_end(fv, c->uuid, err))
		log_warnx("replication of %s: %s", c->uuid, err);
	if (fh->ops->repl_dir(fh, c->uuid, false, err))
		log_warnx("replication of %s: %s", c->uuid, err);
}

/* Writes the record with ckpt as the pending one ("": none). */
static int cycle_pending(struct cycle *c, const char *ckpt)
{
	pthread_mutex_lock(&c->m->lock);
	snprintf(c->v->repl.pending, sizeof c->v->repl.pending, "%s", ckpt);
	pthread_mutex_unlock(&c->m->lock);
	return txn_once(c->m, NULL, c->err);
}

/* A seed's replica: an empty disk of the VM's size on the target, and no
 * checkpoint of an earlier replication on the source. */
static int cycle_seed(struct cycle *c)
{
	struct virtdrv *fv = c->from->virt, *tv = c->to->virt;
	uint64_t alloc;
	int r;

	r = fv->ops->disk_info(fv, c->uuid, &c->capacity, &alloc, c->err);
	if (r == 0)
		r = fv->ops->ckpt_drop(fv, c->uuid, NULL, c->err);
	return r ? r : tv->ops->disk_prepare(tv, c->uuid, c->capacity,
					     c->err);
}

static int cycle_run(struct cycle *c)
{
	struct virtdrv *fv = c->from->virt;
	struct hostdrv *fh = c->from->host;
	struct virt_cycle vc = { c->uuid, c->ckpt,
				 c->since[0] ? c->since : NULL };
	int r;

	snprintf(c->ckpt, sizeof c->ckpt, COPY_REPL_CKPT "%lld",
		 now_real_ms());
	if (!c->since[0] && (r = cycle_seed(c)))
		return r;
	r = fh->ops->repl_dir(fh, c->uuid, true, c->err);
	if (r == 0)
		r = cycle_pending(c, c->ckpt);
	if (r) {
		cycle_end(c);
		return r;
	}
	c->at = time(NULL);
	c->begin_ms = clock_ms();
	r = fv->ops->repl_begin(fv, &vc, c->err);
	c->copy_ms = clock_ms();
	c->begin_ms = c->copy_ms - c->begin_ms;
	if (r == 0)
		r = cycle_copy(c);
	c->copy_ms = clock_ms() - c->copy_ms;
	cycle_end(c);
	if (r) {
		char err[ERRLEN];

		if (fv->ops->ckpt_drop(fv, c->uuid, c->ckpt, err))
			log_warnx("replication of %s: %s", c->uuid, err);
		cycle_pending(c, "");
		return r;
	}
	if (c->since[0] && fv->ops->ckpt_drop(fv, c->uuid, c->since, c->err))
		log_warnx("replication of %s: the checkpoint before stays: "
			  "%s", c->uuid, c->err);
	return 0;
}

/* A background cycle that fails after one that did not, or the first
 * that works after failures, is an event (not every cycle: the file says
 * the rest). */
static void cycle_event(struct cycle *c, int r, bool was_failing)
{
	char path[2 * NAME_MAXLEN + 32];

	if (c->quiet || (r != 0) == was_failing)
		return;
	snprintf(path, sizeof path, "/%s/vms/%s/replication",
		 c->v->tenant->name, c->v->name);
	if (r)
		events_emit(c->m->events, path, "cycle to %s: failed %s: %s",
			    c->to->name, errno_name(-r), c->err);
	else
		events_emit(c->m->events, path, "cycle to %s: ok again, %llu "
			    "bytes", c->to->name,
			    (unsigned long long)c->bytes);
}

/* The cycle's outcome in the record (lock taken here), then saved. */
static void cycle_done(struct cycle *c, int r, int64_t t0)
{
	struct vm_repl *p = &c->v->repl;
	bool was_failing;

	pthread_mutex_lock(&c->m->lock);
	was_failing = p->error[0] != '\0';
	p->cycling = false;
	p->pending[0] = '\0';
	if (r == 0) {
		snprintf(p->ckpt, sizeof p->ckpt, "%s", c->ckpt);
		p->synced = c->at;
		p->cycles++;
		p->sent += c->bytes;
		p->last_bytes = c->bytes;
		p->last_ms = clock_ms() - t0;
		p->torn = false;
		p->error[0] = '\0';
		p->lag_at = 0;   /* ask again */
	} else {
		p->torn = p->ckpt[0] != '\0';
		snprintf(p->error, sizeof p->error, "%s", c->err);
	}
	p->next_ms = clock_ms() + (int64_t)p->interval_s * 1000;
	pthread_cond_broadcast(&c->m->repl_idle);
	pthread_mutex_unlock(&c->m->lock);
	cycle_event(c, r, was_failing);
	model_note(c->m, c->v->tenant->name);
	txn_once(c->m, NULL, NULL);
}

/* Lock held: the cycle of v copied from its record; v marked cycling. */
static void cycle_take(struct cycle *c, struct model *m, struct vm *v)
{
	memset(c, 0, sizeof *c);
	c->m = m;
	c->v = v;
	c->from = v->conf.location;
	c->to = v->repl.cloud;
	snprintf(c->uuid, sizeof c->uuid, "%s", v->uuid);
	snprintf(c->since, sizeof c->since, "%s", v->repl.ckpt);
	v->repl.cycling = true;
}

static int cycle(struct cycle *c)
{
	int64_t t0 = clock_ms();
	int r = cycle_run(c);

	if (r)
		log_warnx("replication of %s/%s to %s: the cycle failed: %s",
			  c->v->tenant->name, c->v->name, c->to->name, c->err);
	else
		log_info("replication of %s/%s to %s: %llu bytes in %lld ms "
			 "(the job's start %lld ms, the copy %lld ms)",
			 c->v->tenant->name, c->v->name, c->to->name,
			 (unsigned long long)c->bytes,
			 (long long)(clock_ms() - t0), (long long)c->begin_ms,
			 (long long)c->copy_ms);
	cycle_done(c, r, t0);
	return r;
}

int repl_final(struct model *m, struct vm *v, bool (*cancelled)(void *),
	       void *ctx, uint64_t *bytes, char *err)
{
	struct cycle c;
	int r;

	pthread_mutex_lock(&m->lock);
	cycle_take(&c, m, v);
	pthread_mutex_unlock(&m->lock);
	c.cancelled = cancelled;
	c.ctx = ctx;
	c.quiet = true;
	r = cycle(&c);
	*bytes = c.bytes;
	return r ? err_set(err, -r, "the last cycle: %s", c.err) : 0;
}

/* ---- the write ---- */

/* "CLOUD [interval=S]": cloud into cloud, *interval (0: not given). */
static int repl_parse(const char *value, char *cloud, unsigned *interval,
		      char *err)
{
	char word[66], extra;
	unsigned long s = 0;
	int n;

	*interval = 0;
	n = sscanf(value, "%65s interval=%lu%c", word, &s, &extra);
	if (n < 1 || strlen(word) > NAME_MAXLEN || !name_valid(word) ||
	    (n == 1 && strchr(value, ' ')) || n == 3 ||
	    (n == 2 && (s < 1 || s > REPL_INTERVAL_MAX)))
		return err_set(err, EINVAL, "replication takes \"CLOUD "
			       "[interval=SECONDS]\" (1 to %d) or stop, not "
			       "'%.60s'", REPL_INTERVAL_MAX, value);
	snprintf(cloud, NAME_MAXLEN + 1, "%s", word);
	*interval = (unsigned)s;
	return 0;
}

/* Lock held: may v start replicating to to? 1: it does already (the
 * interval changes). */
static int repl_startable(struct model *m, struct vm *v, struct cloud *to,
			  char *err)
{
	if (v->repl.cloud == to)
		return 1;
	if (v->repl.cloud)
		return err_set(err, EBUSY, "VM %s replicates to cloud %s: "
			       "write stop first", v->name,
			       v->repl.cloud->name);
	if (v->conf.location == to)
		return err_set(err, EINVAL, "VM %s is on cloud %s: replicate "
			       "it to another", v->name, to->name);
	if (!v->disk_made)
		return err_set(err, EINVAL, "VM %s has never run: it has no "
			       "disk to replicate", v->name);
	if (v->power != VIRT_POWER_RUNNING)
		return err_set(err, EINVAL, "VM %s is %s: a replication "
			       "reads a running VM's disk", v->name,
			       vm_state_word(v));
	if (!repl_capable(v->conf.location) || !repl_capable(to))
		return err_set(err, EOPNOTSUPP, "clouds %s and %s cannot "
			       "replicate (their drivers)",
			       v->conf.location->name, to->name);
	if (repl_wait_idle(m, v, err))
		return -EBUSY;
	if (v->state != OBJ_READY || mig_running(v->mig.phase))
		return err_set(err, EBUSY, "VM %s is %s", v->name,
			       obj_state_name(v->state));
	return cloud_takes(to, err) ? -EBUSY : 0;
}

static bool interrupted_cb(void *ctx)
{
	return model_interrupted(ctx);
}

/* The record and the target's replica of a seed that failed. */
static void seed_undo(struct model *m, struct vm *v, struct cycle *c)
{
	struct virtdrv *tv = c->to->virt;
	char err[ERRLEN];

	pthread_mutex_lock(&m->lock);
	memset(&v->repl, 0, sizeof v->repl);
	pthread_cond_broadcast(&m->repl_idle);
	pthread_mutex_unlock(&m->lock);
	txn_once(m, NULL, NULL);
	if (tv->ops->disk_delete(tv, c->uuid, err))
		log_warnx("replication of %s: the replica stays on %s: %s",
			  c->uuid, c->to->name, err);
}

static int repl_start(struct model *m, struct vm *v, struct cloud *to,
		      unsigned interval, char *err)
{
	struct mig_target mt = { v->conf.location, to, v->uuid, v->name,
				 false, 0, false };
	uint64_t cap, alloc;
	struct cycle c;
	int r = repl_startable(m, v, to, err);

	if (r == 1 && interval) {   /* retimed from now on */
		v->repl.interval_s = interval;
		v->repl.next_ms = clock_ms() + (int64_t)interval * 1000;
	}
	if (r)
		return r < 0 ? r : 0;
	memset(&v->repl, 0, sizeof v->repl);
	v->repl.cloud = to;
	v->repl.interval_s = interval ? interval : REPL_INTERVAL_S;
	cycle_take(&c, m, v);
	pthread_mutex_unlock(&m->lock);
	log_info("replication of %s/%s to %s: the seed", v->tenant->name,
		 v->name, to->name);
	r = mig_ready(&mt, &cap, &alloc, c.err);
	if (r == 0) {
		c.cancelled = interrupted_cb;
		c.ctx = m;
		c.quiet = true;
		r = cycle(&c);
	}
	if (r) {
		seed_undo(m, v, &c);
		err_set(err, -r, "the replication to %s did not start: %s",
			to->name, c.err);
	}
	pthread_mutex_lock(&m->lock);
	return r;
}

/* What a replication leaves: its job, checkpoints and folder on the
 * source, the replica on the target. */
static void repl_clear(struct cycle *c)
{
	struct virtdrv *fv = c->from->virt, *tv = c->to->virt;
	char err[ERRLEN];

	cycle_end(c);
	if (fv->ops->ckpt_drop(fv, c->uuid, NULL, err))
		log_warnx("replication of %s: its checkpoints on %s stay: %s",
			  c->uuid, c->from->name, err);
	if (tv->ops->disk_delete(tv, c->uuid, err)) {
		log_warnx("replication of %s: the replica stays on %s (the "
			  "sweep removes it): %s", c->uuid, c->to->name, err);
		janitor_poke(c->m->janitor, c->to);
	}
}

static int repl_stop(struct model *m, struct vm *v, char *err)
{
	enum obj_state prev = v->state;
	struct cycle c;

	if (!v->repl.cloud)
		return err_set(err, ENOENT, "VM %s has no replication",
			       v->name);
	if (repl_wait_idle(m, v, err))
		return -EBUSY;
	if (v->state != OBJ_READY && v->state != OBJ_ERROR)
		return err_set(err, EBUSY, "VM %s is %s", v->name,
			       obj_state_name(v->state));
	cycle_take(&c, m, v);
	memset(&v->repl, 0, sizeof v->repl);
	v->state = OBJ_CHANGING;
	pthread_mutex_unlock(&m->lock);
	txn_once(m, NULL, NULL);   /* forgotten first: the rest is swept */
	repl_clear(&c);
	log_info("replication of %s/%s to %s: stopped", v->tenant->name,
		 v->name, c.to->name);
	pthread_mutex_lock(&m->lock);
	v->state = prev;
	return 0;
}

int vm_repl_write(struct model *m, const char *tname, const char *name,
		  const char *value, char *err)
{
	char cloud[NAME_MAXLEN + 1];
	unsigned interval = 0;
	struct tenant *t;
	struct cloud *to = NULL;
	struct vm *v;
	bool stop = !strcmp(value, "stop");
	int r;

	if (!stop && repl_parse(value, cloud, &interval, err))
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, tname);
	v = t ? vm_find_visible(t, name) : NULL;
	if (!stop)
		to = model_cloud(m, cloud);
	if (!v)
		r = err_set(err, ENOENT, "no VM %s in tenant %s", name, tname);
	else if (!stop && !to)
		r = err_set(err, ENOENT, "no cloud %s", cloud);
	else
		r = stop ? repl_stop(m, v, err)
			 : repl_start(m, v, to, interval, err);
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		txn_once(m, NULL, NULL);
	return r;
}

/* ---- its file, the mount ---- */

int vm_repl_show(const struct vm *v, struct strbuf *out)
{
	const struct vm_repl *p = &v->repl;
	char when[32] = "none yet";
	struct tm tm;
	long long lag_s = 0;

	if (!p->cloud)
		return sb_puts(out, "none\n");
	if (p->ckpt[0]) {
		gmtime_r(&p->synced, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		lag_s = p->lag_bytes ? (long long)(time(NULL) - p->synced) : 0;
	}
	sb_printf(out, "cloud: %s\ninterval: %u s\nstate: %s\nreplica: %s\n",
		  p->cloud->name, p->interval_s,
		  !p->ckpt[0] ? "seeding" : v->power != VIRT_POWER_RUNNING
		  ? "waiting (the VM is not running)" : p->error[0]
		  ? "failing" : p->cycling ? "cycling" : "syncing", when);
	if (p->ckpt[0])
		sb_printf(out, "lag: %llu bytes, %lld s\n",
			  (unsigned long long)p->lag_bytes, lag_s);
	sb_printf(out, "cycles: %llu\nsent: %llu bytes\n",
		  (unsigned long long)p->cycles, (unsigned long long)p->sent);
	if (p->cycles)
		sb_printf(out, "last cycle: %llu bytes in %lld ms\n",
			  (unsigned long long)p->last_bytes,
			  (long long)p->last_ms);
	if (p->torn)
		sb_puts(out, "note: a cycle cut short wrote to the replica "
			"(the next one mends it)\n");
	if (p->error[0])
		sb_printf(out, "error: %s\n", p->error);
	return 0;
}

void vm_repl_recover(struct model *m, struct vm *v)
{
	struct cycle c;
	char err[ERRLEN];
	bool seeded;

	pthread_mutex_lock(&m->lock);
	if (!v->repl.cloud || !repl_capable(v->conf.location) ||
	    !repl_capable(v->repl.cloud)) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	cycle_take(&c, m, v);
	v->repl.cycling = false;
	snprintf(c.ckpt, sizeof c.ckpt, "%s", v->repl.pending);
	seeded = v->repl.ckpt[0] != '\0';
	if (!seeded)
		memset(&v->repl, 0, sizeof v->repl);
	v->repl.pending[0] = '\0';
	v->repl.torn = seeded && c.ckpt[0];
	pthread_mutex_unlock(&m->lock);
	if (!seeded) {
		repl_clear(&c);
		log_info("replication of %s/%s to %s: a seed cut off undone",
			 v->tenant->name, v->name, c.to->name);
	} else if (c.ckpt[0]) {
		cycle_end(&c);
		if (c.from->virt->ops->ckpt_drop(c.from->virt, c.uuid, c.ckpt,
						 err))
			log_warnx("replication of %s: %s", c.uuid, err);
		log_info("replication of %s/%s to %s: a cycle cut off dropped",
			 v->tenant->name, v->name, c.to->name);
	}
	txn_once(m, NULL, NULL);
}

/* ---- the thread ---- */

static bool stopping_cb(void *ctx)
{
	struct replicator *rp = ctx;

	return __atomic_load_n(&rp->stop, __ATOMIC_RELAXED);
}

/* Lock held: the VM whose cycle is due (or the one whose lag is oldest,
 * *lag true), or NULL. */
static struct vm *repl_next(struct model *m, bool *lag)
{
	int64_t now = clock_ms();
	struct vm *v, *old = NULL;
	struct tenant *t;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v) {
			const struct vm_repl *p = &v->repl;

			if (!p->cloud || p->cycling ||
			    !repl_capable(v->conf.location) ||
			    !repl_capable(p->cloud))
				continue;
			if (v->state == OBJ_READY && now >= p->next_ms &&
			    v->power == VIRT_POWER_RUNNING &&
			    v->conf.location != p->cloud) {
				*lag = false;
				return v;
			}
			if (p->ckpt[0] && now - p->lag_at >= REPL_LAG_MS &&
			    (!old || p->lag_at < old->repl.lag_at))
				old = v;
		}
	*lag = true;
	return old;
}

/* The bytes changed since the replica's checkpoint, as libvirt counts. */
static void repl_lag(struct model *m, struct cycle *c)
{
	struct virtdrv *fv = c->from->virt;
	uint64_t bytes = 0;
	char err[ERRLEN];
	struct vm *v;
	int r = fv->ops->ckpt_size(fv, c->uuid, c->since, &bytes, err);

	pthread_mutex_lock(&m->lock);
	v = vm_find_uuid(m, c->uuid);
	if (v && v == c->v && !strcmp(v->repl.ckpt, c->since)) {
		v->repl.lag_at = clock_ms();
		if (r == 0)
			v->repl.lag_bytes = bytes;
	}
	pthread_mutex_unlock(&m->lock);
}

/* A due cycle with nothing to send (libvirt counts no block changed
 * since the replica's checkpoint) is not run: no job, no write of the
 * state; the replica is the disk as it is. true then (v no longer
 * cycling). */
static bool cycle_idle(struct cycle *c)
{
	struct virtdrv *fv = c->from->virt;
	struct vm_repl *p = &c->v->repl;
	uint64_t bytes = 1;
	char err[ERRLEN];

	if (fv->ops->ckpt_size(fv, c->uuid, c->since, &bytes, err) || bytes)
		return false;
	pthread_mutex_lock(&c->m->lock);
	p->cycling = false;
	p->lag_bytes = 0;
	p->lag_at = clock_ms();
	p->error[0] = '\0';
	p->next_ms = p->lag_at + (int64_t)p->interval_s * 1000;
	pthread_cond_broadcast(&c->m->repl_idle);
	pthread_mutex_unlock(&c->m->lock);
	return true;
}

static void repl_tick(struct replicator *rp)
{
	struct model *m = rp->m;
	struct cycle c;
	struct vm *v;
	bool lag;

	pthread_mutex_lock(&m->lock);
	v = repl_next(m, &lag);
	if (v) {
		cycle_take(&c, m, v);
		v->repl.cycling = !lag;
	}
	pthread_mutex_unlock(&m->lock);
	if (v && lag) {
		repl_lag(m, &c);
	} else if (v && !cycle_idle(&c)) {
		c.cancelled = stopping_cb;
		c.ctx = rp;
		if (cycle(&c) == 0) {   /* what changed during it */
			snprintf(c.since, sizeof c.since, "%s", c.ckpt);
			repl_lag(m, &c);
		}
	}
}

static void *repl_thread(void *arg)
{
	struct replicator *rp = arg;
	struct timespec ts;

	pthread_mutex_lock(&rp->lock);
	while (!rp->stop) {
		pthread_mutex_unlock(&rp->lock);
		repl_tick(rp);
		pthread_mutex_lock(&rp->lock);
		if (rp->stop)
			break;
		deadline_in(&ts, REPL_TICK_MS);
		pthread_cond_timedwait(&rp->wake, &rp->lock, &ts);
	}
	pthread_mutex_unlock(&rp->lock);
	return NULL;
}

struct replicator *replicator_new(struct model *m)
{
	struct replicator *rp = calloc(1, sizeof *rp);

	if (!rp)
		return NULL;
	rp->m = m;
	pthread_mutex_init(&rp->lock, NULL);
	cond_init_monotonic(&rp->wake);
	return rp;
}

int replicator_start(struct replicator *rp)
{
	int r;

	if (!rp || rp->running)
		return 0;
	r = pthread_create(&rp->thread, NULL, repl_thread, rp);
	if (r) {
		log_warnx("cannot start the replicator: %s", strerror(r));
		return -r;
	}
	rp->running = true;
	return 0;
}

void replicator_free(struct replicator *rp)
{
	if (!rp)
		return;
	if (rp->running) {
		pthread_mutex_lock(&rp->lock);
		__atomic_store_n(&rp->stop, true, __ATOMIC_RELAXED);
		pthread_cond_signal(&rp->wake);
		pthread_mutex_unlock(&rp->lock);
		pthread_join(rp->thread, NULL);
	}
	pthread_mutex_destroy(&rp->lock);
	pthread_cond_destroy(&rp->wake);
	free(rp);
}
