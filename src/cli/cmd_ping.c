/* tundra ping: options, target lists, text/JSON/histogram sinks over the probe engine's statistics. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tundra/os_misc.h"
#include "tundra/pinger.h"
#include "tundra/probe.h"
#include "tundra/wire.h"

/* Entry point (the row in src/cli/main.c declares it too). */
int td_cmd_ping(int argc, char **argv);

#define JSON_SCHEMA "tundra.ping/1"
#define GEN_MAX (1u << 20) /* addresses one -g may generate */
/* An address as printed: fe80::1%<interface name, or its index>. */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

/* Exit codes: iputils for one target, fping for many. */
enum { EX_OK = 0, EX_NOREPLY = 1, EX_ERR = 2, FP_UNREACH = 1, FP_NOTFOUND = 2, FP_ARGS = 3,
       FP_SYS = 4 };

struct tgt {
	char *name; /* as given when not numeric, else NULL */
	struct td_probe_addr addr;
};

struct opts {
	long count;
	double interval, timeout, deadline, spacing;
	bool interval_set, timeout_set, spacing_set;
	long size, ttl, tos, mark, preload, sndbuf, rcvbuf;
	int pmtu;
	const char *iface;
	unsigned iface_idx; /* -I names an interface: its index (0: an address, or none) */
	bool iface_is_addr;  /* -I is a source address, iface_src (else an interface) */
	struct td_probe_addr iface_src;
	bool quiet, stamps, outstanding, flood, adaptive, user_ts, numeric, audible;
	int family; /* 0, 4 or 6 */
	uint8_t pattern[TD_PROBE_PATTERN_MAX];
	int pattern_len;
	enum td_icmp_mode mode;
	bool json, histogram, alive, unreach, extra;
	int tx_stamps; /* --tx-stamps: 1 on, 0 off, -1 auto */
	long threads;  /* --threads: sender loops, 0 = auto (the default) */
};

#define THREADS_MAX 16

/* One loop of several (--threads): its sockets (loop 0 uses run.sp) and
 * its event loop (loop 0's is run.pg, in the main thread) over engine
 * run.eng[k], which owns targets k, k + n, k + 2n ... */
struct xloop {
	struct td_icmp_sock s[2];
	bool open[2];
	struct td_pinger pg;
	pthread_mutex_t lock; /* the engine's: its loop, or SIGQUIT's interim statistics */
	bool up, lock_up;
	int rc;
	struct run *r;
	unsigned k;
};

/* With iputils' end of run (struct run, linger), a probe's own timeout: a
 * reply this late is counted late, not received */
#define LINGER_PROBE_NS 60000000000ULL
/* -W 0: a timeout no run reaches (sums with monotonic instants stay in range) */
#define TIMEOUT_FOREVER_NS (UINT64_MAX / 4)
/* -f draws its line at most this often: 100 times a second, iputils' slowest flood rate */
#define FLOOD_DRAW_NS 10000000ULL
#define FLOOD_MARKS 256

struct run {
	struct opts o;
	struct tgt *t;
	uint32_t n, cap;
	unsigned not_found;
	bool multi;
	uint64_t t0;
	FILE *out;
	const char **gens, **files;
	struct td_icmp_sock *sp[2];
	struct td_pinger pg;
	bool pg_up;
	/* --threads: nthr loops, each with its own sockets and an engine over
	 * every nthr-th target (target i is local i / nthr of engine i % nthr) */
	int nthr;
	struct xloop *x; /* [nthr], allocated only with --threads > 1 (sockets are 32 KiB each) */
	struct td_probe *eng[THREADS_MAX]; /* [k]: loop k's engine ([0] with one loop) */
	pthread_mutex_t print_lock; /* output and run state, with nthr > 1 */
	bool print_lock_up;
	int wakefd;
	uint64_t until;
	int fatal; /* exit status forced by a failure during the run (0 = none) */
	/* -O with one target: which of the last 64 probes got an answer */
	uint64_t o_checked;
	bool o_answered[64];
	/* One target, text output, a count and no deadline: the run ends as
	 * iputils' does (schedule_exit): after the last probe, wait twice the
	 * longest RTT (at least the interval) if anything was answered, else -W;
	 * a reply counts whenever it comes before the end. linger_end is that
	 * end, 0 until the last probe has left. */
	bool linger;
	uint64_t linger_end, linger_w_ns, linger_iv_ns;
	/* iputils' "pipe N": the most probes in flight when a reply or an ICMP error came */
	uint64_t pipe;
	/* -f's line (flood_draw): marks of ended probes not drawn yet, and the
	 * dots of probes in flight on screen after the drawn marks */
	char fl_marks[FLOOD_MARKS];
	unsigned fl_nmarks;
	uint64_t fl_shown, fl_drawn_at;
};

static volatile sig_atomic_t g_stop, g_quit;

/* Target i's engine and its index there (several loops: every nthr-th target). */
static const struct td_probe_stats *tstats(const struct run *r, uint32_t i)
{
	return td_probe_target_stats(r->eng[i % (uint32_t)r->nthr], i / (uint32_t)r->nthr);
}

static uint64_t tpct(const struct run *r, uint32_t i, double q)
{
	return td_probe_percentile(r->eng[i % (uint32_t)r->nthr], i / (uint32_t)r->nthr, q);
}

static const struct td_probe *const *engines(const struct run *r)
{
	return (const struct td_probe *const *)r->eng;
}

static void totals(const struct run *r, struct td_probe_stats *s)
{
	td_probe_totals_many(engines(r), (unsigned)r->nthr, s);
}

static uint64_t pct_all(const struct run *r, double q)
{
	return td_probe_percentile_all_many(engines(r), (unsigned)r->nthr, q);
}

static uint64_t drops(const struct run *r, enum td_probe_drop d)
{
	uint64_t n = 0;
	for (int k = 0; k < r->nthr; k++)
		n += td_probe_drops(r->eng[k], d);
	return n;
}

static void on_signal(int sig)
{
	if (sig == SIGQUIT)
		g_quit = 1;
	else
		g_stop = 1;
}

/* iputils' "write error" (and coreutils' close_stdout): output that could
 * not be written (a full disk, /dev/full, a closed stdout) fails the run
 * instead of passing for a clean one. A reader that went away (EPIPE) is
 * not an error: it ends the run on purpose (on_event). */
static int check_output(int status, bool multi)
{
	int fd = fileno(stdout), err = 0;
	bool bad = fflush(stdout) == EOF;
	if (bad)
		err = errno;
	if (ferror(stdout)) { /* an earlier write failed; its errno is gone */
		bad = true;
		if (!err)
			err = td_os_write_errno(fd);
	}
	if (fclose(stdout) == EOF && !bad) { /* close(2) can report a lost write (NFS) */
		bad = true;
		err = errno;
	}
	if (!bad || err == EPIPE)
		return status;
	if (err)
		fprintf(stderr, "tundra ping: write error: %s\n", strerror(err));
	else
		fputs("tundra ping: write error\n", stderr);
	return multi ? FP_SYS : EX_ERR;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tundra ping [options] TARGET...\n"
		"\n"
		"  TARGET            host name or address (IPv4 and IPv6 may be mixed)\n"
		"  -c COUNT          stop after COUNT probes per target\n"
		"  -i SECONDS        interval between probes of one target (default 1; < 0.002 needs privilege)\n"
		"  -s SIZE           ICMP data bytes (default 56)\n"
		"  -W SECONDS        time to wait for a reply (default 10, or 1 with several targets)\n"
		"  -w SECONDS        deadline: stop after this long\n"
		"  -t TTL            IP time to live / IPv6 hop limit\n"
		"  -Q TOS            IP TOS / IPv6 traffic class (decimal or 0x hex)\n"
		"  -m MARK           SO_MARK\n"
		"  -I IFACE|ADDR     bind to an interface (SO_BINDTODEVICE) or a source address\n"
		"  -S BYTES          socket send buffer;  --rcvbuf BYTES  receive buffer\n"
		"  -l PRELOAD        send PRELOAD probes back to back first\n"
		"  -p HEX            fill pattern, up to 16 bytes (e.g. -p ff00)\n"
		"  -M do|want|dont|probe   path MTU discovery\n"
		"  -f                flood (privileged)\n"
		"  -A                adaptive: next probe on reply (users: >= 2 ms apart)\n"
		"  -q quiet  -D print timestamps  -O report outstanding replies  -n numeric  -a audible\n"
		"  -U                user-space timestamps only (no kernel stamps)\n"
		"  --tx-stamps on|off|auto   kernel TX stamps (auto: off for -f and for --alive/--unreachable)\n"
		"  --threads N|auto  loops (threads) sharing the targets (auto: one per free CPU,\n"
		"                    at most 2, for bursts of 8192+ targets without spacing; else 1)\n"
		"  -4 / -6           IPv4 / IPv6 only\n"
		"  --mode auto|dgram|raw   socket type (default auto: dgram when ping_group_range allows)\n"
		"  --file FILE       read targets from FILE ('-' = stdin), one per line\n"
		"  -g CIDR|FIRST-LAST  generate targets from a prefix or an address range\n"
		"  --spacing MS      minimum gap between probes to different targets (default 1 ms)\n"
		"  --alive / --unreachable   print only the targets that answered / did not\n"
		"  --json            newline-delimited JSON events (schema " JSON_SCHEMA
		", docs/ping-json.md)\n"
		"  --histogram       draw the RTT distribution at the end\n"
		"  --extra           print jitter, percentiles and reordering after the summary\n");
}

/* ---- argument checking: every number has a range and a clear message ----------------------- */

/* Decimal as iputils and fping read it ("010" is ten, not eight), or hex
 * with a 0x prefix (TOS values, marks). */
static bool parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	const char *d = s + (*s == '-' || *s == '+');
	const int base = d[0] == '0' && (d[1] == 'x' || d[1] == 'X') ? 16 : 10;
	long v = strtol(s, &end, base);
	if (end == s || *end) {
		fprintf(stderr, "tundra ping: invalid argument for %s: '%s' (expected an integer)\n",
			opt, s);
		return false;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		fprintf(stderr, "tundra ping: %s %s out of range: must be %ld..%ld\n", opt, s, lo,
			hi);
		return false;
	}
	*out = v;
	return true;
}

/* A bound as people write it: 2147483, 0.000001 (not 2.14748e+06, 1e-06). */
static const char *num_str(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.6f", v);
	char *e = buf + strlen(buf);
	while (e > buf && e[-1] == '0')
		*--e = 0;
	if (e > buf && e[-1] == '.')
		*--e = 0;
	return buf;
}

static bool parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || isnan(v)) {
		fprintf(stderr, "tundra ping: invalid argument for %s: '%s' (expected a number)\n", opt,
			s);
		return false;
	}
	if (v < lo || v > hi) {
		char a[32], b[32];
		fprintf(stderr, "tundra ping: %s %s out of range: must be %s..%s\n", opt, s,
			num_str(a, sizeof(a), lo), num_str(b, sizeof(b), hi));
		return false;
	}
	*out = v;
	return true;
}

static bool parse_pattern(struct opts *o, const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 2 * TD_PROBE_PATTERN_MAX) {
		fprintf(stderr, "tundra ping: -p: pattern must be 1..%d hex bytes\n",
			TD_PROBE_PATTERN_MAX);
		return false;
	}
	o->pattern_len = 0;
	for (size_t i = 0; i < n; i += 2) {
		char b[3] = {s[i], i + 1 < n ? s[i + 1] : 0, 0};
		char *end;
		unsigned long v = strtoul(b, &end, 16);
		if (*end || !isxdigit((unsigned char)b[0])) {
			fprintf(stderr, "tundra ping: -p: '%s' is not a hex pattern\n", s);
			return false;
		}
		o->pattern[o->pattern_len++] = (uint8_t)v;
	}
	return true;
}

