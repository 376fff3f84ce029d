/* Unit tests of the probe engine in virtual time: schedule, matching, authentication, statistics. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tundra/probe.h"
#include "tundra/wire.h"

#define MS 1000000ULL
#define US 1000ULL

struct rec {
	int n[8];
	struct td_probe_event last[8];
};

static void on_ev(void *ctx, const struct td_probe_event *ev)
{
	struct rec *r = ctx;
	r->n[ev->kind]++;
	r->last[ev->kind] = *ev;
}

static struct td_probe_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct td_probe_addr x = {.family = TD_PROBE_V4, .a = {a, b, c, d}};
	return x;
}

static struct td_probe *mk(struct td_probe_config *c, struct rec *r)
{
	struct td_probe *p = NULL;
	c->on_event = on_ev;
	c->ctx = r;
	for (int i = 0; i < 16; i++)
		c->key[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(td_probe_new(&p, c), 0);
	return p;
}

/* The common case: an engine with the one target a, started at 0. */
static struct td_probe *mk_started(struct td_probe_config *c, struct rec *r,
				   const struct td_probe_addr *a)
{
	struct td_probe *p = mk(c, r);
	assert_int_equal(td_probe_add(p, a, NULL), 0);
	td_probe_start(p, 0);
	return p;
}

/* A sent probe, kept as the echo "responder" would see it. */
struct sent {
	uint8_t pkt[2048];
	size_t len;
	uint32_t target, seq;
	struct td_probe_addr dst;
};

static int poll1(struct td_probe *p, uint64_t now, struct sent *s)
{
	struct td_probe_tx tx;
	int rc = td_probe_poll(p, now, &tx);
	if (rc == 1) {
		memcpy(s->pkt, tx.pkt, tx.len);
		s->len = tx.len;
		s->target = tx.target;
		s->seq = tx.seq;
		s->dst = *tx.dst;
	}
	return rc;
}

/* Turn a request into the reply a kernel would send (type 0, checksum redone). */
static size_t make_reply(const struct sent *s, uint8_t *out)
{
	struct td_icmp_repr r;
	assert_int_equal(td_icmp4_parse(s->pkt, s->len, 0, &r), TD_WIRE_OK);
	r.type = TD_ICMP4_ECHO_REPLY;
	size_t n = td_icmp_size(&r);
	assert_int_equal(td_icmp4_emit(&r, out, n), TD_WIRE_OK);
	return n;
}

static int deliver(struct td_probe *p, uint64_t now, const uint8_t *pkt, size_t len,
		   const struct td_probe_addr *src, enum td_probe_sock sock)
{
	struct td_probe_rx rx = {.family = TD_PROBE_V4, .sock = sock, .src = *src,
				 .ttl = 64, .tos = 0};
	return td_probe_input(p, now, pkt, len, &rx);
}

static void payload_beyond_ipv4_limit_is_refused_for_ipv4_targets_only(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.payload_len = TD_PROBE_PAYLOAD_MAX; /* 65527: an ICMPv6 echo can carry it */
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a4 = v4(127, 0, 0, 1);
	struct td_probe_addr a6 = {.family = TD_PROBE_V6, .a = {[15] = 1}};
	assert_int_equal(td_probe_add(p, &a4, NULL), -EMSGSIZE);
	assert_int_equal(td_probe_add(p, &a6, NULL), 0);
	td_probe_start(p, 0);
	struct td_probe_tx tx;
	assert_int_equal(td_probe_poll(p, 0, &tx), 1);
	assert_int_equal(tx.target, 0);
	assert_int_equal(tx.len, 8 + TD_PROBE_PAYLOAD_MAX); /* a 65 535-byte ICMPv6 message */
	td_probe_free(p);
	c.payload_len = TD_PROBE_PAYLOAD_MAX + 1;
	struct td_probe *q = NULL;
	assert_int_not_equal(td_probe_new(&q, &c), 0);
	c.payload_len = TD_PROBE_PAYLOAD_MAX_V4;
	p = mk(&c, &r);
	assert_int_equal(td_probe_add(p, &a4, NULL), 0);
	td_probe_free(p);
}

static void reply_matches_and_rtt_from_monotonic_clock(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 3;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(127, 0, 0, 1);
	assert_int_equal(td_probe_add(p, &a, NULL), 0);
	td_probe_start(p, 1000 * MS);
	struct sent s;
	assert_int_equal(poll1(p, 1000 * MS, &s), 1);
	assert_int_equal(s.len, 64);
	assert_int_equal(poll1(p, 1000 * MS, &s), 0); /* next one is 1 s later */
	assert_int_equal(td_probe_next_deadline(p), 2000 * MS);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	assert_int_equal(deliver(p, 1000 * MS + 250 * US, rep, n, &a, TD_PROBE_SOCK_DGRAM), 0);
	assert_int_equal(r.n[TD_PROBE_EV_REPLY], 1);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].rtt_ns, 250 * US);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].ttl, 64);
	assert_false(r.last[TD_PROBE_EV_REPLY].corrupted);
	const struct td_probe_stats *sp = td_probe_target_stats(p, 0);
	assert_int_equal(sp->transmitted, 1);
	assert_int_equal(sp->received, 1);
	td_probe_free(p);
}

/* iputils' summary time runs to the last send: the engine says when that was. */
static void last_send_is_the_instant_of_the_latest_probe(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 2;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(127, 0, 0, 1);
	assert_int_equal(td_probe_add(p, &a, NULL), 0);
	td_probe_start(p, 1000 * MS);
	assert_int_equal(td_probe_last_send(p), 0); /* nothing sent yet */
	struct sent s;
	assert_int_equal(poll1(p, 1000 * MS + 3, &s), 1);
	assert_int_equal(td_probe_last_send(p), 1000 * MS + 3);
	assert_int_equal(poll1(p, 1500 * MS, &s), 0);
	assert_int_equal(td_probe_last_send(p), 1000 * MS + 3);
	assert_int_equal(poll1(p, 2000 * MS + 7, &s), 1);
	assert_int_equal(td_probe_last_send(p), 2000 * MS + 7);
	td_probe_free(p);
}

static void kernel_stamps_preferred_over_clock(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(127, 0, 0, 1);
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct sent s;
	assert_int_equal(poll1(p, 0, &s), 1);
	td_probe_tx_stamp(p, 0, 0, 5000000 + 40 * US, false);
	td_probe_tx_stamp(p, 0, 0, 5000000 + 50 * US, true);
	td_probe_tx_stamp(p, 0, 0, 5000000 + 60 * US, false); /* user stamp never replaces kernel */
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	struct td_probe_rx rx = {.family = TD_PROBE_V4, .src = a, .stamp_ns = 5000000 + 62 * US,
				 .kernel_stamp = true, .ttl = -1, .tos = -1};
	assert_int_equal(td_probe_input(p, 100 * US, rep, n, &rx), 0);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].rtt_ns, 12 * US);
	assert_true(r.last[TD_PROBE_EV_REPLY].kernel_stamps);
	assert_true(td_probe_done(p));
	assert_int_equal(r.n[TD_PROBE_EV_DONE], 1);
	td_probe_free(p);
}

static void duplicate_reply_counted_not_received_twice(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 2;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM), 0);
	assert_int_equal(deliver(p, 2 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM), 0);
	assert_true(r.last[TD_PROBE_EV_REPLY].dup);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->duplicates, 1);
	td_probe_free(p);
}

