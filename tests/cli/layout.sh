#!/bin/sh
# layout.sh TOOL SRCDIR - the exact layout hotswap's enumeration produces
# for every example chassis: bus numbers, windows, BARs, interrupts and
# drivers, compared with tests/layout/NAME.txt.  A change of layout is a
# decision: regenerate the file with `hotswap-lspci -e -n FILE` and review
# the diff in the commit.
set -u
tool=$1; src=$2
fail=0; n=0
for f in "$src"/examples/*.json; do
	name=$(basename "$f" .json)
	want="$src/tests/layout/$name.txt"
	n=$((n + 1))
	if [ ! -f "$want" ]; then
		echo "FAIL: $name: no tests/layout/$name.txt"
		fail=$((fail + 1))
		continue
	fi
	# The first line names the file path, which differs per checkout.
	if ! "$tool" -e -n "$f" | tail -n +2 > /tmp/layout.got.$$; then
		echo "FAIL: $name: enumeration failed"
		fail=$((fail + 1))
		continue
	fi
	if ! tail -n +2 "$want" | diff -u - /tmp/layout.got.$$; then
		echo "FAIL: $name: layout changed (diff above: - expected, + got)"
		fail=$((fail + 1))
	fi
done
rm -f /tmp/layout.got.$$
echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
