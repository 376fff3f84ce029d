/* The ping event loop: ppoll, batched sendmmsg/recvmmsg, error queue (ICMP errors, TX stamps). */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#include "tundra/pinger.h"
#include "tundra/wire.h"

/* Engine calls of loops sharing one engine (--threads) run under its lock. */
static void lock(const struct td_pinger *pg)
{
	if (pg->lock)
		pthread_mutex_lock(pg->lock);
}

static void unlock(const struct td_pinger *pg)
{
	if (pg->lock)
		pthread_mutex_unlock(pg->lock);
}

#ifndef BATCH
#define BATCH 32 /* 64 measured no faster; 32 touches half the buffer pages */
#endif
/* A packet buffer holds a reply to our probe with the largest IPv4 header
 * (probe + 60), an ICMP error quoting a whole probe (probe + 60 + 8 + 60 on
 * raw IPv4, probe + 8 + 40 on IPv6), and at least any IPv4 ICMP error (576
 * bytes, RFC 1812 §4.3.2.3, plus our raw header). Anything longer can only
 * be foreign: it arrives truncated (MSG_TRUNC) and is dropped, counted.
 * Smaller than a fixed 2 KiB: 64 receive and 64 send buffers of small
 * probes fit in ~80 KiB instead of 256 KiB (peak RSS of one-shot sweeps). */
#define PKT_MIN 640
#define PKT_SLACK 128
#ifndef CMSG_SPACE_ALL
#define CMSG_SPACE_ALL 256 /* the largest set: TIMESTAMPING (64) + TTL + TOS (24 each) or RECVERR (64) */
#endif

/* Receive buffers: static to the loop, sized once (no allocation per packet). */
struct rxbuf {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage name[BATCH];
	uint8_t ctl[BATCH][CMSG_SPACE_ALL];
};

struct txbuf {
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage name[BATCH];
	struct td_probe_tx tx[BATCH];
	unsigned n;
};

/* Per loop: several loops may run in threads of one process (the exporter). */
struct td_pinger_bufs {
	struct rxbuf rx;
	struct txbuf tx[2];
	unsigned rx_dirty;
	uint64_t rx_now;  /* monotonic clock read after the last receive call */
	size_t stride;    /* bytes per packet buffer: the probe size plus headers */
	uint8_t *rxdata;  /* BATCH * stride */
	uint8_t *txdata;  /* 2 * BATCH * stride */
};

#define RXDATA(bf, i) ((bf)->rxdata + (size_t)(i) * (bf)->stride)
#define TXDATA(bf, fi, i) ((bf)->txdata + ((size_t)(fi) * BATCH + (i)) * (bf)->stride)

int td_pinger_init(struct td_pinger *pg, struct td_probe *p, struct td_icmp_sock *s4,
		   struct td_icmp_sock *s6)
{
	memset(pg, 0, sizeof(*pg));
	pg->probe = p;
	pg->sock[0] = s4;
	pg->sock[1] = s6;
	pg->wakefd = -1;
	pg->bufs = calloc(1, sizeof(*pg->bufs));
	if (!pg->bufs)
		return -ENOMEM;
	struct td_pinger_bufs *bf = pg->bufs;
	bf->rx_dirty = BATCH;
	bf->stride = (td_probe_packet_len(p) + PKT_SLACK + 63) & ~(size_t)63;
	if (bf->stride < PKT_MIN)
		bf->stride = PKT_MIN;
	bf->rxdata = malloc(BATCH * bf->stride);
	bf->txdata = malloc(2 * BATCH * bf->stride);
	if (!bf->rxdata || !bf->txdata) {
		td_pinger_fini(pg);
		return -ENOMEM;
	}
	/* At most two descriptors: ppoll, not epoll. An epoll registration would
	 * run its wake-up callback for every reply and every TX stamp even while
	 * we are not waiting; ppoll registers only for the time it sleeps. */
	pg->epfd = -1;
	return 0;
}

void td_pinger_fini(struct td_pinger *pg)
{
	if (pg->bufs) {
		free(pg->bufs->rxdata);
		free(pg->bufs->txdata);
	}
	free(pg->bufs);
	pg->bufs = NULL;
	pg->epfd = -1;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ULL + (uint64_t)t->tv_nsec;
}

