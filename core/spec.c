#include "spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "dhcp.h"
#include "external.h"
#include "secgroup.h"
#include "mig.h"
#include "ops.h"
#include "plan.h"
#include "schema.h"
#include "state.h"
#include "submig.h"
#include "subnet.h"
#include "vm.h"
#include "yamlio.h"

/* ---- reading ---- */

/* A mapping's style is chosen at its start: count first. */
static size_t count_subnets(const struct tenant *t)
{
	const struct subnet *s;
	size_t i, n = 0;

	objset_each(&t->subnets, i, s)
		n += state_listed(s->state);
	return n;
}

static size_t count_vms(const struct tenant *t)
{
	const struct vm *v;
	size_t i, n = 0;

	objset_each(&t->vms, i, v)
		n += state_listed(v->state);
	return n;
}

/* floating: {ADDRESS: VM, ...} */
static void show_floats(struct yw *w, const struct tenant *t)
{
	char a[IP_STRLEN];
	size_t i;

	yw_str(w, "floating");
	yw_map_flow(w);
	for (i = 0; i < t->nfloats; i++) {
		ip_format(t->floats[i].addr, a);
		yw_key_str(w, a, t->floats[i].vm);
	}
	yw_map_end(w);
}

static void show_tenant_body(struct yw *w, const struct tenant *t)
{
	const struct subnet *s;
	const struct vm *v;
	size_t i;

	yw_str(w, t->name);
	yw_map(w);
	yw_key_str(w, "external", t->external ? "on" : "off");
	state_write_groups(w, t);
	if (t->nfloats)
		show_floats(w, t);
	yw_str(w, "subnets");
	if (count_subnets(t))
		yw_map(w);
	else
		yw_map_flow(w);
	objset_each(&t->subnets, i, s)
		if (state_listed(s->state))
			state_write_subnet(w, s, true);
	yw_map_end(w);
	yw_str(w, "vms");
	if (count_vms(t))
		yw_map(w);
	else
		yw_map_flow(w);
	objset_each(&t->vms, i, v)
		if (state_listed(v->state))
			state_write_vm(w, v, true);
	yw_map_end(w);
	yw_map_end(w);
}

int spec_show(const struct model *m, const char *tenant, struct strbuf *out)
{
	const struct tenant *t;
	struct yw w;
	size_t i, n = 0;

	if (yw_begin(&w, out))
		return -ENOMEM;
	yw_map(&w);
	yw_str(&w, "tenants");
	objset_each(&m->tenants, i, t)
		if (state_listed(t->state) && (!tenant || !strcmp(t->name, tenant)))
			n++;
	if (n)
		yw_map(&w);
	else
		yw_map_flow(&w);
	objset_each(&m->tenants, i, t)
		if (state_listed(t->state) && (!tenant || !strcmp(t->name, tenant)))
			show_tenant_body(&w, t);
	yw_map_end(&w);
	yw_map_end(&w);
	return yw_end(&w, false);
}

/* ---- the document written ---- */

/* What running VM v would need stopped for. */
static const char *needs_stop(const struct vm *v, const struct sc_vm *s)
{
	if (s->subnet[0] && strcmp(s->subnet, v->conf.subnet))
		return "subnet";
	if (s->vcpus && s->vcpus != v->conf.vcpus)
		return "vcpus";
	if (s->memory && s->memory != v->conf.memory)
		return "memory";
	if (s->disk && s->disk != v->conf.disk)
		return "disk";
	if (s->image[0] && strcmp(s->image, v->conf.image))
		return "image";
	return NULL;
}

/* What a subnet of the document means against the model. */
static int check_subnet(const struct model *m, struct ydoc *d,
			const struct tenant *cur, const struct sc_subnet *s,
			char *err)
{
	const struct subnet *old = cur ? subnet_find_visible(cur, s->name)
				       : NULL;
	const struct cloud *c = s->cloud[0] ? model_cloud(m, s->cloud) : NULL;
	char was[CIDR_STRLEN], why[ERRLEN];

	if (s->cloud[0] && !c)
		return ydoc_fail(d, s->cloud_node, ENOENT, err,
				 "subnet %s: no cloud %s", s->name, s->cloud);
	if (c && (!old || old->home != c) && cloud_takes(c, why))
		return ydoc_fail(d, s->cloud_node, EBUSY, err, "subnet %s: %s",
				 s->name, why);
	if (old && (old->cidr.net != s->cidr.net ||
		    old->cidr.prefix != s->cidr.prefix)) {
		cidr_format(&old->cidr, was);
		return ydoc_fail(d, s->cidr_node, EINVAL, err,
				 "subnet %s is %s: a subnet's cidr does not "
				 "change (delete it, make another)", s->name,
				 was);
	}
	return 0;
}

/* Whether the VM keeps a subnet the document deletes. */
static bool subnet_kept(const struct sc_tenant *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nsubnets; i++)
		if (!strcmp(t->subnets[i].name, name))
			return true;
	return false;
}

/* What a VM of the document means against the model: a VM that migrates
 * or runs takes only some changes. */
