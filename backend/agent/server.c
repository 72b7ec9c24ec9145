/* The agent: requests in, the local network driver, answers out. Every
 * field is checked against its grammar before anything is done with it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../host.h"
#include "agent.h"
#include "proto.h"

#define AGENT_HOSTS_MAX 4096
#define AGENT_VTEPS_MAX 64

struct agentd {
	struct hostdrv *host;
	char statedir[PATH_MAX];
	char dnsmasq[PATH_MAX];
	char disks[PATH_MAX];
	char images[PATH_MAX];
};

static int bad(char *err, const char *key)
{
	return err_set(err, EINVAL, "bad or missing field '%s'", key);
}

static int get_name(const struct agent_msg *m, const char *key,
		    const char **out, char *err)
{
	const char *v = amsg_get(m, key);

	if (!v || !name_valid(v))
		return bad(err, key);
	*out = v;
	return 0;
}

static int get_uint(const struct agent_msg *m, const char *key,
		    unsigned long min, unsigned long max, unsigned long *out,
		    char *err)
{
	const char *v = amsg_get(m, key);
	char *end;

	if (!v || *v < '0' || *v > '9')
		return bad(err, key);
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (*end || errno || *out < min || *out > max)
		return bad(err, key);
	return 0;
}

static int get_ip(const struct agent_msg *m, const char *key, bool optional,
		  uint32_t *out, char *err)
{
	const char *v = amsg_get(m, key);

	*out = 0;
	if (optional && v && (!*v || !strcmp(v, "-")))
		return 0;
	if (!v || ip_parse(v, out))
		return bad(err, key);
	return 0;
}

/* "A B C": addresses, at most max. */
static int get_ips(const struct agent_msg *m, const char *key, uint32_t *out,
		   size_t max, size_t *n, char *err)
{
	const char *v = amsg_get(m, key);
	char buf[AGENT_VTEPS_MAX * IP_STRLEN], *tok, *save = NULL;

	*n = 0;
	if (!v || strlen(v) >= sizeof buf)
		return bad(err, key);
	snprintf(buf, sizeof buf, "%s", v);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (*n == max || ip_parse(tok, &out[*n]))
			return bad(err, key);
		(*n)++;
	}
	return 0;
}

static int do_subnet_ensure(struct agentd *a, const struct agent_msg *m,
			    char *err)
{
	uint32_t remotes[AGENT_VTEPS_MAX];
	struct net_subnet s = { .remotes = remotes };
	unsigned long vni, prefix, mtu, home;
	int r;

	if ((r = get_name(m, "tenant", &s.tenant, err)) ||
	    (r = get_uint(m, "vni", 1, 16777215, &vni, err)) ||
	    (r = get_uint(m, "prefix", 8, 30, &prefix, err)) ||
	    (r = get_uint(m, "mtu", 576, 9000, &mtu, err)) ||
	    (r = get_uint(m, "home", 0, 1, &home, err)) ||
	    (r = get_ip(m, "gateway", !home, &s.gateway, err)) ||
	    (r = get_ip(m, "vtep", true, &s.vtep, err)) ||
	    (r = get_ips(m, "remotes", remotes, AGENT_VTEPS_MAX, &s.nremotes,
			 err)))
		return r;
	s.vni = (uint32_t)vni;
	s.prefix = (unsigned)prefix;
	s.mtu = (unsigned)mtu;
	s.home = home;
	return a->host->ops->subnet_ensure(a->host, &s, err);
}

