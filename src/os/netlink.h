/* Our own netlink, the os side: one NETLINK_ROUTE socket and one request/answer exchange (the bytes: src/wire/netlink.h). */
#ifndef TUNDRA_OS_NETLINK_H
#define TUNDRA_OS_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "wire/netlink.h"

/* ---- the socket (os) ------------------------------------------------------------- */

/* A NETLINK_ROUTE socket (close-on-exec), bound with nl_pid 0 so the kernel
 * assigns the port id (read back into *portid), connected to the kernel so
 * no other process can unicast to it, with NETLINK_EXT_ACK (the kernel's
 * error text) and NETLINK_CAP_ACK (errors without the echoed request) when
 * the kernel has them. 0 or -errno; the caller closes *fd. */
int td_nl_open(int *fd, uint32_t *portid);

/* Send the request req[0 .. len) whose seq is seq and wait at most
 * timeout_ms for its answer, skipping anything else; EINTR is retried
 * within the same deadline. Returns the kernel's answer (0 for an ACK, its
 * -errno otherwise; r->msg has its text when it gave one), -ETIMEDOUT when
 * nothing came, -EMSGSIZE for a datagram larger than the receive buffer,
 * -EBADMSG/-EPROTO for a malformed answer, or the socket's -errno. Works
 * on any connected datagram socket (the unit tests use a socketpair). */
int td_nl_talk(int fd, uint32_t portid, const void *req, size_t len, uint32_t seq, int timeout_ms,
	       struct td_nl_reply *r);

#endif
