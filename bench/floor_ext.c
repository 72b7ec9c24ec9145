/* floor_ext MODE ...: the floor of a tenant's way out (issue 18): a bare
 * program making the netlink and nftables requests maasfs makes, without
 * maasfs (no look-ups, no state, no FUSE).
 *
 *   floor_ext uplinks N BRIDGE PREFIX
 *     N network namespaces, made 100 at a time outside the clock and kept
 *     by descriptor only (nothing named). Timed, per namespace, what
 *     backend/host/host.c local_uplink_ensure asks of the kernel:
 *       host:   veth PREFIX<i> on BRIDGE, its peer "maasu" made in the
 *               namespace                                 RTM_NEWLINK
 *       tenant: the peer up, IPv4 forwarding on           RTM_NEWLINK
 *               198.18.x.y/16                             RTM_NEWADDR
 *               default route via 198.18.0.1              RTM_NEWROUTE
 *               table ip maasfs: postrouting SNAT         libnftables
 *     One netlink socket per namespace and one libnftables context per
 *     namespace, made inside the clock; a context is freed 32 uplinks
 *     later (closing one right after its transaction waits for the
 *     kernel's deferred destruction of the table it replaced, 7-19 ms:
 *     maasfs frees them in a thread of its own).
 *     Prints: per_tenant_ms=A first100_ms=B last100_ms=C (medians).
 *
 *   floor_ext floats N BRIDGE PREFIX
 *     One namespace with an uplink as above (untimed); then N floating
 *     addresses added one by one, each timed: what local_uplink_ensure
 *     asks of the kernel for a new one:
 *               198.18.1.i/32 on maasu                    RTM_NEWADDR
 *               table ip maasfs: the uplink's SNAT and i+1 floating
 *               addresses' DNAT + SNAT                    libnftables
 *               a gratuitous ARP for it           packet socket sendto
 *     (a context per address, freed after the clock; one packet socket,
 *     made before it). Prints: ms=X (the median).
 *
 *   floor_ext rules N BRIDGE
 *     What ports_apply writes for N VM ports of one tenant on BRIDGE:
 *     IFLA_BR_NF_CALL_IPTABLES on the bridge (RTM_NEWLINK), then the
 *     tables bridge and ip maasfs_t9999 (anti-spoofing, a group's set and
 *     rules, the forward chain) in one libnftables transaction, and the
 *     same again (a rule changed). Prints: ms=X (the second write).
 *
 * Everything is removed at the end: the namespaces go with their
 * descriptors (their veth ends with them), the tables are deleted.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o floor_ext floor_ext.c \
 *        $(pkg-config --cflags --libs libnl-3.0 libnl-route-3.0 libnftables)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#define MAX_N 4096

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct nl_sock *sock_here(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* A new namespace, kept by descriptor; the thread comes back to self. */
static int ns_new(int self)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return fd;
}

static int nft_here(struct nft_ctx **ctx, const char *cmds)
{
	if (!*ctx) {
		*ctx = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!*ctx)
			return -1;
		nft_ctx_buffer_output(*ctx);
		nft_ctx_buffer_error(*ctx);
	}
	if (nft_run_cmd_from_buffer(*ctx, cmds)) {
		fprintf(stderr, "floor_ext: nft: %s\n",
			nft_ctx_get_error_buffer(*ctx));
		return -1;
	}
	return 0;
}

