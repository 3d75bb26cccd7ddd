#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Proves ike_lib.sh with real peers only (no sealnet program):
#
#   namespace a (10.91.0.1)  <---- veth ---->  namespace b (10.91.0.2)
#   charon A (initiator)                       charon B, then pluto
#
#  1. strongSwan <-> strongSwan, PSK: host-to-host tunnel (kernel-libipsec,
#     ESP-in-UDP 4500), ping through the tunnel; tshark decrypts the IKE_AUTH
#     exchange with the keys charon A logged (ikev2_decryption_table; ESP is
#     not decrypted: no esp_sa table is made from the log yet).
#  2. the same with ECDSA P-256 certificates made by pki at test time.
#  3. strongSwan initiates a childless IKE SA (RFC 6023) to libreswan's pluto
#     with PSK; both list it established.
#  4. cleanup: no charon or pluto of ours left after their stop.
# shellcheck disable=SC2317  # helpers called through check()
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ike_lib.sh
. "$(dirname "$0")/ike_lib.sh"

A=10.91.0.1 B=10.91.0.2 PSK=selftest-psk-0123456789abcdef

# conf_sw DIR ME PEER MY_ID PEER_ID AUTH [CHILDREN yes|no]: DIR/swanctl/swanctl.conf.
conf_sw() {
	local d=$1 me=$2 peer=$3 id=$4 pid=$5 auth=$6 ch=${7:-yes} certs=""
	[ "$auth" = pubkey ] && certs="certs = $id.crt"
	{
		printf 'connections {\n  t {\n    version = 2\n    local_addrs = %s\n    remote_addrs = %s\n' "$me" "$peer"
		printf '    proposals = aes128gcm16-prfsha256-x25519,aes128-sha256-ecp256\n'
		printf '    local {\n      auth = %s\n      id = %s\n      %s\n    }\n' "$auth" "$id" "$certs"
		printf '    remote {\n      auth = %s\n      id = %s\n    }\n' "$auth" "$pid"
		if [ "$ch" = yes ]; then
			printf '    children {\n      t {\n        local_ts = %s/32\n        remote_ts = %s/32\n' "$me" "$peer"
			printf '        esp_proposals = aes128gcm16\n        mode = tunnel\n      }\n    }\n'
		fi
		printf '  }\n}\n'
		[ "$auth" = psk ] && printf 'secrets {\n  ike-1 {\n    id-1 = a.example\n    id-2 = b.example\n    secret = "%s"\n  }\n}\n' "$PSK"
	} >"$d/swanctl/swanctl.conf"
}

load_both() { sw_load "$WORK/a" && sw_load "$WORK/b"; }
counted() { sw "$WORK/b" --list-sas | grep -E '^ +in .* [1-9][0-9]* packets'; }
esp_seen() { [ "$(tshark -n -r "$1" -Y esp 2>/dev/null | wc -l)" -ge 6 ]; }
certs_made() {
	ike_pki_ca "$WORK/pki" && ike_pki_ee "$WORK/pki" a.example ecdsa && ike_pki_ee "$WORK/pki" b.example ecdsa
}
no_child() { [ "$(sw_child_count "$WORK/a")" = 0 ] && ! grep -q 'CHILD_SA .* established' "$WORK/a/charon.log"; }
stop_all() {
	local p
	for p in "${PA:-}" "${PB:-}"; do [ -n "$p" ] && charon_stop "$p"; done
	[ -n "${PL:-}" ] && pluto_stop "$PL"
	return 0
}

ping_b() { ip netns exec "$NA" timeout 20 ping -n -c 3 -i 0.3 -W 2 "$B"; }

decrypts() {
	local n
	charon_keylog "$WORK/a" "$WORK/ikev2.tbl" || return 1
	cat "$WORK/ikev2.tbl"
	ike_tshark_profile "$WORK/ws" "$WORK/ikev2.tbl"
	n=$(HOME=$WORK/ws timeout -k 5 60 tshark -n -r "$1" \
		-Y isakmp -V 2>/dev/null | grep -c 'Decrypted Data')
	echo "IKE messages tshark decrypted: $n"
	[ "$n" -ge 2 ]
}

