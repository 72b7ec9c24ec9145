/* Test launches (vmtest.h). A clone of a VM boots on the cloud the
 * operator names, in an isolated copy of its subnet: the same CIDR,
 * gateway, MAC and address, but a VNI, bridge, namespace (maas-_test-VNI)
 * and dnsmasq of its own, no VXLAN, uplink or floating address, so that
 * it can never meet production. Its disk is the VM's as it was at the
 * launch: libvirt's backup job copies it while the guest runs on, never
 * paused; on another cloud the copy is then sent there, verified.
 *
 * As a migration's, its phases are in state.yaml before their steps:
 * LAUNCH before anything is made (a failure or Ctrl-C removes what was,
 * a mount undoes a launch a killed maasfs cut off), UP once it boots,
 * END before its removal (finished by a mount if cut off). The VM is
 * reserved (CHANGING: other writes get EBUSY) while its test is launched
 * or ended, never while it runs. */
#include "vmtest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "mig.h"
#include "names.h"
#include "render.h"
#include "repl.h"
#include "txn.h"
#include "vm.h"
#include "xfer.h"

void test_net_name(uint32_t vni, char *buf, size_t len)
{
	snprintf(buf, len, TEST_NET_PREFIX "%u", vni);
}

/* One launch or end: what its steps share. */
struct testctx {
	struct model *m;
	struct vm *v;                     /* reserved while it runs */
	enum obj_state prev;
	struct vm_test t;                 /* the record, as taken */
	char tenant[NAME_MAXLEN + 1], name[NAME_MAXLEN + 1];
	char net[NAME_MAXLEN + 1];        /* its network's tenant name */
	char src[VIRT_UUID_LEN + 1];      /* the VM's domain and disk */
	char image[NAME_MAXLEN + 1], mac[MAC_STRLEN];
	unsigned vcpus;
	uint64_t memory;
	bool subnet, dhcp;                /* the VM has a subnet; it DHCP */
	struct net_subnet ns;
	struct net_dhcp nd;               /* its hosts are ours (dhcp_net) */
	char domain[DOMAIN_MAXLEN + 1];
	uint64_t capacity, allocation;
	unsigned made;                    /* MADE_*: what to undo */
	char err[ERRLEN];
};

static bool cancelled_cb(void *ctx)
{
	return model_interrupted(((struct testctx *)ctx)->m);
}

/* How the launch goes, in the test file and the log. */
static void test_step(struct testctx *x, const char *what)
{
	pthread_mutex_lock(&x->m->lock);
	snprintf(x->v->test.step, sizeof x->v->test.step, "%s", what);
	pthread_mutex_unlock(&x->m->lock);
	model_note(x->m, x->tenant);
	log_info("test of %s/%s on %s: %s", x->tenant, x->name,
		 x->t.cloud->name, what);
}

/* The copy of the VM's subnet (lock held): its own VNI and tenant name,
 * no VXLAN; its dnsmasq with the subnet's range and reservations. */
static int test_net_of(struct testctx *x, const struct subnet *s)
{
	int r;

	memset(&x->ns, 0, sizeof x->ns);
	x->ns.tenant = x->net;
	x->ns.vni = x->t.vni;
	x->ns.gateway = cidr_gateway(&s->cidr);
	x->ns.prefix = s->cidr.prefix;
	x->ns.mtu = SUBNET_MTU;
	x->ns.home = true;
	x->subnet = true;
	x->dhcp = s->dhcp.on;
	if (!x->dhcp)
		return 0;
	r = dhcp_net(s, &s->dhcp, &x->nd);
	if (r)
		return r;
	snprintf(x->domain, sizeof x->domain, "%s", s->dhcp.domain);
	x->nd.tenant = x->net;
	x->nd.vni = x->t.vni;
	x->nd.domain = x->domain;
	return 0;
}

