/* rtnetlink: the kernel side of the TUN link (MTU, txqlen, up, addresses, routes). No `ip` subprocess, no libmnl. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "os/netlink.h"
#include "tundra/stack_os.h"

/* The largest request (RTM_NEWADDR for IPv6: header, ifaddrmsg and three
 * attributes) is 72 bytes; td_nl_msg fails rather than overflow anyway. */
#define REQ_BUF 256
/* The kernel answers in microseconds, but takes the rtnl lock first, which
 * a namespace being torn down can hold for seconds: wait that long, not
 * forever. */
#define RTNL_TIMEOUT_MS 10000

struct nl {
	int fd;
	uint32_t portid, seq;
};

static int nl_open(struct nl *nl)
{
	/* A time-based start tells this run's answers from a previous one's in
	 * an strace or a capture (iproute2 does the same). */
	nl->seq = (uint32_t)time(NULL);
	return td_nl_open(&nl->fd, &nl->portid);
}

/* Finish and send one request, wait for its ACK. On failure why names the
 * step, with the kernel's own words when it gave any (NETLINK_EXT_ACK). */
static int request(struct nl *nl, struct td_nl_msg *m, const char *what, char *why, size_t why_len)
{
	uint32_t seq = ++nl->seq;
	struct td_nl_reply r = {0};
	int err = td_nl_msg_finish(m, seq, 0);
	if (!err)
		err = td_nl_talk(nl->fd, nl->portid, m->buf, m->len, seq, RTNL_TIMEOUT_MS, &r);
	if (err && why && why_len)
		snprintf(why, why_len, "%s%s%s", what, r.msg[0] ? ": " : "", r.msg);
	return err;
}

static void why_clear(char *why, size_t why_len)
{
	if (why && why_len)
		why[0] = '\0';
}

static int link_set(struct nl *nl, int ifindex, uint32_t mtu, uint32_t txqlen, char *why,
		    size_t why_len)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_BUF];
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC,
				.ifi_index = ifindex,
				.ifi_change = IFF_UP,
				.ifi_flags = IFF_UP};
	td_nl_msg_put_family(&m, &ifm, sizeof(ifm));
	if (mtu)
		td_nl_msg_put_u32(&m, IFLA_MTU, mtu);
	if (txqlen)
		td_nl_msg_put_u32(&m, IFLA_TXQLEN, txqlen);
	return request(nl, &m, mtu || txqlen ? "setting the link's MTU, queue length and up"
					     : "setting the link up",
		       why, why_len);
}

static int addr_add(struct nl *nl, int ifindex, int family, const void *addr, size_t alen,
		    uint8_t prefix, char *why, size_t why_len)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_BUF];
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_NEWADDR,
		       NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg ifa = {.ifa_family = (uint8_t)family,
				.ifa_prefixlen = prefix,
				.ifa_scope = RT_SCOPE_UNIVERSE,
				.ifa_index = (uint32_t)ifindex};
	/* No duplicate address detection: a TUN link has no neighbours, and
	 * DAD would delay the address by a second. */
	if (family == AF_INET6)
		ifa.ifa_flags = IFA_F_NODAD;
	td_nl_msg_put_family(&m, &ifa, sizeof(ifa));
	td_nl_msg_put_attr(&m, IFA_LOCAL, addr, alen);
	td_nl_msg_put_attr(&m, IFA_ADDRESS, addr, alen);
	if (family == AF_INET6)
		td_nl_msg_put_u32(&m, IFA_FLAGS, IFA_F_NODAD);
	return request(nl, &m,
		       family == AF_INET6 ? "adding the IPv6 address" : "adding the IPv4 address",
		       why, why_len);
}

int td_rtnl_configure(const char *ifname, const struct td_link_conf *c, char *why, size_t why_len)
{
	why_clear(why, why_len);
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	struct nl nl;
	int err = nl_open(&nl);
	if (err)
		return err;
	/* MTU and up first: IPv6 addresses need the link up to be usable. */
	err = link_set(&nl, ifindex, c->mtu, c->txqlen, why, why_len);
	if (!err && c->has4) {
		uint32_t a = htonl(c->addr4);
		err = addr_add(&nl, ifindex, AF_INET, &a, 4, c->prefix4, why, why_len);
	}
	if (!err && c->has6)
		err = addr_add(&nl, ifindex, AF_INET6, c->addr6, 16, c->prefix6, why, why_len);
	close(nl.fd);
	return err;
}

int td_rtnl_link_up(const char *ifname, char *why, size_t why_len)
{
	why_clear(why, why_len);
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	struct nl nl;
	int err = nl_open(&nl);
	if (err)
		return err;
	err = link_set(&nl, ifindex, 0, 0, why, why_len);
	close(nl.fd);
	return err;
}

int td_rtnl_route_add(const char *ifname, uint8_t family, const uint8_t *dst, uint8_t prefix,
		      char *why, size_t why_len)
{
	why_clear(why, why_len);
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	struct nl nl;
	int err = nl_open(&nl);
	if (err)
		return err;
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_BUF];
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, sizeof(buf), RTM_NEWROUTE,
		       NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct rtmsg rtm = {.rtm_family = family == TD_AF_INET ? AF_INET : AF_INET6,
			    .rtm_dst_len = prefix,
			    .rtm_table = RT_TABLE_MAIN,
			    .rtm_protocol = RTPROT_STATIC,
			    .rtm_scope = RT_SCOPE_LINK,
			    .rtm_type = RTN_UNICAST};
	td_nl_msg_put_family(&m, &rtm, sizeof(rtm));
	if (prefix)
		td_nl_msg_put_attr(&m, RTA_DST, dst, family == TD_AF_INET ? 4 : 16);
	td_nl_msg_put_u32(&m, RTA_OIF, (uint32_t)ifindex);
	err = request(&nl, &m, "adding the route", why, why_len);
	close(nl.fd);
	return err;
}
