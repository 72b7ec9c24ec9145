/* state.yaml: the model on disk, in the schema of spec.yaml (DESIGN §6),
 * replaced atomically at every change, loaded before the mount answers. */
#ifndef MAAS_STATE_H
#define MAAS_STATE_H

#include "../lib/util.h"
#include "model.h"

#define STATE_FILE "state.yaml"
/* The largest state.yaml read at mount; a change that would make it larger
 * is refused (EFBIG), so that the estate always comes back. */
#define STATE_MAX (64u << 20)
/* Beside it: the version it replaced, overwritten by the next (never read). */
#define STATE_SPARE "state.yaml.spare"
#define STATE_VERSION 1

/* The model as YAML; objects being created or deleted are left out.
 * The caller holds m->lock. */
int state_serialize(const struct model *m, struct strbuf *out);
/* Objects the state file lists (not being created or deleted). */
bool state_listed(enum obj_state s);
struct yw;
/* One subnet or VM as state.yaml holds it, or (spec) as spec.yaml shows
 * it: on one line, without what maasfs chooses itself. */
void state_write_subnet(struct yw *w, const struct subnet *s, bool spec);
void state_write_vm(struct yw *w, const struct vm *v, bool spec);
/* secgroups: {NAME: "RULE; RULE"}, if they are not "default" alone with
 * its first rules. */
void state_write_groups(struct yw *w, const struct tenant *t);
/* The writer's two halves, for txn.c alone (everything else in core/
 * makes the model durable through txn.h): state_commit() asks for the
 * model as it is now to be written and returns at once with a ticket;
 * state_committed() waits for that write (the model's later changes may
 * ride along). state_commit_tenant() is the same when only tenant t
 * changed (its subnets, VMs or itself; t alive until the wait returns):
 * the other tenants' entries are reused as last written, so that changes
 * no commit followed are written by the next whole-model commit only. */
uint64_t state_commit(struct model *m);
uint64_t state_commit_tenant(struct model *m, struct tenant *t);
int state_committed(struct model *m, uint64_t ticket, char *err);
/* The thread that writes state.yaml. Stop writes what was asked first;
 * later callers (events during unmount) write the file themselves. */
int state_saver_start(struct model *m, char *err);
void state_saver_stop(struct model *m);
void state_saver_free(struct model *m);
/* Fills an empty model (clouds already known) from a document. A
 * malformed, truncated or inconsistent document is refused with its line
 * and column, and leaves the model empty. */
int state_parse(struct model *m, const char *name, const char *buf,
		size_t len, char *err);
/* Loads STATE/state.yaml; a missing file is a fresh estate with a new
 * instance id. */
int state_load(struct model *m, char *err);

#endif
