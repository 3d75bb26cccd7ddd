#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# sealnet's IKEv2 against libreswan 4.10's pluto (unpacked in
# /opt/sealnet/libreswan by .ci/deps, run here with its own configuration, NSS
# database and run directory, in our namespace): childless IKE SAs only
# (RFC 6023; libreswan's child SAs need the kernel's ESP, which this kernel
# lacks). libreswan 4.10 answers childless IKE_AUTH but always proposes a
# child as initiator, so sealnet initiates (snctl ike initiate k) and pluto
# responds; the "pluto initiates" case is left out.
#
#   namespace k: pluto on 192.0.2.1 (kernel end of the TAP) | sn-echo 192.0.2.2
#
# Scenarios (IKE_LS_ONLY=psk,null,cookies,rekey,delete): PSK; NULL
# authentication (RFC 7619, authby=null); cookies (sealnet's
# cookie_threshold = 0 has no effect as initiator; pluto's --impair is not
# used, so pluto is made to demand cookies with `whack --ddos-mode busy`);
# IKE rekey (snctl ike rekey k: ike.ike_rekeyed); delete (snctl ike terminate
# k: ike.delete_sent, pluto has no IKE SA). IKE_LS_DRYRUN=1: only writes and
# checks the configurations (pluto starts with them and adds the conn).
# Exit 77 when the sealnet programs do not know --ike-conf.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ike_lib.sh
. "$(dirname "$0")/ike_lib.sh"

K=192.0.2.1 S=192.0.2.2 PSK=libreswan-interop-psk-0123456789
ALL="psk null cookies rekey delete"
DRY=${IKE_LS_DRYRUN:-0}

ls_conf() {
	local d=$1 auth=$2
	mkdir -p "$d"
	{
		printf 'config setup\n\tuniqueids=no\n\nconn k\n\tikev2=insist\n\tleft=%s\n\tright=%s\n' "$K" "$S"
		if [ "$auth" = null ]; then
			printf '\tauthby=null\n\tleftid=%%null\n\trightid=%%null\n'
		else
			printf '\tauthby=secret\n\tleftid=@k.example\n\trightid=@s.example\n'
		fi
		printf '\tike=aes_gcm128-sha2_256-dh19,aes128-sha2_256-dh19\n\tikelifetime=1h\n\tauto=add\n'
	} >"$d/ipsec.conf"
	printf '@k.example @s.example : PSK "%s"\n' "$PSK" >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
}

sn_conf() {
	local f=$1 auth=$2 a=psk lid=s.example rid=k.example; shift 2
	[ "$auth" = null ] && a=null lid=%any rid=%any
	cat >"$f" <<CONF
connections {
  k {
    local_addrs = $S
    remote_addrs = $K
    proposals = aes128gcm16-prfsha256-ecp256,aes128-sha256-ecp256
    childless = force
    local {
      auth = $a
      id = $lid
    }
    remote {
      auth = $a
      id = $rid
    }
  }
}
secrets {
  ike-k {
    id-1 = s.example
    id-2 = k.example
    secret = "$PSK"
  }
}
sealnet {
$(for l in "$@"; do printf '  %s\n' "$l"; done)
}
CONF
}

up() {
	local t=$1 auth=$2 d=$WORK/$1 dev=$SN_NAME_PREFIX${RUN_ID}s; shift 2
	ls_conf "$d" "$auth"
	sn_conf "$d/sealnet.conf" "$auth" "$@"
	if [ "$DRY" = 1 ]; then
		ip -n "$NS" link show dummy0 >/dev/null 2>&1 ||
			{ ip -n "$NS" link add dummy0 type dummy && ip -n "$NS" addr add "$K/24" dev dummy0 && ip -n "$NS" link set dummy0 up; }
		pluto_start PL "$NS" "$d" || return 1
		check "$t: pluto added conn k" grep -q 'added IKEv2 connection' "$d/pluto.log"
		check "$t: sealnet.conf written" test -s "$d/sealnet.conf"
		pluto_stop "$PL"; PL=""
		return 1
	fi
	spawn SP "$d/sn-echo.log" "$NS" sn-echo --dev "tap:$dev" --addr "$S/24" --lcore 0 --stats \
		--port 7007 --ike-conf "$d/sealnet.conf" --keylog "$d/sealnet.keylog"
	ike_tap_peer "$NS" "$dev" "$SP" "$K/24" || { fail "$t: TAP"; return 1; }
	wait_ready "$SP" "$d/sn-echo.log" sn-echo || return 1
	pluto_start PL "$NS" "$d" || return 1
	check "$t: snctl ike initiate k (childless)" "$SN_BIN/snctl" --pid "$SP" ike initiate k
	check "$t: pluto lists the IKE SA established" pluto_wait_sa "$d" 1
	check "$t: sealnet counts it (ike.sas 1, ike.children 0)" both_counts 1 0
}

