#include "../virt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "../../lib/log.h"
#include "../host/netns.h"

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

void virt_version(char *buf, size_t len)
{
	unsigned long v = 0;

	if (virGetVersion(&v, NULL, NULL) < 0)
		v = LIBVIR_VERSION_NUMBER;
	snprintf(buf, len, "libvirt %lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
		 v % 1000);
}

void virt_domain_name(const char *tenant, const char *vm, char *buf,
		      size_t len)
{
	snprintf(buf, len, "maas:%s:%s", tenant, vm);
}

/* The one place libvirt's error space becomes errno, with its message. */
static int virt_fail(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int virt_fail(char *err, const char *fmt, ...)
{
	virErrorPtr e = virGetLastError();
	char what[160];
	int code = EIO;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (e) {
		switch (e->code) {
		case VIR_ERR_NO_DOMAIN:
		case VIR_ERR_NO_STORAGE_VOL:
		case VIR_ERR_NO_STORAGE_POOL:
			code = ENOENT;
			break;
		case VIR_ERR_OPERATION_INVALID:
			code = EBUSY;
			break;
		case VIR_ERR_STORAGE_VOL_EXIST:
		case VIR_ERR_DOM_EXIST:
			code = EEXIST;
			break;
		case VIR_ERR_NO_CONNECT:
		case VIR_ERR_INVALID_CONN:
		case VIR_ERR_RPC:
			code = EHOSTUNREACH;
			break;
		case VIR_ERR_OPERATION_TIMEOUT:
		case VIR_ERR_AGENT_UNRESPONSIVE:
			code = ETIMEDOUT;
			break;
		case VIR_ERR_AUTH_FAILED:
		case VIR_ERR_AUTH_CANCELLED:
		case VIR_ERR_ACCESS_DENIED:
			code = EACCES;
			break;
		case VIR_ERR_INVALID_ARG:
		case VIR_ERR_XML_ERROR:
		case VIR_ERR_XML_DETAIL:
		case VIR_ERR_CONFIG_UNSUPPORTED:
			code = EINVAL;
			break;
		case VIR_ERR_SYSTEM_ERROR:
		case VIR_ERR_INTERNAL_ERROR:
			/* the connection broke: "connection closed due to
			 * keepalive timeout", an I/O error on the socket */
			if (e->domain == VIR_FROM_REMOTE ||
			    e->domain == VIR_FROM_RPC)
				code = EHOSTUNREACH;
			break;
		default:
			break;
		}
		err_set(err, code, "%s: %s", what,
			e->message ? e->message : "libvirt error");
		virResetLastError();
	} else {
		err_set(err, code, "%s: libvirt error", what);
	}
	return -code;
}

static void virt_quiet(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;   /* errors are read where they happen, not printed */
}

static pthread_once_t virt_once = PTHREAD_ONCE_INIT;
static int virt_init_result;

static void virt_init(void)
{
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
		virt_init_result = -EIO;
	virSetErrorFunc(NULL, virt_quiet);
}

/* The event thread runs libvirt's loop until virt_events_stop: it must
 * be gone before exit(), whose handlers tear down OpenSSL under libssh
 * channels the loop may still be closing. */
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static bool events_started;
static bool events_stopping;
static pthread_t events_thread;

static void *virt_event_loop(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&events_stopping, __ATOMIC_ACQUIRE))
		if (virEventRunDefaultImpl() < 0)
			usleep(100000);
	return NULL;
}

int virt_events_start(char *err)
{
	int r = 0;

	pthread_once(&virt_once, virt_init);
	if (virt_init_result)
		return err_set(err, EIO, "libvirt does not initialize");
	pthread_mutex_lock(&events_lock);
	if (!events_started) {
		__atomic_store_n(&events_stopping, false, __ATOMIC_RELEASE);
		r = pthread_create(&events_thread, NULL, virt_event_loop, NULL);
		events_started = r == 0;
	}
	pthread_mutex_unlock(&events_lock);
	return r ? err_set(err, r, "event thread: %s", strerror(r)) : 0;
}

static void virt_wake(int timer, void *opaque)
{
	(void)opaque;
	virEventRemoveTimeout(timer);
}

void virt_events_stop(void)
{
	pthread_mutex_lock(&events_lock);
	if (events_started) {
		__atomic_store_n(&events_stopping, true, __ATOMIC_RELEASE);
		/* a timer due now ends the loop's current wait */
		virEventAddTimeout(0, virt_wake, NULL, NULL);
		pthread_join(events_thread, NULL);
		events_started = false;
	}
	pthread_mutex_unlock(&events_lock);
}

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

static struct libvirt_drv *lv_of(struct virtdrv *d)
{
	return (struct libvirt_drv *)d;
}

static enum virt_power power_of_state(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_SHUTDOWN:
	case VIR_DOMAIN_PMSUSPENDED:
		return VIRT_POWER_RUNNING;
	case VIR_DOMAIN_SHUTOFF:
	case VIR_DOMAIN_CRASHED:
		return VIRT_POWER_STOPPED;
	default:
		return VIRT_POWER_UNKNOWN;
	}
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event,
			int detail, void *opaque)
{
	struct libvirt_drv *d = opaque;
	char uuid[VIR_UUID_STRING_BUFLEN];
	enum virt_power p;

	(void)conn;
	(void)detail;
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		p = VIRT_POWER_RUNNING;
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
	case VIR_DOMAIN_EVENT_CRASHED:
		p = VIRT_POWER_STOPPED;
		break;
	default:
		return 0;
	}
	if (virDomainGetUUIDString(dom, uuid) == 0 && d->on_power)
		d->on_power(d->ctx, d->cloud, uuid, p);
	return 0;
}

static void set_why(struct libvirt_drv *d, const char *why)
{
	pthread_mutex_lock(&d->why_lock);
	snprintf(d->why, sizeof d->why, "%s", why);
	pthread_mutex_unlock(&d->why_lock);
}

static bool is_dead(struct libvirt_drv *d)
{
	return __atomic_load_n(&d->dead, __ATOMIC_ACQUIRE);
}

