#include "cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"

uint32_t cidr_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

uint32_t cidr_broadcast(const struct cidr *c)
{
	return c->net | ~cidr_mask(c->prefix);
}

bool cidr_contains(const struct cidr *c, uint32_t ip)
{
	return (ip & cidr_mask(c->prefix)) == c->net;
}

bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
	unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;

	return (a->net & cidr_mask(p)) == (b->net & cidr_mask(p));
}

uint32_t cidr_gateway(const struct cidr *c)
{
	return c->net + 1;
}

void cidr_default_range(const struct cidr *c, uint32_t *first, uint32_t *last)
{
	uint32_t bcast = cidr_broadcast(c);

	if (c->prefix <= 26) {
		/* Leave .2-.9 and the last few addresses for fixed use. */
		*first = c->net + 10;
		*last = bcast - 5;
	} else {
		*first = c->net + 2;
		*last = bcast - 1;
	}
}

int cidr_check_range(const struct cidr *c, uint32_t first, uint32_t last,
		     char *err)
{
	char a[IP_STRLEN], b[IP_STRLEN], n[CIDR_STRLEN];

	ip_format(first, a);
	ip_format(last, b);
	cidr_format(c, n);
	if (!cidr_contains(c, first) || !cidr_contains(c, last))
		return err_set(err, EINVAL, "range %s %s is not inside %s", a,
			       b, n);
	if (first > last)
		return err_set(err, EINVAL,
			       "range %s %s: first address is after the last",
			       a, b);
	if (first == c->net || last == cidr_broadcast(c))
		return err_set(err, EINVAL,
			       "range %s %s includes the network or broadcast "
			       "address of %s", a, b, n);
	if (first <= cidr_gateway(c) && cidr_gateway(c) <= last)
		return err_set(err, EINVAL,
			       "range %s %s includes the gateway", a, b);
	return 0;
}

static const struct {
	uint32_t net;
	unsigned prefix;
	const char *what;
} reserved[] = {
	{ 0x00000000, 8, "\"this network\"" },
	{ 0x7f000000, 8, "loopback" },
	{ 0xa9fe0000, 16, "link-local" },
	{ 0xe0000000, 4, "multicast" },
	{ 0xf0000000, 4, "reserved" },
};

int cidr_parse(const char *s, struct cidr *out, char *err)
{
	char addr[IP_STRLEN], canon[CIDR_STRLEN];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long prefix;
	uint32_t ip;
	size_t i;

	if (!slash || slash == s || (size_t)(slash - s) >= sizeof addr)
		return err_set(err, EINVAL,
			       "'%.40s' is not a CIDR (like 10.0.1.0/24)", s);
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (ip_parse(addr, &ip))
		return err_set(err, EINVAL, "'%.40s' is not an IPv4 address",
			       addr);
	if (slash[1] < '0' || slash[1] > '9' ||
	    (slash[1] == '0' && slash[2] != '\0'))
		return err_set(err, EINVAL, "'%.40s': bad prefix length", s);
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || errno)
		return err_set(err, EINVAL, "'%.40s': bad prefix length", s);
	if (prefix < CIDR_PREFIX_MIN || prefix > CIDR_PREFIX_MAX)
		return err_set(err, EINVAL,
			       "'%.40s': prefix must be /%d to /%d", s,
			       CIDR_PREFIX_MIN, CIDR_PREFIX_MAX);
	out->prefix = (unsigned)prefix;
	out->net = ip & cidr_mask(out->prefix);
	if (out->net != ip) {
		cidr_format(out, canon);
		return err_set(err, EINVAL,
			       "'%.40s' has host bits set (did you mean %s?)", s,
			       canon);
	}
	for (i = 0; i < ARRAY_SIZE(reserved); i++) {
		struct cidr r = { reserved[i].net, reserved[i].prefix };

		if (cidr_overlap(out, &r)) {
			cidr_format(&r, canon);
			return err_set(err, EINVAL, "'%.40s' overlaps the %s "
				       "block %s", s, reserved[i].what, canon);
		}
	}
	return 0;
}

void cidr_format(const struct cidr *c, char buf[CIDR_STRLEN])
{
	char a[IP_STRLEN];

	ip_format(c->net, a);
	snprintf(buf, CIDR_STRLEN, "%s/%u", a, c->prefix);
}

void cidr_dirname(const struct cidr *c, char buf[CIDR_STRLEN])
{
	char a[IP_STRLEN];

	ip_format(c->net, a);
	snprintf(buf, CIDR_STRLEN, "%s_%u", a, c->prefix);
}

int cidr_parse_range(const struct cidr *c, const char *s, uint32_t *first,
		     uint32_t *last, char *err)
{
	char a[64], b[64], extra[2];

	if (sscanf(s, "%63s %63s %1s", a, b, extra) != 2)
		return err_set(err, EINVAL, "range must be \"FIRST LAST\" "
			       "(two addresses)");
	if (ip_parse(a, first))
		return err_set(err, EINVAL, "'%s' is not an IPv4 address", a);
	if (ip_parse(b, last))
		return err_set(err, EINVAL, "'%s' is not an IPv4 address", b);
	return cidr_check_range(c, *first, *last, err);
}

void ip_format_range(uint32_t first, uint32_t last, char buf[2 * IP_STRLEN])
{
	char a[IP_STRLEN], b[IP_STRLEN];

	ip_format(first, a);
	ip_format(last, b);
	snprintf(buf, 2 * IP_STRLEN, "%s %s", a, b);
}