/* May v have a test on cloud to? 0, or -errno and why. Lock held. */
static int test_launchable(const struct vm *v, const struct cloud *to,
			   char *err)
{
	if (v->test.phase != TEST_NONE)
		return err_set(err, EBUSY, "VM %s has a test on cloud %s "
			       "already: end it first", v->name,
			       v->test.cloud->name);
	if (v->state != OBJ_READY && v->state != OBJ_ERROR)
		return err_set(err, EBUSY, "VM %s is %s", v->name,
			       obj_state_name(v->state));
	if (mig_running(v->mig.phase))
		return err_set(err, EBUSY, "VM %s is migrating to %s",
			       v->name, v->mig.to->name);
	if (v->power == VIRT_POWER_UNKNOWN)
		return err_set(err, EHOSTUNREACH, "the state of VM %s is "
			       "unknown (cloud %s unreachable?)", v->name,
			       v->conf.location->name);
	if (!v->disk_made)
		return err_set(err, EINVAL, "VM %s has never run: it has no "
			       "disk to test", v->name);
	return cloud_takes(to, err) ? -EBUSY : 0;
}

/* The VM reserved, its test recorded (LAUNCH), what the steps need
 * copied. Lock held. */
static int test_take(struct testctx *x, struct vm *v, struct cloud *to,
		     char *err)
{
	struct subnet *s = v->conf.subnet[0]
			   ? subnet_find(v->tenant, v->conf.subnet) : NULL;
	int r = repl_wait_idle(x->m, v, err);   /* a cycle ends first */

	if (r == 0)
		r = test_launchable(v, to, err);
	if (r)
		return r;
	memset(&x->t, 0, sizeof x->t);
	if (idset_alloc(&x->m->vnis, x->m->vni_min, x->m->vni_max,
			&x->t.vni))
		return err_set(err, ENOSPC, "no VNI left for the test's "
			       "network");
	x->t.phase = TEST_LAUNCH;
	x->t.cloud = to;
	x->t.from = v->conf.location;
	x->t.since = time(NULL);
	test_net_name(x->t.vni, x->net, sizeof x->net);
	r = vm_uuid_new(x->t.uuid);
	if (r == 0 && s)
		r = test_net_of(x, s);
	if (r) {
		idset_put(&x->m->vnis, x->t.vni);
		return err_set(err, -r, "no identity for the test: %s",
			       strerror(-r));
	}
	x->v = v;
	snprintf(x->src, sizeof x->src, "%s", v->uuid);
	snprintf(x->image, sizeof x->image, "%s", v->conf.image);
	snprintf(x->mac, sizeof x->mac, "%s", v->mac);
	x->vcpus = v->conf.vcpus;
	x->memory = v->conf.memory;
	x->prev = v->state;
	v->state = OBJ_CHANGING;
	v->test = x->t;
	snprintf(v->test.step, sizeof v->test.step, "check");
	return 0;
}

/* ---- the launch's steps ---- */

/* Its copies from the VM's cloud to the test's: under the cap, stopped
 * by Ctrl-C. */
static struct xfer test_xfer(struct testctx *x)
{
	return (struct xfer){ x->t.from, x->t.cloud, {
		.bandwidth = x->m->bandwidth_mib << 20,
		.cancelled = cancelled_cb, .ctx = x } };
}

/* The target answers, with room for the copy (and the source for the
 * copy it makes first, when the test goes elsewhere), and the image. */
static int test_ready(struct testctx *x)
{
	struct mig_target mt = { x->t.from, x->t.cloud, x->src, x->name,
				 false, 0, false };
	struct virtdrv *fv = x->t.from->virt;
	struct xfer xf = test_xfer(x);
	uint64_t room = 0;
	int r = mig_ready(&mt, &x->capacity, &x->allocation, x->err);

	if (r || x->t.from == x->t.cloud)
		return r;
	r = fv->ops->disk_room(fv, &room, x->err);
	if (r == 0 && room < x->allocation + MIG_ROOM_MARGIN)
		r = err_set(x->err, ENOSPC, "cloud %s has %llu MiB free: the "
			    "copy of the disk of %s is made there first",
			    x->t.from->name, (unsigned long long)(room >> 20),
			    x->name);
	return r ? r : xfer_image(&xf, x->image, x->err);
}

static int test_network(struct testctx *x)
{
	struct hostdrv *d = x->t.cloud->host;
	int pid, r;

	if (!x->subnet)
		return 0;
	r = d->ops->tenant_ensure(d, x->net, x->err);
	if (r == 0)
		r = d->ops->subnet_ensure(d, &x->ns, x->err);
	if (r == 0 && x->dhcp)
		r = d->ops->dhcp_ensure(d, &x->nd, &pid, x->err);
	return r;
}

