#include "xfer.h"

#include <stdio.h>
#include <string.h>

#include <libssh/libssh.h>

void xfer_version(char *buf, size_t len)
{
	const char *v = ssh_version(0);

	snprintf(buf, len, "libssh %.*s", (int)strcspn(v, "/"), v);
}