static int check_vm(const struct model *m, struct ydoc *d,
		    const struct tenant *cur, const struct sc_tenant *t,
		    const struct sc_vm *s, char *err)
{
	const struct vm *old = cur ? vm_find_visible(cur, s->name) : NULL;
	const struct cloud *c = s->location[0] ? model_cloud(m, s->location)
					       : NULL;
	const char *what;
	char a[16], why[ERRLEN];

	if (s->location[0] && !c)
		return ydoc_fail(d, sc_vm_node(d, s, "location"), ENOENT, err,
				 "VM %s: no cloud %s", s->name, s->location);
	if (c && (!old || old->conf.location != c) && cloud_takes(c, why))
		return ydoc_fail(d, sc_vm_node(d, s, "location"), EBUSY, err,
				 "VM %s: %s", s->name, why);
	if (!old)
		return 0;
	if (mig_running(old->mig.phase))
		return ydoc_fail(d, s->key, EBUSY, err,
				 "VM %s is migrating", s->name);
	if (s->disk && s->disk < old->conf.disk && old->disk_made) {
		size_format(old->conf.disk, a, sizeof a);
		return ydoc_fail(d, sc_vm_node(d, s, "disk"), EINVAL, err,
				 "VM %s: disks only grow (it is %s)", s->name,
				 a);
	}
	if (old->power != VIRT_POWER_STOPPED && s->running != 0 &&
	    (what = needs_stop(old, s)))
		return ydoc_fail(d, sc_vm_node(d, s, what), EBUSY, err,
				 "VM %s runs: its %s changes only while it is "
				 "stopped (state: stopped)", s->name, what);
	if (!s->subnet[0] && old->conf.subnet[0] &&
	    !subnet_kept(t, old->conf.subnet))
		return ydoc_fail(d, s->key, EBUSY, err,
				 "VM %s stays on subnet %s, which the "
				 "document deletes", s->name, old->conf.subnet);
	return 0;
}

static int check_tenant(const struct model *m, struct ydoc *d,
			const struct sc_tenant *t, char *err)
{
	const struct tenant *cur = tenant_find_visible(m, t->name);
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < t->nsubnets; i++)
		r = check_subnet(m, d, cur, &t->subnets[i], err);
	for (i = 0; r == 0 && i < t->nvms; i++)
		r = check_vm(m, d, cur, t, &t->vms[i], err);
	return r;
}

/* The whole document, read by the schema's parser: no model needed, so
 * no lock held (a large document stalls no other tenant). */
static int parse(struct ydoc *d, const char *only, struct sc_doc *sp,
		 char *err)
{
	static const char *const keys[] = { "tenants", NULL };
	yaml_node_t *root = ydoc_root(d), *tenants;
	size_t i, objects = 0;
	int r;

	if (ydoc_check_map(d, root, "the document", keys, err))
		return -EINVAL;
	tenants = ydoc_get(d, root, "tenants");
	if (!tenants)
		return ydoc_fail(d, root, EINVAL, err, "tenants missing");
	r = schema_tenants(d, tenants, SCHEMA_SPEC, only, sp, err);
	if (r)
		return r;
	if (only && sp->n == 0)
		return ydoc_fail(d, root, EINVAL, err,
				 "the document must describe tenant %s "
				 "(tenants: {%s: ...})", only, only);
	for (i = 0; i < sp->n; i++)
		objects += 1 + sp->tenants[i].nsubnets + sp->tenants[i].nvms;
	if (objects > SPEC_OBJECTS_MAX)
		return ydoc_fail(d, root, E2BIG, err, "%zu tenants, subnets "
				 "and VMs: a document holds at most %d", objects,
				 SPEC_OBJECTS_MAX);
	return 0;
}

/* The document against the model (caller holds the lock): each lookup a
 * binary search, so linear in the document. */
static int check(const struct model *m, struct ydoc *d,
		 const struct sc_doc *sp, char *err)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < sp->n; i++)
		r = check_tenant(m, d, &sp->tenants[i], err);
	return r;
}

/* ---- applying it: one object at a time, the next step it needs decided
 * under the lock from what the model is now, then done without it as a
 * typed call of the verb a user's file operation reaches, ended as that
 * operation is (ops.h: its event, a failure in the nearest status) ---- */

struct step;
typedef int (*step_fn)(struct model *m, const struct step *s, char *err);

struct step {
	const char *op;             /* "mkdir", "rmdir", "write" */
	step_fn call;
	struct node node;           /* what it is done to; names below */
	char tenant[NAME_MAXLEN + 1], subnet[NAME_MAXLEN + 1];
	char vm[NAME_MAXLEN + 1];
	char item[NAME_MAXLEN + 1]; /* a group's name, a floating address */
	char value[160];            /* as the event shows it */
	const char *text;           /* a longer value (a group's rules) */
	uint64_t num;               /* a number's value (value shows it) */
};

struct run {
	struct model *m;            /* a plan's: its copy of the model */
	const struct sc_doc *sp;
	int changes;
	char *err;
	struct plan *plan;          /* a plan is made: the steps go to it */
};

typedef bool (*next_fn)(const struct model *m, const struct run *x,
			const void *a, const void *b, struct step *s);

/* The node of a step: kind, tenant, then a subnet or a VM, and a file. */
struct where {
	enum node_kind kind;
	const char *tenant, *subnet, *vm, *file;
	const char *item;   /* NODE_SECGROUP's name, NODE_FLOATING's address */
	const char *text;   /* a longer value */
};

static bool set_step(struct step *s, const char *op, step_fn call,
		     const char *value, struct where w)
{
	memset(s, 0, sizeof *s);
	s->op = op;
	s->call = call;
	snprintf(s->tenant, sizeof s->tenant, "%s", w.tenant);
	snprintf(s->subnet, sizeof s->subnet, "%s", w.subnet ? w.subnet : "");
	snprintf(s->vm, sizeof s->vm, "%s", w.vm ? w.vm : "");
	snprintf(s->value, sizeof s->value, "%s", value ? value : "");
	snprintf(s->item, sizeof s->item, "%s", w.item ? w.item : "");
	s->text = w.text;
	s->node.kind = w.kind;
	s->node.secgroup = w.kind == NODE_SECGROUP ? s->item : NULL;
	s->node.floating = w.kind == NODE_FLOATING ? s->item : NULL;
	s->node.tenant = s->tenant;
	s->node.subnet = w.subnet ? s->subnet : NULL;
	s->node.vm = w.vm ? s->vm : NULL;
	s->node.file = w.file;
	return true;
}

