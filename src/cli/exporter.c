/* tundra exporter: the probe engine as a Prometheus exporter (smokeping_prober-compatible metrics and config). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/exporter_config.h"
#include "cli/exporter_http.h"
#include "cli/exporter_index.h"
#include "cli/exporter_metrics.h"
#include "cli/exporter_process.h"
#include "tundra/os_misc.h"
#include "tundra/pinger.h"
#include "tundra/probe.h"

/*
 * Threads and who touches what (td_pinger keeps its I/O buffers per loop, so
 * several loops may run at once).
 *
 *   main     : signals (SIGHUP reload, SIGTERM/SIGINT stop), periodic name
 *              resolution, building and swapping the target table.
 *   runner   : one per distinct probe setting set (interval, timeout, size,
 *              socket options). Runs td_pinger_run(): the engine's events update
 *              the live series of its targets. Never takes a lock anyone else
 *              holds for long: between two loop turns it copies its series into the
 *              snapshot when the HTTP thread asked for one (a memcpy).
 *   http     : the HTTP server's thread (src/os/httpd.c). Renders /metrics and / from the
 *              snapshot, so rendering 10 000 targets never delays a probe.
 *
 * `st.lock` serialises table swaps (main, /-/reload) against rendering (http).
 *
 * A table swap (reload, or a name whose addresses changed) stops every runner,
 * carries the counters of every series whose label set survives into the new
 * table, and starts new runners on the same sockets (kept open by option set:
 * raw sockets cannot be reopened once capabilities are dropped). Probes in
 * flight at the swap are forgotten: they count as requests, never as replies
 * or timeouts.
 */

#define DEFAULT_LISTEN ":9374"
#define MAX_ADDRS_PER_NAME 16
#define SNAPSHOT_WAIT_NS 2000000000ull
#define WAKE_NS 10000000ull /* runners look at snapshot requests this often */

struct runner_key {
	uint64_t interval_ns, timeout_ns;
	unsigned size, tos, ttl;
	uint32_t mark;
	bool has_mark;
	enum td_expcfg_mode mode;
	const char *interface; /* points into the config */
	const char *source;
};

struct sock_ent {
	struct td_icmp_sock sock;
	uint8_t family;
	enum td_expcfg_mode mode;
	char *interface, *source;
	unsigned tos, ttl;
	uint32_t mark;
	bool has_mark;
};

struct table;

struct runner {
	struct runner_key key;
	struct table *tab;
	struct td_probe *probe;
	struct td_pinger pg;
	bool pg_inited;
	struct sock_ent *s4, *s6;
	uint32_t *series_of; /* target id -> series index */
	uint32_t n;
	pthread_t th;
	bool running;
	volatile sig_atomic_t stop;
	int exit_rc;
	/* snapshot handshake with the http thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t want, done;
	uint64_t drops[TD_PROBE_DROP_COUNT];
};

/* One (group, host) to resolve. */
struct resolve_ent {
	size_t group;
	const char *host;
	size_t name; /* index in table->names */
	struct td_probe_addr addrs[MAX_ADDRS_PER_NAME];
	size_t n_addrs;
	bool resolved_once;
};

struct series_meta {
	size_t ent;     /* resolve_ent */
	size_t runner;
	struct td_probe_addr addr;
};

struct table {
	struct td_expcfg cfg;
	struct resolve_ent *ents;
	size_t n_ents;
	struct td_expm_name *names;
	size_t n_names;
	struct td_expm_series *series, *snap;
	struct series_meta *meta;
	size_t n_series;
	struct runner *runners;
	size_t n_runners;
};

struct state {
	pthread_mutex_t lock;
	struct table *tab;
	const char *config_path;
	struct td_expcfg_group cli_group; /* targets from the command line */
	bool have_cli_group;
	struct td_expm_buckets buckets;
	struct sock_ent *socks[64];
	size_t n_socks;
	bool caps_dropped;
	uint8_t key[TD_PROBE_KEY_LEN];
	bool ready;
	bool last_reload_ok;
	double last_reload_time;
	double start_time;
	uint64_t resolve_override_ns;
	bool mode_override;
	enum td_expcfg_mode mode;
	struct td_expm_global global;
};

static struct state st;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s tundra exporter: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): va_start above
	va_end(ap);
	fputc('\n', stderr);
}

static double unix_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An address as labels show it: a link-local one with its zone (RFC 4007
 * §11), fe80::1%eth0, or the interface index when it has no name. */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)
static void addr_str(const struct td_probe_addr *a, char *out, size_t len)
{
	inet_ntop(a->family == TD_PROBE_V6 ? AF_INET6 : AF_INET, a->a, out, (socklen_t)len);
	if (a->family == TD_PROBE_V6 && a->scope) {
		char name[IF_NAMESIZE];
		size_t n = strlen(out);
		if (if_indextoname(a->scope, name))
			snprintf(out + n, len - n, "%%%s", name);
		else
			snprintf(out + n, len - n, "%%%u", a->scope);
	}
}

static bool same_labels(const struct td_expm_series *a, const struct td_expm_series *b)
{
	return a->labels && b->labels && a->labels_len == b->labels_len &&
	       memcmp(a->labels, b->labels, a->labels_len) == 0;
}

static bool addr_eq(const struct td_probe_addr *a, const struct td_probe_addr *b)
{
	return a->family == b->family && a->scope == b->scope &&
	       !memcmp(a->a, b->a, a->family == TD_PROBE_V6 ? 16 : 4);
}

/* ---- resolution ------------------------------------------------------------ */

static int source_family(const char *src)
{
	struct in6_addr a6;
	struct in_addr a4;
	if (!src)
		return AF_UNSPEC;
	if (inet_pton(AF_INET, src, &a4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, src, &a6) == 1)
		return AF_INET6;
	return -1;
}

