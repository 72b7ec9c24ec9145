/* Live migration (lv.h) of a domain to another cloud's libvirt. */
#include "lv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../host/netns.h"

/* Live migration: libvirt's call runs in a thread of its own while the
 * caller's thread reports progress and watches for a cancel. */

/* The longest pause QEMU may give the guest to send what is left: short
 * first (QEMU's own default is 300 ms), then doubled after every
 * MIG_PASSES_PER_STEP passes over memory that did not get there, up to
 * Nova's limit, so that a guest writing its memory fast still moves. */
#define MIG_DOWNTIME_FIRST_MS 30
#define MIG_DOWNTIME_LAST_MS 500
#define MIG_PASSES_PER_STEP 3

/* With a budget the pause limit stays the budget, and QEMU's
 * auto-converge slows the guest's CPU down (20% first, 10% more at each
 * pass that sent less than the guest wrote) until its writes fit. maasfs
 * lets it go to about half: MIG_BUDGET_PASSES_AT_MAX passes over memory
 * after the slow-down reached MIG_THROTTLE_MAX (%), the move is given up
 * (a guest crawling at a few % of its CPU for tens of seconds is an
 * outage of its own; on the lab, a guest writing 48 MiB over and over
 * reached a 24 ms pause only after 54 s, most of it slowed down by 60 to
 * 99%); so it is after MIG_BUDGET_PASSES passes in all. Post-copy is not used: once the guest runs
 * on the target with pages still on the source, a failure of either
 * end or of the link loses the guest, and maasfs never loses a VM. */
#define MIG_THROTTLE_MAX 50
#define MIG_BUDGET_PASSES_AT_MAX 2
#define MIG_BUDGET_PASSES 60

/* What the caller's thread keeps of a running job. */
struct mig_watch {
	unsigned downtime;     /* the pause limit set, ms */
	unsigned budget;       /* the caller's, ms; 0: none */
	uint64_t at_max;       /* the pass the throttle reached its max */
	int64_t t0_ms;         /* when the job began */
	bool gave_up;
	char why[ERRLEN];
};

struct lv_migration {
	virDomainPtr dom;
	virConnectPtr dconn;
	virTypedParameterPtr params;
	int nparams;
	unsigned flags;
	virDomainPtr ddom;        /* the result */
	int r;
	char err[ERRLEN];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	bool abort;               /* atomic: cancelled before it began */
};

/* Each migration runs over a pair of connections of its own
 * (lv_conn_own), which no other thread calls while virDomainMigrate3
 * runs: libvirt 9.0's client crashed (a jump to a bad address in the
 * thread doing the connection's I/O for two callers) with several
 * migrations over one pair, and then with the progress polls of a
 * migration on its own source connection (the Confirm3 call met a
 * virDomainGetJobStats). Polls and aborts use a third one. */
static void *mig_thread(void *arg)
{
	struct lv_migration *m = arg;
	virDomainPtr ddom = NULL;
	bool began = false;
	int r = 0;

	if (!__atomic_load_n(&m->abort, __ATOMIC_ACQUIRE)) {
		began = true;
		ddom = virDomainMigrate3(m->dom, m->dconn, m->params,
					 (unsigned)m->nparams, m->flags);
	}
	if (!ddom && !began)
		r = err_set(m->err, EINTR, "cancelled before it began");
	else if (!ddom)
		r = lv_fail(m->err, "live migration");
	pthread_mutex_lock(&m->lock);
	m->ddom = ddom;
	m->r = r;
	m->done = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* The migration's own connections (to the source, to the target, and
 * to the source again for its polls), once both clouds answer on their
 * shared ones (a cloud known to be down fails at once). */
static int mig_conns(struct libvirt_drv *d, struct libvirt_drv *t,
		     virConnectPtr c[3], char *err)
{
	virConnectPtr s = lv_conn(d, err);
	struct own_open *os, *ot, *om;
	int i;

	if (!s)
		return -EHOSTUNREACH;
	virConnectClose(s);
	s = lv_conn(t, err);
	if (!s)
		return -EHOSTUNREACH;
	virConnectClose(s);
	os = lv_conn_own_begin(d);
	ot = lv_conn_own_begin(t);
	om = lv_conn_own_begin(d);
	c[0] = lv_conn_own_wait(d, os, err);
	c[1] = lv_conn_own_wait(t, ot, c[0] ? err : NULL);
	c[2] = lv_conn_own_wait(d, om, c[0] && c[1] ? err : NULL);
	if (c[0] && c[1] && c[2])
		return 0;
	for (i = 0; i < 3; i++) {
		if (c[i])
			virConnectClose(c[i]);
		c[i] = NULL;
	}
	return -EHOSTUNREACH;
}

static uint64_t param_ull(virTypedParameterPtr p, int n, const char *name)
{
	unsigned long long v = 0;

	if (virTypedParamsGetULLong(p, n, name, &v) != 1)
		v = 0;
	return v;
}

