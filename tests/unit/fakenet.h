/* A network driver that keeps its "kernel" in memory, for unit tests of
 * core/ only: it never stands in for an integration test. Failures can be
 * injected per operation. */
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
	FAKE_OPS
};

struct fake_world {
	int tenants;            /* namespaces that exist */
	int subnets;            /* bridges that exist */
	int dhcp;               /* dnsmasq processes that run */
	uint32_t dhcp_first[64];   /* per VNI (< 64): the pool it runs with */
	int calls[FAKE_OPS];
	int fail[FAKE_OPS];     /* errno to fail the next call with, or 0 */
	int swept;
	char hosts[64][256];    /* per VNI: "mac ip name;" of its reservations */
	int domains;            /* defined */
	int running;
	int disks;
	uint64_t disk_mib[16];  /* by domain slot */
	unsigned vcpus[16];
};

/* A factory for model_opts.virtdrv_new; ctx is the same fake world.
 * It knows one image, "tiny". */
struct virtdrv *fake_virtdrv_new(const struct cloud *c,
				 const struct virtdrv_conf *conf, void *ctx,
				 char *err);

/* A factory for model_opts.hostdrv_new; ctx is a struct fake_world. */
struct hostdrv *fake_hostdrv_new(const struct cloud *c, const char *marker,
			       const char *rundir, void *ctx, char *err);

/* A model over a fresh temporary state directory and a fake world. */
struct model *fake_model(struct fake_world *w, uint32_t vni_min,
			 uint32_t vni_max, char statedir[64]);
void fake_model_free(struct model *m, const char *statedir);

/* The bytes of STATE/state.yaml. */
char *fake_state_file(const char *statedir);

#endif
