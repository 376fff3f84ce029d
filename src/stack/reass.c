/* IPv4 and IPv6 reassembly (RFC 791 §3.2, RFC 8200 §4.5, RFC 5722) with bounded slots and a timeout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack_priv.h"

/*
 * Memory is bounded up front: cfg.reass_slots datagrams at once, each with a
 * 64 KiB buffer and room for cfg.reass_max_frags fragment ranges. When every
 * slot is busy, the oldest incomplete datagram is evicted (a flood of
 * never-completed fragments cannot lock out honest senders for the whole
 * timeout). Any overlap between fragments discards the whole datagram
 * (RFC 5722 for IPv6, applied to IPv4 as Linux and the BSDs do since the
 * teardrop-class attacks); an exact duplicate is dropped alone, because the
 * duplicate is harmless and links (and our impairment layer) duplicate.
 */

int td_reass_init(struct td_stack *st)
{
	uint32_t n = st->cfg.reass_slots;
	if (!n)
		return 0;
	st->reass = calloc(n, sizeof(*st->reass));
	if (!st->reass)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		st->reass[i].buf = malloc(TD_REASS_HDR_ROOM + TD_REASS_DATA_MAX);
		st->reass[i].ranges = calloc(st->cfg.reass_max_frags, sizeof(struct td_reass_range));
		if (!st->reass[i].buf || !st->reass[i].ranges)
			return -ENOMEM;
	}
	return 0;
}

void td_reass_free(struct td_stack *st)
{
	if (!st->reass)
		return;
	for (uint32_t i = 0; i < st->cfg.reass_slots; i++) {
		free(st->reass[i].buf);
		free(st->reass[i].ranges);
	}
	free(st->reass);
	st->reass = NULL;
}

uint32_t td_reass_in_use(const struct td_stack *st)
{
	uint32_t n = 0;
	for (uint32_t i = 0; st->reass && i < st->cfg.reass_slots; i++)
		n += st->reass[i].used;
	return n;
}

static void release(struct td_stack *st, struct td_reass *q, bool count_frags)
{
	if (count_frags)
		st->stats.ctr[TD_CTR_reass_frags_dropped] += q->nranges;
	q->used = false;
	st->reass_used--;
}

uint64_t td_reass_next_deadline(const struct td_stack *st)
{
	uint64_t d = UINT64_MAX;
	if (!st->reass_used)
		return d; /* the common case: do not walk the table on every wakeup */
	for (uint32_t i = 0; st->reass && i < st->cfg.reass_slots; i++)
		if (st->reass[i].used && st->reass[i].expires < d)
			d = st->reass[i].expires;
	return d;
}

/* The first fragment with its header, for the time-exceeded quote. */
static void time_exceeded(struct td_stack *st, uint64_t now, struct td_reass *q)
{
	/* RFC 792 / RFC 8200 §4.5: only when the first fragment arrived. */
	if (!q->have_first)
		return;
	const uint8_t *orig = q->buf + TD_REASS_HDR_ROOM - q->hdr_len;
	size_t len = (size_t)q->hdr_len + q->first_len;
	if (q->family == TD_AF_INET)
		td_icmp4_error(st, now, TD_ICMP4_TIME_EXCEEDED, 1, 0, orig, len);
	else
		td_icmp6_error(st, now, TD_ICMP6_TIME_EXCEEDED, 1, 0, orig, len);
}

void td_reass_poll(struct td_stack *st, uint64_t now)
{
	if (!st->reass_used)
		return;
	for (uint32_t i = 0; st->reass && i < st->cfg.reass_slots; i++) {
		struct td_reass *q = &st->reass[i];
		if (q->used && q->expires <= now) {
			st->stats.ctr[TD_CTR_reass_timeout]++;
			time_exceeded(st, now, q);
			release(st, q, true);
		}
	}
}

