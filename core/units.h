/* Sizes as users write them. */
#ifndef MAAS_UNITS_H
#define MAAS_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "512M", "2G", "1T", with optional "iB"/"B"; a bare number is GiB. */
int size_parse(const char *s, uint64_t *mib, char *err);
/* The shortest exact form: "256M", "2G", "1T". */
void size_format(uint64_t mib, char *buf, size_t len);

#endif
