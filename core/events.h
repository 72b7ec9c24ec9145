/* The events file (DESIGN §4): one line per event, kept in a bounded ring
 * that every reader follows at its own pace, like `tail -f`. A reader that
 * falls more than the ring behind loses the oldest lines and is told how
 * many; maasfs never waits for a reader. */
#ifndef MAAS_EVENTS_H
#define MAAS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/util.h"

#define EVENTS_KEEP 1024      /* lines kept for readers that lag */
#define EVENTS_LINE_MAX 512

struct events;
struct model;

struct events *events_new(void);
/* Wakes every blocked reader for good (unmount). */
void events_shutdown(struct events *e);
void events_free(struct events *e);
/* Called after each new line (fs/ uses it to wake poll()ers). */
void events_on_new(struct events *e, void (*fn)(void *ctx), void *ctx);

/* "TIME PATH WHAT" with TIME the UTC time in milliseconds. */
void events_emit(struct events *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An operation on PATH: "mkdir", "write VALUE", ... and its outcome:
 * "ok", or "failed ENAME: reason". The value is shown with anything but
 * printable ASCII escaped, and cut at 80 characters. */
void events_op(struct events *e, const char *path, const char *op,
	       const char *value, size_t vlen, int r, const char *err);

/* A reader's place: the sequence number of the next line it reads. */
struct events_cursor {
	uint64_t next;
};

/* A new reader starts with the lines still kept, then follows. */
void events_open(struct events *e, struct events_cursor *c);
/* Whether a read would return at once. */
bool events_ready(struct events *e, const struct events_cursor *c);
/* Appends whole lines (at most max bytes, at least one line) to out. With
 * wait, blocks until there is one; interrupted (may be NULL) is asked
 * every tick and makes it -EINTR. Without wait and nothing new: -EAGAIN.
 * After events_shutdown: 0 with nothing (end of file). */
int events_read(struct events *e, struct events_cursor *c, size_t max,
		bool wait, bool (*interrupted)(void), struct strbuf *out);

#endif
