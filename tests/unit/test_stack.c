/* Unit tests of the IP/ICMP/UDP stack in virtual time: two stacks wired back to back, crafted packets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <tundra/stack.h>
#include <tundra/wire.h>

#include "stack/stack_internal.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const uint8_t fd00_1[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t fd00_2[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* a = the stack under test (10.0.0.2, fd00::2); b = a peer stack playing
 * the kernel (10.0.0.1, fd00::1). */
struct pair {
	struct td_stack *a, *b;
};

static struct td_stack *mk(bool peer, const struct td_stack_config *over)
{
	struct td_stack_config c;
	if (over)
		c = *over;
	else
		td_stack_config_default(&c);
	if (peer) {
		c.addr4 = 0x0a000001;
		memcpy(c.addr6, fd00_1, 16);
		c.udp_echo = c.udp_discard = false;
		c.impair_in = c.impair_out = (struct td_impair_config){0};
	}
	struct td_stack *st;
	assert_int_equal(td_stack_create(&c, &st), 0);
	return st;
}

static void assert_drained(struct td_stack *st)
{
	struct td_stack_pool_usage u;
	td_stack_pool_usage(st, &u);
	assert_int_equal(u.pkt_slots, 0);
	assert_int_equal(u.reass_slots, 0);
	assert_int_equal(u.udp_sockets, 0);
}

/* Move every packet from `from` into `to`; returns how many. */
static int pump(struct td_stack *from, struct td_stack *to, uint64_t now)
{
	const uint8_t *p;
	size_t len;
	int n = 0;
	while ((p = td_stack_output_peek(from, now, &len))) {
		if (to)
			td_stack_input(to, now, p, len);
		td_stack_output_pop(from);
		n++;
	}
	return n;
}

/* Take the next output packet into buf. */
static size_t take(struct td_stack *st, uint64_t now, uint8_t *buf, size_t cap)
{
	size_t len;
	const uint8_t *p = td_stack_output_peek(st, now, &len);
	if (!p)
		return 0;
	assert_true(len <= cap);
	memcpy(buf, p, len);
	td_stack_output_pop(st);
	return len;
}

static uint64_t ctr(struct td_stack *st, enum td_stack_ctr c)
{
	return td_stack_stats(st)->ctr[c];
}

static struct td_ip_pair pair4(uint32_t src, uint32_t dst)
{
	struct td_ip_pair p = {.family = TD_AF_INET};
	p.v4.src = src;
	p.v4.dst = dst;
	return p;
}

static struct td_ip_pair pair6(const uint8_t *src, const uint8_t *dst)
{
	struct td_ip_pair p = {.family = TD_AF_INET6};
	memcpy(p.v6.src, src, 16);
	memcpy(p.v6.dst, dst, 16);
	return p;
}

/* Send an echo request of n data bytes from b to a (fragmented by b when needed). */
static void send_echo(struct td_stack *b, uint8_t family, size_t n, uint16_t seq, uint64_t now)
{
	static uint8_t msg[70000], data[70000];
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + seq);
	struct td_icmp_repr r = {.type = family == TD_AF_INET ? TD_ICMP4_ECHO_REQUEST
							       : TD_ICMP6_ECHO_REQUEST,
				 .ident = 0x1234,
				 .seq = seq,
				 .data = {data, n}};
	size_t len = td_icmp_size(&r);
	struct td_ip_pair ip = family == TD_AF_INET ? pair4(0x0a000001, 0x0a000002)
						    : pair6(fd00_1, fd00_2);
	if (family == TD_AF_INET)
		assert_int_equal(td_icmp4_emit(&r, msg, len), TD_WIRE_OK);
	else
		assert_int_equal(td_icmp6_emit(&r, fd00_1, fd00_2, msg, len), TD_WIRE_OK);
	assert_int_equal(td_stack_ip_send(b, now, &ip,
					  family == TD_AF_INET ? TD_IPPROTO_ICMP : TD_IPPROTO_ICMPV6,
					  NULL, msg, len),
			 0);
}

