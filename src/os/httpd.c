/* HTTP/1.1 server loop in src/os because DESIGN gives os every syscall (epoll, sockets, clock); parsing is wire/http.c. */
#include "os/httpd.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "tundra/os_misc.h"

/*
 * Connection states. A connection reads one request (head, then its body,
 * discarded), answers it, writes the answer and only then looks at the next
 * request already buffered (pipelining answers in order without queueing
 * responses). While it writes it does not read: the input buffer is bounded
 * and a client that sends without reading stalls only itself.
 *
 *   READ_HEAD --head--> READ_BODY --body read--> WRITE --written--> READ_HEAD
 *        \--bad request / close wanted--> WRITE --written--> LINGER --EOF--> closed
 *
 * LINGER is RFC 9112 §9.6's "close in stages": shut our sending side, read
 * and drop what the client still sends for a while, then close, so a client
 * still sending does not receive a reset that destroys our error response.
 *
 * Fairness: a wake-up gives a connection one read, at most ANSWER_BATCH
 * pipelined answers and WRITE_BATCH bytes; epoll is level-triggered, so what
 * is left is reported again after the others had their turn. Deadlines: a
 * request must be whole timeout_ms after the connection became ready for it;
 * a response must progress every timeout_ms and be written whole by one
 * deadline set when it is composed (timeout_ms plus its body at min_rate),
 * which progress does not move. They are judged after a batch's events, with the clock read
 * again after every handler.
 */
enum cstate { C_FREE, C_READ_HEAD, C_READ_BODY, C_WRITE, C_LINGER };

#define EP_LISTEN 0
#define EP_STOP 1
#define EP_CONN0 2
#define ACCEPT_BATCH 64
#define WRITE_BATCH (4u << 20) /* bytes per wake-up per connection: others get a turn */
#define ANSWER_BATCH 16u /* pipelined answers per wake-up per connection, likewise */
#define LINGER_DROP 65536u /* bytes dropped per wake-up from a lingering client */
#define LINGER_MAX_MS 2000u
#define MIN_RATE_DEFAULT (256u << 10) /* bytes/s a response body must average */
#define FD_PAUSE_NS 100000000ull /* listening paused this long when out of fds */

struct conn {
	enum cstate st;
	int fd;
	uint32_t events; /* armed in epoll */
	uint8_t addr[16]; /* client address, IPv4 as ::ffff:a.b.c.d */
	uint8_t *rbuf;
	size_t rlen, cap;
	struct td_http_parser p;
	uint64_t body_left; /* body bytes still to read and drop */
	uint64_t deadline;
	uint64_t resp_by; /* the response's absolute deadline */
	bool keep_alive; /* after the response being written */
	/* output */
	char head[512];
	size_t head_len, head_off;
	const uint8_t *body;
	size_t body_len, body_off;
	struct td_httpd_resp resp; /* resp.release owed while st == C_WRITE */
};

struct td_httpd {
	int lfd, epfd, evfd;
	pthread_t th;
	bool thread_started;
	struct td_httpd_limits lim;
	struct td_httpd_handler handler;
	struct conn *conns;
	unsigned n_conns; /* open: n_conns - n_free */
	unsigned *free_slots; /* stack of free conn indexes */
	unsigned n_free;
	uint64_t next_scan;   /* earliest deadline, or UINT64_MAX */
	uint64_t listen_resume; /* listening paused until then (fd exhaustion), or 0 */
	/* The clock as last read: after epoll_wait and after each handler, which
	 * may block (a /metrics snapshot, a reload), so deadlines set after it
	 * count from when it returned. */
	uint64_t now;
	struct td_httpd_stats stats;
	time_t date_sec;
	char date[40];
};

#define BUMP(h, field) __atomic_fetch_add(&(h)->stats.field, 1, __ATOMIC_RELAXED)

static void arm(struct td_httpd *h, struct conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(c - h->conns) + EP_CONN0};
	if (c->events == ev)
		return;
	/* cannot fail for a registered fd and a valid epoll fd */
	(void)epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static void set_deadline(struct td_httpd *h, struct conn *c, uint64_t d)
{
	c->deadline = d;
	if (d < h->next_scan)
		h->next_scan = d;
}

static void release_body(struct conn *c)
{
	if (c->st == C_WRITE && c->resp.release)
		c->resp.release(c->resp.cookie);
	c->resp.release = NULL; /* once */
	c->body = NULL;
}

