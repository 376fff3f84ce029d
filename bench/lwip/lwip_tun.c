/* lwIP (Debian liblwip) over a TUN device: the ping peer of bench/30-stack.sh, the TCP peer of bench/40-tcp.sh. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "tundra/stack_os.h"

/*
 * Debian's liblwip is the core plus the Unix sys_arch, without the tcpip
 * thread (no tcpip_init), so lwIP runs here the NO_SYS way: one thread
 * reads the TUN, hands each packet to ip_input() and runs the timers. A TUN
 * link has no Ethernet, so the netif has no ARP and outputs IP directly.
 * lwIP answers at 10.0.0.2 and fd00::2, like tundra stack, and serves the
 * same three TCP services over lwIP's raw (callback) API, IPv4 and IPv6:
 *   port 9   discard: accept, read and drop everything, count the bytes;
 *   port 19  chargen: accept, then send as fast as lwIP allows until the
 *            peer goes away (tcp_sent refills the send buffer);
 *   port 7   echo: every byte read is written back at once (1-byte RR).
 * Each connection's byte counts are printed to stderr when it closes.
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

/* ---- TCP services on lwIP's raw API ------------------------------------ */

enum svc { SVC_DISCARD, SVC_CHARGEN, SVC_ECHO };

struct conn {
	struct tcp_pcb *pcb;
	enum svc svc;
	unsigned long long rx, tx;
};

/* chargen's payload: written with no copy (PBUF_ROM), so it must stay put */
static const uint8_t chargen_buf[65535] = {[0 ... 65534] = 'c'};

static void conn_done(struct conn *c, const char *why)
{
	static const char *const names[] = {"discard", "chargen", "echo"};
	fprintf(stderr, "tcp %s %s: rx %llu tx %llu\n", names[c->svc], why, c->rx, c->tx);
	free(c);
}

static void conn_close(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb); /* no memory for the FIN: reset instead of leaking the pcb */
	conn_done(c, "closed");
}

/* Fill the send buffer: as many bytes as lwIP accepts (TCP_SND_BUF and
 * TCP_SND_QUEUELEN bound it), then push them out. */
static void chargen_fill(struct conn *c)
{
	for (;;) {
		u16_t room = tcp_sndbuf(c->pcb);
		if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 1)
			break;
		if (tcp_write(c->pcb, chargen_buf, room, 0) != ERR_OK) {
			/* lwIP refuses a long write when segments run short: ask for one MSS */
			u16_t mss = tcp_mss(c->pcb);
			if (room <= mss || tcp_write(c->pcb, chargen_buf, mss, 0) != ERR_OK)
				break;
			room = mss;
		}
		c->tx += room;
	}
	tcp_output(c->pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	struct conn *c = arg;
	if (c && c->svc == SVC_CHARGEN)
		chargen_fill(c);
	return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;
	if (!c) {
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p || err != ERR_OK) { /* the peer's FIN: close our side too */
		if (p)
			pbuf_free(p);
		conn_close(c);
		return ERR_OK;
	}
	u16_t n = p->tot_len;
	if (c->svc == SVC_ECHO) {
		/* echo needs room for all of it: otherwise refuse the pbuf, which
		 * lwIP keeps and hands back later (refused_data), so nothing is lost */
		if (tcp_sndbuf(pcb) < n)
			return ERR_MEM;
		static uint8_t ebuf[65536];
		u16_t got = pbuf_copy_partial(p, ebuf, n, 0);
		if (tcp_write(pcb, ebuf, got, TCP_WRITE_FLAG_COPY) != ERR_OK)
			return ERR_MEM;
		c->tx += got;
		tcp_output(pcb);
	}
	c->rx += n;
	tcp_recved(pcb, n); /* reopen the window: the bytes are consumed */
	pbuf_free(p);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	(void)err;
	struct conn *c = arg;
	if (c) /* the pcb is already freed by lwIP (reset or abort) */
		conn_done(c, "reset");
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->pcb = pcb;
	c->svc = (enum svc)(uintptr_t)arg;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	if (c->svc == SVC_ECHO)
		tcp_nagle_disable(pcb); /* answer each byte at once, like TCP_NODELAY */
	if (c->svc == SVC_CHARGEN)
		chargen_fill(c);
	return ERR_OK;
}

static int tcp_serve(u16_t port, enum svc svc)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (!pcb || tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK)
		return -1;
	/* tcp_listen frees pcb and returns a smaller listening one: set
	 * the accept callback on the returned pcb */
	struct tcp_pcb *lpcb = tcp_listen(pcb);
	if (!lpcb)
		return -1;
	tcp_arg(lpcb, (void *)(uintptr_t)svc);
	tcp_accept(lpcb, on_accept);
	return 0;
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
	char why[256];
	if ((err = td_rtnl_configure(t.name, &lc, why, sizeof(why)))) {
		fprintf(stderr, "rtnl: %s (%s)\n", strerror(-err), why);
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
	if (tcp_serve(9, SVC_DISCARD) || tcp_serve(19, SVC_CHARGEN) || tcp_serve(7, SVC_ECHO)) {
		fprintf(stderr, "tcp listen failed\n");
		return 1;
	}
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
		/* PBUF_RAM, not PBUF_POOL: Debian's liblwip hands out 616-byte pool
		 * buffers without chaining them for a 1500-byte packet (pbuf_take
		 * then overruns the heap; found with ASan) */
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
		if (!p)
			continue;
		pbuf_take(p, buf, (u16_t)n);
		if (nif.input(p, &nif) != ERR_OK)
			pbuf_free(p);
	}
	td_tun_close(&t);
	return 0;
}
