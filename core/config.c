#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlio.h"

static struct cloud *cloud_new(const struct model *m, const char *name)
{
	struct cloud *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->uri, sizeof c->uri, "qemu:///system");
	snprintf(c->images, sizeof c->images, "%.*s/images", DIR_MAXLEN - 8,
		 m->statedir);
	snprintf(c->disks, sizeof c->disks, "%.*s/disks", DIR_MAXLEN - 8,
		 m->statedir);
	snprintf(c->accel, sizeof c->accel, "auto");
	c->ssh.port = 22;
	snprintf(c->ssh.user, sizeof c->ssh.user, "root");
	snprintf(c->agent, sizeof c->agent, "maasfs");   /* the host's PATH */
	snprintf(c->agent_state, sizeof c->agent_state, "/var/lib/maasfs-agent");
	return c;
}

static int cloud_add(struct model *m, struct cloud *c)
{
	struct cloud **v = realloc(m->clouds, (m->nclouds + 1) * sizeof *v);

	if (!v)
		return -ENOMEM;
	m->clouds = v;
	m->clouds[m->nclouds++] = c;
	return 0;
}

static bool uri_valid(const char *s)
{
	if (!*s || strlen(s) >= 256 || !strstr(s, ":/"))
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f || *s == '\'' || *s == '"' ||
		    *s == '<' || *s == '>' || *s == '\\' || *s == '`')
			return false;
	return true;
}

static bool dir_valid(const char *s)
{
	return path_safe(s) && strlen(s) <= DIR_MAXLEN;
}

#define BAD(vn, ...) ydoc_err(d, vn, err, __VA_ARGS__)

static int parse_ssh(struct ydoc *d, yaml_node_t *n, struct cloud *c,
		     char *err)
{
	static const char *const keys[] = { "host", "port", "user", "key",
					    "known_hosts", NULL };
	yaml_node_pair_t *p;
	unsigned long port;

	if (ydoc_check_map(d, n, "ssh", keys, err))
		return -EINVAL;
	ydoc_map_each(n, p) {
		const char *k = ydoc_scalar(ydoc_node(d, p->key));
		yaml_node_t *vn = ydoc_node(d, p->value);
		const char *v = ydoc_scalar(vn);

		if (!v)
			return BAD(vn, "cloud %s: ssh %s must be text", c->name,
				   k);
		if (!strcmp(k, "host")) {
			if (!word_safe(v) || strlen(v) >= sizeof c->ssh.host)
				return BAD(vn, "cloud %s: bad ssh host",
					   c->name);
			snprintf(c->ssh.host, sizeof c->ssh.host, "%s", v);
		} else if (!strcmp(k, "port")) {
			if (ydoc_uint(d, vn, "ssh port", 1, 65535, &port, err))
				return -EINVAL;
			c->ssh.port = (unsigned)port;
		} else if (!strcmp(k, "user")) {
			if (!name_valid(v))
				return BAD(vn, "cloud %s: bad ssh user",
					   c->name);
			snprintf(c->ssh.user, sizeof c->ssh.user, "%s", v);
		} else {
			if (!dir_valid(v))
				return BAD(vn, "cloud %s: ssh %s must be an "
					   "absolute path of [A-Za-z0-9/_.-]",
					   c->name, k);
			snprintf(!strcmp(k, "key") ? c->ssh.key
						   : c->ssh.known_hosts,
				 DIR_MAXLEN + 1, "%s", v);
		}
	}
	if (!c->ssh.host[0] || !c->ssh.key[0] || !c->ssh.known_hosts[0])
		return BAD(n, "cloud %s: ssh needs host, key and known_hosts "
			   "(only key authentication, only known hosts)",
			   c->name);
	c->remote = true;
	return 0;
}

/* tls: {name: NAME}: live migrations use libvirt's TLS; NAME, if given,
 * is the name in the cloud's server certificate (the vtep address if
 * not). The certificates themselves are libvirtd's (qemu.conf's
 * migrate_tls_x509_cert_dir): libvirt takes no paths per migration. */
