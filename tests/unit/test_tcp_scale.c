/* TCP under many connections: the memory ceiling and wheel-driven timers at scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stack/tcp_internal.h"
#include "tcp_harness.h"

static struct td_tcp_opts no_opts;

/* A SYN from peer port `port`; returns the reply's flags (0 = none). */
static uint8_t syn_from(struct harness *h, uint16_t port, uint32_t isn)
{
	h->peer.rport = port;
	h_in(h, TD_TCP_SYN, isn, 0, 65535, &no_opts, NULL, 0);
	const struct h_seg *r = h_out(h);
	if (!r)
		return 0;
	if (r->r.flags & TD_TCP_RST) {
		assert_int_equal(r->r.ack, isn + 1); /* RFC 9293 §3.10.7.1 reply to a SYN */
		assert_int_equal(r->r.seq, 0);
	}
	return r->r.flags;
}

static void tcp_max_conns_refuses_syn_with_rst_and_counts(void **st)
{
	(void)st;
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.max_conns = 3; /* the listener and two connections */
	h_init(&h, &cfg);
	struct td_tcp_sock *lst = h_listen(&h, 8);
	h.peer.rport = 40000;
	struct td_tcp_sock *a = h_accept_conn(&h, lst, &no_opts, 100, NULL);
	h.peer.rport = 40001;
	struct td_tcp_sock *b = h_accept_conn(&h, lst, &no_opts, 200, NULL);
	assert_non_null(a);
	assert_non_null(b);
	uint32_t used = td_tcp_socks_in_use(h.tcp);
	assert_int_equal(syn_from(&h, 40002, 300), TD_TCP_RST | TD_TCP_ACK);
	assert_int_equal(syn_from(&h, 40003, 400), TD_TCP_RST | TD_TCP_ACK);
	assert_int_equal(td_tcp_counters(h.tcp)->conn_limit_refused, 2);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), used); /* no state kept */
	assert_int_equal(td_tcp_counters(h.tcp)->tx_cookies, 0); /* no cookie around it */
	/* a connection goes: room for exactly one more */
	td_tcp_abort(a, h.now);
	h_drain(&h);
	assert_int_equal(syn_from(&h, 40004, 500), TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(syn_from(&h, 40005, 600), TD_TCP_RST | TD_TCP_ACK);
	assert_int_equal(td_tcp_counters(h.tcp)->conn_limit_refused, 3);
	h_fini(&h);
}

static void tcp_mem_max_counts_control_blocks_and_refuses_new_conns(void **st)
{
	(void)st;
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	/* room for the listener and one connection's control block, not two */
	cfg.mem_max = 2 * sizeof(struct td_tcp_sock) + sizeof(struct td_tcp_sock) / 2;
	h_init(&h, &cfg);
	struct td_tcp_sock *lst = h_listen(&h, 8);
	assert_int_equal(syn_from(&h, 40000, 100), TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(syn_from(&h, 40001, 200), TD_TCP_RST | TD_TCP_ACK);
	assert_int_equal(td_tcp_counters(h.tcp)->conn_limit_refused, 1);
	assert_int_equal(td_tcp_socks_in_use(h.tcp), 2);
	(void)lst;
	h_fini(&h);
}

/* Thousands of idle connections arm nothing; one with a delayed ACK
 * pending is the only deadline and fires on time. */
static void tcp_many_idle_conns_leave_only_real_deadlines(void **st)
{
	(void)st;
	enum { N = 3000 };
	struct harness h;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.max_socks = N + 8;
	cfg.syncookies = false;
	h_init(&h, &cfg);
	struct td_tcp_sock *lst = h_listen(&h, N + 1);
	for (unsigned i = 0; i < N; i++) {
		h.peer.rport = (uint16_t)(10000 + i);
		h_in(&h, TD_TCP_SYN, 1000 + i, 0, 65535, &no_opts, NULL, 0);
		const struct h_seg *sa = h_out(&h);
		assert_non_null(sa);
		h_in(&h, TD_TCP_ACK, 1001 + i, sa->r.seq + 1, 65535, &no_opts, NULL, 0);
	}
	assert_int_equal(td_tcp_socks_in_use(h.tcp), N + 1);
	assert_int_equal(td_tcp_next_deadline(h.tcp), UINT64_MAX);
	assert_int_equal(td_twheel_count(&h.tcp->wheel), 0);
	/* one byte on one connection: a delayed ACK, the single wheel entry */
	h.peer.rport = 10000 + N / 2;
	uint32_t seq = 1001 + N / 2;
	struct td_tcp_sock *s = td_tcp_lookup(h.tcp, &h.peer);
	assert_non_null(s);
	h_in(&h, TD_TCP_ACK, seq, s->snd_nxt, 65535, &no_opts, "x", 1);
	assert_int_equal(h_pending(&h), 0);
	assert_int_equal(td_twheel_count(&h.tcp->wheel), 1);
	uint64_t due = h.now + cfg.delack_ms * H_MS;
	assert_int_equal(td_tcp_next_deadline(h.tcp), due);
	td_tcp_poll(h.tcp, due - 1);
	assert_int_equal(h_pending(&h), 0);
	td_tcp_poll(h.tcp, due);
	const struct h_seg *ack = h_out(&h);
	assert_non_null(ack);
	assert_int_equal(ack->r.ack, seq + 1);
	assert_int_equal(ack->tu.rport, 10000 + N / 2);
	assert_int_equal(td_tcp_next_deadline(h.tcp), UINT64_MAX);
	(void)lst;
	h_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_max_conns_refuses_syn_with_rst_and_counts),
		cmocka_unit_test(tcp_mem_max_counts_control_blocks_and_refuses_new_conns),
		cmocka_unit_test(tcp_many_idle_conns_leave_only_real_deadlines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
