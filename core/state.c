#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/log.h"
#include "schema.h"
#include "secrule.h"
#include "yamlio.h"

bool state_listed(enum obj_state s)
{
	return s != OBJ_CREATING && s != OBJ_DELETING;
}

/* A subnet being made is in the file while its kernel work goes on
 * (subnet_create): a maasfs killed meanwhile makes it at the next mount. */
static bool subnet_saved(const struct subnet *s)
{
	return state_listed(s->state) || s->intent;
}

void state_write_subnet(struct yw *w, const struct subnet *s, bool spec)
{
	char buf[48];

	yw_str(w, s->name);
	spec ? yw_map_flow(w) : yw_map(w);
	cidr_format(&s->cidr, buf);
	yw_key_str(w, "cidr", buf);
	yw_key_str(w, "cloud", s->home->name);
	if (!spec)
		yw_key_uint(w, "vni", s->vni);
	yw_str(w, "dhcp");
	if (!s->dhcp.on) {
		yw_str(w, "off");
	} else {
		spec ? yw_map_flow(w) : yw_map(w);
		ip_format_range(s->dhcp.first, s->dhcp.last, buf);
		yw_key_str(w, "range", buf);
		yw_key_str(w, "domain", s->dhcp.domain);
		yw_map_end(w);
	}
	yw_map_end(w);
}

/* A running migration's phase (what the next mount finishes or rolls
 * back from), or the last one's result. */
static void serialize_mig(struct yw *w, const struct mig *g)
{
	char buf[32];

	yw_str(w, "migration");
	yw_map(w);
	yw_key_str(w, "phase", mig_phase_name(g->phase));
	yw_key_str(w, "mode", g->live ? "live" : "cold");
	if (g->tls)
		yw_key_str(w, "tls", "true");
	yw_key_str(w, "from", g->from->name);
	yw_key_str(w, "to", g->to->name);
	yw_key_str(w, "was_running", g->was_running ? "true" : "false");
	yw_key_uint(w, "started", (unsigned long)g->started);
	if (g->budget_ms)
		yw_key_uint(w, "budget_ms", g->budget_ms);
	if (!mig_running(g->phase)) {
		yw_key_uint(w, "bytes", (unsigned long)g->done);
		yw_key_uint(w, "time_ms", (unsigned long)g->total_ms);
		if (g->downtime_ms >= 0)
			yw_key_uint(w, "downtime_ms",
				    (unsigned long)g->downtime_ms);
		if (g->sum[0])
			yw_key_str(w, "checksum", g->sum);
		if (g->error) {
			snprintf(buf, sizeof buf, "%s", errno_name(g->error));
			yw_key_str(w, "error", buf);
			yw_key_str(w, "message", g->msg);
		}
	}
	yw_map_end(w);
}

/* A VM's test (vmtest.h): where, its clone and network, its phase. */
static void serialize_test(struct yw *w, const struct vm_test *t)
{
	yw_str(w, "test");
	yw_map(w);
	yw_key_str(w, "phase", test_phase_name(t->phase));
	yw_key_str(w, "cloud", t->cloud->name);
	yw_key_str(w, "from", t->from->name);
	yw_key_str(w, "uuid", t->uuid);
	yw_key_uint(w, "vni", t->vni);
	yw_key_uint(w, "since", (unsigned long)t->since);
	if (t->phase == TEST_UP) {
		yw_key_uint(w, "launch_ms", (unsigned long)t->launch_ms);
		yw_key_uint(w, "bytes", (unsigned long)t->bytes);
	}
	yw_map_end(w);
}

/* A VM's replication (repl.h): where, how often, the replica's
 * checkpoint and the one a cycle makes. */
static void serialize_repl(struct yw *w, const struct vm_repl *p)
{
	yw_str(w, "replication");
	yw_map(w);
	yw_key_str(w, "cloud", p->cloud->name);
	yw_key_uint(w, "interval", p->interval_s);
	if (p->ckpt[0]) {
		yw_key_str(w, "checkpoint", p->ckpt);
		yw_key_uint(w, "synced", (unsigned long)p->synced);
	}
	if (p->pending[0])
		yw_key_str(w, "pending", p->pending);
	yw_map_end(w);
}

static void write_vm_groups(struct yw *w, const struct vm *v)
{
	struct strbuf g = STRBUF_INIT;
	size_t i;

	for (i = 0; i < v->ngroups; i++)
		sb_printf(&g, "%s%s", i ? " " : "", v->groups[i]);
	yw_key_str(w, "secgroups", sb_str(&g));
	sb_free(&g);
}

