/* Unit tests of the UDP codec: kernel datagrams, pseudo-header checksums, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tundra/wire.h>

#include "support_vectors.h"

static const uint8_t A1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t A2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static void udp4_parse_kernel_datagram(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("udp_unreach/1");
	struct td_ipv4_view v;
	struct td_udp_repr r;
	assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	struct td_bytes b = td_ipv4_payload(&v);
	uint32_t ps = td_csum_pseudo4(td_ipv4_src(&v), td_ipv4_dst(&v), TD_IPPROTO_UDP,
				      (uint16_t)b.len);
	assert_int_equal(td_udp_parse(b.ptr, b.len, ps, 0, &r), TD_WIRE_OK);
	assert_int_equal(r.src_port, 51084);
	assert_int_equal(r.dst_port, 9);
	assert_int_equal(r.payload.len, 6);
	assert_memory_equal(r.payload.ptr, "tundra", 6);
}

static void udp6_parse_kernel_datagram(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("udp_unreach/3");
	struct td_ipv6_view v;
	struct td_udp_repr r;
	assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	struct td_bytes b = td_ipv6_upper(&v);
	uint32_t ps = td_csum_pseudo6(A1, A2, TD_IPPROTO_UDP, (uint32_t)b.len);
	assert_int_equal(td_udp_parse(b.ptr, b.len, ps, TD_WIRE_IPV6, &r), TD_WIRE_OK);
	assert_int_equal(r.src_port, 37740);
	assert_int_equal(r.dst_port, 9);
	assert_memory_equal(r.payload.ptr, "tundra", 6);
}

static void udp_emit_reproduces_kernel_datagram(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("udp_unreach/3");
	const uint8_t *b = t->data + 40;
	size_t n = t->len - 40;
	uint32_t ps = td_csum_pseudo6(A1, A2, TD_IPPROTO_UDP, (uint32_t)n);
	struct td_udp_repr r;
	uint8_t out[64];
	assert_int_equal(td_udp_parse(b, n, ps, TD_WIRE_IPV6, &r), TD_WIRE_OK);
	assert_int_equal(td_udp_size(&r), n);
	assert_int_equal(td_udp_emit(&r, ps, out, n), TD_WIRE_OK);
	assert_memory_equal(out, b, n);
}

static void udp_computed_zero_checksum_is_sent_as_ffff(void **state)
{
	(void)state;
	/* Choose the payload word so that the sum is all ones: then the
	 * computed checksum is 0 and must go out as 0xffff (RFC 768). */
	uint8_t pl[2] = {0, 0};
	struct td_udp_repr r = {.src_port = 1000, .dst_port = 2000, .payload = {pl, 2}};
	uint8_t out[10];
	uint32_t ps = td_csum_pseudo4(0x0a000001, 0x0a000002, TD_IPPROTO_UDP, 10);
	assert_int_equal(td_udp_emit(&r, ps, out, 10), TD_WIRE_OK);
	td_put_be16(pl, td_get_be16(out + 6));
	assert_int_equal(td_udp_emit(&r, ps, out, 10), TD_WIRE_OK);
	assert_int_equal(td_get_be16(out + 6), 0xffff);
	struct td_udp_repr back;
	assert_int_equal(td_udp_parse(out, 10, ps, 0, &back), TD_WIRE_OK);
}

static void udp4_zero_checksum_means_none(void **state)
{
	(void)state;
	uint8_t d[12] = {0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4};
	struct td_udp_repr r;
	assert_int_equal(td_udp_parse(d, sizeof(d), 12345, 0, &r), TD_WIRE_OK);
	assert_int_equal(r.payload.len, 4);
}

static void udp_bytes_past_the_length_field_are_ignored(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("udp_unreach/1");
	uint8_t buf[32];
	size_t n = t->len - 20;
	memcpy(buf, t->data + 20, n);
	buf[n] = 0xaa;
	buf[n + 1] = 0x55;
	/* The caller's pseudo-header carries the IP payload length (n + 2); the
	 * codec sums with the UDP length instead. */
	uint32_t ps = td_csum_pseudo4(0xc0000201, 0xc0000202, TD_IPPROTO_UDP, (uint16_t)(n + 2));
	struct td_udp_repr r;
	assert_int_equal(td_udp_parse(buf, n + 2, ps, 0, &r), TD_WIRE_OK);
	assert_int_equal(r.payload.len, 6);
}

/* ---- malformed input ---------------------------------------------------- */

static void udp_shorter_than_8_is_truncated(void **state)
{
	(void)state;
	uint8_t d[7] = {0};
	struct td_udp_repr r;
	assert_int_equal(td_udp_parse(d, sizeof(d), 0, 0, &r), TD_WIRE_TRUNCATED);
}

static void udp_length_below_8_or_past_datagram_is_bad_length(void **state)
{
	(void)state;
	uint8_t d[12] = {0x03, 0xe8, 0x07, 0xd0, 0x00, 0x07, 0x00, 0x00};
	struct td_udp_repr r;
	assert_int_equal(td_udp_parse(d, sizeof(d), 0, 0, &r), TD_WIRE_BAD_LENGTH);
	td_put_be16(d + 4, 13);
	assert_int_equal(td_udp_parse(d, sizeof(d), 0, 0, &r), TD_WIRE_BAD_LENGTH);
}

static void udp_wrong_sum_or_ipv6_zero_is_bad_checksum(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("udp_unreach/3");
	uint8_t buf[32];
	size_t n = t->len - 40;
	memcpy(buf, t->data + 40, n);
	uint32_t ps = td_csum_pseudo6(A1, A2, TD_IPPROTO_UDP, (uint32_t)n);
	struct td_udp_repr r;
	buf[9] ^= 1;
	assert_int_equal(td_udp_parse(buf, n, ps, TD_WIRE_IPV6, &r), TD_WIRE_BAD_CHECKSUM);
	buf[9] ^= 1;
	td_put_be16(buf + 6, 0); /* RFC 8200 §8.1: zero is not allowed over IPv6 */
	assert_int_equal(td_udp_parse(buf, n, ps, TD_WIRE_IPV6, &r), TD_WIRE_BAD_CHECKSUM);
	assert_int_equal(td_udp_parse(buf, n, ps, TD_WIRE_IPV6 | TD_WIRE_SKIP_CSUM, &r),
			 TD_WIRE_OK);
}

static void udp_emit_wrong_buffer_is_bad_size(void **state)
{
	(void)state;
	struct td_udp_repr r = {.src_port = 1, .dst_port = 2};
	uint8_t buf[16];
	assert_int_equal(td_udp_emit(&r, 0, buf, 9), TD_WIRE_BAD_SIZE);
	assert_int_equal(td_udp_emit(&r, 0, buf, 7), TD_WIRE_BAD_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(udp4_parse_kernel_datagram),
		cmocka_unit_test(udp6_parse_kernel_datagram),
		cmocka_unit_test(udp_emit_reproduces_kernel_datagram),
		cmocka_unit_test(udp_computed_zero_checksum_is_sent_as_ffff),
		cmocka_unit_test(udp4_zero_checksum_means_none),
		cmocka_unit_test(udp_bytes_past_the_length_field_are_ignored),
		cmocka_unit_test(udp_shorter_than_8_is_truncated),
		cmocka_unit_test(udp_length_below_8_or_past_datagram_is_bad_length),
		cmocka_unit_test(udp_wrong_sum_or_ipv6_zero_is_bad_checksum),
		cmocka_unit_test(udp_emit_wrong_buffer_is_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
