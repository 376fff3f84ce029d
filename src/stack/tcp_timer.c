/* TCP timers: RTT estimation and RTO (RFC 6298), persist, delayed ACK, keepalive, TIME_WAIT. */
#include <stddef.h>

#include "stack/tcp_internal.h"

#define RTO_GRANULARITY_US 1000u /* G in RFC 6298 §2 */

static uint32_t clamp_rto(const struct td_tcp_sock *s, uint64_t ms)
{
	const struct td_tcp_config *cfg = &s->tcp->cfg;
	if (ms < cfg->rto_min_ms)
		ms = cfg->rto_min_ms;
	if (ms > cfg->rto_max_ms)
		ms = cfg->rto_max_ms;
	return (uint32_t)ms;
}

/* RFC 6298 §2.2 / §2.3, with RTO = SRTT + max(G, 4*RTTVAR) clamped to
 * [rto_min, rto_max] (§2.4, §2.5). */
void td_tcp_rtt_sample(struct td_tcp_sock *s, uint32_t r)
{
	if (r == 0)
		r = 1;
	if (s->srtt_us == 0) {
		s->srtt_us = r;
		s->rttvar_us = r / 2;
	} else {
		uint32_t delta = s->srtt_us > r ? s->srtt_us - r : r - s->srtt_us;
		s->rttvar_us = (3 * s->rttvar_us + delta) / 4; /* beta = 1/4 */
		s->srtt_us = (7 * s->srtt_us + r) / 8;         /* alpha = 1/8 */
	}
	uint32_t var4 = 4 * s->rttvar_us;
	uint64_t rto_us = (uint64_t)s->srtt_us + (var4 > RTO_GRANULARITY_US ? var4 : RTO_GRANULARITY_US);
	s->rto_ms = clamp_rto(s, (rto_us + 999) / 1000);
}

static uint64_t backed_off_ms(const struct td_tcp_sock *s)
{
	uint64_t ms = s->rto_ms;
	for (unsigned i = 0; i < s->backoff && ms < s->tcp->cfg.rto_max_ms; i++)
		ms *= 2; /* RFC 6298 §5.5 */
	return clamp_rto(s, ms);
}

/* RFC 6298 §5.1 / §5.3: (re)start the timer to expire after RTO, or the
 * earlier tail loss probe (RFC 8985 §7.2) when one is allowed. */
void td_tcp_timer_rearm_rtx(struct td_tcp_sock *s, uint64_t now)
{
	if (td_tcp_tlp_arm(s, now, true))
		return;
	td_tcp_timer_touch(s);
	s->rtx_kind = TT_RTX;
	s->rtx_at = now + backed_off_ms(s) * NS_PER_MS;
}

void td_tcp_timer_stop_rtx(struct td_tcp_sock *s)
{
	s->rtx_kind = TT_NONE;
	s->rtx_at = TD_NEVER;
}

/* RFC 9293 §3.8.6.1: probe a zero window, with exponential backoff. */
void td_tcp_timer_persist(struct td_tcp_sock *s, uint64_t now)
{
	td_tcp_timer_touch(s);
	s->rtx_kind = TT_PERSIST;
	s->rtx_at = now + backed_off_ms(s) * NS_PER_MS;
}

void td_tcp_timer_keepalive_reset(struct td_tcp_sock *s, uint64_t now)
{
	td_tcp_timer_touch(s);
	s->last_rx = now;
	s->ka_probes = 0;
	if (s->state == TD_TCP_TIME_WAIT || s->state == TD_TCP_FIN_WAIT_2)
		return; /* ka_at times those states */
	s->ka_at = s->keepalive ? now + (uint64_t)s->tcp->cfg.ka_idle_ms * NS_PER_MS : TD_NEVER;
}

/* RFC 9293 §3.10.7.4 eighth: TIME-WAIT for 2 MSL. Buffers for sending are
 * gone by now; unread received data stays until the application reads it. */
void td_tcp_enter_time_wait(struct td_tcp_sock *s, uint64_t now)
{
	s->state = TD_TCP_TIME_WAIT;
	td_tcp_timer_touch(s);
	td_tcp_timer_stop_rtx(s);
	s->rack_at = TD_NEVER;
	td_tcp_sbuf_free(s);
	s->ka_at = now + 2ull * s->tcp->cfg.msl_ms * NS_PER_MS;
}

uint64_t td_tcp_sock_deadline(const struct td_tcp_sock *s)
{
	uint64_t d = s->rtx_at;
	if (s->rack_at < d)
		d = s->rack_at;
	if (s->delack_at < d)
		d = s->delack_at;
	if (s->ka_at < d)
		d = s->ka_at;
	return d;
}

