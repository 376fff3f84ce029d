/* Built-in TCP services of tundra stack: echo (7), discard (9), chargen (19), HTTP/1.1 (80). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack_internal.h"
#include "stack/tcp_internal.h"

/*
 * Each service is a listener whose callback accepts connections and gives
 * each one a small state block; everything is driven by readiness callbacks
 * (no I/O, no clock: "now" is the time of the entry point that fired them).
 * State blocks are allocated per accepted connection and freed when it ends.
 */

#define CHARGEN_PERIOD (95 * 74)

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP };

#define SVC_BUF 16384
#define HTTP_HEAD_MAX 8192

enum http_state { H_HEAD, H_BODY, H_RESP, H_DONE };

struct svc_conn {
	struct td_tcp_services *svc;
	struct svc_conn *next, *prev;
	struct td_tcp_sock *s;
	uint8_t kind;
	bool eof, shut;
	/* echo: bytes read and not yet sent */
	uint32_t pend_off, pend_len;
	uint8_t *buf; /* SVC_BUF, allocated on first use */
	/* chargen / http stream position */
	uint64_t pos;
	/* http */
	uint8_t hstate;
	bool keep_alive, body_to_eof;
	uint32_t head_len;
	uint64_t body_left, body_got;
	bool verify;          /* POST /upload/stream: the body must be the /bytes stream */
	bool body_bad;        /* ... and it was not */
	uint64_t stream_left; /* /bytes/N body still to send */
	char *resp;           /* header (+ small body) still to send */
	uint32_t resp_len, resp_off;
};

struct td_tcp_services {
	struct td_tcp *tcp;
	struct td_stack *st;
	struct td_tcp_sock *lst[8];
	uint8_t lst_kind[8];
	unsigned nlst;
	struct svc_conn *conns;
	uint64_t http_requests, upload_bytes;
	uint8_t chargen[CHARGEN_PERIOD];
};

/* ---- the /bytes/N stream ------------------------------------------------------------
 * byte(i) = T[(j + 8*k) mod 65536] XOR (k mod 256), where k = i div 65536,
 * j = i mod 65536 and T[x] = ((x * 2654435761) mod 2^32) div 2^24.
 * Random access, and cheap to verify block by block in any language. */
void td_tcp_stream_fill(uint8_t *out, uint64_t off, size_t len)
{
	for (size_t n = 0; n < len; n++) {
		uint64_t i = off + n;
		uint32_t k = (uint32_t)(i >> 16), j = (uint32_t)(i & 0xffff);
		uint32_t x = (j + 8u * k) & 0xffffu;
		out[n] = (uint8_t)((x * 2654435761u) >> 24) ^ (uint8_t)k;
	}
}

/* RFC 864: 72-character lines of printable ASCII, each starting one later;
 * the stream repeats every 95 lines (CHARGEN_PERIOD bytes). */

static void chargen_table(uint8_t *t)
{
	for (size_t p = 0; p < CHARGEN_PERIOD; p++) {
		size_t line = p / 74, col = p % 74;
		t[p] = col == 72 ? '\r' : col == 73 ? '\n' : (uint8_t)(' ' + (line + col) % 95);
	}
}

static uint64_t svc_now(const struct td_tcp_services *svc)
{
	return svc->tcp->now;
}

static void conn_release(struct svc_conn *c, bool graceful)
{
	struct td_tcp_services *svc = c->svc;
	td_tcp_set_callback(c->s, NULL, NULL);
	if (graceful)
		td_tcp_close(c->s, svc_now(svc));
	else
		td_tcp_abort(c->s, svc_now(svc));
	free(c->buf);
	free(c->resp);
	free(c);
}

static void conn_free(struct svc_conn *c, bool graceful)
{
	struct td_tcp_services *svc = c->svc;
	if (c->prev)
		c->prev->next = c->next;
	else
		svc->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	conn_release(c, graceful);
}

static uint8_t *conn_buf(struct svc_conn *c)
{
	if (!c->buf)
		c->buf = malloc(SVC_BUF);
	return c->buf;
}

/* Read and drop what the peer sends; true at EOF. -1 on error. */
static int drain(struct svc_conn *c, uint64_t *count)
{
	uint8_t tmp[16384];
	for (;;) {
		ssize_t n = td_tcp_recv(c->s, tmp, sizeof(tmp), svc_now(c->svc));
		if (n > 0) {
			if (count)
				*count += (uint64_t)n;
			continue;
		}
		if (n == 0)
			return 1;
		return n == -EAGAIN ? 0 : -1;
	}
}

