/* The one parser of the schema (schema.h). */
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "units.h"

/* "subnets:" with nothing after it is an empty mapping. */
static bool empty_node(const yaml_node_t *n)
{
	const char *s = ydoc_scalar(n);

	return !n || (s && (!*s || !strcmp(s, "~") || !strcmp(s, "null")));
}

static size_t map_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return 0;
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static int scalar_of(struct ydoc *d, yaml_node_t *n, const char *what,
		     const char **out, char *err)
{
	*out = ydoc_scalar(n);
	if (!*out)
		return ydoc_fail(d, n, EINVAL, err,
				 "%s must be a plain value", what);
	return 0;
}

/* A name-like value of key into out (NAME_MAXLEN + 1): "" if not there. */
static int name_of(struct ydoc *d, yaml_node_t *n, const char *key,
		   const char *what, char *out, char *err)
{
	yaml_node_t *k = ydoc_get(d, n, key);
	const char *v;
	char why[ERRLEN];
	int r;

	if (!k)
		return 0;
	if ((r = scalar_of(d, k, key, &v, err)))
		return r;
	if (name_check(v, what, why))
		return ydoc_fail(d, k, EINVAL, err, "%s", why);
	snprintf(out, NAME_MAXLEN + 1, "%s", v);
	return 0;
}

/* ---- subnets ---- */

static int parse_dhcp_map(struct ydoc *d, yaml_node_t *n, struct sc_subnet *s,
			  char *err)
{
	static const char *const keys[] = { "range", "domain", NULL };
	yaml_node_t *range, *domain;
	const char *v;
	char why[ERRLEN];
	int r;

	if (ydoc_check_map(d, n, "dhcp", keys, err))
		return -EINVAL;
	s->dhcp = 1;
	if ((range = ydoc_get(d, n, "range"))) {
		if ((r = scalar_of(d, range, "range", &v, err)))
			return r;
		if (cidr_parse_range(&s->cidr, v, &s->first, &s->last, why))
			return ydoc_fail(d, range, EINVAL, err,
					 "subnet %s: %s", s->name, why);
		s->has_range = true;
	}
	if ((domain = ydoc_get(d, n, "domain"))) {
		if ((r = scalar_of(d, domain, "domain", &v, err)))
			return r;
		if (domain_check(v, why))
			return ydoc_fail(d, domain, EINVAL, err,
					 "subnet %s: %s", s->name, why);
		snprintf(s->domain, sizeof s->domain, "%s", v);
		s->has_domain = true;
	}
	return 0;
}

/* state: off or {range, domain}; spec: on, off or {range, domain}. */
static int parse_dhcp(struct ydoc *d, yaml_node_t *n, enum schema_doc kind,
		      struct sc_subnet *s, char *err)
{
	const char *v = ydoc_scalar(n);

	if (v && (!strcmp(v, "off") || (kind == SCHEMA_SPEC &&
					 !strcmp(v, "on")))) {
		s->dhcp = !strcmp(v, "on");
		return 0;
	}
	if (v)
		return ydoc_fail(d, n, EINVAL, err,
				 "subnet %s: dhcp is %s {range: FIRST LAST, "
				 "domain: NAME}, not '%.40s'", s->name,
				 kind == SCHEMA_SPEC ? "on, off or" : "off or",
				 v);
	return parse_dhcp_map(d, n, s, err);
}

/* The state's own keys of a subnet: its VNI, and dhcp said. */
static int subnet_state_keys(struct ydoc *d, yaml_node_t *n,
			     struct sc_subnet *s, char *err)
{
	unsigned long v;

	if (!s->cloud[0])
		return ydoc_fail(d, n, EINVAL, err,
				 "subnet %s: cloud missing", s->name);
	if (!(s->vni_node = ydoc_get(d, n, "vni")))
		return ydoc_fail(d, n, EINVAL, err,
				 "subnet %s: vni missing", s->name);
	if (ydoc_uint(d, s->vni_node, "vni", 1, VNI_MAX, &v, err))
		return -EINVAL;
	s->vni = (uint32_t)v;
	if (s->dhcp < 0)
		return ydoc_fail(d, n, EINVAL, err,
				 "subnet %s: dhcp missing", s->name);
	return 0;
}