static void count_open(struct td_httpd *h)
{
	__atomic_store_n(&h->stats.open, h->n_conns - h->n_free, __ATOMIC_RELAXED);
}

static void conn_close(struct td_httpd *h, struct conn *c)
{
	release_body(c);
	close(c->fd);
	free(c->rbuf);
	c->rbuf = NULL;
	c->fd = -1;
	c->st = C_FREE;
	h->free_slots[h->n_free++] = (unsigned)(c - h->conns);
	count_open(h);
}

static void begin_request(struct td_httpd *h, struct conn *c)
{
	c->st = C_READ_HEAD;
	td_http_parser_init(&c->p, &h->lim.http);
	set_deadline(h, c, h->now + (uint64_t)h->lim.timeout_ms * 1000000ull);
	arm(h, c, EPOLLIN);
}

static const char *date_now(struct td_httpd *h)
{
	time_t t = time(NULL);
	struct tm tm;
	if (t != h->date_sec && gmtime_r(&t, &tm)) {
		/* IMF-fixdate (RFC 9110 §5.6.7); the C locale's names are the
		 * English ones it requires */
		strftime(h->date, sizeof(h->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		h->date_sec = t;
	}
	return h->date;
}

/* The response moved: timeout_ms more to move again, never past resp_by. */
static void progressed(struct td_httpd *h, struct conn *c)
{
	uint64_t d = h->now + (uint64_t)h->lim.timeout_ms * 1000000ull;
	set_deadline(h, c, d < c->resp_by ? d : c->resp_by);
}

/* Build the head of c->resp (headers for `head_only` as for the full body). */
static void compose(struct td_httpd *h, struct conn *c, bool head_only, bool http10)
{
	const struct td_httpd_resp *r = &c->resp;
	/* no body means no Content-Length to keep, whatever body_len says */
	size_t blen = r->body ? r->body_len : 0;
	int n;

	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%s%s%s%s\r\n",
		     r->status, td_http_reason(r->status), date_now(h),
		     r->content_type ? r->content_type : "text/plain", blen,
		     r->allow ? "Allow: " : "", r->allow ? r->allow : "", r->allow ? "\r\n" : "",
		     !c->keep_alive ? "Connection: close\r\n"
		     : http10       ? "Connection: keep-alive\r\n"
				    : "");
	c->head_off = 0;
	c->body = r->body;
	c->body_len = head_only ? 0 : blen;
	if (n <= 0 || (size_t)n >= sizeof(c->head)) {
		/* a handler's content type too long for the head: say so, briefly */
		n = snprintf(c->head, sizeof(c->head), "HTTP/1.1 500 Internal Server Error\r\n"
			     "Content-Length: 0\r\nConnection: close\r\n\r\n");
		c->body_len = 0;
		c->keep_alive = false;
	}
	c->head_len = (size_t)n;
	c->body_off = 0;
	/* One absolute deadline for the whole response, which progress does not
	 * move: a reader that takes a byte now and then would otherwise keep a
	 * large rendered body (tens of MB at 10 000 targets) alive forever.
	 * Within it, a reader that stops is closed timeout_ms after its last
	 * progress, as before: that body need not wait for the full deadline. */
	c->resp_by = h->now + (uint64_t)h->lim.timeout_ms * 1000000ull +
		     (uint64_t)c->body_len * 1000000000ull / h->lim.min_rate;
	progressed(h, c);
}

static void error_response(struct td_httpd *h, struct conn *c, enum td_http_err err)
{
	struct td_httpd_resp *r = &c->resp;
	unsigned status = td_http_err_status(err);
	/* RFC 9110 §9.3.2: a HEAD gets no body, refused or not (when the
	 * parser got as far as the method) */
	bool head = c->p.method_len == 4 && !memcmp(c->rbuf + c->p.method_off, "HEAD", 4);

	BUMP(h, bad_requests[err]);
	memset(r, 0, offsetof(struct td_httpd_resp, small));
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	snprintf(r->small, sizeof(r->small), "%s (%s)\n", td_http_reason(status),
		 td_http_err_name(err));
	r->body = r->small;
	r->body_len = strlen(r->small);
	c->keep_alive = false;
	compose(h, c, head, false);
	c->st = C_WRITE;
}

static void answer(struct td_httpd *h, struct conn *c, const struct td_http_request *req,
		   bool force_close)
{
	struct td_httpd_resp *r = &c->resp;
	bool head = req->method_len == 4 && !memcmp(req->method, "HEAD", 4);

	memset(r, 0, offsetof(struct td_httpd_resp, small));
	r->status = 500;
	h->handler.handle(h->handler.ctx, req, r);
	h->now = td_os_now_ns();
	BUMP(h, requests);
	c->keep_alive = req->keep_alive && !force_close;
	compose(h, c, head, req->minor == 0);
	c->st = C_WRITE;
}

/* Drop the finished request's bytes; what follows is the next (pipelined) one. */
static void consume(struct conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
}

enum wres { W_DONE, W_PENDING, W_CLOSED };

/* Write what the socket takes of the response. */
static enum wres write_out(struct td_httpd *h, struct conn *c)
{
	size_t budget = WRITE_BATCH;

	while (c->head_off < c->head_len || c->body_off < c->body_len) {
		struct iovec iov[2];
		struct msghdr m = {.msg_iov = iov};
		ssize_t n;

		if (c->head_off < c->head_len) {
			iov[m.msg_iovlen].iov_base = c->head + c->head_off;
			iov[m.msg_iovlen++].iov_len = c->head_len - c->head_off;
		}
		if (c->body_off < c->body_len) {
			size_t left = c->body_len - c->body_off;
			iov[m.msg_iovlen].iov_base = (void *)(c->body + c->body_off);
			iov[m.msg_iovlen++].iov_len = left < budget ? left : budget;
		}
		n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			arm(h, c, EPOLLOUT);
			return W_PENDING; /* the deadline was moved by the last progress */
		}
		if (n <= 0) {
			BUMP(h, aborted);
			conn_close(h, c); /* reset or gone: nothing more to say */
			return W_CLOSED;
		}
		progressed(h, c);
		size_t k = (size_t)n, hk = c->head_len - c->head_off;
		if (hk > k)
			hk = k;
		c->head_off += hk;
		c->body_off += k - hk;
		if (k >= budget) {
			arm(h, c, EPOLLOUT); /* come back after the others */
			return W_PENDING;
		}
		budget -= k;
	}
	return W_DONE;
}

