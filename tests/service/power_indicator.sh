#!/bin/sh
# power_indicator.sh - the power indicator set by the operator where the
# hardware allows (issue #19, ledctl's habit): hotswapctl led SLOT
# power=MODE (cfgadm: led=power,mode=MODE), method slot.power_indicator.
#
# usage: power_indicator.sh BUILD_DIR SOURCE_DIR
#
# Between state changes the operator sets it and `show` says so; the
# slot's next state change sets it again; it is refused with a reason
# while the slot blinks or powers on or off, off on a powered slot (off
# says "may be pulled"), on a slot without one, and on CompactPCI slots,
# whose blue LED `show` describes.
set -u
B=$1
S=$2
T=$(mktemp -d /tmp/pind-test.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM

. "$S/tests/service/tap.sh"

start() { # start NAME [hotswapd args...]: socket $T/NAME/s
	name=$1; shift
	mkdir -p "$T/$name/agents"
	: >"$T/$name/rules.conf"
	"$B/hotswapd" --socket "$T/$name/s" --state-dir "$T/$name/state" \
		--agents "$T/$name/agents" --rules "$T/$name/rules.conf" \
		--set runtime_dir="$T/$name" --set socket_group= --clock virtual \
		"$@" >"$T/$name/log" 2>&1 &
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

# ---- usage, before any daemon ----------------------------------------------------
run 2 "locate is the attention indicator's" "$B/hotswapctl" --socket "$T/none" led 3 power=locate
has "... and says so" "locate is the attention indicator's"
run 2 "the blue LED is not the operator's" "$B/hotswapctl" --socket "$T/none" led 3 blue=on
has "... and says why" "safe to extract"
run 3 "led SLOT power=on goes to the daemon" "$B/hotswapctl" --socket "$T/none" led 3 power=on
run 3 "so does cfgadm's led=power,mode=blink" "$B/hotswapctl" --socket "$T/none" led 3 led=power,mode=blink

# ---- the default chassis ---------------------------------------------------------
start lab
ctl() { "$B/hotswapctl" --socket "$T/lab/s" "$@"; }

# An empty slot: the operator's blink, until the slot changes state.
run 0 "led 5 power=blink on an empty slot" ctl led 5 power=blink
has "the reply says the slot will set it again" "slot 5: power indicator set to blink; the slot sets it again at its next state change"
ctl sim advance 10ms >/dev/null
run 0 "show 5" ctl show 5
has "show marks the operator's value" "power indicator blink (the operator's)"
has "... and when it ends" "the slot sets it again at its next state change"
run 0 "show --json 5" ctl --json show 5
has "JSON: power_indicator_by operator" '"power_indicator_by": "operator"'
run 0 "history" ctl history --slot 5
has "the request is an operator event" "power-indicator by uid [0-9]*: blink"

# While the slot blinks after the button, the state machine owns it.
ctl sim insert 5 nvme >/dev/null
ctl sim advance 100ms >/dev/null
ctl sim button 5 >/dev/null
run 1 "refused while the slot is blinking-on" ctl led 5 power=on
has "... saying who owns it and until when" "the slot is blinking-on: the power indicator is the state machine's until the slot is on or off"
ctl sim advance 6s >/dev/null
run 0 "show 5 once on" ctl show 5
has "the slot's state change set it again (on, its own)" "power on, power indicator on, attention"
hasnt "... and it is no longer the operator's" "the operator's"

# On a powered slot: on and blink are fine, off is refused.
run 1 "off on a powered slot is refused" ctl led 3 power=off
has "... because off means the card may be pulled" "off says the card may be removed (PCIe Base 6.7.1.1.1), and the slot is powered"
run 0 "blink on a powered slot (cfgadm's syntax)" ctl led 3 led=power,mode=blink
ctl sim advance 10ms >/dev/null
run 0 "show 3" ctl show 3
has "it blinks, the operator's" "power indicator blink (the operator's)"
run 0 "on again" ctl led 3 power=on
ctl sim advance 10ms >/dev/null
run 0 "show 3" ctl show 3
has "back to on, as the slot would have it" "power indicator on, attention"

# SHPC: the same through the controller's one command register.
run 0 "led 12 power=on on an empty SHPC slot" ctl led 12 power=on
ctl sim advance 10ms >/dev/null
run 0 "show 12" ctl show 12
has "the SHPC slot's power indicator is on, the operator's" "power indicator on (the operator's)"

# CompactPCI: the blue LED is the board's "safe to extract".
run 1 "refused on a CompactPCI slot" ctl led 21 power=on
has "... naming the blue LED" "blue LED, which tells the operator the board is safe to extract (PICMG 2.1)"
run 0 "show 21" ctl show 21
has "show says the cPCI slot has an operator-visible blue LED" "blue LED off (on the board, for the operator: lit when the board is safe to extract"

# ---- a slot without a power indicator ---------------------------------------------
cat >"$T/bare.json" <<'JSON'
{
  "name": "bare",
  "description": "one root-port slot without a power indicator",
  "host_bridge": {
    "devices": [
      { "type": "root-port", "dev": 1, "fn": 0,
        "slot": { "number": 7, "power_indicator": false } }
    ]
  }
}
JSON
start bare --topology "$T/bare.json"
run 1 "refused where the slot has none" "$B/hotswapctl" --socket "$T/bare/s" led 7 power=on
has "... saying so" "slot 7: the slot has no power indicator"

echo "1..$N"
[ "$FAILS" -eq 0 ]
