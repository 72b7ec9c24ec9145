#include "../host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "link.h"
#include "arp.h"
#include "nft.h"
#include "netns.h"

void net_ns_name(const char *tenant, char *buf, size_t len)
{
	snprintf(buf, len, NET_NS_PREFIX "%s", tenant);
}

void net_bridge_name(uint32_t vni, char buf[NET_IFNAMSIZ])
{
	snprintf(buf, NET_IFNAMSIZ, NET_LINK_PREFIX "b%u", vni);
}

static void port_name(char kind, const char *mac, char buf[NET_IFNAMSIZ])
{
	size_t n = strlen(mac);

	snprintf(buf, NET_IFNAMSIZ, NET_LINK_PREFIX "%c%.2s%.2s%.2s", kind,
		 n >= 17 ? mac + 9 : "", n >= 17 ? mac + 12 : "",
		 n >= 17 ? mac + 15 : "");
}

void net_port_name(const char *mac, char buf[NET_IFNAMSIZ])
{
	port_name('p', mac, buf);
}

void net_test_port_name(const char *mac, char buf[NET_IFNAMSIZ])
{
	port_name('q', mac, buf);
}

void net_hostveth_name(uint32_t vni, char buf[NET_IFNAMSIZ])
{
	snprintf(buf, NET_IFNAMSIZ, NET_LINK_PREFIX "h%u", vni);
}

void net_gwveth_name(uint32_t vni, char buf[NET_IFNAMSIZ])
{
	snprintf(buf, NET_IFNAMSIZ, NET_LINK_PREFIX "g%u", vni);
}

void net_gateway_mac(uint32_t vni, unsigned char mac[6])
{
	mac[0] = 0x0a;
	mac[1] = 0x58;
	mac[2] = 0x00;
	mac[3] = (unsigned char)(vni >> 16);
	mac[4] = (unsigned char)(vni >> 8);
	mac[5] = (unsigned char)vni;
}

void net_vxlan_name(uint32_t vni, char buf[NET_IFNAMSIZ])
{
	snprintf(buf, NET_IFNAMSIZ, NET_LINK_PREFIX "x%u", vni);
}

#define NET_MAX_VTEPS 64
#define CONSOLE_TAIL 8192

/* A tenant's namespace, checked to be ours: its descriptor and a netlink
 * socket in it. */
struct tenant_ns {
	int fd;
	struct linksock *ls;
};

/* Netlink sockets kept from one call to the next (STYLE: one socket per
 * namespace): an idle one of the host's namespace, and the last tenant
 * namespace used, with its descriptor. A call takes one out (a libnl
 * socket serves one thread at a time) and gives it back; a thread that
 * finds none opens its own. The kept tenant namespace is known by its
 * inode: when /run/netns/NAME is no longer that namespace (deleted, or
 * deleted and made again), the kept socket -- which holds the old
 * namespace alive -- is closed and the name opened and checked anew. A
 * namespace maasfs deletes is taken out first and not given back. */
struct sock_cache {
	pthread_mutex_t lock;
	/* protected by lock: */
	struct linksock *host;
	struct tenant_ns tenant;      /* ls NULL: none kept */
	char ns[64];                  /* its name */
};

struct host_local {
	struct hostdrv base;
	char marker[LINK_ALIAS_MAX];
	struct dnsmasq_site site;
	char dnsmasq[PATH_MAX];
	char disks[PATH_MAX];
	char images[PATH_MAX];
	struct sock_cache cache;
};

static struct host_local *local_of(struct hostdrv *d)
{
	return (struct host_local *)d;
}

static int host_take(struct host_local *l, struct linksock **ls,
		     char *err)
{
	pthread_mutex_lock(&l->cache.lock);
	*ls = l->cache.host;
	l->cache.host = NULL;
	pthread_mutex_unlock(&l->cache.lock);
	return *ls ? 0 : link_sock_open(-1, ls, err);
}

static void host_give(struct host_local *l, struct linksock *ls)
{
	pthread_mutex_lock(&l->cache.lock);
	if (!l->cache.host) {
		l->cache.host = ls;
		ls = NULL;
	}
	pthread_mutex_unlock(&l->cache.lock);
	link_sock_close(ls);
}

/* Is fd the namespace that /run/netns/NS names now? */
static bool ns_current(int fd, const char *ns)
{
	char path[PATH_MAX];
	struct stat a, b;

	snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, ns);
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void tenant_ns_close(struct tenant_ns *tn)
{
	link_sock_close(tn->ls);
	if (tn->fd >= 0)
		close(tn->fd);
	tn->ls = NULL;
	tn->fd = -1;
}

/* Takes the kept namespace NS out of the cache, if it is kept. */
static void cache_take(struct host_local *l, const char *ns,
		       struct tenant_ns *tn)
{
	static const struct tenant_ns none = { .fd = -1 };

	*tn = none;
	pthread_mutex_lock(&l->cache.lock);
	if (l->cache.tenant.ls && !strcmp(l->cache.ns, ns)) {
		*tn = l->cache.tenant;
		l->cache.tenant = none;
	}
	pthread_mutex_unlock(&l->cache.lock);
}

/* Opens the tenant's namespace and checks it is ours (its lo carries our
 * marker), or takes it from the cache. Whoever takes it, keeps it or closes
 * it: a namespace about to be deleted is taken and closed. */
static int tenant_take(struct host_local *l, const char *tenant,
		       struct tenant_ns *tn, char *err)
{
	struct link_info lo;
	char ns[64];
	int r;

	net_ns_name(tenant, ns, sizeof ns);
	cache_take(l, ns, tn);
	if (tn->ls && ns_current(tn->fd, ns))
		return 0;
	tenant_ns_close(tn);
	tn->fd = netns_open(ns);
	if (tn->fd == -ENOENT)
		return err_set(err, ENOENT, "namespace %s does not exist", ns);
	if (tn->fd < 0)
		return err_set(err, EEXIST, "%s/%s exists but is not a "
			       "namespace", NETNS_RUN_DIR, ns);
	r = link_sock_open(tn->fd, &tn->ls, err);
	if (r == 0)
		r = link_get(tn->ls, "lo", &lo, err);
	if (r == 0 && strcmp(lo.alias, l->marker))
		r = err_set(err, EEXIST, "namespace %s exists and was not made "
			    "by this maasfs", ns);
	if (r)
		tenant_ns_close(tn);
	return r;
}

/* Keeps the namespace for the next call, in place of the one kept (the
 * next tenant_take checks it is still the one of that name). */
