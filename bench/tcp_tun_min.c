/* The ceiling of the plain TUN path for TCP: a minimal sink (port 9) and source (port 19) with no buffering. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tundra/stack_os.h"
#include "tundra/wire.h"

/*
 * tcp_tun_min [IFNAME]: opens a TUN device in the current namespace, kernel
 * side 10.0.0.1/24, and plays 10.0.0.2 with the least TCP that keeps the
 * kernel streaming: one read() per packet, one write() per segment sent.
 *   port 9  sink: answers the handshake, ACKs every second in-order segment
 *           (and every PSH/FIN), advertises 8 MiB (wscale 7); no buffering.
 *   port 19 source: sends MSS-sized segments of 'x' as far as the kernel's
 *           window allows; go-back-N on three duplicate ACKs; no timers.
 * One connection at a time per port; IPv4 only. It is a benchmark peer, not a
 * TCP: no retransmission timer, no options beyond MSS and window scale.
 *
 * tcp_tun_min IFNAME vnet: the same with IFF_VNET_HDR and the offloads
 * tundra stack --offload=on negotiates: reads take GSO super-packets (the
 * sink ACKs a super-packet like a segment), and the source writes 64 KB TSO
 * super-packets (gso_size MSS, partial checksum) - the offloaded ceiling.
 */

#define MSS 1460
#define TSO_SEGS 44 /* 44 * 1460 + headers < 64 KB */

struct conn {
	bool open;
	uint16_t rport;
	uint32_t rcv_nxt, snd_una, snd_nxt, snd_wnd, iss;
	uint8_t snd_ws;
	unsigned unacked, dup;
	bool fin_in;
};

static int tunfd;
static unsigned vnet; /* 0, or the virtio-net header length */
static uint8_t pkt_out[65536];
static uint8_t payload[MSS * TSO_SEGS];
static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static void emit(uint16_t lport, const struct conn *c, uint32_t seq, uint8_t flags,
		 const uint8_t *data, size_t len, bool syn_opts)
{
	struct td_tcp_repr r;
	memset(&r, 0, sizeof(r));
	r.src_port = lport;
	r.dst_port = c->rport;
	r.seq = seq;
	r.ack = c->rcv_nxt;
	r.flags = flags;
	r.window = 65535; /* << 7 = 8 MiB */
	if (syn_opts) {
		r.opt.has_mss = true;
		r.opt.mss = MSS;
		r.opt.has_wscale = true;
		r.opt.wscale = 7;
	}
	r.payload.ptr = data;
	r.payload.len = len;
	size_t tl = td_tcp_size(&r);
	struct td_ipv4_repr ip = {.src = 0x0a000002, .dst = 0x0a000001, .ttl = 64,
				  .proto = TD_IPPROTO_TCP, .df = true, .payload_len = (uint16_t)tl};
	size_t hl = td_ipv4_hdr_size(&ip);
	td_ipv4_emit(&ip, pkt_out, hl);
	uint32_t ps = td_csum_pseudo4(ip.src, ip.dst, TD_IPPROTO_TCP, (uint16_t)tl);
	td_tcp_emit(&r, ps, pkt_out + hl, tl);
	ssize_t n;
	if (vnet) {
		uint8_t h[16] = {0};
		if (len > MSS) {
			/* TSO: the kernel cuts it; the checksum field holds the
			 * pseudo-header sum (virtio 1.x §5.1.6.2) */
			struct td_vnet_repr vr = {.flags = TD_VNET_F_NEEDS_CSUM,
						  .gso_type = TD_VNET_GSO_TCPV4,
						  .hdr_len = (uint16_t)(hl + tl - len),
						  .gso_size = MSS,
						  .csum_start = (uint16_t)hl,
						  .csum_offset = 16};
			td_vnet_emit(&vr, h, vnet);
			td_put_be16(pkt_out + hl + 16, (uint16_t)~td_csum_finish(ps));
		}
		struct iovec iov[2] = {{h, vnet}, {pkt_out, hl + tl}};
		n = writev(tunfd, iov, 2);
	} else {
		n = write(tunfd, pkt_out, hl + tl);
	}
	if (n < 0 && errno != EAGAIN)
		perror("write");
}

static void source_push(struct conn *c)
{
	size_t chunk = vnet ? MSS * TSO_SEGS : MSS;
	while (c->snd_nxt - c->snd_una + MSS <= c->snd_wnd) {
		size_t room = c->snd_wnd - (c->snd_nxt - c->snd_una);
		size_t n = room < chunk ? room / MSS * MSS : chunk;
		emit(19, c, c->snd_nxt, TD_TCP_ACK, payload, n, false);
		c->snd_nxt += (uint32_t)n;
	}
}

