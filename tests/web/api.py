#!/usr/bin/env python3
# api.py - hotswapd's HTTP endpoint: REST routes, access control, bad
# input on every route, the event stream, Redfish resources (required
# properties and types) and PATCH flows, /metrics through promtool; slots
# in every state as Redfish and /metrics show them, every wrong PATCH
# body; a web_dir of the operator's choosing.
#
# usage: api.py BUILD_DIR SOURCE_DIR
# SPDX-License-Identifier: BSD-2-Clause
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hsd import Checks, Daemon  # noqa: E402

build, src = sys.argv[1], sys.argv[2]
t = Checks("web api")


def stopped_clean(d, what="hotswapd stopped cleanly"):
    """Stop the daemon: it exits 0 and its log has no sanitizer report."""
    rc, log = d.stop()
    t.ok(rc == 0, what, log[-2000:])
    t.ok("ERROR: AddressSanitizer" not in log and "runtime error" not in log,
         "no sanitizer report", log[-3000:])
    d.cleanup()


d = Daemon(build, src)
ok = t.ok
try:
    # ---- access ------------------------------------------------------------
    mode = os.stat(os.path.join(d.run, "http.token")).st_mode & 0o777
    ok(mode == 0o640, "token file is mode 0640", oct(mode))
    ok(re.fullmatch(r"[0-9a-f]{64}", d.token), "token is 256 random bits")
    st, j, _, r = d.request("GET", "/api/v1/slots", token=False)
    ok(st == 401 and j["error"]["code"] == "unauthorized" and
       r.getheader("WWW-Authenticate", "").startswith("Bearer"),
       "reading without the token is refused (read_only_others = no)")
    st, j, _, _ = d.request("GET", "/api/v1/slots", token="0" * 64)
    ok(st == 401 and "wrong token" in j["error"]["message"],
       "a wrong token is refused and said so", str(j))
    st, j, _, _ = d.request("GET", "/api/v1/slots",
                            headers={"Cookie": "hotswap_token=" + d.token},
                            token=False)
    ok(st == 200 and isinstance(j, list), "the cookie carries the token for reads")
    st, j, _, _ = d.request("POST", "/api/v1/slots/2/attention",
                            {"indicator": "blink"}, token=False,
                            headers={"Cookie": "hotswap_token=" + d.token})
    ok(st == 401, "the cookie never authorizes a write (no CSRF)", str(st))
    st, _, text, r = d.request("GET", "/", token=False)
    ok(st == 200 and "<title>hotswap" in text and
       r.getheader("Content-Type").startswith("text/html"),
       "the page itself is served without a token")
    st, j, _, _ = d.request("GET", "/api/v1/status", headers={"Host": "evil.example:%d" % d.port})
    ok(st == 421 and "loopback" in j["error"]["message"],
       "on loopback another host name is refused (DNS rebinding)", str(st))
    st, j, _, _ = d.request("GET", "/api/v1/status", headers={"Host": "localhost:%d" % d.port})
    ok(st == 200, "localhost is served")
    st, _, _, _ = d.request("GET", "/static/../etc/passwd", token=False)
    ok(st == 404, "no path outside the web directory", str(st))

    # ---- reads match the socket --------------------------------------------
    st, slots, _, _ = d.request("GET", "/api/v1/slots")
    sock = json.loads(d.ctl("--json", "list").stdout)
    # hotswapctl orders the slots numerically; the API in the daemon's order
    ok(st == 200 and sorted((s["slot"], s["state"]) for s in slots) ==
       sorted((s["slot"], s["state"]) for s in sock),
       "GET /api/v1/slots shows what hotswapctl list shows")
    st, j, _, _ = d.request("GET", "/api/v1/slots/3")
    ok(st == 200 and j["slot"] == "3" and j["devices"], "GET one slot")
    st, j, _, _ = d.request("GET", "/api/v1/devices")
    ok(st == 200 and len(j) > 5, "GET devices")
    name = [x for x in j if x.get("slot") == "3"][0]["name"]
    st, j, _, _ = d.request("GET", "/api/v1/devices/" + name)
    ok(st == 200 and j["name"] == name, "GET one device by name")
    st, j, _, _ = d.request("GET", "/api/v1/status")
    seq0 = j["seq"]
    st, j, _, _ = d.request("GET", "/api/v1/events?limit=5")
    ok(st == 200 and len(j) == 5 and j[-1]["seq"] == seq0,
       "GET events: the newest five")
    before = d.ctl("--json", "list").stdout
    for path in ("/api/v1/slots", "/api/v1/status", "/metrics",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot3"):
        d.request("GET", path)
    ok(d.ctl("--json", "list").stdout == before, "GETs change nothing")
    st, j, _, _ = d.request("GET", "/api/v1/events?after=%d&limit=0" % seq0)
    ok(st == 200 and j == [], "no event was published by the reads", str(j))

    # ---- bad input on every route --------------------------------------------
    for path in ("/nope", "/api/v1/nope", "/api/v1/slots/99", "/api/v1/devices/nope9",
                 "/redfish/v1/Nope", "/redfish/v1/Chassis/2",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot99",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot3/PCIeFunctions/9",
                 "/static/nope.js", "/api/v1/slots/3/nope"):
        st, j, _, _ = d.request("GET", path)
        ok(st == 404 and j and "error" in j, "404 with a JSON error: " + path,
           "%s %s" % (st, j))
    for method, path in (("DELETE", "/api/v1/slots"), ("POST", "/api/v1/status"),
                         ("PUT", "/metrics"), ("GET", "/api/v1/slots/3/add"),
                         ("POST", "/redfish/v1/Chassis"),
                         ("PATCH", "/redfish/v1/Chassis/1/PCIeSlots"),
                         ("POST", "/"), ("GET", "/api/v1/authorize")):
        st, j, _, r = d.request(method, path, {} if method != "GET" else None)
        ok(st == 405 and r.getheader("Allow") and "error" in j,
           "405 with Allow: %s %s" % (method, path), "%s %s" % (st, j))
    # Every Redfish resource: read-only ones refuse writes with 405 and
    # Allow, HEAD answers without a body, a trailing slash is the same
    # resource (DSP0266 6.3).
    slot3 = json.loads(d.ctl("--json", "show", "3").stdout)
    fn = slot3["devices"][0]["bdf"].split(".")[-1] if slot3["devices"] else "0"
    for path in ("/redfish", "/redfish/v1", "/redfish/v1/SessionService/Sessions",
                 "/redfish/v1/Chassis", "/redfish/v1/Chassis/1",
                 "/redfish/v1/Chassis/1/PCIeDevices", "/redfish/v1/Chassis/1/PCIeSlots",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot3/PCIeFunctions",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot3/PCIeFunctions/" + fn):
        st, j, _, r = d.request("DELETE", path)
        ok(st == 405 and r.getheader("Allow") and j and "error" in j,
           "405 with Allow: DELETE " + path, "%s %s" % (st, j))
        st, _, text, _ = d.request("HEAD", path)
        ok(st == 200 and text == "", "HEAD " + path, "%s %r" % (st, text[:80]))
        st, j, _, _ = d.request("GET", path)
        st2, j2, _, _ = d.request("GET", path + "/")
        ok(st == 200 and st2 == 200 and j == j2, "a trailing slash is the same: " + path,
           "%s %s" % (st, st2))
    # The REST routes and the page: HEAD answers without a body, other
    # methods get 405 with Allow; static files with their types.
    bdf3 = slot3["devices"][0]["bdf"] if slot3["devices"] else "0000:00:00.0"
    for path in ("/api/v1/slots", "/api/v1/slots/3", "/api/v1/status",
                 "/api/v1/devices", "/api/v1/devices/" + bdf3, "/api/v1/events",
                 "/metrics", "/"):
        st, _, text, _ = d.request("HEAD", path)
        ok(st == 200 and text == "", "HEAD " + path, "%s %r" % (st, text[:80]))
        st, j, _, r = d.request("DELETE", path)
        ok(st == 405 and r.getheader("Allow"), "405 with Allow: DELETE " + path,
           "%s %s" % (st, j))
    for name, ctype in (("app.js", "text/javascript"), ("style.css", "text/css"),
                        ("index.html", "text/html")):
        st, _, text, r = d.request("GET", "/static/" + name)
        ok(st == 200 and r.getheader("Content-Type").startswith(ctype) and text,
           "/static/%s as %s" % (name, ctype), "%s %s" % (st, r.getheader("Content-Type")))
    for path in ("/static/..%2fweb%2fapp.js", "/static/app", "/static/App.JS",
                 "/static/" + "a" * 300 + ".js"):
        st, j, _, _ = d.request("GET", path)
        ok(st == 404 and j and "error" in j, "404 for a name the page does not ship: "
           + path[:40], "%s %s" % (st, j))
    # Writes: only the bearer scheme with exactly the token.
    for auth in ("Basic " + d.token, "Bearer " + d.token[:-1], "Bearer " + d.token + "0",
                 "Bearer", "bearer " + d.token.upper()):
        st, j, _, _ = d.request("POST", "/api/v1/slots/2/attention",
                                {"indicator": "blink"}, token=False,
                                headers={"Authorization": auth})
        ok(st == 401 and j and j["error"]["code"] == "unauthorized",
           "401 for Authorization: %s..." % auth[:12], "%s %s" % (st, j))
    st, j, _, _ = d.request("POST", "/api/v1/slots/2/attention",
                            raw="x" * (65 * 1024))
    ok(st == 413 and j["error"]["code"] == "too-large", "oversized body: 413")
    for path in ("/api/v1/slots/2/attention", "/api/v1/authorize",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot2"):
        method = "PATCH" if path.startswith("/redfish") else "POST"
        st, j, _, _ = d.request(method, path, raw='{"indicator": ')
        ok(st == 400 and "error" in j, "malformed JSON: 400 on " + path,
           "%s %s" % (st, j))
        st, j, _, _ = d.request(method, path, raw='[1, 2]')
        ok(st == 400, "a body that is not an object: 400 on " + path)
        st, j, _, r = d.request(method, path, {}, token=False)
        ok(st == 401 and r.getheader("WWW-Authenticate"),
           "missing token: 401 on " + path, str(st))
        st, j, _, _ = d.request(method, path, {}, token="f" * 64)
        ok(st == 401, "wrong token: 401 on " + path)
    st, j, _, _ = d.request("POST", "/api/v1/slots/2/attention",
                            {"indicator": "purple"})
    ok(st == 400 and "purple" in j["error"]["message"],
       "bad parameter: 400 naming it")
    st, j, _, _ = d.request("GET", "/api/v1/events?after=abc")
    ok(st == 400 and "after" in j["error"]["message"], "bad query: 400")
    st, j, _, _ = d.request("GET", "/api/v1/events/stream?after=x")
    ok(st == 400, "bad stream start: 400")

    # ---- the event stream ----------------------------------------------------
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    c.request("GET", "/api/v1/events/stream?after=%d" % seq0,
              headers={"Authorization": "Bearer " + d.token})
    sr = c.getresponse()
    ok(sr.status == 200 and sr.getheader("Content-Type") == "text/event-stream",
       "event stream opens")
    d.ctl("sim", "insert", "2", "nic-1port")
    d.ctl("sim", "advance", "1s")     # presence detect settles
    st, j, _, _ = d.request("POST", "/api/v1/slots/2/add", {})
    ok(st == 200 and j["state"] == "on", "POST add brings the card up", str(j))
    seen, buf = [], b""
    while not (any(e["type"] == "driver-bound" for e in seen) and
               any(e.get("to") == "on" for e in seen)):
        try:
            line = sr.fp.readline()
        except OSError:
            break
        if not line:
            break
        if line.startswith(b"data: "):
            seen.append(json.loads(line[6:]))
    ok([e["type"] for e in seen][:1] == ["physical"] and
       any(e["type"] == "slot-state" and e["to"] == "on" for e in seen),
       "the stream carries the insertion, the slot going on, the driver",
       str([e["type"] for e in seen]))
    ok(all(b["seq"] == a["seq"] + 1 for a, b in zip(seen, seen[1:])),
       "stream events are in order, none missing")
    c.close()

    # The power indicator, where the hardware has one (ledctl's habit).
    st, j, _, _ = d.request("POST", "/api/v1/slots/3/power_indicator",
                            {"indicator": "blink"})
    ok(st == 200 and j.get("power_indicator_by") == "operator",
       "POST power_indicator blinks slot 3's", "%s %s" % (st, j))
    st, j, _, _ = d.request("POST", "/api/v1/slots/21/power_indicator",
                            {"indicator": "blink"})
    ok(st >= 400 and "blue" in j.get("error", {}).get("message", ""),
       "a CompactPCI slot's blue LED is refused, saying why",
       "%s %s" % (st, j))

    # ---- Redfish ---------------------------------------------------------------
    def rf(path):
        st, j, _, r = d.request("GET", path)
        ok(st == 200 and r.getheader("OData-Version") == "4.0",
           "Redfish GET " + path, "%s %s" % (st, j))
        return j

    def typed(o, props, what):
        bad = [k for k, ty in props.items()
               if k not in o or not isinstance(o[k], ty)]
        ok(not bad, what + ": required properties with their types",
           "missing/wrong: %s in %s" % (bad, json.dumps(o)[:300]))

    common = {"@odata.id": str, "@odata.type": str, "Id": str, "Name": str}
    root = rf("/redfish/v1/")
    typed(root, dict(common, RedfishVersion=str, Chassis=dict, Links=dict), "ServiceRoot")
    sess = rf(root["Links"]["Sessions"]["@odata.id"])
    ok(sess["Members@odata.count"] == 0, "Links.Sessions resolves (no sessions)")
    ok(re.match(r"#ServiceRoot\.v1_\d+_\d+\.ServiceRoot$", root["@odata.type"]),
       "versioned @odata.type")
    coll = rf("/redfish/v1/Chassis")
    ok(coll["Members@odata.count"] == 1, "one chassis")
    ch = rf(coll["Members"][0]["@odata.id"])
    typed(ch, dict(common, ChassisType=str, PCIeDevices=dict, Status=dict), "Chassis")
    devs = rf(ch["PCIeDevices"]["@odata.id"])
    ok(devs["Members@odata.count"] == len(slots), "one PCIeDevice per slot")
    hex4 = re.compile(r"^0[xX][0-9a-fA-F]{4}$")
    for m in devs["Members"]:
        pd = rf(m["@odata.id"])
        typed(pd, dict(common, Slot=dict, Status=dict,
                       LocationIndicatorActive=bool, ReadyToRemove=bool,
                       PCIeFunctions=dict), "PCIeDevice " + pd["Id"])
        ok(pd["@odata.id"] == m["@odata.id"], "@odata.id is the URI")
        sl = pd["Slot"]
        ok(sl["HotPluggable"] is True and isinstance(sl["SlotType"], str) and
           sl["Location"]["PartLocation"]["LocationType"] == "Slot" and
           isinstance(sl["Location"]["PartLocation"]["LocationOrdinalValue"], int),
           "Slot: HotPluggable, SlotType, PartLocation " + pd["Id"])
        ok(pd["Status"]["State"] in ("Absent", "Enabled", "StandbyOffline",
                                     "Starting", "UnavailableOffline") and
           pd["Status"]["Health"] in ("OK", "Warning", "Critical"),
           "Status values from the enumerations " + pd["Id"])
        fns = rf(pd["PCIeFunctions"]["@odata.id"])
        for fm in fns["Members"]:
            f = rf(fm["@odata.id"])
            typed(f, dict(common, FunctionId=int, VendorId=str, DeviceId=str,
                          ClassCode=str, SubsystemId=str, SubsystemVendorId=str,
                          BusNumber=str, DeviceNumber=str, FunctionNumber=str,
                          SegmentNumber=str, Enabled=bool), "PCIeFunction")
            ok(hex4.match(f["VendorId"]) and hex4.match(f["DeviceId"]) and
               re.match(r"^0[xX][0-9a-fA-F]{6}$", f["ClassCode"]) and
               re.match(r"^0[xX][0-9a-fA-F]{2}$", f["BusNumber"]),
               "PCIeFunction IDs in the schema's patterns", json.dumps(f)[:200])
    empty = [s for s in slots if not s["adapter"]][0]
    pd = rf("/redfish/v1/Chassis/1/PCIeDevices/Slot" + empty["slot"])
    ok(pd["Status"]["State"] == "Absent", "an empty slot is Absent")
    pd = rf("/redfish/v1/Chassis/1/PCIeDevices/Slot2")
    ok(pd["Status"]["State"] == "Enabled" and pd.get("PCIeType", pd["Slot"].get("PCIeType", "")).startswith("Gen")
       and isinstance(pd["Slot"].get("Lanes"), int),
       "a PCIe slot with its link up has PCIeType and Lanes", json.dumps(pd["Slot"]))
    ps = rf("/redfish/v1/Chassis/1/PCIeSlots")
    ok(len(ps["Slots"]) == len(slots) and ps["@odata.type"].startswith("#PCIeSlots.v1_"),
       "PCIeSlots (deprecated) served, one entry per slot")

    # PATCH: the attention indicator
    P = "/redfish/v1/Chassis/1/PCIeDevices/Slot2"
    st, j, _, _ = d.request("PATCH", P, {"LocationIndicatorActive": True})
    ok(st == 200, "PATCH LocationIndicatorActive", "%s %s" % (st, j))
    # The command reaches the port on the chassis' clock (Command
    # Completed, PCIe Base 6.0 section 6.7.3.2).
    d.ctl("sim", "advance", "100ms")
    ok(rf(P)["LocationIndicatorActive"] is True, "LocationIndicatorActive reads back true")
    ok(json.loads(d.ctl("--json", "show", "2").stdout)["attention"] == "blink",
       "the slot's attention indicator blinks")
    d.request("PATCH", P, {"LocationIndicatorActive": False})
    st, j, _, _ = d.request("PATCH", P, {"Foo": 1})
    ok(st == 400 and "PropertyUnknown" in j["error"]["@Message.ExtendedInfo"][0]["MessageId"],
       "PATCH of an unknown property: PropertyUnknown")
    st, j, _, _ = d.request("PATCH", P, {"ReadyToRemove": "yes"})
    ok(st == 400 and "PropertyValueTypeError" in j["error"]["@Message.ExtendedInfo"][0]["MessageId"],
       "PATCH with a wrong type: PropertyValueTypeError")
    # PATCH: removal vetoed by the storage agent (a mounted filesystem)
    stor = json.loads(d.ctl("--json", "show", "3").stdout)["devices"][0]["name"]
    os.makedirs(os.path.join(d.run, "mounted"), exist_ok=True)
    open(os.path.join(d.run, "mounted", stor), "w").close()
    st, j, _, _ = d.request("PATCH", "/redfish/v1/Chassis/1/PCIeDevices/Slot3",
                            {"ReadyToRemove": True})
    msg = j["error"]["@Message.ExtendedInfo"][0]
    ok(st == 409 and msg["MessageId"] == "Base.1.19.ResourceInUse" and
       "mounted" in msg["Message"], "an agent's veto is a Redfish error with its reason",
       json.dumps(j))
    os.remove(os.path.join(d.run, "mounted", stor))
    st, j, _, _ = d.request("PATCH", "/redfish/v1/Chassis/1/PCIeDevices/Slot3",
                            {"ReadyToRemove": True})
    ok(st == 200 and j["ReadyToRemove"] is True and
       j["Status"]["State"] == "StandbyOffline",
       "ReadyToRemove: true quiesces and powers off", json.dumps(j)[:300])
    st, j, _, _ = d.request("PATCH", "/redfish/v1/Chassis/1/PCIeDevices/Slot3",
                            {"ReadyToRemove": False})
    ok(st == 200 and j["Status"]["State"] == "Enabled", "ReadyToRemove: false brings it back")

    # ---- metrics ---------------------------------------------------------------
    # Traffic through the card in slot 1, so that the drivers' ledger moves.
    net = [x for x in json.loads(d.ctl("--json", "show", "1").stdout)["devices"]
           if x.get("driver")][0]
    d.ctl("sim", "traffic", net["bdf"], "--count", "40")
    # More for the counters and gauges: the NIC blocked and authorized
    # again, then pulled without asking; cfgadm's unconfigure of slot 2
    # (a card taken out of service: a removal), which leaves it
    # connected; a connect refused on an empty slot.
    for verb in ("block", "authorize"):
        p = d.ctl("--yes", verb, net["bdf"])
        ok(p.returncode == 0, "%s %s" % (verb, net["bdf"]), p.stdout + p.stderr)
    d.ctl("sim", "pull", "1", "--surprise")
    d.ctl("sim", "advance", "1s")
    p = d.ctl("--yes", "unconfigure", "2")
    ok(p.returncode == 0, "unconfigure 2", p.stdout + p.stderr)
    p = d.ctl("connect", "5")
    ok(p.returncode == 1 and "empty" in p.stderr, "connect on empty slot 5 is refused",
       p.stdout + p.stderr)
    # Surprise pulls from the other states a card serves or is powered
    # in (connected, and the button's window), and a removal by the
    # button.
    d.ctl("sim", "insert", "5", "nic-1port")
    d.ctl("sim", "advance", "100ms")
    p = d.ctl("connect", "5")
    ok(p.returncode == 0 and "connected" in p.stdout, "connect 5", p.stdout + p.stderr)
    d.ctl("sim", "pull", "5", "--surprise")
    d.ctl("sim", "advance", "100ms")
    d.ctl("sim", "button", "4")
    d.ctl("sim", "advance", "1s")
    d.ctl("sim", "pull", "4", "--surprise")
    d.ctl("sim", "advance", "100ms")
    d.ctl("sim", "button", "3")
    d.ctl("sim", "advance", "6s")
    for slot, want in (("5", "empty"), ("4", "empty"), ("3", "off")):
        got = json.loads(d.ctl("--json", "show", slot).stdout)["state"]
        ok(got == want, "slot %s %s" % (slot, want), got)
    st, _, text, r = d.request("GET", "/metrics")
    ok(st == 200 and r.getheader("Content-Type").startswith("text/plain; version=0.0.4"),
       "/metrics in the text format")
    promtool = shutil.which("promtool")
    if ok(promtool is not None, "promtool is installed"):
        p = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True)
        ok(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
           "promtool check metrics: no problem", p.stdout + p.stderr)
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    ok(vals.get('hotswap_driver_requests_total{outcome="submitted"}', 0) >= 40 and
       vals.get("hotswap_driver_requests_lost_total") == 0,
       "the drivers' ledger: requests submitted through slot 1's card, none lost",
       str({k: v for k, v in vals.items() if "driver_requests" in k}))
    ok(vals.get("hotswap_hot_adds_total", 0) >= 2, "hot-adds counted (slot 2, slot 3 back)",
       str(vals.get("hotswap_hot_adds_total")))
    ok(vals.get("hotswap_removals_total") == 3,
       "three orderly removals counted: slot 3's, slot 2's unconfigure, "
       "slot 3's by the button",
       str(vals.get("hotswap_removals_total")))
    ok(vals.get("hotswap_surprise_removals_total") == 3,
       "surprise pulls counted: slot 1 on, slot 5 connected, slot 4 in its "
       "button window",
       str(vals.get("hotswap_surprise_removals_total")))
    ok(vals.get("hotswap_functions_blocked_total", 0) >= 1 and
       vals.get("hotswap_functions_authorized_total", 0) >= 1,
       "blocking and authorizing counted")
    ok(vals.get('hotswap_refusals_total{reason="other"}', 0) >= 1,
       "the refused connect counted", str({k: v for k, v in vals.items() if "refusals" in k}))
    ok(vals.get('hotswap_slot_state{slot="2",kind="pcie",controller="pcie:0000:00:1c.1",'
                'state="connected"}') == 1, "slot 2's gauge says connected")
    ok(vals.get('hotswap_refusals_total{reason="agent_veto"}') == 1 and
       vals.get("hotswap_agent_vetoes_total") == 1, "the agent's veto counted")
    ok(vals.get("hotswap_hot_add_duration_seconds_count", 0) >= 1 and
       vals.get("hotswap_removal_duration_seconds_count") == 3,
       "latency histograms observed")
    ok(vals.get('hotswap_slot_occupied{slot="2",kind="pcie",controller="pcie:0000:00:1c.1"}') == 1,
       "slot 2 occupied gauge")
finally:
    stopped_clean(d)

# ---- slots in every state, as Redfish and /metrics show them; bad input on
# the edges of each route ------------------------------------------------------
d = Daemon(build, src)
try:
    def show(slot):
        return json.loads(d.ctl("--json", "show", slot).stdout)

    def pdev(slot):
        st, j, _, _ = d.request("GET", "/redfish/v1/Chassis/1/PCIeDevices/Slot" + slot)
        ok(st == 200, "Redfish GET Slot" + slot, "%s %s" % (st, j))
        return j

    def rf_msg(j):
        return ((j or {}).get("error", {}).get("@Message.ExtendedInfo") or [{}])[0]

    # Status.State follows the slot's state (Redfish Resource.State):
    # the button's window on the way up is Starting, a power fault is
    # UnavailableOffline and Critical.
    d.ctl("sim", "button", "4")
    d.ctl("sim", "advance", "6s")
    ok(show("4")["state"] == "off", "slot 4 off by its button")
    d.ctl("sim", "button", "4")
    ok(show("4")["state"] == "blinking-on", "slot 4's button pressed again: blinking-on")
    j = pdev("4")
    ok(j["Status"]["State"] == "Starting" and j["Status"]["Health"] == "OK",
       "a slot in its button window on the way up is Starting", json.dumps(j["Status"]))
    d.ctl("sim", "advance", "6s")
    ok(pdev("4")["Status"]["State"] == "Enabled", "and Enabled once it is on")
    d.ctl("sim", "fault", "4")
    j = pdev("4")
    ok(j["Status"] == {"State": "UnavailableOffline", "Health": "Critical"},
       "a power fault is UnavailableOffline and Critical", json.dumps(j["Status"]))
    ok(j["ReadyToRemove"] is False and "PCIeType" not in j["Slot"],
       "a faulted slot has no link to describe", json.dumps(j["Slot"]))

    # PATCH: every way a body can be wrong, each with its message
    P = "/redfish/v1/Chassis/1/PCIeDevices/Slot%s"
    for body, mid, what in (
            ({"LocationIndicatorActive": "on"}, "PropertyValueTypeError",
             "LocationIndicatorActive as a string"),
            ({"LocationIndicatorActive": 1}, "PropertyValueTypeError",
             "LocationIndicatorActive as a number"),
            ({"ReadyToRemove": None}, "PropertyValueTypeError", "ReadyToRemove null"),
            ({}, "PropertyUnknown", "an empty body"),
            ({"LocationIndicatorActive": True, "ReadyToRemove": True},
             "ActionParameterNotSupported", "both properties at once"),
            ({"LocationIndicatorActive": True, "Id": "x"}, "PropertyUnknown",
             "a read-only property after a writable one")):
        st, j, _, _ = d.request("PATCH", P % "1", body)
        ok(st == 400 and rf_msg(j).get("MessageId", "").endswith("." + mid)
           and rf_msg(j).get("Message"), "PATCH with %s: 400 %s" % (what, mid),
           "%s %s" % (st, j))
    ok(show("1")["attention"] == "off" and show("1")["state"] == "on",
       "no refused PATCH changed slot 1")
    # The hot-plug refusals behind a PATCH, in Redfish's words
    st, j, _, _ = d.request("PATCH", P % "21", {"LocationIndicatorActive": True})
    ok(st == 400 and rf_msg(j).get("MessageId", "").endswith(".PropertyNotWritable")
       and "no attention indicator" in rf_msg(j).get("Message", ""),
       "a CompactPCI slot without an attention indicator: PropertyNotWritable",
       "%s %s" % (st, j))
    st, j, _, _ = d.request("PATCH", P % "5", {"ReadyToRemove": False})
    ok(st == 409 and "empty" in rf_msg(j).get("Message", ""),
       "bringing up an empty slot is refused, saying it is empty", "%s %s" % (st, j))
    st, j, _, _ = d.request("PATCH", P % "99", {"ReadyToRemove": True})
    ok(st == 404 and rf_msg(j).get("MessageId", "").endswith(".ResourceMissingAtURI"),
       "PATCH of a slot that does not exist: 404", "%s %s" % (st, j))
    for method, path, allow in (
            ("PUT", P % "1", "GET, HEAD, PATCH"),
            ("PATCH", "/redfish/v1/Chassis/1", "GET, HEAD"),
            ("PATCH", P % "1" + "/PCIeFunctions/0", "GET, HEAD")):
        st, j, _, r = d.request(method, path, {})
        ok(st == 405 and r.getheader("Allow") == allow and
           rf_msg(j).get("MessageId", "").endswith(".OperationNotAllowed"),
           "%s %s: 405, Allow: %s" % (method, path, allow),
           "%s %s %s" % (st, r.getheader("Allow"), j))
    for path in ("/redfish/v1/Chassis/1x", "/redfish/v1/Chassis/1/PCIeDevices/Slot1/x",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot1/PCIeFunctions/x",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot5/PCIeFunctions/0",
                 "/redfish/v1/Chassis/1/PCIeDevices/Slot99/PCIeFunctions"):
        st, j, _, _ = d.request("GET", path)
        ok(st == 404 and j and "error" in j, "404 with a Redfish error: " + path,
           "%s %s" % (st, j))

    # A function the policy blocked is not Enabled (PCIeFunction.Enabled)
    d.ctl("sim", "insert", "2", "gpu")
    d.ctl("sim", "advance", "100ms")
    p = d.ctl("add", "2")
    ok(p.returncode == 0 and show("2")["devices"][0]["blocked"] is True,
       "a GPU in slot 2 comes up blocked (default_inserted = block)", p.stdout + p.stderr)
    st, _, text, _ = d.request("GET", "/metrics")
    ok(st == 200 and 'hotswap_slot_blocked_functions{slot="2",kind="pcie",'
       'controller="pcie:0000:00:1c.1"} 1\n' in text and
       'hotswap_slot_blocked_functions{slot="1",kind="pcie",'
       'controller="pcie:0000:00:1c.0"} 0\n' in text,
       "/metrics counts slot 2's blocked function, none in slot 1",
       [ln for ln in text.splitlines() if "blocked_functions{" in ln])
    st, fns, _, _ = d.request("GET", P % "2" + "/PCIeFunctions")
    ok(st == 200 and fns["Members@odata.count"] == 1, "slot 2's function listed")
    st, f, _, _ = d.request("GET", fns["Members"][0]["@odata.id"])
    ok(st == 200 and f["Enabled"] is False, "the blocked function is not Enabled",
       json.dumps(f)[:300])
    d.ctl("authorize", "--slot", "2")
    st, f, _, _ = d.request("GET", fns["Members"][0]["@odata.id"])
    ok(st == 200 and f["Enabled"] is True, "and Enabled once authorized")

    # The REST routes' edges
    for path, word in (("/api/v1/events?limit=", "limit"), ("/api/v1/events?limit=3x", "limit"),
                       ("/api/v1/events?after=", "after"),
                       ("/api/v1/events/stream?after=-2", "after"),
                       ("/api/v1/events/stream?after=", "after"),
                       ("/api/v1/events/stream?after=99999999999999999999", "after")):
        st, j, _, _ = d.request("GET", path)
        ok(st == 400 and word in j["error"]["message"], "400 naming %s: %s" % (word, path),
           "%s %s" % (st, j))
    st, j, _, _ = d.request("GET", "/api/v1/events/stream",
                            headers={"Last-Event-ID": "12x"})
    ok(st == 400 and "Last-Event-ID '12x'" in j["error"]["message"],
       "a bad Last-Event-ID: 400 naming the header", "%s %s" % (st, j))
    st, j, _, _ = d.request("GET", "/api/v1/events?slot=2&limit=2")
    ok(st == 200 and len(j) == 2 and all(e.get("slot") == "2" for e in j),
       "GET events of one slot", str(j)[:300])
    last = j[-1]["seq"]
    # A reconnecting browser sends Last-Event-ID: the stream resumes after it.
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    c.request("GET", "/api/v1/events/stream?after=0",
              headers={"Authorization": "Bearer " + d.token,
                       "Last-Event-ID": str(last - 1)})
    sr = c.getresponse()
    first = None
    while sr.status == 200:
        line = sr.fp.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            first = json.loads(line[6:])
            break
    ok(first is not None and first["seq"] == last,
       "Last-Event-ID wins over after: the stream resumes after it", str(first))
    c.close()
    st, j, _, _ = d.request("POST", "/api/v1/slots/1/attention")
    ok(st == 400 and "indicator" in j["error"]["message"],
       "POST attention without a body: 400 naming the missing indicator", "%s %s" % (st, j))
    for path in ("/api/v1/devices/%s/x" % show("1")["devices"][0]["name"],
                 "/api/v1/slots/1/eject", "/api/v1/slots/1/add/x"):
        st, j, _, _ = d.request("POST", path, {})
        ok(st == 404 and j["error"]["code"] == "not-found", "404: POST " + path,
           "%s %s" % (st, j))
    # Host names on loopback: the loopback names are served, anything else
    # (DNS rebinding) refused, a name too long for any host too.
    for host, want in (("127.0.0.1", 200), ("[::1]:%d" % d.port, 200),
                       ("localhost", 200), ("[fe80::1]:80", 421),
                       ("localhost.evil.example", 421), ("a" * 200, 421)):
        st, j, _, _ = d.request("GET", "/api/v1/status", headers={"Host": host})
        ok(st == want, "Host: %s... is %d" % (host[:24], want), "%s %s" % (st, j))
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(("GET /api/v1/status HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n"
               % d.token).encode())
    resp = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        resp += b
    s.close()
    ok(resp.startswith(b"HTTP/1.0 200") or resp.startswith(b"HTTP/1.1 200"),
       "HTTP/1.0 without a Host header is served", resp[:80])

    # /metrics after a slow hot-add
    # A card in slot 6 left 90 s before it is brought up: its hot-add
    # (insertion to driver bound) takes longer than the histogram's
    # largest bucket, 60 s.
    d.ctl("sim", "insert", "6", "nic-1port")
    d.ctl("sim", "advance", "90s")
    p = d.ctl("add", "6")
    ok(p.returncode == 0, "add 6 after 90 s", p.stdout + p.stderr)
    st, _, text, _ = d.request("GET", "/metrics")
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    buckets = sorted((float(re.search(r'le="([^"]+)"', k).group(1).replace("+Inf", "inf")), v)
                     for k, v in vals.items()
                     if k.startswith("hotswap_hot_add_duration_seconds_bucket"))
    n = vals.get("hotswap_hot_add_duration_seconds_count")
    ok(buckets and buckets[-1][0] == float("inf") and buckets[-1][1] == n and
       buckets[-2][1] == n - 1 and vals.get("hotswap_hot_add_duration_seconds_sum", 0) >= 90,
       "a 90 s hot-add is counted only in the +Inf bucket", str(buckets))
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True)
        ok(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
           "promtool check metrics: no problem", p.stdout + p.stderr)