static void tenant_give(struct host_local *l, const char *tenant,
			struct tenant_ns *tn)
{
	struct tenant_ns old;

	pthread_mutex_lock(&l->cache.lock);
	old = l->cache.tenant;
	l->cache.tenant = *tn;
	net_ns_name(tenant, l->cache.ns, sizeof l->cache.ns);
	pthread_mutex_unlock(&l->cache.lock);
	tenant_ns_close(&old);
	tn->ls = NULL;
	tn->fd = -1;
}

static int local_tenant_ensure(struct hostdrv *d, const char *tenant,
			       char *err)
{
	struct host_local *l = local_of(d);
	struct link_change up = { .up = 1, .master = -1, .alias = l->marker,
				  .forwarding = -1 };
	struct tenant_ns tn;
	struct link_info lo;
	char ns[64];
	int r;

	r = tenant_take(l, tenant, &tn, err);
	if (r != -ENOENT) {
		if (r == 0)
			tenant_give(l, tenant, &tn);
		return r;
	}
	net_ns_name(tenant, ns, sizeof ns);
	r = netns_add(ns, err);
	if (r)
		return r;
	tn.fd = netns_open(ns);
	if (tn.fd < 0) {
		r = err_set(err, -tn.fd, "opening new namespace %s: %s", ns,
			    strerror(-tn.fd));
		goto undo;
	}
	r = link_sock_open(tn.fd, &tn.ls, err);
	if (r == 0)
		r = link_get(tn.ls, "lo", &lo, err);
	if (r == 0)
		r = link_change(tn.ls, &lo, &up, err);
	if (r == 0) {
		tenant_give(l, tenant, &tn);
		return 0;
	}
	tenant_ns_close(&tn);
undo:
	netns_del(ns, NULL);
	return r;
}

static int local_tenant_remove(struct hostdrv *d, const char *tenant,
			       char *err)
{
	struct host_local *l = local_of(d);
	struct tenant_ns tn;
	char ns[64];
	int r;

	r = tenant_take(l, tenant, &tn, err);
	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	tenant_ns_close(&tn);   /* not kept: it would keep the namespace */
	net_ns_name(tenant, ns, sizeof ns);
	return netns_del(ns, err);
}

/* Ours: our marker as its alias, or, with no alias, the group our marker
 * gives (made, and the alias not set yet when maasfs was killed: the
 * ensure_ functions set it then, a sweep removes it). */
static bool link_ours(const struct host_local *l, const struct link_info *i)
{
	return !strcmp(i->alias, l->marker) ||
	       (!i->alias[0] && i->group == link_alias_group(l->marker));
}

/* Bridge in the host namespace, up, with the subnet MTU. */
static int ensure_bridge(struct host_local *l, struct linksock *host,
			 const char *name, unsigned mtu, struct link_info *br,
			 bool *created, char *err)
{
	struct link_change ch = { .up = -1, .master = -1, .forwarding = -1 };
	char why[ERRLEN];
	int r;

	/* Made first, looked at only if it is there already: a new subnet
	 * pays no look-up. */
	*created = false;
	r = link_add_bridge(host, name, mtu, l->marker, why);
	if (r == 0) {
		*created = true;
		return link_get(host, name, br, err);
	}
	if (r != -EEXIST)
		return err_set(err, -r, "%s", why);
	r = link_get(host, name, br, NULL);
	if (r)
		return link_get(host, name, br, err);
	if (!link_ours(l, br) || strcmp(br->kind, "bridge"))
		return err_set(err, EEXIST, "link %s exists and was not made "
			       "by this maasfs", name);
	if (!(br->flags & IFF_UP))
		ch.up = 1;
	if (br->mtu != mtu)
		ch.mtu = mtu;
	if (!br->alias[0])
		ch.alias = l->marker;
	if (ch.up == 1 || ch.mtu || ch.alias)
		return link_change(host, br, &ch, err);
	return 0;
}

/* The veth from the bridge to the tenant namespace; the gateway end is
 * created directly in the namespace (moving a link costs an RCU grace
 * period). */
static int ensure_veth(struct host_local *l, struct linksock *host,
		       struct linksock *tns, int nsfd, uint32_t vni,
		       const struct link_info *br, bool fresh, unsigned mtu,
		       bool *created, char *err)
{
	char hname[NET_IFNAMSIZ], gname[NET_IFNAMSIZ];
	struct link_change ch = { .up = -1, .master = -1, .forwarding = -1 };
	struct link_info hv, gv;
	unsigned char mac[6];
	int r;

	*created = false;
	net_hostveth_name(vni, hname);
	net_gwveth_name(vni, gname);
	net_gateway_mac(vni, mac);
	if (fresh) {   /* its bridge is new: first try the pair alone */
		char why[ERRLEN];

		r = link_add_veth(host, hname, br->ifindex, mtu, l->marker,
				  gname, nsfd, mac, why);
		if (r == 0)
			*created = true;
		if (r != -EEXIST)
			return r ? err_set(err, -r, "%s", why) : 0;
	}
	r = link_get(host, hname, &hv, NULL);
	if (r == 0) {
		if (!link_ours(l, &hv) || strcmp(hv.kind, "veth"))
			return err_set(err, EEXIST, "link %s exists and was "
				       "not made by this maasfs", hname);
		if (link_get(tns, gname, &gv, NULL) == 0) {
			if (!(hv.flags & IFF_UP))
				ch.up = 1;
			if (hv.mtu != mtu)
				ch.mtu = mtu;
			if (hv.master != br->ifindex)
				ch.master = br->ifindex;
			if (!hv.alias[0])
				ch.alias = l->marker;
			if (ch.up == 1 || ch.mtu || ch.master >= 0 || ch.alias)
				return link_change(host, &hv, &ch, err);
			return 0;
		}
		/* Its peer is not where it belongs: start over. */
		r = link_del(host, hname, err);
		if (r)
			return r;
	} else if (r != -ENOENT) {
		return link_get(host, hname, &hv, err);
	}
	r = link_del(tns, gname, err);   /* a stray left from a crash */
	if (r)
		return r;
	r = link_add_veth(host, hname, br->ifindex, mtu, l->marker, gname,
			  nsfd, mac, err);
	if (r == 0)
		*created = true;
	return r;
}

/* The VXLAN device of a stretched subnet, on the bridge, with exactly
 * one flood entry per other cloud's VTEP. */
