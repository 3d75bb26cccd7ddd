# SPDX-License-Identifier: BSD-3-Clause
# sealnet build. Targets: deps, all (default), test, bench, demo, install, clean.
#
#   make              library, pkg-config file and programs into build/
#   make test         unit, sanitizer, fuzz and integration tests (as root)
#   make bench        benchmarks side by side with the kernel; bench/results/
#   make install      PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
VERSION := 0.1.0

B       := build
LWIP    := third_party/lwip
CC      ?= cc

# Run `make deps` first when something the build needs is missing.
DEPS_OK := $(shell test -f $(LWIP)/src/core/tcp_in.c && pkg-config --exists libdpdk \
	     && test -f /usr/include/criterion/criterion.h && echo yes)
ifneq ($(DEPS_OK),yes)
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
$(info sealnet: dependencies missing, running make deps)
$(shell sh .ci/deps >&2)
endif
endif

DPDK_CFLAGS := $(shell pkg-config --cflags libdpdk 2>/dev/null)
DPDK_LIBS   := $(shell pkg-config --libs libdpdk 2>/dev/null)

OPT      ?= -O3
WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare
CFLAGS_COMMON := $(OPT) -g -fPIC -std=gnu11 -D_GNU_SOURCE -DSN_VERSION='"$(VERSION)"' $(DPDK_CFLAGS) \
	-Iapi/include -Iapi -Istack -Idpdk -Iipsec -I$(LWIP)/src/include
CFLAGS   ?=
ALL_CFLAGS := $(CFLAGS_COMMON) $(WARN) $(CFLAGS)
# lwIP is compiled as it is, with our options; its own warnings are not ours.
LWIP_CFLAGS := $(CFLAGS_COMMON) -w $(CFLAGS)
LDLIBS   := $(DPDK_LIBS) -lIPSec_MB -lmbedcrypto -lm -lpthread
# IKEv2 (ipsec/ike/): public-key operations and its PRFs from OpenSSL 3.
LDLIBS   += -lcrypto

LWIP_SRCS := $(wildcard $(LWIP)/src/core/*.c $(LWIP)/src/core/ipv4/*.c \
	$(LWIP)/src/core/ipv6/*.c) $(LWIP)/src/netif/ethernet.c
SN_SRCS   := $(wildcard dpdk/*.c stack/*.c ipsec/*.c api/*.c)
# IKEv2 sits above the datapath: only its own files get -Iipsec/ike, so
# ipsec/*.c cannot include an IKE header by name (DESIGN.md, Layout);
# check-ike-layer refuses one included by a relative path.
IKE_SRCS  := $(wildcard ipsec/ike/*.c)
SN_SRCS   += $(IKE_SRCS)
LIB_OBJS  := $(patsubst %.c,$(B)/obj/%.o,$(SN_SRCS)) \
	$(patsubst $(LWIP)/%.c,$(B)/obj/lwip/%.o,$(LWIP_SRCS))

APPS      := $(notdir $(wildcard apps/sn-* apps/snctl))
APP_BINS  := $(addprefix $(B)/bin/,$(APPS))

.PHONY: all deps lib apps test unit bench demo install clean fuzz asan
all: lib apps

deps:
	sh .ci/deps

lib: $(B)/lib/libsealnet.a $(B)/lib/libsealnet.so $(B)/lib/dist/libsealnet.a \
	$(B)/lib/pkgconfig/sealnet.pc
apps: $(APP_BINS)

$(B)/obj/lwip/%.o: $(LWIP)/%.c stack/lwipopts.h
	@mkdir -p $(dir $@)
	$(CC) $(LWIP_CFLAGS) -MMD -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -c $< -o $@

$(B)/obj/ipsec/ike/%.o build-asan/obj/ipsec/ike/%.o build-fuzz/obj/ipsec/ike/%.o: \
	ALL_CFLAGS += -Iipsec/ike

.PHONY: check-ike-layer
all: check-ike-layer
check-ike-layer:
	@if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*/)?ike(/|_)' \
		ipsec/*.c ipsec/*.h; then \
		echo "check-ike-layer: the datapath (ipsec/) must not include ipsec/ike/ headers" >&2; \
		exit 1; fi

# Every tracked source file carries its licence (LICENSE, BSD-3-Clause).
.PHONY: check-spdx
all: check-spdx
check-spdx:
	@missing=$$(git ls-files '*.c' '*.h' '*.sh' '*.py' '*.mk' 2>/dev/null | \
		xargs -r grep -L 'SPDX-License-Identifier: BSD-3-Clause'); \
	if [ -n "$$missing" ]; then \
		echo "check-spdx: no SPDX-License-Identifier line in:" $$missing >&2; exit 1; fi

