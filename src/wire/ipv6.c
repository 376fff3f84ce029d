/* IPv6 codec (RFC 8200): fixed header, bounded extension-header walk, fragment header. */
#include <tundra/wire.h>

/*
 * The extension walk is the classic place for a parser to loop or to read past
 * the packet: every step advances by at least 8 bytes, stops after
 * TD_IPV6_EXT_MAX_COUNT headers or TD_IPV6_EXT_MAX_BYTES bytes, and checks each
 * header's length against the packet before reading it.
 */

static bool is_ext(uint8_t nh)
{
	return nh == TD_IPPROTO_HOPOPTS || nh == TD_IPPROTO_ROUTING ||
	       nh == TD_IPPROTO_FRAGMENT || nh == TD_IPPROTO_DSTOPTS;
}

enum td_wire_err td_ipv6_check(struct td_ipv6_view *v, const void *buf, size_t len,
			       unsigned flags)
{
	const uint8_t *p = buf;
	(void)flags; /* IPv6 has no header checksum (RFC 8200 §3) */

	if (len < TD_IPV6_HDR_LEN)
		return TD_WIRE_TRUNCATED;
	if (p[0] >> 4 != 6)
		return TD_WIRE_BAD_VERSION;
	uint32_t total = TD_IPV6_HDR_LEN + (uint32_t)td_get_be16(p + 4);
	if (total > len)
		return TD_WIRE_TRUNCATED;

	memset(v, 0, sizeof(*v));
	v->p = p;
	v->len = total;

	uint32_t off = TD_IPV6_HDR_LEN;
	uint32_t nh_off = 6; /* where the current Next Header value lives */
	uint8_t nh = p[6];
	unsigned count = 0;

	while (is_ext(nh)) {
		/* RFC 8200 §4.3: Hop-by-Hop Options only immediately after the
		 * IPv6 header; elsewhere it is an unrecognised Next Header
		 * (§4, ICMPv6 Parameter Problem code 1). */
		if (nh == TD_IPPROTO_HOPOPTS && count > 0)
			return TD_WIRE_UNSUPPORTED;
		if (++count > TD_IPV6_EXT_MAX_COUNT)
			return TD_WIRE_EXT_LIMIT;
		if (off + 8 > total)
			return TD_WIRE_TRUNCATED;

		uint32_t ext_len;
		if (nh == TD_IPPROTO_FRAGMENT) {
			/* §4.5: one fragment header; the fragment's data after it
			 * must be a multiple of 8 bytes unless it is the last,
			 * and must not end past 65535. */
			if (v->has_frag)
				return TD_WIRE_BAD_FRAGMENT;
			ext_len = 8;
			uint16_t offm = td_get_be16(p + off + 2);
			uint32_t frag_data = total - (off + 8);
			uint32_t frag_off = (uint32_t)(offm >> 3) * 8;
			if ((offm & 1) && frag_data % 8)
				return TD_WIRE_BAD_FRAGMENT;
			if (frag_off + frag_data > 0xffff)
				return TD_WIRE_BAD_FRAGMENT;
			/* The view names the Next Header byte before the
			 * fragment header in 8 bits (for reassembly to patch
			 * it); a longer unfragmentable part is refused. */
			if (nh_off > 0xff)
				return TD_WIRE_EXT_LIMIT;
			v->has_frag = true;
			v->frag_hdr_off = (uint16_t)off;
			v->unfrag_len = (uint16_t)off;
			v->frag_prev_nh_off = (uint8_t)nh_off;
			if (frag_off != 0) {
				/* A later fragment carries no further headers:
				 * what follows is data of the reassembled payload. */
				nh = p[off];
				off += ext_len;
				break;
			}
		} else {
			/* §4.3, §4.4, §4.6: Hdr Ext Len counts 8-byte units
			 * beyond the first 8. */
			ext_len = ((uint32_t)p[off + 1] + 1) * 8;
		}
		if (off + ext_len - TD_IPV6_HDR_LEN > TD_IPV6_EXT_MAX_BYTES)
			return TD_WIRE_EXT_LIMIT;
		if (off + ext_len > total)
			return TD_WIRE_TRUNCATED;
		nh_off = off;
		nh = p[off];
		off += ext_len;
	}

	v->upper_off = (uint16_t)off;
	v->upper_proto = nh;
	return TD_WIRE_OK;
}

