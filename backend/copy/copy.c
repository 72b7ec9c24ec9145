#include "copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../lib/log.h"
#include "sum.h"
#include "../../lib/util.h"

const char *copy_area_name(enum copy_area a)
{
	return a == COPY_IMAGES ? "images" : "disks";
}

int copy_area_parse(const char *s, enum copy_area *out)
{
	if (!strcmp(s, "disks"))
		*out = COPY_DISKS;
	else if (!strcmp(s, "images"))
		*out = COPY_IMAGES;
	else
		return -EINVAL;
	return 0;
}

static bool ends_with(const char *s, const char *ext, char *stem, size_t len)
{
	size_t n = strlen(s), e = strlen(ext);

	if (n <= e || n - e >= len || strcmp(s + n - e, ext))
		return false;
	memcpy(stem, s, n - e);
	stem[n - e] = '\0';
	return true;
}

bool copy_name_valid(enum copy_area a, const char *name)
{
	char stem[NAME_MAXLEN + 40];

	if (a == COPY_DISKS)
		return (ends_with(name, ".qcow2", stem, sizeof stem) ||
			ends_with(name, ".console", stem, sizeof stem)) &&
		       uuid_valid(stem);
	return (ends_with(name, ".kernel", stem, sizeof stem) ||
		ends_with(name, ".initrd", stem, sizeof stem) ||
		ends_with(name, ".qcow2", stem, sizeof stem)) &&
	       name_valid(stem);
}