static int route_default(struct nl_sock *sk, int ifindex, uint32_t gw)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	uint32_t zero = 0, be = htonl(gw);
	struct nl_addr *d = nl_addr_build(AF_INET, &zero, 4);
	struct nl_addr *g = nl_addr_build(AF_INET, &be, 4);
	int r;

	nl_addr_set_prefixlen(d, 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_dst(rt, d);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, g);
	rtnl_route_add_nexthop(rt, nh);
	r = rtnl_route_add(sk, rt, NLM_F_REPLACE);
	nl_addr_put(d);
	nl_addr_put(g);
	rtnl_route_put(rt);
	return r;
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t a, int pfx)
{
	struct rtnl_addr *ad = rtnl_addr_alloc();
	uint32_t be = htonl(a);
	struct nl_addr *l = nl_addr_build(AF_INET, &be, 4);
	int r;

	nl_addr_set_prefixlen(l, pfx);
	rtnl_addr_set_ifindex(ad, ifindex);
	rtnl_addr_set_family(ad, AF_INET);
	rtnl_addr_set_local(ad, l);
	r = rtnl_addr_add(sk, ad, NLM_F_EXCL);
	nl_addr_put(l);
	rtnl_addr_put(ad);
	return r;
}

/* One tenant's uplink, in namespace fd (the thread enters it for the
 * tenant's socket and context, and comes back). */
static int uplink(struct nl_sock *host, int master, int self, int fd,
		  const char *name, uint32_t addr, struct nft_ctx **ctx)
{
	struct rtnl_link *l = rtnl_link_veth_alloc(), *p, *ch;
	struct nl_sock *sk;
	char cmd[512], a[INET_ADDRSTRLEN];
	uint32_t be = htonl(addr);
	int r, idx;

	rtnl_link_set_name(l, name);
	rtnl_link_set_master(l, master);
	rtnl_link_set_flags(l, IFF_UP);
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(p, "maasu");
	rtnl_link_set_ns_fd(p, fd);
	r = rtnl_link_add(host, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0 || setns(fd, CLONE_NEWNET) < 0)
		return -1;
	sk = sock_here();
	r = sk ? 0 : -1;
	idx = 0;
	if (r == 0) {
		struct rtnl_link *cur = NULL;

		r = rtnl_link_get_kernel(sk, 0, "maasu", &cur);
		idx = r < 0 ? 0 : rtnl_link_get_ifindex(cur);
		ch = rtnl_link_alloc();
		rtnl_link_set_flags(ch, IFF_UP);
		rtnl_link_inet_set_conf(ch, IPV4_DEVCONF_FORWARDING, 1);
		if (r == 0)
			r = rtnl_link_change(sk, cur, ch, 0);
		rtnl_link_put(ch);
		rtnl_link_put(cur);
	}
	if (r == 0)
		r = addr_add(sk, idx, addr, 16);
	if (r == 0)
		r = route_default(sk, idx, 0xc6120001u);   /* 198.18.0.1 */
	inet_ntop(AF_INET, &be, a, sizeof a);
	snprintf(cmd, sizeof cmd, "add table ip maasfs\ndelete table ip maasfs\n"
		 "table ip maasfs {\n  chain postrouting {\n    type nat hook "
		 "postrouting priority srcnat; policy accept;\n    oifname "
		 "\"maasu\" snat to %s\n  }\n}\n", a);
	if (r == 0)
		r = nft_here(ctx, cmd);
	nl_socket_free(sk);
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

#define BATCH 100   /* namespaces made (untimed) before each 100 uplinks */
#define LAG 32      /* a context is freed LAG uplinks later: by then the
		     * kernel's deferred destruction of its transaction is
		     * done and the close does not wait for it */

static int uplinks(int n, const char *bridge, const char *prefix)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct nl_sock *host = sock_here();
	struct nft_ctx **ctx = calloc((size_t)n, sizeof *ctx);
	double *t = calloc((size_t)n, sizeof *t), t0, all = 0;
	int fd[BATCH], i, j, b, master, r = 0, k;
	struct rtnl_link *br = NULL;
	char name[IFNAMSIZ];

	if (self < 0 || !host || !ctx || !t)
		return 1;
	if (rtnl_link_get_kernel(host, 0, bridge, &br) < 0) {
		fprintf(stderr, "floor_ext: no bridge %s\n", bridge);
		return 1;
	}
	master = rtnl_link_get_ifindex(br);
	rtnl_link_put(br);
	for (b = 0; r == 0 && b < n; b += BATCH) {
		k = n - b < BATCH ? n - b : BATCH;
		for (j = 0; j < k; j++)
			if ((fd[j] = ns_new(self)) < 0)
				return 1;
		for (j = 0; r == 0 && j < k; j++) {
			i = b + j;
			snprintf(name, sizeof name, "%s%d", prefix, i);
			t0 = now_ms();
			r = uplink(host, master, self, fd[j], name,
				   0xc6120000u + 10 + (uint32_t)i, &ctx[i]);
			if (i >= LAG && ctx[i - LAG]) {
				nft_ctx_free(ctx[i - LAG]);
				ctx[i - LAG] = NULL;
			}
			t[i] = now_ms() - t0;
			all += t[i];
		}
		for (j = 0; j < k; j++)
			close(fd[j]);   /* a namespace goes with its last user */
	}
	for (i = 0; i < n; i++)
		if (ctx[i])
			nft_ctx_free(ctx[i]);
	if (r) {
		fprintf(stderr, "floor_ext: an uplink failed\n");
		return 1;
	}
	k = n < 100 ? n : 100;
	printf("per_tenant_ms=%.3f", all / n);
	printf(" first100_ms=%.3f", median(t, k));
	printf(" last100_ms=%.3f\n", median(t + n - k, k));
	nl_socket_free(host);
	return 0;
}

