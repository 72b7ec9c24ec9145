#include "dnsmasq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/log.h"

#define DNSMASQ_START_MS 10000   /* a dnsmasq that is not up by then won't be */
#define DNSMASQ_STOP_MS 3000
#define DNSMASQ_MAX_ARGS 32
/* Leases one dnsmasq keeps at most, whatever its pool: a guest that asks
 * from made-up MACs cannot grow the lease file past ~1 MB (a lease line
 * is at most ~900 bytes with a long client id), which is read whole. */
#define DNSMASQ_LEASES_MAX 1024
#define DNSMASQ_LEASEFILE_MAX (2u << 20)

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* <vni>.<ext> in the site: the reservations where dnsmasq's user reads
 * them, the rest in the run directory. */
static void dnsmasq_file(const struct dnsmasq_site *s, uint32_t vni,
			 const char *ext, char buf[PATH_MAX])
{
	bool read = !strcmp(ext, "hosts") || !strcmp(ext, "dns");

	snprintf(buf, PATH_MAX, "%s/%u.%s", read ? s->readdir : s->rundir,
		 vni, ext);
}

/* The read directory: DNSMASQ_READ_BASE/<instance>, root's, and in it a
 * directory of the user's that nobody else may enter. */
static int readdir_ensure(const struct dnsmasq_site *s, char *err)
{
	char parent[PATH_MAX], *slash;
	struct stat st;
	int r;

	if (stat(s->readdir, &st) == 0 && st.st_uid == s->uid &&
	    (st.st_mode & 07777) == 0700)
		return 0;
	r = mkdir_p(s->readdir, 0755);
	snprintf(parent, sizeof parent, "%s", s->readdir);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	if (r == 0 && chmod(parent, 0755))
		r = -errno;
	if (r == 0 && (chown(s->readdir, s->uid, s->gid) ||
		       chmod(s->readdir, 0700)))
		r = -errno;
	return r ? err_set(err, -r, "preparing %s for dnsmasq: %s",
			   s->readdir, strerror(-r)) : 0;
}

/* Whether uid:gid reads path: asked of a child that becomes that user,
 * as dnsmasq does after its start. 0, or the errno it met. */
static int readable_as(const char *path, uid_t uid, gid_t gid)
{
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(EPERM);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		_exit(fd < 0 ? errno : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static int site_user(struct dnsmasq_site *s)
{
	static const char *const users[] = { "dnsmasq", "nobody" };
	char buf[4096];
	struct passwd pw, *p = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(users); i++)
		if (getpwnam_r(users[i], &pw, buf, sizeof buf, &p) == 0 && p) {
			snprintf(s->user, sizeof s->user, "%s", users[i]);
			s->uid = p->pw_uid;
			s->gid = p->pw_gid;
			return 0;
		}
	return -ENOENT;
}

int dnsmasq_site_init(struct dnsmasq_site *s, const char *rundir,
		      const char *instance, char *err)
{
	char probe[PATH_MAX + 16];
	int r;

	memset(s, 0, sizeof *s);
	if (strlen(rundir) >= sizeof s->rundir || strlen(instance) > 64)
		return err_set(err, ENAMETOOLONG, "dnsmasq directory too long");
	snprintf(s->rundir, sizeof s->rundir, "%s", rundir);
	snprintf(s->readdir, sizeof s->readdir, DNSMASQ_READ_BASE "/%s/dnsmasq",
		 instance);
	if (!path_safe(s->rundir) || !path_safe(s->readdir))
		return err_set(err, EINVAL, "unsafe dnsmasq directories");
	if (site_user(s))
		return err_set(err, ENOENT, "this host has neither a dnsmasq "
			       "nor a nobody user for dnsmasq to run as");
	r = readdir_ensure(s, err);
	if (r)
		return r;
	snprintf(probe, sizeof probe, "%s/.probe", s->readdir);
	r = file_write_replace(probe, "", 0, 0644);
	if (r == 0)
		r = -readable_as(probe, s->uid, s->gid);
	unlink(probe);
	if (r)
		return err_set(err, -r, "dnsmasq drops its privileges to user "
			       "%s, who cannot read files in %s: %s", s->user,
			       s->readdir, strerror(-r));
	return 0;
}

void dnsmasq_site_tidy(const struct dnsmasq_site *s)
{
	char path[PATH_MAX];
	char *slash;

	if (!s->readdir[0] || rmdir(s->readdir))
		return;
	snprintf(path, sizeof path, "%s", s->readdir);
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		rmdir(path);
	}
}

