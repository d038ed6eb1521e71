#!/usr/bin/env python3
"""systemd.py - the installed hotswapd under a real systemd (issue #19,
item 13): `cmake --install` of the build into a staging directory, booted
in a Linux guest under QEMU with systemd as PID 1, hotswapd.service
enabled as `systemctl enable` leaves it.

Checks what an operator installing the package would see: the unit
starts (Type=notify: active only once hotswapd said READY) and picks the
linux back-end from the installed hotswapd.conf; its state lands in
/var/lib/hotswap (ProtectSystem=strict allows that and nothing else);
hotswapctl reaches it through /run/hotswap; a card hot-added through
QEMU shows up and its events reach the journal with their HOTSWAP_*
fields; `systemd-analyze security` on the running unit rates 4.0 or
better; reload keeps the process, stop takes under 2 s, and history
survives a restart.

    systemd.py --build BUILD [--log DIR]
"""

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from guest import Guest, Failure  # noqa: E402

# run.py's Run (ok / check) by path: guest.py puts tests/qemu, which has
# its own run.py, first on sys.path.
_spec = importlib.util.spec_from_file_location(
    "linux_run", os.path.join(HERE, "run.py"))
_linux_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_linux_run)
Run = _linux_run.Run

# The sanitized test build's LeakSanitizer stops the world with ptrace at
# exit, which the unit's SystemCallFilter= forbids (@debug); this drop-in
# is the only change to the installed unit and only for such builds.
ASAN_DROPIN = """[Service]
Environment=ASAN_OPTIONS=detect_leaks=0
"""
CTL = "hotswapctl "


def stage_install(build, stage):
    env = dict(os.environ, DESTDIR=stage)
    p = subprocess.run(["cmake", "--install", build, "--prefix",
                        "/usr/local"], env=env, capture_output=True,
                       text=True)
    if p.returncode:
        raise Failure("cmake --install: %s" % (p.stdout + p.stderr))
    if "asan" in open(os.path.join(build, "CMakeCache.txt")).read().lower():
        d = os.path.join(stage, "etc/systemd/system/hotswapd.service.d")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "asan.conf"), "w") as f:
            f.write(ASAN_DROPIN)


