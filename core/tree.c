#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "attr.h"
#include "events.h"
#include "model.h"
#include "ops.h"
#include "spec.h"
#include "tenant.h"

struct group {
	const char *name;
	enum node_kind kind;
};

struct kind_desc {
	const struct attr *attrs;     /* ends with {NULL} */
	const struct group *groups;   /* ends with {NULL} */
	enum node_kind child;         /* what mkdir makes here */
};

/* ---- the tree ---- */

static const struct attr no_attrs[] = { { NULL, 0, NULL, NULL, CHANGE_OP } };

static const struct group root_groups[] = {
	{ "clouds", NODE_CLOUDS },
	{ NULL, NODE_NONE },
};
static const struct group tenant_groups[] = {
	{ "subnets", NODE_SUBNETS },
	{ "vms", NODE_VMS },
	{ "floating", NODE_FLOATINGS },
	{ "secgroups", NODE_SECGROUPS },
	{ NULL, NODE_NONE },
};
static const struct group subnet_groups[] = {
	{ "dhcp", NODE_DHCP },
	{ NULL, NODE_NONE },
};
static const struct group no_groups[] = { { NULL, NODE_NONE } };

static const struct kind_desc kinds[NODE_KINDS] = {
	[NODE_ROOT] = { attrs_root, root_groups, NODE_TENANT },
	[NODE_CLOUDS] = { no_attrs, no_groups, NODE_CLOUD },
	[NODE_CLOUD] = { attrs_cloud, no_groups, NODE_NONE },
	[NODE_TENANT] = { attrs_tenant, tenant_groups, NODE_NONE },
	[NODE_SUBNETS] = { attrs_subnets, no_groups, NODE_SUBNET },
	[NODE_SUBNET] = { attrs_subnet, subnet_groups, NODE_NONE },
	[NODE_DHCP] = { attrs_dhcp, no_groups, NODE_NONE },
	[NODE_VMS] = { no_attrs, no_groups, NODE_VM },
	[NODE_VM] = { attrs_vm, no_groups, NODE_NONE },
	[NODE_FLOATINGS] = { attrs_floatings, no_groups, NODE_FLOATING },
	[NODE_FLOATING] = { attrs_floating, no_groups, NODE_NONE },
	[NODE_SECGROUPS] = { no_attrs, no_groups, NODE_SECGROUP },
	[NODE_SECGROUP] = { attrs_secgroup, no_groups, NODE_NONE },
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
	case NODE_FLOATING:
		child->floating = name;
		break;
	case NODE_SECGROUP:
		child->secgroup = name;
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

enum attr_change tree_changes(const struct node *n)
{
	/* a directory's names change with the objects in it */
	return n->attr ? n->attr->changes : CHANGE_MODEL;
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

/* A list, one item a line, written whole and applied at close like a
 * document (a group's rules: printf writes them line by line). */
static bool lines_file(const struct node *n)
{
	return n->attr && n->kind == NODE_SECGROUP &&
	       !strcmp(n->attr->name, "rules");
}

enum tree_file tree_file_kind(const struct node *n)
{
	if (!n->attr)
		return TREE_FILE_NONE;
	if (n->kind == NODE_ROOT && !strcmp(n->attr->name, "events"))
		return TREE_FILE_EVENTS;
	if (((!strcmp(n->attr->name, "spec.yaml") ||
	      !strcmp(n->attr->name, "plan")) &&
	     (n->kind == NODE_ROOT || n->kind == NODE_TENANT)) ||
	    lines_file(n))
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
			/* a tenant is its owner's and root's alone */
			st->mode = n->kind == NODE_TENANT ? 0700 : 0755;
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

int tree_ident(struct model *m, const struct node *n, struct tree_ident *id)
{
	struct objref o;
	int r;

	memset(id, 0, sizeof *id);
	pthread_mutex_lock(&m->lock);
	r = node_resolve(m, n, &o);
	if (r == 0 && o.tenant) {
		id->tenant = o.tenant->serial;
		id->owner = o.tenant->uid;
	}
	if (r == 0 && o.subnet)
		id->subnet = o.subnet->serial;
	if (r == 0 && o.vm)
		id->vm = o.vm->serial;
	pthread_mutex_unlock(&m->lock);
	return r;
}

int tree_same(struct model *m, const struct node *n,
	      const struct tree_ident *id, uint32_t uid)
{
	struct tree_ident now;
	int r = tree_ident(m, n, &now);

	if (r == -ENOENT || (r == 0 && (now.tenant != id->tenant ||
					now.subnet != id->subnet ||
					now.vm != id->vm)))
		return -ESTALE;
	if (r == 0 && uid != 0 && now.owner != id->owner)
		return -EACCES;
	return r;
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
	/* a file with a store but no write bit is root's to write (the
	 * kernel lets root past the mode): a tenant's quota */
	if ((rd && !(n->attr->mode & 0444)) ||
	    (wr && !(n->attr->mode & 0200) && !n->attr->store))
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

/* A list file's text (lines_file) goes whole to its store. */
static int lines_value(struct model *m, const struct node *n,
		       const char *buf, size_t len, char *err)
{
	char *value;
	int r;

	if (len > TREE_LINES_MAX)
		return err_set(err, EINVAL, "longer than %d bytes",
			       TREE_LINES_MAX);
	if (memchr(buf, '\0', len))
		return err_set(err, EINVAL, "value contains a NUL byte");
	value = malloc(len + 1);
	if (!value)
		return err_set(err, ENOMEM, "out of memory");
	memcpy(value, buf, len);
	value[len] = '\0';
	r = n->attr->store(m, n, value, err);
	free(value);
	return r;
}

static int do_write(struct model *m, const struct node *n, const char *buf,
		    size_t len, char *err)
{
	char value[TREE_VALUE_MAX + 1];
	int r;

	if (!n->attr)
		return -EISDIR;
	if (lines_file(n))
		return lines_value(m, n, buf, len, err);
	if (tree_file_kind(n) == TREE_FILE_SPEC &&
	    !strcmp(n->attr->name, "plan"))
		return spec_plan(m, n->tenant, buf, len, err);
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
	bool spec = tree_file_kind(n) == TREE_FILE_SPEC && !lines_file(n);
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

/* The objects in directory n (under the lock). */
static void fill_children(const struct model *m, const struct node *n,
			  const struct objref *o, tree_fill_fn fill, void *ctx)
{
	const struct tenant *t;
	const struct subnet *s;
	const struct vm *v;
	char ip[IP_STRLEN];
	size_t i;

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
		objset_each(&o->tenant->subnets, i, s)
			if (s->state != OBJ_CREATING)
				fill(ctx, s->name, true);
		break;
	case NODE_VMS:
		objset_each(&o->tenant->vms, i, v)
			if (v->state != OBJ_CREATING)
				fill(ctx, v->name, true);
		break;
	case NODE_SECGROUPS:
		for (i = 0; i < o->tenant->ngroups; i++)
			fill(ctx, o->tenant->groups[i].name, true);
		break;
	case NODE_FLOATINGS:
		for (i = 0; i < o->tenant->nfloats; i++) {
			ip_format(o->tenant->floats[i].addr, ip);
			fill(ctx, ip, true);
		}
		break;
	default:
		break;
	}
}

int tree_readdir(struct model *m, const struct node *n, tree_fill_fn fill,
		 void *ctx)
{
	const struct kind_desc *d = &kinds[n->kind];
	const struct attr *a;
	const struct group *g;
	struct objref o;
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
	fill_children(m, n, &o, fill, ctx);
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}
