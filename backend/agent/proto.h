/* The agent protocol: the requests of the remote driver (remote/) and the
 * answers of the agent (agent/server.c), over an SSH exec channel (like
 * git-upload-pack).
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
#ifndef MAAS_AGENT_PROTO_H
#define MAAS_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "../../lib/util.h"

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

#endif
