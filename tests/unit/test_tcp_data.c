/* TCP data path in virtual time: delayed ACK, Nagle, windows, SACK, PAWS, persist, loss recovery, CUBIC, cookies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "tcp_harness.h"

static struct td_tcp_opts no_opts;
static uint8_t blob[65536];

struct conn {
	struct harness h;
	struct td_tcp_sock *lst, *c;
	uint32_t iss; /* ours */
	uint32_t pseq; /* the peer's next sequence number */
	uint32_t ptsval;
	bool ts;
};

/* Established passive connection; peer options as given (NULL: none). */
static void setup(struct conn *k, const struct td_tcp_config *cfg, const struct td_tcp_opts *synopt)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 31 + 7);
	h_init(&k->h, cfg);
	k->lst = h_listen(&k->h, 8);
	k->c = h_accept_conn(&k->h, k->lst, synopt ? synopt : &no_opts, 1000, &k->iss);
	td_tcp_set_callback(k->c, h_cb, &k->h);
	k->pseq = 1001;
	k->ts = synopt && synopt->has_ts;
	k->ptsval = synopt ? synopt->tsval + 1 : 0;
}

static void teardown_abort(struct conn *k)
{
	td_tcp_abort(k->c, k->h.now);
	td_tcp_close(k->lst, k->h.now);
	h_fini_expect_empty(&k->h);
}

/* The peer sends data (with a timestamp when negotiated). */
static void pdata(struct conn *k, uint32_t seq, size_t len, uint32_t ack, uint16_t win)
{
	struct td_tcp_opts o = no_opts;
	if (k->ts) {
		o.has_ts = true;
		o.tsval = k->ptsval;
		o.tsecr = 1;
	}
	k->h.peer.rport = 40000;
	h_in(&k->h, TD_TCP_ACK, seq, ack, win, &o, blob, len);
}

static void pack(struct conn *k, uint32_t ack, uint16_t win, const struct td_tcp_opts *o)
{
	h_in(&k->h, TD_TCP_ACK, k->pseq, ack, win, o ? o : &no_opts, NULL, 0);
}

static void tcp_delayed_ack_waits_then_fires(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.delack_ms = 40;
	setup(&k, &cfg, NULL);
	pdata(&k, 1001, 100, k.iss + 1, 65535);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 39);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 1);
	const struct h_seg *a = h_out(&k.h);
	assert_non_null(a);
	assert_int_equal(a->r.flags, TD_TCP_ACK);
	assert_int_equal(a->r.ack, 1101);
	teardown_abort(&k);
}

static void tcp_every_second_full_segment_is_acked_at_once(void **state)
{
	(void)state;
	struct conn k;
	setup(&k, NULL, NULL);
	pdata(&k, 1001, 536, k.iss + 1, 65535);
	assert_int_equal(h_pending(&k.h), 0);
	pdata(&k, 1537, 536, k.iss + 1, 65535);
	const struct h_seg *a = h_out(&k.h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, 2073);
	teardown_abort(&k);
}

static void tcp_out_of_order_segment_acked_at_once_with_sack(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.sack_perm = true, .has_ts = true, .tsval = 50};
	setup(&k, NULL, &syn);
	pdata(&k, 1001 + 1000, 500, k.iss + 1, 65535); /* hole [1001, 2001) */
	const struct h_seg *a = h_out(&k.h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, 1001);
	assert_int_equal(a->r.opt.sack_count, 1);
	assert_int_equal(a->r.opt.sack[0].left, 2001);
	assert_int_equal(a->r.opt.sack[0].right, 2501);
	pdata(&k, 1001 + 3000, 500, k.iss + 1, 65535);
	a = h_out(&k.h);
	/* RFC 2018 §4: the newest block first */
	assert_int_equal(a->r.opt.sack_count, 2);
	assert_int_equal(a->r.opt.sack[0].left, 4001);
	assert_int_equal(a->r.opt.sack[1].left, 2001);
	pdata(&k, 1001 + 5000, 10, k.iss + 1, 65535);
	pdata(&k, 1001 + 6000, 10, k.iss + 1, 65535);
	h_drain(&k.h);
	pdata(&k, 1001 + 7000, 10, k.iss + 1, 65535);
	a = h_out(&k.h);
	assert_int_equal(a->r.opt.sack_count, 3); /* 3 blocks fit beside timestamps */
	assert_int_equal(a->r.opt.sack[0].left, 8001);
	/* filling the first hole: an immediate ACK up to the next hole */
	pdata(&k, 1001, 1000, k.iss + 1, 65535);
	a = h_out(&k.h);
	assert_int_equal(a->r.ack, 2501);
	char buf[4000];
	assert_int_equal(td_tcp_recv(k.c, buf, sizeof(buf), k.h.now), 1500);
	assert_memory_equal(buf, blob, 1000);
	assert_memory_equal(buf + 1000, blob, 500);
	teardown_abort(&k);
}

