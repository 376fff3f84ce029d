/* TCP output: segment construction, what to send now (windows, Nagle, SWS), ACKs and RSTs. */
#include <string.h>

#include "stack/tcp_internal.h"

uint32_t td_tcp_ts_now(const struct td_tcp_sock *s, uint64_t now)
{
	/* RFC 7323 §5.4: a 1 ms clock plus a per-connection random offset */
	return (uint32_t)(now / NS_PER_MS) + s->ts_offset;
}

uint32_t td_tcp_data_mss(const struct td_tcp_sock *s)
{
	uint32_t m = s->mss;
	if (s->ts_ok)
		m -= TCP_TS_LEN;
	return m;
}

/*
 * The window to advertise (bytes, before scaling). RFC 9293 §3.8.6.2.2
 * receiver SWS avoidance: the right edge moves only when it can move by at
 * least min(RCV.BUFF/2, Eff.snd.MSS); §3.8.6: the window is never shrunk
 * (the right edge RCV.NXT + RCV.WND never moves left).
 */
uint32_t td_tcp_rcv_wnd(const struct td_tcp_sock *s)
{
	uint32_t maxw = (uint32_t)65535 << s->rcv_wscale;
	if (s->rd_shut) /* reading side shut: accept and discard */
		return s->rcvbuf < maxw ? s->rcvbuf & ~(((uint32_t)1 << s->rcv_wscale) - 1) : maxw;
	uint32_t space = s->rcvbuf - td_tcp_rcv_buffered(s);
	if (space > maxw)
		space = maxw;
	space &= ~(((uint32_t)1 << s->rcv_wscale) - 1);
	uint32_t old = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	uint32_t step = s->rcvbuf / 2 < s->our_mss ? s->rcvbuf / 2 : s->our_mss;
	if (space <= old)
		return old;
	if (space - old < step && old > 0)
		return old;
	if (space < step)
		return old;
	return space;
}

/*
 * The TSval of a segment built now. RFC 7323 §5.4: TSvals must be monotone
 * non-decreasing, and the peer's PAWS (§5) drops a segment whose TSval is
 * older than one it has already taken (Linux allows 1 tick). Our entry
 * points do not all carry the same clock reading - TCP output runs at the
 * time of the input or poll that caused it, the socket API at its caller's
 * fresher reading - so a segment built later could carry an older time; on
 * a bulk send the kernel then PAWS-dropped whole runs and SACK-recovered
 * them. The highest value sent is the floor.
 */
static uint32_t ts_out(struct td_tcp_sock *s, uint64_t now)
{
	uint32_t v = td_tcp_ts_now(s, now);
	if (SEQ_LT(v, s->ts_sent))
		v = s->ts_sent;
	s->ts_sent = v;
	return v;
}

static void fill_opts(struct td_tcp_sock *s, struct td_tcp_repr *r, uint64_t now)
{
	struct td_tcp_opts *o = &r->opt;
	bool syn = r->flags & TD_TCP_SYN;
	if (syn) {
		/* RFC 9293 §3.7.1 MSS; RFC 7323 §2.2, §3.2; RFC 2018 §2. A SYN-ACK
		 * only echoes options the SYN offered. */
		bool active = s->state == TD_TCP_SYN_SENT;
		const struct td_tcp_config *cfg = &s->tcp->cfg;
		o->has_mss = true;
		o->mss = s->our_mss;
		if (active ? cfg->wscale : s->ws_ok) {
			o->has_wscale = true;
			o->wscale = s->rcv_wscale;
		}
		o->sack_perm = active ? cfg->sack : s->sack_ok;
		if (active ? cfg->timestamps : s->ts_ok) {
			o->has_ts = true;
			o->tsval = ts_out(s, now);
			o->tsecr = active ? 0 : s->ts_recent;
		}
		return;
	}
	if (s->ts_ok) {
		o->has_ts = true;
		o->tsval = ts_out(s, now);
		o->tsecr = s->ts_recent;
	}
	if (s->sack_ok && (r->flags & TD_TCP_ACK) && !(r->flags & TD_TCP_RST)) {
		/* RFC 2018 §3: up to 4 blocks, 3 alongside timestamps */
		unsigned max = s->ts_ok ? 3 : 4;
		unsigned n = 0;
		if (s->dsack_pending) {
			/* RFC 2883 §4: a duplicate is reported in the first
			 * block, once */
			o->sack[n++] = (struct td_tcp_sack_block){s->dsack_l, s->dsack_r};
			s->dsack_pending = 0;
			s->tcp->c.tx_dsack++;
		}
		n += td_tcp_reass_sack_blocks(s, o->sack + n, max - n);
		o->sack_count = (uint8_t)n;
	}
}

