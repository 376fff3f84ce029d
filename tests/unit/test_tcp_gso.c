/* TCP output with TX offloads, in virtual time: GSO super-segments built directly, partial checksums, retransmission of part of one, lost runs resent as one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tundra/stack.h"
#include "tundra/tcp.h"
#include "tundra/wire.h"

#include "tcp_harness.h"

#define PEER 0x0a000001u
#define US 0x0a000002u
#define HS 10     /* virtio-net header bytes */
#define DMSS 1448 /* MSS 1460 less the timestamp option */

static uint64_t now;
static uint32_t peer_ts;

struct h {
	struct td_stack *st;
	struct td_tcp *tcp;
	struct td_tcp_sock *lst, *c;
	uint32_t iss;        /* ours */
	uint32_t peer_nxt;   /* the peer's next sequence number */
	uint32_t last_tsval; /* highest TSval seen from us */
};

/* One packet the stack queued, as the device would get it. */
struct out {
	struct td_vnet_repr vr;
	struct td_tcp_repr r;
	size_t ip_len, pay_len;
	uint16_t ip_ident;
	uint8_t raw[70000];
};

static void send_tcp(struct h *h, const struct td_tcp_repr *r)
{
	h_stack_input_tcp4(h->st, now, PEER, US, r);
}

/* The next queued packet through the virtio-net path; checks what every
 * offloaded TCP packet must carry: NEEDS_CSUM at the TCP checksum, the
 * field holding the folded pseudo-header sum, TSvals never going back. */
static bool next_out(struct h *h, struct out *o)
{
	size_t len;
	const uint8_t *p = td_stack_output_peek_vnet(h->st, now, HS, &len);
	if (!p)
		return false;
	assert_true(len <= sizeof(o->raw));
	memcpy(o->raw, p, len);
	td_stack_output_pop(h->st);
	assert_int_equal(td_vnet_parse(o->raw, len, HS, len - HS, &o->vr), TD_WIRE_OK);
	uint8_t *ip = o->raw + HS;
	o->ip_len = len - HS;
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(td_get_be16(ip + 2), o->ip_len);
	assert_int_equal(td_csum(ip, 20), 0); /* the IP header checksum is ours */
	o->ip_ident = td_get_be16(ip + 4);
	assert_int_equal(ip[9], TD_IPPROTO_TCP);
	uint8_t *t = ip + 20;
	size_t tl = o->ip_len - 20;
	assert_true(o->vr.flags & TD_VNET_F_NEEDS_CSUM);
	assert_int_equal(o->vr.csum_start, 20);
	assert_int_equal(o->vr.csum_offset, 16);
	uint32_t ps = td_csum_pseudo4(US, PEER, TD_IPPROTO_TCP, (uint16_t)tl);
	assert_int_equal(td_get_be16(t + 16), (uint16_t)~td_csum_finish(ps));
	/* complete it as the kernel would, then parse the (super-)segment */
	struct td_vnet_repr fin = o->vr;
	fin.gso_type = TD_VNET_GSO_NONE;
	assert_int_equal(td_vnet_csum_finish(&fin, ip, o->ip_len), TD_WIRE_OK);
	struct td_tcp_view tv;
	assert_int_equal(td_tcp_check(&tv, t, tl, ps, 0), TD_WIRE_OK);
	assert_int_equal(td_tcp_parse(&tv, &o->r), TD_WIRE_OK);
	o->pay_len = o->r.payload.len;
	if (o->vr.gso_type) {
		assert_int_equal(o->vr.gso_type, TD_VNET_GSO_TCPV4);
		assert_int_equal(o->vr.hdr_len, 20 + tv.hdr_len);
		assert_true(o->pay_len > o->vr.gso_size);
	}
	if (o->r.opt.has_ts) {
		assert_true((int32_t)(o->r.opt.tsval - h->last_tsval) >= 0 || !h->last_tsval);
		h->last_tsval = o->r.opt.tsval;
	}
	return true;
}

