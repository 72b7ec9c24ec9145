/* SSH through libssh: a session to a cloud (host key checked against
 * known_hosts, key authentication only, the socket opened from the cloud's
 * namespace), and exec channels over it (the agent, disk copies). Every
 * libssh error is translated here, once. */
#ifndef MAAS_XFER_H
#define MAAS_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "libssh 0.10.6" into buf. */
void sess_version(char *buf, size_t len);

struct sess_conf {
	const char *host;
	unsigned port;
	const char *user;
	const char *key;           /* private key file */
	const char *known_hosts;
	const char *netns;         /* NULL: this process's namespace */
	int timeout_ms;            /* connect and read timeout */
};

struct sess_session;
struct sess_chan;

/* Connects, checks the host key (an unknown or changed key is refused:
 * -EACCES with the reason), authenticates with the key. An unreachable
 * host is -EHOSTUNREACH, a slow one -ETIMEDOUT. */
int sess_connect(const struct sess_conf *c, struct sess_session **out,
		 char *err);
void sess_close(struct sess_session *s);
/* Runs cmd on the host; its stdin and stdout are the channel. */
int sess_exec(struct sess_session *s, const char *cmd, struct sess_chan **out,
	      char *err);
int sess_write(struct sess_chan *ch, const void *buf, size_t len, char *err);
/* Up to len bytes within timeout_ms: the count, 0 at end of file, -errno
 * (-ETIMEDOUT when nothing came). */
ssize_t sess_read(struct sess_chan *ch, void *buf, size_t len,
		  int timeout_ms, char *err);
void sess_chan_close(struct sess_chan *ch);

#endif
