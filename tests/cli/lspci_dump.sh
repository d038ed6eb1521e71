#!/bin/sh
# lspci_dump.sh - pciutils' lspci as an independent reader of the
# simulator (issue #19).
#
# usage: lspci_dump.sh BUILD_DIR SOURCE_DIR
#
# For every example chassis: hotswap-lspci -x writes its configuration
# space as `lspci -xxxx` does; the real lspci (pciutils) must read it
# back (-F) with the same functions; and for every PCI Express slot the
# SltCap / SltCtl / SltSta lines that `hotswapctl show` prints, with
# hotswapd running on the same chassis (virtual clock), must be the
# lines lspci -vv decodes from the dump for the slot's port.
set -u
B=$1
S=$2
T=$(mktemp -d /tmp/hotswap-lspci.XXXXXX)
PID=
trap '[ -n "$PID" ] && { kill -TERM "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$T"' EXIT INT TERM
FAILS=0
N=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
bad() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; }
command -v lspci >/dev/null || { echo "not ok 1 - lspci (pciutils) is installed"; exit 1; }

# The three registers' lines of a decoding, whitespace folded, one a line.
slot_regs() {
	sed -n '/SltCap:/,/Changed:/p' | sed 's/^[[:space:]]*//; s/[[:space:]][[:space:]]*/ /g; s/: /:/g; s/:/: /g'
}

for topo in "$S"/examples/*.json; do
	name=$(basename "$topo" .json)
	if ! "$B/hotswap-lspci" -x "$topo" >"$T/$name.dump" 2>"$T/err"; then
		bad "$name: hotswap-lspci -x"; sed 's/^/#   /' "$T/err"; continue
	fi
	# lspci reads back every function written.
	ours=$(grep -c '^[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]\.[0-7] ' "$T/$name.dump")
	theirs=$(lspci -F "$T/$name.dump" 2>/dev/null | wc -l)
	if [ "$ours" -gt 0 ] && [ "$ours" = "$theirs" ]; then
		ok "$name: lspci -F reads the $ours functions of the dump"
	else
		bad "$name: lspci -F reads the $ours functions of the dump (it read $theirs)"
	fi

	# The daemon's part only where there are PCI Express slots.
	if ! "$B/hotswap-lspci" -s "$topo" | grep -q '\[pcie,'; then
		echo "# $name: no PCI Express slots"; continue
	fi
	rm -rf "$T/state"
	mkdir -p "$T/agents"
	"$B/hotswapd" --clock virtual --topology "$topo" --socket "$T/s" \
		--state-dir "$T/state" --agents "$T/agents" --rules /dev/null \
		--set runtime_dir="$T" --set socket_group= >"$T/log" 2>&1 &
	PID=$!
	i=0
	until "$B/hotswapctl" --socket "$T/s" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$PID" 2>/dev/null; then
			echo "# hotswapd did not start on $name:"; sed 's/^/#   /' "$T/log"
			exit 1
		fi
		sleep 0.1
	done
	"$B/hotswapctl" --socket "$T/s" --json list >"$T/list"
	slots=$(python3 -c '
import json, sys
for s in json.load(open(sys.argv[1])):
    if s["kind"] == "pcie":
        print(s["slot"], s["bridge"][5:])' "$T/list")
	[ -n "$slots" ] || { echo "# $name: hotswapd lists no PCI Express slot"; FAILS=$((FAILS + 1)); }
	echo "$slots" | while read -r slot port; do
		[ -n "$slot" ] || continue
		"$B/hotswapctl" --socket "$T/s" show "$slot" | slot_regs >"$T/ours"
		lspci -F "$T/$name.dump" -vv -s "$port" 2>/dev/null | slot_regs >"$T/theirs"
		if [ -s "$T/ours" ] && cmp -s "$T/ours" "$T/theirs"; then
			echo "ok - $name: slot $slot ($port): hotswapctl show decodes as lspci -vv"
		else
			echo "not ok - $name: slot $slot ($port): hotswapctl show decodes as lspci -vv"
			diff "$T/theirs" "$T/ours" | sed 's/^/#   /'
		fi
	done >"$T/results"
	cat "$T/results"
	N=$((N + $(grep -c '^ok' "$T/results") + $(grep -c '^not ok' "$T/results")))
	FAILS=$((FAILS + $(grep -c '^not ok' "$T/results")))
	kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
done
echo "1..$N"
[ "$FAILS" = 0 ]
