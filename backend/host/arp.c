/* Gratuitous ARP (arp.h), over a packet socket (RFC 5227 §3: an ARP
 * request whose sender and target address are both the one announced). */
#include "arp.h"

#include <arpa/inet.h>
#include <errno.h>
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
#include "netns.h"

struct announce {
	const char *ifname;
	uint32_t addr;
	char *err;
};

static int announce_here(void *arg)
{
	struct announce *a = arg;
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ARP),
				  .sll_halen = ETH_ALEN };
	struct ether_arp p;
	struct ifreq ifr;
	uint32_t be = htonl(a->addr);
	int fd, r = 0;

	if (strlen(a->ifname) >= sizeof ifr.ifr_name)
		return err_set(a->err, EINVAL, "bad link name");
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return err_set(a->err, errno, "packet socket: %s",
			       strerror(errno));
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, a->ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		r = err_set(a->err, errno, "%s: %s", a->ifname, strerror(errno));
		goto out;
	}
	to.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		r = err_set(a->err, errno, "%s: %s", a->ifname, strerror(errno));
		goto out;
	}
	memset(to.sll_addr, 0xff, ETH_ALEN);
	memset(&p, 0, sizeof p);
	p.arp_hrd = htons(ARPHRD_ETHER);
	p.arp_pro = htons(ETHERTYPE_IP);
	p.arp_hln = ETH_ALEN;
	p.arp_pln = 4;
	p.arp_op = htons(ARPOP_REQUEST);
	memcpy(p.arp_sha, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memcpy(p.arp_spa, &be, 4);
	memcpy(p.arp_tpa, &be, 4);
	if (sendto(fd, &p, sizeof p, 0, (struct sockaddr *)&to, sizeof to) < 0)
		r = err_set(a->err, errno, "gratuitous ARP on %s: %s",
			    a->ifname, strerror(errno));
out:
	close(fd);
	return r;
}

int arp_announce(int nsfd, const char *ifname, uint32_t addr, char *err)
{
	struct announce a = { ifname, addr, err };

	return netns_call(nsfd, announce_here, &a, err);
}
