/* Small os helpers: the monotonic clock, kernel randomness, stdio, error texts. */
#ifndef TUNDRA_OS_MISC_H
#define TUNDRA_OS_MISC_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (the time base of every sans-I/O core). */
uint64_t td_os_now_ns(void);
/* Fill buf from getrandom(2). 0 or -errno (src/os/icmp_sock.c; also in pinger.h). */
int td_os_random(void *buf, size_t len);

/* Hold each closed standard descriptor (0-2) with /dev/null opened the
 * other way round (stdin write-only, stdout and stderr read-only): no socket
 * can take its number (a `>&-` stdout would be written into the first ICMP
 * socket), and using it still fails with EBADF as on the closed one. */
void td_os_hold_stdio(void);
/* For an output stream that saw an error on fd: EPIPE when the reader went
 * away (a pipe or socket nobody reads), else the errno a write to fd gets
 * now (ENOSPC for /dev/full, EBADF for a closed descriptor); 0 when a write
 * would succeed now (the failure was transient, e.g. a disk since freed). */
int td_os_write_errno(int fd);

/* glibc's text for an errno value ("Unknown error N" for others) and for a
 * getaddrinfo code, whatever the C library (src/os/errtext.c). */
const char *td_errno_text(int e);
const char *td_gai_text(int code);

/* memcpy, memmove and memcmp as fast as glibc's where musl's are slow
 * (src/os/memops.c); the musl-linked binary's own. */
void *td_mem_copy(void *restrict dst, const void *restrict src, size_t n);
void *td_mem_move(void *dst, const void *src, size_t n);
int td_mem_cmp(const void *a, const void *b, size_t n);

struct addrinfo;
/* getaddrinfo(host, NULL, hints, res) with glibc's answers whatever the C
 * library (src/os/resolve.c): with musl, a lookup with no name server
 * reachable fails at once as glibc's does, and a name only an nsswitch.conf
 * module knows is asked of getent(1). *res is one block of ours, no canonical
 * name: free it with td_os_freeaddrinfo, not freeaddrinfo. */
int td_os_getaddrinfo(const char *host, const struct addrinfo *hints, struct addrinfo **res);
void td_os_freeaddrinfo(struct addrinfo *res);

struct td_tcp;
/* An eventfd (nonblocking) that td_tcp signals whenever any socket got new
 * events: put it in your epoll, and on readiness read it and call
 * td_tcp_events() / recv / send on your sockets. Returns the fd or -errno. */
int td_tcp_eventfd_open(struct td_tcp *tcp);
/* Detach and close it. */
void td_tcp_eventfd_close(struct td_tcp *tcp, int fd);

#endif
