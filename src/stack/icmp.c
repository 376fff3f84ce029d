/* ICMP (RFC 792, 1122 §3.2.2) and ICMPv6 (RFC 4443): echo responder, rate-limited errors, errors to transports. */
#include <errno.h>
#include <string.h>

#include "stack/stack_priv.h"

#define NS_PER_S 1000000000ull

/* RFC 4443 §2.4 (f): a token bucket, refilled at icmp_err_rate per second up
 * to icmp_err_burst. Tokens are kept in units of 1/(rate*1e9) s so that the
 * arithmetic stays integral. */
static bool take_token(struct td_stack *st, uint64_t now)
{
	uint64_t full = (uint64_t)st->cfg.icmp_err_burst * NS_PER_S;
	if (!st->tb_started) {
		st->tb_started = true;
		st->tb_tokens = full;
		st->tb_last = now;
	}
	if (now > st->tb_last) {
		uint64_t add = (now - st->tb_last) * st->cfg.icmp_err_rate;
		st->tb_tokens = add >= full - st->tb_tokens ? full : st->tb_tokens + add;
		st->tb_last = now;
	}
	if (st->tb_tokens < NS_PER_S) {
		st->stats.ctr[TD_CTR_icmp_err_ratelimited]++;
		return false;
	}
	st->tb_tokens -= NS_PER_S;
	return true;
}

/* ---- errors we send ---------------------------------------------------------- */

void td_icmp4_error(struct td_stack *st, uint64_t now, uint8_t type, uint8_t code, uint32_t rest,
		    const uint8_t *orig, size_t orig_len)
{
	/* orig passed td_ipv4_check (or is a header we rebuilt), so its first
	 * 20 bytes and IHL are sound. */
	if (orig_len < TD_IPV4_HDR_MIN)
		return;
	size_t ihl = (size_t)(orig[0] & 0xf) * 4;
	uint32_t src = td_get_be32(orig + 12), dst = td_get_be32(orig + 16);
	bool first_frag = (td_get_be16(orig + 6) & 0x1fff) == 0;
	/* RFC 1122 §3.2.2: never about an ICMP error, a datagram to a broadcast
	 * or multicast address, a non-initial fragment, or a source that is
	 * not one host. */
	bool about_error = orig[9] == TD_IPPROTO_ICMP && first_frag && orig_len > ihl &&
			   td_icmp4_is_error(orig[ihl]);
	if (about_error || !first_frag || td_stack_ip4_is_bcast_or_mcast(st, dst) ||
	    td_stack_ip4_is_bcast_or_mcast(st, src) || src == 0 || dst != st->cfg.addr4) {
		st->stats.ctr[TD_CTR_icmp_err_suppressed]++;
		return;
	}
	if (!take_token(st, now))
		return;
	/* RFC 1812 §4.3.2.3: as much of the original as fits in 576 bytes. */
	size_t q = orig_len;
	if (q > 576 - TD_IPV4_HDR_MIN - TD_ICMP_HDR_LEN)
		q = 576 - TD_IPV4_HDR_MIN - TD_ICMP_HDR_LEN;
	struct td_icmp_repr r;
	memset(&r, 0, sizeof(r));
	r.type = type;
	r.code = code;
	if (type == TD_ICMP4_PARAM_PROBLEM) {
		r.pointer = rest;
		r.rest_of_header = rest << 24;
	} else if (type == TD_ICMP4_DEST_UNREACH && code == TD_ICMP4_CODE_FRAG_NEEDED) {
		r.mtu = rest;
		r.rest_of_header = rest & 0xffff;
	}
	r.data.ptr = orig;
	r.data.len = q;
	size_t n = td_icmp_size(&r);
	if (td_icmp4_emit(&r, st->scratch, n) != TD_WIRE_OK)
		return;
	struct td_ip_pair ip = {.family = TD_AF_INET};
	ip.v4.src = st->cfg.addr4;
	ip.v4.dst = src;
	if (td_stack_ip_send(st, now, &ip, TD_IPPROTO_ICMP, NULL, st->scratch, n) == 0)
		st->stats.ctr[TD_CTR_icmp_tx_error]++;
}

