/* Unit tests of the Internet checksum: fast path vs a 16-bit reference, RFC 1624 updates, pseudo headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tundra/wire.h>

/* RFC 1071 §4.1, the straightforward way: network-order 16-bit words. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t acc)
{
	uint64_t s = acc;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

static void csum_matches_reference_all_lengths_and_alignments(void **state)
{
	(void)state;
	uint8_t buf[300 + 16];
	for (unsigned pattern = 0; pattern < 3; pattern++) {
		if (pattern == 0)
			fill(buf, sizeof(buf), 42);
		else
			memset(buf, pattern == 1 ? 0xff : 0x00, sizeof(buf));
		for (size_t align = 0; align < 8; align++)
			for (size_t len = 0; len <= 300; len++) {
				const uint8_t *p = buf + align;
				assert_int_equal(td_csum(p, len), ref_csum(p, len, 0));
				/* A non-zero starting accumulator as well. */
				assert_int_equal(td_csum_finish(td_csum_add(0x1234abcd, p, len)),
						 ref_csum(p, len, 0x1234abcd));
			}
	}
}

static void csum_chained_even_chunks_equal_one_pass(void **state)
{
	(void)state;
	uint8_t buf[1500];
	fill(buf, sizeof(buf), 7);
	for (size_t split = 0; split <= 200; split += 2) {
		uint32_t acc = td_csum_add(0, buf, split);
		acc = td_csum_add(acc, buf + split, sizeof(buf) - 1 - split);
		assert_int_equal(td_csum_finish(acc), td_csum(buf, sizeof(buf) - 1));
	}
}

static void csum_large_buffer_of_ones_does_not_overflow(void **state)
{
	(void)state;
	static uint8_t big[65536 + 7];
	memset(big, 0xff, sizeof(big));
	for (size_t a = 0; a < 8; a++)
		assert_int_equal(td_csum(big + a, 65535), ref_csum(big + a, 65535, 0));
}

static void csum_rfc1071_example(void **state)
{
	(void)state;
	/* RFC 1071 §3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2. */
	const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(td_csum(b, sizeof(b)), (uint16_t)~0xddf2);
}

static void csum_update16_matches_recompute(void **state)
{
	(void)state;
	uint8_t buf[64];
	fill(buf, sizeof(buf), 99);
	for (uint32_t v = 0; v < 0x10000; v += 257) {
		td_put_be16(buf + 10, 0);
		uint16_t c = td_csum(buf, sizeof(buf));
		td_put_be16(buf + 10, c);
		uint16_t old = td_get_be16(buf + 20);
		td_put_be16(buf + 20, (uint16_t)v);
		uint16_t inc = td_csum_update16(c, old, (uint16_t)v);
		td_put_be16(buf + 10, inc);
		assert_int_equal(td_csum(buf, sizeof(buf)), 0);
	}
}

static void csum_update32_matches_recompute(void **state)
{
	(void)state;
	uint8_t buf[40];
	fill(buf, sizeof(buf), 5);
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t nv = i * 2654435761u;
		td_put_be16(buf + 6, 0);
		uint16_t c = td_csum(buf, sizeof(buf));
		uint32_t old = td_get_be32(buf + 12);
		td_put_be32(buf + 12, nv);
		td_put_be16(buf + 6, td_csum_update32(c, old, nv));
		assert_int_equal(td_csum(buf, sizeof(buf)), 0);
	}
}

static void csum_pseudo4_equals_summing_the_pseudo_header_bytes(void **state)
{
	(void)state;
	const uint8_t ph[12] = {192, 0, 2, 1, 198, 51, 100, 7, 0, 6, 0x05, 0xdc};
	uint32_t acc = td_csum_pseudo4(0xc0000201, 0xc6336407, 6, 1500);
	assert_int_equal(td_csum_finish(acc), ref_csum(ph, sizeof(ph), 0));
}

static void csum_pseudo6_equals_summing_the_pseudo_header_bytes(void **state)
{
	(void)state;
	uint8_t ph[40] = {0};
	fill(ph, 32, 3);
	ph[33] = 0x01; /* length 0x0001_0203 */
	ph[34] = 0x02;
	ph[35] = 0x03;
	ph[39] = 58;
	uint32_t acc = td_csum_pseudo6(ph, ph + 16, 58, 0x00010203);
	assert_int_equal(td_csum_finish(acc), ref_csum(ph, sizeof(ph), 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csum_matches_reference_all_lengths_and_alignments),
		cmocka_unit_test(csum_chained_even_chunks_equal_one_pass),
		cmocka_unit_test(csum_large_buffer_of_ones_does_not_overflow),
		cmocka_unit_test(csum_rfc1071_example),
		cmocka_unit_test(csum_update16_matches_recompute),
		cmocka_unit_test(csum_update32_matches_recompute),
		cmocka_unit_test(csum_pseudo4_equals_summing_the_pseudo_header_bytes),
		cmocka_unit_test(csum_pseudo6_equals_summing_the_pseudo_header_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
