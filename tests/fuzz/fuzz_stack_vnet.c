/* libFuzzer target: reads from an offloaded TUN (virtio-net header + packet) into the stack with TCP, pools checked after each run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tundra/stack.h>
#include <tundra/tcp.h>
#include <tundra/wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a flags byte, then records of [len_hi len_lo dt] + len bytes, each
 * record one read from the TUN: a virtio-net header (10 bytes, or 12 with
 * flags bit 1) and the packet, handed to td_stack_input_vnet. dt advances
 * virtual time by dt * 50 ms. Flags bit 0 turns on impairment (so cut
 * segments are parked, corrupted and checksummed in software); bit 2 turns
 * on the TX offloads (partial checksums, TCP's GSO super-segments). Checksums
 * are verified (wire_flags 0) so the partial-checksum trust is what lets
 * packets through, as on a real device.
 */
/* Drain as the loop does with a virtio-net header: every due packet with
 * the header the stack wrote in front of it (GSO_NONE, or the partial
 * checksum and GSO fields of a super-segment TCP built), which must parse. */
static void drain(struct td_stack *st, uint64_t now, size_t hs)
{
	const uint8_t *p;
	size_t len;
	struct td_vnet_repr vr;
	while ((p = td_stack_output_peek_vnet(st, now, hs, &len))) {
		if (len < hs + 20 || len > hs + 65535 ||
		    td_vnet_parse(p, len, hs, len - hs, &vr) != TD_WIRE_OK)
			abort();
		td_stack_output_pop(st);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.wire_flags = 0;
	c.pkt_slots = 64;
	c.reass_slots = 4;
	c.reass_max_frags = 16;
	c.udp_sockets = 4;
	c.udp_rcvbuf = 4096;
	uint8_t flags = data[0];
	if (flags & 1) {
		struct td_impair_config im = {.loss_ppm = 100000, .dup_ppm = 100000,
					      .reorder_ppm = 100000, .corrupt_ppm = 100000,
					      .delay_ns = 1000000, .jitter_ns = 3000000,
					      .seed = flags};
		c.impair_in = c.impair_out = im;
	}
	size_t hs = flags & 2 ? 12 : 10;
	struct td_stack *st;
	if (td_stack_create(&c, &st))
		abort();
	if ((flags & 4) &&
	    td_stack_set_tx_offload(st, TD_STACK_TX_CSUM | TD_STACK_TX_TSO4 | TD_STACK_TX_TSO6))
		abort();
	struct td_tcp_config tc;
	td_tcp_config_default(&tc);
	tc.max_socks = 32;
	tc.sndbuf = tc.rcvbuf = 16384;
	tc.syn_backlog = 4;
	struct td_tcp *tcp;
	struct td_tcp_services *svc;
	if (td_tcp_attach(st, &tc, &tcp) || td_tcp_services_start(tcp, st, 0xf, &svc))
		abort();
	uint64_t now = 1000000000ull;
	size_t off = 1;
	static uint8_t buf[65536 + 16];
	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		now += (uint64_t)data[off + 2] * 50000000ull;
		off += 3;
		if (len > size - off)
			len = size - off;
		/* a private copy: the stack must not depend on bytes past len */
		memcpy(buf, data + off, len);
		td_stack_input_vnet(st, now, buf, len, hs);
		off += len;
		td_stack_poll(st, now);
		drain(st, now, hs);
	}
	/* Teardown: every connection finishes, everything pending expires and
	 * drains: no leaked socket, buffer or packet slot. */
	td_tcp_services_stop(svc, now);
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t dl = td_stack_next_deadline(st);
		if (dl == UINT64_MAX)
			break;
		now = dl > now ? dl : now + 1;
		td_stack_poll(st, now);
		drain(st, now, hs);
	}
	if (td_tcp_socks_in_use(tcp) || td_tcp_buf_bytes(tcp))
		abort();
	struct td_stack_pool_usage u;
	td_stack_pool_usage(st, &u);
	if (u.pkt_slots || u.reass_slots)
		abort();
	td_stack_destroy(st);
	return 0;
}
