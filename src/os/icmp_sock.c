/* ICMP echo sockets: datagram or raw choice, socket options, timestamps, capability drop. */
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h> /* before the linux/ headers: their libc-compat.h then defers to it */
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/net_tstamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tundra/pinger.h"

void td_icmp_opts_default(struct td_icmp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = TD_ICMP_AUTO;
	o->ttl = o->tos = o->pmtudisc = -1;
}

uint64_t td_os_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t td_os_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int td_os_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- capabilities (capget/capset directly: no libcap dependency) ------------------------ */

static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	memset(d, 0, 2 * sizeof(*d));
	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

static bool cap_effective(unsigned cap)
{
	struct __user_cap_data_struct d[2];
	if (caps_get(d))
		return false;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

bool td_os_have_cap_net_raw(void)
{
	return cap_effective(CAP_NET_RAW);
}

int td_os_drop_caps(void)
{
	/* Bounding set first (needs CAP_SETPCAP, which we are about to lose),
	 * then ambient, then permitted/effective/inheritable. No setuid: this
	 * works the same under no_new_privs and with file capabilities. */
	if (cap_effective(CAP_SETPCAP)) {
		/* Dropping a capability that is not in the set is a no-op, and
		 * EINVAL marks the first number past the kernel's last one: one
		 * call per capability, not a read and a drop (~60 syscalls less
		 * at every start). */
		for (int c = 0; c <= 63; c++)
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno == EINVAL)
				break;
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

void td_icmp_diag_fill(struct td_icmp_diag *d)
{
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_RDONLY | O_CLOEXEC);
	d->range_known = false;
	if (fd >= 0) {
		char buf[64];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			char *e1, *e2;
			unsigned long lo = strtoul(buf, &e1, 10), hi = strtoul(e1, &e2, 10);
			if (e1 != buf && e2 != e1) {
				d->range_lo = (uint32_t)lo;
				d->range_hi = (uint32_t)hi;
				d->range_known = true;
			}
		}
	}
	d->gid = getgid();
	int n = getgroups((int)(sizeof(d->groups) / sizeof(d->groups[0])), d->groups);
	d->ngroups = n < 0 ? 0 : n;
	d->cap_net_raw = td_os_have_cap_net_raw();
	d->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}

/* ---- sockets ------------------------------------------------------------------------------ */

const char *td_icmp_sock_name(const struct td_icmp_sock *s)
{
	return s->kind == TD_PROBE_SOCK_RAW ? "raw" : "dgram";
}

const char *td_ts_name(enum td_ts_kind ts)
{
	switch (ts) {
	case TD_TS_TIMESTAMPING: return "kernel tx+rx (SO_TIMESTAMPING)";
	case TD_TS_RX_NS: return "kernel rx (SO_TIMESTAMPNS)";
	default: return "clock";
	}
}

void td_icmp_close(struct td_icmp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int setint(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) ? -errno : 0;
}

static int fail(struct td_icmp_diag *d, const char *step, int err)
{
	if (d) {
		d->err = -err;
		d->step = step;
	}
	return err;
}

static int set_options(struct td_icmp_sock *s, const struct td_icmp_opts *o,
		       struct td_icmp_diag *d)
{
	bool v6 = s->family == TD_PROBE_V6;
	int fd = s->fd, rc;

