/* ICMP echo engine (RFC 792, RFC 4443 §4.1-4.2): schedule, matching, authentication, statistics. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tundra/probe.h"
#include "tundra/wire.h"

/*
 * Memory: everything is allocated in td_probe_new(): targets, W slots per
 * target, the send-order FIFO used for timeouts (timeouts are uniform, so
 * send order is expiry order), the scheduling heap, the address hash and the
 * histogram pool. Nothing is allocated afterwards.
 */

enum slot_state { SLOT_EMPTY = 0, SLOT_PENDING, SLOT_ANSWERED, SLOT_TIMED_OUT, SLOT_ERRORED,
		  SLOT_FAILED };

struct slot {
	uint32_t seq;
	uint8_t state;
	bool kstamp;        /* tx_stamp came from the kernel */
	uint64_t sent_now;  /* monotonic instant of the send */
	uint64_t tx_stamp;  /* 0 = none */
};

struct fifo_ent {
	uint32_t target, seq;
};

/* The due time lives in the heap entry too: sifting then touches only the
 * heap array, not the (large) target records. */
struct heap_ent {
	uint64_t due;
	uint32_t id;
};

struct target {
	struct td_probe_addr addr;
	uint16_t ident;
	/* flags in one byte: a sweep of 65 000 targets keeps the record small */
	bool any_rx : 1;
	bool sending : 1;   /* still has probes to send (in the heap or will be) */
	bool done_sent : 1; /* DONE event emitted */
	bool fresh : 1;     /* first probe due, waiting in the start run (not in the heap) */
	bool blocked : 1;   /* due, but its next slot holds a probe still pending: out of the heap */
	bool satisfied : 1; /* count_replies / stop_on_error: answered, sends no more */
	uint32_t answers;   /* replies in time plus probes ended by an ICMP error */
	uint32_t next_seq;
	uint32_t max_rx_seq;
	uint32_t outstanding;
	uint32_t heap_pos;  /* TD_PROBE_NONE when not in the heap */
	uint32_t hist;      /* index in the pool, TD_PROBE_NONE when none */
	uint64_t due;
	uint64_t last_send;
	struct td_probe_stats st;
};

struct td_probe {
	struct td_probe_config cfg;
	uint32_t n, cap, window;
	struct target *t;
	struct slot *slots;         /* cap * window */
	struct fifo_ent *fifo;      /* 2 * cap * window: see fifo_compact */
	uint64_t fifo_head, fifo_tail, fifo_cap;
	struct heap_ent *heap;
	uint32_t heap_len;
	/* The start run: targets [fresh_next, fresh_end) whose first probe is due
	 * at start + i * spacing, already in (due, id) order, so they need no
	 * heap until their first send. A one-shot sweep then never pays a heap
	 * sift (O(log n) per target). fresh_next always indexes a fresh target
	 * or equals fresh_end. */
	uint32_t fresh_next, fresh_end;
	/* address -> target, open addressing. Filled on the first lookup: an
	 * authenticated reply names its target in the payload, so a sweep whose
	 * replies all authenticate never needs it (a keyed hash and a cache miss
	 * per target, ~3 % of a 65 000-target sweep). Allocated at creation. */
	uint32_t *hash;
	uint32_t hash_mask;
	bool hash_ready;
	struct td_probe_hist *hists;
	/* The first RTTs of each target, exact: cap * exact_n, where exact_n is
	 * TD_PROBE_EXACT or the count when smaller (a one-shot sweep keeps 8
	 * bytes per target, not 64). */
	uint64_t *exact;
	uint32_t exact_n;
	uint32_t hist_cap, hist_used;
	struct td_probe_hist all;   /* every reply of every target */
	uint64_t outstanding;
	uint32_t sending;           /* targets with probes left to send */
	uint32_t satisfied;         /* count_replies: targets with their count of answers */
	uint64_t window_waits, evicted; /* see probe.h */
	bool started, stopped;
	uint64_t last_global_send;
	uint64_t pace_next;         /* earliest instant the spacing bucket allows a send */
	bool any_send;
	uint64_t drops[TD_PROBE_DROP_COUNT];
	/* ICMP errors by [family][type][code]: 64 KiB, allocated at the first
	 * error (most runs see none; a sweep's engine stays 1 KiB, no page
	 * faults to zero it). NULL until then, or if that allocation failed:
	 * the per-target counters still count every error. */
	uint64_t (*errs)[256][16];
	uint8_t *pkt;               /* 8 + payload_len, template of the next probe */
	size_t pkt_len;
	uint64_t ident_hash;        /* make_ident's last hash, of block ident_blk */
	uint32_t ident_blk;
	bool ident_cached;
};

static const char *const drop_names[TD_PROBE_DROP_COUNT] = {
	[TD_PROBE_DROP_MALFORMED] = "malformed",
	[TD_PROBE_DROP_NOT_ECHO] = "not_echo",
	[TD_PROBE_DROP_FOREIGN] = "foreign",
	[TD_PROBE_DROP_FORGED] = "forged",
	[TD_PROBE_DROP_WRONG_SOURCE] = "wrong_source",
	[TD_PROBE_DROP_UNKNOWN] = "unknown",
	[TD_PROBE_DROP_STALE] = "stale",
	[TD_PROBE_DROP_ERR_UNMATCHED] = "error_unmatched",
};

static const char *const kind_names[TD_PROBE_ERR_KINDS] = {
	[TD_PROBE_ERR_UNREACH] = "unreachable",
	[TD_PROBE_ERR_TIME_EXCEEDED] = "time_exceeded",
	[TD_PROBE_ERR_PARAM] = "parameter_problem",
	[TD_PROBE_ERR_TOO_BIG] = "packet_too_big",
	[TD_PROBE_ERR_REDIRECT] = "redirect",
	[TD_PROBE_ERR_OTHER] = "other",
};

const char *td_probe_drop_name(enum td_probe_drop d)
{
	return (unsigned)d < TD_PROBE_DROP_COUNT ? drop_names[d] : "?";
}

const char *td_probe_err_kind_name(enum td_probe_err_kind k)
{
	return (unsigned)k < TD_PROBE_ERR_KINDS ? kind_names[k] : "?";
}

void td_probe_config_default(struct td_probe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_targets = 1;
	cfg->interval_ns = 1000000000ULL;
	cfg->timeout_ns = 10000000000ULL;
	cfg->payload_len = 56;
	cfg->preload = 1;
	cfg->hist_all = true;
}

/* ---- helpers ---------------------------------------------------------------- */

static unsigned fam_idx(uint8_t family)
{
	return family == TD_PROBE_V6;
}

static size_t addr_len(const struct td_probe_addr *a)
{
	return a->family == TD_PROBE_V6 ? 16 : 4;
}

/* RFC 4007 §6: link-local unicast and interface- or link-local multicast
 * addresses are ambiguous without their zone. The kernel honours and reports
 * a scope id for exactly those (__ipv6_addr_needs_scope_id); for any other
 * address it is ignored here as there. */
bool td_probe_addr_needs_scope(const struct td_probe_addr *a)
{
	if (a->family != TD_PROBE_V6)
		return false;
	bool ll = a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
	bool mc = a->a[0] == 0xff && ((a->a[1] & 0x0f) == 1 || (a->a[1] & 0x0f) == 2);
	return ll || mc;
}

static uint32_t addr_scope(const struct td_probe_addr *a)
{
	return td_probe_addr_needs_scope(a) ? a->scope : 0;
}

static bool addr_eq(const struct td_probe_addr *a, const struct td_probe_addr *b)
{
	return a->family == b->family && addr_scope(a) == addr_scope(b) &&
	       !memcmp(a->a, b->a, addr_len(a));
}

/* The target identity a MAC binds, into out (at most 20 bytes): the 4- or
 * 16-byte address, then its scope (big endian) when it has one, so a probe
 * authenticated for fe80::1%eth0 fails for %eth1. The length, which SipHash
 * mixes in, keeps the three forms apart. Returns the bytes written. */
static size_t mac_addr(const struct td_probe_addr *a, uint8_t *out)
{
	size_t alen = addr_len(a);
	uint32_t scope = addr_scope(a);
	memcpy(out, a->a, alen);
	if (!scope)
		return alen;
	td_put_be32(out + alen, scope);
	return alen + 4;
}

