/* A tenant's files: id, status, spec.yaml, plan, quota, external */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "external.h"
#include "model.h"
#include "spec.h"
#include "tenant.h"

static int show_tenant_id(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%u\n", o->tenant->id);
}

/* "used: subnets 2 of 10, vms 3 of none, ..." */
static void show_usage(const struct tenant *t, struct strbuf *out)
{
	uint64_t use[QUOTA_KINDS];
	char a[24], b[24];
	size_t k;

	quota_usage(t, use);
	sb_puts(out, "used:");
	for (k = 0; k < QUOTA_KINDS; k++) {
		quota_amount((enum quota_kind)k, use[k], a, sizeof a);
		quota_amount((enum quota_kind)k, t->quota.max[k], b, sizeof b);
		sb_printf(out, "%s %s %s of %s", k ? "," : "",
			  quota_names[k], a, b);
	}
	sb_puts(out, "\n");
}

static int show_tenant_status(const struct model *m, const struct objref *o,
			      struct strbuf *out)
{
	const struct tenant *t = o->tenant;
	char a[IP_STRLEN];
	size_t k;

	sb_printf(out, "%s\n", obj_state_name(t->state));
	sb_printf(out, "id: %u\n", t->id);
	sb_printf(out, "namespace: %s%s on %s\n", NET_NS_PREFIX, t->name,
		  model_default_cloud(m)->name);
	sb_printf(out, "subnets: %zu\n", t->subnets.n);
	sb_printf(out, "vms: %zu\n", t->vms.n);
	show_usage(t, out);
	for (k = 0; k < m->nclouds; k++)
		if (t->uplink[k]) {
			ip_format(t->uplink[k], a);
			sb_printf(out, "uplink: %s on %s\n", a,
				  m->clouds[k]->name);
		}
	obj_error_show(&t->error, out);
	return 0;
}

static int show_tenant_external(const struct model *m,
				const struct objref *o, struct strbuf *out)
{
	(void)m;
	return sb_puts(out, o->tenant->external ? "on\n" : "off\n");
}

static int store_tenant_external(struct model *m, const struct node *n,
				 const char *value, char *err)
{
	if (strcmp(value, "on") && strcmp(value, "off"))
		return err_set(err, EINVAL, "external takes on or off, not "
			       "'%.40s'", value);
	return tenant_set_external(m, n->tenant, !strcmp(value, "on"), err);
}

/* Limits in the form a write takes; root's alone to write (0444: only
 * root passes the kernel's check), its owner's to read. */
static int show_tenant_quota(const struct model *m, const struct objref *o,
			     struct strbuf *out)
{
	char q[160];

	(void)m;
	quota_format(&o->tenant->quota, q, sizeof q);
	return sb_printf(out, "%s\n", q);
}

static int store_tenant_quota(struct model *m, const struct node *n,
			      const char *value, char *err)
{
	return tenant_set_quota(m, n->tenant, value, err);
}

static int show_tenant_spec(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	return spec_show(m, o->tenant->name, out);
}

static int show_tenant_plan(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	return spec_plan_show(m, o->tenant->name, out);
}

const struct attr attrs_tenant[] = {
	{ "id", 0444, show_tenant_id, NULL, CHANGE_OP },
	{ "status", 0444, show_tenant_status, NULL, CHANGE_MODEL },
	{ "spec.yaml", 0644, show_tenant_spec, NULL, CHANGE_MODEL },
	{ "plan", 0644, show_tenant_plan, NULL, CHANGE_OP },
	{ "quota", 0444, show_tenant_quota, store_tenant_quota, CHANGE_OP },
	{ "external", 0644, show_tenant_external, store_tenant_external,
	  CHANGE_OP },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
