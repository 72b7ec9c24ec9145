/* On mount: make the kernel and dnsmasq match the state that was loaded
 * (re-create what is missing, adopt what runs), then sweep what carries
 * our marker but the state no longer lists. Nothing that exists and is
 * wanted is touched: the data plane keeps running across a restart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "external.h"
#include "janitor.h"
#include "ports.h"
#include "mig.h"
#include "reconcile.h"
#include "render.h"
#include "sweep.h"
#include "txn.h"

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
	struct hostdrv *d = s->home->host;
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
		r = m->clouds[i]->host->ops->subnet_ensure(m->clouds[i]->host,
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
	unsigned *uplinks = calloc(m->tenants.n + 1, sizeof *uplinks);
	unsigned *ports = calloc(m->tenants.n + 1, sizeof *ports);
	struct net_keep_subnet *subnets;
	struct tenant *t;
	struct subnet *s;
	size_t i, j, nt = 0, ns = 0, total = 0;

	objset_each(&m->tenants, i, t)
		total += t->subnets.n;
	subnets = calloc(total + 1, sizeof *subnets);
	if (!tenants || !uplinks || !ports || !subnets) {
		free(tenants);
		free(uplinks);
		free(ports);
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
		if (!here)
			continue;
		uplinks[nt] = t->uplink[cloud_index(m, c)] ? t->id : 0;
		ports[nt] = ports_on(m, t, c) ? t->id : 0;
		tenants[nt++] = t->name;   /* objset order: sorted */
	}
	qsort(subnets, ns, sizeof *subnets, cmp_keep);
	k->tenants = tenants;
	k->uplinks = uplinks;
	k->ports = ports;
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

static void reconcile_vms(struct model *m)
{
	struct vm **all = NULL;
	struct tenant *t;
	struct vm *v;
	size_t i, j, n = 0;

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
	/* Every cloud's hypervisor is asked for at once: one that does not
	 * answer costs the mount one bounded wait, not one per cloud. */
	for (i = 0; i < m->nclouds; i++)
		if (m->clouds[i]->virt->ops->warm)
			m->clouds[i]->virt->ops->warm(m->clouds[i]->virt);
	/* Migrations a dead maasfs left half-way: finished or rolled back
	 * first, so that each VM is then where its state says. */
	for (i = 0; i < n; i++)
		if (mig_running(all[i]->mig.phase))
			mig_recover(m, all[i]);
	for (i = 0; i < n; i++)
		reconcile_vm(m, all[i]);
	free(all);
	for (i = 0; i < m->nclouds; i++)
		if (sweep_cloud(m, m->clouds[i]))
			janitor_poke(m->janitor, m->clouds[i]);
	txn_once(m, NULL, NULL);   /* powers as libvirt has them */
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
		r = home->host->ops->tenant_ensure(home->host, t->name, err);
		if (r) {
			fail(&t->error, &t->state, t->name, r, err);
			continue;
		}
		objset_each(&t->subnets, j, s)
			reconcile_subnet(m, s);
		r = external_reconcile(m, t, err);
		if (r)
			fail(&t->error, &t->state, t->name, r, err);
	}
	for (i = 0; i < m->nclouds; i++) {
		struct net_keep keep;
		struct hostdrv *d = m->clouds[i]->host;

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
		free((void *)keep.uplinks);
		free((void *)keep.ports);
		free((void *)keep.subnets);
	}
	pthread_mutex_unlock(&m->lock);
	reconcile_vms(m);
	ports_sync_all(m);
	janitor_start(m->janitor);
}
