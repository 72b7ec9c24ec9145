/* Plans (plan.h): a copy of the model, the steps spec.c decides done on
 * it through the verbs' own checks, and for moves the checks a migration
 * starts with (mig_allowed, mig_ready), each with its cost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "dhcp.h"
#include "events.h"
#include "external.h"
#include "mig.h"
#include "plan.h"
#include "state.h"
#include "subnet.h"
#include "tenant.h"
#include "vm.h"
#include "yamlio.h"

/* A step of the plan as it shows. */
struct row {
	char what[400];         /* "OP PATH[ VALUE]" */
	char move[32];          /* "live", "cold", "placed", "3 VMs", or "" */
	uint64_t bytes;         /* to copy: disks, and memory if live */
	bool image_sent;        /* a move sends the VM's image along */
	int err;                /* its concern's errno, 0 if none */
	char why[ERRLEN];
};

/* A VM the plan has moved: where its disk really is. */
struct moved {
	char tenant[NAME_MAXLEN + 1], vm[NAME_MAXLEN + 1];
	struct cloud *at;
};

struct plan {
	struct model *copy;
	struct moved *moved;
	size_t nmoved;
	struct row *rows;
	size_t n, cap;
	/* disk bytes the plan's moves bring to each cloud so far, less those
	 * they take away (a cloud's room is for them all) */
	int64_t bound[CLOUDS_MAX];
	time_t made;
};

/* ---- the copy: clouds copied (their drivers asked only what they
 * hold), then the state, then what libvirt last told of each VM ---- */

static int clouds_copy(const struct model *m, struct model *c)
{
	size_t i;

	c->clouds = calloc(m->nclouds, sizeof *c->clouds);
	if (!c->clouds)
		return -ENOMEM;
	for (i = 0; i < m->nclouds; i++) {
		c->clouds[i] = malloc(sizeof *c->clouds[i]);
		if (!c->clouds[i])
			return -ENOMEM;
		memcpy(c->clouds[i], m->clouds[i], sizeof *c->clouds[i]);
		c->clouds[i]->evac_failed = (struct strbuf)STRBUF_INIT;
		c->clouds[i]->evacuating = false;
		c->nclouds++;
	}
	return 0;
}

/* What the state file does not keep: power as libvirt last told, the
 * disk made, an object some operation holds now. Both locks held. */
static void live_copy(const struct model *m, struct model *c)
{
	struct tenant *t, *rt;
	struct subnet *s, *rs;
	struct vm *v, *rv;
	size_t i, j;

	objset_each(&c->tenants, i, t) {
		if (!(rt = tenant_find(m, t->name)))
			continue;
		t->state = rt->state == OBJ_CHANGING ? OBJ_CHANGING : t->state;
		objset_each(&t->subnets, j, s)
			if ((rs = subnet_find(rt, s->name)) &&
			    rs->state == OBJ_CHANGING)
				s->state = OBJ_CHANGING;
		objset_each(&t->vms, j, v) {
			if (!(rv = vm_find(rt, v->name)))
				continue;
			v->power = rv->power;
			v->disk_made = rv->disk_made;
			if (rv->state == OBJ_CHANGING)
				v->state = OBJ_CHANGING;
		}
	}
}

static void copy_free(struct model *c)
{
	size_t i;

	if (!c)
		return;
	model_clear(c);
	for (i = 0; i < c->nclouds; i++)
		free(c->clouds[i]);
	free(c->clouds);
	events_free(c->events);
	pthread_mutex_destroy(&c->lock);
	for (i = 0; i < ARRAY_SIZE(c->subnet_locks); i++)
		pthread_mutex_destroy(&c->subnet_locks[i]);
	free(c);
}

static int copy_new(struct model *m, struct model **out, char *err)
{
	struct model *c = calloc(1, sizeof *c);
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r;

	if (!c)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	for (i = 0; i < ARRAY_SIZE(c->subnet_locks); i++)
		pthread_mutex_init(&c->subnet_locks[i], NULL);
	c->plan_copy = true;
	c->lockfd = -1;
	c->vni_min = m->vni_min;
	c->vni_max = m->vni_max;
	c->bandwidth_mib = m->bandwidth_mib;
	c->parallel = m->parallel;
	c->started = m->started;
	c->interrupted = m->interrupted;   /* Ctrl-C stops a plan too */
	memcpy(c->statedir, m->statedir, sizeof c->statedir);
	c->events = events_new();
	r = c->events ? clouds_copy(m, c) : -ENOMEM;
	pthread_mutex_lock(&m->lock);
	if (r == 0)
		r = state_serialize(m, &sb);
	if (r == 0)
		r = state_parse(c, "the state", sb_str(&sb), sb.len, err);
	if (r == 0)
		live_copy(m, c);
	pthread_mutex_unlock(&m->lock);
	sb_free(&sb);
	if (r == -ENOMEM)
		err_set(err, ENOMEM, "out of memory");
	if (r)
		copy_free(c);
	else
		*out = c;
	return r;
}

