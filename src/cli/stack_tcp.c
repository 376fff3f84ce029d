/* TCP part of `tundra stack`: options, built-in services, the --connect client. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/stack_tcp.h"
#include "tundra/os_misc.h"

const char td_cli_tcp_usage[] =
	"  --no-tcp               no TCP at all\n"
	"  --no-tcp-services      TCP without the built-in echo/discard/chargen/HTTP\n"
	"  --tcp-cc cubic|reno    congestion control (default cubic)\n"
	"  --tcp-buf KIB          send and receive buffer per connection (default 256)\n"
	"  --tcp-max-conns N      connections (control blocks) beyond which SYNs get RST\n"
	"                         (default: a pool of 4096)\n"
	"  --tcp-mem-max BYTES    ceiling on TCP memory (control blocks + buffers; k/m/g)\n"
	"  --connect ADDR:PORT    open a connection from the stack to a kernel listener\n"
	"  --send N               with --connect: send N bytes of the /bytes stream, then FIN\n"
	"  --recv N               with --connect: expect N bytes (default: until EOF)\n";

static int parse_size(const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end)
		return -EINVAL;
	*out = (uint64_t)n * mul;
	return 0;
}

int td_cli_tcp_opt(struct td_cli_tcp *t, const char *name, const char *val)
{
	uint64_t n;
	if (!strcmp(name, "no-tcp"))
		t->off = true;
	else if (!strcmp(name, "no-tcp-services"))
		t->no_services = true;
	else if (!strcmp(name, "tcp-cc")) {
		if (!strcmp(val, "cubic"))
			t->cc = TD_TCP_CC_CUBIC;
		else if (!strcmp(val, "reno"))
			t->cc = TD_TCP_CC_RENO;
		else
			return -EINVAL;
	} else if (!strcmp(name, "tcp-buf")) {
		if (parse_size(val, &n) || n < 4 || n > 65536)
			return -EINVAL;
		t->buf_kib = (uint32_t)n;
	} else if (!strcmp(name, "tcp-max-conns")) {
		if (parse_size(val, &n) || n == 0 || n > 16u << 20)
			return -EINVAL;
		t->max_conns = (uint32_t)n;
	} else if (!strcmp(name, "tcp-mem-max")) {
		if (parse_size(val, &n) || n == 0)
			return -EINVAL;
		t->mem_max = n;
	} else if (!strcmp(name, "connect"))
		t->connect = val;
	else if (!strcmp(name, "send"))
		return parse_size(val, &t->send_bytes);
	else if (!strcmp(name, "recv"))
		return parse_size(val, &t->recv_bytes);
	else
		return -EINVAL;
	return 0;
}

int td_cli_tcp_start(struct td_cli_tcp *t, struct td_stack *st)
{
	t->st = st;
	if (t->off)
		return 0;
	struct td_tcp_config cfg;
	td_tcp_config_default(&cfg);
	cfg.cc = (enum td_tcp_cc_algo)t->cc;
	if (t->buf_kib)
		cfg.sndbuf = cfg.rcvbuf = t->buf_kib * 1024;
	cfg.max_socks = 4096;
	if (t->max_conns) {
		/* the pool never binds before the ceiling: room for the listeners */
		cfg.max_conns = t->max_conns;
		cfg.max_socks = t->max_conns + 64;
	}
	cfg.mem_max = t->mem_max;
	int rc = td_os_random(cfg.key, sizeof(cfg.key));
	if (rc)
		return rc;
	rc = td_tcp_attach(st, &cfg, &t->tcp);
	if (rc)
		return rc;
	if (!t->no_services)
		rc = td_tcp_services_start(t->tcp, st,
					   TD_TCP_SVC_ECHO | TD_TCP_SVC_DISCARD | TD_TCP_SVC_CHARGEN |
						   TD_TCP_SVC_HTTP,
					   &t->svc);
	return rc;
}

static void client_done(struct td_cli_tcp *t, int err)
{
	if (t->done)
		return;
	t->done = true;
	t->err = err;
	t->t_end = td_os_now_ns();
	/* the event loop stops on SIGTERM and runs our report */
	kill(getpid(), SIGTERM);
}

