/* TCP module and socket-like API: pool, connection table, listen/accept, send/recv, close. */
#include <stdlib.h>
#include <string.h>

#include "stack/tcp_internal.h"

const char *const td_tcp_counter_names[] = {
#define TD_TCP_X(n) #n,
	TD_TCP_COUNTERS(TD_TCP_X)
#undef TD_TCP_X
	NULL,
};

static const char *const state_names[TD_TCP_STATE_COUNT] = {
	"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

const char *td_tcp_state_name(enum td_tcp_state s)
{
	return (unsigned)s < TD_TCP_STATE_COUNT ? state_names[s] : "?";
}

void td_tcp_config_default(struct td_tcp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_socks = 1024;
	cfg->sndbuf = 256 * 1024;
	cfg->rcvbuf = 256 * 1024;
	cfg->mtu4 = cfg->mtu6 = 1500;
	cfg->rto_min_ms = 200;
	cfg->rto_max_ms = 120000;
	cfg->rto_init_ms = 1000;
	cfg->syn_retries = 6;
	cfg->retries = 15;
	cfg->delack_ms = 40;
	cfg->msl_ms = 30000;
	cfg->fin_wait2_ms = 60000;
	cfg->ka_idle_ms = 7200000;
	cfg->ka_intvl_ms = 75000;
	cfg->ka_cnt = 9;
	cfg->challenge_ack_limit = 1000;
	cfg->syn_backlog = 128;
	cfg->sack = cfg->timestamps = cfg->wscale = cfg->syncookies = true;
	cfg->cc = TD_TCP_CC_CUBIC;
}

int td_tcp_new(struct td_tcp **out, const struct td_tcp_config *cfg, td_tcp_output_fn output,
	       void *ctx)
{
	if (!cfg || !output || cfg->max_socks == 0 || cfg->sndbuf < 1024 || cfg->rcvbuf < 1024 ||
	    cfg->mtu4 < 576 || cfg->mtu6 < 1280 || cfg->rto_min_ms == 0 ||
	    cfg->rto_max_ms < cfg->rto_min_ms || cfg->delack_ms > 200)
		return -EINVAL;
	struct td_tcp *tcp = calloc(1, sizeof(*tcp));
	if (!tcp)
		return -ENOMEM;
	tcp->cfg = *cfg;
	tcp->output = output;
	tcp->output_ctx = ctx;
	tcp->pool = calloc(cfg->max_socks, sizeof(*tcp->pool));
	tcp->nbuckets = 1;
	while (tcp->nbuckets < cfg->max_socks)
		tcp->nbuckets <<= 1;
	tcp->buckets = calloc(tcp->nbuckets, sizeof(void *)); /* chain heads */
	if (!tcp->pool || !tcp->buckets) {
		free(tcp->pool);
		free(tcp->buckets);
		free(tcp);
		return -ENOMEM;
	}
	/* The pool is handed out in order and never touched before: a large
	 * --tcp-max-conns costs resident memory only as connections arrive. */
	tcp->pool_used = 0;
	tcp->next_port = 49152;
	*out = tcp;
	return 0;
}

void td_tcp_free(struct td_tcp *tcp)
{
	if (!tcp)
		return;
	for (uint32_t i = 0; i < tcp->cfg.max_socks; i++) {
		struct td_tcp_sock *s = &tcp->pool[i];
		if (s->tcp) {
			td_tcp_reass_free(s);
			td_tcp_sbuf_free(s);
		}
	}
	for (unsigned i = 0; i < tcp->nbcache; i++)
		free(tcp->bcache[i].p);
	free(tcp->pool);
	free(tcp->buckets);
	free(tcp);
}

void *td_tcp_buf_alloc(struct td_tcp *tcp, size_t size)
{
	for (unsigned i = tcp->nbcache; i-- > 0;) {
		if (tcp->bcache[i].size != size)
			continue;
		void *p = tcp->bcache[i].p;
		tcp->bcache[i] = tcp->bcache[--tcp->nbcache];
		return p;
	}
	return malloc(size);
}

void td_tcp_buf_release(struct td_tcp *tcp, void *p, size_t size)
{
	if (!p)
		return;
	if (tcp->nbcache < TD_TCP_BCACHE) {
		tcp->bcache[tcp->nbcache].p = p;
		tcp->bcache[tcp->nbcache++].size = size;
		return;
	}
	free(p);
}

const struct td_tcp_counters *td_tcp_counters(const struct td_tcp *tcp)
{
	return &tcp->c;
}

uint32_t td_tcp_socks_in_use(const struct td_tcp *tcp)
{
	return tcp->in_use;
}

uint64_t td_tcp_buf_bytes(const struct td_tcp *tcp)
{
	return tcp->buf_bytes;
}

void td_tcp_set_wakeup(struct td_tcp *tcp, void (*fn)(void *ctx), void *ctx)
{
	tcp->wakeup = fn;
	tcp->wakeup_ctx = ctx;
}

static uint64_t mem_in_use(const struct td_tcp *tcp)
{
	return (uint64_t)tcp->in_use * sizeof(struct td_tcp_sock) + tcp->buf_bytes;
}

/* Issue 7's memory ceiling, checked before a SYN creates any state. The
 * caller answers a refused SYN with RST: the ceiling is a standing policy,
 * not a transient overflow, so the peer is told at once (ECONNREFUSED)
 * rather than left to retransmit its SYN for minutes; and no SYN cookie is
 * offered, since the connection it rebuilds would pass the ceiling too. */
bool td_tcp_conn_admit(struct td_tcp *tcp)
{
	const struct td_tcp_config *cfg = &tcp->cfg;
	if ((cfg->max_conns && tcp->in_use >= cfg->max_conns) ||
	    (cfg->mem_max && mem_in_use(tcp) + sizeof(struct td_tcp_sock) > cfg->mem_max)) {
		tcp->c.conn_limit_refused++;
		return false;
	}
	return true;
}

bool td_tcp_mem_charge(struct td_tcp *tcp, uint32_t bytes)
{
	if (tcp->cfg.mem_max && mem_in_use(tcp) + bytes > tcp->cfg.mem_max) {
		tcp->c.mem_limit_drop++;
		return false;
	}
	tcp->buf_bytes += bytes;
	return true;
}

void td_tcp_mem_uncharge(struct td_tcp *tcp, uint32_t bytes)
{
	tcp->buf_bytes -= bytes;
}

uint16_t td_tcp_mss_for(const struct td_tcp *tcp, uint8_t family)
{
	/* RFC 9293 §3.7.1 / RFC 879: MTU minus fixed IP and TCP headers */
	return family == 6 ? (uint16_t)(tcp->cfg.mtu6 - 60) : (uint16_t)(tcp->cfg.mtu4 - 40);
}

/* RFC 7323 §2.3: the smallest shift that lets the whole buffer be offered. */
uint8_t td_tcp_wscale_for(uint32_t rcvbuf)
{
	uint8_t ws = 0;
	while (ws < TCP_WSCALE_MAX && (rcvbuf >> ws) > 65535)
		ws++;
	return ws;
}

/* ---- pool, table, notifications ------------------------------------------------- */

struct td_tcp_sock *td_tcp_sock_alloc(struct td_tcp *tcp)
{
	struct td_tcp_sock *s = tcp->free_list;
	if (s)
		tcp->free_list = s->hnext;
	else if (tcp->pool_used < tcp->cfg.max_socks)
		s = &tcp->pool[tcp->pool_used++];
	else
		return NULL;
	memset(s, 0, sizeof(*s));
	s->tcp = tcp;
	s->sndbuf = tcp->cfg.sndbuf;
	s->rcvbuf = tcp->cfg.rcvbuf;
	s->cc = td_tcp_cc_get(tcp->cfg.cc);
	s->rtx_at = s->delack_at = s->ka_at = s->rack_at = TD_NEVER;
	s->reo_mult = 1;
	td_tcp_timer_touch(s);
	s->anext = tcp->active;
	if (tcp->active)
		tcp->active->aprev = s;
	tcp->active = s;
	tcp->in_use++;
	return s;
}

static void notify_unlink(struct td_tcp_sock *s)
{
	struct td_tcp_sock **pp = &s->tcp->notify;
	while (*pp && *pp != s)
		pp = &(*pp)->nnext;
	if (*pp)
		*pp = s->nnext;
	s->notify_queued = 0;
}

static void listeners_unlink(struct td_tcp_sock *s)
{
	struct td_tcp_sock **pp = &s->tcp->listeners;
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	s->hnext = NULL;
}

static void sock_release(struct td_tcp_sock *s)
{
	struct td_tcp *tcp = s->tcp;
	if (s->notify_queued)
		notify_unlink(s);
	td_tcp_timer_forget(s);
	td_tcp_reass_free(s);
	td_tcp_sbuf_free(s);
	if (s->aprev)
		s->aprev->anext = s->anext;
	else
		tcp->active = s->anext;
	if (s->anext)
		s->anext->aprev = s->aprev;
	if (tcp->last == s)
		tcp->last = NULL;
	s->tcp = NULL;
	s->state = TD_TCP_CLOSED;
	s->hnext = tcp->free_list;
	tcp->free_list = s;
	tcp->in_use--;
}

static uint32_t bucket_of(const struct td_tcp *tcp, const struct td_tcp_tuple *t)
{
	return td_tcp_tuple_hash(tcp, t) & (tcp->nbuckets - 1);
}

static bool tuple_eq(const struct td_tcp_tuple *a, const struct td_tcp_tuple *b)
{
	size_t n = a->family == 6 ? 16 : 4;
	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       !memcmp(a->laddr, b->laddr, n) && !memcmp(a->raddr, b->raddr, n);
}

void td_tcp_hash_insert(struct td_tcp_sock *s)
{
	uint32_t b = bucket_of(s->tcp, &s->tu);
	s->hnext = s->tcp->buckets[b];
	s->tcp->buckets[b] = s;
}

void td_tcp_hash_remove(struct td_tcp_sock *s)
{
	uint32_t b = bucket_of(s->tcp, &s->tu);
	struct td_tcp_sock **pp = &s->tcp->buckets[b];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	s->hnext = NULL;
	if (s->tcp->last == s)
		s->tcp->last = NULL;
}

struct td_tcp_sock *td_tcp_lookup(struct td_tcp *tcp, const struct td_tcp_tuple *t)
{
	/* the caller may change the connection's timers: re-filed at td_tcp_leave */
	if (tcp->last && tuple_eq(&tcp->last->tu, t)) {
		td_tcp_timer_touch(tcp->last);
		return tcp->last;
	}
	for (struct td_tcp_sock *s = tcp->buckets[bucket_of(tcp, t)]; s; s = s->hnext)
		if (tuple_eq(&s->tu, t)) {
			tcp->last = s;
			td_tcp_timer_touch(s);
			return s;
		}
	return NULL;
}

static bool addr_any(const uint8_t *a)
{
	static const uint8_t zero[16];
	return !memcmp(a, zero, 16);
}

/* A listener for t: an exact local address beats a wildcard one. */
struct td_tcp_sock *td_tcp_lookup_listener(struct td_tcp *tcp, const struct td_tcp_tuple *t)
{
	struct td_tcp_sock *wild = NULL;
	size_t n = t->family == 6 ? 16 : 4;
	for (struct td_tcp_sock *s = tcp->listeners; s; s = s->hnext) {
		if (s->state != TD_TCP_LISTEN || s->tu.family != t->family || s->tu.lport != t->lport)
			continue;
		if (!memcmp(s->tu.laddr, t->laddr, n))
			return s;
		if (addr_any(s->tu.laddr))
			wild = s;
	}
	return wild;
}

void td_tcp_notify(struct td_tcp_sock *s, unsigned events)
{
	if (!s->user_open && !(events & TD_TCP_EV_ACCEPT))
		return;
	s->events |= events;
	if (!s->notify_queued) {
		s->notify_queued = 1;
		s->nnext = s->tcp->notify;
		s->tcp->notify = s;
	}
}

void td_tcp_enter(struct td_tcp *tcp, uint64_t now)
{
	tcp->depth++;
	tcp->now = now;
	if (!tcp->wheel_started) {
		/* the wheel counts ticks from the first time it is given */
		td_twheel_init(&tcp->wheel, NS_PER_MS, now);
		tcp->wheel_started = true;
	}
}

/* Deliver events only when the outermost entry point returns: protocol code
 * never runs application code in the middle of processing a segment. */
void td_tcp_leave(struct td_tcp *tcp)
{
	if (--tcp->depth != 0)
		return;
	bool any = false;
	tcp->depth++; /* API calls from callbacks must not re-enter this loop */
	do {
		while (tcp->notify) {
			struct td_tcp_sock *s = tcp->notify;
			tcp->notify = s->nnext;
			s->notify_queued = 0;
			unsigned ev = s->events;
			s->events = 0;
			if (s->user_open && ev) {
				any = true; /* the eventfd wakes applications without callbacks too */
				if (s->cb)
					s->cb(s, ev, s->user);
			}
		}
		/* what the callbacks sent (td_tcp_send): every pending socket is
		 * on the touched list; output may notify again (loop) */
		for (struct td_tcp_sock *s = tcp->touched; s; s = s->tnext) {
			if (!s->out_pending)
				continue;
			s->out_pending = 0;
			if (s->tcp && s->state != TD_TCP_CLOSED && s->state != TD_TCP_LISTEN)
				td_tcp_output(s, tcp->now);
		}
	} while (tcp->notify);
	tcp->depth--;
	/* after the callbacks: their API calls may have moved deadlines too */
	td_tcp_timer_sync_touched(tcp);
	if (any && tcp->wakeup)
		tcp->wakeup(tcp->wakeup_ctx);
}

void td_tcp_sock_init_conn(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	s->iss = td_tcp_isn(tcp, &s->tu, now);
	s->snd_una = s->snd_nxt = s->snd_max = s->iss;
	s->ts_offset = td_tcp_ts_offset(tcp, &s->tu);
	s->ts_sent = td_tcp_ts_now(s, now);
	s->our_mss = td_tcp_mss_for(tcp, s->tu.family);
	s->mss = 536; /* RFC 9293 §3.7.1 default until the peer says otherwise */
	s->rcv_mss = 536;
	s->rcv_wscale = tcp->cfg.wscale ? td_tcp_wscale_for(s->rcvbuf) : 0;
	s->snd_wscale = 0;
	s->rto_ms = tcp->cfg.rto_init_ms;
	s->srtt_us = s->rttvar_us = 0;
	s->ssthresh = UINT32_MAX / 2; /* RFC 5681 §3.1: arbitrarily high */
	s->cwnd = TCP_IW_SEGS * 536u;
	s->cc->init(s);
	s->last_rx = now;
}

static void accept_queue_remove(struct td_tcp_sock *lst, struct td_tcp_sock *c)
{
	struct td_tcp_sock **pp = &lst->qnext, *prev = NULL;
	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (!*pp)
		return;
	*pp = c->qnext;
	if (lst->qtail == c)
		lst->qtail = prev;
	c->qnext = NULL;
	c->in_accq = 0;
	lst->nacc--;
}

void td_tcp_child_established(struct td_tcp_sock *s)
{
	struct td_tcp_sock *lst = s->parent;
	if (!lst)
		return;
	lst->nsyn--;
	s->qnext = NULL;
	if (lst->qtail)
		lst->qtail->qnext = s;
	else
		lst->qnext = s;
	lst->qtail = s;
	s->in_accq = 1;
	lst->nacc++;
	td_tcp_notify(lst, TD_TCP_EV_ACCEPT | TD_TCP_EV_READABLE);
}

void td_tcp_conn_closed(struct td_tcp_sock *s, int err)
{
	struct td_tcp *tcp = s->tcp;
	bool was_conn = s->state != TD_TCP_CLOSED && s->state != TD_TCP_LISTEN;
	if (was_conn)
		td_tcp_hash_remove(s);
	s->state = TD_TCP_CLOSED;
	td_tcp_timer_stop_rtx(s);
	s->delack_at = s->ka_at = s->rack_at = TD_NEVER;
	td_tcp_sbuf_free(s);
	if (s->parent) {
		struct td_tcp_sock *lst = s->parent;
		if (s->in_accq)
			accept_queue_remove(lst, s);
		else
			lst->nsyn--;
		s->parent = NULL;
	}
	if (!s->user_open) {
		sock_release(s);
		return;
	}
	if (err) {
		s->err = (int16_t)err;
		td_tcp_reass_free(s); /* RFC 9293 §3.10.7.4: queues are flushed on reset */
	}
	(void)tcp;
	td_tcp_notify(s, TD_TCP_EV_READABLE | TD_TCP_EV_WRITABLE | TD_TCP_EV_HUP |
			      (err ? TD_TCP_EV_ERROR : 0));
}

/* ---- API ------------------------------------------------------------------------ */

int td_tcp_socket(struct td_tcp *tcp, uint8_t family, struct td_tcp_sock **out)
{
	if (family != 4 && family != 6)
		return -EAFNOSUPPORT;
	struct td_tcp_sock *s = td_tcp_sock_alloc(tcp);
	if (!s)
		return -ENOBUFS;
	s->tu.family = family;
	s->user_open = 1;
	*out = s;
	return 0;
}

static bool port_in_use(struct td_tcp *tcp, uint8_t family, const uint8_t *addr, uint16_t port)
{
	for (struct td_tcp_sock *s = tcp->listeners; s; s = s->hnext)
		if (s->tu.family == family && s->tu.lport == port &&
		    (addr_any(s->tu.laddr) || addr_any(addr) || !memcmp(s->tu.laddr, addr, 16)))
			return true;
	return false;
}

static uint16_t pick_port(struct td_tcp *tcp, uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < 16384; i++) {
		uint16_t p = tcp->next_port;
		tcp->next_port = p == 65535 ? 49152 : (uint16_t)(p + 1);
		if (!port_in_use(tcp, family, addr, p))
			return p;
	}
	return 0;
}

