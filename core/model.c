#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>

const char *obj_state_name(enum obj_state s)
{
	static const char *const names[] = {
		[OBJ_READY] = "ready",
		[OBJ_CREATING] = "creating",
		[OBJ_CHANGING] = "changing",
		[OBJ_DELETING] = "deleting",
		[OBJ_ERROR] = "error",
	};

	return names[s];
}

void obj_error_set(struct obj_error *e, const char *op, int code,
		   const char *msg)
{
	e->when = time(NULL);
	e->code = code;
	snprintf(e->op, sizeof e->op, "%s", op);
	snprintf(e->msg, sizeof e->msg, "%s", msg);
	text_clean(e->msg);
}

/* The default domain is the tenant's name made a DNS name, one label per
 * '.'-separated part, then ".maas". */
static void default_domain(const struct tenant *t, char *buf, size_t len)
{
	char label[64], out[DOMAIN_MAXLEN + 1] = "";
	const char *p = t->name;

	while (*p) {
		size_t n = strcspn(p, ".");

		dns_label_of(p, n, label, sizeof label);
		if (n && strcmp(label, "vm")) {
			if (out[0])
				strcat(out, ".");
			strcat(out, label);
		}
		p += n + (p[n] == '.');
	}
	if (!out[0])
		snprintf(out, sizeof out, "t%u", t->id);
	snprintf(buf, len, "%s.maas", out);
}

void dhcp_defaults(const struct subnet *s, struct dhcp *d)
{
	memset(d, 0, sizeof *d);
	d->on = true;
	cidr_default_range(&s->cidr, &d->first, &d->last);
	default_domain(s->tenant, d->domain, sizeof d->domain);
}

/* A number no other object of this process had or will have: what an
 * open file is bound to, so that it never acts on a later object of the
 * same name (a tenant made again, a VM made again). */
static uint64_t obj_serial(void)
{
	static uint64_t last;

	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

int secgroups_init(struct tenant *t)
{
	struct secgroup *g = calloc(1, sizeof *g);
	struct secrule *r = calloc(2, sizeof *r);

	if (!g || !r) {
		free(g);
		free(r);
		return -ENOMEM;
	}
	snprintf(g->name, sizeof g->name, SECGROUP_DEFAULT);
	r[0].in = true;   /* in any group default */
	snprintf(r[0].group, sizeof r[0].group, SECGROUP_DEFAULT);
	g->rules = r;     /* out any */
	g->nrules = 2;
	t->groups = g;
	t->ngroups = 1;
	return 0;
}

void secgroups_free(struct secgroup *g, size_t n)
{
	size_t i;

	for (i = 0; g && i < n; i++)
		free(g[i].rules);
	free(g);
}

struct tenant *tenant_new(const char *name, uint32_t id)
{
	struct tenant *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	snprintf(t->name, sizeof t->name, "%s", name);
	t->id = id;
	t->serial = obj_serial();
	quota_unlimited(&t->quota);
	t->state = OBJ_READY;
	t->mtime = time(NULL);
	if (secgroups_init(t)) {
		free(t);
		return NULL;
	}
	return t;
}

void tenant_free(struct tenant *t)
{
	struct subnet *s;
	struct vm *v;
	size_t i;

	if (!t)
		return;
	free(t->floats);
	secgroups_free(t->groups, t->ngroups);
	objset_each(&t->vms, i, v)
		vm_free(v);
	objset_each(&t->subnets, i, s)
		subnet_free(s);
	objset_free(&t->subnets);
	sb_free(&t->saved);
	sb_free(&t->plan);
	objset_free(&t->vms);
	free(t);
}

struct subnet *subnet_new(struct tenant *t, const char *name,
			  const struct cidr *c, uint32_t vni,
			  struct cloud *home)
{
	struct subnet *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	snprintf(s->name, sizeof s->name, "%s", name);
	s->tenant = t;
	s->cidr = *c;
	s->vni = vni;
	s->serial = obj_serial();
	s->home = home;
	s->state = OBJ_READY;
	s->mtime = time(NULL);
	return s;
}

void subnet_free(struct subnet *s)
{
	free(s);
}

struct vm *vm_new(struct tenant *t, const char *name)
{
	struct vm *v = calloc(1, sizeof *v);

	if (!v)
		return NULL;
	snprintf(v->name, sizeof v->name, "%s", name);
	v->tenant = t;
	v->serial = obj_serial();
	v->conf.vcpus = 1;
	v->conf.memory = VM_MEMORY_DEFAULT;
	v->conf.disk = VM_DISK_DEFAULT;
	snprintf(v->groups[0], sizeof v->groups[0], SECGROUP_DEFAULT);
	v->ngroups = 1;
	snprintf(v->conf.image, sizeof v->conf.image, "%s", VM_IMAGE_DEFAULT);
	v->power = VIRT_POWER_STOPPED;
	v->state = OBJ_READY;
	v->mtime = time(NULL);
	return v;
}

void vm_free(struct vm *v)
{
	if (!v)
		return;
	sb_free(&v->xml);
	free(v);
}

void model_clear(struct model *m)
{
	struct tenant *t;
	size_t i;

	objset_each(&m->tenants, i, t)
		tenant_free(t);
	objset_free(&m->tenants);
	idset_free(&m->tenant_ids);
	idset_free(&m->vnis);
	for (i = 0; i < m->nclouds; i++)
		m->clouds[i]->draining = false;
}

struct cloud *model_cloud(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nclouds; i++)
		if (!strcmp(m->clouds[i]->name, name))
			return m->clouds[i];
	return NULL;
}