static void mig_downtime(virDomainPtr dom, uint64_t passes,
			 unsigned *downtime, unsigned budget)
{
	unsigned want = MIG_DOWNTIME_FIRST_MS;
	uint64_t k;

	for (k = MIG_PASSES_PER_STEP; k < passes && want < MIG_DOWNTIME_LAST_MS;
	     k += MIG_PASSES_PER_STEP)
		want *= 2;
	if (want > MIG_DOWNTIME_LAST_MS)
		want = MIG_DOWNTIME_LAST_MS;
	if (budget)
		want = budget;
	if (want == *downtime)
		return;
	if (virDomainMigrateSetMaxDowntime(dom, want, 0) < 0) {
		virResetLastError();
		return;
	}
	if (*downtime)
		log_info("live migration: %llu passes over memory, pauses up "
			 "to %u ms now", (unsigned long long)passes, want);
	*downtime = want;
}

/* Within the budget or not: gives up (aborts the job) once the throttle
 * has been at its max for a few passes, or after too many passes. */
static void mig_budget(virDomainPtr dom, virTypedParameterPtr p, int n,
		       struct mig_watch *w)
{
	uint64_t passes = param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
	int throttle = 0;

	if (virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE,
				 &throttle) != 1)
		throttle = 0;
	if (throttle >= MIG_THROTTLE_MAX && !w->at_max)
		w->at_max = passes;
	if (w->gave_up || (passes < MIG_BUDGET_PASSES &&
			   (!w->at_max ||
			    passes < w->at_max + MIG_BUDGET_PASSES_AT_MAX)))
		return;
	snprintf(w->why, sizeof w->why, "the guest writes its memory faster "
		 "than a pause of %u ms can carry: %llu passes over memory in "
		 "%lld s, its CPU slowed down by %d%% (auto-converge), QEMU's "
		 "expected pause %llu ms", w->budget, (unsigned long long)passes,
		 (long long)(clock_ms() - w->t0_ms) / 1000,
		 throttle, (unsigned long long)param_ull(p, n,
							  VIR_DOMAIN_JOB_DOWNTIME));
	w->gave_up = true;
	if (virDomainAbortJob(dom) < 0)
		virResetLastError();
}

static void mig_progress(virDomainPtr dom, const struct virt_migration *mg,
			 struct mig_watch *w)
{
	virTypedParameterPtr p = NULL;
	struct virt_progress pr = { 0 };
	int type, n = 0;

	if (virDomainGetJobStats(dom, &type, &p, &n, 0) < 0) {
		virResetLastError();
		return;
	}
	if (type != VIR_DOMAIN_JOB_NONE)
		mig_downtime(dom, param_ull(p, n,
					    VIR_DOMAIN_JOB_MEMORY_ITERATION),
			     &w->downtime, w->budget);
	if (type != VIR_DOMAIN_JOB_NONE && w->budget)
		mig_budget(dom, p, n, w);
	if (type != VIR_DOMAIN_JOB_NONE && mg->progress) {
		pr.done = param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
		pr.total = param_ull(p, n, VIR_DOMAIN_JOB_DATA_TOTAL);
		pr.rate = param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_BPS) +
			  param_ull(p, n, VIR_DOMAIN_JOB_DISK_BPS);
		mg->progress(mg->ctx, &pr);
	}
	virTypedParamsFree(p, n);
}

/* What the finished job says: bytes, time, downtime. */
static bool mig_completed(virDomainPtr dom, struct virt_migrated *out)
{
	virTypedParameterPtr p = NULL;
	unsigned long long v;
	int type, n = 0;
	bool ok = false;

	if (dom && virDomainGetJobStats(dom, &type, &p, &n,
					VIR_DOMAIN_JOB_STATS_COMPLETED) == 0 &&
	    type == VIR_DOMAIN_JOB_COMPLETED) {
		out->bytes = param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED);
		if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED,
					    &v) == 1)
			out->total_ms = (int64_t)v;
		if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_JOB_DOWNTIME,
					    &v) == 1)
			out->downtime_ms = (int64_t)v;
		ok = true;
	}
	virTypedParamsFree(p, n);
	virResetLastError();
	return ok;
}

/* QEMU before 9.0 under TCG can lose guest memory in a live migration:
 * its dirty bitmap is cleared without emptying the TCG TLB (fixed
 * upstream by 03bfc2188f). Said once per source cloud. */
static void mig_tcg_warn(struct libvirt_drv *d, virConnectPtr c)
{
	unsigned long hv = 0;

	if (strcmp(d->domtype, "qemu") ||
	    __atomic_exchange_n(&d->tcg_said, true, __ATOMIC_RELAXED))
		return;
	if (virConnectGetVersion(c, &hv) == 0 && hv && hv < 9000000)
		log_warnx("cloud %s: live migrations under TCG with QEMU "
			  "%lu.%lu can lose guest memory (a QEMU bug fixed in "
			  "9.0); accel: kvm, or mode=cold, is safe", d->cloud,
			  hv / 1000000, hv / 1000 % 1000);
	virResetLastError();
}

