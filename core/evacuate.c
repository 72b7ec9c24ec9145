/* A cloud's evacuation (Nova's host-evacuate-live, in maasfs's terms):
 * `echo drain > clouds/<c>/state` marks c draining (kept in state.yaml:
 * no new VM or subnet goes there, nor a VM's or subnet's move), then
 *   1. places each VM of c by one rule: the clouds that are up, active
 *      and not c, with room for its disk (free bytes in their disk pools,
 *      less what this evacuation already sends there, less the margin a
 *      migration keeps); of those the one with the fewest VMs (those this
 *      evacuation sends counted), the clouds file's order breaking ties;
 *   2. moves the gateway and DHCP of every subnet whose home is c to the
 *      cloud that will hold most of its VMs (then the fewest VMs, then the
 *      file's order) among those that can be its home (a vtep, and a
 *      provider network if its tenant has external on);
 *   3. moves the VMs, m->parallel at a time under the bandwidth cap (live
 *      when they run, cold when TLS differs between the clouds or they are
 *      stopped); a VM that cannot move is named with its reason, and the
 *      rest still move.
 * Each step is all or nothing (submig.c, mig.c); the status file shows
 * progress, then what did not move and why. Writing drain again retries
 * what is left. Ctrl-C stops it at the next safe step (moves under way
 * roll back); the cloud stays draining. */
#include "evacuate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "external.h"
#include "mig.h"
#include "movers.h"
#include "submig.h"
#include "txn.h"

/* What the evacuation knows of each VM beyond its move. */
struct evac_vm {
	char uuid[VIRT_UUID_LEN + 1];
	char subnet[NAME_MAXLEN + 1];
	bool disk, running;
	uint64_t need;                 /* bytes on disk */
};

struct evac_home {
	char tenant[NAME_MAXLEN + 1];
	char subnet[NAME_MAXLEN + 1];
	const struct cloud *to;
	int r;
	char err[ERRLEN];
};

struct evac {
	struct model *m;
	struct cloud *c;
	struct move_item *items;       /* the VMs */
	struct evac_vm *vms;
	size_t n;
	struct evac_home *homes;
	size_t nhomes;
	bool cand[CLOUDS_MAX];         /* up, active, not c */
	uint64_t room[CLOUDS_MAX];
	size_t load[CLOUDS_MAX];       /* VMs there, and those sent there */
	bool was;                      /* draining before */
	int64_t t0;
};

#define EVAC_MAX 4096    /* VMs, and subnet homes, of one cloud */

static void evac_line(struct evac *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void evac_line(struct evac *e, const char *fmt, ...)
{
	char line[sizeof e->c->evac];   /* movers call this at once */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&e->m->lock);
	memcpy(e->c->evac, line, sizeof line);
	pthread_mutex_unlock(&e->m->lock);
	model_note(e->m, NULL);
	log_info("cloud %s: %s", e->c->name, line);
}

void cloud_evac_show(const struct cloud *c, struct strbuf *out)
{
	if (c->draining)
		sb_puts(out, "state: drain\n");
	if (c->evac[0])
		sb_printf(out, "evacuation: %s\n", c->evac);
	if (c->evac_failed.len)
		sb_append(out, c->evac_failed.s, c->evac_failed.len);
}

/* Under the lock: VM v of cloud c into the lists. */
static void take_vm(struct evac *e, const struct tenant *t,
		    const struct vm *v)
{
	struct move_item *it = &e->items[e->n];
	struct evac_vm *x = &e->vms[e->n];

	snprintf(it->tenant, sizeof it->tenant, "%s", t->name);
	snprintf(it->vm, sizeof it->vm, "%s", v->name);
	snprintf(x->uuid, sizeof x->uuid, "%s", v->uuid);
	snprintf(x->subnet, sizeof x->subnet, "%s", v->conf.subnet);
	x->disk = v->disk_made;
	x->running = v->power == VIRT_POWER_RUNNING;
	e->n++;
}

