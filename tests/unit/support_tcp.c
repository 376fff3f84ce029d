/* Virtual-time harness for TCP unit tests (see tcp_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_harness.h"
#include "tundra/stack.h"
#include "tundra/wire.h"

static int capture(void *ctx, const struct td_tcp_tuple *t, const struct td_tcp_repr *seg)
{
	struct harness *h = ctx;
	if (h->n - h->head >= H_MAXSEG)
		return -ENOBUFS;
	struct h_seg *q = &h->q[h->n % H_MAXSEG];
	h->n++;
	q->tu = *t;
	q->r = *seg;
	size_t len = seg->payload.len < sizeof(q->data) ? seg->payload.len : sizeof(q->data);
	if (len)
		memcpy(q->data, seg->payload.ptr, len);
	q->r.payload.ptr = q->data;
	q->r.payload.len = seg->payload.len;
	return 0;
}

void h_config(struct td_tcp_config *cfg)
{
	td_tcp_config_default(cfg);
	cfg->max_socks = 64;
	for (int i = 0; i < 16; i++)
		cfg->key[i] = (uint8_t)(i * 7 + 1);
}

void h_init(struct harness *h, const struct td_tcp_config *cfg)
{
	memset(h, 0, sizeof(*h));
	if (cfg)
		h->cfg = *cfg;
	else
		h_config(&h->cfg);
	h->q = calloc(H_MAXSEG, sizeof(*h->q));
	assert_non_null(h->q);
	assert_int_equal(td_tcp_new(&h->tcp, &h->cfg, capture, h), 0);
	h->now = 1000 * H_MS; /* 1 s: not zero, so "0 = unset" bugs show */
	h->peer.family = 4;
	uint8_t l[4] = {10, 0, 0, 2}, r[4] = {10, 0, 0, 1};
	memcpy(h->peer.laddr, l, 4);
	memcpy(h->peer.raddr, r, 4);
	h->peer.lport = 80;
	h->peer.rport = 40000;
}

void h_fini(struct harness *h)
{
	td_tcp_free(h->tcp);
	free(h->q);
}

void h_fini_expect_empty(struct harness *h)
{
	assert_int_equal(td_tcp_socks_in_use(h->tcp), 0);
	assert_int_equal(td_tcp_buf_bytes(h->tcp), 0);
	h_fini(h);
}

void h_in(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
	  const struct td_tcp_opts *opt, const void *data, size_t len)
{
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = h->peer.rport;
	r.dst_port = h->peer.lport;
	r.seq = seq;
	r.ack = ack;
	r.flags = flags;
	r.window = win;
	if (opt)
		r.opt = *opt;
	r.payload.ptr = data;
	r.payload.len = len;
	td_tcp_input(h->tcp, h->now, &h->peer, &r);
}

const struct h_seg *h_out(struct harness *h)
{
	if (h->head == h->n)
		return NULL;
	return &h->q[h->head++ % H_MAXSEG];
}

unsigned h_pending(const struct harness *h)
{
	return h->n - h->head;
}

void h_drain(struct harness *h)
{
	h->head = h->n;
}

void h_advance_ns(struct harness *h, uint64_t ns)
{
	uint64_t end = h->now + ns;
	for (int guard = 0;; guard++) {
		assert_true(guard < 1000000); /* a deadline that never clears */
		uint64_t d = td_tcp_next_deadline(h->tcp);
		if (d > end)
			break;
		if (d > h->now)
			h->now = d;
		td_tcp_poll(h->tcp, h->now);
	}
	h->now = end;
}

void h_advance(struct harness *h, uint64_t ms)
{
	h_advance_ns(h, ms * H_MS);
}

void h_cb(struct td_tcp_sock *s, unsigned ev, void *user)
{
	(void)s;
	struct harness *h = user;
	h->events |= ev;
	h->ncb++;
}

struct td_tcp_sock *h_listen(struct harness *h, int backlog)
{
	struct td_tcp_sock *lst;
	assert_int_equal(td_tcp_socket(h->tcp, 4, &lst), 0);
	struct td_tcp_endpoint ep = {.family = 4, .port = 80};
	assert_int_equal(td_tcp_bind(lst, &ep), 0);
	assert_int_equal(td_tcp_listen(lst, backlog), 0);
	return lst;
}

struct td_tcp_sock *h_accept_conn(struct harness *h, struct td_tcp_sock *lst,
				  const struct td_tcp_opts *synopt, uint32_t peer_isn,
				  uint32_t *our_iss)
{
	h_in(h, TD_TCP_SYN, peer_isn, 0, 65535, synopt, NULL, 0);
	const struct h_seg *sa = h_out(h);
	assert_non_null(sa);
	assert_int_equal(sa->r.flags, TD_TCP_SYN | TD_TCP_ACK);
	assert_int_equal(sa->r.ack, peer_isn + 1);
	uint32_t iss = sa->r.seq;
	struct td_tcp_opts o;
	memset(&o, 0, sizeof(o));
	if (synopt && synopt->has_ts && sa->r.opt.has_ts) {
		o.has_ts = true;
		o.tsval = synopt->tsval + 1;
		o.tsecr = sa->r.opt.tsval;
	}
	h_in(h, TD_TCP_ACK, peer_isn + 1, iss + 1, 65535, &o, NULL, 0);
	assert_int_equal(h_pending(h), 0);
	struct td_tcp_sock *c;
	assert_int_equal(td_tcp_accept(lst, &c), 0);
	assert_int_equal(td_tcp_sock_state(c), TD_TCP_ESTABLISHED);
	if (our_iss)
		*our_iss = iss;
	return c;
}

void h_stack_input_tcp4(struct td_stack *st, uint64_t now, uint32_t src, uint32_t dst,
			const struct td_tcp_repr *r)
{
	uint8_t pkt[1600];
	size_t tl = td_tcp_size(r);
	struct td_ipv4_repr ip = {.src = src, .dst = dst, .ttl = 64, .proto = TD_IPPROTO_TCP,
				  .payload_len = (uint16_t)tl};
	size_t hl = td_ipv4_hdr_size(&ip);
	assert_true(hl + tl <= sizeof(pkt));
	assert_int_equal(td_ipv4_emit(&ip, pkt, hl), TD_WIRE_OK);
	assert_int_equal(td_tcp_emit(r, td_csum_pseudo4(src, dst, TD_IPPROTO_TCP, (uint16_t)tl),
				     pkt + hl, tl),
			 TD_WIRE_OK);
	td_stack_input(st, now, pkt, hl + tl);
}
