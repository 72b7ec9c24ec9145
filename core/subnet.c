#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "external.h"
#include "names.h"
#include "render.h"
#include "subnet.h"
#include "tenant.h"
#include "txn.h"

struct subnet_req {
	struct cidr cidr;
	char name[NAME_MAXLEN + 1];
	char cloud[NAME_MAXLEN + 1];
	bool dhcp;
};

/* "CIDR [name=NAME] [cloud=CLOUD] [dhcp=on|off]", each option once. */
static int subnet_parse(const char *line, struct subnet_req *req, char *err)
{
	char buf[512], *tok, *save = NULL;
	bool seen_name = false, seen_cloud = false, seen_dhcp = false;
	int r;

	memset(req, 0, sizeof *req);
	req->dhcp = true;
	if (strlen(line) >= sizeof buf)
		return err_set(err, EINVAL, "line too long");
	snprintf(buf, sizeof buf, "%s", line);
	tok = strtok_r(buf, " \t", &save);
	if (!tok)
		return err_set(err, EINVAL, "expected \"CIDR [name=NAME] "
			       "[cloud=CLOUD] [dhcp=on|off]\"");
	r = cidr_parse(tok, &req->cidr, err);
	if (r)
		return r;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');
		const char *v = eq ? eq + 1 : "";
		bool *seen;

		if (eq)
			*eq = '\0';
		if (!strcmp(tok, "name"))
			seen = &seen_name;
		else if (!strcmp(tok, "cloud"))
			seen = &seen_cloud;
		else if (!strcmp(tok, "dhcp"))
			seen = &seen_dhcp;
		else
			return err_set(err, EINVAL, "unknown option '%.40s' "
				       "(expected name=, cloud= or dhcp=)",
				       tok);
		if (!eq)
			return err_set(err, EINVAL, "option %s needs a value "
				       "(%s=...)", tok, tok);
		if (*seen)
			return err_set(err, EINVAL, "option %s given twice",
				       tok);
		*seen = true;
		if (seen == &seen_dhcp) {
			if (strcmp(v, "on") && strcmp(v, "off"))
				return err_set(err, EINVAL, "dhcp must be on "
					       "or off, not '%.40s'", v);
			req->dhcp = !strcmp(v, "on");
			continue;
		}
		r = name_check(v, seen == &seen_name ? "subnet" : "cloud",
			       err);
		if (r)
			return r;
		snprintf(seen == &seen_name ? req->name : req->cloud,
			 NAME_MAXLEN + 1, "%s", v);
	}
	if (!seen_name)
		cidr_dirname(&req->cidr, req->name);
	return 0;
}

/* The subnet's part on each cloud of mask. */
static int ensure_on(struct model *m, uint64_t mask,
		     const struct net_subnet ns[CLOUDS_MAX], char *err)
{
	struct hostdrv *d;
	size_t i;
	int r = 0;

	for (i = 0; i < m->nclouds && r == 0; i++)
		if (mask & (1ull << i)) {
			d = m->clouds[i]->host;
			r = d->ops->subnet_ensure(d, &ns[i], err);
		}
	return r;
}

int subnet_spread(struct model *m, const char *tname, const char *sname,
		  char *err)
{
	struct net_subnet ns[CLOUDS_MAX];
	uint32_t remotes[CLOUDS_MAX][CLOUDS_MAX];
	char tenant[NAME_MAXLEN + 1];
	uint64_t want = 0, had = 0;
	struct tenant *t;
	struct subnet *s = NULL;
	uint32_t vni = 0;
	size_t i;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tname);
	if (t)
		s = subnet_find(t, sname);
	if (s && s->state != OBJ_CREATING && s->state != OBJ_DELETING) {
		vni = s->vni;
		snprintf(tenant, sizeof tenant, "%s", tname);
	} else {
		s = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	if (!s)
		return 0;

	subnet_lock(m, vni);
	pthread_mutex_lock(&m->lock);
	want = subnet_presence(m, s);
	had = s->present;
	for (i = 0; i < m->nclouds; i++)
		if (want & (1ull << i)) {
			subnet_net(m, s, m->clouds[i], want, remotes[i], &ns[i]);
			ns[i].tenant = tenant;
		}
	pthread_mutex_unlock(&m->lock);
	/* Every cloud it stays on or comes to, the newcomers first, so that
	 * the network is there before the VMs that need it. */
	r = ensure_on(m, want & ~had, ns, err);
	if (r == 0)
		r = ensure_on(m, want & had, ns, err);
	for (i = 0; i < m->nclouds && r == 0; i++)
		if ((had & ~want) & (1ull << i) &&
		    m->clouds[i]->host->ops->subnet_remove(m->clouds[i]->host,
							  tenant, vni, err))
			log_warnx("subnet %s/%s stays on cloud %s: %s", tenant,
				  sname, m->clouds[i]->name, err);
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		s->present = want;
		pthread_mutex_unlock(&m->lock);
	}
	subnet_unlock(m, vni);
	return r;
}