void state_write_vm(struct yw *w, const struct vm *v, bool spec)
{
	char buf[32];

	yw_str(w, v->name);
	spec ? yw_map_flow(w) : yw_map(w);
	if (v->conf.subnet[0])
		yw_key_str(w, "subnet", v->conf.subnet);
	yw_key_uint(w, "vcpus", v->conf.vcpus);
	size_format(v->conf.memory, buf, sizeof buf);
	yw_key_str(w, "memory", buf);
	size_format(v->conf.disk, buf, sizeof buf);
	yw_key_str(w, "disk", buf);
	yw_key_str(w, "image", v->conf.image);
	yw_key_str(w, "location", v->conf.location->name);
	yw_key_str(w, "state", v->power == VIRT_POWER_RUNNING ? "running"
							       : "stopped");
	if (v->ngroups != 1 || strcmp(v->groups[0], SECGROUP_DEFAULT))
		write_vm_groups(w, v);
	if (!spec) {
		yw_key_str(w, "mac", v->mac);
		if (v->conf.ip) {
			ip_format(v->conf.ip, buf);
			yw_key_str(w, "ip", buf);
		}
		yw_key_str(w, "uuid", v->uuid);
		if (v->mig.phase != MIG_NONE)
			serialize_mig(w, &v->mig);
		if (v->test.phase != TEST_NONE)
			serialize_test(w, &v->test);
		if (v->repl.cloud)
			serialize_repl(w, &v->repl);
	}
	yw_map_end(w);
}

/* A tenant's external (external.c): "on", or "CLOUD=ADDRESS ...", its
 * uplinks; parse sets t->external and t->uplink. */
static void external_format(const struct model *m, const struct tenant *t,
			    struct strbuf *out)
{
	char a[IP_STRLEN];
	size_t k;
	bool any = false;

	for (k = 0; k < m->nclouds; k++) {
		if (!t->uplink[k])
			continue;
		ip_format(t->uplink[k], a);
		sb_printf(out, "%s%s=%s", any ? " " : "", m->clouds[k]->name,
			  a);
		any = true;
	}
	if (!any)
		sb_puts(out, "on");
}

static int external_parse(const struct model *m, struct tenant *t,
			  const char *text, char *err)
{
	char buf[4096], *tok, *save = NULL, *eq;
	struct cloud *c;
	uint32_t a;

	if (strlen(text) >= sizeof buf)
		return err_set(err, EINVAL, "tenant %s: external too long",
			       t->name);
	snprintf(buf, sizeof buf, "%s", text);
	memset(t->uplink, 0, sizeof t->uplink);
	t->external = true;
	if (!strcmp(buf, "on"))
		return 0;
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		eq = strchr(tok, '=');
		if (!eq)
			return err_set(err, EINVAL, "tenant %s: external is "
				       "'on' or CLOUD=ADDRESS ...", t->name);
		*eq = '\0';
		c = model_cloud(m, tok);
		if (!c || ip_parse(eq + 1, &a) || !a)
			return err_set(err, EINVAL, "tenant %s: external: "
				       "'%s=%s' is no cloud's address",
				       t->name, tok, eq + 1);
		t->uplink[cloud_index(m, c)] = a;
	}
	return 0;
}

/* A tenant's floating addresses: "ADDRESS=VM ...". */
static void floating_format(const struct tenant *t, struct strbuf *out)
{
	char a[IP_STRLEN];
	size_t i;

	for (i = 0; i < t->nfloats; i++) {
		ip_format(t->floats[i].addr, a);
		sb_printf(out, "%s%s=%s", i ? " " : "", a, t->floats[i].vm);
	}
}

static bool float_twice(const struct tenant *t, uint32_t addr)
{
	size_t i;

	for (i = 0; i < t->nfloats; i++)
		if (t->floats[i].addr == addr)
			return true;
	return false;
}

static int floating_parse(struct tenant *t, const char *text, char *err)
{
	char *buf = strdup(text), *tok, *save = NULL, *eq, why[ERRLEN];
	size_t cap = strlen(text) / 9 + 1;
	int r = 0;

	t->floats = calloc(cap, sizeof *t->floats);
	if (!buf || !t->floats) {
		free(buf);
		return err_set(err, ENOMEM, "out of memory");
	}
	for (tok = strtok_r(buf, " ", &save); r == 0 && tok;
	     tok = strtok_r(NULL, " ", &save)) {
		struct floating *f = &t->floats[t->nfloats];

		eq = strchr(tok, '=');
		if (eq)
			*eq = '\0';
		if (!eq || t->nfloats >= cap || t->nfloats >= FLOATING_MAX ||
		    ip_parse(tok, &f->addr) || name_check(eq + 1, "VM", why) ||
		    float_twice(t, f->addr))
			r = err_set(err, EINVAL, "tenant %s: floating is "
				    "ADDRESS=VM ..., each address once",
				    t->name);
		else
			snprintf(f->vm, sizeof f->vm, "%s", eq + 1);
		t->nfloats += r == 0;
	}
	free(buf);
	return r;
}

/* Are t's groups other than "default" alone with its first rules? */
static bool groups_changed(const struct tenant *t)
{
	const struct secgroup *g = &t->groups[0];

	return t->ngroups != 1 || g->nrules != 2 || !g->rules[0].in ||
	       g->rules[0].proto || g->rules[0].lo || g->rules[0].has_cidr ||
	       strcmp(g->rules[0].group, SECGROUP_DEFAULT) || g->rules[1].in ||
	       g->rules[1].proto || g->rules[1].lo || g->rules[1].has_cidr ||
	       g->rules[1].group[0];
}

