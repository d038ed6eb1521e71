#!/usr/bin/env python3
# check-layers.py NM OBJ... [--src CORE_DIR] [--doc CORE_MD] - the
# core's modules call and include only downward.
#
# Reads which module defines and which uses every global symbol (nm on
# the core's objects), draws the module call graph, and checks it against
# the layers declared in docs/core.md's table, read from it (issue #18):
#   - no cycle between modules (a strongly connected set of two or more);
#   - no call from a module to one in a higher layer (calls up go through
#     the registered upcalls in struct hs_upcalls, which nm cannot see).
# With --src, also each core/*.c and core/*.h: a module includes only the
# headers (hs_<module>.h) of its own layer or below.
# Prints the layer graph: each layer, its modules and what they call.
# Exits 1 naming the offending calls and symbols.
import os
import re
import subprocess
import sys

# Bottom to top; a module may call its own layer (without a cycle) and
# any below.  Read from the table in docs/core.md ("## Layers"), the one
# place the layers are declared: lines "N name  hs_mod ... description",
# and continuation lines "  hs_mod  description" adding a module to the
# layer above them.
def read_layers(doc):
    with open(doc) as fh:
        text = fh.read()
    m = re.search(r"^## Layers\n.*?^```\n(.*?)^```", text, re.S | re.M)
    if not m:
        sys.exit("check-layers: %s has no table under '## Layers'" % doc)
    layers = {}
    last = None
    for line in m.group(1).splitlines():
        h = re.match(r"\s*(\d+)\s+(\S+(?: \S+)?)\s{2,}((?:hs_\w+\s*)+)",
                     line)
        c = re.match(r"\s+(hs_\w+)\s", line + " ")
        if h:
            last = int(h.group(1))
            if last in layers:
                sys.exit("check-layers: %s: layer %d twice" % (doc, last))
            mods = h.group(3).split()
            layers[last] = (h.group(2), mods)
        elif c and last is not None:
            layers[last][1].append(c.group(1))
        elif line.strip():
            sys.exit("check-layers: %s: cannot read the layer line '%s'"
                     % (doc, line))
    if sorted(layers) != list(range(len(layers))):
        sys.exit("check-layers: %s: layers are not numbered 0 to %d"
                 % (doc, len(layers) - 1))
    return [layers[i] for i in range(len(layers))]


LAYERS = []


def main():
    global LAYERS
    nm, objs, src = sys.argv[1], sys.argv[2:], None
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "docs", "core.md")
    if "--src" in objs:
        i = objs.index("--src")
        src, objs = objs[i + 1], objs[:i] + objs[i + 2:]
    if "--doc" in objs:
        i = objs.index("--doc")
        doc, objs = objs[i + 1], objs[:i] + objs[i + 2:]
    LAYERS = read_layers(doc)
    layer_of = {m: i for i, (_, ms) in enumerate(LAYERS) for m in ms}
    defs, uses = {}, {}
    for o in objs:
        mod = re.sub(r"\.c(\.o|\.obj)?$|\.o$", "", os.path.basename(o))
        out = subprocess.run([nm, o], capture_output=True, text=True,
                             check=True).stdout
        uses.setdefault(mod, set())
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDRBC":
                defs[f[2]] = mod
            elif len(f) == 2 and f[0] == "U":
                uses[mod].add(f[1])
    bad = []
    unknown = sorted(m for m in uses if m not in layer_of)
    if unknown:
        bad.append("modules with no declared layer: " + ", ".join(unknown))
    edges = {}
    for mod, syms in uses.items():
        for s in syms:
            to = defs.get(s)
            if to and to != mod:
                edges.setdefault(mod, {}).setdefault(to, []).append(s)
    # Cycles: Tarjan's strongly connected components.
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(uses):
        if v not in index:
            visit(v)
    for comp in sccs:
        bad.append("cycle between " + ", ".join(comp))
    for a, tos in sorted(edges.items()):
        for b, syms in sorted(tos.items()):
            if a in layer_of and b in layer_of and layer_of[b] > layer_of[a]:
                bad.append("%s (%s) calls up into %s (%s): %s" % (
                    a, LAYERS[layer_of[a]][0], b, LAYERS[layer_of[b]][0],
                    " ".join(sorted(syms))))
    nincl = 0
    if src:
        for f in sorted(os.listdir(src)):
            if not re.match(r"hs_\w+\.[ch]$", f):
                continue
            mod = f[:-2]
            with open(os.path.join(src, f)) as fh:
                for ln, line in enumerate(fh, 1):
                    m = re.match(r'\s*#\s*include\s+"(hs_\w+)\.h"', line)
                    if not m:
                        continue
                    nincl += 1
                    to = m.group(1)
                    if to not in layer_of:
                        bad.append("%s:%d includes %s.h, a header of no "
                                   "declared module" % (f, ln, to))
                    elif mod in layer_of and layer_of[to] > layer_of[mod]:
                        bad.append("%s:%d includes %s.h from a higher "
                                   "layer (%s)" % (f, ln, to,
                                                   LAYERS[layer_of[to]][0]))
    print("core layers, top first (module -> modules it calls):")
    for i in range(len(LAYERS) - 1, -1, -1):
        name, mods = LAYERS[i]
        print("  %d %-13s" % (i, name))
        for m in mods:
            callees = sorted(edges.get(m, {}),
                             key=lambda x: (-layer_of.get(x, -1), x))
            print("      %-13s -> %s" % (m, ", ".join(callees) or "-"))
    if bad:
        print("check-layers: the core's layers are broken:", file=sys.stderr)
        for b in bad:
            print("  " + b, file=sys.stderr)
        return 1
    print("check-layers: %d modules, %d calls between them, no cycle, "
          "none upward; %d private includes, none upward"
          % (len(uses), sum(len(t) for t in edges.values()), nincl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
