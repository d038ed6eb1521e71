#!/bin/sh
# bootstrap.sh - install the Debian packages hotswap builds and tests with.
#
# Idempotent: installs only what is missing, so it is cheap to run before
# every build.  Needs root (or sudo) the first time on a fresh machine.
set -eu

# qemu-system-x86, gcc-multilib (32-bit libgcc) and python3: the bare-metal
# image and its test suite on QEMU (tests/qemu); lld (clang builds the aarch64 image: Debian's
# gcc-aarch64-linux-gnu conflicts with gcc-multilib) and
# qemu-system-arm: the aarch64 image.  valgrind: make bench counts the
# instructions of one hot-add with callgrind (bench/bench_scaling.sh).
# clang, clang-tools, libclang-rt-14-dev: make check's clang build,
# scan-build and the libFuzzer harnesses (docs/testing.md).
# busybox-static: the Linux test guest's initramfs (scripts/linux-guest.sh);
# libudev-dev: the Linux back-end's device events (platforms/linux).
# One package a line: each feature adds its own.
PKGS="
build-essential cmake pkgconf python3
libcmocka-dev libjansson-dev libpci-dev pci.ids libuv1-dev libsqlite3-dev libsystemd-dev sqlite3
gcc-multilib qemu-system-x86
lld qemu-system-arm
valgrind
clang clang-tools libclang-rt-14-dev
libudev-dev busybox-static
"
# The HTTP endpoint (libmicrohttpd) and its tests: headless chromium,
# prometheus (promtool and a server for the fleet test), wrk (make bench).
PKGS="$PKGS
libmicrohttpd-dev chromium prometheus wrk
"
# node and npm for playwright-core (tests/web), unless node is there already.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

# Issue #19: systemd-analyze (the unit's security score, tests/cli/install.sh)
# and pciutils' lspci (an independent reader of the simulator's
# configuration space, tests/cli/lspci_dump.sh).
PKGS="$PKGS systemd pciutils"

# Issue #17: gcovr, make coverage's per-directory line and branch report
# (scripts/coverage.sh).
PKGS="$PKGS gcovr"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "bootstrap: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "bootstrap: need root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
