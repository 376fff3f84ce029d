/* `tundra decode`: print each packet of a pcap file (or one raw packet) layer by layer, like `tshark -V`. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <tundra/wire.h>

#include "cli/cli.h"
#include "os/readfile.h"

#define MAX_FILE (1u << 30)

/* Link types we can reach IP through (www.tcpdump.org/linktypes.html). */
#define LINKTYPE_NULL 0 /* BSD loopback: 4-byte address family, writer's byte order */
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_LINUX_SLL 113  /* tcpdump -i any, 16-byte cooked header */
#define LINKTYPE_IPV4 228
#define LINKTYPE_IPV6 229
#define LINKTYPE_LINUX_SLL2 276 /* tcpdump -i any (newer), 20-byte cooked header */

static void indent(int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("    ", stdout);
}

/* One output line at an indentation depth, tshark -V style. A macro rather
 * than a va_list function: the format string stays visible to -Wformat. */
#define line(depth, ...)                  \
	do {                              \
		indent(depth);            \
		printf(__VA_ARGS__);      \
		putchar('\n');            \
	} while (0)

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case TD_IPPROTO_HOPOPTS: return "IPv6 Hop-by-Hop Option";
	case TD_IPPROTO_ICMP: return "ICMP";
	case TD_IPPROTO_TCP: return "TCP";
	case TD_IPPROTO_UDP: return "UDP";
	case TD_IPPROTO_ROUTING: return "Routing Header for IPv6";
	case TD_IPPROTO_FRAGMENT: return "Fragment Header for IPv6";
	case TD_IPPROTO_ICMPV6: return "ICMPv6";
	case TD_IPPROTO_NONE: return "No Next Header for IPv6";
	case TD_IPPROTO_DSTOPTS: return "Destination Options for IPv6";
	default: return "Unknown";
	}
}

static const char *icmp4_name(uint8_t type, uint8_t code)
{
	switch (type) {
	case TD_ICMP4_ECHO_REPLY: return "Echo (ping) reply";
	case TD_ICMP4_ECHO_REQUEST: return "Echo (ping) request";
	case TD_ICMP4_DEST_UNREACH:
		switch (code) {
		case 0: return "Destination unreachable (Network unreachable)";
		case 1: return "Destination unreachable (Host unreachable)";
		case 2: return "Destination unreachable (Protocol unreachable)";
		case 3: return "Destination unreachable (Port unreachable)";
		case TD_ICMP4_CODE_FRAG_NEEDED:
			return "Destination unreachable (Fragmentation needed)";
		default: return "Destination unreachable";
		}
	case TD_ICMP4_REDIRECT: return "Redirect";
	case TD_ICMP4_TIME_EXCEEDED: return "Time-to-live exceeded";
	case TD_ICMP4_PARAM_PROBLEM: return "Parameter problem";
	default: return "Unknown";
	}
}

static const char *icmp6_name(uint8_t type, uint8_t code)
{
	switch (type) {
	case TD_ICMP6_DEST_UNREACH:
		switch (code) {
		case 0: return "Destination Unreachable (no route to destination)";
		case 1: return "Destination Unreachable (administratively prohibited)";
		case 3: return "Destination Unreachable (Address unreachable)";
		case 4: return "Destination Unreachable (Port unreachable)";
		default: return "Destination Unreachable";
		}
	case TD_ICMP6_PACKET_TOO_BIG: return "Packet Too Big";
	case TD_ICMP6_TIME_EXCEEDED: return "Time Exceeded";
	case TD_ICMP6_PARAM_PROBLEM: return "Parameter Problem";
	case TD_ICMP6_ECHO_REQUEST: return "Echo (ping) request";
	case TD_ICMP6_ECHO_REPLY: return "Echo (ping) reply";
	case 133: return "Router Solicitation";
	case 134: return "Router Advertisement";
	case 135: return "Neighbor Solicitation";
	case 136: return "Neighbor Advertisement";
	case 143: return "Multicast Listener Report Message v2";
	default: return "Unknown";
	}
}

static const char *addr4(uint32_t a, char *buf)
{
	uint32_t n = htonl(a);
	return inet_ntop(AF_INET, &n, buf, INET_ADDRSTRLEN);
}