static void ip4_echo_request_gets_reply_with_same_ident_seq_data(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	send_echo(b, TD_AF_INET, 56, 7, 0);
	assert_int_equal(pump(b, a, 0), 1);
	uint8_t buf[2000];
	size_t len = take(a, 0, buf, sizeof(buf));
	assert_int_equal(len, 84);
	struct td_ipv4_view v;
	struct td_ipv4_repr r;
	assert_int_equal(td_ipv4_check(&v, buf, len, 0), TD_WIRE_OK);
	td_ipv4_parse(&v, &r);
	assert_int_equal(r.src, 0x0a000002);
	assert_int_equal(r.dst, 0x0a000001);
	assert_int_equal(r.ttl, 64);
	struct td_icmp_repr ir;
	struct td_bytes pl = td_ipv4_payload(&v);
	assert_int_equal(td_icmp4_parse(pl.ptr, pl.len, 0, &ir), TD_WIRE_OK);
	assert_int_equal(ir.type, TD_ICMP4_ECHO_REPLY);
	assert_int_equal(ir.ident, 0x1234);
	assert_int_equal(ir.seq, 7);
	assert_int_equal(ir.data.len, 56);
	assert_int_equal(ir.data.ptr[55], (uint8_t)(55 * 7 + 7));
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void ip6_echo_request_gets_reply(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	send_echo(b, TD_AF_INET6, 0, 1, 0);
	pump(b, a, 0);
	assert_int_equal(pump(a, b, 0), 1);
	assert_int_equal(ctr(b, TD_CTR_icmp_rx_echo_reply), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

/* 65507 data bytes: the largest IPv4 echo (65535 - 20 - 8). */
static void echo_65507_fragmented_both_ways(void **state)
{
	(void)state;
	for (int fam = 0; fam < 2; fam++) {
		uint8_t f = fam ? TD_AF_INET6 : TD_AF_INET;
		struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
		size_t n = fam ? 65535 - 8 - 8 : 65507; /* v6: payload 65535 incl. frag header */
		send_echo(b, f, n, 3, 0);
		int frags = pump(b, a, 0);
		assert_true(frags > 40);
		assert_int_equal(ctr(a, TD_CTR_reass_ok), 1);
		assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
		assert_int_equal(pump(a, b, 0), frags);
		assert_int_equal(ctr(b, TD_CTR_reass_ok), 1);
		assert_int_equal(ctr(b, TD_CTR_icmp_rx_echo_reply), 1);
		assert_drained(a);
		assert_drained(b);
		td_stack_destroy(a);
		td_stack_destroy(b);
	}
}

static void udp_echo_service_returns_datagram_of_each_size(void **state)
{
	(void)state;
	static const size_t sizes[] = {0, 1, 1472, 1473, 8000, 65507};
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	struct td_udp_sock *s;
	assert_int_equal(td_udp_open(b, &s), 0);
	static uint8_t out[65507], in[65507];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 13);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (int fam = 0; fam < 2; fam++) {
			struct td_endpoint to = {.addr = {.family = fam ? TD_AF_INET6 : TD_AF_INET},
						 .port = 7};
			if (fam)
				memcpy(to.addr.v6, fd00_2, 16);
			else
				to.addr.v4 = 0x0a000002;
			ssize_t sent = td_udp_sendto(s, 0, out, sizes[k], &to);
			if (fam && sizes[k] == 65507) {
				assert_int_equal(sent, 65507);
			} else {
				assert_int_equal(sent, (ssize_t)sizes[k]);
			}
			pump(b, a, 0);
			pump(a, b, 0);
			struct td_endpoint from;
			assert_int_equal(td_udp_recvfrom(s, in, sizeof(in), &from), (ssize_t)sizes[k]);
			assert_memory_equal(in, out, sizes[k]);
			assert_int_equal(from.port, 7);
			assert_int_equal(td_udp_recvfrom(s, in, sizeof(in), &from), -EAGAIN);
		}
	}
	assert_int_equal(ctr(a, TD_CTR_udp_echo), 12);
	td_udp_close(s);
	assert_drained(a);
	assert_drained(b);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void udp_closed_port_gives_port_unreachable_then_econnrefused(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	struct td_udp_sock *s;
	assert_int_equal(td_udp_open(b, &s), 0);
	struct td_endpoint to = {.addr = {.family = TD_AF_INET, .v4 = 0x0a000002}, .port = 5555};
	assert_int_equal(td_udp_sendto(s, 0, "x", 1, &to), 1);
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_udp_no_port), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_error), 1);
	pump(a, b, 0);
	assert_int_equal(ctr(b, TD_CTR_icmp_rx_error), 1);
	assert_true(td_udp_readable(s));
	uint8_t buf[16];
	assert_int_equal(td_udp_recvfrom(s, buf, sizeof(buf), NULL), -ECONNREFUSED);
	assert_int_equal(td_udp_recvfrom(s, buf, sizeof(buf), NULL), -EAGAIN);
	/* the same over IPv6 */
	struct td_udp_sock *s6;
	assert_int_equal(td_udp_open(b, &s6), 0);
	struct td_endpoint to6 = {.addr = {.family = TD_AF_INET6}, .port = 5555};
	memcpy(to6.addr.v6, fd00_2, 16);
	assert_int_equal(td_udp_sendto(s6, 0, "y", 1, &to6), 1);
	pump(b, a, 0);
	pump(a, b, 0);
	assert_int_equal(td_udp_recvfrom(s6, buf, sizeof(buf), NULL), -ECONNREFUSED);
	td_udp_close(s);
	td_udp_close(s6);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

