/* Unit tests: tundra exporter's Prometheus exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The exporter lives in src/cli, which unit binaries do not link: compile it in. */
#include "cli/exporter_metrics.c"

static void default_buckets_match_smokeping_prober_le_strings(void **state)
{
	(void)state;
	/* smokeping_prober --help, default of --buckets */
	const char *want = "5e-05,0.0001,0.0002,0.0004,0.0008,0.0016,0.0032,0.0064,0.0128,0.0256,"
			   "0.0512,0.1024,0.2048,0.4096,0.8192,1.6384,3.2768,6.5536,13.1072,26.2144";
	struct td_expm_buckets b;
	char got[1024] = "";

	td_expm_buckets_default(&b);
	assert_int_equal(b.n, 20);
	for (size_t i = 0; i < b.n; i++) {
		if (i)
			strcat(got, ",");
		strcat(got, b.le_str[i]);
	}
	assert_string_equal(got, want);
	assert_int_equal(b.le_ns[0], 50000);
}

static void go_float_format_switches_to_exponent_like_go(void **state)
{
	(void)state;
	char out[48];
	go_format_float(1234567.0, out, sizeof(out));
	assert_string_equal(out, "1.234567e+06");
	go_format_float(123456.0, out, sizeof(out));
	assert_string_equal(out, "123456");
	go_format_float(0.25, out, sizeof(out));
	assert_string_equal(out, "0.25");
	go_format_float(1e-05, out, sizeof(out));
	assert_string_equal(out, "1e-05");
	go_format_float(10, out, sizeof(out));
	assert_string_equal(out, "10");
}

static void bucket_list_parse_rejects_unsorted_and_garbage(void **state)
{
	(void)state;
	struct td_expm_buckets b;
	assert_int_equal(td_expm_buckets_parse(&b, "0.001,0.01,0.1"), 0);
	assert_int_equal(b.n, 3);
	assert_string_equal(b.le_str[1], "0.01");
	assert_int_not_equal(td_expm_buckets_parse(&b, "0.1,0.01"), 0);
	assert_int_not_equal(td_expm_buckets_parse(&b, "0.1,x"), 0);
	assert_int_not_equal(td_expm_buckets_parse(&b, "-1"), 0);
	assert_int_not_equal(td_expm_buckets_parse(&b, ""), 0);
	assert_int_equal(b.n, 3); /* unchanged on failure */
}

static void reply_lands_in_inclusive_bucket_and_histogram_is_cumulative(void **state)
{
	(void)state;
	struct td_expm_buckets b;
	struct td_expm_series s;
	struct td_expm_view v = {.buckets = &b, .series = &s, .n_series = 1};
	struct td_expm_buf buf = {0};

	td_expm_buckets_default(&b);
	assert_int_equal(td_expm_series_init(&s, "h", "127.0.0.1", NULL, 0, NULL, NULL, 0), 0);
	s.requests = 4;
	td_expm_observe_reply(&s, &b, 50000, 64);  /* exactly 5e-05: inclusive */
	td_expm_observe_reply(&s, &b, 50001, 64);  /* 0.0001 bucket */
	td_expm_observe_reply(&s, &b, 30000000000ull, 63); /* +Inf */
	td_expm_render_all(&v, &buf);
	assert_false(buf.oom);
	put(&buf, "", 1); /* NUL for strstr */
	const char *l = "host=\"h\",ip=\"127.0.0.1\",source=\"\",tos=\"0\"";
	char want[512];
	snprintf(want, sizeof(want), "smokeping_response_duration_seconds_bucket{%s,le=\"5e-05\"} 1\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_response_duration_seconds_bucket{%s,le=\"0.0001\"} 2\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_response_duration_seconds_bucket{%s,le=\"26.2144\"} 2\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_response_duration_seconds_bucket{%s,le=\"+Inf\"} 3\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_response_duration_seconds_sum{%s} 30.000100001\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_response_duration_seconds_count{%s} 3\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_requests_total{%s} 4\n", l);
	assert_non_null(strstr(buf.p, want));
	snprintf(want, sizeof(want), "smokeping_response_ttl{%s} 63\n", l);
	assert_non_null(strstr(buf.p, want));
	assert_non_null(strstr(buf.p, "# TYPE smokeping_response_duration_seconds histogram\n"));
	/* jitter: |50001-50000| / 16 then (|30e9-50001| - J) / 16 -> non-zero */
	assert_true(s.jitter_ns > 1e8);
	td_expm_series_free(&s);
	td_expm_buf_free(&buf);
}

