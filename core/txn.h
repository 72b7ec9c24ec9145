/* Transactions: the one way the model becomes durable (persistence, on
 * state.c). An operation — a verb, an engine's run — begins one over what
 * it changes (a tenant, or the whole model), may write ahead what it is
 * about to do (the state file says so before the slow work, so that a
 * crash from there on is finished or undone by the next mount: an object
 * going, a migration's next phase), and ends once: txn_commit writes what
 * it changed since, txn_end when what was written ahead is already all of
 * it. The state writer's group commit lets concurrent transactions share
 * one write, and a tenant's transaction reuses the other tenants' entries
 * as last written. Nothing else in core/ calls the state writer. */
#ifndef MAAS_TXN_H
#define MAAS_TXN_H

#include <stdbool.h>
#include <stdint.h>

struct model;
struct tenant;

struct txn {
	struct model *m;
	struct tenant *t;       /* only it changes; NULL: the whole model */
	uint64_t ticket;        /* a write ahead not waited for yet */
	bool ended;
};

void txn_begin(struct txn *x, struct model *m, struct tenant *t);
/* Writes the model as it is now, ahead of the slow work: returns once the
 * file holds it (-errno, and why in err, if it cannot). */
int txn_ahead(struct txn *x, char *err);
/* The same in two halves, the slow work between them: the file takes the
 * model as it is now while the caller works, and _wait waits for it. */
void txn_ahead_start(struct txn *x);
int txn_ahead_wait(struct txn *x, char *err);
/* The end: the model as it is now on disk (whatever the operation's
 * outcome: a failure undone is written too). Once per transaction. */
int txn_commit(struct txn *x, char *err);
/* The end when nothing changed since the last write ahead. */
void txn_end(struct txn *x);
/* A transaction whose one write is its end: begin and commit. */
int txn_once(struct model *m, struct tenant *t, char *err);

#endif
