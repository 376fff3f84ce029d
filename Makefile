# tundra — one non-recursive GNU Makefile.
#
#   make                 build/tundra and build/libtundra.a
#   make SANITIZE=1      the same with ASan+UBSan (no recovery), in build-san/
#   make check           everything CI runs (installs missing Debian packages)
#   make demo            the main job, end to end
#   make unit            unit tests (cmocka)
#   make integration     integration tests (root: namespaces, TUN, real peers)
#   make fuzz            every fuzz target for FUZZ_SECONDS (default 60)
#   make bench           benchmarks, peers in the same run, ratios printed
#   make lint            cppcheck + clang-tidy, failing on findings
#   make install PREFIX=/usr/local
#
# Sources are found by wildcard: a new file in src/<layer>/, tests/unit/test_*.c,
# tests/fuzz/fuzz_*.c or bench/*.c needs no edit here.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.SECONDARY:

CC      ?= gcc
CLANG   ?= clang
PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 60
VERSION := 0.1.0

ifeq ($(SANITIZE),1)
BUILD   := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1
else
BUILD   := build
SANFLAGS :=
OPT     := -O2
endif

WARN := -Wall -Wextra -Wshadow -Wundef -Wpointer-arith -Wcast-align \
        -Wwrite-strings -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
        -Wimplicit-fallthrough -Wvla -Werror
CPPFLAGS_ALL := -D_GNU_SOURCE -DTD_VERSION='"$(VERSION)"' -Iinclude -Isrc
CFLAGS_ALL   := -std=gnu11 $(OPT) -g $(WARN) $(SANFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL  := $(SANFLAGS) $(LDFLAGS)
LDLIBS_ALL   := -lyaml -lm -lpthread $(LDLIBS)

# The tundra binary is one static-pie file (STATIC=1, the default): glibc and
# libyaml linked in, no dynamic loader, no shared library mapped. A one-shot
# `tundra ping` of 1 000 targets holds 1.7 MB instead of 2.4 MB (fping: 2.4;
# bench/21-ping-sweep.sh), and the file runs alone in an empty container.
# Position-independent, so ASLR still moves it. glibc's name lookup keeps
# /etc/nsswitch.conf: "files" and "dns" are built in; another module listed
# there is loaded from the system's glibc of the same version, hence the
# linker's warning about getaddrinfo. It needs no libm (td_tcp_cbrt).
# STATIC=0 (and SANITIZE=1, as ASan needs): dynamically linked.
STATIC ?= 1
ifeq ($(SANITIZE),1)
override STATIC := 0
endif
ifeq ($(STATIC),1)
LDFLAGS_BIN := -static-pie
else
LDFLAGS_BIN :=
endif
LDLIBS_BIN   := $(filter-out -lm,$(LDLIBS_ALL))

# LIBC=musl (the default for the static binary when musl-gcc is installed;
# scripts/deps.sh installs musl-tools): the binary is built against musl
# instead of glibc. glibc's start-up asks the CPU about its caches with about
# ninety CPUID instructions before main; in a virtual machine each one exits
# to the hypervisor (6 us each on the machines we measure on), so every glibc
# program starts in 0.6-0.7 ms there and `tundra --version` with musl in
# 0.25 ms. That is a fifth of a 1 000-target sweep (bench/21-ping-sweep.sh).
# The library, unit tests, fuzz targets, benchmarks' own programs and the
# STATIC=0 and SANITIZE=1 builds stay on glibc; the code builds with both.
# Name lookup with musl reads /etc/hosts and /etc/resolv.conf itself (no
# nsswitch modules); STATIC=0 or LIBC=glibc keeps glibc's.
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null | sed 's/-gnu$$//')
ifeq ($(STATIC),1)
LIBC ?= $(if $(shell command -v musl-gcc 2>/dev/null),musl,glibc)
else
override LIBC := glibc
endif

