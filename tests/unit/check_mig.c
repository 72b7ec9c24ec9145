/* The migration engine over fake clouds (DESIGN §5): a VM's migration,
 * live and cold, and a subnet's, driven through every phase with a failure
 * injected at each call the clouds see in turn, and with a crash (the
 * clouds as they were at that call, the state file as it was, a new mount)
 * at each call in turn. Each run must end with every VM whole (domain and
 * disk) on exactly one cloud, nothing of it on the other, and the state
 * file saying where. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/attr.h"
#include "../../core/evacuate.h"
#include "../../core/events.h"
#include "../../core/spec.h"
#include "../../core/janitor.h"
#include "../../core/repl.h"
#include "../../core/sweep.h"
#include "../../core/txn.h"
#include "../../core/vm.h"
#include "../../core/vmtest.h"
#include "fakenet.h"

static const char *const clouds =
	"clouds:\n"
	"  c1: {vtep: 192.0.2.11}\n"
	"  c2: {vtep: 192.0.2.12, ssh: {host: h, key: /k, "
	"known_hosts: /kh}}\n";

#define NVMS 2

/* One run: a world, a model over it, what the run is about. */
struct run {
	struct fake_world w;
	struct model *m;
	char statedir[64];
	int nvms;
	char uuid[NVMS][VIRT_UUID_LEN + 1];   /* vm1, vm2 */
	bool ran[NVMS];                       /* running before */
	/* the crash: at call crash_at, the clouds and the state file */
	long crash_at;
	bool crashed;
	struct fake_world at_crash;
	char *state_at_crash;
};

#define OK(call)                                                        \
	do {                                                            \
		char err[ERRLEN] = "";                                  \
		int r_ = (call);                                        \
		ck_assert_msg(r_ == 0, "%s: %d %s", #call, r_, err);    \
	} while (0)

static const char *vm_name(int i)
{
	return i ? "vm2" : "vm1";
}

static void uuid_of(struct model *m, const char *vm, char *out)
{
	struct vm *v;

	pthread_mutex_lock(&m->lock);
	v = vm_find(tenant_find(m, "t"), vm);
	ck_assert_ptr_nonnull(v);
	snprintf(out, VIRT_UUID_LEN + 1, "%s", v->uuid);
	pthread_mutex_unlock(&m->lock);
}

/* A tenant, a subnet at home on c1, vm1 (running or stopped) and, for
 * two, vm2 stopped; both have run, so both have their disks. */
static void setup(struct run *x, bool vm1_runs, int nvms)
{
	int i;

	memset(x, 0, sizeof *x);
	x->nvms = nvms;
	x->m = fake_model_clouds(&x->w, clouds, x->statedir);
	ck_assert_ptr_nonnull(x->m);
	OK(tenant_create(x->m, "t", err));
	OK(subnet_create(x->m, "t", "10.0.1.0/24 name=web cloud=c1", err));
	for (i = 0; i < nvms; i++) {
		OK(vm_create(x->m, "t", vm_name(i), err));
		OK(attr_vm_write(x->m, "t", vm_name(i), "state", "start", err));
		x->ran[i] = i == 0 && vm1_runs;
		if (!x->ran[i])
			OK(attr_vm_write(x->m, "t", vm_name(i), "state", "stop", err));
		uuid_of(x->m, vm_name(i), x->uuid[i]);
	}
}

static void teardown(struct run *x)
{
	if (x->m)
		fake_model_free(x->m, x->statedir);
	free(x->state_at_crash);
	x->m = NULL;
	x->state_at_crash = NULL;
}

/* What the janitor does once a cloud is up: its leftovers go. */
static void janitor_pass(struct run *x)
{
	size_t i;

	for (i = 0; i < x->m->nclouds; i++)
		sweep_cloud(x->m, x->m->clouds[i]);
}

/* The VM's line of the state file says where it is. */
static void state_says(struct run *x, const char *vm, const char *cloud)
{
	char *s = fake_state_file(x->statedir), *line, want[64];

	ck_assert_ptr_nonnull(s);
	snprintf(want, sizeof want, "\n      %s:", vm);
	line = strstr(s, want);
	ck_assert_msg(line, "%s not in the state file", vm);
	line = strchr(line + 1, '\n');
	snprintf(want, sizeof want, "location: %s\n", cloud);
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, want) && strstr(line, want) <
		      (strstr(line + 1, ":\n") ? strstr(line + 1, ":\n")
					       : line + strlen(line)),
		      "the state file does not put %s on %s:\n%s", vm, cloud,
		      s);
	free(s);
}

/* Every VM whole on exactly one cloud, the one the model and the state
 * file name, running if it ran; nothing of it anywhere else. */
