#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *text_clean(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

int err_set(char *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, ERRLEN, fmt, ap);
		va_end(ap);
		text_clean(err);
	}
	return -code;
}

static const struct {
	int code;
	const char *name;
} errno_names[] = {
		{ EPERM, "EPERM" },	    { ENOENT, "ENOENT" },
		{ EINTR, "EINTR" },	    { EIO, "EIO" },
		{ ENOMEM, "ENOMEM" },	    { EACCES, "EACCES" },
		{ EBUSY, "EBUSY" },	    { EEXIST, "EEXIST" },
		{ ENODEV, "ENODEV" },	    { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" },	    { EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" },	    { ERANGE, "ERANGE" },
		{ ENAMETOOLONG, "ENAMETOOLONG" },
		{ ENOTEMPTY, "ENOTEMPTY" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EHOSTUNREACH, "EHOSTUNREACH" },
		{ ECONNREFUSED, "ECONNREFUSED" },
		{ EAGAIN, "EAGAIN" },	    { ESRCH, "ESRCH" },
		{ ENOTCONN, "ENOTCONN" },   { EROFS, "EROFS" },
		{ EFBIG, "EFBIG" },	    { ENOSYS, "ENOSYS" },
		{ EPROTO, "EPROTO" },	    { E2BIG, "E2BIG" },
		{ EADDRINUSE, "EADDRINUSE" },
		{ EDQUOT, "EDQUOT" },	    { ESTALE, "ESTALE" },
};

const char *errno_name(int code)
{
	static __thread char other[16];
	size_t i;

	if (code < 0)
		code = -code;
	for (i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (errno_names[i].code == code)
			return errno_names[i].name;
	snprintf(other, sizeof other, "E%d", code);
	return other;
}

int errno_value(const char *name)
{
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(errno_names); i++)
		if (!strcmp(errno_names[i].name, name))
			return errno_names[i].code;
	if (name[0] == 'E' && sscanf(name + 1, "%d", &n) == 1 && n > 0 &&
	    n < 4096)
		return n;
	return EIO;
}

int sb_reserve(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	size_t cap = sb->cap ? sb->cap : 64;
	char *s;

	if (need <= sb->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	s = realloc(sb->s, cap);
	if (!s)
		return -ENOMEM;
	sb->s = s;
	sb->cap = cap;
	return 0;
}

int sb_append(struct strbuf *sb, const char *s, size_t n)
{
	if (sb_reserve(sb, n))
		return -ENOMEM;
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
	return 0;
}

int sb_puts(struct strbuf *sb, const char *s)
{
	return sb_append(sb, s, strlen(s));
}

int sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_reserve(sb, (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->s ? sb->s : "";
}

bool line_next(const char **cursor, const char **line, size_t *len)
{
	const char *p = *cursor, *nl;

	if (!p || !*p)
		return false;
	nl = strchr(p, '\n');
	*line = p;
	*len = nl ? (size_t)(nl - p) : strlen(p);
	*cursor = nl ? nl + 1 : p + *len;
	return true;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = -errno;
	else if (fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_replace(const char *path, const void *data, size_t len,
			 mode_t mode, bool durable)
{
	char tmp[4096];
	int fd, r;

	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof tmp)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r)
		goto fail;
	if (durable && fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return durable ? fsync_dir_of(path) : 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	return write_replace(path, data, len, mode, true);
}

/* The spare, open for writing in place: a regular file with no other
 * name (else it is made again, so a link planted there is never written
 * through). */
static int spare_open(const char *spare, mode_t mode)
{
	struct stat st;
	int fd = open(spare, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1)
		return fd;
	if (fd >= 0)
		close(fd);
	if (unlink(spare) < 0 && errno != ENOENT)
		return -errno;
	fd = open(spare, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	return fd < 0 ? -errno : fd;
}

int file_write_swap(const char *path, const char *spare, const void *data,
		    size_t len, mode_t mode)
{
	bool exchanged = true;
	int fd, r;

	fd = spare_open(spare, mode);
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);   /* from offset 0: just opened */
	if (r == 0 && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r)
		return r;   /* path untouched; the spare is only a spare */
	if (renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_EXCHANGE) < 0) {
		/* no path yet, or a file system without the exchange */
		if (errno != ENOENT && errno != EINVAL)
			return -errno;
		if (rename(spare, path) < 0)
			return -errno;
		exchanged = false;
	}
	r = fsync_dir_of(path);
	if (r) {
		/* The caller will undo its change: so must path, or the
		 * change would come back from it. The replaced version is
		 * the spare (or, with a plain rename, there was none). */
		if (exchanged)
			renameat2(AT_FDCWD, spare, AT_FDCWD, path,
				  RENAME_EXCHANGE);
		else
			rename(path, spare);
	}
	return r;
}

int file_write_replace(const char *path, const void *data, size_t len,
		       mode_t mode)
{
	return write_replace(path, data, len, mode, false);
}

int file_cut_head(const char *path, off_t max, off_t keep)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	off_t cut;
	int r = 1;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size <= max) {
		r = 0;
		goto out;
	}
	cut = (st.st_size - keep) / st.st_blksize * st.st_blksize;
	if (cut <= 0 || fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, cut) < 0) {
		if (ftruncate(fd, 0) < 0)
			r = -errno;
	}
