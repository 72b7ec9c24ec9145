/* Transactions (txn.h) over the state writer (state.h). */
#include "txn.h"

#include <stdlib.h>

#include "model.h"
#include "state.h"

void txn_begin(struct txn *x, struct model *m, struct tenant *t)
{
	x->m = m;
	x->t = t;
	x->ticket = 0;
	x->ended = false;
}

/* A transaction ends once: a second end is a broken invariant. */
static void not_ended(const struct txn *x)
{
	if (x->ended)
		abort();
}

void txn_ahead_start(struct txn *x)
{
	not_ended(x);
	x->ticket = x->t ? state_commit_tenant(x->m, x->t)
			 : state_commit(x->m);
}

int txn_ahead_wait(struct txn *x, char *err)
{
	uint64_t ticket = x->ticket;

	not_ended(x);
	x->ticket = 0;
	return state_committed(x->m, ticket, err);
}

int txn_ahead(struct txn *x, char *err)
{
	txn_ahead_start(x);
	return txn_ahead_wait(x, err);
}

int txn_commit(struct txn *x, char *err)
{
	int r = txn_ahead(x, err);

	x->ended = true;
	return r;
}

void txn_end(struct txn *x)
{
	not_ended(x);
	x->ended = true;
}

int txn_once(struct model *m, struct tenant *t, char *err)
{
	struct txn x;

	txn_begin(&x, m, t);
	return txn_commit(&x, err);
}