static void add_addrs(const struct addrinfo *res, struct td_probe_addr *addrs, size_t *n)
{
	for (const struct addrinfo *ai = res; ai && *n < MAX_ADDRS_PER_NAME; ai = ai->ai_next) {
		struct td_probe_addr a = {0};
		if (ai->ai_family == AF_INET) {
			a.family = TD_PROBE_V4;
			memcpy(a.a, &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ai->ai_addr;
			a.family = TD_PROBE_V6;
			memcpy(a.a, &s6->sin6_addr, 16);
			/* fe80::1%eth0: each probe names its link, and the engine
			 * tells fe80::1 on two links apart (the kernel ignores a
			 * zone on other addresses: so do we) */
			a.scope = td_probe_addr_needs_scope(&a) ? s6->sin6_scope_id : 0;
		} else {
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < *n && !dup; i++)
			dup = addr_eq(&addrs[i], &a);
		if (!dup)
			addrs[(*n)++] = a;
	}
}

/* resolve_host's result when names resolved but every address was skipped
 * (zoned to another link than the group's interface); getaddrinfo's codes
 * are negative */
#define RESOLVE_ALL_SKIPPED 1

/* Resolve one host into addrs: every address, deduplicated, of the families
 * the group's network and source allow. Each family is asked separately:
 * an AF_UNSPEC lookup may stop at the first family a source answers for
 * (the hosts file does). 0, a getaddrinfo error code or RESOLVE_ALL_SKIPPED. */
static int resolve_host(const char *host, const struct td_expcfg_group *g,
			struct td_probe_addr *addrs, size_t *n)
{
	int fams[2], nf = 0, sfam = source_family(g->source), rc = EAI_NONAME;

	if (g->network != TD_EXPCFG_NET_IP6 && sfam != AF_INET6)
		fams[nf++] = AF_INET;
	if (g->network != TD_EXPCFG_NET_IP4 && sfam != AF_INET)
		fams[nf++] = AF_INET6;
	*n = 0;
	for (int f = 0; f < nf; f++) {
		struct addrinfo hints = {0}, *res = NULL;
		int r;
		hints.ai_family = fams[f];
		hints.ai_socktype = SOCK_DGRAM;
		hints.ai_protocol = IPPROTO_UDP;
		r = td_os_getaddrinfo(host, &hints, &res);
		if (r) {
			/* a name with only one family is fine; keep the more telling error */
			if (rc == EAI_NONAME || r != EAI_NONAME)
				rc = r;
			continue;
		}
		add_addrs(res, addrs, n);
		td_os_freeaddrinfo(res);
	}
	/* interface: eth0 with fe80::1: the link of the group's device is the
	 * target's zone (replies are matched by address and arrival link) */
	unsigned idx = g->interface ? if_nametoindex(g->interface) : 0;
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		if (idx && td_probe_addr_needs_scope(&addrs[i])) {
			if (!addrs[i].scope) {
				addrs[i].scope = idx;
			} else if (addrs[i].scope != idx) {
				/* a numeric zone of another link: the bound socket cannot reach it */
				logmsg("%s: zone %u is not interface: %s (%u); address skipped", host,
				       addrs[i].scope, g->interface, idx);
				continue;
			}
		}
		addrs[kept++] = addrs[i];
	}
	if (*n && !kept)
		rc = RESOLVE_ALL_SKIPPED;
	*n = kept;
	return *n ? 0 : (nf ? rc : EAI_FAMILY);
}

/* Resolve every entry of t; failures keep the previous addresses (a stale
 * address is probed rather than none) and are counted. Returns true when
 * any entry's address set changed. */
static bool resolve_ents(struct resolve_ent *ents, size_t n_ents, const struct td_expcfg *cfg,
			 uint64_t *name_failures)
{
	bool changed = false;

	for (size_t i = 0; i < n_ents; i++) {
		struct resolve_ent *e = &ents[i];
		struct td_probe_addr addrs[MAX_ADDRS_PER_NAME];
		size_t n = 0;
		int rc = resolve_host(e->host, &cfg->groups[e->group], addrs, &n);

		if (rc) {
			name_failures[e->name]++;
			logmsg("cannot resolve %s: %s (retrying; %zu address(es) kept)", e->host,
			       rc == RESOLVE_ALL_SKIPPED ? "no address on the group's interface"
							 : gai_strerror(rc),
			       e->n_addrs);
			continue;
		}
		bool same = n == e->n_addrs;
		for (size_t a = 0; a < n && same; a++) {
			bool found = false;
			for (size_t b = 0; b < e->n_addrs && !found; b++)
				found = addr_eq(&addrs[a], &e->addrs[b]);
			same = found;
		}
		if (!same) {
			memcpy(e->addrs, addrs, n * sizeof(addrs[0]));
			e->n_addrs = n;
			changed = true;
		}
		e->resolved_once = true;
	}
	return changed;
}

/* ---- sockets ----------------------------------------------------------------- */

