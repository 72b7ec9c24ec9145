/* maasfs [-f] [-d] [-o config=FILE,state=DIR,...] [SOURCE] MOUNTPOINT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"   /* first: it sets FUSE_USE_VERSION */

#include "../backend/agent/agent.h"
#include "../core/open.h"
#include "../core/reconcile.h"
#include "../lib/log.h"
#include "../lib/util.h"

#ifndef MAASFS_VERSION
#define MAASFS_VERSION "0.0.0"
#endif

struct maas_opts {
	char *config;
	char *state;
	char *vni;
	char *dnsmasq;
	char *log;
	char *bandwidth;
	char *parallel;
	int help;
	int version;
	/* MOUNTPOINT, or SOURCE MOUNTPOINT as mount.fuse3 (fstab, mount -t
	 * fuse.maasfs) passes them; the source is a label, not used */
	char *nonopt[2];
	int nnonopt;
};

#define OPT(t, p) { t, offsetof(struct maas_opts, p), 1 }
static const struct fuse_opt maas_opt_spec[] = {
	OPT("config=%s", config),
	OPT("state=%s", state),
	OPT("vni=%s", vni),
	OPT("dnsmasq=%s", dnsmasq),
	OPT("log=%s", log),
	OPT("bandwidth=%s", bandwidth),
	OPT("parallel=%s", parallel),
	OPT("-h", help),
	OPT("--help", help),
	OPT("-V", version),
	OPT("--version", version),
	FUSE_OPT_END
};

/* Non-option arguments are kept aside (at most two), so that the source
 * mount.fuse3 puts first does not reach libfuse, which takes one. */
static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct maas_opts *o = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (o->nnonopt == 2) {
		fprintf(stderr, "maasfs: too many arguments: %s (see --help)\n",
			arg);
		return -1;
	}
	o->nonopt[o->nnonopt] = strdup(arg);
	return o->nonopt[o->nnonopt++] ? 0 : -1;
}

/* maasfs agent ...: the agent's own arguments follow (options, or one of
 * its verbs); "maasfs agent /mnt/maas" is a mount whose source is
 * "agent". */
static bool is_agent(int argc, char *argv[])
{
	return argc > 1 && !strcmp(argv[1], "agent") &&
	       (argc == 2 || !strncmp(argv[2], "--", 2) ||
		!strcmp(argv[2], "send") || !strcmp(argv[2], "receive") ||
		!strcmp(argv[2], "copy"));
}

static void usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
	       "       %s agent [--state DIR] [--disks DIR] [--images DIR] "
	       "[--dnsmasq PATH]\n"
	       "\n"
	       "Migration-as-a-service for a multi-cloud estate, as a "
	       "filesystem.\n"
	       "\n"
	       "maasfs options:\n"
	       "    -o config=FILE         clouds file (default: one cloud, "
	       "\"local\")\n"
	       "    -o state=DIR           state directory (default "
	       "/var/lib/maasfs)\n"
	       "    -o vni=FIRST-LAST      VXLAN ids to allocate from "
	       "(default 1-16777215)\n"
	       "    -o dnsmasq=PATH        dnsmasq binary (default "
	       "/usr/sbin/dnsmasq)\n"
	       "    -o log=FILE            log file when in the background "
	       "(default STATE/maasfs.log)\n"
	       "    -o bandwidth=MIB       migrations' cap in MiB/s, disk "
	       "copies and live (default: none)\n"
	       "    -o parallel=N          VMs a subnet's move migrates at "
	       "once, sharing the cap (1-16, default 4)\n"
	       "    -h, --help             this help\n"
	       "    -V, --version          versions of maasfs and its "
	       "libraries\n"
	       "\n"
	       "Unmount with: fusermount3 -u MOUNTPOINT (the networks and "
	       "dnsmasq keep running).\n"
	       "maasfs agent is what maasfs runs on a remote cloud over SSH.\n\n",
	       prog, prog);
}

static void version(void)
{
	char libs[256];

	model_versions(libs, sizeof libs);
	printf("maasfs %s\n", MAASFS_VERSION);
	printf("libfuse %s, %s\n", fuse_pkgversion(), libs);
}

