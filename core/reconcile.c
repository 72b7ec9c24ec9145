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
#include "state.h"

static void fail(struct obj_error *e, enum obj_state *state, const char *what,
		 int r, const char *err)
{
	log_warnx("reconcile %s: %s", what, err);
	obj_error_set(e, "reconcile", -r, err);
	*state = OBJ_ERROR;
}

/* A subnet of the state on every cloud it must be on; its gateway and
 * dnsmasq at home. Called with the lock held (nothing else runs yet). */
static void reconcile_subnet(struct model *m, struct subnet *s)
{
	uint32_t remotes[CLOUDS_MAX];
	uint64_t want = subnet_presence(m, s);
	struct netdrv *d = s->home->net;
	struct net_subnet ns;
	struct net_dhcp nd;
	char err[ERRLEN], what[80];
	size_t i;
	int r, pid = 0;

	snprintf(what, sizeof what, "subnet %s/%s", s->tenant->name, s->name);
	r = d->ops->tenant_ensure(d, s->tenant->name, err);
	for (i = 0; i < m->nclouds && r == 0; i++) {
		if (!(want & (1ull << i)))
			continue;
		subnet_net(m, s, m->clouds[i], want, remotes, &ns);
		r = m->clouds[i]->net->ops->subnet_ensure(m->clouds[i]->net,
							  &ns, err);
	}
	if (r) {
		fail(&s->error, &s->state, what, r, err);
		return;
	}
	s->present = want;
	if (!s->dhcp.on)
		return;
	r = dhcp_net(s, &s->dhcp, &nd);
	if (r == 0)
		r = d->ops->dhcp_ensure(d, &nd, &pid, err);
	dhcp_net_free(&nd);
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
			if (!(s->present & (1ull << cloud_index(m, c))))
				continue;
			here |= s->home == c;
			subnets[ns].vni = s->vni;
			subnets[ns].tenant = t->name;
			subnets[ns].dhcp = s->dhcp.on && s->home == c;
			subnets[ns].home = s->home == c;
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

/* A VM of the state: its domain defined again (re-created if libvirt lost
 * it, never started or stopped), its power and disk as libvirt has them. */
static void reconcile_vm(struct model *m, struct vm *v)
{
	struct strbuf xml = STRBUF_INIT;
	struct virt_domain dom;
	char bridge[NET_IFNAMSIZ], err[ERRLEN], what[80];
	enum virt_power power = VIRT_POWER_UNKNOWN;
	struct virtdrv *d;
	struct subnet *s;
	int r, made = -1;

	pthread_mutex_lock(&m->lock);
	s = v->conf.subnet[0] ? subnet_find(v->tenant, v->conf.subnet) : NULL;
	vm_domain(v, &v->conf, s, &dom, bridge);
	d = v->conf.location->virt;
	snprintf(what, sizeof what, "VM %s/%s", v->tenant->name, v->name);
	pthread_mutex_unlock(&m->lock);

	r = d->ops->define(d, &dom, &xml, err);
	if (r == 0)
		r = d->ops->power(d, v->uuid, &power, err);
	if (r == 0)
		made = d->ops->disk_exists(d, v->uuid, err);
	if (made < 0 && r == 0)
		r = made;
	pthread_mutex_lock(&m->lock);
	v->power = power;
	if (r) {
		fail(&v->error, &v->state, what, r, err);
	} else {
		v->disk_made = made == 1;
		sb_free(&v->xml);
		v->xml = xml;
		xml = (struct strbuf)STRBUF_INIT;
	}
	pthread_mutex_unlock(&m->lock);
	sb_free(&xml);
}

struct domain_sweep {
	struct model *m;
	struct cloud *c;
	int removed;
};

/* A domain of ours the state does not know (a mkdir or rmdir cut short),
 * or a VM's copy on a cloud that is not its location (a migration's
 * source that could not be cleaned). A stopped one goes with its disk; a
 * running one is left to the operator. */
static void sweep_domain(void *ctx, const struct virt_seen *seen)
{
	struct domain_sweep *w = ctx;
	struct virtdrv *d = w->c->virt;
	const struct vm *v;
	char err[ERRLEN];
	bool wanted;

	if (!seen->ours)
		return;
	pthread_mutex_lock(&w->m->lock);
	v = vm_find_uuid(w->m, seen->uuid);
	wanted = v && (v->conf.location == w->c || mig_running(v->mig.phase));
	pthread_mutex_unlock(&w->m->lock);
	if (wanted)
		return;
	if (seen->power != VIRT_POWER_STOPPED) {
		log_warnx("domain %s (%s) is ours, %s, and runs: left alone",
			  seen->name, seen->uuid, v ? "its VM is on another "
			  "cloud" : "not in the state");
		return;
	}
	if (d->ops->undefine(d, seen->uuid, err) ||
	    d->ops->disk_delete(d, seen->uuid, err)) {
		log_warnx("removing domain %s: %s", seen->name, err);
		return;
	}
	log_info("removed domain %s from %s: %s", seen->name, w->c->name,
		 v ? "a copy its migration left" : "not in the state");
	w->removed++;
}

static void reconcile_vms(struct model *m)
{
	struct vm **all = NULL;
	struct tenant *t;
	struct vm *v;
	size_t i, j, n = 0;
	char err[ERRLEN];

	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t)
		n += t->vms.n;
	all = n ? calloc(n, sizeof *all) : NULL;
	n = 0;
	if (all)
		objset_each(&m->tenants, i, t)
			objset_each(&t->vms, j, v)
				all[n++] = v;
	pthread_mutex_unlock(&m->lock);
	if (!all)
		return;   /* no VM: libvirt is not needed */
	/* Migrations a dead maasfs left half-way: finished or rolled back
	 * first, so that each VM is then where its state says. */
	for (i = 0; i < n; i++)
		if (mig_running(all[i]->mig.phase))
			mig_recover(m, all[i]);
	for (i = 0; i < n; i++)
		reconcile_vm(m, all[i]);
	free(all);
	for (i = 0; i < m->nclouds; i++) {
		struct domain_sweep w = { m, m->clouds[i], 0 };
		struct virtdrv *d = w.c->virt;

		if (d->ops->list(d, sweep_domain, &w, err))
			log_warnx("cloud %s: %s", m->clouds[i]->name, err);
	}
	state_save(m, NULL);   /* powers as libvirt has them */
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
			reconcile_subnet(m, s);
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
	reconcile_vms(m);
}
