/* Small os helpers: the monotonic clock and kernel randomness. */
#ifndef TUNDRA_OS_MISC_H
#define TUNDRA_OS_MISC_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (the time base of every sans-I/O core). */
uint64_t td_os_now_ns(void);
/* Fill buf from getrandom(2). 0 or -errno (src/os/icmp_sock.c; also in pinger.h). */
int td_os_random(void *buf, size_t len);

#endif