/* Returns false when the connection was freed. */
static bool do_echo(struct svc_conn *c)
{
	uint64_t now = svc_now(c->svc);
	uint8_t *buf = conn_buf(c);
	if (!buf)
		return conn_free(c, false), false;
	for (;;) {
		if (c->pend_len == 0 && !c->eof) {
			ssize_t n = td_tcp_recv(c->s, buf, SVC_BUF, now);
			if (n == 0) {
				c->eof = true;
			} else if (n == -EAGAIN) {
				break;
			} else if (n < 0) {
				conn_free(c, false);
				return false;
			} else {
				c->pend_off = 0;
				c->pend_len = (uint32_t)n;
			}
		}
		if (c->pend_len) {
			ssize_t w = td_tcp_send(c->s, buf + c->pend_off, c->pend_len, now);
			if (w == -EAGAIN)
				break;
			if (w < 0) {
				conn_free(c, false);
				return false;
			}
			c->pend_off += (uint32_t)w;
			c->pend_len -= (uint32_t)w;
			if (c->pend_len)
				break;
		}
		if (c->eof && c->pend_len == 0) {
			/* everything echoed: our FIN follows (half-close honoured) */
			conn_free(c, true);
			return false;
		}
	}
	if (c->pend_len == 0) {
		/* An idle echo connection holds no buffer (issue 7: about 1 KiB
		 * per idle connection in all); the next burst allocates again. */
		free(c->buf);
		c->buf = NULL;
	}
	return true;
}

static bool do_chargen(struct svc_conn *c)
{
	uint64_t now = svc_now(c->svc);
	int d = drain(c, NULL);
	if (d != 0) {
		conn_free(c, d > 0);
		return false;
	}
	for (;;) {
		size_t off = (size_t)(c->pos % CHARGEN_PERIOD);
		ssize_t w = td_tcp_send(c->s, c->svc->chargen + off, CHARGEN_PERIOD - off, now);
		if (w == -EAGAIN)
			break;
		if (w < 0) {
			conn_free(c, false);
			return false;
		}
		c->pos += (uint64_t)w;
	}
	return true;
}

/* ---- HTTP/1.1 ---------------------------------------------------------------------- */

static size_t stats_json(const struct td_tcp_services *svc, char *out, size_t cap)
{
	size_t n = 0;
#define PUT(...)                                                                       \
	do {                                                                           \
		int w_ = snprintf(out + n, cap - n, __VA_ARGS__);                      \
		if (w_ < 0 || (size_t)w_ >= cap - n)                                   \
			return n;                                                      \
		n += (size_t)w_;                                                       \
	} while (0)
	PUT("{");
	bool first = true;
	if (svc->st) {
		const struct td_stack_stats *ss = td_stack_stats(svc->st);
		for (int i = 0; i < TD_CTR_COUNT; i++) {
			PUT("%s\"%s\": %llu", first ? "" : ", ", td_stack_ctr_name((enum td_stack_ctr)i),
			    (unsigned long long)ss->ctr[i]);
			first = false;
		}
		for (size_t i = 0; i < td_stack_extra_count(svc->st); i++) {
			const char *name;
			uint64_t v;
			td_stack_extra_get(svc->st, i, &name, &v);
			PUT(", \"%s\": %llu", name, (unsigned long long)v);
		}
	} else {
		const struct td_tcp_counters *tc = td_tcp_counters(svc->tcp);
		const uint64_t *v = &tc->rx_segs;
		for (size_t i = 0; td_tcp_counter_names[i]; i++) {
			PUT("%s\"tcp_%s\": %llu", first ? "" : ", ", td_tcp_counter_names[i],
			    (unsigned long long)v[i]);
			first = false;
		}
	}
	PUT("%s\"http_requests\": %llu, \"http_upload_bytes\": %llu}\n", first ? "" : ", ",
	    (unsigned long long)svc->http_requests, (unsigned long long)svc->upload_bytes);
#undef PUT
	return n;
}