static int parse_vni(const char *s, uint32_t *min, uint32_t *max)
{
	unsigned long a, b;
	char *end;

	errno = 0;
	a = strtoul(s, &end, 10);
	if (*end != '-' || errno)
		return -EINVAL;
	b = strtoul(end + 1, &end, 10);
	if (*end || errno || a < 1 || a > b || b > VNI_MAX)
		return -EINVAL;
	*min = (uint32_t)a;
	*max = (uint32_t)b;
	return 0;
}

/* After kill -9 the old mount answers ENOTCONN: clear it, as fusermount3
 * -uz would, so that a new mount can take its place. */
static void clear_dead_mount(const char *mountpoint)
{
	struct statx stx;

	/* forced past the kernel's cache, which a dead mount still serves */
	if (statx(AT_FDCWD, mountpoint, AT_STATX_FORCE_SYNC,
		  STATX_BASIC_STATS, &stx) == 0 || errno != ENOTCONN)
		return;
	if (umount2(mountpoint, MNT_DETACH) == 0)
		log_info("cleared the dead mount at %s", mountpoint);
	else
		log_warn("cannot clear the dead mount at %s", mountpoint);
}

/* The mount's id in the mount table, -1 if it is not there; *dev, if not
 * NULL, its device as the kernel numbers it (MAJOR << 20 | MINOR: the
 * name of its FUSE connection in fusectl). */
static int mount_id_dev(int fd, const char *mountpoint, unsigned *dev)
{
	char buf[8192], line[8192], *nl;
	size_t have = 0;
	ssize_t n;
	int id = -1;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		n = read(fd, buf + have, sizeof buf - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			char mp[4096], type[64];
			unsigned maj, min;
			int mid;

			*nl = '\0';
			snprintf(line, sizeof line, "%s", buf);
			/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - TYPE */
			if (sscanf(line, "%d %*d %u:%u %*s %4095s", &mid, &maj,
				   &min, mp) == 4 &&
			    !strcmp(mp, mountpoint) && strstr(line, " - ") &&
			    sscanf(strstr(line, " - "), " - %63s", type) == 1 &&
			    !strcmp(type, "fuse.maasfs")) {
				id = mid;   /* the last one: the newest */
				if (dev)
					*dev = maj << 20 | min;
			}
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof buf - 1)
			have = 0;   /* a line too long for us: not ours */
	}
	return id;
}

static int mount_id_of(int fd, const char *mountpoint)
{
	return mount_id_dev(fd, mountpoint, NULL);
}

/* A lazy unmount (umount -l, fusermount3 -uz) takes the mount away while
 * files stay open, and libfuse hears of it only once the last one is
 * closed: a spec.yaml being applied at close would go on to its end. A
 * thread watches the mount table (poll on /proc/self/mountinfo wakes at
 * every change) and ends the session once the mount is gone, so that long
 * work stops at its next safe step, as on SIGTERM. */
struct mount_watch {
	struct fuse_session *se;
	char mountpoint[4096];
	int id;
	unsigned dev;
	int fd;
	int stop[2];
	pthread_t thread;
	bool started;
};

/* How long an unmounted session may take to end by itself. */
#define MOUNT_GONE_WAIT_MS 1000
#define FUSECTL "/sys/fs/fuse/connections"

/* Ends the FUSE connection. An unmount ends it only when the mount is
 * gone from every mount namespace, and a namespace made while maasfs was
 * mounted (a container started, a long `ip netns exec`) has a copy of the
 * mount: maasfs would wait for ever, its threads in read(2). The copies
 * read ENOTCONN from then on. Through fusectl, mounted where systemd
 * mounts it at boot if nobody has. */
static void conn_abort(unsigned dev, const char *mountpoint)
{
	char path[64];
	int fd;

	snprintf(path, sizeof path, FUSECTL "/%u/abort", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT &&
	    mount("fusectl", FUSECTL, "fusectl", MS_NOSUID | MS_NODEV |
		  MS_NOEXEC, NULL) == 0)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("%s: another mount namespace keeps the mount, and "
			 "its connection cannot be aborted (%s)", mountpoint,
			 path);
		return;
	}
	if (write(fd, "1", 1) == 1)
		log_info("%s: another mount namespace kept a copy of the "
			 "mount: its connection aborted", mountpoint);
	close(fd);
}

