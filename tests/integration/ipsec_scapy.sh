#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# sn-echo with manual IPsec SAs against an independent peer: scapy's
# SecurityAssociation (esp_peer.py) on the kernel side of a TAP device.
#
#   namespace snt-<pid>-<id>-k
#   +-----------------------------------------------------------------+
#   |  esp_peer.py (scapy, AF_PACKET on the TAP): the peer, with its  |
#   |     own MAC and 192.0.2.1, 2001:db8::1 -- NOT kernel addresses: |
#   |     it answers ARP/ND for them itself                           |
#   |  kernel: interface up, no addresses, no ESP; frames for the     |
#   |     peer's MAC are OTHERHOST to it, dropped before IP           |
#   |        |  TAP snt<id><n> (one per case, created by net_tap)     |
#   |  sealnet sn-echo :7, --ipsec-conf <case>.conf (lcore 0)         |
#   |     192.0.2.2/24, 2001:db8::2/64                                |
#   +-----------------------------------------------------------------+
#
# 0. esp_peer.py selftest: scapy round-trips every case with itself, our own
#    ESP encryptor agrees with scapy, the generated config lines match the
#    grammar (ours and iproute2's: `ip xfrm` in this namespace parses them).
#    probe: with a cleartext sn-echo, the ARP/ND responder works (echoes
#    reach the peer's MAC over IPv4 and IPv6).
# 1. A config with a bad line: sn-echo exits 2 naming the line.
# 2. For every case of `esp_peer.py matrix` (each algorithm x transport/tunnel x
#    IPv4/IPv6, cross-family tunnels, ESP in UDP, ESN): a fresh sn-echo with the
#    case's config; the peer sends protected UDP (0 bytes to the MTU, and one
#    datagram that needs fragments) and a TCP connection, decrypts the replies
#    and compares; no cleartext may leave the stack. sn-echo must exit 0.
# 3. Attacks (AES-GCM and AES-CBC/HMAC-SHA-256, transport, IPv4): every
#    single-bit flip, replay, old sequence number, unknown SPI, truncation, bad
#    padding, cleartext, selector mismatch, hard-expired SA: nothing delivered and
#    the named counter (esp_peer.py COUNTERS) moved by exactly the expected amount.
#
# SN_IPSEC_CASES=REGEX runs only the matching cases (Python re.search on the case);
# SN_IPSEC_ATTACKS=0 skips the attacks.
# shellcheck disable=SC2317  # helpers called through check()
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PEER=$SN_ROOT/tests/integration/esp_peer.py
ECHO_PORT=7
STACK_ADDRS=(--addr 192.0.2.2/24 --addr 2001:db8::2/64 --lcore 0 --stats)
CASE_TIMEOUT=${SN_IPSEC_CASE_TIMEOUT:-60}

nsx() { ip netns exec "$NS" "$@"; }

# kernel_side IF: up, no addresses: the peer is scapy, not the kernel (see
# esp_peer.py's docstring for why).
kernel_side() { ip -n "$NS" link set "$1" up; }

has_ipsec_conf() { "$SN_BIN/sn-echo" --help 2>&1 | grep -q -- '--ipsec-conf'; }

# start_echo VAR LOG IF [ARGS...]: sn-echo on TAP IF in NS, kernel side configured.
start_echo() {
	local __var=$1 lg=$2 dev=$3; shift 3
	spawn "$__var" "$lg" "$NS" sn-echo --port "$ECHO_PORT" --dev "tap:$dev" "${STACK_ADDRS[@]}" "$@"
	if ! wait_for_iface "$NS" "$dev" "$SN_READY_TIMEOUT" "${!__var}"; then
		fail "sn-echo: TAP interface $dev did not appear"
		show_log "$lg" 40
		return 1
	fi
	kernel_side "$dev" || { fail "configuring the kernel side of $dev"; return 1; }
	wait_ready "${!__var}" "$lg" sn-echo --dev "tap:$dev" "$@"
}

peer() { nsx timeout -k 5 "$CASE_TIMEOUT" "$PY" "$PEER" "$@"; }

_N=0
next_dev() { _N=$((_N + 1)); DEV=$SN_NAME_PREFIX$RUN_ID$_N; }

