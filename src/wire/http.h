/* HTTP/1.1 request-head parser (RFC 9112): pure, incremental, bounded; no allocation, no I/O. */
#ifndef TUNDRA_WIRE_HTTP_H
#define TUNDRA_WIRE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Theory of operation.
 *
 * The caller keeps the bytes of the current request, from its first byte, in
 * one buffer and calls td_http_parse() with the whole buffer each time more
 * bytes arrived. The parser remembers how far it got (p->off) and resumes
 * there, so the head is scanned once whatever the chunking. When it returns
 * TD_HTTP_HEAD_DONE, p->head_len is the size of the head (request line,
 * header fields and the empty line) and td_http_request() describes the
 * request with pointers into that same buffer. The body, if any, is
 * p->content_length bytes after the head; this parser never reads it.
 *
 * Strictness, by choice and where RFC 9112 allows a choice:
 *   - lines end in CRLF only: a bare LF or a bare CR is a bad request (§2.2);
 *   - empty lines before the request line are skipped (§2.2, a SHOULD);
 *   - one SP between the three request-line parts (§3), token method,
 *     origin-form / absolute-form (http, https) / "*" for OPTIONS (§3.2),
 *     target bytes limited to RFC 3986's set with valid %XX escapes;
 *   - HTTP/1.x only; another major version is 505 (§2.3);
 *   - no whitespace between field name and colon (§5.1), obs-fold rejected
 *     (§5.2), no control byte in a field value (RFC 9110 §5.5);
 *   - HTTP/1.1 needs exactly one Host, no request may carry two (§3.2);
 *   - Content-Length is one field of digits only: a second one, a list
 *     ("5, 5") or an overflow is a bad request (§6.3 item 5, the strict side);
 *   - any Transfer-Encoding on a request is refused with 411 Length Required:
 *     the exporter takes no request body, so it does not decode chunked
 *     bodies; with a Content-Length as well it is 400 (§6.1: smuggling);
 *   - "Expect: 100-continue" is reported to the caller; any other
 *     expectation is 417 (RFC 9110 §10.1.1).
 * Every refusal is one value of enum td_http_err with its response status;
 * callers count them by that value.
 */

enum td_http_err {
	TD_HTTP_OK = 0,
	TD_HTTP_ERR_REQUEST_LINE,    /* malformed request line, method or version syntax */
	TD_HTTP_ERR_TARGET,          /* request-target not origin/absolute/asterisk form, bad byte */
	TD_HTTP_ERR_CONTROL,         /* a control byte out of place: bare LF, bare CR, NUL... */
	TD_HTTP_ERR_HEADER,          /* malformed field line (name, colon, value) */
	TD_HTTP_ERR_OBS_FOLD,        /* a field line starting with SP or HTAB */
	TD_HTTP_ERR_HOST,            /* HTTP/1.1 without Host, two Host fields, bad Host value */
	TD_HTTP_ERR_CONTENT_LENGTH,  /* duplicate, list, non-digit or overflowing Content-Length */
	TD_HTTP_ERR_TE_AND_CL,       /* Transfer-Encoding and Content-Length together */
	TD_HTTP_ERR_TRANSFER_ENCODING, /* a request body with a transfer coding: 411 */
	TD_HTTP_ERR_EXPECT,          /* an expectation other than 100-continue: 417 */
	TD_HTTP_ERR_VERSION,         /* HTTP/2.0 and beyond in an HTTP/1 request line: 505 */
	TD_HTTP_ERR_URI_TOO_LONG,    /* request line longer than max_line: 414 */
	TD_HTTP_ERR_HEAD_TOO_LARGE,  /* head longer than max_head or too many fields: 431 */
	TD_HTTP_ERR_BODY_TOO_LARGE,  /* Content-Length above max_body: 413 */
	TD_HTTP_ERR_COUNT
};

enum td_http_result {
	TD_HTTP_MORE = 0,  /* the head is incomplete: call again with more bytes */
	TD_HTTP_HEAD_DONE, /* the head is complete: p->head_len, td_http_request() */
	TD_HTTP_ERROR,     /* p->err says why; the connection cannot be reused */
};

struct td_http_limits {
	size_t max_head;   /* request line + fields + empty line, bytes (32768) */
	size_t max_line;   /* request line alone, bytes (8192) */
	unsigned max_fields; /* field lines (100) */
	uint64_t max_body; /* largest Content-Length accepted (65536) */
};

/* Parser state: the caller owns it; td_http_parser_init() before each request. */
struct td_http_parser {
	struct td_http_limits lim;
	size_t off;      /* bytes of the buffer already scanned */
	unsigned state;  /* internal */
	/* offsets into the caller's buffer */
	size_t line_start, method_off, method_len, target_off, target_len;
	size_t name_off, name_len, value_off, value_end;
	unsigned fields;
	/* results */
	enum td_http_err err;
	size_t head_len;
	uint64_t content_length;
	uint8_t minor; /* HTTP/1.minor */
	bool has_content_length, has_transfer_encoding, conn_close, conn_keep_alive;
	bool expect_continue;
	unsigned hosts;
};

/* The request a complete head describes; pointers into the caller's buffer. */
struct td_http_request {
	const char *method;
	size_t method_len;
	const char *path; /* the target up to '?', absolute-form reduced to its path; "*" */
	size_t path_len;
	const char *query; /* after '?', without it; NULL when there was none */
	size_t query_len;
	uint8_t minor;      /* 0: HTTP/1.0, 1: HTTP/1.1 (and any 1.x above) */
	bool keep_alive;    /* RFC 9112 §9.3: 1.1 unless "close", 1.0 only with "keep-alive" */
	bool expect_continue;
	uint64_t content_length; /* body bytes following the head (0 without the field) */
};

/* Defaults: 32 KiB head, 8 KiB request line, 100 fields, 64 KiB body. */
void td_http_limits_default(struct td_http_limits *lim);

/* Reset p for a new request under lim (copied). */
void td_http_parser_init(struct td_http_parser *p, const struct td_http_limits *lim);

/* Scan buf[p->off .. len) (buf holds the request from its first byte). On
 * TD_HTTP_ERROR p->err says why; calling again after an error or a finished
 * head returns the same result. */
enum td_http_result td_http_parse(struct td_http_parser *p, const uint8_t *buf, size_t len);

/* After TD_HTTP_HEAD_DONE: describe the request (pointers into buf). */
void td_http_request(const struct td_http_parser *p, const uint8_t *buf,
		     struct td_http_request *req);

/* The response status for a refusal (400, 411, 413, 414, 417, 431, 505). */
unsigned td_http_err_status(enum td_http_err err);
/* Short stable name of an error ("bad_request_line", ...), usable as a metric label. */
const char *td_http_err_name(enum td_http_err err);
/* Reason phrase of a status code (RFC 9110 §15), "" when unknown. */
const char *td_http_reason(unsigned status);

#endif