/* "ADDR=FIXED ...": the floating addresses (none if left out). */
static int get_floats(const struct agent_msg *m, struct net_float *out,
		      size_t *n, char *err)
{
	const char *v = amsg_get(m, "floats");
	char buf[NET_FLOATS_MAX * 2 * IP_STRLEN], *tok, *eq, *save = NULL;

	*n = 0;
	if (!v)
		return 0;
	if (strlen(v) >= sizeof buf)
		return bad(err, "floats");
	snprintf(buf, sizeof buf, "%s", v);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		eq = strchr(tok, '=');
		if (*n == NET_FLOATS_MAX || !eq)
			return bad(err, "floats");
		*eq = '\0';
		if (ip_parse(tok, &out[*n].addr) ||
		    ip_parse(eq + 1, &out[*n].fixed))
			return bad(err, "floats");
		(*n)++;
	}
	return 0;
}

static int do_uplink_ensure(struct agentd *a, const struct agent_msg *m,
			    char *err)
{
	static __thread struct net_float floats[NET_FLOATS_MAX];
	struct net_uplink u = { 0 };
	unsigned long id, prefix;
	int r;

	if ((r = get_name(m, "tenant", &u.tenant, err)) ||
	    (r = get_uint(m, "id", 1, 999999999, &id, err)) ||
	    (r = get_uint(m, "prefix", 8, 30, &prefix, err)) ||
	    (r = get_ip(m, "addr", false, &u.addr, err)) ||
	    (r = get_ip(m, "gateway", false, &u.gateway, err)) ||
	    (r = get_name(m, "bridge", &u.bridge, err)) ||
	    (r = get_floats(m, floats, &u.nfloats, err)))
		return r;
	u.floats = floats;
	if (strlen(u.bridge) > 15)
		return bad(err, "bridge");
	u.id = (unsigned)id;
	u.prefix = (unsigned)prefix;
	return a->host->ops->uplink_ensure(a->host, &u, err);
}

/* The ports_apply request, parsed; freed by ports_req_free. */
struct ports_req {
	struct net_ports ps;
	struct net_port *p;
	struct net_set *sets;
	uint32_t *ips;
	struct net_rule *rules;
	char *pbuf, *sbuf;
};

static void ports_req_free(struct ports_req *q)
{
	free(q->p);
	free(q->sets);
	free(q->ips);
	free(q->rules);
	free(q->pbuf);
	free(q->sbuf);
}

/* sets: one line per set, "IP IP ..." or "-" for none. */
static int parse_sets(struct ports_req *q, char *err)
{
	char *line, *tok, *s1 = NULL, *s2;
	size_t nips = 0;

	for (line = strtok_r(q->sbuf, "\n", &s1); line;
	     line = strtok_r(NULL, "\n", &s1)) {
		struct net_set *st = &q->sets[q->ps.nsets];

		if (q->ps.nsets == NET_SETS_MAX)
			return bad(err, "sets");
		st->ips = q->ips + nips;
		s2 = NULL;
		for (tok = strtok_r(line, " ", &s2); tok && strcmp(tok, "-");
		     tok = strtok_r(NULL, " ", &s2))
			if (ip_parse(tok, &q->ips[nips++]))
				return bad(err, "sets");
		st->n = (size_t)(q->ips + nips - st->ips);
		q->ps.nsets++;
	}
	return 0;
}

/* "i|o:PROTO:LO:HI:@SET|NET/PREFIX" */
static int parse_rule(char *tok, struct net_rule *r)
{
	unsigned proto, lo, hi, prefix;
	char dir, peer[40], a[IP_STRLEN], extra;

	if (sscanf(tok, "%c:%u:%u:%u:%39s%c", &dir, &proto, &lo, &hi, peer,
		   &extra) != 5 || (dir != 'i' && dir != 'o') || proto > 255 ||
	    lo > 65535 || hi > 65535)
		return -1;
	r->in = dir == 'i';
	r->proto = (uint8_t)proto;
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	r->set = -1;
	if (peer[0] == '@')
		return sscanf(peer + 1, "%d%c", &r->set, &extra) == 1 &&
		       r->set >= 0 ? 0 : -1;
	if (sscanf(peer, "%15[0-9.]/%u%c", a, &prefix, &extra) != 2 ||
	    prefix > 32 || ip_parse(a, &r->net))
		return -1;
	r->prefix = prefix;
	return 0;
}

