/* Gratuitous ARP: telling a segment where an address now lives (a
 * floating address that moved to another uplink), as arping -U would, in
 * process. */
#ifndef MAAS_ARP_H
#define MAAS_ARP_H

#include <stdint.h>

/* Sends one gratuitous ARP request for addr (host order) from link ifname
 * of namespace nsfd (< 0: the calling thread's), with the link's MAC. */
int arp_announce(int nsfd, const char *ifname, uint32_t addr, char *err);

#endif