static int do_mkdir(struct model *m, const struct step *s, char *err)
{
	return op_mkdir(m, &s->node, err);
}

static int do_rmdir(struct model *m, const struct step *s, char *err)
{
	return op_rmdir(m, &s->node, err);
}

static int do_subnet_new(struct model *m, const struct step *s, char *err)
{
	return subnet_create(m, s->tenant, s->value, err);
}

static int do_subnet_cloud(struct model *m, const struct step *s, char *err)
{
	return subnet_set_cloud(m, s->tenant, s->subnet, s->value, err);
}

static int do_dhcp_range(struct model *m, const struct step *s, char *err)
{
	return dhcp_set_range(m, s->tenant, s->subnet, s->value, err);
}

static int do_dhcp_domain(struct model *m, const struct step *s, char *err)
{
	return dhcp_set_domain(m, s->tenant, s->subnet, s->value, err);
}

static int do_vm_start(struct model *m, const struct step *s, char *err)
{
	return vm_power(m, s->tenant, s->vm, VM_START, err);
}

static int do_vm_stop(struct model *m, const struct step *s, char *err)
{
	return vm_power(m, s->tenant, s->vm, VM_STOP, err);
}

static int do_vm_subnet(struct model *m, const struct step *s, char *err)
{
	return vm_set_subnet(m, s->tenant, s->vm, s->value, err);
}

static int do_vm_vcpus(struct model *m, const struct step *s, char *err)
{
	return vm_set_vcpus(m, s->tenant, s->vm, (unsigned)s->num, err);
}

static int do_vm_memory(struct model *m, const struct step *s, char *err)
{
	return vm_set_memory(m, s->tenant, s->vm, s->num, err);
}

static int do_vm_disk(struct model *m, const struct step *s, char *err)
{
	return vm_set_disk(m, s->tenant, s->vm, s->num, err);
}

static int do_vm_image(struct model *m, const struct step *s, char *err)
{
	return vm_set_image(m, s->tenant, s->vm, s->value, err);
}

static int do_vm_location(struct model *m, const struct step *s, char *err)
{
	return vm_relocate(m, s->tenant, s->vm, s->value, NULL, err);
}

static int do_external(struct model *m, const struct step *s, char *err)
{
	return tenant_set_external(m, s->tenant, !strcmp(s->value, "on"),
				   err);
}

static int do_group_mkdir(struct model *m, const struct step *s, char *err)
{
	return secgroup_create(m, s->tenant, s->item, err);
}

static int do_group_rmdir(struct model *m, const struct step *s, char *err)
{
	return secgroup_delete(m, s->tenant, s->item, err);
}

/* A document's rules: "RULE; RULE" (as shown) or lines. */
static int do_group_rules(struct model *m, const struct step *s, char *err)
{
	char *text = strdup(s->text), *p;
	int r;

	if (!text)
		return err_set(err, ENOMEM, "out of memory");
	for (p = text; *p; p++)
		if (*p == ';')
			*p = '\n';
	r = secgroup_set_rules(m, s->tenant, s->item, text, err);
	free(text);
	return r;
}

static int do_vm_groups(struct model *m, const struct step *s, char *err)
{
	return vm_set_groups(m, s->tenant, s->vm, s->value, err);
}

static int do_float_new(struct model *m, const struct step *s, char *err)
{
	return floating_new(m, s->tenant, s->value, err);
}

static int do_float_vm(struct model *m, const struct step *s, char *err)
{
	uint32_t a;

	if (ip_parse(s->item, &a))
		return err_set(err, EINVAL, "'%s' is not an address", s->item);
	return floating_set_vm(m, s->tenant, a, s->value, err);
}

static int do_float_rmdir(struct model *m, const struct step *s, char *err)
{
	return floating_rmdir(m, s->tenant, s->item, err);
}

#define TENANT(t) ((struct where){ NODE_TENANT, (t), NULL, NULL, NULL, NULL, \
					 NULL })
#define SUBNET(t, s, f) \
	((struct where){ NODE_SUBNET, (t), (s), NULL, (f), NULL, NULL })
#define DHCP(t, s, f) \
	((struct where){ NODE_DHCP, (t), (s), NULL, (f), NULL, NULL })
#define VM(t, v, f) ((struct where){ NODE_VM, (t), NULL, (v), (f), NULL, NULL })
#define GROUP(t, g, f, x) \
	((struct where){ NODE_SECGROUP, (t), NULL, NULL, (f), (g), (x) })
#define FLOAT(t, a, f) \
	((struct where){ NODE_FLOATING, (t), NULL, NULL, (f), (a), NULL })

/* In a plan, a step goes to the plan (plan.h), which judges it and does
 * it on its copy of the model; the verbs below the line also run on the
 * copy themselves (plan_copy: nothing of theirs is saved or made). */
static const struct {
	step_fn call;
	enum plan_kind kind;
} plan_kinds[] = {
	{ do_mkdir, PLAN_MKDIR }, { do_rmdir, PLAN_RMDIR },
	{ do_subnet_new, PLAN_SUBNET_NEW },
	{ do_subnet_cloud, PLAN_SUBNET_CLOUD },
	{ do_vm_start, PLAN_VM_START }, { do_vm_stop, PLAN_VM_STOP },
	{ do_vm_subnet, PLAN_VM_SET }, { do_vm_vcpus, PLAN_VM_SET },
	{ do_vm_memory, PLAN_VM_SET }, { do_vm_disk, PLAN_VM_SET },
	{ do_vm_image, PLAN_VM_SET }, { do_vm_location, PLAN_VM_LOCATION },
	/* dhcp range and domain, external, groups, floating addresses */
};

