"""scenario - the shared hot-plug scenario descriptions (tests/scenarios/).

Loads and checks tests/scenarios/*.json and the card map cards.json, and
runs a scenario's steps on a back-end: tests/qemu/run.py (QEMU) or
tests/scenarios/sim.py (hotswapd on the simulated chassis).  The format
and the mapping of each step on each back-end are in README.md.  Python's
standard library only.

A back-end is an object with a `name` ("qemu" or "sim") and one method
per step kind, `do_<kind>(self, args)`, where `args` is the step's value
normalised to a dict (slot names are strings, durations seconds).  A
method raises Failure when what it sees is not what the step expects;
`execute` adds the step's number and text to the message.
"""

import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("qemu", "sim")


class Failure(Exception):
    """A step found something other than it expects."""


class BadScenario(Exception):
    """A scenario or card file is malformed: FILE: step N (KIND): WHAT."""


# ---- the chassis ----------------------------------------------------------

# The slots both back-ends share: QEMU's q35 chassis (tests/qemu/run.py)
# and its mirror examples/qemu-q35.json.  Each back-end checks at start
# that its chassis has these slots with these kinds.  "power_controller":
# false is rp3 (power_controller_present=off).
SLOTS = {}
for _n in ("11", "12", "13", "15", "16", "17"):
    SLOTS[_n] = {"kind": "pcie", "power_controller": _n != "13"}
for _n in range(1, 11):
    SLOTS[str(_n)] = {"kind": "shpc", "power_controller": True}

STATES = ("empty", "off", "blinking-on", "powering-on", "on",
          "blinking-off", "powering-off", "fault", "connected")
INDICATORS = ("on", "off", "blink")

# ---- durations --------------------------------------------------------------

_DUR = re.compile(r"^(\d+(?:\.\d+)?)(s|ms|us)$")
_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def duration(text):
    """'5.1s', '100ms', '250us' -> seconds (float); ValueError otherwise."""
    m = _DUR.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError("%r is not a duration (say 5s, 100ms or 250us)"
                         % (text,))
    return float(m.group(1)) * _UNIT[m.group(2)]


# ---- step kinds -----------------------------------------------------------

# kind -> (what a bare value means, {key: (type, required)}).  The types:
# "slot", "card", "bool", "dur", "state", "ind", "regex", "states",
# "outcome".  A bare value (not an object) fills the key named first.
STEP_KINDS = {
    # actions: they set the slot's mark (see expect_transitions)
    "insert": ("slot", {"slot": ("slot", True), "card": ("card", True)}),
    "button": ("slot", {"slot": ("slot", True)}),
    "pull": ("slot", {"slot": ("slot", True), "surprise": ("bool", False)}),
    "remove": ("slot", {"slot": ("slot", True), "expect": ("outcome", False),
                        "matches": ("regex", False)}),
    "add": ("slot", {"slot": ("slot", True), "expect": ("outcome", False),
                     "matches": ("regex", False)}),
    "authorize": ("slot", {"slot": ("slot", True)}),
    # time
    "wait": ("time", {"time": ("dur", True)}),
    # expectations
    "expect": ("slot", {"slot": ("slot", True), "state": ("state", False),
                        "within": ("dur", False), "present": ("bool", False),
                        "power_indicator": ("ind", False),
                        "attention": ("ind", False)}),
    "expect_transitions": ("slot", {"slot": ("slot", True),
                                    "states": ("states", True),
                                    "within": ("dur", False)}),
    "expect_bound": ("slot", {"slot": ("slot", True)}),
    "expect_blocked": ("slot", {"slot": ("slot", True)}),
    "expect_unconfigured": ("slot", {"slot": ("slot", True)}),
    "expect_inside_window": ("slot", {"slot": ("slot", True)}),
    "expect_unmoved": ("slot", {"slot": ("slot", True)}),
    "expect_io": ("slot", {"slot": ("slot", True)}),
    "expect_dma": ("slot", {"slot": ("slot", True),
                            "blocked": ("bool", True)}),
    "expect_alert": ("slot", {"slot": ("slot", True),
                              "matches": ("regex", True),
                              "within": ("dur", False)}),
    "expect_no_alert": ("slot", {"slot": ("slot", True)}),
}
ACTIONS = ("insert", "button", "pull", "remove", "add", "authorize")
TOP_KEYS = {"description", "backends", "authorization", "repeat", "timed",
            "steps", "comment"}


