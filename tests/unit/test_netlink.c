/* Netlink without libmnl: the bounded builder, the reply parser on crafted and malformed bytes, the timed exchange. */
#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/netlink.h"
#include "tundra/os_misc.h"

#define SEQ 0x1234u
#define PID 4242u

/* ---- crafting replies ------------------------------------------------------------ */

struct dgram {
	uint8_t b[1024];
	size_t len;
};

static void put(struct dgram *d, const void *p, size_t n)
{
	assert_true(d->len + n <= sizeof(d->b));
	if (n)
		memcpy(d->b + d->len, p, n);
	d->len += n;
}

static void pad(struct dgram *d)
{
	static const uint8_t zero[4];
	put(d, zero, NLMSG_ALIGN(d->len) - d->len);
}

static void hdr(struct dgram *d, uint32_t len, uint16_t type, uint16_t flags, uint32_t seq,
		uint32_t pid)
{
	struct nlmsghdr h = {len, type, flags, seq, pid};
	put(d, &h, sizeof(h));
}

/* An NLMSG_ERROR answering (SEQ, PID): error, the request's header, then
 * echo bytes of the request's payload (uncapped) and the TLVs. */
static void error_msg(struct dgram *d, int32_t error, uint16_t flags, const void *echo,
		      size_t echo_len, const void *tlvs, size_t tlv_len)
{
	size_t start = d->len;
	uint32_t len = (uint32_t)(NLMSG_HDRLEN + sizeof(struct nlmsgerr) + NLMSG_ALIGN(echo_len) +
				  tlv_len);
	hdr(d, len, NLMSG_ERROR, flags, SEQ, PID);
	struct nlmsgerr e = {.error = error,
			     .msg = {(uint32_t)(NLMSG_HDRLEN + echo_len), RTM_NEWROUTE,
				     NLM_F_REQUEST | NLM_F_ACK, SEQ, 0}};
	put(d, &e, sizeof(e));
	put(d, echo, echo_len);
	pad(d);
	put(d, tlvs, tlv_len);
	assert_int_equal(d->len - start, len);
}

static size_t tlv(uint8_t *out, uint16_t type, const void *data, size_t n)
{
	struct nlattr a = {(uint16_t)(NLA_HDRLEN + n), type};
	memcpy(out, &a, sizeof(a));
	memcpy(out + NLA_HDRLEN, data, n);
	memset(out + NLA_HDRLEN + n, 0, NLA_ALIGN(n) - n);
	return NLA_HDRLEN + NLA_ALIGN(n);
}

/* Parse from an exact-size heap copy: under ASan one byte too far is a finding. */
static int parse(const void *b, size_t len, struct td_nl_reply *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, b, len);
	*r = (struct td_nl_reply){0};
	int rc = td_nl_reply_parse(copy, len, SEQ, PID, r);
	free(copy);
	return rc;
}

/* ---- builder ------------------------------------------------------------------- */

