/* lwIP (Debian liblwip) answering ping over the same TUN device: the peer for bench/30-stack.sh. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

#include "tundra/stack_os.h"

/*
 * Debian's liblwip is the core plus the Unix sys_arch, without the tcpip
 * thread (no tcpip_init), so lwIP runs here the NO_SYS way: one thread
 * reads the TUN, hands each packet to ip_input() and runs the timers. A TUN
 * link has no Ethernet, so the netif has no ARP and outputs IP directly.
 * lwIP answers at 10.0.0.2 and fd00::2, like tundra stack.
 */

static int tun_fd;
static volatile sig_atomic_t stop;
static uint8_t obuf[65536];

u32_t sys_now(void);
u32_t sys_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static err_t out_pbuf(struct pbuf *p)
{
	u16_t n = pbuf_copy_partial(p, obuf, p->tot_len, 0);
	if (write(tun_fd, obuf, n) < 0)
		return ERR_IF;
	return ERR_OK;
}

static err_t out4(struct netif *nif, struct pbuf *p, const ip4_addr_t *a)
{
	(void)nif;
	(void)a;
	return out_pbuf(p);
}

static err_t out6(struct netif *nif, struct pbuf *p, const ip6_addr_t *a)
{
	(void)nif;
	(void)a;
	return out_pbuf(p);
}

static err_t nif_init(struct netif *nif)
{
	nif->name[0] = 't';
	nif->name[1] = 'u';
	nif->output = out4;
	nif->output_ip6 = out6;
	nif->mtu = 1500;
	nif->flags = 0; /* point to point: no ETHARP, no broadcast */
	return ERR_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s IFNAME\n", argv[0]);
		return 2;
	}
	struct td_tun t;
	int err = td_tun_open(&t, argv[1], false, false);
	if (err) {
		fprintf(stderr, "tun: %s\n", strerror(-err));
		return 1;
	}
	struct td_link_conf lc = {.mtu = 1500, .has4 = true, .has6 = true, .addr4 = 0x0a000001,
				  .prefix4 = 24, .prefix6 = 64,
				  .addr6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
	if ((err = td_rtnl_configure(t.name, &lc))) {
		fprintf(stderr, "rtnl: %s\n", strerror(-err));
		return 1;
	}
	tun_fd = t.fd;
	lwip_init();
	static struct netif nif;
	ip4_addr_t ip, mask, gw;
	IP4_ADDR(&ip, 10, 0, 0, 2);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 0, 1);
	if (!netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ip_input)) {
		fprintf(stderr, "netif_add failed\n");
		return 1;
	}
	ip6_addr_t a6;
	IP6_ADDR(&a6, PP_HTONL(0xfd000000ul), 0, 0, PP_HTONL(2ul));
	netif_ip6_addr_set(&nif, 0, &a6);
	netif_ip6_addr_set_state(&nif, 0, IP6_ADDR_PREFERRED);
	netif_set_default(&nif);
	netif_set_up(&nif);
	netif_set_link_up(&nif);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	fprintf(stderr, "ready on %s\n", t.name);
	static uint8_t buf[65536];
	struct pollfd pfd = {.fd = t.fd, .events = POLLIN};
	while (!stop) {
		ssize_t n = read(t.fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno != EAGAIN)
				break;
			sys_check_timeouts();
			u32_t next = sys_timeouts_sleeptime();
			poll(&pfd, 1, next == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? 1000 : (int)next);
			continue;
		}
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
		if (!p)
			continue;
		pbuf_take(p, buf, (u16_t)n);
		if (nif.input(p, &nif) != ERR_OK)
			pbuf_free(p);
	}
	td_tun_close(&t);
	return 0;
}
