#!/bin/sh
# demo.sh - the README's main job: hotswapd on the default simulated
# chassis, in real time, with a narrated operator session.
#
# usage: demo.sh BUILD_DIR [SOURCE_DIR]
#
# Everything happens through the service's socket with hotswapctl, the
# way an operator would do it; the event stream is printed as it comes.
set -eu
B=$1
S=${2:-$(dirname "$0")/..}
T=$(mktemp -d /tmp/hotswap-demo.XXXXXX)
SOCK=$T/hotswapd.sock
export HOTSWAP_SOCKET=$SOCK
DPID=
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null || true
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
ctl() { "$B/hotswapctl" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
pause() { sleep "$1"; }

mkdir -p "$T/agents" "$T/run"
cp "$S/examples/agents/"*.agent "$T/agents/"
cat >"$T/rules.conf" <<'RULES'
# Network and storage cards may come in; anything else inserted waits
# for the operator (default_inserted = block).
allow class 02*
allow class 01*
RULES

say "starting hotswapd on the default lab chassis (real time)"
"$B/hotswapd" --backend sim --socket "$SOCK" --state-dir "$T/state" --agents "$T/agents" \
	--rules "$T/rules.conf" --set runtime_dir="$T/run" \
	--set default_inserted=block --set socket_group= \
	--http "${HOTSWAP_DEMO_HTTP:-127.0.0.1:0}" 2>"$T/daemon.log" &
DPID=$!
i=0
until ctl status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/daemon.log"; exit 1; }
	sleep 0.1
done
ctl status
ctl list
# The web view (docs/web.md): the address carries the write token, which
# the page takes out of it at once.
URL=$(sed -n 's/.*http: listening on \(http:[^ ]*\) .*/\1/p' "$T/daemon.log" | head -1)
say "the chassis live in a browser: ${URL}#token=$(cat "$T/run/http.token")"
echo "   (a fixed port: HOTSWAP_DEMO_HTTP=127.0.0.1:8080 make demo; metrics at ${URL}metrics)"
# The event stream, live; the agents' lines come from the daemon's log.
ctl watch &
WPID=$!
SEEN=0
agents_said() {
	sleep 0.3
	grep "agent " "$T/daemon.log" | tail -n +$((SEEN + 1)) | sed 's/^hotswapd: [a-z]*: /  agent said: /' || true
	SEEN=$(grep -c "agent " "$T/daemon.log" || true)
}

say "1. a network card goes into PCIe slot 2; the operator presses its button (5 s to change one's mind)"
ctl sim insert 2 nic-1port
pause 0.3
ctl sim button 2
pause 6
agents_said

say "2. traffic runs on it while the operator asks for removal with the button: blink, quiesce, power off"
NET=$(ctl --json show 2 | sed -n 's/.*"name": "\([a-z]*[0-9]*\)".*/\1/p' | head -1)
ctl sim traffic "$NET" --count 32
ctl sim button 2
pause 6
ctl show 2 | head -3
agents_said

say "3. a button press on slot 3 (the NVMe disk), and a second press inside the window cancels it"
ctl sim button 3
pause 2
ctl sim button 3
pause 1
ctl show 3 | head -2

say "4. a removal request the storage agent refuses: a filesystem is mounted"
STOR=$(ctl --json show 3 | sed -n 's/.*"name": "\([a-z]*[0-9]*\)".*/\1/p' | head -1)
mkdir -p "$T/run/mounted" && : >"$T/run/mounted/$STOR"
ctl --yes remove 3 || echo "   (refused, as it should be: the reason is above)"
agents_said
rm "$T/run/mounted/$STOR"
say "   unmounted: cfgadm's two steps on slot 3: unconfigure (drivers out, power kept), configure (back in)"
ctl --yes unconfigure 3
ctl list | sed -n '1p;/^ *3 /p'
ctl configure 3

say "5. CompactPCI slot 21: the ejector handle opens, the board is quiesced, the blue LED says: pull it"
ctl sim latch 21 open
pause 2
ctl show 21 | sed -n '1,2p;/blue LED/p'
ctl sim pull 21

say "6. a GPU nobody allowed: enumerated and visible, but no memory, no bus mastering, no driver"
ctl sim insert 6 gpu
pause 0.3
ctl --yes add 6
pause 0.5
ctl show 6 | sed -n '1,2p;/^  0000/p'
ctl sim dma 6 --count 64
say "   the operator authorizes it (once)"
ctl authorize --slot 6
ctl show 6 | sed -n '/^  0000/p'

say "7. a board pulled out of slot 1 without asking (surprise removal)"
ctl sim pull 1 --surprise
pause 1

say "8. the replacement for slot 2: the old NIC out, a new one in, brought up with the operator's add"
ctl sim pull 2
pause 0.3
ctl sim insert 2 nic-1port
pause 0.3
ctl --yes add 2
pause 0.5
agents_said

say "the final tree"
ctl tree
say "slots"
ctl list
say "availability report"
ctl report
# HOTSWAP_DEMO_SCREENSHOT=FILE.png: the page after the demo's steps
# (headless chromium, playwright-core as installed by the web tests).
if [ -n "${HOTSWAP_DEMO_SCREENSHOT:-}" ]; then
	NODE_PATH="$B/web-node/node_modules:${NODE_PATH:-}" \
		node "$S/tests/web/shot.js" "${URL}#token=$(cat "$T/run/http.token")" \
		"$HOTSWAP_DEMO_SCREENSHOT" || echo "   (no screenshot: see tests/web/shot.js)"
fi
kill "$WPID" 2>/dev/null || true
WPID=
kill -TERM "$DPID"
wait "$DPID"
DPID=
say "hotswapd stopped cleanly"