# ---- cards ------------------------------------------------------------------


def load_cards(path=None):
    """cards.json: abstract card name -> per back-end description."""
    path = path or os.path.join(HERE, "cards.json")
    try:
        with open(path) as f:
            cards = json.load(f)
    except (OSError, ValueError) as e:
        raise BadScenario("%s: %s" % (path, e))

    def bad(name, what):
        raise BadScenario("%s: card %r: %s" % (path, name, what))
    if not isinstance(cards, dict) or not cards:
        raise BadScenario("%s: expected an object of cards" % path)
    cards = {k: v for k, v in cards.items() if k != "comment"}
    for name, c in cards.items():
        if not isinstance(c, dict):
            bad(name, "expected an object")
        unknown = set(c) - {"description", "qemu", "sim", "comment"}
        if unknown:
            bad(name, "unknown key(s) %s" % ", ".join(sorted(unknown)))
        q = c.get("qemu")
        if q is not None:
            fns = q.get("functions") if isinstance(q, dict) else None
            if not isinstance(fns, list) or not fns:
                bad(name, "qemu.functions must be a non-empty list")
            for i, fn in enumerate(fns):
                if not isinstance(fn, dict) or "device" not in fn:
                    bad(name, "qemu.functions[%d] needs a device" % i)
                unknown = set(fn) - {"device", "fn", "driver", "io", "dma",
                                     "probe", "memdev", "comment"}
                if unknown:
                    bad(name, "qemu.functions[%d]: unknown key(s) %s"
                        % (i, ", ".join(sorted(unknown))))
                fn.setdefault("fn", i)
                fn.setdefault("driver", None)
            if not any(fn["fn"] == 0 for fn in fns):
                bad(name, "qemu.functions has no function 0")
        s = c.get("sim")
        if s is not None:
            if not isinstance(s, dict) or not s:
                bad(name, "sim must map slot kinds to cards")
            for kind, m in s.items():
                if kind not in ("pcie", "shpc"):
                    bad(name, "sim: %r is not a slot kind (pcie, shpc)"
                        % kind)
                if (not isinstance(m, dict) or
                        not isinstance(m.get("card"), str) or
                        not isinstance(m.get("drivers"), list) or
                        not m["drivers"]):
                    bad(name, "sim.%s needs card (a catalog name) and "
                        "drivers (one per function, null for none)" % kind)
    return cards


def card_functions(cards, card, backend, kind):
    """[(fn, driver or None)] of an abstract card on a back-end in a slot
    of that kind; None when the card has no mapping there."""
    c = cards[card]
    if backend == "qemu":
        q = c.get("qemu")
        return sorted((f["fn"], f["driver"]) for f in q["functions"]) \
            if q else None
    s = (c.get("sim") or {}).get(kind)
    return list(enumerate(s["drivers"])) if s else None


# ---- scenarios ------------------------------------------------------------


