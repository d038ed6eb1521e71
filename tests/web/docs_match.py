#!/usr/bin/env python3
# docs_match.py - docs/web.md, docs/redfish.md and docs/metrics.md say
# what hotswapd serves (issue #16: "exist and match what the daemon
# serves").  Reads the tables in the three documents and asks a running
# daemon on the simulator:
#   - metrics.md: the metric families it lists are exactly those /metrics
#     exposes (names and, where the table says, label names);
#   - redfish.md: every URI of its resource table answers 200 with the
#     @odata.type the table gives (version included), and the PCIeDevice
#     and PCIeFunction properties it documents are served;
#   - web.md: every GET route of its REST table answers 200; every POST
#     route exists (GET on it is 405 with POST in Allow, where an unknown
#     path is 404).
# A route, type, property or metric added or renamed on one side only
# fails here.
#
# usage: docs_match.py BUILD_DIR SOURCE_DIR
# SPDX-License-Identifier: BSD-2-Clause
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hsd import Checks, Daemon  # noqa: E402

build, src = sys.argv[1], sys.argv[2]
t = Checks("web docs")
ok = t.ok


def doc(name):
    with open(os.path.join(src, "docs", name)) as f:
        return f.read()


def table_rows(text, header):
    """The rows (lists of cells) of the markdown table whose header line
    starts with `header`."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header):
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip("|").split("|")])
            return rows
    raise SystemExit("docs: no table starting %r" % header)


def ticked(cell):
    return re.findall(r"`([^`]*)`", cell)


d = Daemon(build, src)
try:
    # ---- metrics.md ---------------------------------------------------------
    text = doc("metrics.md")
    documented = {}
    for line in text.splitlines():
        m = re.match(r"\| `(hotswap_[a-z_]+)(?:\{([a-z_,]*)\})?`", line)
        if m:
            documented[m.group(1)] = set(filter(None, (m.group(2) or "").split(",")))
    st, _, body, _ = d.request("GET", "/metrics")
    ok(st == 200, "/metrics answers", str(st))
    served = {}
    for line in body.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            served[m.group(1)] = set()
    for line in body.splitlines():
        m = re.match(r"(hotswap_[a-z_]+?)(_bucket|_sum|_count)?(\{[^}]*\})? ", line)
        if not m or line.startswith("#"):
            continue
        fam = m.group(1) if m.group(1) in served else m.group(1) + (m.group(2) or "")
        if fam in served and m.group(3):
            served[fam] |= set(re.findall(r'([a-z_]+)="', m.group(3))) - {"le"}
    ok(set(documented) == set(served),
       "metrics.md lists exactly the %d families /metrics serves" % len(served),
       "only documented: %s; only served: %s" % (
           sorted(set(documented) - set(served)),
           sorted(set(served) - set(documented))))
    # The per-slot gauges carry the labels the doc's introduction names.
    slot_labels = {"slot", "kind", "controller"}
    for name, labels in sorted(documented.items()):
        if name not in served or not labels:
            continue
        extra = labels - served[name] - slot_labels
        ok(not extra, "%s: the labels metrics.md names are served" % name,
           "documented %s, served %s" % (sorted(labels), sorted(served[name])))

    # ---- redfish.md ---------------------------------------------------------
    text = doc("redfish.md")
    st, slots, _, _ = d.request("GET", "/api/v1/slots")
    ok(st == 200 and slots, "the slot list for the Redfish ids", str(st))
    # A PCIe slot with a card: Slot.PCIeType and Slot.Lanes are served
    # only there (redfish.md), and its functions are fetched below.
    with_card = [s for s in slots if s.get("devices") and s["kind"] == "pcie"]
    ok(with_card, "a PCIe slot with a card to fetch PCIeFunctions from")
    sname = with_card[0]["slot"]
    conv = [s for s in slots if s.get("devices") and s["kind"] != "pcie"]
    if conv:
        st, j, _, _ = d.request("GET", "/redfish/v1/Chassis/1/PCIeDevices/Slot"
                                + conv[0]["slot"])
        ok(st == 200 and "PCIeType" not in j["Slot"] and "Lanes" not in j["Slot"],
           "a conventional slot has no PCIeType or Lanes, as documented",
           str(j and j.get("Slot")))
    base = "/redfish/v1/Chassis/1/PCIeDevices/Slot" + sname
    for row in table_rows(text, "| URI |"):
        uri = ticked(row[0])[0]
        typ = ticked(row[1])
        uri = uri.replace(".../SlotN", base).replace("SlotN", "Slot" + sname)
        uri = uri.replace("PCIeFunctions/K", "PCIeFunctions/0")
        st, j, _, _ = d.request("GET", uri)
        if not typ:
            ok(st == 200, "%s answers" % uri, str(st))
            continue
        ok(st == 200 and j and j.get("@odata.type") == typ[0],
           "%s is %s" % (uri, typ[0]),
           "%s %s" % (st, j and j.get("@odata.type")))
    st, dev, _, _ = d.request("GET", base)
    dev_props = [ticked(r[0]) for r in table_rows(text, "| property | from |")]
    for names in dev_props:
        for name in names:
            v = dev
            for part in name.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            ok(v is not None, "PCIeDevice %s is served, as documented" % name)
    st, fn, _, _ = d.request("GET", base + "/PCIeFunctions/0")
    sect = text[text.index("### PCIeFunction"):text.index("## Writes")]
    for name in ticked(sect):
        if not re.fullmatch(r"[A-Z][A-Za-z.]+", name):
            continue  # a value such as `0x`, not a property
        v = fn
        for part in name.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        if name == "Oem.Hotswap":
            ok(v is not None, "PCIeFunction %s is served" % name)
            for sub in ("Address", "Driver", "Blocked"):
                ok(isinstance(v, dict) and sub in v,
                   "PCIeFunction Oem.Hotswap.%s is served" % sub)
        elif name in ("Address", "Driver", "Blocked"):
            continue  # Oem.Hotswap's members, checked above
        else:
            ok(v is not None, "PCIeFunction %s is served, as documented" % name)

    # ---- web.md -------------------------------------------------------------
    text = doc("web.md")
    st, devs, _, _ = d.request("GET", "/api/v1/devices")
    ok(st == 200 and devs, "the device list for the REST routes", str(st))
    dname = devs[0]["bdf"]
    st, _, _, _ = d.request("GET", "/api/v1/no-such-route")
    ok(st == 404, "an unknown route is 404 (what the POST check below tells apart)",
       str(st))
    for row in table_rows(text, "| route | method |"):
        routes = ticked(row[0])
        method = row[1]
        first = routes[0]
        paths = [first] + [first.rsplit("/", 1)[0] + "/" + r for r in routes[1:]]
        for p in paths:
            p = p.split("?")[0].replace("NAME", dname if "/devices/" in p else sname)
            if method == "GET":
                if p.endswith("/stream"):
                    continue  # an endless stream: web_api reads it
                st, _, _, _ = d.request("GET", p)
                ok(st == 200, "GET %s answers 200, as web.md says" % p, str(st))
            else:
                st, _, _, r = d.request("GET", p)
                ok(st == 405 and method in (r.getheader("Allow") or ""),
                   "%s %s exists (GET is 405, Allow: %s)" % (method, p, method),
                   "%s Allow=%s" % (st, r.getheader("Allow")))
finally:
    rc, out = d.stop()
    d.cleanup()
    ok(rc == 0, "hotswapd stopped cleanly", out[-2000:] if rc else "")
sys.exit(t.done())
