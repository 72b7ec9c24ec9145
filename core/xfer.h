/* Files from one cloud to another (a migration's disk, console log and
 * image, a test's disk): through the clouds' host drivers, relayed by
 * this process, verified end to end (SHA-256), under the bandwidth cap. */
#ifndef MAAS_XFER_H
#define MAAS_XFER_H

#include "../backend/copy/relay.h"
#include "model.h"

struct xfer {
	struct cloud *from, *to;
	struct relay_opts o;     /* cap, progress, cancel */
};

/* One file of the source's disk or image directory to the target's.
 * -ENOENT if the source has none; -EINTR when cancelled. sum_hex (or
 * NULL) gets its SHA-256. */
int xfer_file(const struct xfer *x, enum copy_area area, const char *name,
	      char *sum_hex, char *err);
/* The image on the target: there already, or its kernel, initrd and base
 * disk sent from the source (-ENOENT: on neither cloud). */
int xfer_image(const struct xfer *x, const char *image, char *err);

#endif