static void check_whole(struct run *x, const char *why)
{
	int i, k;

	for (i = 0; i < x->nvms; i++) {
		const char *loc;
		struct vm *v;

		pthread_mutex_lock(&x->m->lock);
		v = vm_find(tenant_find(x->m, "t"), vm_name(i));
		ck_assert_ptr_nonnull(v);
		loc = v->conf.location->name;
		ck_assert_msg(!mig_running(v->mig.phase), "%s: %s migrating",
			      why, vm_name(i));
		ck_assert_msg(v->state != OBJ_ERROR, "%s: %s in error: %s",
			      why, vm_name(i), v->error.msg);
		pthread_mutex_unlock(&x->m->lock);
		for (k = 0; k < x->w.nclouds; k++) {
			struct fake_cloud *c = &x->w.clouds[k];
			struct fake_dom *d = fake_dom(c, x->uuid[i]);
			bool here = !strcmp(c->name, loc);

			if (here) {
				ck_assert_msg(d && d->defined && d->disk &&
					      !d->part, "%s: %s not whole on "
					      "%s", why, vm_name(i), loc);
				ck_assert_msg(d->running == x->ran[i], "%s: %s "
					      "%s on %s", why, vm_name(i),
					      d->running ? "runs" : "is off",
					      loc);
			} else {
				ck_assert_msg(!d || (!d->defined && !d->disk &&
						     !d->part && !d->console),
					      "%s: %s left on %s", why,
					      vm_name(i), c->name);
			}
		}
		state_says(x, vm_name(i), loc);
	}
}

/* A run with the call numbered n (counted from the operation's start)
 * failing: returns false once the operation makes fewer calls than n. */
typedef int (*op_fn)(struct run *x, char *err);

static bool fault_run(op_fn op, bool vm1_runs, int nvms, long n,
		      bool *failed)
{
	struct run x;
	char err[ERRLEN] = "", why[96];
	long base;
	int r;

	setup(&x, vm1_runs, nvms);
	base = x.w.ncalls;
	x.w.fault_at = base + n;
	r = op(&x, err);
	x.w.fault_at = 0;
	if (x.w.ncalls < base + n) {
		ck_assert_msg(r == 0, "no fault, yet %d: %s", r, err);
		check_whole(&x, "no fault");
		teardown(&x);
		return false;
	}
	*failed |= r != 0;
	snprintf(why, sizeof why, "fault at call %ld (%s)", n,
		 r ? err : "ok");
	/* A failure rolls back by itself, with every cloud up; a fault
	 * after the commit leaves the source's leftovers to the janitor. */
	if (r == 0)
		janitor_pass(&x);
	check_whole(&x, why);
	teardown(&x);
	return true;
}

static void crash_hook(struct fake_world *w, const char *cloud,
		       const char *op)
{
	struct run *x = w->ctx;

	(void)cloud;
	(void)op;
	if (w->ncalls != x->crash_at || x->crashed)
		return;
	x->crashed = true;
	x->at_crash = *w;
	x->at_crash.on_call = NULL;
	x->state_at_crash = fake_state_file(x->statedir);
}

/* What a crash run checks besides (NULL: nothing). */
static void (*crash_also)(struct run *x, const char *why);

/* A run cut off by a crash just before the call numbered n, then the next
 * mount (the state file and the clouds as the crash left them): false
 * once the operation makes fewer calls than n. */
static bool crash_run(op_fn op, bool vm1_runs, int nvms, long n)
{
	struct run x;
	char err[ERRLEN] = "", why[64], path[128];

	setup(&x, vm1_runs, nvms);
	x.crash_at = x.w.ncalls + n;
	x.w.ctx = &x;
	x.w.on_call = crash_hook;
	op(&x, err);
	x.w.on_call = NULL;
	if (!x.crashed) {
		teardown(&x);
		return false;
	}
	model_free(x.m);
	x.w = x.at_crash;
	snprintf(path, sizeof path, "%s/state.yaml", x.statedir);
	ck_assert_int_eq(file_write_atomic(path, x.state_at_crash,
					   strlen(x.state_at_crash), 0600), 0);
	x.m = fake_model_reopen(&x.w, x.statedir);
	ck_assert_ptr_nonnull(x.m);
	model_reconcile(x.m);
	janitor_stop(x.m->janitor);
	snprintf(why, sizeof why, "crash at call %ld", n);
	check_whole(&x, why);
	if (crash_also)
		crash_also(&x, why);
	teardown(&x);
	return true;
}

static int migrate_vm1(struct run *x, char *err)
{
	return vm_relocate(x->m, "t", "vm1", "c2", NULL, err);
}

static int migrate_vm1_cold(struct run *x, char *err)
{
	struct mig_opts o = { "cold", 0, 0 };

	return vm_relocate(x->m, "t", "vm1", "c2", &o, err);
}

static int move_subnet(struct run *x, char *err)
{
	return subnet_set_cloud(x->m, "t", "web", "c2", err);
}

static int evacuate_c1(struct run *x, char *err)
{
	return cloud_set_state(x->m, "c1", "drain", err);
}

/* Walks the fault over every call of op; returns how many runs failed. */
static long walk_faults(op_fn op, bool vm1_runs, int nvms)
{
	bool failed = false;
	long n;

	for (n = 1; fault_run(op, vm1_runs, nvms, n, &failed); n++)
		;
	ck_assert_msg(failed, "no injected fault made the operation fail");
	return n;
}

static long walk_crashes(op_fn op, bool vm1_runs, int nvms)
{
	long n;

	for (n = 1; crash_run(op, vm1_runs, nvms, n); n++)
		;
	return n;
}

START_TEST(test_migrate_ok)
{
	struct run x;

	setup(&x, true, 1);
	OK(migrate_vm1(&x, err));
	check_whole(&x, "live");
	ck_assert_str_eq(x.m->clouds[1]->name, "c2");
	state_says(&x, "vm1", "c2");
	teardown(&x);
}
END_TEST

