/* The network work of one cloud, as idempotent "ensure" operations: a
 * tenant's router namespace, a subnet's bridge and gateway, its dnsmasq.
 * The local driver does it in-process through netns, link and dnsmasq;
 * a remote cloud's driver will send the same operations to `maasfs agent`.
 * Unit tests of core/ give the model a fake driver instead. */
#ifndef MAAS_NET_H
#define MAAS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/util.h"
#include "copy/copy.h"
#include "host/dnsmasq.h"

/* Kernel names: every object carries the prefix (DESIGN §7), interface
 * names are derived from the VNI and fit IFNAMSIZ. */
#define NET_NS_PREFIX "maas-"
#define NET_LINK_PREFIX "maas"
#define NET_IFNAMSIZ 16
void net_ns_name(const char *tenant, char *buf, size_t len);
void net_bridge_name(uint32_t vni, char buf[NET_IFNAMSIZ]);
/* A VM's port (its tap, named in its domain) from its MAC, unique as
 * MACs are: maasp + the MAC's last three bytes. */
void net_port_name(const char *mac, char buf[NET_IFNAMSIZ]);
/* The port of a VM's test clone (same MAC, another bridge): maasq... */
void net_test_port_name(const char *mac, char buf[NET_IFNAMSIZ]);
void net_hostveth_name(uint32_t vni, char buf[NET_IFNAMSIZ]);
void net_gwveth_name(uint32_t vni, char buf[NET_IFNAMSIZ]);
void net_vxlan_name(uint32_t vni, char buf[NET_IFNAMSIZ]);
/* The gateway's MAC, 0a:58:00 and the VNI: the same on every cloud, so
 * that a gateway that moves keeps the guests' ARP entries true. */
void net_gateway_mac(uint32_t vni, unsigned char mac[6]);

/* A subnet's part on one cloud: always its bridge; on its home cloud the
 * veth to the tenant namespace and the gateway address; when it is on
 * other clouds too, a VXLAN device with flood entries to their VTEPs. */
struct net_subnet {
	const char *tenant;
	uint32_t vni;
	uint32_t gateway;     /* host byte order */
	unsigned prefix;
	unsigned mtu;
	bool home;            /* the gateway lives on this cloud */
	uint32_t vtep;        /* this cloud's underlay address, 0: none */
	const uint32_t *remotes;  /* the other clouds' VTEPs */
	size_t nremotes;
};

struct net_dhcp {
	const char *tenant;
	uint32_t vni;
	uint32_t server;      /* address dnsmasq answers on (the gateway) */
	unsigned prefix;
	uint32_t first, last;
	const char *domain;
	unsigned mtu;
	const struct dhcp_host *hosts;
	size_t nhosts;
	const char *forget;   /* a MAC whose lease goes (a VM left), or NULL */
	/* The lease file to start from, when the server moves here from
	 * another cloud (DESIGN §5): "EXPIRY MAC IP NAME CLIENTID" lines. */
	const char *leases;
};

/* A tenant's way out on one cloud (issue 18): a veth from its namespace
 * (maasu there) to the provider bridge (maasu<id> on the host), the
 * address from the provider's pool on it, a default route through the
 * provider's gateway, and what leaves by it SNATed to that address (the
 * table ip maasfs in the tenant's namespace, written whole). */
struct net_float {
	uint32_t addr;        /* the floating address, from the pool */
	uint32_t fixed;       /* the VM's own address in its subnet */
};
struct net_uplink {
	const char *tenant;
	unsigned id;          /* the tenant's id: names the host end */
	uint32_t addr, gateway;
	unsigned prefix;
	const char *bridge;   /* the provider bridge on the host */
	/* Floating addresses through this uplink: each is an address of the
	 * uplink (/32, announced by gratuitous ARP), DNATed to its VM's
	 * fixed address, and that VM's traffic out SNATed to it. */
	const struct net_float *floats;
	size_t nfloats;
};
#define NET_FLOATS_MAX 256   /* per uplink */

/* A VM's port on the cloud where it runs (or lands).
 * Anti-spoofing: what leaves it must carry its MAC and, as IPv4 or ARP,
 * its address (a DHCP request from 0.0.0.0 aside); anything else is
 * dropped (table bridge maasfs_t<ID>). Security groups: IPv4 to and from
 * it passes only by its rules (an in rule accepts, an out rule lets the
 * packet on), replies to what passed and the subnet's gateway (the
 * tenant's router, DHCP and DNS) always (table ip maasfs_t<ID>, on the
 * bridge's IPv4 path, br_netfilter's nf_call_iptables on the bridge). The
 * two tables of a tenant on a cloud are written whole, together. */
struct net_rule {
	bool in;
	uint8_t proto;          /* 0 any, 1 icmp, 6 tcp, 17 udp */
	uint16_t lo, hi;        /* ports; 0 0: every port */
	int set;                /* the peer: a set's index, or -1 and: */
	uint32_t net;           /* net/prefix (0/0: anywhere) */
	unsigned prefix;
};
struct net_set {                /* a group's members' addresses */
	const uint32_t *ips;
	size_t n;
};
struct net_port {
	char tap[NET_IFNAMSIZ];
	char mac[18];
	uint32_t ip;
	char bridge[NET_IFNAMSIZ];   /* the subnet's bridge it is on */
	uint32_t gateway;            /* the subnet's gateway */
	const struct net_rule *rules;   /* of all its groups */
	size_t nrules;
};
struct net_ports {
	unsigned id;                 /* the tenant's */
	const struct net_port *p;
	size_t n;
	const struct net_set *sets;
	size_t nsets;
};
#define NET_PORTS_MAX 4096   /* per tenant and cloud */
#define NET_RULES_MAX 1024   /* per port */
#define NET_SETS_MAX 64
#define NET_UPLINK_NAME "maasu"