/* The argv a conforming dnsmasq runs with; the strings live in store. */
struct dnsmasq_argv {
	char *argv[DNSMASQ_MAX_ARGS];
	char store[DNSMASQ_MAX_ARGS][PATH_MAX + 32];
	int argc;
};

static void arg_add(struct dnsmasq_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arg_add(struct dnsmasq_argv *a, const char *fmt, ...)
{
	va_list ap;

	if (a->argc >= DNSMASQ_MAX_ARGS - 1)
		abort();
	va_start(ap, fmt);
	vsnprintf(a->store[a->argc], sizeof a->store[0], fmt, ap);
	va_end(ap);
	a->argv[a->argc] = a->store[a->argc];
	a->argc++;
	a->argv[a->argc] = NULL;
}

static bool label_valid(const char *s)
{
	return strlen(s) <= 63 && !strchr(s, '.') && dns_name_valid(s);
}

/* Every value was validated by the model; these checks make sure nothing
 * that could change dnsmasq's reading of its argv or files gets through
 * even if a caller forgets (the agent protocol will feed this too). */
static int dnsmasq_check(const struct dnsmasq_conf *c, char *err)
{
	size_t i;

	if (!path_safe(c->site->rundir) || !path_safe(c->site->readdir) ||
	    !word_safe(c->site->user) || !path_safe(c->binary))
		return err_set(err, EINVAL, "unsafe dnsmasq paths");
	if (strlen(c->iface) > 15 || !word_safe(c->iface))
		return err_set(err, EINVAL, "bad interface name");
	if (!dns_name_valid(c->domain))
		return err_set(err, EINVAL, "bad domain '%s'", c->domain);
	if (c->forget && !mac_valid(c->forget))
		return err_set(err, EINVAL, "bad MAC to forget");
	if (c->prefix < 1 || c->prefix > 30 || c->first > c->last ||
	    c->mtu < 576 || c->mtu > 9000)
		return err_set(err, EINVAL, "bad DHCP parameters");
	for (i = 0; i < c->nhosts; i++)
		if (!mac_valid(c->hosts[i].mac) ||
		    !label_valid(c->hosts[i].name))
			return err_set(err, EINVAL, "bad reservation %zu", i);
	return 0;
}

static void dnsmasq_build_argv(const struct dnsmasq_conf *c,
			       struct dnsmasq_argv *a)
{
	char path[PATH_MAX], first[16], last[16], mask[16], srv[16], gw[16];
	uint32_t netmask = 0xffffffffu << (32 - c->prefix);
	uint32_t pool = c->last - c->first + 1;

	ip_format(c->first, first);
	ip_format(c->last, last);
	ip_format(netmask, mask);
	ip_format(c->server, srv);
	ip_format(c->router, gw);
	a->argc = 0;
	arg_add(a, "%s", c->binary);
	arg_add(a, "--conf-file=/dev/null");
	arg_add(a, "--user=%s", c->site->user);
	dnsmasq_file(c->site, c->vni, "pid", path);
	arg_add(a, "--pid-file=%s", path);
	dnsmasq_file(c->site, c->vni, "leases", path);
	arg_add(a, "--dhcp-leasefile=%s", path);
	dnsmasq_file(c->site, c->vni, "hosts", path);
	arg_add(a, "--dhcp-hostsfile=%s", path);
	dnsmasq_file(c->site, c->vni, "dns", path);
	arg_add(a, "--addn-hosts=%s", path);
	dnsmasq_file(c->site, c->vni, "log", path);
	arg_add(a, "--log-facility=%s", path);
	arg_add(a, "--interface=%s", c->iface);
	arg_add(a, "--except-interface=lo");
	arg_add(a, "--bind-interfaces");
	arg_add(a, "--no-resolv");
	arg_add(a, "--no-hosts");
	arg_add(a, "--dhcp-authoritative");
	/* The pool belongs to maasfs: no 3 s ping before each new offer. */
	arg_add(a, "--no-ping");
	arg_add(a, "--dhcp-range=%s,%s,%s,12h", first, last, mask);
	arg_add(a, "--dhcp-lease-max=%u",
		pool < DNSMASQ_LEASES_MAX ? pool : DNSMASQ_LEASES_MAX);
	arg_add(a, "--dhcp-option=option:router,%s", gw);
	arg_add(a, "--dhcp-option=option:dns-server,%s", srv);
	arg_add(a, "--dhcp-option=option:mtu,%u", c->mtu);
	arg_add(a, "--domain=%s", c->domain);
	arg_add(a, "--local=/%s/", c->domain);
	arg_add(a, "--domain-needed");
}

/* The pid in the pid file, if that process is this subnet's dnsmasq (its
 * command line names our pid file): 0 otherwise. cmdline gets the
 * process's argv, NUL-separated, when wanted. */
static int dnsmasq_find(const struct dnsmasq_site *s, uint32_t vni,
			struct strbuf *cmdline)
{
	char pidpath[PATH_MAX], proc[64], want[PATH_MAX + 16];
	struct strbuf sb = STRBUF_INIT, cl = STRBUF_INIT;
	const char *p;
	long pid;
	int found = 0;

	dnsmasq_file(s, vni, "pid", pidpath);
	if (file_read(pidpath, &sb, 64) || sb.len == 0)
		goto out;
	pid = strtol(sb.s, NULL, 10);
	if (pid <= 1)
		goto out;
	snprintf(proc, sizeof proc, "/proc/%ld/cmdline", pid);
	if (file_read(proc, &cl, 65536))
		goto out;
	snprintf(want, sizeof want, "--pid-file=%s", pidpath);
	for (p = cl.s; p && p < cl.s + cl.len; p += strlen(p) + 1)
		if (!strcmp(p, want)) {
			found = (int)pid;
			break;
		}
	if (found && cmdline) {
		sb_reset(cmdline);
		sb_append(cmdline, cl.s, cl.len);
	}
out:
	sb_free(&sb);
	sb_free(&cl);
	return found;
}

int dnsmasq_pid(const struct dnsmasq_site *s, uint32_t vni)
{
	return dnsmasq_find(s, vni, NULL);
}

static bool argv_matches(const struct dnsmasq_argv *a,
			 const struct strbuf *cmdline)
{
	const char *p = cmdline->s;
	const char *end = cmdline->s + cmdline->len;
	int i;

	for (i = 0; i < a->argc; i++) {
		if (p >= end || strcmp(p, a->argv[i]))
			return false;
		p += strlen(p) + 1;
	}
	return p == end;
}

/* Waits until the process behind pidfd has gone, up to ms. */
static bool pidfd_wait(int pidfd, int ms)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int64_t deadline = clock_ms() + ms;

	for (;;) {
		int left = (int)(deadline - clock_ms());
		int n;

		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, left);
		if (n > 0)
			return true;
		if (n == 0)
			return false;
		if (errno != EINTR)
			return false;
	}
}