/* Advance c as far as the buffered bytes and the socket allow: parse, answer,
 * write, and go on with the next buffered request (a loop, not recursion: a
 * pipeline of many small requests costs no stack), at most ANSWER_BATCH
 * answers per call: then EPOLLOUT, at once ready, brings it back after the
 * other connections had their turn. */
static void process(struct td_httpd *h, struct conn *c)
{
	unsigned answers = 0;

	for (;;) {
		struct td_http_request req;

		if (c->st == C_READ_HEAD) {
			enum td_http_result r;
			size_t in_buf;

			if (!c->rlen)
				return; /* begin_request() armed EPOLLIN */
			if (answers == ANSWER_BATCH) {
				arm(h, c, EPOLLOUT);
				return;
			}
			r = td_http_parse(&c->p, c->rbuf, c->rlen);
			if (r == TD_HTTP_MORE) {
				arm(h, c, EPOLLIN);
				return;
			}
			if (r == TD_HTTP_ERROR) {
				error_response(h, c, c->p.err);
				c->rlen = 0;
			} else {
				td_http_request(&c->p, c->rbuf, &req);
				in_buf = c->rlen - c->p.head_len;
				if (req.expect_continue && req.content_length > in_buf) {
					/* RFC 9110 §10.1.1: a final answer instead of
					 * 100 Continue; the body is then unwanted and the
					 * connection closes after the answer (lingering) */
					answer(h, c, &req, true);
					c->rlen = 0;
				} else if (req.content_length > in_buf) {
					/* keep the head, drop the body as it arrives */
					c->body_left = req.content_length - in_buf;
					c->rlen = c->p.head_len;
					c->st = C_READ_BODY;
					arm(h, c, EPOLLIN);
					return;
				} else {
					answer(h, c, &req, false);
					consume(c, c->p.head_len + (size_t)req.content_length);
				}
			}
		} else if (c->st == C_READ_BODY) {
			if (c->body_left)
				return;
			td_http_request(&c->p, c->rbuf, &req);
			answer(h, c, &req, false);
			consume(c, c->p.head_len);
		}
		if (c->st != C_WRITE)
			return;
		answers++;
		if (write_out(h, c) != W_DONE)
			return;
		release_body(c);
		if (!c->keep_alive) {
			unsigned ms = h->lim.timeout_ms < LINGER_MAX_MS ? h->lim.timeout_ms
								       : LINGER_MAX_MS;
			shutdown(c->fd, SHUT_WR);
			c->st = C_LINGER;
			c->rlen = 0;
			set_deadline(h, c, h->now + (uint64_t)ms * 1000000ull);
			arm(h, c, EPOLLIN);
			return;
		}
		begin_request(h, c);
	}
}