int plan_new(struct model *m, struct plan **out, char *err)
{
	struct plan *p = calloc(1, sizeof *p);
	int r;

	if (!p)
		return err_set(err, ENOMEM, "out of memory");
	r = copy_new(m, &p->copy, err);
	if (r) {
		free(p);
		return r;
	}
	p->made = time(NULL);
	*out = p;
	return 0;
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	copy_free(p->copy);
	free(p->moved);
	free(p->rows);
	free(p);
}

struct model *plan_model(struct plan *p)
{
	return p->copy;
}

/* ---- the checks of moves, and of the clouds a step needs ---- */

/* The host part of a cloud answers (a subnet's gateway and DHCP). */
static int host_answers(struct cloud *c, char *err)
{
	struct strbuf st = STRBUF_INIT;
	int r;

	c->host->ops->status(c->host, &st);
	r = strncmp(sb_str(&st), "up", 2) ?
	    err_set(err, EHOSTUNREACH, "cloud %s is %s", c->name,
		    sb_str(&st)) : 0;
	sb_free(&st);
	return r;
}

/* The cloud answers: its network (host) and its hypervisor. */
static int cloud_answers(struct cloud *c, char *err)
{
	struct strbuf st = STRBUF_INIT;
	int r = host_answers(c, err);

	if (r == 0 && c->virt->ops->status &&
	    (r = c->virt->ops->status(c->virt, &st)))
		err_set(err, -r, "cloud %s: %s", c->name, sb_str(&st));
	sb_free(&st);
	return r;
}

/* The VM's image on the target, or sent there from the source. */
static int image_judge(struct cloud *from, struct cloud *to,
		       const char *image, bool *sent, char *err)
{
	int r = to->virt->ops->image_check(to->virt, image, err);

	if (r != -ENOENT)
		return r;
	r = from->virt->ops->image_check(from->virt, image, err);
	if (r == -ENOENT)
		return err_set(err, ENOENT, "image %s is on neither cloud %s "
			       "nor cloud %s", image, from->name, to->name);
	*sent = r == 0;
	return r;
}

/* What a move needs of its VM, read under the copy's lock. */
struct mover {
	struct cloud *from;
	char uuid[VIRT_UUID_LEN + 1], image[NAME_MAXLEN + 1];
	bool placed, live, subnet;
	uint64_t memory;
};

static int move_take(struct model *c, const char *tname, const char *name,
		     struct cloud *to, struct mover *mv, char *err)
{
	struct tenant *t = tenant_find_visible(c, tname);
	struct vm *v = t ? vm_find_visible(t, name) : NULL;

	if (!v)
		return err_set(err, ENOENT, "no VM %s in tenant %s", name,
			       tname);
	mv->from = v->conf.location;
	mv->placed = !v->disk_made && v->power == VIRT_POWER_STOPPED;
	mv->live = v->power == VIRT_POWER_RUNNING;
	mv->subnet = v->conf.subnet[0] != '\0';
	mv->memory = v->conf.memory;
	snprintf(mv->uuid, sizeof mv->uuid, "%s", v->uuid);
	snprintf(mv->image, sizeof mv->image, "%s", v->conf.image);
	return mv->placed ? 0 : mig_allowed(v, to, "", err);
}

/* Where the disk of a VM the copy has on cloud where really is: there,
 * or where it was before the plan moved it. */
static struct cloud *disk_at(const struct plan *p, const char *tname,
			     const char *name, struct cloud *where)
{
	size_t i;

	for (i = 0; i < p->nmoved; i++)
		if (!strcmp(p->moved[i].tenant, tname) &&
		    !strcmp(p->moved[i].vm, name))
			return p->moved[i].at;
	return where;
}