static void tcp_paws_drops_old_timestamp(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.has_ts = true, .tsval = 1000000};
	setup(&k, NULL, &syn);
	k.ptsval = 1000100;
	pdata(&k, 1001, 10, k.iss + 1, 65535);
	h_drain(&k.h);
	k.ptsval = 999999; /* older than TS.Recent */
	pdata(&k, 1011, 10, k.iss + 1, 65535);
	const struct h_seg *a = h_out(&k.h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, 1011); /* the data was not taken */
	assert_int_equal(a->r.opt.tsecr, 1000100);
	assert_int_equal(td_tcp_counters(k.h.tcp)->rx_paws_reject, 1);
	/* across the 2^31 wrap a newer timestamp is still newer */
	k.ptsval = 1000100 + 0x7fff0000u;
	pdata(&k, 1011, 10, k.iss + 1, 65535);
	assert_int_equal(td_tcp_counters(k.h.tcp)->rx_paws_reject, 1);
	teardown_abort(&k);
}

/* RFC 7323 §5.4: TSvals never go back. The socket API's caller may pass a
 * fresher clock than the input or poll that next makes TCP send (the CLI's
 * --connect client did); segments built afterwards at the older reading
 * carried older TSvals, and the kernel's PAWS dropped them (a hole per run,
 * then SACK recovery). */
static void tcp_tsval_never_goes_back_when_callers_clocks_differ(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.has_ts = true, .tsval = 1000000, .has_mss = true, .mss = 1460};
	setup(&k, NULL, &syn);
	uint64_t stale = k.h.now;
	/* two full segments sent at a reading 5 ms ahead of the loop's */
	assert_int_equal(td_tcp_send(k.c, blob, 2 * 1448, stale + 5 * H_MS), 2 * 1448);
	/* more data at the older reading */
	assert_int_equal(td_tcp_send(k.c, blob, 4 * 1448, stale), 4 * 1448);
	assert_true(h_pending(&k.h) >= 6);
	uint32_t first = 0;
	for (unsigned i = 0; i < 6; i++) {
		const struct h_seg *d = h_out(&k.h);
		assert_non_null(d);
		assert_true(d->r.opt.has_ts);
		if (i == 0)
			first = d->r.opt.tsval;
		/* every later segment carries at least the newest TSval sent */
		assert_true((int32_t)(d->r.opt.tsval - first) >= 0);
	}
	teardown_abort(&k);
}

static void tcp_window_scale_applied_and_advertised(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.rcvbuf = 1 << 20; /* shift 5 */
	struct td_tcp_opts syn = {.has_wscale = true, .wscale = 14};
	setup(&k, &cfg, &syn);
	struct td_tcp_info in;
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.rcv_wscale, 5);
	assert_int_equal(in.snd_wscale, 14);
	assert_int_equal(in.snd_wnd, 65535u << 14); /* the handshake ACK's window, scaled */
	pdata(&k, 1001, 1000, k.iss + 1, 2);
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.snd_wnd, 2u << 14);
	h_advance(&k.h, 200);
	const struct h_seg *a = h_out(&k.h);
	assert_non_null(a);
	/* (1 MiB - 1000) >> 5, rounded down to the scale unit */
	assert_int_equal(a->r.window, ((1u << 20) - 1000) >> 5);
	teardown_abort(&k);
}

