#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# `make demo`: two sealnet processes talking over memif, for a human to watch.
#
#   process A (lcore 0)                              process B (lcore 1)
#   198.51.100.1/24                                  198.51.100.2/24
#   sn-httpd :8080, then sn-perf server   <-memif->  sn-fetch, then sn-perf client
#   --dev memif:/run/sealnet-test-.../memif.sock,server        ...,client
#
# 1. sn-httpd serves a generated 8 MiB file; sn-fetch fetches it through the
#    stack; the SHA-256 of what arrived must match the original.
# 2. sn-perf tcp-stream for 3 s (data verified by the receiver): Gbit/s.
# Exit 0 iff both steps worked. Cleans up its processes, socket and files.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

A=(--addr 198.51.100.1/24 --lcore 0)
B=(--addr 198.51.100.2/24 --lcore 1)
SECS=${DEMO_SECONDS:-3}

step() { printf '\n== %s\n' "$*"; }
line() { printf '   %s\n' "$*"; }

demo_fetch() {
	local hpid out=$WORK/fetched.bin want got rc=0 printed
	head -c $((8 << 20)) /dev/urandom >"$WORK/www/demo.bin"
	want=$(sha256sum <"$WORK/www/demo.bin" | cut -d' ' -f1)
	line "generated www/demo.bin: 8388608 random bytes, sha256 $want"
	start_server hpid "$WORK/httpd.log" - sn-httpd --dev "memif:$SOCK,server" "${A[@]}" \
		--port 8080 --root "$WORK/www" || return 1
	line "A: sn-httpd ready on 198.51.100.1:8080"
	line "B: sn-fetch --url http://198.51.100.1:8080/demo.bin --output fetched.bin --sha256"
	run_fg timeout -k 5 60 "$SN_BIN/sn-fetch" --dev "memif:$SOCK,client" "${B[@]}" \
		--url http://198.51.100.1:8080/demo.bin --output "$out" --sha256 >"$WORK/fetch.log" 2>&1 || rc=$?
	stop_pid "$hpid" >/dev/null 2>&1
	if [ "$rc" != 0 ] || [ ! -f "$out" ]; then
		line "sn-fetch failed (exit $rc)"
		show_log "$WORK/fetch.log" 20
		return 1
	fi
	# What sn-fetch itself says (status, sha256), without DPDK's log lines.
	printed=$(grep -viE '^((EAL|TELEMETRY|MEMIF|VHOST|USER1|PMD|ETHDEV|MBUF)[^ ]*|[a-z_0-9]+\(\)):' "$WORK/fetch.log" | tail -n 5)
	[ -n "$printed" ] && printf '%s\n' "$printed" | sed 's/^/   sn-fetch> /'
	got=$(sha256sum <"$out" | cut -d' ' -f1)
	line "received $(stat -c %s "$out") bytes, sha256 $got"
	if [ "$got" = "$want" ]; then
		line "SHA-256 matches the original"
		return 0
	fi
	line "SHA-256 DIFFERS from the original"
	return 1
}

demo_perf() {
	local ppid rc=0 js
	start_server ppid "$WORK/perf.log" - sn-perf server --dev "memif:$SOCK,server" "${A[@]}" --port 5201 ||
		return 1
	line "A: sn-perf server ready on 198.51.100.1:5201"
	line "B: sn-perf client --mode tcp-stream --seconds $SECS"
	perf_client "$WORK/perf-client.log" $((SECS + 40)) --dev "memif:$SOCK,client" "${B[@]}" \
		--connect 198.51.100.1:5201 --mode tcp-stream --seconds "$SECS" || rc=$?
	stop_pid "$ppid" >/dev/null 2>&1
	js=$(json_line "$WORK/perf-client.log")
	if [ "$rc" != 0 ] || [ -z "$js" ]; then
		line "sn-perf client failed (exit $rc)"
		show_log "$WORK/perf-client.log" 20
		return 1
	fi
	jq -r '"   \(.gbps * 100 | round / 100) Gbit/s over \(.seconds) s, \(.bytes) bytes, \(.errors // 0) errors (data verified by the receiver)"' <<<"$js"
	jq -e '(.errors // 0) == 0' >/dev/null <<<"$js"
}

main() {
	require_root
	require_bins sn-httpd sn-fetch sn-perf
	make_workdir
	make_rundir
	sweep_stale
	hp_ensure "$SN_HUGEPAGES" >/dev/null
	mkdir -p "$WORK/www"
	SOCK=$RUNDIR/memif.sock
	printf 'sealnet demo: two stack processes joined by memif (shared memory), one lcore each\n'
	printf '   A 198.51.100.1 (lcore 0)  <-- memif %s -->  B 198.51.100.2 (lcore 1)\n' "$SOCK"
	local ok=0
	step "1/2 HTTP: sn-httpd in A, sn-fetch in B"
	demo_fetch || ok=1
	step "2/2 throughput: sn-perf tcp-stream, B -> A"
	demo_perf || ok=1
	echo
	if [ "$ok" = 0 ]; then echo "demo: OK"; else echo "demo: FAILED"; fi
	exit "$ok"
}

main "$@"
