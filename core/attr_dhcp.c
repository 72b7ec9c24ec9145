/* A subnet's dhcp/ files: server, range, domain, hosts, leases (dnsmasq
 * writes them), status */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dhcp.h"
#include "model.h"

void attr_dhcp_line(const struct subnet *s, struct strbuf *out)
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

static int show_dhcp_server(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	char buf[IP_STRLEN];

	(void)m;
	ip_format(cidr_gateway(&o->subnet->cidr), buf);
	return sb_printf(out, "%s\n", buf);
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
	attr_dhcp_line(o->subnet, out);
	obj_error_show(&o->subnet->dhcp.error, out);
	return 0;
}

const struct attr attrs_dhcp[] = {
	{ "server", 0444, show_dhcp_server, NULL, CHANGE_MODEL },
	{ "range", 0644, show_dhcp_range, store_dhcp_range, CHANGE_OP },
	{ "domain", 0644, show_dhcp_domain, store_dhcp_domain, CHANGE_OP },
	{ "hosts", 0444, show_dhcp_hosts, NULL, CHANGE_MODEL },
	{ "leases", 0444, show_dhcp_leases, NULL, CHANGE_OUTSIDE },
	{ "status", 0444, show_dhcp_status, NULL, CHANGE_DRIVER },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
