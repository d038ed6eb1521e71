#!/usr/bin/env python3
# daemon_edges.py - hotswapd's less travelled paths as a user meets them
# (issue #17 item 6: tests for what the coverage report showed untested).
#
# usage: daemon_edges.py HOTSWAPD
#
# - the command line: a bad --set, an unknown key, a missing, broken or
#   directory config file, a stray argument, an unknown option, a poll
#   period of 0: each refused with exit status 2 and a message naming it;
#   -v, --syslog and -b reach the printed configuration;
# - a running daemon: its pid file; a second daemon on its socket refused
#   (exit 3); SIGHUP reloading the rule file (and keeping the old policy
#   when the file has become invalid); SIGTERM removing pid file and
#   socket; bad http_listen values, an unwritable token file and a port
#   in use stopping the start; HTTP on IPv6 loopback with a token file
#   named in the configuration;
# - the protocol: parameters of the wrong type named in invalid-params;
#   policy.rules; events.unsubscribe; device.block and authorize with
#   permanent rules; authorize's argument errors; slot.disable then
#   slot.enable; slot.enable of a slot that is up; a locate with a
#   timeout going off by itself; the simulator's latch and power-fault
#   actions and their refusals; sim.advance without ns;
# - a restart: the chassis' state (a latched fault, a pulled card) found
#   again, another topology's state file ignored; on hardware that came
#   back up whole, slots the operator disabled, took down or left
#   connected are so again.
#
# SPDX-License-Identifier: BSD-2-Clause
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import failed, ok, plan  # noqa: E402


class Client:
    def __init__(self, path, timeout=60):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.events = []
        self.hello = self.line()
        self.rid = 0

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return json.loads(ln)

    def call(self, method, params=None):
        self.rid += 1
        req = {"id": self.rid, "method": method}
        if params is not None:
            req["params"] = params
        self.s.sendall(json.dumps(req).encode() + b"\n")
        while True:
            m = self.line()
            if m is None or "event" not in m:
                return m
            self.events.append(m["event"])

    def close(self):
        self.s.close()


def err(r):
    e = (r or {}).get("error") or {}
    return e.get("code"), e.get("message")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          **kw)


def command_line(hotswapd, tmp):
    base = [hotswapd, "--set", "runtime_dir=" + tmp]

    r = run(base + ["--set", "poll"])
    ok(r.returncode == 2 and r.stderr ==
       "hotswapd: --set wants KEY=VALUE, got 'poll'\n",
       "--set without '=' is refused", r.stderr)
    r = run(base + ["--set", "colour=blue", "--print-config"])
    ok(r.returncode == 2 and r.stderr == "hotswapd: unknown key 'colour'\n",
       "--set of an unknown key is refused", r.stderr)
    r = run(base + ["--set", "poll_period=0", "--print-config"])
    ok(r.returncode == 2 and r.stderr ==
       "hotswapd: poll_period: '0' is less than 1ms\n",
       "a poll period of 0 is refused", r.stderr)
    missing = os.path.join(tmp, "missing.conf")
    r = run(base + ["-c", missing, "--print-config"])
    ok(r.returncode == 2 and r.stderr ==
       "hotswapd: %s: No such file or directory\n" % missing,
       "a missing -c file is refused", r.stderr)
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("# ok so far\npoll = maybe\n")
    r = run(base + ["-c", bad, "--print-config"])
    ok(r.returncode == 2 and r.stderr ==
       "hotswapd: %s:2: poll: 'maybe' is not yes or no\n" % bad,
       "a bad value names file, line and key", r.stderr)
    r = run(base + ["-c", tmp, "--print-config"])
    ok(r.returncode == 2 and r.stderr ==
       "hotswapd: %s: Is a directory\n" % tmp,
       "a directory given as the config file is refused", r.stderr)
    r = run(base + ["extra"])
    ok(r.returncode == 2 and r.stderr.startswith(
        "hotswapd: unexpected argument 'extra'\nusage: hotswapd"),
       "a stray argument is refused with the usage", r.stderr)
    r = run(base + ["--no-such-option"])
    ok(r.returncode == 2 and "usage: hotswapd" in r.stderr
       and "no-such-option" in r.stderr,
       "an unknown option is refused with the usage", r.stderr)
    r = run(base + ["-v", "--syslog", "-b", "linux", "--print-config"])
    lines = r.stdout.splitlines()
    ok(r.returncode == 0 and "log_level = debug" in lines
       and "log = syslog" in lines and "backend = linux" in lines,
       "-v, --syslog and -b set log_level, log and backend", r.stdout)
    # Start-up failures: exit status 3 and the reason.
    start = base + ["--socket", os.path.join(tmp, "x.sock"),
                    "--state-dir", os.path.join(tmp, "x-state")]
    r = run(start + ["-b", "nosuch"])
    ok(r.returncode == 3 and "hotswapd: back-end 'nosuch' (the command "
       "line) is not in this build (available: sim" in r.stderr,
       "an unknown back-end is refused, naming who chose it", r.stderr)
    r = run(start + ["-b", "linux", "--clock", "virtual"])
    ok(r.returncode == 3 and "hotswapd: clock = virtual: the linux back-end "
       "runs in real time only\n" in r.stderr,
       "the linux back-end refuses the virtual clock", r.stderr)
    r = run(base + ["--state-dir", "/dev/null/state"])
    ok(r.returncode == 3 and "hotswapd: creating /dev/null/state / %s: Not "
       "a directory\n" % tmp in r.stderr,
       "a state directory that cannot be made stops the start", r.stderr)
    sockpath = os.path.join(tmp, "no", "such", "dir", "hotswapd.sock")
    r = run(base + ["--clock", "virtual", "--socket", sockpath,
                    "--state-dir", os.path.join(tmp, "x-state")])
    ok(r.returncode == 3 and any(ln.startswith("hotswapd: %s: " % sockpath)
                                 for ln in r.stderr.splitlines()),
       "a socket that cannot be bound stops the start, naming it",
       r.stderr[-300:])
    ok("the directory %s does not exist" % os.path.dirname(sockpath)
       in r.stderr and "ermission denied" not in r.stderr,
       "a socket in a missing directory says the directory is missing "
       "(libuv would say permission denied)", r.stderr[-300:])
    rules = os.path.join(tmp, "broken.rules")
    with open(rules, "w") as f:
        f.write("allow class 02*\nbogus\n")
    r = run(start + ["--clock", "virtual", "--rules", rules])
    ok(r.returncode == 3 and "hotswapd: %s:2: unknown target 'bogus' "
       "(expected allow or block)\n" % rules in r.stderr,
       "an invalid rule file stops the start (exit 3)", r.stderr)
    r = run(start + ["--clock", "virtual", "--rules", rules, "--syslog"])
    ok(r.returncode == 3 and "hotswapd: %s:2: unknown target 'bogus' "
       "(expected allow or block)\n" % rules in r.stderr,
       "with --syslog the reason a start failed is on stderr too",
       r.stderr)
    r = run(start + ["--clock", "virtual", "--rules", tmp])
    ok(r.returncode == 3 and "hotswapd: %s: Is a directory\n" % tmp
       in r.stderr, "a rule path that is a directory stops the start "
       "(it read as an empty rule file)", r.stderr)
    r = run(base + ["--set", "history_keep=1"] * 65 + ["--print-config"])
    ok(r.returncode == 2 and r.stderr == "hotswapd: too many options\n",
       "more than 64 options are refused", r.stderr)


