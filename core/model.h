/* The model: clouds, tenants, subnets and their DHCP, with one lock held
 * briefly and never across a slow call. An operation reserves its object
 * (state CREATING / CHANGING / DELETING, so that concurrent writers get
 * EBUSY or EEXIST), drops the lock for the backend work, and re-takes it to
 * commit or undo. core/ never includes FUSE headers. */
#ifndef MAAS_MODEL_H
#define MAAS_MODEL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../backend/host.h"
#include "../backend/virt.h"
#include "../lib/util.h"
#include "alloc.h"
#include "cidr.h"
#include "names.h"
#include "units.h"

#define INSTANCE_LEN 16
/* Directories the model names (state, images, disks): short enough that
 * every file below them fits PATH_MAX. */
#define DIR_MAXLEN 3000

/* Subnet MTU: a 1500-byte underlay less the 50 bytes of VXLAN. */
#define SUBNET_MTU 1450

enum obj_state {
	OBJ_READY,
	OBJ_CREATING,   /* not visible, not in the state file yet */
	OBJ_CHANGING,   /* visible, writes get EBUSY */
	OBJ_DELETING,   /* visible, writes get EBUSY, gone from the state file */
	OBJ_ERROR,      /* visible; the backend could not make it real */
};
const char *obj_state_name(enum obj_state s);

/* The last failure of an operation on an object, for its status file. */
struct obj_error {
	time_t when;
	int code;                  /* errno, 0 if none */
	char op[48];
	char msg[ERRLEN];
};

struct cloud {
	char name[NAME_MAXLEN + 1];
	char uri[256];
	char vtep[IP_STRLEN];      /* "" when the cloud has no underlay */
	uint32_t vtep_ip;
	char images[DIR_MAXLEN + 1];
	char disks[DIR_MAXLEN + 1];
	char accel[8];
	/* Live migrations to and from this cloud use libvirt's TLS (the
	 * clouds file's tls:); tls_name is the name its QEMU's server
	 * certificate carries, "" for the vtep address. */
	bool tls;
	char tls_name[256];
	/* Its provider network (the clouds file's external:), the way out
	 * of tenants' uplinks and floating addresses: on, or none. Clouds
	 * whose networks overlap name the same one (cidr and gateway). */
	struct {
		bool on;
		struct cidr cidr;
		uint32_t gateway, first, last;   /* host byte order */
		char bridge[16];                 /* on the cloud's host */
	} ext;
	/* A remote cloud: reached over SSH, its network work done by the
	 * agent (maasfs agent) there. */
	bool remote;
	struct {
		char host[256];
		unsigned port;
		char user[64];
		char key[DIR_MAXLEN + 1];
		char known_hosts[DIR_MAXLEN + 1];
	} ssh;
	char netns[NAME_MAXLEN + 1];    /* reached from this namespace */
	char agent[DIR_MAXLEN + 1];     /* maasfs on the cloud */
	char agent_state[DIR_MAXLEN + 1];
	struct hostdrv *host;
	struct virtdrv *virt;
	/* Its state (clouds/<c>/state, evacuate.c): a draining cloud takes
	 * no new VMs or subnets; kept in state.yaml. */
	bool draining;
	bool evacuating;           /* an evacuation runs (one at a time) */
	char evac[200];            /* how the last evacuation goes or went */
	struct strbuf evac_failed; /* its VMs and subnets that did not move,
				    * a line each, with why */
};

struct dhcp {
	bool on;
	uint32_t first, last;
	char domain[DOMAIN_MAXLEN + 1];
	int pid;                   /* last known dnsmasq pid */
	struct obj_error error;
};

struct tenant;

struct subnet {
	char name[NAME_MAXLEN + 1];   /* first: the objset key */
	struct tenant *tenant;
	struct cidr cidr;
	uint32_t vni;
	uint64_t serial;              /* this object, never another (obj_serial) */
	struct cloud *home;
	enum obj_state state;
	bool intent;                  /* creating, already in state.yaml */
	struct dhcp dhcp;
	uint64_t present;             /* the clouds (by index) it is on */
	struct cloud *moving_to;      /* while its gateway and DHCP move */
	char move[160];               /* how the move goes, for status */
	struct obj_error error;
	time_t mtime;
};

#define CLOUDS_MAX 64   /* clouds by index, for presence masks */

/* A floating address of a tenant (<tenant>/floating/ADDR): from the pool
 * of the provider network of its VM's subnet's home cloud, DNATed there
 * to the VM's fixed address (external.c). */
struct floating {
	uint32_t addr;
	char vm[NAME_MAXLEN + 1];
};
#define FLOATING_MAX 256   /* per tenant (NET_FLOATS_MAX per uplink) */

