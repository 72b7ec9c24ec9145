/* The FUSE front, in two parts.
 *
 * fs.c: every handler takes a path, resolves it to a node of the tree
 * and makes one tree_ call (pmxcfs cfs-plug style). What is the kernel's
 * business stays here: open handles (a value's snapshot, spec.yaml's
 * document until close, an events cursor) and scratch files. The
 * handlers are a struct fuse_operations, as libfuse names them.
 *
 * ll.c: libfuse's low-level API on top of them: inode numbers for paths,
 * lookup counts, the kernel's caches (entry and attribute timeouts,
 * directory listings kept in the kernel: opendir answers ENOSYS), and
 * the notifications that keep those caches true (kcache.h). */
#ifndef MAAS_FS_H
#define MAAS_FS_H

#include <stdbool.h>
#include <sys/stat.h>

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>

#include "kcache.h"

struct model;

/* fs.c */
const struct fuse_operations *fs_operations(void);
/* inval: kcache's notifications; interrupted: whether the request the
 * calling thread serves was interrupted; caller: who made it (uid), and
 * caller_pid: from which thread (its id, as the kernel says). */
void fs_begin(struct model *m, kc_inval_fn inval, bool (*interrupted)(void),
	      uid_t (*caller)(void), pid_t (*caller_pid)(void));
void fs_end(void);
/* A path's attributes, listed in the kernel cache's checks (kcache.h);
 * *uncached: the kernel must keep no copy of them (a value another
 * program writes: nothing would tell it when it changes). */
int fs_stat(const char *path, struct stat *st, bool *uncached);
typedef void (*fs_list_fn)(void *ctx, const char *name, bool dir);
/* A directory's names (not . and ..); fn may be called with the model's
 * lock held: it must not call back into the tree. */
int fs_list(const char *path, fs_list_fn fn, void *ctx);

/* ll.c */
/* The operations for fuse_session_new; its userdata is the model. */
const struct fuse_lowlevel_ops *ll_operations(void);
/* Before the session's loop: notifications go to se; debug: one line on
 * stderr per request, its name, inode and path. */
void ll_session(struct fuse_session *se, bool debug);

#endif
