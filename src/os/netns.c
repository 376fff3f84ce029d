/* Network namespaces for the stack: a named one, a fresh one, or a rootless user+net pair. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tundra/stack_os.h"

int td_netns_enter(const char *name)
{
	char path[PATH_MAX];
	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int td_netns_new(void)
{
	return unshare(CLONE_NEWNET) < 0 ? -errno : 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	int r = write(fd, text, n) == (ssize_t)n ? 0 : -errno;
	close(fd);
	return r ? r : 0;
}

int td_netns_rootless(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	char map[64];
	/* user_namespaces(7): an unprivileged writer must deny setgroups
	 * before it may write gid_map. */
	int r = write_file("/proc/self/setgroups", "deny");
	if (r && r != -ENOENT)
		return r;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	r = write_file("/proc/self/uid_map", map);
	if (r)
		return r;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	return write_file("/proc/self/gid_map", map);
}
