"""hsqemu - drive the bare-metal hotswap image under QEMU from the host.

Owns: starting QEMU (TCG) with a machine description: qemu-system-x86_64
(q35 or pc, arch "x86") or qemu-system-aarch64 (virt with a GICv3 and
its ITS, arch "aarch64"),
the QMP client (device_add, device_del, query-pci, events), and the
reader of the image's serial line protocol (docs/qemu.md).  Python's
standard library only.

A Machine is used as a context manager:

    with Machine(image, devices=[...]) as m:
        m.wait_line(r"^ready$")
        m.qmp("device_add", driver="edu", id="e1", bus="rp1")
        m.wait_line(r"^bind bdf=\\S+ driver=edu slot=1")
"""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time


class Failure(Exception):
    """A check failed: the message says what was expected and what came."""


class Line:
    """One protocol line: t (seconds of the image's clock), kind, rest,
    fields (key=value, quoted values unquoted), host (host monotonic time
    when it was read)."""

    FIELD = re.compile(r'(\w+)=("([^"]*)"|\S*)')

    def __init__(self, raw, host):
        self.raw = raw
        self.host = host
        parts = raw.split(" ", 1)
        try:
            self.t = float(parts[0])
            rest = parts[1] if len(parts) > 1 else ""
        except ValueError:
            self.t = None
            rest = raw
        self.text = rest
        self.kind = rest.split(" ", 1)[0]
        self.fields = {}
        for m in self.FIELD.finditer(rest):
            self.fields[m.group(1)] = (m.group(3) if m.group(3) is not None
                                       else m.group(2))

    def __getitem__(self, k):
        return self.fields[k]

    def get(self, k, d=None):
        return self.fields.get(k, d)

    def __repr__(self):
        return self.raw


# Per architecture: QEMU binary, default machine, its options.
ARCHES = {
    "x86": ("qemu-system-x86_64", "q35", []),
    # A GICv3 with its ITS for MSIs (platforms/aarch64-virt/gic.c, its.c);
    # a Cortex-A57 is what the image is built for.
    "aarch64": ("qemu-system-aarch64", "virt", ["-cpu", "cortex-a57"]),
}


