/* The driver of a remote cloud's host (host.h): its work is done by the
 * agent (agent/) there, over SSH (session.h). */
#ifndef MAAS_REMOTE_H
#define MAAS_REMOTE_H

#include "../host.h"
#include "session.h"

/* The driver of a remote cloud's network: its requests go to the agent
 * over one SSH session, reused; a background check keeps its status and
 * the answers that reads need (dnsmasq pids, leases, consoles), so that
 * reads never wait on the cloud. */
struct remote_conf {
	const char *cloud;
	struct sess_conf ssh;
	const char *agent;        /* path of maasfs on the cloud */
	const char *statedir;     /* the agent's state directory there */
	const char *disks;        /* the cloud's disk directory */
	const char *images;       /* and its image directory */
	const char *marker;
};

struct hostdrv *remote_new(const struct remote_conf *c, char *err);

#endif
