/* Packet codecs and checksums: pure code, no allocation, no I/O, no globals, no clock. */
#ifndef TUNDRA_WIRE_H
#define TUNDRA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Contract.
 *
 * Untrusted bytes are read through a *view*: td_<proto>_check() validates
 * lengths (and, unless TD_WIRE_SKIP_CSUM, the checksum) once; afterwards every
 * accessor on that view is infallible. td_<proto>_parse() turns a checked view
 * into a *repr*: the meaning of the header in host byte order. td_<proto>_emit()
 * writes a repr into a caller's buffer that must be exactly the size the repr
 * needs (td_<proto>_size()), computing checksums. Nothing here casts a struct
 * onto packet bytes; every multi-byte field goes through td_get_be16/32 and td_put_be16/32.
 *
 * Every failure is one value of enum td_wire_err; later layers index their drop
 * counters with it.
 */

enum td_wire_err {
	TD_WIRE_OK = 0,
	TD_WIRE_TRUNCATED,      /* buffer shorter than a fixed header or a length field claims */
	TD_WIRE_BAD_VERSION,    /* IP version nibble wrong for the codec */
	TD_WIRE_BAD_HDR_LEN,    /* IPv4 IHL < 5 or past the datagram; TCP data offset < 5 or past the segment */
	TD_WIRE_BAD_LENGTH,     /* IPv4 total length < header; UDP length inconsistent with the datagram */
	TD_WIRE_BAD_CHECKSUM,   /* checksum does not verify (or UDP over IPv6 with checksum 0) */
	TD_WIRE_BAD_OPTION,     /* option length 0/1 where >= 2 is required, or option runs past its header */
	TD_WIRE_EXT_LIMIT,      /* IPv6 extension-header chain too long or too many headers */
	TD_WIRE_BAD_FRAGMENT,   /* fragment fields inconsistent (e.g. MF with length not multiple of 8, end > 65535) */
	TD_WIRE_UNSUPPORTED,    /* a well-formed packet of a kind this codec does not handle */
	TD_WIRE_BAD_SIZE,       /* emit: caller's buffer is not exactly the size the repr needs; bad repr */
	TD_WIRE_ERR_COUNT
};

/* Short stable name of an error ("truncated", "bad_checksum", ...), usable as a metric label. */
const char *td_wire_strerror(enum td_wire_err err);

/* Flags for check/parse functions. */
#define TD_WIRE_SKIP_CSUM 0x1u /* do not verify checksums (fuzzing, offloaded RX) */

/* ---- byte order helpers ------------------------------------------------- */

static inline uint16_t td_get_be16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t td_get_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline void td_put_be16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void td_put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* A read-only run of bytes inside a packet (payload, options, quoted datagram). */
struct td_bytes {
	const uint8_t *ptr;
	size_t len;
};

/* ---- Internet checksum (RFC 1071, RFC 1624) ----------------------------- */

/*
 * Accumulate the one's-complement sum of len bytes into acc (start with 0).
 * Any alignment; when chaining calls, every chunk but the last must have an
 * even length. Processes 8+ bytes per step with a wide accumulator.
 */
uint32_t td_csum_add(uint32_t acc, const void *data, size_t len);

/* Fold an accumulator and complement it: the checksum field's value, host order. */
uint16_t td_csum_finish(uint32_t acc);

/* td_csum_finish(td_csum_add(0, data, len)). A buffer that carries a correct
 * checksum field over itself yields 0. */
uint16_t td_csum(const void *data, size_t len);

/* Pseudo-header accumulators for TCP/UDP/ICMPv6 (RFC 793 §3.1, RFC 8200 §8.1).
 * Addresses: IPv4 in host order; IPv6 as 16 network-order bytes. len is the
 * upper-layer length. Feed the result as acc to td_csum_add(). */
uint32_t td_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
uint32_t td_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
			 uint32_t len);

/* RFC 1624 eqn. 3: the new checksum after a 16-bit (or 32-bit) field changed
 * from old to new. All values host order. */
uint16_t td_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);
uint16_t td_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* ---- keyed hash ------------------------------------------------------------ */

/* SipHash-2-4 (Aumasson & Bernstein, 2012) under a 16-byte key: a PRF fast on
 * short inputs. Probe payload MACs, TCP ISNs (RFC 6528) and SYN cookies, and
 * hash-table buckets that an attacker must not be able to aim at. */
