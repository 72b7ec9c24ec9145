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

const char *const quota_names[QUOTA_KINDS] = {
	"subnets", "vms", "vcpus", "memory", "disk",
};

void quota_unlimited(struct quota *q)
{
	size_t i;

	for (i = 0; i < QUOTA_KINDS; i++)
		q->max[i] = QUOTA_NONE;
}

bool quota_set(const struct quota *q)
{
	size_t i;

	for (i = 0; i < QUOTA_KINDS; i++)
		if (q->max[i] != QUOTA_NONE)
			return true;
	return false;
}

void quota_amount(enum quota_kind k, uint64_t v, char *buf, size_t len)
{
	if (v == QUOTA_NONE)
		snprintf(buf, len, "none");
	else if (k == QUOTA_MEMORY || k == QUOTA_DISK)
		size_format(v, buf, len);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static int quota_one(const char *tok, size_t n, struct quota *q, char *err)
{
	char key[16], val[32], *end;
	const char *eq = memchr(tok, '=', n);
	unsigned long long v;
	size_t k;

	if (!eq || (size_t)(eq - tok) >= sizeof key ||
	    n - (size_t)(eq - tok) - 1 >= sizeof val)
		return err_set(err, EINVAL, "quota takes KIND=AMOUNT (kinds: "
			       "subnets vms vcpus memory disk), not '%.*s'",
			       (int)(n > 40 ? 40 : n), tok);
	snprintf(key, sizeof key, "%.*s", (int)(eq - tok), tok);
	snprintf(val, sizeof val, "%.*s", (int)(n - (size_t)(eq - tok) - 1),
		 eq + 1);
	for (k = 0; k < QUOTA_KINDS && strcmp(key, quota_names[k]); k++)
		;
	if (k == QUOTA_KINDS)
		return err_set(err, EINVAL, "no quota of '%s' (kinds: subnets "
			       "vms vcpus memory disk)", key);
	if (!strcmp(val, "none")) {
		q->max[k] = QUOTA_NONE;
		return 0;
	}
	if (k == QUOTA_MEMORY || k == QUOTA_DISK)
		return size_parse(val, &q->max[k], err);
	errno = 0;
	v = strtoull(val, &end, 10);
	if (!val[0] || *end || errno || val[0] == '-' || v >= QUOTA_NONE)
		return err_set(err, EINVAL, "quota of %s: '%s' is not a "
			       "number or none", key, val);
	q->max[k] = v;
	return 0;
}

int quota_parse(const char *s, struct quota *q, char *err)
{
	struct quota out = *q;
	int r = 0;

	s += strspn(s, " \t\n");
	if (!strcmp(s, "none") || !strcmp(s, "none\n")) {
		quota_unlimited(q);
		return 0;
	}
	while (*s && r == 0) {
		size_t n = strcspn(s, " \t\n");

		r = quota_one(s, n, &out, err);
		s += n;
		s += strspn(s, " \t\n");
	}
	if (r == 0)
		*q = out;
	return r;
}

void quota_format(const struct quota *q, char *buf, size_t len)
{
	size_t i, o = 0;
	char a[24];

	buf[0] = '\0';
	for (i = 0; i < QUOTA_KINDS; i++) {
		quota_amount((enum quota_kind)i, q->max[i], a, sizeof a);
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s=%s",
				      i ? " " : "", quota_names[i], a);
	}
}
