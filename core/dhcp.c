#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "dhcp.h"
#include "render.h"
#include "txn.h"

/* Whether a dnsmasq lease file gives ip to a MAC other than mac. */
static bool leased_to_other(const char *leases, uint32_t ip, const char *mac)
{
	const char *line;

	for (line = leases; line && *line;) {
		char lmac[32], lip[IP_STRLEN + 1];
		unsigned long long expiry;
		uint32_t a;
		const char *nl = strchr(line, '\n');

		if (sscanf(line, "%llu %31s %16s", &expiry, lmac, lip) == 3 &&
		    ip_parse(lip, &a) == 0 && a == ip && strcmp(lmac, mac))
			return true;
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

uint32_t subnet_free_ip(const struct subnet *s, const char *mac)
{
	struct hostdrv *d = s->home->host;
	struct strbuf leases = STRBUF_INIT;
	const struct vm *v;
	uint32_t first, last, ip, found = 0;
	size_t i;

	if (s->dhcp.on) {
		first = s->dhcp.first;
		last = s->dhcp.last;
		d->ops->dhcp_leases(d, s->vni, &leases);
	} else {
		cidr_default_range(&s->cidr, &first, &last);
	}
	for (ip = first; ip <= last && !found; ip++) {
		bool taken = leased_to_other(sb_str(&leases), ip, mac);

		objset_each(&s->tenant->vms, i, v)
			if (v->conf.ip == ip && strcmp(v->mac, mac) &&
			    !strcmp(v->conf.subnet, s->name))
				taken = true;
		if (!taken)
			found = ip;
	}
	sb_free(&leases);
	return found;
}

typedef int (*dhcp_edit_fn)(const struct subnet *s, struct dhcp *d,
			    const char *arg, char *err);

static bool dhcp_same(const struct dhcp *a, const struct dhcp *b)
{
	if (a->on != b->on)
		return false;
	return !a->on || (a->first == b->first && a->last == b->last &&
			  !strcmp(a->domain, b->domain));
}

/* Makes dnsmasq match d: running with its configuration, or stopped. */
static int dhcp_realize(struct model *m, struct cloud *home,
			const struct subnet *s, const struct dhcp *d,
			const struct net_dhcp *nd, int *pid, char *err)
{
	struct hostdrv *n = home->host;
	int r;

	*pid = 0;
	if (m->plan_copy)   /* a plan's copy: nothing on the clouds */
		return 0;
	subnet_lock(m, s->vni);
	if (d->on)
		r = n->ops->dhcp_ensure(n, nd, pid, err);
	else
		r = n->ops->dhcp_remove(n, s->vni, false, err);
	subnet_unlock(m, s->vni);
	return r;
}

int subnet_dhcp_refresh(struct model *m, const char *tname,
			const char *sname, const char *forget, char *err)
{
	struct net_dhcp nd;
	struct tenant *t;
	struct subnet *s = NULL;
	struct cloud *home = NULL;
	uint32_t vni = 0;
	int r = 0, pid = 0;

	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tname);
	if (t)
		s = subnet_find(t, sname);
	vni = s ? s->vni : 0;
	pthread_mutex_unlock(&m->lock);
	if (!vni)
		return 0;
	/* Under the subnet's lock, so that the server it tells is where
	 * the subnet's home is now, even if the subnet just moved. */
	subnet_lock(m, vni);
	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tname);
	s = t ? subnet_find(t, sname) : NULL;
	if (!s || s->vni != vni || !s->dhcp.on ||
	    s->state == OBJ_CREATING || s->state == OBJ_DELETING) {
		pthread_mutex_unlock(&m->lock);
		subnet_unlock(m, vni);
		return 0;   /* no dnsmasq to tell */
	}
	r = dhcp_net(s, &s->dhcp, &nd);
	nd.forget = forget;
	home = s->home;
	pthread_mutex_unlock(&m->lock);
	if (r == 0) {
		r = home->host->ops->dhcp_ensure(home->host, &nd, &pid, err);
		dhcp_net_free(&nd);
	} else {
		err_set(err, -r, "out of memory");
	}
	subnet_unlock(m, vni);
	return r;
}

/* A change of a subnet's DHCP: the old and the new configuration, and
 * dnsmasq's for each. */
struct dhcp_change {
	struct subnet *s;
	enum obj_state prev;
	struct cloud *home;
	struct dhcp old, new;
	struct net_dhcp nold, nnew;
};

/* Validated under the lock, then the subnet taken (CHANGING): 1 when
 * nothing changes, 0, or -errno. */