/* A gratuitous ARP for a on ifindex (as backend/host/arp.c) through the
 * packet socket fd, made once before the clock (closing one waits for a
 * grace period: maasfs closes its own later, in a thread). */
static int garp(int fd, int ifindex, const uint8_t *mac, uint32_t a)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = ifindex, .sll_halen = ETH_ALEN };
	struct {
		struct arphdr h;
		uint8_t sha[ETH_ALEN], spa[4], tha[ETH_ALEN], tpa[4];
	} __attribute__((packed)) p;
	uint32_t be = htonl(a);
	ssize_t r;

	memset(to.sll_addr, 0xff, ETH_ALEN);
	memset(&p, 0, sizeof p);
	p.h.ar_hrd = htons(ARPHRD_ETHER);
	p.h.ar_pro = htons(ETH_P_IP);
	p.h.ar_hln = ETH_ALEN;
	p.h.ar_pln = 4;
	p.h.ar_op = htons(ARPOP_REQUEST);
	memcpy(p.sha, mac, ETH_ALEN);
	memcpy(p.spa, &be, 4);
	memcpy(p.tpa, &be, 4);
	r = sendto(fd, &p, sizeof p, 0, (struct sockaddr *)&to, sizeof to);
	return r < 0 ? -1 : 0;
}

/* The uplink's table with n floating addresses 198.18.1.i -> 10.0.0.i+2. */
static void float_table(char *buf, size_t len, int n)
{
	size_t o = 0;
	int i;

#define P(...) (o += (size_t)snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__))
	P("add table ip maasfs\ndelete table ip maasfs\ntable ip maasfs {\n"
	  "  chain prerouting {\n    type nat hook prerouting priority dstnat;"
	  " policy accept;\n");
	for (i = 0; i < n; i++)
		P("    iifname \"maasu\" ip daddr 198.18.1.%d dnat to 10.0.0.%d\n",
		  i + 1, i + 2);
	P("  }\n  chain postrouting {\n    type nat hook postrouting priority "
	  "srcnat; policy accept;\n");
	for (i = 0; i < n; i++)
		P("    oifname \"maasu\" ip saddr 10.0.0.%d snat to 198.18.1.%d\n",
		  i + 2, i + 1);
	P("    oifname \"maasu\" snat to 198.18.0.10\n  }\n}\n");
#undef P
}

