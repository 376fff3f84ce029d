/* Per-segment cost of TCP input with 1..100 000 connections present (lookup, timers). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tundra/tcp.h"

static uint32_t last_seq; /* our ISS, from the SYN-ACK */

static int out(void *ctx, const struct td_tcp_tuple *t, const struct td_tcp_repr *seg)
{
	(void)ctx;
	(void)t;
	if ((seg->flags & (TD_TCP_SYN | TD_TCP_ACK)) == (TD_TCP_SYN | TD_TCP_ACK))
		last_seq = seg->seq;
	return 0;
}

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void tuple(struct td_tcp_tuple *t, uint32_t i)
{
	memset(t, 0, sizeof(*t));
	t->family = 4;
	t->laddr[0] = 10, t->laddr[3] = 2;
	t->lport = 7;
	t->raddr[0] = 10, t->raddr[1] = 1, t->raddr[2] = (uint8_t)(i >> 16), t->raddr[3] = (uint8_t)(i >> 8);
	t->rport = (uint16_t)(1024 + (i & 0xff));
}

static void seg(struct td_tcp_repr *r, const struct td_tcp_tuple *t, uint8_t fl, uint32_t seq,
		uint32_t ack, const void *p, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->src_port = t->rport;
	r->dst_port = t->lport;
	r->seq = seq, r->ack = ack, r->flags = fl, r->window = 65535;
	r->payload.ptr = p, r->payload.len = n;
}

/* ns per data segment on two connections taken in turn (so the one-entry
 * cache misses and every segment goes through the hash table). */
static double run(uint32_t n, uint32_t segs)
{
	struct td_tcp_config cfg;
	td_tcp_config_default(&cfg);
	cfg.max_socks = n + 16;
	cfg.syncookies = false;
	cfg.syn_backlog = 1 << 30;
	cfg.sack = cfg.timestamps = false;
	for (int i = 0; i < 16; i++)
		cfg.key[i] = (uint8_t)(i * 13 + 5);
	struct td_tcp *tcp;
	if (td_tcp_new(&tcp, &cfg, out, NULL))
		return -1;
	uint64_t now = 1000000000ull;
	struct td_tcp_sock *lst, *c;
	struct td_tcp_endpoint ep = {.family = 4, .port = 7};
	td_tcp_socket(tcp, 4, &lst);
	td_tcp_bind(lst, &ep);
	td_tcp_listen(lst, 65535);
	uint32_t iss[2] = {0, 0};
	struct td_tcp_repr r;
	struct td_tcp_tuple t;
	for (uint32_t i = 0; i < n; i++) {
		tuple(&t, i);
		seg(&r, &t, TD_TCP_SYN, 1000, 0, NULL, 0);
		td_tcp_input(tcp, now, &t, &r);
		seg(&r, &t, TD_TCP_ACK, 1001, last_seq + 1, NULL, 0);
		td_tcp_input(tcp, now, &t, &r);
		if (td_tcp_accept(lst, &c) == 0 && i != 0 && i != n - 1)
			continue; /* idle; the two measured ones stay accepted too */
		if (i == 0)
			iss[0] = last_seq;
		if (i == n - 1)
			iss[1] = last_seq;
	}
	struct td_tcp_tuple tt[2];
	tuple(&tt[0], 0);
	tuple(&tt[1], n - 1);
	uint32_t seq[2] = {1001, 1001};
	uint64_t t0 = mono();
	for (uint32_t k = 0; k < segs; k++) {
		unsigned j = k & 1;
		seg(&r, &tt[j], TD_TCP_ACK | TD_TCP_PSH, seq[j], iss[j] + 1, "x", 1);
		td_tcp_input(tcp, now, &tt[j], &r);
		seq[j]++;
		if ((k & 1023) == 1023) {
			now += 50000000ull; /* delayed ACKs come due: the wheel fires them */
			td_tcp_poll(tcp, now);
			(void)td_tcp_next_deadline(tcp);
		}
	}
	uint64_t dt = mono() - t0;
	const struct td_tcp_counters *ct = td_tcp_counters(tcp);
	bool ok = ct->established >= n && ct->rx_bytes >= segs && ct->delayed_acks > 0;
	if (!ok)
		fprintf(stderr, "td_tcp_lookup: %llu established of %u, %llu bytes in of %u\n",
			(unsigned long long)ct->established, n, (unsigned long long)ct->rx_bytes, segs);
	td_tcp_free(tcp);
	return ok ? (double)dt / segs : -1;
}

int main(int argc, char **argv)
{
	uint32_t segs = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 200000;
	static const uint32_t ns[] = {2, 1000, 10000, 100000};
	double base = 0;
	printf("%8s %14s %8s\n", "conns", "ns/segment", "vs 2");
	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		double best = 1e18;
		for (int rep = 0; rep < 3; rep++) {
			double x = run(ns[i], segs);
			if (x < 0)
				return 1;
			if (x < best)
				best = x;
		}
		if (i == 0)
			base = best;
		printf("%8u %14.1f %8.2f\n", ns[i], best, best / base);
	}
	return 0;
}
