/* Several VMs moved at once: a pool of movers, each taking the next VM of
 * the list; a failure starts no more unless the caller keeps going, and
 * the caller's Ctrl-C reaches every mover (model_helper_of), whose move
 * rolls back. Each VM's move is all or nothing (vm_relocate). */
#include "movers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "mig.h"
#include "open.h"
#include "../lib/log.h"

struct pool {
	struct model *m;
	struct movers *p;
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* a mover ended */
	size_t next, done, failed, running;
	unsigned share;       /* movers at once: each has 1/share of the cap */
	bool stop;            /* no more starts (atomic) */
	bool cancel;          /* Ctrl-C: the moves under way roll back too
			       * (read by their migrations, atomic) */
	int r;                /* the first failure */
	char err[ERRLEN];
};

/* Item i; its failure stops the pool unless it keeps going. */
static void move_one(struct pool *pl, size_t i)
{
	struct move_item *it = &pl->p->items[i];
	struct mig_opts o = { it->mode ? it->mode : "", 0, pl->share };
	size_t done, failed;
	int r;

	it->tried = true;
	r = vm_relocate(pl->m, it->tenant, it->vm, it->to->name, &o, it->err);
	pthread_mutex_lock(&pl->lock);
	it->r = r;
	if (r == 0)
		pl->done++;
	else
		pl->failed++;
	if (r && !pl->r)
		pl->r = err_set(pl->err, -r, "VM %s did not move: %.180s",
				it->vm, it->err);
	if (r && !pl->p->keep_going)
		__atomic_store_n(&pl->stop, true, __ATOMIC_RELEASE);
	done = pl->done;
	failed = pl->failed;
	pthread_mutex_unlock(&pl->lock);
	if (pl->p->ended)
		pl->p->ended(pl->p->ctx, done, failed);
}

static void *mover(void *arg)
{
	struct pool *pl = arg;
	size_t i;

	model_helper_of(&pl->cancel);
	for (;;) {
		pthread_mutex_lock(&pl->lock);
		i = pl->next;
		if (__atomic_load_n(&pl->stop, __ATOMIC_ACQUIRE) ||
		    i == pl->p->n) {
			pl->running--;
			pthread_cond_signal(&pl->cond);
			pthread_mutex_unlock(&pl->lock);
			return NULL;
		}
		pl->next++;
		pthread_mutex_unlock(&pl->lock);
		move_one(pl, i);
	}
}

/* Starts k movers (signals stay with the serving threads); how many. */
static size_t movers_start(struct pool *pl, pthread_t *th, size_t k)
{
	sigset_t old;
	size_t n = 0;

	log_block_signals(&old);   /* Ctrl-C is the caller's */
	pthread_mutex_lock(&pl->lock);
	pl->running = k;   /* each mover counts itself out */
	pthread_mutex_unlock(&pl->lock);
	while (n < k && pthread_create(&th[n], NULL, mover, pl) == 0)
		n++;
	pthread_mutex_lock(&pl->lock);
	pl->running -= k - n;
	pthread_mutex_unlock(&pl->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return n;
}

/* Until every mover has ended; the caller's Ctrl-C stops them all. */
static void movers_wait(struct pool *pl)
{
	struct timespec until;

	pthread_mutex_lock(&pl->lock);
	while (pl->running) {
		deadline_in(&until, 100);
		pthread_cond_timedwait(&pl->cond, &pl->lock, &until);
		if (model_interrupted(pl->m)) {
			__atomic_store_n(&pl->cancel, true, __ATOMIC_RELEASE);
			__atomic_store_n(&pl->stop, true, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&pl->lock);
}

int movers_run(struct model *m, struct movers *p, char *err)
{
	struct pool pl = { .m = m, .p = p,
			   .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[MOVE_PARALLEL_MAX];
	size_t k = p->parallel ? p->parallel : 1, n, i;

	if (p->n == 0)
		return 0;
	if (k > MOVE_PARALLEL_MAX)
		k = MOVE_PARALLEL_MAX;
	if (k > p->n)
		k = p->n;
	cond_init_monotonic(&pl.cond);
	pl.share = (unsigned)k;
	n = movers_start(&pl, th, k);
	movers_wait(&pl);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (n == 0) {   /* no thread to be had: this one moves them */
		pl.share = 1;
		while (!pl.stop && pl.next < p->n && !model_interrupted(m))
			move_one(&pl, pl.next++);
	}
	pthread_cond_destroy(&pl.cond);
	if (pl.next < p->n && (pl.cancel || model_interrupted(m)))
		return err_set(err, EINTR, "cancelled by the caller: %zu of "
			       "%zu VM(s) moved", pl.done, p->n);
	if (pl.r)
		return err_set(err, -pl.r, "%s", pl.err);
	return 0;
}