static void addr_from(struct td_probe_addr *a, const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		a->family = TD_PROBE_V6;
		memcpy(a->a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		/* the arrival interface of a link-local source: part of its identity */
		a->scope = ((const struct sockaddr_in6 *)ss)->sin6_scope_id;
	} else if (ss->ss_family == AF_INET) {
		a->family = TD_PROBE_V4;
		memcpy(a->a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static socklen_t addr_to(struct sockaddr_storage *ss, const struct td_probe_addr *a)
{
	memset(ss, 0, sizeof(struct sockaddr_in6));
	if (a->family == TD_PROBE_V6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a->a, 16);
		/* each probe names its link (fping's way): no SO_BINDTODEVICE needed */
		s->sin6_scope_id = a->scope;
		return sizeof(*s);
	}
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	s->sin_family = AF_INET;
	memcpy(&s->sin_addr, a->a, 4);
	return sizeof(*s);
}

int td_icmp_route_source(const struct td_probe_addr *dst, const char *ifname,
			 struct td_probe_addr *src)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to(&ss, dst);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
	if (fd < 0)
		return -errno;
	/* the port only makes connect(2) choose a route; nothing is sent */
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(1025);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons(1025);
	if ((ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
				  (socklen_t)strlen(ifname) + 1)) ||
	    connect(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&ss, &(socklen_t){sizeof(ss)}))
		rc = -errno;
	else
		addr_from(src, &ss);
	close(fd);
	return rc;
}

/* Control messages of one received message: stamps, TTL, TOS, extended errors. */
struct cmsg_info {
	uint64_t stamp;
	int ttl, tos;
	const struct sock_extended_err *ee;
};

static void parse_cmsgs(struct msghdr *mh, struct cmsg_info *ci)
{
	ci->stamp = 0;
	ci->ttl = ci->tos = -1;
	ci->ee = NULL;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET) {
			if (c->cmsg_type == SO_TIMESTAMPING) {
				struct timespec t[3];
				memcpy(t, CMSG_DATA(c), sizeof(t));
				ci->stamp = ts_ns(&t[0]);
			} else if (c->cmsg_type == SO_TIMESTAMPNS) {
				struct timespec t;
				memcpy(&t, CMSG_DATA(c), sizeof(t));
				ci->stamp = ts_ns(&t);
			}
		} else if (c->cmsg_level == IPPROTO_IP) {
			if (c->cmsg_type == IP_TTL) {
				int v;
				memcpy(&v, CMSG_DATA(c), sizeof(v));
				ci->ttl = v;
			} else if (c->cmsg_type == IP_TOS) {
				ci->tos = *(const uint8_t *)CMSG_DATA(c);
			} else if (c->cmsg_type == IP_RECVERR) {
				ci->ee = (const struct sock_extended_err *)CMSG_DATA(c);
			}
		} else if (c->cmsg_level == IPPROTO_IPV6) {
			int v;
			if (c->cmsg_type == IPV6_HOPLIMIT) {
				memcpy(&v, CMSG_DATA(c), sizeof(v));
				ci->ttl = v;
			} else if (c->cmsg_type == IPV6_TCLASS) {
				memcpy(&v, CMSG_DATA(c), sizeof(v));
				ci->tos = v;
			} else if (c->cmsg_type == IPV6_RECVERR) {
				ci->ee = (const struct sock_extended_err *)CMSG_DATA(c);
			}
		}
	}
}

/* One system call per batch. musl (the libc of the static tundra binary)
 * implements sendmmsg on 64-bit targets as a loop of sendmsg calls, since its
 * struct msghdr pads msg_iovlen and msg_controllen to the kernel's size_t
 * with separate fields; every header here is zeroed first, pads included, so
 * the kernel reads it right, and the system call itself keeps the batch. */
static int send_batch(int fd, struct mmsghdr *m, unsigned n)
{
#ifdef __GLIBC__
	return sendmmsg(fd, m, n, 0);
#else
	return (int)syscall(SYS_sendmmsg, fd, m, n, 0);
#endif
}

