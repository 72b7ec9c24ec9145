/* The driver of a remote cloud's network: requests to its agent over one
 * SSH session (reused, re-opened when it breaks), and a background check
 * that keeps the cloud's status and what reads need. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../agent/proto.h"
#include "remote.h"

#define AGENT_OP_MS 60000       /* dnsmasq starts, sweeps */
#define AGENT_PING_MS 3000
#define AGENT_TICK_MS 1000
/* A console nobody read for this long is no longer fetched. */
#define CONSOLE_KEEP_MS 60000

struct vni_state {
	uint32_t vni;
	int pid;
	struct strbuf leases;
};

struct console_state {
	char uuid[40];
	int64_t asked;          /* clock_ms() of the last read */
	struct strbuf text;
};

struct agent_drv {
	struct hostdrv base;
	char cloud[64], host[256], user[64], key[PATH_MAX];
	char known_hosts[PATH_MAX], netns[64], agent[PATH_MAX];
	char statedir[PATH_MAX], disks[PATH_MAX], images[PATH_MAX];
	char marker[64];
	unsigned port;
	int timeout_ms;

	pthread_mutex_t io;          /* one request at a time */
	/* protected by io: */
	struct sess_session *ssh;
	struct sess_chan *ch;
	struct strbuf in;

	pthread_mutex_t spare_lock;
	/* protected by spare_lock: an idle session for copies, kept
	 * because a new one costs most of a second; on it, when spare_ch
	 * is set, `maasfs agent copy` started ahead, waiting for the line
	 * that says which copy it serves (the remote shell's start, which
	 * reads the user's rc files, costs too) */
	struct sess_session *spare;
	struct sess_chan *spare_ch;

	pthread_mutex_t cache;
	/* protected by cache: what reads are answered from */
	bool up;
	char why[ERRLEN];
	struct vni_state *vnis;
	size_t nvnis;
	struct console_state *consoles;
	size_t nconsoles;
	bool stop;
	pthread_cond_t wake;

	pthread_t thread;
	bool thread_started;
};

static struct agent_drv *ag_of(struct hostdrv *d)
{
	return (struct agent_drv *)d;
}

static void set_status(struct agent_drv *a, bool up, const char *why)
{
	pthread_mutex_lock(&a->cache);
	if (a->up != up)
		log_info("cloud %s is %s%s%s", a->cloud, up ? "up" : "down",
			 up ? "" : ": ", up ? "" : why);
	a->up = up;
	snprintf(a->why, sizeof a->why, "%s", up ? "" : why);
	pthread_mutex_unlock(&a->cache);
}

/* The caller holds io. */
static void drop_session(struct agent_drv *a)
{
	sess_chan_close(a->ch);
	sess_close(a->ssh);
	a->ch = NULL;
	a->ssh = NULL;
	sb_reset(&a->in);
}

static int roundtrip(struct agent_drv *a, const struct agent_msg *req,
		     struct agent_msg *ans, int timeout_ms, char *err)
{
	struct strbuf out = STRBUF_INIT;
	int64_t deadline = clock_ms() + timeout_ms;
	char chunk[65536];
	int r;

	r = amsg_encode(req, &out);
	if (r == 0)
		r = sess_write(a->ch, out.s, out.len, err);
	sb_free(&out);
	while (r == 0) {
		ssize_t n;
		int left = (int)(deadline - clock_ms());

		r = amsg_decode(&a->in, ans);
		if (r == 1)
			return 0;
		if (r < 0)
			return err_set(err, EPROTO, "cloud %s: the agent does "
				       "not speak the protocol", a->cloud);
		if (left <= 0)
			return err_set(err, ETIMEDOUT, "cloud %s: no answer to "
				       "%s within %d ms", a->cloud, req->verb,
				       timeout_ms);
		n = sess_read(a->ch, chunk, sizeof chunk, left, err);
		if (n == 0)
			return err_set(err, EHOSTUNREACH, "cloud %s: the agent "
				       "went away", a->cloud);
		if (n < 0)
			return (int)n;
		r = sb_append(&a->in, chunk, (size_t)n);
	}
	return r;
}

/* The agent's command line, every part of it checked at creation. */
static void agent_cmd(const struct agent_drv *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s agent --state %s --disks %s --images %s",
		 a->agent, a->statedir, a->disks, a->images);
}

static void ssh_conf(const struct agent_drv *a, struct sess_conf *c)
{
	memset(c, 0, sizeof *c);
	c->host = a->host;
	c->port = a->port;
	c->user = a->user;
	c->key = a->key;
	c->known_hosts = a->known_hosts;
	c->netns = a->netns[0] ? a->netns : NULL;
	c->timeout_ms = a->timeout_ms;
}

/* The caller holds io. */
static int ensure_session(struct agent_drv *a, char *err)
{
	struct sess_conf c;
	struct agent_msg hello, ans;
	char cmd[4 * PATH_MAX + 64];
	int r;

	if (a->ch)
		return 0;
	ssh_conf(a, &c);
	r = sess_connect(&c, &a->ssh, err);
	if (r)
		return r;
	agent_cmd(a, cmd, sizeof cmd);
	r = sess_exec(a->ssh, cmd, &a->ch, err);
	if (r) {
		drop_session(a);
		return r;
	}
	amsg_init(&hello, "hello");
	amsg_put(&hello, "marker", "%s", a->marker);
	r = roundtrip(a, &hello, &ans, AGENT_PING_MS * 3, err);
	if (r == 0 && strcmp(ans.verb, "ok"))
		r = err_set(err, EPROTO, "cloud %s: the agent refused hello: "
			    "%s", a->cloud, amsg_get(&ans, "msg") ?: "?");
	amsg_free(&hello);
	amsg_free(&ans);
	if (r)
		drop_session(a);
	return r;
}

