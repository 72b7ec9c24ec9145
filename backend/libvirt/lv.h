/* The libvirt driver's insides, shared by its files, from the top:
 * driver.c (its table of operations), migrate.c (live migration),
 * storage.c (images, disks), domain.c (domain XML, the domains' life),
 * conn.c (the connection, its thread, events and pools). No libvirt type
 * leaves this folder. */
#ifndef MAAS_LV_H
#define MAAS_LV_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "../virt.h"

#define META_NS "https://maasfs.invalid/xmlns/vm/1"
#define META_PREFIX "maasfs"
#define RECONNECT_MS 2000
/* A libvirtd that stops answering: a connection is closed after
 * KEEPALIVE_S * (KEEPALIVE_COUNT + 1) s without an answer to keepalives
 * (every call waiting on it fails then), and a caller waits at most
 * CONNECT_WAIT_MS for a connection being opened. */
#define KEEPALIVE_S 3
#define KEEPALIVE_COUNT 3
#define CONNECT_WAIT_MS 8000

struct libvirt_drv {
	struct virtdrv base;
	char cloud[64];
	char uri[256];
	char domtype[8];
	char images[PATH_MAX];
	char disks[PATH_MAX];
	char instance[64];
	char netns[64];
	virt_power_fn on_power;
	void *ctx;
	char pool_images[64];
	char pool_disks[64];

	/* libvirt calls close_cb holding its own locks, and we call libvirt
	 * holding lock: the callback takes only why_lock, and sets dead
	 * atomically, so that no lock order can run both ways */
	pthread_mutex_t why_lock;
	char why[ERRLEN];          /* why there is no connection */
	bool dead;                 /* atomic: the connection closed under us */
	bool tcg_said;             /* atomic: the TCG warning was logged */

	pthread_mutex_t lock;
	pthread_cond_t opened;     /* a connector ended */
	/* protected by lock: */
	virConnectPtr conn;
	int event_id;
	bool wanted;               /* someone needed it: keep it up */
	bool connecting;           /* a connector thread is opening one */
	int64_t connecting_since;  /* clock_ms() */
	bool freed;                /* lv_free ran: the last ref frees */
	int refs;                  /* the owner, and a running connector */
	virConnectPtr reach_conn;  /* QEMU reached our folders on it */
	int timer;
};

static inline struct libvirt_drv *lv_of(struct virtdrv *d)
{
	return (struct libvirt_drv *)d;
}

/* conn.c: libvirt's errors as errno (and their message in err), the
 * connection of a request (opened by the connector thread; EHOSTUNREACH
 * after CONNECT_WAIT_MS), a domain's power from libvirt's state. */
int lv_fail(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
virConnectPtr lv_conn(struct libvirt_drv *d, char *err);
/* A new connection of the caller's own (no events, no pools), opened in
 * the background from _begin on (NULL: no thread to be had); _wait gives
 * it within CONNECT_WAIT_MS of its start, or EHOSTUNREACH. The caller
 * closes it. A live migration has its own two, opened side by side:
 * libvirt 9.0's client crashed (SIGSEGV) with several virDomainMigrate3
 * calls at once over one pair of connections. */
struct own_open;
struct own_open *lv_conn_own_begin(struct libvirt_drv *d);
virConnectPtr lv_conn_own_wait(struct libvirt_drv *d, struct own_open *o,
			       char *err);
enum virt_power lv_power_of(int state);
/* A driver for the cloud of c, its connection opened in the background;
 * freed by lv_free. */
struct libvirt_drv *lv_new(const struct virtdrv_conf *c, char *err);
void lv_free(struct virtdrv *vd);
void lv_warm(struct virtdrv *vd);
int lv_status(struct virtdrv *vd, struct strbuf *why);
/* The transient pools over the image and disk folders, on a connection. */
void lv_pool_name(const char *kind, const char *dir, char *buf,
		  size_t len);
int lv_pool_ensure(virConnectPtr conn, const char *name, const char *dir,
		   char *err);
void lv_pool_drop(virConnectPtr c, const char *name);

/* domain.c */
virDomainPtr lv_domain(virConnectPtr c, const char *uuid, char *err);
/* The domain of uuid on the driver's connection, both let go by
 * lv_dom_put: 0, -EINVAL (not a uuid), -EHOSTUNREACH, -ENOENT (no such
 * domain), or libvirt's error as lv_fail maps it. */
int lv_dom_get(struct libvirt_drv *d, const char *uuid, virConnectPtr *c,
	       virDomainPtr *dom, char *err);
void lv_dom_put(virDomainPtr dom, virConnectPtr c);
int lv_domain_check(const struct virt_domain *v, char *err);
void lv_domain_xml(const struct libvirt_drv *d, const struct virt_domain *v,
		   struct strbuf *x);
int lv_reach(struct libvirt_drv *d, virConnectPtr c, char *err);
int lv_define(struct virtdrv *vd, const struct virt_domain *v,
	      struct strbuf *xml, char *err);
int lv_undefine(struct virtdrv *vd, const char *uuid, char *err);
int lv_start(struct virtdrv *vd, const char *uuid, char *err);
int lv_stop(struct virtdrv *vd, const char *uuid, int grace_ms,
	    char *err);
int lv_power(struct virtdrv *vd, const char *uuid,
	     enum virt_power *out, char *err);
int lv_settle(struct virtdrv *vd, const char *uuid, int timeout_ms,
	      struct virt_settled *out, char *err);
int lv_list(struct virtdrv *vd,
	    void (*fn)(void *ctx, const struct virt_seen *seen),
	    void *ctx, char *err);

/* storage.c */
int lv_image_check(struct virtdrv *vd, const char *image, char *err);
int lv_disk_create(struct virtdrv *vd, const char *uuid,
		   const char *image, uint64_t mib, char *err);
int lv_disk_resize(struct virtdrv *vd, const char *uuid,
		   uint64_t mib, char *err);
int lv_disk_delete(struct virtdrv *vd, const char *uuid, char *err);
int lv_disk_exists(struct virtdrv *vd, const char *uuid, char *err);
int lv_disk_info(struct virtdrv *vd, const char *uuid,
		 uint64_t *capacity, uint64_t *allocation, char *err);
int lv_disk_room(struct virtdrv *vd, uint64_t *avail, char *err);
int lv_disk_prepare(struct virtdrv *vd, const char *uuid,
		    uint64_t capacity, char *err);
/* The disk <dest>.qcow2, a copy of <uuid>.qcow2 (not in use). */
int lv_disk_clone(struct libvirt_drv *d, const char *uuid, const char *dest,
		  char *err);
/* backup.c */
int lv_disk_backup(struct virtdrv *vd, const struct virt_backup *b,
		   char *err);

/* replica.c */
int lv_repl_begin(struct virtdrv *vd, const struct virt_cycle *cy,
		  char *err);
int lv_repl_end(struct virtdrv *vd, const char *uuid, char *err);
int lv_ckpt_drop(struct virtdrv *vd, const char *uuid, const char *name,
		 char *err);
int lv_ckpt_size(struct virtdrv *vd, const char *uuid, const char *name,
		 uint64_t *bytes, char *err);
int lv_suspend(struct virtdrv *vd, const char *uuid, char *err);

/* migrate.c */
int lv_migrate(struct virtdrv *vd, struct virtdrv *vdst,
	       const struct virt_migration *mg,
	       struct virt_migrated *out, char *err);

#endif