static void reordered_replies_counted_out_of_order(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 3;
	c.interval_ns = 10 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s0, s1, s2;
	poll1(p, 0, &s0);
	poll1(p, 10 * MS, &s1);
	poll1(p, 20 * MS, &s2);
	uint8_t b0[2048], b1[2048], b2[2048];
	size_t n0 = make_reply(&s0, b0), n1 = make_reply(&s1, b1), n2 = make_reply(&s2, b2);
	deliver(p, 25 * MS, b1, n1, &a, TD_PROBE_SOCK_DGRAM);
	deliver(p, 26 * MS, b0, n0, &a, TD_PROBE_SOCK_DGRAM);
	assert_true(r.last[TD_PROBE_EV_REPLY].out_of_order);
	deliver(p, 27 * MS, b2, n2, &a, TD_PROBE_SOCK_DGRAM);
	assert_false(r.last[TD_PROBE_EV_REPLY].out_of_order);
	assert_int_equal(td_probe_target_stats(p, 0)->out_of_order, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 3);
	td_probe_free(p);
}

static void forged_mac_dropped_and_counted(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	rep[8 + 17] ^= 1; /* one MAC bit */
	struct td_icmp_repr ir;
	assert_int_equal(td_icmp4_parse(rep, n, TD_WIRE_SKIP_CSUM, &ir), TD_WIRE_OK);
	td_icmp4_emit(&ir, rep, n); /* valid checksum: only the MAC is wrong */
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_FORGED + 1);
	assert_int_equal(r.n[TD_PROBE_EV_REPLY], 0);
	assert_int_equal(r.n[TD_PROBE_EV_FORGED], 1);
	assert_int_equal(td_probe_target_stats(p, 0)->forged, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 0);
	assert_int_equal(td_probe_drops(p, TD_PROBE_DROP_FORGED), 1);
	td_probe_free(p);
}

static void wire_seq_differing_from_authenticated_seq_is_forged(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	struct td_icmp_repr ir;
	td_icmp4_parse(rep, n, 0, &ir);
	ir.seq = 7;
	td_icmp4_emit(&ir, rep, n);
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_FORGED + 1);
	td_probe_free(p);
}

static void reply_from_other_address_is_wrong_source(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	assert_int_equal(deliver(p, 1 * MS, rep, n, &b, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_WRONG_SOURCE + 1);
	td_probe_free(p);
}

static void raw_socket_foreign_ident_ignored(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.sock[0] = TD_PROBE_SOCK_RAW;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	assert_int_equal(td_get_be16(s.pkt + 4), td_probe_target_ident(p, 0));
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	struct td_icmp_repr ir;
	td_icmp4_parse(rep, n, 0, &ir);
	ir.ident ^= 0x5555;
	td_icmp4_emit(&ir, rep, n);
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_RAW),
			 TD_PROBE_DROP_FOREIGN + 1);
	assert_int_equal(td_probe_target_stats(p, 0)->forged, 0);
	td_probe_free(p);
}

static void corrupted_pattern_reported_with_offset(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.pattern[0] = 0xab;
	c.pattern[1] = 0xcd;
	c.pattern_len = 2;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	assert_int_equal(s.pkt[8 + 31], 0xcd);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	rep[8 + 40] = 0x00;
	struct td_icmp_repr ir;
	td_icmp4_parse(rep, n, TD_WIRE_SKIP_CSUM, &ir);
	td_icmp4_emit(&ir, rep, n);
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM), 0);
	assert_true(r.last[TD_PROBE_EV_REPLY].corrupted);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].bad_offset, 40);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].want_byte, 0xab);
	/* the data as received, for iputils' hex dump (rep outlives the callback here) */
	assert_ptr_equal(r.last[TD_PROBE_EV_REPLY].data, rep + 8);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].data_len, c.payload_len);
	assert_int_equal(td_probe_target_stats(p, 0)->corrupted, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	td_probe_free(p);
}

static void send_failed_with_emsgsize_carries_the_local_mtu(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 2;
	c.interval_ns = 100 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	assert_int_equal(poll1(p, 0, &s), 1);
	td_probe_send_failed(p, s.target, s.seq, EMSGSIZE, 1400, 0);
	assert_int_equal(r.n[TD_PROBE_EV_SEND_ERROR], 1);
	assert_int_equal(r.last[TD_PROBE_EV_SEND_ERROR].send_errno, EMSGSIZE);
	assert_int_equal(r.last[TD_PROBE_EV_SEND_ERROR].info, 1400);
	assert_int_equal(td_probe_target_stats(p, 0)->send_errors, 1);
	assert_int_equal(poll1(p, 100 * MS, &s), 1);
	td_probe_send_failed(p, s.target, s.seq, ENETUNREACH, 0, 100 * MS);
	assert_int_equal(r.last[TD_PROBE_EV_SEND_ERROR].info, 0);
	assert_int_equal(td_probe_target_stats(p, 0)->send_errors, 2);
	assert_true(td_probe_done(p));
	td_probe_free(p);
}

static void bad_icmp_checksum_is_malformed(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	rep[8 + 40] ^= 0xff;
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_RAW),
			 TD_PROBE_DROP_MALFORMED + 1);
	td_probe_free(p);
}

static void timeout_then_late_reply_not_received(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.timeout_ns = 100 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	assert_int_equal(td_probe_next_deadline(p), 100 * MS);
	assert_int_equal(poll1(p, 99 * MS, &s), 0);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 0);
	assert_int_equal(poll1(p, 100 * MS, &s), 0);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 1);
	assert_true(td_probe_done(p));
	assert_int_equal(td_probe_next_deadline(p), UINT64_MAX);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	deliver(p, 150 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM);
	assert_true(r.last[TD_PROBE_EV_REPLY].late);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 0);
	assert_int_equal(td_probe_target_stats(p, 0)->late, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->timeouts, 1);
	td_probe_free(p);
}

static void sequence_space_per_target_beyond_65535_targets(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.max_targets = 70000;
	c.timeout_ns = 1000 * MS;
	struct td_probe *p = mk(&c, &r);
	for (uint32_t i = 0; i < 70000; i++) {
		struct td_probe_addr a = v4(127, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(td_probe_add(p, &a, NULL), 0);
	}
	td_probe_start(p, 0);
	struct sent s;
	uint8_t rep[2048];
	uint32_t sent = 0;
	while (poll1(p, 0, &s) == 1) {
		size_t n = make_reply(&s, rep);
		assert_int_equal(deliver(p, 1 * MS, rep, n, &s.dst, TD_PROBE_SOCK_DGRAM), 0);
		sent++;
	}
	assert_int_equal(sent, 70000);
	assert_int_equal(r.n[TD_PROBE_EV_REPLY], 70000);
	assert_true(td_probe_done(p));
	struct td_probe_stats tot;
	td_probe_totals(p, &tot);
	assert_int_equal(tot.received, 70000);
	td_probe_free(p);
}

static void spacing_paces_sends_across_targets(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.max_targets = 3;
	c.spacing_ns = 5 * MS;
	struct td_probe *p = mk(&c, &r);
	for (uint8_t i = 1; i <= 3; i++) {
		struct td_probe_addr a = v4(10, 0, 0, i);
		td_probe_add(p, &a, NULL);
	}
	td_probe_start(p, 0);
	struct sent s;
	assert_int_equal(poll1(p, 0, &s), 1);
	assert_int_equal(poll1(p, 0, &s), 0);
	assert_int_equal(td_probe_next_deadline(p), 5 * MS);
	assert_int_equal(poll1(p, 5 * MS, &s), 1);
	assert_int_equal(s.target, 1);
	td_probe_free(p);
}

static void spacing_bucket_lets_a_burst_out_after_idle_but_keeps_rate(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.max_targets = 40;
	c.spacing_ns = 100 * US;
	c.spacing_burst_ns = 1 * MS;
	struct td_probe *p = mk(&c, &r);
	for (uint8_t i = 1; i <= 40; i++) {
		struct td_probe_addr a = v4(10, 0, 0, i);
		td_probe_add(p, &a, NULL);
	}
	td_probe_start(p, 0);
	struct sent s;
	/* at t = 2 ms: targets 0..20 are due (spacing staggers the starts); the
	 * bucket holds 1 ms / 100 us = 10 probes, plus the first */
	int n = 0;
	while (poll1(p, 2 * MS, &s) == 1)
		n++;
	assert_in_range(n, 10, 11);
	/* the rate then settles at one per 100 us */
	n = 0;
	for (uint64_t t = 2 * MS + 10 * US; t <= 3 * MS; t += 10 * US)
		while (poll1(p, t, &s) == 1)
			n++;
	assert_in_range(n, 9, 11);
	td_probe_free(p);
}

static void lost_probe_in_long_flood_times_out_at_its_timeout_not_before(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 20000;
	c.interval_ns = 10 * MS;
	c.send_on_reply = true;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	uint8_t rep[2048];
	uint64_t now = 0;
	/* probe 0 is lost; the next 19 999 are answered at once (flood) */
	assert_int_equal(poll1(p, now, &s), 1);
	now += 10 * MS;
	for (int i = 1; i < 20000; i++) {
		assert_int_equal(poll1(p, now, &s), 1);
		size_t n = make_reply(&s, rep);
		deliver(p, now + 5 * US, rep, n, &a, TD_PROBE_SOCK_DGRAM);
		now += 10 * US;
	}
	/* 0.2 s in: probe 0 is still within its 10 s (it once expired early) */
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 0);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 19999);
	assert_false(td_probe_done(p));
	assert_int_equal(td_probe_next_deadline(p), 10 * 1000 * MS);
	assert_int_equal(poll1(p, 10 * 1000 * MS - 1, &s), 0);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 0);
	assert_int_equal(poll1(p, 10 * 1000 * MS, &s), 0);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 1);
	assert_int_equal(td_probe_evicted(p), 0);
	assert_true(td_probe_done(p));
	td_probe_free(p);
}

