#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *ring[EVENTS_KEEP];   /* line of sequence s at s % EVENTS_KEEP */
	uint64_t head;             /* sequence of the next line */
	bool down;
	void (*on_new)(void *ctx);
	void *ctx;
};

#define TICK_MS 200

struct events *events_new(void)
{
	struct events *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	pthread_mutex_init(&e->lock, NULL);
	cond_init_monotonic(&e->cond);
	return e;
}

void events_shutdown(struct events *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->down = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

void events_free(struct events *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < EVENTS_KEEP; i++)
		free(e->ring[i]);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void events_on_new(struct events *e, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&e->lock);
	e->on_new = fn;
	e->ctx = ctx;
	pthread_mutex_unlock(&e->lock);
}

static void stamp(char buf[32])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Anything but printable ASCII before the final newline becomes '?': one
 * event, one line. */
static void clean_line(char *s)
{
	for (; s[0] && s[1]; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static void push(struct events *e, char *line)
{
	void (*fn)(void *) = NULL;
	void *ctx = NULL;
	size_t slot;

	pthread_mutex_lock(&e->lock);
	slot = e->head % EVENTS_KEEP;
	free(e->ring[slot]);
	e->ring[slot] = line;
	e->head++;
	pthread_cond_broadcast(&e->cond);
	fn = e->on_new;
	ctx = e->ctx;
	pthread_mutex_unlock(&e->lock);
	if (fn)
		fn(ctx);
}

void events_emit(struct events *e, const char *path, const char *fmt, ...)
{
	char when[32], what[EVENTS_LINE_MAX], *line;
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	stamp(when);
	if (asprintf(&line, "%s %s %s\n", when, path, what) < 0)
		return;
	clean_line(line);
	push(e, line);
}

static void quote(const char *v, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[o++] = '"';
	for (i = 0; i < n && o + 6 < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (i == n - 1 && c == '\n')
			break;     /* echo's newline is not part of the value */
		if (i >= 80) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

void events_op(struct events *e, const char *path, const char *op,
	       const char *value, size_t vlen, int r, const char *err)
{
	char v[400] = "";

	if (value) {
		v[0] = ' ';
		quote(value, vlen, v + 1, sizeof v - 1);
	}
	if (r >= 0)
		events_emit(e, path, "%s%s: ok", op, v);
	else
		events_emit(e, path, "%s%s: failed %s: %s", op, v,
			    errno_name(-r), err && *err ? err : strerror(-r));
}

void events_open(struct events *e, struct events_cursor *c)
{
	pthread_mutex_lock(&e->lock);
	c->next = e->head > EVENTS_KEEP ? e->head - EVENTS_KEEP : 0;
	pthread_mutex_unlock(&e->lock);
}

bool events_ready(struct events *e, const struct events_cursor *c)
{
	bool r;

	pthread_mutex_lock(&e->lock);
	r = c->next < e->head || e->down;
	pthread_mutex_unlock(&e->lock);
	return r;
}

int events_read(struct events *e, struct events_cursor *c, size_t max,
		bool wait, bool (*interrupted)(void), struct strbuf *out)
{
	uint64_t oldest;
	int r = 0;

	pthread_mutex_lock(&e->lock);
	while (c->next >= e->head && !e->down) {
		struct timespec ts;

		if (!wait) {
			r = -EAGAIN;
			goto out;
		}
		if (interrupted && interrupted()) {
			r = -EINTR;
			goto out;
		}
		deadline_in(&ts, TICK_MS);
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	oldest = e->head > EVENTS_KEEP ? e->head - EVENTS_KEEP : 0;
	if (c->next < oldest) {
		char when[32];

		stamp(when);
		sb_printf(out, "%s / dropped %llu events: the reader fell "
			  "behind\n", when,
			  (unsigned long long)(oldest - c->next));
		c->next = oldest;
	}
	while (c->next < e->head) {
		const char *line = e->ring[c->next % EVENTS_KEEP];
		size_t n = strlen(line);

		if (out->len > 0 && out->len + n > max)
			break;
		if (sb_append(out, line, n)) {
			r = -ENOMEM;
			break;
		}
		c->next++;
	}
out:
	pthread_mutex_unlock(&e->lock);
	return r;
}
