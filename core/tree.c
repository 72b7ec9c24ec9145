#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "dhcp.h"
#include "events.h"
#include "mig.h"
#include "ops.h"
#include "spec.h"
#include "submig.h"
#include "subnet.h"
#include "tenant.h"
#include "vm.h"

struct group {
	const char *name;
	enum node_kind kind;
};

struct kind_desc {
	const struct attr *attrs;     /* ends with {NULL} */
	const struct group *groups;   /* ends with {NULL} */
	enum node_kind child;         /* what mkdir makes here */
};

/* ---- show and store ---- */

static void show_error(const struct obj_error *e, struct strbuf *out)
{
	char when[32];
	struct tm tm;

	if (!e->code)
		return;
	gmtime_r(&e->when, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_printf(out, "last error: %s %s: %s: %s\n", when, e->op,
		  errno_name(e->code), e->msg);
}

static int show_cloud_uri(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->cloud->uri);
}

static int show_cloud_vtep(const struct model *m, const struct objref *o,
			   struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->cloud->vtep[0] ? o->cloud->vtep
							: "none");
}

/* From the cloud's background check: never a blocking read. */
static int show_cloud_status(const struct model *m, const struct objref *o,
			     struct strbuf *out)
{
	struct hostdrv *d = o->cloud->host;
	struct virtdrv *v = o->cloud->virt;
	struct strbuf why = STRBUF_INIT;
	size_t at = out->len;

	(void)m;
	d->ops->status(d, out);
	if (!strncmp(sb_str(out) + at, "up", 2) && v->ops->status &&
	    v->ops->status(v, &why)) {
		out->len = at;
		sb_printf(out, "down: %s", sb_str(&why));
	}
	sb_free(&why);
	return sb_puts(out, "\n");
}

static int show_cloud_vms(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	const struct tenant *t;
	const struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v)
			if (v->conf.location == o->cloud &&
			    v->state != OBJ_CREATING)
				sb_printf(out, "%s/%s\n", t->name, v->name);
	return 0;
}

static int show_tenant_id(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%u\n", o->tenant->id);
}

static int show_tenant_status(const struct model *m, const struct objref *o,
			      struct strbuf *out)
{
	const struct tenant *t = o->tenant;

	sb_printf(out, "%s\n", obj_state_name(t->state));
	sb_printf(out, "id: %u\n", t->id);
	sb_printf(out, "namespace: %s%s on %s\n", NET_NS_PREFIX, t->name,
		  model_default_cloud(m)->name);
	sb_printf(out, "subnets: %zu\n", t->subnets.n);
	sb_printf(out, "vms: %zu\n", t->vms.n);
	show_error(&t->error, out);
	return 0;
}

/* spec.yaml: its store is special (a document, applied at close). */
static int show_root_spec(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)o;
	return spec_show(m, NULL, out);
}

static int show_tenant_spec(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	return spec_show(m, o->tenant->name, out);
}

static int show_topology(const struct model *m, const struct objref *o,
			 struct strbuf *out)
{
	(void)o;
	return topology_show(m, out);
}

static int show_root_status(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	const struct tenant *t;
	size_t i, subnets = 0, vms = 0;

	(void)o;
	objset_each(&m->tenants, i, t) {
		subnets += t->subnets.n;
		vms += t->vms.n;
	}
	sb_printf(out, "ready\ninstance: %s\nclouds: %zu\ntenants: %zu\n"
		  "subnets: %zu\nvms: %zu\n", m->instance, m->nclouds,
		  m->tenants.n, subnets, vms);
	show_error(&m->error, out);
	return 0;
}

/* Streamed by fs/ from the events ring; a plain read shows nothing. */
static int show_events(const struct model *m, const struct objref *o,
		       struct strbuf *out)
{
	(void)m;
	(void)o;
	(void)out;
	return 0;
}

static int store_subnets_new(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	return subnet_create(m, n->tenant, value, err);
}