/* One read per wake-up, whatever the state: epoll is level-triggered and
 * reports what is left, so a client that sends fast has the thread no longer
 * than the others. */
static void on_readable(struct td_httpd *h, struct conn *c)
{
	ssize_t n;

	if (c->st == C_READ_HEAD) {
		if (c->rlen == c->cap) {
			process(h, c); /* full: the parser decides (never MORE then) */
			return;
		}
		n = recv(c->fd, c->rbuf + c->rlen, c->cap - c->rlen, MSG_DONTWAIT);
		if (n > 0) {
			c->rlen += (size_t)n;
			process(h, c);
			return;
		}
	} else {
		/* READ_BODY drops exactly the body, so the next request stays
		 * in the socket; LINGER drops what comes. On TCP MSG_TRUNC
		 * discards the bytes without a buffer (tcp(7)). */
		size_t want = c->st == C_READ_BODY ? (size_t)c->body_left : LINGER_DROP;
		n = recv(c->fd, NULL, want, MSG_TRUNC | MSG_DONTWAIT);
		if (n > 0) {
			if (c->st == C_READ_BODY) {
				c->body_left -= (uint64_t)n;
				process(h, c);
			}
			return;
		}
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return; /* level-triggered: asked again if still readable */
	if (c->st == C_READ_BODY || (c->st == C_READ_HEAD && c->rlen))
		BUMP(h, aborted); /* a half-sent request gets no answer */
	conn_close(h, c); /* EOF or error */
}

static void client_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ss->ss_family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

static void pause_listening(struct td_httpd *h)
{
	struct epoll_event e = {.events = 0, .data.u64 = EP_LISTEN};
	(void)epoll_ctl(h->epfd, EPOLL_CTL_MOD, h->lfd, &e);
	h->listen_resume = h->now + FD_PAUSE_NS;
	if (h->listen_resume < h->next_scan)
		h->next_scan = h->listen_resume;
}

static void on_accept(struct td_httpd *h)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss = {.ss_family = AF_UNSPEC};
		socklen_t sl = sizeof(ss);
		uint8_t addr[16];
		unsigned same = 0;
		struct conn *c;
		int fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* the pending connection stays queued and the socket
				 * stays readable: stop looking for a moment instead of
				 * spinning */
				BUMP(h, refused[TD_HTTPD_REFUSE_FD_LIMIT]);
				pause_listening(h);
				return;
			}
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			return; /* EAGAIN: the backlog is empty */
		}
		if (!h->n_free) { /* max_conns open */
			BUMP(h, refused[TD_HTTPD_REFUSE_LIMIT]);
			close(fd);
			continue;
		}
		client_addr(&ss, addr);
		/* O(max_conns) per accept: max_conns is at most 10 000 */
		for (unsigned k = 0; k < h->n_conns; k++)
			if (h->conns[k].st != C_FREE && !memcmp(h->conns[k].addr, addr, 16))
				same++;
		if (same >= h->lim.per_client) {
			BUMP(h, refused[TD_HTTPD_REFUSE_PER_CLIENT]);
			close(fd);
			continue;
		}
		c = &h->conns[h->free_slots[h->n_free - 1]];
		c->cap = h->lim.http.max_head + 1; /* one byte more shows the head is too long */
		c->rbuf = malloc(c->cap);
		if (!c->rbuf) {
			BUMP(h, refused[TD_HTTPD_REFUSE_NO_MEMORY]);
			close(fd);
			continue;
		}
		struct epoll_event e = {.events = EPOLLIN,
					.data.u64 = (uint64_t)(c - h->conns) + EP_CONN0};
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &e)) {
			BUMP(h, refused[TD_HTTPD_REFUSE_NO_MEMORY]);
			free(c->rbuf);
			c->rbuf = NULL;
			close(fd);
			continue;
		}
		h->n_free--;
		count_open(h);
		BUMP(h, accepted);
		c->fd = fd;
		c->events = EPOLLIN;
		c->rlen = 0;
		memcpy(c->addr, addr, 16);
		/* each response is one sendmsg; pipelined answers must not wait
		 * for the client's delayed ACK */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		begin_request(h, c);
	}
}

