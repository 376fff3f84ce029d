/* TCP congestion control behind a small ops interface: Reno (RFC 5681) and CUBIC (RFC 9438). */
#include <string.h>

#include "stack/tcp_internal.h"

/* RFC 5681 §3.1 slow start with appropriate byte counting, L = 2*SMSS
 * (RFC 3465 §2.2), shared by both algorithms. L bounds the burst one ACK
 * may release; with TSO one ACK commonly covers a whole 64 KB super-segment
 * (the kernel acknowledges what its GRO delivered as one), and what it
 * releases leaves as one super-segment anyway, so L is that burst - as
 * Linux's tcp_slow_start, which counts every segment a stretch ACK covers.
 * Otherwise slow start would grow by 2 MSS per 45 segments. */
static void slow_start(struct td_tcp_sock *s, uint32_t acked)
{
	uint32_t lim = 2u * s->mss, burst = td_tcp_tso_burst(s);
	if (burst > lim)
		lim = burst;
	s->cwnd += acked < lim ? acked : lim;
}

/* RFC 5681 §3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS). */
static uint32_t reno_ssthresh(struct td_tcp_sock *s, uint64_t now)
{
	(void)now;
	uint32_t flight = s->snd_max - s->snd_una;
	uint32_t half = flight / 2;
	return half > 2u * s->mss ? half : 2u * s->mss;
}

static void reno_init(struct td_tcp_sock *s)
{
	s->ccs.bytes_acked = 0;
}

/* Congestion avoidance: one SMSS per cwnd of acknowledged bytes (RFC 5681 §3.1,
 * the byte-counting variant of eq. 3). */
static void reno_on_ack(struct td_tcp_sock *s, uint32_t acked, uint64_t now)
{
	(void)now;
	if (s->cwnd < s->ssthresh) {
		slow_start(s, acked);
		return;
	}
	s->ccs.bytes_acked += acked;
	if (s->ccs.bytes_acked >= s->cwnd) {
		s->ccs.bytes_acked -= s->cwnd;
		s->cwnd += s->mss;
	}
}

static void reno_on_rto(struct td_tcp_sock *s, uint64_t now)
{
	(void)now;
	s->cwnd = td_tcp_data_mss(s); /* RFC 5681 §3.1: LW = 1 SMSS (of data) */
	s->ccs.bytes_acked = 0;
}

const struct td_tcp_cc_ops td_tcp_cc_reno = {
	.name = "reno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.ssthresh = reno_ssthresh,
	.on_rto = reno_on_rto,
};

/* ---- CUBIC (RFC 9438) ------------------------------------------------------- */

#define CUBIC_C 0.4f    /* §4.1 */
#define CUBIC_BETA 0.7f /* §4.6 beta_cubic */

static void cubic_init(struct td_tcp_sock *s)
{
	s->ccs.bytes_acked = 0;
	s->ccs.w_max = 0;
	s->ccs.w_last_max = 0;
	s->ccs.epoch_start = 0;
	s->ccs.k = 0;
	s->ccs.w_est = 0;
	s->ccs.cwnd_epoch = 0;
}

/* Cube root of x >= 0 without libm (cbrtf would map libm, ~300 KiB of
 * resident pages, into every tundra process, `ping` included). A first
 * guess from the float's bits (its exponent divided by three, within ~6 %,
 * as in Kahan's cbrt), then Newton's iteration y <- (2y + x/y^2) / 3, which
 * converges quadratically: four steps reach float precision. */
float td_tcp_cbrt(float x)
{
	if (!(x > 0) || x > 3.0e38f)
		return x > 0 ? 6.8e12f : 0; /* NaN and <= 0: no epoch; +inf: the largest */
	uint32_t i;
	memcpy(&i, &x, sizeof(i));
	i = i / 3 + 709921077u;
	float y;
	memcpy(&y, &i, sizeof(y));
	for (int k = 0; k < 4; k++)
		y = (2.0f * y + x / (y * y)) / 3.0f;
	return y;
}

