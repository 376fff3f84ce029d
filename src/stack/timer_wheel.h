/* Hierarchical timer wheel: O(1) arm/cancel, amortized O(1) expiry, virtual time in. */
#ifndef TUNDRA_STACK_TIMER_WHEEL_H
#define TUNDRA_STACK_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

/* Four levels of 64 slots: at 1 ms resolution level 0 covers 64 ms, level 1
 * 4 s, level 2 4.4 min, level 3 4.7 h; timers further out sit in the last
 * level's furthest slot and are re-filed when it cascades (Varghese & Lauck,
 * "Hashed and Hierarchical Timing Wheels", scheme 7). Deadlines are exact:
 * an entry leaves the wheel for the due list in the tick that holds its
 * deadline and fires at the first advance with now >= its deadline. */
#define TD_TW_BITS 6
#define TD_TW_SLOTS (1u << TD_TW_BITS)
#define TD_TW_LEVELS 4

struct td_tw_entry {
	struct td_tw_entry *next, *prev; /* NULL when not armed */
	uint64_t at;                     /* deadline, ns */
};

struct td_twheel {
	uint64_t res_ns;   /* tick length */
	uint64_t cur;      /* last tick processed */
	uint32_t armed;    /* all armed entries */
	uint64_t due_min;  /* lower bound of the due list's deadlines */
	uint64_t bitmap[TD_TW_LEVELS];
	struct td_tw_entry due; /* list head; heads are entries (no type punning) */ /* tick <= cur: fired when now reaches their deadline */
	struct td_tw_entry slot[TD_TW_LEVELS][TD_TW_SLOTS];
};

typedef void (*td_tw_fire_fn)(struct td_tw_entry *e, uint64_t now, void *ctx);

/* Start empty at time now (ns). res_ns > 0. */
void td_twheel_init(struct td_twheel *w, uint64_t res_ns, uint64_t now);
/* Arm (or re-arm) e to fire at time at (ns). */
void td_twheel_arm(struct td_twheel *w, struct td_tw_entry *e, uint64_t at);
/* Disarm e; harmless when it is not armed. */
void td_twheel_cancel(struct td_twheel *w, struct td_tw_entry *e);
static inline bool td_twheel_armed(const struct td_tw_entry *e)
{
	return e->next != 0;
}
/* Fire, in deadline order at tick granularity, every entry with at <= now.
 * An entry is disarmed before fn runs; fn may arm or cancel any entry. */
void td_twheel_advance(struct td_twheel *w, uint64_t now, td_tw_fire_fn fn, void *ctx);
/* When advance must next be called: the earliest deadline, or an earlier
 * time when a level must cascade; UINT64_MAX when nothing is armed. */
uint64_t td_twheel_next(const struct td_twheel *w);
uint32_t td_twheel_count(const struct td_twheel *w);

#endif
