#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# An integration scenario with the programs built with AddressSanitizer and
# UndefinedBehaviorSanitizer (`make asan` -> build-asan/bin): any sanitizer report
# fails the run, and so does a leak at exit.
#
#   1. memif.sh, shortened: two stack processes over memif, sn-perf tcp-stream
#      (2 s, both ways), udp-stream, tcp-rr, tcp-crr (1 s each).
#   2. the echo phase of tap_kernel.sh, shortened: sn-echo in TAP mode against the
#      kernel in a namespace: ping, 4 MiB TCP echo, UDP echo, 200 connections, and
#      the malformed frames, where memory errors are most likely to show.
# Topologies: see those scripts. SN_BIN defaults to build-asan/bin here.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export SN_BIN=${SN_BIN:-$HERE/../../build-asan/bin}

# halt_on_error: the first report ends the process with a non-zero status, which
# the scripts see. DPDK's own allocations at exit are not ours to report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=66}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=67}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/lsan.supp:print_suppressions=0}
# Sanitized start-up is slower.
export SN_READY_TIMEOUT=${SN_READY_TIMEOUT:-60}

rc=0
echo "[asan] programs from $SN_BIN"
SN_STREAM_SECONDS=2 SN_SHORT_SECONDS=1 bash "$HERE/memif.sh" || rc=1
SN_TAP_PHASES=echo SN_BULK_MIB=4 SN_CONNS=200 bash "$HERE/tap_kernel.sh" || rc=1
exit "$rc"
