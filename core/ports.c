/* The ports of a tenant's VMs (ports.h). */
#include "ports.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "mig.h"

/* A tenant's syncs run one at a time (a later picture is never
 * overwritten by an earlier one written late); other tenants' do not wait
 * for them (a cloud out of reach stalls only the tenants it hosts). One
 * lock per name hash: two tenants share one rarely. */
#define SYNC_LOCKS 64
static pthread_mutex_t sync_locks[SYNC_LOCKS] = {
	[0 ... SYNC_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER
};

static pthread_mutex_t *sync_lock_of(const char *tenant)
{
	uint32_t h = 2166136261u;

	for (; *tenant; tenant++)
		h = (h ^ (unsigned char)*tenant) * 16777619u;
	return &sync_locks[h % SYNC_LOCKS];
}

/* The clouds a VM's port is on: its location and, while it migrates, the
 * target; none without an address. */
static uint64_t vm_clouds(const struct model *m, const struct vm *v)
{
	uint64_t mask = 0;

	if (!v->conf.ip || !v->conf.subnet[0] || !v->conf.location)
		return 0;
	mask |= 1ull << cloud_index(m, v->conf.location);
	if (mig_running(v->mig.phase) && v->mig.to)
		mask |= 1ull << cloud_index(m, v->mig.to);
	return mask;
}

bool ports_on(const struct model *m, const struct tenant *t,
	      const struct cloud *c)
{
	const struct vm *v;
	size_t i;

	objset_each(&t->vms, i, v)
		if (vm_clouds(m, v) & (1ull << cloud_index(m, c)))
			return true;
	return false;
}

/* The ports of t, by cloud (those of cloud k: p[off[k]], n[k] of them),
 * each VM's rules (the union of its groups', shared by its copies) and a
 * set of addresses per group (its members'). */
struct picture {
	struct net_port *p;
	size_t off[CLOUDS_MAX], n[CLOUDS_MAX];
	struct net_rule *rules;
	size_t *roff, *rn;           /* by VM, in objset order */
	struct net_set sets[SECGROUPS_MAX];
	uint32_t *ips;
	size_t nsets;
	uint64_t clouds;             /* with ports, or tables to remove */
	unsigned id;
};

static void picture_free(struct picture *pic)
{
	free(pic->p);
	free(pic->rules);
	free(pic->roff);
	free(pic->rn);
	free(pic->ips);
}

static bool has_port(const struct vm *v)
{
	return v->conf.ip && v->conf.subnet[0] && v->conf.location;
}

static int group_index(const struct tenant *t, const char *name)
{
	size_t k;

	for (k = 0; k < t->ngroups; k++)
		if (!strcmp(t->groups[k].name, name))
			return (int)k;
	return -1;
}

/* The sets: each group's members' addresses. */
static int picture_sets(const struct tenant *t, struct picture *pic)
{
	const struct vm *v;
	size_t i, j, k, at = 0;

	pic->nsets = t->ngroups;
	pic->ips = calloc(t->vms.n * VM_GROUPS_MAX + 1, sizeof *pic->ips);
	if (!pic->ips)
		return -ENOMEM;
	for (k = 0; k < t->ngroups; k++) {
		pic->sets[k].ips = pic->ips + at;
		objset_each(&t->vms, i, v)
			for (j = 0; has_port(v) && j < v->ngroups; j++)
				if (!strcmp(v->groups[j], t->groups[k].name))
					pic->ips[at++] = v->conf.ip;
		pic->sets[k].n = (size_t)(pic->ips + at - pic->sets[k].ips);
	}
	return 0;
}

static void rule_of(const struct tenant *t, const struct secrule *s,
		    struct net_rule *r)
{
	memset(r, 0, sizeof *r);
	r->in = s->in;
	r->proto = s->proto;
	r->lo = s->lo;
	r->hi = s->hi;
	r->set = s->group[0] ? group_index(t, s->group) : -1;
	if (s->has_cidr) {
		r->net = s->cidr.net;
		r->prefix = s->cidr.prefix;
	}
}

/* Each VM's rules: those of its groups, in order. */
static int picture_rules(const struct tenant *t, struct picture *pic)
{
	const struct vm *v;
	size_t i, j, q, total = 0, at = 0;
	int g;

	objset_each(&t->vms, i, v)
		for (j = 0; j < v->ngroups; j++)
			if ((g = group_index(t, v->groups[j])) >= 0)
				total += t->groups[g].nrules;
	pic->rules = calloc(total + 1, sizeof *pic->rules);
	pic->roff = calloc(t->vms.n + 1, sizeof *pic->roff);
	pic->rn = calloc(t->vms.n + 1, sizeof *pic->rn);
	if (!pic->rules || !pic->roff || !pic->rn)
		return -ENOMEM;
	objset_each(&t->vms, i, v) {
		pic->roff[i] = at;
		for (j = 0; j < v->ngroups; j++) {
			if ((g = group_index(t, v->groups[j])) < 0)
				continue;
			for (q = 0; q < t->groups[g].nrules; q++)
				rule_of(t, &t->groups[g].rules[q],
					&pic->rules[at++]);
		}
		pic->rn[i] = at - pic->roff[i];
	}
	return 0;
}

static void port_of(const struct tenant *t, const struct vm *v, size_t i,
		    const struct picture *pic, struct net_port *p)
{
	const struct subnet *s = subnet_find(t, v->conf.subnet);

	net_port_name(v->mac, p->tap);
	snprintf(p->mac, sizeof p->mac, "%s", v->mac);
	p->ip = v->conf.ip;
	if (s) {
		net_bridge_name(s->vni, p->bridge);
		p->gateway = cidr_gateway(&s->cidr);
	}
	p->rules = pic->rules + pic->roff[i];
	p->nrules = pic->rn[i];
}

static int picture(const struct model *m, const struct tenant *t,
		   struct picture *pic)
{
	const struct vm *v;
	size_t i, k, total = 0, at[CLOUDS_MAX];
	uint64_t c;

	memset(pic, 0, sizeof *pic);
	pic->id = t->id;
	pic->clouds = t->ports;
	objset_each(&t->vms, i, v)
		for (c = vm_clouds(m, v), k = 0; k < m->nclouds; k++)
			if (c & (1ull << k)) {
				pic->n[k]++;
				total++;
			}
	pic->p = calloc(total + 1, sizeof *pic->p);
	if (!pic->p || picture_sets(t, pic) || picture_rules(t, pic))
		return -ENOMEM;
	for (k = 0, total = 0; k < CLOUDS_MAX; k++) {
		at[k] = pic->off[k] = total;
		total += pic->n[k];
		if (pic->n[k])
			pic->clouds |= 1ull << k;
	}
	objset_each(&t->vms, i, v)
		for (c = vm_clouds(m, v), k = 0; k < m->nclouds; k++)
			if (c & (1ull << k))
				port_of(t, v, i, pic, &pic->p[at[k]++]);
	return 0;
}

/* Never blocks: the driver's last word on the cloud. */
static bool cloud_up(const struct cloud *c)
{
	struct strbuf st = STRBUF_INIT;
	bool up;

	c->host->ops->status(c->host, &st);
	up = !strncmp(sb_str(&st), "up", 2);
	sb_free(&st);
	return up;
}

/* The picture's tables written on cloud k, if it is up (or is must).
 * Sets the cloud's bit in *left if a table stays there, in *behind if it
 * waits for the janitor; the error counts if the cloud is must (or, with
 * no must, if the cloud is still up: one lost meanwhile waits). */
static int write_cloud(struct model *m, size_t k, const struct picture *pic,
		       const struct cloud *must, const char *tenant,
		       uint64_t *left, uint64_t *behind, char *err)
{
	struct cloud *c = m->clouds[k];
	struct net_ports ps = { pic->id, pic->p + pic->off[k], pic->n[k],
				pic->sets, pic->nsets };
	char why[ERRLEN];
	int e;

	if (c != must && !cloud_up(c)) {
		*left |= 1ull << k;
		*behind |= 1ull << k;
		log_warnx("tenant %s: its ports on %s wait: the cloud is down",
			  tenant, c->name);
		return 0;
	}
	e = c->host->ops->ports_apply(c->host, &ps, why);
	if (e || pic->n[k])   /* a table stays there */
		*left |= 1ull << k;
	if (!e)
		return 0;
	*behind |= 1ull << k;
	log_warnx("tenant %s: its ports on %s: %s", tenant, c->name, why);
	if (must ? must != c : !cloud_up(c))
		return 0;
	return err_set(err, -e, "the ports of tenant %s on cloud %s: %s",
		       tenant, c->name, why);
}

int ports_sync(struct model *m, const char *tenant, const struct cloud *must,
	       char *err)
{
	pthread_mutex_t *lock = sync_lock_of(tenant);
	struct picture pic;
	struct tenant *t;
	uint64_t left = 0, behind = 0;
	size_t k;
	int r = 0, e;

	if (m->plan_copy)   /* a plan's copy: nothing on the clouds */
		return 0;
	pthread_mutex_lock(lock);
	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tenant);
	e = t ? picture(m, t, &pic) : 0;
	pthread_mutex_unlock(&m->lock);
	if (!t || e) {
		pthread_mutex_unlock(lock);
		if (t)
			picture_free(&pic);
		return t ? err_set(err, ENOMEM, "out of memory") : 0;
	}
	for (k = 0; k < m->nclouds; k++) {
		if (!(pic.clouds & (1ull << k)))
			continue;
		e = write_cloud(m, k, &pic, must, tenant, &left, &behind,
				r ? NULL : err);
		r = r ? r : e;
	}
	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tenant);
	if (t) {
		t->ports = left;
		t->ports_behind = behind;
	}
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(lock);
	picture_free(&pic);
	return r;
}

/* The tenants whose tables on cloud c wait for a sync, every tenant if c
 * is NULL, synced one after the other (with c their first concern). */
static void sync_tenants(struct model *m, const struct cloud *c)
{
	struct strbuf names = STRBUF_INIT;
	const struct tenant *t;
	const char *p;
	char err[ERRLEN];
	size_t i;

	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t)
		if (!c || (t->ports_behind & (1ull << cloud_index(m, c))))
			sb_append(&names, t->name, strlen(t->name) + 1);
	pthread_mutex_unlock(&m->lock);
	for (p = names.s; p && p < names.s + names.len; p += strlen(p) + 1)
		if (ports_sync(m, p, c, err))
			log_warnx("%s", err);
	sb_free(&names);
}

void ports_sync_all(struct model *m)
{
	sync_tenants(m, NULL);
}

void ports_sync_cloud(struct model *m, const struct cloud *c)
{
	sync_tenants(m, c);
}

bool ports_behind(struct model *m, const struct cloud *c)
{
	const struct tenant *t;
	bool any = false;
	size_t i;

	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t)
		any |= (t->ports_behind >> cloud_index(m, c)) & 1;
	pthread_mutex_unlock(&m->lock);
	return any;
}
