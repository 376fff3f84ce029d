/* ICMP echo engine: targets, schedule, matching, statistics. Sans-I/O: no syscalls, no clock. */
#ifndef TUNDRA_PROBE_H
#define TUNDRA_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tundra/wire.h"

/*
 * Theory of operation.
 *
 * The engine owns a fixed array of targets, sized at td_probe_init(). Each
 * target has its own 32-bit sequence space (the low 16 bits go on the wire,
 * RFC 792 / RFC 4443 §4.1), so there is no process-wide 65 535 limit, and a
 * window of slots remembering its last W probes (W a power of two, chosen
 * from timeout/interval and count). A min-heap orders targets by the instant
 * their next probe is due.
 *
 * A slot is reused only once its probe has ended (reply, error, timeout):
 * when all W slots of a target await their timeout, its next send waits
 * (td_probe_window_waits) rather than declaring a probe lost before -W;
 * in flood/adaptive mode (the rate set by replies) the oldest probe is
 * forgotten instead (td_probe_evicted), never counted as a timeout.
 * W is at most TD_PROBE_WINDOW_MAX, and the derived W of every target
 * shrinks (halving) while targets x W exceeds TD_PROBE_SLOTS_MAX.
 *
 *   td_probe_poll(now, &tx)   -> next echo request that is due (bytes to send)
 *   td_probe_input(now, ...)  -> a received ICMP message (reply or error)
 *   td_probe_error(now, ...)  -> an ICMP error from a datagram socket's error queue
 *   td_probe_next_deadline()  -> when poll must run again
 *
 * Every probe's payload starts with an authentication block:
 *
 *   0..3   target index        (big endian)
 *   4..7   32-bit sequence
 *   8..15  send instant (ns, the caller's monotonic clock)
 *   16..23 SipHash-2-4 under the per-run key over bytes 0..15 and the target's address
 *          (4 or 16 bytes, and the scope of a link-local one: a MAC made for
 *          fe80::1%eth0 fails for %eth1)
 *   24..   the fill pattern (-p), repeated
 *
 * A reply is accepted only when its MAC verifies (constant-time compare),
 * its source is the target's address (and scope), its wire sequence equals the low bits
 * of the authenticated one and (on raw sockets) its identifier is the
 * target's random identifier. Payloads shorter than 24 bytes carry no MAC;
 * such replies are matched by source address and 16-bit sequence and counted
 * as unauthenticated.
 *
 * Time: `now` is the caller's monotonic clock in ns; it drives the schedule
 * and timeouts. RTTs come from *stamps* (any clock, typically the kernel's
 * CLOCK_REALTIME SO_TIMESTAMPING stamps) given with td_probe_tx_stamp() and in
 * td_probe_rx.stamp_ns; when either stamp is missing the RTT falls back to the
 * difference of the monotonic instants.
 */

#define TD_PROBE_AUTH_LEN 24      /* bytes of the authentication block */
#define TD_PROBE_PATTERN_MAX 16   /* -p: at most 16 pattern bytes, as iputils */
/* ICMP data bytes: 65 535 less the ICMP header for ICMPv6 (the IPv6 payload
 * length excludes the fixed header), less the IPv4 header too for ICMP. */
#define TD_PROBE_PAYLOAD_MAX 65527
#define TD_PROBE_PAYLOAD_MAX_V4 65507
#define TD_PROBE_KEY_LEN 16
/* At most 65 536 probes of one target in flight: the slot of a probe is its
 * wire sequence (16 bits, RFC 792) modulo W, so unauthenticated replies
 * (payload < 24 bytes) still name their slot unambiguously. */
#define TD_PROBE_WINDOW_MAX 65536
/* Memory bound of derived windows: targets x W slots (40 bytes each: the
 * slot and two timeout-FIFO entries), 2^23 slots = 320 MiB at most, touched
 * only as probes are sent. */
#define TD_PROBE_SLOTS_MAX (1u << 23)

enum td_probe_family { TD_PROBE_V4 = 4, TD_PROBE_V6 = 6 };

/* An address: family 4 uses a[0..3] (network order), family 6 a[0..15].
 * scope: the interface index (sin6_scope_id, RFC 4007 §6) of an IPv6
 * address that needs one (link-local unicast, interface- and link-local
 * multicast), 0 = none; ignored for every other address. It is part of the
 * target's identity: fe80::1 on two links is two targets, and a reply
 * matches only with the scope it arrived with (msg_name's sin6_scope_id,
 * which the kernel always fills for such sources). A link-local target must
 * carry its scope even when the socket is bound to its device. */
