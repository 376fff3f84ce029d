/* libFuzzer target: ICMPv4/v6 parse, emit (checksum), parse again with checksum, compare.
 * The first input byte chooses the family. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct td_icmp_repr r, r2;

	if (size < 1 || size > sizeof(out))
		return 0;
	bool v6 = data[0] & 1;
	data++;
	size--;
	enum td_wire_err e = v6 ? td_icmp6_parse(data, size, FUZZ_SRC6, FUZZ_DST6,
						 TD_WIRE_SKIP_CSUM, &r)
				: td_icmp4_parse(data, size, TD_WIRE_SKIP_CSUM, &r);
	if (e != TD_WIRE_OK)
		return 0;
	size_t n = td_icmp_size(&r);
	FUZZ_ASSERT(n == size);
	e = v6 ? td_icmp6_emit(&r, FUZZ_SRC6, FUZZ_DST6, out, n) : td_icmp4_emit(&r, out, n);
	FUZZ_ASSERT(e == TD_WIRE_OK);
	e = v6 ? td_icmp6_parse(out, n, FUZZ_SRC6, FUZZ_DST6, 0, &r2)
	       : td_icmp4_parse(out, n, 0, &r2);
	FUZZ_ASSERT(e == TD_WIRE_OK);
	FUZZ_ASSERT(r.type == r2.type && r.code == r2.code);
	FUZZ_ASSERT(r.ident == r2.ident && r.seq == r2.seq);
	FUZZ_ASSERT(r.mtu == r2.mtu && r.pointer == r2.pointer);
	/* v4 frag-needed and parameter problem define only part of bytes 4..7;
	 * the unused part is emitted as zero. */
	bool partial = !v6 && ((r.type == TD_ICMP4_DEST_UNREACH &&
				r.code == TD_ICMP4_CODE_FRAG_NEEDED) ||
			       r.type == TD_ICMP4_PARAM_PROBLEM);
	FUZZ_ASSERT(partial || r.rest_of_header == r2.rest_of_header);
	FUZZ_ASSERT(r.data.len == r2.data.len);
	FUZZ_ASSERT(memcmp(r.data.ptr, r2.data.ptr, r.data.len) == 0);
	return 0;
}