struct cloud *model_default_cloud(const struct model *m)
{
	return m->clouds[0];
}

int cloud_takes(const struct cloud *c, char *err)
{
	if (!c->draining)
		return 0;
	return err_set(err, EBUSY, "cloud %s is draining: it takes no new VMs "
		       "or subnets (echo active > clouds/%s/state)", c->name,
		       c->name);
}

struct cloud *model_place_default(const struct model *m)
{
	size_t i;

	for (i = 0; i < m->nclouds; i++)
		if (!m->clouds[i]->draining)
			return m->clouds[i];
	return m->clouds[0];
}

struct tenant *tenant_find(const struct model *m, const char *name)
{
	return objset_find(&m->tenants, name);
}

struct tenant *tenant_find_visible(const struct model *m, const char *name)
{
	struct tenant *t = tenant_find(m, name);

	return t && t->state != OBJ_CREATING ? t : NULL;
}

struct subnet *subnet_find(const struct tenant *t, const char *name)
{
	return objset_find(&t->subnets, name);
}

struct subnet *subnet_find_visible(const struct tenant *t, const char *name)
{
	struct subnet *s = subnet_find(t, name);

	return s && s->state != OBJ_CREATING ? s : NULL;
}

struct vm *vm_find(const struct tenant *t, const char *name)
{
	return objset_find(&t->vms, name);
}

struct vm *vm_find_visible(const struct tenant *t, const char *name)
{
	struct vm *v = vm_find(t, name);

	return v && v->state != OBJ_CREATING ? v : NULL;
}

struct vm *vm_find_uuid(const struct model *m, const char *uuid)
{
	const struct tenant *t;
	struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v)
			if (!strcmp(v->uuid, uuid))
				return v;
	return NULL;
}

void quota_usage(const struct tenant *t, uint64_t use[QUOTA_KINDS])
{
	const struct vm *v;
	size_t i;

	memset(use, 0, QUOTA_KINDS * sizeof *use);
	use[QUOTA_SUBNETS] = t->subnets.n;
	objset_each(&t->vms, i, v) {
		use[QUOTA_VMS]++;
		use[QUOTA_VCPUS] += v->conf.vcpus;
		use[QUOTA_MEMORY] += v->conf.memory;
		use[QUOTA_DISK] += v->conf.disk;
	}
}

static void conf_amounts(const struct vm_conf *c, uint64_t a[QUOTA_KINDS])
{
	memset(a, 0, QUOTA_KINDS * sizeof *a);
	if (!c)
		return;
	a[QUOTA_VMS] = 1;
	a[QUOTA_VCPUS] = c->vcpus;
	a[QUOTA_MEMORY] = c->memory;
	a[QUOTA_DISK] = c->disk;
}

int quota_check(const struct tenant *t, unsigned subnets,
		const struct vm_conf *old, const struct vm_conf *new,
		char *err)
{
	uint64_t use[QUOTA_KINDS], was[QUOTA_KINDS], will[QUOTA_KINDS];
	char a[24], b[24];
	size_t k;

	quota_usage(t, use);
	conf_amounts(old, was);
	conf_amounts(new ? new : old, will);   /* no VM change: as it was */
	will[QUOTA_SUBNETS] = subnets;
	for (k = 0; k < QUOTA_KINDS; k++) {
		uint64_t after = use[k] - was[k] + will[k];

		if (t->quota.max[k] == QUOTA_NONE || will[k] <= was[k] ||
		    after <= t->quota.max[k])
			continue;
		quota_amount((enum quota_kind)k, t->quota.max[k], a, sizeof a);
		quota_amount((enum quota_kind)k, after, b, sizeof b);
		return err_set(err, EDQUOT, "tenant %s: its quota of %s is %s, "
			       "this would make %s", t->name, quota_names[k],
			       a, b);
	}
	return 0;
}

