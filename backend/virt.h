/* libvirt: one connection per cloud (reconnected after libvirtd restarts),
 * domains defined from validated fields, disks through storage pools,
 * lifecycle events delivered on one event-loop thread, and every virError
 * translated in one place. core/ calls it through struct virtdrv_ops so
 * that unit tests can give the model a fake hypervisor. */
#ifndef MAAS_VIRT_H
#define MAAS_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/util.h"

/* "libvirt 9.0.0" into buf. */
void virt_version(char *buf, size_t len);

enum virt_power {
	VIRT_POWER_UNKNOWN,
	VIRT_POWER_STOPPED,
	VIRT_POWER_RUNNING,
};

#define VIRT_UUID_LEN 36

/* Everything a domain definition is made of; every string is validated
 * by the caller and checked again here before it reaches the XML. */
struct virt_domain {
	const char *uuid;         /* 36 characters */
	const char *tenant;       /* names, for the domain's name and metadata */
	const char *vm;
	unsigned vcpus;
	uint64_t memory_mib;
	const char *image;        /* <images>/<image>.kernel and .initrd */
	const char *bridge;       /* NULL or "": no network interface */
	const char *mac;
	unsigned mtu;
	char tap[16];             /* its port's name on the host, or "" */
};

/* A domain libvirt has, as reconcile sees it. */
struct virt_seen {
	const char *uuid;
	const char *name;
	enum virt_power power;
	bool ours;               /* its metadata names our instance */
};

/* A domain's power changed on the cloud named cloud. */
typedef void (*virt_power_fn)(void *ctx, const char *cloud, const char *uuid,
			      enum virt_power power);

/* A domain once no job (a migration) runs on it any more. */
struct virt_settled {
	enum virt_power power;
	bool paused;             /* running but paused (a migration's end) */
};

/* A live migration: the domain uuid of this driver's cloud to another's,
 * where it is defined as dom; QEMU's stream and the disk copy go to host
 * (the target's underlay address). While it runs, the caller's thread is
 * called back: progress a few times a second, and cancelled, which stops
 * the migration (the domain stays where it was) when it answers true. */
struct virt_progress {
	uint64_t done, total;    /* bytes, memory and disks */
	uint64_t rate;           /* bytes per second */
};
struct virt_migration {
	const char *uuid;
	const struct virt_domain *dom;
	const char *host;
	const char *tls_name;    /* over libvirt's TLS, the destination's
				  * certificate named so; NULL: in clear */
	uint64_t bandwidth_mib;  /* MiB/s, 0: no limit */
	/* The pause the guest may get, ms (0: maasfs's own ramp, up to
	 * 500 ms). Held to with auto-converge; a guest that cannot be
	 * moved within it is not: the migration is aborted, -ETIMEDOUT. */
	unsigned budget_ms;
	void (*progress)(void *ctx, const struct virt_progress *p);
	bool (*cancelled)(void *ctx);
	void *ctx;
};
struct virt_migrated {
	uint64_t bytes;
	int64_t total_ms;
	int64_t downtime_ms;     /* -1: libvirt did not say */
};

/* A copy of a VM's disk as it is at one moment (a test's launch): the
 * new disk <dest>.qcow2 beside it, of capacity bytes. Of a running domain
 * by libvirt's backup job (push mode, full: QEMU copies the disk as it
 * was when the job began while the guest runs on, never paused); of a
 * stopped one, a copy of its file. progress and cancelled as a
 * migration's: true stops it (-EINTR, no copy left). */
struct virt_backup {
	const char *uuid;
	const char *dest;
	uint64_t capacity;
	void (*progress)(void *ctx, const struct virt_progress *p);
	bool (*cancelled)(void *ctx);
	void *ctx;
};

/* A cycle of a VM's replication (core/repl.c): a pull-mode backup job
 * that serves the domain's disk over NBD, as it is at the job's start, on
 * the unix socket copy.h names in the folder the cloud's host driver made
 * for it; with since, the blocks changed since that checkpoint are its
 * dirty bitmap. The checkpoint ckpt ("maas-" digits) is made at that same
 * instant. */
struct virt_cycle {
	const char *uuid;
	const char *ckpt;
	const char *since;       /* NULL: the whole disk (the first) */
};

struct virtdrv;

