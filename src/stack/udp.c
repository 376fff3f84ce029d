/* UDP (RFC 768, RFC 1122 §4.1) as a transport of the stack: sockets, echo (RFC 862) and discard (RFC 863). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack_priv.h"

#define EPHEMERAL_LO 49152u
#define UDP_MAX_PAYLOAD 65527u /* 65535 - 8; IPv4 further limits to 65507 */

/* One queued datagram: this header, then len bytes, padded to 8. */
struct rec {
	uint32_t len;
	uint32_t pad;
	struct td_endpoint from;
};

struct td_udp_sock {
	struct td_stack *st;
	bool used, bound;
	struct td_endpoint local;
	td_udp_cb cb;
	void *user;
	int error; /* pending -errno from an ICMP error, reported once */
	bool want_write; /* a send failed for lack of packet slots */
	/* receive ring of records (see ring_put) */
	uint8_t *ring;
	uint32_t cap, head, tail, wrap_at, count;
};

struct td_udp_state {
	struct td_stack *st;
	struct td_udp_sock *socks;
	uint32_t n;
	uint16_t next_eph;
	uint8_t *rxbuf, *txbuf; /* built-in services and sendto: one datagram each */
	uint32_t want_write;    /* sockets waiting for TD_EV_WRITABLE */
	struct td_udp_sock *echo, *discard;
};

static size_t rec_size(size_t len)
{
	return (sizeof(struct rec) + len + 7) & ~(size_t)7;
}

/* Records are contiguous; when the tail cannot fit one before the end, the
 * writer wraps to 0 and wrap_at marks where the readable data stopped. */
static bool ring_put(struct td_udp_sock *s, const struct td_endpoint *from, const uint8_t *data,
		     size_t len)
{
	size_t need = rec_size(len);
	if (s->count == 0) {
		s->head = s->tail = 0;
		s->wrap_at = s->cap;
	}
	uint32_t at;
	if (s->tail >= s->head) {
		if (s->cap - s->tail >= need) {
			at = s->tail;
		} else if (s->head > need) {
			s->wrap_at = s->tail;
			at = 0;
		} else {
			return false;
		}
	} else if (s->head - s->tail > need) {
		at = s->tail;
	} else {
		return false;
	}
	struct rec r = {.len = (uint32_t)len, .from = *from};
	memcpy(s->ring + at, &r, sizeof(r));
	memcpy(s->ring + at + sizeof(r), data, len);
	s->tail = at + (uint32_t)need;
	s->count++;
	return true;
}

static struct td_udp_state *U(struct td_stack *st)
{
	return st->udp;
}

/* ---- sockets ------------------------------------------------------------------- */

int td_udp_open(struct td_stack *st, struct td_udp_sock **out)
{
	struct td_udp_state *u = U(st);
	for (uint32_t i = 0; i < u->n; i++) {
		struct td_udp_sock *s = &u->socks[i];
		if (!s->used) {
			s->used = true;
			s->bound = false;
			memset(&s->local, 0, sizeof(s->local));
			s->cb = NULL;
			s->user = NULL;
			s->error = 0;
			s->head = s->tail = s->count = 0;
			s->wrap_at = s->cap;
			*out = s;
			return 0;
		}
	}
	return -EMFILE;
}

static bool addr_conflict(const struct td_ip_addr *a, const struct td_ip_addr *b)
{
	return a->family == 0 || b->family == 0 || td_ip_addr_eq(a, b);
}

static bool port_in_use(struct td_udp_state *u, const struct td_endpoint *ep)
{
	for (uint32_t i = 0; i < u->n; i++) {
		const struct td_udp_sock *s = &u->socks[i];
		if (s->used && s->bound && s->local.port == ep->port &&
		    addr_conflict(&s->local.addr, &ep->addr))
			return true;
	}
	return false;
}