static void unsend_gives_probe_back(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 2;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct td_probe_tx tx;
	assert_int_equal(td_probe_poll(p, 0, &tx), 1);
	td_probe_unsend(p, &tx);
	assert_int_equal(td_probe_target_stats(p, 0)->transmitted, 0);
	assert_int_equal(td_probe_outstanding(p), 0);
	assert_int_equal(td_probe_poll(p, 1 * MS, &tx), 1);
	assert_int_equal(tx.seq, 0);
	td_probe_free(p);
}

/* Wrap an ICMPv4 error around a request as a router would (IP header + request). */
static size_t make_error(const struct sent *s, uint8_t type, uint8_t code, uint8_t *out)
{
	uint8_t inner[2048];
	struct td_ipv4_repr ip = {.src = 0x0a000063, .dst = td_get_be32(s->dst.a), .ttl = 1,
				  .proto = TD_IPPROTO_ICMP, .payload_len = (uint16_t)s->len};
	td_ipv4_emit(&ip, inner, 20);
	memcpy(inner + 20, s->pkt, s->len);
	struct td_icmp_repr e = {.type = type, .code = code, .data = {inner, 20 + s->len}};
	size_t n = td_icmp_size(&e);
	assert_int_equal(td_icmp4_emit(&e, out, n), TD_WIRE_OK);
	return n;
}

static void raw_time_exceeded_matched_to_probe(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.sock[0] = TD_PROBE_SOCK_RAW;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 1, 1), router = v4(10, 0, 0, 254);
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t err[2048];
	size_t n = make_error(&s, TD_ICMP4_TIME_EXCEEDED, 0, err);
	assert_int_equal(deliver(p, 1 * MS, err, n, &router, TD_PROBE_SOCK_RAW), 0);
	assert_int_equal(r.n[TD_PROBE_EV_ERROR], 1);
	assert_int_equal(r.last[TD_PROBE_EV_ERROR].err_kind, TD_PROBE_ERR_TIME_EXCEEDED);
	assert_memory_equal(r.last[TD_PROBE_EV_ERROR].from.a, router.a, 4);
	assert_int_equal(td_probe_target_stats(p, 0)->errors, 1);
	assert_int_equal(td_probe_err_count(p, 4, 11, 0), 1);
	assert_true(td_probe_done(p)); /* the error ends the probe: no timeout later */
	td_probe_free(p);
}

static void dgram_error_queue_unreachable_matched(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 1, 1), router = v4(10, 0, 0, 254);
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct sent s;
	poll1(p, 0, &s);
	struct td_probe_icmp_err e = {.family = 4, .offender = router, .dst = a, .type = 3,
				      .code = 1, .quoted = s.pkt, .quoted_len = s.len};
	assert_int_equal(td_probe_error(p, 1 * MS, &e), 0);
	assert_int_equal(r.last[TD_PROBE_EV_ERROR].err_kind, TD_PROBE_ERR_UNREACH);
	assert_int_equal(r.last[TD_PROBE_EV_ERROR].icmp_code, 1);
	/* A quote of someone else's probe does not match. */
	uint8_t other[64];
	memcpy(other, s.pkt, s.len);
	other[8 + 18] ^= 0x40;
	e.quoted = other;
	assert_int_equal(td_probe_error(p, 1 * MS, &e), TD_PROBE_DROP_ERR_UNMATCHED + 1);
	td_probe_free(p);
}

static void percentiles_exact_then_histogram(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1000;
	c.interval_ns = 1 * MS;
	c.timeout_ns = 500 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	uint8_t rep[2048];
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t now = i * MS;
		assert_int_equal(poll1(p, now, &s), 1);
		size_t n = make_reply(&s, rep);
		/* RTTs 101..1100 us */
		deliver(p, now + (101 + i) * US, rep, n, &a, TD_PROBE_SOCK_DGRAM);
		if (i == 3) {
			assert_int_equal(td_probe_percentile(p, 0, 50), 102 * US);
			assert_int_equal(td_probe_percentile(p, 0, 100), 104 * US);
		}
	}
	uint64_t p50 = td_probe_percentile(p, 0, 50), p99 = td_probe_percentile(p, 0, 99);
	/* within the histogram's 1/32 relative error of the true 600 us / 1090 us */
	assert_in_range(p50, 600 * US - 600 * US / 30, 600 * US + 600 * US / 30);
	assert_in_range(p99, 1090 * US - 1090 * US / 30, 1100 * US);
	const struct td_probe_stats *sp = td_probe_target_stats(p, 0);
	assert_int_equal(sp->rtt_min_ns, 101 * US);
	assert_int_equal(sp->rtt_max_ns, 1100 * US);
	/* Steadily rising RTT by 1 us: RFC 3550 J converges to 1 us. */
	assert_in_range((uint64_t)sp->jitter_ns, 990, 1000);
	uint64_t mdev = td_probe_stats_mdev_ns(sp); /* stddev of uniform 1000 values: ~288.7 us */
	assert_in_range(mdev, 288 * US, 289 * US);
	td_probe_free(p);
}

/* mdev without libm: exact on known sets (sqrt by Newton's iteration). */
static void mdev_is_the_exact_standard_deviation(void **st)
{
	(void)st;
	struct td_probe_stats s;
	memset(&s, 0, sizeof(s));
	/* 2, 4, 4, 4, 5, 5, 7, 9 us: mean 5 us, standard deviation exactly 2 us */
	static const uint64_t v[] = {2, 4, 4, 4, 5, 5, 7, 9};
	for (unsigned i = 0; i < 8; i++) {
		s.received++;
		s.rtt_sum_ns += v[i] * US;
		s.rtt_sum2 += (double)(v[i] * US) * (double)(v[i] * US);
	}
	assert_int_equal(td_probe_stats_mdev_ns(&s), 2 * US);
	/* RTTs 1 ns and 3 ns: 1 ns; 10 s and 30 s: 10 s (large values keep precision) */
	memset(&s, 0, sizeof(s));
	s.received = 2;
	s.rtt_sum_ns = 4;
	s.rtt_sum2 = 10;
	assert_int_equal(td_probe_stats_mdev_ns(&s), 1);
	s.rtt_sum_ns = 40000000000ULL;
	s.rtt_sum2 = 1e20 + 9e20;
	assert_int_equal(td_probe_stats_mdev_ns(&s), 10000000000ULL);
	s.rtt_sum2 = 8e20; /* all equal: no spread */
	assert_int_equal(td_probe_stats_mdev_ns(&s), 0);
}