/* ports: "TAP MAC IP BRIDGE GATEWAY RULE..." lines. */
static int parse_ports(struct ports_req *q, size_t maxrules, char *err)
{
	char *line, *s1 = NULL, *s2, *f[5], *tok;
	size_t nr = 0, k;

	for (line = strtok_r(q->pbuf, "\n", &s1); line;
	     line = strtok_r(NULL, "\n", &s1)) {
		struct net_port *x = &q->p[q->ps.n];

		s2 = NULL;
		for (k = 0; k < 5; k++)
			f[k] = strtok_r(k ? NULL : line, " ", &s2);
		if (q->ps.n == NET_PORTS_MAX || !f[4] ||
		    strlen(f[0]) >= sizeof x->tap || strlen(f[1]) >= sizeof x->mac
		    || strlen(f[3]) >= sizeof x->bridge || ip_parse(f[2], &x->ip)
		    || ip_parse(f[4], &x->gateway))
			return bad(err, "ports");
		strcpy(x->tap, f[0]);
		strcpy(x->mac, f[1]);
		strcpy(x->bridge, f[3]);
		x->rules = q->rules + nr;
		while ((tok = strtok_r(NULL, " ", &s2)))
			if (nr == maxrules || parse_rule(tok, &q->rules[nr++]))
				return bad(err, "ports");
		x->nrules = (size_t)(q->rules + nr - x->rules);
		q->ps.n++;
	}
	return 0;
}

static int do_ports_apply(struct agentd *a, const struct agent_msg *m,
			  char *err)
{
	const char *pv = amsg_get(m, "ports"), *sv = amsg_get(m, "sets");
	struct ports_req q = { .ps = { 0 } };
	unsigned long id;
	size_t plen = pv ? strlen(pv) : 0, slen = sv ? strlen(sv) : 0;
	int r;

	if ((r = get_uint(m, "id", 1, 999999999, &id, err)))
		return r;
	if (!pv || !sv)
		return bad(err, pv ? "sets" : "ports");
	q.pbuf = strdup(pv);
	q.sbuf = strdup(sv);
	q.p = calloc(plen / 40 + 1, sizeof *q.p);
	q.sets = calloc(NET_SETS_MAX, sizeof *q.sets);
	q.ips = calloc(slen / 2 + 1, sizeof *q.ips);
	q.rules = calloc(plen / 10 + 1, sizeof *q.rules);
	if (!q.pbuf || !q.sbuf || !q.p || !q.sets || !q.ips || !q.rules)
		r = err_set(err, ENOMEM, "out of memory");
	if (r == 0 && (r = parse_sets(&q, err)) == 0)
		r = parse_ports(&q, plen / 10 + 1, err);
	q.ps.id = (unsigned)id;
	q.ps.p = q.p;
	q.ps.sets = q.sets;
	if (r == 0)
		r = a->host->ops->ports_apply(a->host, &q.ps, err);
	ports_req_free(&q);
	return r;
}

/* "MAC IP NAME" lines: the reservations. */
static int get_hosts(const struct agent_msg *m, struct dhcp_host **out,
		     size_t *n, char *buf, char *err)
{
	const char *v = amsg_get(m, "hosts");
	struct dhcp_host *h;
	char *line, *save = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!v)
		return bad(err, "hosts");
	strcpy(buf, v);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *in = NULL, *mac = strtok_r(line, " ", &in);
		char *ip = strtok_r(NULL, " ", &in);
		char *name = strtok_r(NULL, " ", &in);

		if (*n == AGENT_HOSTS_MAX || !mac || !ip || !name ||
		    strtok_r(NULL, " ", &in) || !mac_valid(mac) ||
		    !dns_name_valid(name) || strchr(name, '.'))
			goto fail;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			h = realloc(*out, cap * sizeof *h);
			if (!h)
				goto fail;
			*out = h;
		}
		(*out)[*n].mac = mac;
		(*out)[*n].name = name;
		if (ip_parse(ip, &(*out)[*n].ip))
			goto fail;
		(*n)++;
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	return bad(err, "hosts");
}

