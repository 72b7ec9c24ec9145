/* Allocation of small numbers (tenant ids, VNIs): the lowest free number
 * in a range, so that numbers are reused after a delete. */
#ifndef MAAS_ALLOC_H
#define MAAS_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset {
	uint32_t *v;   /* sorted, distinct */
	size_t n;
	size_t cap;
};

/* Takes the lowest free id in [min, max] into *id. 0 or -ENOSPC/-ENOMEM. */
int idset_alloc(struct idset *set, uint32_t min, uint32_t max, uint32_t *id);
/* Takes a given id (loading state). 0, -EEXIST or -ENOMEM. */
int idset_take(struct idset *set, uint32_t id);
void idset_put(struct idset *set, uint32_t id);
bool idset_has(const struct idset *set, uint32_t id);
void idset_free(struct idset *set);

#endif
