#!/usr/bin/env python3
"""run - hotswap's Linux layer on a real kernel: Debian 12's, in a QEMU
guest (tests/linux/guest.py), with QEMU's own hot-plug controllers under
the kernel's pciehp and shpchp.

Owns: the checks of platforms/linux on that guest (`--bench`: the
benchmark of docs/linux.md instead).  QMP device_add / device_del play
the operator at the chassis; hotswap-linux runs in the guest over the
command channel, its guard's lines stream back over the event channel.

    python3 tests/linux/run.py --build build/asan [--log DIR]
    python3 tests/linux/run.py --build build/release --bench 5

Exit status: 0 every check passed, 1 a check failed, 2 bad usage.
"""

import argparse
import base64
import io
import json
import os
import re
import statistics
import sys
import tarfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest import Failure, Guest, build_image  # noqa: E402

E1000E = "8086:10d3"    # QEMU's e1000e: 82574L, driver e1000e (loaded)
E1000 = "8086:100e"     # QEMU's e1000: 82540EM, driver e1000 (not loaded)
CMD_MASK = 0x7          # I/O, memory, bus master (PCI 3.0 6.2.2)

RULES = """# tests/linux: the x3130 switch's first port takes no cards,
# and no 82540EM anywhere.
block slot 1-1
block id %s
""" % E1000

ENV = "ASAN_OPTIONS=detect_leaks=0 "


def fields(text):
    return {m.group(1): (m.group(3) if m.group(3) is not None
                         else m.group(2))
            for m in re.finditer(r'(\w+)=("([^"]*)"|\S*)', text)}


class Run:
    def __init__(self, g):
        self.g = g
        self.passed = 0

    def ok(self, name):
        self.passed += 1
        print("ok %d - %s" % (self.passed, name), flush=True)

    def check(self, cond, what):
        if not cond:
            raise Failure(what)

    def slots(self):
        """`hotswap-linux slots` parsed: ({name: fields}, {bdf: fields})."""
        out = self.g.ok(ENV + "hotswap-linux slots")
        slots, funcs = {}, {}
        for line in out.splitlines():
            w = line.split()
            if w and w[0] == "slot":
                slots[w[1]] = fields(line)
            elif w and w[0] == "func":
                funcs[w[1]] = fields(line)
        return slots, funcs

    def func(self, bdf):
        return self.slots()[1].get(bdf)

    def expect_fail(self, cmd, rc, words):
        got, out = self.g.sh(ENV + cmd)
        self.check(got == rc, "%s: exit %d, expected %d: %s" %
                   (cmd, got, rc, out))
        for w in words:
            self.check(w in out, "%s: message lacks %r: %s" % (cmd, w, out))
        return out


def guard_start(r, args):
    since = len(r.g.ev_lines)
    r.g.ok("(%shotswap-linux %s >/dev/ttyS2 2>&1 & echo $! >/tmp/guard.pid)"
           % (ENV, args))
    r.g.wait_ev(r"^ready ", since=since)


def guard_stop(r):
    since = len(r.g.ev_lines)
    r.g.ok("kill -TERM $(cat /tmp/guard.pid)")
    return r.g.wait_ev(r"^stopped", since=since)[2]