/* Under the lock: what is on c (VMs, subnet homes), and each cloud's
 * load. */
static void take_objects(struct evac *e)
{
	struct model *m = e->m;
	const struct tenant *t;
	const struct subnet *s;
	const struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t) {
		if (t->state == OBJ_CREATING || t->state == OBJ_DELETING)
			continue;
		objset_each(&t->vms, j, v) {
			if (v->state == OBJ_CREATING || v->state == OBJ_DELETING)
				continue;
			e->load[cloud_index(m, v->conf.location)]++;
			if (v->conf.location == e->c && e->n < EVAC_MAX)
				take_vm(e, t, v);
		}
		objset_each(&t->subnets, j, s)
			if (s->home == e->c && s->state != OBJ_CREATING &&
			    s->state != OBJ_DELETING &&
			    e->nhomes < EVAC_MAX) {
				struct evac_home *h = &e->homes[e->nhomes++];

				snprintf(h->tenant, sizeof h->tenant, "%s",
					 t->name);
				snprintf(h->subnet, sizeof h->subnet, "%s",
					 s->name);
			}
	}
}

/* Marks c draining and takes what it holds: 0, or -errno. */
static int evac_take(struct evac *e, const char *cloud, char *err)
{
	struct model *m = e->m;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	e->c = model_cloud(m, cloud);
	if (!e->c)
		r = err_set(err, ENOENT, "no cloud %s", cloud);
	else if (e->c->evacuating)
		r = err_set(err, EBUSY, "cloud %s is being evacuated", cloud);
	if (r == 0) {
		e->was = e->c->draining;
		e->c->draining = true;
		e->c->evacuating = true;
		sb_reset(&e->c->evac_failed);
		take_objects(e);
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* Up: the host's check says so and the hypervisor answers. */
static bool cloud_up(struct cloud *c)
{
	struct strbuf sb = STRBUF_INIT;
	bool up;

	c->host->ops->status(c->host, &sb);
	up = !strncmp(sb_str(&sb), "up", 2);
	sb_reset(&sb);
	if (up && c->virt->ops->status && c->virt->ops->status(c->virt, &sb))
		up = false;
	sb_free(&sb);
	return up;
}

/* The clouds a VM may go to, and their room; the bytes of each VM's
 * disk. Without the lock (the drivers answer in bounded time). */
static void evac_survey(struct evac *e)
{
	struct model *m = e->m;
	struct virtdrv *src = e->c->virt;
	uint64_t cap;
	size_t k, i;
	bool draining;

	for (k = 0; k < m->nclouds; k++) {
		struct cloud *c = m->clouds[k];

		pthread_mutex_lock(&m->lock);
		draining = c->draining;
		pthread_mutex_unlock(&m->lock);
		e->cand[k] = c != e->c && !draining && cloud_up(c) &&
			     c->virt->ops->disk_room(c->virt, &e->room[k],
						     NULL) == 0;
	}
	for (i = 0; i < e->n; i++)
		if (e->vms[i].disk &&
		    src->ops->disk_info(src, e->vms[i].uuid, &cap,
					&e->vms[i].need, NULL))
			e->vms[i].need = 0;   /* its move says what is wrong */
}

/* Where VM i goes (room, then spread): 0, or -errno with why. */
static int place_vm(struct evac *e, size_t i, const struct cloud **to,
		    char *why)
{
	struct model *m = e->m;
	const struct evac_vm *x = &e->vms[i];
	uint64_t need = x->need + MIG_ROOM_MARGIN;
	size_t k, best = CLOUDS_MAX;
	bool any = false;

	for (k = 0; k < m->nclouds; k++) {
		if (!e->cand[k] || (x->subnet[0] && !m->clouds[k]->vtep_ip))
			continue;
		any = true;
		if (e->room[k] < need)
			continue;
		if (best == CLOUDS_MAX || e->load[k] < e->load[best])
			best = k;
	}
	if (best == CLOUDS_MAX && any)
		return err_set(why, ENOSPC, "no other active cloud has room "
			       "for its disk (%llu MiB with the margin)",
			       (unsigned long long)(need >> 20));
	if (best == CLOUDS_MAX)
		return err_set(why, EHOSTUNREACH, "no other cloud is up, "
			       "active and able to hold it");
	e->room[best] -= x->need;
	e->load[best]++;
	*to = m->clouds[best];
	return 0;
}

/* Every VM placed; one that cannot be is a failure already, named. */
static void place_vms(struct evac *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		struct move_item *it = &e->items[i];

		it->r = place_vm(e, i, &it->to, it->err);
		if (it->r) {
			it->tried = true;
			continue;
		}
		/* live where it can be: TLS on both ends or on neither */
		if (e->vms[i].running && it->to->tls != e->c->tls)
			it->mode = "cold";
	}
}

/* Under the lock: how many of home h's VMs each cloud will hold. */
static void home_counts(struct evac *e, const struct evac_home *h,
			size_t *count)
{
	struct model *m = e->m;
	const struct tenant *t = tenant_find(m, h->tenant);
	const struct vm *v;
	size_t i;

	if (!t)
		return;
	objset_each(&t->vms, i, v)
		if (v->conf.location != e->c && !strcmp(v->conf.subnet,
							 h->subnet))
			count[cloud_index(m, v->conf.location)]++;
	for (i = 0; i < e->n; i++)
		if (e->items[i].to && !strcmp(e->items[i].tenant, h->tenant) &&
		    !strcmp(e->vms[i].subnet, h->subnet))
			count[cloud_index(m, e->items[i].to)]++;
}

/* Under the lock: where home h goes (most of its VMs, then the fewest
 * VMs, then the file's order), or a failure with why. */
static void place_home(struct evac *e, struct evac_home *h)
{
	struct model *m = e->m;
	size_t count[CLOUDS_MAX] = { 0 }, k, best = CLOUDS_MAX;

	home_counts(e, h, count);
	for (k = 0; k < m->nclouds; k++) {
		if (!e->cand[k] || !m->clouds[k]->vtep_ip || !e->c->vtep_ip ||
		    external_check_home(m, h->tenant, m->clouds[k], NULL))
			continue;
		if (best == CLOUDS_MAX || count[k] > count[best] ||
		    (count[k] == count[best] && e->load[k] < e->load[best]))
			best = k;
	}
	if (best < CLOUDS_MAX)
		h->to = m->clouds[best];
	else
		h->r = err_set(h->err, EHOSTUNREACH, "no other cloud is up, "
			       "active and able to be its home (a vtep, and a "
			       "provider network if its tenant has external "
			       "on)");
}

/* The VMs that have a place first: n of them go to the movers. */
static size_t placed_first(struct evac *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->n; i++)
		if (e->items[i].to) {
			struct move_item t = e->items[n];

			e->items[n++] = e->items[i];
			e->items[i] = t;
		}
	return n;
}

