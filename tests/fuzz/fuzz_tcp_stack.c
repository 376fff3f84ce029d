/* libFuzzer target: the whole stack with TCP and its services, driven by segment sequences. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tundra/stack.h>
#include <tundra/tcp.h>
#include <tundra/wire.h>

#include "fuzz_common.h"
#include "stack/tcp_internal.h"

/*
 * Input: a sequence of records. Each record's first byte selects:
 *   0..159  a TCP segment from the kernel side, built from the next bytes:
 *           [family/port] [flags] [seq delta s16] [ack delta s16] [window u16]
 *           [optlen] [paylen u16] then options and payload bytes. Sequence
 *           and acknowledgment numbers are relative to what the stack last
 *           said (its SEQ+LEN and ACK on that port), so the fuzzer can hold a
 *           conversation with a stack whose ISNs are keyed hashes.
 *   160..239 advance virtual time by (b - 159) * 7 ms and run timers.
 *   240..255 a raw IP packet of the next u16 length.
 * Checksums are not verified (TD_WIRE_SKIP_CSUM). After the sequence the
 * services are stopped and time runs until nothing is pending: every control
 * block and every buffer byte must be back.
 */

static const uint16_t ports[] = {7, 9, 19, 80, 1234};

struct peer_state {
	uint32_t their_next[2][5]; /* stack's SEQ + LEN per family and port */
	uint32_t their_ack[2][5];  /* stack's last ACK */
};

static void learn(struct peer_state *ps, const uint8_t *pkt, size_t len)
{
	int fam;
	struct td_bytes l4;
	if (len >= 20 && pkt[0] >> 4 == 4) {
		struct td_ipv4_view v;
		if (td_ipv4_check(&v, pkt, len, TD_WIRE_SKIP_CSUM) || td_ipv4_proto(&v) != TD_IPPROTO_TCP)
			return;
		l4 = td_ipv4_payload(&v);
		fam = 0;
	} else {
		struct td_ipv6_view v;
		if (td_ipv6_check(&v, pkt, len, TD_WIRE_SKIP_CSUM) || v.upper_proto != TD_IPPROTO_TCP)
			return;
		l4 = td_ipv6_upper(&v);
		fam = 1;
	}
	struct td_tcp_view tv;
	struct td_tcp_repr r;
	if (td_tcp_check(&tv, l4.ptr, l4.len, 0, TD_WIRE_SKIP_CSUM) || td_tcp_parse(&tv, &r))
		return;
	for (int i = 0; i < 5; i++)
		if (ports[i] == r.src_port) {
			ps->their_next[fam][i] = r.seq + (uint32_t)r.payload.len +
						 !!(r.flags & TD_TCP_SYN) + !!(r.flags & TD_TCP_FIN);
			if (r.flags & TD_TCP_ACK)
				ps->their_ack[fam][i] = r.ack;
		}
}

#ifdef FUZZ_TCP_TSO
/* The TX-offload build (fuzz_tcp_tso.c): TCP leaves checksums partial and
 * builds GSO super-segments; every packet comes with a virtio-net header
 * that must parse and describe a packet the kernel would accept. */
static void drain(struct td_stack *st, struct peer_state *ps, uint64_t now)
{
	size_t len;
	const uint8_t *p;
	while ((p = td_stack_output_peek_vnet(st, now, TD_VNET_HDR_LEN, &len))) {
		struct td_vnet_repr vr;
		FUZZ_ASSERT(len > TD_VNET_HDR_LEN);
		FUZZ_ASSERT(td_vnet_parse(p, len, TD_VNET_HDR_LEN, len - TD_VNET_HDR_LEN, &vr) ==
			    TD_WIRE_OK);
		learn(ps, p + TD_VNET_HDR_LEN, len - TD_VNET_HDR_LEN);
		td_stack_output_pop(st);
	}
}
#else
static void drain(struct td_stack *st, struct peer_state *ps, uint64_t now)
{
	size_t len;
	const uint8_t *p;
	while ((p = td_stack_output_peek(st, now, &len))) {
		learn(ps, p, len);
		td_stack_output_pop(st);
	}
}
#endif

