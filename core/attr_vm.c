/* A VM's files: subnet, vcpus, memory, disk, image, mac, ip, state,
 * location, migration, console, test, test_console, xml, status; one
 * store per attribute, which parses what the user wrote and calls the
 * typed verb */
#include "attr.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mig.h"
#include "names.h"
#include "model.h"
#include "secgroup.h"
#include "units.h"
#include "vm.h"
#include "repl.h"
#include "vmtest.h"

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
	obj_error_show(&v->error, out);
	return 0;
}

static int store_vm_subnet(struct model *m, const struct node *n,
			   const char *value, char *err)
{
	return vm_set_subnet(m, n->tenant, n->vm, value, err);
}

static int store_vm_vcpus(struct model *m, const struct node *n,
			  const char *value, char *err)
{
	unsigned long k;
	char *end;

	errno = 0;
	k = strtoul(value, &end, 10);
	if (*value < '0' || *value > '9' || *end || errno || k < 1 ||
	    k > VM_VCPUS_MAX)
		return err_set(err, EINVAL, "vcpus must be a number from 1 to "
			       "%d, not '%.40s'", VM_VCPUS_MAX, value);
	return vm_set_vcpus(m, n->tenant, n->vm, (unsigned)k, err);
}

static int store_vm_memory(struct model *m, const struct node *n,
			   const char *value, char *err)
{
	uint64_t mib;
	int r = size_parse(value, &mib, err);

	return r ? r : vm_set_memory(m, n->tenant, n->vm, mib, err);
}

static int store_vm_disk(struct model *m, const struct node *n,
			 const char *value, char *err)
{
	uint64_t mib;
	int r = size_parse(value, &mib, err);

	return r ? r : vm_set_disk(m, n->tenant, n->vm, mib, err);
}

static int store_vm_image(struct model *m, const struct node *n,
			  const char *value, char *err)
{
	return vm_set_image(m, n->tenant, n->vm, value, err);
}

static int store_vm_state(struct model *m, const struct node *n,
			  const char *value, char *err)
{
	enum vm_power_op op;

	if (!strcmp(value, "start"))
		op = VM_START;
	else if (!strcmp(value, "stop"))
		op = VM_STOP;
	else if (!strcmp(value, "restart"))
		op = VM_RESTART;
	else
		return err_set(err, EINVAL, "state takes start, stop or "
			       "restart, not '%.40s'", value);
	return vm_power(m, n->tenant, n->vm, op, err);
}

/* "CLOUD [mode=live|cold] [downtime=MS]" */
static int store_vm_location(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	char cloud[NAME_MAXLEN + 1];
	struct mig_opts o;
	int r = mig_opts_parse(value, cloud, &o, err);

	return r ? r : vm_relocate(m, n->tenant, n->vm, cloud, &o, err);
}

/* Its test (vmtest.c): "CLOUD" launches one, "end" removes it. */
static int show_vm_test(const struct model *m, const struct objref *o,
			struct strbuf *out)
{
	(void)m;
	return vm_test_show(o->vm, out);
}

static int store_vm_test(struct model *m, const struct node *n,
			 const char *value, char *err)
{
	return vm_test_write(m, n->tenant, n->vm, value, err);
}

static int show_vm_replication(const struct model *m,
			       const struct objref *o, struct strbuf *out)
{
	(void)m;
	return vm_repl_show(o->vm, out);
}

static int store_vm_replication(struct model *m, const struct node *n,
				const char *value, char *err)
{
	return vm_repl_write(m, n->tenant, n->vm, value, err);
}

static int show_vm_test_console(const struct model *m,
				const struct objref *o, struct strbuf *out)
{
	(void)m;
	return vm_test_console(o->vm, out);
}

/* "default web": its security groups. */
static int show_vm_secgroups(const struct model *m, const struct objref *o,
			     struct strbuf *out)
{
	size_t i;

	(void)m;
	for (i = 0; i < o->vm->ngroups; i++)
		sb_printf(out, "%s%s", i ? " " : "", o->vm->groups[i]);
	return sb_puts(out, "\n");
}

static int store_vm_secgroups(struct model *m, const struct node *n,
			      const char *value, char *err)
{
	return vm_set_groups(m, n->tenant, n->vm, value, err);
}

const struct attr attrs_vm[] = {
	{ "subnet", 0644, show_vm_subnet, store_vm_subnet,
	  CHANGE_OP },
	{ "vcpus", 0644, show_vm_vcpus, store_vm_vcpus,
	  CHANGE_OP },
	{ "memory", 0644, show_vm_memory, store_vm_memory,
	  CHANGE_OP },
	{ "disk", 0644, show_vm_disk, store_vm_disk,
	  CHANGE_OP },
	{ "image", 0644, show_vm_image, store_vm_image,
	  CHANGE_OP },
	{ "mac", 0444, show_vm_mac, NULL, CHANGE_OP },
	{ "ip", 0444, show_vm_ip, NULL, CHANGE_OP },
	{ "secgroups", 0644, show_vm_secgroups, store_vm_secgroups,
	  CHANGE_OP },
	{ "state", 0644, show_vm_state, store_vm_state, CHANGE_MODEL },
	{ "location", 0644, show_vm_location, store_vm_location, CHANGE_MODEL },
	{ "migration", 0444, show_vm_migration, NULL, CHANGE_MODEL },
	{ "console", 0444, show_vm_console, NULL, CHANGE_OUTSIDE },
	{ "test", 0644, show_vm_test, store_vm_test, CHANGE_MODEL },
	{ "test_console", 0444, show_vm_test_console, NULL, CHANGE_OUTSIDE },
	{ "replication", 0644, show_vm_replication, store_vm_replication,
	  CHANGE_OUTSIDE },
	{ "xml", 0444, show_vm_xml, NULL, CHANGE_MODEL },
	{ "status", 0444, show_vm_status, NULL, CHANGE_MODEL },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};

int attr_vm_write(struct model *m, const char *tenant, const char *vm,
		  const char *attr, const char *value, char *err)
{
	struct node n = { .kind = NODE_VM, .tenant = tenant, .vm = vm };
	const struct attr *a;

	for (a = attrs_vm; a->name; a++)
		if (!strcmp(a->name, attr) && a->store) {
			n.attr = a;
			n.file = a->name;
			return a->store(m, &n, value, err);
		}
	return err_set(err, EACCES, "%s is read-only", attr);
}
