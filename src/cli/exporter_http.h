/* tundra exporter's HTTP endpoints, served by src/os/httpd.c in a thread of their own so scrapes never delay probes. */
#ifndef TUNDRA_CLI_EXPORTER_HTTP_H
#define TUNDRA_CLI_EXPORTER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/exporter_metrics.h"
#include "os/httpd.h"

/*
 * Endpoints: GET /metrics, GET / (HTML target list), GET /-/healthy,
 * GET /-/ready, POST /-/reload (also PUT, as Prometheus accepts). Nothing takes
 * a target or an address from a request. The server runs its own epoll
 * thread (src/os/httpd.c); the probe threads never take a lock the HTTP thread
 * can hold for long, so a slow or flooding client cannot stall probing.
 * Connection limits (total and per client address) and a timeout bound what
 * clients can hold. The query string is not part of the path.
 */

struct td_exphttp_ops {
	/* Render the exposition into buf (buf->len starts at 0). */
	void (*metrics)(void *ctx, struct td_expm_buf *buf);
	/* Render the HTML status page into buf. */
	void (*page)(void *ctx, struct td_expm_buf *buf);
	/* Reload the configuration; 0 or -errno with a message in err;
	 * -EINPROGRESS when it did not end within about a second (it goes on in
	 * the background; answered 503). */
	int (*reload)(void *ctx, char *err, size_t errlen);
	bool (*ready)(void *ctx);
	void *ctx;
};

struct td_exphttp_limits {
	unsigned connections;        /* total */
	unsigned per_ip;             /* per client address */
	/* request/response timeout: a request must be whole this long after
	 * the connection was ready for it (so an idle keep-alive connection
	 * closes after it); a response must progress this often and be read
	 * whole within it plus 1 s per 256 KiB of body */
	unsigned timeout_s;
};

struct td_exphttp;

/* Parse "ADDR:PORT", ":PORT", "[V6]:PORT" into a sockaddr; 0 or -EINVAL. */
int td_exphttp_parse_listen(const char *s, void *ss, size_t sslen, size_t *outlen);

/* Start listening; 0 or -errno (message in err). *out is set before the
 * server thread starts, so the callbacks may read it. */
int td_exphttp_start(struct td_exphttp **out, const char *listen,
		     const struct td_exphttp_limits *lim, const struct td_exphttp_ops *ops,
		     char *err, size_t errlen);
void td_exphttp_stop(struct td_exphttp *h);

/* The server's counters (connections, refusals, timeouts, bad requests);
 * 0, or -ENOENT before the server runs. */
int td_exphttp_stats(const struct td_exphttp *h, struct td_httpd_stats *out);

#endif
