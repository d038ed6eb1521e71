#!/usr/bin/env python3
"""run.py - the bare-metal hotswap image against QEMU's own hot-plug
controllers (tests/qemu/README.md).

Boots build/.../hotswap-qemu.elf under TCG with a q35 chassis of
pcie-root-ports (one with a 1 GiB prefetchable reservation, one without a
power controller), an x3130 switch with two xio3130 downstream ports and
a pcie-pci-bridge (SHPC); and a pc (i440FX) chassis with a pci-bridge
(SHPC) reached through 0xCF8/0xCFC.  Drives it with QMP (device_add,
device_del, query-pci) and the image's serial protocol (docs/qemu.md),
checks every scenario of issue #6 from both sides, and prints the
timings: device_add -> driver bound and device_del -> DEVICE_DELETED,
median of several runs.

    run.py --image build/asan/hotswap-qemu.elf [--runs 5] [--only NAME]
           [--log DIR] [--list]

Exit status: 0 when every scenario passed, 1 otherwise.
"""

import argparse
import os
import statistics
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hsqemu import Failure, Machine  # noqa: E402

# ---- the chassis --------------------------------------------------------

# Physical slot numbers are unique across the chassis; QEMU's SHPC numbers
# its slots 1.. by device, so the PCIe slots use 11.. to keep names plain.
Q35 = [
    "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=11,addr=2.0",
    "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=12,addr=3.0,"
    "pref64-reserve=1G",
    "pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=13,addr=4.0,"
    "power_controller_present=off",
    "pcie-root-port,id=rp4,bus=pcie.0,chassis=4,slot=14,addr=5.0",
    "x3130-upstream,id=up1,bus=rp4",
    "xio3130-downstream,id=dp1,bus=up1,chassis=5,slot=15,addr=0.0",
    "xio3130-downstream,id=dp2,bus=up1,chassis=6,slot=16,addr=1.0",
    "pcie-root-port,id=rp5,bus=pcie.0,chassis=7,slot=17,addr=6.0",
    "pcie-root-port,id=rp6,bus=pcie.0,chassis=8,slot=18,addr=7.0",
    "pcie-pci-bridge,id=ppb,bus=rp6",
]
# Slot names the image gives those ports.
SLOT = {"rp1": "11", "rp2": "12", "rp3": "13", "dp1": "15", "dp2": "16",
        "rp5": "17"}

PC = [
    "pci-bridge,id=pb,bus=pci.0,chassis_nr=1,shpc=on,addr=5.0",
]

# PCIe Base 6.6.1: 100 ms before the first config request; PCI Local Bus
# 3.0 Trhfa: 2^25 clocks at 33 MHz before the first access on a
# conventional bus (SHPC).  Targets of issue #6: within 20 ms of the
# wait for a hot-add, within 150 ms of the 5 s window for a removal.
PCIE_WAIT = 0.100
TRHFA = 2 ** 25 / 33.0e6
ADD_SLACK = 0.020
BUTTON_WINDOW = 5.0
DEL_SLACK = 0.150

# ---- helpers --------------------------------------------------------------


class Ctx:
    def __init__(self, args):
        self.args = args
        self.timings = {}      # label -> [seconds]
        self.checks = 0

    def machine(self, name, devices=Q35, **kw):
        log = None
        if self.args.log:
            os.makedirs(self.args.log, exist_ok=True)
            log = open(os.path.join(self.args.log, name + ".log"), "w")
        m = Machine(self.args.image, devices, log=log, **kw)
        m.__enter__()
        m.logfile = log
        try:
            m.wait_line(r"^ready$", timeout=30)
            m.sync()     # the slots' start-up lines come after ready
        except Exception:
            m.close()
            raise
        return m

    def check(self, cond, what):
        self.checks += 1
        if not cond:
            raise Failure(what)

    def time(self, label, seconds):
        self.timings.setdefault(label, []).append(seconds)


