/* Small os helper: the monotonic clock (td_os_random lives in icmp_sock.c). */
#include <time.h>

#include "tundra/os_misc.h"

uint64_t td_os_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