def http_startup(hotswapd, tmp):
    """http_listen and http_token problems stop the daemon at start (exit
    3) with a message naming the value; an IPv6 loopback endpoint and a
    token file named in the configuration work."""
    sub = os.path.join(tmp, "http")
    os.makedirs(sub)
    base = [hotswapd, "--clock", "virtual",
            "--socket", os.path.join(sub, "hotswapd.sock"),
            "--state-dir", os.path.join(sub, "state"),
            "--set", "runtime_dir=" + sub, "--set", "socket_group="]
    for listen in ["[::1", "[::1]:x", "[zz]:80", "nonsense:80", "99999",
                   "127.0.0.1:", "[%s]:80" % ("1" * 80)]:
        r = run(base + ["--http", listen])
        ok(r.returncode == 3 and "hotswapd: http_listen '%s': not PORT, "
           "ADDR:PORT or [ADDR6]:PORT\n" % listen in r.stderr,
           "http_listen '%s' is refused at start" % listen, r.stderr[-300:])
    tok = os.path.join(sub, "missing", "token")
    r = run(base + ["--http", "0", "--set", "http_token=" + tok])
    ok(r.returncode == 3 and "hotswapd: http: token file %s: No such file "
       "or directory\n" % tok in r.stderr,
       "a token file that cannot be written stops the start",
       r.stderr[-300:])
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    r = run(base + ["--http", "127.0.0.1:%d" % port])
    busy.close()
    ok(r.returncode == 3 and "hotswapd: http_listen 127.0.0.1:%d: cannot "
       "listen there (in use?)\n" % port in r.stderr,
       "a port in use stops the start", r.stderr[-300:])

    # IPv6 loopback, a token file of our choosing.
    tok = os.path.join(sub, "my.token")
    log = open(os.path.join(sub, "daemon.log"), "w+")
    proc = subprocess.Popen(base + ["--http", "[::1]:0", "--set",
                                    "http_token=" + tok, "--set",
                                    "read_only_others=yes"],
                            stdout=log, stderr=log)
    try:
        port = None
        for _ in range(300):
            log.seek(0)
            text = log.read()
            m = re.search(r"http: listening on http://\[::1\]:(\d+)/", text)
            if m or proc.poll() is not None:
                break
            time.sleep(0.05)
        ok(m is not None, "an IPv6 loopback endpoint listens", text[-500:])
        if m:
            with open(tok) as f:
                token = f.read().strip()
            ok(len(token) == 64 and oct(os.stat(tok).st_mode & 0o777) ==
               "0o640", "the token file is written there (256 bits, 0640)")
            c = http.client.HTTPConnection("::1", int(m.group(1)),
                                           timeout=30)
            c.request("GET", "/api/v1/status",
                      headers={"Authorization": "Bearer " + token})
            resp = c.getresponse()
            body = json.loads(resp.read())
            ok(resp.status == 200 and body.get("clock") == "virtual",
               "REST status over IPv6 with that token", body)
            redfish(c, token)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    ok(not os.path.exists(tok), "the token file is removed at exit")


