/* Seeded impairment between the device and IP: loss, duplication, reordering, delay, jitter, corruption. */
#include <string.h>

#include "stack/stack_priv.h"

/* A reordered packet is held this much longer than its neighbours, so that
 * the packets sent after it overtake it (netem's "reorder" in spirit). */
#define TD_IMPAIR_REORDER_HOLD_NS 2000000ull

/* splitmix64 (Steele, Lea, Flood 2014): tiny, seedable, and easy to
 * reproduce outside the program (the integration tests recompute the
 * expected drops from the seed). */
static uint64_t next64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void td_impair_init(struct td_impair *im, const struct td_impair_config *cfg)
{
	memset(im, 0, sizeof(*im));
	im->cfg = *cfg;
	im->rng = cfg->seed;
	im->active = cfg->loss_ppm || cfg->dup_ppm || cfg->reorder_ppm || cfg->corrupt_ppm ||
		     cfg->delay_ns || cfg->jitter_ns;
}

/* Exactly six draws per packet, in this order: loss, dup, reorder, corrupt,
 * jitter, corrupt position. A draw hits when (x % 1000000) < ppm. */
void td_impair_decide(struct td_impair *im, struct td_impair_verdict *v)
{
	uint64_t r[6];
	for (int i = 0; i < 6; i++)
		r[i] = next64(&im->rng);
	memset(v, 0, sizeof(*v));
	v->drop = r[0] % 1000000u < im->cfg.loss_ppm;
	v->dup = r[1] % 1000000u < im->cfg.dup_ppm;
	v->reorder = r[2] % 1000000u < im->cfg.reorder_ppm;
	v->corrupt = r[3] % 1000000u < im->cfg.corrupt_ppm;
	v->delay_ns = im->cfg.delay_ns;
	if (im->cfg.jitter_ns)
		v->delay_ns += r[4] % (im->cfg.jitter_ns + 1);
	if (v->reorder)
		v->delay_ns += TD_IMPAIR_REORDER_HOLD_NS + im->cfg.jitter_ns;
	v->corrupt_rand = (uint32_t)r[5];
}