static int parse_subnet(struct ydoc *d, enum schema_doc kind,
			struct sc_tenant *t, yaml_node_t *key,
			yaml_node_t *n, char *err)
{
	static const char *const state_keys[] = { "cidr", "cloud", "vni",
						   "dhcp", NULL };
	static const char *const spec_keys[] = { "cidr", "cloud", "dhcp",
						  NULL };
	struct sc_subnet *s = &t->subnets[t->nsubnets];
	yaml_node_t *dhcp;
	const char *v;
	char why[ERRLEN];
	size_t i;
	int r;

	s->dhcp = -1;
	s->key = key;
	s->node = n;
	if (name_check(ydoc_scalar(key), "subnet", why))
		return ydoc_fail(d, key, EINVAL, err, "%s", why);
	snprintf(s->name, sizeof s->name, "%s", ydoc_scalar(key));
	if (ydoc_check_map(d, n, "a subnet", kind == SCHEMA_STATE ? state_keys
								  : spec_keys,
			   err))
		return -EINVAL;
	if (!(s->cidr_node = ydoc_get(d, n, "cidr")))
		return ydoc_fail(d, n, EINVAL, err,
				 "subnet %s: cidr missing", s->name);
	if ((r = scalar_of(d, s->cidr_node, "cidr", &v, err)))
		return r;
	if (cidr_parse(v, &s->cidr, why))
		return ydoc_fail(d, s->cidr_node, EINVAL, err,
				 "subnet %s: %s", s->name, why);
	for (i = 0; i < t->nsubnets; i++)
		if (cidr_overlap(&t->subnets[i].cidr, &s->cidr))
			return ydoc_fail(d, s->cidr_node, EEXIST, err,
					 "subnet %s overlaps subnet %s",
					 s->name, t->subnets[i].name);
	if ((r = name_of(d, n, "cloud", "cloud", s->cloud, err)))
		return r;
	s->cloud_node = ydoc_get(d, n, "cloud");
	if ((dhcp = ydoc_get(d, n, "dhcp")) &&
	    (r = parse_dhcp(d, dhcp, kind, s, err)))
		return r;
	if (kind == SCHEMA_STATE && (r = subnet_state_keys(d, n, s, err)))
		return r;
	t->nsubnets++;
	return 0;
}

/* ---- VMs ---- */

yaml_node_t *sc_vm_node(struct ydoc *d, const struct sc_vm *v,
			const char *key)
{
	yaml_node_t *k = v->node && !empty_node(v->node) ?
			 ydoc_get(d, v->node, key) : NULL;

	return k ? k : v->key;
}

/* A size of a VM within [min, max]; the state says it its own way. */
static int parse_size(struct ydoc *d, yaml_node_t *n, enum schema_doc kind,
		      const char *vm, const char *what, uint64_t min,
		      uint64_t max, uint64_t *out, char *err)
{
	const char *v;
	char why[ERRLEN], a[16], b[16];
	int r = scalar_of(d, n, what, &v, err);

	if (r)
		return r;
	r = size_parse(v, out, why);
	if (kind == SCHEMA_STATE && (r || *out < min || *out > max))
		return ydoc_fail(d, n, EINVAL, err,
				 "VM %s: bad %s '%s'", vm, what, v);
	if (r)
		return ydoc_fail(d, n, EINVAL, err, "%s: %s", what, why);
	if (*out < min || *out > max) {
		size_format(min, a, sizeof a);
		size_format(max, b, sizeof b);
		return ydoc_fail(d, n, EINVAL, err,
				 "%s must be from %s to %s", what, a, b);
	}
	return 0;
}

static int vm_sizes(struct ydoc *d, yaml_node_t *n, enum schema_doc kind,
		    struct sc_vm *v, char *err)
{
	yaml_node_t *k;
	unsigned long u;
	int r;

