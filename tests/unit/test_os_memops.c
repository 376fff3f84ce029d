/* The musl binary's memcpy, memmove and memcmp (src/os/memops.c) against the
 * C library's, every length up to 1100 and beyond, every alignment, overlaps
 * both ways; nothing outside the destination written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tundra/os_misc.h"

#define BUF 4096

static unsigned char src[BUF], got[BUF], want[BUF];

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 131 + seed * 7 + (i >> 8));
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_copy(void **state)
{
	(void)state;
	fill(src, BUF, 1);
	for (size_t n = 0; n <= 1100; n++) {
		for (size_t off = 0; off < 16; off += (n < 64 ? 1 : 5)) {
			memset(got, 0xa5, BUF);
			memset(want, 0xa5, BUF);
			assert_ptr_equal(td_mem_copy(got + off, src + 3, n), got + off);
			memcpy(want + off, src + 3, n);
			assert_memory_equal(got, want, BUF);
		}
	}
	memset(got, 0, BUF);
	td_mem_copy(got + 1, src, 3000); /* the rep movsb path */
	assert_memory_equal(got + 1, src, 3000);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[3001], 0);
}

static void test_move_overlaps_both_ways(void **state)
{
	(void)state;
	for (size_t n = 0; n <= 700; n += (n < 80 ? 1 : 13)) {
		for (size_t shift = 1; shift <= 40; shift += (shift < 18 ? 1 : 7)) {
			for (int dir = 0; dir < 2; dir++) {
				fill(got, BUF, (unsigned)(n + shift));
				memcpy(want, got, BUF);
				size_t a = 100, b = 100 + shift; /* src, dst */
				if (dir)
					a = 100 + shift, b = 100;
				assert_ptr_equal(td_mem_move(got + b, got + a, n), got + b);
				memmove(want + b, want + a, n);
				assert_memory_equal(got, want, BUF);
			}
		}
	}
}

static void test_compare(void **state)
{
	(void)state;
	fill(src, BUF, 3);
	for (size_t n = 0; n <= 300; n++) {
		memcpy(got, src, n);
		assert_int_equal(td_mem_cmp(got, src, n), 0);
		for (size_t at = 0; at < n; at += (n < 40 ? 1 : 11)) {
			memcpy(got, src, n);
			got[at] = (unsigned char)(src[at] + 1 + (at & 0x7f));
			assert_int_equal(sign(td_mem_cmp(got, src, n)), sign(memcmp(got, src, n)));
			assert_int_equal(sign(td_mem_cmp(src, got, n)), sign(memcmp(src, got, n)));
		}
	}
	static const unsigned char x[] = {0x00, 0xff}, y[] = {0x01, 0x00};
	assert_true(td_mem_cmp(x, y, 2) < 0); /* bytes compare unsigned, first first */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_move_overlaps_both_ways),
		cmocka_unit_test(test_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
