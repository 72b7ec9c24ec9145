/* Sizes as users write them. */
#ifndef MAAS_UNITS_H
#define MAAS_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "512M", "2G", "1T", with optional "iB"/"B"; a bare number is GiB. */
int size_parse(const char *s, uint64_t *mib, char *err);
/* The shortest exact form: "256M", "2G", "1T". */
void size_format(uint64_t mib, char *buf, size_t len);

/* A tenant's quota: the most it may hold of each kind (QUOTA_NONE: no
 * limit); memory and disk in MiB. */
enum quota_kind {
	QUOTA_SUBNETS, QUOTA_VMS, QUOTA_VCPUS, QUOTA_MEMORY, QUOTA_DISK,
	QUOTA_KINDS
};
#define QUOTA_NONE UINT64_MAX
struct quota {
	uint64_t max[QUOTA_KINDS];
};
extern const char *const quota_names[QUOTA_KINDS];
void quota_unlimited(struct quota *q);
/* Whether any kind has a limit. */
bool quota_set(const struct quota *q);
/* "subnets=10 vms=20 vcpus=64 memory=64G disk=1T", any of them, each
 * "none" for no limit, applied over q; "none" alone lifts every limit.
 * EINVAL (q unchanged) for anything else. */
int quota_parse(const char *s, struct quota *q, char *err);
/* Every kind, in the form quota_parse reads ("vms=none" where unset). */
void quota_format(const struct quota *q, char *buf, size_t len);
/* A kind's amount as quota_parse reads it ("64G" for memory and disk). */
void quota_amount(enum quota_kind k, uint64_t v, char *buf, size_t len);

#endif
