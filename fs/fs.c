#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/events.h"
#include "../core/open.h"
#include "../core/tree.h"
#include "kcache.h"
#include "scratch.h"

/* A path split in place; the node's names point into buf. */
struct fs_path {
	char buf[PATH_MAX];
	struct node node;
};

/* What an open file keeps: the content as it was at open, so that a
 * reader sees one consistent value however many reads it takes; for
 * spec.yaml the document written, applied at close; for events the
 * reader's place in the stream; for a scratch file the file. */
struct fs_handle {
	enum tree_file kind;
	struct strbuf content;
	bool readable;
	bool append;                  /* opened O_APPEND */
	struct strbuf doc;            /* spec.yaml: written so far */
	bool dirty;                   /* spec.yaml: written since applied */
	struct events_cursor cursor;  /* events */
	struct strbuf pending;        /* events: read but not delivered */
	struct fuse_pollhandle *ph;   /* events: a poll() waiting */
	struct fs_handle *next;       /* events: the open ones */
	struct scratch *scratch;
	/* a tree file: the objects it was opened on, and by whom; it acts
	 * on them alone (tree_same), never on later ones of that name */
	struct tree_ident ident;
	uid_t uid;
	pid_t opener;                 /* spec.yaml: the opening process */
};

#define SPEC_DOC_MAX (4u << 20)
/* Readers blocked on events each hold a FUSE thread: at most this many
 * wait at once (the others get EAGAIN), so that the file system always
 * has threads for everything else. */
#define EVENTS_WAITERS_MAX 32

static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fs_handle *readers;
static int waiters;

/* A new event: every poll() waiting on the events file is told. */
static void fs_events_new(void *ctx)
{
	struct fs_handle *h;

	(void)ctx;
	pthread_mutex_lock(&readers_lock);
	for (h = readers; h; h = h->next)
		if (h->ph) {
			fuse_notify_poll(h->ph);
			fuse_pollhandle_destroy(h->ph);
			h->ph = NULL;
		}
	pthread_mutex_unlock(&readers_lock);
}

/* The model: set at init (the kernel cache's checker has no request). */
static struct model *model;

static struct model *fs_model(void)
{
	return model;
}

static int fs_resolve(const char *path, struct fs_path *p)
{
	return tree_walk(path, p->buf, sizeof p->buf, &p->node);
}

/* Whether the request this thread serves was interrupted (Ctrl-C on the
 * writer: the kernel's INTERRUPT, which libfuse records on the request):
 * the front's. */
static bool (*fs_interrupted)(void);
static uid_t (*fs_caller)(void);
static pid_t (*fs_caller_pid)(void);

/* The process (thread group) of the thread the request came from: the
 * kernel names the thread. 0 if it is gone. */
