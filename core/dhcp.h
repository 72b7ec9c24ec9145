/* A subnet's DHCP (a verb): its dnsmasq on, off, configured, told of
 * reservations; free addresses */
#ifndef MAAS_DHCP_H
#define MAAS_DHCP_H

#include "model.h"

/* DHCP: mkdir/rmdir of dhcp/, writes to range and domain. */
int dhcp_enable(struct model *m, const char *tenant, const char *subnet,
		char *err);
int dhcp_disable(struct model *m, const char *tenant, const char *subnet,
		 char *err);
int dhcp_set_range(struct model *m, const char *tenant, const char *subnet,
		   const char *value, char *err);
int dhcp_set_domain(struct model *m, const char *tenant, const char *subnet,
		    const char *value, char *err);
/* Re-writes the subnet's reservations into its dnsmasq (SIGHUP); forget,
 * if not NULL, is the MAC of a VM that left: its lease goes too. */
int subnet_dhcp_refresh(struct model *m, const char *tenant,
			const char *subnet, const char *forget, char *err);

/* A free address of the subnet for a VM: in the DHCP pool, not reserved
 * by another VM, not leased to another MAC. 0 if none is left. The
 * caller holds the lock. */
uint32_t subnet_free_ip(const struct subnet *s, const char *mac);

#endif
