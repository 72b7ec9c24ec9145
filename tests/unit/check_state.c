/* state.yaml: round trip, and every kind of bad file refused with a clear
 * message that names the line, never a crash. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/state.h"
#include "../../core/tenant.h"
#include "../../lib/util.h"
#include "faults.h"
#include "fakenet.h"

static const char good[] =
	"version: 1\n"
	"instance: 0123456789abcdef\n"
	"tenants:\n"
	"  tenantA:\n"
	"    id: 1\n"
	"    subnets:\n"
	"      db:\n"
	"        cidr: 10.0.2.0/24\n"
	"        cloud: local\n"
	"        vni: 7\n"
	"        dhcp: off\n"
	"      web:\n"
	"        cidr: 10.0.1.0/24\n"
	"        cloud: local\n"
	"        vni: 3\n"
	"        dhcp:\n"
	"          range: 10.0.1.100 10.0.1.200\n"
	"          domain: web.example\n"
	"    vms:\n"
	"      vm1:\n"
	"        subnet: web\n"
	"        vcpus: 2\n"
	"        memory: 128M\n"
	"        disk: 2G\n"
	"        image: tiny\n"
	"        location: local\n"
	"        state: running\n"
	"        mac: 52:54:00:0a:0b:0c\n"
	"        ip: 10.0.1.100\n"
	"        uuid: 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\n"
	"      vm2:\n"
	"        vcpus: 1\n"
	"        memory: 256M\n"
	"        disk: 1G\n"
	"        image: tiny\n"
	"        location: local\n"
	"        state: stopped\n"
	"        mac: 52:54:00:0a:0b:0d\n"
	"        uuid: 1f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\n"
	"  tenantB:\n"
	"    id: 2\n"
	"    owner: 1000:100\n"
	"    subnets:\n"
	"      10.0.1.0_24:\n"
	"        cidr: 10.0.1.0/24\n"
	"        cloud: local\n"
	"        vni: 4\n"
	"        dhcp:\n"
	"          range: 10.0.1.10 10.0.1.250\n"
	"          domain: tenantb.maas\n"
	"    vms: {}\n"
	"  tenantC:\n"
	"    id: 5\n"
	"    subnets: {}\n"
	"    vms: {}\n"
	"...\n";

static struct fake_world world;
static struct model *m;
static char statedir[64];

static void setup(void)
{
	memset(&world, 0, sizeof world);
	m = fake_model(&world, 0, 0, statedir);
	ck_assert_ptr_nonnull(m);
	model_clear(m);
}

static void teardown(void)
{
	fake_model_free(m, statedir);
}

static int parse(const char *doc, char *err)
{
	return state_parse(m, "state.yaml", doc, strlen(doc), err);
}

START_TEST(test_round_trip)
{
	struct strbuf sb = STRBUF_INIT;
	char err[ERRLEN] = "";
	struct tenant *t;
	struct subnet *s;

	ck_assert_msg(parse(good, err) == 0, "%s", err);
	ck_assert_str_eq(m->instance, "0123456789abcdef");
	ck_assert_uint_eq(m->tenants.n, 3);
	t = tenant_find(m, "tenantA");
	ck_assert_ptr_nonnull(t);
	s = subnet_find(t, "web");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->vni, 3);
	ck_assert(s->dhcp.on);
	ck_assert_str_eq(s->dhcp.domain, "web.example");
	ck_assert(!subnet_find(t, "db")->dhcp.on);
	ck_assert(idset_has(&m->vnis, 7));
	ck_assert(idset_has(&m->tenant_ids, 5));
	ck_assert_uint_eq(tenant_find(m, "tenantB")->uid, 1000);
	ck_assert_uint_eq(tenant_find(m, "tenantB")->gid, 100);
	ck_assert_uint_eq(tenant_find(m, "tenantA")->uid, 0);
	{
		struct vm *v = vm_find(tenant_find(m, "tenantA"), "vm1");

		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(v->conf.vcpus, 2);
		ck_assert_uint_eq(v->conf.memory, 128);
		ck_assert_uint_eq(v->conf.disk, 2048);
		ck_assert_int_eq(v->power, VIRT_POWER_RUNNING);
		ck_assert_str_eq(v->conf.subnet, "web");
		ck_assert_str_eq(vm_find(tenant_find(m, "tenantA"), "vm2")
					 ->conf.subnet, "");
		ck_assert_ptr_eq(vm_find_uuid(m, v->uuid), v);
	}
	ck_assert_int_eq(state_serialize(m, &sb), 0);
	ck_assert_str_eq(sb_str(&sb), good);
	sb_free(&sb);
}
END_TEST

START_TEST(test_defaults_filled)
{
	static const char doc[] =
		"version: 1\ninstance: 0123456789abcdef\ntenants:\n"
		"  Big_Co.x:\n    id: 9\n    subnets:\n"
		"      s:\n        cidr: 10.9.0.0/16\n        cloud: local\n"
		"        vni: 12\n        dhcp: {}\n...\n";
	char err[ERRLEN] = "";
	struct subnet *s;
	char range[40];

	ck_assert_msg(parse(doc, err) == 0, "%s", err);
	s = subnet_find(tenant_find(m, "Big_Co.x"), "s");
	ck_assert_str_eq(s->dhcp.domain, "big-co.x.maas");
	ip_format_range(s->dhcp.first, s->dhcp.last, range);
	ck_assert_str_eq(range, "10.9.0.10 10.9.255.250");
}
END_TEST

static void bad(const char *doc, const char *where, const char *why)
{
	char err[ERRLEN] = "";

	ck_assert_int_eq(parse(doc, err), -EINVAL);
	ck_assert_msg(strstr(err, where), "'%s' lacks '%s'", err, where);
	ck_assert_msg(strstr(err, why), "'%s' lacks '%s'", err, why);
	ck_assert_uint_eq(m->tenants.n, 0);   /* nothing half-loaded */
	ck_assert_uint_eq(m->vnis.n, 0);
}

