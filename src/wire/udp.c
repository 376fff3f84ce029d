/* UDP datagram codec (RFC 768; IPv6 rules from RFC 8200 §8.1). */
#include <tundra/wire.h>

/* The caller's pseudo-header sum carries the IP payload length; when the UDP
 * length field is shorter (link or IP padding after the datagram), swap it for
 * the UDP length, which is what the pseudo-header holds (RFC 768). One's-
 * complement subtraction is addition of the complement. */
static uint32_t pseudo_relen(uint32_t pseudo, size_t ip_len, uint16_t udp_len)
{
	uint64_t s = pseudo;
	s += 0xffffu - (ip_len & 0xffffu);
	s += 0xffffu - ((ip_len >> 16) & 0xffffu);
	s += udp_len;
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)((s & 0xffffu) + (s >> 16));
}

enum td_wire_err td_udp_parse(const void *buf, size_t len, uint32_t pseudo, unsigned flags,
			      struct td_udp_repr *r)
{
	const uint8_t *p = buf;

	if (len < TD_UDP_HDR_LEN)
		return TD_WIRE_TRUNCATED;
	uint16_t ulen = td_get_be16(p + 4);
	if (ulen < TD_UDP_HDR_LEN || ulen > len)
		return TD_WIRE_BAD_LENGTH;
	if (!(flags & TD_WIRE_SKIP_CSUM)) {
		uint16_t field = td_get_be16(p + 6);
		if (field == 0) {
			/* RFC 768: zero means "no checksum" over IPv4; over
			 * IPv6 it is forbidden (RFC 8200 §8.1). */
			if (flags & TD_WIRE_IPV6)
				return TD_WIRE_BAD_CHECKSUM;
		} else {
			uint32_t acc = ulen == len ? pseudo : pseudo_relen(pseudo, len, ulen);
			if (td_csum_finish(td_csum_add(acc, p, ulen)) != 0)
				return TD_WIRE_BAD_CHECKSUM;
		}
	}
	r->src_port = td_get_be16(p);
	r->dst_port = td_get_be16(p + 2);
	r->payload.ptr = p + TD_UDP_HDR_LEN;
	r->payload.len = (size_t)ulen - TD_UDP_HDR_LEN;
	return TD_WIRE_OK;
}

size_t td_udp_size(const struct td_udp_repr *r)
{
	return TD_UDP_HDR_LEN + r->payload.len;
}

enum td_wire_err td_udp_emit(const struct td_udp_repr *r, uint32_t pseudo, void *buf,
			     size_t len)
{
	uint8_t *p = buf;

	if (len != td_udp_size(r) || len > 0xffff)
		return TD_WIRE_BAD_SIZE;
	if (r->payload.len)
		memmove(p + TD_UDP_HDR_LEN, r->payload.ptr, r->payload.len);
	td_put_be16(p, r->src_port);
	td_put_be16(p + 2, r->dst_port);
	td_put_be16(p + 4, (uint16_t)len);
	td_put_be16(p + 6, 0);
	uint16_t c = td_csum_finish(td_csum_add(pseudo, p, len));
	/* RFC 768: a computed zero is sent as all ones (zero means "none"). */
	td_put_be16(p + 6, c ? c : 0xffff);
	return TD_WIRE_OK;
}
