/* Time a command as the shell would see it: fork, exec, run, exit, wait; median wall, CPU and peak RSS of REPEAT runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: spawn_measure REPEAT OUTFILE cmd...
 * prints "WALL_S CPU_S MAXRSS_KB": the median-low wall time of the runs, the
 * CPU time of that run, and the largest peak RSS of any run; the last run's
 * stdout and stderr go to OUTFILE.
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

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: spawn_measure REPEAT OUTFILE cmd...\n");
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
		double t0 = now_s();
		pid_t pid = fork();
		if (pid < 0) {
			perror("spawn_measure: fork");
			return 2;
		}
		if (pid == 0) {
			dup2(out, 1);
			dup2(out, 2);
			execvp(argv[3], argv + 3);
			fprintf(stderr, "spawn_measure: %s: %s\n", argv[3], strerror(errno));
			_exit(127);
		}
		int st;
		struct rusage ru;
		while (wait4(pid, &st, 0, &ru) < 0) {
			if (errno != EINTR) {
				perror("spawn_measure: wait4");
				return 2;
			}
		}
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
