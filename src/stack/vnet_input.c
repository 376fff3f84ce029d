/* Offloaded input: virtio-net header checks, partial checksums, GSO super-packets cut into segments. */
#include <string.h>

#include "stack/stack_priv.h"

/*
 * A TUN opened with IFF_VNET_HDR and TUNSETOFFLOAD hands over what the
 * kernel's own stack would have handed a NIC with TSO/USO (virtio 1.x
 * §5.1.6): a packet whose transport checksum is partial (NEEDS_CSUM: the
 * field holds the pseudo-header sum only) and, with a GSO type, a
 * super-packet of up to 64 KB standing for the run of gso_size segments the
 * NIC would have cut.
 *
 * Choice: a super-packet is cut into its segments here, in software, and
 * each goes through the ordinary input path, rather than fed to TCP as one
 * large segment. The TCP input counts full-sized segments for its ACK rules
 * (RFC 9293 §3.8.6.3 / RFC 5681 §4.2: an ACK at least every second full
 * segment), runs its reassembly, SACK and window logic per segment, and was
 * tested that way; cutting makes "the same as segment by segment" true by
 * construction. The cost is one copy of each segment into a buffer that
 * stays in cache, far cheaper than the read() per segment it replaces. The
 * checksum of each segment is not computed: the kernel vouches for the
 * data (it built the super-packet from its own socket buffers), so the
 * transport is told to skip verification (rx_l4_csum_ok) - except under
 * the impairment layer, which may park and corrupt a copy: then every
 * checksum is completed here so a corruption is still caught.
 */

static void input_trusted(struct td_stack *st, uint64_t now, const uint8_t *pkt, size_t len)
{
	st->rx_l4_csum_ok = true;
	td_stack_input(st, now, pkt, len);
	st->rx_l4_csum_ok = false;
}

/* Parse raw bytes only to classify a header td_vnet_parse refused. */
static void count_parse_error(struct td_stack *st, const uint8_t *h, size_t len, size_t hs,
			      enum td_wire_err e)
{
	if (e == TD_WIRE_TRUNCATED || e == TD_WIRE_BAD_SIZE || len < hs) {
		st->stats.ctr[TD_CTR_vnet_bad_hdr]++;
		return;
	}
	uint8_t type = h[1] & (uint8_t)~TD_VNET_GSO_ECN;
	bool known = type == TD_VNET_GSO_NONE || type == TD_VNET_GSO_TCPV4 ||
		     type == TD_VNET_GSO_UDP || type == TD_VNET_GSO_TCPV6 ||
		     type == TD_VNET_GSO_UDP_L4;
	if (!known)
		st->stats.ctr[TD_CTR_vnet_bad_gso_type]++;
	else if (e == TD_WIRE_BAD_LENGTH && type != TD_VNET_GSO_NONE && td_get_be16(h + 4) == 0)
		st->stats.ctr[TD_CTR_vnet_bad_gso_size]++;
	else if (e == TD_WIRE_BAD_LENGTH)
		st->stats.ctr[TD_CTR_vnet_bad_csum_off]++;
	else
		st->stats.ctr[TD_CTR_vnet_bad_hdr]++;
}

/* Fill in a transport checksum in software (pseudo-header + segment). */
static void l4_csum(uint8_t *seg, size_t l4off, size_t len, uint8_t proto, size_t field)
{
	uint32_t acc;
	size_t l4len = len - l4off;
	if ((seg[0] >> 4) == 4)
		acc = td_csum_pseudo4(td_get_be32(seg + 12), td_get_be32(seg + 16), proto,
				      (uint16_t)l4len);
	else
		acc = td_csum_pseudo6(seg + 8, seg + 24, proto, (uint32_t)l4len);
	td_put_be16(seg + l4off + field, 0);
	uint16_t c = td_csum_finish(td_csum_add(acc, seg + l4off, l4len));
	td_put_be16(seg + l4off + field, proto == TD_IPPROTO_UDP && c == 0 ? 0xffff : c);
}

/* A packet without GSO but with a partial checksum. */
static void input_partial(struct td_stack *st, uint64_t now, const struct td_vnet_repr *vr,
			  const uint8_t *pkt, size_t len)
{
	st->stats.ctr[TD_CTR_vnet_csum_partial]++;
	if (!st->imp_in.active) {
		input_trusted(st, now, pkt, len);
		return;
	}
	memcpy(st->vnet_seg, pkt, len);
	td_vnet_csum_finish(vr, st->vnet_seg, len);
	td_stack_input(st, now, st->vnet_seg, len);
}

/* Cut a GSO super-packet into its segments (what a NIC does for TSO/USO:
 * headers copied, IP lengths and IDs, TCP sequence numbers and flags fixed
 * per segment) and input each one. */
