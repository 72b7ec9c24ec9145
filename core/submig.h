/* Subnet migration (an engine, DESIGN §5): a subnet's gateway, DHCP and
 * VMs to another cloud */
#ifndef MAAS_SUBMIG_H
#define MAAS_SUBMIG_H

#include "model.h"

/* A write to subnets/<s>/cloud. */
int subnet_set_cloud(struct model *m, const char *tenant, const char *subnet,
		     const char *cloud, char *err);
/* The subnet's gateway and DHCP server alone to cloud (its VMs stay where
 * they are, the subnet stretched to them): a cloud's evacuation. */
int subnet_move_home(struct model *m, const char *tenant, const char *subnet,
		     const char *cloud, char *err);

#endif
