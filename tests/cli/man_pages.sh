#!/bin/sh
# man_pages.sh - the man pages are complete and well formed (issue #19).
#
# usage: man_pages.sh BUILD_DIR SOURCE_DIR
#
# Every program has a page, every page formats without a groff warning
# and carries the project version, every configuration key hotswapd
# knows (service/config.c) is described in hotswapd.conf(5) and listed
# in hotswapd(8), and every long option a program's --help shows is in
# its page.
set -u
B=$1
S=$2
FAILS=0
N=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
bad() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; }
v=$(sed -n 's/^project(hotswap VERSION \([0-9.]*\).*/\1/p' "$S/CMakeLists.txt")

for m in hotswapd.8 hotswapctl.8 hotswap-lspci.1 hotswap-demo.1 hotswapd.conf.5; do
	f=$B/man/$m
	if [ ! -f "$f" ]; then bad "$m exists"; continue; fi
	w=$(groff -man -ww -z "$f" 2>&1)
	[ -z "$w" ] && ok "$m formats without warnings" || { bad "$m formats without warnings"; echo "$w" | sed 's/^/#   /'; }
	grep -q "^\.TH .* \"hotswap $v\"" "$f" && ok "$m says hotswap $v" || bad "$m says hotswap $v"
done

keys=$(sed -n 's/^	{ "\([a-z_]*\)", K_[A-Z]*,.*/\1/p' "$S/service/config.c" | grep -v '^platform$')
[ -n "$keys" ] && ok "config.c's keys found" || bad "config.c's keys found"
for k in $keys; do
	grep -q "^\.BR $k \"" "$B/man/hotswapd.conf.5" || { bad "hotswapd.conf(5) describes $k"; continue; }
	grep -q "\b$k\b" "$B/man/hotswapd.8" || { bad "hotswapd(8) lists $k"; continue; }
	ok "key $k in hotswapd.conf(5) and hotswapd(8)"
done

# Long options in --help, as they appear in a page: \-\-name.
for p in hotswapd:8 hotswapctl:8 hotswap-lspci:1 hotswap-demo:1; do
	prog=${p%:*}
	page=$B/man/$prog.${p#*:}
	missing=
	for o in $("$B/$prog" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		e=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -q -- "$e" "$page" || missing="$missing $o"
	done
	[ -z "$missing" ] && ok "$prog's long options are in its page" ||
		bad "$prog's long options are in its page (missing:$missing)"
done
echo "1..$N"
[ "$FAILS" = 0 ]
