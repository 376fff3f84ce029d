/* Netlink without libmnl, the os side: the socket and one timed request/answer exchange. */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/netlink.h"
#include "tundra/os_misc.h"

#define RX_BUF 8192 /* an ACK with our echoed request and the kernel's text fits many times */

/* ---- the socket ----------------------------------------------------------------- */

int td_nl_open(int *fd, uint32_t *portid)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	/* Both options are extras (Linux 4.3 and 4.12): an older kernel refuses
	 * them and we get the same answers without the text. */
	int one = 1;
	(void)setsockopt(s, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK}; /* nl_pid 0: the kernel picks ours */
	socklen_t sl = sizeof(sa);
	int err = 0;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) < 0)
		err = -errno;
	else if (sl != sizeof(sa) || sa.nl_family != AF_NETLINK)
		err = -EPROTO;
	if (!err) {
		*portid = sa.nl_pid;
		/* Connected to the kernel (port 0): a unicast from another
		 * process is refused by the kernel rather than queued to us. */
		struct sockaddr_nl k = {.nl_family = AF_NETLINK};
		if (connect(s, (struct sockaddr *)&k, sizeof(k)) < 0)
			err = -errno;
	}
	if (err) {
		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

/* Wait for the socket to be readable until deadline (monotonic ns); a
 * signal only costs a recomputed poll. 1, or -ETIMEDOUT, or -errno. */
static int wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = td_os_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* round up: a 0 ms poll would spin through the last millisecond */
		uint64_t ms = (deadline - now + 999999) / 1000000;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, ms > INT32_MAX ? INT32_MAX : (int)ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int td_nl_talk(int fd, uint32_t portid, const void *req, size_t len, uint32_t seq, int timeout_ms,
	       struct td_nl_reply *r)
{
	/* 4-aligned: the kernel's messages are laid out for it (we read by memcpy anyway) */
	_Alignas(struct nlmsghdr) uint8_t buf[RX_BUF];
	uint64_t deadline = td_os_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	*r = (struct td_nl_reply){0};
	ssize_t n;
	do
		n = send(fd, req, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE; /* a datagram socket sends all or nothing */
	for (;;) {
		int w = wait_readable(fd, deadline);
		if (w < 0)
			return w;
		/* MSG_TRUNC: the datagram's real length, to tell a cut one apart */
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if ((size_t)n > sizeof(buf))
			return -EMSGSIZE;
		if (n == 0)
			return -EBADMSG; /* no netlink message is empty (and a closed peer reads as one) */
		int p = td_nl_reply_parse(buf, (size_t)n, seq, portid, r);
		if (p < 0)
			return p;
		if (p > 0)
			return r->error;
	}
}