def redfish(c, token):
    """Redfish's error responses (docs/redfish.md) for what a client may
    get wrong."""
    auth = {"Authorization": "Bearer " + token}
    dev = "/redfish/v1/Chassis/1/PCIeDevices/"

    def req(method, path, body=None, headers=auth):
        h = dict(headers)
        data = None
        if body is not None:
            data = body if isinstance(body, str) else json.dumps(body)
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        resp = c.getresponse()
        raw = resp.read()
        try:
            return resp, json.loads(raw) if raw else None
        except ValueError:
            return resp, raw

    def msgid(body):
        try:
            return body["error"]["@Message.ExtendedInfo"][0]["MessageId"]
        except (KeyError, IndexError, TypeError):
            return None

    # The REST view's query arguments.
    resp, body = req("GET", "/api/v1/events?slot=3&limit=2")
    ok(resp.status == 200 and isinstance(body, list) and len(body) <= 2
       and all(e.get("slot") == "3" for e in body),
       "GET events?slot=3&limit=2", body)
    resp, body = req("GET", "/api/v1/events?limit=ten")
    ok(resp.status == 400 and body["error"] == {
        "code": "invalid-params", "message": "limit 'ten' is not a number"},
       "events?limit=ten: 400 naming it", (resp.status, body))
    resp, body = req("GET", "/api/v1/events?after=")
    ok(resp.status == 400 and body["error"]["message"] ==
       "after '' is not a number", "events?after=: 400", (resp.status, body))
    resp, body = req("POST", "/api/v1/slots/3/add", headers={})
    ok(resp.status == 401 and resp.getheader("WWW-Authenticate"),
       "a change without the token: 401", (resp.status, body))

    resp, body = req("GET", "/redfish")
    ok(resp.status == 200 and body == {"v1": "/redfish/v1/"},
       "GET /redfish names v1", body)
    resp, body = req("POST", "/redfish")
    ok(resp.status == 405 and "GET" in (resp.getheader("Allow") or ""),
       "POST /redfish: 405 with Allow", (resp.status, body))
    resp, body = req("GET", dev + "Slot" + "9" * 300)
    ok(resp.status == 404 and msgid(body) == "Base.1.19.ResourceMissingAtURI",
       "an overlong URI: 404 ResourceMissingAtURI", (resp.status, body))
    resp, body = req("GET", dev + "Slot99/PCIeFunctions")
    ok(resp.status == 404 and msgid(body) == "Base.1.19.ResourceMissingAtURI",
       "functions of an unknown slot: 404", (resp.status, body))
    resp, body = req("GET", dev + "Slot3", headers={})
    ok(resp.status == 200 and body.get("Id") == "Slot3",
       "with read_only_others, reads need no token", (resp.status, body))
    resp, body = req("PATCH", dev + "Slot3", {"ReadyToRemove": True},
                     headers={})
    ok(resp.status == 401 and resp.getheader("WWW-Authenticate")
       and msgid(body) == "Base.1.19.InsufficientPrivilege",
       "PATCH without the token: 401 with WWW-Authenticate",
       (resp.status, body))
    resp, body = req("PATCH", dev + "Slot3")
    ok(resp.status == 400 and msgid(body) == "Base.1.19.MalformedJSON",
       "PATCH without a body: 400 MalformedJSON", (resp.status, body))
    resp, body = req("PATCH", dev + "Slot3", {})
    ok(resp.status == 400 and msgid(body) == "Base.1.19.PropertyUnknown"
       and "holds no writable property" in body["error"]["message"],
       "PATCH of {}: 400 PropertyUnknown", (resp.status, body))
    resp, body = req("PATCH", dev + "Slot3", {"ReadyToRemove": True,
                                              "LocationIndicatorActive": True})
    ok(resp.status == 400 and
       msgid(body) == "Base.1.19.ActionParameterNotSupported",
       "both writable properties at once: 400", (resp.status, body))
    resp, body = req("PATCH", dev + "Slot20", {"LocationIndicatorActive": True})
    ok(resp.status == 400 and msgid(body) == "Base.1.19.PropertyNotWritable",
       "the locate LED of a slot without one: 400 PropertyNotWritable",
       (resp.status, body))
    resp, body = req("PATCH", dev + "Slot2", {"ReadyToRemove": False})
    ok(resp.status == 409 and msgid(body) == "Base.1.19.ResourceInUse"
       and "empty" in body["error"]["message"],
       "bringing up an empty slot: 409 with the reason", (resp.status, body))


def start(hotswapd, tmp, extra=()):
    log = open(os.path.join(tmp, "daemon.log"), "a")
    proc = subprocess.Popen(
        [hotswapd, "--clock", "virtual",
         "--socket", os.path.join(tmp, "hotswapd.sock"),
         "--state-dir", os.path.join(tmp, "state"),
         "--rules", os.path.join(tmp, "rules.conf"),
         "--agents", os.path.join(tmp, "agents"),
         "--set", "runtime_dir=" + tmp, "--set", "socket_group=",
         "--set", "pidfile=" + os.path.join(tmp, "hotswapd.pid"), *extra],
        stdout=log, stderr=log)
    log.close()
    return proc