static int parse_tls(struct ydoc *d, yaml_node_t *n, struct cloud *c,
		     char *err)
{
	static const char *const keys[] = { "name", NULL };
	yaml_node_t *vn;
	const char *v;

	if (ydoc_check_map(d, n, "tls", keys, err))
		return -EINVAL;
	vn = ydoc_get(d, n, "name");
	if (vn) {
		v = ydoc_scalar(vn);
		if (!v || !word_safe(v) || !*v || strlen(v) >= sizeof c->tls_name)
			return BAD(vn, "cloud %s: tls name must be a host "
				   "name or an address", c->name);
		snprintf(c->tls_name, sizeof c->tls_name, "%s", v);
	}
	c->tls = true;
	return 0;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-' &&
		    *s != '.')
			return false;
	return true;
}

/* external: {cidr, gateway, pool: FIRST-LAST, bridge}: the cloud's
 * provider network. All four are needed; the pool lies inside the cidr's
 * host addresses and leaves out the gateway. */
static int parse_external(struct ydoc *d, yaml_node_t *n, struct cloud *c,
			  char *err)
{
	static const char *const keys[] = { "cidr", "gateway", "pool",
					    "bridge", NULL };
	static const char *const need[] = { "cidr", "gateway", "pool",
					    "bridge" };
	const char *v[4];
	char why[ERRLEN], a[IP_STRLEN], b[IP_STRLEN];
	const char *dash;
	size_t i;

	if (ydoc_check_map(d, n, "external", keys, err))
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		yaml_node_t *x = ydoc_get(d, n, need[i]);

		v[i] = x ? ydoc_scalar(x) : NULL;
		if (!v[i])
			return BAD(x ? x : n, "cloud %s: external needs cidr, "
				   "gateway, pool (FIRST-LAST) and bridge",
				   c->name);
	}
	if (cidr_parse(v[0], &c->ext.cidr, why))
		return BAD(ydoc_get(d, n, "cidr"), "cloud %s: external cidr: "
			   "%s", c->name, why);
	if (ip_parse(v[1], &c->ext.gateway) ||
	    !cidr_contains(&c->ext.cidr, c->ext.gateway) ||
	    c->ext.gateway == c->ext.cidr.net ||
	    c->ext.gateway == cidr_broadcast(&c->ext.cidr))
		return BAD(ydoc_get(d, n, "gateway"), "cloud %s: external "
			   "gateway must be a host address of %s", c->name,
			   v[0]);
	dash = strchr(v[2], '-');
	if (!dash || (size_t)(dash - v[2]) >= sizeof a ||
	    strlen(dash + 1) >= sizeof b)
		return BAD(ydoc_get(d, n, "pool"), "cloud %s: external pool "
			   "must be FIRST-LAST", c->name);
	memcpy(a, v[2], (size_t)(dash - v[2]));
	a[dash - v[2]] = '\0';
	snprintf(b, sizeof b, "%s", dash + 1);
	if (ip_parse(a, &c->ext.first) || ip_parse(b, &c->ext.last) ||
	    c->ext.first > c->ext.last ||
	    !cidr_contains(&c->ext.cidr, c->ext.first) ||
	    !cidr_contains(&c->ext.cidr, c->ext.last) ||
	    c->ext.first == c->ext.cidr.net ||
	    c->ext.last == cidr_broadcast(&c->ext.cidr) ||
	    (c->ext.first <= c->ext.gateway && c->ext.gateway <= c->ext.last))
		return BAD(ydoc_get(d, n, "pool"), "cloud %s: external pool "
			   "must be FIRST-LAST, host addresses of %s without "
			   "the gateway", c->name, v[0]);
	if (!ifname_ok(v[3]))
		return BAD(ydoc_get(d, n, "bridge"), "cloud %s: external "
			   "bridge must be an interface name", c->name);
	snprintf(c->ext.bridge, sizeof c->ext.bridge, "%s", v[3]);
	c->ext.on = true;
	return 0;
}

