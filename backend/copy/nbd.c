/* A disk's blocks over NBD (libnbd): read from the export of a pull-mode
 * backup job (all the disk's data, or the blocks its dirty bitmap names),
 * and written in place into a replica that qemu-nbd serves (started by
 * libnbd, socket activation, gone when the handle closes). Both ends hash
 * the bytes they carry in the order they carry them: the sender what it
 * read, the receiver what it reads back from the replica once flushed. */
#include "copy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libnbd.h>

#include "sum.h"

/* One request for block status covers at most this (QEMU answers less
 * when it likes). */
#define NBD_STATUS_CHUNK (1ull << 30)

struct span {
	uint64_t off, len;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

/* Appends [off, off + len), joined to the last span when they touch. */
static int spans_add(struct spans *s, uint64_t off, uint64_t len)
{
	if (s->n && s->v[s->n - 1].off + s->v[s->n - 1].len == off) {
		s->v[s->n - 1].len += len;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct span *v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct span){ off, len };
	return 0;
}

static int nbd_fail(char *err, const char *what)
{
	int e = nbd_get_errno();

	return err_set(err, e > 0 ? e : EIO, "%s: %s", what,
		       nbd_get_error() ?: "libnbd failed");
}

/* ---- the source: a backup job's export ---- */

struct nbd_src {
	struct copy_src base;
	struct nbd_handle *h;
	struct spans ext;        /* what to send, in order */
	size_t i;                /* the span being read */
	uint64_t pos;            /* bytes of it read */
	EVP_MD_CTX *hash;
};

struct status_walk {
	const char *context;
	bool dirty;              /* the bitmap's dirty blocks, or data */
	uint64_t end;            /* how far the answers reached */
	struct spans *ext;
	int r;
};

static int status_cb(void *ctx, const char *context, uint64_t off,
		     uint32_t *entries, size_t n, int *error)
{
	struct status_walk *w = ctx;
	size_t i;

	(void)error;
	if (strcmp(context, w->context))
		return 0;
	for (i = 0; i + 1 < n; i += 2) {
		uint32_t len = entries[i], flags = entries[i + 1];
		bool send = w->dirty ? (flags & 1)
				     : !(flags & LIBNBD_STATE_ZERO);

		if (send && w->r == 0)
			w->r = spans_add(w->ext, off, len);
		off += len;
	}
	if (off > w->end)
		w->end = off;
	return 0;
}

/* The spans to send, from the server's block status over the whole disk
 * (a few requests: never a read of the disk). */
static int nsrc_walk(struct nbd_src *s, const char *context, bool dirty,
		     char *err)
{
	struct status_walk w = { context, dirty, 0, &s->ext, 0 };
	uint64_t off = 0, size = s->base.size;
	size_t i;

	while (off < size) {
		uint64_t want = size - off < NBD_STATUS_CHUNK ? size - off
							       : NBD_STATUS_CHUNK;
		nbd_extent_callback cb = { .callback = status_cb,
					   .user_data = &w };

		w.end = off;
		if (nbd_block_status(s->h, want, off, cb, 0) < 0)
			return nbd_fail(err, "block status");
		if (w.r)
			return err_set(err, -w.r, "out of memory");
		if (w.end <= off)
			return err_set(err, EPROTO, "the NBD server says "
				       "nothing of offset %llu",
				       (unsigned long long)off);
		off = w.end;
	}
	for (i = 0; i < s->ext.n; i++) {   /* the last answer may overrun */
		struct span *p = &s->ext.v[i];

		if (p->off >= size)
			p->len = 0;
		else if (p->len > size - p->off)
			p->len = size - p->off;
		s->base.data += p->len;
	}
	return 0;
}

static ssize_t nsrc_read(struct copy_src *cs, uint64_t *off, void *buf,
			 size_t cap, char *err)
{
	struct nbd_src *s = (struct nbd_src *)cs;
	struct span *p;

	while (s->i < s->ext.n && s->pos == s->ext.v[s->i].len) {
		s->i++;
		s->pos = 0;
	}
	if (s->i == s->ext.n) {
		if (!cs->ended && copy_hash_end(s->hash, cs->sum))
			return err_set(err, EIO, "checksum failed");
		cs->ended = true;
		return 0;
	}
	p = &s->ext.v[s->i];
	if (cap > p->len - s->pos)
		cap = (size_t)(p->len - s->pos);
	if (nbd_pread(s->h, buf, cap, p->off + s->pos, 0) < 0)
		return nbd_fail(err, "reading the disk");
	if (EVP_DigestUpdate(s->hash, buf, cap) != 1)
		return err_set(err, EIO, "checksum failed");
	*off = p->off + s->pos;
	s->pos += cap;
	return (ssize_t)cap;
}

static void nsrc_close(struct copy_src *cs)
{
	struct nbd_src *s = (struct nbd_src *)cs;

	if (s->h)
		nbd_shutdown(s->h, 0);
	nbd_close(s->h);
	EVP_MD_CTX_free(s->hash);
	free(s->ext.v);
	free(s);
}

static const struct copy_src_ops nbd_src_ops = {
	.read = nsrc_read,
	.close = nsrc_close,
};

int copy_src_nbd(const char *socket, const char *export, const char *bitmap,
		 struct copy_src **out, char *err)
{
	char context[128];
	struct nbd_src *s = calloc(1, sizeof *s);
	int64_t size;
	int r;

