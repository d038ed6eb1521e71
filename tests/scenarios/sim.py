#!/usr/bin/env python3
"""sim.py - the shared scenarios (tests/scenarios/*.json) on the simulator.

For each scenario, starts hotswapd from a build directory on the mirror of
QEMU's q35 chassis (examples/qemu-q35.json) with a virtual clock, a
private socket and a throw-away state directory, runs the steps through
`hotswapctl --json` (physical actions with `sim ...`, time with
`sim advance`), checks every expectation, and stops the daemon (which
must exit 0 with the sanitizers quiet).  README.md says how each step is
done here and on QEMU.

    sim.py --build BUILD_DIR | --hotswapd PATH --hotswapctl PATH
           [--topology FILE] [--scenarios DIR] [--only NAME]... [--runs N]
           [--log DIR] [--list] [-v]

Exit status: 0 when every scenario passed, 1 when one failed, 2 for bad
usage or a bad scenario file.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
# No __pycache__ in the source tree (tests/scenarios has no ignore rule).
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import scenario  # noqa: E402
from scenario import Failure, SLOTS  # noqa: E402

# The step of the virtual clock while waiting for something `within` a
# time, and the time the presence debounce (20 ms in hotswapd) is given.
STEP = 0.1
DEBOUNCE_STEP = 0.01
DEBOUNCE_MAX = 0.2
# expect_io: the time the cards are given to complete their requests.
IO_TIME = 0.05
IO_COUNT = 4


class Setup(Exception):
    """The daemon or its chassis is not what the scenarios need."""


def us(seconds):
    return "%dus" % round(seconds * 1e6)


class Daemon:
    """One hotswapd on a private socket and state directory."""

    def __init__(self, hotswapd, hotswapctl, topology, log_path, sets=()):
        self.hotswapd = hotswapd
        self.hotswapctl = hotswapctl
        self.topology = topology
        self.log_path = log_path
        self.sets = list(sets)
        self.dir = None
        self.proc = None
        self.calls = 0

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="hotswap-scenario-")
        self.sock = os.path.join(self.dir, "hotswapd.sock")
        os.mkdir(os.path.join(self.dir, "agents"))
        open(os.path.join(self.dir, "rules.conf"), "w").close()
        cmd = [self.hotswapd, "--clock", "virtual", "--socket", self.sock,
               "--topology", self.topology,
               "--state-dir", os.path.join(self.dir, "state"),
               "--agents", os.path.join(self.dir, "agents"),
               "--rules", os.path.join(self.dir, "rules.conf"),
               "--set", "runtime_dir=" + os.path.join(self.dir, "run"),
               "--set", "socket_group="]
        for s in self.sets:
            cmd += ["--set", s]
        self.log = open(self.log_path, "w")
        self.log.write("$ %s\n" % " ".join(cmd))
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise Setup("hotswapd exited with status %d at start:\n%s"
                            % (self.proc.returncode, self.log_tail()))
            if os.path.exists(self.sock):
                rc, _, _ = self.ctl_raw(["status"])
                if rc == 0:
                    return
            if time.monotonic() > deadline:
                raise Setup("hotswapd did not answer on %s in 15 s:\n%s"
                            % (self.sock, self.log_tail()))
            time.sleep(0.05)

    def log_tail(self, n=15):
        try:
            with open(self.log_path) as f:
                return "".join("    " + l for l in f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        """SIGTERM; returns a problem to report, or None."""
        problem = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
            if rc != 0:
                problem = ("hotswapd did not stop cleanly on SIGTERM "
                           "(status %s)" % rc)
        self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if getattr(self, "log", None):
            self.log.close()
            with open(self.log_path) as f:
                text = f.read()
            if re.search(r"ERROR: AddressSanitizer|runtime error:|"
                         r"ERROR: LeakSanitizer", text):
                problem = "the sanitizers complained in hotswapd:\n" + \
                    self.log_tail(40)
        return problem

    def ctl_raw(self, args):
        self.calls += 1
        p = subprocess.run([self.hotswapctl, "--socket", self.sock,
                            "--json"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        return p.returncode, p.stdout, p.stderr

    def ctl(self, *args, ok=(0,)):
        """hotswapctl --json ARGS: (exit status, parsed output)."""
        rc, out, err = self.ctl_raw(list(args))
        self.log.write("# hotswapctl %s -> %d\n" % (" ".join(args), rc))
        if rc not in ok:
            raise Failure("hotswapctl %s: exit %d: %s" % (
                " ".join(args), rc, (err or out).strip()))
        try:
            return rc, json.loads(out) if out.strip() else None
        except ValueError:
            raise Failure("hotswapctl --json %s printed something that is "
                          "not JSON: %r" % (" ".join(args), out[:200]))


def error_message(res, fallback=""):
    if isinstance(res, dict) and isinstance(res.get("error"), dict):
        return res["error"].get("message", "")
    return fallback


def fn_of(bdf):
    return int(bdf.rsplit(".", 1)[1])


class SimBackend:
    """The steps on hotswapd's simulated chassis (README.md, "sim")."""

    name = "sim"

    def __init__(self, daemon, cards):
        self.d = daemon
        self.cards = cards
        self.occupant = {}     # slot -> abstract card
        self.marks = {}        # slot -> event seq before its last action
        self.bars = {}         # slot -> BARs seen by expect_inside_window

    # ---- helpers ----------------------------------------------------------

    def ctl(self, *args, ok=(0,)):
        return self.d.ctl(*args, ok=ok)[1]

    def seq(self):
        return self.ctl("status")["seq"]

    def mark(self, slot):
        self.marks[slot] = self.seq()

    def show(self, slot):
        return self.ctl("show", slot)

    def advance(self, seconds):
        if seconds > 0:
            self.ctl("sim", "advance", us(seconds))

    def history(self, slot, types=None):
        evs = self.ctl("history", "--slot", slot, "--after",
                       str(self.marks.get(slot, 0)), "--limit", "0")
        return [e for e in evs if types is None or e["type"] in types]

    def transitions(self, slot):
        return [e["to"] for e in self.history(slot, ("slot-state",))]

    def sim_card(self, slot):
        card = self.occupant[slot]
        return self.cards[card]["sim"][SLOTS[slot]["kind"]]

    def until(self, within, probe, step=STEP):
        """Call probe() now and after each `step` of virtual time until
        its first value is true or `within` has passed; returns its last
        value and the virtual time waited."""
        waited = 0.0
        while True:
            got = probe()
            if got[0] or waited >= within - 1e-9:
                return got, waited
            dt = min(step, within - waited)
            self.advance(dt)
            waited += dt

    # ---- actions ----------------------------------------------------------

    def do_insert(self, a):
        slot, card = a["slot"], a["card"]
        m = self.cards[card]["sim"][SLOTS[slot]["kind"]]
        self.mark(slot)
        self.ctl("sim", "insert", slot, m["card"])
        self.occupant[slot] = card
        # The presence debounce, then the operator's request: what the
        # image's presence policy does by itself on QEMU.
        (ok, st), _ = self.until(DEBOUNCE_MAX, lambda: (
            lambda s: (s["state"] == "off", s["state"]))(self.show(slot)),
            step=DEBOUNCE_STEP)
        if not ok:
            raise Failure("slot %s did not take the card: it is %s %g ms "
                          "after the insertion" % (slot, st,
                                                   DEBOUNCE_MAX * 1e3))
        # The outcome (a failed enable included) is for the expectations.
        self.ctl("add", slot, ok=(0, 1))

    def do_button(self, a):
        self.mark(a["slot"])
        self.ctl("sim", "button", a["slot"])

    def do_pull(self, a):
        slot = a["slot"]
        self.mark(slot)
        args = ["sim", "pull", slot] + (["--surprise"] if a.get("surprise")
                                        else [])
        rc, res = self.d.ctl(*args, ok=(0, 1))
        if rc:
            raise Failure("the simulator refused the pull: %s"
                          % error_message(res))
        self.occupant.pop(slot, None)

    def _request(self, a, verb):
        slot = a["slot"]
        self.mark(slot)
        args = (["--yes"] if verb == "remove" else []) + [verb, slot]
        rc, res = self.d.ctl(*args, ok=(0, 1))
        want = a.get("expect", "ok")
        msg = error_message(res)
        if want == "ok" and rc:
            raise Failure("%s %s failed: %s" % (verb, slot, msg))
        if want == "fail" and not rc:
            raise Failure("%s %s succeeded (slot %s), expected a refusal"
                          % (verb, slot, res.get("state")))
        if a.get("matches") and not re.search(a["matches"], msg):
            raise Failure("%s %s: the message %r does not match /%s/"
                          % (verb, slot, msg, a["matches"]))

    def do_remove(self, a):
        self._request(a, "remove")

    def do_add(self, a):
        self._request(a, "add")

    def do_authorize(self, a):
        self.mark(a["slot"])
        self.ctl("authorize", "--slot", a["slot"])

    def do_wait(self, a):
        self.advance(a["time"])

    # ---- expectations -------------------------------------------------------

    FIELDS = {"state": "state", "present": "adapter",
              "power_indicator": "power_indicator",
              "attention": "attention"}

    def do_expect(self, a):
        slot = a["slot"]
        want = {k: a[k] for k in self.FIELDS if k in a}

        def probe():
            s = self.show(slot)
            got = {k: s[self.FIELDS[k]] for k in want}
            return got == want, got, s
        (ok, got, s), waited = self.until(a.get("within", 0), probe)
        if not ok:
            raise Failure("slot %s has %s, expected %s%s; transitions since "
                          "its last action: %s%s" % (
                              slot, fmt(got), fmt(want),
                              " within %gs" % a["within"]
                              if "within" in a else "",
                              " -> ".join(self.transitions(slot)) or "none",
                              "; reason: %s" % s["reason"]
                              if s.get("reason") else ""))

    def do_expect_transitions(self, a):
        slot, want = a["slot"], a["states"]
        (ok, got), _ = self.until(a.get("within", 0), lambda: (
            lambda t: (len(t) >= len(want), t))(self.transitions(slot)))
        if got != want:
            raise Failure("slot %s went %s since its last action, expected "
                          "%s" % (slot, " -> ".join(got) or "nowhere",
                                  " -> ".join(want)))

    def _functions(self, slot):
        devs = self.show(slot)["devices"]
        return sorted(devs, key=lambda d: d["bdf"])

    def _expect_functions(self, slot, blocked):
        m = self.sim_card(slot)
        devs = self._functions(slot)
        seen = ", ".join("%s %s driver=%s%s" % (
            d["bdf"], d["id"], d.get("driver", "none"),
            " blocked" if d["blocked"] else "") for d in devs) or "nothing"
        want = m["drivers"]
        if len(devs) != len(want):
            raise Failure("slot %s (%s) has %d function(s), expected %d: %s"
                          % (slot, m["card"], len(devs), len(want), seen))
        for d in devs:
            drv = None if blocked else want[fn_of(d["bdf"])]
            if d.get("driver") != drv or d["blocked"] != blocked:
                raise Failure("slot %s (%s): expected every function %s; "
                              "found %s" % (
                                  slot, m["card"],
                                  "blocked with no driver" if blocked else
                                  "allowed with drivers %s" % want, seen))

    def do_expect_bound(self, a):
        self._expect_functions(a["slot"], False)

    def do_expect_blocked(self, a):
        self._expect_functions(a["slot"], True)

    def do_expect_unconfigured(self, a):
        s = self.show(a["slot"])
        if s["devices"] or s["occupant"] != "unconfigured":
            raise Failure("slot %s is %s with %s" % (
                a["slot"], s["occupant"],
                ", ".join(d["bdf"] for d in s["devices"]) or "no functions"))

    def do_expect_inside_window(self, a):
        slot = a["slot"]
        every = {d["bdf"]: d for d in self.ctl("devices")}
        devs = self._functions(slot)
        if not devs:
            raise Failure("slot %s has no functions" % slot)
        seen = {}
        for d in devs:
            br = every.get(d.get("parent"))
            if not br:
                raise Failure("%s has no parent bridge in the device list"
                              % d["bdf"])
            wins = {w["kind"]: w for w in br["windows"]}
            for b in d["bars"]:
                w = wins.get(b["kind"])
                if not w:
                    raise Failure("%s BAR%d (%s) but the bridge %s has no %s "
                                  "window" % (d["bdf"], b["bar"], b["kind"],
                                              br["bdf"], b["kind"]))
                lo, hi = b["start"], b["start"] + b["size"] - 1
                if not (w["start"] <= lo and hi <= w["start"] + w["size"] - 1):
                    raise Failure("%s BAR%d 0x%x-0x%x is outside %s's %s "
                                  "window 0x%x-0x%x" % (
                                      d["bdf"], b["bar"], lo, hi, br["bdf"],
                                      b["kind"], w["start"],
                                      w["start"] + w["size"] - 1))
            seen[d["bdf"]] = sorted((b["bar"], b["start"], b["size"])
                                    for b in d["bars"])
        self.bars[slot] = seen

    def do_expect_unmoved(self, a):
        slot = a["slot"]
        now = {d["bdf"]: sorted((b["bar"], b["start"], b["size"])
                                for b in d["bars"])
               for d in self._functions(slot)}
        if now != self.bars[slot]:
            raise Failure("slot %s's resources changed: %s, then %s"
                          % (slot, self.bars[slot], now))

    def do_expect_io(self, a):
        slot = a["slot"]
        bound = [d for d in self._functions(slot) if d.get("driver")]
        if not bound:
            raise Failure("slot %s has no function with a driver" % slot)
        for d in bound:
            dev = d.get("name") or d["bdf"]
            r1 = self.ctl("sim", "traffic", dev, "--count", str(IO_COUNT))
            self.advance(IO_TIME)
            # A second submission reports the ledger after the first ones.
            r2 = self.ctl("sim", "traffic", dev, "--count", "1")
            l1, l2 = r1["ledger"], r2["ledger"]
            done = l2["completed"] - l1["completed"]
            if (done < IO_COUNT or l2["failed"] != l1["failed"] or
                    l2["refused"] != l1["refused"]):
                raise Failure("%s (%s): %d of %d requests completed in %s, "
                              "ledger %s then %s" % (
                                  d["bdf"], d["driver"], done, IO_COUNT,
                                  us(IO_TIME), l1, l2))
            self.advance(IO_TIME)

    def do_expect_dma(self, a):
        slot = a["slot"]
        r = self.ctl("sim", "dma", slot, "--count", "16")
        if a["blocked"]:
            good = r["blocked"] == r["attempts"] and r["through"] == 0
        else:
            good = r["through"] == r["attempts"] and r["blocked"] == 0
        if not good or not r["attempts"]:
            raise Failure("slot %s: %d DMA attempts, %d blocked, %d through;"
                          " expected all %s" % (
                              slot, r["attempts"], r["blocked"], r["through"],
                              "blocked" if a["blocked"] else "through"))

    def _alerts(self, slot):
        return [e.get("msg", "") for e in self.history(slot, ("slot-alert",))]

    def do_expect_alert(self, a):
        slot, rx = a["slot"], re.compile(a["matches"])
        (ok, alerts), _ = self.until(a.get("within", 0), lambda: (
            lambda al: (any(rx.search(m) for m in al), al))(
                self._alerts(slot)))
        if not ok:
            raise Failure("no alert for slot %s matches /%s/ since its last "
                          "action; alerts: %s" % (slot, a["matches"],
                                                  alerts or "none"))

    def do_expect_no_alert(self, a):
        alerts = self._alerts(a["slot"])
        if alerts:
            raise Failure("slot %s raised %s" % (a["slot"], alerts))


