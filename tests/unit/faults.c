/* Faults the system cannot be asked for: each unit binary is linked with
 * --wrap=fsync, so that a test can make the fsync of a directory fail
 * (a disk that fails while the state is replaced). */
#include "faults.h"

#include <errno.h>
#include <sys/stat.h>

int fault_fsync_dir;   /* non-zero: fsync of a directory fails with EIO */

int __real_fsync(int fd);
int __wrap_fsync(int fd);

int __wrap_fsync(int fd)
{
	struct stat st;

	if (fault_fsync_dir && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}
