/* TCP send buffer and the sender's per-transmission records: SACK scoreboard (RFC 2018, RFC 6675 §3-§4) and RACK state (RFC 8985 §5.2). */
#include <stdlib.h>
#include <string.h>

#include "stack/tcp_internal.h"

/* The send buffer holds every byte from SND.UNA on, sent or not, in a ring
 * allocated on the first send() and freed once everything was acknowledged.
 * The transmission records share its allocation: one per segment sent,
 * at most rcap of them (a segment's worth of 256 bytes of buffer; tiny
 * segments beyond that are merged into the last record, which then spans
 * several segments and is retransmitted as several). */

static uint32_t rec_cap(uint32_t sndbuf)
{
	return sndbuf / 256 + 16;
}

static size_t rec_off(uint32_t sndbuf)
{
	return (sizeof(struct tcp_sbuf) + sndbuf + 7) & ~(size_t)7;
}

static struct tcp_sbuf *sbuf_get(struct td_tcp_sock *s)
{
	if (s->sb)
		return s->sb;
	uint32_t rcap = rec_cap(s->sndbuf);
	size_t total = rec_off(s->sndbuf) + (size_t)rcap * sizeof(struct tcp_txrec);
	if (!td_tcp_mem_charge(s->tcp, (uint32_t)total))
		return NULL;
	struct tcp_sbuf *sb = td_tcp_buf_alloc(s->tcp, total);
	if (!sb) {
		td_tcp_mem_uncharge(s->tcp, (uint32_t)total);
		return NULL;
	}
	sb->cap = s->sndbuf;
	sb->head = sb->len = 0;
	sb->charged = (uint32_t)total;
	sb->rec = (struct tcp_txrec *)(void *)((uint8_t *)sb + rec_off(s->sndbuf));
	sb->rcap = rcap;
	sb->rhead = sb->nrec = 0;
	sb->sacked = sb->lost = 0;
	s->sb = sb;
	return sb;
}

