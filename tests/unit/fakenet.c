#include "fakenet.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/util.h"

/* Migrations (a subnet's, an evacuation's) call the drivers from several
 * threads at once: every call of a fake driver holds one lock (recursive:
 * a call may make another). The listing does not: its callback comes
 * back into the model. */
static pthread_mutex_t serial = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static __thread int serial_depth;   /* this thread's holds */

static pthread_mutex_t *serial_take(void)
{
	pthread_mutex_lock(&serial);
	serial_depth++;
	return &serial;
}

static void serial_drop(pthread_mutex_t **held)
{
	serial_depth--;
	pthread_mutex_unlock(*held);
}

/* A test's on_call may hold a call for as long as it likes (to show that
 * others go on meanwhile): it runs without the lock. */
static void call_unlocked(struct fake_world *w, const char *cloud,
			  const char *name)
{
	int i, depth = serial_depth;

	for (i = 0; i < depth; i++)
		pthread_mutex_unlock(&serial);
	w->on_call(w, cloud, name);
	for (i = 0; i < depth; i++)
		pthread_mutex_lock(&serial);
}

#define SERIAL \
	pthread_mutex_t *serial_held __attribute__((cleanup(serial_drop))) = \
		serial_take()

/* ---- the world and its gate ---- */

struct fake_cloud *fake_cloud(struct fake_world *w, const char *name)
{
	int i;

	for (i = 0; i < w->nclouds; i++)
		if (!strcmp(w->clouds[i].name, name))
			return &w->clouds[i];
	if (w->nclouds == FAKE_CLOUDS)
		return NULL;
	snprintf(w->clouds[w->nclouds].name, sizeof w->clouds[0].name, "%s",
		 name);
	return &w->clouds[w->nclouds++];
}

struct fake_dom *fake_dom(struct fake_cloud *c, const char *uuid)
{
	int i;

	for (i = 0; i < FAKE_DOMS; i++)
		if (!strcmp(c->doms[i].uuid, uuid))
			return &c->doms[i];
	return NULL;
}

/* The domain of uuid, made (empty) if new. */
static struct fake_dom *dom_make(struct fake_cloud *c, const char *uuid)
{
	struct fake_dom *d = fake_dom(c, uuid);
	int i;

	for (i = 0; !d && i < FAKE_DOMS; i++)
		if (!c->doms[i].uuid[0]) {
			d = &c->doms[i];
			snprintf(d->uuid, sizeof d->uuid, "%s", uuid);
		}
	return d;
}

/* Every call of either driver passes here first: counted, shown to
 * on_call, failed if its cloud is down or a fault is set for it. */
static int gate(struct fake_world *w, const char *cloud, enum fake_op op,
		const char *name, char *err)
{
	struct fake_cloud *c = fake_cloud(w, cloud);
	int code;

	w->ncalls++;
	if (getenv("FAKE_TRACE"))   /* FAKE_TRACE=1: every call, numbered */
		fprintf(stderr, "call %ld: %s on %s\n", w->ncalls, name,
			cloud);
	w->calls[op]++;
	if (w->on_call)
		call_unlocked(w, cloud, name);
	if (c && c->down)
		return err_set(err, EHOSTUNREACH, "cloud %s is down (fake)",
			       cloud);
	if (w->fault_at && w->ncalls == w->fault_at)
		return err_set(err, w->fault_errno ? w->fault_errno : EIO,
			       "injected failure at call %ld (%s on %s)",
			       w->ncalls, name, cloud);
	code = op == FAKE_OTHER ? 0 : w->fail[op];
	if (!code)
		return 0;
	w->fail[op] = 0;
	return err_set(err, code, "injected failure");
}

/* ---- the host driver ---- */

struct fake_drv {
	struct hostdrv base;
	struct fake_world *w;
	char cloud[NAME_MAXLEN + 1];
};

static struct fake_drv *fake_of(struct hostdrv *d)
{
	return (struct fake_drv *)d;
}

static struct fake_cloud *host_cloud(struct hostdrv *d)
{
	return fake_cloud(fake_of(d)->w, fake_of(d)->cloud);
}