static int ensure_vxlan(struct host_local *l, struct linksock *host,
			const struct net_subnet *s, const struct link_info *br,
			bool *created, char *err)
{
	char name[NET_IFNAMSIZ];
	struct link_change ch = { .up = -1, .master = -1, .forwarding = -1 };
	struct link_info vx;
	uint32_t have[NET_MAX_VTEPS];
	size_t nhave, i, j;
	int r;

	*created = false;
	net_vxlan_name(s->vni, name);
	r = link_get(host, name, &vx, NULL);
	if (r == -ENOENT) {
		r = link_add_vxlan(host, name, s->vni, s->vtep, br->ifindex,
				   s->mtu, l->marker, err);
		if (r)
			return r;
		*created = true;
		r = link_get(host, name, &vx, err);
	} else if (r == 0) {
		if (!link_ours(l, &vx) || strcmp(vx.kind, "vxlan"))
			return err_set(err, EEXIST, "link %s exists and was not "
				       "made by this maasfs", name);
		if (!(vx.flags & IFF_UP))
			ch.up = 1;
		if (vx.master != br->ifindex)
			ch.master = br->ifindex;
		if (vx.mtu != s->mtu)
			ch.mtu = s->mtu;
		if (!vx.alias[0])
			ch.alias = l->marker;
		if (ch.up == 1 || ch.master >= 0 || ch.mtu || ch.alias)
			r = link_change(host, &vx, &ch, err);
	} else {
		r = link_get(host, name, &vx, err);
	}
	if (r == 0)
		r = link_fdb_list(host, vx.ifindex, have, NET_MAX_VTEPS, &nhave,
				  err);
	for (i = 0; r == 0 && i < s->nremotes; i++) {
		for (j = 0; j < nhave && have[j] != s->remotes[i]; j++)
			;
		if (j == nhave)
			r = link_fdb_add(host, vx.ifindex, s->remotes[i], err);
	}
	for (j = 0; r == 0 && j < nhave; j++) {
		for (i = 0; i < s->nremotes && s->remotes[i] != have[j]; i++)
			;
		if (i == s->nremotes)
			r = link_fdb_del(host, vx.ifindex, have[j], err);
	}
	return r;
}

static int del_ours(struct host_local *l, struct linksock *ls,
		    const char *name, char *err);

static int local_subnet_ensure(struct hostdrv *d, const struct net_subnet *s,
			       char *err)
{
	struct host_local *l = local_of(d);
	struct linksock *host = NULL, *tns;
	struct link_change gwch = { .up = -1, .master = -1, .forwarding = -1 };
	char bname[NET_IFNAMSIZ], hname[NET_IFNAMSIZ], gname[NET_IFNAMSIZ];
	char xname[NET_IFNAMSIZ];
	struct link_info br, gw;
	struct tenant_ns tn = { .fd = -1 };
	bool new_br = false, new_veth = false, new_vx = false;
	int r;

	net_bridge_name(s->vni, bname);
	net_hostveth_name(s->vni, hname);
	net_gwveth_name(s->vni, gname);
	net_vxlan_name(s->vni, xname);
	if (s->home) {
		r = tenant_take(l, s->tenant, &tn, err);
		if (r)
			return r;
	}
	tns = tn.ls;
	r = host_take(l, &host, err);
	if (r == 0)
		r = ensure_bridge(l, host, bname, s->mtu, &br, &new_br, err);
	if (r == 0 && s->home)
		r = ensure_veth(l, host, tns, tn.fd, s->vni, &br, new_br,
				s->mtu, &new_veth, err);
	else if (r == 0)   /* the gateway left this cloud */
		r = del_ours(l, host, hname, err);
	if (r == 0 && s->home)
		r = link_get(tns, gname, &gw, err);
	/* The gateway end: up, the subnet MTU, and forwarding on, so that
	 * the tenant's namespace routes between its subnets. */
	if (r == 0 && s->home) {
		gwch.up = (gw.flags & IFF_UP) ? -1 : 1;
		gwch.mtu = gw.mtu != s->mtu ? s->mtu : 0;
		gwch.forwarding = gw.forwarding == 1 ? -1 : 1;
		if (gwch.up == 1 || gwch.mtu || gwch.forwarding == 1)
			r = link_change(tns, &gw, &gwch, err);
	}
	if (r == 0 && s->home)
		r = link_addr_add(tns, gw.ifindex, s->gateway, s->prefix, err);
	if (r == 0 && s->vtep && s->nremotes)
		r = ensure_vxlan(l, host, s, &br, &new_vx, err);
	else if (r == 0 && !new_br)   /* a VXLAN device comes after its bridge */
		r = del_ours(l, host, xname, err);
	if (r && host) {
		if (new_vx)
			link_del(host, xname, NULL);
		if (new_veth)
			link_del(host, hname, NULL);
		if (new_br)
			link_del(host, bname, NULL);
	}
	if (host)
		host_give(l, host);
	if (s->home)
		tenant_give(l, s->tenant, &tn);
	return r;
}

/* Deletes a link of ours by name; leaves other people's alone. */
static int del_ours(struct host_local *l, struct linksock *ls,
		    const char *name, char *err)
{
	struct link_info i;
	int r = link_get(ls, name, &i, NULL);

	if (r == -ENOENT)
		return 0;
	if (r)
		return link_get(ls, name, &i, err);
	if (!link_ours(l, &i)) {
		log_warnx("not deleting %s: it was not made by this maasfs",
			  name);
		return 0;
	}
	return link_del(ls, name, err);
}

static int local_subnet_remove(struct hostdrv *d, const char *tenant,
			       uint32_t vni, char *err)
{
	struct host_local *l = local_of(d);
	struct linksock *host = NULL;
	char bname[NET_IFNAMSIZ], hname[NET_IFNAMSIZ], gname[NET_IFNAMSIZ];
	char xname[NET_IFNAMSIZ];
	struct tenant_ns tn;
	int r;

	net_bridge_name(vni, bname);
	net_hostveth_name(vni, hname);
	net_gwveth_name(vni, gname);
	net_vxlan_name(vni, xname);
	r = host_take(l, &host, err);
	if (r)
		return r;
	r = del_ours(l, host, hname, err);
	if (r == 0)
		r = del_ours(l, host, xname, err);
	if (r == 0)
		r = del_ours(l, host, bname, err);
	host_give(l, host);
	if (r || tenant_take(l, tenant, &tn, NULL))
		return r;
	r = link_del(tn.ls, gname, err);
	tenant_give(l, tenant, &tn);
	return r;
}

