/* The tree of DESIGN §4 as configfs describes one: each kind of directory
 * declares its attribute files {name, mode, show, store}, its default
 * sub-directories, and the kind of the children mkdir makes in it. fs/
 * walks paths with tree_step and calls one tree_ function per request. */
#ifndef MAAS_TREE_H
#define MAAS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../lib/util.h"
#include "node.h"


struct tree_stat {
	bool dir;
	unsigned mode;             /* permission bits */
	size_t size;
	unsigned nlink;
	time_t mtime;
	uint32_t uid, gid;         /* a tenant's owner inside it, else root */
};

/* Largest value a write may carry. */
#define TREE_VALUE_MAX 4096
#define TREE_LINES_MAX 32768   /* a list file (a group's rules) */

void tree_root(struct node *n);
/* The child NAME of a directory node: 0, -ENOENT if nothing of that name
 * can exist there, -ENOTDIR if parent is a file. Whether a named object
 * exists is for tree_stat to say. */
int tree_step(const struct node *parent, const char *name,
	      struct node *child);
/* A whole path ("/tenantA/subnets/web/cidr"), step by step; buf (len
 * bytes) receives the path split in place, which the node points into. */
int tree_walk(const char *path, char *buf, size_t len, struct node *n);
/* Names of files and default directories of a kind: not for objects. */
bool tree_name_reserved(enum node_kind kind, const char *name);

/* What changes the node's value (node.h): fs/ lets the kernel keep it,
 * and drops it after an operation (CHANGE_OP), when the model tells
 * (CHANGE_MODEL), after a look now and then (CHANGE_DRIVER), or never
 * lets it keep it (CHANGE_OUTSIDE). */
enum attr_change tree_changes(const struct node *n);

int tree_stat(struct model *m, const struct node *n, struct tree_stat *st);

/* The objects a node stands for now (their serials, 0 where the node has
 * none of that level: the root's files, a tenant's own) and its tenant's
 * owner: what an open file is bound to. */
struct tree_ident {
	uint64_t tenant, subnet, vm;
	uint32_t owner;
};
int tree_ident(struct model *m, const struct node *n, struct tree_ident *id);
/* Whether the node still stands for the objects of id, for a file that
 * user uid opened: -ESTALE once one of them went (even if another of the
 * same name came since), -EACCES once the tenant went from uid to another
 * owner (root's files stay root's). */
int tree_same(struct model *m, const struct node *n,
	      const struct tree_ident *id, uint32_t uid);
/* Checks an open for reading and/or writing: -EACCES for a read-only
 * attribute opened for writing and the like, -EISDIR for a directory. */
int tree_open(struct model *m, const struct node *n, bool rd, bool wr);
int tree_read(struct model *m, const struct node *n, struct strbuf *out);
/* One whole value (DESIGN §4 "Writes are whole values"). Returns the
 * byte count or -errno; a failure's reason goes to the nearest status. */
int tree_write(struct model *m, const struct node *n, const char *buf,
	       size_t len);
int tree_truncate(struct model *m, const struct node *n, size_t size);
int tree_mkdir(struct model *m, const struct node *n);
int tree_rmdir(struct model *m, const struct node *n);
int tree_unlink(struct model *m, const struct node *n);
/* Only a tenant's own directory changes owner; -EPERM elsewhere. */
int tree_chown(struct model *m, const struct node *n, uint32_t uid,
	       uint32_t gid);

typedef void (*tree_fill_fn)(void *ctx, const char *name, bool dir);
int tree_readdir(struct model *m, const struct node *n, tree_fill_fn fill,
		 void *ctx);

/* What fs/ does with a file: a value read and written whole, a document
 * applied at close (spec.yaml, and a list file: a group's rules), a
 * stream (events). */
enum tree_file {
	TREE_FILE_NONE,     /* a directory */
	TREE_FILE_VALUE,
	TREE_FILE_SPEC,
	TREE_FILE_EVENTS,
};
enum tree_file tree_file_kind(const struct node *n);
struct events *tree_events(struct model *m);

#endif