static int do_dhcp_ensure(struct agentd *a, const struct agent_msg *m,
			  struct agent_msg *ans, char *err)
{
	struct net_dhcp c = { 0 };
	struct dhcp_host *hosts = NULL;
	unsigned long vni, prefix, mtu;
	const char *forget = amsg_get(m, "forget");
	const char *hv = amsg_get(m, "hosts");
	char *buf = hv ? malloc(strlen(hv) + 1) : NULL;
	int r, pid = 0;

	if (!buf)
		return bad(err, "hosts");
	if ((r = get_name(m, "tenant", &c.tenant, err)) ||
	    (r = get_uint(m, "vni", 1, 16777215, &vni, err)) ||
	    (r = get_ip(m, "server", false, &c.server, err)) ||
	    (r = get_uint(m, "prefix", 8, 30, &prefix, err)) ||
	    (r = get_ip(m, "first", false, &c.first, err)) ||
	    (r = get_ip(m, "last", false, &c.last, err)) ||
	    (r = get_uint(m, "mtu", 576, 9000, &mtu, err)) ||
	    (r = get_hosts(m, &hosts, &c.nhosts, buf, err)))
		goto out;
	c.domain = amsg_get(m, "domain");
	if (!c.domain || !dns_name_valid(c.domain)) {
		r = bad(err, "domain");
		goto out;
	}
	if (forget && *forget && !mac_valid(forget)) {
		r = bad(err, "forget");
		goto out;
	}
	c.leases = amsg_get(m, "leases");
	if (c.leases && *c.leases && !dnsmasq_leases_valid(c.leases)) {
		r = bad(err, "leases");
		goto out;
	}
	if (c.leases && !*c.leases)
		c.leases = NULL;
	c.vni = (uint32_t)vni;
	c.prefix = (unsigned)prefix;
	c.mtu = (unsigned)mtu;
	c.hosts = hosts;
	c.forget = forget && *forget ? forget : NULL;
	r = a->host->ops->dhcp_ensure(a->host, &c, &pid, err);
	if (r == 0)
		amsg_put(ans, "pid", "%d", pid);
out:
	free(hosts);
	free(buf);
	return r;
}

static bool bit(const char *s)
{
	return !strcmp(s, "0") || !strcmp(s, "1");
}

static int cmp_vni(const void *x, const void *y)
{
	const struct net_keep_subnet *a = x, *b = y;

	return a->vni < b->vni ? -1 : a->vni > b->vni;
}

struct keep_tenant {
	const char *name;
	unsigned uplink, ports;
};

static int cmp_name(const void *x, const void *y)
{
	return strcmp(((const struct keep_tenant *)x)->name,
		      ((const struct keep_tenant *)y)->name);
}

static bool keep_id(const char *s, unsigned *out)
{
	char *end = NULL;
	unsigned long v = s && *s != '-' ? strtoul(s, &end, 10) : 0;

	*out = (unsigned)v;
	return s && *s != '-' && !*end && v <= UINT32_MAX;
}

/* "NAME UPLINK-ID PORTS-ID" lines (0: none here) into kt[], sorted, then
 * into keep's arrays (names[], ids[] (uplinks, then ports); each as long
 * as kt[]). */
static int parse_keep_tenants(char *tb, struct keep_tenant *kt,
			      const char **names, unsigned *ids,
			      struct net_keep *keep, char *err)
{
	char *line, *save = NULL;
	size_t nt = 0, i;

