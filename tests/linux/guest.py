"""guest - boot the Linux test guest under QEMU and run commands in it.

Owns: the guest's QEMU machine (q35, TCG, native hot-plug: root ports,
one with pref64-reserve, an x3130 switch, a pcie-pci-bridge with its
SHPC), building its kernel and initramfs through scripts/linux-guest.sh,
and the command channel on the guest's second serial port (tests/linux/
init: "ID BASE64" in, output and "@@end ID RC" out).  QMP and the
console come from tests/qemu/hsqemu.py's Machine; the console (ttyS0)
carries only kernel messages.

    with Guest(build_dir, programs=[...]) as g:
        rc, out = g.sh("ls /sys/bus/pci/slots")
        g.qmp("device_add", driver="e1000e", id="n1", bus="rp1")
"""

import base64
import os
import re
import select
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "qemu"))

from hsqemu import Failure, Machine  # noqa: E402

# The chassis: the same shapes as tests/qemu's q35 machine.  Slot numbers
# repeat on purpose across controllers (the kernel then names slots 1,
# 1-1, 1-2 ...): hotswap's identity is the port's path, not the name.
TOPOLOGY = [
    "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=2.0",
    "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2,addr=3.0,"
    "pref64-reserve=256M",
    "pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=3,addr=4.0",
    "x3130-upstream,id=up1,bus=rp3",
    "xio3130-downstream,id=dp1,bus=up1,chassis=4,slot=1,addr=0.0",
    "xio3130-downstream,id=dp2,bus=up1,chassis=5,slot=2,addr=1.0",
    "pcie-root-port,id=rp4,bus=pcie.0,chassis=6,slot=4,addr=5.0",
    "pcie-pci-bridge,id=ppb,bus=rp4",
]

# QEMU bus id -> what the test calls that slot.
SLOTS = {"rp1": "root port", "rp2": "root port (pref64-reserve)",
         "dp1": "x3130 downstream port", "dp2": "x3130 downstream port",
         "ppb": "SHPC slot (pcie-pci-bridge)"}


def build_image(build, programs, out=None):
    """Kernel (fetched and cached under BUILD/linux-guest) and an
    initramfs holding `programs`; returns (vmlinuz, initramfs, version)."""
    cache = os.path.join(build, "linux-guest")
    script = os.path.join(SRC, "scripts", "linux-guest.sh")
    out = out or os.path.join(cache, "initramfs.cpio.gz")
    vmlinuz = subprocess.run([script, "kernel", cache], check=True,
                             capture_output=True, text=True).stdout.strip()
    subprocess.run([script, "initramfs", cache, out] + list(programs),
                   check=True)
    with open(os.path.join(cache, "kernel", "version")) as f:
        version = f.read().strip()
    return vmlinuz, out, version


