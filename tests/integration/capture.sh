#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The stack's own capture (--pcap FILE, `snctl capture`), read back by tshark:
# the wire interface holds ESP only, the inner interface the cleartext.
#
#   sealnet A: sn-perf server (lcore 0)              sealnet B: sn-perf client (lcore 1)
#   198.51.100.1/24 --ipsec-conf a.conf  <-- memif -->  198.51.100.2/24 --ipsec-conf b.conf
#   --pcap FILE: interface 0 "wire" (Ethernet)       AES-128-GCM transport SAs, SPIs
#                interface 1 "inner" (raw IP)        0x1001 (A->B), 0x2001 (B->A)
#
# Checks:
#   1. --pcap on the server, tcp-rr then the server stops: on the wire every IPv4
#      frame is ESP of our two SPIs, in both directions, none is TCP/UDP of port
#      5201; ESP frames in the file agree with the server's ESP counters (exactly
#      when nothing was dropped); the inner interface holds TCP of port 5201 both
#      ways, sn-perf's hello ("SNPH") in a TCP payload, no ESP; each interface's
#      statistics block (read by a small independent parser) equals --stats.
#   2. `snctl capture start FILE 8` (a relative name) on a running server, a
#      udp-stream, `snctl capture stop`: the file is readable (capinfos), holds
#      ESP on the wire and UDP of port 5201 inside, and both statistics blocks
#      (written at stop); a second start while one runs and a second stop are
#      errors.
#   3. --pcap-max 1 with tcp-stream: the program says the limit was reached, the
#      file stays under 1 MiB and stops growing, drops are counted in --stats and
#      in the wire's statistics block, and the packets in the file are those
#      --stats says were written.
#   4. --pcap into a folder that does not exist: the program does not start and
#      says why in one line naming --pcap.
#   5. --keylog DIR with --pcap: DIR is a Wireshark configuration directory whose
#      esp_sa table holds both manual SAs (files mode 0600), and tshark with
#      WIRESHARK_CONFIG_DIR=DIR decrypts the wire's ESP: TCP of port 5201 and
#      sn-perf's hello appear on interface 0, which they never do without it.
# shellcheck disable=SC2317  # helpers called through check()
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_bins sn-perf snctl
if ! command -v tshark >/dev/null || ! command -v capinfos >/dev/null; then
	die "tshark and capinfos are needed"
fi
make_workdir
make_rundir
sweep_stale
hp_ensure "$SN_HUGEPAGES"
export SN_RUNDIR=$RUNDIR

A=198.51.100.1 B=198.51.100.2 PORT=5201
SOCK=$RUNDIR/memif.sock SPID=
TSHARK_SECS=${SN_TSHARK_SECS:-60}

sa_lines() {
	echo "state add src $A dst $B proto esp spi 0x1001 mode transport reqid 1 $(alg_words gcm128)"
	echo "state add src $B dst $A proto esp spi 0x2001 mode transport reqid 2 $(alg_words gcm128)"
}
sa_lines >"$WORK/sa"
{
	cat "$WORK/sa"
	echo "policy add src $A/32 dst $B/32 dir out tmpl src $A dst $B proto esp mode transport reqid 1"
	echo "policy add src $B/32 dst $A/32 dir in tmpl src $B dst $A proto esp mode transport reqid 2"
} >"$WORK/a.conf"
{
	cat "$WORK/sa"
	echo "policy add src $B/32 dst $A/32 dir out tmpl src $B dst $A proto esp mode transport reqid 2"
	echo "policy add src $A/32 dst $B/32 dir in tmpl src $A dst $B proto esp mode transport reqid 1"
} >"$WORK/b.conf"

# server TAG ARGS...: sn-perf server on A with ESP; sets SPID.
server() {
	local tag=$1; shift
	start_server SPID "$WORK/$tag-server.log" - sn-perf server --port $PORT \
		--dev "memif:$SOCK,server" --addr $A/24 --lcore 0 --ipsec-conf "$WORK/a.conf" \
		--stats "$@"
}

# client TAG MODE SECS [ARGS...]: one sn-perf client run on B, judged.
client() {
	local tag=$1 mode=$2 secs=$3 rc=0; shift 3
	perf_client "$WORK/$tag-client.log" $((secs + 30)) --dev "memif:$SOCK,client" \
		--addr $B/24 --lcore 1 --ipsec-conf "$WORK/b.conf" --connect $A:$PORT \
		--mode "$mode" --seconds "$secs" "$@" || rc=$?
	perf_check "$tag: ESP sn-perf $mode ${secs}s" "$WORK/$tag-client.log" "$rc"
}

