/* libFuzzer target: packet sequences into the whole stack (checksums skipped), pools checked after each run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tundra/stack.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: a flags byte, then records of [len_hi len_lo dt] + len bytes.
 * dt advances virtual time by dt * 250 ms (so reassembly timeouts fire);
 * flags bit 0 turns on impairment in both directions (seeded by the
 * flags byte), bit 1 opens a user UDP socket on port 5000 that is read
 * whenever it becomes readable.
 */
static void drain(struct td_stack *st, uint64_t now)
{
	size_t len;
	while (td_stack_output_peek(st, now, &len))
		td_stack_output_pop(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct td_stack_config c;
	td_stack_config_default(&c);
	c.wire_flags = TD_WIRE_SKIP_CSUM;
	c.pkt_slots = 64;
	c.reass_slots = 4;
	c.reass_max_frags = 16;
	c.udp_sockets = 4;
	c.udp_rcvbuf = 4096;
	c.icmp_err_burst = 4;
	uint8_t flags = data[0];
	if (flags & 1) {
		struct td_impair_config im = {.loss_ppm = 100000, .dup_ppm = 100000,
					      .reorder_ppm = 100000, .corrupt_ppm = 100000,
					      .delay_ns = 1000000, .jitter_ns = 3000000,
					      .seed = flags};
		c.impair_in = c.impair_out = im;
	}
	struct td_stack *st;
	if (td_stack_create(&c, &st))
		abort();
	struct td_udp_sock *s = NULL;
	if (flags & 2) {
		struct td_endpoint ep = {.port = 5000};
		if (td_udp_open(st, &s) || td_udp_bind(s, &ep))
			abort();
	}
	uint64_t now = 1000000000ull;
	size_t off = 1;
	static uint8_t buf[65536];
	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		now += (uint64_t)data[off + 2] * 250000000ull;
		off += 3;
		if (len > size - off)
			len = size - off;
		/* a private copy: the stack must not depend on bytes past len */
		memcpy(buf, data + off, len);
		td_stack_input(st, now, buf, len);
		off += len;
		td_stack_poll(st, now);
		drain(st, now);
		if (s) {
			uint8_t rx[2048];
			while (td_udp_recvfrom(s, rx, sizeof(rx), NULL) != -11 /* EAGAIN */)
				;
		}
	}
	/* Everything pending must expire and drain: no leaked slot. */
	for (int i = 0; i < 100; i++) {
		uint64_t dl = td_stack_next_deadline(st);
		if (dl == UINT64_MAX)
			break;
		now = dl > now ? dl : now;
		td_stack_poll(st, now);
		drain(st, now);
	}
	td_udp_close(s);
	struct td_stack_pool_usage u;
	td_stack_pool_usage(st, &u);
	if (u.pkt_slots || u.reass_slots || u.udp_sockets)
		abort();
	td_stack_destroy(st);
	return 0;
}
