/* The relay of a copy between two clouds: the source's frames read by a
 * thread of their own while the caller writes them to the target, a cap
 * on bandwidth, progress told and cancel asked as it goes. */
#ifndef MAAS_RELAY_H
#define MAAS_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "copy.h"

struct relay_opts {
	uint64_t bandwidth;   /* bytes per second, 0: no cap */
	/* At the start, about every 100 ms and at the end (NULL: never). */
	void (*progress)(void *ctx, uint64_t done, uint64_t total,
			 uint64_t rate);
	/* Asked after each frame: true stops the copy (NULL: never). */
	bool (*cancelled)(void *ctx);
	void *ctx;
};

/* Copies s into d, then finishes d against s's SHA-256 (or aborts it):
 * d is freed either way, s stays the caller's. -EINTR when cancelled. */
int copy_relay(struct copy_src *s, struct copy_dst *d,
	       const struct relay_opts *o, char *err);

#endif
