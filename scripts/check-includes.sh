#!/bin/sh
# check-includes.sh SRCDIR - the core's headers stay inside the core.
#
# core/*.h are the core's private headers; everything a driver,
# controller, platform, tool or test may use is in include/hotswap/
# (issue #18).  Fails, naming file and line, if any C file outside core/
# includes a core header by name or by a path into core/.
set -eu
src=${1:-.}
cd "$src"
names=$(ls core/*.h | sed 's|core/||')
pat=$(printf '%s\n' $names | sed 's/\./\\./g' | paste -sd'|' -)
bad=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*' | sed 's|^\./||')
bad=$(printf '%s\n' $bad | grep -v '^core/' |
	xargs grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]([^\">]*/)?($pat)[\">]|#[[:space:]]*include[[:space:]]*[\"<][^\">]*core/" 2>/dev/null || true)
if [ -n "$bad" ]; then
	echo "check-includes: core headers included outside core/ (use include/hotswap/):" >&2
	echo "$bad" | sed 's/^/  /' >&2
	exit 1
fi
echo "check-includes: no file outside core/ includes a core header ($(printf '%s ' $names))"