/* A rule of a security group (<tenant>/secgroups/NAME/rules, one a line:
 * "in|out PROTO [PORT[-PORT]] [from|to CIDR | group NAME]"): what may
 * come in to, or go out of, a VM of the group (secgroup.c). */
struct secrule {
	bool in;
	uint8_t proto;                 /* 0 any, 1 icmp, 6 tcp, 17 udp */
	uint16_t lo, hi;               /* ports; 0 0: every port */
	bool has_cidr;
	struct cidr cidr;              /* the peer's network, or */
	char group[NAME_MAXLEN + 1];   /* the members of a group; "": any */
};
struct secgroup {
	char name[NAME_MAXLEN + 1];
	struct secrule *rules;
	size_t nrules;
};
#define SECGROUPS_MAX 64      /* per tenant */
#define SECRULES_MAX 128      /* per group */
#define VM_GROUPS_MAX 8
#define SECGROUP_DEFAULT "default"

struct tenant {
	char name[NAME_MAXLEN + 1];   /* first: the objset key */
	uint32_t id;
	uint64_t serial;              /* this object, never another (obj_serial) */
	uint32_t uid, gid;            /* owner of everything inside (chown) */
	struct quota quota;           /* set by root; unlimited by default */
	/* Its way out (issue 18, <tenant>/external): on or off, and its
	 * uplink's address on each cloud (by the cloud's place in
	 * m->clouds), 0 where it has none. */
	bool external;
	uint32_t uplink[CLOUDS_MAX];
	struct floating *floats;      /* in the order they were had */
	size_t nfloats;
	uint64_t ports;               /* clouds holding its ports' table */
	uint64_t ports_behind;        /* clouds whose tables wait for a sync */
	/* Its security groups (secgroup.c): "default" always first. */
	struct secgroup *groups;
	size_t ngroups;
	enum obj_state state;
	struct objset subnets;        /* of struct subnet, by name */
	struct objset vms;            /* of struct vm, by name */
	struct obj_error error;
	time_t mtime;
	/* Its entry in state.yaml as last written (state.c), written again
	 * only when state_commit_tenant() marked it changed or a commit of
	 * the whole model came in between. The state writer's, under lock. */
	struct strbuf saved;
	uint64_t saved_epoch;
	int changed;                  /* atomic */
	struct strbuf plan;           /* its plan file: the last plan made */
};

/* VM defaults and bounds. Sizes are in MiB. */
#define VM_VCPUS_MAX 64
#define VM_MEMORY_DEFAULT 256
#define VM_MEMORY_MIN 32
#define VM_MEMORY_MAX (1024 * 1024)
#define VM_DISK_DEFAULT 1024
#define VM_DISK_MIN 64
#define VM_DISK_MAX (16ull * 1024 * 1024)
#define VM_IMAGE_DEFAULT "tiny"
#define VM_STOP_GRACE_MS 20000   /* graceful shutdown, then destroy */

/* A VM's migration (DESIGN §5): the phase it is in, persisted in
 * state.yaml at every transition so that a maasfs killed mid-way finishes
 * or rolls back at the next mount; then the result of the last one. */
enum mig_phase {
	MIG_NONE,        /* never migrated */
	MIG_CHECK,       /* target reachable, image there, room for the disk */
	MIG_STRETCH,     /* the subnet onto the target */
	MIG_PREPARE,     /* live: the target's disk; cold: the source stops */
	MIG_TRANSFER,    /* live: libvirt's migration; cold: the disk copy */
	MIG_LAND,        /* cold: defined (and started) on the target */
	MIG_VERIFY,      /* the target has it, as it should be */
	MIG_COMMIT,      /* its location is the target from now on */
	MIG_CLEANUP,     /* the source's domain and disk go */
	MIG_DONE,
	MIG_FAILED,      /* rolled back */
};
const char *mig_phase_name(enum mig_phase p);
int mig_phase_parse(const char *s, enum mig_phase *out);
bool mig_running(enum mig_phase p);

#define MIG_BUDGET_MAX_MS 60000

struct mig {
	enum mig_phase phase;
	bool live;
	bool tls;                  /* live, over libvirt's TLS */
	bool was_running;
	struct cloud *from, *to;
	uint64_t done, total;      /* bytes */
	uint64_t rate;             /* bytes per second */
	time_t started;            /* wall clock */
	int64_t t0_ms;             /* monotonic, this process */
	int64_t total_ms;
	int64_t downtime_ms;       /* -1: not known */
	unsigned budget_ms;        /* live: the pause asked for, 0: none;
				    * MIG_BUDGET_MAX_MS at most */
	int error;                 /* errno of a failure */
	char msg[ERRLEN];
	char sum[72];              /* cold: sha256 of the disk copied */
};

/* A VM's test (vmtest.c, <vm>/test): a clone of it booted on a cloud in
 * an isolated copy of its subnet, beside the VM, which runs on untouched.
 * Its phase is in state.yaml before each step, as a migration's. */
