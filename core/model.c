#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <yaml.h>

#include "../backend/link.h"
#include "../backend/virt.h"
#include "../backend/xfer.h"
#include "../lib/log.h"
#include "config.h"
#include "state.h"

#define DEFAULT_STATEDIR "/var/lib/maasfs"
#define DEFAULT_DNSMASQ "/usr/sbin/dnsmasq"

void model_versions(char *buf, size_t len)
{
	char nl[32], virt[32], ssh[64];

	link_version(nl, sizeof nl);
	virt_version(virt, sizeof virt);
	xfer_version(ssh, sizeof ssh);
	snprintf(buf, len, "%s, %s, libyaml %s, %s", nl, virt,
		 yaml_get_version_string(), ssh);
}

const char *obj_state_name(enum obj_state s)
{
	static const char *const names[] = {
		[OBJ_READY] = "ready",
		[OBJ_CREATING] = "creating",
		[OBJ_CHANGING] = "changing",
		[OBJ_DELETING] = "deleting",
		[OBJ_ERROR] = "error",
	};

	return names[s];
}

void obj_error_set(struct obj_error *e, const char *op, int code,
		   const char *msg)
{
	e->when = time(NULL);
	e->code = code;
	snprintf(e->op, sizeof e->op, "%s", op);
	snprintf(e->msg, sizeof e->msg, "%s", msg);
}

int name_check(const char *name, const char *what, char *err)
{
	size_t i, n = strlen(name);

	if (n == 0)
		return err_set(err, EINVAL, "%s name is empty", what);
	if (n > NAME_MAXLEN)
		return err_set(err, EINVAL, "%s name '%.40s...' is longer than "
			       "%d characters", what, name, NAME_MAXLEN);
	if (name[0] == '.' || name[0] == '-')
		return err_set(err, EINVAL, "%s name '%s' starts with '%c'",
			       what, name, name[0]);
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return err_set(err, EINVAL, "%s name '%.40s' has a "
				       "character outside [A-Za-z0-9_.-]",
				       what, name);
	}
	return 0;
}

struct tenant *tenant_new(const char *name, uint32_t id)
{
	struct tenant *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	snprintf(t->name, sizeof t->name, "%s", name);
	t->id = id;
	t->state = OBJ_READY;
	t->mtime = time(NULL);
	return t;
}

void tenant_free(struct tenant *t)
{
	struct subnet *s;
	size_t i;

	if (!t)
		return;
	objset_each(&t->subnets, i, s)
		subnet_free(s);
	objset_free(&t->subnets);
	objset_free(&t->vms);
	free(t);
}

struct subnet *subnet_new(struct tenant *t, const char *name,
			  const struct cidr *c, uint32_t vni,
			  struct cloud *home)
{
	struct subnet *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	snprintf(s->name, sizeof s->name, "%s", name);
	s->tenant = t;
	s->cidr = *c;
	s->vni = vni;
	s->home = home;
	s->state = OBJ_READY;
	s->mtime = time(NULL);
	return s;
}

void subnet_free(struct subnet *s)
{
	free(s);
}

void model_clear(struct model *m)
{
	struct tenant *t;
	size_t i;

	objset_each(&m->tenants, i, t)
		tenant_free(t);
	objset_free(&m->tenants);
	idset_free(&m->tenant_ids);
	idset_free(&m->vnis);
}

struct cloud *model_cloud(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nclouds; i++)
		if (!strcmp(m->clouds[i]->name, name))
			return m->clouds[i];
	return NULL;
}

struct cloud *model_default_cloud(const struct model *m)
{
	return m->clouds[0];
}

struct tenant *tenant_find(const struct model *m, const char *name)
{
	return objset_find(&m->tenants, name);
}

struct tenant *tenant_find_visible(const struct model *m, const char *name)
{
	struct tenant *t = tenant_find(m, name);

	return t && t->state != OBJ_CREATING ? t : NULL;
}

struct subnet *subnet_find(const struct tenant *t, const char *name)
{
	return objset_find(&t->subnets, name);
}

struct subnet *subnet_find_visible(const struct tenant *t, const char *name)
{
	struct subnet *s = subnet_find(t, name);

	return s && s->state != OBJ_CREATING ? s : NULL;
}

static bool path_safe(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '/' || *s == '_' ||
		      *s == '.' || *s == '-'))
			return false;
	return true;
}

static struct netdrv *real_netdrv(const struct cloud *c, const char *marker,
				  const char *rundir, void *ctx, char *err)
{
	const char *dnsmasq = ctx;

	(void)c;
	return netdrv_local_new(marker, rundir, dnsmasq, err);
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

int model_open(const struct model_opts *o, struct model **out, char *err)
{
	const char *statedir = o->statedir ? o->statedir : DEFAULT_STATEDIR;
	const char *dnsmasq = o->dnsmasq ? o->dnsmasq : DEFAULT_DNSMASQ;
	netdrv_factory factory = o->netdrv_new ? o->netdrv_new : real_netdrv;
	void *ctx = o->netdrv_new ? o->netdrv_ctx : (void *)dnsmasq;
	char marker[64], rundir[PATH_MAX];
	struct model *m;
	size_t i;
	int r;

	if (!path_safe(statedir) || strlen(statedir) > DIR_MAXLEN - 32)
		return err_set(err, EINVAL, "state directory '%s' must be an "
			       "absolute path of [A-Za-z0-9/_.-]", statedir);
	if (!path_safe(dnsmasq))
		return err_set(err, EINVAL, "bad dnsmasq path '%s'", dnsmasq);
	m = calloc(1, sizeof *m);
	if (!m)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->save_lock, NULL);
	m->lockfd = -1;
	m->started = time(NULL);
	m->vni_min = o->vni_min ? o->vni_min : 1;
	m->vni_max = o->vni_max ? o->vni_max : VNI_MAX;
	snprintf(m->statedir, sizeof m->statedir, "%s", statedir);
	if (m->vni_min > m->vni_max || m->vni_max > VNI_MAX) {
		r = err_set(err, EINVAL, "bad VNI range %u-%u", m->vni_min,
			    m->vni_max);
		goto fail;
	}
	r = mkdir_p(statedir, 0755);
	if (r) {
		err_set(err, -r, "cannot create %s: %s", statedir,
			strerror(-r));
		goto fail;
	}
	r = model_lock_statedir(m, err);
	if (r)
		goto fail;
	r = config_load(m, o->config, err);
	if (r)
		goto fail;
	r = state_load(m, err);
	if (r)
		goto fail;
	snprintf(marker, sizeof marker, "maasfs:%s", m->instance);
	snprintf(rundir, sizeof rundir, "%s/dhcp", m->statedir);
	for (i = 0; i < m->nclouds; i++) {
		m->clouds[i]->net = factory(m->clouds[i], marker, rundir, ctx,
					    err);
		if (!m->clouds[i]->net) {
			r = -EIO;
			goto fail;
		}
	}
	*out = m;
	return 0;
fail:
	model_free(m);
	return r;
}

void model_free(struct model *m)
{
	size_t i;

	if (!m)
		return;
	model_clear(m);
	for (i = 0; i < m->nclouds; i++) {
		netdrv_free(m->clouds[i]->net);
		free(m->clouds[i]);
	}
	free(m->clouds);
	if (m->lockfd >= 0)
		close(m->lockfd);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->save_lock);
	free(m);
}