static int host_gate(struct hostdrv *d, enum fake_op op, const char *name,
		     char *err)
{
	return gate(fake_of(d)->w, fake_of(d)->cloud, op, name, err);
}

static int find_tenant(struct fake_cloud *c, const char *name)
{
	int i;

	for (i = 0; i < 64; i++)
		if (!strcmp(c->tenants[i], name))
			return i;
	return -1;
}

static int fake_tenant_ensure(struct hostdrv *d, const char *tenant,
			      char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	int r = host_gate(d, FAKE_TENANT_ENSURE, "tenant_ensure", err), i;

	if (r || find_tenant(c, tenant) >= 0)
		return r;
	i = find_tenant(c, "");
	snprintf(c->tenants[i], sizeof c->tenants[i], "%s", tenant);
	fake_of(d)->w->tenants++;
	return 0;
}

/* Uplinks (issue 18): accepted, counted. */
static int fake_uplink_ensure(struct hostdrv *d, const struct net_uplink *u,
			      char *err)
{
	SERIAL;
	(void)u;
	(void)err;
	fake_of(d)->w->uplinks++;
	return 0;
}

static int fake_uplink_remove(struct hostdrv *d, const char *tenant,
			      unsigned id, char *err)
{
	SERIAL;
	(void)tenant;
	(void)id;
	(void)err;
	fake_of(d)->w->uplinks--;
	return 0;
}

/* Ports (issue 18): accepted. */
static int fake_ports_apply(struct hostdrv *d, const struct net_ports *ps,
			    char *err)
{
	SERIAL;
	(void)d;
	(void)ps;
	(void)err;
	return 0;
}

static int fake_tenant_remove(struct hostdrv *d, const char *tenant,
			      char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	int r = host_gate(d, FAKE_TENANT_REMOVE, "tenant_remove", err), i;

	if (r)
		return r;
	i = find_tenant(c, tenant);
	if (i >= 0) {
		c->tenants[i][0] = '\0';
		fake_of(d)->w->tenants--;
	}
	return 0;
}

static int fake_subnet_ensure(struct hostdrv *d, const struct net_subnet *s,
			      char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	int r = host_gate(d, FAKE_SUBNET_ENSURE, "subnet_ensure", err);

	if (r)
		return r;
	if (s->home && find_tenant(c, s->tenant) < 0)
		return err_set(err, ENOENT, "no namespace");
	if (s->vni >= FAKE_VNIS)
		return err_set(err, ERANGE, "fake VNIs stop at 63");
	if (!c->subnet[s->vni]) {
		c->subnet[s->vni] = true;
		fake_of(d)->w->subnets++;
	}
	c->gateway[s->vni] = s->home;
	return 0;
}

static int fake_subnet_remove(struct hostdrv *d, const char *tenant,
			      uint32_t vni, char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	int r = host_gate(d, FAKE_SUBNET_REMOVE, "subnet_remove", err);

	(void)tenant;
	if (r)
		return r;
	if (vni < FAKE_VNIS && c->subnet[vni]) {
		c->subnet[vni] = false;
		c->gateway[vni] = false;
		fake_of(d)->w->subnets--;
	}
	return 0;
}

static void note_hosts(struct fake_world *w, const struct net_dhcp *c)
{
	char *h = w->hosts[c->vni];
	size_t i;

	h[0] = '\0';
	for (i = 0; i < c->nhosts; i++)
		snprintf(h + strlen(h), sizeof w->hosts[0] - strlen(h),
			 "%s %u.%u.%u.%u %s;", c->hosts[i].mac,
			 c->hosts[i].ip >> 24, (c->hosts[i].ip >> 16) & 255,
			 (c->hosts[i].ip >> 8) & 255, c->hosts[i].ip & 255,
			 c->hosts[i].name);
}

