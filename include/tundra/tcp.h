/* TCP (RFC 9293): a sans-I/O core and its socket-like, nonblocking API. */
#ifndef TUNDRA_TCP_H
#define TUNDRA_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tundra/wire.h"

/*
 * Model.
 *
 * One struct td_tcp is the TCP of one host: its connections, listeners,
 * timers, counters and secret keys. It never performs I/O and never reads a
 * clock. The embedding layer (the IP layer of tundra stack, or a test) hands it
 * segments with td_tcp_input() and the current time, calls td_tcp_poll() when
 * td_tcp_next_deadline() has passed, and receives every segment the core wants
 * sent through the output hook given at init, synchronously, as a decoded
 * repr (header fields plus a payload view that is valid only during the call).
 *
 * Time is a monotonic count of nanoseconds (uint64_t now), supplied by the
 * caller on every entry point.
 *
 * Sockets are handles (struct td_tcp_sock *) owned by the application from
 * td_tcp_socket()/td_tcp_accept() until td_tcp_close(); after close the core
 * keeps the connection as long as the protocol needs (FIN exchange,
 * TIME_WAIT) and then returns it to the pool. All calls are nonblocking and
 * return 0 / a count, or a negative errno: -EAGAIN (would block),
 * -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EPIPE, -ENOTCONN, -EISCONN,
 * -EADDRINUSE, -EINVAL, -ENOMEM, -ENOBUFS, -EHOSTUNREACH ...
 *
 * Readiness: each socket may carry a callback fired with the TD_TCP_EV_* bits
 * that became true. Callbacks are fired only at the end of a top-level entry
 * point (td_tcp_input, td_tcp_poll, td_tcp_icmp_error, or an API call), never
 * from inside protocol processing, so a callback may call any API function,
 * including td_tcp_close() on its own socket. A call that fails returns an
 * error and never fires a callback later on its account. td_tcp_set_wakeup()
 * gives one module-wide hook, fired whenever any socket has new events; the os
 * layer turns it into an eventfd an application can put in its own epoll.
 */

struct td_tcp;
struct td_tcp_sock;

/* One side of a connection. IPv4 addresses are the 4 network-order bytes in
 * addr[0..3] (rest zero); IPv6 addresses the 16 network-order bytes. */