static uint32_t pow2ceil(uint64_t v)
{
	uint32_t r = 1;
	while (r < v && r < (1u << 30))
		r <<= 1;
	return r;
}

/* Constant-time comparison: the MAC check must not leak how many bytes matched. */
static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

/* The MAC of an authentication block: SipHash-2-4 over its first 16 bytes
 * (target index, sequence, send instant) and the target's address, 4 bytes
 * for IPv4 and 16 for IPv6, 20 with a zone (mac_addr; the length, which
 * SipHash mixes in, keeps the forms apart). For IPv4, 20 bytes take three
 * SipHash blocks where a padded 16-byte address took five: the MAC is a
 * third of a sweep's engine time. */
static uint64_t payload_mac(const struct td_probe *p, const struct target *t, const uint8_t *data)
{
	uint8_t m[16 + 16 + 4];
	memcpy(m, data, 16);
	return td_siphash24(p->cfg.key, m, 16 + mac_addr(&t->addr, m + 16));
}

static uint64_t addr_hash(const struct td_probe *p, const struct td_probe_addr *a)
{
	uint8_t buf[21];
	buf[0] = a->family;
	memcpy(buf + 1, a->a, 16);
	if (a->family != TD_PROBE_V6)
		memset(buf + 5, 0, 12);
	td_put_be32(buf + 17, addr_scope(a));
	return td_siphash24(p->cfg.key, buf, sizeof(buf));
}

static void hash_rebuild(struct td_probe *p);

static uint32_t hash_find(struct td_probe *p, const struct td_probe_addr *a)
{
	if (!p->hash_ready)
		hash_rebuild(p);
	uint32_t i = (uint32_t)addr_hash(p, a) & p->hash_mask;
	for (;;) {
		uint32_t id = p->hash[i];
		if (id == TD_PROBE_NONE)
			return TD_PROBE_NONE;
		if (addr_eq(&p->t[id].addr, a))
			return id;
		i = (i + 1) & p->hash_mask;
	}
}

static void hash_insert(struct td_probe *p, uint32_t id)
{
	uint32_t i = (uint32_t)addr_hash(p, &p->t[id].addr) & p->hash_mask;
	while (p->hash[i] != TD_PROBE_NONE) {
		if (addr_eq(&p->t[p->hash[i]].addr, &p->t[id].addr))
			return; /* the same address twice: the first target answers lookups */
		i = (i + 1) & p->hash_mask;
	}
	p->hash[i] = id;
}

/* Linear probing: (re)build the whole table, on the first lookup and after
 * an address changes (rare: re-resolution). Targets go in in id order, so the
 * first of two equal addresses answers lookups, as with inserts one by one. */
static void hash_rebuild(struct td_probe *p)
{
	for (uint32_t i = 0; i <= p->hash_mask; i++)
		p->hash[i] = TD_PROBE_NONE;
	for (uint32_t id = 0; id < p->n; id++)
		hash_insert(p, id);
	p->hash_ready = true;
}

/* ---- heap on due time ---------------------------------------------------------- */

static bool heap_less(const struct td_probe *p, uint32_t a, uint32_t b)
{
	const struct heap_ent *x = &p->heap[a], *y = &p->heap[b];
	if (x->due != y->due)
		return x->due < y->due;
	return x->id < y->id; /* ties in target order: deterministic schedule */
}

static void heap_swap(struct td_probe *p, uint32_t a, uint32_t b)
{
	struct heap_ent t = p->heap[a];
	p->heap[a] = p->heap[b];
	p->heap[b] = t;
	p->t[p->heap[a].id].heap_pos = a;
	p->t[p->heap[b].id].heap_pos = b;
}

static void heap_up(struct td_probe *p, uint32_t i)
{
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!heap_less(p, i, parent))
			break;
		heap_swap(p, i, parent);
		i = parent;
	}
}

static void heap_down(struct td_probe *p, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < p->heap_len && heap_less(p, l, m))
			m = l;
		if (r < p->heap_len && heap_less(p, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(p, i, m);
		i = m;
	}
}

static void fresh_skip(struct td_probe *p)
{
	while (p->fresh_next < p->fresh_end && !p->t[p->fresh_next].fresh)
		p->fresh_next++;
}

/* Leave the start run (the heap takes over if the target goes on). */
static void fresh_leave(struct td_probe *p, uint32_t id)
{
	p->t[id].fresh = false;
	fresh_skip(p);
}

/* The target whose probe is due first, by (due, id) as heap_less orders. */
static uint32_t next_due(const struct td_probe *p)
{
	uint32_t h = p->heap_len ? p->heap[0].id : TD_PROBE_NONE;
	if (p->fresh_next >= p->fresh_end)
		return h;
	uint32_t f = p->fresh_next;
	if (h == TD_PROBE_NONE)
		return f;
	uint64_t df = p->t[f].due, dh = p->heap[0].due;
	return df < dh || (df == dh && f < h) ? f : h;
}

static uint64_t due_of(const struct td_probe *p, uint32_t id)
{
	return p->t[id].heap_pos != TD_PROBE_NONE ? p->heap[p->t[id].heap_pos].due : p->t[id].due;
}

static void heap_push(struct td_probe *p, uint32_t id)
{
	uint32_t i = p->heap_len++;
	p->heap[i].id = id;
	p->heap[i].due = p->t[id].due;
	p->t[id].heap_pos = i;
	heap_up(p, i);
}

static void heap_remove(struct td_probe *p, uint32_t id)
{
	if (p->t[id].fresh)
		fresh_leave(p, id);
	uint32_t i = p->t[id].heap_pos;
	if (i == TD_PROBE_NONE)
		return;
	p->t[id].heap_pos = TD_PROBE_NONE;
	uint32_t last = --p->heap_len;
	if (i != last) {
		p->heap[i] = p->heap[last];
		p->t[p->heap[i].id].heap_pos = i;
		heap_down(p, i);
		heap_up(p, i);
	}
}

static void heap_update(struct td_probe *p, uint32_t id)
{
	if (p->t[id].fresh)
		fresh_leave(p, id);
	uint32_t i = p->t[id].heap_pos;
	if (i == TD_PROBE_NONE) {
		heap_push(p, id);
		return;
	}
	p->heap[i].due = p->t[id].due;
	heap_up(p, i);
	heap_down(p, p->t[id].heap_pos);
}