static int plan_do(struct run *x, const struct step *s, const char *path)
{
	struct plan_step ps = { PLAN_VERB, s->op, path, &s->node, s->value,
				s->num };
	char why[ERRLEN] = "";
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(plan_kinds); i++)
		if (plan_kinds[i].call == s->call)
			ps.kind = plan_kinds[i].kind;
	if (ps.kind != PLAN_VERB)
		return plan_step(x->plan, &ps);
	log_quiet(1);
	r = s->call(x->m, s, why);
	log_quiet(0);
	return plan_ran(x->plan, &ps, r, why);
}

/* Runs the steps object a (and b) needs until it needs none. */
static int converge(struct run *x, next_fn next, const void *a, const void *b)
{
	struct step s;
	char why[ERRLEN], path[512];
	bool need;
	int i, r;

	for (i = 0; i < 16; i++) {
		pthread_mutex_lock(&x->m->lock);
		need = next(x->m, x, a, b, &s);
		pthread_mutex_unlock(&x->m->lock);
		if (!need)
			return 0;
		node_path(&s.node, path, sizeof path);
		if (x->plan && x->m->interrupted && x->m->interrupted())
			return err_set(x->err, EINTR, "interrupted while "
				       "the plan was made: nothing done");
		if (x->plan) {   /* a concern: the object goes no further */
			if (plan_do(x, &s, path) < 0)
				return 0;
			x->changes++;
			continue;
		}
		/* Ctrl-C, unmount or SIGTERM: the steps done stay done */
		if (x->m->interrupted && x->m->interrupted())
			return err_set(x->err, EINTR, "interrupted before %s "
				       "%s, after %d change(s), which stay "
				       "done", s.op, path, x->changes);
		why[0] = '\0';
		r = s.call(x->m, &s, why);
		op_done(x->m, &s.node, s.op, s.value[0] ? s.value : NULL,
			strlen(s.value), r, why);
		if (r < 0)
			return err_set(x->err, -r, "%s %s%s%s: %s", s.op,
				       path, s.value[0] ? " " : "", s.value,
				       why[0] ? why : strerror(-r));
		x->changes++;
	}
	return err_set(x->err, EIO, "%s does not reach the state the "
		       "document asks for", path);
}

static const struct sc_tenant *sp_tenant(const struct sc_doc *sp,
					 const char *name)
{
	size_t i;

	for (i = 0; i < sp->n; i++)
		if (!strcmp(sp->tenants[i].name, name))
			return &sp->tenants[i];
	return NULL;
}

static bool sp_has_subnet(const struct sc_tenant *t, const char *name)
{
	size_t i;

	for (i = 0; t && i < t->nsubnets; i++)
		if (!strcmp(t->subnets[i].name, name))
			return true;
	return false;
}

static bool sp_has_vm(const struct sc_tenant *t, const char *name)
{
	size_t i;

	for (i = 0; t && i < t->nvms; i++)
		if (!strcmp(t->vms[i].name, name))
			return true;
	return false;
}

static bool next_tenant(const struct model *m, const struct run *x,
			const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;

	(void)x;
	(void)b;
	if (!tenant_find_visible(m, t->name))
		return set_step(s, "mkdir", do_mkdir, NULL, TENANT(t->name));
	return false;
}

/* external: off first (before subnets that may go to a cloud without a
 * provider network), on last (once the subnets are home). */
static bool next_external(const struct model *m, const struct sc_tenant *t,
			  int want, struct step *s)
{
	const struct tenant *ten = tenant_find_visible(m, t->name);

	if (!ten || t->ext_want != want || ten->external == (want == 1))
		return false;
	return set_step(s, "write", do_external, want ? "on" : "off",
			(struct where){ NODE_TENANT, t->name, NULL, NULL,
					"external", NULL, NULL });
}

static bool next_external_off(const struct model *m, const struct run *x,
			      const void *a, const void *b, struct step *s)
{
	(void)x;
	(void)b;
	return next_external(m, a, 0, s);
}

static bool next_external_on(const struct model *m, const struct run *x,
			     const void *a, const void *b, struct step *s)
{
	(void)x;
	(void)b;
	return next_external(m, a, 1, s);
}

static bool next_subnet(const struct model *m, const struct run *x,
			const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_subnet *n = b;
	const struct tenant *ten = tenant_find_visible(m, t->name);
	const struct subnet *cur = ten ? subnet_find_visible(ten, n->name)
				       : NULL;
	char c[CIDR_STRLEN], line[160];

	(void)x;
	if (!ten)
		return false;
	if (!cur) {
		cidr_format(&n->cidr, c);
		snprintf(line, sizeof line, "%s name=%s cloud=%s dhcp=%s", c,
			 n->name, n->cloud[0] ? n->cloud
					      : model_place_default(m)->name,
			 n->dhcp != 0 ? "on" : "off");
		return set_step(s, "write", do_subnet_new, line,
				(struct where){ NODE_SUBNETS, t->name, NULL,
						NULL, "new", NULL, NULL });
	}
	if (n->dhcp == 0 && cur->dhcp.on)
		return set_step(s, "rmdir", do_rmdir, NULL,
				DHCP(t->name, n->name, NULL));
	if (n->dhcp == 1 && !cur->dhcp.on)
		return set_step(s, "mkdir", do_mkdir, NULL,
				DHCP(t->name, n->name, NULL));
	if (cur->dhcp.on && n->has_range &&
	    (cur->dhcp.first != n->first || cur->dhcp.last != n->last)) {
		ip_format_range(n->first, n->last, line);
		return set_step(s, "write", do_dhcp_range, line,
				DHCP(t->name, n->name, "range"));
	}
	if (cur->dhcp.on && n->has_domain && strcmp(cur->dhcp.domain,
						    n->domain))
		return set_step(s, "write", do_dhcp_domain, n->domain,
				DHCP(t->name, n->name, "domain"));
	return false;
}

