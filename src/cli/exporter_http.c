/* tundra exporter's HTTP endpoints on libmicrohttpd (its own epoll thread; bounded connections and timeouts). */
#include "cli/exporter_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct td_exphttp {
	struct MHD_Daemon *d;
	struct td_exphttp_ops ops;
	/* One exposition buffer kept between scrapes so a steady scrape rate does
	 * not allocate; only the MHD thread touches it. */
	struct td_expm_buf *spare;
};

int td_exphttp_parse_listen(const char *s, void *ssv, size_t sslen, size_t *outlen)
{
	struct sockaddr_storage *ss = ssv;
	const char *colon;
	char host[64];
	char *end;
	unsigned long port;

	if (sslen < sizeof(*ss) || !s)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = 0;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port > 65535)
		return -EINVAL;
	if (!host[0] || !strcmp(host, "::")) {
		/* ":9374" listens on every address of both families, like Go's net.Listen */
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t)port);
		*outlen = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*outlen = sizeof(*a4);
		return 0;
	}
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*outlen = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *ctype,
				 const char *text)
{
	/* MHD copies the bytes (MUST_COPY); its prototype just lacks the const */
	char *copy = strdup(text);
	struct MHD_Response *r =
		copy ? MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE)
		     : NULL;
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

struct buf_owner {
	struct td_exphttp *h;
	struct td_expm_buf buf;
};

static void buf_release(void *cls)
{
	struct buf_owner *o = cls;
	if (!o->h->spare) {
		o->h->spare = &o->buf;
		return;
	}
	td_expm_buf_free(&o->buf);
	free(o);
}

static struct buf_owner *buf_take(struct td_exphttp *h)
{
	struct buf_owner *o;
	if (h->spare) {
		o = (struct buf_owner *)((char *)h->spare - offsetof(struct buf_owner, buf));
		h->spare = NULL;
	} else {
		o = calloc(1, sizeof(*o));
		if (!o)
			return NULL;
		o->h = h;
	}
	o->buf.len = 0;
	o->buf.oom = false;
	return o;
}

static enum MHD_Result send_rendered(struct td_exphttp *h, struct MHD_Connection *c,
				     void (*render)(void *, struct td_expm_buf *),
				     const char *ctype)
{
	struct buf_owner *o = buf_take(h);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!o)
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n");
	render(h->ops.ctx, &o->buf);
	if (o->buf.oom) {
		buf_release(o);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n");
	}
	r = MHD_create_response_from_buffer_with_free_callback_cls(o->buf.len, o->buf.p,
								    buf_release, o);
	if (!r) {
		buf_release(o);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct td_exphttp *h = cls;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	bool post = !strcmp(method, MHD_HTTP_METHOD_POST) || !strcmp(method, MHD_HTTP_METHOD_PUT);
	static int first_call;

	(void)version;
	(void)upload;
	/* Request bodies are never used: take the first call to see the headers,
	 * then discard whatever body arrives, bounded by MHD's memory limit. */
	if (!*con_cls) {
		*con_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/metrics")) {
		if (!get)
			return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
					 "use GET\n");
		return send_rendered(h, c, h->ops.metrics, "text/plain; version=0.0.4; charset=utf-8");
	}
	if (!strcmp(url, "/")) {
		if (!get)
			return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "use GET\n");
		return send_rendered(h, c, h->ops.page, "text/html; charset=utf-8");
	}
	if (!strcmp(url, "/-/healthy"))
		return send_text(c, MHD_HTTP_OK, "text/plain", "tundra exporter is Healthy.\n");
	if (!strcmp(url, "/-/ready")) {
		if (h->ops.ready(h->ops.ctx))
			return send_text(c, MHD_HTTP_OK, "text/plain", "tundra exporter is Ready.\n");
		return send_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
				 "tundra exporter is not ready.\n");
	}
	if (!strcmp(url, "/-/reload")) {
		char err[600], msg[700];
		if (!post)
			return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
					 "This endpoint requires a POST request.\n");
		err[0] = 0;
		if (h->ops.reload(h->ops.ctx, err, sizeof(err)) == 0)
			return send_text(c, MHD_HTTP_OK, "text/plain", "configuration reloaded\n");
		snprintf(msg, sizeof(msg), "failed to reload config: %s\n", err);
		return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", msg);
	}
	return send_text(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
}

int td_exphttp_start(struct td_exphttp **out, const char *listen,
		     const struct td_exphttp_limits *lim, const struct td_exphttp_ops *ops,
		     char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	size_t sslen;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD;
	struct td_exphttp *h;
	uint16_t port;

	if (td_exphttp_parse_listen(listen, &ss, sizeof(ss), &sslen)) {
		snprintf(err, errlen, "--listen '%s': expected ADDR:PORT, :PORT or [V6]:PORT", listen);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ops = *ops;
	if (ss.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		if (IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
			flags |= MHD_USE_DUAL_STACK;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	h->d = MHD_start_daemon(
		flags, port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)lim->connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)lim->per_ip,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)lim->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	if (!h->d && (flags & MHD_USE_DUAL_STACK) == MHD_USE_DUAL_STACK) {
		/* no IPv6 on this host (disabled, or a container without it):
		 * ":PORT" still means every IPv4 address */
		struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
		h->d = MHD_start_daemon(
			MHD_USE_EPOLL_INTERNAL_THREAD, port, NULL, NULL, handler, h,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a4, MHD_OPTION_CONNECTION_LIMIT,
			(unsigned)lim->connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			(unsigned)lim->per_ip, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)lim->timeout_s,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	}
	if (!h->d) {
		int e = errno ? errno : EADDRINUSE;
		snprintf(err, errlen, "cannot listen on %s: %s", listen, strerror(e));
		free(h);
		return -e;
	}
	*out = h;
	return 0;
}

void td_exphttp_stop(struct td_exphttp *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	if (h->spare) {
		struct buf_owner *o =
			(struct buf_owner *)((char *)h->spare - offsetof(struct buf_owner, buf));
		td_expm_buf_free(&o->buf);
		free(o);
	}
	free(h);
}
