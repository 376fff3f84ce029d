/* Unit tests of the TCP codec: kernel handshake with options, option layouts, the option walker, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <tundra/wire.h>

#include "support_vectors.h"

static const uint8_t A1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t A2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* The TCP segment of an IPv4 vector and its pseudo-header sum. */
static struct td_bytes seg4(const char *name, uint32_t *ps)
{
	const struct td_test_vector *t = td_test_vector(name);
	struct td_ipv4_view v;
	assert_int_equal(td_ipv4_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	struct td_bytes b = td_ipv4_payload(&v);
	*ps = td_csum_pseudo4(td_ipv4_src(&v), td_ipv4_dst(&v), TD_IPPROTO_TCP, (uint16_t)b.len);
	return b;
}

static void tcp4_parse_kernel_syn_with_all_options(void **state)
{
	(void)state;
	uint32_t ps;
	struct td_bytes b = seg4("tcp4/1", &ps);
	struct td_tcp_view v;
	struct td_tcp_repr r;
	assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
	assert_int_equal(v.hdr_len, 40);
	assert_int_equal(td_tcp_parse(&v, &r), TD_WIRE_OK);
	assert_int_equal(r.src_port, 59274);
	assert_int_equal(r.dst_port, 5201);
	assert_int_equal(r.seq, 275367985u);
	assert_int_equal(r.ack, 0);
	assert_int_equal(r.flags, TD_TCP_SYN);
	assert_int_equal(r.window, 64240);
	assert_true(r.opt.has_mss);
	assert_int_equal(r.opt.mss, 1460);
	assert_true(r.opt.sack_perm);
	assert_true(r.opt.has_ts);
	assert_int_equal(r.opt.tsval, 2360146649u);
	assert_int_equal(r.opt.tsecr, 0);
	assert_true(r.opt.has_wscale);
	assert_int_equal(r.opt.wscale, 10);
	assert_int_equal(r.opt.sack_count, 0);
	assert_int_equal(r.payload.len, 0);
}

static void tcp4_parse_kernel_synack_and_data(void **state)
{
	(void)state;
	uint32_t ps;
	struct td_bytes b = seg4("tcp4/2", &ps);
	struct td_tcp_view v;
	struct td_tcp_repr r;
	assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
	assert_int_equal(td_tcp_parse(&v, &r), TD_WIRE_OK);
	assert_int_equal(r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(r.seq, 2754119682u);
	assert_int_equal(r.ack, 275367986u);
	assert_int_equal(r.window, 65160);
	assert_int_equal(r.opt.tsval, 2366170796u);
	assert_int_equal(r.opt.tsecr, 2360146649u);

	b = seg4("tcp4/4", &ps);
	assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
	assert_int_equal(td_tcp_parse(&v, &r), TD_WIRE_OK);
	assert_int_equal(r.flags, TD_TCP_PSH | TD_TCP_ACK);
	assert_int_equal(r.window, 63);
	assert_false(r.opt.has_mss);
	assert_true(r.opt.has_ts);
	assert_int_equal(r.payload.len, 5);
	assert_memory_equal(r.payload.ptr, "hello", 5);
}

static void tcp6_parse_kernel_syn_with_pseudo_header(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("tcp6/1");
	struct td_ipv6_view v6;
	assert_int_equal(td_ipv6_check(&v6, t->data, t->len, 0), TD_WIRE_OK);
	struct td_bytes b = td_ipv6_upper(&v6);
	uint32_t ps = td_csum_pseudo6(A1, A2, TD_IPPROTO_TCP, (uint32_t)b.len);
	struct td_tcp_view v;
	struct td_tcp_repr r;
	assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
	assert_int_equal(td_tcp_parse(&v, &r), TD_WIRE_OK);
	assert_int_equal(r.src_port, 57900);
	assert_int_equal(r.seq, 3754172954u);
	assert_int_equal(r.window, 64800);
	assert_int_equal(r.opt.mss, 1440);
	assert_int_equal(r.opt.wscale, 10);
	assert_int_equal(r.opt.tsval, 3096637153u);
	/* A different destination does not verify. */
	uint8_t other[16];
	memcpy(other, A2, 16);
	other[0] ^= 0x40;
	ps = td_csum_pseudo6(A1, other, TD_IPPROTO_TCP, (uint32_t)b.len);
	assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_BAD_CHECKSUM);
}

static void tcp_option_walker_lists_kernel_syn_options_in_order(void **state)
{
	(void)state;
	uint32_t ps;
	struct td_bytes b = seg4("tcp4/1", &ps);
	struct td_tcp_view v;
	struct td_tcp_opt o;
	enum td_wire_err err;
	size_t off = 0;
	static const uint8_t kinds[] = {2, 4, 8, 1, 3}, lens[] = {4, 2, 10, 1, 3};
	unsigned n = 0;
	assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
	while (td_tcp_opt_next(&v, &off, &o, &err)) {
		assert_true(n < 5);
		assert_int_equal(o.kind, kinds[n]);
		assert_int_equal(o.len, lens[n]);
		assert_int_equal(o.data.len, lens[n] > 1 ? lens[n] - 2 : 0);
		n++;
	}
	assert_int_equal(err, TD_WIRE_OK);
	assert_int_equal(n, 5);
}

static void tcp_emit_reproduces_every_kernel_segment(void **state)
{
	(void)state;
	/* Our option layout is the kernel's: MSS | SACK-perm TS | NOP WS and
	 * NOP NOP TS, so parse+emit gives back the captured bytes. */
	char name[32];
	for (int i = 1; i <= 10; i++) {
		snprintf(name, sizeof(name), "tcp4/%d", i);
		uint32_t ps;
		struct td_bytes b = seg4(name, &ps);
		struct td_tcp_view v;
		struct td_tcp_repr r;
		uint8_t out[80];
		assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
		assert_int_equal(td_tcp_parse(&v, &r), TD_WIRE_OK);
		assert_int_equal(td_tcp_size(&r), b.len);
		assert_int_equal(td_tcp_emit(&r, ps, out, b.len), TD_WIRE_OK);
		assert_memory_equal(out, b.ptr, b.len);
	}
}

static void round_trip(const struct td_tcp_repr *r, size_t want_opts)
{
	uint8_t buf[20 + 40 + 16];
	size_t n = td_tcp_size(r);
	uint32_t ps = td_csum_pseudo4(0x0a000001, 0x0a000002, TD_IPPROTO_TCP, (uint16_t)n);
	struct td_tcp_view v;
	struct td_tcp_repr back;
	assert_int_equal(td_tcp_opts_size(&r->opt), want_opts);
	assert_true(n <= sizeof(buf));
	assert_int_equal(td_tcp_emit(r, ps, buf, n), TD_WIRE_OK);
	assert_int_equal(td_tcp_check(&v, buf, n, ps, 0), TD_WIRE_OK);
	assert_int_equal(td_tcp_parse(&v, &back), TD_WIRE_OK);
	assert_memory_equal(&back.opt, &r->opt, sizeof(r->opt));
	assert_int_equal(back.seq, r->seq);
	assert_int_equal(back.ack, r->ack);
	assert_int_equal(back.flags, r->flags);
	assert_int_equal(back.window, r->window);
	assert_int_equal(back.urgent, r->urgent);
	assert_int_equal(back.payload.len, r->payload.len);
	if (r->payload.len)
		assert_memory_equal(back.payload.ptr, r->payload.ptr, r->payload.len);
}

static void tcp_parse_kernel_duplicate_acks_with_sack_blocks(void **state)
{
	(void)state;
	/* sack.pcap frames 7 and 9: the kernel's answers to data after a hole
	 * (values as tshark shows them with absolute sequence numbers). */
	static const struct {
		const char *name;
		uint32_t right;
	} want[] = {{"sack/7", 5301}, {"sack/9", 5401}};
	for (size_t i = 0; i < 2; i++) {
		uint32_t ps;
		struct td_bytes b = seg4(want[i].name, &ps);
		struct td_tcp_view v;
		struct td_tcp_repr r;
		uint8_t out[64];
		assert_int_equal(td_tcp_check(&v, b.ptr, b.len, ps, 0), TD_WIRE_OK);
		assert_int_equal(td_tcp_parse(&v, &r), TD_WIRE_OK);
		assert_int_equal(r.flags, TD_TCP_ACK);
		assert_int_equal(r.ack, 5101);
		assert_true(r.opt.has_ts);
		assert_int_equal(r.opt.sack_count, 1);
		assert_int_equal(r.opt.sack[0].left, 5201);
		assert_int_equal(r.opt.sack[0].right, want[i].right);
		/* NOP NOP TS NOP NOP SACK: our layout is the kernel's. */
		assert_int_equal(td_tcp_size(&r), b.len);
		assert_int_equal(td_tcp_emit(&r, ps, out, b.len), TD_WIRE_OK);
		assert_memory_equal(out, b.ptr, b.len);
	}
}

static void tcp_sack_blocks_round_trip(void **state)
{
	(void)state;
	struct td_tcp_repr r = {.src_port = 80, .dst_port = 4321, .seq = 1, .ack = 2,
				.flags = TD_TCP_ACK | TD_TCP_ECE | TD_TCP_CWR, .window = 9,
				.urgent = 3, .payload = {(const uint8_t *)"data", 4}};
	r.opt.sack_count = 4;
	for (unsigned i = 0; i < 4; i++)
		r.opt.sack[i] = (struct td_tcp_sack_block){1000u * i, 1000u * i + 500};
	round_trip(&r, 36); /* NOP NOP + 34 */
	/* Timestamps + 3 blocks is what Linux sends: 12 + 28 = 40. */
	r.opt.sack_count = 3;
	r.opt.sack[3] = (struct td_tcp_sack_block){0, 0};
	r.opt.has_ts = true;
	r.opt.tsval = 0xdeadbeef;
	r.opt.tsecr = 0x01020304;
	round_trip(&r, 40);
}

static void tcp_options_too_many_for_aligned_layout_are_packed(void **state)
{
	(void)state;
	/* TS + 3 SACK blocks + window scale: aligned needs 44 bytes, packed
	 * 10 + 26 + 3 = 39, padded to 40. */
	struct td_tcp_repr r = {.flags = TD_TCP_ACK};
	r.opt.has_ts = true;
	r.opt.has_wscale = true;
	r.opt.wscale = 14;
	r.opt.sack_count = 3;
	r.opt.sack[2].right = 77;
	round_trip(&r, 40);
}

static void tcp_unrepresentable_options_are_bad_size(void **state)
{
	(void)state;
	struct td_tcp_repr r = {.flags = TD_TCP_ACK};
	uint8_t buf[128];
	r.opt.has_ts = true;
	r.opt.sack_count = 4; /* 10 + 34 > 40 */
	assert_int_equal(td_tcp_emit(&r, 0, buf, td_tcp_size(&r)), TD_WIRE_BAD_SIZE);
	r.opt.has_ts = false;
	r.opt.sack_count = 5;
	assert_int_equal(td_tcp_emit(&r, 0, buf, td_tcp_size(&r)), TD_WIRE_BAD_SIZE);
	r.opt.sack_count = 0;
	assert_int_equal(td_tcp_emit(&r, 0, buf, 21), TD_WIRE_BAD_SIZE);
}

/* A segment with the given option bytes (padded by the caller to 4). */
static enum td_wire_err parse_with_opts(const uint8_t *opts, size_t n, struct td_tcp_repr *r)
{
	static uint8_t buf[60];
	struct td_tcp_view v;
	memset(buf, 0, sizeof(buf));
	buf[12] = (uint8_t)((20 + n) / 4 << 4);
	memcpy(buf + 20, opts, n);
	assert_int_equal(td_tcp_check(&v, buf, 20 + n, 0, TD_WIRE_SKIP_CSUM), TD_WIRE_OK);
	return td_tcp_parse(&v, r);
}

static void tcp_unknown_and_wrong_length_options_are_skipped(void **state)
{
	(void)state;
	/* Unknown kind 30 (MPTCP) of 6 bytes, an MSS of length 3 (ignored, as
	 * Linux does), then a real MSS, then EOL: what follows EOL is not read. */
	const uint8_t o[16] = {30, 6, 1, 2, 3, 4, 2, 3, 9, 2, 4, 0x05, 0xb4, 0, 2, 0};
	struct td_tcp_repr r;
	assert_int_equal(parse_with_opts(o, sizeof(o), &r), TD_WIRE_OK);
	assert_true(r.opt.has_mss);
	assert_int_equal(r.opt.mss, 1460);
}

static void tcp_second_sack_option_replaces_the_first_whole(void **state)
{
	(void)state;
	/* Found by fuzz_tcp: blocks of the first option must not survive. */
	const uint8_t o[28] = {5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
			       5, 10, 0, 0, 0, 9, 0, 0, 0, 10};
	struct td_tcp_repr r;
	assert_int_equal(parse_with_opts(o, sizeof(o), &r), TD_WIRE_OK);
	assert_int_equal(r.opt.sack_count, 1);
	assert_int_equal(r.opt.sack[0].left, 9);
	assert_int_equal(r.opt.sack[0].right, 10);
	assert_int_equal(r.opt.sack[1].left, 0);
	assert_int_equal(r.opt.sack[1].right, 0);
}

static void tcp_header_full_of_nops_is_walked(void **state)
{
	(void)state;
	uint8_t o[40];
	memset(o, 1, sizeof(o));
	struct td_tcp_repr r;
	assert_int_equal(parse_with_opts(o, sizeof(o), &r), TD_WIRE_OK);
	assert_false(r.opt.has_mss || r.opt.has_ts || r.opt.sack_perm || r.opt.has_wscale);
}

/* ---- malformed input ---------------------------------------------------- */

static void tcp_option_length_zero_is_bad_option_not_a_loop(void **state)
{
	(void)state;
	/* picotcp#506: a zero length made the walker spin forever. */
	const uint8_t o[4] = {30, 0, 0, 0};
	struct td_tcp_repr r;
	assert_int_equal(parse_with_opts(o, sizeof(o), &r), TD_WIRE_BAD_OPTION);
}

static void tcp_option_length_one_is_bad_option(void **state)
{
	(void)state;
	const uint8_t o[4] = {2, 1, 0, 0};
	struct td_tcp_repr r;
	assert_int_equal(parse_with_opts(o, sizeof(o), &r), TD_WIRE_BAD_OPTION);
}

static void tcp_option_past_the_header_is_bad_option(void **state)
{
	(void)state;
	const uint8_t o[4] = {1, 8, 10, 0}; /* TS claims 10, 3 left */
	struct td_tcp_repr r;
	assert_int_equal(parse_with_opts(o, sizeof(o), &r), TD_WIRE_BAD_OPTION);
	const uint8_t o2[4] = {1, 1, 1, 2}; /* kind in the last byte, no length */
	assert_int_equal(parse_with_opts(o2, sizeof(o2), &r), TD_WIRE_BAD_OPTION);
}

static void tcp_shorter_than_20_is_truncated(void **state)
{
	(void)state;
	uint8_t d[19] = {0};
	struct td_tcp_view v;
	assert_int_equal(td_tcp_check(&v, d, sizeof(d), 0, TD_WIRE_SKIP_CSUM), TD_WIRE_TRUNCATED);
}

static void tcp_data_offset_below_5_or_past_segment_is_bad_hdr_len(void **state)
{
	(void)state;
	uint8_t d[40] = {0};
	struct td_tcp_view v;
	d[12] = 4 << 4;
	assert_int_equal(td_tcp_check(&v, d, sizeof(d), 0, TD_WIRE_SKIP_CSUM), TD_WIRE_BAD_HDR_LEN);
	d[12] = 11 << 4; /* 44 > 40 */
	assert_int_equal(td_tcp_check(&v, d, sizeof(d), 0, TD_WIRE_SKIP_CSUM), TD_WIRE_BAD_HDR_LEN);
	d[12] = 10 << 4;
	assert_int_equal(td_tcp_check(&v, d, sizeof(d), 0, TD_WIRE_SKIP_CSUM), TD_WIRE_OK);
}

static void tcp_flipped_payload_bit_is_bad_checksum(void **state)
{
	(void)state;
	uint32_t ps;
	struct td_bytes b = seg4("tcp4/6", &ps);
	uint8_t buf[64];
	memcpy(buf, b.ptr, b.len);
	buf[b.len - 1] ^= 0x20;
	struct td_tcp_view v;
	assert_int_equal(td_tcp_check(&v, buf, b.len, ps, 0), TD_WIRE_BAD_CHECKSUM);
	assert_int_equal(td_tcp_check(&v, buf, b.len, ps, TD_WIRE_SKIP_CSUM), TD_WIRE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp4_parse_kernel_syn_with_all_options),
		cmocka_unit_test(tcp4_parse_kernel_synack_and_data),
		cmocka_unit_test(tcp6_parse_kernel_syn_with_pseudo_header),
		cmocka_unit_test(tcp_option_walker_lists_kernel_syn_options_in_order),
		cmocka_unit_test(tcp_emit_reproduces_every_kernel_segment),
		cmocka_unit_test(tcp_parse_kernel_duplicate_acks_with_sack_blocks),
		cmocka_unit_test(tcp_sack_blocks_round_trip),
		cmocka_unit_test(tcp_options_too_many_for_aligned_layout_are_packed),
		cmocka_unit_test(tcp_unrepresentable_options_are_bad_size),
		cmocka_unit_test(tcp_unknown_and_wrong_length_options_are_skipped),
		cmocka_unit_test(tcp_second_sack_option_replaces_the_first_whole),
		cmocka_unit_test(tcp_header_full_of_nops_is_walked),
		cmocka_unit_test(tcp_option_length_zero_is_bad_option_not_a_loop),
		cmocka_unit_test(tcp_option_length_one_is_bad_option),
		cmocka_unit_test(tcp_option_past_the_header_is_bad_option),
		cmocka_unit_test(tcp_shorter_than_20_is_truncated),
		cmocka_unit_test(tcp_data_offset_below_5_or_past_segment_is_bad_hdr_len),
		cmocka_unit_test(tcp_flipped_payload_bit_is_bad_checksum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
