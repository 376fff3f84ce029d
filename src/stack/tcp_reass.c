/* TCP receive buffer and out-of-order reassembly (RFC 9293 §3.10.7.4 seventh, RFC 2018 §4). */
#include <stdlib.h>
#include <string.h>

#include "stack/tcp_internal.h"

/*
 * The receive buffer is one ring of s->rcvbuf bytes: in-order data waiting
 * for the application at [head, head+len), and, beyond it, out-of-order data
 * written straight to the place it will occupy once the holes fill. The
 * ranges list says which bytes beyond RCV.NXT are present. Because the window
 * we advertise never exceeds the free space of the ring, the out-of-order
 * queue is bounded by the window by construction (RFC 9293 §3.10.7.4: segments
 * beyond the window are trimmed before they get here).
 */

static struct tcp_rbuf *rbuf_get(struct td_tcp_sock *s)
{
	if (s->rb)
		return s->rb;
	if (!td_tcp_mem_charge(s->tcp, s->rcvbuf))
		return NULL;
	struct tcp_rbuf *rb = td_tcp_buf_alloc(s->tcp, sizeof(*rb) + s->rcvbuf);
	if (!rb) {
		td_tcp_mem_uncharge(s->tcp, s->rcvbuf);
		return NULL;
	}
	rb->cap = s->rcvbuf;
	rb->head = rb->len = 0;
	rb->nooo = 0;
	rb->stamp = 0;
	s->rb = rb;
	return rb;
}

void td_tcp_reass_free(struct td_tcp_sock *s)
{
	if (!s->rb)
		return;
	td_tcp_mem_uncharge(s->tcp, s->rb->cap);
	td_tcp_buf_release(s->tcp, s->rb, sizeof(*s->rb) + s->rb->cap);
	s->rb = NULL;
}

uint32_t td_tcp_rcv_buffered(const struct td_tcp_sock *s)
{
	return s->rb ? s->rb->len : 0;
}

static void ring_write(struct tcp_rbuf *rb, uint32_t pos, const uint8_t *data, uint32_t n)
{
	pos %= rb->cap;
	uint32_t first = rb->cap - pos < n ? rb->cap - pos : n;
	memcpy(rb->data + pos, data, first);
	if (n > first)
		memcpy(rb->data, data + first, n - first);
}

static void ooo_remove(struct tcp_rbuf *rb, unsigned i)
{
	rb->ooo[i] = rb->ooo[rb->nooo - 1];
	rb->nooo--;
}

int td_tcp_reass_insert(struct td_tcp_sock *s, uint32_t seq, const uint8_t *data, uint32_t n)
{
	if (n == 0)
		return 0;
	struct tcp_rbuf *rb = rbuf_get(s);
	if (!rb)
		return -ENOMEM;
	uint32_t off = seq - s->rcv_nxt;
	uint32_t room = rb->cap - rb->len;
	if (off >= room)
		return -ENOBUFS;
	if (n > room - off)
		n = room - off;
	uint32_t end = seq + n;

	if (off != 0) {
		/* Merge with every range it overlaps or touches; the result is the
		 * most recently changed block (RFC 2018 §4 first SACK block). */
		uint32_t ns = seq, ne = end;
		for (unsigned i = 0; i < rb->nooo;) {
			struct tcp_ooo *o = &rb->ooo[i];
			if (SEQ_LEQ(o->start, ne) && SEQ_GEQ(o->end, ns)) {
				ns = SEQ_MIN(ns, o->start);
				ne = SEQ_MAX(ne, o->end);
				ooo_remove(rb, i);
				continue;
			}
			i++;
		}
		if (rb->nooo == TCP_OOO_MAX)
			return -ENOBUFS; /* too fragmented: the peer will retransmit */
		ring_write(rb, rb->head + rb->len + off, data, n);
		rb->ooo[rb->nooo++] = (struct tcp_ooo){ns, ne, ++rb->stamp};
		return 0;
	}

	ring_write(rb, rb->head + rb->len, data, n);
	/* In order: absorb every range that now touches RCV.NXT. */
	uint32_t adv_end = end;
	bool merged = true;
	while (merged) {
		merged = false;
		for (unsigned i = 0; i < rb->nooo; i++) {
			struct tcp_ooo *o = &rb->ooo[i];
			if (SEQ_LEQ(o->start, adv_end)) {
				adv_end = SEQ_MAX(adv_end, o->end);
				ooo_remove(rb, i);
				merged = true;
				break;
			}
		}
	}
	uint32_t adv = adv_end - s->rcv_nxt;
	rb->len += adv;
	return (int)adv;
}

uint32_t td_tcp_reass_read(struct td_tcp_sock *s, uint8_t *out, uint32_t len)
{
	struct tcp_rbuf *rb = s->rb;
	if (!rb)
		return 0;
	uint32_t n = len < rb->len ? len : rb->len;
	uint32_t first = rb->cap - rb->head < n ? rb->cap - rb->head : n;
	if (out) {
		memcpy(out, rb->data + rb->head, first);
		if (n > first)
			memcpy(out + first, rb->data, n - first);
	}
	rb->head = (rb->head + n) % rb->cap;
	rb->len -= n;
	if (rb->len == 0 && rb->nooo == 0)
		td_tcp_reass_free(s); /* drained: an idle connection holds no buffer */
	return n;
}

/* RFC 2018 §4: the first block reports the most recently received segment's
 * block, the rest the most recent others; we order by recency stamps. */
unsigned td_tcp_reass_sack_blocks(const struct td_tcp_sock *s, struct td_tcp_sack_block *out,
			       unsigned max)
{
	const struct tcp_rbuf *rb = s->rb;
	if (!rb)
		return 0;
	bool used[TCP_OOO_MAX] = {false};
	unsigned n = 0;
	while (n < max) {
		int best = -1;
		for (unsigned i = 0; i < rb->nooo; i++)
			if (!used[i] && (best < 0 || rb->ooo[i].stamp > rb->ooo[best].stamp))
				best = (int)i;
		if (best < 0)
			break;
		used[best] = true;
		out[n].left = rb->ooo[best].start;
		out[n].right = rb->ooo[best].end;
		n++;
	}
	return n;
}

bool td_tcp_reass_holds(const struct td_tcp_sock *s, uint32_t l, uint32_t r)
{
	if (!s->rb)
		return false;
	for (unsigned i = 0; i < s->rb->nooo; i++)
		if (SEQ_LEQ(s->rb->ooo[i].start, l) && SEQ_GEQ(s->rb->ooo[i].end, r))
			return true;
	return false;
}
