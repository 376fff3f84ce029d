/* An eventfd that becomes readable whenever a TCP socket has new events (for an application's epoll). */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tundra/os_misc.h"
#include "tundra/tcp.h"

static void wake(void *ctx)
{
	uint64_t one = 1;
	/* a full counter (2^64 - 2 wakeups unread) only means "readable" anyway */
	if (write((int)(intptr_t)ctx, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

int td_tcp_eventfd_open(struct td_tcp *tcp)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* the fd travels as the hook context; no allocation to free */
	td_tcp_set_wakeup(tcp, wake, (void *)(intptr_t)fd); // NOLINT(performance-no-int-to-ptr)
	return fd;
}

void td_tcp_eventfd_close(struct td_tcp *tcp, int fd)
{
	td_tcp_set_wakeup(tcp, NULL, NULL);
	if (fd >= 0)
		close(fd);
}