/* secgroups: {NAME: "RULE; RULE", ...} */
static void write_groups(struct yw *w, const struct tenant *t)
{
	struct strbuf r = STRBUF_INIT;
	size_t i;

	yw_str(w, "secgroups");
	yw_map(w);
	for (i = 0; i < t->ngroups; i++) {
		r.len = 0;
		secrules_join(&t->groups[i], &r);
		yw_key_str(w, t->groups[i].name, sb_str(&r));
	}
	yw_map_end(w);
	sb_free(&r);
}

/* Its way out and its groups: external, secgroups, floating. */
static void write_network(struct yw *w, const struct model *m,
			  const struct tenant *t)
{
	struct strbuf sb = STRBUF_INIT;

	if (t->external) {
		external_format(m, t, &sb);
		yw_key_str(w, "external", sb_str(&sb));
	}
	state_write_groups(w, t);
	if (t->nfloats) {
		sb.len = 0;
		floating_format(t, &sb);
		yw_key_str(w, "floating", sb_str(&sb));
	}
	sb_free(&sb);
}

void state_write_groups(struct yw *w, const struct tenant *t)
{
	if (groups_changed(t))
		write_groups(w, t);
}

static void serialize_tenant(struct yw *w, const struct model *m,
			     const struct tenant *t)
{
	const struct subnet *s;
	const struct vm *v;
	size_t i, listed = 0;

	yw_str(w, t->name);
	yw_map(w);
	yw_key_uint(w, "id", t->id);
	if (t->uid || t->gid) {
		char owner[24];

		snprintf(owner, sizeof owner, "%u:%u", t->uid, t->gid);
		yw_key_str(w, "owner", owner);
	}
	if (quota_set(&t->quota)) {
		char quota[160];

		quota_format(&t->quota, quota, sizeof quota);
		yw_key_str(w, "quota", quota);
	}
	write_network(w, m, t);
	yw_str(w, "subnets");
	objset_each(&t->subnets, i, s)
		listed += subnet_saved(s);
	if (listed == 0)
		yw_map_flow(w);
	else
		yw_map(w);
	objset_each(&t->subnets, i, s)
		if (subnet_saved(s))
			state_write_subnet(w, s, false);
	yw_map_end(w);
	yw_str(w, "vms");
	listed = 0;
	objset_each(&t->vms, i, v)
		listed += state_listed(v->state);
	if (listed == 0)
		yw_map_flow(w);
	else
		yw_map(w);
	objset_each(&t->vms, i, v)
		if (state_listed(v->state))
			state_write_vm(w, v, false);
	yw_map_end(w);
	yw_map_end(w);
}

/* "draining: cloud1 cloud3": the clouds that take no new placements. */
static void write_draining(struct yw *w, const struct model *m)
{
	struct strbuf sb = STRBUF_INIT;
	size_t k;

	for (k = 0; k < m->nclouds; k++)
		if (m->clouds[k]->draining)
			sb_printf(&sb, "%s%s", sb.len ? " " : "",
				  m->clouds[k]->name);
	if (sb.len)
		yw_key_str(w, "draining", sb_str(&sb));
	sb_free(&sb);
}

/* The model as state.yaml. With reuse (the state writer), each tenant's
 * entry as last written is reused unless it was marked changed
 * (state_commit_tenant) or the whole model was committed since: a change
 * to one tenant of thousands writes that one and copies the others
 * (~0.1 ms instead of ~3 ms for 5,000). A mark comes after the change it
 * covers and before its ticket, and this runs under the lock after the
 * writer took the ticket: an entry reused was written after every change
 * marked before the ticket. Without reuse the model is only read. */
static int serialize(struct model *m, struct strbuf *out, bool reuse)
{
	uint64_t epoch = __atomic_load_n(&m->state_epoch, __ATOMIC_SEQ_CST);
	struct tenant *t;
	struct yw w;
	size_t i, at, listed = 0;

	if (yw_begin(&w, out))
		return -ENOMEM;
	yw_map(&w);
	yw_key_uint(&w, "version", STATE_VERSION);
	yw_key_str(&w, "instance", m->instance);
	if (m->domains_made)
		yw_key_str(&w, "domains", "made");
	write_draining(&w, m);
	yw_str(&w, "tenants");
	objset_each(&m->tenants, i, t)
		listed += state_listed(t->state);
	if (listed == 0)
		yw_map_flow(&w);
	else
		yw_map(&w);
	objset_each(&m->tenants, i, t) {
		if (!state_listed(t->state))
			continue;
		if (!reuse) {
			serialize_tenant(&w, m, t);
			continue;
		}
		if (!__atomic_exchange_n(&t->changed, 0, __ATOMIC_SEQ_CST) &&
		    t->saved_epoch == epoch && t->saved.len) {
			yw_entry_raw(&w, t->saved.s, t->saved.len);
			continue;
		}
		at = yw_entry_start(&w);
		serialize_tenant(&w, m, t);
		sb_reset(&t->saved);   /* left empty, never reused, on ENOMEM */
		if (out->len > at)
			sb_append(&t->saved, out->s + at, out->len - at);
		t->saved_epoch = epoch;
	}
	yw_map_end(&w);
	yw_map_end(&w);
	return yw_end(&w, true);
}