static pid_t caller_process(void)
{
	pid_t tid = fs_caller_pid ? fs_caller_pid() : 0;
	char path[48], line[128];
	pid_t tgid = 0;
	FILE *f;

	if (tid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static int stat_path(const char *path, struct stat *st, int *changes);

/* The model's note of a tenant's values changed by its own work. */
static void fs_note(void *ctx, const char *tenant)
{
	(void)ctx;
	kc_note(tenant);
}

void fs_begin(struct model *m, kc_inval_fn inval, bool (*interrupted)(void),
	      uid_t (*caller)(void), pid_t (*caller_pid)(void))
{
	model = m;
	fs_interrupted = interrupted;
	fs_caller = caller;
	fs_caller_pid = caller_pid;
	model_set_interrupt(m, interrupted);
	events_on_new(tree_events(m), fs_events_new, NULL);
	kc_start(inval, stat_path);
	model_watch(m, fs_note, NULL);
}

void fs_end(void)
{
	model_watch(model, NULL, NULL);
	kc_stop();
}

/* A scratch file's attributes, as the tree's. */
static int scratch_attr(const char *path, struct tree_stat *ts)
{
	struct scratch *sc = scratch_get(path);
	mode_t mode;

	if (!sc)
		return -ENOENT;
	memset(ts, 0, sizeof *ts);
	scratch_stat(sc, &ts->size, &mode, &ts->mtime);
	ts->mode = mode;
	ts->nlink = 1;
	scratch_put(sc);
	return 0;
}

/* A directory's names, folded (FNV-1a): the nanoseconds of its mtime.
 * The kernel keeps a directory's listing while that mtime stays the same
 * (DESIGN §9), so that it changes whenever a name comes or goes. */
static void fold(void *ctx, const char *name, bool dir)
{
	uint64_t *h = ctx;

	*h = fnv1a(fnv1a(*h, name), dir ? "/" : "\n");
}

static void fold_file(void *ctx, const char *name)
{
	fold(ctx, name, false);
}

static long names_print(const char *path, const struct node *n)
{
	uint64_t h = FNV_OFFSET;

	if (tree_readdir(fs_model(), n, fold, &h))
		return 0;
	scratch_list(path, fold_file, &h);
	return (long)(h % 1000000000u);
}

/* A path's attributes now; *changes: what changes its value
 * (tree_changes: a directory's names change with the model). */
static int stat_path(const char *path, struct stat *st, int *changes)
{
	struct fs_path p;
	struct tree_stat ts;
	long print = 0;
	int r;

	*changes = CHANGE_OP;
	r = fs_resolve(path, &p);
	if (r == 0) {
		r = tree_stat(fs_model(), &p.node, &ts);
		*changes = tree_changes(&p.node);
		if (r == 0 && ts.dir)
			print = names_print(path, &p.node);
	}
	if (r == -ENOENT)
		r = scratch_attr(path, &ts);
	if (r)
		return r;
	memset(st, 0, sizeof *st);
	st->st_mode = (ts.dir ? S_IFDIR : S_IFREG) | ts.mode;
	st->st_nlink = ts.nlink;
	st->st_size = (off_t)ts.size;
	st->st_uid = ts.uid;
	st->st_gid = ts.gid;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((ts.size + 511) / 512);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec =
		ts.mtime;
	st->st_mtim.tv_nsec = print;
	return 0;
}

/* Attributes the kernel will keep: listed, so that it is told when they
 * change (kcache.h). */
int fs_stat(const char *path, struct stat *st, bool *uncached)
{
	uint64_t gen;
	int r, changes, tries = 0;

	do {
		gen = kc_gen();
		r = stat_path(path, st, &changes);
		if (r)
			return r;
		/* another program writes it: the kernel keeps no copy */
		*uncached = changes == CHANGE_OUTSIDE;
	} while (!*uncached && !kc_seen(path, st, changes, gen) &&
		 ++tries < 8);
	return 0;
}

/* A directory's names in the tree's order, then its scratch files. */
struct list_ctx {
	fs_list_fn fn;
	void *ctx;
};

static void list_file(void *ctx, const char *name)
{
	struct list_ctx *l = ctx;

	l->fn(l->ctx, name, false);
}

int fs_list(const char *path, fs_list_fn fn, void *ctx)
{
	struct list_ctx l = { fn, ctx };
	struct fs_path p;
	int r;

	r = fs_resolve(path, &p);
	if (r)
		return r;
	r = tree_readdir(fs_model(), &p.node, fn, ctx);
	if (r == 0)
		scratch_list(path, list_file, &l);
	return r;
}

static void handle_free(struct fs_handle *h)
{
	if (!h)
		return;
	sb_free(&h->content);
	sb_free(&h->doc);
	sb_free(&h->pending);
	scratch_put(h->scratch);
	free(h);
}

static int open_scratch(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h;
	struct scratch *sc = scratch_get(path);

	if (!sc)
		return -ENOENT;
	h = calloc(1, sizeof *h);
	if (!h) {
		scratch_put(sc);
		return -ENOMEM;
	}
	h->scratch = sc;
	if (fi->flags & O_TRUNC)
		scratch_truncate(sc, 0);
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->noflush = 1;
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	bool rd = acc == O_RDONLY || acc == O_RDWR;
	bool wr = acc == O_WRONLY || acc == O_RDWR;
	struct fs_handle *h;
	struct fs_path p;
	int r;

	r = fs_resolve(path, &p);
	if (r == 0)
		r = tree_open(fs_model(), &p.node, rd, wr);
	if (r == -ENOENT)
		return open_scratch(path, fi);
	if (r)
		return r;
	h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	r = tree_ident(fs_model(), &p.node, &h->ident);
	if (r) {
		free(h);
		return r;
	}
	h->uid = fs_caller ? fs_caller() : 0;
	h->kind = tree_file_kind(&p.node);
	h->append = fi->flags & O_APPEND;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;   /* generated content: sizes come from getattr */
	/* Only spec.yaml does anything at close: the others' close(2) needs
	 * no round trip to maasfs. */
	fi->noflush = h->kind != TREE_FILE_SPEC;
	if (h->kind == TREE_FILE_SPEC)
		h->opener = caller_process();
	if (h->kind == TREE_FILE_EVENTS) {
		events_open(tree_events(fs_model()), &h->cursor);
		fi->nonseekable = 1;
		pthread_mutex_lock(&readers_lock);
		h->next = readers;
		readers = h;
		pthread_mutex_unlock(&readers_lock);
		return 0;
	}
	if (rd) {
		r = tree_read(fs_model(), &p.node, &h->content);
		if (r) {
			handle_free(h);
			return r;
		}
		h->readable = true;
	}
	return 0;
}

/* The events file: lines as they come, blocking unless O_NONBLOCK. */
static int read_events(struct fs_handle *h, char *buf, size_t size,
		       struct fuse_file_info *fi)
{
	struct events *e = tree_events(fs_model());
	bool wait = !(fi->flags & O_NONBLOCK);
	size_t n;
	int r = 0;

	if (h->pending.len == 0) {
		if (wait && !events_ready(e, &h->cursor)) {
			pthread_mutex_lock(&readers_lock);
			if (waiters >= EVENTS_WAITERS_MAX)
				r = -EAGAIN;
			else
				waiters++;
			pthread_mutex_unlock(&readers_lock);
			if (r)
				return r;
			r = events_read(e, &h->cursor, size, true,
					fs_interrupted, &h->pending);
			pthread_mutex_lock(&readers_lock);
			waiters--;
			pthread_mutex_unlock(&readers_lock);
		} else {
			r = events_read(e, &h->cursor, size, false, NULL,
					&h->pending);
		}
		if (r)
			return r;
	}
	n = h->pending.len < size ? h->pending.len : size;
	memcpy(buf, h->pending.s, n);
	memmove(h->pending.s, h->pending.s + n, h->pending.len - n);
	h->pending.len -= n;
	if (h->pending.s)
		h->pending.s[h->pending.len] = '\0';
	return (int)n;
}

static unsigned fs_poll_mask(struct fs_handle *h)
{
	if (h->kind != TREE_FILE_EVENTS)
		return POLLIN | POLLOUT;
	return h->pending.len || events_ready(tree_events(fs_model()),
					      &h->cursor) ? POLLIN : 0;
}

static int fs_poll(const char *path, struct fuse_file_info *fi,
		   struct fuse_pollhandle *ph, unsigned *reventsp)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	(void)path;
	if (!h) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		return -EBADF;
	}
	if (ph) {
		/* registered first: an event from now on wakes it */
		pthread_mutex_lock(&readers_lock);
		if (h->kind == TREE_FILE_EVENTS) {
			if (h->ph)
				fuse_pollhandle_destroy(h->ph);
			h->ph = ph;
		} else {
			fuse_pollhandle_destroy(ph);
		}
		pthread_mutex_unlock(&readers_lock);
	}
	*reventsp = fs_poll_mask(h);
	return 0;
}

