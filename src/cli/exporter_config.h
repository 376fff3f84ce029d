/* tundra exporter configuration: smokeping_prober's YAML format plus tundra's own keys. */
#ifndef TUNDRA_CLI_EXPORTER_CONFIG_H
#define TUNDRA_CLI_EXPORTER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Accepted file (smokeping_prober's keys first, then ours):
 *
 *   targets:
 *   - hosts: [a.example, 192.0.2.1]   # or `host: name` (smokeping_prober folds it)
 *     interval: 1s        # Go duration syntax (300ms, 1m30s); default 1s
 *     network: ip         # ip | ip4 | ip6; default ip (every address of both families)
 *     protocol: icmp      # icmp | udp; smokeping_prober's "udp" is the ICMP
 *                         # datagram socket, so it means mode dgram here
 *     size: 56            # ICMP payload bytes, 24..65507
 *     source: 192.0.2.9   # source address; label `source`
 *     tos: 0              # 0..255; label `tos`
 *     labels: {k: v}      # extra labels on every series of the group
 *     interface: eth0     # ours: SO_BINDTODEVICE
 *     ttl: 64             # ours: TTL / hop limit, 1..255
 *     mark: 0x10          # ours: SO_MARK
 *     mode: auto          # ours: auto | dgram | raw
 *     timeout: 1s         # ours: a reply later than this is a timeout;
 *                         # default max(interval, 5s)
 *   resolve_interval: 60s # ours (top level): how often names are resolved again
 *
 * Unknown keys, wrong types and out-of-range values are errors that name the
 * file, the line and the reason: a typo must not silently fall back to a default.
 */

enum td_expcfg_network { TD_EXPCFG_NET_IP, TD_EXPCFG_NET_IP4, TD_EXPCFG_NET_IP6 };
enum td_expcfg_mode { TD_EXPCFG_MODE_AUTO, TD_EXPCFG_MODE_DGRAM, TD_EXPCFG_MODE_RAW };

#define TD_EXPCFG_MAX_LABELS 32
#define TD_EXPCFG_ERR_LEN 512

struct td_expcfg_label {
	char *name;
	char *value;
};

struct td_expcfg_group {
	char **hosts;
	size_t n_hosts;
	uint64_t interval_ns;
	uint64_t timeout_ns;
	enum td_expcfg_network network;
	enum td_expcfg_mode mode;
	unsigned size;
	char *source;   /* NULL: automatic */
	unsigned tos;
	char *interface; /* NULL: none */
	unsigned ttl;    /* 0: system default */
	uint32_t mark;
	bool has_mark;
	struct td_expcfg_label *labels;
	size_t n_labels;
	int line; /* line of the group in the file, for messages */
};

struct td_expcfg {
	struct td_expcfg_group *groups;
	size_t n_groups;
	/* Sorted union of every group's label names: every series carries all of
	 * them (empty when a group lacks one), as smokeping_prober does. */
	char **label_names;
	size_t n_label_names;
	uint64_t resolve_interval_ns;
};

/* max(interval, 5 s): the timeout when none is given. */
uint64_t td_expcfg_default_timeout(uint64_t interval_ns);

/* Group defaults (smokeping_prober's: 1s, ip, icmp, 56). */
void td_expcfg_group_defaults(struct td_expcfg_group *g);

/*
 * Parse YAML text. `name` is used in error messages. On success fills *out
 * (caller frees with td_expcfg_free) and returns 0; on failure returns -EINVAL
 * and writes "name:line: reason" into err. *out is untouched on failure.
 */
int td_expcfg_parse(const char *text, size_t len, const char *name, struct td_expcfg *out,
		    char err[TD_EXPCFG_ERR_LEN]);

/* Read and parse a file; -errno / -EINVAL with the reason in err. */
int td_expcfg_load(const char *path, struct td_expcfg *out, char err[TD_EXPCFG_ERR_LEN]);

/* Append a group made by the caller (command-line targets); takes ownership of
 * g's allocations. Recomputes label_names. Returns 0 or -ENOMEM. */
int td_expcfg_add_group(struct td_expcfg *c, struct td_expcfg_group *g);

/* Parse a Go time.ParseDuration string ("1.5s", "1m30s", "300ms", "0").
 * Returns 0 or -EINVAL. */
int td_expcfg_parse_duration(const char *s, uint64_t *ns);

/* Deep copy; 0 or -ENOMEM (dst untouched on failure). */
int td_expcfg_dup(struct td_expcfg *dst, const struct td_expcfg *src);

void td_expcfg_free(struct td_expcfg *c);

#endif