LIB_SRC   := $(sort $(wildcard src/wire/*.c src/probe/*.c src/stack/*.c src/os/*.c))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_SUP  := $(sort $(wildcard tests/unit/support_*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SUP_OBJ := $(UNIT_SUP:%.c=$(BUILD)/obj/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=build/bench/%)
LIB       := $(BUILD)/libtundra.a
BIN       := $(BUILD)/tundra

.PHONY: all check demo unit integration fuzz fuzz-smoke bench bench-build lint \
        install deps clean check-long

all: $(BIN) $(LIB)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

ifeq ($(LIBC),musl)
# musl-gcc compiles; gcc links the static-pie itself, as Debian's musl-gcc
# specs know no -static-pie: musl's self-relocating start file rcrt1.o, its
# libc.a, libgcc. Kernel headers (and yaml.h) come in through a directory of
# links, since musl-gcc hides /usr/include. Debian's libyaml.a is plain C
# against the C library's standard interface (src/cli/libc_musl.c adds the
# one glibc extra it calls). strerror and gai_strerror are wrapped to give
# glibc's texts (src/os/errtext.c), as iputils and fping print them. Thread stacks: musl's default is 128 KiB; the
# PT_GNU_STACK size below raises it to glibc's 8 MiB.
MUSL_CC     ?= musl-gcc
MUSL_LIBDIR ?= /usr/lib/$(MULTIARCH)-musl
MUSL_INC    := $(BUILD)/musl/include
MUSL_LIB    := $(BUILD)/musl/libtundra.a
MUSL_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/musl/obj/%.o)
MUSL_CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/musl/obj/%.o)

$(MUSL_INC)/.links:
	@mkdir -p $(@D)
	ln -sfn /usr/include/linux $(@D)/linux
	ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)-gnu/asm $(@D)/asm
	ln -sfn /usr/include/yaml.h $(@D)/yaml.h
	@touch $@

$(BUILD)/musl/obj/%.o: %.c $(MUSL_INC)/.links
	@mkdir -p $(@D)
	$(MUSL_CC) $(CPPFLAGS_ALL) -isystem $(MUSL_INC) $(CFLAGS_ALL) -fPIE -c $< -o $@

$(MUSL_LIB): $(MUSL_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# a static-pie against musl: $(MUSL_LINK) -o OUT OBJECTS... $(MUSL_LINK_END)
MUSL_LINK := $(CC) $(LDFLAGS_ALL) -static-pie -nostdlib -Wl,-z,stack-size=8388608 \
	$(MUSL_LIBDIR)/rcrt1.o $(MUSL_LIBDIR)/crti.o $(shell $(CC) -print-file-name=crtbeginS.o)
MUSL_LINK_END := $(MUSL_LIBDIR)/libc.a $(shell $(CC) -print-libgcc-file-name) \
	$(shell $(CC) -print-file-name=crtendS.o) $(MUSL_LIBDIR)/crtn.o

$(BIN): $(MUSL_CLI_OBJ) $(MUSL_LIB)
	$(MUSL_LINK) -Wl,--wrap=strerror,--wrap=gai_strerror -o $@ $(MUSL_CLI_OBJ) $(MUSL_LIB) \
	    $(shell $(CC) -print-file-name=libyaml.a) $(MUSL_LINK_END)
else
$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) $(LDFLAGS_BIN) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_BIN)
endif

# ---- unit tests (cmocka) ---------------------------------------------------
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(UNIT_SUP_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(UNIT_SUP_OBJ) $(LIB) -lcmocka $(LDLIBS_ALL)

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

# ---- integration tests (pytest, root) --------------------------------------
integration: all bench-build
	TUNDRA=$(CURDIR)/$(BIN) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	    --timeout=600 tests/integration
	# the stack and TCP suites again with TUN offloads on (virtio-net header, GSO)
	TUNDRA=$(CURDIR)/$(BIN) TUNDRA_OFFLOAD=on /usr/bin/python3 -m pytest -q \
	    -p no:cacheprovider --timeout=600 tests/integration/test_tcp_kernel.py \
	    tests/integration/test_tcp_hostile.py $(wildcard tests/integration/test_stack_[!m]*.py)

# ---- fuzzing (libFuzzer via clang, ASan+UBSan) -----------------------------
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -DTD_FUZZING $(CPPFLAGS_ALL) -Wno-unused-command-line-argument
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS_ALL)

fuzz: $(FUZZ_BIN)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@scripts/run-fuzz.sh 3 $(FUZZ_BIN)

# ---- benchmarks ------------------------------------------------------------
build/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDLIBS_ALL)

-include $(wildcard bench/*.mk)

bench-build: $(BENCH_BIN) $(BENCH_EXTRA)

bench: deps all bench-build
	@scripts/run-bench.sh

# ---- lint ------------------------------------------------------------------
lint: $(LIB)
	scripts/check-symbols.sh $(LIB)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --std=c11 -D__linux__ -D_GNU_SOURCE -Iinclude -Isrc \
	    --suppress=missingIncludeSystem src tests/unit bench
	clang-tidy --quiet --warnings-as-errors='*' $(LIB_SRC) $(CLI_SRC) -- \
	    $(CPPFLAGS_ALL) -std=gnu11

# ---- the two commands ------------------------------------------------------
deps:
	@scripts/deps.sh

check: deps
	@scripts/check.sh

demo: deps all
	@scripts/demo.sh

check-long: deps all
	TUNDRA_LONG=1 TUNDRA=$(CURDIR)/$(BIN) /usr/bin/python3 -m pytest -q \
	    -p no:cacheprovider --timeout=4200 tests/integration

# ---- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/tundra $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tundra
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libtundra.a
	install -m 0644 include/tundra/*.h $(DESTDIR)$(PREFIX)/include/tundra/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tundra.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tundra.pc
	for m in man/*.1; do [ -f "$$m" ] && install -m 0644 "$$m" \
	    $(DESTDIR)$(PREFIX)/share/man/man1/ || true; done

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MUSL_LIB_OBJ:.o=.d) $(MUSL_CLI_OBJ:.o=.d) $(UNIT_SUP_OBJ:.o=.d) \
         $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d) $(FUZZ_LIB_OBJ:.o=.d)