static void print_remedy(const struct td_icmp_diag *d, int family)
{
	logmsg("cannot open an ICMP socket for IPv%d: %s failed: %s", family,
	       d->step ? d->step : "socket", strerror(d->err));
	if (d->range_known)
		logmsg("net.ipv4.ping_group_range is \"%u %u\"; this process runs as gid %u%s",
		       d->range_lo, d->range_hi, (unsigned)d->gid,
		       d->cap_net_raw ? "" : " without CAP_NET_RAW");
	logmsg("remedies: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" (datagram "
	       "sockets, no privilege), or give the binary CAP_NET_RAW (setcap cap_net_raw+ep, "
	       "or AmbientCapabilities=CAP_NET_RAW in the systemd unit)");
}

static bool streq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct sock_ent *get_sock(uint8_t family, const struct runner_key *k, char *err,
				 size_t errlen)
{
	struct td_icmp_opts o;
	struct td_icmp_diag d;
	struct sock_ent *e;
	int rc;

	for (size_t i = 0; i < st.n_socks; i++) {
		e = st.socks[i];
		if (e->family == family && e->mode == k->mode && streq_null(e->interface, k->interface) &&
		    streq_null(e->source, k->source) && e->tos == k->tos && e->ttl == k->ttl &&
		    e->has_mark == k->has_mark && e->mark == k->mark)
			return e;
	}
	if (st.n_socks == sizeof(st.socks) / sizeof(st.socks[0])) {
		snprintf(err, errlen, "more than %zu distinct socket option sets",
			 sizeof(st.socks) / sizeof(st.socks[0]));
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	td_icmp_opts_default(&o);
	o.mode = k->mode == TD_EXPCFG_MODE_RAW	   ? TD_ICMP_RAW
		 : k->mode == TD_EXPCFG_MODE_DGRAM ? TD_ICMP_DGRAM
						   : TD_ICMP_AUTO;
	o.ifname = k->interface;
	if (k->source) {
		int sf = source_family(k->source);
		if ((sf == AF_INET && family == TD_PROBE_V4) ||
		    (sf == AF_INET6 && family == TD_PROBE_V6)) {
			o.src.family = family;
			inet_pton(sf, k->source, o.src.a);
		}
	}
	if (k->ttl)
		o.ttl = (int)k->ttl;
	o.tos = (int)k->tos;
	o.has_mark = k->has_mark;
	o.mark = k->mark;
	memset(&d, 0, sizeof(d));
	rc = td_icmp_open(&e->sock, family, &o, &d);
	if (rc) {
		print_remedy(&d, family);
		snprintf(err, errlen, "cannot open an ICMP socket for IPv%d (%s: %s)", family,
			 d.step ? d.step : "socket", strerror(-rc));
		free(e);
		return NULL;
	}
	e->family = family;
	e->mode = k->mode;
	e->interface = k->interface ? strdup(k->interface) : NULL;
	e->source = k->source ? strdup(k->source) : NULL;
	e->tos = k->tos;
	e->ttl = k->ttl;
	e->mark = k->mark;
	e->has_mark = k->has_mark;
	st.socks[st.n_socks++] = e;
	return e;
}

/* ---- runners ------------------------------------------------------------------ */

static void runner_key_of(const struct td_expcfg_group *g, struct runner_key *k)
{
	memset(k, 0, sizeof(*k));
	k->interval_ns = g->interval_ns;
	k->timeout_ns = g->timeout_ns;
	k->size = g->size;
	k->tos = g->tos;
	k->ttl = g->ttl;
	k->mark = g->mark;
	k->has_mark = g->has_mark;
	k->mode = g->mode;
	k->interface = g->interface;
	k->source = g->source;
}

static bool runner_key_eq(const struct runner_key *a, const struct runner_key *b)
{
	return a->interval_ns == b->interval_ns && a->timeout_ns == b->timeout_ns &&
	       a->size == b->size && a->tos == b->tos && a->ttl == b->ttl && a->mark == b->mark &&
	       a->has_mark == b->has_mark && a->mode == b->mode &&
	       streq_null(a->interface, b->interface) && streq_null(a->source, b->source);
}

/* Engine callback (runner thread): fold one event into the target's series. */
static void on_event(void *ctx, const struct td_probe_event *ev)
{
	struct runner *r = ctx;
	struct td_expm_series *s;

	if (ev->target == TD_PROBE_NONE || ev->target >= r->n)
		return; /* unattributed: the engine's drop counters have it */
	s = &r->tab->series[r->series_of[ev->target]];
	switch (ev->kind) {
	case TD_PROBE_EV_REPLY:
		if (ev->dup) {
			s->duplicates++;
			break;
		}
		if (ev->late) {
			s->late++;
			break;
		}
		if (ev->out_of_order)
			s->out_of_order++;
		if (ev->corrupted)
			s->corrupted++;
		td_expm_observe_reply(s, &st.buckets, ev->rtt_ns, ev->ttl);
		break;
	case TD_PROBE_EV_TIMEOUT:
		s->timeouts++;
		break;
	case TD_PROBE_EV_ERROR:
		td_expm_observe_icmp_error(s, ev->icmp_type, ev->icmp_code);
		break;
	case TD_PROBE_EV_SEND_ERROR:
		s->send_errors++;
		break;
	default:
		break;
	}
}

/* Copy this runner's series into the snapshot; requests come from the engine. */
static void take_snapshot(struct runner *r)
{
	struct table *t = r->tab;
	for (uint32_t i = 0; i < r->n; i++) {
		uint32_t si = r->series_of[i];
		const struct td_probe_stats *ps = td_probe_target_stats(r->probe, i);
		t->snap[si] = t->series[si];
		t->snap[si].requests += ps ? ps->transmitted : 0;
	}
	for (unsigned d = 0; d < TD_PROBE_DROP_COUNT; d++)
		r->drops[d] = td_probe_drops(r->probe, (enum td_probe_drop)d);
}

static bool on_wake(void *ctx, uint64_t now)
{
	struct runner *r = ctx;
	(void)now;
	if (r->stop)
		return false;
	pthread_mutex_lock(&r->mu);
	if (r->want != r->done) {
		take_snapshot(r);
		r->done = r->want;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return true;
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;

	/* Initialised here, in the thread that runs it: the loop's I/O buffers
	 * belong to the thread. */
	r->exit_rc = td_pinger_init(&r->pg, r->probe, r->s4 ? &r->s4->sock : NULL,
				    r->s6 ? &r->s6->sock : NULL);
	if (r->exit_rc) {
		logmsg("probe loop: %s", strerror(-r->exit_rc));
	} else {
		r->pg_inited = true;
		/* An exporter does not need each probe on its exact microsecond
		 * (RTTs come from TX/RX stamps): probes due within the slack leave
		 * in one batch, which saves a wake-up per probe at 10 000 targets. */
		r->pg.slack_ns = r->key.interval_ns / 100 < 1000000ull ? r->key.interval_ns / 100
									: 1000000ull;
		td_probe_start(r->probe, td_os_mono_ns());
		r->exit_rc = td_pinger_run(&r->pg, 0, &r->stop, on_wake, r, WAKE_NS);
		if (r->exit_rc)
			logmsg("probe loop stopped: %s", strerror(-r->exit_rc));
	}
	/* answer a pending snapshot request so a scrape does not wait for nothing */
	pthread_mutex_lock(&r->mu);
	take_snapshot(r);
	r->done = r->want;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int runner_setup(struct runner *r, struct table *t, char *err, size_t errlen)
{
	struct td_probe_config pc;
	bool need4 = false, need6 = false;
	uint32_t n = 0;
	int rc;

	for (size_t i = 0; i < t->n_series; i++)
		if (&t->runners[t->meta[i].runner] == r) {
			n++;
			need4 |= t->meta[i].addr.family == TD_PROBE_V4;
			need6 |= t->meta[i].addr.family == TD_PROBE_V6;
		}
	r->tab = t;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (!n)
		return 0;
	if (need4 && !(r->s4 = get_sock(TD_PROBE_V4, &r->key, err, errlen)))
		return -EPERM;
	if (need6 && !(r->s6 = get_sock(TD_PROBE_V6, &r->key, err, errlen)))
		return -EPERM;
	td_probe_config_default(&pc);
	pc.max_targets = n;
	pc.count = 0;
	pc.interval_ns = r->key.interval_ns;
	pc.timeout_ns = r->key.timeout_ns;
	/* first probes spread over most of an interval, as smokeping_prober's splay */
	pc.spacing_ns = r->key.interval_ns / n * 4 / 5;
	/* ...as a token bucket 2 ms deep, so a loop that wakes once a
	 * millisecond (slack_ns below) sends what is due in one batch */
	pc.spacing_burst_ns = 2000000ull;
	pc.payload_len = r->key.size;
	memcpy(pc.key, st.key, sizeof(pc.key));
	pc.sock[0] = r->s4 ? r->s4->sock.kind : TD_PROBE_SOCK_DGRAM;
	pc.sock[1] = r->s6 ? r->s6->sock.kind : TD_PROBE_SOCK_DGRAM;
	pc.hist_all = false; /* the exporter keeps its own Prometheus buckets */
	pc.hist_pool = 0;
	pc.on_event = on_event;
	pc.ctx = r;
	rc = td_probe_new(&r->probe, &pc);
	if (rc) {
		snprintf(err, errlen, "probe engine: %s", strerror(-rc));
		return rc;
	}
	r->series_of = calloc(n, sizeof(*r->series_of));
	if (!r->series_of)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_series; i++) {
		uint32_t id;
		if (&t->runners[t->meta[i].runner] != r)
			continue;
		rc = td_probe_add(r->probe, &t->meta[i].addr, &id);
		if (rc) {
			snprintf(err, errlen, "probe engine: add target: %s", strerror(-rc));
			return rc;
		}
		r->series_of[id] = (uint32_t)i;
		r->n = id + 1;
	}
	return 0;
}

static int runner_start(struct runner *r)
{
	int rc;
	if (!r->probe)
		return 0;
	rc = pthread_create(&r->th, NULL, runner_main, r);
	if (rc)
		return -rc;
	r->running = true;
	return 0;
}

/* Stop the thread; fold the engine's transmitted count into the live series so
 * a carried counter keeps it. */
static void runner_stop(struct runner *r)
{
	if (r->running) {
		r->stop = 1;
		pthread_join(r->th, NULL);
		r->running = false;
		for (uint32_t i = 0; i < r->n; i++) {
			const struct td_probe_stats *ps = td_probe_target_stats(r->probe, i);
			r->tab->series[r->series_of[i]].requests += ps ? ps->transmitted : 0;
		}
	}
}

static void runner_free(struct runner *r)
{
	if (r->pg_inited)
		td_pinger_fini(&r->pg);
	if (r->probe)
		td_probe_free(r->probe);
	free(r->series_of);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	memset(r, 0, sizeof(*r));
}

/* ---- the table ---------------------------------------------------------------- */

static void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_runners; i++)
		runner_free(&t->runners[i]);
	free(t->runners);
	for (size_t i = 0; i < t->n_series; i++)
		td_expm_series_free(&t->series[i]);
	free(t->series);
	free(t->snap);
	free(t->meta);
	for (size_t i = 0; i < t->n_names; i++)
		td_expm_name_free(&t->names[i]);
	free(t->names);
	free(t->ents);
	td_expcfg_free(&t->cfg);
	free(t);
}

/* Entries and names of a configuration (no resolution yet). */
static struct table *table_new(struct td_expcfg *cfg)
{
	struct table *t = calloc(1, sizeof(*t));
	size_t n = 0;

	if (!t)
		return NULL;
	t->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	for (size_t g = 0; g < t->cfg.n_groups; g++)
		n += t->cfg.groups[g].n_hosts;
	t->ents = calloc(n ? n : 1, sizeof(*t->ents));
	t->names = calloc(n ? n : 1, sizeof(*t->names));
	if (!t->ents || !t->names) {
		table_free(t);
		return NULL;
	}
	struct td_xidx byhost;
	if (td_xidx_init(&byhost, n)) {
		table_free(t);
		return NULL;
	}
	for (size_t g = 0; g < t->cfg.n_groups; g++)
		for (size_t h = 0; h < t->cfg.groups[g].n_hosts; h++) {
			struct resolve_ent *e = &t->ents[t->n_ents++];
			const char *host = t->cfg.groups[g].hosts[h];
			size_t ni = td_xidx_put(&byhost, host, strlen(host), t->n_names);
			e->group = g;
			e->host = host;
			if (ni == (size_t)-1) {
				ni = t->n_names;
				if (td_expm_name_init(&t->names[ni], host)) {
					td_xidx_free(&byhost);
					table_free(t);
					return NULL;
				}
				t->n_names++;
			}
			e->name = ni;
		}
	td_xidx_free(&byhost);
	return t;
}

/* Series and runners from the resolved entries. */
static int table_build(struct table *t, char *err, size_t errlen)
{
	size_t n = 0, nl = t->cfg.n_label_names;
	const char *values[TD_EXPCFG_MAX_LABELS * 4];

	if (nl > sizeof(values) / sizeof(values[0])) {
		snprintf(err, errlen, "too many distinct label names");
		return -EINVAL;
	}
	for (size_t i = 0; i < t->n_ents; i++)
		n += t->ents[i].n_addrs;
	t->series = calloc(n ? n : 1, sizeof(*t->series));
	t->snap = calloc(n ? n : 1, sizeof(*t->snap));
	t->meta = calloc(n ? n : 1, sizeof(*t->meta));
	t->runners = calloc(t->cfg.n_groups ? t->cfg.n_groups : 1, sizeof(*t->runners));
	if (!t->series || !t->snap || !t->meta || !t->runners)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_ents; i++) {
		const struct resolve_ent *e = &t->ents[i];
		const struct td_expcfg_group *g = &t->cfg.groups[e->group];
		struct runner_key k;
		size_t ri;

		runner_key_of(g, &k);
		for (ri = 0; ri < t->n_runners; ri++)
			if (runner_key_eq(&t->runners[ri].key, &k))
				break;
		if (ri == t->n_runners)
			t->runners[t->n_runners++].key = k;
		for (size_t l = 0; l < nl; l++) {
			values[l] = "";
			for (size_t gl = 0; gl < g->n_labels; gl++)
				if (!strcmp(g->labels[gl].name, t->cfg.label_names[l]))
					values[l] = g->labels[gl].value;
		}
		t->names[e->name].addresses += (unsigned)e->n_addrs;
		for (size_t a = 0; a < e->n_addrs; a++) {
			char ip[ADDR_STRLEN];
			addr_str(&e->addrs[a], ip, sizeof(ip));
			if (td_expm_series_init(&t->series[t->n_series], e->host, ip, g->source,
						g->tos, (const char *const *)t->cfg.label_names,
						values, nl))
				return -ENOMEM;
			t->meta[t->n_series].ent = i;
			t->meta[t->n_series].runner = ri;
			t->meta[t->n_series].addr = e->addrs[a];
			t->n_series++;
		}
	}
	/* One host resolving to one address in two groups that differ only in
	 * probe settings is two series with one label set: refuse it. */
	{
		struct td_xidx seen;
		bool dup = false;
		if (td_xidx_init(&seen, t->n_series))
			return -ENOMEM;
		for (size_t i = 0; i < t->n_series && !dup; i++) {
			dup = td_xidx_put(&seen, t->series[i].labels, t->series[i].labels_len, i) !=
			      (size_t)-1;
			if (dup)
				snprintf(err, errlen,
					 "two target groups probe %s with the same labels; give one a label or a different tos",
					 t->ents[t->meta[i].ent].host);
		}
		td_xidx_free(&seen);
		if (dup)
			return -EINVAL;
	}
	for (size_t ri = 0; ri < t->n_runners; ri++) {
		int rc = runner_setup(&t->runners[ri], t, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* Counters of series whose label set exists in both tables move to the new one. */
static void table_carry(struct table *nt, const struct table *ot)
{
	struct td_xidx old;

	if (!ot)
		return;
	/* Without memory for the index the counters start again from zero:
	 * Prometheus reads that as a counter reset, which it handles. */
	if (td_xidx_init(&old, ot->n_series + ot->n_names) == 0) {
		for (size_t j = 0; j < ot->n_series; j++)
			td_xidx_put(&old, ot->series[j].labels, ot->series[j].labels_len, j);
		for (size_t i = 0; i < nt->n_series; i++) {
			size_t j = td_xidx_get(&old, nt->series[i].labels, nt->series[i].labels_len);
			if (j != (size_t)-1 && same_labels(&nt->series[i], &ot->series[j]))
				td_expm_series_carry(&nt->series[i], &ot->series[j]);
		}
		td_xidx_free(&old);
	}
	if (td_xidx_init(&old, ot->n_names) == 0) {
		for (size_t j = 0; j < ot->n_names; j++)
			td_xidx_put(&old, ot->names[j].host_label, ot->names[j].host_label_len, j);
		for (size_t i = 0; i < nt->n_names; i++) {
			size_t j = td_xidx_get(&old, nt->names[i].host_label,
					       nt->names[i].host_label_len);
			if (j != (size_t)-1)
				nt->names[i].resolve_failures = ot->names[j].resolve_failures;
		}
		td_xidx_free(&old);
	}
}

static void drop_caps_once(void)
{
	bool raw = false;
	if (st.caps_dropped)
		return;
	for (size_t i = 0; i < st.n_socks; i++)
		raw |= st.socks[i]->sock.kind == TD_PROBE_SOCK_RAW;
	/* Nothing after start-up needs a capability; a later reload that asks for
	 * a new raw socket option set fails with the remedy message. */
	if (td_os_drop_caps() == 0 || !raw)
		st.caps_dropped = true;
}

/*
 * Build a table for cfg (taking it), resolve, carry counters from the current
 * table, stop the current runners and start the new ones. On failure the
 * current table keeps running. Called with st.lock held.
 */
static int swap_in(struct td_expcfg *cfg, const struct resolve_ent *resolved_from, char *err,
		   size_t errlen)
{
	struct table *nt = table_new(cfg), *ot = st.tab;
	int rc;

	if (!nt) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (resolved_from) {
		/* same configuration, so the same entries in the same order */
		for (size_t i = 0; i < nt->n_ents; i++) {
			memcpy(nt->ents[i].addrs, resolved_from[i].addrs, sizeof(nt->ents[i].addrs));
			nt->ents[i].n_addrs = resolved_from[i].n_addrs;
			nt->ents[i].resolved_once = resolved_from[i].resolved_once;
		}
	} else {
		/* keep the last good addresses of names that exist in both */
		struct td_xidx byhost;
		if (ot && td_xidx_init(&byhost, ot->n_ents) == 0) {
			for (size_t j = 0; j < ot->n_ents; j++)
				td_xidx_put(&byhost, ot->ents[j].host, strlen(ot->ents[j].host), j);
			for (size_t i = 0; i < nt->n_ents; i++) {
				size_t j = td_xidx_get(&byhost, nt->ents[i].host,
						       strlen(nt->ents[i].host));
				if (j == (size_t)-1)
					continue;
				memcpy(nt->ents[i].addrs, ot->ents[j].addrs, sizeof(nt->ents[i].addrs));
				nt->ents[i].n_addrs = ot->ents[j].n_addrs;
			}
			td_xidx_free(&byhost);
		}
	}
	/* resolution failures counted now must survive the carry */
	uint64_t *fails = calloc(nt->n_names ? nt->n_names : 1, sizeof(*fails));
	if (!fails) {
		table_free(nt);
		return -ENOMEM;
	}
	if (!resolved_from)
		resolve_ents(nt->ents, nt->n_ents, &nt->cfg, fails);
	rc = table_build(nt, err, errlen);
	if (rc) {
		if (rc == -ENOMEM && !err[0])
			snprintf(err, errlen, "out of memory");
		free(fails);
		table_free(nt);
		return rc;
	}
	for (size_t i = 0; ot && i < ot->n_runners; i++)
		runner_stop(&ot->runners[i]);
	table_carry(nt, ot);
	for (size_t i = 0; i < nt->n_names; i++)
		nt->names[i].resolve_failures += fails[i];
	free(fails);
	for (size_t i = 0; i < nt->n_runners; i++) {
		rc = runner_start(&nt->runners[i]);
		if (rc)
			logmsg("cannot start a probe thread: %s", strerror(-rc));
	}
	if (ot) /* at start-up, after the HTTP port is bound (it may be < 1024) */
		drop_caps_once();
	st.tab = nt;
	table_free(ot);
	return 0;
}

/* Load the config file (if any) plus the command-line targets. */
static int load_config(struct td_expcfg *cfg, char *err, size_t errlen)
{
	char e[TD_EXPCFG_ERR_LEN];
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->resolve_interval_ns = 60000000000ull;
	if (st.config_path) {
		rc = td_expcfg_load(st.config_path, cfg, e);
		if (rc) {
			snprintf(err, errlen, "%s", e);
			return rc;
		}
	}
	if (st.have_cli_group) {
		struct td_expcfg_group g = st.cli_group;
		g.hosts = calloc(g.n_hosts, sizeof(char *));
		if (!g.hosts)
			return -ENOMEM;
		for (size_t i = 0; i < g.n_hosts; i++)
			g.hosts[i] = strdup(st.cli_group.hosts[i]);
		g.labels = NULL;
		g.n_labels = 0;
		g.source = NULL;
		g.interface = st.cli_group.interface ? strdup(st.cli_group.interface) : NULL;
		rc = td_expcfg_add_group(cfg, &g);
		if (rc)
			return rc;
	}
	if (st.resolve_override_ns)
		cfg->resolve_interval_ns = st.resolve_override_ns;
	for (size_t i = 0; st.mode_override && i < cfg->n_groups; i++)
		if (cfg->groups[i].mode == TD_EXPCFG_MODE_AUTO)
			cfg->groups[i].mode = st.mode;
	return 0;
}

static int do_reload(char *err, size_t errlen)
{
	struct td_expcfg cfg;
	int rc;

	err[0] = 0;
	pthread_mutex_lock(&st.lock);
	rc = load_config(&cfg, err, errlen);
	if (!rc)
		rc = swap_in(&cfg, NULL, err, errlen);
	else
		td_expcfg_free(&cfg);
	st.last_reload_ok = rc == 0;
	if (!rc)
		st.last_reload_time = unix_now();
	pthread_mutex_unlock(&st.lock);
	if (rc)
		logmsg("reload failed, keeping the running configuration: %s", err);
	else
		logmsg("configuration reloaded: %zu series", st.tab->n_series);
	return rc;
}

/* ---- http callbacks ------------------------------------------------------------ */

static void snapshot_all(struct table *t)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (time_t)(SNAPSHOT_WAIT_NS / 1000000000ull);

	for (size_t i = 0; i < t->n_runners; i++) {
		struct runner *r = &t->runners[i];
		if (!r->probe)
			continue;
		pthread_mutex_lock(&r->mu);
		r->want++;
		pthread_mutex_unlock(&r->mu);
	}
	for (size_t i = 0; i < t->n_runners; i++) {
		struct runner *r = &t->runners[i];
		if (!r->probe)
			continue;
		pthread_mutex_lock(&r->mu);
		while (r->done != r->want)
			if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&r->mu);
	}
}

/* Set by td_exphttp_start() before its thread runs; read by that thread. */
static struct td_exphttp *http_srv;

static void fill_global(struct table *t)
{
	struct td_expm_global *g = &st.global;
	static uint64_t drops[TD_PROBE_DROP_COUNT];

	memset(drops, 0, sizeof(drops));
	g->n_drop = 0;
	for (size_t i = 0; i < t->n_runners; i++)
		for (unsigned d = 0; d < TD_PROBE_DROP_COUNT; d++)
			drops[d] += t->runners[i].drops[d];
	_Static_assert(TD_PROBE_DROP_COUNT <= sizeof(g->drop_count) / sizeof(g->drop_count[0]),
		       "drop reasons fit the exposition's table");
	for (unsigned d = 0; d < TD_PROBE_DROP_COUNT; d++) {
		g->drop_reason[g->n_drop] = td_probe_drop_name((enum td_probe_drop)d);
		g->drop_count[g->n_drop++] = drops[d];
	}
	g->mode_v4 = g->mode_v6 = NULL;
	for (size_t i = 0; i < t->n_runners; i++) {
		const struct runner *r = &t->runners[i];
		if (r->s4)
			g->mode_v4 = td_icmp_sock_name(&r->s4->sock);
		if (r->s6)
			g->mode_v6 = td_icmp_sock_name(&r->s6->sock);
	}
	g->last_reload_ok = st.last_reload_ok;
	g->last_reload_success_time = st.last_reload_time;
	g->n_targets = t->n_series;
	td_exp_process_read(&g->proc);
	g->http_valid = td_exphttp_stats(http_srv, &g->http) == 0;
}

static void http_metrics(void *ctx, struct td_expm_buf *buf)
{
	struct td_expm_view v;
	(void)ctx;

	pthread_mutex_lock(&st.lock);
	snapshot_all(st.tab);
	fill_global(st.tab);
	v.buckets = &st.buckets;
	v.series = st.tab->snap;
	v.n_series = st.tab->n_series;
	v.names = st.tab->names;
	v.n_names = st.tab->n_names;
	v.global = &st.global;
	td_expm_render_all(&v, buf);
	pthread_mutex_unlock(&st.lock);
}

static void html(struct td_expm_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			td_expm_append_str(b, "&lt;");
			break;
		case '>':
			td_expm_append_str(b, "&gt;");
			break;
		case '&':
			td_expm_append_str(b, "&amp;");
			break;
		case '"':
			td_expm_append_str(b, "&quot;");
			break;
		default:
			td_expm_append(b, s, 1);
			break;
		}
	}
}

