/* Parse tundra exporter's YAML configuration (smokeping_prober's format plus our keys) with libyaml. */
#include "cli/exporter_config.h"
#include "cli/exporter_index.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_CONFIG_BYTES (16u << 20)
#define MAX_HOST_LEN 253
#define MAX_INTERVAL_NS (3600ull * 1000000000ull)
#define MIN_INTERVAL_NS 1000000ull /* 1 ms */
/* Largest ICMP payload that fits an IPv4 datagram: 65535 - 20 - 8. */
#define MAX_SIZE 65507u
#define MIN_SIZE 24u /* smokeping_prober's lower bound */

struct parse_ctx {
	yaml_document_t *doc;
	const char *name;
	char *err;
};

static int cfg_fail(struct parse_ctx *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_fail(struct parse_ctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int off = snprintf(p->err, TD_EXPCFG_ERR_LEN, "%s:%zu: ", p->name,
			   n ? (size_t)n->start_mark.line + 1 : (size_t)1);
	if (off < 0 || off >= TD_EXPCFG_ERR_LEN)
		return -EINVAL;
	va_start(ap, fmt);
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start above
	vsnprintf(p->err + off, TD_EXPCFG_ERR_LEN - (size_t)off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

uint64_t td_expcfg_default_timeout(uint64_t interval_ns)
{
	/* smokeping_prober never gives up on a reply; a slow reply should still
	 * land in the histogram, so wait at least 5 s before calling it lost */
	return interval_ns > 5000000000ull ? interval_ns : 5000000000ull;
}

void td_expcfg_group_defaults(struct td_expcfg_group *g)
{
	memset(g, 0, sizeof(*g));
	g->interval_ns = 1000000000ull;
	g->network = TD_EXPCFG_NET_IP;
	g->mode = TD_EXPCFG_MODE_AUTO;
	g->size = 56;
	g->timeout_ns = td_expcfg_default_timeout(g->interval_ns);
}

/* Go time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0". Negative
 * durations make no sense here and are refused. */
int td_expcfg_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {{"ns", 1.0},   {"us", 1e3},    {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
		     {"ms", 1e6},   {"s", 1e9},     {"m", 60e9},        {"h", 3600e9}};
	double total = 0;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '+')
		s++;
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	while (*s) {
		double v = 0, frac = 0.1;
		int digits = 0;
		size_t best = 0;
		double mult = 0;

		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s)) {
				v += (*s++ - '0') * frac;
				frac /= 10;
				digits++;
			}
		}
		if (!digits)
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			/* longest match so "ms" wins over "m" */
			if (l > best && !strncmp(s, units[i].unit, l)) {
				best = l;
				mult = units[i].mult;
			}
		}
		if (!best)
			return -EINVAL;
		s += best;
		total += v * mult;
		if (total > 1e18)
			return -EINVAL;
	}
	*ns = (uint64_t)(total + 0.5);
	return 0;
}

static int get_duration(struct parse_ctx *p, const yaml_node_t *v, const char *key, uint64_t *out)
{
	const char *s = scalar(v);
	if (!s)
		return cfg_fail(p, v, "%s: expected a duration such as 1s or 500ms", key);
	if (td_expcfg_parse_duration(s, out))
		return cfg_fail(p, v, "%s: '%s' is not a duration (use a unit: 500ms, 1s, 1m30s)", key,
			    s);
	return 0;
}

static int get_uint(struct parse_ctx *p, const yaml_node_t *v, const char *key, uint64_t lo,
		    uint64_t hi, uint64_t *out)
{
	const char *s = scalar(v);
	char *end;
	unsigned long long x;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return cfg_fail(p, v, "%s: expected an integer %" PRIu64 "..%" PRIu64, key, lo, hi);
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return cfg_fail(p, v, "%s: '%s' is not an integer", key, s);
	if (x < lo || x > hi)
		return cfg_fail(p, v, "%s: %llu is out of range %" PRIu64 "..%" PRIu64, key, x, lo,
			    hi);
	*out = x;
	return 0;
}

