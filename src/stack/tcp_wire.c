/* TCP raw-bytes entry: checked view, parse, then the decoded-segment core. */
#include "stack/tcp_internal.h"

static uint32_t be32_of(const uint8_t *a)
{
	return td_get_be32(a);
}

void td_tcp_input_bytes(struct td_tcp *tcp, uint64_t now, const struct td_tcp_tuple *t,
			const void *seg, size_t len, unsigned flags)
{
	struct td_tcp_view v;
	struct td_tcp_repr r;
	uint32_t pseudo;
	if (len > 0xffff + 0u && t->family == 4) {
		tcp->c.rx_bad_segment++;
		return;
	}
	/* RFC 9293 §3.1: the checksum covers the pseudo-header */
	if (t->family == 6)
		pseudo = td_csum_pseudo6(t->raddr, t->laddr, TD_IPPROTO_TCP, (uint32_t)len);
	else
		pseudo = td_csum_pseudo4(be32_of(t->raddr), be32_of(t->laddr), TD_IPPROTO_TCP,
					 (uint16_t)len);
	enum td_wire_err e = td_tcp_check(&v, seg, len, pseudo, flags);
	if (e != TD_WIRE_OK) {
		if (e == TD_WIRE_BAD_CHECKSUM)
			tcp->c.rx_bad_csum++;
		else
			tcp->c.rx_bad_segment++;
		return;
	}
	if (td_tcp_parse(&v, &r) != TD_WIRE_OK) {
		tcp->c.rx_bad_option++;
		return;
	}
	td_tcp_input(tcp, now, t, &r);
}
