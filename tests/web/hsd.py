# hsd.py - start hotswapd with its HTTP endpoint for the web tests, and a
# small HTTP client.  SPDX-License-Identifier: BSD-2-Clause
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time


class Daemon:
    """hotswapd on the default simulated chassis, HTTP on a free loopback
    port, the example agents and a rule file letting network and storage
    cards in (anything else inserted is blocked)."""

    def __init__(self, build, src, clock="virtual", extra=()):
        self.build, self.src = build, src
        self.dir = tempfile.mkdtemp(prefix="hotswap-web.")
        self.sock = os.path.join(self.dir, "hotswapd.sock")
        self.run = os.path.join(self.dir, "run")
        os.makedirs(os.path.join(self.dir, "agents"))
        for a in os.listdir(os.path.join(src, "examples/agents")):
            if a.endswith(".agent"):
                shutil.copy(os.path.join(src, "examples/agents", a),
                            os.path.join(self.dir, "agents"))
        with open(os.path.join(self.dir, "rules.conf"), "w") as f:
            f.write("allow class 02*\nallow class 01*\n")
        self.log = open(os.path.join(self.dir, "daemon.log"), "w+")
        self.proc = subprocess.Popen(
            [os.path.join(build, "hotswapd"), "--socket", self.sock,
             "--state-dir", os.path.join(self.dir, "state"),
             "--agents", os.path.join(self.dir, "agents"),
             "--rules", os.path.join(self.dir, "rules.conf"),
             "--clock", clock, "--http", "127.0.0.1:0",
             "--set", "runtime_dir=" + self.run,
             "--set", "default_inserted=block", "--set", "socket_group=",
             *extra],
            stdout=self.log, stderr=self.log)
        self.port = None
        for _ in range(300):
            self.log.seek(0)
            m = re.search(r"http: listening on http://127\.0\.0\.1:(\d+)/",
                          self.log.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.seek(0)
            raise RuntimeError("hotswapd did not start:\n" + self.log.read())
        with open(os.path.join(self.run, "http.token")) as f:
            self.token = f.read().strip()
        self.url = "http://127.0.0.1:%d" % self.port

    def ctl(self, *args):
        return subprocess.run([os.path.join(self.build, "hotswapctl"),
                               "--socket", self.sock, *args],
                              capture_output=True, text=True, timeout=60)

    def request(self, method, path, body=None, token=True, headers=None,
                raw=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(headers or {})
        if token is True:
            h["Authorization"] = "Bearer " + self.token
        elif token:
            h["Authorization"] = "Bearer " + token
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        try:
            j = json.loads(text)
        except ValueError:
            j = None
        return r.status, j, text, r

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        return self.proc.returncode, out

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Checks:
    def __init__(self, name):
        self.name, self.failed, self.n = name, 0, 0

    def ok(self, cond, what, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, what))
        else:
            self.failed += 1
            print("not ok %d - %s %s" % (self.n, what, detail))
        return cond

    def done(self):
        print("%s: %d checks, %d failed" % (self.name, self.n, self.failed))
        return 1 if self.failed else 0
