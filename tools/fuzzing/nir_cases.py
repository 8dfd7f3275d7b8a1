"""NIR fuzz cases: generated graphs, mutated graphs and corrupted files, each made from a
``random.Random`` (so hypothesis drives them through ``st.randoms()`` in the tests, and
the campaign through a seed per case), and ``run_case``, which pushes one case through
``load_nir`` -> ``run_float``, ``run_framework`` and ``save_nir`` -> ``load_nir``.

A case is ``("graph", raw dict)`` (in memory) or ``("file", path)``; ``make_case(rng,
tmpdir)`` picks one of: a generated graph, a generated or real graph mutated (parameter
values, shapes, names, edges, nesting, types), the same written as a ``.nir`` file, or a
real file with bytes changed, inserted, removed or truncated.
"""

from __future__ import annotations

import copy
import glob
import os
import random
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
NEURONS = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
TYPES = ("Input", "Output", "NIRGraph", *NEURONS, "Affine", "Linear", "Scale", "Delay",
         "Flatten", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Identity")
FIELDS = ("tau", "tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "v_reset", "w_in",
          "threshold", "weight", "bias", "scale", "delay", "shape", "input_type",
          "start_dim", "end_dim", "stride", "padding", "dilation", "groups", "kernel_size",
          "input_shape", "type")
NAMES = ("", "a/b", ".", "..", "a\x00b", "a.b", "lif1.lif", "é", "\udcff", "x" * 2000, " ",
         "input", "output", "type", "metadata", "nodes", "1", "a b", "%2F", "lif")


def fixture_files() -> list[Path]:
    """The committed fixtures: the frameworks' exports and the handmade graphs."""
    files = sorted(glob.glob(str(ROOT / "tests" / "data" / "nir*" / "**" / "*.nir"),
                             recursive=True))
    return [Path(f) for f in files]


_RAW: dict[str, dict] = {}


def fixture_raw(path: Path) -> dict | None:
    """A fixture's raw dict (cached), None if it does not read."""
    from neurochip.formats.nir.hdf5_read import read_nir_file

    key = str(path)
    if key not in _RAW:
        try:
            _RAW[key] = read_nir_file(path)
        except ValueError:
            _RAW[key] = None
    return _RAW[key]


# ---------------------------------------------------------------------- values
def weird_value(rng: random.Random):
    """A parameter value that a loader must refuse or survive."""
    pick = rng.randrange(24)
    table = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 0.0, -1.0, 1 + 5j,
             "abc", b"\xff\xfe", True, [], [[]], np.zeros((0,)), np.ones((2, 3)),
             np.full(3, 1e308), 10 ** 13, -10 ** 13, 2 ** 70, np.array([1e13]),
             np.array([[2, 3]]), [10 ** 12], list(range(20)), np.array([1, 2], dtype=object)]
    return table[pick]


def random_array(rng: random.Random, shape, lo=-1.0, hi=1.0) -> np.ndarray:
    return np.asarray([rng.uniform(lo, hi) for _ in range(int(np.prod(shape)))]
                      ).reshape(shape)


def value_for(rng: random.Random, key: str, old):
    """A new value for field ``key``: weird, scaled, reshaped or plausible."""
    r = rng.random()
    if r < 0.45:
        return weird_value(rng)
    a = np.asarray(old) if old is not None and not isinstance(old, (dict, str)) else None
    if r < 0.65 and a is not None and a.dtype.kind in "iuf" and a.size:
        return a * rng.choice([-1, 0, 1e-30, 1e30, 1e6, 1e-6, 2])
    if r < 0.8 and a is not None and a.dtype.kind in "iuf" and a.size:
        size = rng.choice([1, 2, 3, a.size + 1, max(a.size - 1, 1)])
        return np.resize(a, size)
    if key in ("shape", "input_type", "input_shape", "kernel_size", "stride", "padding",
               "dilation"):
        return np.array([rng.choice([0, 1, 2, 3, 34, -1, 10 ** 6, 10 ** 9])
                         for _ in range(rng.choice([0, 1, 2, 3, 4, 20]))])
    if key == "padding":
        return rng.choice(["same", "valid", "full", ""])
    if key == "type":
        return rng.choice([*TYPES, "Izhikevich", "", 5])
    return rng.uniform(-10, 10)


# ---------------------------------------------------------------------- generation
def _neuron(rng: random.Random, kind: str, n: int) -> dict:
    def vec(lo, hi):
        return random_array(rng, (n,), lo, hi) if rng.random() < 0.5 else np.full(n, rng.uniform(lo, hi))
    tau = vec(1e-3, 5e-2) if rng.random() < 0.7 else vec(1.0, 20.0)
    node = {"type": kind}
    if kind in ("LIF", "LI"):
        node.update(tau=tau, r=vec(0.5, 20), v_leak=np.zeros(n))
    if kind in ("CubaLIF", "CubaLI"):
        node.update(tau_mem=tau, tau_syn=tau * rng.uniform(0.2, 2), r=vec(0.5, 20),
                    v_leak=np.zeros(n), w_in=vec(0.5, 5))
    if kind in ("IF", "I"):
        node.update(r=vec(0.5, 2))
    if kind in ("LIF", "CubaLIF", "IF"):
        node.update(v_threshold=vec(0.1, 2), v_reset=np.zeros(n))
    if kind == "Threshold":
        node.update(threshold=vec(0.1, 2))
    return node