def done(m):
    m.close()
    if getattr(m, "logfile", None):
        m.logfile.close()


def bridge_of(pci, qdev_id):
    """(bridge device, device) for the device with that QOM id."""
    def walk(devs, parent):
        for d in devs:
            if d.get("qdev_id") == qdev_id:
                return parent, d
            br = d.get("pci_bridge")
            if br and br.get("devices"):
                r = walk(br["devices"], d)
                if r:
                    return r
        return None
    for bus in pci:
        r = walk(bus["devices"], None)
        if r:
            return r
    return None, None


def check_inside_window(ctx, m, qdev_id):
    """From the host side: every BAR QEMU says the device has is
    programmed and lies inside the slot bridge's window of its kind."""
    br, dev = bridge_of(m.qmp("query-pci"), qdev_id)
    ctx.check(dev is not None, "query-pci does not list %s" % qdev_id)
    ctx.check(br is not None, "%s is not behind a bridge" % qdev_id)
    win = br["pci_bridge"]["bus"]
    for r in dev["regions"]:
        if r["type"] == "io":
            rng = win["io_range"]
        elif r.get("prefetch"):
            rng = win["prefetchable_range"]
        else:
            rng = win["memory_range"]
        a, s = r["address"], r["size"]
        ctx.check(a != 0xffffffffffffffff and a != -1,
                  "%s BAR%d is not programmed" % (qdev_id, r["bar"]))
        ctx.check(rng["base"] <= a and a + s - 1 <= rng["limit"],
                  "%s BAR%d 0x%x+0x%x is outside its window 0x%x-0x%x"
                  % (qdev_id, r["bar"], a, s, rng["base"], rng["limit"]))
    return br, dev


def add_and_bind(ctx, m, driver, qid, bus, label=None, **props):
    """device_add, then wait for the driver to bind; returns (bdf,
    seconds from device_add to the bind line)."""
    t0 = time.monotonic()
    m.qmp("device_add", driver=driver, id=qid, bus=bus, **props)
    mark = m.mark()
    ln = m.wait_line(r"^bind bdf=\S+ driver=%s slot=%s" %
                     (driver, SLOT.get(bus, r"\S+")), timeout=10)
    dt = ln.host - t0
    if label:
        ctx.time(label, dt)
    # The slot is on (power indicator on, not blinking) just after the
    # bind; QEMU refuses device_del while it blinks.
    m.wait_line(r"^slot name=%s .*to=on" % ln["slot"], since=mark)
    return ln["bdf"], dt


def del_and_wait(ctx, m, qid, label=None):
    n = len(m.events)
    t0 = time.monotonic()
    m.qmp("device_del", id=qid)
    ev = m.wait_event("DEVICE_DELETED", since=n, device=qid,
                      timeout=BUTTON_WINDOW + 10)
    dt = ev["host"] - t0
    if label:
        ctx.time(label, dt)
    return dt


def slot_info(m, name):
    m.send("status")
    info = None
    while True:
        ln = m.wait_line(r"^(slotinfo|ok status|err status)")
        if ln.kind == "slotinfo" and ln["name"] == name:
            info = ln
        if ln.kind != "slotinfo":
            return info


# ---- scenarios --------------------------------------------------------------


