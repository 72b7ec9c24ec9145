#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../../lib/util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static int netns_path(const char *name, char *buf, size_t len)
{
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* /run/netns must be a shared mount so that namespaces bound there are
 * seen by every mount namespace that shares it (ipnetns.c does the same). */
static int netns_prepare_dir(char *err)
{
	bool bound = false;

	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return err_set(err, errno, "mkdir %s: %s", NETNS_RUN_DIR,
			       strerror(errno));
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
		if (errno != EINVAL || bound)
			return err_set(err, errno, "making %s shared: %s",
				       NETNS_RUN_DIR, strerror(errno));
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none",
			  MS_BIND | MS_REC, NULL))
			return err_set(err, errno, "bind mount %s: %s",
				       NETNS_RUN_DIR, strerror(errno));
		bound = true;
	}
	return 0;
}

int netns_open_self(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int netns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

int netns_call(int nsfd, int (*fn)(void *arg), void *arg, char *err)
{
	int self, r;

	if (nsfd < 0)
		return fn(arg);
	self = netns_open_self();
	if (self < 0)
		return err_set(err, -self, "opening own namespace: %s",
			       strerror(-self));
	r = netns_enter(nsfd);
	if (r) {
		close(self);
		return err_set(err, -r, "entering namespace: %s",
			       strerror(-r));
	}
	r = fn(arg);
	if (netns_enter(self))
		abort();   /* a thread stranded in a tenant namespace */
	close(self);
	return r;
}

int netns_add(const char *name, char *err)
{
	char path[PATH_MAX];
	int fd, self = -1, r;

	if (netns_path(name, path, sizeof path))
		return err_set(err, EINVAL, "bad namespace name '%s'", name);
	r = netns_prepare_dir(err);
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, errno, "creating %s: %s", path,
			       strerror(errno));
	close(fd);

	self = netns_open_self();
	if (self < 0) {
		r = err_set(err, -self, "opening own namespace: %s",
			    strerror(-self));
		goto out_unlink;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = err_set(err, errno, "unshare(CLONE_NEWNET): %s",
			    strerror(errno));
		goto out_close;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		r = err_set(err, errno, "bind mount of %s: %s", path,
			    strerror(errno));
	else
		r = 0;
	/* The thread must get its own namespace back whatever happened. */
	if (setns(self, CLONE_NEWNET) < 0) {
		log_warn("cannot return to the original namespace");
		abort();
	}
	if (r)
		goto out_close;
	close(self);
	return 0;

out_close:
	close(self);
out_unlink:
	unlink(path);
	return r;
}

int netns_del(const char *name, char *err)
{
	char path[PATH_MAX];
	int tries;

	if (netns_path(name, path, sizeof path))
		return err_set(err, EINVAL, "bad namespace name '%s'", name);
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : err_set(err, errno, "%s: %s", path,
						     strerror(errno));
	/* umount can briefly fail with EBUSY while a previous user lets go:
	 * retry a little, then detach lazily. */
	for (tries = 0; umount2(path, 0) < 0; tries++) {
		if (errno == EINVAL || errno == ENOENT)
			break;   /* not a mount: a stale file */
		if (errno != EBUSY || tries == 20) {
			if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
				return err_set(err, errno, "umount %s: %s",
					       path, strerror(errno));
			break;
		}
		usleep(1000);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, errno, "unlink %s: %s", path,
			       strerror(errno));
	return 0;
}

int netns_open(const char *name)
{
	char path[PATH_MAX];
	struct statfs sfs;
	int fd;

	if (netns_path(name, path, sizeof path))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		close(fd);
		return -EIO;
	}
	return fd;
}

int netns_list(const char *prefix, void (*fn)(const char *name, void *ctx),
	       void *ctx)
{
	DIR *d = opendir(NETNS_RUN_DIR);
	struct dirent *e;
	size_t plen = strlen(prefix);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, plen) && e->d_name[0] != '.')
			fn(e->d_name, ctx);
	closedir(d);
	return 0;
}
