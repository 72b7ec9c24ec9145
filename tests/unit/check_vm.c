/* VMs in the model over a fake hypervisor: defaults, reservations, the
 * errno of every operation, and that a failure changes nothing. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/attr.h"
#include "../../core/state.h"
#include "../../core/tenant.h"
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
	ck_assert_int_eq(tenant_create(m, "t", err), 0);
	ck_assert_int_eq(subnet_create(m, "t", "10.0.1.0/24 name=web", err), 0);
}

static void teardown(void)
{
	fake_model_free(m, statedir);
}

#define OK(call)                                                        \
	do {                                                            \
		char err[ERRLEN] = "";                                  \
		int r_ = (call);                                        \
		ck_assert_msg(r_ == 0, "%s: %d %s", #call, r_, err);    \
	} while (0)

#define EXPECT_FAIL(code, why, call)                                          \
	do {                                                                  \
		char *before_ = fake_state_file(statedir);                    \
		struct fake_world w_ = world;                                 \
		char err[ERRLEN] = "";                                        \
		int r_ = (call);                                              \
		char *after_ = fake_state_file(statedir);                     \
		ck_assert_msg(r_ == -(code), "%s: got %d (%s), want %s",      \
			      #call, r_, err, #code);                         \
		ck_assert_msg(strstr(err, why), "%s: reason '%s' lacks '%s'", \
			      #call, err, why);                               \
		ck_assert_str_eq(before_, after_);                            \
		ck_assert_int_eq(w_.domains, world.domains);                  \
		ck_assert_int_eq(w_.running, world.running);                  \
		ck_assert_int_eq(w_.disks, world.disks);                      \
		free(before_);                                                \
		free(after_);                                                 \
	} while (0)

static struct vm *vm(const char *name)
{
	return vm_find(tenant_find(m, "t"), name);
}

START_TEST(test_sizes)
{
	uint64_t mib;
	char buf[32], err[ERRLEN];

	ck_assert_int_eq(size_parse("512M", &mib, err), 0);
	ck_assert_uint_eq(mib, 512);
	ck_assert_int_eq(size_parse("2G", &mib, err), 0);
	ck_assert_uint_eq(mib, 2048);
	ck_assert_int_eq(size_parse("2", &mib, err), 0);
	ck_assert_uint_eq(mib, 2048);
	ck_assert_int_eq(size_parse("1t", &mib, err), 0);
	ck_assert_uint_eq(mib, 1024 * 1024);
	ck_assert_int_eq(size_parse("128MiB", &mib, err), 0);
	ck_assert_uint_eq(mib, 128);
	ck_assert_int_eq(size_parse("abc", &mib, err), -EINVAL);
	ck_assert_int_eq(size_parse("", &mib, err), -EINVAL);
	ck_assert_int_eq(size_parse("-1G", &mib, err), -EINVAL);
	ck_assert_int_eq(size_parse("1.5G", &mib, err), -EINVAL);
	ck_assert_int_eq(size_parse("12Q", &mib, err), -EINVAL);
	ck_assert_int_eq(size_parse("99999999999999999999", &mib, err),
			 -EINVAL);
	size_format(256, buf, sizeof buf);
	ck_assert_str_eq(buf, "256M");
	size_format(2048, buf, sizeof buf);
	ck_assert_str_eq(buf, "2G");
	size_format(1536, buf, sizeof buf);
	ck_assert_str_eq(buf, "1536M");
	size_format(2 * 1024 * 1024, buf, sizeof buf);
	ck_assert_str_eq(buf, "2T");
	dns_label_of("Web_1.a", 7, buf, sizeof buf);
	ck_assert_str_eq(buf, "web-1-a");
	dns_label_of("_x_", 3, buf, sizeof buf);
	ck_assert_str_eq(buf, "x");
}
END_TEST

START_TEST(test_create_defaults)
{
	struct vm *v, *w;
	uint32_t vni;
	char *state;

	OK(vm_create(m, "t", "vm1", err));
	v = vm("vm1");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->conf.subnet, "web");   /* the only subnet */
	ck_assert_uint_eq(v->conf.vcpus, 1);
	ck_assert_uint_eq(v->conf.memory, 256);
	ck_assert_uint_eq(v->conf.disk, 1024);
	ck_assert_str_eq(v->conf.image, "tiny");
	ck_assert_uint_eq(v->conf.ip, 0x0a00010a);   /* 10.0.1.10 */
	ck_assert_int_eq(strncmp(v->mac, "52:54:00:", 9), 0);
	ck_assert_uint_eq(strlen(v->uuid), 36);
	ck_assert_int_eq(v->power, VIRT_POWER_STOPPED);
	ck_assert(!v->disk_made);
	ck_assert_int_eq(world.domains, 1);
	ck_assert_int_eq(world.disks, 0);   /* made at the first start */
	ck_assert_ptr_nonnull(strstr(sb_str(&v->xml), "maas:t:vm1"));
	vni = subnet_find(tenant_find(m, "t"), "web")->vni;
	ck_assert_ptr_nonnull(strstr(world.hosts[vni], v->mac));
	ck_assert_ptr_nonnull(strstr(world.hosts[vni], "10.0.1.10 vm1;"));
	state = fake_state_file(statedir);
	ck_assert_ptr_nonnull(strstr(state, "      vm1:\n        subnet: web\n"));
	free(state);

	OK(vm_create(m, "t", "vm2", err));
	w = vm("vm2");
	ck_assert_uint_eq(w->conf.ip, 0x0a00010b);   /* the next one */
	ck_assert_str_ne(w->mac, v->mac);
	ck_assert_str_ne(w->uuid, v->uuid);

	EXPECT_FAIL(EEXIST, "exists", vm_create(m, "t", "vm1", err));
	EXPECT_FAIL(EINVAL, "outside", vm_create(m, "t", "v m", err));
	EXPECT_FAIL(ENOENT, "no tenant", vm_create(m, "x", "vm3", err));
	/* one DNS name per VM in the tenant's domain */
	OK(vm_create(m, "t", "a_b", err));
	EXPECT_FAIL(EEXIST, "DNS name of VM a_b", vm_create(m, "t", "a.b", err));
	EXPECT_FAIL(EEXIST, "DNS name of VM a_b", vm_create(m, "t", "A-B", err));
	OK(vm_delete(m, "t", "a_b", err));
	/* With two subnets, none is taken by default. */
	OK(subnet_create(m, "t", "10.0.2.0/24 name=db", err));
	OK(vm_create(m, "t", "vm3", err));
	ck_assert_str_eq(vm("vm3")->conf.subnet, "");
	ck_assert_uint_eq(vm("vm3")->conf.ip, 0);
}
END_TEST

