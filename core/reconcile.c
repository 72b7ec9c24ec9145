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
#include "repl.h"
#include "vmtest.h"

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

/* A tenant of the keep, with its uplink and ports' ids: sorted by name
 * (strcmp) before they are split into the keep's arrays. */
struct keep_tenant {
	const char *name;
	unsigned uplink, ports;
};

static int cmp_keep_tenant(const void *a, const void *b)
{
	return strcmp(((const struct keep_tenant *)a)->name,
		      ((const struct keep_tenant *)b)->name);
}

static void keep_free(struct net_keep *k)
{
	free((void *)k->tenants);
	free((void *)k->uplinks);
	free((void *)k->ports);
	free((void *)k->subnets);
}

/* The networks of the tests on cloud c (vmtest.h): their tenant names
 * (in names, NAME_MAXLEN + 1 each) and subnets. */
static void keep_tests(struct model *m, struct cloud *c,
		       struct keep_tenant *kt, size_t *nt, char *names,
		       struct net_keep_subnet *subnets, size_t *ns)
{
	struct tenant *t;
	struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v) {
			if (v->test.phase == TEST_NONE || v->test.cloud != c)
				continue;
			test_net_name(v->test.vni, names, NAME_MAXLEN + 1);
			kt[(*nt)++] = (struct keep_tenant){ names, 0, 0 };
			subnets[*ns].vni = v->test.vni;
			subnets[*ns].tenant = names;
			subnets[*ns].dhcp = true;
			subnets[(*ns)++].home = true;
			names += NAME_MAXLEN + 1;
		}
}

/* The tenants of the keep from kt (sorted here): k->tenants holds the
 * names of tests' networks after its pointers (one allocation). */
static void keep_split(struct net_keep *k, struct keep_tenant *kt, size_t nt)
{
	size_t i;

	qsort(kt, nt, sizeof *kt, cmp_keep_tenant);
	for (i = 0; i < nt; i++) {
		((const char **)k->tenants)[i] = kt[i].name;
		((unsigned *)k->uplinks)[i] = kt[i].uplink;
		((unsigned *)k->ports)[i] = kt[i].ports;
	}
	k->ntenants = nt;
}

/* Everything of the state that lives on cloud c. */
static int build_keep(struct model *m, struct cloud *c, struct net_keep *k)
{
	struct net_keep_subnet *subnets;
	struct keep_tenant *kt;
	struct tenant *t;
	struct subnet *s;
	size_t i, j, nt = 0, ns = 0, total = 0, tests = 0, n;

	objset_each(&m->tenants, i, t) {
		total += t->subnets.n;
		tests += t->vms.n;
	}
	n = m->tenants.n + tests + 1;
	k->tenants = calloc(1, n * (sizeof(char *) + NAME_MAXLEN + 1));
	k->uplinks = calloc(n, sizeof *k->uplinks);
	k->ports = calloc(n, sizeof *k->ports);
	kt = calloc(n, sizeof *kt);
	subnets = calloc(total + tests + 1, sizeof *subnets);
	if (!k->tenants || !k->uplinks || !k->ports || !kt || !subnets) {
		keep_free(k);
		free(kt);
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
			subnets[ns++].home = s->home == c;
		}
		if (here)
			kt[nt++] = (struct keep_tenant){ t->name,
				t->uplink[cloud_index(m, c)] ? t->id : 0,
				ports_on(m, t, c) ? t->id : 0 };
	}
	keep_tests(m, c, kt, &nt, (char *)(k->tenants + n), subnets, &ns);
	keep_split(k, kt, nt);
	free(kt);
	qsort(subnets, ns, sizeof *subnets, cmp_keep);
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
	/* Replication cycles cut off first (their backup jobs would hold a
	 * cutover's source domain busy), then migrations a dead maasfs left
	 * half-way: finished or rolled back, so that each VM is then where
	 * its state says. */
	for (i = 0; i < n; i++)
		vm_repl_recover(m, all[i]);
	for (i = 0; i < n; i++)
		if (mig_running(all[i]->mig.phase))
			mig_recover(m, all[i]);
	for (i = 0; i < n; i++)
		vm_test_recover(m, all[i]);   /* launches and ends cut off */
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
		keep_free(&keep);
	}
	pthread_mutex_unlock(&m->lock);
	reconcile_vms(m);
	ports_sync_all(m);
	janitor_start(m->janitor);
	replicator_start(m->replicator);
}
