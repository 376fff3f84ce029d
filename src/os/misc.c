/* Small os helpers: the monotonic clock, the CPUs a process may use (td_os_random lives in icmp_sock.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tundra/os_misc.h"
#include "tundra/pinger.h"

uint64_t td_os_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Read a small file whole into buf (NUL-terminated). 0 or -1. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* The CPU bandwidth one cgroup directory allows, in thousandths of a CPU,
 * or 0 for no limit: cgroup v2 "cpu.max" ("max 100000" or "150000 100000"),
 * else v1 "cpu.cfs_quota_us" (-1 = none) over "cpu.cfs_period_us". */
static long dir_limit(const char *dir)
{
	char path[PATH_MAX + 32], buf[128];
	long quota, period;
	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	if (!read_small(path, buf, sizeof(buf))) {
		if (!strncmp(buf, "max", 3))
			return 0;
		char *end;
		quota = strtol(buf, &end, 10);
		period = strtol(end, NULL, 10);
	} else {
		snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
		if (read_small(path, buf, sizeof(buf)))
			return 0;
		quota = strtol(buf, NULL, 10);
		snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
		if (read_small(path, buf, sizeof(buf)))
			return 0;
		period = strtol(buf, NULL, 10);
	}
	if (quota <= 0 || period <= 0)
		return 0;
	return quota * 1000 / period > 0 ? quota * 1000 / period : 1;
}

/* The tighter of two limits, 0 meaning none. */
static long tighter(long a, long b)
{
	return !a || (b && b < a) ? b : a;
}

/* The tightest limit of dir and its ancestors up to root (a parent's quota
 * binds its children too), 0 for none. */
static long tree_limit(const char *root, const char *rel)
{
	char dir[PATH_MAX];
	long best = 0;
	int w = snprintf(dir, sizeof(dir), "%s%s", root, rel);
	if (w < 0 || (size_t)w >= sizeof(dir))
		return 0;
	size_t rootlen = strlen(root);
	for (;;) {
		best = tighter(best, dir_limit(dir));
		char *slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < rootlen)
			break;
		*slash = 0;
	}
	return best;
}

long td_os_cgroup_cpu_limit(const char *proc_cgroup, const char *cgroot)
{
	char text[4096], path[PATH_MAX / 2];
	if (read_small(proc_cgroup, text, sizeof(text)))
		return 0;
	long best = 0;
	char *lsave = NULL;
	for (char *line = strtok_r(text, "\n", &lsave); line;
	     line = strtok_r(NULL, "\n", &lsave)) {
		/* "hierarchy-ID:controllers:path": v2 is "0::/path"; v1 lists "cpu" */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		const char *ctrl = c1 + 1, *rel = c2 + 1;
		long l = 0;
		if (!*ctrl) { /* v2: the unified tree, mounted alone or under unified/ */
			snprintf(path, sizeof(path), "%s", cgroot);
			l = tree_limit(path, rel);
			snprintf(path, sizeof(path), "%s/unified", cgroot);
			l = tighter(l, tree_limit(path, rel));
		} else {
			bool cpu = false;
			char list[256];
			snprintf(list, sizeof(list), "%s", ctrl);
			for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				cpu = cpu || !strcmp(t, "cpu");
			if (!cpu)
				continue;
			/* v1 mounts the cpu controller as cpu/ or cpu,cpuacct/ */
			snprintf(path, sizeof(path), "%s/%s", cgroot, ctrl);
			l = tree_limit(path, rel);
			if (!l) {
				snprintf(path, sizeof(path), "%s/cpu", cgroot);
				l = tree_limit(path, rel);
			}
		}
		best = tighter(best, l);
	}
	return best;
}

int td_os_usable_cpus(void)
{
	cpu_set_t cs;
	if (sched_getaffinity(0, sizeof(cs), &cs))
		return 1;
	int cpus = CPU_COUNT(&cs);
	/* A CPU quota (a container's --cpus, a Kubernetes limit) caps what the
	 * threads may use together: rounded to the nearest CPU, since a second
	 * loop costs ~1.25x one loop's CPU and pays from about 1.5 CPUs. */
	long milli = td_os_cgroup_cpu_limit("/proc/self/cgroup", "/sys/fs/cgroup");
	if (milli) {
		int q = (int)((milli + 500) / 1000);
		if (q < cpus)
			cpus = q;
	}
	return cpus < 1 ? 1 : cpus;
}

void td_os_hold_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free number: fd itself, the ones below are open */
		int n = open("/dev/null", fd ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd)
			close(n);
	}
}

int td_os_write_errno(int fd)
{
	/* A pipe whose reader is gone polls POLLERR (a socket POLLHUP), while
	 * a zero-length write to it succeeds: ask poll first. */
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)))
		return EPIPE;
	/* No byte is written: the file's write method runs with a count of 0
	 * (EBADF for a descriptor not open for writing, ENOSPC for /dev/full). */
	return write(fd, "", 0) < 0 ? errno : 0;
}
