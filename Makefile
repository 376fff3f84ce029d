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

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) $(LDFLAGS_BIN) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_BIN)

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

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_SUP_OBJ:.o=.d) \
         $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/tests/unit/%.d) $(FUZZ_LIB_OBJ:.o=.d)