static void tcp_wscale_above_14_is_clamped(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.has_wscale = true, .wscale = 15};
	setup(&k, NULL, &syn);
	struct td_tcp_info in;
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.snd_wscale, 14); /* RFC 7323 §2.3 */
	teardown_abort(&k);
}

static void tcp_sequence_wraparound_is_handled(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst = h_listen(&h, 8);
	uint32_t iss;
	uint32_t isn = 0xffffff00u;
	struct td_tcp_sock *c = h_accept_conn(&h, lst, &no_opts, isn, &iss);
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 31 + 7);
	/* 512 bytes cross 2^32 */
	h_in(&h, TD_TCP_ACK, isn + 1, iss + 1, 65535, &no_opts, blob, 512);
	h_in(&h, TD_TCP_ACK, isn + 513, iss + 1, 65535, &no_opts, blob + 512, 512);
	h_advance(&h, 40); /* below two full segments: the delayed ACK */
	const struct h_seg *a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, isn + 1025);
	assert_true(a->r.ack < 0x1000);
	char buf[2048];
	assert_int_equal(td_tcp_recv(c, buf, sizeof(buf), h.now), 1024);
	assert_memory_equal(buf, blob, 1024);
	td_tcp_abort(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_nagle_holds_small_segment_until_ack(void **state)
{
	(void)state;
	struct conn k;
	setup(&k, NULL, NULL);
	assert_int_equal(td_tcp_send(k.c, "a", 1, k.h.now), 1);
	const struct h_seg *d = h_out(&k.h);
	assert_non_null(d);
	assert_int_equal(d->r.payload.len, 1);
	assert_int_equal(td_tcp_send(k.c, "bc", 2, k.h.now), 2);
	assert_int_equal(h_pending(&k.h), 0); /* one small segment outstanding */
	pack(&k, k.iss + 2, 65535, NULL);
	d = h_out(&k.h);
	assert_non_null(d);
	assert_int_equal(d->r.seq, k.iss + 2);
	assert_int_equal(d->r.payload.len, 2);
	/* with no-delay, small segments go at once */
	td_tcp_setopt(k.c, TD_TCP_OPT_NODELAY, 1);
	assert_int_equal(td_tcp_send(k.c, "d", 1, k.h.now), 1);
	assert_int_equal(h_pending(&k.h), 1);
	teardown_abort(&k);
}

static void tcp_initial_window_is_ten_segments(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.has_mss = true, .mss = 1460};
	setup(&k, NULL, &syn);
	assert_int_equal(td_tcp_send(k.c, blob, 65536, k.h.now), 65536);
	assert_int_equal(h_pending(&k.h), 10); /* RFC 6928: min(10*MSS, max(2*MSS, 14600)) */
	for (int i = 0; i < 10; i++) {
		const struct h_seg *d = h_out(&k.h);
		assert_int_equal(d->r.seq, k.iss + 1 + 1460u * (uint32_t)i);
		assert_int_equal(d->r.payload.len, 1460);
		assert_memory_equal(d->r.payload.ptr, blob + 1460 * i, 1460);
	}
	teardown_abort(&k);
}

static void tcp_rto_retransmits_with_exponential_backoff(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.retries = 4;
	setup(&k, &cfg, NULL);
	/* the handshake gave an RTT sample of 0: RTO = rto_min = 200 ms */
	struct td_tcp_info in;
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.rto_ms, 200);
	assert_int_equal(td_tcp_send(k.c, "hello", 5, k.h.now), 5);
	h_drain(&k.h);
	uint64_t waits[4] = {200, 400, 800, 1600};
	for (int i = 0; i < 4; i++) {
		h_advance(&k.h, waits[i] - 1);
		assert_int_equal(h_pending(&k.h), 0);
		h_advance(&k.h, 1);
		const struct h_seg *d = h_out(&k.h);
		assert_non_null(d);
		assert_int_equal(d->r.seq, k.iss + 1);
		assert_int_equal(d->r.payload.len, 5);
		td_tcp_sock_info(k.c, &in);
		assert_int_equal(in.cwnd, 536); /* RFC 5681 §3.1: loss window */
	}
	h_advance(&k.h, 3200);
	assert_int_equal(td_tcp_sock_state(k.c), TD_TCP_CLOSED);
	assert_int_equal(td_tcp_sock_error(k.c), -ETIMEDOUT);
	td_tcp_close(k.c, k.h.now);
	td_tcp_close(k.lst, k.h.now);
	h_fini_expect_empty(&k.h);
}