/* Capture the fragments b produces for one big echo. */
static int capture(struct td_stack *b, uint8_t frags[][1500], size_t *lens, int max)
{
	int n = 0;
	while (n < max && (lens[n] = take(b, 0, frags[n], 1500)))
		n++;
	return n;
}

static void reass_overlapping_fragment_discards_datagram(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	static uint8_t fr[8][1500];
	size_t lens[8];
	send_echo(b, TD_AF_INET, 3000, 1, 0);
	int n = capture(b, fr, lens, 8);
	assert_int_equal(n, 3);
	/* second fragment claims to start 8 bytes earlier: overlap */
	uint16_t fo = td_get_be16(fr[1] + 6);
	td_put_be16(fr[1] + 6, (uint16_t)(fo - 1));
	td_put_be16(fr[1] + 10, 0);
	td_put_be16(fr[1] + 10, td_csum(fr[1], 20));
	for (int i = 0; i < n; i++)
		td_stack_input(a, 0, fr[i], lens[i]);
	assert_int_equal(ctr(a, TD_CTR_reass_overlap), 1);
	assert_int_equal(ctr(a, TD_CTR_reass_ok), 0);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 0);
	/* the third fragment opened a new (incomplete) datagram, which times out */
	td_stack_poll(a, 31 * SEC);
	pump(a, NULL, 31 * SEC);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void reass_duplicate_fragment_is_dropped_alone(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	static uint8_t fr[8][1500];
	size_t lens[8];
	send_echo(b, TD_AF_INET6, 3000, 1, 0);
	int n = capture(b, fr, lens, 8);
	assert_int_equal(n, 3);
	td_stack_input(a, 0, fr[0], lens[0]);
	td_stack_input(a, 0, fr[0], lens[0]);
	td_stack_input(a, 0, fr[2], lens[2]);
	td_stack_input(a, 0, fr[1], lens[1]);
	assert_int_equal(ctr(a, TD_CTR_reass_dup), 1);
	assert_int_equal(ctr(a, TD_CTR_reass_ok), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void reass_timeout_sends_time_exceeded_when_first_fragment_seen(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	static uint8_t fr[8][1500];
	size_t lens[8];
	send_echo(b, TD_AF_INET, 3000, 1, 0);
	int n = capture(b, fr, lens, 8);
	assert_int_equal(n, 3);
	td_stack_input(a, 1 * SEC, fr[0], lens[0]);
	assert_int_equal(td_stack_next_deadline(a), 31 * SEC);
	td_stack_poll(a, 31 * SEC - 1);
	assert_int_equal(ctr(a, TD_CTR_reass_timeout), 0);
	td_stack_poll(a, 31 * SEC);
	assert_int_equal(ctr(a, TD_CTR_reass_timeout), 1);
	uint8_t buf[1500];
	size_t len = take(a, 31 * SEC, buf, sizeof(buf));
	assert_true(len > 28);
	assert_int_equal(buf[20], TD_ICMP4_TIME_EXCEEDED);
	assert_int_equal(buf[21], 1);
	/* without the first fragment: no error (RFC 792) */
	td_stack_input(a, 40 * SEC, fr[1], lens[1]);
	td_stack_poll(a, 71 * SEC);
	assert_int_equal(ctr(a, TD_CTR_reass_timeout), 2);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_error), 1);
	assert_int_equal(td_stack_next_deadline(a), UINT64_MAX);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void reass_flood_is_bounded_and_honest_datagram_completes(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	static uint8_t fr[8][1500];
	size_t lens[8];
	/* 100 datagrams that never complete: only their first fragment */
	for (int k = 0; k < 100; k++) {
		send_echo(b, TD_AF_INET, 3000, (uint16_t)k, 0);
		int n = capture(b, fr, lens, 8);
		assert_int_equal(n, 3);
		td_stack_input(a, 0, fr[0], lens[0]);
	}
	struct td_stack_pool_usage u;
	td_stack_pool_usage(a, &u);
	assert_int_equal(u.reass_slots, 16);
	assert_int_equal(ctr(a, TD_CTR_reass_evicted), 84);
	send_echo(b, TD_AF_INET, 3000, 999, 0);
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void reass_too_many_fragments_discards(void **state)
{
	(void)state;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.reass_max_frags = 4;
	struct td_stack *a = mk(false, &c), *b = mk(true, NULL);
	send_echo(b, TD_AF_INET, 8000, 1, 0);
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_reass_too_many_frags), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 0);
	td_stack_poll(a, 100 * SEC);
	pump(a, NULL, 100 * SEC);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void icmp_error_about_icmp_error_is_suppressed(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	/* An ICMP port unreachable quoting an ICMP error, sent as the first
	 * fragment of a datagram that never completes: the timeout must not
	 * produce an error about an error. */
	static uint8_t quote[2000];
	struct td_icmp_repr inner = {.type = TD_ICMP4_DEST_UNREACH, .code = 3,
				     .data = {quote, 28}};
	static uint8_t msg[4000];
	memset(quote, 0x45, sizeof(quote));
	size_t n = 2000;
	inner.data.len = n - 8;
	assert_int_equal(td_icmp4_emit(&inner, msg, n), TD_WIRE_OK);
	struct td_ip_pair ip = pair4(0x0a000001, 0x0a000002);
	assert_int_equal(td_stack_ip_send(b, 0, &ip, TD_IPPROTO_ICMP, NULL, msg, n), 0);
	static uint8_t fr[4][1500];
	size_t lens[4];
	assert_int_equal(capture(b, fr, lens, 4), 2);
	td_stack_input(a, 0, fr[0], lens[0]);
	td_stack_poll(a, 31 * SEC);
	assert_int_equal(ctr(a, TD_CTR_reass_timeout), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_err_suppressed), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_error), 0);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void icmp_errors_are_rate_limited_by_token_bucket(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	struct td_udp_sock *s;
	assert_int_equal(td_udp_open(b, &s), 0);
	struct td_endpoint to = {.addr = {.family = TD_AF_INET, .v4 = 0x0a000002}, .port = 4444};
	for (int i = 0; i < 50; i++) {
		assert_int_equal(td_udp_sendto(s, 0, "x", 1, &to), 1);
		pump(b, a, 0);
	}
	/* burst 20 at t=0, then 100/s: 10 ms later one more */
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_error), 20);
	assert_int_equal(ctr(a, TD_CTR_icmp_err_ratelimited), 30);
	assert_int_equal(td_udp_sendto(s, 10 * MS, "x", 1, &to), 1);
	pump(b, a, 10 * MS);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_error), 21);
	pump(a, NULL, 10 * MS);
	td_udp_close(s);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void ip6_echo_to_all_nodes_is_answered_from_unicast(void **state)
{
	(void)state;
	static const uint8_t ff02_1[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	uint8_t msg[16];
	struct td_icmp_repr r = {.type = TD_ICMP6_ECHO_REQUEST, .ident = 9, .seq = 1,
				 .data = {(const uint8_t *)"abcdefgh", 8}};
	assert_int_equal(td_icmp6_emit(&r, fd00_1, ff02_1, msg, 16), TD_WIRE_OK);
	struct td_ip_pair ip = pair6(fd00_1, ff02_1);
	assert_int_equal(td_stack_ip_send(b, 0, &ip, TD_IPPROTO_ICMPV6, NULL, msg, 16), 0);
	pump(b, a, 0);
	uint8_t buf[200];
	assert_int_equal(take(a, 0, buf, sizeof(buf)), 56);
	assert_memory_equal(buf + 8, fd00_2, 16);
	assert_memory_equal(buf + 24, fd00_1, 16);
	assert_int_equal(buf[40], TD_ICMP6_ECHO_REPLY);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void ip6_unknown_next_header_gets_parameter_problem(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	struct td_ip_pair ip = pair6(fd00_1, fd00_2);
	uint8_t junk[16] = {0};
	assert_int_equal(td_stack_ip_send(b, 0, &ip, 253, NULL, junk, sizeof(junk)), 0);
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_rx_unknown_proto), 1);
	uint8_t buf[1500];
	size_t len = take(a, 0, buf, sizeof(buf));
	assert_int_equal(len, 40 + 8 + 40 + 16);
	assert_int_equal(buf[40], TD_ICMP6_PARAM_PROBLEM);
	assert_int_equal(buf[41], 1);
	assert_int_equal(td_get_be32(buf + 44), 6); /* the fixed header's next header */
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void ip4_unknown_protocol_gets_protocol_unreachable(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	struct td_ip_pair ip = pair4(0x0a000001, 0x0a000002);
	uint8_t junk[8] = {0};
	assert_int_equal(td_stack_ip_send(b, 0, &ip, 200, NULL, junk, sizeof(junk)), 0);
	pump(b, a, 0);
	uint8_t buf[1500];
	assert_int_equal(take(a, 0, buf, sizeof(buf)), 20 + 8 + 28);
	assert_int_equal(buf[20], TD_ICMP4_DEST_UNREACH);
	assert_int_equal(buf[21], 2);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void malformed_input_is_counted_by_codec_error(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL);
	uint8_t p[60] = {0x45, 0, 0, 60};
	td_stack_input(a, 0, p, 10); /* truncated */
	assert_int_equal(td_stack_stats(a)->wire[TD_LAYER_IP4][TD_WIRE_TRUNCATED], 1);
	td_stack_input(a, 0, p, 0);
	td_stack_input(a, 0, "\x15", 1);
	assert_int_equal(ctr(a, TD_CTR_rx_bad_version), 2);
	uint8_t q[40] = {0x60};
	td_stack_input(a, 0, q, 39);
	assert_int_equal(td_stack_stats(a)->wire[TD_LAYER_IP6][TD_WIRE_TRUNCATED], 1);
	/* bad header checksum */
	struct td_ipv4_repr r = {.src = 0x0a000001, .dst = 0x0a000002, .ttl = 1,
				 .proto = 17, .payload_len = 0};
	uint8_t h[20];
	assert_int_equal(td_ipv4_emit(&r, h, 20), TD_WIRE_OK);
	h[10] ^= 1;
	td_stack_input(a, 0, h, 20);
	assert_int_equal(td_stack_stats(a)->wire[TD_LAYER_IP4][TD_WIRE_BAD_CHECKSUM], 1);
	/* our own address as the source: a spoof or a loop */
	struct td_ipv4_repr sp = {.src = 0x0a000002, .dst = 0x0a000002, .ttl = 1, .proto = 17};
	assert_int_equal(td_ipv4_emit(&sp, h, 20), TD_WIRE_OK);
	td_stack_input(a, 0, h, 20);
	assert_int_equal(ctr(a, TD_CTR_rx_bad_src), 1);
	assert_null(td_stack_output_peek(a, 0, &(size_t){0}));
	td_stack_destroy(a);
}

static void echo_to_broadcast_is_ignored_and_no_error_about_it(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	static uint8_t msg[64];
	struct td_icmp_repr r = {.type = TD_ICMP4_ECHO_REQUEST, .ident = 1, .seq = 1};
	assert_int_equal(td_icmp4_emit(&r, msg, 8), TD_WIRE_OK);
	struct td_ip_pair ip = pair4(0x0a000001, 0x0a0000ff);
	assert_int_equal(td_stack_ip_send(b, 0, &ip, TD_IPPROTO_ICMP, NULL, msg, 8), 0);
	/* and UDP to a closed port on the broadcast address */
	uint8_t u[8];
	td_put_be16(u, 1000);
	td_put_be16(u + 2, 2000);
	td_put_be16(u + 4, 8);
	td_put_be16(u + 6, 0);
	assert_int_equal(td_stack_ip_send(b, 0, &ip, TD_IPPROTO_UDP, NULL, u, 8), 0);
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_icmp_echo_ignored), 1);
	assert_int_equal(ctr(a, TD_CTR_udp_no_port), 1);
	assert_null(td_stack_output_peek(a, 0, &(size_t){0}));
	td_stack_destroy(a);
	td_stack_destroy(b);
}

