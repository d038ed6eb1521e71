#!/bin/sh
# linux-guest.sh - the Linux guest that hotswapd's Linux back-end is proven
# on (tests/linux, docs/linux.md).
#
# Owns: fetching Debian 12's kernel package (the version the
# linux-image-amd64 metapackage points at, with `apt-get download`),
# caching it under a build directory with its version recorded, and
# building a busybox initramfs that holds the given programs, their shared
# libraries (from ldd), pci.ids and the guest's /init (tests/linux/init).
#
#   linux-guest.sh kernel CACHE            -> prints CACHE/.../vmlinuz
#   linux-guest.sh initramfs CACHE OUT PROGRAM...
#
# Only Debian packages: the kernel image package and busybox-static.
#
# SPDX-License-Identifier: BSD-2-Clause
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "linux-guest: $*" >&2; exit 1; }

# The modules the guest loads itself: e1000e at boot (a driver already
# loaded when a card arrives) and e1000 later (a driver loaded after the
# card appeared, as udev would).  Both depend only on built-in code.
MODULES="kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko
kernel/drivers/net/ethernet/intel/e1000/e1000.ko
kernel/drivers/pci/pci-stub.ko"

resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1
}

kernel() {
	cache=$1/kernel
	mkdir -p "$cache"
	# The concrete package behind the metapackage, e.g.
	# linux-image-6.1.0-57-amd64.
	pkg=$(resolve)
	# A fresh machine may have no package lists yet.
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(resolve)
	fi
	[ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
	kver=${pkg#linux-image-}
	dir=$cache/$kver
	if [ ! -f "$dir/vmlinuz" ]; then
		tmp=$(mktemp -d "$cache/dl.XXXXXX")
		# apt-get download writes into the current directory.
		(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ rm -rf "$tmp"; die "apt-get download $pkg failed"; }
		deb=$(ls "$tmp"/*.deb)
		mkdir -p "$tmp/x"
		mods=""
		for m in $MODULES; do mods="$mods ./lib/modules/$kver/$m"; done
		# shellcheck disable=SC2086
		dpkg-deb --fsys-tarfile "$deb" |
			tar -x -C "$tmp/x" "./boot/vmlinuz-$kver" $mods ||
			{ rm -rf "$tmp"; die "$deb lacks vmlinuz or a module"; }
		mkdir -p "$dir/modules"
		for m in $MODULES; do
			cp "$tmp/x/lib/modules/$kver/$m" "$dir/modules/"
		done
		dpkg-deb -f "$deb" Version >"$dir/package-version"
		echo "$pkg" >"$dir/package"
		mv "$tmp/x/boot/vmlinuz-$kver" "$dir/vmlinuz"
		rm -rf "$tmp"
	fi
	echo "$kver $(cat "$dir/package-version")" >"$cache/version"
	echo "$dir/vmlinuz"
}

# Copies a program and every library ldd names (plus the loader) into the
# image root at the same absolute paths.
copy_with_libs() {
	root=$1 prog=$2
	[ -x "$prog" ] || die "no program $prog"
	mkdir -p "$root/bin"
	cp "$prog" "$root/bin/"
	ldd "$prog" | awk '/=> \//{print $3} /^\t\//{print $1}' |
	while read -r lib; do
		[ -f "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

initramfs() {
	cache=$1 out=$2
	shift 2
	vmlinuz=$(kernel "$cache")
	kdir=$(dirname "$vmlinuz")
	bb=$(command -v busybox) || die "no busybox (apt-get install busybox-static)"
	# The dynamic busybox would need its libraries in the image too.
	ldd "$bb" >/dev/null 2>&1 &&
		die "$bb is not static (apt-get install busybox-static)"
	root=$(mktemp -d "${TMPDIR:-/tmp}/hsguest.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	chmod 755 "$root"     # mktemp made it 0700: "/" for every user
	mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
		"$root/dev" "$root/tmp" "$root/run" "$root/var/lib/hotswap" \
		"$root/lib/modules" "$root/usr/share/misc" "$root/agents"
	cp "$bb" "$root/bin/busybox"
	for a in $("$bb" --list); do
		[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
	done
	for p in "$@"; do copy_with_libs "$root" "$p"; done
	# getpwnam / getgrnam go through NSS: files only.
	for lib in /lib/x86_64-linux-gnu/libnss_files.so.2; do
		[ -f "$lib" ] && mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
	done
	cp "$kdir"/modules/*.ko "$root/lib/modules/"
	for ids in /usr/share/misc/pci.ids /usr/share/hwdata/pci.ids; do
		[ -f "$ids" ] && { cp "$ids" "$root/usr/share/misc/pci.ids"; break; }
	done
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\nhotswap:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf 'passwd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"
	cp "$here/tests/linux/init" "$root/init"
	chmod 755 "$root/init"
	cp "$here"/tests/linux/agents/* "$root/agents/" 2>/dev/null || true
	(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

cmd=${1:-}
case $cmd in
kernel) [ $# -eq 2 ] || die "usage: linux-guest.sh kernel CACHE"; kernel "$2" ;;
initramfs)
	[ $# -ge 3 ] || die "usage: linux-guest.sh initramfs CACHE OUT PROGRAM..."
	shift; initramfs "$@" ;;
*) die "usage: linux-guest.sh kernel CACHE | initramfs CACHE OUT PROGRAM..." ;;
esac