/* With count < 8 the engine keeps count exact RTTs per target, not 8:
 * every target's percentiles still come from its own samples. */
static void percentiles_per_target_with_small_count(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 4;
	c.count = 3;
	c.interval_ns = 10 * MS;
	c.timeout_ns = 5 * MS;
	struct td_probe *p = mk(&c, &r);
	for (uint8_t i = 0; i < 4; i++) {
		struct td_probe_addr a = v4(10, 0, 0, (uint8_t)(i + 1));
		td_probe_add(p, &a, NULL);
	}
	td_probe_start(p, 0);
	struct sent s;
	uint8_t rep[2048];
	for (uint64_t round = 0; round < 3; round++) {
		uint64_t now = round * 10 * MS;
		while (poll1(p, now, &s) == 1) {
			size_t n = make_reply(&s, rep);
			/* target t, round k: (t + 1) * 100 us + k us */
			deliver(p, now + (s.target + 1) * 100 * US + round * US, rep, n, &s.dst,
				TD_PROBE_SOCK_DGRAM);
		}
	}
	for (uint32_t t = 0; t < 4; t++) {
		assert_int_equal(td_probe_target_stats(p, t)->received, 3);
		assert_int_equal(td_probe_percentile(p, t, 0), (t + 1) * 100 * US);
		assert_int_equal(td_probe_percentile(p, t, 50), (t + 1) * 100 * US + US);
		assert_int_equal(td_probe_percentile(p, t, 100), (t + 1) * 100 * US + 2 * US);
	}
	td_probe_free(p);
}

/* The start run (first probes, in order, outside the heap) merges with
 * targets added later by (due, id), and every target is sent exactly once. */
static void start_run_merges_with_targets_added_later(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 8;
	c.count = 1;
	c.spacing_ns = 1 * MS;
	c.timeout_ns = 100 * MS;
	struct td_probe *p = mk(&c, &r);
	for (uint8_t i = 0; i < 4; i++) {
		struct td_probe_addr a = v4(10, 0, 0, (uint8_t)(i + 1));
		td_probe_add(p, &a, NULL);
	}
	td_probe_start(p, 10 * MS); /* dues 10, 11, 12, 13 ms */
	assert_int_equal(td_probe_next_deadline(p), 10 * MS);
	struct sent s;
	assert_int_equal(poll1(p, 10 * MS, &s), 1);
	assert_int_equal(s.target, 0);
	assert_int_equal(poll1(p, 10 * MS, &s), 0); /* spacing */
	/* added after start: due at the last send (10 ms), before targets 1..3 */
	struct td_probe_addr a5 = v4(10, 0, 0, 5);
	uint32_t id5;
	td_probe_add(p, &a5, &id5);
	assert_int_equal(id5, 4);
	uint32_t order[5] = {0};
	unsigned k = 0;
	for (uint64_t now = 11 * MS; now <= 20 * MS; now += MS)
		while (poll1(p, now, &s) == 1)
			order[k++] = s.target;
	assert_int_equal(k, 4);
	assert_int_equal(order[0], 4);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	for (uint32_t t = 0; t < 5; t++)
		assert_int_equal(td_probe_target_stats(p, t)->transmitted, 1);
	td_probe_free(p);

	/* stop before any send: nothing leaves, the engine is done */
	p = mk(&c, &r);
	for (uint8_t i = 0; i < 4; i++) {
		struct td_probe_addr a = v4(10, 0, 1, (uint8_t)(i + 1));
		td_probe_add(p, &a, NULL);
	}
	td_probe_start(p, 0);
	td_probe_stop(p);
	assert_int_equal(poll1(p, 1000 * MS, &s), 0);
	assert_true(td_probe_done(p));
	assert_int_equal(td_probe_next_deadline(p), UINT64_MAX);
	td_probe_free(p);
}

static void flood_sends_next_on_reply(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 3;
	c.interval_ns = 10 * MS;
	c.send_on_reply = true;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	uint8_t rep[2048];
	poll1(p, 0, &s);
	assert_int_equal(td_probe_next_deadline(p), 10 * MS);
	size_t n = make_reply(&s, rep);
	deliver(p, 100 * US, rep, n, &a, TD_PROBE_SOCK_DGRAM);
	assert_int_equal(td_probe_next_deadline(p), 100 * US);
	assert_int_equal(poll1(p, 100 * US, &s), 1);
	assert_int_equal(s.seq, 1);
	td_probe_free(p);
}

static void short_payload_matched_unauthenticated(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.payload_len = 8;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	poll1(p, 0, &s);
	uint8_t rep[2048];
	size_t n = make_reply(&s, rep);
	assert_int_equal(deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM), 0);
	assert_true(r.last[TD_PROBE_EV_REPLY].unauthenticated);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	td_probe_free(p);
}

/* The address table is filled on the first lookup: a renamed target and a
 * target added after that lookup must both be found by address. */
static void address_lookup_follows_set_addr_and_late_add(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.payload_len = 8; /* too short to authenticate: matched by address */
	c.max_targets = 4;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2), d = v4(10, 0, 0, 4);
	td_probe_add(p, &a, NULL);
	td_probe_add(p, &b, NULL);
	struct td_probe_addr a2 = v4(10, 0, 0, 3);
	assert_int_equal(td_probe_set_addr(p, 0, &a2), 0); /* before any lookup */
	td_probe_start(p, 0);
	struct sent s0, s1;
	assert_int_equal(poll1(p, 0, &s0), 1);
	assert_int_equal(poll1(p, 0, &s1), 1);
	uint8_t rep[2048];
	size_t n = make_reply(&s0, rep);
	deliver(p, 1 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM); /* the old address: unknown */
	assert_int_equal(td_probe_target_stats(p, 0)->received, 0);
	assert_int_equal(td_probe_drops(p, TD_PROBE_DROP_UNKNOWN), 1);
	deliver(p, 1 * MS, rep, n, &a2, TD_PROBE_SOCK_DGRAM);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	uint32_t id = 0;
	assert_int_equal(td_probe_add(p, &d, &id), 0); /* after the table was filled */
	struct sent s2;
	assert_int_equal(poll1(p, 2 * MS, &s2), 1);
	assert_int_equal(s2.target, id);
	n = make_reply(&s2, rep);
	deliver(p, 3 * MS, rep, n, &d, TD_PROBE_SOCK_DGRAM);
	assert_int_equal(td_probe_target_stats(p, id)->received, 1);
	td_probe_free(p);
}

static void ipv6_reply_matches(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = {.family = TD_PROBE_V6, .a = {[15] = 1}};
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct td_probe_tx tx;
	assert_int_equal(td_probe_poll(p, 0, &tx), 1);
	assert_int_equal(tx.pkt[0], TD_ICMP6_ECHO_REQUEST);
	uint8_t rep[2048];
	memcpy(rep, tx.pkt, tx.len);
	rep[0] = TD_ICMP6_ECHO_REPLY;
	struct td_probe_rx rx = {.family = TD_PROBE_V6, .src = a, .ttl = 64, .tos = -1};
	assert_int_equal(td_probe_input(p, 30 * US, rep, tx.len, &rx), 0);
	assert_int_equal(r.last[TD_PROBE_EV_REPLY].rtt_ns, 30 * US);
	td_probe_free(p);
}

