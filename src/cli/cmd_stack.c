/* `tundra stack`: a userspace IPv4/IPv6 host at the far end of a TUN device. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/stack_tcp.h"
#include "tundra/stack.h"
#include "tundra/stack_os.h"

int td_cmd_stack(int argc, char **argv);

#define MAX_ROUTES 16
/* The TUN's transmit queue: what the kernel holds while the stack is busy.
 * The kernel gives a TUN 500 packets and drops beyond, silently to both
 * ends; a thousand clients connecting at once overflow that (every drop a
 * retransmission, or a reset when it was a SYN cookie's ACK and first data). */
#define TXQLEN_DEFAULT 4096
#define TXQLEN_MAX 1000000u

struct route {
	uint8_t family, prefix;
	uint8_t dst[16];
};

struct opts {
	const char *ifname, *netns, *pcap, *stats_file;
	bool new_netns, rootless, persist, attach, stats, json, quiet, offload;
	uint32_t busy_poll_us;
	struct td_stack_config cfg;
	struct td_link_conf link;
	struct route routes[MAX_ROUTES];
	int nroutes;
	char **command;
	struct td_cli_tcp tcp;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tundra stack [OPTIONS] [-- COMMAND [ARGS...]]\n"
		"\n"
		"Bring up a TUN interface whose far end is a userspace IPv4/IPv6 host\n"
		"(ICMP echo, UDP echo on port 7 and discard on port 9, TCP echo 7, discard 9,\n"
		"chargen 19 and HTTP on port 80: /stats, /bytes/N, POST /upload).\n"
		"\n"
		"  --name IFNAME          TUN device name (default tundra0)\n"
		"  --persist              keep the device after exit (TUNSETPERSIST)\n"
		"  --attach               attach to an existing (persistent) device\n"
		"  --netns NAME           run in the existing namespace NAME (/run/netns)\n"
		"  --new-netns            run in a private namespace (lives as long as we do)\n"
		"  --rootless             user + network namespace, no root needed\n"
		"  --mtu N                link MTU (default 1500)\n"
		"  --txqueuelen N         packets the kernel queues for the stack (default 4096;\n"
		"                         the kernel's 500 drops bursts of a thousand connections)\n"
		"  --kernel4 ADDR/LEN     kernel side IPv4 (default 10.0.0.1/24)\n"
		"  --kernel6 ADDR/LEN     kernel side IPv6 (default fd00::1/64)\n"
		"  --addr4 ADDR           the stack's IPv4 (default 10.0.0.2)\n"
		"  --addr6 ADDR           the stack's IPv6 (default fd00::2)\n"
		"  --no-ipv4, --no-ipv6   leave a family out\n"
		"  --route PREFIX         also route PREFIX (v4 or v6, 'default', 'default6') via the TUN\n"
		"  --pcap FILE            capture every packet in and out (pcap, raw IP)\n"
		"  --impair [in:|out:]SPEC  SPEC = loss=P%%,dup=P%%,reorder=P%%,delay=MS,jitter=MS,\n"
		"                         corrupt=P%%,seed=N (both directions unless prefixed)\n"
		"  --stats[=text|json]    print counters on SIGUSR1 and at exit\n"
		"  --stats-file FILE      write them to FILE instead of stdout (atomically)\n"
		"  --busy-poll USEC       spin on the TUN this long before sleeping\n"
		"  --offload=on|off       virtio-net header + TUN offloads: partial checksums,\n"
		"                         GSO super-packets in, TCP sends GSO super-segments\n"
		"                         of up to 64 KB (default off; tso: alias of on)\n"
		"  --reass-timeout SEC    reassembly timeout (default 30)\n"
		"  --reass-slots N        datagrams reassembled at once (default 16)\n"
		"  --icmp-rate N[/BURST]  ICMP errors per second and burst (default 100/20)\n"
		"  --slots N              packet slots (default 1024)\n"
		"%s"
		"  --quiet                no ready line\n"
		"\n"
		"With -- COMMAND the command runs in the same namespace, with the TUN as its\n"
		"route to the stack; the stack exits when the command does, with its status.\n",
		td_cli_tcp_usage);
}

