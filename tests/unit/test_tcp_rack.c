/* TCP loss detection in virtual time: RACK-TLP (RFC 8985), D-SACK (RFC 2883), undo (RFC 3708, RFC 3522), RTO with SACK (RFC 6675 §5.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"

/* The peer sends no MSS option: 536 (RFC 9293 §3.7.1), 524 of data with timestamps. */

static uint8_t blob[65536];

struct rk {
	struct harness h;
	struct td_tcp_sock *lst, *c;
	uint32_t b;      /* next data sequence number of ours */
	uint32_t pseq;   /* the peer's next sequence number */
	bool ts;
	uint32_t ptsval; /* the peer's clock */
	uint32_t last_tsval; /* our last TSval seen */
	uint32_t seg;        /* data bytes per full segment */
};

static void peer_opts(struct rk *k, struct td_tcp_opts *o, uint32_t tsecr)
{
	memset(o, 0, sizeof(*o));
	if (k->ts) {
		o->has_ts = true;
		o->tsval = ++k->ptsval;
		o->tsecr = tsecr ? tsecr : k->last_tsval;
	}
}

/* An ACK from the peer, with SACK blocks (pairs of offsets from base). */
static void ack(struct rk *k, uint32_t a, uint32_t tsecr, int nblocks, const uint32_t *blocks)
{
	struct td_tcp_opts o;
	peer_opts(k, &o, tsecr);
	o.sack_count = (uint8_t)nblocks;
	for (int i = 0; i < nblocks; i++)
		o.sack[i] = (struct td_tcp_sack_block){blocks[2 * i], blocks[2 * i + 1]};
	h_in(&k->h, TD_TCP_ACK, k->pseq, a, 65535, &o, NULL, 0);
}

static const struct h_seg *out(struct rk *k)
{
	const struct h_seg *s = h_out(&k->h);
	if (s && s->r.opt.has_ts)
		k->last_tsval = s->r.opt.tsval;
	return s;
}

static void drain(struct rk *k)
{
	while (out(k))
		;
}

static void send_segs(struct rk *k, unsigned n)
{
	assert_int_equal(td_tcp_send(k->c, blob, k->seg * n, k->h.now), (ssize_t)(k->seg * n));
}

/* SACK connection whose handshake and first segment both took 40 ms:
 * SRTT = 40 ms, RTO = 200 ms (the minimum), RACK.min_RTT = 40 ms, so
 * reo_wnd = 10 ms and the probe timeout 2*SRTT + 2 ms = 82 ms. */
static void setup(struct rk *k, bool ts)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 13 + 5);
	h_init(&k->h, NULL);
	k->ts = ts;
	k->seg = ts ? 524 : 536;
	k->ptsval = 5000;
	k->lst = h_listen(&k->h, 8);
	struct td_tcp_opts syn = {.sack_perm = true};
	if (ts) {
		syn.has_ts = true;
		syn.tsval = k->ptsval;
	}
	h_in(&k->h, TD_TCP_SYN, 1000, 0, 65535, &syn, NULL, 0);
	const struct h_seg *sa = out(k);
	assert_non_null(sa);
	uint32_t iss = sa->r.seq;
	h_advance(&k->h, 40);
	k->pseq = 1001;
	ack(k, iss + 1, 0, 0, NULL);
	assert_int_equal(td_tcp_accept(k->lst, &k->c), 0);
	k->b = iss + 1;
	send_segs(k, 1);
	drain(k);
	h_advance(&k->h, 40);
	ack(k, k->b + k->seg, 0, 0, NULL);
	k->b += k->seg;
	assert_int_equal(h_pending(&k->h), 0);
	struct td_tcp_info in;
	td_tcp_sock_info(k->c, &in);
	assert_int_equal(in.srtt_us, 40000);
	assert_int_equal(in.rto_ms, 200);
}

static void teardown(struct rk *k)
{
	td_tcp_abort(k->c, k->h.now);
	td_tcp_close(k->lst, k->h.now);
	h_fini_expect_empty(&k->h);
}

static uint32_t cwnd(struct rk *k)
{
	struct td_tcp_info in;
	td_tcp_sock_info(k->c, &in);
	return in.cwnd;
}

static const struct td_tcp_counters *ctr(struct rk *k)
{
	return td_tcp_counters(k->h.tcp);
}

/* Four segments at T; the peer SACKs the second at T+40. */
static void hole_at_first(struct rk *k)
{
	send_segs(k, 4);
	assert_int_equal(h_pending(&k->h), 4);
	drain(k);
	h_advance(&k->h, 40);
	uint32_t blk[2] = {k->b + k->seg, k->b + 2 * k->seg};
	ack(k, k->b, 0, 1, blk);
}

