#!/bin/sh
# coverage.sh BUILD [RANDOM_COUNT] - line and branch coverage of the test
# suite (make coverage; issue #17 item 6).
#
# Builds BUILD with gcc --coverage (no sanitizers: they add branches of
# their own and slow the run), runs the ctest suite there, and prints the
# line and branch coverage of every source directory and every file with
# gcovr.  Goals: >= 90 % lines and >= 80 % branches for core/, controllers/
# and service/; the last line says whether they are met (exit status 0
# either way: the figures are a report, not a gate).
#
# linux_guest (platforms/linux and the linux back-end on a kernel in a
# QEMU guest) runs first, outside ctest: its programs write their counts
# inside the guest (GCOV_PREFIX), and tests/linux/run.py --gcov brings
# them home over the command channel into this tree, where the host's
# runs then add to them.  Left out: linux_systemd (the same programs,
# installed, under systemd's ProtectSystem=), the QEMU images and their
# suites (not built here: freestanding, no libgcov) and the fuzzers
# (clang; make fuzz).  The random scenarios run RANDOM_COUNT (default
# 500) instead of CI's 10,000.
#
# SPDX-License-Identifier: BSD-2-Clause
set -eu

build=${1:-build/coverage}
count=${2:-500}
jobs=${JOBS:-2}
src=$(cd "$(dirname "$0")/.." && pwd)
exclude='^(linux_guest|linux_systemd)$'

command -v gcovr >/dev/null || {
	echo "coverage: gcovr is missing (apt-get install gcovr, or scripts/bootstrap.sh)" >&2
	exit 1
}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DHOTSWAP_COVERAGE=ON \
	-DHOTSWAP_SANITIZE=OFF -DHOTSWAP_QEMU_IMAGE=OFF \
	-DHOTSWAP_AARCH64_IMAGE=OFF -DHOTSWAP_RANDOM_COUNT="$count" >/dev/null
cmake --build "$build" -j"$jobs"

# Counts from an earlier run would add up with this one's.
find "$build" -name '*.gcda' -delete
if [ -x "$build/hotswap-linux" ] && command -v qemu-system-x86_64 >/dev/null; then
	echo "coverage: the linux back-end in its QEMU guest (tests/linux/run.py --gcov)"
	python3 "$src/tests/linux/run.py" --build "$build" --gcov || {
		echo "coverage: the Linux guest's checks failed" >&2
		failed=1
	}
fi
echo "coverage: ctest in $build, without: $exclude (random scenarios: $count)"
(cd "$build" && ctest -j"$jobs" -E "$exclude" --output-on-failure) || {
	echo "coverage: some tests failed (figures below are still this run's)" >&2
	failed=1
}

# tests/, bench/ and the build tree's generated files are not measured.
# The freestanding copy of the core is not instrumented (a .gcno left
# there by an older build would clash with hotswap_core's).  One gcov at a
# time: gcovr 5.2 hangs when a parallel worker fails.
json="$build/coverage.json"
gcovr -r "$src" --object-directory "$build" \
	--exclude-directories '.*/hotswap_core_freestanding\.dir.*' \
	--exclude "$src/tests/" --exclude "$src/bench/" --exclude "$build/" \
	--json-summary-pretty -o "$json" "$build" >/dev/null

python3 - "$json" <<'EOF'
import collections, json, os, sys

GOALS = {"core": (90.0, 80.0), "controllers": (90.0, 80.0),
         "service": (90.0, 80.0)}
ELSEWHERE = {"service/backend_linux.c": "linux_guest"}
files = json.load(open(sys.argv[1]))["files"]

def pct(hit, total):
    return 100.0 * hit / total if total else 100.0

dirs = collections.OrderedDict()
rows = []
for f in sorted(files, key=lambda f: f["filename"]):
    d = os.path.dirname(f["filename"])
    acc = dirs.setdefault(d, [0, 0, 0, 0])
    acc[0] += f["line_covered"]; acc[1] += f["line_total"]
    acc[2] += f["branch_covered"]; acc[3] += f["branch_total"]
    rows.append((f["filename"], f["line_covered"], f["line_total"],
                 f["branch_covered"], f["branch_total"]))

def line(name, lc, lt, bc, bt):
    return "%-36s %6.1f %% %6d/%-6d %6.1f %% %6d/%-6d" % (
        name, pct(lc, lt), lc, lt, pct(bc, bt), bc, bt)

hdr = "%-36s %8s %13s %8s %13s" % ("", "lines", "", "branches", "")
print("\n== coverage per file ==")
print(hdr)
for r in rows:
    print(line(*r))
print("\n== coverage per directory ==")
print(hdr)
for d, a in sorted(dirs.items()):
    print(line(d + "/", *a))
print("\n== goals: >= 90 % lines, >= 80 % branches ==")
ok = True
for d, (gl, gb) in GOALS.items():
    a = dirs.get(d, [0, 0, 0, 0])
    lp, bp = pct(a[0], a[1]), pct(a[2], a[3])
    met = lp >= gl and bp >= gb
    ok &= met
    print("%-12s lines %5.1f %%  branches %5.1f %%  %s" % (
        d + "/", lp, bp, "met" if met else "NOT met"))
# Files only the excluded tests run, so that what the rest covers shows.
for f, test in ELSEWHERE.items():
    r = [x for x in rows if x[0] == f]
    if not r:
        continue
    d = os.path.dirname(f)
    a = dirs[d]
    lc, lt = a[0] - r[0][1], a[1] - r[0][2]
    bc, bt = a[2] - r[0][3], a[3] - r[0][4]
    print("%-12s lines %5.1f %%  branches %5.1f %%  without %s (run by %s "
          "only)" % (d + "/", pct(lc, lt), pct(bc, bt), f, test))
print("coverage goals: %s" % ("met" if ok else "NOT met"))
EOF
[ -z "${failed:-}" ] || exit 1