/* True when the client's next bytes wait in the socket, unread. */
static bool bytes_waiting(const struct conn *c)
{
	uint8_t b;
	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

/* Close connections past their deadline; find the next deadline. Runs after
 * the events of a batch were handled, so a connection whose request is
 * readable has been served before it is judged. */
static void scan(struct td_httpd *h)
{
	uint64_t now = h->now, next = UINT64_MAX;

	if (h->listen_resume && now >= h->listen_resume) {
		struct epoll_event e = {.events = EPOLLIN, .data.u64 = EP_LISTEN};
		(void)epoll_ctl(h->epfd, EPOLL_CTL_MOD, h->lfd, &e);
		h->listen_resume = 0;
	}
	if (h->listen_resume)
		next = h->listen_resume;
	for (unsigned i = 0; i < h->n_conns; i++) {
		struct conn *c = &h->conns[i];
		if (c->st == C_FREE)
			continue;
		if (now < c->deadline) {
			if (c->deadline < next)
				next = c->deadline;
			continue;
		}
		if (c->st == C_READ_HEAD && c->rlen == 0 && bytes_waiting(c)) {
			/* a request arrived while the thread was busy (a handler
			 * blocked) and is not in this batch: the next epoll_wait
			 * reports it at once; look again right after */
			next = now;
			continue;
		}
		if (c->st == C_READ_HEAD && c->rlen == 0)
			BUMP(h, timed_out[TD_HTTPD_TIMEOUT_IDLE]);
		else if (c->st == C_READ_HEAD || c->st == C_READ_BODY)
			BUMP(h, timed_out[TD_HTTPD_TIMEOUT_REQUEST]);
		else if (c->st == C_WRITE)
			BUMP(h, timed_out[TD_HTTPD_TIMEOUT_RESPONSE]);
		conn_close(h, c); /* LINGER ending is the normal end */
	}
	h->next_scan = next;
}

static void *run(void *arg)
{
	struct td_httpd *h = arg;
	struct epoll_event ev[64];

	for (;;) {
		uint64_t now = td_os_now_ns();
		int timeout = -1, n;

		if (h->next_scan != UINT64_MAX) {
			uint64_t ms = h->next_scan > now ? (h->next_scan - now + 999999) / 1000000 : 0;
			timeout = ms > 60000 ? 60000 : (int)ms;
		}
		n = epoll_wait(h->epfd, ev, 64, timeout);
		if (n < 0 && errno != EINTR)
			break; /* EBADF/EINVAL: cannot happen with our own fds */
		h->now = td_os_now_ns();
		for (int i = 0; i < n; i++) {
			uint64_t id = ev[i].data.u64;
			struct conn *c;
			if (id == EP_STOP)
				return NULL;
			if (id == EP_LISTEN) {
				on_accept(h);
				continue;
			}
			c = &h->conns[id - EP_CONN0];
			if (c->st == C_FREE)
				continue; /* closed earlier in this batch */
			/* EPOLLOUT is armed to write, or to go on with
			 * pipelined requests after others had their turn */
			if (c->events & EPOLLOUT)
				process(h, c);
			else
				on_readable(h, c);
		}
		/* handlers moved the clock (h->now) as they returned */
		if (h->now >= h->next_scan)
			scan(h);
	}
	return NULL;
}

static bool is_any6(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

/* A listening socket on sa; the fd or -errno. */
static int listen_on(const struct sockaddr *sa, socklen_t salen)
{
	int one = 1, zero = 0, e;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	/* ":PORT" means both families on one socket, as Go's net.Listen does */
	if (is_any6(sa) && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		goto fail;
	if (bind(fd, sa, salen) || listen(fd, SOMAXCONN))
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

int td_httpd_start(struct td_httpd **out, const struct sockaddr *sa, socklen_t salen,
		   const struct td_httpd_limits *lim, const struct td_httpd_handler *handler)
{
	struct td_httpd *h;
	struct epoll_event e = {.events = EPOLLIN};
	int rc;

	if (!lim->max_conns || !lim->per_client || !lim->timeout_ms || lim->http.max_head < 64)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->lfd = h->epfd = h->evfd = -1;
	h->lim = *lim;
	if (!h->lim.min_rate)
		h->lim.min_rate = MIN_RATE_DEFAULT;
	h->handler = *handler;
	h->next_scan = UINT64_MAX;
	h->n_conns = lim->max_conns;
	h->conns = calloc(h->n_conns, sizeof(*h->conns));
	h->free_slots = calloc(h->n_conns, sizeof(*h->free_slots));
	rc = -ENOMEM;
	if (!h->conns || !h->free_slots)
		goto fail;
	for (unsigned i = 0; i < h->n_conns; i++) {
		h->conns[i].fd = -1;
		h->free_slots[h->n_free++] = h->n_conns - 1 - i;
	}
	rc = h->lfd = listen_on(sa, salen);
	if (rc == -EAFNOSUPPORT || (rc == -EADDRNOTAVAIL && is_any6(sa))) {
		if (is_any6(sa)) {
			/* no IPv6 on this host (disabled, or a container without
			 * it): ":PORT" still means every IPv4 address */
			struct sockaddr_in a4 = {
				.sin_family = AF_INET,
				.sin_port = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port};
			rc = h->lfd = listen_on((struct sockaddr *)&a4, sizeof(a4));
		}
	}
	if (rc < 0)
		goto fail;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->epfd < 0 || h->evfd < 0)
		goto fail_errno;
	e.data.u64 = EP_LISTEN;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &e))
		goto fail_errno;
	e.data.u64 = EP_STOP;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->evfd, &e))
		goto fail_errno;
	*out = h; /* before the thread: the handler may look at it */
	rc = -pthread_create(&h->th, NULL, run, h);
	if (rc) {
		*out = NULL;
		goto fail;
	}
	h->thread_started = true;
	return 0;