/* The subnets' gateways and DHCP servers, one after the other; Ctrl-C
 * stops before the next. */
static int move_homes(struct evac *e)
{
	size_t i;

	for (i = 0; i < e->nhomes; i++) {
		struct evac_home *h = &e->homes[i];

		if (model_interrupted(e->m))
			return -EINTR;
		if (!h->to)
			continue;
		evac_line(e, "moving the gateway and DHCP of %s/%s to %s "
			  "(%zu of %zu)", h->tenant, h->subnet, h->to->name,
			  i + 1, e->nhomes);
		h->r = subnet_move_home(e->m, h->tenant, h->subnet,
					h->to->name, h->err);
	}
	return 0;
}

struct vms_run {
	struct evac *e;
	size_t n;
	unsigned share;
};

static void vms_progress(void *ctx, size_t done, size_t failed)
{
	struct vms_run *v = ctx;

	evac_line(v->e, "moving %zu VM(s), %u at a time: %zu moved, %zu did "
		  "not", v->n, v->share, done, failed);
}

/* The VMs placed, m->parallel at a time; one that fails does not stop
 * the others. */
static int move_vms(struct evac *e, char *err)
{
	struct vms_run v = { .e = e, .n = placed_first(e) };
	struct movers p = { .items = e->items, .n = v.n,
			    .parallel = e->m->parallel, .keep_going = true,
			    .ended = vms_progress, .ctx = &v };

	v.share = v.n < p.parallel ? (unsigned)v.n : p.parallel;
	if (v.n)
		vms_progress(&v, 0, 0);
	return movers_run(e->m, &p, err);
}

