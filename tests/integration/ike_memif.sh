#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# IKEv2 between two sealnets: the socket security API with keys negotiated
# on demand. No `state add` line anywhere: each side has only --ike-conf
# (swanctl.conf syntax) and --secure.
#
#   sealnet A (lcore 0)                             sealnet B (lcore 1)
#   sn-perf server :5201 --secure                   sn-perf client --secure
#   198.51.100.1/24  <---- memif:$RUNDIR/memif.sock ---->  198.51.100.2/24
#   a.conf: id server.example, PSK                  b.conf: id client.example, PSK
#
# Checks:
#  1. secured sn-perf tcp-rr and tcp-stream with no manual SA (verified,
#     errors 0): both security lines say "secured encrypted esp transport
#     aes-gcm-128", name the identity the other side proved, and the SPIs
#     are crossed; `snctl ike sa` on A lists the IKE SA with client.example
#     and its algorithms; ike.sas is 1 and ike.auth_ok moved on A.
#  2. a second client run (a new process, a new IKE SA): its SPIs differ
#     from the first run's (never reused).
#  3. target name: a client with --peer-name A=wrong.example cannot connect
#     (Permission denied), its one log line says why, and A's SA count does
#     not grow past what a proven identity can get.
#  4. wrong PSK: the client cannot connect; A counts ike.auth_failed and
#     installs nothing (ipsec.sas unchanged).
#  5. a cleartext client to the secured port still cannot connect.
#
# Env: SN_IKE_PARTS (default "basic name psk clear"), SN_SHORT_SECONDS, SN_KEEP=1.
# shellcheck disable=SC2317  # helpers called through check()
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

A=198.51.100.1 B=198.51.100.2 PORT=5201
SERVER_ID=server.example CLIENT_ID=client.example
SECS=${SN_SHORT_SECONDS:-2}
PSK=0x5f3c9a11e2d04b7786a1c0ffee42d00d5f3c9a11e2d04b77
SPID=

# ike_conf FILE MY_ID [PSK]: a conf whose %any connection is every secured
# socket's default; the PSK is bound to both identities.
ike_conf() {
	cat >"$1" <<EOF
connections {
	default {
		remote_addrs = %any
		proposals = aes128gcm16-prfsha256-x25519
		local {
			auth = psk
			id = $2
		}
		remote {
			auth = psk
		}
	}
}
secrets {
	ike-1 {
		id-1 = $SERVER_ID
		id-2 = $CLIENT_ID
		secret = ${3:-$PSK}
	}
}
EOF
}

stat_a() { "$SN_BIN/snctl" --pid "$SPID" stats | awk -v k="$1" '$1 == k {print $2}'; }

server_up() {
	local tag=$1; shift
	start_server SPID "$WORK/$tag-server.log" - sn-perf server --port "$PORT" \
		--dev "memif:$SOCK,server" --addr "$A/24" --lcore 0 --ike-conf "$WORK/a.conf" \
		--stats "$@"
}

server_down() { stop_server "$SPID" "$1: sn-perf server" "$WORK/$1-server.log"; }

# client TAG CONF ARGS...: an sn-perf client run on B, bounded; sets RC.
client() {
	local tag=$1 cf=$2; shift 2
	RC=0
	run_fg timeout -k 5 40 "$SN_BIN/sn-perf" client --dev "memif:$SOCK,client" \
		--addr "$B/24" --lcore 1 --ike-conf "$WORK/$cf" --connect "$A:$PORT" --json \
		--stats "$@" >"$WORK/$tag-client.log" 2>&1 || RC=$?
}

sec_line() { sed -n "s/^$2: security: //p" "$1" | head -n 1; }
word() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i + 1); exit}}' <<<"$1"; }

# line_is LOG PREFIX PEER: the security line starts with PREFIX and names PEER.
line_is() {
	local l
	l=$(sec_line "$1" sn-perf)
	echo "${l:-no security line}"
	[[ $l == "$2 "* ]] && [ "$(word "$l" peer)" = "$3" ]
}

crossed() {
	local c s
	c=$(sec_line "$1" sn-perf) s=$(sec_line "$2" sn-perf)
	echo "client: in $(word "$c" spi_in) out $(word "$c" spi_out); server: in $(word "$s" spi_in) out $(word "$s" spi_out)"
	[ -n "$(word "$c" spi_out)" ] && [ "$(word "$c" spi_out)" = "$(word "$s" spi_in)" ] &&
		[ -n "$(word "$c" spi_in)" ] && [ "$(word "$c" spi_in)" = "$(word "$s" spi_out)" ]
}

at_least() {
	local v
	v=$(stat_a "$1")
	echo "A $1 = ${v:-none} (want >= $2)"
	[ "${v:-0}" -ge "$2" ]
}

