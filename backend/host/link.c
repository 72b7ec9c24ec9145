#include "link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/version.h>

#include "../../lib/log.h"
#include "../../lib/util.h"
#include "netns.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

void link_version(char *buf, size_t len)
{
	snprintf(buf, len, "%s", LIBNL_STRING);
}

struct linksock {
	struct nl_sock *sk;
	int kerr;          /* errno the kernel answered the last request with */
	char kmsg[160];    /* and its extended-ack text, if any */
};

/* The one place libnl's error space becomes errno. The kernel's own errno,
 * caught by link_ack_error, wins over libnl's coarser -NLE_* code. */
static int link_errno(const struct linksock *ls, int nlerr)
{
	static const struct {
		int nle;
		int code;
	} map[] = {
		{ NLE_NOMEM, ENOMEM },	     { NLE_EXIST, EEXIST },
		{ NLE_INVAL, EINVAL },	     { NLE_RANGE, ERANGE },
		{ NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_AGAIN, EAGAIN },
		{ NLE_BUSY, EBUSY },	     { NLE_NOACCESS, EACCES },
		{ NLE_PERM, EPERM },	     { NLE_OBJ_NOTFOUND, ENOENT },
		{ NLE_NODEV, ENODEV },	     { NLE_NOADDR, EADDRNOTAVAIL },
		{ NLE_MSGSIZE, EMSGSIZE },   { NLE_INTR, EINTR },
	};
	size_t i;

	if (ls->kerr > 0)
		return ls->kerr;
	if (nlerr < 0)
		nlerr = -nlerr;
	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].nle == nlerr)
			return map[i].code;
	return EIO;
}