static void nl_msg_lays_out_header_family_and_padded_attributes(void **state)
{
	(void)state;
	uint8_t buf[128];
	memset(buf, 0xaa, sizeof(buf)); /* padding must be zeroed, not left as found */
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
	struct ifaddrmsg ifa = {.ifa_family = AF_INET6, .ifa_prefixlen = 64, .ifa_index = 7};
	assert_int_equal(td_nl_msg_put_family(&m, &ifa, sizeof(ifa)), 0);
	const uint8_t three[3] = {1, 2, 3};
	assert_int_equal(td_nl_msg_put_attr(&m, IFA_LABEL, three, 3), 0);
	assert_int_equal(td_nl_msg_put_u32(&m, IFA_FLAGS, 0x80), 0);
	assert_int_equal(td_nl_msg_put_attr(&m, IFA_LOCAL, NULL, 0), 0);
	assert_int_equal(td_nl_msg_finish(&m, 99, 5), 0);
	/* 16 header + 8 ifaddrmsg + 8 (7 padded) + 8 + 4 */
	assert_int_equal(m.len, 44);
	struct nlmsghdr h;
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.nlmsg_len, 44);
	assert_int_equal(h.nlmsg_type, RTM_NEWADDR);
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
	assert_int_equal(h.nlmsg_seq, 99);
	assert_int_equal(h.nlmsg_pid, 5);
	assert_memory_equal(buf + 16, &ifa, sizeof(ifa));
	struct nlattr a;
	memcpy(&a, buf + 24, sizeof(a));
	assert_int_equal(a.nla_len, 7);
	assert_int_equal(a.nla_type, IFA_LABEL);
	assert_memory_equal(buf + 28, three, 3);
	assert_int_equal(buf[31], 0);
	memcpy(&a, buf + 32, sizeof(a));
	assert_int_equal(a.nla_len, 8);
	uint32_t v;
	memcpy(&v, buf + 36, 4);
	assert_int_equal(v, 0x80);
	memcpy(&a, buf + 40, sizeof(a));
	assert_int_equal(a.nla_len, 4);
	assert_int_equal(a.nla_type, IFA_LOCAL);
	assert_int_equal(buf[44], 0xaa); /* nothing written past the message */
}

static void nl_msg_that_does_not_fit_fails_emsgsize_and_writes_nothing_past_cap(void **state)
{
	(void)state;
	uint8_t buf[64];
	memset(buf, 0xaa, sizeof(buf));
	struct td_nl_msg m;
	/* room for the header, an rtmsg and one u32 attribute exactly */
	size_t cap = NLMSG_HDRLEN + sizeof(struct rtmsg) + 8;
	td_nl_msg_init(&m, buf, cap, RTM_NEWROUTE, NLM_F_REQUEST);
	struct rtmsg rtm = {.rtm_family = AF_INET};
	assert_int_equal(td_nl_msg_put_family(&m, &rtm, sizeof(rtm)), 0);
	const uint8_t addr[16] = {0xfd};
	assert_int_equal(td_nl_msg_put_attr(&m, RTA_DST, addr, 16), -EMSGSIZE);
	assert_int_equal(m.len, NLMSG_HDRLEN + sizeof(rtm));
	/* sticky: even what would fit now fails, so one check at finish is enough */
	assert_int_equal(td_nl_msg_put_u32(&m, RTA_OIF, 3), -EMSGSIZE);
	assert_int_equal(td_nl_msg_finish(&m, 1, 0), -EMSGSIZE);
	for (size_t i = cap; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xaa);

	/* the exact fit is accepted */
	td_nl_msg_init(&m, buf, cap, RTM_NEWROUTE, NLM_F_REQUEST);
	td_nl_msg_put_family(&m, &rtm, sizeof(rtm));
	assert_int_equal(td_nl_msg_put_u32(&m, RTA_OIF, 3), 0);
	assert_int_equal(td_nl_msg_finish(&m, 1, 0), 0);
	assert_int_equal(m.len, cap);
	assert_int_equal(buf[cap], 0xaa);

	/* a 3-byte attribute whose padding would cross cap is refused too */
	memset(buf, 0xaa, sizeof(buf));
	td_nl_msg_init(&m, buf, NLMSG_HDRLEN + 7, RTM_NEWROUTE, NLM_F_REQUEST);
	assert_int_equal(td_nl_msg_put_attr(&m, RTA_DST, addr, 3), -EMSGSIZE);
	assert_int_equal(buf[NLMSG_HDRLEN + 7], 0xaa);
}

static void nl_msg_buffer_smaller_than_a_header_fails_untouched(void **state)
{
	(void)state;
	uint8_t buf[16];
	memset(buf, 0xaa, sizeof(buf));
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, 15, RTM_NEWLINK, NLM_F_REQUEST);
	assert_int_equal(td_nl_msg_put_u32(&m, IFLA_MTU, 1500), -EMSGSIZE);
	assert_int_equal(td_nl_msg_finish(&m, 1, 0), -EMSGSIZE);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xaa);
}

