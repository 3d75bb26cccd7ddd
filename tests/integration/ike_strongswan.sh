#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# sealnet's IKEv2 against strongSwan 5.9.8 (kernel-libipsec) behind a TAP.
#
#   namespace snt-<pid>-<id>-k
#   +----------------------------------------------------------------+
#   |  kernel 192.0.2.1/24: charon, kernel_peer.py, python http.server |
#   |        |  TAP snt<id>s (made by net_tap)                       |
#   |  sealnet 192.0.2.2/24: sn-echo --secure / sn-fetch --secure      |
#   |          --ike-conf $WORK/S/sealnet.conf --stats                 |
#   +----------------------------------------------------------------+
#
# Child SAs are host-to-host tunnels 192.0.2.1/32 === 192.0.2.2/32 in UDP
# 4500 (all kernel-libipsec does). Scenarios (functions sc_X), selected by
# IKE_SS_ONLY=a,b,...:
#   a strongSwan initiates to sn-echo --secure, PSK; 1 MiB echoed (SHA-256)
#   b sealnet initiates: sn-fetch --secure to a kernel HTTP server
#   c ECDSA P-256 certificates (pki)        d RSA-2048 certificates
#   e a revoked certificate is refused (CRL): ike.cert_revoked
#   f EAP-MSCHAPv2 as second round (sealnet as client, DOMAIN\user)
#   g cookies forced both sides: ike.cookie_received / ike.cookie_sent
#   h fragmentation forced (fragment_size 576): ike.frag_sent / frag_reassembled
#   i child and IKE rekeys under traffic (short lifetimes), no lost byte
#   j delete from either side: ike.delete_sent / ike.delete_received
#   k peer killed: ike.dpd_dead, SAs gone in bounded time, connect fails
# IKE_SS_DRYRUN=1: only writes every scenario's configurations and loads
# them (strongSwan's, and sealnet's with its sealnet { } section removed)
# into a running charon with swanctl --load-all; runs no sealnet program.
# Exit 77 when the sealnet programs do not know --ike-conf.
# shellcheck disable=SC2317  # helpers called through check()
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ike_lib.sh
. "$(dirname "$0")/ike_lib.sh"

K=192.0.2.1 S=192.0.2.2 ECHO=7007 HTTP=8080 PSK=sealnet-interop-psk-0123456789
ALL="a b c d e f g h i j k"
DRY=${IKE_SS_DRYRUN:-0}

# ---- configurations ------------------------------------------------------------------

# sw_conf DIR AUTH [LINES...]: strongSwan's swanctl.conf: connection "sn" to
# sealnet, child "t"; AUTH psk | pubkey | eap (pubkey then EAP round);
# extra LINES go into the connection.
sw_conf() {
	local d=$1 auth=$2 la=psk ra=psk extra="" cert="" l; shift 2
	case $auth in pubkey) la=pubkey ra=pubkey cert="certs = k.example.crt" ;;
	eap) la=psk ra=psk ;; esac
	for l in "$@"; do extra+="    $l"$'\n'; done
	cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
  sn {
    version = 2
    local_addrs = $K
    remote_addrs = $S
    proposals = aes128gcm16-prfsha256-x25519,aes128-sha256-ecp256
    dpd_delay = 2s
${extra}    local {
      auth = $la
      id = k.example
      $cert
    }
    remote {
      auth = $ra
      id = s.example
    }
$([ "$auth" = eap ] && printf '    remote-2 {\n      auth = eap-mschapv2\n      eap_id = %s\n    }\n' '%any')
    children {
      t {
        local_ts = $K/32
        remote_ts = $S/32
        esp_proposals = aes128gcm16,aes128-sha256
        mode = tunnel
        rekey_time = ${CHILD_REKEY:-1h}
      }
    }
  }
}
secrets {
  ike-sn {
    id-1 = k.example
    id-2 = s.example
    secret = "$PSK"
  }
  eap-alice {
    id = EXAMPLE\\alice
    secret = "alice-password-1"
  }
}
CONF
}

