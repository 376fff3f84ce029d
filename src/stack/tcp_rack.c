/* TCP loss detection for SACK connections: RACK-TLP (RFC 8985) and undo of spurious reductions (RFC 3708, RFC 3522). */
#include "stack/tcp_internal.h"

/*
 * RACK marks a segment lost when a segment sent after it was delivered
 * (cumulatively or by SACK) and more than RACK.rtt + reo_wnd has passed
 * since the lost one was sent: time, not a count of duplicate ACKs, so a
 * reordered segment is not retransmitted as long as it is less late than
 * the reordering window, and a lost retransmission is detected like any
 * other loss instead of waiting for the RTO. The per-segment send times
 * live in the send buffer's records (tcp_sack.c). TLP (§7) sends one probe
 * about two RTTs after the last transmission when the ACK clock stopped,
 * so that a tail loss is repaired by RACK rather than by an RTO.
 *
 * Spurious reductions are undone: a D-SACK (RFC 2883) for every segment a
 * recovery retransmitted shows it was reordering, not loss (RFC 3708 §3,
 * as Linux's undo_retrans); a timestamp echo older than the first RTO
 * retransmission shows that timeout was spurious (Eifel, RFC 3522 §3.2,
 * response as RFC 4015 §2: restore cwnd and ssthresh, send new data).
 */

#define TLP_WCDELACK_NS (200ull * NS_PER_MS) /* §7.2 WCDelAckT */
#define TLP_MIN_EXTRA_NS (2ull * NS_PER_MS)  /* Linux's TCP_TIMEOUT_MIN beyond 2*SRTT */
#define REO_PERSIST 16                       /* §6.2 step 4: recoveries before reo_wnd_mult resets */

/* §6.2: RACK_sent_after(t1, seq1, t2, seq2) */
static bool sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && SEQ_GT(seq1, seq2));
}

void td_tcp_rack_delivered(struct td_tcp_sock *s, const struct tcp_txrec *r, uint64_t now)
{
	uint64_t rtt_ns = now > r->xmit ? now - r->xmit : 0;
	/* Step 2: an ACK of a retransmitted segment may be for the original;
	 * one sooner than min_RTT after the retransmission surely is. */
	if ((r->flags & TXR_RETRANS) && rtt_ns < (uint64_t)s->min_rtt_us * NS_PER_US)
		return;
	uint32_t rtt_us = (uint32_t)(rtt_ns / NS_PER_US);
	if (!(r->flags & TXR_RETRANS) && (s->min_rtt_us == 0 || rtt_us < s->min_rtt_us))
		s->min_rtt_us = rtt_us ? rtt_us : 1; /* 0 means none yet */
	if (sent_after(r->xmit, r->end, s->rack_xmit, s->rack_end)) {
		s->rack_rtt_us = rtt_us;
		s->rack_xmit = r->xmit;
		s->rack_end = r->end;
	}
	/* Step 3: an original delivered below the highest delivered sequence
	 * was reordered. */
	if (SEQ_LT(s->rack_fack, s->snd_una) || SEQ_GT(s->rack_fack, s->snd_max))
		s->rack_fack = s->snd_una;
	if (SEQ_LT(r->end, s->rack_fack)) {
		if (!(r->flags & TXR_RETRANS))
			s->rack_reord = 1;
	} else {
		s->rack_fack = r->end;
	}
}

uint32_t td_tcp_rack_reo_wnd(const struct td_tcp_sock *s)
{
	/* Step 4: without reordering seen, DupThresh's behaviour: no window
	 * during recovery or once DupThresh segments are SACKed. */
	if (!s->rack_reord) {
		if (s->in_recovery)
			return 0;
		if (td_tcp_sack_bytes(s) > (TCP_DUPTHRESH - 1) * (uint32_t)s->mss)
			return 0;
	}
	uint64_t w = (uint64_t)(s->min_rtt_us / 4) * (s->reo_mult ? s->reo_mult : 1);
	if (s->srtt_us && w > s->srtt_us)
		w = s->srtt_us;
	return (uint32_t)w;
}

bool td_tcp_rack_detect_loss(struct td_tcp_sock *s, uint64_t now)
{
	td_tcp_timer_touch(s);
	s->rack_at = TD_NEVER;
	uint32_t n = td_tcp_txrec_count(s);
	if (n == 0 || s->rack_xmit == 0)
		return false;
	uint64_t wait = (uint64_t)s->rack_rtt_us * NS_PER_US +
			(uint64_t)td_tcp_rack_reo_wnd(s) * NS_PER_US;
	uint64_t timeout = 0;
	bool marked = false;
	/* Step 5 */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t start;
		struct tcp_txrec *r = td_tcp_txrec_at(s, i, &start);
		if (r->flags & (TXR_SACKED | TXR_LOST))
			continue;
		if (!sent_after(s->rack_xmit, s->rack_end, r->xmit, r->end)) {
			/* an original sent after RACK.xmit_ts: so was every
			 * later original, and every later retransmission */
			if (!(r->flags & TXR_RETRANS))
				break;
			continue;
		}
		uint64_t due = r->xmit + wait;
		if (due <= now) {
			td_tcp_txrec_set_lost(s, r, start);
			s->tcp->c.rack_lost++;
			marked = true;
		} else if (due - now > timeout) {
			timeout = due - now;
		}
	}
	if (timeout)
		s->rack_at = now + timeout; /* §6.3 reordering timer */
	return marked;
}

