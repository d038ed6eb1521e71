#!/usr/bin/env python3
"""mutate.py - mutation testing: does the test suite notice a broken feature?

usage: mutate.py [--build DIR] [--only SUBSTR[,SUBSTR...]] [--list]
                 [--jobs N] [--timeout SECONDS]

Each mutant below is one realistic bug planted in the source: an exact
snippet of core/, controllers/, service/ or platforms/sim/ (the
simulator) replaced by a slightly wrong one (an off-by-one, a forgotten
step, an inverted test, a wrong constant), with the ctest tests expected
to catch it.  One at a time: the snippet is replaced, the tests' targets
are rebuilt in the build tree (make mutate: build/asan), those tests run,
and the source is restored byte for byte.  A mutant is CAUGHT when a test
fails, SURVIVED when they all pass (a hole in the tests: strengthen them),
INVALID when it does not build or its snippet is no longer in the file
(update the mutant).  The table and totals are printed at the end; the
exit status is 1 unless every mutant was caught.

The sources are restored after each mutant, on Ctrl-C and on SIGTERM; a
copy of the file being mutated is kept in BUILD/mutate-backup/ while it
is, and restored at the next start if a run was killed outright.  Before
the first mutant, the selected tests must pass on the untouched source.

Not part of make check or CI (minutes, not seconds); docs/testing.md.

SPDX-License-Identifier: BSD-2-Clause
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ctest names whose programs are not named after them: what to rebuild.
TARGETS = {
    "service_e2e": ["hotswapd", "hotswapctl"],
    "hotswapctl_views": ["hotswapd", "hotswapctl"],
    "random_regressions": ["test_random"],
    "access_budget": ["hotswap-bench-access"],
    "service_hostile_clients": ["hotswapd"],
    "service_cfgadm": ["hotswapd", "hotswapctl"],
}


class M:
    """One mutant: in FILE, OLD (exactly once) becomes NEW."""

    def __init__(self, name, path, old, new, tests, why):
        self.name, self.path, self.old, self.new = name, path, old, new
        self.tests, self.why = tests, why


MUTANTS = [
    # ---- core/ ----------------------------------------------------------
    M("core-disable-keeps-bme", "core/hs_resource.c",
      "\ths_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2, 0);\n}",
      "\tuint32_t cmd = 0;\n\n"
      "\tcore->plat->ops->cfg_read(core->plat->ctx, d->bdf, PCI_COMMAND, 2,"
      " &cmd);\n"
      "\ths_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2,"
      " cmd & ~(uint32_t)(CMD_IO | CMD_MEM));\n}",
      ["test_quiet_after_removal"],
      "a removed or blocked function keeps Bus Master Enable"),
    M("core-swizzle-off-by-one", "core/hs_resource.c",
      "pin = (HS_BDF_DEV(at->bdf) + pin - 1) % 4 + 1;",
      "pin = (HS_BDF_DEV(at->bdf) + pin) % 4 + 1;",
      ["test_intx_swizzle"],
      "INTx swizzle without the -1 (PCI-to-PCI Bridge 9.1)"),
    M("core-swizzle-stops-below-root", "core/hs_resource.c",
      "\twhile (at->parent) {\n\t\tpin =",
      "\twhile (at->parent && at->parent->parent) {\n\t\tpin =",
      ["test_intx_swizzle"],
      "the swizzle skips the last bridge above the root bus"),
    M("core-fit-exact-end-refused", "core/hs_range.c",
      "if (c[t] < cur || c[t] > ge - size)",
      "if (c[t] < cur || c[t] >= ge - size)",
      ["test_range", "test_window_fit", "test_enum"],
      "a BAR ending exactly at the window's end does not fit"),
    M("core-fit-ignores-alignment", "core/hs_range.c",
      "c[0] = hs_align_up(cur, align);",
      "c[0] = cur;",
      ["test_range", "test_window_fit", "test_mirror"],
      "hot-add placement forgets BAR alignment"),
    M("core-fit-mirror-never-lower", "core/hs_range.c",
      "\t\t\tfor (int t = 0; t < 4; t++) {",
      "\t\t\tfor (int t = 0; t < 2; t++) {",
      ["test_range", "test_mirror"],
      "the end-aligned (mirrored) window is not taken when it is lower"),
    M("core-bridge-not-master", "core/hs_resource.c",
      "\t\t * children's DMA and MSIs. */\n"
      "\t\tcmd |= CMD_IO | CMD_MEM | CMD_MASTER;",
      "\t\t * children's DMA and MSIs. */\n"
      "\t\tcmd |= CMD_IO | CMD_MEM;",
      ["test_quiet_after_removal", "test_slot_scenarios"],
      "bridges programmed without Bus Master: no DMA or MSI from below"),
    M("core-blocked-may-master", "core/hs_driver.c",
      "if (on && (d->flags & DEV_BLOCKED))",
      "if (on && (d->flags & DEV_BLOCKED) && !on)",
      ["test_authorize"],
      "a blocked (unauthorized) function may turn on bus mastering"),
    M("core-blocked-decodes", "core/hs_resource.c",
      "\tif (d->flags & DEV_BLOCKED)\n\t\tcmd = 0;",
      "\tif (d->flags & DEV_BLOCKED)\n\t\tcmd &= ~(uint16_t)CMD_MASTER;",
      ["test_authorize"],
      "a blocked function is programmed with decode on"),
    M("core-moved-command-lost", "core/hs_rebalance.c",
      "\treturn hs_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2, cmd);\n}\n\n"
      "/*\n * Read back",
      "\treturn hs_txn_cfg_write(core, d->bdf, PCI_COMMAND, 2, 0);\n}\n\n"
      "/*\n * Read back",
      ["test_rebalance"],
      "a device moved by a rebalance comes back with decode off"),
    M("core-undo-skips-config", "core/hs_txn.c",
      "\t\tcase TXN_CFG: {\n\t\t\tuint32_t now;\n",
      "\t\tcase TXN_CFG: if (p) break; {\n\t\t\tuint32_t now;\n",
      ["test_txn", "test_enum"],
      "a rolled-back transaction leaves its register writes in place"),
    M("core-bar-size-mem32", "core/hs_scan.c",
      "\t\t\tb->size = (uint32_t)(~(mask & ~0xfu) + 1);",
      "\t\t\tb->size = (uint32_t)(~(mask & ~0xfu) + 1) >> 1;",
      ["test_enum", "test_window_fit"],
      "32-bit memory BARs sized at half what their mask says"),
    M("core-rebalance-count-lost", "core/hs_rebalance.c",
      "\tif (rc == 0) {\n\t\tnr->restored++;",
      "\tif (rc == 0) {\n\t\t(void)nr;",
      ["test_rebalance"],
      "rebalance now does not count the slots it gave room back"),
    M("core-surprise-not-gone", "core/hs_driver.c",
      "\t\t     d = slot_next(br, devnum, d))\n"
      "\t\t\td->flags |= DEV_GONE;",
      "\t\t     d = slot_next(br, devnum, d))\n"
      "\t\t\t(void)d;",
      ["test_quiet_after_removal", "test_slot_scenarios"],
      "a surprise-removed card is not marked gone: drivers touch it"),
    M("core-connect-configures", "core/hs_slot_table.c",
      "\t\tif (s->to_connected)\n\t\t\tconnected_step(s);\n"
      "\t\telse\n\t\t\tconfig_step(s, id);",
      "\t\tconfig_step(s, id);",
      ["test_slot_scenarios"],
      "cfgadm's connect configures the card as well"),
    M("core-unconfigure-powers-off", "core/hs_slot_table.c",
      "\t\tif (s->to_connected) {\n"
      "\t\t\t/* Unconfigured: power and link stay (cfgadm). */\n"
      "\t\t\tconnected_step(s);\n\t\t\treturn;\n\t\t}",
      "",
      ["test_slot_scenarios"],
      "unconfigure powers the slot off, as disable does"),
    M("core-remove-refused-with-writer", "core/hs_driver.c",
      "\tif (core->in_txn && !pending && !core->rebalancing) {",
      "\tif (0 && core->in_txn && !pending && !core->rebalancing) {",
      ["test_slot_scenarios", "test_cov_core"],
      "a removal finding a writer's transaction is refused, not queued"),

    # ---- controllers/ ---------------------------------------------------
    M("cpcihp-led-not-lit-before-power-off", "controllers/cpcihp.c",
      "\t\tif (cmd->power_ind != HS_KEEP)\n\t\t\tset_led(c, n, s->lit);\n"
      "\t\tif (c->ha) {",
      "\t\tif (c->ha) {",
      ["test_cpcihp"],
      "the blue LED is not lit before a high-availability slot powers "
      "off"),
    M("cpcihp-led-inverted", "controllers/cpcihp.c",
      "\t\ts->lit = cmd->power_ind == HS_IND_OFF;",
      "\t\ts->lit = cmd->power_ind != HS_IND_OFF;",
      ["test_cpcihp", "test_slot_scenarios"],
      "blue LED lit while the board is in use"),
    M("cpcihp-ha-power-never-off", "controllers/cpcihp.c",
      "\treturn ha_wr(c, HS_HA_SLOT(n), r | (on ? HS_HA_PWR_EN : 0));",
      "\treturn ha_wr(c, HS_HA_SLOT(n), r | HS_HA_PWR_EN);",
      ["test_cpcihp"],
      "a high-availability slot is never switched off"),
    M("pciehp-no-link-disable", "controllers/pciehp.c",
      "\t\t\t      : p->lnkctl | HS_LNKCTL_LD;",
      "\t\t\t      : p->lnkctl;",
      ["test_pcie_slot", "test_slot_scenarios"],
      "the link is not disabled before the slot powers off"),
    M("pciehp-indicator-codes", "controllers/pciehp.c",
      "\treturn ind == HS_IND_ON ? 1 : ind == HS_IND_BLINK ? 2 : 3;\n}\n\n"
      "static int px_command",
      "\treturn ind == HS_IND_ON ? 1 : ind == HS_IND_BLINK ? 3 : 2;\n}\n\n"
      "static int px_command",
      ["test_pcie_slot", "test_slot_scenarios"],
      "PCIe indicator control: blink and off swapped (PCIe Base 7.5.3.10)"),
    M("pciehp-power-inverted", "controllers/pciehp.c",
      "now = c->power ? now & ~HS_SLTCTL_PCC : now | HS_SLTCTL_PCC;",
      "now = c->power ? now | HS_SLTCTL_PCC : now & ~HS_SLTCTL_PCC;",
      ["test_pcie_slot", "test_slot_scenarios"],
      "Power Controller Control written the wrong way round"),
    M("pciehp-button-interrupt-off", "controllers/pciehp.c",
      "\t\t     (p->sltcap & (HS_SLTCAP_ABP | HS_SLTCAP_PCP |",
      "\t\t     (p->sltcap & (HS_SLTCAP_PCP |",
      ["test_pcie_slot", "test_slot_scenarios"],
      "Attention Button Pressed Enable left off: presses go unnoticed"),
    M("shpchp-wrong-target", "controllers/shpchp.c",
      "if ((rc = wr(h, HS_SHPC_COMMAND, code | (slot + 1) << 8))) {",
      "if ((rc = wr(h, HS_SHPC_COMMAND, code | slot << 8))) {",
      ["test_shpchp", "test_slot_scenarios"],
      "SHPC slot operations aimed at the wrong slot (targets count from 1)"),
    M("shpchp-attn-in-power-field", "controllers/shpchp.c",
      "\tcode |= ind_code(c->attn_ind) << 4;",
      "\tcode |= ind_code(c->attn_ind) << 2;",
      ["test_shpchp", "test_slot_scenarios"],
      "SHPC attention indicator written into the power indicator field"),

    # ---- platforms/sim/ (the simulator) ---------------------------------
    M("sim-swizzle-off-by-one", "platforms/sim/fabric.c",
      "pin = ((unsigned)(at->devfn >> 3) + pin - 1) % 4 + 1;",
      "pin = ((unsigned)(at->devfn >> 3) + pin - 1) % 4;",
      ["test_intx_swizzle"],
      "the simulated bridges swizzle INTx wrongly"),
    M("sim-dma-ignores-function-bme", "platforms/sim/fabric.c",
      "if (!sim_fn_alive(fn) || !(dec_of(fn)->cmd & CMD_MASTER))",
      "if (!sim_fn_alive(fn))",
      ["test_fabric", "test_quiet_after_removal"],
      "a function without Bus Master Enable can still DMA"),
    M("sim-dma-ignores-bridge-bme", "platforms/sim/fabric.c",
      "if (!sim_fn_alive(br) || !(dec_of(br)->cmd & CMD_MASTER))",
      "if (!sim_fn_alive(br))",
      ["test_fabric"],
      "bridges forward DMA upstream without Bus Master Enable"),
    M("sim-w1c-ignored", "platforms/sim/cfgspace.c",
      "\t\td = (uint8_t)(d & ~(b & w1c));",
      "\t\td = (uint8_t)(d & ~(0 & w1c));",
      ["test_cfgspace", "test_pcie_slot"],
      "write-1-to-clear status bits never clear"),
    M("sim-regblock-write-all-lanes", "platforms/sim/regblock.c",
      "\t\t\twm |= 0xffu << (8 * b);",
      "\t\t\twm = 0xffffffffu;",
      ["test_shpc", "test_cpci"],
      "a narrow MMIO write also writes the other bytes of its dword"),
    M("sim-regblock-w1c-by-zero", "platforms/sim/regblock.c",
      "\tcur &= ~(val & wm & w1c);",
      "\tcur &= ~(~val & wm & w1c);",
      ["test_shpc", "test_cpci", "test_cpcihp"],
      "device registers' write-1-to-clear bits clear on 0, not 1"),
    M("sim-bar-decode-one-past-end", "platforms/sim/fabric.c",
      "if (addr >= r[k].base && addr - r[k].base < r[k].size) {",
      "if (addr >= r[k].base && addr - r[k].base <= r[k].size) {",
      ["test_fabric"],
      "a BAR also claims the byte after its end"),
    M("sim-blue-led-ignores-loo", "platforms/sim/sim.c",
      "\t\ti->blue_led = !s->powered ||",
      "\t\ti->blue_led = !s->powered &&",
      ["test_cpcihp", "test_cpci", "test_slot_scenarios"],
      "the simulated board's blue LED does not follow LOO"),
    M("sim-intx-disable-ignored", "platforms/sim/fabric.c",
      "if (level && ((command(fn) & CMD_INTX_DIS) || !sim_fn_alive(fn)))",
      "if (level && !sim_fn_alive(fn))",
      ["test_fabric"],
      "Interrupt Disable does not mask INTx"),

    M("sim-topology-mem64-at-last-bar", "platforms/sim/topology.c",
      "if (b->type == SIM_BAR_MEM64 && *index + 1 >= nbars) {",
      "if (b->type == SIM_BAR_MEM64 && *index + 1 > nbars) {",
      ["test_topology"],
      "a chassis file with a 64-bit BAR at index 5 is accepted"),

    # ---- service/ -------------------------------------------------------
    M("policy-first-match-skipped", "service/policy.c",
      "\tfor (i = 0; i < p->n; i++) {\n\t\tif (matches(&p->rules[i], card))"
      " {",
      "\tfor (i = 1; i < p->n; i++) {\n\t\tif (matches(&p->rules[i], card))"
      " {",
      ["test_policy"],
      "the first rule of the policy is never consulted"),
    M("policy-class-prefix", "service/policy.c",
      "unsigned shift = 4 * (6 - r->class_digits);",
      "unsigned shift = 4 * (5 - r->class_digits);",
      ["test_policy"],
      "class rules compare the wrong digits"),
    M("policy-slot-ignored", "service/policy.c",
      "\t\tif (!c->slot)\n\t\t\treturn false;",
      "\t\tif (!c->slot)\n\t\t\treturn true;",
      ["test_policy"],
      "a slot rule matches a card that is in no slot"),
    M("report-nines", "service/report.c",
      "\t\tn9 = -log10(1.0 - avail);",
      "\t\tn9 = -log10(avail);",
      ["test_report"],
      "the availability report's nines computed from the wrong term"),
    M("report-replacement-not-counted", "service/report.c",
      "\t\t\tif (u->replaced)\n\t\t\t\treplacements++;",
      "\t\t\tif (u->replaced)\n\t\t\t\t(void)replacements;",
      ["test_report"],
      "replacements missing from the report"),
    M("db-trim-keeps-everything", "service/db.c",
      "\tif (keep)\n\t\tsqlite3_bind_int64(st, 1, (int64_t)keep);",
      "\tif (keep)\n\t\tsqlite3_bind_int64(st, 1, (int64_t)keep * 2);",
      ["test_db"],
      "the event history keeps twice what history_keep says"),
    M("server-trailing-nul-accepted", "service/server.c",
      "if ((nul = memchr(line, '\\0', len))) {",
      "if ((nul = memchr(line, '\\0', len - 1))) {",
      ["service_hostile_clients"],
      "a request ending in a NUL byte is not a parse error"),
    M("methods-blocked-filter-inverted", "service/methods.c",
      "\t\tif (!only_blocked || v.blocked)",
      "\t\tif (!only_blocked || !v.blocked)",
      ["service_e2e"],
      "device.list {blocked: true} lists the allowed functions"),
    M("agents-query-remove-action", "service/agents.c",
      "strdup(\"ACTION=query-remove\")",
      "strdup(\"ACTION=remove\")",
      ["test_agents"],
      "query-remove agents are told ACTION=remove"),
    M("daemon-connected-forgotten", "service/daemon.c",
      "\telse if (to == HS_SLOT_CONNECTED)\n\t\tv = \"connected\";\n",
      "",
      ["service_cfgadm"],
      "a slot left connected comes back configured after a restart"),
]


class Restorer:
    """Puts the original bytes back, whatever happens."""

    def __init__(self, backup_dir):
        self.backup_dir = backup_dir
        self.path = None
        self.data = None

    def arm(self, path, data):
        os.makedirs(self.backup_dir, exist_ok=True)
        with open(os.path.join(self.backup_dir, "path"), "w") as f:
            f.write(path)
        with open(os.path.join(self.backup_dir, "data"), "wb") as f:
            f.write(data)
        self.path, self.data = path, data

    def restore(self):
        if self.path is None:
            return
        with open(self.path, "wb") as f:
            f.write(self.data)
        self.path = self.data = None
        shutil.rmtree(self.backup_dir, ignore_errors=True)

    def recover(self):
        """A run killed outright left a file mutated: put it back."""
        p = os.path.join(self.backup_dir, "path")
        if not os.path.exists(p):
            return
        with open(p) as f:
            path = f.read()
        with open(os.path.join(self.backup_dir, "data"), "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        print(f"mutate: restored {os.path.relpath(path, SRC)} left mutated "
              "by an interrupted run")


def targets_of(tests):
    out = []
    for t in tests:
        for x in TARGETS.get(t, [t]):
            if x not in out:
                out.append(x)
    return out


CHILD = None  # the running build or ctest, in a process group of its own


def run(cmd, log):
    global CHILD
    CHILD = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    rc = CHILD.wait()
    CHILD = None
    return rc == 0


def kill_child():
    if CHILD is not None:
        try:
            os.killpg(CHILD.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        CHILD.wait()


def build(bdir, targets, jobs, log):
    return run(["cmake", "--build", bdir, "-j", str(jobs), "--target"]
               + targets, log)


def run_tests(bdir, tests, timeout, log):
    """True when every test passed.  A test that hangs past timeout fails
    (ctest kills it): a mutant that hangs the suite is caught."""
    regex = "^(" + "|".join(tests) + ")$"
    return run(["ctest", "--test-dir", bdir, "-R", regex, "--timeout",
                str(timeout), "--stop-on-failure"], log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build", "asan"),
                    help="configured build tree (default build/asan)")
    ap.add_argument("--only", default="",
                    help="comma-separated substrings of mutant names")
    ap.add_argument("--list", action="store_true",
                    help="list the mutants and their tests, run nothing")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=120,
                    help="per-test timeout in seconds (default 120; the "
                    "slowest selected test, test_rebalance, takes ~20)")
    a = ap.parse_args()

    sel = MUTANTS
    if a.only:
        keys = [k for k in a.only.split(",") if k]
        sel = [m for m in MUTANTS if any(k in m.name for k in keys)]
        if not sel:
            sys.exit(f"mutate: no mutant matches --only {a.only}")
    names = [m.name for m in MUTANTS]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"mutate: duplicate mutant names: {', '.join(sorted(dup))}")
    if a.list:
        for m in sel:
            print(f"{m.name:40} {m.path:28} {','.join(m.tests)}\n"
                  f"{'':40} {m.why}")
        print(f"{len(sel)} mutants")
        return 0

    bdir = os.path.abspath(a.build)
    if not os.path.exists(os.path.join(bdir, "CTestTestfile.cmake")):
        sys.exit(f"mutate: {bdir} is not a configured build tree with "
                 "tests (make mutate configures build/asan)")
    rest = Restorer(os.path.join(bdir, "mutate-backup"))
    rest.recover()

    def on_signal(signum, frame):
        kill_child()
        rest.restore()
        print(f"\nmutate: stopped by signal {signum}; sources restored")
        sys.exit(130)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    logpath = os.path.join(bdir, "mutate.log")
    log = open(logpath, "w")
    t_start = time.monotonic()

    # The tests must pass on the untouched source first.
    all_tests = []
    for m in sel:
        all_tests += [t for t in m.tests if t not in all_tests]
    print(f"mutate: baseline: building and running {len(all_tests)} tests "
          f"in {bdir} (log: {logpath})", flush=True)
    if not build(bdir, targets_of(all_tests), a.jobs, log):
        sys.exit(f"mutate: the unmutated tree does not build (see {logpath})")
    if not run_tests(bdir, all_tests, a.timeout, log):
        sys.exit(f"mutate: a selected test fails without any mutant "
                 f"(see {logpath})")

    results = []
    try:
        for i, m in enumerate(sel, 1):
            path = os.path.join(SRC, m.path)
            t0 = time.monotonic()
            with open(path, "rb") as f:
                data = f.read()
            text = data.decode()
            n = text.count(m.old)
            print(f"[{i}/{len(sel)}] {m.name} ({m.path}): ", end="",
                  flush=True)
            log.write(f"\n==== {m.name} ({m.path}) ====\n")
            log.flush()
            if n != 1:
                res = "INVALID"
                note = (f"snippet found {n} times (must be once): update "
                        "the mutant")
            else:
                rest.arm(path, data)
                with open(path, "wb") as f:
                    f.write(text.replace(m.old, m.new).encode())
                if not build(bdir, targets_of(m.tests), a.jobs, log):
                    res, note = "INVALID", "does not build"
                elif run_tests(bdir, m.tests, a.timeout, log):
                    res, note = "SURVIVED", "every test passed"
                else:
                    res, note = "caught", ""
                rest.restore()
            dt = time.monotonic() - t0
            print(f"{res} ({dt:.0f} s){': ' + note if note else ''}",
                  flush=True)
            results.append((m, res, dt, note))
    finally:
        rest.restore()

    # Leave the build tree built from the real source.
    print("mutate: rebuilding the tests' targets from the restored source",
          flush=True)
    build(bdir, targets_of(all_tests), a.jobs, log)
    log.close()

    caught = sum(1 for r in results if r[1] == "caught")
    survived = [r for r in results if r[1] == "SURVIVED"]
    invalid = [r for r in results if r[1] == "INVALID"]
    w = max(len(m.name) for m in sel)
    print()
    print(f"{'mutant':{w}}  {'result':8}  {'time':>5}  tests")
    for m, res, dt, note in results:
        print(f"{m.name:{w}}  {res:8}  {dt:4.0f}s  {','.join(m.tests)}")
    total = time.monotonic() - t_start
    print(f"\n{len(results)} mutants: {caught} caught, {len(survived)} "
          f"survived, {len(invalid)} invalid "
          f"({100.0 * caught / max(len(results), 1):.0f}% caught) "
          f"in {total / 60:.1f} min")
    for m, res, dt, note in survived + invalid:
        print(f"  {res}: {m.name} ({m.path}): {m.why}; {note}")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
