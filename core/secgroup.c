/* Security groups (secgroup.h). */
#include "secgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/log.h"
#include "names.h"
#include "secrule.h"
#include "ports.h"
#include "txn.h"

/* ---- changes ---- */

/* A deep copy of t's groups, with room for one more. */
static int groups_copy(const struct tenant *t, struct secgroup **out,
		       char *err)
{
	struct secgroup *g = calloc(t->ngroups + 1, sizeof *g);
	size_t i;

	for (i = 0; g && i < t->ngroups; i++) {
		g[i] = t->groups[i];
		g[i].rules = calloc(g[i].nrules + 1, sizeof *g[i].rules);
		if (!g[i].rules)
			break;
		memcpy(g[i].rules, t->groups[i].rules,
		       g[i].nrules * sizeof *g[i].rules);
	}
	if (!g || i < t->ngroups) {
		secgroups_free(g, i);
		return err_set(err, ENOMEM, "out of memory");
	}
	*out = g;
	return 0;
}

/* Edits a copy g[*n] of t's groups (under the lock). */
typedef int (*group_edit)(const struct tenant *t, struct secgroup *g,
			  size_t *n, const void *arg, char *err);

static void groups_swap(struct model *m, struct tenant *t,
			struct secgroup **g, size_t *n)
{
	struct secgroup *og = t->groups;
	size_t on = t->ngroups;

	pthread_mutex_lock(&m->lock);
	t->groups = *g;
	t->ngroups = *n;
	t->mtime = time(NULL);
	pthread_mutex_unlock(&m->lock);
	*g = og;
	*n = on;
}

/* Saved, then applied to the clouds (sync); undone if either fails. */
static int commit_sync(struct model *m, struct tenant *t, bool sync,
		       char *err)
{
	struct txn x;
	int r;

	model_note(m, t->name);
	txn_begin(&x, m, t);
	r = txn_commit(&x, err);
	if (r == 0 && sync)
		r = ports_sync(m, t->name, NULL, err);
	return r;
}

static int groups_change(struct model *m, const char *name, group_edit edit,
			 const void *arg, bool sync, char *err)
{
	struct secgroup *g = NULL;
	struct tenant *t;
	size_t n = 0;
	int r;

	pthread_mutex_lock(&m->lock);
	r = tenant_free_for_change(m, name, &t, err);
	if (r == 0 && (r = groups_copy(t, &g, err)) == 0) {
		n = t->ngroups;
		r = edit(t, g, &n, arg, err);
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		secgroups_free(g, n);
		return r;
	}
	groups_swap(m, t, &g, &n);   /* g, n: the old ones now */
	r = commit_sync(m, t, sync, err);
	if (r) {
		groups_swap(m, t, &g, &n);
		commit_sync(m, t, sync, NULL);
	}
	secgroups_free(g, n);
	return r;
}

static int edit_create(const struct tenant *t, struct secgroup *g,
		       size_t *n, const void *arg, char *err)
{
	const char *name = arg;
	int r = name_check(name, "group", err);

	if (r)
		return r;
	if (secgroup_find(t, name))
		return err_set(err, EEXIST, "group %s exists", name);
	if (*n >= SECGROUPS_MAX)
		return err_set(err, ENOSPC, "tenant %s has %d groups, the most "
			       "it may", t->name, SECGROUPS_MAX);
	g[*n].rules = calloc(1, sizeof *g[*n].rules);   /* out any */
	if (!g[*n].rules)
		return err_set(err, ENOMEM, "out of memory");
	snprintf(g[*n].name, sizeof g[*n].name, "%s", name);
	g[*n].nrules = 1;
	(*n)++;
	return 0;
}

int secgroup_create(struct model *m, const char *tenant, const char *name,
		    char *err)
{
	return groups_change(m, tenant, edit_create, name, false, err);
}

/* EBUSY if a VM is in group name or a rule of another group names it. */
static int group_used(const struct tenant *t, const char *name, char *err)
{
	const struct vm *v;
	size_t i, j;

	objset_each(&t->vms, i, v)
		for (j = 0; j < v->ngroups; j++)
			if (!strcmp(v->groups[j], name))
				return err_set(err, EBUSY, "VM %s is in group "
					       "%s", v->name, name);
	for (i = 0; i < t->ngroups; i++)
		for (j = 0; j < t->groups[i].nrules; j++)
			if (strcmp(t->groups[i].name, name) &&
			    !strcmp(t->groups[i].rules[j].group, name))
				return err_set(err, EBUSY, "a rule of group %s "
					       "names group %s",
					       t->groups[i].name, name);
	return 0;
}