static void send_ip(struct td_stack *st, uint64_t now, int v6, const uint8_t *l4, size_t l4len)
{
	static uint8_t pkt[65600];
	size_t hl;
	if (!v6) {
		struct td_ipv4_repr ip = {.src = 0x0a000001, .dst = 0x0a000002, .ttl = 64,
					  .proto = TD_IPPROTO_TCP, .payload_len = (uint16_t)l4len};
		hl = td_ipv4_hdr_size(&ip);
		FUZZ_ASSERT(td_ipv4_emit(&ip, pkt, hl) == TD_WIRE_OK);
	} else {
		struct td_ipv6_repr ip = {.hop_limit = 64, .next_header = TD_IPPROTO_TCP,
					  .payload_len = (uint16_t)l4len};
		ip.src[0] = ip.dst[0] = 0xfd;
		ip.src[15] = 1;
		ip.dst[15] = 2;
		hl = TD_IPV6_HDR_LEN;
		FUZZ_ASSERT(td_ipv6_emit(&ip, pkt, hl) == TD_WIRE_OK);
	}
	memcpy(pkt + hl, l4, l4len);
	td_stack_input(st, now, pkt, hl + l4len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_stack_config cfg;
	td_stack_config_default(&cfg);
	cfg.wire_flags = TD_WIRE_SKIP_CSUM;
	cfg.pkt_slots = 32;
	cfg.reass_slots = 2;
	cfg.addr4 = 0x0a000002;
	static const uint8_t a6[16] = {0xfd, [15] = 2};
	memcpy(cfg.addr6, a6, 16);
	struct td_stack *st;
	FUZZ_ASSERT(td_stack_create(&cfg, &st) == 0);
#ifdef FUZZ_TCP_TSO
	FUZZ_ASSERT(td_stack_set_tx_offload(st, TD_STACK_TX_CSUM | TD_STACK_TX_TSO4 |
							TD_STACK_TX_TSO6) == 0);
#endif
	struct td_tcp_config tc;
	td_tcp_config_default(&tc);
	tc.max_socks = 64;
	tc.sndbuf = tc.rcvbuf = 16384;
	tc.syn_backlog = 4;
	struct td_tcp *tcp;
	FUZZ_ASSERT(td_tcp_attach(st, &tc, &tcp) == 0);
	struct td_tcp_services *svc;
	FUZZ_ASSERT(td_tcp_services_start(tcp, st, 0xf, &svc) == 0);

	struct peer_state ps;
	memset(&ps, 0, sizeof(ps));
	uint64_t now = 1000000000ull;
	size_t i = 0;
	uint8_t seg[20 + 40 + 1500];
	while (i < size) {
		uint8_t op = data[i++];
		if (op < 160) {
			if (size - i < 10)
				break;
			const uint8_t *h = data + i;
			i += 10;
			int v6 = h[0] & 0x80;
			int pi = (h[0] & 0x7f) % 5;
			uint8_t flags = h[1];
			int16_t sd = (int16_t)td_get_be16(h + 2), ad = (int16_t)td_get_be16(h + 4);
			uint16_t win = td_get_be16(h + 6);
			size_t optlen = h[8] % 41;
			size_t paylen = (size_t)h[9] * 6;
			if (size - i < optlen + paylen)
				paylen = size - i > optlen ? size - i - optlen : 0;
			if (size - i < optlen)
				optlen = size - i;
			size_t olen_pad = (optlen + 3) & ~(size_t)3;
			memset(seg, 0, 20 + olen_pad);
			td_put_be16(seg, 40000);
			td_put_be16(seg + 2, ports[pi]);
			td_put_be32(seg + 4, ps.their_ack[v6 ? 1 : 0][pi] + (uint32_t)(int32_t)sd);
			td_put_be32(seg + 8, ps.their_next[v6 ? 1 : 0][pi] + (uint32_t)(int32_t)ad);
			seg[12] = (uint8_t)(((20 + olen_pad) / 4) << 4);
			seg[13] = flags;
			td_put_be16(seg + 14, win);
			memcpy(seg + 20, data + i, optlen);
			memcpy(seg + 20 + olen_pad, data + i + optlen, paylen);
			i += optlen + paylen;
			send_ip(st, now, v6, seg, 20 + olen_pad + paylen);
		} else if (op < 240) {
			now += (uint64_t)(op - 159) * 7000000ull;
			td_stack_poll(st, now);
		} else {
			if (size - i < 2)
				break;
			size_t n = td_get_be16(data + i);
			i += 2;
			if (n > size - i)
				n = size - i;
			td_stack_input(st, now, data + i, n);
			i += n;
		}
		drain(st, &ps, now);
	}

	/* Teardown: every connection must finish and give everything back. */
	td_tcp_services_stop(svc, now);
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t d = td_tcp_next_deadline(tcp);
		if (d == UINT64_MAX)
			break;
		now = d > now ? d : now + 1;
		td_stack_poll(st, now);
		drain(st, &ps, now);
	}
	if (getenv("FUZZ_TCP_DEBUG")) {
		const struct td_tcp_counters *c = td_tcp_counters(tcp);
		fprintf(stderr, "rx %llu tx %llu est %llu tx_bytes %llu rx_bytes %llu rst %llu\n",
			(unsigned long long)c->rx_segs, (unsigned long long)c->tx_segs,
			(unsigned long long)c->established, (unsigned long long)c->tx_bytes,
			(unsigned long long)c->rx_bytes, (unsigned long long)c->tx_rst);
		for (uint32_t k = 0; k < tcp->cfg.max_socks; k++) {
			const struct td_tcp_sock *x = &tcp->pool[k];
			if (x->tcp)
				fprintf(stderr, "live: %s port %u user %u passive %u parent %p accq %u "
						"rtx %llu ka %llu\n",
					td_tcp_state_name((enum td_tcp_state)x->state), x->tu.lport,
					x->user_open, x->passive, (void *)x->parent, x->in_accq,
					(unsigned long long)x->rtx_at, (unsigned long long)x->ka_at);
		}
	}
	FUZZ_ASSERT(td_tcp_socks_in_use(tcp) == 0);
	FUZZ_ASSERT(td_tcp_buf_bytes(tcp) == 0);
	td_stack_destroy(st);
	return 0;
}
