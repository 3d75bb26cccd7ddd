# SPDX-License-Identifier: BSD-3-Clause
# Test targets, included by the top-level Makefile.
#
#   make unit        unit tests (Criterion) against build/lib/libsealnet.a
#   make unit-asan   the same, library and tests built with ASan and UBSan
#   make asan        the programs built with ASan and UBSan into build-asan/bin
#   make fuzz        libFuzzer targets (clang) into build-fuzz/:
#                    fuzz_frame  Ethernet frames received by the stack (ARP,
#                                IPv4/IPv6, ICMP, ND, TCP, UDP, fragments)
#                                with listeners and UDP sockets: one frame,
#                                or a sequence (tests/fuzz/fuzz_frame.c);
#                    fuzz_esp    inbound ESP, AH and ESP-in-UDP with SAs and
#                                policies installed: raw headers and packets
#                                the target seals itself (tests/fuzz/fuzz_esp.c
#                                describes the input format).
#                    fuzz_ike_parse  the IKEv2 message parser and every payload
#                                parser (pure), with a parse-build-parse check
#                                (tests/fuzz/fuzz_ike_parse.c); no seeds.
#                    Seeds come from generators (tests/fuzz/gen_*.c) into
#                    build-fuzz/seeds and build-fuzz/esp_seeds. Each input
#                    starts from the same state with a clock that stands
#                    still (tests/fuzz/fuzz_reset.h), so a crash file
#                    reproduces alone: build-fuzz/fuzz_esp FILE.
#   make fuzz-run    build them, then fuzz each for FUZZ_SECONDS (50; part of
#                    make test); any crash, leak or kept mbuf fails
#   make fuzz-long   the nightly run: each target for FUZZ_SECONDS (default
#                    FUZZ_LONG_SECONDS, 3600) or FUZZ_LONG_RUNS executions
#                    (10 million), whichever ends first.
#                    Both keep their corpus in build-fuzz/corpus/NAME (kept
#                    between runs, seeded from the generated seeds), put
#                    crashes in build-fuzz/artifacts/NAME-*, and end with
#                    tests/fuzz/same_state.sh: every input of the seeds and
#                    corpus does the same in whatever order they run.
#                    FUZZ_TRACE=1 build-fuzz/fuzz_esp FILE prints what each
#                    packet of an input did.
#
# Unit test binaries: one per tests/unit/test_*.c, each linked with the
# shared harness (tests/unit/harness.c: the stack over a fake port, and
# frames.c: frame builders). Criterion runs each test in its own process;
# tests that start the stack run one at a time (--jobs 1), as each process
# starts its own EAL.
.PHONY: test unit unit-asan asan fuzz fuzz-run fuzz-long
test: all
	bash tests/run

UNIT_SRCS     := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS  := tests/unit/harness.c tests/unit/frames.c
UNIT_HDRS     := tests/unit/harness.h tests/unit/frames.h tests/unit/checks.h tests/unit/sa_algs.h
UNIT_HDRS     += tests/unit/ike_hex.h
UNIT_TIMEOUT  ?= 300
UNIT_ARGS     ?=
UNIT_LDLIBS   := -lcriterion $(LDLIBS)
UNIT_CFLAGS    = $(ALL_CFLAGS) -Itests/unit
UNIT_BINS     := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

# whole-archive: the library's constructors (DPDK drivers) and every
# symbol the harness reaches only through lwIP come along.
link_lib = -Wl,--whole-archive $(1) -Wl,--no-whole-archive

$(B)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(UNIT_HDRS) $(B)/lib/libsealnet.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(UNIT_HELPERS) \
		$(call link_lib,$(B)/lib/libsealnet.a) $(UNIT_LDLIBS)

# run_tests BINARIES[,ENV]: each bounded by UNIT_TIMEOUT, all run even
# after a failure; fails when any failed. A sanitizer report also fails:
# LeakSanitizer reports at a Criterion worker's exit, after the test was
# counted as passed, so the output is searched for reports (the log is
# kept next to the binary).
define run_tests
	@fail=0; for t in $(1); do \
		echo "== $$t"; rc=0; \
		$(2) timeout -k 10 $(UNIT_TIMEOUT) $$t --jobs 1 $(UNIT_ARGS) >$$t.log 2>&1 || rc=$$?; \
		cat $$t.log; \
		if [ $$rc != 0 ]; then echo "FAIL: $$t (exit $$rc)"; fail=1; \
		elif grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:' $$t.log; then \
			echo "FAIL: $$t (sanitizer report)"; fail=1; fi; \
	done; \
	if [ $$fail = 0 ]; then echo "unit: all binaries passed"; else echo "unit: FAILED"; fi; \
	exit $$fail
endef

unit: $(UNIT_BINS)
	$(call run_tests,$(UNIT_BINS))

# ---- Sanitizers ----------------------------------------------------------------

A          := build-asan
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -O1
A_OBJS     := $(patsubst %.c,$(A)/obj/%.o,$(SN_SRCS)) \
	$(patsubst $(LWIP)/%.c,$(A)/obj/lwip/%.o,$(LWIP_SRCS))