/* fe80::1 on the link with ifindex `scope` (0: no zone). */
static struct td_probe_addr ll6(uint8_t last, uint32_t scope)
{
	struct td_probe_addr x = {.family = TD_PROBE_V6, .a = {0xfe, 0x80, [15] = last},
				  .scope = scope};
	return x;
}

/* An ICMPv6 echo reply to a request (the engine skips the v6 checksum: the
 * kernel verified it), received from src, which carries the arrival link. */
static int deliver6(struct td_probe *p, uint64_t now, const struct sent *s,
		    const struct td_probe_addr *src, enum td_probe_sock sock)
{
	uint8_t rep[2048];
	memcpy(rep, s->pkt, s->len);
	rep[0] = TD_ICMP6_ECHO_REPLY;
	struct td_probe_rx rx = {.family = TD_PROBE_V6, .sock = sock, .src = *src, .ttl = 64,
				 .tos = -1};
	return td_probe_input(p, now, rep, s->len, &rx);
}

/* Two targets, one address, two links: each probe names its link and each
 * reply counts for the target of the link it came in on. */
static void same_link_local_on_two_links_is_two_targets(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.max_targets = 2;
	for (int raw = 0; raw < 2; raw++) {
		c.sock[1] = raw ? TD_PROBE_SOCK_RAW : TD_PROBE_SOCK_DGRAM;
		struct td_probe *p = mk(&c, &r);
		struct td_probe_addr on2 = ll6(1, 2), on3 = ll6(1, 3);
		uint32_t id2, id3;
		assert_int_equal(td_probe_add(p, &on2, &id2), 0);
		assert_int_equal(td_probe_add(p, &on3, &id3), 0);
		td_probe_start(p, 0);
		struct sent s2, s3;
		assert_int_equal(poll1(p, 0, &s2), 1);
		assert_int_equal(poll1(p, 0, &s3), 1);
		assert_int_equal(s2.target, id2);
		assert_int_equal(s2.dst.scope, 2); /* sendmsg's sin6_scope_id */
		assert_int_equal(s3.dst.scope, 3);
		/* the second link answers first */
		assert_int_equal(deliver6(p, 1 * MS, &s3, &on3, c.sock[1]), 0);
		assert_int_equal(r.last[TD_PROBE_EV_REPLY].target, id3);
		assert_int_equal(r.last[TD_PROBE_EV_REPLY].from.scope, 3);
		assert_int_equal(td_probe_target_stats(p, id3)->received, 1);
		assert_int_equal(td_probe_target_stats(p, id2)->received, 0);
		assert_int_equal(deliver6(p, 2 * MS, &s2, &on2, c.sock[1]), 0);
		assert_int_equal(td_probe_target_stats(p, id2)->received, 1);
		assert_int_equal(td_probe_target_stats(p, id3)->received, 1);
		assert_true(td_probe_done(p));
		td_probe_free(p);
	}
}

/* A reply from fe80::1 that arrived on link 3 is not an answer for
 * fe80::1%2: counted as a drop (wrong source), the probe stays pending and
 * times out; a link nobody probes is another address altogether. */