def sc_boot_windows(ctx):
    """Boot: the image re-enumerates; windows honour QEMU's reservation
    capability (rp2: pref64-reserve=1G) and hotswap's defaults elsewhere;
    QEMU sees what the image programmed."""
    m = ctx.machine("boot")
    try:
        hello = m.find(r"^hello ")[0]
        ctx.check(hello["machine"] == "q35" and hello["config"] == "ecam" and
                  hello["ecam"] == "0xb0000000",
                  "q35 should be reached through ECAM at 0xb0000000 "
                  "(PCIEXBAR): %s" % hello.raw)
        pci = m.qmp("query-pci")
        for rp, want in (("rp2", 1 << 30), ("rp1", 64 << 20)):
            _, dev = bridge_of(pci, rp)
            win = dev["pci_bridge"]["bus"]["prefetchable_range"]
            size = win["limit"] - win["base"] + 1
            ctx.check(size == want, "%s prefetchable window is %d MiB, "
                      "expected %d MiB" % (rp, size >> 20, want >> 20))
        # The switch: its upstream port's windows cover both downstream
        # ports' reservations.
        _, up = bridge_of(pci, "up1")
        _, dp1 = bridge_of(pci, "dp1")
        u, d = up["pci_bridge"]["bus"], dp1["pci_bridge"]["bus"]
        ctx.check(u["memory_range"]["base"] <= d["memory_range"]["base"] and
                  d["memory_range"]["limit"] <= u["memory_range"]["limit"],
                  "dp1's memory window is outside the switch's")
        ctx.check(len(m.find(r"^slot name=\S+ .*why=\"controller started\"")) >= 8,
                  "every hot-plug slot (7 PCIe, SHPC) should start")
    finally:
        done(m)


def sc_root_port_cycle(ctx):
    """Root port: device_add -> power, link, 100 ms, enumerate, assign
    inside the window, edu bound and reading 0x010000ed, a DMA round trip;
    device_del -> 5 s blink -> quiesce -> power off -> DEVICE_DELETED.
    Repeated for the timings."""
    m = ctx.machine("root-port")
    try:
        for i in range(ctx.args.runs):
            qid = "edu%d" % i
            mark = m.mark()
            bdf, _ = add_and_bind(ctx, m, "edu", qid, "rp1",
                                  "pcie root port: device_add -> bound")
            ctx.check(m.find(r"edu %s: id 0x010000ed, liveness ok" % bdf, mark),
                      "edu at %s did not read its identification" % bdf)
            states = [l["to"] for l in m.find(r"^slot name=11 ", mark)]
            ctx.check(states[:3] == ["off", "powering-on", "on"],
                      "slot 11 went %s, expected off, powering-on, on" % states)
            check_inside_window(ctx, m, qid)
            if i == 0:
                m.request("edu-dma %s" % bdf)
                m.wait_line(r"edu %s: dma round trip ok" % bdf, timeout=10)
            mark = m.mark()
            del_and_wait(ctx, m, qid, "pcie root port: device_del -> DEVICE_DELETED")
            m.wait_line(r"^slot name=11 .*to=empty")
            states = [l["to"] for l in m.find(r"^slot name=11 ", mark)]
            ctx.check(states == ["blinking-off", "powering-off", "empty"],
                      "slot 11 went %s on removal" % states)
            ctx.check(m.find(r"^unbind bdf=%s driver=edu" % bdf, mark),
                      "the edu driver was not unbound")
            ctx.check(not m.find(r"^alert ", mark), "removal raised an alert")
        br, dev = bridge_of(m.qmp("query-pci"), "edu0")
        ctx.check(dev is None, "QEMU still lists the removed card")
    finally:
        done(m)


def sc_button_cancel(ctx):
    """device_del starts the 5 s window; QEMU refuses a second device_del
    while it runs, so the second press comes from the image's `button`
    command (the same state table); it cancels, and the card stays."""
    m = ctx.machine("cancel")
    try:
        bdf, _ = add_and_bind(ctx, m, "edu", "e1", "rp1")
        n = len(m.events)
        m.qmp("device_del", id="e1")
        m.wait_line(r"^slot name=11 .*to=blinking-off")
        _, err = m.qmp_raw("device_del", id="e1")
        ctx.check(err is not None, "QEMU accepted a second device_del "
                  "during the button window")
        mark = m.mark()
        m.request("button 11")
        m.wait_line(r"^slot name=11 .*from=blinking-off to=on", since=mark)
        time.sleep(BUTTON_WINDOW + 0.5)
        m.sync()
        m.poll_events()
        ctx.check(not [e for e in m.events[n:]
                       if e["event"] == "DEVICE_DELETED"],
                  "the card was deleted although the removal was cancelled")
        ln = m.request("edu %s" % bdf)
        ctx.check(ln["live"] == "1", "edu lost its driver: %s" % ln.raw)
        info = slot_info(m, "11")
        ctx.check(info["state"] == "on" and info["pwr_ind"] == "on",
                  "slot 11 after the cancel: %s" % info.raw)
    finally:
        done(m)


