/* HTTP/1.1 request-head parser (RFC 9112 §2-§6): a byte-at-a-time state machine that resumes where it stopped. */
#include "wire/http.h"

#include <string.h>

/*
 * One state per position in the grammar of RFC 9112 §2.1:
 *   HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
 * Every byte either advances the state or ends the parse with an error: no
 * state loops without consuming a byte, so a head of n bytes costs n steps.
 */
enum state {
	S_LEAD,      /* before the request line: empty lines are skipped (§2.2) */
	S_LEAD_LF,   /* CR of such an empty line seen */
	S_METHOD,
	S_TARGET,
	S_VERSION,
	S_RL_LF,     /* CR ending the request line seen */
	S_LINE,      /* start of a field line, or the CR of the empty line */
	S_NAME,
	S_OWS,       /* after the colon, before the value */
	S_VALUE,
	S_FIELD_LF,  /* CR ending a field line seen */
	S_END_LF,    /* CR of the empty line seen */
	S_DONE,
	S_FAILED,
};

void td_http_limits_default(struct td_http_limits *lim)
{
	lim->max_head = 32768;
	lim->max_line = 8192;
	lim->max_fields = 100;
	lim->max_body = 65536;
}

void td_http_parser_init(struct td_http_parser *p, const struct td_http_limits *lim)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	p->state = S_LEAD;
}

