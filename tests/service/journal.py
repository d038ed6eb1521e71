#!/usr/bin/env python3
"""journal.py - hotswapd under systemd logs to the journal natively.

usage: journal.py BUILD_DIR

systemd starts a service with stderr connected to the journal and
$JOURNAL_STREAM naming that stream (device:inode).  hotswapd then sends
its lines and every event through sd_journal_send(3), with the event's
fields (HOTSWAP_EVENT, HOTSWAP_SEQ, HOTSWAP_SLOT, HOTSWAP_BDF,
HOTSWAP_NAME) for journalctl to match on.  This test plays journald: it
binds the journal's native socket (/run/systemd/journal/socket), starts
hotswapd with stderr on a file whose device and inode it puts in
$JOURNAL_STREAM, drives a removal, and reads what arrived.  Exit 77
(skipped, said why) when it cannot be journald here: not root, or a real
journald owns the socket.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

SOCK = "/run/systemd/journal/socket"


def parse(datagram):
    """The native protocol: KEY=value lines (binary-safe form not used
    for these short fields)."""
    fields = {}
    for line in datagram.decode(errors="replace").split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            fields[k] = v
    return fields


def main():
    build = sys.argv[1]
    if os.geteuid() != 0:
        print("skip: playing journald needs root (/run/systemd/journal)")
        return 77
    if os.path.exists(SOCK):
        print("skip: %s exists (a journald runs here)" % SOCK)
        return 77
    os.makedirs(os.path.dirname(SOCK), exist_ok=True)
    jd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    jd.bind(SOCK)
    jd.settimeout(0.2)
    got = []
    done = threading.Event()

    def drain():
        # journald reads all the time: a full socket would block the
        # sender, as it would block any service.
        while not done.is_set():
            try:
                got.append(parse(jd.recv(65536)))
            except socket.timeout:
                pass
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    tmp = tempfile.mkdtemp(prefix="hotswap-journal.")
    errf = open(os.path.join(tmp, "stderr"), "w")
    st = os.fstat(errf.fileno())
    env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    sockp = os.path.join(tmp, "hotswapd.sock")
    d = subprocess.Popen([os.path.join(build, "hotswapd"), "--clock", "virtual",
                          "--socket", sockp, "--state-dir", tmp + "/state",
                          "--agents", tmp + "/agents",
                          "--set", "runtime_dir=" + tmp + "/run",
                          "--set", "socket_group="],
                         stderr=errf, env=env)
    try:
        for _ in range(600):
            if os.path.exists(sockp) or d.poll() is not None:
                break
            time.sleep(0.1)
        if d.poll() is not None:
            print("not ok: hotswapd exited (%d) at start" % d.returncode)
            return 1
        ctl = [os.path.join(build, "hotswapctl"), "--socket", sockp]
        subprocess.run(ctl + ["status"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(ctl + ["--yes", "remove", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        end = time.time() + 10
        while time.time() < end and not any(
                f.get("HOTSWAP_EVENT") == "operator" for f in list(got)):
            time.sleep(0.1)
    finally:
        d.terminate()
        d.wait(10)
        done.set()
        reader.join()
        jd.close()
        os.unlink(SOCK)
    problems = []
    if os.path.getsize(os.path.join(tmp, "stderr")):
        problems.append("lines went to stderr instead of the journal")
    notice = [f for f in got if f.get("SYSLOG_IDENTIFIER") == "hotswapd"
              and f.get("PRIORITY") == "5" and "back-end sim" in f.get("MESSAGE", "")]
    if not notice:
        problems.append("no start-up line at priority notice (5)")
    states = [f for f in got if f.get("HOTSWAP_EVENT") == "slot-state"
              and f.get("HOTSWAP_SLOT") == "1"]
    if not states or not all(f.get("HOTSWAP_SEQ", "").isdigit() for f in states):
        problems.append("no slot-state event for slot 1 with its sequence number")
    removed = [f for f in got if f.get("HOTSWAP_EVENT") == "device-removed"
               and f.get("HOTSWAP_BDF", "").startswith("0000:")
               and f.get("HOTSWAP_NAME")]
    if not removed:
        problems.append("no device-removed event with its bus address and name")
    if problems:
        print("not ok: " + "; ".join(problems))
        for f in got[:40]:
            print("   ", json.dumps(f))
        return 1
    print("ok: %d journal entries; %d slot-state for slot 1; device-removed %s (%s)"
          % (len(got), len(states), removed[0]["HOTSWAP_BDF"], removed[0]["HOTSWAP_NAME"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
