/* A tenant's way out (external.h): its uplinks, one per cloud that is the
 * home of one of its subnets, each with an address from that cloud's
 * provider pool and SNAT to it. */
#include "external.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
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
 * cloud of that network, or by want[], this change's other picks)? */
static bool addr_taken(const struct model *m, const struct cloud *c,
		       uint32_t addr, const uint32_t *want)
{
	const struct tenant *t;
	size_t i, k;

	objset_each(&m->tenants, i, t)
		for (k = 0; k < m->nclouds; k++)
			if (t->uplink[k] == addr &&
			    same_network(m->clouds[k], c))
				return true;
	for (k = 0; k < m->nclouds; k++)
		if (want[k] == addr && same_network(m->clouds[k], c))
			return true;
	return false;
}

/* The addresses t's uplinks should have, into want[]: kept where it has
 * one on a home cloud, picked from the pool where not; 0 elsewhere. */
static int plan(const struct model *m, const struct tenant *t,
		uint32_t want[CLOUDS_MAX], char *err)
{
	uint64_t homes = home_clouds(m, t);
	size_t k;
	uint32_t a;

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
		if (t->uplink[k]) {
			want[k] = t->uplink[k];
			continue;
		}
		for (a = c->ext.first; a <= c->ext.last && a != 0; a++)
			if (!addr_taken(m, c, a, want))
				break;
		if (a == 0 || a > c->ext.last)
			return err_set(err, ENOSPC, "the pool of cloud %s's "
				       "external network is used up",
				       c->name);
		want[k] = a;
	}
	return 0;
}

static void uplink_of(const struct tenant *t, const struct cloud *c,
		      uint32_t addr, struct net_uplink *u)
{
	u->tenant = t->name;
	u->id = t->id;
	u->addr = addr;
	u->gateway = c->ext.gateway;
	u->prefix = c->ext.cidr.prefix;
	u->bridge = c->ext.bridge;
}

/* Brings the clouds to want[] from have[]: uplinks made or kept where
 * want has an address, removed where only have has one. On a failure,
 * what it made goes again. */
static int apply(struct model *m, struct tenant *t, const uint32_t *have,
		 const uint32_t *want, char *err)
{
	struct net_uplink u;
	char why[ERRLEN] = "";
	size_t k, j;
	int r = 0;

	for (k = 0; r == 0 && k < m->nclouds; k++) {
		struct hostdrv *d = m->clouds[k]->host;

		if (want[k]) {
			uplink_of(t, m->clouds[k], want[k], &u);
			r = d->ops->uplink_ensure(d, &u, why);
		} else if (have[k]) {
			r = d->ops->uplink_remove(d, t->name, t->id, why);
		}
		if (r)
			err_set(err, -r, "cloud %s: %s", m->clouds[k]->name,
				why);
	}
	if (r == 0)
		return 0;
	for (j = 0; j + 1 < k; j++) {   /* the clouds done before k */
		struct hostdrv *d = m->clouds[j]->host;

		if (want[j] && !have[j])
			d->ops->uplink_remove(d, t->name, t->id, NULL);
	}
	return r;
}

int tenant_set_external(struct model *m, const char *name, bool on,
			char *err)
{
	uint32_t have[CLOUDS_MAX], want[CLOUDS_MAX];
	enum obj_state prev = OBJ_READY;
	bool was = false;
	struct tenant *t;
	struct txn x;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	r = tenant_free_for_change(m, name, &t, err);
	if (r == 0) {
		memcpy(have, t->uplink, sizeof have);
		was = t->external;
		if (on)
			r = plan(m, t, want, err);
		else
			memset(want, 0, sizeof want);
		if (r == 0) {
			prev = t->state;
			t->state = OBJ_CHANGING;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	r = apply(m, t, have, want, err);
	pthread_mutex_lock(&m->lock);
	if (r == 0) {
		t->external = on;
		memcpy(t->uplink, want, sizeof want);
		t->mtime = time(NULL);
	}
	t->state = prev;
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	model_note(m, name);
	txn_begin(&x, m, t);
	r = txn_commit(&x, err);
	if (r) {   /* not saved: back as it was */
		apply(m, t, want, have, NULL);
		pthread_mutex_lock(&m->lock);
		t->external = was;
		memcpy(t->uplink, have, sizeof have);
		pthread_mutex_unlock(&m->lock);
	} else {
		log_info("tenant %s: external %s", name, on ? "on" : "off");
	}
	return r;
}

int external_reconcile(struct model *m, struct tenant *t, char *err)
{
	uint32_t have[CLOUDS_MAX];
	uint64_t homes = home_clouds(m, t);
	size_t k;

	if (!t->external)
		return 0;
	/* a cloud no longer home to a subnet of t (the subnet removed or
	 * moved) keeps no uplink: it is removed there */
	memcpy(have, t->uplink, sizeof have);
	for (k = 0; k < m->nclouds; k++)
		if (!(homes & (1ull << k)))
			t->uplink[k] = 0;
	return apply(m, t, have, t->uplink, err);
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
