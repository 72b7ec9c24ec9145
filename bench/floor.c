/* floor N PREFIX [--tenants]: the raw floor of subnet plumbing (DESIGN §9).
 *
 * A bare libnl-route-3 program making, for N subnets, the objects maasfs
 * makes for a subnet on the local cloud, with the same netlink requests
 * (backend/host/host.c local_subnet_ensure, backend/host/link.c), minus maasfs's
 * idempotence look-ups ("does it exist already? is it ours?") and its
 * per-call socket opening: one socket per namespace, opened once.
 *
 * Per subnet i (names PREFIX + kind letter + i, like maasb/maash/maasg<vni>):
 *   host:   bridge PREFIXb<i>, MTU 1450          RTM_NEWLINK
 *           alias + addrgenmode none             RTM_NEWLINK (change)
 *           up                                   RTM_NEWLINK (change)
 *           its ifindex                          RTM_GETLINK
 *           veth PREFIXh<i>, MTU 1450, master =
 *             the bridge, its peer PREFIXg<i>
 *             created directly in the tenant
 *             namespace with MTU 1450 and a MAC  RTM_NEWLINK
 *           alias + addrgenmode none             RTM_NEWLINK (change)
 *           up                                   RTM_NEWLINK (change)
 *   tenant: the gateway end's ifindex            RTM_GETLINK
 *           up + IPv4 forwarding on              RTM_NEWLINK (change)
 *           10.250.x.1/PFX with broadcast        RTM_NEWADDR
 * Deleting a subnet: RTM_DELLINK of PREFIXh<i> (takes its peer along) and
 * of PREFIXb<i>, as local_subnet_remove does.
 *
 * Tenants (stated choice): by default all N subnets go into ONE tenant
 * namespace, PREFIX-t0, made (with lo up and its alias, like
 * local_tenant_ensure) before the create clock starts and removed after
 * the delete clock stops -- the case bench/run times for maasfs (mkdir of
 * the tenant, then N writes to subnets/new, only the writes timed).
 * With --tenants every subnet gets its own namespace PREFIX-t<i>, made and
 * removed inside the clocks (N tenants with one subnet each: mkdir T and
 * one subnet, then rmdir of both).
 *
 * Namespaces are made the way backend/host/netns.c (and `ip netns add`) makes
 * them: /run/netns made a shared mount, a file bind-mounted over with the
 * thread's new namespace from unshare(CLONE_NEWNET).
 *
 * Addresses: 10.250.i.0/24 (N <= 256), else /28 blocks of 10.250.0.0/16
 * (N <= 4096); only inside our namespaces, never a route in the host.
 *
 * Prints one line: create_ms=X delete_ms=Y per_subnet_ms=Z (Z = X / N).
 * Exit status 0 on success; on any failure everything made is removed.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o floor floor.c \
 *            $(pkg-config --cflags --libs libnl-3.0 libnl-route-3.0)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RUN_DIR "/run/netns"
#define MTU 1450
#define MAX_N 4096

static const char *prefix;
static bool per_tenant;
static int n;
static int npfx;                     /* 24 or 28 */

struct tenant {
	char name[64];
	int fd;                      /* the namespace, -1 if not made */
	struct nl_sock *sk;          /* a socket in it */
	bool made;                   /* its file is ours to remove */
};

static struct tenant *tenants;       /* 1, or n with --tenants */
static int ntenants;
static struct nl_sock *host;
static int made_b, made_h;           /* bridges, veths made (in order) */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int nlfail(const char *what, const char *name, int r)
{
	fprintf(stderr, "floor: %s %s: %s\n", what, name, nl_geterror(r));
	return -1;
}

static void name_of(char *buf, char kind, int i)
{
	snprintf(buf, IFNAMSIZ, "%s%c%d", prefix, kind, i);
}

/* A netlink socket in the calling thread's namespace, like link_sock_open
 * (extended and capped acks on). */
static struct nl_sock *sock_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, r;

	if (!sk)
		return NULL;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nlfail("netlink", "socket", r);
		nl_socket_free(sk);
		return NULL;
	}
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof one);
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof one);
	return sk;
}

