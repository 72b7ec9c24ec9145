/* spec.yaml against hostile documents (issue 17, item 1): flow nesting,
 * object counts and duplicate keys are bounded and refused with E2BIG or
 * EINVAL and the line; one tenant's document never waits for another's. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/spec.h"
#include "../../core/tenant.h"
#include "../../core/yamlio.h"
#include "fakenet.h"

static struct fake_world world;
static struct model *m;
static char statedir[64];

static void setup(void)
{
	char err[ERRLEN];

	memset(&world, 0, sizeof world);
	m = fake_model(&world, 1, 60, statedir);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(tenant_create(m, "a", err), 0);
	ck_assert_int_eq(tenant_create(m, "b", err), 0);
}

static void teardown(void)
{
	fake_model_free(m, statedir);
}

static int apply(const char *tenant, const struct strbuf *doc, char *err)
{
	return spec_apply(m, tenant, sb_str(doc), doc->len, err);
}

START_TEST(test_depth)
{
	struct strbuf doc = STRBUF_INIT;
	char err[ERRLEN] = "";
	int i;

	/* what libyaml takes the square of: refused before it reads */
	sb_puts(&doc, "tenants:\n  a:\n    vms: ");
	for (i = 0; i < 80000; i++)
		sb_puts(&doc, "[");
	ck_assert_int_eq(apply("a", &doc, err), -E2BIG);
	ck_assert_msg(strstr(err, "spec.yaml:3: nested deeper than 64"), "%s",
		      err);
	/* brackets in quotes and comments do not count */
	sb_reset(&doc);
	sb_puts(&doc, "tenants:\n  a:\n    vms: {}  # ");
	for (i = 0; i < 100; i++)
		sb_puts(&doc, "[");
	sb_puts(&doc, "\n    subnets: {}\n");
	ck_assert_msg(apply("a", &doc, err) >= 0, "%s", err);
	sb_free(&doc);
}
END_TEST

START_TEST(test_objects)
{
	struct strbuf doc = STRBUF_INIT;
	char err[ERRLEN] = "";
	int i;

	sb_puts(&doc, "tenants:\n  a:\n    vms:\n");
	for (i = 0; i < SPEC_OBJECTS_MAX; i++)
		sb_printf(&doc, "      v%d: {}\n", i);
	ck_assert_int_eq(apply("a", &doc, err), -E2BIG);
	ck_assert_msg(strstr(err, "20001 tenants, subnets and VMs: a "
			      "document holds at most 20000"), "%s", err);
	ck_assert_uint_eq(tenant_find(m, "a")->vms.n, 0);
	sb_free(&doc);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	struct strbuf doc = STRBUF_INIT;
	char err[ERRLEN] = "";
	int i;

	/* 40,000 names (8 s when each key was compared with every other),
	 * one of them twice */
	sb_puts(&doc, "tenants:\n  a:\n    vms:\n");
	for (i = 0; i < 19990; i++)
		sb_printf(&doc, "      v%d: {}\n", i);
	sb_puts(&doc, "      v7: {}\n");
	ck_assert_int_eq(apply("a", &doc, err), -EINVAL);
	ck_assert_msg(strstr(err, "spec.yaml:19994:7: duplicate key 'v7'"),
		      "%s", err);
	ck_assert_uint_eq(tenant_find(m, "a")->vms.n, 0);
	sb_free(&doc);
}
END_TEST

/* ---- a tenant's document applies while another tenant's is stuck ---- */

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static int held, released, b_done, b_result;

/* The first subnet_ensure (tenant a's) waits until the test releases it. */
static void hold_first(struct fake_world *w, const char *cloud,
		       const char *op)
{
	(void)w;
	(void)cloud;
	if (strcmp(op, "subnet_ensure"))
		return;
	pthread_mutex_lock(&hold_lock);
	if (!held++) {
		pthread_cond_broadcast(&hold_cv);
		while (!released)
			pthread_cond_wait(&hold_cv, &hold_lock);
	}
	pthread_mutex_unlock(&hold_lock);
}

static void *apply_a(void *arg)
{
	static const char doc[] =
		"tenants: {a: {subnets: {s: {cidr: 10.0.1.0/24}}}}\n";
	char err[ERRLEN];

	(void)arg;
	return (void *)(intptr_t)spec_apply(m, "a", doc, strlen(doc), err);
}

static void *apply_b(void *arg)
{
	static const char doc[] =
		"tenants: {b: {subnets: {s: {cidr: 10.0.2.0/24}}}}\n";
	char err[ERRLEN];
	int r = spec_apply(m, "b", doc, strlen(doc), err);

	(void)arg;
	pthread_mutex_lock(&hold_lock);
	b_done = 1;
	b_result = r;
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_lock);
	return NULL;
}

START_TEST(test_tenants_apart)
{
	pthread_t ta, tb;
	struct timespec until;
	int b_first;
	void *ra;

	world.on_call = hold_first;
	ck_assert_int_eq(pthread_create(&ta, NULL, apply_a, NULL), 0);
	pthread_mutex_lock(&hold_lock);
	while (!held)
		pthread_cond_wait(&hold_cv, &hold_lock);
	pthread_mutex_unlock(&hold_lock);
	/* a is stuck in its driver call: b's document goes through */
	ck_assert_int_eq(pthread_create(&tb, NULL, apply_b, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&hold_lock);
	while (!b_done &&
	       pthread_cond_timedwait(&hold_cv, &hold_lock, &until) == 0)
		;
	b_first = b_done;
	released = 1;         /* let a go, whatever happened */
	pthread_cond_broadcast(&hold_cv);
	pthread_mutex_unlock(&hold_lock);
	pthread_join(ta, &ra);
	pthread_join(tb, NULL);
	world.on_call = NULL;
	ck_assert_msg(b_first, "tenant b's document waited for tenant a's");
	ck_assert_int_eq(b_result, 1);
	ck_assert_int_eq((int)(intptr_t)ra, 1);
	ck_assert_ptr_nonnull(subnet_find(tenant_find(m, "b"), "s"));
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("spec");
	TCase *tc = tcase_create("spec");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_objects);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_tenants_apart);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
