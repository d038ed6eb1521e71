#!/usr/bin/env python3
# page.py - runs page.js (headless Chromium) against hotswapd on the
# simulator; installs playwright-core from npm into the build tree the
# first time.  Screenshots: BUILD_DIR/web-screenshots/.
#
# usage: page.py BUILD_DIR SOURCE_DIR
# SPDX-License-Identifier: BSD-2-Clause
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hsd import Daemon  # noqa: E402

build, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
node_dir = os.path.join(build, "web-node")
if not os.path.isdir(os.path.join(node_dir, "node_modules", "playwright-core")):
    os.makedirs(node_dir, exist_ok=True)
    with open(os.path.join(node_dir, "package.json"), "w") as f:
        f.write('{"private": true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                    "playwright-core@1"], cwd=node_dir, check=True)
if not shutil.which("chromium"):
    print("not ok - chromium is installed (scripts/bootstrap.sh)")
    sys.exit(1)
shots = os.path.join(build, "web-screenshots")
os.makedirs(shots, exist_ok=True)
d = Daemon(build, src)
try:
    env = dict(os.environ, URL_=d.url, TOKEN=d.token, SOCK=d.sock,
               CTL=os.path.join(build, "hotswapctl"), SHOTS=shots, RUN=d.run,
               NODE_PATH=os.path.join(node_dir, "node_modules"))
    rc = subprocess.run(["node", os.path.join(src, "tests/web/page.js")],
                        env=env, timeout=150).returncode
finally:
    drc, log = d.stop()
    d.cleanup()
if drc != 0 or "AddressSanitizer" in log:
    print("not ok - hotswapd stopped cleanly\n" + log[-2000:])
    rc = 1
sys.exit(rc)
