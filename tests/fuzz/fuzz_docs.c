/* The documents maasfs reads: the clouds file, state.yaml and spec.yaml
 * (the schema's one parser), on a bare model with two clouds. The first
 * byte picks one; the rest is the document. */
#include "fuzz.h"

#include <pthread.h>
#include <stdio.h>

#include "../../core/config.h"
#include "../../core/schema.h"
#include "../../core/state.h"
#include "../../core/yamlio.h"

static const char clouds[] =
	"clouds:\n"
	"  local: {libvirt: \"qemu:///system\", vtep: 192.0.2.1}\n"
	"  cloud2: {ssh: {host: h, key: /k, known_hosts: /kh}, vtep: 192.0.2.2}\n";

static struct model *bare(void)
{
	struct model *m = calloc(1, sizeof *m);
	char err[ERRLEN];

	if (!m)
		abort();
	snprintf(m->statedir, sizeof m->statedir, "/var/lib/maasfs");
	pthread_mutex_init(&m->lock, NULL);
	m->vni_min = 1;
	m->vni_max = VNI_MAX;
	if (config_parse(m, "clouds.yaml", clouds, sizeof clouds - 1, err))
		abort();
	return m;
}

static void one_clouds(const char *s, size_t len)
{
	struct model *m = calloc(1, sizeof *m);
	char err[ERRLEN];
	size_t i;

	if (!m)
		abort();
	snprintf(m->statedir, sizeof m->statedir, "/var/lib/maasfs");
	(void)config_parse(m, "clouds.yaml", s, len, err);
	for (i = 0; i < m->nclouds; i++)
		free(m->clouds[i]);
	free(m->clouds);
	free(m);
}

static void one_state(const char *s, size_t len)
{
	static struct model *m;
	char err[ERRLEN];

	if (!m)
		m = bare();
	(void)state_parse(m, "state.yaml", s, len, err);
	model_clear(m);
}

static void one_spec(const char *s, size_t len)
{
	struct sc_doc sc = { NULL, 0 };
	yaml_node_t *tenants;
	char err[ERRLEN];
	struct ydoc d;

	if (ydoc_load(&d, "spec.yaml", s, len, err))
		return;
	if (ydoc_check_map(&d, ydoc_root(&d), "the document", NULL, err) == 0 &&
	    (tenants = ydoc_get(&d, ydoc_root(&d), "tenants")))
		(void)schema_tenants(&d, tenants, SCHEMA_SPEC, NULL, &sc, err);
	schema_free(&sc);
	ydoc_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const fns[])(const char *, size_t) = {
		one_clouds, one_state, one_spec,
	};
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_text(data + 1, size - 1);
	fns[data[0] % 3](s, strlen(s));
	free(s);
	return 0;
}