/* One request and its answer; an "err" answer becomes its errno. A
 * broken session is dropped (the next call opens a new one) and the
 * cloud is down until a call succeeds. */
static int call(struct agent_drv *a, struct agent_msg *req,
		struct agent_msg *ans, int timeout_ms, char *err)
{
	char why[ERRLEN] = "";
	int r;

	amsg_init(ans, "");
	pthread_mutex_lock(&a->io);
	r = ensure_session(a, why);
	if (r == 0)
		r = roundtrip(a, req, ans, timeout_ms, why);
	if (r)
		drop_session(a);
	pthread_mutex_unlock(&a->io);
	amsg_free(req);
	if (r) {
		/* the session broke under the request (the cloud's sshd or
		 * network gone): the cloud is out of reach, as its status
		 * now says, not an I/O error of the request */
		if (r == -EIO)
			r = -EHOSTUNREACH;
		set_status(a, false, why);
		return err_set(err, -r, "%s", why);
	}
	set_status(a, true, "");
	if (!strcmp(ans->verb, "ok"))
		return 0;
	r = errno_value(amsg_get(ans, "code") ?: "EIO");
	return err_set(err, r, "cloud %s: %s", a->cloud,
		       amsg_get(ans, "msg") ?: "agent error");
}

static int call_simple(struct agent_drv *a, struct agent_msg *req,
		       char *err)
{
	struct agent_msg ans;
	int r = call(a, req, &ans, AGENT_OP_MS, err);

	amsg_free(&ans);
	return r;
}

static struct vni_state *vni_slot(struct agent_drv *a, uint32_t vni,
				  bool make)
{
	struct vni_state *v;
	size_t i;

	for (i = 0; i < a->nvnis; i++)
		if (a->vnis[i].vni == vni)
			return &a->vnis[i];
	if (!make)
		return NULL;
	v = realloc(a->vnis, (a->nvnis + 1) * sizeof *v);
	if (!v)
		return NULL;
	a->vnis = v;
	v = &a->vnis[a->nvnis++];
	memset(v, 0, sizeof *v);
	v->vni = vni;
	return v;
}

/* Forgets a subnet's dnsmasq (removed): its leases must not stay. */
static void vni_drop(struct agent_drv *a, uint32_t vni)
{
	size_t i;

	for (i = 0; i < a->nvnis; i++)
		if (a->vnis[i].vni == vni) {
			sb_free(&a->vnis[i].leases);
			a->vnis[i] = a->vnis[--a->nvnis];
			return;
		}
}

/* Forgets the consoles nobody read for CONSOLE_KEEP_MS. */
static void consoles_expire(struct agent_drv *a)
{
	int64_t now = clock_ms();
	size_t i = 0;

	while (i < a->nconsoles) {
		if (now - a->consoles[i].asked > CONSOLE_KEEP_MS) {
			sb_free(&a->consoles[i].text);
			a->consoles[i] = a->consoles[--a->nconsoles];
		} else {
			i++;
		}
	}
}

/* Asks the agent for a subnet's dnsmasq pid and leases, for the cache. */
static void refresh_vni(struct agent_drv *a, uint32_t vni)
{
	struct agent_msg req, ans;
	struct vni_state *v;

	amsg_init(&req, "dhcp_state");
	amsg_put(&req, "vni", "%u", vni);
	if (call(a, &req, &ans, AGENT_PING_MS, NULL) == 0) {
		pthread_mutex_lock(&a->cache);
		v = vni_slot(a, vni, true);
		if (v) {
			v->pid = atoi(amsg_get(&ans, "pid") ?: "0");
			sb_reset(&v->leases);
			sb_puts(&v->leases, amsg_get(&ans, "leases") ?: "");
		}
		pthread_mutex_unlock(&a->cache);
	}
	amsg_free(&ans);
}

static void refresh_console(struct agent_drv *a, const char *uuid)
{
	struct agent_msg req, ans;
	size_t i;

	amsg_init(&req, "console");
	amsg_put(&req, "uuid", "%s", uuid);
	if (call(a, &req, &ans, AGENT_PING_MS, NULL) == 0) {
		pthread_mutex_lock(&a->cache);
		for (i = 0; i < a->nconsoles; i++)
			if (!strcmp(a->consoles[i].uuid, uuid)) {
				sb_reset(&a->consoles[i].text);
				sb_puts(&a->consoles[i].text,
					amsg_get(&ans, "text") ?: "");
			}
		pthread_mutex_unlock(&a->cache);
	}
	amsg_free(&ans);
}

/* Does a channel whose other end has not written yet still stand? */
static bool chan_alive(struct sess_chan *ch)
{
	char c;

	return sess_read(ch, &c, 1, 0, NULL) == -ETIMEDOUT;
}

/* Puts session s in the spare slot with a copy agent started on it (the
 * exec request returns at once; the remote shell starts meanwhile), or
 * closes it: the slot is taken, or s is dead. */
static void spare_put(struct agent_drv *a, struct sess_session *s)
{
	struct sess_chan *ch = NULL;
	char cmd[4 * PATH_MAX + 80];

	agent_cmd(a, cmd, sizeof cmd);
	strcat(cmd, " copy");
	if (sess_exec(s, cmd, &ch, NULL)) {
		sess_close(s);
		return;
	}
	pthread_mutex_lock(&a->spare_lock);
	if (!a->spare) {
		a->spare = s;
		a->spare_ch = ch;
		s = NULL;
		ch = NULL;
	}
	pthread_mutex_unlock(&a->spare_lock);
	sess_chan_close(ch);
	sess_close(s);
}

