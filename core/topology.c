/* topology.dot (topology.h). */
#include "topology.h"

#include <stdio.h>
#include <string.h>

#include "model.h"
#include "state.h"
#include "vm.h"

static const char *const tenant_colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
	"#e377c2", "#17becf",
};

static void subnet_node(const struct cloud *cl, const struct tenant *t,
			const struct subnet *s, const char *color,
			struct strbuf *out)
{
	char cidr[CIDR_STRLEN];

	cidr_format(&s->cidr, cidr);
	sb_printf(out, "    \"%s/%s/%s\" [shape=ellipse, color=\"%s\", "
		  "label=\"%s/%s\\n%s\\nVNI %u%s\"];\n", cl->name, t->name,
		  s->name, color, t->name, s->name, cidr, s->vni,
		  s->home == cl ? "\\ngateway, DHCP" : "");
}

static void vm_node(const struct cloud *cl, const struct tenant *t,
		    const struct vm *v, const char *color, struct strbuf *out)
{
	char ip[IP_STRLEN] = "";

	if (v->conf.ip)
		ip_format(v->conf.ip, ip);
	sb_printf(out, "    \"vm:%s/%s\" [shape=box, color=\"%s\", "
		  "label=\"%s/%s\\n%s\\n%s\"];\n", t->name, v->name, color,
		  t->name, v->name, ip, vm_state_word(v));
	if (v->conf.subnet[0])
		sb_printf(out, "    \"vm:%s/%s\" -- \"%s/%s/%s\";\n", t->name,
			  v->name, cl->name, t->name, v->conf.subnet);
}

/* Cloud c's box: the subnets on it and the VMs it holds. */
static void cloud_cluster(const struct model *m, size_t c, struct strbuf *out)
{
	const struct cloud *cl = m->clouds[c];
	const struct tenant *t;
	const struct subnet *s;
	const struct vm *v;
	size_t i, j, k = 0;

	sb_printf(out, "  subgraph \"cluster_%s\" {\n"
		  "    label=\"cloud %s\\n%s%s\"; style=\"rounded%s\";\n",
		  cl->name, cl->name, cl->vtep[0] ? cl->vtep : "",
		  cl->draining ? " (draining)" : "",
		  cl->draining ? ",dashed" : "");
	objset_each(&m->tenants, i, t) {
		const char *color = tenant_colors[k++ %
						  ARRAY_SIZE(tenant_colors)];

		if (!state_listed(t->state))
			continue;
		objset_each(&t->subnets, j, s)
			if (state_listed(s->state) &&
			    (subnet_presence(m, s) & (1ull << c)))
				subnet_node(cl, t, s, color, out);
		objset_each(&t->vms, j, v)
			if (state_listed(v->state) && v->conf.location == cl)
				vm_node(cl, t, v, color, out);
	}
	sb_puts(out, "  }\n");
}

/* VXLAN tunnels: between every two clouds a subnet is on. */
static void tunnels(const struct model *m, const struct tenant *t,
		    const struct subnet *s, struct strbuf *out)
{
	uint64_t p = subnet_presence(m, s);
	size_t c, d;

	for (c = 0; c < m->nclouds; c++)
		for (d = c + 1; d < m->nclouds; d++)
			if ((p >> c & 1) && (p >> d & 1))
				sb_printf(out, "  \"%s/%s/%s\" -- \"%s/%s/%s\" "
					  "[style=dashed, label=\"VXLAN %u\"];"
					  "\n", m->clouds[c]->name, t->name,
					  s->name, m->clouds[d]->name, t->name,
					  s->name, s->vni);
}

int topology_show(const struct model *m, struct strbuf *out)
{
	const struct tenant *t;
	const struct subnet *s;
	size_t c, i, j;

	sb_puts(out, "graph maas {\n"
		"  graph [rankdir=LR, fontname=\"Helvetica\", "
		"label=\"maasfs estate\"];\n"
		"  node [fontname=\"Helvetica\", fontsize=10];\n"
		"  edge [fontname=\"Helvetica\", fontsize=9];\n");
	for (c = 0; c < m->nclouds; c++)
		cloud_cluster(m, c, out);
	objset_each(&m->tenants, i, t)
		if (state_listed(t->state))
			objset_each(&t->subnets, j, s)
				if (state_listed(s->state))
					tunnels(m, t, s, out);
	return sb_puts(out, "}\n");
}