int td_udp_bind(struct td_udp_sock *s, const struct td_endpoint *local)
{
	struct td_udp_state *u = U(s->st);
	if (s->bound)
		return -EINVAL;
	struct td_endpoint ep = *local;
	if (ep.addr.family && !td_stack_is_local(s->st, &ep.addr))
		return -EADDRNOTAVAIL;
	if (ep.port == 0) {
		for (uint32_t tries = 0; tries < 65536 - EPHEMERAL_LO; tries++) {
			ep.port = (uint16_t)(EPHEMERAL_LO + u->next_eph++ % (65536 - EPHEMERAL_LO));
			if (!port_in_use(u, &ep))
				break;
			ep.port = 0;
		}
		if (!ep.port)
			return -EADDRINUSE;
	} else if (port_in_use(u, &ep)) {
		return -EADDRINUSE;
	}
	s->local = ep;
	s->bound = true;
	return 0;
}

void td_udp_set_callback(struct td_udp_sock *s, td_udp_cb cb, void *user)
{
	s->cb = cb;
	s->user = user;
}

int td_udp_local(const struct td_udp_sock *s, struct td_endpoint *local)
{
	if (!s->bound)
		return -EINVAL;
	*local = s->local;
	return 0;
}

bool td_udp_readable(const struct td_udp_sock *s)
{
	return s->count > 0 || s->error != 0;
}

ssize_t td_udp_sendto(struct td_udp_sock *s, uint64_t now, const void *buf, size_t len,
		      const struct td_endpoint *to)
{
	struct td_stack *st = s->st;
	struct td_udp_state *u = U(st);
	if (!to || (to->addr.family != TD_AF_INET && to->addr.family != TD_AF_INET6) ||
	    to->port == 0)
		return -EINVAL;
	if (s->bound && s->local.addr.family && s->local.addr.family != to->addr.family)
		return -EINVAL;
	if (len > UDP_MAX_PAYLOAD || (to->addr.family == TD_AF_INET && len > 65507))
		return -EMSGSIZE;
	if (!s->bound) {
		struct td_endpoint any = {.port = 0};
		int err = td_udp_bind(s, &any);
		if (err)
			return err;
	}
	struct td_ip_pair ip = {.family = to->addr.family};
	struct td_ip_addr me;
	int err = td_stack_local_addr(st, to->addr.family, &me);
	if (err)
		return err;
	if (ip.family == TD_AF_INET) {
		ip.v4.src = me.v4;
		ip.v4.dst = to->addr.v4;
	} else {
		memcpy(ip.v6.src, me.v6, 16);
		memcpy(ip.v6.dst, to->addr.v6, 16);
	}
	struct td_udp_repr r = {.src_port = s->local.port,
				.dst_port = to->port,
				.payload = {(const uint8_t *)buf, len}};
	size_t n = td_udp_size(&r);
	if (td_udp_emit(&r, td_stack_pseudo(&ip, TD_IPPROTO_UDP, (uint32_t)n), u->txbuf, n) !=
	    TD_WIRE_OK)
		return -EINVAL;
	err = td_stack_ip_send(st, now, &ip, TD_IPPROTO_UDP, NULL, u->txbuf, n);
	if (err == -ENOBUFS && !s->want_write) {
		s->want_write = true;
		u->want_write++;
	}
	if (err)
		return err;
	st->stats.ctr[TD_CTR_udp_tx]++;
	return (ssize_t)len;
}

ssize_t td_udp_recvfrom(struct td_udp_sock *s, void *buf, size_t cap, struct td_endpoint *from)
{
	if (s->count == 0) {
		if (s->error) {
			int e = s->error;
			s->error = 0;
			return e;
		}
		return -EAGAIN;
	}
	if (s->head == s->wrap_at) {
		s->head = 0;
		s->wrap_at = s->cap;
	}
	struct rec r;
	memcpy(&r, s->ring + s->head, sizeof(r));
	size_t n = r.len < cap ? r.len : cap;
	memcpy(buf, s->ring + s->head + sizeof(r), n);
	if (from)
		*from = r.from;
	s->head += (uint32_t)rec_size(r.len);
	s->count--;
	if (s->head == s->wrap_at && s->count) {
		s->head = 0;
		s->wrap_at = s->cap;
	}
	return (ssize_t)n;
}

