/* A tenant's way out (external.h): its uplinks, one per cloud that is the
 * home of one of its subnets, each with an address from that cloud's
 * provider pool and SNAT to it. */
#include "external.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "cidr.h"
#include "names.h"
#include "txn.h"

/* The clouds that are home to a subnet of t (a mask by cloud index). */
static uint64_t home_clouds(const struct model *m, const struct tenant *t)
{
	const struct subnet *s;
	uint64_t mask = 0;
	size_t i;

	objset_each(&t->subnets, i, s)
		if (s->state != OBJ_CREATING && s->home)
			mask |= 1ull << cloud_index(m, s->home);
	return mask;
}

static bool same_network(const struct cloud *a, const struct cloud *b)
{
	return a->ext.on && b->ext.on && a->ext.cidr.net == b->ext.cidr.net &&
	       a->ext.cidr.prefix == b->ext.cidr.prefix;
}

/* Is addr taken on c's provider network (by any tenant's uplink on any
 * cloud of that network, by a floating address, or by want[], this
 * change's other picks)? Networks that overlap are one (config.c), so a
 * floating address equal to addr is on c's. */
static bool addr_taken(const struct model *m, const struct cloud *c,
		       uint32_t addr, const uint32_t *want)
{
	const struct tenant *t;
	size_t i, k;

	objset_each(&m->tenants, i, t) {
		for (k = 0; k < m->nclouds; k++)
			if (t->uplink[k] == addr &&
			    same_network(m->clouds[k], c))
				return true;
		for (k = 0; k < t->nfloats; k++)
			if (t->floats[k].addr == addr)
				return true;
	}
	for (k = 0; k < m->nclouds; k++)
		if (want[k] == addr && same_network(m->clouds[k], c))
			return true;
	return false;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The first free address of c's pool, 0 if none (or out of memory): the
 * addresses taken on its network, sorted, walked once (a pick costs the
 * same with 1,000 tenants as with 10). */
static uint32_t pool_pick(const struct model *m, const struct cloud *c,
			  const uint32_t *want)
{
	const struct tenant *t;
	uint32_t *taken, a = c->ext.first;
	size_t i, k, n = 0, cap = m->nclouds;

	objset_each(&m->tenants, i, t)
		cap += m->nclouds + t->nfloats;
	taken = malloc((cap + 1) * sizeof *taken);
	if (!taken)
		return 0;
	objset_each(&m->tenants, i, t) {
		for (k = 0; k < m->nclouds; k++)
			if (t->uplink[k] && same_network(m->clouds[k], c))
				taken[n++] = t->uplink[k];
		for (k = 0; k < t->nfloats; k++)
			taken[n++] = t->floats[k].addr;
	}
	for (k = 0; k < m->nclouds; k++)
		if (want[k] && same_network(m->clouds[k], c))
			taken[n++] = want[k];
	qsort(taken, n, sizeof *taken, cmp_u32);
	for (i = 0; i < n && a != 0 && a <= c->ext.last; i++)
		if (taken[i] == a)
			a++;
		else if (taken[i] > a)
			break;
	free(taken);
	return a != 0 && a <= c->ext.last ? a : 0;
}

/* The addresses t's uplinks should have, into want[]: kept where it has
 * one on a home cloud, picked from the pool where not; 0 elsewhere. */
static int plan(const struct model *m, const struct tenant *t,
		uint32_t want[CLOUDS_MAX], char *err)
{
	uint64_t homes = home_clouds(m, t);
	size_t k;

	memset(want, 0, CLOUDS_MAX * sizeof *want);
	for (k = 0; k < m->nclouds; k++) {
		const struct cloud *c = m->clouds[k];

		if (!(homes & (1ull << k)))
			continue;
		if (!c->ext.on)
			return err_set(err, ENOENT, "cloud %s, home of a subnet "
				       "of %s, has no external network (the "
				       "clouds file's external:)", c->name,
				       t->name);
		want[k] = t->uplink[k] ? t->uplink[k] : pool_pick(m, c, want);
		if (!want[k])
			return err_set(err, ENOSPC, "the pool of cloud %s's "
				       "external network is used up",
				       c->name);
	}
	return 0;
}

/* The cloud a floating address of t lives on (its VM's subnet's home) and
 * the VM's fixed address; NULL if the VM has none. */
static const struct cloud *float_home(const struct tenant *t,
				      const struct floating *f,
				      uint32_t *fixed)
{
	const struct vm *v = vm_find_visible(t, f->vm);
	const struct subnet *s;

	if (!v || !v->conf.subnet[0] || !v->conf.ip)
		return NULL;
	s = subnet_find_visible(t, v->conf.subnet);
	if (!s || !s->home)
		return NULL;
	*fixed = v->conf.ip;
	return s->home;
}

/* Floating addresses fl[n] grouped by the cloud whose uplink carries
 * them: those of cloud k are buf[off[k]] to buf[off[k] + n[k] - 1]. */
struct routes {
	struct net_float *buf;
	size_t off[CLOUDS_MAX], n[CLOUDS_MAX];
};

static int float_check(const struct model *m, const struct tenant *t,
		       const struct floating *f, const uint32_t *want,
		       size_t *k, uint32_t *fixed, char *err)
{
	const struct cloud *c = float_home(t, f, fixed);
	char a[IP_STRLEN];

	ip_format(f->addr, a);
	if (!c)
		return err_set(err, ENOENT, "floating address %s: VM %s has "
			       "no address in a subnet", a, f->vm);
	*k = cloud_index(m, c);
	if (!want[*k])
		return err_set(err, ENOENT, "floating address %s: tenant %s "
			       "has no uplink on cloud %s (external off)", a,
			       t->name, c->name);
	if (!cidr_contains(&c->ext.cidr, f->addr))
		return err_set(err, EINVAL, "floating address %s is not on "
			       "the external network of cloud %s, home of VM "
			       "%s's subnet", a, c->name, f->vm);
	return 0;
}

static int plan_routes(const struct model *m, const struct tenant *t,
		       const struct floating *fl, size_t n,
		       const uint32_t *want, struct routes *r, char *err)
{
	size_t i, k, at[CLOUDS_MAX], off = 0;
	uint32_t fixed;
	int e;

	memset(r, 0, sizeof *r);
	if (n == 0)
		return 0;
	r->buf = calloc(n, sizeof *r->buf);
	if (!r->buf)
		return err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((e = float_check(m, t, &fl[i], want, &k, &fixed, err))) {
			free(r->buf);
			r->buf = NULL;
			return e;
		}
		r->n[k]++;
	}
	for (k = 0; k < CLOUDS_MAX; k++) {
		at[k] = r->off[k] = off;
		off += r->n[k];
	}
	for (i = 0; i < n; i++) {
		float_check(m, t, &fl[i], want, &k, &fixed, NULL);
		r->buf[at[k]].addr = fl[i].addr;
		r->buf[at[k]++].fixed = fixed;
	}
	return 0;
}