static struct td_reass *lookup(struct td_stack *st, uint64_t now, uint8_t family, uint8_t proto,
			       uint32_t ident, const void *src, const void *dst)
{
	struct td_reass *free_q = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < st->cfg.reass_slots; i++) {
		struct td_reass *q = &st->reass[i];
		if (!q->used) {
			if (!free_q)
				free_q = q;
			continue;
		}
		if (!oldest || q->born_seq < oldest->born_seq)
			oldest = q;
		if (q->family != family || q->ident != ident || q->proto != proto)
			continue;
		if (family == TD_AF_INET ? (q->v4.src == *(const uint32_t *)src &&
					    q->v4.dst == *(const uint32_t *)dst)
					 : (!memcmp(q->v6.src, src, 16) && !memcmp(q->v6.dst, dst, 16)))
			return q;
	}
	if (!free_q) {
		if (!oldest)
			return NULL; /* no slots configured */
		st->stats.ctr[TD_CTR_reass_evicted]++;
		release(st, oldest, true);
		free_q = oldest;
	}
	struct td_reass *q = free_q;
	q->used = true;
	st->reass_used++;
	q->have_first = q->have_last = false;
	q->family = family;
	q->proto = proto;
	q->ident = ident;
	if (family == TD_AF_INET) {
		q->v4.src = *(const uint32_t *)src;
		q->v4.dst = *(const uint32_t *)dst;
	} else {
		memcpy(q->v6.src, src, 16);
		memcpy(q->v6.dst, dst, 16);
	}
	/* RFC 791 / RFC 8200 §4.5: the timer starts with the first fragment seen. */
	q->expires = now + st->cfg.reass_timeout_ns;
	q->born_seq = st->reass_seq++;
	q->total = 0;
	q->received = 0;
	q->hdr_len = 0;
	q->first_len = 0;
	q->nranges = 0;
	return q;
}

/*
 * Add [off, off+len) to q. Returns 1 when the datagram is complete, 0 when
 * more is needed, -1 when the fragment (or the whole datagram) was dropped.
 */
static int add_fragment(struct td_stack *st, struct td_reass *q, uint32_t off, uint32_t len,
			bool more, const uint8_t *data)
{
	uint32_t end = off + len;
	if (len == 0 || (more && (len & 7))) {
		st->stats.ctr[TD_CTR_reass_inconsistent]++;
		goto discard;
	}
	for (uint16_t i = 0; i < q->nranges; i++) {
		const struct td_reass_range *r = &q->ranges[i];
		if (r->start == off && r->end == end) {
			st->stats.ctr[TD_CTR_reass_dup]++;
			return -1;
		}
		if (off < r->end && r->start < end) {
			st->stats.ctr[TD_CTR_reass_overlap]++;
			goto discard;
		}
	}
	if (!more) {
		if (q->have_last && q->total != end) {
			st->stats.ctr[TD_CTR_reass_inconsistent]++;
			goto discard;
		}
		for (uint16_t i = 0; i < q->nranges; i++)
			if (q->ranges[i].end > end) {
				st->stats.ctr[TD_CTR_reass_inconsistent]++;
				goto discard;
			}
		q->have_last = true;
		q->total = end;
	} else if (q->have_last && end > q->total) {
		st->stats.ctr[TD_CTR_reass_inconsistent]++;
		goto discard;
	}
	if (q->nranges >= st->cfg.reass_max_frags) {
		st->stats.ctr[TD_CTR_reass_too_many_frags]++;
		goto discard;
	}
	q->ranges[q->nranges].start = (uint16_t)off;
	q->ranges[q->nranges].end = (uint16_t)end;
	q->nranges++;
	memcpy(q->buf + TD_REASS_HDR_ROOM + off, data, len);
	q->received += len;
	if (off == 0)
		q->first_len = (uint16_t)len;
	return q->have_first && q->have_last && q->received == q->total ? 1 : 0;
discard:
	st->stats.ctr[TD_CTR_reass_frags_dropped]++; /* this one */
	release(st, q, true);
	return -1;
}