static int dhcp_take(struct model *m, const char *tname, const char *sname,
		     dhcp_edit_fn edit, const char *arg, struct dhcp_change *c,
		     char *err)
{
	struct tenant *t = tenant_find_visible(m, tname);
	struct subnet *s = t ? subnet_find_visible(t, sname) : NULL;
	int r;

	if (!s)
		return err_set(err, ENOENT, "no subnet %s in tenant %s", sname,
			       tname);
	if (s->state != OBJ_READY && s->state != OBJ_ERROR)
		return err_set(err, EBUSY, "subnet %s is %s", sname,
			       obj_state_name(s->state));
	c->old = c->new = s->dhcp;
	r = edit(s, &c->new, arg, err);
	if (r)
		return r;
	if (dhcp_same(&c->old, &c->new))
		return 1;
	r = dhcp_net(s, &c->old, &c->nold);
	if (r == 0 && (r = dhcp_net(s, &c->new, &c->nnew)))
		dhcp_net_free(&c->nold);
	if (r)
		return err_set(err, -r, "out of memory");
	c->s = s;
	c->prev = s->state;
	c->home = s->home;
	s->state = OBJ_CHANGING;
	return 0;
}

/* A change of a subnet's DHCP: validate under the lock, make dnsmasq
 * match outside it, commit and save; on failure the old configuration is
 * put back, in dnsmasq and in the model. */
static int dhcp_apply(struct model *m, const char *tname, const char *sname,
		      dhcp_edit_fn edit, const char *arg, char *err)
{
	struct dhcp_change c;
	struct subnet *s;
	int r, pid = 0;

	memset(&c, 0, sizeof c);
	pthread_mutex_lock(&m->lock);
	r = dhcp_take(m, tname, sname, edit, arg, &c, err);
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r > 0 ? 0 : r;
	s = c.s;
	r = dhcp_realize(m, c.home, s, &c.new, &c.nnew, &pid, err);
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		s->dhcp = c.new;
		s->dhcp.pid = pid;
		s->mtime = time(NULL);
		pthread_mutex_unlock(&m->lock);
		r = txn_once(m, NULL, err);
	}
	if (r)
		dhcp_realize(m, c.home, s, &c.old, &c.nold, &pid, NULL);
	pthread_mutex_lock(&m->lock);
	if (r) {
		s->dhcp = c.old;
		s->dhcp.pid = pid;
	}
	s->state = c.prev;
	pthread_mutex_unlock(&m->lock);
	dhcp_net_free(&c.nold);
	dhcp_net_free(&c.nnew);
	if (r == 0)
		log_info("subnet %s/%s: DHCP %s", tname, sname,
			 c.new.on ? "configured" : "off");
	return r;
}

static int edit_enable(const struct subnet *s, struct dhcp *d,
		       const char *arg, char *err)
{
	(void)arg;
	if (d->on)
		return err_set(err, EEXIST, "DHCP is already on");
	dhcp_defaults(s, d);
	return 0;
}

static int edit_disable(const struct subnet *s, struct dhcp *d,
			const char *arg, char *err)
{
	(void)s;
	(void)arg;
	if (!d->on)
		return err_set(err, ENOENT, "DHCP is off");
	d->on = false;
	return 0;
}

static int edit_range(const struct subnet *s, struct dhcp *d,
		      const char *arg, char *err)
{
	if (!d->on)
		return err_set(err, ENOENT, "DHCP is off");
	return cidr_parse_range(&s->cidr, arg, &d->first, &d->last, err);
}

static int edit_domain(const struct subnet *s, struct dhcp *d,
		       const char *arg, char *err)
{
	size_t i;
	int r;

	(void)s;
	if (!d->on)
		return err_set(err, ENOENT, "DHCP is off");
	r = domain_check(arg, err);
	if (r)
		return r;
	for (i = 0; arg[i]; i++)
		d->domain[i] = (char)tolower((unsigned char)arg[i]);
	d->domain[i] = '\0';
	return 0;
}

int dhcp_enable(struct model *m, const char *tenant, const char *subnet,
		char *err)
{
	return dhcp_apply(m, tenant, subnet, edit_enable, NULL, err);
}

int dhcp_disable(struct model *m, const char *tenant, const char *subnet,
		 char *err)
{
	return dhcp_apply(m, tenant, subnet, edit_disable, NULL, err);
}

int dhcp_set_range(struct model *m, const char *tenant, const char *subnet,
		   const char *value, char *err)
{
	return dhcp_apply(m, tenant, subnet, edit_range, value, err);
}

int dhcp_set_domain(struct model *m, const char *tenant, const char *subnet,
		    const char *value, char *err)
{
	return dhcp_apply(m, tenant, subnet, edit_domain, value, err);
}
