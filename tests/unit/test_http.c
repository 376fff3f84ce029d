/* Unit tests: the HTTP/1.1 request-head parser (src/wire/http.c), strict RFC 9112 framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wire/http.h"

static struct td_http_limits lim;
static struct td_http_parser P;

/* Parse s in one call; the result, and the request when the head is done. */
static enum td_http_result parse(const char *s, struct td_http_request *req)
{
	enum td_http_result r;
	td_http_parser_init(&P, &lim);
	r = td_http_parse(&P, (const uint8_t *)s, strlen(s));
	if (r == TD_HTTP_HEAD_DONE && req)
		td_http_request(&P, (const uint8_t *)s, req);
	return r;
}

/* The refusal of s, TD_HTTP_OK when it parsed. */
static enum td_http_err refusal(const char *s)
{
	enum td_http_result r = parse(s, NULL);
	if (r == TD_HTTP_HEAD_DONE)
		return TD_HTTP_OK;
	if (r == TD_HTTP_MORE)
		fail_msg("incomplete: %s", s);
	return P.err;
}

static bool eq(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && !memcmp(p, lit, n);
}

static int setup(void **state)
{
	(void)state;
	td_http_limits_default(&lim);
	return 0;
}

static void get_request_parses_method_path_version(void **state)
{
	(void)state;
	struct td_http_request q;
	const char *s = "GET /metrics HTTP/1.1\r\nHost: localhost:9374\r\nAccept: */*\r\n\r\n";

	assert_int_equal(parse(s, &q), TD_HTTP_HEAD_DONE);
	assert_int_equal(P.head_len, strlen(s));
	assert_true(eq(q.method, q.method_len, "GET"));
	assert_true(eq(q.path, q.path_len, "/metrics"));
	assert_null(q.query);
	assert_int_equal(q.minor, 1);
	assert_true(q.keep_alive);
	assert_int_equal(q.content_length, 0);
}

