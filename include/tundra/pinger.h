/* Linux ICMP echo sockets (datagram or raw) and the epoll loop that drives a td_probe engine. */
#ifndef TUNDRA_PINGER_H
#define TUNDRA_PINGER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tundra/probe.h"

/*
 * Socket choice (--mode):
 *   auto  : ICMP datagram socket when net.ipv4.ping_group_range admits one of
 *           the caller's groups, else a raw socket when the process has
 *           CAP_NET_RAW, else -EPERM with td_icmp_diag filled for the message.
 *   dgram : datagram only.   raw : raw only.
 * After every raw socket the caller needs is open, td_os_drop_caps() drops
 * all capabilities (capset; never setuid; fine under no_new_privs).
 *
 * Timestamps: SO_TIMESTAMPING software RX + TX (TX from the error queue, with
 * OPT_ID + OPT_TSONLY), else SO_TIMESTAMPNS (RX only), else the clock.
 */

enum td_icmp_mode { TD_ICMP_AUTO = 0, TD_ICMP_DGRAM, TD_ICMP_RAW };

enum td_ts_kind {
	TD_TS_CLOCK = 0,     /* userspace clock_gettime next to send/recv */
	TD_TS_RX_NS,         /* SO_TIMESTAMPNS: kernel RX stamps only */
	TD_TS_TIMESTAMPING   /* SO_TIMESTAMPING: kernel software TX and RX stamps */
};

struct td_icmp_opts {
	enum td_icmp_mode mode;
	const char *ifname;        /* SO_BINDTODEVICE; NULL = none */
	struct td_probe_addr src;  /* bind() source when src.family matches */
	int ttl, tos;              /* -1 = kernel default */
	bool has_mark;             /* SO_MARK when set: the whole u32 range */
	uint32_t mark;
	/* SO_MARK refused for want of CAP_NET_ADMIN (EPERM) leaves the socket
	 * unmarked instead of failing, as iputils ping does (it warns); the
	 * socket's mark_err says so. Other errors still fail. */
	bool mark_optional;
	int rcvbuf, sndbuf;        /* bytes, 0 = default (rcvbuf grows with targets) */
	int pmtudisc;              /* IP_PMTUDISC_* / IPV6_PMTUDISC_*, -1 = default */
	bool user_timestamps;      /* -U: no kernel timestamps */
	/* Kernel RX stamps (SO_TIMESTAMPNS) but no kernel TX stamps: the RTT is
	 * the kernel RX stamp minus the clock read just before sendmmsg, an
	 * upper bound that includes the send syscall. Each kernel TX stamp costs
	 * an skb clone and an error-queue message per probe; floods and
	 * sweeps whose output shows no RTT use this (see tundra-ping(1)). */
	bool rx_stamps_only;
	/* With pmtudisc -1: send IPv4 probes as atomic datagrams (DF, IP ID 0;
	 * IP_PMTUDISC_PROBE, RFC 6864 §4) when they fit 576 bytes. Saves the
	 * kernel's shared IP-ID generator per packet; the wire keeps DF set,
	 * as the kernel's default (want) does for small packets. */
	bool atomic_small;
	int probe_size;            /* ICMP bytes per probe, for atomic_small */
};

void td_icmp_opts_default(struct td_icmp_opts *o);

/* Why no socket could be opened: enough to print the exact remedy. */
struct td_icmp_diag {
	int err;                   /* the errno of the last attempt */
	const char *step;          /* what failed: "socket(SOCK_DGRAM)", "SO_BINDTODEVICE", ... */
	bool range_known;
	uint32_t range_lo, range_hi; /* net.ipv4.ping_group_range */
	gid_t gid;
	gid_t groups[32];
	int ngroups;
	bool cap_net_raw;          /* in the effective set */
	bool no_new_privs;
};

#define TD_ICMP_TXMAP 4096     /* TX-stamp ids remembered per socket (power of two) */

struct td_icmp_sock {
	int fd;
	uint8_t family;            /* 4 or 6 */
	enum td_probe_sock kind;
	enum td_ts_kind ts;
	uint32_t tskey;            /* OPT_ID of the next send */
	int mark_err;              /* with mark_optional: SO_MARK's errno (EPERM) when unset */
	bool recverr;              /* IP_RECVERR / IPV6_RECVERR on: the error queue is read */
	uint32_t local_mtu;        /* ee_info of the last local EMSGSIZE in the error queue */
	struct {
		uint32_t target, seq;
	} txmap[TD_ICMP_TXMAP];
};

