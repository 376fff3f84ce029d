/* Small os helpers: the monotonic clock, CPUs free right now (td_os_random lives in icmp_sock.c). */
#include <fcntl.h>
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

int td_os_free_cpus(void)
{
	cpu_set_t cs;
	if (sched_getaffinity(0, sizeof(cs), &cs))
		return 1;
	int cpus = CPU_COUNT(&cs);
	/* /proc/loadavg's fourth field is "runnable/total" at this instant,
	 * the caller included. */
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cpus;
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return cpus;
	buf[n] = 0;
	char *p = buf;
	for (int field = 0; field < 3 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return cpus;
	long running = strtol(p, NULL, 10);
	int free_cpus = cpus - (running > 1 ? (int)(running - 1) : 0);
	return free_cpus < 1 ? 1 : free_cpus;
}