static int fake_dhcp_ensure(struct hostdrv *d, const struct net_dhcp *c,
			    int *pid, char *err)
{
	SERIAL;
	struct fake_cloud *fc = host_cloud(d);
	struct fake_world *w = fake_of(d)->w;
	int r = host_gate(d, FAKE_DHCP_ENSURE, "dhcp_ensure", err);

	if (r)
		return r;
	if (c->vni >= FAKE_VNIS || !fc->subnet[c->vni])
		return err_set(err, ENOENT, "no subnet for dnsmasq");
	if (!fc->dhcp[c->vni]) {
		fc->dhcp[c->vni] = true;
		w->dhcp++;
	}
	w->dhcp_first[c->vni] = c->first;
	note_hosts(w, c);
	*pid = 1000 + (int)c->vni;
	return 0;
}

static int fake_dhcp_remove(struct hostdrv *d, uint32_t vni, bool purge,
			    char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	int r = host_gate(d, FAKE_DHCP_REMOVE, "dhcp_remove", err);

	(void)purge;
	if (r)
		return r;
	if (vni < FAKE_VNIS && c->dhcp[vni]) {
		c->dhcp[vni] = false;
		fake_of(d)->w->dhcp--;
		fake_of(d)->w->dhcp_first[vni] = 0;
	}
	return 0;
}

/* Reads that never block or fail: not gated. */
static int fake_dhcp_pid(struct hostdrv *d, uint32_t vni)
{
	SERIAL;
	return vni < FAKE_VNIS && host_cloud(d)->dhcp[vni] ? 1000 + (int)vni
							  : 0;
}

static int fake_dhcp_leases(struct hostdrv *d, uint32_t vni,
			    struct strbuf *out)
{
	SERIAL;
	(void)d;
	return sb_printf(out, "lease of %u\n", vni);
}

static int fake_dhcp_fetch(struct hostdrv *d, uint32_t vni,
			   struct strbuf *out, char *err)
{
	SERIAL;
	int r = host_gate(d, FAKE_OTHER, "dhcp_fetch", err);

	return r ? r : fake_dhcp_leases(d, vni, out);
}

static const struct net_keep_subnet *kept(const struct net_keep *k,
					  uint32_t vni)
{
	size_t i;

	for (i = 0; i < k->nsubnets; i++)
		if (k->subnets[i].vni == vni)
			return &k->subnets[i];
	return NULL;
}

/* As the host driver's: what keep does not list goes, a gateway where
 * the subnet is no longer at home, a dnsmasq that should not run. */
static int fake_sweep(struct hostdrv *d, const struct net_keep *keep,
		      char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	struct fake_world *w = fake_of(d)->w;
	int r = host_gate(d, FAKE_OTHER, "sweep", err), n = 0;
	uint32_t vni;

	if (r)
		return r;
	w->swept++;
	for (vni = 0; vni < FAKE_VNIS; vni++) {
		const struct net_keep_subnet *k = kept(keep, vni);

		if (c->dhcp[vni] && (!k || !k->dhcp)) {
			c->dhcp[vni] = false;
			w->dhcp--;
			n++;
		}
		if (c->subnet[vni] && !k) {
			c->subnet[vni] = c->gateway[vni] = false;
			w->subnets--;
			n++;
		}
		if (k && c->gateway[vni] && !k->home)
			c->gateway[vni] = false;
	}
	return n;
}

static int fake_status(struct hostdrv *d, struct strbuf *out)
{
	SERIAL;
	if (host_cloud(d)->down)
		return sb_puts(out, "down: fake");
	return sb_puts(out, "up");
}

static int fake_trim(struct hostdrv *d, char *err)
{
	SERIAL;
	(void)d;
	(void)err;
	return 0;     /* a fake cloud writes no log */
}

static int fake_console(struct hostdrv *d, const char *uuid,
			struct strbuf *out)
{
	SERIAL;
	(void)d;
	return sb_printf(out, "console of %s\n", uuid);
}

/* ---- files: a VM's disk and console log, as copies see them ---- */

#define FAKE_FRAME (64u << 10)
#define FAKE_FILE_SIZE (3ull * FAKE_FRAME)

