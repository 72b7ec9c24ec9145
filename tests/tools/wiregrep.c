/* wiregrep WORD SECONDS [FILE]: what an eavesdropper on the underlay sees.
 * Reads every frame of the namespace it runs in (a packet socket on all
 * its interfaces, both directions) until SIGTERM or SIGINT, or SECONDS at
 * most, and counts the frames that carry WORD in clear. Prints
 * "frames N bytes B matches M" (to FILE if given, else stdout) and exits
 * 0. Once the socket is open, "ready" is written to stderr. For tests
 * only. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static unsigned char frame[65536];
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long frames = 0, bytes = 0, matches = 0;
	long long end;
	size_t wlen;
	long secs;
	FILE *out = stdout;
	int fd;

	if (argc < 3 || argc > 4 || (wlen = strlen(argv[1])) < 8 ||
	    (secs = atol(argv[2])) <= 0 || secs > 3600) {
		fprintf(stderr, "usage: wiregrep WORD(8+ chars) SECONDS "
			"[FILE]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("wiregrep: packet socket");
		return 1;
	}
	fprintf(stderr, "ready\n");
	end = now_ms() + secs * 1000;
	while (!stop && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(fd, frame, sizeof frame, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		frames++;
		bytes += (unsigned long long)n;
		if ((size_t)n >= wlen && memmem(frame, (size_t)n, argv[1], wlen))
			matches++;
	}
	close(fd);
	if (argc == 4 && !(out = fopen(argv[3], "w"))) {
		perror("wiregrep: output");
		return 1;
	}
	fprintf(out, "frames %llu bytes %llu matches %llu\n", frames, bytes,
		matches);
	return fclose(out) ? 1 : 0;
}
