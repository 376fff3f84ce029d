/* What the static musl build of the tundra binary needs from glibc's ABI. */
#include <limits.h> /* first: with glibc, it defines __GLIBC__ */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tundra/os_misc.h"

#ifndef __GLIBC__

/* Debian's libyaml.a is built with _FORTIFY_SOURCE, so its sprintf calls are
 * glibc's checked variant. Same contract: abort rather than overrun the
 * destination (slen is SIZE_MAX when the compiler did not know its size). */
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	(void)flag;
	va_start(ap, fmt);
	int n = slen > INT_MAX ? vsprintf(s, fmt, ap) : vsnprintf(s, slen, fmt, ap);
	va_end(ap);
	if (n < 0 || (slen <= INT_MAX && (size_t)n >= slen))
		abort();
	return n;
}

/* The binary's strerror and gai_strerror speak glibc's words (the link wraps
 * both: -Wl,--wrap in the Makefile), as iputils and fping do. */
char *__wrap_strerror(int e);
char *__wrap_strerror(int e)
{
	return (char *)td_errno_text(e);
}

const char *__wrap_gai_strerror(int code);
const char *__wrap_gai_strerror(int code)
{
	return td_gai_text(code);
}

/* musl's are 10-30x slower than glibc's on short lengths (src/os/memops.c). */
void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	return td_mem_copy(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
	return td_mem_move(d, s, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	return td_mem_cmp(a, b, n);
}
#else
typedef int td_libc_musl_unused; /* glibc has all of it */
#endif
