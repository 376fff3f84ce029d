/* TCP internals shared by the tcp_*.c files: control block, module, helpers. */
#ifndef TUNDRA_STACK_TCP_INTERNAL_H
#define TUNDRA_STACK_TCP_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "stack/timer_wheel.h"
#include "tundra/tcp.h"

/* Sequence-space comparisons (RFC 9293 §3.4: arithmetic modulo 2^32). */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

#define NS_PER_MS 1000000ull
#define NS_PER_US 1000ull
#define TD_NEVER UINT64_MAX

#define TCP_OOO_MAX 32    /* out-of-order ranges held by a receiver (in the on-demand buffer) */
#define TCP_IW_SEGS 10    /* RFC 6928 */
#define TCP_DUPTHRESH 3   /* RFC 5681 / RFC 6675 */
#define TCP_WSCALE_MAX 14 /* RFC 7323 §2.3 */
#define TCP_MSS_MIN 88    /* floor for PTB-lowered MSS (Linux uses 48+; RFC 8201 1280-60) */
#define TCP_TS_LEN 12     /* NOP NOP TS(10) */

/* Receive buffer: in-order bytes [head, head+len) of a ring, then out-of-order
 * ranges stored at their final position. Allocated when the first byte
 * arrives, freed when the application drained it (RFC 9293 leaves buffering to
 * the implementation; an idle connection holds no buffer). */
struct tcp_ooo {
	uint32_t start, end; /* sequence numbers, [start, end) */
	uint32_t stamp;      /* recency, for RFC 2018 §4 "most recent first" */
};

struct tcp_rbuf {
	uint32_t cap, head, len;
	uint8_t nooo;
	uint32_t stamp;
	struct tcp_ooo ooo[TCP_OOO_MAX];
	uint8_t data[];
};

/* Send buffer: bytes from SND.UNA on (sent and unsent), plus one record per
 * transmission of the bytes sent so far: the sender's scoreboard (RFC 6675
 * §3) and RACK's per-segment state (RFC 8985 §5.2) in one. Records cover
 * [SND.UNA, SND.UNA + recorded) contiguously: record i spans from the end of
 * record i-1 (SND.UNA for the first) to its end. */
struct tcp_txrec {
	uint64_t xmit;  /* ns: when these bytes were last (re)transmitted */
	uint32_t end;   /* sequence number after the last byte */
	uint8_t flags;  /* TXR_* */
};
#define TXR_SACKED 0x1u  /* the peer holds them (SACK) */
#define TXR_LOST 0x2u    /* deemed lost, not retransmitted since */
#define TXR_RETRANS 0x4u /* retransmitted at least once */

struct tcp_sbuf {
	uint32_t cap, head, len;
	uint32_t charged;        /* bytes charged to the memory ceiling */
	struct tcp_txrec *rec;   /* ring of rcap records */
	uint32_t rcap, rhead, nrec;
	uint32_t sacked, lost;   /* bytes in SACKED / LOST records */
	uint8_t data[];
};

/* CUBIC state (RFC 9438); Reno uses only the byte-counting accumulator. */
struct tcp_cc_state {
	uint32_t bytes_acked;  /* RFC 3465 / RFC 5681 §3.1 congestion-avoidance counter */
	uint32_t w_max;        /* bytes, W_max */
	uint32_t w_last_max;   /* for fast convergence (§4.7) */
	uint32_t cwnd_epoch;   /* cwnd at the start of the epoch */
	float k;               /* seconds */
	float w_est;           /* bytes, Reno-friendly estimate (§4.3) */
	uint64_t epoch_start;  /* ns, 0 = no epoch */
};

struct td_tcp_cc_ops;

enum tcp_timer_kind { TT_NONE = 0, TT_RTX, TT_PERSIST, TT_TLP };

/* Control block (see also issue 7's goal of <= 512 bytes: buffers and the
 * scoreboard live in the on-demand buffers, not here). */
