#!/bin/sh
# reserve.sh - per-slot hot-plug reservations as hotswapd.conf keys
# (issue #19, "what operators expect": reserve.* and slot.N.reserve.*).
#
# usage: reserve.sh BUILD_DIR SOURCE_DIR
#
# On a two-slot chassis with no spare bus numbers between its root ports
# (rebalance = never, so nothing running is renumbered), a card with a
# bridge on it does not fit slot 1 with reserve.buses = 0 and fits once
# slot.1.reserve.buses = 1 keeps a bus for it; `show` says what is
# reserved and which key (file and line) it came from, and the bridge's
# windows.  Bad keys and values stop hotswapd with FILE:LINE: KEY.
set -u
B=$1
S=$2
T=$(mktemp -d /tmp/reserve-test.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM

. "$S/tests/service/tap.sh"

cat >"$T/tight.json" <<'JSON'
{
  "name": "tight",
  "description": "two root-port slots; with no bus reservation their bus ranges touch",
  "host_bridge": {
    "devices": [
      { "type": "root-port", "dev": 1, "fn": 0, "slot": { "number": 1 } },
      { "type": "root-port", "dev": 2, "fn": 0,
        "slot": { "number": 2, "card": "nic-1port" } }
    ]
  }
}
JSON

args() { # args NAME: the daemon's options for instance NAME
	echo --config "$T/$1.conf" --socket "$T/$1/s" --state-dir "$T/$1/state" \
		--agents "$T/$1/agents" --rules "$T/$1/rules.conf" \
		--set runtime_dir="$T/$1" --set socket_group= --clock virtual
}
start() { # start NAME [hotswapd args...]: config $T/NAME.conf, socket $T/NAME/s
	name=$1; shift
	mkdir -p "$T/$name/agents"
	: >"$T/$name/rules.conf"
	# shellcheck disable=SC2046
	"$B/hotswapd" $(args "$name") "$@" >"$T/$name/log" 2>&1 &
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

# ---- without a bus kept for it, a card with a bridge does not fit ----------------
printf 'rebalance = never\nreserve.buses = 0\n' >"$T/none.conf"
start none --topology "$T/tight.json"
ctl() { "$B/hotswapctl" --socket "$T/none/s" "$@"; }
run 0 "show 1 (reserve.buses = 0)" ctl show 1
has "show names the key and its line" "buses  *0  *reserve.buses ($T/none.conf:2)"
has "values the config leaves alone are the defaults" "memory  *8 MiB  *default"
has "the bridge's bus window is its own bus only" "bridge windows now: bus 01-01,"
ctl sim insert 1 nic-bridge-2port >/dev/null
ctl sim advance 100ms >/dev/null
run 1 "a card with a bridge does not fit slot 1" ctl add 1
has "the refusal says bus numbers" "bus numbers: need 1 more"

# ---- slot.1.reserve.buses = 1: it fits -------------------------------------------
printf 'rebalance = never\nreserve.buses = 0\n# room for a bridge\nslot.1.reserve.buses = 1\n' >"$T/one.conf"
start one --topology "$T/tight.json"
ctl() { "$B/hotswapctl" --socket "$T/one/s" "$@"; }
run 0 "show 1 (slot.1.reserve.buses = 1)" ctl show 1
has "show names the slot's key and its line" "buses  *1  *slot.1.reserve.buses ($T/one.conf:4)"
has "the bridge keeps a bus for the card" "bridge windows now: bus 01-02,"
run 0 "show 2" ctl show 2
has "slot 2 keeps reserve.buses" "buses  *0  *reserve.buses ($T/one.conf:2)"
ctl sim insert 1 nic-bridge-2port >/dev/null
ctl sim advance 100ms >/dev/null
run 0 "the same card fits slot 1 now" ctl add 1
run 0 "show 1" ctl show 1
has "both NICs behind the card's bridge are up" "^  0000:02:01.0 .*driver simnet"
run 0 "show --json carries the reservation" ctl --json show 1
has "... with the value and its source" '"from": "slot.1.reserve.buses'

# ---- memory, from the command line; the defaults on the default chassis -----------
: >"$T/lab.conf"
start lab --set slot.3.reserve.mem=32M --set slot.40.reserve.io=8K
ctl() { "$B/hotswapctl" --socket "$T/lab/s" "$@"; }
run 0 "show 3" ctl show 3
has "a size from --set says so" "memory  *32 MiB  *slot.3.reserve.mem (the command line)"
has "the slot's other values are the defaults" "prefetchable  *64 MiB  *default"
run 0 "show 1" ctl show 1
has "another slot keeps the default" "memory  *8 MiB  *default"
run 0 "show 21 (cPCI)" ctl show 21
has "a slot on a bus of several says the room is shared" "shared by every slot on the bus"
cp "$T/lab/log" "$T/out"
has "a key for a slot that is not there is reported" "slot.40.reserve.\* (the command line): this chassis has no hot-plug bridge for slot 40"

# ---- --print-config, bad keys and values -------------------------------------------
run 0 "--print-config" "$B/hotswapd" --config "$T/one.conf" --print-config
has "--print-config lists the slot's key" "^slot.1.reserve.buses = 1\$"
bad_conf() { # bad_conf LINE EXPECTED: hotswapd refuses, naming file, line and key
	printf 'rebalance = never\n%s\n' "$1" >"$T/bad.conf"
	run 2 "'$1' is refused (exit 2, as any bad config)" "$B/hotswapd" --config "$T/bad.conf" --print-config
	has "... naming file, line and key" "$T/bad.conf:2: $2"
}
bad_conf "reserve.mem = 64Q" "reserve.mem: '64Q' is not a size"
bad_conf "reserve.io = 8G" "reserve.io: '8G' is not a size of at most 4G"
bad_conf "reserve.buses = 300" "reserve.buses: '300' is not a number of buses (0 to 255)"
bad_conf "slot.3.reserve.memory = 1M" "slot.3.reserve.memory: 'memory' is not a reservation: one of buses, io, mem, pref"
bad_conf "slot.x.reserve.mem = 1M" "slot.x.reserve.mem: 'x' is not a physical slot number"
bad_conf "slot.3.mem = 1M" "unknown key 'slot.3.mem'"
bad_conf "reserve.pref = -1" "reserve.pref: '-1' is not a size"

echo "1..$N"
[ "$FAILS" -eq 0 ]
