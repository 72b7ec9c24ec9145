/* A DHCP message as it travels (RFC 2131): shared by the tools that speak
 * DHCP to dnsmasq in tests and benchmarks (tests/tools/dhcpflood.c,
 * bench/dhcpprobe.c). */
#ifndef MAAS_DHCPWIRE_H
#define MAAS_DHCPWIRE_H

#include <stdint.h>

#define DHCP_MAGIC 0x63825363u

struct dhcp {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	uint32_t magic;
	uint8_t opts[312];
} __attribute__((packed));

#endif
