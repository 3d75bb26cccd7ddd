#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Attacks and bad input against sealnet's IKE responder (sn-echo --secure
# --ike-conf), each dropped and counted with nothing installed:
#   flood      2,000 IKE_SA_INIT from 2,000 source addresses (ike_attack.py):
#              ike.cookie_sent grows, ike.halfopen stays <= half_open_max (64),
#              and a legitimate strongSwan initiator still gets its SA
#   malformed  truncated, lengths that disagree, zero length, unknown
#              critical payload, bad version: ike.drop_malformed,
#              ike.unsupported_critical; sn-echo still answers
#   replay     a replayed IKE_SA_INIT (ike.retransmit_answered), message IDs
#              outside the window (ike.drop_msgid)
#   psk        strongSwan with a wrong PSK: ike.auth_failed, ike.sas 0
#   ca         a certificate from another CA: ike.auth_failed
#   idr        strongSwan asks for an IDr that is not ours: ike.idr_mismatch
#   ts         a child SA for traffic nobody listens for (port 9): refused
#              (TS_UNACCEPTABLE in strongSwan's log), ike.children 0
# IKE_AT_ONLY=a,b selects; IKE_AT_DRYRUN=1 only checks the configurations
# (loaded into a charon) and ike_attack.py (compiles, builds a message).
# Exit 77 when sn-echo does not know --ike-conf.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/ike_lib.sh
. "$(dirname "$0")/ike_lib.sh"

K=192.0.2.1 S=192.0.2.2 PSK=attack-test-psk-0123456789abcdef
ALL="flood malformed replay psk ca idr ts"
DRY=${IKE_AT_DRYRUN:-0}
DEV=

