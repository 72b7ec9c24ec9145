/* Subnet migration (DESIGN §5): `echo cloud2 > subnets/web/cloud` moves
 * the subnet's gateway and DHCP server to cloud2, the new dnsmasq starting
 * from the old one's lease file with every reservation in place (so that
 * no client is refused or renumbered, as Neutron does), then migrates every
 * VM of the subnet there, one after the other (live when it runs). At the
 * end nothing of the subnet is left on the old cloud.
 *
 * The gateway's move is all or nothing, and so is each VM's (vm_migrate).
 * If a VM cannot move, the write returns its errno and the subnet's status
 * names the VMs still elsewhere: writing the cloud again moves them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "mig.h"
#include "render.h"
#include "state.h"
#include "submig.h"
#include "subnet.h"
#include "tenant.h"

static void set_move(struct model *m, struct subnet *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_move(struct model *m, struct subnet *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&m->lock);
	va_start(ap, fmt);
	vsnprintf(s->move, sizeof s->move, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&m->lock);
	log_info("subnet %s/%s: %s", s->tenant->name, s->name, s->move);
}

/* What the handover needs of the subnet, taken under the lock. */
struct handover {
	char tenant[NAME_MAXLEN + 1];
	uint32_t vni;
	bool dhcp;
	struct net_subnet at_old, at_new;
	uint32_t rem_old[CLOUDS_MAX], rem_new[CLOUDS_MAX];
	struct net_dhcp nd;
	struct strbuf leases;
};

/* The gateway and the DHCP server from old to to, or nowhere moved. */
static int move_home(struct model *m, struct subnet *s, struct cloud *old,
		     struct cloud *to, char *err)
{
	struct hostdrv *on = old->host, *nn = to->host;
	struct handover *h = calloc(1, sizeof *h);
	struct strbuf raw = STRBUF_INIT;
	uint64_t present;
	int r, step = 0, pid = 0;

	if (!h)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&m->lock);
	snprintf(h->tenant, sizeof h->tenant, "%s", s->tenant->name);
	h->vni = s->vni;
	h->dhcp = s->dhcp.on;
	present = subnet_presence(m, s);
	subnet_net(m, s, old, present, h->rem_old, &h->at_old);
	subnet_net(m, s, to, present, h->rem_new, &h->at_new);
	h->at_old.tenant = h->at_new.tenant = h->tenant;
	h->at_old.home = false;
	h->at_new.home = true;
	r = h->dhcp ? dhcp_net(s, &s->dhcp, &h->nd) : 0;
	pthread_mutex_unlock(&m->lock);
	if (r) {
		free(h);
		return err_set(err, ENOMEM, "out of memory");
	}
	h->nd.tenant = h->tenant;

	subnet_lock(m, h->vni);
	/* 1: the old server stops; its lease file, final now, goes along */
	if (h->dhcp) {
		r = on->ops->dhcp_remove(on, h->vni, false, err);
		if (r == 0)
			step = 1;
		if (r == 0)
			r = on->ops->dhcp_fetch(on, h->vni, &raw, err);
		dnsmasq_leases_filter(sb_str(&raw), &h->leases);
	}
	/* 2: the gateway leaves the old cloud, 3: and comes to the new */
	if (r == 0 && (r = on->ops->subnet_ensure(on, &h->at_old, err)) == 0)
		step = 2;
	if (r == 0)
		r = nn->ops->tenant_ensure(nn, h->tenant, err);
	if (r == 0 && (r = nn->ops->subnet_ensure(nn, &h->at_new, err)) == 0)
		step = 3;
	/* 4: the new server, from the old leases */
	if (r == 0 && h->dhcp) {
		h->nd.leases = sb_str(&h->leases);
		r = nn->ops->dhcp_ensure(nn, &h->nd, &pid, err);
		h->nd.leases = NULL;
		if (r == 0)
			step = 4;
	}
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		s->home = to;
		s->dhcp.pid = pid;
		pthread_mutex_unlock(&m->lock);
		r = state_save(m, err);
		if (r) {
			pthread_mutex_lock(&m->lock);
			s->home = old;
			pthread_mutex_unlock(&m->lock);
		}
	}
	if (r) {
		/* Back as it was, in reverse. */
		log_warnx("subnet %s/%s stays on %s: %s", h->tenant, s->name,
			  old->name, err);
		if (step >= 4)
			nn->ops->dhcp_remove(nn, h->vni, true, NULL);
		if (step >= 3) {
			h->at_new.home = false;
			nn->ops->subnet_ensure(nn, &h->at_new, NULL);
		}
		if (step >= 2) {
			h->at_old.home = true;
			on->ops->subnet_ensure(on, &h->at_old, NULL);
		}
		if (step >= 1 && on->ops->dhcp_ensure(on, &h->nd, &pid,
						      NULL) == 0) {
			pthread_mutex_lock(&m->lock);
			s->dhcp.pid = pid;
			pthread_mutex_unlock(&m->lock);
		}
	} else if (h->dhcp) {
		on->ops->dhcp_remove(on, h->vni, true, NULL);
	}
	subnet_unlock(m, h->vni);
	tenant_tidy(m, h->tenant, r ? to : old);
	dhcp_net_free(&h->nd);
	sb_free(&h->leases);
	sb_free(&raw);
	free(h);
	return r;
}