static int parse_prefix(const char *s, uint8_t *family, uint8_t addr[16], uint8_t *prefix)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	char *slash = strchr(tmp, '/');
	long len = -1;
	if (slash) {
		*slash = 0;
		char *end;
		len = strtol(slash + 1, &end, 10);
		if (*end || len < 0)
			return -EINVAL;
	}
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family = TD_AF_INET;
		if (len > 32)
			return -EINVAL;
		*prefix = (uint8_t)(len < 0 ? 32 : len);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, addr) == 1) {
		*family = TD_AF_INET6;
		if (len > 128)
			return -EINVAL;
		*prefix = (uint8_t)(len < 0 ? 128 : len);
		return 0;
	}
	return -EINVAL;
}

static uint32_t be32(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static int parse_pct(const char *v, uint32_t *ppm)
{
	char *end;
	double p = strtod(v, &end);
	if (end == v || (*end && strcmp(end, "%") != 0) || !(p >= 0 && p <= 100)) /* NaN too */
		return -EINVAL;
	*ppm = (uint32_t)(p * 10000.0 + 0.5); /* p >= 0: llround without libm (smaller RSS) */
	return 0;
}

static int parse_ms(const char *v, uint64_t *ns)
{
	char *end;
	double ms = strtod(v, &end);
	if (end == v || (*end && strcmp(end, "ms") != 0) || !(ms >= 0 && ms <= 3600000))
		return -EINVAL;
	*ns = (uint64_t)(ms * 1e6 + 0.5);
	return 0;
}

/* [in:|out:]loss=P%,dup=P%,reorder=P%,delay=MS,jitter=MS,corrupt=P%,seed=N */
static int parse_impair(const char *spec, struct td_stack_config *c)
{
	bool in = true, out = true;
	if (!strncmp(spec, "in:", 3)) {
		out = false;
		spec += 3;
	} else if (!strncmp(spec, "out:", 4)) {
		in = false;
		spec += 4;
	}
	struct td_impair_config im = {0};
	char *dup = strdup(spec), *save = NULL;
	if (!dup)
		return -ENOMEM;
	int err = 0;
	for (char *kv = strtok_r(dup, ",", &save); kv && !err; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			err = -EINVAL;
			break;
		}
		*eq = 0;
		const char *k = kv, *v = eq + 1;
		if (!strcmp(k, "loss"))
			err = parse_pct(v, &im.loss_ppm);
		else if (!strcmp(k, "dup"))
			err = parse_pct(v, &im.dup_ppm);
		else if (!strcmp(k, "reorder"))
			err = parse_pct(v, &im.reorder_ppm);
		else if (!strcmp(k, "corrupt"))
			err = parse_pct(v, &im.corrupt_ppm);
		else if (!strcmp(k, "delay"))
			err = parse_ms(v, &im.delay_ns);
		else if (!strcmp(k, "jitter"))
			err = parse_ms(v, &im.jitter_ns);
		else if (!strcmp(k, "seed")) {
			char *end;
			im.seed = strtoull(v, &end, 0);
			if (*end || end == v)
				err = -EINVAL;
		} else
			err = -EINVAL;
	}
	free(dup);
	if (err)
		return err;
	if (in)
		c->impair_in = im;
	if (out) {
		c->impair_out = im;
		/* the two directions draw from different streams of the seed */
		if (in)
			c->impair_out.seed = im.seed ^ 0x6f7574ull;
	}
	return 0;
}

/* ---- counters out --------------------------------------------------------------- */

