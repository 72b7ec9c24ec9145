/* What every harness shares: libFuzzer's entry point, and the input as a
 * NUL-terminated string (the parsers take text). */
#ifndef MAAS_FUZZ_H
#define MAAS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of the input with a NUL after it (and none inside: a NUL in a
 * value is cut there, as the tree's writes refuse it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
