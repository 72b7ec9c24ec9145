/* A tenant's way out (issue 18): <tenant>/external on|off. On, the tenant
 * has an uplink on every cloud that is the home of one of its subnets: an
 * address from that cloud's provider pool (addresses are unique across
 * the clouds of one provider network), a default route to the provider's
 * gateway, and the tenant's traffic leaving by it SNATed to that address
 * (backend/host.h: net_uplink). */
#ifndef MAAS_EXTERNAL_H
#define MAAS_EXTERNAL_H

#include "model.h"

/* on: uplinks made (or kept) on the tenant's home clouds, removed
 * elsewhere; off: all removed. ENOENT when a home cloud has no external
 * network, ENOSPC when a pool is used up; nothing changes then. */
int tenant_set_external(struct model *m, const char *name, bool on,
			char *err);
/* At mount: the saved uplinks made again where they are missing. */
int external_reconcile(struct model *m, struct tenant *t, char *err);
/* A tenant going: its uplinks removed (what cannot be is logged). */
void external_drop(struct model *m, struct tenant *t);

#endif
