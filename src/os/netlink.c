/* Netlink without libmnl: bounded request building, a reply parser that cannot read out of bounds, one exchange. */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/netlink.h"
#include "tundra/os_misc.h"

#define HDRLEN ((size_t)NLMSG_HDRLEN)
#define ERRLEN sizeof(struct nlmsgerr) /* int error + the request's nlmsghdr */
#define MAX_ERRNO 4095                  /* the kernel's errno values are 1..4095 */
#define RX_BUF 8192 /* an ACK with our echoed request and the kernel's text fits many times */

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

/* ---- the socket ----------------------------------------------------------------- */

int td_nl_open(int *fd, uint32_t *portid)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	/* Both options are extras (Linux 4.3 and 4.12): an older kernel refuses
	 * them and we get the same answers without the text. */
	int one = 1;
	(void)setsockopt(s, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK}; /* nl_pid 0: the kernel picks ours */
	socklen_t sl = sizeof(sa);
	int err = 0;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) < 0)
		err = -errno;
	else if (sl != sizeof(sa) || sa.nl_family != AF_NETLINK)
		err = -EPROTO;
	if (!err) {
		*portid = sa.nl_pid;
		/* Connected to the kernel (port 0): a unicast from another
		 * process is refused by the kernel rather than queued to us. */
		struct sockaddr_nl k = {.nl_family = AF_NETLINK};
		if (connect(s, (struct sockaddr *)&k, sizeof(k)) < 0)
			err = -errno;
	}
	if (err) {
		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

/* Wait for the socket to be readable until deadline (monotonic ns); a
 * signal only costs a recomputed poll. 1, or -ETIMEDOUT, or -errno. */
static int wait_readable(int fd, uint64_t deadline)
{
	for (;;) {
		uint64_t now = td_os_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* round up: a 0 ms poll would spin through the last millisecond */
		uint64_t ms = (deadline - now + 999999) / 1000000;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int n = poll(&pfd, 1, ms > INT32_MAX ? INT32_MAX : (int)ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int td_nl_talk(int fd, uint32_t portid, const void *req, size_t len, uint32_t seq, int timeout_ms,
	       struct td_nl_reply *r)
{
	/* 4-aligned: the kernel's messages are laid out for it (we read by memcpy anyway) */
	_Alignas(struct nlmsghdr) uint8_t buf[RX_BUF];
	uint64_t deadline = td_os_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	*r = (struct td_nl_reply){0};
	ssize_t n;
	do
		n = send(fd, req, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE; /* a datagram socket sends all or nothing */
	for (;;) {
		int w = wait_readable(fd, deadline);
		if (w < 0)
			return w;
		/* MSG_TRUNC: the datagram's real length, to tell a cut one apart */
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if ((size_t)n > sizeof(buf))
			return -EMSGSIZE;
		if (n == 0)
			return -EBADMSG; /* no netlink message is empty (and a closed peer reads as one) */
		int p = td_nl_reply_parse(buf, (size_t)n, seq, portid, r);
		if (p < 0)
			return p;
		if (p > 0)
			return r->error;
	}
}
