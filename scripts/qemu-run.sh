#!/bin/sh
# qemu-run.sh IMAGE [QMP-SOCKET] [x86|aarch64] - boot a bare-metal hotswap image on the
# chassis tests/qemu uses (q35, or virt for aarch64), with its serial console on this terminal and
# QMP on a UNIX socket (default ./hotswap-qmp.sock) for device_add /
# device_del from another terminal.  Type `help` at the console; `quit`
# (or Ctrl-A X) leaves.  docs/qemu.md describes the line protocol.
set -eu
img=${1:?usage: qemu-run.sh IMAGE [QMP-SOCKET] [x86|aarch64]}
qmp=${2:-./hotswap-qmp.sock}
arch=${3:-x86}
[ -f "$img" ] || { echo "qemu-run.sh: no image at $img (make qemu builds it)" >&2; exit 2; }
case $arch in
x86) qemu=qemu-system-x86_64
	machine="-M q35 -device isa-debug-exit,iobase=0xf4,iosize=4 -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off" ;;
aarch64) qemu=qemu-system-aarch64
	machine="-M virt,gic-version=3,its=on -cpu cortex-a57 -global edu.dma_mask=0xffffffffff" ;;
*) echo "qemu-run.sh: architecture is x86 or aarch64, not $arch" >&2; exit 2 ;;
esac
command -v $qemu >/dev/null ||
	{ echo "qemu-run.sh: $qemu missing (scripts/bootstrap.sh installs it)" >&2; exit 2; }
echo "QMP: $qmp   e.g.  echo '{\"execute\":\"qmp_capabilities\"} {\"execute\":\"device_add\",\"arguments\":{\"driver\":\"edu\",\"id\":\"e1\",\"bus\":\"rp1\"}}' | socat - UNIX-CONNECT:$qmp" >&2
rc=0
# shellcheck disable=SC2086 # $machine is a list of options
$qemu $machine -accel tcg -m 128M -nodefaults -display none \
	-chardev stdio,id=con,mux=on,signal=off -serial chardev:con -mon chardev=con,mode=readline \
	-kernel "$img" \
	-qmp "unix:$qmp,server=on,wait=off" \
	-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=11,addr=2.0 \
	-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=12,addr=3.0,pref64-reserve=1G \
	-device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=13,addr=4.0,power_controller_present=off \
	-device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=14,addr=5.0 \
	-device x3130-upstream,id=up1,bus=rp4 \
	-device xio3130-downstream,id=dp1,bus=up1,chassis=5,slot=15,addr=0.0 \
	-device xio3130-downstream,id=dp2,bus=up1,chassis=6,slot=16,addr=1.0 \
	-device pcie-root-port,id=rp5,bus=pcie.0,chassis=7,slot=17,addr=6.0 \
	-device pcie-root-port,id=rp6,bus=pcie.0,chassis=8,slot=18,addr=7.0 \
	-device pcie-pci-bridge,id=ppb,bus=rp6 \
	-device edu,id=e0,bus=rp1 || rc=$?
# isa-debug-exit: `quit CODE` makes QEMU exit with CODE*2+1.
if [ $((rc % 2)) -eq 1 ]; then
	exit $(((rc - 1) / 2))
fi
exit "$rc"
