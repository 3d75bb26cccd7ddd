#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Does every fuzz input do the same whatever ran before it? Runs the files
# of the given directories (at most MAX, default 2000) through TARGET twice
# in one process each, in order and in reverse order, with FUZZ_TRACE (one
# line per packet: deliveries and frames sent) and fails when any input's
# trace differs between the two runs: the outcome then depends on state an
# earlier input left (tests/fuzz/fuzz_reset.h), and a crash would not
# reproduce from its file.
#   tests/fuzz/same_state.sh build-fuzz/fuzz_esp build-fuzz/esp_seeds build-fuzz/corpus/fuzz_esp
set -euo pipefail
target=$1; shift
max=${MAX:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$@" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | sort | sed -n "1,${max}p" > "$tmp/files"
n=$(wc -l < "$tmp/files")
[ "$n" -gt 0 ] || { echo "same_state: no inputs in $*"; exit 1; }
tac "$tmp/files" > "$tmp/reversed"
# per-input traces: "FILE<TAB>trace line" (libFuzzer names each file it runs)
traces() {
	FUZZ_TRACE=1 timeout -k 5 300 "$target" -runs=1 $(cat "$1") 2>&1 |
		awk '/^Running: /{f=$2; next} /: packet of /{print f "\t" $0}' | sort -s -k1,1
}
traces "$tmp/files" > "$tmp/a"
traces "$tmp/reversed" > "$tmp/b"
[ -s "$tmp/a" ] || { echo "same_state: $target printed no traces"; exit 1; }
if ! diff "$tmp/a" "$tmp/b" > "$tmp/diff"; then
	echo "same_state: $(basename "$target"): inputs whose outcome depends on the inputs before them:"
	head -20 "$tmp/diff"
	exit 1
fi
echo "same_state: $(basename "$target"): $n inputs, the same outcome in either order"