/* Lose 20 % of what a sends; count which echo replies vanish. */
static uint64_t lossy_run(uint64_t seed, uint8_t *lost, int n)
{
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.impair_out.loss_ppm = 200000;
	c.impair_out.seed = seed;
	struct td_stack *a = mk(false, &c), *b = mk(true, NULL);
	for (int i = 0; i < n; i++) {
		uint64_t before = ctr(b, TD_CTR_icmp_rx_echo_reply);
		send_echo(b, TD_AF_INET, 32, (uint16_t)i, 0);
		pump(b, a, 0);
		pump(a, b, 0);
		lost[i] = ctr(b, TD_CTR_icmp_rx_echo_reply) == before;
	}
	uint64_t l = ctr(a, TD_CTR_impair_out_loss);
	td_stack_destroy(a);
	td_stack_destroy(b);
	return l;
}

static void impair_same_seed_same_drops_and_rate_near_setting(void **state)
{
	(void)state;
	enum { N = 2000 };
	static uint8_t l1[N], l2[N], l3[N];
	uint64_t n1 = lossy_run(42, l1, N), n2 = lossy_run(42, l2, N), n3 = lossy_run(43, l3, N);
	assert_memory_equal(l1, l2, N);
	assert_int_equal(n1, n2);
	assert_memory_not_equal(l1, l3, N);
	assert_in_range(n3, 310, 490);
	uint64_t seen = 0;
	for (int i = 0; i < N; i++)
		seen += l1[i];
	assert_int_equal(seen, n1);
	/* binomial(2000, 0.2): mean 400, sd 17.9; 5 sd */
	assert_in_range(n1, 310, 490);
}

