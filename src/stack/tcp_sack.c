/* TCP send buffer and the sender's SACK scoreboard (RFC 2018, RFC 6675 §3-§4). */
#include <stdlib.h>
#include <string.h>

#include "stack/tcp_internal.h"

/* The send buffer holds every byte from SND.UNA on, sent or not, in a ring
 * allocated on the first send() and freed once everything was acknowledged. */

static struct tcp_sbuf *sbuf_get(struct td_tcp_sock *s)
{
	if (s->sb)
		return s->sb;
	if (!td_tcp_mem_charge(s->tcp, s->sndbuf))
		return NULL;
	struct tcp_sbuf *sb = td_tcp_buf_alloc(s->tcp, sizeof(*sb) + s->sndbuf);
	if (!sb) {
		td_tcp_mem_uncharge(s->tcp, s->sndbuf);
		return NULL;
	}
	sb->cap = s->sndbuf;
	sb->head = sb->len = 0;
	sb->nsack = 0;
	s->sb = sb;
	return sb;
}

void td_tcp_sbuf_free(struct td_tcp_sock *s)
{
	if (!s->sb)
		return;
	td_tcp_mem_uncharge(s->tcp, s->sb->cap);
	td_tcp_buf_release(s->tcp, s->sb, sizeof(*s->sb) + s->sb->cap);
	s->sb = NULL;
}

uint32_t td_tcp_sbuf_len(const struct td_tcp_sock *s)
{
	return s->sb ? s->sb->len : 0;
}

int td_tcp_sbuf_append(struct td_tcp_sock *s, const uint8_t *data, uint32_t len)
{
	struct tcp_sbuf *sb = sbuf_get(s);
	if (!sb)
		return -ENOMEM;
	uint32_t room = sb->cap - sb->len;
	uint32_t n = len < room ? len : room;
	uint32_t pos = (sb->head + sb->len) % sb->cap;
	uint32_t first = sb->cap - pos < n ? sb->cap - pos : n;
	memcpy(sb->data + pos, data, first);
	if (n > first)
		memcpy(sb->data, data + first, n - first);
	sb->len += n;
	return (int)n;
}

void td_tcp_sbuf_ack(struct td_tcp_sock *s, uint32_t n)
{
	struct tcp_sbuf *sb = s->sb;
	if (!sb)
		return;
	if (n > sb->len)
		n = sb->len;
	sb->head = (sb->head + n) % sb->cap;
	sb->len -= n;
	/* Forget scoreboard entries now below SND.UNA (RFC 6675 §5 (A)). */
	unsigned j = 0;
	for (unsigned i = 0; i < sb->nsack; i++) {
		struct tcp_range r = sb->sack[i];
		if (SEQ_LEQ(r.end, s->snd_una))
			continue;
		if (SEQ_LT(r.start, s->snd_una))
			r.start = s->snd_una;
		sb->sack[j++] = r;
	}
	sb->nsack = (uint8_t)j;
	if (sb->len == 0)
		td_tcp_sbuf_free(s);
}

const uint8_t *td_tcp_sbuf_peek(struct td_tcp_sock *s, uint32_t off, uint32_t len)
{
	struct tcp_sbuf *sb = s->sb;
	uint32_t pos = (sb->head + off) % sb->cap;
	if (pos + len <= sb->cap)
		return sb->data + pos;
	uint32_t first = sb->cap - pos;
	memcpy(s->tcp->scratch, sb->data + pos, first);
	memcpy(s->tcp->scratch + first, sb->data, len - first);
	return s->tcp->scratch;
}

void td_tcp_sbuf_pieces(const struct td_tcp_sock *s, uint32_t off, uint32_t len,
			struct td_bytes out[2])
{
	const struct tcp_sbuf *sb = s->sb;
	uint32_t pos = (sb->head + off) % sb->cap;
	uint32_t first = sb->cap - pos < len ? sb->cap - pos : len;
	out[0] = (struct td_bytes){sb->data + pos, first};
	out[1] = (struct td_bytes){sb->data, len - first};
}