uint64_t td_siphash24(const uint8_t key[16], const void *data, size_t len);

/* ---- IP protocol numbers -------------------------------------------------- */

#define TD_IPPROTO_HOPOPTS 0
#define TD_IPPROTO_ICMP 1
#define TD_IPPROTO_TCP 6
#define TD_IPPROTO_UDP 17
#define TD_IPPROTO_ROUTING 43
#define TD_IPPROTO_FRAGMENT 44
#define TD_IPPROTO_ICMPV6 58
#define TD_IPPROTO_NONE 59
#define TD_IPPROTO_DSTOPTS 60

/* ---- IPv4 (RFC 791) -------------------------------------------------------- */

#define TD_IPV4_HDR_MIN 20
#define TD_IPV4_OPT_MAX 40

/* A checked IPv4 datagram. len is the total length from the header (the
 * buffer may be longer: link padding is ignored). */
struct td_ipv4_view {
	const uint8_t *p;
	uint16_t hdr_len;
	uint16_t len;
};

struct td_ipv4_repr {
	uint32_t src, dst;     /* host order */
	uint16_t ident;
	uint16_t frag_off;     /* in bytes (the header field times 8) */
	uint16_t payload_len;  /* total length minus header length */
	uint8_t tos;           /* DSCP << 2 | ECN */
	uint8_t ttl;
	uint8_t proto;
	bool df, mf;
	uint8_t opt_len;       /* bytes of options, a multiple of 4, <= 40 */
	uint8_t opts[TD_IPV4_OPT_MAX];
};

/* Version 4, IHL >= 5 and within the total length, total length within len,
 * fragment consistency (MF with data not a multiple of 8, or an end past
 * 65535: TD_WIRE_BAD_FRAGMENT), header checksum (unless TD_WIRE_SKIP_CSUM). */
enum td_wire_err td_ipv4_check(struct td_ipv4_view *v, const void *buf, size_t len,
			       unsigned flags);
void td_ipv4_parse(const struct td_ipv4_view *v, struct td_ipv4_repr *r);

static inline struct td_bytes td_ipv4_payload(const struct td_ipv4_view *v)
{
	struct td_bytes b = {v->p + v->hdr_len, (size_t)(v->len - v->hdr_len)};
	return b;
}
static inline uint8_t td_ipv4_proto(const struct td_ipv4_view *v)
{
	return v->p[9];
}
static inline uint32_t td_ipv4_src(const struct td_ipv4_view *v)
{
	return td_get_be32(v->p + 12);
}
static inline uint32_t td_ipv4_dst(const struct td_ipv4_view *v)
{
	return td_get_be32(v->p + 16);
}
static inline bool td_ipv4_is_fragment(const struct td_ipv4_view *v)
{
	return (td_get_be16(v->p + 6) & 0x3fff) != 0; /* MF set or offset != 0 */
}

/* One IPv4 option (RFC 791 §3.1): EOL and NOP have len 1 and no data. */
struct td_ipv4_opt {
	uint8_t type;         /* copied flag, class and number, as on the wire */
	uint8_t len;          /* whole option, type and length bytes included */
	struct td_bytes data; /* len - 2 bytes */
};

/* Walk the options of a checked header: *off starts at 0. True with o
 * filled; false at the end (after EOL or at the end of the header, *err =
 * TD_WIRE_OK) or for a length < 2 or past the header (*err =
 * TD_WIRE_BAD_OPTION). Every call that returns true advances *off. */
bool td_ipv4_opt_next(const struct td_ipv4_view *v, size_t *off, struct td_ipv4_opt *o,
		      enum td_wire_err *err);

/* Header size the repr needs: 20 + opt_len. */
size_t td_ipv4_hdr_size(const struct td_ipv4_repr *r);
/* Write the header (exactly td_ipv4_hdr_size bytes) with total length
 * hdr + payload_len and a correct header checksum. */
enum td_wire_err td_ipv4_emit(const struct td_ipv4_repr *r, void *buf, size_t len);

/* ---- IPv6 (RFC 8200) --------------------------------------------------------- */

#define TD_IPV6_HDR_LEN 40
#define TD_IPV6_EXT_MAX_COUNT 8     /* extension headers walked before giving up */
#define TD_IPV6_EXT_MAX_BYTES 1024  /* bytes of extension headers walked before giving up */

