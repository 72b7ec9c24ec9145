/* The janitor thread (janitor.h). */
#include "janitor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "ports.h"
#include "sweep.h"

#define JANITOR_TICK_MS 1000
#define JANITOR_RETRY_MS 10000   /* after a sweep that left work */
#define JANITOR_TRIM_MS 10000    /* how often the clouds' logs are bounded */

struct janitor {
	struct model *m;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* protected by lock: */
	bool stop;
	uint64_t wanted;             /* clouds to sweep, by index */
	bool running;
	pthread_t thread;
	/* the thread's own: */
	uint64_t up;                 /* clouds seen up at the last tick */
	int64_t next_try[CLOUDS_MAX];
	int64_t next_trim;
};

struct janitor *janitor_new(struct model *m)
{
	struct janitor *j = calloc(1, sizeof *j);

	if (!j)
		return NULL;
	j->m = m;
	pthread_mutex_init(&j->lock, NULL);
	cond_init_monotonic(&j->wake);
	return j;
}

static bool cloud_up(struct cloud *c)
{
	struct strbuf sb = STRBUF_INIT;
	bool up;

	c->host->ops->status(c->host, &sb);
	up = !strcmp(sb_str(&sb), "up");
	sb_free(&sb);
	return up;
}

/* What guests make grow on the clouds that are up (dnsmasq's logs, the
 * consoles) is bounded (hostdrv trim). */
static void trim(struct janitor *j)
{
	struct model *m = j->m;
	char err[ERRLEN] = "";
	size_t i;

	if (clock_ms() < j->next_trim)
		return;
	j->next_trim = clock_ms() + JANITOR_TRIM_MS;
	for (i = 0; i < m->nclouds; i++)
		if ((j->up & (1ull << i)) &&
		    m->clouds[i]->host->ops->trim(m->clouds[i]->host, err))
			log_warnx("cloud %s: cannot bound its logs: %s",
				  m->clouds[i]->name, err);
}

/* One tick: a cloud that came up is swept, and one that was asked for. */
static void tick(struct janitor *j)
{
	struct model *m = j->m;
	size_t i;

	for (i = 0; i < m->nclouds; i++) {
		uint64_t bit = 1ull << i;
		bool up = cloud_up(m->clouds[i]), go;
		int64_t now = clock_ms();

		pthread_mutex_lock(&j->lock);
		if (up && !(j->up & bit)) {
			j->wanted |= bit;   /* back: whatever waited for it */
			j->next_try[i] = 0;
		}
		go = up && !j->stop && (j->wanted & bit) &&
		     now >= j->next_try[i];
		if (go)
			j->wanted &= ~bit;
		pthread_mutex_unlock(&j->lock);
		j->up = up ? j->up | bit : j->up & ~bit;
		if (up && ports_behind(m, m->clouds[i]))
			ports_sync_cloud(m, m->clouds[i]);   /* it was away */
		if (!go)
			continue;
		if (sweep_cloud(m, m->clouds[i]) == 0)
			continue;
		pthread_mutex_lock(&j->lock);
		j->wanted |= bit;
		j->next_try[i] = clock_ms() + JANITOR_RETRY_MS;
		pthread_mutex_unlock(&j->lock);
	}
}

static void *janitor_thread(void *arg)
{
	struct janitor *j = arg;
	struct timespec ts;

	pthread_mutex_lock(&j->lock);
	while (!j->stop) {
		pthread_mutex_unlock(&j->lock);
		tick(j);
		trim(j);
		pthread_mutex_lock(&j->lock);
		if (j->stop)
			break;
		deadline_in(&ts, JANITOR_TICK_MS);
		pthread_cond_timedwait(&j->wake, &j->lock, &ts);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

int janitor_start(struct janitor *j)
{
	size_t i;
	int r;

	if (!j || j->running)
		return 0;
	/* the clouds up now were just swept by the reconcile */
	for (i = 0; i < j->m->nclouds; i++)
		if (cloud_up(j->m->clouds[i]))
			j->up |= 1ull << i;
	r = pthread_create(&j->thread, NULL, janitor_thread, j);
	if (r) {
		log_warnx("cannot start the janitor: %s", strerror(r));
		return -r;
	}
	j->running = true;
	return 0;
}

void janitor_stop(struct janitor *j)
{
	if (!j || !j->running)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = true;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	j->running = false;
}

void janitor_free(struct janitor *j)
{
	if (!j)
		return;
	janitor_stop(j);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->wake);
	free(j);
}

void janitor_poke(struct janitor *j, const struct cloud *c)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->m->nclouds; i++)
		if (j->m->clouds[i] == c) {
			pthread_mutex_lock(&j->lock);
			j->wanted |= 1ull << i;
			j->next_try[i] = 0;
			pthread_cond_signal(&j->wake);
			pthread_mutex_unlock(&j->lock);
		}
}