static bool next_move(const struct model *m, const struct run *x,
		      const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_subnet *n = b;
	const struct tenant *ten = tenant_find_visible(m, t->name);
	const struct subnet *cur = ten ? subnet_find_visible(ten, n->name)
				       : NULL;

	(void)x;
	if (cur && n->cloud[0] && strcmp(cur->home->name, n->cloud))
		return set_step(s, "write", do_subnet_cloud, n->cloud,
				SUBNET(t->name, n->name, "cloud"));
	return false;
}

static const struct vm *cur_vm(const struct model *m, const char *tenant,
			       const char *name)
{
	const struct tenant *ten = tenant_find_visible(m, tenant);

	return ten ? vm_find_visible(ten, name) : NULL;
}

/* a: tenant name, b: VM name: a VM the document does not have. */
static bool next_vm_gone(const struct model *m, const struct run *x,
			 const void *a, const void *b, struct step *s)
{
	const struct vm *v = cur_vm(m, a, b);
	char addr[IP_STRLEN];
	size_t i;

	(void)x;
	if (!v)
		return false;
	for (i = 0; i < v->tenant->nfloats; i++)   /* its address goes */
		if (!strcmp(v->tenant->floats[i].vm, v->name)) {
			ip_format(v->tenant->floats[i].addr, addr);
			return set_step(s, "rmdir", do_float_rmdir, NULL,
					FLOAT(a, addr, NULL));
		}
	if (v->power != VIRT_POWER_STOPPED)
		return set_step(s, "write", do_vm_stop, "stop",
				VM(a, b, "state"));
	return set_step(s, "rmdir", do_rmdir, NULL, VM(a, b, NULL));
}

static bool next_vm_stop(const struct model *m, const struct run *x,
			 const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_vm *n = b;
	const struct vm *v = cur_vm(m, t->name, n->name);

	(void)x;
	if (v && n->running == 0 && v->power != VIRT_POWER_STOPPED)
		return set_step(s, "write", do_vm_stop, "stop",
				VM(t->name, n->name, "state"));
	return false;
}

static bool next_vm(const struct model *m, const struct run *x,
		    const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_vm *n = b;
	const struct vm *v = cur_vm(m, t->name, n->name);
	char buf[32];

	(void)x;
	if (!v)
		return set_step(s, "mkdir", do_mkdir, NULL,
				VM(t->name, n->name, NULL));
#define VM_STEP(attr, fn, value) \
	set_step(s, "write", fn, value, VM(t->name, n->name, attr))
	if (n->subnet[0] && strcmp(n->subnet, v->conf.subnet))
		return VM_STEP("subnet", do_vm_subnet, n->subnet);
	if (n->vcpus && n->vcpus != v->conf.vcpus) {
		snprintf(buf, sizeof buf, "%u", n->vcpus);
		VM_STEP("vcpus", do_vm_vcpus, buf);
		s->num = n->vcpus;
		return true;
	}
	if (n->memory && n->memory != v->conf.memory) {
		size_format(n->memory, buf, sizeof buf);
		VM_STEP("memory", do_vm_memory, buf);
		s->num = n->memory;
		return true;
	}
	if (n->disk && n->disk != v->conf.disk) {
		size_format(n->disk, buf, sizeof buf);
		VM_STEP("disk", do_vm_disk, buf);
		s->num = n->disk;
		return true;
	}
	if (n->image[0] && strcmp(n->image, v->conf.image))
		return VM_STEP("image", do_vm_image, n->image);
	if (n->location[0] && strcmp(n->location, v->conf.location->name))
		return VM_STEP("location", do_vm_location, n->location);
#undef VM_STEP
	return false;
}

static bool next_vm_start(const struct model *m, const struct run *x,
			  const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_vm *n = b;
	const struct vm *v = cur_vm(m, t->name, n->name);

	(void)x;
	if (v && n->running == 1 && v->power != VIRT_POWER_RUNNING)
		return set_step(s, "write", do_vm_start, "start",
				VM(t->name, n->name, "state"));
	return false;
}

/* a: tenant name, b: subnet name (NULL: the tenant itself). */
static bool next_gone(const struct model *m, const struct run *x,
		      const void *a, const void *b, struct step *s)
{
	const struct tenant *ten = tenant_find_visible(m, a);

	(void)x;
	if (!ten)
		return false;
	if (!b)
		return set_step(s, "rmdir", do_rmdir, NULL, TENANT(a));
	if (subnet_find_visible(ten, b))
		return set_step(s, "rmdir", do_rmdir, NULL,
				SUBNET(a, b, NULL));
	return false;
}

/* ---- a tenant's security groups and floating addresses ---- */

/* The canonical "RULE; RULE" of a document's rules (EINVAL: as given,
 * the write says why). */
static void rules_canon(const struct tenant *t, const char *text,
			struct strbuf *out)
{
	struct secgroup g = { .rules = calloc(SECRULES_MAX + 1,
					      sizeof *g.rules) };
	char *lines = strdup(text), *p;

	for (p = lines; p && *p; p++)
		if (*p == ';')
			*p = '\n';
	if (g.rules && lines &&
	    secrules_parse(t, lines, g.rules, &g.nrules, NULL) == 0)
		secrules_join(&g, out);
	else
		sb_puts(out, text);
	free(g.rules);
	free(lines);
}

/* a: the tenant, b: a group of the document. */
static bool next_group_new(const struct model *m, const struct run *x,
			   const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_kv *g = b;
	const struct tenant *ten = tenant_find_visible(m, t->name);

	(void)x;
	if (ten && !secgroup_find(ten, g->k))
		return set_step(s, "mkdir", do_group_mkdir, NULL,
				GROUP(t->name, g->k, NULL, NULL));
	return false;
}

