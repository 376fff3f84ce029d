/* Offloaded input through td_stack_input_vnet: partial checksums, GSO super-packets cut, lying headers counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "stack/stack_internal.h"
#include "tundra/stack.h"
#include "tundra/wire.h"

#define PEER 0x0a000001u
#define US 0x0a000002u
#define HS TD_VNET_HDR_LEN

static uint64_t now = 1000000000ull;
static uint8_t buf[70000];

static struct td_stack *mk(void)
{
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.wire_flags = 0; /* verify checksums even in a fuzzing build */
	c.icmp_err_burst = 50;
	struct td_stack *st;
	assert_int_equal(td_stack_create(&c, &st), 0);
	return st;
}

static uint64_t ctr(struct td_stack *st, enum td_stack_ctr c)
{
	return td_stack_stats(st)->ctr[c];
}

/* IPv4 + UDP (dport) or TCP (seq) with n payload bytes i*7+1; the transport
 * checksum holds only the pseudo-header sum, as Linux leaves it for
 * NEEDS_CSUM. Returns the packet length (after the header space). */
static size_t mk_pkt(uint8_t proto, size_t n, uint8_t tcp_flags)
{
	uint8_t *p = buf + HS;
	size_t l4hl = proto == TD_IPPROTO_TCP ? 20 : 8;
	size_t len = 20 + l4hl + n;
	memset(p, 0, 20 + l4hl);
	p[0] = 0x45;
	td_put_be16(p + 2, (uint16_t)len);
	td_put_be16(p + 4, 0x1234);
	p[8] = 64;
	p[9] = proto;
	td_put_be32(p + 12, PEER);
	td_put_be32(p + 16, US);
	td_put_be16(p + 10, td_csum(p, 20));
	uint8_t *l4 = p + 20;
	td_put_be16(l4, 40000);
	td_put_be16(l4 + 2, proto == TD_IPPROTO_TCP ? 5555 : 7);
	if (proto == TD_IPPROTO_TCP) {
		td_put_be32(l4 + 4, 0xfffff000u); /* wraps inside the super-packet */
		l4[12] = 5 << 4;
		l4[13] = tcp_flags;
		td_put_be16(l4 + 14, 65535);
	} else {
		td_put_be16(l4 + 4, (uint16_t)(l4hl + n));
	}
	for (size_t i = 0; i < n; i++)
		l4[l4hl + i] = (uint8_t)(i * 7 + 1);
	uint16_t field = proto == TD_IPPROTO_TCP ? 16 : 6;
	uint32_t ps = td_csum_pseudo4(PEER, US, proto, (uint16_t)(l4hl + n));
	/* fold the pseudo-header sum, not complemented (what the kernel stores) */
	uint16_t folded = (uint16_t)~td_csum_finish(ps);
	td_put_be16(l4 + field, folded);
	return len;
}

static void put_hdr(uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t cs_start,
		    uint16_t cs_off)
{
	memset(buf, 0, HS);
	buf[0] = flags;
	buf[1] = gso_type;
	buf[2] = 48;
	buf[4] = (uint8_t)gso_size;
	buf[5] = (uint8_t)(gso_size >> 8);
	buf[6] = (uint8_t)cs_start;
	buf[7] = (uint8_t)(cs_start >> 8);
	buf[8] = (uint8_t)cs_off;
	buf[9] = (uint8_t)(cs_off >> 8);
}

static void vnet_partial_checksum_accepted_unverified_but_not_on_plain_path(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	size_t len = mk_pkt(TD_IPPROTO_UDP, 100, 0);
	/* plain input: the partial checksum is wrong, so the datagram is dropped */
	td_stack_input(st, now, buf + HS, len);
	size_t olen;
	assert_null(td_stack_output_peek(st, now, &olen));
	assert_int_equal(ctr(st, TD_CTR_udp_echo), 0);
	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_NONE, 0, 20, 6);
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_csum_partial), 1);
	assert_int_equal(ctr(st, TD_CTR_udp_echo), 1);
	assert_non_null(td_stack_output_peek(st, now, &olen));
	assert_int_equal(olen, len);
	td_stack_destroy(st);
}

static void vnet_uso_super_packet_echoed_as_each_datagram(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	size_t n = 2500, seg = 1000;
	size_t len = mk_pkt(TD_IPPROTO_UDP, n, 0);
	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_UDP_L4, (uint16_t)seg, 20, 6);
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_gso_rx), 1);
	assert_int_equal(ctr(st, TD_CTR_vnet_gso_segs), 3);
	assert_int_equal(ctr(st, TD_CTR_udp_echo), 3);
	for (size_t k = 0; k < 3; k++) {
		size_t olen;
		const uint8_t *o = td_stack_output_peek(st, now, &olen);
		assert_non_null(o);
		size_t want = k < 2 ? seg : n - 2 * seg;
		assert_int_equal(olen, 28 + want);
		/* the echo carries exactly this slice of the super-packet */
		for (size_t i = 0; i < want; i++)
			assert_int_equal(o[28 + i], (uint8_t)((k * seg + i) * 7 + 1));
		td_stack_output_pop(st);
	}
	td_stack_destroy(st);
}