def checks(r, version):
    g = r.g
    # ---- the kernel's slots, named by the port's path -------------------
    slots, _ = r.slots()
    by_mod = {}
    for name, f in slots.items():
        by_mod.setdefault(f["module"], []).append(name)
    r.check({"1", "2", "3", "4", "1-1", "2-1"} <= set(by_mod.get("pciehp", [])),
            "pciehp slots: %s" % by_mod.get("pciehp"))
    r.check(len(by_mod.get("shpchp", [])) == 31 and "1-2" in by_mod["shpchp"],
            "shpchp registers the pcie-pci-bridge's 31 slots: %s" %
            by_mod.get("shpchp"))
    ids = [f["id"] for f in slots.values()]
    r.check(len(set(ids)) == len(ids), "slot ids repeat: %s" % ids)
    r.check(slots["1-1"]["port"] == "0000:04:00.0" and
            slots["1-1"]["id"].endswith("0000:03:00.0/0000:04:00.0/00"),
            "switch slot 1-1 is the first xio3130 port: %s" % slots["1-1"])
    r.check(slots["1-2"]["latch"] == "1" and
            slots["1-2"]["id"].endswith("/01"),
            "SHPC slot 1-2: latch closed, device 1: %s" % slots["1-2"])
    r.ok("kernel %s: %d pciehp and %d shpchp slots, ids from port paths"
         % (version, len(by_mod["pciehp"]), len(by_mod["shpchp"])))

    # ---- what is missing is named ------------------------------------------
    r.expect_fail("hotswap-linux --sysfs /tmp/none slots", 3,
                  ["no /tmp/none/sys/bus/pci"])
    g.ok("mkdir -p /tmp/a/sys/bus/pci /tmp/a/sys/devices "
         "/tmp/b/sys/bus/pci/slots /tmp/b/sys/devices /tmp/b/sys/module")
    r.expect_fail("hotswap-linux --sysfs /tmp/a slots", 3,
                  ["no /tmp/a/sys/bus/pci/slots", "CONFIG_HOTPLUG_PCI"])
    r.expect_fail("hotswap-linux --sysfs /tmp/b slots", 3,
                  ["no hot-plug driver loaded", "pciehp"])
    out = g.ok("su -s /bin/sh -c '%shotswap-linux slots' nobody | head -1"
               % ENV)
    r.check("not root: read-only view" in out, "nobody's view: %s" % out)
    r.expect_fail("su -s /bin/sh -c 'hotswap-linux power 1 on' nobody", 1,
                  ["power slot 1 on", "not root"])
    r.expect_fail("hotswap-linux power 9-9 on", 1, ["no slot '9-9'"])
    r.expect_fail("hotswap-linux attention 1 purple", 2, ["off, on or blink"])
    r.expect_fail("hotswap-linux block 0000:01:00", 1,
                  ["not a function address"])
    r.ok("errors name what is missing: no PCI, no hot-plug support, no "
         "driver, not root, no such slot")

    # ---- the guard: policy on every new function ---------------------------
    g.ok("cat >/tmp/rules <<'EOF'\n%sEOF" % RULES)
    guard_start(r, "guard --rules /tmp/rules --poll 200")
    r.check(g.ok("cat /sys/bus/pci/drivers_autoprobe") == "0",
            "drivers_autoprobe is 0 while the guard runs")

    # Allowed: a NIC in root port 1, its driver already loaded.
    mark = len(g.ev_lines)
    g.qmp("device_add", driver="e1000e", id="n1", bus="rp1")
    g.wait_ev(r"^allow 0000:01:00\.0 .*rule=\"default for inserted",
              since=mark)
    f = g.wait_guest(ENV + "hotswap-linux slots | grep '^func 0000:01:00.0 "
                     ".*driver=e1000e'", what="e1000e bound in slot 1")
    f = fields(f)
    r.check(int(f["command"], 16) & 0x6 == 0x6,
            "the allowed NIC decodes memory and masters: %s" % f)
    r.check(f["name"].startswith("Intel Corporation 82574L"),
            "name from pci.ids: %s" % f["name"])
    slot1_id = r.slots()[0]["1"]["id"]
    r.ok("allowed card in a root port: e1000e bound, bus master on, "
         "named %r" % f["name"])

    # Attention: blink, read back, off; the guard's poll sees it.
    mark = len(g.ev_lines)
    g.ok("hotswap-linux attention 1 blink")
    r.check(r.slots()[0]["1"]["attention"] == "2", "attention reads 2")
    g.wait_ev(r"^slot-change 1 attention=0->2", since=mark, timeout=5)
    g.ok("hotswap-linux attention 1 off")
    r.check(r.slots()[0]["1"]["attention"] == "0", "attention reads 0")
    r.ok("attention blink on slot 1, seen by the slot poll")

    # Removal through the slot: the kernel unbinds and powers off; QEMU
    # deletes the card.  Powering on an empty slot names the cause.
    nev = len(g.events)
    mark = len(g.ev_lines)
    g.ok("hotswap-linux power 1 off")
    g.wait_event("DEVICE_DELETED", since=nev, device="n1")
    g.wait_ev(r"^event remove 0000:01:00\.0", since=mark)
    r.check("0000:01:00.0" not in r.slots()[1], "the function is gone")
    r.expect_fail("hotswap-linux power 1 on", 1, ["power slot 1 on",
                                                  "the card is gone"])
    r.ok("power off removes the card (DEVICE_DELETED); power on an empty "
         "slot says the card is gone")

    # Re-insertion: the same slot identity.
    mark = len(g.ev_lines)
    g.qmp("device_add", driver="e1000e", id="n1b", bus="rp1")
    g.wait_ev(r"^allow 0000:01:00\.0", since=mark)
    f = fields(g.wait_guest(ENV + "hotswap-linux slots | grep "
                            "'^func 0000:01:00.0 .*driver=e1000e'"))
    r.check(r.slots()[0][f["slot"]]["id"] == slot1_id,
            "same slot id after re-insertion")
    r.ok("re-inserted card: same slot id %s" % slot1_id)

    # Blocked, driver already loaded: the kernel binds e1000e during its
    # own hot-add; the guard revokes it.
    mark = len(g.ev_lines)
    g.qmp("device_add", driver="e1000e", id="n3", bus="dp1")
    _, _, line = g.wait_ev(r"^block 0000:05:00\.0 ", since=mark)
    b = fields(line)
    r.check(b["rule"] == "block slot 1-1", "rule: %s" % line)
    g.pump(1.5)           # anything that would rebind has had its chance
    f = r.func("0000:05:00.0")
    r.check(f["driver"] == "-" and f["override"] == "hotswap-blocked" and
            int(f["command"], 16) & CMD_MASK == 0,
            "blocked function: no driver, no decode, no bus master: %s" % f)
    print("# blocked card, driver already loaded: had driver %s, command "
          "%s, window %.1f ms (add event -> decode and bus master off)" %
          (b["had_driver"], b["command_before"], int(b["window_us"]) / 1e3))
    r.ok("blocked card in switch slot 1-1 (e1000e already loaded): "
         "unbound, command 0x%04x" % int(f["command"], 16))

    # Blocked, driver not loaded: the SHPC slot (shpchp waits its 5 s
    # button window first), then the module is loaded.
    mark = len(g.ev_lines)
    g.qmp("device_add", driver="e1000", id="n4", bus="ppb", addr="1.0")
    _, _, line = g.wait_ev(r"^block 0000:08:01\.0 ", since=mark, timeout=30)
    b = fields(line)
    g.ok("insmod /lib/modules/e1000.ko")
    g.pump(1)
    f = r.func("0000:08:01.0")
    r.check(f["driver"] == "-" and int(f["command"], 16) & CMD_MASK == 0,
            "blocked function stays unbound after its driver loads: %s" % f)
    r.check(b["had_driver"] == "-" and b["window_us"] == "0",
            "no window when the driver was not loaded: %s" % line)
    print("# blocked card, driver not loaded: had driver %s, window %s us"
          % (b["had_driver"], b["window_us"]))
    r.ok("blocked card in SHPC slot 1-2 (e1000 loaded later): stays "
         "unbound")

    # Authorized later: bound at once.
    g.ok("hotswap-linux allow 0000:08:01.0")
    f = r.func("0000:08:01.0")
    r.check(f["driver"] == "e1000", "allowed later, e1000 binds: %s" % f)
    r.ok("allow binds the once-blocked card (driver_override + "
         "drivers_probe)")

    # The operator's attention button on the switch port: pciehp's 5 s,
    # then QEMU deletes the card.
    nev = len(g.events)
    mark = len(g.ev_lines)
    g.qmp("device_del", id="n3")
    g.wait_event("DEVICE_DELETED", since=nev, device="n3", timeout=20)
    g.wait_ev(r"^event remove 0000:05:00\.0", since=mark)
    r.ok("device_del on switch slot 1-1: removed (DEVICE_DELETED)")

    line = guard_stop(r)
    r.check(g.ok("cat /sys/bus/pci/drivers_autoprobe") == "1",
            "drivers_autoprobe restored: %s" % line)
    r.ok("guard stopped: drivers_autoprobe back to 1")
    out = g.ok(ENV + "hotswap-linux iommu")
    print("# " + out.replace("\n", "\n# "))