struct td_ipv6_frag {
	uint32_t ident;
	uint16_t offset; /* bytes */
	bool more;
};

/* A checked IPv6 packet: fixed header plus a bounded extension-header walk.
 * upper_off is where the upper-layer header starts, upper_proto its number
 * (TD_IPPROTO_NONE when the chain ends in No Next Header). */
struct td_ipv6_view {
	const uint8_t *p;
	uint32_t len;          /* 40 + payload length */
	uint16_t upper_off;
	uint8_t upper_proto;
	bool has_frag;
	uint16_t frag_hdr_off; /* offset of the fragment header, when has_frag */
	uint16_t unfrag_len;   /* bytes before the fragment header (RFC 8200 §4.5 "unfragmentable part") */
	uint8_t frag_prev_nh_off; /* offset of the Next Header byte that names the fragment header */
};

struct td_ipv6_repr {
	uint8_t src[16], dst[16];
	uint32_t flow;         /* 20 bits */
	uint16_t payload_len;  /* from the fixed header */
	uint8_t tclass;
	uint8_t hop_limit;
	uint8_t next_header;   /* of the fixed header (first extension or upper layer) */
	uint8_t upper_proto;   /* after the walk */
	uint16_t ext_len;      /* bytes of extension headers walked */
	bool has_frag;
	struct td_ipv6_frag frag;
};

/* Version 6, payload length within len, extension walk bounded by
 * TD_IPV6_EXT_MAX_COUNT/_BYTES and by the packet. Hop-by-hop only first
 * (elsewhere: TD_WIRE_UNSUPPORTED, i.e. "unrecognized next header"). The
 * walk stops after a fragment header with a non-zero offset (what follows is
 * fragment data). A second fragment header, or MF with data not a multiple of
 * 8, or an end past 65535 is TD_WIRE_BAD_FRAGMENT; a fragment header whose
 * preceding Next Header byte lies beyond offset 255 is TD_WIRE_EXT_LIMIT. */
enum td_wire_err td_ipv6_check(struct td_ipv6_view *v, const void *buf, size_t len,
			       unsigned flags);
void td_ipv6_parse(const struct td_ipv6_view *v, struct td_ipv6_repr *r);

static inline struct td_bytes td_ipv6_upper(const struct td_ipv6_view *v)
{
	struct td_bytes b = {v->p + v->upper_off, (size_t)(v->len - v->upper_off)};
	return b;
}

/* One extension header of a checked chain. */
struct td_ipv6_ext {
	uint8_t type;        /* TD_IPPROTO_HOPOPTS, _ROUTING, _FRAGMENT, _DSTOPTS */
	uint8_t next_header; /* the header that follows it */
	uint16_t off;        /* offset in the packet */
	uint16_t len;        /* bytes, including its first two */
};

/* Iterate over the extension headers td_ipv6_check() walked: start with e
 * zeroed; returns true with e filled (the next call continues after it),
 * false after the last. Infallible: the check validated the chain. */
bool td_ipv6_ext_next(const struct td_ipv6_view *v, struct td_ipv6_ext *e);

/* One option of a Hop-by-Hop or Destination Options header (RFC 8200 §4.2).
 * Pad1 has len 0 and no data. The two high bits of type say what a node that
 * does not know the option must do (§4.2: skip, discard, discard + ICMP). */
struct td_ipv6_opt {
	uint8_t type;
	uint8_t len;          /* of the data */
	struct td_bytes data;
};

/* Walk the options of extension header e (HOPOPTS or DSTOPTS; other types
 * have none): *off starts at 0. True with o filled; false at the end (*err =
 * TD_WIRE_OK) or for an option running past its header (*err =
 * TD_WIRE_BAD_OPTION). Every call that returns true advances *off. */
bool td_ipv6_opt_next(const struct td_ipv6_view *v, const struct td_ipv6_ext *e, size_t *off,
		      struct td_ipv6_opt *o, enum td_wire_err *err);

/* Emit the 40-byte fixed header (no extensions; next_header, payload_len as given). */
enum td_wire_err td_ipv6_emit(const struct td_ipv6_repr *r, void *buf, size_t len);
/* Emit an 8-byte fragment header. */
enum td_wire_err td_ipv6_frag_emit(uint8_t next_header, const struct td_ipv6_frag *f, void *buf,
				   size_t len);