/* A tree file's handle acts on the objects it was opened on, for whom
 * opened it: -ESTALE once they went, -EACCES once the tenant changed
 * hands (tree_same). */
static int handle_same(const struct fs_handle *h, const char *path)
{
	struct fs_path p;
	int r = fs_resolve(path, &p);

	return r ? r : tree_same(fs_model(), &p.node, &h->ident, h->uid);
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	size_t len;
	int r;

	if (h && h->scratch)
		return scratch_read(h->scratch, buf, size, off);
	if (h && h->kind == TREE_FILE_EVENTS)
		return read_events(h, buf, size, fi);
	if (!h || !h->readable)
		return -EBADF;
	r = handle_same(h, path);
	if (r)
		return r;
	len = h->content.len;
	if (off < 0 || (size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, h->content.s + off, size);
	return (int)size;
}

/* spec.yaml: the document builds up, and is applied at close. */
static int write_doc(struct fs_handle *h, const char *buf, size_t size,
		     off_t off)
{
	size_t end;

	if (off < 0 || (size_t)off > SPEC_DOC_MAX ||
	    size > SPEC_DOC_MAX - (size_t)off)
		return -EFBIG;
	end = (size_t)off + size;
	if (end > h->doc.len) {
		if (sb_reserve(&h->doc, end - h->doc.len))
			return -ENOMEM;
		memset(h->doc.s + h->doc.len, ' ', end - h->doc.len);
		h->doc.len = end;
		h->doc.s[end] = '\0';
	}
	memcpy(h->doc.s + off, buf, size);
	h->dirty = true;
	return (int)size;
}

static int fs_write(const char *path, const char *buf, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	struct fs_path p;
	int r;

	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	if (h && h->scratch)
		return scratch_write(h->scratch, buf, size, off);
	if (h && (r = handle_same(h, path)))
		return r;
	if (h && h->kind == TREE_FILE_SPEC)
		return write_doc(h, buf, size, off);
	/* Writes are whole values at offset 0 (DESIGN §4). */
	if (off != 0)
		return -EINVAL;
	r = fs_resolve(path, &p);
	if (r)
		return r;
	/* An append lands after the value, wherever the kernel thinks its
	 * end is (an O_TRUNC open makes it 0 there, until the next stat). */
	if (h && h->append) {
		struct tree_stat ts;

		r = tree_stat(fs_model(), &p.node, &ts);
		if (r)
			return r;
		if (ts.size)
			return -EINVAL;
	}
	r = tree_write(fs_model(), &p.node, buf, size);
	kc_after_op(path);
	return r;
}

static int fs_truncate(const char *path, off_t size,
		       struct fuse_file_info *fi)
{
	struct fs_path p;
	int r;

	struct fs_handle *h = fi ? (struct fs_handle *)(uintptr_t)fi->fh
				 : NULL;
	struct scratch *sc;

	if (size < 0)
		return -EINVAL;
	if (h && h->scratch)
		return scratch_truncate(h->scratch, size);
	r = fs_resolve(path, &p);
	if (r == 0)
		r = tree_truncate(fs_model(), &p.node, (size_t)size);
	if (r != -ENOENT)
		kc_after_op(path);
	if (r == -ENOENT && (sc = scratch_get(path))) {
		r = scratch_truncate(sc, size);
		scratch_put(sc);
	}
	/* not a document yet: a shell's `>` closes a copy of the descriptor
	 * (a flush) before anything is written */
	if (r == 0 && h && h->kind == TREE_FILE_SPEC)
		h->doc.len = 0;
	return r;
}

/* The document written to spec.yaml, applied; close's errno. */
static int spec_apply(const char *path, struct fs_handle *h)
{
	struct fs_path p;
	int r;

	h->dirty = false;
	r = fs_resolve(path, &p);
	if (r == 0)
		r = tree_same(fs_model(), &p.node, &h->ident, h->uid);
	if (r == 0)
		r = tree_write(fs_model(), &p.node, h->doc.len ? h->doc.s : "",
			       h->doc.len);
	kc_after_op(path);
	h->doc.len = 0;
	return r < 0 ? r : 0;
}

/* close(2) of spec.yaml: the document is applied, and close fails with
 * the errno if it could not be (DESIGN §6). Every close of every copy of
 * the descriptor is a flush, and a shell's child closes its copy (`{ echo
 * ...; $(cmd); } >spec.yaml` forks for cmd) long before the document is
 * whole: only the opening process's close applies it. If that process
 * let go of its copy first, the last close (release) does. */
static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	pid_t by;

	if (!h || h->kind != TREE_FILE_SPEC || !h->dirty)
		return 0;
	by = caller_process();
	if (h->opener && by && by != h->opener)
		return 0;
	return spec_apply(path, h);
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh, **pp;

	if (h && h->kind == TREE_FILE_SPEC && h->dirty)
		spec_apply(path, h);   /* errors: in status and events */
	if (h && h->kind == TREE_FILE_EVENTS) {
		pthread_mutex_lock(&readers_lock);
		for (pp = &readers; *pp; pp = &(*pp)->next)
			if (*pp == h) {
				*pp = h->next;
				break;
			}
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		pthread_mutex_unlock(&readers_lock);
	}
	handle_free(h);
	return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return 0;   /* every change is on disk when its write returns */
}