static void print_text(FILE *f, struct td_stack *st, const struct td_stack_run *run)
{
	const struct td_stack_stats *s = td_stack_stats(st);
	for (int i = 0; i < TD_CTR_COUNT; i++)
		if (s->ctr[i])
			fprintf(f, "%-26s %llu\n", td_stack_ctr_name((enum td_stack_ctr)i),
				(unsigned long long)s->ctr[i]);
	for (int l = 0; l < TD_LAYER_COUNT; l++)
		for (int e = 1; e < TD_WIRE_ERR_COUNT; e++)
			if (s->wire[l][e])
				fprintf(f, "%s_%-21s %llu\n", td_stack_layer_name((enum td_stack_layer)l),
					td_wire_strerror((enum td_wire_err)e),
					(unsigned long long)s->wire[l][e]);
	for (size_t i = 0; i < td_stack_extra_count(st); i++) {
		const char *name;
		uint64_t v;
		td_stack_extra_get(st, i, &name, &v);
		if (v)
			fprintf(f, "%-26s %llu\n", name, (unsigned long long)v);
	}
	if (run)
		fprintf(f, "%-26s %llu\n%-26s %llu\n%-26s %llu\n%-26s %llu\n", "tun_reads",
			(unsigned long long)run->tun_reads, "tun_reads_empty",
			(unsigned long long)run->tun_reads_empty, "tun_writes",
			(unsigned long long)run->tun_writes, "tun_write_errors",
			(unsigned long long)run->tun_write_errors);
}

static void print_json(FILE *f, struct td_stack *st, const struct td_stack_run *run)
{
	const struct td_stack_stats *s = td_stack_stats(st);
	fprintf(f, "{\"counters\": {");
	for (int i = 0; i < TD_CTR_COUNT; i++)
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", td_stack_ctr_name((enum td_stack_ctr)i),
			(unsigned long long)s->ctr[i]);
	fprintf(f, "}, \"drops\": [");
	bool first = true;
	for (int i = 0; i < TD_CTR_COUNT; i++)
		if (td_stack_ctr_is_drop((enum td_stack_ctr)i)) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ",
				td_stack_ctr_name((enum td_stack_ctr)i));
			first = false;
		}
	fprintf(f, "], \"wire\": {");
	for (int l = 0; l < TD_LAYER_COUNT; l++) {
		fprintf(f, "%s\"%s\": {", l ? ", " : "", td_stack_layer_name((enum td_stack_layer)l));
		for (int e = 1; e < TD_WIRE_ERR_COUNT; e++)
			fprintf(f, "%s\"%s\": %llu", e > 1 ? ", " : "",
				td_wire_strerror((enum td_wire_err)e), (unsigned long long)s->wire[l][e]);
		fprintf(f, "}");
	}
	fprintf(f, "}, \"transport\": {");
	for (size_t i = 0; i < td_stack_extra_count(st); i++) {
		const char *name;
		uint64_t v;
		td_stack_extra_get(st, i, &name, &v);
		fprintf(f, "%s\"%s\": %llu", i ? ", " : "", name, (unsigned long long)v);
	}
	fprintf(f, "}");
	if (run)
		fprintf(f, ", \"tun\": {\"reads\": %llu, \"reads_empty\": %llu, \"writes\": %llu, "
			   "\"write_errors\": %llu, \"wakeups\": %llu, \"vnet_hdr_len\": %u}",
			(unsigned long long)run->tun_reads, (unsigned long long)run->tun_reads_empty,
			(unsigned long long)run->tun_writes, (unsigned long long)run->tun_write_errors,
			(unsigned long long)run->wakeups, run->vnet_hdr_len);
	fprintf(f, "}\n");
}

struct ctx {
	struct opts *o;
	struct td_stack_run *run;
	const char *ifname;
};

static void dump(struct td_stack *st, bool final, void *user)
{
	struct ctx *c = user;
	if (!c->o->stats && !final)
		c->o->stats = true; /* SIGUSR1 always dumps, in text unless --stats=json */
	if (!c->o->stats)
		return;
	FILE *f = stdout;
	char tmp[4096];
	if (c->o->stats_file) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", c->o->stats_file);
		f = fopen(tmp, "we");
		if (!f) {
			fprintf(stderr, "tundra stack: %s: %s\n", tmp, strerror(errno));
			return;
		}
	}
	if (c->o->json)
		print_json(f, st, c->run);
	else
		print_text(f, st, c->run);
	if (c->o->stats_file) {
		if (fclose(f) != 0 || rename(tmp, c->o->stats_file) != 0)
			fprintf(stderr, "tundra stack: %s: %s\n", c->o->stats_file, strerror(errno));
	} else {
		fflush(stdout);
	}
}

