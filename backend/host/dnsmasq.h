/* One dnsmasq per subnet: DHCP and DNS, started with execve inside the
 * tenant's namespace, its files named by the subnet's VNI. dnsmasq opens
 * its pid, lease and log files as root, then drops to an unprivileged user
 * and reads its reservations (<vni>.hosts, <vni>.dns) as that user, at
 * start and at every SIGHUP: those two live in a directory of their own
 * that the user may enter whatever the state directory's mode. */
#ifndef MAAS_DNSMASQ_H
#define MAAS_DNSMASQ_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <sys/types.h>
#include <stdint.h>

#include "../../lib/util.h"

struct dhcp_host {
	const char *mac;     /* 52:54:00:xx:xx:xx */
	uint32_t ip;
	const char *name;    /* a host name (one DNS label) */
};

/* Where one maasfs keeps its dnsmasqs' files on a host. */
#define DNSMASQ_DIR_MAX 3072     /* room left in PATH_MAX for the names */
struct dnsmasq_site {
	char rundir[DNSMASQ_DIR_MAX];   /* <vni>.pid, .leases, .log: as root */
	char readdir[DNSMASQ_DIR_MAX];  /* <vni>.hosts, .dns: read as user */
	char user[64];           /* dnsmasq's --user */
	uid_t uid;               /* and who that is */
	gid_t gid;
};

/* Fills the site: rundir as given, readdir DNSMASQ_READ_BASE/<instance>
 * owned by the user ("dnsmasq" if the host has it, else "nobody") and
 * closed to everyone else, then checks that the user reads a file there:
 * if not, the error says why (a mount refused at once, not a reservation
 * that times out later). */
#define DNSMASQ_READ_BASE "/run/maasfs"
int dnsmasq_site_init(struct dnsmasq_site *s, const char *rundir,
		      const char *instance, char *err);
/* Removes the site's read directory if nothing is left in it. */
void dnsmasq_site_tidy(const struct dnsmasq_site *s);

struct dnsmasq_conf {
	const char *binary;      /* path of dnsmasq */
	const struct dnsmasq_site *site;
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
int dnsmasq_stop(const struct dnsmasq_site *s, uint32_t vni, bool purge,
		 char *err);
/* Its pid if it runs, else 0. Never blocks. */
int dnsmasq_pid(const struct dnsmasq_site *s, uint32_t vni);
/* Its current lease file, as dnsmasq writes it. */
int dnsmasq_leases(const struct dnsmasq_site *s, uint32_t vni,
		   struct strbuf *out);
/* A lease file as dnsmasq writes it for IPv4: "EXPIRY MAC IP NAME
 * CLIENTID" lines, NAME and CLIENTID possibly "*". */
bool dnsmasq_leases_valid(const char *text);
/* Appends to out the lines of text that are such leases. */
void dnsmasq_leases_filter(const char *text, struct strbuf *out);
/* What lines of dnsmasq's log (text, changed in place) say of file: 1 it
 * was read, -errno it could not be (dnsmasq's line in why), 0 nothing. */
int dnsmasq_log_says(char *text, const char *file, char *why);
/* Calls fn once for every VNI that has files in the site. */
int dnsmasq_list(const struct dnsmasq_site *s,
		 void (*fn)(uint32_t vni, void *ctx), void *ctx);

#endif
