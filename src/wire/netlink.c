/* Netlink messages as bytes: the bounded request builder and the reply parser that cannot read out of bounds. */
#include <errno.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <string.h>

#include "wire/netlink.h"

#define HDRLEN ((size_t)NLMSG_HDRLEN)
#define ERRLEN sizeof(struct nlmsgerr) /* int error + the request's nlmsghdr */
#define MAX_ERRNO 4095                  /* the kernel's errno values are 1..4095 */

/* ---- building ------------------------------------------------------------------- */

void td_nl_msg_init(struct td_nl_msg *m, void *buf, size_t cap, uint16_t type, uint16_t flags)
{
	*m = (struct td_nl_msg){.buf = buf, .cap = cap, .type = type, .flags = flags};
	if (cap < HDRLEN) {
		m->err = -EMSGSIZE;
		return;
	}
	memset(m->buf, 0, HDRLEN);
	m->len = HDRLEN;
}

/* Room for n more bytes, aligned to 4, or the sticky -EMSGSIZE. */
static uint8_t *reserve(struct td_nl_msg *m, size_t n)
{
	if (m->err)
		return NULL;
	/* nlmsg_len is 32 bits; cap - len cannot underflow (len <= cap always) */
	if (n > m->cap - m->len || NLMSG_ALIGN(n) > m->cap - m->len ||
	    m->len + NLMSG_ALIGN(n) > UINT32_MAX) {
		m->err = -EMSGSIZE;
		return NULL;
	}
	uint8_t *p = m->buf + m->len;
	memset(p + n, 0, NLMSG_ALIGN(n) - n); /* padding never leaks stack bytes to the kernel */
	m->len += NLMSG_ALIGN(n);
	return p;
}

int td_nl_msg_put_family(struct td_nl_msg *m, const void *fam, size_t len)
{
	if (!m->err && m->len != HDRLEN)
		m->err = -EINVAL; /* the family header sits right after the nlmsghdr */
	uint8_t *p = reserve(m, len);
	if (!p)
		return m->err;
	if (len)
		memcpy(p, fam, len);
	return 0;
}

int td_nl_msg_put_attr(struct td_nl_msg *m, uint16_t type, const void *data, size_t len)
{
	if (!m->err && len > UINT16_MAX - (size_t)NLA_HDRLEN)
		m->err = -EMSGSIZE; /* nla_len is 16 bits */
	uint8_t *p = reserve(m, (size_t)NLA_HDRLEN + len);
	if (!p)
		return m->err;
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
	memcpy(p, &a, sizeof(a));
	if (len)
		memcpy(p + NLA_HDRLEN, data, len);
	return 0;
}

int td_nl_msg_put_u32(struct td_nl_msg *m, uint16_t type, uint32_t v)
{
	return td_nl_msg_put_attr(m, type, &v, sizeof(v)); /* host order, as rtnetlink wants */
}

int td_nl_msg_finish(struct td_nl_msg *m, uint32_t seq, uint32_t portid)
{
	if (m->err)
		return m->err;
	struct nlmsghdr h = {.nlmsg_len = (uint32_t)m->len,
			     .nlmsg_type = m->type,
			     .nlmsg_flags = m->flags,
			     .nlmsg_seq = seq,
			     .nlmsg_pid = portid};
	memcpy(m->buf, &h, sizeof(h));
	return 0;
}

/* ---- parsing -------------------------------------------------------------------- */

/* The kernel's text, made safe to print: stops at NUL or the attribute's end. */
static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t i = 0;
	for (; i < n && i + 1 < cap && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	dst[i] = '\0';
}

/* Extended ACK TLVs (NETLINK_EXT_ACK) after struct nlmsgerr and, unless
 * NLM_F_CAPPED, the echoed request's payload. The error code is already
 * known: a malformed TLV area costs the text, never the answer. */
static void ext_ack(const uint8_t *p, size_t len, uint16_t flags, const struct nlmsgerr *e,
		    struct td_nl_reply *r)
{
	if (!(flags & NLM_F_ACK_TLVS))
		return;
	size_t off = HDRLEN + ERRLEN;
	if (!(flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < HDRLEN || e->msg.nlmsg_len - HDRLEN > len - off) {
			r->bad_tlvs++;
			return;
		}
		off += e->msg.nlmsg_len - HDRLEN;
	}
	off = NLMSG_ALIGN(off);
	while (off < len) {
		struct nlattr a;
		if (len - off < sizeof(a)) {
			r->bad_tlvs++;
			return;
		}
		memcpy(&a, p + off, sizeof(a));
		/* nla_len >= 4 makes the walk progress; <= the rest keeps it in bounds */
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off) {
			r->bad_tlvs++;
			return;
		}
		if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
			copy_text(r->msg, sizeof(r->msg), p + off + NLA_HDRLEN,
				  a.nla_len - (size_t)NLA_HDRLEN);
		off += NLA_ALIGN((size_t)a.nla_len);
	}
}

/* An errno as the kernel sends it: 0 or -1..-4095. */
static bool errno_ok(int32_t e)
{
	return e <= 0 && e >= -MAX_ERRNO;
}

int td_nl_reply_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		      struct td_nl_reply *r)
{
	const uint8_t *b = buf;
	size_t off = 0;
	while (off < len) {
		struct nlmsghdr h;
		size_t rest = len - off;
		/* NLMSG_OK: a whole header, and a length between it and the datagram's end */
		if (rest < sizeof(h))
			return -EBADMSG;
		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > rest)
			return -EBADMSG;
		const uint8_t *p = b + off;
		size_t n = h.nlmsg_len;
		/* NLMSG_NEXT: the last message may lack its padding */
		off += NLMSG_ALIGN(n) < rest ? NLMSG_ALIGN(n) : rest;

		if (h.nlmsg_seq != seq || h.nlmsg_pid != portid) {
			r->skipped++; /* a stale answer, or not an answer to us */
			continue;
		}
		switch (h.nlmsg_type) {
		case NLMSG_ERROR: {
			struct nlmsgerr e;
			if (n < HDRLEN + ERRLEN)
				return -EBADMSG;
			memcpy(&e, p + HDRLEN, sizeof(e));
			if (!errno_ok(e.error))
				return -EPROTO;
			r->error = e.error;
			ext_ack(p, n, h.nlmsg_flags, &e, r);
			return 1;
		}
		case NLMSG_DONE: {
			/* A dump's end; its payload, when present, is the dump's errno. */
			int32_t e = 0;
			if (n >= HDRLEN + sizeof(e))
				memcpy(&e, p + HDRLEN, sizeof(e));
			if (!errno_ok(e))
				return -EPROTO;
			r->error = e;
			return 1;
		}
		case NLMSG_OVERRUN:
			return -EPROTO; /* the kernel never sends it: nothing we can trust */
		default:
			r->skipped++; /* NLMSG_NOOP, reserved control types, data (not asked for) */
			continue;
		}
	}
	return 0;
}
