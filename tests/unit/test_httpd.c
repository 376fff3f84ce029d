/* Unit tests: the HTTP server loop (src/os/httpd.c) over loopback sockets, with short timeouts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/httpd.h"
#include "tundra/os_misc.h"

#define BIG (16u << 20) /* a body no socket buffer holds */

static struct td_httpd *srv;
static struct sockaddr_in addr;
static char *big;
static int releases, handled; /* touched by the server thread; read after td_httpd_stop */
static unsigned min_rate; /* for the next start(); 0: the server's default */
static char order[256];   /* first byte of each handled query, in order */
static int n_order;

static void rel(void *cookie)
{
	(void)cookie;
	__atomic_fetch_add(&releases, 1, __ATOMIC_RELAXED);
}

/* /big: 16 MiB with a release callback; /echo: the path and query; else 404. */
static void handle(void *ctx, const struct td_http_request *q, struct td_httpd_resp *r)
{
	(void)ctx;
	__atomic_fetch_add(&handled, 1, __ATOMIC_RELAXED);
	if (q->query_len && n_order < (int)sizeof(order))
		order[n_order++] = q->query[0]; /* read after td_httpd_stop */
	r->content_type = "text/plain";
	if (q->path_len == 4 && !memcmp(q->path, "/big", 4)) {
		r->status = 200;
		r->body = big;
		r->body_len = BIG;
		r->release = rel;
		return;
	}
	if (q->path_len == 6 && !memcmp(q->path, "/sleep", 6)) {
		/* a handler that blocks longer than the timeout (400 ms), as a
		 * /metrics snapshot or a reload may */
		struct timespec ts = {.tv_nsec = 600000000};
		nanosleep(&ts, NULL);
		r->status = 200;
		r->body = "slept\n";
		r->body_len = 6;
		return;
	}
	if (q->path_len == 5 && !memcmp(q->path, "/null", 5)) {
		r->status = 200; /* a length without a body */
		r->body_len = 5;
		return;
	}
	if (q->path_len >= 5 && !memcmp(q->path, "/echo", 5)) {
		r->status = 200;
		snprintf(r->small, sizeof(r->small), "%.*s %.*s|%.*s", (int)q->method_len, q->method,
			 (int)q->path_len, q->path, (int)q->query_len, q->query ? q->query : "");
		r->body = r->small;
		r->body_len = strlen(r->small);
		return;
	}
	r->status = 404;
	r->body = "nope\n";
	r->body_len = 5;
}

static int start(unsigned max_conns, unsigned per_client, unsigned timeout_ms)
{
	struct td_httpd_limits lim = {.max_conns = max_conns, .per_client = per_client,
				      .timeout_ms = timeout_ms, .min_rate = min_rate};
	struct td_httpd_handler h = {.handle = handle};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_storage ss;
	socklen_t sl;

	td_http_limits_default(&lim.http);
	releases = handled = n_order = 0;
	if (td_httpd_start(&srv, (struct sockaddr *)&a, sizeof(a), &lim, &h))
		return -1;
	if (td_httpd_local(srv, &ss, &sl))
		return -1;
	memcpy(&addr, &ss, sizeof(addr));
	return 0;
}

static int setup(void **state)
{
	(void)state;
	min_rate = 0;
	if (!big) {
		big = malloc(BIG);
		if (!big)
			return -1;
		memset(big, 'x', BIG);
	}
	return start(8, 4, 400);
}

static int teardown(void **state)
{
	(void)state;
	td_httpd_stop(srv);
	srv = NULL;
	return 0;
}

static int client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 5};
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Read until the buffer holds `want` complete responses (by Content-Length)
 * or EOF; returns bytes read. */
