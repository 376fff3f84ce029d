/* Unit tests: tundra exporter's YAML configuration parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The exporter lives in src/cli, which unit binaries do not link: compile it in. */
#include "cli/exporter_config.c"
#include "cli/exporter_index.c"

static int parse(const char *yaml, struct td_expcfg *c, char *err)
{
	return td_expcfg_parse(yaml, strlen(yaml), "t.yml", c, err);
}

static void smokeping_example_config_parses_with_defaults(void **state)
{
	(void)state;
	struct td_expcfg c;
	char err[TD_EXPCFG_ERR_LEN];
	const char *y = "---\n"
			"targets:\n"
			"- hosts:\n"
			"  - host1\n"
			"  - 192.0.2.1\n"
			"  interval: 1s # Duration, Default 1s.\n"
			"  network: ip\n"
			"  protocol: icmp\n"
			"  size: 56\n"
			"- hosts: ['::1']\n"
			"  interval: 250ms\n"
			"  network: ip6\n"
			"  source: '::1'\n"
			"  tos: 184\n"
			"  labels:\n"
			"    zone: b\n"
			"    dc: x\n";
	assert_int_equal(parse(y, &c, err), 0);
	assert_int_equal(c.n_groups, 2);
	assert_int_equal(c.groups[0].n_hosts, 2);
	assert_string_equal(c.groups[0].hosts[1], "192.0.2.1");
	assert_int_equal(c.groups[0].interval_ns, 1000000000ull);
	assert_int_equal(c.groups[0].timeout_ns, 5000000000ull); /* max(interval, 5 s) */
	assert_int_equal(c.groups[0].size, 56);
	assert_int_equal(c.groups[0].mode, TD_EXPCFG_MODE_AUTO);
	assert_int_equal(c.groups[1].interval_ns, 250000000ull);
	assert_int_equal(c.groups[1].network, TD_EXPCFG_NET_IP6);
	assert_string_equal(c.groups[1].source, "::1");
	assert_int_equal(c.groups[1].tos, 184);
	assert_int_equal(c.groups[1].line, 10);
	/* label names: sorted union */
	assert_int_equal(c.n_label_names, 2);
	assert_string_equal(c.label_names[0], "dc");
	assert_string_equal(c.label_names[1], "zone");
	assert_int_equal(c.resolve_interval_ns, 60000000000ull);
	td_expcfg_free(&c);
}

static void tundra_keys_parse(void **state)
{
	(void)state;
	struct td_expcfg c;
	char err[TD_EXPCFG_ERR_LEN];
	const char *y = "resolve_interval: 30s\n"
			"targets:\n"
			"- host: example.org\n"
			"  interface: veth0\n"
			"  ttl: 7\n"
			"  mark: 0x10\n"
			"  mode: raw\n"
			"  timeout: 1m30s\n";
	assert_int_equal(parse(y, &c, err), 0);
	assert_int_equal(c.n_groups, 1);
	assert_int_equal(c.groups[0].n_hosts, 1);
	assert_string_equal(c.groups[0].hosts[0], "example.org");
	assert_string_equal(c.groups[0].interface, "veth0");
	assert_int_equal(c.groups[0].ttl, 7);
	assert_true(c.groups[0].has_mark);
	assert_int_equal(c.groups[0].mark, 16);
	assert_int_equal(c.groups[0].mode, TD_EXPCFG_MODE_RAW);
	assert_int_equal(c.groups[0].timeout_ns, 90000000000ull);
	assert_int_equal(c.resolve_interval_ns, 30000000000ull);
	td_expcfg_free(&c);
}

static void protocol_udp_means_datagram_socket(void **state)
{
	(void)state;
	struct td_expcfg c;
	char err[TD_EXPCFG_ERR_LEN];
	assert_int_equal(parse("targets:\n- hosts: [a]\n  protocol: udp\n", &c, err), 0);
	assert_int_equal(c.groups[0].mode, TD_EXPCFG_MODE_DGRAM);
	td_expcfg_free(&c);
}