static void tcp_rack_marks_hole_lost_after_rtt_plus_reordering_window(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	uint32_t before = cwnd(&k);
	/* one segment SACKed, no reordering seen yet: reo_wnd = min_RTT/4
	 * (§6.2 step 4), so the first segment is lost at T + 40 + 10 ms */
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 9); /* T+49 */
	assert_int_equal(h_pending(&k.h), 0);
	assert_int_equal(ctr(&k)->rack_lost, 0);
	h_advance(&k.h, 1); /* T+50: the reordering timer (§6.3) */
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b);
	assert_int_equal(r->r.payload.len, k.seg);
	assert_null(out(&k)); /* the later two were sent with the SACKed one */
	assert_int_equal(ctr(&k)->rack_lost, 1);
	assert_int_equal(ctr(&k)->fast_retransmits, 1);
	assert_int_equal(ctr(&k)->rto_expired, 0);
	assert_true(cwnd(&k) < before); /* one reduction (CUBIC beta) */
	teardown(&k);
}

static void tcp_rack_reordered_segment_within_window_is_not_retransmitted(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	uint32_t before = cwnd(&k);
	/* the first segment was only late: it arrives within reo_wnd */
	h_advance(&k.h, 5);
	ack(&k, k.b + 2 * k.seg, 0, 0, NULL);
	h_advance(&k.h, 5);
	ack(&k, k.b + 4 * k.seg, 0, 0, NULL);
	h_advance(&k.h, 500);
	assert_null(out(&k));
	assert_int_equal(ctr(&k)->retransmits, 0);
	assert_int_equal(ctr(&k)->rack_lost, 0);
	assert_int_equal(ctr(&k)->fast_retransmits, 0);
	assert_true(cwnd(&k) >= before);
	teardown(&k);
}

static void tcp_rack_lost_retransmission_found_without_rto(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	h_advance(&k.h, 10); /* T+50: first segment retransmitted */
	assert_int_equal(out(&k)->r.seq, k.b);
	h_advance(&k.h, 5); /* T+55: two new segments */
	send_segs(&k, 2);
	assert_int_equal(h_pending(&k.h), 2);
	drain(&k);
	/* T+95: everything but the first segment arrived, the retransmission
	 * was lost too. A segment sent after it was delivered and RACK.rtt
	 * (40 ms) has passed since it went: lost again, no RTO needed. */
	h_advance(&k.h, 40);
	uint32_t blk[2] = {k.b + k.seg, k.b + 6 * k.seg};
	ack(&k, k.b, 0, 1, blk);
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b);
	assert_null(out(&k));
	assert_int_equal(ctr(&k)->rack_lost, 2);
	assert_int_equal(ctr(&k)->rto_expired, 0);
	assert_int_equal(ctr(&k)->fast_retransmits, 1); /* one recovery, one reduction */
	teardown(&k);
}

static void tcp_tlp_probes_last_segment_two_srtt_after_send(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	send_segs(&k, 3);
	drain(&k);
	/* no ACK: PTO = 2*SRTT + 2 ms (§7.2, more than one segment out) */
	h_advance(&k.h, 81);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 1);
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b + 2 * k.seg); /* no new data: the last segment */
	assert_int_equal(r->r.payload.len, k.seg);
	assert_null(out(&k));
	assert_int_equal(ctr(&k)->tlp_probes, 1);
	/* then the RTO, once: 200 ms after the probe */
	h_advance(&k.h, 199);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 1);
	r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b);
	assert_int_equal(ctr(&k)->rto_expired, 1);
	assert_int_equal(ctr(&k)->tlp_probes, 1);
	teardown(&k);
}

static void tcp_tlp_sends_new_data_when_it_can(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	/* 12 segments queued, the initial window lets 11 go */
	send_segs(&k, 12);
	unsigned sent = h_pending(&k.h);
	assert_true(sent < 12);
	drain(&k);
	h_advance(&k.h, 82);
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b + sent * k.seg); /* §7.3: new data first */
	assert_int_equal(ctr(&k)->retransmits, 0);
	teardown(&k);
}

