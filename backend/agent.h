/* maasfs agent: the network work of a remote cloud, done there by the same
 * backend code (net.c) that serves the local host, driven over an SSH exec
 * channel (like git-upload-pack) by a small request/response protocol.
 *
 * A message is a verb and fields, each value length-prefixed so that no
 * value can be mistaken for framing:
 *
 *     VERB N\n
 *     KEY LEN\n<LEN bytes>\n        (N times)
 *
 * A request's verb names the operation (tenant_ensure, subnet_ensure,
 * dhcp_ensure, ...); the answer is "ok" with results, or "err" with
 * "code" (an errno name) and "msg". The agent checks every field against
 * its exact grammar before it acts: it is a trust boundary too. */
#ifndef MAAS_AGENT_H
#define MAAS_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/util.h"
#include "net.h"
#include "xfer.h"

#define AGENT_PROTO 1
#define AGENT_FIELDS 16
#define AGENT_VALUE_MAX (1 << 20)

struct agent_field {
	char key[24];
	struct strbuf val;
};

struct agent_msg {
	char verb[24];
	size_t n;
	struct agent_field f[AGENT_FIELDS];
};

void amsg_init(struct agent_msg *m, const char *verb);
void amsg_free(struct agent_msg *m);
int amsg_put(struct agent_msg *m, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The value of key, or NULL. */
const char *amsg_get(const struct agent_msg *m, const char *key);
int amsg_encode(const struct agent_msg *m, struct strbuf *out);
/* Takes one message from the front of in: 1 when one was taken, 0 when
 * more bytes are needed, -EPROTO when in is not the protocol. */
int amsg_decode(struct strbuf *in, struct agent_msg *out);

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

/* The driver of a remote cloud's network: its requests go to the agent
 * over one SSH session, reused; a background check keeps its status and
 * the answers that reads need (dnsmasq pids, leases, consoles), so that
 * reads never wait on the cloud. */
struct agent_conf {
	const char *cloud;
	struct xfer_conf ssh;
	const char *agent;        /* path of maasfs on the cloud */
	const char *statedir;     /* the agent's state directory there */
	const char *disks;        /* the cloud's disk directory */
	const char *images;       /* and its image directory */
	const char *marker;
};

struct netdrv *netdrv_agent_new(const struct agent_conf *c, char *err);

#endif