START_TEST(test_create_fails_cleanly)
{
	world.fail[FAKE_DEFINE] = EHOSTUNREACH;
	EXPECT_FAIL(EHOSTUNREACH, "injected", vm_create(m, "t", "vm1", err));
	ck_assert_ptr_null(vm("vm1"));
	world.fail[FAKE_DHCP_ENSURE] = EIO;
	EXPECT_FAIL(EIO, "injected", vm_create(m, "t", "vm1", err));
	ck_assert_ptr_null(vm("vm1"));
	ck_assert_int_eq(world.domains, 0);
	ck_assert_str_eq(world.hosts[subnet_find(tenant_find(m, "t"),
						 "web")->vni], "");
}
END_TEST

START_TEST(test_attributes)
{
	OK(vm_create(m, "t", "vm1", err));
	OK(attr_vm_write(m, "t", "vm1", "vcpus", "2", err));
	ck_assert_uint_eq(vm("vm1")->conf.vcpus, 2);
	ck_assert_uint_eq(world.vcpus[0], 2);
	OK(attr_vm_write(m, "t", "vm1", "memory", "128M", err));
	ck_assert_uint_eq(vm("vm1")->conf.memory, 128);
	OK(attr_vm_write(m, "t", "vm1", "disk", "2G", err));
	OK(attr_vm_write(m, "t", "vm1", "image", "other", err));
	OK(attr_vm_write(m, "t", "vm1", "location", "local", err));
	EXPECT_FAIL(EINVAL, "from 1 to 64", attr_vm_write(m, "t", "vm1", "vcpus", "0", err));
	EXPECT_FAIL(EINVAL, "from 1 to 64",
		    attr_vm_write(m, "t", "vm1", "vcpus", "1000", err));
	EXPECT_FAIL(EINVAL, "not a size",
		    attr_vm_write(m, "t", "vm1", "memory", "abc", err));
	EXPECT_FAIL(EINVAL, "memory must be",
		    attr_vm_write(m, "t", "vm1", "memory", "4M", err));
	/* not made yet: any size from the minimum up */
	OK(attr_vm_write(m, "t", "vm1", "disk", "1G", err));
	EXPECT_FAIL(EINVAL, "smaller than 64M",
		    attr_vm_write(m, "t", "vm1", "disk", "32M", err));
	OK(attr_vm_write(m, "t", "vm1", "disk", "2G", err));
	EXPECT_FAIL(ENOENT, "no image",
		    attr_vm_write(m, "t", "vm1", "image", "nope", err));
	EXPECT_FAIL(EINVAL, "outside",
		    attr_vm_write(m, "t", "vm1", "image", "a/b", err));
	EXPECT_FAIL(EINVAL, "starts with",
		    attr_vm_write(m, "t", "vm1", "image", "../etc", err));
	EXPECT_FAIL(ENOENT, "no subnet",
		    attr_vm_write(m, "t", "vm1", "subnet", "nope", err));
	EXPECT_FAIL(ENOENT, "no cloud",
		    attr_vm_write(m, "t", "vm1", "location", "mars", err));
	EXPECT_FAIL(EINVAL, "cloud name",
		    attr_vm_write(m, "t", "vm1", "location", "local\tjunk", err));
	EXPECT_FAIL(EINVAL, "CLOUD [mode=live|cold]",
		    attr_vm_write(m, "t", "vm1", "location", "local mode=cold x",
				  err));
	EXPECT_FAIL(EINVAL, "CLOUD [mode=live|cold]",
		    attr_vm_write(m, "t", "vm1", "location", " local", err));
	/* no control byte of a value reaches a status or the log */
	{
		char e[ERRLEN] = "";

		ck_assert_int_eq(attr_vm_write(m, "t", "vm1", "vcpus",
					       "9\nforged 0 \x1b[2J", e),
				 -EINVAL);
		ck_assert_msg(e[0] && !strpbrk(e, "\n\x1b"), "%s", e);
	}
	EXPECT_FAIL(EACCES, "read-only", attr_vm_write(m, "t", "vm1", "mac", "x", err));
	EXPECT_FAIL(EINVAL, "start, stop or restart",
		    attr_vm_write(m, "t", "vm1", "state", "go", err));
	EXPECT_FAIL(ENOENT, "no VM", attr_vm_write(m, "t", "nope", "vcpus", "1", err));
	ck_assert_str_eq(vm("vm1")->conf.image, "other");
	ck_assert_uint_eq(vm("vm1")->conf.disk, 2048);
}
END_TEST