static void reply_on_the_wrong_link_is_a_counted_drop(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.max_targets = 2;
	c.timeout_ns = 100 * MS;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr on2 = ll6(1, 2), on3 = ll6(1, 3), on4 = ll6(1, 4), bare = ll6(1, 0);
	td_probe_add(p, &on2, NULL);
	td_probe_add(p, &on3, NULL);
	td_probe_start(p, 0);
	struct sent s2, s3;
	poll1(p, 0, &s2);
	poll1(p, 0, &s3);
	assert_int_equal(deliver6(p, 1 * MS, &s2, &on3, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_WRONG_SOURCE + 1);
	assert_int_equal(deliver6(p, 1 * MS, &s2, &on4, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_WRONG_SOURCE + 1);
	assert_int_equal(deliver6(p, 1 * MS, &s2, &bare, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_WRONG_SOURCE + 1);
	assert_int_equal(td_probe_drops(p, TD_PROBE_DROP_WRONG_SOURCE), 3);
	assert_int_equal(r.n[TD_PROBE_EV_REPLY], 0);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 0);
	assert_int_equal(td_probe_target_stats(p, 1)->received, 0);
	assert_int_equal(deliver6(p, 2 * MS, &s3, &on3, TD_PROBE_SOCK_DGRAM), 0);
	struct sent none;
	assert_int_equal(poll1(p, 200 * MS, &none), 0);
	assert_int_equal(td_probe_target_stats(p, 0)->timeouts, 1);
	assert_int_equal(td_probe_target_stats(p, 1)->received, 1);
	td_probe_free(p);
}

/* The MAC binds the scope: a probe sent to fe80::1%2 does not verify for
 * fe80::1%3, even once the target has moved there (forged, not a reply). */
static void mac_binds_the_scope_the_probe_was_sent_with(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 2;
	struct td_probe_addr on2 = ll6(1, 2), on3 = ll6(1, 3);
	struct td_probe *p = mk_started(&c, &r, &on2);
	struct sent s;
	poll1(p, 0, &s);
	assert_int_equal(td_probe_set_addr(p, 0, &on3), 0);
	assert_int_equal(deliver6(p, 1 * MS, &s, &on3, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_FORGED + 1);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 0);
	struct sent s2;
	assert_int_equal(poll1(p, 1000 * MS, &s2), 1);
	assert_int_equal(s2.dst.scope, 3);
	assert_int_equal(deliver6(p, 1001 * MS, &s2, &on3, TD_PROBE_SOCK_DGRAM), 0);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	td_probe_free(p);
}

/* Without a MAC (-s < 24) the address table finds the target by address
 * and link; an unprobed link is unknown. */
static void unauthenticated_reply_found_by_address_and_link(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	c.max_targets = 2;
	c.payload_len = 8;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr on2 = ll6(1, 2), on3 = ll6(1, 3), on4 = ll6(1, 4);
	td_probe_add(p, &on2, NULL);
	td_probe_add(p, &on3, NULL);
	td_probe_start(p, 0);
	struct sent s2, s3;
	poll1(p, 0, &s2);
	poll1(p, 0, &s3);
	assert_int_equal(deliver6(p, 1 * MS, &s3, &on4, TD_PROBE_SOCK_DGRAM),
			 TD_PROBE_DROP_UNKNOWN + 1);
	assert_int_equal(deliver6(p, 1 * MS, &s3, &on3, TD_PROBE_SOCK_DGRAM), 0);
	assert_int_equal(td_probe_target_stats(p, 1)->received, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 0);
	assert_int_equal(deliver6(p, 1 * MS, &s2, &on2, TD_PROBE_SOCK_DGRAM), 0);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	td_probe_free(p);
}

/* RFC 4007: only link-scoped addresses have zones; the kernel reports none
 * for a global source, so a zone given with a global target is ignored. */
static void zone_of_a_global_address_is_ignored(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 1;
	struct td_probe_addr g = {.family = TD_PROBE_V6, .a = {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
				  .scope = 7};
	struct td_probe *p = mk_started(&c, &r, &g);
	struct sent s;
	poll1(p, 0, &s);
	struct td_probe_addr from = g;
	from.scope = 0;
	assert_int_equal(deliver6(p, 1 * MS, &s, &from, TD_PROBE_SOCK_DGRAM), 0);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 1);
	td_probe_free(p);
}

static void siphash_matches_reference_vector(void **st)
{
	(void)st;
	/* Aumasson & Bernstein, SipHash paper appendix A: key 00..0f, message 00..0e. */
	uint8_t k[16], m[15];
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	assert_int_equal(td_siphash24(k, m, 15), 0xa129ca6149be45e5ULL);
}

/* --threads: each loop's engine draws raw identifiers that name the loop. */
static void raw_idents_name_their_loop_when_split(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 5000;
	c.sock[0] = TD_PROBE_SOCK_RAW;
	c.ident_mod = 3;
	c.ident_rem = 2;
	struct td_probe *p = mk(&c, &r);
	for (uint32_t i = 0; i < 5000; i++) {
		struct td_probe_addr a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(td_probe_add(p, &a, NULL), 0);
		assert_int_equal(td_probe_target_ident(p, i) % 3, 2);
	}
	td_probe_free(p);
	c.ident_rem = 3; /* no remainder of 3 */
	struct td_probe *q = NULL;
	assert_int_equal(td_probe_new(&q, &c), -EINVAL);
}

/* Raw identifiers are random per target: four consecutive targets share one
 * SipHash, each its own 16-bit lane, so neighbours differ, the draw does
 * not depend on the order of adds, and another key draws other ones. */
static void raw_idents_differ_between_neighbours_and_keys(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 4096;
	c.sock[0] = TD_PROBE_SOCK_RAW;
	struct td_probe *p = mk(&c, &r);
	static uint8_t seen[65536];
	memset(seen, 0, sizeof(seen));
	unsigned distinct = 0, same_as_prev = 0;
	for (uint32_t i = 0; i < 4096; i++) {
		struct td_probe_addr a = v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i);
		assert_int_equal(td_probe_add(p, &a, NULL), 0);
		uint16_t id = td_probe_target_ident(p, i);
		distinct += !seen[id];
		seen[id] = 1;
		same_as_prev += i && id == td_probe_target_ident(p, i - 1);
	}
	/* 4096 draws from 65 536: about 125 collisions expected, never a run of equal ones */
	assert_true(distinct > 3800);
	assert_true(same_as_prev < 4);
	/* the same key and ids give the same identifiers, added in another order */
	struct rec r2 = {0};
	struct td_probe *q = mk(&c, &r2);
	for (uint32_t i = 0; i < 8; i++) {
		struct td_probe_addr a = v4(10, 2, 0, (uint8_t)i);
		assert_int_equal(td_probe_add(q, &a, NULL), 0);
		assert_int_equal(td_probe_target_ident(q, i), td_probe_target_ident(p, i));
	}
	td_probe_free(q);
	c.key[0] ^= 1; /* mk() set the key: create directly */
	q = NULL;
	assert_int_equal(td_probe_new(&q, &c), 0);
	unsigned equal = 0;
	for (uint32_t i = 0; i < 64; i++) {
		struct td_probe_addr a = v4(10, 3, 0, (uint8_t)i);
		assert_int_equal(td_probe_add(q, &a, NULL), 0);
		equal += td_probe_target_ident(q, i) == td_probe_target_ident(p, i);
	}
	assert_true(equal < 4);
	td_probe_free(q);
	td_probe_free(p);
}

/* Probe every due target of engine p (loop k of n) at now and answer each
 * with an RTT that depends on its index in the whole run and the round. */
static void answer_round(struct td_probe *p, unsigned k, unsigned n, uint64_t now, unsigned round)
{
	struct sent s;
	uint8_t rep[2048];
	while (poll1(p, now, &s) == 1) {
		uint32_t g = s.target * n + k;
		size_t len = make_reply(&s, rep);
		uint64_t rtt = (100 + 37 * (uint64_t)g + 13 * (uint64_t)round * (g % 5)) * US;
		deliver(p, now + rtt, rep, len, &s.dst, TD_PROBE_SOCK_DGRAM);
	}
}

/* The figures over the engines of several loops are those of one engine. */
static void totals_and_percentiles_over_engines_equal_one_engine(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 7;
	c.count = 20;
	c.interval_ns = 10 * MS;
	c.timeout_ns = 500 * MS;
	struct td_probe *one = mk(&c, &r), *two[2] = {mk(&c, &r), mk(&c, &r)};
	for (uint32_t g = 0; g < 7; g++) {
		struct td_probe_addr a = v4(10, 0, 0, (uint8_t)(g + 1));
		td_probe_add(one, &a, NULL);
		td_probe_add(two[g % 2], &a, NULL);
	}
	td_probe_start(one, 0);
	td_probe_start(two[0], 0);
	td_probe_start(two[1], 0);
	for (unsigned i = 0; i < 20; i++) {
		answer_round(one, 0, 1, i * 10 * MS, i);
		answer_round(two[0], 0, 2, i * 10 * MS, i);
		answer_round(two[1], 1, 2, i * 10 * MS, i);
	}
	struct td_probe_stats a, b;
	const struct td_probe *const many[2] = {two[0], two[1]};
	td_probe_totals(one, &a);
	td_probe_totals_many(many, 2, &b);
	assert_int_equal(a.transmitted, 140);
	assert_int_equal(b.transmitted, a.transmitted);
	assert_int_equal(b.received, a.received);
	assert_int_equal(b.rtt_min_ns, a.rtt_min_ns);
	assert_int_equal(b.rtt_max_ns, a.rtt_max_ns);
	assert_int_equal(b.rtt_sum_ns, a.rtt_sum_ns);
	assert_true(b.jitter_ns == a.jitter_ns && a.jitter_ns > 0);
	for (double q = 10; q <= 100; q += 10)
		assert_int_equal(td_probe_percentile_all_many(many, 2, q), td_probe_percentile_all(one, q));
	struct td_probe_hist h;
	memset(&h, 0, sizeof(h));
	td_probe_hist_merge(&h, td_probe_all_hist(two[0]));
	td_probe_hist_merge(&h, td_probe_all_hist(two[1]));
	assert_memory_equal(&h, td_probe_all_hist(one), sizeof(h));
	td_probe_free(one);
	td_probe_free(two[0]);
	td_probe_free(two[1]);
}

/* Poll at every millisecond of [from, to), counting sends. */
static unsigned poll_span(struct td_probe *p, uint64_t from, uint64_t to)
{
	struct sent s;
	unsigned n = 0;
	for (uint64_t now = from; now < to; now += MS)
		while (poll1(p, now, &s) == 1)
			n++;
	return n;
}

/* iputils -c 3 -i 0.2 -W 0.3 -w 3 <silent host>: 15 probes over the 3 s, not 3. */
static void count_with_deadline_probes_until_count_answers(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 3;
	c.count_replies = true;
	c.interval_ns = 200 * MS;
	c.timeout_ns = 300 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	assert_int_equal(poll_span(p, 0, 3000 * MS), 15);
	assert_false(td_probe_done(p)); /* the caller's deadline ends it */
	assert_int_equal(td_probe_target_stats(p, 0)->timeouts, 14);
	td_probe_free(p);

	/* Answers to 1 and 3 of 0..3, then 4 answered: done with 0 and 2 in
	 * flight (iputils exits at once; they stay transmitted, unanswered). */
	memset(&r, 0, sizeof(r));
	c.timeout_ns = 1000 * MS;
	p = mk(&c, &r);
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct sent s;
	uint8_t rep[2048];
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(poll1(p, i * 200 * MS, &s), 1);
		assert_int_equal(s.seq, i);
		if (i == 1 || i == 3 || i == 4) {
			size_t n = make_reply(&s, rep);
			deliver(p, i * 200 * MS + 5 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM);
		}
		assert_int_equal(td_probe_done(p), i == 4);
	}
	assert_int_equal(td_probe_outstanding(p), 2);
	assert_int_equal(r.n[TD_PROBE_EV_DONE], 1);
	assert_int_equal(poll1(p, 2000 * MS, &s), 0);
	assert_int_equal(td_probe_target_stats(p, 0)->transmitted, 5);
	assert_int_equal(td_probe_target_stats(p, 0)->received, 3);
	td_probe_free(p);
}

