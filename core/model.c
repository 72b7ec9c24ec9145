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
}

int name_check(const char *name, const char *what, char *err)
{
	switch (name_fault(name)) {
	case NAME_OK:
		return 0;
	case NAME_EMPTY:
		return err_set(err, EINVAL, "%s name is empty", what);
	case NAME_LONG:
		return err_set(err, EINVAL, "%s name '%.40s...' is longer than "
			       "%d characters", what, name, NAME_MAXLEN);
	case NAME_START:
		return err_set(err, EINVAL, "%s name '%s' starts with '%c'",
			       what, name, name[0]);
	default:
		return err_set(err, EINVAL, "%s name '%.40s' has a character "
			       "outside [A-Za-z0-9_.-]", what, name);
	}
}

int domain_check(const char *s, char *err)
{
	if (!dns_name_valid(s))
		return err_set(err, EINVAL, "'%.60s' is not a DNS domain "
			       "(labels of letters, digits and '-' joined by "
			       "dots)", s);
	return 0;
}

void dns_label_of(const char *name, size_t n, char *buf, size_t len)
{
	size_t i, out = 0;

	for (i = 0; i < n && name[i] && out + 1 < len && out < 63; i++) {
		char c = (char)tolower((unsigned char)name[i]);
		if (c == '_' || c == '.')
			c = '-';
		if (c == '-' && out == 0)
			continue;
		buf[out++] = c;
	}
	while (out > 0 && buf[out - 1] == '-')
		out--;
	buf[out] = '\0';
	if (out == 0)
		snprintf(buf, len, "vm");
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

struct tenant *tenant_new(const char *name, uint32_t id)
{
	struct tenant *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	snprintf(t->name, sizeof t->name, "%s", name);
	t->id = id;
	t->state = OBJ_READY;
	t->mtime = time(NULL);
	return t;
}

void tenant_free(struct tenant *t)
{
	struct subnet *s;
	struct vm *v;
	size_t i;

	if (!t)
		return;
	objset_each(&t->vms, i, v)
		vm_free(v);
	objset_each(&t->subnets, i, s)
		subnet_free(s);
	objset_free(&t->subnets);
	sb_free(&t->saved);
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
	v->conf.vcpus = 1;
	v->conf.memory = VM_MEMORY_DEFAULT;
	v->conf.disk = VM_DISK_DEFAULT;
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