void td_udp_close(struct td_udp_sock *s)
{
	if (!s)
		return;
	if (s->want_write) {
		s->want_write = false;
		s->st->udp->want_write--;
	}
	s->used = false;
	s->bound = false;
	s->cb = NULL;
	s->count = 0;
}

bool td_udp_writable_due(const struct td_stack *st)
{
	return st->udp && st->udp->want_write && st->free_count >= st->cfg.pkt_slots / 2;
}

void td_udp_poll(struct td_stack *st, uint64_t now)
{
	struct td_udp_state *u = st->udp;
	if (!td_udp_writable_due(st))
		return;
	st->udp_now = now;
	for (uint32_t i = 0; i < u->n && u->want_write; i++) {
		struct td_udp_sock *s = &u->socks[i];
		if (!s->used || !s->want_write)
			continue;
		s->want_write = false;
		u->want_write--;
		if (s->cb)
			s->cb(s, TD_EV_WRITABLE, s->user);
	}
}

/* ---- built-in services ------------------------------------------------------------- */

static void echo_cb(struct td_udp_sock *s, unsigned events, void *user)
{
	struct td_udp_state *u = user;
	if (!(events & TD_EV_READABLE))
		return;
	struct td_endpoint from;
	ssize_t n;
	/* The echo is sent from inside input: now is the time of the input,
	 * kept by the stack for this purpose. */
	while ((n = td_udp_recvfrom(s, u->rxbuf, UDP_MAX_PAYLOAD, &from)) >= 0) {
		if (td_udp_sendto(s, s->st->udp_now, u->rxbuf, (size_t)n, &from) >= 0)
			s->st->stats.ctr[TD_CTR_udp_echo]++;
	}
}

static void discard_cb(struct td_udp_sock *s, unsigned events, void *user)
{
	struct td_udp_state *u = user;
	if (!(events & TD_EV_READABLE))
		return;
	while (td_udp_recvfrom(s, u->rxbuf, UDP_MAX_PAYLOAD, NULL) >= 0)
		s->st->stats.ctr[TD_CTR_udp_discard]++;
}

/* ---- the transport -------------------------------------------------------------- */

static enum td_l4_verdict udp_input(void *ctx, uint64_t now, const struct td_l4_rx *rx)
{
	struct td_udp_state *u = ctx;
	struct td_stack *st = u->st;
	struct td_udp_repr r;
	unsigned flags = td_stack_wire_flags(st) | (rx->ip.family == TD_AF_INET6 ? TD_WIRE_IPV6 : 0);
	enum td_wire_err e = td_udp_parse(rx->l4, rx->len,
					  td_stack_pseudo(&rx->ip, TD_IPPROTO_UDP, (uint32_t)rx->len),
					  flags, &r);
	if (e != TD_WIRE_OK) {
		st->stats.wire[TD_LAYER_UDP][e]++;
		return TD_L4_DONE;
	}
	struct td_ip_addr dst;
	td_ip_pair_dst(&rx->ip, &dst);
	struct td_endpoint from = {.port = r.src_port};
	td_ip_pair_src(&rx->ip, &from.addr);
	bool delivered = false;
	st->udp_now = now;
	for (uint32_t i = 0; i < u->n; i++) {
		struct td_udp_sock *s = &u->socks[i];
		if (!s->used || !s->bound || s->local.port != r.dst_port)
			continue;
		if (s->local.addr.family && !td_ip_addr_eq(&s->local.addr, &dst))
			continue;
		if (s->local.addr.family == 0 || !rx->dst_multicast) {
			delivered = true;
			if (!ring_put(s, &from, r.payload.ptr, r.payload.len)) {
				st->stats.ctr[TD_CTR_udp_rcvbuf_full]++;
			} else {
				st->stats.ctr[TD_CTR_udp_rx]++;
				if (s->cb)
					s->cb(s, TD_EV_READABLE, s->user);
			}
			if (!rx->dst_multicast)
				break; /* unicast: one socket (no SO_REUSEPORT) */
		}
	}
	if (delivered)
		return TD_L4_DONE;
	st->stats.ctr[TD_CTR_udp_no_port]++;
	return TD_L4_PORT_UNREACH;
}