	for (line = strtok_r(tb, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *in = NULL, *name = strtok_r(line, " ", &in);
		char *up = strtok_r(NULL, " ", &in);
		char *ports = strtok_r(NULL, " ", &in);

		if (!name || !name_valid(name) ||
		    !keep_id(up, &kt[nt].uplink) ||
		    !keep_id(ports, &kt[nt].ports) || strtok_r(NULL, " ", &in))
			return bad(err, "tenants");
		kt[nt++].name = name;
	}
	qsort(kt, nt, sizeof *kt, cmp_name);
	for (i = 0; i < nt; i++) {
		names[i] = kt[i].name;
		ids[i] = kt[i].uplink;
		ids[nt + i] = kt[i].ports;
	}
	keep->tenants = names;
	keep->uplinks = ids;
	keep->ports = ids + nt;
	keep->ntenants = nt;
	return 0;
}

/* "VNI TENANT DHCP HOME" lines into subnets[], sorted, and keep. */
static int parse_keep_subnets(char *sb, struct net_keep_subnet *subnets,
			      struct net_keep *keep, char *err)
{
	char *line, *save = NULL;
	size_t ns = 0;

	for (line = strtok_r(sb, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *in = NULL, *v = strtok_r(line, " ", &in);
		char *tenant = strtok_r(NULL, " ", &in);
		char *dhcp = strtok_r(NULL, " ", &in);
		char *home = strtok_r(NULL, " ", &in);
		char *end = NULL;
		unsigned long vni = v ? strtoul(v, &end, 10) : 0;

		if (!v || *end || vni < 1 || vni > 16777215 || !tenant ||
		    !name_valid(tenant) || !dhcp || !home ||
		    strtok_r(NULL, " ", &in) || !bit(dhcp) || !bit(home))
			return bad(err, "subnets");
		subnets[ns].vni = (uint32_t)vni;
		subnets[ns].tenant = tenant;
		subnets[ns].dhcp = *dhcp == '1';
		subnets[ns].home = *home == '1';
		ns++;
	}
	qsort(subnets, ns, sizeof *subnets, cmp_vni);
	keep->subnets = subnets;
	keep->nsubnets = ns;
	return 0;
}

/* tenants: "NAME UPLINK-ID" lines; subnets: "VNI TENANT DHCP HOME". */
static int do_sweep(struct agentd *a, const struct agent_msg *m,
		    struct agent_msg *ans, char *err)
{
	const char *tv = amsg_get(m, "tenants"), *sv = amsg_get(m, "subnets");
	char *tb = tv ? strdup(tv) : NULL, *sb = sv ? strdup(sv) : NULL;
	size_t nmax = tv ? strlen(tv) / 4 + 2 : 0;
	struct keep_tenant *kt = calloc(nmax, sizeof *kt);
	const char **names = calloc(nmax, sizeof *names);
	unsigned *ids = calloc(2 * nmax, sizeof *ids);
	struct net_keep_subnet *subnets = NULL;
	struct net_keep keep = { 0 };
	int r;

	if (!tb || !sb) {
		r = bad(err, tb ? "subnets" : "tenants");
		goto out;
	}
	subnets = calloc(strlen(sv) / 8 + 2, sizeof *subnets);
	if (!kt || !names || !ids || !subnets) {
		r = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	r = parse_keep_tenants(tb, kt, names, ids, &keep, err);
	if (r == 0)
		r = parse_keep_subnets(sb, subnets, &keep, err);
	if (r == 0)
		r = a->host->ops->sweep(a->host, &keep, err);
	if (r >= 0) {
		amsg_put(ans, "removed", "%d", r);
		r = 0;
	}
out:
	free(kt);
	free(names);
	free(ids);
	free(subnets);
	free(tb);
	free(sb);
	return r;
}

static int do_hello(struct agentd *a, const struct agent_msg *m,
		    struct agent_msg *ans, char *err)
{
	const char *marker = amsg_get(m, "marker");
	char rundir[PATH_MAX + 8];
	struct host_local_conf c;