static void label_values_are_escaped(void **state)
{
	(void)state;
	struct td_expm_series s;
	const char *names[] = {"zone"};
	const char *values[] = {"a\"b\\c\nd"};

	assert_int_equal(td_expm_series_init(&s, "h", "::1", "::1", 184, names, values, 1), 0);
	assert_string_equal(s.labels,
			    "host=\"h\",ip=\"::1\",source=\"::1\",tos=\"184\",zone=\"a\\\"b\\\\c\\nd\"");
	td_expm_series_free(&s);
}

static void icmp_errors_counted_by_type_and_code_with_overflow(void **state)
{
	(void)state;
	struct td_expm_series s;
	assert_int_equal(td_expm_series_init(&s, "h", "1", NULL, 0, NULL, NULL, 0), 0);
	td_expm_observe_icmp_error(&s, 3, 1);
	td_expm_observe_icmp_error(&s, 3, 1);
	td_expm_observe_icmp_error(&s, 11, 0);
	for (uint8_t c = 0; c < 10; c++)
		td_expm_observe_icmp_error(&s, 12, c);
	assert_int_equal(s.icmp[0].count, 2);
	assert_int_equal(s.icmp[1].type, 11);
	assert_int_equal(s.icmp_other, 10 - (TD_EXPM_ICMP_SLOTS - 2));
	td_expm_series_free(&s);
}

/* Rendering in slices (between probe work) yields exactly the one-shot text. */
static void sliced_rendering_equals_one_shot(void **state)
{
	(void)state;
	struct td_expm_buckets b;
	struct td_expm_series s[50];
	struct td_expm_name n[2];
	struct td_expm_global g = {.last_reload_ok = true, .mode_v4 = "dgram", .n_targets = 50};
	struct td_expm_view v = {.buckets = &b, .series = s, .n_series = 50, .names = n,
				 .n_names = 2, .global = &g};
	struct td_expm_buf one = {0}, sliced = {0};
	struct td_expm_cursor cur = {0};
	char ip[32];

	td_expm_buckets_default(&b);
	for (int i = 0; i < 50; i++) {
		snprintf(ip, sizeof(ip), "127.0.0.%d", i + 1);
		assert_int_equal(td_expm_series_init(&s[i], "h", ip, NULL, 0, NULL, NULL, 0), 0);
		td_expm_observe_reply(&s[i], &b, 1000u * (unsigned)i, 64);
		td_expm_observe_icmp_error(&s[i], 3, 1);
	}
	assert_int_equal(td_expm_name_init(&n[0], "h"), 0);
	assert_int_equal(td_expm_name_init(&n[1], "x\"y"), 0);
	n[1].resolve_failures = 3;
	g.drop_reason[0] = "forged";
	g.drop_count[0] = 9;
	g.n_drop = 1;
	td_expm_render_all(&v, &one);
	while (!cur.done)
		td_expm_render_some(&v, &cur, &sliced, 100);
	assert_int_equal(one.len, sliced.len);
	assert_memory_equal(one.p, sliced.p, one.len);
	put(&one, "", 1);
	assert_non_null(strstr(one.p, "tundra_resolve_failures_total{host=\"x\\\"y\"} 3\n"));
	assert_non_null(strstr(one.p, "tundra_replies_dropped_total{reason=\"forged\"} 9\n"));
	assert_non_null(strstr(one.p, "tundra_socket_mode{family=\"ipv4\",mode=\"dgram\"} 1\n"));
	assert_non_null(strstr(one.p, ",type=\"3\",code=\"1\"} 1\n"));
	/* one HELP/TYPE per family */
	const char *t = strstr(one.p, "# TYPE smokeping_requests_total");
	assert_non_null(t);
	assert_null(strstr(t + 1, "# TYPE smokeping_requests_total"));
	for (int i = 0; i < 50; i++)
		td_expm_series_free(&s[i]);
	td_expm_name_free(&n[0]);
	td_expm_name_free(&n[1]);
	td_expm_buf_free(&one);
	td_expm_buf_free(&sliced);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_buckets_match_smokeping_prober_le_strings),
		cmocka_unit_test(go_float_format_switches_to_exponent_like_go),
		cmocka_unit_test(bucket_list_parse_rejects_unsorted_and_garbage),
		cmocka_unit_test(reply_lands_in_inclusive_bucket_and_histogram_is_cumulative),
		cmocka_unit_test(label_values_are_escaped),
		cmocka_unit_test(icmp_errors_counted_by_type_and_code_with_overflow),
		cmocka_unit_test(sliced_rendering_equals_one_shot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
