/* Offloaded input through td_stack_input_vnet (partial checksums, GSO super-packets cut, lying headers counted) and offloaded output read back through it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "stack/stack_internal.h"
#include "tundra/stack.h"
#include "tundra/tcp.h"
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

/* ---- offloaded output, read back as the kernel reads it ------------------------ */

/*
 * Two stacks back to back: A (10.0.0.2, TX offloads with TSO, as `tundra
 * stack --offload=on`) writes every packet behind the virtio-net header it
 * wrote, as the loop does; B (10.0.0.1) plays the kernel and takes each
 * write through td_stack_input_vnet, which cuts a super-segment into its
 * segments as Linux's GSO does. B's replies go back plainly.
 */
/* A write on its way: delivered DELAY after it was made (a link with a
 * round trip, so that RACK's timing sees one). */
struct flight {
	struct flight *next;
	uint64_t due;
	bool vnet;
	size_t len;
	uint8_t b[];
};

#define DELAY 2000000ull /* 2 ms each way */

struct pair {
	struct td_stack *a, *b;
	struct td_tcp *ta, *tb;
	struct td_tcp_sock *lst, *cs, *ss;
	struct flight *to_b, *to_a; /* FIFOs, oldest first */
	unsigned gso_writes;   /* A's writes that were super-segments */
	unsigned drop_gso;     /* drop A's super-segment write number drop_gso (1-based; 0: none) */
	unsigned gso_rtx;      /* super-segments that started below what A had already sent */
	uint32_t sent_end;     /* highest sequence number A sent data up to */
	bool sent_any;
};

static void fly(struct flight **q, const uint8_t *b, size_t len, bool vnet)
{
	struct flight *f = test_malloc(sizeof(*f) + len);
	f->next = NULL;
	f->due = now + DELAY;
	f->vnet = vnet;
	f->len = len;
	memcpy(f->b, b, len);
	while (*q)
		q = &(*q)->next;
	*q = f;
}

static bool land(struct flight **q, struct td_stack *to)
{
	bool any = false;
	struct flight *f;
	while ((f = *q) && f->due <= now) {
		*q = f->next;
		if (f->vnet)
			td_stack_input_vnet(to, now, f->b, f->len, HS);
		else
			td_stack_input(to, now, f->b, f->len);
		test_free(f);
		any = true;
	}
	return any;
}

static void pair_shuttle(struct pair *p)
{
	const uint8_t *q;
	size_t len;
	bool moved = true;
	while (moved) {
		moved = false;
		while ((q = td_stack_output_peek_vnet(p->a, now, HS, &len))) {
			struct td_vnet_repr vr;
			assert_int_equal(td_vnet_parse(q, len, HS, len - HS, &vr), TD_WIRE_OK);
			const uint8_t *ip = q + HS;
			assert_int_equal(ip[9], TD_IPPROTO_TCP);
			size_t hl = 20 + (size_t)(ip[32] >> 4) * 4;
			uint32_t seq = td_get_be32(ip + 24), pay = (uint32_t)(len - HS - hl);
			bool drop = false;
			if (vr.gso_type != TD_VNET_GSO_NONE) {
				assert_int_equal(vr.gso_type, TD_VNET_GSO_TCPV4);
				assert_int_equal(vr.hdr_len, hl);
				assert_true(pay > vr.gso_size);
				drop = ++p->gso_writes == p->drop_gso;
				if (p->sent_any && (int32_t)(seq - p->sent_end) < 0)
					p->gso_rtx++;
			}
			if (pay && (!p->sent_any || (int32_t)(seq + pay - p->sent_end) > 0)) {
				p->sent_end = seq + pay;
				p->sent_any = true;
			}
			if (!drop)
				fly(&p->to_b, q, len, true);
			td_stack_output_pop(p->a);
		}
		while ((q = td_stack_output_peek(p->b, now, &len))) {
			fly(&p->to_a, q, len, false);
			td_stack_output_pop(p->b);
		}
		moved = land(&p->to_b, p->b) | land(&p->to_a, p->a);
	}
}

static void pair_open(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.has_addr6 = false;
	assert_int_equal(td_stack_create(&c, &p->a), 0);
	assert_int_equal(td_stack_set_tx_offload(p->a, TD_STACK_TX_CSUM | TD_STACK_TX_TSO4), 0);
	c.addr4 = PEER;
	assert_int_equal(td_stack_create(&c, &p->b), 0);
	struct td_tcp_config tc;
	td_tcp_config_default(&tc);
	tc.max_socks = 8;
	tc.key[0] = 1;
	assert_int_equal(td_tcp_attach(p->a, &tc, &p->ta), 0);
	tc.key[0] = 2;
	assert_int_equal(td_tcp_attach(p->b, &tc, &p->tb), 0);
	assert_int_equal(td_tcp_socket(p->tb, 4, &p->lst), 0);
	struct td_tcp_endpoint bep = {.family = 4, .addr = {10, 0, 0, 1}, .port = 5001};
	assert_int_equal(td_tcp_bind(p->lst, &bep), 0);
	assert_int_equal(td_tcp_listen(p->lst, 4), 0);
	assert_int_equal(td_tcp_socket(p->ta, 4, &p->cs), 0);
	struct td_tcp_endpoint aep = {.family = 4, .addr = {10, 0, 0, 2}, .port = 0};
	assert_int_equal(td_tcp_bind(p->cs, &aep), 0);
	assert_int_equal(td_tcp_connect(p->cs, &bep, now), 0);
	for (int ms = 0; ms < 10; ms++) {
		pair_shuttle(p);
		now += 1000000;
	}
	assert_int_equal(td_tcp_accept(p->lst, &p->ss), 0);
}