static int local_dhcp_ensure(struct hostdrv *d, const struct net_dhcp *c,
			     int *pid, char *err)
{
	struct host_local *l = local_of(d);
	char gname[NET_IFNAMSIZ];
	struct dnsmasq_conf dc = {
		.binary = l->dnsmasq,
		.site = &l->site,
		.vni = c->vni,
		.iface = gname,
		.server = c->server,
		.router = c->server,
		.prefix = c->prefix,
		.first = c->first,
		.last = c->last,
		.domain = c->domain,
		.mtu = c->mtu,
		.hosts = c->hosts,
		.nhosts = c->nhosts,
		.forget = c->forget,
		.leases = c->leases,
	};
	struct tenant_ns tn;
	int r;

	net_gwveth_name(c->vni, gname);
	r = tenant_take(l, c->tenant, &tn, err);
	if (r)
		return r;
	r = dnsmasq_ensure(tn.fd, &dc, pid, err);
	tenant_give(l, c->tenant, &tn);
	return r;
}

static int local_dhcp_remove(struct hostdrv *d, uint32_t vni, bool purge,
			     char *err)
{
	return dnsmasq_stop(&local_of(d)->site, vni, purge, err);
}

static int local_dhcp_pid(struct hostdrv *d, uint32_t vni)
{
	return dnsmasq_pid(&local_of(d)->site, vni);
}

static int local_dhcp_leases(struct hostdrv *d, uint32_t vni,
			     struct strbuf *out)
{
	return dnsmasq_leases(&local_of(d)->site, vni, out);
}

static int local_dhcp_fetch(struct hostdrv *d, uint32_t vni,
			    struct strbuf *out, char *err)
{
	int r = dnsmasq_leases(&local_of(d)->site, vni, out);

	return r ? err_set(err, -r, "reading the leases of VNI %u: %s", vni,
			   strerror(-r)) : 0;
}

static const char *area_dir(struct host_local *l, enum copy_area a)
{
	return a == COPY_IMAGES ? l->images : l->disks;
}

static int local_file_source(struct hostdrv *d, enum copy_area a,
			     const char *name, struct copy_src **out,
			     char *err)
{
	if (!copy_name_valid(a, name))
		return err_set(err, EINVAL, "bad file name to copy");
	return copy_src_local(area_dir(local_of(d), a), name, out, err);
}

static int local_file_sink(struct hostdrv *d, enum copy_area a,
			   const char *name, uint64_t size,
			   struct copy_dst **out, char *err)
{
	struct host_local *l = local_of(d);
	int r;

	if (!copy_name_valid(a, name))
		return err_set(err, EINVAL, "bad file name to copy");
	r = mkdir_p(area_dir(l, a), 0755);
	if (r)
		return err_set(err, -r, "%s: %s", area_dir(l, a),
			       strerror(-r));
	return copy_dst_local(area_dir(l, a), name, size,
			      a == COPY_IMAGES ? 0644 : 0600, out, err);
}

static int local_repl_dir(struct hostdrv *d, const char *uuid, bool make,
			  char *err)
{
	return copy_repl_dir(local_of(d)->disks, uuid, make, err);
}

static int local_repl_source(struct hostdrv *d, const char *uuid,
			     bool changed, struct copy_src **out, char *err)
{
	return copy_repl_source(local_of(d)->disks, uuid, changed, out, err);
}

static int local_repl_sink(struct hostdrv *d, const char *uuid,
			   uint64_t size, struct copy_dst **out, char *err)
{
	return copy_repl_sink(local_of(d)->disks, uuid, size, out, err);
}

static int local_file_remove(struct hostdrv *d, enum copy_area a,
			     const char *name, char *err)
{
	if (!copy_name_valid(a, name))
		return err_set(err, EINVAL, "bad file name to remove");
	return copy_remove_local(area_dir(local_of(d), a), name, err);
}

static int local_file_list(struct hostdrv *d, enum copy_area a,
			   struct strbuf *out, char *err)
{
	return copy_list_local(area_dir(local_of(d), a), a, out, err);
}

/* Sweep: what we made and the state no longer lists goes. */
/* ---- a tenant's uplink (host.h: net_uplink) ---- */

static bool addr_in(const uint32_t *a, const unsigned *pfx, size_t n,
		    uint32_t addr, unsigned prefix)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] == addr && pfx[i] == prefix)
			return true;
	return false;
}

/* The uplink's addresses: its own, and each floating one (/32); any other
 * goes (a floating address released or moved away). Read once, then only
 * what differs is asked of the kernel; the floating addresses added are
 * put in added[*nadded]. */
static int uplink_addrs(struct linksock *ls, int ifindex,
			const struct net_uplink *u, uint32_t *added,
			size_t *nadded, char *err)
{
	uint32_t have[NET_FLOATS_MAX + 8];
	unsigned pfx[NET_FLOATS_MAX + 8];
	size_t n, i, k;
	int r = link_addr_list(ls, ifindex, have, pfx,
			       sizeof have / sizeof *have, &n, err);

	for (i = 0; r == 0 && i < n; i++) {
		bool keep = have[i] == u->addr && pfx[i] == u->prefix;

		for (k = 0; !keep && k < u->nfloats; k++)
			keep = have[i] == u->floats[k].addr && pfx[i] == 32;
		if (!keep)
			r = link_addr_del(ls, ifindex, have[i], pfx[i], err);
	}
	if (r == 0 && !addr_in(have, pfx, n, u->addr, u->prefix))
		r = link_addr_add(ls, ifindex, u->addr, u->prefix, err);
	*nadded = 0;
	for (i = 0; r == 0 && i < u->nfloats; i++)
		if (!addr_in(have, pfx, n, u->floats[i].addr, 32)) {
			r = link_addr_add(ls, ifindex, u->floats[i].addr, 32,
					  err);
			added[(*nadded)++] = u->floats[i].addr;
		}
	return r;
}

/* The table ip maasfs of the tenant's namespace, written whole: each
 * floating address DNATed to its VM and its VM SNATed to it; the rest
 * leaving by the uplink SNATed to the uplink's address. */