static void uplink_of(const struct tenant *t, const struct model *m,
		      size_t k, const uint32_t *want, const struct routes *r,
		      struct net_uplink *u)
{
	const struct cloud *c = m->clouds[k];

	u->tenant = t->name;
	u->id = t->id;
	u->addr = want[k];
	u->gateway = c->ext.gateway;
	u->prefix = c->ext.cidr.prefix;
	u->bridge = c->ext.bridge;
	u->floats = r->buf ? r->buf + r->off[k] : NULL;
	u->nfloats = r->n[k];
}

/* Brings the clouds to want[] from have[]: uplinks made or brought up to
 * date where want has an address, removed where only have has one. The
 * first failure stops it (the caller undoes). */
static int apply(struct model *m, struct tenant *t, const uint32_t *have,
		 const uint32_t *want, const struct routes *rt, char *err)
{
	struct net_uplink u;
	char why[ERRLEN] = "";
	size_t k;
	int r = 0;

	for (k = 0; r == 0 && !m->plan_copy && k < m->nclouds; k++) {
		struct hostdrv *d = m->clouds[k]->host;

		if (want[k]) {
			uplink_of(t, m, k, want, rt, &u);
			r = d->ops->uplink_ensure(d, &u, why);
		} else if (have[k]) {
			r = d->ops->uplink_remove(d, t->name, t->id, why);
		}
		if (r)
			err_set(err, -r, "cloud %s: %s", m->clouds[k]->name,
				why);
	}
	return r;
}

/* One change of a tenant's way out: external on or off, its floating
 * addresses fl[n] (owned: they become the tenant's, or are freed). */
struct change {
	struct tenant *t;
	bool on, was;
	struct floating *fl;
	size_t n;
	uint32_t have[CLOUDS_MAX], want[CLOUDS_MAX];
	struct routes now, before;
	enum obj_state prev;
};

/* t takes on, uplink[] and the list x holds; x keeps the other list
 * (freed at the end, or taken back). m->lock held. */
