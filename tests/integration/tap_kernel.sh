#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The stack in TAP mode against the Linux kernel, in a namespace of our own.
#
#   namespace snt-<pid>-<id>-k
#   +--------------------------------------------------------------+
#   |  kernel: curl, ping, python3, scapy                          |
#   |     192.0.2.1/24, 2001:db8::1/64                             |
#   |        |  TAP snt<id>h / snt<id>e (created by net_tap)       |
#   |        |                                                     |
#   |  sealnet (DPDK net_tap PMD, lcore 0)                         |
#   |     192.0.2.2/24, 2001:db8::2/64                             |
#   |     phase 1: sn-httpd :8080     phase 2: sn-echo :7007       |
#   +--------------------------------------------------------------+
#
# Phase 1 (sn-httpd): curl fetches a 16 MiB random file over IPv4 and IPv6 with
#   the same SHA-256; HEAD, 404, no escape from --root, keep-alive reuse.
# Phase 2 (sn-echo): ping and ping -6; 64 MiB through TCP echo (kernel client
#   sends and receives concurrently, SHA-256 compared); UDP echo over IPv4 and
#   IPv6 with several sizes; 1,000 concurrent connections each echoing its own
#   message; malformed frames from scapy, after which the stack must still answer.
# Both servers run with --stats and must exit 0 on SIGTERM.
# One stack process at a time: each busy-polls a core and the kernel peer needs the other.
# Most helpers below are called through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

STACK4=192.0.2.2 KERN4=192.0.2.1 STACK6=2001:db8::2 KERN6=2001:db8::1
STACK_ADDRS=(--addr "$STACK4/24" --addr "$STACK6/64" --lcore 0 --stats)
HTTP_PORT=8080 ECHO_PORT=7007
BULK_MIB=${SN_BULK_MIB:-64}
CONNS=${SN_CONNS:-1000}

# kernel_side IF: address and bring up the kernel end of the stack's TAP device.
kernel_side() {
	local dev=$1
	ip -n "$NS" addr add "$KERN4/24" dev "$dev" &&
		ip -n "$NS" addr add "$KERN6/64" dev "$dev" nodad &&
		ip -n "$NS" link set "$dev" up
}

# start_tap_server VAR LOG IF PROG ARGS...: the stack program in NS on TAP IF;
# configure the kernel side as soon as the interface appears, then wait for ready.
start_tap_server() {
	local __var=$1 lg=$2 dev=$3 prog=$4; shift 4
	spawn "$__var" "$lg" "$NS" "$prog" --dev "tap:$dev" "${STACK_ADDRS[@]}" "$@"
	if ! wait_for_iface "$NS" "$dev" "$SN_READY_TIMEOUT" "${!__var}"; then
		fail "$prog: TAP interface $dev did not appear in $NS"
		show_log "$lg" 40
		return 1
	fi
	kernel_side "$dev" || { fail "configuring kernel side of $dev"; return 1; }
	wait_ready "${!__var}" "$lg" "$prog" --dev "tap:$dev" "${STACK_ADDRS[@]}" "$@"
}

nsx() { ip netns exec "$NS" "$@"; }

# sha_equal A B: same SHA-256 (prints both when they differ).
sha_equal() {
	local a b
	a=$(sha256sum <"$1" | cut -d' ' -f1) b=$(sha256sum <"$2" | cut -d' ' -f1)
	[ "$a" = "$b" ] && { echo "sha256 $a"; return 0; }
	echo "sha256 differ: $1 $a, $2 $b ($(stat -c %s "$2") bytes)"
	return 1
}

# http_code URL [CURL ARGS]: the status code curl sees (000 on no response).
http_code() {
	local url=$1; shift
	nsx timeout 20 curl -s -o /dev/null --max-time 15 -w '%{http_code}' "$@" "$url"
}

expect_code() {
	local want=$1 got; shift
	got=$(http_code "$@")
	echo "HTTP $got for $*"
	[ "$got" = "$want" ]
}

not_code() {
	local bad=$1 got; shift
	got=$(http_code "$@")
	echo "HTTP $got for $*"
	[ "$got" != "$bad" ] && [ "$got" != 000 ]
}

fetch_big() {
	local url=$1 out=$2
	nsx timeout 90 curl -sS --fail --max-time 80 -o "$out" "$url" || return 1
	sha_equal "$WORK/www/big.bin" "$out"
}

head_length() {
	nsx timeout 20 curl -sS --max-time 15 -I "http://$STACK4:$HTTP_PORT/big.bin" | tee "$WORK/head.txt"
	grep -qiE '^HTTP/1\.1 200' "$WORK/head.txt" &&
		grep -qiE "^content-length: *$((16 << 20))"$'\r?$' "$WORK/head.txt"
}

# keep_alive: two GETs in one curl; the second must reuse the first connection.
keep_alive() {
	local n
	n=$(nsx timeout 20 curl -s --max-time 15 -o /dev/null -o /dev/null -w '%{num_connects} ' \
		"http://$STACK4:$HTTP_PORT/small.txt" "http://$STACK4:$HTTP_PORT/small.txt")
	echo "connections opened per request: $n"
	[ "$n" = "1 0 " ]
}

