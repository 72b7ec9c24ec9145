/* Links and addresses through libnl-route-3. A linksock is a route netlink
 * socket bound to one namespace (a socket stays in the namespace it was
 * opened in). Every libnl error is translated here, once, with the
 * kernel's extended-ack text when it gives one. */
#ifndef MAAS_LINK_H
#define MAAS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linksock;

#define LINK_ALIAS_MAX 128

struct link_info {
	int ifindex;
	unsigned flags;         /* IFF_* */
	unsigned mtu;
	int master;             /* ifindex of the master, 0 if none */
	char name[16];
	char kind[16];          /* "bridge", "veth", ... ("" if unknown) */
	char alias[LINK_ALIAS_MAX];
	int forwarding;         /* IPv4 forwarding on this link: 0, 1, -1 unknown */
	uint32_t group;         /* its device group */
};

/* The device group a link made with this alias gets in the very request
 * that makes it (link_add_*): the alias comes in a second request, and a
 * crash between the two must not leave a link nobody owns. */
uint32_t link_alias_group(const char *alias);

/* "libnl 3.7.0" into buf. */
void link_version(char *buf, size_t len);

/* nsfd < 0: the calling thread's namespace. */
int link_sock_open(int nsfd, struct linksock **out, char *err);
void link_sock_close(struct linksock *ls);

/* 0 and *out filled, or -ENOENT. */
int link_get(struct linksock *ls, const char *name, struct link_info *out,
	     char *err);
/* A bridge, up, with this MTU and alias, and no IPv6 address (links in
 * the host namespace carry tenant traffic; the host must not be on it). */
int link_add_bridge(struct linksock *ls, const char *name, unsigned mtu,
		    const char *alias, char *err);
/* A veth pair: NAME here (enslaved to master, up, alias set, no IPv6)
 * and PEER
 * created directly in the namespace peer_nsfd; both with this MTU. The
 * peer is left down (libnl cannot bring it up in the same request);
 * peer_mac, if not NULL, is its hardware address (6 bytes). */
int link_add_veth(struct linksock *ls, const char *name, int master,
		  unsigned mtu, const char *alias, const char *peer,
		  int peer_nsfd, const unsigned char *peer_mac, char *err);

/* A VXLAN device: VNI, local underlay address, UDP port 4789, learning
 * on, enslaved to master, up, with this MTU and alias, no IPv6. */
int link_add_vxlan(struct linksock *ls, const char *name, uint32_t vni,
		   uint32_t local, int master, unsigned mtu, const char *alias,
		   char *err);
/* The unicast flood entries (00:00:00:00:00:00 dst IP) of a VXLAN device:
 * listed, added (an existing one is fine), deleted (a missing one too). */
int link_fdb_list(struct linksock *ls, int ifindex, uint32_t *dsts,
		  size_t max, size_t *n, char *err);
int link_fdb_add(struct linksock *ls, int ifindex, uint32_t dst, char *err);
int link_fdb_del(struct linksock *ls, int ifindex, uint32_t dst, char *err);

struct link_change {
	int up;                 /* 1 up, 0 down, -1 unchanged */
	unsigned mtu;           /* 0 unchanged */
	int master;             /* -1 unchanged */
	const char *alias;      /* NULL unchanged */
	int forwarding;         /* IPv4 forwarding: 1 on, 0 off, -1 unchanged */
	bool ip6_none;          /* no IPv6 address generated (the kernel
				 * reads this after the flags: a request of
				 * its own, before the one that brings it up) */
};
int link_change(struct linksock *ls, const struct link_info *link,
		const struct link_change *ch, char *err);
/* Deletes the link by name; 0 if it was not there. */
int link_del(struct linksock *ls, const char *name, char *err);
/* Adds ADDR/PREFIX to the link; an address already present is fine. */
int link_addr_add(struct linksock *ls, int ifindex, uint32_t addr,
		  unsigned prefix, char *err);
/* The bridge's IPv4 frames go through the ip family's hooks (br_netfilter,
 * IFLA_BR_NF_CALL_IPTABLES), for this bridge only. */
int link_bridge_nf_call(struct linksock *ls, const char *name, char *err);
/* The IPv4 addresses of the link (at most max), with their prefixes. */
int link_addr_list(struct linksock *ls, int ifindex, uint32_t *addrs,
		   unsigned *prefixes, size_t max, size_t *n, char *err);
/* Removes ADDR/PREFIX from the link; 0 if it was not there. */
int link_addr_del(struct linksock *ls, int ifindex, uint32_t addr,
		  unsigned prefix, char *err);
/* The default route, through gateway on the link; replaces one there. */
int link_route_default(struct linksock *ls, int ifindex, uint32_t gateway,
		       char *err);
/* Calls fn for every link whose name starts with prefix. */
int link_list(struct linksock *ls, const char *prefix,
	      void (*fn)(const struct link_info *link, void *ctx), void *ctx,
	      char *err);

#endif