static void empty_file_has_no_targets(void **state)
{
	(void)state;
	struct td_expcfg c;
	char err[TD_EXPCFG_ERR_LEN];
	assert_int_equal(parse("", &c, err), 0);
	assert_int_equal(c.n_groups, 0);
	td_expcfg_free(&c);
	assert_int_equal(parse("---\ntargets:\n", &c, err), 0);
	assert_int_equal(c.n_groups, 0);
	td_expcfg_free(&c);
}

/* Each bad config: the message names file, line and reason. */
static void bad_configs_name_file_line_and_reason(void **state)
{
	(void)state;
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"targets:\n- hosts: [a]\n  intervall: 1s\n", "t.yml:3: unknown key 'intervall'"},
		{"targets:\n- hosts: [a]\n  interval: 5\n", "t.yml:3: interval: '5' is not a duration"},
		{"targets:\n- hosts: [a]\n  interval: 0s\n", "t.yml:3: interval: 0s is outside"},
		{"targets:\n- hosts: [a]\n  size: 8\n", "t.yml:3: size: 8 is out of range 24..65507"},
		{"targets:\n- hosts: [a]\n  tos: 256\n", "t.yml:3: tos: 256 is out of range"},
		{"targets:\n- hosts: [a]\n  tos: -1\n", "t.yml:3: tos: expected an integer"},
		{"targets:\n- hosts: [a]\n  network: ip5\n", "t.yml:3: network: 'ip5' is not one of"},
		{"targets:\n- hosts: [a]\n  protocol: tcp\n", "t.yml:3: protocol: 'tcp'"},
		{"targets:\n- hosts: [a]\n  mode: magic\n", "t.yml:3: mode: 'magic'"},
		{"targets:\n- interval: 1s\n", "t.yml:2: target group has no hosts"},
		{"targets:\n- hosts: a\n", "t.yml:2: hosts: expected a list"},
		{"targets:\n- hosts: [a, 'b c']\n", "t.yml:2: hosts: 'b c' is not a host"},
		{"targets:\n- hosts: [a, a]\n", "t.yml:2: hosts: 'a' is listed twice"},
		{"targets:\n- hosts: [a]\n  labels:\n    ip: x\n", "t.yml:4: labels: 'ip' is set by the exporter"},
		{"targets:\n- hosts: [a]\n  labels:\n    9x: y\n", "t.yml:4: labels: '9x' is not a valid label name"},
		{"targets:\n- hosts: [a]\n  labels:\n    __x: y\n", "t.yml:4: labels: '__x'"},
		{"targets:\n- hosts: [a]\n  labels: [x]\n", "t.yml:3: labels: expected a mapping"},
		{"targets:\n- hosts: [a]\n  ttl: 0\n", "t.yml:3: ttl: 0 is out of range 1..255"},
		{"targets:\n- hosts: [a]\n  interface: averyveryverylongname\n", "t.yml:3: interface:"},
		{"targets:\n- hosts: [a]\n  size: 30\n  size: 56\n", "t.yml:4: 'size' given twice"},
		{"targets:\n- hosts: [a]\n- hosts: [a]\n", "t.yml:3: host 'a' already listed in the group at line 2"},
		{"target:\n- hosts: [a]\n", "t.yml:1: unknown top-level key 'target'"},
		{"- a\n- b\n", "t.yml:1: the top level must be a mapping"},
		{"targets:\n- hosts: [a\n", "t.yml:3: "},
		{"targets: {a: 1}\n", "t.yml:1: targets: expected a list"},
		{"resolve_interval: 10ms\n", "t.yml:1: resolve_interval: 10ms is outside"},
		{"targets:\n- hosts: ['fe80::1%vB']\n  interface: vA\n",
		 "t.yml:2: hosts: 'fe80::1%vB' names another link than interface: vA"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct td_expcfg c;
		char err[TD_EXPCFG_ERR_LEN];
		memset(&c, 0x5a, sizeof(c));
		int rc = parse(cases[i].yaml, &c, err);
		if (rc != -EINVAL || !strstr(err, cases[i].want))
			fail_msg("case %zu: rc %d, err '%s', want '%s'", i, rc, err, cases[i].want);
	}
}

