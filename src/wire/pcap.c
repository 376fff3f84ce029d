/* pcap file format (LINKTYPE_RAW) as pure emit functions; writing files is src/os's job. */
#include <tundra/wire.h>

/* The classic libpcap format: magic 0xa1b2c3d4 for microsecond and
 * 0xa1b23c4d for nanosecond timestamps, written in the writer's native byte
 * order so readers detect the order from the magic. */
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du

static void put_ne32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put_ne16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

void td_pcap_file_header(uint8_t out[TD_PCAP_FILE_HDR_LEN], enum td_pcap_res res,
			 uint32_t snaplen)
{
	put_ne32(out, res == TD_PCAP_NSEC ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
	put_ne16(out + 4, 2); /* version 2.4 */
	put_ne16(out + 6, 4);
	put_ne32(out + 8, 0);  /* thiszone: timestamps are UTC */
	put_ne32(out + 12, 0); /* sigfigs */
	put_ne32(out + 16, snaplen);
	put_ne32(out + 20, TD_PCAP_LINKTYPE_RAW);
}

void td_pcap_record_header(uint8_t out[TD_PCAP_REC_HDR_LEN], enum td_pcap_res res,
			   uint64_t ts_ns, uint32_t caplen, uint32_t origlen)
{
	uint64_t sec = ts_ns / 1000000000u;
	uint32_t frac = (uint32_t)(ts_ns % 1000000000u);

	if (res == TD_PCAP_USEC)
		frac /= 1000u;
	put_ne32(out, (uint32_t)sec);
	put_ne32(out + 4, frac);
	put_ne32(out + 8, caplen);
	put_ne32(out + 12, origlen);
}
