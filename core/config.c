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
		    *s == '<' || *s == '>' || *s == '&' || *s == '\\')
			return false;
	return true;
}

static bool dir_valid(const char *s)
{
	return path_safe(s) && strlen(s) <= DIR_MAXLEN;
}

static int parse_cloud(struct model *m, struct ydoc *d, yaml_node_t *key,
		       yaml_node_t *n, bool *local_seen, char *err)
{
	static const char *const keys[] = { "libvirt", "ssh", "vtep", "images",
					    "disks", "accel", NULL };
	const char *name = ydoc_scalar(key);
	yaml_node_pair_t *p;
	struct cloud *c;
	char why[ERRLEN];
	uint32_t ip;

	if (name_check(name, "cloud", why))
		return ydoc_err(d, key, err, "%s", why);
	if (model_cloud(m, name))
		return ydoc_err(d, key, err, "cloud %s is listed twice", name);
	if (n->type == YAML_SCALAR_NODE && !*ydoc_scalar(n))
		n = NULL;   /* "cloud1:" alone: all defaults */
	if (n && ydoc_check_map(d, n, "a cloud", keys, err))
		return -EINVAL;
	if (n && ydoc_get(d, n, "ssh"))
		return ydoc_err(d, ydoc_get(d, n, "ssh"), err, "cloud %s: "
				"remote clouds (ssh) are not supported by "
				"this version of maasfs yet", name);
	if (*local_seen)
		return ydoc_err(d, key, err, "cloud %s: only one cloud can be "
				"this host (a cloud without ssh)", name);
	*local_seen = true;
	c = cloud_new(m, name);
	if (!c || cloud_add(m, c)) {
		free(c);
		return err_set(err, ENOMEM, "out of memory");
	}
	if (!n)
		return 0;
	ydoc_map_each(n, p) {
		const char *k = ydoc_scalar(ydoc_node(d, p->key));
		yaml_node_t *vn = ydoc_node(d, p->value);
		const char *v = ydoc_scalar(vn);

		if (!v)
			return ydoc_err(d, vn, err, "cloud %s: %s must be "
					"text", name, k);
		if (!strcmp(k, "libvirt")) {
			if (!uri_valid(v))
				return ydoc_err(d, vn, err, "cloud %s: bad "
						"libvirt URI", name);
			snprintf(c->uri, sizeof c->uri, "%s", v);
		} else if (!strcmp(k, "vtep")) {
			if (ip_parse(v, &ip))
				return ydoc_err(d, vn, err, "cloud %s: vtep "
						"must be an IPv4 address",
						name);
			snprintf(c->vtep, sizeof c->vtep, "%s", v);
		} else if (!strcmp(k, "images") || !strcmp(k, "disks")) {
			if (!dir_valid(v))
				return ydoc_err(d, vn, err, "cloud %s: %s must "
						"be an absolute path of "
						"[A-Za-z0-9/_.-]", name, k);
			snprintf(!strcmp(k, "images") ? c->images : c->disks,
				 DIR_MAXLEN + 1, "%s", v);
		} else if (!strcmp(k, "accel")) {
			if (strcmp(v, "kvm") && strcmp(v, "tcg") &&
			    strcmp(v, "auto"))
				return ydoc_err(d, vn, err, "cloud %s: accel "
						"must be kvm, tcg or auto",
						name);
			snprintf(c->accel, sizeof c->accel, "%s", v);
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
		r = parse_cloud(m, &d, ydoc_node(&d, p->key),
				ydoc_node(&d, p->value), &local_seen, err);
		if (r)
			goto out;
	}
	if (m->nclouds == 0)
		r = ydoc_err(&d, clouds, err, "no clouds listed");
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