#define HEAD "version: 1\ninstance: 0123456789abcdef\n"

START_TEST(test_rejects)
{
	bad("", "state.yaml", "empty");
	bad("version: 1\n", "state.yaml", "end marker");
	bad("version: [1\n...\n", "state.yaml:", "");
	bad("- a\n- b\n...\n", "state.yaml:1:1", "mapping");
	bad(HEAD "...\n", "state.yaml:1:1", "required");
	bad("version: 2\ninstance: 0123456789abcdef\ntenants: {}\n...\n",
	    "state.yaml:1:10", "version must be a number from 1 to 1");
	bad("version: 1\ninstance: xyz\ntenants: {}\n...\n",
	    "state.yaml:2:11", "instance must be 16 hex digits");
	bad(HEAD "tenants: {}\nextra: 1\n...\n", "state.yaml:4:1",
	    "unknown key 'extra'");
	bad(HEAD "tenants: {}\ntenants: {}\n...\n", "state.yaml:4:1",
	    "duplicate key 'tenants'");
	bad(HEAD "tenants:\n  a b:\n    id: 1\n...\n", "state.yaml:4:3",
	    "outside [A-Za-z0-9_.-]");
	bad(HEAD "tenants:\n  a:\n    id: x\n...\n", "state.yaml:5:9",
	    "id must be a number");
	bad(HEAD "tenants:\n  a:\n    id: 1\n  b:\n    id: 1\n...\n",
	    "state.yaml:7:9", "tenant id 1 is used twice");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    color: x\n...\n",
	    "state.yaml:6:5", "unknown key 'color'");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    owner: x\n...\n",
	    "state.yaml:6:12", "owner must be UID:GID");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    owner: 5:x\n...\n",
	    "state.yaml:6:12", "owner must be UID:GID");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.0.0/23\n        cloud: local\n"
		 "        vni: 1\n        dhcp: off\n      t:\n"
		 "        cidr: 10.0.0.0/24\n        cloud: local\n"
		 "        vni: 2\n        dhcp: off\n...\n",
	    "state.yaml:13:15", "subnet t overlaps subnet s");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.0/24\n        cloud: elsewhere\n"
		 "        vni: 1\n        dhcp: off\n...\n",
	    "state.yaml:9:16", "unknown cloud 'elsewhere'");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.1/24\n        cloud: local\n"
		 "        vni: 1\n        dhcp: off\n...\n",
	    "state.yaml:8:15", "host bits set");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.0/24\n        cloud: local\n"
		 "        vni: 16777216\n        dhcp: off\n...\n",
	    "state.yaml:10:14", "vni must be a number from 1 to 16777215");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.0/24\n        cloud: local\n"
		 "        vni: 1\n        dhcp: off\n"
		 "      t:\n        cidr: 10.0.2.0/24\n        cloud: local\n"
		 "        vni: 1\n        dhcp: off\n...\n",
	    "state.yaml:15:14", "vni 1 is used twice");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.0/24\n        cloud: local\n"
		 "        vni: 1\n        dhcp: {range: 10.0.2.1 10.0.2.9}\n"
		 "...\n",
	    "state.yaml:11:23", "not inside 10.0.1.0/24");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.0/24\n        cloud: local\n"
		 "        vni: 1\n        dhcp: {domain: \"a\\nb\"}\n...\n",
	    "state.yaml:11:24", "not a DNS domain");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    subnets:\n      s:\n"
		 "        cidr: 10.0.1.0/24\n        cloud: local\n"
		 "        vni: 1\n...\n",
	    "state.yaml:8:9", "dhcp missing");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    vms: {v: {}}\n...\n",
	    "state.yaml:6:14", "VM v: location missing");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    vms:\n      v: {location: local, "
		 "state: running, mac: 52:54:00:00:00:01, uuid: x}\n...\n",
	    "state.yaml:7:74", "VM v: bad or duplicate uuid");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    vms:\n      v: {location: local, "
		 "state: on}\n...\n",
	    "state.yaml:7:35", "state must be running or stopped");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    vms:\n      v: {subnet: x, "
		 "location: local}\n...\n",
	    "state.yaml:7:19", "VM v: no subnet x");
	bad(HEAD "tenants:\n  a:\n    id: 1\n    vms:\n      v: {memory: lots, "
		 "location: local}\n...\n",
	    "state.yaml:7:19", "bad memory 'lots'");
}
END_TEST

