/* The sweep of one cloud (sweep.h): its domains, then its disk directory. */
#include "sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"

/* A sweep of one cloud: its domains, then its disk directory. */
struct cloud_sweep {
	struct model *m;
	struct cloud *c;
	int removed;
	bool later;              /* something must wait: sweep again */
};

/* The VM of uuid, if its copy on the swept cloud may go: known, located
 * elsewhere, not migrating. It is reserved (CHANGING: writes get EBUSY)
 * until sweep_release; *prev is its state before. NULL when the copy is
 * wanted, the VM unknown (*known false) or busy (w->later). */
static struct vm *sweep_reserve(struct cloud_sweep *w, const char *uuid,
				bool *known, enum obj_state *prev)
{
	struct vm *v;

	pthread_mutex_lock(&w->m->lock);
	v = vm_find_uuid(w->m, uuid);
	*known = v != NULL || vm_test_uuid(w->m, uuid);   /* a test's clone */
	if (v && (v->conf.location == w->c || mig_running(v->mig.phase) ||
		  v->repl.cloud == w->c)) {   /* or its replica */
		v = NULL;
	} else if (v && v->state != OBJ_READY && v->state != OBJ_ERROR) {
		w->later = true;
		v = NULL;
	} else if (v) {
		*prev = v->state;
		v->state = OBJ_CHANGING;
	}
	pthread_mutex_unlock(&w->m->lock);
	return v;
}

static void sweep_release(struct cloud_sweep *w, struct vm *v,
			  enum obj_state prev)
{
	pthread_mutex_lock(&w->m->lock);
	v->state = prev;
	pthread_mutex_unlock(&w->m->lock);
}

/* Does the VM's location hold it whole, its domain and its disk? Then a
 * copy elsewhere is not the only one. (Unknown while its home is out of
 * reach: not now.) */
static bool home_holds(struct cloud_sweep *w, const struct vm *v,
		       const char *what)
{
	struct virtdrv *d = v->conf.location->virt;
	enum virt_power power;
	char err[ERRLEN];
	int r = d->ops->power(d, v->uuid, &power, err);

	if (r == 0)
		r = d->ops->disk_exists(d, v->uuid, err);
	if (r == 1)
		return true;
	if (r < 0 && r != -ENOENT)
		w->later = true;
	else
		log_warnx("%s on %s stays: its VM %s/%s is not whole on %s, "
			  "its location", what, w->c->name, v->tenant->name,
			  v->name, v->conf.location->name);
	return false;
}

/* A domain of ours the state does not know (a mkdir or rmdir cut short),
 * or a VM's copy on a cloud that is not its location (a migration's
 * source or target that could not be cleaned). A stopped one goes with
 * its disk; one that runs is left to the operator, but for the copy that
 * a migration which failed had started on its target, out of reach then:
 * the write failed, the VM is its location's, the copy is destroyed. */
static void sweep_domain(void *ctx, const struct virt_seen *seen)
{
	struct cloud_sweep *w = ctx;
	struct virtdrv *d = w->c->virt;
	enum obj_state prev = OBJ_READY;
	struct vm *v;
	char err[ERRLEN];
	bool known, stale = false;
	int r = 0;

	if (!seen->ours)
		return;
	v = sweep_reserve(w, seen->uuid, &known, &prev);
	if (known && !v)
		return;
	if (seen->power != VIRT_POWER_STOPPED) {
		pthread_mutex_lock(&w->m->lock);
		stale = v && v->mig.phase == MIG_FAILED && v->mig.to == w->c;
		pthread_mutex_unlock(&w->m->lock);
		if (!stale) {
			log_warnx("domain %s (%s) is ours, %s, and runs: left "
				  "alone", seen->name, seen->uuid, v ? "its VM "
				  "is on another cloud" : "not in the state");
			goto out;
		}
	}
	if (v && !home_holds(w, v, "domain"))
		goto out;   /* kept whole: it may be the VM's only copy */
	if (stale) {
		log_warnx("domain %s runs on %s, the target of a migration "
			  "that failed: destroyed", seen->name, w->c->name);
		r = d->ops->stop(d, seen->uuid, 0, err);
	}
	if (r == 0)
		r = d->ops->undefine(d, seen->uuid, err);
	if (r == 0)
		r = d->ops->disk_delete(d, seen->uuid, err);
	if (r) {
		log_warnx("removing domain %s: %s", seen->name, err);
		w->later = true;
	} else {
		log_info("removed domain %s from %s: %s", seen->name,
			 w->c->name, v ? "a copy a migration left"
				       : "not in the state");
		w->removed++;
	}
out:
	if (v)
		sweep_release(w, v, prev);
}

