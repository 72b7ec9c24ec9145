/* Several VMs moved at once (an engine, issue 19 part 4): a pool of
 * movers, each taking the next VM of a list and moving it with
 * vm_relocate, each with its share of the bandwidth cap. A subnet's move
 * (submig.c) and a cloud's evacuation (evacuate.c) run their VMs through
 * it. */
#ifndef MAAS_MOVERS_H
#define MAAS_MOVERS_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* One VM of the list: where it goes, and how it went. */
struct move_item {
	char tenant[NAME_MAXLEN + 1];
	char vm[NAME_MAXLEN + 1];
	const struct cloud *to;
	const char *mode;       /* NULL or "": live if it runs; "cold" */
	int r;                  /* 0 once moved, -errno if it did not */
	char err[ERRLEN];       /* why it did not */
	bool tried;
};

struct movers {
	struct move_item *items;
	size_t n;
	unsigned parallel;      /* movers at once (each 1/parallel of the cap) */
	/* false: the first failure starts no more (a subnet's move); true:
	 * the rest still move (an evacuation) */
	bool keep_going;
	/* After each VM, without the lock: progress for a status line. */
	void (*ended)(void *ctx, size_t done, size_t failed);
	void *ctx;
};

/* Moves the items; returns once every mover has ended: 0 if all moved,
 * the first failure's -errno (its VM named in err), or -EINTR when the
 * caller's Ctrl-C stopped it (the moves under way roll back; items never
 * begun keep tried false). */
int movers_run(struct model *m, struct movers *p, char *err);

#endif
