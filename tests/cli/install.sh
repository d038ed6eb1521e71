#!/bin/sh
# install.sh - `make install DESTDIR=...` gives what an operator and an
# embedder need (issue #19, item 13).
#
# usage: install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
#
# Installs BUILD_DIR under a throw-away DESTDIR with the documented
# prefix (/usr/local) and checks: the programs, man pages and bash
# completion are there; the installed hotswapd keeps its state in
# /var/lib/hotswap (what the unit's ReadWritePaths= allows); the unit
# scores 4.0 or better in `systemd-analyze security`; the shared
# libraries carry a soname; the simulator's headers are installed; a C
# program (gcc) and a C++ program (g++) built from the installed
# headers with pkg-config link against the installed libraries and run.
# EXTRA_CFLAGS: the build's sanitizer flags (its libraries need them).
set -u
B=$1
S=$2
XFLAGS=${3:-}
T=$(mktemp -d /tmp/hotswap-install.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
D=$T/root
P=$D/usr/local
FAILS=0
N=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
bad() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; [ -s "$T/out" ] && sed 's/^/#   /' "$T/out"; }
exists() { if [ -e "$P/$1" ]; then ok "installed: $1"; else : >"$T/out"; bad "installed: $1"; fi; }

if DESTDIR=$D cmake --install "$B" --prefix /usr/local >"$T/out" 2>&1; then
	ok "cmake --install with DESTDIR"
else
	bad "cmake --install with DESTDIR"; exit 1
fi
for f in sbin/hotswapd bin/hotswapctl bin/hotswap-lspci bin/hotswap-demo \
	 share/man/man8/hotswapd.8 share/man/man8/hotswapctl.8 \
	 share/man/man1/hotswap-lspci.1 share/man/man1/hotswap-demo.1 \
	 share/man/man5/hotswapd.conf.5 \
	 share/bash-completion/completions/hotswapctl \
	 lib/systemd/system/hotswapd.service \
	 lib/pkgconfig/hotswap.pc lib/pkgconfig/hotswap-sim.pc \
	 include/hotswap/core.h include/hotswap/hpc.h \
	 include/hotswap/sim/sim.h include/hotswap/sim/topology.h \
	 include/hotswap/sim/simcard.h \
	 share/hotswap/catalog.json share/hotswap/examples/default.json; do
	exists "$f"
done

# On Linux the installed configuration selects the linux back-end.
if grep -qx "backend = linux" "$P/etc/hotswap/hotswapd.conf" 2>/dev/null &&
   "$P/sbin/hotswapd" -c "$P/etc/hotswap/hotswapd.conf" --print-config 2>"$T/out" | grep -qx "backend = linux"; then
	ok "the installed hotswapd.conf selects the linux back-end"
else
	bad "the installed hotswapd.conf selects the linux back-end"
fi

# The state directory the installed daemon uses is the unit's.
: >"$T/out"
if grep -q "/var/lib/hotswap" "$P/sbin/hotswapd" &&
   ! grep -q "/usr/local/var" "$P/sbin/hotswapd"; then
	ok "the installed hotswapd's state directory is /var/lib/hotswap"
else
	bad "the installed hotswapd's state directory is /var/lib/hotswap"
fi
if [ "$(id -u)" = 0 ]; then
	"$P/sbin/hotswapd" --print-config >"$T/out" 2>&1
	grep -qx "state_dir = /var/lib/hotswap" "$T/out" && grep -qx "runtime_dir = /run/hotswap" "$T/out" \
		&& ok "--print-config as root: state in /var/lib/hotswap, socket in /run/hotswap" \
		|| bad "--print-config as root: state in /var/lib/hotswap, socket in /run/hotswap"
fi
U=$P/lib/systemd/system/hotswapd.service
grep -q "^ReadWritePaths=/var/lib/hotswap" "$U" && grep -q "^StateDirectory=hotswap" "$U" \
	&& grep -q "^ExecStart=/usr/local/sbin/hotswapd\$" "$U" \
	&& ok "the unit runs the installed hotswapd and lets it write /var/lib/hotswap" \
	|| { cp "$U" "$T/out"; bad "the unit runs the installed hotswapd and lets it write /var/lib/hotswap"; }
# systemd-analyze's exposure, 0-10; --threshold takes tenths (exit 1 above).
systemd-analyze security --offline=yes --threshold=40 "$U" >"$T/out" 2>&1
st=$?
score=$(sed -n 's/.*Overall exposure level for hotswapd.service: \([0-9.]*\).*/\1/p' "$T/out")
if [ "$st" = 0 ] && [ -n "$score" ]; then
	ok "systemd-analyze security rates the unit $score (4.0 or better)"
else
	bad "systemd-analyze security rates the unit ${score:-?} (4.0 or better)"
fi

# Shared libraries with a soname.
for l in hotswap-core hotswap-sim; do
	so=$(readelf -d "$P/lib/lib$l.so" 2>"$T/out" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	if [ "$so" = "lib$l.so.0" ] && [ -e "$P/lib/$so" ]; then
		ok "lib$l.so has soname $so"
	else
		bad "lib$l.so has soname lib$l.so.0 (got '$so')"
	fi
done

# Every installed header that declares functions gives them C linkage.
missing=
for h in $(find "$P/include/hotswap" -name '*.h'); do
	grep -q ');$' "$h" && ! grep -q 'extern "C"' "$h" && missing="$missing ${h#$P/include/}"
done
: >"$T/out"
[ -z "$missing" ] && ok "every installed header with declarations has extern \"C\"" ||
	bad "every installed header with declarations has extern \"C\" (not:$missing)"

# An embedder's program, in C and in C++, from the installed headers.
flags=$(PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_PATH=$P/lib/pkgconfig \
	pkg-config --cflags --libs hotswap-sim 2>"$T/out")
[ -n "$flags" ] && ok "pkg-config hotswap-sim" || bad "pkg-config hotswap-sim"
# The functions hotswap-lspci shows in the tree (its "+- 00:01.0" lines).
want=$("$B/hotswap-lspci" "$S/examples/default.json" |
	grep -c -- '[+\\]- \([0-9a-f]\{2\}:\)\?[0-9a-f]\{2\}\.[0-7] ')
for lang in c c++; do
	if [ $lang = c ]; then
		cc=${CC:-cc}; std=-std=c11
	else
		cc=${CXX:-g++}; std=-std=c++17
	fi
	# shellcheck disable=SC2086
	if $cc $std -Wall -Wextra -Werror $XFLAGS -x $lang "$S/tests/cli/embed.c" -x none \
		$flags -o "$T/embed-$lang" >"$T/out" 2>&1; then
		ok "a $lang program builds and links against the installed libraries"
	else
		bad "a $lang program builds and links against the installed libraries"
		continue
	fi
	LD_LIBRARY_PATH=$P/lib "$T/embed-$lang" "$P/share/hotswap/examples/default.json" \
		"$P/share/hotswap/catalog.json" >"$T/out" 2>&1
	if grep -q "^chassis lab: $want functions, [0-9]* with a driver\$" "$T/out"; then
		ok "the $lang program brings the core up on the simulator ($want functions, as hotswap-lspci)"
	else
		bad "the $lang program brings the core up on the simulator ($want functions, as hotswap-lspci)"
	fi
done

echo "1..$N"
[ "$FAILS" = 0 ]