static void input_gso(struct td_stack *st, uint64_t now, const struct td_vnet_repr *vr,
		      const uint8_t *pkt, size_t len)
{
	size_t iphl;
	uint8_t proto;
	unsigned ver = len ? pkt[0] >> 4 : 0;
	if (ver == 4 && len >= 20) {
		iphl = (size_t)(pkt[0] & 15) * 4;
		proto = pkt[9];
		if (iphl < 20 || td_get_be16(pkt + 6) & 0x3fff) {
			/* a fragment cannot be a super-packet */
			st->stats.ctr[TD_CTR_vnet_bad_gso_type]++;
			return;
		}
	} else if (ver == 6 && len >= 40) {
		/* Linux builds IPv6 GSO packets without extension headers */
		iphl = 40;
		proto = pkt[6];
	} else {
		st->stats.ctr[TD_CTR_vnet_bad_gso_type]++;
		return;
	}
	bool tcp = vr->gso_type == TD_VNET_GSO_TCPV4 || vr->gso_type == TD_VNET_GSO_TCPV6;
	bool ok_type = (vr->gso_type == TD_VNET_GSO_TCPV4 && ver == 4 && proto == TD_IPPROTO_TCP) ||
		       (vr->gso_type == TD_VNET_GSO_TCPV6 && ver == 6 && proto == TD_IPPROTO_TCP) ||
		       (vr->gso_type == TD_VNET_GSO_UDP_L4 && proto == TD_IPPROTO_UDP);
	if (!ok_type) {
		/* includes UFO (GSO_UDP), which is never offered */
		st->stats.ctr[TD_CTR_vnet_bad_gso_type]++;
		return;
	}
	size_t l4hl = 8;
	if (tcp) {
		if (len < iphl + 20) {
			st->stats.ctr[TD_CTR_vnet_bad_gso_size]++;
			return;
		}
		l4hl = (size_t)(pkt[iphl + 12] >> 4) * 4;
		if (l4hl < 20) {
			st->stats.ctr[TD_CTR_vnet_bad_gso_type]++;
			return;
		}
	}
	size_t hl = iphl + l4hl;
	size_t field = tcp ? 16 : 6;
	if (hl > len) {
		st->stats.ctr[TD_CTR_vnet_bad_gso_size]++;
		return;
	}
	/* The checksum the kernel left partial must be this transport's. */
	if ((vr->flags & TD_VNET_F_NEEDS_CSUM) &&
	    (vr->csum_start != iphl || vr->csum_offset != field)) {
		st->stats.ctr[TD_CTR_vnet_bad_csum_off]++;
		return;
	}
	size_t payload = len - hl;
	if (vr->gso_size > len || payload == 0 || hl + vr->gso_size > TD_VNET_SEG_MAX) {
		st->stats.ctr[TD_CTR_vnet_bad_gso_size]++;
		return;
	}
	st->stats.ctr[TD_CTR_vnet_gso_rx]++;
	uint8_t *seg = st->vnet_seg;
	uint32_t seq = tcp ? td_get_be32(pkt + iphl + 4) : 0;
	uint16_t id = ver == 4 ? td_get_be16(pkt + 4) : 0;
	bool trusted = !st->imp_in.active;
	const struct td_transport *tp = td_stack_transport(st, proto);
	if (tp && tp->batch)
		tp->batch(tp->ctx, now, true);
	for (size_t off = 0, i = 0; off < payload; off += vr->gso_size, i++) {
		size_t n = payload - off < vr->gso_size ? payload - off : vr->gso_size;
		bool first = off == 0, last = off + n == payload;
		memcpy(seg, pkt, hl);
		memcpy(seg + hl, pkt + hl + off, n);
		size_t slen = hl + n;
		if (ver == 4) {
			td_put_be16(seg + 2, (uint16_t)slen);
			td_put_be16(seg + 4, (uint16_t)(id + i)); /* as Linux's TSO: ID + index */
			td_put_be16(seg + 10, 0);
			td_put_be16(seg + 10, td_csum(seg, iphl));
		} else {
			td_put_be16(seg + 4, (uint16_t)(slen - 40));
		}
		if (tcp) {
			td_put_be32(seg + iphl + 4, seq + (uint32_t)off);
			uint8_t fl = seg[iphl + 13];
			if (!last)
				fl &= (uint8_t)~(TD_TCP_FIN | TD_TCP_PSH); /* only the last carries them */
			if (!first)
				fl &= (uint8_t)~TD_TCP_CWR; /* RFC 3168 §6.1.2: once, on the first */
			seg[iphl + 13] = fl;
		} else {
			td_put_be16(seg + iphl + 4, (uint16_t)(l4hl + n));
		}
		st->stats.ctr[TD_CTR_vnet_gso_segs]++;
		if (trusted) {
			input_trusted(st, now, seg, slen);
		} else {
			l4_csum(seg, iphl, slen, proto, field);
			td_stack_input(st, now, seg, slen);
		}
	}
	if (tp && tp->batch)
		tp->batch(tp->ctx, now, false);
}

void td_stack_input_vnet(struct td_stack *st, uint64_t now, const void *buf, size_t len,
			 size_t hdr_size)
{
	const uint8_t *b = buf;
	struct td_vnet_repr vr;
	size_t pkt_len = len > hdr_size ? len - hdr_size : 0;
	enum td_wire_err e = td_vnet_parse(b, len, hdr_size, pkt_len, &vr);
	if (e != TD_WIRE_OK) {
		count_parse_error(st, b, len, hdr_size, e);
		return;
	}
	const uint8_t *pkt = b + hdr_size;
	if (vr.gso_type != TD_VNET_GSO_NONE) {
		input_gso(st, now, &vr, pkt, pkt_len);
		return;
	}
	if (vr.flags & TD_VNET_F_NEEDS_CSUM) {
		if (pkt_len > TD_VNET_SEG_MAX) {
			st->stats.ctr[TD_CTR_vnet_bad_csum_off]++;
			return;
		}
		input_partial(st, now, &vr, pkt, pkt_len);
		return;
	}
	/* DATA_VALID: the kernel checked it; verifying again costs one pass
	 * and catches nothing, but plain packets are rare on this path. */
	td_stack_input(st, now, pkt, pkt_len);
}
