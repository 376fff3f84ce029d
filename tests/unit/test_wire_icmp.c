/* Unit tests of the ICMPv4/ICMPv6 codec: kernel echoes and errors, round trips, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tundra/wire.h>

#include "support_vectors.h"

static const uint8_t A1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t A2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static struct td_bytes ip4_payload(const char *name)
{
	const struct td_test_vector *t = td_test_vector(name);
	struct td_ipv4_view v;
	assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	return td_ipv4_payload(&v);
}

static struct td_bytes ip6_upper(const char *name)
{
	const struct td_test_vector *t = td_test_vector(name);
	struct td_ipv6_view v;
	assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	return td_ipv6_upper(&v);
}

static void icmp4_parse_kernel_echo_request_and_reply(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		struct td_bytes b = ip4_payload(i ? "ping4/2" : "ping4/1");
		struct td_icmp_repr r;
		assert_int_equal(td_icmp4_parse(b.ptr, b.len, 0, &r), TD_WIRE_OK);
		assert_int_equal(r.type, i ? TD_ICMP4_ECHO_REPLY : TD_ICMP4_ECHO_REQUEST);
		assert_int_equal(r.code, 0);
		assert_int_equal(r.ident, 7439);
		assert_int_equal(r.seq, 1);
		assert_int_equal(r.data.len, 56);
		/* ping -p 74756e647261 repeats the pattern from the start of
		 * the data, then writes its 16-byte timeval over the start. */
		assert_memory_equal(r.data.ptr + 18, "tundra", 6);
		assert_false(td_icmp4_is_error(r.type));
	}
}

static void icmp6_parse_kernel_echo_request_and_reply(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		struct td_bytes b = ip6_upper(i ? "ping6/2" : "ping6/1");
		struct td_icmp_repr r;
		const uint8_t *src = i ? A2 : A1, *dst = i ? A1 : A2;
		assert_int_equal(td_icmp6_parse(b.ptr, b.len, src, dst, 0, &r), TD_WIRE_OK);
		assert_int_equal(r.type, i ? TD_ICMP6_ECHO_REPLY : TD_ICMP6_ECHO_REQUEST);
		assert_int_equal(r.ident, 0x1d10);
		assert_int_equal(r.seq, 1);
		assert_int_equal(r.data.len, 56);
		assert_false(td_icmp6_is_error(r.type));
	}
}

static void icmp4_port_unreachable_exposes_the_quoted_datagram(void **state)
{
	(void)state;
	struct td_bytes b = ip4_payload("udp_unreach/2");
	struct td_icmp_repr r;
	assert_int_equal(td_icmp4_parse(b.ptr, b.len, 0, &r), TD_WIRE_OK);
	assert_int_equal(r.type, TD_ICMP4_DEST_UNREACH);
	assert_int_equal(r.code, 3);
	assert_true(td_icmp4_is_error(r.type));
	/* The quote is the whole original datagram: it checks as one. */
	const struct td_test_vector *orig = td_test_vector("udp_unreach/1");
	assert_int_equal(r.data.len, orig->len);
	assert_memory_equal(r.data.ptr, orig->data, orig->len);
	struct td_ipv4_view q;
	assert_int_equal(td_ipv4_check(&q, r.data.ptr, r.data.len, 0), TD_WIRE_OK);
	assert_int_equal(td_ipv4_proto(&q), TD_IPPROTO_UDP);
}

static void icmp6_port_unreachable_exposes_the_quoted_packet(void **state)
{
	(void)state;
	struct td_bytes b = ip6_upper("udp_unreach/4");
	struct td_icmp_repr r;
	assert_int_equal(td_icmp6_parse(b.ptr, b.len, A2, A1, 0, &r), TD_WIRE_OK);
	assert_int_equal(r.type, TD_ICMP6_DEST_UNREACH);
	assert_int_equal(r.code, 4);
	assert_true(td_icmp6_is_error(r.type));
	const struct td_test_vector *orig = td_test_vector("udp_unreach/3");
	assert_int_equal(r.data.len, orig->len);
	assert_memory_equal(r.data.ptr, orig->data, orig->len);
}