static size_t read_responses(int fd, char *buf, size_t cap, int want)
{
	size_t len = 0;
	for (;;) {
		int done = 0;
		const char *p = buf;
		buf[len] = 0;
		while (done < want) {
			const char *end = strstr(p, "\r\n\r\n");
			const char *cl = strstr(p, "Content-Length: ");
			if (!end || !cl || cl > end)
				break;
			size_t body = strtoul(cl + 16, NULL, 10);
			if ((size_t)(end + 4 - buf) + body > len)
				break;
			p = end + 4 + body;
			done++;
		}
		if (done >= want)
			return len;
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			return len;
		len += (size_t)n;
	}
}

/* True when the server closed fd within ms (EOF or reset), reading what comes. */
static bool closed_within(int fd, int ms)
{
	uint64_t end = td_os_now_ns() + (uint64_t)ms * 1000000ull;
	char tmp[65536];
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = td_os_now_ns();
		if (now >= end)
			return false;
		if (poll(&p, 1, (int)((end - now) / 1000000ull) + 1) <= 0)
			return false;
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
	}
}

static struct td_httpd_stats stats(void)
{
	struct td_httpd_stats s;
	td_httpd_stats(srv, &s);
	return s;
}

static void keep_alive_answers_several_requests_on_one_connection(void **state)
{
	(void)state;
	char buf[4096];
	int fd = client();
	for (int i = 0; i < 3; i++) {
		send_all(fd, "GET /echo?i HTTP/1.1\r\nHost: t\r\n\r\n");
		size_t n = read_responses(fd, buf, sizeof(buf), 1);
		assert_true(n > 0);
		assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
		assert_non_null(strstr(buf, "Date: "));
		assert_non_null(strstr(buf, "Content-Length: 11\r\n"));
		assert_non_null(strstr(buf, "\r\n\r\nGET /echo|i"));
		assert_null(strstr(buf, "Connection: close"));
	}
	close(fd);
	assert_int_equal(stats().accepted, 1);
	assert_int_equal(stats().requests, 3);
}

