/* TCP as the IP layer's transport: the stack_internal.h seam (input, output, ICMP, timers, counters). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack_internal.h"
#include "stack/tcp_internal.h"

struct tcp_glue {
	struct td_transport tr; /* registered with the stack; freed with the glue */
	struct td_stack *st;
	struct td_tcp *tcp;
	uint8_t buf[65536];
};

static const size_t ctr_off[] = {
#define TD_TCP_X(n) offsetof(struct td_tcp_counters, n),
	TD_TCP_COUNTERS(TD_TCP_X)
#undef TD_TCP_X
};
static const char *const ctr_name[] = {
#define TD_TCP_X(n) "tcp_" #n,
	TD_TCP_COUNTERS(TD_TCP_X)
#undef TD_TCP_X
};
#define NCTR (sizeof(ctr_off) / sizeof(ctr_off[0]))

void td_tcp_endpoint_from_ip(struct td_tcp_endpoint *ep, const struct td_ip_addr *a, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->port = port;
	ep->family = a->family ? a->family : 0;
	if (a->family == TD_AF_INET)
		td_put_be32(ep->addr, a->v4);
	else if (a->family == TD_AF_INET6)
		memcpy(ep->addr, a->v6, 16);
}

static void pair_to_tuple(const struct td_ip_pair *ip, uint16_t lport, uint16_t rport, bool input,
			  struct td_tcp_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = ip->family;
	t->lport = lport;
	t->rport = rport;
	if (ip->family == TD_AF_INET) {
		td_put_be32(input ? t->laddr : t->raddr, ip->v4.dst);
		td_put_be32(input ? t->raddr : t->laddr, ip->v4.src);
	} else {
		memcpy(input ? t->laddr : t->raddr, ip->v6.dst, 16);
		memcpy(input ? t->raddr : t->laddr, ip->v6.src, 16);
	}
}

static void tuple_to_pair(const struct td_tcp_tuple *t, struct td_ip_pair *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = t->family;
	if (t->family == TD_AF_INET) {
		ip->v4.src = td_get_be32(t->laddr);
		ip->v4.dst = td_get_be32(t->raddr);
	} else {
		memcpy(ip->v6.src, t->laddr, 16);
		memcpy(ip->v6.dst, t->raddr, 16);
	}
}

static int glue_output(void *ctx, const struct td_tcp_tuple *t, const struct td_tcp_repr *seg)
{
	struct tcp_glue *g = ctx;
	struct td_ip_pair ip;
	tuple_to_pair(t, &ip);
	size_t n = td_tcp_size(seg);
	if (n > sizeof(g->buf))
		return -EMSGSIZE;
	uint32_t pseudo = td_stack_pseudo(&ip, TD_IPPROTO_TCP, (uint32_t)n);
	/* the header alone is built here; the payload is summed where it lies
	 * and copied once, by the IP layer, behind the IP header */
	struct td_tcp_repr h = *seg;
	h.payload.ptr = NULL;
	h.payload.len = 0;
	size_t hl = n - seg->payload.len;
	if (td_tcp_emit(&h, 0, g->buf, hl) != TD_WIRE_OK)
		return -EINVAL;
	td_put_be16(g->buf + 16, 0);
	uint32_t acc = td_csum_add(pseudo, g->buf, hl); /* hl is a multiple of 4 */
	if (seg->payload.len)
		acc = td_csum_add(acc, seg->payload.ptr, seg->payload.len);
	td_put_be16(g->buf + 16, td_csum_finish(acc));
	struct td_bytes pieces[2] = {{g->buf, hl}, seg->payload};
	/* TCP does path MTU discovery (RFC 8201 / RFC 1191): never fragment */
	struct td_ip_tx tx = {.df = true};
	return td_stack_ip_sendv(g->st, g->tcp->now, &ip, TD_IPPROTO_TCP, &tx, pieces, 2);
}

static bool glue_caps(void *ctx, uint8_t family, uint32_t *gso_max)
{
	const struct tcp_glue *g = ctx;
	*gso_max = td_stack_tx_gso_max(g->st, family);
	return td_stack_tx_csum_partial(g->st);
}

/* With TX offloads: the header alone is built here, its checksum field the
 * pseudo-header sum over the whole length (the device completes it), and
 * the payload goes from the send ring into the packet in one copy. */
static int glue_output_offload(void *ctx, const struct td_tcp_tuple *t,
			       const struct td_tcp_seg_out *o)
{
	struct tcp_glue *g = ctx;
	struct td_ip_pair ip;
	tuple_to_pair(t, &ip);
	struct td_tcp_repr h = *o->r;
	h.payload.ptr = NULL;
	h.payload.len = 0;
	size_t hl = td_tcp_size(&h);
	size_t total = hl + o->pay[0].len + o->pay[1].len;
	if (td_tcp_emit(&h, 0, g->buf, hl) != TD_WIRE_OK)
		return -EINVAL;
	uint32_t pseudo = td_stack_pseudo(&ip, TD_IPPROTO_TCP, (uint32_t)total);
	td_put_be16(g->buf + 16, (uint16_t)~td_csum_finish(pseudo));
	struct td_bytes pieces[3] = {{g->buf, hl}, o->pay[0], o->pay[1]};
	struct td_ip_tx tx = {.df = true};
	return td_stack_ip_send_offload(g->st, g->tcp->now, &ip, TD_IPPROTO_TCP, &tx, pieces, 3,
					o->gso_size, 16);
}