static void cubic_on_ack(struct td_tcp_sock *s, uint32_t acked, uint64_t now)
{
	struct tcp_cc_state *c = &s->ccs;
	if (s->cwnd < s->ssthresh) {
		slow_start(s, acked);
		return;
	}
	float mss = (float)s->mss;
	if (c->epoch_start == 0) {
		/* §4.2: a new congestion-avoidance epoch */
		c->epoch_start = now ? now : 1;
		c->cwnd_epoch = s->cwnd;
		if (c->w_max > s->cwnd) {
			c->k = td_tcp_cbrt(((float)c->w_max - (float)s->cwnd) / mss / CUBIC_C);
		} else {
			c->k = 0;
			c->w_max = s->cwnd;
		}
		c->w_est = (float)s->cwnd;
	}
	float t = (float)(now - c->epoch_start) / 1e9f;
	float rtt = (float)s->srtt_us / 1e6f;
	float wmax = (float)c->w_max / mss;
	/* eq. 1 at t + RTT (§4.2): the window one RTT from now */
	float d = t + rtt - c->k;
	float target = (CUBIC_C * d * d * d + wmax) * mss;
	float cw = (float)s->cwnd;
	if (target < cw)
		target = cw;
	if (target > 1.5f * cw)
		target = 1.5f * cw; /* §4.2: target in [cwnd, 1.5*cwnd] */

	/* §4.3 Reno-friendly region: W_est grows by alpha_cubic per RTT. */
	float alpha = c->w_est >= (float)c->w_max ? 1.0f
						  : 3.0f * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	c->w_est += alpha * mss * (float)acked / cw;
	float d0 = t - c->k;
	float wcubic_now = (CUBIC_C * d0 * d0 * d0 + wmax) * mss;
	if (wcubic_now < c->w_est) {
		if (c->w_est > cw)
			s->cwnd = (uint32_t)c->w_est;
		return;
	}
	/* §4.4/§4.5: cwnd += (target - cwnd) / cwnd per acknowledged SMSS, in bytes */
	float inc = (target - cw) * (float)acked / cw;
	c->bytes_acked += (uint32_t)inc;
	if (c->bytes_acked >= 1) {
		s->cwnd += c->bytes_acked;
		c->bytes_acked = 0;
	}
}

/* §4.6 multiplicative decrease and §4.7 fast convergence. */
static uint32_t cubic_ssthresh(struct td_tcp_sock *s, uint64_t now)
{
	(void)now;
	struct tcp_cc_state *c = &s->ccs;
	uint32_t cwnd = s->cwnd;
	if (cwnd < c->w_last_max)
		c->w_max = (uint32_t)((float)cwnd * (1 + CUBIC_BETA) / 2);
	else
		c->w_max = cwnd;
	c->w_last_max = cwnd;
	c->epoch_start = 0;
	uint32_t th = (uint32_t)((float)cwnd * CUBIC_BETA);
	return th > 2u * s->mss ? th : 2u * s->mss;
}

static void cubic_on_rto(struct td_tcp_sock *s, uint64_t now)
{
	(void)now;
	s->cwnd = td_tcp_data_mss(s); /* §4.8: as RFC 5681 */
	s->ccs.epoch_start = 0;
	s->ccs.bytes_acked = 0;
}

const struct td_tcp_cc_ops td_tcp_cc_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.ssthresh = cubic_ssthresh,
	.on_rto = cubic_on_rto,
};

const struct td_tcp_cc_ops *td_tcp_cc_get(enum td_tcp_cc_algo algo)
{
	return algo == TD_TCP_CC_RENO ? &td_tcp_cc_reno : &td_tcp_cc_cubic;
}

/* Fast retransmit / fast recovery entry: RFC 5681 §3.2 steps 2-3 with RFC
 * 6582 §3.2 step 2 (recover = highest sequence sent) for NewReno, RFC 6675 §5
 * step (4) for SACK (cwnd = ssthresh, pipe governs). */
void td_tcp_cc_enter_recovery(struct td_tcp_sock *s, uint64_t now)
{
	s->ssthresh = s->cc->ssthresh(s, now);
	s->recover = s->snd_max;
	s->in_recovery = 1;
	if (s->sack_ok)
		s->cwnd = s->ssthresh;
	else
		s->cwnd = s->ssthresh + TCP_DUPTHRESH * (uint32_t)s->mss;
}

/* RFC 5681 §3.1 / RFC 6298 §5.5: on an RTO, ssthresh from the flight size
 * (only for the first timeout of a segment), cwnd to one segment; RFC 6582
 * §3.2 step 4: recover = highest sequence sent, so the duplicate ACKs the
 * go-back-N retransmissions provoke do not start a fast retransmit. */
void td_tcp_cc_on_rto(struct td_tcp_sock *s, uint64_t now)
{
	if (s->backoff == 0)
		s->ssthresh = s->cc->ssthresh(s, now);
	s->cc->on_rto(s, now);
	s->in_recovery = 0;
	s->recover = s->snd_max;
	s->dupacks = 0;
}