static void change_take(struct change *x, bool on, const uint32_t *uplink)
{
	struct floating *fl = x->t->floats;
	size_t n = x->t->nfloats;

	x->t->external = on;
	memcpy(x->t->uplink, uplink, sizeof x->t->uplink);
	x->t->floats = x->fl;
	x->t->nfloats = x->n;
	x->fl = fl;
	x->n = n;
	x->t->mtime = time(NULL);
}

/* Under the lock, t free for a change: plans it, and t takes it at once
 * (its pool addresses are then taken for any other change's pick, and the
 * state file can be written while the kernel works); t is held. */
static int change_begin(struct model *m, struct change *x, char *err)
{
	struct tenant *t = x->t;
	int r = 0;

	memcpy(x->have, t->uplink, sizeof x->have);
	memset(x->want, 0, sizeof x->want);
	memset(&x->now, 0, sizeof x->now);
	memset(&x->before, 0, sizeof x->before);
	x->was = t->external;
	if (!x->on && x->n)
		return err_set(err, EBUSY, "tenant %s has floating addresses "
			       "(rmdir floating/ADDRESS first)", t->name);
	if (x->on)
		r = plan(m, t, x->want, err);
	if (r == 0)
		r = plan_routes(m, t, x->fl, x->n, x->want, &x->now, err);
	if (r)
		return r;
	if (plan_routes(m, t, t->floats, t->nfloats, x->have, &x->before,
			NULL))
		memset(&x->before, 0, sizeof x->before);   /* undo: none */
	x->prev = t->state;
	t->state = OBJ_CHANGING;
	change_take(x, x->on, x->want);
	return 0;
}

/* Without the lock: the kernel work and the state file's write go on
 * side by side (DESIGN §7: killed in between, the next mount makes what
 * the file says); a failure of either undoes both. */
static int change_finish(struct model *m, struct change *x, char *err)
{
	struct tenant *t = x->t;
	struct txn tx;
	int r, saved;

	txn_begin(&tx, m, t);
	txn_ahead_start(&tx);
	r = apply(m, t, x->have, x->want, &x->now, err);
	saved = txn_ahead_wait(&tx, r ? NULL : err);
	if (r || saved)
		apply(m, t, x->want, x->have, &x->before, NULL);
	pthread_mutex_lock(&m->lock);
	if (r || saved)
		change_take(x, x->was, x->have);
	t->state = x->prev;
	pthread_mutex_unlock(&m->lock);
	if (r || saved)
		txn_once(m, t, NULL);   /* the file as it was */
	else
		model_note(m, t->name);
	free(x->now.buf);
	free(x->before.buf);
	free(x->fl);
	return r ? r : saved;
}

/* The tenant's floating addresses, copied (the start of a change). */
static int floats_copy(const struct tenant *t, size_t extra,
		       struct floating **out, char *err)
{
	*out = calloc(t->nfloats + extra + 1, sizeof **out);
	if (!*out)
		return err_set(err, ENOMEM, "out of memory");
	memcpy(*out, t->floats, t->nfloats * sizeof **out);
	return 0;
}

int tenant_set_external(struct model *m, const char *name, bool on,
			char *err)
{
	struct change x = { .on = on };
	int r;

	pthread_mutex_lock(&m->lock);
	r = tenant_free_for_change(m, name, &x.t, err);
	if (r == 0 && (r = floats_copy(x.t, 0, &x.fl, err)) == 0) {
		x.n = x.t->nfloats;
		r = change_begin(m, &x, err);
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		free(x.fl);
		return r;
	}
	r = change_finish(m, &x, err);
	if (r == 0)
		log_info("tenant %s: external %s", name, on ? "on" : "off");
	return r;
}

int external_reconcile(struct model *m, struct tenant *t, char *err)
{
	uint32_t have[CLOUDS_MAX];
	uint64_t homes = home_clouds(m, t);
	struct routes rt;
	size_t k;
	int r;

	if (!t->external)
		return 0;
	/* a cloud no longer home to a subnet of t (the subnet removed or
	 * moved) keeps no uplink: it is removed there */
	memcpy(have, t->uplink, sizeof have);
	for (k = 0; k < m->nclouds; k++)
		if (!(homes & (1ull << k)))
			t->uplink[k] = 0;
	r = plan_routes(m, t, t->floats, t->nfloats, t->uplink, &rt, err);
	if (r == 0)
		r = apply(m, t, have, t->uplink, &rt, err);
	free(rt.buf);
	return r;
}

