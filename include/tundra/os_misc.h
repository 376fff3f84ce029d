/* Small os helpers: the monotonic clock and kernel randomness. */
#ifndef TUNDRA_OS_MISC_H
#define TUNDRA_OS_MISC_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (the time base of every sans-I/O core). */
uint64_t td_os_now_ns(void);
/* Fill buf from getrandom(2). 0 or -errno (src/os/icmp_sock.c; also in pinger.h). */
int td_os_random(void *buf, size_t len);

struct td_tcp;
/* An eventfd (nonblocking) that td_tcp signals whenever any socket got new
 * events: put it in your epoll, and on readiness read it and call
 * td_tcp_events() / recv / send on your sockets. Returns the fd or -errno. */
int td_tcp_eventfd_open(struct td_tcp *tcp);
/* Detach and close it. */
void td_tcp_eventfd_close(struct td_tcp *tcp, int fd);

#endif
