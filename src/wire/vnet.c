/* virtio-net header codec (virtio 1.x §5.1.6, struct virtio_net_hdr), used with TUN offloads. */
#include <tundra/wire.h>

#define KNOWN_FLAGS (TD_VNET_F_NEEDS_CSUM | TD_VNET_F_DATA_VALID | TD_VNET_F_RSC_INFO)

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool known_gso(uint8_t t)
{
	return t == TD_VNET_GSO_NONE || t == TD_VNET_GSO_TCPV4 || t == TD_VNET_GSO_UDP ||
	       t == TD_VNET_GSO_TCPV6 || t == TD_VNET_GSO_UDP_L4;
}

/* The rules both directions share (Linux virtio_net_hdr_to_skb() applies the
 * same ones to what a TUN writer hands the kernel). */
static enum td_wire_err validate(const struct td_vnet_repr *r)
{
	if (r->flags & ~KNOWN_FLAGS || !known_gso(r->gso_type))
		return TD_WIRE_UNSUPPORTED;
	/* §5.1.6.2: the ECN flag only qualifies TCP segmentation. */
	if (r->gso_ecn && r->gso_type != TD_VNET_GSO_TCPV4 && r->gso_type != TD_VNET_GSO_TCPV6)
		return TD_WIRE_UNSUPPORTED;
	/* Every Internet checksum field sits at an even offset from the start
	 * of the header it covers (TCP 16, UDP 6, ICMPv6 2); an odd one cannot
	 * be filled in meaningfully. */
	if ((r->flags & TD_VNET_F_NEEDS_CSUM) && (r->csum_offset & 1))
		return TD_WIRE_UNSUPPORTED;
	/* A GSO packet cut into segments of 0 bytes would never end. */
	if (r->gso_type != TD_VNET_GSO_NONE && r->gso_size == 0)
		return TD_WIRE_BAD_LENGTH;
	return TD_WIRE_OK;
}

enum td_wire_err td_vnet_parse(const void *buf, size_t len, size_t hdr_size, size_t pkt_len,
			       struct td_vnet_repr *r)
{
	const uint8_t *p = buf;

	if (hdr_size != TD_VNET_HDR_LEN && hdr_size != TD_VNET_HDR_MRG_LEN)
		return TD_WIRE_BAD_SIZE;
	if (len < hdr_size)
		return TD_WIRE_TRUNCATED;
	memset(r, 0, sizeof(*r));
	r->flags = p[0];
	r->gso_type = p[1] & (uint8_t)~TD_VNET_GSO_ECN;
	r->gso_ecn = (p[1] & TD_VNET_GSO_ECN) != 0;
	r->hdr_len = get_le16(p + 2);
	r->gso_size = get_le16(p + 4);
	r->csum_start = get_le16(p + 6);
	r->csum_offset = get_le16(p + 8);
	if (hdr_size == TD_VNET_HDR_MRG_LEN)
		r->num_buffers = get_le16(p + 10);

	enum td_wire_err e = validate(r);
	if (e != TD_WIRE_OK)
		return e;
	/* §5.1.6.2.1: the checksum field (2 bytes at csum_start + csum_offset)
	 * must lie inside the packet. */
	if ((r->flags & TD_VNET_F_NEEDS_CSUM) &&
	    (size_t)r->csum_start + r->csum_offset + 2 > pkt_len)
		return TD_WIRE_BAD_LENGTH;
	if (r->hdr_len > pkt_len)
		return TD_WIRE_BAD_LENGTH;
	return TD_WIRE_OK;
}

enum td_wire_err td_vnet_emit(const struct td_vnet_repr *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (len != TD_VNET_HDR_LEN && len != TD_VNET_HDR_MRG_LEN)
		return TD_WIRE_BAD_SIZE;
	if (validate(r) != TD_WIRE_OK)
		return TD_WIRE_BAD_SIZE;
	p[0] = r->flags;
	p[1] = (uint8_t)(r->gso_type | (r->gso_ecn ? TD_VNET_GSO_ECN : 0));
	put_le16(p + 2, r->hdr_len);
	put_le16(p + 4, r->gso_size);
	put_le16(p + 6, r->csum_start);
	put_le16(p + 8, r->csum_offset);
	if (len == TD_VNET_HDR_MRG_LEN)
		put_le16(p + 10, r->num_buffers);
	return TD_WIRE_OK;
}

enum td_wire_err td_vnet_csum_finish(const struct td_vnet_repr *r, void *pkt, size_t len)
{
	uint8_t *p = pkt;

	if (!(r->flags & TD_VNET_F_NEEDS_CSUM))
		return TD_WIRE_OK;
	if (r->gso_type != TD_VNET_GSO_NONE)
		return TD_WIRE_UNSUPPORTED;
	size_t field = (size_t)r->csum_start + r->csum_offset;
	if (field + 2 > len)
		return TD_WIRE_BAD_LENGTH;
	uint16_t c = td_csum(p + r->csum_start, len - r->csum_start);
	/* A UDP checksum that computes to 0 goes out as all ones (RFC 768);
	 * for TCP both encodings verify, so the rule is safe to apply always. */
	td_put_be16(p + field, c ? c : 0xffff);
	return TD_WIRE_OK;
}