static int show_subnet_cidr(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	char buf[CIDR_STRLEN];

	(void)m;
	cidr_format(&o->subnet->cidr, buf);
	return sb_printf(out, "%s\n", buf);
}

static int show_subnet_gateway(const struct model *m, const struct objref *o,
			       struct strbuf *out)
{
	char buf[IP_STRLEN];

	(void)m;
	ip_format(cidr_gateway(&o->subnet->cidr), buf);
	return sb_printf(out, "%s\n", buf);
}

static int show_subnet_cloud(const struct model *m, const struct objref *o,
			     struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->subnet->home->name);
}

static int show_subnet_clouds(const struct model *m, const struct objref *o,
			      struct strbuf *out)
{
	uint64_t present = subnet_presence(m, o->subnet);
	size_t i;

	for (i = 0; i < m->nclouds; i++)
		if (present & (1ull << i))
			sb_printf(out, "%s\n", m->clouds[i]->name);
	return 0;
}

static int store_subnet_cloud(struct model *m, const struct node *n,
			      const char *value, char *err)
{
	return subnet_set_cloud(m, n->tenant, n->subnet, value, err);
}

static int show_subnet_vni(const struct model *m, const struct objref *o,
			   struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%u\n", o->subnet->vni);
}

static int show_subnet_bridge(const struct model *m, const struct objref *o,
			      struct strbuf *out)
{
	char br[NET_IFNAMSIZ];

	(void)m;
	net_bridge_name(o->subnet->vni, br);
	return sb_printf(out, "%s\n", br);
}

static void show_dhcp_line(const struct subnet *s, struct strbuf *out)
{
	struct hostdrv *d = s->home->host;
	int pid;

	if (!s->dhcp.on) {
		sb_puts(out, "off\n");
		return;
	}
	pid = d->ops->dhcp_pid(d, s->vni);
	if (pid > 0)
		sb_printf(out, "running pid %d\n", pid);
	else if (s->state == OBJ_ERROR && s->error.code)
		sb_printf(out, "not running: %s\n", s->error.msg);
	else if (s->dhcp.error.code)
		sb_printf(out, "not running: %s\n", s->dhcp.error.msg);
	else
		sb_puts(out, "not running: dnsmasq has exited\n");
}

static int show_subnet_status(const struct model *m, const struct objref *o,
			      struct strbuf *out)
{
	const struct subnet *s = o->subnet;
	char cidr[CIDR_STRLEN], gw[IP_STRLEN], br[NET_IFNAMSIZ];
	char gwif[NET_IFNAMSIZ];

	(void)m;
	cidr_format(&s->cidr, cidr);
	ip_format(cidr_gateway(&s->cidr), gw);
	net_bridge_name(s->vni, br);
	net_gwveth_name(s->vni, gwif);
	sb_printf(out, "%s\n", obj_state_name(s->state));
	sb_printf(out, "cidr: %s\n", cidr);
	sb_printf(out, "gateway: %s on %s in %s%s\n", gw, gwif, NET_NS_PREFIX,
		  s->tenant->name);
	sb_printf(out, "bridge: %s on %s\n", br, s->home->name);
	sb_printf(out, "vni: %u\n", s->vni);
	sb_printf(out, "mtu: %u\n", SUBNET_MTU);
	sb_puts(out, "dhcp: ");
	show_dhcp_line(s, out);
	if (s->move[0])
		sb_printf(out, "move: %s\n", s->move);
	show_error(&s->error, out);
	return 0;
}

static int show_dhcp_server(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	return show_subnet_gateway(m, o, out);
}

static int show_dhcp_range(const struct model *m, const struct objref *o,
			   struct strbuf *out)
{
	char buf[2 * IP_STRLEN];

	(void)m;
	ip_format_range(o->subnet->dhcp.first, o->subnet->dhcp.last, buf);
	return sb_printf(out, "%s\n", buf);
}

static int store_dhcp_range(struct model *m, const struct node *n,
			    const char *value, char *err)
{
	return dhcp_set_range(m, n->tenant, n->subnet, value, err);
}

static int show_dhcp_domain(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->subnet->dhcp.domain);
}