/* A zone that is the group's interface, or a number (checked once resolved), is fine. */
static void zone_of_the_group_interface_is_allowed(void **state)
{
	(void)state;
	struct td_expcfg c;
	char err[TD_EXPCFG_ERR_LEN];
	assert_int_equal(parse("targets:\n- hosts: ['fe80::1%vA', 'fe80::2%7', 'fe80::3']\n"
			       "  interface: vA\n",
			       &c, err),
			 0);
	assert_int_equal(c.groups[0].n_hosts, 3);
	td_expcfg_free(&c);
}

static void same_host_in_two_groups_with_different_labels_is_allowed(void **state)
{
	(void)state;
	struct td_expcfg c;
	char err[TD_EXPCFG_ERR_LEN];
	const char *y = "targets:\n- hosts: [a]\n- hosts: [a]\n  tos: 8\n";
	assert_int_equal(parse(y, &c, err), 0);
	assert_int_equal(c.n_groups, 2);
	td_expcfg_free(&c);
}

static void go_durations_parse(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {{"1s", 1000000000ull},     {"300ms", 300000000ull}, {"1.5s", 1500000000ull},
		  {"1m30s", 90000000000ull}, {"2h", 7200000000000ull}, {"10us", 10000ull},
		  {"10\xc2\xb5s", 10000ull}, {"7ns", 7ull},            {"0", 0},
		  {".5s", 500000000ull}};
	static const char *const bad[] = {"", "1", "s", "1x", "1s2", "-1s", "1.s.", "ms"};
	uint64_t ns;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(td_expcfg_parse_duration(ok[i].s, &ns), 0);
		assert_int_equal(ns, ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (td_expcfg_parse_duration(bad[i], &ns) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

static void add_group_recomputes_label_names(void **state)
{
	(void)state;
	struct td_expcfg c;
	struct td_expcfg_group g;
	char err[TD_EXPCFG_ERR_LEN];

	assert_int_equal(parse("targets:\n- hosts: [a]\n  labels: {z: 1}\n", &c, err), 0);
	td_expcfg_group_defaults(&g);
	g.hosts = calloc(1, sizeof(char *));
	g.hosts[0] = strdup("b");
	g.n_hosts = 1;
	g.labels = calloc(1, sizeof(*g.labels));
	g.labels[0].name = strdup("a");
	g.labels[0].value = strdup("v");
	g.n_labels = 1;
	assert_int_equal(td_expcfg_add_group(&c, &g), 0);
	assert_int_equal(c.n_groups, 2);
	assert_int_equal(c.n_label_names, 2);
	assert_string_equal(c.label_names[0], "a");
	assert_string_equal(c.label_names[1], "z");
	td_expcfg_free(&c);
}

static void index_finds_every_key_and_refuses_duplicates(void **state)
{
	(void)state;
	enum { N = 20000 };
	static char keys[N][16];
	struct td_xidx x;

	assert_int_equal(td_xidx_init(&x, N), 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "127.%zu.%zu", i / 250, i % 250);
		assert_int_equal(td_xidx_put(&x, keys[i], strlen(keys[i]), i), (size_t)-1);
	}
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(td_xidx_get(&x, keys[i], strlen(keys[i])), i);
		assert_int_equal(td_xidx_put(&x, keys[i], strlen(keys[i]), 7), i);
	}
	assert_int_equal(td_xidx_get(&x, "nope", 4), (size_t)-1);
	/* length is part of the key: a prefix is another key */
	assert_int_equal(td_xidx_get(&x, keys[1234], 3), (size_t)-1);
	td_xidx_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(smokeping_example_config_parses_with_defaults),
		cmocka_unit_test(tundra_keys_parse),
		cmocka_unit_test(protocol_udp_means_datagram_socket),
		cmocka_unit_test(empty_file_has_no_targets),
		cmocka_unit_test(bad_configs_name_file_line_and_reason),
		cmocka_unit_test(same_host_in_two_groups_with_different_labels_is_allowed),
		cmocka_unit_test(zone_of_the_group_interface_is_allowed),
		cmocka_unit_test(go_durations_parse),
		cmocka_unit_test(add_group_recomputes_label_names),
		cmocka_unit_test(index_finds_every_key_and_refuses_duplicates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