static int uplink_table(int nsfd, const struct net_uplink *u, char *err)
{
	struct strbuf dnat = STRBUF_INIT, snat = STRBUF_INIT, t = STRBUF_INIT;
	char a[IP_STRLEN], f[IP_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < u->nfloats; i++) {
		ip_format(u->floats[i].addr, a);
		ip_format(u->floats[i].fixed, f);
		sb_printf(&dnat, "    iifname \"%s\" ip daddr %s dnat to %s\n",
			  NET_UPLINK_NAME, a, f);
		sb_printf(&snat, "    oifname \"%s\" ip saddr %s snat to %s\n",
			  NET_UPLINK_NAME, f, a);
	}
	ip_format(u->addr, a);
	sb_printf(&t, "add table ip maasfs\ndelete table ip maasfs\n"
		      "table ip maasfs {\n"
		      "  chain prerouting {\n    type nat hook prerouting "
		      "priority dstnat; policy accept;\n%s  }\n"
		      "  chain postrouting {\n    type nat hook postrouting "
		      "priority srcnat; policy accept;\n%s"
		      "    oifname \"%s\" snat to %s\n  }\n}\n",
		  sb_str(&dnat), sb_str(&snat), NET_UPLINK_NAME, a);
	r = t.s ? nft_run(nsfd, sb_str(&t), err)
		: err_set(err, ENOMEM, "out of memory");
	sb_free(&dnat);
	sb_free(&snat);
	sb_free(&t);
	return r;
}

/* The host end hname on the provider bridge (made, with its peer in the
 * tenant's namespace, if missing: *made). */
static int uplink_veth(struct host_local *l, struct linksock *host,
		       const struct tenant_ns *tn, const struct net_uplink *u,
		       const char *hname, bool *made, char *err)
{
	struct link_change ch = { .up = -1, .master = -1, .forwarding = -1 };
	struct link_info br, he;
	int r = link_get(host, u->bridge, &br, NULL);

	if (r == -ENOENT || (r == 0 && strcmp(br.kind, "bridge")))
		return err_set(err, ENOENT, "no bridge %s on this cloud (its "
			       "external: bridge)", u->bridge);
	if (r)
		return link_get(host, u->bridge, &br, err);
	/* made at once if missing (the common case: no look-up first) */
	r = link_add_veth(host, hname, br.ifindex, 1500, l->marker,
			  NET_UPLINK_NAME, tn->fd, NULL, err);
	*made = r == 0;
	if (r == -EXFULL)   /* the kernel's BR_MAX_PORTS */
		return err_set(err, ENOSPC, "bridge %s is full (a Linux bridge "
			       "holds at most 1023 ports: one per tenant with "
			       "external on)", u->bridge);
	if (r != -EEXIST)
		return r;
	r = link_get(host, hname, &he, NULL);
	if (r == -ENOENT) {   /* the peer's name is taken in the namespace */
		r = err_set(err, EEXIST, "creating veth %s/%s: a %s is in the "
			    "tenant's namespace already", hname,
			    NET_UPLINK_NAME, NET_UPLINK_NAME);
	} else if (r == 0 && he.master != br.ifindex) {
		ch.master = br.ifindex;
		r = link_change(host, &he, &ch, err);
	} else if (r) {
		r = link_get(host, hname, &he, err);
	}
	return r;
}

/* The tenant's end up, forwarding, and without IPv6 addresses: else its
 * link-local address's DAD, MLD reports and router solicitations are
 * flooded to every port of the provider bridge, one per tenant, and
 * every tenant's namespace answers them (the cost of an uplink grew
 * with the number of tenants: measured at 1,000). */
static int uplink_up(struct linksock *ls, struct link_info *te, char *err)
{
	struct link_change ch = { .up = -1, .master = -1, .forwarding = -1 };
	int r = 0;

	if (!(te->flags & IFF_UP)) {
		ch.ip6_none = true;
		r = link_change(ls, te, &ch, err);
		ch.ip6_none = false;
		ch.up = 1;
	}
	ch.forwarding = te->forwarding == 1 ? -1 : 1;
	if (r == 0 && (ch.up == 1 || ch.forwarding == 1))
		r = link_change(ls, te, &ch, err);
	return r;
}

static int local_uplink_ensure(struct hostdrv *d, const struct net_uplink *u,
			       char *err)
{
	struct host_local *l = local_of(d);
	struct linksock *host = NULL;
	struct tenant_ns tn;
	struct link_info te;
	char hname[NET_IFNAMSIZ];
	uint32_t added[NET_FLOATS_MAX];
	size_t nadded = 0;
	bool made = false;
	int r;

	if (u->nfloats > NET_FLOATS_MAX)
		return err_set(err, E2BIG, "more than %d floating addresses on "
			       "one uplink", NET_FLOATS_MAX);
	snprintf(hname, sizeof hname, NET_UPLINK_NAME "%u", u->id);
	r = tenant_take(l, u->tenant, &tn, err);
	if (r)
		return r;
	r = host_take(l, &host, err);
	if (r == 0)
		r = uplink_veth(l, host, &tn, u, hname, &made, err);
	if (r == 0)
		r = link_get(tn.ls, NET_UPLINK_NAME, &te, err);
	if (r == 0)
		r = uplink_up(tn.ls, &te, err);
	if (r == 0)
		r = uplink_addrs(tn.ls, te.ifindex, u, added, &nadded, err);
	if (r == 0)
		r = link_route_default(tn.ls, te.ifindex, u->gateway, err);
	if (r == 0)
		r = uplink_table(tn.fd, u, err);
	/* The segment learns where each new floating address lives (one
	 * given, or moved here from another uplink); the others have not
	 * moved. Each announcement is flooded to every port of the provider
	 * bridge: announcing them all each time cost 40 ms with 20 addresses
	 * and 1,000 tenants. A lost one is not an error: the next ARP
	 * request finds the address. */
	if (r == 0)
		arp_announce(tn.fd, NET_UPLINK_NAME, added, nadded, NULL);
	if (r && made)
		link_del(host, hname, NULL);
	if (host)
		host_give(l, host);
	tenant_give(l, u->tenant, &tn);
	return r;
}

static int local_uplink_remove(struct hostdrv *d, const char *tenant,
			       unsigned id, char *err)
{
	struct host_local *l = local_of(d);
	struct linksock *host = NULL;
	struct tenant_ns tn;
	char hname[NET_IFNAMSIZ];
	int r;

	snprintf(hname, sizeof hname, NET_UPLINK_NAME "%u", id);
	r = host_take(l, &host, err);
	if (r)
		return r;
	r = del_ours(l, host, hname, err);   /* its peer goes with it */
	host_give(l, host);
	if (r)
		return r;
	r = tenant_take(l, tenant, &tn, err);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = nft_run(tn.fd, "add table ip maasfs\n"
				   "delete table ip maasfs\n", err);
	tenant_give(l, tenant, &tn);
	return r;
}

/* ---- the ports of a tenant's VMs (host.h: net_port) ---- */

static bool rule_valid(const struct net_rule *r, size_t nsets)
{
	return (r->proto == 0 || r->proto == 1 || r->proto == 6 ||
		r->proto == 17) && r->lo <= r->hi &&
	       (r->lo == 0 || r->proto == 6 || r->proto == 17) &&
	       r->set >= -1 && r->set < (int)nsets && r->prefix <= 32;
}

