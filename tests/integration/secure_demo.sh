#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# `make demo`, second part: sockets that secure themselves with IPsec, for a
# human to watch.
#
#   process A (lcore 0)                              process B (lcore 1)
#   198.51.100.1/24                                  198.51.100.2/24
#   sn-perf server --secure           <-memif->      sn-perf client --secure,
#   keys: one AES-GCM SA pair,                       then one without --secure
#   B's SA says "peer-id client.example"             A's SA says "peer-id server.example"
#
# No policy lines: each secured socket makes its own. Each side prints what
# sn_query_socket_security says about its connection; the demo turns that
# into plain words, then shows that a client without --secure is refused
# and that A counted the cleartext it dropped.
# Exit 0 iff the secured run worked and the cleartext client was refused.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

A=198.51.100.1 B=198.51.100.2 PORT=5201
SECS=${DEMO_SECONDS:-2}
SPID=                     # the sn-perf server on A

step() { printf '\n== %s\n' "$*"; }
line() { printf '   %s\n' "$*"; }


# keys: the same two GCM SAs for both, each side told who holds the keys.
keys() {
	local k1 k2 x id
	k1=$(hexkey 20) k2=$(hexkey 20)
	for x in a:client.example b:server.example; do
		id=${x#*:}
		{
			echo "state add src $A dst $B proto esp spi 0x1001 mode transport reqid 1" \
				"aead 'rfc4106(gcm(aes))' $k1 128 peer-id $id"
			echo "state add src $B dst $A proto esp spi 0x2001 mode transport reqid 2" \
				"aead 'rfc4106(gcm(aes))' $k2 128 peer-id $id"
		} >"$WORK/${x%%:*}.conf"
	done
}

word() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i + 1); exit}}' <<<"$1"; }

# explain WHO LOG: WHO's security line, and what it means.
explain() {
	local who=$1 l how
	l=$(sed -n 's/^sn-perf: security: //p' "$2" | head -n 1)
	line "$who's socket reports: ${l:-nothing}"
	case $l in
	"secured encrypted "*) how="encrypted and authenticated" ;;
	"secured "*) how="authenticated but NOT encrypted" ;;
	*) line "   -> NOT protected"; return 1 ;;
	esac
	l=${l#secured } l=${l#encrypted }
	read -r proto mode cipher integ _ <<<"$l"
	[ "$integ" = aead ] && integ="the cipher's own tag (AEAD)"
	line "   -> $how: ${proto^^} in $mode mode, cipher $cipher, integrity $integ;"
	line "      the other side is '$(word "$l" peer)', the identity bound to the keys it sends with;"
	line "      $who receives on SPI $(word "$l" spi_in) and sends on SPI $(word "$l" spi_out)"
}

demo_secured() {
	local js rc=0
	line "A: sn-perf server --port $PORT --ipsec-conf a.conf --secure"
	line "B: sn-perf client --connect $A:$PORT --mode tcp-stream --seconds $SECS --ipsec-conf b.conf --secure"
	perf_client "$WORK/client.log" $((SECS + 30)) --dev "memif:$SOCK,client" --addr $B/24 --lcore 1 \
		--ipsec-conf "$WORK/b.conf" --secure --connect $A:$PORT --mode tcp-stream --seconds "$SECS" || rc=$?
	js=$(json_line "$WORK/client.log")
	if [ "$rc" != 0 ] || [ -z "$js" ]; then
		line "the secured client failed (exit $rc)"
		show_log "$WORK/client.log" 20
		return 1
	fi
	jq -r '"   \(.gbps * 100 | round / 100) Gbit/s over \(.seconds) s, \(.errors // 0) errors (data verified by the receiver)"' <<<"$js"
	explain B "$WORK/client.log" || return 1
	explain A "$WORK/server.log" || return 1
	jq -e '(.errors // 0) == 0' >/dev/null <<<"$js"
}

stat_a() { "$SN_BIN/snctl" --pid "$SPID" stats | awk -v k="$1" '$1 == k {print $2}'; }

demo_cleartext() {
	local before after rc=0 why
	before=$(stat_a ipsec.drop_cleartext)
	line "B: sn-perf client --connect $A:$PORT (no --secure: its packets go out in the clear)"
	perf_client "$WORK/clear.log" 40 --dev "memif:$SOCK,client" --addr $B/24 --lcore 1 \
		--connect $A:$PORT --mode tcp-stream --seconds 1 || rc=$?
	after=$(stat_a ipsec.drop_cleartext)
	why=$(grep -m1 -o 'cannot connect.*' "$WORK/clear.log")
	if [ "$rc" = 0 ]; then
		line "the cleartext client got through: the secured socket did NOT protect itself"
		return 1
	fi
	line "-> refused, it never got a connection: ${why:-exit $rc}"
	line "   A dropped $((after - before)) cleartext packets for its secured socket (snctl: ipsec.drop_cleartext $before -> $after)"
	[ "$after" -gt "$before" ]
}

main() {
	require_root
	require_bins sn-perf snctl
	make_workdir
	make_rundir
	sweep_stale
	hp_ensure "$SN_HUGEPAGES" >/dev/null
	export SN_RUNDIR=$RUNDIR
	SOCK=$RUNDIR/memif.sock
	keys
	printf 'sealnet secure sockets demo: IPsec per socket, asked for with --secure\n'
	printf '   A %s (lcore 0)  <-- memif -->  B %s (lcore 1)\n' $A $B
	printf '%s\n' '   keys: one AES-GCM SA pair, given to both as "ip xfrm state" lines; no policies'
	start_server SPID "$WORK/server.log" - sn-perf server --port $PORT --dev "memif:$SOCK,server" \
		--addr $A/24 --lcore 0 --ipsec-conf "$WORK/a.conf" --secure || exit 1
	local ok=0
	step "1/2 a secured client: what each side's socket says"
	demo_secured || ok=1
	step "2/2 a client without --secure"
	demo_cleartext || ok=1
	stop_pid "$SPID" >/dev/null 2>&1
	echo
	if [ "$ok" = 0 ]; then echo "secure demo: OK"; else echo "secure demo: FAILED"; fi
	exit "$ok"
}

main "$@"