static bool next_group_rules(const struct model *m, const struct run *x,
			     const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_kv *g = b;
	const struct tenant *ten = tenant_find_visible(m, t->name);
	const struct secgroup *cur = ten ? secgroup_find(ten, g->k) : NULL;
	struct strbuf have = STRBUF_INIT, want = STRBUF_INIT;
	bool same;

	(void)x;
	if (!cur)
		return false;
	secrules_join(cur, &have);
	rules_canon(ten, g->v, &want);
	same = !strcmp(sb_str(&have), sb_str(&want));
	sb_free(&have);
	sb_free(&want);
	return !same && set_step(s, "write", do_group_rules, g->v,
				 GROUP(t->name, g->k, "rules", g->v));
}

/* a: the tenant, b: a group it has (NULL-separated names, one). */
static bool next_group_gone(const struct model *m, const struct run *x,
			    const void *a, const void *b, struct step *s)
{
	const struct tenant *ten = tenant_find_visible(m, a);

	(void)x;
	if (ten && secgroup_find(ten, b))
		return set_step(s, "rmdir", do_group_rmdir, NULL,
				GROUP(a, b, NULL, NULL));
	return false;
}

static bool next_vm_groups(const struct model *m, const struct run *x,
			   const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_vm *n = b;
	const struct vm *v = cur_vm(m, t->name, n->name);
	char want[256], *tok, *save = NULL;
	size_t i;

	(void)x;
	if (!v || !n->secgroups)
		return false;
	snprintf(want, sizeof want, "%s", n->secgroups);
	for (tok = strtok_r(want, " \t,", &save), i = 0; tok;
	     tok = strtok_r(NULL, " \t,", &save), i++)
		if (i >= v->ngroups || strcmp(tok, v->groups[i]))
			break;
	if (!tok && i == v->ngroups)
		return false;
	return set_step(s, "write", do_vm_groups, n->secgroups,
			VM(t->name, n->name, "secgroups"));
}

/* a: the tenant, b: an address it has: gone if the document has it not. */
static bool next_float_gone(const struct model *m, const struct run *x,
			    const void *a, const void *b, struct step *s)
{
	const struct tenant *ten = tenant_find_visible(m, a);
	uint32_t addr;

	(void)x;
	if (ten && !ip_parse(b, &addr) && floating_find(ten, addr))
		return set_step(s, "rmdir", do_float_rmdir, NULL,
				FLOAT(a, b, NULL));
	return false;
}

static bool next_float(const struct model *m, const struct run *x,
		       const void *a, const void *b, struct step *s)
{
	const struct sc_tenant *t = a;
	const struct sc_kv *f = b;
	const struct tenant *ten = tenant_find_visible(m, t->name);
	const struct floating *cur = NULL;
	char line[160];
	uint32_t addr;

	(void)x;
	if (!ten)
		return false;
	if (ip_parse(f->k, &addr) == 0)
		cur = floating_find(ten, addr);
	if (cur && !strcmp(cur->vm, f->v))
		return false;
	if (cur)
		return set_step(s, "write", do_float_vm, f->v,
				FLOAT(t->name, f->k, "vm"));
	snprintf(line, sizeof line, "%.64s %.40s", f->v, f->k);
	return set_step(s, "write", do_float_new, line,
			(struct where){ NODE_FLOATINGS, t->name, NULL, NULL,
					"new", NULL, NULL });
}

/* Names the model has and the document leaves out: a tenant's groups
 * (not default) or floating addresses, where the document says them. */
static int gone_net(struct run *x, const struct sc_tenant *st, bool groups,
		    next_fn next)
{
	const struct sc_kv *doc = groups ? st->groups : st->floats;
	size_t n = groups ? st->ngroups : st->nfloats;
	struct strbuf list = STRBUF_INIT;
	const struct tenant *t;
	const char *name, *p;
	char a[IP_STRLEN];
	size_t i, k;
	int r = 0;

	if (!doc)
		return 0;
	pthread_mutex_lock(&x->m->lock);
	t = tenant_find_visible(x->m, st->name);
	for (i = 0; t && i < (groups ? t->ngroups : t->nfloats); i++) {
		if (!groups)
			ip_format(t->floats[i].addr, a);
		name = groups ? t->groups[i].name : a;
		for (k = 0; k < n && strcmp(doc[k].k, name); k++)
			;
		if (k == n && (!groups || i > 0))
			r |= sb_append(&list, name, strlen(name) + 1);
	}
	pthread_mutex_unlock(&x->m->lock);
	for (p = list.s; r == 0 && p && p < list.s + list.len;
	     p += strlen(p) + 1)
		r = converge(x, next, st->name, p);
	sb_free(&list);
	return r;
}

/* Each pair of the document's map through next. */
static int each_pair(struct run *x, const struct sc_tenant *st,
		     const struct sc_kv *kv, size_t n, next_fn next)
{
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && kv && i < n; i++)
		r = converge(x, next, st, &kv[i]);
	return r;
}

/* Names in the model the document leaves out, as "tenant\0name\0" pairs
 * (name "" for a whole tenant); taken under the lock. */
static int gone_list(struct model *m, const struct sc_doc *sp, const char *only,
		     int what, struct strbuf *out)
{
	const struct tenant *t;
	const struct subnet *s;
	const struct vm *v;
	size_t i, j;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t) {
		const struct sc_tenant *st = sp_tenant(sp, t->name);

		if (!state_listed(t->state) || (only && strcmp(only, t->name)))
			continue;
		if (what == 'v')
			objset_each(&t->vms, j, v)
				if (state_listed(v->state) && !sp_has_vm(st, v->name))
					r |= sb_append(out, t->name,
						       strlen(t->name) + 1) |
					     sb_append(out, v->name,
						       strlen(v->name) + 1);
		if (what == 's')
			objset_each(&t->subnets, j, s)
				if (state_listed(s->state) &&
				    !sp_has_subnet(st, s->name))
					r |= sb_append(out, t->name,
						       strlen(t->name) + 1) |
					     sb_append(out, s->name,
						       strlen(s->name) + 1);
		if (what == 't' && !st)
			r |= sb_append(out, t->name, strlen(t->name) + 1) |
			     sb_append(out, "", 1);
	}
	pthread_mutex_unlock(&m->lock);
	return r ? -ENOMEM : 0;
}