static void ack(struct h *h, uint32_t acked, uint32_t sack_l, uint32_t sack_r)
{
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = 40000;
	r.dst_port = 80;
	r.seq = h->peer_nxt;
	r.ack = acked;
	r.flags = TD_TCP_ACK;
	r.window = 65535; /* << 7: 8 MB */
	r.opt.has_ts = true;
	r.opt.tsval = ++peer_ts;
	r.opt.tsecr = h->last_tsval;
	if (sack_r != sack_l) {
		r.opt.sack_count = 1;
		r.opt.sack[0].left = sack_l;
		r.opt.sack[0].right = sack_r;
	}
	send_tcp(h, &r);
}

static void setup(struct h *h, bool nodelay)
{
	now = 1000000000ull;
	peer_ts = 5000;
	memset(h, 0, sizeof(*h));
	struct td_stack_config sc;
	td_stack_config_default(&sc);
	assert_int_equal(td_stack_create(&sc, &h->st), 0);
	assert_int_equal(td_stack_set_tx_offload(h->st, TD_STACK_TX_CSUM | TD_STACK_TX_TSO4 |
								TD_STACK_TX_TSO6),
			 0);
	struct td_tcp_config tc;
	td_tcp_config_default(&tc);
	tc.max_socks = 8;
	tc.sndbuf = 1024 * 1024;
	assert_int_equal(td_tcp_attach(h->st, &tc, &h->tcp), 0);
	assert_int_equal(td_tcp_socket(h->tcp, 4, &h->lst), 0);
	struct td_tcp_endpoint ep = {.family = 4, .port = 80};
	assert_int_equal(td_tcp_bind(h->lst, &ep), 0);
	assert_int_equal(td_tcp_listen(h->lst, 4), 0);

	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = 40000;
	r.dst_port = 80;
	r.seq = 100;
	r.flags = TD_TCP_SYN;
	r.window = 65535;
	r.opt.has_mss = true;
	r.opt.mss = 1460;
	r.opt.has_wscale = true;
	r.opt.wscale = 7;
	r.opt.sack_perm = true;
	r.opt.has_ts = true;
	r.opt.tsval = peer_ts;
	send_tcp(h, &r);
	struct out *o = test_malloc(sizeof(*o));
	assert_true(next_out(h, o));
	assert_int_equal(o->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(o->vr.gso_type, TD_VNET_GSO_NONE);
	h->iss = o->r.seq;
	h->peer_nxt = 101;
	test_free(o);
	ack(h, h->iss + 1, 0, 0);
	assert_int_equal(td_tcp_accept(h->lst, &h->c), 0);
	if (nodelay)
		assert_int_equal(td_tcp_setopt(h->c, TD_TCP_OPT_NODELAY, 1), 0);
}

static void teardown(struct h *h)
{
	td_tcp_abort(h->c, now);
	td_tcp_close(h->lst, now);
	td_stack_destroy(h->st);
}

static uint8_t data[1024 * 1024];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 11));
}

static void tcp_gso_bulk_send_leaves_as_super_segments_of_whole_mss(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	struct out *o = test_malloc(sizeof(*o));
	uint64_t segs0 = td_tcp_counters(h.tcp)->tx_segs;
	assert_int_equal(td_tcp_send(h.c, data, sizeof(data), now), sizeof(data));
	/* initial window 14600 (RFC 6928): ten whole segments in one packet */
	assert_true(next_out(&h, o));
	assert_int_equal(o->vr.gso_type, TD_VNET_GSO_TCPV4);
	assert_int_equal(o->vr.gso_size, DMSS);
	assert_int_equal(o->pay_len, 10 * DMSS);
	assert_int_equal(o->r.seq, h.iss + 1);
	assert_int_equal(o->r.ack, 101);
	assert_int_equal(o->r.flags, TD_TCP_ACK); /* no PSH: more data follows */
	assert_memory_equal(o->r.payload.ptr, data, 10 * DMSS);
	assert_int_equal(td_tcp_counters(h.tcp)->tx_segs - segs0, 10);
	assert_false(next_out(&h, o)); /* the 120 bytes left of the window wait */

	/* acknowledged, the window grows: larger super-segments, each a whole
	 * number of MSS and within one 64 KB packet, the stream contiguous */
	uint32_t next = h.iss + 1 + 10 * DMSS, seen_max = 0;
	uint16_t ident = (uint16_t)(o->ip_ident + 10);
	for (int round = 0; round < 24; round++) {
		now += 1000000;
		ack(&h, next, 0, 0);
		while (next_out(&h, o)) {
			assert_int_equal(o->r.seq, next);
			/* the kernel numbers the segments it cuts: IDs skip by their count */
			assert_int_equal(o->ip_ident, ident);
			ident = (uint16_t)(ident + (o->pay_len + DMSS - 1) / DMSS);
			assert_true(o->ip_len <= 65535);
			if (o->vr.gso_type) {
				assert_int_equal(o->vr.gso_size, DMSS);
				assert_int_equal(o->pay_len % DMSS, 0);
			}
			assert_memory_equal(o->r.payload.ptr, data + (next - h.iss - 1), o->pay_len);
			if (o->pay_len > seen_max)
				seen_max = (uint32_t)o->pay_len;
			next += (uint32_t)o->pay_len;
		}
	}
	assert_int_equal(seen_max, 45 * DMSS); /* 65160 bytes: the most a 64 KB packet holds */
	test_free(o);
	teardown(&h);
}