fail_errno:
	rc = -errno;
fail:
	if (h->evfd >= 0)
		close(h->evfd);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->lfd >= 0)
		close(h->lfd);
	free(h->free_slots);
	free(h->conns);
	free(h);
	return rc;
}

void td_httpd_stop(struct td_httpd *h)
{
	uint64_t one = 1;

	if (!h)
		return;
	if (h->thread_started) {
		/* an eventfd write of 1 cannot fail while the counter is small */
		if (write(h->evfd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(h->th);
		pthread_join(h->th, NULL);
	}
	for (unsigned i = 0; i < h->n_conns; i++)
		if (h->conns[i].st != C_FREE)
			conn_close(h, &h->conns[i]);
	close(h->evfd);
	close(h->epfd);
	close(h->lfd);
	free(h->free_slots);
	free(h->conns);
	free(h);
}

void td_httpd_stats(const struct td_httpd *h, struct td_httpd_stats *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&h->stats;
	uint64_t *dst = (uint64_t *)(void *)out;

	_Static_assert(sizeof(*out) % sizeof(uint64_t) == 0, "counters only");
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int td_httpd_local(const struct td_httpd *h, struct sockaddr_storage *ss, socklen_t *len)
{
	*len = sizeof(*ss);
	return getsockname(h->lfd, (struct sockaddr *)ss, len) ? -errno : 0;
}

const char *td_httpd_refuse_name(enum td_httpd_refuse r)
{
	switch (r) {
	case TD_HTTPD_REFUSE_LIMIT: return "connection_limit";
	case TD_HTTPD_REFUSE_PER_CLIENT: return "per_client_limit";
	case TD_HTTPD_REFUSE_FD_LIMIT: return "fd_limit";
	case TD_HTTPD_REFUSE_NO_MEMORY: return "no_memory";
	case TD_HTTPD_REFUSE_COUNT: break;
	}
	return "unknown";
}

const char *td_httpd_timeout_name(enum td_httpd_timeout t)
{
	switch (t) {
	case TD_HTTPD_TIMEOUT_IDLE: return "idle";
	case TD_HTTPD_TIMEOUT_REQUEST: return "request";
	case TD_HTTPD_TIMEOUT_RESPONSE: return "response";
	case TD_HTTPD_TIMEOUT_COUNT: break;
	}
	return "unknown";
}