static const char *addr6(const uint8_t *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* The checksum field a packet should carry, given the value it carries and
 * the result of summing it (RFC 1624: remove the field, complement). */
static uint16_t should_be(uint16_t field, uint16_t total)
{
	uint32_t s = (uint32_t)(uint16_t)~total + (uint16_t)~field;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void csum_lines(int depth, const char *what, uint16_t field, uint16_t total,
		       bool checked)
{
	if (!checked) {
		line(depth, "%s: 0x%04x [unverified]", what, field);
		line(depth, "[%s Status: Unverified]", what);
	} else if (total == 0) {
		line(depth, "%s: 0x%04x [correct]", what, field);
		line(depth, "[%s Status: Good]", what);
	} else {
		line(depth, "%s: 0x%04x incorrect, should be 0x%04x", what, field,
		     should_be(field, total));
		line(depth, "[%s Status: Bad]", what);
	}
}

static void malformed(int depth, const char *what, enum td_wire_err e)
{
	line(depth, "[Malformed %s: %s]", what, td_wire_strerror(e));
}

static void decode_ip(const uint8_t *p, size_t len, int depth, bool quoted);

/* ---- transport ------------------------------------------------------------ */

struct pseudo {
	bool v6;
	uint32_t src4, dst4;
	const uint8_t *src6, *dst6;
};

static uint32_t pseudo_sum(const struct pseudo *ps, uint8_t proto, size_t len)
{
	return ps->v6 ? td_csum_pseudo6(ps->src6, ps->dst6, proto, (uint32_t)len)
		      : td_csum_pseudo4(ps->src4, ps->dst4, proto, (uint16_t)len);
}

static void decode_udp(const uint8_t *p, size_t len, const struct pseudo *ps, int depth,
		       bool quoted)
{
	struct td_udp_repr r;
	enum td_wire_err e = td_udp_parse(p, len, 0, TD_WIRE_SKIP_CSUM, &r);

	if (e != TD_WIRE_OK) {
		line(depth, "User Datagram Protocol");
		malformed(depth + 1, "UDP", e);
		return;
	}
	line(depth, "User Datagram Protocol, Src Port: %u, Dst Port: %u", r.src_port, r.dst_port);
	line(depth + 1, "Source Port: %u", r.src_port);
	line(depth + 1, "Destination Port: %u", r.dst_port);
	line(depth + 1, "Length: %u", td_get_be16(p + 4));
	uint16_t field = td_get_be16(p + 6);
	size_t ulen = td_get_be16(p + 4);
	if (field == 0 && !ps->v6) {
		line(depth + 1, "Checksum: 0x0000 [zero-value ignored]");
	} else {
		uint16_t total = td_csum_finish(td_csum_add(pseudo_sum(ps, TD_IPPROTO_UDP, ulen), p,
							    ulen));
		csum_lines(depth + 1, "Checksum", field, field == 0 ? 1 : total, !quoted);
	}
	line(depth + 1, "UDP payload (%zu bytes)", r.payload.len);
}

static void tcp_flags(uint8_t f, char *buf, size_t cap)
{
	static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
	static const int order[8] = {0, 1, 2, 3, 4, 5, 6, 7}; /* as tshark lists them */
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < 8; i++) {
		int b = order[i];
		if (f & (1u << b))
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", names[b]);
		if (n >= cap)
			break;
	}
}

static const char *tcp_opt_name(uint8_t kind)
{
	switch (kind) {
	case 0: return "End of Option List (EOL)";
	case 1: return "No-Operation (NOP)";
	case 2: return "Maximum segment size";
	case 3: return "Window scale";
	case 4: return "SACK permitted";
	case 5: return "SACK";
	case 8: return "Timestamps";
	case 30: return "Multipath TCP";
	case 34: return "TCP Fast Open Cookie";
	default: return "Unknown";
	}
}

static void tcp_option_line(int depth, const struct td_tcp_opt *o)
{
	const uint8_t *d = o->data.ptr;
	if (o->kind == 2 && o->len == 4) {
		line(depth, "TCP Option - Maximum segment size: %u bytes", td_get_be16(d));
	} else if (o->kind == 3 && o->len == 3) {
		unsigned s = d[0] > 14 ? 14 : d[0];
		line(depth, "TCP Option - Window scale: %u (multiply by %u)", d[0], 1u << s);
	} else if (o->kind == 8 && o->len == 10) {
		line(depth, "TCP Option - Timestamps: TSval %" PRIu32 ", TSecr %" PRIu32,
		     td_get_be32(d), td_get_be32(d + 4));
	} else if (o->kind == 5 && o->len >= 10 && (o->len - 2) % 8 == 0) {
		unsigned nb = (o->len - 2u) / 8;
		line(depth, "TCP Option - SACK (%u block%s)", nb, nb == 1 ? "" : "s");
		for (unsigned k = 0; k < (o->len - 2u) / 8; k++)
			line(depth + 1, "left edge = %" PRIu32 ", right edge = %" PRIu32,
			     td_get_be32(d + 8 * k), td_get_be32(d + 8 * k + 4));
	} else if (o->len <= 2) {
		line(depth, "TCP Option - %s", tcp_opt_name(o->kind));
	} else {
		line(depth, "TCP Option - %s (kind %u, %u bytes)", tcp_opt_name(o->kind), o->kind,
		     o->len);
	}
}

static void decode_tcp(const uint8_t *p, size_t len, const struct pseudo *ps, int depth,
		       bool quoted)
{
	struct td_tcp_view v;
	struct td_tcp_repr r;
	uint32_t sum = pseudo_sum(ps, TD_IPPROTO_TCP, len);
	enum td_wire_err e = td_tcp_check(&v, p, len, sum, TD_WIRE_SKIP_CSUM);

	if (e != TD_WIRE_OK) {
		line(depth, "Transmission Control Protocol");
		if (quoted && len >= 8)
			line(depth + 1, "Source Port: %u, Destination Port: %u, Sequence Number: %" PRIu32,
			     td_get_be16(p), td_get_be16(p + 2), td_get_be32(p + 4));
		else
			malformed(depth + 1, "TCP", e);
		return;
	}
	enum td_wire_err oe = td_tcp_parse(&v, &r);
	line(depth, "Transmission Control Protocol, Src Port: %u, Dst Port: %u, Seq: %" PRIu32
		    ", Ack: %" PRIu32 ", Len: %zu",
	     r.src_port, r.dst_port, r.seq, r.ack, r.payload.len);
	line(depth + 1, "Source Port: %u", r.src_port);
	line(depth + 1, "Destination Port: %u", r.dst_port);
	line(depth + 1, "Sequence Number (raw): %" PRIu32, r.seq);
	line(depth + 1, "Acknowledgment Number (raw): %" PRIu32, r.ack);
	line(depth + 1, "Header Length: %u bytes (%u)", v.hdr_len, v.hdr_len / 4u);
	char fl[64];
	tcp_flags(r.flags, fl, sizeof(fl));
	line(depth + 1, "Flags: 0x%03x (%s)", ((p[12] & 1u) << 8) | r.flags, fl);
	line(depth + 1, "Window: %u", r.window);
	csum_lines(depth + 1, "Checksum", td_get_be16(p + 16),
		   td_csum_finish(td_csum_add(sum, p, len)), !quoted);
	line(depth + 1, "Urgent Pointer: %u", r.urgent);
	if (v.hdr_len > TD_TCP_HDR_MIN) {
		struct td_tcp_opt o;
		size_t off = 0;
		char names[256];
		size_t n = 0;
		names[0] = 0;
		while (td_tcp_opt_next(&v, &off, &o, &e) && n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, ", %s",
					      tcp_opt_name(o.kind));
		line(depth + 1, "Options: (%u bytes)%s", v.hdr_len - (unsigned)TD_TCP_HDR_MIN, names);
		off = 0;
		while (td_tcp_opt_next(&v, &off, &o, &e))
			tcp_option_line(depth + 2, &o);
		if (oe != TD_WIRE_OK)
			malformed(depth + 2, "TCP option", oe);
	}
	if (r.payload.len)
		line(depth + 1, "TCP payload (%zu bytes)", r.payload.len);
}

static void decode_icmp(const uint8_t *p, size_t len, const struct pseudo *ps, int depth,
			bool quoted)
{
	struct td_icmp_repr r;
	enum td_wire_err e;

	line(depth, ps->v6 ? "Internet Control Message Protocol v6"
			   : "Internet Control Message Protocol");
	e = ps->v6 ? td_icmp6_parse(p, len, ps->src6, ps->dst6, TD_WIRE_SKIP_CSUM, &r)
		   : td_icmp4_parse(p, len, TD_WIRE_SKIP_CSUM, &r);
	if (e != TD_WIRE_OK) {
		malformed(depth + 1, "ICMP", e);
		return;
	}
	line(depth + 1, "Type: %u (%s)", r.type,
	     ps->v6 ? icmp6_name(r.type, r.code) : icmp4_name(r.type, r.code));
	line(depth + 1, "Code: %u", r.code);
	uint32_t acc = ps->v6 ? td_csum_pseudo6(ps->src6, ps->dst6, TD_IPPROTO_ICMPV6, (uint32_t)len)
			      : 0;
	csum_lines(depth + 1, "Checksum", td_get_be16(p + 2),
		   td_csum_finish(td_csum_add(acc, p, len)), !quoted);
	bool echo = ps->v6 ? (r.type == TD_ICMP6_ECHO_REQUEST || r.type == TD_ICMP6_ECHO_REPLY)
			   : (r.type == TD_ICMP4_ECHO_REQUEST || r.type == TD_ICMP4_ECHO_REPLY);
	bool error = ps->v6 ? td_icmp6_is_error(r.type) : td_icmp4_is_error(r.type);
	if (echo) {
		line(depth + 1, "Identifier (BE): %u (0x%04x)", r.ident, r.ident);
		line(depth + 1, "Sequence Number (BE): %u (0x%04x)", r.seq, r.seq);
		line(depth + 1, "Data (%zu bytes)", r.data.len);
	} else if (error) {
		if (r.mtu)
			line(depth + 1, "MTU: %" PRIu32, r.mtu);
		if (r.type == (ps->v6 ? TD_ICMP6_PARAM_PROBLEM : TD_ICMP4_PARAM_PROBLEM))
			line(depth + 1, "Pointer: %" PRIu32, r.pointer);
		if (!quoted && r.data.len)
			decode_ip(r.data.ptr, r.data.len, depth + 1, true);
	} else {
		line(depth + 1, "Rest of header: 0x%08" PRIx32, r.rest_of_header);
		line(depth + 1, "Data (%zu bytes)", r.data.len);
	}
}

static void decode_upper(uint8_t proto, const uint8_t *p, size_t len, const struct pseudo *ps,
			 int depth, bool quoted)
{
	switch (proto) {
	case TD_IPPROTO_TCP: decode_tcp(p, len, ps, depth, quoted); break;
	case TD_IPPROTO_UDP: decode_udp(p, len, ps, depth, quoted); break;
	case TD_IPPROTO_ICMP:
		if (!ps->v6) {
			decode_icmp(p, len, ps, depth, quoted);
			break;
		}
		line(depth, "Data (%zu bytes)", len);
		break;
	case TD_IPPROTO_ICMPV6:
		if (ps->v6) {
			decode_icmp(p, len, ps, depth, quoted);
			break;
		}
		line(depth, "Data (%zu bytes)", len);
		break;
	case TD_IPPROTO_NONE: break;
	default: line(depth, "Data (%zu bytes, protocol %u)", len, proto); break;
	}
}

/* ---- network ---------------------------------------------------------------- */

static const char *ipv4_opt_name(uint8_t type)
{
	switch (type) {
	case 0: return "End of Options List (EOL)";
	case 1: return "No-Operation (NOP)";
	case 7: return "Record Route";
	case 68: return "Time Stamp";
	case 130: return "Security";
	case 131: return "Loose Source Route";
	case 137: return "Strict Source Route";
	case 148: return "Router Alert";
	default: return "Unknown";
	}
}

static void decode_ipv4(const uint8_t *p, size_t len, int depth, bool quoted)
{
	struct td_ipv4_view v;
	struct td_ipv4_repr r;
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	enum td_wire_err e = td_ipv4_check(&v, p, len, TD_WIRE_SKIP_CSUM);

	if (e != TD_WIRE_OK) {
		line(depth, "Internet Protocol Version 4");
		malformed(depth + 1, "IPv4", e);
		return;
	}
	td_ipv4_parse(&v, &r);
	line(depth, "Internet Protocol Version 4, Src: %s, Dst: %s", addr4(r.src, s), addr4(r.dst, d));
	line(depth + 1, "0100 .... = Version: 4");
	unsigned ihl = v.hdr_len / 4u;
	line(depth + 1, ".... %u%u%u%u = Header Length: %u bytes (%u)", (ihl >> 3) & 1u,
	     (ihl >> 2) & 1u, (ihl >> 1) & 1u, ihl & 1u, v.hdr_len, ihl);
	line(depth + 1, "Differentiated Services Field: 0x%02x (DSCP: %u, ECN: %u)", r.tos,
	     (unsigned)r.tos >> 2, r.tos & 3u);
	line(depth + 1, "Total Length: %u", v.len);
	line(depth + 1, "Identification: 0x%04x (%u)", r.ident, r.ident);
	line(depth + 1, "Flags: 0x%u%s%s", (r.df ? 2u : 0u) | (r.mf ? 1u : 0u),
	     r.df ? ", Don't fragment" : "", r.mf ? ", More fragments" : "");
	line(depth + 1, "Fragment Offset: %u", r.frag_off);
	line(depth + 1, "Time to Live: %u", r.ttl);
	line(depth + 1, "Protocol: %s (%u)", proto_name(r.proto), r.proto);
	csum_lines(depth + 1, "Header Checksum", td_get_be16(p + 10), td_csum(p, v.hdr_len), true);
	line(depth + 1, "Source Address: %s", s);
	line(depth + 1, "Destination Address: %s", d);
	if (r.opt_len) {
		line(depth + 1, "Options: (%u bytes)", r.opt_len);
		struct td_ipv4_opt o;
		size_t off = 0;
		while (td_ipv4_opt_next(&v, &off, &o, &e))
			line(depth + 2, "IP Option - %s (%u bytes)", ipv4_opt_name(o.type), o.len);
		if (e != TD_WIRE_OK)
			malformed(depth + 2, "IPv4 option", e);
	}
	if (len > v.len)
		line(depth + 1, "[%zu bytes of trailer after the datagram]", len - v.len);

	struct td_bytes pl = td_ipv4_payload(&v);
	if (td_ipv4_is_fragment(&v) && r.frag_off != 0) {
		line(depth, "Data (%zu bytes, fragment at offset %u of protocol %u)", pl.len,
		     r.frag_off, r.proto);
		return;
	}
	struct pseudo ps = {.v6 = false, .src4 = r.src, .dst4 = r.dst};
	/* A first fragment carries only part of the transport segment: its
	 * checksum covers bytes not here, so it is not verified. */
	decode_upper(r.proto, pl.ptr, pl.len, &ps, depth, quoted || r.mf);
}

/* RFC 8200 §4.2: the two high bits of the type say what a node that does not
 * know the option does. */
static const char *const opt_action[4] = {"skip", "discard", "discard, ICMP",
					  "discard, ICMP unless multicast"};

static void ipv6_option_line(int depth, const struct td_ipv6_opt *o)
{
	const uint8_t *d = o->data.ptr;
	switch (o->type) {
	case 0x00: line(depth, "Pad1"); break;
	case 0x01: line(depth, "PadN: %u bytes", o->len); break;
	case 0x05:
		if (o->len == 2) {
			/* RFC 2711: 0 = MLD, 1 = RSVP, 2 = active networks. */
			unsigned val = td_get_be16(d);
			line(depth, "Router Alert: %s (%u)",
			     val == 0 ? "MLD" : val == 1 ? "RSVP" : "other", val);
			break;
		}
		line(depth, "Router Alert, bad length %u", o->len);
		break;
	case 0xc2:
		if (o->len == 4) {
			line(depth, "Jumbo Payload: %" PRIu32, td_get_be32(d));
			break;
		}
		line(depth, "Jumbo Payload, bad length %u", o->len);
		break;
	default:
		line(depth, "Option 0x%02x, %u bytes (unknown: %s)", o->type, o->len,
		     opt_action[o->type >> 6]);
		break;
	}
}

static void decode_ext(const struct td_ipv6_view *v, const struct td_ipv6_ext *x, int depth)
{
	const uint8_t *h = v->p + x->off;
	line(depth, "%s", proto_name(x->type));
	line(depth + 1, "Next Header: %s (%u)", proto_name(x->next_header), x->next_header);
	if (x->type == TD_IPPROTO_FRAGMENT) {
		uint16_t om = td_get_be16(h + 2);
		line(depth + 1, "Offset: %u (%u bytes)", (unsigned)om >> 3, om & 0xfff8u);
		line(depth + 1, "More Fragments: %s", om & 1 ? "Yes" : "No");
		line(depth + 1, "Identification: 0x%08" PRIx32, td_get_be32(h + 4));
		return;
	}
	line(depth + 1, "Length: %u (%u bytes)", h[1], x->len);
	if (x->type == TD_IPPROTO_ROUTING) {
		line(depth + 1, "Type: %u", h[2]);
		line(depth + 1, "Segments Left: %u", h[3]);
		return;
	}
	struct td_ipv6_opt o;
	enum td_wire_err e;
	size_t off = 0;
	while (td_ipv6_opt_next(v, x, &off, &o, &e))
		ipv6_option_line(depth + 1, &o);
	if (e != TD_WIRE_OK)
		malformed(depth + 1, "IPv6 option", e);
}

static void decode_ipv6(const uint8_t *p, size_t len, int depth, bool quoted)
{
	struct td_ipv6_view v;
	struct td_ipv6_repr r;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	enum td_wire_err e = td_ipv6_check(&v, p, len, 0);

	if (e != TD_WIRE_OK) {
		line(depth, "Internet Protocol Version 6");
		malformed(depth + 1, "IPv6", e);
		return;
	}
	td_ipv6_parse(&v, &r);
	line(depth, "Internet Protocol Version 6, Src: %s, Dst: %s", addr6(r.src, s),
	     addr6(r.dst, d));
	line(depth + 1, "0110 .... = Version: 6");
	line(depth + 1, "Traffic Class: 0x%02x (DSCP: %u, ECN: %u)", r.tclass, (unsigned)r.tclass >> 2,
	     r.tclass & 3u);
	line(depth + 1, "Flow Label: 0x%05" PRIx32, r.flow);
	line(depth + 1, "Payload Length: %u", r.payload_len);
	line(depth + 1, "Next Header: %s (%u)", proto_name(r.next_header), r.next_header);
	line(depth + 1, "Hop Limit: %u", r.hop_limit);
	line(depth + 1, "Source Address: %s", s);
	line(depth + 1, "Destination Address: %s", d);
	if (len > v.len)
		line(depth + 1, "[%zu bytes of trailer after the packet]", len - v.len);
	struct td_ipv6_ext x = {0};
	while (td_ipv6_ext_next(&v, &x))
		decode_ext(&v, &x, depth + 1);

	struct td_bytes up = td_ipv6_upper(&v);
	if (r.has_frag && r.frag.offset != 0) {
		line(depth, "Data (%zu bytes, fragment at offset %u of protocol %u)", up.len,
		     r.frag.offset, v.upper_proto);
		return;
	}
	struct pseudo ps = {.v6 = true, .src6 = p + 8, .dst6 = p + 24};
	decode_upper(v.upper_proto, up.ptr, up.len, &ps, depth,
		     quoted || (r.has_frag && r.frag.more));
}

static void decode_ip(const uint8_t *p, size_t len, int depth, bool quoted)
{
	if (len == 0) {
		line(depth, "[Empty packet]");
		return;
	}
	switch (p[0] >> 4) {
	case 4: decode_ipv4(p, len, depth, quoted); break;
	case 6: decode_ipv6(p, len, depth, quoted); break;
	default: line(depth, "[Not an IP packet: version %u]", (unsigned)p[0] >> 4); break;
	}
}

/* ---- frames ------------------------------------------------------------------- */

static void frame_header(unsigned long n, size_t wire, size_t cap, const struct td_pcap_rec *rec,
			 enum td_pcap_res res)
{
	printf("Frame %lu: %zu bytes on wire (%zu bits), %zu bytes captured (%zu bits)\n", n, wire,
	       wire * 8, cap, cap * 8);
	if (!rec)
		return;
	time_t sec = (time_t)(rec->ts_ns / 1000000000u);
	struct tm tm;
	char when[64];
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%b %e, %Y %H:%M:%S", &tm);
	if (res == TD_PCAP_NSEC)
		line(1, "Arrival Time: %s.%09" PRIu64 " UTC", when, rec->ts_ns % 1000000000u);
	else
		line(1, "Arrival Time: %s.%06" PRIu64 " UTC", when,
		     rec->ts_ns % 1000000000u / 1000u);
	line(1, "Epoch Time: %" PRIu64 ".%09" PRIu64 " seconds", rec->ts_ns / 1000000000u,
	     rec->ts_ns % 1000000000u);
}

static bool link_supported(uint32_t lt)
{
	return lt == TD_PCAP_LINKTYPE_RAW || lt == LINKTYPE_IPV4 || lt == LINKTYPE_IPV6 ||
	       lt == LINKTYPE_ETHERNET || lt == LINKTYPE_LINUX_SLL || lt == LINKTYPE_LINUX_SLL2 ||
	       lt == LINKTYPE_NULL;
}

/* Strip the link-layer header, print it, and decode the IP packet inside. */
static void decode_link(uint32_t linktype, const uint8_t *p, size_t len)
{
	size_t hl;
	uint16_t type;

	switch (linktype) {
	case LINKTYPE_ETHERNET:
		hl = 14;
		if (len < hl)
			break;
		type = td_get_be16(p + 12);
		line(0, "Ethernet II, Src: %02x:%02x:%02x:%02x:%02x:%02x, "
			"Dst: %02x:%02x:%02x:%02x:%02x:%02x",
		     p[6], p[7], p[8], p[9], p[10], p[11], p[0], p[1], p[2], p[3], p[4], p[5]);
		line(1, "Type: 0x%04x", type);
		goto ethertype;
	case LINKTYPE_LINUX_SLL:
		hl = 16;
		if (len < hl)
			break;
		type = td_get_be16(p + 14);
		line(0, "Linux cooked capture v1");
		line(1, "Packet type: %u, Protocol: 0x%04x", td_get_be16(p), type);
		goto ethertype;
	case LINKTYPE_LINUX_SLL2:
		hl = 20;
		if (len < hl)
			break;
		type = td_get_be16(p);
		line(0, "Linux cooked capture v2");
		line(1, "Protocol: 0x%04x, Interface index: %" PRIu32 ", Packet type: %u", type,
		     td_get_be32(p + 4), p[10]);
		goto ethertype;
	case LINKTYPE_NULL:
		/* The family is in the capturing host's byte order; the IP
		 * version nibble tells us what follows either way. */
		hl = 4;
		if (len < hl)
			break;
		line(0, "Null/Loopback");
		decode_ip(p + hl, len - hl, 0, false);
		return;
	default:
		decode_ip(p, len, 0, false);
		return;
	}
	line(0, "[Malformed link-layer header: truncated]");
	return;
ethertype:
	if (type == 0x0800 || type == 0x86dd)
		decode_ip(p + hl, len - hl, 0, false);
	else
		line(0, "Data (%zu bytes, not IP)", len - hl);
}

/* ---- one line per frame (--brief), like tshark without -V ------------------ */

/* The IP packet inside a frame of this link type; false when the link header
 * is cut short or does not carry IP. */
static bool link_ip(uint32_t lt, const uint8_t *p, size_t len, struct td_bytes *ip)
{
	size_t hl = 0;
	uint16_t type = 0x0800;

	switch (lt) {
	case LINKTYPE_ETHERNET: hl = 14; break;
	case LINKTYPE_LINUX_SLL: hl = 16; break;
	case LINKTYPE_LINUX_SLL2: hl = 20; break;
	case LINKTYPE_NULL: hl = 4; break;
	default: break;
	}
	if (len < hl)
		return false;
	if (lt == LINKTYPE_ETHERNET)
		type = td_get_be16(p + 12);
	else if (lt == LINKTYPE_LINUX_SLL)
		type = td_get_be16(p + 14);
	else if (lt == LINKTYPE_LINUX_SLL2)
		type = td_get_be16(p);
	if (type != 0x0800 && type != 0x86dd)
		return false;
	ip->ptr = p + hl;
	ip->len = len - hl;
	return true;
}

/* Append to a bounded line; output past the end is dropped. */
struct sbuf {
	char s[512];
	size_t n;
};

/* A macro, not a va_list function: clang-analyzer misreads va_list here. */
#define sb_add(b, ...)                                                                   \
	do {                                                                             \
		if ((b)->n < sizeof((b)->s)) {                                           \
			int r_ = snprintf((b)->s + (b)->n, sizeof((b)->s) - (b)->n, __VA_ARGS__); \
			if (r_ > 0)                                                      \
				(b)->n += (size_t)r_;                                    \
		}                                                                        \
	} while (0)

static void brief_tcp(struct sbuf *b, const uint8_t *p, size_t len)
{
	struct td_tcp_view v;
	struct td_tcp_repr r;
	char fl[64];

	if (td_tcp_check(&v, p, len, 0, TD_WIRE_SKIP_CSUM) != TD_WIRE_OK ||
	    td_tcp_parse(&v, &r) != TD_WIRE_OK) {
		sb_add(b, "[Malformed TCP]");
		return;
	}
	tcp_flags(r.flags, fl, sizeof(fl));
	sb_add(b, "%u \u2192 %u [%s] Seq=%" PRIu32, r.src_port, r.dst_port, fl, r.seq);
	if (r.flags & TD_TCP_ACK)
		sb_add(b, " Ack=%" PRIu32, r.ack);
	sb_add(b, " Win=%u Len=%zu", r.window, r.payload.len);
	if (r.opt.has_mss)
		sb_add(b, " MSS=%u", r.opt.mss);
	if (r.opt.sack_perm)
		sb_add(b, " SACK_PERM");
	if (r.opt.has_ts)
		sb_add(b, " TSval=%" PRIu32 " TSecr=%" PRIu32, r.opt.tsval, r.opt.tsecr);
	if (r.opt.has_wscale)
		sb_add(b, " WS=%u", 1u << (r.opt.wscale > 14 ? 14 : r.opt.wscale));
	for (unsigned k = 0; k < r.opt.sack_count; k++)
		sb_add(b, " SLE=%" PRIu32 " SRE=%" PRIu32, r.opt.sack[k].left, r.opt.sack[k].right);
}

static void brief_frame(unsigned long n, double t, size_t wire, const uint8_t *p, size_t len)
{
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	const char *proto = "IP";
	struct sbuf b = {.n = 0};
	struct td_bytes up = {NULL, 0};
	uint8_t upper = TD_IPPROTO_NONE;
	bool v6 = false, frag = false;

	b.s[0] = 0;
	if (len && p[0] >> 4 == 4) {
		struct td_ipv4_view v;
		struct td_ipv4_repr r;
		enum td_wire_err e = td_ipv4_check(&v, p, len, TD_WIRE_SKIP_CSUM);
		proto = "IPv4";
		if (e != TD_WIRE_OK) {
			sb_add(&b, "[Malformed IPv4: %s]", td_wire_strerror(e));
		} else {
			td_ipv4_parse(&v, &r);
			addr4(r.src, src);
			addr4(r.dst, dst);
			upper = r.proto;
			up = td_ipv4_payload(&v);
			frag = r.frag_off != 0 || r.mf;
			if (frag)
				sb_add(&b, "Fragment (proto=%u, off=%u%s, ID=%04x) ", r.proto, r.frag_off,
				       r.mf ? ", more" : "", r.ident);
			if (r.frag_off)
				upper = TD_IPPROTO_NONE;
		}
	} else if (len && p[0] >> 4 == 6) {
		struct td_ipv6_view v;
		struct td_ipv6_repr r;
		enum td_wire_err e = td_ipv6_check(&v, p, len, 0);
		proto = "IPv6";
		v6 = true;
		if (e != TD_WIRE_OK) {
			sb_add(&b, "[Malformed IPv6: %s]", td_wire_strerror(e));
		} else {
			td_ipv6_parse(&v, &r);
			addr6(r.src, src);
			addr6(r.dst, dst);
			upper = v.upper_proto;
			up = td_ipv6_upper(&v);
			frag = r.has_frag;
			if (frag)
				sb_add(&b, "Fragment (off=%u%s, ident=0x%08" PRIx32 ") ", r.frag.offset,
				       r.frag.more ? ", more" : "", r.frag.ident);
			if (r.has_frag && r.frag.offset)
				upper = TD_IPPROTO_NONE;
		}
	} else {
		sb_add(&b, "[Not an IP packet]");
	}

	struct td_icmp_repr ic;
	struct td_udp_repr ud;
	switch (upper) {
	case TD_IPPROTO_TCP:
		proto = "TCP";
		brief_tcp(&b, up.ptr, up.len);
		break;
	case TD_IPPROTO_UDP:
		proto = "UDP";
		if (td_udp_parse(up.ptr, up.len, 0, TD_WIRE_SKIP_CSUM, &ud) == TD_WIRE_OK)
			sb_add(&b, "%u \u2192 %u Len=%zu", ud.src_port, ud.dst_port, ud.payload.len);
		else
			sb_add(&b, "[Malformed UDP]");
		break;
	case TD_IPPROTO_ICMP:
	case TD_IPPROTO_ICMPV6:
		proto = v6 ? "ICMPv6" : "ICMP";
		if ((v6 ? td_icmp6_parse(up.ptr, up.len, NULL, NULL, TD_WIRE_SKIP_CSUM, &ic)
			: td_icmp4_parse(up.ptr, up.len, TD_WIRE_SKIP_CSUM, &ic)) != TD_WIRE_OK) {
			sb_add(&b, "[Malformed ICMP]");
			break;
		}
		sb_add(&b, "%s", v6 ? icmp6_name(ic.type, ic.code) : icmp4_name(ic.type, ic.code));
		if (v6 ? ic.type >= 128 && ic.type <= 129 : ic.type == 0 || ic.type == 8)
			sb_add(&b, "  id=0x%04x, seq=%u", ic.ident, ic.seq);
		break;
	default:
		break;
	}
	printf("%5lu %11.6f %15s \u2192 %-15s %-6s %4zu %s\n", n, t, src, dst, proto, wire, b.s);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tundra decode [--brief] [--raw] FILE\n\n"
		   "Print every packet of FILE layer by layer (IPv4/IPv6 with extension\n"
		   "headers, ICMP, ICMPv6, UDP, TCP with options), with checksum status.\n\n"
		   "  FILE       a pcap capture (link type RAW, IPV4, IPV6, ETHERNET, LINUX_SLL,\n"
		   "             LINUX_SLL2 or NULL; micro- or nanosecond timestamps, either\n"
		   "             byte order); '-' is stdin\n"
		   "  --raw      FILE holds one raw IP packet, no pcap headers\n"
		   "  --brief    one line per frame (time, addresses, protocol, summary)\n"
		   "  -h, --help this text\n");
}

