/* Security group rules as text (secrule.h). */
#include "secrule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = { { "any", 0 }, { "icmp", 1 }, { "tcp", 6 }, { "udp", 17 } };

/* "A.B.C.D/N", N 0..32, no host bits. */
static int peer_cidr(const char *s, struct cidr *c, char *err)
{
	char a[IP_STRLEN], *end;
	const char *slash = strchr(s, '/');
	unsigned long p;

	if (!slash || (size_t)(slash - s) >= sizeof a || !slash[1])
		return err_set(err, EINVAL, "'%.40s' is not a CIDR", s);
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	p = strtoul(slash + 1, &end, 10);
	if (ip_parse(a, &c->net) || *end || p > 32 || slash[1] == '-')
		return err_set(err, EINVAL, "'%.40s' is not a CIDR", s);
	c->prefix = (unsigned)p;
	if (p < 32 && (c->net & (0xffffffffu >> p)))
		return err_set(err, EINVAL, "'%.40s' has host bits set", s);
	return 0;
}

static int ports_of(const char *s, struct secrule *r, char *err)
{
	char *end;
	unsigned long lo = strtoul(s, &end, 10), hi = lo;

	if (*end == '-')
		hi = strtoul(end + 1, &end, 10);
	if (*s < '0' || *s > '9' || *end || lo < 1 || hi > 65535 || lo > hi)
		return err_set(err, EINVAL, "'%.20s': ports are PORT or "
			       "FIRST-LAST, 1 to 65535", s);
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return 0;
}

/* The peer: from|to CIDR, or group NAME. */
static int peer_of(char *kw, char *val, struct secrule *r, char *err)
{
	if (!strcmp(kw, "group")) {
		if (!val || name_check(val, "group", err))
			return err_set(err, EINVAL, "group needs a group's name");
		snprintf(r->group, sizeof r->group, "%s", val);
		return 0;
	}
	if (strcmp(kw, r->in ? "from" : "to"))
		return err_set(err, EINVAL, "'%.20s': an %s rule's peer is "
			       "'%s CIDR' or 'group NAME'", kw,
			       r->in ? "in" : "out", r->in ? "from" : "to");
	if (!val)
		return err_set(err, EINVAL, "%s needs a CIDR", kw);
	r->has_cidr = true;
	return peer_cidr(val, &r->cidr, err);
}

int secrule_parse(const char *line, struct secrule *out, char *err)
{
	char buf[256], *save = NULL, *t[6] = { NULL };
	size_t n = 0, i;
	int r;

	memset(out, 0, sizeof *out);
	if (strlen(line) >= sizeof buf)
		return err_set(err, EINVAL, "rule too long");
	snprintf(buf, sizeof buf, "%s", line);
	for (t[0] = strtok_r(buf, " \t", &save); t[n] && n < 5;)
		t[++n] = strtok_r(NULL, " \t", &save);
	if (n < 2 || t[5] || (strcmp(t[0], "in") && strcmp(t[0], "out")))
		return err_set(err, EINVAL, "a rule is in|out PROTO [PORTS] "
			       "[from|to CIDR | group NAME]");
	out->in = !strcmp(t[0], "in");
	for (i = 0; i < sizeof protos / sizeof *protos; i++)
		if (!strcmp(t[1], protos[i].name))
			break;
	if (i == sizeof protos / sizeof *protos)
		return err_set(err, EINVAL, "'%.20s': PROTO is tcp, udp, icmp "
			       "or any", t[1]);
	out->proto = protos[i].proto;
	i = 2;
	if (n > 2 && (out->proto == 6 || out->proto == 17) && t[2][0] >= '0' &&
	    t[2][0] <= '9' && (r = ports_of(t[i++], out, err)))
		return r;
	if (i < n && (r = peer_of(t[i], i + 1 < n ? t[i + 1] : NULL, out, err)))
		return r;
	if (i + (i < n ? 2 : 0) != n)
		return err_set(err, EINVAL, "'%.20s': not understood",
			       t[i < n ? i : n - 1]);
	return 0;
}

