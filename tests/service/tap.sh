# tap.sh - the TAP lines the service's shell tests print, sourced by
# tests/service/{cfgadm,power_indicator,reserve}.sh and
# tests/cli/hotswapctl.sh (tap.py is the same for the Python ones).
# Needs $T (the test's directory: a command's output goes to $T/out)
# and counts into N and FAILS.
N=0
FAILS=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
bad() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; sed 's/^/#   /' "$T/out"; }
run() { # run WANT_STATUS DESCRIPTION COMMAND...: output in $T/out
	want=$1 d=$2; shift 2
	"$@" >"$T/out" 2>&1
	st=$?
	if [ "$st" = "$want" ]; then ok "$d"; else echo "# exit $st, wanted $want"; bad "$d"; fi
}
has() { if grep -q -- "$2" "$T/out"; then ok "$1"; else echo "# no '$2' in:"; bad "$1"; fi; }
hasnt() { if grep -q -- "$2" "$T/out"; then echo "# unwanted '$2' in:"; bad "$1"; else ok "$1"; fi; }