/* The disk as it is now, beside the VM's; then on the test's cloud. */
static int test_disk(struct testctx *x)
{
	struct virtdrv *fv = x->t.from->virt;
	struct virt_backup b = { x->src, x->t.uuid, x->capacity, NULL,
				 cancelled_cb, x };
	struct xfer xf = test_xfer(x);
	char name[64];
	int r = fv->ops->disk_backup(fv, &b, x->err);

	if (r || x->t.from == x->t.cloud)
		return r;
	test_step(x, "copy");
	snprintf(name, sizeof name, "%s.qcow2", x->t.uuid);
	r = xfer_file(&xf, COPY_DISKS, name, NULL, x->err);
	if (r == 0 && fv->ops->disk_delete(fv, x->t.uuid, x->err))
		log_warnx("test of %s/%s: the copy on %s stays until the "
			  "test ends: %s", x->tenant, x->name,
			  x->t.from->name, x->err);
	return r;
}

static int test_boot(struct testctx *x)
{
	struct virtdrv *tv = x->t.cloud->virt;
	char bridge[NET_IFNAMSIZ] = "";
	struct virt_domain dom = {
		.uuid = x->t.uuid, .tenant = x->net, .vm = x->name,
		.vcpus = x->vcpus, .memory_mib = x->memory,
		.image = x->image, .bridge = bridge, .mac = x->mac,
		.mtu = SUBNET_MTU,
	};
	int r;

	if (x->subnet) {
		net_bridge_name(x->t.vni, bridge);
		net_test_port_name(x->mac, dom.tap);
	}
	r = tv->ops->define(tv, &dom, NULL, x->err);
	return r ? r : tv->ops->start(tv, x->t.uuid, x->err);
}

/* A step of a removal: what is not there is removed. */
static int absent_ok(int r)
{
	return r == -ENOENT ? 0 : r;
}

/* What a launch may have made, by its steps (a removal after a crash
 * knows nothing of that: all of it). */
enum {
	MADE_NET = 1,     /* the network on the test's cloud */
	MADE_DISK = 2,    /* the copies of the disk, on either cloud */
	MADE_DOM = 4,     /* the clone's domain */
	MADE_ALL = 7,
};

/* What test t made (of made) on its cloud, and on the one it was
 * launched from: 0 once none of it is left, or the first failure. */
static int test_clear(const struct vm_test *t, unsigned made, char *err)
{
	struct virtdrv *tv = t->cloud->virt, *fv = t->from->virt;
	struct hostdrv *d = t->cloud->host;
	char net[NAME_MAXLEN + 1], name[64];
	int r = 0;

	test_net_name(t->vni, net, sizeof net);
	snprintf(name, sizeof name, "%s.qcow2", t->uuid);
	if (made & MADE_DOM) {
		r = absent_ok(tv->ops->stop(tv, t->uuid, 0, err));
		if (r == 0)
			r = absent_ok(tv->ops->undefine(tv, t->uuid, err));
	}
	if (r == 0 && (made & MADE_DISK)) {
		r = absent_ok(tv->ops->disk_delete(tv, t->uuid, err));
		if (r == 0)   /* and a copy cut short there */
			r = absent_ok(d->ops->file_remove(d, COPY_DISKS, name,
							  err));
		if (r == 0 && fv != tv)
			r = absent_ok(fv->ops->disk_delete(fv, t->uuid, err));
	}
	if (r == 0 && (made & MADE_NET)) {
		r = absent_ok(d->ops->dhcp_remove(d, t->vni, true, err));
		if (r == 0)
			r = absent_ok(d->ops->subnet_remove(d, net, t->vni,
							    err));
		if (r == 0)
			r = absent_ok(d->ops->tenant_remove(d, net, err));
	}
	return r;
}

/* The end of a launch or an end (lock held): the record goes when the
 * clouds hold nothing of it; the VM is free again. */