START_TEST(test_live_faults)
{
	ck_assert_int_gt(walk_faults(migrate_vm1, true, 1), 10);
}
END_TEST

START_TEST(test_cold_faults)
{
	ck_assert_int_gt(walk_faults(migrate_vm1, false, 1), 10);
	ck_assert_int_gt(walk_faults(migrate_vm1_cold, true, 1), 10);
}
END_TEST

START_TEST(test_live_crashes)
{
	ck_assert_int_gt(walk_crashes(migrate_vm1, true, 1), 10);
}
END_TEST

START_TEST(test_cold_crashes)
{
	ck_assert_int_gt(walk_crashes(migrate_vm1, false, 1), 10);
	ck_assert_int_gt(walk_crashes(migrate_vm1_cold, true, 1), 10);
}
END_TEST

START_TEST(test_subnet_faults)
{
	ck_assert_int_gt(walk_faults(move_subnet, true, 2), 20);
}
END_TEST

START_TEST(test_subnet_crashes)
{
	ck_assert_int_gt(walk_crashes(move_subnet, true, 2), 20);
}
END_TEST

static const char *home_of(struct model *m, const char *subnet)
{
	const char *home;

	pthread_mutex_lock(&m->lock);
	home = subnet_find(tenant_find(m, "t"), subnet)->home->name;
	pthread_mutex_unlock(&m->lock);
	return home;
}

static bool draining(struct model *m, const char *cloud)
{
	bool d;

	pthread_mutex_lock(&m->lock);
	d = model_cloud(m, cloud)->draining;
	pthread_mutex_unlock(&m->lock);
	return d;
}

/* A drain moves the subnet's home and both VMs; the cloud then takes
 * nothing new, across a new mount, until it is active again. */
START_TEST(test_evacuate_ok)
{
	static const char doc[] =
		"tenants: {t: {subnets: {web: {cidr: 10.0.1.0/24, cloud: c1}}}}\n";
	char msg[ERRLEN], *s;
	struct run x;

	setup(&x, true, 2);
	OK(evacuate_c1(&x, err));
	check_whole(&x, "drain");
	state_says(&x, "vm1", "c2");
	state_says(&x, "vm2", "c2");
	ck_assert_str_eq(home_of(x.m, "web"), "c2");
	ck_assert(draining(x.m, "c1"));
	s = fake_state_file(x.statedir);
	ck_assert_ptr_nonnull(strstr(s, "\ndraining: c1\n"));
	free(s);
	ck_assert_int_eq(vm_relocate(x.m, "t", "vm1", "c1", NULL, msg), -EBUSY);
	ck_assert_ptr_nonnull(strstr(msg, "cloud c1 is draining"));
	ck_assert_int_eq(subnet_set_cloud(x.m, "t", "web", "c1", msg), -EBUSY);
	ck_assert_int_eq(subnet_create(x.m, "t", "10.0.2.0/24 name=db cloud=c1",
				       msg), -EBUSY);
	OK(subnet_create(x.m, "t", "10.0.3.0/24 name=app", err));
	ck_assert_str_eq(home_of(x.m, "app"), "c2");   /* not the default */
	/* a document that would put the subnet there: refused whole */
	ck_assert_int_eq(spec_apply(x.m, "t", doc, strlen(doc), msg), -EBUSY);
	ck_assert_ptr_nonnull(strstr(msg, "cloud c1 is draining"));
	pthread_mutex_lock(&x.m->lock);
	ck_assert_ptr_nonnull(vm_find(tenant_find(x.m, "t"), "vm2"));
	pthread_mutex_unlock(&x.m->lock);
	ck_assert_int_eq(cloud_set_state(x.m, "c1", "drained", msg), -EINVAL);
	OK(evacuate_c1(&x, err));   /* again: nothing left to move */
	model_free(x.m);
	x.m = fake_model_reopen(&x.w, x.statedir);
	ck_assert_ptr_nonnull(x.m);
	ck_assert(draining(x.m, "c1"));
	OK(cloud_set_state(x.m, "c1", "active", err));
	ck_assert(!draining(x.m, "c1"));
	s = fake_state_file(x.statedir);
	ck_assert_ptr_null(strstr(s, "draining"));
	free(s);
	OK(vm_relocate(x.m, "t", "vm1", "c1", NULL, err));
	teardown(&x);
}
END_TEST

START_TEST(test_evacuate_faults)
{
	ck_assert_int_gt(walk_faults(evacuate_c1, true, 2), 20);
}
END_TEST

START_TEST(test_evacuate_crashes)
{
	ck_assert_int_gt(walk_crashes(evacuate_c1, true, 2), 20);
}
END_TEST

/* ---- plans (plan.h): the steps spec.yaml would take, nothing done ---- */

static const char plan_doc[] =
	"tenants:\n"
	"  t:\n"
	"    subnets: {web: {cidr: 10.0.1.0/24, cloud: c2}}\n"
	"    vms:\n"
	"      vm1: {subnet: web, state: running}\n"
	"      vm2: {subnet: web, vcpus: 2, state: stopped}\n"
	"      vm3: {subnet: web, memory: 128M, state: running}\n";