static void *mount_watch_main(void *arg)
{
	struct mount_watch *w = arg;
	struct pollfd p[2] = { { .fd = w->fd, .events = POLLPRI },
			       { .fd = w->stop[0], .events = POLLIN } };

	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		if (p[1].revents)
			break;
		if ((p[0].revents & (POLLPRI | POLLERR)) &&
		    mount_id_of(w->fd, w->mountpoint) != w->id) {
			log_info("%s was unmounted: stopping", w->mountpoint);
			fuse_session_exit(w->se);
			/* the session ends once the kernel ends the connection;
			 * a copy of the mount in another namespace keeps it */
			if (poll(&p[1], 1, MOUNT_GONE_WAIT_MS) == 0)
				conn_abort(w->dev, w->mountpoint);
			break;
		}
	}
	return NULL;
}

static void mount_watch_start(struct mount_watch *w, struct fuse_session *se,
			      const char *mountpoint)
{
	memset(w, 0, sizeof *w);
	w->se = se;
	w->stop[0] = w->stop[1] = -1;
	snprintf(w->mountpoint, sizeof w->mountpoint, "%s", mountpoint);
	w->fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (w->fd < 0)
		return;
	w->id = mount_id_dev(w->fd, w->mountpoint, &w->dev);
	if (w->id < 0 || pipe2(w->stop, O_CLOEXEC) ||
	    pthread_create(&w->thread, NULL, mount_watch_main, w)) {
		log_warnx("not watching %s for a lazy unmount", mountpoint);
		return;
	}
	w->started = true;
}

static void mount_watch_stop(struct mount_watch *w)
{
	if (w->started) {
		if (write(w->stop[1], "x", 1) != 1)
			log_warn("stopping the mount watch");
		pthread_join(w->thread, NULL);
	}
	if (w->fd >= 0)
		close(w->fd);
	if (w->stop[0] >= 0) {
		close(w->stop[0]);
		close(w->stop[1]);
	}
}

/* In the background, maasfs forks first and the parent waits: it exits
 * 0 once the child has reconciled and mounted (so that a script's next
 * line sees the whole estate), or 1 if the child failed (it has printed
 * why on the terminal they share until then). */