static void test_settle(struct testctx *x, bool gone)
{
	struct vm *v = x->v;

	if (gone) {
		idset_put(&x->m->vnis, v->test.vni);
		memset(&v->test, 0, sizeof v->test);
	} else {
		v->test.phase = TEST_END;
		v->test.step[0] = '\0';
	}
	v->state = x->prev;
}

static int test_launch_steps(struct testctx *x)
{
	static const struct {
		const char *name;
		int (*fn)(struct testctx *x);
		unsigned makes;
	} steps[] = {
		{ "check", test_ready, 0 },
		{ "network", test_network, MADE_NET },
		{ "disk", test_disk, MADE_DISK },
		{ "boot", test_boot, MADE_DOM },
	};
	size_t i;
	int r = 0;

	for (i = 0; i < ARRAY_SIZE(steps) && r == 0; i++) {
		test_step(x, steps[i].name);
		r = model_interrupted(x->m)
		    ? err_set(x->err, EINTR, "cancelled by the caller") : 0;
		x->made |= r ? 0 : steps[i].makes;
		if (r == 0)
			r = steps[i].fn(x);
	}
	return r;
}

/* Launched, or undone: what was made goes (its record stays, as an end
 * to finish, only if a cloud keeps some of it). */
static int test_launch_run(struct testctx *x, int64_t t0, char *err)
{
	struct txn tx;
	char why[ERRLEN];
	bool gone = false;
	int r;

	txn_begin(&tx, x->m, x->v->tenant);
	r = txn_ahead(&tx, x->err);
	if (r == 0)
		r = test_launch_steps(x);
	if (r) {
		test_step(x, "undo");
		gone = test_clear(&x->t, x->made, why) == 0;
		if (!gone)
			log_warnx("test of %s/%s: its leftovers on %s go at "
				  "its end or the next mount: %s", x->tenant,
				  x->name, x->t.cloud->name, why);
	}
	pthread_mutex_lock(&x->m->lock);
	if (r) {
		test_settle(x, gone);
	} else {
		x->v->test.phase = TEST_UP;
		x->v->test.launch_ms = clock_ms() - t0;
		x->v->test.bytes = x->allocation;
		x->v->test.step[0] = '\0';
		x->v->state = x->prev;
	}
	pthread_mutex_unlock(&x->m->lock);
	if (txn_commit(&tx, why) && r == 0)
		r = err_set(x->err, EIO, "%s", why);
	if (r)
		err_set(err, -r, "%s", x->err);
	return r;
}

static int test_launch(struct model *m, const char *tname, const char *name,
		  const char *cloud, char *err)
{
	struct testctx *x = calloc(1, sizeof *x);
	int64_t t0 = clock_ms();
	struct tenant *t;
	struct vm *v;
	struct cloud *to;
	int r;

	if (!x)
		return err_set(err, ENOMEM, "out of memory");
	x->m = m;
	snprintf(x->tenant, sizeof x->tenant, "%s", tname);
	snprintf(x->name, sizeof x->name, "%s", name);
	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, tname);
	v = t ? vm_find_visible(t, name) : NULL;
	to = model_cloud(m, cloud);
	if (!v)
		r = err_set(err, ENOENT, "no VM %s in tenant %s", name, tname);
	else if (!to)
		r = err_set(err, ENOENT, "no cloud %s", cloud);
	else
		r = test_take(x, v, to, err);
	pthread_mutex_unlock(&m->lock);
	if (r == 0) {
		log_info("test of %s/%s: launch on %s (VNI %u, clone %s)",
			 tname, name, to->name, x->t.vni, x->t.uuid);
		r = test_launch_run(x, t0, err);
	}
	if (r == 0)
		log_info("test of %s/%s: up on %s in %lld ms", tname, name,
			 to->name, (long long)(clock_ms() - t0));
	dhcp_net_free(&x->nd);
	free(x);
	return r;
}

/* ---- the end ---- */

