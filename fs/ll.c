/* libfuse's low-level API over fs.c's path handlers (fs.h).
 *
 * The kernel names files by inode number; here each number stands for a
 * path. A node lives while the kernel holds it (its lookup count: one per
 * LOOKUP, MKDIR or CREATE reply and per READDIRPLUS entry with
 * attributes, given back by FORGET). Numbers are never reused.
 *
 * What the kernel may keep, and for how long (DESIGN §9):
 *  - names and attributes KC_TIMEOUT seconds, and kcache.c tells it when
 *    they change; names that do not exist are asked again each time;
 *  - a directory's listing, until its mtime changes: opendir answers
 *    ENOSYS, after which the kernel opens directories by itself, with its
 *    listing cache on (FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE), and asks for
 *    the directory's attributes (which kcache.c keeps true) before it
 *    reads a listing it kept;
 *  - never a file's content: it is made at open (direct_io). */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"

/* A directory's names at offset 0: the later parts of the same listing
 * are cut from it, whatever changed in between; dropped when the kernel
 * asks past its end. */
struct snap {
	unsigned refs;
	size_t n, cap;
	struct snap_name {
		char *name;
		bool dir;
	} *v;
	bool nomem;
};

struct ino_node {
	fuse_ino_t ino;
	uint64_t nlookup;
	char *path;
	bool hashed;             /* found by its path: not unlinked nor replaced */
	struct ino_node *ino_next, *path_next;
	struct snap *snap;
};

/* Chained hash tables, doubled when as full as they are long. */
struct table {
	struct ino_node **b;
	size_t nb, n;
};

static struct {
	pthread_mutex_t lock;
	struct table by_ino, by_path;
	fuse_ino_t next_ino;
	struct ino_node root;
	struct fuse_session *se;
	bool debug;
} ll = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* d_ino of a name whose node the kernel does not hold (as libfuse's
 * high-level API gives it) */
#define UNKNOWN_INO 0xffffffffu

static __thread fuse_req_t current;

static size_t hash_path(const char *s)
{
	return (size_t)fnv1a(FNV_OFFSET, s);
}

static size_t hash_ino(fuse_ino_t ino)
{
	return (size_t)(ino * 0x9e3779b97f4a7c15ull >> 17);
}

static struct ino_node **chain(struct table *t, size_t h)
{
	return &t->b[h & (t->nb - 1)];
}

static struct ino_node **next_of(struct ino_node *n, bool by_ino)
{
	return by_ino ? &n->ino_next : &n->path_next;
}

static size_t hash_node(const struct ino_node *n, bool by_ino)
{
	return by_ino ? hash_ino(n->ino) : hash_path(n->path);
}

static int table_grow(struct table *t, bool by_ino)
{
	size_t nb = t->nb ? t->nb * 2 : 256, i;
	struct ino_node **b = calloc(nb, sizeof *b), *n, *next;
	struct table nt = { b, nb, t->n };

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nb; i++)
		for (n = t->b[i]; n; n = next) {
			struct ino_node **c = chain(&nt, hash_node(n, by_ino));

			next = *next_of(n, by_ino);
			*next_of(n, by_ino) = *c;
			*c = n;
		}
	free(t->b);
	*t = nt;
	return 0;
}

static int table_add(struct table *t, bool by_ino, struct ino_node *n)
{
	struct ino_node **c;

	if (t->n >= t->nb && table_grow(t, by_ino) && t->nb == 0)
		return -ENOMEM;
	c = chain(t, hash_node(n, by_ino));
	*next_of(n, by_ino) = *c;
	*c = n;
	t->n++;
	return 0;
}

static void table_del(struct table *t, bool by_ino, struct ino_node *n)
{
	struct ino_node **pp;

	if (!t->nb)
		return;
	for (pp = chain(t, hash_node(n, by_ino)); *pp;
	     pp = next_of(*pp, by_ino))
		if (*pp == n) {
			*pp = *next_of(n, by_ino);
			t->n--;
			return;
		}
}

static struct ino_node *find_ino(fuse_ino_t ino)
{
	struct ino_node *n;

	if (ino == FUSE_ROOT_ID)
		return &ll.root;
	if (!ll.by_ino.nb)
		return NULL;
	for (n = *chain(&ll.by_ino, hash_ino(ino)); n; n = n->ino_next)
		if (n->ino == ino)
			return n;
	return NULL;
}

static struct ino_node *find_path(const char *path)
{
	struct ino_node *n;