static int daemon_start(int *ready_fd)
{
	char ok;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &ok, 1) < 0 && errno == EINTR)
			;
		_exit(ok == '0' ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void daemon_ready(int *ready_fd)
{
	int null = open("/dev/null", O_RDWR);

	if (*ready_fd < 0)
		return;
	if (chdir("/") < 0)
		log_warn("chdir /");
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	if (write(*ready_fd, "0", 1) != 1)
		log_warn("telling the parent we are up");
	close(*ready_fd);
	*ready_fd = -1;
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (!path || path[0] == '/')
		return path ? strdup(path) : NULL;
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* The command line: 0 to go on, 1 when it was all (--help, --version),
 * -1 after a mistake was said. */
static int parse_cmdline(struct fuse_args *args, struct maas_opts *o,
			 struct fuse_cmdline_opts *c, const char *prog)
{
	if (fuse_opt_parse(args, o, maas_opt_spec, opt_proc) < 0)
		return -1;
	if (o->nnonopt && fuse_opt_add_arg(args, o->nonopt[o->nnonopt - 1]))
		return -1;
	if (o->help) {
		usage(prog);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		return 1;
	}
	if (o->version) {
		version();
		return 1;
	}
	if (fuse_parse_cmdline(args, c) != 0)
		return -1;
	if (!c->mountpoint) {
		fprintf(stderr, "%s: no mountpoint (see --help)\n", prog);
		return -1;
	}
	return 0;
}

/* The model's options from ours: -1 after a bad value was said. */
static int model_opts_of(const struct maas_opts *o, struct model_opts *mo,
			 const char *prog)
{
	char *end;

	if (o->vni && parse_vni(o->vni, &mo->vni_min, &mo->vni_max)) {
		fprintf(stderr, "%s: vni=%s: expected FIRST-LAST within "
			"1-%u\n", prog, o->vni, VNI_MAX);
		return -1;
	}
	if (o->bandwidth) {
		errno = 0;
		mo->bandwidth_mib = strtoull(o->bandwidth, &end, 10);
		if (*o->bandwidth < '0' || *o->bandwidth > '9' || *end ||
		    errno || mo->bandwidth_mib > 1000000) {
			fprintf(stderr, "%s: bandwidth=%s: expected MiB/s, a "
				"number\n", prog, o->bandwidth);
			return -1;
		}
	}
	if (o->parallel) {
		errno = 0;
		mo->parallel = (unsigned)strtoul(o->parallel, &end, 10);
		if (*o->parallel < '1' || *o->parallel > '9' || *end ||
		    errno || mo->parallel > MOVE_PARALLEL_MAX) {
			fprintf(stderr, "%s: parallel=%s: expected 1 to %d\n",
				prog, o->parallel, MOVE_PARALLEL_MAX);
			return -1;
		}
	}
	mo->statedir = absolute(o->state);
	mo->config = absolute(o->config);
	mo->dnsmasq = o->dnsmasq;
	return 0;
}

/* Serves requests until the session ends (unmount, a signal). */
static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *c)
{
	struct fuse_loop_config *loop = NULL;
	struct mount_watch watch;
	int r;

	if (fuse_set_signal_handlers(se) != 0)
		return -1;
	mount_watch_start(&watch, se, c->mountpoint);
	if (c->singlethread) {
		r = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, c->clone_fd);
		if (c->max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop,
						       c->max_idle_threads);
		/* readers blocked on events hold threads: room for them */
		fuse_loop_cfg_set_max_threads(loop, c->max_threads < 64 ? 64
							       : c->max_threads);
		r = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	mount_watch_stop(&watch);
	fuse_remove_signal_handlers(se);
	log_info("unmounted %s; networks and dnsmasq keep running",
		 c->mountpoint);
	return r;
}

static void opts_free(struct maas_opts *o, struct model_opts *mo)
{
	free((char *)mo->statedir);
	free((char *)mo->config);
	free(o->config);
	free(o->state);
	free(o->vni);
	free(o->dnsmasq);
	free(o->log);
	free(o->bandwidth);
	free(o->parallel);
	free(o->nonopt[0]);
	free(o->nonopt[1]);
}

/* The session over model m, mounted on c's mount point, served; detached
 * (daemon_ready) once mounted unless in the foreground. */
static int mount_and_serve(struct model *m, struct fuse_args *args,
			   const struct fuse_cmdline_opts *c,
			   const char *logpath, int *ready_fd)
{
	struct fuse_session *se;
	int r = -1;

	fuse_opt_add_arg(args, "-odefault_permissions,fsname=maasfs,"
			       "subtype=maasfs");
	se = fuse_session_new(args, ll_operations(), sizeof *ll_operations(),
			      m);
	if (!se)
		return -1;
	ll_session(se, c->debug);
	clear_dead_mount(c->mountpoint);
	if (fuse_session_mount(se, c->mountpoint) == 0) {
		if (!c->foreground) {
			daemon_ready(ready_fd);
			log_init("maasfs", 0, logpath);
		}
		log_info("maasfs %s mounted on %s (state %s, instance %s)",
			 MAASFS_VERSION, c->mountpoint, model_statedir(m),
			 model_instance(m));
		r = serve(se, c);
		fuse_session_unmount(se);
	}
	fuse_session_destroy(se);
	return r;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct maas_opts o;
	struct fuse_cmdline_opts c;
	struct model_opts mo;
	struct model *m = NULL;
	char err[ERRLEN] = "", logpath[PATH_MAX + 16];
	int r = 1, ready_fd = -1;

	if (is_agent(argc, argv))
		return agent_main(argc - 1, argv + 1);
	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	memset(&mo, 0, sizeof mo);
	r = parse_cmdline(&args, &o, &c, argv[0]);
	if (r) {
		r = r > 0 ? 0 : -1;   /* --help, --version: done */
		goto out;
	}
	log_init("maasfs", 1, NULL);
	log_fatal_signals();
	log_set_level(c.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	r = model_opts_of(&o, &mo, argv[0]);
	if (r == 0 && !c.foreground && daemon_start(&ready_fd)) {
		fprintf(stderr, "%s: cannot fork: %s\n", argv[0],
			strerror(errno));
		r = -1;
	}
	if (r == 0 && (r = model_open(&mo, &m, err)))
		fprintf(stderr, "%s: %s\n", argv[0], err);
	if (r)
		goto out;
	snprintf(logpath, sizeof logpath, "%s/maasfs.log", model_statedir(m));
	if (o.log || !c.foreground)
		log_init("maasfs", 1, o.log ? o.log : logpath);
	model_reconcile(m);
	r = mount_and_serve(m, &args, &c, o.log ? o.log : logpath, &ready_fd);
out:
	model_free(m);
	opts_free(&o, &mo);
	free(c.mountpoint);
	fuse_opt_free_args(&args);
	log_close();
	return r ? 1 : 0;
}
