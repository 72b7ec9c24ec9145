/* nftables through libnftables (nft.h). */
#include "nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/util.h"
#include "netns.h"

/* libnftables keeps state of its own (its first context sets up global
 * tables): one call at a time. */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

/* Closing a context's netlink socket right after a transaction that
 * replaced a table waits for the kernel's deferred destruction of the old
 * one (a grace period, 7-19 ms here); a while later it does not. The
 * request does not wait: a thread of its own frees the contexts, oldest
 * first; if it falls behind, the oldest queued one (whose wait is over)
 * is freed by the caller, never the one just used. */
#define REAP_MAX 32
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct nft_ctx *q[REAP_MAX];   /* a ring: head, n */
	size_t head, n;
	bool started;
} reap = { .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cond = PTHREAD_COND_INITIALIZER };

/* The oldest queued context, taken off the ring (reap.lock held). */
static struct nft_ctx *reap_oldest(void)
{
	struct nft_ctx *ctx = reap.q[reap.head];

	reap.head = (reap.head + 1) % REAP_MAX;
	reap.n--;
	return ctx;
}

static void *reaper(void *arg)
{
	struct nft_ctx *ctx;

	(void)arg;
	pthread_mutex_lock(&reap.lock);
	for (;;) {
		while (reap.n == 0)
			pthread_cond_wait(&reap.cond, &reap.lock);
		ctx = reap_oldest();
		pthread_mutex_unlock(&reap.lock);
		nft_ctx_free(ctx);
		pthread_mutex_lock(&reap.lock);
	}
	return NULL;
}

static void reaper_start(void)
{
	sigset_t all, old;
	pthread_t t;

	sigfillset(&all);   /* signals stay with the serving threads */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, reaper, NULL) == 0) {
		pthread_detach(t);
		reap.started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Hands ctx to the reaper (or frees it here, if no thread can be had). */
static void ctx_let_go(struct nft_ctx *ctx)
{
	struct nft_ctx *old = NULL;

	pthread_mutex_lock(&reap.lock);
	if (!reap.started)
		reaper_start();
	if (reap.started) {
		if (reap.n == REAP_MAX)
			old = reap_oldest();
		reap.q[(reap.head + reap.n++) % REAP_MAX] = ctx;
		pthread_cond_broadcast(&reap.cond);
		ctx = NULL;
	}
	pthread_mutex_unlock(&reap.lock);
	if (old)
		nft_ctx_free(old);
	if (ctx)
		nft_ctx_free(ctx);
}

struct nft_call {
	const char *cmds;
	struct strbuf *out;   /* what nftables printed, if wanted */
	char *err;
};

/* In the namespace: the context opens its netlink socket there. */
static int run_here(void *arg)
{
	struct nft_call *c = arg;
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	size_t n;
	int r = 0;

	if (!ctx)
		return err_set(c->err, ENOMEM, "nftables: out of memory");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, c->cmds)) {
		msg = nft_ctx_get_error_buffer(ctx);
		msg = msg && *msg ? msg : "failed";
		n = strcspn(msg, "\n");
		r = err_set(c->err, EIO, "nftables: %.*s",
			    (int)(n > 200 ? 200 : n), msg);
	} else if (c->out) {
		msg = nft_ctx_get_output_buffer(ctx);
		if (msg && sb_puts(c->out, msg))
			r = err_set(c->err, ENOMEM, "out of memory");
	}
	ctx_let_go(ctx);
	return r;
}

int nft_run(int nsfd, const char *cmds, char *err)
{
	struct nft_call c = { cmds, NULL, err };
	int r;

	pthread_mutex_lock(&nft_lock);
	r = netns_call(nsfd, run_here, &c, err);
	pthread_mutex_unlock(&nft_lock);
	return r;
}

int nft_list(int nsfd, const char *cmd, struct strbuf *out, char *err)
{
	struct nft_call c = { cmd, out, err };
	int r;

	pthread_mutex_lock(&nft_lock);
	r = netns_call(nsfd, run_here, &c, err);
	pthread_mutex_unlock(&nft_lock);
	return r;
}