/* Zero-length segment with SEG.SEQ = SND.UNA - 1: the peer must answer with
 * an ACK carrying its current window (RFC 9293 §3.8.4 keepalive form, used by
 * Linux for window probes as well). */
static void send_probe(struct td_tcp_sock *s, uint64_t now)
{
	uint32_t saved = s->snd_nxt;
	s->snd_nxt = s->snd_una - 1;
	td_tcp_send_ack(s, now);
	s->snd_nxt = saved;
}

static void rtx_expired(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	const struct td_tcp_config *cfg = &tcp->cfg;
	td_tcp_timer_stop_rtx(s);
	if (s->state == TD_TCP_SYN_SENT || s->state == TD_TCP_SYN_RECEIVED) {
		if (s->syn_rtx >= cfg->syn_retries) {
			tcp->c.conn_timeouts++;
			td_tcp_conn_closed(s, -ETIMEDOUT);
			return;
		}
		s->syn_rtx++;
		s->backoff++;
		tcp->c.retransmits++;
		s->retransmits++;
		s->rtt_timing = 0;
		s->snd_nxt = s->iss;
		td_tcp_send_syn(s, now);
		return;
	}
	if (s->snd_una == s->snd_max)
		return; /* nothing outstanding */
	if (s->backoff >= cfg->retries) {
		/* RFC 9293 §3.8.3 R2: give up on the connection */
		tcp->c.conn_timeouts++;
		td_tcp_conn_closed(s, -ETIMEDOUT);
		return;
	}
	tcp->c.rto_expired++;
	if (!s->in_loss) {
		/* what an undo restores (RFC 3522 / RFC 3708) */
		s->prior_cwnd = s->in_recovery ? s->prior_cwnd : s->cwnd;
		s->prior_ssthresh = s->in_recovery ? s->prior_ssthresh : s->ssthresh;
		s->undo_marker = s->snd_una;
		s->undo_retrans = 0;
		s->undo_ok = !s->in_recovery || s->undo_ok;
	}
	bool first = s->backoff == 0;
	td_tcp_cc_on_rto(s, now); /* RFC 5681 §3.1 */
	s->backoff++;          /* RFC 6298 §5.5 */
	s->rtt_timing = 0;     /* Karn: retransmitted data gives no sample */
	s->tlp_out = 0;
	if (s->sack_ok && td_tcp_txrec_count(s)) {
		/* RFC 6675 §5.1 / RFC 8985 §6.3: every unSACKed segment is
		 * deemed lost and retransmitted as cwnd grows back from one
		 * segment; SACKed ones are skipped, losses among the
		 * retransmissions are found by RACK without another timeout. */
		td_tcp_txrec_mark_all_lost(s);
		s->in_recovery = 1;
		s->in_loss = 1;
		s->rack_at = TD_NEVER;
	} else {
		s->snd_nxt = s->snd_una; /* §5.4: retransmit the earliest unacknowledged segment */
	}
	td_tcp_timer_rearm_rtx(s, now); /* §5.6 */
	td_tcp_output(s, now);
	if (s->in_loss && first)
		s->loss_tsval = s->ts_sent; /* RFC 3522 §2: the retransmission's TSval */
}

static void persist_expired(struct td_tcp_sock *s, uint64_t now)
{
	td_tcp_timer_stop_rtx(s);
	if (td_tcp_sbuf_len(s) == 0) {
		td_tcp_output(s, now);
		return;
	}
	if (s->snd_wnd != 0) {
		/* RFC 9293 §3.8.6.2.1 (4), the override timeout: the window
		 * is open but smaller than sender SWS avoidance waits for, and
		 * nothing in flight will bring an update: send what fits. */
		uint32_t off = s->snd_nxt - s->snd_una, have = td_tcp_sbuf_len(s);
		uint32_t len = have > off ? have - off : 0;
		uint32_t room = s->snd_wnd > off ? s->snd_wnd - off : 0;
		if (len > room)
			len = room;
		if (len > td_tcp_data_mss(s))
			len = td_tcp_data_mss(s);
		if (len && s->snd_nxt == s->snd_max) {
			td_tcp_send_data_at(s, s->snd_nxt, len, now);
			s->snd_nxt += len;
			s->snd_max = s->snd_nxt;
			td_tcp_timer_rearm_rtx(s, now);
		}
		td_tcp_output(s, now);
		return;
	}
	/* Give up on a peer that answers no probe (RFC 9293 §3.8.6.1 lets a
	 * window stay closed indefinitely, but only while the peer is alive),
	 * and on an orphaned connection after as many probes answered or not:
	 * nobody will ever read what it still holds (zero-window exhaustion). */
	if (s->probes >= s->tcp->cfg.retries) {
		s->tcp->c.conn_timeouts++;
		td_tcp_conn_closed(s, -ETIMEDOUT);
		return;
	}
	s->probes++;
	s->tcp->c.persist_probes++;
	send_probe(s, now);
	if (s->backoff < 16)
		s->backoff++;
	td_tcp_timer_persist(s, now);
}

