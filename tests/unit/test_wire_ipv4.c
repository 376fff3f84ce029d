/* Unit tests of the IPv4 codec: kernel-captured datagrams, round trips, one malformed input per error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tundra/wire.h>

#include "support_vectors.h"

static void copy_vec(uint8_t *buf, size_t cap, const char *name, size_t *len)
{
	const struct td_test_vector *v = td_test_vector(name);
	assert_true(v->len <= cap);
	memcpy(buf, v->data, v->len);
	*len = v->len;
}

static void ipv4_parse_kernel_echo_request(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("ping4/1");
	struct td_ipv4_view v;
	struct td_ipv4_repr r;

	assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	td_ipv4_parse(&v, &r);
	/* Values as tshark -V shows them for this capture. */
	assert_int_equal(v.hdr_len, 20);
	assert_int_equal(v.len, 84);
	assert_int_equal(r.ident, 0x8de6);
	assert_int_equal(r.ttl, 64);
	assert_true(r.df);
	assert_false(r.mf);
	assert_int_equal(r.frag_off, 0);
	assert_int_equal(r.proto, TD_IPPROTO_ICMP);
	assert_int_equal(r.src, 0xc0000201);
	assert_int_equal(r.dst, 0xc0000202);
	assert_int_equal(r.payload_len, 64);
	assert_int_equal(r.opt_len, 0);
	assert_false(td_ipv4_is_fragment(&v));
	assert_int_equal(td_ipv4_payload(&v).len, 64);
}

static void ipv4_parse_kernel_fragments(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint16_t off;
		bool mf;
		uint16_t payload;
	} want[] = {{"frag/1", 0, true, 1480}, {"frag/2", 1480, true, 1480},
		    {"frag/3", 2960, false, 48}};
	for (size_t i = 0; i < 3; i++) {
		const struct td_test_vector *t = td_test_vector(want[i].name);
		struct td_ipv4_view v;
		struct td_ipv4_repr r;
		assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_OK);
		td_ipv4_parse(&v, &r);
		assert_int_equal(r.ident, 0x8ee6);
		assert_int_equal(r.frag_off, want[i].off);
		assert_int_equal(r.mf, want[i].mf);
		assert_int_equal(r.payload_len, want[i].payload);
		assert_true(td_ipv4_is_fragment(&v));
	}
}

static void ipv4_emit_reproduces_kernel_header(void **state)
{
	(void)state;
	const char *names[] = {"ping4/1", "ping4/2", "tcp4/1", "frag/2", "udp_unreach/2"};
	for (size_t i = 0; i < 5; i++) {
		const struct td_test_vector *t = td_test_vector(names[i]);
		struct td_ipv4_view v;
		struct td_ipv4_repr r;
		uint8_t out[60];
		assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_OK);
		td_ipv4_parse(&v, &r);
		assert_int_equal(td_ipv4_hdr_size(&r), 20);
		assert_int_equal(td_ipv4_emit(&r, out, 20), TD_WIRE_OK);
		assert_memory_equal(out, t->data, 20);
	}
}

static void ipv4_emit_parse_round_trip_with_options(void **state)
{
	(void)state;
	struct td_ipv4_repr r = {
		.src = 0x0a000001, .dst = 0x0a000002, .ident = 0x1234, .frag_off = 8 * 100,
		.payload_len = 16, .tos = 0xb8, .ttl = 3, .proto = TD_IPPROTO_UDP, .mf = true,
		.opt_len = 8, .opts = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00},
	};
	uint8_t buf[28 + 16] = {0};
	struct td_ipv4_view v;
	struct td_ipv4_repr back;

	assert_int_equal(td_ipv4_hdr_size(&r), 28);
	assert_int_equal(td_ipv4_emit(&r, buf, 28), TD_WIRE_OK);
	assert_int_equal(td_ipv4_check(&v, buf, sizeof(buf), 0), TD_WIRE_OK);
	td_ipv4_parse(&v, &back);
	assert_memory_equal(&back, &r, sizeof(r));
}

