/* rtnetlink through libmnl: the kernel side of the TUN link (MTU, addresses, up, routes). No `ip` subprocess. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tundra/stack_os.h"

#define NL_BUF 8192 /* MNL_SOCKET_BUFFER_SIZE is a sysconf() call: no VLA */

/* Send one request and wait for its ACK; the kernel's error comes back as
 * -errno through mnl_cb_run. */
static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[NL_BUF];
	uint32_t seq = (uint32_t)time(NULL) ^ (uint32_t)rand();
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	unsigned portid = mnl_socket_get_portid(nl);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (r <= 0)
			return r < 0 ? -errno : 0;
	}
}

static int open_nl(struct mnl_socket **out)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;
		mnl_socket_close(nl);
		return e;
	}
	*out = nl;
	return 0;
}

static int link_set(struct mnl_socket *nl, int ifindex, uint32_t mtu, uint32_t txqlen)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (txqlen)
		mnl_attr_put_u32(nlh, IFLA_TXQLEN, txqlen);
	return talk(nl, nlh);
}

static int addr_add(struct mnl_socket *nl, int ifindex, int family, const void *addr,
		    size_t alen, uint8_t prefix)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (family == AF_INET6) {
		/* No duplicate address detection: a TUN link has no neighbours,
		 * and DAD would delay the address by a second. */
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		ifa->ifa_flags = IFA_F_NODAD;
	}
	return talk(nl, nlh);
}

int td_rtnl_configure(const char *ifname, const struct td_link_conf *c)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	struct mnl_socket *nl = NULL;
	int err = open_nl(&nl);
	if (err)
		return err;
	/* MTU and up first: IPv6 addresses need the link up to be usable. */
	err = link_set(nl, ifindex, c->mtu, c->txqlen);
	if (!err && c->has4) {
		uint32_t a = htonl(c->addr4);
		err = addr_add(nl, ifindex, AF_INET, &a, 4, c->prefix4);
	}
	if (!err && c->has6)
		err = addr_add(nl, ifindex, AF_INET6, c->addr6, 16, c->prefix6);
	mnl_socket_close(nl);
	return err;
}

int td_rtnl_link_up(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	struct mnl_socket *nl = NULL;
	int err = open_nl(&nl);
	if (err)
		return err;
	err = link_set(nl, ifindex, 0, 0);
	mnl_socket_close(nl);
	return err;
}

int td_rtnl_route_add(const char *ifname, uint8_t family, const uint8_t *dst, uint8_t prefix)
{
	int ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	struct mnl_socket *nl = NULL;
	int err = open_nl(&nl);
	if (err)
		return err;
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family == TD_AF_INET ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, family == TD_AF_INET ? 4 : 16, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	err = talk(nl, nlh);
	mnl_socket_close(nl);
	return err;
}