static void nl_msg_attribute_longer_than_nla_len_can_say_is_refused(void **state)
{
	(void)state;
	size_t big = 70000;
	uint8_t *buf = calloc(1, big + 64), *data = calloc(1, big);
	assert_non_null(buf);
	assert_non_null(data);
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, big + 64, RTM_NEWLINK, NLM_F_REQUEST);
	assert_int_equal(td_nl_msg_put_attr(&m, IFLA_IFNAME, data, UINT16_MAX - 3), -EMSGSIZE);
	td_nl_msg_init(&m, buf, big + 64, RTM_NEWLINK, NLM_F_REQUEST);
	assert_int_equal(td_nl_msg_put_attr(&m, IFLA_IFNAME, data, UINT16_MAX - 4), 0);
	free(buf);
	free(data);
}

static void nl_msg_family_header_after_an_attribute_is_refused(void **state)
{
	(void)state;
	uint8_t buf[64];
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_NEWLINK, NLM_F_REQUEST);
	assert_int_equal(td_nl_msg_put_u32(&m, IFLA_MTU, 1500), 0);
	struct ifinfomsg ifm = {0};
	assert_int_equal(td_nl_msg_put_family(&m, &ifm, sizeof(ifm)), -EINVAL);
	assert_int_equal(td_nl_msg_finish(&m, 1, 0), -EINVAL);
}

/* ---- reply parser -------------------------------------------------------------- */

static void reply_ack_is_zero_and_errno_is_negative(void **state)
{
	(void)state;
	struct dgram d = {0};
	struct td_nl_reply r;
	error_msg(&d, 0, NLM_F_CAPPED, NULL, 0, NULL, 0);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, 0);
	assert_string_equal(r.msg, "");
	d.len = 0;
	error_msg(&d, -EEXIST, NLM_F_CAPPED, NULL, 0, NULL, 0);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -EEXIST);
}

static void reply_extended_ack_text_is_read_capped_or_after_the_echoed_request(void **state)
{
	(void)state;
	static const char text[] = "Invalid prefix for given prefix length";
	uint8_t tl[128];
	uint32_t offs = 36;
	size_t n = tlv(tl, NLMSGERR_ATTR_OFFS, &offs, 4);
	n += tlv(tl + n, NLMSGERR_ATTR_MSG, text, sizeof(text));
	struct dgram d = {0};
	struct td_nl_reply r;
	error_msg(&d, -EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0, tl, n);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -EINVAL);
	assert_string_equal(r.msg, text);
	assert_int_equal(r.bad_tlvs, 0);

	/* without NETLINK_CAP_ACK the request comes back first (an odd 22 bytes here) */
	uint8_t echo[22];
	memset(echo, 0x55, sizeof(echo));
	d.len = 0;
	error_msg(&d, -EINVAL, NLM_F_ACK_TLVS, echo, sizeof(echo), tl, n);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -EINVAL);
	assert_string_equal(r.msg, text);

	/* TLVs are only there when the kernel says so */
	d.len = 0;
	error_msg(&d, -EINVAL, NLM_F_CAPPED, NULL, 0, tl, n);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_string_equal(r.msg, "");
}

static void reply_extended_ack_text_is_bounded_and_printable(void **state)
{
	(void)state;
	uint8_t text[400], tl[512];
	memset(text, 'x', sizeof(text));
	text[0] = '\n';
	text[1] = 0x1b; /* a terminal escape from anywhere must not reach the user's tty as is */
	text[2] = 0xc3;
	size_t n = tlv(tl, NLMSGERR_ATTR_MSG, text, sizeof(text)); /* no NUL at all */
	struct dgram d = {0};
	struct td_nl_reply r;
	error_msg(&d, -EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0, tl, n);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(strlen(r.msg), TD_NL_MSG_MAX - 1);
	assert_memory_equal(r.msg, "???xxx", 6);
}

