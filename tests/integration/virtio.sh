#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Two stack processes over virtio: a virtio NIC (net_virtio_user) against a
# vhost-user back end (net_vhost), as a VM's NIC would be.
#
#   sealnet A (lcore 0)                          sealnet B (lcore 1)
#   sn-perf server :5201                         sn-perf client
#   198.51.100.1/24                              198.51.100.2/24
#   --dev vhost:$RUNDIR/vhost.sock  <----------> --dev virtio:$RUNDIR/vhost.sock
#   (vhost-user back end; creates the socket)    (virtio front end; connects)
#
# Same runs as memif.sh: tcp-stream both ways, udp-stream, tcp-rr, tcp-crr.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_bins sn-perf
make_workdir
make_rundir
sweep_stale
hp_ensure "$SN_HUGEPAGES"
info "vhost-user socket $RUNDIR/vhost.sock, programs from $SN_BIN"
# The vhost side is the server, so it exists before the virtio side connects.
perf_suite "vhost:$RUNDIR/vhost.sock" "virtio:$RUNDIR/vhost.sock" \
	"${SN_STREAM_SECONDS:-3}" "${SN_SHORT_SECONDS:-2}"
finish
