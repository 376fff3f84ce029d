/* ICMPv4 (RFC 792, RFC 1191) and ICMPv6 (RFC 4443) message codec. */
#include <tundra/wire.h>

bool td_icmp4_is_error(uint8_t type)
{
	/* RFC 792: unreachable, source quench (4, RFC 6633), redirect, time
	 * exceeded and parameter problem quote the offending datagram. */
	return type == TD_ICMP4_DEST_UNREACH || type == 4 || type == TD_ICMP4_REDIRECT ||
	       type == TD_ICMP4_TIME_EXCEEDED || type == TD_ICMP4_PARAM_PROBLEM;
}

bool td_icmp6_is_error(uint8_t type)
{
	/* RFC 4443 §2.1: error messages have the high-order bit clear. */
	return type < 128;
}

static bool is_echo4(uint8_t type)
{
	return type == TD_ICMP4_ECHO_REQUEST || type == TD_ICMP4_ECHO_REPLY;
}

static bool is_echo6(uint8_t type)
{
	return type == TD_ICMP6_ECHO_REQUEST || type == TD_ICMP6_ECHO_REPLY;
}

/* Fill the type-specific fields from bytes 4..7 (RFC 792 message formats,
 * RFC 4443 §3 and §4). */
static void parse_common(const uint8_t *p, size_t len, bool v6, struct td_icmp_repr *r)
{
	memset(r, 0, sizeof(*r));
	r->type = p[0];
	r->code = p[1];
	r->rest_of_header = td_get_be32(p + 4);
	r->data.ptr = p + TD_ICMP_HDR_LEN;
	r->data.len = len - TD_ICMP_HDR_LEN;
	if (v6 ? is_echo6(r->type) : is_echo4(r->type)) {
		r->ident = td_get_be16(p + 4);
		r->seq = td_get_be16(p + 6);
	} else if (v6) {
		if (r->type == TD_ICMP6_PACKET_TOO_BIG)
			r->mtu = r->rest_of_header;
		else if (r->type == TD_ICMP6_PARAM_PROBLEM)
			r->pointer = r->rest_of_header;
	} else {
		/* RFC 1191 §4: next-hop MTU in the low-order 16 bits. */
		if (r->type == TD_ICMP4_DEST_UNREACH && r->code == TD_ICMP4_CODE_FRAG_NEEDED)
			r->mtu = td_get_be16(p + 6);
		else if (r->type == TD_ICMP4_PARAM_PROBLEM)
			r->pointer = p[4];
	}
}

enum td_wire_err td_icmp4_parse(const void *buf, size_t len, unsigned flags,
				struct td_icmp_repr *r)
{
	if (len < TD_ICMP_HDR_LEN)
		return TD_WIRE_TRUNCATED;
	if (!(flags & TD_WIRE_SKIP_CSUM) && td_csum(buf, len) != 0)
		return TD_WIRE_BAD_CHECKSUM;
	parse_common(buf, len, false, r);
	return TD_WIRE_OK;
}

enum td_wire_err td_icmp6_parse(const void *buf, size_t len, const uint8_t src[16],
				const uint8_t dst[16], unsigned flags, struct td_icmp_repr *r)
{
	if (len < TD_ICMP_HDR_LEN)
		return TD_WIRE_TRUNCATED;
	if (len > UINT32_MAX)
		return TD_WIRE_BAD_LENGTH;
	if (!(flags & TD_WIRE_SKIP_CSUM)) {
		/* RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header. */
		uint32_t acc = td_csum_pseudo6(src, dst, TD_IPPROTO_ICMPV6, (uint32_t)len);
		if (td_csum_finish(td_csum_add(acc, buf, len)) != 0)
			return TD_WIRE_BAD_CHECKSUM;
	}
	parse_common(buf, len, true, r);
	return TD_WIRE_OK;
}

size_t td_icmp_size(const struct td_icmp_repr *r)
{
	return TD_ICMP_HDR_LEN + r->data.len;
}

/* Header bytes 0..7 (checksum zero) and the data; the caller sums. */
static enum td_wire_err emit_common(const struct td_icmp_repr *r, bool v6, uint8_t *p, size_t len)
{
	if (len != td_icmp_size(r))
		return TD_WIRE_BAD_SIZE;

	uint32_t rest = r->rest_of_header;
	if (v6 ? is_echo6(r->type) : is_echo4(r->type)) {
		rest = (uint32_t)r->ident << 16 | r->seq;
	} else if (v6) {
		if (r->type == TD_ICMP6_PACKET_TOO_BIG)
			rest = r->mtu;
		else if (r->type == TD_ICMP6_PARAM_PROBLEM)
			rest = r->pointer;
	} else if (r->type == TD_ICMP4_DEST_UNREACH && r->code == TD_ICMP4_CODE_FRAG_NEEDED) {
		if (r->mtu > 0xffff)
			return TD_WIRE_BAD_SIZE;
		rest = r->mtu; /* RFC 1191 §4: high 16 bits unused, zero */
	} else if (r->type == TD_ICMP4_PARAM_PROBLEM) {
		if (r->pointer > 0xff)
			return TD_WIRE_BAD_SIZE;
		rest = r->pointer << 24; /* RFC 792: pointer is one octet, rest unused */
	}

	/* Data first: it may overlap the header. A prober's template already
	 * holds it at buf + 8 (a backward memmove onto itself is slow in musl). */
	if (r->data.len && r->data.ptr != p + TD_ICMP_HDR_LEN)
		memmove(p + TD_ICMP_HDR_LEN, r->data.ptr, r->data.len);
	p[0] = r->type;
	p[1] = r->code;
	td_put_be16(p + 2, 0);
	td_put_be32(p + 4, rest);
	return TD_WIRE_OK;
}

enum td_wire_err td_icmp4_emit(const struct td_icmp_repr *r, void *buf, size_t len)
{
	enum td_wire_err e = emit_common(r, false, buf, len);
	if (e != TD_WIRE_OK)
		return e;
	td_put_be16((uint8_t *)buf + 2, td_csum(buf, len));
	return TD_WIRE_OK;
}

enum td_wire_err td_icmp6_emit(const struct td_icmp_repr *r, const uint8_t src[16],
			       const uint8_t dst[16], void *buf, size_t len)
{
	if (len > UINT32_MAX)
		return TD_WIRE_BAD_SIZE;
	enum td_wire_err e = emit_common(r, true, buf, len);
	if (e != TD_WIRE_OK)
		return e;
	uint32_t acc = td_csum_pseudo6(src, dst, TD_IPPROTO_ICMPV6, (uint32_t)len);
	td_put_be16((uint8_t *)buf + 2, td_csum_finish(td_csum_add(acc, buf, len)));
	return TD_WIRE_OK;
}
