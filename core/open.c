/* Opening and closing the model: the state directory and its lock, the
 * clouds file, state.yaml, and a network driver per cloud. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <yaml.h>

#include "../backend/host/link.h"
#include "../backend/remote/remote.h"
#include "../backend/remote/session.h"
#include "../backend/virt.h"
#include "config.h"
#include "events.h"
#include "janitor.h"
#include "repl.h"
#include "model.h"
#include "open.h"
#include "state.h"
#include "vm.h"

#define DEFAULT_STATEDIR "/var/lib/maasfs"
#define DEFAULT_DNSMASQ "/usr/sbin/dnsmasq"

void model_versions(char *buf, size_t len)
{
	char nl[32], virt[32], ssh[64];

	link_version(nl, sizeof nl);
	virt_version(virt, sizeof virt);
	sess_version(ssh, sizeof ssh);
	snprintf(buf, len, "%s, %s, libyaml %s, %s", nl, virt,
		 yaml_get_version_string(), ssh);
}

/* The local host's network driver, or a remote cloud's agent client. */
static struct hostdrv *real_hostdrv(const struct cloud *c, const char *marker,
				  const char *rundir, void *ctx, char *err)
{
	struct host_local_conf lc = { marker, rundir, ctx, c->disks,
					 c->images };
	struct remote_conf ac = {
		.cloud = c->name,
		.ssh = {
			.host = c->ssh.host, .port = c->ssh.port,
			.user = c->ssh.user, .key = c->ssh.key,
			.known_hosts = c->ssh.known_hosts,
			.netns = c->netns[0] ? c->netns : NULL,
			.timeout_ms = 5000,
		},
		.agent = c->agent,
		.statedir = c->agent_state,
		.disks = c->disks,
		.images = c->images,
		.marker = marker,
	};

	return c->remote ? remote_new(&ac, err)
			 : host_local_new(&lc, err);
}

static struct virtdrv *real_virtdrv(const struct cloud *c,
				    const struct virtdrv_conf *conf,
				    void *ctx, char *err)
{
	(void)c;
	(void)ctx;
	return virtdrv_libvirt_new(conf, err);
}

/* The libvirt domain type for a cloud's accel. "auto" never picks KVM:
 * on hosts where /dev/kvm exists but cannot run a guest (nested
 * machines, ours among them) KVM hangs, and TCG always works. */
static const char *domtype_of(const char *accel)
{
	return !strcmp(accel, "kvm") ? "kvm" : "qemu";
}

static int model_lock_statedir(struct model *m, char *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/lock", m->statedir);
	m->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lockfd < 0)
		return err_set(err, errno, "cannot open %s: %s", path,
			       strerror(errno));
	if (flock(m->lockfd, LOCK_EX | LOCK_NB) < 0)
		return err_set(err, errno == EWOULDBLOCK ? EBUSY : errno,
			       "another maasfs is using %s", m->statedir);
	return 0;
}

/* Each cloud's drivers, from the factories of o (or the real ones). */
static int drivers_open(struct model *m, const struct model_opts *o,
			char *err)
{
	const char *dnsmasq = o->dnsmasq ? o->dnsmasq : DEFAULT_DNSMASQ;
	hostdrv_factory factory = o->hostdrv_new ? o->hostdrv_new : real_hostdrv;
	void *ctx = o->hostdrv_new ? o->hostdrv_ctx : (void *)dnsmasq;
	virtdrv_factory vfactory = o->virtdrv_new ? o->virtdrv_new
						  : real_virtdrv;
	char marker[64], rundir[PATH_MAX];
	size_t i;

	snprintf(marker, sizeof marker, "maasfs:%s", m->instance);
	snprintf(rundir, sizeof rundir, "%s/dhcp", m->statedir);
	for (i = 0; i < m->nclouds; i++) {
		struct cloud *c = m->clouds[i];
		struct virtdrv_conf vc = {
			.cloud = c->name,
			.uri = c->uri,
			.domtype = domtype_of(c->accel),
			.images = c->images,
			.disks = c->disks,
			.instance = m->instance,
			.netns = c->netns[0] ? c->netns : NULL,
			.on_power = vm_power_event,
			.ctx = m,
		};

		c->host = factory(c, marker, rundir, ctx, err);
		if (c->host)
			c->virt = vfactory(c, &vc, o->virtdrv_ctx, err);
		if (!c->host || !c->virt)
			return -EIO;
	}
	return 0;
}