enum test_phase {
	TEST_NONE,
	TEST_LAUNCH,     /* being made: a mount undoes it */
	TEST_UP,         /* made, booted */
	TEST_END,        /* being removed: a mount finishes that */
};

struct vm_test {
	enum test_phase phase;
	struct cloud *cloud;           /* where the clone runs */
	struct cloud *from;            /* the VM's cloud at the launch */
	char uuid[VIRT_UUID_LEN + 1];  /* the clone's domain and disk */
	uint32_t vni;                  /* its network's (from m->vnis) */
	time_t since;
	int64_t launch_ms;             /* how long its launch took */
	uint64_t bytes;                /* the disk copied */
	char step[64];                 /* how a launch goes */
};

/* A VM's replication (repl.h): its disk copied to one cloud, then only
 * the blocks that changed, cycle after cycle. */
#define REPL_CKPT_LEN 40
struct vm_repl {
	struct cloud *cloud;           /* NULL: none */
	unsigned interval_s;           /* between cycles */
	/* saved: the checkpoint of the replica's point in time (its last
	 * whole cycle; "" before the first), when it was made, and one a
	 * cycle made that is not the replica's yet (a mount drops it) */
	char ckpt[REPL_CKPT_LEN];
	time_t synced;
	char pending[REPL_CKPT_LEN];
	/* not saved: */
	bool cycling;                  /* a cycle runs: the VM stays put */
	bool torn;                     /* a cycle cut short wrote to it */
	int64_t next_ms;               /* the next cycle (clock_ms) */
	int64_t lag_at;                /* when lag_bytes was asked */
	uint64_t lag_bytes;            /* changed since ckpt */
	uint64_t cycles, sent;         /* whole cycles, bytes sent */
	uint64_t last_bytes;           /* the last whole cycle's */
	int64_t last_ms;
	char error[ERRLEN];            /* the last cycle's failure, or "" */
};

/* What a user sets of a VM (and its reservation): copied whole, compared
 * whole, put back whole when a change fails. */
struct vm_conf {
	char subnet[NAME_MAXLEN + 1];  /* "" until it has one */
	unsigned vcpus;
	uint64_t memory;
	uint64_t disk;
	char image[NAME_MAXLEN + 1];
	uint32_t ip;                   /* its DHCP reservation, 0 if none */
	struct cloud *location;
};

struct vm {
	char name[NAME_MAXLEN + 1];    /* first: the objset key */
	struct tenant *tenant;
	uint64_t serial;               /* this object, never another (obj_serial) */
	struct vm_conf conf;
	/* Its security groups, by name (at least one; "default" at first). */
	char groups[VM_GROUPS_MAX][NAME_MAXLEN + 1];
	size_t ngroups;
	char mac[MAC_STRLEN];
	char uuid[VIRT_UUID_LEN + 1];
	bool disk_made;                /* its disk exists (made at first start) */
	enum virt_power power;         /* as libvirt last told */
	enum obj_state state;
	struct strbuf xml;             /* the definition libvirt holds */
	struct mig mig;                /* running, or the last one */
	struct vm_test test;           /* its test, if it has one */
	struct vm_repl repl;           /* its replication, if it has one */
	struct obj_error error;
	time_t mtime;
};

struct model;

struct model {
	pthread_mutex_t lock;
	/* protected by lock: */
	struct objset tenants;        /* of struct tenant, by name */
	struct idset tenant_ids;
	struct idset vnis;

	/* immutable after model_open: */
	struct cloud **clouds;
	size_t nclouds;
	uint32_t vni_min, vni_max;
	uint64_t bandwidth_mib;
	unsigned parallel;            /* a subnet's VMs moved at once */
	char statedir[DIR_MAXLEN + 1];
	char instance[INSTANCE_LEN + 1];
	time_t started;
	/* protected by lock: this estate has defined a domain once (saved
	 * before the first definition): the clouds' libvirt is swept at
	 * every mount, even with no VM left, for a definition or a removal
	 * a crash cut short */
	bool domains_made;

