/* The process_* metrics of tundra exporter, read from /proc/self (Linux). */
#include "cli/exporter_process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Boot time in unix seconds, for the start-time field of /proc/self/stat (in
 * clock ticks since boot). */
static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double bt = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "btime ", 6)) {
			bt = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return bt;
}

int td_exp_process_read(struct td_expm_process *p)
{
	char buf[1024];
	FILE *f;
	size_t n;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long utime = 0, stime = 0, vsize = 0;
	unsigned long long start = 0;
	long rss = 0;
	char *s;
	struct rlimit rl;
	DIR *d;

	memset(p, 0, sizeof(*p));
	f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may contain spaces and parentheses: fields restart
	 * after the last ')' */
	s = strrchr(buf, ')');
	if (!s || tick <= 0 || page <= 0)
		return -1;
	/* fields after ")": 3 state, ... 14 utime, 15 stime, 22 starttime,
	 * 23 vsize, 24 rss (proc(5)); s + 2 is field 3 */
	{
		unsigned long long fld[25] = {0};
		char *c = s + 2, *end;
		for (int i = 3; i <= 24 && *c; i++) {
			while (*c == ' ')
				c++;
			if (i == 3) {
				c++; /* the state letter */
				continue;
			}
			fld[i] = strtoull(c, &end, 10);
			if (end == c)
				return -1;
			c = end;
		}
		utime = (unsigned long)fld[14];
		stime = (unsigned long)fld[15];
		start = fld[22];
		vsize = (unsigned long)fld[23];
		rss = (long)fld[24];
	}
	p->cpu_seconds = (double)(utime + stime) / (double)tick;
	p->virtual_bytes = (double)vsize;
	p->resident_bytes = (double)rss * (double)page;
	p->start_time = boot_time() + (double)start / (double)tick;
	if (!getrlimit(RLIMIT_AS, &rl))
		p->virtual_max_bytes = rl.rlim_cur == RLIM_INFINITY ? 18446744073709551615.0
								    : (double)rl.rlim_cur;
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		p->max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur;
	d = opendir("/proc/self/fd");
	if (d) {
		const struct dirent *e;
		unsigned long cnt = 0;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				cnt++;
		closedir(d);
		p->open_fds = (double)(cnt ? cnt - 1 : 0); /* minus the directory's own fd */
	}
	p->valid = true;
	return 0;
}
