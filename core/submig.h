/* Subnet migration (an engine, DESIGN §5): a subnet's gateway, DHCP and
 * VMs to another cloud */
#ifndef MAAS_SUBMIG_H
#define MAAS_SUBMIG_H

#include "model.h"

/* A write to subnets/<s>/cloud. */
int subnet_set_cloud(struct model *m, const char *tenant, const char *subnet,
		     const char *cloud, char *err);

#endif
