/* libFuzzer target: the netlink reply parser over arbitrary datagrams; what the builder makes, the parser walks. */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>

#include "fuzz_common.h"
#include "wire/netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: seq (4 bytes), portid (4 bytes), then the datagram. */
static void parse_any(const uint8_t *data, size_t size)
{
	if (size < 8)
		return;
	uint32_t seq, pid;
	memcpy(&seq, data, 4);
	memcpy(&pid, data + 4, 4);
	struct td_nl_reply r = {0};
	int rc = td_nl_reply_parse(data + 8, size - 8, seq, pid, &r);
	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == -EBADMSG || rc == -EPROTO);
	FUZZ_ASSERT(rc == 1 || (r.error == 0 && r.msg[0] == '\0'));
	FUZZ_ASSERT(r.error <= 0 && r.error >= -4095);
	size_t n = strnlen(r.msg, sizeof(r.msg));
	FUZZ_ASSERT(n < sizeof(r.msg));
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(r.msg[i] >= 0x20 && r.msg[i] < 0x7f);
	/* each skipped message is at least a header */
	FUZZ_ASSERT((size_t)r.skipped <= (size - 8) / NLMSG_HDRLEN);
}

/* The same bytes read as a recipe for a request: a capacity, then
 * attributes (type, length); the builder must stay inside the capacity and
 * what it finishes must walk as one whole message. */
static void build_any(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096 + 8];
	if (size < 2)
		return;
	size_t cap = ((size_t)data[0] << 8 | data[1]) % 4096;
	memset(buf, 0xee, sizeof(buf));
	struct td_nl_msg m;
	td_nl_msg_init(&m, buf, cap, NLMSG_MIN_TYPE + 1, NLM_F_REQUEST);
	size_t i = 2;
	if (i < size && data[i] & 1) {
		uint8_t fam[16] = {0};
		td_nl_msg_put_family(&m, fam, data[i] % sizeof(fam));
	}
	i++;
	while (i + 2 <= size) {
		uint16_t type = data[i];
		size_t len = data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		size_t before = m.len;
		int rc = td_nl_msg_put_attr(&m, type, data + i, len);
		FUZZ_ASSERT(rc == 0 ? m.len == before + NLA_ALIGN(NLA_HDRLEN + len) : m.len == before);
		i += len;
	}
	FUZZ_ASSERT(m.len <= cap);
	for (size_t k = cap; k < sizeof(buf); k++)
		FUZZ_ASSERT(buf[k] == 0xee);
	if (td_nl_msg_finish(&m, 1, 2) == 0) {
		struct td_nl_reply r = {0};
		/* a data message from (1, 2): passed over, whole, nothing left */
		FUZZ_ASSERT(td_nl_reply_parse(buf, m.len, 1, 2, &r) == 0 && r.skipped == 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_any(data, size);
	build_any(data, size);
	return 0;
}