static void reply_malformed_extended_ack_keeps_the_error_and_drops_the_text(void **state)
{
	(void)state;
	static const char text[] = "ignored";
	uint8_t tl[64];
	size_t n = tlv(tl, NLMSGERR_ATTR_MSG, text, sizeof(text));
	struct dgram d = {0};
	struct td_nl_reply r;
	/* nla_len 2: shorter than its own header (a walk that could not progress) */
	uint8_t bad[64];
	memcpy(bad, tl, n);
	bad[0] = 2;
	bad[1] = 0;
	error_msg(&d, -ENODEV, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0, bad, n);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -ENODEV);
	assert_string_equal(r.msg, "");
	assert_int_equal(r.bad_tlvs, 1);
	/* nla_len past the message's end */
	memcpy(bad, tl, n);
	bad[0] = (uint8_t)(n + 4);
	d.len = 0;
	error_msg(&d, -ENODEV, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0, bad, n);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -ENODEV);
	assert_int_equal(r.bad_tlvs, 1);
	/* an echoed request longer than the message holds */
	d.len = 0;
	error_msg(&d, -ENODEV, NLM_F_ACK_TLVS, NULL, 0, tl, n);
	struct nlmsghdr inner = {4000, RTM_NEWROUTE, 0, SEQ, 0};
	memcpy(d.b + NLMSG_HDRLEN + 4, &inner, sizeof(inner));
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -ENODEV);
	assert_string_equal(r.msg, "");
	assert_int_equal(r.bad_tlvs, 1);
	/* a few bytes left after the last TLV: too short for an attribute */
	d.len = 0;
	memcpy(bad, tl, n);
	memset(bad + n, 0, 2);
	error_msg(&d, -ENODEV, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0, bad, n + 2);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_string_equal(r.msg, text);
	assert_int_equal(r.bad_tlvs, 1);
}

static void reply_other_seq_or_pid_and_noop_and_data_are_skipped(void **state)
{
	(void)state;
	struct dgram d = {0};
	struct td_nl_reply r;
	struct nlmsgerr e = {.error = -EPERM};
	/* a stale answer (earlier seq), one to another port, a NOOP, a data message */
	hdr(&d, NLMSG_HDRLEN + sizeof(e), NLMSG_ERROR, 0, SEQ - 1, PID);
	put(&d, &e, sizeof(e));
	hdr(&d, NLMSG_HDRLEN + sizeof(e), NLMSG_ERROR, 0, SEQ, PID + 1);
	put(&d, &e, sizeof(e));
	hdr(&d, NLMSG_HDRLEN, NLMSG_NOOP, 0, SEQ, PID);
	hdr(&d, NLMSG_HDRLEN + 3, RTM_NEWLINK, 0, SEQ, PID);
	put(&d, "abc", 3);
	size_t head = d.len;
	assert_int_equal(parse(d.b, d.len, &r), 0); /* nothing of ours yet: keep receiving */
	assert_int_equal(r.skipped, 4);
	pad(&d);
	error_msg(&d, 0, NLM_F_CAPPED, NULL, 0, NULL, 0);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.skipped, 4);
	assert_true(head < d.len);
}

static void reply_done_ends_the_exchange_with_its_errno(void **state)
{
	(void)state;
	struct dgram d = {0};
	struct td_nl_reply r;
	hdr(&d, NLMSG_HDRLEN, NLMSG_DONE, NLM_F_MULTI, SEQ, PID);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, 0);
	d.len = 0;
	int32_t e = -ENOENT;
	hdr(&d, NLMSG_HDRLEN + 4, NLMSG_DONE, NLM_F_MULTI, SEQ, PID);
	put(&d, &e, 4);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -ENOENT);
	e = 5;
	memcpy(d.b + NLMSG_HDRLEN, &e, 4);
	assert_int_equal(parse(d.b, d.len, &r), -EPROTO);
}

