/* The attribute tables of each kind of directory (configfs's
 * CONFIGFS_ATTR): attr_<kind>.c declares its files {name, mode, show,
 * store} with one show and one store function each; the tree (tree.c)
 * walks the tables and knows none of them by name. */
#ifndef MAAS_ATTR_H
#define MAAS_ATTR_H

#include "node.h"

/* Each ends with { NULL }. */
extern const struct attr attrs_root[];
extern const struct attr attrs_cloud[];
extern const struct attr attrs_tenant[];
extern const struct attr attrs_subnets[];
extern const struct attr attrs_subnet[];
extern const struct attr attrs_dhcp[];
extern const struct attr attrs_vm[];
extern const struct attr attrs_floatings[];
extern const struct attr attrs_floating[];
extern const struct attr attrs_secgroup[];

/* The line of a subnet's dnsmasq: "running pid N", "off", "not running:
 * why" (a subnet's status shows it too). */
void attr_dhcp_line(const struct subnet *s, struct strbuf *out);

/* A write to VM vm's attribute file named attr, as the tree does it
 * (unit tests write so). */
int attr_vm_write(struct model *m, const char *tenant, const char *vm,
		  const char *attr, const char *value, char *err);

#endif