static void ka_expired(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	s->ka_at = TD_NEVER;
	if (s->state == TD_TCP_TIME_WAIT || s->state == TD_TCP_FIN_WAIT_2) {
		td_tcp_conn_closed(s, 0);
		return;
	}
	if (!s->keepalive || s->state < TD_TCP_ESTABLISHED)
		return;
	if (s->ka_probes >= tcp->cfg.ka_cnt) {
		tcp->c.conn_timeouts++;
		td_tcp_conn_closed(s, -ETIMEDOUT);
		return;
	}
	s->ka_probes++;
	tcp->c.keepalive_probes++;
	send_probe(s, now);
	s->ka_at = now + (uint64_t)tcp->cfg.ka_intvl_ms * NS_PER_MS;
}

static bool sock_live(const struct td_tcp_sock *s)
{
	return s->tcp != NULL && s->state != TD_TCP_CLOSED && s->state != TD_TCP_LISTEN;
}

/* One connection's wheel entry came due: run whichever of its timers expired. */
static void sock_expired(struct td_tw_entry *e, uint64_t now, void *ctx)
{
	struct td_tcp *tcp = ctx;
	struct td_tcp_sock *s = (struct td_tcp_sock *)((char *)e - offsetof(struct td_tcp_sock, tw));
	if (!sock_live(s))
		return;
	td_tcp_timer_touch(s); /* re-filed at its next deadline by td_tcp_leave */
	if (s->delack_at <= now) {
		s->delack_at = TD_NEVER;
		tcp->c.delayed_acks++;
		td_tcp_send_ack(s, now);
	}
	if (!sock_live(s))
		return;
	if (s->rack_at <= now)
		td_tcp_rack_timer(s, now);
	if (!sock_live(s))
		return;
	if (s->rtx_at <= now) {
		if (s->rtx_kind == TT_PERSIST)
			persist_expired(s, now);
		else if (s->rtx_kind == TT_TLP)
			td_tcp_tlp_fire(s, now);
		else
			rtx_expired(s, now);
	}
	if (sock_live(s) && s->ka_at <= now)
		ka_expired(s, now);
}

void td_tcp_timer_touch(struct td_tcp_sock *s)
{
	if (s->touched)
		return;
	s->touched = 1;
	s->tnext = s->tcp->touched;
	s->tcp->touched = s;
}

void td_tcp_timer_forget(struct td_tcp_sock *s)
{
	struct td_tcp *tcp = s->tcp;
	td_twheel_cancel(&tcp->wheel, &s->tw);
	if (s->touched) {
		struct td_tcp_sock **pp = &tcp->touched;
		while (*pp && *pp != s)
			pp = &(*pp)->tnext;
		if (*pp)
			*pp = s->tnext;
		s->touched = 0;
	}
}

void td_tcp_timer_sync_touched(struct td_tcp *tcp)
{
	while (tcp->touched) {
		struct td_tcp_sock *s = tcp->touched;
		tcp->touched = s->tnext;
		s->touched = 0;
		uint64_t d = sock_live(s) ? td_tcp_sock_deadline(s) : TD_NEVER;
		if (d == TD_NEVER)
			td_twheel_cancel(&tcp->wheel, &s->tw);
		else if (!td_twheel_armed(&s->tw) || s->tw.at != d)
			td_twheel_arm(&tcp->wheel, &s->tw, d);
	}
}

/* The wheel hands over only connections whose earliest deadline passed:
 * the cost of a poll does not grow with the number of connections. */
void td_tcp_poll(struct td_tcp *tcp, uint64_t now)
{
	td_tcp_enter(tcp, now);
	td_twheel_advance(&tcp->wheel, now, sock_expired, tcp);
	td_tcp_leave(tcp);
}

uint64_t td_tcp_next_deadline(const struct td_tcp *tcp)
{
	return td_twheel_next(&tcp->wheel);
}