static int link_fail(const struct linksock *ls, int nlerr, char *err,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int link_fail(const struct linksock *ls, int nlerr, char *err,
		     const char *fmt, ...)
{
	int code = link_errno(ls, nlerr);
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (ls->kmsg[0])
		return err_set(err, code, "%s: %s (%s)", what, strerror(code),
			       ls->kmsg);
	return err_set(err, code, "%s: %s", what, strerror(code));
}

static void link_begin(struct linksock *ls)
{
	ls->kerr = 0;
	ls->kmsg[0] = '\0';
}

/* libnl hands us the nlmsgerr; the extended-ack attributes follow it (and
 * the echoed request, unless the kernel capped it). */
static int link_ack_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
			  void *arg)
{
	struct linksock *ls = arg;
	const struct nlmsghdr *h =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	size_t off, end;

	(void)nla;
	ls->kerr = -e->error;
	ls->kmsg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	off = sizeof *e;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(off);
	end = h->nlmsg_len - NLMSG_HDRLEN;
	while (off + sizeof(struct nlattr) <= end) {
		const struct nlattr *a =
			(const struct nlattr *)((const char *)e + off);
		if (a->nla_len < sizeof *a || off + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			size_t n = a->nla_len - sizeof *a;
			if (n >= sizeof ls->kmsg)
				n = sizeof ls->kmsg - 1;
			memcpy(ls->kmsg, (const char *)a + sizeof *a, n);
			ls->kmsg[n] = '\0';
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return NL_STOP;
}

struct connect_arg {
	struct nl_sock *sk;
	int r;   /* nl_connect's */
};

static int connect_route(void *arg)
{
	struct connect_arg *c = arg;

	c->r = nl_connect(c->sk, NETLINK_ROUTE);
	return 0;
}

int link_sock_open(int nsfd, struct linksock **out, char *err)
{
	struct linksock *ls = calloc(1, sizeof *ls);
	struct connect_arg c;
	int r, one = 1;

	if (!ls)
		return err_set(err, ENOMEM, "out of memory");
	ls->sk = nl_socket_alloc();
	if (!ls->sk) {
		free(ls);
		return err_set(err, ENOMEM, "out of memory");
	}
	c.sk = ls->sk;
	r = netns_call(nsfd, connect_route, &c, err);
	if (r)
		goto fail;   /* err set: the namespace could not be entered */
	if (c.r < 0) {
		r = link_fail(ls, c.r, err, "netlink socket");
		goto fail;
	}
	setsockopt(nl_socket_get_fd(ls->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof one);
	setsockopt(nl_socket_get_fd(ls->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof one);
	nl_socket_modify_err_cb(ls->sk, NL_CB_CUSTOM, link_ack_error, ls);
	*out = ls;
	return 0;
fail:
	nl_socket_free(ls->sk);
	free(ls);
	return r;
}

void link_sock_close(struct linksock *ls)
{
	if (!ls)
		return;
	nl_socket_free(ls->sk);
	free(ls);
}

static void link_fill(struct rtnl_link *l, struct link_info *out)
{
	const char *s;
	uint32_t fwd;

	memset(out, 0, sizeof *out);
	out->forwarding = rtnl_link_inet_get_conf(l, IPV4_DEVCONF_FORWARDING,
						  &fwd) == 0 ? (fwd != 0) : -1;
	out->ifindex = rtnl_link_get_ifindex(l);
	out->flags = rtnl_link_get_flags(l);
	out->mtu = rtnl_link_get_mtu(l);
	out->master = rtnl_link_get_master(l);
	if ((s = rtnl_link_get_name(l)))
		snprintf(out->name, sizeof out->name, "%s", s);
	if ((s = rtnl_link_get_type(l)))
		snprintf(out->kind, sizeof out->kind, "%s", s);
	if ((s = rtnl_link_get_ifalias(l)))
		snprintf(out->alias, sizeof out->alias, "%s", s);
	out->group = rtnl_link_get_group(l);
}

uint32_t link_alias_group(const char *alias)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *alias; alias++)
		h = (h ^ (unsigned char)*alias) * 16777619u;
	return h | 0x40000000u;     /* never 0, the default group */
}

int link_get(struct linksock *ls, const char *name, struct link_info *out,
	     char *err)
{
	struct rtnl_link *l = NULL;
	int r;

	link_begin(ls);
	r = rtnl_link_get_kernel(ls->sk, 0, name, &l);
	if (r < 0) {
		if (ls->kerr == ENODEV || r == -NLE_NODEV ||
		    r == -NLE_OBJ_NOTFOUND)
			return err_set(err, ENOENT, "no link %s", name);
		return link_fail(ls, r, err, "looking up link %s", name);
	}
	link_fill(l, out);
	rtnl_link_put(l);
	return 0;
}

/* No IPv6 at all on a link of the host namespace, before it is up: else
 * bringing it up adds its multicast route, and the kernel walks every
 * IPv6 route of the namespace at each link up (rt6_sync_up): with
 * thousands of subnets, each new link cost more than the one before.
 * Netlink cannot set it (IFLA_INET6_CONF is read-only): the sysctl file
 * it is. Without IPv6 in the kernel there is nothing to turn off. */
static void ipv6_off(const char *name)
{
	char path[96];
	int fd;

	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		log_warn("turning IPv6 off on %s", name);
	close(fd);
}

/* Finishes a link made in the host namespace: sets its alias (the kernel
 * ignores IFLA_IFALIAS in a create request) and turns off IPv6 address
 * generation, so that the host gets no link-local address on a tenant's
 * segment (the kernel refuses IFLA_AF_SPEC at creation too), and IPv6
 * itself (ipv6_off). */
static int link_finish(struct linksock *ls, const char *name,
		       const char *alias, char *err)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *ch = rtnl_link_alloc();
	int r = -ENOMEM;

	if (!orig || !ch) {
		err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	rtnl_link_set_name(orig, name);
	rtnl_link_set_name(ch, name);
	rtnl_link_set_ifalias(ch, alias);
	rtnl_link_inet6_set_addr_gen_mode(ch, IN6_ADDR_GEN_MODE_NONE);
	link_begin(ls);
	r = rtnl_link_change(ls->sk, orig, ch, 0);
	if (r < 0) {
		r = link_fail(ls, r, err, "setting up %s", name);
		goto out;
	}
	/* Up only now that no address can be generated. */
	ipv6_off(name);
	rtnl_link_put(ch);
	ch = rtnl_link_alloc();
	if (!ch) {
		r = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	rtnl_link_set_name(ch, name);
	rtnl_link_set_flags(ch, IFF_UP);
	link_begin(ls);
	r = rtnl_link_change(ls->sk, orig, ch, 0);
	if (r < 0)
		r = link_fail(ls, r, err, "bringing %s up", name);
out:
	rtnl_link_put(orig);
	rtnl_link_put(ch);
	return r;
}

int link_add_bridge(struct linksock *ls, const char *name, unsigned mtu,
		    const char *alias, char *err)
{
	struct rtnl_link *l = rtnl_link_bridge_alloc();
	int r;

	if (!l)
		return err_set(err, ENOMEM, "out of memory");
	rtnl_link_set_name(l, name);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_group(l, link_alias_group(alias));
	link_begin(ls);
	r = rtnl_link_add(ls->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return link_fail(ls, r, err, "creating bridge %s", name);
	r = link_finish(ls, name, alias, err);
	if (r)
		link_del(ls, name, NULL);
	return r;
}

int link_add_veth(struct linksock *ls, const char *name, int master,
		  unsigned mtu, const char *alias, const char *peer,
		  int peer_nsfd, const unsigned char *peer_mac, char *err)
{
	struct rtnl_link *l = rtnl_link_veth_alloc(), *p;
	struct nl_addr *mac = NULL;
	int r;

	if (!l)
		return err_set(err, ENOMEM, "out of memory");
	if (peer_mac && !(mac = nl_addr_build(AF_LLC, peer_mac, 6))) {
		rtnl_link_put(l);
		return err_set(err, ENOMEM, "out of memory");
	}
	rtnl_link_set_name(l, name);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_group(l, link_alias_group(alias));
	if (master > 0)
		rtnl_link_set_master(l, master);
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(p, peer);
	rtnl_link_set_mtu(p, mtu);
	if (peer_nsfd >= 0)
		rtnl_link_set_ns_fd(p, peer_nsfd);
	if (mac)
		rtnl_link_set_addr(p, mac);
	rtnl_link_put(p);
	nl_addr_put(mac);
	link_begin(ls);
	r = rtnl_link_add(ls->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return link_fail(ls, r, err, "creating veth %s/%s", name, peer);
	r = link_finish(ls, name, alias, err);
	if (r)
		link_del(ls, name, NULL);
	return r;
}

int link_add_vxlan(struct linksock *ls, const char *name, uint32_t vni,
		   uint32_t local, int master, unsigned mtu, const char *alias,
		   char *err)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	uint32_t be = htonl(local);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof be);
	int r;

	if (!l || !a) {
		rtnl_link_put(l);
		nl_addr_put(a);
		return err_set(err, ENOMEM, "out of memory");
	}
	rtnl_link_set_name(l, name);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_group(l, link_alias_group(alias));
	if (master > 0)
		rtnl_link_set_master(l, master);
	rtnl_link_vxlan_set_id(l, vni);
	rtnl_link_vxlan_set_local(l, a);
	rtnl_link_vxlan_set_port(l, 4789);
	rtnl_link_vxlan_set_learning(l, 1);
	link_begin(ls);
	r = rtnl_link_add(ls->sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	nl_addr_put(a);
	if (r < 0)
		return link_fail(ls, r, err, "creating VXLAN %s (VNI %u)", name,
				 vni);
	r = link_finish(ls, name, alias, err);
	if (r)
		link_del(ls, name, NULL);
	return r;
}

static bool lladdr_zero(struct nl_addr *a)
{
	const unsigned char *b = a ? nl_addr_get_binary_addr(a) : NULL;
	unsigned i, n = a ? nl_addr_get_len(a) : 0;

	if (n != 6)
		return false;
	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int link_fdb_list(struct linksock *ls, int ifindex, uint32_t *dsts,
		  size_t max, size_t *n, char *err)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int r;

	*n = 0;
	r = rtnl_neigh_alloc_cache_flags(NULL, &cache, 0);
	if (r < 0)
		return link_fail(ls, r, err, "FDB of link %d", ifindex);
	nl_cache_set_arg1(cache, AF_BRIDGE);
	link_begin(ls);
	r = nl_cache_refill(ls->sk, cache);
	if (r < 0) {
		nl_cache_free(cache);
		return link_fail(ls, r, err, "FDB of link %d", ifindex);
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_neigh *ne = (struct rtnl_neigh *)o;
		struct nl_addr *dst = rtnl_neigh_get_dst(ne);

		if (rtnl_neigh_get_ifindex(ne) != ifindex || !dst ||
		    nl_addr_get_family(dst) != AF_INET ||
		    !lladdr_zero(rtnl_neigh_get_lladdr(ne)) || *n >= max)
			continue;
		dsts[(*n)++] = ntohl(*(const uint32_t *)
					     nl_addr_get_binary_addr(dst));
	}
	nl_cache_free(cache);
	return 0;
}

static int fdb_op(struct linksock *ls, int ifindex, uint32_t dst, bool add,
		  char *err)
{
	static const unsigned char zero[6];
	struct rtnl_neigh *ne = rtnl_neigh_alloc();
	uint32_t be = htonl(dst);
	struct nl_addr *d = nl_addr_build(AF_INET, &be, sizeof be);
	struct nl_addr *ll = nl_addr_build(AF_LLC, zero, sizeof zero);
	char text[INET_ADDRSTRLEN];
	int r;

	if (!ne || !d || !ll) {
		r = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	inet_ntop(AF_INET, &be, text, sizeof text);
	/* The destination first: libnl refuses an IPv4 address for an
	 * object whose family is already AF_BRIDGE. */
	rtnl_neigh_set_dst(ne, d);
	rtnl_neigh_set_family(ne, AF_BRIDGE);
	rtnl_neigh_set_ifindex(ne, ifindex);
	rtnl_neigh_set_lladdr(ne, ll);
	rtnl_neigh_set_flags(ne, NTF_SELF);
	rtnl_neigh_set_state(ne, NUD_PERMANENT | NUD_NOARP);
	link_begin(ls);
	r = add ? rtnl_neigh_add(ls->sk, ne, NLM_F_CREATE | NLM_F_APPEND)
		: rtnl_neigh_delete(ls->sk, ne, 0);
	if (r < 0) {
		if ((add && (ls->kerr == EEXIST || r == -NLE_EXIST)) ||
		    (!add && (ls->kerr == ENOENT || r == -NLE_OBJ_NOTFOUND)))
			r = 0;
		else
			r = link_fail(ls, r, err, "%s flood entry to %s",
				      add ? "adding" : "deleting", text);
	}
out:
	nl_addr_put(d);
	nl_addr_put(ll);
	rtnl_neigh_put(ne);
	return r;
}

int link_fdb_add(struct linksock *ls, int ifindex, uint32_t dst, char *err)
{
	return fdb_op(ls, ifindex, dst, true, err);
}

int link_fdb_del(struct linksock *ls, int ifindex, uint32_t dst, char *err)
{
	return fdb_op(ls, ifindex, dst, false, err);
}

int link_change(struct linksock *ls, const struct link_info *link,
		const struct link_change *c, char *err)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *ch = rtnl_link_alloc();
	int r = -ENOMEM;

	if (!orig || !ch) {
		err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	rtnl_link_set_ifindex(orig, link->ifindex);
	rtnl_link_set_flags(orig, link->flags);
	if (c->up == 1)
		rtnl_link_set_flags(ch, IFF_UP);
	else if (c->up == 0)
		rtnl_link_unset_flags(ch, IFF_UP);
	if (c->mtu)
		rtnl_link_set_mtu(ch, c->mtu);
	if (c->master >= 0)
		rtnl_link_set_master(ch, c->master);
	if (c->alias)
		rtnl_link_set_ifalias(ch, c->alias);
	if (c->forwarding >= 0)
		rtnl_link_inet_set_conf(ch, IPV4_DEVCONF_FORWARDING,
					(uint32_t)c->forwarding);
	if (c->ip6_none)
		rtnl_link_inet6_set_addr_gen_mode(ch, IN6_ADDR_GEN_MODE_NONE);
	link_begin(ls);
	r = rtnl_link_change(ls->sk, orig, ch, 0);
	if (r < 0)
		r = link_fail(ls, r, err, "changing link %s", link->name);
out:
	rtnl_link_put(orig);
	rtnl_link_put(ch);
	return r;
}

int link_del(struct linksock *ls, const char *name, char *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int r;

	if (!l)
		return err_set(err, ENOMEM, "out of memory");
	rtnl_link_set_name(l, name);
	link_begin(ls);
	r = rtnl_link_delete(ls->sk, l);
	rtnl_link_put(l);
	if (r < 0) {
		if (ls->kerr == ENODEV || r == -NLE_NODEV ||
		    r == -NLE_OBJ_NOTFOUND)
			return 0;
		return link_fail(ls, r, err, "deleting link %s", name);
	}
	return 0;
}

int link_addr_add(struct linksock *ls, int ifindex, uint32_t addr,
		  unsigned prefix, char *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL, *bcast = NULL;
	uint32_t be = htonl(addr);
	uint32_t bbe = htonl(addr | (prefix ? ~(0xffffffffu << (32 - prefix))
					    : 0xffffffffu));
	char text[INET_ADDRSTRLEN];
	int r;

	inet_ntop(AF_INET, &be, text, sizeof text);
	local = nl_addr_build(AF_INET, &be, sizeof be);
	bcast = nl_addr_build(AF_INET, &bbe, sizeof bbe);
	if (!a || !local || !bcast) {
		r = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, AF_INET);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_broadcast(a, bcast);
	link_begin(ls);
	r = rtnl_addr_add(ls->sk, a, NLM_F_EXCL);
	if (r < 0) {
		if (ls->kerr == EEXIST || r == -NLE_EXIST)
			r = 0;
		else
			r = link_fail(ls, r, err, "adding address %s/%u", text,
				      prefix);
	}
out:
	nl_addr_put(local);
	nl_addr_put(bcast);
	rtnl_addr_put(a);
	return r;
}

/* libnl 3.7 has no setter for it: the message is built with its
 * attribute API (RTM_NEWLINK, IFLA_LINKINFO { kind bridge, data {
 * IFLA_BR_NF_CALL_IPTABLES 1 } }). */
int link_bridge_nf_call(struct linksock *ls, const char *name, char *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nlattr *info, *data;
	struct link_info li;
	struct nl_msg *msg;
	int r = link_get(ls, name, &li, err);

	if (r)
		return r;
	ifi.ifi_index = li.ifindex;
	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg || nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    nla_put_u8(msg, IFLA_BR_NF_CALL_IPTABLES, 1) < 0) {
		nlmsg_free(msg);
		return err_set(err, ENOMEM, "out of memory");
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	link_begin(ls);
	r = nl_send_auto(ls->sk, msg);
	if (r >= 0)
		r = nl_wait_for_ack(ls->sk);
	nlmsg_free(msg);
	return r < 0 ? link_fail(ls, r, err, "bridge %s: nf_call_iptables",
				 name) : 0;
}

int link_addr_list(struct linksock *ls, int ifindex, uint32_t *addrs,
		   unsigned *prefixes, size_t max, size_t *n, char *err)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int r;

	*n = 0;
	link_begin(ls);
	r = rtnl_addr_alloc_cache(ls->sk, &cache);
	if (r < 0)
		return link_fail(ls, r, err, "addresses of link %d", ifindex);
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *l = rtnl_addr_get_local(a);

		if (rtnl_addr_get_ifindex(a) != ifindex || !l ||
		    nl_addr_get_family(l) != AF_INET || *n >= max)
			continue;
		addrs[*n] = ntohl(*(const uint32_t *)
				  nl_addr_get_binary_addr(l));
		prefixes[(*n)++] = (unsigned)rtnl_addr_get_prefixlen(a);
	}
	nl_cache_free(cache);
	return 0;
}

int link_addr_del(struct linksock *ls, int ifindex, uint32_t addr,
		  unsigned prefix, char *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	uint32_t be = htonl(addr);
	struct nl_addr *local = nl_addr_build(AF_INET, &be, sizeof be);
	char text[INET_ADDRSTRLEN];
	int r = 0;

	if (!a || !local) {
		r = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	inet_ntop(AF_INET, &be, text, sizeof text);
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, AF_INET);
	rtnl_addr_set_local(a, local);
	link_begin(ls);
	r = rtnl_addr_delete(ls->sk, a, 0);
	if (r < 0)
		r = ls->kerr == EADDRNOTAVAIL || r == -NLE_NOADDR ? 0 :
		    link_fail(ls, r, err, "removing address %s/%u", text,
			      prefix);
out:
	nl_addr_put(local);
	rtnl_addr_put(a);
	return r;
}

int link_route_default(struct linksock *ls, int ifindex, uint32_t gateway,
		       char *err)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL, *gw = NULL;
	uint32_t zero = 0, be = htonl(gateway);
	int r;

	dst = nl_addr_build(AF_INET, &zero, sizeof zero);
	gw = nl_addr_build(AF_INET, &be, sizeof be);
	if (!rt || !nh || !dst || !gw) {
		r = err_set(err, ENOMEM, "out of memory");
		rtnl_route_nh_free(nh);
		goto out;
	}
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(rt, nh);   /* the route owns it now */
	link_begin(ls);
	r = rtnl_route_add(ls->sk, rt, NLM_F_REPLACE);
	if (r < 0)
		r = link_fail(ls, r, err, "adding the default route");
out:
	nl_addr_put(dst);
	nl_addr_put(gw);
	rtnl_route_put(rt);
	return r;
}

int link_list(struct linksock *ls, const char *prefix,
	      void (*fn)(const struct link_info *link, void *ctx), void *ctx,
	      char *err)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	size_t plen = strlen(prefix);
	int r;

	link_begin(ls);
	r = rtnl_link_alloc_cache(ls->sk, AF_UNSPEC, &cache);
	if (r < 0)
		return link_fail(ls, r, err, "listing links");
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);
		struct link_info info;

		if (!name || strncmp(name, prefix, plen))
			continue;
		link_fill(l, &info);
		fn(&info, ctx);
	}
	nl_cache_free(cache);
	return 0;
}
