/* VMs (a verb): defined, configured, started and stopped, deleted */
#ifndef MAAS_VM_H
#define MAAS_VM_H

#include "model.h"

/* VMs: mkdir and rmdir of vms/<vm>; writes to its attributes. */
int vm_create(struct model *m, const char *tenant, const char *name,
	      char *err);
int vm_delete(struct model *m, const char *tenant, const char *name,
	      char *err);
/* One attribute each (DESIGN §4: the VM stopped for all but a disk that
 * does not change; sizes in MiB); the reason of a refusal in err. */
int vm_set_vcpus(struct model *m, const char *tenant, const char *name,
		 unsigned n, char *err);
int vm_set_memory(struct model *m, const char *tenant, const char *name,
		  uint64_t mib, char *err);
int vm_set_disk(struct model *m, const char *tenant, const char *name,
		uint64_t mib, char *err);
int vm_set_image(struct model *m, const char *tenant, const char *name,
		 const char *image, char *err);
int vm_set_subnet(struct model *m, const char *tenant, const char *name,
		  const char *subnet, char *err);
/* Places a VM that has never run on cloud (one that has run migrates:
 * mig.h's vm_relocate). */
int vm_place(struct model *m, const char *tenant, const char *name,
	     const char *cloud, char *err);
enum vm_power_op { VM_START, VM_STOP, VM_RESTART };
int vm_power(struct model *m, const char *tenant, const char *name,
	     enum vm_power_op op, char *err);
/* Lifecycle events from libvirt (the event thread), of cloud's domains. */
void vm_power_event(void *model, const char *cloud, const char *uuid,
		    enum virt_power power);
/* A plan's steps (plan.h), on a plan's copy of the model: the checks of
 * vm_create, vm_delete, vm_set_* and vm_place (attr "vcpus", "memory",
 * "disk", "image", "subnet", "location": num or str), and vm_power, then
 * their effect on the model alone; the clouds are only asked what they
 * hold (a start: its cloud answers, its image is there). */
int vm_plan_create(struct model *m, const char *tenant, const char *name,
		   char *err);
int vm_plan_delete(struct model *m, const char *tenant, const char *name,
		   char *err);
int vm_plan_set(struct model *m, const char *tenant, const char *name,
		const char *attr, uint64_t num, const char *str, char *err);
int vm_plan_power(struct model *m, const char *tenant, const char *name,
		  enum vm_power_op op, char *err);
/* "running", "stopped", "migrating" or "error". */
const char *vm_state_word(const struct vm *v);
/* A new random (version 4) UUID. */
int vm_uuid_new(char out[VIRT_UUID_LEN + 1]);

#endif