# sn_conf FILE AUTH [SETTINGS...]: sealnet's --ike-conf (swanctl.conf syntax):
# connection "k" to strongSwan, child "t"; SETTINGS go into sealnet { }.
sn_conf() {
	local f=$1 auth=$2 la=psk ra=psk cert="" l set=""; shift 2
	[ "$auth" = pubkey ] && la=pubkey ra=pubkey cert="certs = $PKID/s.example.crt"
	for l in "$@"; do set+="  $l"$'\n'; done
	cat >"$f" <<CONF
connections {
  k {
    local_addrs = $S
    remote_addrs = $K
    proposals = aes128gcm16-prfsha256-x25519,aes128-sha256-ecp256
    dpd_delay = 2s
    dpd_timeout = 6s
    local {
      auth = $la
      id = s.example
      $cert
    }
$([ "$auth" = eap ] && printf '    local-2 {\n      auth = eap-mschapv2\n      eap_id = %s\n    }\n' 'EXAMPLE\alice')
    remote {
      auth = $ra
      id = k.example
$([ "$auth" = pubkey ] && printf '      cacerts = %s\n' "$PKID/ca.crt")
    }
    children {
      t {
        local_ts = $S/32
        remote_ts = $K/32
        esp_proposals = aes128gcm16,aes128-sha256
        mode = tunnel
        rekey_time = ${CHILD_REKEY:-1h}
        start_action = none
      }
    }
  }
}
secrets {
  ike-k {
    id-1 = s.example
    id-2 = k.example
    secret = "$PSK"
  }
  eap-alice {
    id = EXAMPLE\\alice
    secret = "alice-password-1"
  }
$([ "$auth" = pubkey ] && printf '  private-s {\n    file = %s\n  }\n' "$PKID/s.example.key")
}
$([ -f "$PKID/ca.crt" ] && printf 'authorities {\n  test-ca {\n    cacert = %s\n' "$PKID/ca.crt")
$([ -f "$PKID/ca.crl" ] && printf '    crl_uris = %s\n' "$PKID/ca.crl")
$([ -f "$PKID/ca.crt" ] && printf '  }\n}\n')
sealnet {
${set}}
CONF
}

# ---- running ---------------------------------------------------------------------------

# up TAG PROG ARGS...: charon (strongswan.conf LINES from $SW_LINES) and a
# sealnet program PROG on the TAP; $CP, $SP.
up() {
	local tag=$1 prog=$2; shift 2
	local d=$WORK/$tag dev=$SN_NAME_PREFIX${RUN_ID}s
	# shellcheck disable=SC2086
	charon_start CP "$NS" "$d" "${SW_LINES[@]}" || return 1
	spawn SP "$d/$prog.log" "$NS" "$prog" --dev "tap:$dev" --addr "$S/24" --lcore 0 --stats \
		--ike-conf "$d/sealnet.conf" --keylog "$d/sealnet.keylog" "$@"
	ike_tap_peer "$NS" "$dev" "$SP" "$K/24" || { fail "$tag: TAP $dev"; show_log "$d/$prog.log"; return 1; }
	wait_ready "$SP" "$d/$prog.log" "$prog" "$@" || return 1
	check "$tag: strongSwan loads its configuration" sw_load "$d"
}

down() {
	local tag=$1 prog=$2
	[ -n "${SP:-}" ] && stop_server "$SP" "$tag: $prog" "$WORK/$tag/$prog.log"
	[ -n "${CP:-}" ] && charon_stop "$CP"
	SP="" CP=""
}

echo_ok() { ip netns exec "$NS" timeout -k 5 60 "$PY" "$SN_ROOT/tests/integration/kernel_peer.py" tcp-bulk "$S" "$ECHO" "${1:-1}"; }
ctr() { ike_counter "$SP" "$1"; }
grew() { ike_counter_grew "$SP" "$1" "${2:-0}"; }
sa_line() { "$SN_BIN/snctl" --pid "$SP" ike sa | tee /dev/stderr | grep -q "$1"; }

# responder TAG AUTH: strongSwan initiates to sn-echo --secure, data echoed.
responder() {
	local tag=$1
	up "$tag" sn-echo --port "$ECHO" --secure || return 1
	check "$tag: strongSwan initiates, IKE and child SA up" sw_initiate "$WORK/$tag" t
	check "$tag: 1 MiB echoed through the tunnel, same SHA-256" echo_ok 1
	check "$tag: sealnet counts one IKE SA (ike.sas)" ike_counter_le "$SP" ike.sas 1
	check "$tag: snctl ike sa names k.example" sa_line k.example
}

sc_a() { local t=a; prep $t psk; [ "$DRY" = 1 ] && return; responder $t; down $t sn-echo; }