static int fs_mkdir(const char *path, mode_t mode)
{
	struct fs_path p;
	int r;

	struct scratch *sc = scratch_get(path);

	(void)mode;
	if (sc) {
		scratch_put(sc);
		return -EEXIST;
	}
	r = fs_resolve(path, &p);
	if (r)
		return r == -ENOENT ? -EPERM : r;
	r = tree_mkdir(fs_model(), &p.node);
	kc_after_op(path);
	return r;
}

static int fs_rmdir(const char *path)
{
	struct fs_path p;
	int r = fs_resolve(path, &p);

	if (r)
		return r;
	r = tree_rmdir(fs_model(), &p.node);
	kc_after_op(path);
	return r;
}

static int fs_unlink(const char *path)
{
	struct fs_path p;
	int r = scratch_unlink(path);

	if (r == 0)
		return 0;
	r = fs_resolve(path, &p);
	if (r)
		return r;
	r = tree_unlink(fs_model(), &p.node);
	kc_after_op(path);
	return r;
}

/* The directory of path exists in the tree, and path names nothing. */
static int scratch_place(const char *path)
{
	char dir[PATH_MAX];
	struct fs_path p;
	struct tree_stat st;
	const char *slash = strrchr(path, '/');
	int r;

	if (!slash || slash[1] == '\0' || strlen(path) >= sizeof dir)
		return -EINVAL;
	snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path),
		 path);
	r = fs_resolve(dir, &p);
	if (r == 0)
		r = tree_stat(fs_model(), &p.node, &st);
	if (r)
		return r;
	if (!st.dir)
		return -ENOTDIR;
	r = fs_resolve(path, &p);
	if (r == 0 && tree_stat(fs_model(), &p.node, &st) == 0)
		return -EEXIST;
	return 0;
}