static void query_string_is_not_part_of_the_path(void **state)
{
	(void)state;
	struct td_http_request q;

	assert_int_equal(parse("GET /metrics?x=1&y=%20 HTTP/1.1\r\nHost: a\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_true(eq(q.path, q.path_len, "/metrics"));
	assert_true(eq(q.query, q.query_len, "x=1&y=%20"));
	assert_int_equal(parse("GET /?  HTTP/1.1\r\nHost: a\r\n\r\n", NULL), TD_HTTP_ERROR);
	assert_int_equal(parse("GET /? HTTP/1.1\r\nHost: a\r\n\r\n", &q), TD_HTTP_HEAD_DONE);
	assert_true(eq(q.path, q.path_len, "/"));
	assert_int_equal(q.query_len, 0);
}

static void absolute_form_target_is_reduced_to_its_path(void **state)
{
	(void)state;
	struct td_http_request q;

	assert_int_equal(parse("GET http://h:9374/metrics?a HTTP/1.1\r\nHost: h:9374\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_true(eq(q.path, q.path_len, "/metrics"));
	assert_true(eq(q.query, q.query_len, "a"));
	assert_int_equal(parse("GET HTTPS://h HTTP/1.1\r\nHost: h\r\n\r\n", &q), TD_HTTP_HEAD_DONE);
	assert_true(eq(q.path, q.path_len, "/"));
	assert_int_equal(refusal("GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"), TD_HTTP_ERR_TARGET);
}

static void head_split_anywhere_parses_like_one_piece(void **state)
{
	(void)state;
	const char *s = "\r\nPOST /-/reload?q HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
			"Connection: close\r\n\r\nabc";
	size_t n = strlen(s);
	struct td_http_request one, q;

	assert_int_equal(parse(s, &one), TD_HTTP_HEAD_DONE);
	size_t head = P.head_len;
	assert_int_equal(head, n - 3);
	/* every byte its own call: the parser resumes where it stopped */
	td_http_parser_init(&P, &lim);
	for (size_t i = 1; i <= n; i++) {
		enum td_http_result r = td_http_parse(&P, (const uint8_t *)s, i);
		if (i < head)
			assert_int_equal(r, TD_HTTP_MORE);
		else
			assert_int_equal(r, TD_HTTP_HEAD_DONE);
	}
	assert_int_equal(P.head_len, head);
	td_http_request(&P, (const uint8_t *)s, &q);
	assert_true(eq(q.method, q.method_len, "POST"));
	assert_true(eq(q.path, q.path_len, "/-/reload"));
	assert_int_equal(q.content_length, 3);
	assert_false(q.keep_alive);
	assert_int_equal(q.path - s, one.path - s);
}

static void empty_lines_before_the_request_line_are_skipped(void **state)
{
	(void)state;
	struct td_http_request q;
	assert_int_equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &q), TD_HTTP_HEAD_DONE);
	assert_true(eq(q.path, q.path_len, "/"));
}

static void bare_lf_and_bare_cr_are_bad_requests(void **state)
{
	(void)state;
	assert_int_equal(refusal("GET / HTTP/1.1\nHost: a\r\n\r\n"), TD_HTTP_ERR_CONTROL);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\n\r\n"), TD_HTTP_ERR_CONTROL);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\n\n"), TD_HTTP_ERR_CONTROL);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), TD_HTTP_ERR_CONTROL);
	assert_int_equal(refusal("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_CONTROL);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_CONTROL), 400);
}

static void control_bytes_in_a_field_value_are_refused(void **state)
{
	(void)state;
	static const char s[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
	td_http_parser_init(&P, &lim);
	assert_int_equal(td_http_parse(&P, (const uint8_t *)s, sizeof(s) - 1), TD_HTTP_ERROR);
	assert_int_equal(P.err, TD_HTTP_ERR_CONTROL);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n"),
			 TD_HTTP_ERR_CONTROL);
	/* obs-text and HTAB inside a value are allowed (RFC 9110 §5.5) */
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\xe9\r\n\r\n"), TD_HTTP_OK);
}

static void obs_fold_is_rejected(void **state)
{
	(void)state;
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"),
			 TD_HTTP_ERR_OBS_FOLD);
	assert_int_equal(refusal("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n"), TD_HTTP_ERR_OBS_FOLD);
}

static void malformed_field_lines_are_rejected(void **state)
{
	(void)state;
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), TD_HTTP_ERR_HEADER);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
			 TD_HTTP_ERR_CONTROL);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\n:x\r\n\r\n"), TD_HTTP_ERR_HEADER);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), TD_HTTP_ERR_HEADER);
}

static void malformed_request_lines_are_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\n\r\n",   "GET / HTTP/1.1 \r\n\r\n", "GET /\r\n\r\n",
		"GET / http/1.1\r\n\r\n",    "GET / HTTP/1.10\r\n\r\n", "GET / HTTP/11\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",    " GET / HTTP/1.1\r\n\r\n", "GET / HTTP/x.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum td_http_err e = refusal(bad[i]);
		if (e != TD_HTTP_ERR_REQUEST_LINE && e != TD_HTTP_ERR_TARGET)
			fail_msg("'%s': %s", bad[i], td_http_err_name(e));
	}
}