pair_up() {
	local tag=$1 auth=$2
	CHARON_KEYS=1 charon_start PA "$NA" "$WORK/a" || return 1
	charon_start PB "$NB" "$WORK/b" || return 1
	conf_sw "$WORK/a" "$A" "$B" a.example b.example "$auth"
	conf_sw "$WORK/b" "$B" "$A" b.example a.example "$auth"
	check "$tag: swanctl --load-all on both" load_both
}

part_psk() {
	local cp
	mkdir -p "$WORK/a" "$WORK/b"
	pair_up psk psk || return 1
	ike_cap_start cp "$NA" vA "$WORK/psk.pcapng" || fail "dumpcap"
	check "psk: A initiates, IKE and child SA up" sw_initiate "$WORK/a" t
	check "psk: B lists the IKE SA established" sw_wait_sa "$WORK/b" 1 5
	check "psk: ping $B through the kernel-libipsec tunnel" ping_b
	check "psk: B's child SA counted the pings" counted
	ike_cap_stop "$cp"
	check "psk: capture has ESP in UDP 4500" esp_seen "$WORK/psk.pcapng"
	check "psk: tshark decrypts IKE_AUTH with the keys charon logged" decrypts "$WORK/psk.pcapng"
	charon_stop "$PA"; charon_stop "$PB"
}

part_cert() {
	rm -rf "$WORK/a" "$WORK/b"; mkdir -p "$WORK/a" "$WORK/b"
	check "cert: pki makes an ECDSA P-256 CA and two ECDSA certificates" certs_made || return 1
	charon_conf "$WORK/a"; charon_conf "$WORK/b"
	ike_pki_install "$WORK/pki" "$WORK/a" a.example && ike_pki_install "$WORK/pki" "$WORK/b" b.example || { fail "cert: install"; return 1; }
	pair_up cert pubkey || return 1
	check "cert: A initiates with ECDSA certificates, IKE and child SA up" sw_initiate "$WORK/a" t
	check "cert: ping $B through the tunnel" ping_b
	charon_stop "$PA"; charon_stop "$PB"
}

part_libreswan() {
	local d=$WORK/lsw
	rm -rf "$WORK/a"; mkdir -p "$WORK/a" "$d"
	cat >"$d/ipsec.conf" <<CONF
config setup
	logfile=$d/pluto-file.log
conn t
	ikev2=insist
	authby=secret
	left=$B
	leftid=@b.example
	right=$A
	rightid=@a.example
	ike=aes_gcm128-sha2_256-dh19
	auto=add
CONF
	printf '@b.example @a.example : PSK "%s"\n' "$PSK" >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
	pluto_start PL "$NB" "$d" || return 1
	charon_start PA "$NA" "$WORK/a" || return 1
	conf_sw "$WORK/a" "$A" "$B" a.example b.example psk no
	sed -i 's/aes128gcm16-prfsha256-x25519,aes128-sha256-ecp256/aes128gcm16-prfsha256-ecp256/' "$WORK/a/swanctl/swanctl.conf"
	check "libreswan: swanctl --load-all" sw_load "$WORK/a"
	check "libreswan: strongSwan initiates a childless IKE SA to pluto (PSK)" sw_initiate "$WORK/a" --ike t
	check "libreswan: pluto lists the IKE SA established" pluto_wait_sa "$d" 1 5
	check "libreswan: childless: no child SA on the strongSwan side" no_child
	charon_stop "$PA"; pluto_stop "$PL"
	[ -s "$d/pluto.log" ] && [ "${SN_VERBOSE:-0}" = 1 ] && show_log "$d/pluto.log" 40
	return 0
}

none_left() {
	local p
	for p in "$@"; do kill -0 "$p" 2>/dev/null && { echo "pid $p still alive"; return 1; }; done
	return 0
}

main() {
	require_root
	require_ike_peers libreswan
	make_workdir
	sweep_stale
	make_netns NA a || die "cannot create a network namespace"
	make_netns NB b || die "cannot create a network namespace"
	ike_veth "$NA" vA "$A/24" "$NB" vB "$B/24" || die "veth"
	local PA="" PB="" PL=""
	part_psk
	stop_all
	local p1=$PA p2=$PB
	part_cert
	stop_all
	local p3=$PA p4=$PB
	part_libreswan
	stop_all
	check "no charon or pluto of ours left running" none_left $p1 $p2 $p3 $p4 $PA $PL
	finish
}

main "$@"
