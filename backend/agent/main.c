/* maasfs agent [--state DIR] [--disks DIR] [--images DIR] [--dnsmasq PATH]
 *              [send AREA NAME | receive AREA NAME SIZE | copy |
 *               changed|allocated disks UUID.qcow2 |
 *               patch disks UUID.qcow2 SIZE]
 * The work of a remote cloud, run there over SSH by the maasfs that
 * manages it: without a command, its network work (a request/response
 * protocol on stdin/stdout); send and receive are the two ends of a file
 * copy between clouds (backend/copy/copy.h); copy serves copies one after
 * another, each named by a line on stdin ("send AREA NAME" or "receive
 * AREA NAME SIZE"): started ahead, so that a copy does not wait for an
 * SSH session and the remote shell to start. changed, allocated and patch
 * are a replication's ends (copy.h's copy_repl_*): the blocks a cycle's
 * backup job serves (those changed since its checkpoint, or all the disk's
 * data) sent as a copy's frames, and the replica patched in place. */
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
		"copy |\n"
		"                     changed|allocated disks UUID.qcow2 | "
		"patch disks UUID.qcow2 SIZE]\n");
	return 2;
}

/* Is verb one of a copy's ends? *size: it takes a SIZE. */
static bool copy_verb(const char *verb, bool *size)
{
	*size = !strcmp(verb, "receive") || !strcmp(verb, "patch");
	return *size || !strcmp(verb, "send") || !strcmp(verb, "changed") ||
	       !strcmp(verb, "allocated");
}

/* A replication's end (changed, allocated, patch) of the disk NAME. */
static int repl_main(const struct agent_dirs *d, const char *verb,
		     const char *name, uint64_t size)
{
	char uuid[64], err[ERRLEN] = "";
	struct copy_src *s = NULL;
	struct copy_dst *t = NULL;
	int r;

	snprintf(uuid, sizeof uuid, "%.36s", name);
	if (!uuid_valid(uuid) || strcmp(name + strlen(uuid), ".qcow2"))
		return usage();
	if (!strcmp(verb, "patch")) {
		r = copy_repl_sink(d->disks, uuid, size, &t, err);
		return copy_serve_dst(0, 1, t, size, r, err) ? 1 : 0;
	}
	r = copy_repl_source(d->disks, uuid, !strcmp(verb, "changed"), &s,
			     err);
	return copy_serve_src(1, s, r, err) ? 1 : 0;
}

/* A copy's end: VERB AREA NAME [SIZE], every word checked. */
static int copy_main(const struct agent_dirs *d, int argc, char *argv[])
{
	unsigned long long size = 0;
	enum copy_area area;
	const char *dir;
	char *end = NULL;
	bool sized;
	int r;

	if (!copy_verb(argv[0], &sized) || argc != (sized ? 4 : 3) ||
	    copy_area_parse(argv[1], &area) ||
	    !copy_name_valid(area, argv[2]))
		return usage();
	if (sized) {
		errno = 0;
		size = strtoull(argv[3], &end, 10);
		if (*argv[3] < '0' || *argv[3] > '9' || *end || errno)
			return usage();
	}
	if (strcmp(argv[0], "send") && strcmp(argv[0], "receive"))
		return area == COPY_DISKS ? repl_main(d, argv[0], argv[2], size)
					  : usage();
	dir = area == COPY_IMAGES ? d->images : d->disks;
	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = sized ? copy_serve_receive(0, 1, dir, argv[2], size,
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
		bool sized;
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
		if (nw < 3 || nw > 4 || !copy_verb(words[0], &sized))
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
	bool sized;
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
	if (i < argc && !copy_verb(argv[i], &sized) && strcmp(argv[i], "copy"))
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
