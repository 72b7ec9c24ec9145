#include "kcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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
	int changes;       /* tree_changes: enum attr_change */
	bool aggregate;    /* a file of the root: sums up the estate */
};

/* The entries of one tenant; "" for the root, its files and clouds/. */
struct kc_bucket {
	char name[64];
	struct objset entries;   /* of paths, each followed by its entry */
};

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* What to compare of a bucket: every entry (after an operation), those
 * the model or a driver changes (after a note), those a driver changes
 * (now and then). */
enum kc_check { KC_ALL, KC_NOTED, KC_POLLED };

#define KC_NOTES 32

/* The model's notes, waiting for the thread: a lock of their own, never
 * held while another is taken. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* protected by lock: */
	char tenants[KC_NOTES][64];
	size_t n;
	bool root, all;             /* the root noted; too many: all */
	bool poll;                  /* a value a driver changes was kept */
	bool stop;
} notes = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct {
	pthread_mutex_t lock;
	struct objset buckets;
	uint64_t gen;
	kc_inval_fn inval;
	kc_stat_fn stat;
	pthread_t thread;
	bool running;
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

bool kc_seen(const char *path, const struct stat *st, int changes,
	     uint64_t gen)
{
	struct kc_bucket *b;
	struct kc_entry *e;
	char name[64], *p;
	size_t len = strlen(path);
	bool ok = true, fresh = false;

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
		fresh = true;
	}
	e = entry_of(p);
	fill(e, st);
	if (changes == CHANGE_DRIVER &&
	    (fresh || e->changes != CHANGE_DRIVER)) {
		pthread_mutex_lock(&notes.lock);   /* a leaf: never waits */
		notes.poll = true;
		pthread_cond_signal(&notes.wake);
		pthread_mutex_unlock(&notes.lock);
	}
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

static bool to_check(const struct kc_entry *e, enum kc_check what)
{
	switch (what) {
	case KC_ALL:
		return true;
	case KC_NOTED:
		return e->changes == CHANGE_MODEL ||
		       e->changes == CHANGE_DRIVER;
	default:
		return e->changes == CHANGE_DRIVER;
	}
}

/* Compares the bucket's entries (those what says) with what they are
 * now, and frees the bucket once empty. (The file an operation wrote
 * needs nothing more: the kernel drops its size and time itself.) */
static void check_bucket(struct kc_bucket *b, enum kc_check what)
{
	struct stat st;
	int changes;
	size_t i = b->entries.n;
	char *p;

	while (i-- > 0) {
		struct kc_entry *e;

		p = b->entries.v[i];
		e = entry_of(p);
		if (!to_check(e, what))
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
static void check_all(enum kc_check what)
{
	size_t i = kc.buckets.n;

	while (i-- > 0)
		check_bucket(kc.buckets.v[i], what);
}

/* Whether the kernel keeps a value a driver changes. */
static bool some_polled(void)
{
	const struct kc_bucket *b;
	size_t i, j;

	objset_each(&kc.buckets, i, b)
		for (j = 0; j < b->entries.n; j++)
			if (entry_of(b->entries.v[j])->changes == CHANGE_DRIVER)
				return true;
	return false;
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
		check_all(KC_ALL);
		goto out;
	}
	if (b)
		check_bucket(b, KC_ALL);
	b = objset_find(&kc.buckets, "");
	if (b)
		check_bucket(b, KC_ALL);
out:
	pthread_mutex_unlock(&kc.lock);
}

void kc_note(const char *tenant)
{
	size_t i;

	pthread_mutex_lock(&notes.lock);
	if (!tenant || !*tenant) {
		notes.root = true;
	} else {
		for (i = 0; i < notes.n; i++)
			if (!strcmp(notes.tenants[i], tenant))
				break;
		if (i == notes.n && notes.n < KC_NOTES)
			snprintf(notes.tenants[notes.n++], 64, "%s", tenant);
		else if (i == notes.n)
			notes.all = true;
	}
	pthread_cond_signal(&notes.wake);
	pthread_mutex_unlock(&notes.lock);
}

/* Waits for notes, or until due (0: no look is due); takes the notes
 * waiting into mine (n counts the root's bucket last). False: stop. */
static bool notes_wait(int64_t due, char (*mine)[64], size_t *n, bool *all)
{
	struct timespec until;
	bool go;

	pthread_mutex_lock(&notes.lock);
	if (due)
		deadline_in(&until, due > clock_ms() ? due - clock_ms() : 0);
	while (!notes.stop && !notes.n && !notes.root && !notes.all &&
	       !notes.poll && (!due || clock_ms() < due)) {
		if (due)
			pthread_cond_timedwait(&notes.wake, &notes.lock,
					       &until);
		else
			pthread_cond_wait(&notes.wake, &notes.lock);
	}
	memcpy(mine, notes.tenants, notes.n * sizeof notes.tenants[0]);
	*n = notes.n;
	*all = notes.all;
	if (notes.root || notes.all || notes.n)
		*n += 1;   /* and the root's bucket */
	notes.n = 0;
	notes.root = notes.all = notes.poll = false;
	go = !notes.stop;
	pthread_mutex_unlock(&notes.lock);
	return go;
}

/* The buckets noted (the root's last), or all. */
static void check_noted(char (*names)[64], size_t n, bool all)
{
	struct kc_bucket *b;
	size_t i;

	if (all) {
		check_all(KC_NOTED);
		return;
	}
	for (i = 0; i + 1 < n; i++)
		if ((b = objset_find(&kc.buckets, names[i])))
			check_bucket(b, KC_NOTED);
	if (n && (b = objset_find(&kc.buckets, "")))
		check_bucket(b, KC_NOTED);
}

static void *kc_thread(void *arg)
{
	static char names[KC_NOTES + 1][64];
	int64_t due = 0, now, took, period = KC_PERIOD_MS;
	bool all;
	size_t n;

	(void)arg;
	while (notes_wait(due, names, &n, &all)) {
		pthread_mutex_lock(&kc.lock);
		now = clock_ms();
		kc.gen++;
		check_noted(names, n, all);
		if (due && now >= due) {
			check_all(KC_POLLED);
			took = clock_ms() - now;
			/* at most about 5% of a core on looks */
			period = took * 20 > KC_PERIOD_MS ? took * 20
							  : KC_PERIOD_MS;
			due = 0;
		}
		if (!some_polled())
			due = 0;
		else if (!due)
			due = now + period;
		pthread_mutex_unlock(&kc.lock);
	}
	return NULL;
}

void kc_start(kc_inval_fn inval, kc_stat_fn stat_fn)
{
	cond_init_monotonic(&notes.wake);
	pthread_mutex_lock(&kc.lock);
	kc.inval = inval;
	kc.stat = stat_fn;
	pthread_mutex_unlock(&kc.lock);
	pthread_mutex_lock(&notes.lock);
	notes.stop = false;
	pthread_mutex_unlock(&notes.lock);
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

	pthread_mutex_lock(&notes.lock);
	notes.stop = true;
	pthread_cond_broadcast(&notes.wake);
	pthread_mutex_unlock(&notes.lock);
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
	/* notes.wake stays: a late note (a migration ending after the
	 * unmount) signals it harmlessly */
}