finally:
    stopped_clean(d)

# ---- web_dir of the operator's choosing: the types of what it holds, what
# is not served from it -----------------------------------------------------
import tempfile  # noqa: E402
web = tempfile.mkdtemp(prefix="hotswap-webdir.")
for name, data in (("icon.svg", b"<svg/>"), ("logo.png", b"PNG"),
                   ("readme", b"plain"), ("data.bin", b"\x00\x01"),
                   ("big.js", b"x" * (4 * 1024 * 1024 + 1)), (".hidden", b"h")):
    with open(os.path.join(web, name), "wb") as f:
        f.write(data)
os.mkdir(os.path.join(web, "sub.d"))
d = Daemon(build, src, extra=("--set", "web_dir=" + web))
try:
    d.log.seek(0)
    ok("http: no page in %s (web_dir)" % web in d.log.read(),
       "a web_dir without index.html is warned about at start")
    for name, ctype in (("icon.svg", "image/svg+xml"), ("logo.png", "image/png"),
                        ("readme", "application/octet-stream"),
                        ("data.bin", "application/octet-stream")):
        st, _, _, r = d.request("GET", "/static/" + name)
        ok(st == 200 and r.getheader("Content-Type") == ctype,
           "/static/%s served as %s" % (name, ctype),
           "%s %s" % (st, r.getheader("Content-Type")))
    for path in ("/static/big.js", "/static/sub.d", "/static/.hidden",
                 "/static/app.js", "/"):
        st, j, _, _ = d.request("GET", path)
        ok(st == 404 and j and j["error"]["code"] == "not-found",
           "404 for %s (over 4 MiB, a directory, a dot file, not there)" % path,
           "%s %s" % (st, j))
    st, j, _, _ = d.request("GET", "/api/v1/status")
    ok(st == 200, "the API is served all the same")
