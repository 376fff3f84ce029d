/* TCP input: RFC 9293 §3.10.7 "SEGMENT ARRIVES" event processing for every state. */
#include <string.h>

#include "stack/tcp_internal.h"

/*
 * Theory of operation.
 *
 * td_tcp_input() receives a segment the IP layer already checked and parsed
 * (checksum, data offset, options), with the address pair seen from this
 * host. It finds the connection by exact 4-tuple (keyed hash table); failing
 * that, a listener by local address and port; failing that, the segment is
 * for a CLOSED port and is answered with an RST (§3.10.7.1).
 *
 * A listener (§3.10.7.2) never changes state: a SYN creates a child control
 * block in SYN-RECEIVED on the listener's SYN queue, or, when that queue is
 * full, a stateless SYN cookie (RFC 4987) answers instead. The ACK completing
 * a handshake moves the child onto the accept queue, or rebuilds the child
 * from the cookie. A full accept queue drops the SYN (the peer retries), as
 * Linux does.
 *
 * SYN-SENT has its own step list (§3.10.7.3). Every other state runs the
 * steps of §3.10.7.4 in the RFC's order:
 *   first   PAWS (RFC 7323 §5.3), then the acceptability test against
 *           RCV.NXT/RCV.WND; the segment is trimmed to the window;
 *   second  RST, accepted only at exactly RCV.NXT, else a challenge ACK
 *           (RFC 5961 §3.2);
 *   fourth  SYN in a synchronized state: a challenge ACK (RFC 5961 §4.2);
 *   fifth   ACK: validity (RFC 5961 §5.2), SND.UNA advance, RTT sample
 *           (RFC 6298 / RFC 7323 §4), SACK scoreboard, congestion control
 *           and loss recovery (RFC 5681, 6582, 6675), window update
 *           (SND.WL1/WL2), FIN-acked transitions;
 *   sixth   URG: the urgent pointer is parsed and ignored; urgent bytes are
 *           delivered inline, in order (RFC 9293 §3.8.5 permits this,
 *           RFC 6093 recommends applications not rely on it);
 *   seventh text into the reassembly ring (tcp_reass.c), ACK scheduling
 *           (delayed ACK, immediate for out-of-order data: RFC 5681 §4.2);
 *   eighth  FIN, only once every byte before it arrived.
 * Then td_tcp_output() sends whatever the new state allows, including the ACK.
 *
 * Application events are only recorded here (td_tcp_notify) and delivered when
 * the outermost entry point returns, so no callback runs mid-segment.
 */

#define TS_RECENT_MAX_AGE_NS (24ull * 24 * 3600 * 1000000000ull) /* RFC 7323 §5.5 */

static uint32_t seg_len(const struct td_tcp_repr *seg)
{
	return (uint32_t)seg->payload.len + !!(seg->flags & TD_TCP_SYN) + !!(seg->flags & TD_TCP_FIN);
}

/* Options of a SYN / SYN-ACK: RFC 9293 §3.7.1 (MSS), RFC 7323 §1.3 (WS
 * and TS only when both sides sent them), RFC 2018 §2 (SACK-permitted). */
static void negotiate(struct td_tcp_sock *s, const struct td_tcp_repr *seg, uint64_t now)
{
	const struct td_tcp_config *cfg = &s->tcp->cfg;
	uint16_t def = s->tu.family == 6 ? 1220 : 536;
	uint16_t peer = seg->opt.has_mss ? seg->opt.mss : def;
	if (peer < TCP_MSS_MIN)
		peer = TCP_MSS_MIN;
	s->mss = peer < s->our_mss ? peer : s->our_mss;
	s->ws_ok = cfg->wscale && seg->opt.has_wscale;
	if (s->ws_ok) {
		s->snd_wscale = seg->opt.wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : seg->opt.wscale;
	} else {
		s->snd_wscale = 0;
		s->rcv_wscale = 0;
	}
	s->sack_ok = cfg->sack && seg->opt.sack_perm;
	s->ts_ok = cfg->timestamps && seg->opt.has_ts;
	if (s->ts_ok) {
		s->ts_recent = seg->opt.tsval;
		s->ts_recent_at = now;
	}
}

static void set_established(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	s->state = TD_TCP_ESTABLISHED;
	s->synced = 1;
	s->backoff = 0;
	/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)); RFC 5681 §3.1: one
	 * segment when the SYN or SYN-ACK had to be retransmitted. */
	uint32_t mss = td_tcp_data_mss(s);
	uint32_t iw = 2 * mss > 14600 ? 2 * mss : 14600;
	if (iw > TCP_IW_SEGS * mss)
		iw = TCP_IW_SEGS * mss;
	s->cwnd = s->syn_rtx ? mss : iw;
	s->syn_rtx = 0;
	s->cc->init(s);
	tcp->c.established++;
	td_tcp_timer_keepalive_reset(s, now);
	if (s->snd_una == s->snd_max)
		td_tcp_timer_stop_rtx(s);
	if (s->passive) {
		td_tcp_child_established(s);
	} else {
		td_tcp_notify(s, TD_TCP_EV_CONNECTED | TD_TCP_EV_WRITABLE);
	}
}