/* ---- histogram -------------------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
	if (v < (1ULL << TD_PROBE_HIST_MIN_SHIFT))
		return 0;
	unsigned msb = 63 - (unsigned)__builtin_clzll(v);
	unsigned o = msb - TD_PROBE_HIST_MIN_SHIFT;
	if (o >= TD_PROBE_HIST_OCTAVES)
		return TD_PROBE_HIST_BUCKETS - 1;
	unsigned sub = (unsigned)(v >> (msb - 4)) & (TD_PROBE_HIST_SUB - 1);
	return 1 + o * TD_PROBE_HIST_SUB + sub;
}

uint64_t td_probe_hist_bucket_lo(unsigned i)
{
	if (i == 0)
		return 0;
	if (i >= TD_PROBE_HIST_BUCKETS)
		return 1ULL << (TD_PROBE_HIST_MIN_SHIFT + TD_PROBE_HIST_OCTAVES);
	unsigned o = (i - 1) / TD_PROBE_HIST_SUB, sub = (i - 1) % TD_PROBE_HIST_SUB;
	return (uint64_t)(TD_PROBE_HIST_SUB + sub) << (o + TD_PROBE_HIST_MIN_SHIFT - 4);
}

static void hist_add(struct td_probe_hist *h, uint64_t v)
{
	unsigned i = hist_index(v);
	if (h->b[i] != UINT32_MAX)
		h->b[i]++;
	h->count++;
}

static uint64_t hist_quantile(const struct td_probe_hist *h, double q, uint64_t lo, uint64_t hi)
{
	if (!h->count)
		return 0;
	uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	uint64_t cum = 0;
	for (unsigned i = 0; i < TD_PROBE_HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank) {
			uint64_t a = td_probe_hist_bucket_lo(i), b = td_probe_hist_bucket_lo(i + 1);
			uint64_t mid = a + (b - a) / 2;
			if (mid < lo)
				mid = lo;
			if (mid > hi)
				mid = hi;
			return mid;
		}
	}
	return hi;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int td_probe_new(struct td_probe **out, const struct td_probe_config *cfg)
{
	if (!cfg->max_targets || cfg->max_targets > (1u << 24) || !cfg->timeout_ns ||
	    cfg->payload_len > TD_PROBE_PAYLOAD_MAX || cfg->pattern_len > TD_PROBE_PATTERN_MAX ||
	    cfg->window > TD_PROBE_WINDOW_MAX || (cfg->window & (cfg->window - 1)) ||
	    (cfg->ident_mod > 1 && cfg->ident_rem >= cfg->ident_mod))
		return -EINVAL;
	if (!cfg->interval_ns && !cfg->send_on_reply && cfg->count != 1)
		return -EINVAL; /* an interval of 0 would send forever in one poll */

	struct td_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	if (!p->cfg.preload)
		p->cfg.preload = 1;
	p->cap = cfg->max_targets;

	uint32_t w = cfg->window;
	if (!w) {
		/* Enough slots that a probe times out before its slot is reused. */
		uint64_t per = cfg->interval_ns ? cfg->timeout_ns / cfg->interval_ns : 64;
		if (cfg->send_on_reply) {
			/* a root flood sends on each reply: ~10 us apart on loopback */
			uint64_t gap = cfg->min_gap_ns ? cfg->min_gap_ns : 10000;
			uint64_t per2 = cfg->timeout_ns / gap;
			per = per2 > per ? per2 : per;
		}
		w = pow2ceil(per + 2 + p->cfg.preload);
		if (w > TD_PROBE_WINDOW_MAX)
			w = TD_PROBE_WINDOW_MAX;
		if (cfg->count && !cfg->count_replies && w > pow2ceil(cfg->count))
			w = pow2ceil(cfg->count);
		/* The memory bound: a smaller window makes sends wait for slots
		 * (window_waits), it never ends a probe before its timeout. */
		uint32_t least = pow2ceil(2 + (uint64_t)p->cfg.preload);
		while (w > least && w > 1 && (uint64_t)p->cap * w > TD_PROBE_SLOTS_MAX)
			w >>= 1;
	} else if (cfg->count && !cfg->count_replies && w > pow2ceil(cfg->count)) {
		w = pow2ceil(cfg->count);
	}
	p->window = w;
	uint64_t nslots = (uint64_t)p->cap * w;
	p->fifo_cap = 2 * nslots; /* see fifo_compact */
	if (cfg->count && !cfg->count_replies && (uint64_t)p->cap * cfg->count < p->fifo_cap)
		p->fifo_cap = (uint64_t)p->cap * cfg->count; /* never more entries than sends */

	uint32_t hsize = pow2ceil((uint64_t)p->cap * 2);
	p->hash_mask = hsize - 1;
	p->hist_cap = cfg->hist_all ? p->cap : cfg->hist_pool;
	if (p->hist_cap > p->cap)
		p->hist_cap = p->cap;
	p->pkt_len = TD_ICMP_HDR_LEN + cfg->payload_len;

	p->t = calloc(p->cap, sizeof(*p->t));
	p->slots = calloc(nslots, sizeof(*p->slots));
	p->fifo = calloc(p->fifo_cap, sizeof(*p->fifo));
	p->heap = calloc(p->cap, sizeof(*p->heap));
	p->hash = malloc((size_t)hsize * sizeof(*p->hash));
	p->hists = p->hist_cap ? calloc(p->hist_cap, sizeof(*p->hists)) : NULL;
	p->exact_n = cfg->count && cfg->count < TD_PROBE_EXACT ? cfg->count : TD_PROBE_EXACT;
	p->exact = calloc((size_t)p->cap * p->exact_n, sizeof(*p->exact));
	p->pkt = calloc(1, p->pkt_len);
	if (!p->t || !p->slots || !p->fifo || !p->heap || !p->hash || (p->hist_cap && !p->hists) ||
	    !p->pkt || !p->exact) {
		td_probe_free(p);
		return -ENOMEM;
	}

	/* The fill pattern is the same in every probe: write it once (iputils -p
	 * semantics: data byte i is pattern[i % len], else the low byte of i). */
	uint8_t *data = p->pkt + TD_ICMP_HDR_LEN;
	for (uint32_t i = 0; i < cfg->payload_len; i++)
		data[i] = cfg->pattern_len ? cfg->pattern[i % cfg->pattern_len] : (uint8_t)i;
	*out = p;
	return 0;
}

void td_probe_free(struct td_probe *p)
{
	if (!p)
		return;
	free(p->t);
	free(p->slots);
	free(p->fifo);
	free(p->heap);
	free(p->hash);
	free(p->hists);
	free(p->exact);
	free(p->pkt);
	free(p->errs);
	free(p);
}

/* A target's raw-socket identifier: one 16-bit lane of SipHash("iden",
 * id / 4) under the run's key, so four consecutive targets share one hash
 * (targets are added in id order: a sweep pays a quarter hash per target). */
static uint16_t make_ident(struct td_probe *p, uint32_t id)
{
	uint32_t blk = id / 4;
	if (!p->ident_cached || p->ident_blk != blk) {
		uint8_t b[8] = {'i', 'd', 'e', 'n', 0, 0, 0, 0};
		td_put_be32(b + 4, blk);
		p->ident_hash = td_siphash24(p->cfg.key, b, sizeof(b));
		p->ident_blk = blk;
		p->ident_cached = true;
	}
	uint32_t h = (uint16_t)(p->ident_hash >> (16 * (id % 4)));
	uint32_t m = p->cfg.ident_mod;
	if (m > 1) {
		h = h - h % m + p->cfg.ident_rem;
		if (h > 0xffff)
			h -= m; /* the top partial block: one step down stays in range */
	}
	return (uint16_t)h;
}

int td_probe_add(struct td_probe *p, const struct td_probe_addr *addr, uint32_t *id)
{
	if (addr->family != TD_PROBE_V4 && addr->family != TD_PROBE_V6)
		return -EAFNOSUPPORT;
	if (addr->family == TD_PROBE_V4 && p->cfg.payload_len > TD_PROBE_PAYLOAD_MAX_V4)
		return -EMSGSIZE; /* no IPv4 datagram holds it */
	if (p->n >= p->cap)
		return -ENOSPC;
	uint32_t i = p->n++;
	struct target *t = &p->t[i];
	memset(t, 0, sizeof(*t));
	t->addr = *addr;
	if (addr->family == TD_PROBE_V4)
		memset(t->addr.a + 4, 0, 12);
	t->ident = make_ident(p, i);
	t->heap_pos = TD_PROBE_NONE;
	t->st.last_ttl = t->st.last_tos = -1;
	t->hist = TD_PROBE_NONE;
	if (p->cfg.hist_all && p->hist_used < p->hist_cap)
		t->hist = p->hist_used++;
	if (p->hash_ready)
		hash_insert(p, i);
	if (p->started && !p->stopped) {
		t->sending = true;
		t->due = p->last_global_send;
		p->sending++;
		heap_push(p, i);
	}
	if (id)
		*id = i;
	return 0;
}

int td_probe_set_addr(struct td_probe *p, uint32_t id, const struct td_probe_addr *addr)
{
	if (id >= p->n)
		return -ENOENT;
	if (addr->family != TD_PROBE_V4 && addr->family != TD_PROBE_V6)
		return -EAFNOSUPPORT;
	p->t[id].addr = *addr;
	if (addr->family == TD_PROBE_V4)
		memset(p->t[id].addr.a + 4, 0, 12);
	if (p->hash_ready)
		hash_rebuild(p);
	return 0;
}

uint32_t td_probe_count(const struct td_probe *p)
{
	return p->n;
}

size_t td_probe_packet_len(const struct td_probe *p)
{
	return p->pkt_len;
}

const struct td_probe_addr *td_probe_target_addr(const struct td_probe *p, uint32_t id)
{
	return id < p->n ? &p->t[id].addr : NULL;
}

