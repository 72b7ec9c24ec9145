/* Migration of a VM between clouds (DESIGN §5), as a table of states and
 * events (OpenBSD ospfd's neighbor FSM): in a phase, an event runs an
 * action; when it succeeds the VM enters the next phase, which is written
 * to state.yaml before anything of it is done, and GO is raised there; when
 * it fails, FAIL is raised in the same phase. Before COMMIT a failure rolls
 * everything back to the source; from COMMIT on the target holds the VM
 * and only the source's leftovers can remain. At mount, RECOVER is raised
 * in the phase a killed maasfs left, and the clouds decide: the VM is never
 * on two clouds and never on none.
 *
 * The VM is reserved (CHANGING: other writes get EBUSY) for the whole run,
 * which happens in the writer's thread without the model lock. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "janitor.h"
#include "mig.h"
#include "ports.h"
#include "render.h"
#include "repl.h"
#include "subnet.h"
#include "txn.h"
#include "vm.h"
#include "xfer.h"

#define MIG_SETTLE_MS 30000

enum mig_event {
	MIG_EV_GO,        /* the previous step succeeded (or the start) */
	MIG_EV_FAIL,      /* this phase's step failed */
	MIG_EV_RECOVER,   /* a mount found the migration in this phase */
};

static const char *const event_names[] = { "go", "fail", "recover" };

/* One migration being run: what the steps share. */
struct migctx {
	struct model *m;
	struct txn tx;                    /* the run's: each phase ahead */
	struct vm *v;                     /* reserved for the whole run */
	char tenant[NAME_MAXLEN + 1], name[NAME_MAXLEN + 1];
	char subnet[NAME_MAXLEN + 1];     /* "" without a network */
	char uuid[VIRT_UUID_LEN + 1];
	char image[NAME_MAXLEN + 1];
	struct cloud *from, *to;
	bool live, tls, was_running;
	bool cutover;                     /* cold, from the VM's replica */
	struct virt_domain dom;           /* its definition on the target */
	char bridge[NET_IFNAMSIZ];
	struct strbuf xml;                /* as the target holds it */
	uint64_t capacity, allocation;    /* its disk */
	int64_t down_at;                  /* cold: when the source stopped */
	bool caller;                      /* a writer waits (can cancel) */
	uint64_t bw_mib;                  /* its share of the cap, 0: none */
	int r;                            /* the first failure */
	char err[ERRLEN];
	char note[ERRLEN];                /* what a rollback could not undo */
};

/* ---- helpers ---- */

static bool cancelled(struct migctx *x)
{
	return x->caller && model_interrupted(x->m);
}

static bool cancelled_cb(void *ctx)
{
	return cancelled(ctx);
}

static int fail(struct migctx *x, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct migctx *x, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, sizeof x->err, fmt, ap);
	va_end(ap);
	return -r;
}

static void note(struct migctx *x, const char *what, const char *why)
{
	size_t n = strlen(x->note);

	log_warnx("migration of %s/%s: %s: %s", x->tenant, x->name, what,
		  why);
	snprintf(x->note + n, sizeof x->note - n, "%s%s: %s", n ? "; " : "",
		 what, why);
}

static void progress(struct migctx *x, uint64_t done, uint64_t total,
		     uint64_t rate)
{
	pthread_mutex_lock(&x->m->lock);
	x->v->mig.done = done;
	x->v->mig.total = total;
	x->v->mig.rate = rate;
	pthread_mutex_unlock(&x->m->lock);
	model_note(x->m, x->tenant);
}

static void progress_cb(void *ctx, const struct virt_progress *p)
{
	progress(ctx, p->done, p->total, p->rate);
}

/* Copies one file of the source's disk or image directory to the
 * target's, verified; counted: its bytes are the migration's progress.
 * -ENOENT if the source has no such file. */
static void relay_progress(void *ctx, uint64_t done, uint64_t total,
			   uint64_t rate)
{
	progress(ctx, done, total, rate);
}

static int copy_file(struct migctx *x, enum copy_area area, const char *name,
		     bool counted, char *sum_hex)
{
	struct xfer t = { x->from, x->to, {
		.bandwidth = x->bw_mib << 20,
		.progress = counted ? relay_progress : NULL,
		.cancelled = cancelled_cb,
		.ctx = x,
	} };

	return xfer_file(&t, area, name, sum_hex, x->err);
}

static void disk_name(const struct migctx *x, const char *ext, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s.%s", x->uuid, ext);
}

/* The console log goes along; its loss is no reason to fail. */
static void copy_console(struct migctx *x)
{
	char name[64], saved[ERRLEN];
	int r;

	disk_name(x, "console", name, sizeof name);
	snprintf(saved, sizeof saved, "%s", x->err);
	r = copy_file(x, COPY_DISKS, name, false, NULL);
	if (r && r != -ENOENT)
		log_warnx("migration of %s/%s: the console log stays behind: "
			  "%s", x->tenant, x->name, x->err);
	snprintf(x->err, sizeof x->err, "%s", saved);
}