# ---- hotswapd on the linux back-end -------------------------------------

HSD_RULES = "block slot 2-1\n"
RUN = "/run/hotswap"


def hsd_start(r, extra="", rules=HSD_RULES):
    g = r.g
    g.ok("printf '%s' >/tmp/hsd.rules" % rules)
    g.ok("(%shotswapd --backend linux --state-dir /var/lib/hotswap "
         "--agents /agents --rules /tmp/hsd.rules --set poll_period=500ms "
         "%s >>/tmp/hsd.log 2>&1 & echo $! >/tmp/hsd.pid)" % (ENV, extra))
    g.wait_guest(ENV + "hotswapctl status", what="hotswapd answers")


def hsd_stop(r):
    r.g.ok("kill -TERM $(cat /tmp/hsd.pid)")
    r.g.wait_guest("! kill -0 $(cat /tmp/hsd.pid) 2>/dev/null",
                   what="hotswapd stopped")


def ctl(r, args, rc=0):
    got, out = r.g.sh(ENV + "hotswapctl " + args)
    r.check(got == rc, "hotswapctl %s: exit %d, expected %d: %s" %
            (args, got, rc, out))
    return out


def listing(r):
    """`hotswapctl --json list`: {slot: (state, "name(driver) ...")}."""
    out = {}
    for s in json.loads(ctl(r, "--json list")):
        devs = []
        for d in s.get("devices", []):
            n = d.get("name") or d.get("bdf", "?")
            devs.append("%s(%s)" % (n, d["driver"]) if d.get("driver") else n)
        out[s["slot"]] = (s["state"], " ".join(devs))
    return out


