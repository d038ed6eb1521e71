"""tap - the TAP lines the service's Python tests print (daemon_edges.py,
hostile_clients.py): "ok N - what", "not ok N - what" with up to 20
lines of detail, and the plan at the end.

SPDX-License-Identifier: BSD-2-Clause
"""

FAILS = 0
N = 0


def ok(cond, what, detail=""):
    global FAILS, N
    N += 1
    if cond:
        print("ok %d - %s" % (N, what))
    else:
        FAILS += 1
        print("not ok %d - %s" % (N, what))
        if detail:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)


def failed():
    return FAILS


def plan():
    print("1..%d" % N)
