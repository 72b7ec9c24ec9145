/* The errno of every model operation, and that a failure changes nothing:
 * not the model, not the state file, not the (fake) kernel. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/config.h"
#include "../../core/state.h"
#include "../../core/txn.h"
#include "fakenet.h"

static struct fake_world world;
static struct model *m;
static char statedir[64];

static void setup_range(uint32_t min, uint32_t max)
{
	memset(&world, 0, sizeof world);
	m = fake_model(&world, min, max, statedir);
	ck_assert_ptr_nonnull(m);
}

static void setup(void)
{
	setup_range(1, 60);
}

static void teardown(void)
{
	fake_model_free(m, statedir);
}

/* Runs a failing operation and checks errno, reason and "nothing changed". */
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
		ck_assert_int_eq(w_.tenants, world.tenants);                  \
		ck_assert_int_eq(w_.subnets, world.subnets);                  \
		ck_assert_int_eq(w_.dhcp, world.dhcp);                        \
		free(before_);                                                \
		free(after_);                                                 \
	} while (0)

#define OK(call)                                                           \
	do {                                                               \
		char err[ERRLEN] = "";                                     \
		int r_ = (call);                                           \
		ck_assert_msg(r_ == 0, "%s: %d %s", #call, r_, err);       \
	} while (0)

START_TEST(test_tenants)
{
	struct tenant *t;

	OK(tenant_create(m, "tenantA", err));
	ck_assert_int_eq(world.tenants, 1);
	t = tenant_find(m, "tenantA");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->id, 1);
	ck_assert_int_eq(t->state, OBJ_READY);
	EXPECT_FAIL(EEXIST, "exists", tenant_create(m, "tenantA", err));
	EXPECT_FAIL(EINVAL, "outside", tenant_create(m, "ten ant", err));
	EXPECT_FAIL(EINVAL, "starts with", tenant_create(m, ".x", err));
	EXPECT_FAIL(EINVAL, "empty", tenant_create(m, "", err));
	EXPECT_FAIL(EINVAL, "longer",
		    tenant_create(m, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", err));
	EXPECT_FAIL(EEXIST, "maasfs uses", tenant_create(m, "clouds", err));
	EXPECT_FAIL(ENOENT, "no tenant", tenant_delete(m, "nope", err));
	OK(tenant_create(m, "tenantB", err));
	ck_assert_uint_eq(tenant_find(m, "tenantB")->id, 2);
	OK(tenant_delete(m, "tenantA", err));
	ck_assert_ptr_null(tenant_find(m, "tenantA"));
	ck_assert_int_eq(world.tenants, 1);
	OK(tenant_create(m, "tenantC", err));
	ck_assert_uint_eq(tenant_find(m, "tenantC")->id, 1);   /* reused */
}
END_TEST

START_TEST(test_tenant_not_empty)
{
	OK(tenant_create(m, "t", err));
	OK(subnet_create(m, "t", "10.0.1.0/24", err));
	EXPECT_FAIL(ENOTEMPTY, "1 subnet", tenant_delete(m, "t", err));
	OK(subnet_delete(m, "t", "10.0.1.0_24", err));
	OK(tenant_delete(m, "t", err));
	ck_assert_int_eq(world.tenants, 0);
	ck_assert_int_eq(world.subnets, 0);
	ck_assert_int_eq(world.dhcp, 0);
}
END_TEST

START_TEST(test_subnets)
{
	struct subnet *s;
	char *state;

	OK(tenant_create(m, "a", err));
	OK(tenant_create(m, "b", err));
	OK(subnet_create(m, "a", "10.0.1.0/24", err));
	s = subnet_find(tenant_find(m, "a"), "10.0.1.0_24");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->vni, 1);
	ck_assert(s->dhcp.on);
	ck_assert_int_eq(world.subnets, 1);
	ck_assert_int_eq(world.dhcp, 1);
	OK(subnet_create(m, "a", "  10.0.2.0/24   name=web  dhcp=off ", err));
	s = subnet_find(tenant_find(m, "a"), "web");
	ck_assert_ptr_nonnull(s);
	ck_assert(!s->dhcp.on);
	ck_assert_int_eq(world.dhcp, 1);
	/* Another tenant may reuse a CIDR; it gets its own VNI. */
	OK(subnet_create(m, "b", "10.0.1.0/24 cloud=local", err));
	ck_assert_uint_eq(subnet_find(tenant_find(m, "b"), "10.0.1.0_24")->vni,
			  3);
	state = fake_state_file(statedir);
	ck_assert_ptr_nonnull(strstr(state, "web:\n        cidr: 10.0.2.0/24"));
	ck_assert_ptr_nonnull(strstr(state, "dhcp: off"));
	free(state);

	EXPECT_FAIL(EEXIST, "overlaps 10.0.1.0/24 (subnet 10.0.1.0_24)",
		    subnet_create(m, "a", "10.0.1.128/25", err));
	EXPECT_FAIL(EEXIST, "overlaps",
		    subnet_create(m, "a", "10.0.0.0/16 name=big", err));
	EXPECT_FAIL(EEXIST, "subnet web exists",
		    subnet_create(m, "a", "10.0.3.0/24 name=web", err));
	EXPECT_FAIL(EEXIST, "maasfs uses",
		    subnet_create(m, "a", "10.0.3.0/24 name=new", err));
	EXPECT_FAIL(ENOENT, "no cloud",
		    subnet_create(m, "a", "10.0.3.0/24 cloud=mars", err));
	EXPECT_FAIL(ENOENT, "no tenant",
		    subnet_create(m, "zz", "10.0.3.0/24", err));
	EXPECT_FAIL(EINVAL, "host bits",
		    subnet_create(m, "a", "10.0.3.1/24", err));
	EXPECT_FAIL(EINVAL, "expected \"CIDR", subnet_create(m, "a", "", err));
	EXPECT_FAIL(EINVAL, "unknown option 'vlan'",
		    subnet_create(m, "a", "10.0.3.0/24 vlan=3", err));
	EXPECT_FAIL(EINVAL, "given twice",
		    subnet_create(m, "a", "10.0.3.0/24 name=x name=y", err));
	EXPECT_FAIL(EINVAL, "needs a value",
		    subnet_create(m, "a", "10.0.3.0/24 name", err));
	EXPECT_FAIL(EINVAL, "dhcp must be on or off",
		    subnet_create(m, "a", "10.0.3.0/24 dhcp=yes", err));
	EXPECT_FAIL(EINVAL, "outside",
		    subnet_create(m, "a", "10.0.3.0/24 name=a;b", err));
	EXPECT_FAIL(EINVAL, "outside",
		    subnet_create(m, "a", "10.0.3.0/24 cloud=$(x)", err));
	EXPECT_FAIL(EINVAL, "starts with",
		    subnet_create(m, "a", "10.0.3.0/24 name=--x", err));
	EXPECT_FAIL(ENOENT, "no subnet",
		    subnet_delete(m, "a", "missing", err));
	OK(subnet_set_cloud(m, "a", "web", "local", err));
	EXPECT_FAIL(ENOENT, "no cloud",
		    subnet_set_cloud(m, "a", "web", "mars", err));
}
END_TEST

START_TEST(test_vni_exhausted)
{
	teardown();
	setup_range(5, 6);
	OK(tenant_create(m, "a", err));
	OK(subnet_create(m, "a", "10.0.1.0/24", err));
	OK(subnet_create(m, "a", "10.0.2.0/24", err));
	EXPECT_FAIL(ENOSPC, "no free VNI in 5-6",
		    subnet_create(m, "a", "10.0.3.0/24", err));
	OK(subnet_delete(m, "a", "10.0.1.0_24", err));
	OK(subnet_create(m, "a", "10.0.3.0/24", err));
	ck_assert_uint_eq(subnet_find(tenant_find(m, "a"), "10.0.3.0_24")->vni,
			  5);
}
END_TEST

/* A backend step that fails undoes the steps before it. */
START_TEST(test_backend_failures_undo)
{
	OK(tenant_create(m, "a", err));
	world.fail[FAKE_SUBNET_ENSURE] = EIO;
	EXPECT_FAIL(EIO, "injected", subnet_create(m, "a", "10.0.1.0/24", err));
	world.fail[FAKE_DHCP_ENSURE] = EIO;
	EXPECT_FAIL(EIO, "injected", subnet_create(m, "a", "10.0.1.0/24", err));
	ck_assert_int_eq(world.calls[FAKE_SUBNET_REMOVE], 1);
	ck_assert_ptr_null(subnet_find(tenant_find(m, "a"), "10.0.1.0_24"));
	ck_assert_uint_eq(m->vnis.n, 0);
	world.fail[FAKE_TENANT_ENSURE] = EPERM;
	EXPECT_FAIL(EPERM, "injected", tenant_create(m, "b", err));
	ck_assert_ptr_null(tenant_find(m, "b"));
	ck_assert_uint_eq(m->tenant_ids.n, 1);

	OK(subnet_create(m, "a", "10.0.1.0/24", err));
	world.fail[FAKE_DHCP_REMOVE] = EIO;
	EXPECT_FAIL(EIO, "injected", subnet_delete(m, "a", "10.0.1.0_24", err));
	ck_assert_int_eq(subnet_find(tenant_find(m, "a"), "10.0.1.0_24")->state,
			 OBJ_READY);
	world.fail[FAKE_SUBNET_REMOVE] = EBUSY;
	EXPECT_FAIL(EBUSY, "injected",
		    subnet_delete(m, "a", "10.0.1.0_24", err));
	world.fail[FAKE_TENANT_REMOVE] = EIO;
	OK(subnet_delete(m, "a", "10.0.1.0_24", err));
	EXPECT_FAIL(EIO, "injected", tenant_delete(m, "a", err));
	ck_assert_int_eq(tenant_find(m, "a")->state, OBJ_READY);
	OK(tenant_delete(m, "a", err));
}
END_TEST

/* The state file takes a new subnet while its kernel work goes on; if the
 * file cannot be written, the kernel work is undone. */
START_TEST(test_state_write_failure_undoes)
{
	char tmp[128], *doc;

	OK(tenant_create(m, "a", err));
	snprintf(tmp, sizeof tmp, "%s/%s", statedir, STATE_SPARE);
	unlink(tmp);   /* the version tenant_create replaced */
	ck_assert_int_eq(mkdir(tmp, 0700), 0);   /* no spare: EISDIR */
	EXPECT_FAIL(EISDIR, "cannot write",
		    subnet_create(m, "a", "10.0.1.0/24", err));
	ck_assert_int_eq(world.calls[FAKE_SUBNET_ENSURE], 1);
	ck_assert_int_eq(world.calls[FAKE_SUBNET_REMOVE], 1);
	ck_assert_ptr_null(subnet_find(tenant_find(m, "a"), "10.0.1.0_24"));
	ck_assert_uint_eq(m->vnis.n, 0);
	ck_assert_int_eq(rmdir(tmp), 0);
	OK(subnet_create(m, "a", "10.0.1.0/24", err));
	doc = fake_state_file(statedir);
	ck_assert_ptr_nonnull(strstr(doc, "10.0.1.0_24:"));
	free(doc);
}
END_TEST

START_TEST(test_dhcp)
{
	struct subnet *s;
	uint32_t old_first;

	OK(tenant_create(m, "Tenant_A", err));
	OK(subnet_create(m, "Tenant_A", "10.0.1.0/24 name=web", err));
	s = subnet_find(tenant_find(m, "Tenant_A"), "web");
	ck_assert_str_eq(s->dhcp.domain, "tenant-a.maas");
	EXPECT_FAIL(EEXIST, "already on", dhcp_enable(m, "Tenant_A", "web", err));
	OK(dhcp_set_range(m, "Tenant_A", "web", "10.0.1.100 10.0.1.199", err));
	ck_assert_uint_eq(world.dhcp_first[s->vni], s->dhcp.first);
	ck_assert_uint_eq(s->dhcp.last - s->dhcp.first, 99);
	EXPECT_FAIL(EINVAL, "not inside",
		    dhcp_set_range(m, "Tenant_A", "web", "10.0.2.1 10.0.2.9",
				   err));
	EXPECT_FAIL(EINVAL, "gateway",
		    dhcp_set_range(m, "Tenant_A", "web", "10.0.1.1 10.0.1.9",
				   err));
	EXPECT_FAIL(EINVAL, "not a DNS domain",
		    dhcp_set_domain(m, "Tenant_A", "web", "bad domain", err));
	EXPECT_FAIL(EINVAL, "not a DNS domain",
		    dhcp_set_domain(m, "Tenant_A", "web", "x/../y", err));
	OK(dhcp_set_domain(m, "Tenant_A", "web", "Web.Example.ORG", err));
	ck_assert_str_eq(s->dhcp.domain, "web.example.org");
	/* dnsmasq refusing the new pool: the old one is put back. */
	old_first = s->dhcp.first;
	world.fail[FAKE_DHCP_ENSURE] = EIO;
	{
		char *before = fake_state_file(statedir);
		char err[ERRLEN];
		char *after;

		ck_assert_int_eq(dhcp_set_range(m, "Tenant_A", "web",
						"10.0.1.20 10.0.1.30", err),
				 -EIO);
		after = fake_state_file(statedir);
		ck_assert_str_eq(before, after);
		free(before);
		free(after);
	}
	ck_assert_uint_eq(s->dhcp.first, old_first);
	ck_assert_uint_eq(world.dhcp_first[s->vni], old_first);
	ck_assert_int_eq(s->state, OBJ_READY);

	OK(dhcp_disable(m, "Tenant_A", "web", err));
	ck_assert(!s->dhcp.on);
	ck_assert_int_eq(world.dhcp, 0);
	EXPECT_FAIL(ENOENT, "DHCP is off",
		    dhcp_disable(m, "Tenant_A", "web", err));
	EXPECT_FAIL(ENOENT, "DHCP is off",
		    dhcp_set_range(m, "Tenant_A", "web",
				   "10.0.1.100 10.0.1.199", err));
	OK(dhcp_enable(m, "Tenant_A", "web", err));
	ck_assert_int_eq(world.dhcp, 1);
	ck_assert_str_eq(s->dhcp.domain, "tenant-a.maas");   /* fresh */
	EXPECT_FAIL(ENOENT, "no subnet",
		    dhcp_enable(m, "Tenant_A", "nope", err));
}
END_TEST

/* A model reopened over the same state directory has the same objects. */
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
	struct model *again = NULL;
	char e2[ERRLEN];

	OK(tenant_create(m, "a", err));
	OK(subnet_create(m, "a", "10.0.1.0/24 name=web", err));
	OK(dhcp_set_domain(m, "a", "web", "a.test", err));
	state_serialize(m, &a);
	/* The state directory is locked while a model uses it. */
	ck_assert_int_eq(model_open(&o, &again, e2), -EBUSY);
	ck_assert(strstr(e2, "another maasfs"));
	model_free(m);
	m = NULL;
	ck_assert_int_eq(model_open(&o, &again, e2), 0);
	m = again;
	state_serialize(m, &b);
	ck_assert_str_eq(sb_str(&a), sb_str(&b));
	model_reconcile(m);
	ck_assert_int_eq(world.swept, 1);
	sb_free(&a);
	sb_free(&b);
}
END_TEST

