/* Unit tests of CUBIC's arithmetic: the libm-free cube root against libm's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "stack/tcp_internal.h"

static void tcp_cbrt_matches_libm_within_float_precision(void **state)
{
	(void)state;
	/* K's argument is (W_max - cwnd) / MSS / C: from a fraction of a
	 * segment to millions of segments; sweep far beyond both ends. */
	for (float x = 1e-6f; x < 1e12f; x *= 1.0137f) {
		float want = cbrtf(x), got = td_tcp_cbrt(x);
		assert_true(fabsf(got - want) <= 4e-7f * want);
	}
	assert_true(td_tcp_cbrt(27.0f) > 2.999999f && td_tcp_cbrt(27.0f) < 3.000001f);
	assert_true(td_tcp_cbrt(0.0f) == 0.0f);
	assert_true(td_tcp_cbrt(-8.0f) == 0.0f); /* W_max below cwnd: no epoch offset */
	assert_true(td_tcp_cbrt(NAN) == 0.0f);
	assert_true(td_tcp_cbrt(INFINITY) > 1e12f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_cbrt_matches_libm_within_float_precision),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
