/* statread OP REPEAT PATH...: times stat(2), open+read+close, or a whole
 * readdir (opendir, readdir to the end, closedir) of each path, REPEAT rounds, and prints the median ns per operation of the
 * rounds (one line: "ns_per_op=N ops=M"). The benchmark's probe: the same
 * program against maasfs, the minimal libfuse file system and tmpfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char *argv[])
{
	char buf[65536];
	long long *round;
	int rounds, i, j, rd;
	struct stat st;

	if (argc < 4 || (strcmp(argv[1], "stat") && strcmp(argv[1], "read") &&
			 strcmp(argv[1], "readdir"))) {
		fprintf(stderr, "usage: statread stat|read|readdir REPEAT "
			"PATH...\n");
		return 2;
	}
	rd = !strcmp(argv[1], "read") ? 1 : !strcmp(argv[1], "readdir") ? 2
									: 0;
	rounds = atoi(argv[2]);
	if (rounds < 1)
		rounds = 1;
	round = calloc((size_t)rounds, sizeof *round);
	if (!round)
		return 1;
	for (i = 0; i < rounds; i++) {
		long long t0 = now_ns();

		for (j = 3; j < argc; j++) {
			if (rd == 2) {
				DIR *d = opendir(argv[j]);

				if (!d) {
					perror(argv[j]);
					return 1;
				}
				while (readdir(d))
					;
				closedir(d);
				continue;
			}
			if (!rd) {
				if (stat(argv[j], &st) < 0) {
					perror(argv[j]);
					return 1;
				}
				continue;
			}
			int fd = open(argv[j], O_RDONLY);

			if (fd < 0 || read(fd, buf, sizeof buf) < 0) {
				perror(argv[j]);
				return 1;
			}
			close(fd);
		}
		round[i] = (now_ns() - t0) / (argc - 3);
	}
	qsort(round, (size_t)rounds, sizeof *round, cmp);
	printf("ns_per_op=%lld ops=%d\n", round[rounds / 2], argc - 3);
	free(round);
	return 0;
}