/* iputils main_loop: nreceived + nerrors >= npackets; several targets each need theirs. */
static void count_with_deadline_errors_count_as_answers(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 2;
	c.count = 2;
	c.count_replies = true;
	c.interval_ns = 100 * MS;
	c.timeout_ns = 1000 * MS;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 1, 1), b = v4(10, 0, 1, 2), router = v4(10, 0, 0, 254);
	td_probe_add(p, &a, NULL);
	td_probe_add(p, &b, NULL);
	td_probe_start(p, 0);
	struct sent s;
	uint8_t rep[2048];
	uint64_t now = 0;
	for (int round = 0; round < 2; round++, now += 100 * MS)
		while (poll1(p, now, &s) == 1) {
			if (s.target == 0) { /* a: unreachable, twice */
				struct td_probe_icmp_err e = {.family = 4, .offender = router, .dst = a,
							      .type = 3, .code = 1, .quoted = s.pkt,
							      .quoted_len = s.len};
				assert_int_equal(td_probe_error(p, now + 1 * MS, &e), 0);
			} else if (round == 0) { /* b: one reply only */
				size_t n = make_reply(&s, rep);
				deliver(p, now + 1 * MS, rep, n, &b, TD_PROBE_SOCK_DGRAM);
			}
		}
	assert_false(td_probe_done(p)); /* b has one answer of two */
	assert_int_equal(poll_span(p, now, now + 500 * MS), 5); /* only b goes on */
	assert_int_equal(td_probe_target_stats(p, 0)->transmitted, 2);
	assert_int_equal(td_probe_target_stats(p, 0)->errors, 2);
	assert_int_equal(r.n[TD_PROBE_EV_DONE], 1);
	td_probe_free(p);
}

/* iputils with -w: `if (deadline && nerrors) break`; a redirect is no end. */
static void stop_on_error_ends_target_at_first_error_not_redirect(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 0;
	c.stop_on_error = true;
	c.interval_ns = 100 * MS;
	c.sock[0] = TD_PROBE_SOCK_RAW;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 1, 1), router = v4(10, 0, 0, 254);
	td_probe_add(p, &a, NULL);
	td_probe_start(p, 0);
	struct sent s;
	uint8_t err[2048];
	assert_int_equal(poll1(p, 0, &s), 1);
	size_t n = make_error(&s, TD_ICMP4_REDIRECT, 1, err);
	deliver(p, 1 * MS, err, n, &router, TD_PROBE_SOCK_RAW);
	assert_false(td_probe_done(p));
	assert_int_equal(poll1(p, 100 * MS, &s), 1);
	n = make_error(&s, TD_ICMP4_TIME_EXCEEDED, 0, err);
	assert_int_equal(deliver(p, 101 * MS, err, n, &router, TD_PROBE_SOCK_RAW), 0);
	assert_true(td_probe_done(p)); /* probe 0 still in flight: iputils exits anyway */
	assert_int_equal(poll_span(p, 101 * MS, 1000 * MS), 0);
	assert_int_equal(td_probe_target_stats(p, 0)->transmitted, 2);
	td_probe_free(p);
}

/* -c 5000 -i 0.002 -W 10, replies after 9 s: 5000 in flight, no false loss
 * (with 4096 slots per target, 904 probes used to time out early). */
static void five_thousand_in_flight_answered_after_9s_none_timed_out(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 5000;
	c.interval_ns = 2 * MS;
	c.timeout_ns = 10000 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	assert_true(td_probe_window(p) >= 5000);
	struct late {
		uint8_t pkt[64];
		size_t len;
		uint64_t at;
	} *q = calloc(5000, sizeof(*q));
	assert_non_null(q);
	unsigned sent = 0, got = 0;
	struct sent s;
	for (uint64_t now = 0; !td_probe_done(p) && now < 30000 * MS; now += MS) {
		while (got < sent && q[got].at <= now) {
			deliver(p, now, q[got].pkt, q[got].len, &a, TD_PROBE_SOCK_DGRAM);
			got++;
		}
		while (poll1(p, now, &s) == 1) {
			assert_true(sent < 5000);
			q[sent].len = make_reply(&s, q[sent].pkt);
			q[sent].at = now + 9000 * MS;
			sent++;
		}
	}
	const struct td_probe_stats *t = td_probe_target_stats(p, 0);
	assert_int_equal(t->transmitted, 5000);
	assert_int_equal(t->received, 5000);
	assert_int_equal(t->timeouts, 0);
	assert_int_equal(t->late, 0);
	assert_int_equal(td_probe_drops(p, TD_PROBE_DROP_STALE), 0);
	assert_true(td_probe_done(p));
	free(q);
	td_probe_free(p);
}

/* A window smaller than timeout/interval (explicit here; derived under the
 * memory bound): sends wait for a slot, no probe ends before its timeout. */
static void full_window_delays_send_until_a_slot_frees(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 0;
	c.window = 4;
	c.interval_ns = 1 * MS;
	c.timeout_ns = 10 * MS;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s, first;
	assert_int_equal(poll1(p, 0, &first), 1);
	assert_int_equal(poll_span(p, 1 * MS, 5 * MS), 3); /* 1, 2, 3; then 4 waits for 0's slot */
	assert_int_equal(td_probe_window_waits(p), 1);
	assert_int_equal(td_probe_next_deadline(p), 10 * MS); /* probe 0's timeout */
	/* A reply to probe 0 frees its slot: probe 4 leaves at once. */
	uint8_t rep[2048];
	size_t n = make_reply(&first, rep);
	deliver(p, 6 * MS, rep, n, &a, TD_PROBE_SOCK_DGRAM);
	assert_int_equal(poll1(p, 6 * MS, &s), 1);
	assert_int_equal(s.seq, 4);
	/* Silent from now on: 1 times out at 11 ms, then 5 can go, and so on. */
	assert_int_equal(poll_span(p, 7 * MS, 11 * MS), 0);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 0);
	assert_int_equal(poll1(p, 11 * MS, &s), 1);
	assert_int_equal(s.seq, 5);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 1);
	assert_int_equal(r.last[TD_PROBE_EV_TIMEOUT].seq, 1);
	assert_int_equal(td_probe_target_stats(p, 0)->timeouts, 1);
	td_probe_free(p);
}

/* The timeout FIFO fills with another target's answered probes behind a
 * silent one's: it is compacted, the silent probes still time out at -W. */
static void fifo_full_of_answered_probes_keeps_pending_until_timeout(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 2;
	c.count = 0;
	c.window = 4; /* FIFO of 2 x 2 x 4 entries */
	c.interval_ns = 10 * MS;
	c.timeout_ns = 1000 * MS;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
	td_probe_add(p, &a, NULL);
	td_probe_add(p, &b, NULL);
	td_probe_start(p, 0);
	struct sent s;
	uint8_t rep[2048];
	unsigned to_a = 0;
	for (uint64_t now = 0; now < 1000 * MS; now += MS)
		while (poll1(p, now, &s) == 1) {
			if (s.target == 0) {
				to_a++;
				continue;
			}
			size_t n = make_reply(&s, rep);
			deliver(p, now + 1 * MS, rep, n, &b, TD_PROBE_SOCK_DGRAM);
		}
	assert_int_equal(to_a, 4); /* then a's window is full: it waits */
	assert_int_equal(td_probe_target_stats(p, 1)->received, 100);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 0);
	assert_int_equal(td_probe_outstanding(p), 4);
	assert_int_equal(poll1(p, 1000 * MS, &s), 1);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 1); /* a's probe 0, at its -W */
	assert_int_equal(r.last[TD_PROBE_EV_TIMEOUT].target, 0);
	td_probe_free(p);
}

/* Flood: the rate comes from replies; a lost probe that W newer answered
 * ones outran is forgotten, counted as evicted, not as a timeout. */