void td_ipv6_parse(const struct td_ipv6_view *v, struct td_ipv6_repr *r)
{
	const uint8_t *p = v->p;
	uint32_t w0 = td_get_be32(p);

	memset(r, 0, sizeof(*r));
	r->tclass = (uint8_t)(w0 >> 20);
	r->flow = w0 & 0xfffff;
	r->payload_len = td_get_be16(p + 4);
	r->next_header = p[6];
	r->hop_limit = p[7];
	memcpy(r->src, p + 8, 16);
	memcpy(r->dst, p + 24, 16);
	r->upper_proto = v->upper_proto;
	r->ext_len = (uint16_t)(v->upper_off - TD_IPV6_HDR_LEN);
	r->has_frag = v->has_frag;
	if (v->has_frag) {
		const uint8_t *f = p + v->frag_hdr_off;
		uint16_t offm = td_get_be16(f + 2);
		r->frag.offset = (uint16_t)(offm & 0xfff8);
		r->frag.more = (offm & 1) != 0;
		r->frag.ident = td_get_be32(f + 4);
	}
}

bool td_ipv6_ext_next(const struct td_ipv6_view *v, struct td_ipv6_ext *e)
{
	const uint8_t *p = v->p;
	uint32_t off;
	uint8_t type;

	if (e->len == 0) {
		off = TD_IPV6_HDR_LEN;
		type = p[6];
	} else {
		off = (uint32_t)e->off + e->len;
		type = e->next_header;
	}
	if (off >= v->upper_off)
		return false;
	/* Lengths as in td_ipv6_check(), which already bounded them. */
	e->type = type;
	e->off = (uint16_t)off;
	e->len = (uint16_t)(type == TD_IPPROTO_FRAGMENT ? 8 : ((uint32_t)p[off + 1] + 1) * 8);
	e->next_header = p[off];
	return true;
}

bool td_ipv6_opt_next(const struct td_ipv6_view *v, const struct td_ipv6_ext *e, size_t *off,
		      struct td_ipv6_opt *o, enum td_wire_err *err)
{
	*err = TD_WIRE_OK;
	if (e->type != TD_IPPROTO_HOPOPTS && e->type != TD_IPPROTO_DSTOPTS)
		return false;
	/* The options area follows Next Header and Hdr Ext Len (§4.3, §4.6). */
	const uint8_t *p = v->p + e->off + 2;
	size_t n = (size_t)e->len - 2, i = *off;
	if (i >= n)
		return false;
	o->type = p[i];
	if (o->type == 0) { /* §4.2 Pad1: a single octet, no length */
		o->len = 0;
		o->data.ptr = p + i + 1;
		o->data.len = 0;
		*off = i + 1;
		return true;
	}
	if (n - i < 2 || p[i + 1] > n - i - 2) {
		*err = TD_WIRE_BAD_OPTION;
		return false;
	}
	o->len = p[i + 1];
	o->data.ptr = p + i + 2;
	o->data.len = o->len;
	*off = i + 2 + o->len;
	return true;
}

enum td_wire_err td_ipv6_emit(const struct td_ipv6_repr *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (len != TD_IPV6_HDR_LEN || r->flow > 0xfffff)
		return TD_WIRE_BAD_SIZE;
	td_put_be32(p, (uint32_t)6 << 28 | (uint32_t)r->tclass << 20 | r->flow);
	td_put_be16(p + 4, r->payload_len);
	p[6] = r->next_header;
	p[7] = r->hop_limit;
	memcpy(p + 8, r->src, 16);
	memcpy(p + 24, r->dst, 16);
	return TD_WIRE_OK;
}

enum td_wire_err td_ipv6_frag_emit(uint8_t next_header, const struct td_ipv6_frag *f, void *buf,
				   size_t len)
{
	uint8_t *p = buf;

	/* §4.5: the offset field holds 8-byte units in its top 13 bits. */
	if (len != 8 || f->offset % 8)
		return TD_WIRE_BAD_SIZE;
	p[0] = next_header;
	p[1] = 0;
	td_put_be16(p + 2, (uint16_t)(f->offset | (f->more ? 1 : 0)));
	td_put_be32(p + 4, f->ident);
	return TD_WIRE_OK;
}