static void tcp_dsack_reports_duplicate_segments_first_once(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	uint32_t p = k.pseq;
	h_in(&k.h, TD_TCP_ACK, p, k.b, 65535, NULL, blob, 100);
	h_advance(&k.h, 200); /* delayed ACK */
	drain(&k);
	/* the same segment again: RFC 2883 §4 case 1, below the ACK */
	h_in(&k.h, TD_TCP_ACK, p, k.b, 65535, NULL, blob, 100);
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.ack, p + 100);
	assert_int_equal(r->r.opt.sack_count, 1);
	assert_int_equal(r->r.opt.sack[0].left, p);
	assert_int_equal(r->r.opt.sack[0].right, p + 100);
	/* out of order, then that again: case 2, the D-SACK block first and
	 * the block holding it second */
	h_in(&k.h, TD_TCP_ACK, p + 200, k.b, 65535, NULL, blob, 100);
	r = out(&k);
	assert_int_equal(r->r.opt.sack_count, 1);
	assert_int_equal(r->r.opt.sack[0].left, p + 200);
	h_in(&k.h, TD_TCP_ACK, p + 200, k.b, 65535, NULL, blob, 100);
	r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.opt.sack_count, 2);
	assert_int_equal(r->r.opt.sack[0].left, p + 200);
	assert_int_equal(r->r.opt.sack[0].right, p + 300);
	assert_int_equal(r->r.opt.sack[1].left, p + 200);
	assert_int_equal(r->r.opt.sack[1].right, p + 300);
	/* reported once: the next ACK carries only the SACK block */
	h_in(&k.h, TD_TCP_ACK, p + 400, k.b, 65535, NULL, blob, 100);
	r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.opt.sack[0].left, p + 400);
	assert_int_equal(ctr(&k)->tx_dsack, 2);
	teardown(&k);
}

static void tcp_dsack_for_every_retransmission_undoes_reduction(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	uint32_t before = cwnd(&k);
	h_advance(&k.h, 10); /* T+50: retransmitted, cwnd reduced */
	assert_int_equal(out(&k)->r.seq, k.b);
	assert_true(cwnd(&k) < before);
	/* the original was only late: everything is acknowledged, then the
	 * retransmission arrives as a duplicate and is D-SACKed */
	h_advance(&k.h, 5);
	ack(&k, k.b + 4 * k.seg, 0, 0, NULL);
	assert_true(cwnd(&k) < before);
	h_advance(&k.h, 35);
	uint32_t blk[2] = {k.b, k.b + k.seg};
	ack(&k, k.b + 4 * k.seg, 0, 1, blk);
	assert_int_equal(ctr(&k)->rx_dsack, 1);
	assert_int_equal(ctr(&k)->undo_dsack, 1); /* RFC 3708 §3 */
	assert_int_equal(cwnd(&k), before);
	teardown(&k);
}

static void tcp_dsack_undo_during_recovery_ends_it_at_the_old_window(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	uint32_t before = cwnd(&k);
	h_advance(&k.h, 10); /* T+50: retransmitted, recovery up to the fourth */
	assert_int_equal(out(&k)->r.seq, k.b);
	/* the late original arrives (partial ACK), then the retransmission as
	 * a duplicate: undone while the recovery is still open */
	h_advance(&k.h, 2);
	ack(&k, k.b + 2 * k.seg, 0, 0, NULL);
	h_advance(&k.h, 40);
	uint32_t blk[2] = {k.b, k.b + k.seg};
	ack(&k, k.b + 2 * k.seg, 0, 1, blk);
	assert_int_equal(ctr(&k)->undo_dsack, 1);
	assert_int_equal(cwnd(&k), before);
	/* the full ACK must not "deflate" to the restored initial ssthresh */
	h_advance(&k.h, 5);
	ack(&k, k.b + 4 * k.seg, 0, 0, NULL);
	assert_true(cwnd(&k) <= before + 2 * k.seg); /* at most slow start's step */
	assert_int_equal(ctr(&k)->fast_retransmits, 1);
	teardown(&k);
}

static void tcp_dsack_of_a_network_duplicate_does_not_undo(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	h_advance(&k.h, 10);
	drain(&k);
	uint32_t reduced = cwnd(&k);
	/* a D-SACK for the SACKed second segment, which was never
	 * retransmitted: the network duplicated it */
	uint32_t blk[4] = {k.b + k.seg, k.b + 2 * k.seg, k.b + k.seg, k.b + 2 * k.seg};
	ack(&k, k.b, 0, 2, blk);
	assert_int_equal(ctr(&k)->rx_dsack, 1);
	assert_int_equal(ctr(&k)->undo_dsack, 0);
	assert_int_equal(cwnd(&k), reduced);
	teardown(&k);
}