	if (!strcmp(path, "/"))
		return &ll.root;
	if (!ll.by_path.nb)
		return NULL;
	for (n = *chain(&ll.by_path, hash_path(path)); n;
	     n = n->path_next)
		if (!strcmp(n->path, path))
			return n;
	return NULL;
}

static void snap_put(struct snap *s)
{
	size_t i;

	if (!s || --s->refs)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	free(s);
}

static void unhash(struct ino_node *n)
{
	if (n->hashed && n != &ll.root)
		table_del(&ll.by_path, false, n);
	n->hashed = false;
}

static void node_free(struct ino_node *n)
{
	table_del(&ll.by_ino, true, n);
	unhash(n);
	snap_put(n->snap);
	free(n->path);
	free(n);
}

/* The node of path, made if need be, with one more lookup; 0 if out of
 * memory. */
static fuse_ino_t node_ref(const char *path)
{
	struct ino_node *n;
	fuse_ino_t ino = 0;

	pthread_mutex_lock(&ll.lock);
	n = find_path(path);
	if (!n) {
		n = calloc(1, sizeof *n);
		if (!n || !(n->path = strdup(path)))
			goto nomem;
		n->ino = ll.next_ino++;
		if (table_add(&ll.by_ino, true, n))
			goto nomem;
		if (table_add(&ll.by_path, false, n)) {
			table_del(&ll.by_ino, true, n);
			goto nomem;
		}
		n->hashed = true;
	}
	n->nlookup++;
	ino = n->ino;
	goto out;
nomem:
	if (n)
		free(n->path);
	free(n);
out:
	pthread_mutex_unlock(&ll.lock);
	return ino;
}

static void node_forget(fuse_ino_t ino, uint64_t count)
{
	struct ino_node *n;

	pthread_mutex_lock(&ll.lock);
	n = find_ino(ino);
	if (n && n != &ll.root) {
		n->nlookup -= count < n->nlookup ? count : n->nlookup;
		if (n->nlookup == 0)
			node_free(n);
	}
	pthread_mutex_unlock(&ll.lock);
}

/* The inode number of path if the kernel may have it, else unknown. */
static fuse_ino_t ino_of(const char *path)
{
	struct ino_node *n;
	fuse_ino_t ino;

	pthread_mutex_lock(&ll.lock);
	n = find_path(path);
	ino = n ? n->ino : UNKNOWN_INO;
	pthread_mutex_unlock(&ll.lock);
	return ino;
}

/* The path of ino into buf (PATH_MAX). */
static int path_of(fuse_ino_t ino, char *buf)
{
	struct ino_node *n;
	int r = 0;

	pthread_mutex_lock(&ll.lock);
	n = find_ino(ino);
	if (!n)
		r = -ESTALE;
	else
		snprintf(buf, PATH_MAX, "%s", n->path);
	pthread_mutex_unlock(&ll.lock);
	return r;
}

static int join(const char *dir, const char *name, char *out)
{
	size_t n = (size_t)snprintf(out, PATH_MAX, "%s/%s",
				    strcmp(dir, "/") ? dir : "", name);

	return n < PATH_MAX ? 0 : -ENAMETOOLONG;
}

static int child_of(fuse_ino_t parent, const char *name, char *out)
{
	char dir[PATH_MAX];
	int r = path_of(parent, dir);

	return r ? r : join(dir, name, out);
}

static void debug(const char *op, fuse_ino_t ino, const char *path)
{
	if (ll.debug)
		fprintf(stderr, "%s[%llu] %s\n", op, (unsigned long long)ino,
			path);
}

/* Starts a request on the node ino: its path into path, or the error is
 * the reply and false is returned. */
static bool start(fuse_req_t req, const char *op, fuse_ino_t ino,
		  char *path)
{
	int r;

	current = req;
	r = path_of(ino, path);
	if (r) {
		fuse_reply_err(req, -r);
		return false;
	}
	debug(op, ino, path);
	return true;
}

/* The same for a name in the directory parent. */
static bool start_child(fuse_req_t req, const char *op, fuse_ino_t parent,
			const char *name, char *path)
{
	int r;

	current = req;
	r = child_of(parent, name, path);
	if (r) {
		fuse_reply_err(req, -r);
		return false;
	}
	debug(op, parent, path);
	return true;
}

/* The request this thread serves was interrupted (Ctrl-C on its caller),
 * or the whole session ends (unmount, SIGTERM): long work stops at its
 * next safe step either way. */
static uid_t caller(void)
{
	return current ? fuse_req_ctx(current)->uid : 0;
}

