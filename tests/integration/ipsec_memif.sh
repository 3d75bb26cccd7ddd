#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ESP between two sealnet stacks: verified sn-perf streams over memif, and the
# same exchange on a wire tshark can see, checked for cleartext and decrypted
# by tshark with the keys.
#
# Part 1, memif (no kernel interface involved, so no capture is possible):
#
#   sealnet A (lcore 0)                          sealnet B (lcore 1)
#   sn-perf server :5201                         sn-perf client
#   198.51.100.1/24 --ipsec-conf a.conf <------> 198.51.100.2/24 --ipsec-conf b.conf
#        memif:$RUNDIR/memif.sock (AES-128-GCM transport, UDP and TCP port 5201)
#
# Part 2, the same two programs and configs on TAP devices joined by a wire
# (memif and vhost are shared memory; only a kernel device can be captured):
#
#   namespace snt-<pid>-<id>-w
#   +---------------------------------------------------------------------+
#   |  sealnet A: --dev tap:snt<id>a          sealnet B: --dev tap:snt<id>b |
#   |                 |                                   |               |
#   |     persistent TAP a  <-- tc ingress mirred -->  persistent TAP b    |
#   |                 ^                                                   |
#   |     dumpcap -i snt<id>a  (every frame A sends or receives)          |
#   +---------------------------------------------------------------------+
#
#   Not a Linux bridge: net_tap gives each kernel TAP the MAC of its stack's
#   port, and a bridge keeps its ports' own MACs as local fdb entries, so it
#   delivers B's frames for A's MAC to itself instead of forwarding them. A tc
#   ingress filter on each TAP (u32 match-all, mirred egress redirect to the
#   other) is a plain wire. The TAPs are created (multi_queue, persistent) and
#   wired before either stack starts; net_tap attaches to an existing device.
#
# Checks: tcp-stream (both directions) and udp-stream verified (errors 0) with
# ESP in both parts; both stacks counted ESP in and out (snctl) and no ipsec
# drops; the capture holds ESP and no cleartext TCP/UDP of port 5201; tshark,
# given the keys as esp_sa UAT records, decrypts the ESP into TCP and UDP of
# port 5201, every ESP frame of our SPIs decrypts, and a wrong key decrypts
# nothing. Every run starts both programs afresh (a new process starts its
# outbound sequence numbers at 1, which the other side's replay window would
# rightly drop), so one pair of SAs serves all runs.
# shellcheck disable=SC2317  # helpers called through check()
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PEER=$SN_ROOT/tests/integration/esp_peer.py
A=198.51.100.1 B=198.51.100.2 PORT=5201
CAP_FRAMES=${SN_CAP_FRAMES:-30000}     # per captured run
TSHARK_SECS=${SN_TSHARK_SECS:-120}     # per tshark pass
STREAM=${SN_STREAM_SECONDS:-3}
SHORT=${SN_SHORT_SECONDS:-2}
RX=$("$PY" "$PEER" counter rx_packets) TX=$("$PY" "$PEER" counter tx_packets)

stat() { "$SN_BIN/snctl" --pid "$1" stats | awk -v k="$2" '$1 == k {print $2}'; }

# esp_counted PID NAME: the process protected and accepted packets, and no
# ipsec drop counter moved.
esp_counted() {
	local pid=$1 name=$2 st rx tx drops
	st=$("$SN_BIN/snctl" --pid "$pid" stats) || { echo "snctl failed"; return 1; }
	rx=$(awk -v k="$RX" '$1 == k {print $2}' <<<"$st")
	tx=$(awk -v k="$TX" '$1 == k {print $2}' <<<"$st")
	drops=$(awk '$1 ~ /^ipsec\.drop_/ && $2 != 0' <<<"$st")
	echo "$name: $RX=${rx:-missing} $TX=${tx:-missing}; non-zero drops: ${drops:-none}"
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ] && [ -z "$drops" ]
}