START_TEST(test_subnet_change_moves_reservation)
{
	uint32_t web, db;

	OK(vm_create(m, "t", "vm1", err));
	OK(subnet_create(m, "t", "10.0.2.0/24 name=db", err));
	web = subnet_find(tenant_find(m, "t"), "web")->vni;
	db = subnet_find(tenant_find(m, "t"), "db")->vni;
	OK(attr_vm_write(m, "t", "vm1", "subnet", "db", err));
	ck_assert_uint_eq(vm("vm1")->conf.ip, 0x0a00020a);
	ck_assert_str_eq(world.hosts[web], "");
	ck_assert_ptr_nonnull(strstr(world.hosts[db], "10.0.2.10 vm1;"));
	/* dnsmasq refusing: the old subnet and reservation come back */
	world.fail[FAKE_DHCP_ENSURE] = EIO;
	EXPECT_FAIL(EIO, "injected", attr_vm_write(m, "t", "vm1", "subnet", "web", err));
	ck_assert_str_eq(vm("vm1")->conf.subnet, "db");
	ck_assert_ptr_nonnull(strstr(world.hosts[db], "10.0.2.10 vm1;"));
	ck_assert_str_eq(world.hosts[web], "");
}
END_TEST

START_TEST(test_power)
{
	struct vm *v;

	OK(vm_create(m, "t", "vm1", err));
	v = vm("vm1");
	OK(attr_vm_write(m, "t", "vm1", "state", "start", err));
	ck_assert_int_eq(v->power, VIRT_POWER_RUNNING);
	ck_assert(v->disk_made);
	ck_assert_int_eq(world.disks, 1);
	ck_assert_int_eq(world.running, 1);
	ck_assert_uint_eq(world.disk_mib[0], 1024);
	OK(attr_vm_write(m, "t", "vm1", "state", "start", err));   /* idempotent */
	EXPECT_FAIL(EBUSY, "only while the VM is stopped",
		    attr_vm_write(m, "t", "vm1", "vcpus", "2", err));
	EXPECT_FAIL(EBUSY, "only while the VM is stopped",
		    attr_vm_write(m, "t", "vm1", "disk", "2G", err));
	EXPECT_FAIL(EBUSY, "stop it first", vm_delete(m, "t", "vm1", err));
	EXPECT_FAIL(EBUSY, "used by 1 VM(s): vm1",
		    subnet_delete(m, "t", "web", err));
	EXPECT_FAIL(ENOTEMPTY, "1 VM(s)", tenant_delete(m, "t", err));
	OK(attr_vm_write(m, "t", "vm1", "state", "stop", err));
	ck_assert_int_eq(v->power, VIRT_POWER_STOPPED);
	EXPECT_FAIL(EBUSY, "made from image tiny",
		    attr_vm_write(m, "t", "vm1", "image", "other", err));
	OK(attr_vm_write(m, "t", "vm1", "disk", "3G", err));
	EXPECT_FAIL(EINVAL, "only grow",
		    attr_vm_write(m, "t", "vm1", "disk", "2G", err));
	ck_assert_uint_eq(world.disk_mib[0], 3072);
	OK(attr_vm_write(m, "t", "vm1", "state", "restart", err));
	ck_assert_int_eq(world.calls[FAKE_DISK_CREATE], 1);   /* kept */
	ck_assert_int_eq(v->power, VIRT_POWER_RUNNING);
	/* The guest powers itself off: libvirt's event, no write. */
	m->clouds[0]->virt->ops->stop(m->clouds[0]->virt, v->uuid, 0, NULL);
	vm_power_event(m, "cloud2", v->uuid, VIRT_POWER_STOPPED);
	ck_assert_str_eq(vm_state_word(v), "running");   /* not its cloud */
	vm_power_event(m, v->conf.location->name, v->uuid, VIRT_POWER_STOPPED);
	ck_assert_str_eq(vm_state_word(v), "stopped");
	{
		char *state = fake_state_file(statedir);
		ck_assert_ptr_nonnull(strstr(state, "state: stopped"));
		free(state);
	}
	vm_power_event(m, v->conf.location->name,
		       "00000000-0000-4000-8000-000000000000",
		       VIRT_POWER_RUNNING);   /* not ours: ignored */
	OK(vm_delete(m, "t", "vm1", err));
	ck_assert_int_eq(world.domains, 0);
	ck_assert_int_eq(world.disks, 0);
	ck_assert_str_eq(world.hosts[subnet_find(tenant_find(m, "t"),
						 "web")->vni], "");
	OK(subnet_delete(m, "t", "web", err));
	OK(tenant_delete(m, "t", err));
}
END_TEST

