#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A program of one's own against an installed sealnet, as a user builds it.
#
#   make install PREFIX=$WORK/prefix
#   cc hello.c $(pkg-config --cflags --libs sealnet)            -> hello-shared
#   cc hello.c $(pkg-config --static --cflags --libs sealnet)   -> hello-static
#
# Checks: pkg-config hands out the headers' flags only (no DPDK build flags)
# and the headers need no DPDK header; both programs link and run (sn_start,
# then a TCP echo through the stack over --dev null); the static one does
# not need libsealnet.so; the shared library exports exactly the sn_*
# functions the public headers declare, and the static one has no other
# global name, so a program defining lwIP's names (tcp_new, pbuf_alloc)
# links and runs both ways. The common options: --help, -h, --version exit
# 0 (in hello and every installed program, snctl too); --lcore 99 prints one
# line and exits 2. A TAP start prints nothing.
# Leftovers: no /var/run/dpdk/snPID after a clean exit; a program killed
# with SIGKILL leaves its directory and its huge pages, and the next start
# removes the one and gives the others back.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
make_workdir
sweep_stale
P=$WORK/prefix
SRC=$SN_ROOT/tests/integration/hello.c
DPDK_RUN=/var/run/dpdk
ARGS=(--dev null --addr 10.0.0.1/24)

check "make install PREFIX=$P" make -C "$SN_ROOT" -s install PREFIX="$P" || finish
export PKG_CONFIG_PATH=$P/lib/pkgconfig
info "pkg-config --cflags: $(pkg-config --cflags sealnet)"

cflags_are_headers_only() {
	local f
	f=$(pkg-config --cflags sealnet) || return 1
	[ "$(echo $f)" = "-I$P/include" ] || { echo "cflags: $f"; return 1; }
}
check "pkg-config --cflags is -I\$includedir only (no -include rte_config.h, no -march)" \
	cflags_are_headers_only

headers_alone() {
	printf '#include <sealnet/sealnet.h>\nint main(void) { return sn_poll(); }\n' |
		cc -Wall -Werror -fsyntax-only -I"$P/include" -x c -
}
check "the installed headers compile without DPDK's" headers_alone

# build NAME EXTRA_CFLAGS PKG_CONFIG_ARGS...: cc hello.c with pkg-config's flags only.
build() {
	local out=$WORK/$1 extra=$2; shift 2
	# shellcheck disable=SC2046,SC2086  # pkg-config output is word lists
	cc $extra -o "$out" "$SRC" $(pkg-config "$@" sealnet)
}
check "cc hello.c \$(pkg-config --cflags --libs sealnet)" build hello-shared "" --cflags --libs
check "cc hello.c \$(pkg-config --static --cflags --libs sealnet)" build hello-static "" --static --cflags --libs
check "with lwIP's names defined by the program (shared)" \
	build clash-shared -DDEFINE_LWIP_NAMES --cflags --libs
check "with lwIP's names defined by the program (static)" \
	build clash-static -DDEFINE_LWIP_NAMES --static --cflags --libs

links_shared() { readelf -d "$WORK/hello-shared" | grep -q 'NEEDED.*\[libsealnet\.so\.0\]'; }
links_static() {
	local dyn syms
	dyn=$(readelf -d "$WORK/hello-static") && syms=$(nm "$WORK/hello-static") || return 1
	! grep -q 'NEEDED.*libsealnet' <<<"$dyn" && grep -Eq ' T sn_start$' <<<"$syms"
}
check "hello-shared needs libsealnet.so.0" links_shared
check "hello-static has sealnet inside and does not need libsealnet.so" links_static

# run_and_check_dir LOG PROG ARGS...: runs to "hello: ok", exit 0, nothing on
# stderr (DPDK logs errors only), and its EAL directory is gone afterwards.
run_and_check_dir() {
	local log=$WORK/$1 prog=$2 pid rc=0; shift 2
	LD_LIBRARY_PATH=$P/lib "$prog" "$@" >"$log.out" 2>"$log.err" &
	pid=$!
	track_pid "$pid"
	wait "$pid" || rc=$?
	_sn_forget "$pid"
	cat "$log.out" "$log.err"
	[ "$rc" = 0 ] || { echo "exit $rc"; return 1; }
	grep -qx 'hello: ok' "$log.out" || return 1
	[ ! -s "$log.err" ] || { echo "stderr is not empty (DPDK must log errors only)"; return 1; }
	[ ! -e "$DPDK_RUN/sn$pid" ] || { echo "$DPDK_RUN/sn$pid left behind"; return 1; }
}
check "hello-shared runs (sn_start, TCP echo), quiet, leaves no $DPDK_RUN/snPID" \
	run_and_check_dir shared "$WORK/hello-shared" "${ARGS[@]}"
check "hello-static runs, quiet, leaves no $DPDK_RUN/snPID" \
	run_and_check_dir static "$WORK/hello-static" "${ARGS[@]}"
check "clash-shared runs: the library calls its own tcp_new and pbuf_alloc" \
	run_and_check_dir clash-shared "$WORK/clash-shared" "${ARGS[@]}"
check "clash-static runs" run_and_check_dir clash-static "$WORK/clash-static" "${ARGS[@]}"

