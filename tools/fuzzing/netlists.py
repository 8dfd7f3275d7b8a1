"""Netlist fuzz cases: mutations of ``examples/balanced.json`` / ``.toml`` and of small
generated netlists, each through load -> expand -> compile -> a few ticks on the chip
and on the float reference.

A case is ``(suffix, payload)``: ``(".json" | ".toml", text)`` is written to a file and
read by ``load_netlist``; ``("dict", mapping)`` goes to ``netlist_from_dict`` (so values
no text can hold, complex numbers, reach the checks too). ``cases(seed, count)`` yields
``(label, case)``; ``label`` (``"netlist seed:index kind"``) reproduces it with
``case_for``.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from pathlib import Path

from .mutate import mutate_doc, mutate_numbers, mutate_text, to_toml

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE_JSON = ROOT / "examples" / "balanced.json"
EXAMPLE_TOML = ROOT / "examples" / "balanced.toml"
RUN_TICKS = 30
KINDS = ("structure-json", "structure-toml", "structure-dict", "bytes-json", "bytes-toml",
         "generated-json", "generated-dict", "numbers-json", "numbers-generated")


def _weight(rng: random.Random):
    return rng.choice([rng.uniform(-2e-10, 3e-10), {"mean": 5e-11, "std": 1e-11},
                       {"low": -1e-10, "high": 1e-10}])


def _connectivity(rng: random.Random, n_pre: int, n_post: int) -> dict:
    kind = rng.choice(["list", "dense", "fixed_probability", "fixed_fan_in"])
    if kind == "list":
        k = rng.randint(0, 6)
        return {"type": "list", "pre": [rng.randrange(n_pre) for _ in range(k)],
                "post": [rng.randrange(n_post) for _ in range(k)],
                "weight": [rng.uniform(-2e-10, 2e-10) for _ in range(k)]}
    if kind == "dense":
        return {"type": "dense", "weights": [[rng.choice([0.0, 1e-10, -1e-10])
                                              for _ in range(n_post)] for _ in range(n_pre)]}
    if kind == "fixed_probability":
        return {"type": "fixed_probability", "p": rng.choice([0.0, 0.05, 0.3, 1.0]),
                "weight": _weight(rng), "seed": rng.randrange(100)}
    return {"type": "fixed_fan_in", "n": rng.randint(0, n_pre), "weight": _weight(rng)}


def _input(rng: random.Random, name: str, size: int, duration: float) -> dict:
    kind = rng.choice(["spikes", "poisson", "dc", "step"])
    if kind == "spikes":
        return {"kind": "spikes", "target": name, "weight": 3e-10,
                "times": {str(rng.randrange(size)): [round(rng.uniform(0, duration * 0.9), 3)]}}
    if kind == "poisson":
        return {"kind": "poisson", "target": name, "rate": rng.choice([5.0, 100.0]),
                "weight": 5e-11, "fan_in": rng.randint(1, 50)}
    if kind == "dc":
        return {"kind": "dc", "target": name, "amplitude": rng.uniform(0, 3e-10)}
    return {"kind": "step", "target": name, "times": [0.0, round(duration / 2, 3)],
            "amplitudes": [2e-10, 0.0]}


def generated(rng: random.Random) -> dict:
    """A small random netlist, valid as generated (mutations make it otherwise)."""
    dt = rng.choice([1e-3, 5e-4, 1e-4])
    ticks = rng.randint(5, 60)
    pops = {f"p{j}": {"model": "lif", "size": rng.randint(1, 12),
                      "params": {"T_ref": rng.choice([0.0, 2e-3]),
                                 "reset": rng.choice(["value", "subtract", "none"])}}
            for j in range(rng.randint(1, 3))}
    names = list(pops)
    projections = []
    for _ in range(rng.randint(0, 3)):
        a, b = rng.choice(names), rng.choice(names)
        projections.append({"pre": a, "post": b, "delay": dt * rng.randint(1, 5),
                            "connectivity": _connectivity(rng, pops[a]["size"],
                                                          pops[b]["size"])})
    inputs = []
    for _ in range(rng.randint(0, 3)):
        name = rng.choice(names)
        inputs.append(_input(rng, name, pops[name]["size"], ticks * dt))
    return {"format": "neurochip-netlist", "version": 1, "dt": dt, "duration": ticks * dt,
            "seed": rng.randrange(1000), "populations": pops, "projections": projections,
            "inputs": inputs, "probes": [{"population": names[0], "record": ["spikes", "v"]}]}


class _deep_ok:
    """Raise Python's recursion limit while a case with deep nesting is built or written
    (``copy.deepcopy``, ``json.dumps``); the code under test runs at the normal limit."""

    def __enter__(self):
        self.old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(self.old, 20000))

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.old)


def dumps(doc) -> str:
    with _deep_ok():
        return json.dumps(doc)


def case_for(seed: int, index: int) -> tuple[str, tuple]:
    """Case ``index`` of the campaign ``seed``: ``(kind, (suffix, payload))``."""
    rng = random.Random(f"netlist:{seed}:{index}")
    kind = KINDS[index % len(KINDS)]
    base = json.loads(EXAMPLE_JSON.read_text())
    if kind.startswith("generated"):
        doc = generated(rng)
        if rng.random() < 0.8:
            doc = mutate_doc(rng, doc, complex_ok=kind.endswith("dict"))
        if kind.endswith("dict"):
            return kind, ("dict", doc)
        return kind, (".json", dumps(doc))
    if kind.startswith("numbers"):
        doc = generated(rng) if kind.endswith("generated") else base
        return kind, (".json", dumps(mutate_numbers(rng, doc)))
    if kind == "structure-dict":
        return kind, ("dict", mutate_doc(rng, base))
    if kind in ("structure-json", "structure-toml"):
        doc = mutate_doc(rng, base, complex_ok=False)
        return kind, ((".json", dumps(doc)) if kind.endswith("json")
                      else (".toml", to_toml(doc)))
    text = (EXAMPLE_JSON if kind == "bytes-json" else EXAMPLE_TOML).read_text()
    for _ in range(rng.randint(1, 3)):
        text = mutate_text(rng, text)
    return kind, (".json" if kind == "bytes-json" else ".toml", text)


def cases(seed: int, count: int, start: int = 0):
    """``count`` labelled cases of the campaign ``seed``: ``(label, (seed, index))``, the
    case itself built in the child (``run_key``)."""
    for index in range(start, start + count):
        yield f"netlist {seed}:{index} {KINDS[index % len(KINDS)]}", (seed, index)


def run_key(key) -> None:
    """Build case ``key = (seed, index)`` and run it (``run_case``)."""
    with _deep_ok():
        _, case = case_for(*key)
    run_case(case)


def run_case(case, ticks: int = RUN_TICKS) -> None:
    """Load -> expand -> compile -> ``ticks`` ticks on the chip (numpy backend) and on
    the float reference. Raises whatever the project raises."""
    from neurochip.compiler.pipeline import compile_netlist, float_run, roomy_core_spec
    from neurochip.formats.netlist import expand, load_netlist, netlist_from_dict
    from neurochip.hardware.chip import ChipSpec

    suffix, payload = case
    if suffix == "dict":
        net = netlist_from_dict(payload, "<fuzz>")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "case" + suffix)
            with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(payload)
            net = load_netlist(path)
    ex = expand(net)
    n = min(ticks, ex.ticks)
    spec = ChipSpec(1, 1, core=roomy_core_spec(max(ex.n, 1), 1))
    compiled = compile_netlist(ex, spec)
    compiled.run(n, record=("spikes", "v"), backend="numpy")
    float_run(ex, n, record=("spikes", "V"))