/* ---- targets ----------------------------------------------------------------------------- */

/* Room for extra more targets (a range says how many it adds: one
 * allocation instead of a doubling series and its copies). */
static bool tgt_reserve(struct run *r, uint32_t extra)
{
	if (r->cap - r->n >= extra)
		return true;
	if (extra > UINT32_MAX - r->n)
		return false;
	uint32_t nc = r->n + extra;
	struct tgt *t = realloc(r->t, (size_t)nc * sizeof(*t));
	if (!t)
		return false;
	r->t = t;
	r->cap = nc;
	return true;
}

static bool tgt_push(struct run *r, const char *name, const struct td_probe_addr *a)
{
	if (r->n == r->cap && !tgt_reserve(r, r->cap ? r->cap : 64))
		return false;
	r->t[r->n].name = name ? strdup(name) : NULL;
	r->t[r->n].addr = *a;
	/* ping -I eth0 fe80::1 (iputils): the link of -I is the target's
	 * scope; the engine matches replies by address and arrival link. */
	if (!a->scope && td_probe_addr_needs_scope(a))
		r->t[r->n].addr.scope = r->o.iface_idx;
	r->n++;
	return true;
}

static bool parse_numeric(const char *s, struct td_probe_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = TD_PROBE_V4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = TD_PROBE_V6;
		return true;
	}
	return false;
}

/* ADDR%ZONE (RFC 4007 §11): the zone is an interface name or index. 1 with
 * *a filled, 0 when s has no zone, -1 when it is wrong (reported). A name
 * is tried first, as glibc's getaddrinfo (so iputils, fping and our
 * exporter) does: interface names may start with a digit (6in4-wan). */
static int parse_scoped(const char *s, struct td_probe_addr *a)
{
	const char *pct = strchr(s, '%');
	char buf[INET6_ADDRSTRLEN];
	size_t n = pct ? (size_t)(pct - s) : 0;
	if (!pct || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET6, buf, a->a) != 1)
		return 0; /* not an IPv6 literal: getaddrinfo may know it */
	a->family = TD_PROBE_V6;
	const char *z = pct + 1;
	unsigned long idx = *z ? if_nametoindex(z) : 0;
	if (!idx && isdigit((unsigned char)*z)) {
		char *end = NULL;
		errno = 0;
		unsigned long v = strtoul(z, &end, 10);
		if (!*end && !errno && v <= UINT32_MAX)
			idx = v;
	}
	if (!idx) { /* neither a name nor an index (0 names no interface) */
		fprintf(stderr, "tundra ping: %s: no interface '%s'\n", s, z);
		return -1;
	}
	/* the kernel ignores a zone on other addresses: so do we */
	a->scope = td_probe_addr_needs_scope(a) ? (uint32_t)idx : 0;
	return 1;
}

/* Resolve one name; report and go on when it fails (fping semantics). */
static void add_host(struct run *r, const char *s)
{
	struct td_probe_addr a;
	const char *name = NULL;
	/* fe80::1%eth0: each probe names its link in sin6_scope_id (as fping
	 * does), so targets on different links share the one socket. */
	int sc = parse_scoped(s, &a);
	if (sc < 0) {
		r->not_found++;
		return;
	}
	if (sc == 0 && !parse_numeric(s, &a)) {
		struct addrinfo hints = {.ai_socktype = SOCK_RAW}, *res = NULL;
		hints.ai_family = r->o.family == 4	 ? AF_INET
				  : r->o.family == 6 ? AF_INET6
						     : AF_UNSPEC;
		int rc = td_os_getaddrinfo(s, &hints, &res);
		if (rc || !res) {
			fprintf(stderr, "tundra ping: %s: %s\n", s,
				rc ? gai_strerror(rc) : "no address");
			r->not_found++;
			return;
		}
		memset(&a, 0, sizeof(a));
		if (res->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)res->ai_addr;
			a.family = TD_PROBE_V6;
			memcpy(a.a, &s6->sin6_addr, 16);
			/* a name for a scoped address (hosts file, mDNS) keeps its link */
			a.scope = td_probe_addr_needs_scope(&a) ? s6->sin6_scope_id : 0;
		} else {
			a.family = TD_PROBE_V4;
			memcpy(a.a, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
		}
		td_os_freeaddrinfo(res);
		name = s;
	}
	if (r->o.family && r->o.family != a.family) {
		fprintf(stderr, "tundra ping: %s: address family excluded by -%d\n", s, r->o.family);
		r->not_found++;
		return;
	}
	/* -I binds the socket to one device: a target on another link
	 * could not be reached through it (the kernel says EINVAL). */
	if (a.scope && r->o.iface_idx && a.scope != r->o.iface_idx) {
		fprintf(stderr, "tundra ping: %s: interface differs from -I %s\n", s, r->o.iface);
		r->not_found++;
		return;
	}
	tgt_push(r, name, &a);
}

static bool add_file(struct run *r, const char *path)
{
	FILE *f = strcmp(path, "-") != 0 ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "tundra ping: --file %s: cannot open: %s\n", path, strerror(errno));
		return false;
	}
	char line[1024];
	unsigned lineno = 0;
	bool ok = true;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			/* no name is this long: report it and skip to the next line */
			fprintf(stderr, "tundra ping: --file %s: line %u longer than %zu bytes, skipped\n",
				path, lineno, sizeof(line) - 2);
			r->not_found++;
			int c;
			while ((c = getc(f)) != EOF && c != '\n')
				;
			continue;
		}
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		char *e = s + strcspn(s, " \t\r\n#");
		*e = 0;
		if (*s)
			add_host(r, s);
	}
	if (ferror(f)) { /* a directory (EISDIR), an I/O error */
		fprintf(stderr, "tundra ping: --file %s: cannot read: %s\n", path, strerror(errno));
		ok = false;
	}
	if (f != stdin)
		fclose(f);
	return ok;
}

/* 128-bit addresses as two halves, for ranges in either family. */
static void addr_add1(struct td_probe_addr *a)
{
	int len = a->family == TD_PROBE_V6 ? 16 : 4;
	for (int i = len - 1; i >= 0; i--)
		if (++a->a[i])
			break;
}

static int addr_cmp(const struct td_probe_addr *a, const struct td_probe_addr *b)
{
	return memcmp(a->a, b->a, a->family == TD_PROBE_V6 ? 16 : 4);
}

static bool add_range(struct run *r, const char *spec)
{
	char buf[128];
	struct td_probe_addr lo, hi;
	snprintf(buf, sizeof(buf), "%s", spec);
	char *slash = strchr(buf, '/'), *dash = strchr(buf, '-');
	if (slash) {
		*slash = 0;
		long bits;
		if (!parse_numeric(buf, &lo)) {
			fprintf(stderr, "tundra ping: -g %s: not an address prefix\n", spec);
			return false;
		}
		int maxb = lo.family == TD_PROBE_V6 ? 128 : 32;
		if (!parse_long("-g prefix length", slash + 1, 0, maxb, &bits))
			return false;
		if (maxb - bits > 20) {
			fprintf(stderr, "tundra ping: -g %s: more than %u addresses\n", spec, GEN_MAX);
			return false;
		}
		int len = maxb / 8;
		hi = lo;
		for (int i = 0; i < len; i++) {
			int keep = (int)bits - i * 8;
			uint8_t m = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
			lo.a[i] &= m;
			hi.a[i] = (uint8_t)(lo.a[i] | ~m);
		}
		/* Like fping: skip the network and broadcast addresses of an IPv4 subnet. */
		if (lo.family == TD_PROBE_V4 && bits < 31) {
			addr_add1(&lo);
			for (int i = 3; i >= 0; i--)
				if (hi.a[i]--)
					break;
		}
	} else if (dash) {
		*dash = 0;
		if (!parse_numeric(buf, &lo) || !parse_numeric(dash + 1, &hi) ||
		    lo.family != hi.family || addr_cmp(&lo, &hi) > 0) {
			fprintf(stderr, "tundra ping: -g %s: expected FIRST-LAST of one family, "
					"FIRST <= LAST\n", spec);
			return false;
		}
	} else {
		fprintf(stderr, "tundra ping: -g %s: expected a prefix (a.b.c.d/n) or FIRST-LAST\n",
			spec);
		return false;
	}
	if (r->o.family && r->o.family != (lo.family == TD_PROBE_V6 ? 6 : 4)) {
		fprintf(stderr, "tundra ping: -g %s: address family excluded by -%d\n", spec,
			r->o.family);
		r->not_found++;
		return true; /* as for a single address: reported, the others go on */
	}
	/* the range's size when its last 32 bits hold the difference */
	bool same_top = !memcmp(lo.a, hi.a, lo.family == TD_PROBE_V6 ? 12 : 0);
	uint32_t span = td_get_be32(hi.a + (lo.family == TD_PROBE_V6 ? 12 : 0)) -
			td_get_be32(lo.a + (lo.family == TD_PROBE_V6 ? 12 : 0));
	if (same_top && span < GEN_MAX && !tgt_reserve(r, span + 1))
		return false;
	uint32_t count = 0;
	for (struct td_probe_addr a = lo;; addr_add1(&a)) {
		if (++count > GEN_MAX) {
			fprintf(stderr, "tundra ping: -g %s: more than %u addresses\n", spec, GEN_MAX);
			return false;
		}
		if (!tgt_push(r, NULL, &a))
			return false;
		if (!addr_cmp(&a, &hi))
			break;
	}
	return true;
}

/* ---- printing ---------------------------------------------------------------------------- */

/* The interface name of a scope id as RFC 4007 §11 writes zones (its
 * number when it has no name), cached: a reply line costs no ioctl. Called
 * from output code only, which runs in one thread at a time (print_lock). */
static const char *scope_name(uint32_t idx)
{
	static struct {
		uint32_t idx;
		char name[IF_NAMESIZE + 1];
	} cache[8];
	static unsigned next;
	for (unsigned i = 0; i < 8; i++)
		if (cache[i].idx == idx)
			return cache[i].name;
	unsigned i = next++ % 8;
	cache[i].idx = idx;
	if (!if_indextoname(idx, cache[i].name))
		snprintf(cache[i].name, sizeof(cache[i].name), "%u", idx);
	return cache[i].name;
}

static const char *addr_str(const struct td_probe_addr *a, char *buf, size_t len)
{
	if (a->family != TD_PROBE_V6 && len >= INET_ADDRSTRLEN) {
		/* Dotted quad by hand: glibc's inet_ntop formats IPv4 through
		 * sprintf, ~3 % of a 65 000-target --alive sweep's CPU. */
		char *o = buf;
		for (int i = 0; i < 4; i++) {
			unsigned v = a->a[i];
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return buf;
	}
	inet_ntop(a->family == TD_PROBE_V6 ? AF_INET6 : AF_INET, a->a, buf, (socklen_t)len);
	if (a->family == TD_PROBE_V6 && a->scope) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%%%s", scope_name(a->scope));
	}
	return buf;
}

static void ms3(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%llu.%03llu", (unsigned long long)(ns / 1000000),
		 (unsigned long long)(ns / 1000 % 1000));
}