/* recvmmsg rewrites only the length fields of the messages it filled: reset
 * those (all of them once, then only the ones used last time). */
static void rx_prepare(struct td_pinger_bufs *bf)
{
	struct rxbuf *rb = &bf->rx;
	for (unsigned i = 0; i < bf->rx_dirty; i++) {
		rb->iov[i].iov_base = RXDATA(bf, i);
		rb->iov[i].iov_len = bf->stride;
		struct msghdr *mh = &rb->m[i].msg_hdr;
		mh->msg_name = &rb->name[i];
		mh->msg_namelen = sizeof(rb->name[i]);
		mh->msg_iov = &rb->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = rb->ctl[i];
		mh->msg_controllen = CMSG_SPACE_ALL;
		mh->msg_flags = 0;
	}
	bf->rx_dirty = 0;
}

static int rx_recv(struct td_pinger_bufs *bf, int fd, int flags, unsigned vlen)
{
	rx_prepare(bf);
	int n;
	if (vlen == 1) {
		/* One message (flood, ping-pong): recvmsg skips recvmmsg's
		 * per-call setup in the kernel (~2 % of a flood's CPU). */
		ssize_t r = recvmsg(fd, &bf->rx.m[0].msg_hdr, flags);
		if (r >= 0)
			bf->rx.m[0].msg_len = (unsigned)r;
		n = r < 0 ? -1 : 1;
	} else {
		n = recvmmsg(fd, bf->rx.m, vlen, flags, NULL);
	}
	bf->rx_dirty = n > 0 ? (unsigned)n : 0;
	return n;
}

/* The error queue: TX timestamps (SO_EE_ORIGIN_TIMESTAMPING) and, on datagram
 * sockets, ICMP errors about our probes (IP_RECVERR). */
static int drain_errqueue(struct td_pinger *pg, struct td_icmp_sock *s)
{
	struct rxbuf *rb = &pg->bufs->rx;
	for (;;) {
		int n = rx_recv(pg->bufs, s->fd, MSG_ERRQUEUE | MSG_DONTWAIT, BATCH);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		uint64_t now = pg->bufs->rx_now = td_os_mono_ns();
		lock(pg);
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &rb->m[i].msg_hdr;
			struct cmsg_info ci;
			parse_cmsgs(mh, &ci);
			if (!ci.ee) {
				pg->errq_ignored++;
				continue;
			}
			if (ci.ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
				uint32_t key = ci.ee->ee_data;
				/* Stamps older than the map are lost (counted as user-stamp RTTs). */
				if (s->tskey - key <= TD_ICMP_TXMAP && ci.stamp) {
					uint32_t slot = key & (TD_ICMP_TXMAP - 1);
					td_probe_tx_stamp(pg->probe, s->txmap[slot].target,
							  s->txmap[slot].seq, ci.stamp, true);
					pg->tx_stamps++;
				} else {
					pg->tx_stamp_lost++;
				}
				continue;
			}
			if (ci.ee->ee_origin == SO_EE_ORIGIN_LOCAL) {
				/* sendmsg returned the error; this copy says the MTU
				 * that refused the probe (flush reads it) */
				if (ci.ee->ee_errno == EMSGSIZE)
					s->local_mtu = ci.ee->ee_info;
				else
					pg->errq_ignored++;
				continue;
			}
			if ((ci.ee->ee_origin != SO_EE_ORIGIN_ICMP &&
			     ci.ee->ee_origin != SO_EE_ORIGIN_ICMP6) ||
			    s->kind == TD_PROBE_SOCK_RAW) {
				/* a raw socket read the ICMP error itself as a packet */
				pg->errq_ignored++;
				continue;
			}
			struct td_probe_icmp_err e;
			memset(&e, 0, sizeof(e));
			e.family = s->family;
			addr_from(&e.offender,
				  (const struct sockaddr_storage *)SO_EE_OFFENDER(ci.ee));
			addr_from(&e.dst, &rb->name[i]);
			e.type = ci.ee->ee_type;
			e.code = ci.ee->ee_code;
			e.info = ci.ee->ee_info;
			e.err = (int)ci.ee->ee_errno;
			e.quoted = RXDATA(pg->bufs, i);
			e.quoted_len = rb->m[i].msg_len;
			td_probe_error(pg->probe, now, &e);
		}
		unlock(pg);
		if (n < BATCH)
			return 0;
	}
}

