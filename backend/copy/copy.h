/* Copies of a cloud's files to another cloud: a VM's disk and console log,
 * an image. A file is read as its data extents only (SEEK_DATA/SEEK_HOLE:
 * holes are never sent), written under a temporary name, and put in place
 * only once the SHA-256 of what landed on the target's disk matches the
 * source's. On this host the reader and the writer are plain files; to or
 * from a remote cloud the same frames cross an SSH exec channel to
 * `maasfs agent send|receive` (backend/agent/main.c):
 *
 *     sender:   "info SIZE DATA\n", then "data OFF LEN\n<LEN bytes>" ...,
 *               then "end SHA256\n"; or "error ENAME MESSAGE\n"
 *     receiver: answers "ready\n" once its temporary file is open, takes
 *               the data frames and "end SHA256\n", answers "ok\n" or
 *               "error ENAME MESSAGE\n". An end of input before "end"
 *               drops the temporary file. */
#ifndef MAAS_COPY_H
#define MAAS_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../lib/util.h"

#define COPY_SUM_LEN 32
#define COPY_SUM_HEX (2 * COPY_SUM_LEN + 1)
#define COPY_FRAME_MAX (1u << 20)   /* bytes of data in one frame */

/* Where a copied file lives on a cloud; names are checked against each
 * area's grammar: disks "<uuid>.qcow2" or "<uuid>.console", images
 * "<image>.kernel", ".initrd" or ".qcow2". */
enum copy_area {
	COPY_DISKS,
	COPY_IMAGES,
};
const char *copy_area_name(enum copy_area a);
int copy_area_parse(const char *s, enum copy_area *out);
bool copy_name_valid(enum copy_area a, const char *name);

struct copy_src;
struct copy_src_ops {
	ssize_t (*read)(struct copy_src *s, uint64_t *off, void *buf,
			size_t cap, char *err);
	void (*close)(struct copy_src *s);
};
struct copy_src {
	const struct copy_src_ops *ops;
	uint64_t size;                   /* the file's length */
	uint64_t data;                   /* bytes in its data extents */
	bool ended;
	unsigned char sum[COPY_SUM_LEN]; /* of the whole content, once ended */
};

struct copy_dst;
struct copy_dst_ops {
	int (*write)(struct copy_dst *d, uint64_t off, const void *buf,
		     size_t len, char *err);
	/* Sizes the file, syncs it, checks its SHA-256 against sum and only
	 * then puts it in place; the temporary file goes on any failure
	 * (-EIO for a mismatch). Frees d. */
	int (*finish)(struct copy_dst *d, const unsigned char *sum,
		      char *err);
	/* Drops the temporary file. Frees d. */
	void (*abort)(struct copy_dst *d);
};
struct copy_dst {
	const struct copy_dst_ops *ops;
};

/* The next piece of data: its length (at most cap) and offset, 0 at the
 * end (sum is then set), or -errno. */
ssize_t copy_src_read(struct copy_src *s, uint64_t *off, void *buf,
		      size_t cap, char *err);
void copy_src_close(struct copy_src *s);
int copy_dst_write(struct copy_dst *d, uint64_t off, const void *buf,
		   size_t len, char *err);
int copy_dst_finish(struct copy_dst *d, const unsigned char *sum, char *err);
void copy_dst_abort(struct copy_dst *d);

/* Files of this host. */
int copy_src_local(const char *dir, const char *name, struct copy_src **out,
		   char *err);
int copy_dst_local(const char *dir, const char *name, uint64_t size,
		   mode_t mode, struct copy_dst **out, char *err);
/* A replication's cycle on its source cloud (virt.h's struct virt_cycle):
 * the folder COPY_REPL_DIR<uuid> in the disk folder, owned by QEMU's user,
 * holds the backup job's socket and scratch file; the export and the
 * dirty bitmap have these names, the checkpoints this prefix. */
#define COPY_REPL_DIR ".repl-"
#define COPY_REPL_SOCK "nbd.sock"
#define COPY_REPL_EXPORT "vda"
#define COPY_REPL_BITMAP "maas-changed"
#define COPY_REPL_CKPT "maas-"

/* A disk served by a pull-mode backup job over NBD on the unix socket
 * path (libnbd): the extents of export that hold data (bitmap NULL) or
 * that the job's dirty bitmap of that name marks (the blocks changed since
 * its checkpoint), found from the server's block status; sum is the
 * SHA-256 of the bytes sent, in order. */
int copy_src_nbd(const char *socket, const char *export, const char *bitmap,
		 struct copy_src **out, char *err);
/* The qcow2 disk at path, of size bytes, patched in place: qemu-nbd,
 * started by libnbd, serves it while the frames are written; finish
 * flushes it, reads back what was written and checks the SHA-256 of those
 * bytes in that order against sum (-EIO if they differ). abort leaves
 * what was written (the caller knows the replica torn). */
int copy_dst_nbd(const char *path, uint64_t size, struct copy_dst **out,
		 char *err);
/* A replication's files in the disk folder disks: the cycles' folder of
 * uuid made, owned as its running disk is (QEMU's user makes the socket
 * there), or removed with what a cycle left; the cycle's blocks read from
 * its socket (changed: those of the dirty bitmap, or else all the disk's
 * data); the replica <uuid>.qcow2 patched in place. */
int copy_repl_dir(const char *disks, const char *uuid, bool make, char *err);
int copy_repl_source(const char *disks, const char *uuid, bool changed,
		     struct copy_src **out, char *err);
int copy_repl_sink(const char *disks, const char *uuid, uint64_t size,
		   struct copy_dst **out, char *err);
/* Removes a file (and a temporary one left by a copy); 0 if none. */
int copy_remove_local(const char *dir, const char *name, char *err);
/* The files of an area in dir, one name a line: those copy_name_valid
 * accepts and the partial copies of such names (".NAME.part"). A missing
 * directory is empty. */
int copy_list_local(const char *dir, enum copy_area a, struct strbuf *out,
		    char *err);
/* NAME of a partial copy ".NAME.part" (into stem), or of NAME itself:
 * false if it is neither for a valid name of the area. */
bool copy_name_whole(enum copy_area a, const char *name, char *stem,
		     size_t len);

/* The agent's ends of a copy: the frames above on out (and in). */
int copy_serve_send(int out, const char *dir, const char *name);
int copy_serve_receive(int in, int out, const char *dir, const char *name,
		       uint64_t size, mode_t mode);
/* The same over any source or sink (closed or freed here): r, the
 * result of opening it, is sent as an error with why when not 0. */
int copy_serve_src(int out, struct copy_src *s, int r, const char *why);
int copy_serve_dst(int in, int out, struct copy_dst *d, uint64_t size,
		   int r, const char *why);

/* A data frame's header line "data OFF LEN" whose bytes lie inside a file
 * of size bytes (however OFF + LEN would wrap), LEN within 1 and
 * COPY_FRAME_MAX: both ends of a copy read frames through this. */
bool copy_frame_data(const char *line, uint64_t size, uint64_t *off,
		     size_t *len);

void copy_sum_hex(const unsigned char *sum, char hex[COPY_SUM_HEX]);
int copy_sum_parse(const char *hex, unsigned char *sum);

#endif
