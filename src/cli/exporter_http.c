/* tundra exporter's HTTP endpoints: routing and rendering over the server of src/os/httpd.c (its own thread). */
#include "cli/exporter_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct td_exphttp {
	struct td_httpd *srv;
	struct td_exphttp_ops ops;
	/* One exposition buffer kept between scrapes so a steady scrape rate does
	 * not allocate; only the server thread touches it. */
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

static void text(struct td_httpd_resp *r, unsigned status, const char *body)
{
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	r->body = body; /* static storage */
	r->body_len = strlen(body);
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

/* A rendered body, kept until the server has written it (a slow reader keeps
 * its own buffer; the next scrape takes the spare or a new one). */
static void rendered(struct td_exphttp *h, struct td_httpd_resp *r,
		     void (*render)(struct td_exphttp *, struct td_expm_buf *), const char *ctype)
{
	struct buf_owner *o = buf_take(h);

	if (!o) {
		text(r, 500, "out of memory\n");
		return;
	}
	render(h, &o->buf);
	if (o->buf.oom) {
		buf_release(o);
		text(r, 500, "out of memory\n");
		return;
	}
	r->status = 200;
	r->content_type = ctype;
	r->body = o->buf.p;
	r->body_len = o->buf.len;
	r->release = buf_release;
	r->cookie = o;
}

static bool is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && !memcmp(s, lit, n);
}

static void metrics(struct td_exphttp *h, struct td_expm_buf *b)
{
	h->ops.metrics(h->ops.ctx, b);
}

static void page(struct td_exphttp *h, struct td_expm_buf *b)
{
	h->ops.page(h->ops.ctx, b);
}

static void healthy(struct td_exphttp *h, struct td_httpd_resp *r)
{
	(void)h;
	text(r, 200, "tundra exporter is Healthy.\n");
}

static void ready(struct td_exphttp *h, struct td_httpd_resp *r)
{
	if (h->ops.ready(h->ops.ctx))
		text(r, 200, "tundra exporter is Ready.\n");
	else
		text(r, 503, "tundra exporter is not ready.\n");
}

static void reload(struct td_exphttp *h, struct td_httpd_resp *r)
{
	char err[600];
	int rc;

	err[0] = 0;
	rc = h->ops.reload(h->ops.ctx, err, sizeof(err));
	if (rc == 0) {
		text(r, 200, "configuration reloaded\n");
		return;
	}
	if (rc == -EINPROGRESS) {
		/* the HTTP thread does not wait longer; the metric tells the end */
		snprintf(r->small, sizeof(r->small), "%s\n", err);
		text(r, 503, r->small);
		return;
	}
	snprintf(r->small, sizeof(r->small), "failed to reload config: %s\n", err);
	text(r, 500, r->small);
}

enum { M_GET = 1, M_POST = 2 }; /* GET covers HEAD; POST covers PUT, as Prometheus */

static const struct route {
	const char *path;
	unsigned methods;  /* M_*; 0: any method */
	const char *allow; /* with a 405 */
	const char *refusal; /* its body */
	/* a rendered body ... */
	void (*render)(struct td_exphttp *h, struct td_expm_buf *b);
	const char *ctype;
	/* ... or a short answer */
	void (*answer)(struct td_exphttp *h, struct td_httpd_resp *r);
} routes[] = {
	{"/metrics", M_GET, "GET, HEAD", "use GET\n", metrics,
	 "text/plain; version=0.0.4; charset=utf-8", NULL},
	{"/", M_GET, "GET, HEAD", "use GET\n", page,
	 "text/html; charset=utf-8", NULL},
	{"/-/healthy", 0, NULL, NULL, NULL, NULL, healthy},
	{"/-/ready", 0, NULL, NULL, NULL, NULL, ready},
	{"/-/reload", M_POST, "POST, PUT", "This endpoint requires a POST request.\n", NULL, NULL,
	 reload},
};

static void handler(void *cls, const struct td_http_request *req, struct td_httpd_resp *r)
{
	struct td_exphttp *h = cls;
	const char *m = req->method;
	size_t ml = req->method_len;
	unsigned method = is(m, ml, "GET") || is(m, ml, "HEAD")	? M_GET
			  : is(m, ml, "POST") || is(m, ml, "PUT") ? M_POST
								  : 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];

		if (!is(req->path, req->path_len, rt->path))
			continue;
		if (rt->methods && !(rt->methods & method)) {
			text(r, 405, rt->refusal);
			r->allow = rt->allow;
			return;
		}
		if (rt->answer)
			rt->answer(h, r);
		else
			rendered(h, r, rt->render, rt->ctype);
		return;
	}
	text(r, 404, "not found\n");
}

int td_exphttp_start(struct td_exphttp **out, const char *listen,
		     const struct td_exphttp_limits *lim, const struct td_exphttp_ops *ops,
		     char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	size_t sslen;
	struct td_exphttp *h;
	struct td_httpd_limits hl = {.max_conns = lim->connections,
				     .per_client = lim->per_ip,
				     .timeout_ms = lim->timeout_s * 1000u};
	struct td_httpd_handler hh = {.handle = handler};
	int rc;

	if (td_exphttp_parse_listen(listen, &ss, sizeof(ss), &sslen)) {
		snprintf(err, errlen, "--listen '%s': expected ADDR:PORT, :PORT or [V6]:PORT", listen);
		return -EINVAL;
	}
	td_http_limits_default(&hl.http);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ops = *ops;
	hh.ctx = h;
	*out = h; /* before the server thread starts: callbacks may read it */
	rc = td_httpd_start(&h->srv, (struct sockaddr *)&ss, (socklen_t)sslen, &hl, &hh);
	if (rc) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen, strerror(-rc));
		*out = NULL;
		free(h);
		return rc;
	}
	return 0;
}

void td_exphttp_stop(struct td_exphttp *h)
{
	if (!h)
		return;
	td_httpd_stop(h->srv); /* releases the bodies still being written */
	if (h->spare) {
		struct buf_owner *o =
			(struct buf_owner *)((char *)h->spare - offsetof(struct buf_owner, buf));
		td_expm_buf_free(&o->buf);
		free(o);
	}
	free(h);
}

int td_exphttp_stats(const struct td_exphttp *h, struct td_httpd_stats *out)
{
	if (!h || !h->srv)
		return -ENOENT;
	td_httpd_stats(h->srv, out);
	return 0;
}
