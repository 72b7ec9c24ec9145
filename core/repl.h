/* Continuous replication of a VM's disk to another cloud (DESIGN §10):
 * a write of a cloud's name to vms/<vm>/replication copies the disk there
 * (the seed: every block that holds data, as it was at one instant, while
 * the guest runs on), then a cycle every interval sends only the blocks
 * changed since the last one. A cycle is a libvirt pull-mode backup job
 * with a checkpoint made at its start; the changed blocks are read over
 * NBD on the source (libnbd, the job's dirty bitmap: never a scan of the
 * disk) and written into the replica in place on the target (qemu-nbd),
 * then read back and checked (SHA-256). A move of the VM to that cloud is
 * a cutover: the guest paused, one last cycle, the VM started there from
 * the replica (mig.c). */
#ifndef MAAS_REPL_H
#define MAAS_REPL_H

#include "model.h"

#define REPL_INTERVAL_S 10        /* between cycles, by default */
#define REPL_INTERVAL_MAX 86400

/* "CLOUD [interval=S]" starts (the seed, synchronous: EINTR on Ctrl-C,
 * nothing left) or retimes one; "stop" ends it, the replica deleted. */
int vm_repl_write(struct model *m, const char *tenant, const char *vm,
		  const char *value, char *err);
/* The replication file. Caller holds the lock. */
int vm_repl_show(const struct vm *v, struct strbuf *out);
/* At mount: a cycle a killed maasfs cut off is dropped (its job ended,
 * its checkpoint deleted), a seed cut off undone. */
void vm_repl_recover(struct model *m, struct vm *v);
/* Lock held: waits (bounded) until no cycle of v runs; -EBUSY if one
 * still does. Who reserves v (CHANGING) calls it first. */
int repl_wait_idle(struct model *m, struct vm *v, char *err);
/* A cutover's last cycle (mig.c): the VM paused on its location, reserved
 * by the migration; its bytes in *bytes. */
int repl_final(struct model *m, struct vm *v, bool (*cancelled)(void *),
	       void *ctx, uint64_t *bytes, char *err);

/* The thread that runs the cycles: made with the model, started after
 * the mount's reconcile, stopped and freed before the drivers go. */
struct replicator *replicator_new(struct model *m);
int replicator_start(struct replicator *r);
void replicator_free(struct replicator *r);

#endif