	if ((k = ydoc_get(d, n, "vcpus"))) {
		if (ydoc_uint(d, k, "vcpus", 1, VM_VCPUS_MAX, &u, err))
			return -EINVAL;
		v->vcpus = (unsigned)u;
	}
	if ((k = ydoc_get(d, n, "memory")) &&
	    (r = parse_size(d, k, kind, v->name, "memory", VM_MEMORY_MIN,
			    VM_MEMORY_MAX, &v->memory, err)))
		return r;
	if ((k = ydoc_get(d, n, "disk")) &&
	    (r = parse_size(d, k, kind, v->name, "disk", VM_DISK_MIN,
			    VM_DISK_MAX, &v->disk, err)))
		return r;
	return 0;
}

/* Its subnet, among those of its tenant in the document. */
static int vm_subnet(struct ydoc *d, yaml_node_t *n, const struct sc_tenant *t,
		     struct sc_vm *v, char *err)
{
	size_t i;
	int r = name_of(d, n, "subnet", "subnet", v->subnet, err);

	if (r || !v->subnet[0])
		return r;
	for (i = 0; i < t->nsubnets; i++)
		if (!strcmp(t->subnets[i].name, v->subnet))
			return 0;
	return ydoc_fail(d, ydoc_get(d, n, "subnet"), ENOENT, err,
			 "VM %s: no subnet %s in tenant %s of the document",
			 v->name, v->subnet, t->name);
}

static int parse_power(struct ydoc *d, yaml_node_t *n, struct sc_vm *v,
			 char *err)
{
	yaml_node_t *k = ydoc_get(d, n, "state");
	const char *s;
	int r;

	if (!k)
		return 0;
	if ((r = scalar_of(d, k, "state", &s, err)))
		return r;
	if (strcmp(s, "running") && strcmp(s, "stopped"))
		return ydoc_fail(d, k, EINVAL, err,
				 "VM %s: state must be running or stopped, "
				 "not '%.40s'", v->name, s);
	v->running = !strcmp(s, "running");
	return 0;
}

/* A scalar the state must have: its text, or NULL after an error. */
static const char *required(struct ydoc *d, yaml_node_t *n, const char *vm,
			    const char *key, int *r, char *err)
{
	yaml_node_t *k = ydoc_get(d, n, key);

	if (!k)
		*r = ydoc_fail(d, n, EINVAL, err, "VM %s: %s missing", vm, key);
	else if (!ydoc_scalar(k))
		*r = ydoc_fail(d, k, EINVAL, err,
			       "VM %s: %s must be text", vm, key);
	return *r ? NULL : ydoc_scalar(k);
}

/* The state's own keys of a VM: where it is, its power, MAC, IP, UUID. */
static int vm_state_keys(struct ydoc *d, yaml_node_t *n, struct sc_vm *v,
			 char *err)
{
	const char *f;
	int r = 0;

	if (!required(d, n, v->name, "location", &r, err) ||
	    !required(d, n, v->name, "state", &r, err))
		return r;
	if (!(f = required(d, n, v->name, "mac", &r, err)))
		return r;
	if (!mac_valid(f))
		return ydoc_fail(d, ydoc_get(d, n, "mac"), EINVAL, err,
				 "VM %s: bad or duplicate mac '%s'", v->name,
				 f);
	snprintf(v->mac, sizeof v->mac, "%s", f);
	if ((f = ydoc_scalar(ydoc_get(d, n, "ip"))) && ip_parse(f, &v->ip))
		return ydoc_fail(d, ydoc_get(d, n, "ip"), EINVAL, err,
				 "VM %s: ip '%s' is not an address of its "
				 "subnet", v->name, f);
	if (!(f = required(d, n, v->name, "uuid", &r, err)))
		return r;
	if (!uuid_valid(f))
		return ydoc_fail(d, ydoc_get(d, n, "uuid"), EINVAL, err,
				 "VM %s: bad or duplicate uuid", v->name);
	snprintf(v->uuid, sizeof v->uuid, "%s", f);
	v->migration = ydoc_get(d, n, "migration");
	v->test = ydoc_get(d, n, "test");
	v->replication = ydoc_get(d, n, "replication");
	return 0;
}