/* Cut the good file at every length: each prefix is refused (the end
 * marker is gone) and nothing crashes or leaks (run with SANITIZE=1). */
START_TEST(test_truncations)
{
	size_t len = strlen(good), n;
	char err[ERRLEN];

	for (n = 0; n + 1 < len; n++) {
		char *cut = strndup(good, n);
		int r = state_parse(m, "state.yaml", cut, n, err);

		ck_assert_msg(r == -EINVAL, "prefix of %zu bytes accepted", n);
		ck_assert_uint_eq(m->tenants.n, 0);
		free(cut);
	}
}
END_TEST

/* Flip bytes all over the good file: parse succeeds or fails cleanly. */
START_TEST(test_corruptions)
{
	size_t len = strlen(good), i;
	char *doc = strdup(good);
	char err[ERRLEN];
	unsigned seed = 12345;

	for (i = 0; i < 4000; i++) {
		size_t at = rand_r(&seed) % len;
		char saved = doc[at];

		doc[at] = (char)(rand_r(&seed) % 256);
		if (state_parse(m, "state.yaml", doc, len, err) == 0)
			model_clear(m);
		else
			ck_assert_msg(strstr(err, "state.yaml"),
				      "message without the file: %s", err);
		doc[at] = saved;
	}
	free(doc);
}
END_TEST

/* The state file is replaced through a spare swapped in: the spare then
 * holds the version replaced; a file planted at the spare's name (a
 * second name of another file, a symbolic link) is never written through;
 * a failed write leaves the state as it was. */
static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	ck_assert_int_eq(file_read(path, &sb, 1 << 20), 0);
	return sb.s ? sb.s : strdup("");
}

#define SAME(path, text)                                                     \
	do {                                                                 \
		char *got_ = slurp(path);                                    \
		ck_assert_str_eq(got_, text);                                \
		free(got_);                                                  \
	} while (0)