static int get_string(struct parse_ctx *p, const yaml_node_t *v, const char *key, char **out)
{
	const char *s = scalar(v);
	if (!s)
		return cfg_fail(p, v, "%s: expected a string", key);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* A host is a name or an address literal: printable, no spaces, not empty. */
static bool host_ok(const char *h)
{
	size_t n = strlen(h);
	if (!n || n > MAX_HOST_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)h[i]))
			return false;
	return true;
}

/* Prometheus label name syntax; names starting "__" are reserved. */
static bool label_name_ok(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	if (s[0] == '_' && s[1] == '_')
		return false;
	for (const char *c = s + 1; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '_'))
			return false;
	return true;
}

static int add_host(struct parse_ctx *p, struct td_expcfg_group *g, const yaml_node_t *v)
{
	const char *s = scalar(v);
	char **nh;

	if (!s)
		return cfg_fail(p, v, "hosts: each host must be a string");
	if (!host_ok(s))
		return cfg_fail(p, v, "hosts: '%s' is not a host name or address", s);
	nh = realloc(g->hosts, (g->n_hosts + 1) * sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	g->hosts = nh;
	g->hosts[g->n_hosts] = strdup(s);
	if (!g->hosts[g->n_hosts])
		return -ENOMEM;
	g->n_hosts++;
	return 0;
}

static int parse_labels(struct parse_ctx *p, struct td_expcfg_group *g, yaml_node_t *m)
{
	static const char *const reserved[] = {"host", "ip", "source", "tos"};

	if (m->type != YAML_MAPPING_NODE)
		return cfg_fail(p, m, "labels: expected a mapping of label name to value");
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *ks = scalar(k), *vs = scalar(v);
		struct td_expcfg_label *nl;

		if (!ks || !label_name_ok(ks))
			return cfg_fail(p, k, "labels: '%s' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not __*)",
				    ks ? ks : "?");
		for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (!strcmp(ks, reserved[i]))
				return cfg_fail(p, k, "labels: '%s' is set by the exporter and cannot be a config label",
					    ks);
		if (!vs)
			return cfg_fail(p, v, "labels: value of '%s' must be a string", ks);
		for (size_t i = 0; i < g->n_labels; i++)
			if (!strcmp(g->labels[i].name, ks))
				return cfg_fail(p, k, "labels: '%s' given twice", ks);
		if (g->n_labels >= TD_EXPCFG_MAX_LABELS)
			return cfg_fail(p, k, "labels: more than %d labels", TD_EXPCFG_MAX_LABELS);
		nl = realloc(g->labels, (g->n_labels + 1) * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		g->labels = nl;
		nl[g->n_labels].name = strdup(ks);
		nl[g->n_labels].value = strdup(vs);
		g->n_labels++;
		if (!nl[g->n_labels - 1].name || !nl[g->n_labels - 1].value)
			return -ENOMEM;
	}
	return 0;
}

static void group_free(struct td_expcfg_group *g)
{
	for (size_t i = 0; i < g->n_hosts; i++)
		free(g->hosts[i]);
	free(g->hosts);
	for (size_t i = 0; i < g->n_labels; i++) {
		free(g->labels[i].name);
		free(g->labels[i].value);
	}
	free(g->labels);
	free(g->source);
	free(g->interface);
	memset(g, 0, sizeof(*g));
}

static int parse_group(struct parse_ctx *p, yaml_node_t *m, struct td_expcfg_group *g)
{
	bool seen_timeout = false, seen_mode = false, seen_protocol_udp = false;
	const yaml_node_t *host_node = NULL;
	int rc;

	td_expcfg_group_defaults(g);
	g->line = (int)m->start_mark.line + 1;
	if (m->type != YAML_MAPPING_NODE)
		return cfg_fail(p, m, "targets: each entry must be a mapping with 'hosts'");

	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key = scalar(k);
		uint64_t x = 0;

		if (!key)
			return cfg_fail(p, k, "keys must be strings");
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < pr; q++) {
			const char *other = scalar(yaml_document_get_node(p->doc, q->key));
			if (other && !strcmp(other, key))
				return cfg_fail(p, k, "'%s' given twice in this group", key);
		}
		if (!strcmp(key, "hosts")) {
			struct td_xidx seen;
			if (v->type != YAML_SEQUENCE_NODE)
				return cfg_fail(p, v, "hosts: expected a list of host names or addresses");
			if (td_xidx_init(&seen, (size_t)(v->data.sequence.items.top -
							 v->data.sequence.items.start)))
				return -ENOMEM;
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *hn = yaml_document_get_node(p->doc, *it);
				const char *hs = scalar(hn);
				if (hs && td_xidx_put(&seen, hs, strlen(hs), 0) != (size_t)-1)
					rc = cfg_fail(p, hn, "hosts: '%s' is listed twice in this group", hs);
				else
					rc = add_host(p, g, hn);
				if (rc) {
					td_xidx_free(&seen);
					return rc;
				}
			}
			td_xidx_free(&seen);
		} else if (!strcmp(key, "host")) {
			/* smokeping_prober folds a single `host` into `hosts` when hosts is empty */
			host_node = v;
			if (!scalar(v))
				return cfg_fail(p, v, "host: expected a host name or address");
		} else if (!strcmp(key, "interval")) {
			if ((rc = get_duration(p, v, key, &g->interval_ns)))
				return rc;
			if (g->interval_ns < MIN_INTERVAL_NS || g->interval_ns > MAX_INTERVAL_NS)
				return cfg_fail(p, v, "interval: %s is outside 1ms..1h", scalar(v));
		} else if (!strcmp(key, "timeout")) {
			if ((rc = get_duration(p, v, key, &g->timeout_ns)))
				return rc;
			if (g->timeout_ns < MIN_INTERVAL_NS || g->timeout_ns > MAX_INTERVAL_NS)
				return cfg_fail(p, v, "timeout: %s is outside 1ms..1h", scalar(v));
			seen_timeout = true;
		} else if (!strcmp(key, "network")) {
			const char *s = scalar(v);
			if (s && !strcmp(s, "ip"))
				g->network = TD_EXPCFG_NET_IP;
			else if (s && !strcmp(s, "ip4"))
				g->network = TD_EXPCFG_NET_IP4;
			else if (s && !strcmp(s, "ip6"))
				g->network = TD_EXPCFG_NET_IP6;
			else
				return cfg_fail(p, v, "network: '%s' is not one of ip, ip4, ip6",
					    s ? s : "?");
		} else if (!strcmp(key, "protocol")) {
			const char *s = scalar(v);
			if (s && !strcmp(s, "udp"))
				seen_protocol_udp = true;
			else if (!s || strcmp(s, "icmp") != 0)
				return cfg_fail(p, v, "protocol: '%s' is not one of icmp, udp",
					    s ? s : "?");
		} else if (!strcmp(key, "mode")) {
			const char *s = scalar(v);
			if (s && !strcmp(s, "auto"))
				g->mode = TD_EXPCFG_MODE_AUTO;
			else if (s && !strcmp(s, "dgram"))
				g->mode = TD_EXPCFG_MODE_DGRAM;
			else if (s && !strcmp(s, "raw"))
				g->mode = TD_EXPCFG_MODE_RAW;
			else
				return cfg_fail(p, v, "mode: '%s' is not one of auto, dgram, raw",
					    s ? s : "?");
			seen_mode = true;
		} else if (!strcmp(key, "size")) {
			if ((rc = get_uint(p, v, key, MIN_SIZE, MAX_SIZE, &x)))
				return rc;
			g->size = (unsigned)x;
		} else if (!strcmp(key, "tos")) {
			if ((rc = get_uint(p, v, key, 0, 255, &x)))
				return rc;
			g->tos = (unsigned)x;
		} else if (!strcmp(key, "ttl")) {
			if ((rc = get_uint(p, v, key, 1, 255, &x)))
				return rc;
			g->ttl = (unsigned)x;
		} else if (!strcmp(key, "mark")) {
			if ((rc = get_uint(p, v, key, 0, UINT32_MAX, &x)))
				return rc;
			g->mark = (uint32_t)x;
			g->has_mark = true;
		} else if (!strcmp(key, "source")) {
			if ((rc = get_string(p, v, key, &g->source)))
				return rc;
			if (!host_ok(g->source))
				return cfg_fail(p, v, "source: '%s' is not an address", g->source);
		} else if (!strcmp(key, "interface")) {
			if ((rc = get_string(p, v, key, &g->interface)))
				return rc;
			/* IFNAMSIZ - 1 */
			if (!*g->interface || strlen(g->interface) > 15 || !host_ok(g->interface))
				return cfg_fail(p, v, "interface: '%s' is not an interface name",
					    g->interface);
		} else if (!strcmp(key, "labels")) {
			if ((rc = parse_labels(p, g, v)))
				return rc;
		} else {
			return cfg_fail(p, k,
				    "unknown key '%s' (known: hosts, host, interval, network, protocol, size, source, tos, labels, interface, ttl, mark, mode, timeout)",
				    key);
		}
	}
	if (host_node && !g->n_hosts && (rc = add_host(p, g, host_node)))
		return rc;
	if (!g->n_hosts)
		return cfg_fail(p, m, "target group has no hosts");
	/* interface: binds the group's socket to one device: a host zoned to
	 * another link could never be reached through it (tundra ping -I refuses
	 * the same). A numeric zone is checked when the host is resolved. */
	for (size_t i = 0; g->interface && i < g->n_hosts; i++) {
		const char *z = strchr(g->hosts[i], '%');
		bool numeric = z && z[1] && !z[1 + strspn(z + 1, "0123456789")];
		if (z && z[1] && !numeric && strcmp(z + 1, g->interface) != 0)
			return cfg_fail(p, m, "hosts: '%s' names another link than interface: %s",
					g->hosts[i], g->interface);
	}
	if (seen_protocol_udp && !seen_mode)
		g->mode = TD_EXPCFG_MODE_DGRAM;
	if (!seen_timeout)
		g->timeout_ns = td_expcfg_default_timeout(g->interval_ns);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_label_names(struct td_expcfg *c)
{
	for (size_t i = 0; i < c->n_label_names; i++)
		free(c->label_names[i]);
	free(c->label_names);
	c->label_names = NULL;
	c->n_label_names = 0;
}