static int store_dhcp_domain(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	return dhcp_set_domain(m, n->tenant, n->subnet, value, err);
}

static int show_dhcp_hosts(const struct model *m, const struct objref *o,
			   struct strbuf *out)
{
	const struct vm *v;
	char ip[IP_STRLEN], label[64];
	size_t i;

	(void)m;
	objset_each(&o->tenant->vms, i, v) {
		if (!v->conf.ip || strcmp(v->conf.subnet, o->subnet->name) ||
		    v->state == OBJ_CREATING || v->state == OBJ_DELETING)
			continue;
		ip_format(v->conf.ip, ip);
		dns_label_of(v->name, strlen(v->name), label, sizeof label);
		sb_printf(out, "%s %s %s\n", v->mac, ip, label);
	}
	return 0;
}

static int show_dhcp_leases(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	struct hostdrv *d = o->subnet->home->host;

	(void)m;
	return d->ops->dhcp_leases(d, o->subnet->vni, out);
}

static int show_dhcp_status(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	(void)m;
	show_dhcp_line(o->subnet, out);
	show_error(&o->subnet->dhcp.error, out);
	return 0;
}

static int show_vm_subnet(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->vm->conf.subnet);
}

static int show_vm_vcpus(const struct model *m, const struct objref *o,
			 struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%u\n", o->vm->conf.vcpus);
}

static int show_vm_size(uint64_t mib, struct strbuf *out)
{
	char buf[32];

	size_format(mib, buf, sizeof buf);
	return sb_printf(out, "%s\n", buf);
}

static int show_vm_memory(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return show_vm_size(o->vm->conf.memory, out);
}

static int show_vm_disk(const struct model *m, const struct objref *o,
			struct strbuf *out)
{
	(void)m;
	return show_vm_size(o->vm->conf.disk, out);
}

static int show_vm_image(const struct model *m, const struct objref *o,
			 struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->vm->conf.image);
}

static int show_vm_mac(const struct model *m, const struct objref *o,
		       struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->vm->mac);
}

static int show_vm_ip(const struct model *m, const struct objref *o,
		      struct strbuf *out)
{
	char ip[IP_STRLEN] = "";

	(void)m;
	if (o->vm->conf.ip)
		ip_format(o->vm->conf.ip, ip);
	return sb_printf(out, "%s\n", ip);
}

static int show_vm_state(const struct model *m, const struct objref *o,
			 struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", vm_state_word(o->vm));
}

static int show_vm_location(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->vm->conf.location->name);
}

static int show_vm_migration(const struct model *m, const struct objref *o,
			     struct strbuf *out)
{
	(void)m;
	return mig_show(o->vm, out);
}

static int show_vm_console(const struct model *m, const struct objref *o,
			   struct strbuf *out)
{
	struct hostdrv *d = o->vm->conf.location->host;

	(void)m;
	return d->ops->console(d, o->vm->uuid, out);
}

static int show_vm_xml(const struct model *m, const struct objref *o,
		       struct strbuf *out)
{
	(void)m;
	return sb_puts(out, sb_str(&o->vm->xml));
}

static int show_vm_status(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	const struct vm *v = o->vm;
	char name[128], ip[IP_STRLEN] = "none", size[32];

	(void)m;
	virt_domain_name(v->tenant->name, v->name, name, sizeof name);
	if (v->conf.ip)
		ip_format(v->conf.ip, ip);
	size_format(v->conf.disk, size, sizeof size);
	sb_printf(out, "%s\n", vm_state_word(v));
	sb_printf(out, "cloud: %s\n", v->conf.location->name);
	sb_printf(out, "domain: %s %s\n", name, v->uuid);
	if (v->conf.subnet[0])
		sb_printf(out, "network: subnet %s, ip %s, mac %s\n",
			  v->conf.subnet, ip, v->mac);
	else
		sb_printf(out, "network: no subnet yet, mac %s\n", v->mac);
	sb_printf(out, "disk: %s from image %s, %s\n", size, v->conf.image,
		  v->disk_made ? "made" : "made at the first start");
	if (v->power == VIRT_POWER_UNKNOWN)
		sb_puts(out, "libvirt: unreachable, state unknown\n");
	show_error(&v->error, out);
	return 0;
}