int state_serialize(const struct model *m, struct strbuf *out)
{
	return serialize((struct model *)m, out, false);   /* reads only */
}

/* The state writer: one thread replaces state.yaml for every change.
 * state_commit() asks for the model as it is now and returns a ticket at
 * once, so the caller can do its kernel work while the file goes to disk;
 * state_committed() waits until a commit that began after the ticket has
 * finished. Changes that ask while a commit is under way share the next
 * one (group commit). */
struct state_saver {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t asked_cv, done_cv;
	/* protected by lock: */
	uint64_t asked, done;   /* tickets given out, and committed */
	int result;             /* of the last commit (0 or -errno) */
	bool stop;
	bool exited;            /* late callers write the file themselves */
};

static size_t state_max(const struct model *m)
{
	return m->state_max ? m->state_max : STATE_MAX;
}

static int state_write(struct model *m)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX], spare[PATH_MAX];
	int r;

	snprintf(path, sizeof path, "%s/%s", m->statedir, STATE_FILE);
	snprintf(spare, sizeof spare, "%s/%s", m->statedir, STATE_SPARE);
	pthread_mutex_lock(&m->lock);
	r = serialize(m, &sb, true);
	pthread_mutex_unlock(&m->lock);
	if (r == 0 && sb.len > state_max(m))
		r = -EFBIG;    /* the next mount could not read it back */
	if (r == 0)
		r = file_write_swap(path, spare, sb.s, sb.len, 0600);
	if (r)
		log_warnx("cannot write %s: %s", path, strerror(-r));
	sb_free(&sb);
	return r;
}

static void *saver_main(void *arg)
{
	struct model *m = arg;
	struct state_saver *sv = m->saver;
	uint64_t ticket;
	int r;

	pthread_mutex_lock(&sv->lock);
	for (;;) {
		while (sv->done == sv->asked && !sv->stop)
			pthread_cond_wait(&sv->asked_cv, &sv->lock);
		if (sv->done == sv->asked) {
			sv->exited = true;
			break;
		}
		ticket = sv->asked;
		pthread_mutex_unlock(&sv->lock);
		r = state_write(m);
		pthread_mutex_lock(&sv->lock);
		sv->done = ticket;
		sv->result = r;
		pthread_cond_broadcast(&sv->done_cv);
	}
	pthread_mutex_unlock(&sv->lock);
	return NULL;
}

int state_saver_start(struct model *m, char *err)
{
	struct state_saver *sv = calloc(1, sizeof *sv);
	sigset_t old;
	int r;

	if (!sv)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&sv->lock, NULL);
	pthread_cond_init(&sv->asked_cv, NULL);
	pthread_cond_init(&sv->done_cv, NULL);
	m->saver = sv;
	/* signals are for the threads that serve requests */
	log_block_signals(&old);
	r = pthread_create(&sv->thread, NULL, saver_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		m->saver = NULL;
		pthread_cond_destroy(&sv->done_cv);
		pthread_cond_destroy(&sv->asked_cv);
		pthread_mutex_destroy(&sv->lock);
		free(sv);
		return err_set(err, r, "starting the state writer: %s",
			       strerror(r));
	}
	return 0;
}

void state_saver_stop(struct model *m)
{
	struct state_saver *sv = m->saver;

	if (!sv)
		return;
	pthread_mutex_lock(&sv->lock);
	sv->stop = true;   /* after what was asked is written */
	pthread_cond_signal(&sv->asked_cv);
	pthread_mutex_unlock(&sv->lock);
	pthread_join(sv->thread, NULL);
}

void state_saver_free(struct model *m)
{
	struct state_saver *sv = m->saver;

	if (!sv)
		return;
	pthread_cond_destroy(&sv->done_cv);
	pthread_cond_destroy(&sv->asked_cv);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
	m->saver = NULL;
}

static uint64_t ticket_take(struct model *m)
{
	struct state_saver *sv = m->saver;
	uint64_t ticket = 0;   /* no writer any more: the caller writes */

	if (m->plan_copy)
		return 0;
	pthread_mutex_lock(&sv->lock);
	if (!sv->exited) {
		ticket = ++sv->asked;
		pthread_cond_signal(&sv->asked_cv);
	}
	pthread_mutex_unlock(&sv->lock);
	return ticket;
}

uint64_t state_commit(struct model *m)
{
	__atomic_add_fetch(&m->state_epoch, 1, __ATOMIC_SEQ_CST);
	return ticket_take(m);
}

uint64_t state_commit_tenant(struct model *m, struct tenant *t)
{
	__atomic_store_n(&t->changed, 1, __ATOMIC_SEQ_CST);
	return ticket_take(m);
}