A_UNIT_BINS := $(patsubst tests/unit/%.c,$(A)/tests/%,$(UNIT_SRCS))
A_APP_BINS  := $(addprefix $(A)/bin/,$(APPS))
# DPDK keeps its EAL allocations for the life of the process; sealnet's
# own allocations are never suppressed (tests/unit/lsan.supp).
SAN_ENV    := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/unit/lsan.supp:print_suppressions=0

$(A)/obj/lwip/%.o: $(LWIP)/%.c stack/lwipopts.h
	@mkdir -p $(dir $@)
	$(CC) $(LWIP_CFLAGS) $(SAN_FLAGS) -MMD -c $< -o $@

$(A)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -MMD -c $< -o $@

$(A)/lib/libsealnet.a: $(A_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(A)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(UNIT_HDRS) $(A)/lib/libsealnet.a
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -o $@ $< $(UNIT_HELPERS) \
		$(call link_lib,$(A)/lib/libsealnet.a) $(UNIT_LDLIBS)

unit-asan: $(A_UNIT_BINS)
	$(call run_tests,$(A_UNIT_BINS),$(SAN_ENV))

# The programs, for tests/integration/asan.sh (SN_BIN=build-asan/bin).
asan_app_objs = $(patsubst %.c,$(A)/obj/%.o,$(wildcard apps/$(1)/*.c))
$(A)/bin/%: $$(call asan_app_objs,$$*) $(A)/lib/libsealnet.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $(filter %.o,$^) \
		$(call link_lib,$(A)/lib/libsealnet.a) $(LDLIBS)

asan: $(A_APP_BINS) $(A_UNIT_BINS)

# ---- Fuzzing -------------------------------------------------------------------------

F            := build-fuzz
FUZZ_CC      ?= clang
# Per target: fuzz-run runs two, about 2 minutes in all by default.
FUZZ_SECONDS ?= 50
# Longest input: H_FRAME_MAX, an mbuf's data room.
FUZZ_MAX_LEN := 2048
# SN_HARNESS_CLOCK: the clock is the harness's (stack/sn_sys.c), in this
# build only.
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -O1 \
	-DSN_HARNESS_CLOCK
F_OBJS       := $(patsubst %.c,$(F)/obj/%.o,$(SN_SRCS) $(UNIT_HELPERS) tests/fuzz/fuzz_reset.c) \
	$(patsubst $(LWIP)/%.c,$(F)/obj/lwip/%.o,$(LWIP_SRCS))

$(F)/obj/lwip/%.o: $(LWIP)/%.c stack/lwipopts.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(LWIP_CFLAGS) $(FUZZ_SAN) -MMD -c $< -o $@

$(F)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -Itests/unit $(FUZZ_SAN) -MMD -c $< -o $@

$(F)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_reset.h $(F_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -Itests/unit -Itests/fuzz -fsanitize=fuzzer,address,undefined \
		-fno-omit-frame-pointer -O1 -DSN_HARNESS_CLOCK -o $@ $< $(F_OBJS) $(LDLIBS)

# Seed corpus: valid frames from a generator (checked in as source only).
$(F)/gen_seeds: tests/fuzz/gen_seeds.c tests/unit/frames.c tests/unit/frames.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -Itests/unit -o $@ $< tests/unit/frames.c

$(F)/seeds/.done: $(F)/gen_seeds
	rm -rf $(F)/seeds
	mkdir -p $(F)/seeds
	$(F)/gen_seeds $(F)/seeds
	touch $@

$(F)/gen_esp_seeds: tests/fuzz/gen_esp_seeds.c tests/unit/frames.c tests/unit/frames.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -std=gnu11 -Wall -Itests/unit -o $@ $< tests/unit/frames.c

$(F)/esp_seeds/.done: $(F)/gen_esp_seeds
	rm -rf $(F)/esp_seeds
	mkdir -p $(F)/esp_seeds
	$(F)/gen_esp_seeds $(F)/esp_seeds
	touch $@

fuzz: $(F)/fuzz_frame $(F)/seeds/.done $(F)/fuzz_esp $(F)/esp_seeds/.done

# -entropic=0: libFuzzer's entropic schedule (clang 14) spent 83% of fuzz_esp's
# time in its own feature bookkeeping once the corpus had grown (a kept
# corpus of 500 inputs: 120 inputs/s, against 6,000/s without it).
FUZZ_FLAGS   ?= -entropic=0

# fuzz_one NAME,SEEDS,SECONDS,RUNS: fuzz NAME from its corpus (new inputs go
# to build-fuzz/corpus/NAME, kept between runs) and SEEDS; crashes to
# build-fuzz/artifacts/NAME-*. libFuzzer exits non-zero on a crash, a leak,
# a sanitizer report or an input slower than 10 s.
define fuzz_one
	@mkdir -p $(F)/corpus/$(1) $(F)/artifacts
	$(SAN_ENV) timeout -k 10 $$(( $(3) + 120 )) $(F)/$(1) \
		-max_total_time=$(3) -runs=$(4) -max_len=$(FUZZ_MAX_LEN) -rss_limit_mb=4096 \
		-timeout=10 -print_final_stats=1 $(FUZZ_FLAGS) -artifact_prefix=$(F)/artifacts/$(1)- \
		$(F)/corpus/$(1) $(F)/$(2)

endef

# Every input does the same whatever ran before it (tests/fuzz/same_state.sh),
# over the seeds and the corpus; and without the resets between inputs
# (FUZZ_KEEP_STATE) the check must fail on fuzz_frame's seeds (the first
# fragment of one seed completes another's datagram).
define fuzz_same_state
	$(SAN_ENV) tests/fuzz/same_state.sh $(F)/fuzz_frame $(F)/seeds $(F)/corpus/fuzz_frame
	$(SAN_ENV) tests/fuzz/same_state.sh $(F)/fuzz_esp $(F)/esp_seeds $(F)/corpus/fuzz_esp
	@if $(SAN_ENV) FUZZ_KEEP_STATE=1 tests/fuzz/same_state.sh $(F)/fuzz_frame \
		$(F)/seeds >/dev/null; then \
		echo "same_state.sh did not see state left between inputs"; exit 1; fi
endef

fuzz-run: fuzz
	$(call fuzz_one,fuzz_frame,seeds,$(FUZZ_SECONDS),-1)
	$(call fuzz_one,fuzz_esp,esp_seeds,$(FUZZ_SECONDS),-1)
	$(fuzz_same_state)

# Nightly: ten million executions of each fit (fuzz_esp runs well above
# 5,000 inputs per second on one core, fuzz_frame above 10,000).
FUZZ_LONG_SECONDS ?= 3600
FUZZ_LONG_RUNS    ?= 10000000
fuzz-long: FUZZ_SECONDS = $(FUZZ_LONG_SECONDS)
fuzz-long: fuzz
	$(call fuzz_one,fuzz_frame,seeds,$(FUZZ_SECONDS),$(FUZZ_LONG_RUNS))
	$(call fuzz_one,fuzz_esp,esp_seeds,$(FUZZ_SECONDS),$(FUZZ_LONG_RUNS))
	$(fuzz_same_state)

# fuzz_ike_parse: the IKEv2 parsers alone (they are pure), with the builder
# for a parse-build-parse check; part of fuzz, fuzz-run (FUZZ_IKE_SECONDS:
# the parsers are fast and stateless) and fuzz-long.
FUZZ_IKE_SECONDS ?= 20
.PHONY: fuzz-ike-run fuzz-ike-long
fuzz: $(F)/fuzz_ike_parse
fuzz-run: fuzz-ike-run
fuzz-long: fuzz-ike-long
$(F)/fuzz_ike_parse: tests/fuzz/fuzz_ike_parse.c $(F)/obj/ipsec/ike/ike_parse.o \
		$(F)/obj/ipsec/ike/ike_build.o
	@mkdir -p $(dir $@) $(F)/ike_seeds
	$(FUZZ_CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-omit-frame-pointer -O1 -o $@ $^
fuzz-ike-run: $(F)/fuzz_ike_parse
	$(call fuzz_one,fuzz_ike_parse,ike_seeds,$(FUZZ_IKE_SECONDS),-1)
fuzz-ike-long: $(F)/fuzz_ike_parse
	$(call fuzz_one,fuzz_ike_parse,ike_seeds,$(FUZZ_SECONDS),$(FUZZ_LONG_RUNS))

# fuzz_ike_conf: the --ike-conf parser alone (pure), from the seed files in
# tests/fuzz/ike_conf_seeds; part of fuzz, fuzz-run (FUZZ_IKE_SECONDS) and fuzz-long.
.PHONY: fuzz-ike-conf-run fuzz-ike-conf-long
fuzz: $(F)/fuzz_ike_conf
fuzz-run: fuzz-ike-conf-run
fuzz-long: fuzz-ike-conf-long
$(F)/fuzz_ike_conf: tests/fuzz/fuzz_ike_conf.c $(F)/obj/ipsec/ike/ike_conf.o
	@mkdir -p $(dir $@) $(F)/ike_conf_seeds
	cp tests/fuzz/ike_conf_seeds/* $(F)/ike_conf_seeds/
	$(FUZZ_CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-omit-frame-pointer -O1 -o $@ $^
fuzz-ike-conf-run: $(F)/fuzz_ike_conf
	$(call fuzz_one,fuzz_ike_conf,ike_conf_seeds,$(FUZZ_IKE_SECONDS),-1)
fuzz-ike-conf-long: $(F)/fuzz_ike_conf
	$(call fuzz_one,fuzz_ike_conf,ike_conf_seeds,$(FUZZ_SECONDS),$(FUZZ_LONG_RUNS))

-include $(shell find $(A)/obj $(F)/obj -name '*.d' 2>/dev/null)