/* Does this cloud hold the VM whole: its domain and its disk? */
static bool holds(struct migctx *x, struct cloud *c, struct virt_settled *st)
{
	struct virt_settled dummy;
	char err[ERRLEN];

	return c->virt->ops->settle(c->virt, x->uuid, MIG_SETTLE_MS,
				    st ? st : &dummy, err) == 0 &&
	       c->virt->ops->disk_exists(c->virt, x->uuid, err) == 1;
}

/* ---- the steps ---- */

/* A copy on the target that a cut-off attempt left: it goes, as long as
 * it does not run (the source holds the VM whole). */
static int drop_stale_copy(struct migctx *x)
{
	struct virtdrv *tv = x->to->virt;
	struct virt_settled there;
	int r;

	if (tv->ops->settle(tv, x->uuid, MIG_SETTLE_MS, &there, NULL))
		return 0;
	if (there.power != VIRT_POWER_STOPPED)
		return fail(x, EBUSY, "a copy of %s runs on cloud %s", x->name,
			    x->to->name);
	if ((r = tv->ops->undefine(tv, x->uuid, x->err)))
		return r;
	log_info("migration of %s/%s: removed a stale copy on %s", x->tenant,
		 x->name, x->to->name);
	return 0;
}

/* The image: there, or sent along. */
static int image_there(struct migctx *x)
{
	struct xfer t = { x->from, x->to, {
		.bandwidth = x->bw_mib << 20,
		.cancelled = cancelled_cb,
		.ctx = x,
	} };

	return xfer_image(&t, x->image, x->err);
}

/* The target reachable, with room for the disk. */
static int target_ready(struct migctx *x)
{
	struct mig_target t = { x->from, x->to, x->uuid, x->name,
				x->subnet[0] != '\0', 0, x->cutover };

	return mig_ready(&t, &x->capacity, &x->allocation, x->err);
}

static int act_check(struct migctx *x)
{
	int r = target_ready(x);

	if (r == 0)
		r = drop_stale_copy(x);
	return r ? r : image_there(x);
}

/* The subnet and the VM's port's rules on the target before the domain
 * lands there. */
static int act_stretch(struct migctx *x)
{
	int r;

	if (!x->subnet[0])
		return 0;
	r = subnet_spread(x->m, x->tenant, x->subnet, x->err);
	return r ? r : ports_sync(x->m, x->tenant, x->to, x->err);
}

static int act_prepare(struct migctx *x)
{
	struct virtdrv *fv = x->from->virt;

	if (x->live) {
		copy_console(x);
		return x->to->virt->ops->disk_prepare(x->to->virt, x->uuid,
						      x->capacity, x->err);
	}
	if (!x->was_running)
		return 0;
	x->down_at = clock_ms();
	if (x->cutover)   /* paused: its QEMU serves the last cycle */
		return fv->ops->suspend(fv, x->uuid, x->err);
	return fv->ops->stop(fv, x->uuid, VM_STOP_GRACE_MS, x->err);
}

/* The pause is over once the guest runs on the target: one longer than
 * asked is said (QEMU holds its estimate of memory to the budget; the
 * devices' state comes on top), not undone by a second pause back. */
static void budget_note(struct migctx *x, int64_t downtime_ms)
{
	char why[96];

	if (!x->v->mig.budget_ms || downtime_ms <= x->v->mig.budget_ms)
		return;
	snprintf(why, sizeof why, "%lld ms, over the %u ms asked",
		 (long long)downtime_ms, x->v->mig.budget_ms);
	note(x, "the guest's pause", why);
}

/* The replica takes the last cycle's blocks (the guest paused), then the
 * source's QEMU ends: the target starts from the replica. */
static int cutover_transfer(struct migctx *x)
{
	struct virtdrv *fv = x->from->virt;
	uint64_t bytes = 0;
	int r = repl_final(x->m, x->v, cancelled_cb, x, &bytes, x->err);

	if (r)
		return r;
	pthread_mutex_lock(&x->m->lock);
	x->v->mig.done = x->v->mig.total = bytes;
	snprintf(x->v->mig.sum, sizeof x->v->mig.sum, "the last cycle's "
		 "blocks, read back from the replica (SHA-256)");
	pthread_mutex_unlock(&x->m->lock);
	r = fv->ops->stop(fv, x->uuid, 0, x->err);
	if (r == 0)
		copy_console(x);
	return r;
}

