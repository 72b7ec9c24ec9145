/* dhcpprobe PORT PEER: the DHCP probe of the subnet benchmarks, the same
 * for maasfs and for the script way (bench/run, bench/ip-subnets.sh).
 *
 * PORT and PEER are the two ends of a veth pair in this namespace, made
 * and brought up by the caller before its clock starts. For every bridge
 * name read on stdin, PORT is put on that bridge (netlink), and a DHCP
 * exchange is made from PEER through a packet socket: DISCOVER, OFFER,
 * REQUEST, ACK, each DISCOVER or REQUEST sent again every 100 ms until its
 * answer (8 s in all). The answer is one line on stdout: "ok" with the
 * address acknowledged, or "fail" and why.
 *
 * It replaces three processes per probe (ip link set, ip netns exec,
 * busybox udhcpc; ~60 ms here, the same on both sides of the ratio) with
 * one that lives for the whole run, so that the figure is what it takes
 * to make the subnet answer, not what it takes to ask. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "../tests/tools/dhcpwire.h"

#define RESEND_MS 100
#define DEADLINE_MS 8000

struct packet {
	struct iphdr ip;
	struct udphdr udp;
	struct dhcp d;
} __attribute__((packed));

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t ip_sum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A DISCOVER (type 1) or a REQUEST (type 3) for ip from server. */
static size_t build(struct packet *p, const uint8_t mac[6], uint32_t xid,
		    int type, uint32_t ip, uint32_t server)
{
	uint8_t *o;
	size_t dlen;

	memset(p, 0, sizeof *p);
	p->d.op = 1;
	p->d.htype = 1;
	p->d.hlen = 6;
	p->d.xid = xid;
	p->d.flags = htons(0x8000);   /* answer by broadcast */
	memcpy(p->d.chaddr, mac, 6);
	p->d.magic = htonl(DHCP_MAGIC);
	o = p->d.opts;
	*o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
	if (type == 3) {
		*o++ = 50, *o++ = 4;
		memcpy(o, &ip, 4), o += 4;
		*o++ = 54, *o++ = 4;
		memcpy(o, &server, 4), o += 4;
	}
	*o++ = 255;
	dlen = sizeof p->d - sizeof p->d.opts + 64;   /* opts padded */
	p->udp.source = htons(68);
	p->udp.dest = htons(67);
	p->udp.len = htons((uint16_t)(sizeof p->udp + dlen));
	p->ip.version = 4;
	p->ip.ihl = 5;
	p->ip.ttl = 64;
	p->ip.protocol = IPPROTO_UDP;
	p->ip.saddr = 0;
	p->ip.daddr = 0xffffffffu;
	p->ip.tot_len = htons((uint16_t)(sizeof p->ip + sizeof p->udp + dlen));
	p->ip.check = ip_sum(&p->ip, sizeof p->ip);
	return sizeof p->ip + sizeof p->udp + dlen;
}

/* The message type and server id of an answer to xid, or 0. */
static int parse(const uint8_t *buf, ssize_t n, uint32_t xid,
		 uint32_t *yiaddr, uint32_t *server)
{
	const struct iphdr *ip = (const void *)buf;
	const struct udphdr *udp;
	const struct dhcp *d;
	const uint8_t *o, *end;
	int type = 0;

	if (n < (ssize_t)sizeof *ip || ip->protocol != IPPROTO_UDP ||
	    n < ip->ihl * 4 + (ssize_t)(sizeof *udp + 240))
		return 0;
	udp = (const void *)(buf + ip->ihl * 4);
	d = (const void *)(udp + 1);
	if (ntohs(udp->dest) != 68 || d->op != 2 || d->xid != xid ||
	    d->magic != htonl(DHCP_MAGIC))
		return 0;
	o = d->opts;
	end = buf + n;
	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			break;
		if (o[0] == 53 && o[1] == 1)
			type = o[2];
		if (o[0] == 54 && o[1] == 4)
			memcpy(server, o + 2, 4);
		o += 2 + o[1];
	}
	*yiaddr = d->yiaddr;
	return type;
}

/* Sends type until an answer of type want comes, resending every
 * RESEND_MS; 0, or -1 at the deadline. */
static int exchange(int fd, const struct sockaddr_ll *to, const uint8_t mac[6],
		    uint32_t xid, int type, int want, uint32_t *ip,
		    uint32_t *server, int64_t deadline)
{
	struct packet p;
	uint8_t buf[2048];
	size_t len = build(&p, mac, xid, type, *ip, *server);

	while (now_ms() < deadline) {
		int64_t next = now_ms() + RESEND_MS;

		if (sendto(fd, &p, len, 0, (const void *)to, sizeof *to) < 0)
			return -1;
		while (now_ms() < next) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (poll(&pfd, 1, (int)(next - now_ms())) <= 0)
				continue;
			n = recv(fd, buf, sizeof buf, 0);
			if (n > 0 && parse(buf, n, xid, ip, server) == want)
				return 0;
		}
	}
	return -1;
}

int main(int argc, char *argv[])
{
	struct nl_sock *nl = nl_socket_alloc();
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	char line[IFNAMSIZ + 2];
	struct ifreq ifr;
	uint8_t mac[6];
	int port, peer, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: dhcpprobe PORT PEER\n");
		return 2;
	}
	port = (int)if_nametoindex(argv[1]);
	peer = (int)if_nametoindex(argv[2]);
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (!port || !peer || fd < 0 || !nl || nl_connect(nl, NETLINK_ROUTE)) {
		fprintf(stderr, "dhcpprobe: %s\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", argv[2]);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "dhcpprobe: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	ll.sll_protocol = htons(ETH_P_IP);
	ll.sll_ifindex = peer;
	if (bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0) {
		fprintf(stderr, "dhcpprobe: bind: %s\n", strerror(errno));
		return 1;
	}
	ll.sll_halen = 6;
	memset(ll.sll_addr, 0xff, 6);
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)getpid() ^ (unsigned)now_ms());
	while (fgets(line, sizeof line, stdin)) {
		int64_t deadline = now_ms() + DEADLINE_MS;
		uint32_t xid = (uint32_t)rand(), ip = 0, server = 0;
		int br;

		line[strcspn(line, "\n")] = '\0';
		br = (int)if_nametoindex(line);
		if (!br || rtnl_link_enslave_ifindex(nl, br, port) < 0) {
			printf("fail no bridge %s\n", line);
			continue;
		}
		if (exchange(fd, &ll, mac, xid, 1, 2, &ip, &server, deadline) ||
		    exchange(fd, &ll, mac, xid, 3, 5, &ip, &server, deadline)) {
			printf("fail no answer on %s\n", line);
			continue;
		}
		printf("ok %s\n", inet_ntoa((struct in_addr){ ip }));
	}
	nl_socket_free(nl);
	return 0;
}
