/* TCP segment codec (RFC 9293 §3.1) with options: MSS, window scale and
 * timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018). */
#include <tundra/wire.h>

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WSCALE 3
#define OPT_SACK_PERM 4
#define OPT_SACK 5
#define OPT_TS 8

enum td_wire_err td_tcp_check(struct td_tcp_view *v, const void *buf, size_t len,
			      uint32_t pseudo, unsigned flags)
{
	const uint8_t *p = buf;

	if (len < TD_TCP_HDR_MIN)
		return TD_WIRE_TRUNCATED;
	if (len > UINT32_MAX)
		return TD_WIRE_BAD_LENGTH;
	/* RFC 9293 §3.1: Data Offset counts 32-bit words, at least 5; lwIP
	 * and OpenBSD both check it against the segment before trusting it. */
	size_t hdr_len = (size_t)(p[12] >> 4) * 4;
	if (hdr_len < TD_TCP_HDR_MIN || hdr_len > len)
		return TD_WIRE_BAD_HDR_LEN;
	if (!(flags & TD_WIRE_SKIP_CSUM) && td_csum_finish(td_csum_add(pseudo, p, len)) != 0)
		return TD_WIRE_BAD_CHECKSUM;
	v->p = p;
	v->len = (uint32_t)len;
	v->hdr_len = (uint8_t)hdr_len;
	return TD_WIRE_OK;
}

bool td_tcp_opt_next(const struct td_tcp_view *v, size_t *off, struct td_tcp_opt *o,
		     enum td_wire_err *err)
{
	const uint8_t *p = v->p + TD_TCP_HDR_MIN;
	size_t n = (size_t)v->hdr_len - TD_TCP_HDR_MIN;
	size_t i = *off;

	*err = TD_WIRE_OK;
	if (i >= n)
		return false;
	o->kind = p[i];
	o->data.ptr = p + i;
	o->data.len = 0;
	if (o->kind == OPT_EOL || o->kind == OPT_NOP) {
		o->len = 1;
		/* RFC 9293 §3.1: EOL ends the list; the rest is padding. */
		*off = o->kind == OPT_EOL ? n : i + 1;
		return true;
	}
	/* RFC 9293 §3.1 and picotcp#506: a length below 2 would make no
	 * progress; one running past the header reads garbage. */
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

/* Options of a known kind but the wrong length are ignored, as Linux's
 * tcp_parse_options() does; only a length that breaks the walk (0, 1, past
 * the header) is an error. */
static enum td_wire_err parse_opts(const struct td_tcp_view *v, struct td_tcp_opts *o)
{
	struct td_tcp_opt opt;
	enum td_wire_err err;
	size_t off = 0;

	while (td_tcp_opt_next(v, &off, &opt, &err)) {
		const uint8_t *d = opt.data.ptr;
		switch (opt.kind) {
		case OPT_MSS:
			if (opt.len == 4) {
				o->has_mss = true;
				o->mss = td_get_be16(d);
			}
			break;
		case OPT_WSCALE:
			if (opt.len == 3) {
				o->has_wscale = true;
				o->wscale = d[0];
			}
			break;
		case OPT_SACK_PERM:
			if (opt.len == 2)
				o->sack_perm = true;
			break;
		case OPT_TS:
			if (opt.len == 10) {
				o->has_ts = true;
				o->tsval = td_get_be32(d);
				o->tsecr = td_get_be32(d + 4);
			}
			break;
		case OPT_SACK:
			/* RFC 2018 §3: 2 + 8n bytes; 40 bytes of options hold
			 * at most 4 blocks. */
			if (opt.len >= 10 && (opt.len - 2) % 8 == 0 &&
			    (opt.len - 2) / 8 <= TD_TCP_SACK_MAX) {
				/* The last SACK option wins, whole. */
				memset(o->sack, 0, sizeof(o->sack));
				o->sack_count = (uint8_t)((opt.len - 2) / 8);
				for (unsigned k = 0; k < o->sack_count; k++) {
					o->sack[k].left = td_get_be32(d + 8 * k);
					o->sack[k].right = td_get_be32(d + 8 * k + 4);
				}
			}
			break;
		default:
			break; /* EOL, NOP, unknown: skipped by their length */
		}
	}
	return err;
}

enum td_wire_err td_tcp_parse(const struct td_tcp_view *v, struct td_tcp_repr *r)
{
	const uint8_t *p = v->p;