struct td_tcp_sock {
	struct td_tcp *tcp;
	struct td_tcp_sock *hnext;       /* hash chain (connections) or listener list */
	struct td_tcp_sock *parent;      /* listener, while in its SYN or accept queue */
	struct td_tcp_sock *qnext;       /* accept queue link */
	struct tcp_rbuf *rb;
	struct tcp_sbuf *sb;
	const struct td_tcp_cc_ops *cc;
	td_tcp_event_fn cb;
	void *user;
	struct td_tcp_sock *nnext;       /* pending-notification list */
	struct td_tcp_sock *anext, *aprev; /* every control block in use */
	struct td_tw_entry tw;           /* wheel entry at the earliest of the deadlines below */
	struct td_tcp_sock *tnext;       /* touched list: deadlines to re-file at td_tcp_leave */

	struct td_tcp_tuple tu;
	uint8_t state;
	uint8_t snd_wscale, rcv_wscale;  /* shift applied to the peer's / our windows */
	uint8_t rtx_kind;                /* enum tcp_timer_kind of rtx_at */
	uint8_t backoff;                 /* consecutive RTO / persist backoffs */
	uint8_t dupacks;
	uint8_t ka_probes;
	uint8_t probes;       /* zero-window probes since the peer last answered */
	uint8_t syn_rtx;

	/* flags */
	unsigned user_open : 1;     /* the application holds the handle */
	unsigned bound : 1;
	unsigned nodelay : 1;
	unsigned keepalive : 1;
	unsigned linger0 : 1;
	unsigned passive : 1;       /* created by a listener */
	unsigned accepted : 1;
	unsigned sack_ok : 1;       /* RFC 2018 negotiated */
	unsigned ts_ok : 1;         /* RFC 7323 timestamps negotiated */
	unsigned ws_ok : 1;
	unsigned fin_queued : 1;    /* application shut down writing: FIN after the data */
	unsigned fin_sent : 1;
	unsigned rd_shut : 1;
	unsigned rcvd_fin : 1;      /* peer's FIN consumed (RCV.NXT counts it) */
	unsigned ack_now : 1;
	unsigned in_recovery : 1;   /* fast recovery (RFC 6582 / RFC 6675) */
	unsigned rtt_timing : 1;    /* Karn: a sample is being timed */
	unsigned notify_queued : 1;
	unsigned rtx_pending : 1;   /* RFC 6298 (5.4): retransmit the earliest unacked */
	unsigned cubic_cc : 1;
	unsigned ooo_fin : 1;       /* a FIN beyond RCV.NXT is remembered at ooo_fin_seq */
	unsigned connect_evt : 1;   /* EV_CONNECTED not yet reported */
	unsigned zero_wnd_adv : 1;  /* we last advertised a zero window */
	unsigned synced : 1;        /* reached ESTABLISHED at some point */
	unsigned in_accq : 1;       /* child on its listener's accept queue */
	unsigned touched : 1;       /* on the touched list */
	unsigned out_pending : 1;   /* sent from a callback: output once they all ran (touched list) */
	unsigned in_loss : 1;       /* recovery after an RTO (slow start, RFC 6675 §5.1) */
	unsigned rack_reord : 1;    /* RACK saw reordering (RFC 8985 §6.2 step 3) */
	unsigned dsack_round_on : 1;
	unsigned dsack_pending : 1; /* dsack_l/dsack_r to send */
	unsigned tlp_out : 1;       /* a tail loss probe is unacknowledged (§7.4) */
	unsigned tlp_rtx : 1;       /* ... and it was a retransmission */
	unsigned undo_ok : 1;       /* the reduction in force may be undone */

	uint16_t mss;         /* effective send MSS (payload bytes per segment, without options) */
	uint16_t our_mss;     /* what we advertise */
	uint16_t backlog, nsyn, nacc;
	uint16_t rcv_mss;     /* largest payload received: "full-sized" for delayed ACK */
	uint32_t rcv_unacked; /* bytes received since the last ACK we sent */
	int16_t err;          /* pending -errno */
	unsigned events;      /* edge bits waiting to be delivered */