/* Open the family's socket per opts. 0 or -errno; on failure *d says why. */
int td_icmp_open(struct td_icmp_sock *s, uint8_t family, const struct td_icmp_opts *o,
		 struct td_icmp_diag *d);
void td_icmp_close(struct td_icmp_sock *s);
const char *td_icmp_sock_name(const struct td_icmp_sock *s); /* "dgram" / "raw" */
const char *td_ts_name(enum td_ts_kind ts);

/* CPUs this process may use: its affinity mask, capped by the CPU quota of
 * its cgroup and their ancestors rounded to the nearest CPU; at least 1
 * (src/os/misc.c). */
int td_os_usable_cpus(void);
/* The tightest CPU quota on the cgroups named in proc_cgroup (a
 * /proc/self/cgroup file) under the cgroup mount cgroot, v2 (cpu.max) or v1
 * (cpu.cfs_quota_us / cpu.cfs_period_us), ancestors included: thousandths of
 * a CPU, 0 when there is none. */
long td_os_cgroup_cpu_limit(const char *proc_cgroup, const char *cgroot);
/* Drop every capability from all sets (and the bounding set where allowed). 0 or -errno. */
int td_os_drop_caps(void);
/* True when CAP_NET_RAW is in the effective set. */
bool td_os_have_cap_net_raw(void);
/* Read ping_group_range and the caller's groups into d (no socket opened). */
void td_icmp_diag_fill(struct td_icmp_diag *d);

/* CLOCK_MONOTONIC / CLOCK_REALTIME in ns. */
uint64_t td_os_mono_ns(void);
uint64_t td_os_real_ns(void);

/* 32 random bytes from getrandom(); 0 or -errno. */
int td_os_random(void *buf, size_t len);

struct td_pinger_bufs;

/* The event loop: one socket per family in use, ppoll, batched I/O. Loops
 * in different threads are independent (each td_pinger owns its buffers). */
struct td_pinger {
	struct td_probe *probe;
	struct td_icmp_sock *sock[2]; /* [0] v4, [1] v6; NULL when unused */
	int epfd;                     /* unused (-1): the loop uses ppoll on at most 2 fds */
	uint64_t wakeups, rx_msgs, tx_msgs, tx_stamps, send_again;
	uint64_t tx_stamp_lost;  /* TX stamp for a send older than the id map: RTT uses the user stamp */
	uint64_t errq_ignored;   /* error-queue messages that are neither stamps nor ICMP errors */
	/* Sleep at least this long when the next deadline is nearer (0 = exact):
	 * with many targets, probes due within the slack leave in one batch. */
	uint64_t slack_ns;
	struct td_pinger_bufs *bufs; /* private: batch buffers, one set per loop (threads) */
	/* Several loops in threads (--threads), each with its own engine,
	 * sockets and buffers: every engine call runs under *lock (NULL = no
	 * locking), so that another thread may read the engine (interim
	 * statistics). wakefd (an eventfd, -1 = none) is polled too: whoever
	 * sets *stop writes it, and a sleeping loop sees the stop at once. It is
	 * never drained: write it only with stop set. */
	pthread_mutex_t *lock;
	int wakefd;
};

/* Several loops, each with its own sockets and an engine over a share of the
 * targets (--threads): keep on this raw socket only the echo replies and ICMP
 * errors of loop `index` of n, by identifier modulo n (a classic BPF socket
 * filter). No-op on datagram sockets, which the kernel already demultiplexes
 * by identifier, and for n < 2. 0 or -errno. */
int td_icmp_split(struct td_icmp_sock *s, unsigned index, unsigned n);

/* The source address the kernel picks for dst (through interface ifname
 * when not NULL), as iputils finds it for its header: a UDP socket
 * connected to dst, never sending. 0 or -errno. */
int td_icmp_route_source(const struct td_probe_addr *dst, const char *ifname,
			 struct td_probe_addr *src);

int td_pinger_init(struct td_pinger *pg, struct td_probe *p, struct td_icmp_sock *s4,
		   struct td_icmp_sock *s6);
void td_pinger_fini(struct td_pinger *pg);

/*
 * Run until the engine is done, `stop` becomes non-zero, or the monotonic
 * clock passes until_ns (0 = no limit). on_wake (may be NULL) runs once per
 * loop iteration with the current time and may return false to stop; it is
 * where the caller looks at its signal flags. max_sleep_ns bounds each wait
 * so on_wake runs at least that often (0 = no bound). Returns 0 or -errno.
 */
int td_pinger_run(struct td_pinger *pg, uint64_t until_ns, volatile sig_atomic_t *stop,
		  bool (*on_wake)(void *ctx, uint64_t now), void *ctx, uint64_t max_sleep_ns);

#endif
