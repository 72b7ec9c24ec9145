/* The ports of a tenant's VMs (ports.h). */
#include "ports.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "mig.h"

/* Syncs run one at a time: a later picture is never overwritten by an
 * earlier one written late. */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* The ports of t, by cloud: those of cloud k are p[off[k]] on, n[k]. */
struct picture {
	struct net_port *p;
	size_t off[CLOUDS_MAX], n[CLOUDS_MAX];
	uint64_t clouds;       /* with ports, or a table to remove */
	unsigned id;
};

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
	if (!pic->p)
		return -ENOMEM;
	for (k = 0, total = 0; k < CLOUDS_MAX; k++) {
		at[k] = pic->off[k] = total;
		total += pic->n[k];
		if (pic->n[k])
			pic->clouds |= 1ull << k;
	}
	objset_each(&t->vms, i, v)
		for (c = vm_clouds(m, v), k = 0; k < m->nclouds; k++)
			if (c & (1ull << k)) {
				struct net_port *p = &pic->p[at[k]++];

				net_port_name(v->mac, p->tap);
				snprintf(p->mac, sizeof p->mac, "%s", v->mac);
				p->ip = v->conf.ip;
			}
	return 0;
}

int ports_sync(struct model *m, const char *tenant, char *err)
{
	struct picture pic;
	struct tenant *t;
	char why[ERRLEN];
	uint64_t left = 0;
	size_t k;
	int r = 0, e;

	pthread_mutex_lock(&sync_lock);
	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tenant);
	e = t ? picture(m, t, &pic) : 0;
	pthread_mutex_unlock(&m->lock);
	if (!t || e) {
		pthread_mutex_unlock(&sync_lock);
		return t ? err_set(err, ENOMEM, "out of memory") : 0;
	}
	for (k = 0; k < m->nclouds; k++) {
		struct hostdrv *d = m->clouds[k]->host;

		if (!(pic.clouds & (1ull << k)))
			continue;
		e = d->ops->ports_apply(d, pic.id, pic.p + pic.off[k],
					pic.n[k], why);
		if (e && r == 0)
			r = err_set(err, -e, "the ports of tenant %s on cloud "
				    "%s: %s", tenant, m->clouds[k]->name, why);
		if (e)
			log_warnx("tenant %s: its ports on %s: %s", tenant,
				  m->clouds[k]->name, why);
		if (e || pic.n[k])   /* a table stays there */
			left |= 1ull << k;
	}
	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tenant);
	if (t)
		t->ports = left;
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(&sync_lock);
	free(pic.p);
	return r;
}

void ports_sync_all(struct model *m)
{
	struct strbuf names = STRBUF_INIT;
	const struct tenant *t;
	const char *p;
	char err[ERRLEN];
	size_t i;

	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t)
		sb_append(&names, t->name, strlen(t->name) + 1);
	pthread_mutex_unlock(&m->lock);
	for (p = names.s; p && p < names.s + names.len; p += strlen(p) + 1)
		if (ports_sync(m, p, err))
			log_warnx("%s", err);
	sb_free(&names);
}
