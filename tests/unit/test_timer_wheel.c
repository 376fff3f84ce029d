/* Timer wheel in virtual time: ordering, cancellation, cascading, far future, many timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stack/timer_wheel.h"

#define MS 1000000ull
#define SEC (1000 * MS)

struct rec {
	struct td_tw_entry e; /* first: the entry's address is the record's */
	uint64_t fired_at;    /* now of the advance that fired it, 0 = not yet */
	unsigned order;
	int rearm;            /* re-arm this far (ns) after firing, 0 = no */
};

struct log {
	unsigned n;
	struct td_twheel *w;
};

static void fire(struct td_tw_entry *e, uint64_t now, void *ctx)
{
	struct rec *r = (struct rec *)e;
	struct log *lg = ctx;
	assert_true(e->at <= now); /* never early */
	assert_false(td_twheel_armed(e));
	r->fired_at = now;
	r->order = ++lg->n;
	if (r->rearm)
		td_twheel_arm(lg->w, e, now + (uint64_t)r->rearm);
}

/* Advance the way an event loop does: sleep until next(), then advance. */
static void run_until(struct td_twheel *w, struct log *lg, uint64_t *now, uint64_t end)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t d = td_twheel_next(w);
		if (d > end)
			break;
		if (d > *now)
			*now = d;
		td_twheel_advance(w, *now, fire, lg);
	}
	*now = end;
	td_twheel_advance(w, *now, fire, lg);
}

static void tw_fires_in_deadline_order_exactly_on_time(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	uint64_t now = 5 * SEC + 123; /* not tick aligned */
	td_twheel_init(&w, MS, now);
	struct rec r[5];
	memset(r, 0, sizeof(r));
	const uint64_t at[5] = {now + 30 * MS + 7, now + 2 * MS, now + 500 * MS, now + 31 * MS,
				now + 30 * MS + 8};
	for (int i = 0; i < 5; i++)
		td_twheel_arm(&w, &r[i].e, at[i]);
	assert_int_equal(td_twheel_count(&w), 5);
	assert_int_equal(td_twheel_next(&w) <= at[1], 1);
	run_until(&w, &lg, &now, now + SEC);
	const int order[5] = {1, 0, 4, 3, 2};
	for (int k = 0; k < 5; k++) {
		assert_int_equal(r[order[k]].order, k + 1);
		/* the event loop woke exactly at each deadline */
		assert_int_equal(r[order[k]].fired_at, at[order[k]]);
	}
	assert_int_equal(td_twheel_count(&w), 0);
	assert_int_equal(td_twheel_next(&w), UINT64_MAX);
}

static void tw_cancelled_timer_never_fires(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	uint64_t now = 0;
	td_twheel_init(&w, MS, now);
	struct rec a = {0}, b = {0}, c = {0};
	td_twheel_arm(&w, &a.e, 10 * MS);
	td_twheel_arm(&w, &b.e, 10 * MS);
	td_twheel_arm(&w, &c.e, 20 * SEC); /* a higher level */
	td_twheel_cancel(&w, &a.e);
	td_twheel_cancel(&w, &c.e);
	td_twheel_cancel(&w, &c.e); /* twice is harmless */
	assert_int_equal(td_twheel_count(&w), 1);
	run_until(&w, &lg, &now, 60 * SEC);
	assert_int_equal(a.fired_at, 0);
	assert_int_equal(c.fired_at, 0);
	assert_int_equal(b.fired_at, 10 * MS);
	assert_int_equal(lg.n, 1);
}

static void tw_rearm_moves_the_deadline_both_ways(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	uint64_t now = 0;
	td_twheel_init(&w, MS, now);
	struct rec a = {0}, b = {0};
	td_twheel_arm(&w, &a.e, 3 * SEC);
	td_twheel_arm(&w, &a.e, 5 * MS); /* earlier */
	td_twheel_arm(&w, &b.e, 5 * MS);
	td_twheel_arm(&w, &b.e, 70 * SEC); /* later, another level */
	assert_int_equal(td_twheel_count(&w), 2);
	run_until(&w, &lg, &now, 100 * SEC);
	assert_int_equal(a.fired_at, 5 * MS);
	assert_int_equal(b.fired_at, 70 * SEC);
}

static void tw_cascades_through_every_level(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	uint64_t now = 777 * MS + 5;
	td_twheel_init(&w, MS, now);
	/* one deadline per level boundary and just around it */
	const uint64_t d[] = {63, 64, 65, 4095, 4096, 4097, 262143, 262144, 262145,
			      16777215, 16777216, 16777217};
	enum { N = sizeof(d) / sizeof(d[0]) };
	struct rec r[N];
	memset(r, 0, sizeof(r));
	for (unsigned i = 0; i < N; i++)
		td_twheel_arm(&w, &r[i].e, now + d[i] * MS + 1);
	uint64_t t0 = now;
	unsigned wakeups = 0;
	for (;;) {
		uint64_t nd = td_twheel_next(&w);
		if (nd == UINT64_MAX)
			break;
		assert_true(nd > now || nd == now); /* never in the past after an advance */
		now = nd;
		td_twheel_advance(&w, now, fire, &lg);
		wakeups++;
	}
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(r[i].order, i + 1);
		assert_int_equal(r[i].fired_at, t0 + d[i] * MS + 1);
	}
	/* cascades cost a few wake-ups, not one per tick */
	assert_true(wakeups < 4 * N + 4 * 64);
}