static void icmp4_emit_reproduces_kernel_echo(void **state)
{
	(void)state;
	struct td_bytes b = ip4_payload("ping4/1");
	struct td_icmp_repr r;
	uint8_t out[64];
	assert_int_equal(td_icmp4_parse(b.ptr, b.len, 0, &r), TD_WIRE_OK);
	assert_int_equal(td_icmp_size(&r), b.len);
	assert_int_equal(td_icmp4_emit(&r, out, sizeof(out)), TD_WIRE_OK);
	assert_memory_equal(out, b.ptr, b.len);
}

static void icmp6_emit_reproduces_kernel_echo(void **state)
{
	(void)state;
	struct td_bytes b = ip6_upper("ping6/2");
	struct td_icmp_repr r;
	uint8_t out[64];
	assert_int_equal(td_icmp6_parse(b.ptr, b.len, A2, A1, 0, &r), TD_WIRE_OK);
	assert_int_equal(td_icmp6_emit(&r, A2, A1, out, sizeof(out)), TD_WIRE_OK);
	assert_memory_equal(out, b.ptr, b.len);
}

static void icmp4_frag_needed_and_param_problem_round_trip(void **state)
{
	(void)state;
	const struct td_test_vector *orig = td_test_vector("tcp4/1");
	uint8_t buf[8 + 28];
	struct td_icmp_repr r = {.type = TD_ICMP4_DEST_UNREACH, .code = TD_ICMP4_CODE_FRAG_NEEDED,
				 .mtu = 1280, .data = {orig->data, 28}};
	struct td_icmp_repr back;
	assert_int_equal(td_icmp4_emit(&r, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_icmp4_parse(buf, sizeof(buf), 0, &back), TD_WIRE_OK);
	assert_int_equal(back.mtu, 1280);
	assert_int_equal(back.rest_of_header, 1280); /* RFC 1191: high 16 bits zero */
	assert_int_equal(back.data.len, 28);
	assert_memory_equal(back.data.ptr, orig->data, 28);

	r = (struct td_icmp_repr){.type = TD_ICMP4_PARAM_PROBLEM, .pointer = 9,
				  .data = {orig->data, 28}};
	assert_int_equal(td_icmp4_emit(&r, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_icmp4_parse(buf, sizeof(buf), 0, &back), TD_WIRE_OK);
	assert_int_equal(back.pointer, 9);
	assert_int_equal(buf[4], 9);
}

static void icmp6_packet_too_big_and_param_problem_round_trip(void **state)
{
	(void)state;
	const struct td_test_vector *orig = td_test_vector("tcp6/1");
	uint8_t buf[8 + 48];
	struct td_icmp_repr r = {.type = TD_ICMP6_PACKET_TOO_BIG, .mtu = 1280,
				 .data = {orig->data, 48}};
	struct td_icmp_repr back;
	assert_int_equal(td_icmp6_emit(&r, A2, A1, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_icmp6_parse(buf, sizeof(buf), A2, A1, 0, &back), TD_WIRE_OK);
	assert_int_equal(back.mtu, 1280);
	assert_int_equal(back.data.len, 48);
	r = (struct td_icmp_repr){.type = TD_ICMP6_PARAM_PROBLEM, .code = 1, .pointer = 40,
				  .data = {orig->data, 48}};
	assert_int_equal(td_icmp6_emit(&r, A2, A1, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_icmp6_parse(buf, sizeof(buf), A2, A1, 0, &back), TD_WIRE_OK);
	assert_int_equal(back.pointer, 40);
	assert_int_equal(back.code, 1);
}

static void icmp_emit_with_data_already_in_place(void **state)
{
	(void)state;
	uint8_t buf[8 + 5] = {0, 0, 0, 0, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};
	struct td_icmp_repr r = {.type = TD_ICMP4_ECHO_REQUEST, .ident = 7, .seq = 9,
				 .data = {buf + 8, 5}};
	struct td_icmp_repr back;
	assert_int_equal(td_icmp4_emit(&r, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_icmp4_parse(buf, sizeof(buf), 0, &back), TD_WIRE_OK);
	assert_memory_equal(back.data.ptr, "hello", 5);
	assert_int_equal(back.seq, 9);
}

static void icmp_error_type_classification(void **state)
{
	(void)state;
	assert_true(td_icmp4_is_error(TD_ICMP4_TIME_EXCEEDED));
	assert_true(td_icmp4_is_error(TD_ICMP4_REDIRECT));
	assert_true(td_icmp4_is_error(TD_ICMP4_PARAM_PROBLEM));
	assert_false(td_icmp4_is_error(13)); /* timestamp */
	assert_true(td_icmp6_is_error(TD_ICMP6_PACKET_TOO_BIG));
	assert_true(td_icmp6_is_error(TD_ICMP6_TIME_EXCEEDED));
	assert_false(td_icmp6_is_error(135)); /* neighbor solicitation */
}

/* ---- malformed input ---------------------------------------------------- */

static void icmp_shorter_than_8_is_truncated(void **state)
{
	(void)state;
	struct td_bytes b = ip4_payload("ping4/1");
	struct td_icmp_repr r;
	assert_int_equal(td_icmp4_parse(b.ptr, 7, TD_WIRE_SKIP_CSUM, &r), TD_WIRE_TRUNCATED);
	assert_int_equal(td_icmp6_parse(b.ptr, 7, A1, A2, TD_WIRE_SKIP_CSUM, &r),
			 TD_WIRE_TRUNCATED);
}

static void icmp_wrong_byte_or_wrong_pseudo_header_is_bad_checksum(void **state)
{
	(void)state;
	struct td_bytes b = ip4_payload("ping4/1");
	uint8_t buf[64];
	struct td_icmp_repr r;
	memcpy(buf, b.ptr, b.len);
	buf[20] ^= 0x80;
	assert_int_equal(td_icmp4_parse(buf, b.len, 0, &r), TD_WIRE_BAD_CHECKSUM);
	assert_int_equal(td_icmp4_parse(buf, b.len, TD_WIRE_SKIP_CSUM, &r), TD_WIRE_OK);
	/* ICMPv6 sums the pseudo-header: swapped addresses are still the same
	 * sum, a different source is not. */
	struct td_bytes b6 = ip6_upper("ping6/1");
	uint8_t other[16];
	memcpy(other, A1, 16);
	other[15] = 3;
	assert_int_equal(td_icmp6_parse(b6.ptr, b6.len, other, A2, 0, &r), TD_WIRE_BAD_CHECKSUM);
}

static void icmp_emit_wrong_buffer_or_field_too_wide_is_bad_size(void **state)
{
	(void)state;
	uint8_t buf[16];
	struct td_icmp_repr r = {.type = TD_ICMP4_ECHO_REQUEST};
	assert_int_equal(td_icmp4_emit(&r, buf, 9), TD_WIRE_BAD_SIZE);
	assert_int_equal(td_icmp6_emit(&r, A1, A2, buf, 7), TD_WIRE_BAD_SIZE);
	r = (struct td_icmp_repr){.type = TD_ICMP4_DEST_UNREACH, .code = 4, .mtu = 70000};
	assert_int_equal(td_icmp4_emit(&r, buf, 8), TD_WIRE_BAD_SIZE);
	r = (struct td_icmp_repr){.type = TD_ICMP4_PARAM_PROBLEM, .pointer = 256};
	assert_int_equal(td_icmp4_emit(&r, buf, 8), TD_WIRE_BAD_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(icmp4_parse_kernel_echo_request_and_reply),
		cmocka_unit_test(icmp6_parse_kernel_echo_request_and_reply),
		cmocka_unit_test(icmp4_port_unreachable_exposes_the_quoted_datagram),
		cmocka_unit_test(icmp6_port_unreachable_exposes_the_quoted_packet),
		cmocka_unit_test(icmp4_emit_reproduces_kernel_echo),
		cmocka_unit_test(icmp6_emit_reproduces_kernel_echo),
		cmocka_unit_test(icmp4_frag_needed_and_param_problem_round_trip),
		cmocka_unit_test(icmp6_packet_too_big_and_param_problem_round_trip),
		cmocka_unit_test(icmp_emit_with_data_already_in_place),
		cmocka_unit_test(icmp_error_type_classification),
		cmocka_unit_test(icmp_shorter_than_8_is_truncated),
		cmocka_unit_test(icmp_wrong_byte_or_wrong_pseudo_header_is_bad_checksum),
		cmocka_unit_test(icmp_emit_wrong_buffer_or_field_too_wide_is_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