def wait_for(cond, secs=30):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def daemon_log(tmp):
    with open(os.path.join(tmp, "daemon.log")) as f:
        return f.read()


def running(hotswapd, tmp, proc):
    sock = os.path.join(tmp, "hotswapd.sock")
    pidfile = os.path.join(tmp, "hotswapd.pid")
    ok(wait_for(lambda: os.path.exists(pidfile) and os.path.getsize(pidfile)),
       "the pid file is written")
    with open(pidfile) as f:
        ok(f.read() == "%d\n" % proc.pid, "the pid file holds the pid")

    other = os.path.join(tmp, "other")
    os.makedirs(other)
    r = run([hotswapd, "--clock", "virtual", "--socket", sock,
             "--state-dir", os.path.join(other, "state"),
             "--set", "runtime_dir=" + other])
    ok(r.returncode == 3 and "%s: another hotswapd is" % sock in r.stderr,
       "a second daemon on the same socket is refused (exit 3)",
       r.stderr[-500:])

    c = Client(sock)
    # ---- SIGHUP reloads the rule file ----
    with open(os.path.join(tmp, "rules.conf"), "w") as f:
        f.write("allow class 02*\nblock id 10de:*\n")
    os.kill(proc.pid, signal.SIGHUP)
    ok(wait_for(lambda: "policy reloaded: 2 rules" in daemon_log(tmp)),
       "SIGHUP reloads the rule file", daemon_log(tmp)[-800:])
    r = c.call("policy.rules")
    res = r.get("result", {})
    ok(res.get("rules") == ["allow class 02*", "block id 10de:*"]
       and res.get("permanent") == []
       and res.get("rule_file") == os.path.join(tmp, "rules.conf")
       and res.get("default_inserted") == "allow"
       and res.get("default_present") == "allow",
       "policy.rules shows the reloaded rules", r)
    with open(os.path.join(tmp, "rules.conf"), "w") as f:
        f.write("allow class 02*\npermit everything\n")
    os.kill(proc.pid, signal.SIGHUP)
    ok(wait_for(lambda: "policy not reloaded: " in daemon_log(tmp)),
       "an invalid rule file on SIGHUP is logged", daemon_log(tmp)[-800:])
    r = c.call("policy.rules")
    ok(r.get("result", {}).get("rules") ==
       ["allow class 02*", "block id 10de:*"],
       "an invalid rule file leaves the previous policy in force", r)
    with open(os.path.join(tmp, "rules.conf"), "w") as f:
        f.write("")
    os.kill(proc.pid, signal.SIGHUP)
    ok(wait_for(lambda: "policy reloaded: 0 rules" in daemon_log(tmp)),
       "an empty rule file reloads as no rules")

    protocol(c, sock)
    # The hardware as the next start will find it: slot 4's card gone.
    r = c.call("sim.pull", {"slot": "4", "surprise": True})
    ok(r.get("result", {}).get("present") is False, "sim.pull surprise", r)
    c.close()

    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    ok(rc == 0, "SIGTERM stops the daemon with status 0", rc)
    ok(not os.path.exists(pidfile) and not os.path.exists(sock),
       "the pid file and the socket are removed at exit",
       os.listdir(tmp))
    restart(hotswapd, tmp)