static int act_transfer(struct migctx *x)
{
	struct virt_migration mg = {
		.uuid = x->uuid, .dom = &x->dom, .host = x->to->vtep,
		.tls_name = !x->tls ? NULL : x->to->tls_name[0] ?
			    x->to->tls_name : x->to->vtep,
		.bandwidth_mib = x->bw_mib,
		.budget_ms = x->v->mig.budget_ms,
		.progress = progress_cb, .cancelled = cancelled_cb, .ctx = x,
	};
	struct virt_migrated res;
	char name[64], sum[COPY_SUM_HEX] = "";
	int r;

	if (x->live) {
		r = x->from->virt->ops->migrate(x->from->virt, x->to->virt,
						&mg, &res, x->err);
		if (r)
			return r;
		pthread_mutex_lock(&x->m->lock);
		x->v->mig.done = x->v->mig.total = res.bytes;
		x->v->mig.downtime_ms = res.downtime_ms;
		pthread_mutex_unlock(&x->m->lock);
		budget_note(x, res.downtime_ms);
		return 0;
	}
	if (x->cutover)
		return cutover_transfer(x);
	disk_name(x, "qcow2", name, sizeof name);
	r = copy_file(x, COPY_DISKS, name, true, sum);
	if (r)
		return r;
	pthread_mutex_lock(&x->m->lock);
	snprintf(x->v->mig.sum, sizeof x->v->mig.sum, "sha256:%s", sum);
	pthread_mutex_unlock(&x->m->lock);
	copy_console(x);
	return 0;
}

/* The VM on the target: live, libvirt put it there running; cold, it is
 * defined there now (and started, if it ran). */
static int act_land(struct migctx *x)
{
	struct virtdrv *tv = x->to->virt;
	struct virt_settled st;
	int r;

	if (x->live) {
		r = tv->ops->settle(tv, x->uuid, MIG_SETTLE_MS, &st, x->err);
		if (r == 0 && (st.power != VIRT_POWER_RUNNING || st.paused))
			r = fail(x, EIO, "the VM is not running on cloud %s "
				 "after the migration", x->to->name);
		return r;
	}
	r = tv->ops->define(tv, &x->dom, &x->xml, x->err);
	if (r == 0 && x->was_running)
		r = tv->ops->start(tv, x->uuid, x->err);
	if (r == 0 && x->was_running && x->down_at) {
		pthread_mutex_lock(&x->m->lock);
		x->v->mig.downtime_ms = clock_ms() - x->down_at;
		pthread_mutex_unlock(&x->m->lock);
	}
	return r;
}

static int act_verify(struct migctx *x)
{
	struct virtdrv *tv = x->to->virt;
	struct virt_settled st;
	int r;

	if (!holds(x, x->to, &st))
		return fail(x, EIO, "cloud %s does not hold %s whole (domain "
			    "and disk)", x->to->name, x->name);
	if (x->was_running && (st.power != VIRT_POWER_RUNNING || st.paused))
		return fail(x, EIO, "%s does not run on cloud %s", x->name,
			    x->to->name);
	if (!x->was_running && st.power != VIRT_POWER_STOPPED)
		return fail(x, EIO, "%s runs on cloud %s, it should not",
			    x->name, x->to->name);
	/* The persistent definition there, as the xml file shows it. */
	r = tv->ops->define(tv, &x->dom, &x->xml, x->err);
	return r;
}

static int act_commit(struct migctx *x)
{
	struct vm *v = x->v;
	struct vm_repl repl;
	struct cloud *was;
	enum virt_power power;
	int r;

	pthread_mutex_lock(&x->m->lock);
	repl = v->repl;
	if (x->cutover)   /* the replica is the VM's disk now */
		memset(&v->repl, 0, sizeof v->repl);
	was = v->conf.location;
	power = v->power;
	v->conf.location = x->to;
	v->power = x->was_running ? VIRT_POWER_RUNNING : VIRT_POWER_STOPPED;
	v->disk_made = true;
	if (x->xml.len) {
		sb_free(&v->xml);
		v->xml = x->xml;
		x->xml = (struct strbuf)STRBUF_INIT;
	}
	v->mtime = time(NULL);
	pthread_mutex_unlock(&x->m->lock);
	model_note(x->m, x->tenant);
	r = txn_ahead(&x->tx, x->err);   /* the point of no return */
	if (r) {
		pthread_mutex_lock(&x->m->lock);
		v->conf.location = was;
		v->power = power;
		v->repl = repl;
		pthread_mutex_unlock(&x->m->lock);
	}
	return r;
}

/* The source lets go: its domain (shut off by the migration) and disk. */
static int act_cleanup(struct migctx *x)
{
	struct virtdrv *fv = x->from->virt;
	struct virt_settled st;
	int r = 0;

	if (fv->ops->settle(fv, x->uuid, MIG_SETTLE_MS, &st, x->err) == 0) {
		/* Both ran (a maasfs killed between libvirt's finish and
		 * confirm): the target's is the VM now. */
		if (st.power != VIRT_POWER_STOPPED)
			r = fv->ops->stop(fv, x->uuid, 0, x->err);
		if (r == 0)
			r = fv->ops->undefine(fv, x->uuid, x->err);
	}
	if (r == 0)
		r = fv->ops->disk_delete(fv, x->uuid, x->err);
	if (r == 0 && x->subnet[0])
		r = subnet_spread(x->m, x->tenant, x->subnet, x->err);
	return r;
}