/* Insert [l, r) keeping the scoreboard sorted and disjoint. */
static bool sb_insert(struct td_tcp_sock *s, uint32_t l, uint32_t r)
{
	struct tcp_sbuf *sb = s->sb;
	uint32_t before = td_tcp_sack_bytes(s);
	struct tcp_range tmp[TCP_SB_MAX + 1];
	unsigned n = 0;
	bool placed = false;
	for (unsigned i = 0; i < sb->nsack; i++) {
		struct tcp_range o = sb->sack[i];
		if (SEQ_LT(o.end, l)) {
			tmp[n++] = o;
		} else if (SEQ_GT(o.start, r)) {
			if (!placed) {
				tmp[n++] = (struct tcp_range){l, r};
				placed = true;
			}
			tmp[n++] = o;
		} else {
			l = SEQ_MIN(l, o.start);
			r = SEQ_MAX(r, o.end);
		}
	}
	if (!placed)
		tmp[n++] = (struct tcp_range){l, r};
	if (n > TCP_SB_MAX) {
		/* Scoreboard full: keep the lowest ranges, which matter for the
		 * next retransmissions; losing SACK information is safe. */
		n = TCP_SB_MAX;
	}
	memcpy(sb->sack, tmp, n * sizeof(tmp[0]));
	sb->nsack = (uint8_t)n;
	return td_tcp_sack_bytes(s) > before;
}

bool td_tcp_sack_update(struct td_tcp_sock *s, const struct td_tcp_opts *o)
{
	if (!s->sack_ok || !s->sb || o->sack_count == 0)
		return false;
	bool news = false;
	for (unsigned i = 0; i < o->sack_count && i < TD_TCP_SACK_MAX; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;
		/* RFC 2018 §3 blocks must lie within what we sent; RFC 2883 D-SACKs
		 * (below SND.UNA) carry nothing for the scoreboard. */
		if (!SEQ_LT(l, r) || SEQ_GT(r, s->snd_max) || SEQ_LEQ(r, s->snd_una))
			continue;
		if (SEQ_LT(l, s->snd_una))
			l = s->snd_una;
		news |= sb_insert(s, l, r);
	}
	return news;
}

uint32_t td_tcp_sack_bytes(const struct td_tcp_sock *s)
{
	uint32_t n = 0;
	if (s->sb)
		for (unsigned i = 0; i < s->sb->nsack; i++)
			n += s->sb->sack[i].end - s->sb->sack[i].start;
	return n;
}

uint32_t td_tcp_sack_highest(const struct td_tcp_sock *s)
{
	if (!s->sb || s->sb->nsack == 0)
		return s->snd_una;
	return s->sb->sack[s->sb->nsack - 1].end;
}

bool td_tcp_sack_is_sacked(const struct td_tcp_sock *s, uint32_t seq, uint32_t *run_end)
{
	if (!s->sb)
		return false;
	for (unsigned i = 0; i < s->sb->nsack; i++) {
		const struct tcp_range *r = &s->sb->sack[i];
		if (SEQ_GEQ(seq, r->start) && SEQ_LT(seq, r->end)) {
			if (run_end)
				*run_end = r->end;
			return true;
		}
	}
	return false;
}

bool td_tcp_sack_next_hole(const struct td_tcp_sock *s, uint32_t from, uint32_t *start, uint32_t *end)
{
	if (!s->sb || s->sb->nsack == 0)
		return false;
	uint32_t seq = SEQ_MAX(from, s->snd_una);
	for (unsigned i = 0; i < s->sb->nsack; i++) {
		const struct tcp_range *r = &s->sb->sack[i];
		if (SEQ_LT(seq, r->start)) {
			*start = seq;
			*end = r->start;
			return true;
		}
		if (SEQ_LT(seq, r->end))
			seq = r->end;
	}
	return false;
}

/* RFC 6675 §4 SetPipe(): every unSACKed byte counts once unless it is
 * deemed lost (IsLost: more than (DupThresh-1)*SMSS bytes SACKed above it),
 * and once more if it was retransmitted (below HighRxt) in this recovery. */
uint32_t td_tcp_sack_pipe(const struct td_tcp_sock *s)
{
	uint32_t flight = s->snd_max - s->snd_una;
	if (!s->sb || s->sb->nsack == 0)
		return flight;
	uint32_t lost_thresh = (TCP_DUPTHRESH - 1) * (uint32_t)s->mss;
	uint32_t pipe = 0, seq = s->snd_una;
	uint32_t above = td_tcp_sack_bytes(s);
	for (unsigned i = 0; i <= s->sb->nsack; i++) {
		uint32_t hole_end = i < s->sb->nsack ? s->sb->sack[i].start : s->snd_max;
		if (SEQ_LT(seq, hole_end)) {
			uint32_t hole = hole_end - seq;
			bool lost = i < s->sb->nsack && above > lost_thresh;
			if (!lost)
				pipe += hole;
			if (s->in_recovery && SEQ_LT(seq, s->high_rxt)) {
				uint32_t re = SEQ_MIN(hole_end, s->high_rxt);
				pipe += re - seq;
			}
		}
		if (i < s->sb->nsack) {
			above -= s->sb->sack[i].end - s->sb->sack[i].start;
			seq = s->sb->sack[i].end;
		}
	}
	return pipe;
}
