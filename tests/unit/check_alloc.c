/* Allocation of ids and VNIs: lowest free first, reuse after delete. */
#include <check.h>
#include <errno.h>

#include "../../core/alloc.h"

START_TEST(test_lowest_free)
{
	struct idset s = { 0 };
	uint32_t id;
	int i;

	for (i = 1; i <= 5; i++) {
		ck_assert_int_eq(idset_alloc(&s, 1, 100, &id), 0);
		ck_assert_uint_eq(id, (uint32_t)i);
	}
	idset_put(&s, 3);
	ck_assert(!idset_has(&s, 3));
	ck_assert_int_eq(idset_alloc(&s, 1, 100, &id), 0);
	ck_assert_uint_eq(id, 3);
	ck_assert_int_eq(idset_alloc(&s, 1, 100, &id), 0);
	ck_assert_uint_eq(id, 6);
	idset_put(&s, 1);
	idset_put(&s, 6);
	ck_assert_int_eq(idset_alloc(&s, 1, 100, &id), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(idset_alloc(&s, 1, 100, &id), 0);
	ck_assert_uint_eq(id, 6);
	idset_free(&s);
}
END_TEST

START_TEST(test_range_and_exhaustion)
{
	struct idset s = { 0 };
	uint32_t id;

	ck_assert_int_eq(idset_take(&s, 5), 0);
	ck_assert_int_eq(idset_take(&s, 5), -EEXIST);
	ck_assert_int_eq(idset_alloc(&s, 5, 7, &id), 0);
	ck_assert_uint_eq(id, 6);
	ck_assert_int_eq(idset_alloc(&s, 5, 7, &id), 0);
	ck_assert_uint_eq(id, 7);
	ck_assert_int_eq(idset_alloc(&s, 5, 7, &id), -ENOSPC);
	/* Ids outside the range (loaded from state) do not count. */
	ck_assert_int_eq(idset_take(&s, 100), 0);
	ck_assert_int_eq(idset_alloc(&s, 1, 10, &id), 0);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(idset_alloc(&s, 8, 8, &id), 0);
	ck_assert_uint_eq(id, 8);
	ck_assert_int_eq(idset_alloc(&s, 9, 8, &id), -ENOSPC);
	idset_put(&s, 42);   /* not taken: harmless */
	ck_assert_int_eq(idset_alloc(&s, 0xfffffffe, 0xffffffff, &id), 0);
	ck_assert_uint_eq(id, 0xfffffffe);
	ck_assert_int_eq(idset_alloc(&s, 0xfffffffe, 0xffffffff, &id), 0);
	ck_assert_uint_eq(id, 0xffffffff);
	ck_assert_int_eq(idset_alloc(&s, 0xfffffffe, 0xffffffff, &id),
			 -ENOSPC);
	idset_free(&s);
}
END_TEST

START_TEST(test_many)
{
	struct idset s = { 0 };
	uint32_t id, i;

	for (i = 0; i < 5000; i++) {
		ck_assert_int_eq(idset_alloc(&s, 1000, 1000000, &id), 0);
		ck_assert_uint_eq(id, 1000 + i);
	}
	for (i = 0; i < 5000; i += 2)
		idset_put(&s, 1000 + i);
	for (i = 0; i < 5000; i += 2) {
		ck_assert_int_eq(idset_alloc(&s, 1000, 1000000, &id), 0);
		ck_assert_uint_eq(id, 1000 + i);
	}
	ck_assert_uint_eq(s.n, 5000);
	idset_free(&s);
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("alloc");

	tcase_add_test(tc, test_lowest_free);
	tcase_add_test(tc, test_range_and_exhaustion);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}