static void tcp_gso_short_tail_only_with_nodelay(void **state)
{
	(void)state;
	struct h h;
	struct out *o = test_malloc(sizeof(*o));
	fill();
	/* Nagle on: the whole segments go, the short tail waits for the ACK */
	setup(&h, false);
	assert_int_equal(td_tcp_send(h.c, data, 5000, now), 5000);
	assert_true(next_out(&h, o));
	assert_int_equal(o->pay_len, 3 * DMSS);
	assert_int_equal(o->vr.gso_size, DMSS);
	assert_false(next_out(&h, o));
	ack(&h, h.iss + 1 + 3 * DMSS, 0, 0);
	assert_true(next_out(&h, o));
	assert_int_equal(o->pay_len, 5000 - 3 * DMSS);
	assert_int_equal(o->vr.gso_type, TD_VNET_GSO_NONE);
	assert_true(o->r.flags & TD_TCP_PSH);
	teardown(&h);
	/* Nagle off: one super-segment with a short last segment and PSH */
	setup(&h, true);
	assert_int_equal(td_tcp_send(h.c, data, 5000, now), 5000);
	assert_true(next_out(&h, o));
	assert_int_equal(o->pay_len, 5000);
	assert_int_equal(o->vr.gso_type, TD_VNET_GSO_TCPV4);
	assert_int_equal(o->vr.gso_size, DMSS);
	assert_int_equal(o->r.flags, TD_TCP_ACK | TD_TCP_PSH);
	assert_false(next_out(&h, o));
	/* more than the window takes: whole segments up to it, the rest and
	 * the FIN queued behind it leave together once it opens */
	assert_int_equal(td_tcp_send(h.c, data + 5000, 20000, now), 20000);
	assert_true(next_out(&h, o));
	assert_int_equal(o->r.seq, h.iss + 1 + 5000);
	assert_int_equal(o->pay_len, 6 * DMSS); /* 9600 bytes of IW10 left, whole MSS */
	assert_int_equal(td_tcp_shutdown(h.c, 1, now), 0);
	assert_false(next_out(&h, o));
	now += 1000000;
	ack(&h, h.iss + 1 + 5000 + 6 * DMSS, 0, 0);
	assert_true(next_out(&h, o));
	assert_int_equal(o->r.seq, h.iss + 1 + 5000 + 6 * DMSS);
	assert_int_equal(o->pay_len, 20000 - 6 * DMSS);
	assert_int_equal(o->vr.gso_type, TD_VNET_GSO_TCPV4);
	assert_int_equal(o->r.flags, TD_TCP_ACK | TD_TCP_PSH | TD_TCP_FIN);
	assert_memory_equal(o->r.payload.ptr, data + 5000 + 6 * DMSS, 20000 - 6 * DMSS);
	test_free(o);
	teardown(&h);
}

