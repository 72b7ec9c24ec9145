/* The FUSE front: every handler resolves its path to a node of the tree
 * and makes one tree_ call (pmxcfs cfs-plug style). What is the kernel's
 * business stays here: open handles (a value's snapshot, spec.yaml's
 * document until close, an events cursor) and scratch files. */
#ifndef MAAS_FS_H
#define MAAS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>

/* The operations; fuse_new's user_data must be the struct model. */
const struct fuse_operations *fs_operations(void);

#endif
