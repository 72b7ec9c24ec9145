/* fsop OP PATH [ARG]: one filesystem call, exactly as given, for tests
 * that assert an errno. Prints "OK" (and, for read, the content) or the
 * errno's name; exits 0 on success, 1 on failure, 2 on bad usage.
 *
 *   write PATH VALUE     open(O_WRONLY|O_TRUNC) + one write(2) of VALUE +
 *                        close(2), whose error counts
 *   append PATH VALUE    open(O_WRONLY|O_APPEND) + one write(2)
 *   pwrite PATH VALUE    open(O_WRONLY) + pwrite(2) at offset 1
 *   read PATH            open(O_RDONLY) + read to the end
 *   openrw PATH          open(O_RDWR)
 *   truncate PATH SIZE   truncate(2)
 *   mkdir PATH | rmdir PATH | unlink PATH | create PATH | chmod PATH
 *   rename FROM TO
 *
 * SIGINT and SIGTERM interrupt the call (as Ctrl-C does a shell's write)
 * without ending fsop, so that the errno it got is printed: even in the
 * background of a script, where SIGINT would otherwise be ignored. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/util.h"

static int report(int r)
{
	if (r < 0) {
		printf("%s\n", errno_name(errno));
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int write_value(const char *path, const char *value, int flags,
		       off_t at)
{
	int fd = open(path, O_WRONLY | flags);
	ssize_t n;
	int saved;

	if (fd < 0)
		return report(-1);
	n = at ? pwrite(fd, value, strlen(value), at)
	       : write(fd, value, strlen(value));
	saved = errno;
	/* close(2) reports too: spec.yaml is applied there */
	if (close(fd) < 0 && n >= 0)
		return report(-1);
	errno = saved;
	if (n >= 0 && (size_t)n != strlen(value)) {
		printf("SHORT\n");
		return 1;
	}
	return report(n < 0 ? -1 : 0);
}

static int read_file(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return report(-1);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return report(-1);
	}
	close(fd);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

int main(int argc, char *argv[])
{
	const char *op = argc > 1 ? argv[1] : "";
	const char *path = argc > 2 ? argv[2] : "";
	const char *arg = argc > 3 ? argv[3] : NULL;
	struct sigaction sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;   /* no SA_RESTART: the call sees it */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (argc < 3)
		goto usage;
	if (!strcmp(op, "write") && arg)
		return write_value(path, arg, O_TRUNC, 0);
	if (!strcmp(op, "append") && arg)
		return write_value(path, arg, O_APPEND, 0);
	if (!strcmp(op, "pwrite") && arg)
		return write_value(path, arg, 0, 1);
	if (!strcmp(op, "read"))
		return read_file(path);
	if (!strcmp(op, "openrw")) {
		fd = open(path, O_RDWR);
		if (fd >= 0)
			close(fd);
		return report(fd);
	}
	if (!strcmp(op, "truncate") && arg)
		return report(truncate(path, atol(arg)));
	if (!strcmp(op, "mkdir"))
		return report(mkdir(path, 0755));
	if (!strcmp(op, "rmdir"))
		return report(rmdir(path));
	if (!strcmp(op, "unlink"))
		return report(unlink(path));
	if (!strcmp(op, "chmod"))
		return report(chmod(path, 0600));
	if (!strcmp(op, "create")) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0)
			close(fd);
		return report(fd);
	}
	if (!strcmp(op, "rename") && arg)
		return report(rename(path, arg));
usage:
	fprintf(stderr, "usage: fsop OP PATH [ARG] (see the source)\n");
	return 2;
}
