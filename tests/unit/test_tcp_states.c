/* TCP state machine in virtual time: handshakes, RST and challenge-ACK rules, close, TIME_WAIT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"
#include "tundra/os_misc.h"

#include <poll.h>
#include <unistd.h>

static struct td_tcp_opts no_opts;

static struct td_tcp_sock *connect_sock(struct harness *h)
{
	struct td_tcp_sock *s;
	assert_int_equal(td_tcp_socket(h->tcp, 4, &s), 0);
	struct td_tcp_endpoint l = {.family = 4, .addr = {10, 0, 0, 2}, .port = 80};
	assert_int_equal(td_tcp_bind(s, &l), 0);
	td_tcp_set_callback(s, h_cb, h);
	struct td_tcp_endpoint r = {.family = 4, .addr = {10, 0, 0, 1}, .port = 40000};
	assert_int_equal(td_tcp_connect(s, &r, h->now), 0);
	return s;
}

static void tcp_passive_open_three_way_handshake(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst = h_listen(&h, 4);
	struct td_tcp_opts o = {.has_mss = true, .mss = 1400, .has_wscale = true, .wscale = 7,
				.sack_perm = true, .has_ts = true, .tsval = 100};
	h_in(&h, TD_TCP_SYN, 1000, 0, 65535, &o, NULL, 0);
	const struct h_seg *sa = h_out(&h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(sa->r.ack, 1001);
	assert_true(sa->r.opt.has_mss);
	assert_int_equal(sa->r.opt.mss, 1460);
	assert_true(sa->r.opt.has_wscale);
	assert_int_equal(sa->r.opt.wscale, 3); /* 256 KiB >> 3 is the first to fit 16 bits */
	assert_true(sa->r.opt.sack_perm);
	assert_true(sa->r.opt.has_ts);
	assert_int_equal(sa->r.opt.tsecr, 100);
	assert_int_equal(sa->r.window, 65535);
	struct td_tcp_sock *c;
	assert_int_equal(td_tcp_accept(lst, &c), -EAGAIN);
	struct td_tcp_opts a = {.has_ts = true, .tsval = 101, .tsecr = sa->r.opt.tsval};
	h_in(&h, TD_TCP_ACK, 1001, sa->r.seq + 1, 512, &a, NULL, 0);
	assert_int_equal(h_pending(&h), 0);
	assert_int_equal(td_tcp_accept(lst, &c), 0);
	struct td_tcp_info info;
	td_tcp_sock_info(c, &info);
	assert_int_equal(info.state, TD_TCP_ESTABLISHED);
	assert_int_equal(info.mss, 1400);
	assert_int_equal(info.snd_wnd, 512u << 7);
	assert_true(info.sack && info.timestamps);
	assert_int_equal(td_tcp_close(c, h.now), 0);
	assert_int_equal(td_tcp_close(lst, h.now), 0);
	h_fini(&h);
}