static void ready(void *user)
{
	struct ctx *c = user;
	if (c->o->quiet)
		return;
	char k4[INET_ADDRSTRLEN] = "-", k6[INET6_ADDRSTRLEN] = "-", s4[INET_ADDRSTRLEN] = "-",
	     s6[INET6_ADDRSTRLEN] = "-";
	uint32_t a;
	if (c->o->cfg.has_addr4) {
		a = htonl(c->o->link.addr4);
		inet_ntop(AF_INET, &a, k4, sizeof(k4));
		a = htonl(c->o->cfg.addr4);
		inet_ntop(AF_INET, &a, s4, sizeof(s4));
	}
	if (c->o->cfg.has_addr6) {
		inet_ntop(AF_INET6, c->o->link.addr6, k6, sizeof(k6));
		inet_ntop(AF_INET6, c->o->cfg.addr6, s6, sizeof(s6));
	}
	/* stderr: stdout is the command's and the counters' */
	fprintf(stderr, "tundra stack: ready on %s (pid %d): kernel %s %s, stack %s %s, mtu %u\n",
		c->ifname, (int)getpid(), k4, k6, s4, s6, c->o->cfg.mtu);
}

static void ready_all(void *user)
{
	struct ctx *c = user;
	ready(user);
	td_cli_tcp_ready(&c->o->tcp);
}

static const char *remedy(int err)
{
	if (err == -EPERM || err == -EACCES)
		return " (needs CAP_NET_ADMIN: run as root, or use --rootless, which needs "
		       "/dev/net/tun to be mode 0666 and unprivileged user namespaces)";
	return "";
}

