/* Unit tests of the error names and the pcap emitters and reader. */
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

static void pcap_reader_reads_back_what_the_emitters_wrote(void **state)
{
	(void)state;
	uint8_t f[24 + 2 * (16 + 4)];
	const uint8_t pkt[4] = {0x45, 1, 2, 3};
	td_pcap_file_header(f, TD_PCAP_NSEC, 1500);
	td_pcap_record_header(f + 24, TD_PCAP_NSEC, 5000000007ull, 4, 60);
	memcpy(f + 40, pkt, 4);
	td_pcap_record_header(f + 44, TD_PCAP_NSEC, 6000000008ull, 4, 4);
	memcpy(f + 60, pkt, 4);

	struct td_pcap_reader rd;
	struct td_pcap_rec rec;
	enum td_wire_err err;
	assert_int_equal(td_pcap_reader_init(&rd, f, sizeof(f)), TD_WIRE_OK);
	assert_int_equal(rd.linktype, TD_PCAP_LINKTYPE_RAW);
	assert_int_equal(rd.res, TD_PCAP_NSEC);
	assert_int_equal(rd.snaplen, 1500);
	assert_true(td_pcap_next(&rd, &rec, &err));
	assert_int_equal(rec.ts_ns, 5000000007ull);
	assert_int_equal(rec.origlen, 60);
	assert_int_equal(rec.data.len, 4);
	assert_memory_equal(rec.data.ptr, pkt, 4);
	assert_true(td_pcap_next(&rd, &rec, &err));
	assert_int_equal(rec.ts_ns, 6000000008ull);
	assert_false(td_pcap_next(&rd, &rec, &err));
	assert_int_equal(err, TD_WIRE_OK);

	/* The last record cut short. */
	assert_int_equal(td_pcap_reader_init(&rd, f, sizeof(f) - 1), TD_WIRE_OK);
	assert_true(td_pcap_next(&rd, &rec, &err));
	assert_false(td_pcap_next(&rd, &rec, &err));
	assert_int_equal(err, TD_WIRE_TRUNCATED);
}

static void pcap_reader_handles_the_other_byte_order_and_rejects_garbage(void **state)
{
	(void)state;
	/* A big-endian microsecond file, as written on a big-endian host. */
	uint8_t f[24 + 16 + 1] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, [19] = 0xff, [23] = 101,
				  [27] = 9, [31] = 250, [35] = 1, [39] = 1, [40] = 0x45};
	struct td_pcap_reader rd;
	struct td_pcap_rec rec;
	enum td_wire_err err;
	assert_int_equal(td_pcap_reader_init(&rd, f, sizeof(f)), TD_WIRE_OK);
	assert_int_equal(rd.linktype, 101);
	assert_int_equal(rd.snaplen, 255);
	assert_true(td_pcap_next(&rd, &rec, &err));
	assert_int_equal(rec.ts_ns, 9000250000ull);
	assert_int_equal(rec.data.len, 1);

	/* pcapng's section header block is not pcap. */
	const uint8_t ng[28] = {0x0a, 0x0d, 0x0d, 0x0a};
	assert_int_equal(td_pcap_reader_init(&rd, ng, sizeof(ng)), TD_WIRE_UNSUPPORTED);
	assert_int_equal(td_pcap_reader_init(&rd, ng, 23), TD_WIRE_TRUNCATED);
	/* A captured length no capture tool writes. */
	f[32] = 0x10;
	assert_int_equal(td_pcap_reader_init(&rd, f, sizeof(f)), TD_WIRE_OK);
	assert_false(td_pcap_next(&rd, &rec, &err));
	assert_int_equal(err, TD_WIRE_BAD_LENGTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_every_error_has_a_distinct_metric_name),
		cmocka_unit_test(pcap_file_header_names_raw_ip_and_resolution),
		cmocka_unit_test(pcap_record_header_splits_the_timestamp),
		cmocka_unit_test(pcap_reader_reads_back_what_the_emitters_wrote),
		cmocka_unit_test(pcap_reader_handles_the_other_byte_order_and_rejects_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
