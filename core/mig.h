/* Migration of a VM (an engine, DESIGN §5) */
#ifndef MAAS_MIG_H
#define MAAS_MIG_H

#include "model.h"

/* Migrations: a write of "CLOUD [mode=live|cold]" to the location of a VM
 * that has run; a subnet's VMs when it moves. Synchronous. */
int vm_migrate(struct model *m, const char *tenant, const char *name,
	       const char *cloud, const char *mode, char *err);
/* Where a write to a VM's location (and a subnet's move) goes: a VM that
 * has run migrates (mode "live", "cold" or "": live when it runs), one
 * that never ran is only placed there. */
int vm_relocate(struct model *m, const char *tenant, const char *name,
		const char *cloud, const char *mode, char *err);
/* At mount, for a VM whose migration was cut off: finishes or rolls back,
 * as the clouds say. */
void mig_recover(struct model *m, struct vm *v);
/* The migration file. Caller holds the lock. */
int mig_show(const struct vm *v, struct strbuf *out);

#endif