static int moved_add(struct plan *p, const char *tname, const char *name,
		     struct cloud *at)
{
	struct moved *m;

	if (disk_at(p, tname, name, NULL))
		return 0;
	m = realloc(p->moved, (p->nmoved + 1) * sizeof *m);
	if (!m)
		return -ENOMEM;
	p->moved = m;
	m += p->nmoved++;
	snprintf(m->tenant, sizeof m->tenant, "%s", tname);
	snprintf(m->vm, sizeof m->vm, "%s", name);
	m->at = at;
	return 0;
}

/* A concern of the step w: the first one stays. */
static void worry(struct row *w, int r, const char *why)
{
	if (w->err || r >= 0)
		return;
	w->err = -r;
	snprintf(w->why, sizeof w->why, "%s", why && *why ? why
						       : strerror(-r));
}

/* A VM's move to cloud to (a location write, or with its subnet), as
 * vm_relocate and a migration's first phase judge it: refused (-errno) as
 * they would refuse it, or placed there in the copy, its cost added to w
 * or what the clouds say against it a concern of w. */
static int vm_move(struct plan *p, const char *tname, const char *name,
		   struct cloud *to, struct row *w, char *err)
{
	struct model *c = p->copy;
	size_t k = cloud_index(c, to);
	struct mover mv;
	struct mig_target t = { NULL, to, mv.uuid, name, false, p->bound[k],
				false };
	uint64_t cap = 0, bytes = 0;
	struct vm *v;
	int r;

	pthread_mutex_lock(&c->lock);
	r = move_take(c, tname, name, to, &mv, err);
	pthread_mutex_unlock(&c->lock);
	if (r)
		return r > 0 ? 0 : r;   /* 1: there already */
	if (mv.placed) {   /* defined there instead */
		if (!w->move[0])
			snprintf(w->move, sizeof w->move, "placed");
		r = vm_plan_set(c, tname, name, "location", 0, to->name, err);
		if (r == 0 && (r = cloud_answers(to, err)))
			worry(w, r, err);
		return r < 0 && !w->err ? r : 0;
	}
	t.from = disk_at(p, tname, name, mv.from);   /* moved twice */
	t.subnet = mv.subnet;
	r = mig_ready(&t, &cap, &bytes, err);
	if (r == 0)
		r = image_judge(t.from, to, mv.image, &w->image_sent, err);
	if (r == 0 && moved_add(p, tname, name, t.from))
		r = err_set(err, ENOMEM, "out of memory");
	worry(w, r, err);
	if (r == 0) {   /* here, and no longer there */
		p->bound[k] += (int64_t)bytes;
		p->bound[cloud_index(c, mv.from)] -= (int64_t)bytes;
	}
	w->bytes += r ? 0 : bytes + (mv.live ? mv.memory << 20 : 0);
	if (!w->move[0])
		snprintf(w->move, sizeof w->move, "%s", mv.live ? "live"
								: "cold");
	pthread_mutex_lock(&c->lock);
	v = vm_find_visible(tenant_find_visible(c, tname), name);
	v->conf.location = to;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* A subnet's move, as submig.c's move_take refuses it, with the names
 * of its VMs not on to (NUL after each) in names: 1 when all is there
 * already. The copy's lock held. */
static int subnet_take(struct model *c, const char *tname, const char *name,
		       struct cloud *to, struct strbuf *names, char *err)
{
	struct tenant *t = tenant_find_visible(c, tname);
	struct subnet *s = t ? subnet_find_visible(t, name) : NULL;
	struct vm *v;
	size_t i;

	if (!s)
		return err_set(err, ENOENT, "no subnet %s in tenant %s", name,
			       tname);
	if (to != s->home && external_check_home(c, tname, to, err))
		return -ENOENT;
	if (s->state != OBJ_READY && s->state != OBJ_ERROR)
		return err_set(err, EBUSY, "subnet %s is %s", name,
			       obj_state_name(s->state));
	if (s->home != to && (!to->vtep_ip || !s->home->vtep_ip))
		return err_set(err, EINVAL, "clouds %s and %s need a vtep to "
			       "move a subnet between them", s->home->name,
			       to->name);
	objset_each(&t->vms, i, v)
		if (!strcmp(v->conf.subnet, name) && v->conf.location != to &&
		    v->state != OBJ_DELETING && v->state != OBJ_CREATING) {
			sb_append(names, v->name, strlen(v->name) + 1);
		}
	if (s->home == to && names->len == 0)
		return 1;
	return cloud_takes(to, err) ? -EBUSY : 0;
}

static int subnet_move(struct plan *p, const struct plan_step *st,
		       struct row *w, char *err)
{
	struct model *c = p->copy;
	struct cloud *to = model_cloud(c, st->value);
	struct strbuf names = STRBUF_INIT;
	const char *tname = st->node->tenant, *vm;
	char why[ERRLEN];
	size_t n = 0;
	int r;