finally:
    rc, log = d.stop()
    ok(rc == 0, "hotswapd stopped cleanly", log[-2000:])
    d.cleanup()
    shutil.rmtree(web, ignore_errors=True)

# ---- real time: requests that wait for the core ------------------------------
# A power-up takes the chassis seconds; the connection is suspended until
# the core answers, and a client that leaves meanwhile costs nothing.
import time  # noqa: E402
d = Daemon(build, src, clock="realtime")
try:
    d.ctl("sim", "insert", "2", "nic-1port")
    for _ in range(100):
        if json.loads(d.ctl("--json", "show", "2").stdout)["state"] == "off":
            break
        time.sleep(0.05)
    t0 = time.monotonic()
    st, j, _, _ = d.request("POST", "/api/v1/slots/2/add", {})
    ok(st == 200 and j["state"] == "on",
       "real time: POST add answers once the slot is on (%.1f s)" % (time.monotonic() - t0),
       "%s %s" % (st, j))
    st, j, _, _ = d.request("GET", "/api/v1/status")
    ok(st == 200, "other requests are served meanwhile and after")
    # A client that sends a removal and hangs up before the answer.
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(("POST /api/v1/slots/2/remove HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\nContent-Length: 2\r\n\r\n{}"
               % d.token).encode())
    time.sleep(0.2)
    s.close()
    for _ in range(200):
        if json.loads(d.ctl("--json", "show", "2").stdout)["state"] == "off":
            break
        time.sleep(0.05)
    ok(json.loads(d.ctl("--json", "show", "2").stdout)["state"] == "off",
       "the removal of a client that left still finishes")
    st, j, _, _ = d.request("GET", "/api/v1/slots/2")
    ok(st == 200 and j["state"] == "off", "and the endpoint still answers")
    # An event stream left open while the daemon stops.
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    c.request("GET", "/api/v1/events/stream",
              headers={"Authorization": "Bearer " + d.token})
    sr = c.getresponse()
    ok(sr.status == 200, "a stream is open when the daemon stops")
finally:
    stopped_clean(d, "real time: hotswapd stopped cleanly with a stream open")
sys.exit(t.done())