/* ---- ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) ---------------------------------- */

#define TD_ICMP4_ECHO_REPLY 0
#define TD_ICMP4_DEST_UNREACH 3
#define TD_ICMP4_REDIRECT 5
#define TD_ICMP4_ECHO_REQUEST 8
#define TD_ICMP4_TIME_EXCEEDED 11
#define TD_ICMP4_PARAM_PROBLEM 12
#define TD_ICMP4_CODE_FRAG_NEEDED 4 /* under DEST_UNREACH (RFC 1191) */

#define TD_ICMP6_DEST_UNREACH 1
#define TD_ICMP6_PACKET_TOO_BIG 2
#define TD_ICMP6_TIME_EXCEEDED 3
#define TD_ICMP6_PARAM_PROBLEM 4
#define TD_ICMP6_ECHO_REQUEST 128
#define TD_ICMP6_ECHO_REPLY 129

#define TD_ICMP_HDR_LEN 8

/*
 * One repr for both families. For echo, data is the payload; for errors, data
 * is the quoted original datagram (starting at its IP header) as a view into
 * the message. Other types keep their 4 header bytes in rest_of_header.
 */
struct td_icmp_repr {
	uint8_t type, code;
	uint16_t ident, seq;     /* echo */
	uint32_t mtu;            /* v4 frag needed (16-bit next-hop MTU), v6 packet too big */
	uint32_t pointer;        /* parameter problem */
	uint32_t rest_of_header; /* raw bytes 4..7 for any type */
	struct td_bytes data;
};

bool td_icmp4_is_error(uint8_t type);
bool td_icmp6_is_error(uint8_t type);

/* Parse an ICMPv4 message of len bytes, checksum verified unless SKIP_CSUM. */
enum td_wire_err td_icmp4_parse(const void *buf, size_t len, unsigned flags,
				struct td_icmp_repr *r);
/* Parse ICMPv6; the checksum covers the pseudo-header of src/dst. */
enum td_wire_err td_icmp6_parse(const void *buf, size_t len, const uint8_t src[16],
				const uint8_t dst[16], unsigned flags, struct td_icmp_repr *r);

/* 8 + data.len. */
size_t td_icmp_size(const struct td_icmp_repr *r);
/* Emit into exactly td_icmp_size bytes; data is copied (memmove: it may already
 * sit at buf+8) and the checksum computed. */
enum td_wire_err td_icmp4_emit(const struct td_icmp_repr *r, void *buf, size_t len);
enum td_wire_err td_icmp6_emit(const struct td_icmp_repr *r, const uint8_t src[16],
			       const uint8_t dst[16], void *buf, size_t len);

/* ---- UDP (RFC 768) ------------------------------------------------------------ */

#define TD_UDP_HDR_LEN 8

struct td_udp_repr {
	uint16_t src_port, dst_port;
	struct td_bytes payload;
};

/* pseudo: td_csum_pseudo4/6 for this datagram (length = len). flags may add
 * TD_WIRE_IPV6 (checksum 0 is then an error, RFC 8200 §8.1). The UDP length
 * field must be >= 8 and <= len; bytes past it are ignored. */
#define TD_WIRE_IPV6 0x2u
enum td_wire_err td_udp_parse(const void *buf, size_t len, uint32_t pseudo, unsigned flags,
			      struct td_udp_repr *r);
size_t td_udp_size(const struct td_udp_repr *r);
/* Emit header + payload (memmove) with checksum (0 becomes 0xffff). */
enum td_wire_err td_udp_emit(const struct td_udp_repr *r, uint32_t pseudo, void *buf,
			     size_t len);

/* ---- TCP (RFC 9293, 7323, 2018) -------------------------------------------------- */

#define TD_TCP_HDR_MIN 20
#define TD_TCP_OPT_MAX 40
#define TD_TCP_SACK_MAX 4

#define TD_TCP_FIN 0x01
#define TD_TCP_SYN 0x02
#define TD_TCP_RST 0x04
#define TD_TCP_PSH 0x08
#define TD_TCP_ACK 0x10
#define TD_TCP_URG 0x20
#define TD_TCP_ECE 0x40
#define TD_TCP_CWR 0x80