	if (!to)
		return err_set(err, ENOENT, "no cloud %s", st->value);
	pthread_mutex_lock(&c->lock);
	r = subnet_take(c, tname, st->node->subnet, to, &names, err);
	if (r == 0)
		subnet_find(tenant_find(c, tname), st->node->subnet)->home = to;
	pthread_mutex_unlock(&c->lock);
	if (r == 0 && (r = host_answers(to, err)))
		worry(w, r, err);
	for (vm = names.s; r == 0 && vm && vm < names.s + names.len;
	     vm += strlen(vm) + 1, n++) {
		struct row one;
		int e;

		memset(&one, 0, sizeof one);
		e = vm_move(p, tname, vm, to, &one, why);
		worry(&one, e, why);
		w->bytes += one.bytes;
		w->image_sent = w->image_sent || one.image_sent;
		if (one.err && !w->err)
			err_set(why, one.err, "VM %s: %s", vm, one.why);
		worry(w, -one.err, why);
	}
	if (n)
		snprintf(w->move, sizeof w->move, "%zu VM(s)", n);
	sb_free(&names);
	return r > 0 ? 0 : r;
}

/* ---- the steps ---- */

static int mkdir_do(struct model *c, const struct node *n, struct row *w,
		    char *err)
{
	switch (n->kind) {
	case NODE_TENANT:   /* its namespace on the default cloud */
		worry(w, host_answers(model_default_cloud(c), err), err);
		return tenant_plan_create(c, n->tenant, err);
	case NODE_DHCP:
		return dhcp_enable(c, n->tenant, n->subnet, err);
	case NODE_VM:
		return vm_plan_create(c, n->tenant, n->vm, err);
	default:
		return err_set(err, EPERM, "no mkdir here");
	}
}

static int rmdir_do(struct model *c, const struct node *n, char *err)
{
	switch (n->kind) {
	case NODE_TENANT:
		return tenant_plan_delete(c, n->tenant, err);
	case NODE_SUBNET:
		return subnet_plan_delete(c, n->tenant, n->subnet, err);
	case NODE_DHCP:
		return dhcp_disable(c, n->tenant, n->subnet, err);
	case NODE_VM:
		return vm_plan_delete(c, n->tenant, n->vm, err);
	default:
		return err_set(err, EPERM, "no rmdir here");
	}
}

/* subnets/new's line: the subnet in the copy, its home cloud asked. */
static int subnet_line(struct model *c, const char *tname, const char *line,
		      struct row *w, char *err)
{
	const char *at = strstr(line, " cloud=");
	char name[NAME_MAXLEN + 1] = "";
	struct cloud *home;
	int r = subnet_plan_create(c, tname, line, err);

	if (r || !at)
		return r;
	snprintf(name, sizeof name, "%.*s", (int)strcspn(at + 7, " "),
		 at + 7);
	home = model_cloud(c, name);
	if (home)
		worry(w, host_answers(home, err), err);
	return 0;
}

static int step_do(struct plan *p, const struct plan_step *s, struct row *w,
		   char *err)
{
	struct model *c = p->copy;
	const struct node *n = s->node;
	struct cloud *to;

	switch (s->kind) {
	case PLAN_MKDIR:
		return mkdir_do(c, n, w, err);
	case PLAN_RMDIR:
		return rmdir_do(c, n, err);
	case PLAN_SUBNET_NEW:
		return subnet_line(c, n->tenant, s->value, w, err);
	case PLAN_SUBNET_CLOUD:
		return subnet_move(p, s, w, err);
	case PLAN_VM_START:
	case PLAN_VM_STOP:
		return vm_plan_power(c, n->tenant, n->vm, s->kind ==
				     PLAN_VM_START ? VM_START : VM_STOP, err);
	case PLAN_VM_SET:
		return vm_plan_set(c, n->tenant, n->vm, n->file, s->num,
				   s->value, err);
	case PLAN_VM_LOCATION:
		to = model_cloud(c, s->value);
		return to ? vm_move(p, n->tenant, n->vm, to, w, err)
			  : err_set(err, ENOENT, "no cloud %s", s->value);
	default:
		return err_set(err, EINVAL, "not a step of a plan");
	}
}

static struct row *row_new(struct plan *p, const struct plan_step *s)
{
	struct row *w;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct row *rows = realloc(p->rows, cap * sizeof *rows);