/* The disk and console log of one VM on the swept cloud, if they may go:
 * no domain of it there (sweep_domain keeps the disk of one that runs),
 * its location holding its own disk. */
static void sweep_disk(struct cloud_sweep *w, const char *uuid)
{
	struct hostdrv *n = w->c->host;
	enum obj_state prev = OBJ_READY;
	enum virt_power power;
	char err[ERRLEN], name[64];
	struct vm *v;
	bool known;
	int r;

	v = sweep_reserve(w, uuid, &known, &prev);
	if (!v)
		return;   /* wanted, busy, or not ours to judge */
	r = w->c->virt->ops->power(w->c->virt, uuid, &power, err);
	if (r != -ENOENT) {
		if (r < 0)
			w->later = true;
	} else if (home_holds(w, v, "disk")) {
		snprintf(name, sizeof name, "%s.qcow2", uuid);
		r = n->ops->file_remove(n, COPY_DISKS, name, err);
		snprintf(name, sizeof name, "%s.console", uuid);
		if (r == 0)
			r = n->ops->file_remove(n, COPY_DISKS, name, err);
		if (r) {
			log_warnx("removing the disk of %s/%s from %s: %s",
				  v->tenant->name, v->name, w->c->name, err);
			w->later = true;
		} else {
			log_info("removed the disk of %s/%s from %s: a copy a "
				 "migration left", v->tenant->name, v->name,
				 w->c->name);
			w->removed++;
		}
	}
	sweep_release(w, v, prev);
}

static void sweep_disks(struct cloud_sweep *w)
{
	struct hostdrv *n = w->c->host;
	struct strbuf names = STRBUF_INIT;
	char err[ERRLEN], **uuids = NULL;
	const char *cursor, *line;
	size_t i, len, nu = 0, cap = 0;

	if (!n->ops->file_list)
		return;
	if (n->ops->file_list(n, COPY_DISKS, &names, err)) {
		log_warnx("cloud %s: %s", w->c->name, err);
		w->later = true;
		sb_free(&names);
		return;
	}
	cursor = sb_str(&names);
	while (line_next(&cursor, &line, &len)) {
		char name[NAME_MAXLEN + 48], stem[NAME_MAXLEN + 48], *dot;

		if (len >= sizeof name)
			continue;
		memcpy(name, line, len);
		name[len] = '\0';
		if (!copy_name_whole(COPY_DISKS, name, stem, sizeof stem))
			continue;
		dot = strchr(stem, '.');
		*dot = '\0';
		if (nu == cap) {
			char **more = realloc(uuids, (cap ? cap * 2 : 16) *
					      sizeof *uuids);

			if (!more)
				break;
			uuids = more;
			cap = cap ? cap * 2 : 16;
		}
		uuids[nu] = strdup(stem);
		if (uuids[nu])
			nu++;
	}
	if (nu)
		qsort(uuids, nu, sizeof *uuids, cmp_strp);
	for (i = 0; i < nu; i++)
		if (i == 0 || strcmp(uuids[i], uuids[i - 1]))
			sweep_disk(w, uuids[i]);
	for (i = 0; i < nu; i++)
		free(uuids[i]);
	free(uuids);
	sb_free(&names);
}

int sweep_cloud(struct model *m, struct cloud *c)
{
	struct cloud_sweep w = { m, c, 0, false };
	struct virtdrv *d = c->virt;
	struct tenant *t;
	char err[ERRLEN];
	size_t i, n = 0;

	pthread_mutex_lock(&m->lock);
	objset_each(&m->tenants, i, t)
		n += t->vms.n;
	n += m->domains_made;
	pthread_mutex_unlock(&m->lock);
	if (n == 0)
		return 0;   /* never a VM: libvirt is not needed (as at mount) */
	if (d->ops->list(d, sweep_domain, &w, err)) {
		log_warnx("cloud %s: %s", c->name, err);
		return 1;
	}
	sweep_disks(&w);
	if (w.removed)
		log_info("cloud %s: %d leftover(s) removed", c->name,
			 w.removed);
	return w.later;
}