static void tcp_rtt_sample_sets_rto_per_rfc6298(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.rto_min_ms = 1;
	setup(&k, &cfg, NULL);
	/* first sample from the handshake is 0 -> 1 us; now time 100 ms exactly */
	assert_int_equal(td_tcp_send(k.c, "x", 1, k.h.now), 1);
	h_drain(&k.h);
	k.h.now += 100 * H_MS;
	pack(&k, k.iss + 2, 65535, NULL);
	struct td_tcp_info in;
	td_tcp_sock_info(k.c, &in);
	/* SRTT = 7/8*1 + 1/8*100000 = 12500; RTTVAR = 3/4*0 + 1/4*99999 = 24999 */
	assert_int_equal(in.srtt_us, 12500);
	assert_int_equal(in.rttvar_us, 24999);
	assert_int_equal(in.rto_ms, 113); /* 12.5 + 4*25 = 112.5 ms, rounded up */
	teardown_abort(&k);
}

/* Send n full segments of 536 bytes and return them (already drained). */
static void send_segs(struct conn *k, int n)
{
	assert_int_equal(td_tcp_send(k->c, blob, 536u * (unsigned)n, k->h.now), 536 * n);
}

static void tcp_three_dupacks_fast_retransmit_and_newreno_partial_ack(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.cc = TD_TCP_CC_RENO;
	setup(&k, &cfg, NULL);
	send_segs(&k, 10);
	assert_int_equal(h_pending(&k.h), 10);
	h_drain(&k.h);
	uint32_t base = k.iss + 1;
	/* segment 0 lost; 3 and 7 lost too; the peer acks nothing new */
	pack(&k, base, 65535, NULL);
	pack(&k, base, 65535, NULL);
	assert_int_equal(h_pending(&k.h), 0);
	pack(&k, base, 65535, NULL);
	const struct h_seg *r = h_out(&k.h);
	assert_non_null(r);
	assert_int_equal(r->r.seq, base);
	assert_int_equal(r->r.payload.len, 536);
	assert_int_equal(td_tcp_counters(k.h.tcp)->fast_retransmits, 1);
	struct td_tcp_info in;
	td_tcp_sock_info(k.c, &in);
	/* RFC 5681 §3.2: ssthresh = flight/2 = 2680, cwnd = ssthresh + 3 SMSS */
	assert_int_equal(in.ssthresh, 2680);
	assert_int_equal(in.cwnd, 2680 + 3 * 536);
	h_drain(&k.h);
	/* partial ACK up to segment 3: RFC 6582 retransmits segment 3 at once */
	pack(&k, base + 3 * 536, 65535, NULL);
	r = h_out(&k.h);
	assert_non_null(r);
	assert_int_equal(r->r.seq, base + 3 * 536);
	h_drain(&k.h);
	/* full ACK: recovery ends with cwnd = min(ssthresh, flight + SMSS) */
	pack(&k, base + 10 * 536, 65535, NULL);
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.cwnd, 536);
	teardown_abort(&k);
}