#define EVAC_LINES_MAX 50   /* failures named in the status */

/* A failure into the log, and into the status's lines (out). */
static void failed_line(struct evac *e, struct strbuf *out, size_t *shown,
			const char *what, int r, const char *why)
{
	log_warnx("cloud %s: not moved: %s: %s: %s", e->c->name, what,
		  errno_name(-r), why);
	if ((*shown)++ < EVAC_LINES_MAX)
		sb_printf(out, "not moved: %s: %s: %.200s\n", what,
			  errno_name(-r), why);
}

/* The failures into the status (and the log); the first into err and
 * *code; how many. */
static size_t evac_failures(struct evac *e, size_t *vms_moved, int *code,
			    char *err)
{
	char what[2 * NAME_MAXLEN + 32];
	struct strbuf out = STRBUF_INIT;
	size_t i, shown = 0;

	*vms_moved = 0;
	for (i = 0; i < e->nhomes; i++) {
		if (!e->homes[i].r)
			continue;
		snprintf(what, sizeof what, "gateway and DHCP of %s/%s",
			 e->homes[i].tenant, e->homes[i].subnet);
		if (!shown)
			*code = err_set(err, -e->homes[i].r, "%s: %.200s",
					what, e->homes[i].err);
		failed_line(e, &out, &shown, what, e->homes[i].r,
			    e->homes[i].err);
	}
	for (i = 0; i < e->n; i++) {
		const struct move_item *it = &e->items[i];

		*vms_moved += it->tried && !it->r;
		if (!it->tried || !it->r)
			continue;
		snprintf(what, sizeof what, "%s/%s", it->tenant, it->vm);
		if (!shown)
			*code = err_set(err, -it->r, "%s: %.200s", what,
					it->err);
		failed_line(e, &out, &shown, what, it->r, it->err);
	}
	if (shown > EVAC_LINES_MAX)
		sb_printf(&out, "not moved: %zu more (the log names them)\n",
			  shown - EVAC_LINES_MAX);
	pthread_mutex_lock(&e->m->lock);
	sb_free(&e->c->evac_failed);
	e->c->evac_failed = out;   /* the status's lines, whole at once */
	pthread_mutex_unlock(&e->m->lock);
	return shown;
}

/* The end: the summary line, and the write's outcome. r is -EINTR when
 * the caller stopped it. */
static int evac_report(struct evac *e, int r, char *err)
{
	char first[ERRLEN] = "";
	int code = 0;
	size_t vms, homes = 0, i;
	size_t failed = evac_failures(e, &vms, &code, first);
	long long ms = (long long)(clock_ms() - e->t0);

	for (i = 0; i < e->nhomes; i++)
		homes += e->homes[i].to && !e->homes[i].r;
	if (r == -EINTR) {
		evac_line(e, "stopped (EINTR) after %lld ms: %zu of %zu subnet "
			  "home(s) and %zu of %zu VM(s) moved", ms, homes,
			  e->nhomes, vms, e->n);
		return err_set(err, EINTR, "evacuation of %s cancelled by the "
			       "caller: %zu of %zu VM(s) moved", e->c->name,
			       vms, e->n);
	}
	if (failed) {
		evac_line(e, "stopped (%s) after %lld ms: %zu of %zu subnet "
			  "home(s) and %zu of %zu VM(s) moved; the others "
			  "below", errno_name(-code), ms, homes,
			  e->nhomes, vms, e->n);
		return err_set(err, -code, "cloud %s: %zu "
			       "thing(s) did not move, first %s (the status "
			       "names them all)", e->c->name, failed, first);
	}
	evac_line(e, "drained: %zu subnet home(s) and %zu VM(s) moved off in "
		  "%lld ms", homes, vms, ms);
	return 0;
}

