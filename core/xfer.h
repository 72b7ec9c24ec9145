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

/* Room a disk needs on the target beyond its bytes. */
#define MIG_ROOM_MARGIN (64ull << 20)

/* The checks before a VM's disk goes to another cloud (a migration's, a
 * plan's, a test's, a replication's), without the lock: the target
 * answers, both clouds have a vtep if the VM has a subnet, the VM's disk
 * is on from (its capacity and its bytes), and to has room for them
 * beyond reserved bytes (other disks bound there; less than 0: disks that
 * will have left it) and MIG_ROOM_MARGIN. 0, or -errno and why. */
struct mig_target {
	struct cloud *from, *to;
	const char *uuid, *name;
	bool subnet;
	int64_t reserved;
	bool replica;      /* the target holds the disk's replica: no room
			    * asked */
};
int mig_ready(const struct mig_target *t, uint64_t *capacity,
	      uint64_t *allocation, char *err);

#endif
