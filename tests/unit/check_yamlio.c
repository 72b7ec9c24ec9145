/* The YAML writer: the layout of block and flow mappings, and scalars that
 * read back as the very text written, whatever it holds. */
#include <check.h>
#include <string.h>

#include "../../core/yamlio.h"

START_TEST(test_layout)
{
	struct strbuf sb = STRBUF_INIT;
	struct yw w;

	ck_assert_int_eq(yw_begin(&w, &sb), 0);
	yw_map(&w);
	yw_key_uint(&w, "version", 1);
	yw_str(&w, "tenants");
	yw_map(&w);
	yw_str(&w, "a");
	yw_map(&w);
	yw_str(&w, "empty");
	yw_map_flow(&w);
	yw_map_end(&w);
	yw_str(&w, "none");
	yw_map(&w);
	yw_map_end(&w);
	yw_str(&w, "web");
	yw_map_flow(&w);
	yw_key_str(&w, "cidr", "10.0.1.0/24");
	yw_str(&w, "dhcp");
	yw_map_flow(&w);
	yw_key_str(&w, "range", "10.0.1.10 10.0.1.250");
	yw_map_end(&w);
	yw_map_end(&w);
	yw_map_end(&w);
	yw_map_end(&w);
	yw_map_end(&w);
	ck_assert_int_eq(yw_end(&w, true), 0);
	ck_assert_str_eq(sb_str(&sb),
			 "version: 1\n"
			 "tenants:\n"
			 "  a:\n"
			 "    empty: {}\n"
			 "    none: {}\n"
			 "    web: {cidr: 10.0.1.0/24, dhcp: {range: 10.0.1.10 10.0.1.250}}\n"
			 "...\n");
	sb_free(&sb);
}
END_TEST

START_TEST(test_scalars_read_back)
{
	static const char *const values[] = {
		"plain", "10.0.1.0/24", "52:54:00:aa:bb:cc", "a b", "",
		"cloud1: cannot connect: refused", "\"quoted\"", "back\\slash",
		"# not a comment", "a #b", "{x}", "[y]", "a, b", "- item",
		"tab\there", "new\nline", "trailing ", " leading", "ends:",
		"?q", "&anchor", "*alias", "!tag", "|", ">", "%", "@", "`",
		"'single'", "caf\xc3\xa9", "\x01\x7f", "~", "null", "yes",
	};
	size_t i;

	for (i = 0; i < sizeof values / sizeof *values; i++) {
		struct strbuf sb = STRBUF_INIT;
		char err[ERRLEN];
		struct ydoc d;
		struct yw w;
		yaml_node_t *n;

		ck_assert_int_eq(yw_begin(&w, &sb), 0);
		yw_map(&w);
		yw_key_str(&w, "block", values[i]);
		yw_str(&w, "flow");
		yw_map_flow(&w);
		yw_key_str(&w, values[i][0] ? values[i] : "k", values[i]);
		yw_map_end(&w);
		yw_map_end(&w);
		ck_assert_int_eq(yw_end(&w, false), 0);
		ck_assert_msg(ydoc_load(&d, "t", sb.s, sb.len, err) == 0,
			      "%s: %s", sb_str(&sb), err);
		n = ydoc_get(&d, ydoc_root(&d), "block");
		ck_assert_str_eq(ydoc_scalar(n), values[i]);
		n = ydoc_get(&d, ydoc_root(&d), "flow");
		n = ydoc_get(&d, n, values[i][0] ? values[i] : "k");
		ck_assert_str_eq(ydoc_scalar(n), values[i]);
		ydoc_free(&d);
		sb_free(&sb);
	}
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("yamlio");
	TCase *tc = tcase_create("yamlio");

	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_scalars_read_back);
	suite_add_tcase(s, tc);
	return s;
}