static void ipv4_option_walker_lists_router_alert_and_stops_at_eol(void **state)
{
	(void)state;
	/* RFC 2113 Router Alert (0x94, 4 bytes), NOP, EOL, then junk that
	 * must not be read as options. */
	struct td_ipv4_repr r = {.src = 1, .dst = 2, .ttl = 1, .proto = 2, .opt_len = 8,
				 .opts = {0x94, 0x04, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff}};
	uint8_t buf[28];
	struct td_ipv4_view v;
	assert_int_equal(td_ipv4_emit(&r, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_ipv4_check(&v, buf, sizeof(buf), 0), TD_WIRE_OK);
	struct td_ipv4_opt o;
	enum td_wire_err err;
	size_t off = 0;
	assert_true(td_ipv4_opt_next(&v, &off, &o, &err));
	assert_int_equal(o.type, 0x94);
	assert_int_equal(o.len, 4);
	assert_int_equal(o.data.len, 2);
	assert_true(td_ipv4_opt_next(&v, &off, &o, &err));
	assert_int_equal(o.type, 1);
	assert_true(td_ipv4_opt_next(&v, &off, &o, &err));
	assert_int_equal(o.type, 0);
	assert_false(td_ipv4_opt_next(&v, &off, &o, &err));
	assert_int_equal(err, TD_WIRE_OK);
}

static void ipv4_option_length_below_2_or_past_header_is_bad_option(void **state)
{
	(void)state;
	struct td_ipv4_repr r = {.src = 1, .dst = 2, .ttl = 1, .proto = 2, .opt_len = 4,
				 .opts = {0x07, 0x01, 0x00, 0x00}};
	uint8_t buf[24];
	struct td_ipv4_view v;
	struct td_ipv4_opt o;
	enum td_wire_err err;
	size_t off = 0;
	assert_int_equal(td_ipv4_emit(&r, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_ipv4_check(&v, buf, sizeof(buf), 0), TD_WIRE_OK);
	assert_false(td_ipv4_opt_next(&v, &off, &o, &err));
	assert_int_equal(err, TD_WIRE_BAD_OPTION);
	r.opts[1] = 8; /* record route claiming 8 bytes in a 4-byte area */
	off = 0;
	assert_int_equal(td_ipv4_emit(&r, buf, sizeof(buf)), TD_WIRE_OK);
	assert_int_equal(td_ipv4_check(&v, buf, sizeof(buf), 0), TD_WIRE_OK);
	assert_false(td_ipv4_opt_next(&v, &off, &o, &err));
	assert_int_equal(err, TD_WIRE_BAD_OPTION);
}

static void ipv4_link_padding_after_total_length_is_ignored(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len;
	struct td_ipv4_view v;
	copy_vec(buf, sizeof(buf), "udp_unreach/1", &len);
	memset(buf + len, 0xee, 10);
	assert_int_equal(td_ipv4_check(&v, buf, len + 10, 0), TD_WIRE_OK);
	assert_int_equal(v.len, len);
	assert_int_equal(td_ipv4_payload(&v).len, len - 20);
}

/* ---- one malformed input per error value -------------------------------- */

static void ipv4_shorter_than_header_is_truncated(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("ping4/1");
	struct td_ipv4_view v;
	assert_int_equal(td_ipv4_check(&v, t->data, 19, 0), TD_WIRE_TRUNCATED);
	/* Total length 84 but only 83 bytes present. */
	assert_int_equal(td_ipv4_check(&v, t->data, t->len - 1, 0), TD_WIRE_TRUNCATED);
}

static void ipv4_version_6_is_bad_version(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("ping6/1");
	struct td_ipv4_view v;
	assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_BAD_VERSION);
}

static void ipv4_ihl_below_5_or_past_total_is_bad_hdr_len(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len;
	struct td_ipv4_view v;
	copy_vec(buf, sizeof(buf), "ping4/1", &len);
	buf[0] = 0x44;
	assert_int_equal(td_ipv4_check(&v, buf, len, TD_WIRE_SKIP_CSUM), TD_WIRE_BAD_HDR_LEN);
	/* IHL 15 = 60 bytes, total length 40. */
	buf[0] = 0x4f;
	td_put_be16(buf + 2, 40);
	assert_int_equal(td_ipv4_check(&v, buf, len, TD_WIRE_SKIP_CSUM), TD_WIRE_BAD_HDR_LEN);
}

static void ipv4_total_length_below_20_is_bad_length(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len;
	struct td_ipv4_view v;
	copy_vec(buf, sizeof(buf), "ping4/1", &len);
	td_put_be16(buf + 2, 19);
	assert_int_equal(td_ipv4_check(&v, buf, len, TD_WIRE_SKIP_CSUM), TD_WIRE_BAD_LENGTH);
}

static void ipv4_flipped_bit_is_bad_checksum_unless_skipped(void **state)
{
	(void)state;
	uint8_t buf[128];
	size_t len;
	struct td_ipv4_view v;
	copy_vec(buf, sizeof(buf), "ping4/1", &len);
	buf[8] ^= 0x01; /* TTL */
	assert_int_equal(td_ipv4_check(&v, buf, len, 0), TD_WIRE_BAD_CHECKSUM);
	assert_int_equal(td_ipv4_check(&v, buf, len, TD_WIRE_SKIP_CSUM), TD_WIRE_OK);
}

static void ipv4_mf_with_odd_data_or_end_past_64k_is_bad_fragment(void **state)
{
	(void)state;
	struct td_ipv4_repr r = {.src = 1, .dst = 2, .ttl = 64, .proto = 17, .mf = true,
				 .payload_len = 12};
	uint8_t buf[20 + 12] = {0};
	struct td_ipv4_view v;
	assert_int_equal(td_ipv4_emit(&r, buf, 20), TD_WIRE_OK);
	assert_int_equal(td_ipv4_check(&v, buf, sizeof(buf), 0), TD_WIRE_BAD_FRAGMENT);
	/* Last fragment at offset 65528 with 12 bytes ends at 65540. */
	r.mf = false;
	r.frag_off = 65528;
	assert_int_equal(td_ipv4_emit(&r, buf, 20), TD_WIRE_OK);
	assert_int_equal(td_ipv4_check(&v, buf, sizeof(buf), 0), TD_WIRE_BAD_FRAGMENT);
}

static void ipv4_emit_wrong_buffer_or_bad_repr_is_bad_size(void **state)
{
	(void)state;
	struct td_ipv4_repr r = {.src = 1, .dst = 2, .ttl = 64, .proto = 6};
	uint8_t buf[64];
	assert_int_equal(td_ipv4_emit(&r, buf, 21), TD_WIRE_BAD_SIZE);
	assert_int_equal(td_ipv4_emit(&r, buf, 19), TD_WIRE_BAD_SIZE);
	r.opt_len = 3;
	assert_int_equal(td_ipv4_emit(&r, buf, 23), TD_WIRE_BAD_SIZE);
	r.opt_len = 44;
	assert_int_equal(td_ipv4_emit(&r, buf, 64), TD_WIRE_BAD_SIZE);
	r.opt_len = 0;
	r.frag_off = 7;
	assert_int_equal(td_ipv4_emit(&r, buf, 20), TD_WIRE_BAD_SIZE);
	r.frag_off = 0;
	r.payload_len = 65535 - 19;
	assert_int_equal(td_ipv4_emit(&r, buf, 20), TD_WIRE_BAD_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_parse_kernel_echo_request),
		cmocka_unit_test(ipv4_parse_kernel_fragments),
		cmocka_unit_test(ipv4_emit_reproduces_kernel_header),
		cmocka_unit_test(ipv4_emit_parse_round_trip_with_options),
		cmocka_unit_test(ipv4_option_walker_lists_router_alert_and_stops_at_eol),
		cmocka_unit_test(ipv4_option_length_below_2_or_past_header_is_bad_option),
		cmocka_unit_test(ipv4_link_padding_after_total_length_is_ignored),
		cmocka_unit_test(ipv4_shorter_than_header_is_truncated),
		cmocka_unit_test(ipv4_version_6_is_bad_version),
		cmocka_unit_test(ipv4_ihl_below_5_or_past_total_is_bad_hdr_len),
		cmocka_unit_test(ipv4_total_length_below_20_is_bad_length),
		cmocka_unit_test(ipv4_flipped_bit_is_bad_checksum_unless_skipped),
		cmocka_unit_test(ipv4_mf_with_odd_data_or_end_past_64k_is_bad_fragment),
		cmocka_unit_test(ipv4_emit_wrong_buffer_or_bad_repr_is_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
