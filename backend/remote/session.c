#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "../../lib/log.h"
#include "../../lib/util.h"
#include "../host/netns.h"

void sess_version(char *buf, size_t len)
{
	const char *v = ssh_version(0);

	snprintf(buf, len, "libssh %.*s", (int)strcspn(v, "/"), v);
}

struct sess_session {
	ssh_session ssh;
	char host[256];
};

struct sess_chan {
	struct sess_session *s;
	ssh_channel ch;
};

/* The one place libssh's errors become errno. In the connect phase a
 * failure means the cloud cannot be reached; the text says why. */
static int sess_fail(ssh_session ssh, bool connecting, char *err,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int sess_fail(ssh_session ssh, bool connecting, char *err,
		     const char *fmt, ...)
{
	const char *why = ssh ? ssh_get_error(ssh) : "";
	int code = connecting ? EHOSTUNREACH : EIO;
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (strcasestr(why, "timeout") || strcasestr(why, "timed out"))
		code = ETIMEDOUT;
	else if (ssh && ssh_get_error_code(ssh) == SSH_REQUEST_DENIED)
		code = EACCES;
	return err_set(err, code, "%s: %s", what, *why ? why : "ssh error");
}

/* Host keys: only a key known_hosts lists for this host is accepted. */
static int check_host_key(ssh_session ssh, const char *host, char *err)
{
	switch (ssh_session_is_known_server(ssh)) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
		return err_set(err, EACCES, "host key of %s has changed: "
			       "refused", host);
	case SSH_KNOWN_HOSTS_OTHER:
		return err_set(err, EACCES, "host key of %s is of another type "
			       "than known: refused", host);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		return err_set(err, EACCES, "host key of %s is not in "
			       "known_hosts: refused", host);
	default:
		return sess_fail(ssh, false, err, "checking the host key of %s",
				 host);
	}
}

/* ssh_connect from the cloud's namespace (libssh makes its socket in the
 * calling thread's). 0 when connected, 1 when ssh_connect failed (libssh
 * holds the reason), -errno for trouble with the namespace itself. */
static int connect_in_netns(ssh_session ssh, const char *netns, char *err)
{
	int self, fd, r;

	if (!netns || !*netns)
		return ssh_connect(ssh) == SSH_OK ? 0 : 1;
	fd = netns_open(netns);
	if (fd < 0)
		return err_set(err, EHOSTUNREACH, "no network namespace %s",
			       netns);
	self = netns_open_self();
	if (self < 0 || netns_enter(fd)) {
		close(fd);
		if (self >= 0)
			close(self);
		return err_set(err, EIO, "entering namespace %s", netns);
	}
	r = ssh_connect(ssh) == SSH_OK ? 0 : 1;
	if (netns_enter(self))
		abort();   /* a thread stranded in another namespace */
	close(self);
	close(fd);
	return r;
}

int sess_connect(const struct sess_conf *c, struct sess_session **out,
		 char *err)
{
	struct sess_session *s = calloc(1, sizeof *s);
	ssh_key key = NULL;
	long timeout = c->timeout_ms > 0 ? (c->timeout_ms + 999) / 1000 : 10;
	int port = (int)c->port, one = 1, r;
	bool no = false;

	if (!s)
		return err_set(err, ENOMEM, "out of memory");
	snprintf(s->host, sizeof s->host, "%s", c->host);
	s->ssh = ssh_new();
	if (!s->ssh) {
		free(s);
		return err_set(err, ENOMEM, "out of memory");
	}
	ssh_options_set(s->ssh, SSH_OPTIONS_HOST, c->host);
	ssh_options_set(s->ssh, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s->ssh, SSH_OPTIONS_USER, c->user);
	ssh_options_set(s->ssh, SSH_OPTIONS_KNOWNHOSTS, c->known_hosts);
	ssh_options_set(s->ssh, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, c->known_hosts);
	ssh_options_set(s->ssh, SSH_OPTIONS_TIMEOUT, &timeout);
	ssh_options_set(s->ssh, SSH_OPTIONS_NODELAY, &one);
	ssh_options_set(s->ssh, SSH_OPTIONS_PROCESS_CONFIG, &no);
	r = connect_in_netns(s->ssh, c->netns, err);
	if (r > 0)
		r = sess_fail(s->ssh, true, err, "ssh to %s:%u", c->host,
			      c->port);
	if (r)
		goto fail;
	r = check_host_key(s->ssh, c->host, err);
	if (r)
		goto fail;
	if (ssh_pki_import_privkey_file(c->key, NULL, NULL, NULL, &key) !=
	    SSH_OK) {
		r = err_set(err, EACCES, "cannot read the private key %s",
			    c->key);
		goto fail;
	}
	if (ssh_userauth_publickey(s->ssh, NULL, key) != SSH_AUTH_SUCCESS) {
		r = sess_fail(s->ssh, false, err, "key authentication as %s "
			      "on %s", c->user, c->host);
		if (r == -EIO)
			r = err_set(err, EACCES, "key authentication as %s on "
				    "%s refused", c->user, c->host);
		goto fail;
	}
	ssh_key_free(key);
	*out = s;
	return 0;
fail:
	ssh_key_free(key);
	sess_close(s);
	return r;
}

void sess_close(struct sess_session *s)
{
	if (!s)
		return;
	if (ssh_is_connected(s->ssh))
		ssh_disconnect(s->ssh);
	ssh_free(s->ssh);
	free(s);
}

int sess_exec(struct sess_session *s, const char *cmd, struct sess_chan **out,
	      char *err)
{
	struct sess_chan *c = calloc(1, sizeof *c);

	if (!c)
		return err_set(err, ENOMEM, "out of memory");
	c->s = s;
	c->ch = ssh_channel_new(s->ssh);
	if (!c->ch || ssh_channel_open_session(c->ch) != SSH_OK ||
	    ssh_channel_request_exec(c->ch, cmd) != SSH_OK) {
		int r = sess_fail(s->ssh, false, err, "running '%.60s' on %s",
				  cmd, s->host);
		sess_chan_close(c);
		return r;
	}
	*out = c;
	return 0;
}

int sess_write(struct sess_chan *c, const void *buf, size_t len, char *err)
{
	const char *p = buf;

	while (len > 0) {
		int n = ssh_channel_write(c->ch, p, (uint32_t)(len > 65536 ? 65536
								   : len));
		if (n == SSH_ERROR || n <= 0)
			return sess_fail(c->s->ssh, false, err, "writing to %s",
					 c->s->host);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t sess_read(struct sess_chan *c, void *buf, size_t len, int timeout_ms,
		  char *err)
{
	int n = ssh_channel_read_timeout(c->ch, buf, (uint32_t)len, 0,
					 timeout_ms);

	if (n == SSH_ERROR)
		return sess_fail(c->s->ssh, false, err, "reading from %s",
				 c->s->host);
	if (n > 0)
		return n;
	if (ssh_channel_is_eof(c->ch) || !ssh_channel_is_open(c->ch))
		return 0;
	return err_set(err, ETIMEDOUT, "%s did not answer within %d ms",
		       c->s->host, timeout_ms);
}

void sess_chan_close(struct sess_chan *c)
{
	if (!c)
		return;
	if (c->ch) {
		if (ssh_channel_is_open(c->ch)) {
			ssh_channel_send_eof(c->ch);
			ssh_channel_close(c->ch);
		}
		ssh_channel_free(c->ch);
	}
	free(c);
}
