/* A security group's file: secgroups/NAME/rules */
#include "attr.h"

#include "model.h"
#include "secgroup.h"

static int show_rules(const struct model *m, const struct objref *o,
		      struct strbuf *out)
{
	size_t i;

	(void)m;
	for (i = 0; i < o->secgroup->nrules; i++)
		secrule_format(&o->secgroup->rules[i], out);
	return 0;
}

static int store_rules(struct model *m, const struct node *n,
		       const char *value, char *err)
{
	return secgroup_set_rules(m, n->tenant, n->secgroup, value, err);
}

const struct attr attrs_secgroup[] = {
	{ "rules", 0644, show_rules, store_rules, CHANGE_OP },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
