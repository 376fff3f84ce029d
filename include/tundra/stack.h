/* Public API of the userspace IPv4/IPv6 host: a sans-I/O core fed with packets and time. */
#ifndef TUNDRA_STACK_H
#define TUNDRA_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tundra/wire.h"

/*
 * Theory of operation.
 *
 * A struct td_stack is one IP host. It never makes a syscall and never reads
 * a clock: the caller (src/os, a test, a fuzzer) hands it
 *
 *   td_stack_input(st, now, pkt, len)   one IP packet read from the device
 *   td_stack_poll(st, now)              timers: reassembly, impairment, transports
 *
 * and drains what it wants to send with td_stack_output_peek()/_pop(), then
 * sleeps until td_stack_next_deadline(). `now` is monotonic nanoseconds; any
 * origin, never decreasing. All memory (packet slots, reassembly buffers,
 * sockets, receive queues) is allocated by td_stack_create() from the sizes in
 * struct td_stack_config and freed by td_stack_destroy(); running out of any
 * of them is a counted drop, never an allocation.
 *
 * Every packet dropped, for whatever reason, bumps exactly one counter:
 * either a codec error (struct td_stack_stats.wire[layer][enum td_wire_err])
 * or a stack-level reason (struct td_stack_stats.ctr[enum td_stack_ctr]).
 */

#define TD_AF_INET 4
#define TD_AF_INET6 6

/* One IP address of either family. v4 in host order, v6 in network order. */
struct td_ip_addr {
	uint8_t family; /* TD_AF_INET or TD_AF_INET6 */
	union {
		uint32_t v4;
		uint8_t v6[16];
	};
};

/* The address pair of one datagram or flow, as every transport sees it:
 * src/dst from the point of view of the packet (on input: src = peer). */
struct td_ip_pair {
	uint8_t family; /* TD_AF_INET or TD_AF_INET6 */
	union {
		struct {
			uint32_t src, dst; /* host order */
		} v4;
		struct {
			uint8_t src[16], dst[16];
		} v6;
	};
};

/* A transport endpoint (address + port), for socket calls. */
struct td_endpoint {
	struct td_ip_addr addr; /* family 0 = any address (bind only) */
	uint16_t port;
};

/* ---- impairment (between device and IP, per direction) ------------------ */

/* Probabilities are parts per million. All zero = transparent. The random
 * stream is a function of seed and of the packet index in that direction only,
 * so a run with the same seed and the same traffic makes the same decisions. */
struct td_impair_config {
	uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
	uint64_t delay_ns, jitter_ns; /* jitter: uniform in [0, jitter] added to delay */
	uint64_t seed;
};

/* ---- configuration ------------------------------------------------------- */

struct td_stack_config {
	bool has_addr4, has_addr6;
	uint32_t addr4;     /* the stack's IPv4 address, host order */
	uint8_t prefix4;    /* its prefix length (directed broadcast detection) */
	uint8_t addr6[16];  /* the stack's IPv6 address */
	uint32_t mtu;       /* link MTU: >= 576 with IPv4 only, >= 1280 with IPv6 */
	uint8_t ttl;        /* TTL / hop limit of packets the stack originates */

	uint32_t pkt_slots;         /* packets queued for output + delayed input */
	uint32_t reass_slots;       /* datagrams under reassembly at once (each 64 KiB) */
	uint32_t reass_max_frags;   /* fragments per datagram */
	uint64_t reass_timeout_ns;  /* RFC 8200 §4.5 says 60 s; default 30 s for both */

	uint32_t icmp_err_rate;     /* token bucket: errors per second ... */
	uint32_t icmp_err_burst;    /* ... and bucket depth (RFC 4443 §2.4 (f)) */

	uint32_t udp_sockets;       /* UDP sockets, including built-in services */
	uint32_t udp_rcvbuf;        /* bytes of receive queue per UDP socket */
	bool udp_echo, udp_discard; /* built-in services on ports 7 and 9 */
	bool icmp_echo;             /* answer echo requests */

	unsigned wire_flags;        /* TD_WIRE_SKIP_CSUM: checksums not verified (fuzzing) */

	struct td_impair_config impair_in, impair_out;
};

/* Fill c with the defaults: 10.0.0.2/24, fd00::2, MTU 1500, TTL 64, 30 s
 * reassembly timeout, 16 reassembly slots of 64 fragments, 1024 packet slots,
 * 100 ICMP errors/s burst 20, 32 UDP sockets of 128 KiB, echo and discard on. */