static int compute_label_names(struct td_expcfg *c)
{
	size_t n = 0, cap = 0;
	char **names = NULL;

	free_label_names(c);
	for (size_t gi = 0; gi < c->n_groups; gi++)
		cap += c->groups[gi].n_labels;
	if (!cap)
		return 0;
	names = calloc(cap, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t gi = 0; gi < c->n_groups; gi++) {
		const struct td_expcfg_group *g = &c->groups[gi];
		for (size_t li = 0; li < g->n_labels; li++) {
			bool dup = false;
			for (size_t j = 0; j < n && !dup; j++)
				dup = names[j] && g->labels[li].name &&
				      strcmp(names[j], g->labels[li].name) == 0;
			if (dup || !g->labels[li].name)
				continue;
			names[n] = strdup(g->labels[li].name);
			if (!names[n]) {
				c->label_names = names;
				c->n_label_names = n;
				free_label_names(c);
				return -ENOMEM;
			}
			n++;
		}
	}
	qsort(names, n, sizeof(*names), cmp_str);
	c->label_names = names;
	c->n_label_names = n;
	return 0;
}

static const char *label_value(const struct td_expcfg_group *g, const char *name)
{
	for (size_t i = 0; i < g->n_labels; i++)
		if (!strcmp(g->labels[i].name, name))
			return g->labels[i].value;
	return "";
}

