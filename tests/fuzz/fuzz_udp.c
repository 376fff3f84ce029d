/* libFuzzer target: UDP parse, emit with pseudo-header checksum, parse again verifying it, compare.
 * The first input byte chooses IPv4 or IPv6 rules. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct td_udp_repr r, r2;

	if (size < 1 || size > 65535)
		return 0;
	unsigned fam = data[0] & 1 ? TD_WIRE_IPV6 : 0;
	data++;
	size--;
	uint32_t ps = fam ? td_csum_pseudo6(FUZZ_SRC6, FUZZ_DST6, TD_IPPROTO_UDP, (uint32_t)size)
			  : td_csum_pseudo4(FUZZ_SRC4, FUZZ_DST4, TD_IPPROTO_UDP, (uint16_t)size);
	/* Checked parse must agree with an unchecked one whenever it succeeds. */
	if (td_udp_parse(data, size, ps, fam, &r2) == TD_WIRE_OK)
		FUZZ_ASSERT(td_udp_parse(data, size, ps, fam | TD_WIRE_SKIP_CSUM, &r) == TD_WIRE_OK);
	if (td_udp_parse(data, size, ps, fam | TD_WIRE_SKIP_CSUM, &r) != TD_WIRE_OK)
		return 0;
	size_t n = td_udp_size(&r);
	FUZZ_ASSERT(n <= size);
	uint32_t ps2 = fam ? td_csum_pseudo6(FUZZ_SRC6, FUZZ_DST6, TD_IPPROTO_UDP, (uint32_t)n)
			   : td_csum_pseudo4(FUZZ_SRC4, FUZZ_DST4, TD_IPPROTO_UDP, (uint16_t)n);
	FUZZ_ASSERT(td_udp_emit(&r, ps2, out, n) == TD_WIRE_OK);
	FUZZ_ASSERT(td_get_be16(out + 6) != 0);
	FUZZ_ASSERT(td_udp_parse(out, n, ps2, fam, &r2) == TD_WIRE_OK);
	FUZZ_ASSERT(r.src_port == r2.src_port && r.dst_port == r2.dst_port);
	FUZZ_ASSERT(r.payload.len == r2.payload.len);
	FUZZ_ASSERT(memcmp(r.payload.ptr, r2.payload.ptr, r.payload.len) == 0);
	return 0;
}