static void http_respond(struct svc_conn *c, int code, const char *reason, const char *ctype,
			 const char *body, size_t body_len, uint64_t stream_len)
{
	free(c->resp);
	size_t cap = 512 + body_len;
	c->resp = malloc(cap);
	if (!c->resp) {
		c->resp_len = 0;
		c->keep_alive = false;
		return;
	}
	uint64_t clen = body ? body_len : stream_len;
	int n = snprintf(c->resp, cap,
			 "HTTP/1.1 %d %s\r\nServer: tundra\r\nContent-Type: %s\r\n"
			 "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
			 code, reason, ctype, (unsigned long long)clen,
			 c->keep_alive ? "keep-alive" : "close");
	if (n < 0)
		n = 0;
	if (body && body_len)
		memcpy(c->resp + n, body, body_len);
	c->resp_len = (uint32_t)n + (uint32_t)(body ? body_len : 0);
	c->resp_off = 0;
	c->stream_left = body ? 0 : stream_len;
	c->pos = 0;
	c->hstate = H_RESP;
}

static bool header_value(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *h = p + 2;
		if (!strncasecmp(h, name, nl) && h[nl] == ':') {
			h += nl + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			size_t i = 0;
			while (h[i] && h[i] != '\r' && i + 1 < cap) {
				out[i] = h[i];
				i++;
			}
			out[i] = 0;
			return true;
		}
	}
	return false;
}