/* The file written is the model, whatever mix of one-tenant and
 * whole-model commits wrote it: each operation below is followed by a
 * comparison with a fresh serialization. The writer reuses the entries of
 * tenants not marked changed: a change nobody commits is left out by a
 * commit for another tenant, and written by the next whole-model one. */
static void same_as_model(void)
{
	struct strbuf fresh = STRBUF_INIT;
	char *doc = fake_state_file(statedir);

	pthread_mutex_lock(&m->lock);
	ck_assert_int_eq(state_serialize(m, &fresh), 0);
	pthread_mutex_unlock(&m->lock);
	ck_assert_str_eq(doc, sb_str(&fresh));
	free(doc);
	sb_free(&fresh);
}

START_TEST(test_state_reuses_entries)
{
	char *doc;

	OK(tenant_create(m, "a", err));
	same_as_model();
	OK(tenant_create(m, "b", err));
	OK(tenant_create(m, "c", err));
	same_as_model();
	OK(subnet_create(m, "b", "10.0.1.0/24 name=web", err));
	same_as_model();
	OK(subnet_create(m, "a", "10.0.2.0/24 dhcp=off", err));
	OK(subnet_create(m, "c", "10.0.3.0/24", err));
	same_as_model();
	OK(tenant_chown(m, "c", 1000, 100, err));   /* a whole-model commit */
	same_as_model();
	OK(dhcp_set_domain(m, "b", "web", "b.test", err));
	same_as_model();
	OK(subnet_delete(m, "a", "10.0.2.0_24", err));
	same_as_model();
	OK(tenant_delete(m, "a", err));
	same_as_model();
	EXPECT_FAIL(ENOTEMPTY, "still has", tenant_delete(m, "b", err));
	same_as_model();

	/* behind the writer's back: c's owner changes, no commit says so */
	pthread_mutex_lock(&m->lock);
	tenant_find(m, "c")->uid = 4242;
	pthread_mutex_unlock(&m->lock);
	OK(subnet_create(m, "b", "10.0.4.0/24", err));
	doc = fake_state_file(statedir);
	ck_assert_ptr_nonnull(strstr(doc, "owner: 1000:100"));
	ck_assert_ptr_nonnull(strstr(doc, "10.0.4.0_24:"));
	free(doc);
	OK(txn_once(m, NULL, err));
	same_as_model();
	doc = fake_state_file(statedir);
	ck_assert_ptr_nonnull(strstr(doc, "owner: 4242:100"));
	free(doc);
	OK(tenant_create(m, "a", err));
	same_as_model();
}
END_TEST