/* Build and hand one segment to the output hook: len bytes of the send
 * buffer from off (bytes past SND.UNA). gso (the data MSS, only with the
 * IP layer's offloads) makes it a super-segment standing for ceil(len/gso)
 * segments: one header, one TSval, one window - what a NIC's TSO sends. */
static void xmit(struct td_tcp_sock *s, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len,
		 uint32_t gso, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = s->tu.lport;
	r.dst_port = s->tu.rport;
	r.seq = seq;
	r.flags = flags;
	if (flags & TD_TCP_ACK)
		r.ack = s->rcv_nxt;
	if (!(flags & TD_TCP_RST)) {
		uint32_t w = td_tcp_rcv_wnd(s);
		if (flags & TD_TCP_SYN) {
			/* RFC 7323 §2.2: the window of a SYN is never scaled */
			r.window = w > 65535 ? 65535 : (uint16_t)w;
			w = r.window;
		} else {
			r.window = (uint16_t)(w >> s->rcv_wscale);
			w = (uint32_t)r.window << s->rcv_wscale;
		}
		if (SEQ_GT(s->rcv_nxt + w, s->rcv_adv) || s->rcv_adv == 0)
			s->rcv_adv = s->rcv_nxt + w;
		s->zero_wnd_adv = w == 0;
		fill_opts(s, &r, now);
	}
	if (len && s->sack_ok) {
		/* RACK's send times (RFC 8985 §5.2): a record per segment, also
		 * for each segment a super-segment stands for */
		uint32_t step = gso && len > gso ? gso : len;
		for (uint32_t o = 0; o < len; o += step)
			td_tcp_txrec_sent(s, seq + o, len - o < step ? len - o : step, now);
	}
	int rc;
	uint32_t gmax;
	if (tcp->offload && tcp->offload->caps(tcp->output_ctx, s->tu.family, &gmax)) {
		/* checksum left to the device: the payload goes from the ring
		 * to the packet in one copy, never summed */
		uint32_t nseg = gso && len > gso ? (len + gso - 1) / gso : 1;
		struct td_tcp_seg_out o = {.r = &r, .gso_size = (uint16_t)(nseg > 1 ? gso : 0)};
		if (len)
			td_tcp_sbuf_pieces(s, off, len, o.pay);
		r.payload.len = len;
		rc = tcp->offload->output(tcp->output_ctx, &s->tu, &o);
		tcp->c.tx_segs += nseg;
	} else {
		r.payload.ptr = len ? td_tcp_sbuf_peek(s, off, len) : NULL;
		r.payload.len = len;
		rc = tcp->output(tcp->output_ctx, &s->tu, &r);
		tcp->c.tx_segs++;
	}
	tcp->c.tx_bytes += len;
	if (rc < 0)
		tcp->c.tx_errors++;
	if (flags & TD_TCP_ACK) {
		s->ack_now = 0;
		s->delack_at = TD_NEVER;
		s->rcv_unacked = 0;
	}
}

void td_tcp_send_ack(struct td_tcp_sock *s, uint64_t now)
{
	xmit(s, s->snd_nxt, TD_TCP_ACK, 0, 0, 0, now);
}

/* RFC 5961 §7: at most challenge_ack_limit challenge ACKs per second for the
 * whole module, so that they cannot be used to amplify or to probe. */
