/* A tenant's floating addresses: floating/new, floating/ADDR/{vm,cloud} */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "external.h"
#include "model.h"

static int store_floating_new(struct model *m, const struct node *n,
			      const char *value, char *err)
{
	return floating_new(m, n->tenant, value, err);
}

const struct attr attrs_floatings[] = {
	{ "new", 0200, NULL, store_floating_new, CHANGE_OP },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};

static int show_floating_vm(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->floating->vm);
}

static int store_floating_vm(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	uint32_t a;

	if (ip_parse(n->floating, &a))
		return err_set(err, ENOENT, "no floating address %s",
			       n->floating);
	return floating_set_vm(m, n->tenant, a, value, err);
}

/* The cloud whose uplink carries it: its VM's subnet's home. */
static int show_floating_cloud(const struct model *m, const struct objref *o,
			       struct strbuf *out)
{
	const struct cloud *c = floating_cloud(o->tenant, o->floating);

	(void)m;
	return sb_printf(out, "%s\n", c ? c->name : "none");
}

const struct attr attrs_floating[] = {
	{ "vm", 0644, show_floating_vm, store_floating_vm, CHANGE_OP },
	{ "cloud", 0444, show_floating_cloud, NULL, CHANGE_MODEL },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