START_TEST(test_power_failures_undo)
{
	OK(vm_create(m, "t", "vm1", err));
	OK(subnet_create(m, "t", "10.0.2.0/24 name=db", err));
	OK(vm_create(m, "t", "vm3", err));   /* two subnets: none taken */
	EXPECT_FAIL(EINVAL, "no subnet",
		    attr_vm_write(m, "t", "vm3", "state", "start", err));
	world.fail[FAKE_START] = EIO;
	EXPECT_FAIL(EIO, "injected", attr_vm_write(m, "t", "vm1", "state", "start", err));
	ck_assert(!vm("vm1")->disk_made);   /* the disk made for it went */
	ck_assert_int_eq(world.calls[FAKE_DISK_DELETE], 1);
	world.fail[FAKE_DISK_CREATE] = ENOENT;
	EXPECT_FAIL(ENOENT, "injected",
		    attr_vm_write(m, "t", "vm1", "state", "start", err));
	OK(attr_vm_write(m, "t", "vm1", "state", "start", err));
	world.fail[FAKE_STOP] = ETIMEDOUT;
	EXPECT_FAIL(ETIMEDOUT, "injected",
		    attr_vm_write(m, "t", "vm1", "state", "stop", err));
	ck_assert_int_eq(vm("vm1")->power, VIRT_POWER_RUNNING);
	OK(attr_vm_write(m, "t", "vm1", "state", "stop", err));
	world.fail[FAKE_DISK_DELETE] = EIO;
	EXPECT_FAIL(EIO, "injected", vm_delete(m, "t", "vm1", err));
	ck_assert_ptr_nonnull(vm("vm1"));
	ck_assert_int_eq(world.domains, 2);   /* vm1 redefined, and vm3 */
	OK(vm_delete(m, "t", "vm1", err));
}
END_TEST