/* ---- LISTEN (§3.10.7.2) ------------------------------------------------------ */

static struct td_tcp_sock *new_child(struct td_tcp_sock *lst, const struct td_tcp_tuple *t,
				     uint64_t now)
{
	struct td_tcp_sock *c = td_tcp_sock_alloc(lst->tcp);
	if (!c)
		return NULL;
	c->tu = *t;
	c->passive = 1;
	c->parent = lst;
	c->rcvbuf = lst->rcvbuf;
	c->sndbuf = lst->sndbuf;
	c->nodelay = lst->nodelay;
	c->keepalive = lst->keepalive;
	c->linger0 = lst->linger0;
	c->cc = lst->cc;
	td_tcp_sock_init_conn(c, now);
	return c;
}

/* RFC 4987 §3.6: the ACK of a cookie SYN-ACK rebuilds the connection. */
static struct td_tcp_sock *cookie_ack(struct td_tcp_sock *lst, const struct td_tcp_tuple *t,
				      const struct td_tcp_repr *seg, uint64_t now)
{
	struct td_tcp *tcp = lst->tcp;
	uint16_t mss = td_tcp_cookie_check(tcp, t, seg->seq - 1, seg->ack - 1, now);
	if (!mss) {
		tcp->c.rx_cookie_bad++;
		return NULL;
	}
	if (lst->nacc >= lst->backlog) {
		tcp->c.rx_listen_overflow++;
		return NULL;
	}
	struct td_tcp_sock *c = new_child(lst, t, now);
	if (!c) {
		tcp->c.rx_pool_empty++;
		return NULL;
	}
	tcp->c.rx_cookies_ok++;
	c->iss = seg->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = seg->ack;
	c->irs = seg->seq - 1;
	c->rcv_nxt = seg->seq;
	c->mss = mss < c->our_mss ? mss : c->our_mss;
	if (tcp->cfg.timestamps && seg->opt.has_ts && seg->opt.tsecr) {
		/* window scale and SACK-permitted came back in TSecr (tcp_output.c) */
		uint32_t ws = seg->opt.tsecr & 0xfu;
		c->ts_ok = 1;
		c->ts_recent = seg->opt.tsval;
		c->ts_recent_at = now;
		c->sack_ok = !!(seg->opt.tsecr & 0x10u);
		if (ws != 15) {
			c->ws_ok = 1;
			c->snd_wscale = (uint8_t)ws;
		} else {
			c->rcv_wscale = 0;
		}
	} else {
		c->rcv_wscale = 0;
	}
	/* What we advertised in the SYN-ACK: min(rcvbuf, 65535), unscaled */
	c->rcv_adv = c->rcv_nxt + (lst->rcvbuf > 65535 ? 65535 : lst->rcvbuf);
	c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	td_tcp_hash_insert(c);
	lst->nsyn++; /* set_established moves it from the SYN to the accept queue */
	set_established(c, now);
	return c;
}

static void conn_input(struct td_tcp_sock *s, const struct td_tcp_repr *seg, uint64_t now);

