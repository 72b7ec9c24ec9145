/* minifs MOUNTPOINT M [fuse options]: the minimal libfuse file system that
 * maasfs's FUSE overhead is measured against (DESIGN §9).
 *
 * A fixed tree: M directories d0 .. d<M-1> at the root, each with the same
 * five small read-only files (id, name, status, cidr, mtu) whose content
 * is generated on every read ("value\n"; its true size in getattr).
 * Nothing else: no model, no locks, no allocation per request.
 *
 * Set up like maasfs (fs/main.c, fs/fs.c): libfuse 3 high-level API,
 * FUSE_USE_VERSION 312, multi-threaded loop (fuse_loop_mt, at most 64
 * threads, -o clone_fd / max_idle_threads honoured), -o default_permissions,
 * entry_timeout=0, attr_timeout=0, negative_timeout=0, use_ino off, and
 * direct_io on every open. Daemonizes once mounted unless -f, so
 * `minifs DIR M && ls DIR` works; unmount with `fusermount3 -u DIR`.
 * The timeouts can be overridden with -o entry_timeout=... etc. (they are
 * put before the caller's options), e.g. to compare with a caching maasfs.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o minifs minifs.c \
 *            $(pkg-config --cflags --libs fuse3) -lpthread
 */
#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const files[] = { "id", "name", "status", "cidr", "mtu" };
#define NFILES (sizeof files / sizeof *files)
#define CONTENT "value\n"

static long ndirs;
static time_t started;

/* "/" -> 0; "/dN" -> 1 (dir N); "/dN/FILE" -> 2 (file *f of dir N);
 * -ENOENT otherwise. */
static int resolve(const char *path, long *dir, int *file)
{
	const char *p = path + 1;
	char *end;
	size_t i;

	if (!strcmp(path, "/"))
		return 0;
	if (p[0] != 'd' || p[1] < '0' || p[1] > '9' ||
	    (p[1] == '0' && p[2] >= '0' && p[2] <= '9'))
		return -ENOENT;
	*dir = strtol(p + 1, &end, 10);
	if (*dir >= ndirs)
		return -ENOENT;
	if (!*end)
		return 1;
	if (*end != '/')
		return -ENOENT;
	for (i = 0; i < NFILES; i++)
		if (!strcmp(end + 1, files[i])) {
			*file = (int)i;
			return 2;
		}
	return -ENOENT;
}

static void *mini_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->use_ino = 0;
	cfg->nullpath_ok = 0;
	return NULL;
}

static int mini_getattr(const char *path, struct stat *st,
			struct fuse_file_info *fi)
{
	long dir;
	int file, r = resolve(path, &dir, &file);

	(void)fi;
	if (r < 0)
		return r;
	memset(st, 0, sizeof *st);
	if (r == 2) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof CONTENT - 1;
	} else {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	}
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = started;
	return 0;
}

static void fill(void *buf, fuse_fill_dir_t filler, const char *name,
		 mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = mode;
	filler(buf, name, &st, 0, 0);
}

static int mini_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
			off_t off, struct fuse_file_info *fi,
			enum fuse_readdir_flags flags)
{
	char name[32];
	long dir, i;
	int file, r = resolve(path, &dir, &file);

	(void)off;
	(void)fi;
	(void)flags;
	if (r < 0)
		return r;
	if (r == 2)
		return -ENOTDIR;
	fill(buf, filler, ".", S_IFDIR);
	fill(buf, filler, "..", S_IFDIR);
	if (r == 0) {
		for (i = 0; i < ndirs; i++) {
			snprintf(name, sizeof name, "d%ld", i);
			fill(buf, filler, name, S_IFDIR);
		}
	} else {
		for (i = 0; i < (long)NFILES; i++)
			fill(buf, filler, files[i], S_IFREG);
	}
	return 0;
}

static int mini_open(const char *path, struct fuse_file_info *fi)
{
	long dir;
	int file, r = resolve(path, &dir, &file);

	if (r < 0)
		return r;
	if (r != 2)
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	fi->direct_io = 1;
	return 0;
}

static int mini_read(const char *path, char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	char content[64];
	size_t len;

	(void)path;
	(void)fi;
	len = (size_t)snprintf(content, sizeof content, "%s", CONTENT);
	if (off < 0 || (size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, content + off, size);
	return (int)size;
}

static const struct fuse_operations ops = {
	.init = mini_init,
	.getattr = mini_getattr,
	.readdir = mini_readdir,
	.open = mini_open,
	.read = mini_read,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts c;
	struct fuse_loop_config *loop = NULL;
	struct fuse *f = NULL;
	char *end;
	int i, r = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: minifs MOUNTPOINT M [fuse options]\n");
		return 2;
	}
	ndirs = strtol(argv[2], &end, 10);
	if (*end || ndirs < 0 || ndirs > 10000000) {
		fprintf(stderr, "minifs: M must be a number of directories\n");
		return 2;
	}
	started = time(NULL);
	/* argv without M; maasfs's settings first, so -o can override */
	if (fuse_opt_add_arg(&args, argv[0]) ||
	    fuse_opt_add_arg(&args, argv[1]) ||
	    fuse_opt_add_arg(&args, "-oentry_timeout=0,attr_timeout=0,"
				    "negative_timeout=0"))
		return 1;
	for (i = 3; i < argc; i++)
		if (fuse_opt_add_arg(&args, argv[i]))
			return 1;
	memset(&c, 0, sizeof c);
	if (fuse_parse_cmdline(&args, &c) != 0)
		goto out;
	if (c.show_help || c.show_version || !c.mountpoint) {
		fprintf(stderr, "usage: minifs MOUNTPOINT M [fuse options]\n");
		if (c.show_help)
			fuse_cmdline_help();
		goto out;
	}
	fuse_opt_add_arg(&args, "-odefault_permissions,fsname=minifs,"
				"subtype=minifs");
	f = fuse_new(&args, &ops, sizeof ops, NULL);
	if (!f)
		goto out;
	if (fuse_mount(f, c.mountpoint) != 0)
		goto out;
	if (fuse_daemonize(c.foreground) != 0)
		goto out_unmount;
	if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
		goto out_unmount;
	if (c.singlethread) {
		r = fuse_loop(f);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, c.clone_fd);
		if (c.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop,
						       c.max_idle_threads);
		fuse_loop_cfg_set_max_threads(loop, c.max_threads < 64 ? 64
							       : c.max_threads);
		r = fuse_loop_mt(f, loop);
	}
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
out:
	if (f)
		fuse_destroy(f);
	if (loop)
		fuse_loop_cfg_destroy(loop);
	free(c.mountpoint);
	fuse_opt_free_args(&args);
	return r ? 1 : 0;
}
