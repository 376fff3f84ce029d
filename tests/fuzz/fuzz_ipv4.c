/* libFuzzer target: IPv4 check/parse, emit, check again (checksum must verify), compare reprs. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct td_ipv4_view v, v2;
	struct td_ipv4_repr r, r2;

	if (td_ipv4_check(&v, data, size, TD_WIRE_SKIP_CSUM) != TD_WIRE_OK)
		return 0;
	td_ipv4_parse(&v, &r);
	FUZZ_ASSERT(td_ipv4_hdr_size(&r) == v.hdr_len);
	/* The option walker makes progress and stays inside the header. */
	struct td_ipv4_opt o;
	enum td_wire_err oe;
	size_t off = 0, prev = 0;
	while (td_ipv4_opt_next(&v, &off, &o, &oe)) {
		FUZZ_ASSERT(off > prev && off <= (size_t)v.hdr_len - TD_IPV4_HDR_MIN);
		FUZZ_ASSERT(o.data.ptr + o.data.len <= v.p + v.hdr_len);
		prev = off;
	}
	FUZZ_ASSERT(td_ipv4_emit(&r, out, v.hdr_len) == TD_WIRE_OK);
	struct td_bytes pl = td_ipv4_payload(&v);
	memcpy(out + v.hdr_len, pl.ptr, pl.len);
	FUZZ_ASSERT(td_ipv4_check(&v2, out, v.len, 0) == TD_WIRE_OK);
	td_ipv4_parse(&v2, &r2);
	FUZZ_ASSERT(memcmp(&r, &r2, sizeof(r)) == 0);
	/* The checksum of a valid header verifies as zero. */
	FUZZ_ASSERT(td_csum(out, v.hdr_len) == 0);
	return 0;
}
