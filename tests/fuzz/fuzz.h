/*
 * fuzz.h - what the fuzz targets share: the entry point libFuzzer (or
 * driver.c) calls, the check that prints a broken expectation and aborts,
 * and the reader that takes operands from the input (zeros once it is
 * used up).  Each target defines FUZZ_NAME before including this.
 */
#ifndef RGN_FUZZ_H
#define RGN_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do {                                                     \
		fprintf(stderr, FUZZ_NAME ":%d: ", __LINE__);              \
		fprintf(stderr, __VA_ARGS__);                              \
		fputc('\n', stderr);                                       \
		abort();                                                   \
	} while (0)
#define CHECK(c, ...) do {                                                 \
		if (!(c)) {                                                \
			fprintf(stderr, "failed: %s\n", #c);               \
			FAIL(__VA_ARGS__);                                 \
		}                                                          \
	} while (0)

struct in {
	const uint8_t *p;
	size_t         n;
};

static inline uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint32_t u16(struct in *in)
{
	return u8(in) | (uint32_t)u8(in) << 8;
}

#endif /* RGN_FUZZ_H */
