/* The stack's event loop: epoll over the TUN fd and a signalfd, sleeping until the core's next deadline. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tundra/stack_os.h"

#ifndef __GLIBC__
/* musl 1.2.3 has no wrapper for it (Linux 5.11): the system call itself. */
static int epoll_pwait2(int ep, struct epoll_event *evs, int n, const struct timespec *ts,
			const sigset_t *mask)
{
	return (int)syscall(SYS_epoll_pwait2, ep, evs, n, ts, mask, (long)(_NSIG / 8));
}
#endif

#define RX_BUF (65536 + 16) /* a 64 KB GSO super-packet and its virtio-net header */
/* After a wakeup that found one packet, this many wakeups read one packet
 * and go back to epoll; the next reads to EAGAIN again (a probe for bulk). */
#define LONE_RUN 16

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct loop {
	struct td_stack_run *r;
	uint64_t real_off; /* realtime - monotonic, read once: pcap stamps without a second clock read */
	bool want_out;     /* the TUN refused a write (EAGAIN): wait for EPOLLOUT */
	unsigned lone;     /* wakeups left that read a single packet (see LONE_RUN) */
	pid_t child;
};

/* Write what is due. Returns true when everything due was written. */
static bool flush(struct loop *L, uint64_t now)
{
	struct td_stack_run *r = L->r;
	const uint8_t *p;
	size_t len;
	for (;;) {
		/* With the header: the stack wrote it in front of the packet
		 * (zero - GSO_NONE - for a plain packet, or the partial
		 * checksum / GSO fields of a super-segment TCP built). */
		size_t hs = r->vnet_hdr_len;
		if (!(p = hs ? td_stack_output_peek_vnet(r->st, now, hs, &len)
			     : td_stack_output_peek(r->st, now, &len)))
			break;
		ssize_t n = write(r->tun_fd, p, len);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n < 0) {
			/* e.g. EIO while the link is down, EINVAL for a packet the
			 * kernel rejects: counted and dropped, never retried forever */
			r->tun_write_errors++;
		} else {
			r->tun_writes++;
			if (r->pcap)
				td_pcapfile_write(r->pcap, now + L->real_off, p + hs, len - hs);
		}
		td_stack_output_pop(r->st);
	}
	return true;
}

/* Read up to max packets; returns how many. What a packet makes the stack
 * send is written before the next read: a TUN write cannot be batched, and
 * the read that finally says EAGAIN must not sit on the reply's path. */
static unsigned read_batch(struct loop *L, uint8_t *buf, uint64_t now, unsigned max)
{
	struct td_stack_run *r = L->r;
	unsigned k = 0;
	while (k < max) {
		ssize_t n = read(r->tun_fd, buf, RX_BUF);
		if (n <= 0) {
			r->tun_reads_empty++;
			break;
		}
		k++;
		r->tun_reads++;
		size_t hs = r->vnet_hdr_len;
		if (r->pcap && (size_t)n > hs)
			td_pcapfile_write(r->pcap, now + L->real_off, buf + hs, (size_t)n - hs);
		if (hs)
			td_stack_input_vnet(r->st, now, buf, (size_t)n, hs);
		else
			td_stack_input(r->st, now, buf, (size_t)n);
		if (!L->want_out)
			flush(L, now);
	}
	return k;
}

/*
 * One packet per wakeup (ping, request/response) is the latency path: there
 * the read after the packet only says EAGAIN, one syscall per packet that
 * the level-triggered epoll answers anyway - and when this thread shares a
 * CPU with the peer, the peer runs its reply only once we sleep. So after a
 * wakeup that found a single packet, the next LONE_RUN wakeups read one
 * packet each and return to epoll_wait (which returns at once if more are
 * queued); then one wakeup reads to EAGAIN again and finds out whether
 * packets now come in runs (bulk), which restores full batches.
 */
static void read_ready(struct loop *L, uint8_t *buf, uint64_t now)
{
	if (L->lone) {
		L->lone--;
		read_batch(L, buf, now, 1);
		return;
	}
	if (read_batch(L, buf, now, L->r->batch) <= 1)
		L->lone = LONE_RUN;
}