void external_drop(struct model *m, struct tenant *t)
{
	char err[ERRLEN];
	size_t k;

	for (k = 0; k < m->nclouds; k++) {
		struct hostdrv *d = m->clouds[k]->host;

		if (t->uplink[k] &&
		    d->ops->uplink_remove(d, t->name, t->id, err))
			log_warnx("tenant %s: its uplink on %s stays: %s",
				  t->name, m->clouds[k]->name, err);
	}
}

/* ---- floating addresses ---- */

/* Edits fl[*n] (a copy of t's list, room for one more) for a change;
 * called under the lock. */
typedef int (*float_edit)(struct model *m, struct tenant *t,
			  struct floating *fl, size_t *n, const void *arg,
			  char *err);

static int float_change(struct model *m, const char *name, float_edit edit,
			const void *arg, char *err)
{
	struct change x = { .on = true };
	int r;

	pthread_mutex_lock(&m->lock);
	r = tenant_free_for_change(m, name, &x.t, err);
	if (r == 0 && !x.t->external)
		r = err_set(err, ENOENT, "tenant %s has external off: a "
			    "floating address goes out by its uplink", name);
	if (r == 0 && (r = floats_copy(x.t, 1, &x.fl, err)) == 0) {
		x.n = x.t->nfloats;
		r = edit(m, x.t, x.fl, &x.n, arg, err);
	}
	if (r == 0)
		r = change_begin(m, &x, err);
	pthread_mutex_unlock(&m->lock);
	if (r) {
		free(x.fl);
		return r;
	}
	return change_finish(m, &x, err);
}

struct floating *floating_find(const struct tenant *t, uint32_t addr)
{
	size_t i;

	for (i = 0; i < t->nfloats; i++)
		if (t->floats[i].addr == addr)
			return &t->floats[i];
	return NULL;
}

const struct cloud *floating_cloud(const struct tenant *t,
				   const struct floating *f)
{
	uint32_t fixed;

	return float_home(t, f, &fixed);
}

/* EEXIST if VM vm has a floating address other than skip. */
static int vm_has_float(const struct floating *fl, size_t n, const char *vm,
			uint32_t skip, char *err)
{
	char a[IP_STRLEN];
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(fl[i].vm, vm) && fl[i].addr != skip) {
			ip_format(fl[i].addr, a);
			return err_set(err, EEXIST, "VM %s has floating "
				       "address %s already", vm, a);
		}
	return 0;
}

struct float_new {
	char vm[NAME_MAXLEN + 1];
	uint32_t addr;   /* 0: the pool's first free one */
};

/* The cloud whose pool the VM's floating address comes from. */
static int float_pool(const struct tenant *t, const char *vm,
		      const struct cloud **c, char *err)
{
	struct floating f = { 0 };
	uint32_t fixed;

	snprintf(f.vm, sizeof f.vm, "%s", vm);
	if (!vm_find_visible(t, vm))
		return err_set(err, ENOENT, "no VM %s in tenant %s", vm,
			       t->name);
	*c = float_home(t, &f, &fixed);
	if (!*c)
		return err_set(err, EINVAL, "VM %s has no address (it needs "
			       "a subnet)", vm);
	if (!(*c)->ext.on)
		return err_set(err, ENOENT, "cloud %s has no external network",
			       (*c)->name);
	return 0;
}

static int edit_new(struct model *m, struct tenant *t, struct floating *fl,
		    size_t *n, const void *arg, char *err)
{
	static const uint32_t none[CLOUDS_MAX];
	const struct float_new *w = arg;
	const struct cloud *c;
	char a[IP_STRLEN], r1[IP_STRLEN], r2[IP_STRLEN];
	uint32_t addr = w->addr;
	int r;

	if ((r = float_pool(t, w->vm, &c, err)) ||
	    (r = vm_has_float(fl, *n, w->vm, 0, err)))
		return r;
	if (*n >= FLOATING_MAX)
		return err_set(err, ENOSPC, "tenant %s has %d floating "
			       "addresses, the most it may", t->name,
			       FLOATING_MAX);
	ip_format(addr, a);
	ip_format(c->ext.first, r1);
	ip_format(c->ext.last, r2);
	if (addr && (addr < c->ext.first || addr > c->ext.last))
		return err_set(err, EINVAL, "%s is not in the pool %s-%s of "
			       "cloud %s's external network", a, r1, r2,
			       c->name);
	if (addr && addr_taken(m, c, addr, none))
		return err_set(err, EADDRINUSE, "%s is in use", a);
	if (!addr && !(addr = pool_pick(m, c, none)))
		return err_set(err, ENOSPC, "the pool of cloud %s's external "
			       "network is used up", c->name);
	fl[*n].addr = addr;
	snprintf(fl[*n].vm, sizeof fl[*n].vm, "%s", w->vm);
	(*n)++;
	return 0;
}

