/* Sizes as users write them: "512M", "2G", "1T"; a bare number is GiB
 * (DESIGN §4). Kept in MiB. */
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"

int size_parse(const char *s, uint64_t *mib, char *err)
{
	unsigned long long n;
	const char *u;
	char *end;
	uint64_t mult;

	if (*s < '0' || *s > '9')
		return err_set(err, EINVAL, "'%.40s' is not a size (like 512M "
			       "or 2G)", s);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return err_set(err, EINVAL, "'%.40s' is not a size", s);
	u = end;
	if (!*u || !strcasecmp(u, "G") || !strcasecmp(u, "GiB") ||
	    !strcasecmp(u, "GB"))
		mult = 1024;
	else if (!strcasecmp(u, "M") || !strcasecmp(u, "MiB") ||
		 !strcasecmp(u, "MB"))
		mult = 1;
	else if (!strcasecmp(u, "T") || !strcasecmp(u, "TiB") ||
		 !strcasecmp(u, "TB"))
		mult = 1024 * 1024;
	else
		return err_set(err, EINVAL, "'%.40s': unit must be M, G or T "
			       "(a bare number is GiB)", s);
	if (n > UINT64_MAX / (1024 * 1024 * 1024ull))
		return err_set(err, EINVAL, "'%.40s' is too large", s);
	*mib = n * mult;
	return 0;
}

void size_format(uint64_t mib, char *buf, size_t len)
{
	if (mib && mib % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluT", (unsigned long long)(mib >> 20));
	else if (mib && mib % 1024 == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(mib >> 10));
	else
		snprintf(buf, len, "%lluM", (unsigned long long)mib);
}
