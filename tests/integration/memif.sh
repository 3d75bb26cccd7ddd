#!/bin/bash
# Two stack processes over memif (shared memory), sn-perf between them.
#
#   sealnet A (lcore 0)                          sealnet B (lcore 1)
#   sn-perf server :5201                         sn-perf client
#   198.51.100.1/24                              198.51.100.2/24
#   --dev memif:$RUNDIR/memif.sock,server <----> --dev memif:$RUNDIR/memif.sock,client
#
# One server; clients in turn: tcp-stream (verified data, both directions:
# normal and --reverse), then udp-stream, tcp-rr and tcp-crr briefly. Every client
# must exit 0 with errors == 0; the server must exit 0 on SIGTERM. No kernel
# interface is involved, so no namespace is needed.
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
finish