class Guest(Machine):
    def __init__(self, vmlinuz, initramfs, topology=TOPOLOGY, memory="768M",
                 log=None, append=""):
        super().__init__(vmlinuz, devices=topology, machine="q35",
                         memory=memory, log=log)
        self.initramfs = initramfs
        self.append = append
        self.cmd_sock = None
        self.ev_sock = None
        self.ev_lines = []        # (host time, text) from ttyS2
        self._ebuf = b""
        self._cbuf = b""
        self._seq = 0
        self.kernel = None

    def command_line(self):
        self.cmd_path = os.path.join(self.dir, "cmd.sock")
        self.ev_path = os.path.join(self.dir, "ev.sock")
        cmd = ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg",
               "-cpu", "max", "-m", self.memory, "-nodefaults",
               "-display", "none", "-no-reboot",
               "-kernel", self.image, "-initrd", self.initramfs,
               # no_timer_check: on a loaded host TCG is slow enough for
               # the kernel's IO-APIC timer check to fail and panic.
               "-append", "console=ttyS0 panic=-1 loglevel=6 "
               "no_timer_check " + self.append,
               # ttyS0: the console (kernel messages); ttyS1: commands.
               "-serial", "stdio",
               "-chardev", "socket,id=cmd,path=%s,server=on,wait=off" %
               self.cmd_path,
               "-serial", "chardev:cmd",
               # ttyS2: a stream the guest's programs write events to;
               # the host stamps each line as it arrives (benchmark).
               "-chardev", "socket,id=ev,path=%s,server=on,wait=off" %
               self.ev_path,
               "-serial", "chardev:ev",
               # Native hot-plug only: the controllers, not ACPI, get the
               # slot events (hotplug-facts.md).
               "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        for d in self.devices:
            cmd += ["-device", d]
        return cmd

    def _start(self):
        super()._start()
        self.cmd_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.cmd_sock.connect(self.cmd_path)
        self.ev_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ev_sock.connect(self.ev_path)
        line = self._cmd_line(90)
        if not line.startswith("@@ready"):
            raise Failure("guest said %r before ready" % line)
        self.kernel = line.split()[1]
        return self

    def close(self):
        if self.ev_sock:
            self.ev_sock.close()
            self.ev_sock = None
        if self.cmd_sock:
            self.cmd_sock.close()
            self.cmd_sock = None
        super().close()

    # ---- command channel ----------------------------------------------

    def _pump_once(self, left):
        """Wait up to `left` s for the channel, draining the console and
        QMP meanwhile (a full console pipe would stall the guest)."""
        r, _, _ = select.select([self.cmd_sock, self.ev_sock,
                                 self.proc.stdout, self.qmp_sock], [], [],
                                max(0, left))
        if self.ev_sock in r:
            self._read_ev()
        if self.qmp_sock in r:
            self.poll_events()
        if self.proc.stdout in r:
            self._read_serial(0)
        if self.cmd_sock in r:
            chunk = self.cmd_sock.recv(65536)
            if not chunk:
                raise Failure("the guest's command channel closed: %s" %
                              self.stderr())
            self._cbuf += chunk

    def _read_ev(self):
        chunk = self.ev_sock.recv(65536)
        now = time.monotonic()
        if not chunk:
            raise Failure("the guest's event channel closed")
        self._ebuf += chunk
        while b"\n" in self._ebuf:
            raw, self._ebuf = self._ebuf.split(b"\n", 1)
            text = raw.decode(errors="replace").rstrip("\r")
            if self.log:
                self.log.write("<<< ev %.6f %s\n" % (now, text))
            self.ev_lines.append((now, text))

    def pump(self, seconds):
        """Let time pass while reading every channel."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._pump_once(min(left, 0.05))

    def wait_ev(self, pattern, timeout=20, since=0):
        """The first event-channel line (index >= since) matching the
        regex: (index, host time, text)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for i in range(since, len(self.ev_lines)):
                t, text = self.ev_lines[i]
                if rx.search(text):
                    return i, t, text
            left = deadline - time.monotonic()
            if left <= 0:
                tail = "\n    ".join(x[1] for x in self.ev_lines[-8:])
                raise Failure("no event line /%s/ in %d s; last:\n    %s"
                              % (pattern, timeout, tail))
            self._pump_once(min(left, 0.05))

    def _cmd_line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._cbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                tail = "\n    ".join(l.raw for l in self.lines[-10:])
                raise Failure("guest silent for %d s; console:\n    %s" %
                              (timeout, tail))
            self._pump_once(min(left, 0.05))
        line, self._cbuf = self._cbuf.split(b"\n", 1)
        return line.decode(errors="replace").rstrip("\r")

    def sh(self, script, timeout=60, check=False):
        """Run a shell script in the guest; (exit status, output)."""
        self._seq += 1
        tag = "c%d" % self._seq
        if self.log:
            self.log.write(">>> guest[%s]: %s\n" % (tag, script))
        data = base64.b64encode(script.encode()).decode()
        self.cmd_sock.sendall(("%s %s\n" % (tag, data)).encode())
        out = []
        while True:
            line = self._cmd_line(timeout)
            if line.startswith("@@end %s " % tag):
                rc = int(line.split()[2])
                break
            out.append(line)
        text = "\n".join(out)
        if self.log:
            self.log.write("<<< guest[%s] rc=%d\n%s\n" % (tag, rc, text))
        if check and rc != 0:
            raise Failure("guest command failed (%d): %s\n%s" %
                          (rc, script, text))
        return rc, text

    def ok(self, script, timeout=60):
        return self.sh(script, timeout, check=True)[1]

    def wait_guest(self, script, timeout=20, what=None, interval=0.1):
        """Run `script` until it exits 0; its output."""
        deadline = time.monotonic() + timeout
        while True:
            rc, out = self.sh(script)
            if rc == 0:
                return out
            if time.monotonic() > deadline:
                raise Failure("%s: not so after %d s (last: %s)" %
                              (what or script, timeout, out))
            self.pump(interval)
