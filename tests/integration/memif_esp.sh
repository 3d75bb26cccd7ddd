#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ESP between two stack processes over memif, manual SAs in `ip xfrm`
# grammar. All traffic between the two hosts is protected by policy.
#
#   sealnet A (lcore 0)                         sealnet B (lcore 1)
#   sn-perf server :5201                        sn-perf client (one per run)
#   198.51.100.1/24  --- memif: ESP only ---    198.51.100.2/24
#   --ipsec-conf a.conf, SAs added per run      --ipsec-conf bN.conf
#   with `snctl xfrm state add`
#
# Each client run is a new process whose outbound sequence numbers start
# at 1 again, so every run gets a fresh SA pair (new SPIs, new keys, same
# reqids; the newest SA serves a template): reusing an SA would rightly
# be dropped by A's replay window.
#
# Checks: verified tcp-stream, udp-stream and tcp-rr over ESP with
# AES-GCM-128, AES-CBC-256 + HMAC-SHA-256, ChaCha20-Poly1305; the SA
# counters moved; a cleartext client cannot connect and A counts
# drop_cleartext; a client with a wrong key cannot connect and A counts
# drop_auth.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_bins sn-perf snctl
make_workdir
make_rundir
sweep_stale
hp_ensure "$SN_HUGEPAGES"
export SN_RUNDIR=$RUNDIR

A=198.51.100.1
B=198.51.100.2
SOCK="$RUNDIR/memif.sock"

policies_a() {
	echo "policy add src $A/32 dst $B/32 dir out tmpl src $A dst $B proto esp mode transport reqid 1"
	echo "policy add src $B/32 dst $A/32 dir in tmpl src $B dst $A proto esp mode transport reqid 2"
}

policies_b() {
	echo "policy add src $B/32 dst $A/32 dir out tmpl src $B dst $A proto esp mode transport reqid 2"
	echo "policy add src $A/32 dst $B/32 dir in tmpl src $A dst $B proto esp mode transport reqid 1"
}

# new_pair N ALG: state lines for run N into $WORK/sa-N (shared by A and B).
new_pair() {
	local n=$1 alg=$2
	{
		echo "state add src $A dst $B proto esp spi $((0x1000 + n)) mode transport reqid 1 $(alg_words "$alg")"
		echo "state add src $B dst $A proto esp spi $((0x2000 + n)) mode transport reqid 2 $(alg_words "$alg")"
	} >"$WORK/sa-$n"
}

# install_on_a N: A learns run N's SAs at run time through snctl.
install_on_a() { snctl_xfrm_file "$SPID" "$WORK/sa-$1"; }

stat_a() { "$SN_BIN/snctl" --pid "$SPID" stats | awk -v k="$1" '$1 == k {print $2}'; }

# client N MODE SECS [ARGS...]: sn-perf client with run N's SAs.
client() {
	local n=$1 mode=$2 secs=$3; shift 3
	{ cat "$WORK/sa-$n"; policies_b; } >"$WORK/b-$n.conf"
	perf_client "$WORK/client-$n.log" $((secs + 30)) --dev "memif:$SOCK,client" --addr $B/24 \
		--lcore 1 --ipsec-conf "$WORK/b-$n.conf" --connect $A:5201 --mode "$mode" \
		--seconds "$secs" "$@"
}

run_ok() {
	local n=$1 alg=$2 mode=$3 secs=$4 rc=0; shift 4
	new_pair "$n" "$alg"
	install_on_a "$n" || { fail "snctl xfrm state add on A (run $n)"; return; }
	client "$n" "$mode" "$secs" "$@" || rc=$?
	perf_check "ESP $alg: sn-perf $mode ${secs}s" "$WORK/client-$n.log" "$rc"
}

policies_a >"$WORK/a.conf"
start_server SPID "$WORK/server.log" - sn-perf server --port 5201 --dev "memif:$SOCK,server" \
	--addr $A/24 --lcore 0 --ipsec-conf "$WORK/a.conf" --stats || die "sn-perf server did not start"

run_ok 1 gcm128 tcp-stream 3
run_ok 2 gcm128 tcp-stream 2 --reverse
run_ok 3 gcm128 udp-stream 2 --size 64
run_ok 4 gcm128 tcp-rr 2
run_ok 5 cbc256 tcp-stream 2
run_ok 6 chacha tcp-stream 2
check "A's SAs counted ESP packets in and out" bash -c \
	"[ \"\$('$SN_BIN/snctl' --pid $SPID stats | awk '\$1 == \"ipsec.in_packets\" {print \$2}')\" -gt 1000 ] &&
	 [ \"\$('$SN_BIN/snctl' --pid $SPID stats | awk '\$1 == \"ipsec.out_packets\" {print \$2}')\" -gt 1000 ]"

# A cleartext client: A's policy requires ESP from B.
before=$(stat_a ipsec.drop_cleartext)
rc=0
perf_client "$WORK/clear.log" 40 --dev "memif:$SOCK,client" --addr $B/24 --lcore 1 \
	--connect $A:5201 --mode tcp-stream --seconds 1 || rc=$?
after=$(stat_a ipsec.drop_cleartext)
check "cleartext client cannot connect (exit $rc)" test "$rc" != 0
check "A counted cleartext drops ($before -> $after)" test "$after" -gt "$before"

# A client whose outbound key differs from A's inbound key.
new_pair 7 gcm128
install_on_a 7 || fail "snctl xfrm state add on A (run 7)"
before=$(stat_a ipsec.drop_auth)
rc=0
# B's copy of the B->A SA (line 2) gets a key A does not have.
sed -i "2s/0x[0-9a-f]\{40\} 128\$/$(hexkey 20) 128/" "$WORK/sa-7"
client 7 tcp-stream 1 || rc=$?
after=$(stat_a ipsec.drop_auth)
check "wrong-key client cannot connect (exit $rc)" test "$rc" != 0
check "A counted ICV failures ($before -> $after)" test "$after" -gt "$before"

stop_server "$SPID" "sn-perf server" "$WORK/server.log"
finish
