/* Hierarchical timer wheel (see timer_wheel.h): four levels of 64 slots plus a due list. */
#include <stddef.h>
#include <string.h>

#include "stack/timer_wheel.h"

#define LEVEL_SHIFT(l) ((unsigned)(l) * TD_TW_BITS)
#define SPAN (1ull << (TD_TW_LEVELS * TD_TW_BITS)) /* ticks the levels cover */

static void list_init(struct td_tw_entry *l)
{
	l->next = l->prev = l;
}

static bool list_empty(const struct td_tw_entry *l)
{
	return l->next == l;
}

static void list_add_tail(struct td_tw_entry *l, struct td_tw_entry *e)
{
	struct td_tw_entry *head = l;
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static void list_del(struct td_tw_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = NULL;
}

void td_twheel_init(struct td_twheel *w, uint64_t res_ns, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->res_ns = res_ns ? res_ns : 1;
	w->cur = now / w->res_ns;
	w->due_min = UINT64_MAX;
	list_init(&w->due);
	for (unsigned l = 0; l < TD_TW_LEVELS; l++)
		for (unsigned i = 0; i < TD_TW_SLOTS; i++)
			list_init(&w->slot[l][i]);
}

static void add_due(struct td_twheel *w, struct td_tw_entry *e)
{
	list_add_tail(&w->due, e);
	if (e->at < w->due_min)
		w->due_min = e->at;
}

/* File e by its tick relative to w->cur (tick > cur). */
static void file(struct td_twheel *w, struct td_tw_entry *e)
{
	uint64_t tick = e->at / w->res_ns;
	if (tick <= w->cur) {
		add_due(w, e);
		return;
	}
	uint64_t delta = tick - w->cur;
	if (delta >= SPAN) {
		tick = w->cur + SPAN - 1; /* re-filed when its slot cascades */
		delta = SPAN - 1;
	}
	unsigned l = 0;
	while (l + 1 < TD_TW_LEVELS && delta >= (1ull << LEVEL_SHIFT(l + 1)))
		l++;
	unsigned i = (unsigned)(tick >> LEVEL_SHIFT(l)) & (TD_TW_SLOTS - 1);
	list_add_tail(&w->slot[l][i], e);
	w->bitmap[l] |= 1ull << i;
}

void td_twheel_cancel(struct td_twheel *w, struct td_tw_entry *e)
{
	if (!e->next)
		return;
	struct td_tw_entry *nb = e->next;
	list_del(e);
	w->armed--;
	/* The last entry of a slot went: only a list head links to itself.
	 * Clear the slot's bit so that next() does not wake for nothing. */
	if (nb->next == nb) {
		const struct td_tw_entry *base = &w->slot[0][0];
		if (nb >= base && nb < base + TD_TW_LEVELS * TD_TW_SLOTS) {
			size_t k = (size_t)(nb - base);
			w->bitmap[k / TD_TW_SLOTS] &= ~(1ull << (k % TD_TW_SLOTS));
		}
	}
}

void td_twheel_arm(struct td_twheel *w, struct td_tw_entry *e, uint64_t at)
{
	td_twheel_cancel(w, e);
	e->at = at;
	file(w, e);
	w->armed++;
}

uint32_t td_twheel_count(const struct td_twheel *w)
{
	return w->armed;
}

static bool levels_empty(const struct td_twheel *w)
{
	uint64_t any = 0;
	for (unsigned l = 0; l < TD_TW_LEVELS; l++)
		any |= w->bitmap[l];
	return any == 0;
}

/* Move a slot's entries: re-file them relative to the current tick. */
static void cascade(struct td_twheel *w, unsigned l, unsigned i)
{
	struct td_tw_entry *s = &w->slot[l][i];
	while (!list_empty(s)) {
		struct td_tw_entry *e = s->next;
		list_del(e);
		file(w, e);
	}
	w->bitmap[l] &= ~(1ull << i);
}

/* Next tick after cur at which something may happen, at most target. */
static uint64_t next_tick(const struct td_twheel *w, uint64_t target)
{
	uint64_t t = target;
	for (unsigned l = 0; l < TD_TW_LEVELS; l++) {
		uint64_t bm = w->bitmap[l];
		if (!bm)
			continue;
		unsigned sh = LEVEL_SHIFT(l);
		/* slot k of this level next comes up at the first multiple of
		 * 2^sh after cur whose index is k */
		uint64_t base = (w->cur >> sh) + 1; /* first index position after cur */
		unsigned start = (unsigned)base & (TD_TW_SLOTS - 1);
		uint64_t rot = (bm >> start) | (start ? bm << (TD_TW_SLOTS - start) : 0);
		unsigned k = (unsigned)__builtin_ctzll(rot);
		uint64_t cand = (base + k) << sh;
		if (cand < t)
			t = cand;
	}
	return t;
}

void td_twheel_advance(struct td_twheel *w, uint64_t now, td_tw_fire_fn fn, void *ctx)
{
	uint64_t target = now / w->res_ns;
	while (w->cur < target) {
		if (levels_empty(w)) {
			w->cur = target;
			break;
		}
		uint64_t t = next_tick(w, target);
		w->cur = t;
		for (unsigned l = TD_TW_LEVELS; l-- > 1;) {
			unsigned sh = LEVEL_SHIFT(l);
			if (t & ((1ull << sh) - 1))
				continue;
			unsigned i = (unsigned)(t >> sh) & (TD_TW_SLOTS - 1);
			if (w->bitmap[l] & (1ull << i))
				cascade(w, l, i);
		}
		unsigned i0 = (unsigned)t & (TD_TW_SLOTS - 1);
		struct td_tw_entry *s = &w->slot[0][i0];
		while (!list_empty(s)) {
			struct td_tw_entry *e = s->next;
			list_del(e);
			add_due(w, e);
		}
		w->bitmap[0] &= ~(1ull << i0);
	}
	if (list_empty(&w->due))
		return;
	/* Take the due list: fn may arm entries, which go to a fresh one. */
	struct td_tw_entry work;
	list_init(&work);
	work.next = w->due.next;
	work.prev = w->due.prev;
	work.next->prev = &work;
	work.prev->next = &work;
	list_init(&w->due);
	w->due_min = UINT64_MAX;
	while (!list_empty(&work)) {
		struct td_tw_entry *e = work.next;
		list_del(e);
		if (e->at > now) {
			add_due(w, e); /* same tick, later nanosecond */
			continue;
		}
		w->armed--;
		fn(e, now, ctx);
	}
}

uint64_t td_twheel_next(const struct td_twheel *w)
{
	uint64_t d = list_empty(&w->due) ? UINT64_MAX : w->due_min;
	if (levels_empty(w))
		return d;
	uint64_t t = next_tick(w, UINT64_MAX / w->res_ns);
	uint64_t at = t * w->res_ns;
	return at < d ? at : d;
}
