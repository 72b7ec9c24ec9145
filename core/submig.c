/* Subnet migration (DESIGN §5): `echo cloud2 > subnets/web/cloud` moves
 * the subnet's gateway and DHCP server to cloud2, the new dnsmasq starting
 * from the old one's lease file with every reservation in place (so that
 * no client is refused or renumbered, as Neutron does), then migrates every
 * VM of the subnet there (live when it runs), m->parallel at a time, each
 * with its share of the bandwidth cap. At the end nothing of the subnet is
 * left on the old cloud.
 *
 * The gateway's move is all or nothing, and so is each VM's (vm_migrate).
 * If a VM cannot move, the write returns its errno and the subnet's status
 * names the VMs still elsewhere: writing the cloud again moves them. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "external.h"
#include "movers.h"
#include "render.h"
#include "submig.h"
#include "subnet.h"
#include "tenant.h"
#include "txn.h"

static void set_move(struct model *m, struct subnet *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_move(struct model *m, struct subnet *s, const char *fmt, ...)
{
	char line[sizeof s->move];   /* movers call this at once */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&m->lock);
	memcpy(s->move, line, sizeof line);
	pthread_mutex_unlock(&m->lock);
	model_note(m, s->tenant->name);
	log_info("subnet %s/%s: %s", s->tenant->name, s->name, line);
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

/* What the handover needs of the subnet, taken under the lock. */
static int handover_take(struct model *m, struct subnet *s, struct cloud *old,
			 struct cloud *to, struct handover *h)
{
	uint64_t present;
	int r;

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
	h->nd.tenant = h->tenant;
	return r;
}

/* The steps, in order; *step says how far they got. */
static int handover_do(struct handover *h, struct hostdrv *on,
		       struct hostdrv *nn, int *step, int *pid, char *err)
{
	struct strbuf raw = STRBUF_INIT;
	int r = 0;

	/* 1: the old server stops; its lease file, final now, goes along */
	if (h->dhcp) {
		r = on->ops->dhcp_remove(on, h->vni, false, err);
		if (r == 0)
			*step = 1;
		if (r == 0)
			r = on->ops->dhcp_fetch(on, h->vni, &raw, err);
		dnsmasq_leases_filter(sb_str(&raw), &h->leases);
		sb_free(&raw);
	}
	/* 2: the gateway leaves the old cloud, 3: and comes to the new */
	if (r == 0 && (r = on->ops->subnet_ensure(on, &h->at_old, err)) == 0)
		*step = 2;
	if (r == 0)
		r = nn->ops->tenant_ensure(nn, h->tenant, err);
	if (r == 0 && (r = nn->ops->subnet_ensure(nn, &h->at_new, err)) == 0)
		*step = 3;
	/* 4: the new server, from the old leases */
	if (r == 0 && h->dhcp) {
		h->nd.leases = sb_str(&h->leases);
		r = nn->ops->dhcp_ensure(nn, &h->nd, pid, err);
		h->nd.leases = NULL;
		if (r == 0)
			*step = 4;
	}
	return r;
}

/* Back as it was, in reverse, from step. */
static void handover_undo(struct model *m, struct subnet *s,
			  struct handover *h, struct hostdrv *on,
			  struct hostdrv *nn, int step)
{
	int pid = 0;

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
	if (step >= 1 && on->ops->dhcp_ensure(on, &h->nd, &pid, NULL) == 0) {
		pthread_mutex_lock(&m->lock);
		s->dhcp.pid = pid;
		pthread_mutex_unlock(&m->lock);
	}
}

/* The subnet's home is to from now on, on disk too. */
static int handover_commit(struct model *m, struct txn *tx, struct subnet *s,
			   struct cloud *old, struct cloud *to, int pid,
			   char *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	s->home = to;
	s->dhcp.pid = pid;
	pthread_mutex_unlock(&m->lock);
	r = txn_ahead(tx, err);
	if (r) {
		pthread_mutex_lock(&m->lock);
		s->home = old;
		pthread_mutex_unlock(&m->lock);
	}
	return r;
}

/* The gateway and the DHCP server from old to to, or nowhere moved. */
static int move_home(struct model *m, struct txn *tx, struct subnet *s,
		     struct cloud *old, struct cloud *to, char *err)
{
	struct hostdrv *on = old->host, *nn = to->host;
	struct handover *h = calloc(1, sizeof *h);
	int r, step = 0, pid = 0;