/* The state file is still state. */
static void state_same(struct run *x, const char *state)
{
	char *now = fake_state_file(x->statedir);

	ck_assert_str_eq(now, state);
	free(now);
}

/* The plan file of tenant t after a plan of doc. */
static char *plan_text(struct run *x, const char *doc, int want)
{
	struct strbuf out = STRBUF_INIT;
	char err[ERRLEN] = "";

	ck_assert_msg(spec_plan(x->m, "t", doc, strlen(doc), err) == want,
		      "%s", err);
	pthread_mutex_lock(&x->m->lock);
	ck_assert_int_eq(spec_plan_show(x->m, "t", &out), 0);
	pthread_mutex_unlock(&x->m->lock);
	return out.s;
}

/* The "do:" of each step of a plan, a line each: "OP PATH VALUE". */
static void plan_steps(const char *plan, struct strbuf *out)
{
	const char *p = plan;

	while ((p = strstr(p, "{do: "))) {
		size_t n = strcspn(p + 5, ",}");

		sb_append(out, p + 5, n);
		sb_puts(out, "\n");
		p += 5 + n;
	}
}

/* The steps the events show since cursor c, in the same words. */
static void event_steps(struct run *x, struct events_cursor *c,
			struct strbuf *out)
{
	struct strbuf ev = STRBUF_INIT;
	const char *line, *cur;
	size_t len;

	while (events_read(x->m->events, c, 1 << 16, false, NULL, &ev) > 0)
		;
	cur = sb_str(&ev);
	while (line_next(&cur, &line, &len)) {
		char buf[512], path[256], op[16], value[200] = "";
		char *end;

		/* "TIME PATH OP[ "VALUE"]: ok" */
		snprintf(buf, sizeof buf, "%.*s", (int)len, line);
		end = strstr(buf, ": ok");
		if (!end || end[4])
			continue;
		*end = '\0';
		if (sscanf(buf, "%*s %255s %15s \"%199[^\"]", path, op,
			   value) < 2)
			continue;
		sb_printf(out, "%s %s%s%s\n", op, path, value[0] ? " " : "",
			  value);
	}
	sb_free(&ev);
}

START_TEST(test_plan)
{
	struct strbuf planned = STRBUF_INIT, done = STRBUF_INIT;
	struct events_cursor c;
	struct fake_world before;
	char *state, *plan, msg[ERRLEN];
	struct run x;

	setup(&x, true, 2);
	state = fake_state_file(x.statedir);
	memcpy(&before, &x.w, sizeof before);
	plan = plan_text(&x, plan_doc, 0);
	/* nothing changed: the clouds saw reads alone, the state is as it was */
	ck_assert_int_eq(memcmp(before.calls, x.w.calls,
				FAKE_OTHER * sizeof *x.w.calls), 0);
	ck_assert_int_eq(before.domains, x.w.domains);
	ck_assert_int_eq(before.running, x.w.running);
	state_same(&x, state);
	ck_assert_str_eq(home_of(x.m, "web"), "c1");
	ck_assert_msg(strstr(plan, "document: t/spec.yaml\n") &&
		      strstr(plan, "concerns: 0\n") &&
		      strstr(plan, "{do: write /t/subnets/web/cloud c2, "
			     "move: 2 VM(s), bytes: "), "%s", plan);
	plan_steps(plan, &planned);
	/* the same steps, in the same order, when it is applied */
	events_open(x.m->events, &c);
	event_steps(&x, &c, &done);
	sb_reset(&done);
	ck_assert_int_gt(spec_apply(x.m, "t", plan_doc, strlen(plan_doc), msg), 0);
	event_steps(&x, &c, &done);
	ck_assert_str_eq(sb_str(&done), sb_str(&planned));
	ck_assert_int_eq(x.w.running, 2);
	state_says(&x, "vm2", "c2");
	free(state);
	free(plan);
	sb_free(&planned);
	sb_free(&done);
	teardown(&x);
}
END_TEST

START_TEST(test_plan_concerns)
{
	char *state, *plan, msg[ERRLEN];
	struct run x;

	setup(&x, true, 2);
	state = fake_state_file(x.statedir);
	fake_cloud(&x.w, "c2")->room = 1ull << 20;   /* 1 MiB free */
	plan = plan_text(&x, plan_doc, 0);
	ck_assert_msg(strstr(plan, "concerns: 1\n") &&
		      strstr(plan, "concern: \"ENOSPC: VM vm1: cloud c2 has 1 "
			     "MiB free"), "%s", plan);
	free(plan);
	/* the same check before an apply: refused, nothing done */
	ck_assert_int_eq(spec_apply(x.m, "t", plan_doc, strlen(plan_doc), msg),
			 -ENOSPC);
	ck_assert_msg(strstr(msg, "nothing done: step 1 of its plan (write "
			     "/t/subnets/web/cloud c2): VM vm1: cloud c2 has"),
		      "%s", msg);
	state_same(&x, state);
	ck_assert_str_eq(home_of(x.m, "web"), "c1");
	/* a cloud down */
	fake_cloud(&x.w, "c2")->room = 0;
	fake_cloud(&x.w, "c2")->down = true;
	plan = plan_text(&x, plan_doc, 0);
	ck_assert_msg(strstr(plan, "concern: \"EHOSTUNREACH: cloud c2 is "
			     "down: fake\""), "%s", plan);
	ck_assert_int_eq(spec_apply(x.m, "t", plan_doc, strlen(plan_doc), msg),
			 -EHOSTUNREACH);
	state_same(&x, state);
	/* a bad document: refused as spec.yaml refuses it, the plan kept */
	ck_assert_int_eq(spec_plan(x.m, "t", "tenants: {t: {vms: {v: {cpus: "
				   "2}}}}\n", 40, msg), -EINVAL);
	free(plan);
	/* a document without them: they would go (nothing goes now) */
	plan = plan_text(&x, "tenants: {t: {}}\n", 0);
	ck_assert_msg(strstr(plan, "steps: 4\n") &&
		      strstr(plan, "1: {do: write /t/vms/vm1/state stop}") &&
		      strstr(plan, "4: {do: rmdir /t/subnets/web}"), "%s", plan);
	free(plan);
	state_same(&x, state);
	ck_assert_int_eq(x.w.running, 1);
	free(state);
	teardown(&x);
}
END_TEST