static int act_leftover(struct migctx *x)
{
	note(x, "left on the source", x->err);
	janitor_poke(x->m->janitor, x->from);
	return 0;
}

/* Everything back as it was: the target rid of the VM, the source running
 * it if it ran, the network off the target. Nothing on the target is
 * touched unless the source holds the VM whole. */
/* Everything of the VM on the target goes: domain, disk, a partial copy,
 * the console log. Whether something stays (the janitor's, janitor.h). */
static bool target_clear(struct migctx *x)
{
	struct virtdrv *tv = x->to->virt;
	struct virt_settled st;
	char err[ERRLEN], name[64];
	bool left;
	int r;

	r = tv->ops->settle(tv, x->uuid, MIG_SETTLE_MS, &st, err);
	if (r == 0) {
		r = tv->ops->stop(tv, x->uuid, 0, err);
		if (r == 0)
			r = tv->ops->undefine(tv, x->uuid, err);
	}
	left = r && r != -ENOENT;
	if (left)
		note(x, "the target's domain stays", err);
	if (x->cutover)
		return left;   /* the replica stays, as does its replication */
	r = tv->ops->disk_delete(tv, x->uuid, err);
	if (r)
		note(x, "the target's disk stays", err);
	left |= r != 0;
	disk_name(x, "qcow2", name, sizeof name);
	r = x->to->host->ops->file_remove(x->to->host, COPY_DISKS, name, err);
	if (r)
		note(x, "a partial copy stays on the target", err);
	left |= r != 0;
	disk_name(x, "console", name, sizeof name);
	x->to->host->ops->file_remove(x->to->host, COPY_DISKS, name, NULL);
	return left;
}

static int act_rollback(struct migctx *x)
{
	struct virtdrv *fv = x->from->virt;
	struct virt_settled src = { VIRT_POWER_UNKNOWN, false };
	char err[ERRLEN];
	int r = 0;

	if (!holds(x, x->from, &src)) {
		if (holds(x, x->to, NULL)) {
			note(x, "rollback", "the source no longer holds the "
			     "VM: it stays on the target");
			if (act_commit(x) == 0) {
				act_cleanup(x);
				return 0;
			}
		}
		note(x, "rollback", "neither cloud holds the VM whole");
		pthread_mutex_lock(&x->m->lock);
		obj_error_set(&x->v->error, "migration", EIO, x->note);
		x->v->state = OBJ_ERROR;
		pthread_mutex_unlock(&x->m->lock);
		return 0;
	}
	if (target_clear(x))   /* removed once the target is back */
		janitor_poke(x->m->janitor, x->to);
	if (x->was_running && src.power == VIRT_POWER_STOPPED)
		note(x, "rollback", "the source's domain was shut off (its "
		     "QEMU ended with the migration): the guest starts anew");
	if (x->was_running && (r = fv->ops->start(fv, x->uuid, err)))
		note(x, "the VM could not be started again on the source",
		     err);
	pthread_mutex_lock(&x->m->lock);
	x->v->mig.phase = MIG_FAILED;    /* the target leaves its presence */
	x->v->power = x->was_running && r == 0 ? VIRT_POWER_RUNNING
					      : VIRT_POWER_STOPPED;
	pthread_mutex_unlock(&x->m->lock);
	if (x->subnet[0] && subnet_spread(x->m, x->tenant, x->subnet, err))
		note(x, "the subnet stays stretched to the target", err);
	return 0;
}

/* A mount found the migration cut off in TRANSFER or LAND: did libvirt
 * finish it (the VM runs on the target) or not? Cold copies are redone. */
static int act_landed(struct migctx *x)
{
	struct virt_settled st;

	if (!x->live)
		return fail(x, EINTR, "maasfs stopped during the disk copy; "
			    "rolled back at the next mount");
	/* wait for libvirt to end what the dead client started */
	x->from->virt->ops->settle(x->from->virt, x->uuid, MIG_SETTLE_MS, &st,
				   NULL);
	if (holds(x, x->to, &st) && st.power == VIRT_POWER_RUNNING &&
	    !st.paused)
		return 0;
	return fail(x, EINTR, "maasfs stopped during the live migration, "
		    "which libvirt did not finish; rolled back at the next "
		    "mount");
}

