#include "yamlio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The writer: block and flow mappings of scalars, in the layout libyaml
 * gives them (two-space indent, "key: value", "{a: b, c: d}"), written
 * straight into the buffer. libyaml's emitter analyses every event and
 * costs ~4 µs a scalar: 20 ms for a state of 5,000 tenants, on every
 * change. Scalars are plain when YAML reads them back as the same text,
 * else double-quoted with escapes. */

/* Pieces go straight into the buffer while there is room; the NUL ends
 * it at yw_end (and whenever it grows). */
static inline void put(struct yw *w, const char *s, size_t n)
{
	struct strbuf *b = w->out;

	if (b->len + n < b->cap) {
		memcpy(b->s + b->len, s, n);
		b->len += n;
	} else if (!w->failed && sb_append(b, s, n)) {
		w->failed = 1;
	}
}

static void puts_(struct yw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void indent(struct yw *w, int n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		int k = n < 32 ? n : 32;

		put(w, spaces, (size_t)k);
		n -= k;
	}
}

/* Plain in block and flow context: no indicator first, no ": " or " #",
 * no flow indicators, printable ASCII, no blank at either end. Returns
 * its length if so, else 0. */
enum { C_BAD = 1, C_FIRST = 2 };

static const unsigned char cclass[256] = {
	[0 ... 0x1f] = C_BAD, [0x7f ... 0xff] = C_BAD,
	[','] = C_BAD, ['['] = C_BAD, [']'] = C_BAD, ['{'] = C_BAD,
	['}'] = C_BAD,
	['-'] = C_FIRST, ['?'] = C_FIRST, [':'] = C_FIRST, ['#'] = C_FIRST,
	['&'] = C_FIRST, ['*'] = C_FIRST, ['!'] = C_FIRST, ['|'] = C_FIRST,
	['>'] = C_FIRST, ['\''] = C_FIRST, ['"'] = C_FIRST, ['%'] = C_FIRST,
	['@'] = C_FIRST, ['`'] = C_FIRST, [' '] = C_FIRST,
};

static size_t plain_ok(const char *s)
{
	size_t i;
	unsigned char c;

	if (!s[0] || cclass[(unsigned char)s[0]])
		return 0;
	for (i = 0; (c = (unsigned char)s[i]); i++) {
		if (cclass[c] & C_BAD)
			return 0;
		if (c == ':' && (s[i + 1] == ' ' || s[i + 1] == '\0'))
			return 0;
		if (c == '#' && s[i - 1] == ' ')
			return 0;
	}
	return s[i - 1] == ' ' ? 0 : i;
}

static void scalar(struct yw *w, const char *s)
{
	const char *p;
	char esc[8];
	size_t n = plain_ok(s);

	if (n) {
		put(w, s, n);
		return;
	}
	put(w, "\"", 1);
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(w, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			puts_(w, esc);
		} else {
			put(w, p, 1);   /* UTF-8 passes as it is */
		}
	}
	put(w, "\"", 1);
}

int yw_begin(struct yw *w, struct strbuf *out)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	return 0;
}

int yw_end(struct yw *w, bool explicit_end)
{
	if (w->depth != 0)
		w->failed = 1;
	if (!w->failed && w->out->len && w->out->s[w->out->len - 1] != '\n')
		put(w, "\n", 1);
	if (explicit_end)
		puts_(w, "...\n");
	if (!w->failed && sb_reserve(w->out, 0) == 0)
		w->out->s[w->out->len] = '\0';
	return w->failed ? -EIO : 0;
}

/* A value is done: the mapping holding it takes its next key. */
static void value_done(struct yw *w)
{
	struct yw_level *l;

	if (w->depth == 0) {
		put(w, "\n", 1);
		return;
	}
	l = &w->st[w->depth - 1];
	if (!l->flow)
		put(w, "\n", 1);
	l->key_next = true;
	l->n++;
}