static void tcp_sack_recovery_retransmits_only_holes(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.sack_perm = true};
	setup(&k, NULL, &syn);
	send_segs(&k, 10);
	h_drain(&k.h);
	uint32_t b = k.iss + 1;
	/* segments 0 and 4 lost: SACK 1-3, then 5-9 */
	struct td_tcp_opts o = {.sack_count = 1};
	o.sack[0] = (struct td_tcp_sack_block){b + 536, b + 4 * 536};
	pack(&k, b, 65535, &o);
	o.sack_count = 2;
	o.sack[0] = (struct td_tcp_sack_block){b + 5 * 536, b + 7 * 536};
	o.sack[1] = (struct td_tcp_sack_block){b + 536, b + 4 * 536};
	pack(&k, b, 65535, &o);
	/* more than (DupThresh-1)*SMSS SACKed above segment 0: it is lost */
	const struct h_seg *r = h_out(&k.h);
	assert_non_null(r);
	assert_int_equal(r->r.seq, b);
	o.sack[0] = (struct td_tcp_sack_block){b + 5 * 536, b + 10 * 536};
	pack(&k, b, 65535, &o);
	/* next hole: segment 4, never a SACKed one */
	bool saw4 = false;
	while ((r = h_out(&k.h))) {
		assert_false(r->r.seq == b + 536 || r->r.seq == b + 2 * 536 || r->r.seq == b + 6 * 536);
		if (r->r.seq == b + 4 * 536)
			saw4 = true;
	}
	assert_true(saw4);
	assert_true(td_tcp_counters(k.h.tcp)->sack_retransmits >= 1);
	teardown_abort(&k);
}

static void tcp_zero_window_probes_with_backoff(void **state)
{
	(void)state;
	struct conn k;
	setup(&k, NULL, NULL);
	pack(&k, k.iss + 1, 0, NULL); /* the peer closes its window */
	assert_int_equal(td_tcp_send(k.c, "data", 4, k.h.now), 4);
	assert_int_equal(h_pending(&k.h), 0);
	uint64_t waits[3] = {200, 400, 800};
	for (int i = 0; i < 3; i++) {
		h_advance(&k.h, waits[i] - 1);
		assert_int_equal(h_pending(&k.h), 0);
		h_advance(&k.h, 1);
		const struct h_seg *p = h_out(&k.h);
		assert_non_null(p);
		assert_int_equal(p->r.seq, k.iss); /* SND.UNA - 1, no data */
		assert_int_equal(p->r.payload.len, 0);
		pack(&k, k.iss + 1, 0, NULL);
	}
	assert_int_equal(td_tcp_counters(k.h.tcp)->persist_probes, 3);
	pack(&k, k.iss + 1, 1000, NULL); /* window opens: the data goes */
	const struct h_seg *d = h_out(&k.h);
	assert_non_null(d);
	assert_int_equal(d->r.payload.len, 4);
	teardown_abort(&k);
}

static void tcp_small_window_sends_after_override_timeout(void **state)
{
	(void)state;
	struct conn k;
	setup(&k, NULL, NULL);
	/* the peer offered 64 KB once and now leaves 100 bytes open: less
	 * than a segment and than half the largest window, so sender SWS
	 * avoidance holds the data, and nothing in flight will bring an update */
	pack(&k, k.iss + 1, 100, NULL);
	assert_int_equal(td_tcp_send(k.c, blob, 3000, k.h.now), 3000);
	assert_int_equal(h_pending(&k.h), 0);
	/* RFC 9293 §3.8.6.2.1 (4): the override timeout sends what fits */
	h_advance(&k.h, 199);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 1);
	const struct h_seg *d = h_out(&k.h);
	assert_non_null(d);
	assert_int_equal(d->r.seq, k.iss + 1);
	assert_int_equal(d->r.payload.len, 100);
	assert_null(h_out(&k.h));
	teardown_abort(&k);
}

static void tcp_orphan_stuck_in_zero_window_gives_up(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.retries = 5;
	setup(&k, &cfg, NULL);
	pack(&k, k.iss + 1, 0, NULL);
	assert_int_equal(td_tcp_send(k.c, "data", 4, k.h.now), 4);
	td_tcp_close(k.c, k.h.now); /* orphaned, data and FIN behind a zero window */
	for (int i = 0; i < 40; i++) {
		h_advance(&k.h, 1000);
		pack(&k, k.iss + 1, 0, NULL); /* answers every probe, never opens */
	}
	assert_int_equal(td_tcp_counters(k.h.tcp)->persist_probes, 5);
	assert_int_equal(td_tcp_socks_in_use(k.h.tcp), 1); /* only the listener */
	td_tcp_close(k.lst, k.h.now);
	h_fini_expect_empty(&k.h);
}