# sv LOG NAME: a counter from the --stats lines a program printed at exit.
sv() { awk -v k="$2" '$1 == k {v = $2} END {print v}' "$1"; }

# fields PCAP: one line per frame: interface,direction,ip.proto,esp.spi,ports...
fields() {
	timeout -k 5 "$TSHARK_SECS" tshark -n -r "$1" -o tcp.desegment_tcp_streams:FALSE \
		-o tcp.analyze_sequence_numbers:FALSE -T fields -E separator=, \
		-e frame.interface_id -e frame.packet_flags_direction -e ip.proto -e esp.spi \
		-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null
}

# count PCAP FILTER: frames that match a display filter.
count() {
	timeout -k 5 "$TSHARK_SECS" tshark -n -r "$1" -o tcp.desegment_tcp_streams:FALSE \
		-o tcp.analyze_sequence_numbers:FALSE -Y "$2" 2>/dev/null | wc -l
}

# isb PCAP: "IF RECV DROP" per Interface Statistics Block, read with our own
# parser (pcapng blocks; tshark does not print ISBs).
isb() {
	"$PY" - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
o = 0
while o + 12 <= len(d):
    t, n = struct.unpack_from('<II', d, o)
    if n < 12 or o + n > len(d):
        sys.exit('bad block at %d' % o)
    if t == 5:
        ifid = struct.unpack_from('<I', d, o + 8)[0]
        recv = drop = None
        p = o + 20
        while p + 4 <= o + n - 4:
            code, ln = struct.unpack_from('<HH', d, p)
            if code == 0:
                break
            if code == 4: recv = struct.unpack_from('<Q', d, p + 4)[0]
            if code == 5: drop = struct.unpack_from('<Q', d, p + 4)[0]
            p += 4 + ((ln + 3) & ~3)
        print(ifid, recv, drop)
    o += n
EOF
}

# isb_matches PCAP LOG: each interface's block equals --stats (seen, dropped).
isb_matches() {
	local cap=$1 log=$2 ok=0 ifid recv drop name
	isb "$cap" >"$WORK/isb" || return 1
	cat "$WORK/isb"
	[ "$(wc -l <"$WORK/isb")" = 2 ] || { echo "expected 2 statistics blocks"; return 1; }
	while read -r ifid recv drop; do
		name=$([ "$ifid" = 0 ] && echo wire || echo inner)
		echo "$name: file recv=$recv drop=$drop; --stats seen=$(sv "$log" "capture.${name}_seen") dropped=$(sv "$log" "capture.${name}_dropped")"
		[ "$recv" = "$(sv "$log" "capture.${name}_seen")" ] || ok=1
		[ "$drop" = "$(sv "$log" "capture.${name}_dropped")" ] || ok=1
	done <"$WORK/isb"
	return "$ok"
}

# ---- 1. --pcap, tcp-rr ---------------------------------------------------------

wire_only_esp() {
	local f=$1 log=$2 esp spis clear other n_in n_out rx tx wdrop
	esp=$(awk -F, '$1 == 0 && $3 == 50' "$f" | wc -l)
	spis=$(awk -F, '$1 == 0 && $3 == 50 && ($4 == "0x00001001" || $4 == "0x00002001")' "$f" | wc -l)
	n_out=$(awk -F, '$1 == 0 && $3 == 50 && $2 == 2' "$f" | wc -l)
	n_in=$(awk -F, '$1 == 0 && $3 == 50 && $2 == 1' "$f" | wc -l)
	clear=$(awk -F, -v p="$PORT" '$1 == 0 && ($5 == p || $6 == p || $7 == p || $8 == p)' "$f" | wc -l)
	other=$(awk -F, '$1 == 0 && $3 != "" && $3 != 50' "$f" | wc -l)
	rx=$(sv "$log" ipsec.in_packets) tx=$(sv "$log" ipsec.out_packets)
	wdrop=$(sv "$log" capture.wire_dropped)
	echo "wire: esp=$esp (our SPIs $spis; in $n_in, out $n_out) cleartext-$PORT=$clear other-ip=$other"
	echo "server: ipsec in=$rx out=$tx; capture.wire_dropped=$wdrop"
	[ "$esp" -gt 0 ] && [ "$spis" = "$esp" ] && [ "$clear" = 0 ] && [ "$other" = 0 ] &&
		[ "$n_in" -gt 0 ] && [ "$n_out" -gt 0 ] || return 1
	# Every ESP packet the server counted is in the file or among the drops.
	[ "$esp" -le $((rx + tx)) ] && [ $((rx + tx)) -le $((esp + wdrop)) ] || return 1
	[ "$wdrop" != 0 ] || [ "$esp" = $((rx + tx)) ]
}

