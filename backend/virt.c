#include "virt.h"

#include <stdio.h>

#include <libvirt/libvirt.h>

void virt_version(char *buf, size_t len)
{
	unsigned long v = 0;

	if (virGetVersion(&v, NULL, NULL) < 0)
		v = LIBVIR_VERSION_NUMBER;
	snprintf(buf, len, "libvirt %lu.%lu.%lu", v / 1000000, v / 1000 % 1000,
		 v % 1000);
}
