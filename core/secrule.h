/* Security group rules as text: a rule's line, a group's list of them
 * (secgroup.h says what they mean). */
#ifndef MAAS_SECRULE_H
#define MAAS_SECRULE_H

#include "model.h"

/* One rule "in|out PROTO [PORT[-PORT]] [from|to CIDR | group NAME]"
 * (PROTO tcp|udp|icmp|any); EINVAL with the reason. */
int secrule_parse(const char *line, struct secrule *out, char *err);
/* Its canonical form, one line with "\n". */
void secrule_format(const struct secrule *r, struct strbuf *out);
/* A group of t by name, NULL if none. Under the lock. */
struct secgroup *secgroup_find(const struct tenant *t, const char *name);

/* The lines of text (blank ones and # comments skipped) into rules[]
 * (room for SECRULES_MAX): EINVAL naming the line, ENOENT for a group t
 * does not have, E2BIG past SECRULES_MAX. */
int secrules_parse(const struct tenant *t, const char *text,
		   struct secrule *rules, size_t *n, char *err);

/* t's groups from the state: names[i] with the rules texts[i] ("; "
 * between rules); "default" keeps its own rules if not named. */
int secgroups_load(struct tenant *t, const char *const *names,
		   const char *const *texts, size_t n, char *err);
/* A group's rules as the state keeps them ("RULE; RULE"). */
void secrules_join(const struct secgroup *g, struct strbuf *out);

#endif
