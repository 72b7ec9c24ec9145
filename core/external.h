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

/* Floating addresses (<tenant>/floating/): value "VM [ADDRESS]" gives VM
 * an address of the pool of its subnet's home cloud (the one given, or
 * the first free one), 1:1 NAT on that cloud's uplink. ENOENT: no such
 * VM, or the tenant's external off; EINVAL: the VM has no address, the
 * address is not in the pool; EADDRINUSE: taken; EEXIST: the VM has one
 * already; ENOSPC: the pool is used up. Nothing changes on an error. */
int floating_new(struct model *m, const char *tenant, const char *value,
		 char *err);
/* The address now goes to VM vm (the same errors). */
int floating_set_vm(struct model *m, const char *tenant, uint32_t addr,
		    const char *vm, char *err);
int floating_release(struct model *m, const char *tenant, uint32_t addr,
		     char *err);
/* EBUSY if a floating address points at VM vm of t (its removal, or a
 * change of its subnet, waits until it is released). Under the lock. */
int floating_busy(const struct tenant *t, const char *vm, char *err);
/* rmdir floating/ADDR: released. */
int floating_rmdir(struct model *m, const char *tenant, const char *addr,
		   char *err);
/* Lookups for the tree, under the lock: NULL if none. */
struct floating *floating_find(const struct tenant *t, uint32_t addr);
const struct cloud *floating_cloud(const struct tenant *t,
				   const struct floating *f);

#endif
