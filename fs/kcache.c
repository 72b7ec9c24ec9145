#include "kcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/tree.h"
#include "../lib/log.h"
#include "../lib/util.h"

/* What the kernel was given for a path. The path is allocated in front
 * of it, so that an entry is an objset member (name first). */
struct kc_entry {
	mode_t mode;
	nlink_t nlink;
	off_t size;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	bool changes;      /* tree_changes */
	bool aggregate;    /* a file of the root: sums up the estate */
};

/* The entries of one tenant; "" for the root, its files and clouds/. */
struct kc_bucket {
	char name[64];
	struct objset entries;   /* of paths, each followed by its entry */
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct objset buckets;
	uint64_t gen;
	kc_inval_fn inval;
	kc_stat_fn stat;
	pthread_t thread;
	bool running, stop;
} kc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct kc_entry *entry_of(char *path)
{
	return (struct kc_entry *)(path + ALIGN8(strlen(path) + 1));
}

/* The bucket's name: the first component of the path (a tenant), or ""
 * for the root, its files and clouds/. */
static void bucket_name(const char *path, char name[64])
{
	const char *s = path + (path[0] == '/'), *e = strchr(s, '/');
	size_t n = e ? (size_t)(e - s) : strlen(s);

	if (n >= 64)
		n = 0;
	memcpy(name, s, n);
	name[n] = '\0';
	if (tree_name_reserved(NODE_ROOT, name))
		name[0] = '\0';
}

/* The path's bucket (kc.lock held), NULL if none yet; name: its name. */
static struct kc_bucket *bucket_of(const char *path, char name[64])
{
	bucket_name(path, name);
	return objset_find(&kc.buckets, name);
}

/* spec.yaml, topology.dot, status and events of the root. */
static bool is_aggregate(const char *path, const struct stat *st)
{
	return !S_ISDIR(st->st_mode) && path[0] == '/' &&
	       !strchr(path + 1, '/') && tree_name_reserved(NODE_ROOT, path + 1);
}

static void fill(struct kc_entry *e, const struct stat *st)
{
	e->mode = st->st_mode;
	e->nlink = st->st_nlink;
	e->size = st->st_size;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime = st->st_mtim;
}