/* A complete head is in buf[0..end): act on it. */
static void http_request(struct svc_conn *c, char *head)
{
	struct td_tcp_services *svc = c->svc;
	svc->http_requests++;
	char method[8], path[256], version[16];
	if (sscanf(head, "%7s %255s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		c->keep_alive = false;
		static const char msg[] = "bad request\n";
		http_respond(c, 400, "Bad Request", "text/plain", msg, sizeof(msg) - 1, 0);
		return;
	}
	char v[64];
	c->keep_alive = strcmp(version, "HTTP/1.0") != 0;
	if (header_value(head, "Connection", v, sizeof(v)) && !strcasecmp(v, "close"))
		c->keep_alive = false;
	if (!strcmp(method, "GET") && !strcmp(path, "/stats")) {
		char *body = malloc(32768);
		size_t n = body ? stats_json(svc, body, 32768) : 0;
		http_respond(c, 200, "OK", "application/json", body ? body : "", n, 0);
		free(body);
		return;
	}
	if (!strcmp(method, "GET") && !strncmp(path, "/bytes/", 7)) {
		char *end;
		unsigned long long n = strtoull(path + 7, &end, 10);
		if (*end == 0 && end != path + 7) {
			http_respond(c, 200, "OK", "application/octet-stream", NULL, 0, n);
			return;
		}
	}
	if ((!strcmp(method, "POST") || !strcmp(method, "PUT")) &&
	    (!strcmp(path, "/upload") || !strcmp(path, "/upload/stream"))) {
		c->verify = !strcmp(path, "/upload/stream");
		c->body_bad = false;
		if (header_value(head, "Transfer-Encoding", v, sizeof(v)) && strcasecmp(v, "identity") != 0) {
			c->keep_alive = false;
			static const char msg[] = "send a Content-Length\n";
			http_respond(c, 411, "Length Required", "text/plain", msg, sizeof(msg) - 1, 0);
			return;
		}
		c->body_got = 0;
		if (header_value(head, "Content-Length", v, sizeof(v))) {
			c->body_left = strtoull(v, NULL, 10);
			c->body_to_eof = false;
		} else {
			c->body_left = 0;
			c->body_to_eof = true; /* until the client half-closes */
			c->keep_alive = false;
		}
		c->hstate = H_BODY;
		return;
	}
	static const char msg[] = "not found: try /stats, /bytes/N, POST /upload, POST /upload/stream\n";
	http_respond(c, 404, "Not Found", "text/plain", msg, sizeof(msg) - 1, 0);
}

/* /upload/stream: compare n body bytes, at body offset c->body_got, with
 * the /bytes stream (so an upload is checked byte for byte, not only counted). */
static void upload_check(struct svc_conn *c, const uint8_t *p, size_t n)
{
	uint8_t want[4096];
	uint64_t off = c->body_got;
	while (c->verify && !c->body_bad && n) {
		size_t k = n < sizeof(want) ? n : sizeof(want);
		td_tcp_stream_fill(want, off, k);
		if (memcmp(want, p, k) != 0)
			c->body_bad = true;
		p += k;
		off += k;
		n -= k;
	}
}

static void upload_done(struct svc_conn *c)
{
	char body[96];
	int n = c->verify ? snprintf(body, sizeof(body), "{\"received\": %llu, \"stream_ok\": %s}\n",
				     (unsigned long long)c->body_got, c->body_bad ? "false" : "true")
			  : snprintf(body, sizeof(body), "{\"received\": %llu}\n",
				     (unsigned long long)c->body_got);
	http_respond(c, 200, "OK", "application/json", body, (size_t)n, 0);
}

static bool do_http(struct svc_conn *c)
{
	struct td_tcp_services *svc = c->svc;
	uint64_t now = svc_now(svc);
	uint8_t *buf = conn_buf(c);
	if (!buf)
		return conn_free(c, false), false;
	for (int guard = 0; guard < 1 << 20; guard++) {
		if (c->hstate == H_HEAD) {
			buf[c->head_len] = 0;
			char *end = c->head_len ? strstr((char *)buf, "\r\n\r\n") : NULL;
			if (!end) {
				if (c->head_len >= HTTP_HEAD_MAX) {
					c->keep_alive = false;
					c->head_len = 0;
					static const char msg[] = "header too large\n";
					http_respond(c, 431, "Request Header Fields Too Large",
						     "text/plain", msg, sizeof(msg) - 1, 0);
					continue;
				}
				ssize_t n = td_tcp_recv(c->s, buf + c->head_len,
							HTTP_HEAD_MAX - c->head_len, now);
				if (n == -EAGAIN)
					return true;
				if (n <= 0) {
					conn_free(c, n == 0);
					return false;
				}
				c->head_len += (uint32_t)n;
				continue;
			}
			size_t hl = (size_t)(end - (char *)buf) + 4;
			char save = buf[hl - 2];
			buf[hl - 2] = 0;
			http_request(c, (char *)buf);
			buf[hl - 2] = (uint8_t)save;
			/* bytes after the head: body of an upload or the next request */
			size_t extra = c->head_len - hl;
			if (c->hstate == H_BODY) {
				uint64_t take = c->body_to_eof || extra < c->body_left ? extra : c->body_left;
				upload_check(c, buf + hl, (size_t)take);
				c->body_got += take;
				svc->upload_bytes += take;
				if (!c->body_to_eof)
					c->body_left -= take;
				c->head_len = 0;
				if (!c->body_to_eof && c->body_left == 0)
					upload_done(c);
			} else {
				memmove(buf, buf + hl, extra);
				c->head_len = (uint32_t)extra;
			}
			continue;
		}
		if (c->hstate == H_BODY) {
			uint64_t want = c->body_to_eof || c->body_left > SVC_BUF ? SVC_BUF : c->body_left;
			ssize_t n = td_tcp_recv(c->s, buf, (size_t)want, now);
			if (n == -EAGAIN)
				return true;
			if (n < 0) {
				conn_free(c, false);
				return false;
			}
			if (n == 0) {
				if (!c->body_to_eof) {
					conn_free(c, true); /* truncated upload */
					return false;
				}
				upload_done(c);
				continue;
			}
			upload_check(c, buf, (size_t)n);
			c->body_got += (uint64_t)n;
			svc->upload_bytes += (uint64_t)n;
			if (!c->body_to_eof) {
				c->body_left -= (uint64_t)n;
				if (c->body_left == 0)
					upload_done(c);
			}
			continue;
		}
		if (c->hstate == H_RESP) {
			if (c->resp_off < c->resp_len) {
				ssize_t w = td_tcp_send(c->s, c->resp + c->resp_off,
							c->resp_len - c->resp_off, now);
				if (w == -EAGAIN)
					return true;
				if (w < 0) {
					conn_free(c, false);
					return false;
				}
				c->resp_off += (uint32_t)w;
				continue;
			}
			if (c->stream_left) {
				uint8_t chunk[8192];
				size_t len = c->stream_left < sizeof(chunk) ? (size_t)c->stream_left
									   : sizeof(chunk);
				td_tcp_stream_fill(chunk, c->pos, len);
				ssize_t w = td_tcp_send(c->s, chunk, len, now);
				if (w == -EAGAIN)
					return true;
				if (w < 0) {
					conn_free(c, false);
					return false;
				}
				c->pos += (uint64_t)w;
				c->stream_left -= (uint64_t)w;
				continue;
			}
			if (!c->keep_alive) {
				/* everything sent: FIN, and discard what the client still sends */
				int d = drain(c, NULL);
				conn_free(c, d >= 0);
				return false;
			}
			c->hstate = H_HEAD;
			free(c->resp);
			c->resp = NULL;
			c->resp_len = c->resp_off = 0;
			continue;
		}
		break;
	}
	return true;
}

static void conn_cb(struct td_tcp_sock *s, unsigned ev, void *user)
{
	(void)s;
	(void)ev;
	struct svc_conn *c = user;
	switch (c->kind) {
	case SVC_ECHO:
		do_echo(c);
		break;
	case SVC_DISCARD: {
		int d = drain(c, NULL);
		if (d != 0)
			conn_free(c, d > 0);
		break;
	}
	case SVC_CHARGEN:
		do_chargen(c);
		break;
	default:
		do_http(c);
		break;
	}
}

static void listen_cb(struct td_tcp_sock *lst, unsigned ev, void *user)
{
	(void)ev;
	struct td_tcp_services *svc = user;
	uint8_t kind = SVC_HTTP;
	for (unsigned i = 0; i < svc->nlst; i++)
		if (svc->lst[i] == lst)
			kind = svc->lst_kind[i];
	struct td_tcp_sock *s;
	while (td_tcp_accept(lst, &s) == 0) {
		struct svc_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			td_tcp_abort(s, svc_now(svc));
			continue;
		}
		c->svc = svc;
		c->s = s;
		c->kind = kind;
		c->next = svc->conns;
		if (svc->conns)
			svc->conns->prev = c;
		svc->conns = c;
		if (kind == SVC_HTTP || kind == SVC_CHARGEN)
			td_tcp_setopt(s, TD_TCP_OPT_NODELAY, 1);
		td_tcp_set_callback(s, conn_cb, c);
		/* data may have arrived with the handshake's ACK */
		conn_cb(s, td_tcp_events(s), c);
	}
}