static int parse_vm(struct ydoc *d, enum schema_doc kind, struct sc_tenant *t,
		    yaml_node_t *key, yaml_node_t *n, char *err)
{
	static const char *const state_keys[] = { "subnet", "vcpus", "memory",
		"disk", "image", "location", "state", "mac", "ip", "uuid",
		"migration", "test", "replication", "secgroups", NULL };
	static const char *const spec_keys[] = { "subnet", "vcpus", "memory",
		"disk", "image", "location", "state", "secgroups", NULL };
	struct sc_vm *v = &t->vms[t->nvms];
	char why[ERRLEN];
	int r;

	v->running = -1;
	v->key = key;
	v->node = n;
	if (name_check(ydoc_scalar(key), "VM", why))
		return ydoc_fail(d, key, EINVAL, err, "%s", why);
	snprintf(v->name, sizeof v->name, "%s", ydoc_scalar(key));
	if ((kind == SCHEMA_STATE || !empty_node(n)) &&
	    ydoc_check_map(d, n, "a VM", kind == SCHEMA_STATE ? state_keys
							     : spec_keys, err))
		return -EINVAL;
	if (kind == SCHEMA_SPEC && empty_node(n)) {
		t->nvms++;
		return 0;
	}
	if ((r = vm_subnet(d, n, t, v, err)) || (r = vm_sizes(d, n, kind, v,
							       err)) ||
	    (r = name_of(d, n, "image", "image", v->image, err)) ||
	    (r = name_of(d, n, "location", "cloud", v->location, err)) ||
	    (r = parse_power(d, n, v, err)))
		return r;
	if (kind == SCHEMA_STATE && (r = vm_state_keys(d, n, v, err)))
		return r;
	if (ydoc_get(d, n, "secgroups") &&
	    !ydoc_scalar(ydoc_get(d, n, "secgroups")))
		return ydoc_fail(d, ydoc_get(d, n, "secgroups"), EINVAL, err,
				 "VM %s: secgroups is NAME ...", v->name);
	if (ydoc_get(d, n, "secgroups") &&
	    !(v->secgroups = strdup(ydoc_scalar(ydoc_get(d, n, "secgroups")))))
		return err_set(err, ENOMEM, "out of memory");
	t->nvms++;
	return 0;
}

/* ---- tenants ---- */

/* "UID:GID" */
static int parse_owner(struct ydoc *d, yaml_node_t *owner, struct sc_tenant *t,
		       char *err)
{
	const char *o = ydoc_scalar(owner);
	unsigned long u, g;
	char *end;

	if (!o || *o < '0' || *o > '9' ||
	    (u = strtoul(o, &end, 10), *end != ':') ||
	    end[1] < '0' || end[1] > '9' ||
	    (g = strtoul(end + 1, &end, 10), *end) ||
	    u >= UINT32_MAX || g >= UINT32_MAX)
		return ydoc_fail(d, owner, EINVAL, err,
				 "owner must be UID:GID");
	t->has_owner = true;
	t->uid = (uint32_t)u;
	t->gid = (uint32_t)g;
	return 0;
}

/* A map of scalars (NULL: not said) copied into out[n]; *out stays NULL
 * if it is not said, else an array (maybe of 0). */
static int copy_map(struct ydoc *d, yaml_node_t *map, const char *what,
		    struct sc_kv **out, size_t *n, char *err)
{
	yaml_node_pair_t *p;

	*out = NULL;
	*n = 0;
	if (!map)
		return 0;
	if (!empty_node(map) && ydoc_check_map(d, map, what, NULL, err))
		return -EINVAL;
	*out = calloc(map_len(map) + 1, sizeof **out);
	if (!*out)
		return err_set(err, ENOMEM, "out of memory");
	if (map_len(map))
		ydoc_map_each(map, p) {
			const char *k = ydoc_scalar(ydoc_node(d, p->key));
			const char *v = ydoc_scalar(ydoc_node(d, p->value));

			if (!k || !v)
				return ydoc_fail(d, ydoc_node(d, p->value),
						 EINVAL, err, "%s: NAME: TEXT",
						 what);
			(*out)[*n].k = strdup(k);
			(*out)[*n].v = strdup(v);
			if (!(*out)[(*n)++].v || !(*out)[*n - 1].k)
				return err_set(err, ENOMEM, "out of memory");
		}
	return 0;
}