static void tcp_receive_window_closes_and_reopens_with_update(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.rcvbuf = 4096;
	cfg.wscale = false;
	setup(&k, &cfg, NULL);
	for (int i = 0; i < 8; i++)
		pdata(&k, 1001 + 512u * (unsigned)i, 512, k.iss + 1, 65535);
	h_advance(&k.h, 100);
	const struct h_seg *a = NULL, *x;
	while ((x = h_out(&k.h)))
		a = x;
	assert_non_null(a);
	assert_int_equal(a->r.ack, 1001 + 4096);
	assert_int_equal(a->r.window, 0);
	/* beyond a zero window: not taken, ACKed */
	pdata(&k, 1001 + 4096, 100, k.iss + 1, 65535);
	a = h_out(&k.h);
	assert_int_equal(a->r.ack, 1001 + 4096);
	char buf[100];
	/* reading 100 bytes is below the SWS threshold, but the window was zero */
	assert_int_equal(td_tcp_recv(k.c, buf, 100, k.h.now), 100);
	a = h_out(&k.h);
	assert_null(a);
	char big[4096];
	assert_int_equal(td_tcp_recv(k.c, big, sizeof(big), k.h.now), 3996);
	a = h_out(&k.h);
	assert_non_null(a);
	assert_int_equal(a->r.window, 4096);
	teardown_abort(&k);
}

static void tcp_cubic_grows_concave_then_convex_after_loss(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.has_mss = true, .mss = 1000, .has_wscale = true, .wscale = 7};
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.sndbuf = 4 << 20;
	setup(&k, &cfg, &syn);
	struct td_tcp_info in;
	uint32_t una = k.iss + 1;
	static uint8_t big[1 << 20];
	/* slow start to 100 segments with an RTT of 10 ms, then a loss */
	assert_int_equal(td_tcp_send(k.c, big, sizeof(big), k.h.now), (ssize_t)sizeof(big));
	for (int rtt = 0; rtt < 50; rtt++) {
		td_tcp_sock_info(k.c, &in);
		if (in.cwnd >= 100000)
			break;
		k.h.now += 10 * H_MS;
		uint32_t flight = in.unacked;
		for (uint32_t off = 0; off < flight; off += 2000) {
			una += flight - off < 2000 ? flight - off : 2000;
			pack(&k, una, 65535, NULL);
		}
		h_drain(&k.h);
	}
	td_tcp_sock_info(k.c, &in);
	uint32_t wmax = in.cwnd;
	assert_true(wmax >= 100000);
	/* three duplicate ACKs: beta = 0.7 */
	for (int i = 0; i < 3; i++)
		pack(&k, una, 65535, NULL);
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.ssthresh, (uint32_t)((float)wmax * 0.7f));
	/* full ACK of everything: recovery ends */
	una += in.unacked;
	pack(&k, una, 65535, NULL);
	h_drain(&k.h);
	td_tcp_sock_info(k.c, &in);
	uint32_t start = in.cwnd;
	/* grow for K seconds: cwnd approaches W_max (concave) and passes it later */
	uint32_t at[90];
	for (int step = 0; step < 90; step++) {
		k.h.now += 100 * H_MS;
		td_tcp_sock_info(k.c, &in);
		uint32_t flight = in.unacked;
		for (uint32_t off = 0; off < flight; off += 1000) {
			una += flight - off < 1000 ? flight - off : 1000;
			pack(&k, una, 65535, NULL);
		}
		h_drain(&k.h);
		if (td_tcp_send(k.c, big, sizeof(big), k.h.now) < 0) {
			/* buffer full is fine */
		}
		td_tcp_sock_info(k.c, &in);
		at[step] = in.cwnd;
		if (getenv("CUBIC_DEBUG"))
			print_message("t=%d cwnd %u ssthresh %u unacked %u wmax %u\n", step, in.cwnd,
				      in.ssthresh, in.unacked, wmax);
	}
	assert_true(start <= wmax);
	/* K = cbrt(W_max * (1 - beta) / C) = cbrt(W_max/SMSS * 0.75) s: about 4.2 s
	 * for 100 segments. Concave before K (growth slows as W_max nears), a
	 * plateau around W_max, convex after (growth speeds up). */
	float kk = cbrtf((float)wmax / 1000.0f * 0.3f / 0.4f);
	assert_true(kk > 4.0f && kk < 6.0f);
	/* the epoch starts when slow start reaches ssthresh (about 1 s in) */
	assert_true(at[15] - at[10] > at[45] - at[40]);           /* concave */
	assert_true(at[55] > wmax - 2000 && at[55] < wmax + 2000); /* plateau at W_max */
	assert_true(at[89] - at[84] > at[60] - at[55]);           /* convex */
	assert_true(at[89] > wmax + 10000);
	teardown_abort(&k);
}

