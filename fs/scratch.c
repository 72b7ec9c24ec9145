#include "scratch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct scratch {
	char *path;
	struct strbuf data;
	mode_t mode;
	uid_t uid;          /* who made it */
	time_t mtime;
	int refs;           /* the list's one, and each holder's */
	struct scratch *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *files;
static size_t nfiles;

static struct scratch *find(const char *path)
{
	struct scratch *s;

	for (s = files; s; s = s->next)
		if (!strcmp(s->path, path))
			return s;
	return NULL;
}

static void unref(struct scratch *s)
{
	if (--s->refs > 0)
		return;
	sb_free(&s->data);
	free(s->path);
	free(s);
}

static void unlist(struct scratch *s)
{
	struct scratch **p;

	for (p = &files; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			nfiles--;
			unref(s);
			return;
		}
}

static size_t files_of(uid_t uid)
{
	struct scratch *s;
	size_t n = 0;

	for (s = files; s; s = s->next)
		n += s->uid == uid;
	return n;
}

int scratch_create(const char *path, mode_t mode, uid_t uid,
		   struct scratch **out)
{
	struct scratch *s;
	int r = 0;

	pthread_mutex_lock(&lock);
	if (find(path))
		r = -EEXIST;
	else if (nfiles >= SCRATCH_MAX)
		r = -ENOSPC;
	else if (files_of(uid) >= SCRATCH_USER_MAX)
		r = -EDQUOT;
	else if (!(s = calloc(1, sizeof *s)) || !(s->path = strdup(path))) {
		if (s)
			free(s);
		r = -ENOMEM;
	}
	if (r == 0) {
		s->mode = mode & 0777;
		s->uid = uid;
		s->mtime = time(NULL);
		s->refs = 2;
		s->next = files;
		files = s;
		nfiles++;
		*out = s;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

struct scratch *scratch_get(const char *path)
{
	struct scratch *s;

	pthread_mutex_lock(&lock);
	s = find(path);
	if (s)
		s->refs++;
	pthread_mutex_unlock(&lock);
	return s;
}

void scratch_put(struct scratch *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&lock);
	unref(s);
	pthread_mutex_unlock(&lock);
}

void scratch_stat(struct scratch *s, size_t *size, mode_t *mode,
		  time_t *mtime)
{
	pthread_mutex_lock(&lock);
	*size = s->data.len;
	*mode = s->mode;
	*mtime = s->mtime;
	pthread_mutex_unlock(&lock);
}

void scratch_chmod(struct scratch *s, mode_t mode)
{
	pthread_mutex_lock(&lock);
	s->mode = mode & 0777;
	pthread_mutex_unlock(&lock);
}

int scratch_read(struct scratch *s, char *buf, size_t size, off_t off)
{
	int n = 0;

	pthread_mutex_lock(&lock);
	if (off >= 0 && (size_t)off < s->data.len) {
		if (size > s->data.len - (size_t)off)
			size = s->data.len - (size_t)off;
		memcpy(buf, s->data.s + off, size);
		n = (int)size;
	}
	pthread_mutex_unlock(&lock);
	return n;
}

/* Grows (zero-filled) or shrinks the content to len bytes. */
static int resize(struct scratch *s, size_t len)
{
	if (len > SCRATCH_SIZE_MAX)
		return -EFBIG;
	if (len > s->data.len) {
		if (sb_reserve(&s->data, len - s->data.len))
			return -ENOMEM;
		memset(s->data.s + s->data.len, 0, len - s->data.len);
	}
	s->data.len = len;
	if (s->data.s)
		s->data.s[len] = '\0';
	s->mtime = time(NULL);
	return 0;
}

int scratch_write(struct scratch *s, const char *buf, size_t size, off_t off)
{
	int r = 0;

	if (off < 0 || (size_t)off > SCRATCH_SIZE_MAX ||
	    size > SCRATCH_SIZE_MAX - (size_t)off)
		return -EFBIG;
	pthread_mutex_lock(&lock);
	if ((size_t)off + size > s->data.len)
		r = resize(s, (size_t)off + size);
	if (r == 0)
		memcpy(s->data.s + off, buf, size);
	pthread_mutex_unlock(&lock);
	return r ? r : (int)size;
}

int scratch_truncate(struct scratch *s, off_t size)
{
	int r;

	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	r = resize(s, (size_t)size);
	pthread_mutex_unlock(&lock);
	return r;
}

int scratch_content(struct scratch *s, struct strbuf *out)
{
	int r;

	pthread_mutex_lock(&lock);
	r = sb_append(out, s->data.len ? s->data.s : "", s->data.len);
	pthread_mutex_unlock(&lock);
	return r;
}

int scratch_unlink(const char *path)
{
	struct scratch *s;

	pthread_mutex_lock(&lock);
	s = find(path);
	if (s)
		unlist(s);
	pthread_mutex_unlock(&lock);
	return s ? 0 : -ENOENT;
}

int scratch_rename(const char *from, const char *to)
{
	struct scratch *s, *old;
	char *p;
	int r = 0;

	if (!(p = strdup(to)))
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	s = find(from);
	if (!s) {
		r = -ENOENT;
	} else if (strcmp(from, to)) {
		old = find(to);
		if (old)
			unlist(old);
		free(s->path);
		s->path = p;
		p = NULL;
	}
	pthread_mutex_unlock(&lock);
	free(p);
	return r;
}

void scratch_list(const char *dir, void (*fill)(void *ctx, const char *name),
		  void *ctx)
{
	struct scratch *s;
	size_t n = strlen(dir);

	if (n == 1)
		n = 0;   /* "/" */
	pthread_mutex_lock(&lock);
	for (s = files; s; s = s->next)
		if (!strncmp(s->path, dir, n) && s->path[n] == '/' &&
		    !strchr(s->path + n + 1, '/'))
			fill(ctx, s->path + n + 1);
	pthread_mutex_unlock(&lock);
}
