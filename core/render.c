/* What the backend is told: the model's objects as the descriptions the
 * drivers take (a subnet's network on a cloud, its dnsmasq, a VM's
 * domain). Pure functions over the model; the caller holds its lock, and
 * the strings point into the model. */
#include "render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void subnet_net(const struct model *m, const struct subnet *s,
		const struct cloud *c, uint64_t present,
		uint32_t remotes[CLOUDS_MAX], struct net_subnet *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	out->tenant = s->tenant->name;
	out->vni = s->vni;
	out->gateway = cidr_gateway(&s->cidr);
	out->prefix = s->cidr.prefix;
	out->mtu = SUBNET_MTU;
	out->home = c == s->home;
	out->vtep = c->vtep_ip;
	out->remotes = remotes;
	for (i = 0; i < m->nclouds; i++)
		if ((present & (1ull << i)) && m->clouds[i] != c &&
		    m->clouds[i]->vtep_ip)
			remotes[out->nremotes++] = m->clouds[i]->vtep_ip;
}

/* The strings of one reservation, kept after the array of entries. */
struct host_strings {
	char mac[MAC_STRLEN];
	char name[64];
};

int dhcp_net(const struct subnet *s, const struct dhcp *d,
	     struct net_dhcp *out)
{
	const struct vm *v;
	struct dhcp_host *hosts;
	struct host_strings *str;
	size_t i, n = 0;

	memset(out, 0, sizeof *out);
	out->tenant = s->tenant->name;
	out->vni = s->vni;
	out->server = cidr_gateway(&s->cidr);
	out->prefix = s->cidr.prefix;
	out->first = d->first;
	out->last = d->last;
	out->domain = d->domain;
	out->mtu = SUBNET_MTU;
	objset_each(&s->tenant->vms, i, v)
		n += v->state != OBJ_DELETING && v->conf.ip &&
		     !strcmp(v->conf.subnet, s->name);
	if (n == 0)
		return 0;
	hosts = calloc(1, n * (sizeof *hosts + sizeof *str));
	if (!hosts)
		return -ENOMEM;
	str = (struct host_strings *)(void *)(hosts + n);
	n = 0;
	objset_each(&s->tenant->vms, i, v) {
		if (v->state == OBJ_DELETING || !v->conf.ip ||
		    strcmp(v->conf.subnet, s->name))
			continue;
		memcpy(str[n].mac, v->mac, MAC_STRLEN);
		dns_label_of(v->name, strlen(v->name), str[n].name,
			     sizeof str[n].name);
		hosts[n].mac = str[n].mac;
		hosts[n].ip = v->conf.ip;
		hosts[n].name = str[n].name;
		n++;
	}
	out->hosts = hosts;
	out->nhosts = n;
	return 0;
}

void dhcp_net_free(struct net_dhcp *n)
{
	free((void *)n->hosts);
	n->hosts = NULL;
	n->nhosts = 0;
}

void vm_domain(const struct vm *v, const struct vm_conf *c,
	       const struct subnet *s, struct virt_domain *out,
	       char bridge[NET_IFNAMSIZ])
{
	memset(out, 0, sizeof *out);
	bridge[0] = '\0';
	if (s) {
		net_bridge_name(s->vni, bridge);
		net_port_name(v->mac, out->tap);
	}
	out->uuid = v->uuid;
	out->tenant = v->tenant->name;
	out->vm = v->name;
	out->vcpus = c->vcpus;
	out->memory_mib = c->memory;
	out->image = c->image;
	out->bridge = bridge;
	out->mac = v->mac;
	out->mtu = SUBNET_MTU;
}