static bool udp_icmp_error(void *ctx, uint64_t now, const struct td_l4_icmp_err *err)
{
	struct td_udp_state *u = ctx;
	(void)now;
	uint16_t sport = td_get_be16(err->quoted);
	struct td_ip_addr src;
	td_ip_pair_src(&err->flow, &src);
	for (uint32_t i = 0; i < u->n; i++) {
		struct td_udp_sock *s = &u->socks[i];
		if (!s->used || !s->bound || s->local.port != sport)
			continue;
		if (s->local.addr.family && !td_ip_addr_eq(&s->local.addr, &src))
			continue;
		/* Linux reports errors on unconnected sockets only with
		 * IP_RECVERR; we report each once, as a connected socket would,
		 * because the callers of this API are the ones who asked. */
		s->error = err->err;
		if (s->cb)
			s->cb(s, TD_EV_READABLE, s->user);
		return true;
	}
	return false;
}

int td_udp_init(struct td_stack *st)
{
	struct td_udp_state *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	st->udp = u;
	u->st = st;
	u->n = st->cfg.udp_sockets;
	u->socks = calloc(u->n, sizeof(*u->socks));
	u->rxbuf = malloc(UDP_MAX_PAYLOAD);
	u->txbuf = malloc(UDP_MAX_PAYLOAD + TD_UDP_HDR_LEN);
	if (!u->socks || !u->rxbuf || !u->txbuf)
		return -ENOMEM;
	for (uint32_t i = 0; i < u->n; i++) {
		u->socks[i].st = st;
		u->socks[i].cap = st->cfg.udp_rcvbuf;
		u->socks[i].ring = malloc(st->cfg.udp_rcvbuf);
		if (!u->socks[i].ring)
			return -ENOMEM;
	}
	st->udp_tp = (struct td_transport){.proto = TD_IPPROTO_UDP,
					   .ctx = u,
					   .input = udp_input,
					   .icmp_error = udp_icmp_error};
	int err = td_stack_transport_register(st, &st->udp_tp);
	if (err)
		return err;
	if (st->cfg.udp_echo) {
		struct td_endpoint ep = {.port = 7};
		if (td_udp_open(st, &u->echo) || td_udp_bind(u->echo, &ep))
			return -EADDRINUSE;
		td_udp_set_callback(u->echo, echo_cb, u);
	}
	if (st->cfg.udp_discard) {
		struct td_endpoint ep = {.port = 9};
		if (td_udp_open(st, &u->discard) || td_udp_bind(u->discard, &ep))
			return -EADDRINUSE;
		td_udp_set_callback(u->discard, discard_cb, u);
	}
	return 0;
}

void td_udp_fini(struct td_stack *st)
{
	struct td_udp_state *u = st->udp;
	if (!u)
		return;
	for (uint32_t i = 0; u->socks && i < u->n; i++)
		free(u->socks[i].ring);
	free(u->socks);
	free(u->rxbuf);
	free(u->txbuf);
	free(u);
	st->udp = NULL;
}

uint32_t td_udp_in_use(const struct td_stack *st)
{
	const struct td_udp_state *u = st->udp;
	uint32_t n = 0;
	for (uint32_t i = 0; u && i < u->n; i++)
		n += u->socks[i].used && u->socks[i].st &&
		     u->socks[i].cb != echo_cb && u->socks[i].cb != discard_cb;
	return n;
}