static int store_vm(struct model *m, const struct node *n, const char *value,
		    char *err)
{
	return vm_set(m, n->tenant, n->vm, n->attr->name, value, err);
}

/* "CLOUD [mode=live|cold]" */
static int store_vm_location(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	char cloud[NAME_MAXLEN + 2] = "", mode[16] = "", extra;
	int k = sscanf(value, "%33s mode=%15s %c", cloud, mode, &extra);

	if (k < 1 || k > 2 || strlen(cloud) > NAME_MAXLEN ||
	    (k == 1 && strchr(value, ' ')) ||
	    (k == 2 && strcmp(mode, "live") && strcmp(mode, "cold")))
		return err_set(err, EINVAL, "location takes \"CLOUD "
			       "[mode=live|cold]\", not '%.60s'", value);
	return vm_relocate(m, n->tenant, n->vm, cloud, mode, err);
}

/* ---- the tree ---- */

static const struct attr cloud_attrs[] = {
	{ "uri", 0444, show_cloud_uri, NULL, false },
	{ "vtep", 0444, show_cloud_vtep, NULL, false },
	{ "status", 0444, show_cloud_status, NULL, true },
	{ "vms", 0444, show_cloud_vms, NULL, true },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr root_attrs[] = {
	{ "spec.yaml", 0644, show_root_spec, NULL, true },
	{ "events", 0444, show_events, NULL, true },
	{ "topology.dot", 0444, show_topology, NULL, true },
	{ "status", 0444, show_root_status, NULL, true },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr tenant_attrs[] = {
	{ "id", 0444, show_tenant_id, NULL, false },
	{ "status", 0444, show_tenant_status, NULL, true },
	{ "spec.yaml", 0644, show_tenant_spec, NULL, true },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr subnets_attrs[] = {
	{ "new", 0200, NULL, store_subnets_new, false },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr subnet_attrs[] = {
	{ "cidr", 0444, show_subnet_cidr, NULL, false },
	{ "gateway", 0444, show_subnet_gateway, NULL, false },
	{ "cloud", 0644, show_subnet_cloud, store_subnet_cloud, true },
	{ "clouds", 0444, show_subnet_clouds, NULL, true },
	{ "vni", 0444, show_subnet_vni, NULL, false },
	{ "bridge", 0444, show_subnet_bridge, NULL, false },
	{ "status", 0444, show_subnet_status, NULL, true },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr dhcp_attrs[] = {
	{ "server", 0444, show_dhcp_server, NULL, true },
	{ "range", 0644, show_dhcp_range, store_dhcp_range, false },
	{ "domain", 0644, show_dhcp_domain, store_dhcp_domain, false },
	{ "hosts", 0444, show_dhcp_hosts, NULL, true },
	{ "leases", 0444, show_dhcp_leases, NULL, OUTSIDE },
	{ "status", 0444, show_dhcp_status, NULL, true },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr vm_attrs[] = {
	{ "subnet", 0644, show_vm_subnet, store_vm, false },
	{ "vcpus", 0644, show_vm_vcpus, store_vm, false },
	{ "memory", 0644, show_vm_memory, store_vm, false },
	{ "disk", 0644, show_vm_disk, store_vm, false },
	{ "image", 0644, show_vm_image, store_vm, false },
	{ "mac", 0444, show_vm_mac, NULL, false },
	{ "ip", 0444, show_vm_ip, NULL, false },
	{ "state", 0644, show_vm_state, store_vm, true },
	{ "location", 0644, show_vm_location, store_vm_location, true },
	{ "migration", 0444, show_vm_migration, NULL, true },
	{ "console", 0444, show_vm_console, NULL, OUTSIDE },
	{ "xml", 0444, show_vm_xml, NULL, true },
	{ "status", 0444, show_vm_status, NULL, true },
	{ NULL, 0, NULL, NULL, false },
};

static const struct attr no_attrs[] = { { NULL, 0, NULL, NULL, false } };

static const struct group root_groups[] = {
	{ "clouds", NODE_CLOUDS },
	{ NULL, NODE_NONE },
};
static const struct group tenant_groups[] = {
	{ "subnets", NODE_SUBNETS },
	{ "vms", NODE_VMS },
	{ NULL, NODE_NONE },
};
static const struct group subnet_groups[] = {
	{ "dhcp", NODE_DHCP },
	{ NULL, NODE_NONE },
};
static const struct group no_groups[] = { { NULL, NODE_NONE } };

static const struct kind_desc kinds[NODE_KINDS] = {
	[NODE_ROOT] = { root_attrs, root_groups, NODE_TENANT },
	[NODE_CLOUDS] = { no_attrs, no_groups, NODE_CLOUD },
	[NODE_CLOUD] = { cloud_attrs, no_groups, NODE_NONE },
	[NODE_TENANT] = { tenant_attrs, tenant_groups, NODE_NONE },
	[NODE_SUBNETS] = { subnets_attrs, no_groups, NODE_SUBNET },
	[NODE_SUBNET] = { subnet_attrs, subnet_groups, NODE_NONE },
	[NODE_DHCP] = { dhcp_attrs, no_groups, NODE_NONE },
	[NODE_VMS] = { no_attrs, no_groups, NODE_VM },
	[NODE_VM] = { vm_attrs, no_groups, NODE_NONE },
};

void tree_root(struct node *n)
{
	memset(n, 0, sizeof *n);
	n->kind = NODE_ROOT;
}

int tree_step(const struct node *parent, const char *name,
	      struct node *child)
{
	const struct kind_desc *d = &kinds[parent->kind];
	const struct attr *a;
	const struct group *g;

	if (parent->attr)
		return -ENOTDIR;
	*child = *parent;
	for (a = d->attrs; a->name; a++)
		if (!strcmp(a->name, name)) {
			child->attr = a;
			child->file = a->name;
			return 0;
		}
	for (g = d->groups; g->name; g++)
		if (!strcmp(g->name, name)) {
			child->kind = g->kind;
			return 0;
		}
	switch (d->child) {
	case NODE_CLOUD:
		child->cloud = name;
		break;
	case NODE_TENANT:
		child->tenant = name;
		break;
	case NODE_SUBNET:
		child->subnet = name;
		break;
	case NODE_VM:
		child->vm = name;
		break;
	default:
		return -ENOENT;
	}
	child->kind = d->child;
	return 0;
}

int tree_walk(const char *path, char *buf, size_t len, struct node *n)
{
	size_t plen = strlen(path);
	char *s, *slash;
	int r;

	if (plen >= len)
		return -ENAMETOOLONG;
	memcpy(buf, path, plen + 1);
	tree_root(n);
	for (s = buf; *s; s = slash + 1) {
		struct node child;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		r = tree_step(n, s, &child);
		if (r)
			return r;
		*n = child;
		if (!slash)
			break;
	}
	return 0;
}

bool tree_changes(const struct node *n)
{
	return n->attr && n->attr->changes;
}

bool tree_outside(const struct node *n)
{
	return n->attr && n->attr->changes == OUTSIDE;
}

bool tree_name_reserved(enum node_kind kind, const char *name)
{
	const struct attr *a;
	const struct group *g;

	for (a = kinds[kind].attrs; a->name; a++)
		if (!strcmp(a->name, name))
			return true;
	for (g = kinds[kind].groups; g->name; g++)
		if (!strcmp(g->name, name))
			return true;
	return false;
}

static time_t node_mtime(const struct model *m, const struct objref *o)
{
	if (o->vm)
		return o->vm->mtime;
	if (o->subnet)
		return o->subnet->mtime;
	if (o->tenant)
		return o->tenant->mtime;
	return m->started;
}

enum tree_file tree_file_kind(const struct node *n)
{
	if (!n->attr)
		return TREE_FILE_NONE;
	if (n->kind == NODE_ROOT && !strcmp(n->attr->name, "events"))
		return TREE_FILE_EVENTS;
	if (!strcmp(n->attr->name, "spec.yaml") &&
	    (n->kind == NODE_ROOT || n->kind == NODE_TENANT))
		return TREE_FILE_SPEC;
	return TREE_FILE_VALUE;
}

struct events *tree_events(struct model *m)
{
	return m->events;
}

int tree_stat(struct model *m, const struct node *n, struct tree_stat *st)
{
	struct strbuf sb = STRBUF_INIT;
	struct objref o;
	int r;

	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&m->lock);
	r = node_resolve(m, n, &o);
	if (r == 0) {
		st->mtime = node_mtime(m, &o);
		if (o.tenant) {
			st->uid = o.tenant->uid;
			st->gid = o.tenant->gid;
		}
		if (!n->attr) {
			st->dir = true;
			st->mode = 0755;
			st->nlink = 2;
		} else {
			st->mode = n->attr->mode;
			st->nlink = 1;
			if (n->attr->show)
				r = n->attr->show(m, &o, &sb);
			st->size = sb.len;
		}
	}
	pthread_mutex_unlock(&m->lock);
	sb_free(&sb);
	return r < 0 ? r : 0;
}

/* A migration holds its object for long: the kernel would queue a second
 * writer of the same file behind the first (writes to one inode are
 * serialized), so a writer is refused at open instead, as the contract
 * says (EBUSY), while its VM migrates or its subnet moves. */
static bool busy_for_writers(const struct node *n, const struct objref *o)
{
	if (n->kind == NODE_VM && o->vm)
		return mig_running(o->vm->mig.phase);
	if ((n->kind == NODE_SUBNET || n->kind == NODE_DHCP) && o->subnet)
		return o->subnet->moving_to != NULL;
	return false;
}

int tree_open(struct model *m, const struct node *n, bool rd, bool wr)
{
	struct objref o;
	bool busy = false;
	int r;

	pthread_mutex_lock(&m->lock);
	r = node_resolve(m, n, &o);
	if (r == 0 && wr && n->attr)
		busy = busy_for_writers(n, &o);
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	if (!n->attr)
		return wr ? -EISDIR : 0;
	if ((rd && !(n->attr->mode & 0444)) || (wr && !(n->attr->mode & 0200)))
		return -EACCES;
	return busy ? -EBUSY : 0;
}

int tree_read(struct model *m, const struct node *n, struct strbuf *out)
{
	struct objref o;
	int r;

	if (!n->attr)
		return -EISDIR;
	if (!n->attr->show)
		return -EACCES;
	pthread_mutex_lock(&m->lock);
	r = node_resolve(m, n, &o);
	if (r == 0)
		r = n->attr->show(m, &o, out);
	pthread_mutex_unlock(&m->lock);
	return r < 0 ? r : 0;
}

/* A trailing newline and surrounding blanks are ignored; a second line or
 * a NUL is EINVAL. */
static int value_normalize(const char *buf, size_t len, char *out,
			   char *err)
{
	size_t a = 0, b = len;

	if (len > TREE_VALUE_MAX)
		return err_set(err, EINVAL, "value longer than %d bytes",
			       TREE_VALUE_MAX);
	if (memchr(buf, '\0', len))
		return err_set(err, EINVAL, "value contains a NUL byte");
	while (b > 0 && (buf[b - 1] == '\n' || buf[b - 1] == '\r' ||
			 buf[b - 1] == ' ' || buf[b - 1] == '\t'))
		b--;
	while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
		a++;
	if (memchr(buf + a, '\n', b - a) || memchr(buf + a, '\r', b - a))
		return err_set(err, EINVAL, "one line expected");
	memcpy(out, buf + a, b - a);
	out[b - a] = '\0';
	return 0;
}

static int do_write(struct model *m, const struct node *n, const char *buf,
		    size_t len, char *err)
{
	char value[TREE_VALUE_MAX + 1];
	int r;

	if (!n->attr)
		return -EISDIR;
	if (tree_file_kind(n) == TREE_FILE_SPEC) {
		char path[512];

		r = spec_apply(m, n->tenant, buf, len, err);
		node_path(n, path, sizeof path);
		if (r > 0)
			events_emit(m->events, path, "applied: %d changes", r);
		return r < 0 ? r : 0;
	}
	if (!n->attr->store)
		return err_set(err, EACCES, "%s is read-only", n->attr->name);
	r = value_normalize(buf, len, value, err);
	if (r == 0)
		r = n->attr->store(m, n, value, err);
	return r;
}

int tree_write(struct model *m, const struct node *n, const char *buf,
	       size_t len)
{
	char err[ERRLEN] = "";
	bool spec = tree_file_kind(n) == TREE_FILE_SPEC;
	int r = do_write(m, n, buf, len, err);

	/* a document is not an event's one value; its steps were events */
	if (!spec || r < 0)
		op_done(m, n, "write", spec ? NULL : buf, len, r, err);
	return r < 0 ? r : (int)len;
}

int tree_truncate(struct model *m, const struct node *n, size_t size)
{
	int r = tree_open(m, n, false, true);

	if (r == 0 && size != 0)
		r = -EINVAL;
	return r;
}

int tree_mkdir(struct model *m, const struct node *n)
{
	char err[ERRLEN] = "";

	return op_done(m, n, "mkdir", NULL, 0, op_mkdir(m, n, err), err);
}

int tree_rmdir(struct model *m, const struct node *n)
{
	char err[ERRLEN] = "";

	return op_done(m, n, "rmdir", NULL, 0, op_rmdir(m, n, err), err);
}

int tree_unlink(struct model *m, const struct node *n)
{
	struct tree_stat st;
	int r = tree_stat(m, n, &st);

	if (r)
		return r;
	if (!n->attr)
		return -EISDIR;
	op_record_error(m, n, "unlink", EPERM,
		     "attribute files cannot be removed");
	return -EPERM;
}

int tree_chown(struct model *m, const struct node *n, uint32_t uid,
	       uint32_t gid)
{
	char err[ERRLEN] = "";
	int r;

	if (n->kind == NODE_TENANT && !n->attr)
		r = tenant_chown(m, n->tenant, uid, gid, err);
	else
		r = err_set(err, EPERM, "only a tenant directory changes owner");
	return op_done(m, n, "chown", NULL, 0, r, err);
}

int tree_readdir(struct model *m, const struct node *n, tree_fill_fn fill,
		 void *ctx)
{
	const struct kind_desc *d = &kinds[n->kind];
	const struct attr *a;
	const struct group *g;
	struct objref o;
	const struct tenant *t;
	const struct subnet *s;
	const struct vm *v;
	size_t i;
	int r;

	if (n->attr)
		return -ENOTDIR;
	pthread_mutex_lock(&m->lock);
	r = node_resolve(m, n, &o);
	if (r)
		goto out;
	for (a = d->attrs; a->name; a++)
		fill(ctx, a->name, false);
	for (g = d->groups; g->name; g++)
		if (g->kind != NODE_DHCP || o.subnet->dhcp.on)
			fill(ctx, g->name, true);
	switch (n->kind) {
	case NODE_ROOT:
		objset_each(&m->tenants, i, t)
			if (t->state != OBJ_CREATING)
				fill(ctx, t->name, true);
		break;
	case NODE_CLOUDS:
		for (i = 0; i < m->nclouds; i++)
			fill(ctx, m->clouds[i]->name, true);
		break;
	case NODE_SUBNETS:
		objset_each(&o.tenant->subnets, i, s)
			if (s->state != OBJ_CREATING)
				fill(ctx, s->name, true);
		break;
	case NODE_VMS:
		objset_each(&o.tenant->vms, i, v)
			if (v->state != OBJ_CREATING)
				fill(ctx, v->name, true);
		break;
	default:
		break;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}
