/* The connection (lv.h): libvirt's errors as errno, the event loop,
 * one connection per cloud opened by a connector thread and kept alive
 * with its pools over our folders, its status; a driver made and freed. */
#include "lv.h"

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

#include "../../lib/log.h"
#include "../host/netns.h"

void virt_version(char *buf, size_t len)
{
	unsigned long v = 0;

	if (virGetVersion(&v, NULL, NULL) < 0)
		v = LIBVIR_VERSION_NUMBER;
	snprintf(buf, len, "libvirt %lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
		 v % 1000);
}

/* The one place libvirt's error space becomes errno, with its message. */

int lv_fail(char *err, const char *fmt, ...)
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
		case VIR_ERR_SSH:
		case VIR_ERR_LIBSSH:
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
			    e->domain == VIR_FROM_RPC ||
			    e->domain == VIR_FROM_SSH ||
			    e->domain == VIR_FROM_LIBSSH)
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

enum virt_power lv_power_of(int state)
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
void lv_pool_name(const char *kind, const char *dir, char *buf,
		  size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (; *dir; dir++)
		h = (h ^ (unsigned char)*dir) * 1099511628211ull;
	snprintf(buf, len, "maasfs-%s-%016llx", kind, (unsigned long long)h);
}

int lv_pool_ensure(virConnectPtr conn, const char *name, const char *dir,
		   char *err)
{
	char xml[PATH_MAX + 256];
	virStoragePoolPtr p = virStoragePoolLookupByName(conn, name);
	int r = 0;

	if (p) {
		if (virStoragePoolIsActive(p) != 1 &&
		    virStoragePoolCreate(p, VIR_STORAGE_POOL_CREATE_WITH_BUILD))
			r = lv_fail(err, "starting pool %s", name);
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
		return lv_fail(err, "making pool %s for %s", name, dir);
	virStoragePoolFree(p);
	return 0;
}

/* Our transient pools go with us; VMs do not need them to run, and the
 * next mount makes them again. */
void lv_pool_drop(virConnectPtr c, const char *name)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, name);

	if (p) {
		virStoragePoolDestroy(p);
		virStoragePoolFree(p);
	}
	virResetLastError();
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
		lv_fail(e, "cannot connect to libvirt at %s", d->uri);
		snprintf(why, ERRLEN, "%s", e);
		return NULL;
	}
	if (virConnectSetKeepAlive(c, KEEPALIVE_S, KEEPALIVE_COUNT) < 0)
		virResetLastError();
	virConnectRegisterCloseCallback(c, close_cb, d, NULL);
	*event_id = virConnectDomainEventRegisterAny(
		c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), d, NULL);
	if (lv_pool_ensure(c, d->pool_images, d->images, e) ||
	    lv_pool_ensure(c, d->pool_disks, d->disks, e)) {
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
virConnectPtr lv_conn(struct libvirt_drv *d, char *err)
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

/* A connection of one caller's own, opened by a thread of its own so
 * that a libvirtd that does not answer costs the caller CONNECT_WAIT_MS at
 * most: the thread closes what it opens too late. */
struct own_open {
	struct libvirt_drv *d;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	virConnectPtr c;
	char why[ERRLEN];
	bool done, abandoned;
	int refs;                  /* the caller and the thread */
};

static void own_put(struct own_open *o)
{
	bool last;

	pthread_mutex_lock(&o->lock);
	last = --o->refs == 0;
	pthread_mutex_unlock(&o->lock);
	if (!last)
		return;
	drv_put(o->d);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static void *own_opener(void *arg)
{
	struct own_open *o = arg;
	virConnectPtr c = open_in_netns(o->d);
	char why[ERRLEN] = "";

	if (!c)
		lv_fail(why, "cannot connect to libvirt at %s", o->d->uri);
	else if (virConnectSetKeepAlive(c, KEEPALIVE_S, KEEPALIVE_COUNT) < 0)
		virResetLastError();
	pthread_mutex_lock(&o->lock);
	if (!o->abandoned) {
		o->c = c;
		c = NULL;
	}
	snprintf(o->why, sizeof o->why, "%s", why);
	o->done = true;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
	if (c)
		virConnectClose(c);
	own_put(o);
	return NULL;
}

struct own_open *lv_conn_own_begin(struct libvirt_drv *d)
{
	struct own_open *o = calloc(1, sizeof *o);
	pthread_attr_t attr;
	pthread_t th;

	if (!o)
		return NULL;
	o->d = d;
	o->refs = 2;
	pthread_mutex_init(&o->lock, NULL);
	cond_init_monotonic(&o->cond);
	pthread_mutex_lock(&d->lock);
	d->refs++;
	pthread_mutex_unlock(&d->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, own_opener, o)) {
		o->refs = 1;
		own_put(o);
		o = NULL;
	}
	pthread_attr_destroy(&attr);
	return o;
}

virConnectPtr lv_conn_own_wait(struct libvirt_drv *d, struct own_open *o,
			       char *err)
{
	virConnectPtr c = NULL;
	struct timespec until;

	if (!o) {
		err_set(err, EAGAIN, "cloud %s: cannot start a thread", d->cloud);
		return NULL;
	}
	deadline_in(&until, CONNECT_WAIT_MS);
	pthread_mutex_lock(&o->lock);
	while (!o->done &&
	       pthread_cond_timedwait(&o->cond, &o->lock, &until) != ETIMEDOUT)
		;
	if (o->done && o->c)
		c = o->c;
	else if (o->done)
		err_set(err, EHOSTUNREACH, "cloud %s: %s", d->cloud, o->why);
	else
		err_set(err, EHOSTUNREACH, "cloud %s: libvirtd does not answer "
			"(%d s)", d->cloud, CONNECT_WAIT_MS / 1000);
	o->abandoned = !o->done;
	pthread_mutex_unlock(&o->lock);
	own_put(o);
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
				    lv_power_of(state));
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

void lv_warm(struct virtdrv *vd)
{
	struct libvirt_drv *d = lv_of(vd);

	pthread_mutex_lock(&d->lock);
	d->wanted = true;
	connect_start(d);
	pthread_mutex_unlock(&d->lock);
}

/* Down once someone needed libvirt and it has not answered: a connection
 * being opened counts as up for its first seconds (a reconnect). */
int lv_status(struct virtdrv *vd, struct strbuf *why)
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

/* A connector still waiting on a libvirtd that does not answer keeps
 * the driver until it ends (it then closes what it opened). */
void lv_free(struct virtdrv *vd)
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
		lv_pool_drop(c, d->pool_images);
		lv_pool_drop(c, d->pool_disks);
		if (d->event_id >= 0)
			virConnectDomainEventDeregisterAny(c, d->event_id);
		virConnectUnregisterCloseCallback(c, close_cb);
		virConnectClose(c);
	}
	drv_put(d);
}

struct libvirt_drv *lv_new(const struct virtdrv_conf *c, char *err)
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
	lv_pool_name("images", d->images, d->pool_images, sizeof d->pool_images);
	lv_pool_name("disks", d->disks, d->pool_disks, sizeof d->pool_disks);
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->why_lock, NULL);
	cond_init_monotonic(&d->opened);
	d->refs = 1;
	d->timer = virEventAddTimeout(RECONNECT_MS, reconnect_tick, d, NULL);
	return d;
}
