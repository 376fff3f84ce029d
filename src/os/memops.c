/* memcpy, memmove and memcmp for the musl-linked binary.
 *
 * musl's x86_64 memcpy is a byte loop around `rep movsq`, 30-40 ns for any
 * copy under a few hundred bytes on the machines we measure on (glibc: 2 ns),
 * its memmove copies backwards with `std; rep movsq` (60 ns for 7 bytes), and
 * its memcmp goes byte by byte (400 ns for 1448 bytes). The exporter's
 * exposition, made of many short appends, took 4x longer with it. These are
 * what glibc does in spirit: overlapping unaligned loads and stores for short
 * lengths, 16-byte vector moves up to 512 bytes, `rep movsb` above (fast
 * string operations), words for comparing. src/cli/libc_musl.c makes them the
 * binary's memcpy, memmove and memcmp; the unit tests check them on glibc. */
#include <stddef.h>
#include <stdint.h>

#include "tundra/os_misc.h"

typedef unsigned char v16 __attribute__((vector_size(16)));

/* The compiler must not turn these loops back into calls to the functions
 * they implement. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBCALL /* the musl binary is built with gcc */
#endif

/* n <= 16, any overlap: every load before any store. */
NO_LIBCALL static inline void move_short(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 8) {
		uint64_t a, b;
		__builtin_memcpy(&a, s, 8);
		__builtin_memcpy(&b, s + n - 8, 8);
		__builtin_memcpy(d, &a, 8);
		__builtin_memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;
		__builtin_memcpy(&a, s, 4);
		__builtin_memcpy(&b, s + n - 4, 4);
		__builtin_memcpy(d, &a, 4);
		__builtin_memcpy(d + n - 4, &b, 4);
	} else if (n) {
		unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
		d[0] = a;
		d[n / 2] = b;
		d[n - 1] = c;
	}
}

/* Forward: right for no overlap and for d below s. */
NO_LIBCALL static void copy_fwd(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n <= 16) {
		move_short(d, s, n);
	} else if (n <= 512) {
		v16 last, x;
		__builtin_memcpy(&last, s + n - 16, 16);
		for (size_t i = 0; i + 16 < n; i += 16) {
			__builtin_memcpy(&x, s + i, 16);
			__builtin_memcpy(d + i, &x, 16);
		}
		__builtin_memcpy(d + n - 16, &last, 16);
	} else {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	}
}

NO_LIBCALL void *td_mem_copy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_fwd(dst, src, n);
	return dst;
}

NO_LIBCALL void *td_mem_move(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((uintptr_t)d - (uintptr_t)s >= n) { /* d below s, or no overlap */
		copy_fwd(d, s, n);
	} else if (n <= 16) {
		move_short(d, s, n);
	} else {
		/* d above s, overlapping: 16-byte blocks from the end down, the
		 * first block saved before any store can reach it */
		v16 head, x;
		__builtin_memcpy(&head, s, 16);
		for (size_t i = n; i > 16; i -= 16) {
			__builtin_memcpy(&x, s + i - 16, 16);
			__builtin_memcpy(d + i - 16, &x, 16);
		}
		__builtin_memcpy(d, &head, 16);
	}
	return dst;
}

NO_LIBCALL int td_mem_cmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		__builtin_memcpy(&x, p + i, 8);
		__builtin_memcpy(&y, q + i, 8);
		if (x != y) {
			x = __builtin_bswap64(x); /* the first byte most significant */
			y = __builtin_bswap64(y);
			return x < y ? -1 : 1;
		}
	}
	for (; i < n; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return 0;
}