/* A reopened model has the same VMs; reconcile asks the hypervisor. */
START_TEST(test_reload)
{
	struct model_opts o = {
		.statedir = statedir,
		.hostdrv_new = fake_hostdrv_new,
		.hostdrv_ctx = &world,
		.virtdrv_new = fake_virtdrv_new,
		.virtdrv_ctx = &world,
	};
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	char e2[ERRLEN];

	OK(vm_create(m, "t", "vm1", err));
	OK(attr_vm_write(m, "t", "vm1", "state", "start", err));
	state_serialize(m, &a);
	model_free(m);
	m = NULL;
	memset(&world, 0, sizeof world);   /* a fresh hypervisor: no domain */
	ck_assert_int_eq(model_open(&o, &m, e2), 0);
	model_reconcile(m);
	ck_assert_int_eq(world.domains, 1);   /* redefined */
	ck_assert_str_eq(vm_state_word(vm("vm1")), "stopped");
	ck_assert(!vm("vm1")->disk_made);
	state_serialize(m, &b);
	ck_assert_ptr_nonnull(strstr(sb_str(&a), "state: running"));
	ck_assert_ptr_nonnull(strstr(sb_str(&b), "state: stopped"));
	sb_free(&a);
	sb_free(&b);
}
END_TEST

/* Root's quota of a tenant: growth past a limit is EDQUOT and changes
 * nothing; shrinking is always allowed; the quota survives a mount. */
START_TEST(test_quota)
{
	EXPECT_FAIL(EINVAL, "no quota of 'cpus'",
		    tenant_set_quota(m, "t", "cpus=4", err));
	EXPECT_FAIL(EINVAL, "KIND=AMOUNT", tenant_set_quota(m, "t", "vms", err));
	OK(tenant_set_quota(m, "t", "vms=2 vcpus=3 memory=512M subnets=1", err));
	ck_assert_str_eq(tenant_find(m, "t")->quota.max[QUOTA_DISK] ==
			 QUOTA_NONE ? "none" : "set", "none");
	OK(vm_create(m, "t", "vm1", err));
	OK(attr_vm_write(m, "t", "vm1", "vcpus", "2", err));
	EXPECT_FAIL(EDQUOT, "quota of vcpus is 3, this would make 4",
		    attr_vm_write(m, "t", "vm1", "vcpus", "4", err));
	OK(vm_create(m, "t", "vm2", err));
	EXPECT_FAIL(EDQUOT, "quota of vms is 2, this would make 3",
		    vm_create(m, "t", "vm3", err));
	EXPECT_FAIL(EDQUOT, "quota of memory is 512M",
		    attr_vm_write(m, "t", "vm2", "memory", "1G", err));
	EXPECT_FAIL(EDQUOT, "quota of subnets is 1",
		    subnet_create(m, "t", "10.0.2.0/24 name=db", err));
	/* lowered below what it holds: it only stops growth */
	OK(tenant_set_quota(m, "t", "vcpus=1", err));
	OK(attr_vm_write(m, "t", "vm1", "vcpus", "1", err));
	OK(vm_delete(m, "t", "vm2", err));
	model_free(m);
	m = fake_model_reopen(&world, statedir);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(tenant_find(m, "t")->quota.max[QUOTA_VMS], 2);
	ck_assert_uint_eq(tenant_find(m, "t")->quota.max[QUOTA_VCPUS], 1);
	EXPECT_FAIL(EDQUOT, "quota of vcpus is 1, this would make 2",
		    vm_create(m, "t", "vm2", err));
	OK(tenant_set_quota(m, "t", "none", err));
	OK(vm_create(m, "t", "vm2", err));
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("vm");
	TCase *tc = tcase_create("vm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_create_defaults);
	tcase_add_test(tc, test_create_fails_cleanly);
	tcase_add_test(tc, test_attributes);
	tcase_add_test(tc, test_quota);
	tcase_add_test(tc, test_subnet_change_moves_reservation);
	tcase_add_test(tc, test_power);
	tcase_add_test(tc, test_power_failures_undo);
	tcase_add_test(tc, test_reload);
	suite_add_tcase(s, tc);
	return s;
}