/* A session and a copy agent for the next copy, made ahead: an SSH
 * handshake costs about a second on the lab, and so does the remote
 * shell's start (it reads the user's rc files); a cold migration makes
 * two copies. Called by the checker while the cloud answers. */
static void keep_spare(struct agent_drv *a)
{
	struct sess_session *s;
	struct sess_chan *ch;
	struct sess_conf c;

	pthread_mutex_lock(&a->spare_lock);
	s = a->spare;
	ch = a->spare_ch;
	if (s && ch && chan_alive(ch)) {
		pthread_mutex_unlock(&a->spare_lock);
		return;
	}
	a->spare = NULL;
	a->spare_ch = NULL;
	pthread_mutex_unlock(&a->spare_lock);
	if (ch) {   /* its agent or session died */
		sess_chan_close(ch);
		sess_close(s);
		s = NULL;
	}
	if (!s) {
		ssh_conf(a, &c);
		if (sess_connect(&c, &s, NULL))
			return;
	}
	spare_put(a, s);
}

/* The background check: a ping a second (the status), then what reads
 * need, refreshed. */
static void *checker(void *arg)
{
	struct agent_drv *a = arg;
	uint32_t *vnis = NULL;
	char (*uuids)[40] = NULL;
	size_t i, nv, nc;

	for (;;) {
		struct agent_msg req, ans;
		struct timespec until;

		amsg_init(&req, "ping");
		if (call(a, &req, &ans, AGENT_PING_MS, NULL) == 0) {
			/* every subnet and every console still read, however
			 * many: a copy of the lists, refreshed without the lock */
			pthread_mutex_lock(&a->cache);
			consoles_expire(a);
			nv = a->nvnis;
			nc = a->nconsoles;
			free(vnis);
			free(uuids);
			vnis = calloc(nv + 1, sizeof *vnis);
			uuids = calloc(nc + 1, sizeof *uuids);
			if (!vnis || !uuids)
				nv = nc = 0;
			for (i = 0; i < nv; i++)
				vnis[i] = a->vnis[i].vni;
			for (i = 0; i < nc; i++)
				memcpy(uuids[i], a->consoles[i].uuid, 40);
			pthread_mutex_unlock(&a->cache);
			for (i = 0; i < nv; i++)
				refresh_vni(a, vnis[i]);
			for (i = 0; i < nc; i++)
				refresh_console(a, uuids[i]);
			keep_spare(a);
		}
		amsg_free(&ans);
		deadline_in(&until, AGENT_TICK_MS);
		pthread_mutex_lock(&a->cache);
		if (!a->stop)
			pthread_cond_timedwait(&a->wake, &a->cache, &until);
		if (a->stop) {
			pthread_mutex_unlock(&a->cache);
			free(vnis);
			free(uuids);
			return NULL;
		}
		pthread_mutex_unlock(&a->cache);
	}
}

static int ag_tenant(struct hostdrv *d, const char *verb, const char *tenant,
		     char *err)
{
	struct agent_msg req;

	amsg_init(&req, verb);
	amsg_put(&req, "tenant", "%s", tenant);
	return call_simple(ag_of(d), &req, err);
}

static int ag_tenant_ensure(struct hostdrv *d, const char *t, char *err)
{
	return ag_tenant(d, "tenant_ensure", t, err);
}

static int ag_tenant_remove(struct hostdrv *d, const char *t, char *err)
{
	return ag_tenant(d, "tenant_remove", t, err);
}

static int ag_uplink_ensure(struct hostdrv *d, const struct net_uplink *u,
			    char *err)
{
	struct agent_msg req;
	struct strbuf fl = STRBUF_INIT;
	char a[IP_STRLEN], g[IP_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < u->nfloats; i++) {
		ip_format(u->floats[i].addr, a);
		ip_format(u->floats[i].fixed, g);
		sb_printf(&fl, "%s%s=%s", i ? " " : "", a, g);
	}
	ip_format(u->addr, a);
	ip_format(u->gateway, g);
	amsg_init(&req, "uplink_ensure");
	amsg_put(&req, "tenant", "%s", u->tenant);
	amsg_put(&req, "id", "%u", u->id);
	amsg_put(&req, "addr", "%s", a);
	amsg_put(&req, "prefix", "%u", u->prefix);
	amsg_put(&req, "gateway", "%s", g);
	amsg_put(&req, "bridge", "%s", u->bridge);
	amsg_put(&req, "floats", "%s", sb_str(&fl));
	r = call_simple(ag_of(d), &req, err);
	sb_free(&fl);
	return r;
}

/* A rule as the agent reads it: "i|o:PROTO:LO:HI:@SET" or
 * "...:NET/PREFIX". */
static void rule_put(struct strbuf *out, const struct net_rule *r)
{
	char a[IP_STRLEN];

	sb_printf(out, " %c:%u:%u:%u:", r->in ? 'i' : 'o', r->proto, r->lo,
		  r->hi);
	ip_format(r->net, a);
	if (r->set >= 0)
		sb_printf(out, "@%d", r->set);
	else
		sb_printf(out, "%s/%u", a, r->prefix);
}

