/* Security groups (issue 18): <tenant>/secgroups/NAME/rules, a VM's
 * secgroups. A group's rules say what may come in to and go out of the
 * VMs in it; a VM is let through by any of its groups (rules add, as in
 * Neutron). "default" always exists: in from its own members, out to
 * anywhere; a new group lets everything out and nothing in. The rules
 * are enforced on the cloud where the VM runs (ports.c). */
#ifndef MAAS_SECGROUP_H
#define MAAS_SECGROUP_H

#include "model.h"
#include "secrule.h"

/* mkdir and rmdir of secgroups/NAME: EEXIST, ENOSPC (64 groups); EPERM
 * for default, EBUSY while a VM is in it or a rule names it. */
int secgroup_create(struct model *m, const char *tenant, const char *name,
		    char *err);
int secgroup_delete(struct model *m, const char *tenant, const char *name,
		    char *err);
/* The whole list of rules, one a line (blank lines and # comments
 * ignored): EINVAL naming the line, ENOENT for a group that does not
 * exist, E2BIG past 128; applied at once to every VM of the group. */
int secgroup_set_rules(struct model *m, const char *tenant,
		       const char *name, const char *text, char *err);
/* A VM's groups, names separated by blanks (1 to 8): ENOENT, EINVAL. */
int vm_set_groups(struct model *m, const char *tenant, const char *vm,
		  const char *text, char *err);

#endif