/* Stream n bytes from A to B, 1 ms of virtual time per round; returns how
 * many B read, compared byte for byte with what A sent. */
static size_t pair_stream(struct pair *p, size_t n)
{
	static uint8_t pat[1 << 20], got[1 << 20];
	assert_true(n <= sizeof(pat));
	for (size_t i = 0; i < n; i++)
		pat[i] = (uint8_t)(i * 7 + (i >> 12));
	size_t sent = 0, recvd = 0;
	for (int round = 0; round < 20000 && recvd < n; round++) {
		if (sent < n) {
			ssize_t k = td_tcp_send(p->cs, pat + sent, n - sent, now);
			if (k > 0)
				sent += (size_t)k;
		}
		pair_shuttle(p);
		ssize_t k;
		while ((k = td_tcp_recv(p->ss, got + recvd, n - recvd, now)) > 0)
			recvd += (size_t)k;
		pair_shuttle(p);
		now += 1000000;
		td_stack_poll(p->a, now);
		td_stack_poll(p->b, now);
	}
	assert_memory_equal(got, pat, recvd);
	return recvd;
}

static void pair_close(struct pair *p)
{
	struct td_stack_pool_usage u;
	td_stack_pool_usage(p->a, &u);
	assert_int_equal(u.pkt_slots, 0); /* everything queued was written */
	td_tcp_abort(p->cs, now);
	td_tcp_abort(p->ss, now);
	td_tcp_close(p->lst, now);
	for (struct flight **q = &p->to_b; q; q = q == &p->to_b ? &p->to_a : NULL)
		while (*q) {
			struct flight *f = *q;
			*q = f->next;
			test_free(f);
		}
	td_stack_destroy(p->a);
	td_stack_destroy(p->b);
}

/* What goes out with offloads on - plain packets behind a GSO_NONE header,
 * TCP's super-segments - is cut by the kernel's side into the segments they
 * stand for: the stream arrives whole, every segment counted on both sides,
 * nothing dropped. */
static void vnet_offloaded_output_cut_by_the_receiver_carries_the_stream(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p);
	size_t n = 1 << 20;
	assert_int_equal(pair_stream(&p, n), n);
	assert_true(p.gso_writes > 0);
	assert_int_equal(ctr(p.a, TD_CTR_vnet_gso_tx), p.gso_writes);
	assert_int_equal(ctr(p.b, TD_CTR_vnet_gso_rx), p.gso_writes);
	/* every segment A said a super-segment carried, B cut out of one */
	assert_int_equal(ctr(p.b, TD_CTR_vnet_gso_segs), ctr(p.a, TD_CTR_vnet_gso_tx_segs));
	for (int c = 0; c < TD_CTR_COUNT; c++)
		if (td_stack_ctr_is_drop((enum td_stack_ctr)c))
			assert_int_equal(ctr(p.b, (enum td_stack_ctr)c), 0);
	assert_int_equal(td_tcp_counters(p.ta)->retransmits, 0);
	pair_close(&p);
}

/* A super-segment lost on the way: RACK/SACK recovery resends the run of
 * segments it stood for, as super-segments where the window lets them go
 * at once, and the stream still arrives whole. */
static void vnet_lost_super_segment_recovered_through_offloaded_output(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p);
	p.drop_gso = 3;
	size_t n = 1 << 20;
	assert_int_equal(pair_stream(&p, n), n);
	assert_true(td_tcp_counters(p.ta)->retransmits > 1);
	assert_true(p.gso_rtx > 0);
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vnet_partial_checksum_accepted_unverified_but_not_on_plain_path),
		cmocka_unit_test(vnet_uso_super_packet_echoed_as_each_datagram),
		cmocka_unit_test(vnet_tso_super_packet_cut_with_lengths_ids_and_sequence),
		cmocka_unit_test(vnet_lying_headers_dropped_and_counted),
		cmocka_unit_test(vnet_plain_header_passes_packet_through),
		cmocka_unit_test(vnet_offloaded_output_cut_by_the_receiver_carries_the_stream),
		cmocka_unit_test(vnet_lost_super_segment_recovered_through_offloaded_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