	if (o->ifname && *o->ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname, (socklen_t)strlen(o->ifname)))
		return fail(d, "SO_BINDTODEVICE", -errno);
	if (o->src.family == s->family) {
		struct sockaddr_storage ss;
		socklen_t sl;
		memset(&ss, 0, sizeof(ss));
		if (v6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			a->sin6_family = AF_INET6;
			memcpy(&a->sin6_addr, o->src.a, 16);
			a->sin6_scope_id = o->src.scope; /* a link-local source names its link */
			sl = sizeof(*a);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			a->sin_family = AF_INET;
			memcpy(&a->sin_addr, o->src.a, 4);
			sl = sizeof(*a);
		}
		if (bind(fd, (struct sockaddr *)&ss, sl))
			return fail(d, "bind(source address)", -errno);
	}
	if (o->ttl >= 0 && (rc = setint(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
					 v6 ? IPV6_UNICAST_HOPS : IP_TTL, o->ttl)))
		return fail(d, v6 ? "IPV6_UNICAST_HOPS" : "IP_TTL", rc);
	if (o->tos >= 0 &&
	    (rc = setint(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, o->tos)))
		return fail(d, v6 ? "IPV6_TCLASS" : "IP_TOS", rc);
	if (o->has_mark &&
	    (rc = setsockopt(fd, SOL_SOCKET, SO_MARK, &o->mark, sizeof(o->mark)) ? -errno : 0)) {
		if (!o->mark_optional || rc != -EPERM)
			return fail(d, "SO_MARK", rc);
		s->mark_err = -rc; /* no CAP_NET_ADMIN: the caller warns and goes on */
	}
	if (o->pmtudisc < 0 && o->atomic_small && !v6 && o->probe_size + 20 <= 576)
		(void)setint(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
	if (o->pmtudisc >= 0 && (rc = setint(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
					      v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
					      o->pmtudisc)))
		return fail(d, "IP_MTU_DISCOVER", rc);
	if (o->rcvbuf > 0 && setint(fd, SOL_SOCKET, SO_RCVBUFFORCE, o->rcvbuf) &&
	    (rc = setint(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf)))
		return fail(d, "SO_RCVBUF", rc);
	if (o->sndbuf > 0 && setint(fd, SOL_SOCKET, SO_SNDBUFFORCE, o->sndbuf) &&
	    (rc = setint(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf)))
		return fail(d, "SO_SNDBUF", rc);

	/* TTL/hop limit and TOS/traffic class of replies come as control
	 * messages: a datagram socket has no IP header to read them from. */
	if (v6) {
		(void)setint(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
		(void)setint(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
	} else if (s->kind == TD_PROBE_SOCK_DGRAM) {
		/* A raw IPv4 socket reads both from the IP header it delivers:
		 * two control messages less to build and parse per reply. */
		(void)setint(fd, IPPROTO_IP, IP_RECVTTL, 1);
		(void)setint(fd, IPPROTO_IP, IP_RECVTOS, 1);
	}

	/* ICMP errors about our probes reach a datagram socket only through
	 * its error queue. A raw socket reads them as packets, but with -M do
	 * (or probe) its error queue is where the kernel says the MTU that
	 * refused a probe too large to leave (SO_EE_ORIGIN_LOCAL, ee_info),
	 * which iputils prints; the ICMP errors queued there too are skipped. */
	if (s->kind == TD_PROBE_SOCK_DGRAM || o->pmtudisc >= IP_PMTUDISC_DO) {
		if ((rc = setint(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR,
				 1)))
			return fail(d, "IP_RECVERR", rc);
		s->recverr = true;
	}
	if (s->kind == TD_PROBE_SOCK_RAW && v6) {
		struct icmp6_filter f;
		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &f);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)))
			return fail(d, "ICMP6_FILTER", -errno);
	} else if (s->kind == TD_PROBE_SOCK_RAW) {
		/* Raw IPv4 sees every ICMP message, including our own requests
		 * on loopback: let through only replies and errors. */
		struct icmp_filter f = {.data = ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) |
						  (1u << ICMP_TIME_EXCEEDED) |
						  (1u << ICMP_PARAMETERPROB) | (1u << ICMP_REDIRECT) |
						  (1u << ICMP_SOURCE_QUENCH))};
		if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)))
			return fail(d, "ICMP_FILTER", -errno);
	}

	s->ts = TD_TS_CLOCK;
	if (!o->user_timestamps && o->rx_stamps_only) {
		/* Kernel RX stamps only: no TX stamp skb per probe, no error-queue
		 * read per probe; the TX side is the clock read before sendmmsg. */
		if (!setint(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1))
			s->ts = TD_TS_RX_NS;
	} else if (!o->user_timestamps) {
		int flags = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
			    SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
			    SOF_TIMESTAMPING_OPT_TSONLY;
		if (!setint(fd, SOL_SOCKET, SO_TIMESTAMPING, flags))
			s->ts = TD_TS_TIMESTAMPING;
		else if (!setint(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1))
			s->ts = TD_TS_RX_NS;
	}
	s->tskey = 0;
	return 0;
}