static void impair_delay_holds_packets_until_due(void **state)
{
	(void)state;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.impair_out.delay_ns = 20 * MS;
	c.impair_in.delay_ns = 5 * MS;
	struct td_stack *a = mk(false, &c), *b = mk(true, NULL);
	send_echo(b, TD_AF_INET, 8, 1, 0);
	pump(b, a, 0);
	assert_int_equal(td_stack_next_deadline(a), 5 * MS);
	td_stack_poll(a, 5 * MS);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	assert_int_equal(td_stack_next_deadline(a), 25 * MS);
	assert_int_equal(pump(a, b, 25 * MS - 1), 0);
	assert_int_equal(pump(a, b, 25 * MS), 1);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static unsigned writable_events;
static void writable_cb(struct td_udp_sock *s, unsigned ev, void *user)
{
	(void)s;
	(void)user;
	if (ev & TD_EV_WRITABLE)
		writable_events++;
}

static void output_slots_exhausted_is_counted_enobufs(void **state)
{
	(void)state;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.pkt_slots = 8;
	struct td_stack *a = mk(false, &c);
	struct td_udp_sock *s;
	assert_int_equal(td_udp_open(a, &s), 0);
	struct td_endpoint to = {.addr = {.family = TD_AF_INET, .v4 = 0x0a000001}, .port = 9};
	static uint8_t big[20000];
	td_udp_set_callback(s, writable_cb, NULL);
	writable_events = 0;
	assert_int_equal(td_udp_sendto(s, 0, big, sizeof(big), &to), -ENOBUFS);
	assert_int_equal(ctr(a, TD_CTR_tx_no_slot), 1);
	assert_null(td_stack_output_peek(a, 0, &(size_t){0}));
	/* nothing queued: the slots are free, the socket is owed a wake-up */
	assert_int_equal(td_stack_next_deadline(a), 0);
	td_stack_poll(a, 1);
	assert_int_equal(writable_events, 1);
	assert_int_equal(td_stack_next_deadline(a), UINT64_MAX);
	/* fill the queue with small datagrams until it refuses, drain, wake */
	int sent = 0;
	while (td_udp_sendto(s, 2, big, 100, &to) == 100)
		sent++;
	assert_int_equal(sent, 8);
	assert_int_equal(td_stack_next_deadline(a), 2); /* slots busy: no wake-up yet */
	assert_int_equal(pump(a, NULL, 2), 8);
	assert_int_equal(td_stack_next_deadline(a), 0);
	td_stack_poll(a, 3);
	assert_int_equal(writable_events, 2);
	td_udp_close(s);
	assert_drained(a);
	td_stack_destroy(a);
}

static void udp_bind_conflicts_and_ephemeral_ports(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL);
	struct td_udp_sock *s1, *s2, *s3;
	assert_int_equal(td_udp_open(a, &s1), 0);
	assert_int_equal(td_udp_open(a, &s2), 0);
	assert_int_equal(td_udp_open(a, &s3), 0);
	struct td_endpoint ep = {.port = 7};
	assert_int_equal(td_udp_bind(s1, &ep), -EADDRINUSE); /* the echo service */
	ep.port = 5000;
	assert_int_equal(td_udp_bind(s1, &ep), 0);
	assert_int_equal(td_udp_bind(s1, &ep), -EINVAL);
	assert_int_equal(td_udp_bind(s2, &ep), -EADDRINUSE);
	struct td_endpoint other = {.addr = {.family = TD_AF_INET, .v4 = 0x01020304}, .port = 1};
	assert_int_equal(td_udp_bind(s3, &other), -EADDRNOTAVAIL);
	ep.port = 0;
	assert_int_equal(td_udp_bind(s2, &ep), 0);
	struct td_endpoint l;
	assert_int_equal(td_udp_local(s2, &l), 0);
	assert_true(l.port >= 49152);
	td_udp_close(s1);
	td_udp_close(s2);
	td_udp_close(s3);
	assert_drained(a);
	td_stack_destroy(a);
}