static void listen_input(struct td_tcp_sock *lst, const struct td_tcp_tuple *t,
			 const struct td_tcp_repr *seg, uint64_t now)
{
	struct td_tcp *tcp = lst->tcp;
	if (seg->flags & TD_TCP_RST)
		return; /* first: an incoming RST is ignored */
	if (seg->flags & TD_TCP_ACK) {
		/* second: any acknowledgment is bad, unless it returns a cookie */
		if (!(seg->flags & TD_TCP_SYN) && tcp->cfg.syncookies) {
			struct td_tcp_sock *c = cookie_ack(lst, t, seg, now);
			if (c) {
				conn_input(c, seg, now);
				return;
			}
			if (lst->nacc >= lst->backlog)
				return; /* overflow: drop, the peer retransmits */
		}
		tcp->c.rx_bad_ack++;
		td_tcp_send_rst_reply(tcp, t, seg);
		return;
	}
	if (!(seg->flags & TD_TCP_SYN)) {
		tcp->c.rx_bad_segment++;
		return;
	}
	if (seg->flags & TD_TCP_FIN) {
		/* SYN+FIN is never legitimate; BSD and Linux drop it too */
		tcp->c.rx_bad_segment++;
		return;
	}
	if (!td_tcp_conn_admit(tcp)) { /* memory ceiling: refuse with RST (tcp_socket.c) */
		td_tcp_send_rst_reply(tcp, t, seg);
		return;
	}
	if (lst->nacc >= lst->backlog) {
		tcp->c.rx_listen_overflow++;
		return;
	}
	if (lst->nsyn >= tcp->cfg.syn_backlog) {
		if (tcp->cfg.syncookies) {
			td_tcp_send_cookie_synack(tcp, lst, t, seg, now);
			return;
		}
		tcp->c.rx_syn_queue_full++;
		return;
	}
	struct td_tcp_sock *c = new_child(lst, t, now);
	if (!c) {
		if (tcp->cfg.syncookies) {
			td_tcp_send_cookie_synack(tcp, lst, t, seg, now);
			return;
		}
		tcp->c.rx_pool_empty++;
		return;
	}
	/* third: SYN. Data carried by the SYN is not queued (not acknowledged),
	 * so the peer sends it again after the handshake. */
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	negotiate(c, seg, now);
	c->snd_wnd = seg->window; /* RFC 7323 §2.2: never scaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	c->state = TD_TCP_SYN_RECEIVED;
	td_tcp_hash_insert(c);
	lst->nsyn++;
	tcp->c.passive_opens++;
	td_tcp_output(c, now);
}

/* ---- SYN-SENT (§3.10.7.3) ------------------------------------------------------ */

static void syn_sent_input(struct td_tcp_sock *s, const struct td_tcp_tuple *t,
			   const struct td_tcp_repr *seg, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	bool ack = seg->flags & TD_TCP_ACK;
	/* first: the ACK must acknowledge our SYN */
	if (ack && (SEQ_LEQ(seg->ack, s->iss) || SEQ_GT(seg->ack, s->snd_max))) {
		tcp->c.rx_bad_ack++;
		if (!(seg->flags & TD_TCP_RST))
			td_tcp_send_rst_reply(tcp, t, seg);
		return;
	}
	/* second: RST, acceptable only with an acceptable ACK (RFC 5961 §3.2) */
	if (seg->flags & TD_TCP_RST) {
		if (!ack) {
			tcp->c.rx_rst_ignored++;
			return;
		}
		tcp->c.conn_refused++;
		td_tcp_conn_closed(s, -ECONNREFUSED);
		return;
	}
	/* fourth: SYN */
	if (!(seg->flags & TD_TCP_SYN)) {
		tcp->c.rx_bad_segment++;
		return;
	}
	s->irs = seg->seq;
	s->rcv_nxt = seg->seq + 1;
	/* the window our SYN offered, now that RCV.NXT exists */
	s->rcv_adv = s->rcv_nxt + (s->rcvbuf > 65535 ? 65535 : s->rcvbuf);
	negotiate(s, seg, now);
	s->snd_wnd = seg->window; /* RFC 7323 §2.2 */
	s->max_sndwnd = s->snd_wnd;
	s->snd_wl1 = seg->seq;
	if (ack) {
		s->snd_una = seg->ack;
		s->snd_wl2 = seg->ack;
		if (s->rtt_timing && SEQ_GT(seg->ack, s->rtt_seq)) {
			s->rtt_timing = 0;
			td_tcp_rtt_sample(s, (uint32_t)((now - s->rtt_start) / NS_PER_US));
		}
		td_tcp_timer_stop_rtx(s);
		set_established(s, now);
		s->ack_now = 1;
		td_tcp_output(s, now);
		return;
	}
	/* simultaneous open (§3.5 figure 8): SYN-RECEIVED, SYN-ACK with our ISS */
	s->state = TD_TCP_SYN_RECEIVED;
	s->snd_wl2 = s->iss;
	s->snd_nxt = s->iss;
	td_tcp_timer_stop_rtx(s);
	td_tcp_output(s, now);
}

/* ---- synchronized states (§3.10.7.4) ------------------------------------------- */

static bool acceptable(const struct td_tcp_sock *s, uint32_t seq, uint32_t len, uint32_t wnd)
{
	/* the four cases of the acceptability table */
	if (len == 0) {
		if (wnd == 0)
			return seq == s->rcv_nxt;
		return SEQ_GEQ(seq, s->rcv_nxt) && SEQ_LT(seq, s->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return (SEQ_GEQ(seq, s->rcv_nxt) && SEQ_LT(seq, s->rcv_nxt + wnd)) ||
	       (SEQ_GEQ(seq + len - 1, s->rcv_nxt) && SEQ_LT(seq + len - 1, s->rcv_nxt + wnd));
}

static void fin_received(struct td_tcp_sock *s, uint64_t now)
{
	s->rcv_nxt++;
	s->rcvd_fin = 1;
	s->ooo_fin = 0;
	s->ack_now = 1;
	td_tcp_notify(s, TD_TCP_EV_READABLE | TD_TCP_EV_HUP);
	switch (s->state) {
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
		s->state = TD_TCP_CLOSE_WAIT;
		break;
	case TD_TCP_FIN_WAIT_1:
		s->state = TD_TCP_CLOSING; /* our FIN is not acknowledged yet */
		break;
	case TD_TCP_FIN_WAIT_2:
		td_tcp_enter_time_wait(s, now);
		break;
	default:
		break;
	}
}

/* RFC 2883 §4: a segment (or part) that arrived before is reported as
 * the first SACK block of the ACK it provokes; acked at once (§4.2 of RFC
 * 5681: a duplicate should be acknowledged immediately). */
static void note_dsack(struct td_tcp_sock *s, uint32_t l, uint32_t r)
{
	if (!s->sack_ok || !SEQ_LT(l, r))
		return;
	s->dsack_l = l;
	s->dsack_r = r;
	s->dsack_pending = 1;
	s->ack_now = 1;
}

/* A pure duplicate ACK that a reordering path delivered after a newer one:
 * its older TSval is no sign of an old duplicate from a previous
 * incarnation, and its SACK blocks are news. As Linux's
 * tcp_disordered_ack(): no data, at RCV.NXT, ACK = SND.UNA, no window
 * change, TSval within one RTO of TS.Recent (RFC 7323 §5.3 aims PAWS at
 * segments a wrapped sequence space could let in, not at these). */
static bool disordered_ack(const struct td_tcp_sock *s, const struct td_tcp_repr *seg)
{
	if (seg->payload.len || (seg->flags & (TD_TCP_SYN | TD_TCP_FIN)) || !(seg->flags & TD_TCP_ACK))
		return false;
	if (seg->seq != s->rcv_nxt || seg->ack != s->snd_una ||
	    ((uint32_t)seg->window << s->snd_wscale) != s->snd_wnd)
		return false;
	return s->ts_recent - seg->opt.tsval <= (uint32_t)s->rto_ms; /* TS clock: 1 ms */
}

/* The ACK field of a segment in a synchronized state (fifth step). Returns
 * false when the segment must be dropped. */
static bool process_ack(struct td_tcp_sock *s, const struct td_tcp_repr *seg, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	uint32_t ack = seg->ack;
	/* RFC 5961 §5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT
	 * (SND.MAX here: after a go-back-N SND.NXT lags what was sent) */
	if (SEQ_GT(ack, s->snd_max)) {
		tcp->c.rx_bad_ack++;
		s->ack_now = 1;
		return false;
	}
	if (SEQ_LT(ack, s->snd_una - s->max_sndwnd)) {
		tcp->c.rx_bad_ack++;
		td_tcp_send_challenge_ack(s, now);
		return false;
	}
	uint32_t win = (uint32_t)seg->window << s->snd_wscale;
	bool dsack;
	uint32_t dsack_rtx;
	bool sack_news = td_tcp_sack_update(s, &seg->opt, ack, now, &dsack, &dsack_rtx);
	if (dsack)
		td_tcp_rack_on_dsack(s, dsack_rtx);
	if (s->user_open)
		s->probes = 0; /* the peer is alive (see persist_expired) */
	uint32_t dmss = td_tcp_data_mss(s);

	if (SEQ_GT(ack, s->snd_una)) {
		uint32_t acked = ack - s->snd_una;
		uint32_t buffered = td_tcp_sbuf_len(s);
		uint32_t data_acked = acked > buffered ? buffered : acked;
		bool fin_acked = s->fin_sent && ack == s->snd_max && acked > buffered;
		/* RTT: Karn-valid timing first, else the timestamp echo (RFC 7323 §4) */
		if (s->rtt_timing && SEQ_GT(ack, s->rtt_seq)) {
			s->rtt_timing = 0;
			td_tcp_rtt_sample(s, (uint32_t)((now - s->rtt_start) / NS_PER_US));
		} else if (!s->rtt_timing && s->ts_ok && seg->opt.has_ts && seg->opt.tsecr) {
			uint32_t d = td_tcp_ts_now(s, now) - seg->opt.tsecr;
			if (d < 60000)
				td_tcp_rtt_sample(s, d * 1000);
		}
		if (s->sack_ok)
			td_tcp_txrec_cumack(s, ack, now); /* RACK learns from them first */
		bool spurious_rto = td_tcp_rack_spurious_rto(s, seg);
		s->snd_una = ack;
		td_tcp_sbuf_ack(s, data_acked);
		if (SEQ_LT(s->snd_nxt, s->snd_una))
			s->snd_nxt = s->snd_una;
		s->backoff = 0;
		if (s->in_recovery) {
			if (SEQ_GEQ(ack, s->recover)) {
				/* RFC 6582 §3.2 step 3, full ACK: deflate. After an
				 * RTO (in_loss) cwnd is where slow start took it. */
				uint32_t flight = s->snd_max - s->snd_una;
				uint32_t w = flight + s->mss;
				if (!s->in_loss)
					s->cwnd = s->ssthresh < w || s->sack_ok ? s->ssthresh : w;
				s->in_recovery = 0;
				s->in_loss = 0;
				s->dupacks = 0;
				td_tcp_rack_recovery_done(s);
			} else if (!s->sack_ok) {
				/* partial ACK: retransmit the first unacknowledged
				 * segment, deflate by the amount acked, add one SMSS */
				td_tcp_send_data_at(s, s->snd_una, dmss, now);
				tcp->c.retransmits++;
				s->retransmits++;
				s->cwnd = s->cwnd > data_acked ? s->cwnd - data_acked : 0;
				if (data_acked >= s->mss)
					s->cwnd += s->mss;
				if (s->cwnd < s->mss)
					s->cwnd = s->mss;
				td_tcp_timer_rearm_rtx(s, now);
			} else if (s->in_loss) {
				s->cc->on_ack(s, data_acked, now); /* slow start after the RTO */
			}
		} else if (!spurious_rto) {
			s->dupacks = 0;
			s->cc->on_ack(s, data_acked, now);
		}
		if (s->snd_una == s->snd_max)
			td_tcp_timer_stop_rtx(s); /* RFC 6298 §5.2 */
		else
			td_tcp_timer_rearm_rtx(s, now); /* §5.3 */
		if (data_acked)
			td_tcp_notify(s, TD_TCP_EV_WRITABLE);
		if (fin_acked) {
			switch (s->state) {
			case TD_TCP_FIN_WAIT_1:
				s->state = TD_TCP_FIN_WAIT_2;
				if (!s->user_open && tcp->cfg.fin_wait2_ms)
					s->ka_at = now + (uint64_t)tcp->cfg.fin_wait2_ms * NS_PER_MS;
				else
					s->ka_at = TD_NEVER;
				break;
			case TD_TCP_CLOSING:
				td_tcp_enter_time_wait(s, now);
				break;
			case TD_TCP_LAST_ACK:
				td_tcp_conn_closed(s, 0);
				return false;
			default:
				break;
			}
		}
	} else if (!s->sack_ok && ack == s->snd_una && s->snd_max != s->snd_una &&
		   seg->payload.len == 0 && !(seg->flags & (TD_TCP_SYN | TD_TCP_FIN)) &&
		   win == s->snd_wnd) {
		/* RFC 5681 §2 duplicate ACK. With SACK, RACK (tcp_rack.c)
		 * decides what is lost instead of a count of these. */
		s->dupacks++;
		if (!s->in_recovery && s->dupacks >= TCP_DUPTHRESH) {
			/* RFC 6582 §3.2 step 1: only if this loss is past "recover" */
			if (SEQ_GT(ack, s->recover) || s->recover == s->iss || s->recover == 0) {
				td_tcp_cc_enter_recovery(s, now);
				tcp->c.fast_retransmits++;
				tcp->c.retransmits++;
				s->retransmits++;
				s->rtt_timing = 0;
				td_tcp_send_data_at(s, s->snd_una, dmss, now);
				td_tcp_timer_rearm_rtx(s, now);
			} else {
				tcp->c.spurious_dup++;
			}
		} else if (s->in_recovery) {
			s->cwnd += s->mss; /* RFC 6582 §3.2 step 4 / RFC 5681 §3.2 step 4 */
		}
	}
	if (s->sack_ok) {
		(void)sack_news;
		td_tcp_tlp_acked(s, dsack, now);
		td_tcp_rack_on_ack(s, now);
	}

	/* window update (fifth step): SND.WL1 / SND.WL2 prevent old segments
	 * from updating the window */
	if (SEQ_LT(s->snd_wl1, seg->seq) || (s->snd_wl1 == seg->seq && SEQ_LEQ(s->snd_wl2, ack))) {
		s->snd_wnd = win;
		s->snd_wl1 = seg->seq;
		s->snd_wl2 = ack;
		if (win > s->max_sndwnd)
			s->max_sndwnd = win;
		if (win > 0 && s->rtx_kind == TT_PERSIST) {
			td_tcp_timer_stop_rtx(s);
			s->backoff = 0;
		}
	}
	return true;
}

static void conn_input(struct td_tcp_sock *s, const struct td_tcp_repr *seg_in, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	struct td_tcp_repr seg = *seg_in;
	uint8_t fl = seg.flags;

	if (s->state == TD_TCP_SYN_SENT) {
		syn_sent_input(s, &s->tu, &seg, now);
		return;
	}

	/* SYN-RECEIVED: the peer's SYN again. In a simultaneous open its
	 * SYN-ACK (figure 8 line 5) completes the handshake; alone it is a
	 * retransmission of the SYN and our SYN-ACK was lost. */
	if (s->state == TD_TCP_SYN_RECEIVED && (fl & TD_TCP_SYN) && !(fl & TD_TCP_RST) &&
	    seg.seq == s->irs) {
		if ((fl & TD_TCP_ACK) && SEQ_GT(seg.ack, s->snd_una) && SEQ_LEQ(seg.ack, s->snd_max)) {
			seg.flags &= (uint8_t)~TD_TCP_SYN;
			seg.seq++;
			fl = seg.flags;
		} else {
			s->snd_nxt = s->iss;
			td_tcp_send_syn(s, now);
			return;
		}
	}

	/* RFC 9293 §3.10.7.4 / RFC 6191: a new SYN for a TIME-WAIT connection
	 * may reopen it when its timestamp (or sequence number) is newer. */
	if (s->state == TD_TCP_TIME_WAIT && (fl & TD_TCP_SYN) && !(fl & (TD_TCP_ACK | TD_TCP_RST))) {
		bool newer = (s->ts_ok && seg.opt.has_ts) ? SEQ_GT(seg.opt.tsval, s->ts_recent)
							   : SEQ_GT(seg.seq, s->rcv_nxt);
		struct td_tcp_sock *lst = td_tcp_lookup_listener(tcp, &s->tu);
		if (newer && lst) {
			struct td_tcp_tuple t = s->tu;
			tcp->c.time_wait_reused++;
			td_tcp_conn_closed(s, 0);
			listen_input(lst, &t, &seg, now);
			return;
		}
	}

	/* first: PAWS (RFC 7323 §5.3 R1-R3), not applied to RSTs nor to a
	 * reordered duplicate ACK */
	if (s->ts_ok && seg.opt.has_ts && !(fl & TD_TCP_RST) &&
	    SEQ_LT(seg.opt.tsval, s->ts_recent) && now - s->ts_recent_at < TS_RECENT_MAX_AGE_NS &&
	    !disordered_ack(s, &seg)) {
		tcp->c.rx_paws_reject++;
		if (seg.payload.len && SEQ_LEQ(seg.seq + (uint32_t)seg.payload.len, s->rcv_nxt))
			note_dsack(s, seg.seq, seg.seq + (uint32_t)seg.payload.len);
		/* answer what carries sequence space; an ACK answered with an
		 * ACK could loop (Linux rate-limits these, tcp_oow_rate_limited) */
		if (seg.payload.len || (fl & (TD_TCP_SYN | TD_TCP_FIN)))
			td_tcp_send_ack(s, now);
		return;
	}

	uint32_t wnd = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	uint32_t len = seg_len(&seg);
	if (!acceptable(s, seg.seq, len, wnd)) {
		/* "special allowance should be made to accept valid ACKs, URGs, and
		 * RSTs" when the window is zero: keep the control part */
		if (wnd == 0 && seg.seq == s->rcv_nxt) {
			if (seg.payload.len) {
				tcp->c.rx_unacceptable++;
				s->ack_now = 1; /* the sender learns the window is still zero */
			}
			seg.payload.len = 0;
			seg.flags &= (uint8_t)~TD_TCP_FIN;
			fl = seg.flags;
		} else {
			if (SEQ_LT(seg.seq, s->rcv_nxt)) {
				tcp->c.rx_dup_segs++;
				if (seg.payload.len)
					note_dsack(s, seg.seq, SEQ_MIN(seg.seq + (uint32_t)seg.payload.len,
								       s->rcv_nxt));
			} else
				tcp->c.rx_unacceptable++;
			if (!(fl & TD_TCP_RST)) {
				if (s->state == TD_TCP_TIME_WAIT && (fl & TD_TCP_FIN))
					s->ka_at = now + 2ull * tcp->cfg.msl_ms * NS_PER_MS;
				td_tcp_send_ack(s, now);
			}
			return;
		}
	}

	/* second: RST (RFC 5961 §3.2: exact match resets, in-window challenges) */
	if (fl & TD_TCP_RST) {
		if (seg.seq != s->rcv_nxt) {
			td_tcp_send_challenge_ack(s, now);
			return;
		}
		switch (s->state) {
		case TD_TCP_SYN_RECEIVED:
			if (s->passive) {
				td_tcp_conn_closed(s, 0); /* back to LISTEN: the child goes */
			} else {
				tcp->c.conn_refused++;
				td_tcp_conn_closed(s, -ECONNREFUSED);
			}
			return;
		case TD_TCP_ESTABLISHED:
		case TD_TCP_FIN_WAIT_1:
		case TD_TCP_FIN_WAIT_2:
		case TD_TCP_CLOSE_WAIT:
			tcp->c.conn_resets_rx++;
			td_tcp_conn_closed(s, -ECONNRESET);
			return;
		default: /* CLOSING, LAST-ACK, TIME-WAIT */
			td_tcp_conn_closed(s, 0);
			return;
		}
	}

	/* fourth: SYN in a synchronized state (RFC 5961 §4.2) */
	if (fl & TD_TCP_SYN) {
		tcp->c.rx_syn_in_window++;
		td_tcp_send_challenge_ack(s, now);
		return;
	}

	/* trim to the window: what precedes RCV.NXT was received already,
	 * what passes the right edge will come again */
	if (SEQ_LT(seg.seq, s->rcv_nxt)) {
		uint32_t cut = s->rcv_nxt - seg.seq;
		if (seg.payload.len)
			note_dsack(s, seg.seq, seg.seq + SEQ_MIN(cut, (uint32_t)seg.payload.len));
		if (cut >= seg.payload.len) {
			if (cut > seg.payload.len)
				seg.flags &= (uint8_t)~TD_TCP_FIN; /* the FIN too was seen */
			seg.payload.ptr += seg.payload.len;
			seg.payload.len = 0;
		} else {
			seg.payload.ptr += cut;
			seg.payload.len -= cut;
		}
		seg.seq = s->rcv_nxt;
		fl = seg.flags;
	}
	if (seg.payload.len && SEQ_GT(seg.seq + (uint32_t)seg.payload.len, s->rcv_nxt + wnd)) {
		seg.payload.len = (s->rcv_nxt + wnd) - seg.seq;
		seg.flags &= (uint8_t)~TD_TCP_FIN;
		fl = seg.flags;
	}

	/* fifth: ACK */
	if (!(fl & TD_TCP_ACK))
		return;
	if (s->state == TD_TCP_SYN_RECEIVED) {
		if (!(SEQ_GT(seg.ack, s->snd_una) && SEQ_LEQ(seg.ack, s->snd_max))) {
			tcp->c.rx_bad_ack++;
			td_tcp_send_rst_reply(tcp, &s->tu, &seg);
			return;
		}
		if (s->parent && s->parent->nacc >= s->parent->backlog) {
			/* accept queue full: stay half-open; the ACK is dropped and
			 * the SYN-ACK retransmission tries again */
			tcp->c.rx_listen_overflow++;
			return;
		}
		if (s->rtt_timing && SEQ_GT(seg.ack, s->rtt_seq)) {
			s->rtt_timing = 0;
			td_tcp_rtt_sample(s, (uint32_t)((now - s->rtt_start) / NS_PER_US));
		}
		s->snd_una = seg.ack;
		s->snd_wnd = (uint32_t)seg.window << s->snd_wscale;
		s->max_sndwnd = s->snd_wnd;
		s->snd_wl1 = seg.seq;
		s->snd_wl2 = seg.ack;
		td_tcp_timer_stop_rtx(s);
		set_established(s, now);
	}
	if (!process_ack(s, &seg, now)) {
		if (s->tcp && s->state != TD_TCP_CLOSED)
			td_tcp_output(s, now);
		return;
	}

	/* RFC 7323 §4.3: TS.Recent from segments that cover Last.ACK.sent */
	if (s->ts_ok && seg.opt.has_ts && SEQ_LEQ(seg_in->seq, s->rcv_nxt) &&
	    SEQ_GEQ(seg.opt.tsval, s->ts_recent)) {
		s->ts_recent = seg.opt.tsval;
		s->ts_recent_at = now;
	}

	/* seventh: segment text */
	bool text_state = s->state == TD_TCP_ESTABLISHED || s->state == TD_TCP_FIN_WAIT_1 ||
			  s->state == TD_TCP_FIN_WAIT_2;
	if (seg.payload.len && text_state) {
		uint32_t n = (uint32_t)seg.payload.len;
		if (s->rd_shut) {
			/* nobody will read: acknowledge in-order bytes, keep nothing */
			if (seg.seq == s->rcv_nxt)
				s->rcv_nxt += n;
			s->ack_now = 1;
		} else {
			bool in_order = seg.seq == s->rcv_nxt;
			if (!in_order && td_tcp_reass_holds(s, seg.seq, seg.seq + n))
				note_dsack(s, seg.seq, seg.seq + n); /* RFC 2883 §4 case 2 */
			int r = td_tcp_reass_insert(s, seg.seq, seg.payload.ptr, n);
			if (r < 0) {
				if (r == -ENOMEM)
					tcp->c.rx_rcvbuf_drop++;
				else
					tcp->c.rx_ooo_drop++;
				s->ack_now = 1;
			} else if (!in_order) {
				tcp->c.rx_ooo_segs++;
				s->ack_now = 1; /* RFC 5681 §4.2: at once for out-of-order data */
			} else if (r > 0) {
				if ((uint32_t)r > n)
					s->ack_now = 1; /* a hole was filled (RFC 5681 §4.2) */
				s->rcv_nxt += (uint32_t)r;
				tcp->c.rx_bytes += (uint32_t)r;
				td_tcp_notify(s, TD_TCP_EV_READABLE);
			}
		}
		/* RFC 9293 §3.8.6.3: ACK at least every second full-sized
		 * segment, and within delack_ms (<= 500 ms; default 40) */
		if (n > s->rcv_mss)
			s->rcv_mss = (uint16_t)(n > 65535 ? 65535 : n);
		s->rcv_unacked += n;
		if (s->rcv_unacked >= 2u * s->rcv_mss)
			s->ack_now = 1;
		else if (!s->ack_now && s->delack_at == TD_NEVER)
			s->delack_at = now + (uint64_t)tcp->cfg.delack_ms * NS_PER_MS;
	}

	/* eighth: FIN, once every byte before it is in */
	if (fl & TD_TCP_FIN) {
		uint32_t fin_seq = seg.seq + (uint32_t)seg.payload.len;
		if (s->rcvd_fin) {
			s->ack_now = 1;
			if (s->state == TD_TCP_TIME_WAIT)
				s->ka_at = now + 2ull * tcp->cfg.msl_ms * NS_PER_MS;
		} else if (fin_seq == s->rcv_nxt) {
			fin_received(s, now);
		} else if (SEQ_GT(fin_seq, s->rcv_nxt)) {
			s->ooo_fin = 1;
			s->ooo_fin_seq = fin_seq;
		}
	}
	if (s->ooo_fin && !s->rcvd_fin && s->ooo_fin_seq == s->rcv_nxt && text_state)
		fin_received(s, now);

	td_tcp_timer_keepalive_reset(s, now);
	if (s->state != TD_TCP_CLOSED)
		td_tcp_output(s, now);
}

void td_tcp_input(struct td_tcp *tcp, uint64_t now, const struct td_tcp_tuple *t,
		  const struct td_tcp_repr *seg)
{
	td_tcp_enter(tcp, now);
	tcp->c.rx_segs++;
	if (seg->src_port == 0 || seg->dst_port == 0 || seg->src_port != t->rport ||
	    seg->dst_port != t->lport) {
		tcp->c.rx_bad_segment++;
		goto out;
	}
	struct td_tcp_sock *s = td_tcp_lookup(tcp, t);
	if (s) {
		conn_input(s, seg, now);
		goto out;
	}
	struct td_tcp_sock *lst = td_tcp_lookup_listener(tcp, t);
	if (lst) {
		listen_input(lst, t, seg, now);
		goto out;
	}
	/* CLOSED (§3.10.7.1): everything but an RST is answered with an RST */
	tcp->c.rx_no_socket++;
	td_tcp_send_rst_reply(tcp, t, seg);
out:
	td_tcp_leave(tcp);
}

/* ICMP errors about our segments (RFC 5927 §4.1: only for a sequence number
 * in flight; RFC 1191 §6 / RFC 8201 §5.2 PTB lowers the MSS; RFC 1122
 * §4.2.3.9: hard errors abort a connection that is still opening). */
bool td_tcp_icmp_error(struct td_tcp *tcp, uint64_t now, const struct td_tcp_tuple *t,
		       enum td_tcp_icmp_kind kind, uint32_t mtu, uint32_t seq)
{
	bool owned = false;
	td_tcp_enter(tcp, now);
	struct td_tcp_sock *s = td_tcp_lookup(tcp, t);
	if (!s || SEQ_LT(seq, s->snd_una) || SEQ_GEQ(seq, s->snd_max))
		goto out;
	owned = true;
	if (kind == TD_TCP_ICMP_PTB) {
		uint32_t hdr = t->family == 6 ? 60 : 40;
		if (mtu <= hdr)
			goto out;
		uint32_t mss = mtu - hdr;
		if (mss < TCP_MSS_MIN)
			mss = TCP_MSS_MIN;
		if (mss >= s->mss)
			goto out;
		tcp->c.icmp_ptb++;
		s->mss = (uint16_t)mss;
		if (s->state >= TD_TCP_ESTABLISHED) {
			/* resend what was too big, without a congestion response */
			if (s->sack_ok && td_tcp_txrec_count(s))
				td_tcp_txrec_mark_all_lost(s);
			else
				s->snd_nxt = s->snd_una;
			s->rtt_timing = 0;
			td_tcp_output(s, now);
		}
		goto out;
	}
	tcp->c.icmp_unreach++;
	if (s->state == TD_TCP_SYN_SENT) {
		int err = kind == TD_TCP_ICMP_PORT_UNREACH   ? -ECONNREFUSED
			  : kind == TD_TCP_ICMP_NET_UNREACH ? -ENETUNREACH
							     : -EHOSTUNREACH;
		td_tcp_conn_closed(s, err);
	}
out:
	td_tcp_leave(tcp);
	return owned;
}
