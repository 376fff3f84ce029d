/* libFuzzer target: a whole IP packet as the stack sees it: IP check, upper-layer
 * parse with the real pseudo header, re-emit every layer, check everything
 * again with checksums verified, compare the upper-layer reprs. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct upper {
	uint8_t proto;
	struct td_tcp_repr tcp;
	struct td_udp_repr udp;
	struct td_icmp_repr icmp;
};

/* Parse the upper layer of proto at p (checksums skipped); false when it does
 * not parse. */
static bool parse_upper(struct upper *u, bool v6, const uint8_t *p, size_t len, uint32_t ps,
			unsigned flags, const uint8_t *s6, const uint8_t *d6)
{
	struct td_tcp_view tv;
	switch (u->proto) {
	case TD_IPPROTO_TCP:
		return td_tcp_check(&tv, p, len, ps, flags) == TD_WIRE_OK &&
		       td_tcp_parse(&tv, &u->tcp) == TD_WIRE_OK;
	case TD_IPPROTO_UDP:
		return td_udp_parse(p, len, ps, flags | (v6 ? TD_WIRE_IPV6 : 0), &u->udp) ==
		       TD_WIRE_OK;
	case TD_IPPROTO_ICMP:
		return !v6 && td_icmp4_parse(p, len, flags, &u->icmp) == TD_WIRE_OK;
	case TD_IPPROTO_ICMPV6:
		return v6 && td_icmp6_parse(p, len, s6, d6, flags, &u->icmp) == TD_WIRE_OK;
	default:
		return false;
	}
}

static size_t upper_size(const struct upper *u)
{
	switch (u->proto) {
	case TD_IPPROTO_TCP: return td_tcp_size(&u->tcp);
	case TD_IPPROTO_UDP: return td_udp_size(&u->udp);
	default: return td_icmp_size(&u->icmp);
	}
}

static enum td_wire_err emit_upper(const struct upper *u, bool v6, uint8_t *out, size_t n,
				   uint32_t ps, const uint8_t *s6, const uint8_t *d6)
{
	switch (u->proto) {
	case TD_IPPROTO_TCP: return td_tcp_emit(&u->tcp, ps, out, n);
	case TD_IPPROTO_UDP: return td_udp_emit(&u->udp, ps, out, n);
	default:
		return v6 ? td_icmp6_emit(&u->icmp, s6, d6, out, n) : td_icmp4_emit(&u->icmp, out, n);
	}
}

static void same_upper(const struct upper *a, const struct upper *b)
{
	switch (a->proto) {
	case TD_IPPROTO_TCP:
		FUZZ_ASSERT(a->tcp.seq == b->tcp.seq && a->tcp.ack == b->tcp.ack);
		FUZZ_ASSERT(a->tcp.flags == b->tcp.flags && a->tcp.window == b->tcp.window);
		FUZZ_ASSERT(memcmp(&a->tcp.opt, &b->tcp.opt, sizeof(a->tcp.opt)) == 0);
		FUZZ_ASSERT(a->tcp.payload.len == b->tcp.payload.len);
		break;
	case TD_IPPROTO_UDP:
		FUZZ_ASSERT(a->udp.src_port == b->udp.src_port && a->udp.dst_port == b->udp.dst_port);
		FUZZ_ASSERT(a->udp.payload.len == b->udp.payload.len);
		break;
	default:
		FUZZ_ASSERT(a->icmp.type == b->icmp.type && a->icmp.code == b->icmp.code);
		FUZZ_ASSERT(a->icmp.data.len == b->icmp.data.len);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 2048];
	struct upper u = {0}, u2 = {0};

	if (size < 1 || size > 65535)
		return 0;
	if (data[0] >> 4 == 4) {
		struct td_ipv4_view v, v2;
		struct td_ipv4_repr r, r2;
		if (td_ipv4_check(&v, data, size, TD_WIRE_SKIP_CSUM) != TD_WIRE_OK ||
		    td_ipv4_is_fragment(&v))
			return 0;
		td_ipv4_parse(&v, &r);
		struct td_bytes pl = td_ipv4_payload(&v);
		u.proto = r.proto;
		uint32_t ps = td_csum_pseudo4(r.src, r.dst, r.proto, (uint16_t)pl.len);
		if (!parse_upper(&u, false, pl.ptr, pl.len, ps, TD_WIRE_SKIP_CSUM, NULL, NULL))
			return 0;
		size_t hl = td_ipv4_hdr_size(&r), n = upper_size(&u);
		if (hl + n > 65535)
			return 0;
		r.payload_len = (uint16_t)n;
		FUZZ_ASSERT(td_ipv4_emit(&r, out, hl) == TD_WIRE_OK);
		ps = td_csum_pseudo4(r.src, r.dst, r.proto, (uint16_t)n);
		FUZZ_ASSERT(emit_upper(&u, false, out + hl, n, ps, NULL, NULL) == TD_WIRE_OK);
		FUZZ_ASSERT(td_ipv4_check(&v2, out, hl + n, 0) == TD_WIRE_OK);
		td_ipv4_parse(&v2, &r2);
		pl = td_ipv4_payload(&v2);
		u2.proto = r2.proto;
		FUZZ_ASSERT(parse_upper(&u2, false, pl.ptr, pl.len, ps, 0, NULL, NULL));
		same_upper(&u, &u2);
	} else if (data[0] >> 4 == 6) {
		struct td_ipv6_view v, v2;
		struct td_ipv6_repr r;
		if (td_ipv6_check(&v, data, size, 0) != TD_WIRE_OK || v.has_frag)
			return 0;
		td_ipv6_parse(&v, &r);
		struct td_bytes up = td_ipv6_upper(&v);
		u.proto = v.upper_proto;
		const uint8_t *s6 = data + 8, *d6 = data + 24;
		uint32_t ps = td_csum_pseudo6(s6, d6, u.proto, (uint32_t)up.len);
		if (!parse_upper(&u, true, up.ptr, up.len, ps, TD_WIRE_SKIP_CSUM, s6, d6))
			return 0;
		size_t n = upper_size(&u);
		if (r.ext_len + n > 65535)
			return 0;
		/* Fixed header re-emitted, extension headers kept as they were. */
		memcpy(out + TD_IPV6_HDR_LEN, data + TD_IPV6_HDR_LEN, r.ext_len);
		r.payload_len = (uint16_t)(r.ext_len + n);
		FUZZ_ASSERT(td_ipv6_emit(&r, out, TD_IPV6_HDR_LEN) == TD_WIRE_OK);
		uint8_t *o = out + TD_IPV6_HDR_LEN + r.ext_len;
		ps = td_csum_pseudo6(s6, d6, u.proto, (uint32_t)n);
		FUZZ_ASSERT(emit_upper(&u, true, o, n, ps, s6, d6) == TD_WIRE_OK);
		FUZZ_ASSERT(td_ipv6_check(&v2, out, TD_IPV6_HDR_LEN + r.ext_len + n, 0) ==
			    TD_WIRE_OK);
		FUZZ_ASSERT(v2.upper_proto == u.proto);
		up = td_ipv6_upper(&v2);
		u2.proto = v2.upper_proto;
		FUZZ_ASSERT(parse_upper(&u2, true, up.ptr, up.len, ps, 0, out + 8, out + 24));
		same_upper(&u, &u2);
	}
	return 0;
}