int main(int argc, char **argv)
{
	struct td_tun tun;
	bool want_vnet = argc > 2 && !strcmp(argv[2], "vnet");
	char why[256];
	int err = td_tun_open_offload(&tun, argc > 1 ? argv[1] : "tmin0", false, false, want_vnet,
				      why, sizeof(why));
	if (!err && want_vnet && !tun.vnet_hdr_len) {
		fprintf(stderr, "tcp_tun_min: no offloads: %s\n", why);
		return 1;
	}
	vnet = tun.vnet_hdr_len;
	if (err) {
		fprintf(stderr, "tun: %s\n", strerror(-err));
		return 1;
	}
	struct td_link_conf lc = {.mtu = 1500, .has4 = true, .addr4 = 0x0a000001, .prefix4 = 24};
	if ((err = td_rtnl_configure(tun.name, &lc, why, sizeof(why)))) {
		fprintf(stderr, "rtnl: %s (%s)\n", strerror(-err), why);
		return 1;
	}
	tunfd = tun.fd;
	/* blocking reads: one read() per packet */
	fcntl(tunfd, F_SETFL, fcntl(tunfd, F_GETFL) & ~O_NONBLOCK);
	/* no SA_RESTART: a signal interrupts the blocking read */
	struct sigaction sa = {.sa_handler = on_sig};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	memset(payload, 'x', sizeof(payload));
	fprintf(stderr, "tcp_tun_min: ready on %s\n", tun.name);
	struct conn sink = {0}, src = {0};
	static uint8_t rbuf[65536 + 16];
	while (!stop) {
		ssize_t n = read(tunfd, rbuf, sizeof(rbuf));
		if (n <= (ssize_t)vnet)
			continue;
		/* the kernel's header is trusted here: GSO or not, the sink only
		 * needs the sequence range, and checksums are not checked */
		const uint8_t *buf = rbuf + vnet;
		n -= (ssize_t)vnet;
		struct td_ipv4_view v;
		if (td_ipv4_check(&v, buf, (size_t)n, 0) || td_ipv4_proto(&v) != TD_IPPROTO_TCP)
			continue;
		struct td_bytes l4 = td_ipv4_payload(&v);
		struct td_tcp_view tv;
		struct td_tcp_repr r;
		if (td_tcp_check(&tv, l4.ptr, l4.len, 0, TD_WIRE_SKIP_CSUM) || td_tcp_parse(&tv, &r))
			continue;
		struct conn *c = r.dst_port == 9 ? &sink : r.dst_port == 19 ? &src : NULL;
		if (!c)
			continue;
		if (r.flags & TD_TCP_RST) {
			c->open = false;
			continue;
		}
		if (r.flags & TD_TCP_SYN) {
			memset(c, 0, sizeof(*c));
			c->open = true;
			c->rport = r.src_port;
			c->rcv_nxt = r.seq + 1;
			c->iss = 1000;
			c->snd_una = c->snd_nxt = c->iss + 1;
			c->snd_ws = r.opt.has_wscale ? r.opt.wscale : 0;
			c->snd_wnd = r.window;
			emit(r.dst_port, c, c->iss, TD_TCP_SYN | TD_TCP_ACK, NULL, 0, true);
			continue;
		}
		if (!c->open || r.src_port != c->rport)
			continue;
		if (c == &src && (r.flags & TD_TCP_ACK)) {
			c->snd_wnd = (uint32_t)r.window << c->snd_ws;
			if ((int32_t)(r.ack - c->snd_una) > 0) {
				c->snd_una = r.ack;
				c->dup = 0;
			} else if (r.ack == c->snd_una && r.payload.len == 0 && ++c->dup == 3) {
				c->snd_nxt = c->snd_una; /* go-back-N */
			}
			if (r.flags & TD_TCP_FIN) {
				c->rcv_nxt = r.seq + (uint32_t)r.payload.len + 1;
				emit(19, c, c->snd_nxt, TD_TCP_ACK | TD_TCP_FIN, NULL, 0, false);
				c->open = false;
				continue;
			}
			source_push(c);
			continue;
		}
		/* sink */
		bool fin = r.flags & TD_TCP_FIN;
		if (r.seq == c->rcv_nxt) {
			c->rcv_nxt += (uint32_t)r.payload.len + (fin ? 1 : 0);
			if (++c->unacked >= 2 || fin || (r.flags & TD_TCP_PSH)) {
				c->unacked = 0;
				emit(9, c, c->snd_nxt, TD_TCP_ACK | (fin ? TD_TCP_FIN : 0), NULL, 0, false);
				if (fin)
					c->snd_nxt++;
			}
		} else if (r.payload.len) {
			emit(9, c, c->snd_nxt, TD_TCP_ACK, NULL, 0, false); /* duplicate ACK */
		}
	}
	td_tun_close(&tun);
	return 0;
}
