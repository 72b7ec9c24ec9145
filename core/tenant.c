#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "external.h"
#include "names.h"
#include "tenant.h"
#include "txn.h"

/* A tenant lives on the default cloud from mkdir on (its router namespace
 * maas-<tenant>), and on any other cloud that holds a part of it. */
/* A new tenant in the model, in state st: its name checked, its id. */
static int tenant_reserve(struct model *m, const char *name,
			  enum obj_state st, struct tenant **out, char *err)
{
	struct tenant *t;
	uint32_t id;
	int r = name_check(name, "tenant", err);

	if (r)
		return r;
	if (names_reserved(NAMES_ROOT, name))
		return err_set(err, EEXIST, "'%s' is a name maasfs uses at "
			       "the top of the tree", name);
	if (names_test_net(name))
		return err_set(err, EINVAL, "tenant names beginning with "
			       TEST_NET_PREFIX " are maasfs's own (the "
			       "networks of test launches)");
	pthread_mutex_lock(&m->lock);
	if (tenant_find(m, name)) {
		pthread_mutex_unlock(&m->lock);
		return err_set(err, EEXIST, "tenant %s exists", name);
	}
	t = tenant_new(name, 0);
	r = t ? idset_alloc(&m->tenant_ids, 1, UINT32_MAX, &id) : -ENOMEM;
	if (r == 0) {
		t->id = id;
		t->state = st;
		r = objset_add(&m->tenants, t);
		if (r)
			idset_put(&m->tenant_ids, id);
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		tenant_free(t);
		return err_set(err, -r, "cannot allocate a tenant: %s",
			       strerror(-r));
	}
	*out = t;
	return 0;
}

int tenant_create(struct model *m, const char *name, char *err)
{
	struct txn x;
	struct cloud *home = model_default_cloud(m);
	struct tenant *t;
	int r = tenant_reserve(m, name, OBJ_CREATING, &t, err);

	if (r)
		return r;
	r = home->host->ops->tenant_ensure(home->host, name, err);
	if (r == 0) {
		pthread_mutex_lock(&m->lock);
		t->state = OBJ_READY;
		pthread_mutex_unlock(&m->lock);
		txn_begin(&x, m, t);
		r = txn_commit(&x, err);
		if (r)
			home->host->ops->tenant_remove(home->host, name, NULL);
	}
	if (r) {
		pthread_mutex_lock(&m->lock);
		objset_del(&m->tenants, t);
		idset_put(&m->tenant_ids, t->id);
		pthread_mutex_unlock(&m->lock);
		tenant_free(t);
		return r;
	}
	log_info("tenant %s created (id %u, namespace %s%s on %s)", name,
		 t->id, NET_NS_PREFIX, name, home->name);
	return 0;
}

/* The tenant t of that name can go: ENOENT, EBUSY, or ENOTEMPTY. */
static int tenant_deletable(const struct tenant *t, const char *name,
			    char *err)
{
	if (!t)
		return err_set(err, ENOENT, "no tenant %s", name);
	if (t->state == OBJ_CHANGING || t->state == OBJ_DELETING)
		return err_set(err, EBUSY, "tenant %s is %s", name,
			       obj_state_name(t->state));
	if (t->subnets.n || t->vms.n)
		return err_set(err, ENOTEMPTY, "tenant %s still has %zu "
			       "subnet(s) and %zu VM(s)", name, t->subnets.n,
			       t->vms.n);
	return 0;
}

