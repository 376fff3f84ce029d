/* IPv4 header codec (RFC 791): checked view, repr, emit with header checksum. */
#include <tundra/wire.h>

enum td_wire_err td_ipv4_check(struct td_ipv4_view *v, const void *buf, size_t len,
			       unsigned flags)
{
	const uint8_t *p = buf;

	if (len < TD_IPV4_HDR_MIN)
		return TD_WIRE_TRUNCATED;
	if (p[0] >> 4 != 4)
		return TD_WIRE_BAD_VERSION;

	/* RFC 791 §3.1: IHL counts 32-bit words, minimum 5. */
	size_t hdr_len = (size_t)(p[0] & 0x0f) * 4;
	size_t total = td_get_be16(p + 2);
	if (hdr_len < TD_IPV4_HDR_MIN)
		return TD_WIRE_BAD_HDR_LEN;
	if (total < TD_IPV4_HDR_MIN)
		return TD_WIRE_BAD_LENGTH;
	if (hdr_len > total)
		return TD_WIRE_BAD_HDR_LEN;
	if (total > len)
		return TD_WIRE_TRUNCATED;
	/* RFC 791 §3.2: every fragment but the last carries a multiple of 8
	 * data bytes, and no fragment may end past the 65535-byte datagram. */
	uint16_t ff = td_get_be16(p + 6);
	size_t data_len = total - hdr_len;
	if ((ff & 0x2000) && data_len % 8)
		return TD_WIRE_BAD_FRAGMENT;
	if ((size_t)(ff & 0x1fff) * 8 + data_len > 0xffff)
		return TD_WIRE_BAD_FRAGMENT;
	if (!(flags & TD_WIRE_SKIP_CSUM) && td_csum(p, hdr_len) != 0)
		return TD_WIRE_BAD_CHECKSUM;

	v->p = p;
	v->hdr_len = (uint16_t)hdr_len;
	v->len = (uint16_t)total;
	return TD_WIRE_OK;
}

void td_ipv4_parse(const struct td_ipv4_view *v, struct td_ipv4_repr *r)
{
	const uint8_t *p = v->p;
	uint16_t ff = td_get_be16(p + 6);

	memset(r, 0, sizeof(*r));
	r->tos = p[1];
	r->payload_len = (uint16_t)(v->len - v->hdr_len);
	r->ident = td_get_be16(p + 4);
	r->df = (ff & 0x4000) != 0;
	r->mf = (ff & 0x2000) != 0;
	r->frag_off = (uint16_t)((ff & 0x1fff) * 8);
	r->ttl = p[8];
	r->proto = p[9];
	r->src = td_get_be32(p + 12);
	r->dst = td_get_be32(p + 16);
	r->opt_len = (uint8_t)(v->hdr_len - TD_IPV4_HDR_MIN);
	memcpy(r->opts, p + TD_IPV4_HDR_MIN, r->opt_len);
}

bool td_ipv4_opt_next(const struct td_ipv4_view *v, size_t *off, struct td_ipv4_opt *o,
		      enum td_wire_err *err)
{
	const uint8_t *p = v->p + TD_IPV4_HDR_MIN;
	size_t n = (size_t)v->hdr_len - TD_IPV4_HDR_MIN, i = *off;

	*err = TD_WIRE_OK;
	if (i >= n)
		return false;
	o->type = p[i];
	o->data.ptr = p + i;
	o->data.len = 0;
	/* RFC 791 §3.1: type 0 (End of Option List) and 1 (No Operation) are
	 * single octets; EOL ends the list, the rest is padding. */
	if (o->type == 0 || o->type == 1) {
		o->len = 1;
		*off = o->type == 0 ? n : i + 1;
		return true;
	}
	if (n - i < 2 || p[i + 1] < 2 || p[i + 1] > n - i) {
		*err = TD_WIRE_BAD_OPTION;
		return false;
	}
	o->len = p[i + 1];
	o->data.ptr = p + i + 2;
	o->data.len = (size_t)o->len - 2;
	*off = i + o->len;
	return true;
}

size_t td_ipv4_hdr_size(const struct td_ipv4_repr *r)
{
	return TD_IPV4_HDR_MIN + (size_t)r->opt_len;
}

enum td_wire_err td_ipv4_emit(const struct td_ipv4_repr *r, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t hdr_len = td_ipv4_hdr_size(r);

	if (r->opt_len > TD_IPV4_OPT_MAX || r->opt_len % 4 || len != hdr_len)
		return TD_WIRE_BAD_SIZE;
	/* The fragment offset field counts 8-byte units in 13 bits (RFC 791 §3.1). */
	if (r->frag_off % 8 || hdr_len + r->payload_len > 0xffff)
		return TD_WIRE_BAD_SIZE;

	p[0] = (uint8_t)(0x40 | hdr_len / 4);
	p[1] = r->tos;
	td_put_be16(p + 2, (uint16_t)(hdr_len + r->payload_len));
	td_put_be16(p + 4, r->ident);
	td_put_be16(p + 6, (uint16_t)((r->df ? 0x4000 : 0) | (r->mf ? 0x2000 : 0) |
				      r->frag_off / 8));
	p[8] = r->ttl;
	p[9] = r->proto;
	td_put_be16(p + 10, 0);
	td_put_be32(p + 12, r->src);
	td_put_be32(p + 16, r->dst);
	memcpy(p + TD_IPV4_HDR_MIN, r->opts, r->opt_len);
	td_put_be16(p + 10, td_csum(p, hdr_len));
	return TD_WIRE_OK;
}