int lv_migrate(struct virtdrv *vd, struct virtdrv *vdst,
	       const struct virt_migration *mg,
	       struct virt_migrated *out, char *err)
{
	struct libvirt_drv *d = lv_of(vd), *t = lv_of(vdst);
	struct lv_migration m = { .r = 0 };
	struct strbuf x = STRBUF_INIT;
	virConnectPtr c[3] = { NULL, NULL, NULL };
	virDomainPtr mdom = NULL;   /* the same domain, for polls */
	char uri[64];
	int maxp = 0, r, i;
	int64_t started = clock_ms();
	bool aborted = false;
	struct mig_watch w = { .budget = mg->budget_ms, .t0_ms = started };
	pthread_t th;

	out->bytes = 0;
	out->total_ms = 0;
	out->downtime_ms = -1;
	if ((r = lv_domain_check(mg->dom, err)))
		return r;
	if (!word_safe(mg->host) || strlen(mg->host) > 40)
		return err_set(err, EINVAL, "bad migration address");
	if (mg->tls_name && (!word_safe(mg->tls_name) ||
			     strlen(mg->tls_name) > 255))
		return err_set(err, EINVAL, "bad TLS name");
	if ((r = mig_conns(d, t, c, err)))
		return r;
	mig_tcg_warn(d, c[0]);
	m.dom = lv_domain(c[0], mg->uuid, err);
	mdom = m.dom ? lv_domain(c[2], mg->uuid, err) : NULL;
	if (!mdom) {
		r = -ENOENT;
		goto out;
	}
	lv_domain_xml(t, mg->dom, &x);
	snprintf(uri, sizeof uri, "tcp://%s", mg->host);
	if (virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_URI, uri) < 0 ||
	    virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_DISKS_URI, uri) < 0 ||
	    virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_DEST_XML,
				    sb_str(&x)) < 0 ||
	    virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				    VIR_MIGRATE_PARAM_PERSIST_XML,
				    sb_str(&x)) < 0 ||
	    (mg->tls_name &&
	     virTypedParamsAddString(&m.params, &m.nparams, &maxp,
				     VIR_MIGRATE_PARAM_TLS_DESTINATION,
				     mg->tls_name) < 0) ||
	    (mg->bandwidth_mib &&
	     virTypedParamsAddULLong(&m.params, &m.nparams, &maxp,
				     VIR_MIGRATE_PARAM_BANDWIDTH,
				     mg->bandwidth_mib) < 0)) {
		r = lv_fail(err, "migration parameters");
		goto out;
	}
	m.dconn = c[1];
	m.flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST |
		  VIR_MIGRATE_NON_SHARED_DISK | VIR_MIGRATE_ABORT_ON_ERROR;
	/* Memory and the NBD copy of the disks both, both ends checking
	 * the other's certificate (qemu.conf: migrate_tls_x509_verify). */
	if (mg->tls_name)
		m.flags |= VIR_MIGRATE_TLS;
	if (w.budget)
		m.flags |= VIR_MIGRATE_AUTO_CONVERGE;
	mig_downtime(mdom, 0, &w.downtime, w.budget);   /* QEMU's: before */
	pthread_mutex_init(&m.lock, NULL);
	cond_init_monotonic(&m.cond);
	r = pthread_create(&th, NULL, mig_thread, &m);
	if (r) {
		r = err_set(err, r, "migration thread: %s", strerror(r));
		goto destroy;
	}
	pthread_mutex_lock(&m.lock);
	while (!m.done) {
		struct timespec until;

		deadline_in(&until, 250);
		pthread_cond_timedwait(&m.cond, &m.lock, &until);
		if (m.done)
			break;
		pthread_mutex_unlock(&m.lock);
		mig_progress(mdom, mg, &w);
		if (!aborted && mg->cancelled && mg->cancelled(mg->ctx)) {
			log_info("cloud %s: cancelling the migration of %s",
				 d->cloud, mg->uuid);
			aborted = true;
			__atomic_store_n(&m.abort, true, __ATOMIC_RELEASE);
			if (virDomainAbortJob(mdom) < 0)
				virResetLastError();
		}
		pthread_mutex_lock(&m.lock);
	}
	pthread_mutex_unlock(&m.lock);
	pthread_join(th, NULL);
	r = m.r;
	if (r == 0) {
		if (!mig_completed(m.ddom, out))
			mig_completed(mdom, out);
		if (!out->total_ms)
			out->total_ms = clock_ms() - started;
		virDomainFree(m.ddom);
	} else if (aborted) {
		r = err_set(err, EINTR, "migration cancelled: %s", m.err);
	} else if (w.gave_up) {
		r = err_set(err, ETIMEDOUT, "%s", w.why);
	} else if (err) {
		snprintf(err, ERRLEN, "%s", m.err);
	}
destroy:
	pthread_mutex_destroy(&m.lock);
	pthread_cond_destroy(&m.cond);
out:
	virTypedParamsFree(m.params, m.nparams);
	if (m.dom)
		virDomainFree(m.dom);
	if (mdom)
		virDomainFree(mdom);
	sb_free(&x);
	for (i = 0; i < 3; i++)
		virConnectClose(c[i]);
	return r;
}