/* Two groups listing one host with the same source, tos and labels would make
 * two series with one label set: Prometheus rejects such an exposition. Key
 * "source\x01tos\x01name=value...\x02host" per host, in one index. */
static char *series_key(const struct td_expcfg *c, const struct td_expcfg_group *g,
			const char *host)
{
	size_t n = strlen(host) + (g->source ? strlen(g->source) : 0) + 16;
	char *k, *w;

	for (size_t i = 0; i < c->n_label_names; i++)
		n += strlen(c->label_names[i]) + strlen(label_value(g, c->label_names[i])) + 2;
	k = malloc(n);
	if (!k)
		return NULL;
	w = k + sprintf(k, "%s\x01%u\x01", g->source ? g->source : "", g->tos);
	for (size_t i = 0; i < c->n_label_names; i++)
		w += sprintf(w, "%s=%s\x01", c->label_names[i], label_value(g, c->label_names[i]));
	sprintf(w, "\x02%s", host);
	return k;
}

static int check_duplicates(struct td_expcfg *c, char *err, const char *name)
{
	size_t total = 0, nk = 0;
	struct td_xidx idx;
	char **keys;
	int rc = 0;

	for (size_t gi = 0; gi < c->n_groups; gi++)
		total += c->groups[gi].n_hosts;
	keys = calloc(total ? total : 1, sizeof(*keys));
	if (!keys || td_xidx_init(&idx, total)) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t gi = 0; gi < c->n_groups && !rc; gi++)
		for (size_t hi = 0; hi < c->groups[gi].n_hosts && !rc; hi++) {
			char *k = series_key(c, &c->groups[gi], c->groups[gi].hosts[hi]);
			size_t prev;
			if (!k) {
				rc = -ENOMEM;
				break;
			}
			keys[nk++] = k;
			prev = td_xidx_put(&idx, k, strlen(k), gi);
			if (prev != (size_t)-1) {
				snprintf(err, TD_EXPCFG_ERR_LEN,
					 "%s:%d: host '%s' already listed in the group at line %d with the same source, tos and labels",
					 name, c->groups[gi].line, c->groups[gi].hosts[hi],
					 c->groups[prev].line);
				rc = -EINVAL;
			}
		}
	td_xidx_free(&idx);
	for (size_t i = 0; i < nk; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

void td_expcfg_free(struct td_expcfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_groups; i++)
		group_free(&c->groups[i]);
	free(c->groups);
	free_label_names(c);
	memset(c, 0, sizeof(*c));
}