def sc_own_remove(ctx):
    """hotswap's own remove (no device_del): the image quiesces, powers
    the slot off, and QEMU deletes the device."""
    m = ctx.machine("own-remove")
    try:
        bdf, _ = add_and_bind(ctx, m, "pci-testdev", "t1", "rp1")
        ln = m.request("testdev %s" % bdf)
        ctx.check(ln["mmio"] == "mmio-no-eventfd" and
                  ln["portio"] == "portio-no-eventfd",
                  "pci-testdev read the wrong names: %s" % ln.raw)
        check_inside_window(ctx, m, "t1")
        n = len(m.events)
        mark = m.mark()
        m.request("remove 11")
        d = m.wait_line(r"^done remove slot=11", since=mark)
        ctx.check(d["rc"] == "0", "remove failed: %s" % d.raw)
        m.wait_event("DEVICE_DELETED", since=n, device="t1", timeout=5)
        info = slot_info(m, "11")
        ctx.check(info["state"] == "empty", "slot 11: %s" % info.raw)
        # A bogus request gets a clear error, nothing changes.
        m.send("remove 99")
        e = m.wait_line(r"^err remove")
        ctx.check("no slot named 99" in e["msg"], "bad slot: %s" % e.raw)
        m.send("frobnicate")
        e = m.wait_line(r"^err frobnicate")
        ctx.check("unknown command" in e["msg"], "bad verb: %s" % e.raw)
        m.send("cfg 00:00.0 .4")
        e = m.wait_line(r"^err cfg")
        ctx.check("hex" in e["msg"], "bad offset: %s" % e.raw)
        m.send("authorize 1:2:3")
        e = m.wait_line(r"^err authorize")
        ctx.check("bus:dev.fn" in e["msg"], "bad device: %s" % e.raw)
        m.send("x" * 300)
        e = m.wait_line(r"^err line")
        ctx.check("longer than 255" in e["msg"], "long line: %s" % e.raw)
        ctx.check(slot_info(m, "12")["state"] == "empty",
                  "bad input changed a slot")
    finally:
        done(m)


def sc_no_power_controller(ctx):
    """A slot with power_controller_present=off: presence and the button
    still work; removal unconfigures the card but nothing can power it
    down, so it stays in QEMU; enabling it again brings it back."""
    m = ctx.machine("no-power-controller")
    try:
        bdf, dt = add_and_bind(ctx, m, "pci-testdev", "t3", "rp3",
                               "pcie root port without power controller: "
                               "device_add -> bound")
        check_inside_window(ctx, m, "t3")
        mark = m.mark()
        m.request("remove 13")
        d = m.wait_line(r"^done remove slot=13", since=mark)
        ctx.check(d["rc"] == "0", "remove failed: %s" % d.raw)
        info = slot_info(m, "13")
        ctx.check(info["state"] == "off" and info["present"] == "1" and
                  info["pwr_ind"] == "off",
                  "slot 13 after removal: %s" % info.raw)
        cmd = m.request("cfg %s 4" % bdf)
        ctx.check(int(cmd["val"], 16) & 0x7 == 0,
                  "the unconfigured card still decodes: %s" % cmd.raw)
        mark = m.mark()
        m.request("add 13")
        d = m.wait_line(r"^done add slot=13", timeout=5, since=mark)
        ctx.check(d["rc"] == "0", "add failed: %s" % d.raw)
        m.wait_line(r"^bind bdf=%s driver=pci-testdev" % bdf, since=mark)
    finally:
        done(m)