static int calls;
static void count_cb(struct td_udp_sock *s, unsigned ev, void *user)
{
	(void)s;
	(void)user;
	assert_true(ev & TD_EV_READABLE);
	calls++;
}

static void udp_readiness_callback_fires_per_datagram(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	struct td_udp_sock *srv, *cli;
	assert_int_equal(td_udp_open(a, &srv), 0);
	struct td_endpoint ep = {.port = 6000};
	assert_int_equal(td_udp_bind(srv, &ep), 0);
	td_udp_set_callback(srv, count_cb, NULL);
	assert_int_equal(td_udp_open(b, &cli), 0);
	struct td_endpoint to = {.addr = {.family = TD_AF_INET, .v4 = 0x0a000002}, .port = 6000};
	calls = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(td_udp_sendto(cli, 0, "abc", 3, &to), 3);
	pump(b, a, 0);
	assert_int_equal(calls, 3);
	uint8_t buf[2];
	struct td_endpoint from;
	assert_int_equal(td_udp_recvfrom(srv, buf, sizeof(buf), &from), 2); /* truncated */
	assert_int_equal(from.addr.v4, 0x0a000001);
	td_udp_close(srv);
	td_udp_close(cli);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

/* The receive ring wraps many times without losing or reordering datagrams. */
static void udp_receive_ring_wraps_in_order(void **state)
{
	(void)state;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.udp_rcvbuf = 4096;
	struct td_stack *a = mk(false, &c), *b = mk(true, NULL);
	struct td_udp_sock *srv, *cli;
	assert_int_equal(td_udp_open(a, &srv), 0);
	struct td_endpoint ep = {.port = 6001};
	assert_int_equal(td_udp_bind(srv, &ep), 0);
	assert_int_equal(td_udp_open(b, &cli), 0);
	struct td_endpoint to = {.addr = {.family = TD_AF_INET, .v4 = 0x0a000002}, .port = 6001};
	uint32_t next_rx = 0;
	for (uint32_t i = 0; i < 2000; i++) {
		uint8_t m[300];
		memset(m, (int)i, sizeof(m));
		td_put_be32(m, i);
		assert_true(td_udp_sendto(cli, 0, m, 100 + i % 200, &to) > 0);
		pump(b, a, 0);
		if (i % 7 == 6) {
			uint8_t r[300];
			ssize_t n;
			while ((n = td_udp_recvfrom(srv, r, sizeof(r), NULL)) > 0) {
				uint32_t got = td_get_be32(r);
				assert_true(got >= next_rx);
				next_rx = got + 1;
				assert_int_equal(n, 100 + got % 200);
			}
		}
	}
	assert_true(next_rx > 1900);
	td_udp_close(srv);
	td_udp_close(cli);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

/* Send raw upper-layer bytes behind an IPv6 header whose next header is nh. */
static void send6_raw(struct td_stack *b, uint8_t nh, const uint8_t *l4, size_t len)
{
	struct td_ip_pair ip = pair6(fd00_1, fd00_2);
	assert_int_equal(td_stack_ip_send(b, 0, &ip, nh, NULL, l4, len), 0);
}

static void ip6_routing_header_with_segments_left_gets_parameter_problem(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	/* routing header: next 58, len 0 (8 bytes), type 4, segments left 1 */
	uint8_t m[8 + 8] = {58, 0, 4, 1, 0, 0, 0, 0, 128, 0};
	send6_raw(b, TD_IPPROTO_ROUTING, m, sizeof(m));
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_rx_ip6_routing), 1);
	uint8_t buf[1500];
	assert_true(take(a, 0, buf, sizeof(buf)) > 48);
	assert_int_equal(buf[40], TD_ICMP6_PARAM_PROBLEM);
	assert_int_equal(buf[41], 0);
	assert_int_equal(td_get_be32(buf + 44), 42); /* the routing type field */
	/* segments left 0: the header is skipped and the echo answered */
	uint8_t echo[8 + 8];
	struct td_icmp_repr r = {.type = TD_ICMP6_ECHO_REQUEST, .ident = 1, .seq = 1};
	memset(echo, 0, sizeof(echo));
	echo[0] = 58;
	echo[2] = 4;
	assert_int_equal(td_icmp6_emit(&r, fd00_1, fd00_2, echo + 8, 8), TD_WIRE_OK);
	send6_raw(b, TD_IPPROTO_ROUTING, echo, sizeof(echo));
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void ip6_atomic_fragment_is_processed_without_reassembly(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL), *b = mk(true, NULL);
	uint8_t m[8 + 16];
	struct td_ipv6_frag f = {.ident = 77, .offset = 0, .more = false};
	assert_int_equal(td_ipv6_frag_emit(TD_IPPROTO_ICMPV6, &f, m, 8), TD_WIRE_OK);
	struct td_icmp_repr r = {.type = TD_ICMP6_ECHO_REQUEST, .ident = 1, .seq = 2,
				 .data = {(const uint8_t *)"atomic!!", 8}};
	assert_int_equal(td_icmp6_emit(&r, fd00_1, fd00_2, m + 8, 16), TD_WIRE_OK);
	send6_raw(b, TD_IPPROTO_FRAGMENT, m, sizeof(m));
	pump(b, a, 0);
	assert_int_equal(ctr(a, TD_CTR_frag_atomic), 1);
	assert_int_equal(ctr(a, TD_CTR_reass_ok), 0);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	assert_int_equal(pump(a, NULL, 0), 1);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

static void ip4_options_are_accepted_and_counted(void **state)
{
	(void)state;
	struct td_stack *a = mk(false, NULL);
	uint8_t p[24 + 8];
	struct td_ipv4_repr r = {.src = 0x0a000001, .dst = 0x0a000002, .ttl = 9,
				 .proto = TD_IPPROTO_ICMP, .payload_len = 8, .opt_len = 4,
				 .opts = {1, 1, 1, 0}}; /* NOP NOP NOP EOL */
	assert_int_equal(td_ipv4_emit(&r, p, 24), TD_WIRE_OK);
	struct td_icmp_repr e = {.type = TD_ICMP4_ECHO_REQUEST, .ident = 3, .seq = 3};
	assert_int_equal(td_icmp4_emit(&e, p + 24, 8), TD_WIRE_OK);
	td_stack_input(a, 0, p, sizeof(p));
	assert_int_equal(ctr(a, TD_CTR_rx_ip4_options), 1);
	assert_int_equal(ctr(a, TD_CTR_icmp_tx_echo_reply), 1);
	td_stack_destroy(a);
}

static void impair_in_dup_and_reorder_keep_every_packet_accounted(void **state)
{
	(void)state;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.impair_in = (struct td_impair_config){.dup_ppm = 300000, .reorder_ppm = 300000,
						.corrupt_ppm = 100000, .seed = 5};
	struct td_stack *a = mk(false, &c), *b = mk(true, NULL);
	for (int i = 0; i < 200; i++) {
		send_echo(b, TD_AF_INET, 16, (uint16_t)i, (uint64_t)i * MS);
		pump(b, a, (uint64_t)i * MS);
		td_stack_poll(a, (uint64_t)i * MS);
		pump(a, NULL, (uint64_t)i * MS);
	}
	td_stack_poll(a, SEC);
	pump(a, NULL, SEC);
	uint64_t dup = ctr(a, TD_CTR_impair_in_dup), cor = ctr(a, TD_CTR_impair_in_corrupt);
	assert_true(dup > 30 && ctr(a, TD_CTR_impair_in_reorder) > 30 && cor > 5);
	/* every copy that was not corrupted was answered; a corrupted one may
	 * still be valid (a flipped TTL bit), never more than that */
	uint64_t replies = ctr(a, TD_CTR_icmp_tx_echo_reply);
	assert_true(replies >= 200 + dup - cor && replies <= 200 + dup);
	assert_drained(a);
	td_stack_destroy(a);
	td_stack_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ip4_echo_request_gets_reply_with_same_ident_seq_data),
		cmocka_unit_test(ip6_echo_request_gets_reply),
		cmocka_unit_test(echo_65507_fragmented_both_ways),
		cmocka_unit_test(udp_echo_service_returns_datagram_of_each_size),
		cmocka_unit_test(udp_closed_port_gives_port_unreachable_then_econnrefused),
		cmocka_unit_test(reass_overlapping_fragment_discards_datagram),
		cmocka_unit_test(reass_duplicate_fragment_is_dropped_alone),
		cmocka_unit_test(reass_timeout_sends_time_exceeded_when_first_fragment_seen),
		cmocka_unit_test(reass_flood_is_bounded_and_honest_datagram_completes),
		cmocka_unit_test(reass_too_many_fragments_discards),
		cmocka_unit_test(icmp_error_about_icmp_error_is_suppressed),
		cmocka_unit_test(icmp_errors_are_rate_limited_by_token_bucket),
		cmocka_unit_test(ip6_echo_to_all_nodes_is_answered_from_unicast),
		cmocka_unit_test(ip6_unknown_next_header_gets_parameter_problem),
		cmocka_unit_test(ip4_unknown_protocol_gets_protocol_unreachable),
		cmocka_unit_test(malformed_input_is_counted_by_codec_error),
		cmocka_unit_test(echo_to_broadcast_is_ignored_and_no_error_about_it),
		cmocka_unit_test(impair_same_seed_same_drops_and_rate_near_setting),
		cmocka_unit_test(impair_delay_holds_packets_until_due),
		cmocka_unit_test(output_slots_exhausted_is_counted_enobufs),
		cmocka_unit_test(udp_bind_conflicts_and_ephemeral_ports),
		cmocka_unit_test(udp_readiness_callback_fires_per_datagram),
		cmocka_unit_test(udp_receive_ring_wraps_in_order),
		cmocka_unit_test(ip6_routing_header_with_segments_left_gets_parameter_problem),
		cmocka_unit_test(ip6_atomic_fragment_is_processed_without_reassembly),
		cmocka_unit_test(ip4_options_are_accepted_and_counted),
		cmocka_unit_test(impair_in_dup_and_reorder_keep_every_packet_accounted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