int state_committed(struct model *m, uint64_t ticket, char *err)
{
	struct state_saver *sv = m->saver;
	int r;

	if (m->plan_copy)   /* a plan's copy is never saved */
		return 0;
	if (ticket == 0) {
		r = state_write(m);
	} else {
		pthread_mutex_lock(&sv->lock);
		while (sv->done < ticket)
			pthread_cond_wait(&sv->done_cv, &sv->lock);
		r = sv->result;
		pthread_mutex_unlock(&sv->lock);
	}
	if (r == -EFBIG)
		err_set(err, EFBIG, "the state would pass %zu bytes, the most "
			"a mount reads back (%s/%s)", state_max(m),
			m->statedir, STATE_FILE);
	else if (r)
		err_set(err, -r, "cannot write %s/%s: %s", m->statedir,
			STATE_FILE, strerror(-r));
	return r;
}

static bool mac_taken_elsewhere(const struct model *m, const struct vm *self,
				const char *mac)
{
	const struct tenant *t;
	const struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v)
			if (v != self && !strcmp(v->mac, mac))
				return true;
	return false;
}

/* An optional number of a record: 1 when there (in *out), 0 when not. */
static int opt_uint(struct ydoc *d, yaml_node_t *n, const char *key,
		    unsigned long *out, char *err)
{
	yaml_node_t *x = ydoc_get(d, n, key);

	if (!x)
		return 0;
	return ydoc_uint(d, x, key, 0, ULONG_MAX, out, err) ? -EINVAL : 1;
}

/* An optional key that reads "true". */
static bool opt_true(struct ydoc *d, yaml_node_t *n, const char *key)
{
	yaml_node_t *x = ydoc_get(d, n, key);

	return x && ydoc_scalar(x) && !strcmp(ydoc_scalar(x), "true");
}

/* A migration record's numbers, each optional. */
static int parse_mig_numbers(struct ydoc *d, yaml_node_t *n, struct mig *g,
			     char *err)
{
	unsigned long u;
	int r;

	g->downtime_ms = -1;
	if ((r = opt_uint(d, n, "started", &u, err)) < 0)
		return r;
	if (r)
		g->started = (time_t)u;
	if ((r = opt_uint(d, n, "bytes", &u, err)) < 0)
		return r;
	if (r)
		g->done = g->total = u;
	if ((r = opt_uint(d, n, "time_ms", &u, err)) < 0)
		return r;
	if (r)
		g->total_ms = (int64_t)u;
	if ((r = opt_uint(d, n, "downtime_ms", &u, err)) < 0)
		return r;
	if (r)
		g->downtime_ms = (int64_t)u;
	if ((r = opt_uint(d, n, "budget_ms", &u, err)) < 0)
		return r;
	if (r && (u == 0 || u > MIG_BUDGET_MAX_MS))
		return ydoc_err(d, n, err, "a migration's budget_ms is 1 to "
				"%u", MIG_BUDGET_MAX_MS);
	if (r)
		g->budget_ms = (unsigned)u;
	return 0;
}

static int parse_mig(struct model *m, struct ydoc *d, yaml_node_t *n,
		     const char *vm, struct mig *g, char *err)
{
	static const char *const keys[] = { "phase", "mode", "from", "to",
					    "was_running", "started", "bytes",
					    "time_ms", "downtime_ms",
					    "budget_ms", "checksum", "error",
					    "message", "tls", NULL };
	static const char *const need[] = { "phase", "mode", "from", "to",
					    "was_running" };
	const char *f[ARRAY_SIZE(need)];
	yaml_node_t *x;
	size_t i;
	int r;

	if (ydoc_check_map(d, n, "a migration", keys, err))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(need); i++) {
		x = ydoc_get(d, n, need[i]);
		f[i] = x ? ydoc_scalar(x) : NULL;
		if (!f[i])
			return ydoc_err(d, x ? x : n, err, "VM %s: migration %s "
					"missing", vm, need[i]);
	}
	g->from = model_cloud(m, f[2]);
	g->to = model_cloud(m, f[3]);
	if (mig_phase_parse(f[0], &g->phase) || g->phase == MIG_NONE ||
	    (strcmp(f[1], "live") && strcmp(f[1], "cold")) || !g->from ||
	    !g->to || g->from == g->to ||
	    (strcmp(f[4], "true") && strcmp(f[4], "false")))
		return ydoc_err(d, n, err, "VM %s: bad migration record", vm);
	g->live = !strcmp(f[1], "live");
	g->was_running = !strcmp(f[4], "true");
	g->tls = g->live && opt_true(d, n, "tls");
	if ((r = parse_mig_numbers(d, n, g, err)))
		return r;
	if ((x = ydoc_get(d, n, "checksum")) && ydoc_scalar(x))
		snprintf(g->sum, sizeof g->sum, "%s", ydoc_scalar(x));
	if ((x = ydoc_get(d, n, "error")) && ydoc_scalar(x))
		g->error = errno_value(ydoc_scalar(x));
	if ((x = ydoc_get(d, n, "message")) && ydoc_scalar(x))
		snprintf(g->msg, sizeof g->msg, "%s", ydoc_scalar(x));
	return 0;
}

/* A VM's test record: its clouds known, its clone's uuid and its VNI
 * used once. */