static bool port_valid(const struct net_port *p, size_t nsets)
{
	size_t i;

	if (strncmp(p->tap, NET_LINK_PREFIX "p", 5) || strlen(p->tap) != 11 ||
	    strspn(p->tap + 5, "0123456789abcdef") != 6 || !mac_valid(p->mac) ||
	    !p->ip || !p->gateway || strncmp(p->bridge, NET_LINK_PREFIX "b", 5) ||
	    strspn(p->bridge + 5, "0123456789") != strlen(p->bridge + 5) ||
	    p->nrules > NET_RULES_MAX)
		return false;
	for (i = 0; i < p->nrules; i++)
		if (!rule_valid(&p->rules[i], nsets))
			return false;
	return true;
}

/* Anti-spoofing: what leaves the port (bridge table). */
static void port_guard(struct strbuf *t, const struct net_port *p)
{
	char ip[IP_STRLEN];

	ip_format(p->ip, ip);
	sb_printf(t, "  chain from_%s {\n"
		  "    ether saddr != %s drop\n"
		  "    ether type arp arp saddr ether != %s drop\n"
		  "    ether type arp arp saddr ip != { %s, 0.0.0.0 } drop\n"
		  "    ether type arp accept\n"
		  "    ether type ip ip saddr 0.0.0.0 udp sport 68 "
		  "udp dport 67 accept\n"
		  "    ether type ip ip saddr != %s drop\n"
		  "    ether type ip accept\n"
		  "    drop\n  }\n", p->tap, p->mac, p->mac, ip, ip);
}

static void rule_render(struct strbuf *t, const struct net_rule *r)
{
	const char *pn = r->proto == 6 ? "tcp" : r->proto == 17 ? "udp"
						  : "icmp";
	const char *dir = r->in ? "saddr" : "daddr";
	char a[IP_STRLEN];

	sb_puts(t, "   ");
	if (r->proto)
		sb_printf(t, " ip protocol %s", pn);
	if (r->lo == r->hi && r->lo)
		sb_printf(t, " %s dport %u", pn, r->lo);
	else if (r->lo)
		sb_printf(t, " %s dport %u-%u", pn, r->lo, r->hi);
	ip_format(r->net, a);
	if (r->set >= 0)
		sb_printf(t, " ip %s @g%d", dir, r->set);
	else if (r->prefix)
		sb_printf(t, " ip %s %s/%u", dir, a, r->prefix);
	sb_puts(t, r->in ? " accept\n" : " return\n");
}

/* Security groups: what may reach the port and leave it (ip table). */
static void port_groups(struct strbuf *t, const struct net_port *p)
{
	char gw[IP_STRLEN];
	size_t i;

	ip_format(p->gateway, gw);
	sb_printf(t, "  chain in_%s {\n    ip saddr %s accept\n"
		     "    udp sport 67 udp dport 68 accept\n", p->tap, gw);
	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].in)
			rule_render(t, &p->rules[i]);
	sb_printf(t, "    drop\n  }\n  chain out_%s {\n    ip daddr %s "
		     "return\n", p->tap, gw);
	for (i = 0; i < p->nrules; i++)
		if (!p->rules[i].in)
			rule_render(t, &p->rules[i]);
	sb_puts(t, "    drop\n  }\n");
}

static void ports_tables(struct strbuf *t, const struct net_ports *ps)
{
	char ip[IP_STRLEN];
	size_t i, k;

	sb_printf(t, "table bridge maasfs_t%u {\n", ps->id);
	for (i = 0; i < ps->n; i++)
		port_guard(t, &ps->p[i]);
	sb_puts(t, "  chain ports {\n    type filter hook forward priority "
		   "-10; policy accept;\n");
	for (i = 0; i < ps->n; i++)
		sb_printf(t, "    iifname \"%s\" jump from_%s\n", ps->p[i].tap,
			  ps->p[i].tap);
	sb_printf(t, "  }\n}\ntable ip maasfs_t%u {\n", ps->id);
	for (k = 0; k < ps->nsets; k++) {
		sb_printf(t, "  set g%zu {\n    type ipv4_addr;\n", k);
		for (i = 0; i < ps->sets[k].n; i++) {
			ip_format(ps->sets[k].ips[i], ip);
			sb_printf(t, "%s%s", i ? ", " : "    elements = { ", ip);
		}
		sb_puts(t, ps->sets[k].n ? " }\n  }\n" : "  }\n");
	}
	for (i = 0; i < ps->n; i++)
		port_groups(t, &ps->p[i]);
	sb_puts(t, "  chain forward {\n    type filter hook forward priority "
		   "0; policy accept;\n    ct state established,related "
		   "accept\n");
	for (i = 0; i < ps->n; i++) {
		ip_format(ps->p[i].ip, ip);
		sb_printf(t, "    iifname \"%s\" ip saddr %s jump out_%s\n"
			     "    oifname \"%s\" ip daddr %s jump in_%s\n",
			  ps->p[i].bridge, ip, ps->p[i].tap, ps->p[i].bridge,
			  ip, ps->p[i].tap);
	}
	sb_puts(t, "  }\n}\n");
}

/* The ports' bridges pass IPv4 through the ip hooks (br_netfilter). */
static int ports_bridges(struct host_local *l, const struct net_ports *ps,
			 char *err)
{
	struct linksock *host = NULL;
	size_t i, k;
	int r;

	if (ps->n && access("/proc/sys/net/bridge", F_OK))
		return err_set(err, EOPNOTSUPP, "br_netfilter is not loaded on "
			       "this cloud (modprobe br_netfilter): security "
			       "groups need it");
	r = ps->n ? host_take(l, &host, err) : 0;
	for (i = 0; r == 0 && i < ps->n; i++) {
		for (k = 0; k < i && strcmp(ps->p[k].bridge, ps->p[i].bridge);
		     k++)
			;
		if (k == i)
			r = link_bridge_nf_call(host, ps->p[i].bridge, err);
	}
	if (host)
		host_give(l, host);
	return r;
}