static void map_start(struct yw *w, bool flow)
{
	struct yw_level *l = w->depth ? &w->st[w->depth - 1] : NULL;
	struct yw_level *nl;

	if (w->depth >= YW_DEPTH_MAX || (l && l->key_next)) {
		w->failed = 1;   /* deeper than we write, or a mapping as key */
		return;
	}
	nl = &w->st[w->depth];
	memset(nl, 0, sizeof *nl);
	nl->flow = flow || (l && l->flow);
	nl->key_next = true;
	nl->indent = l ? l->indent + 2 : 0;
	if (nl->flow)
		puts_(w, l ? " {" : "{");
	else if (l)
		nl->pending = true;   /* "\n" before the first key, or " {}" */
	w->depth++;
}

void yw_map(struct yw *w)
{
	map_start(w, false);
}

void yw_map_flow(struct yw *w)
{
	map_start(w, true);
}

void yw_map_end(struct yw *w)
{
	struct yw_level *l, *parent;
	bool line_open = true;   /* "}" or " {}" still needs its newline */

	if (w->depth == 0) {
		w->failed = 1;
		return;
	}
	l = &w->st[--w->depth];
	if (l->flow)
		put(w, "}", 1);
	else if (l->pending)
		puts_(w, " {}");
	else
		line_open = false;   /* its last entry ended the line */
	if (w->depth == 0) {
		if (line_open)
			put(w, "\n", 1);
		return;
	}
	parent = &w->st[w->depth - 1];
	if (!parent->flow && line_open)
		put(w, "\n", 1);
	parent->key_next = true;
	parent->n++;
}

void yw_str(struct yw *w, const char *s)
{
	struct yw_level *l;

	if (w->depth == 0) {   /* a document that is one scalar */
		scalar(w, s);
		put(w, "\n", 1);
		return;
	}
	l = &w->st[w->depth - 1];
	if (l->key_next) {
		if (l->flow) {
			if (l->n)
				puts_(w, ", ");
		} else {
			if (l->pending) {
				put(w, "\n", 1);
				l->pending = false;
			}
			indent(w, l->indent);
		}
		scalar(w, s);
		put(w, ":", 1);
		l->key_next = false;
		return;
	}
	put(w, " ", 1);
	scalar(w, s);
	value_done(w);
}

void yw_key_str(struct yw *w, const char *key, const char *value)
{
	yw_str(w, key);
	yw_str(w, value);
}

void yw_key_uint(struct yw *w, const char *key, unsigned long value)
{
	char buf[24], *p = buf + sizeof buf;

	*--p = '\0';
	do
		*--p = (char)('0' + value % 10);
	while (value /= 10);
	yw_key_str(w, key, p);
}

/* The block mapping the next entry goes into, its line begun; NULL (and
 * failed) if the writer is not before a key of one. */
static struct yw_level *entry_level(struct yw *w)
{
	struct yw_level *l = w->depth ? &w->st[w->depth - 1] : NULL;

	if (!l || l->flow || !l->key_next) {
		w->failed = 1;
		return NULL;
	}
	if (l->pending) {
		put(w, "\n", 1);
		l->pending = false;
	}
	return l;
}

size_t yw_entry_start(struct yw *w)
{
	entry_level(w);
	return w->out->len;
}

void yw_entry_raw(struct yw *w, const char *s, size_t n)
{
	struct yw_level *l = entry_level(w);

	if (!l)
		return;
	put(w, s, n);
	l->n++;
}

/* Where flow collections nest deeper than YDOC_DEPTH_MAX (a 1-based line),
 * or 0: brackets in quoted scalars and comments do not count; a plain
 * scalar holding one may count (never in a document of maasfs's). */
