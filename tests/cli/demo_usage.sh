#!/bin/sh
# demo_usage.sh DEMO SRCDIR - hotswap-demo refuses bad usage and bad
# topologies with a clear message and exit status 2.
set -u
demo=$1
src=$2
fail=0
check() { # expected-status expected-text args...
	want=$1 text=$2
	shift 2
	out=$("$demo" "$@" 2>&1)
	st=$?
	if [ "$st" != "$want" ] || ! printf '%s' "$out" | grep -q -- "$text"; then
		echo "hotswap-demo $*: exit $st, output:" >&2
		printf '%s\n' "$out" >&2
		fail=1
	fi
}
check 2 "usage: hotswap-demo" --bogus
check 2 "usage: hotswap-demo" a.json b.json
check 2 "no-such-file.json" "$src/tests/no-such-file.json"
check 2 "needs the lab chassis" "$src/examples/pcie-server.json"
check 0 "safe to remove\|| state" --table
exit $fail
