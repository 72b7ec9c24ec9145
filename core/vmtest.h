/* Test launches (issue 19, part 1): a clone of a VM booted on a cloud in
 * an isolated copy of its subnet, beside the VM, which runs on untouched;
 * <vm>/test and <vm>/test_console. */
#ifndef MAAS_VMTEST_H
#define MAAS_VMTEST_H

#include "model.h"

/* The tenant name of a test's network on its cloud: _test-<VNI> (its
 * namespace maas-_test-<VNI>). */
void test_net_name(uint32_t vni, char *buf, size_t len);
/* A write to <vm>/test: "CLOUD" launches a test there, "end" removes it.
 * Synchronous; a failed or interrupted launch leaves nothing. */
int vm_test_write(struct model *m, const char *tenant, const char *vm,
		  const char *value, char *err);
/* <vm>/test: "none", or where, how and since when. Caller holds the
 * lock. */
int vm_test_show(const struct vm *v, struct strbuf *out);
/* The clone's console (empty without a test). Never blocks. */
int vm_test_console(const struct vm *v, struct strbuf *out);
/* At mount, before the clouds are swept: a launch a killed maasfs cut
 * off is undone, an end finished. */
void vm_test_recover(struct model *m, struct vm *v);

#endif