void secrule_format(const struct secrule *r, struct strbuf *out)
{
	char c[CIDR_STRLEN];
	size_t i;

	for (i = 0; protos[i].proto != r->proto; i++)
		;
	sb_printf(out, "%s %s", r->in ? "in" : "out", protos[i].name);
	if (r->lo && r->lo == r->hi)
		sb_printf(out, " %u", r->lo);
	else if (r->lo)
		sb_printf(out, " %u-%u", r->lo, r->hi);
	if (r->has_cidr) {
		cidr_format(&r->cidr, c);
		sb_printf(out, " %s %s", r->in ? "from" : "to", c);
	} else if (r->group[0]) {
		sb_printf(out, " group %s", r->group);
	}
	sb_puts(out, "\n");
}

struct secgroup *secgroup_find(const struct tenant *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ngroups; i++)
		if (!strcmp(t->groups[i].name, name))
			return &t->groups[i];
	return NULL;
}

/* The lines of text into rules[] (at most SECRULES_MAX). */
int secrules_parse(const struct tenant *t, const char *text,
		   struct secrule *rules, size_t *n, char *err)
{
	char *buf = strdup(text), *line, *save = NULL, why[ERRLEN];
	size_t no = 0;
	int r = buf ? 0 : err_set(err, ENOMEM, "out of memory");

	*n = 0;
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; r == 0 && line;
	     line = strtok_r(NULL, "\n", &save)) {
		no++;
		line += strspn(line, " \t\r");
		if (!*line || *line == '#')
			continue;
		line[strcspn(line, "\r")] = '\0';
		if (*n >= SECRULES_MAX)
			r = err_set(err, E2BIG, "more than %d rules",
				    SECRULES_MAX);
		else if (secrule_parse(line, &rules[*n], why))
			r = err_set(err, EINVAL, "line %zu: %s", no, why);
		else if (rules[*n].group[0] &&
			 !secgroup_find(t, rules[*n].group))
			r = err_set(err, ENOENT, "line %zu: no group %s", no,
				    rules[*n].group);
		else
			(*n)++;
	}
	free(buf);
	return r;
}


void secrules_join(const struct secgroup *g, struct strbuf *out)
{
	struct strbuf one = STRBUF_INIT;
	size_t i;

	for (i = 0; i < g->nrules; i++) {
		one.len = 0;
		secrule_format(&g->rules[i], &one);
		sb_printf(out, "%s%.*s", i ? "; " : "", (int)one.len - 1,
			  sb_str(&one));
	}
	sb_free(&one);
}

/* The groups named, no rules yet (default first). */
static int groups_named(struct tenant *t, const char *const *names,
			size_t n, char *err)
{
	struct secgroup *g = calloc(n + 2, sizeof *g);
	size_t i, k = 1;

	if (!g)
		return err_set(err, ENOMEM, "out of memory");
	g[0] = t->groups[0];   /* default, its rules for now */
	t->groups[0].rules = NULL;
	for (i = 0; i < n; i++) {
		if (name_check(names[i], "group", err) ||
		    (strcmp(names[i], SECGROUP_DEFAULT) &&
		     secgroup_find(&(struct tenant){ .groups = g,
						     .ngroups = k },
				   names[i]))) {
			secgroups_free(g, k);
			return err_set(err, EINVAL, "bad group %.64s",
				       names[i]);
		}
		if (strcmp(names[i], SECGROUP_DEFAULT))
			snprintf(g[k++].name, sizeof g->name, "%s", names[i]);
	}
	secgroups_free(t->groups, t->ngroups);
	t->groups = g;
	t->ngroups = k;
	return 0;
}

int secgroups_load(struct tenant *t, const char *const *names,
		   const char *const *texts, size_t n, char *err)
{
	struct secgroup *g;
	char why[ERRLEN] = "", *text;
	size_t i, j;
	int r;

	if (n > SECGROUPS_MAX)
		return err_set(err, EINVAL, "more than %d groups",
			       SECGROUPS_MAX);
	if ((r = groups_named(t, names, n, err)))
		return r;
	for (i = 0; i < n; i++) {
		g = secgroup_find(t, names[i]);
		text = strdup(texts[i]);
		for (j = 0; text && text[j]; j++)
			if (text[j] == ';')
				text[j] = '\n';
		free(g->rules);
		g->rules = calloc(SECRULES_MAX + 1, sizeof *g->rules);
		g->nrules = 0;
		r = !text || !g->rules ? err_set(err, ENOMEM, "out of memory")
		    : secrules_parse(t, text, g->rules, &g->nrules, why);
		free(text);
		if (r)
			return err_set(err, -r, "group %s: %s", names[i], why);
	}
	return 0;
}
