/* The tree's vocabulary (the front door's bottom): the kinds of
 * directories, a node (a path resolved by names), the objects it names,
 * and an attribute file as configfs declares one {name, mode, show,
 * store}. The tables of attributes are per kind, in attr_*.c; the tree
 * (tree.c) walks them, the operations (ops.c) record what became of a
 * user's request. */
#ifndef MAAS_NODE_H
#define MAAS_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/util.h"
#include <stdint.h>

struct cloud;
struct model;
struct subnet;
struct tenant;
struct vm;

enum node_kind {
	NODE_NONE,
	NODE_ROOT,
	NODE_CLOUDS,
	NODE_CLOUD,
	NODE_TENANT,
	NODE_SUBNETS,
	NODE_SUBNET,
	NODE_DHCP,
	NODE_VMS,
	NODE_VM,
	NODE_FLOATINGS,
	NODE_FLOATING,
	NODE_SECGROUPS,
	NODE_SECGROUP,
	NODE_KINDS
};

/* What changes an attribute's value, so that fs/ knows when the kernel
 * must forget what it keeps of it. */
enum attr_change {
	CHANGE_OP,        /* only an operation on its tenant (fs/ checks the
			   * tenant's files after each) */
	CHANGE_MODEL,     /* also the model's own work (a migration's
			   * progress, a VM that stops by itself): the model
			   * tells (model_watch) */
	CHANGE_DRIVER,    /* also a driver's background check (a cloud's
			   * status, a dnsmasq that exits): looked at now and
			   * then while the kernel keeps it */
	CHANGE_OUTSIDE,   /* another program writes it (dnsmasq its leases,
			   * a guest its console) and nothing tells: never
			   * kept by the kernel */
};

struct attr;

/* A path, resolved by names: the objects are looked up again under the
 * lock by every call, so a node never holds a pointer into the model. */
struct node {
	enum node_kind kind;
	const char *cloud, *tenant, *subnet, *vm;
	const char *floating;      /* a floating address, as its name */
	const char *secgroup;      /* a security group's name */
	const struct attr *attr;   /* an attribute file of kind; NULL: dir */
	const char *file;          /* its name (a spec.yaml step sets only this) */
};

/* The objects a node names, looked up under the lock. */
struct objref {
	struct cloud *cloud;
	struct tenant *tenant;
	struct subnet *subnet;
	struct vm *vm;
	struct floating *floating;
	struct secgroup *secgroup;
};

struct attr {
	const char *name;
	unsigned mode;   /* 0444 read, 0644 read-write, 0200 write-only */
	/* Called with m->lock held; never blocks (DESIGN §4 "Reads"). */
	int (*show)(const struct model *m, const struct objref *o,
		    struct strbuf *out);
	/* Called without the lock: does the whole operation. */
	int (*store)(struct model *m, const struct node *n, const char *value,
		     char *err);
	enum attr_change changes;
};

/* Looks up the objects of a node; the caller holds m->lock. ENOENT when
 * one is missing (or still being created). */
int node_resolve(const struct model *m, const struct node *n,
		 struct objref *o);
/* "last error: TIME OP: ENAME: why" of a status file, if there was one. */
struct obj_error;
void obj_error_show(const struct obj_error *e, struct strbuf *out);
/* The node's path ("/tenantA/subnets/web/cidr"). */
void node_path(const struct node *n, char *buf, size_t len);

#endif