void td_stack_config_default(struct td_stack_config *c);

/* ---- counters -------------------------------------------------------------- */

/* Where a codec error was found: the first index of td_stack_stats.wire. */
enum td_stack_layer {
	TD_LAYER_IP4,
	TD_LAYER_IP6,
	TD_LAYER_ICMP4,
	TD_LAYER_ICMP6,
	TD_LAYER_UDP,
	TD_LAYER_TCP,
	TD_LAYER_COUNT
};

/* Stack-level events. X(name, is_drop, help). */
#define TD_STACK_COUNTERS(X)                                                                        \
	X(rx_packets, 0, "packets handed to the stack by the device")                              \
	X(rx_bytes, 0, "bytes handed to the stack by the device")                                   \
	X(tx_packets, 0, "packets the stack queued for the device")                                 \
	X(tx_bytes, 0, "bytes the stack queued for the device")                                     \
	X(rx_ip4, 0, "IPv4 packets that passed validation")                                         \
	X(rx_ip6, 0, "IPv6 packets that passed validation")                                         \
	X(rx_bad_version, 1, "first nibble neither 4 nor 6")                                        \
	X(rx_no_addr, 1, "family without a configured address")                                     \
	X(rx_not_for_us, 1, "destination is not this host")                                         \
	X(rx_bad_src, 1, "source is multicast, broadcast, loopback, unspecified or ours")               \
	X(rx_unknown_proto, 1, "protocol / next header with no transport (error sent)")             \
	X(rx_ip6_hbh_opt, 1, "IPv6 hop-by-hop/destination option asking for discard")              \
	X(rx_ip6_routing, 1, "IPv6 routing header with segments left (error sent)")                 \
	X(rx_ip4_options, 0, "IPv4 packets carrying options (accepted, ignored)")                  \
	X(frag_rx, 0, "fragments received")                                                         \
	X(frag_atomic, 0, "IPv6 atomic fragments (RFC 6946), processed unreassembled")              \
	X(reass_ok, 0, "datagrams reassembled")                                                     \
	X(reass_overlap, 1, "overlapping fragment: whole datagram discarded (RFC 5722)")           \
	X(reass_dup, 1, "exact duplicate fragment discarded")                                      \
	X(reass_too_big, 1, "fragment ending past 65535 bytes")                                     \
	X(reass_too_many_frags, 1, "datagram discarded: more fragments than reass_max_frags")      \
	X(reass_inconsistent, 1, "fragment disagrees with the known total length")                  \
	X(reass_evicted, 1, "incomplete datagram evicted to make room (all slots busy)")            \
	X(reass_timeout, 1, "incomplete datagram timed out")                                        \
	X(reass_frags_dropped, 0, "fragments freed with a discarded datagram")                      \
	X(icmp_rx_echo, 0, "echo requests received")                                                \
	X(icmp_tx_echo_reply, 0, "echo replies sent")                                               \
	X(icmp_echo_ignored, 1, "echo request to broadcast/multicast or echo disabled")            \
	X(icmp_rx_echo_reply, 0, "echo replies received (no local sender: dropped)")               \
	X(icmp_rx_error, 0, "ICMP errors received")                                                 \
	X(icmp_rx_error_unmatched, 1, "ICMP error quoting no flow a transport owns")                \
	X(icmp_rx_error_bad_quote, 1, "ICMP error whose quoted datagram is unreadable")            \
	X(icmp_rx_other, 1, "ICMP types the host does not act on")                                  \
	X(icmp_tx_error, 0, "ICMP errors sent")                                                     \
	X(icmp_err_ratelimited, 1, "ICMP error not sent: token bucket empty (RFC 4443 §2.4 f)")      \
	X(icmp_err_suppressed, 0, "ICMP error not sent: about an error, a multicast/broadcast or a non-first fragment") \
	X(udp_rx, 0, "UDP datagrams delivered to a socket")                                         \
	X(udp_tx, 0, "UDP datagrams sent")                                                          \
	X(udp_no_port, 1, "UDP datagram to a closed port (port unreachable sent or suppressed)")     \
	X(udp_rcvbuf_full, 1, "UDP datagram dropped: socket receive queue full")                    \
	X(udp_echo, 0, "datagrams echoed by the built-in echo service (port 7)")                    \
	X(udp_discard, 0, "datagrams swallowed by the built-in discard service (port 9)")          \
	X(tx_frags, 0, "fragments produced by output fragmentation")                                \
	X(tx_no_slot, 1, "outgoing packet dropped: packet slots exhausted")                         \
	X(tx_too_big, 1, "outgoing datagram larger than 65535 or DF and over the MTU")              \
	X(impair_in_loss, 1, "impairment: received packet lost")                                    \
	X(impair_in_dup, 0, "impairment: received packet duplicated")                               \
	X(impair_in_reorder, 0, "impairment: received packet held back")                            \
	X(impair_in_corrupt, 0, "impairment: received packet corrupted")                            \
	X(impair_in_delayed, 0, "impairment: received packet delayed")                              \
	X(impair_in_no_slot, 1, "impairment: no slot to delay a received packet")                   \
	X(impair_out_loss, 1, "impairment: sent packet lost")                                       \
	X(impair_out_dup, 0, "impairment: sent packet duplicated")                                  \
	X(impair_out_reorder, 0, "impairment: sent packet held back")                               \
	X(impair_out_corrupt, 0, "impairment: sent packet corrupted")                               \
	X(impair_out_delayed, 0, "impairment: sent packet delayed")                                \
	X(vnet_csum_partial, 0, "virtio-net: packets accepted with a partial checksum the kernel vouches for") \
	X(vnet_gso_rx, 0, "virtio-net: GSO super-packets received and split")                      \
	X(vnet_gso_segs, 0, "virtio-net: segments cut from GSO super-packets")                      \
	X(vnet_gso_tx, 0, "virtio-net: GSO super-packets sent (built by TCP)")                     \
	X(vnet_gso_tx_segs, 0, "virtio-net: TCP segments carried by sent super-packets")           \
	X(vnet_bad_hdr, 1, "virtio-net: header truncated, unknown flags or odd checksum offset")   \
	X(vnet_bad_gso_type, 1, "virtio-net: unknown gso_type, or one that does not match the packet") \
	X(vnet_bad_gso_size, 1, "virtio-net: gso_size 0, larger than the packet, or no payload to cut") \
	X(vnet_bad_csum_off, 1, "virtio-net: csum_start/csum_offset past the end or not at the transport checksum")