struct td_probe_addr {
	uint8_t family;
	uint8_t a[16];
	uint32_t scope;
};

/* RFC 4007 §6: true for the addresses whose scope is part of their identity
 * (the kernel's __ipv6_addr_needs_scope_id): IPv6 link-local unicast and
 * interface- or link-local multicast. */
bool td_probe_addr_needs_scope(const struct td_probe_addr *a);

enum td_probe_sock { TD_PROBE_SOCK_DGRAM = 0, TD_PROBE_SOCK_RAW = 1 };

/* Kinds of ICMP error, per-target counters index this. */
enum td_probe_err_kind {
	TD_PROBE_ERR_UNREACH = 0,  /* v4 type 3, v6 type 1 */
	TD_PROBE_ERR_TIME_EXCEEDED,/* v4 type 11, v6 type 3 */
	TD_PROBE_ERR_PARAM,        /* v4 type 12, v6 type 4 */
	TD_PROBE_ERR_TOO_BIG,      /* v4 3/4 (frag needed), v6 type 2 */
	TD_PROBE_ERR_REDIRECT,     /* v4 type 5 */
	TD_PROBE_ERR_OTHER,        /* source quench, local errors (e.g. EMSGSIZE) */
	TD_PROBE_ERR_KINDS
};

/* Engine-wide drop counters: each names one reason a received message was not a reply. */
enum td_probe_drop {
	TD_PROBE_DROP_MALFORMED = 0, /* did not parse (truncated, bad checksum, bad IP header) */
	TD_PROBE_DROP_NOT_ECHO,      /* an ICMP type that is neither echo reply nor an error (e.g. our own request on raw) */
	TD_PROBE_DROP_FOREIGN,       /* raw socket: identifier not the target's (another pinger's traffic) */
	TD_PROBE_DROP_FORGED,        /* MAC did not verify, or wire seq differs from the authenticated one */
	TD_PROBE_DROP_WRONG_SOURCE,  /* authenticated payload but from an address that is not the target */
	TD_PROBE_DROP_UNKNOWN,       /* unauthenticated reply with no target of that source/sequence */
	TD_PROBE_DROP_STALE,         /* sequence older than the target's window */
	TD_PROBE_DROP_ERR_UNMATCHED, /* ICMP error quoting a datagram that is not one of our probes */
	TD_PROBE_DROP_COUNT
};

const char *td_probe_drop_name(enum td_probe_drop d);
const char *td_probe_err_kind_name(enum td_probe_err_kind k);

/* Bounded-memory RTT histogram: log-linear, TD_PROBE_HIST_SUB buckets per
 * power of two from 1.024 us to ~137 s (relative error <= 1/(2*SUB)), with an
 * underflow bucket. Values below TD_PROBE_EXACT samples are kept exactly. */
#define TD_PROBE_HIST_SUB 16
#define TD_PROBE_HIST_MIN_SHIFT 10
#define TD_PROBE_HIST_OCTAVES 27
#define TD_PROBE_HIST_BUCKETS (1 + TD_PROBE_HIST_SUB * TD_PROBE_HIST_OCTAVES)
#define TD_PROBE_EXACT 8

struct td_probe_hist {
	uint64_t count;
	uint32_t b[TD_PROBE_HIST_BUCKETS];
};

/* Per-target statistics (and, summed, the engine-wide ones). */
struct td_probe_stats {
	uint64_t transmitted;
	uint64_t received;      /* distinct replies in time (not duplicates, not late) */
	uint64_t duplicates;
	uint64_t out_of_order;  /* reply whose sequence is below one already received */
	uint64_t late;          /* reply after its probe timed out: not counted received */
	uint64_t timeouts;
	uint64_t corrupted;     /* pattern mismatch or truncated payload (still counted received) */
	uint64_t forged;        /* MAC failures attributed to this target's address */
	uint64_t unauthenticated; /* replies matched without a MAC (payload < 24 bytes) */
	uint64_t send_errors;
	uint64_t errors;        /* ICMP errors about our probes */
	uint64_t err_kind[TD_PROBE_ERR_KINDS];
	uint8_t last_err_type, last_err_code; /* of the latest ICMP error */
	uint64_t rtt_min_ns, rtt_max_ns, rtt_sum_ns;
	double rtt_sum2;        /* sum of squares in ns^2, for mdev */
	double jitter_ns;       /* RFC 3550 §6.4.1 interarrival jitter estimate J */
	uint64_t last_rtt_ns;
	/* iputils' smoothed RTT (ping_common.c gather_statistics: rtt += sample
	 * - rtt/8 on 8x scaled values): EWMA with gain 1/8, the first reply
	 * seeds it; replies in time only (iputils also feeds it duplicates).
	 * Over several targets (totals): the mean of the per-target EWMAs of
	 * the targets with replies. */
	uint64_t rtt_ewma_ns;
	int16_t last_ttl, last_tos; /* -1 unknown */
	bool kernel_tx_stamps;  /* at least one RTT used a kernel TX stamp */
};