inner_cleartext() {
	local f=$1 cap=$2 tcp n_in n_out esp hello
	tcp=$(awk -F, -v p="$PORT" '$1 == 1 && $3 == 6 && ($5 == p || $6 == p)' "$f" | wc -l)
	n_in=$(awk -F, -v p="$PORT" '$1 == 1 && $3 == 6 && $6 == p && $2 == 1' "$f" | wc -l)
	n_out=$(awk -F, -v p="$PORT" '$1 == 1 && $3 == 6 && $5 == p && $2 == 2' "$f" | wc -l)
	esp=$(awk -F, '$1 == 1 && $3 == 50' "$f" | wc -l)
	hello=$(count "$cap" 'frame.interface_id == 1 && tcp.dstport == 5201 && tcp.payload contains "SNPH"')
	echo "inner: tcp-$PORT=$tcp (in $n_in, out $n_out) esp=$esp hello-payloads=$hello"
	[ "$tcp" -gt 0 ] && [ "$n_in" -gt 0 ] && [ "$n_out" -gt 0 ] && [ "$esp" = 0 ] && [ "$hello" -ge 1 ] &&
		[ "$(count "$cap" 'frame.interface_id == 0 && frame contains "SNPH"')" = 0 ]
}

part_pcap() {
	local cap=$WORK/rr.pcapng log=$WORK/rr-server.log
	server rr --pcap "$cap" || return
	client rr tcp-rr 1
	stop_server "$SPID" "rr: sn-perf server with --pcap" "$log"
	check "rr: capinfos reads the file: two interfaces, Ethernet and raw IP" \
		bash -c "capinfos '$cap' | tee /dev/stderr | grep -q 'Number of interfaces in file: 2' &&
			capinfos '$cap' | grep -q 'Raw IP'"
	fields "$cap" >"$WORK/rr.fields"
	check "rr: the wire holds only ESP of our SPIs, both ways, counted like the server's ESP" \
		wire_only_esp "$WORK/rr.fields" "$log"
	check "rr: the inner interface holds the cleartext TCP, both ways, with sn-perf's hello" \
		inner_cleartext "$WORK/rr.fields" "$cap"
	check "rr: the statistics blocks equal --stats (seen, dropped)" isb_matches "$cap" "$log"
}

# ---- 2. snctl capture start / stop ---------------------------------------------------

snctl_ok() { "$SN_BIN/snctl" --pid "$SPID" capture "$@"; }
snctl_fails() { ! "$SN_BIN/snctl" --pid "$SPID" capture "$@"; }

snctl_file_ok() {
	local cap=$1 esp udp
	capinfos "$cap" || return 1
	esp=$(count "$cap" 'frame.interface_id == 0 && esp')
	udp=$(count "$cap" "frame.interface_id == 1 && udp.dstport == $PORT")
	echo "wire esp=$esp inner udp-$PORT=$udp; statistics blocks: $(isb "$cap" | wc -l)"
	[ "$esp" -gt 0 ] && [ "$udp" -gt 0 ] && [ "$(isb "$cap" | wc -l)" = 2 ] &&
		[ "$(count "$cap" "frame.interface_id == 0 && udp.port == $PORT")" = 0 ]
}

part_snctl() {
	local log=$WORK/ctl-server.log
	server ctl || return
	check "ctl: capture status before any capture" snctl_ok status
	check "ctl: capture stop without a capture is an error" snctl_fails stop
	check "ctl: capture start ctl.pcapng (relative to snctl's folder)" \
		bash -c "cd '$WORK' && '$SN_BIN/snctl' --pid $SPID capture start ctl.pcapng 8"
	check "ctl: a second capture start is an error" snctl_fails start "$WORK/other.pcapng"
	client ctl udp-stream 1 --size 512
	check "ctl: capture status says running" bash -c "'$SN_BIN/snctl' --pid $SPID capture status | grep -q running"
	check "ctl: capture stop" snctl_ok stop
	check "ctl: the file is readable: ESP on the wire, UDP of port $PORT inside" \
		snctl_file_ok "$WORK/ctl.pcapng"
	check "ctl: capture stop again is an error" snctl_fails stop
	stop_server "$SPID" "ctl: sn-perf server" "$log"
}