def fmt(d):
    return ", ".join("%s=%s" % (k, json.dumps(v)) for k, v in sorted(d.items()))


def check_chassis(backend, cards, topology):
    """The daemon's chassis has the shared slots, and the catalog every
    card cards.json names."""
    have = {s["slot"]: s for s in backend.ctl("list")}
    for name, want in SLOTS.items():
        s = have.get(name)
        if not s or s["kind"] != want["kind"]:
            raise Setup("%s: slot %s should be a %s slot; the daemon has %s"
                        % (topology, name, want["kind"],
                           s["kind"] + " slot" if s else "no such slot"))
        if ("power" in s["caps"]) != want["power_controller"]:
            raise Setup("%s: slot %s should%s have a power controller"
                        % (topology, name,
                           "" if want["power_controller"] else " not"))
    catalog = {c["card"] for c in backend.ctl("sim", "catalog")}
    for name, c in cards.items():
        for kind, m in (c.get("sim") or {}).items():
            if m["card"] not in catalog:
                raise Setup("cards.json: card %r: the simulator's catalog "
                            "has no %r (%s)" % (name, m["card"], topology))


def run_one(args, sc, cards, logdir, counts):
    sets = ["default_inserted=block"] if sc.authorization == "block" else []
    log_path = os.path.join(logdir, sc.name + ".log")
    d = Daemon(args.hotswapd, args.hotswapctl, args.topology, log_path, sets)
    d.start()
    problem = None
    counts["daemon"] = d
    try:
        be = SimBackend(d, cards)
        check_chassis(be, cards, args.topology)

        def log(line):
            d.log.write("## %s\n" % line)
            d.log.flush()
            if args.verbose:
                print("     " + line)
        scenario.execute(sc, be, args.runs, log)
    finally:
        problem = d.stop()
    if problem:
        raise Failure(problem)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", help="build directory with hotswapd and "
                    "hotswapctl")
    ap.add_argument("--hotswapd", help="the daemon (default: BUILD/hotswapd)")
    ap.add_argument("--hotswapctl",
                    help="the admin tool (default: BUILD/hotswapctl)")
    ap.add_argument("--topology",
                    default=os.path.join(SRC, "examples", "qemu-q35.json"))
    ap.add_argument("--scenarios", default=HERE,
                    help="directory of scenario files (default: this one)")
    ap.add_argument("--only", action="append", metavar="NAME")
    ap.add_argument("--runs", type=int, default=1,
                    help="repetitions of scenarios that say repeat: runs")
    ap.add_argument("--log", help="keep each daemon's log and the steps "
                    "here")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    try:
        cards = scenario.load_cards(os.path.join(args.scenarios,
                                                 "cards.json"))
        scs, _ = scenario.load_dir(args.scenarios, cards)
    except scenario.BadScenario as e:
        print("sim.py: %s" % e, file=sys.stderr)
        return 2
    mine = [s for s in scs if "sim" in s.backends]
    if args.list:
        for s in scs:
            print("%-22s %-9s %s" % (s.name, "+".join(s.backends),
                                     s.description))
        return 0
    for o in args.only or []:
        if o not in [s.name for s in mine]:
            print("sim.py: no simulator scenario %r (--list shows them)" % o,
                  file=sys.stderr)
            return 2
    if args.runs < 1:
        print("sim.py: --runs must be at least 1", file=sys.stderr)
        return 2
    for prog in ("hotswapd", "hotswapctl"):
        if not getattr(args, prog) and args.build:
            setattr(args, prog, os.path.join(args.build, prog))
        path = getattr(args, prog)
        if not path or not os.access(path, os.X_OK):
            print("sim.py: no %s to run: give --build DIR (holding hotswapd "
                  "and hotswapctl) or --%s PATH" % (prog, prog),
                  file=sys.stderr)
            return 2
    logdir = args.log or tempfile.mkdtemp(prefix="hotswap-scenarios-")
    os.makedirs(logdir, exist_ok=True)
    failed = []
    steps = calls = 0
    t_all = time.monotonic()
    for sc in mine:
        if args.only and sc.name not in args.only:
            continue
        t0 = time.monotonic()
        n = sum(1 for st in sc.steps if "sim" in st[3]) * sc.repeats(args.runs)
        counts = {}
        try:
            run_one(args, sc, cards, logdir, counts)
            steps += n
            print("ok   %-22s %3d steps %5.1f s" % (sc.name, n,
                                                    time.monotonic() - t0))
        except (Failure, Setup) as e:
            failed.append(sc.name)
            print("FAIL %-22s %3d steps %5.1f s\n     %s: %s\n     daemon "
                  "log: %s" % (sc.name, n, time.monotonic() - t0,
                               os.path.relpath(sc.path), e,
                               os.path.join(logdir, sc.name + ".log")))
        if "daemon" in counts:
            calls += counts["daemon"].calls
        sys.stdout.flush()
    ran = len(args.only or mine)
    print("\n%d scenarios on the simulator, %d failed, %d steps passed, %d "
          "hotswapctl calls, %.1f s" % (ran, len(failed), steps, calls,
                                        time.monotonic() - t_all))
    if not failed and not args.log:
        shutil.rmtree(logdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
