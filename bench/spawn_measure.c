/* Time a command as the shell would see it: fork, exec, run, exit, wait; median wall, CPU and peak RSS of REPEAT runs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: spawn_measure [-t] REPEAT OUTFILE cmd...
 * prints "WALL_S CPU_S MAXRSS_KB": the median-low wall time of the runs, the
 * CPU time of that run, and the largest peak RSS of any run; the last run's
 * stdout and stderr go to OUTFILE.
 * -t: the command's stdout and stderr are a pseudo-terminal, as when a person
 * runs it; this program reads the other end as a terminal emulator would and
 * writes what it read to OUTFILE. The time is still fork to exit.
 *
 * The benchmarks' earlier driver (bench/ping_measure.py) forked Python, which
 * exec'd GNU time, which forked and exec'd the tool: about 1.7 ms of the
 * driver's own work in every figure, the same for every tool, which pulls every
 * ratio toward 1 when a run lasts a few milliseconds. Here the driver is one
 * small process: fork (its child holds only this program's few anonymous
 * pages, so the child's peak RSS, which the kernel carries across exec, is the
 * tool's), exec, wait4. What is timed is what any tool costs its caller:
 * process creation, program loading, the work and the exit.
 */

struct run {
	double wall, cpu;
};

static int cmp_run(const void *a, const void *b)
{
	double x = ((const struct run *)a)->wall, y = ((const struct run *)b)->wall;
	return (x > y) - (x < y);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A pseudo-terminal pair: *master (ours) and the slave's path in name. */
static int open_pty(int *master, char *name, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (grantpt(m) || unlockpt(m) || ptsname_r(m, name, len)) {
		close(m);
		return -1;
	}
	*master = m;
	return 0;
}

static int wait_child(pid_t pid, int *st, struct rusage *ru)
{
	while (wait4(pid, st, 0, ru) < 0) {
		if (errno != EINTR) {
			perror("spawn_measure: wait4");
			return -1;
		}
	}
	return 0;
}

/* Read the terminal's output into out until the child has exited and the
 * slave side is closed (EIO), as a terminal emulator keeps reading. */
static void drain_pty(int master, int out, pid_t pid, int *st, struct rusage *ru)
{
	char buf[65536];
	bool exited = false;
	for (;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		int n = poll(&p, 1, exited ? 0 : 100);
		if (n > 0) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0) {
				if (write(out, buf, (size_t)r) != r)
					perror("spawn_measure: write");
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (exited)
				return; /* EIO: the slave is closed */
		} else if (exited) {
			return;
		}
		if (!exited && wait4(pid, st, WNOHANG, ru) == pid)
			exited = true;
	}
}

int main(int argc, char **argv)
{
	bool tty = argc > 1 && !strcmp(argv[1], "-t");
	if (tty) {
		argv++;
		argc--;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: spawn_measure [-t] REPEAT OUTFILE cmd...\n");
		return 2;
	}
	char *end;
	long repeat = strtol(argv[1], &end, 10);
	if (*end || repeat < 1 || repeat > 1000) {
		fprintf(stderr, "spawn_measure: REPEAT '%s': 1..1000\n", argv[1]);
		return 2;
	}
	struct run *runs = calloc((size_t)repeat, sizeof(*runs));
	long maxrss = 0;
	if (!runs)
		return 2;
	for (long i = 0; i < repeat; i++) {
		int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0) {
			fprintf(stderr, "spawn_measure: %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		int master = -1;
		char slave[128];
		if (tty && open_pty(&master, slave, sizeof(slave))) {
			perror("spawn_measure: pseudo-terminal");
			return 2;
		}
		double t0 = now_s();
		pid_t pid = fork();
		if (pid < 0) {
			perror("spawn_measure: fork");
			return 2;
		}
		if (pid == 0) {
			int o = out;
			if (tty) { /* a session of its own, the terminal its controlling one */
				setsid();
				o = open(slave, O_RDWR);
				if (o < 0)
					_exit(127);
			}
			dup2(o, 1);
			dup2(o, 2);
			execvp(argv[3], argv + 3);
			fprintf(stderr, "spawn_measure: %s: %s\n", argv[3], strerror(errno));
			_exit(127);
		}
		int st;
		struct rusage ru;
		if (tty)
			drain_pty(master, out, pid, &st, &ru);
		else if (wait_child(pid, &st, &ru))
			return 2;
		if (master >= 0)
			close(master);
		runs[i].wall = now_s() - t0;
		close(out);
		runs[i].cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
			fprintf(stderr, "spawn_measure: could not run %s\n", argv[3]);
			return 2;
		}
	}
	qsort(runs, (size_t)repeat, sizeof(*runs), cmp_run);
	struct run m = runs[(repeat - 1) / 2];
	printf("%.5f %.5f %ld\n", m.wall, m.cpu, maxrss);
	free(runs);
	return 0;
}