static int dnsmasq_kill(int pid, char *err)
{
	int pidfd = pidfd_open_(pid);
	int r = 0;

	if (pidfd < 0)
		return errno == ESRCH ? 0 : err_set(err, errno,
			"pidfd_open(%d): %s", pid, strerror(errno));
	if (pidfd_signal(pidfd, SIGTERM) < 0 && errno != ESRCH) {
		r = err_set(err, errno, "kill(%d): %s", pid, strerror(errno));
		goto out;
	}
	if (!pidfd_wait(pidfd, DNSMASQ_STOP_MS)) {
		log_warnx("dnsmasq %d ignored SIGTERM, killing it", pid);
		pidfd_signal(pidfd, SIGKILL);
		if (!pidfd_wait(pidfd, DNSMASQ_STOP_MS))
			r = err_set(err, ETIMEDOUT, "dnsmasq %d does not die",
				    pid);
	}
out:
	close(pidfd);
	return r;
}

static int write_hosts(const struct dnsmasq_conf *c, bool *changed,
		       char *err)
{
	struct strbuf dh = STRBUF_INIT, dns = STRBUF_INIT, old = STRBUF_INIT;
	char path[PATH_MAX], ip[16];
	const char *ext[2] = { "hosts", "dns" };
	struct strbuf *want[2] = { &dh, &dns };
	size_t i;
	int r = 0;

	for (i = 0; i < c->nhosts; i++) {
		ip_format(c->hosts[i].ip, ip);
		sb_printf(&dh, "%s,%s,%s\n", c->hosts[i].mac, ip,
			  c->hosts[i].name);
		sb_printf(&dns, "%s %s.%s %s\n", ip, c->hosts[i].name,
			  c->domain, c->hosts[i].name);
	}
	*changed = false;
	for (i = 0; i < 2 && r == 0; i++) {
		dnsmasq_file(c->site, c->vni, ext[i], path);
		sb_reset(&old);
		if (file_read(path, &old, 1 << 24) == 0 &&
		    old.len == want[i]->len &&
		    !memcmp(sb_str(&old), sb_str(want[i]), old.len))
			continue;
		/* made again from the state at every mount: no fsync */
		r = file_write_replace(path, sb_str(want[i]), want[i]->len,
				       0644);
		if (r)
			err_set(err, -r, "writing %s: %s", path, strerror(-r));
		*changed = true;
	}
	sb_free(&dh);
	sb_free(&dns);
	sb_free(&old);
	return r;
}