class Machine:
    def __init__(self, image, devices=(), machine=None, memory="128M",
                 extra=(), qemu=None, log=None, arch="x86"):
        if arch not in ARCHES:
            raise Failure("no architecture %r (%s)" %
                          (arch, ", ".join(sorted(ARCHES))))
        self.arch = arch
        qemu = qemu or ARCHES[arch][0]
        machine = machine or ARCHES[arch][1]
        self.image = image
        self.devices = list(devices)
        self.machine = machine
        self.memory = memory
        self.extra = list(extra)
        self.qemu = qemu
        self.log = log            # file object: every line read and sent
        self.lines = []           # every protocol line so far
        self.pos = 0              # next line wait_line looks at
        self.events = []          # QMP events so far
        self.proc = None
        self.dir = None
        self.qmp_sock = None
        self._buf = b""
        self._qbuf = b""

    # ---- process ----------------------------------------------------------

    def command_line(self):
        if self.arch == "aarch64":
            cmd = [self.qemu, "-M", self.machine + ",gic-version=3,its=on",
                   "-accel", "tcg", "-m", self.memory, "-nodefaults",
                   "-display", "none", "-serial", "stdio",
                   "-kernel", self.image,
                   "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
            cmd += ARCHES["aarch64"][2]
            for d in self.devices:
                cmd += ["-device", d]
            return cmd + self.extra
        acpi = ("ICH9-LPC" if self.machine == "q35" else "PIIX4_PM")
        cmd = [self.qemu, "-M", self.machine, "-accel", "tcg",
               "-m", self.memory, "-nodefaults", "-display", "none",
               "-serial", "stdio", "-kernel", self.image,
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
               # Native hot-plug only: with ACPI hot-plug on, QEMU sends
               # slot events to ACPI instead of the controllers.
               "-global", acpi + ".acpi-pci-hotplug-with-bridge-support=off",
               "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        for d in self.devices:
            cmd += ["-device", d]
        return cmd + self.extra

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            self.close()         # no QEMU left behind
            raise

    def _start(self):
        self.dir = tempfile.mkdtemp(prefix="hsqemu-")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.proc = subprocess.Popen(
            self.command_line(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        # The socket file appears at bind(), a moment before listen():
        # a busy machine can refuse the first connection.
        while True:
            if self.proc.poll() is not None:
                raise Failure("QEMU exited at start: %s" %
                              self.proc.stderr.read().decode(errors="replace"))
            if time.monotonic() > deadline:
                raise Failure("QEMU did not open its QMP socket in 20 s")
            if os.path.exists(self.qmp_path):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(self.qmp_path)
                    self.qmp_sock = sock
                    break
                except (ConnectionRefusedError, FileNotFoundError):
                    sock.close()
            time.sleep(0.01)
        self._qmp_read()                     # greeting
        self.qmp("qmp_capabilities")
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.qmp("quit")
            except Exception:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.qmp_sock:
            self.qmp_sock.close()
            self.qmp_sock = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def stderr(self):
        if self.proc and self.proc.poll() is not None:
            return self.proc.stderr.read().decode(errors="replace")
        return ""

    # ---- QMP ------------------------------------------------------------

    def _qmp_read(self, timeout=30):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._qbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("QMP: no answer in %d s" % timeout)
            r, _, _ = select.select([self.qmp_sock], [], [], left)
            if r:
                chunk = self.qmp_sock.recv(65536)
                if not chunk:
                    raise Failure("QMP: QEMU closed the socket")
                self._qbuf += chunk
        line, self._qbuf = self._qbuf.split(b"\n", 1)
        return json.loads(line)

    def qmp_raw(self, cmd, **args):
        """Run a QMP command; return (result, error) with error the
        message QEMU gave (or None).  Events that arrive meanwhile are
        kept with their host time."""
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        if self.log and cmd != "query-pci":
            self.log.write(">>> QMP %s\n" % json.dumps(msg))
        self.qmp_sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._qmp_read()
            if "event" in r:
                self._event(r)
                continue
            if "error" in r:
                err = r["error"].get("desc", str(r["error"]))
                if self.log:
                    self.log.write("<<< QMP error: %s\n" % err)
                return None, err
            return r.get("return"), None

    def _event(self, ev):
        ev["host"] = time.monotonic()
        self.events.append(ev)
        if self.log:
            self.log.write("<<< QMP event %s %s\n" % (
                ev["event"], json.dumps(ev.get("data", {}))))

    def qmp(self, cmd, **args):
        res, err = self.qmp_raw(cmd, **args)
        if err is not None:
            raise Failure("QMP %s %s: %s" % (cmd, args, err))
        return res

    def poll_events(self):
        while True:
            r, _, _ = select.select([self.qmp_sock], [], [], 0)
            if not r and b"\n" not in self._qbuf:
                return
            ev = self._qmp_read()
            if "event" in ev:
                self._event(ev)

    def wait_event(self, name, timeout=15, since=0, **data):
        """The first QMP event `name` (index >= since) whose data has
        the given values."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events[since:]:
                if ev["event"] == name and all(
                        ev.get("data", {}).get(k) == v
                        for k, v in data.items()):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no QMP event %s %s in %d s" %
                              (name, data, timeout))
            r, _, _ = select.select([self.qmp_sock, self.proc.stdout], [],
                                    [], min(left, 0.05))
            if self.qmp_sock in r:
                self.poll_events()
            if self.proc.stdout in r:
                self._read_serial(0)

    def pci_devices(self):
        """query-pci flattened: {(bus, slot, function): device dict}."""
        out = {}

        def walk(devs):
            for d in devs:
                out[(d["bus"], d["slot"], d["function"])] = d
                br = d.get("pci_bridge")
                if br and br.get("devices"):
                    walk(br["devices"])
        for bus in self.qmp("query-pci"):
            walk(bus["devices"])
        return out

    # ---- serial -----------------------------------------------------------

    def send(self, line):
        if self.log:
            self.log.write(">>> %s\n" % line)
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def _read_serial(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            raise Failure("the image's console closed (QEMU exited): %s" %
                          self.stderr())
        now = time.monotonic()
        self._buf += chunk
        while b"\n" in self._buf:
            raw, self._buf = self._buf.split(b"\n", 1)
            text = raw.decode(errors="replace").rstrip("\r")
            if self.log:
                self.log.write(text + "\n")
            self.lines.append(Line(text, now))
        return True

    def wait_line(self, pattern, timeout=15, since=None):
        """The next line whose text after the timestamp matches the
        regex: from the current position (which then moves past it), or
        from the mark `since` (position left alone).  Raises Failure
        naming what it waited for and the last lines seen."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        consume = since is None
        while True:
            for i in range(self.pos if consume else since, len(self.lines)):
                ln = self.lines[i]
                if ln.kind == "fatal":
                    raise Failure("the image stopped: %s" % ln.raw)
                if rx.search(ln.text):
                    if consume:
                        self.pos = i + 1
                    return ln
            left = deadline - time.monotonic()
            if left <= 0:
                tail = "\n    ".join(l.raw for l in self.lines[-8:])
                raise Failure("no line matching /%s/ in %d s; last lines:\n"
                              "    %s" % (pattern, timeout, tail))
            r, _, _ = select.select([self.proc.stdout, self.qmp_sock], [],
                                    [], min(left, 0.05))
            if self.qmp_sock in r:
                self.poll_events()
            if self.proc.stdout in r:
                self._read_serial(0)

    def request(self, line, timeout=15):
        """Send a command; return its ok line or raise with its error.
        The position is left where it was: lines the command caused may
        come before its answer."""
        # The answer comes after the command: look from here, so that a
        # second command with the same verb gets its own answer.
        mark = len(self.lines)
        self.send(line)
        verb = line.split()[0]
        ln = self.wait_line(r"^(ok|err) %s\b" % re.escape(verb), timeout,
                            since=mark)
        if ln.kind == "err":
            raise Failure("%s refused: %s" % (line, ln.raw))
        return ln

    def pump(self, seconds):
        """Let `seconds` of host time pass while reading the console and
        QMP as they speak (so their host times stay exact)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.proc.stdout, self.qmp_sock], [],
                                    [], min(left, 0.05))
            if self.qmp_sock in r:
                self.poll_events()
            if self.proc.stdout in r:
                self._read_serial(0)

    def command(self, line, timeout=15):
        """Send a command and return (answer, lines it printed before the
        answer): for commands that print a listing (status, devices)."""
        mark = len(self.lines)
        self.send(line)
        verb = line.split()[0]
        ans = self.wait_line(r"^(ok|err) %s\b" % re.escape(verb), timeout,
                             since=mark)
        end = self.lines.index(ans, mark)
        return ans, self.lines[mark:end]

    def sync(self):
        """Let everything the image printed so far be read."""
        tag = "s%d" % len(self.lines)
        self.send("echo " + tag)
        self.wait_line(r"^ok echo %s$" % tag)

    def mark(self):
        """Position for later searches (lines from here on)."""
        return len(self.lines)

    def find(self, pattern, since=0):
        rx = re.compile(pattern)
        return [l for l in self.lines[since:] if rx.search(l.text)]