enum td_stack_ctr {
#define TD_X_(name, drop, help) TD_CTR_##name,
	TD_STACK_COUNTERS(TD_X_)
#undef TD_X_
	TD_CTR_COUNT
};

struct td_stack_stats {
	uint64_t ctr[TD_CTR_COUNT];
	uint64_t wire[TD_LAYER_COUNT][TD_WIRE_ERR_COUNT]; /* [.][TD_WIRE_OK] unused */
};

/* Stable names for labels and JSON keys: "rx_packets", "ip4", "udp", ... */
const char *td_stack_ctr_name(enum td_stack_ctr c);
const char *td_stack_ctr_help(enum td_stack_ctr c);
bool td_stack_ctr_is_drop(enum td_stack_ctr c);
const char *td_stack_layer_name(enum td_stack_layer l);

/* ---- the core ---------------------------------------------------------------- */

struct td_stack;

/* Allocate every pool from cfg. 0 or -EINVAL (bad config) / -ENOMEM. */
int td_stack_create(const struct td_stack_config *cfg, struct td_stack **out);
/* Close every socket and transport, free every pool. NULL is fine. */
void td_stack_destroy(struct td_stack *st);

/* One IP packet from the device. The stack copies what it keeps. */
void td_stack_input(struct td_stack *st, uint64_t now, const void *pkt, size_t len);
/* One read from a TUN with IFF_VNET_HDR: hdr_size (10 or 12) bytes of
 * virtio-net header, then the packet. A partial checksum (NEEDS_CSUM) is
 * accepted unverified, a GSO super-packet (TCPv4/v6, UDP USO) is cut into
 * the segments it stands for; a lying header is dropped and counted
 * (vnet_bad_*). */
void td_stack_input_vnet(struct td_stack *st, uint64_t now, const void *buf, size_t len,
			 size_t hdr_size);
/* TX offloads the device takes (the TUN_F_* values TUNSETOFFLOAD accepted):
 * with CSUM, TCP leaves its checksums partial; with TSO4/TSO6 it also builds
 * GSO super-packets of up to 64 KB directly (gso_size = MSS). The caller must
 * then drain with td_stack_output_peek_vnet(). Off under output impairment.
 * 0, or -ENOMEM (the TD_STACK_BIG_BUFS 64 KB buffers, allocated once). */
