# lwIP peer for the stack benchmarks: Debian's liblwip-dev, built in bench/ only.
# Its own warning set: lwIP's headers are not written for our -Werror flags.
# It links libtundra as is: every symbol libtundra exports is td_-prefixed
# (scripts/check-symbols.sh, part of make lint), so none interposes lwIP's.
LWIP_CFLAGS := $(shell pkg-config --cflags lwip 2>/dev/null)
LWIP_LIBS   := $(shell pkg-config --libs lwip 2>/dev/null)

build/bench/lwip_tun: bench/lwip/lwip_tun.c $(LIB)
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -Iinclude $(LWIP_CFLAGS) -std=gnu11 -O2 -g -Wall -o $@ $< \
	    $(LIB) $(LWIP_LIBS) $(LDLIBS_ALL)

BENCH_EXTRA += build/bench/lwip_tun
