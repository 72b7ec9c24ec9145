/* VMs (a verb): defined, configured, started and stopped, deleted */
#ifndef MAAS_VM_H
#define MAAS_VM_H

#include "model.h"

/* VMs: mkdir and rmdir of vms/<vm>; writes to its attributes. */
int vm_create(struct model *m, const char *tenant, const char *name,
	      char *err);
int vm_delete(struct model *m, const char *tenant, const char *name,
	      char *err);
int vm_set(struct model *m, const char *tenant, const char *name,
	   const char *attr, const char *value, char *err);
/* Lifecycle events from libvirt (the event thread), of cloud's domains. */
void vm_power_event(void *model, const char *cloud, const char *uuid,
		    enum virt_power power);
/* "running", "stopped", "migrating" or "error". */
const char *vm_state_word(const struct vm *v);

#endif
