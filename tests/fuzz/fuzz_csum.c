/* libFuzzer target: the fast checksum against a 16-bit reference, at every alignment and split. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t ref(const uint8_t *p, size_t len)
{
	uint64_t s = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t a = 0; a < 8 && a <= size; a++) {
		FUZZ_ASSERT(td_csum(data + a, size - a) == ref(data + a, size - a));
	}
	if (size >= 2) {
		size_t split = (data[0] % (size / 2 + 1)) * 2; /* even first chunk */
		uint32_t acc = td_csum_add(0, data, split);
		FUZZ_ASSERT(td_csum_finish(td_csum_add(acc, data + split, size - split)) ==
			    ref(data, size));
	}
	return 0;
}
