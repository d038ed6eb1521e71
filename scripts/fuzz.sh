#!/bin/sh
# fuzz.sh - run every libFuzzer harness built in BUILD_DIR (make fuzz).
#
# usage: fuzz.sh BUILD_DIR SECONDS [NAME...]
#
# For each harness tests/fuzz/fuzz_NAME.c: first every input committed in
# tests/fuzz/regress/NAME/ (inputs that once crashed it; each must now
# pass), then SECONDS of fuzzing starting from tests/fuzz/corpus/NAME/.
# New corpus entries go to a scratch directory, not into the repository.
# A crash leaves its input in BUILD_DIR/fuzz-findings/NAME/ and fails the
# run; add it to tests/fuzz/regress/NAME/ once fixed.
set -u
B=$1
SECS=$2
shift 2
S=$(cd "$(dirname "$0")/.." && pwd)
NAMES=${*:-$(cd "$S/tests/fuzz" && ls fuzz_*.c | sed -n 's/^fuzz_\(.*\)\.c$/\1/p' | grep -v '^util$')}
FAIL=0
for n in $NAMES; do
	bin=$B/fuzz_$n
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin not built"; FAIL=1; continue
	fi
	scratch=$(mktemp -d /tmp/hotswap-fuzz.XXXXXX)
	findings=$B/fuzz-findings/$n
	mkdir -p "$findings"
	if [ -d "$S/tests/fuzz/regress/$n" ] && [ -n "$(ls "$S/tests/fuzz/regress/$n")" ]; then
		if "$bin" "$S/tests/fuzz/regress/$n"/* >"$B/fuzz-$n-regress.log" 2>&1; then
			echo "fuzz $n: $(ls "$S/tests/fuzz/regress/$n" | wc -l) regression inputs pass"
		else
			echo "fuzz $n: a regression input fails again:"; tail -30 "$B/fuzz-$n-regress.log"; FAIL=1
		fi
	fi
	if "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$findings/" -print_final_stats=1 \
		"$scratch" "$S/tests/fuzz/corpus/$n" >"$B/fuzz-$n.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz-$n.log")
		echo "fuzz $n: ${runs:-?} inputs in ${SECS} s, no finding"
	else
		echo "fuzz $n: FINDING (input in $findings/):"
		grep -E 'ERROR|SUMMARY|runtime error|^[a-z].*: ' "$B/fuzz-$n.log" | head -20
		FAIL=1
	fi
	rm -rf "$scratch"
done
exit $FAIL