ike_sa_lists() {
	"$SN_BIN/snctl" --pid "$SPID" ike sa | tee "$WORK/ike-sa.txt"
	grep -q "$CLIENT_ID" "$WORK/ike-sa.txt" && grep -qi 'aes128gcm16' "$WORK/ike-sa.txt"
}

part_basic() {
	local first
	ike_conf "$WORK/a.conf" "$SERVER_ID"
	ike_conf "$WORK/b.conf" "$CLIENT_ID"
	server_up basic --secure || return 1
	client rr b.conf --secure --mode tcp-rr --seconds "$SECS"
	perf_check "1 secured tcp-rr ${SECS}s, keys from IKEv2 only" "$WORK/rr-client.log" "$RC"
	check "1 client's line: secured encrypted aes-gcm-128, peer $SERVER_ID" \
		line_is "$WORK/rr-client.log" "secured encrypted esp transport aes-gcm-128" "$SERVER_ID"
	check "1 server's line: secured encrypted aes-gcm-128, peer $CLIENT_ID" \
		line_is "$WORK/basic-server.log" "secured encrypted esp transport aes-gcm-128" "$CLIENT_ID"
	check "1 SPIs crossed" crossed "$WORK/rr-client.log" "$WORK/basic-server.log"
	check "1 snctl ike sa on A lists the IKE SA with $CLIENT_ID" ike_sa_lists
	check "1 A: ike.auth_ok >= 1" at_least ike.auth_ok 1
	first=$(word "$(sec_line "$WORK/rr-client.log" sn-perf)" spi_in)
	client stream b.conf --secure --mode tcp-stream --seconds "$SECS"
	perf_check "2 secured tcp-stream ${SECS}s, a new client process" "$WORK/stream-client.log" "$RC"
	check "2 the new run negotiated new SPIs (first $first)" bash -c \
		"s=\$(sed -n 's/^sn-perf: security: //p' '$WORK/stream-client.log' | head -n1); echo \"\$s\";
		 [[ \$s == *'spi_in '* ]] && [[ \$s != *'spi_in $first '* ]]"
	server_down basic
}

part_name() {
	server_up name --secure || return 1
	client wrongname b.conf --secure --peer-name "$A=wrong.example" --mode tcp-rr --seconds 1
	check "3 --peer-name $A=wrong.example: Permission denied, and why" bash -c \
		"grep -m1 'cannot connect' '$WORK/wrongname-client.log';
		 grep -m1 'secured connect' '$WORK/wrongname-client.log';
		 [ $RC != 0 ] && grep -q 'cannot connect to .*: Permission denied' '$WORK/wrongname-client.log'"
	client rightname b.conf --secure --peer-name "$A=$SERVER_ID" --mode tcp-rr --seconds 1
	perf_check "3 --peer-name $A=$SERVER_ID connects" "$WORK/rightname-client.log" "$RC"
	server_down name
}

part_psk() {
	local sas
	ike_conf "$WORK/bad.conf" "$CLIENT_ID" 0x00112233445566778899aabbccddeeff
	server_up psk --secure || return 1
	sas=$(stat_a ipsec.sas)
	client badpsk bad.conf --secure --mode tcp-rr --seconds 1
	check "4 wrong PSK: the client cannot connect" bash -c \
		"grep -m1 'cannot connect' '$WORK/badpsk-client.log'; [ $RC != 0 ]"
	check "4 A counted ike.auth_failed" at_least ike.auth_failed 1
	check "4 A installed no SA (ipsec.sas ${sas:-?})" bash -c "[ \"\$('$SN_BIN/snctl' --pid $SPID stats |
		awk '\$1 == \"ipsec.sas\" {print \$2}')\" = '${sas:-x}' ]"
	client cleartext b.conf --mode tcp-rr --seconds 1
	check "5 a cleartext client cannot connect to the secured port" bash -c \
		"grep -m1 'cannot connect' '$WORK/cleartext-client.log'; [ $RC != 0 ]"
	server_down psk
}


main() {
	require_root
	require_bins sn-perf snctl
	make_workdir
	make_rundir
	sweep_stale
	hp_ensure "$SN_HUGEPAGES"
	export SN_RUNDIR=$RUNDIR
	SOCK=$RUNDIR/memif.sock
	"$SN_BIN/sn-perf" --help 2>&1 | grep -q -- '--ike-conf' || die "sn-perf has no --ike-conf option"
	ike_conf "$WORK/a.conf" "$SERVER_ID"
	ike_conf "$WORK/b.conf" "$CLIENT_ID"
	local part
	for part in ${SN_IKE_PARTS:-basic name psk}; do
		"part_$part"
	done
	finish
}

main "$@"