static void tcp_syn_cookies_when_syn_queue_full(void **state)
{
	(void)state;
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.syn_backlog = 2;
	h_init(&h, &cfg);
	struct td_tcp_sock *lst = h_listen(&h, 16);
	/* fill the SYN queue */
	for (int i = 0; i < 2; i++) {
		h.peer.rport = (uint16_t)(30000 + i);
		h_in(&h, TD_TCP_SYN, 500, 0, 65535, &no_opts, NULL, 0);
	}
	h_drain(&h);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), 3);
	/* the next SYN gets a cookie and no state */
	h.peer.rport = 40000;
	struct td_tcp_opts o = {.has_mss = true, .mss = 1400, .has_ts = true, .tsval = 77,
				.has_wscale = true, .wscale = 6, .sack_perm = true};
	h_in(&h, TD_TCP_SYN, 9000, 0, 65535, &o, NULL, 0);
	const struct h_seg *sa = h_out(&h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), 3);
	assert_int_equal(td_tcp_counters(h.tcp)->tx_cookies, 1);
	/* a forged ACK is refused */
	struct td_tcp_opts a = {.has_ts = true, .tsval = 78, .tsecr = sa->r.opt.tsval};
	h_in(&h, TD_TCP_ACK, 9001, sa->r.seq + 2, 65535, &a, NULL, 0);
	const struct h_seg *r = h_out(&h);
	assert_non_null(r);
	assert_int_equal(r->r.flags, TD_TCP_RST);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_cookie_bad, 1);
	/* the right one creates the connection, options restored */
	h_in(&h, TD_TCP_ACK, 9001, sa->r.seq + 1, 100, &a, "GET", 3);
	struct td_tcp_sock *c;
	assert_int_equal(td_tcp_accept(lst, &c), 0);
	struct td_tcp_info in;
	td_tcp_sock_info(c, &in);
	assert_int_equal(in.state, TD_TCP_ESTABLISHED);
	assert_int_equal(in.mss, 1400);
	assert_int_equal(in.snd_wscale, 6);
	assert_int_equal(in.snd_wnd, 100u << 6);
	assert_true(in.sack && in.timestamps);
	char buf[8];
	assert_int_equal(td_tcp_recv(c, buf, sizeof(buf), h.now), 3);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_cookies_ok, 1);
	td_tcp_abort(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_accept_queue_overflow_drops_syn(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst = h_listen(&h, 2);
	for (int i = 0; i < 2; i++) {
		h.peer.rport = (uint16_t)(30000 + i);
		h_in(&h, TD_TCP_SYN, 500, 0, 65535, &no_opts, NULL, 0);
		uint32_t iss = h_out(&h)->r.seq;
		h_in(&h, TD_TCP_ACK, 501, iss + 1, 65535, &no_opts, NULL, 0);
	}
	h.peer.rport = 30005;
	h_in(&h, TD_TCP_SYN, 500, 0, 65535, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 0);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_listen_overflow, 1);
	struct td_tcp_sock *c;
	assert_int_equal(td_tcp_accept(lst, &c), 0);
	td_tcp_close(c, h.now);
	h_in(&h, TD_TCP_SYN, 500, 0, 65535, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 2); /* FIN of the closed one, SYN-ACK */
	/* closing the listener resets the queued connection */
	h_drain(&h);
	td_tcp_close(lst, h.now);
	h_advance(&h, 200000);
	h_fini(&h);
}

