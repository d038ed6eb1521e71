#!/bin/sh
# hotswapctl.sh - what an operator reads from hotswapctl (issue #19).
#
# usage: hotswapctl.sh BUILD_DIR SOURCE_DIR
#
# Runs hotswapd on the default chassis (virtual clock) and on a small
# chassis whose name holds a newline (real-time clock), and checks the
# tool's output: usage errors before any daemon is asked, --version on
# every program, list's order and columns, show's blocked functions and
# Physical Slot lines, plurals, readable times, escaped names, watch's
# filters and locate with a timeout.
set -u
B=$1
S=$2
T=$(mktemp -d /tmp/hotswapctl-test.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM

. "$S/tests/service/tap.sh"

start() { # start NAME [hotswapd args...]: socket $T/NAME/s
	name=$1; shift
	mkdir -p "$T/$name/agents"
	: >"$T/$name/rules.conf"
	"$B/hotswapd" --socket "$T/$name/s" --state-dir "$T/$name/state" \
		--agents "$T/$name/agents" --rules "$T/$name/rules.conf" \
		--set runtime_dir="$T/$name" --set socket_group= "$@" \
		>"$T/$name/log" 2>&1 &
	PIDS="$PIDS $!"
	i=0
	while ! "$B/hotswapctl" --socket "$T/$name/s" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "# hotswapd did not start:"; sed 's/^/#   /' "$T/$name/log"
			exit 1
		fi
		sleep 0.1
	done
}

# ---- no daemon needed ------------------------------------------------------------
for p in hotswapd hotswapctl hotswap-lspci hotswap-demo; do
	run 0 "$p --version exits 0" "$B/$p" --version
	has "$p --version prints the project version" "^$p (hotswap) [0-9][0-9.]*\$"
done
v=$(sed -n 's/^project(hotswap VERSION \([0-9.]*\).*/\1/p' "$S/CMakeLists.txt")
has "the version is CMake's project version ($v)" "(hotswap) $v\$"
# A bad option is a usage error (2) whether or not a daemon runs.
run 2 "unknown option without a daemon: exit 2" "$B/hotswapctl" --socket "$T/none" list --bogus
has "it names the option" "unknown option '--bogus'"
run 2 "an option of another verb: exit 2" "$B/hotswapctl" --socket "$T/none" list --limit 3
run 2 "a bad number: exit 2" "$B/hotswapctl" --socket "$T/none" history --limit x
run 2 "a bad attention value: exit 2" "$B/hotswapctl" --socket "$T/none" attention 3 sparkle
run 2 "--timeout without locate: exit 2" "$B/hotswapctl" --socket "$T/none" attention 3 on --timeout 5s
run 2 "led blue=: exit 2 (not the operator's)" "$B/hotswapctl" --socket "$T/none" led 21 blue=on
run 2 "watch --property without '=': exit 2" "$B/hotswapctl" --socket "$T/none" watch --property slot
run 3 "a good command without a daemon: exit 3" "$B/hotswapctl" --socket "$T/none" list

# ---- the default chassis, virtual clock -------------------------------------------
start lab --clock virtual --set default_inserted=block
ctl() { "$B/hotswapctl" --socket "$T/lab/s" "$@"; }
run 2 "unknown option with a daemon: exit 2 too" ctl list --bogus

run 0 "list" ctl list
head -1 "$T/out" >"$T/head"
for col in ADDRESS RECEPTACLE OCCUPANT CONDITION TYPE P-IND ATTN BLUE; do
	if grep -q " $col " "$T/head"; then ok "list has a $col column"; else bad "list has a $col column"; fi
done
order=$(tail -n +2 "$T/out" | awk '{print $1}' | tr '\n' ' ')
if [ "$order" = "1 2 3 4 5 6 10 11 12 13 20 21 22 23 " ]; then
	ok "list orders slots numerically"
else
	echo "# order: $order"; bad "list orders slots numerically"
fi
# Slot 3 (NVMe behind root port 00:1c.2, secondary bus 0x15): sysfs address.
line=$(awk '$1 == "3"' "$T/out")
echo "$line" >"$T/out"
has "slot 3's address is domain:bus:device" " 0000:15:00 "
has "slot 3 is connected, configured, ok, storage" "connected  *configured  *ok  *storage"
has "slot 3's power indicator is on" " on  *on  *off  *- "
run 0 "list (again)" ctl list
line=$(awk '$1 == "2"' "$T/out"); echo "$line" >"$T/out"
has "empty slot 2: condition unknown, type none" "empty  *unconfigured  *unknown  *none"
run 0 "list (cPCI)" ctl list
line=$(awk '$1 == "21"' "$T/out"); echo "$line" >"$T/out"
has "cPCI slot 21 has a blue-LED value" " on  *on  *off  *off  *closed"

run 0 "show 3" ctl show 3
has "show gives the slot's address" "address 0000:15:00"
has "show gives Physical Slot on device lines" "^      Physical Slot: 3\$"
has "show gives cfgadm's condition" "condition ok"
has "show gives the time of the last state change" "last state change  *[0-9]*\.[0-9]\{6\}"
run 0 "devices" ctl devices
has "devices gives Physical Slot for slot devices" "^    Physical Slot: 21\$"

# An empty PCIe slot: no link, and no speed or width (Link Status'
# fields are undefined while the link is down, PCIe Base 7.5.3.8).
run 0 "show 2 (empty)" ctl show 2
has "an empty slot's link is down" "link down"
hasnt "no link speed on an empty slot" "GT/s"

# A card the policy blocks (default_inserted = block): show marks it.
run 0 "insert a NIC into slot 2" ctl sim insert 2 nic-1port
ctl sim advance 100ms >/dev/null
run 0 "add slot 2" ctl add 2
run 0 "show 2" ctl show 2
has "show marks a blocked function" "BLOCKED: not authorized"

# USBGuard's verbs: block a running function, list the blocked ones,
# generate a policy, replay add events.
run 0 "block net1 (slot 11)" ctl block net1
has "block says what it did" "^0000:01:02.0 net1: blocked"
run 0 "devices --blocked" ctl devices --blocked
has "the blocked NIC is listed" "^0000:01:02.0 net1 .*BLOCKED"
hasnt "nothing that is not blocked" "^0000:00:02.0"
run 0 "generate-policy" ctl generate-policy
has "rules in rules.conf syntax" "^allow id [0-9a-f]\{4\}:[0-9a-f]\{4\} "
run 0 "trigger" ctl trigger
has "trigger says how many add events" "^[1-9][0-9]* add events replayed to the agents\$"
run 2 "block without a device: exit 2" ctl block
run 2 "--blocked is devices': exit 2 elsewhere" ctl list --blocked

run 0 "sim traffic --count 1" ctl sim traffic net5 --count 1
has "one request is singular" "^1 request submitted"
hasnt "not '1 requests'" "1 requests"

run 0 "attention 5 locate --timeout 30s accepted" ctl attention 5 locate --timeout 30s
run 0 "led 5 attn=off accepted" ctl led 5 attn=off
run 0 "led 5 led=attn,mode=blink accepted (cfgadm form)" ctl led 5 led=attn,mode=blink

run 0 "history on the virtual clock" ctl history --limit 2
has "virtual clock: seconds of chassis time" "^ *[0-9]*  *[0-9]*\.[0-9]\{6\} "

run 0 "watch --type physical --slot 2" timeout 20 "$B/hotswapctl" --socket "$T/lab/s" watch --after 0 --count 1 --type physical --slot 2
has "the filtered event is the insertion into slot 2" " physical  *2  *insert"
run 0 "watch --property" timeout 20 "$B/hotswapctl" --socket "$T/lab/s" watch --after 0 --count 1 --property to=on --slot 2
has "--property to=on matches slot 2's state change to on" "slot-state  *2 .*-> on"
hasnt "no other slot" "slot-state  *[013-9]"
ctl --json watch --after 0 --count 2 --type operator >"$T/out"
if [ "$(grep -c '"type": "operator"\|"type":"operator"' "$T/out")" = 2 ] && ! grep -v operator "$T/out" | grep -q '"type"'; then
	ok "--json watch --type keeps only that type"
else
	bad "--json watch --type keeps only that type"
fi

# ---- a chassis named with a newline, real-time clock --------------------------------
python3 - "$S/examples/shpc-bridge.json" "$T/nl.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["name"] = "evil\nhotswapd on fake"
json.dump(d, open(sys.argv[2], "w"))
PY
start nl --clock realtime --topology "$T/nl.json"
run 0 "status on the newline chassis" "$B/hotswapctl" --socket "$T/nl/s" status
if [ "$(wc -l <"$T/out")" = 1 ]; then ok "status stays one line"; else bad "status stays one line"; fi
has "the newline is escaped" 'chassis evil\\nhotswapd on fake'
run 0 "history on the real-time clock" "$B/hotswapctl" --socket "$T/nl/s" history --limit 1
has "real-time history prints a local date and time" "^ *[0-9]*  *$(date +%Y-%m-%d) [0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9] "
"$B/hotswapctl" --socket "$T/nl/s" --json history --limit 1 >"$T/out"
has "--json keeps the number" '"time": [0-9]\{19\}'

echo "1..$N"
[ "$FAILS" = 0 ]