int td_tcp_services_start(struct td_tcp *tcp, struct td_stack *st, unsigned which,
			  struct td_tcp_services **out)
{
	static const struct {
		unsigned bit;
		uint16_t port;
		uint8_t kind;
	} tab[] = {{TD_TCP_SVC_ECHO, 7, SVC_ECHO},
		   {TD_TCP_SVC_DISCARD, 9, SVC_DISCARD},
		   {TD_TCP_SVC_CHARGEN, 19, SVC_CHARGEN},
		   {TD_TCP_SVC_HTTP, 80, SVC_HTTP}};
	struct td_tcp_services *svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	svc->tcp = tcp;
	svc->st = st;
	chargen_table(svc->chargen);
	int rc = 0;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!(which & tab[i].bit))
			continue;
		for (uint8_t fam = 4; fam <= 6; fam += 2) {
			struct td_tcp_sock *s;
			struct td_tcp_endpoint ep = {.family = fam, .port = tab[i].port};
			rc = td_tcp_socket(tcp, fam, &s);
			if (rc)
				goto fail;
			if ((rc = td_tcp_bind(s, &ep)) || (rc = td_tcp_listen(s, 1024))) {
				td_tcp_close(s, tcp->now);
				goto fail;
			}
			td_tcp_set_callback(s, listen_cb, svc);
			svc->lst_kind[svc->nlst] = tab[i].kind;
			svc->lst[svc->nlst++] = s;
		}
	}
	*out = svc;
	return 0;
fail:
	td_tcp_services_stop(svc, tcp->now);
	return rc;
}

void td_tcp_services_stop(struct td_tcp_services *svc, uint64_t now)
{
	if (!svc)
		return;
	svc->tcp->now = now;
	struct svc_conn *c = svc->conns;
	svc->conns = NULL;
	/* no callback may run while the list is being torn down */
	for (struct svc_conn *x = c; x; x = x->next)
		td_tcp_set_callback(x->s, NULL, NULL);
	for (unsigned i = 0; i < svc->nlst; i++)
		td_tcp_set_callback(svc->lst[i], NULL, NULL);
	while (c) {
		struct svc_conn *next = c->next;
		conn_release(c, false);
		c = next;
	}
	for (unsigned i = 0; i < svc->nlst; i++)
		td_tcp_close(svc->lst[i], now);
	free(svc);
}