static int test_end(struct model *m, const char *tname, const char *name,
	       char *err)
{
	struct testctx x = { .m = m };
	struct tenant *t;
	struct txn tx;
	char why[ERRLEN];
	bool gone;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, tname);
	x.v = t ? vm_find_visible(t, name) : NULL;
	if (!x.v)
		r = err_set(err, ENOENT, "no VM %s in tenant %s", name, tname);
	else if (x.v->test.phase == TEST_NONE)
		r = err_set(err, ENOENT, "VM %s has no test", name);
	else if (x.v->state != OBJ_READY && x.v->state != OBJ_ERROR)
		r = err_set(err, EBUSY, "VM %s is %s", name,
			    obj_state_name(x.v->state));
	if (r == 0) {
		x.v->test.phase = TEST_END;
		x.t = x.v->test;
		x.prev = x.v->state;
		x.v->state = OBJ_CHANGING;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	txn_begin(&tx, m, x.v->tenant);
	r = txn_ahead(&tx, err);
	gone = r == 0 && (r = test_clear(&x.t, MADE_ALL, err)) == 0;
	pthread_mutex_lock(&m->lock);
	test_settle(&x, gone);
	pthread_mutex_unlock(&m->lock);
	if (txn_commit(&tx, why) && r == 0)
		r = err_set(err, EIO, "%s", why);
	if (r == 0)
		log_info("test of %s/%s on %s: ended, nothing left", tname,
			 name, x.t.cloud->name);
	return r;
}

int vm_test_write(struct model *m, const char *tenant, const char *vm,
		  const char *value, char *err)
{
	if (!strcmp(value, "end"))
		return test_end(m, tenant, vm, err);
	if (!name_valid(value))
		return err_set(err, EINVAL, "test takes a cloud's name (a "
			       "launch) or end, not '%.40s'", value);
	return test_launch(m, tenant, vm, value, err);
}

/* ---- its files, the mount, the sweep ---- */

int vm_test_show(const struct vm *v, struct strbuf *out)
{
	const struct vm_test *t = &v->test;
	char net[NAME_MAXLEN + 1], when[32], ip[IP_STRLEN] = "", dom[128];
	struct tm tm;

	if (t->phase == TEST_NONE)
		return sb_puts(out, "none\n");
	test_net_name(t->vni, net, sizeof net);
	gmtime_r(&t->since, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_printf(out, "cloud: %s\nphase: %s\nsince: %s\n", t->cloud->name,
		  t->phase == TEST_UP ? "up" : t->phase == TEST_LAUNCH
		  ? "launching" : "ending", when);
	if (t->step[0])
		sb_printf(out, "step: %s\n", t->step);
	if (t->phase == TEST_UP)
		sb_printf(out, "launch: %lld ms\nbytes: %llu\n",
			  (long long)t->launch_ms,
			  (unsigned long long)t->bytes);
	virt_domain_name(net, v->name, dom, sizeof dom);
	sb_printf(out, "domain: %s %s\n", dom, t->uuid);
	if (v->conf.subnet[0] && v->conf.ip) {
		ip_format(v->conf.ip, ip);
		sb_printf(out, "namespace: " NET_NS_PREFIX "%s\nip: %s\n",
			  net, ip);
	}
	return 0;
}

int vm_test_console(const struct vm *v, struct strbuf *out)
{
	struct hostdrv *d;

	if (v->test.phase == TEST_NONE)
		return 0;
	d = v->test.cloud->host;
	return d->ops->console(d, v->test.uuid, out);
}

void vm_test_recover(struct model *m, struct vm *v)
{
	struct vm_test t;
	char err[ERRLEN];
	bool gone;

	pthread_mutex_lock(&m->lock);
	t = v->test;
	pthread_mutex_unlock(&m->lock);
	if (t.phase != TEST_LAUNCH && t.phase != TEST_END)
		return;
	gone = test_clear(&t, MADE_ALL, err) == 0;
	if (gone)
		log_info("test of %s/%s on %s: %s at mount, nothing left",
			 v->tenant->name, v->name, t.cloud->name,
			 t.phase == TEST_LAUNCH ? "a launch cut off undone"
						: "its end finished");
	else
		log_warnx("test of %s/%s on %s: its removal waits: %s",
			  v->tenant->name, v->name, t.cloud->name, err);
	pthread_mutex_lock(&m->lock);
	if (gone) {
		idset_put(&m->vnis, t.vni);
		memset(&v->test, 0, sizeof v->test);
	} else {
		v->test.phase = TEST_END;
	}
	pthread_mutex_unlock(&m->lock);
}
