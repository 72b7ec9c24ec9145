#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "external.h"
#include "model.h"
#include "secrule.h"

int node_resolve(const struct model *m, const struct node *n,
		 struct objref *o)
{
	memset(o, 0, sizeof *o);
	switch (n->kind) {
	case NODE_ROOT:
	case NODE_CLOUDS:
		return 0;
	case NODE_CLOUD:
		o->cloud = model_cloud(m, n->cloud);
		return o->cloud ? 0 : -ENOENT;
	default:
		break;
	}
	o->tenant = tenant_find_visible(m, n->tenant);
	if (!o->tenant)
		return -ENOENT;
	if (n->kind == NODE_VM) {
		o->vm = vm_find_visible(o->tenant, n->vm);
		return o->vm ? 0 : -ENOENT;
	}
	if (n->kind == NODE_SECGROUP) {
		o->secgroup = secgroup_find(o->tenant, n->secgroup);
		return o->secgroup ? 0 : -ENOENT;
	}
	if (n->kind == NODE_FLOATING) {
		uint32_t a;

		if (ip_parse(n->floating, &a) || !(o->floating =
						   floating_find(o->tenant, a)))
			return -ENOENT;
		return 0;
	}
	if (n->kind != NODE_SUBNET && n->kind != NODE_DHCP)
		return 0;
	o->subnet = subnet_find_visible(o->tenant, n->subnet);
	if (!o->subnet)
		return -ENOENT;
	if (n->kind == NODE_DHCP && !o->subnet->dhcp.on)
		return -ENOENT;
	return 0;
}

void node_path(const struct node *n, char *buf, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	enum node_kind k = n->kind;

	if (k == NODE_CLOUDS || k == NODE_CLOUD)
		sb_puts(&sb, "/clouds");
	if (k == NODE_CLOUD)
		sb_printf(&sb, "/%s", n->cloud);
	if (k >= NODE_TENANT)
		sb_printf(&sb, "/%s", n->tenant);
	if (k == NODE_SUBNETS || k == NODE_SUBNET || k == NODE_DHCP)
		sb_puts(&sb, "/subnets");
	if (k == NODE_SUBNET || k == NODE_DHCP)
		sb_printf(&sb, "/%s", n->subnet);
	if (k == NODE_DHCP)
		sb_puts(&sb, "/dhcp");
	if (k == NODE_VMS || k == NODE_VM)
		sb_puts(&sb, "/vms");
	if (k == NODE_VM)
		sb_printf(&sb, "/%s", n->vm);
	if (k == NODE_SECGROUPS || k == NODE_SECGROUP)
		sb_puts(&sb, "/secgroups");
	if (k == NODE_SECGROUP)
		sb_printf(&sb, "/%s", n->secgroup);
	if (k == NODE_FLOATINGS || k == NODE_FLOATING)
		sb_puts(&sb, "/floating");
	if (k == NODE_FLOATING)
		sb_printf(&sb, "/%s", n->floating);
	if (n->file)
		sb_printf(&sb, "/%s", n->file);
	snprintf(buf, len, "%s", sb.len ? sb_str(&sb) : "/");
	sb_free(&sb);
}

void obj_error_show(const struct obj_error *e, struct strbuf *out)
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