		if (!rows)
			return NULL;
		p->rows = rows;
		p->cap = cap;
	}
	w = &p->rows[p->n++];
	memset(w, 0, sizeof *w);
	snprintf(w->what, sizeof w->what, "%s %s%s%s", s->op, s->path,
		 s->value && *s->value ? " " : "", s->value ? s->value : "");
	return w;
}

int plan_step(struct plan *p, const struct plan_step *s)
{
	struct row *w = row_new(p, s);
	char err[ERRLEN] = "";
	int r;

	if (!w)
		return -ENOMEM;
	log_quiet(1);
	r = step_do(p, s, w, err);
	log_quiet(0);
	worry(w, r, err);
	return r;
}

int plan_ran(struct plan *p, const struct plan_step *s, int r,
	     const char *why)
{
	struct row *w = row_new(p, s);

	if (!w)
		return -ENOMEM;
	worry(w, r, why);
	return r;
}

/* ---- what it shows ---- */

static void show_row(struct yw *w, const struct row *rw, size_t i)
{
	char key[24], why[ERRLEN + 32];

	snprintf(key, sizeof key, "%zu", i + 1);
	yw_str(w, key);
	yw_map_flow(w);
	yw_key_str(w, "do", rw->what);
	if (rw->move[0])
		yw_key_str(w, "move", rw->move);
	if (rw->bytes)
		yw_key_uint(w, "bytes", (unsigned long)rw->bytes);
	if (rw->image_sent)
		yw_key_str(w, "image", "sent");
	if (rw->err) {
		snprintf(why, sizeof why, "%s: %s", errno_name(rw->err),
			 rw->why);
		yw_key_str(w, "concern", why);
	}
	yw_map_end(w);
}

/* The head of a plan file: its document, when, and what a refusal of
 * the document says (code 0: none). */
static void show_head(struct yw *w, const char *of, time_t made, int code,
		      const char *why)
{
	char when[32], line[ERRLEN + 32];
	struct tm tm;

	gmtime_r(&made, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	yw_map(w);
	yw_key_str(w, "document", of);
	yw_key_str(w, "planned", when);
	if (code) {
		snprintf(line, sizeof line, "%s: %s", errno_name(code), why);
		yw_key_str(w, "refused", line);
	}
}

void plan_show(const struct plan *p, const char *of, struct strbuf *out)
{
	uint64_t bytes = 0;
	size_t i, concerns = 0;
	struct yw w;

	for (i = 0; i < p->n; i++) {
		bytes += p->rows[i].bytes;
		concerns += p->rows[i].err != 0;
	}
	yw_begin(&w, out);
	show_head(&w, of, p->made, 0, NULL);
	yw_key_uint(&w, "steps", p->n);
	yw_key_uint(&w, "bytes", (unsigned long)bytes);
	yw_key_uint(&w, "concerns", concerns);
	yw_str(&w, "plan");
	if (p->n)
		yw_map(&w);
	else
		yw_map_flow(&w);
	for (i = 0; i < p->n; i++)
		show_row(&w, &p->rows[i], i);
	yw_map_end(&w);
	yw_map_end(&w);
	yw_end(&w, false);
}

void plan_show_refused(const char *of, int code, const char *why,
		       struct strbuf *out)
{
	struct yw w;

	yw_begin(&w, out);
	show_head(&w, of, time(NULL), code, why);
	yw_key_uint(&w, "steps", 0);
	yw_str(&w, "plan");
	yw_map_flow(&w);
	yw_map_end(&w);
	yw_map_end(&w);
	yw_end(&w, false);
}

int plan_concern(const struct plan *p, char *err)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->rows[i].err)
			return err_set(err, p->rows[i].err, "nothing done: "
				       "step %zu of its plan (%s): %s", i + 1,
				       p->rows[i].what, p->rows[i].why);
	return 0;
}