/* RTT as iputils prints it (ping_common.c gather_statistics): whole
 * microseconds, three decimals of a millisecond below 1 ms, fewer and rounded
 * above; below 1 ms the digits are those of the summary's min/avg/max (ms3),
 * so a single reply shows the same value in both lines. */
static void rtt_str(char *buf, size_t len, uint64_t ns)
{
	unsigned long long us = ns / 1000;
	if (us >= 100000 - 50)
		snprintf(buf, len, "%llu", (us + 500) / 1000);
	else if (us >= 10000 - 5)
		snprintf(buf, len, "%llu.%01llu", (us + 50) / 1000, (us + 50) % 1000 / 100);
	else if (us >= 1000)
		snprintf(buf, len, "%llu.%02llu", (us + 5) / 1000, (us + 5) % 1000 / 10);
	else
		snprintf(buf, len, "%llu.%03llu", us / 1000, us % 1000);
}

static void stamp_prefix(struct run *r)
{
	if (!r->o.stamps)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(r->out, "[%lld.%06ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

static const char *err_text(uint8_t family, uint8_t type, uint8_t code)
{
	static const char *const un4[] = {
		"Destination Net Unreachable", "Destination Host Unreachable",
		"Destination Protocol Unreachable", "Destination Port Unreachable",
		"Frag needed and DF set", "Source Route Failed", "Destination Net Unknown",
		"Destination Host Unknown", "Source Host Isolated", "Destination Net Prohibited",
		"Destination Host Prohibited", "Destination Net Unreachable for Type of Service",
		"Destination Host Unreachable for Type of Service", "Packet filtered",
		"Precedence Violation", "Precedence Cutoff"};
	static const char *const un6[] = {"Destination unreachable: No route",
					  "Destination unreachable: Administratively prohibited",
					  "Destination unreachable: Beyond scope of source address",
					  "Destination unreachable: Address unreachable",
					  "Destination unreachable: Port unreachable",
					  "Destination unreachable: Source address failed ingress/egress policy",
					  "Destination unreachable: Reject route to destination"};
	if (family == TD_PROBE_V6) {
		switch (type) {
		case 1: return code < 7 ? un6[code] : "Destination unreachable";
		case 2: return "Packet too big";
		case 3: return code ? "Time exceeded: Fragment reassembly time exceeded"
				    : "Time exceeded: Hop limit";
		case 4: return "Parameter problem";
		default: return "ICMPv6 error";
		}
	}
	switch (type) {
	case 3: return code < 16 ? un4[code] : "Destination Unreachable";
	case 4: return "Source Quench";
	case 5: return "Redirect";
	case 11: return code ? "Frag reassembly time exceeded" : "Time to live exceeded";
	case 12: return "Parameter problem";
	default: return "ICMP error";
	}
}

static void json_addr(FILE *f, const char *key, const struct td_probe_addr *a)
{
	char b[ADDR_STRLEN];
	fprintf(f, ",\"%s\":\"%s\"", key, addr_str(a, b, sizeof(b)));
}

static void json_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":\"", key);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_head(struct run *r, const char *type, uint32_t id)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(r->out, "{\"type\":\"%s\",\"time\":%lld.%06ld", type, (long long)ts.tv_sec,
		ts.tv_nsec / 1000);
	if (id != TD_PROBE_NONE && id < r->n) {
		fprintf(r->out, ",\"target\":%u", id);
		if (r->t[id].name)
			json_str(r->out, "host", r->t[id].name);
		json_addr(r->out, "addr", &r->t[id].addr);
	}
}

static void target_label(struct run *r, uint32_t id, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	addr_str(&r->t[id].addr, a, sizeof(a));
	if (r->t[id].name && !r->o.numeric && strcmp(r->t[id].name, a) != 0)
		snprintf(buf, len, "%s (%s)", r->t[id].name, a);
	else
		snprintf(buf, len, "%s", a);
}

/* ---- the flood line (-f) ----------------------------------------------------------------- */

/*
 * iputils draws it with a write per event: "." when a probe leaves, "\b \b"
 * when its reply comes, "\bE" for an ICMP error, so the line holds a mark for
 * every probe not answered. On a terminal those writes cost more than the
 * pings. The line here is the same, drawn at most every FLOOD_DRAW_NS and only
 * when it changed: the marks of ended probes ('.' for a timeout, 'E' for an
 * ICMP error), which stay, then one '.' per probe in flight, which are
 * rewritten. `fly` is the number of probes in flight now.
 */
static void put_n(FILE *f, int c, uint64_t n)
{
	while (n--)
		putc(c, f);
}

static void flood_draw(struct run *r, uint64_t fly)
{
	uint64_t shown = r->fl_shown, nm = r->fl_nmarks, want = nm + fly, same = 0;
	/* the screen holds `shown` dots after the drawn marks: keep the leading
	 * ones the new line also has there */
	while (same < shown && same < want && (same >= nm || r->fl_marks[same] == '.'))
		same++;
	if (same == shown && same == want)
		goto done;
	put_n(r->out, '\b', shown - same);
	for (uint64_t i = same; i < nm; i++)
		putc(r->fl_marks[i], r->out);
	put_n(r->out, '.', want - (same > nm ? same : nm));
	if (want < shown) { /* erase the rest, as iputils' "\b \b" does */
		put_n(r->out, ' ', shown - want);
		put_n(r->out, '\b', shown - want);
	}
	fflush(r->out);
done:
	r->fl_shown = fly;
	r->fl_nmarks = 0;
}

/* Whether -f draws its line: not with -q, and not into NDJSON or a listing. */
static bool flood_line(const struct run *r)
{
	return r->o.flood && !r->o.quiet && !r->o.json && !r->o.alive && !r->o.unreach;
}

/* From on_wake (the main loop, once per wake-up): redraw when due or `force`. */
static void flood_tick(struct run *r, uint64_t now, bool force)
{
	if (!force && now - r->fl_drawn_at < FLOOD_DRAW_NS)
		return;
	r->fl_drawn_at = now;
	flood_draw(r, td_probe_outstanding(r->eng[0])); /* a flood runs one loop */
}

/* iputils' words for a reply whose data differs from what was sent: the
 * first wrong byte, then the data in hex from offset 16 (iputils skips its
 * struct timeval there; here the authentication block's first 16 bytes),
 * 32 bytes a line, each line headed by the offset of its first byte. A
 * payload without an authentication block (under 24 bytes) is checked
 * from its first byte; a wrong byte below 16, which iputils never looks at,
 * gets the data shown whole. */
static void wrong_data(FILE *out, const struct td_probe_event *ev)
{
	fprintf(out, "\nwrong data byte #%u should be 0x%x but was 0x%x", ev->bad_offset,
		ev->want_byte, ev->bad_byte);
	uint32_t start = ev->bad_offset >= 16 ? 16 : 0;
	for (uint32_t i = start; ev->data && i < ev->data_len; i++) {
		if (i % 32 == start)
			fprintf(out, "\n#%u\t", i);
		fprintf(out, "%x ", ev->data[i]);
	}
}