def generate_graph(rng: random.Random) -> dict:
    """A random, mostly valid graph: a dense chain, or a small convolutional one."""
    if rng.random() < 0.3:
        return _conv_graph(rng)
    nodes, edges = {}, []
    n = rng.randint(1, 6)
    nodes["in"] = {"type": "Input", "shape": np.array([n])}
    prev, layers = "in", rng.randint(1, 3)
    for k in range(layers):
        m = rng.randint(1, 8)
        lin = f"w{k}"
        kind = rng.choice(["Affine", "Linear"])
        nodes[lin] = {"type": kind, "weight": random_array(rng, (m, n), -2, 2)}
        if kind == "Affine":
            nodes[lin]["bias"] = random_array(rng, (m,), -0.5, 0.5)
        edges.append((prev, lin))
        src = lin
        if rng.random() < 0.2:
            nodes[f"d{k}"] = {"type": "Delay", "delay": np.full(m, rng.choice([0.0, 1e-3, 2e-3]))}
            edges.append((lin, f"d{k}"))
            src = f"d{k}"
        if rng.random() < 0.2:
            nodes[f"s{k}"] = {"type": "Scale", "scale": random_array(rng, (m,), 0, 2)}
            edges.append((src, f"s{k}"))
            src = f"s{k}"
        kind = rng.choice(NEURONS if k == layers - 1 else ("LIF", "CubaLIF", "IF", "Threshold"))
        name = f"n{k}"
        nodes[name] = _neuron(rng, kind, m)
        edges.append((src, name))
        if rng.random() < 0.15 and kind not in ("LI", "CubaLI", "I"):
            nodes[f"rec{k}"] = {"type": "Linear", "weight": random_array(rng, (m, m), -1, 1)}
            edges += [(name, f"rec{k}"), (f"rec{k}", name)]
        prev, n = name, m
    nodes["out"] = {"type": "Output", "shape": np.array([n])}
    edges.append((prev, "out"))
    return {"type": "NIRGraph", "nodes": nodes, "edges": edges}


def _conv_graph(rng: random.Random) -> dict:
    c, h = rng.randint(1, 2), rng.randint(3, 8)
    k, co = rng.randint(1, 3), rng.randint(1, 3)
    nodes = {"in": {"type": "Input", "shape": np.array([c, h, h])},
             "conv": {"type": "Conv2d", "weight": random_array(rng, (co, c, k, k)),
                      "bias": random_array(rng, (co,)), "stride": np.array([1, 1]),
                      "padding": rng.choice([np.array([0, 0]), "same"]),
                      "dilation": np.array([1, 1]), "groups": np.array(1),
                      "input_shape": np.array([h, h])},
             "n1": {"type": "IF", "r": np.ones((1,)), "v_threshold": np.ones((1,)),
                    "v_reset": np.zeros((1,))},
             "pool": {"type": rng.choice(["SumPool2d", "AvgPool2d"]),
                      "kernel_size": np.array([1, 1]), "stride": np.array([1, 1]),
                      "padding": np.array([0, 0])},
             "flat": {"type": "Flatten", "start_dim": np.array(0), "end_dim": np.array(-1)},
             "n2": {"type": "IF", "r": np.ones((1,)), "v_threshold": np.ones((1,))},
             "out": {"type": "Output"}}
    edges = [("in", "conv"), ("conv", "n1"), ("n1", "pool"), ("pool", "flat"), ("flat", "n2"),
             ("n2", "out")]
    return {"type": "NIRGraph", "nodes": nodes, "edges": edges}


# ---------------------------------------------------------------------- mutation
def _all_nodes(graph: dict, out: list | None = None) -> list[tuple[dict, str]]:
    """(containing graph, name) of every node, nested ones too."""
    out = [] if out is None else out
    nodes = graph.get("nodes")
    if isinstance(nodes, dict):
        for name, node in list(nodes.items()):
            out.append((graph, name))
            if isinstance(node, dict) and isinstance(node.get("type"), str) \
                    and node.get("type") == "NIRGraph":
                _all_nodes(node, out)
    return out


def mutate(rng: random.Random, graph: dict) -> dict:
    """``graph`` with one to three mutations (a deep copy)."""
    g = copy.deepcopy(graph)
    for _ in range(rng.randint(1, 3)):
        targets = _all_nodes(g)
        if not targets:
            break
        owner, name = rng.choice(targets)
        op = rng.choice(("value", "value", "value", "delete", "rename", "edge", "nest",
                         "type"))
        _MUTATIONS[op](rng, g, owner, name)
    return g