static int drop(struct run *x, const char *only, int what, next_fn next)
{
	struct strbuf list = STRBUF_INIT;
	const char *p;
	int r = gone_list(x->m, x->sp, only, what, &list);

	for (p = list.s; r == 0 && p && p < list.s + list.len;) {
		const char *name = p + strlen(p) + 1;

		r = converge(x, next, p, what == 't' ? NULL : name);
		p = name + strlen(name) + 1;
	}
	sb_free(&list);
	return r;
}

/* Before subnets and VMs: floating addresses the document leaves out go
 * (then external may go off, and their VMs may go), the groups it names
 * are made and given their rules (VMs may then be put in them). */
static int apply_net_first(struct run *x)
{
	const struct sc_doc *sp = x->sp;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < sp->n; i++)
		r = gone_net(x, &sp->tenants[i], false, next_float_gone);
	for (i = 0; r == 0 && i < sp->n; i++)
		r = converge(x, next_external_off, &sp->tenants[i], NULL);
	for (i = 0; r == 0 && i < sp->n; i++)
		r = each_pair(x, &sp->tenants[i], sp->tenants[i].groups,
			      sp->tenants[i].ngroups, next_group_new);
	for (i = 0; r == 0 && i < sp->n; i++)
		r = each_pair(x, &sp->tenants[i], sp->tenants[i].groups,
			      sp->tenants[i].ngroups, next_group_rules);
	return r;
}

/* Once the VMs are there: their groups, the groups the document leaves
 * out (unused now), and the floating addresses (external is on). */
static int apply_net_last(struct run *x)
{
	const struct sc_doc *sp = x->sp;
	size_t i, j;
	int r = 0;

	for (i = 0; r == 0 && i < sp->n; i++)
		for (j = 0; r == 0 && j < sp->tenants[i].nvms; j++)
			r = converge(x, next_vm_groups, &sp->tenants[i],
				     &sp->tenants[i].vms[j]);
	for (i = 0; r == 0 && i < sp->n; i++)
		r = gone_net(x, &sp->tenants[i], true, next_group_gone);
	for (i = 0; r == 0 && i < sp->n; i++)
		r = each_pair(x, &sp->tenants[i], sp->tenants[i].floats,
			      sp->tenants[i].nfloats, next_float);
	return r;
}

/* The order of DESIGN §6: networks before the VMs on them, VMs before the
 * subnets they leave; stops before moves (a stopped VM moves cold). */
static int apply(struct run *x, const char *only)
{
	const struct sc_doc *sp = x->sp;
	size_t i, j;
	int r = 0;

	for (i = 0; r == 0 && i < sp->n; i++)
		r = converge(x, next_tenant, &sp->tenants[i], NULL);
	if (r == 0)
		r = apply_net_first(x);
	for (i = 0; r == 0 && i < sp->n; i++)
		for (j = 0; r == 0 && j < sp->tenants[i].nsubnets; j++)
			r = converge(x, next_subnet, &sp->tenants[i],
				     &sp->tenants[i].subnets[j]);
	if (r == 0)
		r = drop(x, only, 'v', next_vm_gone);
	for (i = 0; r == 0 && i < sp->n; i++)
		for (j = 0; r == 0 && j < sp->tenants[i].nvms; j++)
			r = converge(x, next_vm_stop, &sp->tenants[i],
				     &sp->tenants[i].vms[j]);
	for (i = 0; r == 0 && i < sp->n; i++)
		for (j = 0; r == 0 && j < sp->tenants[i].nsubnets; j++)
			r = converge(x, next_move, &sp->tenants[i],
				     &sp->tenants[i].subnets[j]);
	for (i = 0; r == 0 && i < sp->n; i++)
		r = converge(x, next_external_on, &sp->tenants[i], NULL);
	for (i = 0; r == 0 && i < sp->n; i++)
		for (j = 0; r == 0 && j < sp->tenants[i].nvms; j++)
			r = converge(x, next_vm, &sp->tenants[i],
				     &sp->tenants[i].vms[j]);
	for (i = 0; r == 0 && i < sp->n; i++)
		for (j = 0; r == 0 && j < sp->tenants[i].nvms; j++)
			r = converge(x, next_vm_start, &sp->tenants[i],
				     &sp->tenants[i].vms[j]);
	if (r == 0)
		r = apply_net_last(x);
	if (r == 0)
		r = drop(x, only, 's', next_gone);
	if (r == 0 && !only)
		r = drop(x, only, 't', next_gone);
	return r;
}

/* Documents apply one at a time per tenant: a tenant's own spec.yaml
 * waits only for another of the same tenant, and the root's (which may
 * touch every tenant) for all of them, and they for it. A caller waiting
 * for its turn can give up (Ctrl-C). */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;
	bool root;                  /* the root's document applies */
	size_t n;                   /* tenants whose own document applies */
	char names[SPEC_APPLYING_MAX][NAME_MAXLEN + 1];
} turns = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .done = PTHREAD_COND_INITIALIZER };

static bool turn_free(const char *tenant)
{
	size_t i;

	if (turns.root || (!tenant && turns.n))
		return false;
	for (i = 0; tenant && i < turns.n; i++)
		if (!strcmp(turns.names[i], tenant))
			return false;
	return !tenant || turns.n < SPEC_APPLYING_MAX;
}

