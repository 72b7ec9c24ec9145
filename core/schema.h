/* The schema of the estate (DESIGN §6), read by one parser for state.yaml
 * and spec.yaml: a tenants mapping into records. spec.yaml is a subset:
 * what maasfs chooses itself (ids, VNIs, MACs, addresses, UUIDs, the
 * migration record, an owner) is refused there, and nothing but a
 * subnet's cidr is required; state.yaml must say everything. The parser
 * checks each value's syntax, bounds, the document's own consistency
 * (names, overlapping subnets, a VM's subnet in its tenant); what a
 * document means against the model (clouds, ids and VNIs used twice, a
 * running VM) is for state.c and spec.c. The records point into the
 * document (its nodes, for errors): they live while it does. */
#ifndef MAAS_SCHEMA_H
#define MAAS_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/util.h"
#include "cidr.h"
#include "units.h"
#include "names.h"
#include "yamlio.h"

enum schema_doc { SCHEMA_STATE, SCHEMA_SPEC };

struct sc_subnet {
	char name[NAME_MAXLEN + 1];
	yaml_node_t *key, *node;
	struct cidr cidr;
	yaml_node_t *cidr_node;
	char cloud[NAME_MAXLEN + 1];    /* "": not said */
	yaml_node_t *cloud_node;
	uint32_t vni;                   /* state */
	yaml_node_t *vni_node;
	int dhcp;                       /* -1 not said, 0 off, 1 on */
	bool has_range, has_domain;
	uint32_t first, last;
	char domain[DOMAIN_MAXLEN + 1];
};

/* Keys left out of a VM keep its value (a new VM's default). */
/* A pair of a small map of a tenant's, copied. */
struct sc_kv {
	char *k, *v;
};

struct sc_vm {
	char name[NAME_MAXLEN + 1];
	yaml_node_t *key, *node;
	char subnet[NAME_MAXLEN + 1];   /* "": not said */
	unsigned vcpus;                 /* 0: not said */
	uint64_t memory, disk;          /* MiB, 0: not said */
	char image[NAME_MAXLEN + 1];
	char location[NAME_MAXLEN + 1];
	int running;                    /* -1 not said */
	/* state only */
	char mac[MAC_STRLEN];
	uint32_t ip;                    /* 0: none */
	char uuid[UUID_STRLEN + 1];
	yaml_node_t *migration;         /* state.c reads it */
	yaml_node_t *test;              /* state.c reads it (vmtest.h) */
	yaml_node_t *replication;       /* and this (repl.h) */
	char *secgroups;                /* "NAME ...", NULL: not said */
};

struct sc_tenant {
	char name[NAME_MAXLEN + 1];
	yaml_node_t *key, *node;
	uint32_t id;                    /* state */
	yaml_node_t *id_node;
	bool has_owner;
	uint32_t uid, gid;
	struct quota quota;              /* state */
	const char *external;            /* state: "on" or CLOUD=ADDR ... */
	const char *floating;            /* state: "ADDR=VM ..." */
	/* Copies (the document is freed before a spec applies): */
	struct sc_kv *groups;            /* {NAME: "RULE; ..."}, or NULL */
	size_t ngroups;
	struct sc_kv *floats;            /* spec: {ADDRESS: VM}, or NULL */
	size_t nfloats;
	int ext_want;                    /* spec: -1 not said, 0 off, 1 on */
	struct sc_subnet *subnets;
	size_t nsubnets;
	struct sc_vm *vms;
	size_t nvms;
};

struct sc_doc {
	struct sc_tenant *tenants;
	size_t n;
};

/* The tenants mapping of a document of kind (empty for spec.yaml: "tenants:"
 * alone). only: a tenant's own spec.yaml (no other tenant in it, and it
 * must be there). -errno with "NAME:LINE:COL: why" in err; out is freed
 * by schema_free either way. */
int schema_tenants(struct ydoc *d, yaml_node_t *tenants, enum schema_doc kind,
		   const char *only, struct sc_doc *out, char *err);
void schema_free(struct sc_doc *doc);

/* The record's node of a VM key (for errors), or its mapping. */
yaml_node_t *sc_vm_node(struct ydoc *d, const struct sc_vm *v,
			const char *key);

#endif