/* Draining kept on disk before anything moves. */
static int evac_mark(struct evac *e, char *err)
{
	int r = txn_once(e->m, NULL, err);

	if (r) {
		pthread_mutex_lock(&e->m->lock);
		e->c->draining = e->was;
		e->c->evacuating = false;
		pthread_mutex_unlock(&e->m->lock);
	}
	return r;
}

static int evac_alloc(struct evac *e)
{
	e->items = calloc(EVAC_MAX, sizeof *e->items);
	e->vms = calloc(EVAC_MAX, sizeof *e->vms);
	e->homes = calloc(EVAC_MAX, sizeof *e->homes);
	return e->items && e->vms && e->homes ? 0 : -ENOMEM;
}

static void evac_free(struct evac *e)
{
	free(e->items);
	free(e->vms);
	free(e->homes);
}

static int cloud_drain(struct model *m, const char *cloud, char *err)
{
	struct evac e = { .m = m, .t0 = clock_ms() };
	size_t i;
	int r;

	if (evac_alloc(&e)) {
		evac_free(&e);
		return err_set(err, ENOMEM, "out of memory");
	}
	r = evac_take(&e, cloud, err);
	if (r == 0)
		r = evac_mark(&e, err);
	if (r) {
		evac_free(&e);
		return r;
	}
	evac_line(&e, "placing %zu VM(s) and %zu subnet home(s)", e.n,
		  e.nhomes);
	evac_survey(&e);
	place_vms(&e);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < e.nhomes; i++)
		place_home(&e, &e.homes[i]);
	pthread_mutex_unlock(&m->lock);
	r = move_homes(&e);
	if (r == 0)
		r = move_vms(&e, err);
	r = evac_report(&e, r == -EINTR ? r : 0, err);
	pthread_mutex_lock(&m->lock);
	e.c->evacuating = false;
	pthread_mutex_unlock(&m->lock);
	model_note(m, NULL);
	evac_free(&e);
	return r;
}

static int cloud_activate(struct model *m, const char *cloud, char *err)
{
	struct cloud *c;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	c = model_cloud(m, cloud);
	if (!c)
		r = err_set(err, ENOENT, "no cloud %s", cloud);
	else if (c->evacuating)
		r = err_set(err, EBUSY, "cloud %s is being evacuated (Ctrl-C "
			    "its writer first)", cloud);
	else if (!c->draining)
		r = 1;
	if (r == 0) {
		c->draining = false;
		c->evac[0] = 0;
		sb_reset(&c->evac_failed);
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r > 0 ? 0 : r;
	log_info("cloud %s: active", cloud);
	model_note(m, NULL);
	r = txn_once(m, NULL, err);
	if (r) {
		pthread_mutex_lock(&m->lock);
		c->draining = true;
		pthread_mutex_unlock(&m->lock);
	}
	return r;
}

int cloud_set_state(struct model *m, const char *cloud, const char *value,
		    char *err)
{
	if (!strcmp(value, "drain"))
		return cloud_drain(m, cloud, err);
	if (!strcmp(value, "active"))
		return cloud_activate(m, cloud, err);
	return err_set(err, EINVAL, "a cloud's state is 'drain' or 'active'");
}