# The names the installed headers declare (preprocessed: no comments).
header_names() {
	local h
	for h in "$P"/include/sealnet/*.h; do echo "#include <sealnet/${h##*/}>"; done |
		cc -E -P -I"$P/include" -x c - | tr '\n' ' ' |
		grep -oE '\bsn_[a-z0-9_]+[[:space:]]*\(' | tr -d ' (' | sort -u
}
exports_are_the_api() {
	local so=$P/lib/libsealnet.so.0 hdr exp
	hdr=$(header_names)
	# Type A is the version node (SEALNET_0), not a symbol.
	exp=$(nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort -u)
	echo "$(wc -l <<<"$exp") exported, $(wc -l <<<"$hdr") declared"
	[ "$(wc -l <<<"$hdr")" -ge 50 ] || { echo "too few names found in the headers"; return 1; }
	grep -v '^sn_' <<<"$exp" | head -n 20
	[ "$exp" = "$hdr" ] || { diff <(echo "$hdr") <(echo "$exp"); return 1; }
}
check "libsealnet.so exports exactly the sn_* functions of the public headers" exports_are_the_api

static_globals_are_the_api() {
	local g
	g=$(nm -g --defined-only "$P/lib/libsealnet.a" | awk 'NF == 3 {print $3}' | sort -u)
	grep -v '^sn_' <<<"$g" | head -n 20
	[ "$g" = "$(header_names)" ]
}
check "libsealnet.a defines no global name but the public sn_* ones" static_globals_are_the_api

# ---- common options -------------------------------------------------------------

opt_ok() {
	local out
	out=$("$WORK/hello-static" "$@") || return 1
	echo "$out"
	[ -n "$out" ]
}
check "--help exits 0 and prints usage" opt_ok --help
check "-h exits 0 and prints usage" sh -c "'$WORK/hello-static' -h | grep -q '^usage: hello'"
version_line() {
	local out v
	v=$(pkg-config --modversion sealnet)
	out=$("$WORK/hello-static" --version) || return 1
	echo "$out"
	[ "$out" = "hello sealnet $v" ]
}
check "--version prints 'hello sealnet VERSION', exit 0" version_line
installed_programs_options() {
	local v b n=0
	v=$(pkg-config --modversion sealnet)
	for b in "$P"/bin/*; do
		[ -x "$b" ] || continue
		n=$((n + 1))
		[ "$("$b" --version)" = "${b##*/} sealnet $v" ] || { echo "${b##*/} --version"; return 1; }
		"$b" -h >/dev/null 2>&1 || { echo "${b##*/} -h: exit $?"; return 1; }
		"$b" --help >/dev/null 2>&1 || { echo "${b##*/} --help: exit $?"; return 1; }
	done
	echo "$n programs"
	[ "$n" -ge 5 ]
}
check "installed programs: --version, -h, --help exit 0" installed_programs_options
lcore_99() {
	local rc=0 out
	out=$("$WORK/hello-static" "${ARGS[@]}" --lcore 99 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q -- '--lcore' <<<"$out"
}
check "--lcore 99: one line naming the option, exit 2" lcore_99

tap_quiet() {
	ip netns exec "$TNS" env LD_LIBRARY_PATH="$P/lib" timeout -k 5 60 "$WORK/hello-shared" \
		--dev "tap:snt${RUN_ID}" --addr 10.0.0.1/24 >"$WORK/tap.out" 2>"$WORK/tap.err" || return 1
	cat "$WORK/tap.out" "$WORK/tap.err"
	grep -qx 'hello: ok' "$WORK/tap.out" && [ ! -s "$WORK/tap.err" ]
}
make_netns TNS tap || die "cannot create a namespace"
check "a TAP start prints nothing but the program's own line" tap_quiet

# ---- what a killed program leaves -------------------------------------------------

killed_then_reclaimed() {
	local pid free rec n sock rc=0
	free=$(_hp HugePages_Free)
	# A reservation must happen: ask for more pages than are free.
	SN_HUGE_PAGES=$((free + 16)) "$WORK/hello-static" "${ARGS[@]}" wait >"$WORK/kill.out" 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_for_line "$WORK/kill.out" '^hello: ready' 30 "$pid" || { cat "$WORK/kill.out"; return 1; }
	rec=/run/sealnet/hugepages.$pid
	n=$(cat "$rec" 2>/dev/null)
	echo "pid $pid recorded ${n:-no} huge pages in $rec"
	[ -d "$DPDK_RUN/sn$pid" ] || { echo "no $DPDK_RUN/sn$pid while it runs"; return 1; }
	sock=${SN_RUNDIR:-/run/sealnet}/hello.$pid.sock
	[ -S "$sock" ] || { echo "no control socket $sock while it runs"; return 1; }
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	_sn_forget "$pid"
	[ -d "$DPDK_RUN/sn$pid" ] && [ -n "$n" ] && [ "$n" -gt 0 ] ||
		{ echo "expected the killed process's directory and record to be left"; return 1; }
	"$WORK/hello-static" "${ARGS[@]}" >"$WORK/next.out" 2>&1 || rc=$?
	cat "$WORK/next.out"
	[ "$rc" = 0 ] || return 1
	grep -q "gave back $n huge pages that process $pid reserved" "$WORK/next.out" || return 1
	[ ! -e "$rec" ] || { echo "$rec still there"; return 1; }
	[ ! -e "$DPDK_RUN/sn$pid" ] || { echo "$DPDK_RUN/sn$pid still there"; return 1; }
	[ ! -e "$sock" ] || { echo "$sock still there"; return 1; }
}
check "SIGKILL: the next start gives the huge pages back, removes the directory and the control socket" \
	killed_then_reclaimed

finish
