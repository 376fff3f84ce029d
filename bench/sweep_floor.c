/* The kernel's floor for a one-shot sweep: one echo per address over raw ICMP sockets, sendmmsg/recvmmsg, no other work. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tundra/wire.h"

/*
 * usage: sweep_floor LOOPS FIRST_ADDR COUNT [stamps]   (root or CAP_NET_RAW)
 *
 * One ICMP echo request (RFC 792, 56 bytes of data as fping and tundra send)
 * to each of COUNT consecutive IPv4 addresses from FIRST_ADDR, shared out
 * round-robin among LOOPS threads. Each thread does what every sweeping
 * pinger must do at least: sendmmsg in batches of 32 (on loopback the whole
 * round trip, the kernel's echo reply included, runs inside that call), a
 * non-blocking recvmmsg between batches, then poll for the rest, bounded at
 * 1 s after the last send as `tundra ping -W 1`. No MAC, no statistics, no
 * per-target state, no output per reply: the targets/s reached is the most
 * any tool can reach on this kernel with that many loops, and
 * bench/21-ping-sweep.sh prints it beside tundra's and fping's.
 * bench/static.mk also links it statically (build/bench/sweep_floor_static):
 * the same floor without the dynamic loader's share of process start; and,
 * with LIBC=musl, against musl as the tundra binary is (sweep_floor_musl):
 * without glibc's start-up either. Under musl, sendmmsg is the system call
 * itself, as in tundra (musl's own sendmmsg is a loop of sendmsg calls).
 *
 * The socket set-up is tundra's for `ping --alive`: ICMP_FILTER (echo replies
 * only), a large receive buffer, IP_PMTUDISC_PROBE (tundra's atomic small
 * probes), and no kernel timestamps, since a listing prints no RTT; "stamps"
 * adds SO_TIMESTAMPNS (one control message per reply) as tundra takes when it
 * prints RTTs with --tx-stamps off.
 *
 * Several loops: every raw ICMP socket receives a copy of every reply, so each
 * thread has its own identifier whose low 3 bits are its index and a classic
 * BPF filter that accepts only those: each reply is read by one thread, and
 * the others' copies die in the kernel (tundra's --threads pays the same).
 *
 * Prints "COUNT targets, N answered, LOOPS loops, S s" (S from the first send
 * to the last reply or the end of the wait). Exit 0 when every target
 * answered, 1 otherwise, 2 on a usage or socket error.
 */

#define LOOPS_MAX 8    /* identifiers carry the loop index in their low 3 bits */
#define COUNT_MAX (1L << 24)
#define BATCH 32       /* as tundra's pinger */
#define ECHO_LEN 64    /* 8-byte header + 56 bytes of data */
#define REPLY_BUF 192  /* an echo reply with the largest IPv4 header is 124 bytes */
#define CTL_BUF 64     /* one SCM_TIMESTAMPNS */
#define RCVBUF (1 << 20)
#define WAIT_NS 1000000000LL

struct loop {
	int fd;
	int index;
	int nloops;
	int stamps;
	uint16_t ident;
	uint32_t first; /* host order */
	long mine;      /* targets of this loop: index, index + nloops, ... */
	long answered;
	int err;        /* errno of a failed send or receive, 0 if none */
	const char *what;
	uint8_t pkt[BATCH][ECHO_LEN];
	uint8_t reply[BATCH][REPLY_BUF];
	uint8_t ctl[BATCH][CTL_BUF];
	struct sockaddr_in dst[BATCH];
	struct iovec txiov[BATCH], rxiov[BATCH];
	struct mmsghdr tx[BATCH], rx[BATCH];
};

static struct loop loops[LOOPS_MAX];

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int setint(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) ? -errno : 0;
}

