#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# snctl against a running program: the control socket appears, answers
# `stats` with the counters --stats prints, `help`, and an
# error for an unknown command; it goes away when the program stops.
# `snctl xfrm` changes SAs and policies while it runs (ip xfrm's grammar:
# add, update, delete, get, deleteall, list, flush) and `snctl ipsec sa`
# shows lifetimes and replay state; an --ipsec-conf line that would not
# install stops the program with FILE:LINE: why, exit 2.
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

K1=$(hexkey 20) K2=$(hexkey 20)
SA1="state add src 192.0.2.9 dst 192.0.2.1 proto esp spi 0x1001 reqid 1 aead 'rfc4106(gcm(aes))' $K1 128"
SA2="state add src 192.0.2.1 dst 192.0.2.9 proto esp spi 7 replay-window 0 flag af-unspec aead 'rfc4106(gcm(aes))' $K2 128 limit time-hard 0 byte-hard 0"
printf '# two SAs\n%s\n%s\n' "$SA1" "$SA2" >"$WORK/ok.conf"
printf '%s\n%s\n%s\n' "$SA1" "$SA2" "$SA2" >"$WORK/dup.conf"

# dup_conf_exit: the third line installs an SA twice: exit 2, FILE:3: why.
dup_conf_exit() {
	local rc=0
	timeout 30 "$SN_BIN/sn-echo" --port 7 --dev null --addr 192.0.2.9/24 \
		--ipsec-conf "$WORK/dup.conf" >"$WORK/dup.log" 2>&1 || rc=$?
	cat "$WORK/dup.log"
	[ "$rc" = 2 ] && grep -q "$WORK/dup.conf:3: state add: an SA with spi 0x00000007 dst 192.0.2.9 proto esp exists" "$WORK/dup.log"
}
check "--ipsec-conf: a duplicate SA is FILE:3: why, exit 2" dup_conf_exit

start_server pid "$WORK/echo.log" - sn-echo --port 7 --dev null --addr 192.0.2.9/24 \
	--ipsec-conf "$WORK/ok.conf" || die "sn-echo did not start"
sock="$RUNDIR/sn-echo.$pid.sock"
check "control socket $sock exists" test -S "$sock"
check "snctl list names it" bash -c "'$SN_BIN/snctl' list | grep -qx '$sock'"
check "snctl stats: received frames counted" bash -c \
	"'$SN_BIN/snctl' --pid $pid stats | awk '\$1 == \"stack.rx_frames\" && \$2 > 0 {f = 1} END {exit !f}'"
check "snctl help lists stats" bash -c "'$SN_BIN/snctl' --sock '$sock' help | grep -q '^stats'"
check "unknown command: exit 1 with an error line" bash -c \
	"'$SN_BIN/snctl' --pid $pid bogus | grep -q '^error: unknown command'; [ \${PIPESTATUS[0]} = 1 ]"
check "no program: exit 3" bash -c "'$SN_BIN/snctl' --pid 1 stats; [ \$? = 3 ]"

# ---- IPsec at run time ------------------------------------------------------------
ctl() { "$SN_BIN/snctl" --pid "$pid" "$@"; }
# fails CMD...: the command answers an error line and exits 1.
fails() { local out rc=0; out=$(ctl "$@") || rc=$?; echo "$out"; [ "$rc" = 1 ] && grep -q '^error: ' <<<"$out"; }
check "start: replay-window 0 warned about, once, on stderr" bash -c \
	"[ \$(grep -c 'warning: $WORK/ok.conf:3: replay-window 0: anti-replay is off' '$WORK/echo.log') = 1 ]"
check "start: SPI 7 warned about" grep -q "ok.conf:3: spi: SPIs 1-255 are reserved" "$WORK/echo.log"
check "ipsec sa: no lifetime unless a limit says so" bash -c \
	"ctl() { '$SN_BIN/snctl' --pid $pid \"\$@\"; }; ctl ipsec sa | grep -q 'expire add: soft (INF)(sec), hard (INF)(sec)' && ! ctl ipsec sa | grep -q 3600"