uint16_t td_probe_target_ident(const struct td_probe *p, uint32_t id)
{
	return id < p->n ? p->t[id].ident : 0;
}

void td_probe_start(struct td_probe *p, uint64_t now)
{
	bool run = !p->started && p->fresh_next == p->fresh_end;
	p->started = true;
	for (uint32_t i = 0; i < p->n; i++) {
		struct target *t = &p->t[i];
		if (t->sending || t->next_seq)
			continue;
		t->sending = true;
		t->due = now + (uint64_t)i * p->cfg.spacing_ns;
		p->sending++;
		if (run)
			t->fresh = true; /* dues rise with i: the run is in order */
		else
			heap_push(p, i);
	}
	if (run) {
		p->fresh_next = 0;
		p->fresh_end = p->n;
		fresh_skip(p);
	}
}

static void emit(struct td_probe *p, struct td_probe_event *ev)
{
	if (p->cfg.on_event)
		p->cfg.on_event(p->cfg.ctx, ev);
}

static void maybe_done(struct td_probe *p, uint32_t id, uint64_t now)
{
	struct target *t = &p->t[id];
	if (t->sending || (t->outstanding && !t->satisfied) || t->done_sent || !t->next_seq)
		return;
	t->done_sent = true;
	struct td_probe_event ev = {.kind = TD_PROBE_EV_DONE, .target = id, .now = now,
				    .ttl = -1, .tos = -1, .from = t->addr};
	emit(p, &ev);
}

void td_probe_stop(struct td_probe *p)
{
	p->stopped = true;
	while (p->heap_len) {
		uint32_t id = p->heap[0].id;
		heap_remove(p, id);
	}
	for (uint32_t i = p->fresh_next; i < p->fresh_end; i++)
		p->t[i].fresh = false;
	p->fresh_next = p->fresh_end;
	for (uint32_t i = 0; i < p->n; i++) {
		if (p->t[i].sending) {
			p->t[i].sending = false;
			p->sending--;
		}
	}
	for (uint32_t i = 0; i < p->n; i++)
		maybe_done(p, i, p->last_global_send);
}

/* ---- sending and timeouts -------------------------------------------------------------- */

static struct slot *slot_of(struct td_probe *p, uint32_t id, uint32_t seq)
{
	return &p->slots[(size_t)id * p->window + (seq & (p->window - 1))];
}

/* The probe seq has ended (reply, error, timeout, failed send): a target
 * whose next send waits for exactly that slot goes on at once. */
static void slot_freed(struct td_probe *p, uint32_t id, uint32_t seq, uint64_t now)
{
	struct target *t = &p->t[id];
	if (!t->blocked || ((seq ^ t->next_seq) & (p->window - 1)))
		return;
	t->blocked = false;
	if (!t->sending || p->stopped)
		return;
	t->due = now; /* it was due when it blocked */
	heap_update(p, id);
}

/* A reply in time or an ICMP error ended a probe. With count_replies a
 * target that has its count sends no more: iputils main_loop stops when
 * nreceived + nerrors >= npackets, and with a deadline pinger() keeps
 * sending until then. With stop_on_error the first error is enough
 * (main_loop: `if (deadline && nerrors) break`). */
static void count_answer(struct td_probe *p, uint32_t id, bool error)
{
	struct target *t = &p->t[id];
	t->answers++;
	bool enough = p->cfg.count_replies && p->cfg.count && t->answers >= p->cfg.count;
	if (t->satisfied || !(enough || (error && p->cfg.stop_on_error)))
		return;
	t->satisfied = true;
	t->blocked = false;
	p->satisfied++;
	if (t->sending) {
		heap_remove(p, id);
		t->sending = false;
		p->sending--;
	}
}

static void time_out(struct td_probe *p, uint32_t id, struct slot *s, uint64_t now)
{
	struct target *t = &p->t[id];
	s->state = SLOT_TIMED_OUT;
	t->outstanding--;
	p->outstanding--;
	t->st.timeouts++;
	slot_freed(p, id, s->seq, now);
	struct td_probe_event ev = {.kind = TD_PROBE_EV_TIMEOUT, .target = id, .seq = s->seq,
				    .now = now, .ttl = -1, .tos = -1, .from = t->addr};
	emit(p, &ev);
	maybe_done(p, id, now);
}

static void run_timeouts(struct td_probe *p, uint64_t now)
{
	while (p->fifo_head != p->fifo_tail) {
		struct fifo_ent *e = &p->fifo[p->fifo_head % p->fifo_cap];
		struct slot *s = slot_of(p, e->target, e->seq);
		if (s->seq != e->seq || s->state != SLOT_PENDING) {
			p->fifo_head++;
			continue;
		}
		if (s->sent_now + p->cfg.timeout_ns > now)
			break;
		p->fifo_head++;
		time_out(p, e->target, s, now);
	}
}

static void schedule_next(struct td_probe *p, uint32_t id, uint64_t now)
{
	struct target *t = &p->t[id];
	if (p->cfg.count && !p->cfg.count_replies && t->next_seq >= p->cfg.count) {
		heap_remove(p, id);
		t->sending = false;
		p->sending--;
		return;
	}
	if (t->next_seq < p->cfg.preload) {
		t->due = now;
	} else if (p->cfg.send_on_reply && t->outstanding < p->cfg.preload) {
		/* flood/adaptive with a window (-l): refill it at once */
		uint64_t due = t->last_send + p->cfg.min_gap_ns;
		t->due = due > now ? due : now;
	} else {
		/* Keep the grid (no drift) but never burst to catch up. */
		uint64_t due = t->due + p->cfg.interval_ns;
		t->due = due < now ? now : due;
	}
	heap_update(p, id);
}

/* Forget the entries of ended probes (answered ones queued behind a lost
 * one at the head, e.g. in flood), keeping send order. The entries left are
 * the pending probes, p->outstanding <= cap * window = fifo_cap / 2, so each
 * compaction frees at least half the FIFO: O(1) amortised per send. */
static void fifo_compact(struct td_probe *p)
{
	uint64_t w = p->fifo_head;
	for (uint64_t i = p->fifo_head; i != p->fifo_tail; i++) {
		struct fifo_ent e = p->fifo[i % p->fifo_cap];
		const struct slot *s = slot_of(p, e.target, e.seq);
		if (s->seq == e.seq && s->state == SLOT_PENDING)
			p->fifo[w++ % p->fifo_cap] = e;
	}
	p->fifo_tail = w;
}