static const struct mig_step {
	enum mig_phase state;
	enum mig_event event;
	int (*action)(struct migctx *x);
	enum mig_phase next;
} mig_table[] = {
	{ MIG_CHECK,    MIG_EV_GO,      act_check,    MIG_STRETCH },
	{ MIG_STRETCH,  MIG_EV_GO,      act_stretch,  MIG_PREPARE },
	{ MIG_PREPARE,  MIG_EV_GO,      act_prepare,  MIG_TRANSFER },
	{ MIG_TRANSFER, MIG_EV_GO,      act_transfer, MIG_LAND },
	{ MIG_LAND,     MIG_EV_GO,      act_land,     MIG_VERIFY },
	{ MIG_VERIFY,   MIG_EV_GO,      act_verify,   MIG_COMMIT },
	{ MIG_COMMIT,   MIG_EV_GO,      act_commit,   MIG_CLEANUP },
	{ MIG_CLEANUP,  MIG_EV_GO,      act_cleanup,  MIG_DONE },
	/* before the commit, a failure puts everything back */
	{ MIG_CHECK,    MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	{ MIG_STRETCH,  MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	{ MIG_PREPARE,  MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	{ MIG_TRANSFER, MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	{ MIG_LAND,     MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	{ MIG_VERIFY,   MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	{ MIG_COMMIT,   MIG_EV_FAIL,    act_rollback, MIG_FAILED },
	/* after it, the VM is the target's: leftovers are noted */
	{ MIG_CLEANUP,  MIG_EV_FAIL,    act_leftover, MIG_DONE },
	/* a mount finds it cut off */
	{ MIG_CHECK,    MIG_EV_RECOVER, act_rollback, MIG_FAILED },
	{ MIG_STRETCH,  MIG_EV_RECOVER, act_rollback, MIG_FAILED },
	{ MIG_PREPARE,  MIG_EV_RECOVER, act_rollback, MIG_FAILED },
	{ MIG_TRANSFER, MIG_EV_RECOVER, act_landed,   MIG_VERIFY },
	{ MIG_LAND,     MIG_EV_RECOVER, act_land,     MIG_VERIFY },
	{ MIG_VERIFY,   MIG_EV_RECOVER, act_verify,   MIG_COMMIT },
	{ MIG_COMMIT,   MIG_EV_RECOVER, act_commit,   MIG_CLEANUP },
	{ MIG_CLEANUP,  MIG_EV_RECOVER, act_cleanup,  MIG_DONE },
};

static const struct mig_step *mig_step_find(enum mig_phase p,
					    enum mig_event e)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mig_table); i++)
		if (mig_table[i].state == p && mig_table[i].event == e)
			return &mig_table[i];
	return NULL;
}

/* Runs the table from phase on event until an end. */
static void mig_run(struct migctx *x, enum mig_phase phase,
		    enum mig_event ev)
{
	const struct mig_step *st;
	char saved[ERRLEN];

	while ((st = mig_step_find(phase, ev))) {
		int r;

		log_info("migration of %s/%s: %s, %s", x->tenant, x->name,
			 mig_phase_name(phase), event_names[ev]);
		x->err[0] = '\0';
		if (ev == MIG_EV_GO && phase >= MIG_STRETCH &&
		    phase <= MIG_COMMIT && cancelled(x))
			r = fail(x, EINTR, "cancelled by the caller");
		else
			r = st->action(x);
		if (r && ev != MIG_EV_FAIL) {
			/* from the commit on the VM is the target's: what
			 * fails then is a leftover, noted, not the result */
			if (x->r == 0 && phase < MIG_CLEANUP) {
				x->r = r;
				snprintf(saved, sizeof saved, "%s", x->err);
			}
			log_warnx("migration of %s/%s: %s failed: %s",
				  x->tenant, x->name, mig_phase_name(phase),
				  x->err);
			ev = MIG_EV_FAIL;
			continue;
		}
		if (ev == MIG_EV_FAIL && x->r)
			snprintf(x->err, sizeof x->err, "%s", saved);
		phase = st->next;
		ev = MIG_EV_GO;
		pthread_mutex_lock(&x->m->lock);
		x->v->mig.phase = phase;
		pthread_mutex_unlock(&x->m->lock);
		model_note(x->m, x->tenant);
		if (mig_running(phase) && txn_ahead(&x->tx, NULL))
			log_warnx("migration of %s/%s: phase %s not saved",
				  x->tenant, x->name, mig_phase_name(phase));
	}
}

/* Fills what the steps share; the caller holds the lock. */
static void ctx_init(struct migctx *x, struct model *m, struct vm *v)
{
	memset(x, 0, sizeof *x);
	x->m = m;
	txn_begin(&x->tx, m, NULL);
	x->v = v;
	snprintf(x->tenant, sizeof x->tenant, "%s", v->tenant->name);
	snprintf(x->name, sizeof x->name, "%s", v->name);
	snprintf(x->subnet, sizeof x->subnet, "%s", v->conf.subnet);
	snprintf(x->uuid, sizeof x->uuid, "%s", v->uuid);
	snprintf(x->image, sizeof x->image, "%s", v->conf.image);
	x->from = v->mig.from;
	x->to = v->mig.to;
	x->live = v->mig.live;
	x->tls = v->mig.tls;
	x->was_running = v->mig.was_running;
	x->cutover = v->repl.cloud && v->repl.cloud == x->to && !x->live;
	x->bw_mib = m->bandwidth_mib;
	vm_domain(v, &v->conf, x->subnet[0] ? subnet_find(v->tenant,
							   x->subnet) : NULL,
		  &x->dom, x->bridge);
}

/* The end of a run: the result kept, the VM free again. */
static void ctx_end(struct migctx *x, enum obj_state prev, int64_t t0)
{
	struct mig *g = &x->v->mig;

	pthread_mutex_lock(&x->m->lock);
	g->total_ms = clock_ms() - t0;
	g->error = -x->r;
	snprintf(g->msg, sizeof g->msg, "%s", x->r ? x->err : x->note);
	if (x->r && x->note[0]) {
		size_t n = strlen(g->msg);

		snprintf(g->msg + n, sizeof g->msg - n, "; %.*s",
			 (int)(sizeof g->msg > n + 3 ? sizeof g->msg - n - 3
						     : 0), x->note);
	}
	if (x->r == 0)
		g->done = g->total;
	if (x->v->state != OBJ_ERROR)
		x->v->state = prev == OBJ_ERROR && x->r == 0 ? OBJ_READY
							     : prev;
	x->v->mtime = time(NULL);
	pthread_mutex_unlock(&x->m->lock);
	model_note(x->m, x->tenant);
	txn_commit(&x->tx, NULL);
	sb_free(&x->xml);
	if (ports_sync(x->m, x->tenant, NULL, NULL))   /* off the cloud left */
		log_warnx("VM %s/%s: its port's rules stay on a cloud it left "
			  "for now", x->tenant, x->name);
}

/* The VM taken for its migration to cloud (CHANGING, its record in phase
 * CHECK), under the lock: 1 when it is there already, 0, or -errno. */
/* One "KEY=VALUE" option of a location write into *o (seen: those had):
 * 1 if it is none (or one seen already), < 0 for a bad value. */
static int opt_one(const char *w, size_t len, struct mig_opts *o,
		   unsigned *seen, char *err)
{
	char *end;
	unsigned long v;

	if (len == 9 && !strncmp(w, "mode=live", 9) && !(*seen & 1)) {
		o->mode = "live";
	} else if (len == 9 && !strncmp(w, "mode=cold", 9) && !(*seen & 1)) {
		o->mode = "cold";
	} else if (len > 9 && !strncmp(w, "downtime=", 9) && !(*seen & 2) &&
		   w[9] >= '1' && w[9] <= '9') {
		errno = 0;
		v = strtoul(w + 9, &end, 10);
		if (end != w + len || errno || v > MIG_BUDGET_MAX_MS)
			return err_set(err, EINVAL, "downtime takes 1 to %u "
				       "(ms), not '%.*s'", MIG_BUDGET_MAX_MS,
				       (int)(len - 9), w + 9);
		o->downtime_ms = (unsigned)v;
		*seen |= 2;
		return 0;
	} else {
		return 1;
	}
	*seen |= 1;
	return 0;
}

int mig_opts_parse(const char *value, char *cloud, struct mig_opts *o,
		   char *err)
{
	const char *p = strchr(value, ' ');
	size_t len = p ? (size_t)(p - value) : strlen(value);
	unsigned seen = 0;
	int r = 0;

	o->mode = "";
	o->downtime_ms = 0;
	o->share = 0;
	if (len == 0 || len > NAME_MAXLEN)
		r = 1;
	while (r == 0 && p && *p) {
		const char *w = p + 1;

		p = strchr(w, ' ');
		r = opt_one(w, p ? (size_t)(p - w) : strlen(w), o, &seen, err);
		if (r < 0)
			return r;   /* a reason of its own */
	}
	if (r)
		return err_set(err, EINVAL, "location takes \"CLOUD "
			       "[mode=live|cold] [downtime=MS]\" (one space "
			       "between, each at most once), not '%.60s'",
			       value);
	memcpy(cloud, value, len);
	cloud[len] = '\0';
	return name_check(cloud, "cloud", err) ? -EINVAL : 0;
}

/* A budget is a live migration's: refused for any other move. */
static int budget_check(const struct vm *v, const struct mig_opts *o,
			char *err)
{
	if (!o->downtime_ms)
		return 0;
	if (v->power != VIRT_POWER_RUNNING)
		return err_set(err, EINVAL, "downtime= is the pause of a live "
			       "migration, and VM %s is not running (a stopped "
			       "VM moves cold)", v->name);
	if (!strcmp(o->mode, "cold"))
		return err_set(err, EINVAL, "downtime= is the pause of a live "
			       "migration: mode=cold stops the guest for the "
			       "whole copy");
	return 0;
}

int mig_allowed(const struct vm *v, const struct cloud *to, const char *mode,
		char *err)
{
	if (mig_running(v->mig.phase))
		return err_set(err, EBUSY, "VM %s is migrating to %s", v->name,
			       v->mig.to->name);
	if (v->state != OBJ_READY && v->state != OBJ_ERROR)
		return err_set(err, EBUSY, "VM %s is %s", v->name,
			       obj_state_name(v->state));
	if (v->power == VIRT_POWER_UNKNOWN)
		return err_set(err, EHOSTUNREACH, "the state of VM %s is "
			       "unknown (cloud %s unreachable?)", v->name,
			       v->conf.location->name);
	if (to == v->conf.location)
		return 1;
	if (v->repl.cloud && (to != v->repl.cloud || !strcmp(mode, "live") ||
			      v->power != VIRT_POWER_RUNNING))
		return err_set(err, EBUSY, "VM %s replicates to cloud %s: a "
			       "move there is a cutover (a running VM, not "
			       "mode=live); for any other, write stop to its "
			       "replication first", v->name,
			       v->repl.cloud->name);
	if (cloud_takes(to, err))
		return -EBUSY;
	if (v->power == VIRT_POWER_RUNNING && strcmp(mode, "cold") &&
	    v->conf.location->tls != to->tls)
		return err_set(err, EPROTO, "%s has tls in the clouds "
			       "file and %s has not: a live migration "
			       "between them would cross in clear (mode=cold "
			       "copies the disk over SSH)",
			       to->tls ? to->name : v->conf.location->name,
			       to->tls ? v->conf.location->name : to->name);
	return 0;
}

static int mig_take(struct model *m, const char *tname, const char *name,
		    const char *cloud, const struct mig_opts *o,
		    struct vm **out, enum obj_state *prev, char *err)
{
	const char *mode = o->mode;
	struct tenant *t = tenant_find_visible(m, tname);
	struct vm *v = t ? vm_find_visible(t, name) : NULL;
	struct cloud *to = model_cloud(m, cloud);
	int r;

	if (!v)
		return err_set(err, ENOENT, "no VM %s in tenant %s", name,
			       tname);
	if (!to)
		return err_set(err, ENOENT, "no cloud %s", cloud);
	if (repl_wait_idle(m, v, err))   /* a cycle ends first */
		return -EBUSY;
	r = mig_allowed(v, to, mode, err);
	if (r < 0)
		return r;
	if (budget_check(v, o, err))
		return -EINVAL;
	if (r == 1)
		return 1;
	*prev = v->state;
	v->state = OBJ_CHANGING;
	memset(&v->mig, 0, sizeof v->mig);
	v->mig.phase = MIG_CHECK;
	v->mig.from = v->conf.location;
	v->mig.to = to;
	v->mig.was_running = v->power == VIRT_POWER_RUNNING;
	v->mig.live = v->mig.was_running && strcmp(mode, "cold") != 0 &&
		      !v->repl.cloud;   /* a cutover is cold */
	v->mig.tls = v->mig.live && to->tls;
	v->mig.started = time(NULL);
	v->mig.downtime_ms = v->mig.was_running ? -1 : 0;
	v->mig.budget_ms = o->downtime_ms;
	*out = v;
	return 0;
}

int vm_migrate(struct model *m, const char *tname, const char *name,
	       const char *cloud, const struct mig_opts *o, char *err)
{
	static const struct mig_opts none = { "", 0, 0 };
	enum obj_state prev = OBJ_READY;
	int64_t t0 = clock_ms();
	struct migctx *x;
	struct vm *v = NULL;
	int r;

	x = calloc(1, sizeof *x);
	if (!x)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&m->lock);
	r = mig_take(m, tname, name, cloud, o ? o : &none, &v, &prev, err);
	if (r == 0) {
		v->mig.t0_ms = t0;
		ctx_init(x, m, v);
		x->caller = true;
		if (o && o->share > 1 && m->bandwidth_mib)
			x->bw_mib = m->bandwidth_mib / o->share ?
				    m->bandwidth_mib / o->share : 1;
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		free(x);
		return r > 0 ? 0 : r;
	}
	model_note(m, tname);
	log_info("VM %s/%s: %s migration from %s to %s%s, cap %llu MiB/s",
		 tname, name, x->live ? "live" : "cold", x->from->name,
		 x->to->name, !x->live ? " (disk over SSH)" : x->tls ?
		 " over TLS" : " in clear (no tls in the clouds file)",
		 (unsigned long long)x->bw_mib);
	r = txn_ahead(&x->tx, x->err);
	if (r) {
		pthread_mutex_lock(&m->lock);
		v->mig.phase = MIG_NONE;
		v->state = prev;
		pthread_mutex_unlock(&m->lock);
		txn_end(&x->tx);   /* the file never took the migration */
		err_set(err, -r, "%s", x->err);
		free(x);
		return r;
	}
	mig_run(x, MIG_CHECK, MIG_EV_GO);
	ctx_end(x, prev, t0);
	r = x->r;
	if (r)
		err_set(err, -r, "migration to %s failed, rolled back: %s",
			cloud, x->err);
	else
		log_info("VM %s/%s now on %s (%lld ms)", tname, name, cloud,
			 (long long)v->mig.total_ms);
	free(x);
	return r;
}

void mig_recover(struct model *m, struct vm *v)
{
	struct migctx *x = calloc(1, sizeof *x);
	enum mig_phase phase;
	enum obj_state prev;

	if (!x)
		return;
	pthread_mutex_lock(&m->lock);
	phase = v->mig.phase;
	prev = v->state;
	v->state = OBJ_CHANGING;
	v->mig.t0_ms = clock_ms();
	ctx_init(x, m, v);
	pthread_mutex_unlock(&m->lock);
	log_info("VM %s/%s: its migration to %s was cut off in phase %s",
		 x->tenant, x->name, x->to->name, mig_phase_name(phase));
	mig_run(x, phase, MIG_EV_RECOVER);
	if (x->r == 0 && v->mig.phase == MIG_FAILED)
		x->r = fail(x, EINTR, "maasfs stopped during the migration; "
			    "rolled back at the next mount");
	ctx_end(x, prev, v->mig.t0_ms);
	log_info("VM %s/%s: the cut-off migration %s", x->tenant, x->name,
		 v->mig.phase == MIG_DONE ? "was finished" : "was rolled back");
	free(x);
}

static void show_bytes(struct strbuf *out, const char *key, uint64_t n)
{
	if (n >= 10ull << 20)
		sb_printf(out, "%s: %llu (%.1f MiB)\n", key,
			  (unsigned long long)n, (double)n / (1 << 20));
	else
		sb_printf(out, "%s: %llu\n", key, (unsigned long long)n);
}

int mig_show(const struct vm *v, struct strbuf *out)
{
	const struct mig *g = &v->mig;

	if (g->phase == MIG_NONE)
		return sb_puts(out, "none\n");
	if (mig_running(g->phase)) {
		sb_printf(out, "phase: %s\n", mig_phase_name(g->phase));
	} else if (g->error) {
		sb_printf(out, "result: failed %s\n", errno_name(g->error));
		sb_printf(out, "error: %s\n", g->msg);
	} else {
		sb_puts(out, "result: ok\n");
		if (g->msg[0])
			sb_printf(out, "note: %s\n", g->msg);
	}
	sb_printf(out, "mode: %s\nfrom: %s\nto: %s\ntransport: %s\n",
		  g->live ? "live" : "cold", g->from->name, g->to->name,
		  !g->live ? "ssh" : g->tls ? "tls" : "tcp (in clear)");
	if (g->budget_ms)
		sb_printf(out, "budget: %u ms\n", g->budget_ms);
	if (mig_running(g->phase)) {
		int64_t el = clock_ms() - g->t0_ms;

		sb_printf(out, "progress: %llu/%llu bytes",
			  (unsigned long long)g->done,
			  (unsigned long long)g->total);
		if (g->total)
			sb_printf(out, " (%llu%%)",
				  (unsigned long long)(g->done * 100 /
						       g->total));
		sb_printf(out, "\nrate: %.1f MiB/s\nelapsed: %lld.%03lld s\n",
			  (double)g->rate / (1 << 20), (long long)el / 1000,
			  (long long)el % 1000);
		return 0;
	}
	show_bytes(out, "bytes", g->done);
	sb_printf(out, "time: %lld.%03lld s\n", (long long)g->total_ms / 1000,
		  (long long)g->total_ms % 1000);
	if (g->downtime_ms >= 0)
		sb_printf(out, "downtime: %lld ms\n", (long long)g->downtime_ms);
	else
		sb_puts(out, "downtime: unknown\n");
	if (g->sum[0])
		sb_printf(out, "checksum: %s\n", g->sum);
	return 0;
}

/* A VM that has run migrates; one that never did is simply defined on
 * cloud instead (its disk is made at its first start, wherever that is). */
int vm_relocate(struct model *m, const char *tname, const char *name,
		const char *cloud, const struct mig_opts *o, char *err)
{
	struct vm *v;
	bool moves = false;
	int r;

	r = name_check(cloud, "cloud", err);
	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	v = tenant_find_visible(m, tname) ?
	    vm_find_visible(tenant_find_visible(m, tname), name) : NULL;
	if (!v)
		r = err_set(err, ENOENT, "no VM %s in tenant %s", name, tname);
	else if (v->state != OBJ_READY && v->state != OBJ_ERROR)
		r = err_set(err, EBUSY, "VM %s is %s", name,
			    obj_state_name(v->state));
	else
		moves = v->disk_made || v->power != VIRT_POWER_STOPPED;
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	if (moves)
		return vm_migrate(m, tname, name, cloud, o, err);
	if (o && o->downtime_ms)
		return err_set(err, EINVAL, "downtime= is the pause of a live "
			       "migration, and VM %s has never run (it is only "
			       "placed)", name);
	return vm_place(m, tname, name, cloud, err);
}