static int floats(int n, const char *bridge, const char *prefix)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct nl_sock *host = sock_here(), *sk = NULL;
	struct nft_ctx **ctx = calloc((size_t)n + 1, sizeof *ctx);
	double *t = calloc((size_t)n, sizeof *t), t0;
	size_t len = (size_t)n * 160 + 1024;
	char *buf = malloc(len), name[IFNAMSIZ];
	struct rtnl_link *br = NULL, *u = NULL;
	int fd, i, r, idx = 0, pk = -1;
	uint8_t mac[ETH_ALEN];

	if (self < 0 || !host || !ctx || !t || !buf ||
	    rtnl_link_get_kernel(host, 0, bridge, &br) < 0 ||
	    (fd = ns_new(self)) < 0)
		return 1;
	snprintf(name, sizeof name, "%s0", prefix);
	r = uplink(host, rtnl_link_get_ifindex(br), self, fd, name,
		   0xc612000au, &ctx[n]);
	if (r == 0 && setns(fd, CLONE_NEWNET) == 0 && (sk = sock_here()) &&
	    rtnl_link_get_kernel(sk, 0, "maasu", &u) == 0) {
		idx = rtnl_link_get_ifindex(u);
		memcpy(mac, nl_addr_get_binary_addr(rtnl_link_get_addr(u)),
		       ETH_ALEN);
		pk = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	for (i = 0; r == 0 && idx && pk >= 0 && i < n; i++) {
		float_table(buf, len, i + 1);
		t0 = now_ms();
		r = addr_add(sk, idx, 0xc6120100u + (uint32_t)i + 1, 32);
		if (r == 0)
			r = nft_here(&ctx[i], buf);
		if (r == 0)
			r = garp(pk, idx, mac, 0xc6120100u + (uint32_t)i + 1);
		t[i] = now_ms() - t0;
	}
	if (pk >= 0)
		close(pk);
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	for (i = 0; i <= n; i++)
		if (ctx[i])
			nft_ctx_free(ctx[i]);
	close(fd);   /* the namespace goes, its veth ends with it */
	if (r || !idx || pk < 0) {
		fprintf(stderr, "floor_ext: a floating address failed\n");
		return 1;
	}
	printf("ms=%.3f\n", median(t, n));
	return 0;
}

/* The tables of n ports on bridge, as ports_apply writes them. */
static void tables(char *buf, size_t len, int n, const char *bridge,
		   int port)
{
	size_t o = 0;
	int i;

#define P(...) (o += (size_t)snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__))
	P("add table bridge maasfs_t9999\ndelete table bridge maasfs_t9999\n"
	  "add table ip maasfs_t9999\ndelete table ip maasfs_t9999\n"
	  "table bridge maasfs_t9999 {\n");
	for (i = 0; i < n; i++)
		P("  chain from_mbnp%06x {\n    ether saddr != 52:54:00:%02x:%02x:"
		  "%02x drop\n    ether type arp arp saddr ether != 52:54:00:%02x:"
		  "%02x:%02x drop\n    ether type arp arp saddr ip != { 10.%d.%d.%d,"
		  " 0.0.0.0 } drop\n    ether type arp accept\n    ether type ip "
		  "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n    ether "
		  "type ip ip saddr != 10.%d.%d.%d drop\n    ether type ip accept\n"
		  "    drop\n  }\n", i, i >> 16, (i >> 8) & 255, i & 255,
		  i >> 16, (i >> 8) & 255, i & 255, 200, i >> 8, (i & 255) + 1,
		  200, i >> 8, (i & 255) + 1);
	P("  chain ports {\n    type filter hook forward priority -10; policy "
	  "accept;\n");
	for (i = 0; i < n; i++)
		P("    iifname \"mbnp%06x\" jump from_mbnp%06x\n", i, i);
	P("  }\n}\ntable ip maasfs_t9999 {\n  set g0 {\n    type ipv4_addr;\n");
	for (i = 0; i < n; i++)
		P("%s10.%d.%d.%d", i ? ", " : "    elements = { ", 200, i >> 8,
		  (i & 255) + 1);
	P(" }\n  }\n");
	for (i = 0; i < n; i++)
		P("  chain in_mbnp%06x {\n    ip saddr 10.200.0.254 accept\n    udp "
		  "sport 67 udp dport 68 accept\n    ip saddr @g0 accept\n    ip "
		  "protocol tcp tcp dport %d ip saddr 0.0.0.0/0 accept\n    drop\n"
		  "  }\n  chain out_mbnp%06x {\n    ip daddr 10.200.0.254 return\n"
		  "    return\n    drop\n  }\n", i, port, i);
	P("  chain forward {\n    type filter hook forward priority 0; policy "
	  "accept;\n    ct state established,related accept\n");
	for (i = 0; i < n; i++)
		P("    iifname \"%s\" ip saddr 10.%d.%d.%d jump out_mbnp%06x\n"
		  "    oifname \"%s\" ip daddr 10.%d.%d.%d jump in_mbnp%06x\n",
		  bridge, 200, i >> 8, (i & 255) + 1, i, bridge, 200, i >> 8,
		  (i & 255) + 1, i);
	P("  }\n}\n");
#undef P
}