	if (!s)
		return err_set(err, ENOMEM, "out of memory");
	s->base.ops = &nbd_src_ops;
	snprintf(context, sizeof context, "%s%s",
		 bitmap ? "qemu:dirty-bitmap:" : LIBNBD_CONTEXT_BASE_ALLOCATION,
		 bitmap ?: "");
	s->h = nbd_create();
	s->hash = copy_hash_new();
	if (!s->h || !s->hash) {
		r = err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (nbd_set_export_name(s->h, export) < 0 ||
	    nbd_add_meta_context(s->h, context) < 0 ||
	    nbd_connect_unix(s->h, socket) < 0) {
		r = nbd_fail(err, socket);
		goto fail;
	}
	size = nbd_get_size(s->h);
	if (size < 0 || nbd_can_meta_context(s->h, context) != 1) {
		r = err_set(err, EPROTO, "%s: no %s on export %s", socket,
			    context, export);
		goto fail;
	}
	s->base.size = (uint64_t)size;
	r = nsrc_walk(s, context, bitmap != NULL, err);
	if (r)
		goto fail;
	*out = &s->base;
	return 0;
fail:
	nsrc_close(&s->base);
	return r;
}

/* ---- the sink: a replica patched in place ---- */

struct nbd_dst {
	struct copy_dst base;
	struct nbd_handle *h;
	struct spans got;        /* what was written, in order */
};

static int ndst_write(struct copy_dst *cd, uint64_t off, const void *buf,
		      size_t len, char *err)
{
	struct nbd_dst *d = (struct nbd_dst *)cd;

	if (nbd_pwrite(d->h, buf, len, off, 0) < 0)
		return nbd_fail(err, "writing the replica");
	if (spans_add(&d->got, off, len))
		return err_set(err, ENOMEM, "out of memory");
	return 0;
}

static void ndst_abort(struct copy_dst *cd)
{
	struct nbd_dst *d = (struct nbd_dst *)cd;

	nbd_close(d->h);   /* qemu-nbd goes with it */
	free(d->got.v);
	free(d);
}

/* What was written, read back once flushed, hashed in the same order. */
static int ndst_readback(struct nbd_dst *d, unsigned char *sum, char *err)
{
	const size_t len = 1 << 20;
	unsigned char *buf = malloc(len);
	EVP_MD_CTX *h = copy_hash_new();
	size_t i;
	int r = buf && h ? 0 : err_set(err, ENOMEM, "out of memory");

	if (r == 0 && nbd_flush(d->h, 0) < 0)
		r = nbd_fail(err, "flushing the replica");
	for (i = 0; r == 0 && i < d->got.n; i++) {
		uint64_t off = d->got.v[i].off, end = off + d->got.v[i].len;

		while (r == 0 && off < end) {
			size_t n = end - off > len ? len : (size_t)(end - off);

			if (nbd_pread(d->h, buf, n, off, 0) < 0)
				r = nbd_fail(err, "reading the replica back");
			else if (EVP_DigestUpdate(h, buf, n) != 1)
				r = err_set(err, EIO, "checksum failed");
			off += n;
		}
	}
	if (r == 0 && copy_hash_end(h, sum))
		r = err_set(err, EIO, "checksum failed");
	EVP_MD_CTX_free(h);
	free(buf);
	return r;
}

static int ndst_finish(struct copy_dst *cd, const unsigned char *sum,
		       char *err)
{
	struct nbd_dst *d = (struct nbd_dst *)cd;
	unsigned char got[COPY_SUM_LEN];
	int r = ndst_readback(d, got, err);

	if (r == 0 && memcmp(got, sum, COPY_SUM_LEN))
		r = err_set(err, EIO, "the replica does not read back what "
			    "was sent (SHA-256 mismatch)");
	if (r == 0 && nbd_shutdown(d->h, 0) < 0)
		r = nbd_fail(err, "closing the replica");
	ndst_abort(cd);
	return r;
}

static const struct copy_dst_ops nbd_dst_ops = {
	.write = ndst_write,
	.finish = ndst_finish,
	.abort = ndst_abort,
};

int copy_dst_nbd(const char *path, uint64_t size, struct copy_dst **out,
		 char *err)
{
	char *argv[] = { (char *)"qemu-nbd", (char *)"--format=qcow2",
			 (char *)"--cache=writeback", (char *)path, NULL };
	struct nbd_dst *d = calloc(1, sizeof *d);
	int64_t got;
	int r;

	if (!d || !(d->h = nbd_create())) {
		free(d);
		return err_set(err, ENOMEM, "out of memory");
	}
	d->base.ops = &nbd_dst_ops;
	if (nbd_connect_systemd_socket_activation(d->h, argv) < 0) {
		r = nbd_fail(err, path);
		goto fail;
	}
	got = nbd_get_size(d->h);
	if (got < 0 || (uint64_t)got != size) {
		r = err_set(err, EINVAL, "%s: %lld bytes, the disk has %llu",
			    path, (long long)got, (unsigned long long)size);
		goto fail;
	}
	*out = &d->base;
	return 0;
fail:
	ndst_abort(&d->base);
	return r;
}

/* ---- a replication's files on a cloud (copy.h) ---- */

static int repl_path(const char *disks, const char *uuid, const char *leaf,
		     char *buf, size_t len, char *err)
{
	if (!uuid_valid(uuid) || !path_safe(disks))
		return err_set(err, EINVAL, "bad disk name");
	if ((size_t)snprintf(buf, len, "%s/" COPY_REPL_DIR "%s%s%s", disks,
			     uuid, leaf ? "/" : "", leaf ?: "") >= len)
		return err_set(err, ENAMETOOLONG, "disk folder too long");
	return 0;
}

static int repl_dir_drop(const char *dir, char *err)
{
	static const char *const leaves[] = { COPY_REPL_SOCK, "scratch.qcow2" };
	char path[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < sizeof leaves / sizeof *leaves; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, leaves[i]);
		if (unlink(path) && errno != ENOENT)
			return err_set(err, errno, "%s: %s", path,
				       strerror(errno));
	}
	if (rmdir(dir) && errno != ENOENT)
		return err_set(err, errno, "%s: %s", dir, strerror(errno));
	return 0;
}

int copy_repl_dir(const char *disks, const char *uuid, bool make, char *err)
{
	char dir[PATH_MAX], disk[PATH_MAX + 64];
	struct stat st;
	int r = repl_path(disks, uuid, NULL, dir, sizeof dir, err);

	if (r || !make)
		return r ? r : repl_dir_drop(dir, err);
	snprintf(disk, sizeof disk, "%s/%s.qcow2", disks, uuid);
	if (stat(disk, &st))
		return err_set(err, errno, "%s: %s", disk, strerror(errno));
	if (mkdir(dir, 0700) && errno != EEXIST)
		return err_set(err, errno, "%s: %s", dir, strerror(errno));
	/* QEMU makes the socket there: its user owns the running disk */
	if (chown(dir, st.st_uid, st.st_gid) || chmod(dir, 0700))
		return err_set(err, errno, "%s: %s", dir, strerror(errno));
	return 0;
}

int copy_repl_source(const char *disks, const char *uuid, bool changed,
		     struct copy_src **out, char *err)
{
	char sock[PATH_MAX];
	int r = repl_path(disks, uuid, COPY_REPL_SOCK, sock, sizeof sock,
			  err);

	return r ? r : copy_src_nbd(sock, COPY_REPL_EXPORT,
				    changed ? COPY_REPL_BITMAP : NULL, out,
				    err);
}

int copy_repl_sink(const char *disks, const char *uuid, uint64_t size,
		   struct copy_dst **out, char *err)
{
	char path[PATH_MAX + 64];

	if (!uuid_valid(uuid) || !path_safe(disks))
		return err_set(err, EINVAL, "bad disk name");
	snprintf(path, sizeof path, "%s/%s.qcow2", disks, uuid);
	return copy_dst_nbd(path, size, out, err);
}