void td_reass_ip4(struct td_stack *st, uint64_t now, const struct td_ipv4_view *v,
		  const struct td_ipv4_repr *r)
{
	if (!st->cfg.reass_slots) {
		st->stats.ctr[TD_CTR_reass_evicted]++;
		return;
	}
	uint32_t end = (uint32_t)r->frag_off + r->payload_len;
	if (end + v->hdr_len > 65535) {
		st->stats.ctr[TD_CTR_reass_too_big]++;
		return;
	}
	struct td_reass *q = lookup(st, now, TD_AF_INET, r->proto, r->ident, &r->src, &r->dst);
	if (!q)
		return;
	if (r->frag_off == 0) {
		/* The first fragment's header (with its options) becomes the
		 * reassembled datagram's header (RFC 791 §3.2). */
		q->hdr_len = v->hdr_len;
		memcpy(q->buf + TD_REASS_HDR_ROOM - v->hdr_len, v->p, v->hdr_len);
		q->have_first = true;
	}
	int done = add_fragment(st, q, r->frag_off, r->payload_len, r->mf,
				td_ipv4_payload(v).ptr);
	if (done <= 0)
		return;
	if (q->hdr_len + q->total > 65535) {
		st->stats.ctr[TD_CTR_reass_too_big]++;
		release(st, q, true);
		return;
	}
	uint8_t *h = q->buf + TD_REASS_HDR_ROOM - q->hdr_len;
	size_t len = (size_t)q->hdr_len + q->total;
	td_put_be16(h + 2, (uint16_t)len);
	td_put_be16(h + 6, 0); /* no MF, offset 0 (DF dropped with it) */
	td_put_be16(h + 10, 0);
	td_put_be16(h + 10, td_csum(h, q->hdr_len));
	st->stats.ctr[TD_CTR_reass_ok]++;
	release(st, q, false); /* the buffer stays intact until the next fragment arrives */
	td_stack_ip4_input(st, now, h, len, true);
}

void td_reass_ip6(struct td_stack *st, uint64_t now, const struct td_ipv6_view *v,
		  const struct td_ipv6_repr *r)
{
	if (!st->cfg.reass_slots) {
		st->stats.ctr[TD_CTR_reass_evicted]++;
		return;
	}
	size_t frag_data = (size_t)v->frag_hdr_off + 8;
	uint32_t flen = v->len - (uint32_t)frag_data;
	uint32_t end = (uint32_t)r->frag.offset + flen;
	if (v->unfrag_len - TD_IPV6_HDR_LEN + end > 65535 || v->unfrag_len > TD_REASS_HDR_ROOM) {
		/* RFC 8200 §4.5 asks for a parameter problem pointing at the
		 * fragment offset when the datagram would exceed 65535. */
		st->stats.ctr[TD_CTR_reass_too_big]++;
		td_icmp6_error(st, now, TD_ICMP6_PARAM_PROBLEM, 0, v->frag_hdr_off + 2, v->p,
			       v->len);
		return;
	}
	if (r->frag.more && (flen & 7)) {
		/* RFC 8200 §4.5: pointer to the payload length field */
		st->stats.ctr[TD_CTR_reass_inconsistent]++;
		td_icmp6_error(st, now, TD_ICMP6_PARAM_PROBLEM, 0, 4, v->p, v->len);
		return;
	}
	uint8_t nh = v->p[v->frag_hdr_off];
	struct td_reass *q = lookup(st, now, TD_AF_INET6, 0, r->frag.ident, r->src, r->dst);
	if (!q)
		return;
	if (r->frag.offset == 0) {
		q->hdr_len = v->unfrag_len;
		q->prev_nh_off = v->frag_prev_nh_off;
		q->frag_nh = nh;
		memcpy(q->buf + TD_REASS_HDR_ROOM - v->unfrag_len, v->p, v->unfrag_len);
		q->have_first = true;
	}
	int done = add_fragment(st, q, r->frag.offset, flen, r->frag.more, v->p + frag_data);
	if (done <= 0)
		return;
	if (q->hdr_len - TD_IPV6_HDR_LEN + q->total > 65535) {
		st->stats.ctr[TD_CTR_reass_too_big]++;
		release(st, q, true);
		return;
	}
	uint8_t *h = q->buf + TD_REASS_HDR_ROOM - q->hdr_len;
	size_t len = (size_t)q->hdr_len + q->total;
	/* RFC 8200 §4.5 reassembly: the Next Header that named the Fragment
	 * header now names what the fragments carried. */
	h[q->prev_nh_off] = q->frag_nh;
	td_put_be16(h + 4, (uint16_t)(len - TD_IPV6_HDR_LEN));
	st->stats.ctr[TD_CTR_reass_ok]++;
	release(st, q, false);
	td_stack_ip6_input(st, now, h, len, true);
}