static void reply_lengths_that_disagree_with_the_bytes_are_ebadmsg(void **state)
{
	(void)state;
	struct dgram d = {0};
	struct td_nl_reply r;
	error_msg(&d, -EEXIST, NLM_F_CAPPED, NULL, 0, NULL, 0);
	/* every truncation of a valid answer: never an out-of-bounds read (the
	 * copy is exact-size on the heap), never a success */
	for (size_t n = 1; n < d.len; n++)
		assert_int_equal(parse(d.b, n, &r), -EBADMSG);
	assert_int_equal(parse(d.b, 0, &r), 0);
	/* nlmsg_len below a header: NLMSG_OK refuses it, and the walk could not progress */
	struct nlmsghdr h;
	memcpy(&h, d.b, sizeof(h));
	for (uint32_t bad = 0; bad < NLMSG_HDRLEN; bad++) {
		h.nlmsg_len = bad;
		memcpy(d.b, &h, sizeof(h));
		assert_int_equal(parse(d.b, d.len, &r), -EBADMSG);
	}
	/* nlmsg_len past the datagram */
	h.nlmsg_len = (uint32_t)d.len + 1;
	memcpy(d.b, &h, sizeof(h));
	assert_int_equal(parse(d.b, d.len, &r), -EBADMSG);
	h.nlmsg_len = UINT32_MAX;
	memcpy(d.b, &h, sizeof(h));
	assert_int_equal(parse(d.b, d.len, &r), -EBADMSG);
	/* an NLMSG_ERROR too short for struct nlmsgerr, though whole as a message */
	d.len = 0;
	hdr(&d, NLMSG_HDRLEN + 4, NLMSG_ERROR, 0, SEQ, PID);
	int32_t e = -EPERM;
	put(&d, &e, 4);
	assert_int_equal(parse(d.b, d.len, &r), -EBADMSG);
	/* a whole message, then a tail too short for a header */
	d.len = 0;
	hdr(&d, NLMSG_HDRLEN, NLMSG_NOOP, 0, SEQ, PID);
	put(&d, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(parse(d.b, d.len, &r), -EBADMSG);
}

static void reply_last_message_without_its_padding_is_read(void **state)
{
	(void)state;
	struct dgram d = {0};
	struct td_nl_reply r;
	hdr(&d, NLMSG_HDRLEN + 3, RTM_NEWLINK, 0, SEQ, PID);
	put(&d, "abc", 3); /* 19 bytes, the datagram ends unpadded */
	assert_int_equal(parse(d.b, d.len, &r), 0);
	assert_int_equal(r.skipped, 1);
	/* and an unaligned buffer is fine: fields are copied, never cast */
	d.len = 0;
	error_msg(&d, -EBUSY, NLM_F_CAPPED, NULL, 0, NULL, 0);
	uint8_t u[sizeof(d.b) + 1];
	memcpy(u + 1, d.b, d.len);
	struct td_nl_reply r2 = {0};
	assert_int_equal(td_nl_reply_parse(u + 1, d.len, SEQ, PID, &r2), 1);
	assert_int_equal(r2.error, -EBUSY);
}

static void reply_impossible_errno_or_overrun_is_eproto(void **state)
{
	(void)state;
	const int32_t bad[] = {1, EEXIST, -4096, INT32_MIN, INT32_MAX};
	struct dgram d;
	struct td_nl_reply r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.len = 0;
		error_msg(&d, bad[i], NLM_F_CAPPED, NULL, 0, NULL, 0);
		assert_int_equal(parse(d.b, d.len, &r), -EPROTO);
	}
	d.len = 0;
	error_msg(&d, -4095, NLM_F_CAPPED, NULL, 0, NULL, 0);
	assert_int_equal(parse(d.b, d.len, &r), 1);
	assert_int_equal(r.error, -4095);
	d.len = 0;
	hdr(&d, NLMSG_HDRLEN, NLMSG_OVERRUN, 0, SEQ, PID);
	assert_int_equal(parse(d.b, d.len, &r), -EPROTO);
}

/* ---- the exchange, over a socketpair standing in for the kernel ---------------- */

static int pair[2] = {-1, -1};

static int pair_setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair);
}

static int pair_teardown(void **state)
{
	(void)state;
	close(pair[0]);
	close(pair[1]);
	return 0;
}