/* No TCP registered: each segment earns an ICMP protocol unreachable that
 * quotes its IP header and first 8 TCP bytes (ports and sequence number). */
static void vnet_tso_super_packet_cut_with_lengths_ids_and_sequence(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	size_t n = 4000, mss = 1448;
	size_t len = mk_pkt(TD_IPPROTO_TCP, n, TD_TCP_ACK | TD_TCP_PSH | TD_TCP_FIN);
	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_TCPV4, (uint16_t)mss, 20, 16);
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_gso_segs), 3);
	assert_int_equal(ctr(st, TD_CTR_rx_ip4), 3);
	for (uint32_t k = 0; k < 3; k++) {
		size_t olen;
		const uint8_t *o = td_stack_output_peek(st, now, &olen);
		assert_non_null(o);
		const uint8_t *q = o + 28; /* quoted datagram */
		size_t want = k < 2 ? mss : n - 2 * mss;
		assert_int_equal(td_get_be16(q + 2), 40 + want);
		assert_int_equal(td_get_be16(q + 4), 0x1234 + k);
		assert_int_equal(td_csum(q, 20), 0); /* IP header checksum redone */
		assert_int_equal(td_get_be32(q + 24), 0xfffff000u + k * mss);
		td_stack_output_pop(st);
	}
	td_stack_destroy(st);
}

static void vnet_lying_headers_dropped_and_counted(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	size_t len = mk_pkt(TD_IPPROTO_TCP, 3000, TD_TCP_ACK);
	size_t olen;

	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_TCPV4, 0, 20, 16); /* gso_size 0 */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_gso_size), 1);

	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_TCPV4, 4000, 20, 16); /* larger than the packet */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_gso_size), 2);

	put_hdr(TD_VNET_F_NEEDS_CSUM, 7, 1000, 20, 16); /* unknown gso_type */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_gso_type), 1);

	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_TCPV6, 1000, 20, 16); /* v6 type, v4 packet */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_gso_type), 2);

	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_UDP_L4, 1000, 20, 6); /* USO on TCP */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_gso_type), 3);

	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_NONE, 0, (uint16_t)len, 16); /* past the end */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_csum_off), 1);

	put_hdr(TD_VNET_F_NEEDS_CSUM, TD_VNET_GSO_TCPV4, 1000, 20, 6); /* not TCP's checksum */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_csum_off), 2);

	put_hdr(0x80, TD_VNET_GSO_NONE, 0, 0, 0); /* unknown flag */
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	td_stack_input_vnet(st, now, buf, HS - 1, HS); /* truncated header */
	assert_int_equal(ctr(st, TD_CTR_vnet_bad_hdr), 2);

	/* nothing reached the IP layer, nothing was sent */
	assert_int_equal(ctr(st, TD_CTR_rx_packets), 0);
	assert_null(td_stack_output_peek(st, now, &olen));
	td_stack_destroy(st);
}

static void vnet_plain_header_passes_packet_through(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	size_t len = mk_pkt(TD_IPPROTO_UDP, 64, 0);
	uint8_t *l4 = buf + HS + 20;
	td_put_be16(l4 + 6, 0);
	td_put_be16(l4 + 6, td_csum_finish(td_csum_add(
				    td_csum_pseudo4(PEER, US, TD_IPPROTO_UDP, (uint16_t)(len - 20)), l4,
				    len - 20)));
	put_hdr(0, TD_VNET_GSO_NONE, 0, 0, 0);
	td_stack_input_vnet(st, now, buf, HS + len, HS);
	assert_int_equal(ctr(st, TD_CTR_udp_echo), 1);
	assert_int_equal(ctr(st, TD_CTR_vnet_csum_partial), 0);
	td_stack_destroy(st);
}

/* Queue one TCP segment from us to the peer through the IP layer. */
static void out_seg(struct td_stack *st, uint32_t seq, size_t n, uint8_t flags)
{
	uint8_t seg[20 + 1500];
	memset(seg, 0, 20);
	td_put_be16(seg, 80);
	td_put_be16(seg + 2, 40000);
	td_put_be32(seg + 4, seq);
	td_put_be32(seg + 8, 777);
	seg[12] = 5 << 4;
	seg[13] = flags;
	td_put_be16(seg + 14, 512);
	for (size_t i = 0; i < n; i++)
		seg[20 + i] = (uint8_t)(seq + i);
	uint32_t ps = td_csum_pseudo4(US, PEER, TD_IPPROTO_TCP, (uint16_t)(20 + n));
	td_put_be16(seg + 16, td_csum_finish(td_csum_add(ps, seg, 20 + n)));
	struct td_ip_pair ip = {.family = TD_AF_INET};
	ip.v4.src = US;
	ip.v4.dst = PEER;
	struct td_ip_tx tx = {.df = true};
	assert_int_equal(td_stack_ip_send(st, now, &ip, TD_IPPROTO_TCP, &tx, seg, 20 + n), 0);
}

