/* VMs: a persistent libvirt domain per VM, its disk made from an image at
 * its first start, its DHCP reservation in its subnet's dnsmasq. Like
 * every operation of the model, each one reserves its VM under the lock,
 * does the slow work (libvirt, dnsmasq) without it, and commits or undoes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../lib/log.h"
#include "external.h"
#include "dhcp.h"
#include "names.h"
#include "ports.h"
#include "render.h"
#include "subnet.h"
#include "txn.h"
#include "vm.h"

const char *vm_state_word(const struct vm *v)
{
	if (mig_running(v->mig.phase))
		return "migrating";
	if (v->state == OBJ_ERROR)
		return "error";
	switch (v->power) {
	case VIRT_POWER_RUNNING:
		return "running";
	case VIRT_POWER_STOPPED:
		return "stopped";
	default:
		return "error";
	}
}

static int random_fill(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static bool mac_taken(const struct model *m, const char *mac)
{
	const struct tenant *t;
	const struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v)
			if (!strcmp(v->mac, mac))
				return true;
	return false;
}

/* A random UUID and a MAC (52:54:00, QEMU's prefix) no other VM has. */
int vm_uuid_new(char out[VIRT_UUID_LEN + 1])
{
	unsigned char u[16];
	int r = random_fill(u, sizeof u);

	if (r)
		return r;
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(out, VIRT_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
		 u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
	return 0;
}

static int vm_identity(const struct model *m, struct vm *v)
{
	unsigned char b[3];
	int r, tries;

	r = vm_uuid_new(v->uuid);
	if (r)
		return r;
	for (tries = 0; tries < 100; tries++) {
		r = random_fill(b, sizeof b);
		if (r)
			return r;
		snprintf(v->mac, sizeof v->mac, "52:54:00:%02x:%02x:%02x",
			 b[0], b[1], b[2]);
		if (!mac_taken(m, v->mac))
			return 0;
	}
	return -ENOSPC;
}

/* The one subnet of a tenant, when it has exactly one. */
static struct subnet *only_subnet(const struct tenant *t)
{
	struct subnet *s, *found = NULL;
	size_t i, n = 0;

	objset_each(&t->subnets, i, s)
		if (s->state == OBJ_READY || s->state == OBJ_ERROR) {
			found = s;
			n++;
		}
	return n == 1 ? found : NULL;
}

static struct subnet *conf_subnet(const struct vm *v, const struct vm_conf *c)
{
	return c->subnet[0] ? subnet_find(v->tenant, c->subnet) : NULL;
}

/* Looks a VM up for an operation: ENOENT, or EBUSY while another one
 * holds it. The caller holds the lock. */
static int vm_get(struct model *m, const char *tname, const char *name,
		  struct vm **out, char *err)
{
	struct tenant *t = tenant_find_visible(m, tname);
	struct vm *v = t ? vm_find_visible(t, name) : NULL;

	if (!v)
		return err_set(err, ENOENT, "no VM %s in tenant %s", name,
			       tname);
	if (v->state != OBJ_READY && v->state != OBJ_ERROR)
		return err_set(err, EBUSY, "VM %s is %s", name,
			       obj_state_name(v->state));
	*out = v;
	return 0;
}

/* A new VM, reserved (CREATING) in tenant t under the lock: its identity,
 * its place (the tenant's one subnet, if it has exactly one, and its
 * cloud) and an address there. */
/* The VM of t whose DNS name (dnsmasq's host name, in the tenant's one
 * domain) name would also get: "a_b", "a.b" and "A-B" are all "a-b". */
static const struct vm *dns_twin(const struct tenant *t, const char *name)
{
	char want[64], have[64];
	const struct vm *v;
	size_t i;

	dns_label_of(name, strlen(name), want, sizeof want);
	objset_each(&t->vms, i, v) {
		dns_label_of(v->name, strlen(v->name), have, sizeof have);
		if (!strcmp(want, have))
			return v;
	}
	return NULL;
}

static int vm_reserve(struct model *m, const char *tname, const char *name,
		      struct vm **out, char *err)
{
	const struct vm *twin;
	struct tenant *t = tenant_find_visible(m, tname);
	struct subnet *s;
	struct vm *v = NULL;
	int r = 0;

	if (!t)
		return err_set(err, ENOENT, "no tenant %s", tname);
	if (t->state != OBJ_READY && t->state != OBJ_ERROR)
		return err_set(err, EBUSY, "tenant %s is %s", tname,
			       obj_state_name(t->state));
	if (vm_find(t, name))
		return err_set(err, EEXIST, "VM %s exists in tenant %s", name,
			       tname);
	if ((twin = dns_twin(t, name)))
		return err_set(err, EEXIST, "VM %s would have the DNS name of "
			       "VM %s in tenant %s", name, twin->name, tname);
	if (!(v = vm_new(t, name)))
		return err_set(err, ENOMEM, "out of memory");
	if ((r = vm_identity(m, v)))
		err_set(err, -r, "no identity for a new VM: %s", strerror(-r));
	s = only_subnet(t);
	v->conf.location = s && !s->home->draining ? s->home
						   : model_place_default(m);
	if (r == 0)
		r = cloud_takes(v->conf.location, err);
	if (r == 0 && s) {
		snprintf(v->conf.subnet, sizeof v->conf.subnet, "%s", s->name);
		v->conf.ip = subnet_free_ip(s, v->mac);
		if (!v->conf.ip)
			r = err_set(err, ENOSPC, "no free address in subnet %s",
				    s->name);
	}
	if (r == 0)
		r = quota_check(t, 0, NULL, &v->conf, err);
	if (r == 0 && (r = objset_add(&t->vms, v)))
		err_set(err, -r, "out of memory");
	if (r) {
		vm_free(v);
		return r;
	}
	v->state = OBJ_CREATING;
	*out = v;
	return 0;
}

/* Defined in libvirt, its reservation in dnsmasq, on disk: or none. */
static int vm_make(struct model *m, struct vm *v, struct virtdrv *virt,
		   const struct virt_domain *dom, const char *subnet,
		   char *err)
{
	struct strbuf xml = STRBUF_INIT;
	const char *tname = v->tenant->name;
	bool first;
	int r = 0;

	/* the first domain ever: said in the state before it exists, so that
	 * a crash before its VM is saved leaves one the sweep will look for */
	pthread_mutex_lock(&m->lock);
	first = !m->domains_made;
	m->domains_made = true;
	pthread_mutex_unlock(&m->lock);
	if (first && (r = txn_once(m, NULL, err))) {
		pthread_mutex_lock(&m->lock);
		m->domains_made = false;
		pthread_mutex_unlock(&m->lock);
		return r;
	}
	r = virt->ops->define(virt, dom, &xml, err);

	if (r == 0 && subnet[0]) {
		r = subnet_dhcp_refresh(m, tname, subnet, NULL, err);
		if (r)
			virt->ops->undefine(virt, v->uuid, NULL);
	}
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		v->state = OBJ_READY;
		sb_free(&v->xml);
		v->xml = xml;
		xml = (struct strbuf)STRBUF_INIT;
		pthread_mutex_unlock(&m->lock);
		r = txn_once(m, NULL, err);
		if (r)
			virt->ops->undefine(virt, v->uuid, NULL);
	}
	sb_free(&xml);
	if (r && first) {   /* undone: nothing was made */
		pthread_mutex_lock(&m->lock);
		m->domains_made = false;
		pthread_mutex_unlock(&m->lock);
		txn_once(m, NULL, NULL);
	}
	return r;
}