static int parse_root(struct parse_ctx *p, yaml_node_t *root, struct td_expcfg *c)
{
	int rc;

	if (!root) /* empty file: no targets, like smokeping_prober */
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return cfg_fail(p, root, "the top level must be a mapping with 'targets'");
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const char *key = scalar(k);

		if (!key)
			return cfg_fail(p, k, "keys must be strings");
		if (!strcmp(key, "targets")) {
			if (c->groups)
				return cfg_fail(p, k, "'targets' given twice");
			if (v->type == YAML_SCALAR_NODE && !*scalar(v))
				continue; /* "targets:" with nothing after it */
			if (v->type != YAML_SEQUENCE_NODE)
				return cfg_fail(p, v, "targets: expected a list of target groups");
			size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
			if (!n)
				continue;
			c->groups = calloc(n, sizeof(*c->groups));
			if (!c->groups)
				return -ENOMEM;
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				rc = parse_group(p, yaml_document_get_node(p->doc, *it),
						 &c->groups[c->n_groups]);
				c->n_groups++; /* counted even on failure so free() sees it */
				if (rc)
					return rc;
			}
		} else if (!strcmp(key, "resolve_interval")) {
			if ((rc = get_duration(p, v, key, &c->resolve_interval_ns)))
				return rc;
			if (c->resolve_interval_ns < 1000000000ull ||
			    c->resolve_interval_ns > 24 * MAX_INTERVAL_NS)
				return cfg_fail(p, v, "resolve_interval: %s is outside 1s..24h",
					    scalar(v));
		} else {
			return cfg_fail(p, k, "unknown top-level key '%s' (known: targets, resolve_interval)",
				    key);
		}
	}
	return 0;
}

