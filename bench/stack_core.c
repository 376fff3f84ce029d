/* Cost of the stack core alone (no syscalls): ns per echo request -> reply, small and fragmented. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stack/stack_internal.h"
#include "tundra/stack.h"
#include "tundra/wire.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Fragments of one echo request of n data bytes, as a peer stack emits them. */
static size_t make_request(uint8_t family, size_t n, uint8_t frags[][1500], size_t *lens)
{
	static const uint8_t k6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t s6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	static uint8_t data[65536], msg[65536];
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.addr4 = 0x0a000001;
	memcpy(c.addr6, k6, 16);
	c.udp_echo = c.udp_discard = false;
	struct td_stack *peer;
	if (td_stack_create(&c, &peer))
		return 0;
	struct td_icmp_repr r = {.type = family == TD_AF_INET ? TD_ICMP4_ECHO_REQUEST
							       : TD_ICMP6_ECHO_REQUEST,
				 .ident = 1, .seq = 1, .data = {data, n}};
	size_t len = td_icmp_size(&r);
	struct td_ip_pair ip = {.family = family};
	if (family == TD_AF_INET) {
		ip.v4.src = 0x0a000001;
		ip.v4.dst = 0x0a000002;
		td_icmp4_emit(&r, msg, len);
	} else {
		memcpy(ip.v6.src, k6, 16);
		memcpy(ip.v6.dst, s6, 16);
		td_icmp6_emit(&r, k6, s6, msg, len);
	}
	td_stack_ip_send(peer, 0, &ip, family == TD_AF_INET ? TD_IPPROTO_ICMP : TD_IPPROTO_ICMPV6,
			 NULL, msg, len);
	size_t k = 0, l;
	const uint8_t *p;
	while (k < 64 && (p = td_stack_output_peek(peer, 0, &l))) {
		memcpy(frags[k], p, l);
		lens[k++] = l;
		td_stack_output_pop(peer);
	}
	td_stack_destroy(peer);
	return k;
}

static void run(const char *label, uint8_t family, size_t n, int iters)
{
	static uint8_t frags[64][1500];
	size_t lens[64];
	size_t k = make_request(family, n, frags, lens);
	struct td_stack_config c;
	td_stack_config_default(&c);
	struct td_stack *st;
	if (!k || td_stack_create(&c, &st))
		return;
	uint64_t t0 = mono_ns();
	size_t out = 0, len;
	for (int i = 0; i < iters; i++) {
		for (size_t j = 0; j < k; j++)
			td_stack_input(st, (uint64_t)i, frags[j], lens[j]);
		while (td_stack_output_peek(st, (uint64_t)i, &len)) {
			td_stack_output_pop(st);
			out++;
		}
	}
	double ns = (double)(mono_ns() - t0) / iters;
	printf("%-34s %9.0f ns/echo  (%zu packets in, %zu out)\n", label, ns, k, out / iters);
	td_stack_destroy(st);
}

int main(void)
{
	printf("stack core alone, no syscalls (the TUN read+write pair costs ~3-5 us):\n");
	run("IPv4 echo, 56 bytes", TD_AF_INET, 56, 1000000);
	run("IPv6 echo, 56 bytes", TD_AF_INET6, 56, 1000000);
	run("IPv4 echo, 8000 bytes (fragmented)", TD_AF_INET, 8000, 100000);
	run("IPv6 echo, 8000 bytes (fragmented)", TD_AF_INET6, 8000, 100000);
	return 0;
}