	if (!h)
		return err_set(err, ENOMEM, "out of memory");
	if (handover_take(m, s, old, to, h)) {
		free(h);
		return err_set(err, ENOMEM, "out of memory");
	}
	subnet_lock(m, h->vni);
	r = handover_do(h, on, nn, &step, &pid, err);
	if (r == 0)
		r = handover_commit(m, tx, s, old, to, pid, err);
	if (r) {
		log_warnx("subnet %s/%s stays on %s: %s", h->tenant, s->name,
			  old->name, err);
		handover_undo(m, s, h, on, nn, step);
	} else if (h->dhcp) {
		on->ops->dhcp_remove(on, h->vni, true, NULL);
	}
	subnet_unlock(m, h->vni);
	tenant_tidy(m, h->tenant, r ? to : old);
	dhcp_net_free(&h->nd);
	sb_free(&h->leases);
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

/* One subnet's move: what its steps share. */
struct move {
	struct model *m;
	struct txn tx;      /* the move's: the new home ahead, then the end */
	const char *tenant, *name;
	struct subnet *s;
	struct cloud *to, *old;
	enum obj_state prev;
	char (*names)[NAME_MAXLEN + 1];  /* its VMs not on to yet */
	size_t n;
	bool home_only;     /* the gateway and DHCP alone (an evacuation) */
	unsigned share;     /* VMs moved at once */
	int64_t t0;
};

/* Takes the subnet for the move, under the lock: 1 when there is nothing
 * to move (all there already), 0 when it is taken, or -errno. */
static int move_take(struct move *mv, const char *cloud, char *err)
{
	struct model *m = mv->m;
	struct tenant *t = tenant_find_visible(m, mv->tenant);
	struct subnet *s = t ? subnet_find_visible(t, mv->name) : NULL;
	struct cloud *to = model_cloud(m, cloud);

	if (!s)
		return err_set(err, ENOENT, "no subnet %s in tenant %s",
			       mv->name, mv->tenant);
	if (!to)
		return err_set(err, ENOENT, "no cloud %s", cloud);
	if (to != s->home && external_check_home(m, mv->tenant, to, err))
		return -ENOENT;
	if (s->state != OBJ_READY && s->state != OBJ_ERROR)
		return err_set(err, EBUSY, "subnet %s is %s", mv->name,
			       obj_state_name(s->state));
	if (s->home != to && (!to->vtep_ip || !s->home->vtep_ip))
		return err_set(err, EINVAL, "clouds %s and %s need a vtep to "
			       "move a subnet between them", s->home->name,
			       to->name);
	mv->n = mv->home_only ? 0 : vms_elsewhere(s, to, mv->names,
						   MOVE_VMS_MAX);
	if (s->home == to && mv->n == 0)
		return 1;   /* all there already */
	if (cloud_takes(to, err))
		return -EBUSY;
	mv->s = s;
	mv->to = to;
	mv->old = s->home;
	mv->prev = s->state;
	s->state = OBJ_CHANGING;
	s->moving_to = to;
	return 0;
}

/* The network first: the subnet onto the target, then its gateway and
 * DHCP server there. */
static int move_network(struct move *mv, char *err)
{
	struct strbuf st = STRBUF_INIT;
	struct cloud *to = mv->to;
	int r = 0;

	to->host->ops->status(to->host, &st);
	if (strncmp(sb_str(&st), "up", 2))
		r = err_set(err, EHOSTUNREACH, "cloud %s is %s", to->name,
			    sb_str(&st));
	sb_free(&st);
	if (r || mv->old == to)
		return r;
	set_move(mv->m, mv->s, "moving to %s: the network", to->name);
	r = subnet_spread(mv->m, mv->tenant, mv->name, err);
	if (r)
		return r;
	set_move(mv->m, mv->s, "moving to %s: gateway and DHCP", to->name);
	r = move_home(mv->m, &mv->tx, mv->s, mv->old, to, err);
	if (r == 0)   /* the uplink and floating addresses follow at once */
		external_sync(mv->m, mv->tenant);
	return r;
}

/* Then its VMs, m->parallel at a time (movers.h); the first failure (or
 * the caller's Ctrl-C) starts no more, and those moving finish or roll
 * back (each VM's move is all or nothing). */
static void vms_progress(void *ctx, size_t done, size_t failed)
{
	struct move *mv = ctx;

	(void)failed;
	set_move(mv->m, mv->s, "moving to %s: %zu VM(s), %u at a time: %zu "
		 "moved", mv->to->name, mv->n, mv->share, done);
}

static int move_vms(struct move *mv, char *err)
{
	struct movers p = { .n = mv->n, .parallel = mv->m->parallel,
			    .ended = vms_progress, .ctx = mv };
	size_t i;
	int r;

	if (mv->n == 0)
		return 0;
	p.items = calloc(mv->n, sizeof *p.items);
	if (!p.items)
		return err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < mv->n; i++) {
		snprintf(p.items[i].tenant, sizeof p.items[i].tenant, "%s",
			 mv->tenant);
		snprintf(p.items[i].vm, sizeof p.items[i].vm, "%s",
			 mv->names[i]);
		p.items[i].to = mv->to;
	}
	mv->share = mv->n < p.parallel ? (unsigned)mv->n : p.parallel;
	vms_progress(mv, 0, 0);
	r = movers_run(mv->m, &p, err);
	free(p.items);
	return r;
}