static int turn_take(struct model *m, const char *tenant, char *err)
{
	int r = 0;

	pthread_mutex_lock(&turns.lock);
	while (!turn_free(tenant)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&turns.done, &turns.lock, &until);
		if (m->interrupted && m->interrupted() && !turn_free(tenant)) {
			r = err_set(err, EINTR, "interrupted while another "
				    "spec.yaml was being applied");
			break;
		}
	}
	if (r == 0 && tenant)
		snprintf(turns.names[turns.n++], NAME_MAXLEN + 1, "%s", tenant);
	else if (r == 0)
		turns.root = true;
	pthread_mutex_unlock(&turns.lock);
	return r;
}

static void turn_give(const char *tenant)
{
	size_t i;

	pthread_mutex_lock(&turns.lock);
	if (!tenant)
		turns.root = false;
	for (i = 0; tenant && i < turns.n; i++)
		if (!strcmp(turns.names[i], tenant)) {
			memcpy(turns.names[i], turns.names[--turns.n],
			       sizeof turns.names[i]);
			break;
		}
	pthread_cond_broadcast(&turns.done);
	pthread_mutex_unlock(&turns.lock);
}

/* The document loaded and parsed (d freed by the caller). */
static int doc_load(struct ydoc *d, const char *tenant, const char *buf,
		    size_t len, struct sc_doc *sp, char *err)
{
	int r;

	if (memchr(buf, '\0', len))
		return err_set(err, EINVAL, "spec.yaml: the document holds "
			       "a NUL byte");
	r = ydoc_load(d, "spec.yaml", buf, len, err);
	if (r)
		return r;
	r = parse(d, tenant, sp, err);
	if (r)
		ydoc_free(d);
	return r;
}

/* Checked whole against the model; d is freed. */
static int doc_check(struct model *m, struct ydoc *d, const char *tenant,
		     const struct sc_doc *sp, char *err)
{
	int r;

	pthread_mutex_lock(&m->lock);
	if (tenant && !tenant_find_visible(m, tenant))
		r = err_set(err, ENOENT, "no tenant %s", tenant);
	else
		r = check(m, d, sp, err);
	pthread_mutex_unlock(&m->lock);
	ydoc_free(d);
	return r;
}

/* The steps the document would take, on a copy of the model. */
static int plan_make(struct model *m, const char *tenant,
		     const struct sc_doc *sp, struct plan **out, char *err)
{
	struct run x = { NULL, sp, 0, err, NULL };
	int r = plan_new(m, &x.plan, err);

	if (r)
		return r;
	x.m = plan_model(x.plan);
	r = apply(&x, tenant);
	if (r)
		plan_free(x.plan);
	else
		*out = x.plan;
	return r;
}

int spec_apply(struct model *m, const char *tenant, const char *buf,
	       size_t len, char *err)
{
	struct sc_doc sp = { NULL, 0 };
	struct ydoc d;
	struct run x = { m, &sp, 0, err, NULL };
	struct plan *p = NULL;
	int r = doc_load(&d, tenant, buf, len, &sp, err);

	if (r == 0 && (r = turn_take(m, tenant, err)))
		ydoc_free(&d);
	if (r) {
		schema_free(&sp);
		return r;
	}
	r = doc_check(m, &d, tenant, &sp, err);
	/* the plan's checks first: a concern, and nothing is done */
	if (r == 0 && (r = plan_make(m, tenant, &sp, &p, err)) == 0)
		r = plan_concern(p, err);
	plan_free(p);
	if (r == 0)
		r = apply(&x, tenant);
	turn_give(tenant);
	schema_free(&sp);
	if (r == 0)
		log_info("spec.yaml%s%s applied: %d changes", tenant ? " of " : "",
			 tenant ? tenant : "", x.changes);
	return r < 0 ? r : x.changes;
}

/* The plan file of the root (tenant NULL) or of tenant takes out. */
static int plan_keep(struct model *m, const char *tenant, struct strbuf *out,
		     char *err)
{
	struct tenant *t = NULL;
	struct strbuf old;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	if (tenant && !(t = tenant_find_visible(m, tenant)))
		r = err_set(err, ENOENT, "no tenant %s", tenant);
	old = t ? t->plan : m->plan;
	if (r == 0 && t)
		t->plan = *out;
	else if (r == 0)
		m->plan = *out;
	pthread_mutex_unlock(&m->lock);
	sb_free(r ? out : &old);
	return r;
}

int spec_plan(struct model *m, const char *tenant, const char *buf,
	      size_t len, char *err)
{
	struct strbuf out = STRBUF_INIT;
	struct sc_doc sp = { NULL, 0 };
	struct plan *p = NULL;
	struct ydoc d;
	char of[NAME_MAXLEN + 16];
	int r = doc_load(&d, tenant, buf, len, &sp, err), k;

	if (r == 0)
		r = doc_check(m, &d, tenant, &sp, err);
	snprintf(of, sizeof of, "%s%sspec.yaml", tenant ? tenant : "",
		 tenant ? "/" : "");
	if (r) {   /* refused whole: the plan file says why */
		plan_show_refused(of, -r, err, &out);
	} else if ((r = plan_make(m, tenant, &sp, &p, err)) == 0) {
		plan_show(p, of, &out);
		plan_free(p);
	}
	schema_free(&sp);
	if (out.len && (k = plan_keep(m, tenant, &out, r ? NULL : err)))
		r = r ? r : k;
	return r;
}

int spec_plan_show(const struct model *m, const char *tenant,
		   struct strbuf *out)
{
	const struct tenant *t = tenant ? tenant_find_visible(m, tenant)
					: NULL;
	const struct strbuf *plan = t ? &t->plan : &m->plan;

	if (tenant && !t)
		return -ENOENT;
	if (plan->len)
		return sb_append(out, plan->s, plan->len);
	return sb_puts(out, "# what a spec.yaml document written here would "
		       "do, step by step, shows here; nothing is changed\n"
		       "steps: 0\nplan: {}\n");
}
