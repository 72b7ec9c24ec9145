/* Opening and closing the model (the front door of core/): the clouds
 * file, the state directory and its lock, the drivers, the state writer
 * and the janitor; reconcile.h makes the clouds match the state */
#ifndef MAAS_OPEN_H
#define MAAS_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cloud;
struct hostdrv;
struct model;
struct virtdrv;
struct virtdrv_conf;

/* Make the drivers of a cloud; tests pass fake ones. */
typedef struct hostdrv *(*hostdrv_factory)(const struct cloud *c,
					 const char *marker,
					 const char *rundir, void *ctx,
					 char *err);
typedef struct virtdrv *(*virtdrv_factory)(const struct cloud *c,
					   const struct virtdrv_conf *conf,
					   void *ctx, char *err);

#define MOVE_PARALLEL_DEFAULT 4   /* a subnet's VMs migrated at once */
#define MOVE_PARALLEL_MAX 16

struct model_opts {
	const char *statedir;       /* default /var/lib/maasfs */
	const char *config;         /* clouds file; NULL: one local cloud */
	uint32_t vni_min, vni_max;  /* 0: 1..VNI_MAX */
	const char *dnsmasq;        /* default /usr/sbin/dnsmasq */
	uint64_t bandwidth_mib;     /* migrations' cap in MiB/s, 0: none */
	unsigned parallel;          /* a subnet's VMs moved at once, 0: the
				     * default (MOVE_PARALLEL_DEFAULT) */
	hostdrv_factory hostdrv_new;  /* NULL: the real drivers */
	void *hostdrv_ctx;
	virtdrv_factory virtdrv_new;
	void *virtdrv_ctx;
};

/* "libnl 3.7.0, libvirt 9.0.0, libyaml 0.2.5, libssh 0.10.6" */
void model_versions(char *buf, size_t len);

int model_open(const struct model_opts *o, struct model **out, char *err);
void model_free(struct model *m);
/* What fs/ needs of an open model: where its state is, its instance id,
 * and the question long operations ask (did the caller give up?). */
const char *model_statedir(const struct model *m);
const char *model_instance(const struct model *m);
void model_set_interrupt(struct model *m, bool (*interrupted)(void));
/* fn hears of the values of a tenant (NULL: the root's) that change by
 * the model's own work: a migration's progress, a VM that stops by
 * itself, the steps of a long operation. */
void model_watch(struct model *m, void (*fn)(void *ctx, const char *tenant),
		 void *ctx);

#endif
