/* Small helpers shared by every layer: error text, growable strings,
 * files written atomically, sorted sets of named objects. No library
 * dependencies beyond libc. */
#ifndef MAAS_UTIL_H
#define MAAS_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The human reason that travels beside an errno (redis anet.c style). */
#define ERRLEN 256

/* Writes the reason into err (if not NULL) and returns -code. */
int err_set(char *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Makes s one line of text: each control byte (a newline, a tab, ESC,
 * DEL) becomes '?', so that no value a user or a guest gave forges a line
 * of the log or of a status file. Returns s. */
char *text_clean(char *s);
/* "EINVAL", "ENOENT", ...; "E<n>" for the rest (buf must hold 16). */
const char *errno_name(int code);
/* The errno errno_name gives name to; EIO for what it does not know. */
int errno_value(const char *name);

/* Growable NUL-terminated string. */
struct strbuf {
	char *s;
	size_t len;
	size_t cap;
};
#define STRBUF_INIT { NULL, 0, 0 }

int sb_reserve(struct strbuf *sb, size_t extra);
int sb_append(struct strbuf *sb, const char *s, size_t n);
int sb_puts(struct strbuf *sb, const char *s);
int sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);
/* Returns the buffer's string ("" when empty), never NULL. */
const char *sb_str(const struct strbuf *sb);

/* Walks the lines of a text that may be empty or NULL (a listing, a
 * lease file, a log): each call sets line and len (without the newline)
 * to the next line and says true, or says false at the end. *cursor
 * starts at the text. */
bool line_next(const char **cursor, const char **line, size_t *len);

/* Writes all of data at fd's offset, again after EINTR and short
 * writes. Returns 0 or -errno. */
int write_all(int fd, const void *data, size_t len);

/* Replaces path with data: temp file, fsync, rename, fsync of the
 * directory (pmxcfs atomic_write_file). Returns 0 or -errno. */
int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode);
/* The same for a file replaced often (the state): the new version is
 * written over spare, a file kept beside path for that (made if missing),
 * fsynced, then swapped with path in one step (renameat2 RENAME_EXCHANGE;
 * a plain rename where the file system has no exchange, or no path yet),
 * and the directory fsynced. Afterwards spare holds the replaced version
 * until the next call overwrites it: no file made, no blocks freed or
 * allocated again per change (ext4: 0.55 ms a change instead of 0.8 for
 * 20 KB here). Readers of path see the old or the new file, never a part;
 * a failed call leaves path as it was. Returns 0 or -errno. */
int file_write_swap(const char *path, const char *spare, const void *data,
		    size_t len, mode_t mode);
/* The same without the fsyncs: readers see the old or the new file,
 * never a part, but a power loss may take the change back. For files
 * made again from the state at every mount (dnsmasq's reservations). */
int file_write_replace(const char *path, const void *data, size_t len,
		       mode_t mode);
/* Reads a whole file (up to max bytes) into sb. Returns 0 or -errno. */
int file_read(const char *path, struct strbuf *sb, size_t max);
/* Bounds a log that another process appends to (O_APPEND: dnsmasq's log,
 * a guest's console): past max bytes, its head is cut in place so that
 * about keep bytes are left (fallocate COLLAPSE_RANGE, whole blocks; the
 * writer's next line lands at the new end). Where the file system cannot
 * collapse, the file is emptied. 1 if cut, 0 if not needed, -errno. */
int file_cut_head(const char *path, off_t max, off_t keep);
/* mkdir -p. Returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t clock_ms(void);
/* A condition variable whose timed waits count on CLOCK_MONOTONIC (a
 * change of the wall clock neither shortens nor stretches them), and
 * the deadline ms milliseconds from now for such a wait. */
void cond_init_monotonic(pthread_cond_t *c);
void deadline_in(struct timespec *ts, int64_t ms);

/* qsort/bsearch order of an array of strings (char *). */
int cmp_strp(const void *a, const void *b);

/* An absolute path of [A-Za-z0-9/_.-] only: safe to hand to dnsmasq's
 * argv and files, which split on commas and spaces. */
bool path_safe(const char *s);
/* A word of [A-Za-z0-9_.-] only (interface names and the like). */
bool word_safe(const char *s);

/* IPv4 addresses in host byte order: a dotted quad, nothing else (no
 * leading zeros, no shorthand). */
#define IP_STRLEN 16
int ip_parse(const char *s, uint32_t *out);
void ip_format(uint32_t ip, char buf[IP_STRLEN]);

/* The largest VXLAN network identifier (24 bits). */
#define VNI_MAX 16777215u

/* A maasfs name: 1-32 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
#define NAME_MAXLEN 32
bool name_valid(const char *s);
/* What is wrong with a name, for a message: the one grammar of names. */
enum name_fault { NAME_OK, NAME_EMPTY, NAME_LONG, NAME_START, NAME_CHAR };
enum name_fault name_fault(const char *s);

/* "52:54:00:ab:cd:ef": six lower-case hex pairs. */
#define MAC_STRLEN 18
bool mac_valid(const char *s);
/* "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9": lower-case hex, 8-4-4-4-12. */
#define UUID_STRLEN 36
bool uuid_valid(const char *s);

/* FNV-1a, 64 bits: h folded with the bytes of s (start from FNV_OFFSET). */
#define FNV_OFFSET 0xcbf29ce484222325ull
uint64_t fnv1a(uint64_t h, const char *s);

/* A DNS name: labels of [A-Za-z0-9-] (1..63, no '-' at either end),
 * separated by single dots, 253 characters at most. */
bool dns_name_valid(const char *s);

/* A sorted set of pointers to objects whose first member is their
 * NUL-terminated name: lookup by binary search, iteration in name order. */
struct objset {
	void **v;
	size_t n;
	size_t cap;
};

void *objset_find(const struct objset *set, const char *name);
int objset_add(struct objset *set, void *obj);   /* 0, -EEXIST, -ENOMEM */
void objset_del(struct objset *set, const void *obj);
void objset_free(struct objset *set);
#define objset_each(set, i, obj) \
	for ((i) = 0; (i) < (set)->n && (((obj) = (set)->v[i]), 1); (i)++)

#endif