out:
	close(fd);
	return r;
}

int file_read(const char *path, struct strbuf *sb, size_t max)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if (sb->len + (size_t)n > max) {
			r = -EFBIG;
			break;
		}
		if (sb_append(sb, buf, (size_t)n)) {
			r = -ENOMEM;
			break;
		}
	}
	close(fd);
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

void deadline_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool word_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!safe_char(*s))
			return false;
	return true;
}

bool path_safe(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s; s++)
		if (*s != '/' && !safe_char(*s))
			return false;
	return true;
}

int ip_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (strlen(s) >= IP_STRLEN || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

void ip_format(uint32_t ip, char buf[IP_STRLEN])
{
	snprintf(buf, IP_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
}

enum name_fault name_fault(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return NAME_EMPTY;
	if (n > NAME_MAXLEN)
		return NAME_LONG;
	if (s[0] == '.' || s[0] == '-')
		return NAME_START;
	return word_safe(s) ? NAME_OK : NAME_CHAR;
}

bool name_valid(const char *s)
{
	return name_fault(s) == NAME_OK;
}

static bool hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool mac_valid(const char *s)
{
	int i;

	for (i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !hex_lower(s[i]))
			return false;
	return s[17] == '\0';
}

bool uuid_valid(const char *s)
{
	int i;

	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							       : !hex_lower(s[i]))
			return false;
	return s[36] == '\0';
}

uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

bool dns_name_valid(const char *s)
{
	size_t total = 0, label = 0;
	char prev = '.';

	for (; *s; s++, total++) {
		char c = *s;
		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && label == 0)
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		prev = c;
	}
	return total > 0 && total <= 253 && label > 0 && prev != '-';
}

/* Binary search: index of name, or where it would be inserted. */
static size_t objset_pos(const struct objset *set, const char *name,
			 bool *found)
{
	size_t lo = 0, hi = set->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp((const char *)set->v[mid], name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *objset_find(const struct objset *set, const char *name)
{
	bool found;
	size_t i = objset_pos(set, name, &found);

	return found ? set->v[i] : NULL;
}

int objset_add(struct objset *set, void *obj)
{
	bool found;
	size_t i = objset_pos(set, (const char *)obj, &found);

	if (found)
		return -EEXIST;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		void **v = realloc(set->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	memmove(set->v + i + 1, set->v + i, (set->n - i) * sizeof *set->v);
	set->v[i] = obj;
	set->n++;
	return 0;
}

void objset_del(struct objset *set, const void *obj)
{
	bool found;
	size_t i = objset_pos(set, (const char *)obj, &found);

	if (!found || set->v[i] != obj)
		return;
	memmove(set->v + i, set->v + i + 1, (set->n - i - 1) * sizeof *set->v);
	set->n--;
}

void objset_free(struct objset *set)
{
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}