static int ag_ports_apply(struct hostdrv *d, const struct net_ports *ps,
			  char *err)
{
	struct strbuf p = STRBUF_INIT, st = STRBUF_INIT;
	struct agent_msg req;
	char ip[IP_STRLEN], gw[IP_STRLEN];
	size_t i, j;
	int r;

	for (i = 0; i < ps->nsets; i++) {
		for (j = 0; j < ps->sets[i].n; j++) {
			ip_format(ps->sets[i].ips[j], ip);
			sb_printf(&st, "%s%s", j ? " " : "", ip);
		}
		sb_puts(&st, ps->sets[i].n ? "\n" : "-\n");
	}
	for (i = 0; i < ps->n; i++) {
		const struct net_port *x = &ps->p[i];

		ip_format(x->ip, ip);
		ip_format(x->gateway, gw);
		sb_printf(&p, "%s %s %s %s %s", x->tap, x->mac, ip, x->bridge,
			  gw);
		for (j = 0; j < x->nrules; j++)
			rule_put(&p, &x->rules[j]);
		sb_puts(&p, "\n");
	}
	amsg_init(&req, "ports_apply");
	amsg_put(&req, "id", "%u", ps->id);
	amsg_put(&req, "sets", "%s", sb_str(&st));
	amsg_put(&req, "ports", "%s", sb_str(&p));
	r = call_simple(ag_of(d), &req, err);
	sb_free(&p);
	sb_free(&st);
	return r;
}

static int ag_uplink_remove(struct hostdrv *d, const char *tenant,
			    unsigned id, char *err)
{
	struct agent_msg req;

	amsg_init(&req, "uplink_remove");
	amsg_put(&req, "tenant", "%s", tenant);
	amsg_put(&req, "id", "%u", id);
	return call_simple(ag_of(d), &req, err);
}

static int ag_subnet_ensure(struct hostdrv *d, const struct net_subnet *s,
			    char *err)
{
	struct agent_msg req;
	struct strbuf remotes = STRBUF_INIT;
	char gw[IP_STRLEN] = "-", vtep[IP_STRLEN] = "-", ip[IP_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < s->nremotes; i++) {
		ip_format(s->remotes[i], ip);
		sb_printf(&remotes, "%s%s", i ? " " : "", ip);
	}
	if (s->home)
		ip_format(s->gateway, gw);
	if (s->vtep)
		ip_format(s->vtep, vtep);
	amsg_init(&req, "subnet_ensure");
	amsg_put(&req, "tenant", "%s", s->tenant);
	amsg_put(&req, "vni", "%u", s->vni);
	amsg_put(&req, "gateway", "%s", gw);
	amsg_put(&req, "prefix", "%u", s->prefix);
	amsg_put(&req, "mtu", "%u", s->mtu);
	amsg_put(&req, "home", "%d", s->home);
	amsg_put(&req, "vtep", "%s", vtep);
	amsg_put(&req, "remotes", "%s", sb_str(&remotes));
	sb_free(&remotes);
	r = call_simple(ag_of(d), &req, err);
	return r;
}

static int ag_subnet_remove(struct hostdrv *d, const char *tenant,
			    uint32_t vni, char *err)
{
	struct agent_msg req;

	amsg_init(&req, "subnet_remove");
	amsg_put(&req, "tenant", "%s", tenant);
	amsg_put(&req, "vni", "%u", vni);
	return call_simple(ag_of(d), &req, err);
}

static int ag_dhcp_ensure(struct hostdrv *d, const struct net_dhcp *c,
			  int *pid, char *err)
{
	struct agent_drv *a = ag_of(d);
	struct agent_msg req, ans;
	struct strbuf hosts = STRBUF_INIT;
	char ip[IP_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < c->nhosts; i++) {
		ip_format(c->hosts[i].ip, ip);
		sb_printf(&hosts, "%s %s %s\n", c->hosts[i].mac, ip,
			  c->hosts[i].name);
	}
	amsg_init(&req, "dhcp_ensure");
	amsg_put(&req, "tenant", "%s", c->tenant);
	amsg_put(&req, "vni", "%u", c->vni);
	ip_format(c->server, ip);
	amsg_put(&req, "server", "%s", ip);
	amsg_put(&req, "prefix", "%u", c->prefix);
	ip_format(c->first, ip);
	amsg_put(&req, "first", "%s", ip);
	ip_format(c->last, ip);
	amsg_put(&req, "last", "%s", ip);
	amsg_put(&req, "domain", "%s", c->domain);
	amsg_put(&req, "mtu", "%u", c->mtu);
	amsg_put(&req, "hosts", "%s", sb_str(&hosts));
	amsg_put(&req, "forget", "%s", c->forget ? c->forget : "");
	amsg_put(&req, "leases", "%s", c->leases ? c->leases : "");
	sb_free(&hosts);
	r = call(a, &req, &ans, AGENT_OP_MS, err);
	if (r == 0) {
		*pid = atoi(amsg_get(&ans, "pid") ?: "0");
		pthread_mutex_lock(&a->cache);
		vni_slot(a, c->vni, true);
		pthread_mutex_unlock(&a->cache);
	}
	amsg_free(&ans);
	if (r == 0)
		refresh_vni(a, c->vni);
	return r;
}

static int ag_dhcp_remove(struct hostdrv *d, uint32_t vni, bool purge,
			  char *err)
{
	struct agent_drv *a = ag_of(d);
	struct agent_msg req;
	int r;

	amsg_init(&req, "dhcp_remove");
	amsg_put(&req, "vni", "%u", vni);
	amsg_put(&req, "purge", "%d", purge);
	r = call_simple(a, &req, err);
	if (r == 0) {
		pthread_mutex_lock(&a->cache);
		vni_drop(a, vni);
		pthread_mutex_unlock(&a->cache);
	}
	return r;
}