/* Forks and execs dnsmasq in the namespace; its first process exits once
 * the daemon has bound its sockets (or failed), so waiting for it is
 * waiting for "answers". Its stderr is kept for the error message. */
static int dnsmasq_spawn(int nsfd, const struct dnsmasq_argv *a, char *err)
{
	static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[] = { path_env, NULL };
	char out[512];
	size_t outlen = 0;
	int pipefd[2], pidfd, status, r = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(err, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		r = err_set(err, errno, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDONLY);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		if (devnull < 0 || dup2(devnull, 0) < 0 ||
		    dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(126);
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(a->argv[0], a->argv, envp);
		_exit(127);
	}
	close(pipefd[1]);
	pidfd = pidfd_open_(pid);
	if (pidfd < 0 || !pidfd_wait(pidfd, DNSMASQ_START_MS)) {
		kill(pid, SIGKILL);
		r = err_set(err, ETIMEDOUT, "dnsmasq did not start within %d s",
			    DNSMASQ_START_MS / 1000);
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(pipefd[0], out + outlen,
				 sizeof out - 1 - outlen);
		if (n <= 0)
			break;
		outlen += (size_t)n;
	}
	close(pipefd[0]);
	out[outlen] = '\0';
	while (outlen > 0 && (out[outlen - 1] == '\n' || out[outlen - 1] == ' '))
		out[--outlen] = '\0';
	if (r)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return err_set(err, ENOENT, "cannot execute %s", a->argv[0]);
	if (WIFEXITED(status))
		return err_set(err, EIO, "dnsmasq failed (exit %d): %s",
			       WEXITSTATUS(status), outlen ? out : "no output");
	return err_set(err, EIO, "dnsmasq died with signal %d",
		       WTERMSIG(status));
}

/* What the log, from offset on, says of file: 1 dnsmasq read it, -errno
 * it could not (its line in why), 0 nothing yet. */
static int log_says_read(const char *log, off_t from, const char *file,
			 char *why)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	int fd = open(log, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size < from)
		from = 0;      /* its head was cut meanwhile (hostdrv trim) */
	n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return dnsmasq_log_says(buf, file, why);
}

