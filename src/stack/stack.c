/* The IP layer: validation and dispatch (RFC 791, 1122, 8200), output with fragmentation, packet slots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack_priv.h"

/* ---- names ------------------------------------------------------------------ */

static const char *const ctr_names[] = {
#define TD_X_(name, drop, help) #name,
	TD_STACK_COUNTERS(TD_X_)
#undef TD_X_
};
static const char *const ctr_help[] = {
#define TD_X_(name, drop, help) help,
	TD_STACK_COUNTERS(TD_X_)
#undef TD_X_
};
static const bool ctr_drop[] = {
#define TD_X_(name, drop, help) drop,
	TD_STACK_COUNTERS(TD_X_)
#undef TD_X_
};
static const char *const layer_names[TD_LAYER_COUNT] = {"ip4", "ip6", "icmp4", "icmp6", "udp",
							 "tcp"};

const char *td_stack_ctr_name(enum td_stack_ctr c)
{
	return (unsigned)c < TD_CTR_COUNT ? ctr_names[c] : "?";
}
const char *td_stack_ctr_help(enum td_stack_ctr c)
{
	return (unsigned)c < TD_CTR_COUNT ? ctr_help[c] : "?";
}
bool td_stack_ctr_is_drop(enum td_stack_ctr c)
{
	return (unsigned)c < TD_CTR_COUNT && ctr_drop[c];
}
const char *td_stack_layer_name(enum td_stack_layer l)
{
	return (unsigned)l < TD_LAYER_COUNT ? layer_names[l] : "?";
}

void td_stack_count(struct td_stack *st, enum td_stack_ctr c)
{
	st->stats.ctr[c]++;
}

void td_stack_count_wire(struct td_stack *st, enum td_stack_layer layer, enum td_wire_err err)
{
	if ((unsigned)layer < TD_LAYER_COUNT && (unsigned)err < TD_WIRE_ERR_COUNT)
		st->stats.wire[layer][err]++;
}

/* ---- configuration ----------------------------------------------------------- */