int td_probe_poll(struct td_probe *p, uint64_t now, struct td_probe_tx *tx)
{
	run_timeouts(p, now);
	if (p->stopped)
		return 0;
	uint32_t id;
	struct target *t;
	struct slot *s;
	for (;;) {
		id = next_due(p);
		if (id == TD_PROBE_NONE)
			return 0;
		t = &p->t[id];
		if (due_of(p, id) > now)
			return 0;
		s = slot_of(p, id, t->next_seq);
		if (s->state != SLOT_PENDING)
			break;
		if (p->cfg.send_on_reply) {
			/* Flood/adaptive: replies drive the rate and W newer probes
			 * were answered meanwhile; holding the flood back for this
			 * one would stall it. Forget it, counted as what it is: not
			 * a timeout (its -W has not passed), just untracked; a reply
			 * after this is dropped as stale. */
			s->state = SLOT_EMPTY;
			t->outstanding--;
			p->outstanding--;
			p->evicted++;
			break;
		}
		/* Every slot holds a probe still within its timeout: wait until
		 * the oldest ends (slot_freed) rather than call it lost early. */
		t->blocked = true;
		p->window_waits++;
		heap_remove(p, id);
	}
	if (p->cfg.spacing_ns && p->any_send && now < p->pace_next)
		return 0;
	if (t->fresh)
		fresh_leave(p, id); /* schedule_next puts it in the heap if it goes on */

	uint32_t seq = t->next_seq++;
	s->seq = seq;
	s->state = SLOT_PENDING;
	s->kstamp = false;
	s->sent_now = now;
	s->tx_stamp = 0;
	if (p->fifo_tail - p->fifo_head == p->fifo_cap)
		fifo_compact(p);
	p->fifo[p->fifo_tail++ % p->fifo_cap] = (struct fifo_ent){id, seq};

	t->outstanding++;
	p->outstanding++;
	t->st.transmitted++;
	t->last_send = now;
	p->last_global_send = now;
	if (p->cfg.spacing_ns) {
		uint64_t base = p->pace_next;
		uint64_t floor = now > p->cfg.spacing_burst_ns ? now - p->cfg.spacing_burst_ns : 0;
		if (!p->any_send || base < floor)
			base = floor; /* idle time refills the bucket, up to its depth */
		if (!p->cfg.spacing_burst_ns && base < now)
			base = now;
		p->pace_next = base + p->cfg.spacing_ns;
	}
	p->any_send = true;

	/* Authentication block (see probe.h) then the constant fill pattern. */
	uint8_t *data = p->pkt + TD_ICMP_HDR_LEN;
	if (p->cfg.payload_len >= TD_PROBE_AUTH_LEN) {
		td_put_be32(data, id);
		td_put_be32(data + 4, seq);
		td_put_be32(data + 8, (uint32_t)(now >> 32));
		td_put_be32(data + 12, (uint32_t)now);
		uint64_t mac = payload_mac(p, t, data);
		td_put_be32(data + 16, (uint32_t)(mac >> 32));
		td_put_be32(data + 20, (uint32_t)mac);
	}
	struct td_icmp_repr r = {
		.type = t->addr.family == TD_PROBE_V6 ? TD_ICMP6_ECHO_REQUEST : TD_ICMP4_ECHO_REQUEST,
		.ident = t->ident,
		.seq = (uint16_t)seq,
		.data = {data, p->cfg.payload_len},
	};
	if (t->addr.family == TD_PROBE_V6) {
		/* The kernel computes the ICMPv6 checksum on both socket kinds
		 * (RFC 3542 §3.1); the zero pseudo-header only fills the field. */
		static const uint8_t zero[16];
		td_icmp6_emit(&r, zero, zero, p->pkt, p->pkt_len);
	} else {
		td_icmp4_emit(&r, p->pkt, p->pkt_len);
	}

	tx->target = id;
	tx->seq = seq;
	tx->family = t->addr.family;
	tx->dst = &t->addr;
	tx->pkt = p->pkt;
	tx->len = p->pkt_len;
	schedule_next(p, id, now);
	return 1;
}

void td_probe_unsend(struct td_probe *p, const struct td_probe_tx *tx)
{
	if (tx->target >= p->n)
		return;
	struct target *t = &p->t[tx->target];
	if (t->next_seq != tx->seq + 1)
		return; /* only the newest probe of a target can be given back */
	struct slot *s = slot_of(p, tx->target, tx->seq);
	if (s->seq != tx->seq || s->state != SLOT_PENDING)
		return;
	s->state = SLOT_EMPTY;
	t->next_seq--;
	t->outstanding--;
	p->outstanding--;
	t->st.transmitted--;
	if (p->fifo_tail != p->fifo_head)
		p->fifo_tail--;
	t->due = s->sent_now;
	if (t->satisfied)
		return; /* count_replies: answered enough meanwhile; the probe was not sent */
	if (!t->sending) {
		t->sending = true;
		p->sending++;
	}
	heap_update(p, tx->target);
}

void td_probe_send_failed(struct td_probe *p, uint32_t target, uint32_t seq, int err,
			  uint32_t info, uint64_t now)
{
	if (target >= p->n)
		return;
	struct slot *s = slot_of(p, target, seq);
	if (s->seq != seq || s->state != SLOT_PENDING)
		return;
	struct target *t = &p->t[target];
	s->state = SLOT_FAILED;
	t->outstanding--;
	p->outstanding--;
	t->st.send_errors++;
	slot_freed(p, target, seq, now);
	struct td_probe_event ev = {.kind = TD_PROBE_EV_SEND_ERROR, .target = target, .seq = seq,
				    .now = now, .send_errno = err, .info = info, .ttl = -1,
				    .tos = -1, .from = t->addr};
	emit(p, &ev);
	maybe_done(p, target, now);
}

void td_probe_tx_stamp(struct td_probe *p, uint32_t target, uint32_t seq, uint64_t stamp_ns,
		       bool kernel)
{
	if (target >= p->n)
		return;
	struct slot *s = slot_of(p, target, seq);
	if (s->seq != seq || s->state == SLOT_EMPTY)
		return;
	if (s->kstamp && !kernel)
		return;
	s->tx_stamp = stamp_ns;
	s->kstamp = kernel;
}

/* ---- receiving ---------------------------------------------------------------------------- */

static int drop(struct td_probe *p, enum td_probe_drop d)
{
	p->drops[d]++;
	return (int)d + 1;
}

/* The 32-bit sequence nearest below next_seq whose low 16 bits are seq16. */
static bool expand_seq(const struct target *t, uint16_t seq16, uint32_t *seq32)
{
	if (!t->next_seq)
		return false;
	uint32_t last = t->next_seq - 1;
	uint32_t back = (uint16_t)((uint16_t)last - seq16);
	if (back > last)
		return false;
	*seq32 = last - back;
	return true;
}

static bool mac_ok(const struct td_probe *p, const struct target *t, const uint8_t *data)
{
	uint8_t want[8];
	uint64_t mac = payload_mac(p, t, data);
	td_put_be32(want, (uint32_t)(mac >> 32));
	td_put_be32(want + 4, (uint32_t)mac);
	return ct_equal(want, data + 16, 8);
}

static void record_rtt(struct td_probe *p, struct target *t, uint64_t rtt)
{
	struct td_probe_stats *st = &t->st;
	uint64_t n = st->received; /* already counts this reply */
	if (n == 1 || rtt < st->rtt_min_ns)
		st->rtt_min_ns = rtt;
	if (rtt > st->rtt_max_ns)
		st->rtt_max_ns = rtt;
	st->rtt_sum_ns += rtt;
	st->rtt_sum2 += (double)rtt * (double)rtt;
	/* RFC 3550 §6.4.1: D(i,j) is the difference of transit times, which for
	 * an echo is the difference of consecutive RTTs; J += (|D| - J) / 16. */
	if (n > 1) {
		double d = (double)rtt - (double)st->last_rtt_ns;
		st->jitter_ns += (fabs(d) - st->jitter_ns) / 16.0;
	}
	st->last_rtt_ns = rtt;
	/* iputils' smoothed RTT: seeded by the first reply, then gain 1/8. */
	if (n == 1)
		st->rtt_ewma_ns = rtt;
	else
		st->rtt_ewma_ns = (uint64_t)((int64_t)st->rtt_ewma_ns +
					     ((int64_t)rtt - (int64_t)st->rtt_ewma_ns) / 8);
	uint64_t *ex = &p->exact[(size_t)(t - p->t) * p->exact_n];
	if (n <= p->exact_n)
		ex[n - 1] = rtt;
	if (t->hist == TD_PROBE_NONE && n > p->exact_n && p->hist_used < p->hist_cap) {
		t->hist = p->hist_used++;
		for (unsigned i = 0; i < p->exact_n; i++)
			hist_add(&p->hists[t->hist], ex[i]);
	}
	if (t->hist != TD_PROBE_NONE)
		hist_add(&p->hists[t->hist], rtt);
	hist_add(&p->all, rtt);
}

struct reply_in {
	uint8_t family;
	uint16_t ident, seq;
	struct td_bytes data;
	uint32_t bytes;
	const struct td_probe_addr *src;
	const struct td_probe_rx *rx;
	int16_t ttl, tos;
};