/* A name of the disks area: the domain's uuid and which file. */
static int disk_file(enum copy_area a, const char *name, char *uuid,
		     bool *console)
{
	const char *dot = strchr(name, '.');

	if (a != COPY_DISKS || !dot || dot - name != VIRT_UUID_LEN)
		return -ENOENT;
	memcpy(uuid, name, VIRT_UUID_LEN);
	uuid[VIRT_UUID_LEN] = '\0';
	*console = !strcmp(dot, ".console");
	return *console || !strcmp(dot, ".qcow2") ? 0 : -ENOENT;
}

struct fake_src {
	struct copy_src base;
	uint64_t off;
};

static ssize_t src_read(struct copy_src *s, uint64_t *off, void *buf,
			size_t cap, char *err)
{
	SERIAL;
	struct fake_src *f = (struct fake_src *)s;
	size_t n = cap < FAKE_FRAME ? cap : FAKE_FRAME;

	(void)err;
	if (f->off >= s->size) {
		s->ended = true;
		memset(s->sum, 0x5a, sizeof s->sum);
		return 0;
	}
	memset(buf, 0x5a, n);
	*off = f->off;
	f->off += n;
	return (ssize_t)n;
}

static void src_close(struct copy_src *s)
{
	SERIAL;
	free(s);
}

static const struct copy_src_ops fake_src_ops = { src_read, src_close };

static int fake_file_source(struct hostdrv *d, enum copy_area a,
			    const char *name, struct copy_src **out,
			    char *err)
{
	SERIAL;
	struct fake_src *f;
	struct fake_dom *dom;
	char uuid[VIRT_UUID_LEN + 1];
	bool console;
	int r = host_gate(d, FAKE_OTHER, "file_source", err);

	if (r)
		return r;
	if (disk_file(a, name, uuid, &console) ||
	    !(dom = fake_dom(host_cloud(d), uuid)) ||
	    !(console ? dom->console : dom->disk))
		return err_set(err, ENOENT, "no file %s", name);
	f = calloc(1, sizeof *f);
	if (!f)
		return err_set(err, ENOMEM, "out of memory");
	f->base.ops = &fake_src_ops;
	f->base.size = f->base.data = FAKE_FILE_SIZE;
	*out = &f->base;
	return 0;
}

struct fake_dst {
	struct copy_dst base;
	struct fake_world *w;
	char cloud[NAME_MAXLEN + 1];
	char uuid[VIRT_UUID_LEN + 1];
	bool console;
	uint64_t got;
};

static struct fake_dom *dst_dom(struct fake_dst *f)
{
	struct fake_cloud *c = fake_cloud(f->w, f->cloud);

	return c ? fake_dom(c, f->uuid) : NULL;
}

static int dst_write(struct copy_dst *d, uint64_t off, const void *buf,
		     size_t len, char *err)
{
	SERIAL;
	(void)off;
	(void)buf;
	(void)err;
	((struct fake_dst *)d)->got += len;
	return 0;
}

static int dst_finish(struct copy_dst *d, const unsigned char *sum,
		      char *err)
{
	SERIAL;
	struct fake_dst *f = (struct fake_dst *)d;
	struct fake_dom *dom;
	int r = gate(f->w, f->cloud, FAKE_OTHER, "file_finish", err);

	dom = dst_dom(f);
	if (r == 0 && (f->got != FAKE_FILE_SIZE || sum[0] != 0x5a))
		r = err_set(err, EIO, "checksum mismatch");
	if (dom && !f->console)
		dom->part = false;
	if (r == 0 && dom) {
		if (f->console) {
			dom->console = true;
		} else {
			f->w->disks += !dom->disk;
			dom->disk = true;
		}
	}
	free(f);
	return r;
}

static void dst_abort(struct copy_dst *d)
{
	SERIAL;
	struct fake_dst *f = (struct fake_dst *)d;
	struct fake_dom *dom = dst_dom(f);

	if (dom && !f->console)
		dom->part = false;
	free(f);
}

static const struct copy_dst_ops fake_dst_ops = {
	dst_write, dst_finish, dst_abort,
};

