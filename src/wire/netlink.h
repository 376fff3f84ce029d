/* Netlink messages as bytes: a bounded request builder and a reply parser that reads only within the datagram (pure; the socket is src/os/netlink.h). */
#ifndef TUNDRA_WIRE_NETLINK_H
#define TUNDRA_WIRE_NETLINK_H

#include <stddef.h>
#include <stdint.h>

/* ---- building a request (pure) --------------------------------------------------- *
 * A request is written into the caller's buffer: the nlmsghdr, then the
 * family header (ifinfomsg, ifaddrmsg, rtmsg), then attributes, each padded
 * to 4 bytes (NLMSG_ALIGN, NLA_ALIGN). A put that does not fit writes
 * nothing and fails with -EMSGSIZE; the error is sticky, so a caller may
 * put everything and check once at td_nl_msg_finish. Nothing is ever
 * written past cap. */
struct td_nl_msg {
	uint8_t *buf;
	size_t cap;
	size_t len; /* bytes used so far: the nlmsg_len finish will write */
	uint16_t type, flags;
	int err; /* 0 or the first failure (-EMSGSIZE, -EINVAL) */
};

/* Start a message of this type and flags (NLM_F_REQUEST, NLM_F_ACK, ...) in
 * buf (cap bytes, caller-owned, outlives m). */
void td_nl_msg_init(struct td_nl_msg *m, void *buf, size_t cap, uint16_t type, uint16_t flags);
/* Append the family header (copied from fam, len bytes), right after the
 * nlmsghdr: -EINVAL once anything else was appended. */
int td_nl_msg_put_family(struct td_nl_msg *m, const void *fam, size_t len);
/* Append one attribute (struct nlattr, then len bytes of data, padding zeroed).
 * -EMSGSIZE when it does not fit in the buffer or in nla_len's 16 bits. */
int td_nl_msg_put_attr(struct td_nl_msg *m, uint16_t type, const void *data, size_t len);
int td_nl_msg_put_u32(struct td_nl_msg *m, uint16_t type, uint32_t v);
/* Write the nlmsghdr (length, type, flags, seq, pid). 0, or the sticky
 * error; the request is then m->buf[0 .. m->len). */
int td_nl_msg_finish(struct td_nl_msg *m, uint32_t seq, uint32_t portid);

/* ---- parsing the answer (pure) --------------------------------------------------- */

#define TD_NL_MSG_MAX 160 /* the kernel's extended-ACK text, truncated to this */

struct td_nl_reply {
	int error; /* when done: 0 (ACK, or NLMSG_DONE) or the kernel's -errno */
	/* NLMSGERR_ATTR_MSG when the kernel gave one (NETLINK_EXT_ACK), NUL-
	 * terminated, bytes outside printable ASCII replaced by '?'; else "". */
	char msg[TD_NL_MSG_MAX];
	uint32_t skipped;   /* messages passed over: other seq or pid, NOOP, data */
	uint32_t bad_tlvs;  /* extended-ACK areas ignored as malformed (the error still counts) */
};

/* Walk one received datagram (buf, len) for the answer to request seq sent
 * from portid, as NLMSG_OK/NLMSG_NEXT would but reading every field through
 * memcpy within len. Returns 1 when the answer was found (r->error, r->msg
 * filled), 0 when the datagram held nothing of ours (keep receiving),
 * -EBADMSG when a length field disagrees with the bytes (a message that
 * overruns the datagram, an NLMSG_ERROR shorter than struct nlmsgerr),
 * -EPROTO when the contents are impossible (a positive or out-of-range
 * errno, NLMSG_OVERRUN). r must be zeroed by the caller before the first
 * datagram of an exchange (skipped accumulates). */
int td_nl_reply_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		      struct td_nl_reply *r);

#endif