/* Names of the subnet's VMs not on cloud to, and how many. */
static size_t vms_elsewhere(const struct subnet *s, const struct cloud *to,
			    char (*names)[NAME_MAXLEN + 1], size_t max)
{
	const struct vm *v;
	size_t i, n = 0;

	objset_each(&s->tenant->vms, i, v)
		if (!strcmp(v->conf.subnet, s->name) &&
		    v->conf.location != to && v->state != OBJ_DELETING &&
		    v->state != OBJ_CREATING && n < max)
			snprintf(names[n++], NAME_MAXLEN + 1, "%s", v->name);
	return n;
}

#define MOVE_VMS_MAX 4096

int subnet_set_cloud(struct model *m, const char *tname, const char *name,
		     const char *cloud, char *err)
{
	char (*names)[NAME_MAXLEN + 1] = NULL;
	enum obj_state prev = OBJ_READY;
	struct strbuf st = STRBUF_INIT;
	struct tenant *t;
	struct subnet *s = NULL;
	struct cloud *to = NULL, *old = NULL;
	int64_t t0 = clock_ms();
	size_t i, n = 0;
	int r;

	r = name_check(cloud, "cloud", err);
	if (r)
		return r;
	names = calloc(MOVE_VMS_MAX, sizeof *names);
	if (!names)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, tname);
	if (t)
		s = subnet_find_visible(t, name);
	to = model_cloud(m, cloud);
	if (!s)
		r = err_set(err, ENOENT, "no subnet %s in tenant %s", name,
			    tname);
	else if (!to)
		r = err_set(err, ENOENT, "no cloud %s", cloud);
	else if (s->state != OBJ_READY && s->state != OBJ_ERROR)
		r = err_set(err, EBUSY, "subnet %s is %s", name,
			    obj_state_name(s->state));
	else if (s->home != to && (!to->vtep_ip || !s->home->vtep_ip))
		r = err_set(err, EINVAL, "clouds %s and %s need a vtep to "
			    "move a subnet between them", s->home->name,
			    to->name);
	if (r == 0) {
		n = vms_elsewhere(s, to, names, MOVE_VMS_MAX);
		if (s->home == to && n == 0) {
			pthread_mutex_unlock(&m->lock);
			free(names);
			return 0;   /* all there already */
		}
		old = s->home;
		prev = s->state;
		s->state = OBJ_CHANGING;
		s->moving_to = to;
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		free(names);
		return r;
	}
	to->host->ops->status(to->host, &st);
	if (strncmp(sb_str(&st), "up", 2))
		r = err_set(err, EHOSTUNREACH, "cloud %s is %s", to->name,
			    sb_str(&st));
	sb_free(&st);

	/* The network first: the subnet onto the target, then its
	 * gateway and DHCP server there. */
	if (r == 0 && old != to) {
		set_move(m, s, "moving to %s: the network", to->name);
		r = subnet_spread(m, tname, name, err);
		if (r == 0) {
			set_move(m, s, "moving to %s: gateway and DHCP",
				 to->name);
			r = move_home(m, s, old, to, err);
		}
	}
	/* Then its VMs, one by one. */
	for (i = 0; r == 0 && i < n; i++) {
		if (m->interrupted && m->interrupted()) {
			r = err_set(err, EINTR, "cancelled by the caller "
				    "before VM %s", names[i]);
			break;
		}
		set_move(m, s, "moving to %s: VM %s (%zu of %zu)", to->name,
			 names[i], i + 1, n);
		r = vm_relocate(m, tname, names[i], cloud, "", err);
		if (r) {
			char why[ERRLEN];

			snprintf(why, sizeof why, "%s", err);
			err_set(err, -r, "VM %s did not move: %.180s", names[i],
				why);
		}
	}

	pthread_mutex_lock(&m->lock);
	s->moving_to = NULL;
	s->state = prev;
	pthread_mutex_unlock(&m->lock);
	/* What the old cloud no longer hosts leaves it. */
	if (subnet_spread(m, tname, name, r ? NULL : err) && r == 0)
		log_warnx("subnet %s/%s: left on a cloud: %s", tname, name,
			  err);
	pthread_mutex_lock(&m->lock);
	if (r == 0) {
		snprintf(s->move, sizeof s->move, "moved from %s to %s with "
			 "%zu VM(s) in %lld ms", old->name, to->name, n,
			 (long long)(clock_ms() - t0));
	} else {
		size_t left = vms_elsewhere(s, to, names, MOVE_VMS_MAX), k;
		size_t len;

		snprintf(s->move, sizeof s->move, "move to %s stopped (%s);"
			 " not there yet:", to->name, errno_name(-r));
		for (k = 0; k < left; k++) {
			len = strlen(s->move);
			snprintf(s->move + len, sizeof s->move - len, " %s",
				 names[k]);
		}
		if (left == 0 && s->home != to) {
			len = strlen(s->move);
			snprintf(s->move + len, sizeof s->move - len,
				 " gateway and DHCP");
		}
	}
	s->mtime = time(NULL);
	pthread_mutex_unlock(&m->lock);
	log_info("subnet %s/%s: %s", tname, name, s->move);
	state_save(m, NULL);
	free(names);
	return r;
}
