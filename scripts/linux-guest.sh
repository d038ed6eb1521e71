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
#   linux-guest.sh systemd-initramfs CACHE OUT STAGE   (systemd as PID 1
#        starting an installed tree; tests/linux/systemd.py)
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

# The busybox image in ROOT: /init, the command channel, PROGRAMs with
# their libraries, the modules, pci.ids, users and groups.
populate() {
	root=$1 cache=$2
	shift 2
	vmlinuz=$(kernel "$cache")
	kdir=$(dirname "$vmlinuz")
	bb=$(command -v busybox) || die "no busybox (apt-get install busybox-static)"
	# The dynamic busybox would need its libraries in the image too.
	ldd "$bb" >/dev/null 2>&1 &&
		die "$bb is not static (apt-get install busybox-static)"
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
	cp "$here/tests/linux/channel" "$root/channel"
	chmod 755 "$root/init" "$root/channel"
	cp "$here"/tests/linux/agents/* "$root/agents/" 2>/dev/null || true
}

pack() {
	root=$1 out=$2
	(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
}

initramfs() {
	cache=$1 out=$2
	shift 2
	root=$(mktemp -d "${TMPDIR:-/tmp}/hsguest.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	populate "$root" "$cache" "$@"
	pack "$root" "$out"
}

# copy_at ROOT FILE: FILE (a program or library of this machine) and the
# libraries ldd names for it into ROOT at the same absolute paths;
# libs_of ROOT FILE: only the libraries.  LD_LIBRARY_PATH
# lets ldd find libraries of a staged install; those are already in ROOT.
copy_at() {
	mkdir -p "$1$(dirname "$2")"
	cp -L "$2" "$1$2"
	libs_of "$1" "$2"
}

libs_of() {
	root=$1 f=$2
	ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}' |
	while read -r lib; do
		case $lib in "${STAGE:-/nonexistent}"/*) continue ;; esac
		[ -f "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# The systemd units a minimal boot to multi-user.target needs, with the
# journal; copied from this machine's systemd package.
SYSTEMD_UNITS="default.target multi-user.target basic.target sysinit.target
sockets.target timers.target paths.target slices.target local-fs.target
local-fs-pre.target swap.target -.slice system.slice shutdown.target
poweroff.target final.target umount.target systemd-poweroff.service
systemd-journald.service systemd-journald.socket
systemd-journald-dev-log.socket network.target network-pre.target
emergency.target rescue.target"

# The busybox image plus systemd as PID 1 and an installed hotswap tree
# (STAGE: what `cmake --install` wrote under a DESTDIR), with
# hotswapd.service enabled as `systemctl enable` would, and the command
# channel as a service (tests/linux/hsguest-channel.service).  /init only
# moves the image onto a tmpfs and hands over to systemd: its mount
# namespaces (ProtectSystem= and the rest) need a real root, not rootfs.
systemd_initramfs() {
	cache=$1 out=$2 STAGE=$3
	[ -x "$STAGE/usr/local/sbin/hotswapd" ] || die "no installed hotswapd under $STAGE"
	[ -x /lib/systemd/systemd ] || die "no systemd (apt-get install systemd)"
	root=$(mktemp -d "${TMPDIR:-/tmp}/hsguest.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	populate "$root" "$cache"
	cp "$here/tests/linux/init-systemd" "$root/init"
	chmod 755 "$root/init"
	cp -a "$STAGE/." "$root/"
	export LD_LIBRARY_PATH="$STAGE/usr/local/lib"
	for f in "$STAGE"/usr/local/sbin/* "$STAGE"/usr/local/bin/*; do
		libs_of "$root" "$f"
	done
	unset LD_LIBRARY_PATH
	# systemd, its shared library (RUNPATH) and the tools the test uses.
	for f in /lib/systemd/systemd /lib/systemd/systemd-journald \
		 /lib/systemd/systemd-shutdown /lib/systemd/systemd-executor \
		 /bin/systemctl /bin/journalctl /usr/bin/systemd-analyze \
		 /lib/systemd/libsystemd-shared-*.so; do
		[ -e "$f" ] && copy_at "$root" "$f"
	done
	mkdir -p "$root/lib/systemd/system" "$root/etc/systemd/system"
	for u in $SYSTEMD_UNITS; do
		[ -e "/lib/systemd/system/$u" ] &&
			cp -P "/lib/systemd/system/$u" "$root/lib/systemd/system/"
	done
	# The journal, wanted as the systemd package wants it.
	mkdir -p "$root/lib/systemd/system/sockets.target.wants" \
		"$root/lib/systemd/system/sysinit.target.wants"
	for u in systemd-journald.socket systemd-journald-dev-log.socket; do
		ln -sf "../$u" "$root/lib/systemd/system/sockets.target.wants/$u"
	done
	ln -sf ../systemd-journald.service \
		"$root/lib/systemd/system/sysinit.target.wants/systemd-journald.service"
	# default.target is a link to graphical.target on a desktop.
	ln -sf multi-user.target "$root/lib/systemd/system/default.target"
	cp "$here/tests/linux/hsguest-channel.service" "$root/lib/systemd/system/"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -s /lib/systemd/system/hsguest-channel.service \
		"$root/etc/systemd/system/multi-user.target.wants/"
	# What `systemctl enable hotswapd` does: the unit's [Install] section.
	systemctl --root="$root" enable hotswapd.service >/dev/null 2>&1 ||
		die "systemctl --root enable hotswapd.service failed"
	[ -f /usr/lib/os-release ] && cp /usr/lib/os-release "$root/etc/os-release"
	: >"$root/etc/machine-id"
	# The installed libraries live in /usr/local/lib, which the dynamic
	# loader searches only through its cache.
	printf '/usr/local/lib\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' \
		>"$root/etc/ld.so.conf"
	ldconfig -r "$root" || die "ldconfig -r $root failed"
	pack "$root" "$out"
}

cmd=${1:-}
case $cmd in
kernel) [ $# -eq 2 ] || die "usage: linux-guest.sh kernel CACHE"; kernel "$2" ;;
initramfs)
	[ $# -ge 3 ] || die "usage: linux-guest.sh initramfs CACHE OUT PROGRAM..."
	shift; initramfs "$@" ;;
systemd-initramfs)
	[ $# -eq 4 ] || die "usage: linux-guest.sh systemd-initramfs CACHE OUT STAGE"
	shift; systemd_initramfs "$@" ;;
*) die "usage: linux-guest.sh kernel CACHE | initramfs CACHE OUT PROGRAM... | systemd-initramfs CACHE OUT STAGE" ;;
esac