	/* RFC 9293 §3.3.1 send sequence variables */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t max_sndwnd;  /* largest window the peer offered (sender SWS, RFC 5961 §5.2) */
	/* receive sequence variables */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint32_t ooo_fin_seq;
	/* RFC 7323 */
	uint32_t ts_recent, ts_offset;
	uint32_t ts_sent; /* highest TSval sent: TSvals never go back (RFC 7323 §5.4) */
	uint64_t ts_recent_at;
	/* RFC 6298 */
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	/* congestion control */
	uint32_t cwnd, ssthresh, recover;
	uint32_t prior_cwnd, prior_ssthresh; /* before the last reduction, for undo (RFC 3708) */
	uint32_t undo_retrans;               /* retransmissions not yet shown spurious (RFC 3708 §3) */
	uint32_t undo_marker;                /* SND.UNA when that reduction was made */
	uint32_t loss_tsval;                 /* TSval of the first RTO retransmission (RFC 3522) */
	/* RFC 8985 RACK-TLP (SACK connections) */
	uint64_t rack_xmit;    /* ns: send time of the most recently sent delivered segment */
	uint64_t rack_at;      /* reordering-window timer (§6.3), TD_NEVER when off */
	uint32_t rack_end;     /* its end sequence number */
	uint32_t rack_rtt_us;  /* RTT measured with that segment */
	uint32_t min_rtt_us;   /* smallest RTT seen (0: none yet) */
	uint32_t rack_fack;    /* highest end sequence delivered (reordering test) */
	uint32_t dsack_round;  /* SND.NXT when reo_wnd_mult last grew (§6.2 step 4) */
	uint32_t tlp_end;      /* SND.MAX when the outstanding TLP was sent (§7.4) */
	uint8_t reo_mult, reo_persist;
	/* RFC 2883: a duplicate segment to report as the first SACK block */
	uint32_t dsack_l, dsack_r;
	struct tcp_cc_state ccs;
	uint32_t sndbuf, rcvbuf;
	uint32_t retransmits;
	/* timers (ns, TD_NEVER when off) */
	uint64_t rtx_at, delack_at, ka_at; /* ka_at also times TIME_WAIT and FIN_WAIT_2 */
	uint64_t last_rx;
	struct td_tcp_sock *qtail;         /* listener: accept queue tail */
};

/* Issue 7's budget for an idle connection: its control block is all it holds. */
_Static_assert(sizeof(struct td_tcp_sock) <= 512, "TCP control block over 512 bytes");

/* One segment or GSO super-segment for the IP layer's offload path: the
 * header (r; its payload is ignored), the payload as it lies in the send
 * ring (up to two pieces, never copied on the way), and gso_size: 0 for one
 * segment, else the payload per segment (the data MSS) of a super-segment. */
struct td_tcp_seg_out {
	const struct td_tcp_repr *r;
	struct td_bytes pay[2];
	uint16_t gso_size;
};

/* The IP layer's TX offloads (tcp_stack.c), asked at each output: caps()
 * says whether the checksum may be left to the device and sets *gso_max to
 * the largest header + payload of a super-segment of that family (0: none);
 * output() sends like td_tcp_output_fn. */
struct td_tcp_offload_ops {
	bool (*caps)(void *ctx, uint8_t family, uint32_t *gso_max);
	int (*output)(void *ctx, const struct td_tcp_tuple *t, const struct td_tcp_seg_out *o);
};

#define TD_TCP_BCACHE 4 /* idle send/receive buffers kept for reuse */