/* Cell of the status table: markup around escaped data. */
static void cell(struct td_expm_buf *b, const char *data)
{
	td_expm_append_str(b, "<td>");
	html(b, data);
	td_expm_append_str(b, "</td>");
}

static void http_page(void *ctx, struct td_expm_buf *b)
{
	char tmp[128];
	struct table *t;
	(void)ctx;

	pthread_mutex_lock(&st.lock);
	t = st.tab;
	snapshot_all(t);
	td_expm_append_str(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			      "<title>tundra exporter</title></head><body>\n"
			      "<h1>tundra exporter</h1>\n<p><a href=\"/metrics\">Metrics</a></p>\n<p>");
	snprintf(tmp, sizeof(tmp), "%zu series; configuration %s", t->n_series,
		 st.last_reload_ok ? "loaded" : "reload FAILED, previous one running");
	html(b, tmp);
	td_expm_append_str(b, "</p>\n<table border=\"1\"><tr><th>host</th><th>ip</th>"
			      "<th>labels</th><th>sent</th><th>received</th><th>loss</th>"
			      "<th>last RTT</th><th>state</th></tr>\n");
	for (size_t i = 0; i < t->n_series; i++) {
		const struct td_expm_series *s = &t->snap[i];
		uint64_t lost = s->requests > s->replies ? s->requests - s->replies : 0;
		double loss = s->requests ? 100.0 * (double)lost / (double)s->requests : 0;
		const char *state = !s->requests	   ? "starting"
				    : s->last_rtt_ns < 0 ? "no reply"
				    : loss > 50	 ? "lossy"
							 : "up";

		td_expm_append_str(b, "<tr>");
		cell(b, t->ents[t->meta[i].ent].host);
		addr_str(&t->meta[i].addr, tmp, sizeof(tmp));
		cell(b, tmp);
		cell(b, s->labels);
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)s->requests);
		cell(b, tmp);
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)s->replies);
		cell(b, tmp);
		snprintf(tmp, sizeof(tmp), "%.1f%%", loss);
		cell(b, tmp);
		if (s->last_rtt_ns >= 0)
			snprintf(tmp, sizeof(tmp), "%.3f ms", (double)s->last_rtt_ns / 1e6);
		else
			snprintf(tmp, sizeof(tmp), "-");
		cell(b, tmp);
		cell(b, state);
		td_expm_append_str(b, "</tr>\n");
	}
	td_expm_append_str(b, "</table></body></html>\n");
	pthread_mutex_unlock(&st.lock);
}