/* Files the user makes are scratch files (editors' temporaries). */
static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct scratch *sc;
	struct fs_handle *h;
	int r = scratch_place(path);

	if (r == 0)
		r = scratch_create(path, mode, fs_caller ? fs_caller() : 0, &sc);
	if (r)
		return r;
	h = calloc(1, sizeof *h);
	if (!h) {
		scratch_unlink(path);
		scratch_put(sc);
		return -ENOMEM;
	}
	h->scratch = sc;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	fi->noflush = 1;
	return 0;
}

/* A scratch file renamed onto an attribute or spec.yaml is one write of
 * its content, whose errno the rename returns; onto a name the tree does
 * not use, it is renamed. Nothing else moves. */
static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	struct strbuf data = STRBUF_INIT;
	struct scratch *sc;
	struct fs_path p;
	struct tree_stat st;
	int r;

	if (flags)
		return -EINVAL;
	sc = scratch_get(from);
	if (!sc)
		return -EPERM;
	r = fs_resolve(to, &p);
	if (r == 0)
		r = tree_stat(fs_model(), &p.node, &st);
	if (r == 0 && st.dir) {
		r = -EISDIR;
	} else if (r == 0) {
		r = scratch_content(sc, &data);
		if (r == 0)
			r = tree_write(fs_model(), &p.node,
				       data.len ? data.s : "", data.len);
		kc_after_op(to);
		if (r >= 0)
			r = scratch_unlink(from);
	} else if (r == -ENOENT) {
		r = scratch_place(to);
		if (r == 0 || r == -EEXIST)   /* EEXIST: a scratch file */
			r = scratch_rename(from, to);
	}
	scratch_put(sc);
	sb_free(&data);
	return r < 0 ? r : 0;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct scratch *sc = scratch_get(path);

	(void)fi;
	if (!sc)
		return -EPERM;
	scratch_chmod(sc, mode);
	scratch_put(sc);
	return 0;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	struct fs_path p;
	int r;

	struct scratch *sc = scratch_get(path);

	(void)fi;
	if (sc) {   /* sed -i keeps the owner: a scratch file takes any */
		scratch_put(sc);
		return 0;
	}
	r = fs_resolve(path, &p);
	if (r)
		return r;
	r = tree_chown(fs_model(), &p.node, uid, gid);
	kc_after_op(path);
	return r;
}

/* touch(1) on an attribute is harmless: accept it. */
static int fs_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	struct fs_path p;
	struct tree_stat st;
	int r;

	(void)tv;
	(void)fi;
	r = fs_resolve(path, &p);
	if (r == 0)
		r = tree_stat(fs_model(), &p.node, &st);
	if (r == -ENOENT)
		r = scratch_attr(path, &st);
	return r;
}

static const struct fuse_operations fs_ops = {
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.poll = fs_poll,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.unlink = fs_unlink,
	.create = fs_create,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
};

const struct fuse_operations *fs_operations(void)
{
	return &fs_ops;
}