static int handle_reply(struct td_probe *p, uint64_t now, const struct reply_in *in)
{
	unsigned fi = fam_idx(in->family);
	bool raw = p->cfg.sock[fi] == TD_PROBE_SOCK_RAW;
	bool auth = p->cfg.payload_len >= TD_PROBE_AUTH_LEN;
	uint32_t id, seq;
	struct target *t;
	struct td_probe_event ev = {.kind = TD_PROBE_EV_REPLY, .now = now, .ttl = in->ttl,
				    .tos = in->tos, .from = *in->src, .bytes = in->bytes};

	if (auth) {
		if (in->data.len < TD_PROBE_AUTH_LEN) {
			if (raw && hash_find(p, in->src) == TD_PROBE_NONE)
				return drop(p, TD_PROBE_DROP_FOREIGN);
			goto forged;
		}
		id = td_get_be32(in->data.ptr);
		seq = td_get_be32(in->data.ptr + 4);
		if (raw && (id >= p->n || p->t[id].ident != in->ident))
			return drop(p, TD_PROBE_DROP_FOREIGN); /* another pinger's reply */
		if (id >= p->n || !mac_ok(p, &p->t[id], in->data.ptr) || (uint16_t)seq != in->seq)
			goto forged;
		t = &p->t[id];
		if (!addr_eq(&t->addr, in->src))
			return drop(p, TD_PROBE_DROP_WRONG_SOURCE);
	} else {
		id = hash_find(p, in->src);
		if (id == TD_PROBE_NONE)
			return drop(p, raw ? TD_PROBE_DROP_FOREIGN : TD_PROBE_DROP_UNKNOWN);
		t = &p->t[id];
		if (raw && t->ident != in->ident)
			return drop(p, TD_PROBE_DROP_FOREIGN);
		if (!expand_seq(t, in->seq, &seq))
			return drop(p, TD_PROBE_DROP_UNKNOWN);
		ev.unauthenticated = true;
	}

	struct slot *s = slot_of(p, id, seq);
	if (s->seq != seq || s->state == SLOT_EMPTY)
		return drop(p, TD_PROBE_DROP_STALE);
	ev.target = id;
	ev.seq = seq;

	/* RTT: stamps in one clock when both exist, else the monotonic instants. */
	uint64_t mono = now > s->sent_now ? now - s->sent_now : 0;
	uint64_t rtt = mono;
	if (s->tx_stamp && in->rx->stamp_ns && in->rx->stamp_ns >= s->tx_stamp &&
	    in->rx->stamp_ns - s->tx_stamp <= mono + 1000000000ULL) {
		rtt = in->rx->stamp_ns - s->tx_stamp;
		ev.kernel_stamps = s->kstamp && in->rx->kernel_stamp;
	}
	ev.rtt_ns = rtt;

	/* Payload check: length, then every byte after the authentication block. */
	if (in->data.len != p->cfg.payload_len) {
		ev.truncated = true;
		ev.corrupted = true;
	}
	size_t from = auth ? TD_PROBE_AUTH_LEN : 0;
	size_t upto = in->data.len < p->cfg.payload_len ? in->data.len : p->cfg.payload_len;
	const uint8_t *want = p->pkt + TD_ICMP_HDR_LEN;
	/* Equal 8-byte words first (musl's memcmp goes byte by byte); the byte
	 * loop then finds the first wrong byte, if any. */
	while (from < upto && upto - from >= 8) {
		uint64_t x, y;
		memcpy(&x, in->data.ptr + from, 8);
		memcpy(&y, want + from, 8);
		if (x != y)
			break;
		from += 8;
	}
	for (size_t i = from; i < upto; i++) {
		if (in->data.ptr[i] != want[i]) {
			ev.data = in->data.ptr;
			ev.data_len = (uint32_t)upto;
			ev.corrupted = true;
			ev.bad_offset = (uint32_t)i;
			ev.bad_byte = in->data.ptr[i];
			ev.want_byte = want[i];
			break;
		}
	}

	if (ev.unauthenticated)
		t->st.unauthenticated++;
	switch (s->state) {
	case SLOT_ANSWERED:
		ev.dup = true;
		t->st.duplicates++;
		break;
	case SLOT_PENDING:
		s->state = SLOT_ANSWERED;
		t->outstanding--;
		p->outstanding--;
		t->st.received++;
		if (t->any_rx && (int32_t)(seq - t->max_rx_seq) < 0) {
			ev.out_of_order = true;
			t->st.out_of_order++;
		}
		if (!t->any_rx || (int32_t)(seq - t->max_rx_seq) > 0)
			t->max_rx_seq = seq;
		t->any_rx = true;
		if (ev.corrupted)
			t->st.corrupted++;
		if (ev.kernel_stamps)
			t->st.kernel_tx_stamps = true;
		record_rtt(p, t, rtt);
		slot_freed(p, id, seq, now);
		count_answer(p, id, false);
		if (in->ttl >= 0)
			t->st.last_ttl = in->ttl;
		if (in->tos >= 0)
			t->st.last_tos = in->tos;
		break;
	default: /* timed out, errored or failed before: late */
		ev.late = true;
		t->st.late++;
		break;
	}
	emit(p, &ev);
	if (s->state == SLOT_ANSWERED && !ev.dup) {
		/* Flood/adaptive: an answer to one of the latest `preload` probes
		 * releases the next one; an older loss does not hold the flood back. */
		if (p->cfg.send_on_reply && t->sending && seq + p->cfg.preload >= t->next_seq) {
			uint64_t due = t->last_send + p->cfg.min_gap_ns;
			t->due = due > now ? due : now;
			heap_update(p, id);
		}
		maybe_done(p, id, now);
	}
	return 0;

forged: {
	uint32_t who = hash_find(p, in->src);
	if (who != TD_PROBE_NONE)
		p->t[who].st.forged++;
	struct td_probe_event fe = {.kind = TD_PROBE_EV_FORGED, .target = who, .now = now,
				    .ttl = in->ttl, .tos = in->tos, .from = *in->src,
				    .bytes = in->bytes, .seq = in->seq};
	emit(p, &fe);
	return drop(p, TD_PROBE_DROP_FORGED);
}
}

static enum td_probe_err_kind classify(uint8_t family, uint8_t type, uint8_t code, bool local,
				       int err)
{
	if (local)
		return err == EMSGSIZE ? TD_PROBE_ERR_TOO_BIG : TD_PROBE_ERR_OTHER;
	if (family == TD_PROBE_V6) {
		switch (type) {
		case TD_ICMP6_DEST_UNREACH: return TD_PROBE_ERR_UNREACH;
		case TD_ICMP6_PACKET_TOO_BIG: return TD_PROBE_ERR_TOO_BIG;
		case TD_ICMP6_TIME_EXCEEDED: return TD_PROBE_ERR_TIME_EXCEEDED;
		case TD_ICMP6_PARAM_PROBLEM: return TD_PROBE_ERR_PARAM;
		default: return TD_PROBE_ERR_OTHER;
		}
	}
	switch (type) {
	case TD_ICMP4_DEST_UNREACH:
		return code == TD_ICMP4_CODE_FRAG_NEEDED ? TD_PROBE_ERR_TOO_BIG : TD_PROBE_ERR_UNREACH;
	case TD_ICMP4_TIME_EXCEEDED: return TD_PROBE_ERR_TIME_EXCEEDED;
	case TD_ICMP4_PARAM_PROBLEM: return TD_PROBE_ERR_PARAM;
	case TD_ICMP4_REDIRECT: return TD_PROBE_ERR_REDIRECT;
	default: return TD_PROBE_ERR_OTHER;
	}
}

struct err_in {
	uint8_t family;
	uint8_t type, code;
	uint32_t info;
	bool local;
	int err;
	const struct td_probe_addr *offender;
	const struct td_probe_addr *dst; /* quoted destination, may be NULL */
	const uint8_t *q;                /* quoted echo request: ICMP header + data */
	size_t qlen;
	bool raw;
};

/* RFC 792 / RFC 4443 §2.4(c): an error quotes as much of the offending
 * datagram as fits; our echo header (8 bytes) is the minimum needed. */
