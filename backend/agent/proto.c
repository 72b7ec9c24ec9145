/* The agent protocol's messages: building, encoding, decoding. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

void amsg_init(struct agent_msg *m, const char *verb)
{
	memset(m, 0, sizeof *m);
	snprintf(m->verb, sizeof m->verb, "%s", verb);
}

void amsg_free(struct agent_msg *m)
{
	size_t i;

	for (i = 0; i < AGENT_FIELDS; i++)
		sb_free(&m->f[i].val);
	m->n = 0;
}

int amsg_put(struct agent_msg *m, const char *key, const char *fmt, ...)
{
	struct agent_field *f;
	va_list ap;
	int n;

	if (m->n == AGENT_FIELDS)
		return -E2BIG;
	f = &m->f[m->n++];
	snprintf(f->key, sizeof f->key, "%s", key);
	sb_reset(&f->val);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_reserve(&f->val, (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(f->val.s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	f->val.len = (size_t)n;
	return 0;
}

const char *amsg_get(const struct agent_msg *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->f[i].key, key))
			return sb_str(&m->f[i].val);
	return NULL;
}

int amsg_encode(const struct agent_msg *m, struct strbuf *out)
{
	size_t i;
	int r = sb_printf(out, "%s %zu\n", m->verb, m->n);

	for (i = 0; i < m->n && r == 0; i++) {
		r = sb_printf(out, "%s %zu\n", m->f[i].key, m->f[i].val.len);
		if (r == 0)
			r = sb_append(out, sb_str(&m->f[i].val),
				      m->f[i].val.len);
		if (r == 0)
			r = sb_puts(out, "\n");
	}
	return r;
}

static bool word_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	return true;
}

/* One "WORD NUMBER\n" line at p: the word's length, the number, and the
 * bytes the line takes; 0 if incomplete, -1 if malformed. */
static int header(const char *p, size_t avail, size_t max_word, size_t *wlen,
		  unsigned long *num, size_t *used)
{
	const char *nl = memchr(p, '\n', avail);
	const char *sp;
	char *end;

	if (!nl)
		return avail > 64 ? -1 : 0;
	sp = memchr(p, ' ', (size_t)(nl - p));
	if (!sp || !word_ok(p, (size_t)(sp - p), max_word) || sp[1] < '0' ||
	    sp[1] > '9')
		return -1;
	*num = strtoul(sp + 1, &end, 10);
	if (end != nl)
		return -1;
	*wlen = (size_t)(sp - p);
	*used = (size_t)(nl - p) + 1;
	return 1;
}

int amsg_decode(struct strbuf *in, struct agent_msg *out)
{
	const char *p = sb_str(in);
	size_t avail = in->len, at = 0, wlen, used, i;
	unsigned long n, len;
	int r;

	r = header(p, avail, sizeof out->verb, &wlen, &n, &used);
	if (r <= 0)
		return r < 0 ? -EPROTO : 0;
	if (n > AGENT_FIELDS)
		return -EPROTO;
	amsg_init(out, "");
	memcpy(out->verb, p, wlen);
	out->verb[wlen] = '\0';
	at = used;
	for (i = 0; i < n; i++) {
		r = header(p + at, avail - at, sizeof out->f[0].key, &wlen,
			   &len, &used);
		if (r <= 0)
			goto partial;
		if (len > AGENT_VALUE_MAX)
			goto bad;
		if (avail - at - used < len + 1)
			goto need_more;
		memcpy(out->f[i].key, p + at, wlen);
		out->f[i].key[wlen] = '\0';
		sb_reset(&out->f[i].val);
		if (sb_append(&out->f[i].val, p + at + used, len))
			goto bad;
		if (p[at + used + len] != '\n')
			goto bad;
		at += used + len + 1;
		out->n = i + 1;
	}
	/* Consumed: move what follows to the front. */
	memmove(in->s, in->s + at, in->len - at);
	in->len -= at;
	in->s[in->len] = '\0';
	return 1;
partial:
	if (r < 0)
		goto bad;
need_more:
	amsg_free(out);
	return 0;
bad:
	amsg_free(out);
	return -EPROTO;
}
