/* Shared helpers of the wire fuzz targets: a loud failure and fixed addresses. */
#ifndef TUNDRA_FUZZ_COMMON_H
#define TUNDRA_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include <tundra/wire.h>

/* A broken round-trip property is a finding: abort so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                               \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

static const uint8_t FUZZ_SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t FUZZ_DST6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
#define FUZZ_SRC4 0xc0000201u
#define FUZZ_DST4 0xc0000202u

#endif