# sw_conf DIR AUTH PSK IDR [TS]: strongSwan's side (conn sn, child t).
sw_conf() {
	local d=$1 auth=$2 psk=$3 idr=$4 ts=${5:-$S/32} cert=""
	[ "$auth" = pubkey ] && cert="certs = k.example.crt"
	cat >"$d/swanctl/swanctl.conf" <<CONF
connections {
  sn {
    version = 2
    local_addrs = $K
    remote_addrs = $S
    proposals = aes128gcm16-prfsha256-x25519
    local {
      auth = $auth
      id = k.example
      $cert
    }
    remote {
      auth = $auth
      id = $idr
    }
    children {
      t {
        local_ts = $K/32
        remote_ts = $ts
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-sn {
    id-1 = k.example
    id-2 = $idr
    secret = "$psk"
  }
}
CONF
}

sn_conf() {
	local f=$1 auth=${2:-psk}
	cat >"$f" <<CONF
connections {
  k {
    local_addrs = $S
    remote_addrs = %any
    local {
      auth = $auth
      id = s.example
$([ "$auth" = pubkey ] && printf '      certs = %s\n' "$WORK/pki/s.example.crt")
    }
    remote {
      auth = $auth
      id = k.example
$([ "$auth" = pubkey ] && printf '      cacerts = %s\n' "$WORK/pki/ca.crt")
    }
    children {
      t {
        local_ts = $S/32[tcp/7007],$S/32[udp/7007]
        remote_ts = 0.0.0.0/0
        mode = tunnel
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
$([ "$auth" = pubkey ] && printf '  private-s {\n    file = %s\n  }\n' "$WORK/pki/s.example.key")
}
sealnet {
  cookie_threshold = 10
  block_threshold = 5
  half_open_max = 64
  half_open_timeout_s = 5
}
CONF
}

# start TAG [AUTH]: sn-echo --secure with sealnet.conf, charon beside it.
start() {
	local t=$1 auth=${2:-psk} d=$WORK/$1
	mkdir -p "$d"
	sn_conf "$d/sealnet.conf" "$auth"
	DEV=$SN_NAME_PREFIX${RUN_ID}s
	spawn SP "$d/sn-echo.log" "$NS" sn-echo --dev "tap:$DEV" --addr "$S/24" --lcore 0 --stats \
		--port 7007 --secure --ike-conf "$d/sealnet.conf"
	ike_tap_peer "$NS" "$DEV" "$SP" "$K/24" || { fail "$t: TAP"; return 1; }
	wait_ready "$SP" "$d/sn-echo.log" sn-echo || return 1
	charon_start CP "$NS" "$d" || return 1
}

stop() {
	[ -n "${CP:-}" ] && charon_stop "$CP"
	[ -n "${SP:-}" ] && stop_server "$SP" "$1: sn-echo" "$WORK/$1/sn-echo.log"
	SP="" CP=""
}

mac() { ip -n "$NS" neigh show "$S" dev "$DEV" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
attack() { ip netns exec "$NS" timeout -k 5 120 "$PY" "$SN_ROOT/tests/integration/ike_attack.py" "$DEV" "$(mac)" "$S" "$@"; }
ping_s() { ip netns exec "$NS" timeout 10 ping -n -c 2 -W 2 "$S"; }
c0() { local v; v=$(ike_counter "$SP" "$1"); echo "${v:-0}"; }
refused() { ! sw_initiate "$1" t; }
legit() { sw_conf "$1" psk "$PSK" s.example; sw_load "$1" && sw_initiate "$1" t; }

sc_flood() {
	local d=$WORK/flood
	[ "$DRY" = 1 ] && return 0
	start flood || { stop flood; return; }
	ping_s >/dev/null
	check "flood: 2000 IKE_SA_INIT from 2000 addresses sent" attack flood 2000
	check "flood: cookies started (ike.cookie_sent)" ike_counter_grew "$SP" ike.cookie_sent 0
	check "flood: ike.halfopen stays at most 64" ike_counter_le "$SP" ike.halfopen 64
	check "flood: a legitimate strongSwan initiator still gets through" legit "$d"
	stop flood
}

sc_malformed() {
	[ "$DRY" = 1 ] && return 0
	start malformed || { stop malformed; return; }
	ping_s >/dev/null
	check "malformed: frames sent" attack malformed
	check "malformed: ike.drop_malformed grew" ike_counter_grew "$SP" ike.drop_malformed 0
	check "malformed: ike.unsupported_critical grew" ike_counter_grew "$SP" ike.unsupported_critical 0
	check "malformed: nothing installed (ike.sas 0)" ike_counter_le "$SP" ike.sas 0
	check "malformed: sn-echo still answers ping" ping_s
	stop malformed
}

sc_replay() {
	[ "$DRY" = 1 ] && return 0
	start replay || { stop replay; return; }
	ping_s >/dev/null
	check "replay: frames sent" attack replay
	check "replay: the replayed IKE_SA_INIT answered from the cache (ike.retransmit_answered)" ike_counter_grew "$SP" ike.retransmit_answered 0
	check "replay: out-of-window message IDs dropped (ike.drop_msgid)" ike_counter_grew "$SP" ike.drop_msgid 0
	stop replay
}

# one_sw TAG AUTH PSK IDR TS COUNTER: strongSwan's attempt fails and COUNTER
# grows (COUNTER "-": no counter named for it).
one_sw() {
	local t=$1 auth=$2 psk=$3 idr=$4 ts=$5 ctr=$6 d=$WORK/$1
	mkdir -p "$d"; charon_conf "$d"
	if [ "$auth" = pubkey ]; then
		ike_pki_install "$WORK/pki" "$d" k.example "${CA:-ca}" || { fail "$t: certs"; return 1; }
	fi
	sw_conf "$d" "$auth" "$psk" "$idr" "$ts"
	if [ "$DRY" = 1 ]; then
		charon_start CP "$NS" "$d" || return 1
		check "$t: strongSwan's configuration loads" sw_load "$d"
		charon_stop "$CP"; CP=""
		return
	fi
	start "$t" "$auth" || { stop "$t"; return; }
	check "$t: strongSwan's configuration loads" sw_load "$d"
	check "$t: the negotiation is refused" refused "$d"
	[ "$ctr" = - ] || check "$t: $ctr grew" ike_counter_grew "$SP" "$ctr" 0
	check "$t: nothing installed (ike.children 0)" ike_counter_le "$SP" ike.children 0
	stop "$t"
}

sc_psk() { one_sw psk psk wrong-psk-0000000000000000 s.example "$S/32" ike.auth_failed; }
sc_ca() { CA=other one_sw ca pubkey - s.example "$S/32" ike.auth_failed; }
sc_idr() { one_sw idr psk "$PSK" not-us.example "$S/32" ike.idr_mismatch; }
sc_ts() {
	one_sw ts psk "$PSK" s.example "$S/32[tcp/9]" -
	[ "$DRY" = 1 ] || check "ts: strongSwan was told TS_UNACCEPTABLE" grep -q 'TS_UNACCEPTABLE' "$WORK/ts/charon.log"
}

pki_two_cas() {
	# strongSwan's certificate comes from "other", sealnet trusts only "ca".
	ike_pki_ca "$WORK/pki" ca && ike_pki_ca "$WORK/pki" other &&
		ike_pki_ee "$WORK/pki" s.example ecdsa ca && ike_pki_ee "$WORK/pki" k.example ecdsa other
}

py_ok() { "$PY" -c "import ast,sys; ast.parse(open(sys.argv[1]).read())" "$SN_ROOT/tests/integration/ike_attack.py"; }

main() {
	require_root
	require_ike_peers
	[ "$DRY" = 1 ] || { require_bins sn-echo snctl; ike_skip_unless_supported sn-echo; }
	make_workdir
	sweep_stale
	make_netns NS k || die "cannot create a network namespace"
	SP="" CP=""
	check "certificates: two CAs, sealnet's from one, strongSwan's from the other" pki_two_cas
	if [ "$DRY" = 1 ]; then
		ip -n "$NS" link add dummy0 type dummy && ip -n "$NS" addr add "$K/24" dev dummy0 && ip -n "$NS" link set dummy0 up
		check "ike_attack.py parses" py_ok
	else
		hp_ensure 512
	fi
	local s only=${IKE_AT_ONLY:-$ALL}
	for s in ${only//,/ }; do
		case " $ALL " in *" $s "*) info "attack $s"; "sc_$s" || true ;;
		*) fail "unknown attack '$s' (IKE_AT_ONLY takes $ALL)" ;; esac
	done
	finish
}

main "$@"
