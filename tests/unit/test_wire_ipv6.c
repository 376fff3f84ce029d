/* Unit tests of the IPv6 codec: kernel packets, the bounded extension walk, fragments, one malformed input per error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tundra/wire.h>

#include "support_vectors.h"

static const uint8_t A1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t A2[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* A packet with a fixed header naming first_nh and payload_len bytes of
 * zeroed payload the caller fills. Returns the total length. */
static size_t mk6(uint8_t *buf, uint8_t first_nh, uint16_t payload_len)
{
	struct td_ipv6_repr r = {.payload_len = payload_len, .next_header = first_nh,
				 .hop_limit = 64};
	memcpy(r.src, A1, 16);
	memcpy(r.dst, A2, 16);
	memset(buf, 0, TD_IPV6_HDR_LEN + (size_t)payload_len);
	assert_int_equal(td_ipv6_emit(&r, buf, TD_IPV6_HDR_LEN), TD_WIRE_OK);
	return TD_IPV6_HDR_LEN + (size_t)payload_len;
}

/* An options-style extension header (hop-by-hop, routing, destination) of
 * 8*(units+1) bytes at p; its body is PadN/zero, a valid options area. */
static size_t ext(uint8_t *p, uint8_t nh, uint8_t units)
{
	p[0] = nh;
	p[1] = units;
	p[2] = 1; /* PadN */
	p[3] = (uint8_t)(8 * (units + 1) - 4);
	return 8 * ((size_t)units + 1);
}

static void ipv6_parse_kernel_echo_request(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("ping6/1");
	struct td_ipv6_view v;
	struct td_ipv6_repr r;
	assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	td_ipv6_parse(&v, &r);
	assert_int_equal(r.flow, 0x00624a);
	assert_int_equal(r.tclass, 0);
	assert_int_equal(r.hop_limit, 64);
	assert_int_equal(r.payload_len, 64);
	assert_int_equal(r.next_header, TD_IPPROTO_ICMPV6);
	assert_int_equal(r.upper_proto, TD_IPPROTO_ICMPV6);
	assert_int_equal(r.ext_len, 0);
	assert_false(r.has_frag);
	assert_memory_equal(r.src, A1, 16);
	assert_memory_equal(r.dst, A2, 16);
	assert_int_equal(v.upper_off, 40);
	assert_int_equal(td_ipv6_upper(&v).len, 64);
}

static void ipv6_parse_kernel_fragment_headers(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint16_t off;
		bool more;
		uint16_t plen;
	} want[] = {{"frag/7", 0, true, 1456}, {"frag/8", 1448, true, 1456},
		    {"frag/9", 2896, false, 120}};
	for (size_t i = 0; i < 3; i++) {
		const struct td_test_vector *t = td_test_vector(want[i].name);
		struct td_ipv6_view v;
		struct td_ipv6_repr r;
		assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_OK);
		td_ipv6_parse(&v, &r);
		assert_int_equal(r.payload_len, want[i].plen);
		assert_int_equal(r.next_header, TD_IPPROTO_FRAGMENT);
		assert_true(r.has_frag);
		assert_int_equal(r.frag.ident, 0x5d6c2eed);
		assert_int_equal(r.frag.offset, want[i].off);
		assert_int_equal(r.frag.more, want[i].more);
		assert_int_equal(r.upper_proto, TD_IPPROTO_ICMPV6);
		assert_int_equal(v.upper_off, 48);
		assert_int_equal(v.frag_hdr_off, 40);
		assert_int_equal(v.unfrag_len, 40);
		assert_int_equal(v.frag_prev_nh_off, 6);
	}
}

