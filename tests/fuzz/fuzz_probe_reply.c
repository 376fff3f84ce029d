/* libFuzzer target: arbitrary bytes into the probe engine's reply and error paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tundra/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Byte 0 selects: bit0 IPv6, bit1 raw socket, bit2 error-queue path,
 * bit3 short (unauthenticated) payloads. The engine has two targets with a
 * few probes outstanding, so sequence matching, duplicates and error
 * matching are reachable (a forged MAC is not, by design: without the key
 * the fuzzer cannot produce one, which is the point).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	uint8_t fam = (sel & 1) ? TD_PROBE_V6 : TD_PROBE_V4;
	enum td_probe_sock sock = (sel & 2) ? TD_PROBE_SOCK_RAW : TD_PROBE_SOCK_DGRAM;

	struct td_probe_config c;
	td_probe_config_default(&c);
	c.max_targets = 2;
	c.count = 4;
	c.interval_ns = 1000;
	c.payload_len = (sel & 8) ? 8 : 56;
	c.sock[0] = c.sock[1] = sock;
	struct td_probe *p;
	if (td_probe_new(&p, &c))
		abort();
	struct td_probe_addr a = {.family = fam, .a = {127, 0, 0, 1}};
	struct td_probe_addr b = {.family = fam, .a = {127, 0, 0, 2}};
	if (fam == TD_PROBE_V6) {
		/* one link-local address on two links: two targets told apart
		 * only by their scope (arrival interface) */
		memset(a.a, 0, 16);
		a.a[0] = 0xfe;
		a.a[1] = 0x80;
		a.a[15] = 1;
		a.scope = 1;
		b = a;
		b.scope = 2;
	}
	td_probe_add(p, &a, NULL);
	td_probe_add(p, &b, NULL);
	td_probe_start(p, 0);
	struct td_probe_tx tx;
	for (uint64_t now = 0; now < 4000; now += 1000)
		while (td_probe_poll(p, now, &tx) == 1)
			;
	if (sel & 4) {
		struct td_probe_icmp_err e = {.family = fam, .offender = b, .dst = a,
					      .type = (const uint8_t[]){3, 11, 1, 12}[sel >> 6],
					      .code = 0, .quoted = data, .quoted_len = size};
		if (!size)
			e.quoted = NULL;
		td_probe_error(p, 5000, &e);
	} else {
		struct td_probe_rx rx = {.family = fam, .sock = sock,
					 .has_ip_header = sock == TD_PROBE_SOCK_RAW && fam == TD_PROBE_V4,
					 .src = (sel & 16) ? b : a, .stamp_ns = (sel & 32) ? 7000 : 0,
					 .ttl = 64, .tos = -1};
		td_probe_input(p, 5000, data, size, &rx);
		td_probe_input(p, 6000, data, size, &rx); /* again: the duplicate path */
	}
	(void)td_probe_next_deadline(p);
	for (uint32_t i = 0; i < 2; i++)
		(void)td_probe_percentile(p, i, 50);
	td_probe_free(p);
	return 0;
}