def agent_env(r, action, bdf):
    """The environment the agent recorded for the last such event."""
    out = r.g.ok("ls %s/events | grep -- '-%s-%s$' | sort -n | tail -1" %
                 (RUN, action, bdf))
    r.check(out.strip(), "no %s event for %s reached the agent" %
            (action, bdf))
    env = {}
    for line in r.g.ok("cat %s/events/%s" % (RUN, out.strip())).splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    return env


def hotswapd_checks(r):
    g = r.g
    g.ok("rmmod e1000")     # the guard's part loaded it; not loaded now
    # Issue #19: hot-plug reservations are the kernel's here.
    hsd_start(r, extra="--set slot.2.reserve.mem=64M --set reserve.buses=2")
    log = g.ok("cat /tmp/hsd.log")
    r.check("the command line: slot.2.reserve.mem, reserve.buses do not "
            "apply on the linux back-end" in log,
            "the reservation keys that do not apply are named: %s" % log)
    out = ctl(r, "show 2")
    r.check("hot-plug reservation: not managed by hotswapd: the kernel "
            "sized the hot-plug windows at boot" in out,
            "show says the kernel's reservations: %s" % out)
    out = ctl(r, "led 2 power=on", rc=1)
    r.check("cannot set a power indicator" in out,
            "the power indicator is refused with the reason: %s" % out)
    r.ok("reserve.* and slot.N.reserve.* are named as not applying, show "
         "says the kernel sized the windows, the power indicator is "
         "refused with the reason")
    r.check("back-end linux (the kernel's PCI hot-plug drivers through "
            "sysfs), chosen by the command line" in log,
            "hotswapd says which back-end runs and why: %s" % log)
    r.check("no IOMMU translates DMA" in log, "IOMMU warning: %s" % log)
    st = ctl(r, "status")
    r.check("chassis linux " in st, "status: %s" % st)
    r.ok("hotswapd --backend linux: says which back-end and why, warns "
         "that no IOMMU translates DMA")
    out = ctl(r, "sim catalog", rc=1)
    r.check("runs the linux back-end" in out, "sim verbs: %s" % out)
    out = ctl(r, "rebalance", rc=1)
    r.check("leaves resource placement to the operating system" in out,
            "rebalance: %s" % out)
    r.ok("simulator-only verbs and rebalance say why they are not offered")

    # Insertion: the card comes up, the agent's environment is sysfs'.
    g.qmp("device_add", driver="e1000e", id="h1", bus="rp2")
    g.wait_guest(ENV + "hotswapctl list | grep '^2 .*net.*(e1000e)'",
                 what="slot 2 up with e1000e")
    env = agent_env(r, "add", "0000:02:00.0")
    want = {"HOTSWAP_SLOT": "2", "PCI_ID": "8086:10D3", "PCI_CLASS": "20000",
            "DEVPATH": "/devices/pci0000:00/0000:00:03.0/0000:02:00.0",
            "PCI_SLOT_NAME": "0000:02:00.0", "SUBSYSTEM": "pci"}
    for k, v in want.items():
        r.check(env.get(k) == v, "agent env %s=%r, expected %r" %
                (k, env.get(k), v))
    name = env["HOTSWAP_NAME"]
    bind = agent_env(r, "bind", "0000:02:00.0")
    r.check(bind.get("DRIVER") == "e1000e", "bind env: %s" % bind)
    r.ok("insertion in root port 2: %s bound, agent env from sysfs (%s)" %
         (name, ", ".join("%s=%s" % kv for kv in sorted(want.items())[:3])))

    # Attention: blink, as the kernel's slot file reads it.
    ctl(r, "attention 2 blink")
    r.check(g.ok("cat /sys/bus/pci/slots/2/attention") == "2",
            "attention file reads 2 (blink)")
    ctl(r, "attention 2 off")
    r.check(g.ok("cat /sys/bus/pci/slots/2/attention") == "0",
            "attention file reads 0")
    r.ok("hotswapctl attention 2 blink / off: the slot's attention file "
         "follows")

    # Removal: vetoed with the agent's reason, then allowed.
    g.ok("echo 'carries the storage network' >%s/veto" % RUN)
    out = ctl(r, "--yes remove 2", rc=1)
    r.check("carries the storage network" in out and name in out,
            "veto reason: %s" % out)
    r.check("net" in listing(r)["2"][1], "the card stays after a veto")
    g.ok("rm %s/veto" % RUN)
    nev = len(g.events)
    ctl(r, "--yes remove 2")
    g.wait_event("DEVICE_DELETED", since=nev, device="h1")
    r.check(listing(r)["2"][0] == "empty", "slot 2 empty after remove")
    hist = ctl(r, "history --slot 2")
    r.check(re.search(r"on -> powering-off", hist) and
            re.search(r"device-removed", hist),
            "history of slot 2: %s" % hist)
    r.ok("remove 2: refused by the agent with its reason, then done "
         "(QEMU deleted the card)")

    # Re-insertion: the same stable name.
    g.qmp("device_add", driver="e1000e", id="h1b", bus="rp2")
    g.wait_guest(ENV + "hotswapctl list | grep '^2 .*%s(e1000e)'" % name,
                 what="slot 2 back with %s" % name)
    r.ok("re-inserted card keeps its stable name %s" % name)

    # cfgadm's steps (issue #19): unconfigure takes the card's functions
    # out through the kernel (sysfs remove) and leaves the slot powered;
    # configure rescans the port and the card is back under its name;
    # connect on a connected slot is already true.
    ctl(r, "--yes unconfigure 2")
    r.check(listing(r)["2"] == ("connected", ""),
            "slot 2 connected, nothing configured: %s" % (listing(r)["2"],))
    r.check(g.ok("cat /sys/bus/pci/slots/2/power") == "1",
            "slot 2's power file still reads 1")
    r.check(g.sh("test -e /sys/bus/pci/devices/0000:02:00.0")[0] != 0,
            "0000:02:00.0 is gone from sysfs")
    sl = json.loads(ctl(r, "--json show 2"))
    r.check(sl["receptacle"] == "connected" and
            sl["occupant"] == "unconfigured",
            "show 2: receptacle %s, occupant %s" % (sl["receptacle"],
                                                     sl["occupant"]))
    ctl(r, "connect 2")
    ctl(r, "configure 2")
    g.wait_guest(ENV + "hotswapctl list | grep '^2 .*%s(e1000e)'" % name,
                 what="slot 2 configured again with %s" % name)
    r.check(listing(r)["2"][0] == "on", "slot 2 on after configure")
    hist = ctl(r, "history --slot 2")
    r.check(re.search(r"unconfigure by uid", hist) and
            re.search(r"configure by uid", hist),
            "history has the operator's unconfigure and configure: %s" %
            hist)
    r.ok("unconfigure 2: functions removed through sysfs, slot powered "
         "(connected, unconfigured); configure 2: rescanned, %s bound "
         "again" % name)

    # Replace: the card goes down, the operator swaps it, the new one
    # comes up and the request completes.
    nev = len(g.events)
    g.ok("(%shotswapctl --yes replace 2 >/tmp/replace.out 2>&1; "
         "echo rc=$? >>/tmp/replace.out) &" % ENV)
    g.wait_event("DEVICE_DELETED", since=nev, device="h1b")
    r.check("rc=" not in g.ok("cat /tmp/replace.out"),
            "replace waits for the new card")
    g.qmp("device_add", driver="e1000e", id="h1c", bus="rp2")
    out = g.wait_guest("grep rc= /tmp/replace.out && cat /tmp/replace.out",
                       what="replace done")
    r.check("rc=0" in out, "replace: %s" % out)
    r.check("%s(e1000e)" % name in listing(r)["2"][1],
            "the new card in slot 2 is %s" % name)
    r.ok("replace 2: down, swapped, up again as %s" % name)

    # Blocked by a rule, the driver already loaded: switch port 2-1.
    g.qmp("device_add", driver="e1000e", id="h2", bus="dp2")
    g.wait_guest(ENV + "hotswapctl devices | grep '0000:06:00.0 .*BLOCKED'",
                 what="0000:06:00.0 blocked")
    g.pump(1)
    f = r.func("0000:06:00.0")
    r.check(f["driver"] == "-" and int(f["command"], 16) & CMD_MASK == 0,
            "blocked: no driver, no decode, no bus master: %s" % f)
    m = re.search(r"blocked 0000:06:00.0 .*window (\d+) us",
                  g.ok("cat /tmp/hsd.log"))
    if m:
        print("# hotswapd: blocked card (driver loaded): window %.1f ms" %
              (int(m.group(1)) / 1e3))
    blocked_cmd = int(f["command"], 16)
    ctl(r, "authorize 0000:06:00.0")
    f = r.func("0000:06:00.0")
    r.check(f["driver"] == "e1000e", "authorized: bound: %s" % f)
    r.ok("rule 'block slot 2-1': no driver, command 0x%04x; authorize "
         "binds it" % blocked_cmd)

    # Allowed, its driver not loaded yet: it waits unbound (the next part
    # loads the module; drivers_autoprobe is 0, hotswapd probes it).
    g.qmp("device_add", driver="e1000", id="h4", bus="ppb", addr="3.0")
    g.wait_guest(ENV + "hotswapctl devices | grep '^0000:08:03.0 '",
                 timeout=30, what="SHPC card 3-1 added")
    r.check(r.func("0000:08:03.0")["driver"] == "-",
            "no e1000 driver loaded yet")

    # Restart with default_inserted = block: state kept.
    before = ctl(r, "history").splitlines()
    hsd_stop(r)
    r.check(g.ok("cat /sys/bus/pci/drivers_autoprobe") == "1",
            "drivers_autoprobe restored when hotswapd stops")
    hsd_start(r, "--set default_inserted=block")
    after = ctl(r, "history").splitlines()
    r.check(len(after) > len(before) and after[:len(before)] == before,
            "history kept across the restart")
    r.check("%s(e1000e)" % name in listing(r)["2"][1],
            "same stable name after the restart: %s" % (listing(r)["2"],))
    rep = ctl(r, "report")
    m = re.search(r"^2 +(\d+) +(\d+) ", rep, re.M)
    r.check(m and int(m.group(1)) >= 2 and int(m.group(2)) >= 1,
            "availability report counts slot 2's card changes and time "
            "out of service: %s" % rep)
    r.ok("restart: history, names and the availability report kept")

    # default_inserted = block, driver not loaded: the SHPC slot.
    g.qmp("device_add", driver="e1000", id="h3", bus="ppb", addr="2.0")
    g.wait_guest(ENV + "hotswapctl devices | grep '0000:08:02.0 .*BLOCKED'",
                 timeout=30, what="SHPC card blocked")
    g.ok("insmod /lib/modules/e1000.ko")
    g.pump(1)
    f = r.func("0000:08:02.0")
    r.check(f["driver"] == "-" and int(f["command"], 16) & CMD_MASK == 0,
            "default_inserted=block: no driver after insmod, bus master "
            "off: %s" % f)
    r.ok("default_inserted = block on SHPC slot 2-2: no driver after its "
         "module loads, command 0x%04x" % int(f["command"], 16))
    f = r.func("0000:08:03.0")
    r.check(f["driver"] == "e1000",
            "the allowed card in 3-1 binds once its module loads, although "
            "drivers_autoprobe is 0: %s" % f)
    r.ok("allowed card in SHPC slot 3-1 bound when its driver registered "
         "(drivers_autoprobe 0, hotswapd probes)")
    hsd_stop(r)


