/* Operations as a user does them (ops.h). */
#include "ops.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "dhcp.h"
#include "events.h"
#include "external.h"
#include "secgroup.h"
#include "subnet.h"
#include "tenant.h"
#include "vm.h"

/* Records a failed operation in the nearest status file, and the log. */
void op_record_error(struct model *m, const struct node *n,
				 const char *verb, int code, const char *msg)
{
	struct obj_error *e = NULL;
	struct objref o;
	char path[512], op[48];

	node_path(n, path, sizeof path);
	log_warnx("%s %s: %s: %s", verb, path, errno_name(code), msg);
	snprintf(op, sizeof op, "%s %s", verb,
		 n->file ? n->file : strrchr(path, '/') + 1);
	pthread_mutex_lock(&m->lock);
	node_resolve(m, n, &o);
	if (!o.tenant && n->tenant)
		o.tenant = tenant_find_visible(m, n->tenant);
	if (!o.subnet && o.tenant && n->subnet)
		o.subnet = subnet_find_visible(o.tenant, n->subnet);
	if (!o.vm && o.tenant && n->vm)
		o.vm = vm_find_visible(o.tenant, n->vm);
	if (o.vm)
		e = &o.vm->error;
	else if (n->kind == NODE_DHCP && o.subnet && o.subnet->dhcp.on)
		e = &o.subnet->dhcp.error;
	else if (o.subnet)
		e = &o.subnet->error;
	else if (o.tenant)
		e = &o.tenant->error;
	else if (!n->tenant)
		e = &m->error;
	if (e)
		obj_error_set(e, op, code, msg);
	pthread_mutex_unlock(&m->lock);
}

/* The end of every operation: a failure goes to the nearest status, and
 * an event tells either way. */
int op_done(struct model *m, const struct node *n, const char *verb,
	    const char *value, size_t len, int r, const char *err)
{
	char path[512];

	node_path(n, path, sizeof path);
	if (r < 0)
		op_record_error(m, n, verb, -r, err[0] ? err : strerror(-r));
	events_op(m->events, path, verb, value, len, r, err);
	/* the steps of a long operation (spec.yaml) show as they go */
	model_note(m, n->tenant);
	return r;
}

int op_mkdir(struct model *m, const struct node *n, char *err)
{
	int r;

	if (n->attr)
		return -EEXIST;
	switch (n->kind) {
	case NODE_TENANT:
		r = tenant_create(m, n->tenant, err);
		break;
	case NODE_DHCP:
		r = dhcp_enable(m, n->tenant, n->subnet, err);
		break;
	case NODE_SUBNET:
		r = err_set(err, EPERM, "subnets are made by writing \"CIDR "
			    "[name=NAME]\" to subnets/new");
		break;
	case NODE_VM:
		r = vm_create(m, n->tenant, n->vm, err);
		break;
	case NODE_CLOUD:
		r = err_set(err, EPERM, "clouds come from the configuration "
			    "file");
		break;
	case NODE_SECGROUP:
		r = secgroup_create(m, n->tenant, n->secgroup, err);
		break;
	case NODE_FLOATING:
		r = err_set(err, EPERM, "floating addresses are had by "
			    "writing \"VM [ADDRESS]\" to floating/new");
		break;
	default:
		r = -EEXIST;   /* default directories always exist */
		break;
	}
	return r;
}

int op_rmdir(struct model *m, const struct node *n, char *err)
{
	int r;

	if (n->attr)
		return -ENOTDIR;
	switch (n->kind) {
	case NODE_TENANT:
		r = tenant_delete(m, n->tenant, err);
		break;
	case NODE_SUBNET:
		r = subnet_delete(m, n->tenant, n->subnet, err);
		break;
	case NODE_DHCP:
		r = dhcp_disable(m, n->tenant, n->subnet, err);
		break;
	case NODE_VM:
		r = vm_delete(m, n->tenant, n->vm, err);
		break;
	case NODE_FLOATING:
		r = floating_rmdir(m, n->tenant, n->floating, err);
		break;
	case NODE_SECGROUP:
		r = secgroup_delete(m, n->tenant, n->secgroup, err);
		break;
	case NODE_ROOT:
		r = -EBUSY;
		break;
	default:
		r = err_set(err, EPERM, "default directories cannot be "
			    "removed");
		break;
	}
	return r;
}