# ---- 3. --pcap-max ------------------------------------------------------------------

bounded() {
	local cap=$1 log=$2 size isb_drop
	size=$(stat -c %s "$cap")
	isb_drop=$(isb "$cap" | awk '$1 == 0 {print $3}')
	echo "size=$size full=$(sv "$log" capture.full) wire_dropped=$(sv "$log" capture.wire_dropped) isb-drop=$isb_drop"
	grep -q "reached its limit of 1 MB" "$log" && [ "$size" -le 1048576 ] &&
		[ "$(sv "$log" capture.full)" = 1 ] && [ "$(sv "$log" capture.wire_dropped)" -gt 0 ] &&
		[ "$isb_drop" = "$(sv "$log" capture.wire_dropped)" ]
}

stopped_growing() {
	local cap=$1 at_limit=$2 end
	end=$(stat -c %s "$cap")
	echo "at the limit message: $at_limit bytes; at exit: $end bytes (statistics blocks only)"
	[ "$end" -ge "$at_limit" ] && [ $((end - at_limit)) -le 512 ]
}

written_in_file() {
	local cap=$1 log=$2 n
	n=$(capinfos -M -c "$cap" | awk -F': *' '/Number of packets/ {print $2}')
	echo "packets in file $n; --stats written $(sv "$log" capture.wire_written) + $(sv "$log" capture.inner_written)"
	[ "$n" = $(($(sv "$log" capture.wire_written) + $(sv "$log" capture.inner_written))) ]
}

part_bound() {
	local cap=$WORK/max.pcapng log=$WORK/max-server.log at
	server max --pcap "$cap" --pcap-max 1 || return
	client max tcp-stream 2
	wait_for_line "$log" "reached its limit" 10 "$SPID" || true
	at=$(stat -c %s "$cap")
	sleep 0.5
	stop_server "$SPID" "max: sn-perf server with --pcap-max 1" "$log"
	check "max: limit reached and said, file <= 1 MiB, drops in --stats and in the file" bounded "$cap" "$log"
	check "max: the file stopped growing at the limit" stopped_growing "$cap" "$at"
	check "max: the file holds the packets --stats counts as written" written_in_file "$cap" "$log"
}

# ---- 4. a file that cannot be created ---------------------------------------------

refused() {
	local rc=0
	timeout 30 "$SN_BIN/sn-perf" server --port "$PORT" --dev "memif:$SOCK,server" --addr "$A/24" \
		--lcore 0 --pcap "$WORK/no/such/dir/x.pcapng" >"$WORK/bad.log" 2>&1 || rc=$?
	grep -- '--pcap' "$WORK/bad.log"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q -- "--pcap: .*No such file or directory" "$WORK/bad.log"
}

# ---- 5. --keylog ----------------------------------------------------------------------

keylog_decrypts() {
	local dir=$1 cap=$2 lines mode tcp hello
	lines=$(grep -c '^"IPv4",' "$dir/esp_sa")
	mode=$(stat -c %a "$dir/esp_sa")
	tcp=$(WIRESHARK_CONFIG_DIR=$dir count "$cap" "frame.interface_id == 0 && esp && tcp.port == $PORT")
	hello=$(WIRESHARK_CONFIG_DIR=$dir count "$cap" 'frame.interface_id == 0 && tcp.payload contains "SNPH"')
	echo "esp_sa: $lines lines, mode $mode; decrypted on the wire: tcp-$PORT=$tcp hello=$hello"
	[ "$lines" = 2 ] && [ "$mode" = 600 ] && [ "$tcp" -gt 0 ] && [ "$hello" -ge 1 ] &&
		grep -q '"0x00001001"' "$dir/esp_sa" && grep -q '"0x00002001"' "$dir/esp_sa"
}

part_keylog() {
	local cap=$WORK/kl.pcapng log=$WORK/kl-server.log
	server kl --pcap "$cap" --keylog "$WORK/keys" || return
	client kl tcp-rr 1
	stop_server "$SPID" "keylog: sn-perf server with --pcap --keylog" "$log"
	check "keylog: tshark decrypts the wire's ESP with the --keylog directory" \
		keylog_decrypts "$WORK/keys" "$cap"
}

part_pcap
part_snctl
part_bound
part_keylog
check "bad: --pcap into a missing folder: no start, one line naming --pcap" refused
finish
