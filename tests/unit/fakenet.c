#include "fakenet.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/util.h"

/* Objects are kept as tiny sets keyed by name or VNI. */
struct fake_drv {
	struct hostdrv base;
	struct fake_world *w;
	char tenants[64][40];
	bool subnet[64];
	bool dhcp[64];
};

static struct fake_drv *fake_of(struct hostdrv *d)
{
	return (struct fake_drv *)d;
}

static int fake_call(struct fake_drv *f, enum fake_op op, char *err)
{
	int code = f->w->fail[op];

	f->w->calls[op]++;
	if (!code)
		return 0;
	f->w->fail[op] = 0;
	return err_set(err, code, "injected failure");
}

static int find_tenant(struct fake_drv *f, const char *name)
{
	int i;

	for (i = 0; i < 64; i++)
		if (!strcmp(f->tenants[i], name))
			return i;
	return -1;
}

static int fake_tenant_ensure(struct hostdrv *d, const char *tenant,
			      char *err)
{
	struct fake_drv *f = fake_of(d);
	int r = fake_call(f, FAKE_TENANT_ENSURE, err), i;

	if (r || find_tenant(f, tenant) >= 0)
		return r;
	i = find_tenant(f, "");
	snprintf(f->tenants[i], sizeof f->tenants[i], "%s", tenant);
	f->w->tenants++;
	return 0;
}

static int fake_tenant_remove(struct hostdrv *d, const char *tenant,
			      char *err)
{
	struct fake_drv *f = fake_of(d);
	int r = fake_call(f, FAKE_TENANT_REMOVE, err), i;

	if (r)
		return r;
	i = find_tenant(f, tenant);
	if (i >= 0) {
		f->tenants[i][0] = '\0';
		f->w->tenants--;
	}
	return 0;
}

static int fake_subnet_ensure(struct hostdrv *d, const struct net_subnet *s,
			      char *err)
{
	struct fake_drv *f = fake_of(d);
	int r = fake_call(f, FAKE_SUBNET_ENSURE, err);

	if (r)
		return r;
	if (find_tenant(f, s->tenant) < 0)
		return err_set(err, ENOENT, "no namespace");
	if (s->vni >= 64)
		return err_set(err, ERANGE, "fake VNIs stop at 63");
	if (!f->subnet[s->vni]) {
		f->subnet[s->vni] = true;
		f->w->subnets++;
	}
	return 0;
}

static int fake_subnet_remove(struct hostdrv *d, const char *tenant,
			      uint32_t vni, char *err)
{
	struct fake_drv *f = fake_of(d);
	int r = fake_call(f, FAKE_SUBNET_REMOVE, err);

	(void)tenant;
	if (r)
		return r;
	if (vni < 64 && f->subnet[vni]) {
		f->subnet[vni] = false;
		f->w->subnets--;
	}
	return 0;
}

static int fake_dhcp_ensure(struct hostdrv *d, const struct net_dhcp *c,
			    int *pid, char *err)
{
	struct fake_drv *f = fake_of(d);
	int r = fake_call(f, FAKE_DHCP_ENSURE, err);

	if (r)
		return r;
	if (c->vni >= 64 || !f->subnet[c->vni])
		return err_set(err, ENOENT, "no subnet for dnsmasq");
	if (!f->dhcp[c->vni]) {
		f->dhcp[c->vni] = true;
		f->w->dhcp++;
	}
	f->w->dhcp_first[c->vni] = c->first;
	f->w->hosts[c->vni][0] = '\0';
	for (size_t i = 0; i < c->nhosts; i++) {
		char *h = f->w->hosts[c->vni];
		snprintf(h + strlen(h), sizeof f->w->hosts[0] - strlen(h),
			 "%s %u.%u.%u.%u %s;", c->hosts[i].mac,
			 c->hosts[i].ip >> 24, (c->hosts[i].ip >> 16) & 255,
			 (c->hosts[i].ip >> 8) & 255, c->hosts[i].ip & 255,
			 c->hosts[i].name);
	}
	*pid = 1000 + (int)c->vni;
	return 0;
}

static int fake_dhcp_remove(struct hostdrv *d, uint32_t vni, bool purge,
			    char *err)
{
	struct fake_drv *f = fake_of(d);
	int r = fake_call(f, FAKE_DHCP_REMOVE, err);

	(void)purge;
	if (r)
		return r;
	if (vni < 64 && f->dhcp[vni]) {
		f->dhcp[vni] = false;
		f->w->dhcp--;
		f->w->dhcp_first[vni] = 0;
	}
	return 0;
}

static int fake_dhcp_pid(struct hostdrv *d, uint32_t vni)
{
	return vni < 64 && fake_of(d)->dhcp[vni] ? 1000 + (int)vni : 0;
}

static int fake_dhcp_leases(struct hostdrv *d, uint32_t vni,
			    struct strbuf *out)
{
	(void)d;
	return sb_printf(out, "lease of %u\n", vni);
}

