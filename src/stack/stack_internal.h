/* The seam between the IP layer and its transports (UDP here, TCP in tcp_*.c). */
#ifndef TUNDRA_STACK_INTERNAL_H
#define TUNDRA_STACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tundra/stack.h"
#include "tundra/wire.h"

/*
 * How a transport plugs in (stable; UDP uses exactly this path, TCP will too).
 *
 * 1. Registration. At creation time (or right after td_stack_create, from the
 *    transport's own td_<proto>_attach(st, cfg)), the transport fills a
 *    struct td_transport and calls td_stack_transport_register(). The stack
 *    keeps the pointer (it must outlive the stack) and calls ->destroy(ctx)
 *    from td_stack_destroy(), after every timer has stopped.
 *
 * 2. Input. After IPv4/IPv6 validation, reassembly and the extension-header
 *    walk, the stack calls ->input(ctx, now, &rx) with the address pair and
 *    the whole upper-layer message (header + payload, length from the IP
 *    layer; link padding already trimmed). The transport verifies its own
 *    checksum (td_csum_pseudo4/6 + td_tcp_check/td_udp_parse with
 *    td_stack_wire_flags(st)), counts codec errors with td_stack_count_wire()
 *    and its own drops in its own counters. Return value:
 *        TD_L4_DONE        consumed or dropped-and-counted by the transport;
 *        TD_L4_PORT_UNREACH no endpoint: the stack sends ICMP port unreachable
 *                          (v4 type 3 code 3, v6 type 1 code 4) subject to the
 *                          RFC 1122 §4.1.3.1 / RFC 4443 §2.4 suppression rules
 *                          and the rate limit. TCP answers closed ports with
 *                          RST instead and so never returns it.
 *    The rx struct and the bytes it points to are valid only during the call.
 *
 * 3. ICMP errors. When an ICMP/ICMPv6 error arrives whose quoted datagram
 *    (its IP header, walked like any input) carries this transport's
 *    protocol, the stack calls ->icmp_error(ctx, now, &err). err.flow is the
 *    pair as the transport sent it (src = us), err.quoted the quoted bytes
 *    from the L4 header on (at least 8 bytes: the ports, and for TCP the
 *    sequence number). Packet too big / fragmentation needed carries err.mtu.
 *    Return true when a flow owned it; false counts icmp_rx_error_unmatched.
 *
 * 4. Output. The transport builds its complete L4 message (header + payload,
 *    checksum computed over td_csum_pseudo4/6 of the pair), then calls
 *    td_stack_ip_sendv() with the pieces; the stack copies them once behind
 *    an IPv4 header (ident, TTL, DF per tx->df) or IPv6 header, fragments
 *    when the datagram exceeds the MTU (IPv4 only when DF is clear; IPv6
 *    always with a Fragment header, RFC 8200 §4.5), passes the packets
 *    through the output impairment and queues them for the device.
 *    Returns 0, -ENOBUFS (packet slots exhausted: counted tx_no_slot),
 *    -EMSGSIZE (DF and over the MTU, or over 65535), -EAFNOSUPPORT (no
 *    address of that family), -EINVAL. A transport that needs the payload
 *    room per packet asks td_stack_mtu() (TCP MSS = mtu - 40 / - 60).
 *
 * 5. Timers. ->poll(ctx, now) is called from every td_stack_poll() and
 *    ->next_deadline(ctx) from every td_stack_next_deadline() (UINT64_MAX =
 *    none). The transport never reads a clock.
 *
 * 6. Counters. ->counter_count/counter_get expose the transport's own
 *    counters (name, value) so the os/cli dump them with the stack's.
 *    Codec errors go to td_stack_count_wire(st, TD_LAYER_TCP, err).
 */

enum td_l4_verdict {
	TD_L4_DONE = 0,
	TD_L4_PORT_UNREACH = 1,
};

/* An upper-layer message handed to a transport. */
struct td_l4_rx {
	struct td_ip_pair ip;  /* src = the peer, dst = us */
	const uint8_t *l4;     /* transport header + payload */
	size_t len;            /* from the IP length fields */
	uint8_t tos;           /* IPv4 TOS / IPv6 traffic class (ECN in the low 2 bits) */
	uint8_t ttl;           /* TTL / hop limit as received */
	bool dst_multicast;    /* sent to a broadcast or multicast address */
};

/* An ICMP error about a datagram we sent. */
struct td_l4_icmp_err {
	struct td_ip_pair flow; /* as we sent it: src = us, dst = the peer */
	uint8_t family;         /* TD_AF_INET: ICMPv4 type/code; TD_AF_INET6: ICMPv6 */
	uint8_t type, code;
	uint32_t mtu;           /* frag needed / packet too big; else 0 */
	const uint8_t *quoted;  /* quoted L4 header and whatever followed */
	size_t quoted_len;      /* >= 8 */
	int err;                /* the errno a socket should report: -ECONNREFUSED, -EHOSTUNREACH,
				   -ENETUNREACH, -EMSGSIZE, -EPROTO, ... */
};