/* IFLA_BR_NF_CALL_IPTABLES on the bridge (as link_bridge_nf_call). */
static int nf_call(struct nl_sock *sk, int ifindex)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK,
						NLM_F_REQUEST | NLM_F_ACK);
	struct nlattr *info, *data;
	int r;

	nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO);
	info = nla_nest_start(msg, IFLA_LINKINFO);
	nla_put_string(msg, IFLA_INFO_KIND, "bridge");
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	nla_put_u8(msg, IFLA_BR_NF_CALL_IPTABLES, 1);
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	r = nl_send_auto(sk, msg);
	if (r >= 0)
		r = nl_wait_for_ack(sk);
	nlmsg_free(msg);
	return r;
}

static int rules(int n, const char *bridge)
{
	size_t len = (size_t)n * 1200 + 4096;
	char *buf = malloc(len);
	struct nl_sock *sk = sock_here();
	struct nft_ctx *ctx = NULL;
	struct rtnl_link *b = NULL;
	double t0, t1;
	int r;

	if (!buf || !sk || rtnl_link_get_kernel(sk, 0, bridge, &b) < 0)
		return 1;
	tables(buf, len, n, bridge, 7777);
	r = nf_call(sk, rtnl_link_get_ifindex(b)) < 0 || nft_here(&ctx, buf);
	tables(buf, len, n, bridge, 7000);   /* a rule changed */
	t0 = now_ms();
	r |= nf_call(sk, rtnl_link_get_ifindex(b)) < 0 || nft_here(&ctx, buf);
	t1 = now_ms();
	nft_here(&ctx, "delete table bridge maasfs_t9999\n"
		       "delete table ip maasfs_t9999\n");
	nft_ctx_free(ctx);
	rtnl_link_put(b);
	nl_socket_free(sk);
	free(buf);
	if (r)
		return 1;
	printf("ms=%.3f\n", t1 - t0);
	return 0;
}

int main(int argc, char *argv[])
{
	int n = argc > 2 ? atoi(argv[2]) : 0;

	if (argc == 5 && !strcmp(argv[1], "uplinks") && n > 0 && n <= MAX_N &&
	    strlen(argv[4]) <= 6)
		return uplinks(n, argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "floats") && n > 0 && n <= 250 &&
	    strlen(argv[4]) <= 6)
		return floats(n, argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "rules") && n > 0 && n <= MAX_N)
		return rules(n, argv[3]);
	fprintf(stderr, "usage: floor_ext uplinks N BRIDGE PREFIX | "
		"floor_ext floats N BRIDGE PREFIX | floor_ext rules N BRIDGE\n");
	return 2;
}
