#!/bin/sh
# lspci_examples.sh TOOL SRCDIR - the tree tool on every example chassis,
# and its refusals: bad topology and bad usage exit 2 with a message.
set -u
tool=$1; src=$2
fail=0; n=0
check() { n=$((n + 1)); if [ "$1" -ne 0 ]; then echo "FAIL: $2"; fail=$((fail + 1)); fi; }

for f in "$src"/examples/*.json; do
	out=$("$tool" -n "$f" 2>&1); rc=$?
	check $rc "$f exits $rc: $out"
	echo "$out" | grep -q "host bridge"; check $? "$f: no tree printed"
done
# Named output for a known chassis: a slot line and pci.ids names.
out=$("$tool" "$src/examples/pcie-server.json" 2>&1)
echo "$out" | grep -q "slot 12 \[pcie, dev 00\]: empty"; check $? "pcie-server: slot 12 not shown empty"
out=$("$tool" -s "$src/examples/pcie-server.json" 2>&1)
[ "$(echo "$out" | grep -c '^slot ')" -ge 4 ]; check $? "pcie-server: -s lists fewer than 4 slots"

bad="$src/tests/topology/bad/$(ls "$src/tests/topology/bad" | grep '\.json$' | head -n 1)"
out=$("$tool" "$bad" 2>&1); rc=$?
[ $rc -eq 2 ]; check $? "bad topology exits $rc, want 2"
echo "$out" | grep -q "$bad"; check $? "bad topology message does not name the file: $out"
"$tool" /nonexistent/chassis.json >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check $? "missing file exits $rc, want 2"
"$tool" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check $? "bad option exits $rc, want 2"
"$tool" a.json b.json >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]; check $? "two files exit $rc, want 2"

echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