static size_t too_deep(const char *buf, size_t len)
{
	size_t i, line = 1, depth = 0;
	char quote = 0;
	bool comment = false;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\n') {
			line++;
			comment = false;
			continue;
		}
		if (comment)
			continue;
		if (quote) {
			if (c == quote)
				quote = 0;
			else if (c == '\\' && quote == '"' && i + 1 < len)
				i++;
			continue;
		}
		if (c == '#' && (i == 0 || buf[i - 1] == ' ' ||
				 buf[i - 1] == '\t' || buf[i - 1] == '\n'))
			comment = true;
		else if (c == '"' || c == '\'')
			quote = c;
		else if (c == '[' || c == '{') {
			if (++depth > YDOC_DEPTH_MAX)
				return line;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

int ydoc_load(struct ydoc *d, const char *name, const char *buf, size_t len,
	      char *err)
{
	yaml_parser_t p;
	size_t deep;
	int r = 0;

	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	if ((deep = too_deep(buf, len)))
		return err_set(err, E2BIG, "%s:%zu: nested deeper than %d",
			       name, deep, YDOC_DEPTH_MAX);
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

static int vfail(const struct ydoc *d, const yaml_node_t *n, int code,
		 char *err, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static int vfail(const struct ydoc *d, const yaml_node_t *n, int code,
		 char *err, const char *fmt, va_list ap)
{
	char msg[ERRLEN];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!n)
		return err_set(err, code, "%s: %s", d->name, msg);
	return err_set(err, code, "%s:%zu:%zu: %s", d->name,
		       n->start_mark.line + 1, n->start_mark.column + 1, msg);
}

int ydoc_err(const struct ydoc *d, const yaml_node_t *n, char *err,
	     const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(d, n, EINVAL, err, fmt, ap);
	va_end(ap);
	return r;
}

int ydoc_fail(const struct ydoc *d, const yaml_node_t *n, int code,
	      char *err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(d, n, code, err, fmt, ap);
	va_end(ap);
	return r;
}

const char *ydoc_scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key of map n (all scalars) that an earlier one repeats, or
 * NULL: sorted, so that 40,000 keys cost what they weigh, not their
 * square. */
/* A key of mapping n that comes twice (its second place, in *out): 1, 0
 * if none, -ENOMEM. Sorting keeps it linear-logarithmic. */
static int dup_key(struct ydoc *d, yaml_node_t *n, yaml_node_t **out)
{
	yaml_node_pair_t *p, *start = n->data.mapping.pairs.start;
	size_t i, k = (size_t)(n->data.mapping.pairs.top - start);
	const char **ks, *dup = NULL;
	yaml_node_t *seen = NULL, *key;

	if (k < 2)
		return 0;
	ks = malloc(k * sizeof *ks);
	if (!ks)
		return -ENOMEM;
	for (i = 0; i < k; i++)
		ks[i] = ydoc_scalar(ydoc_node(d, start[i].key));
	qsort(ks, k, sizeof *ks, cmp_str);
	for (i = 1; i < k && !dup; i++)
		if (!strcmp(ks[i - 1], ks[i]))
			dup = ks[i];
	free(ks);
	if (!dup)
		return 0;
	ydoc_map_each(n, p) {      /* its second place, for the message */
		key = ydoc_node(d, p->key);
		if (strcmp(ydoc_scalar(key), dup))
			continue;
		if (seen) {
			*out = key;
			return 1;
		}
		seen = key;
	}
	return 0;
}

int ydoc_check_map(struct ydoc *d, yaml_node_t *n, const char *what,
		   const char *const *allowed, char *err)
{
	yaml_node_pair_t *p;
	yaml_node_t *dup = NULL;
	int r;

	if (!n || n->type != YAML_MAPPING_NODE)
		return ydoc_err(d, n, err, "%s must be a mapping", what);
	ydoc_map_each(n, p)
		if (!ydoc_scalar(ydoc_node(d, p->key)))
			return ydoc_err(d, ydoc_node(d, p->key), err, "keys of "
					"%s must be plain names", what);
	r = dup_key(d, n, &dup);
	if (r < 0)
		return err_set(err, ENOMEM, "out of memory");
	if (r)
		return ydoc_err(d, dup, err, "duplicate key '%s' in %s",
				ydoc_scalar(dup), what);
	ydoc_map_each(n, p) {
		yaml_node_t *k = ydoc_node(d, p->key);
		const char *ks = ydoc_scalar(k);
		size_t i;

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
