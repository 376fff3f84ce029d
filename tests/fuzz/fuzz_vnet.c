/* libFuzzer target: virtio-net header parse, emit, parse again, compare; the first byte picks 10 or 12 bytes. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_vnet_repr r, r2;
	uint8_t out[TD_VNET_HDR_MRG_LEN];

	if (size < 1)
		return 0;
	size_t hs = data[0] & 1 ? TD_VNET_HDR_MRG_LEN : TD_VNET_HDR_LEN;
	data++;
	size--;
	size_t pkt_len = size > hs ? size - hs : 0;
	if (td_vnet_parse(data, size, hs, pkt_len, &r) != TD_WIRE_OK)
		return 0;
	if (r.flags & TD_VNET_F_NEEDS_CSUM)
		FUZZ_ASSERT((size_t)r.csum_start + r.csum_offset + 2 <= pkt_len);
	FUZZ_ASSERT(r.gso_type == TD_VNET_GSO_NONE || r.gso_size > 0);
	FUZZ_ASSERT(td_vnet_emit(&r, out, hs) == TD_WIRE_OK);
	FUZZ_ASSERT(memcmp(out, data, hs) == 0);
	FUZZ_ASSERT(td_vnet_parse(out, hs, hs, pkt_len, &r2) == TD_WIRE_OK);
	FUZZ_ASSERT(memcmp(&r, &r2, sizeof(r)) == 0);
	/* Completing the checksum stays inside the packet: checked by ASan on
	 * a copy of exactly pkt_len bytes. */
	if (pkt_len && r.gso_type == TD_VNET_GSO_NONE) {
		uint8_t *pkt = malloc(pkt_len);
		FUZZ_ASSERT(pkt);
		memcpy(pkt, data + hs, pkt_len);
		size_t field = (size_t)r.csum_start + r.csum_offset;
		/* The field held the pseudo-header sum; the receiver adds that
		 * sum itself when it verifies. */
		uint16_t pseudo = (r.flags & TD_VNET_F_NEEDS_CSUM) ? td_get_be16(pkt + field) : 0;
		FUZZ_ASSERT(td_vnet_csum_finish(&r, pkt, pkt_len) == TD_WIRE_OK);
		if (r.flags & TD_VNET_F_NEEDS_CSUM) /* the result verifies */
			FUZZ_ASSERT(td_csum_finish(td_csum_add(pseudo, pkt + r.csum_start,
							       pkt_len - r.csum_start)) == 0);
		free(pkt);
	}
	return 0;
}