	memset(r, 0, sizeof(*r));
	r->src_port = td_get_be16(p);
	r->dst_port = td_get_be16(p + 2);
	r->seq = td_get_be32(p + 4);
	r->ack = td_get_be32(p + 8);
	r->flags = p[13];
	r->window = td_get_be16(p + 14);
	r->urgent = td_get_be16(p + 18);
	r->payload.ptr = p + v->hdr_len;
	r->payload.len = v->len - v->hdr_len;
	return parse_opts(v, &r->opt);
}

/*
 * Two layouts. The usual one aligns each option on 32 bits with NOPs, as
 * Linux does (MSS | SACK-perm TS | NOP WS | NOP NOP SACK). When that does not
 * fit in 40 bytes, the packed one (no NOPs, EOL padding at the end) is used:
 * any set of options that arrived in 40 bytes fits in it.
 * out may be NULL to measure. Returns bytes written before end padding.
 */
static size_t put_opt(uint8_t *out, size_t at, const uint8_t *bytes, size_t n)
{
	if (out)
		memcpy(out + at, bytes, n);
	return at + n;
}

static size_t layout(const struct td_tcp_opts *o, bool aligned, uint8_t *out)
{
	static const uint8_t nop2[2] = {OPT_NOP, OPT_NOP};
	uint8_t b[2 + 8 * TD_TCP_SACK_MAX];
	size_t at = 0;

	if (o->has_mss) {
		b[0] = OPT_MSS;
		b[1] = 4;
		td_put_be16(b + 2, o->mss);
		at = put_opt(out, at, b, 4);
	}
	if (o->sack_perm) {
		if (aligned && !o->has_ts)
			at = put_opt(out, at, nop2, 2);
		b[0] = OPT_SACK_PERM;
		b[1] = 2;
		at = put_opt(out, at, b, 2);
	}
	if (o->has_ts) {
		if (aligned && !o->sack_perm)
			at = put_opt(out, at, nop2, 2);
		b[0] = OPT_TS;
		b[1] = 10;
		td_put_be32(b + 2, o->tsval);
		td_put_be32(b + 6, o->tsecr);
		at = put_opt(out, at, b, 10);
	}
	if (o->has_wscale) {
		if (aligned)
			at = put_opt(out, at, nop2, 1);
		b[0] = OPT_WSCALE;
		b[1] = 3;
		b[2] = o->wscale;
		at = put_opt(out, at, b, 3);
	}
	if (o->sack_count) {
		if (aligned)
			at = put_opt(out, at, nop2, 2);
		b[0] = OPT_SACK;
		b[1] = (uint8_t)(2 + 8 * o->sack_count);
		for (unsigned k = 0; k < o->sack_count; k++) {
			td_put_be32(b + 2 + 8 * k, o->sack[k].left);
			td_put_be32(b + 6 + 8 * k, o->sack[k].right);
		}
		at = put_opt(out, at, b, b[1]);
	}
	return at;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

size_t td_tcp_opts_size(const struct td_tcp_opts *o)
{
	if (o->sack_count > TD_TCP_SACK_MAX)
		return TD_TCP_OPT_MAX + 4; /* unrepresentable; emit refuses it */
	size_t n = layout(o, true, NULL);
	if (n <= TD_TCP_OPT_MAX)
		return n; /* the aligned layout is always a multiple of 4 */
	return pad4(layout(o, false, NULL));
}

size_t td_tcp_size(const struct td_tcp_repr *r)
{
	return TD_TCP_HDR_MIN + td_tcp_opts_size(&r->opt) + r->payload.len;
}

enum td_wire_err td_tcp_emit(const struct td_tcp_repr *r, uint32_t pseudo, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t olen = td_tcp_opts_size(&r->opt);

	if (olen > TD_TCP_OPT_MAX || len != TD_TCP_HDR_MIN + olen + r->payload.len ||
	    len > UINT32_MAX)
		return TD_WIRE_BAD_SIZE;
	size_t hdr_len = TD_TCP_HDR_MIN + olen;
	if (r->payload.len)
		memmove(p + hdr_len, r->payload.ptr, r->payload.len);

	td_put_be16(p, r->src_port);
	td_put_be16(p + 2, r->dst_port);
	td_put_be32(p + 4, r->seq);
	td_put_be32(p + 8, r->ack);
	p[12] = (uint8_t)(hdr_len / 4 << 4);
	p[13] = r->flags;
	td_put_be16(p + 14, r->window);
	td_put_be16(p + 16, 0);
	td_put_be16(p + 18, r->urgent);

	bool aligned = layout(&r->opt, true, NULL) <= TD_TCP_OPT_MAX;
	size_t used = layout(&r->opt, aligned, p + TD_TCP_HDR_MIN);
	/* RFC 9293 §3.1: the header is padded with zeros (EOL). */
	memset(p + TD_TCP_HDR_MIN + used, OPT_EOL, olen - used);

	td_put_be16(p + 16, td_csum_finish(td_csum_add(pseudo, p, len)));
	return TD_WIRE_OK;
}