def checks(r):
    g = r.g
    out = g.wait_guest("systemctl is-active hotswapd", timeout=120,
                       what="hotswapd.service active", interval=1)
    show = g.ok("systemctl show -p Type -p ActiveState -p SubState "
                "-p MainPID -p FragmentPath -p UnitFileState hotswapd")
    props = dict(l.split("=", 1) for l in show.splitlines() if "=" in l)
    r.check(props.get("FragmentPath") ==
            "/usr/local/lib/systemd/system/hotswapd.service",
            "the unit systemd loaded: %s" % show)
    r.check(props.get("UnitFileState") == "enabled", "enabled: %s" % show)
    r.check(props.get("Type") == "notify" and
            props.get("SubState") == "running", "running: %s" % show)
    pid = props.get("MainPID")
    comm = g.ok("cat /proc/%s/comm" % pid)
    r.check(comm == "hotswapd", "MainPID %s is %r" % (pid, comm))
    r.ok("systemd started the installed, enabled hotswapd.service "
         "(Type=notify, %s, MainPID %s)" % (out.strip(), pid))

    log = g.ok("journalctl -b -u hotswapd --no-pager -o cat")
    r.check("back-end linux" in log, "the back-end named: %s" % log)
    st = g.ok(CTL + "status")
    r.check("chassis linux " in st, "hotswapctl status: %s" % st)
    r.ok("the installed hotswapd.conf chose the linux back-end and "
         "hotswapctl reaches the daemon through /run/hotswap")

    ls = g.ok("stat -c '%a %U %n' /var/lib/hotswap; "
              "find /var/lib/hotswap -type f -size +0 | sort")
    r.check(ls.startswith("750 root /var/lib/hotswap"),
            "StateDirectory mode: %s" % ls)
    files = ls.splitlines()[1:]
    r.check(any(f.endswith(".db") for f in files),
            "a database in /var/lib/hotswap: %s" % ls)
    r.ok("its state is written to /var/lib/hotswap (%s)" %
         ", ".join(os.path.basename(f) for f in files))

    sec = g.ok("systemd-analyze security --no-pager hotswapd.service",
               timeout=120)
    m = re.search(r"Overall exposure level for hotswapd\.service: "
                  r"([0-9.]+)", sec)
    r.check(m and float(m.group(1)) <= 4.0,
            "systemd-analyze security on the running unit: %s" %
            sec[-400:])
    r.ok("systemd-analyze security rates the running unit %s (4.0 or "
         "better)" % m.group(1))

    # A card arrives: the kernel's pciehp brings it up, hotswapd sees it
    # and its event reaches the journal with the structured fields.
    g.qmp("device_add", driver="e1000e", id="h1", bus="rp2")
    # No udev here loads e1000e: the function is configured, unbound.
    g.wait_guest(CTL + "list | grep '^2 .* configured .* network .* on '",
                 timeout=60, what="slot 2 shows the network card on")
    ev = g.wait_guest("journalctl -b -u hotswapd --no-pager -o verbose "
                      "HOTSWAP_SLOT=2 | grep -q HOTSWAP_EVENT= && "
                      "journalctl -b -u hotswapd --no-pager -o verbose "
                      "HOTSWAP_SLOT=2", timeout=30,
                      what="a journal entry with HOTSWAP_SLOT=2")
    events = sorted(set(re.findall(r"HOTSWAP_EVENT=(\S+)", ev)))
    r.check("HOTSWAP_BDF=0000:02:00.0" in ev, "BDF field: %s" % ev[-600:])
    r.ok("a hot-added e1000e in slot 2 is listed and journalled with "
         "HOTSWAP_SLOT=2, HOTSWAP_BDF (events: %s)" % ", ".join(events))

    g.ok("systemctl reload hotswapd")
    pid2 = g.wait_guest("systemctl is-active -q hotswapd && "
                        "systemctl show -p MainPID --value hotswapd",
                        timeout=30, what="active after reload").strip()
    r.check(pid2 == pid, "reload kept MainPID %s (now %s)" % (pid, pid2))
    r.ok("systemctl reload: SIGHUP, same process")

    t = g.ok("a=$(cut -d' ' -f1 /proc/uptime); systemctl stop hotswapd; "
             "b=$(cut -d' ' -f1 /proc/uptime); "
             "echo \"$a $b $(systemctl show -p Result --value hotswapd)\"")
    a, b, result = t.split()
    r.check(float(b) - float(a) < 2.0 and result == "success",
            "stop took %.2f s, result %s" % (float(b) - float(a), result))
    r.ok("systemctl stop: done in %.2f s, result %s" %
         (float(b) - float(a), result))

    g.ok("systemctl start hotswapd")
    hist = g.wait_guest(CTL + "history --slot 2 | grep 0000:02:00.0",
                        timeout=60, what="history after restart")
    r.ok("after a restart the history kept slot 2's events (%d lines)" %
         len(hist.splitlines()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="a configured, built "
                    "build tree (its install rules are used)")
    ap.add_argument("--log", help="directory for the guest's log")
    a = ap.parse_args()
    log = None
    if a.log:
        os.makedirs(a.log, exist_ok=True)
        log = open(os.path.join(a.log, "systemd-guest.log"), "w")
    cache = os.path.join(a.build, "linux-guest")
    script = os.path.join(SRC, "scripts", "linux-guest.sh")
    tmp = tempfile.mkdtemp(prefix="hotswap-systemd.")
    t0 = time.monotonic()
    try:
        stage = os.path.join(tmp, "stage")
        stage_install(a.build, stage)
        vmlinuz = subprocess.run([script, "kernel", cache], check=True,
                                 capture_output=True,
                                 text=True).stdout.strip()
        initramfs = os.path.join(cache, "systemd.cpio.gz")
        subprocess.run([script, "systemd-initramfs", cache, initramfs,
                        stage], check=True)
        print("# image built in %.1f s" % (time.monotonic() - t0),
              flush=True)
        t0 = time.monotonic()
        with Guest(vmlinuz, initramfs, log=log,
                   append="systemd.show_status=0") as g:
            print("# systemd booted to the command channel in %.1f s" %
                  (time.monotonic() - t0), flush=True)
            checks(Run(g))
    except (Failure, subprocess.CalledProcessError) as e:
        print("not ok - %s" % e)
        return 1
    finally:
        if log:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# all passed in %.1f s" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
