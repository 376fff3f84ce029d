/* Prometheus text exposition (format 0.0.4) of tundra exporter's per-target statistics. */
#ifndef TUNDRA_CLI_EXPORTER_METRICS_H
#define TUNDRA_CLI_EXPORTER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/httpd.h"

/*
 * One *series* is one (host, ip, source, tos, config labels) combination: one
 * address of one configured host. Its counters are owned here, updated by the
 * exporter's event loop from the probe engine's events, and rendered by
 * td_expm_render_*() without allocation once the output buffer has grown to
 * its working size (the buffer is reused from one scrape to the next).
 *
 * Families and label sets are smokeping_prober's where a family exists there
 * (names, types, HELP, default buckets), tundra_* otherwise.
 */

#define TD_EXPM_MAX_BUCKETS 64
#define TD_EXPM_ICMP_SLOTS 6

/* Histogram upper bounds (seconds), ascending; +Inf is implicit. */
struct td_expm_buckets {
	size_t n;
	double le[TD_EXPM_MAX_BUCKETS];
	uint64_t le_ns[TD_EXPM_MAX_BUCKETS];  /* observation compares integer nanoseconds */
	char le_str[TD_EXPM_MAX_BUCKETS][48]; /* rendered once: "5e-05", "0.0001" */
};

struct td_expm_icmp_count {
	uint8_t type, code;
	uint64_t count;
};

struct td_expm_series {
	char *labels; /* rendered label pairs without braces: host="a",ip="1",... */
	size_t labels_len;
	uint64_t requests;     /* echo requests handed to the socket */
	uint64_t replies;      /* matched first replies (= histogram count) */
	uint64_t duplicates;   /* further replies to an already answered request */
	uint64_t timeouts;     /* requests with no reply within the timeout */
	uint64_t send_errors;  /* sendmsg failures */
	uint64_t out_of_order; /* replies whose sequence is older than one already seen */
	uint64_t late;         /* replies after their request had timed out */
	uint64_t corrupted;    /* replies whose payload differs from what was sent */
	uint64_t icmp_other;   /* ICMP errors beyond the slots below */
	struct td_expm_icmp_count icmp[TD_EXPM_ICMP_SLOTS];
	uint64_t rtt_sum_ns;
	double jitter_ns;  /* RFC 3550 section 6.4.1 estimator over successive RTTs */
	int64_t last_rtt_ns; /* < 0 before the first reply */
	int last_ttl;      /* -1 before the first reply */
	uint64_t bucket[TD_EXPM_MAX_BUCKETS + 1]; /* non-cumulative; [n] is +Inf */
};

/* Per configured name: resolution state. */
struct td_expm_name {
	char *host_label; /* rendered: host="a" */
	size_t host_label_len;
	uint64_t resolve_failures;
	unsigned addresses; /* addresses currently probed */
};

/* The usual process_* metrics (client libraries' names and meanings). */
struct td_expm_process {
	bool valid;
	double cpu_seconds;
	double resident_bytes;
	double virtual_bytes;
	double virtual_max_bytes; /* RLIMIT_AS; 2^64 when unlimited, as Go reports */
	double open_fds;
	double max_fds;
	double start_time; /* unix seconds */
};

/* Whole-process values rendered after the per-series families. */
struct td_expm_global {
	struct td_expm_process proc;
	const char *drop_reason[16];
	uint64_t drop_count[16];
	size_t n_drop;
	const char *mode_v4; /* "dgram", "raw" or NULL when the family is unused */
	const char *mode_v6;
	bool last_reload_ok;
	double last_reload_success_time; /* unix seconds */
	size_t n_targets;
	bool http_valid; /* the HTTP server's own counters below are filled in */
	struct td_httpd_stats http;
};

/* The data one scrape renders: the exporter keeps it alive (refcount) until the
 * response that started with it has been written. */
struct td_expm_view {
	const struct td_expm_buckets *buckets;
	struct td_expm_series *series;
	size_t n_series;
	struct td_expm_name *names;
	size_t n_names;
	const struct td_expm_global *global;
};

/* Growable output buffer, reused between scrapes. */
struct td_expm_buf {
	char *p;
	size_t len, cap;
	bool oom; /* an append failed; the output is incomplete */
};

/* Rendering position, so a large exposition is produced in bounded slices
 * between probe work instead of in one long stall. */
struct td_expm_cursor {
	unsigned family;
	size_t index;
	bool done;
};

/* Parse a comma-separated bucket list ("5e-05,0.0001,..."); -EINVAL when a
 * value is not a positive finite number, not ascending, or too many. */
int td_expm_buckets_parse(struct td_expm_buckets *b, const char *list);
/* smokeping_prober's defaults: 5e-05 doubling to 26.2144 (20 buckets). */
void td_expm_buckets_default(struct td_expm_buckets *b);

/* Build the label string of a series. extra_names/values: config labels in
 * label-name order (values may be ""). Returns 0 or -ENOMEM. */
int td_expm_series_init(struct td_expm_series *s, const char *host, const char *ip,
			const char *source, unsigned tos, const char *const *extra_names,
			const char *const *extra_values, size_t n_extra);
void td_expm_series_free(struct td_expm_series *s);
/* Copy the counters (not the labels) from a series that survives a reload. */
void td_expm_series_carry(struct td_expm_series *dst, const struct td_expm_series *src);

int td_expm_name_init(struct td_expm_name *n, const char *host);
void td_expm_name_free(struct td_expm_name *n);

/* Event updates (called from the probe loop). */
void td_expm_observe_reply(struct td_expm_series *s, const struct td_expm_buckets *b,
			   uint64_t rtt_ns, int ttl);
void td_expm_observe_icmp_error(struct td_expm_series *s, uint8_t type, uint8_t code);

/* Render from *cur until at least `budget` bytes were appended or the end was
 * reached (cur->done). Appends to buf (does not reset it). */
void td_expm_render_some(const struct td_expm_view *v, struct td_expm_cursor *cur,
			 struct td_expm_buf *buf, size_t budget);
/* Whole exposition at once into buf (buf->len reset to 0 first). */
void td_expm_render_all(const struct td_expm_view *v, struct td_expm_buf *buf);

void td_expm_buf_free(struct td_expm_buf *buf);

/* Append raw bytes / a string. */
void td_expm_append(struct td_expm_buf *buf, const char *s, size_t n);
void td_expm_append_str(struct td_expm_buf *buf, const char *s);

/* Append a label value escaped for the text format (\\, \", \n). */
void td_expm_append_escaped(struct td_expm_buf *buf, const char *s);

#endif
