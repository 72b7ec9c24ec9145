/* The ports of a tenant's VMs (issue 18): on every cloud where one of its
 * VMs is (or lands, while it migrates), a table that lets each VM's
 * frames out only with its own MAC and address (backend/host.h:
 * net_port). */
#ifndef MAAS_PORTS_H
#define MAAS_PORTS_H

#include "model.h"

/* Writes the tenant's port tables on each cloud where it has VMs (and
 * removes them where it has none now). Called without the lock, after
 * any change to where its VMs are or what address they have; 0 or the
 * first failure (the others are still written). */
int ports_sync(struct model *m, const char *tenant, char *err);

/* Has t a VM port on cloud c (a table there)? Under the lock. */
bool ports_on(const struct model *m, const struct tenant *t,
	      const struct cloud *c);
/* Every tenant's (at mount). */
void ports_sync_all(struct model *m);

#endif