static void client_cb(struct td_tcp_sock *s, unsigned ev, void *user)
{
	struct td_cli_tcp *t = user;
	uint64_t now = td_os_now_ns();
	if (ev & TD_TCP_EV_CONNECTED)
		t->t_conn = now;
	uint8_t buf[16384];
	while (t->sent < t->send_bytes) {
		size_t n = t->send_bytes - t->sent < sizeof(buf) ? (size_t)(t->send_bytes - t->sent)
								 : sizeof(buf);
		td_tcp_stream_fill(buf, t->sent, n);
		ssize_t w = td_tcp_send(s, buf, n, now);
		if (w == -EAGAIN)
			break;
		if (w < 0) {
			client_done(t, (int)w);
			return;
		}
		t->sent += (uint64_t)w;
	}
	if (t->sent == t->send_bytes && !t->shut && td_tcp_sock_state(s) >= TD_TCP_ESTABLISHED) {
		t->shut = true;
		td_tcp_shutdown(s, 1, now);
	}
	for (;;) {
		ssize_t r = td_tcp_recv(s, buf, sizeof(buf), now);
		if (r > 0) {
			t->received += (uint64_t)r;
			continue;
		}
		if (r == 0)
			t->eof = true;
		else if (r != -EAGAIN) {
			client_done(t, (int)r);
			return;
		}
		break;
	}
	bool recv_ok = t->recv_bytes ? t->received >= t->recv_bytes : t->eof;
	if (t->shut && recv_ok)
		client_done(t, 0);
}

static int parse_hostport(const char *s, struct td_tcp_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *h = host;
	if (h[0] == '[') {
		h++;
		char *e = strchr(h, ']');
		if (!e)
			return -EINVAL;
		*e = 0;
	}
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	ep->port = (uint16_t)port;
	if (inet_pton(AF_INET, h, ep->addr) == 1)
		ep->family = 4;
	else if (inet_pton(AF_INET6, h, ep->addr) == 1)
		ep->family = 6;
	else
		return -EINVAL;
	return 0;
}

void td_cli_tcp_ready(struct td_cli_tcp *t)
{
	if (!t->connect || !t->tcp)
		return;
	struct td_tcp_endpoint remote, local;
	uint64_t now = td_os_now_ns();
	t->t_start = now;
	int rc = parse_hostport(t->connect, &remote);
	struct td_ip_addr me;
	memset(&me, 0, sizeof(me));
	const struct td_stack_config *sc = td_stack_config(t->st);
	if (!rc && remote.family == 4 && sc->has_addr4) {
		me.family = TD_AF_INET;
		me.v4 = sc->addr4;
	} else if (!rc && remote.family == 6 && sc->has_addr6) {
		me.family = TD_AF_INET6;
		memcpy(me.v6, sc->addr6, 16);
	} else if (!rc) {
		rc = -EAFNOSUPPORT;
	}
	if (!rc) {
		td_tcp_endpoint_from_ip(&local, &me, 0);
		rc = td_tcp_socket(t->tcp, remote.family, &t->cs);
	}
	if (!rc) {
		td_tcp_set_callback(t->cs, client_cb, t);
		rc = td_tcp_bind(t->cs, &local);
	}
	if (!rc)
		rc = td_tcp_connect(t->cs, &remote, now);
	if (rc)
		client_done(t, rc);
}

int td_cli_tcp_finish(struct td_cli_tcp *t)
{
	int rc = 0;
	if (t->connect) {
		if (!t->done)
			t->t_end = td_os_now_ns();
		double secs = (double)(t->t_end - (t->t_conn ? t->t_conn : t->t_start)) / 1e9;
		if (secs <= 0)
			secs = 1e-9;
		double mbit = (double)(t->sent + t->received) * 8 / secs / 1e6;
		fprintf(stderr,
			"tundra stack: --connect %s: %s, sent %llu, received %llu bytes in %.3f s "
			"(%.1f Mbit/s)\n",
			t->connect, !t->done ? "interrupted" : t->err ? strerror(-t->err) : "ok",
			(unsigned long long)t->sent, (unsigned long long)t->received, secs, mbit);
		printf("{\"connect\": \"%s\", \"ok\": %s, \"sent\": %llu, \"received\": %llu, "
		       "\"seconds\": %.6f, \"mbit_s\": %.1f}\n",
		       t->connect, t->done && !t->err ? "true" : "false",
		       (unsigned long long)t->sent, (unsigned long long)t->received, secs, mbit);
		fflush(stdout);
		if (!t->done || t->err)
			rc = 1;
		if (t->cs)
			td_tcp_abort(t->cs, td_os_now_ns());
	}
	td_tcp_services_stop(t->svc, td_os_now_ns());
	t->svc = NULL;
	return rc;
}