static pid_t caller_pid(void)
{
	return current ? fuse_req_ctx(current)->pid : 0;
}

static bool interrupted(void)
{
	return (current && fuse_req_interrupted(current)) ||
	       (ll.se && fuse_session_exited(ll.se));
}

/* kcache's notifications: the path's inode, if the kernel has one. */
static void inval(const char *path)
{
	fuse_ino_t ino = ino_of(path);

	if (ino != UNKNOWN_INO && ll.se)
		fuse_lowlevel_notify_inval_inode(ll.se, ino, 0, 0);
}

/* An entry for path: its attributes and a lookup on its node. */
static int entry_of(const char *path, struct fuse_entry_param *e)
{
	bool uncached;
	int r;

	memset(e, 0, sizeof *e);
	r = fs_stat(path, &e->attr, &uncached);
	if (r)
		return r;
	e->ino = node_ref(path);
	if (!e->ino)
		return -ENOMEM;
	e->attr.st_ino = e->ino;
	e->attr_timeout = uncached ? 0 : KC_TIMEOUT;
	e->entry_timeout = KC_TIMEOUT;
	return 0;
}

static void reply_entry(fuse_req_t req, const char *path)
{
	struct fuse_entry_param e;
	int r = entry_of(path, &e);

	if (r)
		fuse_reply_err(req, -r);
	else if (fuse_reply_entry(req, &e))
		node_forget(e.ino, 1);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)conn;
	fs_begin(userdata, inval, interrupted, caller, caller_pid);
}

static void ll_destroy(void *userdata)
{
	struct ino_node *n;
	size_t i;

	(void)userdata;
	fs_end();
	pthread_mutex_lock(&ll.lock);
	for (i = 0; i < ll.by_ino.nb; i++)
		while ((n = ll.by_ino.b[i]))
			node_free(n);
	snap_put(ll.root.snap);
	ll.root.snap = NULL;
	free(ll.by_ino.b);
	free(ll.by_path.b);
	memset(&ll.by_ino, 0, sizeof ll.by_ino);
	memset(&ll.by_path, 0, sizeof ll.by_path);
	ll.se = NULL;
	pthread_mutex_unlock(&ll.lock);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char path[PATH_MAX];

	if (start_child(req, "lookup", parent, name, path))
		reply_entry(req, path);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	size_t i;

	for (i = 0; i < count; i++)
		node_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void reply_attr(fuse_req_t req, fuse_ino_t ino, const char *path)
{
	struct stat st;
	bool uncached;
	int r = fs_stat(path, &st, &uncached);

	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	st.st_ino = ino;
	fuse_reply_attr(req, &st, uncached ? 0 : KC_TIMEOUT);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	char path[PATH_MAX];

	(void)fi;
	if (start(req, "getattr", ino, path))
		reply_attr(req, ino, path);
}

static struct timespec set_time(int to_set, int set, int now,
				struct timespec t)
{
	if (to_set & now)
		t.tv_nsec = UTIME_NOW;
	else if (!(to_set & set))
		t.tv_nsec = UTIME_OMIT;
	return t;
}

/* In libfuse's high-level order: mode, owner, size, times. */
static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	const struct fuse_operations *op = fs_operations();
	char path[PATH_MAX];
	int r = 0;

	if (!start(req, "setattr", ino, path))
		return;
	if (to_set & FUSE_SET_ATTR_MODE)
		r = op->chmod(path, attr->st_mode, fi);
	if (!r && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = op->chown(path,
			      to_set & FUSE_SET_ATTR_UID ? attr->st_uid
							 : (uid_t)-1,
			      to_set & FUSE_SET_ATTR_GID ? attr->st_gid
							 : (gid_t)-1,
			      fi);
	if (!r && (to_set & FUSE_SET_ATTR_SIZE))
		r = op->truncate(path, attr->st_size, fi);
	if (!r && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			     FUSE_SET_ATTR_ATIME_NOW |
			     FUSE_SET_ATTR_MTIME_NOW))) {
		struct timespec tv[2] = {
			set_time(to_set, FUSE_SET_ATTR_ATIME,
				 FUSE_SET_ATTR_ATIME_NOW, attr->st_atim),
			set_time(to_set, FUSE_SET_ATTR_MTIME,
				 FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim),
		};

		r = op->utimens(path, tv, fi);
	}
	if (r)
		fuse_reply_err(req, -r);
	else
		reply_attr(req, ino, path);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	char path[PATH_MAX];
	int r;

	if (!start_child(req, "mkdir", parent, name, path))
		return;
	r = fs_operations()->mkdir(path, mode);
	if (r)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, path);
}