static int fake_file_sink(struct hostdrv *d, enum copy_area a,
			  const char *name, uint64_t size,
			  struct copy_dst **out, char *err)
{
	SERIAL;
	struct fake_dst *f;
	struct fake_dom *dom;
	char uuid[VIRT_UUID_LEN + 1];
	bool console;
	int r = host_gate(d, FAKE_OTHER, "file_sink", err);

	(void)size;
	if (r)
		return r;
	if (disk_file(a, name, uuid, &console) ||
	    !(dom = dom_make(host_cloud(d), uuid)))
		return err_set(err, EINVAL, "fake: no room for %s", name);
	f = calloc(1, sizeof *f);
	if (!f)
		return err_set(err, ENOMEM, "out of memory");
	f->base.ops = &fake_dst_ops;
	f->w = fake_of(d)->w;
	snprintf(f->cloud, sizeof f->cloud, "%s", fake_of(d)->cloud);
	snprintf(f->uuid, sizeof f->uuid, "%s", uuid);
	f->console = console;
	if (!console)
		dom->part = true;
	*out = &f->base;
	return 0;
}

static int fake_file_remove(struct hostdrv *d, enum copy_area a,
			    const char *name, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	char uuid[VIRT_UUID_LEN + 1];
	bool console;
	int r = host_gate(d, FAKE_OTHER, "file_remove", err);

	if (r)
		return r;
	if (disk_file(a, name, uuid, &console) ||
	    !(dom = fake_dom(host_cloud(d), uuid)))
		return 0;
	if (console) {
		dom->console = false;
		return 0;
	}
	fake_of(d)->w->disks -= dom->disk;
	dom->disk = dom->part = false;
	return 0;
}

static int fake_file_list(struct hostdrv *d, enum copy_area a,
			  struct strbuf *out, char *err)
{
	SERIAL;
	struct fake_cloud *c = host_cloud(d);
	int r = host_gate(d, FAKE_OTHER, "file_list", err), i;

	if (r || a != COPY_DISKS)
		return r;
	for (i = 0; i < FAKE_DOMS; i++) {
		const struct fake_dom *dom = &c->doms[i];

		if (dom->disk)
			sb_printf(out, "%s.qcow2\n", dom->uuid);
		if (dom->part)
			sb_printf(out, ".%s.qcow2.part\n", dom->uuid);
		if (dom->console)
			sb_printf(out, "%s.console\n", dom->uuid);
	}
	return 0;
}

static void fake_free(struct hostdrv *d)
{
	free(fake_of(d));
}

static const struct hostdrv_ops fake_ops = {
	.tenant_ensure = fake_tenant_ensure,
	.tenant_remove = fake_tenant_remove,
	.uplink_ensure = fake_uplink_ensure,
	.uplink_remove = fake_uplink_remove,
	.ports_apply = fake_ports_apply,
	.subnet_ensure = fake_subnet_ensure,
	.subnet_remove = fake_subnet_remove,
	.dhcp_ensure = fake_dhcp_ensure,
	.dhcp_remove = fake_dhcp_remove,
	.dhcp_pid = fake_dhcp_pid,
	.dhcp_leases = fake_dhcp_leases,
	.sweep = fake_sweep,
	.dhcp_fetch = fake_dhcp_fetch,
	.file_source = fake_file_source,
	.file_sink = fake_file_sink,
	.file_remove = fake_file_remove,
	.file_list = fake_file_list,
	.status = fake_status,
	.trim = fake_trim,
	.console = fake_console,
	.free = fake_free,
};

