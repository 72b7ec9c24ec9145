/* subnets/new, and a subnet's files: cidr, gateway, cloud (a write moves
 * it: submig.h), clouds, vni, bridge, status */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "submig.h"
#include "subnet.h"

static int store_subnets_new(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	return subnet_create(m, n->tenant, value, err);
}

const struct attr attrs_subnets[] = {
	{ "new", 0200, NULL, store_subnets_new, CHANGE_OP },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};

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
	attr_dhcp_line(s, out);
	if (s->move[0])
		sb_printf(out, "move: %s\n", s->move);
	obj_error_show(&s->error, out);
	return 0;
}

const struct attr attrs_subnet[] = {
	{ "cidr", 0444, show_subnet_cidr, NULL, CHANGE_OP },
	{ "gateway", 0444, show_subnet_gateway, NULL, CHANGE_OP },
	{ "cloud", 0644, show_subnet_cloud, store_subnet_cloud, CHANGE_MODEL },
	{ "clouds", 0444, show_subnet_clouds, NULL, CHANGE_MODEL },
	{ "vni", 0444, show_subnet_vni, NULL, CHANGE_OP },
	{ "bridge", 0444, show_subnet_bridge, NULL, CHANGE_OP },
	{ "status", 0444, show_subnet_status, NULL, CHANGE_DRIVER },
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