static void tcp_gso_rto_retransmits_one_mss_then_recovery_what_cwnd_allows(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	struct out *o = test_malloc(sizeof(*o));
	assert_int_equal(td_tcp_send(h.c, data, 10 * DMSS, now), 10 * DMSS);
	assert_true(next_out(&h, o));
	assert_int_equal(o->pay_len, 10 * DMSS);
	/* lost: a tail loss probe (RFC 8985 §7) resends its last MSS, then the
	 * RTO sends the first MSS of it again - each alone, never as a
	 * super-segment */
	uint64_t rtx0 = td_tcp_counters(h.tcp)->retransmits;
	bool first_again = false;
	for (int step = 0; step < 30 && !first_again; step++) {
		now += 100000000ull;
		td_stack_poll(h.st, now);
		while (next_out(&h, o)) {
			assert_int_equal(o->vr.gso_type, TD_VNET_GSO_NONE);
			assert_true(o->pay_len <= DMSS);
			uint32_t at = o->r.seq - h.iss - 1;
			assert_memory_equal(o->r.payload.ptr, data + at, o->pay_len);
			if (at == 0 && o->pay_len == DMSS)
				first_again = true;
		}
	}
	assert_true(first_again);
	assert_true(td_tcp_counters(h.tcp)->retransmits > rtx0);
	/* the peer had the first three: recovery resumes inside the old
	 * super-segment with what the grown cwnd lets go at once (RFC 6675 §5
	 * (C), every segment deemed lost by the RTO), whole segments in one
	 * super-segment of the same MSS */
	now += 1000000;
	ack(&h, h.iss + 1 + 3 * DMSS, 0, 0);
	struct td_tcp_info in;
	td_tcp_sock_info(h.c, &in);
	uint32_t next = h.iss + 1 + 3 * DMSS;
	int n = 0;
	while (next_out(&h, o)) {
		assert_int_equal(o->r.seq, next);
		assert_true(o->pay_len > 0);
		if (o->vr.gso_type)
			assert_int_equal(o->vr.gso_size, DMSS);
		else
			assert_true(o->pay_len <= DMSS);
		assert_memory_equal(o->r.payload.ptr, data + (next - h.iss - 1), o->pay_len);
		next += (uint32_t)o->pay_len;
		n++;
	}
	assert_int_equal(n, 1);
	/* pipe < cwnd asked before each segment: at most one beyond cwnd */
	assert_true(next - (h.iss + 1 + 3 * DMSS) < in.cwnd + DMSS);
	assert_true(next - (h.iss + 1 + 3 * DMSS) >= 2 * DMSS);
	test_free(o);
	teardown(&h);
}

static void tcp_gso_sack_hole_in_super_segment_retransmitted_alone(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	struct out *o = test_malloc(sizeof(*o));
	assert_int_equal(td_tcp_send(h.c, data, 10 * DMSS, now), 10 * DMSS);
	assert_true(next_out(&h, o));
	assert_int_equal(o->pay_len, 10 * DMSS);
	/* the kernel cut it and lost the second segment: duplicate ACKs
	 * SACKing the rest (RFC 6675) */
	uint32_t s1 = h.iss + 1 + DMSS, s2 = s1 + DMSS, end = h.iss + 1 + 10 * DMSS;
	now += 1000000; /* the ACKs come a round trip later */
	ack(&h, s1, s2, s2 + DMSS);
	ack(&h, s1, s2, s2 + 4 * DMSS);
	ack(&h, s1, s2, end);
	/* RACK (RFC 8985 §6.2) deems it lost once a round trip passed since it
	 * was sent: at once or when the reordering timer fires */
	now += 2000000;
	td_stack_poll(h.st, now);
	bool found = false;
	while (next_out(&h, o)) {
		if (o->pay_len == 0)
			continue;
		assert_int_equal(o->vr.gso_type, TD_VNET_GSO_NONE);
		assert_int_equal(o->r.seq, s1);
		assert_int_equal(o->pay_len, DMSS);
		assert_memory_equal(o->r.payload.ptr, data + DMSS, DMSS);
		found = true;
	}
	assert_true(found);
	assert_int_equal(td_tcp_counters(h.tcp)->retransmits, 1);
	test_free(o);
	teardown(&h);
}

