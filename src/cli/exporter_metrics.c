/* Render tundra exporter's statistics as Prometheus text exposition 0.0.4, fast and allocation-free once warm. */
#include "cli/exporter_metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---------------------------------------------------------------- */

static bool buf_reserve(struct td_expm_buf *b, size_t more)
{
	size_t want = b->len + more;
	char *np;

	if (want <= b->cap)
		return true;
	if (b->oom)
		return false;
	size_t cap = b->cap ? b->cap * 2 : 4096;
	if (cap < want)
		cap = want;
	np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static void put(struct td_expm_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct td_expm_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_u64(struct td_expm_buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, tmp + i, sizeof(tmp) - i);
}

/* Nanoseconds as seconds with nine decimals, without a float conversion. */
static void put_ns_as_s(struct td_expm_buf *b, uint64_t ns)
{
	char frac[10];
	uint64_t f = ns % 1000000000ull;

	put_u64(b, ns / 1000000000ull);
	frac[0] = '.';
	for (int i = 9; i >= 1; i--) {
		frac[i] = (char)('0' + f % 10);
		f /= 10;
	}
	put(b, frac, sizeof(frac));
}

static void put_double(struct td_expm_buf *b, double v)
{
	char tmp[40];
	int n;

	if (isnan(v)) {
		puts_(b, "NaN");
		return;
	}
	if (isinf(v)) {
		puts_(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	if (n > 0)
		put(b, tmp, (size_t)n);
}

void td_expm_append(struct td_expm_buf *b, const char *s, size_t n)
{
	put(b, s, n);
}

void td_expm_append_str(struct td_expm_buf *b, const char *s)
{
	puts_(b, s);
}

void td_expm_append_escaped(struct td_expm_buf *b, const char *s)
{
	for (const char *c = s; *c; c++) {
		if (*c == '\\')
			put(b, "\\\\", 2);
		else if (*c == '"')
			put(b, "\\\"", 2);
		else if (*c == '\n')
			put(b, "\\n", 2);
		else
			put(b, c, 1);
	}
}

void td_expm_buf_free(struct td_expm_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- buckets ------------------------------------------------------------- */

/* Go's strconv.FormatFloat(v, 'g', -1, 64), which client_golang uses for
 * `le`: the shortest digits that round-trip; exponent form when the decimal
 * exponent is < -4 or >= 6 (Go decides with precision 6 for shortest output).
 * The `le` string is part of the series identity, so it has to match
 * smokeping_prober's byte for byte. */
static void go_format_float(double v, char *out, size_t outlen)
{
	char tmp[40];
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	int exp = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
	if (exp < -4 || exp >= 6) {
		snprintf(out, outlen, "%s", tmp); /* C and Go both print e-05 / e+06 */
		return;
	}
	int decimals = prec - 1 - exp;
	snprintf(out, outlen, "%.*f", decimals > 0 ? decimals : 0, v);
}

static void buckets_finish(struct td_expm_buckets *b)
{
	for (size_t i = 0; i < b->n; i++) {
		go_format_float(b->le[i], b->le_str[i], sizeof(b->le_str[i]));
		double ns = b->le[i] * 1e9;
		b->le_ns[i] = ns >= 1.8e19 ? UINT64_MAX : (uint64_t)(ns + 0.5); /* ns > 0: no libm */
	}
}

void td_expm_buckets_default(struct td_expm_buckets *b)
{
	memset(b, 0, sizeof(*b));
	b->n = 20;
	for (size_t i = 0; i < b->n; i++)
		b->le[i] = 5e-05 * (double)(1ull << i);
	buckets_finish(b);
}

int td_expm_buckets_parse(struct td_expm_buckets *b, const char *list)
{
	struct td_expm_buckets nb;
	const char *s = list;

	memset(&nb, 0, sizeof(nb));
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || !isfinite(v) || v <= 0)
			return -EINVAL;
		if (nb.n && v <= nb.le[nb.n - 1])
			return -EINVAL;
		if (nb.n == TD_EXPM_MAX_BUCKETS)
			return -EINVAL;
		nb.le[nb.n++] = v;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	if (!nb.n)
		return -EINVAL;
	buckets_finish(&nb);
	*b = nb;
	return 0;
}

/* ---- series ---------------------------------------------------------------- */

static void put_label(struct td_expm_buf *b, const char *name, const char *value, bool first)
{
	if (!first)
		put(b, ",", 1);
	puts_(b, name);
	put(b, "=\"", 2);
	td_expm_append_escaped(b, value);
	put(b, "\"", 1);
}

int td_expm_series_init(struct td_expm_series *s, const char *host, const char *ip,
			const char *source, unsigned tos, const char *const *extra_names,
			const char *const *extra_values, size_t n_extra)
{
	struct td_expm_buf b = {0};
	char tosbuf[8];

	memset(s, 0, sizeof(*s));
	snprintf(tosbuf, sizeof(tosbuf), "%u", tos & 255u);
	put_label(&b, "host", host, true);
	put_label(&b, "ip", ip, false);
	put_label(&b, "source", source ? source : "", false);
	put_label(&b, "tos", tosbuf, false);
	for (size_t i = 0; i < n_extra; i++)
		put_label(&b, extra_names[i], extra_values[i] ? extra_values[i] : "", false);
	/* exact-size copy: the build buffer's capacity, kept per series, would be
	 * most of the exporter's memory at 10 000 targets */
	s->labels = b.oom ? NULL : strndup(b.p, b.len);
	s->labels_len = b.len;
	td_expm_buf_free(&b);
	if (!s->labels)
		return -ENOMEM;
	s->last_ttl = -1;
	s->last_rtt_ns = -1;
	return 0;
}

void td_expm_series_free(struct td_expm_series *s)
{
	free(s->labels);
	s->labels = NULL;
}

void td_expm_series_carry(struct td_expm_series *dst, const struct td_expm_series *src)
{
	char *labels = dst->labels;
	size_t len = dst->labels_len;

	*dst = *src;
	dst->labels = labels;
	dst->labels_len = len;
}

int td_expm_name_init(struct td_expm_name *n, const char *host)
{
	struct td_expm_buf b = {0};

	memset(n, 0, sizeof(*n));
	put_label(&b, "host", host, true);
	n->host_label = b.oom ? NULL : strndup(b.p, b.len);
	n->host_label_len = b.len;
	td_expm_buf_free(&b);
	if (!n->host_label)
		return -ENOMEM;
	return 0;
}

void td_expm_name_free(struct td_expm_name *n)
{
	free(n->host_label);
	n->host_label = NULL;
}

void td_expm_observe_reply(struct td_expm_series *s, const struct td_expm_buckets *b,
			   uint64_t rtt_ns, int ttl)
{
	size_t i = 0;

	while (i < b->n && rtt_ns > b->le_ns[i])
		i++;
	s->bucket[i]++;
	s->replies++;
	s->rtt_sum_ns += rtt_ns;
	if (ttl >= 0)
		s->last_ttl = ttl;
	/* RFC 3550 section 6.4.1: J += (|D| - J) / 16, with D the difference of
	 * successive transit times, here successive round-trip times. */
	if (s->last_rtt_ns >= 0) {
		double d = (double)rtt_ns - (double)s->last_rtt_ns;
		s->jitter_ns += (fabs(d) - s->jitter_ns) / 16.0;
	}
	s->last_rtt_ns = (int64_t)rtt_ns;
}

void td_expm_observe_icmp_error(struct td_expm_series *s, uint8_t type, uint8_t code)
{
	for (size_t i = 0; i < TD_EXPM_ICMP_SLOTS; i++) {
		struct td_expm_icmp_count *c = &s->icmp[i];
		if (c->count && c->type == type && c->code == code) {
			c->count++;
			return;
		}
		if (!c->count) {
			c->type = type;
			c->code = code;
			c->count = 1;
			return;
		}
	}
	s->icmp_other++;
}

/* ---- families ------------------------------------------------------------ */

enum family {
	F_REQUESTS,
	F_DURATION,
	F_DUPLICATES,
	F_TTL,
	F_SEND_ERRORS,
	F_TIMEOUTS,
	F_OUT_OF_ORDER,
	F_LATE,
	F_CORRUPTED,
	F_ICMP_ERRORS,
	F_JITTER,
	F_PER_SERIES_END,
	/* whole-process families follow, rendered in one step */
	F_GLOBAL = F_PER_SERIES_END,
	F_END
};

static const struct {
	const char *name, *type, *help;
} families[F_PER_SERIES_END] = {
	[F_REQUESTS] = {"smokeping_requests_total", "counter", "Number of ping requests sent"},
	[F_DURATION] = {"smokeping_response_duration_seconds", "histogram",
			"A histogram of latencies for ping responses."},
	[F_DUPLICATES] = {"smokeping_response_duplicates_total", "counter",
			  "The number of duplicated response packets."},
	[F_TTL] = {"smokeping_response_ttl", "gauge", "The last response Time To Live (TTL)."},
	[F_SEND_ERRORS] = {"smokeping_send_errors_total", "counter",
			   "The number of errors when Pinger attempts to send packets."},
	[F_TIMEOUTS] = {"tundra_timeouts_total", "counter",
			"Echo requests that got no reply within the timeout (lost)."},
	[F_OUT_OF_ORDER] = {"tundra_out_of_order_total", "counter",
			    "Replies that arrived after a reply to a later request."},
	[F_LATE] = {"tundra_late_replies_total", "counter",
		     "Replies that arrived after their request had been counted as a timeout."},
	[F_CORRUPTED] = {"tundra_corrupted_replies_total", "counter",
			 "Replies whose payload differs from the request's (counted as replies too)."},
	[F_ICMP_ERRORS] = {"tundra_icmp_errors_total", "counter",
			   "ICMP errors received about echo requests, by ICMP type and code."},
	[F_JITTER] = {"tundra_jitter_seconds", "gauge",
		      "RTT jitter: RFC 3550 interarrival estimator over successive round-trip times."},
};

static void header(struct td_expm_buf *b, const char *name, const char *type, const char *help)
{
	puts_(b, "# HELP ");
	puts_(b, name);
	put(b, " ", 1);
	puts_(b, help);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	put(b, " ", 1);
	puts_(b, type);
	put(b, "\n", 1);
}

/* name{labels} value\n with an integer value */
static void line_u64(struct td_expm_buf *b, const char *name, const struct td_expm_series *s,
		     uint64_t v)
{
	puts_(b, name);
	put(b, "{", 1);
	put(b, s->labels, s->labels_len);
	put(b, "} ", 2);
	put_u64(b, v);
	put(b, "\n", 1);
}

static void render_histogram(struct td_expm_buf *b, const struct td_expm_buckets *bk,
			     const struct td_expm_series *s)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= bk->n; i++) {
		cum += s->bucket[i];
		puts_(b, "smokeping_response_duration_seconds_bucket{");
		put(b, s->labels, s->labels_len);
		put(b, ",le=\"", 5);
		puts_(b, i < bk->n ? bk->le_str[i] : "+Inf");
		put(b, "\"} ", 3);
		put_u64(b, cum);
		put(b, "\n", 1);
	}
	puts_(b, "smokeping_response_duration_seconds_sum{");
	put(b, s->labels, s->labels_len);
	put(b, "} ", 2);
	put_ns_as_s(b, s->rtt_sum_ns);
	puts_(b, "\nsmokeping_response_duration_seconds_count{");
	put(b, s->labels, s->labels_len);
	put(b, "} ", 2);
	put_u64(b, s->replies);
	put(b, "\n", 1);
}

static void render_series(struct td_expm_buf *b, const struct td_expm_view *v, unsigned f,
			  const struct td_expm_series *s)
{
	switch (f) {
	case F_REQUESTS:
		line_u64(b, families[f].name, s, s->requests);
		break;
	case F_DURATION:
		render_histogram(b, v->buckets, s);
		break;
	case F_DUPLICATES:
		line_u64(b, families[f].name, s, s->duplicates);
		break;
	case F_TTL:
		line_u64(b, families[f].name, s, s->last_ttl < 0 ? 0 : (uint64_t)s->last_ttl);
		break;
	case F_SEND_ERRORS:
		line_u64(b, families[f].name, s, s->send_errors);
		break;
	case F_TIMEOUTS:
		line_u64(b, families[f].name, s, s->timeouts);
		break;
	case F_OUT_OF_ORDER:
		line_u64(b, families[f].name, s, s->out_of_order);
		break;
	case F_LATE:
		line_u64(b, families[f].name, s, s->late);
		break;
	case F_CORRUPTED:
		line_u64(b, families[f].name, s, s->corrupted);
		break;
	case F_ICMP_ERRORS:
		for (size_t i = 0; i < TD_EXPM_ICMP_SLOTS && s->icmp[i].count; i++) {
			puts_(b, "tundra_icmp_errors_total{");
			put(b, s->labels, s->labels_len);
			puts_(b, ",type=\"");
			put_u64(b, s->icmp[i].type);
			puts_(b, "\",code=\"");
			put_u64(b, s->icmp[i].code);
			put(b, "\"} ", 3);
			put_u64(b, s->icmp[i].count);
			put(b, "\n", 1);
		}
		if (s->icmp_other) {
			puts_(b, "tundra_icmp_errors_total{");
			put(b, s->labels, s->labels_len);
			puts_(b, ",type=\"other\",code=\"other\"} ");
			put_u64(b, s->icmp_other);
			put(b, "\n", 1);
		}
		break;
	case F_JITTER:
		puts_(b, families[f].name);
		put(b, "{", 1);
		put(b, s->labels, s->labels_len);
		put(b, "} ", 2);
		put_ns_as_s(b, (uint64_t)(s->jitter_ns + 0.5)); /* >= 0 */
		put(b, "\n", 1);
		break;
	default:
		break;
	}
}

static void gauge1(struct td_expm_buf *b, const char *name, const char *help, double v)
{
	header(b, name, "gauge", help);
	puts_(b, name);
	put(b, " ", 1);
	put_double(b, v);
	put(b, "\n", 1);
}

static void counter1(struct td_expm_buf *b, const char *name, const char *help, uint64_t v)
{
	header(b, name, "counter", help);
	puts_(b, name);
	put(b, " ", 1);
	put_u64(b, v);
	put(b, "\n", 1);
}

static void labelled(struct td_expm_buf *b, const char *name, const char *label,
		     const char *value, uint64_t v)
{
	puts_(b, name);
	put(b, "{", 1);
	puts_(b, label);
	puts_(b, "=\"");
	puts_(b, value);
	puts_(b, "\"} ");
	put_u64(b, v);
	put(b, "\n", 1);
}

/* The exporter's own HTTP server: what clients cost it and what it refused. */
static void render_http(struct td_expm_buf *b, const struct td_httpd_stats *s)
{
	counter1(b, "tundra_http_connections_accepted_total",
		 "HTTP connections taken into service.", s->accepted);
	header(b, "tundra_http_connections_refused_total", "counter",
	       "HTTP connections closed at accept, by reason (connection limits, no fds, no memory).");
	for (unsigned i = 0; i < TD_HTTPD_REFUSE_COUNT; i++)
		labelled(b, "tundra_http_connections_refused_total", "reason",
			 td_httpd_refuse_name((enum td_httpd_refuse)i), s->refused[i]);
	header(b, "tundra_http_connections_timed_out_total", "counter",
	       "HTTP connections closed by the timeout: idle keep-alive, request not whole in time, response not read.");
	for (unsigned i = 0; i < TD_HTTPD_TIMEOUT_COUNT; i++)
		labelled(b, "tundra_http_connections_timed_out_total", "phase",
			 td_httpd_timeout_name((enum td_httpd_timeout)i), s->timed_out[i]);
	header(b, "tundra_http_bad_requests_total", "counter",
	       "HTTP requests refused by the parser (answered 4xx/505, connection closed), by reason.");
	for (unsigned i = 1; i < TD_HTTP_ERR_COUNT; i++)
		labelled(b, "tundra_http_bad_requests_total", "reason",
			 td_http_err_name((enum td_http_err)i), s->bad_requests[i]);
	counter1(b, "tundra_http_requests_total", "HTTP requests answered by an endpoint.",
		 s->requests);
	counter1(b, "tundra_http_connections_aborted_total",
		 "HTTP connections the client closed or reset mid-request or mid-response.",
		 s->aborted);
	gauge1(b, "tundra_http_open_connections", "HTTP connections open now.", (double)s->open);
}

static void render_global(struct td_expm_buf *b, const struct td_expm_view *v)
{
	const struct td_expm_global *g = v->global;
	header(b, "tundra_resolve_failures_total", "counter",
	       "Failed resolutions of a configured host name (retried, never fatal).");
	for (size_t i = 0; i < v->n_names; i++) {
		puts_(b, "tundra_resolve_failures_total{");
		put(b, v->names[i].host_label, v->names[i].host_label_len);
		put(b, "} ", 2);
		put_u64(b, v->names[i].resolve_failures);
		put(b, "\n", 1);
	}
	header(b, "tundra_resolved_addresses", "gauge",
	       "Addresses of a configured host currently probed, each under its own ip label.");
	for (size_t i = 0; i < v->n_names; i++) {
		puts_(b, "tundra_resolved_addresses{");
		put(b, v->names[i].host_label, v->names[i].host_label_len);
		put(b, "} ", 2);
		put_u64(b, v->names[i].addresses);
		put(b, "\n", 1);
	}
	if (!g)
		return;
	header(b, "tundra_replies_dropped_total", "counter",
	       "Received packets not counted as replies, by reason (forged, foreign, malformed...).");
	for (size_t i = 0; i < g->n_drop; i++)
		labelled(b, "tundra_replies_dropped_total", "reason", g->drop_reason[i],
			 g->drop_count[i]);
	header(b, "tundra_socket_mode", "gauge",
	       "ICMP socket type in use per address family (dgram: unprivileged, raw: CAP_NET_RAW).");
	if (g->mode_v4) {
		puts_(b, "tundra_socket_mode{family=\"ipv4\",mode=\"");
		puts_(b, g->mode_v4);
		puts_(b, "\"} 1\n");
	}
	if (g->mode_v6) {
		puts_(b, "tundra_socket_mode{family=\"ipv6\",mode=\"");
		puts_(b, g->mode_v6);
		puts_(b, "\"} 1\n");
	}
	gauge1(b, "tundra_targets", "Series (host and address pairs) being probed.",
	       (double)g->n_targets);
	gauge1(b, "tundra_config_last_reload_successful",
	       "Whether the last configuration reload succeeded.", g->last_reload_ok ? 1 : 0);
	gauge1(b, "tundra_config_last_reload_success_timestamp_seconds",
	       "Time of the last successful configuration load, unix seconds.",
	       g->last_reload_success_time);
	if (g->http_valid)
		render_http(b, &g->http);
	header(b, "tundra_build_info", "gauge", "tundra version; always 1.");
	puts_(b, "tundra_build_info{version=\"" TD_VERSION "\"} 1\n");
	if (!g->proc.valid)
		return;
	header(b, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	puts_(b, "process_cpu_seconds_total ");
	put_double(b, g->proc.cpu_seconds);
	put(b, "\n", 1);
	gauge1(b, "process_open_fds", "Number of open file descriptors.", g->proc.open_fds);
	gauge1(b, "process_max_fds", "Maximum number of open file descriptors.", g->proc.max_fds);
	gauge1(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
	       g->proc.virtual_bytes);
	gauge1(b, "process_virtual_memory_max_bytes",
	       "Maximum amount of virtual memory available in bytes.", g->proc.virtual_max_bytes);
	gauge1(b, "process_resident_memory_bytes", "Resident memory size in bytes.",
	       g->proc.resident_bytes);
	gauge1(b, "process_start_time_seconds",
	       "Start time of the process since unix epoch in seconds.", g->proc.start_time);
}

void td_expm_render_some(const struct td_expm_view *v, struct td_expm_cursor *cur,
			 struct td_expm_buf *buf, size_t budget)
{
	size_t start = buf->len;

	while (!cur->done && buf->len - start < budget && !buf->oom) {
		if (cur->family >= F_END) {
			cur->done = true;
			break;
		}
		if (cur->family == F_GLOBAL) {
			render_global(buf, v);
			cur->family++;
			continue;
		}
		if (cur->index == 0)
			header(buf, families[cur->family].name, families[cur->family].type,
			       families[cur->family].help);
		if (cur->index < v->n_series) {
			render_series(buf, v, cur->family, &v->series[cur->index]);
			cur->index++;
		}
		if (cur->index >= v->n_series) {
			cur->family++;
			cur->index = 0;
		}
	}
}

/* Bytes the exposition will take, over-estimated a little, so the buffer is
 * allocated once instead of doubling through a dozen sizes (each a copy, and
 * heap that malloc may keep). */
static size_t estimate(const struct td_expm_view *v)
{
	size_t lines = v->buckets->n + 1 + 2 + (F_PER_SERIES_END - 1);
	size_t total = 65536 + v->n_names * 160;

	for (size_t i = 0; i < v->n_series; i++)
		total += lines * (v->series[i].labels_len + 72);
	return total;
}

void td_expm_render_all(const struct td_expm_view *v, struct td_expm_buf *buf)
{
	struct td_expm_cursor cur = {0};

	buf->len = 0;
	buf->oom = false;
	buf_reserve(buf, estimate(v));
	td_expm_render_some(v, &cur, buf, SIZE_MAX);
}