/* A VM moved twice by one document (with its subnet, then back): its
 * second move reads its disk where it really is; the apply takes the
 * same steps. */
START_TEST(test_plan_twice)
{
	static const char doc[] =
		"tenants: {t: {subnets: {web: {cidr: 10.0.1.0/24, cloud: c2}}, "
		"vms: {vm1: {subnet: web, location: c1, state: running}, "
		"vm2: {subnet: web, location: c1}}}}\n";
	struct strbuf planned = STRBUF_INIT, done = STRBUF_INIT;
	struct events_cursor c;
	char *plan, msg[ERRLEN];
	struct run x;

	setup(&x, true, 2);
	plan = plan_text(&x, doc, 0);
	ck_assert_msg(strstr(plan, "concerns: 0\n") &&
		      strstr(plan, "1: {do: write /t/subnets/web/cloud c2, "
			     "move: 2 VM(s), bytes: ") &&
		      strstr(plan, "2: {do: write /t/vms/vm1/location c1, "
			     "move: live, bytes: ") &&
		      strstr(plan, "3: {do: write /t/vms/vm2/location c1, "
			     "move: cold, bytes: "), "%s", plan);
	plan_steps(plan, &planned);
	events_open(x.m->events, &c);
	event_steps(&x, &c, &done);
	sb_reset(&done);
	ck_assert_int_eq(spec_apply(x.m, "t", doc, strlen(doc), msg), 3);
	event_steps(&x, &c, &done);
	ck_assert_str_eq(sb_str(&done), sb_str(&planned));
	check_whole(&x, "twice");
	free(plan);
	sb_free(&planned);
	sb_free(&done);
	teardown(&x);
}
END_TEST

/* A cloud's room is for every disk the plan sends there, and gains the
 * disks the plan takes away first. */
START_TEST(test_plan_room)
{
	static const char both[] =
		"tenants: {t: {subnets: {web: {cidr: 10.0.1.0/24, cloud: c1}}, "
		"vms: {vm1: {subnet: web, location: c2}, vm2: {subnet: web, "
		"location: c2}}}}\n";
	static const char swap[] =
		"tenants: {t: {subnets: {web: {cidr: 10.0.1.0/24, cloud: c1}}, "
		"vms: {vm1: {subnet: web, location: c1}, vm2: {subnet: web, "
		"location: c2}}}}\n";
	uint64_t one;
	char *plan;
	struct run x;

	setup(&x, false, 2);
	/* room for one disk (the fake's are all alike) and the margin */
	plan = plan_text(&x, both, 0);
	ck_assert_msg(strstr(plan, "concerns: 0\n"), "%s", plan);
	one = strtoull(strstr(plan, "bytes: ") + 7, NULL, 10) / 2;
	free(plan);
	fake_cloud(&x.w, "c2")->room = one + MIG_ROOM_MARGIN;
	plan = plan_text(&x, both, 0);
	ck_assert_msg(strstr(plan, "1: {do: write /t/vms/vm1/location c2, "
			     "move: cold, bytes: ") &&
		      strstr(plan, "2: {do: write /t/vms/vm2/location c2, "
			     "move: cold, concern: \"ENOSPC: cloud c2 has 64 "
			     "MiB free"), "%s", plan);
	free(plan);
	/* vm1 there, then back: vm2 takes its place */
	fake_cloud(&x.w, "c2")->room = 0;
	OK(vm_relocate(x.m, "t", "vm1", "c2", NULL, err));
	fake_cloud(&x.w, "c2")->room = one + MIG_ROOM_MARGIN - 1;
	plan = plan_text(&x, swap, 0);
	ck_assert_msg(strstr(plan, "concerns: 0\n") &&
		      strstr(plan, "2: {do: write /t/vms/vm2/location c2, "
			     "move: cold, bytes: "), "%s", plan);
	free(plan);
	teardown(&x);
}
END_TEST

/* A live move across a tls boundary: the concern EPROTO; a VM whose
 * subnet the document would leave behind (deleted): refused whole, as
 * spec.yaml refuses it, the plan file saying why. */
