/* libFuzzer target: fuzz_tcp_stack with the device's TX offloads on (partial
 * checksums, TCP-built GSO super-segments beside RACK-TLP's per-segment
 * records); the same input format and teardown checks. */
#define FUZZ_TCP_TSO 1
#include "fuzz_tcp_stack.c"