static void close_cb(virConnectPtr conn, int reason, void *opaque)
{
	struct libvirt_drv *d = opaque;
	const char *why = reason == VIR_CONNECT_CLOSE_REASON_KEEPALIVE
		? "libvirtd stopped answering (no keepalive answer)"
		: reason == VIR_CONNECT_CLOSE_REASON_EOF
		? "libvirtd closed the connection"
		: "the connection to libvirtd broke";

	(void)conn;
	log_warnx("cloud %s: %s", d->cloud, why);
	set_why(d, why);
	__atomic_store_n(&d->dead, true, __ATOMIC_RELEASE);
}

/* A pool name for a directory: the same directory, the same pool, so
 * that a restarted maasfs finds its own pools in libvirtd. */
static void pool_name(const char *kind, const char *dir, char *buf,
		      size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (; *dir; dir++)
		h = (h ^ (unsigned char)*dir) * 1099511628211ull;
	snprintf(buf, len, "maasfs-%s-%016llx", kind, (unsigned long long)h);
}

static int pool_ensure(virConnectPtr conn, const char *name, const char *dir,
		       char *err)
{
	char xml[PATH_MAX + 256];
	virStoragePoolPtr p = virStoragePoolLookupByName(conn, name);
	int r = 0;

	if (p) {
		if (virStoragePoolIsActive(p) != 1 &&
		    virStoragePoolCreate(p, VIR_STORAGE_POOL_CREATE_WITH_BUILD))
			r = virt_fail(err, "starting pool %s", name);
		virStoragePoolFree(p);
		return r;
	}
	virResetLastError();
	snprintf(xml, sizeof xml,
		 "<pool type='dir'><name>%s</name>"
		 "<target><path>%s</path></target></pool>", name, dir);
	p = virStoragePoolCreateXML(conn, xml,
				    VIR_STORAGE_POOL_CREATE_WITH_BUILD);
	if (!p)
		return virt_fail(err, "making pool %s for %s", name, dir);
	virStoragePoolFree(p);
	return 0;
}

static void resync(struct libvirt_drv *d, virConnectPtr conn);

/* The connection's socket (a unix socket, or the ssh session of a remote
 * URI) is made in the calling thread's namespace: the cloud's, if it
 * has one. */
static virConnectPtr open_in_netns(struct libvirt_drv *d)
{
	virConnectPtr c;
	int fd, self;

	if (!d->netns[0])
		return virConnectOpen(d->uri);
	fd = netns_open(d->netns);
	if (fd < 0)
		return NULL;
	self = netns_open_self();
	if (self < 0 || netns_enter(fd)) {
		close(fd);
		if (self >= 0)
			close(self);
		return NULL;
	}
	c = virConnectOpen(d->uri);
	if (netns_enter(self))
		abort();   /* a thread stranded in another namespace */
	close(self);
	close(fd);
	return c;
}

/* The caller holds d->lock: forgets a connection that died. */
static void drop_dead(struct libvirt_drv *d)
{
	if (!d->conn || (!is_dead(d) && virConnectIsAlive(d->conn) == 1))
		return;
	if (d->event_id >= 0)
		virConnectDomainEventDeregisterAny(d->conn, d->event_id);
	virConnectUnregisterCloseCallback(d->conn, close_cb);
	virConnectClose(d->conn);
	d->conn = NULL;
	d->event_id = -1;
}

static void drv_put(struct libvirt_drv *d)
{
	bool last;

	pthread_mutex_lock(&d->lock);
	last = --d->refs == 0;
	pthread_mutex_unlock(&d->lock);
	if (last) {
		pthread_cond_destroy(&d->opened);
		pthread_mutex_destroy(&d->why_lock);
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
}

/* A new connection, made ready (keepalive, close callback, lifecycle
 * events, our pools), or NULL with why. Opening blocks for as long as
 * libvirtd does not answer: it runs on a connector thread, never on a
 * caller's or the event loop's. */
static virConnectPtr open_ready(struct libvirt_drv *d, int *event_id,
				char *why)
{
	virConnectPtr c = open_in_netns(d);
	char e[ERRLEN];

	if (!c) {
		virt_fail(e, "cannot connect to libvirt at %s", d->uri);
		snprintf(why, ERRLEN, "%s", e);
		return NULL;
	}
	if (virConnectSetKeepAlive(c, KEEPALIVE_S, KEEPALIVE_COUNT) < 0)
		virResetLastError();
	virConnectRegisterCloseCallback(c, close_cb, d, NULL);
	*event_id = virConnectDomainEventRegisterAny(
		c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), d, NULL);
	if (pool_ensure(c, d->pool_images, d->images, e) ||
	    pool_ensure(c, d->pool_disks, d->disks, e)) {
		snprintf(why, ERRLEN, "%s", e);
		if (*event_id >= 0)
			virConnectDomainEventDeregisterAny(c, *event_id);
		virConnectUnregisterCloseCallback(c, close_cb);
		virConnectClose(c);
		return NULL;
	}
	return c;
}

static void *connector(void *arg)
{
	struct libvirt_drv *d = arg;
	char why[ERRLEN] = "";
	int event_id = -1;
	virConnectPtr c;
	bool keep;

	pthread_mutex_lock(&d->lock);
	drop_dead(d);
	pthread_mutex_unlock(&d->lock);
	c = open_ready(d, &event_id, why);

	pthread_mutex_lock(&d->lock);
	d->connecting = false;
	keep = c && !d->freed && !d->conn;
	if (keep) {
		d->conn = c;
		d->event_id = event_id;
		__atomic_store_n(&d->dead, false, __ATOMIC_RELEASE);
		set_why(d, "");
		log_info("cloud %s: connected to %s", d->cloud, d->uri);
	} else if (!c) {
		set_why(d, why);
	}
	if (keep)
		virConnectRef(c);   /* for the resync below */
	pthread_cond_broadcast(&d->opened);
	pthread_mutex_unlock(&d->lock);
	if (c && !keep) {
		if (event_id >= 0)
			virConnectDomainEventDeregisterAny(c, event_id);
		virConnectUnregisterCloseCallback(c, close_cb);
		virConnectClose(c);
	} else if (keep) {
		resync(d, c);
		virConnectClose(c);
	}
	drv_put(d);
	return NULL;
}

/* The caller holds d->lock: a connector starts unless one runs. */
static void connect_start(struct libvirt_drv *d)
{
	pthread_attr_t attr;
	pthread_t th;
	char err[ERRLEN];

	if (d->connecting || (d->conn && !is_dead(d)) || d->freed)
		return;
	if (virt_events_start(err)) {
		set_why(d, err);
		return;
	}
	d->connecting = true;
	d->connecting_since = clock_ms();
	d->refs++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, connector, d)) {
		d->connecting = false;
		d->refs--;
		set_why(d, "cannot start a thread");
	}
	pthread_attr_destroy(&attr);
}