int td_tcp_bind(struct td_tcp_sock *s, const struct td_tcp_endpoint *local)
{
	struct td_tcp *tcp = s->tcp;
	if (s->bound || s->state != TD_TCP_CLOSED)
		return -EINVAL;
	if (local->family != s->tu.family)
		return -EAFNOSUPPORT;
	uint16_t port = local->port;
	if (port == 0) {
		port = pick_port(tcp, local->family, local->addr);
		if (!port)
			return -EADDRINUSE;
	} else if (port_in_use(tcp, local->family, local->addr, port)) {
		return -EADDRINUSE;
	}
	memcpy(s->tu.laddr, local->addr, 16);
	s->tu.lport = port;
	s->bound = 1;
	s->hnext = tcp->listeners;
	tcp->listeners = s;
	return 0;
}

int td_tcp_listen(struct td_tcp_sock *s, int backlog)
{
	if (s->state == TD_TCP_LISTEN) {
		s->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
		return 0;
	}
	if (s->state != TD_TCP_CLOSED || s->err)
		return -EINVAL;
	if (!s->bound) {
		struct td_tcp_endpoint any = {.family = s->tu.family};
		int rc = td_tcp_bind(s, &any);
		if (rc)
			return rc;
	}
	s->backlog = (uint16_t)(backlog < 1 ? 1 : backlog > 65535 ? 65535 : backlog);
	s->rcv_wscale = s->tcp->cfg.wscale ? td_tcp_wscale_for(s->rcvbuf) : 0;
	s->state = TD_TCP_LISTEN;
	return 0;
}

