/* maasfs agent [--state DIR] [--disks DIR] [--images DIR] [--dnsmasq PATH]
 *              [send AREA NAME | receive AREA NAME SIZE | copy]
 * The work of a remote cloud, run there over SSH by the maasfs that
 * manages it: without a command, its network work (a request/response
 * protocol on stdin/stdout); send and receive are the two ends of a file
 * copy between clouds (backend/copy/copy.h); copy serves copies one after
 * another, each named by a line on stdin ("send AREA NAME" or "receive
 * AREA NAME SIZE"): started ahead, so that a copy does not wait for an
 * SSH session and the remote shell to start. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "../copy/copy.h"
#include "../../lib/log.h"

static int usage(void)
{
	fprintf(stderr, "usage: maasfs agent [--state DIR] [--disks DIR] "
		"[--images DIR] [--dnsmasq PATH]\n"
		"                    [send AREA NAME | receive AREA NAME SIZE | "
		"copy]\n");
	return 2;
}

/* A copy's end: AREA NAME [SIZE], every word checked. */
static int copy_main(const struct agent_dirs *d, int argc, char *argv[])
{
	bool receive = !strcmp(argv[0], "receive");
	unsigned long long size = 0;
	enum copy_area area;
	const char *dir;
	char *end = NULL;
	int r;

	if (argc != (receive ? 4 : 3) || copy_area_parse(argv[1], &area) ||
	    !copy_name_valid(area, argv[2]))
		return usage();
	if (receive) {
		errno = 0;
		size = strtoull(argv[3], &end, 10);
		if (*argv[3] < '0' || *argv[3] > '9' || *end || errno)
			return usage();
	}
	dir = area == COPY_IMAGES ? d->images : d->disks;
	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = receive ? copy_serve_receive(0, 1, dir, argv[2], size,
						 area == COPY_IMAGES ? 0644
								     : 0600)
			    : copy_serve_send(1, dir, argv[2]);
	return r ? 1 : 0;
}

/* copy: one copy after another, each named by a line read a byte at a
 * time (what follows it is the copy's stream), split into words, checked
 * as the command line is. The end of stdin ends it; so does a failure. */
static int copy_ahead(const struct agent_dirs *d)
{
	for (;;) {
		char line[256], *words[5], *save = NULL, *w;
		size_t n = 0;
		int nw = 0, r;

		for (;;) {
			ssize_t k = read(0, line + n, 1);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return n ? usage() : 0;   /* a quiet end */
			if (line[n] == '\n')
				break;
			if (++n == sizeof line)
				return usage();
		}
		line[n] = '\0';
		for (w = strtok_r(line, " ", &save); w && nw < 5;
		     w = strtok_r(NULL, " ", &save))
			words[nw++] = w;
		if (nw < 3 || nw > 4 || (strcmp(words[0], "send") &&
					 strcmp(words[0], "receive")))
			return usage();
		r = copy_main(d, nw, words);
		if (r)
			return r;
	}
}

int agent_main(int argc, char *argv[])
{
	struct agent_dirs d = {
		.statedir = "/var/lib/maasfs-agent",
		.disks = "/var/lib/maasfs-agent/disks",
		.images = "/var/lib/maasfs-agent/images",
		.dnsmasq = "/usr/sbin/dnsmasq",
	};
	char logpath[PATH_MAX];
	int i, r;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--state"))
			d.statedir = argv[i + 1];
		else if (!strcmp(argv[i], "--disks"))
			d.disks = argv[i + 1];
		else if (!strcmp(argv[i], "--images"))
			d.images = argv[i + 1];
		else if (!strcmp(argv[i], "--dnsmasq"))
			d.dnsmasq = argv[i + 1];
		else
			return usage();
	}
	if (!path_safe(d.statedir) || !path_safe(d.disks) ||
	    !path_safe(d.images) || !path_safe(d.dnsmasq))
		return usage();
	if (i < argc && strcmp(argv[i], "send") && strcmp(argv[i], "receive") &&
	    strcmp(argv[i], "copy"))
		return usage();
	if (i < argc && !strcmp(argv[i], "copy") && i + 1 != argc)
		return usage();
	r = mkdir_p(d.statedir, 0755);
	if (r) {
		fprintf(stderr, "maasfs agent: cannot create %s: %s\n",
			d.statedir, strerror(-r));
		return 1;
	}
	/* The channel's stderr is not read: log to a file. */
	snprintf(logpath, sizeof logpath, "%s/agent.log", d.statedir);
	log_init("maasfs-agent", 0, logpath);
	log_fatal_signals();
	if (i < argc && !strcmp(argv[i], "copy"))
		r = copy_ahead(&d);
	else if (i < argc)
		r = copy_main(&d, argc - i, argv + i);
	else
		r = agent_serve(0, 1, &d) ? 1 : 0;
	log_close();
	return r;
}