static size_t request(uint8_t *buf, size_t cap)
{
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, cap, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct ifinfomsg ifm = {.ifi_index = 3};
	td_nl_msg_put_family(&m, &ifm, sizeof(ifm));
	td_nl_msg_put_u32(&m, IFLA_MTU, 1500);
	assert_int_equal(td_nl_msg_finish(&m, SEQ, 0), 0);
	return m.len;
}

static void talk_skips_a_stale_answer_and_returns_the_kernels_errno_and_text(void **state)
{
	(void)state;
	struct dgram stale = {0}, d = {0};
	struct nlmsgerr e = {.error = 0};
	hdr(&stale, NLMSG_HDRLEN + sizeof(e), NLMSG_ERROR, NLM_F_CAPPED, SEQ - 1, PID);
	put(&stale, &e, sizeof(e));
	static const char text[] = "mtu greater than device maximum";
	uint8_t tl[64];
	size_t n = tlv(tl, NLMSGERR_ATTR_MSG, text, sizeof(text));
	error_msg(&d, -EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0, tl, n);
	assert_int_equal(send(pair[1], stale.b, stale.len, 0), (ssize_t)stale.len);
	assert_int_equal(send(pair[1], d.b, d.len, 0), (ssize_t)d.len);

	uint8_t req[64], got[64];
	size_t len = request(req, sizeof(req));
	struct td_nl_reply r;
	assert_int_equal(td_nl_talk(pair[0], PID, req, len, SEQ, 1000, &r), -EINVAL);
	assert_string_equal(r.msg, text);
	assert_int_equal(r.skipped, 1);
	/* the kernel side got exactly the request */
	assert_int_equal(recv(pair[1], got, sizeof(got), MSG_DONTWAIT), (ssize_t)len);
	assert_memory_equal(got, req, len);
}

static void talk_times_out_when_nothing_answers(void **state)
{
	(void)state;
	uint8_t req[64];
	size_t len = request(req, sizeof(req));
	struct td_nl_reply r;
	uint64_t t0 = td_os_now_ns();
	assert_int_equal(td_nl_talk(pair[0], PID, req, len, SEQ, 60, &r), -ETIMEDOUT);
	uint64_t dt = td_os_now_ns() - t0;
	assert_true(dt >= 60000000u);
	assert_true(dt < 2000000000u);
}

static volatile sig_atomic_t alarms;
static uint8_t late_ack[64];
static size_t late_ack_len;

static void on_alarm(int sig)
{
	(void)sig;
	if (++alarms == 5) /* send(2) is async-signal-safe: the answer comes late */
		(void)send(pair[1], late_ack, late_ack_len, MSG_DONTWAIT);
}

static void talk_keeps_waiting_through_signals(void **state)
{
	(void)state;
	struct dgram d = {0};
	error_msg(&d, 0, NLM_F_CAPPED, NULL, 0, NULL, 0);
	memcpy(late_ack, d.b, d.len);
	late_ack_len = d.len;
	alarms = 0;
	/* no SA_RESTART: poll(2) returns EINTR at every tick */
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	struct itimerval it = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	uint8_t req[64];
	size_t len = request(req, sizeof(req));
	struct td_nl_reply r;
	int rc = td_nl_talk(pair[0], PID, req, len, SEQ, 2000, &r);
	/* and a signal storm does not stretch the deadline */
	uint64_t t0 = td_os_now_ns();
	int rc2 = td_nl_talk(pair[0], PID, req, len, SEQ, 50, &r);
	uint64_t dt = td_os_now_ns() - t0;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(rc, 0);
	assert_true(alarms >= 5);
	assert_int_equal(rc2, -ETIMEDOUT);
	assert_true(dt < 1000000000u);
}