/* The caller holds d->lock: why the cloud has no connection, as its
 * status says it. */
static void down_why(struct libvirt_drv *d, char *buf, size_t len)
{
	char why[ERRLEN];

	pthread_mutex_lock(&d->why_lock);
	snprintf(why, sizeof why, "%s", d->why);
	pthread_mutex_unlock(&d->why_lock);
	if (d->connecting)
		snprintf(buf, len, "libvirtd does not answer (connecting for "
			 "%lld s)%s%.160s",
			 (long long)((clock_ms() - d->connecting_since) / 1000),
			 why[0] ? "; before: " : "", why);
	else
		snprintf(buf, len, "%s", why[0] ? why
			 : "not connected to libvirt yet");
}

/* The connection, opened or re-opened as needed; the caller gets its own
 * reference and closes it. A caller waits for a connection being opened
 * until CONNECT_WAIT_MS after the attempt began, so that a libvirtd that
 * does not answer costs each caller a bounded time, and nothing once the
 * cloud is known to be down. */
static virConnectPtr lv_conn(struct libvirt_drv *d, char *err)
{
	virConnectPtr c = NULL;

	pthread_mutex_lock(&d->lock);
	drop_dead(d);
	d->wanted = true;
	connect_start(d);
	while (!d->conn && d->connecting) {
		int64_t left = d->connecting_since + CONNECT_WAIT_MS -
			       clock_ms();
		struct timespec until;

		if (left <= 0)
			break;
		deadline_in(&until, left);
		pthread_cond_timedwait(&d->opened, &d->lock, &until);
	}
	if (d->conn) {
		c = d->conn;
		virConnectRef(c);
	} else {
		char why[ERRLEN];

		down_why(d, why, sizeof why);
		err_set(err, EHOSTUNREACH, "cloud %s: %s", d->cloud, why);
	}
	pthread_mutex_unlock(&d->lock);
	return c;
}

/* After a (re)connect: tell the model what runs, events may have been
 * missed while the connection was down. */
static void resync(struct libvirt_drv *d, virConnectPtr conn)
{
	virDomainPtr *doms = NULL;
	int i, n = virConnectListAllDomains(conn, &doms, 0);

	for (i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		int state, reason;

		if (d->on_power && virDomainGetUUIDString(doms[i], uuid) == 0 &&
		    virDomainGetState(doms[i], &state, &reason, 0) == 0)
			d->on_power(d->ctx, d->cloud, uuid,
				    power_of_state(state));
		virDomainFree(doms[i]);
	}
	free(doms);
	virResetLastError();
}

/* On the event thread: a lost connection comes back by itself, so that
 * state stays true without anyone writing. It calls no libvirt function
 * (the connection may be dying under the loop): a connector thread
 * closes the dead one and opens another. */
static void reconnect_tick(int timer, void *opaque)
{
	struct libvirt_drv *d = opaque;

	(void)timer;
	pthread_mutex_lock(&d->lock);
	if (d->wanted)
		connect_start(d);
	pthread_mutex_unlock(&d->lock);
}

static void lv_warm(struct virtdrv *vd)
{
	struct libvirt_drv *d = lv_of(vd);

	pthread_mutex_lock(&d->lock);
	d->wanted = true;
	connect_start(d);
	pthread_mutex_unlock(&d->lock);
}

/* Down once someone needed libvirt and it has not answered: a connection
 * being opened counts as up for its first seconds (a reconnect). */
static int lv_status(struct virtdrv *vd, struct strbuf *why)
{
	struct libvirt_drv *d = lv_of(vd);
	char buf[ERRLEN];
	bool down, failed;

	pthread_mutex_lock(&d->lock);
	pthread_mutex_lock(&d->why_lock);
	failed = d->why[0] != '\0';
	pthread_mutex_unlock(&d->why_lock);
	down = d->wanted && (!d->conn || is_dead(d)) &&
	       (!d->connecting || failed ||
		clock_ms() - d->connecting_since >= CONNECT_WAIT_MS);
	if (down) {
		down_why(d, buf, sizeof buf);
		sb_puts(why, buf);
	}
	pthread_mutex_unlock(&d->lock);
	return down ? -EHOSTUNREACH : 0;
}

static virDomainPtr lv_domain(virConnectPtr c, const char *uuid, char *err)
{
	virDomainPtr dom = virDomainLookupByUUIDString(c, uuid);

	if (!dom)
		virt_fail(err, "domain %s", uuid);
	return dom;
}

/* Nothing reaches the XML that is not of its exact grammar. */
static int domdef_check(const struct virt_domain *v, char *err)
{
	if (!uuid_valid(v->uuid) || !word_safe(v->tenant) ||
	    !word_safe(v->vm) || !word_safe(v->image) ||
	    (v->bridge && *v->bridge && !word_safe(v->bridge)) ||
	    (v->bridge && *v->bridge && !mac_valid(v->mac)) ||
	    v->vcpus < 1 || v->vcpus > 256 || v->memory_mib < 16 ||
	    v->mtu > 9000)
		return err_set(err, EINVAL, "domain fields out of grammar");
	return 0;
}

static void domain_xml(const struct libvirt_drv *d, const struct virt_domain *v,
		       struct strbuf *x)
{
	char name[128];

