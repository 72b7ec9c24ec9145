/* The ports of a tenant's VMs (issue 18): on every cloud where one of its
 * VMs is (or lands, while it migrates), a table that lets each VM's
 * frames out only with its own MAC and address (backend/host.h:
 * net_port). */
#ifndef MAAS_PORTS_H
#define MAAS_PORTS_H

#include "model.h"

/* Writes the tenant's port tables on each cloud where it has VMs (and
 * removes them where it has none now). Called without the lock, after
 * any change to where its VMs are, what address they have, or their
 * groups. Every cloud that is up is written; one that is down (or lost
 * on the way) waits, logged, and gets them when it is back (the janitor:
 * ports_sync_cloud). The result is the first failure on cloud must (a VM
 * about to start or land there), or, if must is NULL, on any cloud still
 * up. */
int ports_sync(struct model *m, const char *tenant, const struct cloud *must,
	       char *err);

/* Has t a VM port on cloud c (a table there)? Under the lock. */
bool ports_on(const struct model *m, const struct tenant *t,
	      const struct cloud *c);
/* Has a tenant tables on cloud c that wait for a sync (the cloud was
 * down or failed the last one)? Takes the lock. */
bool ports_behind(struct model *m, const struct cloud *c);
/* Those tenants' tables on c, written (the janitor, once c is up). */
void ports_sync_cloud(struct model *m, const struct cloud *c);
/* Every tenant's (at mount). */
void ports_sync_all(struct model *m);

#endif
