/* TUN device: open /dev/net/tun as IFF_TUN|IFF_NO_PI (raw IP packets), optionally with virtio-net headers and offloads. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tundra/stack_os.h"

/* Older uapi headers lack the UDP segmentation offloads (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

static int open_dev(struct td_tun *t, const char *name, bool persist, bool attach, bool vnet)
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
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
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
	t->vnet_hdr_len = vnet ? 10 : 0;
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = 0;
	return 0;
}

int td_tun_open(struct td_tun *t, const char *name, bool persist, bool attach)
{
	return open_dev(t, name, persist, attach, false);
}

/* Ask for the richest offload set first and step down: kernels before 6.2
 * refuse the USO bits with EINVAL, and a kernel refusing even TSO still
 * leaves checksum offload worth having. */
static int negotiate(struct td_tun *t, char *why, size_t why_len)
{
	static const unsigned sets[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	int hs = 10; /* struct virtio_net_hdr: no merged buffers on a TUN */
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hs) < 0) {
		int e = -errno;
		snprintf(why, why_len, "TUNSETVNETHDRSZ 10 refused: %s", strerror(-e));
		return e;
	}
	int e = 0;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)sets[i]) == 0) {
			t->offloads = sets[i];
			if (i)
				snprintf(why, why_len, "kernel refused offload set 0x%x (%s); using 0x%x",
					 sets[0], strerror(-e), sets[i]);
			return 0;
		}
		if (!e)
			e = -errno;
	}
	snprintf(why, why_len, "TUNSETOFFLOAD refused every set: %s", strerror(-e));
	return e;
}

int td_tun_open_offload(struct td_tun *t, const char *name, bool persist, bool attach,
			bool offload, char *why, size_t why_len)
{
	if (why_len)
		why[0] = 0;
	if (!offload)
		return open_dev(t, name, persist, attach, false);
	int err = open_dev(t, name, persist, attach, true);
	if (err == -EINVAL) {
		/* a kernel (or an existing persistent device) without IFF_VNET_HDR */
		snprintf(why, why_len, "IFF_VNET_HDR refused: %s", strerror(EINVAL));
		return open_dev(t, name, persist, attach, false);
	}
	if (err)
		return err;
	if (negotiate(t, why, why_len) != 0) {
		/* Without any offload the header is pure cost: reopen plainly (a
		 * device we created goes with the fd and is made again). */
		td_tun_close(t);
		return open_dev(t, name, persist, attach, false);
	}
	return 0;
}

void td_tun_close(struct td_tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
