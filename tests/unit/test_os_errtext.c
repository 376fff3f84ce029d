/* tundra's error texts are glibc's, whatever C library links the binary: every
 * entry against glibc's own strerror and gai_strerror (this test runs on glibc). */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "tundra/os_misc.h"

static void test_errno_texts_are_glibcs(void **state)
{
	(void)state;
	for (int e = -2; e <= 140; e++)
		assert_string_equal(td_errno_text(e), strerror(e));
	assert_string_equal(td_errno_text(100000), strerror(100000));
	/* the texts users see most, spelled out */
	assert_string_equal(td_errno_text(ENETUNREACH), "Network is unreachable");
	assert_string_equal(td_errno_text(EADDRNOTAVAIL), "Cannot assign requested address");
	assert_string_equal(td_errno_text(EHOSTUNREACH), "No route to host");
}

static void test_gai_texts_are_glibcs(void **state)
{
	(void)state;
	static const int codes[] = {EAI_BADFLAGS, EAI_NONAME,    EAI_AGAIN,  EAI_FAIL,
				    EAI_FAMILY,   EAI_SOCKTYPE,  EAI_SERVICE, EAI_MEMORY,
				    EAI_SYSTEM,   EAI_OVERFLOW,  EAI_NODATA, EAI_ADDRFAMILY,
				    0,            -1000};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_string_equal(td_gai_text(codes[i]), gai_strerror(codes[i]));
	assert_string_equal(td_gai_text(EAI_NONAME), "Name or service not known");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_texts_are_glibcs),
		cmocka_unit_test(test_gai_texts_are_glibcs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
