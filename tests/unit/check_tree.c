/* The tree: path steps, attribute modes, whole-value writes, errno of
 * directory operations, and errors landing in the nearest status. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/names.h"
#include "../../core/spec.h"
#include "../../core/tree.h"
#include "fakenet.h"

static struct fake_world world;
static struct model *m;
static char statedir[64];

static void setup(void)
{
	memset(&world, 0, sizeof world);
	m = fake_model(&world, 1, 60, statedir);
	ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
	fake_model_free(m, statedir);
}

static int walk(const char *path, struct node *n, char *buf)
{
	return tree_walk(path, buf, 256, n);
}

static int do_write(const char *path, const char *value, size_t len)
{
	struct node n;
	char buf[256];
	int r = walk(path, &n, buf);

	return r ? r : tree_write(m, &n, value, len);
}

static int w(const char *path, const char *value)
{
	int r = do_write(path, value, strlen(value));

	return r == (int)strlen(value) ? 0 : r;
}

static char *rd(const char *path)
{
	static char out[4096];
	struct strbuf sb = STRBUF_INIT;
	struct node n;
	char buf[256];

	ck_assert_int_eq(walk(path, &n, buf), 0);
	ck_assert_int_eq(tree_read(m, &n, &sb), 0);
	snprintf(out, sizeof out, "%s", sb_str(&sb));
	sb_free(&sb);
	return out;
}

static int dirop(const char *path, int (*op)(struct model *,
					       const struct node *))
{
	struct node n;
	char buf[256];
	int r = walk(path, &n, buf);

	return r ? r : op(m, &n);
}

START_TEST(test_steps)
{
	struct node n;
	char buf[256];

	ck_assert_int_eq(walk("/", &n, buf), 0);
	ck_assert_int_eq(n.kind, NODE_ROOT);
	ck_assert_int_eq(walk("/clouds/local/uri", &n, buf), 0);
	ck_assert_int_eq(n.kind, NODE_CLOUD);
	ck_assert_str_eq(n.cloud, "local");
	ck_assert_ptr_nonnull(n.attr);
	ck_assert_int_eq(walk("/t/subnets/web/dhcp/range", &n, buf), 0);
	ck_assert_int_eq(n.kind, NODE_DHCP);
	ck_assert_str_eq(n.tenant, "t");
	ck_assert_str_eq(n.subnet, "web");
	ck_assert_int_eq(walk("/t/subnets/new", &n, buf), 0);
	ck_assert_int_eq(n.kind, NODE_SUBNETS);
	ck_assert_int_eq(walk("/t/subnets/web/cidr/x", &n, buf), -ENOTDIR);
	ck_assert_int_eq(walk("/t/nothing", &n, buf), -ENOENT);
	ck_assert_int_eq(walk("/t/subnets/web/other", &n, buf), -ENOENT);
	ck_assert_int_eq(walk("/clouds/local/x", &n, buf), -ENOENT);
	ck_assert(tree_name_reserved(NODE_ROOT, "clouds"));
	ck_assert(tree_name_reserved(NODE_SUBNETS, "new"));
	ck_assert(!tree_name_reserved(NODE_ROOT, "tenantA"));
}
END_TEST

/* What readdir lists of a directory with no objects yet is exactly what
 * names.c keeps there: the verbs below the tree refuse those names. */
static void fill_reserved(void *ctx, const char *name, bool dir)
{
	const enum names_dir *d = ctx;

	(void)dir;
	ck_assert_msg(names_reserved(*d, name), "%s is not reserved", name);
}

static void check_reserved(const char *path, enum names_dir d,
			   const char *const *all)
{
	struct node n;
	char buf[256];

	ck_assert_int_eq(walk(path, &n, buf), 0);
	ck_assert_int_eq(tree_readdir(m, &n, fill_reserved, &d), 0);
	for (; *all; all++) {
		ck_assert_msg(names_reserved(d, *all), "%s", *all);
		ck_assert_msg(tree_name_reserved(n.kind, *all), "%s", *all);
	}
}

START_TEST(test_reserved_names)
{
	static const char *const root[] = { "spec.yaml", "events",
		"topology.dot", "status", "clouds", NULL };
	static const char *const subnets[] = { "new", NULL };
	static const char *const vms[] = { NULL };

	check_reserved("/", NAMES_ROOT, root);
	ck_assert_int_eq(dirop("/t", tree_mkdir), 0);
	check_reserved("/t/subnets", NAMES_SUBNETS, subnets);
	check_reserved("/t/vms", NAMES_VMS, vms);
	ck_assert(!names_reserved(NAMES_ROOT, "t"));
}
END_TEST