static int open_kind(struct td_icmp_sock *s, enum td_probe_sock kind)
{
	bool v6 = s->family == TD_PROBE_V6;
	int fd = socket(v6 ? AF_INET6 : AF_INET,
			(kind == TD_PROBE_SOCK_RAW ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
			v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	s->fd = fd;
	s->kind = kind;
	return 0;
}

int td_icmp_open(struct td_icmp_sock *s, uint8_t family, const struct td_icmp_opts *o,
		 struct td_icmp_diag *d)
{
	int rc = -EPERM;
	memset(s, 0, offsetof(struct td_icmp_sock, txmap));
	s->fd = -1;
	s->family = family;
	if (d)
		memset(d, 0, sizeof(*d));

	if (o->mode != TD_ICMP_RAW) {
		/* The kernel admits SOCK_DGRAM ICMP when one of our groups is in
		 * net.ipv4.ping_group_range (it governs IPv6 too). */
		rc = open_kind(s, TD_PROBE_SOCK_DGRAM);
		if (rc && (o->mode == TD_ICMP_DGRAM || (rc != -EACCES && rc != -EPERM))) {
			if (d)
				td_icmp_diag_fill(d);
			return fail(d, "socket(SOCK_DGRAM)", rc);
		}
	}
	if (s->fd < 0) {
		rc = open_kind(s, TD_PROBE_SOCK_RAW);
		if (rc) {
			if (d)
				td_icmp_diag_fill(d);
			return fail(d, o->mode == TD_ICMP_RAW ? "socket(SOCK_RAW)"
							      : "socket(SOCK_DGRAM) and socket(SOCK_RAW)",
				    rc);
		}
	}
	rc = set_options(s, o, d);
	if (rc) {
		td_icmp_close(s);
		return rc;
	}
	return 0;
}

/*
 * Loops that each own a share of the targets (--threads) each have a raw
 * socket, and a raw socket gets a copy of every ICMP message. This classic
 * BPF filter, run before a message is queued, keeps on each socket what its
 * loop owns: an echo reply whose identifier modulo n is the loop's index,
 * or an ICMP error whose quoted echo request has such an identifier (the
 * engines draw identifiers with ident % n == index). What the filter cannot
 * attribute goes to index 0: an IPv4 error with IP options, an IPv6 error
 * quoting extension headers. Out-of-range loads make a classic filter drop
 * the message (a quote too short to name a probe helps no loop).
 *   IPv4 raw sockets see the IP header: X = its length (BPF_MSH); a quote
 *   follows the 8-byte ICMP header, its identifier 4 bytes into its own.
 *   IPv6 raw sockets start at the ICMPv6 header; a quote's IPv6 header is
 *   40 bytes, its next header field 6 bytes in.
 */
int td_icmp_split(struct td_icmp_sock *s, unsigned index, unsigned n)
{
	if (s->kind != TD_PROBE_SOCK_RAW || n < 2)
		return 0; /* datagram sockets get only their own identifier's replies */
	if (index >= n)
		return -EINVAL;
	const uint32_t ACCEPT = 0xffffffffu, REJECT = 0;
	const uint32_t rest = index == 0 ? ACCEPT : REJECT;
	struct sock_filter v4[] = {
		/* 0 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
		/* 1 */ BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),		/* type */
		/* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3),	/* echo reply? */
		/* 3 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),		/* its identifier */
		/* 4 */ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, index, 7, 8),
		/* 6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),		/* error: outer IHL 5? */
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x45, 0, 4),
		/* 8 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 28),		/* quoted IHL */
		/* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 32),		/* quoted identifier */
		/* 10 */ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, index, 1, 2),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, rest),
		/* 13 */ BPF_STMT(BPF_RET | BPF_K, ACCEPT),
		/* 14 */ BPF_STMT(BPF_RET | BPF_K, REJECT),
	};
	struct sock_filter v6[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),		/* type */
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 129, 0, 3),	/* echo reply? */
		/* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
		/* 3 */ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, index, 6, 7),
		/* 5 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8 + 6),	/* quoted next header */
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
		/* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 8 + 40 + 4),	/* quoted identifier */
		/* 8 */ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, index, 1, 2),
		/* 10 */ BPF_STMT(BPF_RET | BPF_K, rest),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, ACCEPT),
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, REJECT),
	};
	bool is6 = s->family == TD_PROBE_V6;
	struct sock_fprog prog = {
		.len = (unsigned short)(is6 ? sizeof(v6) / sizeof(v6[0]) : sizeof(v4) / sizeof(v4[0])),
		.filter = is6 ? v6 : v4};
	if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		return -errno;
	return 0;
}
