/* Benchmark: Internet checksum vs a 16-bit-at-a-time reference, and TCP segment check+parse rate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tundra/wire.h>

/* The peer: RFC 1071 §4.1 as most code writes it, one 16-bit word per step. */
static uint16_t __attribute__((noinline)) ref_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint16_t sink;

typedef uint16_t (*csum_fn)(const void *, size_t);

/* Seconds for iters calls, alternating two alignments. */
static double run(csum_fn f, const uint8_t *p, size_t len, long iters)
{
	double t0 = now_s();
	for (long i = 0; i < iters; i++)
		sink = f(p + (i & 1), len);
	return now_s() - t0;
}

/* The machine is shared and noisy: measure the two implementations in
 * alternating rounds and keep the best round of each, so both see the same
 * conditions. Returns bytes per second in *a and *b. */
static void rates(csum_fn fa, csum_fn fb, const uint8_t *p, size_t len, long iters, double *a,
		  double *b)
{
	double ba = 1e30, bb = 1e30;
	for (int round = 0; round < 9; round++) {
		double t = run(fa, p, len, iters);
		if (t < ba)
			ba = t;
		t = run(fb, p, len, iters);
		if (t < bb)
			bb = t;
	}
	*a = (double)len * (double)iters / ba;
	*b = (double)len * (double)iters / bb;
}

/* A SYN as Linux sends it: MSS, SACK-permitted, timestamps, NOP, window scale. */
static size_t make_syn(uint8_t *buf, uint32_t *ps)
{
	struct td_tcp_repr r = {.src_port = 40000, .dst_port = 5201, .seq = 123456789,
				.flags = TD_TCP_SYN, .window = 64240};
	r.opt.has_mss = true;
	r.opt.mss = 1460;
	r.opt.sack_perm = true;
	r.opt.has_ts = true;
	r.opt.tsval = 1;
	r.opt.has_wscale = true;
	r.opt.wscale = 7;
	size_t n = td_tcp_size(&r);
	*ps = td_csum_pseudo4(0xc0000201, 0xc0000202, TD_IPPROTO_TCP, (uint16_t)n);
	if (td_tcp_emit(&r, *ps, buf, n) != TD_WIRE_OK)
		abort();
	return n;
}

static double tcp_rate(const uint8_t *seg, size_t n, uint32_t ps, unsigned flags)
{
	const long iters = 5000000;
	double best = 1e30;
	unsigned long ok = 0;
	for (int round = 0; round < 5; round++) {
		double t0 = now_s();
		for (long i = 0; i < iters; i++) {
			struct td_tcp_view v;
			struct td_tcp_repr r;
			if (td_tcp_check(&v, seg, n, ps, flags) == TD_WIRE_OK &&
			    td_tcp_parse(&v, &r) == TD_WIRE_OK)
				ok += r.opt.mss;
		}
		double t = now_s() - t0;
		if (t < best)
			best = t;
	}
	if (ok != 1460ul * iters * 5)
		abort();
	return (double)iters / best;
}

int main(void)
{
	static uint8_t buf[65536 + 16];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	const size_t sizes[] = {64, 1500, 65536};
	double worst = 1e30;

	printf("%-8s %14s %14s %8s\n", "size", "tundra MB/s", "16-bit MB/s", "ratio");
	for (int k = 0; k < 3; k++) {
		size_t len = sizes[k];
		long iters = (long)(100e6 / (double)len);
		if (td_csum(buf, len) != ref_csum(buf, len) ||
		    td_csum(buf + 1, len) != ref_csum(buf + 1, len))
			abort();
		double a, b;
		rates(td_csum, ref_csum, buf, len, iters, &a, &b);
		printf("%-8zu %14.0f %14.0f %7.2fx\n", len, a / 1e6, b / 1e6, a / b);
		if (a / b < worst)
			worst = a / b;
	}
	printf("checksum: worst ratio %.2fx (goal >= 4x)\n", worst);

	uint8_t seg[64];
	uint32_t ps;
	size_t n = make_syn(seg, &ps);
	printf("tcp check+parse (SYN, 4 options, %zu B): %.1f M segments/s with checksum, "
	       "%.1f M/s without\n",
	       n, tcp_rate(seg, n, ps, 0) / 1e6, tcp_rate(seg, n, ps, TD_WIRE_SKIP_CSUM) / 1e6);
	return 0;
}
