/* Gratuitous ARP: telling a segment where an address now lives (a
 * floating address that moved to another uplink), as arping -U would, in
 * process. */
#ifndef MAAS_ARP_H
#define MAAS_ARP_H

#include <stddef.h>
#include <stdint.h>

/* Sends one gratuitous ARP request for each of addrs[n] (host order) from
 * link ifname of namespace nsfd (< 0: the calling thread's), with the
 * link's MAC, through one packet socket. */
int arp_announce(int nsfd, const char *ifname, const uint32_t *addrs,
		 size_t n, char *err);

#endif
