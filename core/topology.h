/* topology.dot (the front door): the estate as a Graphviz graph. */
#ifndef MAAS_TOPOLOGY_H
#define MAAS_TOPOLOGY_H

#include "../lib/util.h"

struct model;

/* Clouds, tenants, subnets with their VNI, VMs, VXLAN tunnels. The caller
 * holds m->lock. */
int topology_show(const struct model *m, struct strbuf *out);

#endif