	if (!marker || strncmp(marker, "maasfs:", 7) || !word_safe(marker + 7))
		return bad(err, "marker");
	snprintf(rundir, sizeof rundir, "%s/dhcp", a->statedir);
	c.marker = marker;
	c.rundir = rundir;
	c.dnsmasq = a->dnsmasq;
	c.disks = a->disks;
	c.images = a->images;
	hostdrv_free(a->host);
	a->host = host_local_new(&c, err);
	if (!a->host)
		return -ENOMEM;
	amsg_put(ans, "proto", "%d", AGENT_PROTO);
	return 0;
}

static int dispatch(struct agentd *a, const struct agent_msg *m,
		    struct agent_msg *ans, char *err)
{
	const char *s = NULL;
	unsigned long vni, purge;
	struct strbuf text = STRBUF_INIT;
	int r;

	if (!strcmp(m->verb, "hello"))
		return do_hello(a, m, ans, err);
	if (!strcmp(m->verb, "ping"))
		return 0;
	if (!a->host)
		return err_set(err, EPROTO, "hello first");
	if (!strcmp(m->verb, "tenant_ensure") ||
	    !strcmp(m->verb, "tenant_remove")) {
		r = get_name(m, "tenant", &s, err);
		if (r)
			return r;
		return m->verb[7] == 'e'
			       ? a->host->ops->tenant_ensure(a->host, s, err)
			       : a->host->ops->tenant_remove(a->host, s, err);
	}
	if (!strcmp(m->verb, "subnet_ensure"))
		return do_subnet_ensure(a, m, err);
	if (!strcmp(m->verb, "uplink_ensure"))
		return do_uplink_ensure(a, m, err);
	if (!strcmp(m->verb, "ports_apply"))
		return do_ports_apply(a, m, err);
	if (!strcmp(m->verb, "uplink_remove")) {
		unsigned long id;

		if ((r = get_name(m, "tenant", &s, err)) ||
		    (r = get_uint(m, "id", 1, 999999999, &id, err)))
			return r;
		return a->host->ops->uplink_remove(a->host, s, (unsigned)id,
						   err);
	}
	if (!strcmp(m->verb, "subnet_remove")) {
		if ((r = get_name(m, "tenant", &s, err)) ||
		    (r = get_uint(m, "vni", 1, 16777215, &vni, err)))
			return r;
		return a->host->ops->subnet_remove(a->host, s, (uint32_t)vni, err);
	}
	if (!strcmp(m->verb, "dhcp_ensure"))
		return do_dhcp_ensure(a, m, ans, err);
	if (!strcmp(m->verb, "dhcp_remove")) {
		if ((r = get_uint(m, "vni", 1, 16777215, &vni, err)) ||
		    (r = get_uint(m, "purge", 0, 1, &purge, err)))
			return r;
		return a->host->ops->dhcp_remove(a->host, (uint32_t)vni, purge,
						err);
	}
	if (!strcmp(m->verb, "dhcp_state")) {
		r = get_uint(m, "vni", 1, 16777215, &vni, err);
		if (r)
			return r;
		amsg_put(ans, "pid", "%d",
			 a->host->ops->dhcp_pid(a->host, (uint32_t)vni));
		a->host->ops->dhcp_leases(a->host, (uint32_t)vni, &text);
		amsg_put(ans, "leases", "%s", sb_str(&text));
		sb_free(&text);
		return 0;
	}
	if (!strcmp(m->verb, "console")) {
		s = amsg_get(m, "uuid");
		if (!s || !uuid_valid(s))
			return bad(err, "uuid");
		a->host->ops->console(a->host, s, &text);
		amsg_put(ans, "text", "%s", sb_str(&text));
		sb_free(&text);
		return 0;
	}
	if (!strcmp(m->verb, "sweep"))
		return do_sweep(a, m, ans, err);
	if (!strcmp(m->verb, "trim"))
		return a->host->ops->trim(a->host, err);
	if (!strcmp(m->verb, "dhcp_fetch")) {
		r = get_uint(m, "vni", 1, 16777215, &vni, err);
		if (r == 0)
			r = a->host->ops->dhcp_fetch(a->host, (uint32_t)vni,
						    &text, err);
		if (r == 0)
			amsg_put(ans, "leases", "%s", sb_str(&text));
		sb_free(&text);
		return r;
	}
	if (!strcmp(m->verb, "file_remove")) {
		enum copy_area area;
		const char *av = amsg_get(m, "area");

		s = amsg_get(m, "name");
		if (!av || copy_area_parse(av, &area))
			return bad(err, "area");
		if (!s || !copy_name_valid(area, s))
			return bad(err, "name");
		return a->host->ops->file_remove(a->host, area, s, err);
	}
	if (!strcmp(m->verb, "repl_dir")) {
		s = amsg_get(m, "uuid");
		r = get_uint(m, "make", 0, 1, &vni, err);
		if (!s || !uuid_valid(s))
			return bad(err, "uuid");
		return r ? r : a->host->ops->repl_dir(a->host, s, vni == 1,
						      err);
	}
	if (!strcmp(m->verb, "file_list")) {
		enum copy_area area;
		const char *av = amsg_get(m, "area");

		if (!av || copy_area_parse(av, &area))
			return bad(err, "area");
		r = a->host->ops->file_list(a->host, area, &text, err);
		if (r == 0 && text.len > AGENT_VALUE_MAX / 2)
			r = err_set(err, E2BIG, "too many files in %s",
				    copy_area_name(area));
		if (r == 0 && amsg_put(ans, "names", "%s", sb_str(&text)))
			r = err_set(err, ENOMEM, "out of memory");
		sb_free(&text);
		return r;
	}
	return err_set(err, EOPNOTSUPP, "unknown request '%s'", m->verb);
}

int agent_serve(int in, int out, const struct agent_dirs *dirs)
{
	struct agentd a = { 0 };
	struct strbuf inbuf = STRBUF_INIT, outbuf = STRBUF_INIT;
	char chunk[65536];
	int r = 0;

	if (!path_safe(dirs->statedir) || !path_safe(dirs->dnsmasq) ||
	    !path_safe(dirs->disks) || !path_safe(dirs->images))
		return -EINVAL;
	snprintf(a.statedir, sizeof a.statedir, "%s", dirs->statedir);
	snprintf(a.dnsmasq, sizeof a.dnsmasq, "%s", dirs->dnsmasq);
	snprintf(a.disks, sizeof a.disks, "%s", dirs->disks);
	snprintf(a.images, sizeof a.images, "%s", dirs->images);
	for (;;) {
		struct agent_msg m, ans;
		char err[ERRLEN] = "";
		ssize_t n;

		r = amsg_decode(&inbuf, &m);
		if (r < 0) {
			log_warnx("bad request: not the agent protocol");
			break;
		}
		if (r == 0) {
			n = read(in, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : 0;
				break;
			}
			if (sb_append(&inbuf, chunk, (size_t)n)) {
				r = -ENOMEM;
				break;
			}
			continue;
		}
		amsg_init(&ans, "ok");
		r = dispatch(&a, &m, &ans, err);
		if (r < 0) {
			amsg_free(&ans);
			amsg_init(&ans, "err");
			amsg_put(&ans, "code", "%s", errno_name(-r));
			amsg_put(&ans, "msg", "%s", err[0] ? err : strerror(-r));
			log_warnx("%s: %s", m.verb, err);
		}
		sb_reset(&outbuf);
		r = amsg_encode(&ans, &outbuf);
		if (r == 0)
			r = write_all(out, sb_str(&outbuf), outbuf.len);
		amsg_free(&m);
		amsg_free(&ans);
		if (r)
			break;
	}
	hostdrv_free(a.host);
	sb_free(&inbuf);
	sb_free(&outbuf);
	return r;
}
