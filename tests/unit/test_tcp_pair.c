/* Two TCP modules connected in memory: bulk transfers under seeded loss, reordering and duplication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"

struct pkt {
	struct pkt *next;
	uint64_t at;
	int to; /* 0 = A, 1 = B */
	struct td_tcp_tuple tu; /* from the receiver's point of view */
	struct td_tcp_repr r;
	uint8_t data[];
};

struct link {
	struct td_tcp *node[2];
	struct pkt *q;
	uint64_t now;
	uint64_t delay_ns;
	uint32_t rng;
	unsigned loss_pm, reorder_pm, dup_pm; /* per mille */
	uint64_t sent, dropped, reordered, duplicated;
};

static uint32_t rnd(struct link *l)
{
	l->rng = l->rng * 1103515245u + 12345u;
	return (l->rng >> 8) % 1000;
}

static void enqueue(struct link *l, int to, const struct td_tcp_tuple *t,
		    const struct td_tcp_repr *seg, uint64_t at)
{
	struct pkt *p = malloc(sizeof(*p) + seg->payload.len);
	assert_non_null(p);
	p->at = at;
	p->to = to;
	p->tu.family = t->family;
	p->tu.lport = t->rport;
	p->tu.rport = t->lport;
	memcpy(p->tu.laddr, t->raddr, 16);
	memcpy(p->tu.raddr, t->laddr, 16);
	p->r = *seg;
	if (seg->payload.len)
		memcpy(p->data, seg->payload.ptr, seg->payload.len);
	p->r.payload.ptr = p->data;
	struct pkt **pp = &l->q;
	while (*pp && (*pp)->at <= at)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
}

static int out_common(struct link *l, int to, const struct td_tcp_tuple *t,
		      const struct td_tcp_repr *seg)
{
	l->sent++;
	if (rnd(l) < l->loss_pm) {
		l->dropped++;
		return 0;
	}
	uint64_t at = l->now + l->delay_ns;
	if (rnd(l) < l->reorder_pm) {
		at += l->delay_ns / 2 + 1; /* overtaken by later packets */
		l->reordered++;
	}
	enqueue(l, to, t, seg, at);
	if (rnd(l) < l->dup_pm) {
		l->duplicated++;
		enqueue(l, to, t, seg, at + 1000);
	}
	return 0;
}

static struct link *g_link;

static int out_a(void *ctx, const struct td_tcp_tuple *t, const struct td_tcp_repr *seg)
{
	return out_common(ctx, 1, t, seg);
}

static int out_b(void *ctx, const struct td_tcp_tuple *t, const struct td_tcp_repr *seg)
{
	return out_common(ctx, 0, t, seg);
}

/* The stream: byte i of a transfer is a function of i (and a salt). */
static uint8_t pattern(uint64_t i, uint8_t salt)
{
	uint32_t x = (uint32_t)(i / 251) * 2654435761u ^ salt;
	return (uint8_t)(x >> 24) ^ (uint8_t)i;
}

struct app {
	struct td_tcp_sock *s;
	uint64_t to_send, sent, received, expect;
	uint8_t salt_tx, salt_rx;
	bool got_eof, shut;
	bool bad;
};

static void pump(struct app *a, uint64_t now)
{
	uint8_t buf[16384];
	for (;;) {
		if (a->sent >= a->to_send)
			break;
		size_t n = sizeof(buf);
		if (n > a->to_send - a->sent)
			n = (size_t)(a->to_send - a->sent);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(a->sent + i, a->salt_tx);
		ssize_t r = td_tcp_send(a->s, buf, n, now);
		if (r <= 0)
			break;
		a->sent += (uint64_t)r;
	}
	if (a->sent == a->to_send && !a->shut) {
		a->shut = true;
		assert_int_equal(td_tcp_shutdown(a->s, 1, now), 0);
	}
	for (;;) {
		ssize_t r = td_tcp_recv(a->s, buf, sizeof(buf), now);
		if (r == 0) {
			a->got_eof = true;
			break;
		}
		if (r < 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(a->received + (uint64_t)i, a->salt_rx))
				a->bad = true;
		a->received += (uint64_t)r;
	}
}

static void run_until(struct link *l, struct app *apps, size_t napps, uint64_t limit_ns)
{
	uint64_t end = l->now + limit_ns;
	while (l->now < end) {
		bool done = napps > 0;
		for (size_t i = 0; i < napps; i++) {
			if (apps[i].s)
				pump(&apps[i], l->now);
			if (!apps[i].got_eof || apps[i].sent < apps[i].to_send)
				done = false;
		}
		if (done)
			break;
		uint64_t next = end;
		if (l->q && l->q->at < next)
			next = l->q->at;
		for (int i = 0; i < 2; i++) {
			uint64_t d = td_tcp_next_deadline(l->node[i]);
			if (d < next)
				next = d;
		}
		if (next > l->now)
			l->now = next;
		while (l->q && l->q->at <= l->now) {
			struct pkt *p = l->q;
			l->q = p->next;
			td_tcp_input(l->node[p->to], l->now, &p->tu, &p->r);
			free(p);
		}
		for (int i = 0; i < 2; i++)
			td_tcp_poll(l->node[i], l->now);
	}
}

static void link_free(struct link *l)
{
	while (l->q) {
		struct pkt *p = l->q;
		l->q = p->next;
		free(p);
	}
}