def sc_switch_ports(ctx):
    """Two cards at once into the x3130 switch's downstream ports (which
    cannot report the link: 100 ms from power-on, PCIe Base 6.6.1)."""
    m = ctx.machine("switch")
    try:
        for i in range(ctx.args.runs):
            t0 = time.monotonic()
            mark = m.mark()
            m.qmp("device_add", driver="edu", id="se%d" % i, bus="dp1")
            m.qmp("device_add", driver="pci-testdev", id="st%d" % i, bus="dp2")
            a = m.wait_line(r"^bind bdf=\S+ driver=edu slot=15", timeout=10,
                            since=mark)
            m.wait_line(r"^bind bdf=\S+ driver=pci-testdev slot=16",
                        timeout=10, since=mark)
            ctx.time("switch downstream port: device_add -> bound",
                     a.host - t0)
            m.wait_line(r"^slot name=15 .*to=on", since=mark)
            m.wait_line(r"^slot name=16 .*to=on", since=mark)
            check_inside_window(ctx, m, "se%d" % i)
            check_inside_window(ctx, m, "st%d" % i)
            n = len(m.events)
            t0 = time.monotonic()
            m.qmp("device_del", id="se%d" % i)
            m.qmp("device_del", id="st%d" % i)
            e1 = m.wait_event("DEVICE_DELETED", since=n, device="se%d" % i,
                              timeout=15)
            m.wait_event("DEVICE_DELETED", since=n, device="st%d" % i,
                         timeout=15)
            ctx.time("switch downstream port: device_del -> DEVICE_DELETED",
                     e1["host"] - t0)
            m.wait_line(r"^slot name=16 .*to=empty")
            m.sync()
    finally:
        done(m)


def sc_multifunction(ctx):
    """A two-function card (function 0 added last, as QEMU requires):
    both functions come up in one hot-add and go in one removal."""
    m = ctx.machine("multifunction")
    try:
        m.qmp("device_add", driver="pci-testdev", id="mf1", bus="rp5",
              addr="0.1")
        m.qmp("device_add", driver="edu", id="mf0", bus="rp5", addr="0.0",
              multifunction="on")
        a = m.wait_line(r"^bind bdf=\S+\.0 driver=edu slot=17", since=0)
        b = m.wait_line(r"^bind bdf=\S+\.1 driver=pci-testdev slot=17",
                        since=0)
        ctx.check(a["bdf"][:5] == b["bdf"][:5],
                  "functions on different devices: %s %s" % (a.raw, b.raw))
        m.wait_line(r"^slot name=17 .*to=on", since=0)
        check_inside_window(ctx, m, "mf0")
        check_inside_window(ctx, m, "mf1")
        n = len(m.events)
        mark = m.mark()
        m.request("remove 17")
        d = m.wait_line(r"^done remove slot=17", since=mark)
        ctx.check(d["rc"] == "0", "remove failed: %s" % d.raw)
        m.wait_event("DEVICE_DELETED", since=n, device="mf0", timeout=5)
        m.wait_event("DEVICE_DELETED", since=n, device="mf1", timeout=5)
    finally:
        done(m)