int dnsmasq_log_says(char *buf, const char *file, char *why)
{
	static const char *const failed[] = { "cannot read ",
					      "failed to load names from " };
	char want[PATH_MAX + 32], *hit, *eol;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(failed); i++) {
		snprintf(want, sizeof want, "%s%s", failed[i], file);
		hit = strstr(buf, want);
		if (hit) {
			eol = strchr(hit, '\n');
			if (eol)
				*eol = '\0';
			return err_set(why, EIO, "dnsmasq: %s", hit);
		}
	}
	snprintf(want, sizeof want, "read %s", file);
	return strstr(buf, want) != NULL;
}

/* SIGHUP is asynchronous: wait until dnsmasq's log says it has read both
 * reservation files again, so that the write that changed them returns
 * when DHCP and DNS know. */
static int dnsmasq_reload(const struct dnsmasq_conf *c, int pid, char *err)
{
	char log[PATH_MAX], hosts[PATH_MAX], dns[PATH_MAX];
	int64_t deadline = clock_ms() + DNSMASQ_STOP_MS;
	struct stat st;
	off_t from = 0;

	dnsmasq_file(c->site, c->vni, "log", log);
	dnsmasq_file(c->site, c->vni, "hosts", hosts);
	dnsmasq_file(c->site, c->vni, "dns", dns);
	if (stat(log, &st) == 0)
		from = st.st_size;
	if (kill(pid, SIGHUP) < 0)
		return err_set(err, errno, "reloading dnsmasq %d: %s", pid,
			       strerror(errno));
	while (clock_ms() < deadline) {
		int h = log_says_read(log, from, hosts, err);
		int d = h < 0 ? 0 : log_says_read(log, from, dns, err);

		if (h < 0 || d < 0)
			return h < 0 ? h : d;
		if (h && d)
			return 0;
		usleep(2000);
	}
	return err_set(err, ETIMEDOUT, "dnsmasq %d did not reload its "
		       "reservations", pid);
}

/* Drops the lease lines of a MAC from the lease file; 1 if there were. */
static int leases_drop(const struct dnsmasq_conf *c, const char *mac,
		       char *err)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	char path[PATH_MAX], want[32];
	const char *line, *nl;
	int r, dropped = 0;

	dnsmasq_file(c->site, c->vni, "leases", path);
	r = file_read(path, &in, 1 << 24);
	if (r == -ENOENT)
		return 0;
	if (r)
		return err_set(err, -r, "reading %s: %s", path, strerror(-r));
	snprintf(want, sizeof want, " %s ", mac);
	for (line = sb_str(&in); *line; line = nl ? nl + 1 : line + strlen(line)) {
		size_t len;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (memmem(line, len, want, strlen(want)))
			dropped = 1;
		else
			sb_append(&out, line, len);
	}
	if (dropped) {
		r = file_write_atomic(path, sb_str(&out), out.len, 0644);
		if (r)
			dropped = err_set(err, -r, "writing %s: %s", path,
					  strerror(-r));
	}
	sb_free(&in);
	sb_free(&out);
	return dropped;
}

static bool leases_have(const struct dnsmasq_conf *c, const char *mac)
{
	struct strbuf in = STRBUF_INIT;
	char path[PATH_MAX], want[32];
	bool found;

	dnsmasq_file(c->site, c->vni, "leases", path);
	snprintf(want, sizeof want, " %s ", mac);
	found = file_read(path, &in, 1 << 24) == 0 &&
		strstr(sb_str(&in), want) != NULL;
	sb_free(&in);
	return found;
}