/* Ten segments leave as one super-segment, the first six are lost, the
 * peer SACKs the last four (RFC 6675 duplicate ACKs) and RACK deems the six
 * lost a round trip later. tso false: the device kept only checksum
 * offload by then. */
static void lose_first_six(struct h *h, struct out *o, bool tso)
{
	assert_int_equal(td_tcp_send(h->c, data, 10 * DMSS, now), 10 * DMSS);
	assert_true(next_out(h, o));
	assert_int_equal(o->pay_len, 10 * DMSS);
	if (!tso)
		assert_int_equal(td_stack_set_tx_offload(h->st, TD_STACK_TX_CSUM), 0);
	uint32_t s0 = h->iss + 1, s6 = s0 + 6 * DMSS;
	now += 1000000;
	ack(h, s0, s6, s6 + DMSS);
	ack(h, s0, s6, s6 + 2 * DMSS);
	ack(h, s0, s6, s0 + 10 * DMSS);
	now += 2000000;
	td_stack_poll(h->st, now);
}

/* What was resent from SND.UNA on: contiguous, the bytes sent before (with
 * plain, one MSS per packet). Returns where it ended; *writes: packets. */
static uint32_t drain_resent(struct h *h, struct out *o, bool plain, int *writes)
{
	uint32_t s0 = h->iss + 1, next = s0;
	*writes = 0;
	while (next_out(h, o)) {
		if (o->pay_len == 0)
			continue;
		(*writes)++;
		assert_int_equal(o->r.seq, next);
		assert_memory_equal(o->r.payload.ptr, data + (next - s0), o->pay_len);
		if (plain) {
			assert_int_equal(o->vr.gso_type, TD_VNET_GSO_NONE);
			assert_int_equal(o->pay_len, DMSS);
		}
		next += (uint32_t)o->pay_len;
	}
	return next;
}

/* RFC 6675 §5 (C) lets all six go at once (pipe is zero, cwnd above six
 * MSS): they leave as one super-segment of the same six segments - same
 * sequence numbers and bytes - not as six writes. */
static void tcp_gso_lost_run_retransmitted_as_one_super_segment(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	struct out *o = test_malloc(sizeof(*o));
	lose_first_six(&h, o, true);
	int writes;
	/* exactly the lost ones, nothing SACKed again */
	assert_int_equal(drain_resent(&h, o, false, &writes), h.iss + 1 + 6 * DMSS);
	assert_int_equal(writes, 1);
	assert_int_equal(td_tcp_counters(h.tcp)->retransmits, 6);
	assert_int_equal(td_tcp_counters(h.tcp)->sack_retransmits, 6);
	test_free(o);
	teardown(&h);
}

/* The six were only late: the peer acknowledges everything, then reports
 * the retransmitted super-segment as one duplicate - a receiver that took
 * it whole sends one D-SACK block for its six segments. Counted as six
 * (Linux's tcp_dsack_seen), it shows every retransmission spurious and the
 * reduction is undone (RFC 3708 §3), as six single D-SACKs would. */
static void tcp_gso_one_dsack_for_retransmitted_super_segment_undoes_reduction(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	struct out *o = test_malloc(sizeof(*o));
	struct td_tcp_info in;
	td_tcp_sock_info(h.c, &in);
	uint32_t before = in.cwnd;
	lose_first_six(&h, o, true);
	int writes;
	uint32_t s0 = h.iss + 1, s6 = drain_resent(&h, o, false, &writes);
	assert_int_equal(writes, 1);
	td_tcp_sock_info(h.c, &in);
	assert_true(in.cwnd < before);
	now += 1000000;
	ack(&h, s0 + 10 * DMSS, 0, 0);
	now += 1000000;
	ack(&h, s0 + 10 * DMSS, s0, s6); /* below the cumulative ACK: a D-SACK (RFC 2883 §4) */
	assert_int_equal(td_tcp_counters(h.tcp)->rx_dsack, 1);
	assert_int_equal(td_tcp_counters(h.tcp)->undo_dsack, 1);
	td_tcp_sock_info(h.c, &in);
	assert_true(in.cwnd >= before);
	test_free(o);
	teardown(&h);
}

