/* The root's files: spec.yaml, plan, events (streamed by fs/), topology.dot,
 * status */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "spec.h"
#include "topology.h"

/* spec.yaml: its store is special (a document, applied at close). */
static int show_root_spec(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)o;
	return spec_show(m, NULL, out);
}

/* plan: its store is special too (a document, planned at close). */
static int show_root_plan(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)o;
	return spec_plan_show(m, NULL, out);
}

static int show_topology(const struct model *m, const struct objref *o,
			 struct strbuf *out)
{
	(void)o;
	return topology_show(m, out);
}

static int show_root_status(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	const struct tenant *t;
	size_t i, subnets = 0, vms = 0;

	(void)o;
	objset_each(&m->tenants, i, t) {
		subnets += t->subnets.n;
		vms += t->vms.n;
	}
	sb_printf(out, "ready\ninstance: %s\nclouds: %zu\ntenants: %zu\n"
		  "subnets: %zu\nvms: %zu\n", m->instance, m->nclouds,
		  m->tenants.n, subnets, vms);
	obj_error_show(&m->error, out);
	return 0;
}

/* Streamed by fs/ from the events ring; a plain read shows nothing. */
static int show_events(const struct model *m, const struct objref *o,
		       struct strbuf *out)
{
	(void)m;
	(void)o;
	(void)out;
	return 0;
}

const struct attr attrs_root[] = {
	/* the whole estate, every tenant's doings: root's alone */
	{ "spec.yaml", 0600, show_root_spec, NULL, CHANGE_MODEL },
	{ "plan", 0600, show_root_plan, NULL, CHANGE_OP },
	{ "events", 0400, show_events, NULL, CHANGE_MODEL },
	{ "topology.dot", 0400, show_topology, NULL, CHANGE_MODEL },
	{ "status", 0444, show_root_status, NULL, CHANGE_MODEL },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