static int drain_rx(struct td_pinger *pg, struct td_icmp_sock *s)
{
	struct rxbuf *rb = &pg->bufs->rx;
	for (;;) {
		/* Ask for no more messages than probes are outstanding: when the
		 * batch is not filled recvmmsg tries once more and fails, and
		 * with one probe in flight (flood, ping-pong) that second try
		 * costs as much as the read. Anything beyond (duplicates, foreign
		 * traffic) stays queued and wakes ppoll. */
		lock(pg);
		uint64_t out = td_probe_outstanding(pg->probe);
		unlock(pg);
		unsigned vlen = out >= BATCH ? BATCH : out ? (unsigned)out : 1;
		int n = rx_recv(pg->bufs, s->fd, MSG_DONTWAIT, vlen);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		uint64_t now = pg->bufs->rx_now = td_os_mono_ns();
		uint64_t real = s->ts == TD_TS_CLOCK ? td_os_real_ns() : 0;
		lock(pg);
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &rb->m[i].msg_hdr;
			struct cmsg_info ci;
			parse_cmsgs(mh, &ci);
			struct td_probe_rx rx = {.family = s->family, .sock = s->kind,
						 .has_ip_header = s->kind == TD_PROBE_SOCK_RAW &&
								  s->family == TD_PROBE_V4,
						 .ttl = (int16_t)ci.ttl, .tos = (int16_t)ci.tos};
			addr_from(&rx.src, &rb->name[i]);
			if (ci.stamp) {
				rx.stamp_ns = ci.stamp;
				rx.kernel_stamp = true;
			} else {
				rx.stamp_ns = real ? real : td_os_real_ns();
			}
			size_t len = rb->m[i].msg_len;
			if (len > pg->bufs->stride)
				len = pg->bufs->stride; /* MSG_TRUNC: the engine sees it short */
			td_probe_input(pg->probe, now, RXDATA(pg->bufs, i), len, &rx);
			pg->rx_msgs++;
		}
		bool idle = !td_probe_outstanding(pg->probe);
		unlock(pg);
		/* Nothing outstanding: a sweep's burst is all in. Another read
		 * would fail (one syscall per burst for nothing); duplicates and
		 * strays stay queued and wake ppoll. */
		if ((unsigned)n < vlen || idle)
			return 0;
	}
}

/* Read whatever is queued on every socket without waiting; messages read. */
static uint64_t drain_all(struct td_pinger *pg)
{
	uint64_t before = pg->rx_msgs + pg->tx_stamps;
	for (int i = 0; i < 2; i++) {
		struct td_icmp_sock *s = pg->sock[i];
		if (!s)
			continue;
		if (s->ts == TD_TS_TIMESTAMPING || s->recverr)
			drain_errqueue(pg, s);
		drain_rx(pg, s);
	}
	return pg->rx_msgs + pg->tx_stamps - before;
}

/* Send the batch of one family; on EAGAIN/ENOBUFS give the rest back to the
 * engine (newest first) and report that the socket is full. */
