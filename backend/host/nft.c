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
#include "netns.h"

/* libnftables keeps state of its own (its first context sets up global
 * tables): one call at a time. */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

/* The context opens its netlink socket where the thread is: it is made,
 * used and freed inside the namespace, and the thread comes back. */
int nft_run(int nsfd, const char *cmds, char *err)
{
	struct nft_ctx *ctx;
	const char *msg;
	int self = -1, r = 0;
	size_t n;

	pthread_mutex_lock(&nft_lock);
	if (nsfd >= 0) {
		self = netns_open_self();
		if (self < 0) {
			r = err_set(err, -self, "opening own namespace: %s",
				    strerror(-self));
			goto out;
		}
		r = netns_enter(nsfd);
		if (r) {
			r = err_set(err, -r, "entering namespace: %s",
				    strerror(-r));
			goto out;
		}
	}
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		r = err_set(err, ENOMEM, "nftables: out of memory");
	} else {
		nft_ctx_buffer_output(ctx);
		nft_ctx_buffer_error(ctx);
		if (nft_run_cmd_from_buffer(ctx, cmds)) {
			msg = nft_ctx_get_error_buffer(ctx);
			msg = msg && *msg ? msg : "failed";
			n = strcspn(msg, "\n");
			r = err_set(err, EIO, "nftables: %.*s", (int)(n > 200 ?
				    200 : n), msg);
		}
		nft_ctx_free(ctx);
	}
	if (self >= 0 && netns_enter(self))
		abort();   /* a thread stranded in a tenant namespace */
out:
	if (self >= 0)
		close(self);
	pthread_mutex_unlock(&nft_lock);
	return r;
}