/* netns_add of backend/host/netns.c: returns an fd of the new namespace and a
 * socket in it, or -1. The thread is back in its namespace either way. */
static int ns_add(struct tenant *t, int self)
{
	char path[PATH_MAX];
	bool bound = false;
	int fd;

	snprintf(path, sizeof path, "%s/%s", RUN_DIR, t->name);
	if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
		return perror(RUN_DIR), -1;
	while (mount("", RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
		if (errno != EINVAL || bound ||
		    mount(RUN_DIR, RUN_DIR, "none", MS_BIND | MS_REC, NULL))
			return perror("making " RUN_DIR " shared"), -1;
		bound = true;
	}
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return perror(path), -1;
	close(fd);
	t->made = true;
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare");
		unlink(path);
		t->made = false;
		return -1;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL)) {
		perror(path);
		if (setns(self, CLONE_NEWNET))
			abort();
		unlink(path);
		t->made = false;
		return -1;
	}
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	t->sk = sock_open();     /* opened in the new namespace */
	if (setns(self, CLONE_NEWNET))
		abort();
	return t->fd >= 0 && t->sk ? 0 : -1;
}

/* netns_del of backend/host/netns.c. */
static void ns_del(struct tenant *t)
{
	char path[PATH_MAX];
	int tries;

	if (t->sk)
		nl_socket_free(t->sk);
	t->sk = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (!t->made)
		return;
	t->made = false;
	snprintf(path, sizeof path, "%s/%s", RUN_DIR, t->name);
	for (tries = 0; umount2(path, 0) < 0; tries++) {
		if (errno == EINVAL || errno == ENOENT)
			break;
		if (errno != EBUSY || tries == 20) {
			umount2(path, MNT_DETACH);
			break;
		}
		usleep(1000);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		perror(path);
}

/* rtnl_link_change by name, as link_finish and link_change do. */
static int change(struct nl_sock *sk, const char *name, struct rtnl_link *ch)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	int r;

	if (!orig)
		return -NLE_NOMEM;
	rtnl_link_set_name(orig, name);
	rtnl_link_set_name(ch, name);
	r = rtnl_link_change(sk, orig, ch, 0);
	rtnl_link_put(orig);
	return r;
}

/* link_finish: alias, no IPv6 address generation and no IPv6 (the
 * sysctl file, as maasfs), then up. */
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
		fprintf(stderr, "floor: IPv6 stays on %s\n", name);
	close(fd);
}

static int finish(const char *name, const char *alias)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	int r;

	if (!ch)
		return nlfail("allocating", name, -NLE_NOMEM);
	rtnl_link_set_ifalias(ch, alias);
	rtnl_link_inet6_set_addr_gen_mode(ch, IN6_ADDR_GEN_MODE_NONE);
	r = change(host, name, ch);
	rtnl_link_put(ch);
	if (r < 0)
		return nlfail("setting up", name, r);
	ipv6_off(name);
	ch = rtnl_link_alloc();
	if (!ch)
		return nlfail("allocating", name, -NLE_NOMEM);
	rtnl_link_set_flags(ch, IFF_UP);
	r = change(host, name, ch);
	rtnl_link_put(ch);
	return r < 0 ? nlfail("bringing up", name, r) : 0;
}

static int ifindex(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);

	if (r < 0)
		return nlfail("looking up", name, r);
	r = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return r;
}

static uint32_t subnet_base(int i)
{
	/* 10.250.0.0/16 */
	uint32_t net = 0x0afa0000u;

	return npfx == 24 ? net | (uint32_t)i << 8 : net | (uint32_t)i << 4;
}