	virt_domain_name(v->tenant, v->vm, name, sizeof name);
	sb_printf(x, "<domain type='%s'>\n", d->domtype);
	sb_printf(x, "  <name>%s</name>\n  <uuid>%s</uuid>\n", name, v->uuid);
	sb_printf(x, "  <metadata>\n    <" META_PREFIX ":vm xmlns:"
		  META_PREFIX "='" META_NS "' instance='%s' tenant='%s' "
		  "name='%s'/>\n  </metadata>\n", d->instance, v->tenant,
		  v->vm);
	sb_printf(x, "  <memory unit='MiB'>%llu</memory>\n",
		  (unsigned long long)v->memory_mib);
	sb_printf(x, "  <vcpu>%u</vcpu>\n", v->vcpus);
	sb_printf(x, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
		  "    <kernel>%s/%s.kernel</kernel>\n"
		  "    <initrd>%s/%s.initrd</initrd>\n"
		  "    <cmdline>console=ttyS0 quiet panic=-1</cmdline>\n"
		  "  </os>\n", d->images, v->image, d->images, v->image);
	sb_puts(x, "  <features><acpi/></features>\n"
		   "  <on_poweroff>destroy</on_poweroff>\n"
		   "  <on_reboot>restart</on_reboot>\n"
		   "  <on_crash>destroy</on_crash>\n  <devices>\n");
	sb_printf(x, "    <disk type='file' device='disk'>\n"
		  "      <driver name='qemu' type='qcow2'/>\n"
		  "      <source file='%s/%s.qcow2'/>\n"
		  "      <target dev='vda' bus='virtio'/>\n    </disk>\n",
		  d->disks, v->uuid);
	if (v->bridge && *v->bridge)
		sb_printf(x, "    <interface type='bridge'>\n"
			  "      <source bridge='%s'/>\n"
			  "      <mac address='%s'/>\n"
			  "      <model type='virtio'/>\n"
			  "      <mtu size='%u'/>\n    </interface>\n",
			  v->bridge, v->mac, v->mtu);
	sb_printf(x, "    <serial type='file'>\n"
		  "      <source path='%s/%s.console' append='on'/>\n"
		  "      <target port='0'/>\n    </serial>\n"
		  "    <memballoon model='none'/>\n  </devices>\n</domain>\n",
		  d->disks, v->uuid);
}

static int lv_define(struct virtdrv *vd, const struct virt_domain *v,
		     struct strbuf *xml, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	struct strbuf x = STRBUF_INIT;
	virConnectPtr c;
	virDomainPtr dom = NULL;
	char *desc;
	int r = domdef_check(v, err);

	if (r)
		return r;
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	domain_xml(d, v, &x);
	dom = virDomainDefineXML(c, sb_str(&x));
	if (!dom) {
		r = virt_fail(err, "defining %s:%s", v->tenant, v->vm);
		goto out;
	}
	if (xml) {
		desc = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
		sb_reset(xml);
		sb_puts(xml, desc ? desc : sb_str(&x));
		free(desc);
	}
out:
	if (dom)
		virDomainFree(dom);
	virConnectClose(c);
	sb_free(&x);
	return r;
}

static int lv_undefine(struct virtdrv *vd, const char *uuid, char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	virDomainPtr dom;
	int r = 0, state, reason;

	if (!c)
		return -EHOSTUNREACH;
	dom = virDomainLookupByUUIDString(c, uuid);
	if (!dom) {
		virResetLastError();
		goto out;
	}
	if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
	    power_of_state(state) == VIRT_POWER_RUNNING)
		r = err_set(err, EBUSY, "domain %s is running", uuid);
	else if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM) < 0)
		r = virt_fail(err, "undefining %s", uuid);
	virDomainFree(dom);
out:
	virConnectClose(c);
	return r;
}

/* The user and group libvirt runs QEMU as (its DAC base label for our
 * domain type), from the host's capabilities: 0, or -ENOENT without
 * one (no DAC model: QEMU runs as root). */
static int qemu_label(virConnectPtr c, const char *domtype, uid_t *uid,
		      gid_t *gid)
{
	char want[64], *caps = virConnectGetCapabilities(c), *at;
	unsigned long u, g;
	int r = -ENOENT;

	if (!caps) {
		virResetLastError();
		return -ENOENT;
	}
	snprintf(want, sizeof want, "<baselabel type='%s'>+", domtype);
	at = strstr(caps, want);
	if (at && sscanf(at + strlen(want), "%lu:+%lu<", &u, &g) == 2) {
		*uid = (uid_t)u;
		*gid = (gid_t)g;
		r = 0;
	}
	free(caps);
	return r;
}

/* The first folder on the way to dir that uid (with its groups) may not
 * search, asked of a child that becomes that user: "" if none. */
static void first_closed(const char *dir, uid_t uid, gid_t gid,
			 const gid_t *groups, int ngroups, char *out,
			 size_t len)
{
	char path[PATH_MAX];
	int p[2], status;
	ssize_t n = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return;
	pid = fork();
	if (pid == 0) {
		char *slash = path;

		if (setgroups((size_t)ngroups, groups) || setgid(gid) ||
		    setuid(uid))
			_exit(1);
		snprintf(path, sizeof path, "%s/", dir);
		while ((slash = strchr(slash + 1, '/'))) {
			*slash = '\0';
			if (access(path, X_OK)) {
				if (write(p[1], path, strlen(path)) < 0)
					_exit(1);
				_exit(0);
			}
			*slash = '/';
		}
		_exit(0);
	}
	close(p[1]);
	if (pid > 0) {
		n = read(p[0], out, len - 1);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
}

/* A cloud of this host keeps the VM's disk and the image's kernel in
 * folders QEMU opens as its own user: one that only root may enter (a
 * state directory of mode 0700, say) would make every start fail in
 * QEMU. Asked once per connection, so that a start fails at once with
 * EACCES and what to do, before anything is made. */
static int lv_reach(struct libvirt_drv *d, virConnectPtr c, char *err)
{
	const char *dirs[2] = { d->disks, d->images };
	char closed[PATH_MAX] = "", buf[4096], why[ERRLEN] = "";
	struct passwd pw, *pwp = NULL;
	gid_t groups[64];
	int ngroups = 64, r = 0;
	uid_t uid;
	gid_t gid;
	size_t i;

	if (strncmp(d->uri, "qemu:///", 8))
		return 0;   /* another host's folders: its operator's */
	pthread_mutex_lock(&d->lock);
	if (d->reach_conn == c) {   /* reached before: asked once */
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	pthread_mutex_unlock(&d->lock);
	if (qemu_label(c, d->domtype, &uid, &gid) == 0 && uid != 0) {
		if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) || !pwp ||
		    getgrouplist(pwp->pw_name, gid, groups, &ngroups) < 0)
			ngroups = 0;
		for (i = 0; i < ARRAY_SIZE(dirs) && !closed[0]; i++)
			first_closed(dirs[i], uid, gid, groups, ngroups, closed,
				     sizeof closed);
		if (closed[0])
			r = err_set(why, EACCES, "cloud %s: QEMU runs as %s "
				    "(uid %u), which may not enter %.300s: give "
				    "it search permission (setfacl -m u:%s:x "
				    "%.300s), or name images: and disks: folders "
				    "it reaches in the clouds file", d->cloud,
				    pwp ? pwp->pw_name : "?", (unsigned)uid,
				    closed, pwp ? pwp->pw_name : "UID", closed);
	}
	if (r)   /* asked again next time: the operator may mend it */
		return err_set(err, -r, "%s", why);
	pthread_mutex_lock(&d->lock);
	d->reach_conn = c;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int lv_start(struct virtdrv *vd, const char *uuid, char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	virDomainPtr dom;
	int r = 0;

	if (!c)
		return -EHOSTUNREACH;
	r = lv_reach(lv_of(vd), c, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	dom = lv_domain(c, uuid, err);
	if (!dom) {
		r = -ENOENT;
	} else if (virDomainIsActive(dom) == 1) {
		int state, reason;

		if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
		    state == VIR_DOMAIN_PAUSED && virDomainResume(dom) < 0)
			r = virt_fail(err, "resuming %s", uuid);
	} else if (virDomainCreate(dom) < 0) {
		r = virt_fail(err, "starting %s", uuid);
	}
	if (dom)
		virDomainFree(dom);
	virConnectClose(c);
	return r;
}

static int dom_power(virDomainPtr dom, enum virt_power *p)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return -1;
	*p = power_of_state(state);
	return 0;
}