START_TEST(test_files)
{
	struct tree_stat st;
	struct node n;
	char buf[256];

	ck_assert_int_eq(dirop("/t", tree_mkdir), 0);
	ck_assert_str_eq(rd("/t/id"), "1\n");
	ck_assert_int_eq(w("/t/subnets/new", "10.0.1.0/24 name=web\n"), 0);
	ck_assert_str_eq(rd("/t/subnets/web/cidr"), "10.0.1.0/24\n");
	ck_assert_str_eq(rd("/t/subnets/web/gateway"), "10.0.1.1\n");
	ck_assert_str_eq(rd("/t/subnets/web/vni"), "1\n");
	ck_assert_str_eq(rd("/t/subnets/web/bridge"), "maasb1\n");
	ck_assert_str_eq(rd("/t/subnets/web/cloud"), "local\n");
	ck_assert_str_eq(rd("/t/subnets/web/clouds"), "local\n");
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/server"), "10.0.1.1\n");
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/range"),
			 "10.0.1.10 10.0.1.250\n");
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/domain"), "t.maas\n");
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/status"), "running pid 1001\n");
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/leases"), "lease of 1\n");
	ck_assert_str_eq(rd("/clouds/local/status"), "up\n");
	ck_assert_str_eq(rd("/clouds/local/uri"), "qemu:///system\n");
	/* st_size is what a read returns. */
	ck_assert_int_eq(walk("/t/subnets/web/status", &n, buf), 0);
	ck_assert_int_eq(tree_stat(m, &n, &st), 0);
	ck_assert_uint_eq(st.size, strlen(rd("/t/subnets/web/status")));
	ck_assert_uint_eq(st.mode, 0444);
	ck_assert_int_eq(walk("/t/subnets/new", &n, buf), 0);
	ck_assert_int_eq(tree_stat(m, &n, &st), 0);
	ck_assert_uint_eq(st.mode, 0200);
	ck_assert_int_eq(tree_open(m, &n, true, false), -EACCES);
	ck_assert_int_eq(tree_open(m, &n, false, true), 0);
	ck_assert_int_eq(walk("/t/id", &n, buf), 0);
	ck_assert_int_eq(tree_open(m, &n, false, true), -EACCES);
	ck_assert_int_eq(tree_truncate(m, &n, 0), -EACCES);
	ck_assert_int_eq(walk("/t/subnets/web/dhcp/range", &n, buf), 0);
	ck_assert_int_eq(tree_truncate(m, &n, 0), 0);
	ck_assert_int_eq(tree_truncate(m, &n, 3), -EINVAL);
	/* dhcp/ is there only while DHCP is on. */
	ck_assert_int_eq(dirop("/t/subnets/web/dhcp", tree_rmdir), 0);
	ck_assert_int_eq(walk("/t/subnets/web/dhcp", &n, buf), 0);
	ck_assert_int_eq(tree_stat(m, &n, &st), -ENOENT);
	ck_assert_int_eq(dirop("/t/subnets/web/dhcp", tree_mkdir), 0);
	ck_assert_int_eq(tree_stat(m, &n, &st), 0);
	ck_assert(st.dir);
}
END_TEST