/* Clouds whose provider networks overlap share one: the same cidr and
 * gateway (their pools may differ; one allocation spans them). */
static int check_externals(struct model *m, struct ydoc *d, yaml_node_t *n,
			   char *err)
{
	size_t i, j;

	for (i = 0; i < m->nclouds; i++)
		for (j = i + 1; j < m->nclouds; j++) {
			const struct cloud *a = m->clouds[i], *b = m->clouds[j];

			if (!a->ext.on || !b->ext.on ||
			    !cidr_overlap(&a->ext.cidr, &b->ext.cidr))
				continue;
			if (a->ext.cidr.net != b->ext.cidr.net ||
			    a->ext.cidr.prefix != b->ext.cidr.prefix ||
			    a->ext.gateway != b->ext.gateway)
				return ydoc_err(d, n, err, "clouds %s and %s: "
						"external networks that overlap "
						"must be one (the same cidr and "
						"gateway)", a->name, b->name);
		}
	return 0;
}

/* One key of a cloud but ssh and tls: its value checked into c. */
static int parse_cloud_key(struct ydoc *d, struct cloud *c, const char *k,
			   yaml_node_t *vn, char *err)
{
	const char *name = c->name, *v = ydoc_scalar(vn);
	char *dst;

	if (!v)
		return BAD(vn, "cloud %s: %s must be text", name, k);
	if (!strcmp(k, "libvirt")) {
		if (!uri_valid(v))
			return BAD(vn, "cloud %s: bad libvirt URI", name);
		snprintf(c->uri, sizeof c->uri, "%s", v);
	} else if (!strcmp(k, "vtep")) {
		if (ip_parse(v, &c->vtep_ip))
			return BAD(vn, "cloud %s: vtep must be an IPv4 "
				   "address", name);
		snprintf(c->vtep, sizeof c->vtep, "%s", v);
	} else if (!strcmp(k, "netns")) {
		if (!name_valid(v))
			return BAD(vn, "cloud %s: bad netns", name);
		snprintf(c->netns, sizeof c->netns, "%s", v);
	} else if (!strcmp(k, "accel")) {
		if (strcmp(v, "kvm") && strcmp(v, "tcg") && strcmp(v, "auto"))
			return BAD(vn, "cloud %s: accel must be kvm, tcg or "
				   "auto", name);
		snprintf(c->accel, sizeof c->accel, "%s", v);
	} else if (!strcmp(k, "agent") && name_valid(v)) {
		/* a command the host's PATH finds */
		snprintf(c->agent, sizeof c->agent, "%s", v);
	} else {
		dst = !strcmp(k, "images") ? c->images
		    : !strcmp(k, "disks") ? c->disks
		    : !strcmp(k, "agent") ? c->agent : c->agent_state;
		if (!dir_valid(v))
			return BAD(vn, "cloud %s: %s must be an absolute path "
				   "of [A-Za-z0-9/_.-]%s", name, k,
				   strcmp(k, "agent") ? "" :
				   ", or a command name");
		snprintf(dst, DIR_MAXLEN + 1, "%s", v);
	}
	return 0;
}