int td_cmd_decode(int argc, char **argv);

int td_cmd_decode(int argc, char **argv)
{
	static const struct option opts[] = {
		{"raw", no_argument, NULL, 'r'},
		{"brief", no_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool raw = false, brief_mode = false;
	int c;

	optind = 1;
	while ((c = td_getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': raw = true; break;
		case 'b': brief_mode = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = td_os_read_file(path, MAX_FILE, &buf, &len);
	if (rc < 0) {
		fprintf(stderr, "tundra decode: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	if (raw) {
		if (brief_mode) {
			brief_frame(1, 0.0, len, buf, len);
			free(buf);
			return 0;
		}
		frame_header(1, len, len, NULL, TD_PCAP_USEC);
		decode_ip(buf, len, 0, false);
		free(buf);
		return 0;
	}

	struct td_pcap_reader rd;
	enum td_wire_err e = td_pcap_reader_init(&rd, buf, len);
	if (e != TD_WIRE_OK) {
		fprintf(stderr, "tundra decode: %s: not a pcap file (%s)%s\n", path,
			td_wire_strerror(e),
			e == TD_WIRE_UNSUPPORTED ? "; for pcapng, convert with "
						   "`editcap -F pcap IN OUT`"
						 : "");
		free(buf);
		return 1;
	}
	if (!link_supported(rd.linktype)) {
		fprintf(stderr, "tundra decode: %s: link type %" PRIu32 " is not supported "
				"(raw IP, IPv4, IPv6, Ethernet, Linux cooked v1/v2, BSD loopback)\n",
			path, rd.linktype);
		free(buf);
		return 1;
	}
	struct td_pcap_rec rec;
	unsigned long n = 0;
	uint64_t t0 = 0;
	while (td_pcap_next(&rd, &rec, &e)) {
		if (brief_mode) {
			struct td_bytes ip;
			if (!n)
				t0 = rec.ts_ns;
			double t = (double)(int64_t)(rec.ts_ns - t0) / 1e9;
			if (link_ip(rd.linktype, rec.data.ptr, rec.data.len, &ip))
				brief_frame(++n, t, rec.origlen, ip.ptr, ip.len);
			else
				printf("%5lu %11.6f [not IP]\n", ++n, t);
			continue;
		}
		if (n)
			putchar('\n');
		frame_header(++n, rec.origlen, rec.data.len, &rec, rd.res);
		decode_link(rd.linktype, rec.data.ptr, rec.data.len);
	}
	free(buf);
	if (e != TD_WIRE_OK) {
		fprintf(stderr, "tundra decode: %s: record %lu: %s\n", path, n + 1,
			td_wire_strerror(e));
		return 1;
	}
	return 0;
}