static void on_event(void *ctx, const struct td_probe_event *ev)
{
	struct run *r = ctx;
	char rtt[32], from[ADDR_STRLEN + 300], a[ADDR_STRLEN];

	if (r->o.json) {
		switch (ev->kind) {
		case TD_PROBE_EV_REPLY:
			json_head(r, "reply", ev->target);
			fprintf(r->out, ",\"seq\":%u,\"bytes\":%u,\"rtt_ms\":%.6f", ev->seq + 1,
				ev->bytes, (double)ev->rtt_ns / 1e6);
			if (ev->ttl >= 0)
				fprintf(r->out, ",\"ttl\":%d", ev->ttl);
			if (ev->tos >= 0)
				fprintf(r->out, ",\"tos\":%d", ev->tos);
			fprintf(r->out,
				",\"kernel_timestamps\":%s,\"dup\":%s,\"out_of_order\":%s,\"late\":%s,"
				"\"corrupted\":%s,\"truncated\":%s,\"authenticated\":%s}\n",
				ev->kernel_stamps ? "true" : "false", ev->dup ? "true" : "false",
				ev->out_of_order ? "true" : "false", ev->late ? "true" : "false",
				ev->corrupted ? "true" : "false", ev->truncated ? "true" : "false",
				ev->unauthenticated ? "false" : "true");
			break;
		case TD_PROBE_EV_TIMEOUT:
			json_head(r, "timeout", ev->target);
			fprintf(r->out, ",\"seq\":%u}\n", ev->seq + 1);
			break;
		case TD_PROBE_EV_ERROR:
			json_head(r, "error", ev->target);
			fprintf(r->out, ",\"seq\":%u", ev->seq + 1);
			json_addr(r->out, "from", &ev->from);
			fprintf(r->out, ",\"icmp_type\":%u,\"icmp_code\":%u,\"kind\":\"%s\",\"info\":%u",
				ev->icmp_type, ev->icmp_code, td_probe_err_kind_name(ev->err_kind),
				ev->info);
			json_str(r->out, "text",
				 err_text(r->t[ev->target].addr.family, ev->icmp_type, ev->icmp_code));
			fputs("}\n", r->out);
			break;
		case TD_PROBE_EV_FORGED:
			json_head(r, "forged", ev->target);
			json_addr(r->out, "from", &ev->from);
			fputs("}\n", r->out);
			break;
		case TD_PROBE_EV_SEND_ERROR:
			json_head(r, "send_error", ev->target);
			fprintf(r->out, ",\"seq\":%u,\"errno\":%d", ev->seq + 1, ev->send_errno);
			if (ev->info)
				fprintf(r->out, ",\"mtu\":%u", ev->info);
			json_str(r->out, "text", strerror(ev->send_errno));
			fputs("}\n", r->out);
			break;
		case TD_PROBE_EV_DONE:
			break;
		}
		if (fflush(r->out) == EOF && errno == EPIPE)
			g_stop = 1; /* the reader is gone */
		return;
	}
	if ((ev->kind == TD_PROBE_EV_REPLY && !ev->dup && !ev->late) || ev->kind == TD_PROBE_EV_ERROR)
		r->o_answered[ev->seq % 64] = true;
	if (((ev->kind == TD_PROBE_EV_REPLY && !ev->dup) || ev->kind == TD_PROBE_EV_ERROR) &&
	    !r->multi) {
		/* iputils' acknowledge(), for replies and ICMP errors: probes sent up
		 * to and including this one's successors when it was answered */
		uint64_t tx = tstats(r, ev->target)->transmitted;
		if (tx > ev->seq && tx - ev->seq > r->pipe)
			r->pipe = tx - ev->seq;
	}
	if (r->o.alive || r->o.unreach)
		return;
	/* -M do's probe too large to leave: iputils reads it from the error
	 * queue as a local error, an E on the flood line like an ICMP error */
	bool local_err = ev->kind == TD_PROBE_EV_SEND_ERROR && ev->send_errno == EMSGSIZE &&
			 ev->info;
	if (r->o.flood && (ev->kind != TD_PROBE_EV_SEND_ERROR || local_err)) {
		/* the flood line: a mark stays for every probe that ended unanswered
		 * (another send error is said in words, as without -f) */
		if (!flood_line(r) || (ev->kind != TD_PROBE_EV_TIMEOUT && ev->kind != TD_PROBE_EV_ERROR &&
				       !local_err))
			return;
		if (r->fl_nmarks == FLOOD_MARKS) /* draw them now, the dots in flight as they were */
			flood_draw(r, r->fl_shown);
		r->fl_marks[r->fl_nmarks++] = ev->kind == TD_PROBE_EV_TIMEOUT ? '.' : 'E';
		return;
	}
	switch (ev->kind) {
	case TD_PROBE_EV_REPLY:
		if (r->o.quiet)
			return;
		stamp_prefix(r);
		if (ev->target < r->n && addr_str(&ev->from, a, sizeof(a)) &&
		    r->t[ev->target].name && !r->o.numeric)
			snprintf(from, sizeof(from), "%s (%s)", r->t[ev->target].name, a);
		else
			snprintf(from, sizeof(from), "%s", addr_str(&ev->from, a, sizeof(a)));
		rtt_str(rtt, sizeof(rtt), ev->rtt_ns);
		fprintf(r->out, "%u bytes from %s: icmp_seq=%u", ev->bytes, from, ev->seq + 1);
		if (ev->ttl >= 0)
			fprintf(r->out, " ttl=%d", ev->ttl);
		fprintf(r->out, " time=%s ms", rtt);
		if (ev->dup)
			fputs(" (DUP!)", r->out);
		if (ev->late)
			fputs(" (LATE)", r->out);
		if (ev->out_of_order)
			fputs(" (out of order)", r->out);
		if (ev->truncated)
			fputs(" (truncated)", r->out);
		else if (ev->corrupted)
			wrong_data(r->out, ev);
		if (r->o.audible)
			fputc('\a', r->out);
		fputc('\n', r->out);
		break;
	case TD_PROBE_EV_TIMEOUT:
		/* One target: -O reported it when the next probe left (on_wake). */
		if (r->o.outstanding && !r->o.quiet && r->multi) {
			stamp_prefix(r);
			if (r->multi)
				fprintf(r->out, "no answer yet from %s for icmp_seq=%u\n",
					addr_str(&r->t[ev->target].addr, a, sizeof(a)), ev->seq + 1);
			else
				fprintf(r->out, "no answer yet for icmp_seq=%u\n", ev->seq + 1);
		}
		break;
	case TD_PROBE_EV_ERROR:
		if (r->o.quiet)
			return;
		stamp_prefix(r);
		fprintf(r->out, "From %s icmp_seq=%u %s", addr_str(&ev->from, a, sizeof(a)),
			ev->seq + 1, err_text(r->t[ev->target].addr.family, ev->icmp_type,
					      ev->icmp_code));
		if (ev->err_kind == TD_PROBE_ERR_TOO_BIG && ev->info)
			fprintf(r->out, " (mtu = %u)", ev->info);
		if (r->multi)
			fprintf(r->out, " (to %s)", addr_str(&r->t[ev->target].addr, a, sizeof(a)));
		fputc('\n', r->out);
		break;
	case TD_PROBE_EV_FORGED:
		if (!r->o.quiet)
			fprintf(r->out, "forged or foreign reply from %s ignored\n",
				addr_str(&ev->from, a, sizeof(a)));
		break;
	case TD_PROBE_EV_SEND_ERROR: {
		const char *hint = "";
		if (ev->send_errno == EACCES)
			hint = " (a broadcast address? tundra pings unicast addresses only)";
		else if (ev->send_errno == EINVAL && td_probe_addr_needs_scope(&r->t[ev->target].addr) &&
			 !r->t[ev->target].addr.scope)
			hint = " (a link-local address needs its interface: ADDRESS%IFACE or -I)";
		if (local_err) {
			/* iputils' words for the MTU the kernel refused the probe
			 * at (its error queue): "mtu=N" for IPv4, "mtu: N" for IPv6;
			 * nothing with -q. Counted in "+N errors" all the same. */
			if (!r->o.quiet) {
				fprintf(stderr, "tundra ping: local error: message too long, mtu%s%u",
					r->t[ev->target].addr.family == TD_PROBE_V6 ? ": " : "=",
					ev->info);
				if (r->multi)
					fprintf(stderr, " (to %s)",
						addr_str(&r->t[ev->target].addr, a, sizeof(a)));
				fputc('\n', stderr);
			}
		} else {
			fprintf(stderr, "tundra ping: sendmsg to %s: %s%s\n",
				addr_str(&r->t[ev->target].addr, a, sizeof(a)),
				strerror(ev->send_errno), hint);
		}
		/* One target whose very first probe cannot leave (no route, not
		 * permitted): iputils stops at once with status 2 ("connect:
		 * Network is unreachable"); so do we, with the statistics. */
		if (!r->multi && ev->seq == 0 && ev->send_errno != EMSGSIZE &&
		    ev->send_errno != ENOBUFS) {
			r->fatal = EX_ERR;
			g_stop = 1;
		}
		break;
	}
	case TD_PROBE_EV_DONE:
		return;
	}
	/* Each line as it happens, into a pipe too (iputils and fping flush
	 * per line): `tundra ping | grep -m1` and `| tee` see it at once, and a
	 * closed pipe ends the run (SIGPIPE, or EPIPE where it is ignored)
	 * instead of filling a buffer. */
	if (fflush(r->out) == EOF && errno == EPIPE)
		g_stop = 1;
}

/* The two iputils summary lines (packets, rtt) for one statistics block.
 * time_ns runs from the start to the last send, as iputils' "time" (its
 * clock stops at the last probe). One target gets iputils' suffixes on the
 * second line, which it always prints, empty when there is nothing to say. */
static void print_summary(struct run *r, const char *label, const struct td_probe_stats *s,
			  uint64_t time_ns)
{
	fprintf(r->out, "\n--- %s ping statistics ---\n", label);
	fprintf(r->out, "%llu packets transmitted, %llu received",
		(unsigned long long)s->transmitted, (unsigned long long)s->received);
	if (s->duplicates)
		fprintf(r->out, ", +%llu duplicates", (unsigned long long)s->duplicates);
	/* No "+N corrupted": iputils counts there replies with a bad ICMP
	 * checksum (which tundra drops as malformed), never wrong data, which
	 * it reports per reply only; the JSON summary counts it. */
	/* iputils' "+N errors" counts ICMP errors and local send errors alike */
	uint64_t errs = s->errors + s->send_errors;
	if (errs)
		fprintf(r->out, ", +%llu errors", (unsigned long long)errs);
	double loss = s->transmitted
			      ? (double)(s->transmitted - s->received) * 100.0 / (double)s->transmitted
			      : 0;
	fprintf(r->out, ", %g%% packet loss, time %llums\n", loss,
		(unsigned long long)((time_ns + 500000) / 1000000));
	const char *sep = "";
	if (s->received) {
		char mn[32], av[32], mx[32], md[32];
		ms3(mn, sizeof(mn), s->rtt_min_ns);
		ms3(av, sizeof(av), s->rtt_sum_ns / s->received);
		ms3(mx, sizeof(mx), s->rtt_max_ns);
		ms3(md, sizeof(md), td_probe_stats_mdev_ns(s));
		fprintf(r->out, "rtt min/avg/max/mdev = %s/%s/%s/%s ms", mn, av, mx, md);
		sep = ", ";
	}
	if (!r->multi && r->pipe > 1) {
		fprintf(r->out, "%spipe %llu", sep, (unsigned long long)r->pipe);
		sep = ", ";
	}
	/* back to back (-i 0), flood or adaptive: the mean gap between probes
	 * and iputils' smoothed RTT */
	bool b2b = (r->o.interval_set && r->o.interval == 0) || r->o.flood || r->o.adaptive;
	if (!r->multi && s->received && b2b && s->transmitted > 1) {
		char ipg[32], ew[32];
		ms3(ipg, sizeof(ipg), time_ns / 1000 / (s->transmitted - 1) * 1000);
		ms3(ew, sizeof(ew), s->rtt_ewma_ns);
		fprintf(r->out, "%sipg/ewma %s/%s ms", sep, ipg, ew);
	}
	fputc('\n', r->out);
}

/* What timed the RTTs, in the words of the JSON start event: kernel TX and RX
 * stamps when a reply used them, else the sockets' kernel RX stamps against
 * the clock read before the send (a flood, --tx-stamps off), else the clock. */
static const char *stamps_used(const struct run *r, const struct td_probe_stats *s)
{
	if (s->kernel_tx_stamps)
		return "kernel_tx_rx";
	for (int f = 0; f < 2; f++)
		if (r->sp[f] && r->sp[f]->ts != TD_TS_CLOCK)
			return "kernel_rx";
	return "clock";
}

static void print_extra(struct run *r, const struct td_probe_stats *s, uint64_t p50,
			uint64_t p90, uint64_t p99)
{
	char j[32], a[32], b[32], c[32];
	ms3(j, sizeof(j), (uint64_t)s->jitter_ns);
	ms3(a, sizeof(a), p50);
	ms3(b, sizeof(b), p90);
	ms3(c, sizeof(c), p99);
	fprintf(r->out,
		"jitter %s ms, p50/p90/p99 = %s/%s/%s ms, out-of-order %llu, late %llu, forged %llu, "
		"timestamps %s\n",
		j, a, b, c, (unsigned long long)s->out_of_order, (unsigned long long)s->late,
		(unsigned long long)s->forged, stamps_used(r, s));
}

static void print_histogram(const struct run *r, FILE *f)
{
	struct td_probe_hist all;
	memset(&all, 0, sizeof(all));
	for (int k = 0; k < r->nthr; k++)
		td_probe_hist_merge(&all, td_probe_all_hist(r->eng[k]));
	const struct td_probe_hist *h = &all;
	if (!h->count)
		return;
	/* Merge the 16 sub-buckets of each octave into 4 rows: readable at a glance. */
	enum { MERGE = 4, ROWS = TD_PROBE_HIST_BUCKETS / MERGE + 2 };
	uint64_t cnt[ROWS] = {0}, lo[ROWS] = {0}, hi[ROWS] = {0};
	unsigned rows = 0;
	for (unsigned i = 0; i < TD_PROBE_HIST_BUCKETS; i++) {
		unsigned row = i == 0 ? 0 : 1 + (i - 1) / MERGE;
		if (row >= ROWS)
			row = ROWS - 1;
		if (!cnt[row] && !lo[row])
			lo[row] = td_probe_hist_bucket_lo(i);
		cnt[row] += h->b[i];
		hi[row] = td_probe_hist_bucket_lo(i + 1);
		if (row + 1 > rows)
			rows = row + 1;
	}
	unsigned first = 0, last = 0;
	uint64_t peak = 0;
	bool any = false;
	for (unsigned i = 0; i < rows; i++) {
		if (!cnt[i])
			continue;
		if (!any)
			first = i;
		any = true;
		last = i;
		if (cnt[i] > peak)
			peak = cnt[i];
	}
	/* Microseconds when everything is under a millisecond (loopback), else ms. */
	bool us = hi[last] <= 1000000;
	fprintf(f, "\nRTT distribution (%llu replies):\n", (unsigned long long)h->count);
	for (unsigned i = first; i <= last; i++) {
		char a[32], b[32];
		if (us) {
			snprintf(a, sizeof(a), "%.2f", (double)lo[i] / 1e3);
			snprintf(b, sizeof(b), "%.2f", (double)hi[i] / 1e3);
		} else {
			ms3(a, sizeof(a), lo[i]);
			ms3(b, sizeof(b), hi[i]);
		}
		int w = peak ? (int)(cnt[i] * 50 / peak) : 0;
		if (cnt[i] && !w)
			w = 1;
		fprintf(f, "%10s - %10s %s |", a, b, us ? "us" : "ms");
		for (int k = 0; k < w; k++)
			fputc('#', f);
		fprintf(f, " %llu\n", (unsigned long long)cnt[i]);
	}
}

