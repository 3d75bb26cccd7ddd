#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A memif server that keeps polling while its clients come and go.
#
#   sn-perf server (memif server, lcore 0)  <---->  sn-perf client (lcore 1), N times
#
# Each round a client connects, streams (server -> client, so the server's
# TX burst is busy), and then leaves: odd rounds exit normally after their
# --seconds, even rounds are SIGKILLed mid-stream. Each time the peer goes,
# DPDK's memif PMD unmaps the shared regions from its interrupt thread while
# the server's poll loop may be inside a burst on them (see
# dpdk/sn_memif_guard.c). The server must survive every round, still be
# answering at the end, exit 0 on SIGTERM, and leave no socket file behind.
#
# The server runs with memif_slowburst.c preloaded: a 1 ms timer stops
# its poll thread for 50 ms whenever it finds it inside the memif PMD, as a
# preemption on a busy machine would, so a disconnect very likely finds a
# burst in progress. The old code then crashed in 10 of 40 rounds (SIGSEGV
# in eth_memif_rx, on the ring's first read after its connected check), so
# 12 rounds catch it about 97 times in 100. The server's port.memif_fault
# at exit tells how many bursts the guard cut short.
# SN_DISCONNECT_SLOW=0 runs it without the shim (then nothing forces the
# race); SN_DISCONNECT_HOG=1 adds a
# CPU hog on the server's CPU (real preemption: the old code crashed about
# once in 60 rounds so).
#
# SN_DISCONNECT_ROUNDS (default 12) bounds the run (~2.5 s a round); use a
# few hundred to measure a crash rate: with SN_DISCONNECT_KEEP_GOING=1 a
# crashed server is counted and restarted instead of ending the run.
# SN_DISCONNECT_CORES=1 lets a crash dump core (in the working directory).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_bins sn-perf
make_workdir
make_rundir
sweep_stale
hp_ensure "$SN_HUGEPAGES"
ROUNDS=${SN_DISCONNECT_ROUNDS:-12}
KEEP_GOING=${SN_DISCONNECT_KEEP_GOING:-0}
SLOW=${SN_DISCONNECT_SLOW:-1}
[ "${SN_DISCONNECT_CORES:-0}" = 1 ] || ulimit -c 0
SHIM=
if [ "$SLOW" = 1 ]; then
	SHIM=$WORK/slowburst.so
	cc -O2 -Wall -Werror -shared -fPIC -o "$SHIM" \
		"$SN_ROOT/tests/integration/memif_slowburst.c" -lrt || die "cannot build memif_slowburst.c"
	info "server with memif_slowburst.c preloaded (50 ms stops inside the memif PMD)"
fi
if [ "${SN_DISCONNECT_HOG:-0}" = 1 ]; then
	taskset -c 0 sh -c 'while :; do :; done' &
	hog=$!
	track_pid "$hog"
	info "a CPU hog (pid $hog) shares CPU 0 with the server"
fi
SOCK=$RUNDIR/disc.sock
SRV=(sn-perf server --port 5203 --dev "memif:$SOCK,server" --addr 198.51.100.1/24 --lcore 0 --stats)
CLI=(--dev "memif:$SOCK,client" --addr 198.51.100.2/24 --lcore 1 --connect 198.51.100.1:5203
	--mode tcp-stream --reverse)

# start_srv: the server, the shim preloaded if asked (the server only: it
# is the one polling while its peer goes).
start_srv() {
	if [ -n "$SHIM" ]; then
		LD_PRELOAD=$SHIM start_server spid "$WORK/server.log" - "${SRV[@]}"
	else
		start_server spid "$WORK/server.log" - "${SRV[@]}"
	fi
}
start_srv || finish
crashes=0 restarts=0
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then
		timeout -k 2 20 "$SN_BIN/sn-perf" client "${CLI[@]}" --seconds 1 \
			>"$WORK/client.log" 2>&1
	else
		"$SN_BIN/sn-perf" client "${CLI[@]}" --seconds 10 >"$WORK/client.log" 2>&1 &
		cpid=$!
		track_pid "$cpid"
		sleep 1.5
		kill -KILL "$cpid" 2>/dev/null
		wait "$cpid" 2>/dev/null
		_sn_forget "$cpid"
	fi
	sleep 0.3   # the server's interrupt thread sees the hang-up meanwhile
	if ! kill -0 "$spid" 2>/dev/null; then
		wait "$spid" 2>/dev/null
		src=$?
		_sn_forget "$spid"
		crashes=$((crashes + 1))
		info "round $r: server died (status $src)"
		tail -n 5 "$WORK/server.log" | sed 's/^/  | /'
		cp "$WORK/server.log" "$WORK/server-crash-$r.log"
		if [ "$KEEP_GOING" != 1 ]; then
			fail "server survived $((r - 1)) client disconnects, died at round $r (status $src)"
			finish
		fi
		rm -f "$SOCK"
		restarts=$((restarts + 1))
		start_srv || finish
	fi
done
info "rounds $ROUNDS, server crashes $crashes"
check "server survived $ROUNDS client disconnects ($crashes crashes)" test "$crashes" = 0
rc=0
perf_client "$WORK/last.log" 40 "${CLI[@]}" --seconds 1 || rc=$?
perf_check "a client after $ROUNDS disconnects still gets a stream" "$WORK/last.log" "$rc"
stop_server "$spid" "memif server after $ROUNDS disconnects" "$WORK/server.log"
[ -n "${hog:-}" ] && { stop_pid "$hog" 1 >/dev/null 2>&1; }
# How many bursts the guard cut short: told, not checked. The shim makes a
# fault likely each round (the old code crashed in 10 of 40), not certain:
# 12 rounds with none happen about once in 30 runs, and CI must not fail
# then. The survival checks above are the assertions.
grep -E '^port\.memif_fault' "$WORK/server.log" | sed 's/^/  /'
check "no memif socket file left behind" test ! -e "$SOCK"
finish