static int local_ports_apply(struct hostdrv *d, const struct net_ports *ps,
			     char *err)
{
	struct strbuf t = STRBUF_INIT;
	size_t i;
	int r;

	if (ps->n > NET_PORTS_MAX || ps->nsets > NET_SETS_MAX)
		return err_set(err, E2BIG, "too many ports or groups");
	for (i = 0; i < ps->n; i++)
		if (!port_valid(&ps->p[i], ps->nsets))
			return err_set(err, EINVAL, "bad port");
	r = ports_bridges(local_of(d), ps, err);
	if (r)
		return r;
	sb_printf(&t, "add table bridge maasfs_t%u\n"
		      "delete table bridge maasfs_t%u\n"
		      "add table ip maasfs_t%u\ndelete table ip maasfs_t%u\n",
		  ps->id, ps->id, ps->id, ps->id);
	if (ps->n)
		ports_tables(&t, ps);
	r = t.s ? nft_run(-1, sb_str(&t), err)
		: err_set(err, ENOMEM, "out of memory");
	sb_free(&t);
	return r;
}

struct sweep {
	struct host_local *l;
	const struct net_keep *keep;
	struct linksock *ls;
	const char *tenant;      /* the namespace being swept, if any */
	int removed;
	int error;
	char *err;
};

static int cmp_vni(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = ((const struct net_keep_subnet *)b)->vni;

	return x < y ? -1 : x > y;
}

static bool keep_tenant(const struct net_keep *k, const char *tenant)
{
	return bsearch(&tenant, k->tenants, k->ntenants, sizeof *k->tenants,
		       cmp_strp) != NULL;
}

static const struct net_keep_subnet *keep_subnet(const struct net_keep *k,
						 uint32_t vni)
{
	return bsearch(&vni, k->subnets, k->nsubnets, sizeof *k->subnets,
		       cmp_vni);
}

/* The VNI in a link name of ours with this kind letter, or 0. */
static uint32_t link_vni(const char *name, char kind)
{
	size_t plen = strlen(NET_LINK_PREFIX);
	char *end;
	unsigned long v;

	if (strncmp(name, NET_LINK_PREFIX, plen) || name[plen] != kind ||
	    name[plen + 1] < '1' || name[plen + 1] > '9')
		return 0;
	v = strtoul(name + plen + 1, &end, 10);
	return *end || v >= (1ul << 24) ? 0 : (uint32_t)v;
}

static void sweep_host_link(const struct link_info *i, void *ctx)
{
	struct sweep *s = ctx;
	const struct net_keep_subnet *k;
	uint32_t vni = link_vni(i->name, 'b');
	bool gw = false;

	if (!vni)
		vni = link_vni(i->name, 'x');
	if (!vni && (vni = link_vni(i->name, 'h')))
		gw = true;
	if (!vni || !link_ours(s->l, i))
		return;
	k = keep_subnet(s->keep, vni);
	if (k && (!gw || k->home))
		return;
	log_info("removing %s: VNI %u is not in the state", i->name, vni);
	if (link_del(s->ls, i->name, s->err) == 0)
		s->removed++;
	else
		s->error = EIO;
}

/* A host end of an uplink (maasu<ID>): kept if the tenant of that id
 * has its uplink here. */
static void sweep_uplink(const struct link_info *i, void *ctx)
{
	struct sweep *s = ctx;
	const char *p = i->name + strlen(NET_UPLINK_NAME);
	char *end;
	unsigned long id;
	size_t k;

	if (*p < '1' || *p > '9' || !link_ours(s->l, i))
		return;
	id = strtoul(p, &end, 10);
	if (*end)
		return;
	for (k = 0; k < s->keep->ntenants; k++)
		if (s->keep->uplinks[k] == id)
			return;
	log_info("removing %s: no uplink of tenant id %lu in the state",
		 i->name, id);
	if (link_del(s->ls, i->name, s->err) == 0)
		s->removed++;
	else
		s->error = EIO;
}

/* A kept tenant without an uplink here keeps no uplink end nor SNAT
 * table (a crash cut its making or removal short). */
static void sweep_tenant_uplink(struct sweep *s, const struct tenant_ns *tn)
{
	size_t k = (const char *const *)bsearch(&s->tenant, s->keep->tenants,
						s->keep->ntenants,
						sizeof *s->keep->tenants,
						cmp_strp) - s->keep->tenants;
	struct link_info i;

	if (s->keep->uplinks[k])
		return;
	if (link_get(tn->ls, NET_UPLINK_NAME, &i, NULL) == 0) {
		log_info("removing the uplink of tenant %s: not in the state",
			 s->tenant);
		if (link_del(tn->ls, NET_UPLINK_NAME, s->err) == 0)
			s->removed++;
		else
			s->error = EIO;
	}
	if (nft_run(tn->fd, "add table ip maasfs\ndelete table ip maasfs\n",
		    s->err))
		s->error = EIO;
}

static void sweep_tenant_link(const struct link_info *i, void *ctx)
{
	struct sweep *s = ctx;
	uint32_t vni = link_vni(i->name, 'g');
	const struct net_keep_subnet *k;

	if (!vni)
		return;
	k = keep_subnet(s->keep, vni);
	if (k && k->home && !strcmp(k->tenant, s->tenant))
		return;
	log_info("removing %s from tenant %s: not in the state", i->name,
		 s->tenant);
	if (link_del(s->ls, i->name, s->err) == 0)
		s->removed++;
	else
		s->error = EIO;
}

static void sweep_ns(const char *ns, void *ctx)
{
	struct sweep *s = ctx;
	const char *tenant = ns + strlen(NET_NS_PREFIX);
	struct tenant_ns tn;

	if (tenant_take(s->l, tenant, &tn, NULL))
		return;   /* not ours */
	if (!keep_tenant(s->keep, tenant)) {
		tenant_ns_close(&tn);   /* not kept */
		log_info("removing namespace %s: tenant not in the state", ns);
		if (netns_del(ns, s->err) == 0)
			s->removed++;
		else
			s->error = EIO;
		return;
	}
	s->tenant = tenant;
	s->ls = tn.ls;
	link_list(s->ls, NET_LINK_PREFIX "g", sweep_tenant_link, s, s->err);
	sweep_tenant_uplink(s, &tn);
	s->ls = NULL;
	tenant_give(s->l, tenant, &tn);
}

static void sweep_dnsmasq(uint32_t vni, void *ctx)
{
	struct sweep *s = ctx;
	const struct net_keep_subnet *k = keep_subnet(s->keep, vni);

	if (k && k->dhcp)
		return;
	if (!k || dnsmasq_pid(&s->l->site, vni) > 0) {
		log_info("stopping dnsmasq of VNI %u: not in the state", vni);
		s->removed++;
	}
	if (dnsmasq_stop(&s->l->site, vni, !k, s->err))
		s->error = EIO;
}

