/* libFuzzer target: TCP check, option walk, emit (must always fit), check with checksum, parse, compare. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 60], out2[65536 + 60];
	struct td_tcp_view v, v2;
	struct td_tcp_repr r, r2;

	if (size > 65535)
		return 0;
	if (td_tcp_check(&v, data, size, 0, TD_WIRE_SKIP_CSUM) != TD_WIRE_OK)
		return 0;
	if (td_tcp_parse(&v, &r) != TD_WIRE_OK)
		return 0;
	/* Options that arrived in <= 40 bytes always fit when re-emitted. */
	size_t n = td_tcp_size(&r);
	FUZZ_ASSERT(td_tcp_opts_size(&r.opt) <= TD_TCP_OPT_MAX);
	uint32_t ps = td_csum_pseudo4(FUZZ_SRC4, FUZZ_DST4, TD_IPPROTO_TCP, (uint16_t)n);
	FUZZ_ASSERT(td_tcp_emit(&r, ps, out, n) == TD_WIRE_OK);
	FUZZ_ASSERT(td_tcp_check(&v2, out, n, ps, 0) == TD_WIRE_OK);
	FUZZ_ASSERT(td_tcp_parse(&v2, &r2) == TD_WIRE_OK);
	FUZZ_ASSERT(memcmp(&r.opt, &r2.opt, sizeof(r.opt)) == 0);
	FUZZ_ASSERT(r.src_port == r2.src_port && r.dst_port == r2.dst_port);
	FUZZ_ASSERT(r.seq == r2.seq && r.ack == r2.ack && r.flags == r2.flags);
	FUZZ_ASSERT(r.window == r2.window && r.urgent == r2.urgent);
	FUZZ_ASSERT(r.payload.len == r2.payload.len);
	FUZZ_ASSERT(memcmp(r.payload.ptr, r2.payload.ptr, r.payload.len) == 0);
	/* Emitting the re-parsed repr gives the same bytes. */
	FUZZ_ASSERT(td_tcp_emit(&r2, ps, out2, n) == TD_WIRE_OK);
	FUZZ_ASSERT(memcmp(out, out2, n) == 0);
	return 0;
}