/* What a sweep keeps: everything else of ours is removed. Both arrays are
 * sorted (tenants by strcmp, subnets by vni); uplinks[i] is the id of
 * tenants[i] if it has an uplink on this cloud, 0 if not; ports[i] its id
 * if it has VM ports here (a table of their rules), 0 if not. */
struct net_keep_subnet {
	uint32_t vni;
	const char *tenant;
	bool dhcp;
	bool home;
};
struct net_keep {
	const char *const *tenants;
	const unsigned *uplinks;
	const unsigned *ports;
	size_t ntenants;
	const struct net_keep_subnet *subnets;
	size_t nsubnets;
};

/* What a guest can make grow on a host (its DHCP requests in dnsmasq's
 * log, its serial console) is kept under these, in bytes. */
#define HOST_LOG_MAX (1 << 20)
#define HOST_LOG_KEEP (256 << 10)

struct hostdrv;

struct hostdrv_ops {
	int (*tenant_ensure)(struct hostdrv *d, const char *tenant, char *err);
	int (*tenant_remove)(struct hostdrv *d, const char *tenant, char *err);
	int (*subnet_ensure)(struct hostdrv *d, const struct net_subnet *s,
			     char *err);
	int (*subnet_remove)(struct hostdrv *d, const char *tenant,
			     uint32_t vni, char *err);
	/* Starts, adopts or restarts the subnet's dnsmasq; *pid on success. */
	int (*dhcp_ensure)(struct hostdrv *d, const struct net_dhcp *c,
			   int *pid, char *err);
	/* purge: forget its leases and files too (the subnet is going). */
	int (*dhcp_remove)(struct hostdrv *d, uint32_t vni, bool purge,
			   char *err);
	/* The tenant's uplink (net_uplink), made or brought to what u says;
	 * removed (0 if there was none). */
	int (*uplink_ensure)(struct hostdrv *d, const struct net_uplink *u,
			     char *err);
	int (*uplink_remove)(struct hostdrv *d, const char *tenant,
			     unsigned id, char *err);
	/* The ports of a tenant on this cloud, all of them (none: its tables
	 * go). */
	int (*ports_apply)(struct hostdrv *d, const struct net_ports *ps,
			   char *err);
	/* Never block: answered from local files or a cache. */
	int (*dhcp_pid)(struct hostdrv *d, uint32_t vni);
	int (*dhcp_leases)(struct hostdrv *d, uint32_t vni, struct strbuf *out);
	/* Removes every object of ours that keep does not list; returns how
	 * many were removed or -errno. */
	int (*sweep)(struct hostdrv *d, const struct net_keep *keep, char *err);
	/* The lease file, read now (blocking): for a server that moves. */
	int (*dhcp_fetch)(struct hostdrv *d, uint32_t vni, struct strbuf *out,
			  char *err);
	/* Copies between clouds (copy.h): a file of the cloud's disk or
	 * image directory as a source, a sink for one of size bytes, or
	 * removed (with what a cut-short copy left). */
	int (*file_source)(struct hostdrv *d, enum copy_area a,
			   const char *name, struct copy_src **out, char *err);
	int (*file_sink)(struct hostdrv *d, enum copy_area a, const char *name,
			 uint64_t size, struct copy_dst **out, char *err);
	int (*file_remove)(struct hostdrv *d, enum copy_area a,
			   const char *name, char *err);
	/* Replication (copy.h's copy_repl_*): the folder of a VM's cycles
	 * on its source made or removed; a cycle's blocks (changed: since
	 * its checkpoint, or all the disk's data); the replica <uuid>.qcow2
	 * of the disk folder patched in place. */
	int (*repl_dir)(struct hostdrv *d, const char *uuid, bool make,
			char *err);
	int (*repl_source)(struct hostdrv *d, const char *uuid, bool changed,
			   struct copy_src **out, char *err);
	int (*repl_sink)(struct hostdrv *d, const char *uuid, uint64_t size,
			 struct copy_dst **out, char *err);
	/* The area's files (copy_list_local): what a sweep looks at. */
	int (*file_list)(struct hostdrv *d, enum copy_area a,
			 struct strbuf *out, char *err);
	/* "up", or "down: why". Never blocks. */
	int (*status)(struct hostdrv *d, struct strbuf *out);
	/* Bounds the files guests make grow on this host: each dnsmasq log
	 * and console log past HOST_LOG_MAX loses its head down to about
	 * HOST_LOG_KEEP. The janitor calls it now and then. */
	int (*trim)(struct hostdrv *d, char *err);
	/* The tail of a VM's serial console log on this host. Never blocks. */
	int (*console)(struct hostdrv *d, const char *uuid, struct strbuf *out);
	void (*free)(struct hostdrv *d);
};

struct hostdrv {
	const struct hostdrv_ops *ops;
};

/* The host this process runs on. marker goes into the alias of every
 * link and namespace made, so that only those are ever swept; rundir
 * holds the dnsmasq files; disks the VMs' disks and console logs, images
 * the images (both for copies to and from other clouds). */
struct host_local_conf {
	const char *marker;
	const char *rundir;
	const char *dnsmasq;
	const char *disks;
	const char *images;
};
struct hostdrv *host_local_new(const struct host_local_conf *c,
				char *err);
void hostdrv_free(struct hostdrv *d);

#endif
