/* fuzz: what every fuzz target shares.  A target defines
 * LLVMFuzzerTestOneInput; it runs under libFuzzer (make fuzz) or under
 * replay.c's main over a corpus (make check).  A broken property aborts,
 * so both report it as a crash with the input that caused it. */
#ifndef MC_FUZZ_H
#define MC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Unlike assert(), never compiled out. */
#define FUZZ_CHECK(c) do { \
		if (!(c)) { \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort(); \
		} \
	} while (0)

/* An error record as the contract says: a kind, and one non-empty line of
 * valid UTF-8 without control characters. */
static inline void
fuzz_check_err(const struct err *e, enum mc_err rc)
{
	size_t i, n = strlen(e->msg);

	FUZZ_CHECK(rc != MC_OK);
	FUZZ_CHECK(e->kind == rc);
	FUZZ_CHECK(n > 0);
	if (!utf8_valid(e->msg, n))
		fprintf(stderr, "message: %s\n", e->msg);
	FUZZ_CHECK(utf8_valid(e->msg, n));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)e->msg[i];

		if (c < 0x20 || c == 0x7f)
			fprintf(stderr, "message: %s\n", e->msg);
		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
	}
}

/* The input as a NUL-terminated string of exactly its bytes (a NUL inside
 * ends the C string early): a new allocation of size + 1. */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