/* An empty model: its locks, events ring, janitor and settings. */
static struct model *model_new(const struct model_opts *o,
			       const char *statedir)
{
	struct model *m = calloc(1, sizeof *m);
	size_t i;

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	for (i = 0; i < ARRAY_SIZE(m->subnet_locks); i++)
		pthread_mutex_init(&m->subnet_locks[i], NULL);
	m->lockfd = -1;
	m->started = time(NULL);
	m->events = events_new();
	m->janitor = janitor_new(m);
	m->replicator = replicator_new(m);
	cond_init_monotonic(&m->repl_idle);
	if (!m->events || !m->janitor || !m->replicator) {
		events_free(m->events);
		janitor_free(m->janitor);
		replicator_free(m->replicator);
		free(m);
		return NULL;
	}
	m->vni_min = o->vni_min ? o->vni_min : 1;
	m->vni_max = o->vni_max ? o->vni_max : VNI_MAX;
	m->bandwidth_mib = o->bandwidth_mib;
	m->parallel = o->parallel ? o->parallel : MOVE_PARALLEL_DEFAULT;
	snprintf(m->statedir, sizeof m->statedir, "%s", statedir);
	return m;
}

int model_open(const struct model_opts *o, struct model **out, char *err)
{
	const char *statedir = o->statedir ? o->statedir : DEFAULT_STATEDIR;
	const char *dnsmasq = o->dnsmasq ? o->dnsmasq : DEFAULT_DNSMASQ;
	struct model *m;
	int r;

	if (!path_safe(statedir) || strlen(statedir) > DIR_MAXLEN - 32)
		return err_set(err, EINVAL, "state directory '%s' must be an "
			       "absolute path of [A-Za-z0-9/_.-]", statedir);
	if (!path_safe(dnsmasq))
		return err_set(err, EINVAL, "bad dnsmasq path '%s'", dnsmasq);
	m = model_new(o, statedir);
	if (!m)
		return err_set(err, ENOMEM, "out of memory");
	if (m->vni_min > m->vni_max || m->vni_max > VNI_MAX)
		r = err_set(err, EINVAL, "bad VNI range %u-%u", m->vni_min,
			    m->vni_max);
	else
		r = state_saver_start(m, err);
	if (r == 0 && (r = mkdir_p(statedir, 0755)))
		err_set(err, -r, "cannot create %s: %s", statedir,
			strerror(-r));
	if (r == 0)
		r = model_lock_statedir(m, err);
	if (r == 0)
		r = config_load(m, o->config, err);
	if (r == 0)
		r = state_load(m, err);
	if (r == 0)
		r = drivers_open(m, o, err);
	if (r) {
		model_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void model_free(struct model *m)
{
	size_t i;

	if (!m)
		return;
	replicator_free(m->replicator);   /* before the drivers, VMs */
	janitor_free(m->janitor);   /* before the drivers and VMs it uses */
	state_saver_stop(m);
	model_clear(m);
	events_shutdown(m->events);
	for (i = 0; i < m->nclouds; i++) {
		virtdrv_free(m->clouds[i]->virt);
		hostdrv_free(m->clouds[i]->host);
		sb_free(&m->clouds[i]->evac_failed);
		free(m->clouds[i]);
	}
	free(m->clouds);
	if (m->lockfd >= 0)
		close(m->lockfd);
	pthread_mutex_destroy(&m->lock);
	for (i = 0; i < ARRAY_SIZE(m->subnet_locks); i++)
		pthread_mutex_destroy(&m->subnet_locks[i]);
	events_free(m->events);
	sb_free(&m->plan);
	virt_events_stop();
	state_saver_free(m);
	free(m);
}

const char *model_statedir(const struct model *m)
{
	return m->statedir;
}

const char *model_instance(const struct model *m)
{
	return m->instance;
}

void model_set_interrupt(struct model *m, bool (*interrupted)(void))
{
	m->interrupted = interrupted;
}

void model_watch(struct model *m, void (*fn)(void *ctx, const char *tenant),
		 void *ctx)
{
	m->note_ctx = ctx;
	__atomic_store_n(&m->on_note, fn, __ATOMIC_RELEASE);
}
