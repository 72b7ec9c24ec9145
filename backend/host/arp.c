/* Gratuitous ARP (arp.h), over a packet socket (RFC 5227 §3: an ARP
 * request whose sender and target address are both the one announced). */
#include "arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../lib/util.h"
#include "later.h"
#include "netns.h"

struct announce {
	const char *ifname;
	const uint32_t *addrs;
	size_t n;
	char *err;
};

/* Closing a packet socket waits for a grace period (packet_release:
 * synchronize_net, 5-15 ms here): it is closed later (later.h). */
static void close_fd(void *arg)
{
	close((int)(intptr_t)arg);
}

/* One request for each address, from the link's index and MAC. */
static int announce_all(const struct announce *a, int fd,
			const struct ifreq *idx, const struct ifreq *hw)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = idx->ifr_ifindex,
				  .sll_halen = ETH_ALEN };
	struct ether_arp p;
	size_t i;

	memset(to.sll_addr, 0xff, ETH_ALEN);
	memset(&p, 0, sizeof p);
	p.arp_hrd = htons(ARPHRD_ETHER);
	p.arp_pro = htons(ETHERTYPE_IP);
	p.arp_hln = ETH_ALEN;
	p.arp_pln = 4;
	p.arp_op = htons(ARPOP_REQUEST);
	memcpy(p.arp_sha, hw->ifr_hwaddr.sa_data, ETH_ALEN);
	for (i = 0; i < a->n; i++) {
		uint32_t be = htonl(a->addrs[i]);

		memcpy(p.arp_spa, &be, 4);
		memcpy(p.arp_tpa, &be, 4);
		if (sendto(fd, &p, sizeof p, 0, (struct sockaddr *)&to,
			   sizeof to) < 0)
			return err_set(a->err, errno, "gratuitous ARP on %s: "
				       "%s", a->ifname, strerror(errno));
	}
	return 0;
}

static int announce_here(void *arg)
{
	struct announce *a = arg;
	struct ifreq idx, hw;
	int fd, r = 0;

	if (strlen(a->ifname) >= sizeof idx.ifr_name)
		return err_set(a->err, EINVAL, "bad link name");
	/* protocol 0: it sends, and never receives (no ARP of the namespace
	 * queued on it while it waits to be closed) */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(a->err, errno, "packet socket: %s",
			       strerror(errno));
	memset(&idx, 0, sizeof idx);
	strcpy(idx.ifr_name, a->ifname);
	hw = idx;
	if (ioctl(fd, SIOCGIFINDEX, &idx) < 0 ||
	    ioctl(fd, SIOCGIFHWADDR, &hw) < 0)
		r = err_set(a->err, errno, "%s: %s", a->ifname, strerror(errno));
	else
		r = announce_all(a, fd, &idx, &hw);
	later(close_fd, (void *)(intptr_t)fd);
	return r;
}

int arp_announce(int nsfd, const char *ifname, const uint32_t *addrs,
		 size_t n, char *err)
{
	struct announce a = { ifname, addrs, n, err };

	return n ? netns_call(nsfd, announce_here, &a, err) : 0;
}