/* A clouds file parsed into a bare model: 0 or -errno, the reason in err. */
static int parse_clouds(const char *yaml, char *err)
{
	struct model *cm = calloc(1, sizeof *cm);
	size_t i;
	int r;

	ck_assert_ptr_nonnull(cm);
	snprintf(cm->statedir, sizeof cm->statedir, "/var/lib/maasfs");
	r = config_parse(cm, "clouds.yaml", yaml, strlen(yaml), err);
	for (i = 0; i < cm->nclouds; i++)
		free(cm->clouds[i]);
	free(cm->clouds);
	free(cm);
	return r;
}

#define SSH_H "{host: h, key: /k, known_hosts: /kh}"

START_TEST(test_config_clouds)
{
	struct strbuf many = STRBUF_INIT;
	char err[ERRLEN];
	int i;

	/* the installed file (dist/clouds.yaml) names this host alone */
	ck_assert_int_eq(parse_clouds("clouds:\n  local:\n    libvirt: "
				      "qemu:///system\n    accel: auto\n",
				      err), 0);
	/* the agent: a command the host's PATH finds, or an absolute path */
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", agent: "
				      "maasfs}}", err), 0);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", agent: "
				      "/usr/bin/maasfs}}", err), 0);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", agent: "
				      "./maasfs}}", err), -EINVAL);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", agent: "
				      "\"-x\"}}", err), -EINVAL);
	/* tls: a map; its name a host name or an address */
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", tls: "
				      "{name: c1.lab}}}", err), 0);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", tls: "
				      "{}}}", err), 0);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", tls: "
				      "on}}", err), -EINVAL);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", tls: "
				      "{name: \"a b\"}}}", err), -EINVAL);
	ck_assert_msg(strstr(err, "tls name"), "%s", err);
	ck_assert_int_eq(parse_clouds("clouds: {c: {ssh: " SSH_H ", tls: "
				      "{dir: /etc/pki}}}", err), -EINVAL);
	/* external: a provider network, all four keys, checked */
