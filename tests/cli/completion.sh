#!/bin/bash
# completion.sh - the bash completion of hotswapctl (etc/hotswapctl.bash).
#
# usage: completion.sh BUILD_DIR SOURCE_DIR
#
# Sources the completion in a plain bash (no bash-completion package),
# runs its function the way bash would for partial command lines, and
# checks the candidates: verbs, options, indicator values, and the slot
# names and card names a hotswapd on the default chassis (virtual clock,
# started here) reports.
set -u
B=$1
S=$2
T=$(mktemp -d /tmp/hotswap-compl.XXXXXX)
PID=
trap '[ -n "$PID" ] && { kill -TERM "$PID"; wait "$PID"; } 2>/dev/null; rm -rf "$T"' EXIT INT TERM
FAILS=0
N=0
CTL=$B/hotswapctl
SOCK=$T/s

# shellcheck source=../../etc/hotswapctl.bash
. "$S/etc/hotswapctl.bash"

# complete WORDS...: the candidates for the last word, sorted, one line.
complete_line() {
	COMP_WORDS=("$CTL" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_hotswapctl
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # expect DESCRIPTION WANT WORDS...
	local d=$1 want=$2 got
	shift 2
	got=$(complete_line "$@")
	N=$((N + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $N - $d"
	else
		FAILS=$((FAILS + 1))
		echo "not ok $N - $d"
		echo "#   words: $*"
		echo "#   want:  $want"
		echo "#   got:   $got"
	fi
}

[ "$(complete -p hotswapctl)" = "complete -F _hotswapctl hotswapctl" ] &&
	echo "ok 0 - sourcing registers the completion" ||
	{ echo "not ok 0 - sourcing registers the completion"; FAILS=1; }

expect "verbs starting with 're'" "rebalance remove replace report" re
expect "verbs starting with 'a'" "add attention authorize" a
expect "verbs starting with 'b'" "block" b
expect "devices' option" "--blocked --json --yes" devices --
expect "global options" "--help --json --socket --version --yes" --
expect "watch's options" "--after --count --json --property --slot --type --yes" --socket "$SOCK" watch --
expect "event types for --type" "slot-alert slot-state" watch --type slot-
expect "attention's values" "blink locate off on" attention 3 ""
expect "led's values" "attn=blink attn=locate attn=off attn=on" led 3 attn
expect "latch's values" "close open" sim latch 21 ""
expect "sim's actions starting with 'p'" "pull" sim p

# Slot and card names come from the daemon.
expect "no daemon: no slot names (and no error)" "" --socket "$SOCK" show ""
mkdir -p "$T/agents"
"$B/hotswapd" --clock virtual --socket "$SOCK" --state-dir "$T/state" \
	--agents "$T/agents" --rules /dev/null --set runtime_dir="$T" \
	--set socket_group= >"$T/log" 2>&1 &
PID=$!
i=0
until "$CTL" --socket "$SOCK" status >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "# hotswapd did not start"; sed 's/^/#   /' "$T/log"; exit 1; }
	sleep 0.1
done
expect "slot names for show (from the daemon, --socket)" \
	"1 10 11 12 13 2 20 21 22 23 3 4 5 6" --socket "$SOCK" show ""
expect "slot names starting with 2" "2 20 21 22 23" --socket "$SOCK" remove 2
expect "slot names for --slot" "1 10 11 12 13" --socket "$SOCK" history --slot 1
HOTSWAP_SOCKET=$SOCK
export HOTSWAP_SOCKET
expect "slot names through \$HOTSWAP_SOCKET" "3" show 3
expect "no second slot for show" "" show 3 ""
expect "card names for sim insert" "nvme nvme-gen4 nvme-slow" sim insert 2 nvme

echo "1..$N"
[ "$FAILS" = 0 ]