phase_httpd() {
	local dev=$SN_NAME_PREFIX${RUN_ID}h hpid
	mkdir -p "$WORK/www"
	head -c $((16 << 20)) /dev/urandom >"$WORK/www/big.bin"
	echo "hello from sn-httpd" >"$WORK/www/small.txt"
	echo "secret outside the root" >"$WORK/secret.txt"
	start_tap_server hpid "$WORK/httpd.log" "$dev" sn-httpd --port "$HTTP_PORT" --root "$WORK/www" ||
		return 1
	check "curl 16 MiB over IPv4, same SHA-256" fetch_big "http://$STACK4:$HTTP_PORT/big.bin" "$WORK/got4.bin"
	check "curl 16 MiB over IPv6, same SHA-256" fetch_big "http://[$STACK6]:$HTTP_PORT/big.bin" "$WORK/got6.bin"
	check "HEAD gives 200 and Content-Length" head_length
	check "missing file gives 404" expect_code 404 "http://$STACK4:$HTTP_PORT/no-such-file"
	check "no escape from --root (/../secret.txt)" not_code 200 "http://$STACK4:$HTTP_PORT/../secret.txt" --path-as-is
	check "no escape from --root (%2e%2e)" not_code 200 "http://$STACK4:$HTTP_PORT/%2e%2e/secret.txt" --path-as-is
	check "keep-alive: second request reuses the connection" keep_alive
	stop_server "$hpid" "sn-httpd" "$WORK/httpd.log"
}

ping_ok() { nsx timeout 20 ping -n -c 5 -i 0.2 -W 2 "$@"; }

peer() {
	local t=$1; shift
	nsx timeout -k 5 "$t" "$PY" "$SN_ROOT/tests/integration/kernel_peer.py" "$@"
}

stack_mac() {
	ip -n "$NS" neigh show "$STACK4" dev "$1" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}

bad_input() {
	local dev=$1 mac
	mac=$(stack_mac "$dev")
	if [ -z "$mac" ]; then
		# Without the stack's MAC the frames still reach it as broadcasts.
		echo "no ARP entry for $STACK4 on $dev; sending to ff:ff:ff:ff:ff:ff"
		mac=ff:ff:ff:ff:ff:ff
	fi
	nsx timeout 60 "$PY" "$SN_ROOT/tests/integration/bad_frames.py" "$dev" "$mac" \
		"$STACK4" "$STACK6" "$ECHO_PORT" 2
}

alive() { kill -0 "$1" 2>/dev/null; }

phase_echo() {
	local dev=$SN_NAME_PREFIX${RUN_ID}e epid
	start_tap_server epid "$WORK/echo.log" "$dev" sn-echo --port "$ECHO_PORT" || return 1
	check "ping $STACK4" ping_ok "$STACK4"
	check "ping -6 $STACK6" ping_ok -6 "$STACK6"
	check "ping 1472-byte payload, DF set" ping_ok -s 1472 -M "do" "$STACK4"
	check "TCP echo: $BULK_MIB MiB from a kernel client, same SHA-256" \
		peer 240 tcp-bulk "$STACK4" "$ECHO_PORT" "$BULK_MIB"
	check "TCP echo over IPv6: 8 MiB, same SHA-256" peer 120 tcp-bulk "$STACK6" "$ECHO_PORT" 8
	check "UDP echo over IPv4, sizes 1..1472" peer 60 udp-echo "$STACK4" "$ECHO_PORT" 1 18 64 512 1024 1472
	check "UDP echo over IPv6, sizes 1..1452" peer 60 udp-echo "$STACK6" "$ECHO_PORT" 1 18 64 512 1024 1452
	check "$CONNS concurrent TCP connections, distinct messages" peer 180 many-conns "$STACK4" "$ECHO_PORT" "$CONNS"
	check "scapy: malformed frames sent" bad_input "$dev"
	check "sn-echo still running after malformed frames" alive "$epid"
	check "ping after malformed frames" ping_ok "$STACK4"
	check "ping -6 after malformed frames" ping_ok -6 "$STACK6"
	check "TCP echo after malformed frames (1 MiB)" peer 60 tcp-bulk "$STACK4" "$ECHO_PORT" 1
	check "UDP echo after malformed frames" peer 30 udp-echo "$STACK4" "$ECHO_PORT" 100
	stop_server "$epid" "sn-echo" "$WORK/echo.log"
	[ "${SN_VERBOSE:-0}" = 1 ] && show_log "$WORK/echo.log" 60
	return 0
}

main() {
	require_root
	require_bins sn-echo
	case " ${SN_TAP_PHASES:-httpd} " in *" httpd "*) require_bins sn-httpd ;; esac
	make_workdir
	sweep_stale
	hp_ensure "$SN_HUGEPAGES"
	make_netns NS k || die "cannot create a network namespace"
	info "namespace $NS, programs from $SN_BIN"
	# SN_TAP_PHASES lets asan.sh run the echo phase alone.
	case " ${SN_TAP_PHASES:-httpd echo} " in *" httpd "*) phase_httpd || true ;; esac
	case " ${SN_TAP_PHASES:-httpd echo} " in *" echo "*) phase_echo || true ;; esac
	finish
}

main "$@"