#define TD_STACK_TX_CSUM 0x01u
#define TD_STACK_TX_TSO4 0x02u
#define TD_STACK_TX_TSO6 0x04u
int td_stack_set_tx_offload(struct td_stack *st, unsigned flags);
/* The next packet due at or before now preceded by hdr_size (10 or 12) bytes
 * of virtio-net header - all zero for a plain packet, NEEDS_CSUM and the GSO
 * fields for an offloaded one - as one buffer of *len bytes for one write;
 * NULL when nothing is due. Valid until td_stack_output_pop(). */
const uint8_t *td_stack_output_peek_vnet(struct td_stack *st, uint64_t now, size_t hdr_size,
					 size_t *len);
/* Run every timer due at now (reassembly timeouts, delayed packets, transports). */
void td_stack_poll(struct td_stack *st, uint64_t now);
/* Earliest instant at which td_stack_poll or the output queue needs attention;
 * UINT64_MAX when nothing is pending. */
uint64_t td_stack_next_deadline(const struct td_stack *st);

/* The next packet due at or before now, or NULL. The bytes stay valid until
 * td_stack_output_pop(); the caller writes them to the device, then pops.
 * A partial checksum (TX offloads on) is completed here; a GSO super-packet
 * has no plain form (NULL: use td_stack_output_peek_vnet). */
const uint8_t *td_stack_output_peek(struct td_stack *st, uint64_t now, size_t *len);
void td_stack_output_pop(struct td_stack *st);

const struct td_stack_stats *td_stack_stats(const struct td_stack *st);
const struct td_stack_config *td_stack_config(const struct td_stack *st);

/* Extra counters a transport (TCP) registered: their number, and the i-th
 * name/value. Lets the os/cli dump every counter without knowing transports. */
size_t td_stack_extra_count(const struct td_stack *st);
void td_stack_extra_get(const struct td_stack *st, size_t i, const char **name, uint64_t *val);

/* Pool accounting, for tests: slots currently in use (0 after every queue
 * was drained and every socket closed). */
struct td_stack_pool_usage {
	uint32_t pkt_slots, reass_slots, udp_sockets;
};
void td_stack_pool_usage(const struct td_stack *st, struct td_stack_pool_usage *u);

/* ---- UDP sockets (RFC 768) ----------------------------------------------------- */

struct td_udp_sock;

#define TD_EV_READABLE 0x1u /* a datagram (or a pending error) can be received */
#define TD_EV_WRITABLE 0x2u /* after a send failed with -ENOBUFS: packet slots are free again */

/* Readiness callback: called from inside td_stack_input/poll when the socket
 * becomes readable, or writable again after td_udp_sendto returned -ENOBUFS
 * (once half of the packet slots are free; td_stack_next_deadline then says
 * "now" so that the loop polls). It may call td_udp_recvfrom/sendto on the socket, and may
 * close it. */
typedef void (*td_udp_cb)(struct td_udp_sock *s, unsigned events, void *user);

/* Open an unbound socket. 0, or -EMFILE when the socket pool is exhausted. */
int td_udp_open(struct td_stack *st, struct td_udp_sock **out);
/* Bind to local (addr family 0 = any; port 0 = an ephemeral port).
 * -EADDRINUSE, -EINVAL (already bound, address not ours). */
int td_udp_bind(struct td_udp_sock *s, const struct td_endpoint *local);
void td_udp_set_callback(struct td_udp_sock *s, td_udp_cb cb, void *user);
/* Send one datagram (fragmented when over the MTU). An unbound socket is
 * bound to an ephemeral port first. Returns len or -EMSGSIZE (> 65507 / 65527
 * payload), -ENOBUFS (no packet slot), -EAFNOSUPPORT, -EINVAL. */
ssize_t td_udp_sendto(struct td_udp_sock *s, uint64_t now, const void *buf, size_t len,
		      const struct td_endpoint *to);
/* Receive one datagram: its length (truncated to cap, the rest discarded), or
 * -EAGAIN, or a pending error once (-ECONNREFUSED after a port unreachable
 * about a datagram this socket sent; -EHOSTUNREACH, ...). */
ssize_t td_udp_recvfrom(struct td_udp_sock *s, void *buf, size_t cap, struct td_endpoint *from);
bool td_udp_readable(const struct td_udp_sock *s);
int td_udp_local(const struct td_udp_sock *s, struct td_endpoint *local);
void td_udp_close(struct td_udp_sock *s);

#endif