/* Module. */
struct td_tcp {
	struct td_tcp_config cfg;
	td_tcp_output_fn output;
	void *output_ctx;
	const struct td_tcp_offload_ops *offload; /* NULL: every segment through output */
	void (*wakeup)(void *ctx);
	void *wakeup_ctx;
	struct td_tcp_sock *pool;      /* cfg.max_socks control blocks */
	struct td_tcp_sock *free_list; /* through hnext */
	uint32_t pool_used;            /* pool[pool_used..] never handed out yet */
	struct td_tcp_sock *active;    /* in use, through anext/aprev */
	struct td_tcp_sock *last;      /* last lookup hit: bulk flows skip the hash */
	uint32_t in_use;
	uint32_t nbuckets;             /* power of two */
	struct td_tcp_sock **buckets;  /* connections by 4-tuple */
	struct td_tcp_sock *listeners; /* LISTEN and bound-but-unconnected sockets */
	struct td_tcp_sock *notify;    /* sockets with events to deliver */
	struct td_tcp_sock *touched;   /* deadlines may have changed (through tnext) */
	struct td_twheel wheel;        /* one entry per connection with a deadline */
	bool wheel_started;
	uint64_t buf_bytes;
	uint64_t now;
	unsigned depth;                /* entry-point nesting (callbacks fire at depth 0) */
	unsigned batch;                /* inside a GSO super-packet's run: output at its end */
	uint16_t next_port;
	/* RFC 5961 §7 challenge-ACK budget */
	uint32_t chall_count;
	uint64_t chall_epoch;
	struct td_tcp_counters c;
	/* buffers of connections that went idle, kept for the next one that
	 * needs one: a request/response flow drains and refills both rings
	 * every transaction, and malloc/free of 256 KB cost brk() syscalls */
	struct {
		void *p;
		size_t size;
	} bcache[TD_TCP_BCACHE];
	unsigned nbcache;
	uint8_t scratch[65536 + 64];   /* contiguous copy of a segment's payload when the ring wraps */
};

/* Congestion control behind a small interface (tcp_cc.c). */
struct td_tcp_cc_ops {
	const char *name;
	void (*init)(struct td_tcp_sock *s);
	/* acked bytes newly acknowledged outside recovery: grow cwnd */
	void (*on_ack)(struct td_tcp_sock *s, uint32_t acked, uint64_t now);
	/* loss detected (fast retransmit or RTO): return the new ssthresh */
	uint32_t (*ssthresh)(struct td_tcp_sock *s, uint64_t now);
	/* an RTO: cwnd collapses to the loss window (RFC 5681 §3.1) */
	void (*on_rto)(struct td_tcp_sock *s, uint64_t now);
};
extern const struct td_tcp_cc_ops td_tcp_cc_reno;
extern const struct td_tcp_cc_ops td_tcp_cc_cubic;
const struct td_tcp_cc_ops *td_tcp_cc_get(enum td_tcp_cc_algo algo);
/* Cube root for CUBIC's K (RFC 9438 §4.2) without libm; 0 for x <= 0. */
float td_tcp_cbrt(float x);
/* Enter loss recovery on the third duplicate ACK or a SACK-detected loss. */
void td_tcp_cc_enter_recovery(struct td_tcp_sock *s, uint64_t now);
void td_tcp_cc_on_rto(struct td_tcp_sock *s, uint64_t now);

/* ---- tcp_isn.c: keyed hashes -------------------------------------------------- */
uint32_t td_tcp_isn(const struct td_tcp *tcp, const struct td_tcp_tuple *t, uint64_t now);
uint32_t td_tcp_ts_offset(const struct td_tcp *tcp, const struct td_tcp_tuple *t);
uint32_t td_tcp_tuple_hash(const struct td_tcp *tcp, const struct td_tcp_tuple *t);
/* SYN cookies: encode/decode (RFC 4987 §3.6) */
uint32_t td_tcp_cookie_make(const struct td_tcp *tcp, const struct td_tcp_tuple *t, uint32_t peer_isn,
			 uint16_t mss, uint64_t now);
/* returns the MSS encoded, or 0 when the cookie does not verify */
uint16_t td_tcp_cookie_check(const struct td_tcp *tcp, const struct td_tcp_tuple *t,
			  uint32_t peer_isn, uint32_t cookie, uint64_t now);

/* ---- tcp_reass.c: receive buffer ---------------------------------------------- */
/* Place payload at seq (already trimmed to the window); returns bytes that
 * became in order, or -ENOMEM / -ENOBUFS (counted by the caller). */