enum {
	O_NAME = 256, O_PERSIST, O_ATTACH, O_NETNS, O_NEW_NETNS, O_ROOTLESS, O_MTU, O_TXQLEN, O_K4, O_K6,
	O_A4, O_A6, O_NO4, O_NO6, O_ROUTE, O_PCAP, O_IMPAIR, O_STATS, O_STATS_FILE, O_BUSY,
	O_OFFLOAD,
	O_REASS_TO, O_REASS_SLOTS, O_ICMP_RATE, O_SLOTS, O_QUIET, O_HELP, O_TCP
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"name", 1, 0, O_NAME}, {"persist", 0, 0, O_PERSIST}, {"attach", 0, 0, O_ATTACH},
		{"netns", 1, 0, O_NETNS}, {"new-netns", 0, 0, O_NEW_NETNS},
		{"rootless", 0, 0, O_ROOTLESS}, {"mtu", 1, 0, O_MTU},
		{"txqueuelen", 1, 0, O_TXQLEN}, {"kernel4", 1, 0, O_K4},
		{"kernel6", 1, 0, O_K6}, {"addr4", 1, 0, O_A4}, {"addr6", 1, 0, O_A6},
		{"no-ipv4", 0, 0, O_NO4}, {"no-ipv6", 0, 0, O_NO6}, {"route", 1, 0, O_ROUTE},
		{"pcap", 1, 0, O_PCAP}, {"impair", 1, 0, O_IMPAIR}, {"stats", 2, 0, O_STATS},
		{"stats-file", 1, 0, O_STATS_FILE}, {"busy-poll", 1, 0, O_BUSY},
		{"offload", 1, 0, O_OFFLOAD},
		{"reass-timeout", 1, 0, O_REASS_TO}, {"reass-slots", 1, 0, O_REASS_SLOTS},
		{"icmp-rate", 1, 0, O_ICMP_RATE}, {"slots", 1, 0, O_SLOTS}, {"quiet", 0, 0, O_QUIET},
		{"help", 0, 0, O_HELP},
		{"no-tcp", 0, 0, O_TCP}, {"no-tcp-services", 0, 0, O_TCP}, {"tcp-cc", 1, 0, O_TCP},
		{"tcp-buf", 1, 0, O_TCP}, {"connect", 1, 0, O_TCP}, {"send", 1, 0, O_TCP},
		{"recv", 1, 0, O_TCP},
		{"tcp-max-conns", 1, 0, O_TCP}, {"tcp-mem-max", 1, 0, O_TCP},
		{0, 0, 0, 0}};
	uint8_t fam, pfx, a[16];
	char *end;
	int c;
	optind = 1;
	int li = 0;
	while ((c = td_getopt_long(argc, argv, "+h", lo, &li)) != -1) {
		char *arg = optarg ? optarg : (char *)"";
		switch (c) {
		case O_NAME: o->ifname = arg; break;
		case O_PERSIST: o->persist = true; break;
		case O_ATTACH: o->attach = true; break;
		case O_NETNS: o->netns = arg; break;
		case O_NEW_NETNS: o->new_netns = true; break;
		case O_ROOTLESS: o->rootless = true; break;
		case O_MTU:
			o->cfg.mtu = (uint32_t)strtoul(arg, &end, 10);
			if (*end)
				goto bad;
			break;
		case O_TXQLEN:
			o->link.txqlen = (uint32_t)strtoul(arg, &end, 10);
			if (*end || *arg == '-' || o->link.txqlen < 1 || o->link.txqlen > TXQLEN_MAX) {
				fprintf(stderr, "tundra stack: --txqueuelen must be 1..%u packets\n",
					TXQLEN_MAX);
				return -EINVAL;
			}
			break;
		case O_K4:
			if (parse_prefix(arg, &fam, a, &pfx) || fam != TD_AF_INET)
				goto bad;
			o->link.addr4 = be32(a);
			o->link.prefix4 = pfx;
			o->cfg.prefix4 = pfx;
			break;
		case O_K6:
			if (parse_prefix(arg, &fam, a, &pfx) || fam != TD_AF_INET6)
				goto bad;
			memcpy(o->link.addr6, a, 16);
			o->link.prefix6 = pfx;
			break;
		case O_A4:
			if (parse_prefix(arg, &fam, a, &pfx) || fam != TD_AF_INET)
				goto bad;
			o->cfg.addr4 = be32(a);
			break;
		case O_A6:
			if (parse_prefix(arg, &fam, a, &pfx) || fam != TD_AF_INET6)
				goto bad;
			memcpy(o->cfg.addr6, a, 16);
			break;
		case O_NO4: o->cfg.has_addr4 = false; break;
		case O_NO6: o->cfg.has_addr6 = false; break;
		case O_ROUTE: {
			if (o->nroutes >= MAX_ROUTES)
				goto bad;
			struct route *r = &o->routes[o->nroutes];
			memset(r, 0, sizeof(*r));
			if (!strcmp(arg, "default")) {
				r->family = TD_AF_INET;
			} else if (!strcmp(arg, "default6")) {
				r->family = TD_AF_INET6;
			} else if (parse_prefix(arg, &r->family, r->dst, &r->prefix)) {
				goto bad;
			}
			o->nroutes++;
			break;
		}
		case O_PCAP: o->pcap = arg; break;
		case O_IMPAIR:
			if (parse_impair(arg, &o->cfg))
				goto bad;
			break;
		case O_STATS:
			o->stats = true;
			if (optarg && !strcmp(arg, "json"))
				o->json = true;
			else if (optarg && strcmp(arg, "text") != 0)
				goto bad;
			break;
		case O_STATS_FILE: o->stats_file = arg; break;
		case O_BUSY:
			o->busy_poll_us = (uint32_t)strtoul(arg, &end, 10);
			if (*end || o->busy_poll_us > 1000000)
				goto bad;
			break;
		case O_OFFLOAD:
			/* "tso" was the experimental name of what "on" now does */
			if (!strcmp(arg, "on") || !strcmp(arg, "tso"))
				o->offload = true;
			else if (!strcmp(arg, "off"))
				o->offload = false;
			else
				goto bad;
			break;
		case O_REASS_TO:
			o->cfg.reass_timeout_ns = strtoull(arg, &end, 10) * 1000000000ull;
			if (*end || !o->cfg.reass_timeout_ns)
				goto bad;
			break;
		case O_REASS_SLOTS:
			o->cfg.reass_slots = (uint32_t)strtoul(arg, &end, 10);
			if (*end || o->cfg.reass_slots > 4096)
				goto bad;
			break;
		case O_ICMP_RATE:
			o->cfg.icmp_err_rate = (uint32_t)strtoul(arg, &end, 10);
			if (*end == '/')
				o->cfg.icmp_err_burst = (uint32_t)strtoul(end + 1, &end, 10);
			if (*end)
				goto bad;
			break;
		case O_SLOTS:
			o->cfg.pkt_slots = (uint32_t)strtoul(arg, &end, 10);
			if (*end || o->cfg.pkt_slots > 1u << 20)
				goto bad;
			break;
		case O_QUIET: o->quiet = true; break;
		case 'h':
		case O_HELP: usage(stdout); exit(0);
		case O_TCP:
			if (td_cli_tcp_opt(&o->tcp, lo[li].name, optarg))
				goto bad;
			break;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc)
		o->command = argv + optind;
	if ((o->netns != NULL) + o->new_netns + o->rootless > 1) {
		fprintf(stderr, "tundra stack: --netns, --new-netns and --rootless exclude each other\n");
		return -EINVAL;
	}
	if (o->cfg.mtu < 576 || o->cfg.mtu > 65535) {
		fprintf(stderr, "tundra stack: --mtu must be 576..65535 (RFC 791 §3.1)\n");
		return -EINVAL;
	}
	if (o->cfg.has_addr6 && o->cfg.mtu < 1280) {
		fprintf(stderr, "tundra stack: IPv6 needs an MTU of at least 1280 (RFC 8200 §5); "
				"add --no-ipv6 for a smaller MTU\n");
		return -EINVAL;
	}
	if (!o->cfg.has_addr4 && !o->cfg.has_addr6) {
		fprintf(stderr, "tundra stack: --no-ipv4 and --no-ipv6 leave nothing to run\n");
		return -EINVAL;
	}
	o->link.has4 = o->cfg.has_addr4;
	o->link.has6 = o->cfg.has_addr6;
	o->link.mtu = o->cfg.mtu;
	return 0;
bad:
	fprintf(stderr, "tundra stack: bad value for an option: '%s'\n", optarg ? optarg : "");
	return -EINVAL;
}