static void bad_targets_are_rejected(void **state)
{
	(void)state;
	assert_int_equal(refusal("GET metrics HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_ERR_TARGET);
	assert_int_equal(refusal("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_OK);
	assert_int_equal(refusal("GET /a%2F~b HTTP/1.1\r\nHost: a\r\n\r\n"), TD_HTTP_OK);
}

static void http2_request_line_is_505(void **state)
{
	(void)state;
	assert_int_equal(refusal("GET / HTTP/2.0\r\n\r\n"), TD_HTTP_ERR_VERSION);
	/* the HTTP/2 connection preface: its "*" target is not judged first */
	assert_int_equal(refusal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), TD_HTTP_ERR_VERSION);
	assert_int_equal(refusal("GET metrics HTTP/3.0\r\n\r\n"), TD_HTTP_ERR_VERSION);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_VERSION), 505);
	/* HTTP/1.2 is answered as 1.1 (RFC 9110 §6.2) */
	assert_int_equal(refusal("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), TD_HTTP_OK);
}

static void http11_needs_exactly_one_host(void **state)
{
	(void)state;
	assert_int_equal(refusal("GET / HTTP/1.1\r\n\r\n"), TD_HTTP_ERR_HOST);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), TD_HTTP_ERR_HOST);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), TD_HTTP_ERR_HOST);
	assert_int_equal(refusal("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), TD_HTTP_OK);
	assert_int_equal(refusal("GET / HTTP/1.0\r\n\r\n"), TD_HTTP_OK);
}

static void content_length_must_be_one_number(void **state)
{
	(void)state;
	struct td_http_request q;
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  12 \r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_int_equal(q.content_length, 12);
	static const char *const bad[] = {
		"Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5, 5\r\n",
		"Content-Length: -1\r\n", "Content-Length: 0x10\r\n", "Content-Length:\r\n",
		"Content-Length: 99999999999999999999999\r\n", "content-length: +1\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: a\r\n%s\r\n", bad[i]);
		if (refusal(req) != TD_HTTP_ERR_CONTENT_LENGTH)
			fail_msg("'%s': %s", bad[i], td_http_err_name(refusal(req)));
	}
}

static void transfer_encoding_is_411_and_with_content_length_400(void **state)
{
	(void)state;
	assert_int_equal(refusal("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
			 TD_HTTP_ERR_TRANSFER_ENCODING);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_TRANSFER_ENCODING), 411);
	assert_int_equal(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
				 "Transfer-Encoding: chunked\r\n\r\n"),
			 TD_HTTP_ERR_TE_AND_CL);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_TE_AND_CL), 400);
}

static void body_over_the_bound_is_413(void **state)
{
	(void)state;
	char req[128];
	snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %llu\r\n\r\n",
		 (unsigned long long)lim.max_body + 1);
	assert_int_equal(refusal(req), TD_HTTP_ERR_BODY_TOO_LARGE);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_BODY_TOO_LARGE), 413);
	snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: %llu\r\n\r\n",
		 (unsigned long long)lim.max_body);
	assert_int_equal(refusal(req), TD_HTTP_OK);
}

static void long_request_line_is_414_and_large_head_431(void **state)
{
	(void)state;
	static char big[40000];
	size_t n;

	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', lim.max_line);
	snprintf(big + n + lim.max_line, sizeof(big) - n - lim.max_line, " HTTP/1.1\r\n\r\n");
	assert_int_equal(refusal(big), TD_HTTP_ERR_URI_TOO_LONG);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_URI_TOO_LONG), 414);

	/* 40 fields of 1 000 bytes: over 32 KiB */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 38; i++) {
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-%d: ", i);
		memset(big + n, 'v', 990);
		n += 990;
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	}
	snprintf(big + n, sizeof(big) - n, "\r\n");
	assert_int_equal(refusal(big), TD_HTTP_ERR_HEAD_TOO_LARGE);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_HEAD_TOO_LARGE), 431);
	/* the refusal comes as soon as the limit is crossed, not at the end */
	td_http_parser_init(&P, &lim);
	assert_int_equal(td_http_parse(&P, (const uint8_t *)big, lim.max_head), TD_HTTP_MORE);
	assert_int_equal(td_http_parse(&P, (const uint8_t *)big, lim.max_head + 1), TD_HTTP_ERROR);
}

static void too_many_fields_is_431(void **state)
{
	(void)state;
	static char req[4096];
	size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (unsigned i = 0; i < lim.max_fields; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "X:%u\r\n", i % 10);
	snprintf(req + n, sizeof(req) - n, "\r\n");
	assert_int_equal(refusal(req), TD_HTTP_ERR_HEAD_TOO_LARGE);
}