def restart(hotswapd, tmp):
    """The simulated hardware kept its state while the daemon was away
    (state_dir/chassis.json): a latched power fault and a pulled card are
    found again; a chassis file of another topology is ignored."""
    sock = os.path.join(tmp, "hotswapd.sock")
    proc = start(hotswapd, tmp)
    try:
        ok(wait_for(lambda: os.path.exists(sock) or proc.poll() is not None)
           and proc.poll() is None, "the daemon starts again",
           daemon_log(tmp)[-800:])
        ok("slot 1: its card's power fault is still latched" in
           daemon_log(tmp), "the latched power fault is restored")
        c = Client(sock)
        r = c.call("slot.show", {"slot": "1"})
        ok(r.get("result", {}).get("adapter") is True
           and r["result"].get("power") is False,
           "slot 1 still holds its faulted card, unpowered", r)
        ok(r.get("result", {}).get("power_fault") is True
           and r["result"].get("state") == "fault",
           "slot 1 shows its power fault again after the restart "
           "(issue #17 item 7)", r)
        r = c.call("slot.show", {"slot": "4"})
        ok(r.get("result", {}).get("adapter") is False
           and r["result"].get("devices") == [],
           "the card pulled before the restart is still gone", r)
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "examples", "pcie-server.json")
    proc = start(hotswapd, tmp, ["-t", examples])
    try:
        ok(wait_for(lambda: os.path.exists(sock) or proc.poll() is not None)
           and proc.poll() is None, "the daemon starts on another chassis",
           daemon_log(tmp)[-800:])
        ok("%s describes another chassis: ignored" %
           os.path.join(tmp, "state", "chassis.json") in daemon_log(tmp),
           "the other chassis' state file is ignored",
           daemon_log(tmp)[-800:])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def hardware_reset(hotswapd, tmp):
    """A restart on hardware that came back up whole (the simulator's
    state file gone: as a machine whose firmware powered every slot at
    boot) keeps what the operator left: a disabled slot and one taken
    down stay down, one left connected and unconfigured (cfgadm) is so
    again."""
    sub = os.path.join(tmp, "reset")
    os.makedirs(os.path.join(sub, "agents"))
    with open(os.path.join(sub, "rules.conf"), "w") as f:
        f.write("")
    sock = os.path.join(sub, "hotswapd.sock")

    def up(extra=()):
        proc = start(hotswapd, sub, extra)
        ok(wait_for(lambda: os.path.exists(sock) or proc.poll() is not None)
           and proc.poll() is None, "the daemon starts in %s" % sub,
           daemon_log(sub)[-800:])
        return proc

    def state(c, slot):
        return c.call("slot.show", {"slot": slot}).get("result", {})

    proc = up()
    try:
        c = Client(sock)
        for method, slot, want in (("slot.disable", "3", "off"),
                                   ("slot.remove", "22", "off"),
                                   ("slot.unconfigure", "11", "connected")):
            r = c.call(method, {"slot": slot})
            ok(r.get("result", {}).get("state") == want,
               "%s %s: %s" % (method, slot, want), r)
        # Slot 3's card pulled: the slot stays disabled, its card is
        # forgotten (what it was taken down from).
        r = c.call("sim.pull", {"slot": "3"})
        c.call("sim.advance", {"ns": 1000000000})   # presence settles
        ok(state(c, "3").get("state") == "empty", "slot 3 emptied", r)
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    os.remove(os.path.join(sub, "state", "chassis.json"))
    proc = up()
    try:
        log = daemon_log(sub)
        ok("slot 3 is disabled by the operator: taking its card down" in log,
           "the disabled slot 3's card, back up, is taken down, saying why",
           log[-1500:])
        ok("slot 22: the operator had taken its card down: keeping it down"
           in log, "slot 22's card, back up, is taken down again", log[-1500:])
        ok("slot 11: the operator had left it connected and unconfigured: "
           "so again" in log, "slot 11 is left connected again", log[-1500:])
        c = Client(sock)
        ok(wait_for(lambda: state(c, "3").get("state") == "off" and
                    state(c, "22").get("state") == "off" and
                    state(c, "11").get("state") == "connected"),
           "slots 3 and 22 off, 11 connected after the restart",
           [state(c, x).get("state") for x in ("3", "22", "11")])
        r = state(c, "3")
        ok(r.get("disabled") is True, "slot 3 is still disabled", r)
        ok(state(c, "1").get("state") == "on",
           "a slot the operator left alone is up", state(c, "1"))
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    # The chassis file edited by hand: what names no slot or card of
    # this chassis is passed over, the rest is the hardware found.
    path = os.path.join(sub, "state", "chassis.json")
    with open(path) as f:
        saved = json.load(f)
    ok(saved.get("topology") and saved.get("slots", {}).get("1") and
       "3" in saved.get("slots", {}), "chassis.json records each slot's card",
       saved)
    saved["slots"].update({"99": "nic-1port", "2": "no-such-card",
                           "5": saved["slots"]["1"], "1": None, "6": 7})
    saved["faults"] = [5, "99", "6", "5"]
    with open(path, "w") as f:
        json.dump(saved, f)
    # Where the next save would go is taken: the save fails, and says so.
    os.mkdir(path + ".tmp")
    proc = up()
    try:
        c = Client(sock)
        ok(state(c, "1").get("adapter") is False and
           state(c, "5").get("adapter") is True and
           state(c, "2").get("adapter") is False and
           state(c, "6").get("adapter") is False,
           "the edited chassis: slot 1's card in slot 5, the unknown card "
           "and slot left out", [state(c, x).get("adapter")
                                 for x in ("1", "5", "2", "6")])
        r = state(c, "5")
        ok(r.get("power_fault") is True and r.get("state") == "fault",
           "slot 5's fault is latched, the other entries passed over", r)
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    ok(proc.returncode == 0 and
       "saving %s: Is a directory" % path in daemon_log(sub),
       "a chassis file that cannot be saved is logged",
       daemon_log(sub)[-800:])
    os.rmdir(path + ".tmp")
    with open(path, "w") as f:
        json.dump({"topology": 5, "slots": {"1": None}}, f)
    pidfile = os.path.join(sub, "missing", "hotswapd.pid")
    proc = up(["--set", "pidfile=" + pidfile])
    try:
        ok("%s describes another chassis: ignored" % path in daemon_log(sub),
           "a chassis file without a topology name is ignored")
        ok(wait_for(lambda: "pid file %s: No such file or directory" %
                    pidfile in daemon_log(sub)), "a pid file that cannot be written is logged, "
           "and the daemon serves on")
        c = Client(sock)
        ok(state(c, "1").get("adapter") is True, "slot 1 as the chassis is")
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def protocol(c, sock):
    # ---- parameters of the wrong type are named ----
    for method, params, msg in [
            ("slot.show", {"slot": True},
             "parameter 'slot' must be a string"),
            ("events.subscribe", {"after": "x"},
             "parameter 'after' must be an integer from -1 to "
             "9223372036854775807"),
            ("policy.decisions", {"limit": 100001},
             "parameter 'limit' must be an integer from 0 to 100000"),
            ("authorize", {"device": "net5", "permanent": 3},
             "parameter 'permanent' must be true or false"),
            ("sim.pull", {"slot": "1", "surprise": "yes"},
             "parameter 'surprise' must be true or false"),
            ("sim.latch", {"slot": "1", "open": 1},
             "parameter 'open' must be true or false")]:
        r = c.call(method, params)
        ok(err(r) == ("invalid-params", msg),
           "%s %s: invalid-params naming it" % (method, json.dumps(params)),
           r)
    r = c.call("slot.show", {"slot": 1})
    ok(r.get("result", {}).get("slot") == "1",
       "a slot may be named by a number", r)

    # ---- every method that takes a slot or a device: missing, of the
    # wrong type, or unknown, each named ----
    for method in ("slot.show", "slot.add", "slot.remove", "slot.replace",
                   "slot.enable", "slot.disable", "slot.connect",
                   "slot.configure", "slot.unconfigure", "slot.disconnect",
                   "slot.attention", "sim.insert", "sim.pull", "sim.button",
                   "sim.latch", "sim.fault", "sim.dma"):
        r = c.call(method, {})
        ok(err(r) == ("invalid-params", "missing parameter 'slot'"),
           "%s without slot: invalid-params naming it" % method, r)
        r = c.call(method, {"slot": ["1"]})
        ok(err(r)[0] == "invalid-params" and "'slot'" in err(r)[1],
           "%s with a list for slot: invalid-params" % method, r)
        r = c.call(method, {"slot": "77", "card": "nic-1port",
                            "indicator": "on", "open": True})
        ok(err(r)[0] == "not-found" and "77" in err(r)[1],
           "%s on an unknown slot: not-found naming it" % method, r)
    for method in ("device.show", "device.block", "device.reject",
                   "sim.traffic"):
        r = c.call(method, {})
        ok(err(r)[0] == "invalid-params" and "'device'" in err(r)[1],
           "%s without device: invalid-params naming it" % method, r)
        r = c.call(method, {"device": "0000:7f:1f.7"})
        ok(err(r)[0] == "not-found",
           "%s on an unknown device: not-found" % method, r)
    for method, params, name in [
            ("sim.insert", {"slot": "5"}, "card"),
            ("sim.insert", {"slot": "5", "card": ["nic"]}, "card"),
            ("sim.dma", {"slot": "1", "fn": 9}, "fn"),
            ("sim.traffic", {"device": "net0", "count": 0}, "count"),
            ("sim.advance", {"ns": "soon"}, "ns"),
            ("slot.attention", {"slot": "2"}, "indicator"),
            ("slot.attention", {"slot": "2", "indicator": "purple"},
             "indicator"),
            ("events.history", {"since": "x"}, "since"),
            ("device.list", {"blocked": "x"}, "blocked")]:
        r = c.call(method, params)
        ok(err(r)[0] == "invalid-params" and name in err(r)[1],
           "%s %s: invalid-params naming %s" % (method, json.dumps(params),
                                                name), r)
    # ---- the request's envelope: each wrong part named, the id echoed
    # when it is one ----
    for line, rid, msg in [
            ('{"id": 1.5, "method": "status"}', None,
             "'id' must be a number or a string"),
            ('{"id": true, "method": "status"}', None,
             "'id' must be a number or a string"),
            ('{"id": {"n": 1}, "method": "status"}', None,
             "'id' must be a number or a string"),
            ('{"id": 910, "method": 5}', 910, "missing 'method' (a string)"),
            ('{"id": "m", "params": {}}', "m", "missing 'method' (a string)"),
            ('{"id": 911, "method": "status", "params": [1]}', 911,
             "'params' must be an object"),
            ('{"id": 912, "method": "status", "params": null}', 912,
             "'params' must be an object")]:
        c.s.sendall(line.encode() + b"\n")
        r = c.line()
        ok(r is not None and r.get("id") == rid and
           err(r) == ("invalid-request", msg),
           "%s: invalid-request, %s" % (line, msg), r)
    r = c.call("status", {})
    ok(r and "result" in r, "the connection serves on after them", r)
    for method, params, name in [
            ("events.subscribe", {"after": -2}, "after"),
            ("events.history", {"limit": -1}, "limit"),
            ("events.history", {"limit": 1.5}, "limit"),
            ("slot.attention", {"slot": "2", "indicator": "locate",
                                "timeout_ns": "1s"}, "timeout_ns"),
            ("device.block", {"device": "net5", "permanent": "yes"},
             "permanent"),
            ("authorize", {"slot": "1", "permanent": None}, "permanent")]:
        r = c.call(method, params)
        ok(err(r)[0] == "invalid-params" and "'%s'" % name in err(r)[1],
           "%s %s: invalid-params naming %s" % (method, json.dumps(params),
                                                name), r)
    # device.reject takes a card out: a port or a switch is no card.
    for dev in ("0000:00:1c.1", "0000:00:1c.0"):
        r = c.call("device.reject", {"device": dev})
        ok(err(r)[0] == "refused" and "is not on a card in a hot-plug slot"
           in err(r)[1], "device.reject of %s (a port): refused, saying why"
           % dev, r)
    r = c.call("slot.attention", {"slot": "2", "indicator": "on",
                                  "timeout_ns": 1000000000})
    ok(err(r) == ("invalid-params", "timeout_ns goes with locate (blink), "
                  "not with 'on'"), "a timeout is for locate only", r)
    r = c.call("slot.show", {"slot": "2"})
    ok(r.get("result", {}).get("attention") == "off",
       "and the refused request left the indicator off", r)
    # A line ending in CR LF (telnet, a Windows client) or with trailing
    # blanks is the same request; a blank line is no request at all.
    c.s.sendall(b'{"id": 900, "method": "status"}  \r\n\r\n')
    r = c.line()
    ok(r and r.get("id") == 900 and "result" in r,
       "a request ending in CR LF and blanks is answered", r)
    r = c.call("sim.insert", {"slot": "5", "card": "no-such-card"})
    ok(err(r)[0] in ("not-found", "invalid-params") and
       "no-such-card" in err(r)[1], "sim.insert of an unknown card names it",
       r)

    # ---- events.unsubscribe: no more events on this connection ----
    w = Client(sock)
    r = w.call("events.subscribe", {"after": -1})
    ok("result" in r, "events.subscribe", r)
    r = w.call("events.unsubscribe")
    ok("result" in r and "error" not in r, "events.unsubscribe", r)
    w.events.clear()
    r = c.call("slot.attention", {"slot": "2", "indicator": "on"})
    ok(r.get("result", {}).get("attention") == "on",
       "slot.attention on", r)
    r = w.call("status")
    ok("result" in r and w.events == [],
       "no event reaches a client after events.unsubscribe", w.events)
    w.close()

    # ---- slot.attention: locate with a timeout ----
    r = c.call("slot.attention", {"slot": "2", "indicator": "on",
                                  "timeout_ns": 1000000000})
    ok(err(r)[0] == "invalid-params" and "timeout_ns" in err(r)[1],
       "timeout_ns with 'on' is refused", r)
    r = c.call("slot.attention", {"slot": "20", "indicator": "on"})
    ok(err(r)[0] == "not-supported" and err(r)[1].startswith("slot 20: "),
       "a slot without an attention indicator: not-supported", r)
    c.events.clear()
    r = c.call("events.subscribe", {"after": -1})
    r = c.call("slot.attention", {"slot": "2", "indicator": "locate",
                                  "timeout_ns": 2000000000})
    ok("result" in r, "locate with a timeout", r)
    # The indicator command completes on the chassis' (virtual) clock.
    c.call("sim.advance", {"ns": 100000000})
    r = c.call("slot.show", {"slot": "2"})
    ok(r.get("result", {}).get("attention") == "blink",
       "locate blinks the attention indicator", r)
    # The timeout runs on the service's clock (real time).
    ok(wait_for(lambda: c.call("slot.show", {"slot": "2"})["result"]
                ["attention"] == "off", 20),
       "the locate goes off by itself after its timeout")
    ok(any(e.get("type") == "operator" and
           "locate timed out" in json.dumps(e) for e in c.events),
       "an operator event says the locate timed out", c.events[-5:])
    c.call("events.unsubscribe")

    # ---- device.block / authorize, permanent ----
    r = c.call("device.block", {"device": "nosuch"})
    ok(err(r) == ("not-found", "no device 'nosuch'"),
       "device.block of an unknown device: not-found", r)
    r = c.call("device.block", {"device": "net5", "permanent": True})
    d = r.get("result", {})
    ok(d.get("blocked") is True and d.get("bus_master") is False
       and "driver" not in d,
       "device.block permanent: blocked, no driver, bus master off", r)
    r = c.call("policy.rules")
    perm = r.get("result", {}).get("permanent", [])
    ok(len(perm) == 1 and perm[0]["rule"].startswith("block id 8086:10d3")
       and r["result"]["rules"][0] == perm[0]["rule"],
       "the permanent block rule is stored and in force first", r)
    for params, code, msg in [
            ({}, "invalid-params", "give either"),
            ({"device": "net5", "slot": "1"}, "invalid-params",
             "give either"),
            ({"slot": "99"}, "not-found", "no slot named '99'"),
            ({"slot": "3"}, "not-found", "slot 3 holds no blocked"),
            ({"device": "0000:99:00.0"}, "not-found",
             "no device '0000:99:00.0'")]:
        r = c.call("authorize", params)
        ok(err(r)[0] == code and msg in (err(r)[1] or ""),
           "authorize %s: %s" % (json.dumps(params), code), r)
    r = c.call("authorize", {"slot": "1", "permanent": True})
    res = r.get("result", [])
    ok(len(res) == 1 and res[0].get("bdf") == "0000:0b:00.0"
       and res[0].get("result", "").startswith(
           "authorized permanently by uid %d: allow id 8086:10d3"
           % os.geteuid()),
       "authorize permanent by slot stores an allow rule", r)
    r = c.call("device.show", {"device": "net5"})
    ok(r.get("result", {}).get("blocked") is False
       and r["result"].get("driver"),
       "the authorized device is unblocked and bound again", r)
    r = c.call("policy.rules")
    perm = r.get("result", {}).get("permanent", [])
    ok(len(perm) == 1 and perm[0]["rule"].startswith("allow id 8086:10d3")
       and r["result"]["rules"][0] == perm[0]["rule"],
       "the permanent allow replaces the card's permanent block (which, "
       "listed first, would block it again at its next insertion)", r)

    # ---- slot.disable, slot.enable ----
    r = c.call("slot.enable", {"slot": "3"})
    ok(r.get("result", {}).get("state") == "on"
       and r["result"].get("disabled") is False,
       "slot.enable of a slot that is up replies at once", r)
    r = c.call("slot.disable", {"slot": "3"})
    ok(r.get("result", {}).get("state") == "off"
       and r["result"].get("disabled") is True
       and r["result"].get("devices") == [],
       "slot.disable takes the card down and marks the slot", r)
    r = c.call("slot.add", {"slot": "3"})
    ok(err(r)[0] == "refused", "a disabled slot refuses slot.add", r)
    r = c.call("slot.enable", {"slot": "3"})
    s = r.get("result", {})
    ok(s.get("state") == "on" and s.get("disabled") is False
       and [d.get("name") for d in s.get("devices", [])] == ["stor0"],
       "slot.enable brings the card back with its name", r)

    # ---- slot.replace: the reply comes once the new card is up ----
    a = Client(sock, timeout=20)
    a.rid = 100
    a.s.sendall(b'{"id": 100, "method": "slot.replace", '
                b'"params": {"slot": "3"}}\n')
    ok(wait_for(lambda: c.call("slot.show", {"slot": "3"})["result"]
                ["state"] == "off", 20),
       "slot.replace powers the slot down first")
    r = c.call("sim.pull", {"slot": "3"})
    ok(r.get("result", {}).get("present") is False, "the old card pulled", r)
    c.call("sim.advance", {"ns": 2000000000})
    r = c.call("sim.insert", {"slot": "3", "card": "nvme-gen4"})
    ok(r.get("result", {}).get("card") == "nvme-gen4",
       "the new card inserted", r)
    c.call("sim.advance", {"ns": 3000000000})
    r = a.line()
    while r is not None and "event" in r:
        r = a.line()
    s = (r or {}).get("result", {})
    ok(r and r.get("id") == 100 and s.get("state") == "on"
       and [d.get("id") for d in s.get("devices", [])] == ["144d:a80a"],
       "slot.replace answers with the new card up", r)
    a.close()

    # ---- the simulator's latch and power fault ----
    r = c.call("sim.fault", {"slot": "2"})
    ok(err(r) == ("refused", "slot 2: the slot is empty: no card to fault"),
       "sim.fault on an empty slot is refused", r)
    r = c.call("sim.latch", {"slot": "20"})
    ok(err(r)[0] == "refused" and "slot 20: " in err(r)[1],
       "sim.latch open on an empty CompactPCI slot is refused", r)
    r = c.call("sim.latch", {"slot": "1", "open": True})
    ok(r.get("result", {}).get("latch_open") is True,
       "sim.latch opens a PCIe slot's latch", r)
    r = c.call("sim.advance", {"ns": 2000000000})
    r = c.call("slot.show", {"slot": "1"})
    ok(r.get("result", {}).get("latch") == "open"
       and r["result"].get("power") is False,
       "an opened latch powers the slot down", r)
    r = c.call("slot.add", {"slot": "1"})
    ok(err(r)[0] == "refused", "slot.add with the latch open is refused", r)
    r = c.call("sim.fault", {"slot": "1"})
    ok(err(r) == ("refused",
                  "slot 1: the card has no power: nothing to fault"),
       "sim.fault on an unpowered card is refused", r)
    r = c.call("sim.latch", {"slot": "1", "open": False})
    ok(r.get("result", {}).get("latch_open") is False,
       "sim.latch closes it again", r)
    r = c.call("slot.add", {"slot": "1"})
    ok(r.get("result", {}).get("state") == "on",
       "slot.add after the latch closed", r)
    r = c.call("sim.fault", {"slot": "1"})
    ok(r.get("result", {}).get("present") is True, "sim.fault", r)
    r = c.call("sim.advance", {"ns": 1000000000})
    r = c.call("slot.show", {"slot": "1"})
    ok(r.get("result", {}).get("power_fault") is True
       and r["result"].get("condition") == "failed",
       "a power fault shows as power_fault and condition failed", r)
    r = c.call("sim.advance", {})
    ok(err(r) == ("invalid-params", "missing parameter 'ns'"),
       "sim.advance without ns", r)
    r = c.call("sim.latch", {"slot": "77"})
    ok(err(r) == ("not-found", "the chassis has no slot '77'"),
       "a sim action on an unknown slot: not-found", r)


def main():
    hotswapd = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="hotswap-edges.")
    os.makedirs(os.path.join(tmp, "agents"))
    with open(os.path.join(tmp, "rules.conf"), "w") as f:
        f.write("")
    proc = None
    try:
        command_line(hotswapd, tmp)
        http_startup(hotswapd, tmp)
        hardware_reset(hotswapd, tmp)
        proc = start(hotswapd, tmp)
        if not wait_for(lambda: os.path.exists(
                os.path.join(tmp, "hotswapd.sock")) or
                proc.poll() is not None):
            ok(False, "hotswapd starts", daemon_log(tmp))
        else:
            running(hotswapd, tmp, proc)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if failed():
            print("# daemon log (tail):")
            for ln in daemon_log(tmp).splitlines()[-30:]:
                print("#   " + ln)
        shutil.rmtree(tmp, ignore_errors=True)
    plan()
    sys.exit(1 if failed() else 0)


if __name__ == "__main__":
    main()