static int ag_dhcp_pid(struct hostdrv *d, uint32_t vni)
{
	struct agent_drv *a = ag_of(d);
	struct vni_state *v;
	int pid;

	pthread_mutex_lock(&a->cache);
	v = vni_slot(a, vni, false);
	pid = v && a->up ? v->pid : 0;
	pthread_mutex_unlock(&a->cache);
	return pid;
}

static int ag_dhcp_leases(struct hostdrv *d, uint32_t vni, struct strbuf *out)
{
	struct agent_drv *a = ag_of(d);
	struct vni_state *v;

	pthread_mutex_lock(&a->cache);
	v = vni_slot(a, vni, false);
	if (v)
		sb_puts(out, sb_str(&v->leases));
	pthread_mutex_unlock(&a->cache);
	return 0;
}

static int ag_dhcp_fetch(struct hostdrv *d, uint32_t vni, struct strbuf *out,
			 char *err)
{
	struct agent_msg req, ans;
	int r;

	amsg_init(&req, "dhcp_fetch");
	amsg_put(&req, "vni", "%u", vni);
	r = call(ag_of(d), &req, &ans, AGENT_OP_MS, err);
	if (r == 0)
		sb_puts(out, amsg_get(&ans, "leases") ?: "");
	amsg_free(&ans);
	return r;
}

static int ag_file_remove(struct hostdrv *d, enum copy_area area,
			  const char *name, char *err)
{
	struct agent_msg req;

	if (!copy_name_valid(area, name))
		return err_set(err, EINVAL, "bad file name to remove");
	amsg_init(&req, "file_remove");
	amsg_put(&req, "area", "%s", copy_area_name(area));
	amsg_put(&req, "name", "%s", name);
	return call_simple(ag_of(d), &req, err);
}

static int ag_file_list(struct hostdrv *d, enum copy_area area,
			struct strbuf *out, char *err)
{
	struct agent_msg req, ans;
	int r;

	amsg_init(&req, "file_list");
	amsg_put(&req, "area", "%s", copy_area_name(area));
	r = call(ag_of(d), &req, &ans, AGENT_OP_MS, err);
	if (r == 0)
		r = sb_puts(out, amsg_get(&ans, "names") ?: "");
	amsg_free(&ans);
	return r;
}

/* ---- copies: an SSH session of their own, `maasfs agent send|receive`
 * at the other end of an exec channel ---- */

struct copy_chan {
	struct agent_drv *a;
	struct sess_session *ssh;
	struct sess_chan *ch;
	bool ahead;               /* ch runs `maasfs agent copy`: reusable */
	struct strbuf in;         /* bytes read but not consumed */
};

static int chan_open(struct agent_drv *a, const char *verb,
		     enum copy_area area, const char *name, uint64_t size,
		     struct copy_chan *l, char *err)
{
	struct sess_conf c;
	struct sess_chan *ch;
	char cmd[5 * PATH_MAX + 128], words[NAME_MAXLEN + 128];
	size_t n;
	int r;

	memset(l, 0, sizeof *l);
	l->a = a;
	if (!copy_name_valid(area, name))
		return err_set(err, EINVAL, "bad file name to copy");
	pthread_mutex_lock(&a->spare_lock);
	l->ssh = a->spare;
	ch = a->spare_ch;
	a->spare = NULL;
	a->spare_ch = NULL;
	pthread_mutex_unlock(&a->spare_lock);
	snprintf(words, sizeof words, "%s %s %s", verb, copy_area_name(area),
		 name);
	if (!strcmp(verb, "receive") || !strcmp(verb, "patch")) {
		n = strlen(words);
		snprintf(words + n, sizeof words - n, " %llu",
			 (unsigned long long)size);
	}
	/* The copy agent started ahead: told which copy it is. */
	if (ch && chan_alive(ch)) {
		n = strlen(words);
		words[n] = '\n';
		r = sess_write(ch, words, n + 1, NULL);
		words[n] = '\0';
		if (r == 0) {
			l->ch = ch;
			l->ahead = true;
			return 0;
		}
	}
	if (ch) {
		sess_chan_close(ch);
		sess_close(l->ssh);
		l->ssh = NULL;
	}
	agent_cmd(a, cmd, sizeof cmd);
	n = strlen(cmd);
	snprintf(cmd + n, sizeof cmd - n, " %s", words);
	/* A kept session may have died since: then a new one. */
	r = l->ssh ? sess_exec(l->ssh, cmd, &l->ch, err) : -ENOTCONN;
	if (r) {
		sess_close(l->ssh);
		l->ssh = NULL;   /* sess_connect leaves it as it is on failure */
		ssh_conf(a, &c);
		r = sess_connect(&c, &l->ssh, err);
		if (r == 0)
			r = sess_exec(l->ssh, cmd, &l->ch, err);
	}
	if (r) {
		sess_close(l->ssh);
		l->ssh = NULL;
	}
	return r;
}

/* keep: the copy ended cleanly, its session (and its agent, if it was
 * started ahead: it serves one copy after another) can serve the next. */
static void chan_close(struct copy_chan *l, bool keep)
{
	struct agent_drv *a = l->a;

	if (keep && l->ssh && l->ahead) {
		/* its agent waits for the next copy's line */
		pthread_mutex_lock(&a->spare_lock);
		if (!a->spare) {
			a->spare = l->ssh;
			a->spare_ch = l->ch;
			l->ssh = NULL;
			l->ch = NULL;
		}
		pthread_mutex_unlock(&a->spare_lock);
	}
	sess_chan_close(l->ch);
	if (keep && l->ssh) {
		spare_put(a, l->ssh);
		l->ssh = NULL;
	}
	sess_close(l->ssh);
	sb_free(&l->in);
	l->ch = NULL;
	l->ssh = NULL;
}

