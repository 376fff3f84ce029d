/* Unit tests: tundra exporter's --listen parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listen_forms_parse_like_prometheus_exporters),
		cmocka_unit_test(bad_listen_addresses_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
