/* libvirt: one connection per cloud, domain lifecycle, migration. This
 * first stone only links it and reports its version; VMs come next. */
#ifndef MAAS_VIRT_H
#define MAAS_VIRT_H

#include <stddef.h>

/* "libvirt 9.0.0" into buf. */
void virt_version(char *buf, size_t len);

#endif