struct td_transport {
	uint8_t proto; /* TD_IPPROTO_TCP, TD_IPPROTO_UDP */
	void *ctx;
	enum td_l4_verdict (*input)(void *ctx, uint64_t now, const struct td_l4_rx *rx);
	bool (*icmp_error)(void *ctx, uint64_t now, const struct td_l4_icmp_err *err);
	void (*poll)(void *ctx, uint64_t now);                 /* may be NULL */
	uint64_t (*next_deadline)(const void *ctx);            /* may be NULL */
	size_t (*counter_count)(const void *ctx);              /* may be NULL */
	void (*counter_get)(const void *ctx, size_t i, const char **name, uint64_t *val);
	void (*destroy)(void *ctx);                            /* may be NULL */
	/* The segments cut from one GSO super-packet are input between
	 * batch(begin = true) and batch(begin = false): a transport may hold
	 * its replies until the end, one ACK for the run as a GRO receiver
	 * sends. May be NULL. */
	void (*batch)(void *ctx, uint64_t now, bool begin);
};

/* At most one transport per protocol. 0, -EEXIST, -ENOSPC. */
int td_stack_transport_register(struct td_stack *st, const struct td_transport *t);

/* Output options for one datagram. Zero-initialised = defaults. */
struct td_ip_tx {
	bool df;        /* IPv4: set DF and never fragment (TCP does PMTUD) */
	uint8_t tos;    /* IPv4 TOS / IPv6 traffic class */
	uint8_t ttl;    /* 0 = the configured default */
};

/* Send one upper-layer message made of n pieces (concatenated), see 4. above. */
int td_stack_ip_sendv(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip,
		      uint8_t proto, const struct td_ip_tx *tx, const struct td_bytes *pieces,
		      size_t n);
static inline int td_stack_ip_send(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip,
				   uint8_t proto, const struct td_ip_tx *tx, const void *l4,
				   size_t len)
{
	struct td_bytes b = {(const uint8_t *)l4, len};
	return td_stack_ip_sendv(st, now, ip, proto, tx, &b, 1);
}

/* TX offloads (td_stack_set_tx_offload, off under output impairment):
 * whether a transport may leave its checksum partial, and the largest
 * transport message (header + payload) of a GSO super-packet of a family
 * (0: none now - no TSO, or every big buffer queued). */
bool td_stack_tx_csum_partial(const struct td_stack *st);
uint32_t td_stack_tx_gso_max(const struct td_stack *st, uint8_t family);
/* Send one transport message with its checksum left to the device: pieces[0]
 * is the transport header, its checksum field (csum_offset into it) holding
 * the folded pseudo-header sum, then the payload, copied once. gso_size > 0
 * and more payload than that: a GSO super-packet (TCP). Returns as
 * td_stack_ip_sendv, or -EINVAL when the offloads are off. */
int td_stack_ip_send_offload(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip,
			     uint8_t proto, const struct td_ip_tx *tx, const struct td_bytes *pieces,
			     size_t n, uint16_t gso_size, uint16_t csum_offset);

/* Link MTU (bytes of IP datagram per packet). */
uint32_t td_stack_mtu(const struct td_stack *st);
/* Flags for the transports' own check/parse calls (TD_WIRE_SKIP_CSUM when fuzzing). */
unsigned td_stack_wire_flags(const struct td_stack *st);
/* The stack's own address of a family: 0, or -EAFNOSUPPORT. */
int td_stack_local_addr(const struct td_stack *st, uint8_t family, struct td_ip_addr *out);
/* True when addr is one of ours. */
bool td_stack_is_local(const struct td_stack *st, const struct td_ip_addr *addr);
/* Pseudo-header accumulator of a pair for proto and an upper-layer length. */
uint32_t td_stack_pseudo(const struct td_ip_pair *ip, uint8_t proto, uint32_t len);
/* Count a codec error found by a transport. */
void td_stack_count_wire(struct td_stack *st, enum td_stack_layer layer, enum td_wire_err err);
/* Bump a stack counter (for shared reasons such as tx_no_slot). */
void td_stack_count(struct td_stack *st, enum td_stack_ctr c);

/* Helpers on addresses. */
void td_ip_pair_reverse(struct td_ip_pair *out, const struct td_ip_pair *in);
void td_ip_pair_src(const struct td_ip_pair *p, struct td_ip_addr *out);
void td_ip_pair_dst(const struct td_ip_pair *p, struct td_ip_addr *out);
bool td_ip_addr_eq(const struct td_ip_addr *a, const struct td_ip_addr *b);

#endif