int td_tcp_accept(struct td_tcp_sock *lst, struct td_tcp_sock **out)
{
	if (lst->state != TD_TCP_LISTEN)
		return -EINVAL;
	struct td_tcp_sock *c = lst->qnext;
	if (!c)
		return -EAGAIN;
	lst->qnext = c->qnext;
	if (lst->qtail == c)
		lst->qtail = NULL;
	lst->nacc--;
	c->qnext = NULL;
	c->in_accq = 0;
	c->parent = NULL;
	c->user_open = 1;
	c->accepted = 1;
	*out = c;
	return 0;
}

int td_tcp_connect(struct td_tcp_sock *s, const struct td_tcp_endpoint *remote, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	if (s->state == TD_TCP_SYN_SENT)
		return -EALREADY;
	if (s->state == TD_TCP_LISTEN)
		return -EINVAL;
	if (s->state != TD_TCP_CLOSED || s->passive)
		return -EISCONN;
	if (remote->family != s->tu.family)
		return -EAFNOSUPPORT;
	if (remote->port == 0 || addr_any(remote->addr))
		return -EINVAL;
	if (!s->bound || addr_any(s->tu.laddr))
		return -EADDRNOTAVAIL; /* the IP layer binds the source address */
	struct td_tcp_tuple t = s->tu;
	memcpy(t.raddr, remote->addr, 16);
	t.rport = remote->port;
	if (td_tcp_lookup(tcp, &t))
		return -EADDRINUSE;
	td_tcp_enter(tcp, now);
	listeners_unlink(s);
	s->tu = t;
	td_tcp_hash_insert(s);
	td_tcp_sock_init_conn(s, now);
	s->state = TD_TCP_SYN_SENT;
	s->connect_evt = 1;
	tcp->c.active_opens++;
	td_tcp_output(s, now);
	td_tcp_leave(tcp);
	return 0;
}