/* ---- reload requests from http, periodic resolution, main ------------------------ */

static pthread_t main_thread;
static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reload_cv = PTHREAD_COND_INITIALIZER;
static uint64_t reload_req, reload_done;
static int reload_rc;
static char reload_err[TD_EXPCFG_ERR_LEN + 64];

/* Table swaps happen only in the main thread: ask it (SIGHUP) and wait, at
 * most RELOAD_WAIT_S: the HTTP thread serves scrapes and health checks too.
 * A slower reload (many names to resolve) completes in the background and
 * tundra_config_last_reload_successful tells how it ended. */
#define RELOAD_WAIT_S 1
static int http_reload(void *ctx, char *err, size_t errlen)
{
	uint64_t gen;
	struct timespec dl;
	int rc = -EINPROGRESS;
	(void)ctx;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += RELOAD_WAIT_S;
	pthread_mutex_lock(&reload_mu);
	gen = ++reload_req;
	pthread_kill(main_thread, SIGHUP);
	while (reload_done < gen)
		if (pthread_cond_timedwait(&reload_cv, &reload_mu, &dl) == ETIMEDOUT)
			break;
	if (reload_done >= gen) {
		rc = reload_rc;
		snprintf(err, errlen, "%s", reload_err);
	} else {
		snprintf(err, errlen, "reload in progress; see tundra_config_last_reload_successful");
	}
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

static bool http_ready(void *ctx)
{
	(void)ctx;
	return st.ready;
}

static void main_reload(void)
{
	char err[TD_EXPCFG_ERR_LEN + 64];
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&reload_mu);
	gen = reload_req;
	pthread_mutex_unlock(&reload_mu);
	rc = do_reload(err, sizeof(err));
	pthread_mutex_lock(&reload_mu);
	reload_rc = rc;
	snprintf(reload_err, sizeof(reload_err), "%s", err);
	reload_done = gen;
	pthread_cond_broadcast(&reload_cv);
	pthread_mutex_unlock(&reload_mu);
}