static int spawn(struct loop *L, const sigset_t *old)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		execvp(L->r->command[0], L->r->command);
		_exit(127);
	}
	L->child = pid;
	return 0;
}

static int status_code(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 1;
}

int td_stack_run(struct td_stack_run *r)
{
	struct loop L = {.r = r, .child = -1};
	sigset_t mask, old;
	int err = 0, ep = -1, sfd = -1;
	uint8_t *buf = malloc(RX_BUF);
	if (!buf)
		return -ENOMEM;
	if (!r->batch)
		r->batch = 64;
	/* TUN_F_CSUM/TSO4/TSO6 are the stack's TD_STACK_TX_* bits: TCP then
	 * builds GSO super-packets itself and leaves checksums partial */
	if (r->vnet_hdr_len && td_stack_set_tx_offload(r->st, r->offloads & 0x07u)) {
		free(buf);
		return -ENOMEM;
	}
	r->exit_status = 0;
	r->stop_signal = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0) {
		err = -errno;
		goto out_free;
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		err = -errno;
		goto out;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, r->tun_fd, &ev) < 0) {
		err = -errno;
		goto out;
	}
	ev.data.u32 = 1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0) {
		err = -errno;
		goto out;
	}
	L.real_off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	if (r->on_ready)
		r->on_ready(r->user);
	if (r->command) {
		err = spawn(&L, &old);
		if (err)
			goto out;
	}

	bool stop = false;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	while (!stop) {
		uint64_t dl = td_stack_next_deadline(r->st);
		if (dl <= now)
			td_stack_poll(r->st, now);
		bool drained = flush(&L, now);
		if (drained != !L.want_out) {
			L.want_out = !drained;
			ev.events = EPOLLIN | (L.want_out ? EPOLLOUT : 0);
			ev.data.u32 = 0;
			epoll_ctl(ep, EPOLL_CTL_MOD, r->tun_fd, &ev);
		}
		dl = td_stack_next_deadline(r->st);

		/* Busy poll: spin on the nonblocking TUN before paying for a
		 * sleep and a wakeup (the vCPU wake-up is most of the RTT). */
		if (r->busy_poll_us) {
			uint64_t until = now + (uint64_t)r->busy_poll_us * 1000u;
			if (dl < until)
				until = dl;
			unsigned got = 0;
			uint64_t t = now;
			while (t < until && !(got = read_batch(&L, buf, t, r->batch)))
				t = clock_ns(CLOCK_MONOTONIC);
			if (got) {
				now = t;
				continue;
			}
			now = t;
		}

		struct epoll_event evs[4];
		struct timespec ts, *tsp = NULL;
		if (dl != UINT64_MAX) {
			uint64_t wait = dl > now ? dl - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tsp = &ts;
		}
		int n = epoll_pwait2(ep, evs, 4, tsp, NULL);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		r->wakeups++;
		now = clock_ns(CLOCK_MONOTONIC);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 0) {
				if (evs[i].events & EPOLLIN)
					read_ready(&L, buf, now);
				continue;
			}
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGUSR1) {
					if (r->on_stats)
						r->on_stats(r->st, false, r->user);
				} else if (si.ssi_signo == SIGCHLD) {
					int ws;
					if (L.child > 0 && waitpid(L.child, &ws, WNOHANG) == L.child) {
						r->exit_status = status_code(ws);
						L.child = -1;
						stop = true;
					}
				} else {
					r->stop_signal = (int)si.ssi_signo;
					stop = true;
				}
			}
		}
	}
	flush(&L, clock_ns(CLOCK_MONOTONIC));
out:
	if (L.child > 0) {
		int ws;
		kill(L.child, SIGTERM);
		if (waitpid(L.child, &ws, 0) == L.child)
			r->exit_status = status_code(ws);
	}
	if (r->on_stats && !err)
		r->on_stats(r->st, true, r->user);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
out_free:
	free(buf);
	return err;
}