$(B)/lib/libsealnet.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The public API is what the public headers declare: every sn_* function
# in them (preprocessed, so comments and macros do not count). Only those
# leave the library; lwIP's, DPDK's and sealnet's internal names stay inside,
# so they never clash with a program's own.
PUBLIC_HDRS := $(wildcard api/include/sealnet/*.h)
$(B)/lib/sealnet.syms: $(PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	for h in $(notdir $(PUBLIC_HDRS)); do echo "#include <sealnet/$$h>"; done | \
		$(CC) -E -P -Iapi/include -x c - | tr '\n' ' ' | \
		grep -oE '\bsn_[a-z0-9_]+[[:space:]]*\(' | tr -d ' (' | sort -u > $@.tmp
	test -s $@.tmp && mv $@.tmp $@

# Linker version script of the shared library: the public names, version SEALNET_0.
$(B)/lib/sealnet.map: $(B)/lib/sealnet.syms
	{ echo 'SEALNET_0 {'; echo '  global:'; sed 's/.*/    &;/' $<; \
	  echo '  local: *;'; echo '};'; } > $@

$(B)/lib/libsealnet.so: $(LIB_OBJS) $(B)/lib/sealnet.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libsealnet.so.0 -Wl,--version-script=$(B)/lib/sealnet.map \
		-o $@ $(LIB_OBJS) $(LDLIBS)

# The installed static library: the objects linked into one (ld -r) whose
# only global names are the public ones, for the same reason. (The programs
# and unit tests in this tree link build/lib/libsealnet.a, internals and all.)
$(B)/lib/dist/libsealnet.a: $(LIB_OBJS) $(B)/lib/sealnet.syms
	@mkdir -p $(dir $@)
	rm -f $@ $(B)/lib/dist/sealnet.o
	$(LD) -r -o $(B)/lib/dist/sealnet.o $(LIB_OBJS)
	objcopy --keep-global-symbols=$(B)/lib/sealnet.syms $(B)/lib/dist/sealnet.o
	ar rcs $@ $(B)/lib/dist/sealnet.o

# write_pc FILE: the pkg-config file for the current PREFIX/LIBDIR/INCDIR.
# Cflags are the headers' only: DPDK's build flags (-include rte_config.h,
# -march) are the library's, and the public headers need no DPDK header.
# A static link (pkg-config --static) takes libsealnet.a, which the linker
# would pass over for libsealnet.so: Cflags.private (pkgconf) opens
# -Bstatic for -lsealnet and Libs.private closes it, so DPDK, intel-ipsec-mb
# and mbedTLS are linked as the shared libraries they are on Debian (their
# static archives need DPDK's drivers whole-archive and dozens of libraries).
define write_pc
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
	  'Name: sealnet' 'Description: userspace TCP/IP stack with IPsec built in' \
	  'Version: $(VERSION)' \
	  'Libs: -L$${libdir} -lsealnet' 'Libs.private: -Wl,-Bdynamic $(LDLIBS)' \
	  'Cflags: -I$${includedir}' 'Cflags.private: -Wl,-Bstatic' > $(1)
endef

$(B)/lib/pkgconfig/sealnet.pc: Makefile
	@mkdir -p $(dir $@)
	$(call write_pc,$@)

# Each program is a folder apps/NAME with its .c files. Programs link the
# static library so they run from build/bin without LD_LIBRARY_PATH.
app_objs = $(patsubst %.c,$(B)/obj/%.o,$(wildcard apps/$(1)/*.c))
.SECONDEXPANSION:
$(B)/bin/%: $$(call app_objs,$$*) $(B)/lib/libsealnet.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(filter %.o,$^) -Wl,--whole-archive $(B)/lib/libsealnet.a \
		-Wl,--no-whole-archive $(LDLIBS)

install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/sealnet $(DESTDIR)$(BINDIR)
	install -m 644 $(B)/lib/dist/libsealnet.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/lib/libsealnet.so $(DESTDIR)$(LIBDIR)/libsealnet.so.0
	ln -sf libsealnet.so.0 $(DESTDIR)$(LIBDIR)/libsealnet.so
	install -m 644 api/include/sealnet/*.h $(DESTDIR)$(INCDIR)/sealnet/
	$(call write_pc,$(DESTDIR)$(LIBDIR)/pkgconfig/sealnet.pc)
	for p in $(APP_BINS); do [ -f $$p ] && install -m 755 $$p $(DESTDIR)$(BINDIR)/ || true; done

include tests/tests.mk

bench: all $(B)/bench/esp-bench
	bash bench/run

demo: all
	bash tests/integration/demo.sh
	bash tests/integration/secure_demo.sh

clean:
	rm -rf $(B) build-asan build-fuzz

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# Per-packet ESP seal/open against the raw intel-ipsec-mb cipher, in one run.
.PHONY: esp-bench
$(B)/bench/esp-bench: bench/esp_bench.c $(B)/lib/libsealnet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/lib/libsealnet.a $(LDLIBS)

esp-bench: $(B)/bench/esp-bench
	$(B)/bench/esp-bench

# IKE SA + first child SA set-ups, two engines back to back in one process.
.PHONY: ike-bench
$(B)/bench/ike-bench: bench/ike_bench.c $(B)/lib/libsealnet.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/lib/libsealnet.a $(LDLIBS)

ike-bench: $(B)/bench/ike-bench
	bash bench/ike_run