struct virtdrv_ops {
	/* Defines (or redefines) the persistent domain; xml gets the
	 * definition as libvirt now holds it. */
	int (*define)(struct virtdrv *d, const struct virt_domain *dom,
		      struct strbuf *xml, char *err);
	/* 0 if it was not defined. -EBUSY while it runs. */
	int (*undefine)(struct virtdrv *d, const char *uuid, char *err);
	int (*start)(struct virtdrv *d, const char *uuid, char *err);
	/* ACPI power button, up to grace_ms for the guest to go, then
	 * destroy. 0 if it was not running. start resumes a paused one. */
	int (*stop)(struct virtdrv *d, const char *uuid, int grace_ms,
		    char *err);
	int (*power)(struct virtdrv *d, const char *uuid,
		     enum virt_power *out, char *err);
	/* The image's kernel, initrd and base disk are on the cloud. */
	int (*image_check)(struct virtdrv *d, const char *image, char *err);
	/* The VM's disk <uuid>.qcow2: cloned from the image's base disk and
	 * grown to size; grown later; deleted with the console log
	 * <uuid>.console (the serial console is logged to the disk directory,
	 * where the cloud's network driver reads its tail). */
	int (*disk_create)(struct virtdrv *d, const char *uuid,
			   const char *image, uint64_t mib, char *err);
	int (*disk_resize)(struct virtdrv *d, const char *uuid, uint64_t mib,
			   char *err);
	int (*disk_delete)(struct virtdrv *d, const char *uuid, char *err);
	/* 1 if it exists, 0 if not, or -errno. */
	int (*disk_exists)(struct virtdrv *d, const char *uuid, char *err);
	/* Virtual size and bytes on disk of the VM's disk; -ENOENT if none. */
	int (*disk_info)(struct virtdrv *d, const char *uuid,
			 uint64_t *capacity, uint64_t *allocation, char *err);
	/* Bytes free where the cloud keeps disks. */
	int (*disk_room)(struct virtdrv *d, uint64_t *avail, char *err);
	/* An empty disk of capacity bytes: where a live migration copies
	 * the VM's disk to. Replaces one left by an earlier attempt. */
	int (*disk_prepare)(struct virtdrv *d, const char *uuid,
			    uint64_t capacity, char *err);
	/* Waits up to timeout_ms for no job to run on the domain, then says
	 * how it is. -ENOENT if the cloud has no such domain. */
	int (*settle)(struct virtdrv *d, const char *uuid, int timeout_ms,
		      struct virt_settled *out, char *err);
	/* Live migration to the cloud of dst (a driver of the same kind),
	 * storage copied, persistent there; the domain stays defined (shut
	 * off) here, for the caller to remove once it has checked the
	 * target. -EINTR when cancelled. */
	int (*migrate)(struct virtdrv *d, struct virtdrv *dst,
		       const struct virt_migration *mg,
		       struct virt_migrated *out, char *err);
	int (*disk_backup)(struct virtdrv *d, const struct virt_backup *b,
			   char *err);
	/* Replication (NULL: a driver without it). repl_end ends the
	 * cycle's job (0 if none runs). ckpt_drop deletes a checkpoint (its
	 * changes merge into the one before), or all of maasfs's (name
	 * NULL), 0 if none; of a domain that does not run, libvirt only
	 * forgets them. ckpt_size: the bytes changed since the checkpoint. */
	int (*repl_begin)(struct virtdrv *d, const struct virt_cycle *c,
			  char *err);
	int (*repl_end)(struct virtdrv *d, const char *uuid, char *err);
	int (*ckpt_drop)(struct virtdrv *d, const char *uuid,
			 const char *name, char *err);
	int (*ckpt_size)(struct virtdrv *d, const char *uuid,
			 const char *name, uint64_t *bytes, char *err);
	/* Pauses a running domain (start resumes it). */
	int (*suspend)(struct virtdrv *d, const char *uuid, char *err);
	int (*list)(struct virtdrv *d,
		    void (*fn)(void *ctx, const struct virt_seen *seen),
		    void *ctx, char *err);
	/* Starts connecting, if not connected, without waiting (NULL: the
	 * driver needs no connection). */
	void (*warm)(struct virtdrv *d);
	/* 0 if the hypervisor answers, or -EHOSTUNREACH with why it is
	 * down; never blocks (NULL: always up). */
	int (*status)(struct virtdrv *d, struct strbuf *why);
	void (*free)(struct virtdrv *d);
};

struct virtdrv {
	const struct virtdrv_ops *ops;
};

struct virtdrv_conf {
	const char *cloud;        /* for messages */
	const char *uri;
	const char *domtype;      /* "qemu" (TCG) or "kvm" */
	const char *images;       /* directories on the cloud */
	const char *disks;
	const char *instance;     /* marks our domains */
	const char *netns;        /* reach libvirt from this namespace, or NULL */
	virt_power_fn on_power;   /* called on the event thread */
	void *ctx;
};

/* Starts (once) the event loop thread that delivers lifecycle events and
 * keeps connections alive; the first connection does it. */
int virt_events_start(char *err);
/* Ends the event thread (before exit: see virt.c); start may follow. */
void virt_events_stop(void);
struct virtdrv *virtdrv_libvirt_new(const struct virtdrv_conf *c, char *err);
void virtdrv_free(struct virtdrv *d);

/* Domain names: "maas:<tenant>:<vm>" (':' is in no maasfs name). */
void virt_domain_name(const char *tenant, const char *vm, char *buf,
		      size_t len);

#endif