static int parse_test(struct model *m, struct ydoc *d, yaml_node_t *n,
		      struct vm *v, char *err)
{
	static const char *const keys[] = { "phase", "cloud", "from", "uuid",
					    "vni", "since", "launch_ms",
					    "bytes", NULL };
	const char *f[4] = { NULL };
	static const char *const need[] = { "phase", "cloud", "from", "uuid" };
	struct vm_test *t = &v->test;
	unsigned long u[4] = { 0 };
	size_t i;

	if (ydoc_check_map(d, n, "a test", keys, err))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(need); i++)
		f[i] = ydoc_scalar(ydoc_get(d, n, need[i]));
	for (i = 0; i < 4; i++)
		if (opt_uint(d, n, keys[4 + i], &u[i], err) < 0)
			return -EINVAL;
	t->cloud = f[1] ? model_cloud(m, f[1]) : NULL;
	t->from = f[2] ? model_cloud(m, f[2]) : NULL;
	if (!f[0] || test_phase_parse(f[0], &t->phase) ||
	    t->phase == TEST_NONE || !t->cloud || !t->from || !f[3] ||
	    !uuid_valid(f[3]) || vm_find_uuid(m, f[3]) ||
	    vm_test_uuid(m, f[3]) || u[0] < 1 || u[0] > 16777215 ||
	    idset_take(&m->vnis, (uint32_t)u[0]))
		return ydoc_err(d, n, err, "VM %s: bad test record (or its "
				"VNI or uuid used twice)", v->name);
	snprintf(t->uuid, sizeof t->uuid, "%s", f[3]);
	t->vni = (uint32_t)u[0];
	t->since = (time_t)u[1];
	t->launch_ms = (int64_t)u[2];
	t->bytes = u[3];
	return 0;
}

/* A checkpoint's name as repl.c makes them. */
static bool ckpt_name_ok(const char *s)
{
	size_t n = strlen(COPY_REPL_CKPT);

	return s && !strncmp(s, COPY_REPL_CKPT, n) && s[n] &&
	       strlen(s) < REPL_CKPT_LEN &&
	       strspn(s + n, "0123456789") == strlen(s + n);
}

/* A VM's replication record: its cloud known and not the VM's. */
static int parse_repl(struct model *m, struct ydoc *d, yaml_node_t *n,
		      struct vm *v, char *err)
{
	static const char *const keys[] = { "cloud", "interval", "checkpoint",
					    "synced", "pending", NULL };
	const char *cloud = ydoc_scalar(ydoc_get(d, n, "cloud"));
	const char *ck = ydoc_scalar(ydoc_get(d, n, "checkpoint"));
	const char *pe = ydoc_scalar(ydoc_get(d, n, "pending"));
	struct vm_repl *p = &v->repl;
	unsigned long iv = 0, synced = 0;

	if (ydoc_check_map(d, n, "a replication", keys, err) ||
	    opt_uint(d, n, "interval", &iv, err) < 0 ||
	    opt_uint(d, n, "synced", &synced, err) < 0)
		return -EINVAL;
	p->cloud = cloud ? model_cloud(m, cloud) : NULL;
	if (!p->cloud || p->cloud == v->conf.location || iv < 1 ||
	    iv > 86400 || (ck && !ckpt_name_ok(ck)) ||
	    (pe && !ckpt_name_ok(pe)))
		return ydoc_err(d, n, err, "VM %s: bad replication record",
				v->name);
	p->interval_s = (unsigned)iv;
	snprintf(p->ckpt, sizeof p->ckpt, "%s", ck ?: "");
	snprintf(p->pending, sizeof p->pending, "%s", pe ?: "");
	p->synced = (time_t)synced;
	return 0;
}

/* ---- the model from the schema's records (schema.h): what a record
 * means against the model (clouds, ids, VNIs, MACs, UUIDs used once) ---- */

static int build_subnet(struct model *m, struct ydoc *d, struct tenant *t,
			const struct sc_subnet *r, char *err)
{
	struct cloud *home = model_cloud(m, r->cloud);
	struct subnet *s;

	if (!home)
		return ydoc_err(d, r->cloud_node, err, "subnet %s: unknown "
				"cloud '%s'", r->name, r->cloud);
	if (idset_has(&m->vnis, r->vni))
		return ydoc_err(d, r->vni_node, err, "vni %u is used twice",
				r->vni);
	s = subnet_new(t, r->name, &r->cidr, r->vni, home);
	if (!s || idset_take(&m->vnis, s->vni) ||
	    objset_add(&t->subnets, s)) {
		subnet_free(s);
		return err_set(err, ENOMEM, "out of memory");
	}
	if (r->dhcp == 0)
		return 0;
	dhcp_defaults(s, &s->dhcp);
	if (r->has_range) {
		s->dhcp.first = r->first;
		s->dhcp.last = r->last;
	}
	if (r->has_domain)
		snprintf(s->dhcp.domain, sizeof s->dhcp.domain, "%s",
			 r->domain);
	return 0;
}