static int parse_cloud(struct model *m, struct ydoc *d, yaml_node_t *key,
		       yaml_node_t *n, bool *local_seen, char *err)
{
	static const char *const keys[] = { "libvirt", "ssh", "netns",
					    "agent", "agent_state", "vtep",
					    "images", "disks", "accel", "tls",
					    "external", NULL };
	const char *name = ydoc_scalar(key);
	yaml_node_pair_t *p;
	struct cloud *c;
	char why[ERRLEN];

	if (name_check(name, "cloud", why))
		return BAD(key, "%s", why);
	if (model_cloud(m, name))
		return BAD(key, "cloud %s is listed twice", name);
	if (n->type == YAML_SCALAR_NODE && !*ydoc_scalar(n))
		n = NULL;   /* "cloud1:" alone: all defaults */
	if (n && ydoc_check_map(d, n, "a cloud", keys, err))
		return -EINVAL;
	c = cloud_new(m, name);
	if (!c || cloud_add(m, c)) {
		free(c);
		return err_set(err, ENOMEM, "out of memory");
	}
	if (n && ydoc_get(d, n, "ssh") &&
	    parse_ssh(d, ydoc_get(d, n, "ssh"), c, err))
		return -EINVAL;
	if (!c->remote && *local_seen)
		return BAD(key, "cloud %s: only one cloud can be this host (a "
			   "cloud without ssh)", name);
	*local_seen |= !c->remote;
	if (!n)
		return 0;
	ydoc_map_each(n, p) {
		const char *k = ydoc_scalar(ydoc_node(d, p->key));
		yaml_node_t *vn = ydoc_node(d, p->value);

		if (!strcmp(k, "tls")) {
			if (parse_tls(d, vn, c, err))
				return -EINVAL;
		} else if (!strcmp(k, "external")) {
			if (parse_external(d, vn, c, err))
				return -EINVAL;
		} else if (strcmp(k, "ssh") &&
			   parse_cloud_key(d, c, k, vn, err)) {
			return -EINVAL;
		}
	}
	return 0;
}

int config_parse(struct model *m, const char *name, const char *buf,
		 size_t len, char *err)
{
	static const char *const keys[] = { "clouds", NULL };
	struct ydoc d;
	yaml_node_t *root, *clouds;
	yaml_node_pair_t *p;
	bool local_seen = false;
	size_t i;
	int r;

	r = ydoc_load(&d, name, buf, len, err);
	if (r)
		return r;
	root = ydoc_root(&d);
	r = ydoc_check_map(&d, root, "the configuration", keys, err);
	if (r)
		goto out;
	clouds = ydoc_get(&d, root, "clouds");
	if (!clouds) {
		r = ydoc_err(&d, root, err, "no clouds: listed");
		goto out;
	}
	r = ydoc_check_map(&d, clouds, "clouds", NULL, err);
	if (r)
		goto out;
	ydoc_map_each(clouds, p) {
		if (m->nclouds == CLOUDS_MAX) {
			r = ydoc_err(&d, ydoc_node(&d, p->key), err, "more "
				     "than %d clouds", CLOUDS_MAX);
			goto out;
		}
		r = parse_cloud(m, &d, ydoc_node(&d, p->key),
				ydoc_node(&d, p->value), &local_seen, err);
		if (r)
			goto out;
	}
	if (m->nclouds == 0)
		r = ydoc_err(&d, clouds, err, "no clouds listed");
	for (i = 0; r == 0 && m->nclouds > 1 && i < m->nclouds; i++)
		if (!m->clouds[i]->vtep_ip)
			r = ydoc_err(&d, clouds, err, "cloud %s: a vtep is needed "
				     "when there are several clouds (VXLAN "
				     "joins their subnets)", m->clouds[i]->name);
	if (r == 0)
		r = check_externals(m, &d, clouds, err);
out:
	ydoc_free(&d);
	return r;
}

int config_load(struct model *m, const char *path, char *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct cloud *c;
	int r;

	if (!path) {
		c = cloud_new(m, CONFIG_LOCAL_CLOUD);
		if (!c || cloud_add(m, c)) {
			free(c);
			return err_set(err, ENOMEM, "out of memory");
		}
		return 0;
	}
	r = file_read(path, &sb, 1 << 20);
	if (r)
		return err_set(err, -r, "cannot read %s: %s", path,
			       strerror(-r));
	r = config_parse(m, path, sb_str(&sb), sb.len, err);
	sb_free(&sb);
	return r;
}