struct hostdrv *fake_hostdrv_new(const struct cloud *c, const char *marker,
				 const char *rundir, void *ctx, char *err)
{
	struct fake_drv *f = calloc(1, sizeof *f);

	(void)marker;
	(void)rundir;
	if (!f || !fake_cloud(ctx, c->name)) {
		free(f);
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	f->base.ops = &fake_ops;
	f->w = ctx;
	snprintf(f->cloud, sizeof f->cloud, "%s", c->name);
	return &f->base;
}

/* ---- the hypervisor ---- */

struct fake_virt {
	struct virtdrv base;
	struct fake_world *w;
	char cloud[NAME_MAXLEN + 1];
	virt_power_fn on_power;
	void *ctx;
};

static struct fake_virt *fv_of(struct virtdrv *d)
{
	return (struct fake_virt *)d;
}

static struct fake_cloud *fv_cloud(struct virtdrv *d)
{
	return fake_cloud(fv_of(d)->w, fv_of(d)->cloud);
}

static int fv_gate(struct virtdrv *d, enum fake_op op, const char *name,
		   char *err)
{
	return gate(fv_of(d)->w, fv_of(d)->cloud, op, name, err);
}

static bool image_known(const char *image)
{
	return !strcmp(image, "tiny") || !strcmp(image, "other");
}

static int fv_define(struct virtdrv *d, const struct virt_domain *v,
		     struct strbuf *xml, char *err)
{
	SERIAL;
	struct fake_cloud *c = fv_cloud(d);
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_DEFINE, "define", err);

	if (r)
		return r;
	if (!image_known(v->image))
		return err_set(err, ENOENT, "no image");
	dom = dom_make(c, v->uuid);
	if (!dom)
		return err_set(err, ENOSPC, "fake: no room");
	if (!dom->defined) {
		dom->defined = true;
		fv_of(d)->w->domains++;
	}
	dom->vcpus = v->vcpus;
	fv_of(d)->w->vcpus[dom - c->doms] = v->vcpus;
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
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_UNDEFINE, "undefine", err);

	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (!dom || !dom->defined)
		return 0;
	if (dom->running)
		return err_set(err, EBUSY, "running");
	dom->defined = false;
	fv_of(d)->w->domains--;
	return 0;
}

static int fv_start(struct virtdrv *d, const char *uuid, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_START, "start", err);

	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (!dom || !dom->defined)
		return err_set(err, ENOENT, "no domain");
	if (!dom->disk)
		return err_set(err, EIO, "no disk");
	if (!dom->running) {
		dom->running = true;
		fv_of(d)->w->running++;
	}
	return 0;
}

static int fv_stop(struct virtdrv *d, const char *uuid, int grace_ms,
		   char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_STOP, "stop", err);

	(void)grace_ms;
	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (dom && dom->running) {
		dom->running = false;
		fv_of(d)->w->running--;
	}
	return 0;
}

static int fv_power(struct virtdrv *d, const char *uuid,
		    enum virt_power *out, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_OTHER, "power", err);

	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (!dom || !dom->defined)
		return err_set(err, ENOENT, "no domain");
	*out = dom->running ? VIRT_POWER_RUNNING : VIRT_POWER_STOPPED;
	return 0;
}

static int fv_image_check(struct virtdrv *d, const char *image, char *err)
{
	SERIAL;
	int r = fv_gate(d, FAKE_OTHER, "image_check", err);

	if (r == 0 && !image_known(image))
		r = err_set(err, ENOENT, "no image %s", image);
	return r;
}

static int fv_disk_create(struct virtdrv *d, const char *uuid,
			  const char *image, uint64_t mib, char *err)
{
	SERIAL;
	struct fake_cloud *c = fv_cloud(d);
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_DISK_CREATE, "disk_create", err);

	if (r)
		return r;
	if (!image_known(image))
		return err_set(err, ENOENT, "no image %s", image);
	dom = dom_make(c, uuid);
	if (!dom)
		return err_set(err, ENOSPC, "fake: no room");
	if (!dom->disk) {
		dom->disk = true;
		fv_of(d)->w->disks++;
	}
	dom->disk_mib = mib;
	fv_of(d)->w->disk_mib[dom - c->doms] = mib;
	return 0;
}

static int fv_disk_resize(struct virtdrv *d, const char *uuid, uint64_t mib,
			  char *err)
{
	SERIAL;
	struct fake_cloud *c = fv_cloud(d);
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_DISK_RESIZE, "disk_resize", err);

	if (r)
		return r;
	dom = fake_dom(c, uuid);
	if (dom && dom->disk) {
		dom->disk_mib = mib;
		fv_of(d)->w->disk_mib[dom - c->doms] = mib;
	}
	return 0;
}