/* What a VM's record says of its configuration. */
static void vm_conf_of(const struct sc_vm *r, struct vm *v)
{
	snprintf(v->conf.subnet, sizeof v->conf.subnet, "%s", r->subnet);
	if (r->vcpus)
		v->conf.vcpus = r->vcpus;
	if (r->memory)
		v->conf.memory = r->memory;
	if (r->disk)
		v->conf.disk = r->disk;
	if (r->image[0])
		snprintf(v->conf.image, sizeof v->conf.image, "%s", r->image);
	v->power = r->running == 1 ? VIRT_POWER_RUNNING : VIRT_POWER_STOPPED;
	snprintf(v->mac, sizeof v->mac, "%s", r->mac);
	snprintf(v->uuid, sizeof v->uuid, "%s", r->uuid);
	v->conf.ip = r->ip;
}

static int load_groups(struct tenant *t, const struct sc_kv *kv, size_t n,
		       char *err)
{
	const char *names[SECGROUPS_MAX + 1], *texts[SECGROUPS_MAX + 1];
	size_t i;

	if (n > SECGROUPS_MAX)
		return err_set(err, EINVAL, "too many groups");
	for (i = 0; i < n; i++) {
		names[i] = kv[i].k;
		texts[i] = kv[i].v;
	}
	return secgroups_load(t, names, texts, n, err);
}

/* A VM's groups from the state: each one of its tenant's. */
static int vm_groups_of(struct vm *v, const char *text, char *err)
{
	char buf[VM_GROUPS_MAX * (NAME_MAXLEN + 2)], *tok, *save = NULL;

	v->ngroups = 0;
	snprintf(buf, sizeof buf, "%s", text);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (v->ngroups == VM_GROUPS_MAX ||
		    !secgroup_find(v->tenant, tok))
			return err_set(err, EINVAL, "VM %s: no group %.64s",
				       v->name, tok);
		snprintf(v->groups[v->ngroups++], NAME_MAXLEN + 1, "%s", tok);
	}
	return v->ngroups ? 0 : err_set(err, EINVAL, "VM %s: no group",
					v->name);
}

static int build_vm(struct model *m, struct ydoc *d, struct tenant *t,
		    const struct sc_vm *r, char *err)
{
	struct subnet *s = r->subnet[0] ? subnet_find(t, r->subnet) : NULL;
	char why[ERRLEN];
	struct vm *v;

	if (vm_find_uuid(m, r->uuid))
		return ydoc_err(d, sc_vm_node(d, r, "uuid"), err, "VM %s: bad "
				"or duplicate uuid", r->name);
	v = vm_new(t, r->name);
	if (!v || objset_add(&t->vms, v)) {
		vm_free(v);
		return err_set(err, ENOMEM, "out of memory");
	}
	vm_conf_of(r, v);
	v->conf.location = model_cloud(m, r->location);
	if (!v->conf.location)
		return ydoc_err(d, sc_vm_node(d, r, "location"), err, "VM %s: "
				"unknown cloud '%s'", r->name, r->location);
	if (mac_taken_elsewhere(m, v, r->mac))
		return ydoc_err(d, sc_vm_node(d, r, "mac"), err, "VM %s: bad "
				"or duplicate mac '%s'", r->name, r->mac);
	if (r->ip && (!s || !cidr_contains(&s->cidr, r->ip)))
		return ydoc_err(d, sc_vm_node(d, r, "ip"), err, "VM %s: ip '%s' "
				"is not an address of its subnet", r->name,
				ydoc_scalar(sc_vm_node(d, r, "ip")));
	if (r->secgroups && vm_groups_of(v, r->secgroups, why))
		return ydoc_err(d, sc_vm_node(d, r, "secgroups"), err, "%s",
				why);
	if (r->migration &&
	    parse_mig(m, d, r->migration, r->name, &v->mig, err))
		return -EINVAL;
	if (r->test && parse_test(m, d, r->test, v, err))
		return -EINVAL;
	if (r->replication)
		return parse_repl(m, d, r->replication, v, err);
	return 0;
}

static int build_tenant(struct model *m, struct ydoc *d,
			const struct sc_tenant *r, char *err)
{
	char why[ERRLEN];
	struct tenant *t;
	size_t i;
	int e = 0;

	if (idset_has(&m->tenant_ids, r->id))
		return ydoc_err(d, r->id_node, err, "tenant id %u is used "
				"twice", r->id);
	t = tenant_new(r->name, r->id);
	if (!t || idset_take(&m->tenant_ids, t->id) ||
	    objset_add(&m->tenants, t)) {
		tenant_free(t);
		return err_set(err, ENOMEM, "out of memory");
	}
	if (r->has_owner) {
		t->uid = r->uid;
		t->gid = r->gid;
	}
	t->quota = r->quota;
	if (r->external && external_parse(m, t, r->external, why))
		return ydoc_err(d, r->node, err, "%s", why);
	if (r->floating && floating_parse(t, r->floating, why))
		return ydoc_err(d, r->node, err, "%s", why);
	if (r->groups && load_groups(t, r->groups, r->ngroups, why))
		return ydoc_err(d, r->node, err, "tenant %s: %s", t->name, why);
	for (i = 0; e == 0 && i < r->nsubnets; i++)
		e = build_subnet(m, d, t, &r->subnets[i], err);
	for (i = 0; e == 0 && i < r->nvms; i++)
		e = build_vm(m, d, t, &r->vms[i], err);
	return e;
}

