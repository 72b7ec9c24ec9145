/* YAML both ways: a writer into a strbuf for canonical block YAML, and
 * (libyaml) a loaded document with errors that name file, line and column. */
#ifndef MAAS_YAMLIO_H
#define MAAS_YAMLIO_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "../lib/util.h"

#define YW_DEPTH_MAX 16

struct yw_level {
	bool flow;        /* {a: b} on one line */
	bool key_next;    /* a key comes next, else a value */
	bool pending;     /* a block mapping without a key yet */
	int indent;
	int n;            /* entries written */
};

struct yw {
	struct strbuf *out;
	int failed;
	int depth;
	struct yw_level st[YW_DEPTH_MAX];
};

/* Flow mappings stay on one line however long (spec.yaml: one object a
 * line, for sed and diff). */
int yw_begin(struct yw *w, struct strbuf *out);
/* explicit_end writes "..." so that a truncated file is detectable. */
int yw_end(struct yw *w, bool explicit_end);
void yw_map(struct yw *w);
void yw_map_flow(struct yw *w);
void yw_map_end(struct yw *w);
void yw_str(struct yw *w, const char *s);
void yw_key_str(struct yw *w, const char *key, const char *value);
void yw_key_uint(struct yw *w, const char *key, unsigned long value);
/* Entries of a block mapping kept for reuse: yw_entry_start() before
 * writing one (returns where it starts in the output), and later
 * yw_entry_raw() puts the bytes from there to the end of its value back
 * at the same place of another document, as one entry. */
size_t yw_entry_start(struct yw *w);
void yw_entry_raw(struct yw *w, const char *s, size_t n);

struct ydoc {
	yaml_document_t doc;
	bool loaded;
	char name[128];    /* file name for messages */
};

/* Flow collections ([ and {) nest at most this deep: libyaml's time grows
 * with the square of that depth (40,000 took 6 s here). */
#define YDOC_DEPTH_MAX 64
/* Parses one document: E2BIG past YDOC_DEPTH_MAX, else EINVAL for what
 * is not YAML. Errors name the line and column. */
int ydoc_load(struct ydoc *d, const char *name, const char *buf, size_t len,
	      char *err);
void ydoc_free(struct ydoc *d);
yaml_node_t *ydoc_root(struct ydoc *d);
yaml_node_t *ydoc_node(struct ydoc *d, int id);
/* "name:line:col: message" into err; returns -EINVAL. */
int ydoc_err(const struct ydoc *d, const yaml_node_t *n, char *err,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with another errno: returns -code. */
int ydoc_fail(const struct ydoc *d, const yaml_node_t *n, int code,
	      char *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The scalar's text, or NULL if n is not a scalar. */
const char *ydoc_scalar(const yaml_node_t *n);
/* Checks that n is a mapping without duplicate keys whose keys are all
 * scalars, and (if allowed is not NULL) among the NULL-terminated allowed
 * names. */
int ydoc_check_map(struct ydoc *d, yaml_node_t *n, const char *what,
		   const char *const *allowed, char *err);
/* The value node of key in mapping n, or NULL. */
yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *n, const char *key);
/* An unsigned decimal integer scalar within [min, max]. */
int ydoc_uint(struct ydoc *d, yaml_node_t *n, const char *what,
	      unsigned long min, unsigned long max, unsigned long *out,
	      char *err);

#define ydoc_map_each(n, pair)                                      \
	for ((pair) = (n)->data.mapping.pairs.start;                \
	     (pair) < (n)->data.mapping.pairs.top; (pair)++)

#endif