/* Resolve every name again outside the lock; swap the table only when an
 * address set changed. Returns true when some name is failing. */
static bool main_resolve(void)
{
	struct table *t = st.tab; /* only this thread replaces st.tab */
	struct resolve_ent *ents = calloc(t->n_ents ? t->n_ents : 1, sizeof(*ents));
	uint64_t *fails = calloc(t->n_names ? t->n_names : 1, sizeof(*fails));
	bool changed, failing = false;
	char err[TD_EXPCFG_ERR_LEN];
	struct td_expcfg cfg;

	if (!ents || !fails) {
		free(ents);
		free(fails);
		return true;
	}
	memcpy(ents, t->ents, t->n_ents * sizeof(*ents));
	changed = resolve_ents(ents, t->n_ents, &t->cfg, fails);
	pthread_mutex_lock(&st.lock);
	for (size_t i = 0; i < t->n_names; i++) {
		t->names[i].resolve_failures += fails[i];
		failing |= fails[i] != 0;
	}
	if (changed) {
		err[0] = 0;
		if (td_expcfg_dup(&cfg, &t->cfg) == 0) {
			if (swap_in(&cfg, ents, err, sizeof(err)))
				logmsg("addresses changed but the new target set failed: %s", err);
			else
				logmsg("addresses changed: %zu series", st.tab->n_series);
		}
	}
	pthread_mutex_unlock(&st.lock);
	free(ents);
	free(fails);
	return failing;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tundra exporter [--config FILE] [--listen ADDR:PORT] [options] [HOST...]\n"
		"\n"
		"Probe hosts with ICMP echo and serve smokeping_prober-compatible metrics.\n"
		"\n"
		"  -c, --config FILE        YAML config (smokeping_prober's format + tundra keys)\n"
		"  -l, --listen ADDR:PORT   HTTP listen address (default :9374)\n"
		"  -i, --interval DUR       probe interval of command-line hosts (default 1s)\n"
		"  -s, --size BYTES         ICMP payload of command-line hosts (default 56)\n"
		"  -W, --timeout DUR        reply timeout of command-line hosts (default max(interval, 5s))\n"
		"  -m, --mode MODE          auto | dgram | raw; applies to groups without a mode\n"
		"      --buckets LIST       histogram upper bounds, seconds, comma-separated\n"
		"      --resolve-interval DUR  how often names are resolved again (default 60s)\n"
		"      --max-connections N  HTTP connections at once (default 64)\n"
		"  smokeping_prober spellings are accepted too: --config.file, --web.listen-address,\n"
		"  --ping.interval, --ping.size, --privileged (= --mode raw).\n"
		"\n"
		"Endpoints: /metrics, /, /-/healthy, /-/ready, POST /-/reload. SIGHUP reloads.\n");
}