/* The subnet's move line: how it went, or what is not there yet. The
 * caller holds the lock. */
static void move_summary(struct move *mv, int r)
{
	struct subnet *s = mv->s;
	size_t left, k, len;

	if (r == 0 && mv->home_only) {
		snprintf(s->move, sizeof s->move, "gateway and DHCP moved from "
			 "%s to %s in %lld ms", mv->old->name, mv->to->name,
			 (long long)(clock_ms() - mv->t0));
		return;
	}
	if (r == 0) {
		snprintf(s->move, sizeof s->move, "moved from %s to %s with "
			 "%zu VM(s) in %lld ms", mv->old->name, mv->to->name,
			 mv->n, (long long)(clock_ms() - mv->t0));
		return;
	}
	left = mv->home_only ? 0 : vms_elsewhere(s, mv->to, mv->names,
						 MOVE_VMS_MAX);
	snprintf(s->move, sizeof s->move, "move to %s stopped (%s); not "
		 "there yet:", mv->to->name, errno_name(-r));
	for (k = 0; k < left; k++) {
		len = strlen(s->move);
		snprintf(s->move + len, sizeof s->move - len, " %s",
			 mv->names[k]);
	}
	if (left == 0 && s->home != mv->to) {
		len = strlen(s->move);
		snprintf(s->move + len, sizeof s->move - len,
			 " gateway and DHCP");
	}
}

/* The subnet free again; what the old cloud no longer hosts leaves it. */
static void move_end(struct move *mv, int r, char *err)
{
	struct model *m = mv->m;

	pthread_mutex_lock(&m->lock);
	mv->s->moving_to = NULL;
	mv->s->state = mv->prev;
	pthread_mutex_unlock(&m->lock);
	if (subnet_spread(m, mv->tenant, mv->name, r ? NULL : err) && r == 0)
		log_warnx("subnet %s/%s: left on a cloud: %s", mv->tenant,
			  mv->name, err);
	pthread_mutex_lock(&m->lock);
	move_summary(mv, r);
	mv->s->mtime = time(NULL);
	pthread_mutex_unlock(&m->lock);
	model_note(m, mv->tenant);
	log_info("subnet %s/%s: %s", mv->tenant, mv->name, mv->s->move);
	txn_commit(&mv->tx, NULL);
	external_sync(m, mv->tenant);   /* the uplink follows the gateway */
}

static int subnet_move(struct model *m, const char *tname, const char *name,
		       const char *cloud, bool home_only, char *err)
{
	struct move mv = { .m = m, .tenant = tname, .name = name,
			   .home_only = home_only, .t0 = clock_ms() };
	int r;

	r = name_check(cloud, "cloud", err);
	if (r)
		return r;
	mv.names = calloc(MOVE_VMS_MAX, sizeof *mv.names);
	if (!mv.names)
		return err_set(err, ENOMEM, "out of memory");
	txn_begin(&mv.tx, m, NULL);
	pthread_mutex_lock(&m->lock);
	r = move_take(&mv, cloud, err);
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		model_note(m, tname);
	if (r == 0) {
		r = move_network(&mv, err);
		if (r == 0)
			r = move_vms(&mv, err);
		move_end(&mv, r, err);
	} else {
		txn_end(&mv.tx);   /* nothing moved */
	}
	free(mv.names);
	return r > 0 ? 0 : r;
}

int subnet_set_cloud(struct model *m, const char *tname, const char *name,
		     const char *cloud, char *err)
{
	return subnet_move(m, tname, name, cloud, false, err);
}

int subnet_move_home(struct model *m, const char *tname, const char *name,
		     const char *cloud, char *err)
{
	return subnet_move(m, tname, name, cloud, true, err);
}
