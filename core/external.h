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
/* After its subnets changed homes (made, moved, removed): the tenant's
 * uplinks brought up to date if it has external on; a failure is logged
 * and shown in its status (writing on again retries). */
void external_sync(struct model *m, const char *name);
/* ENOENT if tenant tname has external on and cloud c no external network:
 * no subnet of it may make c its home. The caller holds the lock. */
int external_check_home(const struct model *m, const char *tname,
			const struct cloud *c, char *err);
/* A tenant going: its uplinks removed (what cannot be is logged). */
void external_drop(struct model *m, struct tenant *t);

#endif