static int fake_sweep(struct hostdrv *d, const struct net_keep *keep,
		      char *err)
{
	(void)keep;
	(void)err;
	fake_of(d)->w->swept++;
	return 0;
}

static int fake_status(struct hostdrv *d, struct strbuf *out)
{
	(void)d;
	return sb_puts(out, "up");
}

static int fake_console(struct hostdrv *d, const char *uuid,
			struct strbuf *out)
{
	(void)d;
	return sb_printf(out, "console of %s\n", uuid);
}

static void fake_free(struct hostdrv *d)
{
	free(fake_of(d));
}

static const struct hostdrv_ops fake_ops = {
	.tenant_ensure = fake_tenant_ensure,
	.tenant_remove = fake_tenant_remove,
	.subnet_ensure = fake_subnet_ensure,
	.subnet_remove = fake_subnet_remove,
	.dhcp_ensure = fake_dhcp_ensure,
	.dhcp_remove = fake_dhcp_remove,
	.dhcp_pid = fake_dhcp_pid,
	.dhcp_leases = fake_dhcp_leases,
	.sweep = fake_sweep,
	.status = fake_status,
	.console = fake_console,
	.free = fake_free,
};

struct hostdrv *fake_hostdrv_new(const struct cloud *c, const char *marker,
			       const char *rundir, void *ctx, char *err)
{
	struct fake_drv *f = calloc(1, sizeof *f);

	(void)c;
	(void)marker;
	(void)rundir;
	if (!f) {
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	f->base.ops = &fake_ops;
	f->w = ctx;
	return &f->base;
}

/* ---- the fake hypervisor ---- */

struct fake_dom {
	char uuid[VIRT_UUID_LEN + 1];
	bool defined, running, disk;
};

struct fake_virt {
	struct virtdrv base;
	struct fake_world *w;
	struct fake_dom doms[16];
	virt_power_fn on_power;
	void *ctx;
};

static struct fake_virt *fv_of(struct virtdrv *d)
{
	return (struct fake_virt *)d;
}

static int fv_call(struct fake_virt *f, enum fake_op op, char *err)
{
	int code = f->w->fail[op];

	f->w->calls[op]++;
	if (!code)
		return 0;
	f->w->fail[op] = 0;
	return err_set(err, code, "injected failure");
}

static struct fake_dom *fv_dom(struct fake_virt *f, const char *uuid,
			       bool make)
{
	int i;

	for (i = 0; i < 16; i++)
		if (!strcmp(f->doms[i].uuid, uuid))
			return &f->doms[i];
	if (!make)
		return NULL;
	for (i = 0; i < 16; i++)
		if (!f->doms[i].uuid[0]) {
			snprintf(f->doms[i].uuid, sizeof f->doms[i].uuid, "%s",
				 uuid);
			return &f->doms[i];
		}
	return NULL;
}

static int fv_define(struct virtdrv *d, const struct virt_domain *v,
		     struct strbuf *xml, char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_DEFINE, err);

	if (r)
		return r;
	if (strcmp(v->image, "tiny") && strcmp(v->image, "other"))
		return err_set(err, ENOENT, "no image");
	dom = fv_dom(f, v->uuid, true);
	if (!dom->defined) {
		dom->defined = true;
		f->w->domains++;
	}
	f->w->vcpus[dom - f->doms] = v->vcpus;
	if (xml) {
		sb_reset(xml);
		sb_printf(xml, "<domain><name>maas:%s:%s</name><vcpu>%u</vcpu>"
			  "<bridge>%s</bridge></domain>\n", v->tenant, v->vm,
			  v->vcpus, v->bridge ? v->bridge : "");
	}
	return 0;
}

static int fv_undefine(struct virtdrv *d, const char *uuid, char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_UNDEFINE, err);

	if (r)
		return r;
	dom = fv_dom(f, uuid, false);
	if (!dom || !dom->defined)
		return 0;
	if (dom->running)
		return err_set(err, EBUSY, "running");
	dom->defined = false;
	f->w->domains--;
	return 0;
}

static int fv_start(struct virtdrv *d, const char *uuid, char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_START, err);

	if (r)
		return r;
	dom = fv_dom(f, uuid, false);
	if (!dom || !dom->defined)
		return err_set(err, ENOENT, "no domain");
	if (!dom->disk)
		return err_set(err, EIO, "no disk");
	if (!dom->running) {
		dom->running = true;
		f->w->running++;
	}
	return 0;
}

static int fv_stop(struct virtdrv *d, const char *uuid, int grace_ms,
		   char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_STOP, err);

	(void)grace_ms;
	if (r)
		return r;
	dom = fv_dom(f, uuid, false);
	if (dom && dom->running) {
		dom->running = false;
		f->w->running--;
	}
	return 0;
}