def sc_big_bar(ctx):
    """ivshmem-plain's 256 MiB prefetchable BAR: into the root port with
    pref64-reserve=1G it fits; into one with hotswap's default 64 MiB it
    fails, the error names the resource, and nothing else changes."""
    mem = ["-object", "memory-backend-ram,id=mb1,size=256M",
           "-object", "memory-backend-ram,id=mb2,size=256M"]
    m = ctx.machine("big-bar", extra=mem)
    try:
        m.qmp("device_add", driver="ivshmem-plain", id="iv1", bus="rp2",
              memdev="mb1")
        m.wait_line(r"^slot name=12 .*to=on")
        _, dev = check_inside_window(ctx, m, "iv1")
        big = [r for r in dev["regions"] if r["size"] == 256 << 20]
        ctx.check(big and big[0]["prefetch"] and big[0]["mem_type_64"],
                  "no 256 MiB 64-bit prefetchable BAR: %s" % dev["regions"])
        before = m.qmp("query-pci")
        n = len(m.events)
        mark = m.mark()
        m.qmp("device_add", driver="ivshmem-plain", id="iv2", bus="rp1",
              memdev="mb2")
        al = m.wait_line(r"^alert slot=11 ")
        ctx.check("prefetchable memory: need 256 MiB" in al["msg"] and
                  "64 MiB" in al["msg"],
                  "the refusal does not name the resource: %s" % al.raw)
        m.wait_line(r"^slot name=11 .*to=(off|empty)")
        # The image powered the slot off with the attention indicator
        # on; QEMU deletes a card whose slot is powered off.
        m.wait_event("DEVICE_DELETED", since=n, device="iv2", timeout=5)
        ctx.check(not m.find(r"^bind ", mark), "something bound")
        _, dev1 = bridge_of(m.qmp("query-pci"), "iv1")
        _, old1 = bridge_of(before, "iv1")
        ctx.check(dev1["regions"] == old1["regions"],
                  "the running card moved")
    finally:
        done(m)