static void transfer(uint64_t a_to_b, uint64_t b_to_a, unsigned loss, unsigned reorder,
		     unsigned dup, enum td_tcp_cc_algo cc, bool sack, bool ts, uint32_t seed,
		     uint64_t limit_s)
{
	struct link l;
	memset(&l, 0, sizeof(l));
	g_link = &l;
	l.delay_ns = 5 * H_MS;
	l.rng = seed;
	l.loss_pm = loss;
	l.reorder_pm = reorder;
	l.dup_pm = dup;
	l.now = 1000 * H_MS;
	struct td_tcp_config cfg;
	h_config(&cfg);
	cfg.cc = cc;
	cfg.sack = sack;
	cfg.timestamps = ts;
	assert_int_equal(td_tcp_new(&l.node[0], &cfg, out_a, &l), 0);
	cfg.key[0] ^= 0x55;
	assert_int_equal(td_tcp_new(&l.node[1], &cfg, out_b, &l), 0);

	struct td_tcp_sock *lst, *cs, *ss = NULL;
	assert_int_equal(td_tcp_socket(l.node[1], 4, &lst), 0);
	struct td_tcp_endpoint bep = {.family = 4, .addr = {10, 0, 0, 2}, .port = 7};
	assert_int_equal(td_tcp_bind(lst, &bep), 0);
	assert_int_equal(td_tcp_listen(lst, 4), 0);
	assert_int_equal(td_tcp_socket(l.node[0], 4, &cs), 0);
	struct td_tcp_endpoint aep = {.family = 4, .addr = {10, 0, 0, 1}, .port = 0};
	assert_int_equal(td_tcp_bind(cs, &aep), 0);
	assert_int_equal(td_tcp_connect(cs, &bep, l.now), 0);

	struct app apps[2];
	memset(apps, 0, sizeof(apps));
	apps[0].s = cs;
	apps[0].to_send = a_to_b;
	apps[0].salt_tx = 1;
	apps[0].salt_rx = 2;
	apps[1].to_send = b_to_a;
	apps[1].salt_tx = 2;
	apps[1].salt_rx = 1;
	uint64_t t0 = l.now;
	for (int i = 0; i < 100000 && !ss; i++) {
		run_until(&l, apps, 1, 10 * H_MS);
		if (td_tcp_accept(lst, &ss) == 0)
			apps[1].s = ss;
	}
	assert_non_null(ss);
	run_until(&l, apps, 2, limit_s * 1000 * H_MS);
	uint64_t took_ms = (l.now - t0) / H_MS;
	print_message("    %llu+%llu bytes, loss %u reorder %u dup %u permille: %llu ms virtual, "
		      "%llu segs, %llu dropped, %llu rexmit A, %llu rexmit B\n",
		      (unsigned long long)a_to_b, (unsigned long long)b_to_a, loss, reorder, dup,
		      (unsigned long long)took_ms, (unsigned long long)l.sent,
		      (unsigned long long)l.dropped,
		      (unsigned long long)td_tcp_counters(l.node[0])->retransmits,
		      (unsigned long long)td_tcp_counters(l.node[1])->retransmits);
	for (int i = 0; i < 2; i++) {
		struct td_tcp_info in;
		td_tcp_sock_info(apps[i].s, &in);
		if (getenv("TCP_PAIR_DEBUG"))
			print_message("    %c: %s cwnd %u ssthresh %u snd_wnd %u rcv_wnd %u unacked %u rto %u "
				      "sent %llu recv %llu\n", 'A' + i, td_tcp_state_name(in.state),
				      in.cwnd, in.ssthresh, in.snd_wnd, in.rcv_wnd, in.unacked, in.rto_ms,
				      (unsigned long long)apps[i].sent, (unsigned long long)apps[i].received);
	}
	assert_false(apps[0].bad);
	assert_false(apps[1].bad);
	assert_int_equal(apps[1].received, a_to_b);
	assert_int_equal(apps[0].received, b_to_a);
	assert_true(apps[0].got_eof && apps[1].got_eof);
	assert_int_equal(td_tcp_close(cs, l.now), 0);
	assert_int_equal(td_tcp_close(ss, l.now), 0);
	assert_int_equal(td_tcp_close(lst, l.now), 0);
	apps[0].s = apps[1].s = NULL;
	/* let FIN retransmissions and TIME_WAIT run out */
	run_until(&l, apps, 0, 400000 * H_MS);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(td_tcp_socks_in_use(l.node[i]), 0);
		assert_int_equal(td_tcp_buf_bytes(l.node[i]), 0);
		td_tcp_free(l.node[i]);
	}
	link_free(&l);
}

static void tcp_pair_clean_link_moves_bytes_exactly(void **state)
{
	(void)state;
	transfer(4 << 20, 1 << 20, 0, 0, 0, TD_TCP_CC_CUBIC, true, true, 1, 120);
}

static void tcp_pair_lossy_reordering_link_cubic_sack(void **state)
{
	(void)state;
	transfer(3 << 20, 1 << 20, 30, 20, 10, TD_TCP_CC_CUBIC, true, true, 7, 600);
}

static void tcp_pair_lossy_link_reno_newreno_no_sack(void **state)
{
	(void)state;
	transfer(2 << 20, 512 << 10, 30, 20, 10, TD_TCP_CC_RENO, false, false, 11, 900);
}

static void tcp_pair_heavy_loss_still_completes(void **state)
{
	(void)state;
	transfer(512 << 10, 256 << 10, 100, 50, 20, TD_TCP_CC_CUBIC, true, true, 23, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_pair_clean_link_moves_bytes_exactly),
		cmocka_unit_test(tcp_pair_lossy_reordering_link_cubic_sack),
		cmocka_unit_test(tcp_pair_lossy_link_reno_newreno_no_sack),
		cmocka_unit_test(tcp_pair_heavy_loss_still_completes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
