/* Migration of a VM (an engine, DESIGN §5) */
#ifndef MAAS_MIG_H
#define MAAS_MIG_H

#include "model.h"

/* How a VM moves: mode "live", "cold" or "" (live when it runs); a live
 * migration's pause budget in ms (0: none; MIG_BUDGET_MAX_MS at most,
 * model.h). */
/* Room a disk needs on the target beyond its bytes. */
#define MIG_ROOM_MARGIN (64ull << 20)

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
/* Then, without the lock: the target answers, both clouds have a vtep if
 * the VM has a subnet, the VM's disk is on from (its capacity and its
 * bytes), and to has room for them beyond reserved bytes (other disks
 * bound there; less than 0: disks that will have left it) and
 * MIG_ROOM_MARGIN. 0, or -errno and why. */
struct mig_target {
	struct cloud *from, *to;
	const char *uuid, *name;
	bool subnet;
	int64_t reserved;
};
int mig_ready(const struct mig_target *t, uint64_t *capacity,
	      uint64_t *allocation, char *err);
/* At mount, for a VM whose migration was cut off: finishes or rolls back,
 * as the clouds say. */
void mig_recover(struct model *m, struct vm *v);
/* The migration file. Caller holds the lock. */
int mig_show(const struct vm *v, struct strbuf *out);

#endif
