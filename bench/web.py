#!/usr/bin/env python3
# web.py - the HTTP endpoint's figures (make bench; docs/web.md):
#   - requests per second for /metrics, the slots resource and a Redfish
#     PCIeDevice with 100 concurrent connections on loopback (wrk);
#   - the daemon's resident memory without the endpoint, with it idle and
#     after the load (VmRSS);
#   - hot-plug latency with the endpoint idle and busy (wrk running): on
#     the virtual clock (insertion to driver bound, from the events; must
#     be the same) and the operator's wall-clock wait for `hotswapctl add`.
#
# usage: web.py BUILD_DIR SOURCE_DIR
# SPDX-License-Identifier: BSD-2-Clause
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "web"))
from hsd import Daemon  # noqa: E402

build, src = sys.argv[1], sys.argv[2]
WRK = shutil.which("wrk")
DUR = os.environ.get("BENCH_WEB_SECONDS", "5")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def wrk(d, path, seconds=DUR):
    out = subprocess.run([WRK, "-t2", "-c100", "-d%ss" % seconds,
                          "-H", "Authorization: Bearer " + d.token,
                          d.url + path], capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return rps, int(bad.group(1)) if bad else 0, errs.group(1) if errs else ""


def per_request_ms(d, n=300):
    """Sequential requests on one connection: the same protocol method
    over the UNIX socket (the baseline) and over HTTP; ms per request."""
    import http.client
    import json
    import socket
    out = {}
    u = socket.socket(socket.AF_UNIX)
    u.connect(d.sock)
    f = u.makefile("rwb")
    f.readline()                              # the greeting
    for method, path in (("status", "/api/v1/status"), ("slot.list", "/api/v1/slots")):
        t = time.monotonic()
        for i in range(n):
            f.write(json.dumps({"id": i, "method": method}).encode() + b"\n")
            f.flush()
            while b'"id"' not in f.readline():
                pass
        sock_ms = (time.monotonic() - t) / n * 1e3
        c = http.client.HTTPConnection("127.0.0.1", d.port)
        t = time.monotonic()
        for i in range(n):
            c.request("GET", path, headers={"Authorization": "Bearer " + d.token})
            c.getresponse().read()
        out[method] = (sock_ms, (time.monotonic() - t) / n * 1e3)
        c.close()
    u.close()
    return out


def cycle(d, slot="2"):
    """One hot-add and removal; (virtual ms insertion->bound, wall ms of add)."""
    d.ctl("sim", "insert", slot, "nic-1port")
    d.ctl("sim", "advance", "1s")
    t0 = time.monotonic()
    d.ctl("--yes", "add", slot)
    wall = (time.monotonic() - t0) * 1e3
    st, hist, _, _ = d.request("GET", "/api/v1/events?slot=%s&limit=0" % slot)
    ins = [e for e in hist if e["type"] == "physical" and e.get("action") == "insert"][-1]
    bound = [e for e in hist if e["type"] == "driver-bound" and e["seq"] > ins["seq"]][0]
    d.ctl("--yes", "remove", slot)
    d.ctl("sim", "pull", slot)
    d.ctl("sim", "advance", "1s")
    return (bound["time"] - ins["time"]) / 1e6, wall


if not WRK:
    print("web benchmark: wrk is not installed (scripts/bootstrap.sh)")
    sys.exit(1)

# Memory: the same daemon without the endpoint.
plain = subprocess.Popen([os.path.join(build, "hotswapd"), "--clock", "virtual",
                          "--socket", "/tmp/hotswap-bench-web.%d.sock" % os.getpid(),
                          "--state-dir", "/tmp/hotswap-bench-web.%d" % os.getpid(),
                          "--set", "runtime_dir=/tmp/hotswap-bench-web.%d" % os.getpid(),
                          "--set", "socket_group="],
                         stderr=subprocess.DEVNULL)
time.sleep(1.5)
rss_plain = rss_kib(plain.pid)
plain.terminate()
plain.wait()
shutil.rmtree("/tmp/hotswap-bench-web.%d" % os.getpid(), ignore_errors=True)

d = Daemon(build, src)
try:
    time.sleep(0.5)
    rss_idle = rss_kib(d.proc.pid)
    print("== hotswapd HTTP endpoint: wrk, 2 threads, 100 connections, %s s each" % DUR)
    for path in ("/metrics", "/api/v1/slots", "/redfish/v1/Chassis/1/PCIeDevices/Slot3"):
        rps, bad, errs = wrk(d, path)
        print("  %-44s %9.0f req/s  non-2xx %d %s" % (path, rps, bad, errs))
    rps, bad, errs = wrk(d, "/api/v1/status")
    print("  %-44s %9.0f req/s  non-2xx %d %s  (the endpoint's ceiling: a cheap method)"
          % ("/api/v1/status", rps, bad, errs))
    rss_load = rss_kib(d.proc.pid)
    print("== one connection, sequential: the UNIX socket (baseline) vs HTTP, ms per request")
    for method, (sock_ms, http_ms) in per_request_ms(d).items():
        print("  %-10s socket %.3f ms   HTTP %.3f ms   ratio %.2f"
              % (method, sock_ms, http_ms, http_ms / sock_ms))
    print("== memory (VmRSS): without the endpoint %d KiB, with it idle %d KiB "
          "(+%d), after the load %d KiB (+%d)"
          % (rss_plain, rss_idle, rss_idle - rss_plain, rss_load, rss_load - rss_plain))
    idle = [cycle(d) for _ in range(5)]
    busy_proc = subprocess.Popen([WRK, "-t2", "-c100", "-d60s", "-H",
                                  "Authorization: Bearer " + d.token,
                                  d.url + "/api/v1/slots"],
                                 stdout=subprocess.DEVNULL)
    time.sleep(1)
    busy = [cycle(d) for _ in range(5)]
    busy_proc.terminate()
    busy_proc.wait()
    vi, vb = [x[0] for x in idle], [x[0] for x in busy]
    wi, wb = [x[1] for x in idle], [x[1] for x in busy]
    print("== hot-plug latency, insertion -> driver bound, virtual clock (5 cycles each)")
    print("  idle endpoint: median %.3f ms   busy endpoint: median %.3f ms   ratio %.3f"
          % (statistics.median(vi), statistics.median(vb),
             statistics.median(vb) / statistics.median(vi)))
    print("  same on every cycle: %s" % ("yes" if vi == vb else "no (%s vs %s)" % (vi, vb)))
    print("== operator's wait for `hotswapctl add` (wall clock)")
    print("  idle endpoint: median %.1f ms   busy endpoint: median %.1f ms   ratio %.2f"
          % (statistics.median(wi), statistics.median(wb),
             statistics.median(wb) / statistics.median(wi)))
finally:
    d.stop()
    d.cleanup()
