/* Private state of the IP layer, shared by stack.c, reass.c, icmp.c, udp.c, impair.c only. */
#ifndef TUNDRA_STACK_PRIV_H
#define TUNDRA_STACK_PRIV_H

#include "stack/stack_internal.h"

#define TD_REASS_HDR_ROOM 1152u  /* room for the IPv6 unfragmentable part (40 + 1024 ext) */
#define TD_REASS_DATA_MAX 65535u /* payload bytes a reassembled datagram may carry */
#define TD_MAX_TRANSPORTS 4

/* Seeded impairment of one direction (impair.c). */
struct td_impair {
	struct td_impair_config cfg;
	uint64_t rng;
	bool active;
};

struct td_impair_verdict {
	bool drop, dup, reorder, corrupt;
	uint64_t delay_ns;
	uint32_t corrupt_rand; /* picks the byte and bit to flip */
};

void td_impair_init(struct td_impair *im, const struct td_impair_config *cfg);
/* Draws a fixed number of values per packet, whatever the verdict. */
void td_impair_decide(struct td_impair *im, struct td_impair_verdict *v);

/* A packet buffer of the pool; lives on the free list, the output list or
 * the delayed-input list. */
struct td_slot {
	uint64_t due;
	int32_t next;
	uint32_t len;
	int16_t big;          /* -1, or the big buffer that holds this (GSO) packet */
	uint8_t vflags;       /* TD_VNET_F_NEEDS_CSUM: the transport checksum is left partial */
	uint8_t gso_type;     /* TD_VNET_GSO_* */
	uint16_t gso_size, hdr_len, csum_start, csum_offset;
};

/* Every slot keeps room for a virtio-net header in front of its packet, so
 * that a device write is one contiguous buffer. */
#define TD_SLOT_HEADROOM 16
/* Big buffers: GSO super-packets up to 64 KB (IP header included), only
 * while TX offloads are on (td_stack_set_tx_offload). */
#define TD_STACK_BIG_BUFS 16
#define TD_STACK_BIG_SIZE (TD_SLOT_HEADROOM + 65536)

struct td_pktlist {
	int32_t head, tail;
	uint32_t count;
};

struct td_reass_range {
	uint16_t start, end; /* [start, end) of the payload, end <= 65535 */
};

/* One datagram under reassembly (reass.c). */
struct td_reass {
	bool used, have_first, have_last;
	uint8_t family, proto;
	uint32_t ident;
	union {
		struct {
			uint32_t src, dst;
		} v4;
		struct {
			uint8_t src[16], dst[16];
		} v6;
	};
	uint64_t expires, born_seq;
	uint32_t total;       /* payload length, known once the last fragment arrived */
	uint32_t received;    /* payload bytes held (no overlaps, so coverage) */
	uint16_t hdr_len;     /* bytes of header kept in front of the payload */
	uint16_t first_len;   /* payload bytes of the first fragment (for quoting) */
	uint16_t prev_nh_off; /* IPv6: where the next header naming the fragment header sits */
	uint8_t frag_nh;      /* IPv6: next header carried by the fragment header */
	uint16_t nranges;
	struct td_reass_range *ranges; /* cfg.reass_max_frags entries */
	uint8_t *buf;                  /* TD_REASS_HDR_ROOM + TD_REASS_DATA_MAX */
};

struct td_udp_state; /* udp.c */

struct td_stack {
	struct td_stack_config cfg;
	struct td_stack_stats stats;

	/* packet slots */
	uint8_t *pkt_mem;
	uint32_t slot_size;
	struct td_slot *slots;
	int32_t free_head;
	uint32_t free_count;
	struct td_pktlist out, delayed_in;
	uint8_t *big_mem;                    /* TD_STACK_BIG_BUFS x TD_STACK_BIG_SIZE, or NULL */
	int16_t big_free[TD_STACK_BIG_BUFS]; /* stack of free big buffers */
	uint16_t nbig_free;
	unsigned tx_offload;                 /* TD_STACK_TX_* the device takes */

	struct td_impair imp_in, imp_out;

	struct td_reass *reass;
	uint32_t reass_used;
	uint64_t reass_seq;

	uint8_t *scratch; /* TD_REASS_DATA_MAX + 64: ICMP replies and errors under construction */
	uint8_t *vnet_seg; /* TD_VNET_SEG_MAX: a segment cut from a GSO super-packet */
	bool rx_l4_csum_ok; /* the input in progress carries a checksum the kernel vouches for */

	uint64_t udp_now; /* time of the input or poll call in progress (built-in services) */

	uint16_t ip4_ident;
	uint32_t ip6_ident;

	/* ICMP error token bucket, in units of 1/rate seconds expressed as ns*rate */
	uint64_t tb_tokens, tb_last;
	bool tb_started;

	const struct td_transport *tp[TD_MAX_TRANSPORTS];
	size_t ntp;
	struct td_transport udp_tp;
	struct td_udp_state *udp;
};

#define TD_VNET_SEG_MAX 65536

/* stack.c */
void td_stack_ip4_input(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len,
			bool reassembled);
void td_stack_ip6_input(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len,
			bool reassembled);
const struct td_transport *td_stack_transport(const struct td_stack *st, uint8_t proto);
bool td_stack_ip4_is_bcast_or_mcast(const struct td_stack *st, uint32_t a);
static inline bool td_ip6_is_multicast(const uint8_t a[16])
{
	return a[0] == 0xff;
}

/* reass.c */
int td_reass_init(struct td_stack *st);
void td_reass_free(struct td_stack *st);
/* Fragment of a datagram; a complete datagram is re-entered into
 * td_stack_ip4_input / ip6_input from here. */
void td_reass_ip4(struct td_stack *st, uint64_t now, const struct td_ipv4_view *v,
		  const struct td_ipv4_repr *r);
void td_reass_ip6(struct td_stack *st, uint64_t now, const struct td_ipv6_view *v,
		  const struct td_ipv6_repr *r);
void td_reass_poll(struct td_stack *st, uint64_t now);
uint64_t td_reass_next_deadline(const struct td_stack *st);
uint32_t td_reass_in_use(const struct td_stack *st);

/* icmp.c */
void td_icmp4_input(struct td_stack *st, uint64_t now, const struct td_l4_rx *rx,
		    const uint8_t *ip_pkt, size_t ip_len);
void td_icmp6_input(struct td_stack *st, uint64_t now, const struct td_l4_rx *rx,
		    const uint8_t *ip_pkt, size_t ip_len);
/* Send an ICMPv4 error about the datagram orig (from its IP header on), after
 * the suppression rules and the rate limit. rest: bytes 4..7 of the header. */
void td_icmp4_error(struct td_stack *st, uint64_t now, uint8_t type, uint8_t code, uint32_t rest,
		    const uint8_t *orig, size_t orig_len);
void td_icmp6_error(struct td_stack *st, uint64_t now, uint8_t type, uint8_t code, uint32_t rest,
		    const uint8_t *orig, size_t orig_len);

/* udp.c */
int td_udp_init(struct td_stack *st);
void td_udp_fini(struct td_stack *st);
uint32_t td_udp_in_use(const struct td_stack *st);
/* A socket waits for TD_EV_WRITABLE and half of the packet slots are free. */
bool td_udp_writable_due(const struct td_stack *st);
void td_udp_poll(struct td_stack *st, uint64_t now);

#endif
