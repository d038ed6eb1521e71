#!/bin/sh
# bench_scaling.sh BENCH_ENUM - does one hot-add's own cost grow with the
# fabric?  (issue #18: at 4,096 functions at most 1.1x that at 256)
#
# Runs hotswap-bench-enum --one N under callgrind, collecting only inside
# hs_core_hot_add, and sums the instructions executed in the core's own
# source files (core/*.c): the simulator's cost of answering the cycles is
# printed apart, it is not the core's.  Prints figures; asserts nothing.
# Needs valgrind (scripts/bootstrap.sh installs it).
set -eu
bench=${1:?usage: bench_scaling.sh path/to/hotswap-bench-enum}
if ! command -v valgrind >/dev/null 2>&1; then
	echo "bench_scaling: valgrind not installed (scripts/bootstrap.sh)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

count() { # N -> "core total"
	valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=hs_core_hot_add \
		--callgrind-out-file="$tmp/cg.$1" "$bench" --one "$1" \
		>/dev/null 2>&1
	callgrind_annotate --auto=no --threshold=100 "$tmp/cg.$1" 2>/dev/null | awk '
		/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
		/%\)  .*core\/hs_[a-z_]*\.c:/ { gsub(",", "", $1); core += $1 }
		END { printf "%d %d\n", core, total }'
}

echo "instructions of one hot-add (callgrind, inside hs_core_hot_add):"
printf '%10s %14s %18s\n' functions "core (core/*.c)" "with the simulator"
set -- $(count 256); c256=$1; t256=$2
printf '%10d %14d %18d\n' 256 "$c256" "$t256"
set -- $(count 4096); c4k=$1; t4k=$2
printf '%10d %14d %18d\n' 4096 "$c4k" "$t4k"
awk -v a="$c256" -v b="$c4k" -v s="$t256" -v t="$t4k" 'BEGIN {
	r = b / a
	printf "core: 4096 / 256 = %.3fx (target <= 1.1x: %s); with the " \
	       "simulator %.2fx\n", r, r <= 1.1 ? "met" : "NOT met", t / s }'
