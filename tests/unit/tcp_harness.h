/* Virtual-time harness for TCP unit tests: a td_tcp whose output is captured. */
#ifndef TUNDRA_TEST_TCP_HARNESS_H
#define TUNDRA_TEST_TCP_HARNESS_H

#include <errno.h>
#include <stdint.h>

#include "tundra/tcp.h"

#define H_MAXSEG 512
#define H_MS 1000000ull

/* One captured segment (payload copied). */
struct h_seg {
	struct td_tcp_tuple tu;
	struct td_tcp_repr r;
	uint8_t data[2048];
};

struct harness {
	struct td_tcp *tcp;
	struct td_tcp_config cfg;
	uint64_t now;
	unsigned n, head;
	struct h_seg *q; /* H_MAXSEG */
	struct td_tcp_tuple peer; /* from the stack's point of view */
	unsigned events;          /* OR of callback events */
	unsigned ncb;
};

/* Defaults: 10.0.0.2:80 (stack) <-> 10.0.0.1:40000 (peer), fixed key. */
void h_config(struct td_tcp_config *cfg);
void h_init(struct harness *h, const struct td_tcp_config *cfg);
/* Close nothing; free the module after asserting the pool and buffers drained. */
void h_fini_expect_empty(struct harness *h);
void h_fini(struct harness *h);

/* Feed a segment from the peer. */
void h_in(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
	  const struct td_tcp_opts *opt, const void *data, size_t len);
/* Next captured segment or NULL. */
const struct h_seg *h_out(struct harness *h);
unsigned h_pending(const struct harness *h);
void h_drain(struct harness *h);
/* Advance virtual time by ms, running td_tcp_poll at each deadline. */
void h_advance(struct harness *h, uint64_t ms);
void h_advance_ns(struct harness *h, uint64_t ns);

/* Listener on 80 and a completed passive handshake; returns the accepted
 * socket and the peer's next sequence number / our ISS. opts: peer SYN options. */
struct td_tcp_sock *h_listen(struct harness *h, int backlog);
struct td_tcp_sock *h_accept_conn(struct harness *h, struct td_tcp_sock *lst,
				  const struct td_tcp_opts *synopt, uint32_t peer_isn,
				  uint32_t *our_iss);

void h_cb(struct td_tcp_sock *s, unsigned ev, void *user);

/* A TCP segment from src to dst over IPv4, checksummed, into a whole stack
 * (the glue tests, which run TCP behind td_stack). */
struct td_stack;
void h_stack_input_tcp4(struct td_stack *st, uint64_t now, uint32_t src, uint32_t dst,
			const struct td_tcp_repr *r);

#endif