int td_tcp_reass_insert(struct td_tcp_sock *s, uint32_t seq, const uint8_t *data, uint32_t len);
uint32_t td_tcp_reass_read(struct td_tcp_sock *s, uint8_t *out, uint32_t len);
void td_tcp_reass_free(struct td_tcp_sock *s);
/* Is [l, r) already held out of order? (a duplicate: RFC 2883) */
bool td_tcp_reass_holds(const struct td_tcp_sock *s, uint32_t l, uint32_t r);
uint32_t td_tcp_rcv_buffered(const struct td_tcp_sock *s);
/* SACK blocks for the next segment (RFC 2018 §4), up to max. */
unsigned td_tcp_reass_sack_blocks(const struct td_tcp_sock *s, struct td_tcp_sack_block *out,
			       unsigned max);

/* ---- tcp_sack.c: send buffer and scoreboard ----------------------------------- */
int td_tcp_sbuf_append(struct td_tcp_sock *s, const uint8_t *data, uint32_t len);
uint32_t td_tcp_sbuf_len(const struct td_tcp_sock *s);
/* Drop acked bytes from the front (snd_una moved by n). */
void td_tcp_sbuf_ack(struct td_tcp_sock *s, uint32_t n);
/* Pointer to len contiguous bytes at offset off from SND.UNA (copied into the
 * module scratch when the ring wraps). */
const uint8_t *td_tcp_sbuf_peek(struct td_tcp_sock *s, uint32_t off, uint32_t len);
/* The same bytes in place: one piece, or two when the ring wraps (out[1]
 * empty otherwise). */
void td_tcp_sbuf_pieces(const struct td_tcp_sock *s, uint32_t off, uint32_t len,
			struct td_bytes out[2]);
void td_tcp_sbuf_free(struct td_tcp_sock *s);
/* A data segment [seq, seq+len) leaves at now: a new record, or a
 * retransmission of recorded bytes (tcp_output.c calls it for every one). */
void td_tcp_txrec_sent(struct td_tcp_sock *s, uint32_t seq, uint32_t len, uint64_t now);
/* Records below ack were delivered cumulatively: RACK learns from them
 * (call before td_tcp_sbuf_ack, which drops them). */
void td_tcp_txrec_cumack(struct td_tcp_sock *s, uint32_t ack, uint64_t now);
/* Mark the SACK blocks of an ACK in the records (RFC 2018, RFC 6675 §3);
 * returns true when new bytes were SACKed. *dsack: an RFC 2883 D-SACK came
 * with it, *dsack_rtx: the segments of retransmitted data it reported (a
 * receiver that took a super-segment whole reports all of them in one
 * block), 0 when none. */
bool td_tcp_sack_update(struct td_tcp_sock *s, const struct td_tcp_opts *o, uint32_t ack,
			uint64_t now, bool *dsack, uint32_t *dsack_rtx);
uint32_t td_tcp_sack_bytes(const struct td_tcp_sock *s);
uint32_t td_tcp_lost_bytes(const struct td_tcp_sock *s);
bool td_tcp_sack_is_sacked(const struct td_tcp_sock *s, uint32_t seq, uint32_t *run_end);
/* RFC 6675 §4 pipe as RFC 8985 keeps it: bytes sent and neither
 * acknowledged, SACKed nor deemed lost (a retransmission counts again). */
uint32_t td_tcp_sack_pipe(const struct td_tcp_sock *s);
/* Every unSACKed record is deemed lost (RTO, RFC 6675 §5.1; PTB). */
void td_tcp_txrec_mark_all_lost(struct td_tcp_sock *s);
/* The first record deemed lost and the lost records right after it that
 * one super-segment of gso_size segments can carry: each record before the
 * next exactly gso_size bytes, the last at most that, at most max bytes in
 * all, and a record only while the bytes before it are under room (RFC 6675
 * §5 (C): pipe < cwnd asked before each segment). [*start, *end); returns
 * the number of records, 0 when none is lost. max 0: the first record alone. */
uint32_t td_tcp_txrec_lost_run(const struct td_tcp_sock *s, uint32_t gso_size, uint32_t max,
			       uint32_t room, uint32_t *start, uint32_t *end);