/* Makes a subnet real on its home cloud: namespace, bridge, veth, gateway,
 * dnsmasq. Undoes its own steps when one fails. */
static int subnet_make(struct model *m, struct cloud *home,
		       const struct net_subnet *ns, const struct net_dhcp *nd,
		       int *pid, char *err)
{
	struct hostdrv *d = home->host;
	int r;

	*pid = 0;
	r = d->ops->tenant_ensure(d, ns->tenant, err);
	if (r)
		return r;
	r = d->ops->subnet_ensure(d, ns, err);
	if (r)
		return r;
	if (nd) {
		subnet_lock(m, ns->vni);
		r = d->ops->dhcp_ensure(d, nd, pid, err);
		subnet_unlock(m, ns->vni);
		if (r)
			d->ops->subnet_remove(d, ns->tenant, ns->vni, NULL);
	}
	return r;
}

/* Removes a subnet from every cloud it is on, its dnsmasq first. */
static int subnet_unmake(struct model *m, struct cloud *home,
			 uint64_t present, const char *tenant, uint32_t vni,
			 char *err)
{
	struct hostdrv *d = home->host;
	size_t i;
	int r;

	subnet_lock(m, vni);
	r = d->ops->dhcp_remove(d, vni, true, err);
	for (i = 0; i < m->nclouds && r == 0; i++)
		if (present & (1ull << i))
			r = m->clouds[i]->host->ops->subnet_remove(
				m->clouds[i]->host, tenant, vni, err);
	subnet_unlock(m, vni);
	return r;
}

/* The VMs of a tenant that sit on a subnet, for EBUSY messages. */
static size_t subnet_users(const struct subnet *s, char *names, size_t len)
{
	const struct vm *v;
	size_t i, n = 0;

	names[0] = '\0';
	objset_each(&s->tenant->vms, i, v) {
		if (strcmp(v->conf.subnet, s->name))
			continue;
		if (n++ < 4 && strlen(names) + strlen(v->name) + 3 < len) {
			if (names[0])
				strcat(names, ", ");
			strcat(names, v->name);
		}
	}
	return n;
}