/* Makes at least want bytes available in l->in. */
static int chan_fill(struct copy_chan *l, size_t want, char *err)
{
	char chunk[65536];

	while (l->in.len < want) {
		ssize_t n = sess_read(l->ch, chunk, sizeof chunk,
				      AGENT_OP_MS, err);

		if (n == 0)
			return err_set(err, EPIPE, "cloud %s: the copy's other "
				       "end went away", l->a->cloud);
		if (n < 0)
			return (int)n;
		if (sb_append(&l->in, chunk, (size_t)n))
			return err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static void chan_consume(struct copy_chan *l, size_t n)
{
	memmove(l->in.s, l->in.s + n, l->in.len - n);
	l->in.len -= n;
	l->in.s[l->in.len] = '\0';
}

/* One line of the peer, without its newline, into buf. */
static int chan_line(struct copy_chan *l, char *buf, size_t len, char *err)
{
	char *nl;
	int r;

	for (;;) {
		nl = l->in.len ? memchr(l->in.s, '\n', l->in.len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - l->in.s);

			if (n >= len)
				break;
			memcpy(buf, l->in.s, n);
			buf[n] = '\0';
			chan_consume(l, n + 1);
			return 0;
		}
		if (l->in.len >= len)
			break;
		r = chan_fill(l, l->in.len + 1, err);
		if (r)
			return r;
	}
	return err_set(err, EPROTO, "cloud %s: the copy does not speak the "
		       "protocol", l->a->cloud);
}

/* "error ENAME MESSAGE" from the peer, as its errno. */
static int chan_error(struct copy_chan *l, const char *line, char *err)
{
	char name[24] = "EIO";
	const char *msg = "";

	if (!strncmp(line, "error ", 6)) {
		sscanf(line + 6, "%23s", name);
		msg = strchr(line + 6, ' ');
		msg = msg ? msg + 1 : "";
		return err_set(err, errno_value(name), "cloud %s: %s",
			       l->a->cloud, msg);
	}
	return err_set(err, EPROTO, "cloud %s: unexpected '%.40s' in a copy",
		       l->a->cloud, line);
}

struct agent_src {
	struct copy_src base;
	struct copy_chan l;
	uint64_t off, left;       /* of the frame being read */
};

static ssize_t asrc_read(struct copy_src *cs, uint64_t *off, void *buf,
			 size_t cap, char *err)
{
	struct agent_src *s = (struct agent_src *)cs;
	char line[ERRLEN + 64];
	size_t n;
	int r;

	if (cs->ended)
		return 0;
	while (s->left == 0) {
		uint64_t o;
		size_t len;
		char hex[COPY_SUM_HEX + 1], extra;

		r = chan_line(&s->l, line, sizeof line, err);
		if (r)
			return r;
		if (copy_frame_data(line, cs->size, &o, &len)) {
			s->off = o;
			s->left = len;
		} else if (sscanf(line, "end %65s%c", hex, &extra) == 1 &&
			   copy_sum_parse(hex, cs->sum) == 0) {
			cs->ended = true;
			return 0;
		} else {
			return chan_error(&s->l, line, err);
		}
	}
	n = cap < s->left ? cap : (size_t)s->left;
	if (s->l.in.len == 0) {
		r = chan_fill(&s->l, 1, err);
		if (r)
			return r;
	}
	if (n > s->l.in.len)
		n = s->l.in.len;
	memcpy(buf, s->l.in.s, n);
	chan_consume(&s->l, n);
	*off = s->off;
	s->off += n;
	s->left -= n;
	return (ssize_t)n;
}

static void asrc_close(struct copy_src *cs)
{
	struct agent_src *s = (struct agent_src *)cs;

	chan_close(&s->l, cs->ended);
	free(s);
}

static const struct copy_src_ops agent_src_ops = {
	.read = asrc_read,
	.close = asrc_close,
};

/* The sending end of a copy: `maasfs agent VERB AREA NAME` (send, or a
 * replication's changed or allocated). */
static int src_open(struct hostdrv *d, const char *verb, enum copy_area area,
		    const char *name, struct copy_src **out, char *err)
{
	struct agent_src *s = calloc(1, sizeof *s);
	char line[ERRLEN + 64], extra;
	unsigned long long size, data;
	int r;

	if (!s)
		return err_set(err, ENOMEM, "out of memory");
	s->base.ops = &agent_src_ops;
	r = chan_open(ag_of(d), verb, area, name, 0, &s->l, err);
	if (r == 0)
		r = chan_line(&s->l, line, sizeof line, err);
	if (r == 0 && sscanf(line, "info %llu %llu%c", &size, &data,
			     &extra) == 2 && data <= size) {
		s->base.size = size;
		s->base.data = data;
		*out = &s->base;
		return 0;
	}
	if (r == 0)
		r = chan_error(&s->l, line, err);
	chan_close(&s->l, false);
	free(s);
	return r;
}

struct agent_dst {
	struct copy_dst base;
	struct copy_chan l;
};

static int adst_write(struct copy_dst *cd, uint64_t off, const void *buf,
		      size_t len, char *err)
{
	struct agent_dst *d = (struct agent_dst *)cd;
	char head[64];
	int r;

	while (len > 0) {
		size_t n = len > COPY_FRAME_MAX ? COPY_FRAME_MAX : len;

		snprintf(head, sizeof head, "data %llu %zu\n",
			 (unsigned long long)off, n);
		r = sess_write(d->l.ch, head, strlen(head), err);
		if (r == 0)
			r = sess_write(d->l.ch, buf, n, err);
		if (r)
			return r;
		buf = (const char *)buf + n;
		off += n;
		len -= n;
	}
	return 0;
}

static void adst_end(struct copy_dst *cd, bool clean)
{
	struct agent_dst *d = (struct agent_dst *)cd;

	chan_close(&d->l, clean);
	free(d);
}

static void adst_abort(struct copy_dst *cd)
{
	adst_end(cd, false);   /* the receiver drops its temporary file */
}

static int adst_finish(struct copy_dst *cd, const unsigned char *sum,
		       char *err)
{
	struct agent_dst *d = (struct agent_dst *)cd;
	char line[ERRLEN + 64], hex[COPY_SUM_HEX], end[COPY_SUM_HEX + 8];
	int r;

	copy_sum_hex(sum, hex);
	snprintf(end, sizeof end, "end %s\n", hex);
	r = sess_write(d->l.ch, end, strlen(end), err);
	if (r == 0)
		r = chan_line(&d->l, line, sizeof line, err);
	if (r == 0 && strcmp(line, "ok"))
		r = chan_error(&d->l, line, err);
	adst_end(cd, r == 0);
	return r;
}

static const struct copy_dst_ops agent_dst_ops = {
	.write = adst_write,
	.finish = adst_finish,
	.abort = adst_abort,
};

/* The receiving end: `maasfs agent VERB AREA NAME SIZE` (receive, or a
 * replica's patch). */
static int dst_open(struct hostdrv *d, const char *verb, enum copy_area area,
		    const char *name, uint64_t size, struct copy_dst **out,
		    char *err)
{
	struct agent_dst *t = calloc(1, sizeof *t);
	char line[ERRLEN + 64];
	int r;

	if (!t)
		return err_set(err, ENOMEM, "out of memory");
	t->base.ops = &agent_dst_ops;
	r = chan_open(ag_of(d), verb, area, name, size, &t->l, err);
	if (r == 0)
		r = chan_line(&t->l, line, sizeof line, err);
	if (r == 0 && strcmp(line, "ready"))
		r = chan_error(&t->l, line, err);
	if (r) {
		chan_close(&t->l, false);
		free(t);
		return r;
	}
	*out = &t->base;
	return 0;
}

static int ag_file_source(struct hostdrv *d, enum copy_area area,
			  const char *name, struct copy_src **out, char *err)
{
	return src_open(d, "send", area, name, out, err);
}

static int ag_file_sink(struct hostdrv *d, enum copy_area area,
			const char *name, uint64_t size, struct copy_dst **out,
			char *err)
{
	return dst_open(d, "receive", area, name, size, out, err);
}

static int ag_repl_dir(struct hostdrv *d, const char *uuid, bool make,
		       char *err)
{
	struct agent_msg req;

	if (!uuid_valid(uuid))
		return err_set(err, EINVAL, "bad disk name");
	amsg_init(&req, "repl_dir");
	amsg_put(&req, "uuid", "%s", uuid);
	amsg_put(&req, "make", "%d", make);
	return call_simple(ag_of(d), &req, err);
}

static int ag_repl_source(struct hostdrv *d, const char *uuid, bool changed,
			  struct copy_src **out, char *err)
{
	char name[64];

	snprintf(name, sizeof name, "%s.qcow2", uuid);
	return src_open(d, changed ? "changed" : "allocated", COPY_DISKS,
			name, out, err);
}

static int ag_repl_sink(struct hostdrv *d, const char *uuid, uint64_t size,
			struct copy_dst **out, char *err)
{
	char name[64];

	snprintf(name, sizeof name, "%s.qcow2", uuid);
	return dst_open(d, "patch", COPY_DISKS, name, size, out, err);
}

static int ag_sweep(struct hostdrv *d, const struct net_keep *keep, char *err)
{
	struct agent_msg req, ans;
	struct strbuf t = STRBUF_INIT, s = STRBUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < keep->ntenants; i++)
		sb_printf(&t, "%s %u %u\n", keep->tenants[i], keep->uplinks[i],
			  keep->ports[i]);
	for (i = 0; i < keep->nsubnets; i++)
		sb_printf(&s, "%u %s %d %d\n", keep->subnets[i].vni,
			  keep->subnets[i].tenant, keep->subnets[i].dhcp,
			  keep->subnets[i].home);
	amsg_init(&req, "sweep");
	amsg_put(&req, "tenants", "%s", sb_str(&t));
	amsg_put(&req, "subnets", "%s", sb_str(&s));
	sb_free(&t);
	sb_free(&s);
	r = call(ag_of(d), &req, &ans, AGENT_OP_MS, err);
	if (r == 0)
		r = atoi(amsg_get(&ans, "removed") ?: "0");
	amsg_free(&ans);
	return r;
}

