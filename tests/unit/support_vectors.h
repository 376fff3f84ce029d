/* Golden packets from tests/vectors, compiled into every unit test binary. */
#ifndef TUNDRA_TEST_SUPPORT_VECTORS_H
#define TUNDRA_TEST_SUPPORT_VECTORS_H

#include <stddef.h>
#include <stdint.h>

struct td_test_vector {
	const char *name; /* "<capture>/<packet number from 1>", e.g. "tcp4/1" */
	const uint8_t *data;
	size_t len;
};

extern const struct td_test_vector td_test_vectors[];

/* The vector of that name; aborts the test program when missing. */
const struct td_test_vector *td_test_vector(const char *name);

#endif
