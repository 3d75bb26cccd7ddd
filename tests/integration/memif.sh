#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Two stack processes over memif (shared memory), sn-perf between them.
#
#   sealnet A (lcore 0)                          sealnet B (lcore 1)
#   sn-perf server :5201                         sn-perf client
#   198.51.100.1/24                              198.51.100.2/24
#   --dev memif:$RUNDIR/memif.sock,server <----> --dev memif:$RUNDIR/memif.sock,client
#
# One server; clients in turn: tcp-stream (verified data, both directions:
# normal and --reverse), then udp-stream, tcp-rr and tcp-crr briefly. Every client
# must exit 0 with errors == 0; the server must exit 0 on SIGTERM. Then one
# more pair with --stats: both sides' port counters (frames and bytes, in
# and out) are non-zero at exit, the server's too, whose client has gone
# by then (memif's server side forgets its counters when the client
# leaves). No kernel interface is involved, so no namespace is needed.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_bins sn-perf
make_workdir
make_rundir
sweep_stale
hp_ensure "$SN_HUGEPAGES"
info "memif socket $RUNDIR/memif.sock, programs from $SN_BIN"
perf_suite "memif:$RUNDIR/memif.sock,server" "memif:$RUNDIR/memif.sock,client" \
	"${SN_STREAM_SECONDS:-3}" "${SN_SHORT_SECONDS:-2}"

# port_counters_moved LOG: --stats printed port.{i,o}{packets,bytes} > 0.
port_counters_moved() {
	local c v
	for c in ipackets opackets ibytes obytes; do
		v=$(awk -v k="port.$c" '$1 == k {print $2}' "$1" | tail -n 1)
		echo "port.$c ${v:-missing}"
		[ -n "$v" ] && [ "$v" -gt 0 ] || return 1
	done
}
SOCK=$RUNDIR/stats.sock
start_server spid "$WORK/stats-server.log" - sn-perf server --port 5202 \
	--dev "memif:$SOCK,server" --addr 198.51.100.1/24 --lcore 0 --stats || finish
rc=0
perf_client "$WORK/stats-client.log" 40 --dev "memif:$SOCK,client" --addr 198.51.100.2/24 \
	--lcore 1 --connect 198.51.100.1:5202 --mode tcp-rr --seconds 1 --stats || rc=$?
perf_check "sn-perf tcp-rr 1s, both sides with --stats" "$WORK/stats-client.log" "$rc"
stop_server "$spid" "sn-perf server --stats" "$WORK/stats-server.log"
check "client --stats: port counters non-zero" port_counters_moved "$WORK/stats-client.log"
check "server --stats: port counters non-zero after its client left" \
	port_counters_moved "$WORK/stats-server.log"
finish
