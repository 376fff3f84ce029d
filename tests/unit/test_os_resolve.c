/* td_os_getaddrinfo: the C library's answer in one block of ours (this test
 * runs on glibc; the musl-only paths are integration-tested on the binary). */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "tundra/os_misc.h"

static void test_literals_come_back_in_our_block(void **state)
{
	(void)state;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_protocol = IPPROTO_UDP}, *res = NULL;
	assert_int_equal(td_os_getaddrinfo("192.0.2.7", &hints, &res), 0);
	assert_non_null(res);
	assert_int_equal(res->ai_family, AF_INET);
	assert_int_equal(res->ai_socktype, SOCK_DGRAM);
	assert_int_equal(res->ai_addrlen, sizeof(struct sockaddr_in));
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)res->ai_addr;
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0xc0000207);
	assert_null(res->ai_next);
	assert_null(res->ai_canonname);
	td_os_freeaddrinfo(res);

	hints.ai_family = AF_INET6;
	res = NULL;
	assert_int_equal(td_os_getaddrinfo("2001:db8::5", &hints, &res), 0);
	assert_int_equal(res->ai_family, AF_INET6);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)res->ai_addr;
	assert_int_equal(s6->sin6_addr.s6_addr[15], 5);
	td_os_freeaddrinfo(res);
}

static void test_errors_are_the_libraries(void **state)
{
	(void)state;
	struct addrinfo hints = {.ai_family = AF_INET6, .ai_flags = AI_NUMERICHOST}, *res = NULL;
	assert_int_equal(td_os_getaddrinfo("192.0.2.7", &hints, &res),
			 getaddrinfo("192.0.2.7", NULL, &hints, &res));
	hints.ai_family = AF_UNSPEC;
	assert_int_equal(td_os_getaddrinfo("not an address", &hints, &res), EAI_NONAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_come_back_in_our_block),
		cmocka_unit_test(test_errors_are_the_libraries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