uint32_t td_tcp_txrec_count(const struct td_tcp_sock *s);
/* Record i (0 = at SND.UNA) and its first sequence number. */
struct tcp_txrec *td_tcp_txrec_at(struct td_tcp_sock *s, uint32_t i, uint32_t *start);
void td_tcp_txrec_set_lost(struct td_tcp_sock *s, struct tcp_txrec *r, uint32_t start);
/* Forget every loss mark (a spurious RTO). */
void td_tcp_txrec_unmark_lost(struct td_tcp_sock *s);

/* ---- tcp_rack.c: RACK-TLP loss detection (RFC 8985) ----------------------------- */
/* A record was delivered (cumulatively or by SACK): §6.2 steps 2-3. */
void td_tcp_rack_delivered(struct td_tcp_sock *s, const struct tcp_txrec *r, uint64_t now);
/* §6.2 step 4 (reo_wnd in us) */
uint32_t td_tcp_rack_reo_wnd(const struct td_tcp_sock *s);
/* §6.2 step 5: mark records lost; arms the reordering timer for the rest.
 * Returns true when records were newly marked lost. */
bool td_tcp_rack_detect_loss(struct td_tcp_sock *s, uint64_t now);
/* After an ACK was processed: detect losses, enter recovery, (re)arm TLP. */
void td_tcp_rack_on_ack(struct td_tcp_sock *s, uint64_t now);
/* The reordering timer fired (§6.3). */
void td_tcp_rack_timer(struct td_tcp_sock *s, uint64_t now);
/* A D-SACK arrived: reo_wnd_mult (§6.2 step 4) and undo (RFC 3708);
 * rtx_segs: the retransmitted segments it reported. */
void td_tcp_rack_on_dsack(struct td_tcp_sock *s, uint32_t rtx_segs);
/* Arm the probe timeout instead of the RTO (running, or restarted now when
 * restart_rto) when a TLP is allowed and comes first (§7.2); returns true
 * when it did. */
bool td_tcp_tlp_arm(struct td_tcp_sock *s, uint64_t now, bool restart_rto);
/* The PTO fired (§7.3). */
void td_tcp_tlp_fire(struct td_tcp_sock *s, uint64_t now);
/* An ACK after the probe (§7.4); dsack: it carried a D-SACK. */
void td_tcp_tlp_acked(struct td_tcp_sock *s, bool dsack, uint64_t now);
void td_tcp_rack_recovery_done(struct td_tcp_sock *s);
/* Eifel detection after an RTO; true when it undid the timeout's reduction. */
bool td_tcp_rack_spurious_rto(struct td_tcp_sock *s, const struct td_tcp_repr *seg);

/* ---- tcp_socket.c: buffer memory ---------------------------------------------- */
/* malloc(size) through the module's small cache of idle buffers; release
 * keeps up to TD_TCP_BCACHE of them (any size; taken back by exact size). */
void *td_tcp_buf_alloc(struct td_tcp *tcp, size_t size);
void td_tcp_buf_release(struct td_tcp *tcp, void *p, size_t size);

/* ---- tcp_output.c ------------------------------------------------------------- */
/* Payload bytes of the largest super-segment the connection may send now
 * (a multiple of the data MSS), 0 without TSO. */
uint32_t td_tcp_tso_burst(const struct td_tcp_sock *s);
/* Send what the windows, Nagle and the state allow, plus a pending ACK. */
void td_tcp_output(struct td_tcp_sock *s, uint64_t now);
/* Send a bare ACK now. */
void td_tcp_send_ack(struct td_tcp_sock *s, uint64_t now);
/* RFC 5961 §7 challenge ACK (rate-limited). */
void td_tcp_send_challenge_ack(struct td_tcp_sock *s, uint64_t now);
/* Send one segment of up to mss bytes of data starting at seq (retransmission). */
void td_tcp_send_data_at(struct td_tcp_sock *s, uint32_t seq, uint32_t len, uint64_t now);
void td_tcp_send_syn(struct td_tcp_sock *s, uint64_t now);
/* RST in reply to seg with no connection (RFC 9293 §3.10.7.1). */
void td_tcp_send_rst_reply(struct td_tcp *tcp, const struct td_tcp_tuple *t,
			const struct td_tcp_repr *seg);