static int fv_disk_delete(struct virtdrv *d, const char *uuid, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_DISK_DELETE, "disk_delete", err);

	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (dom && dom->disk) {
		dom->disk = false;
		fv_of(d)->w->disks--;
	}
	if (dom)
		dom->console = dom->part = false;
	return 0;
}

static int fv_disk_exists(struct virtdrv *d, const char *uuid, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_OTHER, "disk_exists", err);

	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	return dom && dom->disk;
}

static int fv_disk_info(struct virtdrv *d, const char *uuid,
			uint64_t *capacity, uint64_t *allocation, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_OTHER, "disk_info", err);

	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (!dom || !dom->disk)
		return err_set(err, ENOENT, "no disk");
	*capacity = dom->disk_mib << 20;
	*allocation = FAKE_FILE_SIZE;
	return 0;
}

static int fv_disk_room(struct virtdrv *d, uint64_t *avail, char *err)
{
	SERIAL;
	int r = fv_gate(d, FAKE_OTHER, "disk_room", err);

	if (r == 0)
		*avail = fv_cloud(d)->room ? fv_cloud(d)->room : 1ull << 40;
	return r;
}

static int fv_disk_prepare(struct virtdrv *d, const char *uuid,
			   uint64_t capacity, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_OTHER, "disk_prepare", err);

	if (r)
		return r;
	dom = dom_make(fv_cloud(d), uuid);
	if (!dom)
		return err_set(err, ENOSPC, "fake: no room");
	fv_of(d)->w->disks += !dom->disk;
	dom->disk = true;
	dom->disk_mib = capacity >> 20;
	return 0;
}

static int fv_settle(struct virtdrv *d, const char *uuid, int timeout_ms,
		     struct virt_settled *out, char *err)
{
	SERIAL;
	struct fake_dom *dom;
	int r = fv_gate(d, FAKE_OTHER, "settle", err);

	(void)timeout_ms;
	if (r)
		return r;
	dom = fake_dom(fv_cloud(d), uuid);
	if (!dom || !dom->defined)
		return err_set(err, ENOENT, "no domain %s", uuid);
	out->power = dom->running ? VIRT_POWER_RUNNING : VIRT_POWER_STOPPED;
	out->paused = false;
	return 0;
}

/* The disk as it is: a new disk beside it, the domain untouched. */
static int fv_disk_backup(struct virtdrv *d, const struct virt_backup *b,
			  char *err)
{
	SERIAL;
	struct fake_dom *from, *to;
	int r = fv_gate(d, FAKE_OTHER, "disk_backup", err);

	if (r)
		return r;
	from = fake_dom(fv_cloud(d), b->uuid);
	if (!from || !from->disk)
		return err_set(err, ENOENT, "no disk %s (fake)", b->uuid);
	if (b->cancelled && b->cancelled(b->ctx))
		return err_set(err, EINTR, "cancelled");
	to = dom_make(fv_cloud(d), b->dest);
	if (!to)
		return err_set(err, ENOSPC, "fake: no room");
	fv_of(d)->w->disks += !to->disk;
	to->disk = true;
	to->disk_mib = from->disk_mib;
	return 0;
}

/* libvirt's live migration: the domain runs on the target, defined
 * there with its disk copied; here it stays defined, shut off. */
static int fv_migrate(struct virtdrv *d, struct virtdrv *dst,
		      const struct virt_migration *mg,
		      struct virt_migrated *out, char *err)
{
	SERIAL;
	struct virt_progress p = { FAKE_FILE_SIZE, FAKE_FILE_SIZE, 1 << 20 };
	struct fake_dom *from, *to;
	int r = fv_gate(d, FAKE_OTHER, "migrate", err);

