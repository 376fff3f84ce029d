/* TCP attached to the IP layer: packets in and out through td_stack, ICMP errors delivered. */
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

static uint64_t now = 1000000000ull;

static void send_tcp(struct td_stack *st, const struct td_tcp_repr *r)
{
	h_stack_input_tcp4(st, now, PEER, US, r);
}

/* Next TCP segment the stack queued; copies the IP packet into raw. */
static bool next_tcp(struct td_stack *st, struct td_tcp_repr *r, uint8_t *raw, size_t *rawlen)
{
	size_t len;
	const uint8_t *p;
	while ((p = td_stack_output_peek(st, now, &len))) {
		memcpy(raw, p, len);
		*rawlen = len;
		td_stack_output_pop(st);
		struct td_ipv4_view v;
		if (td_ipv4_check(&v, raw, len, 0) || td_ipv4_proto(&v) != TD_IPPROTO_TCP)
			continue;
		struct td_bytes l4 = td_ipv4_payload(&v);
		struct td_tcp_view tv;
		assert_int_equal(td_tcp_check(&tv, l4.ptr, l4.len,
					      td_csum_pseudo4(US, PEER, TD_IPPROTO_TCP, (uint16_t)l4.len), 0),
				 TD_WIRE_OK);
		assert_int_equal(td_tcp_parse(&tv, r), TD_WIRE_OK);
		return true;
	}
	return false;
}

static void tcp_stack_icmp_frag_needed_lowers_mss_through_ip_layer(void **state)
{
	(void)state;
	struct td_stack_config sc;
	td_stack_config_default(&sc);
	struct td_stack *st;
	assert_int_equal(td_stack_create(&sc, &st), 0);
	struct td_tcp_config tc;
	td_tcp_config_default(&tc);
	tc.max_socks = 16;
	struct td_tcp *tcp;
	assert_int_equal(td_tcp_attach(st, &tc, &tcp), 0);
	struct td_tcp_sock *lst, *c;
	assert_int_equal(td_tcp_socket(tcp, 4, &lst), 0);
	struct td_tcp_endpoint ep = {.family = 4, .port = 80};
	assert_int_equal(td_tcp_bind(lst, &ep), 0);
	assert_int_equal(td_tcp_listen(lst, 4), 0);

	struct td_tcp_repr r, o;
	uint8_t raw[1600];
	size_t rawlen;
	memset(&r, 0, sizeof(r));
	r.src_port = 40000;
	r.dst_port = 80;
	r.seq = 100;
	r.flags = TD_TCP_SYN;
	r.window = 65535;
	r.opt.has_mss = true;
	r.opt.mss = 1460;
	send_tcp(st, &r);
	assert_true(next_tcp(st, &o, raw, &rawlen));
	assert_int_equal(o.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(o.opt.mss, 1460); /* MTU 1500 - 40 */
	uint32_t iss = o.seq;
	memset(&r.opt, 0, sizeof(r.opt));
	r.seq = 101;
	r.ack = iss + 1;
	r.flags = TD_TCP_ACK;
	send_tcp(st, &r);
	assert_int_equal(td_tcp_accept(lst, &c), 0);
	static uint8_t data[3000];
	assert_int_equal(td_tcp_send(c, data, sizeof(data), now), 3000);
	assert_true(next_tcp(st, &o, raw, &rawlen));
	assert_int_equal(o.payload.len, 1460);
	assert_int_equal(rawlen, 1500);
	assert_true(raw[6] & 0x40); /* DF: TCP does path MTU discovery */

	/* a router says: fragmentation needed, next-hop MTU 1000 (RFC 1191) */
	struct td_icmp_repr ic;
	memset(&ic, 0, sizeof(ic));
	ic.type = TD_ICMP4_DEST_UNREACH;
	ic.code = TD_ICMP4_CODE_FRAG_NEEDED;
	ic.mtu = 1000;
	ic.rest_of_header = 1000;
	ic.data.ptr = raw;
	ic.data.len = 28; /* IP header + 8 bytes of TCP (ports and sequence number) */
	uint8_t icmp[64], pkt[128];
	size_t il = td_icmp_size(&ic);
	assert_int_equal(td_icmp4_emit(&ic, icmp, il), TD_WIRE_OK);
	struct td_ipv4_repr ip = {.src = 0x0a000001u, .dst = US, .ttl = 64, .proto = TD_IPPROTO_ICMP,
				  .payload_len = (uint16_t)il};
	size_t hl = td_ipv4_hdr_size(&ip);
	assert_int_equal(td_ipv4_emit(&ip, pkt, hl), TD_WIRE_OK);
	memcpy(pkt + hl, icmp, il);
	while (next_tcp(st, &o, raw, &rawlen))
		; /* the rest of the first flight */
	td_stack_input(st, now, pkt, hl + il);
	assert_true(next_tcp(st, &o, raw, &rawlen));
	assert_int_equal(o.seq, iss + 1);
	assert_int_equal(o.payload.len, 960);
	assert_int_equal(td_tcp_counters(tcp)->icmp_ptb, 1);
	td_tcp_abort(c, now);
	td_tcp_close(lst, now);
	assert_int_equal(td_tcp_socks_in_use(tcp), 0);
	td_stack_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_stack_icmp_frag_needed_lowers_mss_through_ip_layer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