static int parse_mode(const char *s, enum td_expcfg_mode *m)
{
	if (!strcmp(s, "auto"))
		*m = TD_EXPCFG_MODE_AUTO;
	else if (!strcmp(s, "dgram"))
		*m = TD_EXPCFG_MODE_DGRAM;
	else if (!strcmp(s, "raw"))
		*m = TD_EXPCFG_MODE_RAW;
	else
		return -EINVAL;
	return 0;
}

int td_cmd_exporter(int argc, char **argv);
int td_cmd_exporter(int argc, char **argv)
{
	enum { O_BUCKETS = 256, O_RESOLVE, O_PRIV, O_MAXCONN };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"config.file", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"web.listen-address", required_argument, NULL, 'l'},
		{"interval", required_argument, NULL, 'i'},
		{"ping.interval", required_argument, NULL, 'i'},
		{"size", required_argument, NULL, 's'},
		{"ping.size", required_argument, NULL, 's'},
		{"timeout", required_argument, NULL, 'W'},
		{"mode", required_argument, NULL, 'm'},
		{"privileged", no_argument, NULL, O_PRIV},
		{"buckets", required_argument, NULL, O_BUCKETS},
		{"resolve-interval", required_argument, NULL, O_RESOLVE},
		{"max-connections", required_argument, NULL, O_MAXCONN},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *listen = DEFAULT_LISTEN;
	/* A quarter of the connections per client address: one flooding client
	 * cannot take every slot from the Prometheus servers scraping us. */
	struct td_exphttp_limits lim = {.connections = 64, .per_ip = 16, .timeout_s = 5};
	struct td_exphttp_ops ops = {.metrics = http_metrics, .page = http_page,
				     .reload = http_reload, .ready = http_ready};
	bool mode_set = false, timeout_set = false;
	enum td_expcfg_mode mode = TD_EXPCFG_MODE_AUTO;
	struct td_expcfg cfg;
	char err[TD_EXPCFG_ERR_LEN + 64];
	sigset_t sigs;
	int c, rc, exit_code = 0;

	/* The exposition buffer is tens of MB at 10 000 targets: keep such blocks
	 * mmapped so they go back to the system, instead of letting glibc's
	 * dynamic threshold move them onto a heap it never trims. musl's allocator
	 * maps such blocks by itself. */