phase_selftest() {
	check "esp_peer.py selftest: scapy round trips, own encryptor, config grammar, ip xfrm parses" \
		"$PY" "$PEER" selftest --xfrm-netns "$NS"
	ip -n "$NS" xfrm policy flush 2>/dev/null
	ip -n "$NS" xfrm state flush 2>/dev/null
	local pid
	next_dev
	start_echo pid "$WORK/probe.log" "$DEV" || return 1
	check "probe (cleartext sn-echo): the peer's ARP/ND responder, echoes reach the peer" \
		peer probe --iface "$DEV" --port "$ECHO_PORT"
	stop_server "$pid" "sn-echo (cleartext probe)" "$WORK/probe.log"
}

# bad_conf: a config whose third line is wrong; sn-echo must exit 2 naming line 3.
bad_conf_exit() {
	local rc=0
	{
		echo "# comment"
		echo ""
		echo "state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 mode transport aead 'rfc4106(gcm(aes))' 0x00 128"
	} >"$WORK/bad.conf"
	timeout 30 "$SN_BIN/sn-echo" --port 7 --dev null --addr 192.0.2.9/24 --ipsec-conf "$WORK/bad.conf" \
		>"$WORK/bad.log" 2>&1 || rc=$?
	cat "$WORK/bad.log"
	echo "exit status $rc"
	[ "$rc" = 2 ] && grep -qF "$WORK/bad.conf:3: " "$WORK/bad.log"
}

# run_case NAME SPEC: $WORK/NAME.conf and NAME.json were written by `esp_peer.py confs`.
run_case() {
	local name=$1 spec=$2 pid
	next_dev
	start_echo pid "$WORK/$name.log" "$DEV" --ipsec-conf "$WORK/$name.conf" || {
		show_log "$WORK/$name.conf" 20
		return 1
	}
	check "$spec: UDP and TCP echo through the SAs" peer run --state "$WORK/$name.json" --iface "$DEV" ||
		show_log "$WORK/$name.log" 20
	[ "${SN_VERBOSE:-0}" = 1 ] && show_log "$WORK/check-$_SN_CHECK_N.log" 80
	stop_server "$pid" "sn-echo ($spec)" "$WORK/$name.log"
}

run_attacks() {
	local spec=$1 name pid
	name=attack-$(tr ' ' '-' <<<"$spec")
	"$PY" "$PEER" conf "$spec" --attack --port "$ECHO_PORT" --out "$WORK/$name.conf" --state "$WORK/$name.json" ||
		{ fail "$spec: cannot write the attack config"; return 1; }
	next_dev
	start_echo pid "$WORK/$name.log" "$DEV" --ipsec-conf "$WORK/$name.conf" || return 1
	check "attacks on $spec: dropped, counted, nothing delivered" \
		peer attack --state "$WORK/$name.json" --iface "$DEV" --pid "$pid" --snctl "$SN_BIN/snctl"
	[ "${SN_VERBOSE:-0}" = 1 ] && show_log "$WORK/check-$_SN_CHECK_N.log" 120
	check "sn-echo still running after the attacks on $spec" kill -0 "$pid"
	stop_server "$pid" "sn-echo (attacks, $spec)" "$WORK/$name.log"
}

main() {
	require_root
	require_bins sn-echo snctl
	make_workdir
	make_rundir
	sweep_stale
	hp_ensure "$SN_HUGEPAGES"
	export SN_RUNDIR=$RUNDIR
	make_netns NS k || die "cannot create a network namespace"
	info "namespace $NS, programs from $SN_BIN"
	phase_selftest
	if ! has_ipsec_conf; then
		fail "sn-echo has no --ipsec-conf option yet: the IPsec datapath is not built"
		finish
	fi
	check "a bad config line: exit 2, naming line 3" bad_conf_exit
	local line t0=$SECONDS
	mapfile -t cases < <("$PY" "$PEER" confs --dir "$WORK" --port "$ECHO_PORT" --match "${SN_IPSEC_CASES:-}")
	info "${#cases[@]} cases"
	for line in "${cases[@]}"; do run_case "${line%%$'\t'*}" "${line#*$'\t'}"; done
	info "cases took $((SECONDS - t0))s"
	if [ "${SN_IPSEC_ATTACKS:-1}" = 1 ]; then
		run_attacks "aes-gcm-128 transport 4"
		run_attacks "aes-cbc-128-sha256 transport 4"
	fi
	finish
}

main "$@"