# one_run TAG NS SDEV CDEV MODE SECS [ARGS...]: a server and a client, both with
# ESP, one client run, counters checked on both, both stopped. NS "-" = ours.
one_run() {
	local tag=$1 ns=$2 sdev=$3 cdev=$4 mode=$5 secs=$6 spid log rc=0 cmd; shift 6
	start_server spid "$WORK/$tag-server.log" "$ns" sn-perf server --port $PORT --dev "$sdev" \
		--addr $A/24 --lcore 0 --ipsec-conf "$WORK/a.conf" --stats || return 1
	log=$WORK/$tag-client.log
	cmd=("$SN_BIN/sn-perf" client --dev "$cdev" --addr "$B/24" --lcore 1 --ipsec-conf "$WORK/b.conf"
		--connect "$A:$PORT" --mode "$mode" --seconds "$secs" --json "$@")
	[ "$ns" = - ] || cmd=(ip netns exec "$ns" "${cmd[@]}")
	# The client exits when done, so its counters come from its own --stats
	# output; the server's from snctl while it runs.
	run_fg timeout -k 5 $((secs + 40)) "${cmd[@]}" --stats >"$log" 2>&1 || rc=$?
	perf_check "$tag: ESP sn-perf $mode ${secs}s${*:+ $*}" "$log" "$rc"
	check "$tag: server counted ESP in and out, no ipsec drops" esp_counted "$spid" "server"
	check "$tag: client counted ESP in and out (--stats), no ipsec drops" client_stats_ok "$log"
	stop_server "$spid" "$tag: sn-perf server" "$WORK/$tag-server.log"
}

# client_stats_ok LOG: the client's --stats lines at exit show ESP both ways.
client_stats_ok() {
	local rx tx drops
	rx=$(awk -v k="$RX" '$1 == k {print $2}' "$1" | tail -n 1)
	tx=$(awk -v k="$TX" '$1 == k {print $2}' "$1" | tail -n 1)
	drops=$(awk '$1 ~ /^ipsec\.drop_/ && $2 != 0' "$1")
	echo "client: $RX=${rx:-missing} $TX=${tx:-missing}; non-zero drops: ${drops:-none}"
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ] && [ -z "$drops" ]
}

part_memif() {
	local sock=$RUNDIR/memif.sock
	one_run memif-tcp - "memif:$sock,server" "memif:$sock,client" tcp-stream "$STREAM"
	one_run memif-tcp-rev - "memif:$sock,server" "memif:$sock,client" tcp-stream "$SHORT" --reverse
	one_run memif-udp - "memif:$sock,server" "memif:$sock,client" udp-stream "$SHORT" --size 512
}

# uat_opts: tshark options with our esp_sa records (or a wrong key with "wrong").
uat_opts() {
	local line
	UAT=(-o esp.enable_encryption_decode:TRUE)
	while read -r line; do
		[ "${1:-}" = wrong ] && line=$(sed -E 's/"0x[0-9a-f]{8}([0-9a-f]{32})"/"0xdeadbeef\1"/' <<<"$line")
		UAT+=(-o "uat:esp_sa:$line")
	done <"$WORK/uat"
}

# count PCAP FILTER [tshark options...]: frames matching a display filter.
# TCP reassembly and sequence analysis are off (frames are counted one by
# one; on a long capture they once took tshark minutes), and each pass is
# bounded: a pass that runs out prints nothing, so its check fails.
count() {
	local cap=$1 filter=$2; shift 2
	timeout -k 5 "$TSHARK_SECS" tshark -n -r "$cap" -o tcp.desegment_tcp_streams:FALSE \
		-o tcp.analyze_sequence_numbers:FALSE "$@" -Y "$filter" 2>/dev/null | wc -l
}

capture_checks() {
	local cap=$1 esp clear dec_tcp dec_udp dec_all wrong
	esp=$(count "$cap" "esp.spi == 0x1001 || esp.spi == 0x2001")
	clear=$(count "$cap" "(tcp.port == $PORT || udp.port == $PORT) && !esp")
	uat_opts
	dec_tcp=$(count "$cap" "esp && tcp.port == $PORT" "${UAT[@]}")
	dec_udp=$(count "$cap" "esp && udp.port == $PORT" "${UAT[@]}")
	dec_all=$(count "$cap" "esp && (tcp.port == $PORT || udp.port == $PORT)" "${UAT[@]}")
	uat_opts wrong
	wrong=$(count "$cap" "esp && (tcp.port == $PORT || udp.port == $PORT)" "${UAT[@]}")
	info "ESP frames $esp; cleartext port-$PORT frames $clear; decrypted: TCP $dec_tcp, UDP $dec_udp," \
		"all $dec_all; with a wrong key $wrong"
	CAP_ESP=$esp CAP_CLEAR=$clear CAP_TCP=$dec_tcp CAP_UDP=$dec_udp CAP_ALL=$dec_all CAP_WRONG=$wrong
}