/* Without TSO the same loss goes out one MSS per segment, as before. */
static void tcp_gso_lost_run_without_tso_one_mss_each(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	struct out *o = test_malloc(sizeof(*o));
	lose_first_six(&h, o, false);
	int writes;
	assert_int_equal(drain_resent(&h, o, true, &writes), h.iss + 1 + 6 * DMSS);
	assert_int_equal(writes, 6);
	assert_int_equal(td_tcp_counters(h.tcp)->retransmits, 6);
	test_free(o);
	teardown(&h);
}

static void tcp_gso_plain_peek_completes_checksum_and_refuses_super_packet(void **state)
{
	(void)state;
	struct h h;
	setup(&h, true);
	fill();
	size_t len;
	/* one short segment: the plain reader gets it with a valid checksum */
	assert_int_equal(td_tcp_send(h.c, data, 100, now), 100);
	const uint8_t *p = td_stack_output_peek(h.st, now, &len);
	assert_non_null(p);
	assert_int_equal(len, 20 + 32 + 100);
	struct td_tcp_view tv;
	assert_int_equal(td_tcp_check(&tv, p + 20, len - 20,
				      td_csum_pseudo4(US, PEER, TD_IPPROTO_TCP, (uint16_t)(len - 20)), 0),
			 TD_WIRE_OK);
	td_stack_output_pop(h.st);
	/* a super-packet has no plain form */
	now += 1000000;
	ack(&h, h.iss + 1 + 100, 0, 0);
	assert_int_equal(td_tcp_send(h.c, data, 5000, now), 5000);
	assert_null(td_stack_output_peek(h.st, now, &len));
	assert_non_null(td_stack_output_peek_vnet(h.st, now, HS, &len));
	teardown(&h);
}

static void tcp_gso_off_under_output_impairment(void **state)
{
	(void)state;
	struct h h;
	setup(&h, true);
	fill();
	td_stack_destroy(h.st);
	/* the same with loss configured on output: plain MSS segments, full checksums */
	struct td_stack_config sc;
	td_stack_config_default(&sc);
	sc.impair_out.dup_ppm = 1; /* active, practically never fires */
	sc.impair_out.seed = 1;
	assert_int_equal(td_stack_create(&sc, &h.st), 0);
	assert_int_equal(td_stack_set_tx_offload(h.st, TD_STACK_TX_CSUM | TD_STACK_TX_TSO4), 0);
	struct td_tcp_config tc;
	td_tcp_config_default(&tc);
	tc.max_socks = 8;
	assert_int_equal(td_tcp_attach(h.st, &tc, &h.tcp), 0);
	assert_int_equal(td_tcp_socket(h.tcp, 4, &h.lst), 0);
	struct td_tcp_endpoint ep = {.family = 4, .port = 80};
	assert_int_equal(td_tcp_bind(h.lst, &ep), 0);
	assert_int_equal(td_tcp_listen(h.lst, 4), 0);
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = 40000;
	r.dst_port = 80;
	r.seq = 100;
	r.flags = TD_TCP_SYN;
	r.window = 65535;
	r.opt.has_mss = true;
	r.opt.mss = 1460;
	send_tcp(&h, &r);
	size_t len;
	const uint8_t *p = td_stack_output_peek_vnet(h.st, now, HS, &len);
	assert_non_null(p);
	struct td_vnet_repr vr;
	assert_int_equal(td_vnet_parse(p, len, HS, len - HS, &vr), TD_WIRE_OK);
	assert_int_equal(vr.flags, 0);
	h.iss = td_get_be32(p + HS + 24);
	td_stack_output_pop(h.st);
	r.seq = 101;
	r.ack = h.iss + 1;
	r.flags = TD_TCP_ACK;
	memset(&r.opt, 0, sizeof(r.opt));
	send_tcp(&h, &r);
	assert_int_equal(td_tcp_accept(h.lst, &h.c), 0);
	assert_int_equal(td_tcp_send(h.c, data, 5000, now), 5000);
	p = td_stack_output_peek_vnet(h.st, now, HS, &len);
	assert_non_null(p);
	assert_int_equal(td_vnet_parse(p, len, HS, len - HS, &vr), TD_WIRE_OK);
	assert_int_equal(vr.flags, 0);
	assert_int_equal(vr.gso_type, TD_VNET_GSO_NONE);
	assert_int_equal(len - HS, 1500);
	teardown(&h);
}