START_TEST(test_plan_refusals)
{
	static const char *const cl =
		"clouds:\n"
		"  c1: {vtep: 192.0.2.11}\n"
		"  c2: {vtep: 192.0.2.12, tls: {}, ssh: {host: h2, key: /k, "
		"known_hosts: /kh}}\n";
	static const char tls[] =
		"tenants: {t: {subnets: {web: {cidr: 10.0.1.0/24, cloud: c1}}, "
		"vms: {vm1: {subnet: web, location: c2, state: running}}}}\n";
	static const char behind[] =
		"tenants: {t: {vms: {vm1: {state: running}}}}\n";
	char msg[ERRLEN], *plan, *state;
	struct run x;

	memset(&x, 0, sizeof x);
	x.m = fake_model_clouds(&x.w, cl, x.statedir);
	ck_assert_ptr_nonnull(x.m);
	OK(tenant_create(x.m, "t", err));
	OK(subnet_create(x.m, "t", "10.0.1.0/24 name=web cloud=c1", err));
	OK(vm_create(x.m, "t", "vm1", err));
	OK(attr_vm_write(x.m, "t", "vm1", "state", "start", err));
	state = fake_state_file(x.statedir);
	plan = plan_text(&x, tls, 0);
	ck_assert_msg(strstr(plan, "concerns: 1\n") &&
		      strstr(plan, "1: {do: write /t/vms/vm1/location c2, "
			     "concern: \"EPROTO: c2 has tls in the clouds file "
			     "and c1 has not"), "%s", plan);
	free(plan);
	ck_assert_int_eq(spec_apply(x.m, "t", tls, strlen(tls), msg), -EPROTO);
	ck_assert_msg(strstr(msg, "nothing done: step 1 of its plan"), "%s",
		      msg);
	state_same(&x, state);
	plan = plan_text(&x, behind, -EBUSY);
	ck_assert_msg(strstr(plan, "refused: \"EBUSY: spec.yaml:1:21: VM vm1 "
			     "stays on subnet web, which the document "
			     "deletes\"\nsteps: 0\nplan: {}\n"), "%s", plan);
	free(plan);
	ck_assert_int_eq(spec_apply(x.m, "t", behind, strlen(behind), msg),
			 -EBUSY);
	state_same(&x, state);
	free(state);
	teardown(&x);
}
END_TEST

static const char *const three =
	"clouds:\n"
	"  c1: {vtep: 192.0.2.11}\n"
	"  c2: {vtep: 192.0.2.12, ssh: {host: h2, key: /k, known_hosts: /kh}}\n"
	"  c3: {vtep: 192.0.2.13, ssh: {host: h3, key: /k, known_hosts: /kh}}\n";

/* Four VMs of c1 where they go: room first, then spread. */
static void evacuate_four(struct fake_world *w, uint64_t c3_room,
			  bool c2_down, int want, int on_c2, int on_c3)
{
	static const char *const vms[] = { "a", "b", "c", "d" };
	char statedir[64], msg[ERRLEN] = "";
	int n[2] = { 0, 0 }, i;
	struct model *m;

	memset(w, 0, sizeof *w);
	m = fake_model_clouds(w, three, statedir);
	ck_assert_ptr_nonnull(m);
	OK(tenant_create(m, "t", err));
	OK(subnet_create(m, "t", "10.0.1.0/24 name=web cloud=c1", err));
	for (i = 0; i < 4; i++) {
		OK(vm_create(m, "t", vms[i], err));
		OK(attr_vm_write(m, "t", vms[i], "state", "start", err));
	}
	fake_cloud(w, "c3")->room = c3_room;
	fake_cloud(w, "c2")->down = c2_down;
	ck_assert_int_eq(cloud_set_state(m, "c1", "drain", msg), want);
	for (i = 0; i < 4; i++) {
		const char *loc;

		pthread_mutex_lock(&m->lock);
		loc = vm_find(tenant_find(m, "t"), vms[i])->conf.location->name;
		pthread_mutex_unlock(&m->lock);
		n[0] += !strcmp(loc, "c2");
		n[1] += !strcmp(loc, "c3");
	}
	ck_assert_int_eq(n[0], on_c2);
	ck_assert_int_eq(n[1], on_c3);
	fake_cloud(w, "c2")->down = false;
	fake_model_free(m, statedir);
}

START_TEST(test_evacuate_placement)
{
	struct fake_world *w = calloc(1, sizeof *w);
	/* room for one disk (192 KiB here) with the 64 MiB margin, not two */
	uint64_t one = (64ull << 20) + 4 * 65536;

	ck_assert_ptr_nonnull(w);
	evacuate_four(w, 0, false, 0, 2, 2);        /* spread */
	evacuate_four(w, one, false, 0, 3, 1);      /* room, then spread */
	evacuate_four(w, one, true, -ENOSPC, 0, 1); /* the rest named */
	free(w);
}
END_TEST

/* A location write's options: each at most once, in any order, one
 * space between; a budget of 1 to MIG_BUDGET_MAX_MS. */