static int handle_error(struct td_probe *p, uint64_t now, const struct err_in *in)
{
	uint8_t req = in->family == TD_PROBE_V6 ? TD_ICMP6_ECHO_REQUEST : TD_ICMP4_ECHO_REQUEST;
	if (in->qlen < TD_ICMP_HDR_LEN || in->q[0] != req)
		return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
	uint16_t ident = td_get_be16(in->q + 4), seq16 = td_get_be16(in->q + 6);
	const uint8_t *data = in->q + TD_ICMP_HDR_LEN;
	size_t dlen = in->qlen - TD_ICMP_HDR_LEN;
	uint32_t id, seq;

	if (p->cfg.payload_len >= TD_PROBE_AUTH_LEN && dlen >= TD_PROBE_AUTH_LEN) {
		id = td_get_be32(data);
		seq = td_get_be32(data + 4);
		if (id >= p->n || !mac_ok(p, &p->t[id], data) || (uint16_t)seq != seq16)
			return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
	} else {
		if (!in->dst)
			return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
		id = hash_find(p, in->dst);
		if (id == TD_PROBE_NONE || !expand_seq(&p->t[id], seq16, &seq))
			return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
	}
	struct target *t = &p->t[id];
	if (in->raw && t->ident != ident)
		return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
	if (in->dst && !addr_eq(in->dst, &t->addr))
		return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
	struct slot *s = slot_of(p, id, seq);
	if (s->seq != seq || s->state == SLOT_EMPTY)
		return drop(p, TD_PROBE_DROP_STALE);

	enum td_probe_err_kind k = classify(in->family, in->type, in->code, in->local, in->err);
	t->st.errors++;
	t->st.err_kind[k]++;
	t->st.last_err_type = in->type;
	t->st.last_err_code = in->code;
	if (!p->errs)
		p->errs = calloc(2, sizeof(*p->errs));
	if (p->errs)
		p->errs[fam_idx(in->family)][in->type][in->code < 16 ? in->code : 15]++;
	/* A redirect still delivered the probe: the reply may yet come. */
	bool terminal = k != TD_PROBE_ERR_REDIRECT && s->state == SLOT_PENDING;
	if (terminal) {
		s->state = SLOT_ERRORED;
		t->outstanding--;
		p->outstanding--;
		slot_freed(p, id, seq, now);
		count_answer(p, id, true); /* iputils counts nerrors as answers for -c */
	}
	struct td_probe_event ev = {.kind = TD_PROBE_EV_ERROR, .target = id, .seq = seq, .now = now,
				    .icmp_type = in->type, .icmp_code = in->code, .err_kind = k,
				    .info = in->info, .send_errno = in->err, .ttl = -1, .tos = -1};
	ev.from = in->offender ? *in->offender : t->addr;
	emit(p, &ev);
	if (terminal) {
		if (p->cfg.send_on_reply && t->sending && seq + p->cfg.preload >= t->next_seq) {
			uint64_t due = t->last_send + p->cfg.min_gap_ns;
			t->due = due > now ? due : now;
			heap_update(p, id);
		}
		maybe_done(p, id, now);
	}
	return 0;
}

/* A raw socket's ICMP error: locate our quoted echo request inside it. The
 * quote is truncated by design (RFC 792: IP header + 64 bits at least), so the
 * quoted IP header is read with explicit bounds rather than td_ipv4_check,
 * which insists on the whole datagram. */
static int raw_error(struct td_probe *p, uint64_t now, uint8_t family, const struct td_icmp_repr *r,
		     const struct td_probe_addr *offender)
{
	const uint8_t *q = r->data.ptr;
	size_t len = r->data.len;
	struct td_probe_addr dst = {.family = family};
	size_t hl;
	if (family == TD_PROBE_V4) {
		if (len < TD_IPV4_HDR_MIN || (q[0] >> 4) != 4)
			return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
		hl = (size_t)(q[0] & 0x0f) * 4;
		if (hl < TD_IPV4_HDR_MIN || hl > len || q[9] != TD_IPPROTO_ICMP)
			return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
		memcpy(dst.a, q + 16, 4);
	} else {
		if (len < TD_IPV6_HDR_LEN || (q[0] >> 4) != 6 || q[6] != TD_IPPROTO_ICMPV6)
			return drop(p, TD_PROBE_DROP_ERR_UNMATCHED);
		hl = TD_IPV6_HDR_LEN;
		memcpy(dst.a, q + 24, 16);
		/* The quote has no zone: a link-local destination's error comes
		 * from that link, whose scope msg_name gave the offender. */
		dst.scope = offender->scope;
	}
	struct err_in e = {.family = family, .type = r->type, .code = r->code,
			   .info = r->type == TD_ICMP4_PARAM_PROBLEM && family == TD_PROBE_V4
					   ? r->pointer
					   : r->mtu,
			   .offender = offender, .dst = &dst, .q = q + hl, .qlen = len - hl,
			   .raw = true};
	if (family == TD_PROBE_V6 && r->type == TD_ICMP6_PARAM_PROBLEM)
		e.info = r->pointer;
	return handle_error(p, now, &e);
}

int td_probe_input(struct td_probe *p, uint64_t now, const void *buf, size_t len,
		   const struct td_probe_rx *rx)
{
	struct td_bytes icmp = {buf, len};
	int16_t ttl = rx->ttl, tos = rx->tos;
	unsigned flags = 0;
#ifdef TD_FUZZING
	flags |= TD_WIRE_SKIP_CSUM; /* let the fuzzer past the checksum */
#endif
	if (rx->family != TD_PROBE_V4 && rx->family != TD_PROBE_V6)
		return drop(p, TD_PROBE_DROP_MALFORMED);
	if (rx->has_ip_header && rx->family == TD_PROBE_V4) {
		struct td_ipv4_view v;
		if (td_ipv4_check(&v, buf, len, flags) != TD_WIRE_OK ||
		    td_ipv4_proto(&v) != TD_IPPROTO_ICMP || td_ipv4_is_fragment(&v))
			return drop(p, TD_PROBE_DROP_MALFORMED);
		struct td_ipv4_repr ip;
		td_ipv4_parse(&v, &ip);
		ttl = ip.ttl;
		tos = ip.tos;
		icmp = td_ipv4_payload(&v);
	}
	struct td_icmp_repr r;
	enum td_wire_err werr;
	if (rx->family == TD_PROBE_V4) {
		werr = td_icmp4_parse(icmp.ptr, icmp.len, flags, &r);
	} else {
		/* The kernel verified the ICMPv6 checksum (RFC 3542 §3.1) and the
		 * destination address is not at hand: skip it here. */
		static const uint8_t zero[16];
		werr = td_icmp6_parse(icmp.ptr, icmp.len, zero, zero, flags | TD_WIRE_SKIP_CSUM, &r);
	}
	if (werr != TD_WIRE_OK)
		return drop(p, TD_PROBE_DROP_MALFORMED);

	uint8_t reply = rx->family == TD_PROBE_V6 ? TD_ICMP6_ECHO_REPLY : TD_ICMP4_ECHO_REPLY;
	if (r.type == reply) {
		struct reply_in in = {.family = rx->family, .ident = r.ident, .seq = r.seq,
				      .data = r.data, .bytes = (uint32_t)icmp.len, .src = &rx->src,
				      .rx = rx, .ttl = ttl, .tos = tos};
		return handle_reply(p, now, &in);
	}
	bool is_err = rx->family == TD_PROBE_V6 ? td_icmp6_is_error(r.type) || r.type == 0
						: td_icmp4_is_error(r.type);
	if (is_err && r.type != 0 && rx->sock == TD_PROBE_SOCK_RAW)
		return raw_error(p, now, rx->family, &r, &rx->src);
	return drop(p, TD_PROBE_DROP_NOT_ECHO);
}

int td_probe_error(struct td_probe *p, uint64_t now, const struct td_probe_icmp_err *e)
{
	if (e->family != TD_PROBE_V4 && e->family != TD_PROBE_V6)
		return drop(p, TD_PROBE_DROP_MALFORMED);
	struct err_in in = {.family = e->family, .type = e->type, .code = e->code,
			    .info = e->info, .local = e->local, .err = e->err,
			    .offender = e->local ? NULL : &e->offender,
			    .dst = e->dst.family ? &e->dst : NULL, .q = e->quoted,
			    .qlen = e->quoted ? e->quoted_len : 0, .raw = false};
	return handle_error(p, now, &in);
}

/* ---- queries ------------------------------------------------------------------------------ */