/* Opens and configures loop l's socket; on failure says which call failed. */
static int open_socket(struct loop *l, const char **what)
{
	int rc;
	l->fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (l->fd < 0) {
		*what = "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)";
		return -errno;
	}
	/* A raw socket sees every ICMP message, our own requests on loopback
	 * included: only echo replies get through. */
	struct icmp_filter f = {.data = ~(1u << ICMP_ECHOREPLY)};
	if (setsockopt(l->fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f))) {
		*what = "ICMP_FILTER";
		return -errno;
	}
	/* FORCE passes net.core.rmem_max (CAP_NET_ADMIN); the plain option is
	 * what an unprivileged raw socket (CAP_NET_RAW only) can have. */
	if (setint(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF) &&
	    (rc = setint(l->fd, SOL_SOCKET, SO_RCVBUF, RCVBUF))) {
		*what = "SO_RCVBUF";
		return rc;
	}
	if ((rc = setint(l->fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE))) {
		*what = "IP_MTU_DISCOVER";
		return rc;
	}
	if (l->stamps && (rc = setint(l->fd, SOL_SOCKET, SO_TIMESTAMPNS, 1))) {
		*what = "SO_TIMESTAMPNS";
		return rc;
	}
	if (l->nloops > 1) {
		/* X = IPv4 header length; accept when ident & 7 == index. */
		struct sock_filter code[] = {
			BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
			BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),
			BPF_STMT(BPF_ALU | BPF_AND | BPF_K, LOOPS_MAX - 1),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)l->index, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, 0xffff),
			BPF_STMT(BPF_RET | BPF_K, 0),
		};
		struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
		if (setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) {
			*what = "SO_ATTACH_FILTER";
			return -errno;
		}
	}
	return 0;
}

/* Echo request templates and the message vectors, built once: per target
 * only the address, the sequence number and the checksum change. */
static void prepare(struct loop *l)
{
	uint8_t *t = l->pkt[0];
	memset(t, 0, ECHO_LEN);
	t[0] = ICMP_ECHO;
	td_put_be16(t + 4, l->ident);
	for (size_t k = 8; k < ECHO_LEN; k++)
		t[k] = (uint8_t)k;
	td_put_be16(t + 2, td_csum(t, ECHO_LEN));
	for (int i = 0; i < BATCH; i++) {
		if (i)
			memcpy(l->pkt[i], t, ECHO_LEN);
		l->dst[i] = (struct sockaddr_in){.sin_family = AF_INET};
		l->txiov[i] = (struct iovec){.iov_base = l->pkt[i], .iov_len = ECHO_LEN};
		l->tx[i].msg_hdr = (struct msghdr){.msg_name = &l->dst[i],
						   .msg_namelen = sizeof(l->dst[i]),
						   .msg_iov = &l->txiov[i],
						   .msg_iovlen = 1};
		l->rxiov[i] = (struct iovec){.iov_base = l->reply[i], .iov_len = REPLY_BUF};
		l->rx[i].msg_hdr = (struct msghdr){.msg_iov = &l->rxiov[i], .msg_iovlen = 1};
		if (l->stamps)
			l->rx[i].msg_hdr.msg_control = l->ctl[i];
	}
}

/* Reads what is queued (MSG_DONTWAIT); counts echo replies carrying our
 * identifier (without a BPF filter another pinger's replies reach us too).
 * Returns 0, or -errno other than EAGAIN. */
static int drain(struct loop *l)
{
	/* msg_controllen is value-result: the room offered, then the room used. */
	for (int i = 0; l->stamps && i < BATCH; i++)
		l->rx[i].msg_hdr.msg_controllen = CTL_BUF;
	int r = recvmmsg(l->fd, l->rx, BATCH, MSG_DONTWAIT, NULL);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < r; i++) {
		struct td_ipv4_view v;
		if (td_ipv4_check(&v, l->reply[i], l->rx[i].msg_len, TD_WIRE_SKIP_CSUM) != TD_WIRE_OK)
			continue;
		struct td_bytes icmp = td_ipv4_payload(&v);
		if (icmp.len >= 8 && icmp.ptr[0] == ICMP_ECHOREPLY && td_get_be16(icmp.ptr + 4) == l->ident)
			l->answered++;
	}
	return 0;
}

static void *run(void *arg)
{
	struct loop *l = arg;
	const uint16_t csum0 = td_get_be16(l->pkt[0] + 2);
	long target = l->index, sent = 0;
	int rc;
	while (sent < l->mine) {
		unsigned k = 0;
		for (; k < BATCH && sent < l->mine; k++, sent++, target += l->nloops) {
			/* The sequence number was 0 in the template (RFC 1624 update). */
			uint16_t seq = (uint16_t)target;
			td_put_be16(l->pkt[k] + 6, seq);
			td_put_be16(l->pkt[k] + 2, td_csum_update16(csum0, 0, seq));
			l->dst[k].sin_addr.s_addr = htonl(l->first + (uint32_t)target);
		}
		for (unsigned done = 0; done < k;) {
			#ifdef __GLIBC__
			int r = sendmmsg(l->fd, l->tx + done, k - done, 0);
#else
			int r = (int)syscall(SYS_sendmmsg, l->fd, l->tx + done, k - done, 0);
#endif
			if (r < 0 && errno != EINTR) {
				l->err = errno;
				l->what = "sendmmsg";
				return NULL;
			}
			if (r > 0)
				done += (unsigned)r;
		}
		if ((rc = drain(l))) {
			l->err = -rc;
			l->what = "recvmmsg";
			return NULL;
		}
	}
	const int64_t deadline = mono_ns() + WAIT_NS;
	while (l->answered < l->mine) {
		int64_t left = deadline - mono_ns();
		if (left <= 0)
			break;
		struct pollfd pf = {.fd = l->fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)((left + 999999) / 1000000));
		if (r < 0 && errno != EINTR) {
			l->err = errno;
			l->what = "poll";
			return NULL;
		}
		if (r > 0 && (rc = drain(l))) {
			l->err = -rc;
			l->what = "recvmmsg";
			return NULL;
		}
	}
	return NULL;
}