static const struct td_tcp_offload_ops glue_offload = {
	.caps = glue_caps,
	.output = glue_output_offload,
};

static enum td_l4_verdict glue_input(void *ctx, uint64_t now, const struct td_l4_rx *rx)
{
	struct tcp_glue *g = ctx;
	if (rx->dst_multicast) {
		/* RFC 9293 §3.9.1.1 / RFC 1122 §4.2.3.10: no TCP to broadcast or multicast */
		g->tcp->c.rx_bad_segment++;
		return TD_L4_DONE;
	}
	uint32_t pseudo = td_stack_pseudo(&rx->ip, TD_IPPROTO_TCP, (uint32_t)rx->len);
	struct td_tcp_view v;
	enum td_wire_err e = td_tcp_check(&v, rx->l4, rx->len, pseudo, td_stack_wire_flags(g->st));
	struct td_tcp_repr r;
	if (e == TD_WIRE_OK)
		e = td_tcp_parse(&v, &r);
	if (e != TD_WIRE_OK) {
		td_stack_count_wire(g->st, TD_LAYER_TCP, e);
		return TD_L4_DONE;
	}
	struct td_tcp_tuple t;
	pair_to_tuple(&rx->ip, r.dst_port, r.src_port, true, &t);
	td_tcp_input(g->tcp, now, &t, &r);
	return TD_L4_DONE;
}

static bool glue_icmp(void *ctx, uint64_t now, const struct td_l4_icmp_err *e)
{
	struct tcp_glue *g = ctx;
	if (e->quoted_len < 8)
		return false;
	struct td_tcp_tuple t;
	/* flow is as we sent it: src = us */
	pair_to_tuple(&e->flow, td_get_be16(e->quoted), td_get_be16(e->quoted + 2), false, &t);
	uint32_t seq = td_get_be32(e->quoted + 4);
	enum td_tcp_icmp_kind kind;
	bool ptb = e->family == TD_AF_INET ? (e->type == TD_ICMP4_DEST_UNREACH &&
					      e->code == TD_ICMP4_CODE_FRAG_NEEDED)
					   : e->type == TD_ICMP6_PACKET_TOO_BIG;
	if (ptb)
		kind = TD_TCP_ICMP_PTB;
	else if (e->err == -ECONNREFUSED)
		kind = TD_TCP_ICMP_PORT_UNREACH;
	else if (e->err == -ENETUNREACH)
		kind = TD_TCP_ICMP_NET_UNREACH;
	else
		kind = TD_TCP_ICMP_HOST_UNREACH;
	return td_tcp_icmp_error(g->tcp, now, &t, kind, e->mtu, seq);
}

/* One super-packet's segments: events and output (the ACK) once, at the end. */
static void glue_batch(void *ctx, uint64_t now, bool begin)
{
	struct tcp_glue *g = ctx;
	if (begin) {
		td_tcp_enter(g->tcp, now);
		g->tcp->batch++;
	} else {
		g->tcp->batch--;
		td_tcp_leave(g->tcp);
	}
}

static void glue_poll(void *ctx, uint64_t now)
{
	struct tcp_glue *g = ctx;
	td_tcp_poll(g->tcp, now);
}

static uint64_t glue_deadline(const void *ctx)
{
	const struct tcp_glue *g = ctx;
	return td_tcp_next_deadline(g->tcp);
}

static size_t glue_ncounters(const void *ctx)
{
	(void)ctx;
	return NCTR;
}

static void glue_counter(const void *ctx, size_t i, const char **name, uint64_t *val)
{
	const struct tcp_glue *g = ctx;
	*name = ctr_name[i];
	uint64_t v;
	memcpy(&v, (const uint8_t *)&g->tcp->c + ctr_off[i], sizeof(v));
	*val = v;
}

static void glue_destroy(void *ctx)
{
	struct tcp_glue *g = ctx;
	td_tcp_free(g->tcp);
	free(g);
}

int td_tcp_attach(struct td_stack *st, const struct td_tcp_config *cfg, struct td_tcp **out)
{
	struct tcp_glue *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	struct td_tcp_config c = *cfg;
	uint32_t mtu = td_stack_mtu(st);
	c.mtu4 = (uint16_t)(mtu > 65535 ? 65535 : mtu);
	c.mtu6 = mtu < 1280 ? 1280 : c.mtu4;
	int rc = td_tcp_new(&g->tcp, &c, glue_output, g);
	if (rc) {
		free(g);
		return rc;
	}
	g->st = st;
	g->tcp->offload = &glue_offload;
	/* The registration is kept by the stack until its destroy() call. */
	struct td_transport *tr = &g->tr;
	tr->proto = TD_IPPROTO_TCP;
	tr->ctx = g;
	tr->input = glue_input;
	tr->icmp_error = glue_icmp;
	tr->poll = glue_poll;
	tr->next_deadline = glue_deadline;
	tr->counter_count = glue_ncounters;
	tr->counter_get = glue_counter;
	tr->destroy = glue_destroy;
	tr->batch = glue_batch;
	rc = td_stack_transport_register(st, tr);
	if (rc) {
		td_tcp_free(g->tcp);
		free(g);
		return rc;
	}
	*out = g->tcp;
	return 0;
}