/* Standard deviation of the RTTs (iputils' mdev), ns; 0 with fewer than one reply. */
uint64_t td_probe_stats_mdev_ns(const struct td_probe_stats *s);

enum td_probe_ev_kind {
	TD_PROBE_EV_REPLY = 0,  /* reply (flags say dup / out of order / corrupted / late) */
	TD_PROBE_EV_TIMEOUT,    /* no reply within the timeout */
	TD_PROBE_EV_ERROR,      /* ICMP error about one of our probes */
	TD_PROBE_EV_FORGED,     /* reply failed authentication (target may be TD_PROBE_NONE) */
	TD_PROBE_EV_SEND_ERROR, /* the caller reported a failed send */
	TD_PROBE_EV_DONE        /* a target sent its last probe and it was answered or timed out
				 * (count_replies: it has count answers) */
};

#define TD_PROBE_NONE UINT32_MAX

/* One event, valid only during the callback. */
struct td_probe_event {
	enum td_probe_ev_kind kind;
	uint32_t target;          /* index, or TD_PROBE_NONE */
	uint32_t seq;             /* 32-bit sequence (wire seq = seq & 0xffff) */
	uint64_t now;             /* instant the event was produced */
	uint64_t rtt_ns;          /* REPLY */
	bool kernel_stamps;       /* REPLY: RTT from kernel TX and RX stamps */
	bool dup, out_of_order, late, corrupted, truncated, unauthenticated;
	uint32_t bad_offset;      /* corrupted: first wrong payload byte (offset in ICMP data) */
	uint8_t bad_byte, want_byte;
	const uint8_t *data;      /* corrupted: the echo data as received (data_len bytes);
	                           * valid during the callback only */
	uint32_t data_len;
	uint32_t bytes;           /* REPLY: ICMP message length (header + data) */
	int16_t ttl, tos;         /* -1 unknown */
	uint8_t icmp_type, icmp_code; /* ERROR: as on the wire, family's numbering */
	enum td_probe_err_kind err_kind;
	uint32_t info;            /* ERROR: MTU for too-big, pointer for param problem;
	                           * SEND_ERROR: EMSGSIZE's local MTU, 0 unknown */
	int send_errno;           /* SEND_ERROR / local errors: positive errno */
	struct td_probe_addr from;/* replier or reporting router */
};

typedef void (*td_probe_event_fn)(void *ctx, const struct td_probe_event *ev);

struct td_probe_config {
	uint32_t max_targets;     /* capacity fixed at init */
	uint32_t count;           /* probes per target, 0 = until td_probe_stop() */
	/* iputils -c with -w (ping(8): "ping does not stop after count packet
	 * are sent, it waits either for deadline expire or until count probes
	 * are answered or for some error notification from network"): a target
	 * is probed at the interval until it has `count` answers, an answer
	 * being a reply or an ICMP error about one of its probes (iputils
	 * main_loop: nreceived + nerrors >= npackets); the engine is done when
	 * every target has, even with probes still in flight (they stay counted
	 * as transmitted, as iputils exits at once). The deadline is the caller's. */
	bool count_replies;
	/* A target's first ICMP error about one of its probes (not a redirect)
	 * ends its probing, as count answers would (iputils with -w, main_loop:
	 * `if (deadline && nerrors) break`): done once every target is answered. */
	bool stop_on_error;
	uint64_t interval_ns;     /* between two probes of one target */
	uint64_t spacing_ns;      /* minimum gap between any two sends (all targets), 0 = none */
	uint64_t timeout_ns;      /* a probe without reply after this is a timeout */
	uint32_t preload;         /* -l: first probes of each target sent back to back (>= 1) */
	bool send_on_reply;       /* flood / adaptive: send the next probe when all are answered */
	uint64_t min_gap_ns;      /* with send_on_reply: never two probes of a target closer than this */
	uint32_t payload_len;     /* ICMP data bytes (-s), <= TD_PROBE_PAYLOAD_MAX */
	uint8_t pattern[TD_PROBE_PATTERN_MAX];
	uint8_t pattern_len;      /* 0: data byte i is (uint8_t)i, like iputils */
	uint8_t key[TD_PROBE_KEY_LEN]; /* random per run: MAC key and identifier seed */
	enum td_probe_sock sock[2];    /* [0] IPv4, [1] IPv6: raw sockets get a per-target identifier */
	uint32_t window;          /* slots per target (power of two, <= TD_PROBE_WINDOW_MAX); 0 = derive
				   * from timeout/interval, preload and count, within TD_PROBE_SLOTS_MAX */
	bool hist_all;            /* reserve a histogram for every target (else only up to hist_pool) */
	uint32_t hist_pool;       /* histograms available when !hist_all */
	td_probe_event_fn on_event; /* may be NULL */
	void *ctx;
	/* spacing is a token bucket of this depth: after a pause up to
	 * spacing_burst_ns / spacing_ns probes may leave back to back, so the
	 * caller can wake once a millisecond instead of once per probe; the
	 * average rate stays 1 / spacing. 0 = strict spacing. */
	uint64_t spacing_burst_ns;
	/* Raw-socket identifiers satisfy ident % ident_mod == ident_rem (0 or 1:
	 * any). Loops that each run an engine over a share of the targets give
	 * each engine its remainder; a socket filter per loop (td_icmp_split)
	 * then queues every reply on the socket of the loop that owns it. */
	uint16_t ident_mod, ident_rem;
};