/* The tables of VM ports (maasfs_t<ID>) of tenants with none here. */
static void sweep_port_tables(struct sweep *s)
{
	struct strbuf out = STRBUF_INIT;
	char *line, *save = NULL, cmd[80], fam[8], extra;
	unsigned id;
	size_t k;

	if (nft_list(-1, "list tables", &out, s->err)) {
		s->error = EIO;
		return;
	}
	for (line = out.s ? strtok_r(out.s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "table %7s maasfs_t%u%c", fam, &id, &extra) != 2
		    || (strcmp(fam, "bridge") && strcmp(fam, "ip")))
			continue;
		for (k = 0; k < s->keep->ntenants; k++)
			if (s->keep->ports[k] == id)
				break;
		if (k < s->keep->ntenants)
			continue;
		log_info("removing table %s maasfs_t%u: no VM of that "
			 "tenant here in the state", fam, id);
		snprintf(cmd, sizeof cmd, "delete table %s maasfs_t%u\n", fam,
			 id);
		if (nft_run(-1, cmd, s->err) == 0)
			s->removed++;
		else
			s->error = EIO;
	}
	sb_free(&out);
}

static int local_sweep(struct hostdrv *d, const struct net_keep *keep,
		       char *err)
{
	struct sweep s = { .l = local_of(d), .keep = keep, .err = err };
	int r;

	dnsmasq_list(&s.l->site, sweep_dnsmasq, &s);
	r = host_take(s.l, &s.ls, err);
	if (r)
		return r;
	link_list(s.ls, NET_LINK_PREFIX, sweep_host_link, &s, err);
	link_list(s.ls, NET_UPLINK_NAME, sweep_uplink, &s, err);
	host_give(s.l, s.ls);
	s.ls = NULL;
	netns_list(NET_NS_PREFIX, sweep_ns, &s);
	sweep_port_tables(&s);
	return s.error ? -s.error : s.removed;
}

static int local_status(struct hostdrv *d, struct strbuf *out)
{
	(void)d;
	return sb_puts(out, "up");
}

/* The last lines of a console log, printable text only, from a whole line
 * on. */
static int local_console(struct hostdrv *d, const char *uuid,
			 struct strbuf *out)
{
	struct host_local *l = local_of(d);
	char path[PATH_MAX + 64], buf[CONSOLE_TAIL];
	const char *start;
	struct stat st;
	ssize_t n;
	int fd;

	if (!uuid_valid(uuid))
		return 0;
	snprintf(path, sizeof path, "%s/%s.console", l->disks, uuid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof buf)
		lseek(fd, st.st_size - (off_t)sizeof buf, SEEK_SET);
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n <= 0)
		return 0;
	start = buf;
	if (st.st_size > (off_t)sizeof buf) {
		const char *nl = memchr(buf, '\n', (size_t)n);
		if (nl)
			start = nl + 1;
	}
	for (; start < buf + n; start++)
		if ((*start >= ' ' && *start < 0x7f) || *start == '\n' ||
		    *start == '\t')
			sb_append(out, start, 1);
	if (out->len && out->s[out->len - 1] != '\n')
		sb_puts(out, "\n");
	return 0;
}

/* Cuts the head of every file of dir whose name ends in ext. */
static int trim_dir(const char *dir, const char *ext, char *err)
{
	char path[PATH_MAX + NAME_MAX + 2];
	size_t elen = strlen(ext);
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : err_set(err, errno, "%s: %s", dir,
						     strerror(errno));
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int k;

		if (n <= elen || strcmp(e->d_name + n - elen, ext))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		k = file_cut_head(path, HOST_LOG_MAX, HOST_LOG_KEEP);
		if (k == 1)
			log_info("%s passed %d bytes: its head was cut", path,
				 HOST_LOG_MAX);
		else if (k < 0 && r == 0)
			r = err_set(err, -k, "%s: %s", path, strerror(-k));
	}
	closedir(d);
	return r;
}

static int local_trim(struct hostdrv *d, char *err)
{
	struct host_local *l = local_of(d);
	int r = trim_dir(l->site.rundir, ".log", err);

	return trim_dir(l->disks, ".console", r ? NULL : err) ?: r;
}

static void local_free(struct hostdrv *d)
{
	struct host_local *l = local_of(d);

	dnsmasq_site_tidy(&l->site);
	tenant_ns_close(&l->cache.tenant);
	link_sock_close(l->cache.host);
	pthread_mutex_destroy(&l->cache.lock);
	free(l);
}

static const struct hostdrv_ops local_ops = {
	.tenant_ensure = local_tenant_ensure,
	.tenant_remove = local_tenant_remove,
	.uplink_ensure = local_uplink_ensure,
	.uplink_remove = local_uplink_remove,
	.ports_apply = local_ports_apply,
	.subnet_ensure = local_subnet_ensure,
	.subnet_remove = local_subnet_remove,
	.dhcp_ensure = local_dhcp_ensure,
	.dhcp_remove = local_dhcp_remove,
	.dhcp_pid = local_dhcp_pid,
	.dhcp_leases = local_dhcp_leases,
	.dhcp_fetch = local_dhcp_fetch,
	.file_source = local_file_source,
	.file_sink = local_file_sink,
	.file_remove = local_file_remove,
	.repl_dir = local_repl_dir,
	.repl_source = local_repl_source,
	.repl_sink = local_repl_sink,
	.file_list = local_file_list,
	.sweep = local_sweep,
	.status = local_status,
	.trim = local_trim,
	.console = local_console,
	.free = local_free,
};

struct hostdrv *host_local_new(const struct host_local_conf *c,
				char *err)
{
	struct host_local *l = calloc(1, sizeof *l);

	if (!l) {
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	l->base.ops = &local_ops;
	pthread_mutex_init(&l->cache.lock, NULL);
	l->cache.tenant.fd = -1;
	snprintf(l->marker, sizeof l->marker, "%s", c->marker);
	if (strncmp(c->marker, "maasfs:", 7) ||
	    dnsmasq_site_init(&l->site, c->rundir, c->marker + 7, err)) {
		if (strncmp(c->marker, "maasfs:", 7))
			err_set(err, EINVAL, "bad marker %s", c->marker);
		pthread_mutex_destroy(&l->cache.lock);
		free(l);
		return NULL;
	}
	snprintf(l->dnsmasq, sizeof l->dnsmasq, "%s", c->dnsmasq);
	snprintf(l->disks, sizeof l->disks, "%s", c->disks ? c->disks : "/");
	snprintf(l->images, sizeof l->images, "%s",
		 c->images ? c->images : "/");
	return &l->base;
}

void hostdrv_free(struct hostdrv *d)
{
	if (d)
		d->ops->free(d);
}