int floating_new(struct model *m, const char *name, const char *value,
		 char *err)
{
	struct float_new w = { .addr = 0 };
	char buf[256], *save = NULL, *vm, *addr, why[ERRLEN];

	if (strlen(value) >= sizeof buf)
		return err_set(err, EINVAL, "write VM [ADDRESS]");
	snprintf(buf, sizeof buf, "%s", value);
	vm = strtok_r(buf, " \t", &save);
	addr = vm ? strtok_r(NULL, " \t", &save) : NULL;
	if (!vm || (addr && strtok_r(NULL, " \t", &save)))
		return err_set(err, EINVAL, "write VM [ADDRESS]");
	if (name_check(vm, "VM", why))
		return err_set(err, EINVAL, "%s", why);
	if (addr && ip_parse(addr, &w.addr))
		return err_set(err, EINVAL, "'%.40s' is not an IPv4 address",
			       addr);
	snprintf(w.vm, sizeof w.vm, "%s", vm);
	return float_change(m, name, edit_new, &w, err);
}

struct float_set {
	uint32_t addr;
	const char *vm;   /* NULL: released */
};

static int edit_set(struct model *m, struct tenant *t, struct floating *fl,
		    size_t *n, const void *arg, char *err)
{
	const struct float_set *w = arg;
	const struct cloud *c;
	size_t i;
	int r;

	(void)m;
	for (i = 0; i < *n && fl[i].addr != w->addr; i++)
		;
	if (i == *n)
		return err_set(err, ENOENT, "no floating address here");
	if (!w->vm) {
		memmove(&fl[i], &fl[i + 1], (*n - i - 1) * sizeof *fl);
		(*n)--;
		return 0;
	}
	if ((r = float_pool(t, w->vm, &c, err)) ||
	    (r = vm_has_float(fl, *n, w->vm, w->addr, err)))
		return r;
	snprintf(fl[i].vm, sizeof fl[i].vm, "%s", w->vm);
	return 0;
}

int floating_set_vm(struct model *m, const char *name, uint32_t addr,
		    const char *vm, char *err)
{
	struct float_set w = { addr, vm };
	char why[ERRLEN];

	if (name_check(vm, "VM", why))
		return err_set(err, EINVAL, "%s", why);
	return float_change(m, name, edit_set, &w, err);
}

int floating_release(struct model *m, const char *name, uint32_t addr,
		     char *err)
{
	struct float_set w = { addr, NULL };

	return float_change(m, name, edit_set, &w, err);
}

int floating_busy(const struct tenant *t, const char *vm, char *err)
{
	char a[IP_STRLEN];
	size_t i;

	for (i = 0; i < t->nfloats; i++)
		if (!strcmp(t->floats[i].vm, vm)) {
			ip_format(t->floats[i].addr, a);
			return err_set(err, EBUSY, "floating address %s points "
				       "at VM %s (rmdir floating/%s, or write "
				       "another VM to its vm)", a, vm, a);
		}
	return 0;
}

int floating_rmdir(struct model *m, const char *name, const char *addr,
		   char *err)
{
	uint32_t a;

	if (ip_parse(addr, &a))
		return err_set(err, ENOENT, "no floating address %.40s", addr);
	return floating_release(m, name, a, err);
}

void external_sync(struct model *m, const char *name)
{
	char err[ERRLEN];
	struct tenant *t;
	bool on;
	int r;

	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, name);
	on = t && t->external;
	pthread_mutex_unlock(&m->lock);
	if (!on)
		return;
	r = tenant_set_external(m, name, true, err);
	if (r == 0)
		return;
	log_warnx("tenant %s: its uplinks are behind (write on to its "
		  "external file to try again): %s", name, err);
	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, name);
	if (t)
		obj_error_set(&t->error, "external", -r, err);
	pthread_mutex_unlock(&m->lock);
}

int external_check_home(const struct model *m, const char *tname,
			const struct cloud *c, char *err)
{
	const struct tenant *t = tenant_find_visible(m, tname);

	if (t && t->external && !c->ext.on)
		return err_set(err, ENOENT, "tenant %s has external on, and "
			       "cloud %s has no external network (the clouds "
			       "file's external:)", tname, c->name);
	return 0;
}