/* Fill cfg with defaults: 1 s interval, 10 s timeout, 56 bytes, window derived. */
void td_probe_config_default(struct td_probe_config *cfg);

struct td_probe; /* opaque */

/* Allocate the engine and all its pools (the only allocation). Returns 0 or -errno
 * (-EINVAL on a bad config, -ENOMEM). *out owned by the caller: td_probe_free(). */
int td_probe_new(struct td_probe **out, const struct td_probe_config *cfg);
void td_probe_free(struct td_probe *p);

/* Add a target (before or after start); *id gets its index. -ENOSPC when full. */
int td_probe_add(struct td_probe *p, const struct td_probe_addr *addr, uint32_t *id);
/* Change a target's address (DNS re-resolution); its statistics stay. */
int td_probe_set_addr(struct td_probe *p, uint32_t id, const struct td_probe_addr *addr);
uint32_t td_probe_count(const struct td_probe *p);
/* ICMP bytes of every probe: 8 + payload_len (what a receive buffer must hold). */
size_t td_probe_packet_len(const struct td_probe *p);
const struct td_probe_addr *td_probe_target_addr(const struct td_probe *p, uint32_t id);
/* The identifier probes to target id carry on a raw socket (dgram: kernel's). */
uint16_t td_probe_target_ident(const struct td_probe *p, uint32_t id);

/* First probes are due at now + i*spacing. */
void td_probe_start(struct td_probe *p, uint64_t now);
/* No more probes are scheduled; outstanding ones still time out. */
void td_probe_stop(struct td_probe *p);

/* A probe to send, filled by td_probe_poll(). `pkt` points into the engine's
 * buffer and stays valid until the next td_probe_poll(). */
struct td_probe_tx {
	uint32_t target;
	uint32_t seq;
	uint8_t family;
	const struct td_probe_addr *dst;
	const uint8_t *pkt;       /* ICMP header + data (no IP header) */
	size_t len;
};

/*
 * Run timeouts up to now, then, if a probe is due, fill tx and return 1
 * (the probe counts as transmitted); return 0 when nothing is due. Call
 * until it returns 0. Copy tx->pkt before the next call.
 */
int td_probe_poll(struct td_probe *p, uint64_t now, struct td_probe_tx *tx);

/* The caller could not send the last probe(s) polled (EAGAIN/ENOBUFS): give
 * them back, newest first; they will be polled again. */
void td_probe_unsend(struct td_probe *p, const struct td_probe_tx *tx);

/* The send failed for good (e.g. ENETUNREACH): counted, event emitted, no timeout.
 * info: the MTU that refused it for EMSGSIZE when the kernel said it, else 0. */
void td_probe_send_failed(struct td_probe *p, uint32_t target, uint32_t seq, int err,
			  uint32_t info, uint64_t now);

/* The TX stamp of a sent probe (kernel: SO_TIMESTAMPING; else the caller's
 * clock read next to sendmsg). A later kernel stamp replaces a user one. */
void td_probe_tx_stamp(struct td_probe *p, uint32_t target, uint32_t seq, uint64_t stamp_ns,
		       bool kernel);

