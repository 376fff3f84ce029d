/* Unit tests of the virtio-net header codec: headers the kernel wrote on a TUN device, round trips, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <tundra/wire.h>

#include "support_vectors.h"

static void vnet_parse_kernel_syn_with_checksum_offload(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("vnet_syn/1");
	struct td_vnet_repr r;
	size_t pkt_len = t->len - TD_VNET_HDR_LEN;
	assert_int_equal(td_vnet_parse(t->data, t->len, TD_VNET_HDR_LEN, pkt_len, &r), TD_WIRE_OK);
	assert_int_equal(r.flags, TD_VNET_F_NEEDS_CSUM);
	assert_int_equal(r.gso_type, TD_VNET_GSO_NONE);
	assert_int_equal(r.csum_start, 20);  /* the TCP header */
	assert_int_equal(r.csum_offset, 16); /* its checksum field */

	/* What NEEDS_CSUM means: sum from csum_start (the field holds the
	 * pseudo-header sum the kernel left there) and store the result; then
	 * the segment verifies like any other. */
	uint8_t pkt[64];
	memcpy(pkt, t->data + TD_VNET_HDR_LEN, pkt_len);
	assert_int_equal(td_vnet_csum_finish(&r, pkt, pkt_len), TD_WIRE_OK);
	struct td_ipv4_view ip;
	assert_int_equal(td_ipv4_check(&ip, pkt, pkt_len, 0), TD_WIRE_OK);
	struct td_bytes seg = td_ipv4_payload(&ip);
	uint32_t ps = td_csum_pseudo4(td_ipv4_src(&ip), td_ipv4_dst(&ip), TD_IPPROTO_TCP,
				      (uint16_t)seg.len);
	struct td_tcp_view tv;
	assert_int_equal(td_tcp_check(&tv, seg.ptr, seg.len, ps, 0), TD_WIRE_OK);
}

static void vnet_parse_kernel_tso_super_packet(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("vnet_gso/1");
	struct td_vnet_repr r;
	size_t pkt_len = t->len - TD_VNET_HDR_LEN;
	assert_int_equal(td_vnet_parse(t->data, t->len, TD_VNET_HDR_LEN, pkt_len, &r), TD_WIRE_OK);
	assert_int_equal(r.flags, TD_VNET_F_NEEDS_CSUM);
	assert_int_equal(r.gso_type, TD_VNET_GSO_TCPV4);
	assert_false(r.gso_ecn);
	assert_int_equal(r.hdr_len, 40);
	assert_int_equal(r.gso_size, 1460);
	assert_int_equal(r.csum_start, 20);
	assert_int_equal(r.csum_offset, 16);
	assert_int_equal(pkt_len, 7340);
	/* Re-emitting gives the kernel's bytes. */
	uint8_t out[TD_VNET_HDR_LEN];
	assert_int_equal(td_vnet_emit(&r, out, sizeof(out)), TD_WIRE_OK);
	assert_memory_equal(out, t->data, sizeof(out));
}

static void vnet_csum_finish_refuses_gso_and_short_packets(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("vnet_gso/1");
	struct td_vnet_repr r;
	uint8_t pkt[64] = {0};
	assert_int_equal(td_vnet_parse(t->data, t->len, TD_VNET_HDR_LEN, t->len - TD_VNET_HDR_LEN,
				       &r),
			 TD_WIRE_OK);
	assert_int_equal(td_vnet_csum_finish(&r, pkt, sizeof(pkt)), TD_WIRE_UNSUPPORTED);
	r.gso_type = TD_VNET_GSO_NONE;
	assert_int_equal(td_vnet_csum_finish(&r, pkt, 37), TD_WIRE_BAD_LENGTH);
	assert_int_equal(td_vnet_csum_finish(&r, pkt, 38), TD_WIRE_OK);
	r.flags = 0; /* nothing to do */
	assert_int_equal(td_vnet_csum_finish(&r, pkt, 0), TD_WIRE_OK);
}

static void vnet_twelve_byte_header_round_trips_num_buffers(void **state)
{
	(void)state;
	struct td_vnet_repr r = {.flags = TD_VNET_F_DATA_VALID, .gso_type = TD_VNET_GSO_TCPV6,
				 .gso_ecn = true, .hdr_len = 60, .gso_size = 1440,
				 .num_buffers = 3};
	struct td_vnet_repr back;
	uint8_t b[TD_VNET_HDR_MRG_LEN];
	assert_int_equal(td_vnet_emit(&r, b, sizeof(b)), TD_WIRE_OK);
	assert_int_equal(b[1], TD_VNET_GSO_TCPV6 | TD_VNET_GSO_ECN);
	assert_int_equal(b[10], 3); /* little-endian */
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 3000, &back), TD_WIRE_OK);
	assert_memory_equal(&back, &r, sizeof(r));
}