static bool same(const struct kc_entry *e, const struct stat *st)
{
	return e->mode == st->st_mode && e->nlink == st->st_nlink &&
	       e->size == st->st_size && e->uid == st->st_uid &&
	       e->gid == st->st_gid &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

uint64_t kc_gen(void)
{
	uint64_t g;

	pthread_mutex_lock(&kc.lock);
	g = kc.gen;
	pthread_mutex_unlock(&kc.lock);
	return g;
}

bool kc_seen(const char *path, const struct stat *st, bool changes,
	     uint64_t gen)
{
	struct kc_bucket *b;
	struct kc_entry *e;
	char name[64], *p;
	size_t len = strlen(path);
	bool ok = true;

	pthread_mutex_lock(&kc.lock);
	if (kc.gen != gen) {
		ok = false;
		goto out;
	}
	b = bucket_of(path, name);
	if (!b) {
		b = calloc(1, sizeof *b);
		if (!b || (memcpy(b->name, name, sizeof name),
			   objset_add(&kc.buckets, b))) {
			free(b);
			goto nomem;
		}
	}
	p = objset_find(&b->entries, path);
	if (!p) {
		p = malloc(ALIGN8(len + 1) + sizeof *e);
		if (!p)
			goto nomem;
		memcpy(p, path, len + 1);
		if (objset_add(&b->entries, p)) {
			free(p);
			goto nomem;
		}
	}
	e = entry_of(p);
	fill(e, st);
	e->changes = changes;
	e->aggregate = is_aggregate(path, st);
	goto out;
nomem:
	/* the kernel keeps it all the same: it expires by the timeout */
	log_warnx("kernel cache list: out of memory for %s", path);
out:
	pthread_mutex_unlock(&kc.lock);
	return ok;
}

bool kc_kept(const char *path)
{
	struct kc_bucket *b;
	char name[64];
	bool kept;

	pthread_mutex_lock(&kc.lock);
	b = bucket_of(path, name);
	kept = b && objset_find(&b->entries, path);
	pthread_mutex_unlock(&kc.lock);
	return kept;
}

/* Tells the kernel to forget the path's attributes, and drops the entry
 * (the bucket's i-th). */
static void forget(struct kc_bucket *b, size_t i)
{
	char *p = b->entries.v[i];

	if (kc.inval)
		kc.inval(p);
	objset_del(&b->entries, p);
	free(p);
}

/* Compares the bucket's entries (all, or only those that change by
 * themselves) with what they are now, and frees the bucket once empty.
 * (The file an operation wrote needs nothing more: the kernel drops its
 * size and time itself.) */
static void check_bucket(struct kc_bucket *b, bool all)
{
	struct stat st;
	bool changes;
	size_t i = b->entries.n;
	char *p;

	while (i-- > 0) {
		struct kc_entry *e;

		p = b->entries.v[i];
		e = entry_of(p);
		if (!all && !e->changes)
			continue;
		if (e->aggregate || kc.stat(p, &st, &changes) ||
		    !same(e, &st))
			forget(b, i);
	}
	if (b->entries.n == 0) {
		objset_del(&kc.buckets, b);
		objset_free(&b->entries);
		free(b);
	}
}

/* Every bucket (from the end: a checked one may go). */
static void check_all(bool all)
{
	size_t i = kc.buckets.n;

	while (i-- > 0)
		check_bucket(kc.buckets.v[i], all);
}

void kc_after_op(const char *path)
{
	struct kc_bucket *b;
	char name[64];

	pthread_mutex_lock(&kc.lock);
	if (!kc.stat)
		goto out;
	kc.gen++;
	b = bucket_of(path, name);
	if (name[0] == '\0') {
		/* the root's spec.yaml (or clouds/): anything may have moved */
		check_all(true);
		goto out;
	}
	if (b)
		check_bucket(b, true);
	b = objset_find(&kc.buckets, "");
	if (b)
		check_bucket(b, true);
out:
	pthread_mutex_unlock(&kc.lock);
}

static void *kc_thread(void *arg)
{
	struct timespec until;
	int64_t t0, took, wait;

	(void)arg;
	pthread_mutex_lock(&kc.lock);
	while (!kc.stop) {
		t0 = clock_ms();
		kc.gen++;
		check_all(false);
		took = clock_ms() - t0;
		/* at most about 5% of a core on checks */
		wait = took * 20 > KC_PERIOD_MS ? took * 20 : KC_PERIOD_MS;
		deadline_in(&until, wait);
		while (!kc.stop &&
		       pthread_cond_timedwait(&kc.wake, &kc.lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&kc.lock);
	return NULL;
}

void kc_start(kc_inval_fn inval, kc_stat_fn stat_fn)
{
	cond_init_monotonic(&kc.wake);
	pthread_mutex_lock(&kc.lock);
	kc.inval = inval;
	kc.stat = stat_fn;
	kc.stop = false;
	pthread_mutex_unlock(&kc.lock);
	if (pthread_create(&kc.thread, NULL, kc_thread, NULL) == 0)
		kc.running = true;
	else
		log_warnx("kernel cache checker: no thread; values that change "
			  "by themselves are checked after operations only");
}

void kc_stop(void)
{
	struct kc_bucket *b;
	size_t i, j;

	pthread_mutex_lock(&kc.lock);
	kc.stop = true;
	pthread_cond_broadcast(&kc.wake);
	pthread_mutex_unlock(&kc.lock);
	if (kc.running)
		pthread_join(kc.thread, NULL);
	kc.running = false;
	pthread_mutex_lock(&kc.lock);
	objset_each(&kc.buckets, i, b) {
		for (j = 0; j < b->entries.n; j++)
			free(b->entries.v[j]);
		objset_free(&b->entries);
		free(b);
	}
	objset_free(&kc.buckets);
	kc.inval = NULL;
	kc.stat = NULL;
	pthread_mutex_unlock(&kc.lock);
	pthread_cond_destroy(&kc.wake);
}