START_TEST(test_opts_parse)
{
	static const char *const bad[] = {
		"", " c2", "c2 ", "c2  mode=cold", "c2 mode=warm", "c2 downtime=",
		"c2 downtime=0", "c2 downtime=012", "c2 downtime=-1",
		"c2 downtime=1x", "c2 downtime=60001",
		"c2 downtime=99999999999999999999", "c2 mode=live mode=live",
		"c2 downtime=5 downtime=5", "c2 x=1", "bad/name",
	};
	char cloud[NAME_MAXLEN + 1], err[ERRLEN];
	struct mig_opts o;
	size_t i;

	ck_assert_int_eq(mig_opts_parse("c2", cloud, &o, err), 0);
	ck_assert_str_eq(cloud, "c2");
	ck_assert_str_eq(o.mode, "");
	ck_assert_uint_eq(o.downtime_ms, 0);
	ck_assert_int_eq(mig_opts_parse("c2 downtime=60000 mode=live", cloud,
					&o, err), 0);
	ck_assert_str_eq(o.mode, "live");
	ck_assert_uint_eq(o.downtime_ms, 60000);
	ck_assert_int_eq(mig_opts_parse("c2 mode=cold", cloud, &o, err), 0);
	ck_assert_str_eq(o.mode, "cold");
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(mig_opts_parse(bad[i], cloud, &o, err) == -EINVAL,
			      "'%s' taken", bad[i]);
}
END_TEST

/* ---- test launches (vmtest.c) ---- */

static int launch_c2(struct run *x, char *err)
{
	return attr_vm_write(x->m, "t", "vm1", "test", "c2", err);
}

/* The clone: on c2, defined, running, with its disk; its network there
 * (_test-VNI, its subnet and dnsmasq); the record says up. */
static void check_test_up(struct run *x, const char *why)
{
	struct fake_cloud *c2 = fake_cloud(&x->w, "c2");
	struct vm_test t;
	struct fake_dom *d;
	char net[NAME_MAXLEN + 1], *s;
	int i, found = 0;

	pthread_mutex_lock(&x->m->lock);
	t = vm_find(tenant_find(x->m, "t"), "vm1")->test;
	pthread_mutex_unlock(&x->m->lock);
	ck_assert_msg(t.phase == TEST_UP, "%s: test %s", why,
		      test_phase_name(t.phase));
	ck_assert_str_eq(t.cloud->name, "c2");
	d = fake_dom(c2, t.uuid);
	ck_assert_msg(d && d->defined && d->running && d->disk, "%s: no clone",
		      why);
	test_net_name(t.vni, net, sizeof net);
	for (i = 0; i < 64; i++)
		found += !strcmp(c2->tenants[i], net);
	ck_assert_msg(found == 1 && c2->subnet[t.vni] && c2->gateway[t.vni] &&
		      c2->dhcp[t.vni], "%s: no network %s", why, net);
	s = fake_state_file(x->statedir);
	ck_assert_ptr_nonnull(strstr(s, "\n        test:\n          phase: up\n"));
	free(s);
}

/* No trace of a test: no domain or disk but the VMs' own on any cloud,
 * no _test- network, no record. */
static void check_no_test(struct run *x, const char *why)
{
	char *s;
	int k, i, j;

	for (k = 0; k < x->w.nclouds; k++) {
		struct fake_cloud *c = &x->w.clouds[k];

		for (i = 0; i < FAKE_DOMS; i++) {
			struct fake_dom *d = &c->doms[i];
			bool vm = false;

			for (j = 0; j < x->nvms; j++)
				vm |= !strcmp(d->uuid, x->uuid[j]);
			ck_assert_msg(vm || !(d->defined || d->disk ||
					      d->part || d->console),
				      "%s: a clone left on %s", why, c->name);
		}
		for (i = 0; i < 64; i++)
			ck_assert_msg(strncmp(c->tenants[i], "_test-", 6),
				      "%s: network %s left on %s", why,
				      c->tenants[i], c->name);
	}
	pthread_mutex_lock(&x->m->lock);
	ck_assert_msg(vm_find(tenant_find(x->m, "t"), "vm1")->test.phase ==
		      TEST_NONE, "%s: a test record", why);
	pthread_mutex_unlock(&x->m->lock);
	s = fake_state_file(x->statedir);
	ck_assert_msg(!strstr(s, "test:"), "%s: test in the state file", why);
	free(s);
}

/* A launch and its end; across a new mount the clone is kept. */
START_TEST(test_launch)
{
	char msg[ERRLEN];
	struct run x;

	setup(&x, true, 1);
	OK(launch_c2(&x, err));
	check_test_up(&x, "launch");
	check_whole(&x, "launch");
	ck_assert_int_eq(launch_c2(&x, msg), -EBUSY);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "state", "stop", msg),
			 0);
	ck_assert_int_eq(vm_delete(x.m, "t", "vm1", msg), -EBUSY);
	ck_assert_ptr_nonnull(strstr(msg, "has a test on cloud c2"));
	OK(attr_vm_write(x.m, "t", "vm1", "state", "start", err));
	model_free(x.m);
	x.m = fake_model_reopen(&x.w, x.statedir);
	ck_assert_ptr_nonnull(x.m);
	model_reconcile(x.m);
	janitor_stop(x.m->janitor);
	check_test_up(&x, "a new mount");
	OK(attr_vm_write(x.m, "t", "vm1", "test", "end", err));
	check_no_test(&x, "end");
	check_whole(&x, "end");
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "test", "end", msg),
			 -ENOENT);
	teardown(&x);
}
END_TEST