static void vnet_output_run_of_segments_merged_into_one_tso_packet(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	static uint8_t out[HS + 65535];
	size_t len;
	out_seg(st, 1000, 1460, TD_TCP_ACK);
	out_seg(st, 2460, 1460, TD_TCP_ACK);
	out_seg(st, 3920, 100, TD_TCP_ACK | TD_TCP_PSH);
	out_seg(st, 4020, 1460, TD_TCP_ACK); /* after PSH: a new run */
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 3);
	assert_int_equal(len, HS + 40 + 3020);
	struct td_vnet_repr vr;
	assert_int_equal(td_vnet_parse(out, len, HS, len - HS, &vr), TD_WIRE_OK);
	assert_int_equal(vr.gso_type, TD_VNET_GSO_TCPV4);
	assert_int_equal(vr.gso_size, 1460);
	assert_int_equal(vr.flags, TD_VNET_F_NEEDS_CSUM);
	assert_int_equal(vr.csum_start, 20);
	assert_int_equal(vr.csum_offset, 16);
	const uint8_t *p = out + HS;
	assert_int_equal(td_get_be16(p + 2), 40 + 3020);
	assert_int_equal(td_csum(p, 20), 0);
	assert_int_equal(td_get_be32(p + 24), 1000);
	assert_int_equal(p[33], TD_TCP_ACK | TD_TCP_PSH); /* the last segment's flags */
	for (size_t i = 0; i < 3020; i++)
		assert_int_equal(p[40 + i], (uint8_t)(1000 + i));
	/* completing the partial checksum gives a valid segment */
	static uint8_t cp[65535];
	memcpy(cp, p, len - HS);
	vr.gso_type = TD_VNET_GSO_NONE;
	assert_int_equal(td_vnet_csum_finish(&vr, cp, len - HS), TD_WIRE_OK);
	uint32_t ps = td_csum_pseudo4(US, PEER, TD_IPPROTO_TCP, 20 + 3020);
	assert_int_equal(td_csum_finish(td_csum_add(ps, cp + 20, 20 + 3020)), 0);
	/* the fourth stands alone: written plainly */
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 1);
	td_stack_output_pop(st);
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 0);
	assert_int_equal(ctr(st, TD_CTR_vnet_gso_tx_segs), 3);
	struct td_stack_pool_usage u;
	td_stack_pool_usage(st, &u);
	assert_int_equal(u.pkt_slots, 0);
	td_stack_destroy(st);
}

static void vnet_output_gap_or_short_segment_or_syn_not_merged(void **state)
{
	(void)state;
	struct td_stack *st = mk();
	static uint8_t out[HS + 65535];
	size_t len;
	out_seg(st, 1000, 1460, TD_TCP_ACK);
	out_seg(st, 9999, 1460, TD_TCP_ACK); /* sequence gap */
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 1);
	td_stack_output_pop(st);
	out_seg(st, 11459, 1460, TD_TCP_ACK);
	/* 9999 + 11459 merge: contiguous */
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 2);
	out_seg(st, 1, 500, TD_TCP_ACK);
	out_seg(st, 501, 500, TD_TCP_ACK); /* equal sizes: fine */
	out_seg(st, 1001, 600, TD_TCP_ACK); /* bigger than gso_size: ends the run */
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 2);
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 1);
	td_stack_output_pop(st);
	out_seg(st, 5000, 0, TD_TCP_SYN);
	out_seg(st, 5001, 1460, TD_TCP_ACK);
	assert_int_equal(td_stack_output_gso(st, now, out, sizeof(out), HS, &len), 1);
	td_stack_output_pop(st);
	td_stack_output_pop(st);
	td_stack_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vnet_partial_checksum_accepted_unverified_but_not_on_plain_path),
		cmocka_unit_test(vnet_uso_super_packet_echoed_as_each_datagram),
		cmocka_unit_test(vnet_tso_super_packet_cut_with_lengths_ids_and_sequence),
		cmocka_unit_test(vnet_lying_headers_dropped_and_counted),
		cmocka_unit_test(vnet_plain_header_passes_packet_through),
		cmocka_unit_test(vnet_output_run_of_segments_merged_into_one_tso_packet),
		cmocka_unit_test(vnet_output_gap_or_short_segment_or_syn_not_merged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
