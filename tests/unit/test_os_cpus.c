/* The CPU quota reader behind --threads auto: cgroup v1 and v2 layouts, ancestors, no limit. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tundra/pinger.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], dir[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	/* mkdir -p of the file's directory */
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *s = strchr(dir + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		mkdir(dir, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static long limit(const char *proc_cgroup_text)
{
	put("self_cgroup", proc_cgroup_text);
	char pc[128], cg[128];
	snprintf(pc, sizeof(pc), "%s/self_cgroup", root);
	snprintf(cg, sizeof(cg), "%s/fs", root);
	return td_os_cgroup_cpu_limit(pc, cg);
}

static int setup(void **st)
{
	(void)st;
	snprintf(root, sizeof(root), "/tmp/td_cpus_XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void v2_cpu_max_in_thousandths(void **st)
{
	(void)st;
	put("fs/kubepods/pod1/cpu.max", "150000 100000\n");
	assert_int_equal(limit("0::/kubepods/pod1\n"), 1500);
	put("fs/kubepods/pod1/cpu.max", "max 100000\n");
	assert_int_equal(limit("0::/kubepods/pod1\n"), 0);
}

static void v2_an_ancestor_quota_binds_its_children(void **st)
{
	(void)st;
	put("fs/a/cpu.max", "50000 100000\n");
	put("fs/a/b/cpu.max", "max 100000\n");
	assert_int_equal(limit("0::/a/b\n"), 500);
	put("fs/a/b/cpu.max", "20000 100000\n");
	assert_int_equal(limit("0::/a/b\n"), 200);
}

static void v2_under_a_hybrid_unified_mount(void **st)
{
	(void)st;
	put("fs/unified/svc/cpu.max", "250000 100000\n");
	assert_int_equal(limit("0::/svc\n"), 2500);
}

static void v1_cfs_quota_of_the_cpu_hierarchy(void **st)
{
	(void)st;
	put("fs/cpu,cpuacct/docker/c1/cpu.cfs_quota_us", "100000\n");
	put("fs/cpu,cpuacct/docker/c1/cpu.cfs_period_us", "100000\n");
	assert_int_equal(limit("12:memory:/docker/c1\n4:cpu,cpuacct:/docker/c1\n0::/\n"), 1000);
	/* -1: no quota */
	put("fs/cpu,cpuacct/docker/c1/cpu.cfs_quota_us", "-1\n");
	assert_int_equal(limit("4:cpu,cpuacct:/docker/c1\n"), 0);
	/* the cpu controller mounted alone */
	put("fs/cpu/job/cpu.cfs_quota_us", "30000\n");
	put("fs/cpu/job/cpu.cfs_period_us", "100000\n");
	assert_int_equal(limit("3:cpu:/job\n"), 300);
	/* a hierarchy without the cpu controller says nothing */
	put("fs/cpuacct/x/cpu.cfs_quota_us", "1000\n");
	put("fs/cpuacct/x/cpu.cfs_period_us", "100000\n");
	assert_int_equal(limit("5:cpuacct:/x\n"), 0);
}

static void no_files_no_limit(void **st)
{
	(void)st;
	assert_int_equal(limit("0::/nowhere\n"), 0);
	assert_int_equal(limit("garbage without colons\n"), 0);
	assert_int_equal(td_os_cgroup_cpu_limit("/nonexistent/cgroup", root), 0);
	assert_true(td_os_usable_cpus() >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v2_cpu_max_in_thousandths),
		cmocka_unit_test(v2_an_ancestor_quota_binds_its_children),
		cmocka_unit_test(v2_under_a_hybrid_unified_mount),
		cmocka_unit_test(v1_cfs_quota_of_the_cpu_hierarchy),
		cmocka_unit_test(no_files_no_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