static int take_err(struct td_tcp_sock *s)
{
	int e = s->err;
	s->err = 0;
	return e;
}

ssize_t td_tcp_send(struct td_tcp_sock *s, const void *buf, size_t len, uint64_t now)
{
	if (s->err)
		return take_err(s);
	switch (s->state) {
	case TD_TCP_ESTABLISHED:
	case TD_TCP_CLOSE_WAIT:
		break;
	case TD_TCP_SYN_SENT:
	case TD_TCP_SYN_RECEIVED:
		return -EAGAIN;
	case TD_TCP_CLOSED:
	case TD_TCP_LISTEN:
		return s->synced ? -EPIPE : -ENOTCONN;
	default:
		return -EPIPE; /* shut down for writing */
	}
	if (s->fin_queued)
		return -EPIPE;
	if (len == 0)
		return 0;
	uint32_t room = s->sndbuf - td_tcp_sbuf_len(s);
	if (room == 0)
		return -EAGAIN;
	if (len > room)
		len = room;
	int n = td_tcp_sbuf_append(s, buf, (uint32_t)len);
	if (n < 0)
		return -ENOBUFS;
	if (s->tcp->depth) {
		/* From an event callback: the application usually writes more
		 * in the same callback (a service's loop of sends, several
		 * sockets at once). The output runs once they all returned
		 * (td_tcp_leave), so a burst leaves as the fewest, largest
		 * segments - one 64 KB super-segment rather than one short
		 * PSH run per send() - and nothing waits longer than the
		 * entry point that called back. */
		s->tcp->now = now;
		s->out_pending = 1;
		td_tcp_timer_touch(s);
		return n;
	}
	td_tcp_enter(s->tcp, now);
	td_tcp_output(s, now);
	td_tcp_leave(s->tcp);
	return n;
}