/* Metadata of a received message. */
struct td_probe_rx {
	uint8_t family;
	enum td_probe_sock sock;
	bool has_ip_header;       /* raw IPv4 sockets deliver the IP header */
	struct td_probe_addr src; /* msg_name */
	uint64_t stamp_ns;        /* 0 = none */
	bool kernel_stamp;
	int16_t ttl, tos;         /* from cmsgs, -1 unknown (overridden by an IP header) */
};

/* Feed one received message. Returns 0 (a reply or error handled) or a
 * positive enum td_probe_drop + 1 when it was dropped (counted). */
int td_probe_input(struct td_probe *p, uint64_t now, const void *buf, size_t len,
		   const struct td_probe_rx *rx);

/* An ICMP error from a datagram socket's error queue (IP_RECVERR). */
struct td_probe_icmp_err {
	uint8_t family;
	struct td_probe_addr offender; /* router that reported it (SO_EE_OFFENDER) */
	struct td_probe_addr dst;      /* original destination (msg_name) */
	uint8_t type, code;            /* as on the wire */
	uint32_t info;                 /* ee_info: MTU for too-big */
	const uint8_t *quoted;         /* our echo request as quoted: ICMP header + data */
	size_t quoted_len;
	bool local;                    /* SO_EE_ORIGIN_LOCAL (e.g. EMSGSIZE): no router */
	int err;                       /* ee_errno */
};
int td_probe_error(struct td_probe *p, uint64_t now, const struct td_probe_icmp_err *e);

/* Earliest instant poll must run (next send or timeout); UINT64_MAX when none. */
uint64_t td_probe_next_deadline(const struct td_probe *p);

/* The slots per target chosen at td_probe_new() (cfg.window or derived). */
uint32_t td_probe_window(const struct td_probe *p);
/* Window pressure, engine-wide (not per target: a sweep's targets stay
 * small). Sends delayed because every slot of the target's window held a
 * probe still within its timeout (see TD_PROBE_WINDOW_MAX): */
uint64_t td_probe_window_waits(const struct td_probe *p);
/* Flood/adaptive (send_on_reply) only: probes forgotten while in flight
 * because their slot was needed after W newer probes; not timeouts, still
 * transmitted without reply (loss), as iputils would count them. */
uint64_t td_probe_evicted(const struct td_probe *p);

/* True when every target sent its count and nothing is outstanding (or stopped and drained);
 * with count_replies / stop_on_error, also when every target has its answers. */
bool td_probe_done(const struct td_probe *p);
/* Outstanding probes (sent, neither answered nor timed out). */
uint64_t td_probe_outstanding(const struct td_probe *p);
/* The instant (the caller's clock, as passed to poll) of the latest send; 0 before the first. */
uint64_t td_probe_last_send(const struct td_probe *p);

const struct td_probe_stats *td_probe_target_stats(const struct td_probe *p, uint32_t id);
/* Engine-wide sums over all targets. */
void td_probe_totals(const struct td_probe *p, struct td_probe_stats *out);
/* Engine-wide drop counters and ICMP errors by [type][code] (codes >= 16 fold into 15). */
uint64_t td_probe_drops(const struct td_probe *p, enum td_probe_drop d);
uint64_t td_probe_err_count(const struct td_probe *p, uint8_t family, uint8_t type, uint8_t code);

/* RTT percentile (q in 0..100) of one target, ns; 0 when no reply. Exact up to
 * TD_PROBE_EXACT replies, else from the histogram (bucket midpoint, clamped to min/max). */
uint64_t td_probe_percentile(const struct td_probe *p, uint32_t id, double q);
/* Percentile over all targets' replies. */
uint64_t td_probe_percentile_all(const struct td_probe *p, double q);
/* Totals and all-target percentiles over n engines that each own a share of
 * one run's targets (several loops): the same figures one engine over all the
 * targets would give (percentiles from the merged histograms). */
void td_probe_totals_many(const struct td_probe *const *ps, unsigned n, struct td_probe_stats *out);
uint64_t td_probe_percentile_all_many(const struct td_probe *const *ps, unsigned n, double q);
/* acc += h, bucket by bucket. */
void td_probe_hist_merge(struct td_probe_hist *acc, const struct td_probe_hist *h);
/* The target's histogram, NULL when it has none yet. */
const struct td_probe_hist *td_probe_target_hist(const struct td_probe *p, uint32_t id);
/* Every reply of every target. */
const struct td_probe_hist *td_probe_all_hist(const struct td_probe *p);
/* Lower bound (ns) of histogram bucket i; i = TD_PROBE_HIST_BUCKETS gives the top. */
uint64_t td_probe_hist_bucket_lo(unsigned i);

/* The payload MAC is td_siphash24() from tundra/wire.h. */

#endif
