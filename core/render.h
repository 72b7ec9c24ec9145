/* What the backend is told: the model's objects as the drivers'
 * descriptions. The caller holds the model's lock; the strings point into
 * the model */
#ifndef MAAS_RENDER_H
#define MAAS_RENDER_H

#include "model.h"

/* A subnet's part on cloud c, for the backend, given the clouds it is on
 * (remotes receives their VTEPs but c's). Caller holds the lock; the
 * strings point into the model. */
void subnet_net(const struct model *m, const struct subnet *s,
		const struct cloud *c, uint64_t present,
		uint32_t remotes[CLOUDS_MAX], struct net_subnet *out);
/* The dnsmasq configuration of a subnet, with its VMs' reservations;
 * caller holds the lock, and frees it with dhcp_net_free. */
int dhcp_net(const struct subnet *s, const struct dhcp *d,
	     struct net_dhcp *out);
void dhcp_net_free(struct net_dhcp *n);
/* The domain of VM v configured as c (v's own conf or a new one), on
 * subnet s (NULL: no network); the strings point into v and c. */
void vm_domain(const struct vm *v, const struct vm_conf *c,
	       const struct subnet *s, struct virt_domain *out,
	       char bridge[NET_IFNAMSIZ]);

#endif