static void ipv6_parse_kernel_mld_report_with_hop_by_hop_header(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("mld/1");
	struct td_ipv6_view v;
	struct td_ipv6_repr r;
	assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	td_ipv6_parse(&v, &r);
	assert_int_equal(r.next_header, TD_IPPROTO_HOPOPTS);
	assert_int_equal(r.hop_limit, 1);
	assert_int_equal(r.payload_len, 56);
	assert_int_equal(r.ext_len, 8);
	assert_int_equal(r.upper_proto, TD_IPPROTO_ICMPV6);
	assert_int_equal(v.upper_off, 48);
	struct td_ipv6_ext e = {0};
	assert_true(td_ipv6_ext_next(&v, &e));
	assert_int_equal(e.type, TD_IPPROTO_HOPOPTS);
	assert_int_equal(e.len, 8);
	/* Router Alert (MLD, value 0) then PadN of 0 bytes, as tshark shows. */
	struct td_ipv6_opt o;
	enum td_wire_err err;
	size_t off = 0;
	assert_true(td_ipv6_opt_next(&v, &e, &off, &o, &err));
	assert_int_equal(o.type, 5);
	assert_int_equal(o.len, 2);
	assert_int_equal(td_get_be16(o.data.ptr), 0);
	assert_true(td_ipv6_opt_next(&v, &e, &off, &o, &err));
	assert_int_equal(o.type, 1);
	assert_int_equal(o.len, 0);
	assert_false(td_ipv6_opt_next(&v, &e, &off, &o, &err));
	assert_int_equal(err, TD_WIRE_OK);
	assert_false(td_ipv6_ext_next(&v, &e));
	/* The ICMPv6 checksum (0xec18, tshark: correct) verifies over the
	 * upper-layer bytes only, after the extension header. */
	struct td_bytes up = td_ipv6_upper(&v);
	struct td_icmp_repr ic;
	assert_int_equal(td_icmp6_parse(up.ptr, up.len, r.src, r.dst, 0, &ic), TD_WIRE_OK);
	assert_int_equal(ic.type, 143);
	assert_int_equal(td_get_be16(up.ptr + 2), 0xec18);
}

static void ipv6_emit_reproduces_kernel_header_and_fragment_header(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("frag/8");
	struct td_ipv6_view v;
	struct td_ipv6_repr r;
	uint8_t out[48];
	assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_OK);
	td_ipv6_parse(&v, &r);
	assert_int_equal(td_ipv6_emit(&r, out, 40), TD_WIRE_OK);
	assert_int_equal(td_ipv6_frag_emit(t->data[40], &r.frag, out + 40, 8), TD_WIRE_OK);
	assert_memory_equal(out, t->data, 48);
}

static void ipv6_walks_hopopts_dstopts_routing_to_the_upper_layer(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t len = mk6(buf, TD_IPPROTO_HOPOPTS, 8 + 16 + 24 + 8 + 8);
	size_t off = 40;
	off += ext(buf + off, TD_IPPROTO_DSTOPTS, 0);
	off += ext(buf + off, TD_IPPROTO_ROUTING, 1);
	off += ext(buf + off, TD_IPPROTO_FRAGMENT, 2);
	uint8_t *f = buf + off; /* atomic fragment: offset 0, M 0 */
	f[0] = TD_IPPROTO_UDP;
	td_put_be32(f + 4, 0xabcdef01);
	size_t frag_off = off;
	off += 8;

	struct td_ipv6_view v;
	struct td_ipv6_repr r;
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_OK);
	td_ipv6_parse(&v, &r);
	assert_int_equal(v.upper_off, off);
	assert_int_equal(v.upper_proto, TD_IPPROTO_UDP);
	assert_int_equal(r.ext_len, off - 40);
	assert_true(v.has_frag);
	assert_int_equal(v.frag_hdr_off, frag_off);
	assert_int_equal(v.frag_prev_nh_off, frag_off - 24);
	assert_int_equal(r.frag.ident, 0xabcdef01);
	assert_int_equal(td_ipv6_upper(&v).len, 8);

	/* The iterator replays the chain. */
	static const uint8_t types[4] = {TD_IPPROTO_HOPOPTS, TD_IPPROTO_DSTOPTS,
					 TD_IPPROTO_ROUTING, TD_IPPROTO_FRAGMENT};
	static const uint16_t lens[4] = {8, 16, 24, 8};
	struct td_ipv6_ext e = {0};
	unsigned n = 0;
	while (td_ipv6_ext_next(&v, &e)) {
		assert_true(n < 4);
		assert_int_equal(e.type, types[n]);
		assert_int_equal(e.len, lens[n]);
		assert_int_equal(e.next_header, n < 3 ? types[n + 1] : TD_IPPROTO_UDP);
		n++;
	}
	assert_int_equal(n, 4);
}

static void ipv6_no_next_header_ends_the_walk(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = mk6(buf, TD_IPPROTO_DSTOPTS, 16);
	ext(buf + 40, TD_IPPROTO_NONE, 0);
	struct td_ipv6_view v;
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_OK);
	assert_int_equal(v.upper_proto, TD_IPPROTO_NONE);
	assert_int_equal(v.upper_off, 48);
}

