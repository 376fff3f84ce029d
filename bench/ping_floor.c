/* The kernel's floor for a flood (one probe in flight): sendto + recvmsg on a raw ICMP socket, no other work. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tundra/wire.h"

/*
 * usage: ping_floor COUNT   (root or CAP_NET_RAW; pings 127.0.0.1)
 * Each iteration is what every flood pinger must do at least: one send call
 * (the whole loopback round trip, the kernel's own echo reply included, runs
 * inside it) and one receive call for the reply, with the socket options of
 * `tundra ping -f` (ICMP_FILTER, SO_TIMESTAMPNS, atomic DF probes). No MAC, no
 * statistics, no output per probe: the pps printed is the ceiling for any tool
 * that keeps one probe in flight on this kernel, and bench/23-ping-flood.sh
 * prints it beside tundra's and iputils' figures.
 */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	if (count <= 0) {
		fprintf(stderr, "usage: ping_floor COUNT\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0) {
		perror("ping_floor: socket(SOCK_RAW)");
		return 2;
	}
	struct icmp_filter f = {.data = ~(1u << ICMP_ECHOREPLY)};
	int one = 1, probe = IP_PMTUDISC_PROBE;
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe))) {
		perror("ping_floor: setsockopt");
		return 2;
	}
	struct sockaddr_in dst = {.sin_family = AF_INET};
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint8_t pkt[64], buf[192] = {0}, ctl[64] = {0};
	uint16_t ident = (uint16_t)getpid();
	long got = 0;
	uint64_t t0 = mono_ns();
	for (long i = 0; i < count; i++) {
		/* Echo request, 56 bytes of data as iputils sends (RFC 792). */
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 8;
		td_put_be16(pkt + 4, ident);
		td_put_be16(pkt + 6, (uint16_t)i);
		for (size_t k = 8; k < sizeof(pkt); k++)
			pkt[k] = (uint8_t)k;
		td_put_be16(pkt + 2, td_csum(pkt, sizeof(pkt)));
		if (sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)&dst, sizeof(dst)) < 0) {
			perror("ping_floor: sendto");
			return 1;
		}
		struct sockaddr_in from;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof(from),
				    .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl, .msg_controllen = sizeof(ctl)};
		if (recvmsg(fd, &mh, 0) > 0)
			got++;
	}
	double s = (double)(mono_ns() - t0) / 1e9;
	printf("%ld packets transmitted, %ld received, %.3f s, %.0f pps\n", count, got, s,
	       (double)got / s);
	close(fd);
	return 0;
}
