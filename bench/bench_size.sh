#!/bin/sh
# bench_size.sh [CC] - code size of the freestanding core and of each
# hot-plug controller driver, as size(1) text at -Os (issue #18).
#
# Compiles the same sources CMake builds, with the freestanding flags the
# core uses (no libc headers, no unwind tables: a freestanding target has
# no unwinder to use them) at -Os, for x86-64 with CC (default cc) and,
# for arm-none-eabi Cortex-M4 Thumb with arm-none-eabi-gcc or, without
# it, clang (which the bootstrap installs).
# Prints text per part, core + pciehp against the 48 KiB target.
# Prints figures; asserts nothing.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
cc=${1:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

core="hs_fmt hs_timer hs_cfg hs_range hs_tree hs_txn hs_busnr hs_scan hs_resource \
      hs_replan hs_driver hs_add hs_rebalance hs_slot_dispatch hs_slot_table \
      hs_slot hs_core"
ctls="controllers pciehp shpchp cpcihp"

# text of the objects given, as size(1) counts it (decimal bytes)
text() {
	"$size" "$@" | awk 'NR > 1 { t += $1 } END { print t }'
}

kib() {
	awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'
}

measure() {
	target=$1; shift
	inc=$("$cc_" "$@" -print-file-name=include)
	flags="-std=c11 -Os -ffreestanding -fno-builtin -nostdinc -isystem $inc \
	       -fno-asynchronous-unwind-tables -fno-unwind-tables \
	       -fno-stack-protector -fno-pic -I$src/include -I$src/controllers"
	for f in $core; do
		"$cc_" "$@" $flags -c "$src/core/$f.c" -o "$tmp/$f.o"
	done
	for f in $ctls; do
		"$cc_" "$@" $flags -c "$src/controllers/$f.c" -o "$tmp/$f.o"
	done
	c=$(cd "$tmp" && text $(printf '%s.o ' $core))
	printf '%s (-Os, no unwind tables), size(1) text in bytes:\n' "$target"
	for f in $core; do
		printf '  %-24s %7d\n' "core/$f.c" "$(cd "$tmp" && text "$f.o")"
	done
	printf '  %-24s %7d  (%s KiB)\n' "core" "$c" "$(kib "$c")"
	for f in $ctls; do
		t=$(cd "$tmp" && text "$f.o")
		printf '  %-24s %7d\n' "controllers/$f.c" "$t"
	done
	p=$(cd "$tmp" && text pciehp.o controllers.o)
	tot=$((c + p))
	printf '  %-24s %7d  (%s KiB; target <= 48 KiB: %s)\n' \
		"core + pciehp" "$tot" "$(kib "$tot")" \
		"$([ "$tot" -le 49152 ] && echo met || echo NOT met)"
	rm -f "$tmp"/*.o
}

cc_=$cc; size=size
measure "x86-64 ($cc)" -m64
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
	cc_=arm-none-eabi-gcc; size=arm-none-eabi-size
	measure "arm-none-eabi Cortex-M4 Thumb (gcc)" -mthumb -mcpu=cortex-m4
elif command -v clang >/dev/null 2>&1 && command -v llvm-size >/dev/null 2>&1; then
	# clang targets arm-none-eabi itself (the bootstrap installs clang
	# and llvm for the fuzzers and the aarch64 image, not a second gcc).
	cc_=clang; size=llvm-size
	measure "arm-none-eabi Cortex-M4 Thumb (clang)" --target=arm-none-eabi \
		-mthumb -mcpu=cortex-m4
else
	echo "(neither arm-none-eabi-gcc nor clang with llvm-size: no Cortex-M4 figure)"
fi