uint64_t td_probe_next_deadline(const struct td_probe *p)
{
	uint64_t d = UINT64_MAX;
	uint32_t first = next_due(p);
	if (first != TD_PROBE_NONE && !p->stopped) {
		d = due_of(p, first);
		if (p->cfg.spacing_ns && p->any_send && d < p->pace_next)
			d = p->pace_next;
	}
	for (uint64_t i = p->fifo_head; i != p->fifo_tail; i++) {
		const struct fifo_ent *e = &p->fifo[i % p->fifo_cap];
		const struct slot *s = &p->slots[(size_t)e->target * p->window +
						 (e->seq & (p->window - 1))];
		if (s->seq != e->seq || s->state != SLOT_PENDING)
			continue; /* answered: poll pops it; look further */
		if (s->sent_now + p->cfg.timeout_ns < d)
			d = s->sent_now + p->cfg.timeout_ns;
		break;
	}
	return d;
}

bool td_probe_done(const struct td_probe *p)
{
	if (!p->started || p->sending)
		return false;
	/* count_replies, stop_on_error: iputils exits once answered, probes in flight or not */
	return p->outstanding == 0 || (p->n && p->satisfied == p->n);
}

uint32_t td_probe_window(const struct td_probe *p)
{
	return p->window;
}

uint64_t td_probe_window_waits(const struct td_probe *p)
{
	return p->window_waits;
}

uint64_t td_probe_evicted(const struct td_probe *p)
{
	return p->evicted;
}

uint64_t td_probe_outstanding(const struct td_probe *p)
{
	return p->outstanding;
}

uint64_t td_probe_last_send(const struct td_probe *p)
{
	return p->any_send ? p->last_global_send : 0;
}

const struct td_probe_stats *td_probe_target_stats(const struct td_probe *p, uint32_t id)
{
	return id < p->n ? &p->t[id].st : NULL;
}

static void totals_add(const struct td_probe *p, struct td_probe_stats *o, uint64_t *jn)
{
	for (uint32_t i = 0; i < p->n; i++) {
		const struct td_probe_stats *s = &p->t[i].st;
		o->transmitted += s->transmitted;
		o->received += s->received;
		o->duplicates += s->duplicates;
		o->out_of_order += s->out_of_order;
		o->late += s->late;
		o->timeouts += s->timeouts;
		o->corrupted += s->corrupted;
		o->forged += s->forged;
		o->unauthenticated += s->unauthenticated;
		o->send_errors += s->send_errors;
		o->errors += s->errors;
		for (int k = 0; k < TD_PROBE_ERR_KINDS; k++)
			o->err_kind[k] += s->err_kind[k];
		if (s->received) {
			if (!o->received || o->rtt_min_ns == 0 || s->rtt_min_ns < o->rtt_min_ns)
				o->rtt_min_ns = s->rtt_min_ns;
			if (s->rtt_max_ns > o->rtt_max_ns)
				o->rtt_max_ns = s->rtt_max_ns;
			o->rtt_sum_ns += s->rtt_sum_ns;
			o->rtt_sum2 += s->rtt_sum2;
			o->jitter_ns += s->jitter_ns;
			o->rtt_ewma_ns += s->rtt_ewma_ns;
			(*jn)++;
			o->kernel_tx_stamps |= s->kernel_tx_stamps;
		}
	}
}

void td_probe_totals_many(const struct td_probe *const *ps, unsigned n, struct td_probe_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->last_ttl = o->last_tos = -1;
	uint64_t jn = 0;
	uint32_t targets = 0;
	const struct td_probe *one = NULL;
	for (unsigned k = 0; k < n; k++) {
		totals_add(ps[k], o, &jn);
		targets += ps[k]->n;
		if (ps[k]->n)
			one = ps[k];
	}
	if (jn) {
		o->jitter_ns /= (double)jn; /* mean of the per-target estimates */
		/* Smoothed RTTs of different paths do not combine into one
		 * path's EWMA: the mean of the per-target ones (a single target:
		 * its own) is the typical smoothed RTT. */
		o->rtt_ewma_ns /= jn;
	}
	if (targets == 1) {
		const struct td_probe_stats *s = &one->t[0].st;
		o->last_ttl = s->last_ttl;
		o->last_tos = s->last_tos;
		o->last_rtt_ns = s->last_rtt_ns;
		o->last_err_type = s->last_err_type;
		o->last_err_code = s->last_err_code;
	}
}

void td_probe_totals(const struct td_probe *p, struct td_probe_stats *o)
{
	td_probe_totals_many(&p, 1, o);
}

uint64_t td_probe_drops(const struct td_probe *p, enum td_probe_drop d)
{
	return (unsigned)d < TD_PROBE_DROP_COUNT ? p->drops[d] : 0;
}

uint64_t td_probe_err_count(const struct td_probe *p, uint8_t family, uint8_t type, uint8_t code)
{
	return p->errs ? p->errs[fam_idx(family)][type][code < 16 ? code : 15] : 0;
}

/* Square root of v > 0 without libm: the exponent halved for a first guess
 * (within 7 %), then Newton's iteration, which doubles the correct digits
 * each step (6 steps: beyond double precision). Not linking libm saves its
 * ~300 KiB of mapped pages in every run (peak RSS of one-shot sweeps). */
static double sqrt_pos(double v)
{
	union {
		double d;
		uint64_t u;
	} x = {.d = v};
	x.u = (x.u >> 1) + (0x3ffULL << 51);
	double r = x.d;
	for (int i = 0; i < 6; i++)
		r = 0.5 * (r + v / r);
	return r;
}

uint64_t td_probe_stats_mdev_ns(const struct td_probe_stats *s)
{
	if (!s->received)
		return 0;
	double n = (double)s->received, avg = (double)s->rtt_sum_ns / n;
	double var = s->rtt_sum2 / n - avg * avg;
	return var > 0 ? (uint64_t)(sqrt_pos(var) + 0.5) : 0;
}

uint64_t td_probe_percentile(const struct td_probe *p, uint32_t id, double q)
{
	if (id >= p->n)
		return 0;
	const struct target *t = &p->t[id];
	uint64_t n = t->st.received;
	if (!n)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 100)
		q = 100;
	if (n <= p->exact_n || t->hist == TD_PROBE_NONE) {
		/* Nearest rank over the exact samples (all of them when n <= 8). */
		uint64_t v[TD_PROBE_EXACT];
		size_t m = n < p->exact_n ? (size_t)n : p->exact_n;
		memcpy(v, &p->exact[(size_t)id * p->exact_n], m * sizeof(v[0]));
		qsort(v, m, sizeof(v[0]), cmp_u64);
		size_t rank = (size_t)ceil(q / 100.0 * (double)m);
		return v[rank ? rank - 1 : 0];
	}
	return hist_quantile(&p->hists[t->hist], q, t->st.rtt_min_ns, t->st.rtt_max_ns);
}

uint64_t td_probe_percentile_all(const struct td_probe *p, double q)
{
	if (p->n == 1)
		return td_probe_percentile(p, 0, q);
	struct td_probe_stats s;
	td_probe_totals(p, &s);
	return hist_quantile(&p->all, q, s.rtt_min_ns, s.rtt_max_ns);
}

uint64_t td_probe_percentile_all_many(const struct td_probe *const *ps, unsigned n, double q)
{
	uint32_t targets = 0;
	for (unsigned k = 0; k < n; k++)
		targets += ps[k]->n;
	if (n == 1 || targets <= 1) {
		for (unsigned k = 0; k < n; k++)
			if (ps[k]->n)
				return td_probe_percentile_all(ps[k], q);
		return 0;
	}
	struct td_probe_hist h;
	memset(&h, 0, sizeof(h));
	for (unsigned k = 0; k < n; k++)
		td_probe_hist_merge(&h, &ps[k]->all);
	struct td_probe_stats s;
	td_probe_totals_many(ps, n, &s);
	return hist_quantile(&h, q, s.rtt_min_ns, s.rtt_max_ns);
}

void td_probe_hist_merge(struct td_probe_hist *acc, const struct td_probe_hist *h)
{
	acc->count += h->count;
	for (unsigned i = 0; i < TD_PROBE_HIST_BUCKETS; i++)
		acc->b[i] += h->b[i];
}

const struct td_probe_hist *td_probe_target_hist(const struct td_probe *p, uint32_t id)
{
	if (id >= p->n || p->t[id].hist == TD_PROBE_NONE)
		return NULL;
	return &p->hists[p->t[id].hist];
}

const struct td_probe_hist *td_probe_all_hist(const struct td_probe *p)
{
	return &p->all;
}