/* The kernel's TSO hands over 10 segments as one super-packet: the stack
 * cuts it, TCP takes every segment, and answers with one ACK for all of
 * them at the end (a GRO receiver's stretch ACK), not one every second. */
static void tcp_gso_super_packet_in_answered_with_one_ack(void **state)
{
	(void)state;
	struct h h;
	setup(&h, false);
	fill();
	static uint8_t in[HS + 20 + 32 + 10 * DMSS];
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = 40000;
	r.dst_port = 80;
	r.seq = h.peer_nxt;
	r.ack = h.iss + 1;
	r.flags = TD_TCP_ACK | TD_TCP_PSH;
	r.window = 65535;
	r.opt.has_ts = true;
	r.opt.tsval = ++peer_ts;
	r.opt.tsecr = h.last_tsval;
	r.payload.ptr = data;
	r.payload.len = 10 * DMSS;
	size_t tl = td_tcp_size(&r);
	assert_int_equal(tl, 32 + 10 * DMSS);
	struct td_ipv4_repr ip = {.src = PEER, .dst = US, .ttl = 64, .proto = TD_IPPROTO_TCP,
				  .df = true, .payload_len = (uint16_t)tl};
	assert_int_equal(td_ipv4_emit(&ip, in + HS, 20), TD_WIRE_OK);
	assert_int_equal(td_tcp_emit(&r, 0, in + HS + 20, tl), TD_WIRE_OK);
	/* the kernel leaves the pseudo-header sum in the field */
	td_put_be16(in + HS + 20 + 16,
		    (uint16_t)~td_csum_finish(td_csum_pseudo4(PEER, US, TD_IPPROTO_TCP, (uint16_t)tl)));
	struct td_vnet_repr vr = {.flags = TD_VNET_F_NEEDS_CSUM,
				  .gso_type = TD_VNET_GSO_TCPV4,
				  .hdr_len = 20 + 32,
				  .gso_size = DMSS,
				  .csum_start = 20,
				  .csum_offset = 16};
	assert_int_equal(td_vnet_emit(&vr, in, HS), TD_WIRE_OK);
	uint64_t rx0 = td_tcp_counters(h.tcp)->rx_segs;
	td_stack_input_vnet(h.st, now, in, sizeof(in), HS);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_segs - rx0, 10);
	struct out *o = test_malloc(sizeof(*o));
	assert_true(next_out(&h, o));
	assert_int_equal(o->r.flags, TD_TCP_ACK);
	assert_int_equal(o->r.ack, h.peer_nxt + 10 * DMSS);
	assert_int_equal(o->pay_len, 0);
	assert_false(next_out(&h, o));
	uint8_t got[10 * DMSS];
	assert_int_equal(td_tcp_recv(h.c, got, sizeof(got), now), 10 * DMSS);
	assert_memory_equal(got, data, 10 * DMSS);
	test_free(o);
	teardown(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_gso_bulk_send_leaves_as_super_segments_of_whole_mss),
		cmocka_unit_test(tcp_gso_short_tail_only_with_nodelay),
		cmocka_unit_test(tcp_gso_rto_retransmits_one_mss_then_recovery_what_cwnd_allows),
		cmocka_unit_test(tcp_gso_sack_hole_in_super_segment_retransmitted_alone),
		cmocka_unit_test(tcp_gso_lost_run_retransmitted_as_one_super_segment),
		cmocka_unit_test(tcp_gso_lost_run_without_tso_one_mss_each),
		cmocka_unit_test(tcp_gso_one_dsack_for_retransmitted_super_segment_undoes_reduction),
		cmocka_unit_test(tcp_gso_plain_peek_completes_checksum_and_refuses_super_packet),
		cmocka_unit_test(tcp_gso_off_under_output_impairment),
		cmocka_unit_test(tcp_gso_super_packet_in_answered_with_one_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
