/* pcap capture file of the packets crossing the TUN (LINKTYPE_RAW, nanosecond stamps). */
#include <errno.h>
#include <string.h>

#include "tundra/stack_os.h"

#define SNAPLEN 65535u

int td_pcapfile_open(struct td_pcapfile *p, const char *path)
{
	memset(p, 0, sizeof(*p));
	p->f = fopen(path, "wbe");
	if (!p->f)
		return -errno;
	uint8_t h[TD_PCAP_FILE_HDR_LEN];
	td_pcap_file_header(h, TD_PCAP_NSEC, SNAPLEN);
	if (fwrite(h, sizeof(h), 1, p->f) != 1) {
		int e = -errno;
		fclose(p->f);
		p->f = NULL;
		return e ? e : -EIO;
	}
	return 0;
}

int td_pcapfile_write(struct td_pcapfile *p, uint64_t realtime_ns, const void *pkt, size_t len)
{
	if (!p->f)
		return -EBADF;
	uint32_t cap = len > SNAPLEN ? SNAPLEN : (uint32_t)len;
	uint8_t h[TD_PCAP_REC_HDR_LEN];
	td_pcap_record_header(h, TD_PCAP_NSEC, realtime_ns, cap, (uint32_t)len);
	if (fwrite(h, sizeof(h), 1, p->f) != 1 || (cap && fwrite(pkt, cap, 1, p->f) != 1))
		return -EIO;
	p->packets++;
	return 0;
}

int td_pcapfile_close(struct td_pcapfile *p)
{
	if (!p->f)
		return 0;
	int r = fclose(p->f) == 0 ? 0 : -errno;
	p->f = NULL;
	return r;
}