	struct state_saver *saver;    /* writes state.yaml (state.c) */
	uint64_t state_epoch;         /* atomic: commits of the whole model */
	size_t state_max;             /* 0: STATE_MAX (state.h); tests lower it */
	/* one backend change at a time per subnet: its dnsmasq, its spread
	 * over clouds (striped by VNI) */
	pthread_mutex_t subnet_locks[16];
	int lockfd;                   /* flock on STATE/lock */
	/* Asked by long operations (migrations), in the thread of the
	 * request they serve: did its caller give up (Ctrl-C)? fs/ sets it. */
	bool (*interrupted)(void);
	struct events *events;        /* the events file */
	struct janitor *janitor;      /* sweeps clouds that come back */
	struct replicator *replicator; /* runs replications' cycles */
	pthread_cond_t repl_idle;     /* (lock) a replication cycle ended */
	/* Told when a tenant's values change by the model's own work, not
	 * at the end of an operation (fs/ drops what the kernel keeps);
	 * set before the mount serves. Called with or without m->lock: it
	 * takes no lock of the model's. */
	void (*on_note)(void *ctx, const char *tenant);
	void *note_ctx;
	struct obj_error error;       /* the last failure at the root (lock) */
	struct strbuf plan;           /* the root's plan file (lock) */
	/* A plan's copy of the model (plan.h): nothing of it is saved or
	 * made on a cloud; the verbs that run on it skip that work. */
	bool plan_copy;
};

/* Lookups; the caller holds m->lock. Objects still being created are not
 * found by the _visible variants. */
struct cloud *model_cloud(const struct model *m, const char *name);
struct cloud *model_default_cloud(const struct model *m);
/* -EBUSY, and why, if cloud c takes no new placements (draining). */
int cloud_takes(const struct cloud *c, char *err);
/* Where something new goes when no cloud is named: the default cloud, or
 * the first one not draining (the default again if all are). */
struct cloud *model_place_default(const struct model *m);
struct tenant *tenant_find(const struct model *m, const char *name);
/* A tenant's groups: "default" alone (in from its members, out any);
 * freed with their rules. */
int secgroups_init(struct tenant *t);
void secgroups_free(struct secgroup *g, size_t n);
struct tenant *tenant_find_visible(const struct model *m, const char *name);
/* The visible tenant name, free for a change (ready or in error): 0, or
 * ENOENT or EBUSY with the reason. The caller holds the lock. */
int tenant_free_for_change(struct model *m, const char *name,
			   struct tenant **out, char *err);
struct subnet *subnet_find(const struct tenant *t, const char *name);
struct subnet *subnet_find_visible(const struct tenant *t, const char *name);
struct vm *vm_find(const struct tenant *t, const char *name);
struct vm *vm_find_visible(const struct tenant *t, const char *name);
struct vm *vm_find_uuid(const struct model *m, const char *uuid);
/* Whether uuid is a test's clone (vmtest.h; the sweep leaves it). */
bool vm_test_uuid(const struct model *m, const char *uuid);
const char *test_phase_name(enum test_phase p);
int test_phase_parse(const char *s, enum test_phase *out);

/* What t holds of each quota kind: its subnets, its VMs and the sum of
 * their vcpus, memory and disk (running or not). */
void quota_usage(const struct tenant *t, uint64_t use[QUOTA_KINDS]);
/* Whether t stays within its quota when it gains subnets (0 or 1) and a
 * VM's configuration goes from old to new (old NULL: a new VM; new NULL:
 * no VM change): EDQUOT and which limit, if a kind would grow past it. A
 * kind already past a limit root lowered may still shrink. Caller holds
 * m->lock. */
int quota_check(const struct tenant *t, unsigned subnets,
		const struct vm_conf *old, const struct vm_conf *new,
		char *err);

void obj_error_set(struct obj_error *e, const char *op, int code,
		   const char *msg);

/* Constructors and destructors; a tenant frees its subnets and VMs. */
struct tenant *tenant_new(const char *name, uint32_t id);
void tenant_free(struct tenant *t);
struct subnet *subnet_new(struct tenant *t, const char *name,
			  const struct cidr *c, uint32_t vni,
			  struct cloud *home);
void subnet_free(struct subnet *s);
struct vm *vm_new(struct tenant *t, const char *name);
void vm_free(struct vm *v);
/* Drops every tenant (a failed load, or the end). */
void model_clear(struct model *m);

/* Clouds by index, for presence masks: CLOUDS_MAX (64) at most. */
size_t cloud_index(const struct model *m, const struct cloud *c);
/* The clouds a subnet must be on: its home, and wherever one of its VMs
 * is placed. Caller holds the lock. */
uint64_t subnet_presence(const struct model *m, const struct subnet *s);
/* Tells the watcher (open.h's model_watch) that tenant's values changed
 * (NULL: the root's and the clouds'). */
void model_note(const struct model *m, const char *tenant);
/* Did the caller of the request this thread serves give up (Ctrl-C,
 * unmount, SIGTERM), or, in a helper thread, the one it helps? */
bool model_interrupted(const struct model *m);
/* This thread helps a request: it is interrupted when *stop is true. */
void model_helper_of(const bool *stop);
/* Defaults for a subnet whose DHCP is turned on. */
void dhcp_defaults(const struct subnet *s, struct dhcp *d);
/* dnsmasq changes of one subnet never overlap. */
void subnet_lock(struct model *m, uint32_t vni);
void subnet_unlock(struct model *m, uint32_t vni);

#endif