def _m_value(rng, g, owner, name):
    node = owner["nodes"][name]
    if not isinstance(node, dict):
        return
    keys = [k for k in node if k != "metadata"] or ["tau"]
    key = rng.choice(keys + [rng.choice(FIELDS)])
    node[key] = value_for(rng, key, node.get(key))


def _m_delete(rng, g, owner, name):
    node = owner["nodes"][name]
    if isinstance(node, dict) and node:
        node.pop(rng.choice(list(node)), None)


def _m_rename(rng, g, owner, name):
    new = rng.choice(NAMES) if rng.random() < 0.8 else name + rng.choice(["/x", ".y", "_"])
    owner["nodes"][new] = owner["nodes"].pop(name)
    if rng.random() < 0.7:
        owner["edges"] = [tuple(new if x == name else x for x in e)
                          for e in _edge_list(owner)]


def _edge_list(owner) -> list:
    e = owner.get("edges")
    return [tuple(x) for x in e] if isinstance(e, (list, tuple)) else []


def _m_edge(rng, g, owner, name):
    edges = _edge_list(owner)
    names = list(owner["nodes"])
    op = rng.randrange(5)
    if op == 0 and edges:
        edges.pop(rng.randrange(len(edges)))
    elif op == 1:
        edges.append((rng.choice(names), rng.choice(names + ["nowhere"])))
    elif op == 2 and edges:
        edges.append(rng.choice(edges))
    elif op == 3 and edges:
        i = rng.randrange(len(edges))
        edges[i] = edges[i][::-1]
    else:
        owner["edges"] = rng.choice([5, "ab", [["a"]], np.array([1, 2]), None, [(1, 2)]])
        return
    owner["edges"] = edges


def _m_nest(rng, g, owner, name):
    node = owner["nodes"][name]
    owner["nodes"][name] = {"type": "NIRGraph", "nodes": {
        "input": {"type": "Input", "shape": np.array([1])}, "inner": node,
        "output": {"type": "Output", "shape": np.array([1])}},
        "edges": [("input", "inner"), ("inner", "output")]}


def _m_type(rng, g, owner, name):
    node = owner["nodes"][name]
    if isinstance(node, dict):
        node["type"] = rng.choice([*TYPES, "Izhikevich", ""])


_MUTATIONS = {"value": _m_value, "delete": _m_delete, "rename": _m_rename, "edge": _m_edge,
              "nest": _m_nest, "type": _m_type}


# ---------------------------------------------------------------------- files
def write_raw(graph: dict, path: str) -> bool:
    """Write a raw graph dict as HDF5 the way ``nir.write`` lays it out; False when h5py
    cannot store it (then the case stays in memory)."""
    import h5py

    def put(group, d):
        for k, v in d.items():
            if isinstance(v, dict):
                put(group.create_group(str(k)), v)
            elif isinstance(v, str):
                group.create_dataset(k, data=v, dtype=h5py.string_dtype())
            elif k == "edges" and isinstance(v, list):
                group.create_dataset(k, data=np.array(v, dtype=object).astype("S"))
            else:
                group.create_dataset(k, data=v)
    try:
        with h5py.File(path, "w") as f:
            f.create_dataset("version", data="1.0.8", dtype=h5py.string_dtype())
            put(f.create_group("node"), graph)
        return True
    except Exception:                                 # noqa: BLE001 - h5py refuses values
        return False


def corrupt_bytes(rng: random.Random, data: bytes) -> bytes:
    """``data`` with bytes changed, a range zeroed or shuffled, inserted, removed, or cut."""
    b = bytearray(data)
    op = rng.randrange(6)
    if op <= 1:
        for _ in range(rng.choice([1, 1, 2, 4, 16])):
            i = rng.randrange(len(b))
            b[i] = b[i] ^ (1 << rng.randrange(8)) if op == 0 else rng.randrange(256)
    elif op == 2:
        i = rng.randrange(len(b))
        b[i:i + rng.randint(1, 64)] = bytes(rng.randint(1, 64))
    elif op == 3:
        i = rng.randrange(len(b))
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif op == 4:
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 64)]
    else:
        b = b[:rng.randrange(len(b))]
    return bytes(b)


def make_case(rng: random.Random, tmpdir: str) -> tuple[str, object, str]:
    """One case: ``(kind, graph dict or file path, description)``."""
    files = fixture_files()
    r = rng.random()
    if r < 0.3 and files:
        path = rng.choice(files)
        out = os.path.join(tmpdir, "corrupt.nir")
        with open(out, "wb") as f:
            f.write(corrupt_bytes(rng, path.read_bytes()))
        return "file", out, f"bytes of {path.name}"
    base, what = None, "generated"
    if r < 0.75 and files:
        path = rng.choice(files)
        base, what = fixture_raw(path), f"mutated {path.name}"
    if base is None:
        base = generate_graph(rng)
    graph = mutate(rng, base) if (what != "generated" or rng.random() < 0.6) else base
    if rng.random() < 0.25:
        out = os.path.join(tmpdir, "graph.nir")
        if write_raw(graph, out):
            return "file", out, what + " (file)"
    return "graph", graph, what
