# The sweep floor linked as the tundra binary is (static-pie; Makefile, STATIC):
# bench/21-ping-sweep.sh measures it beside the dynamically linked floor
# (linked as fping is), so the floor it prints holds for either kind of tool.
# ASan cannot link statically: under SANITIZE=1 there is no static floor.
ifneq ($(SANITIZE),1)
build/bench/sweep_floor_static: bench/sweep_floor.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -static-pie -o $@ $< $(LIB) -lpthread

BENCH_EXTRA += build/bench/sweep_floor_static
endif

# ...and as the tundra binary is with LIBC=musl (the default): the floor of a
# tool that pays no glibc start-up (see the Makefile on LIBC).
ifeq ($(LIBC),musl)
build/bench/sweep_floor_musl: $(BUILD)/musl/obj/bench/sweep_floor.o $(MUSL_LIB)
	@mkdir -p $(@D)
	$(MUSL_LINK) -o $@ $< $(MUSL_LIB) $(MUSL_LINK_END)

BENCH_EXTRA += build/bench/sweep_floor_musl
endif