static int subnet_add(int i, struct tenant *t, const char *alias)
{
	char b[IFNAMSIZ], h[IFNAMSIZ], g[IFNAMSIZ];
	unsigned char macb[6] = { 0x0a, 0x58, 0xfe, 0x00,
				  (unsigned char)(i >> 8), (unsigned char)i };
	struct rtnl_link *l, *p, *ch;
	struct rtnl_addr *a;
	struct nl_addr *mac, *local, *bcast;
	uint32_t gw, bc;
	int r, bri, gwi;

	name_of(b, 'b', i);
	name_of(h, 'h', i);
	name_of(g, 'g', i);

	/* the bridge */
	l = rtnl_link_bridge_alloc();
	if (!l)
		return nlfail("allocating", b, -NLE_NOMEM);
	rtnl_link_set_name(l, b);
	rtnl_link_set_mtu(l, MTU);
	r = rtnl_link_add(host, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return nlfail("creating bridge", b, r);
	made_b = i + 1;
	if (finish(b, alias))
		return -1;
	bri = ifindex(host, b);
	if (bri < 0)
		return -1;

	/* the veth, its gateway end made in the tenant namespace */
	l = rtnl_link_veth_alloc();
	mac = nl_addr_build(AF_LLC, macb, sizeof macb);
	if (!l || !mac)
		return nlfail("allocating", h, -NLE_NOMEM);
	rtnl_link_set_name(l, h);
	rtnl_link_set_mtu(l, MTU);
	rtnl_link_set_master(l, bri);
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(p, g);
	rtnl_link_set_mtu(p, MTU);
	rtnl_link_set_ns_fd(p, t->fd);
	rtnl_link_set_addr(p, mac);
	rtnl_link_put(p);
	nl_addr_put(mac);
	r = rtnl_link_add(host, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return nlfail("creating veth", h, r);
	made_h = i + 1;
	if (finish(h, alias))
		return -1;

	/* the gateway end: up, forwarding on, its address */
	gwi = ifindex(t->sk, g);
	if (gwi < 0)
		return -1;
	ch = rtnl_link_alloc();
	if (!ch)
		return nlfail("allocating", g, -NLE_NOMEM);
	rtnl_link_set_flags(ch, IFF_UP);
	rtnl_link_inet_set_conf(ch, IPV4_DEVCONF_FORWARDING, 1);
	r = change(t->sk, g, ch);
	rtnl_link_put(ch);
	if (r < 0)
		return nlfail("bringing up", g, r);

	gw = htonl(subnet_base(i) | 1);
	bc = htonl(subnet_base(i) | ~(0xffffffffu << (32 - npfx)));
	a = rtnl_addr_alloc();
	local = nl_addr_build(AF_INET, &gw, sizeof gw);
	bcast = nl_addr_build(AF_INET, &bc, sizeof bc);
	if (!a || !local || !bcast)
		return nlfail("allocating", g, -NLE_NOMEM);
	nl_addr_set_prefixlen(local, npfx);
	rtnl_addr_set_ifindex(a, gwi);
	rtnl_addr_set_family(a, AF_INET);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_broadcast(a, bcast);
	r = rtnl_addr_add(t->sk, a, NLM_F_EXCL);
	nl_addr_put(local);
	nl_addr_put(bcast);
	rtnl_addr_put(a);
	return r < 0 ? nlfail("adding the address of", g, r) : 0;
}

static int del_link(struct nl_sock *sk, const char *name, bool quiet)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int r;

	if (!l)
		return -1;
	rtnl_link_set_name(l, name);
	r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (r < 0 && r != -NLE_NODEV && r != -NLE_OBJ_NOTFOUND) {
		if (!quiet)
			nlfail("deleting", name, r);
		return -1;
	}
	return 0;
}

static int subnet_del(int i)
{
	char b[IFNAMSIZ], h[IFNAMSIZ];
	int r;

	name_of(b, 'b', i);
	name_of(h, 'h', i);
	r = del_link(host, h, false);
	return del_link(host, b, false) || r ? -1 : 0;
}

/* After a failure: whatever may exist goes. */
static void undo(void)
{
	char name[IFNAMSIZ];
	int i;

	for (i = 0; i < made_h; i++) {
		name_of(name, 'h', i);
		del_link(host, name, true);
	}
	for (i = 0; i < made_b; i++) {
		name_of(name, 'b', i);
		del_link(host, name, true);
	}
	for (i = 0; i < ntenants; i++)
		ns_del(&tenants[i]);
}

static int tenant_add(struct tenant *t, int idx, int self, const char *alias)
{
	struct rtnl_link *ch;
	int r;

	snprintf(t->name, sizeof t->name, "%s-t%d", prefix, idx);
	if (ns_add(t, self))
		return -1;
	/* lo up with the marker alias, as local_tenant_ensure does */
	ch = rtnl_link_alloc();
	if (!ch)
		return -1;
	rtnl_link_set_flags(ch, IFF_UP);
	rtnl_link_set_ifalias(ch, alias);
	r = change(t->sk, "lo", ch);
	rtnl_link_put(ch);
	return r < 0 ? nlfail("bringing up lo in", t->name, r) : 0;
}

static bool prefix_ok(const char *p)
{
	/* names of other people's links that a careless prefix would hit */
	static const char *const taken[] = {
		"maas", "lab", "eth", "en", "wl", "br", "vir", "veth", "docker",
		"lo", "tap", "tun", "vx", "bond", "team", "lxc", "cni", "cali",
		"flannel", "kube", "ovs", "gre", "sit", "ip6", "dummy", "wg",
	};
	size_t i, len = strlen(p);

	if (len < 3 || len > 8 || p[0] < 'a' || p[0] > 'z')
		return false;
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
			return false;
	for (i = 0; i < sizeof taken / sizeof *taken; i++)
		if (!strncmp(p, taken[i], strlen(taken[i])))
			return false;
	return true;
}

int main(int argc, char *argv[])
{
	char alias[64];
	double t0, t1, t2, t3;
	int self, i, rc = 1;

	if (argc == 4 && !strcmp(argv[3], "--tenants"))
		per_tenant = true;
	else if (argc != 3) {
		fprintf(stderr, "usage: floor N PREFIX [--tenants]\n");
		return 2;
	}
	n = atoi(argv[1]);
	prefix = argv[2];
	if (n < 1 || n > MAX_N) {
		fprintf(stderr, "floor: N must be 1..%d\n", MAX_N);
		return 2;
	}
	if (!prefix_ok(prefix)) {
		fprintf(stderr, "floor: PREFIX must be 3-8 of [a-z0-9], start "
			"with a letter, and not look like a system link name\n");
		return 2;
	}
	npfx = n <= 256 ? 24 : 28;
	snprintf(alias, sizeof alias, "%s-floor", prefix);
	ntenants = per_tenant ? n : 1;
	tenants = calloc((size_t)ntenants, sizeof *tenants);
	if (!tenants)
		return 1;
	for (i = 0; i < ntenants; i++)
		tenants[i].fd = -1;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	host = sock_open();
	if (self < 0 || !host) {
		fprintf(stderr, "floor: cannot open the host namespace\n");
		return 1;
	}

	if (!per_tenant && tenant_add(&tenants[0], 0, self, alias))
		goto out;

	t0 = now_ms();
	for (i = 0; i < n; i++) {
		struct tenant *t = &tenants[per_tenant ? i : 0];

		if (per_tenant && tenant_add(t, i, self, alias))
			goto out;
		if (subnet_add(i, t, alias))
			goto out;
		if (per_tenant) {   /* no fd per tenant kept (maasfs keeps none) */
			nl_socket_free(t->sk);
			t->sk = NULL;
			close(t->fd);
			t->fd = -1;
		}
	}
	t1 = now_ms();
	if (getenv("FLOOR_PAUSE")) {   /* look at what was made, then Enter */
		fprintf(stderr, "floor: made; press Enter to delete\n");
		while ((i = getchar()) != EOF && i != '\n')
			;
	}
	t2 = now_ms();   /* the wait is not the delete's */
	for (i = 0; i < n; i++) {
		if (subnet_del(i))
			goto out;
		if (per_tenant)
			ns_del(&tenants[i]);
	}
	t3 = now_ms();
	made_b = made_h = 0;
	if (!per_tenant)
		ns_del(&tenants[0]);
	printf("create_ms=%.3f delete_ms=%.3f per_subnet_ms=%.3f\n", t1 - t0,
	       t3 - t2, (t1 - t0) / n);
	rc = 0;
out:
	if (rc)
		undo();
	nl_socket_free(host);
	close(self);
	free(tenants);
	return rc;
}
