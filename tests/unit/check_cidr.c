/* CIDR parse/format/overlap, gateway and pool arithmetic, name rules. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "../../core/cidr.h"
#include "../../core/model.h"
#include "../../lib/util.h"

static void parse_ok(const char *s, const char *canon)
{
	struct cidr c;
	char buf[CIDR_STRLEN], err[ERRLEN] = "";

	ck_assert_msg(cidr_parse(s, &c, err) == 0, "%s: %s", s, err);
	cidr_format(&c, buf);
	ck_assert_str_eq(buf, canon);
}

static void parse_bad(const char *s, const char *why)
{
	struct cidr c;
	char err[ERRLEN] = "";

	ck_assert_int_eq(cidr_parse(s, &c, err), -EINVAL);
	ck_assert_msg(strstr(err, why), "%s: reason '%s' lacks '%s'", s, err,
		      why);
}

START_TEST(test_parse_format)
{
	struct cidr c;
	char buf[CIDR_STRLEN];

	parse_ok("10.0.1.0/24", "10.0.1.0/24");
	parse_ok("192.168.0.0/16", "192.168.0.0/16");
	parse_ok("10.0.0.0/8", "10.0.0.0/8");
	parse_ok("172.16.5.8/29", "172.16.5.8/29");
	ck_assert_int_eq(cidr_parse("10.0.1.0/24", &c, NULL), 0);
	ck_assert_uint_eq(c.net, 0x0a000100u);
	ck_assert_uint_eq(c.prefix, 24);
	cidr_dirname(&c, buf);
	ck_assert_str_eq(buf, "10.0.1.0_24");
}
END_TEST

START_TEST(test_parse_rejects)
{
	parse_bad("", "not a CIDR");
	parse_bad("10.0.1.0", "not a CIDR");
	parse_bad("10.0.1.0/", "bad prefix");
	parse_bad("/24", "not a CIDR");
	parse_bad("10.0.1/24", "not an IPv4");
	parse_bad("10.0.1.256/24", "not an IPv4");
	parse_bad("010.0.1.0/24", "not an IPv4");
	parse_bad("10.0.1.0/024", "bad prefix");
	parse_bad("10.0.1.0/24x", "bad prefix");
	parse_bad("10.0.1.0/-1", "bad prefix");
	parse_bad("10.0.1.0/+24", "bad prefix");
	parse_bad("10.0.1.0/7", "prefix must be /8 to /29");
	parse_bad("10.0.1.0/30", "prefix must be /8 to /29");
	parse_bad("10.0.1.0/32", "prefix must be /8 to /29");
	parse_bad("10.0.1.5/24", "host bits set (did you mean 10.0.1.0/24?)");
	parse_bad("127.0.0.0/24", "loopback");
	parse_bad("169.254.1.0/24", "link-local");
	parse_bad("224.1.0.0/16", "multicast");
	parse_bad("0.1.0.0/16", "this network");
	parse_bad("10.0.1.0/24\n", "bad prefix");
	parse_bad("10.0.1.0/24 ", "bad prefix");
	parse_bad("fe80::/64", "not an IPv4");
}
END_TEST

START_TEST(test_overlap)
{
	struct cidr a, b, c, d;

	cidr_parse("10.0.1.0/24", &a, NULL);
	cidr_parse("10.0.1.128/25", &b, NULL);
	cidr_parse("10.0.2.0/24", &c, NULL);
	cidr_parse("10.0.0.0/16", &d, NULL);
	ck_assert(cidr_overlap(&a, &b));
	ck_assert(cidr_overlap(&b, &a));
	ck_assert(!cidr_overlap(&a, &c));
	ck_assert(cidr_overlap(&a, &d));
	ck_assert(cidr_overlap(&d, &c));
	ck_assert(cidr_overlap(&a, &a));
	ck_assert(!cidr_overlap(&b, &c));
}
END_TEST

START_TEST(test_gateway_and_pool)
{
	struct cidr c;
	uint32_t first, last;
	char a[IP_STRLEN], b[IP_STRLEN], err[ERRLEN];

	cidr_parse("10.0.1.0/24", &c, NULL);
	ip_format(cidr_gateway(&c), a);
	ck_assert_str_eq(a, "10.0.1.1");
	cidr_default_range(&c, &first, &last);
	ip_format(first, a);
	ip_format(last, b);
	ck_assert_str_eq(a, "10.0.1.10");
	ck_assert_str_eq(b, "10.0.1.250");
	ck_assert_int_eq(cidr_check_range(&c, first, last, err), 0);

	cidr_parse("10.0.1.0/29", &c, NULL);
	cidr_default_range(&c, &first, &last);
	ip_format(first, a);
	ip_format(last, b);
	ck_assert_str_eq(a, "10.0.1.2");
	ck_assert_str_eq(b, "10.0.1.6");
	ck_assert_int_eq(cidr_check_range(&c, first, last, err), 0);

	cidr_parse("10.8.0.0/16", &c, NULL);
	cidr_default_range(&c, &first, &last);
	ip_format(first, a);
	ip_format(last, b);
	ck_assert_str_eq(a, "10.8.0.10");
	ck_assert_str_eq(b, "10.8.255.250");
}
END_TEST

START_TEST(test_range_checks)
{
	struct cidr c;
	uint32_t f, l;
	char err[ERRLEN];

	cidr_parse("10.0.1.0/24", &c, NULL);
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.100 10.0.1.200", &f, &l,
					  err), 0);
	ck_assert_uint_eq(l - f, 100);
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.100   10.0.1.100", &f,
					  &l, err), 0);
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.200 10.0.1.100", &f, &l,
					  err), -EINVAL);
	ck_assert(strstr(err, "after the last"));
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.1 10.0.1.100", &f, &l,
					  err), -EINVAL);
	ck_assert(strstr(err, "gateway"));
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.0 10.0.1.100", &f, &l,
					  err), -EINVAL);
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.10 10.0.1.255", &f, &l,
					  err), -EINVAL);
	ck_assert(strstr(err, "broadcast"));
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.2.10 10.0.2.20", &f, &l,
					  err), -EINVAL);
	ck_assert(strstr(err, "not inside"));
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.10", &f, &l, err),
			 -EINVAL);
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.10 10.0.1.20 10.0.1.30",
					  &f, &l, err), -EINVAL);
	ck_assert_int_eq(cidr_parse_range(&c, "10.0.1.10,10.0.1.20", &f, &l,
					  err), -EINVAL);
	ck_assert_int_eq(cidr_parse_range(&c, "--dhcp-script=/x 10.0.1.20",
					  &f, &l, err), -EINVAL);
}
END_TEST

START_TEST(test_names)
{
	char err[ERRLEN];

	ck_assert_int_eq(name_check("tenantA", "tenant", err), 0);
	ck_assert_int_eq(name_check("a", "tenant", err), 0);
	ck_assert_int_eq(name_check("web_1.prod-2", "tenant", err), 0);
	ck_assert_int_eq(name_check("0123456789abcdef0123456789abcdef",
				    "tenant", err), 0);
	ck_assert_int_eq(name_check("0123456789abcdef0123456789abcdefX",
				    "tenant", err), -EINVAL);
	ck_assert(strstr(err, "longer than 32"));
	ck_assert_int_eq(name_check("", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check(".hidden", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check("-opt", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check("a b", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check("a/b", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check("a\nb", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check("caf\xc3\xa9", "tenant", err), -EINVAL);
	ck_assert_int_eq(name_check("<x>", "tenant", err), -EINVAL);
	ck_assert(strstr(err, "outside [A-Za-z0-9_.-]"));
}
END_TEST

START_TEST(test_dns_names)
{
	char err[ERRLEN];

	ck_assert(dns_name_valid("tenanta.maas"));
	ck_assert(dns_name_valid("a"));
	ck_assert(dns_name_valid("x-1.example.org"));
	ck_assert(!dns_name_valid(""));
	ck_assert(!dns_name_valid("."));
	ck_assert(!dns_name_valid("a..b"));
	ck_assert(!dns_name_valid("a."));
	ck_assert(!dns_name_valid("-a.b"));
	ck_assert(!dns_name_valid("a-.b"));
	ck_assert(!dns_name_valid("a_b.c"));
	ck_assert(!dns_name_valid("a b"));
	ck_assert(!dns_name_valid("a/b"));
	ck_assert(!dns_name_valid("a,b"));
	ck_assert(!dns_name_valid("a\n"));
	ck_assert(!dns_name_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	ck_assert_int_eq(domain_check("--server=1.2.3.4", err), -EINVAL);
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("cidr");

	tcase_add_test(tc, test_parse_format);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_gateway_and_pool);
	tcase_add_test(tc, test_range_checks);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_dns_names);
	suite_add_tcase(s, tc);
	return s;
}
