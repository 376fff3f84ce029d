/* Unit tests: tundra exporter's --listen parsing and its endpoints' answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The exporter lives in src/cli, which unit binaries do not link: compile it in. */
#include "cli/exporter_http.c"
#include "cli/exporter_metrics.c"

static void listen_forms_parse_like_prometheus_exporters(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	size_t len;
	char buf[64];

	assert_int_equal(td_exphttp_parse_listen(":9374", &ss, sizeof(ss), &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6); /* every address, both families */
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9374);

	assert_int_equal(td_exphttp_parse_listen("127.0.0.1:19374", &ss, sizeof(ss), &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1");

	assert_int_equal(td_exphttp_parse_listen("[::1]:80", &ss, sizeof(ss), &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof(buf));
	assert_string_equal(buf, "::1");
}

static void bad_listen_addresses_are_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {"9374", "127.0.0.1", "127.0.0.1:", "1.2.3.4:65536",
					  "[::1:80", "[::1]80", "host.example:80", ":x",
					  "999.1.1.1:80", "127.0.0.1:-1"};
	struct sockaddr_storage ss;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (td_exphttp_parse_listen(bad[i], &ss, sizeof(ss), &len) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

static bool ready_now, reload_fails, reload_slow;
static int renders;

static void fake_render(void *ctx, struct td_expm_buf *b)
{
	(void)ctx;
	renders++;
	td_expm_append_str(b, "fake_metric 1\n");
}

static int fake_reload(void *ctx, char *err, size_t errlen)
{
	(void)ctx;
	if (reload_slow) { /* as exporter.c's http_reload after its wait */
		snprintf(err, errlen, "reload in progress; see tundra_config_last_reload_successful");
		return -EINPROGRESS;
	}
	if (!reload_fails)
		return 0;
	snprintf(err, errlen, "exporter.yml:3: bad interval");
	return -EINVAL;
}

static bool fake_ready(void *ctx)
{
	(void)ctx;
	return ready_now;
}

/* status of one request through handler(); the body is released at once */
static unsigned ask(struct td_exphttp *h, const char *method, const char *path,
		    struct td_httpd_resp *r)
{
	struct td_http_request q = {.method = method, .method_len = strlen(method),
				    .path = path, .path_len = strlen(path), .minor = 1};
	memset(r, 0, sizeof(*r));
	handler(h, &q, r);
	return r->status;
}

static void done(struct td_httpd_resp *r)
{
	if (r->release)
		r->release(r->cookie);
}

static void endpoints_answer_as_before(void **state)
{
	(void)state;
	struct td_exphttp h = {.ops = {.metrics = fake_render, .page = fake_render,
				       .reload = fake_reload, .ready = fake_ready}};
	struct td_httpd_resp r;

	assert_int_equal(ask(&h, "GET", "/metrics", &r), 200);
	assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(r.body_len, strlen("fake_metric 1\n"));
	assert_memory_equal(r.body, "fake_metric 1\n", r.body_len);
	done(&r);
	assert_int_equal(ask(&h, "HEAD", "/metrics", &r), 200);
	done(&r);
	assert_int_equal(ask(&h, "POST", "/metrics", &r), 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_int_equal(ask(&h, "GET", "/", &r), 200);
	assert_string_equal(r.content_type, "text/html; charset=utf-8");
	done(&r);
	assert_int_equal(ask(&h, "DELETE", "/", &r), 405);
	assert_int_equal(ask(&h, "GET", "/-/healthy", &r), 200);
	assert_int_equal(ask(&h, "POST", "/-/healthy", &r), 200);
	ready_now = false;
	assert_int_equal(ask(&h, "GET", "/-/ready", &r), 503);
	ready_now = true;
	assert_int_equal(ask(&h, "GET", "/-/ready", &r), 200);
	assert_int_equal(ask(&h, "GET", "/-/reload", &r), 405);
	assert_string_equal(r.allow, "POST, PUT");
	reload_fails = false;
	assert_int_equal(ask(&h, "POST", "/-/reload", &r), 200);
	assert_int_equal(ask(&h, "PUT", "/-/reload", &r), 200);
	reload_fails = true;
	assert_int_equal(ask(&h, "POST", "/-/reload", &r), 500);
	assert_non_null(strstr((const char *)r.body, "failed to reload config: exporter.yml:3"));
	assert_int_equal(ask(&h, "GET", "/metricsx", &r), 404);
	assert_int_equal(ask(&h, "GET", "/-/", &r), 404);
	assert_int_equal(ask(&h, "get", "/metrics", &r), 405); /* methods are case-sensitive */
	if (h.spare) {
		struct buf_owner *o = (struct buf_owner *)((char *)h.spare -
							   offsetof(struct buf_owner, buf));
		td_expm_buf_free(&o->buf);
		free(o);
	}
}

static void reload_still_running_is_503_pointing_at_the_metric(void **state)
{
	(void)state;
	struct td_exphttp h = {.ops = {.metrics = fake_render, .page = fake_render,
				       .reload = fake_reload, .ready = fake_ready}};
	struct td_httpd_resp r;

	reload_slow = true;
	assert_int_equal(ask(&h, "POST", "/-/reload", &r), 503);
	reload_slow = false;
	assert_int_equal(r.body_len, strlen((const char *)r.body));
	assert_string_equal((const char *)r.body,
			    "reload in progress; see tundra_config_last_reload_successful\n");
}

static void exposition_buffer_is_reused_between_scrapes(void **state)
{
	(void)state;
	struct td_exphttp h = {.ops = {.metrics = fake_render, .page = fake_render,
				       .reload = fake_reload, .ready = fake_ready}};
	struct td_httpd_resp r1, r2, r3;

	assert_int_equal(ask(&h, "GET", "/metrics", &r1), 200);
	const void *first = r1.body;
	done(&r1); /* back as the spare */
	assert_non_null(h.spare);
	assert_int_equal(ask(&h, "GET", "/metrics", &r2), 200);
	assert_ptr_equal(r2.body, first);
	assert_null(h.spare);
	/* a second scrape while the first is still being written gets its own */
	assert_int_equal(ask(&h, "GET", "/metrics", &r3), 200);
	assert_ptr_not_equal(r3.body, r2.body);
	done(&r2);
	done(&r3); /* the spare slot is taken: this one is freed */
	assert_non_null(h.spare);
	struct buf_owner *o = (struct buf_owner *)((char *)h.spare - offsetof(struct buf_owner, buf));
	td_expm_buf_free(&o->buf);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listen_forms_parse_like_prometheus_exporters),
		cmocka_unit_test(bad_listen_addresses_are_refused),
		cmocka_unit_test(endpoints_answer_as_before),
		cmocka_unit_test(reload_still_running_is_503_pointing_at_the_metric),
		cmocka_unit_test(exposition_buffer_is_reused_between_scrapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