both_counts() {
	local s c
	s=$(ike_counter "$SP" ike.sas) c=$(ike_counter "$SP" ike.children)
	echo "ike.sas $s ike.children $c"
	[ "$s" = "$1" ] && [ "$c" = "$2" ]
}

down() {
	[ -n "${SP:-}" ] && stop_server "$SP" "$1: sn-echo" "$WORK/$1/sn-echo.log"
	[ -n "${PL:-}" ] && pluto_stop "$PL"
	SP="" PL=""
}

sc_psk() { up psk psk && true; down psk; }
sc_null() { up null null && true; down null; }
sc_cookies() {
	if up cookies psk; then :; fi
	down cookies
	[ "$DRY" = 1 ] && return
	# pluto demands cookies from every initiator in busy mode.
	ls_conf "$WORK/cookies2" psk; sn_conf "$WORK/cookies2/sealnet.conf" psk
	local d=$WORK/cookies2 dev=$SN_NAME_PREFIX${RUN_ID}s
	spawn SP "$d/sn-echo.log" "$NS" sn-echo --dev "tap:$dev" --addr "$S/24" --lcore 0 --stats --port 7007 --ike-conf "$d/sealnet.conf"
	ike_tap_peer "$NS" "$dev" "$SP" "$K/24" && wait_ready "$SP" "$d/sn-echo.log" sn-echo || return 1
	pluto_start PL "$NS" "$d" || return 1
	whack "$d" --ddos-mode busy >/dev/null
	check "cookies: snctl ike initiate k against a busy pluto" "$SN_BIN/snctl" --pid "$SP" ike initiate k
	check "cookies: pluto lists the IKE SA established" pluto_wait_sa "$d" 1
	check "cookies: sealnet returned pluto's cookie (ike.cookie_received)" ike_counter_grew "$SP" ike.cookie_received 0
	SP=$SP; down cookies2
}
sc_rekey() {
	up rekey psk || { down rekey; return; }
	check "rekey: snctl ike rekey k" "$SN_BIN/snctl" --pid "$SP" ike rekey k
	sleep 2
	check "rekey: ike.ike_rekeyed grew" ike_counter_grew "$SP" ike.ike_rekeyed 0
	check "rekey: pluto still has one IKE SA" pluto_wait_sa "$WORK/rekey" 1 5
	down rekey
}
sc_delete() {
	up delete psk || { down delete; return; }
	check "delete: snctl ike terminate k" "$SN_BIN/snctl" --pid "$SP" ike terminate k
	check "delete: ike.delete_sent grew" ike_counter_grew "$SP" ike.delete_sent 0
	check "delete: pluto has no IKE SA" pluto_gone "$WORK/delete"
	# and from pluto's side
	check "delete: initiate again" "$SN_BIN/snctl" --pid "$SP" ike initiate k
	pluto_wait_sa "$WORK/delete" 1 >/dev/null
	whack "$WORK/delete" --deletestate "$(whack "$WORK/delete" --showstates | sed -nE 's/^#([0-9]+):.*ESTABLISHED_IKE_SA.*/\1/p' | head -n 1)" >/dev/null 2>&1
	sleep 1
	check "delete: pluto deletes: ike.delete_received grew" ike_counter_grew "$SP" ike.delete_received 0
	down delete
}

pluto_gone() {
	local i
	for ((i = 0; i < 50; i++)); do [ "$(pluto_sa_count "$1")" = 0 ] && return 0; sleep 0.2; done
	return 1
}

main() {
	require_root
	require_ike_peers libreswan
	[ "$DRY" = 1 ] || { require_bins sn-echo snctl; ike_skip_unless_supported sn-echo; }
	make_workdir
	sweep_stale
	make_netns NS k || die "cannot create a network namespace"
	[ "$DRY" = 1 ] || hp_ensure 512
	SP="" PL=""
	local s only=${IKE_LS_ONLY:-$ALL}
	for s in ${only//,/ }; do
		case " $ALL " in *" $s "*) info "scenario $s"; "sc_$s" || true ;;
		*) fail "unknown scenario '$s' (IKE_LS_ONLY takes $ALL)" ;; esac
	done
	finish
}

main "$@"