static void ipv6_later_fragment_stops_the_walk_at_its_data(void **state)
{
	(void)state;
	/* Offset 8, the data after the fragment header looks like a routing
	 * header but belongs to the reassembled payload. */
	uint8_t buf[64];
	size_t len = mk6(buf, TD_IPPROTO_FRAGMENT, 8 + 16);
	buf[40] = TD_IPPROTO_ROUTING;
	td_put_be16(buf + 42, 8);
	buf[49] = 200; /* would run past the packet if walked */
	struct td_ipv6_view v;
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_OK);
	assert_int_equal(v.upper_off, 48);
	assert_int_equal(v.upper_proto, TD_IPPROTO_ROUTING);
}

/* ---- one malformed input per error value -------------------------------- */

static void ipv6_short_packet_or_short_extension_is_truncated(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("ping6/1");
	struct td_ipv6_view v;
	assert_int_equal(td_ipv6_check(&v, t->data, 39, 0), TD_WIRE_TRUNCATED);
	assert_int_equal(td_ipv6_check(&v, t->data, t->len - 1, 0), TD_WIRE_TRUNCATED);

	uint8_t buf[64];
	size_t len = mk6(buf, TD_IPPROTO_DSTOPTS, 16);
	ext(buf + 40, TD_IPPROTO_UDP, 2); /* claims 24 bytes, 16 present */
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_TRUNCATED);
	len = mk6(buf, TD_IPPROTO_DSTOPTS, 4); /* not even the 8-byte minimum */
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_TRUNCATED);
}

static void ipv6_version_4_is_bad_version(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("tcp4/1");
	struct td_ipv6_view v;
	assert_int_equal(td_ipv6_check(&v, t->data, t->len, 0), TD_WIRE_BAD_VERSION);
}

static void ipv6_nine_extension_headers_is_ext_limit(void **state)
{
	(void)state;
	uint8_t buf[40 + 8 * 10];
	struct td_ipv6_view v;
	for (unsigned n = TD_IPV6_EXT_MAX_COUNT; n <= TD_IPV6_EXT_MAX_COUNT + 1; n++) {
		size_t len = mk6(buf, TD_IPPROTO_DSTOPTS, (uint16_t)(8 * n + 8));
		for (unsigned i = 0; i < n; i++)
			ext(buf + 40 + 8 * i, i + 1 < n ? TD_IPPROTO_DSTOPTS : TD_IPPROTO_UDP, 0);
		assert_int_equal(td_ipv6_check(&v, buf, len, 0),
				 n <= TD_IPV6_EXT_MAX_COUNT ? TD_WIRE_OK : TD_WIRE_EXT_LIMIT);
	}
}

static void ipv6_extension_bytes_past_1024_is_ext_limit(void **state)
{
	(void)state;
	static uint8_t buf[40 + 2048 + 8];
	struct td_ipv6_view v;
	/* Five 256-byte destination headers: 1280 bytes > 1024. */
	size_t len = mk6(buf, TD_IPPROTO_DSTOPTS, 5 * 256 + 8);
	for (unsigned i = 0; i < 5; i++)
		ext(buf + 40 + 256 * i, i < 4 ? TD_IPPROTO_DSTOPTS : TD_IPPROTO_UDP, 31);
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_EXT_LIMIT);
	/* Four of them (1024 bytes) are within the bound. */
	len = mk6(buf, TD_IPPROTO_DSTOPTS, 4 * 256 + 8);
	for (unsigned i = 0; i < 4; i++)
		ext(buf + 40 + 256 * i, i < 3 ? TD_IPPROTO_DSTOPTS : TD_IPPROTO_UDP, 31);
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_OK);
	assert_int_equal(v.upper_off, 40 + 1024);
}

static void ipv6_inconsistent_fragment_is_bad_fragment(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct td_ipv6_view v;
	/* M set with 12 data bytes (not a multiple of 8). */
	size_t len = mk6(buf, TD_IPPROTO_FRAGMENT, 8 + 12);
	buf[40] = TD_IPPROTO_UDP;
	td_put_be16(buf + 42, 1);
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_BAD_FRAGMENT);
	/* Offset 65528 with 16 data bytes ends past 65535. */
	len = mk6(buf, TD_IPPROTO_FRAGMENT, 8 + 16);
	buf[40] = TD_IPPROTO_UDP;
	td_put_be16(buf + 42, 65528);
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_BAD_FRAGMENT);
	/* Two fragment headers. */
	len = mk6(buf, TD_IPPROTO_FRAGMENT, 16 + 8);
	buf[40] = TD_IPPROTO_FRAGMENT;
	buf[48] = TD_IPPROTO_UDP;
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_BAD_FRAGMENT);
}

