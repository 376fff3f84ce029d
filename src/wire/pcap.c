/* pcap file format (LINKTYPE_RAW) as pure emit and read functions; file I/O is src/os's job. */
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

/* ---- reading ------------------------------------------------------------- */

/* Largest record accepted: libpcap's MAXIMUM_SNAPLEN. */
#define PCAP_MAX_CAPLEN 262144u

static uint32_t get32(const struct td_pcap_reader *rd, size_t off)
{
	uint32_t v;
	memcpy(&v, rd->p + off, 4);
	return rd->swapped ? __builtin_bswap32(v) : v;
}

enum td_wire_err td_pcap_reader_init(struct td_pcap_reader *rd, const void *buf, size_t len)
{
	uint32_t magic;

	memset(rd, 0, sizeof(*rd));
	if (len < TD_PCAP_FILE_HDR_LEN)
		return TD_WIRE_TRUNCATED;
	rd->p = buf;
	rd->len = len;
	memcpy(&magic, buf, 4);
	if (magic == PCAP_MAGIC_USEC || magic == PCAP_MAGIC_NSEC) {
		rd->swapped = false;
	} else if (__builtin_bswap32(magic) == PCAP_MAGIC_USEC ||
		   __builtin_bswap32(magic) == PCAP_MAGIC_NSEC) {
		rd->swapped = true;
		magic = __builtin_bswap32(magic);
	} else {
		return TD_WIRE_UNSUPPORTED;
	}
	rd->res = magic == PCAP_MAGIC_NSEC ? TD_PCAP_NSEC : TD_PCAP_USEC;
	rd->snaplen = get32(rd, 16);
	/* The top bits of the link-type field carry FCS information. */
	rd->linktype = get32(rd, 20) & 0x0fffffffu;
	rd->off = TD_PCAP_FILE_HDR_LEN;
	return TD_WIRE_OK;
}

bool td_pcap_next(struct td_pcap_reader *rd, struct td_pcap_rec *rec, enum td_wire_err *err)
{
	*err = TD_WIRE_OK;
	if (rd->off == rd->len)
		return false;
	if (rd->len - rd->off < TD_PCAP_REC_HDR_LEN) {
		*err = TD_WIRE_TRUNCATED;
		return false;
	}
	uint32_t sec = get32(rd, rd->off), frac = get32(rd, rd->off + 4);
	uint32_t caplen = get32(rd, rd->off + 8);
	if (caplen > PCAP_MAX_CAPLEN) {
		*err = TD_WIRE_BAD_LENGTH;
		return false;
	}
	if (rd->len - rd->off - TD_PCAP_REC_HDR_LEN < caplen) {
		*err = TD_WIRE_TRUNCATED;
		return false;
	}
	rec->ts_ns = (uint64_t)sec * 1000000000u +
		     (rd->res == TD_PCAP_USEC ? (uint64_t)frac * 1000u : frac);
	rec->origlen = get32(rd, rd->off + 12);
	rec->data.ptr = rd->p + rd->off + TD_PCAP_REC_HDR_LEN;
	rec->data.len = caplen;
	rd->off += TD_PCAP_REC_HDR_LEN + (size_t)caplen;
	return true;
}