static void print_interim(struct run *r)
{
	struct td_probe_stats s;
	/* the other loops' engines are read under their locks (ours is held) */
	for (int k = 1; k < r->nthr; k++)
		pthread_mutex_lock(&r->x[k].lock);
	totals(r, &s);
	for (int k = 1; k < r->nthr; k++)
		pthread_mutex_unlock(&r->x[k].lock);
	char mn[32], av[32], mx[32], ew[32];
	uint64_t loss = s.transmitted ? (s.transmitted - s.received) * 100 / s.transmitted : 0;
	ms3(mn, sizeof(mn), s.rtt_min_ns);
	ms3(av, sizeof(av), s.received ? s.rtt_sum_ns / s.received : 0);
	ms3(mx, sizeof(mx), s.rtt_max_ns);
	ms3(ew, sizeof(ew), s.rtt_ewma_ns); /* iputils' smoothed RTT; several targets: their mean */
	fprintf(stderr, "\r%llu/%llu packets, %llu%% loss", (unsigned long long)s.received,
		(unsigned long long)s.transmitted, (unsigned long long)loss);
	if (s.received)
		fprintf(stderr, ", min/avg/ewma/max = %s/%s/%s/%s ms", mn, av, ew, mx);
	fputc('\n', stderr);
}

/* iputils -O: when a probe leaves and the one before it has no answer yet, say so. */
static void report_outstanding(struct run *r)
{
	uint64_t tx = tstats(r, 0)->transmitted;
	for (; r->o_checked + 1 < tx; r->o_checked++) {
		uint64_t k = r->o_checked;
		if (!r->o_answered[k % 64]) {
			stamp_prefix(r);
			fprintf(r->out, "no answer yet for icmp_seq=%llu\n", (unsigned long long)k + 1);
		}
		r->o_answered[k % 64] = false; /* the slot serves probe k + 64 next */
	}
	fflush(r->out);
}

/* Loop k of several (--threads): the first loop (main thread) runs on_wake
 * and gets the signals. */
static uint64_t g_until;

static void *extra_loop(void *arg)
{
	struct xloop *x = arg;
	x->rc = td_pinger_run(&x->pg, g_until, &g_stop, NULL, NULL, 200000000ULL);
	return NULL;
}

/* An engine's event, with several loops: its local target index made the
 * run's, and output serialised. */
static void on_event_loop(void *ctx, const struct td_probe_event *ev)
{
	struct xloop *x = ctx;
	struct run *r = x->r;
	if (!r->o.json && (r->o.alive || r->o.unreach))
		return; /* a listing prints at the end only (and -O is for one target) */
	struct td_probe_event e = *ev;
	if (e.target != TD_PROBE_NONE)
		e.target = e.target * (uint32_t)r->nthr + x->k;
	pthread_mutex_lock(&r->print_lock);
	on_event(r, &e);
	pthread_mutex_unlock(&r->print_lock);
}

/* iputils' schedule_exit(): once the last probe has left, the end of the run. */
static void set_linger_end(struct run *r)
{
	const struct td_probe_stats *s = tstats(r, 0);
	uint64_t wait = r->linger_w_ns;
	if (s->received) {
		wait = 2 * s->rtt_max_ns;
		if (wait < r->linger_iv_ns)
			wait = r->linger_iv_ns;
	}
	r->linger_end = td_probe_last_send(r->eng[0]) + wait;
}

static bool on_wake(void *ctx, uint64_t now)
{
	struct run *r = ctx;
	if (flood_line(r))
		flood_tick(r, now, false);
	if (r->o.outstanding && !r->multi && !r->o.quiet && !r->o.json)
		report_outstanding(r);
	if (g_quit) {
		g_quit = 0;
		print_interim(r);
	}
	if (r->linger && !r->linger_end && tstats(r, 0)->transmitted >= (uint64_t)r->o.count) {
		set_linger_end(r);
		return false; /* the caller runs on until linger_end */
	}
	return true;
}

/* Gap between probes to different targets (--spacing), in ms: by default 1 ms
 * with several targets, or less when a round of every target would not fit in
 * 90 % of the interval. */
static double spacing_ms(const struct opts *o, double interval, uint32_t n, bool multi)
{
	double spacing = o->spacing_set ? o->spacing : multi ? 1.0 : 0.0;
	if (!o->spacing_set && multi && spacing * 1e-3 * n > 0.9 * interval)
		spacing = 0.9 * interval * 1e3 / n;
	return spacing;
}

/* --threads auto: a second loop pays only where one loop is CPU-bound, i.e. a
 * burst (probes back to back: under 5 us apart, one loop's cost per probe is
 * ~3 us) long enough to amortise the extra sockets and thread, and only on a
 * CPU nobody else is using. Measured on 2 vCPUs, the other one idle: 1.2-1.5x
 * targets/s at 10 000 and 65 000 targets for 40-50 % more CPU, nothing
 * reliable at 1 000 to 4 000; with the other vCPU busy, two loops took the
 * wall time of one.
 * More than 2 loops was not measured, so auto stops at 2. */
#define AUTO_THREADS_MIN_TARGETS 8192
#define AUTO_THREADS_MAX 2

static int auto_threads(uint32_t n, double spacing)
{
	if (n < AUTO_THREADS_MIN_TARGETS || spacing >= 0.005)
		return 1;
	/* Not the run queue of the moment: between back-to-back runs kernel
	 * threads often hold the other CPU for a few ms, and a second loop beside
	 * a busy task costs 3-8 % where one on a free CPU saves 30 %. */
	int c = td_os_usable_cpus();
	return c > AUTO_THREADS_MAX ? AUTO_THREADS_MAX : c;
}

/* ---- permission failure: show the facts and both remedies ------------------------------ */

static void explain_permission(const struct td_icmp_diag *d, enum td_icmp_mode mode)
{
	fprintf(stderr, "tundra ping: cannot open an ICMP socket: %s: %s\n", d->step,
		strerror(d->err));
	if (d->range_known)
		fprintf(stderr, "  net.ipv4.ping_group_range = %u %u\n", d->range_lo, d->range_hi);
	else
		fprintf(stderr, "  net.ipv4.ping_group_range: unreadable\n");
	bool inside = d->range_known && d->gid >= d->range_lo && d->gid <= d->range_hi;
	fprintf(stderr, "  your groups: %u", (unsigned)d->gid);
	for (int i = 0; i < d->ngroups; i++) {
		if (d->groups[i] == d->gid)
			continue;
		fprintf(stderr, " %u", (unsigned)d->groups[i]);
		inside |= d->range_known && d->groups[i] >= d->range_lo && d->groups[i] <= d->range_hi;
	}
	fprintf(stderr, inside ? " (one is inside the range)\n" : " (none inside the range)\n");
	fprintf(stderr, "  CAP_NET_RAW: %s%s\n", d->cap_net_raw ? "yes" : "no",
		d->no_new_privs ? " (no_new_privs is set: file capabilities are ignored)" : "");
	fprintf(stderr, "remedies (either one):\n");
	fprintf(stderr, "  sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"   "
			"(unprivileged ICMP datagram sockets for every group)\n");
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	fprintf(stderr, "  setcap cap_net_raw+ep %s   (raw sockets for this binary)\n",
		n > 0 ? exe : "<binary>");
	if (mode == TD_ICMP_DGRAM)
		fprintf(stderr, "  (--mode dgram was given: only the first remedy applies)\n");
	else if (mode == TD_ICMP_RAW)
		fprintf(stderr, "  (--mode raw was given: only the second remedy applies%s)\n",
			inside ? "; --mode auto would use the datagram socket the range allows" : "");
}

/* ---- main --------------------------------------------------------------------------------- */

enum { OPT_MODE = 256, OPT_FILE, OPT_ALIVE, OPT_UNREACH, OPT_JSON, OPT_HIST, OPT_RCVBUF,
       OPT_SPACING, OPT_EXTRA, OPT_TXSTAMPS, OPT_THREADS };

