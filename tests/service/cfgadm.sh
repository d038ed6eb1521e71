#!/bin/sh
# cfgadm.sh - cfgadm's four steps as hotswapctl verbs (issue #19: connect
# / disconnect separate from configure / unconfigure), on the default
# simulated chassis.
#
# usage: cfgadm.sh BUILD_DIR SOURCE_DIR
#
# connect powers a slot and configures nothing (receptacle connected,
# occupant unconfigured, no device, power on); configure binds the card;
# unconfigure asks the query-remove agents (a mounted filesystem refuses
# it, as for remove) and keeps power; disconnect powers off.  Each is an
# operator event in the history; a slot left connected is connected
# again after the daemon is killed and restarted; the web API has the
# same four actions.
set -u
B=$1
S=$2
T=$(mktemp -d /tmp/cfgadm-test.XXXXXX)
PID=
trap '[ -n "$PID" ] && { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }; rm -rf "$T"' EXIT INT TERM

. "$S/tests/service/tap.sh"
field() { # field SLOT KEY: one field of show --json
	"$B/hotswapctl" --socket "$T/s" --json show "$1" |
		python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(len(v) if isinstance(v, list) else str(v).lower())' "$2"
}

mkdir -p "$T/agents" "$T/run/mounted"
cp "$S/examples/agents/60-storage.agent" "$T/agents/"
: >"$T/rules.conf"
start() {
	"$B/hotswapd" --socket "$T/s" --state-dir "$T/state" \
		--agents "$T/agents" --rules "$T/rules.conf" \
		--set runtime_dir="$T/run" --set socket_group= --clock virtual \
		--http 127.0.0.1:0 >>"$T/log" 2>&1 &
	PID=$!
	i=0
	while ! "$B/hotswapctl" --socket "$T/s" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "# hotswapd did not start:"; sed 's/^/#   /' "$T/log"
			exit 1
		fi
		sleep 0.1
	done
}
ctl() { "$B/hotswapctl" --socket "$T/s" "$@"; }
post() { # post URL TOKEN: the status code; the body in $T/out
	python3 - "$1" "$2" "$T/out" <<'PY'
import sys, urllib.request, urllib.error
url, token, out = sys.argv[1:4]
req = urllib.request.Request(url, data=b"{}", method="POST",
                             headers={"Content-Type": "application/json"})
if token:
    req.add_header("Authorization", "Bearer " + token)
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
open(out, "wb").write(body)
print(code)
PY
}
start

# Slot 3 holds the storage card on the default chassis: take it out of
# service while a filesystem is "mounted" on it.
STOR=$(ctl --json show 3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"][0]["name"])')
: >"$T/run/mounted/$STOR"
run 1 "unconfigure 3 with a mounted filesystem is refused" ctl --yes unconfigure 3
has "... naming the agent's reason" "mounted"
[ "$(field 3 state)" = on ] && ok "slot 3 stays on" || bad "slot 3 on after the refusal"
rm "$T/run/mounted/$STOR"
run 0 "unconfigure 3" ctl --yes unconfigure 3
has "it ends connected, unconfigured" "slot 3: connected, connected, unconfigured"
ctl sim advance 50ms >/dev/null
[ "$(field 3 devices)" = 0 ] && ok "no function of slot 3 is left" || bad "devices of slot 3: $(field 3 devices)"
[ "$(field 3 power)" = true ] && ok "slot 3 is still powered" || bad "slot 3 power $(field 3 power)"
[ "$(field 3 power_indicator)" = on ] && ok "its power indicator stays on (do not pull)" || bad "power indicator $(field 3 power_indicator)"
run 0 "list" ctl list
grep '^ *3 ' "$T/out" >"$T/row" || true
if grep -q "connected" "$T/row" && grep -q "unconfigured" "$T/row"; then ok "list shows slot 3 connected, unconfigured"; else cp "$T/row" "$T/out"; bad "list row of slot 3"; fi

run 0 "configure 3" ctl configure 3
has "it ends on, configured" "slot 3: on, connected, configured"
[ "$(field 3 devices)" = 1 ] && ok "slot 3 has its function again" || bad "devices of slot 3"

run 0 "disconnect 3" ctl --yes disconnect 3
has "it ends off, disconnected" "slot 3: off, disconnected, unconfigured"
[ "$(field 3 power)" = false ] && ok "slot 3 is powered off" || bad "slot 3 power"

run 0 "connect 3" ctl connect 3
has "connect stops at connected" "slot 3: connected, connected, unconfigured"
run 0 "connect 3 again is already true" ctl connect 3
run 0 "disconnect 3 from connected" ctl --yes disconnect 3
has "... powers it off" "slot 3: off, disconnected"
run 1 "connect on an empty slot is refused" ctl connect 5
has "... saying why" "empty"
run 2 "connect without a slot is a usage error" ctl connect
run 0 "history of slot 3" ctl history --slot 3 --limit 40
for v in unconfigure configure disconnect connect; do
	has "the history has the operator's $v" "$v by uid"
done

# Left connected, a slot is connected again after a crash and restart.
run 0 "connect 3" ctl connect 3
kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=
start
ctl sim advance 2s >/dev/null
[ "$(field 3 state)" = connected ] && ok "after SIGKILL and restart slot 3 is connected again" || { cp "$T/log" "$T/out"; bad "slot 3 after restart: $(field 3 state)"; }
[ "$(field 3 devices)" = 0 ] && ok "... and still unconfigured" || bad "devices after restart"

# The web API: the same verbs, with the same authority.
PORT=$(sed -n 's|.*http: listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/log" | tail -1)
if [ -n "$PORT" ]; then
	TOKEN=$(cat "$T/run/http.token" 2>/dev/null || true)
	code=$(post "http://127.0.0.1:$PORT/api/v1/slots/3/configure" "")
	[ "$code" = 401 ] || [ "$code" = 403 ] && ok "POST configure without the token is refused ($code)" || bad "POST configure without token: $code"
	if [ -n "$TOKEN" ]; then
		code=$(post "http://127.0.0.1:$PORT/api/v1/slots/3/configure" "$TOKEN")
		[ "$code" = 200 ] && grep -q '"state": *"on"' "$T/out" && ok "POST /api/v1/slots/3/configure brings it on" || bad "POST configure: $code"
	else
		echo "# no token file"; bad "http token"
	fi
else
	echo "# the log does not tell the HTTP port"; cp "$T/log" "$T/out"; bad "http port"
fi

echo "1..$N"
[ "$FAILS" -eq 0 ]
