/* Migration of a VM (an engine, DESIGN §5) */
#ifndef MAAS_MIG_H
#define MAAS_MIG_H

#include "model.h"
#include "xfer.h"

/* How a VM moves: mode "live", "cold" or "" (live when it runs); a live
 * migration's pause budget in ms (0: none; MIG_BUDGET_MAX_MS at most,
 * model.h). */

struct mig_opts {
	const char *mode;
	unsigned downtime_ms;
	unsigned share;   /* moves sharing the bandwidth cap (0, 1: alone) */
};

/* "CLOUD [mode=live|cold] [downtime=MS]" (a location write) into cloud
 * (NAME_MAXLEN + 1) and *o (o->mode points into a constant). */
int mig_opts_parse(const char *value, char *cloud, struct mig_opts *o,
		   char *err);
/* Migrations: a write of "CLOUD [OPTION]..." to the location of a VM that
 * has run; a subnet's VMs when it moves. Synchronous. o NULL: defaults. */
int vm_migrate(struct model *m, const char *tenant, const char *name,
	       const char *cloud, const struct mig_opts *o, char *err);
/* Where a write to a VM's location (and a subnet's move) goes: a VM that
 * has run migrates, one that never ran is only placed there. */
int vm_relocate(struct model *m, const char *tenant, const char *name,
		const char *cloud, const struct mig_opts *o, char *err);
/* The checks a migration starts with, also a plan's (plan.h): whether
 * VM v may leave for cloud to in mode ("" live when it runs, "live",
 * "cold"): 1 if it is there already, 0, or -errno and why. Caller holds
 * the lock of v's model. */
int mig_allowed(const struct vm *v, const struct cloud *to, const char *mode,
		char *err);
/* At mount, for a VM whose migration was cut off: finishes or rolls back,
 * as the clouds say. */
void mig_recover(struct model *m, struct vm *v);
/* The migration file. Caller holds the lock. */
int mig_show(const struct vm *v, struct strbuf *out);

#endif
