/* The relay of a copy (relay.h): a reader thread takes frames from the
 * source into RELAY_SLOTS buffers while the caller's thread writes them to
 * the target, so that the two ends (two SSH connections, say) work at
 * once. The source belongs to the reader until it ends (join), the target
 * to the caller. */
#include "relay.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RELAY_SLOTS 4
#define RELAY_CHUNK (1u << 20)
#define RELAY_PROGRESS_MS 100

struct relay {
	struct copy_src *s;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* protected by lock: */
	unsigned char *buf[RELAY_SLOTS];
	uint64_t off[RELAY_SLOTS];
	size_t len[RELAY_SLOTS];
	size_t head, count;          /* filled slots: head .. head+count-1 */
	bool ended;                  /* the reader is done: r says how */
	bool stop;                   /* the writer gave up */
	ssize_t r;                   /* 0 at the end of the file, or -errno */
	char err[ERRLEN];
};

static void *relay_reader(void *arg)
{
	struct relay *rl = arg;
	char err[ERRLEN] = "";
	ssize_t n;

	for (;;) {
		size_t slot;
		uint64_t off;

		pthread_mutex_lock(&rl->lock);
		while (!rl->stop && rl->count == RELAY_SLOTS)
			pthread_cond_wait(&rl->cond, &rl->lock);
		if (rl->stop) {
			rl->ended = true;
			pthread_cond_broadcast(&rl->cond);
			pthread_mutex_unlock(&rl->lock);
			return NULL;
		}
		slot = (rl->head + rl->count) % RELAY_SLOTS;
		pthread_mutex_unlock(&rl->lock);
		/* the slot is the reader's until counted in */
		n = copy_src_read(rl->s, &off, rl->buf[slot], RELAY_CHUNK,
				  err);
		pthread_mutex_lock(&rl->lock);
		if (n <= 0) {
			rl->r = n;
			snprintf(rl->err, sizeof rl->err, "%s", err);
			rl->ended = true;
			pthread_cond_broadcast(&rl->cond);
			pthread_mutex_unlock(&rl->lock);
			return NULL;
		}
		rl->off[slot] = off;
		rl->len[slot] = (size_t)n;
		rl->count++;
		pthread_cond_broadcast(&rl->cond);
		pthread_mutex_unlock(&rl->lock);
	}
}

static void tell(const struct relay_opts *o, uint64_t done, uint64_t total,
		 int64_t t0)
{
	int64_t el = clock_ms() - t0;

	if (o->progress)
		o->progress(o->ctx, done, total,
			    el > 0 ? done * 1000 / (uint64_t)el : 0);
}

static bool cancelled(const struct relay_opts *o)
{
	return o->cancelled && o->cancelled(o->ctx);
}

/* The cap on bandwidth: ahead of it, wait (and listen). */
static void pace(const struct relay_opts *o, uint64_t done, int64_t t0)
{
	while (o->bandwidth && !cancelled(o) &&
	       (int64_t)(done * 1000 / o->bandwidth) > clock_ms() - t0)
		usleep(20000);
}

/* The caller's side: writes the slots the reader fills, in order, until
 * the reader ends or a write fails or the caller gives up. */
static int drain(struct relay *rl, struct copy_dst *d,
		 const struct relay_opts *o, uint64_t total, char *err)
{
	uint64_t done = 0;
	int64_t t0 = clock_ms(), last = 0;
	int r = 0;

	while (r == 0) {
		size_t slot;

		pthread_mutex_lock(&rl->lock);
		while (rl->count == 0 && !rl->ended)
			pthread_cond_wait(&rl->cond, &rl->lock);
		if (rl->count == 0) {   /* ended, all written */
			pthread_mutex_unlock(&rl->lock);
			break;
		}
		slot = rl->head;
		pthread_mutex_unlock(&rl->lock);
		r = copy_dst_write(d, rl->off[slot], rl->buf[slot],
				   rl->len[slot], err);
		done += rl->len[slot];
		pthread_mutex_lock(&rl->lock);
		rl->head = (rl->head + 1) % RELAY_SLOTS;
		rl->count--;
		pthread_cond_broadcast(&rl->cond);
		pthread_mutex_unlock(&rl->lock);
		if (r)
			break;
		pace(o, done, t0);
		if (cancelled(o))
			return err_set(err, EINTR, "cancelled by the caller");
		if (clock_ms() - last >= RELAY_PROGRESS_MS) {
			last = clock_ms();
			tell(o, done, total, t0);
		}
	}
	if (r == 0)
		tell(o, done, total, t0);
	return r;
}

int copy_relay(struct copy_src *s, struct copy_dst *d,
	       const struct relay_opts *o, char *err)
{
	struct relay rl = { .s = s };
	pthread_t th;
	bool started = false;
	size_t i;
	int r = 0;

	for (i = 0; i < RELAY_SLOTS && r == 0; i++)
		if (!(rl.buf[i] = malloc(RELAY_CHUNK)))
			r = err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&rl.lock, NULL);
	pthread_cond_init(&rl.cond, NULL);
	if (r == 0 && o->progress)
		o->progress(o->ctx, 0, s->data, 0);
	if (r == 0) {
		r = pthread_create(&th, NULL, relay_reader, &rl);
		if (r)
			r = err_set(err, r, "copy thread: %s", strerror(r));
		else
			started = true;
	}
	if (r == 0)
		r = drain(&rl, d, o, s->data, err);
	pthread_mutex_lock(&rl.lock);
	rl.stop = true;
	pthread_cond_broadcast(&rl.cond);
	pthread_mutex_unlock(&rl.lock);
	if (started)
		pthread_join(th, NULL);   /* the source is ours again */
	if (r == 0 && rl.r < 0) {
		r = (int)rl.r;
		snprintf(err, ERRLEN, "%s", rl.err);
	}
	if (r == 0)
		r = copy_dst_finish(d, s->sum, err);
	else
		copy_dst_abort(d);
	pthread_mutex_destroy(&rl.lock);
	pthread_cond_destroy(&rl.cond);
	for (i = 0; i < RELAY_SLOTS; i++)
		free(rl.buf[i]);
	return r;
}
