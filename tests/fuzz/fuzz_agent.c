/* The agent protocol, both ways: any bytes from the other end of the SSH
 * channel decode into messages or -EPROTO, never more; a message decoded
 * encodes back into bytes that decode to the same message. */
#include "fuzz.h"

#include <errno.h>

#include "../../backend/agent/proto.h"

static void same(const struct agent_msg *a, const struct agent_msg *b)
{
	size_t i;

	if (strcmp(a->verb, b->verb) || a->n != b->n)
		abort();
	for (i = 0; i < a->n; i++)
		if (strcmp(a->f[i].key, b->f[i].key) ||
		    a->f[i].val.len != b->f[i].val.len ||
		    memcmp(sb_str(&a->f[i].val), sb_str(&b->f[i].val),
			   a->f[i].val.len))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf in = STRBUF_INIT, again = STRBUF_INIT;
	int r, rounds = 0;

	sb_append(&in, (const char *)data, size);
	do {
		struct agent_msg m, back;

		r = amsg_decode(&in, &m);
		if (r != 1)
			break;
		sb_reset(&again);
		if (amsg_encode(&m, &again) == 0) {
			if (amsg_decode(&again, &back) != 1)
				abort();
			same(&m, &back);
			amsg_free(&back);
		}
		amsg_free(&m);
	} while (++rounds < 64);
	if (r < 0 && r != -EPROTO)
		abort();
	sb_free(&in);
	sb_free(&again);
	return 0;
}
