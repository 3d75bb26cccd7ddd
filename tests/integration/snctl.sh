#!/bin/bash
# snctl against a running program: the control socket appears, answers
# `stats` with the counters --stats prints, `help`, and an
# error for an unknown command; it goes away when the program stops.
#
#   sn-echo --dev null (net_null hands the stack a stream of junk frames)
#        ^
#        |  /run/sealnet-test-*/sn-echo.PID.sock  (SN_RUNDIR)
#        |
#   snctl stats | help | bogus
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_bins sn-echo snctl
make_workdir
make_rundir
sweep_stale
hp_ensure "$SN_HUGEPAGES"
export SN_RUNDIR=$RUNDIR

start_server pid "$WORK/echo.log" - sn-echo --port 7 --dev null --addr 192.0.2.9/24 ||
	die "sn-echo did not start"
sock="$RUNDIR/sn-echo.$pid.sock"
check "control socket $sock exists" test -S "$sock"
check "snctl list names it" bash -c "'$SN_BIN/snctl' list | grep -qx '$sock'"
check "snctl stats: received frames counted" bash -c \
	"'$SN_BIN/snctl' --pid $pid stats | awk '\$1 == \"stack.rx_frames\" && \$2 > 0 {f = 1} END {exit !f}'"
check "snctl help lists stats" bash -c "'$SN_BIN/snctl' --sock '$sock' help | grep -q '^stats'"
check "unknown command: exit 1 with an error line" bash -c \
	"'$SN_BIN/snctl' --pid $pid bogus | grep -q '^error: unknown command'; [ \${PIPESTATUS[0]} = 1 ]"
check "no program: exit 3" bash -c "'$SN_BIN/snctl' --pid 1 stats; [ \$? = 3 ]"
stop_server "$pid" sn-echo "$WORK/echo.log"
check "control socket removed at exit" test ! -e "$sock"
finish