ssize_t td_tcp_recv(struct td_tcp_sock *s, void *buf, size_t len, uint64_t now)
{
	uint32_t have = td_tcp_rcv_buffered(s);
	if (have && len) {
		uint32_t n = td_tcp_reass_read(s, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
		td_tcp_enter(s->tcp, now);
		td_tcp_window_update_check(s, now);
		td_tcp_leave(s->tcp);
		return n;
	}
	if (have)
		return 0;
	if (s->err)
		return take_err(s);
	if (s->rcvd_fin || s->rd_shut)
		return 0;
	if (s->state == TD_TCP_CLOSED || s->state == TD_TCP_LISTEN)
		return -ENOTCONN;
	return -EAGAIN;
}

/* RFC 9293 §3.10.4 CLOSE in each state, for the sending direction. */
static void shut_wr(struct td_tcp_sock *s, uint64_t now)
{
	switch (s->state) {
	case TD_TCP_SYN_RECEIVED:
	case TD_TCP_ESTABLISHED:
		s->state = TD_TCP_FIN_WAIT_1;
		break;
	case TD_TCP_CLOSE_WAIT:
		s->state = TD_TCP_LAST_ACK;
		break;
	default:
		return;
	}
	s->fin_queued = 1;
	td_tcp_output(s, now);
}

int td_tcp_shutdown(struct td_tcp_sock *s, int how, uint64_t now)
{
	if (how < 0 || how > 2)
		return -EINVAL;
	if (s->state == TD_TCP_CLOSED || s->state == TD_TCP_LISTEN)
		return -ENOTCONN;
	td_tcp_enter(s->tcp, now);
	if (how == 0 || how == 2) {
		s->rd_shut = 1;
		while (td_tcp_rcv_buffered(s))
			td_tcp_reass_read(s, NULL, UINT32_MAX);
	}
	if (how == 1 || how == 2) {
		if (s->state == TD_TCP_SYN_SENT)
			td_tcp_conn_closed(s, 0);
		else
			shut_wr(s, now);
	}
	td_tcp_leave(s->tcp);
	return 0;
}

static void close_listener(struct td_tcp_sock *lst, uint64_t now)
{
	struct td_tcp *tcp = lst->tcp;
	/* Children not yet accepted are reset; half-open ones just vanish. */
	for (struct td_tcp_sock *c = tcp->active, *next; c; c = next) {
		next = c->anext;
		if (c->parent == lst) {
			if (c->state != TD_TCP_SYN_RECEIVED)
				td_tcp_send_rst(c, now);
			td_tcp_conn_closed(c, 0);
		}
	}
	listeners_unlink(lst);
	sock_release(lst);
}

int td_tcp_abort(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	td_tcp_enter(tcp, now);
	s->user_open = 0;
	s->cb = NULL;
	if (s->state == TD_TCP_LISTEN) {
		close_listener(s, now);
	} else if (s->state == TD_TCP_CLOSED) {
		if (s->bound && !s->passive && !s->accepted)
			listeners_unlink(s);
		sock_release(s);
	} else {
		if (s->state != TD_TCP_SYN_SENT && s->state != TD_TCP_TIME_WAIT)
			td_tcp_send_rst(s, now);
		td_tcp_conn_closed(s, 0);
	}
	td_tcp_leave(tcp);
	return 0;
}

int td_tcp_close(struct td_tcp_sock *s, uint64_t now)
{
	struct td_tcp *tcp = s->tcp;
	bool unread = td_tcp_rcv_buffered(s) > 0;
	if (s->state == TD_TCP_LISTEN || s->state == TD_TCP_CLOSED ||
	    s->state == TD_TCP_SYN_SENT || unread || s->linger0) {
		/* RFC 9293 §3.10.4 / RFC 2525 §2.17: closing with unread data
		 * resets, so the peer learns that data was lost. */
		return td_tcp_abort(s, now);
	}
	td_tcp_enter(tcp, now);
	s->user_open = 0;
	s->cb = NULL;
	s->rd_shut = 1;
	shut_wr(s, now);
	if (s->state == TD_TCP_FIN_WAIT_2 && tcp->cfg.fin_wait2_ms) {
		td_tcp_timer_touch(s);
		s->ka_at = now + (uint64_t)tcp->cfg.fin_wait2_ms * NS_PER_MS;
	}
	if (s->state == TD_TCP_CLOSED)
		sock_release(s);
	td_tcp_leave(tcp);
	return 0;
}

int td_tcp_setopt(struct td_tcp_sock *s, enum td_tcp_sockopt opt, int value)
{
	switch (opt) {
	case TD_TCP_OPT_NODELAY:
		s->nodelay = value != 0;
		if (s->nodelay && s->state >= TD_TCP_ESTABLISHED) {
			td_tcp_enter(s->tcp, s->tcp->now);
			td_tcp_output(s, s->tcp->now);
			td_tcp_leave(s->tcp);
		}
		return 0;
	case TD_TCP_OPT_SNDBUF:
		if (value < 1024 || s->sb)
			return -EINVAL;
		s->sndbuf = (uint32_t)value;
		return 0;
	case TD_TCP_OPT_RCVBUF:
		if (value < 1024 || s->rb || s->state != TD_TCP_CLOSED)
			return -EINVAL;
		s->rcvbuf = (uint32_t)value;
		return 0;
	case TD_TCP_OPT_KEEPALIVE:
		s->keepalive = value != 0;
		if (s->state >= TD_TCP_ESTABLISHED) {
			td_tcp_enter(s->tcp, s->tcp->now); /* re-files the deadline on leave */
			td_tcp_timer_keepalive_reset(s, s->tcp->now);
			td_tcp_leave(s->tcp);
		}
		return 0;
	case TD_TCP_OPT_CC:
		if (value != TD_TCP_CC_CUBIC && value != TD_TCP_CC_RENO)
			return -EINVAL;
		s->cc = td_tcp_cc_get((enum td_tcp_cc_algo)value);
		s->cc->init(s);
		return 0;
	case TD_TCP_OPT_LINGER0:
		s->linger0 = value != 0;
		return 0;
	}
	return -ENOPROTOOPT;
}

int td_tcp_getopt(const struct td_tcp_sock *s, enum td_tcp_sockopt opt, int *value)
{
	switch (opt) {
	case TD_TCP_OPT_NODELAY: *value = s->nodelay; return 0;
	case TD_TCP_OPT_SNDBUF: *value = (int)s->sndbuf; return 0;
	case TD_TCP_OPT_RCVBUF: *value = (int)s->rcvbuf; return 0;
	case TD_TCP_OPT_KEEPALIVE: *value = s->keepalive; return 0;
	case TD_TCP_OPT_CC: *value = s->cc == &td_tcp_cc_reno ? TD_TCP_CC_RENO : TD_TCP_CC_CUBIC; return 0;
	case TD_TCP_OPT_LINGER0: *value = s->linger0; return 0;
	}
	return -ENOPROTOOPT;
}

void td_tcp_set_callback(struct td_tcp_sock *s, td_tcp_event_fn fn, void *user)
{
	s->cb = fn;
	s->user = user;
}

unsigned td_tcp_events(const struct td_tcp_sock *s)
{
	unsigned ev = 0;
	if (s->state == TD_TCP_LISTEN)
		return s->nacc ? TD_TCP_EV_ACCEPT | TD_TCP_EV_READABLE : 0;
	if (td_tcp_rcv_buffered(s) || s->rcvd_fin || s->err)
		ev |= TD_TCP_EV_READABLE;
	if (s->rcvd_fin)
		ev |= TD_TCP_EV_HUP;
	if ((s->state == TD_TCP_ESTABLISHED || s->state == TD_TCP_CLOSE_WAIT) && !s->fin_queued &&
	    td_tcp_sbuf_len(s) < s->sndbuf)
		ev |= TD_TCP_EV_WRITABLE;
	if (s->err)
		ev |= TD_TCP_EV_ERROR;
	return ev;
}

int td_tcp_sock_error(struct td_tcp_sock *s)
{
	return take_err(s);
}

enum td_tcp_state td_tcp_sock_state(const struct td_tcp_sock *s)
{
	return (enum td_tcp_state)s->state;
}

void td_tcp_sock_tuple(const struct td_tcp_sock *s, struct td_tcp_tuple *t)
{
	*t = s->tu;
}

void td_tcp_sock_info(const struct td_tcp_sock *s, struct td_tcp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->state = (enum td_tcp_state)s->state;
	info->mss = s->mss;
	info->cwnd = s->cwnd;
	info->ssthresh = s->ssthresh;
	info->srtt_us = s->srtt_us;
	info->rttvar_us = s->rttvar_us;
	info->rto_ms = s->rto_ms;
	info->snd_wnd = s->snd_wnd;
	info->rcv_wnd = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	info->unacked = s->snd_max - s->snd_una;
	info->retransmits = s->retransmits;
	info->snd_wscale = s->snd_wscale;
	info->rcv_wscale = s->rcv_wscale;
	info->sack = s->sack_ok;
	info->timestamps = s->ts_ok;
}
