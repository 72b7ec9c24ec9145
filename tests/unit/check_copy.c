/* The receiving end of a copy (the agent's "receive"): a data frame must
 * lie inside the file, whatever its offset and length add up to. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../backend/copy/copy.h"

#define SIZE 4096

/* Feeds one frame line and 64 bytes to a receiver of a SIZE-byte file;
 * returns what it returned, its answer in ans, and whether a file (whole
 * or partial) is left in dir. */
static int receive(const char *frame, char *ans, size_t cap, bool *left)
{
	char dir[] = "/tmp/check_copy.XXXXXX", path[128];
	static const char payload[64] = "0123456789abcdef";
	int in[2], out[2], r;
	ssize_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(write(in[1], frame, strlen(frame)),
			 (ssize_t)strlen(frame));
	ck_assert_int_eq(write(in[1], "\n", 1), 1);
	ck_assert_int_eq(write(in[1], payload, sizeof payload),
			 (ssize_t)sizeof payload);
	close(in[1]);
	r = copy_serve_receive(in[0], out[1], dir, "x.qcow2", SIZE, 0600);
	close(in[0]);
	close(out[1]);
	n = read(out[0], ans, cap - 1);
	ans[n > 0 ? n : 0] = 0;
	close(out[0]);
	snprintf(path, sizeof path, "%s/.x.qcow2.part", dir);
	*left = access(path, F_OK) == 0;
	snprintf(path, sizeof path, "%s/x.qcow2", dir);
	*left |= access(path, F_OK) == 0;
	unlink(path);
	snprintf(path, sizeof path, "%s/.x.qcow2.part", dir);
	unlink(path);
	rmdir(dir);
	return r;
}

START_TEST(test_frames_outside_refused)
{
	static const char *const bad[] = {
		"data 18446744073709551600 32",   /* off + len wraps to 16 */
		"data 18446744073709551615 1",
		"data 4064 64",                   /* past the end by 32 */
		"data 4096 1",
		"data 0 0",
		"data 0 18446744073709551615",
		"data -1 16",
		"data 0 16 x",
	};
	char ans[512];
	bool left;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		int r = receive(bad[i], ans, sizeof ans, &left);

		ck_assert_msg(r == -EPROTO, "%s: %d", bad[i], r);
		ck_assert_msg(strstr(ans, "not a copy frame"), "%s: %s",
			      bad[i], ans);
		ck_assert_msg(!left, "%s left a file", bad[i]);
	}
}
END_TEST

/* The same receiver takes a frame that ends exactly at the end of the
 * file: what fails then is the input ending before "end", not the frame. */
START_TEST(test_frame_at_the_end_taken)
{
	char ans[512];
	bool left;
	int r = receive("data 4032 64", ans, sizeof ans, &left);

	ck_assert_int_ne(r, -EPROTO);
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_null(strstr(ans, "not a copy frame"));
	ck_assert(!left);
}
END_TEST

/* The frame header both ends read through. */
START_TEST(test_frame_header)
{
	uint64_t off = 7;
	size_t len = 7;

	ck_assert(copy_frame_data("data 0 16", 16, &off, &len));
	ck_assert_uint_eq(off, 0);
	ck_assert_uint_eq(len, 16);
	ck_assert(copy_frame_data("data 4032 64", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data 18446744073709551600 32", SIZE, &off,
				   &len));
	ck_assert(!copy_frame_data("data 18446744073709551615 1",
				   UINT64_MAX, &off, &len));   /* ends past it */
	ck_assert(!copy_frame_data("data 4064 64", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data 0 0", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data -1 16", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data 0 -16", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data 0 16 x", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data 0", SIZE, &off, &len));
	ck_assert(!copy_frame_data("end 00", SIZE, &off, &len));
	ck_assert(!copy_frame_data("data 0 1048577", UINT64_MAX, &off, &len));
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("copy");
	TCase *tc = tcase_create("copy");

	tcase_add_test(tc, test_frames_outside_refused);
	tcase_add_test(tc, test_frame_at_the_end_taken);
	tcase_add_test(tc, test_frame_header);
	suite_add_tcase(s, tc);
	return s;
}
