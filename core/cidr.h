/* IPv4 addresses and prefixes, strictly parsed. Addresses are kept in
 * host byte order. */
#ifndef MAAS_CIDR_H
#define MAAS_CIDR_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/util.h"   /* ip_parse, ip_format, IP_STRLEN */

#define CIDR_STRLEN 19

/* Smallest and largest prefix a tenant subnet may have. */
#define CIDR_PREFIX_MIN 8
#define CIDR_PREFIX_MAX 29

struct cidr {
	uint32_t net;     /* network address, host bits zero */
	unsigned prefix;
};

/* "10.0.1.0/24": canonical network address, prefix within bounds, not in
 * a reserved block. Returns 0 or -EINVAL with the reason in err. */
int cidr_parse(const char *s, struct cidr *out, char *err);
void cidr_format(const struct cidr *c, char buf[CIDR_STRLEN]);
/* The directory name of an unnamed subnet: "10.0.1.0_24". */
void cidr_dirname(const struct cidr *c, char buf[CIDR_STRLEN]);

uint32_t cidr_mask(unsigned prefix);
uint32_t cidr_broadcast(const struct cidr *c);
bool cidr_contains(const struct cidr *c, uint32_t ip);
bool cidr_overlap(const struct cidr *a, const struct cidr *b);
/* First host address: the gateway. */
uint32_t cidr_gateway(const struct cidr *c);
/* The default DHCP pool: .10 to .250 of a /24, scaled for other sizes. */
void cidr_default_range(const struct cidr *c, uint32_t *first, uint32_t *last);
/* A pool must lie inside the subnet's host addresses and leave out the
 * gateway. Returns 0 or -EINVAL with the reason. */
int cidr_check_range(const struct cidr *c, uint32_t first, uint32_t last,
		     char *err);

/* "FIRST LAST": a pool as cidr_check_range wants it. */
int cidr_parse_range(const struct cidr *c, const char *s, uint32_t *first,
		     uint32_t *last, char *err);
void ip_format_range(uint32_t first, uint32_t last, char buf[2 * IP_STRLEN]);

#endif
