/* Deferred releases (later.h). */
#include "later.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "../../lib/log.h"

#define LATER_MAX 32

struct call {
	void (*fn)(void *);
	void *arg;
	struct timespec due;   /* CLOCK_MONOTONIC */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct call q[LATER_MAX];   /* a ring: head, n */
	size_t head, n;
	bool started;
} lq = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The oldest queued call, taken off the ring (lq.lock held). */
static struct call oldest(void)
{
	struct call c = lq.q[lq.head];

	lq.head = (lq.head + 1) % LATER_MAX;
	lq.n--;
	return c;
}

/* The oldest queued call is due (lq.lock held, n > 0). */
static bool due(void)
{
	const struct timespec *d = &lq.q[lq.head].due;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec ||
	       (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static void *runner(void *arg)
{
	struct call c;

	(void)arg;
	pthread_mutex_lock(&lq.lock);
	for (;;) {
		while (lq.n == 0)
			pthread_cond_wait(&lq.cond, &lq.lock);
		if (!due()) {   /* or woken early: look again */
			pthread_cond_timedwait(&lq.cond, &lq.lock,
					       &lq.q[lq.head].due);
			continue;
		}
		c = oldest();
		pthread_mutex_unlock(&lq.lock);
		c.fn(c.arg);
		pthread_mutex_lock(&lq.lock);
	}
	return NULL;
}

static void start(void)
{
	pthread_condattr_t ca;
	sigset_t old;
	pthread_t t;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lq.cond, &ca);
	pthread_condattr_destroy(&ca);
	log_block_signals(&old);   /* signals stay with the serving threads */
	if (pthread_create(&t, NULL, runner, NULL) == 0) {
		pthread_detach(t);
		lq.started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void later(void (*fn)(void *), void *arg)
{
	struct call c = { fn, arg, { 0, 0 } }, run = { 0 };
	bool now = true;

	clock_gettime(CLOCK_MONOTONIC, &c.due);
	c.due.tv_nsec += LATER_MS * 1000000L;
	if (c.due.tv_nsec >= 1000000000L) {
		c.due.tv_sec++;
		c.due.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&lq.lock);
	if (!lq.started)
		start();
	if (lq.started) {
		if (lq.n == LATER_MAX)
			run = oldest();
		lq.q[(lq.head + lq.n++) % LATER_MAX] = c;
		if (lq.n == 1)
			pthread_cond_broadcast(&lq.cond);
		now = false;
	}
	pthread_mutex_unlock(&lq.lock);
	if (run.fn)
		run.fn(run.arg);
	if (now)   /* no thread could be had */
		fn(arg);
}