int td_expcfg_parse(const char *text, size_t len, const char *name, struct td_expcfg *out,
		    char err[TD_EXPCFG_ERR_LEN])
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct td_expcfg c = {.resolve_interval_ns = 60ull * 1000000000ull};
	struct parse_ctx p = {.doc = &doc, .name = name, .err = err};
	int rc;

	err[0] = 0;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, TD_EXPCFG_ERR_LEN, "%s:%zu: %s%s%s", name,
			 (size_t)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "YAML syntax error",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	rc = parse_root(&p, yaml_document_get_root_node(&doc), &c);
	if (!rc)
		rc = compute_label_names(&c);
	if (!rc)
		rc = check_duplicates(&c, err, name);
	if (rc == -ENOMEM && !err[0])
		snprintf(err, TD_EXPCFG_ERR_LEN, "%s: out of memory", name);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc) {
		td_expcfg_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

int td_expcfg_load(const char *path, struct td_expcfg *out, char err[TD_EXPCFG_ERR_LEN])
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, TD_EXPCFG_ERR_LEN, "%s: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(MAX_CONFIG_BYTES + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, MAX_CONFIG_BYTES + 1, f);
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, TD_EXPCFG_ERR_LEN, "%s: read error", path);
	} else if (n > MAX_CONFIG_BYTES) {
		rc = -EFBIG;
		snprintf(err, TD_EXPCFG_ERR_LEN, "%s: larger than %u bytes", path,
			 MAX_CONFIG_BYTES);
	} else {
		rc = td_expcfg_parse(buf, n, path, out, err);
	}
	free(buf);
	fclose(f);
	return rc;
}

int td_expcfg_add_group(struct td_expcfg *c, struct td_expcfg_group *g)
{
	struct td_expcfg_group *ng = realloc(c->groups, (c->n_groups + 1) * sizeof(*ng));
	if (!ng)
		return -ENOMEM;
	c->groups = ng;
	c->groups[c->n_groups++] = *g;
	memset(g, 0, sizeof(*g));
	return compute_label_names(c);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;
	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int td_expcfg_dup(struct td_expcfg *dst, const struct td_expcfg *src)
{
	struct td_expcfg c = {.resolve_interval_ns = src->resolve_interval_ns};
	bool oom = false;

	c.groups = calloc(src->n_groups ? src->n_groups : 1, sizeof(*c.groups));
	if (!c.groups)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_groups; i++) {
		const struct td_expcfg_group *sg = &src->groups[i];
		struct td_expcfg_group *g = &c.groups[i];
		*g = *sg;
		g->hosts = calloc(sg->n_hosts ? sg->n_hosts : 1, sizeof(char *));
		g->labels = calloc(sg->n_labels ? sg->n_labels : 1, sizeof(*g->labels));
		g->source = dup_or_null(sg->source, &oom);
		g->interface = dup_or_null(sg->interface, &oom);
		c.n_groups++;
		if (!g->hosts || !g->labels) {
			g->n_hosts = g->n_labels = 0;
			oom = true;
			break;
		}
		for (size_t h = 0; h < sg->n_hosts; h++)
			g->hosts[h] = dup_or_null(sg->hosts[h], &oom);
		for (size_t l = 0; l < sg->n_labels; l++) {
			g->labels[l].name = dup_or_null(sg->labels[l].name, &oom);
			g->labels[l].value = dup_or_null(sg->labels[l].value, &oom);
		}
	}
	if (oom || compute_label_names(&c)) {
		td_expcfg_free(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}