check "ipsec sa: replay state, lifetime use and counters" bash -c \
	"out=\$('$SN_BIN/snctl' --pid $pid ipsec sa); grep -q 'replay-window 1024, bitmap-length 32' <<<\"\$out\" &&
	 grep -q 'replay-window 0: anti-replay off' <<<\"\$out\" && grep -q 'lifetime current:' <<<\"\$out\" &&
	 grep -q 'in 0(packets) 0(bytes), out 0(packets) 0(bytes), drops 0' <<<\"\$out\""
check "xfrm state list: both SAs, no key" bash -c \
	"out=\$('$SN_BIN/snctl' --pid $pid xfrm state list); grep -q 'spi 0x00001001' <<<\"\$out\" &&
	 grep -q 'spi 0x00000007' <<<\"\$out\" && ! grep -q '${K1#0x}' <<<\"\$out\""
check "xfrm state get" bash -c "'$SN_BIN/snctl' --pid $pid xfrm state get dst 192.0.2.1 proto esp spi 0x1001 | grep -q 'reqid 1 mode transport'"
# exists_again LINE: LINE (shell quotes) sent again is refused as a duplicate.
exists_again() { eval "set -- $1"; fails xfrm "$@" | tee /dev/stderr | grep -q 'state add: an SA with spi 0x00001001 dst 192.0.2.1 proto esp exists'; }
check "xfrm state add of an existing SA: error naming it, exit 1" exists_again "$SA1"
check "xfrm state update" ctl xfrm state update src 192.0.2.9 dst 192.0.2.1 proto esp spi 0x1001 reqid 5 \
	aead 'rfc4106(gcm(aes))' "$(hexkey 20)" 128
check "xfrm state list reqid 5: the updated SA" bash -c "'$SN_BIN/snctl' --pid $pid xfrm state list reqid 5 | grep -q 'spi 0x00001001'"
check "xfrm state delete" ctl xfrm state delete src 192.0.2.9 dst 192.0.2.1 proto esp spi 0x1001
check "xfrm state delete again: no such SA, exit 1" fails xfrm state delete dst 192.0.2.1 proto esp spi 0x1001
check "xfrm policy add" ctl xfrm policy add src 192.0.2.9/32 dst 192.0.2.1/32 proto udp dir out \
	tmpl proto esp mode transport reqid 1
check "xfrm policy add again: exit 1" fails xfrm policy add src 192.0.2.9/32 dst 192.0.2.1/32 proto udp dir out
check "xfrm policy list" bash -c "'$SN_BIN/snctl' --pid $pid xfrm policy list dir out | grep -q 'src 192.0.2.9/32 dst 192.0.2.1/32 proto 17'"
check "xfrm policy update" ctl xfrm policy update src 192.0.2.9/32 dst 192.0.2.1/32 proto udp dir out priority 9
check "xfrm policy get" bash -c "'$SN_BIN/snctl' --pid $pid xfrm policy get src 192.0.2.9/32 dst 192.0.2.1/32 proto udp dir out | grep -q 'dir out priority 9'"
check "xfrm policy delete" ctl xfrm policy delete src 192.0.2.9/32 dst 192.0.2.1/32 proto udp dir out
check "xfrm policy delete again: exit 1" fails xfrm policy delete src 192.0.2.9/32 dst 192.0.2.1/32 proto udp dir out
check "xfrm policy flush" ctl xfrm policy flush
check "xfrm state deleteall" ctl xfrm state deleteall dst 192.0.2.9
check "xfrm state flush, then list is empty" bash -c \
	"'$SN_BIN/snctl' --pid $pid xfrm state flush && [ \"\$('$SN_BIN/snctl' --pid $pid xfrm state list)\" = ok ]"
check "xfrm: a bad line is one error line, exit 1" fails xfrm state remove dst 192.0.2.1
stop_server "$pid" sn-echo "$WORK/echo.log"
check "control socket removed at exit" test ! -e "$sock"
finish