static void tcp_spurious_rto_detected_by_timestamp_is_undone(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, true);
	send_segs(&k, 4);
	const struct h_seg *r = out(&k);
	uint32_t orig_tsval = r->r.opt.tsval;
	drain(&k);
	uint32_t before = cwnd(&k);
	h_advance(&k.h, 82); /* the probe */
	assert_int_equal(ctr(&k)->tlp_probes, 1);
	drain(&k);
	h_advance(&k.h, 200); /* the RTO: one segment, cwnd one segment */
	r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b);
	assert_null(out(&k));
	assert_int_equal(ctr(&k)->rto_expired, 1);
	assert_true(cwnd(&k) < before);
	/* the first ACK after it echoes the original's TSval: the segments
	 * were delayed, not lost (RFC 3522 §3.2) */
	h_advance(&k.h, 5);
	ack(&k, k.b + 2 * k.seg, orig_tsval, 0, NULL);
	assert_int_equal(ctr(&k)->undo_rto, 1);
	assert_int_equal(cwnd(&k), before);
	/* RFC 4015: no go-back-N of the rest */
	assert_null(out(&k));
	h_advance(&k.h, 5);
	ack(&k, k.b + 4 * k.seg, orig_tsval, 0, NULL);
	assert_null(out(&k));
	assert_int_equal(ctr(&k)->retransmits, 2); /* the probe and the RTO's */
	teardown(&k);
}

static void tcp_rto_with_sack_resends_only_unsacked_segments(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, false);
	hole_at_first(&k);
	h_advance(&k.h, 10); /* T+50: RACK retransmits the first; that is lost */
	assert_int_equal(out(&k)->r.seq, k.b);
	/* the RTO (restarted by the SACK at T+40) fires at T+240 */
	h_advance(&k.h, 189);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 1);
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b);
	assert_null(out(&k)); /* cwnd is one segment (RFC 5681 §3.1) */
	assert_int_equal(cwnd(&k), k.seg);
	/* it arrives: slow start sends the third and fourth, not the SACKed second */
	h_advance(&k.h, 40);
	ack(&k, k.b + 2 * k.seg, 0, 0, NULL);
	r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b + 2 * k.seg);
	r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b + 3 * k.seg);
	assert_null(out(&k));
	assert_int_equal(ctr(&k)->rto_expired, 1);
	teardown(&k);
}

static void tcp_reordered_duplicate_ack_passes_paws_with_its_sack(void **state)
{
	(void)state;
	struct rk k;
	setup(&k, true);
	hole_at_first(&k); /* TS.Recent is the peer's clock now */
	uint32_t newer = k.ptsval;
	/* a duplicate ACK the peer sent earlier, overtaken on the way: its
	 * TSval is older, its SACK block new. Not a PAWS drop (Linux's
	 * tcp_disordered_ack), and no ACK is sent back for it. */
	struct td_tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_ts = true;
	o.tsval = newer - 1;
	o.tsecr = k.last_tsval;
	o.sack_count = 1;
	o.sack[0] = (struct td_tcp_sack_block){k.b + 2 * k.seg, k.b + 4 * k.seg};
	h_in(&k.h, TD_TCP_ACK, k.pseq, k.b, 65535, &o, NULL, 0);
	assert_int_equal(ctr(&k)->rx_paws_reject, 0);
	/* it was taken: three segments SACKed above the first, no reordering
	 * seen, so reo_wnd is 0 and the first is retransmitted at once */
	const struct h_seg *r = out(&k);
	assert_non_null(r);
	assert_int_equal(r->r.seq, k.b);
	assert_int_equal(r->r.payload.len, k.seg);
	assert_null(out(&k));
	/* an older cumulative ACK with an old TSval is dropped, silently */
	o.sack_count = 0;
	h_in(&k.h, TD_TCP_ACK, k.pseq, k.b - 1, 65535, &o, NULL, 0);
	assert_int_equal(ctr(&k)->rx_paws_reject, 1);
	assert_int_equal(h_pending(&k.h), 0);
	teardown(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_rack_marks_hole_lost_after_rtt_plus_reordering_window),
		cmocka_unit_test(tcp_rack_reordered_segment_within_window_is_not_retransmitted),
		cmocka_unit_test(tcp_rack_lost_retransmission_found_without_rto),
		cmocka_unit_test(tcp_tlp_probes_last_segment_two_srtt_after_send),
		cmocka_unit_test(tcp_tlp_sends_new_data_when_it_can),
		cmocka_unit_test(tcp_dsack_reports_duplicate_segments_first_once),
		cmocka_unit_test(tcp_dsack_for_every_retransmission_undoes_reduction),
		cmocka_unit_test(tcp_dsack_undo_during_recovery_ends_it_at_the_old_window),
		cmocka_unit_test(tcp_dsack_of_a_network_duplicate_does_not_undo),
		cmocka_unit_test(tcp_spurious_rto_detected_by_timestamp_is_undone),
		cmocka_unit_test(tcp_rto_with_sack_resends_only_unsacked_segments),
		cmocka_unit_test(tcp_reordered_duplicate_ack_passes_paws_with_its_sack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
