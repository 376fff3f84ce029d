/* Stable names of the wire error values, used as metric labels and in messages. */
#include <tundra/wire.h>

const char *td_wire_strerror(enum td_wire_err err)
{
	switch (err) {
	case TD_WIRE_OK: return "ok";
	case TD_WIRE_TRUNCATED: return "truncated";
	case TD_WIRE_BAD_VERSION: return "bad_version";
	case TD_WIRE_BAD_HDR_LEN: return "bad_hdr_len";
	case TD_WIRE_BAD_LENGTH: return "bad_length";
	case TD_WIRE_BAD_CHECKSUM: return "bad_checksum";
	case TD_WIRE_BAD_OPTION: return "bad_option";
	case TD_WIRE_EXT_LIMIT: return "ext_limit";
	case TD_WIRE_BAD_FRAGMENT: return "bad_fragment";
	case TD_WIRE_UNSUPPORTED: return "unsupported";
	case TD_WIRE_BAD_SIZE: return "bad_size";
	case TD_WIRE_ERR_COUNT: break;
	}
	return "unknown";
}
