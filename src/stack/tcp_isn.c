/* Keyed hashes for TCP: RFC 6528 ISNs, timestamp offsets, SYN cookies, table buckets. */
#include <string.h>

#include "stack/tcp_internal.h"

/* Serialise a tuple plus up to 3 extra words into a fixed buffer: hashing the
 * struct directly would hash padding bytes. */
static size_t tuple_bytes(const struct td_tcp_tuple *t, uint8_t *buf, uint32_t tag, uint32_t a,
			  uint32_t b)
{
	size_t n = 0;
	buf[n++] = t->family;
	td_put_be16(buf + n, t->lport);
	n += 2;
	td_put_be16(buf + n, t->rport);
	n += 2;
	size_t alen = t->family == 6 ? 16 : 4;
	memcpy(buf + n, t->laddr, alen);
	n += alen;
	memcpy(buf + n, t->raddr, alen);
	n += alen;
	td_put_be32(buf + n, tag);
	n += 4;
	td_put_be32(buf + n, a);
	n += 4;
	td_put_be32(buf + n, b);
	n += 4;
	return n;
}

static uint64_t tuple_hash(const struct td_tcp *tcp, const struct td_tcp_tuple *t, uint32_t tag,
			   uint32_t a, uint32_t b)
{
	uint8_t buf[64];
	size_t n = tuple_bytes(t, buf, tag, a, b);
	return td_siphash24(tcp->cfg.key, buf, n);
}

/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 microseconds. */
uint32_t td_tcp_isn(const struct td_tcp *tcp, const struct td_tcp_tuple *t, uint64_t now)
{
	return (uint32_t)(now / 4000) + (uint32_t)tuple_hash(tcp, t, 0x49534e00u, 0, 0);
}

/* RFC 7323 §5.4 / RFC 6191: a per-connection random offset hides the host's
 * clock; derived from the tuple so that a SYN-cookie connection recomputes it. */
uint32_t td_tcp_ts_offset(const struct td_tcp *tcp, const struct td_tcp_tuple *t)
{
	return (uint32_t)tuple_hash(tcp, t, 0x54534f46u, 0, 0);
}

uint32_t td_tcp_tuple_hash(const struct td_tcp *tcp, const struct td_tcp_tuple *t)
{
	return (uint32_t)tuple_hash(tcp, t, 0x48415348u, 0, 0);
}

/*
 * SYN cookies (RFC 4987 §3.6). Our ISN is
 *     bits 31..27  t mod 32, t = seconds / 64
 *     bits 26..24  index of the MSS in mss_table
 *     bits 23..0   SipHash(key, tuple, peer ISN, t, index) mod 2^24
 * Window scale and SACK-permitted, when the SYN carried timestamps, travel in
 * the low bits of our TSval (tcp_output.c / tcp_input.c); otherwise they are lost,
 * which RFC 4987 accepts as the price of statelessness.
 */
static const uint16_t mss_table[8] = {536, 1200, 1220, 1360, 1400, 1440, 1460, 8960};
#define COOKIE_PERIOD_S 64ull
#define COOKIE_MAX_AGE 2 /* periods a cookie stays valid */

static uint32_t cookie_for(const struct td_tcp *tcp, const struct td_tcp_tuple *t,
			   uint32_t peer_isn, uint32_t tcount, uint32_t idx)
{
	uint32_t h = (uint32_t)tuple_hash(tcp, t, 0x434f4f4bu ^ idx, peer_isn, tcount) & 0xffffffu;
	return (tcount & 31u) << 27 | (idx & 7u) << 24 | h;
}

uint32_t td_tcp_cookie_make(const struct td_tcp *tcp, const struct td_tcp_tuple *t, uint32_t peer_isn,
			 uint16_t mss, uint64_t now)
{
	uint32_t idx = 0;
	for (uint32_t i = 0; i < 8; i++)
		if (mss_table[i] <= mss)
			idx = i;
	uint32_t tcount = (uint32_t)(now / (COOKIE_PERIOD_S * 1000000000ull));
	return cookie_for(tcp, t, peer_isn, tcount, idx);
}

uint16_t td_tcp_cookie_check(const struct td_tcp *tcp, const struct td_tcp_tuple *t,
			  uint32_t peer_isn, uint32_t cookie, uint64_t now)
{
	uint32_t tnow = (uint32_t)(now / (COOKIE_PERIOD_S * 1000000000ull));
	uint32_t idx = cookie >> 24 & 7u;
	for (uint32_t age = 0; age < COOKIE_MAX_AGE && age <= tnow; age++) {
		uint32_t tc = tnow - age;
		if ((tc & 31u) != cookie >> 27)
			continue;
		if (cookie_for(tcp, t, peer_isn, tc, idx) == cookie)
			return mss_table[idx];
	}
	return 0;
}