class Scenario:
    def __init__(self, path, name, data, steps):
        self.path = path
        self.name = name
        self.description = data.get("description", "")
        self.backends = tuple(data.get("backends", BACKENDS))
        self.authorization = data.get("authorization", "allow")
        self.repeat = data.get("repeat", 1)
        self.timed = data.get("timed", False)
        self.steps = steps        # [(index from 1, kind, args, backends, text)]

    def repeats(self, runs):
        """How often the steps run for --runs RUNS."""
        r = self.repeat
        if r == "runs":
            return runs
        if r == "runs/2":
            return max(1, runs // 2)
        return r


def _value(path, where, key, typ, v, cards):
    def bad(what):
        raise BadScenario("%s: %s: %s" % (path, where, what))
    if typ == "slot":
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            bad("%s must be a slot number" % key)
        v = str(v)
        if v not in SLOTS:
            bad("no slot %s in the shared chassis (slots: %s)"
                % (v, ", ".join(sorted(SLOTS, key=int))))
        return v
    if typ == "card":
        if v not in cards:
            bad("unknown card %r (cards.json has: %s)"
                % (v, ", ".join(sorted(cards))))
        return v
    if typ == "bool":
        if not isinstance(v, bool):
            bad("%s must be true or false" % key)
        return v
    if typ == "dur":
        try:
            return duration(v)
        except ValueError as e:
            bad("%s: %s" % (key, e))
    if typ == "state":
        if v not in STATES:
            bad("%s: %r is not a slot state (%s)"
                % (key, v, ", ".join(STATES)))
        return v
    if typ == "states":
        if not isinstance(v, list) or not v or any(s not in STATES
                                                   for s in v):
            bad("%s must be a list of slot states (%s)"
                % (key, ", ".join(STATES)))
        return list(v)
    if typ == "ind":
        if v not in INDICATORS:
            bad("%s must be one of %s" % (key, ", ".join(INDICATORS)))
        return v
    if typ == "regex":
        if not isinstance(v, str):
            bad("%s must be a regular expression (a string)" % key)
        try:
            re.compile(v)
        except re.error as e:
            bad("%s: bad regular expression: %s" % (key, e))
        return v
    if typ == "outcome":
        if v not in ("ok", "fail"):
            bad("%s must be ok or fail" % key)
        return v
    raise AssertionError(typ)


def _step(path, i, raw, cards, top_backends):
    where = "step %d" % i
    if not isinstance(raw, dict):
        raise BadScenario("%s: %s: a step is an object such as "
                          '{"button": 11}' % (path, where))
    backends = raw.get("backends", list(top_backends))
    kinds = [k for k in raw if k not in ("backends", "comment")]
    if len(kinds) != 1:
        raise BadScenario("%s: %s: a step has exactly one kind, found %s"
                          % (path, where, ", ".join(kinds) or "none"))
    kind = kinds[0]
    if kind not in STEP_KINDS:
        raise BadScenario("%s: %s: unknown step %r (known: %s)"
                          % (path, where, kind, ", ".join(STEP_KINDS)))
    where = "step %d (%s)" % (i, kind)
    if (not isinstance(backends, list) or not backends or
            any(b not in top_backends for b in backends)):
        raise BadScenario("%s: %s: backends must be a non-empty subset of "
                          "the scenario's %s" % (path, where,
                                                 list(top_backends)))
    bare, schema = STEP_KINDS[kind]
    v = raw[kind]
    args = v if isinstance(v, dict) else {bare: v}
    for k in args:
        if k not in schema:
            raise BadScenario("%s: %s: unknown key %r (expected: %s)"
                              % (path, where, k, ", ".join(schema)))
    out = {}
    for k, (typ, req) in schema.items():
        if k in args:
            out[k] = _value(path, where, k, typ, args[k], cards)
        elif req:
            raise BadScenario("%s: %s: missing %r" % (path, where, k))
    if kind == "expect" and len(out) == 1:
        raise BadScenario("%s: %s: expect what? (state, present, "
                          "power_indicator, attention)" % (path, where))
    text = json.dumps({kind: v}, separators=(", ", ": "))
    return (i, kind, out, tuple(backends), text)


def _check_flow(path, sc, cards):
    """What can be checked before running: cards have a mapping for the
    slot they go into on each back-end that runs the step, a step about
    a card has a card to talk about, QEMU is not asked for what it
    cannot do."""
    occupant = {}          # slot -> card, as the steps leave it
    windows = set()        # slots whose BARs an expect_inside_window saw

    def bad(st, what):
        raise BadScenario("%s: step %d (%s): %s" % (path, st[0], st[1], what))
    for st in sc.steps:
        i, kind, a, backends, _ = st
        slot = a.get("slot")
        kind_of_slot = SLOTS[slot]["kind"] if slot else None
        if kind == "insert":
            if slot in occupant:
                bad(st, "slot %s already holds %s (pull it first)"
                    % (slot, occupant[slot]))
            for b in backends:
                if card_functions(cards, a["card"], b, kind_of_slot) is None:
                    bad(st, "card %r has no %s mapping for a %s slot "
                        "(cards.json)" % (a["card"], b, kind_of_slot))
            occupant[slot] = a["card"]
            windows.discard(slot)
        elif kind == "pull":
            if slot not in occupant:
                bad(st, "slot %s holds no card" % slot)
            if "qemu" in backends and a.get("surprise"):
                bad(st, "QEMU cannot pull a powered card (device_del is "
                    "its attention button): give the step "
                    '"backends": ["sim"]')
            if "qemu" in backends and not SLOTS[slot]["power_controller"]:
                bad(st, "QEMU never deletes the card of slot %s (no power "
                    "controller): give the step \"backends\": [\"sim\"]"
                    % slot)
            del occupant[slot]
        elif kind in ("expect_bound", "expect_blocked", "expect_io",
                      "expect_dma", "expect_inside_window", "expect_unmoved",
                      "authorize", "remove", "add"):
            if slot not in occupant:
                bad(st, "slot %s holds no card" % slot)
            card = occupant[slot]
            if kind == "expect_inside_window":
                windows.add(slot)
            if kind == "expect_unmoved" and slot not in windows:
                bad(st, "no expect_inside_window on slot %s before it to "
                    "compare with" % slot)
            if "qemu" in backends and kind in ("expect_io", "expect_dma"):
                fns = cards[card]["qemu"]["functions"]
                if kind == "expect_io" and not all(
                        f.get("io") for f in fns if f["driver"]):
                    bad(st, "card %r: a QEMU function with a driver has no "
                        "io command (cards.json)" % card)
                if kind == "expect_io" and not any(f["driver"] for f in fns):
                    bad(st, "card %r has no driver on QEMU" % card)
                if kind == "expect_dma" and not [
                        f for f in fns if f["fn"] == 0 and f.get("dma")]:
                    bad(st, "card %r: QEMU's function 0 cannot DMA "
                        "(no dma in cards.json)" % card)
            if "sim" in backends and kind in ("expect_io",):
                fns = card_functions(cards, card, "sim", kind_of_slot)
                if not any(d for _, d in fns):
                    bad(st, "card %r has no driver on the simulator" % card)
    if sc.repeats(2) > 1 and occupant:
        raise BadScenario("%s: repeat needs the steps to leave every slot "
                          "empty; they leave %s" % (path, ", ".join(
                              "%s in slot %s" % (c, s)
                              for s, c in sorted(occupant.items()))))


def load(path, cards):
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise BadScenario("%s: %s" % (path, e.strerror))
    except ValueError as e:
        raise BadScenario("%s: malformed JSON: %s" % (path, e))
    if not isinstance(data, dict):
        raise BadScenario("%s: a scenario is a JSON object" % path)
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise BadScenario("%s: unknown key(s) %s (expected: %s)" % (
            path, ", ".join(sorted(unknown)), ", ".join(sorted(TOP_KEYS))))
    backends = data.get("backends", list(BACKENDS))
    if (not isinstance(backends, list) or not backends or
            any(b not in BACKENDS for b in backends)):
        raise BadScenario("%s: backends must be a non-empty list of %s"
                          % (path, ", ".join(BACKENDS)))
    if data.get("authorization", "allow") not in ("allow", "block"):
        raise BadScenario("%s: authorization must be allow or block" % path)
    rep = data.get("repeat", 1)
    if rep not in ("runs", "runs/2") and (isinstance(rep, bool) or
                                          not isinstance(rep, int) or
                                          rep < 1):
        raise BadScenario("%s: repeat must be a positive integer, \"runs\" "
                          "or \"runs/2\"" % path)
    if not isinstance(data.get("timed", False), bool):
        raise BadScenario("%s: timed must be true or false" % path)
    if not isinstance(data.get("description", ""), str):
        raise BadScenario("%s: description must be a string" % path)
    raw = data.get("steps")
    if not isinstance(raw, list) or not raw:
        raise BadScenario("%s: steps must be a non-empty list" % path)
    steps = [_step(path, i + 1, s, cards, tuple(backends))
             for i, s in enumerate(raw)]
    sc = Scenario(path, name, data, steps)
    _check_flow(path, sc, cards)
    return sc


def load_dir(directory=None, cards=None):
    """Every *.json of the directory except cards.json, sorted by name."""
    directory = directory or HERE
    cards = cards if cards is not None else load_cards(
        os.path.join(directory, "cards.json"))
    out = []
    for fn in sorted(os.listdir(directory)):
        if fn.endswith(".json") and fn != "cards.json":
            out.append(load(os.path.join(directory, fn), cards))
    return out, cards


# ---- running ----------------------------------------------------------------


def execute(sc, backend, runs=1, log=None):
    """Run the scenario's steps (repeated as it says) on the back-end.
    Raises Failure naming the step and what was seen."""
    n = sc.repeats(runs)
    for rep in range(n):
        for i, kind, args, backends, text in sc.steps:
            if backend.name not in backends:
                continue
            if log:
                log("step %d%s: %s" % (i, " (run %d)" % (rep + 1)
                                       if n > 1 else "", text))
            try:
                getattr(backend, "do_" + kind)(dict(args))
            except (Failure,) + tuple(getattr(backend, "failures", ())) as e:
                raise Failure("step %d%s %s: %s" % (
                    i, " of run %d" % (rep + 1) if n > 1 else "", text, e))