/* One reduction per recovery (RFC 6675 §5 step (4), RFC 5681 §3.2), with
 * the state undo needs. */
static void enter_recovery(struct td_tcp_sock *s, uint64_t now)
{
	s->prior_cwnd = s->cwnd;
	s->prior_ssthresh = s->ssthresh;
	s->undo_marker = s->snd_una;
	s->undo_retrans = 0;
	s->undo_ok = 1;
	td_tcp_cc_enter_recovery(s, now);
	s->tcp->c.fast_retransmits++;
	s->rtt_timing = 0; /* Karn */
}

void td_tcp_rack_on_ack(struct td_tcp_sock *s, uint64_t now)
{
	if (!s->sack_ok)
		return;
	if (td_tcp_txrec_count(s) && (td_tcp_sack_bytes(s) || s->in_recovery || s->rack_at != TD_NEVER)) {
		if (td_tcp_rack_detect_loss(s, now) && !s->in_recovery)
			enter_recovery(s, now);
	} else if (s->rack_at != TD_NEVER) {
		td_tcp_timer_touch(s);
		s->rack_at = TD_NEVER;
	}
	/* a probe armed before SACKs or a recovery began gives way to the RTO */
	if (s->rtx_kind == TT_TLP && (td_tcp_sack_bytes(s) || s->in_recovery))
		td_tcp_timer_rearm_rtx(s, now);
}

void td_tcp_rack_timer(struct td_tcp_sock *s, uint64_t now)
{
	s->rack_at = TD_NEVER;
	if (td_tcp_rack_detect_loss(s, now)) {
		if (!s->in_recovery)
			enter_recovery(s, now);
		td_tcp_output(s, now);
	}
}

/* Back to the window before the reduction. A fast recovery in progress
 * ends here: its exit would set cwnd to ssthresh, now the restored (maybe
 * still initial, "arbitrarily high") one. */
static void undo(struct td_tcp_sock *s)
{
	if (s->prior_ssthresh > s->ssthresh)
		s->ssthresh = s->prior_ssthresh;
	if (s->prior_cwnd > s->cwnd)
		s->cwnd = s->prior_cwnd;
	s->undo_ok = 0;
	s->ccs.epoch_start = 0;
	if (s->in_recovery && !s->in_loss) {
		s->in_recovery = 0;
		s->dupacks = 0;
		td_tcp_rack_recovery_done(s);
		td_tcp_txrec_unmark_lost(s); /* RACK marks again what is really lost */
	}
}

void td_tcp_rack_on_dsack(struct td_tcp_sock *s, uint32_t rtx_segs)
{
	struct td_tcp *tcp = s->tcp;
	tcp->c.rx_dsack++;
	/* RFC 8985 §6.2 step 4: widen the reordering window once per round
	 * trip in which D-SACKs arrive, for the next 16 recoveries */
	if (s->dsack_round_on && SEQ_GEQ(s->snd_una, s->dsack_round))
		s->dsack_round_on = 0;
	if (!s->dsack_round_on) {
		s->dsack_round_on = 1;
		s->dsack_round = s->snd_max;
		if (s->reo_mult < 255)
			s->reo_mult = (uint8_t)((s->reo_mult ? s->reo_mult : 1) + 1);
		s->reo_persist = REO_PERSIST;
	}
	/* RFC 3708 §3: every retransmission of the episode came back as a
	 * duplicate: nothing was lost, undo the reduction */
	if (rtx_segs && s->undo_retrans) {
		s->undo_retrans = rtx_segs < s->undo_retrans ? s->undo_retrans - rtx_segs : 0;
		if (s->undo_retrans == 0 && s->undo_ok) {
			undo(s);
			tcp->c.undo_dsack++;
		}
	}
}

/* Recovery ended (SND.UNA reached the recovery point). */
void td_tcp_rack_recovery_done(struct td_tcp_sock *s)
{
	if (s->reo_persist && --s->reo_persist == 0)
		s->reo_mult = 1;
}

/* RFC 3522 §3.2: the first ACK after an RTO echoes a TSval older than the
 * retransmission: the original arrived, the timeout was spurious. RFC 4015
 * §2 response: restore cwnd and ssthresh and go on with new data. */