static int flush(struct td_pinger *pg, unsigned fi, uint64_t now, bool *full)
{
	struct txbuf *b = &pg->bufs->tx[fi];
	struct td_icmp_sock *s = pg->sock[fi];
	unsigned done = 0;
	uint64_t ustamp = td_os_real_ns();
	if (!s) { /* send_due only batches for open sockets; be safe anyway */
		b->n = 0;
		return 0;
	}
	while (done < b->n) {
		int r;
		if (b->n - done == 1) {
			/* One probe (flood, ping-pong): sendto skips copying a
			 * msghdr from user space (~3 % of a flood's CPU). */
			const struct msghdr *mh = &b->m[done].msg_hdr;
			ssize_t w = sendto(s->fd, mh->msg_iov->iov_base, mh->msg_iov->iov_len, 0,
					   (const struct sockaddr *)mh->msg_name, mh->msg_namelen);
			r = w < 0 ? -1 : 1;
		} else {
			r = send_batch(s->fd, b->m + done, b->n - done);
		}
		if (r > 0) {
			lock(pg);
			for (unsigned i = done; i < done + (unsigned)r; i++) {
				struct td_probe_tx *tx = &b->tx[i];
				if (s->ts == TD_TS_TIMESTAMPING) {
					uint32_t slot = s->tskey++ & (TD_ICMP_TXMAP - 1);
					s->txmap[slot].target = tx->target;
					s->txmap[slot].seq = tx->seq;
				}
				td_probe_tx_stamp(pg->probe, tx->target, tx->seq, ustamp, false);
			}
			unlock(pg);
			pg->tx_msgs += (unsigned)r;
			done += (unsigned)r;
			continue;
		}
		int e = errno;
		if (e == EINTR)
			continue;
		if (e == EAGAIN || e == ENOBUFS || e == ENOMEM) {
			lock(pg);
			for (unsigned i = b->n; i-- > done;)
				td_probe_unsend(pg->probe, &b->tx[i]);
			unlock(pg);
			pg->send_again++;
			*full = true;
			break;
		}
		/* Unreachable network, EMSGSIZE with -M do, EACCES (broadcast), ...:
		 * this probe failed for good; go on with the next. EMSGSIZE left
		 * its MTU in the error queue (ip_local_error), read before the
		 * next send can queue another. */
		uint32_t mtu = 0;
		if (e == EMSGSIZE && s->recverr) {
			s->local_mtu = 0;
			(void)drain_errqueue(pg, s);
			mtu = s->local_mtu;
		}
		lock(pg);
		td_probe_send_failed(pg->probe, b->tx[done].target, b->tx[done].seq, e, mtu, now);
		unlock(pg);
		done++;
	}
	b->n = 0;
	return 0;
}

/* At most BURST probes per iteration: on loopback every send queues its reply
 * at once, so the receive queue must be read between bursts or it overflows. */
#ifndef BURST
#define BURST BATCH /* 4 * BATCH measured ~5 % more CPU: more skbs in flight, colder slab */
#endif

static bool send_due(struct td_pinger *pg, uint64_t now, bool *full)
{
	struct td_probe_tx tx;
	unsigned sent = 0;
	*full = false;
	lock(pg);
	while (!*full && sent < BURST && td_probe_poll(pg->probe, now, &tx) == 1) {
		sent++;
		unsigned fi = tx.family == TD_PROBE_V6;
		struct txbuf *b = &pg->bufs->tx[fi];
		if (!pg->sock[fi]) {
			td_probe_send_failed(pg->probe, tx.target, tx.seq, EAFNOSUPPORT, 0, now);
			continue;
		}
		unsigned i = b->n++;
		uint8_t *d = TXDATA(pg->bufs, fi, i);
		memcpy(d, tx.pkt, tx.len); /* stride >= probe size + slack */
		b->tx[i] = tx;
		b->iov[i].iov_base = d;
		b->iov[i].iov_len = tx.len;
		struct msghdr *mh = &b->m[i].msg_hdr;
		memset(mh, 0, sizeof(*mh));
		mh->msg_namelen = addr_to(&b->name[i], tx.dst);
		mh->msg_name = &b->name[i];
		mh->msg_iov = &b->iov[i];
		mh->msg_iovlen = 1;
		if (b->n == BATCH) {
			unlock(pg);
			flush(pg, fi, now, full);
			lock(pg);
		}
	}
	unlock(pg);
	for (unsigned fi = 0; fi < 2; fi++)
		if (pg->bufs->tx[fi].n)
			flush(pg, fi, now, full);
	return sent == BURST && !*full;
}

static bool engine_done(const struct td_pinger *pg)
{
	lock(pg);
	bool d = td_probe_done(pg->probe);
	unlock(pg);
	return d;
}

/* Sleep until the engine's next deadline (or I/O), then read what came.
 * 1 to go on, 0 when until_ns has passed, -errno on a poll failure. */