void copy_sum_hex(const unsigned char *sum, char hex[COPY_SUM_HEX])
{
	size_t i;

	for (i = 0; i < COPY_SUM_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
}

int copy_sum_parse(const char *hex, unsigned char *sum)
{
	size_t i;

	if (strlen(hex) != 2 * COPY_SUM_LEN)
		return -EINVAL;
	for (i = 0; i < COPY_SUM_LEN; i++) {
		unsigned v;

		if (!strchr("0123456789abcdef", hex[2 * i]) || !hex[2 * i] ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		sum[i] = (unsigned char)v;
	}
	return 0;
}

ssize_t copy_src_read(struct copy_src *s, uint64_t *off, void *buf,
		      size_t cap, char *err)
{
	return s->ops->read(s, off, buf, cap, err);
}

void copy_src_close(struct copy_src *s)
{
	if (s)
		s->ops->close(s);
}

int copy_dst_write(struct copy_dst *d, uint64_t off, const void *buf,
		   size_t len, char *err)
{
	return d->ops->write(d, off, buf, len, err);
}

int copy_dst_finish(struct copy_dst *d, const unsigned char *sum, char *err)
{
	return d->ops->finish(d, sum, err);
}

void copy_dst_abort(struct copy_dst *d)
{
	if (d)
		d->ops->abort(d);
}

/* ---- the content's SHA-256: holes count as the zeros they read as ---- */

static const unsigned char zeros[65536];

static int hash_zeros(EVP_MD_CTX *h, uint64_t n)
{
	while (n > 0) {
		size_t k = n > sizeof zeros ? sizeof zeros : (size_t)n;

		if (EVP_DigestUpdate(h, zeros, k) != 1)
			return -EIO;
		n -= k;
	}
	return 0;
}

EVP_MD_CTX *copy_hash_new(void)
{
	EVP_MD_CTX *h = EVP_MD_CTX_new();

	if (h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h);
		h = NULL;
	}
	return h;
}

int copy_hash_end(EVP_MD_CTX *h, unsigned char *sum)
{
	unsigned n = 0;

	return EVP_DigestFinal_ex(h, sum, &n) == 1 && n == COPY_SUM_LEN
		       ? 0 : -EIO;
}

/* The next data extent at or after *pos, below size: 1 with [*start,
 * *end), 0 when only holes are left. */
static int next_extent(int fd, uint64_t pos, uint64_t size, uint64_t *start,
		       uint64_t *end)
{
	off_t d, h;

	if (pos >= size)
		return 0;
	d = lseek(fd, (off_t)pos, SEEK_DATA);
	if (d < 0)
		return errno == ENXIO ? 0 : -errno;
	if ((uint64_t)d >= size)
		return 0;
	h = lseek(fd, d, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*start = (uint64_t)d;
	*end = (uint64_t)h < size ? (uint64_t)h : size;
	return 1;
}

/* SHA-256 of a file's first size bytes, reading its data extents only. */
static int hash_file(int fd, uint64_t size, unsigned char *sum)
{
	EVP_MD_CTX *h = copy_hash_new();
	/* on the heap: a buffer in TLS is zeroed at every thread start
	 * (every FUSE worker), and a MiB of it costs */
	const size_t len = 1 << 20;
	unsigned char *buf = malloc(len);
	uint64_t pos = 0, start, end;
	int r = h && buf ? 0 : -ENOMEM;

	while (r == 0 && (r = next_extent(fd, pos, size, &start, &end)) == 1) {
		r = hash_zeros(h, start - pos);
		for (pos = start; r == 0 && pos < end;) {
			size_t want = end - pos > len ? len : end - pos;
			ssize_t n = pread(fd, buf, want, (off_t)pos);

			if (n <= 0)
				r = n < 0 ? -errno : -EIO;
			else if (EVP_DigestUpdate(h, buf, (size_t)n) != 1)
				r = -EIO;
			else
				pos += (uint64_t)n;
		}
	}
	if (r == 0)
		r = hash_zeros(h, size - pos);
	if (r == 0)
		r = copy_hash_end(h, sum);
	EVP_MD_CTX_free(h);
	free(buf);
	return r;
}

/* ---- a file of this host, read ---- */

struct local_src {
	struct copy_src base;
	int fd;
	uint64_t pos;            /* everything before is hashed */
	uint64_t ext_end;        /* end of the extent being read */
	EVP_MD_CTX *hash;
};

static ssize_t lsrc_read(struct copy_src *cs, uint64_t *off, void *buf,
			 size_t cap, char *err)
{
	struct local_src *s = (struct local_src *)cs;
	uint64_t start, end;
	ssize_t n;
	int r;

	if (cs->ended)
		return 0;
	if (s->pos >= s->ext_end) {
		r = next_extent(s->fd, s->pos, cs->size, &start, &end);
		if (r < 0)
			return err_set(err, -r, "finding data: %s",
				       strerror(-r));
		if (r == 0) {
			r = hash_zeros(s->hash, cs->size - s->pos);
			if (r == 0)
				r = copy_hash_end(s->hash, cs->sum);
			if (r)
				return err_set(err, EIO, "checksum failed");
			cs->ended = true;
			return 0;
		}
		if (hash_zeros(s->hash, start - s->pos))
			return err_set(err, EIO, "checksum failed");
		s->pos = start;
		s->ext_end = end;
	}
	if (cap > s->ext_end - s->pos)
		cap = (size_t)(s->ext_end - s->pos);
	n = pread(s->fd, buf, cap, (off_t)s->pos);
	if (n < 0)
		return err_set(err, errno, "reading: %s", strerror(errno));
	if (n == 0)
		return err_set(err, EIO, "the file shrank while being copied");
	if (EVP_DigestUpdate(s->hash, buf, (size_t)n) != 1)
		return err_set(err, EIO, "checksum failed");
	*off = s->pos;
	s->pos += (uint64_t)n;
	return n;
}

static void lsrc_close(struct copy_src *cs)
{
	struct local_src *s = (struct local_src *)cs;

	close(s->fd);
	EVP_MD_CTX_free(s->hash);
	free(s);
}

static const struct copy_src_ops local_src_ops = {
	.read = lsrc_read,
	.close = lsrc_close,
};

int copy_src_local(const char *dir, const char *name, struct copy_src **out,
		   char *err)
{
	char path[PATH_MAX];
	struct local_src *s;
	uint64_t pos = 0, start, end;
	struct stat st;
	int fd, r;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "%s: %s", path, strerror(errno));
	s = calloc(1, sizeof *s);
	if (!s || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    !(s->hash = copy_hash_new())) {
		r = err_set(err, s ? EINVAL : ENOMEM, "%s: not a file to "
			    "copy", path);
		goto fail;
	}
	s->base.ops = &local_src_ops;
	s->base.size = (uint64_t)st.st_size;
	s->fd = fd;
	while ((r = next_extent(fd, pos, s->base.size, &start, &end)) == 1) {
		s->base.data += end - start;
		pos = end;
	}
	if (r < 0) {
		err_set(err, -r, "%s: %s", path, strerror(-r));
		goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	if (s)
		EVP_MD_CTX_free(s->hash);
	free(s);
	close(fd);
	return r < 0 ? r : -EINVAL;
}

/* ---- a file of this host, written ---- */

struct local_dst {
	struct copy_dst base;
	int fd;
	uint64_t size;
	char path[PATH_MAX];
	char part[PATH_MAX];
	char dir[PATH_MAX];
};

static int ldst_write(struct copy_dst *cd, uint64_t off, const void *buf,
		      size_t len, char *err)
{
	struct local_dst *d = (struct local_dst *)cd;
	const char *p = buf;

	if (off > d->size || len > d->size - off)
		return err_set(err, EINVAL, "data beyond the file's end");
	while (len > 0) {
		ssize_t n = pwrite(d->fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set(err, errno, "writing %s: %s", d->part,
				       strerror(errno));
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static void ldst_abort(struct copy_dst *cd)
{
	struct local_dst *d = (struct local_dst *)cd;

	close(d->fd);
	unlink(d->part);
	free(d);
}

static int ldst_finish(struct copy_dst *cd, const unsigned char *sum,
		       char *err)
{
	struct local_dst *d = (struct local_dst *)cd;
	unsigned char got[COPY_SUM_LEN];
	char a[COPY_SUM_HEX], b[COPY_SUM_HEX];
	int r = 0, dfd;

	if (ftruncate(d->fd, (off_t)d->size) || fsync(d->fd))
		r = err_set(err, errno, "syncing %s: %s", d->part,
			    strerror(errno));
	if (r == 0 && (r = hash_file(d->fd, d->size, got)))
		err_set(err, -r, "reading %s back: %s", d->part,
			strerror(-r));
	if (r == 0 && memcmp(got, sum, COPY_SUM_LEN)) {
		copy_sum_hex(sum, a);
		copy_sum_hex(got, b);
		r = err_set(err, EIO, "checksum mismatch: sent sha256 %s, "
			    "received %s", a, b);
	}
	if (r == 0 && rename(d->part, d->path))
		r = err_set(err, errno, "renaming %s: %s", d->part,
			    strerror(errno));
	if (r) {
		ldst_abort(cd);
		return r;
	}
	dfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	close(d->fd);
	free(d);
	return 0;
}

static const struct copy_dst_ops local_dst_ops = {
	.write = ldst_write,
	.finish = ldst_finish,
	.abort = ldst_abort,
};

int copy_dst_local(const char *dir, const char *name, uint64_t size,
		   mode_t mode, struct copy_dst **out, char *err)
{
	struct local_dst *d = calloc(1, sizeof *d);

	if (!d)
		return err_set(err, ENOMEM, "out of memory");
	d->base.ops = &local_dst_ops;
	d->size = size;
	snprintf(d->dir, sizeof d->dir, "%s", dir);
	snprintf(d->path, sizeof d->path, "%s/%s", dir, name);
	snprintf(d->part, sizeof d->part, "%s/.%s.part", dir, name);
	d->fd = open(d->part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (d->fd < 0) {
		int r = err_set(err, errno, "%s: %s", d->part, strerror(errno));

		free(d);
		return r;
	}
	fchmod(d->fd, mode);
	*out = &d->base;
	return 0;
}

int copy_remove_local(const char *dir, const char *name, char *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/.%s.part", dir, name);
	if (unlink(path) && errno != ENOENT)
		return err_set(err, errno, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (unlink(path) && errno != ENOENT)
		return err_set(err, errno, "%s: %s", path, strerror(errno));
	return 0;
}

bool copy_name_whole(enum copy_area a, const char *name, char *stem,
		     size_t len)
{
	size_t n = strlen(name);

	if (name[0] == '.' && n > 6 && !strcmp(name + n - 5, ".part")) {
		if (n - 6 >= len)
			return false;
		memcpy(stem, name + 1, n - 6);
		stem[n - 6] = '\0';
	} else if (n < len) {
		memcpy(stem, name, n + 1);
	} else {
		return false;
	}
	return copy_name_valid(a, stem);
}

int copy_list_local(const char *dir, enum copy_area a, struct strbuf *out,
		    char *err)
{
	char stem[NAME_MAXLEN + 48];
	struct dirent *e;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : err_set(err, errno, "%s: %s", dir,
						     strerror(errno));
	while (r == 0 && (e = readdir(d)))
		if (copy_name_whole(a, e->d_name, stem, sizeof stem))
			r = sb_printf(out, "%s\n", e->d_name);
	closedir(d);
	return r ? err_set(err, -r, "out of memory") : 0;
}

/* ---- the agent's ends ---- */

static void send_error(int out, int code, const char *msg)
{
	char line[ERRLEN + 64];
	size_t i;

	snprintf(line, sizeof line, "error %s %s", errno_name(code), msg);
	for (i = 0; line[i]; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	strcat(line, "\n");
	write_all(out, line, strlen(line));
}

int copy_serve_src(int out, struct copy_src *s, int r, const char *why)
{
	static unsigned char buf[COPY_FRAME_MAX];
	char err[ERRLEN] = "", line[128], hex[COPY_SUM_HEX];
	uint64_t off;
	ssize_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	if (r) {
		send_error(out, -r, why);
		return r;
	}
	snprintf(line, sizeof line, "info %llu %llu\n",
		 (unsigned long long)s->size, (unsigned long long)s->data);
	r = write_all(out, line, strlen(line));
	while (r == 0 && (n = copy_src_read(s, &off, buf, sizeof buf, err)) > 0) {
		snprintf(line, sizeof line, "data %llu %zd\n",
			 (unsigned long long)off, n);
		r = write_all(out, line, strlen(line));
		if (r == 0)
			r = write_all(out, buf, (size_t)n);
	}
	if (r == 0 && n < 0) {
		send_error(out, (int)-n, err);
		r = (int)n;
	}
	if (r == 0) {
		copy_sum_hex(s->sum, hex);
		snprintf(line, sizeof line, "end %s\n", hex);
		r = write_all(out, line, strlen(line));
	}
	copy_src_close(s);
	return r;
}

int copy_serve_send(int out, const char *dir, const char *name)
{
	char err[ERRLEN] = "";
	struct copy_src *s = NULL;
	int r = copy_src_local(dir, name, &s, err);

	return copy_serve_src(out, s, r, err);
}

/* Reads one line (without its newline) from in, byte by byte: the frames
 * that follow are not ours to buffer. */
static int read_line(int in, char *line, size_t len)
{
	size_t n = 0;

	for (;;) {
		ssize_t k = read(in, line + n, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		if (++n == len)
			return -EPROTO;
	}
}

static int read_full(int in, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t k = read(in, p, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EPIPE;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

bool copy_frame_data(const char *line, uint64_t size, uint64_t *off,
		     size_t *len)
{
	unsigned long long o, n;
	char extra;

	if (strncmp(line, "data ", 5) || line[5] < '0' || line[5] > '9' ||
	    sscanf(line, "data %llu %llu%c", &o, &n, &extra) != 2 ||
	    n == 0 || n > COPY_FRAME_MAX || o > size || n > size - o)
		return false;   /* (written so that o + n cannot wrap) */
	*off = o;
	*len = (size_t)n;
	return true;
}

int copy_serve_dst(int in, int out, struct copy_dst *d, uint64_t size,
		   int r, const char *why)
{
	static unsigned char buf[COPY_FRAME_MAX];
	unsigned char sum[COPY_SUM_LEN];
	char err[ERRLEN] = "", line[160];

	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);    /* the copy cleans up after itself */
	if (r) {
		send_error(out, -r, why);
		return r;
	}
	r = write_all(out, "ready\n", 6);
	while (r == 0) {
		uint64_t off;
		size_t len;
		char hex[COPY_SUM_HEX + 1], extra;

		r = read_line(in, line, sizeof line);
		if (r)
			break;
		if (copy_frame_data(line, size, &off, &len)) {
			r = read_full(in, buf, len);
			if (r == 0)
				r = copy_dst_write(d, off, buf, len, err);
			if (r && err[0])
				send_error(out, -r, err);
			continue;
		}
		if (sscanf(line, "end %65s%c", hex, &extra) == 1 &&
		    copy_sum_parse(hex, sum) == 0) {
			r = copy_dst_finish(d, sum, err);
			if (r)
				send_error(out, -r, err);
			else
				r = write_all(out, "ok\n", 3);
			return r;
		}
		r = -EPROTO;
		send_error(out, EPROTO, "not a copy frame");
	}
	log_warnx("copy cut short: %s", err[0] ? err : strerror(-r));
	copy_dst_abort(d);
	return r;
}

int copy_serve_receive(int in, int out, const char *dir, const char *name,
		       uint64_t size, mode_t mode)
{
	char err[ERRLEN] = "";
	struct copy_dst *d = NULL;
	int r = copy_dst_local(dir, name, size, mode, &d, err);

	return copy_serve_dst(in, out, d, size, r, err);
}