int dnsmasq_ensure(int nsfd, const struct dnsmasq_conf *c, int *pidp,
		   char *err)
{
	struct dnsmasq_argv *a = calloc(1, sizeof *a);
	struct strbuf cmdline = STRBUF_INIT;
	bool hosts_changed;
	int pid, r;

	if (!a)
		return err_set(err, ENOMEM, "out of memory");
	r = dnsmasq_check(c, err);
	if (r)
		goto out;
	dnsmasq_build_argv(c, a);
	r = mkdir_p(c->site->rundir, 0755);
	if (r) {
		err_set(err, -r, "mkdir %s: %s", c->site->rundir, strerror(-r));
		goto out;
	}
	r = readdir_ensure(c->site, err);
	if (r)
		goto out;
	r = write_hosts(c, &hosts_changed, err);
	if (r)
		goto out;
	pid = dnsmasq_find(c->site, c->vni, &cmdline);
	/* A lease to forget: dnsmasq keeps leases in memory, so it is stopped,
	 * the lease file rewritten without it, and dnsmasq started again
	 * (clients keep their leases: they are in the file). */
	if (c->forget && leases_have(c, c->forget)) {
		if (pid > 0) {
			r = dnsmasq_kill(pid, err);
			if (r)
				goto out;
			pid = 0;
		}
		r = leases_drop(c, c->forget, err);
		if (r < 0)
			goto out;
		r = 0;
	}
	if (pid > 0 && argv_matches(a, &cmdline)) {
		if (hosts_changed)
			r = dnsmasq_reload(c, pid, err);
		if (r == 0)
			*pidp = pid;
		goto out;
	}
	if (pid > 0) {
		log_info("dnsmasq %d for VNI %u runs with another "
			 "configuration: restarting it", pid, c->vni);
		r = dnsmasq_kill(pid, err);
		if (r)
			goto out;
	}
	/* A server that moved here starts from the leases it had, so that
	 * no client is refused or handed another address. */
	if (c->leases) {
		char path[PATH_MAX];

		dnsmasq_file(c->site, c->vni, "leases", path);
		r = file_write_atomic(path, c->leases, strlen(c->leases), 0644);
		if (r) {
			err_set(err, -r, "writing %s: %s", path, strerror(-r));
			goto out;
		}
	}
	r = dnsmasq_spawn(nsfd, a, err);
	if (r)
		goto out;
	pid = dnsmasq_find(c->site, c->vni, NULL);
	if (pid <= 0) {
		r = err_set(err, EIO, "dnsmasq started but left no pid file");
		goto out;
	}
	log_debug("dnsmasq %d serves %s (VNI %u)", pid, c->iface, c->vni);
	*pidp = pid;
out:
	sb_free(&cmdline);
	free(a);
	return r;
}

int dnsmasq_stop(const struct dnsmasq_site *s, uint32_t vni, bool purge,
		 char *err)
{
	static const char *const exts[] = { "leases", "hosts", "dns", "log" };
	char path[PATH_MAX];
	int pid = dnsmasq_find(s, vni, NULL);
	size_t i;
	int r = 0;

	if (pid > 0)
		r = dnsmasq_kill(pid, err);
	if (r)
		return r;
	dnsmasq_file(s, vni, "pid", path);
	unlink(path);
	if (!purge)
		return 0;
	for (i = 0; i < ARRAY_SIZE(exts); i++) {
		dnsmasq_file(s, vni, exts[i], path);
		unlink(path);
		/* and where versions before 0.2 kept the reservations */
		snprintf(path, sizeof path, "%s/%u.%s", s->rundir, vni,
			 exts[i]);
		unlink(path);
	}
	return 0;
}