def sc_shpc(ctx):
    """SHPC on a pcie-pci-bridge: device_add -> enable (Trhfa) -> edu
    bound; device_del -> 5 s blink -> disable -> DEVICE_DELETED."""
    m = ctx.machine("shpc")
    try:
        for i in range(max(1, ctx.args.runs // 2)):
            qid = "she%d" % i
            bdf, _ = add_and_bind(ctx, m, "edu", qid, "ppb",
                                  "shpc (pcie-pci-bridge): device_add -> bound",
                                  addr="2.0")
            check_inside_window(ctx, m, qid)
            del_and_wait(ctx, m, qid,
                         "shpc (pcie-pci-bridge): device_del -> DEVICE_DELETED")
            m.sync()
    finally:
        done(m)


def sc_authorization(ctx):
    """Blocked by policy: edu is enumerated and assigned but cannot decode
    or bus-master and gets no driver; the image refuses it DMA; once
    authorized, its driver binds and a DMA round trip works."""
    m = ctx.machine("authorization")
    try:
        m.request("authmode block")
        mark = m.mark()
        m.qmp("device_add", driver="edu", id="ae", bus="rp1")
        bl = m.wait_line(r"^dev blocked bdf=")
        bdf = bl["bdf"]
        m.wait_line(r"^slot name=11 .*to=on")
        ctx.check(not m.find(r"^bind ", mark), "a blocked card got a driver")
        cmd = m.request("cfg %s 4" % bdf)
        ctx.check(int(cmd["val"], 16) & 0x7 == 0,
                  "blocked edu decodes or masters: Command %s" % cmd["val"])
        m.send("edu-dma %s" % bdf)
        e = m.wait_line(r"^err edu-dma")
        ctx.check("no edu driver" in e["msg"], "edu-dma: %s" % e.raw)
        mark = m.mark()
        m.request("authorize %s" % bdf)
        m.wait_line(r"^bind bdf=%s driver=edu" % bdf, since=mark)
        mark = m.mark()
        m.request("edu-dma %s" % bdf)
        m.wait_line(r"edu %s: dma round trip ok" % bdf, timeout=10,
                    since=mark)
        check_inside_window(ctx, m, "ae")
    finally:
        done(m)


def sc_pc_shpc(ctx):
    """The pc machine (i440FX, no ECAM: 0xCF8/0xCFC) with a pci-bridge's
    SHPC: boot, hot-add, driver bound, removal."""
    m = ctx.machine("pc-shpc", devices=PC, machine="pc")
    try:
        hello = m.find(r"^hello ")[0]
        ctx.check(hello["machine"] == "pc" and hello["config"] == "cf8",
                  "pc should use mechanism #1: %s" % hello.raw)
        bdf, _ = add_and_bind(ctx, m, "pci-testdev", "pt", "pb", addr="3.0")
        check_inside_window(ctx, m, "pt")
        del_and_wait(ctx, m, "pt")
    finally:
        done(m)


SCENARIOS = [
    ("boot-windows", sc_boot_windows),
    ("root-port-cycle", sc_root_port_cycle),
    ("button-cancel", sc_button_cancel),
    ("own-remove", sc_own_remove),
    ("no-power-controller", sc_no_power_controller),
    ("switch-ports", sc_switch_ports),
    ("multifunction", sc_multifunction),
    ("big-bar", sc_big_bar),
    ("shpc", sc_shpc),
    ("authorization", sc_authorization),
    ("pc-shpc", sc_pc_shpc),
]

# label substring -> (spec wait, slack) for the timing targets
TARGETS = [
    ("pcie root port: device_add", PCIE_WAIT, ADD_SLACK),
    ("without power controller: device_add", PCIE_WAIT, ADD_SLACK),
    ("switch downstream port: device_add", PCIE_WAIT, ADD_SLACK),
    ("shpc (pcie-pci-bridge): device_add", TRHFA, ADD_SLACK),
    ("device_del", BUTTON_WINDOW, DEL_SLACK),
]


def report(ctx):
    ok = True
    print("\ntimings (host clock, median of runs):")
    print("  %-58s %5s %9s %9s %9s  %s" % ("", "runs", "median", "min",
                                          "max", "target"))
    for label, xs in ctx.timings.items():
        med = statistics.median(xs)
        tgt = next(((w, s) for k, w, s in TARGETS if k in label), None)
        verdict = ""
        if tgt:
            good = med <= tgt[0] + tgt[1]
            ok &= good
            verdict = "%s <= %.0f ms (%.0f + %.0f)" % (
                "ok  " if good else "MISS", (tgt[0] + tgt[1]) * 1000,
                tgt[0] * 1000, tgt[1] * 1000)
        print("  %-58s %5d %7.1fms %7.1fms %7.1fms  %s" % (
            label, len(xs), med * 1000, min(xs) * 1000, max(xs) * 1000,
            verdict))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", required=False)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", action="append")
    ap.add_argument("--log", help="write each machine's console here")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for name, fn in SCENARIOS:
            print("%-22s %s" % (name, fn.__doc__.split("\n")[0]))
        return 0
    if not args.image or not os.path.exists(args.image):
        print("run.py: --image must name the built hotswap-qemu.elf",
              file=sys.stderr)
        return 2
    if args.runs < 1:
        print("run.py: --runs must be at least 1", file=sys.stderr)
        return 2
    names = [n for n, _ in SCENARIOS]
    for o in args.only or []:
        if o not in names:
            print("run.py: no scenario %r (--list shows them)" % o,
                  file=sys.stderr)
            return 2
    ctx = Ctx(args)
    failed = []
    t_all = time.monotonic()
    for name, fn in SCENARIOS:
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        try:
            fn(ctx)
            print("ok   %-22s %5.1f s" % (name, time.monotonic() - t0))
        except Exception as e:  # a Failure or a harness error
            failed.append(name)
            print("FAIL %-22s %5.1f s\n     %s" % (
                name, time.monotonic() - t0, e))
            if not isinstance(e, Failure):
                traceback.print_exc()
        sys.stdout.flush()
    timing_ok = report(ctx)
    print("\n%d scenarios, %d failed, %d checks, %.1f s" % (
        len(args.only or names), len(failed), ctx.checks,
        time.monotonic() - t_all))
    if not timing_ok:
        print("timing targets missed (see above)")
    return 0 if not failed and timing_ok else 1


if __name__ == "__main__":
    sys.exit(main())
