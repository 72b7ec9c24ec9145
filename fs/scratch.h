/* Scratch files: what editors and tools make next to the file they
 * change (sed -i's sedXXXXXX, Python's tempfile, vim's 4913 probe and
 * backup) before renaming it onto it. They live in memory only, in any
 * directory of the tree, under names the tree does not use; renamed onto
 * an attribute or spec.yaml they become one write of their content. */
#ifndef MAAS_SCRATCH_H
#define MAAS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "../lib/util.h"

#define SCRATCH_MAX 256                 /* files at once, in all */
#define SCRATCH_USER_MAX 16             /* files at once, of one user */
#define SCRATCH_SIZE_MAX (4u << 20)      /* bytes each */

struct scratch;

/* A new empty file at path (its directory checked by the caller) that user
 * uid makes: -EEXIST, -ENOSPC when SCRATCH_MAX are there, -EDQUOT when
 * the user has SCRATCH_USER_MAX (so that no user can make everyone's
 * sed -i fail). Returned held (see scratch_put). */
int scratch_create(const char *path, mode_t mode, uid_t uid,
		   struct scratch **out);
/* The file at path, held; NULL if none. */
struct scratch *scratch_get(const char *path);
void scratch_put(struct scratch *s);
/* Its attributes. */
void scratch_stat(struct scratch *s, size_t *size, mode_t *mode,
		  time_t *mtime);
void scratch_chmod(struct scratch *s, mode_t mode);
int scratch_read(struct scratch *s, char *buf, size_t size, off_t off);
int scratch_write(struct scratch *s, const char *buf, size_t size, off_t off);
int scratch_truncate(struct scratch *s, off_t size);
/* A copy of the content. */
int scratch_content(struct scratch *s, struct strbuf *out);
/* Unlinks path: -ENOENT if it is not a scratch file. */
int scratch_unlink(const char *path);
/* Renames a scratch file to another name (replacing a scratch file). */
int scratch_rename(const char *from, const char *to);
/* Calls fill for the scratch files directly in directory dir. */
void scratch_list(const char *dir, void (*fill)(void *ctx, const char *name),
		  void *ctx);

#endif