static void ipv6_hop_by_hop_after_another_header_is_unsupported(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct td_ipv6_view v;
	size_t len = mk6(buf, TD_IPPROTO_DSTOPTS, 16 + 8);
	ext(buf + 40, TD_IPPROTO_HOPOPTS, 0);
	ext(buf + 48, TD_IPPROTO_UDP, 0);
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_UNSUPPORTED);
	/* First, it is fine. */
	len = mk6(buf, TD_IPPROTO_HOPOPTS, 16 + 8);
	ext(buf + 40, TD_IPPROTO_DSTOPTS, 0);
	ext(buf + 48, TD_IPPROTO_UDP, 0);
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_OK);
}

static void ipv6_option_past_its_header_is_bad_option(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t len = mk6(buf, TD_IPPROTO_DSTOPTS, 8);
	buf[40] = TD_IPPROTO_NONE;
	buf[41] = 0;
	buf[42] = 0;    /* Pad1 */
	buf[43] = 0x1e; /* experimental type... */
	buf[44] = 4;    /* ...claiming 4 bytes, 2 left */
	struct td_ipv6_view v;
	assert_int_equal(td_ipv6_check(&v, buf, len, 0), TD_WIRE_OK);
	struct td_ipv6_ext e = {0};
	assert_true(td_ipv6_ext_next(&v, &e));
	struct td_ipv6_opt o;
	enum td_wire_err err;
	size_t off = 0;
	assert_true(td_ipv6_opt_next(&v, &e, &off, &o, &err));
	assert_int_equal(o.type, 0);
	assert_false(td_ipv6_opt_next(&v, &e, &off, &o, &err));
	assert_int_equal(err, TD_WIRE_BAD_OPTION);
}

static void ipv6_emit_bad_length_or_flow_is_bad_size(void **state)
{
	(void)state;
	struct td_ipv6_repr r = {.hop_limit = 1};
	struct td_ipv6_frag f = {.offset = 9};
	uint8_t buf[48];
	assert_int_equal(td_ipv6_emit(&r, buf, 39), TD_WIRE_BAD_SIZE);
	r.flow = 0x100000;
	assert_int_equal(td_ipv6_emit(&r, buf, 40), TD_WIRE_BAD_SIZE);
	assert_int_equal(td_ipv6_frag_emit(TD_IPPROTO_UDP, &f, buf, 8), TD_WIRE_BAD_SIZE);
	f.offset = 8;
	assert_int_equal(td_ipv6_frag_emit(TD_IPPROTO_UDP, &f, buf, 7), TD_WIRE_BAD_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv6_parse_kernel_echo_request),
		cmocka_unit_test(ipv6_parse_kernel_fragment_headers),
		cmocka_unit_test(ipv6_parse_kernel_mld_report_with_hop_by_hop_header),
		cmocka_unit_test(ipv6_emit_reproduces_kernel_header_and_fragment_header),
		cmocka_unit_test(ipv6_walks_hopopts_dstopts_routing_to_the_upper_layer),
		cmocka_unit_test(ipv6_no_next_header_ends_the_walk),
		cmocka_unit_test(ipv6_later_fragment_stops_the_walk_at_its_data),
		cmocka_unit_test(ipv6_short_packet_or_short_extension_is_truncated),
		cmocka_unit_test(ipv6_version_4_is_bad_version),
		cmocka_unit_test(ipv6_nine_extension_headers_is_ext_limit),
		cmocka_unit_test(ipv6_extension_bytes_past_1024_is_ext_limit),
		cmocka_unit_test(ipv6_inconsistent_fragment_is_bad_fragment),
		cmocka_unit_test(ipv6_hop_by_hop_after_another_header_is_unsupported),
		cmocka_unit_test(ipv6_option_past_its_header_is_bad_option),
		cmocka_unit_test(ipv6_emit_bad_length_or_flow_is_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