static int wait_io(struct td_pinger *pg, struct pollfd *pfd, struct td_icmp_sock **ps,
		   nfds_t nfd, uint64_t until_ns, uint64_t max_sleep_ns, bool more, bool full)
{
	uint64_t now = td_os_mono_ns();
	if (until_ns && now >= until_ns)
		return 0;
	lock(pg);
	uint64_t dl = td_probe_next_deadline(pg->probe);
	unlock(pg);
	if (full && dl > now + 1000000)
		dl = now + 1000000; /* send buffer full: retry within 1 ms */
	if (until_ns && dl > until_ns)
		dl = until_ns;
	if (max_sleep_ns && dl > now + max_sleep_ns)
		dl = now + max_sleep_ns;
	uint64_t wait = dl > now && !more ? dl - now : 0;
	if (wait && wait < pg->slack_ns)
		wait = pg->slack_ns;
	struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ULL),
			      .tv_nsec = (long)(wait % 1000000000ULL)};
	int n = ppoll(pfd, nfd, dl == UINT64_MAX && !more ? NULL : &ts, NULL);
	pg->wakeups++;
	if (n < 0 && errno != EINTR)
		return -errno;
	for (nfds_t i = 0; n > 0 && i < nfd; i++) {
		struct td_icmp_sock *s = ps[i];
		short re = pfd[i].revents;
		if (!re || !s)
			continue; /* the wake-up eventfd stays readable: loop checks */
		/* Error queue first: a TX stamp must be in before its reply. */
		if (s->ts == TD_TS_TIMESTAMPING || s->recverr || (re & POLLERR))
			drain_errqueue(pg, s);
		if (re & POLLIN)
			drain_rx(pg, s);
	}
	return 1;
}

static int run_loop(struct td_pinger *pg, uint64_t until_ns, volatile sig_atomic_t *stop,
		    bool (*on_wake)(void *ctx, uint64_t now), void *ctx, uint64_t max_sleep_ns)
{
	struct pollfd pfd[3];
	struct td_icmp_sock *ps[3];
	nfds_t nfd = 0;
	for (int i = 0; i < 2; i++) {
		if (!pg->sock[i])
			continue;
		pfd[nfd].fd = pg->sock[i]->fd;
		pfd[nfd].events = POLLIN; /* POLLERR (TX stamps, errors) is always reported */
		ps[nfd++] = pg->sock[i];
	}
	if (pg->wakefd >= 0) {
		pfd[nfd].fd = pg->wakefd;
		pfd[nfd].events = POLLIN;
		ps[nfd++] = NULL;
	}
	bool full = false;
	uint64_t now = td_os_mono_ns();
	uint64_t tx0 = pg->tx_msgs;
	bool more = send_due(pg, now, &full);
	for (;;) {
		if (engine_done(pg))
			return 0;
		if (stop && *stop)
			return 0;
		/* Just sent: on loopback and fast paths the answers (and TX stamps)
		 * are usually queued already, so look before sleeping; this saves
		 * the poll call per probe in flood and ping-pong runs, and the
		 * clock read of the receive path serves as this iteration's now
		 * (two clock reads per flood probe instead of four). */
		if (pg->tx_msgs != tx0 && drain_all(pg) > 0) {
			now = pg->bufs->rx_now;
		} else {
			int rc = wait_io(pg, pfd, ps, nfd, until_ns, max_sleep_ns, more, full);
			if (rc <= 0)
				return rc;
			now = td_os_mono_ns();
		}
		if (on_wake) {
			lock(pg);
			bool go = on_wake(ctx, now);
			unlock(pg);
			if (!go)
				return 0;
		}
		if (until_ns && now >= until_ns)
			return 0; /* no probe leaves at the deadline: it could not be answered */
		tx0 = pg->tx_msgs;
		more = send_due(pg, now, &full);
	}
}

int td_pinger_run(struct td_pinger *pg, uint64_t until_ns, volatile sig_atomic_t *stop,
		  bool (*on_wake)(void *ctx, uint64_t now), void *ctx, uint64_t max_sleep_ns)
{
	return run_loop(pg, until_ns, stop, on_wake, ctx, max_sleep_ns);
}