/* The state's own keys of a tenant: its id, its owner. */
static int tenant_state_keys(struct ydoc *d, yaml_node_t *n,
			     struct sc_tenant *t, char *err)
{
	yaml_node_t *id = ydoc_get(d, n, "id"), *owner, *quota, *ext;
	unsigned long v;
	int r;

	t->id_node = id;
	if (!id)
		return ydoc_fail(d, n, EINVAL, err,
				 "tenant %s: id missing", t->name);
	if (ydoc_uint(d, id, "id", 1, UINT32_MAX, &v, err))
		return -EINVAL;
	t->id = (uint32_t)v;
	owner = ydoc_get(d, n, "owner");
	if (owner && parse_owner(d, owner, t, err))
		return -EINVAL;
	quota_unlimited(&t->quota);
	quota = ydoc_get(d, n, "quota");
	if (quota && (!ydoc_scalar(quota) ||
		      quota_parse(ydoc_scalar(quota), &t->quota, err)))
		return ydoc_fail(d, quota, EINVAL, err, "tenant %s: quota must "
				 "be KIND=AMOUNT ... (subnets vms vcpus memory "
				 "disk)", t->name);
	ext = ydoc_get(d, n, "external");
	if (ext && !(t->external = ydoc_scalar(ext)))
		return ydoc_fail(d, ext, EINVAL, err, "tenant %s: external "
				 "must be text", t->name);
	if ((r = copy_map(d, ydoc_get(d, n, "secgroups"), "secgroups",
			  &t->groups, &t->ngroups, err)))
		return r;
	ext = ydoc_get(d, n, "floating");
	if (ext && !(t->floating = ydoc_scalar(ext)))
		return ydoc_fail(d, ext, EINVAL, err, "tenant %s: floating "
				 "must be text", t->name);
	return 0;
}

/* A document's own keys of a tenant: external (on|off; left out, as it
 * is). */
static int tenant_spec_keys(struct ydoc *d, yaml_node_t *n,
			    struct sc_tenant *t, char *err)
{
	yaml_node_t *ext = empty_node(n) ? NULL : ydoc_get(d, n, "external");
	const char *v = ext ? ydoc_scalar(ext) : NULL;

	t->ext_want = -1;
	int r;

	if (!empty_node(n) &&
	    ((r = copy_map(d, ydoc_get(d, n, "secgroups"), "secgroups",
			   &t->groups, &t->ngroups, err)) ||
	     (r = copy_map(d, ydoc_get(d, n, "floating"), "floating",
			   &t->floats, &t->nfloats, err))))
		return r;
	if (!ext)
		return 0;
	if (!v || (strcmp(v, "on") && strcmp(v, "off")))
		return ydoc_fail(d, ext, EINVAL, err, "tenant %s: external is "
				 "on or off", t->name);
	t->ext_want = !strcmp(v, "on");
	return 0;
}

/* Its subnets, then its VMs. */
static int tenant_members(struct ydoc *d, yaml_node_t *n,
			  enum schema_doc kind, struct sc_tenant *t, char *err)
{
	yaml_node_t *subnets = ydoc_get(d, n, "subnets");
	yaml_node_t *vms = ydoc_get(d, n, "vms");
	yaml_node_pair_t *p;
	int r;

	if (!empty_node(subnets) &&
	    ydoc_check_map(d, subnets, "subnets", NULL, err))
		return -EINVAL;
	if (!empty_node(vms) && ydoc_check_map(d, vms, "vms", NULL, err))
		return -EINVAL;
	t->subnets = calloc(map_len(subnets) + 1, sizeof *t->subnets);
	t->vms = calloc(map_len(vms) + 1, sizeof *t->vms);
	if (!t->subnets || !t->vms)
		return err_set(err, ENOMEM, "out of memory");
	if (map_len(subnets))
		ydoc_map_each(subnets, p)
			if ((r = parse_subnet(d, kind, t, ydoc_node(d, p->key),
					      ydoc_node(d, p->value), err)))
				return r;
	if (map_len(vms))
		ydoc_map_each(vms, p)
			if ((r = parse_vm(d, kind, t, ydoc_node(d, p->key),
					  ydoc_node(d, p->value), err)))
				return r;
	return 0;
}

