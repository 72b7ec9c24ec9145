/* One dnsmasq per subnet: DHCP and DNS, started with execve inside the
 * tenant's namespace, its pid, lease, hosts and log files in a run
 * directory, named by the subnet's VNI. */
#ifndef MAAS_DNSMASQ_H
#define MAAS_DNSMASQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/util.h"

struct dhcp_host {
	const char *mac;     /* 52:54:00:xx:xx:xx */
	uint32_t ip;
	const char *name;    /* a host name (one DNS label) */
};

struct dnsmasq_conf {
	const char *binary;      /* path of dnsmasq */
	const char *rundir;      /* where <vni>.pid, .leases, ... live */
	uint32_t vni;
	const char *iface;       /* interface served, in the namespace */
	uint32_t server;         /* its address on iface: DNS server too */
	uint32_t router;
	unsigned prefix;
	uint32_t first, last;    /* dynamic pool */
	const char *domain;
	unsigned mtu;            /* handed out as DHCP option 26 */
	const struct dhcp_host *hosts;
	size_t nhosts;
	const char *forget;      /* a MAC whose lease must go, or NULL */
	const char *leases;      /* the lease file to start from, or NULL */
};

/* Makes sure dnsmasq runs in namespace nsfd with exactly this
 * configuration: adopts a matching process (reloading it with SIGHUP if its
 * reservations changed), restarts a different one, starts a missing one.
 * A lease of the forget MAC is dropped (dnsmasq restarted without it).
 * Returns 0 with its pid once it answers, or -errno. */
int dnsmasq_ensure(int nsfd, const struct dnsmasq_conf *c, int *pid,
		   char *err);
/* Stops the subnet's dnsmasq; purge also removes its leases and files. */
int dnsmasq_stop(const char *rundir, uint32_t vni, bool purge, char *err);
/* Its pid if it runs, else 0. Never blocks. */
int dnsmasq_pid(const char *rundir, uint32_t vni);
/* Its current lease file, as dnsmasq writes it. */
int dnsmasq_leases(const char *rundir, uint32_t vni, struct strbuf *out);
/* A lease file as dnsmasq writes it for IPv4: "EXPIRY MAC IP NAME
 * CLIENTID" lines, NAME and CLIENTID possibly "*". */
bool dnsmasq_leases_valid(const char *text);
/* Appends to out the lines of text that are such leases. */
void dnsmasq_leases_filter(const char *text, struct strbuf *out);
/* Calls fn for every VNI that has files in rundir. */
int dnsmasq_list(const char *rundir, void (*fn)(uint32_t vni, void *ctx),
		 void *ctx);

#endif