#ifdef M_MMAP_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
	pthread_mutex_init(&st.lock, NULL);
	td_expm_buckets_default(&st.buckets);
	td_expcfg_group_defaults(&st.cli_group);
	optind = 1;
	while ((c = td_getopt_long(argc, argv, "c:l:i:s:W:m:h", opts, NULL)) != -1) {
		uint64_t ns;
		char *end;
		unsigned long v;
		switch (c) {
		case 'c':
			st.config_path = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'i':
			if (td_expcfg_parse_duration(optarg, &ns) || ns < 1000000ull ||
			    ns > 3600000000000ull) {
				fprintf(stderr, "tundra exporter: --interval '%s': a duration 1ms..1h such as 1s\n", optarg);
				return 2;
			}
			st.cli_group.interval_ns = ns;
			break;
		case 'W':
			if (td_expcfg_parse_duration(optarg, &ns) || ns < 1000000ull ||
			    ns > 3600000000000ull) {
				fprintf(stderr, "tundra exporter: --timeout '%s': a duration 1ms..1h such as 1s\n", optarg);
				return 2;
			}
			st.cli_group.timeout_ns = ns;
			timeout_set = true;
			break;
		case 's':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 24 || v > 65507) {
				fprintf(stderr, "tundra exporter: --size '%s': 24..65507 bytes\n", optarg);
				return 2;
			}
			st.cli_group.size = (unsigned)v;
			break;
		case 'm':
			if (parse_mode(optarg, &mode)) {
				fprintf(stderr, "tundra exporter: --mode '%s': auto, dgram or raw\n", optarg);
				return 2;
			}
			mode_set = true;
			break;
		case O_PRIV:
			mode = TD_EXPCFG_MODE_RAW;
			mode_set = true;
			break;
		case O_BUCKETS:
			if (td_expm_buckets_parse(&st.buckets, optarg)) {
				fprintf(stderr, "tundra exporter: --buckets '%s': ascending positive seconds, at most %d\n",
					optarg, TD_EXPM_MAX_BUCKETS);
				return 2;
			}
			break;
		case O_RESOLVE:
			if (td_expcfg_parse_duration(optarg, &ns) || ns < 1000000000ull) {
				fprintf(stderr, "tundra exporter: --resolve-interval '%s': a duration >= 1s\n", optarg);
				return 2;
			}
			st.resolve_override_ns = ns;
			break;
		case O_MAXCONN:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 10000) {
				fprintf(stderr, "tundra exporter: --max-connections '%s': 1..10000\n", optarg);
				return 2;
			}
			lim.connections = (unsigned)v;
			lim.per_ip = lim.connections / 4 ? lim.connections / 4 : 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		st.cli_group.hosts = argv + optind; /* borrowed: load_config copies them */
		st.cli_group.n_hosts = (size_t)(argc - optind);
		st.cli_group.mode = mode;
		if (!timeout_set)
			st.cli_group.timeout_ns = td_expcfg_default_timeout(st.cli_group.interval_ns);
		st.have_cli_group = true;
	}
	st.mode_override = mode_set;
	st.mode = mode;
	if (!st.config_path && !st.have_cli_group) {
		fprintf(stderr, "tundra exporter: no targets: give --config FILE or hosts\n\n");
		usage(stderr);
		return 2;
	}
	if (td_os_random(st.key, sizeof(st.key))) {
		fprintf(stderr, "tundra exporter: getrandom failed\n");
		return 2;
	}

	/* Every thread started from here inherits these signals blocked; the main
	 * thread takes them synchronously. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	main_thread = pthread_self();
	st.start_time = unix_now();

	err[0] = 0;
	rc = load_config(&cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tundra exporter: %s\n", err[0] ? err : strerror(-rc));
		td_expcfg_free(&cfg);
		return 2;
	}
	pthread_mutex_lock(&st.lock);
	rc = swap_in(&cfg, NULL, err, sizeof(err));
	pthread_mutex_unlock(&st.lock);
	if (rc) {
		fprintf(stderr, "tundra exporter: %s\n", err);
		return 2;
	}
	st.last_reload_ok = true;
	st.last_reload_time = unix_now();
	rc = td_exphttp_start(&http_srv, listen, &lim, &ops, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tundra exporter: %s\n", err);
		exit_code = 2;
		goto out;
	}
	/* every socket of the first configuration is open: no capability is
	 * needed any more */
	drop_caps_once();
	st.ready = true;
	{
		const char *m4 = "-", *m6 = "-";
		for (size_t i = 0; i < st.tab->n_runners; i++) {
			if (st.tab->runners[i].s4)
				m4 = td_icmp_sock_name(&st.tab->runners[i].s4->sock);
			if (st.tab->runners[i].s6)
				m6 = td_icmp_sock_name(&st.tab->runners[i].s6->sock);
		}
		logmsg("listening on %s, %zu series, ICMP sockets: IPv4 %s, IPv6 %s", listen,
		       st.tab->n_series, m4, m6);
	}

	for (;;) {
		uint64_t interval = st.tab->cfg.resolve_interval_ns;
		bool failing = false;
		for (size_t i = 0; i < st.tab->n_ents; i++)
			failing |= !st.tab->ents[i].resolved_once;
		if (failing && interval > 5000000000ull)
			interval = 5000000000ull; /* names never resolved yet: retry sooner */
		struct timespec ts = {.tv_sec = (time_t)(interval / 1000000000ull),
				      .tv_nsec = (long)(interval % 1000000000ull)};
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			main_reload();
			continue;
		}
		if (sig < 0 && errno == EAGAIN)
			main_resolve();
	}
	logmsg("stopping");
out:
	td_exphttp_stop(http_srv);
	http_srv = NULL;
	for (size_t i = 0; st.tab && i < st.tab->n_runners; i++)
		runner_stop(&st.tab->runners[i]);
	table_free(st.tab);
	st.tab = NULL;
	for (size_t i = 0; i < st.n_socks; i++) {
		td_icmp_close(&st.socks[i]->sock);
		free(st.socks[i]->interface);
		free(st.socks[i]->source);
		free(st.socks[i]);
	}
	return exit_code;
}
