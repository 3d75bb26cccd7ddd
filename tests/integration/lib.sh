# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shared helpers for sealnet's integration scripts, benchmarks and demo.
# Sourced, never run. Provides:
#   - SN_ROOT, SN_BIN (programs; env SN_BIN overrides, default build/bin), PY
#   - a per-run id (RUN_ID) used in every name we create, so two runs never collide
#   - a cleanup registry run from an EXIT trap: our PIDs (TERM, then KILL after a
#     timeout), namespaces, temporary directories, huge page settings we changed
#   - wait_for_line, wait_for_iface, hp_ensure, start_server/stop_server
#   - wire_setup: two TAPs joined by tc mirred, for captures
#   - check/pass/fail counters and finish, which prints "NAME: N passed, N failed"
#
# Names we create start with "snt" and embed our PID: sweep_stale() removes
# leftovers of earlier runs whose PID is gone (a run killed with SIGKILL cannot
# clean up after itself), and never anything that belongs to a live run.

SN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SN_BIN=${SN_BIN:-$SN_ROOT/build/bin}
case $SN_BIN in /*) ;; *) SN_BIN=$SN_ROOT/$SN_BIN ;; esac
# scapy is installed for Debian's python, not for whatever python3 is first in PATH.
PY=${PY:-/usr/bin/python3}
# Our peers talk to addresses in our own namespaces: never through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
SN_READY_TIMEOUT=${SN_READY_TIMEOUT:-30}   # EAL start-up with huge pages can take seconds
SN_STOP_TIMEOUT=${SN_STOP_TIMEOUT:-10}     # grace period between TERM and KILL
SN_HUGEPAGES=${SN_HUGEPAGES:-1024}         # free 2 MiB pages a run wants (two processes)

# Short enough for interface names (IFNAMSIZ 16): "snt" + 5 digits of PID + 2 hex.
RUN_ID=$(printf '%05d%02x' $(($$ % 100000)) $((RANDOM % 256)))
SN_NAME_PREFIX=snt

_SN_PASSED=0
_SN_FAILED=0
_SN_TEST_NAME=$(basename "$0" .sh)
declare -a _SN_CLEANUP=()   # shell snippets, run last-registered first
declare -a _SN_PIDS=()      # processes we started and still own

# ---- output -----------------------------------------------------------------

say()  { printf '%s\n' "$*"; }
info() { printf '[%s] %s\n' "$_SN_TEST_NAME" "$*"; }
pass() { _SN_PASSED=$((_SN_PASSED + 1)); printf '[%s] PASS %s\n' "$_SN_TEST_NAME" "$*"; }
fail() { _SN_FAILED=$((_SN_FAILED + 1)); printf '[%s] FAIL %s\n' "$_SN_TEST_NAME" "$*"; }

# die MSG: a set-up step failed, so the remaining checks cannot run.
die() {
	fail "$*"
	exit 1
}

# show_log FILE [LINES]: the end of a log, indented, for a failure report.
show_log() {
	local f=$1 n=${2:-25}
	[ -s "$f" ] || return 0
	printf '  --- last %s lines of %s ---\n' "$n" "$(basename "$f")"
	tail -n "$n" "$f" | sed 's/^/  | /'
}

# check DESC CMD...: run CMD with output in $WORK/check-N.log; pass or fail,
# and on failure show the command and its output. Returns CMD's status.
_SN_CHECK_N=0
check() {
	local desc=$1; shift
	_SN_CHECK_N=$((_SN_CHECK_N + 1))
	local log=$WORK/check-$_SN_CHECK_N.log rc=0 t0=$EPOCHREALTIME dt
	run_fg "$@" >"$log" 2>&1 || rc=$?
	dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1fs", b - a}')
	if [ "$rc" = 0 ]; then
		pass "$desc ($dt)"
	else
		fail "$desc (exit $rc after $dt)"
		printf '  command: %s\n' "$*"
		show_log "$log" 30
	fi
	return "$rc"
}

# finish: summary line and exit status; the EXIT trap then cleans up.
finish() {
	printf '[%s] %d passed, %d failed\n' "$_SN_TEST_NAME" "$_SN_PASSED" "$_SN_FAILED"
	[ "$_SN_FAILED" = 0 ] && exit 0
	exit 1
}

# ---- cleanup registry -----------------------------------------------------------

# on_exit SNIPPET: run SNIPPET at exit (any exit: success, failure, signal).
on_exit() { _SN_CLEANUP+=("$1"); }

# stop_pid PID [TIMEOUT]: TERM, wait, then KILL. Only for PIDs we started
# (they are our children, so `wait` also reaps them). Returns the exit status.
stop_pid() {
	local pid=$1 t=${2:-$SN_STOP_TIMEOUT} i rc=0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; _sn_forget "$pid"; return "$rc"; }
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		info "pid $pid ignored SIGTERM for ${t}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	_sn_forget "$pid"
	return "$rc"
}

_sn_forget() {
	local p keep=()
	for p in "${_SN_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	_SN_PIDS=("${keep[@]}")
}

# track_pid PID: stop it at exit if it is still running.
track_pid() { _SN_PIDS+=("$1"); }

# run_fg CMD...: run CMD as if in the foreground, but as a tracked background job
# and `wait`: bash runs a signal trap only after a foreground child ends, while
# `wait` returns at once, so Ctrl-C or SIGTERM cleans up without delay.
run_fg() {
	local p rc=0
	"$@" &
	p=$!
	track_pid "$p"
	wait "$p" || rc=$?
	_sn_forget "$p"
	return "$rc"
}

_sn_cleanup() {
	local rc=$? i p
	trap - EXIT INT TERM HUP
	set +e
	for p in "${_SN_PIDS[@]}"; do stop_pid "$p" 3 >/dev/null 2>&1; done
	for ((i = ${#_SN_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${_SN_CLEANUP[$i]}" >/dev/null 2>&1
	done
	exit "$rc"
}
# The signal may arrive inside a function whose output goes to a log: report on
# the script's own stdout, kept here.
exec {_SN_STDOUT}>&1
trap _sn_cleanup EXIT
trap 'info "interrupted, cleaning up" >&"$_SN_STDOUT"; exit 130' INT
trap 'info "terminated, cleaning up" >&"$_SN_STDOUT"; exit 143' TERM HUP

# ---- resources we create -----------------------------------------------------------

require_root() {
	if [ "$(id -u)" != 0 ]; then
		say "$_SN_TEST_NAME: must run as root (it creates network namespaces, TAP devices and huge pages)" >&2
		exit 1
	fi
}

# require_bins NAME...: the programs this script runs must be built.
require_bins() {
	local b
	for b in "$@"; do
		[ -x "$SN_BIN/$b" ] || die "missing $SN_BIN/$b (run 'make' first, or set SN_BIN)"
	done
}

# make_workdir: $WORK, a private temporary directory removed at exit
# (kept when SN_KEEP=1, for post-mortems).
make_workdir() {
	WORK=$(mktemp -d "/tmp/$SN_NAME_PREFIX-$_SN_TEST_NAME-$$.XXXX")
	if [ "${SN_KEEP:-0}" = 1 ]; then
		on_exit "echo 'kept $WORK'"
	else
		on_exit "rm -rf '$WORK'"
	fi
}

# make_rundir: $RUNDIR under /run for memif and vhost-user sockets.
make_rundir() {
	RUNDIR=/run/sealnet-test-$$-$RUN_ID
	mkdir -p "$RUNDIR"
	on_exit "rm -rf '$RUNDIR'"
}

# make_netns VAR SUFFIX: create a namespace with lo up, deleted at exit, and
# set VAR to its name. (Not $(...): the cleanup must be registered in this shell.)
# The name embeds our PID so sweep_stale can tell a dead run's leftovers.
make_netns() {
	local __var=$1 ns=$SN_NAME_PREFIX-$$-$RUN_ID-$2
	ip netns add "$ns" || return 1
	on_exit "ip netns delete '$ns'"
	ip -n "$ns" link set lo up
	printf -v "$__var" '%s' "$ns"
}

# sweep_stale: remove namespaces and run directories of earlier runs whose
# process no longer exists.
sweep_stale() {
	local ns pid d
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in "$SN_NAME_PREFIX"-*-*) ;; *) continue ;; esac
		pid=${ns#"$SN_NAME_PREFIX"-}; pid=${pid%%-*}
		case $pid in '' | *[!0-9]*) continue ;; esac
		kill -0 "$pid" 2>/dev/null && continue
		info "removing stale namespace $ns"
		ip netns delete "$ns" 2>/dev/null
	done
	for d in /run/sealnet-test-*-*; do
		[ -d "$d" ] || continue
		pid=${d#/run/sealnet-test-}; pid=${pid%%-*}
		case $pid in '' | *[!0-9]*) continue ;; esac
		kill -0 "$pid" 2>/dev/null || rm -rf "$d"
	done
	# Work directories: /tmp/snt-SCRIPT-PID.XXXX
	for d in /tmp/"$SN_NAME_PREFIX"-*-*.*; do
		[ -d "$d" ] || continue
		pid=${d%.*}; pid=${pid##*-}
		case $pid in '' | *[!0-9]*) continue ;; esac
		kill -0 "$pid" 2>/dev/null || rm -rf "$d"
	done
	return 0
}

# wait_for_line FILE PATTERN TIMEOUT [PID]: until an extended regex matches a line
# of FILE; gives up early when PID (the writer) has exited.
wait_for_line() {
	local f=$1 pat=$2 t=$3 pid=${4:-} i
	for ((i = 0; i < t * 10; i++)); do
		grep -Eq -- "$pat" "$f" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$pat" "$f" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# wait_for_iface NS IF TIMEOUT [PID]: until interface IF exists in NS.
wait_for_iface() {
	local ns=$1 dev=$2 t=$3 pid=${4:-} i
	for ((i = 0; i < t * 10; i++)); do
		ip -n "$ns" link show dev "$dev" >/dev/null 2>&1 && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
		sleep 0.1
	done
	return 1
}

# ---- huge pages -------------------------------------------------------------------

_hp() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }

# hp_ensure [PAGES]: make sure PAGES 2 MiB pages are free, raising nr_hugepages
# if needed; the original value is restored at exit. Files that DPDK processes
# leave in /dev/hugepages when they are killed are removed at exit too, if they
# appeared during this run and nobody maps them.
hp_ensure() {
	local want=${1:-$SN_HUGEPAGES} knob=/proc/sys/vm/nr_hugepages orig free
	orig=$(cat "$knob")
	free=$(_hp HugePages_Free)
	if [ "$free" -lt "$want" ]; then
		echo $((orig + want - free)) > "$knob" 2>/dev/null
		on_exit "echo $orig > $knob"
		free=$(_hp HugePages_Free)
		if [ "$free" -lt "$want" ]; then
			info "only $free free huge pages (wanted $want); programs may fall back to --no-huge"
		else
			info "huge pages: nr_hugepages $orig -> $(cat "$knob") (restored at exit)"
		fi
	fi
	if [ -d /dev/hugepages ]; then
		ls -1 /dev/hugepages > "$WORK/hugepages.before" 2>/dev/null
		on_exit "_hp_sweep"
	fi
}

_hp_sweep() {
	local mapped f
	mapped=$(cat /proc/[0-9]*/maps 2>/dev/null | grep -o '/dev/hugepages/[^ ]*' | sort -u)
	for f in /dev/hugepages/*; do
		[ -e "$f" ] || continue
		f=${f#/dev/hugepages/}
		grep -qxF -- "$f" "$WORK/hugepages.before" 2>/dev/null && continue
		grep -qxF -- "/dev/hugepages/$f" <<<"$mapped" && continue
		rm -f -- "/dev/hugepages/$f"
	done
}

# ---- stack programs ---------------------------------------------------------------

# spawn VAR LOG NS PROG ARGS...: start $SN_BIN/PROG in namespace NS ("-" for ours)
# in the background, output to LOG; set VAR to its PID. The process is stopped at
# exit if still running. `ip netns exec` execs the program, so the PID is its own.
spawn() {
	local __var=$1 log=$2 ns=$3 prog=$4; shift 4
	if [ "$ns" = - ]; then
		"$SN_BIN/$prog" "$@" >"$log" 2>&1 &
	else
		ip netns exec "$ns" "$SN_BIN/$prog" "$@" >"$log" 2>&1 &
	fi
	track_pid "$!"
	printf -v "$__var" '%s' "$!"
}

# wait_ready PID LOG PROG ARGS...: wait for the "PROG: ready" line (ARGS only for
# the failure report).
wait_ready() {
	local pid=$1 log=$2 prog=$3; shift 3
	wait_for_line "$log" "^${prog}[^:]*: ready" "$SN_READY_TIMEOUT" "$pid" && return 0
	fail "$prog did not print '$prog: ready' within ${SN_READY_TIMEOUT}s"
	printf '  command: %s %s\n' "$prog" "$*"
	kill -0 "$pid" 2>/dev/null || printf '  (it exited)\n'
	show_log "$log" 40
	return 1
}

# start_server VAR LOG NS PROG ARGS...: spawn, then wait_ready.
start_server() {
	local __v=$1 log=$2 ns=$3 prog=$4; shift 4
	spawn "$__v" "$log" "$ns" "$prog" "$@"
	wait_ready "${!__v}" "$log" "$prog" "$@"
}

# stop_server PID NAME LOG: SIGTERM; checks that it exits 0 within the timeout.
stop_server() {
	local pid=$1 name=$2 log=$3 rc=0 t0=$SECONDS
	stop_pid "$pid" || rc=$?
	if [ "$rc" = 0 ]; then
		pass "$name exits 0 on SIGTERM ($((SECONDS - t0))s)"
	else
		fail "$name exit status $rc on SIGTERM (expected 0)"
		show_log "$log" 30
	fi
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
		fail "$name: sanitizer report in its log"
		grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -60 | sed 's/^/  | /'
	fi
	return 0
}

# json_line FILE: the last line of FILE that is a JSON object (DPDK logs to stdout too).
json_line() { grep -E '^\{' "$1" | tail -n 1; }

# perf_client LOG TIMEOUT ARGS...: run `sn-perf client ARGS --json`, bounded.
perf_client() {
	local log=$1 t=$2; shift 2
	run_fg timeout -k 5 "$t" "$SN_BIN/sn-perf" client "$@" --json >"$log" 2>&1
}

# perf_json_ok JSON: no errors, and some traffic was measured (a client that
# exits 0 having moved nothing has not shown anything).
perf_json_ok() {
	jq -e '((.errors // 0) == 0) and (((.bytes // 0) > 0) or ((.cps // 0) > 0)
		or ((.p50_us // 0) > 0) or ((.pps // 0) > 0))' >/dev/null 2>&1 <<<"$1"
}

# perf_check DESC LOG RC: judge a finished sn-perf client run: exit 0, a JSON
# line, errors == 0 and some traffic. Prints the JSON on success.
perf_check() {
	local desc=$1 log=$2 rc=$3 js
	js=$(json_line "$log")
	if [ "$rc" != 0 ]; then
		fail "$desc: sn-perf client exit $rc"
		[ "$rc" = 124 ] && printf '  (killed by timeout)\n'
		show_log "$log" 30
		return 1
	fi
	if [ -z "$js" ] || ! jq -e . >/dev/null 2>&1 <<<"$js"; then
		fail "$desc: no JSON line in sn-perf output"
		show_log "$log" 30
		return 1
	fi
	if ! perf_json_ok "$js"; then
		fail "$desc: errors or no traffic: $js"
		return 1
	fi
	if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
		fail "$desc: sanitizer report"
		grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -60 | sed 's/^/  | /'
		return 1
	fi
	pass "$desc: $js"
}

# perf_suite SERVER_DEV CLIENT_DEV STREAM_SECONDS SHORT_SECONDS: one sn-perf server,
# then clients in turn: tcp-stream both ways, udp-stream, tcp-rr, tcp-crr. The
# server stays up across clients, which also tests that it survives a peer
# process going away and a new one attaching.
perf_suite() {
	local sdev=$1 cdev=$2 ls=$3 ss=$4 spid log rc
	local common_s=(--dev "$sdev" --addr 198.51.100.1/24 --addr 2001:db8:100::1/64 --lcore 0)
	local common_c=(--dev "$cdev" --addr 198.51.100.2/24 --addr 2001:db8:100::2/64 --lcore 1)
	start_server spid "$WORK/perf-server.log" - sn-perf server --port 5201 "${common_s[@]}" --stats ||
		return 1
	local -a runs=(
		"tcp-stream $ls"
		"tcp-stream $ls --reverse"
		"udp-stream $ss --size 64"
		"tcp-rr $ss"
		"tcp-crr $ss"
	)
	local r mode secs extra i=0
	for r in "${runs[@]}"; do
		i=$((i + 1))
		read -r mode secs extra <<<"$r"
		log=$WORK/perf-client-$i.log
		rc=0
		# shellcheck disable=SC2086  # extra holds separate words on purpose
		perf_client "$log" $((secs + 40)) "${common_c[@]}" --connect 198.51.100.1:5201 \
			--mode "$mode" --seconds "$secs" $extra || rc=$?
		perf_check "sn-perf $mode ${secs}s${extra:+ $extra}" "$log" "$rc" ||
			printf '  command: sn-perf client %s --connect 198.51.100.1:5201 --mode %s --seconds %s %s --json\n' \
				"${common_c[*]}" "$mode" "$secs" "$extra"
		if ! kill -0 "$spid" 2>/dev/null; then
			fail "sn-perf server died during $mode"
			show_log "$WORK/perf-server.log" 40
			return 1
		fi
	done
	stop_server "$spid" "sn-perf server" "$WORK/perf-server.log"
}

# ---- a wire between two stacks that a capture can see ---------------------------

# wire_setup: in namespace $WNS, persistent TAPs $TA and $TB, each one's ingress
# redirected to the other (tc u32 match-all, mirred egress redirect): a plain
# wire. Not a Linux bridge: net_tap gives each kernel TAP the MAC of its
# stack's port, and a bridge keeps its ports' own MACs as local fdb entries,
# so it would deliver B's frames for A's MAC to itself instead of forwarding
# them. The TAPs are created (multi_queue, persistent) and wired before either
# stack starts; net_tap attaches to an existing device. They go away with the
# namespace (make_netns). IPv6 is off so the kernel sends nothing of its own.
wire_setup() {
	local x y
	ip netns exec "$WNS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
		return 1
	for x in "$TA" "$TB"; do
		ip -n "$WNS" tuntap add mode tap multi_queue name "$x" && ip -n "$WNS" link set "$x" up || return 1
	done
	for x in "$TA:$TB" "$TB:$TA"; do
		y=${x#*:} x=${x%%:*}
		tc -n "$WNS" qdisc add dev "$x" ingress &&
			tc -n "$WNS" filter add dev "$x" parent ffff: protocol all u32 match u32 0 0 \
				action mirred egress redirect dev "$y" || return 1
	done
	tc -n "$WNS" filter show dev "$TA" ingress
}

# ---- IPsec keys and SAs ---------------------------------------------------------

# hexkey N: N random bytes as 0x-hex, for `ip xfrm` key arguments.
hexkey() { printf '0x%s' "$(head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# alg_words NAME: the algorithm part of a state line, with fresh keys.
alg_words() {
	case $1 in
	gcm128) printf "aead 'rfc4106(gcm(aes))' %s 128" "$(hexkey 20)" ;;
	cbc128) printf "enc 'cbc(aes)' %s auth-trunc 'hmac(sha256)' %s 128" "$(hexkey 16)" "$(hexkey 32)" ;;
	cbc256) printf "enc 'cbc(aes)' %s auth-trunc 'hmac(sha256)' %s 128" "$(hexkey 32)" "$(hexkey 32)" ;;
	chacha) printf "aead 'rfc7539esp(chacha20,poly1305)' %s 128" "$(hexkey 36)" ;;
	null) printf "enc 'ecb(cipher_null)' '' auth-trunc 'hmac(sha256)' %s 128" "$(hexkey 32)" ;;
	*) return 1 ;;
	esac
}

# snctl_xfrm_file PID FILE: every line of FILE (ip xfrm grammar, shell
# quotes) applied to the running program PID with `snctl xfrm`.
snctl_xfrm_file() {
	local pid=$1 line
	while read -r line; do
		eval "set -- $line"
		"$SN_BIN/snctl" --pid "$pid" xfrm "$@" >/dev/null || return 1
	done <"$2"
}