/* A replication's refusals (bad input, the fake drivers cannot), and its
 * record across a new mount: kept, and the VM held by it (no delete, no
 * other move). */
START_TEST(test_replication_record)
{
	char msg[ERRLEN];
	struct strbuf sb = STRBUF_INIT;
	struct run x;
	struct vm *v;
	char *file;

	setup(&x, true, 1);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "replication",
				       "c2 interval=0", msg), -EINVAL);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "replication", "c9",
				       msg), -ENOENT);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "replication", "stop",
				       msg), -ENOENT);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "replication", "c1",
				       msg), -EINVAL);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "replication", "c2",
				       msg), -EOPNOTSUPP);
	file = fake_state_file(x.statedir);
	ck_assert_ptr_null(strstr(file, "replication"));
	free(file);
	pthread_mutex_lock(&x.m->lock);
	v = vm_find(tenant_find(x.m, "t"), "vm1");
	v->repl.cloud = model_cloud(x.m, "c2");
	v->repl.interval_s = 5;
	snprintf(v->repl.ckpt, sizeof v->repl.ckpt, "maas-1796520000000");
	v->repl.synced = 1796520000;
	pthread_mutex_unlock(&x.m->lock);
	OK(txn_once(x.m, NULL, err));
	model_free(x.m);
	x.m = fake_model_reopen(&x.w, x.statedir);
	ck_assert_ptr_nonnull(x.m);
	model_reconcile(x.m);
	janitor_stop(x.m->janitor);
	pthread_mutex_lock(&x.m->lock);
	v = vm_find(tenant_find(x.m, "t"), "vm1");
	ck_assert_ptr_eq(v->repl.cloud, model_cloud(x.m, "c2"));
	ck_assert_uint_eq(v->repl.interval_s, 5);
	ck_assert_str_eq(v->repl.ckpt, "maas-1796520000000");
	OK(vm_repl_show(v, &sb));
	pthread_mutex_unlock(&x.m->lock);
	ck_assert_ptr_nonnull(strstr(sb_str(&sb), "cloud: c2\ninterval: 5 s\n"));
	sb_free(&sb);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "location",
				       "c2 mode=live", msg), -EBUSY);
	ck_assert_ptr_nonnull(strstr(msg, "replicates to cloud c2"));
	OK(attr_vm_write(x.m, "t", "vm1", "state", "stop", err));
	ck_assert_int_eq(vm_delete(x.m, "t", "vm1", msg), -EBUSY);
	ck_assert_int_eq(attr_vm_write(x.m, "t", "vm1", "disk", "8G", msg),
			 -EBUSY);
	pthread_mutex_lock(&x.m->lock);
	memset(&v->repl, 0, sizeof v->repl);
	pthread_mutex_unlock(&x.m->lock);
	teardown(&x);
}
END_TEST

/* A failure at each call of a launch in turn: up whole, or nothing; the
 * VM untouched either way. */
START_TEST(test_launch_faults)
{
	char msg[ERRLEN], why[ERRLEN + 64];
	long n, base;
	bool reached = true;
	int r;

	for (n = 1; reached; n++) {
		struct run x;

		setup(&x, true, 1);
		base = x.w.ncalls;
		x.w.fault_at = base + n;
		r = launch_c2(&x, msg);
		x.w.fault_at = 0;
		reached = x.w.ncalls >= base + n;
		snprintf(why, sizeof why, "fault at call %ld (%s)", n,
			 r ? msg : "ok");
		check_whole(&x, why);
		if (r == 0) {
			check_test_up(&x, why);
			OK(attr_vm_write(x.m, "t", "vm1", "test", "end", err));
		}
		check_no_test(&x, why);
		teardown(&x);
	}
	ck_assert_int_gt(n, 5);
}
END_TEST

/* A crash before each call of a launch in turn, then a new mount: the
 * launch is undone, the VM whole. */
static void check_no_test(struct run *x, const char *why);

START_TEST(test_launch_crashes)
{
	long n;

	crash_also = check_no_test;
	for (n = 1; crash_run(launch_c2, true, 1, n); n++)
		;
	crash_also = NULL;
	ck_assert_int_gt(n, 5);
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("mig");
	TCase *tc = tcase_create("mig");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_opts_parse);
	tcase_add_test(tc, test_migrate_ok);
	tcase_add_test(tc, test_live_faults);
	tcase_add_test(tc, test_cold_faults);
	tcase_add_test(tc, test_live_crashes);
	tcase_add_test(tc, test_cold_crashes);
	tcase_add_test(tc, test_subnet_faults);
	tcase_add_test(tc, test_subnet_crashes);
	tcase_add_test(tc, test_evacuate_ok);
	tcase_add_test(tc, test_evacuate_faults);
	tcase_add_test(tc, test_evacuate_crashes);
	tcase_add_test(tc, test_evacuate_placement);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_plan_concerns);
	tcase_add_test(tc, test_plan_refusals);
	tcase_add_test(tc, test_plan_room);
	tcase_add_test(tc, test_plan_twice);
	tcase_add_test(tc, test_launch);
	tcase_add_test(tc, test_launch_faults);
	tcase_add_test(tc, test_replication_record);
	tcase_add_test(tc, test_launch_crashes);
	suite_add_tcase(s, tc);
	return s;
}