struct td_tcp_sack_block {
	uint32_t left, right;
};

struct td_tcp_opts {
	bool has_mss, has_wscale, sack_perm, has_ts;
	uint16_t mss;
	uint8_t wscale;   /* as sent; receivers clamp to 14 (RFC 7323 §2.3) */
	uint32_t tsval, tsecr;
	uint8_t sack_count;
	struct td_tcp_sack_block sack[TD_TCP_SACK_MAX];
};

/* A checked TCP segment: data offset within [5, len/4], checksum verified. */
struct td_tcp_view {
	const uint8_t *p;
	uint32_t len;
	uint8_t hdr_len;
};

struct td_tcp_repr {
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t flags;            /* TD_TCP_* */
	uint16_t window;          /* unscaled, as on the wire */
	uint16_t urgent;
	struct td_tcp_opts opt;
	struct td_bytes payload;
};

/* Check lengths and checksum (pseudo as for UDP). */
enum td_wire_err td_tcp_check(struct td_tcp_view *v, const void *buf, size_t len,
			      uint32_t pseudo, unsigned flags);
/* Parse header and options. The only failure is TD_WIRE_BAD_OPTION (an option
 * with length 0/1 or past the header); unknown options are skipped, and every
 * step of the walk makes progress. */
enum td_wire_err td_tcp_parse(const struct td_tcp_view *v, struct td_tcp_repr *r);

static inline uint16_t td_tcp_src_port(const struct td_tcp_view *v)
{
	return td_get_be16(v->p);
}
static inline uint16_t td_tcp_dst_port(const struct td_tcp_view *v)
{
	return td_get_be16(v->p + 2);
}

/* One TCP option as it sits in the header: EOL and NOP have len 1 and no data. */
struct td_tcp_opt {
	uint8_t kind;
	uint8_t len;
	struct td_bytes data; /* len - 2 bytes after kind and length */
};

/* Walk the options of a checked segment one at a time (for decoders and
 * counters; td_tcp_parse() uses it): *off starts at 0. Returns true with o
 * filled; false at the end of the options (after EOL, or at the data) with
 * *err = TD_WIRE_OK, or on a malformed option with *err = TD_WIRE_BAD_OPTION.
 * Every call that returns true advances *off by at least 1. */
bool td_tcp_opt_next(const struct td_tcp_view *v, size_t *off, struct td_tcp_opt *o,
		     enum td_wire_err *err);

/* Options bytes the repr needs, padded to a multiple of 4 (<= 40). */
size_t td_tcp_opts_size(const struct td_tcp_opts *o);
/* 20 + td_tcp_opts_size + payload.len. */
size_t td_tcp_size(const struct td_tcp_repr *r);
/* Emit header, options, payload (memmove) and checksum. */
enum td_wire_err td_tcp_emit(const struct td_tcp_repr *r, uint32_t pseudo, void *buf, size_t len);

/* ---- pcap file format (LINKTYPE_RAW) ----------------------------------------------- */

#define TD_PCAP_LINKTYPE_RAW 101
#define TD_PCAP_FILE_HDR_LEN 24
#define TD_PCAP_REC_HDR_LEN 16

enum td_pcap_res { TD_PCAP_USEC, TD_PCAP_NSEC };

/* Write the 24-byte global header (native byte order, magic tells readers). */
void td_pcap_file_header(uint8_t out[TD_PCAP_FILE_HDR_LEN], enum td_pcap_res res,
			 uint32_t snaplen);
/* Write a 16-byte record header for a packet seen at ts_ns (ns since the epoch). */
void td_pcap_record_header(uint8_t out[TD_PCAP_REC_HDR_LEN], enum td_pcap_res res,
			   uint64_t ts_ns, uint32_t caplen, uint32_t origlen);

/* Reading a capture (pure: the caller holds the whole file in memory).
 * Both byte orders and both resolutions; any link type (the caller decides
 * what it can decode). */
struct td_pcap_reader {
	const uint8_t *p;
	size_t len, off;
	bool swapped;          /* file written in the other byte order */
	enum td_pcap_res res;
	uint32_t snaplen;
	uint32_t linktype;
};

struct td_pcap_rec {
	uint64_t ts_ns;        /* ns since the epoch */
	uint32_t origlen;      /* length on the wire */
	struct td_bytes data;  /* the captured bytes */
};