static void tw_far_future_timer_beyond_the_wheel_fires_on_time(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	uint64_t now = 1;
	td_twheel_init(&w, MS, now);
	struct rec far = {0}, vfar = {0};
	uint64_t at = 10ull * 3600 * SEC + 3;   /* 10 h: beyond 4.7 h of levels */
	uint64_t at2 = 400ull * 86400 * SEC;    /* 400 days */
	td_twheel_arm(&w, &far.e, at);
	td_twheel_arm(&w, &vfar.e, at2);
	run_until(&w, &lg, &now, at - 1);
	assert_int_equal(far.fired_at, 0);
	run_until(&w, &lg, &now, at);
	assert_int_equal(far.fired_at, at);
	/* one big jump of virtual time, no stepping */
	td_twheel_advance(&w, at2 + 5, fire, &lg);
	assert_int_equal(vfar.fired_at, at2 + 5);
}

static void tw_armed_in_the_past_fires_at_next_advance(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	td_twheel_init(&w, MS, 100 * MS);
	td_twheel_advance(&w, 100 * MS, fire, &lg);
	struct rec a = {0};
	td_twheel_arm(&w, &a.e, 50 * MS);
	assert_true(td_twheel_next(&w) <= 100 * MS);
	td_twheel_advance(&w, 100 * MS, fire, &lg);
	assert_int_equal(a.fired_at, 100 * MS);
}

static void tw_callback_may_rearm_itself(void **st)
{
	(void)st;
	struct td_twheel w;
	struct log lg = {0, &w};
	uint64_t now = 0;
	td_twheel_init(&w, MS, now);
	struct rec a = {0};
	a.rearm = (int)(250 * MS);
	td_twheel_arm(&w, &a.e, 250 * MS);
	run_until(&w, &lg, &now, 10 * SEC + 1);
	assert_int_equal(lg.n, 40);
	assert_true(td_twheel_armed(&a.e));
}

/* Many timers with random deadlines, random cancels and re-arms, checked
 * against a brute-force model. */
static void tw_many_random_timers_match_a_reference_model(void **st)
{
	(void)st;
	enum { N = 20000 };
	struct td_twheel *w = malloc(sizeof(*w));
	struct rec *r = calloc(N, sizeof(*r));
	uint64_t *want = calloc(N, sizeof(*want)); /* deadline, 0 = not armed */
	assert_non_null(w);
	assert_non_null(r);
	assert_non_null(want);
	struct log lg = {0, w};
	uint64_t now = 12345;
	td_twheel_init(w, MS, now);
	srandom(7);
	for (int round = 0; round < 200; round++) {
		for (int k = 0; k < 300; k++) {
			unsigned i = (unsigned)random() % N;
			unsigned op = (unsigned)random() % 4;
			if (op == 0) {
				td_twheel_cancel(w, &r[i].e);
				want[i] = 0;
			} else {
				uint64_t span = op == 1 ? 100 * MS : op == 2 ? 60 * SEC : 6 * 3600 * SEC;
				uint64_t at = now + (uint64_t)random() % span;
				td_twheel_arm(w, &r[i].e, at);
				want[i] = at;
				r[i].fired_at = 0;
			}
		}
		uint64_t step = (uint64_t)random() % (round % 10 == 0 ? 3600 * SEC : 200 * MS);
		uint64_t end = now + step;
		run_until(w, &lg, &now, end);
		uint32_t armed = 0;
		for (unsigned i = 0; i < N; i++) {
			if (want[i] && want[i] <= now) {
				assert_true(r[i].fired_at >= want[i]);
				assert_true(r[i].fired_at <= now);
				want[i] = 0;
			} else if (want[i]) {
				assert_int_equal(r[i].fired_at, 0);
				armed++;
			}
		}
		assert_int_equal(td_twheel_count(w), armed);
	}
	free(want);
	free(r);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tw_fires_in_deadline_order_exactly_on_time),
		cmocka_unit_test(tw_cancelled_timer_never_fires),
		cmocka_unit_test(tw_rearm_moves_the_deadline_both_ways),
		cmocka_unit_test(tw_cascades_through_every_level),
		cmocka_unit_test(tw_far_future_timer_beyond_the_wheel_fires_on_time),
		cmocka_unit_test(tw_armed_in_the_past_fires_at_next_advance),
		cmocka_unit_test(tw_callback_may_rearm_itself),
		cmocka_unit_test(tw_many_random_timers_match_a_reference_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
