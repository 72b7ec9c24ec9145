/* maasfs agent: the work of a remote cloud, done there by the same local
 * host driver (host/) that serves this host, for requests of the agent
 * protocol (proto.h) on stdin, answers on stdout; and the copies of files
 * between clouds (copy/). */
#ifndef MAAS_AGENT_H
#define MAAS_AGENT_H

/* Where the agent works on its cloud: statedir holds its dnsmasq files,
 * disks the VMs' disks and console logs, images the images. */
struct agent_dirs {
	const char *statedir;
	const char *dnsmasq;
	const char *disks;
	const char *images;
};

/* The agent itself: serves requests from in to out until end of file. */
int agent_serve(int in, int out, const struct agent_dirs *dirs);

/* maasfs agent [--state DIR] [--disks DIR] [--images DIR] ... (main.c) */
int agent_main(int argc, char *argv[]);

#endif
