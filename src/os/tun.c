/* TUN device: open /dev/net/tun as IFF_TUN|IFF_NO_PI (no link layer, raw IP packets). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tundra/stack_os.h"

int td_tun_open(struct td_tun *t, const char *name, bool persist, bool attach)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (name && *name)
		memcpy(ifr.ifr_name, name, strlen(name));
	if (attach) {
		/* TUNSETIFF creates the device when it does not exist; to attach
		 * only, refuse when it is missing. */
		char path[64 + IFNAMSIZ];
		if (!name || !*name) {
			close(fd);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s", name);
		if (access(path, F_OK) != 0) {
			close(fd);
			return -ENODEV;
		}
	}
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (persist && ioctl(fd, TUNSETPERSIST, 1) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	t->fd = fd;
	t->created = !attach;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = 0;
	return 0;
}

void td_tun_close(struct td_tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