void td_icmp6_error(struct td_stack *st, uint64_t now, uint8_t type, uint8_t code, uint32_t rest,
		    const uint8_t *orig, size_t orig_len)
{
	if (orig_len < TD_IPV6_HDR_LEN)
		return;
	const uint8_t *src = orig + 8, *dst = orig + 24;
	/* RFC 4443 §2.4 (e): not about an error message, not to a multicast
	 * destination (the PTB / option exceptions do not arise in a host),
	 * not from an unspecified or multicast source. */
	bool about_error = false;
	struct td_ipv6_view v;
	if (td_ipv6_check(&v, orig, orig_len, TD_WIRE_SKIP_CSUM) == TD_WIRE_OK) {
		struct td_bytes up = td_ipv6_upper(&v);
		bool first = !v.has_frag || td_get_be16(orig + v.frag_hdr_off + 2) < 8;
		about_error = v.upper_proto == TD_IPPROTO_ICMPV6 && first && up.len > 0 &&
			      td_icmp6_is_error(up.ptr[0]);
	}
	static const uint8_t zero[16];
	if (about_error || td_ip6_is_multicast(dst) || td_ip6_is_multicast(src) ||
	    !memcmp(src, zero, 16)) {
		st->stats.ctr[TD_CTR_icmp_err_suppressed]++;
		return;
	}
	if (!take_token(st, now))
		return;
	/* RFC 4443 §2.4 (c): as much as fits in the minimum MTU. */
	size_t q = orig_len;
	if (q > 1280 - TD_IPV6_HDR_LEN - TD_ICMP_HDR_LEN)
		q = 1280 - TD_IPV6_HDR_LEN - TD_ICMP_HDR_LEN;
	struct td_icmp_repr r;
	memset(&r, 0, sizeof(r));
	r.type = type;
	r.code = code;
	if (type == TD_ICMP6_PARAM_PROBLEM)
		r.pointer = rest;
	else if (type == TD_ICMP6_PACKET_TOO_BIG)
		r.mtu = rest;
	r.rest_of_header = rest;
	r.data.ptr = orig;
	r.data.len = q;
	struct td_ip_pair ip = {.family = TD_AF_INET6};
	memcpy(ip.v6.src, st->cfg.addr6, 16);
	memcpy(ip.v6.dst, src, 16);
	size_t n = td_icmp_size(&r);
	if (td_icmp6_emit(&r, ip.v6.src, ip.v6.dst, st->scratch, n) != TD_WIRE_OK)
		return;
	if (td_stack_ip_send(st, now, &ip, TD_IPPROTO_ICMPV6, NULL, st->scratch, n) == 0)
		st->stats.ctr[TD_CTR_icmp_tx_error]++;
}

/* ---- errors we receive ----------------------------------------------------------- */

static int errno_of4(uint8_t type, uint8_t code)
{
	if (type == TD_ICMP4_DEST_UNREACH) {
		switch (code) {
		case 0: return -ENETUNREACH;
		case 2: return -ENOPROTOOPT;
		case 3: return -ECONNREFUSED;
		case TD_ICMP4_CODE_FRAG_NEEDED: return -EMSGSIZE;
		default: return -EHOSTUNREACH;
		}
	}
	if (type == TD_ICMP4_PARAM_PROBLEM)
		return -EPROTO;
	return -EHOSTUNREACH;
}

static int errno_of6(uint8_t type, uint8_t code)
{
	if (type == TD_ICMP6_DEST_UNREACH) {
		switch (code) {
		case 0: return -ENETUNREACH;
		case 1: return -EACCES;
		case 4: return -ECONNREFUSED;
		default: return -EHOSTUNREACH;
		}
	}
	if (type == TD_ICMP6_PACKET_TOO_BIG)
		return -EMSGSIZE;
	if (type == TD_ICMP6_PARAM_PROBLEM)
		return -EPROTO;
	return -EHOSTUNREACH;
}

static void to_transport(struct td_stack *st, uint64_t now, uint8_t proto,
			 struct td_l4_icmp_err *e)
{
	struct td_ip_addr src;
	td_ip_pair_src(&e->flow, &src);
	const struct td_transport *t = td_stack_transport(st, proto);
	if (!t || !td_stack_is_local(st, &src) || !t->icmp_error(t->ctx, now, e))
		st->stats.ctr[TD_CTR_icmp_rx_error_unmatched]++;
}

