/* nftables through libnftables (nft.h). */
#include "nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/util.h"
#include "later.h"
#include "netns.h"

/* libnftables keeps state of its own (its first context sets up global
 * tables): one call at a time. */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

/* Closing a context's netlink socket right after a transaction that
 * replaced a table waits for the kernel's deferred destruction of the old
 * one (a grace period), holding the namespace's nftables mutex all that
 * time: contexts are freed later (later.h; freed at once, each close
 * slowed the requests beside it, measured at 1,000 tenants). */
static void ctx_free(void *ctx)
{
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
	later(ctx_free, ctx);
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