struct td_tcp_endpoint {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

/* A segment's address pair, from the point of view of this host. */
struct td_tcp_tuple {
	uint8_t family; /* 4 or 6 */
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
};

/* RFC 9293 §3.3.2 state names. */
enum td_tcp_state {
	TD_TCP_CLOSED = 0,
	TD_TCP_LISTEN,
	TD_TCP_SYN_SENT,
	TD_TCP_SYN_RECEIVED,
	TD_TCP_ESTABLISHED,
	TD_TCP_FIN_WAIT_1,
	TD_TCP_FIN_WAIT_2,
	TD_TCP_CLOSE_WAIT,
	TD_TCP_CLOSING,
	TD_TCP_LAST_ACK,
	TD_TCP_TIME_WAIT,
	TD_TCP_STATE_COUNT
};

const char *td_tcp_state_name(enum td_tcp_state s);

enum td_tcp_cc_algo { TD_TCP_CC_CUBIC = 0, TD_TCP_CC_RENO = 1 };

struct td_tcp_config {
	uint32_t max_socks;      /* control blocks in the pool (sockets, children, TIME_WAIT) */
	uint32_t sndbuf, rcvbuf; /* bytes per connection, allocated while holding data */
	uint64_t mem_max;        /* ceiling on bytes for all connections: control blocks plus
				  * buffers (0 = none); beyond it buffers are refused
				  * (mem_limit_drop) and new connections reset (conn_limit_refused) */
	uint32_t max_conns;      /* control blocks in use beyond which an incoming SYN is
				  * answered with RST (conn_limit_refused); 0 = the pool size */
	uint16_t mtu4, mtu6;     /* link MTU: our MSS is mtu - 40 (v4) / mtu - 60 (v6) */
	uint32_t rto_min_ms;     /* RFC 6298 (2.4) lower bound; Linux uses 200 ms */
	uint32_t rto_max_ms;     /* upper bound of the backed-off RTO */
	uint32_t rto_init_ms;    /* RFC 6298 (2.1): 1 s */
	uint32_t syn_retries;    /* SYN / SYN-ACK retransmissions before giving up */
	uint32_t retries;        /* data retransmissions before giving up (RFC 9293 R2) */
	uint32_t delack_ms;      /* delayed-ACK timer, at most 200 ms (RFC 9293 §3.8.6.3) */
	uint32_t msl_ms;         /* TIME_WAIT lasts 2*MSL */
	uint32_t fin_wait2_ms;   /* orphaned FIN_WAIT_2 timeout (0 = none) */
	uint32_t ka_idle_ms, ka_intvl_ms, ka_cnt; /* keepalive, when a socket enables it */
	uint32_t challenge_ack_limit; /* RFC 5961 §7 challenge ACKs per second, module-wide */
	uint32_t syn_backlog;    /* half-open connections per listener before SYN cookies */
	bool sack, timestamps, wscale, syncookies;
	enum td_tcp_cc_algo cc;
	uint8_t key[16];         /* secret for ISNs (RFC 6528) and SYN cookies; random per run */
};

/* Defaults: 1024 sockets, 256 KiB buffers, MTU 1500, RTO min 200 ms, max
 * 120 s, init 1 s, 6 SYN retries, 15 retries, delayed ACK 40 ms, MSL 30 s,
 * FIN_WAIT_2 60 s, keepalive 7200/75/9, 1000 challenge ACKs/s, SYN backlog
 * 128, every option on, CUBIC. The key is zero: callers must fill it. */
void td_tcp_config_default(struct td_tcp_config *cfg);

/* Output hook: send one segment from t->laddr:lport to t->raddr:rport. The
 * repr (and its payload) is valid only during the call. Returns 0 or -errno
 * (a failure is counted; TCP recovers as from loss). */
typedef int (*td_tcp_output_fn)(void *ctx, const struct td_tcp_tuple *t,
				const struct td_tcp_repr *seg);

/* Create a TCP module. cfg and output are copied/kept; ctx is passed to output. */
int td_tcp_new(struct td_tcp **out, const struct td_tcp_config *cfg, td_tcp_output_fn output,
	       void *ctx);
/* Free the module and every connection (no segments are sent). */
void td_tcp_free(struct td_tcp *tcp);

/* A decoded segment arrived for this host (t from this host's point of view:
 * laddr is the segment's destination). The IP layer has verified the checksum
 * and parsed it with td_tcp_parse(). */
void td_tcp_input(struct td_tcp *tcp, uint64_t now, const struct td_tcp_tuple *t,
		  const struct td_tcp_repr *seg);
/* Raw-bytes convenience: check (checksum with pseudo-header unless flags has
 * TD_WIRE_SKIP_CSUM), parse, and td_tcp_input(). Bad segments are counted. */
void td_tcp_input_bytes(struct td_tcp *tcp, uint64_t now, const struct td_tcp_tuple *t,
			const void *seg, size_t len, unsigned flags);

/* ICMP errors about a segment we sent (quoted header gives t and seq). */
enum td_tcp_icmp_kind {
	TD_TCP_ICMP_PTB,         /* frag needed (RFC 1191) / packet too big (RFC 8201): mtu */
	TD_TCP_ICMP_PORT_UNREACH,
	TD_TCP_ICMP_HOST_UNREACH,
	TD_TCP_ICMP_NET_UNREACH,
	TD_TCP_ICMP_PROHIBITED,
};
/* Returns true when a connection owned the quoted segment. */
bool td_tcp_icmp_error(struct td_tcp *tcp, uint64_t now, const struct td_tcp_tuple *t,
		       enum td_tcp_icmp_kind kind, uint32_t mtu, uint32_t seq);

/* Run expired timers. */
void td_tcp_poll(struct td_tcp *tcp, uint64_t now);
/* Earliest instant td_tcp_poll() has work (UINT64_MAX when none). */
uint64_t td_tcp_next_deadline(const struct td_tcp *tcp);

/* Control blocks in use (sockets, children, TIME_WAIT); 0 after every socket
 * was closed and every connection finished. Buffer bytes allocated. */
uint32_t td_tcp_socks_in_use(const struct td_tcp *tcp);
uint64_t td_tcp_buf_bytes(const struct td_tcp *tcp);

/* ---- counters --------------------------------------------------------------- */

#define TD_TCP_COUNTERS(X)                                                           \
	X(rx_segs) X(tx_segs) X(tx_errors) X(rx_bytes) X(tx_bytes)                    \
	X(rx_bad_segment) X(rx_bad_csum) X(rx_bad_option) X(rx_no_socket)            \
	X(rx_unacceptable) X(rx_paws_reject) X(rx_bad_ack) X(rx_rst_ignored)          \
	X(rx_syn_in_window) X(rx_ooo_segs) X(rx_ooo_drop) X(rx_dup_segs)             \
	X(rx_rcvbuf_drop) X(rx_listen_overflow) X(rx_syn_queue_full) X(rx_pool_empty) \
	X(rx_cookie_bad) X(tx_cookies) X(rx_cookies_ok) X(tx_rst) X(tx_challenge_ack) \
	X(challenge_ack_limited) X(retransmits) X(rto_expired) X(fast_retransmits)    \
	X(sack_retransmits) X(spurious_dup) X(persist_probes) X(keepalive_probes)     \
	X(conn_timeouts) X(conn_resets_rx) X(conn_refused) X(active_opens)            \
	X(passive_opens) X(established) X(time_wait_reused) X(mem_limit_drop)         \
	X(icmp_ptb) X(icmp_unreach) X(delayed_acks) X(tx_window_updates)          \
	X(conn_limit_refused) X(rack_lost) X(tlp_probes) X(tlp_recoveries) X(rx_dsack)    \
	X(tx_dsack) X(undo_dsack) X(undo_rto)

struct td_tcp_counters {
#define TD_TCP_X(n) uint64_t n;
	TD_TCP_COUNTERS(TD_TCP_X)
#undef TD_TCP_X
};

const struct td_tcp_counters *td_tcp_counters(const struct td_tcp *tcp);
/* Names in declaration order, NULL-terminated (for JSON / metrics). */
extern const char *const td_tcp_counter_names[];

/* ---- sockets ------------------------------------------------------------------ */

#define TD_TCP_EV_READABLE 0x1u  /* recv() would not return -EAGAIN (data, EOF or error) */
#define TD_TCP_EV_WRITABLE 0x2u  /* send() would accept bytes */
#define TD_TCP_EV_ACCEPT 0x4u    /* accept() has a connection */
#define TD_TCP_EV_CONNECTED 0x8u /* the active open completed */
#define TD_TCP_EV_ERROR 0x10u    /* an error is pending (td_tcp_sock_error) */
#define TD_TCP_EV_HUP 0x20u      /* peer's FIN received (EOF after the data) */

typedef void (*td_tcp_event_fn)(struct td_tcp_sock *s, unsigned events, void *user);

/* A new unbound socket of family 4 or 6. */
int td_tcp_socket(struct td_tcp *tcp, uint8_t family, struct td_tcp_sock **out);
/* Local address (all-zero = any) and port (0 = ephemeral, chosen at
 * listen/connect). -EADDRINUSE when another socket holds it. */
int td_tcp_bind(struct td_tcp_sock *s, const struct td_tcp_endpoint *local);
/* Passive open; backlog bounds the accept queue (1..65535). */
int td_tcp_listen(struct td_tcp_sock *s, int backlog);
/* Take one established connection off the accept queue, or -EAGAIN. */
int td_tcp_accept(struct td_tcp_sock *listener, struct td_tcp_sock **out);
/* Active open from local (must have been bound to a concrete address) to
 * remote. Returns 0 when the SYN was sent: EV_CONNECTED or EV_ERROR follows. */
int td_tcp_connect(struct td_tcp_sock *s, const struct td_tcp_endpoint *remote, uint64_t now);
/* Queue bytes; returns how many were taken (may be fewer than len), -EAGAIN
 * when the send buffer is full, or an error. */
ssize_t td_tcp_send(struct td_tcp_sock *s, const void *buf, size_t len, uint64_t now);
/* Read bytes: a count, 0 at end of stream, -EAGAIN, or the pending error. */
ssize_t td_tcp_recv(struct td_tcp_sock *s, void *buf, size_t len, uint64_t now);
/* SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2 (as <sys/socket.h>). */
int td_tcp_shutdown(struct td_tcp_sock *s, int how, uint64_t now);
/* Release the handle. Graceful (FIN) unless unread data remains or linger 0
 * was asked, in which case the connection is reset (RFC 9293 §3.10.4, RFC 2525). */
int td_tcp_close(struct td_tcp_sock *s, uint64_t now);
/* Abortive close: RST now, handle released. */
int td_tcp_abort(struct td_tcp_sock *s, uint64_t now);

enum td_tcp_sockopt {
	TD_TCP_OPT_NODELAY,    /* 1 disables Nagle */
	TD_TCP_OPT_SNDBUF,     /* bytes; before data is queued */
	TD_TCP_OPT_RCVBUF,     /* bytes; before connect/listen (the window scale depends on it) */
	TD_TCP_OPT_KEEPALIVE,  /* 1 enables keepalive with the module's idle/intvl/cnt */
	TD_TCP_OPT_CC,         /* enum td_tcp_cc_algo */
	TD_TCP_OPT_LINGER0,    /* 1: close() resets instead of FIN */
};
int td_tcp_setopt(struct td_tcp_sock *s, enum td_tcp_sockopt opt, int value);
int td_tcp_getopt(const struct td_tcp_sock *s, enum td_tcp_sockopt opt, int *value);

void td_tcp_set_callback(struct td_tcp_sock *s, td_tcp_event_fn fn, void *user);
/* Module-wide hook fired (at most once per entry point) when any socket got events. */
void td_tcp_set_wakeup(struct td_tcp *tcp, void (*fn)(void *ctx), void *ctx);
/* Current readiness (TD_TCP_EV_* bits), as poll() would report. */
unsigned td_tcp_events(const struct td_tcp_sock *s);
/* Pending error (negative errno) or 0; reading it clears it (SO_ERROR). */
int td_tcp_sock_error(struct td_tcp_sock *s);
enum td_tcp_state td_tcp_sock_state(const struct td_tcp_sock *s);
void td_tcp_sock_tuple(const struct td_tcp_sock *s, struct td_tcp_tuple *t);

/* Per-connection figures (like TCP_INFO). */
struct td_tcp_info {
	enum td_tcp_state state;
	uint32_t mss, cwnd, ssthresh, srtt_us, rttvar_us, rto_ms;
	uint32_t snd_wnd, rcv_wnd, unacked, retransmits;
	uint8_t snd_wscale, rcv_wscale;
	bool sack, timestamps;
};
void td_tcp_sock_info(const struct td_tcp_sock *s, struct td_tcp_info *info);

/* ---- attachment to the IP layer (tundra/stack.h) -------------------------------- */

struct td_stack;
struct td_ip_addr;

/* Create a TCP module as the stack's TCP transport: segments in through the
 * IP dispatch, out through td_stack_ip_sendv (DF set), ICMP errors in, timers
 * from td_stack_poll, counters listed with the stack's. cfg's MTUs are
 * replaced by the stack's. The module is freed by td_stack_destroy(). */
int td_tcp_attach(struct td_stack *st, const struct td_tcp_config *cfg, struct td_tcp **out);

/* An endpoint from a stack address (either family; family 0 = any). */
void td_tcp_endpoint_from_ip(struct td_tcp_endpoint *ep, const struct td_ip_addr *a,
			     uint16_t port);

/* ---- built-in services (tcp_services.c) ------------------------------------------ */

#define TD_TCP_SVC_ECHO 0x1u    /* RFC 862, port 7 */
#define TD_TCP_SVC_DISCARD 0x2u /* RFC 863, port 9 */
#define TD_TCP_SVC_CHARGEN 0x4u /* RFC 864, port 19 */
#define TD_TCP_SVC_HTTP 0x8u    /* HTTP/1.1 on port 80: /stats, /bytes/N, POST /upload */

struct td_tcp_services;

/* Listen on the selected services for both families (any address). st may be
 * NULL (then /stats reports TCP counters only). */
int td_tcp_services_start(struct td_tcp *tcp, struct td_stack *st, unsigned which,
			  struct td_tcp_services **out);
/* Close every listener and connection (RST for those still open). */
void td_tcp_services_stop(struct td_tcp_services *svc, uint64_t now);

/* The /bytes/N stream: byte i of the stream, for any i (documented in
 * docs/tcp.md). td_tcp_stream_fill writes bytes [off, off+len). */
void td_tcp_stream_fill(uint8_t *out, uint64_t off, size_t len);

#endif
