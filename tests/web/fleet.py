#!/usr/bin/env python3
# fleet.py - a real Prometheus server (Debian's prometheus, started here
# on loopback with its own config and data directory, not the system
# service) scrapes two hotswapd instances on the simulator; PromQL
# through its HTTP API must give each instance's occupied slots and
# hot-adds.
#
# usage: fleet.py BUILD_DIR SOURCE_DIR
# SPDX-License-Identifier: BSD-2-Clause
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hsd import Checks, Daemon  # noqa: E402

build, src = sys.argv[1], sys.argv[2]
t = Checks("web fleet")
prom = shutil.which("prometheus")
if not prom:
    t.ok(False, "prometheus is installed (scripts/bootstrap.sh)")
    sys.exit(t.done())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


daemons, tmp, pp = [], tempfile.mkdtemp(prefix="hotswap-prom."), None
try:
    a, b = Daemon(build, src), Daemon(build, src)
    daemons = [a, b]
    # a: two network cards brought up, b: one.
    for d, slots in ((a, ("2", "5")), (b, ("2",))):
        for s in slots:
            d.ctl("sim", "insert", s, "nic-1port")
            d.ctl("sim", "advance", "1s")
            r = d.ctl("--yes", "add", s)
            t.ok(r.returncode == 0, "slot %s up on instance %d" % (s, d.port),
                 r.stdout + r.stderr)
    expect = {}
    for d, adds in ((a, 2), (b, 1)):
        occ = sum(1 for s in json.loads(d.ctl("--json", "list").stdout)
                  if s["adapter"])
        expect["127.0.0.1:%d" % d.port] = (occ, adds)
        with open(os.path.join(tmp, "token-%d" % d.port), "w") as f:
            f.write(d.token)
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n")
        for d in daemons:
            f.write("  - job_name: hotswap-%d\n"
                    "    authorization:\n"
                    "      type: Bearer\n"
                    "      credentials_file: %s/token-%d\n"
                    "    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n"
                    % (d.port, tmp, d.port, d.port))
    port = free_port()
    plog = open(os.path.join(tmp, "prometheus.log"), "w")
    pp = subprocess.Popen([prom, "--config.file", os.path.join(tmp, "prometheus.yml"),
                           "--storage.tsdb.path", os.path.join(tmp, "data"),
                           "--web.listen-address", "127.0.0.1:%d" % port],
                          stdout=plog, stderr=plog)

    def query(q):
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (
            port, urllib.parse.quote(q))
        with urllib.request.urlopen(url, timeout=5) as r:
            j = json.load(r)
        return {m["metric"]["instance"]: float(m["value"][1])
                for m in j["data"]["result"]}

    got = {}
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            occ = query("sum by (instance) (hotswap_slot_occupied)")
            adds = query("hotswap_hot_adds_total")
            got = {i: (occ.get(i), adds.get(i)) for i in expect}
            if all(v[0] is not None and v[1] is not None for v in got.values()):
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    for inst, (occ, adds) in expect.items():
        t.ok(got.get(inst, (None, None))[0] == occ,
             "PromQL: %s has %d occupied slots" % (inst, occ), str(got))
        t.ok(got.get(inst, (None, None))[1] == adds,
             "PromQL: %s has %d hot-adds" % (inst, adds), str(got))
    up = query("up")
    t.ok(len(up) == 2 and all(v == 1 for v in up.values()),
         "both targets up (scraped with their tokens)", str(up))
finally:
    if pp:
        pp.terminate()
        pp.wait(timeout=20)
    for d in daemons:
        rc, log = d.stop()
        t.ok(rc == 0 and "AddressSanitizer" not in log, "hotswapd stopped cleanly",
             log[-1500:])
        d.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
