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
};

/* A domain libvirt has, as reconcile sees it. */
struct virt_seen {
	const char *uuid;
	const char *name;
	enum virt_power power;
	bool ours;               /* its metadata names our instance */
};

typedef void (*virt_power_fn)(void *ctx, const char *uuid,
			      enum virt_power power);

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
	 * destroy. 0 if it was not running. */
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
	int (*list)(struct virtdrv *d,
		    void (*fn)(void *ctx, const struct virt_seen *seen),
		    void *ctx, char *err);
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
struct virtdrv *virtdrv_libvirt_new(const struct virtdrv_conf *c, char *err);
void virtdrv_free(struct virtdrv *d);

/* Domain names: "maas:<tenant>:<vm>" (':' is in no maasfs name). */
void virt_domain_name(const char *tenant, const char *vm, char *buf,
		      size_t len);

#endif