/* tchar (RFC 9110 §5.6.2) */
static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar (RFC 9110 §5.5): VCHAR or obs-text */
static bool is_vchar(uint8_t c)
{
	return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

/* Bytes of a request-target: RFC 3986 pchar plus '/' and '?' (unreserved,
 * sub-delims, ':', '@', '%'); '%' is checked for two hex digits afterwards. */
static bool is_target_char(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool ieq(const uint8_t *a, size_t n, const char *b)
{
	size_t i;
	for (i = 0; i < n && b[i]; i++)
		if (lower(a[i]) != (uint8_t)b[i])
			return false;
	return i == n && !b[i];
}

/* Length of an absolute-form scheme prefix ("http://", "https://"), or 0. */
static size_t scheme_len(const uint8_t *t, size_t n)
{
	if (n >= 7 && ieq(t, 7, "http://"))
		return 7;
	if (n >= 8 && ieq(t, 8, "https://"))
		return 8;
	return 0;
}

/* §3.2: origin-form, absolute-form, or asterisk-form for OPTIONS; every '%'
 * followed by two hex digits (RFC 3986 §2.1). */
static bool target_ok(const struct td_http_parser *p, const uint8_t *buf)
{
	const uint8_t *t = buf + p->target_off;
	size_t n = p->target_len, s;

	for (size_t i = 0; i < n; i++)
		if (t[i] == '%' && (i + 2 >= n || !is_hex(t[i + 1]) || !is_hex(t[i + 2])))
			return false;
	if (n == 1 && t[0] == '*')
		return p->method_len == 7 && !memcmp(buf + p->method_off, "OPTIONS", 7);
	if (t[0] == '/')
		return true;
	s = scheme_len(t, n);
	/* an authority must follow the scheme; it holds no '?' before the path */
	return s && s < n && t[s] != '/' && t[s] != '?';
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (§2.3). */
static enum td_http_err version_parse(struct td_http_parser *p, const uint8_t *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return TD_HTTP_ERR_REQUEST_LINE;
	if (v[5] != '1')
		return TD_HTTP_ERR_VERSION;
	p->minor = (uint8_t)(v[7] - '0');
	return TD_HTTP_OK;
}

/* Connection = #connection-option (RFC 9110 §7.6.1): a list of tokens. */
static void connection_parse(struct td_http_parser *p, const uint8_t *v, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t a, b;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		b = i;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (ieq(v + a, b - a, "close"))
			p->conn_close = true;
		else if (ieq(v + a, b - a, "keep-alive"))
			p->conn_keep_alive = true;
	}
}

/* Host = uri-host [ ":" port ] (RFC 9110 §7.2): reg-name, IP-literal or IPv4. */
static bool host_ok(const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-._~!$&'()*+,;=:[]%", c)))
			return false;
	}
	return true;
}

/* One complete field line: the fields that frame the message or decide the
 * connection's fate; the others are not needed by any endpoint. */
static enum td_http_err field(struct td_http_parser *p, const uint8_t *buf)
{
	const uint8_t *name = buf + p->name_off, *v = buf + p->value_off;
	size_t nl = p->name_len, vl = p->value_end - p->value_off;

	if (ieq(name, nl, "content-length")) {
		uint64_t cl = 0;
		/* §6.3 item 5: a repeated field or a list is invalid here, even
		 * when the values agree; a smuggler relies on servers that differ */
		if (p->has_content_length || vl == 0)
			return TD_HTTP_ERR_CONTENT_LENGTH;
		for (size_t i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9' || cl > (UINT64_MAX - 9) / 10)
				return TD_HTTP_ERR_CONTENT_LENGTH;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		p->content_length = cl;
		p->has_content_length = true;
	} else if (ieq(name, nl, "transfer-encoding")) {
		p->has_transfer_encoding = true;
	} else if (ieq(name, nl, "host")) {
		if (++p->hosts > 1 || !host_ok(v, vl))
			return TD_HTTP_ERR_HOST;
	} else if (ieq(name, nl, "connection")) {
		connection_parse(p, v, vl);
	} else if (ieq(name, nl, "expect")) {
		if (!ieq(v, vl, "100-continue"))
			return TD_HTTP_ERR_EXPECT;
		p->expect_continue = true;
	}
	return TD_HTTP_OK;
}

/* The head ended: the checks that need every field. */
static enum td_http_err head_end(const struct td_http_parser *p)
{
	if (p->minor >= 1 && p->hosts == 0)
		return TD_HTTP_ERR_HOST; /* §3.2: MUST respond 400 */
	if (p->has_transfer_encoding && p->has_content_length)
		return TD_HTTP_ERR_TE_AND_CL;
	if (p->has_transfer_encoding)
		return TD_HTTP_ERR_TRANSFER_ENCODING;
	if (p->content_length > p->lim.max_body)
		return TD_HTTP_ERR_BODY_TOO_LARGE;
	return TD_HTTP_OK;
}

static enum td_http_result fail(struct td_http_parser *p, enum td_http_err err)
{
	p->err = err;
	p->state = S_FAILED;
	return TD_HTTP_ERROR;
}

enum td_http_result td_http_parse(struct td_http_parser *p, const uint8_t *buf, size_t len)
{
	enum td_http_err e;

	if (p->state == S_DONE)
		return TD_HTTP_HEAD_DONE;
	if (p->state == S_FAILED)
		return TD_HTTP_ERROR;
	for (; p->off < len; p->off++) {
		uint8_t c = buf[p->off];
		size_t i = p->off;

		if (p->state >= S_METHOD && p->state <= S_RL_LF && i - p->method_off >= p->lim.max_line)
			return fail(p, TD_HTTP_ERR_URI_TOO_LONG);
		if (i >= p->lim.max_head)
			return fail(p, TD_HTTP_ERR_HEAD_TOO_LARGE);
		switch (p->state) {
		case S_LEAD:
			if (c == '\r') {
				p->state = S_LEAD_LF;
			} else if (is_tchar(c)) {
				p->method_off = i;
				p->state = S_METHOD;
			} else {
				return fail(p, c < 0x20 ? TD_HTTP_ERR_CONTROL : TD_HTTP_ERR_REQUEST_LINE);
			}
			break;
		case S_LEAD_LF:
			if (c != '\n')
				return fail(p, TD_HTTP_ERR_CONTROL);
			p->state = S_LEAD;
			break;
		case S_METHOD:
			if (c == ' ') {
				p->method_len = i - p->method_off;
				p->target_off = i + 1;
				p->state = S_TARGET;
			} else if (!is_tchar(c)) {
				/* a CR here: a line without target and version */
				return fail(p, c < 0x20 && c != '\r' ? TD_HTTP_ERR_CONTROL
								      : TD_HTTP_ERR_REQUEST_LINE);
			}
			break;
		case S_TARGET:
			if (c == ' ') {
				/* its form is judged after the version: another
				 * major version is 505 whatever its target (the
				 * HTTP/2 preface "PRI * HTTP/2.0" included) */
				p->target_len = i - p->target_off;
				p->line_start = i + 1; /* the version's first byte */
				p->state = S_VERSION;
			} else if (c == '\r') {
				return fail(p, TD_HTTP_ERR_REQUEST_LINE); /* no version */
			} else if (!is_target_char(c)) {
				return fail(p, c < 0x20 ? TD_HTTP_ERR_CONTROL : TD_HTTP_ERR_TARGET);
			}
			break;
		case S_VERSION:
			if (c == '\r') {
				e = version_parse(p, buf + p->line_start, i - p->line_start);
				if (e)
					return fail(p, e);
				if (!p->target_len || !target_ok(p, buf))
					return fail(p, TD_HTTP_ERR_TARGET);
				p->state = S_RL_LF;
			} else if (c < 0x21 || c > 0x7e || i - p->line_start >= 8) {
				return fail(p, c < 0x20 ? TD_HTTP_ERR_CONTROL : TD_HTTP_ERR_REQUEST_LINE);
			}
			break;
		case S_RL_LF:
			if (c != '\n')
				return fail(p, TD_HTTP_ERR_CONTROL);
			p->state = S_LINE;
			break;
		case S_LINE:
			if (c == '\r') {
				p->state = S_END_LF;
			} else if (c == ' ' || c == '\t') {
				/* §5.2 obs-fold; right after the request line §2.2 says
				 * the same: reject */
				return fail(p, TD_HTTP_ERR_OBS_FOLD);
			} else if (is_tchar(c)) {
				if (++p->fields > p->lim.max_fields)
					return fail(p, TD_HTTP_ERR_HEAD_TOO_LARGE);
				p->name_off = i;
				p->state = S_NAME;
			} else {
				return fail(p, c < 0x20 ? TD_HTTP_ERR_CONTROL : TD_HTTP_ERR_HEADER);
			}
			break;
		case S_NAME:
			if (c == ':') {
				p->name_len = i - p->name_off;
				p->value_off = p->value_end = i + 1;
				p->state = S_OWS;
			} else if (!is_tchar(c)) {
				/* includes whitespace before the colon (§5.1: MUST reject) */
				return fail(p, c < 0x20 && c != '\t' ? TD_HTTP_ERR_CONTROL
								   : TD_HTTP_ERR_HEADER);
			}
			break;
		case S_OWS:
		case S_VALUE:
			if (c == ' ' || c == '\t') {
				if (p->state == S_OWS)
					p->value_off = p->value_end = i + 1;
			} else if (c == '\r') {
				p->state = S_FIELD_LF;
			} else if (is_vchar(c)) {
				p->value_end = i + 1; /* trailing OWS is left out */
				p->state = S_VALUE;
			} else {
				return fail(p, TD_HTTP_ERR_CONTROL);
			}
			break;
		case S_FIELD_LF:
			if (c != '\n')
				return fail(p, TD_HTTP_ERR_CONTROL);
			e = field(p, buf);
			if (e)
				return fail(p, e);
			p->state = S_LINE;
			break;
		case S_END_LF:
			if (c != '\n')
				return fail(p, TD_HTTP_ERR_CONTROL);
			e = head_end(p);
			if (e)
				return fail(p, e);
			p->head_len = i + 1;
			p->off = i + 1;
			p->state = S_DONE;
			return TD_HTTP_HEAD_DONE;
		default:
			return fail(p, TD_HTTP_ERR_REQUEST_LINE);
		}
	}
	return TD_HTTP_MORE;
}

void td_http_request(const struct td_http_parser *p, const uint8_t *buf,
		     struct td_http_request *req)
{
	const char *t = (const char *)buf + p->target_off;
	size_t n = p->target_len, s = scheme_len(buf + p->target_off, n);
	const char *q;

	memset(req, 0, sizeof(*req));
	req->method = (const char *)buf + p->method_off;
	req->method_len = p->method_len;
	if (s) {
		/* absolute-form: skip the authority; no path means "/" (§3.2.2) */
		size_t i = s;
		while (i < n && t[i] != '/' && t[i] != '?')
			i++;
		t += i;
		n -= i;
	}
	q = memchr(t, '?', n);
	if (q) {
		req->query = q + 1;
		req->query_len = n - (size_t)(q - t) - 1;
		n = (size_t)(q - t);
	}
	req->path = n ? t : "/";
	req->path_len = n ? n : 1;
	req->minor = p->minor ? 1 : 0;
	req->keep_alive = p->minor ? !p->conn_close : p->conn_keep_alive && !p->conn_close;
	req->expect_continue = p->expect_continue;
	req->content_length = p->content_length;
}

unsigned td_http_err_status(enum td_http_err err)
{
	switch (err) {
	case TD_HTTP_OK: return 200;
	case TD_HTTP_ERR_TRANSFER_ENCODING: return 411;
	case TD_HTTP_ERR_BODY_TOO_LARGE: return 413;
	case TD_HTTP_ERR_URI_TOO_LONG: return 414;
	case TD_HTTP_ERR_EXPECT: return 417;
	case TD_HTTP_ERR_HEAD_TOO_LARGE: return 431;
	case TD_HTTP_ERR_VERSION: return 505;
	case TD_HTTP_ERR_REQUEST_LINE:
	case TD_HTTP_ERR_TARGET:
	case TD_HTTP_ERR_CONTROL:
	case TD_HTTP_ERR_HEADER:
	case TD_HTTP_ERR_OBS_FOLD:
	case TD_HTTP_ERR_HOST:
	case TD_HTTP_ERR_CONTENT_LENGTH:
	case TD_HTTP_ERR_TE_AND_CL:
	case TD_HTTP_ERR_COUNT:
		break;
	}
	return 400;
}

const char *td_http_err_name(enum td_http_err err)
{
	switch (err) {
	case TD_HTTP_OK: return "ok";
	case TD_HTTP_ERR_REQUEST_LINE: return "bad_request_line";
	case TD_HTTP_ERR_TARGET: return "bad_target";
	case TD_HTTP_ERR_CONTROL: return "control_byte";
	case TD_HTTP_ERR_HEADER: return "bad_header";
	case TD_HTTP_ERR_OBS_FOLD: return "obs_fold";
	case TD_HTTP_ERR_HOST: return "bad_host";
	case TD_HTTP_ERR_CONTENT_LENGTH: return "bad_content_length";
	case TD_HTTP_ERR_TE_AND_CL: return "transfer_encoding_with_content_length";
	case TD_HTTP_ERR_TRANSFER_ENCODING: return "transfer_encoding";
	case TD_HTTP_ERR_EXPECT: return "bad_expect";
	case TD_HTTP_ERR_VERSION: return "version_not_supported";
	case TD_HTTP_ERR_URI_TOO_LONG: return "uri_too_long";
	case TD_HTTP_ERR_HEAD_TOO_LARGE: return "header_too_large";
	case TD_HTTP_ERR_BODY_TOO_LARGE: return "body_too_large";
	case TD_HTTP_ERR_COUNT: break;
	}
	return "unknown";
}

const char *td_http_reason(unsigned status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}