static void connection_field_decides_keep_alive(void **state)
{
	(void)state;
	struct td_http_request q;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_false(q.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &q), TD_HTTP_HEAD_DONE);
	assert_false(q.keep_alive);
	assert_int_equal(q.minor, 0);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Upgrade, keep-alive\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_true(q.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
			       "Connection: x, close\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_false(q.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_true(q.keep_alive);
}

static void expect_100_continue_is_reported_others_417(void **state)
{
	(void)state;
	struct td_http_request q;
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
			       "Expect: 100-Continue\r\n\r\n", &q),
			 TD_HTTP_HEAD_DONE);
	assert_true(q.expect_continue);
	assert_int_equal(refusal("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"),
			 TD_HTTP_ERR_EXPECT);
	assert_int_equal(td_http_err_status(TD_HTTP_ERR_EXPECT), 417);
}

static void parser_stays_done_or_failed(void **state)
{
	(void)state;
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE";
	assert_int_equal(parse(s, NULL), TD_HTTP_HEAD_DONE);
	assert_int_equal(td_http_parse(&P, (const uint8_t *)s, strlen(s)), TD_HTTP_HEAD_DONE);
	assert_int_equal(P.head_len, strlen(s) - 7);
	s = "GET / HTTP/1.1\nHost: a\r\n\r\n";
	assert_int_equal(parse(s, NULL), TD_HTTP_ERROR);
	assert_int_equal(td_http_parse(&P, (const uint8_t *)s, strlen(s)), TD_HTTP_ERROR);
}

static void every_error_has_a_distinct_name_and_a_client_error_status(void **state)
{
	(void)state;
	for (int i = 1; i < TD_HTTP_ERR_COUNT; i++) {
		unsigned st = td_http_err_status((enum td_http_err)i);
		assert_true(st >= 400 && st <= 505);
		assert_true(td_http_reason(st)[0] != 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(td_http_err_name((enum td_http_err)i),
						td_http_err_name((enum td_http_err)j));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(get_request_parses_method_path_version, setup),
		cmocka_unit_test_setup(query_string_is_not_part_of_the_path, setup),
		cmocka_unit_test_setup(absolute_form_target_is_reduced_to_its_path, setup),
		cmocka_unit_test_setup(head_split_anywhere_parses_like_one_piece, setup),
		cmocka_unit_test_setup(empty_lines_before_the_request_line_are_skipped, setup),
		cmocka_unit_test_setup(bare_lf_and_bare_cr_are_bad_requests, setup),
		cmocka_unit_test_setup(control_bytes_in_a_field_value_are_refused, setup),
		cmocka_unit_test_setup(obs_fold_is_rejected, setup),
		cmocka_unit_test_setup(malformed_field_lines_are_rejected, setup),
		cmocka_unit_test_setup(malformed_request_lines_are_rejected, setup),
		cmocka_unit_test_setup(bad_targets_are_rejected, setup),
		cmocka_unit_test_setup(http2_request_line_is_505, setup),
		cmocka_unit_test_setup(http11_needs_exactly_one_host, setup),
		cmocka_unit_test_setup(content_length_must_be_one_number, setup),
		cmocka_unit_test_setup(transfer_encoding_is_411_and_with_content_length_400, setup),
		cmocka_unit_test_setup(body_over_the_bound_is_413, setup),
		cmocka_unit_test_setup(long_request_line_is_414_and_large_head_431, setup),
		cmocka_unit_test_setup(too_many_fields_is_431, setup),
		cmocka_unit_test_setup(connection_field_decides_keep_alive, setup),
		cmocka_unit_test_setup(expect_100_continue_is_reported_others_417, setup),
		cmocka_unit_test_setup(parser_stays_done_or_failed, setup),
		cmocka_unit_test_setup(every_error_has_a_distinct_name_and_a_client_error_status, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