static int subnet_reserve(struct model *m, const char *tname,
			  const struct subnet_req *req, struct subnet **out,
			  char *err)
{
	char a[CIDR_STRLEN], b[CIDR_STRLEN];
	struct tenant *t = tenant_find_visible(m, tname);
	struct cloud *home;
	struct subnet *s, *o;
	uint32_t vni;
	size_t i;
	int r;

	if (!t)
		return err_set(err, ENOENT, "no tenant %s", tname);
	if (t->state != OBJ_READY && t->state != OBJ_ERROR)
		return err_set(err, EBUSY, "tenant %s is %s", tname,
			       obj_state_name(t->state));
	home = req->cloud[0] ? model_cloud(m, req->cloud)
			     : model_place_default(m);
	if (!home)
		return err_set(err, ENOENT, "no cloud %s", req->cloud);
	if ((r = cloud_takes(home, err)))
		return r;
	if ((r = external_check_home(m, tname, home, err)))
		return r;
	if (names_reserved(NAMES_SUBNETS, req->name))
		return err_set(err, EEXIST, "'%s' is a name maasfs uses in "
			       "subnets/", req->name);
	if (subnet_find(t, req->name))
		return err_set(err, EEXIST, "subnet %s exists in tenant %s",
			       req->name, tname);
	objset_each(&t->subnets, i, o)
		if (cidr_overlap(&o->cidr, &req->cidr)) {
			cidr_format(&req->cidr, a);
			cidr_format(&o->cidr, b);
			return err_set(err, EEXIST, "%s overlaps %s (subnet %s)",
				       a, b, o->name);
		}
	if ((r = quota_check(t, 1, NULL, NULL, err)))
		return r;
	r = idset_alloc(&m->vnis, m->vni_min, m->vni_max, &vni);
	if (r)
		return err_set(err, -r, "no free VNI in %u-%u", m->vni_min,
			       m->vni_max);
	s = subnet_new(t, req->name, &req->cidr, vni, home);
	if (!s || objset_add(&t->subnets, s)) {
		idset_put(&m->vnis, vni);
		subnet_free(s);
		return err_set(err, ENOMEM, "out of memory");
	}
	s->state = OBJ_CREATING;
	if (req->dhcp) {
		dhcp_defaults(s, &s->dhcp);
		s->dhcp.on = true;
	}
	*out = s;
	return 0;
}

static void subnet_unreserve(struct model *m, struct subnet *s)
{
	objset_del(&s->tenant->subnets, s);
	idset_put(&m->vnis, s->vni);
}

/* The state file takes the subnet while the kernel work goes on: both
 * are done before the write returns, in the time of the longer. Killed in
 * between, the next mount makes what the file lists (DESIGN §7); a
 * failure here takes it out again. */
static int subnet_make_ahead(struct model *m, struct txn *x, struct subnet *s,
			     const struct net_subnet *ns,
			     const struct net_dhcp *nd, int *pid, char *err)
{
	int r, saved;

	txn_ahead_start(x);
	r = subnet_make(m, s->home, ns, s->dhcp.on ? nd : NULL, pid, err);
	saved = txn_ahead_wait(x, r ? NULL : err);
	if (r == 0 && saved) {
		subnet_unmake(m, s->home, s->present, s->tenant->name, s->vni,
			      NULL);
		r = saved;
	}
	return r;
}