static int lv_stop(struct virtdrv *vd, const char *uuid, int grace_ms,
		   char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	virDomainPtr dom;
	enum virt_power p = VIRT_POWER_UNKNOWN;
	int64_t deadline = clock_ms() + grace_ms;
	int r = 0;

	if (!c)
		return -EHOSTUNREACH;
	dom = lv_domain(c, uuid, err);
	if (!dom) {
		virConnectClose(c);
		return -ENOENT;
	}
	if (dom_power(dom, &p) == 0 && p == VIRT_POWER_STOPPED)
		goto out;
	if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
	    == 0) {
		while (clock_ms() < deadline) {
			if (dom_power(dom, &p) == 0 && p == VIRT_POWER_STOPPED)
				goto out;
			usleep(50000);
		}
		log_info("%s did not stop within %d ms: destroying it", uuid,
			 grace_ms);
	}
	virResetLastError();
	if (virDomainDestroy(dom) < 0 &&
	    !(dom_power(dom, &p) == 0 && p == VIRT_POWER_STOPPED))
		r = virt_fail(err, "stopping %s", uuid);
out:
	virResetLastError();
	virDomainFree(dom);
	virConnectClose(c);
	return r;
}

static int lv_power(struct virtdrv *vd, const char *uuid,
		    enum virt_power *out, char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	virDomainPtr dom;
	int r = 0;

	if (!c)
		return -EHOSTUNREACH;
	dom = virDomainLookupByUUIDString(c, uuid);
	if (!dom) {
		r = virt_fail(err, "domain %s", uuid);
	} else {
		if (dom_power(dom, out) < 0)
			r = virt_fail(err, "state of %s", uuid);
		virDomainFree(dom);
	}
	virConnectClose(c);
	return r;
}

/* The pool, refreshed if asked: 0, or the -errno of libvirt's error. */
static int lv_pool(virConnectPtr c, const char *name, bool refresh,
		   virStoragePoolPtr *out, char *err)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, name);
	int r;

	*out = NULL;
	if (!p)
		return virt_fail(err, "pool %s", name);
	if (refresh && virStoragePoolRefresh(p, 0) < 0) {
		r = virt_fail(err, "refreshing pool %s", name);
		virStoragePoolFree(p);
		return r;
	}
	*out = p;
	return 0;
}