void td_stack_config_default(struct td_stack_config *c)
{
	static const uint8_t fd00_2[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	memset(c, 0, sizeof(*c));
	c->has_addr4 = true;
	c->addr4 = 0x0a000002; /* 10.0.0.2 */
	c->prefix4 = 24;
	c->has_addr6 = true;
	memcpy(c->addr6, fd00_2, 16);
	c->mtu = 1500;
	c->ttl = 64;
	c->pkt_slots = 1024;
	c->reass_slots = 16;
	c->reass_max_frags = 64;
	c->reass_timeout_ns = 30ull * 1000000000ull;
	c->icmp_err_rate = 100;
	c->icmp_err_burst = 20;
	c->udp_sockets = 32;
	c->udp_rcvbuf = 128 * 1024; /* the largest datagram and then some */
	c->udp_echo = true;
	c->udp_discard = true;
	c->icmp_echo = true;
#ifdef TD_FUZZING
	/* the fuzzing build never verifies checksums, so inputs reach deep code */
	c->wire_flags = TD_WIRE_SKIP_CSUM;
#endif
}

static int config_valid(const struct td_stack_config *c)
{
	if (!c->has_addr4 && !c->has_addr6)
		return -EINVAL;
	if (c->mtu < 576 || c->mtu > 65535 || (c->has_addr6 && c->mtu < 1280))
		return -EINVAL;
	if (c->prefix4 > 32 || c->pkt_slots < 8 || c->reass_max_frags < 2 ||
	    c->reass_max_frags > 8192 || c->udp_sockets < 2 || c->udp_rcvbuf < 2048 ||
	    c->icmp_err_burst == 0)
		return -EINVAL;
	return 0;
}

/* ---- packet slots and the two time-ordered lists ---------------------------------- */

static uint8_t *slot_data(const struct td_stack *st, int32_t i)
{
	int16_t b = st->slots[i].big;
	if (b >= 0)
		return st->big_mem + (size_t)b * TD_STACK_BIG_SIZE + TD_SLOT_HEADROOM;
	return st->pkt_mem + (size_t)i * st->slot_size + TD_SLOT_HEADROOM;
}

static int32_t slot_get(struct td_stack *st)
{
	int32_t i = st->free_head;
	if (i < 0)
		return -1;
	st->free_head = st->slots[i].next;
	st->free_count--;
	st->slots[i].next = -1;
	st->slots[i].len = 0;
	st->slots[i].big = -1;
	st->slots[i].vflags = st->slots[i].gso_type = 0;
	return i;
}

static void slot_put(struct td_stack *st, int32_t i)
{
	if (st->slots[i].big >= 0) {
		st->big_free[st->nbig_free++] = st->slots[i].big;
		st->slots[i].big = -1;
	}
	st->slots[i].next = st->free_head;
	st->free_head = i;
	st->free_count++;
}

/* Insert keeping the list ordered by due time; equal times keep FIFO order.
 * The common case (no delay) appends at the tail in O(1). */
static void list_insert(struct td_stack *st, struct td_pktlist *l, int32_t i)
{
	struct td_slot *s = &st->slots[i];
	s->next = -1;
	if (l->head < 0) {
		l->head = l->tail = i;
	} else if (st->slots[l->tail].due <= s->due) {
		st->slots[l->tail].next = i;
		l->tail = i;
	} else if (st->slots[l->head].due > s->due) {
		s->next = l->head;
		l->head = i;
	} else {
		int32_t p = l->head;
		while (st->slots[p].next >= 0 && st->slots[st->slots[p].next].due <= s->due)
			p = st->slots[p].next;
		s->next = st->slots[p].next;
		st->slots[p].next = i;
		if (s->next < 0)
			l->tail = i;
	}
	l->count++;
}

static int32_t list_pop(struct td_stack *st, struct td_pktlist *l)
{
	int32_t i = l->head;
	if (i < 0)
		return -1;
	l->head = st->slots[i].next;
	if (l->head < 0)
		l->tail = -1;
	l->count--;
	return i;
}

static void flip_bit(uint8_t *p, uint32_t len, uint32_t r)
{
	if (len)
		p[r % len] ^= (uint8_t)(1u << ((r >> 24) & 7));
}

/* The packet in slot i (len bytes) leaves through the output impairment. */
static void out_enqueue(struct td_stack *st, uint64_t now, int32_t i)
{
	struct td_slot *s = &st->slots[i];
	s->due = now;
	/* Callers' clocks are not all the same reading (TCP sends at the time
	 * of its last input or poll): never let a packet overtake one queued
	 * before it, or a flow's segments leave out of order. */
	if (!st->imp_out.active && st->out.tail >= 0 && st->slots[st->out.tail].due > now)
		s->due = st->slots[st->out.tail].due;
	st->stats.ctr[TD_CTR_tx_packets]++;
	st->stats.ctr[TD_CTR_tx_bytes] += s->len;
	if (st->imp_out.active) {
		struct td_impair_verdict v;
		td_impair_decide(&st->imp_out, &v);
		if (v.drop) {
			st->stats.ctr[TD_CTR_impair_out_loss]++;
			slot_put(st, i);
			return;
		}
		if (v.corrupt) {
			flip_bit(slot_data(st, i), s->len, v.corrupt_rand);
			st->stats.ctr[TD_CTR_impair_out_corrupt]++;
		}
		if (v.delay_ns)
			st->stats.ctr[TD_CTR_impair_out_delayed]++;
		if (v.reorder)
			st->stats.ctr[TD_CTR_impair_out_reorder]++;
		s->due = now + v.delay_ns;
		if (v.dup && s->big < 0) {
			int32_t d = slot_get(st);
			if (d >= 0) {
				memcpy(slot_data(st, d), slot_data(st, i), s->len);
				st->slots[d].len = s->len;
				st->slots[d].due = s->due;
				st->stats.ctr[TD_CTR_impair_out_dup]++;
				list_insert(st, &st->out, d);
			}
		}
	}
	list_insert(st, &st->out, i);
}

const uint8_t *td_stack_output_peek(struct td_stack *st, uint64_t now, size_t *len)
{
	int32_t i = st->out.head;
	if (i < 0 || st->slots[i].due > now)
		return NULL;
	struct td_slot *sl = &st->slots[i];
	if (sl->vflags) {
		/* a reader without a virtio-net header (a test, a capture): the
		 * checksum is completed here; a GSO packet has no plain form */
		if (sl->gso_type)
			return NULL;
		struct td_vnet_repr vr = {.flags = sl->vflags,
					  .csum_start = sl->csum_start,
					  .csum_offset = sl->csum_offset};
		td_vnet_csum_finish(&vr, slot_data(st, i), sl->len);
		sl->vflags = 0;
	}
	*len = sl->len;
	return slot_data(st, i);
}

void td_stack_output_pop(struct td_stack *st)
{
	int32_t i = list_pop(st, &st->out);
	if (i >= 0)
		slot_put(st, i);
}

/* ---- create / destroy ------------------------------------------------------------- */

int td_stack_create(const struct td_stack_config *cfg, struct td_stack **out)
{
	int err = config_valid(cfg);
	if (err)
		return err;
	struct td_stack *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = *cfg;
	st->slot_size = cfg->mtu + TD_SLOT_HEADROOM;
	st->pkt_mem = malloc((size_t)cfg->pkt_slots * st->slot_size);
	st->slots = calloc(cfg->pkt_slots, sizeof(*st->slots));
	st->scratch = malloc(TD_REASS_DATA_MAX + 64);
	st->vnet_seg = malloc(TD_VNET_SEG_MAX);
	if (!st->pkt_mem || !st->slots || !st->scratch || !st->vnet_seg) {
		err = -ENOMEM;
		goto fail;
	}
	st->free_head = -1;
	for (int32_t i = (int32_t)cfg->pkt_slots - 1; i >= 0; i--) {
		st->slots[i].big = -1;
		slot_put(st, i);
	}
	st->out.head = st->out.tail = -1;
	st->delayed_in.head = st->delayed_in.tail = -1;
	td_impair_init(&st->imp_in, &cfg->impair_in);
	td_impair_init(&st->imp_out, &cfg->impair_out);
	/* Identifiers start from the seed-independent address mix so that two
	 * stacks do not start in lockstep; RFC 7739 asks for unpredictability
	 * against off-path attackers, which a TUN peer is not. */
	st->ip4_ident = (uint16_t)(cfg->addr4 * 2654435761u >> 16);
	st->ip6_ident = 0x9e3779b9u ^ cfg->addr6[15];
	err = td_reass_init(st);
	if (err)
		goto fail;
	err = td_udp_init(st);
	if (err)
		goto fail;
	*out = st;
	return 0;
fail:
	td_stack_destroy(st);
	return err;
}

void td_stack_destroy(struct td_stack *st)
{
	if (!st)
		return;
	for (size_t i = st->ntp; i-- > 0;) {
		const struct td_transport *t = st->tp[i];
		if (t != &st->udp_tp && t->destroy)
			t->destroy(t->ctx);
	}
	td_udp_fini(st);
	td_reass_free(st);
	free(st->scratch);
	free(st->vnet_seg);
	free(st->slots);
	free(st->pkt_mem);
	free(st->big_mem);
	free(st);
}

int td_stack_transport_register(struct td_stack *st, const struct td_transport *t)
{
	if (!t || !t->input || !t->icmp_error)
		return -EINVAL;
	if (td_stack_transport(st, t->proto))
		return -EEXIST;
	if (st->ntp >= TD_MAX_TRANSPORTS)
		return -ENOSPC;
	st->tp[st->ntp++] = t;
	return 0;
}

const struct td_transport *td_stack_transport(const struct td_stack *st, uint8_t proto)
{
	for (size_t i = 0; i < st->ntp; i++)
		if (st->tp[i]->proto == proto)
			return st->tp[i];
	return NULL;
}

/* ---- accessors --------------------------------------------------------------------- */

const struct td_stack_stats *td_stack_stats(const struct td_stack *st)
{
	return &st->stats;
}
const struct td_stack_config *td_stack_config(const struct td_stack *st)
{
	return &st->cfg;
}
uint32_t td_stack_mtu(const struct td_stack *st)
{
	return st->cfg.mtu;
}
unsigned td_stack_wire_flags(const struct td_stack *st)
{
	/* Offloaded input: the kernel vouches for the transport checksum
	 * (virtio 1.x §5.1.6.2.1, NEEDS_CSUM / GSO), which holds only the
	 * pseudo-header sum, so transports must not verify it. */
	if (st->rx_l4_csum_ok)
		return st->cfg.wire_flags | TD_WIRE_SKIP_CSUM;
	return st->cfg.wire_flags;
}

int td_stack_local_addr(const struct td_stack *st, uint8_t family, struct td_ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (family == TD_AF_INET && st->cfg.has_addr4) {
		out->v4 = st->cfg.addr4;
		return 0;
	}
	if (family == TD_AF_INET6 && st->cfg.has_addr6) {
		memcpy(out->v6, st->cfg.addr6, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

bool td_stack_is_local(const struct td_stack *st, const struct td_ip_addr *a)
{
	if (a->family == TD_AF_INET)
		return st->cfg.has_addr4 && a->v4 == st->cfg.addr4;
	if (a->family == TD_AF_INET6)
		return st->cfg.has_addr6 && !memcmp(a->v6, st->cfg.addr6, 16);
	return false;
}

uint32_t td_stack_pseudo(const struct td_ip_pair *ip, uint8_t proto, uint32_t len)
{
	if (ip->family == TD_AF_INET)
		return td_csum_pseudo4(ip->v4.src, ip->v4.dst, proto, (uint16_t)len);
	return td_csum_pseudo6(ip->v6.src, ip->v6.dst, proto, len);
}

void td_ip_pair_reverse(struct td_ip_pair *out, const struct td_ip_pair *in)
{
	struct td_ip_pair t = *in;
	if (in->family == TD_AF_INET) {
		t.v4.src = in->v4.dst;
		t.v4.dst = in->v4.src;
	} else {
		memcpy(t.v6.src, in->v6.dst, 16);
		memcpy(t.v6.dst, in->v6.src, 16);
	}
	*out = t;
}

void td_ip_pair_src(const struct td_ip_pair *p, struct td_ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = p->family;
	if (p->family == TD_AF_INET)
		out->v4 = p->v4.src;
	else
		memcpy(out->v6, p->v6.src, 16);
}

void td_ip_pair_dst(const struct td_ip_pair *p, struct td_ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = p->family;
	if (p->family == TD_AF_INET)
		out->v4 = p->v4.dst;
	else
		memcpy(out->v6, p->v6.dst, 16);
}

bool td_ip_addr_eq(const struct td_ip_addr *a, const struct td_ip_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == TD_AF_INET)
		return a->v4 == b->v4;
	return !memcmp(a->v6, b->v6, 16);
}

size_t td_stack_extra_count(const struct td_stack *st)
{
	size_t n = 0;
	for (size_t i = 0; i < st->ntp; i++)
		if (st->tp[i]->counter_count)
			n += st->tp[i]->counter_count(st->tp[i]->ctx);
	return n;
}

void td_stack_extra_get(const struct td_stack *st, size_t idx, const char **name, uint64_t *val)
{
	*name = "?";
	*val = 0;
	for (size_t i = 0; i < st->ntp; i++) {
		const struct td_transport *t = st->tp[i];
		size_t n = t->counter_count ? t->counter_count(t->ctx) : 0;
		if (idx < n) {
			t->counter_get(t->ctx, idx, name, val);
			return;
		}
		idx -= n;
	}
}

void td_stack_pool_usage(const struct td_stack *st, struct td_stack_pool_usage *u)
{
	u->pkt_slots = st->cfg.pkt_slots - st->free_count;
	u->reass_slots = td_reass_in_use(st);
	u->udp_sockets = td_udp_in_use(st);
}

/* ---- output ----------------------------------------------------------------------- */

/* Copy bytes [off, off+len) of the concatenated pieces to dst. */
static void gather(uint8_t *dst, const struct td_bytes *pieces, size_t n, size_t off, size_t len)
{
	for (size_t i = 0; i < n && len; i++) {
		if (off >= pieces[i].len) {
			off -= pieces[i].len;
			continue;
		}
		size_t k = pieces[i].len - off;
		if (k > len)
			k = len;
		memcpy(dst, pieces[i].ptr + off, k);
		dst += k;
		len -= k;
		off = 0;
	}
}

static int send4(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip, uint8_t proto,
		 const struct td_ip_tx *tx, const struct td_bytes *pieces, size_t n, size_t total)
{
	struct td_ipv4_repr r;
	memset(&r, 0, sizeof(r));
	r.src = ip->v4.src;
	r.dst = ip->v4.dst;
	r.ident = st->ip4_ident++;
	r.tos = tx ? tx->tos : 0;
	r.ttl = tx && tx->ttl ? tx->ttl : st->cfg.ttl;
	r.proto = proto;
	r.df = tx && tx->df;
	uint32_t mtu = st->cfg.mtu;
	if (total + TD_IPV4_HDR_MIN > 65535 || (r.df && total + TD_IPV4_HDR_MIN > mtu)) {
		st->stats.ctr[TD_CTR_tx_too_big]++;
		return -EMSGSIZE;
	}
	/* RFC 791 §3.2 fragmentation: every fragment but the last carries a
	 * multiple of 8 payload bytes. */
	size_t per = total + TD_IPV4_HDR_MIN <= mtu ? total : ((mtu - TD_IPV4_HDR_MIN) & ~7u);
	size_t nfrag = total ? (total + per - 1) / per : 1;
	if (nfrag > st->free_count) {
		st->stats.ctr[TD_CTR_tx_no_slot]++;
		return -ENOBUFS;
	}
	for (size_t off = 0, k = 0; k < nfrag; k++, off += per) {
		size_t flen = total - off < per ? total - off : per;
		int32_t i = slot_get(st);
		uint8_t *p = slot_data(st, i);
		r.frag_off = (uint16_t)off;
		r.mf = off + flen < total;
		r.payload_len = (uint16_t)flen;
		td_ipv4_emit(&r, p, TD_IPV4_HDR_MIN);
		gather(p + TD_IPV4_HDR_MIN, pieces, n, off, flen);
		st->slots[i].len = (uint32_t)(TD_IPV4_HDR_MIN + flen);
		if (nfrag > 1)
			st->stats.ctr[TD_CTR_tx_frags]++;
		out_enqueue(st, now, i);
	}
	return 0;
}

/* The IPv6 header of a packet the stack sends: addresses, traffic class and
 * hop limit (the transport's, else the configured one). */
static void ip6_repr_init(const struct td_stack *st, const struct td_ip_pair *ip,
			  const struct td_ip_tx *tx, struct td_ipv6_repr *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->src, ip->v6.src, 16);
	memcpy(r->dst, ip->v6.dst, 16);
	r->tclass = tx ? tx->tos : 0;
	r->hop_limit = tx && tx->ttl ? tx->ttl : st->cfg.ttl;
}

static int send6(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip, uint8_t proto,
		 const struct td_ip_tx *tx, const struct td_bytes *pieces, size_t n, size_t total)
{
	struct td_ipv6_repr r;
	ip6_repr_init(st, ip, tx, &r);
	uint32_t mtu = st->cfg.mtu;
	if (total + TD_IPV6_HDR_LEN <= mtu) {
		int32_t i = slot_get(st);
		if (i < 0) {
			st->stats.ctr[TD_CTR_tx_no_slot]++;
			return -ENOBUFS;
		}
		uint8_t *p = slot_data(st, i);
		r.next_header = proto;
		r.payload_len = (uint16_t)total;
		td_ipv6_emit(&r, p, TD_IPV6_HDR_LEN);
		gather(p + TD_IPV6_HDR_LEN, pieces, n, 0, total);
		st->slots[i].len = (uint32_t)(TD_IPV6_HDR_LEN + total);
		out_enqueue(st, now, i);
		return 0;
	}
	/* RFC 8200 §4.5: the source fragments, each fragment a multiple of 8
	 * bytes but the last, behind a Fragment header. */
	if (total + 8 > 65535) {
		st->stats.ctr[TD_CTR_tx_too_big]++;
		return -EMSGSIZE;
	}
	size_t per = (mtu - TD_IPV6_HDR_LEN - 8) & ~7u;
	size_t nfrag = (total + per - 1) / per;
	if (nfrag > st->free_count) {
		st->stats.ctr[TD_CTR_tx_no_slot]++;
		return -ENOBUFS;
	}
	struct td_ipv6_frag f = {.ident = st->ip6_ident++};
	r.next_header = TD_IPPROTO_FRAGMENT;
	for (size_t off = 0, k = 0; k < nfrag; k++, off += per) {
		size_t flen = total - off < per ? total - off : per;
		int32_t i = slot_get(st);
		uint8_t *p = slot_data(st, i);
		r.payload_len = (uint16_t)(8 + flen);
		td_ipv6_emit(&r, p, TD_IPV6_HDR_LEN);
		f.offset = (uint16_t)off;
		f.more = off + flen < total;
		td_ipv6_frag_emit(proto, &f, p + TD_IPV6_HDR_LEN, 8);
		gather(p + TD_IPV6_HDR_LEN + 8, pieces, n, off, flen);
		st->slots[i].len = (uint32_t)(TD_IPV6_HDR_LEN + 8 + flen);
		st->stats.ctr[TD_CTR_tx_frags]++;
		out_enqueue(st, now, i);
	}
	return 0;
}

int td_stack_ip_sendv(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip,
		      uint8_t proto, const struct td_ip_tx *tx, const struct td_bytes *pieces,
		      size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += pieces[i].len;
	if (ip->family == TD_AF_INET) {
		if (!st->cfg.has_addr4)
			return -EAFNOSUPPORT;
		return send4(st, now, ip, proto, tx, pieces, n, total);
	}
	if (ip->family == TD_AF_INET6) {
		if (!st->cfg.has_addr6)
			return -EAFNOSUPPORT;
		return send6(st, now, ip, proto, tx, pieces, n, total);
	}
	return -EINVAL;
}

/* ---- output with TX offloads (virtio-net header) ------------------------------------ */

int td_stack_set_tx_offload(struct td_stack *st, unsigned flags)
{
	flags &= TD_STACK_TX_CSUM | TD_STACK_TX_TSO4 | TD_STACK_TX_TSO6;
	if (!(flags & TD_STACK_TX_CSUM))
		flags = 0; /* TSO without checksum offload is not a thing (virtio 1.x §5.1.3.1) */
	if ((flags & (TD_STACK_TX_TSO4 | TD_STACK_TX_TSO6)) && !st->big_mem) {
		st->big_mem = malloc((size_t)TD_STACK_BIG_BUFS * TD_STACK_BIG_SIZE);
		if (!st->big_mem)
			return -ENOMEM;
		for (int16_t b = TD_STACK_BIG_BUFS - 1; b >= 0; b--)
			st->big_free[st->nbig_free++] = b;
	}
	st->tx_offload = flags;
	return 0;
}

/* Output impairment must see every segment on its own with a complete
 * checksum (a corrupted bit has to fail it), so it turns the offloads off. */
static unsigned tx_offload(const struct td_stack *st)
{
	return st->imp_out.active ? 0 : st->tx_offload;
}

bool td_stack_tx_csum_partial(const struct td_stack *st)
{
	return tx_offload(st) & TD_STACK_TX_CSUM;
}

uint32_t td_stack_tx_gso_max(const struct td_stack *st, uint8_t family)
{
	unsigned f = tx_offload(st);
	if (family == TD_AF_INET && (f & TD_STACK_TX_TSO4) && st->nbig_free)
		return 65535 - TD_IPV4_HDR_MIN;
	if (family == TD_AF_INET6 && (f & TD_STACK_TX_TSO6) && st->nbig_free)
		return 65535 - TD_IPV6_HDR_LEN;
	return 0;
}

/*
 * One TCP/UDP message whose checksum the device completes: pieces[0] is the
 * transport header with the pseudo-header sum (folded, not complemented) in
 * its checksum field at csum_offset, the rest the payload, gathered once
 * behind the IP header. With gso_size and more payload than gso_size it is a
 * GSO super-packet (virtio 1.x §5.1.6.2) in a big buffer: the kernel cuts it
 * (or, delivering locally, does not even cut it), each segment gso_size
 * bytes of payload but the last, IP ID and sequence numbers advanced, FIN
 * and PSH only on the last segment.
 */
int td_stack_ip_send_offload(struct td_stack *st, uint64_t now, const struct td_ip_pair *ip,
			     uint8_t proto, const struct td_ip_tx *tx, const struct td_bytes *pieces,
			     size_t n, uint16_t gso_size, uint16_t csum_offset)
{
	size_t total = 0;
	for (size_t k = 0; k < n; k++)
		total += pieces[k].len;
	bool v4 = ip->family == TD_AF_INET;
	if (v4 ? !st->cfg.has_addr4 : (ip->family != TD_AF_INET6 || !st->cfg.has_addr6))
		return -EAFNOSUPPORT;
	if (!n || !td_stack_tx_csum_partial(st))
		return -EINVAL;
	size_t iphl = v4 ? TD_IPV4_HDR_MIN : TD_IPV6_HDR_LEN;
	size_t thl = pieces[0].len;
	bool gso = gso_size && total - thl > gso_size;
	if (total + iphl > (gso ? 65535 : st->cfg.mtu)) {
		st->stats.ctr[TD_CTR_tx_too_big]++;
		return -EMSGSIZE;
	}
	if (gso && !td_stack_tx_gso_max(st, ip->family))
		return -EINVAL;
	int32_t i = slot_get(st);
	if (i < 0) {
		st->stats.ctr[TD_CTR_tx_no_slot]++;
		return -ENOBUFS;
	}
	struct td_slot *sl = &st->slots[i];
	if (gso) {
		sl->big = st->big_free[--st->nbig_free];
		sl->gso_type = v4 ? TD_VNET_GSO_TCPV4 : TD_VNET_GSO_TCPV6;
		sl->gso_size = gso_size;
		st->stats.ctr[TD_CTR_vnet_gso_tx]++;
		st->stats.ctr[TD_CTR_vnet_gso_tx_segs] += (total - thl + gso_size - 1) / gso_size;
	}
	sl->vflags = TD_VNET_F_NEEDS_CSUM;
	sl->hdr_len = (uint16_t)(iphl + thl);
	sl->csum_start = (uint16_t)iphl;
	sl->csum_offset = csum_offset;
	uint8_t *p = slot_data(st, i);
	if (v4) {
		struct td_ipv4_repr r;
		memset(&r, 0, sizeof(r));
		r.src = ip->v4.src;
		r.dst = ip->v4.dst;
		r.ident = st->ip4_ident;
		/* the kernel numbers the segments it cuts ident, ident + 1, ... */
		st->ip4_ident = (uint16_t)(st->ip4_ident + (gso ? (total - thl + gso_size - 1) / gso_size : 1));
		r.tos = tx ? tx->tos : 0;
		r.ttl = tx && tx->ttl ? tx->ttl : st->cfg.ttl;
		r.proto = proto;
		r.df = tx && tx->df;
		r.payload_len = (uint16_t)total;
		td_ipv4_emit(&r, p, TD_IPV4_HDR_MIN);
	} else {
		struct td_ipv6_repr r;
		ip6_repr_init(st, ip, tx, &r);
		r.next_header = proto;
		r.payload_len = (uint16_t)total;
		td_ipv6_emit(&r, p, TD_IPV6_HDR_LEN);
	}
	gather(p + iphl, pieces, n, 0, total);
	sl->len = (uint32_t)(iphl + total);
	out_enqueue(st, now, i);
	return 0;
}

const uint8_t *td_stack_output_peek_vnet(struct td_stack *st, uint64_t now, size_t hdr_size,
					 size_t *len)
{
	int32_t i = st->out.head;
	if (i < 0 || st->slots[i].due > now || hdr_size > TD_SLOT_HEADROOM)
		return NULL;
	const struct td_slot *sl = &st->slots[i];
	uint8_t *p = slot_data(st, i) - hdr_size;
	struct td_vnet_repr vr = {.flags = sl->vflags,
				  .gso_type = sl->gso_type,
				  .hdr_len = sl->vflags ? sl->hdr_len : 0,
				  .gso_size = sl->gso_size,
				  .csum_start = sl->vflags ? sl->csum_start : 0,
				  .csum_offset = sl->vflags ? sl->csum_offset : 0};
	if (!sl->gso_type)
		vr.gso_size = 0;
	if (td_vnet_emit(&vr, p, hdr_size) != TD_WIRE_OK)
		return NULL;
	*len = hdr_size + sl->len;
	return p;
}

/* ---- input -------------------------------------------------------------------------- */

bool td_stack_ip4_is_bcast_or_mcast(const struct td_stack *st, uint32_t a)
{
	if (a == 0xffffffffu || (a >> 28) == 0xe)
		return true;
	if (st->cfg.prefix4 && st->cfg.prefix4 < 31) {
		uint32_t host = 0xffffffffu >> st->cfg.prefix4;
		if ((a & ~host) == (st->cfg.addr4 & ~host) && (a & host) == host)
			return true;
	}
	return false;
}

/* RFC 1122 §3.2.1.3: a source that cannot be a single host, or our own
 * address coming back from the link (a spoof or a loop). */
static bool ip4_bad_src(const struct td_stack *st, uint32_t a)
{
	return a == 0 || (a >> 24) == 127 || a == st->cfg.addr4 ||
	       td_stack_ip4_is_bcast_or_mcast(st, a);
}

static void deliver(struct td_stack *st, uint64_t now, uint8_t proto, const struct td_l4_rx *rx,
		    const uint8_t *pkt, size_t len)
{
	const struct td_transport *t = td_stack_transport(st, proto);
	if (!t) {
		st->stats.ctr[TD_CTR_rx_unknown_proto]++;
		if (rx->dst_multicast)
			return;
		if (rx->ip.family == TD_AF_INET)
			/* RFC 1122 §3.2.2.1: protocol unreachable */
			td_icmp4_error(st, now, TD_ICMP4_DEST_UNREACH, 2, 0, pkt, len);
		return;
	}
	if (t->input(t->ctx, now, rx) == TD_L4_PORT_UNREACH && !rx->dst_multicast) {
		/* RFC 1122 §4.1.3.1 / RFC 4443 §3.1 code 4 */
		if (rx->ip.family == TD_AF_INET)
			td_icmp4_error(st, now, TD_ICMP4_DEST_UNREACH, 3, 0, pkt, len);
		else
			td_icmp6_error(st, now, TD_ICMP6_DEST_UNREACH, 4, 0, pkt, len);
	}
}

void td_stack_ip4_input(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len,
			bool reassembled)
{
	struct td_ipv4_view v;
	struct td_ipv4_repr r;
	enum td_wire_err e = td_ipv4_check(&v, pkt, len, st->cfg.wire_flags);
	if (e != TD_WIRE_OK) {
		st->stats.wire[TD_LAYER_IP4][e]++;
		return;
	}
	td_ipv4_parse(&v, &r);
	if (!reassembled)
		st->stats.ctr[TD_CTR_rx_ip4]++;
	if (!st->cfg.has_addr4) {
		st->stats.ctr[TD_CTR_rx_no_addr]++;
		return;
	}
	bool mcast = false;
	if (r.dst != st->cfg.addr4) {
		if (!td_stack_ip4_is_bcast_or_mcast(st, r.dst)) {
			st->stats.ctr[TD_CTR_rx_not_for_us]++;
			return;
		}
		mcast = true;
	}
	if (ip4_bad_src(st, r.src)) {
		st->stats.ctr[TD_CTR_rx_bad_src]++;
		return;
	}
	if (r.opt_len)
		st->stats.ctr[TD_CTR_rx_ip4_options]++;
	if (r.mf || r.frag_off) {
		st->stats.ctr[TD_CTR_frag_rx]++;
		td_reass_ip4(st, now, &v, &r);
		return;
	}
	struct td_bytes pl = td_ipv4_payload(&v);
	struct td_l4_rx rx = {.ip = {.family = TD_AF_INET},
			      .l4 = pl.ptr,
			      .len = pl.len,
			      .tos = r.tos,
			      .ttl = r.ttl,
			      .dst_multicast = mcast};
	rx.ip.v4.src = r.src;
	rx.ip.v4.dst = r.dst;
	if (r.proto == TD_IPPROTO_ICMP)
		td_icmp4_input(st, now, &rx, v.p, v.len);
	else
		deliver(st, now, r.proto, &rx, v.p, v.len);
}

static bool ip6_is_our_mcast(const struct td_stack *st, const uint8_t a[16])
{
	static const uint8_t all_nodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t sol_prefix[13] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
	if (!memcmp(a, all_nodes, 16))
		return true;
	/* solicited-node multicast of our address (RFC 4291 §2.7.1) */
	return !memcmp(a, sol_prefix, 13) && !memcmp(a + 13, st->cfg.addr6 + 13, 3);
}

static bool ip6_bad_src(const uint8_t a[16])
{
	static const uint8_t zero[16], loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	return td_ip6_is_multicast(a) || !memcmp(a, zero, 16) || !memcmp(a, loop, 16);
}

/*
 * RFC 8200 §4.2: options whose type we do not know are handled by their two
 * high bits. Returns 0 to continue, -1 when the packet was discarded (an
 * error may have been sent).
 */
static int ip6_options(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len,
		       size_t off, size_t hlen, bool mcast)
{
	size_t end = off + hlen;
	size_t i = off + 2;
	while (i < end) {
		uint8_t type = pkt[i];
		if (type == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > end)
			break;
		size_t olen = 2u + pkt[i + 1];
		if (i + olen > end)
			break;
		if (type != 1) { /* not PadN: unknown to us */
			unsigned action = type >> 6;
			if (action) {
				st->stats.ctr[TD_CTR_rx_ip6_hbh_opt]++;
				if (action == 2 || (action == 3 && !mcast))
					td_icmp6_error(st, now, TD_ICMP6_PARAM_PROBLEM, 2,
						       (uint32_t)i, pkt, len);
				return -1;
			}
		}
		i += olen;
	}
	return 0;
}

void td_stack_ip6_input(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len,
			bool reassembled)
{
	struct td_ipv6_view v;
	struct td_ipv6_repr r;
	enum td_wire_err e = td_ipv6_check(&v, pkt, len, st->cfg.wire_flags);
	if (e != TD_WIRE_OK) {
		st->stats.wire[TD_LAYER_IP6][e]++;
		return;
	}
	td_ipv6_parse(&v, &r);
	if (!reassembled)
		st->stats.ctr[TD_CTR_rx_ip6]++;
	if (!st->cfg.has_addr6) {
		st->stats.ctr[TD_CTR_rx_no_addr]++;
		return;
	}
	bool mcast = false;
	if (memcmp(r.dst, st->cfg.addr6, 16) != 0) {
		if (!ip6_is_our_mcast(st, r.dst)) {
			st->stats.ctr[TD_CTR_rx_not_for_us]++;
			return;
		}
		mcast = true;
	}
	if (ip6_bad_src(r.src) || !memcmp(r.src, st->cfg.addr6, 16)) {
		st->stats.ctr[TD_CTR_rx_bad_src]++;
		return;
	}
	/* Walk the extension headers the codec already bounded, acting on the
	 * ones a host must understand (RFC 8200 §4.1-§4.5). */
	size_t off = TD_IPV6_HDR_LEN;
	size_t nh_off = 6;
	uint8_t nh = pkt[6];
	bool atomic = r.has_frag && r.frag.offset == 0 && !r.frag.more;
	while (off < v.upper_off && off + 2 <= v.len) {
		size_t hlen;
		if (nh == TD_IPPROTO_FRAGMENT) {
			if (!atomic) {
				st->stats.ctr[TD_CTR_frag_rx]++;
				if (reassembled) {
					/* a fragment inside a reassembled datagram */
					st->stats.ctr[TD_CTR_reass_inconsistent]++;
					return;
				}
				td_reass_ip6(st, now, &v, &r);
				return;
			}
			st->stats.ctr[TD_CTR_frag_atomic]++;
			hlen = 8;
		} else if (nh == TD_IPPROTO_HOPOPTS || nh == TD_IPPROTO_DSTOPTS) {
			hlen = ((size_t)pkt[off + 1] + 1) * 8;
			if (off + hlen > v.len)
				break;
			if (ip6_options(st, now, pkt, v.len, off, hlen, mcast))
				return;
		} else if (nh == TD_IPPROTO_ROUTING) {
			hlen = ((size_t)pkt[off + 1] + 1) * 8;
			if (off + 4 > v.len)
				break;
			/* RFC 8200 §4.4: we route nothing, so a routing header
			 * with segments left is one we cannot process. */
			if (pkt[off + 3] != 0) {
				st->stats.ctr[TD_CTR_rx_ip6_routing]++;
				if (!mcast)
					td_icmp6_error(st, now, TD_ICMP6_PARAM_PROBLEM, 0,
						       (uint32_t)(off + 2), pkt, v.len);
				return;
			}
		} else if (nh == 51) { /* AH: RFC 4302 length in 4-byte units */
			hlen = ((size_t)pkt[off + 1] + 2) * 4;
		} else {
			break;
		}
		nh_off = off;
		nh = pkt[off];
		off += hlen;
	}
	if (r.has_frag && !atomic) {
		/* the walk stopped before the Fragment header: never hand a
		 * piece of a datagram to a transport */
		st->stats.ctr[TD_CTR_reass_inconsistent]++;
		return;
	}
	if (r.upper_proto == TD_IPPROTO_NONE) {
		st->stats.ctr[TD_CTR_rx_unknown_proto]++;
		return;
	}
	struct td_bytes up = td_ipv6_upper(&v);
	struct td_l4_rx rx = {.ip = {.family = TD_AF_INET6},
			      .l4 = up.ptr,
			      .len = up.len,
			      .tos = r.tclass,
			      .ttl = r.hop_limit,
			      .dst_multicast = mcast};
	memcpy(rx.ip.v6.src, r.src, 16);
	memcpy(rx.ip.v6.dst, r.dst, 16);
	if (r.upper_proto == TD_IPPROTO_ICMPV6) {
		td_icmp6_input(st, now, &rx, v.p, v.len);
		return;
	}
	const struct td_transport *t = td_stack_transport(st, r.upper_proto);
	if (!t) {
		/* RFC 8200 §4: unrecognized Next Header, pointer to the field
		 * that names it. */
		st->stats.ctr[TD_CTR_rx_unknown_proto]++;
		if (!mcast)
			td_icmp6_error(st, now, TD_ICMP6_PARAM_PROBLEM, 1, (uint32_t)nh_off, pkt,
				       v.len);
		return;
	}
	deliver(st, now, r.upper_proto, &rx, v.p, v.len);
}

static void ip_input(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len)
{
	unsigned ver = len ? pkt[0] >> 4 : 0;
	if (ver == 4)
		td_stack_ip4_input(st, now, pkt, len, false);
	else if (ver == 6)
		td_stack_ip6_input(st, now, pkt, len, false);
	else
		st->stats.ctr[TD_CTR_rx_bad_version]++;
}

static void run_delayed_input(struct td_stack *st, uint64_t now)
{
	while (st->delayed_in.head >= 0 && st->slots[st->delayed_in.head].due <= now) {
		int32_t i = list_pop(st, &st->delayed_in);
		ip_input(st, now, slot_data(st, i), st->slots[i].len);
		slot_put(st, i);
	}
}

/* Park a copy of an input packet in the delayed-input list. */
static int32_t park_input(struct td_stack *st, const void *pkt, size_t len, uint64_t due)
{
	if (len > st->cfg.mtu) {
		st->stats.ctr[TD_CTR_impair_in_no_slot]++;
		return -1;
	}
	int32_t i = slot_get(st);
	if (i < 0) {
		st->stats.ctr[TD_CTR_impair_in_no_slot]++;
		return -1;
	}
	memcpy(slot_data(st, i), pkt, len);
	st->slots[i].len = (uint32_t)len;
	st->slots[i].due = due;
	list_insert(st, &st->delayed_in, i);
	return i;
}

void td_stack_input(struct td_stack *st, uint64_t now, const void *pkt, size_t len)
{
	st->stats.ctr[TD_CTR_rx_packets]++;
	st->stats.ctr[TD_CTR_rx_bytes] += len;
	if (!st->imp_in.active) {
		ip_input(st, now, pkt, len);
		return;
	}
	struct td_impair_verdict v;
	td_impair_decide(&st->imp_in, &v);
	if (v.drop) {
		st->stats.ctr[TD_CTR_impair_in_loss]++;
		return;
	}
	if (!v.corrupt && !v.dup && !v.delay_ns && st->delayed_in.head < 0) {
		ip_input(st, now, pkt, len);
		return;
	}
	int32_t i = park_input(st, pkt, len, now + v.delay_ns);
	if (i < 0)
		return;
	if (v.corrupt) {
		flip_bit(slot_data(st, i), (uint32_t)len, v.corrupt_rand);
		st->stats.ctr[TD_CTR_impair_in_corrupt]++;
	}
	if (v.delay_ns)
		st->stats.ctr[TD_CTR_impair_in_delayed]++;
	if (v.reorder)
		st->stats.ctr[TD_CTR_impair_in_reorder]++;
	if (v.dup && park_input(st, pkt, len, now + v.delay_ns) >= 0)
		st->stats.ctr[TD_CTR_impair_in_dup]++;
	run_delayed_input(st, now);
}

void td_stack_poll(struct td_stack *st, uint64_t now)
{
	run_delayed_input(st, now);
	td_reass_poll(st, now);
	td_udp_poll(st, now);
	for (size_t i = 0; i < st->ntp; i++)
		if (st->tp[i]->poll)
			st->tp[i]->poll(st->tp[i]->ctx, now);
}

uint64_t td_stack_next_deadline(const struct td_stack *st)
{
	if (td_udp_writable_due(st))
		return 0; /* a socket is owed TD_EV_WRITABLE: poll now */
	uint64_t d = td_reass_next_deadline(st);
	if (st->out.head >= 0 && st->slots[st->out.head].due < d)
		d = st->slots[st->out.head].due;
	if (st->delayed_in.head >= 0 && st->slots[st->delayed_in.head].due < d)
		d = st->slots[st->delayed_in.head].due;
	for (size_t i = 0; i < st->ntp; i++) {
		if (st->tp[i]->next_deadline) {
			uint64_t t = st->tp[i]->next_deadline(st->tp[i]->ctx);
			if (t < d)
				d = t;
		}
	}
	return d;
}
