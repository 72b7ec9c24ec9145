/* maasfs agent --state DIR --disks DIR [--dnsmasq PATH]: the network work
 * of a remote cloud, run there over SSH by the maasfs that manages it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../backend/agent.h"
#include "../lib/log.h"
#include "model.h"

int agent_main(int argc, char *argv[])
{
	const char *state = "/var/lib/maasfs-agent";
	const char *disks = "/var/lib/maasfs-agent/disks";
	const char *dnsmasq = "/usr/sbin/dnsmasq";
	char logpath[PATH_MAX];
	int i, r;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--state"))
			state = argv[i + 1];
		else if (!strcmp(argv[i], "--disks"))
			disks = argv[i + 1];
		else if (!strcmp(argv[i], "--dnsmasq"))
			dnsmasq = argv[i + 1];
		else
			break;
	}
	if (i != argc || !path_safe(state) || !path_safe(disks) ||
	    !path_safe(dnsmasq)) {
		fprintf(stderr, "usage: maasfs agent [--state DIR] [--disks DIR] "
			"[--dnsmasq PATH]\n");
		return 2;
	}
	r = mkdir_p(state, 0755);
	if (r) {
		fprintf(stderr, "maasfs agent: cannot create %s: %s\n", state,
			strerror(-r));
		return 1;
	}
	/* The channel's stderr is not read: log to a file. */
	snprintf(logpath, sizeof logpath, "%s/agent.log", state);
	log_init("maasfs-agent", 0, logpath);
	r = agent_serve(0, 1, state, dnsmasq, disks);
	log_close();
	return r ? 1 : 0;
}
