/* On mount: make the kernel and dnsmasq match the state that was loaded
 * (re-create what is missing, adopt what runs), then sweep what carries
 * our marker but the state no longer lists. Nothing that exists and is
 * wanted is touched: the data plane keeps running across a restart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "model.h"

static void fail(struct obj_error *e, enum obj_state *state, const char *what,
		 int r, const char *err)
{
	log_warnx("reconcile %s: %s", what, err);
	obj_error_set(e, "reconcile", -r, err);
	*state = OBJ_ERROR;
}

static void reconcile_subnet(struct subnet *s)
{
	struct netdrv *d = s->home->net;
	struct net_subnet ns;
	struct net_dhcp nd;
	char err[ERRLEN], what[80];
	int r, pid = 0;

	snprintf(what, sizeof what, "subnet %s/%s", s->tenant->name, s->name);
	subnet_net(s, &ns);
	r = d->ops->tenant_ensure(d, ns.tenant, err);
	if (r == 0)
		r = d->ops->subnet_ensure(d, &ns, err);
	if (r) {
		fail(&s->error, &s->state, what, r, err);
		return;
	}
	if (!s->dhcp.on)
		return;
	dhcp_net(s, &s->dhcp, &nd);
	r = d->ops->dhcp_ensure(d, &nd, &pid, err);
	if (r) {
		fail(&s->dhcp.error, &s->state, what, r, err);
		s->error = s->dhcp.error;
		return;
	}
	s->dhcp.pid = pid;
}

static int cmp_keep(const void *a, const void *b)
{
	const struct net_keep_subnet *x = a, *y = b;

	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

/* Everything of the state that lives on cloud c. */
static int build_keep(struct model *m, struct cloud *c, struct net_keep *k)
{
	const char **tenants = calloc(m->tenants.n + 1, sizeof *tenants);
	struct net_keep_subnet *subnets;
	struct tenant *t;
	struct subnet *s;
	size_t i, j, nt = 0, ns = 0, total = 0;

	objset_each(&m->tenants, i, t)
		total += t->subnets.n;
	subnets = calloc(total + 1, sizeof *subnets);
	if (!tenants || !subnets) {
		free(tenants);
		free(subnets);
		return -ENOMEM;
	}
	objset_each(&m->tenants, i, t) {
		bool here = c == model_default_cloud(m);

		objset_each(&t->subnets, j, s) {
			if (s->home != c)
				continue;
			here = true;
			subnets[ns].vni = s->vni;
			subnets[ns].tenant = t->name;
			subnets[ns].dhcp = s->dhcp.on;
			ns++;
		}
		if (here)
			tenants[nt++] = t->name;   /* objset order: sorted */
	}
	qsort(subnets, ns, sizeof *subnets, cmp_keep);
	k->tenants = tenants;
	k->ntenants = nt;
	k->subnets = subnets;
	k->nsubnets = ns;
	return 0;
}

void model_reconcile(struct model *m)
{
	struct cloud *home = model_default_cloud(m);
	struct tenant *t;
	struct subnet *s;
	char err[ERRLEN];
	size_t i, j;
	int r;

	/* Nothing else runs yet; the lock is for form. */
	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t) {
		r = home->net->ops->tenant_ensure(home->net, t->name, err);
		if (r) {
			fail(&t->error, &t->state, t->name, r, err);
			continue;
		}
		objset_each(&t->subnets, j, s)
			reconcile_subnet(s);
	}
	for (i = 0; i < m->nclouds; i++) {
		struct net_keep keep;
		struct netdrv *d = m->clouds[i]->net;

		if (build_keep(m, m->clouds[i], &keep)) {
			log_warnx("out of memory: not sweeping %s",
				  m->clouds[i]->name);
			continue;
		}
		r = d->ops->sweep(d, &keep, err);
		if (r < 0)
			log_warnx("sweeping %s: %s", m->clouds[i]->name, err);
		else if (r > 0)
			log_info("removed %d object(s) the state does not "
				 "know from %s", r, m->clouds[i]->name);
		free((void *)keep.tenants);
		free((void *)keep.subnets);
	}
	pthread_mutex_unlock(&m->lock);
}