static int ag_trim(struct hostdrv *d, char *err)
{
	struct agent_msg req;

	amsg_init(&req, "trim");
	return call_simple(ag_of(d), &req, err);
}

static int ag_status(struct hostdrv *d, struct strbuf *out)
{
	struct agent_drv *a = ag_of(d);

	pthread_mutex_lock(&a->cache);
	if (a->up)
		sb_puts(out, "up");
	else
		sb_printf(out, "down: %s", a->why[0] ? a->why : "not reached "
			  "yet");
	pthread_mutex_unlock(&a->cache);
	return 0;
}

/* A console is fetched by the background check once someone has asked
 * for it; the first read may come before the first fetch. */
static int ag_console(struct hostdrv *d, const char *uuid, struct strbuf *out)
{
	struct agent_drv *a = ag_of(d);
	struct console_state *c;
	size_t i;

	if (!uuid_valid(uuid))
		return 0;
	pthread_mutex_lock(&a->cache);
	for (i = 0; i < a->nconsoles; i++)
		if (!strcmp(a->consoles[i].uuid, uuid)) {
			a->consoles[i].asked = clock_ms();
			sb_puts(out, sb_str(&a->consoles[i].text));
			pthread_mutex_unlock(&a->cache);
			return 0;
		}
	c = realloc(a->consoles, (a->nconsoles + 1) * sizeof *c);
	if (c) {
		a->consoles = c;
		c = &a->consoles[a->nconsoles++];
		memset(c, 0, sizeof *c);
		c->asked = clock_ms();
		snprintf(c->uuid, sizeof c->uuid, "%s", uuid);
		pthread_cond_signal(&a->wake);
	}
	pthread_mutex_unlock(&a->cache);
	return 0;
}

