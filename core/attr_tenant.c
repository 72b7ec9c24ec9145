/* A tenant's files: id, status, spec.yaml */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "spec.h"

static int show_tenant_id(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%u\n", o->tenant->id);
}

static int show_tenant_status(const struct model *m, const struct objref *o,
			      struct strbuf *out)
{
	const struct tenant *t = o->tenant;

	sb_printf(out, "%s\n", obj_state_name(t->state));
	sb_printf(out, "id: %u\n", t->id);
	sb_printf(out, "namespace: %s%s on %s\n", NET_NS_PREFIX, t->name,
		  model_default_cloud(m)->name);
	sb_printf(out, "subnets: %zu\n", t->subnets.n);
	sb_printf(out, "vms: %zu\n", t->vms.n);
	obj_error_show(&t->error, out);
	return 0;
}

static int show_tenant_spec(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	return spec_show(m, o->tenant->name, out);
}

const struct attr attrs_tenant[] = {
	{ "id", 0444, show_tenant_id, NULL, CHANGE_OP },
	{ "status", 0444, show_tenant_status, NULL, CHANGE_MODEL },
	{ "spec.yaml", 0644, show_tenant_spec, NULL, CHANGE_MODEL },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