static void tcp_icmp_ptb_lowers_mss_and_resends(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_opts syn = {.has_mss = true, .mss = 1460};
	setup(&k, NULL, &syn);
	send_segs(&k, 4); /* 2144 bytes: one 1460 + one 684 */
	h_drain(&k.h);
	struct td_tcp_tuple t;
	td_tcp_sock_tuple(k.c, &t);
	td_tcp_icmp_error(k.h.tcp, k.h.now, &t, TD_TCP_ICMP_PTB, 1280, k.iss + 1);
	const struct h_seg *d = h_out(&k.h);
	assert_non_null(d);
	assert_int_equal(d->r.seq, k.iss + 1);
	assert_int_equal(d->r.payload.len, 1240);
	struct td_tcp_info in;
	td_tcp_sock_info(k.c, &in);
	assert_int_equal(in.mss, 1240);
	teardown_abort(&k);
}

static void tcp_keepalive_probes_then_times_out(void **state)
{
	(void)state;
	struct conn k;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.ka_idle_ms = 1000;
	cfg.ka_intvl_ms = 100;
	cfg.ka_cnt = 3;
	setup(&k, &cfg, NULL);
	td_tcp_setopt(k.c, TD_TCP_OPT_KEEPALIVE, 1);
	h_advance(&k.h, 1000);
	const struct h_seg *p = h_out(&k.h);
	assert_non_null(p);
	assert_int_equal(p->r.seq, k.iss);
	pack(&k, k.iss + 1, 65535, NULL); /* answered: idle again */
	h_advance(&k.h, 999);
	assert_int_equal(h_pending(&k.h), 0);
	h_advance(&k.h, 1 + 300);
	assert_int_equal(h_pending(&k.h), 3);
	assert_int_equal(td_tcp_sock_state(k.c), TD_TCP_CLOSED);
	assert_int_equal(td_tcp_sock_error(k.c), -ETIMEDOUT);
	td_tcp_close(k.c, k.h.now);
	td_tcp_close(k.lst, k.h.now);
	h_fini_expect_empty(&k.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_delayed_ack_waits_then_fires),
		cmocka_unit_test(tcp_every_second_full_segment_is_acked_at_once),
		cmocka_unit_test(tcp_out_of_order_segment_acked_at_once_with_sack),
		cmocka_unit_test(tcp_paws_drops_old_timestamp),
		cmocka_unit_test(tcp_window_scale_applied_and_advertised),
		cmocka_unit_test(tcp_wscale_above_14_is_clamped),
		cmocka_unit_test(tcp_sequence_wraparound_is_handled),
		cmocka_unit_test(tcp_nagle_holds_small_segment_until_ack),
		cmocka_unit_test(tcp_initial_window_is_ten_segments),
		cmocka_unit_test(tcp_tsval_never_goes_back_when_callers_clocks_differ),
		cmocka_unit_test(tcp_rto_retransmits_with_exponential_backoff),
		cmocka_unit_test(tcp_rtt_sample_sets_rto_per_rfc6298),
		cmocka_unit_test(tcp_three_dupacks_fast_retransmit_and_newreno_partial_ack),
		cmocka_unit_test(tcp_sack_recovery_retransmits_only_holes),
		cmocka_unit_test(tcp_zero_window_probes_with_backoff),
		cmocka_unit_test(tcp_small_window_sends_after_override_timeout),
		cmocka_unit_test(tcp_orphan_stuck_in_zero_window_gives_up),
		cmocka_unit_test(tcp_receive_window_closes_and_reopens_with_update),
		cmocka_unit_test(tcp_cubic_grows_concave_then_convex_after_loss),
		cmocka_unit_test(tcp_syn_cookies_when_syn_queue_full),
		cmocka_unit_test(tcp_accept_queue_overflow_drops_syn),
		cmocka_unit_test(tcp_icmp_ptb_lowers_mss_and_resends),
		cmocka_unit_test(tcp_keepalive_probes_then_times_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
