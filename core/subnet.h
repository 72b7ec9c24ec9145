/* Subnets (a verb): made, removed, spread over the clouds their VMs are on */
#ifndef MAAS_SUBNET_H
#define MAAS_SUBNET_H

#include "model.h"

/* Subnets: "CIDR [name=NAME] [cloud=CLOUD] [dhcp=on|off]" written to
 * subnets/new; rmdir (a write to cloud: submig.h). */
int subnet_create(struct model *m, const char *tenant, const char *line,
		  char *err);
int subnet_delete(struct model *m, const char *tenant, const char *subnet,
		  char *err);
/* A plan's subnets (plan.h), on a plan's copy of the model: the checks
 * of subnet_create and subnet_delete, then their effect on the model
 * alone. */
int subnet_plan_create(struct model *m, const char *tenant, const char *line,
		       char *err);
int subnet_plan_delete(struct model *m, const char *tenant, const char *name,
		       char *err);
/* Brings the subnet onto every cloud of its presence (bridge, VXLAN, flood
 * entries to the others) and off the clouds that no longer need it. */
int subnet_spread(struct model *m, const char *tenant, const char *subnet,
		  char *err);

#endif