/* A name gone: its node is no longer found by path (the kernel forgets
 * it later); a new object of that name gets a new number. */
static void gone(const char *path)
{
	struct ino_node *n;

	pthread_mutex_lock(&ll.lock);
	n = find_path(path);
	if (n)
		unhash(n);
	pthread_mutex_unlock(&ll.lock);
}

/* unlink and rmdir: the name's node is gone once it is. */
static void remove_name(fuse_req_t req, const char *op, fuse_ino_t parent,
			const char *name, int (*remove)(const char *path))
{
	char path[PATH_MAX];
	int r;

	if (!start_child(req, op, parent, name, path))
		return;
	r = remove(path);
	if (r == 0)
		gone(path);
	fuse_reply_err(req, -r);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, "unlink", parent, name, fs_operations()->unlink);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, "rmdir", parent, name, fs_operations()->rmdir);
}

/* The kernel moves the source's inode to the new name (and the one
 * there, if any, is no longer found by it): so does the table. */
static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	char from[PATH_MAX], to[PATH_MAX], *dup;
	struct ino_node *n;
	int r;

	if (!start_child(req, "rename", parent, name, from))
		return;
	r = child_of(newparent, newname, to);
	if (r == 0)
		r = fs_operations()->rename(from, to, flags);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	pthread_mutex_lock(&ll.lock);
	n = find_path(to);
	if (n)
		unhash(n);
	n = find_path(from);
	if (n && n != &ll.root && (dup = strdup(to))) {
		unhash(n);
		free(n->path);
		n->path = dup;
		if (table_add(&ll.by_path, false, n) == 0)
			n->hashed = true;
	}
	pthread_mutex_unlock(&ll.lock);
	fuse_reply_err(req, 0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const struct fuse_operations *op = fs_operations();
	char path[PATH_MAX];
	int r;

	if (!start(req, "open", ino, path))
		return;
	r = op->open(path, fi);
	if (r)
		fuse_reply_err(req, -r);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		op->release(path, fi);   /* interrupted: never opened */
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_operations *op = fs_operations();
	struct fuse_entry_param e;
	char path[PATH_MAX];
	int r;

	if (!start_child(req, "create", parent, name, path))
		return;
	r = op->create(path, mode, fi);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	r = entry_of(path, &e);
	if (r) {
		op->release(path, fi);
		fuse_reply_err(req, -r);
	} else if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		op->release(path, fi);
		node_forget(e.ino, 1);
	}
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char path[PATH_MAX], *buf;
	int r;

	if (!start(req, "read", ino, path))
		return;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r = fs_operations()->read(path, buf, size, off, fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	char path[PATH_MAX];
	int r;

	if (!start(req, "write", ino, path))
		return;
	r = fs_operations()->write(path, buf, size, off, fi);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[PATH_MAX];

	if (start(req, "flush", ino, path))
		fuse_reply_err(req, -fs_operations()->flush(path, fi));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	char path[PATH_MAX];

	if (start(req, "release", ino, path))
		fuse_reply_err(req, -fs_operations()->release(path, fi));
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	char path[PATH_MAX];

	if (start(req, "fsync", ino, path))
		fuse_reply_err(req,
			       -fs_operations()->fsync(path, datasync, fi));
}

static void ll_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	char path[PATH_MAX];
	unsigned revents = 0;
	int r;

	if (!start(req, "poll", ino, path)) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		return;
	}
	r = fs_operations()->poll(path, fi, ph, &revents);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_poll(req, revents);
}

/* The kernel opens directories itself (FUSE_NO_OPENDIR_SUPPORT), keeping
 * their listings; no RELEASEDIR follows. */
static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, ENOSYS);
}

static void snap_add(void *ctx, const char *name, bool dir)
{
	struct snap *s = ctx;
	struct snap_name *v;

	if (s->nomem)
		return;
	if (s->n == s->cap) {
		v = realloc(s->v, (s->cap ? s->cap * 2 : 32) * sizeof *v);
		if (!v) {
			s->nomem = true;
			return;
		}
		s->v = v;
		s->cap = s->cap ? s->cap * 2 : 32;
	}
	s->v[s->n].name = strdup(name);
	if (!s->v[s->n].name) {
		s->nomem = true;
		return;
	}
	s->v[s->n++].dir = dir;
}