# ---- benchmark ------------------------------------------------------------


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def bench(g, runs):
    """device_add -> the kernel's add event, hotswapd's device-added and
    the driver's bind event; device_del -> DEVICE_DELETED; with the kernel
    alone and with hotswapd running.  Host times of the lines the guest
    streams on its event channel (the same passive watcher in both), so
    both columns carry the same channel latency."""
    r = Run(g)
    res = {}
    for mode in ("kernel alone", "with hotswapd"):
        since = len(g.ev_lines)
        g.ok("(%shotswap-linux watch >/dev/ttyS2 2>&1 & echo $! "
             ">/tmp/watch.pid)" % ENV)
        g.wait_ev(r"^ready ", since=since)
        if mode == "with hotswapd":
            hsd_start(r, rules="")
            g.ok("(%shotswapctl watch >/dev/ttyS2 2>&1 & echo $! "
                 ">/tmp/ctlwatch.pid)" % ENV)
            g.pump(1)
        add, hsd_add, bound, deleted = [], [], [], []
        for i in range(runs):
            mark = len(g.ev_lines)
            dev = "b%d%s" % (i, mode[0])
            t0 = time.monotonic()
            g.qmp("device_add", driver="e1000e", id=dev, bus="rp2")
            _, ta, _ = g.wait_ev(r"^event add 0000:02:00\.0", since=mark)
            _, tb, _ = g.wait_ev(r"^event bind 0000:02:00\.0", since=mark)
            add.append((ta - t0) * 1e3)
            bound.append((tb - t0) * 1e3)
            if mode == "with hotswapd":
                _, th, _ = g.wait_ev(r"device-added .*0000:02:00\.0",
                                     since=mark)
                hsd_add.append((th - t0) * 1e3)
            g.pump(0.5)
            nev = len(g.events)
            t0 = time.monotonic()
            g.qmp("device_del", id=dev)
            ev = g.wait_event("DEVICE_DELETED", since=nev, device=dev,
                              timeout=20)
            deleted.append((ev["host"] - t0) * 1e3)
            g.pump(0.5)
        if mode == "with hotswapd":
            g.ok("kill $(cat /tmp/ctlwatch.pid)")
            hsd_stop(r)
        g.ok("kill $(cat /tmp/watch.pid)")
        res[mode] = (add, hsd_add, bound, deleted)
    print("\nLinux guest (Debian %s, TCG), median of %d runs, ms from the "
          "QMP command:" % (r.g.kernel, runs))
    print("%-15s %10s %14s %13s %15s" % ("", "add event", "hotswapd event",
                                         "driver bound", "DEVICE_DELETED"))
    for mode, (a, h, b, d) in res.items():
        print("%-15s %10.1f %14s %13.1f %15.1f" % (
            mode, med(a), "%.1f" % med(h) if h else "-", med(b), med(d)))
    k, h = res["kernel alone"], res["with hotswapd"]
    print("%-15s %+10.1f %14s %+13.1f %+15.1f" % (
        "hotswapd adds", med(h[0]) - med(k[0]), "", med(h[2]) - med(k[2]),
        med(h[3]) - med(k[3])))

    # The blocked-card window: hotswapd blocks everything in slot 2.
    hsd_start(r, rules="block slot 2\\n")
    win = {"driver loaded (e1000e)": [], "driver not loaded (e1000)": []}
    never = 0
    for i in range(runs):
        for kind, drv in (("driver loaded (e1000e)", "e1000e"),
                          ("driver not loaded (e1000)", "e1000")):
            if drv == "e1000":
                g.sh("rmmod e1000")
            dev = "w%d%s" % (i, drv)
            g.ok(": >/tmp/hsd.log")
            g.qmp("device_add", driver=drv, id=dev, bus="rp2")
            g.wait_guest(ENV + "hotswapctl devices | grep "
                         "'0000:02:00.0 .*BLOCKED'", what="blocked")
            log = g.ok("cat /tmp/hsd.log")
            m = re.search(r"blocked 0000:02:00.0 .*window (\d+) us", log)
            if drv == "e1000":
                g.ok("insmod /lib/modules/e1000.ko")
                g.pump(0.3)
            f = r.func("0000:02:00.0")
            if f["driver"] != "-" or int(f["command"], 16) & CMD_MASK:
                raise Failure("blocked card not fenced: %s" % f)
            if m:
                win[kind].append(int(m.group(1)) / 1e3)
            elif drv == "e1000":
                never += 1
                win[kind].append(0.0)
            nev = len(g.events)
            ctl(r, "--yes remove 2")
            g.wait_event("DEVICE_DELETED", since=nev, device=dev)
            g.pump(0.3)
    hsd_stop(r)
    print("\nblocked card under hotswapd: how long it had a driver or bus "
          "mastering (its add event -> no driver, decode and bus master "
          "off), ms, median of %d:" % runs)
    for kind, w in win.items():
        print("  %-28s %8.1f   (min %.1f, max %.1f)" % (
            kind, med(w), min(w) if w else 0, max(w) if w else 0))
    print("  (driver not loaded: %d of %d never had a driver or bus "
          "mastering)" % (never, runs))


