/* Name lookup with glibc's answer when no name server can be reached.
 *
 * glibc's resolver skips a name server it cannot send to (connect fails: no
 * route, as in a container without a network) and, with none left, answers
 * EAI_AGAIN at once. musl, the C library of the static tundra binary, sends
 * anyway and waits out its timeout (5 s) for replies that cannot come. So,
 * under musl: a name that the hosts file gives in the wanted family is looked
 * up as usual (musl answers from the file, no query); any other name, with no
 * reachable name server, gets glibc's answer at once: EAI_ADDRFAMILY when the
 * file has it in the other family only, else EAI_AGAIN. Under glibc this is
 * getaddrinfo itself. A server with a route that does not answer (nothing
 * listening) still costs musl's timeout, where glibc's connected socket sees
 * the refusal. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tundra/os_misc.h"

#ifndef __GLIBC__
#define RESOLV_CONF "/etc/resolv.conf"
#define HOSTS "/etc/hosts"
#define MAXNS 3 /* the resolver's limit (musl and glibc) */

/* 4, 6 or 0 for an address literal (an IPv6 zone allowed), with its length. */
static int literal_family(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 32];
	unsigned char a[16];
	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *pct = strchr(buf, '%');
	if (inet_pton(AF_INET, buf, a) == 1)
		return 4;
	if (pct)
		*pct = 0;
	return inet_pton(AF_INET6, buf, a) == 1 ? 6 : 0;
}

/* Whether a UDP socket can be connected to port 53 of the address: the
 * kernel has a route to it (nothing is sent). */
static bool can_reach(const char *addr)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(53)};
	const struct sockaddr *sa;
	socklen_t sl;
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		sa = (const struct sockaddr *)&s4;
		sl = sizeof(s4);
	} else {
		char buf[INET6_ADDRSTRLEN + 32];
		snprintf(buf, sizeof(buf), "%s", addr);
		char *pct = strchr(buf, '%');
		if (pct) {
			*pct = 0;
			s6.sin6_scope_id = if_nametoindex(pct + 1);
			if (!s6.sin6_scope_id)
				s6.sin6_scope_id = (uint32_t)strtoul(pct + 1, NULL, 10);
		}
		if (inet_pton(AF_INET6, buf, &s6.sin6_addr) != 1)
			return false;
		sa = (const struct sockaddr *)&s6;
		sl = sizeof(s6);
	}
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: let the resolver try */
	bool ok = connect(fd, sa, sl) == 0 || (errno != ENETUNREACH && errno != EHOSTUNREACH &&
					       errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT);
	close(fd);
	return ok;
}

/* Whether any name server of resolv.conf (at most MAXNS; none listed means
 * 127.0.0.1, as both libraries assume) has a route. */
static bool nameserver_reachable(void)
{
	FILE *f = fopen(RESOLV_CONF, "re");
	char line[512];
	int seen = 0;
	bool ok = false;
	while (f && !ok && seen < MAXNS && fgets(line, sizeof(line), f)) {
		char addr[INET6_ADDRSTRLEN + 32];
		if (sscanf(line, " nameserver %63s", addr) != 1 || !literal_family(addr, strlen(addr)))
			continue;
		seen++;
		ok = can_reach(addr);
	}
	if (f)
		fclose(f);
	return ok || (!seen && can_reach("127.0.0.1"));
}

/* Whether the hosts file names host: HOSTS_HIT with an address of the family
 * (AF_UNSPEC: any; then musl answers from the file and sends no query),
 * HOSTS_OTHER in the other family only, else HOSTS_NONE. */
enum { HOSTS_NONE, HOSTS_OTHER, HOSTS_HIT };
static int hosts_has(const char *host, int family)
{
	FILE *f = fopen(HOSTS, "re");
	char line[1024];
	int found = HOSTS_NONE;
	while (f && found != HOSTS_HIT && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = 0;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		size_t alen = strcspn(p, " \t");
		int fam = literal_family(p, alen);
		if (!fam || !p[alen])
			continue;
		bool wanted = family == AF_UNSPEC || (family == AF_INET) == (fam == 4);
		char *save = NULL;
		for (char *name = strtok_r(p + alen + 1, " \t", &save); name;
		     name = strtok_r(NULL, " \t", &save)) {
			if (!strcasecmp(name, host)) {
				found = wanted ? HOSTS_HIT : HOSTS_OTHER;
				break;
			}
		}
	}
	if (f)
		fclose(f);
	return found;
}
#endif

int td_os_getaddrinfo(const char *host, const struct addrinfo *hints, struct addrinfo **res)
{
#ifndef __GLIBC__
	int family = hints ? hints->ai_family : AF_UNSPEC;
	if (!literal_family(host, strlen(host))) {
		int h = hosts_has(host, family);
		if (h != HOSTS_HIT && !nameserver_reachable())
			return h == HOSTS_OTHER ? EAI_ADDRFAMILY : EAI_AGAIN;
	}
#endif
	return getaddrinfo(host, NULL, hints, res);
}