static void talk_refuses_cut_empty_and_malformed_datagrams(void **state)
{
	(void)state;
	uint8_t req[64];
	size_t len = request(req, sizeof(req));
	struct td_nl_reply r;
	/* larger than the receive buffer: MSG_TRUNC tells, rather than a parse of half */
	size_t big = 9000;
	uint8_t *b = calloc(1, big);
	assert_non_null(b);
	assert_int_equal(send(pair[1], b, big, 0), (ssize_t)big);
	assert_int_equal(td_nl_talk(pair[0], PID, req, len, SEQ, 1000, &r), -EMSGSIZE);
	free(b);
	assert_int_equal(send(pair[1], "", 0, 0), 0);
	assert_int_equal(td_nl_talk(pair[0], PID, req, len, SEQ, 1000, &r), -EBADMSG);
	struct dgram d = {0};
	hdr(&d, 100, NLMSG_ERROR, 0, SEQ, PID);
	assert_int_equal(send(pair[1], d.b, d.len, 0), (ssize_t)d.len);
	assert_int_equal(td_nl_talk(pair[0], PID, req, len, SEQ, 1000, &r), -EBADMSG);
}

/* ---- the real kernel, read-only requests (no privilege needed) ------------------ */

static void kernel_answers_getlink_with_data_then_ack_and_unknown_index_with_enodev(void **state)
{
	(void)state;
	int fd;
	uint32_t portid = 0;
	int err = td_nl_open(&fd, &portid);
	if (err == -EAFNOSUPPORT || err == -EPERM)
		skip(); /* a sandbox without netlink */
	assert_int_equal(err, 0);
	assert_true(portid != 0); /* the kernel assigned it; getsockname read it back */
	uint8_t buf[64];
	struct td_nl_msg m;
	struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC, .ifi_index = 1}; /* lo: always index 1 */
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
	td_nl_msg_put_family(&m, &ifm, sizeof(ifm));
	assert_int_equal(td_nl_msg_finish(&m, 7, 0), 0);
	struct td_nl_reply r;
	assert_int_equal(td_nl_talk(fd, portid, buf, m.len, 7, 5000, &r), 0);
	assert_int_equal(r.skipped, 1); /* the RTM_NEWLINK describing lo, then the ACK */

	ifm.ifi_index = INT32_MAX;
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
	td_nl_msg_put_family(&m, &ifm, sizeof(ifm));
	assert_int_equal(td_nl_msg_finish(&m, 8, 0), 0);
	assert_int_equal(td_nl_talk(fd, portid, buf, m.len, 8, 5000, &r), -ENODEV);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nl_msg_lays_out_header_family_and_padded_attributes),
		cmocka_unit_test(nl_msg_that_does_not_fit_fails_emsgsize_and_writes_nothing_past_cap),
		cmocka_unit_test(nl_msg_buffer_smaller_than_a_header_fails_untouched),
		cmocka_unit_test(nl_msg_attribute_longer_than_nla_len_can_say_is_refused),
		cmocka_unit_test(nl_msg_family_header_after_an_attribute_is_refused),
		cmocka_unit_test(reply_ack_is_zero_and_errno_is_negative),
		cmocka_unit_test(reply_extended_ack_text_is_read_capped_or_after_the_echoed_request),
		cmocka_unit_test(reply_extended_ack_text_is_bounded_and_printable),
		cmocka_unit_test(reply_malformed_extended_ack_keeps_the_error_and_drops_the_text),
		cmocka_unit_test(reply_other_seq_or_pid_and_noop_and_data_are_skipped),
		cmocka_unit_test(reply_done_ends_the_exchange_with_its_errno),
		cmocka_unit_test(reply_lengths_that_disagree_with_the_bytes_are_ebadmsg),
		cmocka_unit_test(reply_last_message_without_its_padding_is_read),
		cmocka_unit_test(reply_impossible_errno_or_overrun_is_eproto),
		cmocka_unit_test_setup_teardown(
			talk_skips_a_stale_answer_and_returns_the_kernels_errno_and_text, pair_setup,
			pair_teardown),
		cmocka_unit_test_setup_teardown(talk_times_out_when_nothing_answers, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(talk_keeps_waiting_through_signals, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(talk_refuses_cut_empty_and_malformed_datagrams,
						pair_setup, pair_teardown),
		cmocka_unit_test(kernel_answers_getlink_with_data_then_ack_and_unknown_index_with_enodev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