int dnsmasq_leases(const struct dnsmasq_site *s, uint32_t vni,
		   struct strbuf *out)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char path[PATH_MAX];
	int tries, r;

	/* dnsmasq rewrites its lease file in place (truncate, then write):
	 * a read meanwhile sees part of it. Read until two reads agree. */
	dnsmasq_file(s, vni, "leases", path);
	r = file_read(path, &a, DNSMASQ_LEASEFILE_MAX);
	for (tries = 0; r == 0 && tries < 20; tries++) {
		sb_reset(&b);
		r = file_read(path, &b, DNSMASQ_LEASEFILE_MAX);
		if (r || (a.len == b.len && !memcmp(sb_str(&a), sb_str(&b),
						     a.len)))
			break;
		sb_reset(&a);
		sb_append(&a, sb_str(&b), b.len);
		usleep(1000);
	}
	if (r == 0)
		sb_append(out, sb_str(&a), a.len);
	sb_free(&a);
	sb_free(&b);
	return r == -ENOENT ? 0 : r;
}

static bool lease_line_valid(const char *line, size_t len)
{
	char buf[512], *f[6], *save = NULL, *p;
	uint32_t ip;
	size_t n = 0;

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (p = strtok_r(buf, " ", &save); p && n < 6;
	     p = strtok_r(NULL, " ", &save))
		f[n++] = p;
	if (n != 5 || strspn(f[0], "0123456789") != strlen(f[0]) ||
	    !mac_valid(f[1]) || ip_parse(f[2], &ip))
		return false;
	if (strcmp(f[3], "*") && !dns_name_valid(f[3]))
		return false;
	return !strcmp(f[4], "*") ||
	       strspn(f[4], "0123456789abcdef:") == strlen(f[4]);
}

bool dnsmasq_leases_valid(const char *text)
{
	const char *line, *nl;

	for (line = text; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl || !lease_line_valid(line, (size_t)(nl - line)))
			return false;
	}
	return true;
}

void dnsmasq_leases_filter(const char *text, struct strbuf *out)
{
	const char *line, *nl;

	for (line = text; *line; line = nl ? nl + 1 : line + strlen(line)) {
		size_t len;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (lease_line_valid(line, len)) {
			sb_append(out, line, len);
			sb_puts(out, "\n");
		}
	}
}

/* Adds to *vnis the VNIs of the dnsmasq files in dir. */
static int vnis_in(const char *dir, uint32_t **vnis, size_t *n, size_t *cap)
{
	static const char *const exts[] = { ".pid", ".leases", ".hosts", ".dns",
					    ".log" };
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t i;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char *end;
		unsigned long vni = strtoul(e->d_name, &end, 10);

		if (end == e->d_name || vni == 0 || vni >= (1ul << 24))
			continue;
		for (i = 0; i < ARRAY_SIZE(exts) && strcmp(end, exts[i]); i++)
			;
		if (i == ARRAY_SIZE(exts))
			continue;
		if (*n == *cap) {
			uint32_t *more = realloc(*vnis, (*cap ? *cap * 2 : 64) *
						 sizeof **vnis);

			if (!more) {
				closedir(d);
				return -ENOMEM;
			}
			*vnis = more;
			*cap = *cap ? *cap * 2 : 64;
		}
		(*vnis)[(*n)++] = (uint32_t)vni;
	}
	closedir(d);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int dnsmasq_list(const struct dnsmasq_site *s,
		 void (*fn)(uint32_t vni, void *ctx), void *ctx)
{
	uint32_t *vnis = NULL;
	size_t i, n = 0, cap = 0;
	int r = vnis_in(s->rundir, &vnis, &n, &cap);

	if (r == 0)
		r = vnis_in(s->readdir, &vnis, &n, &cap);
	if (n)
		qsort(vnis, n, sizeof *vnis, cmp_u32);
	for (i = 0; r == 0 && i < n; i++)
		if (i == 0 || vnis[i] != vnis[i - 1])
			fn(vnis[i], ctx);
	free(vnis);
	return r;
}
