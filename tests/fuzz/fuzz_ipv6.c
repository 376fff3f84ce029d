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
	/* The iterators replay the chain the check walked, each step moving on. */
	struct td_ipv6_ext e = {0};
	uint32_t ext_bytes = 0;
	while (td_ipv6_ext_next(&v, &e)) {
		FUZZ_ASSERT(e.off + (uint32_t)e.len <= v.upper_off);
		ext_bytes += e.len;
		struct td_ipv6_opt o;
		enum td_wire_err oe;
		size_t off = 0, prev = 0;
		while (td_ipv6_opt_next(&v, &e, &off, &o, &oe)) {
			FUZZ_ASSERT(off > prev && off <= (size_t)e.len - 2);
			FUZZ_ASSERT(o.data.ptr + o.data.len <= v.p + e.off + e.len);
			prev = off;
		}
	}
	FUZZ_ASSERT(ext_bytes == r.ext_len);
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