sc_b() {
	local t=b d=$WORK/b
	prep $t psk; [ "$DRY" = 1 ] && return
	charon_start CP "$NS" "$d" || return 1
	check "b: strongSwan loads its configuration" sw_load "$d"
	mkdir -p "$d/www"; head -c $((4 << 20)) /dev/urandom >"$d/www/f.bin"
	ip netns exec "$NS" "$PY" -m http.server --bind "$K" --directory "$d/www" "$HTTP" >"$d/http.log" 2>&1 &
	track_pid $!
	local hp=$! dev=$SN_NAME_PREFIX${RUN_ID}s
	spawn SP "$d/sn-fetch.log" "$NS" sn-fetch --dev "tap:$dev" --addr "$S/24" --lcore 0 --stats \
		--secure --ike-conf "$d/sealnet.conf" --url "http://$K:$HTTP/f.bin" --output "$d/got.bin" --timeout 40
	ike_tap_peer "$NS" "$dev" "$SP" "$K/24" || fail "b: TAP"
	check "b: sn-fetch --secure fetches 4 MiB through the tunnel it negotiated" wait_exit0 "$SP"
	check "b: same SHA-256" cmp "$d/www/f.bin" "$d/got.bin"
	check "b: strongSwan saw an IKE SA from sealnet" grep -q "IKE_SA sn\[[0-9]*\] established" "$d/charon.log"
	check "b: sealnet's --stats has ike.sas and ike.children" grep -Eq '^ike\.children [1-9]' "$d/sn-fetch.log"
	stop_pid "$hp" 3; SP=""; down $t sn-fetch
}

refused() { ! sw_initiate "$1" t; }
wait_exit0() { local rc=0; wait "$1" || rc=$?; _sn_forget "$1"; [ "$rc" = 0 ]; }

sc_c() { local t=c; CERT=ecdsa prep $t pubkey; [ "$DRY" = 1 ] && return; responder $t; down $t sn-echo; }
sc_d() { local t=d; CERT=rsa prep $t pubkey; [ "$DRY" = 1 ] && return; responder $t; down $t sn-echo; }

sc_e() {
	local t=e
	CERT=ecdsa REVOKE=k.example prep $t pubkey; [ "$DRY" = 1 ] && return
	up $t sn-echo --port "$ECHO" --secure || return 1
	check "e: strongSwan's revoked certificate is refused" refused "$WORK/e"
	check "e: ike.cert_revoked grew" grew ike.cert_revoked 0
	check "e: ike.sas is 0" ike_counter_le "$SP" ike.sas 0
	down $t sn-echo
}

sc_f() {
	local t=f
	prep $t eap; [ "$DRY" = 1 ] && return
	# sealnet initiates (its local-2 round is EAP-MSCHAPv2 as EXAMPLE\alice).
	up $t sn-echo --port "$ECHO" --secure || return 1
	check "f: snctl ike initiate k" "$SN_BIN/snctl" --pid "$SP" ike initiate k
	check "f: strongSwan: EAP-MSCHAPv2 round succeeded" wait_for_line "$WORK/f/charon.log" 'EAP method EAP_MSCHAPV2 succeeded' "$IKE_WAIT"
	check "f: 1 MiB echoed" echo_ok 1
	down $t sn-echo
}

sc_g() {
	local t=g
	SW_LINES=("cookie_threshold = 0") prep $t psk "cookie_threshold = 0"; [ "$DRY" = 1 ] && return
	SW_LINES=("cookie_threshold = 0")
	responder $t
	check "g: sealnet demanded a cookie (ike.cookie_sent)" grew ike.cookie_sent 0
	check "g: snctl ike initiate k against strongSwan's cookies" "$SN_BIN/snctl" --pid "$SP" ike initiate k
	check "g: sealnet returned strongSwan's cookie (ike.cookie_received)" grew ike.cookie_received 0
	down $t sn-echo; SW_LINES=()
}

sc_h() {
	local t=h
	CERT=rsa prep $t pubkey "fragment_size = 576"; [ "$DRY" = 1 ] && return
	SW_LINES=("fragment_size = 576")
	responder $t
	check "h: sealnet sent IKE fragments (ike.frag_sent)" grew ike.frag_sent 0
	check "h: sealnet reassembled strongSwan's (ike.frag_reassembled)" grew ike.frag_reassembled 0
	down $t sn-echo; SW_LINES=()
}

sc_i() {
	local t=i
	CHILD_REKEY=5s prep $t psk; [ "$DRY" = 1 ] && return
	up $t sn-echo --port "$ECHO" --secure || return 1
	check "i: strongSwan initiates" sw_initiate "$WORK/i" t
	sw "$WORK/i" --rekey --ike sn >/dev/null 2>&1 &
	check "i: 64 MiB echoed across child rekeys (5 s) and an IKE rekey, same SHA-256" echo_ok 64
	check "i: ike.child_rekeyed grew" grew ike.child_rekeyed 0
	check "i: snctl ike rekey k" "$SN_BIN/snctl" --pid "$SP" ike rekey k
	check "i: ike.ike_rekeyed grew" grew ike.ike_rekeyed 0
	down $t sn-echo
}

