#!/bin/sh
# check-freestanding.sh CC OUT OBJ... - prove the core needs no libc.
#
# Links the core's freestanding objects into one relocatable object and
# lists what it still needs from outside.  Only the four functions a C
# compiler may emit calls to on its own (GCC's documented freestanding
# contract: memcpy, memmove, memset, memcmp) are allowed; a platform
# supplies them.  Anything else is a libc dependency and fails the build.
set -eu
cc=$1; out=$2; shift 2
"$cc" -r -nostdlib -o "$out" "$@"
bad=$(nm -u "$out" | awk '{print $2}' | grep -v -x -e memcpy -e memmove -e memset -e memcmp || true)
if [ -n "$bad" ]; then
	echo "check-freestanding: the core needs symbols no freestanding platform provides:" >&2
	echo "$bad" | sed 's/^/  /' >&2
	exit 1
fi
echo "check-freestanding: core links with no libc ($(nm -u "$out" | wc -l) compiler-emitted symbols)"