/* RST for an established connection being aborted. */
void td_tcp_send_rst(struct td_tcp_sock *s, uint64_t now);
/* SYN-ACK carrying a SYN cookie, from a listener, keeping no state. */
void td_tcp_send_cookie_synack(struct td_tcp *tcp, struct td_tcp_sock *lst, const struct td_tcp_tuple *t,
			    const struct td_tcp_repr *syn, uint64_t now);
void td_tcp_window_update_check(struct td_tcp_sock *s, uint64_t now);
uint32_t td_tcp_rcv_wnd(const struct td_tcp_sock *s);
uint32_t td_tcp_ts_now(const struct td_tcp_sock *s, uint64_t now);
/* Usable MSS for data segments, minus the timestamp option. */
uint32_t td_tcp_data_mss(const struct td_tcp_sock *s);

/* ---- tcp_timer.c -------------------------------------------------------------- */
void td_tcp_rtt_sample(struct td_tcp_sock *s, uint32_t rtt_us);
void td_tcp_timer_rearm_rtx(struct td_tcp_sock *s, uint64_t now);
void td_tcp_timer_stop_rtx(struct td_tcp_sock *s);
void td_tcp_timer_persist(struct td_tcp_sock *s, uint64_t now);
void td_tcp_timer_keepalive_reset(struct td_tcp_sock *s, uint64_t now);
void td_tcp_enter_time_wait(struct td_tcp_sock *s, uint64_t now);
uint64_t td_tcp_sock_deadline(const struct td_tcp_sock *s);
/* The socket's deadlines may change in this entry point: re-file its wheel
 * entry when the outermost entry point returns. */
void td_tcp_timer_touch(struct td_tcp_sock *s);
/* Re-file the wheel entries of touched sockets (td_tcp_leave). */
void td_tcp_timer_sync_touched(struct td_tcp *tcp);
/* The socket goes back to the pool: out of the wheel and the touched list. */
void td_tcp_timer_forget(struct td_tcp_sock *s);

/* ---- tcp_socket.c ------------------------------------------------------------- */
struct td_tcp_sock *td_tcp_sock_alloc(struct td_tcp *tcp);
void td_tcp_sock_init_conn(struct td_tcp_sock *s, uint64_t now);
struct td_tcp_sock *td_tcp_lookup(struct td_tcp *tcp, const struct td_tcp_tuple *t);
struct td_tcp_sock *td_tcp_lookup_listener(struct td_tcp *tcp, const struct td_tcp_tuple *t);
void td_tcp_hash_insert(struct td_tcp_sock *s);
void td_tcp_hash_remove(struct td_tcp_sock *s);
/* Connection is gone (CLOSED): report err to the application (0 = none),
 * drop it from queues and free it when the application no longer holds it. */
void td_tcp_conn_closed(struct td_tcp_sock *s, int err);
/* A SYN_RECEIVED child became ESTABLISHED: move it to the accept queue. */
void td_tcp_child_established(struct td_tcp_sock *s);
void td_tcp_notify(struct td_tcp_sock *s, unsigned events);
void td_tcp_enter(struct td_tcp *tcp, uint64_t now);
void td_tcp_leave(struct td_tcp *tcp);
uint16_t td_tcp_mss_for(const struct td_tcp *tcp, uint8_t family);
uint8_t td_tcp_wscale_for(uint32_t rcvbuf);
bool td_tcp_mem_charge(struct td_tcp *tcp, uint32_t bytes);
/* May a SYN create a connection under max_conns / mem_max? Counts a refusal. */
bool td_tcp_conn_admit(struct td_tcp *tcp);
void td_tcp_mem_uncharge(struct td_tcp *tcp, uint32_t bytes);

/* ---- tcp_input.c -------------------------------------------------------------- */
void tcp_process_ack_rtt(struct td_tcp_sock *s, const struct td_tcp_repr *seg, uint64_t now);

#endif