static void flood_full_window_evicts_oldest_not_timeout(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 0;
	c.window = 8;
	c.interval_ns = 10 * MS;
	c.send_on_reply = true;
	struct td_probe_addr a = v4(10, 0, 0, 1);
	struct td_probe *p = mk_started(&c, &r, &a);
	struct sent s;
	uint8_t rep[2048];
	assert_int_equal(poll1(p, 0, &s), 1); /* lost */
	uint64_t now = 10 * MS;
	for (int i = 1; i < 20; i++, now += 10 * US) {
		assert_int_equal(poll1(p, now, &s), 1);
		size_t n = make_reply(&s, rep);
		deliver(p, now + 5 * US, rep, n, &a, TD_PROBE_SOCK_DGRAM);
	}
	const struct td_probe_stats *t = td_probe_target_stats(p, 0);
	assert_int_equal(td_probe_evicted(p), 1);
	assert_int_equal(t->timeouts, 0);
	assert_int_equal(r.n[TD_PROBE_EV_TIMEOUT], 0);
	assert_int_equal(t->received, 19);
	assert_int_equal(td_probe_outstanding(p), 0);
	td_probe_free(p);
}

static void derived_window_shrinks_to_memory_bound(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.count = 0;
	c.interval_ns = 100 * US;
	c.timeout_ns = 10000 * MS; /* 100 000 per timeout: the 65 536 cap */
	struct td_probe *p = mk(&c, &r);
	assert_int_equal(td_probe_window(p), TD_PROBE_WINDOW_MAX);
	td_probe_free(p);
	c.max_targets = 1024; /* 1024 x 65 536 > 2^23 slots: 8192 each */
	p = mk(&c, &r);
	assert_int_equal(td_probe_window(p), TD_PROBE_SLOTS_MAX / 1024);
	td_probe_free(p);
	c.max_targets = 1;
	c.count = 100; /* no more slots than probes */
	p = mk(&c, &r);
	assert_int_equal(td_probe_window(p), 128);
	td_probe_free(p);
	c.count_replies = true; /* ...unless it goes on until count answers */
	p = mk(&c, &r);
	assert_int_equal(td_probe_window(p), TD_PROBE_WINDOW_MAX);
	td_probe_free(p);
	c.window = 2 * TD_PROBE_WINDOW_MAX;
	struct td_probe *q = NULL;
	assert_int_equal(td_probe_new(&q, &c), -EINVAL);
}

/* iputils ping_common.c: rtt = 8 x first sample, then rtt += sample - rtt/8. */
static void smoothed_rtt_is_iputils_ewma_and_mean_over_targets(void **st)
{
	(void)st;
	struct rec r = {0};
	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 2;
	c.count = 4;
	c.interval_ns = 100 * MS;
	struct td_probe *p = mk(&c, &r);
	struct td_probe_addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
	td_probe_add(p, &a, NULL);
	td_probe_add(p, &b, NULL);
	td_probe_start(p, 0);
	static const uint64_t rtt_a[4] = {10 * MS, 18 * MS, 2 * MS, 26 * MS};
	struct sent s;
	uint8_t rep[2048];
	for (int i = 0; i < 4; i++) {
		uint64_t now = (uint64_t)i * 100 * MS;
		while (poll1(p, now, &s) == 1) {
			size_t n = make_reply(&s, rep);
			uint64_t rtt = s.target == 0 ? rtt_a[i] : 4 * MS;
			deliver(p, now + rtt, rep, n, &s.dst, TD_PROBE_SOCK_DGRAM);
		}
		if (i == 0)
			assert_int_equal(td_probe_target_stats(p, 0)->rtt_ewma_ns, 10 * MS);
	}
	/* 10 -> 11 -> 9.875 -> 11.890625 ms (the last RTT, 26 ms, is not it) */
	const struct td_probe_stats *t = td_probe_target_stats(p, 0);
	assert_int_equal(t->rtt_ewma_ns, 11890625);
	assert_int_equal(t->last_rtt_ns, 26 * MS);
	assert_int_equal(td_probe_target_stats(p, 1)->rtt_ewma_ns, 4 * MS);
	struct td_probe_stats tot;
	td_probe_totals(p, &tot);
	assert_int_equal(tot.rtt_ewma_ns, (11890625 + 4 * MS) / 2);
	td_probe_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reply_matches_and_rtt_from_monotonic_clock),
		cmocka_unit_test(last_send_is_the_instant_of_the_latest_probe),
		cmocka_unit_test(payload_beyond_ipv4_limit_is_refused_for_ipv4_targets_only),
		cmocka_unit_test(kernel_stamps_preferred_over_clock),
		cmocka_unit_test(duplicate_reply_counted_not_received_twice),
		cmocka_unit_test(reordered_replies_counted_out_of_order),
		cmocka_unit_test(forged_mac_dropped_and_counted),
		cmocka_unit_test(wire_seq_differing_from_authenticated_seq_is_forged),
		cmocka_unit_test(reply_from_other_address_is_wrong_source),
		cmocka_unit_test(raw_socket_foreign_ident_ignored),
		cmocka_unit_test(corrupted_pattern_reported_with_offset),
		cmocka_unit_test(send_failed_with_emsgsize_carries_the_local_mtu),
		cmocka_unit_test(bad_icmp_checksum_is_malformed),
		cmocka_unit_test(timeout_then_late_reply_not_received),
		cmocka_unit_test(sequence_space_per_target_beyond_65535_targets),
		cmocka_unit_test(spacing_paces_sends_across_targets),
		cmocka_unit_test(spacing_bucket_lets_a_burst_out_after_idle_but_keeps_rate),
		cmocka_unit_test(lost_probe_in_long_flood_times_out_at_its_timeout_not_before),
		cmocka_unit_test(count_with_deadline_probes_until_count_answers),
		cmocka_unit_test(count_with_deadline_errors_count_as_answers),
		cmocka_unit_test(stop_on_error_ends_target_at_first_error_not_redirect),
		cmocka_unit_test(five_thousand_in_flight_answered_after_9s_none_timed_out),
		cmocka_unit_test(full_window_delays_send_until_a_slot_frees),
		cmocka_unit_test(flood_full_window_evicts_oldest_not_timeout),
		cmocka_unit_test(fifo_full_of_answered_probes_keeps_pending_until_timeout),
		cmocka_unit_test(derived_window_shrinks_to_memory_bound),
		cmocka_unit_test(smoothed_rtt_is_iputils_ewma_and_mean_over_targets),
		cmocka_unit_test(unsend_gives_probe_back),
		cmocka_unit_test(raw_time_exceeded_matched_to_probe),
		cmocka_unit_test(dgram_error_queue_unreachable_matched),
		cmocka_unit_test(percentiles_exact_then_histogram),
		cmocka_unit_test(mdev_is_the_exact_standard_deviation),
		cmocka_unit_test(percentiles_per_target_with_small_count),
		cmocka_unit_test(start_run_merges_with_targets_added_later),
		cmocka_unit_test(flood_sends_next_on_reply),
		cmocka_unit_test(short_payload_matched_unauthenticated),
		cmocka_unit_test(address_lookup_follows_set_addr_and_late_add),
		cmocka_unit_test(raw_idents_name_their_loop_when_split),
		cmocka_unit_test(raw_idents_differ_between_neighbours_and_keys),
		cmocka_unit_test(totals_and_percentiles_over_engines_equal_one_engine),
		cmocka_unit_test(ipv6_reply_matches),
		cmocka_unit_test(same_link_local_on_two_links_is_two_targets),
		cmocka_unit_test(reply_on_the_wrong_link_is_a_counted_drop),
		cmocka_unit_test(mac_binds_the_scope_the_probe_was_sent_with),
		cmocka_unit_test(unauthenticated_reply_found_by_address_and_link),
		cmocka_unit_test(zone_of_a_global_address_is_ignored),
		cmocka_unit_test(siphash_matches_reference_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