sc_j() {
	local t=j
	prep $t psk; [ "$DRY" = 1 ] && return
	responder $t
	sw "$WORK/j" --terminate --ike sn >/dev/null 2>&1
	check "j: ike.delete_received grew" grew ike.delete_received 0
	check "j: sealnet has no IKE SA" ike_counter_le "$SP" ike.sas 0
	sw_initiate "$WORK/j" t >/dev/null 2>&1
	check "j: snctl ike terminate k" "$SN_BIN/snctl" --pid "$SP" ike terminate k
	check "j: ike.delete_sent grew" grew ike.delete_sent 0
	check "j: strongSwan has no IKE SA" sw_wait_none "$WORK/j" 10
	down $t sn-echo
}

sc_k() {
	local t=k
	prep $t psk; [ "$DRY" = 1 ] && return
	responder $t
	charon_kill "$CP"; CP=""
	local i
	for ((i = 0; i < 30; i++)); do [ "$(ctr ike.sas)" = 0 ] && break; sleep 1; done
	check "k: after the peer is killed, liveness removes its SAs within 30 s (ike.dpd_dead)" grew ike.dpd_dead 0
	check "k: ike.sas is 0" ike_counter_le "$SP" ike.sas 0
	down $t sn-echo
}

# prep TAG AUTH [SEALNET SETTINGS...]: the scenario's directory, certificates
# (CERT=ecdsa|rsa; REVOKE=NAME puts NAME on the CRL) and both configurations.
prep() {
	local t=$1 auth=$2 d=$WORK/$1; shift 2
	PKID=$d/pki
	mkdir -p "$d"
	charon_conf "$d"
	if [ -n "${CERT:-}" ]; then
		ike_pki_ca "$PKID" && ike_pki_ee "$PKID" k.example "$CERT" && ike_pki_ee "$PKID" s.example "$CERT" ||
			{ fail "$t: pki"; return 1; }
		[ -z "${REVOKE:-}" ] || ike_pki_crl "$PKID" "$REVOKE" || { fail "$t: pki --signcrl"; return 1; }
		ike_pki_install "$PKID" "$d" k.example || return 1
	fi
	sw_conf "$d" "$auth"
	sn_conf "$d/sealnet.conf" "$auth" "$@"
	if [ "$DRY" = 1 ]; then
		check "$t: strongSwan's swanctl.conf loads" sw_load_into "$d/swanctl/swanctl.conf" "$d"
		# sealnet's file in swanctl syntax, minus its own section, must load too.
		awk '/^sealnet \{/ {skip = 1} !skip {print} skip && /^\}/ {skip = 0}' "$d/sealnet.conf" >"$d/sn-as-swanctl.conf"
		check "$t: sealnet's --ike-conf is swanctl.conf syntax (loads into charon)" sw_load_into "$d/sn-as-swanctl.conf" "$d"
	fi
}

# sw_load_into FILE DIR: load FILE (with DIR's credentials) into the dry-run charon.
sw_load_into() {
	local out
	out=$(SWANCTL_DIR=$2/swanctl timeout 20 "$SWANCTL" --load-all --noprompt --uri "unix://$DRYD/run/charon.vici" --file "$1" 2>&1)
	local rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 0 ] && ! grep -v '^opening directory' <<<"$out" | grep -Eqi 'failed|invalid|unknown|error|loaded [0-9]+ of'
}

main() {
	require_root
	require_ike_peers
	[ "$DRY" = 1 ] || { require_bins sn-echo sn-fetch snctl; ike_skip_unless_supported sn-echo sn-fetch; }
	make_workdir
	sweep_stale
	make_netns NS k || die "cannot create a network namespace"
	SW_LINES=()
	if [ "$DRY" = 1 ]; then
		DRYD=$WORK/dry
		mkdir -p "$DRYD"
		ip -n "$NS" link add dummy0 type dummy && ip -n "$NS" addr add "$K/24" dev dummy0 && ip -n "$NS" link set dummy0 up
		charon_start DP "$NS" "$DRYD" || die "charon for the dry run"
	else
		hp_ensure 512
	fi
	local s only=${IKE_SS_ONLY:-$ALL}
	for s in ${only//,/ }; do
		case " $ALL " in *" $s "*) info "scenario $s"; CERT="" REVOKE="" "sc_$s" || true ;;
		*) fail "unknown scenario '$s' (IKE_SS_ONLY takes $ALL)" ;; esac
	done
	finish
}

main "$@"