static const char *const phase_names[] = {
	[MIG_NONE] = "none",         [MIG_CHECK] = "check",
	[MIG_STRETCH] = "stretch",   [MIG_PREPARE] = "prepare",
	[MIG_TRANSFER] = "transfer", [MIG_LAND] = "land",
	[MIG_VERIFY] = "verify",     [MIG_COMMIT] = "commit",
	[MIG_CLEANUP] = "cleanup",   [MIG_DONE] = "done",
	[MIG_FAILED] = "failed",
};

const char *mig_phase_name(enum mig_phase p)
{
	return (size_t)p < ARRAY_SIZE(phase_names) ? phase_names[p] : "?";
}

int mig_phase_parse(const char *s, enum mig_phase *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(phase_names); i++)
		if (!strcmp(s, phase_names[i])) {
			*out = (enum mig_phase)i;
			return 0;
		}
	return -EINVAL;
}

bool mig_running(enum mig_phase p)
{
	return p >= MIG_CHECK && p <= MIG_CLEANUP;
}

size_t cloud_index(const struct model *m, const struct cloud *c)
{
	size_t i;

	for (i = 0; i < m->nclouds; i++)
		if (m->clouds[i] == c)
			return i;
	abort();   /* a cloud the model does not have */
}

uint64_t subnet_presence(const struct model *m, const struct subnet *s)
{
	uint64_t mask = 1ull << cloud_index(m, s->home);
	const struct vm *v;
	size_t i;

	if (s->moving_to)
		mask |= 1ull << cloud_index(m, s->moving_to);
	objset_each(&s->tenant->vms, i, v) {
		if (v->state == OBJ_DELETING || strcmp(v->conf.subnet, s->name))
			continue;
		mask |= 1ull << cloud_index(m, v->conf.location);
		/* a migrating VM needs its network on both ends */
		if (mig_running(v->mig.phase) && v->mig.to)
			mask |= 1ull << cloud_index(m, v->mig.to);
	}
	return mask;
}

void subnet_lock(struct model *m, uint32_t vni)
{
	pthread_mutex_lock(&m->subnet_locks[vni % ARRAY_SIZE(m->subnet_locks)]);
}

void subnet_unlock(struct model *m, uint32_t vni)
{
	pthread_mutex_unlock(&m->subnet_locks[vni % ARRAY_SIZE(m->subnet_locks)]);
}

/* A helper thread's stop flag (model_helper_of). */
static __thread const bool *helper_stop;

void model_helper_of(const bool *stop)
{
	helper_stop = stop;
}

bool model_interrupted(const struct model *m)
{
	return (m->interrupted && m->interrupted()) ||
	       (helper_stop && __atomic_load_n(helper_stop, __ATOMIC_ACQUIRE));
}

void model_note(const struct model *m, const char *tenant)
{
	void (*fn)(void *, const char *) = __atomic_load_n(&m->on_note,
							   __ATOMIC_ACQUIRE);

	if (fn)
		fn(m->note_ctx, tenant);
}

int tenant_free_for_change(struct model *m, const char *name,
			   struct tenant **out, char *err)
{
	struct tenant *t = tenant_find_visible(m, name);

	*out = t;
	if (!t)
		return err_set(err, ENOENT, "no tenant %s", name);
	if (t->state != OBJ_READY && t->state != OBJ_ERROR)
		return err_set(err, EBUSY, "tenant %s is %s", name,
			       obj_state_name(t->state));
	return 0;
}

static const char *const test_phase_names[] = {
	[TEST_NONE] = "none",
	[TEST_LAUNCH] = "launch",
	[TEST_UP] = "up",
	[TEST_END] = "end",
};

const char *test_phase_name(enum test_phase p)
{
	return test_phase_names[p];
}

int test_phase_parse(const char *s, enum test_phase *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(test_phase_names); i++)
		if (!strcmp(s, test_phase_names[i])) {
			*out = (enum test_phase)i;
			return 0;
		}
	return -EINVAL;
}

bool vm_test_uuid(const struct model *m, const char *uuid)
{
	const struct tenant *t;
	const struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v)
			if (v->test.phase != TEST_NONE &&
			    !strcmp(v->test.uuid, uuid))
				return true;
	return false;
}
