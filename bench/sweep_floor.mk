# The sweep floor linked statically (bench/21's "floor static" row): no dynamic
# loader at start-up, which is a tenth of a 1 000-target sweep's time. glibc's
# static libc is part of libc6-dev; libtundra contributes td_csum and the IPv4 view.
build/bench/sweep_floor_static: bench/sweep_floor.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -static -o $@ $< $(LIB) -lpthread

BENCH_EXTRA += build/bench/sweep_floor_static
