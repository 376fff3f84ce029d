/* Unit tests of the error names and the pcap header emitters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <tundra/wire.h>

static void wire_every_error_has_a_distinct_metric_name(void **state)
{
	(void)state;
	for (int i = 0; i < TD_WIRE_ERR_COUNT; i++) {
		const char *a = td_wire_strerror((enum td_wire_err)i);
		assert_string_not_equal(a, "unknown");
		for (const char *c = a; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, td_wire_strerror((enum td_wire_err)j));
	}
	assert_string_equal(td_wire_strerror(TD_WIRE_TRUNCATED), "truncated");
	assert_string_equal(td_wire_strerror(TD_WIRE_ERR_COUNT), "unknown");
}

static uint32_t ne32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void pcap_file_header_names_raw_ip_and_resolution(void **state)
{
	(void)state;
	uint8_t h[TD_PCAP_FILE_HDR_LEN];
	td_pcap_file_header(h, TD_PCAP_USEC, 65535);
	assert_int_equal(ne32(h), 0xa1b2c3d4u);
	assert_int_equal(h[4] | h[5] << 8 | h[6] << 16 | h[7] << 24, ne32((const uint8_t[]){2, 0, 4, 0}));
	assert_int_equal(ne32(h + 16), 65535);
	assert_int_equal(ne32(h + 20), TD_PCAP_LINKTYPE_RAW);
	td_pcap_file_header(h, TD_PCAP_NSEC, 262144);
	assert_int_equal(ne32(h), 0xa1b23c4du);
	assert_int_equal(ne32(h + 16), 262144);
}

static void pcap_record_header_splits_the_timestamp(void **state)
{
	(void)state;
	uint8_t r[TD_PCAP_REC_HDR_LEN];
	uint64_t ts = 1700000000ull * 1000000000ull + 123456789ull;
	td_pcap_record_header(r, TD_PCAP_USEC, ts, 60, 1500);
	assert_int_equal(ne32(r), 1700000000u);
	assert_int_equal(ne32(r + 4), 123456);
	assert_int_equal(ne32(r + 8), 60);
	assert_int_equal(ne32(r + 12), 1500);
	td_pcap_record_header(r, TD_PCAP_NSEC, ts, 60, 60);
	assert_int_equal(ne32(r + 4), 123456789);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_every_error_has_a_distinct_metric_name),
		cmocka_unit_test(pcap_file_header_names_raw_ip_and_resolution),
		cmocka_unit_test(pcap_record_header_splits_the_timestamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
