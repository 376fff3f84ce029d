/* libFuzzer target: IPv6 extension walk, re-emit of the fixed and fragment headers, walk again, compare. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 40];
	struct td_ipv6_view v, v2;
	struct td_ipv6_repr r, r2;

	if (td_ipv6_check(&v, data, size, 0) != TD_WIRE_OK)
		return 0;
	td_ipv6_parse(&v, &r);
	FUZZ_ASSERT(v.upper_off <= v.len && v.len <= size);
	FUZZ_ASSERT(r.ext_len <= TD_IPV6_EXT_MAX_BYTES);
	memcpy(out, data, v.len);
	FUZZ_ASSERT(td_ipv6_emit(&r, out, TD_IPV6_HDR_LEN) == TD_WIRE_OK);
	if (v.has_frag) {
		FUZZ_ASSERT(v.frag_hdr_off + 8u <= v.len);
		FUZZ_ASSERT(out[v.frag_prev_nh_off] == TD_IPPROTO_FRAGMENT);
		FUZZ_ASSERT(td_ipv6_frag_emit(data[v.frag_hdr_off], &r.frag, out + v.frag_hdr_off,
					      8) == TD_WIRE_OK);
	}
	FUZZ_ASSERT(td_ipv6_check(&v2, out, v.len, 0) == TD_WIRE_OK);
	td_ipv6_parse(&v2, &r2);
	FUZZ_ASSERT(memcmp(&r, &r2, sizeof(r)) == 0);
	FUZZ_ASSERT(v.upper_off == v2.upper_off && v.upper_proto == v2.upper_proto);
	FUZZ_ASSERT(v.has_frag == v2.has_frag && v.frag_hdr_off == v2.frag_hdr_off);
	return 0;
}