static const struct option longopts[] = {
	{"mode", required_argument, NULL, OPT_MODE},
	{"file", required_argument, NULL, OPT_FILE},
	{"generate", required_argument, NULL, 'g'},
	{"alive", no_argument, NULL, OPT_ALIVE},
	{"unreachable", no_argument, NULL, OPT_UNREACH},
	{"json", no_argument, NULL, OPT_JSON},
	{"histogram", no_argument, NULL, OPT_HIST},
	{"rcvbuf", required_argument, NULL, OPT_RCVBUF},
	{"spacing", required_argument, NULL, OPT_SPACING},
	{"extra", no_argument, NULL, OPT_EXTRA},
	{"tx-stamps", required_argument, NULL, OPT_TXSTAMPS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* From the start to the last probe sent (any loop's), as iputils' "time". */
static uint64_t send_span(const struct run *r)
{
	uint64_t last = 0;
	for (int k = 0; k < r->nthr; k++) {
		uint64_t t = td_probe_last_send(r->eng[k]);
		if (t > last)
			last = t;
	}
	return last > r->t0 ? last - r->t0 : 0;
}

static int finish(struct run *r, uint64_t elapsed, int status_single, bool deadline_given)
{
	/* Each pass over every target costs a cache miss per target (~6 ms at
	 * 65 000): a multi-target listing makes one pass, which also yields the
	 * exit status, and needs no totals. */
	bool listing = !r->o.json && r->multi && (r->o.alive || r->o.unreach);
	struct td_probe_stats tot;
	memset(&tot, 0, sizeof(tot));
	if (!listing)
		totals(r, &tot);
	uint32_t down = 0;
	int rc;
	if (r->o.json) {
		for (uint32_t i = 0; i < r->n; i++) {
			const struct td_probe_stats *s = tstats(r, i);
			json_head(r, "summary", i);
			double loss = s->transmitted ? (double)(s->transmitted - s->received) * 100.0 /
							       (double)s->transmitted
						     : 0;
			fprintf(r->out,
				",\"transmitted\":%llu,\"received\":%llu,\"duplicates\":%llu,"
				"\"out_of_order\":%llu,\"late\":%llu,\"timeouts\":%llu,\"errors\":%llu,"
				"\"send_errors\":%llu,"
				"\"corrupted\":%llu,\"forged\":%llu,\"loss_pct\":%.4f",
				(unsigned long long)s->transmitted, (unsigned long long)s->received,
				(unsigned long long)s->duplicates, (unsigned long long)s->out_of_order,
				(unsigned long long)s->late, (unsigned long long)s->timeouts,
				(unsigned long long)s->errors, (unsigned long long)s->send_errors,
				(unsigned long long)s->corrupted, (unsigned long long)s->forged, loss);
			fputs(",\"errors_by_kind\":{", r->out);
			for (int k = 0; k < TD_PROBE_ERR_KINDS; k++)
				fprintf(r->out, "%s\"%s\":%llu", k ? "," : "", td_probe_err_kind_name(k),
					(unsigned long long)s->err_kind[k]);
			fputc('}', r->out);
			if (s->received)
				fprintf(r->out,
					",\"rtt_min_ms\":%.6f,\"rtt_avg_ms\":%.6f,\"rtt_max_ms\":%.6f,"
					"\"rtt_mdev_ms\":%.6f,\"jitter_ms\":%.6f,\"p50_ms\":%.6f,"
					"\"p90_ms\":%.6f,\"p99_ms\":%.6f",
					(double)s->rtt_min_ns / 1e6,
					(double)s->rtt_sum_ns / (double)s->received / 1e6,
					(double)s->rtt_max_ns / 1e6,
					(double)td_probe_stats_mdev_ns(s) / 1e6, s->jitter_ns / 1e6,
					(double)tpct(r, i, 50) / 1e6,
					(double)tpct(r, i, 90) / 1e6,
					(double)tpct(r, i, 99) / 1e6);
			fprintf(r->out, ",\"kernel_timestamps\":%s}\n",
				s->kernel_tx_stamps ? "true" : "false");
		}
		json_head(r, "end", TD_PROBE_NONE);
		fprintf(r->out,
			",\"targets\":%u,\"not_found\":%u,\"transmitted\":%llu,\"received\":%llu,"
			"\"elapsed_ms\":%llu",
			r->n, r->not_found, (unsigned long long)tot.transmitted,
			(unsigned long long)tot.received, (unsigned long long)(elapsed / 1000000));
		uint64_t waits = 0, evicted = 0;
		for (int k = 0; k < r->nthr; k++) {
			waits += td_probe_window_waits(r->eng[k]);
			evicted += td_probe_evicted(r->eng[k]);
		}
		fprintf(r->out, ",\"window_waits\":%llu,\"evicted\":%llu", (unsigned long long)waits,
			(unsigned long long)evicted);
		fputs(",\"drops\":{", r->out);
		for (int d = 0; d < TD_PROBE_DROP_COUNT; d++)
			fprintf(r->out, "%s\"%s\":%llu", d ? "," : "", td_probe_drop_name(d),
				(unsigned long long)drops(r, d));
		fputs("}}\n", r->out);
	} else if (r->o.alive || r->o.unreach) {
		for (uint32_t i = 0; i < r->n; i++) {
			bool up = tstats(r, i)->received > 0;
			down += !up;
			char a[ADDR_STRLEN];
			if (up == r->o.alive) {
				fputs(r->t[i].name ? r->t[i].name
						   : addr_str(&r->t[i].addr, a, sizeof(a)),
				      r->out);
				fputc('\n', r->out);
			}
		}
	} else if (!r->multi) {
		char label[300];
		target_label(r, 0, label, sizeof(label));
		print_summary(r, r->t[0].name ? r->t[0].name : label, &tot, send_span(r));
		if (r->o.extra || isatty(fileno(r->out)))
			print_extra(r, &tot, tpct(r, 0, 50), tpct(r, 0, 90), tpct(r, 0, 99));
	} else {
		/* fping's per-target summary lines, names padded to one column as
		 * fping pads them, then the totals in iputils' form. */
		fputc('\n', r->out);
		int width = 0;
		for (uint32_t i = 0; i < r->n; i++) {
			char a[ADDR_STRLEN];
			size_t l = strlen(r->t[i].name ? r->t[i].name
						       : addr_str(&r->t[i].addr, a, sizeof(a)));
			if (l > (size_t)width)
				width = l > 255 ? 255 : (int)l;
		}
		for (uint32_t i = 0; i < r->n; i++) {
			const struct td_probe_stats *s = tstats(r, i);
			char a[ADDR_STRLEN];
			const char *nm = r->t[i].name ? r->t[i].name : addr_str(&r->t[i].addr, a, sizeof(a));
			uint64_t loss = s->transmitted
						? (s->transmitted - s->received) * 100 / s->transmitted
						: 0;
			fprintf(r->out, "%-*s : xmt/rcv/%%loss = %llu/%llu/%llu%%", width, nm,
				(unsigned long long)s->transmitted, (unsigned long long)s->received,
				(unsigned long long)loss);
			if (s->received) {
				char mn[32], av[32], mx[32];
				ms3(mn, sizeof(mn), s->rtt_min_ns);
				ms3(av, sizeof(av), s->rtt_sum_ns / s->received);
				ms3(mx, sizeof(mx), s->rtt_max_ns);
				fprintf(r->out, ", min/avg/max = %s/%s/%s", mn, av, mx);
			}
			uint64_t errs = s->errors + s->send_errors;
			if (errs)
				fprintf(r->out, ", errors %llu", (unsigned long long)errs);
			fputc('\n', r->out);
		}
		char label[64];
		snprintf(label, sizeof(label), "%u target%s", r->n, r->n == 1 ? "" : "s");
		print_summary(r, label, &tot, send_span(r));
		if (r->o.extra || isatty(fileno(r->out)))
			print_extra(r, &tot, pct_all(r, 50), pct_all(r, 90), pct_all(r, 99));
	}
	if (r->o.histogram) /* not into what scripts parse: NDJSON or a listing */
		print_histogram(r, r->o.json || r->o.alive || r->o.unreach ? stderr : r->out);
	fflush(r->out);

	if (!r->multi) {
		if (r->not_found)
			return EX_ERR;
		rc = tot.received && (!deadline_given || !r->o.count ||
				      tot.received >= (uint64_t)r->o.count)
			     ? EX_OK
			     : EX_NOREPLY;
		return status_single ? status_single : rc;
	}
	if (r->not_found)
		return FP_NOTFOUND;
	if (listing)
		return down ? FP_UNREACH : EX_OK;
	for (uint32_t i = 0; i < r->n; i++)
		if (!tstats(r, i)->received)
			return FP_UNREACH;
	return EX_OK;
}

/* iputils' header with -I: "from SOURCE DEVICE: ", the source being -I's
 * address or the one the kernel picks for dst through -I's interface (no
 * device named for an address); empty without -I or when it cannot say. */
static void from_source(const struct opts *o, const struct td_probe_addr *dst, char *buf,
			size_t len)
{
	struct td_probe_addr src;
	char a[ADDR_STRLEN];
	buf[0] = 0;
	if (!o->iface)
		return;
	if (o->iface_is_addr)
		src = o->iface_src;
	else if (td_icmp_route_source(dst, o->iface, &src))
		return;
	snprintf(buf, len, "from %s %s: ", addr_str(&src, a, sizeof(a)),
		 o->iface_is_addr ? "" : o->iface);
}

static int ping_main(struct run *rp, int argc, char **argv)
{
	struct opts *o = &rp->o;
	o->tos = o->ttl = o->mark = -1;
	o->size = 56;
	o->preload = 1;
	o->pmtu = -1;
	o->tx_stamps = -1;
	rp->out = stdout;
	const char **gens = rp->gens = calloc((size_t)argc + 1, sizeof(char *));
	const char **files = rp->files = calloc((size_t)argc + 1, sizeof(char *));
	int ngen = 0, nfile = 0, c;
	bool privileged = geteuid() == 0 || td_os_have_cap_net_raw();

	if (!gens || !files)
		return EX_ERR;
	static char prog[] = "tundra ping"; /* getopt's own messages name the command */
	if (argc > 0)
		argv[0] = prog;
	optind = 1;
	while ((c = td_getopt_long(argc, argv, "c:i:s:W:w:t:Q:m:I:S:l:p:M:qDOfAUna46g:hV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!parse_long("-c", optarg, 1, LONG_MAX / 2, &o->count))
				return EX_ERR;
			break;
		case 'i':
			if (!parse_double("-i", optarg, 0, 2147483, &o->interval))
				return EX_ERR;
			o->interval_set = true;
			break;
		case 's':
			if (!parse_long("-s", optarg, 0, TD_PROBE_PAYLOAD_MAX, &o->size))
				return EX_ERR;
			break;
		case 'W':
			if (!parse_double("-W", optarg, 0, 2147483, &o->timeout))
				return EX_ERR;
			o->timeout_set = true;
			break;
		case 'w':
			if (!parse_double("-w", optarg, 0, 2147483, &o->deadline))
				return EX_ERR;
			break;
		case 't':
			if (!parse_long("-t", optarg, 1, 255, &o->ttl))
				return EX_ERR;
			break;
		case 'Q':
			if (!parse_long("-Q", optarg, 0, 255, &o->tos))
				return EX_ERR;
			break;
		case 'm':
			if (!parse_long("-m", optarg, 0, UINT32_MAX, &o->mark))
				return EX_ERR;
			break;
		case 'I':
			o->iface = optarg;
			break;
		case 'S':
			if (!parse_long("-S", optarg, 1, INT_MAX / 2, &o->sndbuf))
				return EX_ERR;
			break;
		case OPT_RCVBUF:
			if (!parse_long("--rcvbuf", optarg, 1, INT_MAX / 2, &o->rcvbuf))
				return EX_ERR;
			break;
		case 'l':
			if (!parse_long("-l", optarg, 1, 65536, &o->preload))
				return EX_ERR;
			break;
		case 'p':
			if (!parse_pattern(o, optarg))
				return EX_ERR;
			break;
		case 'M':
			if (!strcmp(optarg, "do"))
				o->pmtu = IP_PMTUDISC_DO;
			else if (!strcmp(optarg, "want"))
				o->pmtu = IP_PMTUDISC_WANT;
			else if (!strcmp(optarg, "dont"))
				o->pmtu = IP_PMTUDISC_DONT;
			else if (!strcmp(optarg, "probe"))
				o->pmtu = IP_PMTUDISC_PROBE;
			else {
				fprintf(stderr, "tundra ping: -M: expected do, want, dont or probe\n");
				return EX_ERR;
			}
			break;
		case 'q': o->quiet = true; break;
		case 'D': o->stamps = true; break;
		case 'O': o->outstanding = true; break;
		case 'f': o->flood = true; break;
		case 'A': o->adaptive = true; break;
		case 'U': o->user_ts = true; break;
		case 'n': o->numeric = true; break;
		case 'a': o->audible = true; break;
		case '4':
		case '6':
			if (o->family && o->family != c - '0') {
				fprintf(stderr, "tundra ping: -4 and -6 exclude each other\n");
				return EX_ERR;
			}
			o->family = c - '0';
			break;
		case 'g': gens[ngen++] = optarg; break;
		case OPT_FILE: files[nfile++] = optarg; break;
		case OPT_MODE:
			if (!strcmp(optarg, "auto"))
				o->mode = TD_ICMP_AUTO;
			else if (!strcmp(optarg, "dgram"))
				o->mode = TD_ICMP_DGRAM;
			else if (!strcmp(optarg, "raw"))
				o->mode = TD_ICMP_RAW;
			else {
				fprintf(stderr, "tundra ping: --mode: expected auto, dgram or raw\n");
				return EX_ERR;
			}
			break;
		case OPT_ALIVE: o->alive = true; break;
		case OPT_UNREACH: o->unreach = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_HIST: o->histogram = true; break;
		case OPT_EXTRA: o->extra = true; break;
		case OPT_THREADS:
			if (!strcmp(optarg, "auto"))
				o->threads = 0;
			else if (!parse_long("--threads", optarg, 1, THREADS_MAX, &o->threads))
				return EX_ERR;
			break;
		case OPT_TXSTAMPS:
			if (!strcmp(optarg, "on"))
				o->tx_stamps = 1;
			else if (!strcmp(optarg, "off"))
				o->tx_stamps = 0;
			else if (!strcmp(optarg, "auto"))
				o->tx_stamps = -1;
			else {
				fprintf(stderr, "tundra ping: --tx-stamps: expected on, off or auto\n");
				return EX_ERR;
			}
			break;
		case OPT_SPACING:
			if (!parse_double("--spacing", optarg, 0, 60000, &o->spacing))
				return EX_ERR;
			o->spacing_set = true;
			break;
		case 'V':
			printf("tundra ping %s\n", TD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_ERR;
		}
	}

	if (o->alive && o->unreach) {
		fprintf(stderr, "tundra ping: --alive and --unreachable exclude each other\n");
		return EX_ERR;
	}
	/* iputils' limits for unprivileged users. */
	if (o->flood && !privileged) {
		fprintf(stderr, "tundra ping: cannot flood; minimal interval allowed for user is 2ms "
				"(flood needs CAP_NET_RAW or root)\n");
		return EX_ERR;
	}
	if (o->interval_set && o->interval < 0.002 && !privileged) {
		fprintf(stderr, "tundra ping: cannot flood; minimal interval allowed for user is 2ms\n");
		return EX_ERR;
	}
	if (o->preload > 3 && !privileged) {
		fprintf(stderr, "tundra ping: -l %ld: maximum preload for user is 3\n", o->preload);
		return EX_ERR;
	}
	if (o->flood && o->adaptive) {
		fprintf(stderr, "tundra ping: -f and -A are mutually exclusive\n");
		return EX_ERR;
	}

	if (o->iface) {
		struct td_probe_addr src;
		int sc = parse_scoped(o->iface, &src);
		if (sc < 0)
			return EX_ERR;
		o->iface_is_addr = sc > 0 || parse_numeric(o->iface, &src);
		if (o->iface_is_addr)
			o->iface_src = src;
		if (sc > 0) /* -I fe80::2%eth0: binding that source binds its link too */
			o->iface_idx = src.scope;
		else if (!o->iface_is_addr)
			o->iface_idx = if_nametoindex(o->iface); /* 0: SO_BINDTODEVICE will say */
	}
	for (int i = optind; i < argc; i++)
		add_host(rp, argv[i]);
	for (int i = 0; i < nfile; i++)
		if (!add_file(rp, files[i]))
			return FP_SYS; /* fping: a file it cannot read is a system call failure */
	for (int i = 0; i < ngen; i++)
		if (!add_range(rp, gens[i]))
			return EX_ERR;
	rp->multi = rp->n + rp->not_found > 1;
	if (!rp->n) {
		if (!rp->not_found && nfile) {
			/* fping -f of a file that names no target: status 1
			 * and not a word (its main(): no hosts, none unresolved) */
			return FP_UNREACH;
		}
		if (!rp->not_found && ngen) {
			fprintf(stderr, "tundra ping: no targets: the -g ranges name none\n");
			return EX_ERR;
		}
		if (!rp->not_found) {
			usage(stderr);
			return EX_ERR;
		}
		return rp->multi ? FP_NOTFOUND : EX_ERR;
	}

	/* Sockets first (they may need CAP_NET_RAW), then drop every capability. */
	struct td_icmp_opts so;
	td_icmp_opts_default(&so);
	so.mode = o->mode;
	so.ttl = (int)o->ttl;
	so.tos = (int)o->tos;
	so.has_mark = o->mark >= 0;
	so.mark = (uint32_t)o->mark;
	so.mark_optional = true; /* iputils warns and pings unmarked without CAP_NET_ADMIN */
	so.sndbuf = (int)o->sndbuf;
	so.pmtudisc = o->pmtu;
	/* Kernel TX stamps cost an skb clone and an error-queue message per
	 * probe. auto: on, except for floods (throughput first, RTTs as iputils
	 * measures them) and --alive/--unreachable without --json (no RTT is
	 * printed). Off: RTT = kernel RX stamp - clock before sendmmsg. */
	bool list_only = (o->alive || o->unreach) && !o->json;
	so.rx_stamps_only = o->tx_stamps == 0 || (o->tx_stamps < 0 && (o->flood || list_only));
	/* A listing shows no RTT at all, so with --tx-stamps auto it takes no
	 * kernel RX stamps either (as -U): each one is a clock read per packet
	 * in the kernel (the request's and the reply's) and a control message
	 * per reply; 3-4 % of a 65 000-target sweep's CPU. */
	so.user_timestamps = o->user_ts || (o->tx_stamps < 0 && list_only);
	so.atomic_small = true;
	so.probe_size = (int)o->size + 8;
	so.rcvbuf = o->rcvbuf ? (int)o->rcvbuf
			      : (rp->n > 64 ? (int)(rp->n > 8192 ? 8 << 20 : rp->n * 1024) : 0);
	if (o->iface_is_addr)
		so.src = o->iface_src;
	else if (o->iface)
		so.ifname = o->iface;
	bool need[2] = {false, false};
	for (uint32_t i = 0; i < rp->n; i++)
		need[rp->t[i].addr.family == TD_PROBE_V6] = true;
	if (need[0] && o->size > TD_PROBE_PAYLOAD_MAX_V4) {
		/* iputils takes the option and fails every send; say it once */
		fprintf(stderr,
			"tundra ping: -s %ld: an IPv4 packet holds at most %d data bytes "
			"(IPv6: %d)\n",
			o->size, TD_PROBE_PAYLOAD_MAX_V4, TD_PROBE_PAYLOAD_MAX);
		return rp->multi ? FP_ARGS : EX_ERR;
	}
	static struct td_icmp_sock socks[2];
	struct td_icmp_sock **sp = rp->sp;
	for (int f = 0; f < 2; f++) {
		if (!need[f])
			continue;
		struct td_icmp_diag d;
		int rc = td_icmp_open(&socks[f], f ? TD_PROBE_V6 : TD_PROBE_V4, &so, &d);
		if (rc == -EACCES || rc == -EPERM) {
			if (d.step && (!strncmp(d.step, "socket", 6))) {
				explain_permission(&d, o->mode);
				return EX_ERR; /* the permission failure's status, however many targets */
			}
		}
		if (rc) {
			fprintf(stderr, "tundra ping: IPv%d socket: %s: %s\n", f ? 6 : 4,
				d.step ? d.step : "open", strerror(-rc));
			return rp->multi ? FP_SYS : EX_ERR;
		}
		sp[f] = &socks[f];
		if (socks[f].mark_err) /* once per family: the --threads sockets below say nothing */
			fprintf(stderr, "tundra ping: WARNING: failed to set mark: %ld: %s\n", o->mark,
				strerror(socks[f].mark_err));
	}
	/* --threads: every loop gets its own sockets and its own engine over
	 * every nthr-th target, so loops share nothing but the output lock.
	 * The engines draw raw-socket identifiers that name their loop
	 * (ident % nthr), and a socket filter queues each reply and error on
	 * its loop's socket (td_icmp_split); datagram sockets are
	 * demultiplexed by the kernel. A loop's replies are then generated in
	 * its own send call, on its own CPU: the kernel's loopback round trips
	 * run in parallel. */
	double interval = o->interval_set ? o->interval : 1.0;
	if (o->flood && !o->interval_set)
		interval = 0.01;
	double spacing = spacing_ms(o, interval, rp->n, rp->multi);
	int nthr = o->threads ? (int)o->threads : auto_threads(rp->n, spacing);
	if (!rp->multi || o->flood || o->adaptive)
		nthr = 1;
	if (rp->n && (uint32_t)nthr > rp->n)
		nthr = (int)rp->n; /* every engine needs a target */
	bool auto_thr = !o->threads;
	if (nthr > 1 && !(rp->x = calloc((size_t)nthr, sizeof(*rp->x)))) {
		if (!auto_thr) {
			fprintf(stderr, "tundra ping: --threads: out of memory\n");
			return FP_SYS;
		}
		nthr = 1; /* auto: one loop does the job, only slower */
	}
	rp->nthr = nthr;
	for (int t = 1; t < rp->nthr; t++)
		for (int f = 0; f < 2; f++) {
			if (!need[f])
				continue;
			struct td_icmp_diag d;
			struct td_icmp_opts xo = so;
			xo.mode = sp[f]->kind == TD_PROBE_SOCK_RAW ? TD_ICMP_RAW : TD_ICMP_DGRAM;
			int rc = td_icmp_open(&rp->x[t].s[f], f ? TD_PROBE_V6 : TD_PROBE_V4, &xo, &d);
			if (!rc)
				rp->x[t].open[f] = true;
			if (rc && auto_thr) {
				/* auto: run the loops whose sockets opened (e.g. out of
				 * descriptors); this one's go now, cleanup stops before it */
				for (int g = 0; g < 2; g++)
					if (rp->x[t].open[g])
						td_icmp_close(&rp->x[t].s[g]);
				rp->x[t].open[0] = rp->x[t].open[1] = false;
				rp->nthr = t;
				break;
			}
			if (rc) {
				fprintf(stderr, "tundra ping: --threads: IPv%d socket: %s\n", f ? 6 : 4,
					strerror(-rc));
				return rp->multi ? FP_SYS : EX_ERR;
			}
		}
	if (rp->nthr > 1) {
		rp->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (rp->wakefd < 0 && !auto_thr) {
			fprintf(stderr, "tundra ping: eventfd: %s\n", strerror(errno));
			return FP_SYS;
		}
		if (rp->wakefd < 0) { /* auto: one loop then */
			for (int t = 1; t < rp->nthr; t++)
				for (int f = 0; f < 2; f++)
					if (rp->x[t].open[f]) {
						td_icmp_close(&rp->x[t].s[f]);
						rp->x[t].open[f] = false;
					}
			rp->nthr = 1;
		}
	}
	/* The number of loops is final: each raw socket keeps its loop's share. */
	for (int t = 0; rp->nthr > 1 && t < rp->nthr; t++)
		for (int f = 0; f < 2; f++) {
			struct td_icmp_sock *s = t ? (rp->x[t].open[f] ? &rp->x[t].s[f] : NULL) : sp[f];
			int rc = s ? td_icmp_split(s, (unsigned)t, (unsigned)rp->nthr) : 0;
			if (rc) {
				fprintf(stderr, "tundra ping: --threads: socket filter: %s\n",
					strerror(-rc));
				return rp->multi ? FP_SYS : EX_ERR;
			}
		}
	if (td_os_drop_caps() && privileged && geteuid() != 0) {
		fprintf(stderr, "tundra ping: could not drop capabilities\n");
		return rp->multi ? FP_SYS : EX_ERR;
	}

	struct td_probe_config pc;
	td_probe_config_default(&pc);
	uint32_t nl = (uint32_t)(rp->nthr > 0 ? rp->nthr : 1);
	pc.max_targets = (rp->n + nl - 1) / nl;
	pc.count = (uint32_t)(o->count > UINT32_MAX ? UINT32_MAX : o->count);
	/* -c with -w: probe until count answers or the deadline (iputils ping(8) -w) */
	pc.count_replies = o->count > 0 && o->deadline > 0;
	/* ...and, like iputils with -w, stop at the first ICMP error (one target) */
	pc.stop_on_error = o->deadline > 0 && !rp->multi;
	pc.interval_ns = (uint64_t)(interval * 1e9);
	bool b2b_one = !pc.interval_ns && !o->flood && !o->adaptive && !rp->multi;
	if (!pc.interval_ns && !o->flood && rp->multi)
		pc.interval_ns = 1; /* -i 0 as root, several targets: back to back */
	double timeout = o->timeout_set ? o->timeout : rp->multi ? 1.0 : 10.0;
	/* iputils keeps -W in whole milliseconds and 0 is no timeout (ping(8):
	 * "0 means infinite timeout"): under 1 ms a reply is waited for until
	 * the run ends otherwise (-w, a signal). */
	pc.timeout_ns = timeout < 0.001 ? TIMEOUT_FOREVER_NS : (uint64_t)(timeout * 1e9);
	rp->linger = !rp->multi && !o->json && o->count > 0 && o->deadline <= 0;
	if (rp->linger) {
		/* -W is the wait after the last probe, not each probe's timeout
		 * (see struct run). A probe still ends some time, so that a lost
		 * one does not hold its slot forever: within half the most slots
		 * a target has, so that sends at the interval never wait for a
		 * slot. A flood or an adaptive run has iputils' interval 0 here
		 * (it sends on replies; its slots are reused, not waited for). */
		rp->linger_w_ns = pc.timeout_ns;
		rp->linger_iv_ns = o->flood || o->adaptive ? 0 : pc.interval_ns;
		uint64_t t = LINGER_PROBE_NS;
		if (pc.interval_ns && pc.interval_ns < t / (TD_PROBE_WINDOW_MAX / 2))
			t = pc.interval_ns * (TD_PROBE_WINDOW_MAX / 2);
		if (pc.timeout_ns < t)
			pc.timeout_ns = t;
	}
	/* --spacing is the gap between any two probes: each of n loops keeps n times it */
	pc.spacing_ns = (uint64_t)(spacing * 1e6) * nl;
	pc.spacing_burst_ns = rp->multi ? 1000000ULL : 0;
	pc.preload = (uint32_t)o->preload;
	if (o->flood || o->adaptive) {
		pc.send_on_reply = true;
		/* iputils' MINUSERINTERVAL: 2 ms between an unprivileged user's
		 * adaptive probes (its man page's 200 ms is not what it does) */
		pc.min_gap_ns = o->adaptive && !privileged ? 2000000ULL : 0;
		if (o->flood)
			pc.interval_ns = o->interval_set && o->interval > 0 ? pc.interval_ns : 10000000ULL;
	}
	if (b2b_one) {
		/* -i 0 with one target, as iputils: the next probe when the reply
		 * comes, else 10 ms after the last (a flood without its line) */
		pc.send_on_reply = true;
		pc.interval_ns = 10000000ULL;
	}
	pc.payload_len = (uint32_t)o->size;
	memcpy(pc.pattern, o->pattern, sizeof(pc.pattern));
	pc.pattern_len = (uint8_t)o->pattern_len;
	if (td_os_random(pc.key, sizeof(pc.key))) {
		fprintf(stderr, "tundra ping: getrandom: %s\n", strerror(errno));
		return rp->multi ? FP_SYS : EX_ERR;
	}
	pc.sock[0] = sp[0] ? sp[0]->kind : TD_PROBE_SOCK_DGRAM;
	pc.sock[1] = sp[1] ? sp[1]->kind : TD_PROBE_SOCK_DGRAM;
	/* Histograms per target only where there will be more than a handful of replies. */
	pc.hist_all = !pc.count || pc.count > TD_PROBE_EXACT;
	pc.hist_pool = 0;
	pc.on_event = on_event;
	pc.ctx = rp;
	int rc = 0;
	if (nl > 1) {
		pthread_mutex_init(&rp->print_lock, NULL);
		rp->print_lock_up = true;
	}
	for (uint32_t k = 0; k < nl && !rc; k++) {
		if (nl > 1) {
			struct xloop *x = &rp->x[k];
			x->r = rp;
			x->k = k;
			pc.on_event = on_event_loop;
			pc.ctx = x;
			pc.ident_mod = (uint16_t)nl;
			pc.ident_rem = (uint16_t)k;
			if (k && td_os_random(pc.key, sizeof(pc.key))) { /* a key per engine */
				fprintf(stderr, "tundra ping: getrandom: %s\n", strerror(errno));
				return FP_SYS;
			}
		}
		rc = td_probe_new(&rp->eng[k], &pc);
	}
	if (rc) {
		fprintf(stderr, "tundra ping: engine: %s\n", strerror(-rc));
		return rp->multi ? FP_SYS : EX_ERR;
	}
	for (uint32_t i = 0; i < rp->n; i++) {
		/* The CLI checked families and sizes already: a refusal here is a bug to report, not to skip. */
		rc = td_probe_add(rp->eng[i % nl], &rp->t[i].addr, NULL);
		if (rc) {
			char a[ADDR_STRLEN];
			fprintf(stderr, "tundra ping: %s: engine refused the target: %s\n",
				addr_str(&rp->t[i].addr, a, sizeof(a)), strerror(-rc));
			return rp->multi ? FP_SYS : EX_ERR;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	if (o->json) {
		json_head(rp, "start", TD_PROBE_NONE);
		fprintf(rp->out, ",\"schema\":\"%s\",\"targets\":%u,\"payload_bytes\":%ld,\"loops\":%u",
			JSON_SCHEMA, rp->n, o->size, nl);
		for (int f = 0; f < 2; f++)
			if (sp[f])
				fprintf(rp->out, ",\"socket_v%d\":\"%s\",\"timestamps_v%d\":\"%s\"",
					f ? 6 : 4, td_icmp_sock_name(sp[f]), f ? 6 : 4,
					sp[f]->ts == TD_TS_TIMESTAMPING ? "kernel_tx_rx"
					: sp[f]->ts == TD_TS_RX_NS      ? "kernel_rx"
									: "clock");
		fputs("}\n", rp->out);
	} else if (!o->alive && !o->unreach) {
		if (o->pattern_len && !o->quiet) { /* iputils: the -p bytes, before its PING line */
			fputs("PATTERN: 0x", rp->out);
			for (int i = 0; i < o->pattern_len; i++)
				fprintf(rp->out, "%02x", o->pattern[i]);
			putc('\n', rp->out);
		}
		if (!rp->multi) {
			char a[ADDR_STRLEN], from[ADDR_STRLEN + IF_NAMESIZE + 16];
			addr_str(&rp->t[0].addr, a, sizeof(a));
			from_source(o, &rp->t[0].addr, from, sizeof(from));
			size_t ip = rp->t[0].addr.family == TD_PROBE_V6 ? 40 : 20;
			if (rp->t[0].addr.family == TD_PROBE_V6)
				fprintf(rp->out, "PING %s(%s) %s%ld data bytes\n",
					rp->t[0].name ? rp->t[0].name : a, a, from, o->size);
			else
				fprintf(rp->out, "PING %s (%s) %s%ld(%zu) bytes of data.\n",
					rp->t[0].name ? rp->t[0].name : a, a, from, o->size,
					(size_t)o->size + 8 + ip);
		} else {
			fprintf(rp->out, "PING %u target%s, %ld data bytes\n", rp->n,
				rp->n == 1 ? "" : "s", o->size);
		}
		fflush(rp->out);
	}

	rc = td_pinger_init(&rp->pg, rp->eng[0], sp[0], sp[1]);
	rp->pg_up = rc == 0;
	if (rc) {
		fprintf(stderr, "tundra ping: event loop: %s\n", strerror(-rc));
		return rp->multi ? FP_SYS : EX_ERR;
	}
	if (rp->multi && !o->flood)
		rp->pg.slack_ns = 1000000ULL; /* one wake-up per millisecond at most */
	pthread_t thr[THREADS_MAX];
	bool started[THREADS_MAX] = {false};
	if (rp->nthr > 1) {
		/* Each engine's lock is uncontended but for SIGQUIT's interim
		 * statistics, which read every engine from the main thread. */
		for (int t = 0; t < rp->nthr; t++) {
			struct xloop *x = &rp->x[t];
			pthread_mutex_init(&x->lock, NULL);
			x->lock_up = true;
			if (t) {
				rc = td_pinger_init(&x->pg, rp->eng[t],
						    x->open[0] ? &x->s[0] : NULL,
						    x->open[1] ? &x->s[1] : NULL);
				if (rc) {
					fprintf(stderr, "tundra ping: event loop: %s\n", strerror(-rc));
					return FP_SYS;
				}
				x->up = true;
				x->pg.lock = &x->lock;
				x->pg.wakefd = rp->wakefd;
				x->pg.slack_ns = rp->pg.slack_ns;
			}
		}
		rp->pg.lock = &rp->x[0].lock;
	}
	rp->t0 = td_os_mono_ns();
	for (int t = 0; t < (rp->nthr > 1 ? rp->nthr : 1); t++)
		td_probe_start(rp->eng[t], rp->t0);
	uint64_t until = o->deadline > 0 ? rp->t0 + (uint64_t)(o->deadline * 1e9) : 0;
	rp->until = until;
	g_until = until;
	if (rp->nthr > 1) {
		/* Signals go to the main thread: its loop runs on_wake. */
		sigset_t all, old;
		sigemptyset(&all);
		sigaddset(&all, SIGINT);
		sigaddset(&all, SIGTERM);
		sigaddset(&all, SIGQUIT);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (int t = 1; t < rp->nthr; t++)
			started[t] = pthread_create(&thr[t], NULL, extra_loop, &rp->x[t]) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	rc = td_pinger_run(&rp->pg, until, &g_stop, on_wake, rp, 200000000ULL);
	if (!rc && rp->linger_end && !g_stop && !td_probe_done(rp->eng[0]))
		rc = td_pinger_run(&rp->pg, rp->linger_end, &g_stop, on_wake, rp, 200000000ULL);
	if (g_stop && rp->nthr > 1) {
		uint64_t one = 1; /* wake the other loops to see the stop */
		ssize_t w = write(rp->wakefd, &one, sizeof(one));
		(void)w;
	}
	for (int t = 1; t < rp->nthr; t++) {
		if (started[t])
			pthread_join(thr[t], NULL);
		else /* no thread: this loop's targets are probed here, after ours */
			extra_loop(&rp->x[t]);
		if (!rc)
			rc = rp->x[t].rc;
	}
	uint64_t elapsed = td_os_mono_ns() - rp->t0;
	if (rc)
		fprintf(stderr, "tundra ping: event loop: %s\n", strerror(-rc));
	if (flood_line(rp))
		flood_tick(rp, td_os_mono_ns(), true); /* the summary's leading newline ends the line */
	return finish(rp, elapsed, rc || rp->fatal ? EX_ERR : 0, o->deadline > 0);
}

int td_cmd_ping(int argc, char **argv)
{
	struct run run;
	memset(&run, 0, sizeof(run));
	td_os_hold_stdio(); /* before any socket: a closed stdout must stay a failing one */
	int status = ping_main(&run, argc, argv);
	if (run.pg_up)
		td_pinger_fini(&run.pg);
	for (int t = 0; run.x && t < run.nthr; t++) {
		if (run.x[t].up)
			td_pinger_fini(&run.x[t].pg);
		if (run.x[t].lock_up)
			pthread_mutex_destroy(&run.x[t].lock);
		for (int f = 0; f < 2; f++)
			if (run.x[t].open[f])
				td_icmp_close(&run.x[t].s[f]);
	}
	if (run.print_lock_up)
		pthread_mutex_destroy(&run.print_lock);
	free(run.x);
	if (run.nthr > 1 && run.wakefd > 0)
		close(run.wakefd);
	for (int f = 0; f < 2; f++)
		if (run.sp[f])
			td_icmp_close(run.sp[f]);
	for (int k = 0; k < THREADS_MAX; k++)
		td_probe_free(run.eng[k]);
	for (uint32_t i = 0; i < run.n; i++)
		free(run.t[i].name);
	free(run.t);
	free(run.gens);
	free(run.files);
	return check_output(status, run.multi);
}
