/* Internet checksum (RFC 1071): wide accumulation, RFC 1624 incremental update, pseudo headers. */
#include <tundra/wire.h>

/*
 * Why this is fast: the one's-complement sum is independent of byte order
 * (RFC 1071 §2(B)) and associative, so we may add native-order 64-bit words
 * with end-around carry, four independent lanes per 32-byte step, and fold to
 * 16 bits once at the end. memcpy() makes each load alignment-agnostic; the
 * compiler turns it into a plain unaligned load on x86-64 and arm64.
 */

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Add with end-around carry: a one's-complement 64-bit add. */
static inline uint64_t add_oc64(uint64_t s, uint64_t v)
{
	s += v;
	return s + (s < v);
}

static inline uint64_t ror64(uint64_t x, unsigned k)
{
	return x >> k | x << (64 - k);
}

static inline uint32_t ror32(uint32_t x, unsigned k)
{
	return x >> k | x << (32 - k);
}

/* x + ror(x, half) puts the end-around-carry sum of the two halves in the
 * upper half (the trick of Linux's csum_fold): two folds take 64 bits to 16
 * in six instructions instead of a chain of masks and shifts. */
static inline uint32_t fold64to32(uint64_t x)
{
	return (uint32_t)((x + ror64(x, 32)) >> 32);
}

static inline uint16_t fold32to16(uint32_t x)
{
	return (uint16_t)((x + ror32(x, 16)) >> 16);
}

static inline uint16_t fold64(uint64_t s)
{
	return fold32to16(fold64to32(s));
}

/* Native-order one's-complement sum of len bytes, folded to 16 bits and put
 * in network order. An odd trailing byte is the first (high, in network
 * order) byte of a 16-bit word. */
static inline __attribute__((always_inline)) uint16_t sum_be16(const uint8_t *p, size_t len)
{
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, t = 0;

	/* Four independent lanes keep the adds from waiting on each other's carry. */
	while (len >= 32) {
		s0 = add_oc64(s0, load64(p));
		s1 = add_oc64(s1, load64(p + 8));
		s2 = add_oc64(s2, load64(p + 16));
		s3 = add_oc64(s3, load64(p + 24));
		p += 32;
		len -= 32;
	}
	if (len >= 16) {
		s0 = add_oc64(s0, load64(p));
		s1 = add_oc64(s1, load64(p + 8));
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		s2 = add_oc64(s2, load64(p));
		p += 8;
		len -= 8;
	}
	if (len) {
		if (len >= 4) {
			uint32_t w;
			memcpy(&w, p, 4);
			t = w;
			p += 4;
			len -= 4;
		}
		if (len >= 2) {
			uint16_t w;
			memcpy(&w, p, 2);
			t += w;
			p += 2;
			len -= 2;
		}
		if (len) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			t += p[0];
#else
			t += (uint64_t)p[0] << 8;
#endif
		}
	}
	/* Merge the lanes with end-around carry (add + adc each), then fold once. */
	s0 = add_oc64(s0, s1);
	s2 = add_oc64(s2, s3);
	s0 = add_oc64(s0, t);
	uint16_t n = fold64(add_oc64(s0, s2));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Swapping the bytes of the folded native sum gives the network-order sum. */
	n = __builtin_bswap16(n);
#endif
	return n;
}

uint32_t td_csum_add(uint32_t acc, const void *data, size_t len)
{
	return fold64((uint64_t)acc + sum_be16(data, len));
}

uint16_t td_csum_finish(uint32_t acc)
{
	return (uint16_t)~fold64(acc);
}

uint16_t td_csum(const void *data, size_t len)
{
	return (uint16_t)~sum_be16(data, len);
}

uint32_t td_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	/* RFC 9293 §3.1: src, dst, zero, PTCL, TCP length. */
	uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) +
		     proto + len;
	return fold64(s);
}

uint32_t td_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
			 uint32_t len)
{
	/* RFC 8200 §8.1: src, dst, 32-bit upper-layer length, 3 zero bytes, next header. */
	uint64_t s = 0;
	for (int i = 0; i < 16; i += 2)
		s += (uint32_t)td_get_be16(src + i) + td_get_be16(dst + i);
	s += (len >> 16) + (len & 0xffffu) + next_header;
	return fold64(s);
}

uint16_t td_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields
	 * 0x0000 from a non-zero sum's negative zero. */
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_val + new_val;
	return (uint16_t)~fold64(s);
}

uint16_t td_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~(old_val >> 16) +
		     (uint16_t)~(old_val & 0xffffu) + (new_val >> 16) + (new_val & 0xffffu);
	return (uint16_t)~fold64(s);
}