static int usage(const char *why)
{
	fprintf(stderr,
		"sweep_floor: %s\n"
		"usage: sweep_floor LOOPS FIRST_ADDR COUNT [stamps]\n"
		"  LOOPS 1..%d threads, each with its own raw ICMP socket (root or CAP_NET_RAW)\n"
		"  one echo to each of COUNT (1..%ld) consecutive IPv4 addresses from FIRST_ADDR\n"
		"  stamps: take SO_TIMESTAMPNS receive stamps (default: none, as tundra ping --alive)\n",
		why, LOOPS_MAX, COUNT_MAX);
	return 2;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	long nloops, count;
	struct in_addr a;
	int stamps = 0;
	if (argc < 4 || argc > 5)
		return usage("wrong number of arguments");
	if (parse_long(argv[1], 1, LOOPS_MAX, &nloops))
		return usage("LOOPS must be an integer from 1 to 8");
	if (inet_pton(AF_INET, argv[2], &a) != 1)
		return usage("FIRST_ADDR must be a numeric IPv4 address");
	if (parse_long(argv[3], 1, COUNT_MAX, &count))
		return usage("COUNT out of range");
	if (argc == 5) {
		if (strcmp(argv[4], "stamps") != 0)
			return usage("the 4th argument can only be \"stamps\"");
		stamps = 1;
	}
	const uint32_t first = ntohl(a.s_addr);
	if ((uint64_t)first + (uint64_t)count - 1 > UINT32_MAX)
		return usage("FIRST_ADDR + COUNT runs past 255.255.255.255");

	/* Every socket is open before the first send: a set-up error is
	 * reported before any traffic, and the clock runs over the sweep only. */
	int rc = 0, opened = 0;
	const char *what = "";
	const uint16_t base = (uint16_t)((unsigned)getpid() << 3);
	for (int i = 0; i < nloops; i++) {
		struct loop *l = &loops[i];
		l->index = i;
		l->nloops = (int)nloops;
		l->stamps = stamps;
		l->ident = (uint16_t)(base | (unsigned)i);
		l->first = first;
		l->mine = count > i ? (count - i + nloops - 1) / nloops : 0;
		rc = open_socket(l, &what);
		if (l->fd >= 0)
			opened++;
		if (rc)
			break;
		prepare(l);
	}
	if (rc) {
		fprintf(stderr, "sweep_floor: %s: %s%s\n", what, strerror(-rc),
			rc == -EPERM ? " (a raw socket needs root or CAP_NET_RAW)" : "");
		goto close_sockets;
	}

	pthread_t th[LOOPS_MAX];
	int started = 1;
	int64_t t0 = mono_ns();
	for (; started < nloops; started++) {
		int e = pthread_create(&th[started], NULL, run, &loops[started]);
		if (e) {
			rc = -e;
			what = "pthread_create";
			break;
		}
	}
	run(&loops[0]);
	for (int i = 1; i < started; i++)
		pthread_join(th[i], NULL);
	double s = (double)(mono_ns() - t0) / 1e9;
	if (rc) {
		fprintf(stderr, "sweep_floor: %s: %s\n", what, strerror(-rc));
		goto close_sockets;
	}

	long answered = 0;
	for (int i = 0; i < nloops; i++) {
		answered += loops[i].answered;
		if (loops[i].err && !rc) {
			rc = -loops[i].err;
			fprintf(stderr, "sweep_floor: loop %d: %s: %s\n", i, loops[i].what,
				strerror(loops[i].err));
		}
	}
	printf("%ld targets, %ld answered, %ld loop%s, %.5f s\n", count, answered, nloops,
	       nloops > 1 ? "s" : "", s);
	if (!rc)
		rc = answered >= count ? 0 : 1;

close_sockets:
	for (int i = 0; i < opened; i++)
		close(loops[i].fd);
	return rc < 0 ? 2 : rc;
}