#define EXT(x) "clouds: {c: {ssh: " SSH_H ", vtep: 192.0.2.1, external: " x "}}"
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.100.1, pool: 198.51.100.100-"
					  "198.51.100.199, bridge: brext}"), err),
			 0);
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.100.1, pool: 198.51.100.100-"
					  "198.51.100.199}"), err), -EINVAL);
	ck_assert_msg(strstr(err, "needs cidr, gateway, pool"), "%s", err);
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.100.150, pool: 198.51.100.100-"
					  "198.51.100.199, bridge: brext}"), err),
			 -EINVAL);   /* the gateway in the pool */
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.101.1, pool: 198.51.100.100-"
					  "198.51.100.199, bridge: brext}"), err),
			 -EINVAL);   /* the gateway outside */
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.100.1, pool: 198.51.100.200-"
					  "198.51.100.100, bridge: brext}"), err),
			 -EINVAL);   /* backwards */
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.100.1, pool: 198.51.100.100-"
					  "198.51.100.255, bridge: brext}"), err),
			 -EINVAL);   /* the broadcast */
	ck_assert_int_eq(parse_clouds(EXT("{cidr: 198.51.100.0/24, gateway: "
					  "198.51.100.1, pool: 198.51.100.100-"
					  "198.51.100.199, bridge: \"a b\"}"),
				      err), -EINVAL);
	/* two clouds on one provider network: the same cidr and gateway */
	ck_assert_int_eq(parse_clouds("clouds:\n"
		"  a: {ssh: " SSH_H ", vtep: 192.0.2.1, external: {cidr: "
		"198.51.100.0/24, gateway: 198.51.100.1, pool: 198.51.100.100-"
		"198.51.100.149, bridge: brext}}\n"
		"  b: {ssh: " SSH_H ", vtep: 192.0.2.2, external: {cidr: "
		"198.51.100.0/24, gateway: 198.51.100.1, pool: 198.51.100.150-"
		"198.51.100.199, bridge: brext}}\n", err), 0);
	ck_assert_int_eq(parse_clouds("clouds:\n"
		"  a: {ssh: " SSH_H ", vtep: 192.0.2.1, external: {cidr: "
		"198.51.100.0/24, gateway: 198.51.100.1, pool: 198.51.100.100-"
		"198.51.100.149, bridge: brext}}\n"
		"  b: {ssh: " SSH_H ", vtep: 192.0.2.2, external: {cidr: "
		"198.51.100.0/25, gateway: 198.51.100.2, pool: 198.51.100.50-"
		"198.51.100.99, bridge: brext}}\n", err), -EINVAL);
	ck_assert_msg(strstr(err, "must be one"), "%s", err);