/* TD_WIRE_TRUNCATED when shorter than the file header, TD_WIRE_UNSUPPORTED for
 * an unknown magic (pcapng, for instance). */
enum td_wire_err td_pcap_reader_init(struct td_pcap_reader *rd, const void *buf, size_t len);
/* Next record: true with rec filled; false at the end (*err = TD_WIRE_OK) or
 * on a damaged record (*err = TD_WIRE_TRUNCATED when it runs past the file,
 * TD_WIRE_BAD_LENGTH when its captured length exceeds 262144 bytes). */
bool td_pcap_next(struct td_pcap_reader *rd, struct td_pcap_rec *rec, enum td_wire_err *err);

/* ---- virtio-net header (virtio 1.x §5.1.6; TUN with IFF_VNET_HDR) ------------ */

/* The header TUN puts before each packet when offloads are on. Little-endian,
 * as virtio 1.x defines it and as TUN uses on little-endian hosts (big-endian
 * hosts set TUNSETVNETLE). 10 bytes, or 12 with num_buffers (VIRTIO_NET_F_MRG_RXBUF,
 * virtio 1.x). */
#define TD_VNET_HDR_LEN 10
#define TD_VNET_HDR_MRG_LEN 12

#define TD_VNET_F_NEEDS_CSUM 0x01 /* csum_start/csum_offset say where to put the checksum */
#define TD_VNET_F_DATA_VALID 0x02 /* checksum already verified (RX) */
#define TD_VNET_F_RSC_INFO 0x04   /* coalesced segment info (RX) */

#define TD_VNET_GSO_NONE 0
#define TD_VNET_GSO_TCPV4 1
#define TD_VNET_GSO_UDP 3    /* UFO (IPv4 fragmentation) */
#define TD_VNET_GSO_TCPV6 4
#define TD_VNET_GSO_UDP_L4 5 /* USO (RFC 8085-style UDP segmentation) */
#define TD_VNET_GSO_ECN 0x80 /* flag on the TCP types: the CWR bit was set */

struct td_vnet_repr {
	uint8_t flags;        /* TD_VNET_F_* */
	uint8_t gso_type;     /* TD_VNET_GSO_*, without the ECN flag */
	bool gso_ecn;
	uint16_t hdr_len;     /* bytes of headers (GSO: of each segment) */
	uint16_t gso_size;    /* bytes of payload per segment */
	uint16_t csum_start;  /* from the start of the packet */
	uint16_t csum_offset; /* from csum_start to the checksum field */
	uint16_t num_buffers; /* 12-byte header only */
};

/* Parse the header at buf (hdr_size 10 or 12; len covers at least it) for a
 * packet of pkt_len bytes following it. Errors: TD_WIRE_TRUNCATED (len <
 * hdr_size), TD_WIRE_UNSUPPORTED (unknown flag bits or gso_type, ECN on a
 * non-TCP type, NEEDS_CSUM with an odd csum_offset), TD_WIRE_BAD_LENGTH (gso_size 0 with a GSO type; csum_start +
 * csum_offset + 2 past the packet; hdr_len past the packet), TD_WIRE_BAD_SIZE
 * (hdr_size not 10 or 12). */
enum td_wire_err td_vnet_parse(const void *buf, size_t len, size_t hdr_size, size_t pkt_len,
			       struct td_vnet_repr *r);
/* Complete an offloaded checksum in place (virtio 1.x §5.1.6.2: the device
 * sums from csum_start to the end and stores the result at csum_start +
 * csum_offset; the field already holds the pseudo-header sum, as Linux leaves
 * it). Does nothing without TD_VNET_F_NEEDS_CSUM. TD_WIRE_UNSUPPORTED for a
 * GSO packet (each segment gets its own checksum when it is cut);
 * TD_WIRE_BAD_LENGTH when the field lies past len. */
enum td_wire_err td_vnet_csum_finish(const struct td_vnet_repr *r, void *pkt, size_t len);
/* Write the header into exactly len (10 or 12) bytes. TD_WIRE_BAD_SIZE for
 * another len or a repr parse would refuse (unknown type or flags, GSO
 * without gso_size). */
enum td_wire_err td_vnet_emit(const struct td_vnet_repr *r, void *buf, size_t len);

#endif
