#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/tree.h"

/* A path split in place; the node's names point into buf. */
struct fs_path {
	char buf[PATH_MAX];
	struct node node;
};

/* What an open file keeps: the content as it was at open, so that a
 * reader sees one consistent value however many reads it takes. */
struct fs_handle {
	struct strbuf content;
	bool readable;
};

static struct model *fs_model(void)
{
	return fuse_get_context()->private_data;
}

static int fs_resolve(const char *path, struct fs_path *p)
{
	return tree_walk(path, p->buf, sizeof p->buf, &p->node);
}

/* The request this thread serves was interrupted (Ctrl-C on the writer:
 * the kernel's INTERRUPT, which libfuse records on the request). */
static bool fs_interrupted(void)
{
	return fuse_interrupted() != 0;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct model *m = fuse_get_context()->private_data;

	(void)conn;
	m->interrupted = fs_interrupted;
	/* Values change behind the kernel's back (leases, status): no
	 * caching, so that stat sizes and reads are always exact. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 0;
	cfg->nullpath_ok = 0;
	return m;
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct fs_path p;
	struct tree_stat ts;
	int r;

	(void)fi;
	r = fs_resolve(path, &p);
	if (r == 0)
		r = tree_stat(fs_model(), &p.node, &ts);
	if (r)
		return r;
	memset(st, 0, sizeof *st);
	st->st_mode = (ts.dir ? S_IFDIR : S_IFREG) | ts.mode;
	st->st_nlink = ts.nlink;
	st->st_size = (off_t)ts.size;
	st->st_uid = ts.uid;
	st->st_gid = ts.gid;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((ts.size + 511) / 512);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec =
		ts.mtime;
	return 0;
}

struct fill_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static void fs_fill(void *ctx, const char *name, bool dir)
{
	struct fill_ctx *f = ctx;
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = dir ? S_IFDIR : S_IFREG;
	f->filler(f->buf, name, &st, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct fill_ctx f = { buf, filler };
	struct fs_path p;
	int r;

	(void)off;
	(void)fi;
	(void)flags;
	r = fs_resolve(path, &p);
	if (r)
		return r;
	fs_fill(&f, ".", true);
	fs_fill(&f, "..", true);
	return tree_readdir(fs_model(), &p.node, fs_fill, &f);
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	bool rd = acc == O_RDONLY || acc == O_RDWR;
	bool wr = acc == O_WRONLY || acc == O_RDWR;
	struct fs_handle *h;
	struct fs_path p;
	int r;

	r = fs_resolve(path, &p);
	if (r == 0)
		r = tree_open(fs_model(), &p.node, rd, wr);
	if (r)
		return r;
	h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	if (rd) {
		r = tree_read(fs_model(), &p.node, &h->content);
		if (r) {
			sb_free(&h->content);
			free(h);
			return r;
		}
		h->readable = true;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;   /* generated content: sizes come from getattr */
	return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;
	size_t len;

	(void)path;
	if (!h || !h->readable)
		return -EBADF;
	len = h->content.len;
	if (off < 0 || (size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, h->content.s + off, size);
	return (int)size;
}

static int fs_write(const char *path, const char *buf, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	struct fs_path p;
	int r;

	(void)fi;
	/* Writes are whole values at offset 0 (DESIGN §4). */
	if (off != 0)
		return -EINVAL;
	r = fs_resolve(path, &p);
	if (r)
		return r;
	return tree_write(fs_model(), &p.node, buf, size);
}

static int fs_truncate(const char *path, off_t size,
		       struct fuse_file_info *fi)
{
	struct fs_path p;
	int r;

	(void)fi;
	if (size < 0)
		return -EINVAL;
	r = fs_resolve(path, &p);
	if (r)
		return r;
	return tree_truncate(fs_model(), &p.node, (size_t)size);
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	(void)path;
	if (h) {
		sb_free(&h->content);
		free(h);
	}
	return 0;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	struct fs_path p;
	int r;

	(void)mode;
	r = fs_resolve(path, &p);
	if (r)
		return r == -ENOENT ? -EPERM : r;
	return tree_mkdir(fs_model(), &p.node);
}

static int fs_rmdir(const char *path)
{
	struct fs_path p;
	int r = fs_resolve(path, &p);

	return r ? r : tree_rmdir(fs_model(), &p.node);
}

static int fs_unlink(const char *path)
{
	struct fs_path p;
	int r = fs_resolve(path, &p);

	return r ? r : tree_unlink(fs_model(), &p.node);
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;   /* files are the model's, not the user's */
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EPERM;
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	struct fs_path p;
	int r;

	(void)fi;
	r = fs_resolve(path, &p);
	return r ? r : tree_chown(fs_model(), &p.node, uid, gid);
}

/* touch(1) on an attribute is harmless: accept it. */
static int fs_utimens(const char *path, const struct timespec tv[2],
		      struct fuse_file_info *fi)
{
	struct fs_path p;
	struct tree_stat st;
	int r;

	(void)tv;
	(void)fi;
	r = fs_resolve(path, &p);
	return r ? r : tree_stat(fs_model(), &p.node, &st);
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
	.release = fs_release,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.unlink = fs_unlink,
	.create = fs_create,
	.rename = fs_rename,
	.chmod = fs_chmod,
	.chown = fs_chown,
	.utimens = fs_utimens,
};

const struct fuse_operations *fs_operations(void)
{
	return &fs_ops;
}