bool td_tcp_rack_spurious_rto(struct td_tcp_sock *s, const struct td_tcp_repr *seg)
{
	if (!s->in_loss || !s->loss_tsval)
		return false;
	uint32_t first = s->loss_tsval;
	s->loss_tsval = 0; /* only the first ACK after the timeout tells */
	if (!s->ts_ok || !seg->opt.has_ts || !s->undo_ok || !SEQ_LT(seg->opt.tsecr, first))
		return false;
	undo(s);
	s->in_loss = 0;
	s->in_recovery = 0;
	s->loss_tsval = 0;
	td_tcp_txrec_unmark_lost(s);
	s->tcp->c.undo_rto++;
	return true;
}

/* §7.2: a probe timeout replaces the RTO while there is data in flight,
 * no recovery, no probe outstanding, and an RTT estimate. */
bool td_tcp_tlp_arm(struct td_tcp_sock *s, uint64_t now, bool restart_rto)
{
	/* only in the "open" state: with SACKed data outstanding the ACK
	 * clock runs and RACK's timer covers the tail (Linux: CA_Open only) */
	if (!s->sack_ok || s->tlp_out || s->in_recovery || s->srtt_us == 0 ||
	    s->snd_una == s->snd_max || s->state != TD_TCP_ESTABLISHED || td_tcp_sack_bytes(s))
		return false;
	uint64_t pto = 2ull * s->srtt_us * NS_PER_US;
	uint32_t flight = s->snd_max - s->snd_una;
	pto += flight <= td_tcp_data_mss(s) ? TLP_WCDELACK_NS : TLP_MIN_EXTRA_NS;
	/* the RTO when it would come first (a running one, or one restarted now) */
	uint64_t rto_at = restart_rto || s->rtx_kind != TT_RTX ? now + (uint64_t)s->rto_ms * NS_PER_MS
							      : s->rtx_at;
	if (now + pto >= rto_at)
		return false;
	td_tcp_timer_touch(s);
	s->rtx_kind = TT_TLP;
	s->rtx_at = now + pto;
	return true;
}

/* §7.3: send one new segment if the windows allow, else retransmit the
 * last one; then the RTO takes over. */
void td_tcp_tlp_fire(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	td_tcp_timer_stop_rtx(s);
	if (s->snd_una == s->snd_max)
		return;
	uint32_t dmss = td_tcp_data_mss(s);
	uint32_t have = td_tcp_sbuf_len(s);
	uint32_t off = s->snd_max - s->snd_una;
	uint32_t wnd_end = s->snd_una + s->snd_wnd;
	uint32_t n = td_tcp_txrec_count(s);
	bool fresh = off < have && SEQ_LT(s->snd_max, wnd_end);
	if (!fresh && n == 0) {
		td_tcp_timer_rearm_rtx(s, now); /* nothing to probe with: the RTO */
		return;
	}
	s->tlp_out = 1;
	tcp->c.tlp_probes++;
	if (fresh) {
		uint32_t len = have - off;
		if (len > dmss)
			len = dmss;
		if (len > wnd_end - s->snd_max)
			len = wnd_end - s->snd_max;
		s->snd_nxt = s->snd_max;
		td_tcp_send_data_at(s, s->snd_nxt, len, now);
		s->snd_nxt += len;
		s->snd_max = s->snd_nxt;
		s->tlp_rtx = 0;
	} else {
		uint32_t start;
		struct tcp_txrec *r = td_tcp_txrec_at(s, n - 1, &start);
		uint32_t from = r->end - start > dmss ? r->end - dmss : start;
		td_tcp_send_data_at(s, from, r->end - from, now);
		s->retransmits++;
		tcp->c.retransmits++;
		s->tlp_rtx = 1;
	}
	s->tlp_end = s->snd_max;
	td_tcp_timer_rearm_rtx(s, now);
}

/* §7.4: the probe is acknowledged. A retransmitted probe that came back
 * without a D-SACK repaired a real loss: respond as to one. */
void td_tcp_tlp_acked(struct td_tcp_sock *s, bool dsack, uint64_t now)
{
	if (!s->tlp_out)
		return;
	if (dsack) {
		s->tlp_out = 0;
		return;
	}
	if (SEQ_LT(s->snd_una, s->tlp_end))
		return;
	s->tlp_out = 0;
	if (s->tlp_rtx && !s->in_recovery) {
		s->prior_cwnd = s->cwnd;
		s->prior_ssthresh = s->ssthresh;
		s->undo_ok = 0;
		s->ssthresh = s->cc->ssthresh(s, now);
		s->cwnd = s->ssthresh;
		s->tcp->c.tlp_recoveries++;
	}
}