/*
 * The quoted datagram is truncated by design, so it cannot pass the codec's
 * full check; read it here with every access bounded by quoted.len. We need
 * the address pair, the protocol and 8 bytes of the transport header.
 */
static void error4(struct td_stack *st, uint64_t now, const struct td_icmp_repr *r)
{
	const uint8_t *q = r->data.ptr;
	size_t len = r->data.len;
	if (len < TD_IPV4_HDR_MIN || (q[0] >> 4) != 4 || (q[0] & 0xf) < 5 ||
	    (size_t)(q[0] & 0xf) * 4 + 8 > len || (td_get_be16(q + 6) & 0x1fff) != 0) {
		st->stats.ctr[TD_CTR_icmp_rx_error_bad_quote]++;
		return;
	}
	size_t ihl = (size_t)(q[0] & 0xf) * 4;
	struct td_l4_icmp_err e = {.flow = {.family = TD_AF_INET},
				   .family = TD_AF_INET,
				   .type = r->type,
				   .code = r->code,
				   .quoted = q + ihl,
				   .quoted_len = len - ihl,
				   .err = errno_of4(r->type, r->code)};
	e.flow.v4.src = td_get_be32(q + 12);
	e.flow.v4.dst = td_get_be32(q + 16);
	if (r->type == TD_ICMP4_DEST_UNREACH && r->code == TD_ICMP4_CODE_FRAG_NEEDED)
		e.mtu = r->rest_of_header & 0xffff;
	to_transport(st, now, q[9], &e);
}

static void error6(struct td_stack *st, uint64_t now, const struct td_icmp_repr *r)
{
	const uint8_t *q = r->data.ptr;
	size_t len = r->data.len;
	if (len < TD_IPV6_HDR_LEN + 8 || (q[0] >> 4) != 6) {
		st->stats.ctr[TD_CTR_icmp_rx_error_bad_quote]++;
		return;
	}
	/* Walk the quoted extension headers within the quote (RFC 4443 §2.4 d
	 * asks for the upper-layer protocol to be found). */
	uint8_t nh = q[6];
	size_t off = TD_IPV6_HDR_LEN;
	for (int n = 0; n < TD_IPV6_EXT_MAX_COUNT; n++) {
		if (nh != TD_IPPROTO_HOPOPTS && nh != TD_IPPROTO_ROUTING &&
		    nh != TD_IPPROTO_DSTOPTS && nh != TD_IPPROTO_FRAGMENT)
			break;
		if (off + 8 > len) {
			st->stats.ctr[TD_CTR_icmp_rx_error_bad_quote]++;
			return;
		}
		if (nh == TD_IPPROTO_FRAGMENT && (td_get_be16(q + off + 2) & 0xfff8) != 0) {
			st->stats.ctr[TD_CTR_icmp_rx_error_bad_quote]++;
			return; /* non-first fragment: no transport header */
		}
		size_t hl = nh == TD_IPPROTO_FRAGMENT ? 8 : ((size_t)q[off + 1] + 1) * 8;
		nh = q[off];
		off += hl;
	}
	if (off + 8 > len) {
		st->stats.ctr[TD_CTR_icmp_rx_error_bad_quote]++;
		return;
	}
	struct td_l4_icmp_err e = {.flow = {.family = TD_AF_INET6},
				   .family = TD_AF_INET6,
				   .type = r->type,
				   .code = r->code,
				   .quoted = q + off,
				   .quoted_len = len - off,
				   .err = errno_of6(r->type, r->code)};
	memcpy(e.flow.v6.src, q + 8, 16);
	memcpy(e.flow.v6.dst, q + 24, 16);
	if (r->type == TD_ICMP6_PACKET_TOO_BIG)
		e.mtu = r->rest_of_header;
	to_transport(st, now, nh, &e);
}

/* ---- input ------------------------------------------------------------------------- */

