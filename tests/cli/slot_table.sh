#!/bin/sh
# slot_table.sh DEMO SRCDIR - docs/slots.md carries the slot state table
# exactly as core/hs_slot.c defines it (hotswap-demo --table prints it).
set -eu
demo=$1
src=$2
want=$(mktemp)
got=$(mktemp)
trap 'rm -f "$want" "$got"' EXIT
"$demo" --table > "$want"
sed -n '/<!-- table:begin -->/,/<!-- table:end -->/p' "$src/docs/slots.md" |
	sed '1d;$d' > "$got"
if ! diff -u "$want" "$got"; then
	echo "docs/slots.md: the state table differs from core/hs_slot.c;" >&2
	echo "regenerate it with: hotswap-demo --table" >&2
	exit 1
fi
echo "docs/slots.md matches the state table"