static void ag_free(struct hostdrv *d)
{
	struct agent_drv *a = ag_of(d);
	size_t i;

	if (a->thread_started) {
		pthread_mutex_lock(&a->cache);
		a->stop = true;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->cache);
		pthread_join(a->thread, NULL);
	}
	pthread_mutex_lock(&a->io);
	drop_session(a);
	pthread_mutex_unlock(&a->io);
	sess_chan_close(a->spare_ch);
	sess_close(a->spare);
	pthread_mutex_destroy(&a->spare_lock);
	for (i = 0; i < a->nvnis; i++)
		sb_free(&a->vnis[i].leases);
	for (i = 0; i < a->nconsoles; i++)
		sb_free(&a->consoles[i].text);
	free(a->vnis);
	free(a->consoles);
	sb_free(&a->in);
	pthread_mutex_destroy(&a->io);
	pthread_mutex_destroy(&a->cache);
	pthread_cond_destroy(&a->wake);
	free(a);
}

static const struct hostdrv_ops agent_ops = {
	.tenant_ensure = ag_tenant_ensure,
	.uplink_ensure = ag_uplink_ensure,
	.uplink_remove = ag_uplink_remove,
	.ports_apply = ag_ports_apply,
	.tenant_remove = ag_tenant_remove,
	.subnet_ensure = ag_subnet_ensure,
	.subnet_remove = ag_subnet_remove,
	.dhcp_ensure = ag_dhcp_ensure,
	.dhcp_remove = ag_dhcp_remove,
	.dhcp_pid = ag_dhcp_pid,
	.dhcp_leases = ag_dhcp_leases,
	.dhcp_fetch = ag_dhcp_fetch,
	.file_source = ag_file_source,
	.file_sink = ag_file_sink,
	.file_remove = ag_file_remove,
	.repl_dir = ag_repl_dir,
	.repl_source = ag_repl_source,
	.repl_sink = ag_repl_sink,
	.file_list = ag_file_list,
	.sweep = ag_sweep,
	.status = ag_status,
	.trim = ag_trim,
	.console = ag_console,
	.free = ag_free,
};

struct hostdrv *remote_new(const struct remote_conf *c, char *err)
{
	struct agent_drv *a;

	if (!(path_safe(c->agent) || name_valid(c->agent)) ||
	    !path_safe(c->statedir) ||
	    !path_safe(c->disks) || !path_safe(c->images) ||
	    !path_safe(c->ssh.key) ||
	    !path_safe(c->ssh.known_hosts) || !word_safe(c->ssh.host) ||
	    !word_safe(c->ssh.user) ||
	    (c->ssh.netns && *c->ssh.netns && !word_safe(c->ssh.netns))) {
		err_set(err, EINVAL, "cloud %s: bad ssh settings", c->cloud);
		return NULL;
	}
	a = calloc(1, sizeof *a);
	if (!a) {
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	a->base.ops = &agent_ops;
	snprintf(a->cloud, sizeof a->cloud, "%s", c->cloud);
	snprintf(a->host, sizeof a->host, "%s", c->ssh.host);
	snprintf(a->user, sizeof a->user, "%s", c->ssh.user);
	snprintf(a->key, sizeof a->key, "%s", c->ssh.key);
	snprintf(a->known_hosts, sizeof a->known_hosts, "%s",
		 c->ssh.known_hosts);
	snprintf(a->netns, sizeof a->netns, "%s",
		 c->ssh.netns ? c->ssh.netns : "");
	snprintf(a->agent, sizeof a->agent, "%s", c->agent);
	snprintf(a->statedir, sizeof a->statedir, "%s", c->statedir);
	snprintf(a->disks, sizeof a->disks, "%s", c->disks);
	snprintf(a->images, sizeof a->images, "%s", c->images);
	snprintf(a->marker, sizeof a->marker, "%s", c->marker);
	a->port = c->ssh.port;
	a->timeout_ms = c->ssh.timeout_ms > 0 ? c->ssh.timeout_ms : 5000;
	pthread_mutex_init(&a->io, NULL);
	pthread_mutex_init(&a->spare_lock, NULL);
	pthread_mutex_init(&a->cache, NULL);
	cond_init_monotonic(&a->wake);
	snprintf(a->why, sizeof a->why, "not reached yet");
	if (pthread_create(&a->thread, NULL, checker, a) == 0)
		a->thread_started = true;
	return &a->base;
}
