/* The physical limit of the TUN echo path: read, swap addresses, fix the checksum incrementally, write. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tundra/stack_os.h"
#include "tundra/wire.h"

/*
 * usage: tun_echo_min IFNAME [busy_usec]
 * Configures 10.0.0.1/24 and fd00::1/64 on the kernel side like tundra stack
 * and answers every ICMP/ICMPv6 echo request to any address, nothing else:
 * no validation, no reassembly, no counters. The reference a real stack is
 * measured against.
 */

static volatile sig_atomic_t stop;
static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];
	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* Turn a request into a reply in place; false when it is not an echo request. */
static bool answer(uint8_t *p, size_t n)
{
	if (n >= 28 && (p[0] >> 4) == 4) {
		size_t ihl = (size_t)(p[0] & 15) * 4;
		if (p[9] != TD_IPPROTO_ICMP || n < ihl + 8 || p[ihl] != TD_ICMP4_ECHO_REQUEST)
			return false;
		swap(p + 12, p + 16, 4); /* the IP header checksum is unchanged by a swap */
		p[ihl] = TD_ICMP4_ECHO_REPLY;
		uint16_t c = td_get_be16(p + ihl + 2);
		td_put_be16(p + ihl + 2, td_csum_update16(c, TD_ICMP4_ECHO_REQUEST << 8,
							  TD_ICMP4_ECHO_REPLY << 8));
		return true;
	}
	if (n >= 48 && (p[0] >> 4) == 6) {
		if (p[6] != TD_IPPROTO_ICMPV6 || p[40] != TD_ICMP6_ECHO_REQUEST)
			return false;
		swap(p + 8, p + 24, 16); /* pseudo-header sum unchanged by a swap */
		p[40] = TD_ICMP6_ECHO_REPLY;
		uint16_t c = td_get_be16(p + 42);
		td_put_be16(p + 42, td_csum_update16(c, TD_ICMP6_ECHO_REQUEST << 8,
						      TD_ICMP6_ECHO_REPLY << 8));
		return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s IFNAME [busy_usec]\n", argv[0]);
		return 2;
	}
	long busy = argc > 2 ? atol(argv[2]) : 0;
	struct td_tun t;
	int err = td_tun_open(&t, argv[1], false, false);
	if (err) {
		fprintf(stderr, "tun: %s\n", strerror(-err));
		return 1;
	}
	struct td_link_conf lc = {.mtu = 1500, .has4 = true, .has6 = true, .addr4 = 0x0a000001,
				  .prefix4 = 24, .prefix6 = 64,
				  .addr6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
	char why[256];
	if ((err = td_rtnl_configure(t.name, &lc, why, sizeof(why)))) {
		fprintf(stderr, "rtnl: %s (%s)\n", strerror(-err), why);
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	fprintf(stderr, "ready on %s\n", t.name);
	static uint8_t buf[65536];
	struct pollfd pfd = {.fd = t.fd, .events = POLLIN};
	uint64_t spin_since = 0;
	while (!stop) {
		ssize_t n = read(t.fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno != EAGAIN)
				break;
			if (busy) {
				uint64_t now = mono_ns();
				if (!spin_since)
					spin_since = now;
				if (now - spin_since < (uint64_t)busy * 1000u)
					continue;
			}
			spin_since = 0;
			poll(&pfd, 1, 200);
			continue;
		}
		spin_since = 0;
		if (answer(buf, (size_t)n) && write(t.fd, buf, (size_t)n) < 0)
			perror("write");
	}
	td_tun_close(&t);
	return 0;
}
