/* Names (the bottom of core/, with cidr, units and alloc): the messages of
 * the one grammar of names, DNS domains and labels, and the names maasfs
 * keeps in the directories where users make objects. The tree (tree.c)
 * shows exactly these names there; check_tree holds the two together. */
#ifndef MAAS_NAMES_H
#define MAAS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/util.h"

#define DOMAIN_MAXLEN 253

/* Names: 1-32 of [A-Za-z0-9_.-], not starting with '.' or '-': EINVAL
 * with "WHAT name ..." in err otherwise. */
int name_check(const char *name, const char *what, char *err);
/* A DNS domain dnsmasq can serve. */
int domain_check(const char *s, char *err);
/* A DNS label for a maasfs name: lower case, '_' and '.' as '-', no '-'
 * at either end ("vm" if nothing is left). */
void dns_label_of(const char *name, size_t n, char *buf, size_t len);

/* The directories where mkdir (or subnets/new) makes objects. */
enum names_dir {
	NAMES_ROOT,      /* tenants */
	NAMES_SUBNETS,   /* a tenant's subnets */
	NAMES_VMS,       /* a tenant's VMs */
};
/* The names of test launches' networks (vmtest.c), "_test-<VNI>": the
 * tenants of their namespaces on the clouds, which no tenant may have. */
#define TEST_NET_PREFIX "_test-"
bool names_test_net(const char *name);

/* A file or default directory of maasfs's own in dir: no object takes it. */
bool names_reserved(enum names_dir dir, const char *name);

#endif
