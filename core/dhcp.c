#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "model.h"
#include "state.h"

void dhcp_net(const struct subnet *s, const struct dhcp *d,
	      struct net_dhcp *out)
{
	memset(out, 0, sizeof *out);
	out->tenant = s->tenant->name;
	out->vni = s->vni;
	out->server = cidr_gateway(&s->cidr);
	out->prefix = s->cidr.prefix;
	out->first = d->first;
	out->last = d->last;
	out->domain = d->domain;
	out->mtu = SUBNET_MTU;
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
static int dhcp_realize(struct cloud *home, const struct subnet *s,
			const struct dhcp *d, const struct net_dhcp *nd,
			int *pid, char *err)
{
	struct netdrv *n = home->net;

	*pid = 0;
	if (d->on)
		return n->ops->dhcp_ensure(n, nd, pid, err);
	return n->ops->dhcp_remove(n, s->vni, false, err);
}

/* A change of a subnet's DHCP: validate under the lock, make dnsmasq
 * match outside it, commit and save; on failure the old configuration is
 * put back, in dnsmasq and in the model. */
static int dhcp_apply(struct model *m, const char *tname, const char *sname,
		      dhcp_edit_fn edit, const char *arg, char *err)
{
	struct dhcp old, new;
	struct net_dhcp nold, nnew;
	enum obj_state prev = OBJ_READY;
	struct tenant *t;
	struct subnet *s = NULL;
	struct cloud *home = NULL;
	int r = 0, pid = 0;

	memset(&old, 0, sizeof old);
	memset(&new, 0, sizeof new);
	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, tname);
	if (t)
		s = subnet_find_visible(t, sname);
	if (!s) {
		r = err_set(err, ENOENT, "no subnet %s in tenant %s", sname,
			    tname);
	} else if (s->state != OBJ_READY && s->state != OBJ_ERROR) {
		r = err_set(err, EBUSY, "subnet %s is %s", sname,
			    obj_state_name(s->state));
	} else {
		old = new = s->dhcp;
		r = edit(s, &new, arg, err);
	}
	if (r == 0 && dhcp_same(&old, &new)) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	if (r == 0) {
		prev = s->state;
		s->state = OBJ_CHANGING;
		home = s->home;
		dhcp_net(s, &old, &nold);
		dhcp_net(s, &new, &nnew);
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;

	r = dhcp_realize(home, s, &new, &nnew, &pid, err);
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		s->dhcp = new;
		s->dhcp.pid = pid;
		s->mtime = time(NULL);
		pthread_mutex_unlock(&m->lock);
		r = state_save(m, err);
	}
	if (r) {
		dhcp_realize(home, s, &old, &nold, &pid, NULL);
		pthread_mutex_lock(&m->lock);
		s->dhcp = old;
		s->dhcp.pid = pid;
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_lock(&m->lock);
	s->state = prev;
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		log_info("subnet %s/%s: DHCP %s", tname, sname,
			 new.on ? "configured" : "off");
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