/* ---- malformed input ------------------------------------------------------ */

static void vnet_short_buffer_is_truncated(void **state)
{
	(void)state;
	const struct td_test_vector *t = td_test_vector("vnet_syn/1");
	struct td_vnet_repr r;
	assert_int_equal(td_vnet_parse(t->data, 9, TD_VNET_HDR_LEN, 60, &r), TD_WIRE_TRUNCATED);
	assert_int_equal(td_vnet_parse(t->data, 11, TD_VNET_HDR_MRG_LEN, 60, &r),
			 TD_WIRE_TRUNCATED);
}

static void vnet_gso_type_with_zero_gso_size_is_bad_length(void **state)
{
	(void)state;
	uint8_t b[10] = {0, TD_VNET_GSO_TCPV4, 40, 0, 0, 0};
	struct td_vnet_repr r;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 3000, &r), TD_WIRE_BAD_LENGTH);
}

static void vnet_checksum_field_past_the_packet_is_bad_length(void **state)
{
	(void)state;
	/* csum_start 20 + offset 16 + 2 = 38 > 37 bytes of packet. */
	uint8_t b[10] = {TD_VNET_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 20, 0, 16, 0};
	struct td_vnet_repr r;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 37, &r), TD_WIRE_BAD_LENGTH);
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 38, &r), TD_WIRE_OK);
	/* Without NEEDS_CSUM the offsets mean nothing. */
	b[0] = 0;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 10, &r), TD_WIRE_OK);
	/* hdr_len past the packet. */
	b[2] = 41;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 40, &r), TD_WIRE_BAD_LENGTH);
}

static void vnet_unknown_gso_type_or_flag_is_unsupported(void **state)
{
	(void)state;
	uint8_t b[10] = {0, 2, 0, 0, 0x10, 0};
	struct td_vnet_repr r;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 100, &r), TD_WIRE_UNSUPPORTED);
	b[1] = 0;
	b[0] = 0x08;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 100, &r), TD_WIRE_UNSUPPORTED);
	/* ECN only qualifies the TCP types. */
	b[0] = 0;
	b[1] = TD_VNET_GSO_UDP_L4 | TD_VNET_GSO_ECN;
	assert_int_equal(td_vnet_parse(b, sizeof(b), sizeof(b), 100, &r), TD_WIRE_UNSUPPORTED);
	/* No checksum field sits at an odd offset from its header. */
	const uint8_t odd[10] = {TD_VNET_F_NEEDS_CSUM, 0, 0, 0, 0, 0, 20, 0, 15, 0};
	assert_int_equal(td_vnet_parse(odd, sizeof(odd), sizeof(odd), 100, &r), TD_WIRE_UNSUPPORTED);
}

static void vnet_emit_wrong_size_or_refused_repr_is_bad_size(void **state)
{
	(void)state;
	struct td_vnet_repr r = {.gso_type = TD_VNET_GSO_UDP_L4};
	uint8_t b[12];
	struct td_vnet_repr ok = {0};
	assert_int_equal(td_vnet_emit(&ok, b, 11), TD_WIRE_BAD_SIZE);
	assert_int_equal(td_vnet_emit(&r, b, 10), TD_WIRE_BAD_SIZE); /* gso_size 0 */
	r.gso_type = 9;
	r.gso_size = 100;
	assert_int_equal(td_vnet_emit(&r, b, 10), TD_WIRE_BAD_SIZE);
	assert_int_equal(td_vnet_parse(b, sizeof(b), 11, 100, &ok), TD_WIRE_BAD_SIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vnet_parse_kernel_syn_with_checksum_offload),
		cmocka_unit_test(vnet_parse_kernel_tso_super_packet),
		cmocka_unit_test(vnet_csum_finish_refuses_gso_and_short_packets),
		cmocka_unit_test(vnet_twelve_byte_header_round_trips_num_buffers),
		cmocka_unit_test(vnet_short_buffer_is_truncated),
		cmocka_unit_test(vnet_gso_type_with_zero_gso_size_is_bad_length),
		cmocka_unit_test(vnet_checksum_field_past_the_packet_is_bad_length),
		cmocka_unit_test(vnet_unknown_gso_type_or_flag_is_unsupported),
		cmocka_unit_test(vnet_emit_wrong_size_or_refused_repr_is_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