int td_cmd_stack(int argc, char **argv)
{
	static const uint8_t fd00_1[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct opts o;
	memset(&o, 0, sizeof(o));
	o.ifname = "tundra0";
	td_stack_config_default(&o.cfg);
	o.link.addr4 = 0x0a000001;
	o.link.prefix4 = 24;
	memcpy(o.link.addr6, fd00_1, 16);
	o.link.prefix6 = 64;
	o.link.txqlen = TXQLEN_DEFAULT;
	if (parse(argc, argv, &o))
		return 2;

	int err = 0;
	if (o.rootless && (err = td_netns_rootless())) {
		fprintf(stderr,
			"tundra stack: --rootless: cannot create a user+network namespace: %s "
			"(unprivileged user namespaces must be enabled: "
			"kernel.unprivileged_userns_clone / user.max_user_namespaces)\n",
			strerror(-err));
		return 1;
	}
	if (o.netns && (err = td_netns_enter(o.netns))) {
		fprintf(stderr, "tundra stack: --netns %s: %s%s\n", o.netns, strerror(-err),
			err == -EPERM ? " (entering a namespace needs CAP_SYS_ADMIN)" : "");
		return 1;
	}
	if (o.new_netns && (err = td_netns_new())) {
		fprintf(stderr, "tundra stack: --new-netns: %s%s\n", strerror(-err),
			err == -EPERM ? " (needs CAP_SYS_ADMIN; without root use --rootless)" : "");
		return 1;
	}
	/* A namespace we made has its loopback down; commands expect it up. */
	char why[256]; /* a step name and the kernel's text (<= 160) */
	if ((o.rootless || o.new_netns) && (err = td_rtnl_link_up("lo", why, sizeof(why))))
		fprintf(stderr, "tundra stack: bringing up lo: %s%s%s%s\n", strerror(-err),
			why[0] ? " (" : "", why, why[0] ? ")" : "");
	struct td_tun tun;
	err = td_tun_open_offload(&tun, o.ifname, o.persist, o.attach, o.offload, why, sizeof(why));
	if (!err && why[0])
		fprintf(stderr, "tundra stack: --offload=on: %s%s\n", why,
			tun.vnet_hdr_len ? "" : "; running without offloads");
	if (err) {
		fprintf(stderr, "tundra stack: cannot open TUN device %s: %s%s\n", o.ifname,
			strerror(-err), remedy(err));
		return 1;
	}
	int rc = 1;
	struct td_stack *st = NULL;
	struct td_pcapfile pcap = {0};
	err = td_rtnl_configure(tun.name, &o.link, why, sizeof(why));
	if (err) {
		fprintf(stderr, "tundra stack: configuring %s through rtnetlink: %s%s%s%s%s\n",
			tun.name, strerror(-err), why[0] ? " (" : "", why, why[0] ? ")" : "",
			remedy(err));
		goto out;
	}
	for (int i = 0; i < o.nroutes; i++) {
		err = td_rtnl_route_add(tun.name, o.routes[i].family, o.routes[i].dst,
					o.routes[i].prefix, why, sizeof(why));
		if (err && err != -EEXIST) {
			fprintf(stderr, "tundra stack: --route: %s%s%s%s\n", strerror(-err),
				why[0] ? " (" : "", why, why[0] ? ")" : "");
			goto out;
		}
	}
	err = td_stack_create(&o.cfg, &st);
	if (err) {
		fprintf(stderr, "tundra stack: invalid configuration: %s (MTU must be 576..65535, "
				"and >= 1280 with IPv6)\n",
			strerror(-err));
		goto out;
	}
	if ((err = td_cli_tcp_start(&o.tcp, st))) {
		fprintf(stderr, "tundra stack: starting TCP: %s\n", strerror(-err));
		goto out;
	}
	if (o.pcap && (err = td_pcapfile_open(&pcap, o.pcap))) {
		fprintf(stderr, "tundra stack: --pcap %s: %s\n", o.pcap, strerror(-err));
		goto out;
	}
	struct td_stack_run run = {.st = st,
				   .tun_fd = tun.fd,
				   .pcap = o.pcap ? &pcap : NULL,
				   .busy_poll_us = o.busy_poll_us,
				   .vnet_hdr_len = tun.vnet_hdr_len,
				   .offloads = tun.offloads,
				   .command = o.command,
				   .on_stats = dump,
				   .on_ready = ready_all};
	struct ctx c = {.o = &o, .run = &run, .ifname = tun.name};
	run.user = &c;
	err = td_stack_run(&run);
	if (err) {
		fprintf(stderr, "tundra stack: event loop: %s\n", strerror(-err));
		goto out;
	}
	rc = o.command ? run.exit_status : 0;
	if (td_cli_tcp_finish(&o.tcp) && !rc)
		rc = 1;
	if (o.command && run.exit_status == 127)
		fprintf(stderr, "tundra stack: could not run %s\n", o.command[0]);
out:
	if (o.pcap && td_pcapfile_close(&pcap))
		fprintf(stderr, "tundra stack: --pcap %s: write error\n", o.pcap);
	td_stack_destroy(st);
	td_tun_close(&tun);
	return rc;
}
