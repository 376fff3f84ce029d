/* libFuzzer target: pcap reader over arbitrary files; records re-emitted and read back must agree. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1 << 20];
	struct td_pcap_reader rd, rd2;
	struct td_pcap_rec rec, rec2;
	enum td_wire_err err, err2;

	if (size > sizeof(out) - TD_PCAP_FILE_HDR_LEN || td_pcap_reader_init(&rd, data, size) != TD_WIRE_OK)
		return 0;
	td_pcap_file_header(out, rd.res, rd.snaplen);
	size_t n = TD_PCAP_FILE_HDR_LEN, count = 0, prev = rd.off;
	uint64_t frac_max = rd.res == TD_PCAP_NSEC ? 1000000000u : 1000000u;
	bool exact = true;
	while (td_pcap_next(&rd, &rec, &err)) {
		FUZZ_ASSERT(rd.off > prev && rd.off <= size); /* progress, in bounds */
		prev = rd.off;
		FUZZ_ASSERT(rec.data.ptr >= data && rec.data.ptr + rec.data.len <= data + size);
		/* An out-of-range fraction cannot be written back as it was read. */
		uint64_t frac = rec.ts_ns % 1000000000u / (rd.res == TD_PCAP_NSEC ? 1 : 1000);
		if (frac >= frac_max || rec.ts_ns / 1000000000u > UINT32_MAX)
			exact = false;
		td_pcap_record_header(out + n, rd.res, rec.ts_ns, (uint32_t)rec.data.len, rec.origlen);
		memcpy(out + n + TD_PCAP_REC_HDR_LEN, rec.data.ptr, rec.data.len);
		n += TD_PCAP_REC_HDR_LEN + rec.data.len;
		count++;
	}
	FUZZ_ASSERT(td_pcap_reader_init(&rd2, out, n) == TD_WIRE_OK);
	FUZZ_ASSERT(rd2.res == rd.res && rd2.snaplen == rd.snaplen && !rd2.swapped);
	td_pcap_reader_init(&rd, data, size);
	for (size_t i = 0; i < count; i++) {
		FUZZ_ASSERT(td_pcap_next(&rd, &rec, &err));
		FUZZ_ASSERT(td_pcap_next(&rd2, &rec2, &err2));
		FUZZ_ASSERT(rec.data.len == rec2.data.len && rec.origlen == rec2.origlen);
		FUZZ_ASSERT(memcmp(rec.data.ptr, rec2.data.ptr, rec.data.len) == 0);
		FUZZ_ASSERT(!exact || rec.ts_ns == rec2.ts_ns);
	}
	FUZZ_ASSERT(!td_pcap_next(&rd2, &rec2, &err2) && err2 == TD_WIRE_OK);
	return 0;
}