void td_tcp_sbuf_free(struct td_tcp_sock *s)
{
	if (!s->sb)
		return;
	td_tcp_mem_uncharge(s->tcp, s->sb->charged);
	td_tcp_buf_release(s->tcp, s->sb, s->sb->charged);
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

static struct tcp_txrec *rec_at(const struct tcp_sbuf *sb, uint32_t i)
{
	return &sb->rec[(sb->rhead + i) % sb->rcap];
}

static uint32_t rec_start(const struct td_tcp_sock *s, uint32_t i)
{
	return i == 0 ? s->snd_una : rec_at(s->sb, i - 1)->end;
}

/* Bytes of record i counted in the SACKED / LOST totals change by -n. */
static void rec_uncount(struct tcp_sbuf *sb, const struct tcp_txrec *r, uint32_t n)
{
	if (r->flags & TXR_SACKED)
		sb->sacked -= n;
	if (r->flags & TXR_LOST)
		sb->lost -= n;
}

#ifdef TD_FUZZING
/* The fuzzing build checks the records after every change: ends strictly
 * increasing within the buffer, the totals equal to their flags. */
static void rec_verify(const struct td_tcp_sock *s)
{
	const struct tcp_sbuf *sb = s->sb;
	if (!sb)
		return;
	uint32_t sacked = 0, lost = 0, prev = s->snd_una;
	if (sb->nrec > sb->rcap)
		abort();
	for (uint32_t i = 0; i < sb->nrec; i++) {
		const struct tcp_txrec *r = rec_at(sb, i);
		if (!SEQ_GT(r->end, prev) || SEQ_GT(r->end, s->snd_una + sb->len))
			abort();
		if ((r->flags & TXR_SACKED) && (r->flags & TXR_LOST))
			abort();
		if (r->flags & TXR_SACKED)
			sacked += r->end - prev;
		if (r->flags & TXR_LOST)
			lost += r->end - prev;
		prev = r->end;
	}
	if (sacked != sb->sacked || lost != sb->lost)
		abort();
}
#else
static void rec_verify(const struct td_tcp_sock *s)
{
	(void)s;
}
#endif

/* SND.UNA moved by n data bytes (already updated in s). */
void td_tcp_sbuf_ack(struct td_tcp_sock *s, uint32_t n)
{
	struct tcp_sbuf *sb = s->sb;
	if (!sb)
		return;
	if (n > sb->len)
		n = sb->len;
	sb->head = (sb->head + n) % sb->cap;
	sb->len -= n;
	/* Records now below SND.UNA go (RFC 6675 §5 (A)); a record cut by the
	 * ACK keeps its tail, which now starts at SND.UNA. */
	uint32_t start = s->snd_una - n;
	while (sb->nrec) {
		struct tcp_txrec *r = rec_at(sb, 0);
		if (SEQ_LEQ(r->end, s->snd_una)) {
			rec_uncount(sb, r, r->end - start);
			start = r->end;
			sb->rhead = (sb->rhead + 1) % sb->rcap;
			sb->nrec--;
			continue;
		}
		if (SEQ_LT(start, s->snd_una))
			rec_uncount(sb, r, s->snd_una - start);
		break;
	}
	rec_verify(s);
	if (sb->len == 0)
		td_tcp_sbuf_free(s);
}

/* Index of the first record ending after seq (nrec when none). */
static uint32_t rec_find(const struct td_tcp_sock *s, uint32_t seq)
{
	const struct tcp_sbuf *sb = s->sb;
	uint32_t lo = 0, hi = sb->nrec;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (SEQ_LEQ(rec_at(sb, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void td_tcp_txrec_sent(struct td_tcp_sock *s, uint32_t seq, uint32_t len, uint64_t now)
{
	struct tcp_sbuf *sb = s->sb;
	if (!sb || len == 0)
		return;
	uint32_t end = seq + len;
	uint32_t rec_end = sb->nrec ? rec_at(sb, sb->nrec - 1)->end : s->snd_una;
	/* bytes sent before: a retransmission of every record it touches (new
	 * data, the common case, skips the search) */
	for (uint32_t i = SEQ_LT(seq, rec_end) ? rec_find(s, seq) : sb->nrec; i < sb->nrec; i++) {
		struct tcp_txrec *r = rec_at(sb, i);
		if (!SEQ_LT(rec_start(s, i), end))
			break;
		if (r->flags & TXR_LOST) {
			sb->lost -= r->end - rec_start(s, i);
			r->flags &= (uint8_t)~TXR_LOST;
		}
		r->flags |= TXR_RETRANS;
		r->xmit = now;
	}
	if (!SEQ_GT(end, rec_end))
		return;
	/* new bytes: a new record, or the last one grows when the ring is full */
	if (sb->nrec > 0 && sb->nrec >= sb->rcap) {
		struct tcp_txrec *last = rec_at(sb, sb->nrec - 1);
		if (last->flags & TXR_SACKED)
			sb->sacked -= last->end - rec_start(s, sb->nrec - 1);
		if (last->flags & TXR_LOST)
			sb->lost -= last->end - rec_start(s, sb->nrec - 1);
		last->flags = 0;
		last->end = end;
		last->xmit = now;
		rec_verify(s);
		return;
	}
	struct tcp_txrec *r = rec_at(sb, sb->nrec++);
	r->end = end;
	r->xmit = now;
	r->flags = 0;
	rec_verify(s);
}

void td_tcp_txrec_cumack(struct td_tcp_sock *s, uint32_t ack, uint64_t now)
{
	struct tcp_sbuf *sb = s->sb;
	if (!sb)
		return;
	for (uint32_t i = 0; i < sb->nrec; i++) {
		struct tcp_txrec *r = rec_at(sb, i);
		if (SEQ_GT(r->end, ack))
			break;
		if (!(r->flags & TXR_SACKED))
			td_tcp_rack_delivered(s, r, now);
	}
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

bool td_tcp_sack_update(struct td_tcp_sock *s, const struct td_tcp_opts *o, uint32_t ack,
			uint64_t now, bool *dsack, uint32_t *dsack_rtx)
{
	*dsack = false;
	*dsack_rtx = 0;
	if (!s->sack_ok || o->sack_count == 0)
		return false;
	struct tcp_sbuf *sb = s->sb;
	bool news = false;
	for (unsigned i = 0; i < o->sack_count && i < TD_TCP_SACK_MAX; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;
		if (!SEQ_LT(l, r) || SEQ_GT(r, s->snd_max))
			continue;
		/* RFC 2883 §4: the first block reports a duplicate when it lies
		 * below the cumulative ACK or inside the second block. */
		if (i == 0 && (SEQ_LEQ(r, ack) ||
			       (o->sack_count > 1 && SEQ_GEQ(l, o->sack[1].left) &&
				SEQ_LEQ(r, o->sack[1].right)))) {
			*dsack = true;
			/* segments it covers, as Linux's tcp_dsack_seen counts them */
			uint32_t dmss = td_tcp_data_mss(s);
			uint32_t segs = dmss ? (r - l + dmss - 1) / dmss : 1;
			if (sb && SEQ_GT(r, s->snd_una)) {
				uint32_t k = rec_find(s, l);
				if (k < sb->nrec && (rec_at(sb, k)->flags & TXR_RETRANS))
					*dsack_rtx = segs;
			} else if (s->undo_retrans && SEQ_GEQ(l, s->undo_marker)) {
				/* below SND.UNA the records are gone: count it when it
				 * lies in what this recovery retransmitted (Linux's rule) */
				*dsack_rtx = segs;
			}
			continue;
		}
		if (!sb || SEQ_LEQ(r, s->snd_una))
			continue;
		if (SEQ_LT(l, s->snd_una))
			l = s->snd_una;
		/* RFC 6675 §3: mark every record the block covers entirely */
		for (uint32_t k = rec_find(s, l); k < sb->nrec; k++) {
			struct tcp_txrec *t = rec_at(sb, k);
			uint32_t st = rec_start(s, k);
			if (SEQ_GT(t->end, r))
				break;
			if (SEQ_LT(st, l) || (t->flags & TXR_SACKED))
				continue;
			uint32_t n = t->end - st;
			if (t->flags & TXR_LOST) {
				sb->lost -= n;
				t->flags &= (uint8_t)~TXR_LOST;
			}
			t->flags |= TXR_SACKED;
			sb->sacked += n;
			news = true;
			td_tcp_rack_delivered(s, t, now);
		}
	}
	rec_verify(s);
	return news;
}

uint32_t td_tcp_sack_bytes(const struct td_tcp_sock *s)
{
	return s->sb ? s->sb->sacked : 0;
}

uint32_t td_tcp_lost_bytes(const struct td_tcp_sock *s)
{
	return s->sb ? s->sb->lost : 0;
}

bool td_tcp_sack_is_sacked(const struct td_tcp_sock *s, uint32_t seq, uint32_t *run_end)
{
	const struct tcp_sbuf *sb = s->sb;
	if (!sb || sb->sacked == 0)
		return false;
	uint32_t k = rec_find(s, seq);
	if (k >= sb->nrec || !(rec_at(sb, k)->flags & TXR_SACKED) || SEQ_LT(seq, rec_start(s, k)))
		return false;
	while (k + 1 < sb->nrec && (rec_at(sb, k + 1)->flags & TXR_SACKED))
		k++;
	if (run_end)
		*run_end = rec_at(sb, k)->end;
	return true;
}

uint32_t td_tcp_sack_pipe(const struct td_tcp_sock *s)
{
	uint32_t flight = s->snd_max - s->snd_una;
	if (!s->sb)
		return flight;
	uint32_t out = s->sb->sacked + s->sb->lost;
	return flight > out ? flight - out : 0;
}

void td_tcp_txrec_mark_all_lost(struct td_tcp_sock *s)
{
	struct tcp_sbuf *sb = s->sb;
	if (!sb)
		return;
	for (uint32_t i = 0; i < sb->nrec; i++) {
		struct tcp_txrec *r = rec_at(sb, i);
		if (r->flags & (TXR_SACKED | TXR_LOST))
			continue;
		r->flags |= TXR_LOST;
		sb->lost += r->end - rec_start(s, i);
	}
	rec_verify(s);
}

uint32_t td_tcp_txrec_lost_run(const struct td_tcp_sock *s, uint32_t gso_size, uint32_t max,
			       uint32_t room, uint32_t *start, uint32_t *end)
{
	const struct tcp_sbuf *sb = s->sb;
	if (!sb || sb->lost == 0)
		return 0;
	uint32_t i = 0;
	while (i < sb->nrec && !(rec_at(sb, i)->flags & TXR_LOST))
		i++;
	if (i == sb->nrec)
		return 0;
	*start = rec_start(s, i);
	*end = rec_at(sb, i)->end;
	uint32_t n = 1;
	/* records are contiguous: each starts where the one before ends */
	for (i++; i < sb->nrec; i++, n++) {
		const struct tcp_txrec *r = rec_at(sb, i);
		uint32_t len = r->end - *end;
		if (!(r->flags & TXR_LOST) || *end - *start != n * gso_size || len > gso_size ||
		    r->end - *start > max || *end - *start >= room)
			break;
		*end = r->end;
	}
	return n;
}

/* RACK's loss scan (tcp_rack.c) walks the records through these. */
uint32_t td_tcp_txrec_count(const struct td_tcp_sock *s)
{
	return s->sb ? s->sb->nrec : 0;
}

struct tcp_txrec *td_tcp_txrec_at(struct td_tcp_sock *s, uint32_t i, uint32_t *start)
{
	*start = rec_start(s, i);
	return rec_at(s->sb, i);
}

void td_tcp_txrec_set_lost(struct td_tcp_sock *s, struct tcp_txrec *r, uint32_t start)
{
	r->flags |= TXR_LOST;
	s->sb->lost += r->end - start;
	rec_verify(s);
}

void td_tcp_txrec_unmark_lost(struct td_tcp_sock *s)
{
	struct tcp_sbuf *sb = s->sb;
	if (!sb)
		return;
	for (uint32_t i = 0; i < sb->nrec; i++)
		rec_at(sb, i)->flags &= (uint8_t)~TXR_LOST;
	sb->lost = 0;
}