void td_tcp_send_challenge_ack(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	uint64_t sec = now / 1000000000ull;
	if (sec != tcp->chall_epoch) {
		tcp->chall_epoch = sec;
		tcp->chall_count = 0;
	}
	if (tcp->chall_count >= tcp->cfg.challenge_ack_limit) {
		tcp->c.challenge_ack_limited++;
		return;
	}
	tcp->chall_count++;
	tcp->c.tx_challenge_ack++;
	td_tcp_send_ack(s, now);
}

void td_tcp_send_syn(struct td_tcp_sock *s, uint64_t now)
{
	uint8_t fl = TD_TCP_SYN;
	if (s->state == TD_TCP_SYN_RECEIVED)
		fl |= TD_TCP_ACK;
	xmit(s, s->iss, fl, 0, 0, 0, now);
	if (s->syn_rtx == 0) {
		/* Karn: only an unretransmitted SYN gives an RTT sample */
		s->rtt_timing = 1;
		s->rtt_seq = s->iss;
		s->rtt_start = now;
	}
	s->snd_nxt = s->iss + 1;
	if (SEQ_GT(s->snd_nxt, s->snd_max))
		s->snd_max = s->snd_nxt;
	if (s->rtx_at == TD_NEVER)
		td_tcp_timer_rearm_rtx(s, now);
}

void td_tcp_send_rst(struct td_tcp_sock *s, uint64_t now)
{
	/* RFC 9293 §3.10.4 ABORT: <SEQ=SND.NXT><CTL=RST> */
	s->tcp->c.tx_rst++;
	xmit(s, s->snd_nxt, TD_TCP_RST, 0, 0, 0, now);
}

/* RFC 9293 §3.10.7.1: a segment for no connection. "If the ACK bit is off,
 * sequence number zero is used, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
 * if the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>". An RST is never answered. */
void td_tcp_send_rst_reply(struct td_tcp *tcp, const struct td_tcp_tuple *t,
			const struct td_tcp_repr *seg)
{
	if (seg->flags & TD_TCP_RST)
		return;
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = t->lport;
	r.dst_port = t->rport;
	if (seg->flags & TD_TCP_ACK) {
		r.seq = seg->ack;
		r.flags = TD_TCP_RST;
	} else {
		uint32_t seglen = (uint32_t)seg->payload.len + !!(seg->flags & TD_TCP_SYN) +
				  !!(seg->flags & TD_TCP_FIN);
		r.seq = 0;
		r.ack = seg->seq + seglen;
		r.flags = TD_TCP_RST | TD_TCP_ACK;
	}
	tcp->c.tx_rst++;
	tcp->c.tx_segs++;
	if (tcp->output(tcp->output_ctx, t, &r) < 0)
		tcp->c.tx_errors++;
}

/* A stateless SYN-ACK (RFC 4987 §3.6). Window scale and SACK-permitted are
 * carried in the low 6 bits of TSval when the SYN had timestamps: bits 0-3
 * the peer's shift (15 = none), bit 4 SACK permitted. */
void td_tcp_send_cookie_synack(struct td_tcp *tcp, struct td_tcp_sock *lst, const struct td_tcp_tuple *t,
			    const struct td_tcp_repr *syn, uint64_t now)
{
	uint16_t our_mss = td_tcp_mss_for(tcp, t->family);
	uint16_t peer_mss = syn->opt.has_mss ? syn->opt.mss : 536;
	uint16_t mss = peer_mss < our_mss ? peer_mss : our_mss;
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = t->lport;
	r.dst_port = t->rport;
	r.seq = td_tcp_cookie_make(tcp, t, syn->seq, mss, now);
	r.ack = syn->seq + 1;
	r.flags = TD_TCP_SYN | TD_TCP_ACK;
	r.window = lst->rcvbuf > 65535 ? 65535 : (uint16_t)lst->rcvbuf;
	r.opt.has_mss = true;
	r.opt.mss = our_mss;
	bool ts = tcp->cfg.timestamps && syn->opt.has_ts;
	if (ts) {
		uint8_t ws = syn->opt.has_wscale && tcp->cfg.wscale
				     ? (syn->opt.wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX
									 : syn->opt.wscale)
				     : 15;
		bool sack = syn->opt.sack_perm && tcp->cfg.sack;
		uint32_t tsv = (uint32_t)(now / NS_PER_MS) + td_tcp_ts_offset(tcp, t);
		r.opt.has_ts = true;
		/* below the clock by more than the 6 borrowed bits, so that the
		 * connection's later TSvals never look older to the peer's PAWS */
		r.opt.tsval = ((tsv - 0x40u) & ~0x3fu) | ws | (sack ? 0x10u : 0);
		r.opt.tsecr = syn->opt.tsval;
		if (ws != 15) {
			r.opt.has_wscale = true;
			r.opt.wscale = td_tcp_wscale_for(lst->rcvbuf);
		}
		r.opt.sack_perm = sack;
	}
	tcp->c.tx_cookies++;
	tcp->c.tx_segs++;
	if (tcp->output(tcp->output_ctx, t, &r) < 0)
		tcp->c.tx_errors++;
}