START_TEST(test_whole_values)
{
	ck_assert_int_eq(dirop("/t", tree_mkdir), 0);
	ck_assert_int_eq(w("/t/subnets/new", "  10.0.1.0/24 name=web \t\n"), 0);
	ck_assert_int_eq(w("/t/subnets/web/dhcp/domain", "a.b\n"), 0);
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/domain"), "a.b\n");
	ck_assert_int_eq(w("/t/subnets/web/dhcp/domain", "c.d\r\n"), 0);
	ck_assert_int_eq(w("/t/subnets/web/dhcp/domain", "x.y\nz.w\n"),
			 -EINVAL);
	ck_assert_int_eq(do_write("/t/subnets/web/dhcp/domain", "x.y\0z", 5),
			 -EINVAL);
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/domain"), "c.d\n");
	ck_assert_int_eq(w("/t/subnets/web/cidr", "10.0.9.0/24"), -EACCES);
	ck_assert_int_eq(w("/t/subnets/web/dhcp/range",
			   "10.0.1.100 10.0.1.200"), 0);
	ck_assert_str_eq(rd("/t/subnets/web/dhcp/range"),
			 "10.0.1.100 10.0.1.200\n");
	{
		char big[TREE_VALUE_MAX + 2];

		memset(big, 'a', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		ck_assert_int_eq(w("/t/subnets/new", big), -EINVAL);
	}
}
END_TEST

START_TEST(test_dir_errnos)
{
	ck_assert_int_eq(dirop("/t", tree_mkdir), 0);
	ck_assert_int_eq(dirop("/t", tree_mkdir), -EEXIST);
	ck_assert_int_eq(dirop("/clouds", tree_mkdir), -EEXIST);
	ck_assert_int_eq(dirop("/t/subnets", tree_mkdir), -EEXIST);
	ck_assert_int_eq(dirop("/t/subnets/x", tree_mkdir), -EPERM);
	ck_assert_int_eq(dirop("/t/vms/v", tree_mkdir), 0);
	ck_assert_int_eq(dirop("/t/vms/v", tree_mkdir), -EEXIST);
	ck_assert_int_eq(dirop("/t/vms/v/xml", tree_unlink), -EPERM);
	ck_assert_int_eq(dirop("/t/vms/v", tree_rmdir), 0);
	ck_assert_int_eq(dirop("/clouds/c2", tree_mkdir), -EPERM);
	ck_assert_int_eq(dirop("/t/subnets", tree_rmdir), -EPERM);
	ck_assert_int_eq(dirop("/t/vms", tree_rmdir), -EPERM);
	ck_assert_int_eq(dirop("/clouds", tree_rmdir), -EPERM);
	ck_assert_int_eq(dirop("/clouds/local", tree_rmdir), -EPERM);
	ck_assert_int_eq(dirop("/t/id", tree_unlink), -EPERM);
	ck_assert_int_eq(dirop("/t/subnets/new", tree_unlink), -EPERM);
	ck_assert_int_eq(dirop("/t/nope", tree_unlink), -ENOENT);
	ck_assert_int_eq(w("/t/subnets/new", "10.0.1.0/24"), 0);
	ck_assert_int_eq(dirop("/t", tree_rmdir), -ENOTEMPTY);
	ck_assert_int_eq(dirop("/t/subnets/10.0.1.0_24/dhcp", tree_mkdir),
			 -EEXIST);
	ck_assert_int_eq(dirop("/t/subnets/10.0.1.0_24", tree_rmdir), 0);
	ck_assert_int_eq(dirop("/t", tree_rmdir), 0);
	ck_assert_int_eq(dirop("/t", tree_rmdir), -ENOENT);
}
END_TEST

struct names {
	char list[512];
};

static void collect(void *ctx, const char *name, bool dir)
{
	struct names *n = ctx;

	strcat(n->list, name);
	strcat(n->list, dir ? "/ " : " ");
}

static const char *ls(const char *path)
{
	static struct names n;
	struct node node;
	char buf[256];

	n.list[0] = '\0';
	ck_assert_int_eq(walk(path, &node, buf), 0);
	ck_assert_int_eq(tree_readdir(m, &node, collect, &n), 0);
	return n.list;
}

START_TEST(test_readdir)
{
	ck_assert_str_eq(ls("/"), "spec.yaml plan events topology.dot status clouds/ ");
	ck_assert_int_eq(dirop("/b", tree_mkdir), 0);
	ck_assert_int_eq(dirop("/a", tree_mkdir), 0);
	ck_assert_str_eq(ls("/"), "spec.yaml plan events topology.dot status clouds/ a/ b/ ");
	ck_assert_str_eq(ls("/clouds"), "local/ ");
	ck_assert_str_eq(ls("/clouds/local"), "uri vtep external status state vms ");
	ck_assert_str_eq(ls("/a"), "id status spec.yaml plan quota external subnets/ vms/ floating/ secgroups/ ");
	ck_assert_int_eq(w("/a/subnets/new", "10.0.1.0/24 name=w dhcp=off"), 0);
	ck_assert_str_eq(ls("/a/subnets"), "new w/ ");
	ck_assert_str_eq(ls("/a/subnets/w"),
			 "cidr gateway cloud clouds vni bridge status ");
	ck_assert_int_eq(dirop("/a/subnets/w/dhcp", tree_mkdir), 0);
	ck_assert_str_eq(ls("/a/subnets/w"),
			 "cidr gateway cloud clouds vni bridge status dhcp/ ");
	ck_assert_str_eq(ls("/a/subnets/w/dhcp"),
			 "server range domain hosts leases status ");
	ck_assert_str_eq(ls("/a/vms"), "");
}
END_TEST

/* spec.yaml over the fakes: a document applied makes exactly its
 * difference; applied again, nothing; a bad one, nothing at all. */
START_TEST(test_spec)
{
	const char *doc =
		"tenants:\n"
		"  a:\n"
		"    subnets:\n"
		"      web: {cidr: 10.0.1.0/24, dhcp: {range: 10.0.1.20 10.0.1.30}}\n"
		"      db: {cidr: 10.0.2.0/24, dhcp: off}\n"
		"    vms:\n"
		"      v1: {subnet: db, vcpus: 2, memory: 128M}\n";
	const char *bad =
		"tenants:\n"
		"  a: {subnets: {web: {cidr: 10.0.1.0/24}}}\n"
		"  b:\n"
		"    vms:\n"
		"      v1: {memory: 1Q}\n";
	char err[ERRLEN] = "", *got;

	ck_assert_int_eq(spec_apply(m, NULL, doc, strlen(doc), err), 8);
	ck_assert_str_eq(rd("/a/subnets/web/dhcp/range"), "10.0.1.20 10.0.1.30\n");
	ck_assert_str_eq(rd("/a/vms/v1/subnet"), "db\n");
	ck_assert_str_eq(rd("/a/vms/v1/vcpus"), "2\n");
	got = rd("/spec.yaml");
	ck_assert_ptr_nonnull(strstr(got, "      db: {cidr: 10.0.2.0/24, cloud: local, dhcp: off}\n"));
	ck_assert_ptr_nonnull(strstr(got, "      v1: {subnet: db, vcpus: 2, memory: 128M, disk: 1G, image: tiny, location: local, state: stopped}\n"));
	/* its own reading, applied: nothing to do */
	ck_assert_int_eq(spec_apply(m, NULL, got, strlen(got), err), 0);
	ck_assert_int_eq(spec_apply(m, "a", got, strlen(got), err), 0);
	/* one bad value: nothing, and where it is */
	ck_assert_int_eq(spec_apply(m, NULL, bad, strlen(bad), err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "spec.yaml:5:"));
	ck_assert_str_eq(rd("/a/vms/v1/subnet"), "db\n");
	ck_assert_int_eq(dirop("/b", tree_rmdir), -ENOENT);
	/* a tenant's document names that tenant only */
	ck_assert_int_eq(spec_apply(m, "a", "tenants: {b: {}}", 16, err), -EINVAL);
	/* an empty tenant: its VM, then its subnets go */
	ck_assert_int_eq(spec_apply(m, "a", "tenants: {a: {}}", 16, err), 3);
	ck_assert_str_eq(rd("/spec.yaml"), "tenants:\n  a:\n    external: off\n    subnets: {}\n    vms: {}\n");
	ck_assert_int_eq(spec_apply(m, NULL, "tenants: {}", 11, err), 1);
	ck_assert_str_eq(rd("/spec.yaml"), "tenants: {}\n");
}
END_TEST

/* Security groups: default's rules; mkdir/rmdir; the rules file takes the
 * whole list (several lines), canonical when read; bad rules EINVAL and
 * nothing changes; a group in use EBUSY; a VM's groups. */
START_TEST(test_secgroups)
{
	ck_assert_int_eq(dirop("/a", tree_mkdir), 0);
	ck_assert_str_eq(rd("/a/secgroups/default/rules"),
			 "in any group default\nout any\n");
	ck_assert_int_eq(dirop("/a/secgroups/web", tree_mkdir), 0);
	ck_assert_int_eq(dirop("/a/secgroups/web", tree_mkdir), -EEXIST);
	ck_assert_str_eq(rd("/a/secgroups/web/rules"), "out any\n");
	ck_assert_int_eq(w("/a/secgroups/web/rules",
			   "in tcp 80\n# comment\n\nin tcp 1000-2000 from "
			   "10.0.0.0/8\n  in icmp group default\nout udp 53 "
			   "to 0.0.0.0/0\n"), 0);
	ck_assert_str_eq(rd("/a/secgroups/web/rules"),
			 "in tcp 80\nin tcp 1000-2000 from 10.0.0.0/8\n"
			 "in icmp group default\nout udp 53 to 0.0.0.0/0\n");
	ck_assert_int_eq(w("/a/secgroups/web/rules", "in tcp 80\nin tcp x\n"),
			 -EINVAL);
	ck_assert_int_eq(w("/a/secgroups/web/rules", "out tcp 22 from 1.0.0.0/8"),
			 -EINVAL);
	ck_assert_int_eq(w("/a/secgroups/web/rules", "in tcp 0"), -EINVAL);
	ck_assert_int_eq(w("/a/secgroups/web/rules", "in tcp 9-8"), -EINVAL);
	ck_assert_int_eq(w("/a/secgroups/web/rules", "in icmp from 10.0.0.1/8"),
			 -EINVAL);
	ck_assert_int_eq(w("/a/secgroups/web/rules", "in any group nosuch"),
			 -ENOENT);
	ck_assert_int_eq(w("/a/secgroups/web/rules", "sideways tcp 22"),
			 -EINVAL);
	ck_assert_str_eq(rd("/a/secgroups/web/rules"),
			 "in tcp 80\nin tcp 1000-2000 from 10.0.0.0/8\n"
			 "in icmp group default\nout udp 53 to 0.0.0.0/0\n");
	ck_assert_int_eq(dirop("/a/secgroups/default", tree_rmdir), -EPERM);
	ck_assert_int_eq(dirop("/a/vms/v", tree_mkdir), 0);
	ck_assert_str_eq(rd("/a/vms/v/secgroups"), "default\n");
	ck_assert_int_eq(w("/a/vms/v/secgroups", "default web"), 0);
	ck_assert_str_eq(rd("/a/vms/v/secgroups"), "default web\n");
	ck_assert_int_eq(w("/a/vms/v/secgroups", "nosuch"), -ENOENT);
	ck_assert_int_eq(w("/a/vms/v/secgroups", "web web"), -EINVAL);
	ck_assert_int_eq(w("/a/vms/v/secgroups", ""), -EINVAL);
	ck_assert_int_eq(dirop("/a/secgroups/web", tree_rmdir), -EBUSY);
	ck_assert_int_eq(w("/a/vms/v/secgroups", "default"), 0);
	ck_assert_int_eq(dirop("/a/secgroups/db", tree_mkdir), 0);
	ck_assert_int_eq(w("/a/secgroups/db/rules", "in tcp 5432 group web"), 0);
	ck_assert_int_eq(dirop("/a/secgroups/web", tree_rmdir), -EBUSY);
	ck_assert_int_eq(dirop("/a/secgroups/db", tree_rmdir), 0);
	ck_assert_int_eq(dirop("/a/secgroups/web", tree_rmdir), 0);
	ck_assert_int_eq(dirop("/a/secgroups/web", tree_rmdir), -ENOENT);
}
END_TEST

START_TEST(test_errors_in_status)
{
	ck_assert_int_eq(dirop("/t", tree_mkdir), 0);
	ck_assert_int_eq(w("/t/subnets/new", "10.0.1.0/24 name=web"), 0);
	ck_assert_int_eq(w("/t/subnets/new", "10.0.1.0/25"), -EEXIST);
	ck_assert_ptr_nonnull(strstr(rd("/t/status"),
		"write new: EEXIST: 10.0.1.0/25 overlaps 10.0.1.0/24 "
		"(subnet web)\n"));
	ck_assert_int_eq(w("/t/subnets/web/dhcp/range", "1 2"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(rd("/t/subnets/web/dhcp/status"),
				     "write range: EINVAL: '1' is not an IPv4"));
	ck_assert_int_eq(dirop("/t/subnets/web/cidr", tree_unlink), -EPERM);
	ck_assert_ptr_nonnull(strstr(rd("/t/subnets/web/status"),
				     "unlink cidr: EPERM"));
	ck_assert_int_eq(dirop("/t", tree_rmdir), -ENOTEMPTY);
	ck_assert_ptr_nonnull(strstr(rd("/t/status"), "rmdir t: ENOTEMPTY"));
	ck_assert_ptr_nonnull(strstr(rd("/t/subnets/web/status"),
				     "dhcp: running pid 1001\n"));
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("tree");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_steps);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_reserved_names);
	tcase_add_test(tc, test_whole_values);
	tcase_add_test(tc, test_dir_errnos);
	tcase_add_test(tc, test_readdir);
	tcase_add_test(tc, test_errors_in_status);
	tcase_add_test(tc, test_spec);
	tcase_add_test(tc, test_secgroups);
	suite_add_tcase(s, tc);
	return s;
}