static void tcp_active_open_sends_syn_and_connects(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *s = connect_sock(&h);
	const struct h_seg *syn = h_out(&h);
	assert_non_null(syn);
	assert_int_equal(syn->r.flags, TD_TCP_SYN);
	assert_true(syn->r.opt.has_mss && syn->r.opt.sack_perm && syn->r.opt.has_ts &&
		    syn->r.opt.has_wscale);
	assert_int_equal(syn->r.opt.tsecr, 0);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_SYN_SENT);
	uint32_t iss = syn->r.seq;
	/* the peer offers no options: none may be used */
	h_in(&h, TD_TCP_SYN | TD_TCP_ACK, 5000, iss + 1, 8192, &no_opts, NULL, 0);
	const struct h_seg *ack = h_out(&h);
	assert_non_null(ack);
	assert_int_equal(ack->r.flags, TD_TCP_ACK);
	assert_int_equal(ack->r.seq, iss + 1);
	assert_int_equal(ack->r.ack, 5001);
	assert_false(ack->r.opt.has_ts);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_ESTABLISHED);
	assert_true(h.events & TD_TCP_EV_CONNECTED);
	struct td_tcp_info info;
	td_tcp_sock_info(s, &info);
	assert_int_equal(info.mss, 536);
	assert_false(info.sack || info.timestamps);
	assert_int_equal(info.snd_wscale, 0);
	assert_int_equal(info.rcv_wscale, 0);
	td_tcp_abort(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_syn_sent_bad_ack_sends_rst(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *s = connect_sock(&h);
	uint32_t iss = h_out(&h)->r.seq;
	h_in(&h, TD_TCP_SYN | TD_TCP_ACK, 5000, iss + 7, 8192, &no_opts, NULL, 0);
	const struct h_seg *rst = h_out(&h);
	assert_non_null(rst);
	assert_int_equal(rst->r.flags, TD_TCP_RST);
	assert_int_equal(rst->r.seq, iss + 7);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_SYN_SENT);
	td_tcp_close(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_syn_sent_rst_with_ack_refuses(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *s = connect_sock(&h);
	uint32_t iss = h_out(&h)->r.seq;
	/* RST without ACK: ignored (RFC 5961 §3.2 for SYN-SENT) */
	h_in(&h, TD_TCP_RST, 0, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_SYN_SENT);
	h_in(&h, TD_TCP_RST | TD_TCP_ACK, 0, iss + 1, 0, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_CLOSED);
	assert_int_equal(h_pending(&h), 0);
	assert_true(h.events & TD_TCP_EV_ERROR);
	char b[4];
	assert_int_equal(td_tcp_recv(s, b, sizeof(b), h.now), -ECONNREFUSED);
	td_tcp_close(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_simultaneous_open_reaches_established(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *s = connect_sock(&h);
	uint32_t iss = h_out(&h)->r.seq;
	h_in(&h, TD_TCP_SYN, 7000, 0, 8192, &no_opts, NULL, 0);
	const struct h_seg *sa = h_out(&h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(sa->r.seq, iss);
	assert_int_equal(sa->r.ack, 7001);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_SYN_RECEIVED);
	/* the peer's SYN-ACK (RFC 9293 figure 8, line 5) */
	h_in(&h, TD_TCP_SYN | TD_TCP_ACK, 7000, iss + 1, 8192, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_ESTABLISHED);
	assert_true(h.events & TD_TCP_EV_CONNECTED);
	td_tcp_abort(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_closed_port_answers_rst(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	h_in(&h, TD_TCP_SYN, 100, 0, 1000, &no_opts, NULL, 0);
	const struct h_seg *r = h_out(&h);
	assert_non_null(r);
	assert_int_equal(r->r.flags, TD_TCP_RST | TD_TCP_ACK);
	assert_int_equal(r->r.seq, 0);
	assert_int_equal(r->r.ack, 101);
	h_in(&h, TD_TCP_ACK, 100, 4242, 1000, &no_opts, "xy", 2);
	r = h_out(&h);
	assert_non_null(r);
	assert_int_equal(r->r.flags, TD_TCP_RST);
	assert_int_equal(r->r.seq, 4242);
	/* never an RST for an RST */
	h_in(&h, TD_TCP_RST, 100, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 0);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_no_socket, 3);
	h_fini_expect_empty(&h);
}

static void tcp_listen_ack_without_syn_sends_rst(void **state)
{
	(void)state;
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.syncookies = false;
	h_init(&h, &cfg);
	struct td_tcp_sock *lst = h_listen(&h, 4);
	h_in(&h, TD_TCP_ACK, 10, 999, 1000, &no_opts, NULL, 0);
	const struct h_seg *r = h_out(&h);
	assert_non_null(r);
	assert_int_equal(r->r.flags, TD_TCP_RST);
	assert_int_equal(r->r.seq, 999);
	h_in(&h, TD_TCP_RST, 10, 0, 0, &no_opts, NULL, 0);
	h_in(&h, TD_TCP_SYN | TD_TCP_FIN, 10, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 0);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

/* Establish a passive connection without options; returns the socket. */
static struct td_tcp_sock *est(struct harness *h, struct td_tcp_sock **lst, uint32_t *iss)
{
	*lst = h_listen(h, 8);
	struct td_tcp_sock *c = h_accept_conn(h, *lst, &no_opts, 1000, iss);
	td_tcp_set_callback(c, h_cb, h);
	return c;
}

static void tcp_rst_exact_seq_resets_connection(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	h_in(&h, TD_TCP_RST, 1001, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_CLOSED);
	assert_int_equal(h_pending(&h), 0);
	char b[4];
	assert_int_equal(td_tcp_recv(c, b, 4, h.now), -ECONNRESET);
	assert_int_equal(td_tcp_send(c, b, 4, h.now), -EPIPE);
	td_tcp_close(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_rst_in_window_sends_challenge_ack(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	h_in(&h, TD_TCP_RST, 1001 + 100, 0, 0, &no_opts, NULL, 0);
	const struct h_seg *a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.flags, TD_TCP_ACK);
	assert_int_equal(a->r.seq, iss + 1);
	assert_int_equal(a->r.ack, 1001);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_ESTABLISHED);
	/* out of window: silently dropped */
	h_in(&h, TD_TCP_RST, 1001 + 10000000, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 0);
	assert_int_equal(td_tcp_counters(h.tcp)->tx_challenge_ack, 1);
	td_tcp_abort(c, h.now);
	h_drain(&h);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_syn_in_established_sends_challenge_ack(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	h_in(&h, TD_TCP_SYN, 1001 + 5, 0, 1000, &no_opts, NULL, 0);
	const struct h_seg *a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.flags, TD_TCP_ACK);
	assert_int_equal(a->r.ack, 1001);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_ESTABLISHED);
	td_tcp_abort(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_challenge_acks_are_rate_limited(void **state)
{
	(void)state;
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.challenge_ack_limit = 3;
	h_init(&h, &cfg);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	for (int i = 0; i < 10; i++)
		h_in(&h, TD_TCP_RST, 1001 + 100 + (uint32_t)i, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 3);
	assert_int_equal(td_tcp_counters(h.tcp)->challenge_ack_limited, 7);
	h_drain(&h);
	h_advance(&h, 1000);
	h_in(&h, TD_TCP_RST, 1001 + 100, 0, 0, &no_opts, NULL, 0);
	assert_int_equal(h_pending(&h), 1);
	td_tcp_abort(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_ack_of_unsent_data_is_dropped_with_ack(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	h_in(&h, TD_TCP_ACK, 1001, iss + 5000, 1000, &no_opts, "abc", 3);
	const struct h_seg *a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, 1001); /* the data was not taken */
	char b[8];
	assert_int_equal(td_tcp_recv(c, b, 8, h.now), -EAGAIN);
	td_tcp_abort(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_unacceptable_segment_gets_ack(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	/* far beyond the window */
	h_in(&h, TD_TCP_ACK, 1001 + 5000000, iss + 1, 1000, &no_opts, "abc", 3);
	const struct h_seg *a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.flags, TD_TCP_ACK);
	assert_int_equal(a->r.ack, 1001);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_unacceptable, 1);
	td_tcp_abort(c, h.now);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_half_close_then_data_then_fin(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	/* the peer half-closes: we get EOF but may still send */
	h_in(&h, TD_TCP_ACK | TD_TCP_FIN, 1001, iss + 1, 1000, &no_opts, "hi", 2);
	const struct h_seg *a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, 1004);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_CLOSE_WAIT);
	char b[8];
	assert_int_equal(td_tcp_recv(c, b, 8, h.now), 2);
	assert_int_equal(td_tcp_recv(c, b, 8, h.now), 0);
	assert_int_equal(td_tcp_send(c, "reply", 5, h.now), 5);
	const struct h_seg *d = h_out(&h);
	assert_non_null(d);
	assert_int_equal(d->r.payload.len, 5);
	assert_memory_equal(d->r.payload.ptr, "reply", 5);
	assert_int_equal(td_tcp_close(c, h.now), 0);
	const struct h_seg *f = h_out(&h);
	assert_non_null(f);
	assert_int_equal(f->r.flags, TD_TCP_ACK | TD_TCP_FIN);
	assert_int_equal(f->r.seq, iss + 6);
	h_in(&h, TD_TCP_ACK, 1004, iss + 7, 1000, &no_opts, NULL, 0);
	/* LAST-ACK -> CLOSED, and the handle was released: the pool is empty */
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_active_close_time_wait_lasts_2msl(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	td_tcp_close(lst, h.now);
	assert_int_equal(td_tcp_shutdown(c, 1, h.now), 0);
	const struct h_seg *f = h_out(&h);
	assert_int_equal(f->r.flags, TD_TCP_ACK | TD_TCP_FIN);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_FIN_WAIT_1);
	h_in(&h, TD_TCP_ACK, 1001, iss + 2, 1000, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_FIN_WAIT_2);
	h_in(&h, TD_TCP_ACK | TD_TCP_FIN, 1001, iss + 2, 1000, &no_opts, NULL, 0);
	const struct h_seg *a = h_out(&h);
	assert_int_equal(a->r.ack, 1002);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_TIME_WAIT);
	td_tcp_close(c, h.now);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), 1);
	/* a retransmitted FIN is acknowledged again */
	h_advance(&h, 30000);
	h_in(&h, TD_TCP_ACK | TD_TCP_FIN, 1001, iss + 2, 1000, &no_opts, NULL, 0);
	a = h_out(&h);
	assert_non_null(a);
	assert_int_equal(a->r.ack, 1002);
	/* and it restarted the 2*MSL timer */
	h_advance(&h, 59000);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), 1);
	h_advance(&h, 1001);
	h_fini_expect_empty(&h);
}

static void tcp_simultaneous_close_goes_through_closing(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	td_tcp_close(lst, h.now);
	td_tcp_close(c, h.now);
	const struct h_seg *f = h_out(&h);
	assert_int_equal(f->r.flags, TD_TCP_ACK | TD_TCP_FIN);
	/* the peer's FIN crosses ours: it does not ack our FIN */
	h_in(&h, TD_TCP_ACK | TD_TCP_FIN, 1001, iss + 1, 1000, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_CLOSING);
	const struct h_seg *a = h_out(&h);
	assert_int_equal(a->r.ack, 1002);
	h_in(&h, TD_TCP_ACK, 1002, iss + 2, 1000, &no_opts, NULL, 0);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_TIME_WAIT);
	h_advance(&h, 60001);
	h_fini_expect_empty(&h);
}

static void tcp_time_wait_newer_syn_reopens(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	td_tcp_close(c, h.now);
	h_out(&h);
	h_in(&h, TD_TCP_ACK | TD_TCP_FIN, 1001, iss + 2, 1000, &no_opts, NULL, 0);
	h_drain(&h);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), 2); /* listener + TIME_WAIT */
	h_in(&h, TD_TCP_SYN, 900000, 0, 1000, &no_opts, NULL, 0);
	const struct h_seg *sa = h_out(&h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(sa->r.ack, 900001);
	assert_int_equal(td_tcp_counters(h.tcp)->time_wait_reused, 1);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_close_with_unread_data_resets(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst;
	uint32_t iss;
	struct td_tcp_sock *c = est(&h, &lst, &iss);
	h_in(&h, TD_TCP_ACK | TD_TCP_PSH, 1001, iss + 1, 1000, &no_opts, "unread", 6);
	h_drain(&h);
	td_tcp_close(c, h.now);
	const struct h_seg *r = h_out(&h);
	assert_non_null(r);
	assert_int_equal(r->r.flags, TD_TCP_RST);
	assert_int_equal(r->r.seq, iss + 1);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_syn_retransmits_with_backoff_then_times_out(void **state)
{
	(void)state;
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.syn_retries = 3;
	h_init(&h, &cfg);
	struct td_tcp_sock *s = connect_sock(&h);
	uint64_t t0 = h.now;
	assert_non_null(h_out(&h));
	uint64_t expect[3] = {1000, 3000, 7000};
	for (int i = 0; i < 3; i++) {
		h_advance(&h, expect[i] - (h.now - t0) / H_MS - 1);
		assert_int_equal(h_pending(&h), 0);
		h_advance(&h, 1);
		const struct h_seg *syn = h_out(&h);
		assert_non_null(syn);
		assert_int_equal(syn->r.flags, TD_TCP_SYN);
	}
	h_advance(&h, 8000);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_CLOSED);
	assert_int_equal(td_tcp_sock_error(s), -ETIMEDOUT);
	td_tcp_close(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_synack_lost_peer_syn_retransmit_resends_synack(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst = h_listen(&h, 4);
	h_in(&h, TD_TCP_SYN, 1000, 0, 65535, &no_opts, NULL, 0);
	const struct h_seg *sa = h_out(&h);
	uint32_t iss = sa->r.seq;
	h_in(&h, TD_TCP_SYN, 1000, 0, 65535, &no_opts, NULL, 0);
	sa = h_out(&h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(sa->r.seq, iss);
	/* an ACK that does not ack our SYN gets an RST */
	h_in(&h, TD_TCP_ACK, 1001, iss + 10, 65535, &no_opts, NULL, 0);
	const struct h_seg *r = h_out(&h);
	assert_int_equal(r->r.flags, TD_TCP_RST);
	assert_int_equal(r->r.seq, iss + 10);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_icmp_port_unreachable_fails_connect(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *s = connect_sock(&h);
	uint32_t iss = h_out(&h)->r.seq;
	struct td_tcp_tuple t;
	td_tcp_sock_tuple(s, &t);
	td_tcp_icmp_error(h.tcp, h.now, &t, TD_TCP_ICMP_PORT_UNREACH, 0, iss + 5); /* not in flight */
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_SYN_SENT);
	td_tcp_icmp_error(h.tcp, h.now, &t, TD_TCP_ICMP_PORT_UNREACH, 0, iss);
	assert_int_equal(td_tcp_sock_state(s), TD_TCP_CLOSED);
	assert_int_equal(td_tcp_sock_error(s), -ECONNREFUSED);
	td_tcp_close(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_failed_connect_never_fires_callback(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *s;
	assert_int_equal(td_tcp_socket(h.tcp, 4, &s), 0);
	td_tcp_set_callback(s, h_cb, &h);
	struct td_tcp_endpoint r = {.family = 4, .addr = {10, 0, 0, 1}, .port = 40000};
	assert_int_equal(td_tcp_connect(s, &r, h.now), -EADDRNOTAVAIL); /* unbound */
	h_advance(&h, 10000);
	assert_int_equal(h.ncb, 0);
	assert_int_equal(h_pending(&h), 0);
	td_tcp_close(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_isn_differs_per_tuple_and_advances_with_time(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst = h_listen(&h, 8);
	h_in(&h, TD_TCP_SYN, 1000, 0, 65535, &no_opts, NULL, 0);
	uint32_t a = h_out(&h)->r.seq;
	h.peer.rport = 40001;
	h_in(&h, TD_TCP_SYN, 1000, 0, 65535, &no_opts, NULL, 0);
	uint32_t b = h_out(&h)->r.seq;
	assert_true(a != b);
	h.peer.rport = 40000;
	h_in(&h, TD_TCP_RST, 1001, 0, 0, &no_opts, NULL, 0);
	h.now += 4000000; /* 4 ms = 1000 ticks of the 4 us clock (RFC 6528) */
	h_in(&h, TD_TCP_SYN, 1000, 0, 65535, &no_opts, NULL, 0);
	uint32_t c = h_out(&h)->r.seq;
	assert_int_equal(c - a, 1000);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_eventfd_becomes_readable_on_socket_events(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	int fd = td_tcp_eventfd_open(h.tcp);
	assert_true(fd >= 0);
	struct td_tcp_sock *s = connect_sock(&h);
	td_tcp_set_callback(s, NULL, NULL); /* an application that only polls the fd */
	uint32_t iss = h_out(&h)->r.seq;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0); /* nothing happened yet */
	h_in(&h, TD_TCP_SYN | TD_TCP_ACK, 5000, iss + 1, 8192, &no_opts, NULL, 0);
	assert_int_equal(poll(&p, 1, 0), 1);
	uint64_t n;
	assert_int_equal(read(fd, &n, sizeof(n)), (ssize_t)sizeof(n));
	assert_true(n >= 1);
	assert_true(td_tcp_events(s) & TD_TCP_EV_WRITABLE);
	td_tcp_eventfd_close(h.tcp, fd);
	td_tcp_abort(s, h.now);
	h_fini_expect_empty(&h);
}

static void tcp_raw_bytes_entry_checks_checksum_and_options(void **state)
{
	(void)state;
	struct harness h;
	h_init(&h, NULL);
	struct td_tcp_sock *lst = h_listen(&h, 4);
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = 40000;
	r.dst_port = 80;
	r.seq = 77;
	r.flags = TD_TCP_SYN;
	r.window = 1000;
	r.opt.has_mss = true;
	r.opt.mss = 1200;
	uint8_t seg[64];
	size_t n = td_tcp_size(&r);
	/* pseudo-header as the peer (10.0.0.1) sending to us (10.0.0.2) computes it */
	uint32_t ph = td_csum_pseudo4(0x0a000001, 0x0a000002, TD_IPPROTO_TCP, (uint16_t)n);
	assert_int_equal(td_tcp_emit(&r, ph, seg, n), TD_WIRE_OK);
	seg[16] ^= 0x55; /* checksum broken */
	td_tcp_input_bytes(h.tcp, h.now, &h.peer, seg, n, 0);
	assert_int_equal(h_pending(&h), 0);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_bad_csum, 1);
	seg[16] ^= 0x55;
	td_tcp_input_bytes(h.tcp, h.now, &h.peer, seg, n, 0);
	const struct h_seg *sa = h_out(&h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(sa->r.ack, 78);
	/* an option of length 0 is a counted drop */
	seg[20] = 2;
	seg[21] = 0;
	td_tcp_input_bytes(h.tcp, h.now, &h.peer, seg, n, TD_WIRE_SKIP_CSUM);
	assert_int_equal(td_tcp_counters(h.tcp)->rx_bad_option, 1);
	assert_int_equal(h_pending(&h), 0);
	td_tcp_close(lst, h.now);
	h_fini_expect_empty(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_passive_open_three_way_handshake),
		cmocka_unit_test(tcp_active_open_sends_syn_and_connects),
		cmocka_unit_test(tcp_syn_sent_bad_ack_sends_rst),
		cmocka_unit_test(tcp_syn_sent_rst_with_ack_refuses),
		cmocka_unit_test(tcp_simultaneous_open_reaches_established),
		cmocka_unit_test(tcp_closed_port_answers_rst),
		cmocka_unit_test(tcp_listen_ack_without_syn_sends_rst),
		cmocka_unit_test(tcp_rst_exact_seq_resets_connection),
		cmocka_unit_test(tcp_rst_in_window_sends_challenge_ack),
		cmocka_unit_test(tcp_syn_in_established_sends_challenge_ack),
		cmocka_unit_test(tcp_challenge_acks_are_rate_limited),
		cmocka_unit_test(tcp_ack_of_unsent_data_is_dropped_with_ack),
		cmocka_unit_test(tcp_unacceptable_segment_gets_ack),
		cmocka_unit_test(tcp_half_close_then_data_then_fin),
		cmocka_unit_test(tcp_active_close_time_wait_lasts_2msl),
		cmocka_unit_test(tcp_simultaneous_close_goes_through_closing),
		cmocka_unit_test(tcp_time_wait_newer_syn_reopens),
		cmocka_unit_test(tcp_close_with_unread_data_resets),
		cmocka_unit_test(tcp_syn_retransmits_with_backoff_then_times_out),
		cmocka_unit_test(tcp_synack_lost_peer_syn_retransmit_resends_synack),
		cmocka_unit_test(tcp_icmp_port_unreachable_fails_connect),
		cmocka_unit_test(tcp_failed_connect_never_fires_callback),
		cmocka_unit_test(tcp_isn_differs_per_tuple_and_advances_with_time),
		cmocka_unit_test(tcp_eventfd_becomes_readable_on_socket_events),
		cmocka_unit_test(tcp_raw_bytes_entry_checks_checksum_and_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
