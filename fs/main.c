/* maasfs [-f] [-d] [-o config=FILE,state=DIR,...] MOUNTPOINT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"   /* first: it sets FUSE_USE_VERSION */

#include "../core/model.h"
#include "../lib/log.h"

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
	int help;
	int version;
};

#define OPT(t, p) { t, offsetof(struct maas_opts, p), 1 }
static const struct fuse_opt maas_opt_spec[] = {
	OPT("config=%s", config),
	OPT("state=%s", state),
	OPT("vni=%s", vni),
	OPT("dnsmasq=%s", dnsmasq),
	OPT("log=%s", log),
	OPT("bandwidth=%s", bandwidth),
	OPT("-h", help),
	OPT("--help", help),
	OPT("-V", version),
	OPT("--version", version),
	FUSE_OPT_END
};

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n"
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

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct maas_opts o;
	struct fuse_cmdline_opts c;
	struct model_opts mo;
	struct fuse_loop_config *loop = NULL;
	struct model *m = NULL;
	struct fuse_session *se = NULL;
	char err[ERRLEN] = "", logpath[PATH_MAX + 16];
	char *statedir = NULL;
	int r = 1, ready_fd = -1;

	if (argc > 1 && !strcmp(argv[1], "agent"))
		return agent_main(argc - 1, argv + 1);
	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	memset(&mo, 0, sizeof mo);
	if (fuse_opt_parse(&args, &o, maas_opt_spec, NULL) < 0)
		return 1;
	if (o.help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		r = 0;
		goto out;
	}
	if (o.version) {
		version();
		r = 0;
		goto out;
	}
	if (fuse_parse_cmdline(&args, &c) != 0)
		goto out;
	if (!c.mountpoint) {
		fprintf(stderr, "%s: no mountpoint (see --help)\n", argv[0]);
		goto out;
	}
	log_init("maasfs", 1, NULL);
	log_set_level(c.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (o.vni && parse_vni(o.vni, &mo.vni_min, &mo.vni_max)) {
		fprintf(stderr, "%s: vni=%s: expected FIRST-LAST within "
			"1-%u\n", argv[0], o.vni, VNI_MAX);
		goto out;
	}
	if (o.bandwidth) {
		char *end;

		errno = 0;
		mo.bandwidth_mib = strtoull(o.bandwidth, &end, 10);
		if (*o.bandwidth < '0' || *o.bandwidth > '9' || *end || errno ||
		    mo.bandwidth_mib > 1000000) {
			fprintf(stderr, "%s: bandwidth=%s: expected MiB/s, a "
				"number\n", argv[0], o.bandwidth);
			goto out;
		}
	}
	statedir = absolute(o.state);
	mo.statedir = statedir;
	mo.config = absolute(o.config);
	mo.dnsmasq = o.dnsmasq;
	if (!c.foreground && daemon_start(&ready_fd)) {
		fprintf(stderr, "%s: cannot fork: %s\n", argv[0],
			strerror(errno));
		goto out;
	}
	if (model_open(&mo, &m, err)) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		goto out;
	}
	snprintf(logpath, sizeof logpath, "%s/maasfs.log", m->statedir);
	if (o.log || !c.foreground)
		log_init("maasfs", 1, o.log ? o.log : logpath);
	model_reconcile(m);

	fuse_opt_add_arg(&args, "-odefault_permissions,fsname=maasfs,"
				"subtype=maasfs");
	se = fuse_session_new(&args, ll_operations(),
			      sizeof *ll_operations(), m);
	if (!se)
		goto out;
	ll_session(se, c.debug);
	clear_dead_mount(c.mountpoint);
	if (fuse_session_mount(se, c.mountpoint) != 0)
		goto out;
	if (!c.foreground) {
		daemon_ready(&ready_fd);
		log_init("maasfs", 0, o.log ? o.log : logpath);
	}
	log_info("maasfs %s mounted on %s (state %s, instance %s)",
		 MAASFS_VERSION, c.mountpoint, m->statedir, m->instance);
	if (fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	if (c.singlethread) {
		r = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, c.clone_fd);
		if (c.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop,
						       c.max_idle_threads);
		/* readers blocked on events hold threads: room for them */
		fuse_loop_cfg_set_max_threads(loop, c.max_threads < 64 ? 64
							       : c.max_threads);
		r = fuse_session_loop_mt(se, loop);
	}
	fuse_remove_signal_handlers(se);
	log_info("unmounted %s; networks and dnsmasq keep running",
		 c.mountpoint);
out_unmount:
	fuse_session_unmount(se);
out:
	if (se)
		fuse_session_destroy(se);
	if (loop)
		fuse_loop_cfg_destroy(loop);
	model_free(m);
	free(statedir);
	free((char *)mo.config);
	free(c.mountpoint);
	fuse_opt_free_args(&args);
	free(o.config);
	free(o.state);
	free(o.vni);
	free(o.dnsmasq);
	free(o.log);
	free(o.bandwidth);
	log_close();
	return r ? 1 : 0;
}