int subnet_create(struct model *m, const char *tname, const char *line,
		  char *err)
{
	struct subnet_req req;
	struct net_subnet ns;
	struct net_dhcp nd;
	uint32_t remotes[CLOUDS_MAX];
	struct subnet *s = NULL;
	struct cloud *home = NULL;
	char cidr[CIDR_STRLEN];
	struct txn x;
	int r, pid = 0;

	r = subnet_parse(line, &req, err);
	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	r = subnet_reserve(m, tname, &req, &s, err);
	if (r == 0) {
		subnet_net(m, s, s->home, 0, remotes, &ns);
		dhcp_net(s, &s->dhcp, &nd);   /* a new subnet: no hosts */
		home = s->home;
		s->present = 1ull << cloud_index(m, home);
		s->intent = true;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;

	txn_begin(&x, m, s->tenant);
	r = subnet_make_ahead(m, &x, s, &ns, &nd, &pid, err);
	pthread_mutex_lock(&m->lock);
	s->intent = false;
	if (r == 0) {
		s->state = OBJ_READY;
		s->dhcp.pid = pid;
	} else {
		subnet_unreserve(m, s);
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		txn_commit(&x, NULL);   /* it goes from the file again */
		subnet_free(s);
		return r;
	}
	txn_end(&x);   /* the file took it ahead */
	cidr_format(&s->cidr, cidr);
	log_info("subnet %s/%s created: %s, VNI %u, on %s, DHCP %s", tname,
		 s->name, cidr, s->vni, home->name,
		 s->dhcp.on ? "on" : "off");
	external_sync(m, tname);
	return 0;
}

/* A subnet going: what its removal (and putting it back) needs. */
struct subnet_gone {
	struct subnet *s;
	enum obj_state prev;
	struct cloud *home;
	bool dhcp_on;
	uint64_t present;
	struct net_subnet ns;
	struct net_dhcp nd;
	uint32_t remotes[CLOUDS_MAX];
};

/* Takes the subnet for its removal (DELETING), under the lock. */
static int subnet_take_gone(struct model *m, const char *tname,
			    const char *name, struct subnet_gone *g, char *err)
{
	struct tenant *t = tenant_find_visible(m, tname);
	struct subnet *s = t ? subnet_find_visible(t, name) : NULL;
	char users[128];
	size_t n;

	if (!s)
		return err_set(err, ENOENT, "no subnet %s in tenant %s", name,
			       tname);
	if (s->state == OBJ_CHANGING || s->state == OBJ_DELETING)
		return err_set(err, EBUSY, "subnet %s is %s", name,
			       obj_state_name(s->state));
	if ((n = subnet_users(s, users, sizeof users)))
		return err_set(err, EBUSY, "subnet %s is used by %zu VM(s): "
			       "%s", name, n, users);
	g->s = s;
	g->prev = s->state;
	s->state = OBJ_DELETING;
	g->home = s->home;
	g->dhcp_on = s->dhcp.on;
	g->present = s->present | (1ull << cloud_index(m, s->home));
	subnet_net(m, s, s->home, 0, g->remotes, &g->ns);
	dhcp_net(s, &s->dhcp, &g->nd);   /* no VMs: no hosts */
	return 0;
}

int subnet_delete(struct model *m, const char *tname, const char *name,
		  char *err)
{
	struct subnet_gone g;
	struct txn x;
	int r, pid;

	memset(&g, 0, sizeof g);
	pthread_mutex_lock(&m->lock);
	r = subnet_take_gone(m, tname, name, &g, err);
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	/* Off the state first: a crash from here leaves kernel objects the
	 * next mount's sweep removes. */
	txn_begin(&x, m, g.s->tenant);
	r = txn_ahead(&x, err);
	if (r == 0) {
		r = subnet_unmake(m, g.home, g.present, tname, g.ns.vni, err);
		/* Put back what went, so that a failed rmdir changes nothing. */
		if (r && g.prev == OBJ_READY)
			subnet_make(m, g.home, &g.ns, g.dhcp_on ? &g.nd : NULL,
				    &pid, NULL);
	}
	pthread_mutex_lock(&m->lock);
	if (r)
		g.s->state = g.prev;
	else
		subnet_unreserve(m, g.s);
	pthread_mutex_unlock(&m->lock);
	if (r) {
		txn_commit(&x, NULL);   /* it is listed again */
		return r;
	}
	txn_end(&x);
	log_info("subnet %s/%s deleted", tname, name);
	subnet_free(g.s);
	external_sync(m, tname);
	tenant_tidy(m, tname, g.home);
	return 0;
}

/* A plan's new subnet (plan.h): subnet_create's checks and its place in
 * the model, nothing made on a cloud. */
int subnet_plan_create(struct model *m, const char *tname, const char *line,
		       char *err)
{
	struct subnet_req req;
	struct subnet *s = NULL;
	int r = subnet_parse(line, &req, err);

	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	r = subnet_reserve(m, tname, &req, &s, err);
	if (r == 0) {
		s->present = 1ull << cloud_index(m, s->home);
		s->state = OBJ_READY;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int subnet_plan_delete(struct model *m, const char *tname, const char *name,
		       char *err)
{
	struct tenant *t;
	struct subnet *s;
	char users[128];
	size_t n;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, tname);
	s = t ? subnet_find_visible(t, name) : NULL;
	if (!s)
		r = err_set(err, ENOENT, "no subnet %s in tenant %s", name,
			    tname);
	else if (s->state == OBJ_CHANGING || s->state == OBJ_DELETING)
		r = err_set(err, EBUSY, "subnet %s is %s", name,
			    obj_state_name(s->state));
	else if ((n = subnet_users(s, users, sizeof users)))
		r = err_set(err, EBUSY, "subnet %s is used by %zu VM(s): %s",
			    name, n, users);
	else
		subnet_unreserve(m, s);
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		subnet_free(s);
	return r;
}