static int fv_power(struct virtdrv *d, const char *uuid,
		    enum virt_power *out, char *err)
{
	struct fake_dom *dom = fv_dom(fv_of(d), uuid, false);

	if (!dom || !dom->defined)
		return err_set(err, ENOENT, "no domain");
	*out = dom->running ? VIRT_POWER_RUNNING : VIRT_POWER_STOPPED;
	return 0;
}

static int fv_image_check(struct virtdrv *d, const char *image, char *err)
{
	(void)d;
	if (strcmp(image, "tiny") && strcmp(image, "other"))
		return err_set(err, ENOENT, "no image %s", image);
	return 0;
}

static int fv_disk_create(struct virtdrv *d, const char *uuid,
			  const char *image, uint64_t mib, char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_DISK_CREATE, err);

	if (r)
		return r;
	if (fv_image_check(d, image, err))
		return -ENOENT;
	dom = fv_dom(f, uuid, true);
	if (!dom->disk) {
		dom->disk = true;
		f->w->disks++;
	}
	f->w->disk_mib[dom - f->doms] = mib;
	return 0;
}

static int fv_disk_resize(struct virtdrv *d, const char *uuid, uint64_t mib,
			  char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_DISK_RESIZE, err);

	if (r)
		return r;
	dom = fv_dom(f, uuid, false);
	if (dom && dom->disk)
		f->w->disk_mib[dom - f->doms] = mib;
	return 0;
}

static int fv_disk_delete(struct virtdrv *d, const char *uuid, char *err)
{
	struct fake_virt *f = fv_of(d);
	struct fake_dom *dom;
	int r = fv_call(f, FAKE_DISK_DELETE, err);

	if (r)
		return r;
	dom = fv_dom(f, uuid, false);
	if (dom && dom->disk) {
		dom->disk = false;
		f->w->disks--;
	}
	return 0;
}

static int fv_disk_exists(struct virtdrv *d, const char *uuid, char *err)
{
	struct fake_dom *dom = fv_dom(fv_of(d), uuid, false);

	(void)err;
	return dom && dom->disk;
}

static int fv_list(struct virtdrv *d,
		   void (*fn)(void *ctx, const struct virt_seen *seen),
		   void *ctx, char *err)
{
	struct fake_virt *f = fv_of(d);
	int i;

	(void)err;
	for (i = 0; i < 16; i++) {
		struct virt_seen s = {
			.uuid = f->doms[i].uuid,
			.name = "fake",
			.power = f->doms[i].running ? VIRT_POWER_RUNNING
						    : VIRT_POWER_STOPPED,
			.ours = true,
		};
		if (f->doms[i].defined)
			fn(ctx, &s);
	}
	return 0;
}

static void fv_free(struct virtdrv *d)
{
	free(fv_of(d));
}

static const struct virtdrv_ops fake_virt_ops = {
	.define = fv_define,
	.undefine = fv_undefine,
	.start = fv_start,
	.stop = fv_stop,
	.power = fv_power,
	.image_check = fv_image_check,
	.disk_create = fv_disk_create,
	.disk_resize = fv_disk_resize,
	.disk_delete = fv_disk_delete,
	.disk_exists = fv_disk_exists,
	.list = fv_list,
	.free = fv_free,
};

struct virtdrv *fake_virtdrv_new(const struct cloud *c,
				 const struct virtdrv_conf *conf, void *ctx,
				 char *err)
{
	struct fake_virt *f = calloc(1, sizeof *f);

	(void)c;
	if (!f) {
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	f->base.ops = &fake_virt_ops;
	f->w = ctx;
	f->on_power = conf->on_power;
	f->ctx = conf->ctx;
	return &f->base;
}

struct model *fake_model(struct fake_world *w, uint32_t vni_min,
			 uint32_t vni_max, char statedir[64])
{
	struct model_opts o = {
		.vni_min = vni_min,
		.vni_max = vni_max,
		.hostdrv_new = fake_hostdrv_new,
		.hostdrv_ctx = w,
		.virtdrv_new = fake_virtdrv_new,
		.virtdrv_ctx = w,
	};
	struct model *m = NULL;
	char err[ERRLEN];

	snprintf(statedir, 64, "/tmp/maasfs-unit.XXXXXX");
	if (!mkdtemp(statedir))
		return NULL;
	o.statedir = statedir;
	if (model_open(&o, &m, err)) {
		fprintf(stderr, "model_open: %s\n", err);
		return NULL;
	}
	return m;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_model_free(struct model *m, const char *statedir)
{
	model_free(m);
	nftw(statedir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *fake_state_file(const char *statedir)
{
	struct strbuf sb = STRBUF_INIT;
	char path[128];

	snprintf(path, sizeof path, "%s/state.yaml", statedir);
	if (file_read(path, &sb, 1 << 20)) {
		sb_free(&sb);
		return NULL;
	}
	if (!sb.s)
		return calloc(1, 1);
	return sb.s;
}