#undef EXT
	/* at most CLOUDS_MAX clouds: presence is a 64-bit set */
	sb_puts(&many, "clouds:\n");
	for (i = 0; i < CLOUDS_MAX; i++)
		sb_printf(&many, "  c%d: {ssh: " SSH_H ", vtep: 192.0.2.%d}\n",
			  i, i + 1);
	ck_assert_int_eq(parse_clouds(sb_str(&many), err), 0);
	sb_puts(&many, "  c64: {ssh: " SSH_H ", vtep: 192.0.2.100}\n");
	ck_assert_int_eq(parse_clouds(sb_str(&many), err), -EINVAL);
	ck_assert_msg(strstr(err, "more than 64 clouds"), "%s", err);
	sb_free(&many);
}
END_TEST

Suite *unit_suite(void);

Suite *unit_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tenants);
	tcase_add_test(tc, test_state_reuses_entries);
	tcase_add_test(tc, test_tenant_not_empty);
	tcase_add_test(tc, test_subnets);
	tcase_add_test(tc, test_vni_exhausted);
	tcase_add_test(tc, test_backend_failures_undo);
	tcase_add_test(tc, test_state_write_failure_undoes);
	tcase_add_test(tc, test_dhcp);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_config_clouds);
	suite_add_tcase(s, tc);
	return s;
}