# captured_run NAME MODE SECS [ARGS...]: one_run on the wire with dumpcap
# recording its first CAP_FRAMES frames into $WORK/NAME.pcapng (tshark
# reads the capture six times: its size must not follow the link's speed).
captured_run() {
	local name=$1 cpid; shift
	# A stack that exits leaves its TAP down; dumpcap wants it up.
	ip -n "$WNS" link set "$TA" up || { fail "cannot set $TA up"; return 1; }
	ip netns exec "$WNS" dumpcap -q -c "$CAP_FRAMES" -i "$TA" -w "$WORK/$name.pcapng" \
		>"$WORK/dumpcap-$name.log" 2>&1 &
	cpid=$!
	track_pid "$cpid"
	wait_for_line "$WORK/dumpcap-$name.log" 'Capturing on' 10 "$cpid" ||
		{ fail "dumpcap did not start"; show_log "$WORK/dumpcap-$name.log"; return 1; }
	one_run "$name" "$WNS" "tap:$TA" "tap:$TB" "$@"
	sleep 0.5
	stop_pid "$cpid" >/dev/null 2>&1
	[ -s "$WORK/$name.pcapng" ] || { fail "no capture of $name"; return 1; }
}

part_wire() {
	local cap=$WORK/wire.pcapng
	make_netns WNS w || { fail "cannot create a network namespace"; return 1; }
	TA=$SN_NAME_PREFIX${RUN_ID}a TB=$SN_NAME_PREFIX${RUN_ID}b
	check "persistent TAPs $TA and $TB in $WNS, wired by tc mirred" wire_setup || return 1
	captured_run wire-tcp tcp-stream 1 || return 1
	captured_run wire-udp udp-stream 1 --size 512 || return 1
	mergecap -w "$cap" "$WORK/wire-tcp.pcapng" "$WORK/wire-udp.pcapng" ||
		{ fail "mergecap failed"; return 1; }
	capture_checks "$cap"
	check "capture holds ESP between the stacks ($CAP_ESP frames)" test "$CAP_ESP" -gt 100
	check "capture holds no cleartext TCP/UDP of port $PORT ($CAP_CLEAR frames)" test "$CAP_CLEAR" = 0
	check "tshark decrypts ESP into TCP port $PORT ($CAP_TCP frames)" test "$CAP_TCP" -gt 0
	check "tshark decrypts ESP into UDP port $PORT ($CAP_UDP frames)" test "$CAP_UDP" -gt 0
	check "every ESP frame decrypts with the keys ($CAP_ALL of $CAP_ESP)" test "$CAP_ALL" = "$CAP_ESP"
	# tshark does not check the GCM tag: a wrong key turns a frame into
	# noise, which now and then parses as TCP/UDP to our port by chance (a
	# run of 200k frames showed one). Meaningful decryption is all frames.
	check "a wrong key decrypts (almost) nothing ($CAP_WRONG of $CAP_ESP frames)" \
		test $((CAP_WRONG * 1000)) -lt "$CAP_ESP"
	[ "${SN_KEEP:-0}" = 1 ] && info "capture kept: $cap (keys: $WORK/uat)"
}

# uat_offline: the UAT records decode ESP that scapy encrypted with the same keys,
# so a failure in part 2 is the stack's, not the test's.
uat_offline() {
	"$PY" "$PEER" pcap --state "$WORK/pair.json" --out "$WORK/scapy.pcap" || return 1
	uat_opts
	local n
	n=$(count "$WORK/scapy.pcap" "esp && (udp.port == $PORT || tcp.port == $PORT)" "${UAT[@]}")
	echo "$n of 6 scapy frames decrypted"
	[ "$n" = 6 ]
}

main() {
	require_root
	require_bins sn-perf snctl
	if ! command -v tshark >/dev/null || ! command -v dumpcap >/dev/null; then
		die "tshark and dumpcap are needed"
	fi
	make_workdir
	make_rundir
	sweep_stale
	hp_ensure "$SN_HUGEPAGES"
	export SN_RUNDIR=$RUNDIR
	info "$(tshark -v 2>/dev/null | head -n 1)"
	"$PY" "$PEER" pair --port $PORT --state "$WORK/pair.json" --out-a "$WORK/a.conf" \
		--out-b "$WORK/b.conf" --uat "$WORK/uat" || die "esp_peer.py pair failed"
	check "tshark UAT decrypts scapy's ESP with the same keys" uat_offline
	"$SN_BIN/sn-perf" --help 2>&1 | grep -q -- --ipsec-conf ||
		{ fail "sn-perf has no --ipsec-conf option yet: the IPsec datapath is not built"; finish; }
	part_memif
	part_wire
	finish
}

main "$@"