static bool instance_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == INSTANCE_LEN;
}

/* "domains: made": a domain was defined once (model.h: domains_made). */
static int parse_domains(struct model *m, struct ydoc *d, yaml_node_t *root,
			 char *err)
{
	yaml_node_t *x = ydoc_get(d, root, "domains");

	if (x && (!ydoc_scalar(x) || strcmp(ydoc_scalar(x), "made")))
		return ydoc_err(d, x, err, "domains must be 'made'");
	m->domains_made = x != NULL;
	return 0;
}

/* A cloud named there that the clouds file no longer lists is forgotten
 * (it holds nothing: the state names no object on it, or the load fails
 * there). */
static int parse_draining(struct model *m, struct ydoc *d, yaml_node_t *root,
			  char *err)
{
	yaml_node_t *x = ydoc_get(d, root, "draining");
	char list[CLOUDS_MAX * (NAME_MAXLEN + 1) + 1], *tok, *save = NULL;
	struct cloud *c;

	if (!x)
		return 0;
	if (!ydoc_scalar(x) || strlen(ydoc_scalar(x)) >= sizeof list)
		return ydoc_err(d, x, err, "draining must be cloud names");
	snprintf(list, sizeof list, "%s", ydoc_scalar(x));
	for (tok = strtok_r(list, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (name_check(tok, "cloud", err))
			return ydoc_err(d, x, err, "draining: '%s' is no cloud "
					"name", tok);
		c = model_cloud(m, tok);
		if (c)
			c->draining = true;
		else
			log_warnx("state: draining cloud %s is no longer in "
				  "the clouds file", tok);
	}
	return 0;
}

int state_parse(struct model *m, const char *name, const char *buf,
		size_t len, char *err)
{
	static const char *const keys[] = { "version", "instance", "domains",
					    "draining", "tenants", NULL };
	struct ydoc d;
	yaml_node_t *root, *version, *instance, *tenants;
	struct sc_doc sc;
	unsigned long v;
	size_t i;
	int r;

	r = ydoc_load(&d, name, buf, len, err);
	if (r)
		return r;
	root = ydoc_root(&d);
	if (d.doc.end_implicit) {
		r = ydoc_err(&d, NULL, err, "truncated: the end marker '...' "
			     "is missing");
		goto out;
	}
	r = ydoc_check_map(&d, root, "the state", keys, err);
	if (r)
		goto out;
	version = ydoc_get(&d, root, "version");
	instance = ydoc_get(&d, root, "instance");
	tenants = ydoc_get(&d, root, "tenants");
	if (!version || !instance || !tenants) {
		r = ydoc_err(&d, root, err, "version, instance and tenants are "
			     "required");
		goto out;
	}
	r = ydoc_uint(&d, version, "version", STATE_VERSION, STATE_VERSION,
		      &v, err);
	if (r)
		goto out;
	if (!ydoc_scalar(instance) || !instance_valid(ydoc_scalar(instance))) {
		r = ydoc_err(&d, instance, err, "instance must be %d hex "
			     "digits", INSTANCE_LEN);
		goto out;
	}
	snprintf(m->instance, sizeof m->instance, "%s", ydoc_scalar(instance));
	r = parse_domains(m, &d, root, err);
	if (r == 0)
		r = parse_draining(m, &d, root, err);
	if (r)
		goto out;
	r = schema_tenants(&d, tenants, SCHEMA_STATE, NULL, &sc, err);
	for (i = 0; r == 0 && i < sc.n; i++)
		r = build_tenant(m, &d, &sc.tenants[i], err);
	schema_free(&sc);
	if (r)
		r = -EINVAL;   /* a state file is bad, whatever is wrong */
out:
	if (r)
		model_clear(m);
	ydoc_free(&d);
	return r;
}

static int new_instance(char out[INSTANCE_LEN + 1])
{
	unsigned char raw[INSTANCE_LEN / 2];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t i;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, raw, sizeof raw);
	close(fd);
	if (n != (ssize_t)sizeof raw)
		return -EIO;
	for (i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

int state_load(struct model *m, char *err)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof path, "%s/%s", m->statedir, STATE_FILE);
	r = file_read(path, &sb, STATE_MAX);
	if (r == -ENOENT) {
		r = new_instance(m->instance);
		if (r)
			return err_set(err, -r, "cannot make an instance id: "
				       "%s", strerror(-r));
		log_info("no %s: starting a new estate, instance %s", path,
			 m->instance);
		return state_committed(m, state_commit(m), err);
	}
	if (r)
		return err_set(err, -r, "cannot read %s: %s", path,
			       strerror(-r));
	r = state_parse(m, path, sb_str(&sb), sb.len, err);
	sb_free(&sb);
	return r;
}