static int lv_image_check(struct virtdrv *vd, const char *image, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	static const char *const parts[] = { "kernel", "initrd", "qcow2" };
	virConnectPtr c;
	virStoragePoolPtr p;
	size_t i;
	int r = 0;

	if (!word_safe(image))
		return err_set(err, EINVAL, "bad image name");
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	r = lv_pool(c, d->pool_images, true, &p, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	for (i = 0; i < ARRAY_SIZE(parts) && r == 0; i++) {
		char vol[128];
		virStorageVolPtr v;

		snprintf(vol, sizeof vol, "%s.%s", image, parts[i]);
		v = virStorageVolLookupByName(p, vol);
		if (v)
			virStorageVolFree(v);
		else
			r = err_set(err, ENOENT, "no image %s on cloud %s "
				    "(%s/%s missing)", image, d->cloud,
				    d->images, vol);
	}
	virResetLastError();
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

static int resize_vol(virStorageVolPtr v, uint64_t mib, char *err)
{
	virStorageVolInfo info;

	if (virStorageVolGetInfo(v, &info) < 0)
		return virt_fail(err, "size of a disk");
	if (info.capacity >= mib << 20)
		return 0;
	if (virStorageVolResize(v, mib << 20, 0) < 0)
		return virt_fail(err, "growing a disk to %llu MiB",
				 (unsigned long long)mib);
	return 0;
}

static int lv_disk_create(struct virtdrv *vd, const char *uuid,
			  const char *image, uint64_t mib, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;
	virStoragePoolPtr ip = NULL, dp = NULL;
	virStorageVolPtr base = NULL, v = NULL;
	char xml[512], name[128];
	int r = 0;

	if (!uuid_valid(uuid) || !word_safe(image))
		return err_set(err, EINVAL, "bad disk or image name");
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	r = lv_reach(d, c, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	snprintf(name, sizeof name, "%s.qcow2", image);
	r = lv_pool(c, d->pool_images, true, &ip, err);
	if (r == 0)
		r = lv_pool(c, d->pool_disks, false, &dp, err);
	if (r)
		goto out;
	base = virStorageVolLookupByName(ip, name);
	if (!base) {
		r = err_set(err, ENOENT, "no image %s on cloud %s", image,
			    d->cloud);
		goto out;
	}
	snprintf(xml, sizeof xml,
		 "<volume type='file'><name>%s.qcow2</name>"
		 "<capacity unit='MiB'>%llu</capacity>"
		 "<target><format type='qcow2'/>"
		 "<permissions><mode>0600</mode></permissions></target>"
		 "</volume>", uuid, (unsigned long long)mib);
	v = virStorageVolCreateXMLFrom(dp, xml, base, 0);
	if (!v) {
		r = virt_fail(err, "making the disk of %s from %s", uuid,
			      image);
		goto out;
	}
	r = resize_vol(v, mib, err);
	if (r)
		virStorageVolDelete(v, 0);
out:
	virResetLastError();
	if (v)
		virStorageVolFree(v);
	if (base)
		virStorageVolFree(base);
	if (dp)
		virStoragePoolFree(dp);
	if (ip)
		virStoragePoolFree(ip);
	virConnectClose(c);
	return r;
}

/* Runs fn on the disk volume <uuid>.<ext>; -ENOENT if there is none. */
static int with_vol(struct libvirt_drv *d, const char *uuid, const char *ext,
		    bool refresh,
		    int (*fn)(virStorageVolPtr v, uint64_t arg, char *err),
		    uint64_t arg, char *err)
{
	virConnectPtr c;
	virStoragePoolPtr p;
	virStorageVolPtr v;
	char name[128];
	int r;

	if (!uuid_valid(uuid))
		return err_set(err, EINVAL, "bad disk name");
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	r = lv_pool(c, d->pool_disks, refresh, &p, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	snprintf(name, sizeof name, "%s.%s", uuid, ext);
	v = virStorageVolLookupByName(p, name);
	if (!v) {
		virResetLastError();
		r = -ENOENT;
	} else {
		r = fn ? fn(v, arg, err) : 0;
		virStorageVolFree(v);
	}
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

static int vol_resize(virStorageVolPtr v, uint64_t mib, char *err)
{
	return resize_vol(v, mib, err);
}

static int vol_delete(virStorageVolPtr v, uint64_t arg, char *err)
{
	(void)arg;
	if (virStorageVolDelete(v, 0) < 0)
		return virt_fail(err, "deleting a disk");
	return 0;
}

static int lv_disk_resize(struct virtdrv *vd, const char *uuid,
			  uint64_t mib, char *err)
{
	int r = with_vol(lv_of(vd), uuid, "qcow2", false, vol_resize, mib,
			 err);

	return r == -ENOENT ? 0 : r;   /* made at first start, at its size */
}

static int lv_disk_delete(struct virtdrv *vd, const char *uuid, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	int r = with_vol(d, uuid, "qcow2", true, vol_delete, 0, err);

	if (r && r != -ENOENT)
		return r;
	r = with_vol(d, uuid, "console", false, vol_delete, 0, err);
	return r == -ENOENT ? 0 : r;
}

static int lv_disk_exists(struct virtdrv *vd, const char *uuid, char *err)
{
	int r = with_vol(lv_of(vd), uuid, "qcow2", true, NULL, 0, err);

	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int vol_info(virStorageVolPtr v, uint64_t arg, char *err)
{
	virStorageVolInfo info;
	uint64_t *out = (uint64_t *)(uintptr_t)arg;

	if (virStorageVolGetInfo(v, &info) < 0)
		return virt_fail(err, "size of a disk");
	out[0] = info.capacity;
	out[1] = info.allocation;
	return 0;
}

static int lv_disk_info(struct virtdrv *vd, const char *uuid,
			uint64_t *capacity, uint64_t *allocation, char *err)
{
	uint64_t both[2] = { 0, 0 };
	int r = with_vol(lv_of(vd), uuid, "qcow2", true, vol_info,
			 (uint64_t)(uintptr_t)both, err);

	if (r == -ENOENT)
		return err_set(err, ENOENT, "disk of %s not found", uuid);
	*capacity = both[0];
	*allocation = both[1];
	return r;
}

static int lv_disk_room(struct virtdrv *vd, uint64_t *avail, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c = lv_conn(d, err);
	virStoragePoolPtr p;
	virStoragePoolInfo info;
	int r = 0;

	if (!c)
		return -EHOSTUNREACH;
	r = lv_pool(c, d->pool_disks, true, &p, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	if (virStoragePoolGetInfo(p, &info) < 0)
		r = virt_fail(err, "free space of pool %s", d->pool_disks);
	else
		*avail = info.available;
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

static int lv_disk_prepare(struct virtdrv *vd, const char *uuid,
			   uint64_t capacity, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;
	virStoragePoolPtr p;
	virStorageVolPtr v;
	char xml[512];
	int r = 0;

	if (!uuid_valid(uuid))
		return err_set(err, EINVAL, "bad disk name");
	r = with_vol(d, uuid, "qcow2", true, vol_delete, 0, err);
	if (r && r != -ENOENT)
		return r;
	r = 0;
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	r = lv_pool(c, d->pool_disks, false, &p, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	snprintf(xml, sizeof xml,
		 "<volume type='file'><name>%s.qcow2</name>"
		 "<capacity unit='bytes'>%llu</capacity>"
		 "<target><format type='qcow2'/>"
		 "<permissions><mode>0600</mode></permissions></target>"
		 "</volume>", uuid, (unsigned long long)capacity);
	v = virStorageVolCreateXML(p, xml, 0);
	if (!v)
		r = virt_fail(err, "making an empty disk for %s on cloud %s",
			      uuid, d->cloud);
	else
		virStorageVolFree(v);
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

static int lv_settle(struct virtdrv *vd, const char *uuid, int timeout_ms,
		     struct virt_settled *out, char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	int64_t deadline = clock_ms() + timeout_ms;
	virDomainJobInfo job;
	virDomainPtr dom;
	int r = 0, state, reason;

	if (!c)
		return -EHOSTUNREACH;
	dom = virDomainLookupByUUIDString(c, uuid);
	if (!dom) {
		r = virt_fail(err, "domain %s", uuid);
		virConnectClose(c);
		return r;
	}
	while (virDomainGetJobInfo(dom, &job) == 0 &&
	       job.type != VIR_DOMAIN_JOB_NONE && clock_ms() < deadline)
		usleep(100000);
	virResetLastError();
	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		r = virt_fail(err, "state of %s", uuid);
	} else {
		out->power = power_of_state(state);
		out->paused = state == VIR_DOMAIN_PAUSED;
	}
	virDomainFree(dom);
	virConnectClose(c);
	return r;
}

/* ---- live migration: libvirt's call runs in a thread of its own while
 * the caller's thread reports progress and watches for a cancel ---- */

struct lv_migration {
	virDomainPtr dom;
	virConnectPtr dconn;
	virTypedParameterPtr params;
	int nparams;
	unsigned flags;
	virDomainPtr ddom;        /* the result */
	int r;
	char err[ERRLEN];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void *mig_thread(void *arg)
{
	struct lv_migration *m = arg;
	virDomainPtr ddom = virDomainMigrate3(m->dom, m->dconn, m->params,
					      (unsigned)m->nparams, m->flags);
	int r = 0;

	if (!ddom)
		r = virt_fail(m->err, "live migration");
	pthread_mutex_lock(&m->lock);
	m->ddom = ddom;
	m->r = r;
	m->done = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static uint64_t param_ull(virTypedParameterPtr p, int n, const char *name)
{
	unsigned long long v = 0;

	if (virTypedParamsGetULLong(p, n, name, &v) != 1)
		v = 0;
	return v;
}

/* The longest pause QEMU may give the guest to send what is left: short
 * first (QEMU's own default is 300 ms), then doubled after every
 * MIG_PASSES_PER_STEP passes over memory that did not get there, up to
 * Nova's limit, so that a guest writing its memory fast still moves. */
#define MIG_DOWNTIME_FIRST_MS 30
#define MIG_DOWNTIME_LAST_MS 500
#define MIG_PASSES_PER_STEP 3

static void mig_downtime(virDomainPtr dom, uint64_t passes,
			 unsigned *downtime)
{
	unsigned want = MIG_DOWNTIME_FIRST_MS;
	uint64_t k;

	for (k = MIG_PASSES_PER_STEP; k < passes && want < MIG_DOWNTIME_LAST_MS;
	     k += MIG_PASSES_PER_STEP)
		want *= 2;
	if (want > MIG_DOWNTIME_LAST_MS)
		want = MIG_DOWNTIME_LAST_MS;
	if (want == *downtime)
		return;
	if (virDomainMigrateSetMaxDowntime(dom, want, 0) < 0) {
		virResetLastError();
		return;
	}
	if (*downtime)
		log_info("live migration: %llu passes over memory, pauses up "
			 "to %u ms now", (unsigned long long)passes, want);
	*downtime = want;
}

static void mig_progress(virDomainPtr dom, const struct virt_migration *mg,
			 unsigned *downtime)
{
	virTypedParameterPtr p = NULL;
	struct virt_progress pr = { 0 };
	int type, n = 0;

	if (virDomainGetJobStats(dom, &type, &p, &n, 0) < 0) {
		virResetLastError();
		return;
	}
	if (type != VIR_DOMAIN_JOB_NONE)
		mig_downtime(dom, param_ull(p, n,
					    VIR_DOMAIN_JOB_MEMORY_ITERATION),
			     downtime);
	if (type != VIR_DOMAIN_JOB_NONE && mg->progress) {
		pr.done = param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
		pr.total = param_ull(p, n, VIR_DOMAIN_JOB_DATA_TOTAL);
		pr.rate = param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_BPS) +
			  param_ull(p, n, VIR_DOMAIN_JOB_DISK_BPS);
		mg->progress(mg->ctx, &pr);
	}
	virTypedParamsFree(p, n);
}

/* What the finished job says: bytes, time, downtime. */
static bool mig_completed(virDomainPtr dom, struct virt_migrated *out)
{
	virTypedParameterPtr p = NULL;
	unsigned long long v;
	int type, n = 0;
	bool ok = false;

	if (dom && virDomainGetJobStats(dom, &type, &p, &n,
					VIR_DOMAIN_JOB_STATS_COMPLETED) == 0 &&
	    type == VIR_DOMAIN_JOB_COMPLETED) {
		out->bytes = param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
		if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED,
					    &v) == 1)
			out->total_ms = (int64_t)v;
		if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DOWNTIME,
					    &v) == 1)
			out->downtime_ms = (int64_t)v;
		ok = true;
	}
	virTypedParamsFree(p, n);
	virResetLastError();
	return ok;
}

static int lv_migrate(struct virtdrv *vd, struct virtdrv *vdst,
		      const struct virt_migration *mg,
		      struct virt_migrated *out, char *err)
{
	struct libvirt_drv *d = lv_of(vd), *t = lv_of(vdst);
	struct lv_migration m = { .r = 0 };
	struct strbuf x = STRBUF_INIT;
	virConnectPtr c = NULL, dc = NULL;
	char uri[64];
	int maxp = 0, r;
	int64_t started = clock_ms();
	bool aborted = false;
	unsigned downtime = 0;
	pthread_t th;

	out->bytes = 0;
	out->total_ms = 0;
	out->downtime_ms = -1;
	if ((r = domdef_check(mg->dom, err)))
		return r;
	if (!word_safe(mg->host) || strlen(mg->host) > 40)
		return err_set(err, EINVAL, "bad migration address");
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	dc = lv_conn(t, err);
	if (!dc) {
		virConnectClose(c);
		return -EHOSTUNREACH;
	}
	m.dom = lv_domain(c, mg->uuid, err);
	if (!m.dom) {
		r = -ENOENT;
		goto out;
	}
	domain_xml(t, mg->dom, &x);
	snprintf(uri, sizeof uri, "tcp://%s", mg->host);
	if (virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_URI, uri) < 0 ||
	    virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_DISKS_URI, uri) < 0 ||
	    virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_DEST_XML,
				    sb_str(&x)) < 0 ||
	    virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_PERSIST_XML,
				    sb_str(&x)) < 0 ||
	    (mg->bandwidth_mib &&
	     virTypedParamsAddULLong(&m.params, &m.nparams, &maxp,
				     VIR_MIGRATE_PARAM_BANDWIDTH,
				     mg->bandwidth_mib) < 0)) {
		r = virt_fail(err, "migration parameters");
		goto out;
	}
	m.dconn = dc;
	m.flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST |
		  VIR_MIGRATE_NON_SHARED_DISK | VIR_MIGRATE_ABORT_ON_ERROR;
	mig_downtime(m.dom, 0, &downtime);   /* set before: it is QEMU's */
	pthread_mutex_init(&m.lock, NULL);
	cond_init_monotonic(&m.cond);
	r = pthread_create(&th, NULL, mig_thread, &m);
	if (r) {
		r = err_set(err, r, "migration thread: %s", strerror(r));
		goto destroy;
	}
	pthread_mutex_lock(&m.lock);
	while (!m.done) {
		struct timespec until;

		deadline_in(&until, 250);
		pthread_cond_timedwait(&m.cond, &m.lock, &until);
		if (m.done)
			break;
		pthread_mutex_unlock(&m.lock);
		mig_progress(m.dom, mg, &downtime);
		if (!aborted && mg->cancelled && mg->cancelled(mg->ctx)) {
			log_info("cloud %s: cancelling the migration of %s",
				 d->cloud, mg->uuid);
			aborted = true;
			if (virDomainAbortJob(m.dom) < 0)
				virResetLastError();
		}
		pthread_mutex_lock(&m.lock);
	}
	pthread_mutex_unlock(&m.lock);
	pthread_join(th, NULL);
	r = m.r;
	if (r == 0) {
		if (!mig_completed(m.ddom, out))
			mig_completed(m.dom, out);
		if (!out->total_ms)
			out->total_ms = clock_ms() - started;
		virDomainFree(m.ddom);
	} else if (aborted) {
		r = err_set(err, EINTR, "migration cancelled: %s", m.err);
	} else if (err) {
		snprintf(err, ERRLEN, "%s", m.err);
	}
destroy:
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
out:
	virTypedParamsFree(m.params, m.nparams);
	if (m.dom)
		virDomainFree(m.dom);
	sb_free(&x);
	virConnectClose(dc);
	virConnectClose(c);
	return r;
}

static int lv_list(struct virtdrv *vd,
		   void (*fn)(void *ctx, const struct virt_seen *seen),
		   void *ctx, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c = lv_conn(d, err);
	virDomainPtr *doms = NULL;
	char want[96], alt[96];
	int i, n;

	if (!c)
		return -EHOSTUNREACH;
	snprintf(alt, sizeof alt, "instance='%s'", d->instance);
	n = virConnectListAllDomains(c, &doms, 0);
	if (n < 0) {
		n = virt_fail(err, "listing domains");
		virConnectClose(c);
		return n;
	}
	snprintf(want, sizeof want, "instance=\"%s\"", d->instance);
	for (i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		struct virt_seen s = { .uuid = uuid };
		char *meta;

		s.name = virDomainGetName(doms[i]);
		if (virDomainGetUUIDString(doms[i], uuid) < 0 ||
		    dom_power(doms[i], &s.power) < 0) {
			virDomainFree(doms[i]);
			continue;
		}
		meta = virDomainGetMetadata(doms[i],
					    VIR_DOMAIN_METADATA_ELEMENT,
					    META_NS, VIR_DOMAIN_AFFECT_CONFIG);
		/* libvirt writes the attribute back with either quote */
		s.ours = meta && (strstr(meta, want) || strstr(meta, alt));
		free(meta);
		virResetLastError();
		fn(ctx, &s);
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(c);
	return 0;
}

/* Our transient pools go with us; VMs do not need them to run, and the
 * next mount makes them again. */
static void pool_drop(virConnectPtr c, const char *name)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, name);

	if (p) {
		virStoragePoolDestroy(p);
		virStoragePoolFree(p);
	}
	virResetLastError();
}

/* A connector still waiting on a libvirtd that does not answer keeps
 * the driver until it ends (it then closes what it opened). */
static void lv_free(struct virtdrv *vd)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;

	if (d->timer >= 0)
		virEventRemoveTimeout(d->timer);
	pthread_mutex_lock(&d->lock);
	d->freed = true;
	drop_dead(d);
	c = d->conn;
	d->conn = NULL;
	pthread_mutex_unlock(&d->lock);
	if (c) {
		pool_drop(c, d->pool_images);
		pool_drop(c, d->pool_disks);
		if (d->event_id >= 0)
			virConnectDomainEventDeregisterAny(c, d->event_id);
		virConnectUnregisterCloseCallback(c, close_cb);
		virConnectClose(c);
	}
	drv_put(d);
}

