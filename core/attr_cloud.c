/* A cloud's files: uri, vtep, external, status (never a blocking read),
 * state (active or drain: a write of drain evacuates it), vms */
#include "attr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "evacuate.h"
#include "model.h"

static int show_cloud_uri(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->cloud->uri);
}

static int show_cloud_vtep(const struct model *m, const struct objref *o,
			   struct strbuf *out)
{
	(void)m;
	return sb_printf(out, "%s\n", o->cloud->vtep[0] ? o->cloud->vtep
							: "none");
}

/* Its provider network, as the clouds file names it, or "none". */
static int show_cloud_external(const struct model *m, const struct objref *o,
			       struct strbuf *out)
{
	const struct cloud *c = o->cloud;
	char n[CIDR_STRLEN], g[IP_STRLEN], a[IP_STRLEN], b[IP_STRLEN];

	(void)m;
	if (!c->ext.on)
		return sb_puts(out, "none\n");
	cidr_format(&c->ext.cidr, n);
	ip_format(c->ext.gateway, g);
	ip_format(c->ext.first, a);
	ip_format(c->ext.last, b);
	return sb_printf(out, "cidr %s gateway %s pool %s-%s bridge %s\n", n,
			 g, a, b, c->ext.bridge);
}

/* From the cloud's background check: never a blocking read. */
static int show_cloud_status(const struct model *m, const struct objref *o,
			     struct strbuf *out)
{
	struct hostdrv *d = o->cloud->host;
	struct virtdrv *v = o->cloud->virt;
	struct strbuf why = STRBUF_INIT;
	size_t at = out->len;

	(void)m;
	d->ops->status(d, out);
	if (!strncmp(sb_str(out) + at, "up", 2) && v->ops->status &&
	    v->ops->status(v, &why)) {
		out->len = at;
		sb_printf(out, "down: %s", sb_str(&why));
	}
	sb_free(&why);
	sb_puts(out, "\n");
	cloud_evac_show(o->cloud, out);
	return 0;
}

/* "active", or "drain" (evacuate.h): it takes no new placements. */
static int show_cloud_state(const struct model *m, const struct objref *o,
			    struct strbuf *out)
{
	(void)m;
	return sb_puts(out, o->cloud->draining ? "drain\n" : "active\n");
}

static int store_cloud_state(struct model *m, const struct node *n,
			     const char *value, char *err)
{
	return cloud_set_state(m, n->cloud, value, err);
}

static int show_cloud_vms(const struct model *m, const struct objref *o,
			  struct strbuf *out)
{
	const struct tenant *t;
	const struct vm *v;
	size_t i, j;

	objset_each(&m->tenants, i, t)
		objset_each(&t->vms, j, v)
			if (v->conf.location == o->cloud &&
			    v->state != OBJ_CREATING)
				sb_printf(out, "%s/%s\n", t->name, v->name);
	return 0;
}

const struct attr attrs_cloud[] = {
	{ "uri", 0444, show_cloud_uri, NULL, CHANGE_OP },
	{ "vtep", 0444, show_cloud_vtep, NULL, CHANGE_OP },
	{ "external", 0444, show_cloud_external, NULL, CHANGE_OP },
	{ "status", 0444, show_cloud_status, NULL, CHANGE_DRIVER },
	{ "state", 0644, show_cloud_state, store_cloud_state, CHANGE_MODEL },
	{ "vms", 0400, show_cloud_vms, NULL, CHANGE_MODEL },   /* tenants' */
	{ NULL, 0, NULL, NULL, CHANGE_OP },
};