/* len bytes from seq again; gso (with TSO) lets them go as one
 * super-segment of gso-sized segments. */
static void send_data(struct td_tcp_sock *s, uint32_t seq, uint32_t len, uint32_t gso,
		      uint64_t now)
{
	uint32_t off = seq - s->snd_una;
	uint32_t have = td_tcp_sbuf_len(s);
	uint8_t fl = TD_TCP_ACK;
	if (off > have)
		return;
	if (len > have - off)
		len = have - off;
	/* the FIN follows the last byte: retransmit it with it */
	if (s->fin_sent && off + len == have && SEQ_LT(seq + len, s->snd_max))
		fl |= TD_TCP_FIN;
	if (len == 0 && !(fl & TD_TCP_FIN))
		return;
	if (len && off + len == have)
		fl |= TD_TCP_PSH;
	xmit(s, seq, fl, off, len, gso, now);
}

void td_tcp_send_data_at(struct td_tcp_sock *s, uint32_t seq, uint32_t len, uint64_t now)
{
	send_data(s, seq, len, 0, now);
}

static bool can_send_data(const struct td_tcp_sock *s)
{
	switch (s->state) {
	case TD_TCP_ESTABLISHED:
	case TD_TCP_CLOSE_WAIT:
	case TD_TCP_FIN_WAIT_1:
	case TD_TCP_CLOSING:
	case TD_TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

uint32_t td_tcp_tso_burst(const struct td_tcp_sock *s)
{
	const struct td_tcp *tcp = s->tcp;
	uint32_t dmss = td_tcp_data_mss(s), gmax = 0;
	if (!tcp->offload || !tcp->offload->caps(tcp->output_ctx, s->tu.family, &gmax) ||
	    gmax <= 60 + 2 * dmss)
		return 0;
	return (gmax - 60) / dmss * dmss;
}

/* RFC 6675 §5 step (C) with RACK's marks (RFC 8985 §6.1): while pipe <
 * cwnd, retransmit the first segment deemed lost (NextSeg() rule 1: only
 * lost ones, so reordered data is not resent); new data follows in
 * td_tcp_output (rule 2). With TSO, the consecutive lost segments that
 * rule lets go at this instant - each asked pipe < cwnd with the ones
 * before it counted in pipe - leave as one super-segment: the same
 * segments, sequence numbers and send time, one write instead of one per
 * MSS. Returns true if it sent something. */
static bool send_lost(struct td_tcp_sock *s, uint64_t now)
{
	bool sent = false;
	uint32_t dmss = td_tcp_data_mss(s);
	for (int guard = 0; guard < 256; guard++) {
		uint32_t st, en, pipe = td_tcp_sack_pipe(s);
		if (pipe >= s->cwnd)
			break;
		/* asked each time: the IP layer's big buffers may run out */
		uint32_t n = td_tcp_txrec_lost_run(s, dmss, td_tcp_tso_burst(s), s->cwnd - pipe, &st,
						   &en);
		if (!n)
			break;
		uint32_t segs = 0;
		if (n > 1) {
			send_data(s, st, en - st, dmss, now);
			segs = (en - st + dmss - 1) / dmss;
		} else {
			while (SEQ_LT(st, en)) {
				uint32_t len = en - st < dmss ? en - st : dmss;
				td_tcp_send_data_at(s, st, len, now);
				st += len;
				segs++;
			}
		}
		s->retransmits += segs;
		s->tcp->c.sack_retransmits += segs;
		s->tcp->c.retransmits += segs;
		s->undo_retrans += n;
		sent = true;
	}
	if (sent && (s->rtx_at == TD_NEVER || s->rtx_kind == TT_TLP))
		td_tcp_timer_rearm_rtx(s, now);
	return sent;
}

/*
 * Send what may be sent now: RFC 9293 §3.8.6.2.1 (sender SWS avoidance),
 * §3.7.4 (Nagle), RFC 5681 (cwnd), the peer's window, and a FIN after the
 * last byte once the application shut down writing. Finally a pending ACK.
 */
void td_tcp_output(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	bool sent_ack = false;

	if (tcp->batch) {
		/* Segments cut from one super-packet: what they make us send -
		 * the ACK every second segment would have had (RFC 5681 §4.2),
		 * data the window opened - goes once the run is in (td_tcp_leave),
		 * one stretch ACK as Linux's GRO receivers send. */
		s->out_pending = 1;
		td_tcp_timer_touch(s);
		return;
	}

	if (s->state == TD_TCP_SYN_SENT || s->state == TD_TCP_SYN_RECEIVED) {
		if (s->snd_nxt == s->iss) {
			td_tcp_send_syn(s, now);
			return;
		}
		if (s->ack_now && s->state == TD_TCP_SYN_RECEIVED)
			td_tcp_send_ack(s, now);
		return;
	}
	if (!can_send_data(s)) {
		if (s->ack_now && s->state != TD_TCP_CLOSED && s->state != TD_TCP_LISTEN)
			td_tcp_send_ack(s, now);
		return;
	}

	if (s->sack_ok && td_tcp_lost_bytes(s))
		sent_ack = send_lost(s, now);

	uint32_t dmss = td_tcp_data_mss(s);
	/* With TSO (the IP layer's offloads) new data leaves as super-segments
	 * of whole MSS segments, at most what fits one 64 KB packet beside the
	 * largest header (60 bytes). Not in loss recovery: new data and a
	 * go-back-N resend stay one MSS each there (the lost segments went
	 * above, in send_lost, as super-segments where the window allowed). */
	for (;;) {
		/* asked each time: the IP layer's big buffers may run out */
		uint32_t gmax = s->in_recovery ? 0 : td_tcp_tso_burst(s);
		uint32_t have = td_tcp_sbuf_len(s);
		/* after an RTO, go-back-N skips what the peer SACKed (RFC 6675 §5.1) */
		uint32_t run_end;
		while (SEQ_LT(s->snd_nxt, s->snd_max) && td_tcp_sack_is_sacked(s, s->snd_nxt, &run_end))
			s->snd_nxt = SEQ_MIN(run_end, s->snd_max);
		uint32_t off = s->snd_nxt - s->snd_una;
		/* bytes in flight: what SND.NXT is ahead of SND.UNA, or with SACK
		 * the RFC 6675 pipe (SACKed and lost bytes are not in flight) */
		uint32_t flight = s->sack_ok ? td_tcp_sack_pipe(s) : off;
		uint32_t wnd = s->snd_wnd < s->cwnd ? s->snd_wnd : s->cwnd;
		/* a FIN is retransmitted at snd_nxt == end of data after go-back-N */
		uint32_t avail = off < have ? have - off : 0;
		uint32_t usable = wnd > flight ? wnd - flight : 0;
		uint32_t pwnd_end = s->snd_una + s->snd_wnd;
		uint32_t pusable = SEQ_GT(pwnd_end, s->snd_nxt) ? pwnd_end - s->snd_nxt : 0;
		if (usable > pusable)
			usable = pusable;
		uint32_t len = avail < dmss ? avail : dmss;
		if (gmax && avail > dmss && usable > dmss && SEQ_GEQ(s->snd_nxt, s->snd_max)) {
			len = avail < usable ? avail : usable;
			if (len > gmax)
				len = gmax;
			/* a short last segment only where one would go now on its
			 * own (the end of the data, Nagle off or a FIN queued) */
			if (len % dmss && !(len == avail && (s->nodelay || s->fin_queued)))
				len -= len % dmss;
		}
		if (len > usable)
			len = usable;
		/* The FIN takes the sequence number after the last byte (it is
		 * only ever acknowledged in states where no data is sent). */
		bool fin = s->fin_queued && off <= have && off + len == have;
		bool go;
		if (len == 0)
			go = fin && avail == 0;
		else if (len >= dmss)
			go = true;
		else if (len == avail && (s->nodelay || s->snd_nxt == s->snd_una || s->fin_queued))
			go = true; /* Nagle (§3.7.4): nothing unacknowledged, or disabled */
		else if (len >= s->max_sndwnd / 2 && s->max_sndwnd > 0)
			go = true; /* SWS (§3.8.6.2.1): at least half the largest window */
		else if (SEQ_LT(s->snd_nxt, s->snd_max))
			go = true; /* retransmitting what was already sent */
		else
			go = false;
		if (!go)
			break;
		uint8_t fl = TD_TCP_ACK;
		if (fin)
			fl |= TD_TCP_FIN;
		if (len && off + len == have)
			fl |= TD_TCP_PSH;
		bool is_new = SEQ_GEQ(s->snd_nxt, s->snd_max);
		if (!is_new) {
			s->retransmits++;
			tcp->c.retransmits++;
		}
		xmit(s, s->snd_nxt, fl, off, len, dmss, now);
		sent_ack = true;
		if (is_new && len && !s->rtt_timing) {
			/* Karn: time one new segment per RTT (RFC 6298 §3) */
			s->rtt_timing = 1;
			s->rtt_seq = s->snd_nxt;
			s->rtt_start = now;
		}
		s->snd_nxt += len + (fin ? 1 : 0);
		if (fin)
			s->fin_sent = 1;
		if (SEQ_GT(s->snd_nxt, s->snd_max))
			s->snd_max = s->snd_nxt;
		if (s->rtx_at == TD_NEVER || s->rtx_kind == TT_PERSIST || s->rtx_kind == TT_TLP)
			td_tcp_timer_rearm_rtx(s, now);
		else if (is_new && s->sack_ok)
			td_tcp_tlp_arm(s, now, false); /* RFC 8985 §7.2: after new data */
		if (fin || len == 0)
			break;
	}

	/* §3.8.6.1: data waits, the peer's window is zero (or, §3.8.6.2.1,
	 * too small for sender SWS avoidance) and nothing is in flight to
	 * elicit a window update: start probing (persist_expired sends what
	 * fits in a small window: the override timeout). */
	uint32_t have = td_tcp_sbuf_len(s);
	if (have > s->snd_nxt - s->snd_una && s->snd_nxt == s->snd_una && s->snd_nxt == s->snd_max &&
	    s->rtx_at == TD_NEVER)
		td_tcp_timer_persist(s, now);

	if (s->ack_now && !sent_ack)
		td_tcp_send_ack(s, now);
}

/* RFC 9293 §3.8.6.2.2: after the application read, tell the peer about a
 * window that opened by at least min(RCV.BUFF/2, MSS) — at once if we had
 * advertised zero. */
void td_tcp_window_update_check(struct td_tcp_sock *s, uint64_t now)
{
	if (s->state < TD_TCP_ESTABLISHED || s->state == TD_TCP_TIME_WAIT || s->rcvd_fin)
		return;
	uint32_t old = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	uint32_t w = td_tcp_rcv_wnd(s);
	uint32_t step = s->rcvbuf / 2 < s->our_mss ? s->rcvbuf / 2 : s->our_mss;
	/* Beyond the SWS rule, only when it matters to the sender: the window
	 * it sees is down to half the buffer and would at least double (as
	 * Linux's tcp_cleanup_rbuf), or it was zero. Otherwise the next
	 * regular ACK carries the new window; an update per read() would cost
	 * a segment per read. */
	bool matters = old <= s->rcvbuf / 2 && w >= 2 * old;
	if (w > old && ((w - old >= step && matters) || s->zero_wnd_adv)) {
		s->tcp->c.tx_window_updates++;
		td_tcp_send_ack(s, now);
	}
}
