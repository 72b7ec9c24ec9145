/* The kernel's cache of names and attributes (DESIGN §9: "unchanged
 * values served from the kernel's cache, invalidated on change").
 *
 * The kernel keeps what a LOOKUP, GETATTR or READDIRPLUS gave it for
 * KC_TIMEOUT seconds. Here is the list of what it was given, path by
 * path, grouped by tenant, with what changes each value (node.h's
 * attr_change); an entry is dropped once the kernel is told to forget it.
 * Three things tell it:
 *  - after every operation (a write, mkdir, rmdir, chown, a spec.yaml
 *    applied), kc_after_op compares the tenant's entries with what they
 *    are now, before the operation's reply: the caller that sees its
 *    write return sees the new sizes and owners;
 *  - the model tells of values its own work changes (a migration's
 *    progress, a VM that stops by itself, the steps of a long operation:
 *    CHANGE_MODEL): kc_note, and a thread compares that tenant's entries;
 *  - values a driver's background check changes (a cloud's status, a
 *    dnsmasq that exits: CHANGE_DRIVER) are compared by the thread every
 *    KC_PERIOD_MS while the kernel keeps some (longer when they are many:
 *    the checks take at most about 5% of a core), never otherwise.
 * Values another program writes (leases, consoles) are never listed: the
 * kernel keeps no copy of them. Files of the root (spec.yaml,
 * topology.dot, status, events) sum up the whole estate: they are not
 * compared but dropped at every check. A directory's listing is the
 * kernel's too: its mtime's nanoseconds fold its names (fs.c), so that a
 * name that comes or goes changes its attributes, and the kernel, told,
 * reads the listing again. */
#ifndef MAAS_FS_KCACHE_H
#define MAAS_FS_KCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define KC_TIMEOUT 60.0     /* seconds: the kernel's entry and attr timeouts */
#define KC_PERIOD_MS 100

/* Attributes of a path now, or -errno. *changes: tree_changes. */
typedef int (*kc_stat_fn)(const char *path, struct stat *st, int *changes);
/* Tells the kernel to forget what it has of path: attributes, and for a
 * directory its listing. Called with kcache's lock held. */
typedef void (*kc_inval_fn)(const char *path);

void kc_start(kc_inval_fn inval, kc_stat_fn stat_fn);
void kc_stop(void);
/* Taken before computing attributes that kc_seen then records. */
uint64_t kc_gen(void);
/* Records attributes given to the kernel; false if a check ran since
 * kc_gen returned gen: they may be old, compute them again. */
bool kc_seen(const char *path, const struct stat *st, int changes,
	     uint64_t gen);
/* Whether the kernel was given the path's attributes and not told
 * to forget them since. */
bool kc_kept(const char *path);
/* An operation on path has finished (whatever its outcome). */
void kc_after_op(const char *path);
/* The model's note: tenant's values changed (NULL: the root's). Takes no
 * lock but its own, so that the model may tell with its lock held. */
void kc_note(const char *tenant);

#endif
