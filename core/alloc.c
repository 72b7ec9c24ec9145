#include "alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t idset_pos(const struct idset *set, uint32_t id)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool idset_has(const struct idset *set, uint32_t id)
{
	size_t i = idset_pos(set, id);

	return i < set->n && set->v[i] == id;
}

static int idset_insert_at(struct idset *set, size_t i, uint32_t id)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		uint32_t *v = realloc(set->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	memmove(set->v + i + 1, set->v + i, (set->n - i) * sizeof *set->v);
	set->v[i] = id;
	set->n++;
	return 0;
}

int idset_take(struct idset *set, uint32_t id)
{
	size_t i = idset_pos(set, id);

	if (i < set->n && set->v[i] == id)
		return -EEXIST;
	return idset_insert_at(set, i, id);
}

int idset_alloc(struct idset *set, uint32_t min, uint32_t max, uint32_t *id)
{
	size_t first = idset_pos(set, min);
	size_t lo = first, hi = set->n;
	uint64_t want;

	if (max < min)
		return -ENOSPC;
	/* The taken ids from min up are sorted and distinct, so v[j] equals
	 * min + (j - first) exactly until the first gap: binary search it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uint64_t)set->v[mid] == min + (uint64_t)(mid - first))
			lo = mid + 1;
		else
			hi = mid;
	}
	want = min + (uint64_t)(lo - first);
	if (want > max)
		return -ENOSPC;
	if (idset_insert_at(set, lo, (uint32_t)want))
		return -ENOMEM;
	*id = (uint32_t)want;
	return 0;
}

void idset_put(struct idset *set, uint32_t id)
{
	size_t i = idset_pos(set, id);

	if (i >= set->n || set->v[i] != id)
		return;
	memmove(set->v + i, set->v + i + 1, (set->n - i - 1) * sizeof *set->v);
	set->n--;
}

void idset_free(struct idset *set)
{
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}