int vm_create(struct model *m, const char *tname, const char *name,
	      char *err)
{
	struct virt_domain dom;
	char bridge[NET_IFNAMSIZ], subnet[NAME_MAXLEN + 1];
	struct virtdrv *virt;
	struct vm *v = NULL;
	int r;

	r = name_check(name, "VM", err);
	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	r = vm_reserve(m, tname, name, &v, err);
	if (r == 0) {
		vm_domain(v, &v->conf, conf_subnet(v, &v->conf), &dom, bridge);
		snprintf(subnet, sizeof subnet, "%s", v->conf.subnet);
		virt = v->conf.location->virt;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	r = vm_make(m, v, virt, &dom, subnet, err);
	if (r) {
		pthread_mutex_lock(&m->lock);
		objset_del(&v->tenant->vms, v);
		pthread_mutex_unlock(&m->lock);
		if (subnet[0])
			subnet_dhcp_refresh(m, tname, subnet, NULL, NULL);
		vm_free(v);
		return r;
	}
	log_info("VM %s/%s defined (%s, %s%s)", tname, name, v->uuid,
		 subnet[0] ? "on " : "no subnet yet", subnet);
	return 0;
}

/* Its domain (which can be put back if the disk stays), then its disk
 * (which cannot). */
static int vm_unmake(struct virtdrv *virt, const struct virt_domain *dom,
		     char *err)
{
	int r = virt->ops->undefine(virt, dom->uuid, err);

	if (r == 0 && (r = virt->ops->disk_delete(virt, dom->uuid, err)))
		virt->ops->define(virt, dom, NULL, NULL);
	return r;
}

/* EBUSY while it runs or a floating address points at it. */
static int deletable(const struct vm *v, char *err)
{
	if (v->power != VIRT_POWER_STOPPED)
		return err_set(err, EBUSY, "VM %s is %s: stop it first",
			       v->name, vm_state_word(v));
	if (v->test.phase != TEST_NONE)
		return err_set(err, EBUSY, "VM %s has a test on cloud %s: "
			       "end it first (write end to its test)",
			       v->name, v->test.cloud->name);
	if (v->repl.cloud)
		return err_set(err, EBUSY, "VM %s replicates to cloud %s: "
			       "stop it first (write stop to its "
			       "replication)", v->name, v->repl.cloud->name);
	return floating_busy(v->tenant, v->name, err);
}

int vm_delete(struct model *m, const char *tname, const char *name,
	      char *err)
{
	struct virt_domain dom;
	char bridge[NET_IFNAMSIZ], subnet[NAME_MAXLEN + 1];
	enum obj_state prev = OBJ_READY;
	struct virtdrv *virt = NULL;
	struct vm *v = NULL;
	struct txn x;
	int r;

	pthread_mutex_lock(&m->lock);
	r = vm_get(m, tname, name, &v, err);
	if (r == 0)
		r = deletable(v, err);
	if (r == 0) {
		prev = v->state;
		v->state = OBJ_DELETING;
		virt = v->conf.location->virt;
		vm_domain(v, &v->conf, conf_subnet(v, &v->conf), &dom,
			  bridge);
		snprintf(subnet, sizeof subnet, "%s", v->conf.subnet);
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;

	/* Off the state first: a crash from here leaves a domain the sweep
	 * of the next mount removes. */
	txn_begin(&x, m, NULL);
	r = txn_ahead(&x, err);
	if (r == 0)
		r = vm_unmake(virt, &dom, err);
	if (r) {
		pthread_mutex_lock(&m->lock);
		v->state = prev;
		pthread_mutex_unlock(&m->lock);
		txn_commit(&x, NULL);   /* it is listed again */
		return r;
	}
	txn_end(&x);
	if (subnet[0] && subnet_dhcp_refresh(m, tname, subnet, v->mac, NULL))
		log_warnx("VM %s/%s: its reservation stays in dnsmasq until "
			  "the next change of subnet %s", tname, name, subnet);
	pthread_mutex_lock(&m->lock);
	objset_del(&v->tenant->vms, v);
	pthread_mutex_unlock(&m->lock);
	if (ports_sync(m, tname, NULL, NULL))
		log_warnx("VM %s/%s deleted, but its port's rules stay for "
			  "now", tname, name);
	/* Its cloud may no longer need the subnet. */
	if (subnet[0] && subnet_spread(m, tname, subnet, err))
		log_warnx("VM %s/%s deleted, but subnet %s could not leave "
			  "its cloud: %s", tname, name, subnet, err);
	log_info("VM %s/%s deleted with its disk", tname, name);
	vm_free(v);
	return 0;
}

static int not_running(const struct vm *v, const char *attr, char *err)
{
	if (v->power == VIRT_POWER_STOPPED)
		return 0;
	return err_set(err, EBUSY, "%s changes only while the VM is stopped "
		       "(it is %s)", attr, vm_state_word(v));
}

/* The change of one attribute: validated against the model (the caller
 * holds the lock) into the new configuration c; EINVAL for a value out of
 * bounds, then EBUSY for a VM in no state to take it. */
struct vm_change {
	const char *attr;
	int (*edit)(struct model *m, const struct vm *v, struct vm_conf *c,
		    const struct vm_change *ch, char *err);
	uint64_t num;
	const char *str;
};

static int edit_vcpus(struct model *m, const struct vm *v, struct vm_conf *c,
		      const struct vm_change *ch, char *err)
{
	(void)m;
	if (ch->num < 1 || ch->num > VM_VCPUS_MAX)
		return err_set(err, EINVAL, "vcpus must be a number from 1 to "
			       "%d, not %llu", VM_VCPUS_MAX,
			       (unsigned long long)ch->num);
	c->vcpus = (unsigned)ch->num;
	return not_running(v, ch->attr, err);
}

static int edit_memory(struct model *m, const struct vm *v, struct vm_conf *c,
		       const struct vm_change *ch, char *err)
{
	char a[16], b[16];

	(void)m;
	if (ch->num < VM_MEMORY_MIN || ch->num > VM_MEMORY_MAX) {
		size_format(VM_MEMORY_MIN, a, sizeof a);
		size_format(VM_MEMORY_MAX, b, sizeof b);
		return err_set(err, EINVAL, "memory must be from %s to %s", a,
			       b);
	}
	c->memory = ch->num;
	return not_running(v, ch->attr, err);
}

static int edit_disk(struct model *m, const struct vm *v, struct vm_conf *c,
		     const struct vm_change *ch, char *err)
{
	char a[16], b[16];

	(void)m;
	size_format(v->conf.disk, a, sizeof a);
	size_format(VM_DISK_MIN, b, sizeof b);
	/* A disk not made yet has nothing to lose: any size. */
	if (ch->num < v->conf.disk && v->disk_made)
		return err_set(err, EINVAL, "disks only grow (it is %s)", a);
	if (ch->num < VM_DISK_MIN)
		return err_set(err, EINVAL, "disk smaller than %s", b);
	if (ch->num > VM_DISK_MAX)
		return err_set(err, EINVAL, "disk larger than 16T");
	if (ch->num != v->conf.disk && v->repl.cloud)
		return err_set(err, EBUSY, "VM %s replicates to cloud %s: its "
			       "replica has the disk's size (write stop to its "
			       "replication first)", v->name,
			       v->repl.cloud->name);
	c->disk = ch->num;
	return ch->num == v->conf.disk ? 0 : not_running(v, ch->attr, err);
}

/* name and presence on the VM's cloud were checked by vm_set_image */
static int edit_image(struct model *m, const struct vm *v, struct vm_conf *c,
		      const struct vm_change *ch, char *err)
{
	int r;

	(void)m;
	snprintf(c->image, sizeof c->image, "%s", ch->str);
	if (!strcmp(ch->str, v->conf.image))
		return 0;
	r = not_running(v, ch->attr, err);
	if (r == 0 && v->disk_made)
		r = err_set(err, EBUSY, "the VM's disk is made from image %s "
			    "already", v->conf.image);
	return r;
}

static int edit_subnet(struct model *m, const struct vm *v, struct vm_conf *c,
		       const struct vm_change *ch, char *err)
{
	struct subnet *s;
	int r;

	(void)m;
	r = name_check(ch->str, "subnet", err);
	if (r)
		return r;
	s = subnet_find_visible(v->tenant, ch->str);
	if (!s || s->state == OBJ_DELETING)
		return err_set(err, ENOENT, "no subnet %s in tenant %s",
			       ch->str, v->tenant->name);
	if (!strcmp(ch->str, v->conf.subnet))
		return 0;
	r = floating_busy(v->tenant, v->name, err);
	if (r == 0)
		r = not_running(v, ch->attr, err);
	if (r)
		return r;
	snprintf(c->subnet, sizeof c->subnet, "%s", ch->str);
	if (!v->disk_made)   /* a VM that never ran goes with it */
		c->location = s->home;
	c->ip = subnet_free_ip(s, v->mac);
	if (!c->ip)
		return err_set(err, ENOSPC, "no free address in subnet %s",
			       ch->str);
	return 0;
}

static int edit_location(struct model *m, const struct vm *v,
			 struct vm_conf *c, const struct vm_change *ch,
			 char *err)
{
	struct cloud *to;
	int r;

	r = name_check(ch->str, "cloud", err);
	if (r)
		return r;
	to = model_cloud(m, ch->str);
	if (!to)
		return err_set(err, ENOENT, "no cloud %s", ch->str);
	if (to == v->conf.location)
		return 0;
	if ((r = cloud_takes(to, err)))
		return r;
	/* Only a VM that has never run is placed (vm_relocate). */
	if (v->disk_made || v->power != VIRT_POWER_STOPPED)
		return err_set(err, EBUSY, "VM %s has run: it migrates",
			       v->name);
	c->location = to;
	return 0;
}

static bool conf_same(const struct vm_conf *a, const struct vm_conf *b)
{
	return !strcmp(a->subnet, b->subnet) && a->vcpus == b->vcpus &&
	       a->memory == b->memory && a->disk == b->disk &&
	       !strcmp(a->image, b->image) && a->ip == b->ip &&
	       a->location == b->location;
}

/* Re-tells both subnets' dnsmasq (the one the VM left, the one it joined)
 * who is where; the VM's lease goes from the one it left. */
static int refresh_subnets(struct model *m, const char *tname,
			   const char *left, const char *joined,
			   const char *mac, char *err)
{
	bool moved = strcmp(left, joined) != 0;
	int r = 0;

	if (left[0])
		r = subnet_dhcp_refresh(m, tname, left, moved ? mac : NULL,
					err);
	if (r == 0 && joined[0] && moved)
		r = subnet_dhcp_refresh(m, tname, joined, NULL, err);
	return r;
}

/* Brings both subnets a change touches (the one left, the one joined) onto
 * the clouds their VMs need. */
static int spread_both(struct model *m, const char *tname, const char *a,
		       const char *b, char *err)
{
	int r = 0;

	if (a[0])
		r = subnet_spread(m, tname, a, err);
	if (r == 0 && b[0] && strcmp(a, b))
		r = subnet_spread(m, tname, b, err);
	return r;
}

/* Makes the backend match a VM's new configuration: its disk grown, its
 * subnets spread to where it now is (the network is there before the
 * domain), its domain defined there (and gone from where it was), the
 * reservations moved; on any failure the old configuration is put back
 * everywhere. The VM is reserved (CHANGING) by the caller. */
static int vm_apply(struct model *m, struct vm *v, const struct vm_conf *old,
		    const struct vm_conf *new, const struct virt_domain *dold,
		    const struct virt_domain *dnew, bool disk_made,
		    struct strbuf *xml, char *err)
{
	struct virtdrv *vo = old->location->virt, *vn = new->location->virt;
	const char *t = v->tenant->name;
	bool moved = vo != vn;
	bool resubnet = strcmp(old->subnet, new->subnet) || old->ip != new->ip;
	bool defined = false;
	int r = 0;

	if (disk_made && new->disk > old->disk)
		r = vo->ops->disk_resize(vo, v->uuid, new->disk, err);
	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	v->conf = *new;
	pthread_mutex_unlock(&m->lock);
	if (moved || resubnet)
		r = spread_both(m, t, old->subnet, new->subnet, err);
	if (r == 0) {
		r = vn->ops->define(vn, dnew, xml, err);
		defined = r == 0;
	}
	if (r == 0 && moved)
		r = vo->ops->undefine(vo, v->uuid, err);
	if (r == 0 && resubnet)
		r = refresh_subnets(m, t, old->subnet, new->subnet, v->mac,
				    err);
	if (r == 0)
		r = txn_once(m, NULL, err);
	if (r == 0)
		return 0;
	/* Put the old configuration back everywhere. */
	pthread_mutex_lock(&m->lock);
	v->conf = *old;
	pthread_mutex_unlock(&m->lock);
	if (resubnet)
		refresh_subnets(m, t, new->subnet, old->subnet, v->mac, NULL);
	if (moved && defined)
		vn->ops->undefine(vn, v->uuid, NULL);
	vo->ops->define(vo, dold, NULL, NULL);
	if (moved || resubnet)
		spread_both(m, t, new->subnet, old->subnet, NULL);
	return r;
}

static int vm_configure(struct model *m, const char *tname, const char *name,
			const struct vm_change *ch, char *err)
{
	struct strbuf xml = STRBUF_INIT;
	struct virt_domain dnew, dold;
	char bnew[NET_IFNAMSIZ], bold[NET_IFNAMSIZ];
	char snew[NAME_MAXLEN + 1], sold[NAME_MAXLEN + 1];
	struct vm_conf old, new;
	enum obj_state prev = OBJ_READY;
	struct vm *v = NULL;
	bool disk_made = false;
	int r;

	pthread_mutex_lock(&m->lock);
	r = vm_get(m, tname, name, &v, err);
	if (r == 0) {
		old = new = v->conf;
		r = ch->edit(m, v, &new, ch, err);
		if (r == 0)
			r = quota_check(v->tenant, 0, &old, &new, err);
	}
	if (r || conf_same(&old, &new)) {
		pthread_mutex_unlock(&m->lock);
		return r;
	}
	prev = v->state;
	v->state = OBJ_CHANGING;
	disk_made = v->disk_made;
	vm_domain(v, &old, conf_subnet(v, &old), &dold, bold);
	vm_domain(v, &new, conf_subnet(v, &new), &dnew, bnew);
	snprintf(sold, sizeof sold, "%s", old.subnet);
	snprintf(snew, sizeof snew, "%s", new.subnet);
	pthread_mutex_unlock(&m->lock);

	r = vm_apply(m, v, &old, &new, &dold, &dnew, disk_made, &xml, err);
	pthread_mutex_lock(&m->lock);
	if (r == 0) {
		sb_free(&v->xml);
		v->xml = xml;
		xml = (struct strbuf)STRBUF_INIT;
		v->mtime = time(NULL);
	}
	v->state = prev;
	pthread_mutex_unlock(&m->lock);
	sb_free(&xml);
	if (r == 0 && ports_sync(m, tname, NULL, NULL))
		log_warnx("VM %s/%s: its port's rules are behind (the next "
			  "start writes them)", tname, name);
	if (r == 0 && ch->str)
		log_info("VM %s/%s: %s = %s", tname, name, ch->attr, ch->str);
	else if (r == 0)
		log_info("VM %s/%s: %s = %llu", tname, name, ch->attr,
			 (unsigned long long)ch->num);
	return r;
}

static const char *const power_words[] = {
	[VM_START] = "start", [VM_STOP] = "stop", [VM_RESTART] = "restart",
};

/* A power change: what it needs of the VM, taken under the lock. */
struct power_job {
	enum vm_power_op op;
	bool start, stop;
	struct vm *v;
	enum obj_state prev;
	struct virtdrv *virt;
	bool disk_made;
	uint64_t disk;
	struct virt_domain dom;
	char bridge[NET_IFNAMSIZ];
};

/* Takes the VM for job (CHANGING) under the lock: 1 when there is
 * nothing to do (started or stopped already), 0, or -errno. */
static int power_take(struct model *m, const char *tname, const char *name,
		      struct power_job *j, char *err)
{
	struct subnet *s;
	struct vm *v;
	int r = vm_get(m, tname, name, &v, err);

	if (r)
		return r;
	if ((j->op == VM_START && v->power == VIRT_POWER_RUNNING) ||
	    (j->op == VM_STOP && v->power == VIRT_POWER_STOPPED))
		return 1;
	if (j->start) {
		s = conf_subnet(v, &v->conf);
		if (!v->conf.subnet[0])
			return err_set(err, EINVAL, "VM %s has no subnet: "
				       "write one to its subnet file", name);
		if (!s || s->state == OBJ_CREATING || s->state == OBJ_DELETING)
			return err_set(err, ENOENT, "no subnet %s",
				       v->conf.subnet);
		vm_domain(v, &v->conf, s, &j->dom, j->bridge);
	}
	j->v = v;
	j->prev = v->state;
	v->state = OBJ_CHANGING;
	j->virt = v->conf.location->virt;
	j->disk_made = v->disk_made;
	j->disk = v->conf.disk;
	return 0;
}

/* The slow part, without the lock: stop, then the disk (at the first
 * start), the definition and the start; a disk made now goes again if
 * the start fails. */
static int power_do(struct model *m, struct power_job *j, struct strbuf *xml,
		    char *err)
{
	struct virtdrv *virt = j->virt;
	const char *uuid = j->v->uuid;
	bool made_now = false;
	int r = 0;

	if (j->stop && j->v->power != VIRT_POWER_STOPPED)
		r = virt->ops->stop(virt, uuid, VM_STOP_GRACE_MS, err);
	if (r == 0 && j->stop) {
		pthread_mutex_lock(&m->lock);
		j->v->power = VIRT_POWER_STOPPED;
		pthread_mutex_unlock(&m->lock);
	}
	if (r || !j->start)
		return r;
	if (!j->disk_made) {
		r = virt->ops->disk_create(virt, uuid, j->dom.image, j->disk,
					   err);
		made_now = r == 0;
	}
	if (r == 0)
		r = virt->ops->define(virt, &j->dom, xml, err);
	if (r == 0)
		r = virt->ops->start(virt, uuid, err);
	if (r && made_now)
		virt->ops->disk_delete(virt, uuid, NULL);
	return r;
}

int vm_power(struct model *m, const char *tname, const char *name,
	     enum vm_power_op op, char *err)
{
	struct power_job j = { .op = op };
	struct strbuf xml = STRBUF_INIT;
	struct vm *v;
	int r;

	j.start = op == VM_START || op == VM_RESTART;
	j.stop = op == VM_STOP || op == VM_RESTART;
	pthread_mutex_lock(&m->lock);
	r = power_take(m, tname, name, &j, err);
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r > 0 ? 0 : r;
	/* a VM never runs without its port's rules */
	r = j.start ? ports_sync(m, tname, j.v->conf.location, err) : 0;
	if (r == 0)
		r = power_do(m, &j, &xml, err);
	v = j.v;
	pthread_mutex_lock(&m->lock);
	if (r == 0 && j.start) {
		v->disk_made = true;
		v->power = VIRT_POWER_RUNNING;
		sb_free(&v->xml);
		v->xml = xml;
		xml = (struct strbuf)STRBUF_INIT;
	}
	if (r == 0)
		v->mtime = time(NULL);
	v->state = j.prev == OBJ_ERROR && r == 0 ? OBJ_READY : j.prev;
	pthread_mutex_unlock(&m->lock);
	sb_free(&xml);
	if (r == 0) {
		txn_once(m, NULL, NULL);
		log_info("VM %s/%s: %s", tname, name, power_words[op]);
	}
	return r;
}

int vm_set_vcpus(struct model *m, const char *tenant, const char *name,
		 unsigned n, char *err)
{
	struct vm_change ch = { "vcpus", edit_vcpus, n, NULL };

	return vm_configure(m, tenant, name, &ch, err);
}

int vm_set_memory(struct model *m, const char *tenant, const char *name,
		  uint64_t mib, char *err)
{
	struct vm_change ch = { "memory", edit_memory, mib, NULL };

	return vm_configure(m, tenant, name, &ch, err);
}

int vm_set_disk(struct model *m, const char *tenant, const char *name,
		uint64_t mib, char *err)
{
	struct vm_change ch = { "disk", edit_disk, mib, NULL };

	return vm_configure(m, tenant, name, &ch, err);
}

/* An image must exist on the VM's cloud: asked before anything, and
 * without the lock (it is a libvirt call). */
static int image_ready(struct model *m, const char *tenant, const char *name,
		       const char *image, char *err)
{
	struct virtdrv *virt = NULL;
	struct vm *v = NULL;
	int r = name_check(image, "image", err);

	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	r = vm_get(m, tenant, name, &v, err);
	virt = r ? NULL : v->conf.location->virt;
	pthread_mutex_unlock(&m->lock);
	return r ? r : virt->ops->image_check(virt, image, err);
}

int vm_set_image(struct model *m, const char *tenant, const char *name,
		 const char *image, char *err)
{
	struct vm_change ch = { "image", edit_image, 0, image };
	int r = image_ready(m, tenant, name, image, err);

	return r ? r : vm_configure(m, tenant, name, &ch, err);
}

int vm_set_subnet(struct model *m, const char *tenant, const char *name,
		  const char *subnet, char *err)
{
	struct vm_change ch = { "subnet", edit_subnet, 0, subnet };

	return vm_configure(m, tenant, name, &ch, err);
}

int vm_place(struct model *m, const char *tenant, const char *name,
	     const char *cloud, char *err)
{
	struct vm_change ch = { "location", edit_location, 0, cloud };

	return vm_configure(m, tenant, name, &ch, err);
}

void vm_power_event(void *model, const char *cloud, const char *uuid,
		    enum virt_power power)
{
	struct model *m = model;
	struct vm *v;
	bool changed = false;

	if (power == VIRT_POWER_UNKNOWN)
		return;
	pthread_mutex_lock(&m->lock);
	v = vm_find_uuid(m, uuid);
	/* Only the VM's own cloud speaks for it: a migration leaves a
	 * stopped copy on the source for a while; and while it migrates,
	 * the engine says what its power is. */
	if (v && (strcmp(v->conf.location->name, cloud) ||
		  mig_running(v->mig.phase)))
		v = NULL;
	if (v && v->power != power) {
		log_info("VM %s/%s is %s", v->tenant->name, v->name,
			 power == VIRT_POWER_RUNNING ? "running" : "stopped");
		v->power = power;
		v->mtime = time(NULL);
		changed = true;
		model_note(m, v->tenant->name);
	}
	pthread_mutex_unlock(&m->lock);
	if (changed)
		txn_once(m, NULL, NULL);
}

/* ---- a plan's VMs (plan.h): the checks above, on a model that is a
 * plan's copy, with the clouds only asked what they hold ---- */

int vm_plan_create(struct model *m, const char *tname, const char *name,
		   char *err)
{
	struct vm *v = NULL;
	int r = name_check(name, "VM", err);

	if (r)
		return r;
	pthread_mutex_lock(&m->lock);
	r = vm_reserve(m, tname, name, &v, err);
	if (r == 0) {
		v->state = OBJ_READY;
		v->power = VIRT_POWER_STOPPED;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

int vm_plan_delete(struct model *m, const char *tname, const char *name,
		   char *err)
{
	struct vm *v = NULL;
	int r;

	pthread_mutex_lock(&m->lock);
	r = vm_get(m, tname, name, &v, err);
	if (r == 0)
		r = deletable(v, err);
	if (r == 0)
		objset_del(&v->tenant->vms, v);
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		vm_free(v);
	return r;
}

int vm_plan_set(struct model *m, const char *tname, const char *name,
		const char *attr, uint64_t num, const char *str, char *err)
{
	static const struct vm_change edits[] = {
		{ "vcpus", edit_vcpus, 0, NULL },
		{ "memory", edit_memory, 0, NULL },
		{ "disk", edit_disk, 0, NULL },
		{ "image", edit_image, 0, NULL },
		{ "subnet", edit_subnet, 0, NULL },
		{ "location", edit_location, 0, NULL },
	};
	struct vm_change ch = { NULL, NULL, num, str };
	struct vm_conf old, new;
	struct vm *v = NULL;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(edits) && !ch.edit; i++)
		if (!strcmp(edits[i].attr, attr))
			ch = (struct vm_change){ attr, edits[i].edit, num, str };
	if (!ch.edit)
		return err_set(err, EINVAL, "no VM attribute %s", attr);
	if (!strcmp(attr, "image") && (r = image_ready(m, tname, name, str,
							err)))
		return r;
	pthread_mutex_lock(&m->lock);
	r = vm_get(m, tname, name, &v, err);
	if (r == 0) {
		old = new = v->conf;
		r = ch.edit(m, v, &new, &ch, err);
	}
	if (r == 0)
		r = quota_check(v->tenant, 0, &old, &new, err);
	if (r == 0)
		v->conf = new;
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* A start needs the VM's cloud to answer, and, for its first, the image
 * its disk is made from there. */
static int start_ready(struct virtdrv *virt, const char *image,
		       bool disk_made, char *err)
{
	struct strbuf why = STRBUF_INIT;
	int r = virt->ops->status ? virt->ops->status(virt, &why) : 0;

	if (r)
		err_set(err, -r, "%s", sb_str(&why));
	sb_free(&why);
	if (r == 0 && !disk_made)
		r = virt->ops->image_check(virt, image, err);
	return r;
}

int vm_plan_power(struct model *m, const char *tname, const char *name,
		  enum vm_power_op op, char *err)
{
	struct power_job j = { .op = op };
	char image[NAME_MAXLEN + 1] = "";
	int r;

	j.start = op == VM_START || op == VM_RESTART;
	j.stop = op == VM_STOP || op == VM_RESTART;
	pthread_mutex_lock(&m->lock);
	r = power_take(m, tname, name, &j, err);
	if (r == 0) {
		j.v->state = j.prev;
		snprintf(image, sizeof image, "%s", j.v->conf.image);
	}
	pthread_mutex_unlock(&m->lock);
	if (r == 0 && j.start)
		r = start_ready(j.virt, image, j.disk_made, err);
	if (r)
		return r > 0 ? 0 : r;
	pthread_mutex_lock(&m->lock);
	j.v->power = j.start ? VIRT_POWER_RUNNING : VIRT_POWER_STOPPED;
	j.v->disk_made = j.v->disk_made || j.start;
	pthread_mutex_unlock(&m->lock);
	return 0;
}
