#include "yamlio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int yw_write(void *data, unsigned char *buf, size_t size)
{
	struct yw *w = data;

	return sb_append(w->out, (const char *)buf, size) == 0;
}

static void yw_emit(struct yw *w, yaml_event_t *ev)
{
	if (w->failed) {
		yaml_event_delete(ev);
		return;
	}
	if (!yaml_emitter_emit(&w->em, ev))
		w->failed = 1;
}

static int begin(struct yw *w, struct strbuf *out, int width)
{
	yaml_event_t ev;

	memset(w, 0, sizeof *w);
	w->out = out;
	if (!yaml_emitter_initialize(&w->em))
		return -ENOMEM;
	yaml_emitter_set_output(&w->em, yw_write, w);
	yaml_emitter_set_unicode(&w->em, 1);
	yaml_emitter_set_width(&w->em, width);
	yaml_emitter_set_indent(&w->em, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	yw_emit(w, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	yw_emit(w, &ev);
	return w->failed ? -ENOMEM : 0;
}

int yw_begin(struct yw *w, struct strbuf *out)
{
	return begin(w, out, 100);
}

int yw_begin_one_line(struct yw *w, struct strbuf *out)
{
	return begin(w, out, -1);
}

int yw_end(struct yw *w, bool explicit_end)
{
	yaml_event_t ev;
	int failed;

	yaml_document_end_event_initialize(&ev, explicit_end ? 0 : 1);
	yw_emit(w, &ev);
	yaml_stream_end_event_initialize(&ev);
	yw_emit(w, &ev);
	if (!w->failed && !yaml_emitter_flush(&w->em))
		w->failed = 1;
	if (!w->failed && w->out->len && w->out->s[w->out->len - 1] != '\n' &&
	    sb_puts(w->out, "\n"))
		w->failed = 1;
	failed = w->failed;
	yaml_emitter_delete(&w->em);
	return failed ? -EIO : 0;
}

void yw_map(struct yw *w)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					    YAML_BLOCK_MAPPING_STYLE);
	yw_emit(w, &ev);
}

void yw_map_flow(struct yw *w)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					    YAML_FLOW_MAPPING_STYLE);
	yw_emit(w, &ev);
}

void yw_map_end(struct yw *w)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	yw_emit(w, &ev);
}

void yw_str(struct yw *w, const char *s)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL,
				     (yaml_char_t *)(uintptr_t)s,
				     (int)strlen(s), 1, 1,
				     YAML_ANY_SCALAR_STYLE);
	yw_emit(w, &ev);
}

void yw_key_str(struct yw *w, const char *key, const char *value)
{
	yw_str(w, key);
	yw_str(w, value);
}

void yw_key_uint(struct yw *w, const char *key, unsigned long value)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lu", value);
	yw_key_str(w, key, buf);
}

int ydoc_load(struct ydoc *d, const char *name, const char *buf, size_t len,
	      char *err)
{
	yaml_parser_t p;
	int r = 0;

	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	if (!yaml_parser_initialize(&p))
		return err_set(err, ENOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &d->doc)) {
		r = err_set(err, EINVAL, "%s:%zu:%zu: %s%s%s", name,
			    p.problem_mark.line + 1, p.problem_mark.column + 1,
			    p.problem ? p.problem : "invalid YAML",
			    p.context ? " " : "", p.context ? p.context : "");
	} else {
		d->loaded = true;
		if (!yaml_document_get_root_node(&d->doc))
			r = err_set(err, EINVAL, "%s: empty document", name);
	}
	yaml_parser_delete(&p);
	if (r)
		ydoc_free(d);
	return r;
}

void ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = false;
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *ydoc_node(struct ydoc *d, int id)
{
	return yaml_document_get_node(&d->doc, id);
}

int ydoc_err(const struct ydoc *d, const yaml_node_t *n, char *err,
	     const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!n)
		return err_set(err, EINVAL, "%s: %s", d->name, msg);
	return err_set(err, EINVAL, "%s:%zu:%zu: %s", d->name,
		       n->start_mark.line + 1, n->start_mark.column + 1, msg);
}

const char *ydoc_scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

int ydoc_check_map(struct ydoc *d, yaml_node_t *n, const char *what,
		   const char *const *allowed, char *err)
{
	yaml_node_pair_t *p, *q;

	if (!n || n->type != YAML_MAPPING_NODE)
		return ydoc_err(d, n, err, "%s must be a mapping", what);
	ydoc_map_each(n, p) {
		yaml_node_t *k = ydoc_node(d, p->key);
		const char *ks = ydoc_scalar(k);
		size_t i;

		if (!ks)
			return ydoc_err(d, k, err, "keys of %s must be plain "
					"names", what);
		for (q = n->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(ks, ydoc_scalar(ydoc_node(d, q->key))))
				return ydoc_err(d, k, err, "duplicate key '%s' "
						"in %s", ks, what);
		if (!allowed)
			continue;
		for (i = 0; allowed[i]; i++)
			if (!strcmp(ks, allowed[i]))
				break;
		if (!allowed[i])
			return ydoc_err(d, k, err, "unknown key '%s' in %s",
					ks, what);
	}
	return 0;
}

yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *p;

	if (!n || n->type != YAML_MAPPING_NODE)
		return NULL;
	ydoc_map_each(n, p) {
		const char *ks = ydoc_scalar(ydoc_node(d, p->key));
		if (ks && !strcmp(ks, key))
			return ydoc_node(d, p->value);
	}
	return NULL;
}

int ydoc_uint(struct ydoc *d, yaml_node_t *n, const char *what,
	      unsigned long min, unsigned long max, unsigned long *out,
	      char *err)
{
	const char *s = ydoc_scalar(n);
	char *end;
	unsigned long v;

	if (!s || !*s || *s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return ydoc_err(d, n, err, "%s must be a number", what);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v < min || v > max)
		return ydoc_err(d, n, err, "%s must be a number from %lu to "
				"%lu", what, min, max);
	*out = v;
	return 0;
}
