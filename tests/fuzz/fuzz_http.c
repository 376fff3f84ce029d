/* libFuzzer target: the HTTP/1.1 request-head parser; fed in pieces it must agree with one call, and stay in bounds. */
#include "fuzz_common.h"

#include "wire/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const struct td_http_parser *p, const struct td_http_request *q,
			  const uint8_t *buf, size_t len)
{
	const char *b = (const char *)buf;
	FUZZ_ASSERT(p->head_len <= len && p->head_len <= p->lim.max_head);
	FUZZ_ASSERT(q->method >= b && q->method + q->method_len <= b + p->head_len);
	FUZZ_ASSERT(q->method_len > 0);
	/* the path is inside the head, or the "/" of an absolute-form without one */
	FUZZ_ASSERT((q->path >= b && q->path + q->path_len <= b + p->head_len) ||
		    (q->path_len == 1 && q->path[0] == '/'));
	FUZZ_ASSERT(q->path_len > 0 && (q->path[0] == '/' || q->path[0] == '*'));
	FUZZ_ASSERT(!q->query || (q->query >= b && q->query + q->query_len <= b + p->head_len));
	FUZZ_ASSERT(q->content_length <= p->lim.max_body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_http_limits lim;
	struct td_http_parser one, cut;
	enum td_http_result r1, r2 = TD_HTTP_MORE;
	size_t off = 0, step;

	if (size < 2)
		return 0;
	/* the first byte picks small limits half of the time, so every limit is reachable */
	td_http_limits_default(&lim);
	if (data[0] & 1) {
		lim.max_head = 16 + (size_t)(data[0] >> 1) * 4;
		lim.max_line = 8 + (size_t)(data[0] >> 2) * 2;
		lim.max_fields = data[0] >> 4;
		lim.max_body = data[0];
	}
	step = 1 + data[1] % 13;
	data += 2;
	size -= 2;

	/* pipelined requests one after the other, as the server walks them */
	for (int n = 0; n < 64 && off < size; n++) {
		const uint8_t *buf = data + off;
		size_t len = size - off;
		struct td_http_request q1, q2;

		td_http_parser_init(&one, &lim);
		r1 = td_http_parse(&one, buf, len);

		td_http_parser_init(&cut, &lim);
		for (size_t end = step < len ? step : len;; end = end + step < len ? end + step : len) {
			r2 = td_http_parse(&cut, buf, end);
			if (r2 != TD_HTTP_MORE || end == len)
				break;
		}
		FUZZ_ASSERT(r1 == r2);
		if (r1 == TD_HTTP_ERROR) {
			unsigned st = td_http_err_status(one.err);
			FUZZ_ASSERT(one.err == cut.err && one.err > TD_HTTP_OK && one.err < TD_HTTP_ERR_COUNT);
			FUZZ_ASSERT(st >= 400 && st <= 505 && td_http_reason(st)[0]);
			/* still failed on a second call */
			FUZZ_ASSERT(td_http_parse(&one, buf, len) == TD_HTTP_ERROR);
			return 0;
		}
		if (r1 == TD_HTTP_MORE) {
			FUZZ_ASSERT(len <= lim.max_head);
			return 0;
		}
		FUZZ_ASSERT(one.head_len == cut.head_len);
		td_http_request(&one, buf, &q1);
		td_http_request(&cut, buf, &q2);
		check_request(&one, &q1, buf, len);
		FUZZ_ASSERT(q1.path == q2.path && q1.path_len == q2.path_len);
		FUZZ_ASSERT(q1.keep_alive == q2.keep_alive && q1.minor == q2.minor);
		FUZZ_ASSERT(q1.content_length == q2.content_length);
		if (q1.content_length > len - one.head_len)
			return 0;
		off += one.head_len + (size_t)q1.content_length;
	}
	return 0;
}