static void pipelined_requests_are_answered_in_order(void **state)
{
	(void)state;
	char buf[8192];
	int fd = client();
	send_all(fd, "GET /echo1 HTTP/1.1\r\nHost: t\r\n\r\n"
		     "POST /echo2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
		     "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n"
		     "GET /echo3?q HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	size_t n = read_responses(fd, buf, sizeof(buf), 4);
	assert_true(n > 0);
	const char *a = strstr(buf, "GET /echo1|"), *b = strstr(buf, "POST /echo2|"),
		   *c = strstr(buf, "404 Not Found"), *d = strstr(buf, "GET /echo3|q");
	assert_true(a && b && c && d);
	assert_true(a < b && b < c && c < d);
	assert_true(closed_within(fd, 1000)); /* Connection: close honoured */
	close(fd);
}

static void head_sends_headers_with_the_get_length_only(void **state)
{
	(void)state;
	char buf[4096] = "";
	int fd = client();
	send_all(fd, "HEAD /big HTTP/1.1\r\nHost: t\r\n\r\nGET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
	size_t len = 0;
	while (!strstr(buf, "GET /echo|") && len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = 0;
	}
	assert_non_null(strstr(buf, "Content-Length: 16777216\r\n"));
	/* nothing of the 16 MiB body: the next bytes are the second response */
	assert_non_null(strstr(buf, "\r\n\r\nHTTP/1.1 200 OK"));
	close(fd);
	td_httpd_stop(srv);
	srv = NULL;
	assert_int_equal(releases, 1);
	assert_int_equal(start(8, 4, 400), 0);
}

static void null_body_is_sent_as_content_length_zero(void **state)
{
	(void)state;
	char buf[4096];
	int fd = client();
	send_all(fd, "GET /null HTTP/1.1\r\nHost: t\r\n\r\nGET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 2);
	assert_non_null(strstr(buf, "Content-Length: 0\r\n"));
	assert_null(strstr(buf, "Content-Length: 5\r\n"));
	assert_non_null(strstr(buf, "GET /echo|")); /* the next response is not taken as a body */
	close(fd);
}

static void refused_head_request_gets_headers_only(void **state)
{
	(void)state;
	char buf[4096];
	size_t len = 0;
	int fd = client();
	send_all(fd, "HEAD / HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n");
	for (;;) { /* everything until the server closes */
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
	assert_null(strstr(buf, "Content-Length: 0\r\n")); /* the GET's length */
	assert_true(len >= 4 && !memcmp(buf + len - 4, "\r\n\r\n", 4)); /* no body */
	close(fd);
	assert_int_equal(stats().bad_requests[TD_HTTP_ERR_OBS_FOLD], 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void keep_alive_timeout_counts_from_when_a_slow_handler_returned(void **state)
{
	(void)state;
	char buf[4096];
	int fd = client();
	send_all(fd, "GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "slept"));
	sleep_ms(150); /* well within the 400 ms after the answer */
	send_all(fd, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "GET /echo|"));
	close(fd);
	assert_int_equal(stats().timed_out[TD_HTTPD_TIMEOUT_IDLE], 0);
}

static void request_sent_while_a_handler_blocked_is_served_not_timed_out(void **state)
{
	(void)state;
	char buf[4096];
	int waiting = client(), blocker = client();
	sleep_ms(20); /* both accepted: waiting's idle deadline runs from here */
	send_all(blocker, "GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n");
	sleep_ms(500); /* past waiting's deadline, while the thread is in the handler */
	send_all(waiting, "GET /echo?late HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(waiting, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "GET /echo|late"));
	read_responses(blocker, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "slept"));
	close(waiting);
	close(blocker);
}

static void long_pipeline_yields_to_other_connections(void **state)
{
	(void)state;
	static char pipeline[40 * 64], buf[65536];
	size_t len = 0;
	int blocker = client(), flood = client(), other = client();
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(pipeline + len, sizeof(pipeline) - len,
					"GET /echo?f HTTP/1.1\r\nHost: t\r\n\r\n");
	sleep_ms(20);
	/* both arrive while the thread is in a handler: one batch holds them,
	 * the flood first */
	send_all(blocker, "GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n");
	sleep_ms(100);
	send_all(flood, pipeline);
	sleep_ms(20);
	send_all(other, "GET /echo?o HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(other, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "GET /echo|o"));
	read_responses(flood, buf, sizeof(buf), 40);
	read_responses(blocker, buf, sizeof(buf), 1);
	close(blocker);
	close(flood);
	close(other);
	td_httpd_stop(srv);
	srv = NULL;
	assert_int_equal(n_order, 41);
	const char *o = memchr(order, 'o', (size_t)n_order);
	assert_non_null(o);
	assert_true(o - order <= 16); /* after at most 16 of the flood's 40 */
	assert_int_equal(start(8, 4, 400), 0);
}

static void http10_closes_unless_keep_alive_asked(void **state)
{
	(void)state;
	char buf[4096];
	int fd = client();
	send_all(fd, "GET /echo HTTP/1.0\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "Connection: close"));
	assert_true(closed_within(fd, 1000));
	close(fd);
	fd = client();
	send_all(fd, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "Connection: keep-alive"));
	send_all(fd, "GET /echo HTTP/1.0\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "200 OK"));
	close(fd);
}

static void bad_request_gets_400_and_a_close_and_is_counted(void **state)
{
	(void)state;
	char buf[4096];
	int fd = client();
	send_all(fd, "GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n folded\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_true(closed_within(fd, 1000));
	close(fd);
	assert_int_equal(stats().bad_requests[TD_HTTP_ERR_OBS_FOLD], 1);
	assert_int_equal(stats().requests, 0);
}

static void oversized_head_gets_431_while_the_client_still_sends(void **state)
{
	(void)state;
	static char req[40000];
	char buf[4096];
	int fd = client();
	size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: t\r\nX: ");
	memset(req + n, 'a', sizeof(req) - n - 1);
	req[sizeof(req) - 1] = 0;
	send(fd, req, strlen(req), MSG_NOSIGNAL); /* may be cut short by the close */
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	close(fd);
	assert_int_equal(stats().bad_requests[TD_HTTP_ERR_HEAD_TOO_LARGE], 1);
}

static void body_is_discarded_and_too_large_body_is_413(void **state)
{
	(void)state;
	static char req[70000];
	char buf[4096];
	int fd = client();
	size_t n = (size_t)snprintf(req, sizeof(req),
				    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n");
	memset(req + n, 'b', 60000);
	req[n + 60000] = 0;
	send_all(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n");
	send_all(fd, req + n); /* the body in a later segment */
	send_all(fd, "GET /echo?after HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 2);
	assert_non_null(strstr(buf, "POST /echo|"));
	assert_non_null(strstr(buf, "GET /echo|after"));
	send_all(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "HTTP/1.1 413 Content Too Large\r\n"));
	close(fd);
}

static void body_and_next_request_in_one_segment_are_split_exactly(void **state)
{
	(void)state;
	char buf[4096];
	int fd = client();
	send_all(fd, "POST /echo?1 HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n");
	sleep_ms(50); /* the server now drops the body as it comes */
	send_all(fd, "0123456789GET /echo?2 HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(fd, buf, sizeof(buf), 2);
	assert_non_null(strstr(buf, "POST /echo|1"));
	assert_non_null(strstr(buf, "GET /echo|2"));
	close(fd);
	assert_int_equal(stats().bad_requests[TD_HTTP_ERR_REQUEST_LINE], 0);
}

static void over_limit_connections_are_closed_at_once(void **state)
{
	(void)state;
	int fds[8];
	/* per client address: 4 of the 8 */
	for (int i = 0; i < 4; i++)
		fds[i] = client();
	int extra = client();
	assert_true(closed_within(extra, 500));
	close(extra);
	assert_int_equal(stats().refused[TD_HTTPD_REFUSE_PER_CLIENT], 1);
	/* the held ones still work */
	char buf[1024];
	send_all(fds[0], "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(fds[0], buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "200 OK"));
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

static void total_limit_refuses_at_once(void **state)
{
	(void)state;
	int fds[3];
	td_httpd_stop(srv);
	assert_int_equal(start(2, 2, 400), 0);
	fds[0] = client();
	fds[1] = client();
	fds[2] = client();
	assert_true(closed_within(fds[2], 500));
	assert_int_equal(stats().refused[TD_HTTPD_REFUSE_LIMIT] +
				 stats().refused[TD_HTTPD_REFUSE_PER_CLIENT],
			 1);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void slow_request_is_closed_after_the_timeout(void **state)
{
	(void)state;
	int fd = client();
	uint64_t t0 = td_os_now_ns();
	send_all(fd, "GET /echo HTTP/1.1\r\n");
	/* slowloris: a byte every 100 ms never completes the head */
	bool closed = false;
	for (int i = 0; i < 12 && !closed; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) > 0)
			closed = true;
		else
			send(fd, "X", 1, MSG_NOSIGNAL);
	}
	assert_true(closed || closed_within(fd, 500));
	uint64_t ms = (td_os_now_ns() - t0) / 1000000ull;
	assert_true(ms >= 350 && ms < 1000);
	close(fd);
	assert_int_equal(stats().timed_out[TD_HTTPD_TIMEOUT_REQUEST], 1);
}

static void idle_keep_alive_connection_is_closed_and_counted_idle(void **state)
{
	(void)state;
	int fd = client();
	assert_true(closed_within(fd, 1000));
	close(fd);
	assert_int_equal(stats().timed_out[TD_HTTPD_TIMEOUT_IDLE], 1);
}

static void reader_that_stops_reading_is_closed_and_stalls_no_one(void **state)
{
	(void)state;
	char buf[4096];
	int stuck = client(), other = client();
	send_all(stuck, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
	/* the server blocks on nobody: another client is answered meanwhile */
	send_all(other, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
	read_responses(other, buf, sizeof(buf), 1);
	assert_non_null(strstr(buf, "GET /echo|"));
	close(other);
	/* 400 ms without progress, long before its 64 s deadline (16 MiB at
	 * 256 KiB/s), the stuck one is closed */
	struct timespec ts = {.tv_nsec = 900000000};
	nanosleep(&ts, NULL);
	struct td_httpd_stats s = stats();
	assert_int_equal(s.timed_out[TD_HTTPD_TIMEOUT_RESPONSE], 1);
	assert_int_equal(s.open, 0);
	close(stuck);
	td_httpd_stop(srv);
	srv = NULL;
	assert_int_equal(releases, 1); /* its body was given back */
	assert_int_equal(start(8, 4, 400), 0);
}

static void reader_slower_than_the_minimum_rate_is_closed_despite_progress(void **state)
{
	(void)state;
	static char tmp[16384];
	int rcvbuf = 65536;
	size_t total = 0;
	td_httpd_stop(srv);
	min_rate = 1u << 30; /* 1 GiB/s: 16 MiB may take 400 + 16 ms */
	assert_int_equal(start(8, 4, 400), 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* a small window: what is in flight stays far below the body */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	uint64_t t0 = td_os_now_ns();
	send_all(fd, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
	/* about 15 MB/s: progress all the time, the whole body in about 1.1 s */
	for (;;) {
		ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0)
			break;
		total += (size_t)n;
		sleep_ms(1);
	}
	uint64_t ms = (td_os_now_ns() - t0) / 1000000ull;
	close(fd);
	assert_true(total < BIG);
	assert_true(ms < 1000);
	assert_int_equal(stats().timed_out[TD_HTTPD_TIMEOUT_RESPONSE], 1);
}

static void client_hanging_up_mid_request_is_counted_aborted(void **state)
{
	(void)state;
	int fd = client();
	send_all(fd, "GET /echo HTTP/1.1\r\nHost");
	close(fd);
	uint64_t end = td_os_now_ns() + 1000000000ull;
	while ((stats().open || !stats().accepted) && td_os_now_ns() < end) {
		struct timespec ts = {.tv_nsec = 10000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(stats().open, 0);
	assert_int_equal(stats().aborted, 1);
	assert_int_equal(stats().requests, 0);
}

static void stop_releases_bodies_still_being_written(void **state)
{
	(void)state;
	int fd = client();
	send_all(fd, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
	char tmp[100];
	assert_true(recv(fd, tmp, sizeof(tmp), 0) > 0);
	td_httpd_stop(srv);
	srv = NULL;
	assert_int_equal(releases, 1);
	assert_int_equal(handled, 1);
	close(fd);
	assert_int_equal(start(8, 4, 400), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(keep_alive_answers_several_requests_on_one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(pipelined_requests_are_answered_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(head_sends_headers_with_the_get_length_only, setup, teardown),
		cmocka_unit_test_setup_teardown(null_body_is_sent_as_content_length_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_head_request_gets_headers_only, setup, teardown),
		cmocka_unit_test_setup_teardown(keep_alive_timeout_counts_from_when_a_slow_handler_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(request_sent_while_a_handler_blocked_is_served_not_timed_out, setup, teardown),
		cmocka_unit_test_setup_teardown(long_pipeline_yields_to_other_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(http10_closes_unless_keep_alive_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_request_gets_400_and_a_close_and_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(oversized_head_gets_431_while_the_client_still_sends, setup, teardown),
		cmocka_unit_test_setup_teardown(body_is_discarded_and_too_large_body_is_413, setup, teardown),
		cmocka_unit_test_setup_teardown(body_and_next_request_in_one_segment_are_split_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(over_limit_connections_are_closed_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(total_limit_refuses_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(slow_request_is_closed_after_the_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(idle_keep_alive_connection_is_closed_and_counted_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_that_stops_reading_is_closed_and_stalls_no_one, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_slower_than_the_minimum_rate_is_closed_despite_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(client_hanging_up_mid_request_is_counted_aborted, setup, teardown),
		cmocka_unit_test_setup_teardown(stop_releases_bodies_still_being_written, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
