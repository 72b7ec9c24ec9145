/* Fake clouds for unit tests of core/ only (they never stand in for an
 * integration test): both drivers of a cloud (host.h, virt.h) with every
 * operation, over state kept in memory per cloud, in one world that a test
 * can copy whole (a snapshot: what a crash leaves).
 *
 * Faults, as SQLite tests its I/O: every call of either driver is counted
 * (ncalls) and can fail: fail[op] fails the next call of that operation,
 * fault_at fails the call with that number, whatever it is; on_call sees
 * each call first (a test takes its snapshot there). */
#ifndef MAAS_FAKENET_H
#define MAAS_FAKENET_H

#include <stdbool.h>
#include <stdint.h>

#include "../../core/dhcp.h"
#include "../../core/mig.h"
#include "../../core/model.h"
#include "../../core/open.h"
#include "../../core/reconcile.h"
#include "../../core/submig.h"
#include "../../core/subnet.h"
#include "../../core/tenant.h"
#include "../../core/vm.h"

/* The operations fail[] can single out (every other call only counts). */
enum fake_op {
	FAKE_TENANT_ENSURE,
	FAKE_TENANT_REMOVE,
	FAKE_SUBNET_ENSURE,
	FAKE_SUBNET_REMOVE,
	FAKE_DHCP_ENSURE,
	FAKE_DHCP_REMOVE,
	FAKE_DEFINE,
	FAKE_UNDEFINE,
	FAKE_START,
	FAKE_STOP,
	FAKE_DISK_CREATE,
	FAKE_DISK_RESIZE,
	FAKE_DISK_DELETE,
	FAKE_OTHER,          /* any other operation: counted, not singled */
	FAKE_OPS
};

#define FAKE_CLOUDS 4
#define FAKE_DOMS 16
#define FAKE_VNIS 64

struct fake_dom {
	char uuid[VIRT_UUID_LEN + 1];
	bool defined, running;
	bool disk;                 /* <uuid>.qcow2 */
	bool part;                 /* .<uuid>.qcow2.part: a copy under way */
	bool console;              /* <uuid>.console */
	uint64_t disk_mib;
	unsigned vcpus;
};

struct fake_cloud {
	char name[NAME_MAXLEN + 1];
	bool down;                 /* every call: EHOSTUNREACH */
	uint64_t room;             /* disk_room's bytes (0: 1 TiB) */
	char tenants[64][40];
	bool subnet[FAKE_VNIS];
	bool gateway[FAKE_VNIS];    /* the subnet's home part: its gateway */
	bool dhcp[FAKE_VNIS];
	struct fake_dom doms[FAKE_DOMS];
};

struct fake_world {
	/* the whole world, over every cloud */
	int tenants;            /* namespaces that exist */
	int uplinks;            /* tenants' uplinks that exist */
	int subnets;            /* bridges that exist */
	int dhcp;               /* dnsmasq processes that run */
	uint32_t dhcp_first[FAKE_VNIS];  /* per VNI: the pool it runs with */
	char hosts[FAKE_VNIS][256];  /* per VNI: "mac ip name;" reservations */
	int domains;            /* defined */
	int running;
	int disks;
	uint64_t disk_mib[FAKE_DOMS];   /* by domain slot (one cloud) */
	unsigned vcpus[FAKE_DOMS];
	int swept;
	/* the clouds, by name, as their drivers are made */
	struct fake_cloud clouds[FAKE_CLOUDS];
	int nclouds;
	/* faults */
	int calls[FAKE_OPS];
	int fail[FAKE_OPS];     /* errno to fail the next call with, or 0 */
	long ncalls;            /* every call of either driver, from 1 */
	long fault_at;          /* 0, or the number of the call to fail */
	int fault_errno;        /* its errno (EIO if 0) */
	void (*on_call)(struct fake_world *w, const char *cloud,
			const char *op);
	void *ctx;              /* the test's, for on_call */
};

/* A factory for model_opts.virtdrv_new; ctx is the same fake world.
 * It knows two images, "tiny" and "other", on every cloud. */
struct virtdrv *fake_virtdrv_new(const struct cloud *c,
				 const struct virtdrv_conf *conf, void *ctx,
				 char *err);

/* A factory for model_opts.hostdrv_new; ctx is a struct fake_world. */
struct hostdrv *fake_hostdrv_new(const struct cloud *c, const char *marker,
				 const char *rundir, void *ctx, char *err);

/* A cloud of the world by name (made if new); NULL if the world is full. */
struct fake_cloud *fake_cloud(struct fake_world *w, const char *name);
/* Its domain of uuid, or NULL. */
struct fake_dom *fake_dom(struct fake_cloud *c, const char *uuid);

/* A model over a fresh temporary state directory and a fake world; with
 * clouds (a clouds file's text, or NULL: one local cloud). */
struct model *fake_model(struct fake_world *w, uint32_t vni_min,
			 uint32_t vni_max, char statedir[64]);
struct model *fake_model_clouds(struct fake_world *w, const char *clouds,
				char statedir[64]);
/* A model opened again over statedir (as a new mount would). */
struct model *fake_model_reopen(struct fake_world *w, const char *statedir);
void fake_model_free(struct model *m, const char *statedir);

/* The bytes of STATE/state.yaml. */
char *fake_state_file(const char *statedir);

#endif