START_TEST(test_swap)
{
	char path[128], spare[128], other[128];
	struct stat st;

	snprintf(path, sizeof path, "%s/f", statedir);
	snprintf(spare, sizeof spare, "%s/f.spare", statedir);
	snprintf(other, sizeof other, "%s/other", statedir);
	ck_assert_int_eq(file_write_swap(path, spare, "one\n", 4, 0600), 0);
	SAME(path, "one\n");
	ck_assert_int_eq(access(spare, F_OK), -1);   /* moved in: none yet */
	ck_assert_int_eq(file_write_swap(path, spare, "two, longer\n", 12,
					 0600), 0);
	SAME(path, "two, longer\n");
	SAME(spare, "one\n");
	ck_assert_int_eq(file_write_swap(path, spare, "3\n", 2, 0600), 0);
	SAME(path, "3\n");   /* written over "one": cut to its length */
	SAME(spare, "two, longer\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);

	/* a second name of another file at the spare's name */
	ck_assert_int_eq(file_write_replace(other, "keep\n", 5, 0644), 0);
	ck_assert_int_eq(unlink(spare), 0);
	ck_assert_int_eq(link(other, spare), 0);
	ck_assert_int_eq(file_write_swap(path, spare, "4\n", 2, 0600), 0);
	SAME(path, "4\n");
	SAME(other, "keep\n");
	/* a symbolic link there */
	ck_assert_int_eq(unlink(spare), 0);
	ck_assert_int_eq(symlink(other, spare), 0);
	ck_assert_int_eq(file_write_swap(path, spare, "5\n", 2, 0600), 0);
	SAME(path, "5\n");
	SAME(other, "keep\n");
	ck_assert_int_eq(lstat(spare, &st), 0);
	ck_assert(S_ISREG(st.st_mode));

	/* no spare can be made: an error, the file as it was */
	ck_assert_int_eq(unlink(spare), 0);
	ck_assert_int_eq(mkdir(spare, 0700), 0);
	ck_assert_int_eq(file_write_swap(path, spare, "6\n", 2, 0600),
			 -EISDIR);
	SAME(path, "5\n");
	ck_assert_int_eq(rmdir(spare), 0);

	/* the directory's fsync fails after the exchange: the caller will
	 * undo its change, and the file must say what it said before */
	fault_fsync_dir = 1;
	ck_assert_int_eq(file_write_swap(path, spare, "7\n", 2, 0600), -EIO);
	fault_fsync_dir = 0;
	SAME(path, "5\n");
	ck_assert_int_eq(unlink(other), 0);
	ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* A change that would make the state larger than a mount reads back is
 * refused, and changes nothing. */
START_TEST(test_state_max)
{
	char err[ERRLEN] = "", name[16];
	int i, r = 0;

	fake_model_free(m, statedir);
	memset(&world, 0, sizeof world);
	m = fake_model(&world, 0, 0, statedir);
	ck_assert_ptr_nonnull(m);
	m->state_max = 2048;
	for (i = 0; i < 100 && r == 0; i++) {
		snprintf(name, sizeof name, "t%d", i);
		r = tenant_create(m, name, err);
	}
	ck_assert_int_eq(r, -EFBIG);
	ck_assert_msg(strstr(err, "2048 bytes"), "%s", err);
	ck_assert_ptr_null(tenant_find(m, name));
	model_free(m);
	m = fake_model_reopen(&world, statedir);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(tenant_find(m, name));
	ck_assert_uint_eq(m->tenants.n, (size_t)i - 1);
}
END_TEST

/* A tenant whose commit failed (the state directory's fsync) is neither in
 * the model nor back at the next mount. */
START_TEST(test_commit_fault)
{
	char err[ERRLEN] = "";

	fake_model_free(m, statedir);
	memset(&world, 0, sizeof world);
	m = fake_model(&world, 0, 0, statedir);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(tenant_create(m, "kept", err) == 0, "%s", err);
	fault_fsync_dir = 1;
	ck_assert_int_eq(tenant_create(m, "lost", err), -EIO);
	fault_fsync_dir = 0;
	ck_assert_ptr_null(tenant_find(m, "lost"));
	model_free(m);
	m = fake_model_reopen(&world, statedir);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(tenant_find(m, "kept"));
	ck_assert_ptr_null(tenant_find(m, "lost"));
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_defaults_filled);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_truncations);
	tcase_add_test(tc, test_corruptions);
	tcase_add_test(tc, test_swap);
	tcase_add_test(tc, test_commit_fault);
	tcase_add_test(tc, test_state_max);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
