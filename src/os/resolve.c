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
 * the refusal.
 *
 * musl reads no /etc/nsswitch.conf: it knows the hosts file and DNS only. When
 * its lookup fails and the hosts line there names another source (mdns4,
 * myhostname, resolve, ldap, ...), the name is asked of getent(1), glibc's own
 * front end to those modules, run without a shell from its fixed path.
 *
 * Either way the caller gets one block of its own, freed with
 * td_os_freeaddrinfo (canonical names are not kept). */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <spawn.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "tundra/os_misc.h"

/* One block: the entries, each with its address; ai_next chains them. */
struct ai_ent {
	struct addrinfo ai;
	struct sockaddr_in6 sa; /* large enough for either family */
};

static struct addrinfo *ai_block(size_t n)
{
	struct ai_ent *e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		e[i].ai.ai_addr = (struct sockaddr *)&e[i].sa;
		e[i].ai.ai_next = i + 1 < n ? &e[i + 1].ai : NULL;
	}
	return &e[0].ai;
}

/* A copy of the C library's list in one block of ours (its own freed). */
static int ai_copy(struct addrinfo *lib, struct addrinfo **res)
{
	size_t n = 0;
	for (const struct addrinfo *a = lib; a; a = a->ai_next)
		n += a->ai_addrlen <= sizeof(struct sockaddr_in6);
	struct addrinfo *out = ai_block(n), *o = out;
	for (const struct addrinfo *a = lib; a && out; a = a->ai_next) {
		if (a->ai_addrlen > sizeof(struct sockaddr_in6))
			continue;
		o->ai_flags = a->ai_flags;
		o->ai_family = a->ai_family;
		o->ai_socktype = a->ai_socktype;
		o->ai_protocol = a->ai_protocol;
		o->ai_addrlen = a->ai_addrlen;
		memcpy(o->ai_addr, a->ai_addr, a->ai_addrlen);
		o = o->ai_next;
	}
	freeaddrinfo(lib);
	if (!out)
		return EAI_MEMORY;
	if (!n) {
		free(out);
		return EAI_NONAME;
	}
	*res = out;
	return 0;
}

void td_os_freeaddrinfo(struct addrinfo *res)
{
	free(res); /* the block starts with the first entry */
}

#ifndef __GLIBC__
#define RESOLV_CONF "/etc/resolv.conf"
#define NSSWITCH "/etc/nsswitch.conf"
#define GETENT_MAX 64 /* addresses taken from getent */
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
	struct in_addr ia;
	if (inet_aton(buf, &ia)) /* as getaddrinfo takes them: 127.1, 0x7f.1 too */
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

/* Whether nsswitch.conf's hosts line names a source besides files and dns. */
static bool nss_other_sources(void)
{
	FILE *f = fopen(NSSWITCH, "re");
	char line[1024];
	bool other = false;
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = 0;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, "hosts:", 6) != 0)
			continue;
		char *save = NULL;
		for (char *w = strtok_r(p + 6, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			if (*w == '[') { /* an action such as [NOTFOUND=return], maybe with spaces */
				while (w && !strchr(w, ']'))
					w = strtok_r(NULL, " \t", &save);
				continue;
			}
			if (strcmp(w, "files") != 0 && strcmp(w, "dns") != 0)
				other = true;
		}
		break;
	}
	if (f)
		fclose(f);
	return other;
}

/* host's addresses as getent(1) gives them (its "ahosts" databases: one line
 * per address and socket type), at most GETENT_MAX, each once; into *res as
 * one block of ours. 0, or EAI_NONAME when getent has none or cannot run. */
static int getent_lookup(const char *host, const struct addrinfo *hints, struct addrinfo **res)
{
	static const char *const paths[] = {"/usr/bin/getent", "/bin/getent"};
	const char *path = NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !path; i++)
		if (access(paths[i], X_OK) == 0)
			path = paths[i];
	int family = hints ? hints->ai_family : AF_UNSPEC;
	const char *db = family == AF_INET ? "ahostsv4" : family == AF_INET6 ? "ahostsv6" : "ahosts";
	int pfd[2];
	if (!path || *host == '-' || pipe2(pfd, O_CLOEXEC))
		return EAI_NONAME;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	char *argv[] = {(char *)"getent", (char *)db, (char *)host, NULL};
	extern char **environ;
	pid_t pid;
	int err = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		return EAI_NONAME;
	}

	struct sockaddr_in6 got[GETENT_MAX];
	socklen_t len[GETENT_MAX];
	size_t n = 0;
	FILE *f = fdopen(pfd[0], "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char addr[INET6_ADDRSTRLEN + 32];
		struct addrinfo h = {.ai_flags = AI_NUMERICHOST, .ai_family = family}, *one = NULL;
		if (n == GETENT_MAX || sscanf(line, "%77s", addr) != 1 ||
		    getaddrinfo(addr, NULL, &h, &one) || !one)
			continue;
		/* ahostsv6 maps IPv4-only names (::ffff:a.b.c.d): not an IPv6 target */
		bool dup = one->ai_addrlen > sizeof(got[0]) ||
			   (one->ai_family == AF_INET6 &&
			    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)one->ai_addr)->sin6_addr));
		for (size_t i = 0; i < n && !dup; i++)
			dup = len[i] == one->ai_addrlen && !memcmp(&got[i], one->ai_addr, len[i]);
		if (!dup) {
			memcpy(&got[n], one->ai_addr, one->ai_addrlen);
			len[n++] = one->ai_addrlen;
		}
		freeaddrinfo(one);
	}
	if (f)
		fclose(f);
	else
		close(pfd[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
	if (!n)
		return EAI_NONAME;
	struct addrinfo *out = ai_block(n), *o = out;
	if (!out)
		return EAI_MEMORY;
	for (size_t i = 0; i < n; i++, o = o->ai_next) {
		o->ai_family = ((struct sockaddr *)&got[i])->sa_family;
		o->ai_socktype = hints ? hints->ai_socktype : 0;
		o->ai_protocol = hints ? hints->ai_protocol : 0;
		o->ai_addrlen = len[i];
		memcpy(o->ai_addr, &got[i], len[i]);
	}
	*res = out;
	return 0;
}
#endif

int td_os_getaddrinfo(const char *host, const struct addrinfo *hints, struct addrinfo **res)
{
#ifndef __GLIBC__
	int family = hints ? hints->ai_family : AF_UNSPEC;
	bool name = !literal_family(host, strlen(host));
	int rc = -1;
	if (name) {
		int h = hosts_has(host, family);
		if (h != HOSTS_HIT && !nameserver_reachable())
			rc = h == HOSTS_OTHER ? EAI_ADDRFAMILY : EAI_AGAIN;
	}
	struct addrinfo *lib = NULL;
	if (rc == -1) {
		rc = getaddrinfo(host, NULL, hints, &lib);
		if (!rc)
			return ai_copy(lib, res);
	}
	if ((rc == EAI_NONAME || rc == EAI_AGAIN || rc == EAI_FAIL || rc == EAI_NODATA ||
	     rc == EAI_ADDRFAMILY) && name && nss_other_sources() &&
	    !getent_lookup(host, hints, res))
		return 0;
	return rc;
#else
	struct addrinfo *lib = NULL;
	int rc = getaddrinfo(host, NULL, hints, &lib);
	return rc ? rc : ai_copy(lib, res);
#endif
}