static int parse_tenant(struct ydoc *d, enum schema_doc kind,
			struct sc_tenant *t, yaml_node_t *key, yaml_node_t *n,
			char *err)
{
	static const char *const state_keys[] = { "id", "owner", "quota",
						  "external", "floating",
						  "secgroups", "subnets", "vms",
						  NULL };
	static const char *const spec_keys[] = { "external", "secgroups",
						 "floating", "subnets", "vms",
						 NULL };
	const char *v = ydoc_scalar(key);
	char why[ERRLEN];
	int r;

	t->key = key;
	t->node = n;
	if (name_check(v, "tenant", why))
		return ydoc_fail(d, key, EINVAL, err, "%s", why);
	if (names_reserved(NAMES_ROOT, v))
		return ydoc_fail(d, key, EINVAL, err,
				 "'%s' is a name maasfs uses at the root", v);
	if (names_test_net(v))
		return ydoc_fail(d, key, EINVAL, err, "tenant names beginning "
				 "with " TEST_NET_PREFIX " are maasfs's own "
				 "(the networks of test launches)");
	snprintf(t->name, sizeof t->name, "%s", v);
	if ((kind == SCHEMA_STATE || !empty_node(n)) &&
	    ydoc_check_map(d, n, "a tenant", kind == SCHEMA_STATE ? state_keys
								 : spec_keys,
			   err))
		return -EINVAL;
	if (kind == SCHEMA_STATE && (r = tenant_state_keys(d, n, t, err)))
		return r;
	if (kind == SCHEMA_SPEC && (r = tenant_spec_keys(d, n, t, err)))
		return r;
	return tenant_members(d, empty_node(n) ? NULL : n, kind, t, err);
}

int schema_tenants(struct ydoc *d, yaml_node_t *tenants, enum schema_doc kind,
		   const char *only, struct sc_doc *out, char *err)
{
	yaml_node_pair_t *p;
	int r;

	memset(out, 0, sizeof *out);
	if ((kind == SCHEMA_STATE || !empty_node(tenants)) &&
	    ydoc_check_map(d, tenants, "tenants", NULL, err))
		return -EINVAL;
	out->tenants = calloc(map_len(tenants) + 1, sizeof *out->tenants);
	if (!out->tenants)
		return err_set(err, ENOMEM, "out of memory");
	if (map_len(tenants))
		ydoc_map_each(tenants, p) {
			yaml_node_t *k = ydoc_node(d, p->key);

			if (only && ydoc_scalar(k) &&
			    strcmp(ydoc_scalar(k), only))
				return ydoc_fail(d, k, EINVAL, err,
						 "this is tenant %s's "
						 "spec.yaml: tenant %.40s "
						 "goes in its own, or in the "
						 "root's", only,
						 ydoc_scalar(k));
			r = parse_tenant(d, kind, &out->tenants[out->n], k,
					 ydoc_node(d, p->value), err);
			out->n++;
			if (r)
				return r;
		}
	return 0;
}

static void kv_free(struct sc_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; kv && i <= n; i++) {
		free(kv[i].k);
		free(kv[i].v);
	}
	free(kv);
}

void schema_free(struct sc_doc *doc)
{
	size_t i, j;

	for (i = 0; i < doc->n; i++) {
		struct sc_tenant *t = &doc->tenants[i];

		free(t->subnets);
		for (j = 0; t->vms && j <= t->nvms; j++)
			free(t->vms[j].secgroups);
		free(t->vms);
		kv_free(t->groups, t->ngroups);
		kv_free(t->floats, t->nfloats);
	}
	free(doc->tenants);
	memset(doc, 0, sizeof *doc);
}
