/* SSH through libssh: sessions to remote clouds, disk copies, the agent
 * channel. This first stone only links it and reports its version. */
#ifndef MAAS_XFER_H
#define MAAS_XFER_H

#include <stddef.h>

/* "libssh 0.10.6" into buf. */
void xfer_version(char *buf, size_t len);

#endif
