/* A small HTTP/1.1 server in a thread of its own (os layer: sockets, epoll, clock), for the exporter's endpoints. */
#ifndef TUNDRA_OS_HTTPD_H
#define TUNDRA_OS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire/http.h"

/*
 * One thread runs an epoll loop over the listening socket and every client
 * connection (non-blocking). Requests are parsed by wire/http.c and answered
 * one at a time per connection, in order (pipelining), by the caller's
 * handler, which runs in that thread and must return promptly (the
 * exporter's wait at most about 2 s for a /metrics snapshot, 1 s for a
 * reload). The server itself never blocks: a response is written as far as
 * the socket takes it and continued when the socket is writable again, and
 * one connection gets one read and at most 16 pipelined answers per wake-up.
 *
 * What a client can hold is bounded: max_conns connections in all and
 * per_client per address (over either, the connection is accepted and closed
 * at once, never left in the backlog); a request must arrive whole within
 * timeout_ms of the connection becoming ready for it (slow senders are
 * closed); a response must progress at least every timeout_ms (readers that
 * stop reading are closed) and be read whole within timeout_ms plus its body
 * at min_rate, one deadline set when it is composed and not moved by
 * progress (a reader that trickles cannot keep a large body alive); heads
 * are bounded by the parser's limits and bodies, never used, are discarded up
 * to max_body.
 */

/* Why a connection was refused at accept. */
enum td_httpd_refuse {
	TD_HTTPD_REFUSE_LIMIT,      /* max_conns open */
	TD_HTTPD_REFUSE_PER_CLIENT, /* per_client open from that address */
	TD_HTTPD_REFUSE_FD_LIMIT,   /* accept failed: EMFILE/ENFILE/ENOBUFS/ENOMEM */
	TD_HTTPD_REFUSE_NO_MEMORY,  /* no buffer for the connection */
	TD_HTTPD_REFUSE_COUNT
};

/* Why a connection was closed by the deadline. */
enum td_httpd_timeout {
	TD_HTTPD_TIMEOUT_IDLE,     /* no byte of a next request (keep-alive expiry) */
	TD_HTTPD_TIMEOUT_REQUEST,  /* request started, not whole within the timeout */
	TD_HTTPD_TIMEOUT_RESPONSE, /* the client stopped reading its response */
	TD_HTTPD_TIMEOUT_COUNT
};

/* Counters, single writer (the server thread); read with td_httpd_stats(). */
struct td_httpd_stats {
	uint64_t accepted;  /* connections taken into service */
	uint64_t refused[TD_HTTPD_REFUSE_COUNT];
	uint64_t timed_out[TD_HTTPD_TIMEOUT_COUNT];
	uint64_t bad_requests[TD_HTTP_ERR_COUNT]; /* [0] unused */
	uint64_t requests;  /* requests answered by the handler */
	uint64_t aborted;   /* closed or reset by the client mid-request or mid-response */
	uint64_t open;      /* connections open now */
};

struct td_httpd_limits {
	unsigned max_conns;
	unsigned per_client;
	unsigned timeout_ms;
	unsigned min_rate; /* bytes/s a response body must average; 0: 256 KiB/s */
	struct td_http_limits http;
};

/* What the handler fills in. body stays valid until release(cookie) is called
 * (once, by the server thread; also when the client goes away); a NULL release
 * means body has static storage or lives in small[]. */
struct td_httpd_resp {
	unsigned status;
	const char *content_type; /* static storage */
	const char *allow;        /* "Allow" field for 405, static storage, or NULL */
	const void *body;
	size_t body_len;
	void (*release)(void *cookie);
	void *cookie;
	char small[768]; /* room for a short body the handler formats */
};

struct td_httpd_handler {
	/* Answer one request (called in the server thread). For HEAD the server
	 * sends the headers of the response the handler gives and no body. */
	void (*handle)(void *ctx, const struct td_http_request *req, struct td_httpd_resp *resp);
	void *ctx;
};

struct td_httpd;

/* Listen on sa (SO_REUSEADDR). An IPv6 unspecified address listens on both
 * families (IPV6_V6ONLY off), or on IPv4 any when the host has no IPv6. Then
 * start the server thread. 0 or -errno; *out is set before the thread starts. */
int td_httpd_start(struct td_httpd **out, const struct sockaddr *sa, socklen_t salen,
		   const struct td_httpd_limits *lim, const struct td_httpd_handler *handler);

/* Stop the thread, close every connection (releasing their bodies), free. */
void td_httpd_stop(struct td_httpd *h);

/* A copy of the counters (safe from any thread). */
void td_httpd_stats(const struct td_httpd *h, struct td_httpd_stats *out);

/* The address actually bound (port 0 resolved); 0 or -errno. */
int td_httpd_local(const struct td_httpd *h, struct sockaddr_storage *ss, socklen_t *len);

const char *td_httpd_refuse_name(enum td_httpd_refuse r);
const char *td_httpd_timeout_name(enum td_httpd_timeout t);

#endif
