/* Linux glue of the stack: TUN device, rtnetlink, namespaces, pcap file, the event loop. */
#ifndef TUNDRA_STACK_OS_H
#define TUNDRA_STACK_OS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "tundra/stack.h"

/* All functions return 0 or -errno; none prints. */

/* ---- TUN device --------------------------------------------------------------- */

struct td_tun {
	int fd;
	char name[16]; /* IFNAMSIZ */
	bool created;  /* we created it (so it goes away with the fd unless persistent) */
	unsigned vnet_hdr_len; /* 10 with IFF_VNET_HDR: every read and write starts with a virtio-net header */
	unsigned offloads;     /* TUN_F_* the kernel accepted (TUNSETOFFLOAD) */
};

/* Open /dev/net/tun as IFF_TUN|IFF_NO_PI, nonblocking. name may be NULL or ""
 * (kernel picks tunN) or a name; persist keeps the device after exit
 * (TUNSETPERSIST); attach requires it to exist already (a persistent device
 * made by `ip tuntap add` or a previous --persist run). */
int td_tun_open(struct td_tun *t, const char *name, bool persist, bool attach);
/* The same with offload: IFF_VNET_HDR, TUNSETVNETHDRSZ 10 and TUNSETOFFLOAD
 * CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6, stepping down to what the kernel takes.
 * When the kernel refuses the header or every offload set, the device is
 * opened plainly (vnet_hdr_len 0) and why says what was refused; why is
 * also filled when a smaller set was accepted. 0 or -errno (the plain
 * open's error). */
int td_tun_open_offload(struct td_tun *t, const char *name, bool persist, bool attach,
			bool offload, char *why, size_t why_len);
void td_tun_close(struct td_tun *t);

/* ---- rtnetlink ------------------------------------------------------------------ */

/* Each call opens its own NETLINK_ROUTE socket, sends its requests one at a
 * time and waits at most 10 s for each ACK (-ETIMEDOUT then: a missing
 * answer never hangs the caller). On failure, why (may be NULL; filled
 * with "" on success) names the step that failed and, when the kernel gave
 * one, its own explanation (NETLINK_EXT_ACK, as `ip` prints after "Error:"),
 * e.g. "adding the route: Invalid prefix for given prefix length". */

/* Configure the kernel's side of the link: MTU, addresses (IFA_F_NODAD for
 * IPv6: a TUN link has no neighbours to collide with), link up. A zero
 * prefix skips that family. */
struct td_link_conf {
	uint32_t mtu;
	uint32_t txqlen; /* the device's transmit queue in packets; 0 leaves the kernel's */
	bool has4, has6;
	uint32_t addr4; /* host order */
	uint8_t prefix4;
	uint8_t addr6[16];
	uint8_t prefix6;
};
int td_rtnl_configure(const char *ifname, const struct td_link_conf *c, char *why, size_t why_len);
/* Set a link up (e.g. "lo" in a namespace we just made). */
int td_rtnl_link_up(const char *ifname, char *why, size_t why_len);
/* Route a prefix through the device (family TD_AF_INET/TD_AF_INET6; a
 * prefix length of 0 is a default route). -EEXIST is not an error to callers
 * that merely want the route present. */
int td_rtnl_route_add(const char *ifname, uint8_t family, const uint8_t *dst, uint8_t prefix,
		      char *why, size_t why_len);

/* ---- namespaces -------------------------------------------------------------------- */

/* Enter the named network namespace (/run/netns/NAME, as `ip netns` makes). */
int td_netns_enter(const char *name);
/* A fresh network namespace for this process (needs CAP_SYS_ADMIN). */
int td_netns_new(void);
/* Without privilege: a user namespace mapping our uid/gid to 0, plus a
 * network namespace (the `unshare -rn` recipe). */
int td_netns_rootless(void);

/* ---- pcap writer ---------------------------------------------------------------------- */

struct td_pcapfile {
	FILE *f;
	uint64_t packets;
};
/* LINKTYPE_RAW, nanosecond timestamps, snaplen 65535. */
int td_pcapfile_open(struct td_pcapfile *p, const char *path);
int td_pcapfile_write(struct td_pcapfile *p, uint64_t realtime_ns, const void *pkt, size_t len);
int td_pcapfile_close(struct td_pcapfile *p);

/* ---- the event loop ------------------------------------------------------------------- */

struct td_stack_run {
	struct td_stack *st;
	int tun_fd;
	struct td_pcapfile *pcap;   /* NULL: no capture */
	uint32_t busy_poll_us;       /* spin on the TUN this long before sleeping */
	unsigned batch;              /* packets read per wakeup at most (default 64) */
	unsigned vnet_hdr_len;       /* 0, or 10: the device carries virtio-net headers (td_tun.vnet_hdr_len) */
	unsigned offloads;           /* td_tun.offloads: its TUN_F_CSUM/TSO4/TSO6 bits become the stack's TX offloads */
	char *const *command;        /* NULL, or argv run as a child; the loop ends when it exits */
	/* Called on SIGUSR1 (final = false) and once at the end (final = true). */
	void (*on_stats)(struct td_stack *st, bool final, void *user);
	void *user;
	/* Called once the device is ready and before the command starts. */
	void (*on_ready)(void *user);

	/* results */
	int exit_status;   /* of the command (its exit code, or 128 + signal) */
	int stop_signal;   /* signal that stopped the loop, or 0 */
	uint64_t tun_reads, tun_writes, tun_write_errors, wakeups;
	uint64_t tun_reads_empty;    /* reads that found nothing (EAGAIN): the cost of ending a batch */
};

/* Block SIGINT/SIGTERM/SIGUSR1/SIGCHLD and run until one of SIGINT/SIGTERM,
 * or the command's exit. 0 or -errno. */
int td_stack_run(struct td_stack_run *r);

#endif