/* The directory's listing: made at offset 0 (or if there is none), else
 * the one made then. */
static int snap_get(fuse_ino_t ino, const char *path, off_t off,
		    struct snap **out)
{
	struct snap *s = NULL;
	struct ino_node *n;
	int r;

	pthread_mutex_lock(&ll.lock);
	n = find_ino(ino);
	if (n && off > 0 && n->snap) {
		s = n->snap;
		s->refs++;
	}
	pthread_mutex_unlock(&ll.lock);
	if (s) {
		*out = s;
		return 0;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->refs = 1;
	snap_add(s, ".", true);
	snap_add(s, "..", true);
	r = fs_list(path, snap_add, s);
	if (r == 0 && s->nomem)
		r = -ENOMEM;
	if (r) {
		snap_put(s);
		return r;
	}
	pthread_mutex_lock(&ll.lock);
	n = find_ino(ino);
	if (n) {
		snap_put(n->snap);
		n->snap = s;
		s->refs++;
	}
	pthread_mutex_unlock(&ll.lock);
	*out = s;
	return 0;
}

/* An entry of READDIRPLUS: attributes only for names the kernel does not
 * have yet, and not for the root's files (each sums up the whole
 * estate, and a plain ls does not need them made). */
static size_t add_plus(fuse_req_t req, char *buf, size_t room,
		       const char *dir, const struct snap_name *sn,
		       off_t next)
{
	struct fuse_entry_param e;
	char path[PATH_MAX];
	size_t len;
	bool dots = !strcmp(sn->name, ".") || !strcmp(sn->name, "..");

	memset(&e, 0, sizeof e);
	if (dots || join(dir, sn->name, path) ||
	    (!sn->dir && !strcmp(dir, "/")) || kc_kept(path) ||
	    entry_of(path, &e)) {
		memset(&e, 0, sizeof e);
		e.attr.st_mode = sn->dir ? S_IFDIR : S_IFREG;
		e.attr.st_ino = dots ? UNKNOWN_INO : ino_of(path);
	}
	len = fuse_add_direntry_plus(req, buf, room, sn->name, &e, next);
	if (len > room && e.ino)
		node_forget(e.ino, 1);   /* not given */
	return len;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, bool plus)
{
	char path[PATH_MAX], *buf;
	struct snap *s;
	size_t pos = 0, len, i;
	int r;

	if (!start(req, plus ? "readdirplus" : "readdir", ino, path))
		return;
	r = snap_get(ino, path, off, &s);
	if (r) {
		fuse_reply_err(req, -r);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		pthread_mutex_lock(&ll.lock);
		snap_put(s);
		pthread_mutex_unlock(&ll.lock);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (i = off > 0 ? (size_t)off : 0; i < s->n; i++) {
		if (plus) {
			len = add_plus(req, buf + pos, size - pos, path,
				       &s->v[i], (off_t)i + 1);
		} else {
			struct stat st;
			char child[PATH_MAX];

			memset(&st, 0, sizeof st);
			st.st_mode = s->v[i].dir ? S_IFDIR : S_IFREG;
			st.st_ino = join(path, s->v[i].name, child) == 0
					    ? ino_of(child)
					    : UNKNOWN_INO;
			len = fuse_add_direntry(req, buf + pos, size - pos,
						s->v[i].name, &st,
						(off_t)i + 1);
		}
		if (len > size - pos)
			break;
		pos += len;
	}
	pthread_mutex_lock(&ll.lock);
	/* asked past its end: the kernel has it all and keeps it */
	if (off > 0 && (size_t)off >= s->n) {
		struct ino_node *n = find_ino(ino);

		if (n && n->snap == s) {
			n->snap = NULL;
			snap_put(s);
		}
	}
	snap_put(s);
	pthread_mutex_unlock(&ll.lock);
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, true);
}

static const struct fuse_lowlevel_ops ll_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.mkdir = ll_mkdir,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.rename = ll_rename,
	.open = ll_open,
	.create = ll_create,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.poll = ll_poll,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
};

const struct fuse_lowlevel_ops *ll_operations(void)
{
	return &ll_ops;
}

void ll_session(struct fuse_session *se, bool debug)
{
	pthread_mutex_lock(&ll.lock);
	ll.se = se;
	ll.debug = debug;
	ll.next_ino = FUSE_ROOT_ID + 1;
	ll.root.ino = FUSE_ROOT_ID;
	ll.root.path = (char *)"/";
	ll.root.hashed = true;
	pthread_mutex_unlock(&ll.lock);
}