GCOV_DIR = "/tmp/gcov"


def fetch_gcov(g, build):
    """The guest's coverage counts, as a tar through the command channel,
    unpacked over the build tree: only .gcda files whose path lies inside
    `build` are taken.  Returns how many."""
    g.sh("[ -f /tmp/hsd.pid ] && kill -TERM $(cat /tmp/hsd.pid); sleep 1")
    out = g.ok("cd %s && tar c . | gzip | base64" % GCOV_DIR, timeout=120)
    data = base64.b64decode("".join(out.split()))
    n = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        for m in t.getmembers():
            path = os.path.normpath("/" + m.name)
            if not m.isfile() or not path.endswith(".gcda") or \
               not path.startswith(build + os.sep):
                continue
            with open(path, "wb") as f:
                f.write(t.extractfile(m).read())
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True,
                    help="build tree with hotswap-linux")
    ap.add_argument("--log", help="directory for the guest's log")
    ap.add_argument("--bench", type=int, metavar="RUNS",
                    help="run the benchmark instead of the checks")
    ap.add_argument("--gcov", action="store_true",
                    help="the programs are built with --coverage: bring "
                    "their counts (.gcda) home into the build tree "
                    "(scripts/coverage.sh)")
    a = ap.parse_args()
    global ENV
    if a.gcov:
        # gcov writes PREFIX/<the object file's absolute path>.gcda at
        # each exit, adding to what an earlier run there wrote.
        ENV += "GCOV_PREFIX=%s " % GCOV_DIR
    progs = [os.path.join(a.build, p) for p in ("hotswap-linux", "hotswapd",
                                                 "hotswapctl")]
    for p in progs:
        if not os.access(p, os.X_OK):
            print("run.py: no %s (build it first)" % p, file=sys.stderr)
            return 2
    log = None
    if a.log:
        os.makedirs(a.log, exist_ok=True)
        log = open(os.path.join(a.log, "guest.log"), "w")
    t0 = time.monotonic()
    vmlinuz, initramfs, version = build_image(a.build, progs)
    print("# kernel: Debian %s; image built in %.1f s" %
          (version, time.monotonic() - t0), flush=True)
    try:
        t0 = time.monotonic()
        with Guest(vmlinuz, initramfs, log=log) as g:
            print("# booted in %.1f s" % (time.monotonic() - t0), flush=True)
            if a.bench:
                bench(g, a.bench)
            else:
                r = Run(g)
                checks(r, version)
                hotswapd_checks(r)
            if a.gcov:
                n = fetch_gcov(g, os.path.realpath(a.build))
                print("# coverage: %d .gcda files from the guest into %s"
                      % (n, a.build), flush=True)
    except Failure as e:
        print("not ok - %s" % e)
        return 1
    finally:
        if log:
            log.close()
    print("# all passed in %.1f s" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