void td_icmp4_input(struct td_stack *st, uint64_t now, const struct td_l4_rx *rx,
		    const uint8_t *ip_pkt, size_t ip_len)
{
	(void)ip_pkt;
	(void)ip_len;
	struct td_icmp_repr r;
	enum td_wire_err e = td_icmp4_parse(rx->l4, rx->len, st->cfg.wire_flags, &r);
	if (e != TD_WIRE_OK) {
		st->stats.wire[TD_LAYER_ICMP4][e]++;
		return;
	}
	if (td_icmp4_is_error(r.type)) {
		st->stats.ctr[TD_CTR_icmp_rx_error]++;
		error4(st, now, &r);
		return;
	}
	if (r.type == TD_ICMP4_ECHO_REPLY) {
		st->stats.ctr[TD_CTR_icmp_rx_echo_reply]++;
		return;
	}
	if (r.type != TD_ICMP4_ECHO_REQUEST) {
		st->stats.ctr[TD_CTR_icmp_rx_other]++;
		return;
	}
	st->stats.ctr[TD_CTR_icmp_rx_echo]++;
	/* RFC 1122 §3.2.2.6: an echo to a broadcast/multicast address MAY be
	 * silently discarded; Linux does by default, and so do we. */
	if (rx->dst_multicast || !st->cfg.icmp_echo) {
		st->stats.ctr[TD_CTR_icmp_echo_ignored]++;
		return;
	}
	struct td_icmp_repr rep = r;
	rep.type = TD_ICMP4_ECHO_REPLY;
	rep.code = 0;
	size_t n = td_icmp_size(&rep);
	if (n > TD_REASS_DATA_MAX || td_icmp4_emit(&rep, st->scratch, n) != TD_WIRE_OK)
		return;
	struct td_ip_pair ip;
	td_ip_pair_reverse(&ip, &rx->ip);
	struct td_ip_tx tx = {.tos = rx->tos};
	if (td_stack_ip_send(st, now, &ip, TD_IPPROTO_ICMP, &tx, st->scratch, n) == 0)
		st->stats.ctr[TD_CTR_icmp_tx_echo_reply]++;
}

void td_icmp6_input(struct td_stack *st, uint64_t now, const struct td_l4_rx *rx,
		    const uint8_t *ip_pkt, size_t ip_len)
{
	(void)ip_pkt;
	(void)ip_len;
	struct td_icmp_repr r;
	enum td_wire_err e = td_icmp6_parse(rx->l4, rx->len, rx->ip.v6.src, rx->ip.v6.dst,
					    st->cfg.wire_flags, &r);
	if (e != TD_WIRE_OK) {
		st->stats.wire[TD_LAYER_ICMP6][e]++;
		return;
	}
	if (td_icmp6_is_error(r.type)) {
		st->stats.ctr[TD_CTR_icmp_rx_error]++;
		error6(st, now, &r);
		return;
	}
	if (r.type == TD_ICMP6_ECHO_REPLY) {
		st->stats.ctr[TD_CTR_icmp_rx_echo_reply]++;
		return;
	}
	if (r.type != TD_ICMP6_ECHO_REQUEST) {
		/* MLD, router/neighbour discovery: a TUN link has no link layer
		 * and we route nothing, so there is nothing to act on. */
		st->stats.ctr[TD_CTR_icmp_rx_other]++;
		return;
	}
	st->stats.ctr[TD_CTR_icmp_rx_echo]++;
	if (!st->cfg.icmp_echo) {
		st->stats.ctr[TD_CTR_icmp_echo_ignored]++;
		return;
	}
	struct td_icmp_repr rep = r;
	rep.type = TD_ICMP6_ECHO_REPLY;
	rep.code = 0;
	struct td_ip_pair ip;
	td_ip_pair_reverse(&ip, &rx->ip);
	/* RFC 4443 §4.2: an echo to a multicast address SHOULD be answered,
	 * from a unicast address of the interface (Linux does by default). */
	if (rx->dst_multicast)
		memcpy(ip.v6.src, st->cfg.addr6, 16);
	size_t n = td_icmp_size(&rep);
	if (n > TD_REASS_DATA_MAX ||
	    td_icmp6_emit(&rep, ip.v6.src, ip.v6.dst, st->scratch, n) != TD_WIRE_OK)
		return;
	struct td_ip_tx tx = {.tos = rx->tos};
	if (td_stack_ip_send(st, now, &ip, TD_IPPROTO_ICMPV6, &tx, st->scratch, n) == 0)
		st->stats.ctr[TD_CTR_icmp_tx_echo_reply]++;
}
