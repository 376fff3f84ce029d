# lwIP peer for the stack benchmarks: Debian's liblwip-dev, built in bench/ only.
# Its own warning set: lwIP's headers are not written for our -Werror flags.
LWIP_CFLAGS := $(shell pkg-config --cflags lwip 2>/dev/null)
LWIP_LIBS   := $(shell pkg-config --libs lwip 2>/dev/null)

# libtundra's internal helpers are global without the td_ prefix (tcp_output,
# ...); linked into the same program as liblwip.so, tundra's tcp_output would
# interpose lwIP's and lwIP would never send a SYN-ACK. So the peer links a
# private relocatable copy of libtundra in which only td_* stay global.
build/bench/lwip_td.o: $(LIB)
	@mkdir -p $(@D)
	$(LD) -r -o $@.tmp --whole-archive $(LIB)
	objcopy --wildcard --keep-global-symbol='td_*' $@.tmp $@
	@rm -f $@.tmp

build/bench/lwip_tun: bench/lwip/lwip_tun.c build/bench/lwip_td.o
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -Iinclude $(LWIP_CFLAGS) -std=gnu11 -O2 -g -Wall -o $@ $< \
	    build/bench/lwip_td.o $(LWIP_LIBS) $(LDLIBS_ALL)

BENCH_EXTRA += build/bench/lwip_tun