	if (r)
		return r;
	from = fake_dom(fv_cloud(d), mg->uuid);
	if (!from || !from->defined || !from->running)
		return err_set(err, EINVAL, "domain not running");
	if (fv_cloud(dst)->down)
		return err_set(err, EHOSTUNREACH, "target down (fake)");
	if (mg->cancelled && mg->cancelled(mg->ctx))
		return err_set(err, EINTR, "cancelled");
	to = dom_make(fv_cloud(dst), mg->uuid);
	if (!to)
		return err_set(err, ENOSPC, "fake: no room");
	if (mg->progress)
		mg->progress(mg->ctx, &p);
	fv_of(d)->w->domains += !to->defined;
	fv_of(d)->w->disks += !to->disk;
	to->defined = to->running = to->disk = true;
	to->disk_mib = from->disk_mib;
	to->vcpus = from->vcpus;
	from->running = false;
	out->bytes = FAKE_FILE_SIZE;
	out->total_ms = 1;
	out->downtime_ms = 5;
	return 0;
}

static int fv_list(struct virtdrv *d,
		   void (*fn)(void *ctx, const struct virt_seen *seen),
		   void *ctx, char *err)
{
	struct fake_cloud *c = fv_cloud(d);
	int r = fv_gate(d, FAKE_OTHER, "list", err), i;

	if (r)
		return r;
	for (i = 0; i < FAKE_DOMS; i++) {
		struct virt_seen s = {
			.uuid = c->doms[i].uuid,
			.name = "fake",
			.power = c->doms[i].running ? VIRT_POWER_RUNNING
						    : VIRT_POWER_STOPPED,
			.ours = true,
		};
		if (c->doms[i].defined)
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
	.disk_info = fv_disk_info,
	.disk_room = fv_disk_room,
	.disk_prepare = fv_disk_prepare,
	.settle = fv_settle,
	.migrate = fv_migrate,
	.disk_backup = fv_disk_backup,
	.list = fv_list,
	.free = fv_free,
};

struct virtdrv *fake_virtdrv_new(const struct cloud *c,
				 const struct virtdrv_conf *conf, void *ctx,
				 char *err)
{
	struct fake_virt *f = calloc(1, sizeof *f);

	if (!f || !fake_cloud(ctx, c->name)) {
		free(f);
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	f->base.ops = &fake_virt_ops;
	f->w = ctx;
	snprintf(f->cloud, sizeof f->cloud, "%s", c->name);
	f->on_power = conf->on_power;
	f->ctx = conf->ctx;
	return &f->base;
}

/* ---- models over fakes ---- */

static struct model *open_fake(struct fake_world *w, const char *statedir,
			       const char *config, uint32_t vni_min,
			       uint32_t vni_max)
{
	struct model_opts o = {
		.statedir = statedir,
		.config = config,
		.vni_min = vni_min,
		.vni_max = vni_max,
		.hostdrv_new = fake_hostdrv_new,
		.hostdrv_ctx = w,
		.virtdrv_new = fake_virtdrv_new,
		.virtdrv_ctx = w,
	};
	struct model *m = NULL;
	char err[ERRLEN];

	if (model_open(&o, &m, err)) {
		fprintf(stderr, "model_open: %s\n", err);
		return NULL;
	}
	return m;
}

struct model *fake_model(struct fake_world *w, uint32_t vni_min,
			 uint32_t vni_max, char statedir[64])
{
	snprintf(statedir, 64, "/tmp/maasfs-unit.XXXXXX");
	if (!mkdtemp(statedir))
		return NULL;
	return open_fake(w, statedir, NULL, vni_min, vni_max);
}

struct model *fake_model_clouds(struct fake_world *w, const char *clouds,
				char statedir[64])
{
	char path[128];

	snprintf(statedir, 64, "/tmp/maasfs-unit.XXXXXX");
	if (!mkdtemp(statedir))
		return NULL;
	snprintf(path, sizeof path, "%s/clouds.yaml", statedir);
	if (file_write_atomic(path, clouds, strlen(clouds), 0644))
		return NULL;
	return open_fake(w, statedir, path, 1, 60);
}

struct model *fake_model_reopen(struct fake_world *w, const char *statedir)
{
	char path[128];

	snprintf(path, sizeof path, "%s/clouds.yaml", statedir);
	return open_fake(w, statedir, access(path, F_OK) ? NULL : path, 1, 60);
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