int tenant_delete(struct model *m, const char *name, char *err)
{
	struct txn x;
	struct cloud *home = model_default_cloud(m);
	enum obj_state prev = OBJ_READY;
	struct tenant *t;
	int r;

	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, name);
	r = tenant_deletable(t, name, err);
	if (r == 0) {
		prev = t->state;
		t->state = OBJ_DELETING;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;

	/* Forget it on disk first: a crash from here on leaves only kernel
	 * objects, which the next mount's sweep removes. */
	txn_begin(&x, m, t);
	r = txn_ahead(&x, err);
	if (r == 0) {
		external_drop(m, t);
		r = home->host->ops->tenant_remove(home->host, name, err);
	}
	pthread_mutex_lock(&m->lock);
	if (r) {
		t->state = prev;
	} else {
		objset_del(&m->tenants, t);
		idset_put(&m->tenant_ids, t->id);
	}
	pthread_mutex_unlock(&m->lock);
	if (r) {
		txn_commit(&x, NULL);   /* it is listed again */
		return r;
	}
	txn_end(&x);
	tenant_free(t);
	log_info("tenant %s deleted", name);
	return 0;
}

int tenant_set_quota(struct model *m, const char *name, const char *text,
		     char *err)
{
	struct quota old, q;
	struct tenant *t;
	struct txn x;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, name);
	if (!t) {
		r = err_set(err, ENOENT, "no tenant %s", name);
	} else {
		old = q = t->quota;
		r = quota_parse(text, &q, err);
		if (r == 0)
			t->quota = q;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	txn_begin(&x, m, t);
	r = txn_commit(&x, err);
	pthread_mutex_lock(&m->lock);
	if (r)
		t->quota = old;
	else
		t->mtime = time(NULL);
	pthread_mutex_unlock(&m->lock);
	return r;
}

int tenant_chown(struct model *m, const char *name, uint32_t uid,
		 uint32_t gid, char *err)
{
	uint32_t old_uid = 0, old_gid = 0;
	struct txn x;
	struct tenant *t;
	int r = 0;

	pthread_mutex_lock(&m->lock);
	r = tenant_free_for_change(m, name, &t, err);
	if (r == 0) {
		old_uid = t->uid;
		old_gid = t->gid;
		if (uid != (uint32_t)-1)
			t->uid = uid;
		if (gid != (uint32_t)-1)
			t->gid = gid;
	}
	pthread_mutex_unlock(&m->lock);
	if (r)
		return r;
	txn_begin(&x, m, NULL);
	r = txn_commit(&x, err);
	pthread_mutex_lock(&m->lock);
	if (r) {
		t->uid = old_uid;
		t->gid = old_gid;
	} else {
		t->mtime = time(NULL);
	}
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		log_info("tenant %s now belongs to %u:%u", name, t->uid, t->gid);
	return r;
}

/* A tenant's namespace leaves a cloud (not its default one) where none of
 * its subnets lives any more. */
void tenant_tidy(struct model *m, const char *tname, struct cloud *c)
{
	struct tenant *t;
	struct subnet *s;
	bool needed = c == model_default_cloud(m);
	char err[ERRLEN];
	size_t i;

	pthread_mutex_lock(&m->lock);
	t = tenant_find(m, tname);
	if (t)
		objset_each(&t->subnets, i, s)
			needed |= s->home == c;
	pthread_mutex_unlock(&m->lock);
	if (t && !needed && c->host->ops->tenant_remove(c->host, tname, err))
		log_warnx("tenant %s stays on cloud %s: %s", tname, c->name,
			  err);
}

/* ---- a plan's tenants (plan.h): the checks above, the model alone ---- */

int tenant_plan_create(struct model *m, const char *name, char *err)
{
	struct tenant *t;

	return tenant_reserve(m, name, OBJ_READY, &t, err);
}

int tenant_plan_delete(struct model *m, const char *name, char *err)
{
	struct tenant *t;
	int r;

	pthread_mutex_lock(&m->lock);
	t = tenant_find_visible(m, name);
	r = tenant_deletable(t, name, err);
	if (r == 0) {
		objset_del(&m->tenants, t);
		idset_put(&m->tenant_ids, t->id);
	}
	pthread_mutex_unlock(&m->lock);
	if (r == 0)
		tenant_free(t);
	return r;
}