static int edit_delete(const struct tenant *t, struct secgroup *g,
		       size_t *n, const void *arg, char *err)
{
	const char *name = arg;
	size_t i;
	int r;

	if (!strcmp(name, SECGROUP_DEFAULT))
		return err_set(err, EPERM, "group default always exists");
	for (i = 0; i < *n && strcmp(g[i].name, name); i++)
		;
	if (i == *n)
		return err_set(err, ENOENT, "no group %s", name);
	if ((r = group_used(t, name, err)))
		return r;
	free(g[i].rules);
	memmove(&g[i], &g[i + 1], (*n - i - 1) * sizeof *g);
	(*n)--;
	return 0;
}

int secgroup_delete(struct model *m, const char *tenant, const char *name,
		    char *err)
{
	return groups_change(m, tenant, edit_delete, name, false, err);
}

struct rules_arg {
	const char *name, *text;
};

static int edit_rules(const struct tenant *t, struct secgroup *g,
		      size_t *n, const void *arg, char *err)
{
	const struct rules_arg *a = arg;
	struct secrule *rules = calloc(SECRULES_MAX + 1, sizeof *rules);
	size_t i, nr;
	int r;

	for (i = 0; i < *n && strcmp(g[i].name, a->name); i++)
		;
	r = !rules ? err_set(err, ENOMEM, "out of memory")
	    : i == *n ? err_set(err, ENOENT, "no group %s", a->name)
		      : secrules_parse(t, a->text, rules, &nr, err);
	if (r) {
		free(rules);
		return r;
	}
	free(g[i].rules);
	g[i].rules = rules;
	g[i].nrules = nr;
	return 0;
}

int secgroup_set_rules(struct model *m, const char *tenant,
		       const char *name, const char *text, char *err)
{
	struct rules_arg a = { name, text };

	return groups_change(m, tenant, edit_rules, &a, true, err);
}

/* text: 1 to 8 names of t's groups, each once. */
static int groups_parse(const struct tenant *t, const char *text,
			char out[VM_GROUPS_MAX][NAME_MAXLEN + 1], size_t *n,
			char *err)
{
	char buf[VM_GROUPS_MAX * (NAME_MAXLEN + 2)], *tok, *save = NULL;
	size_t i;

	*n = 0;
	if (strlen(text) >= sizeof buf)
		return err_set(err, EINVAL, "too many groups");
	snprintf(buf, sizeof buf, "%s", text);
	for (tok = strtok_r(buf, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (*n == VM_GROUPS_MAX)
			return err_set(err, EINVAL, "a VM is in at most %d "
				       "groups", VM_GROUPS_MAX);
		if (!secgroup_find(t, tok))
			return err_set(err, ENOENT, "no group %.64s", tok);
		for (i = 0; i < *n; i++)
			if (!strcmp(out[i], tok))
				return err_set(err, EINVAL, "group %s twice",
					       tok);
		snprintf(out[(*n)++], NAME_MAXLEN + 1, "%s", tok);
	}
	return *n ? 0 : err_set(err, EINVAL, "a VM is in at least one group "
				"(default, if no other)");
}

int vm_set_groups(struct model *m, const char *tenant, const char *name,
		  const char *text, char *err)
{
	char now[VM_GROUPS_MAX][NAME_MAXLEN + 1], was[VM_GROUPS_MAX][NAME_MAXLEN + 1];
	enum obj_state prev = OBJ_READY;
	size_t n = 0, wn = 0;
	struct tenant *t;
	struct vm *v = NULL;
	int r;

	pthread_mutex_lock(&m->lock);
	r = tenant_free_for_change(m, tenant, &t, err);
	if (r == 0 && !(v = vm_find_visible(t, name)))
		r = err_set(err, ENOENT, "no VM %s", name);
	if (r == 0 && v->state != OBJ_READY && v->state != OBJ_ERROR)
		r = err_set(err, EBUSY, "VM %s is %s", name,
			    obj_state_name(v->state));
	if (r == 0 && (r = groups_parse(t, text, now, &n, err)) == 0) {
		memcpy(was, v->groups, sizeof was);
		wn = v->ngroups;
		memcpy(v->groups, now, sizeof now);
		v->ngroups = n;
		prev = v->state;
		v->state = OBJ_CHANGING;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	r = commit_sync(m, t, true, err);
	pthread_mutex_lock(&m->lock);
	if (r) {
		memcpy(v->groups, was, sizeof was);
		v->ngroups = wn;
	}
	v->state = prev;
	pthread_mutex_unlock(&m->lock);
	if (r)
		commit_sync(m, t, true, NULL);
	return r;
}