static const struct virtdrv_ops libvirt_ops = {
	.define = lv_define,
	.undefine = lv_undefine,
	.start = lv_start,
	.stop = lv_stop,
	.power = lv_power,
	.image_check = lv_image_check,
	.disk_create = lv_disk_create,
	.disk_resize = lv_disk_resize,
	.disk_delete = lv_disk_delete,
	.disk_exists = lv_disk_exists,
	.disk_info = lv_disk_info,
	.disk_room = lv_disk_room,
	.disk_prepare = lv_disk_prepare,
	.settle = lv_settle,
	.migrate = lv_migrate,
	.list = lv_list,
	.warm = lv_warm,
	.status = lv_status,
	.free = lv_free,
};

struct virtdrv *virtdrv_libvirt_new(const struct virtdrv_conf *c, char *err)
{
	struct libvirt_drv *d;

	pthread_once(&virt_once, virt_init);
	if (virt_init_result) {
		err_set(err, EIO, "libvirt does not initialize");
		return NULL;
	}
	if (!path_safe(c->images) || !path_safe(c->disks) ||
	    !word_safe(c->instance) || strlen(c->uri) >= 256 ||
	    (c->netns && *c->netns && !word_safe(c->netns))) {
		err_set(err, EINVAL, "cloud %s: bad libvirt settings", c->cloud);
		return NULL;
	}
	d = calloc(1, sizeof *d);
	if (!d) {
		err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	d->base.ops = &libvirt_ops;
	snprintf(d->cloud, sizeof d->cloud, "%s", c->cloud);
	snprintf(d->uri, sizeof d->uri, "%s", c->uri);
	snprintf(d->domtype, sizeof d->domtype, "%s", c->domtype);
	snprintf(d->images, sizeof d->images, "%s", c->images);
	snprintf(d->disks, sizeof d->disks, "%s", c->disks);
	snprintf(d->instance, sizeof d->instance, "%s", c->instance);
	snprintf(d->netns, sizeof d->netns, "%s", c->netns ? c->netns : "");
	d->on_power = c->on_power;
	d->ctx = c->ctx;
	d->event_id = -1;
	pool_name("images", d->images, d->pool_images, sizeof d->pool_images);
	pool_name("disks", d->disks, d->pool_disks, sizeof d->pool_disks);
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->why_lock, NULL);
	cond_init_monotonic(&d->opened);
	d->refs = 1;
	d->timer = virEventAddTimeout(RECONNECT_MS, reconnect_tick, d, NULL);
	return &d->base;
}

void virtdrv_free(struct virtdrv *d)
{
	if (d)
		d->ops->free(d);
}
