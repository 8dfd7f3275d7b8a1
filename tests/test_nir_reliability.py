"""Regression tests of issue 14: every input the NIR fuzz campaign found crashing,
hanging or allocating without bound is a named ``NirError`` (docs/reliability.md)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")
nir = pytest.importorskip("nir")

from neurochip.hardware.limits import memory_budget, parse_bytes  # noqa: E402
from neurochip.formats.nir import NirError, load_nir, run_float, run_framework  # noqa: E402
from neurochip.formats.nir.hdf5_read import read_nir_file  # noqa: E402

DATA = Path(__file__).parent / "data" / "nir"


def lif(n=2, **over):
    node = {"type": "LIF", "tau": np.full(n, 0.01), "r": np.ones(n), "v_leak": np.zeros(n),
            "v_threshold": np.ones(n), "v_reset": np.zeros(n)}
    node.update(over)
    return node


def chain(neuron=None, n=2, extra=None, names=("in", "w", "lif", "out")):
    i, w, n_, o = names
    nodes = {i: {"type": "Input", "shape": np.array([n])},
             w: {"type": "Linear", "weight": np.eye(n)},
             n_: neuron if neuron is not None else lif(n),
             o: {"type": "Output", "shape": np.array([n])}}
    nodes.update(extra or {})
    return {"type": "NIRGraph", "nodes": nodes, "edges": [(i, w), (w, n_), (n_, o)]}


def refused(graph, *words, dt=1e-3):
    with pytest.raises(NirError) as e:
        load_nir(graph, dt=dt)
    text = str(e.value)
    assert "\n" not in text
    for w in words:
        assert w in text, text
    return text


# ------------------------------------------------------------------ HDF5 files
def _heap_corrupted(tmp_path: Path) -> Path:
    """braille_bias_zero.nir with the size of global-heap object 21 ('output') changed
    from 6 to 70 bytes: the same corruption as byte 2688 of the NIR paper's
    braille_noDelay_bias_zero_subgraph.nir, which hung h5py."""
    data = bytearray((DATA / "snntorch" / "braille_bias_zero.nir").read_bytes())
    assert data[2576] == 0x06 and data[2584:2590] == b"output"
    data[2576] = 0x46
    path = tmp_path / "heap.nir"
    path.write_bytes(bytes(data))
    return path


def test_corrupted_heap_that_hangs_hdf5_is_refused_within_the_timeout(tmp_path):
    path = _heap_corrupted(tmp_path)
    t0 = time.monotonic()
    with pytest.raises(NirError, match="took over 5 s .*hangs"):
        load_nir(path, dt=1e-4)
    assert time.monotonic() - t0 < 10
    # the reader is started afresh: a good file loads right after
    assert load_nir(DATA / "snntorch" / "braille_bias_zero.nir", dt=1e-4).netlist.n == 45


def test_hdf5_errors_are_named_refusals(tmp_path):
    data = bytearray((DATA / "snntorch" / "braille_bias_zero.nir").read_bytes())
    data[2600] = 0x48                     # object 22 ('lif1.lif') 8 -> 72 bytes, and ...
    data[2112] ^= 0x40                    # object 2 ('NIRGraph'): an h5py error on read
    path = tmp_path / "bad.nir"
    path.write_bytes(bytes(data))
    with pytest.raises(NirError, match=r"bad.nir: (HDF5 object '/node/[^']*': cannot be read"
                                       r"|reading it took)"):
        read_nir_file(path, timeout=2)
    for cut in (100, 3000, 20000):       # truncated files
        path.write_bytes((DATA / "sinabs" / "iaf_ff.nir").read_bytes()[:cut])
        with pytest.raises(NirError, match="bad.nir: "):
            load_nir(path, dt=1e-3)
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(NirError, match="cannot read as a NIR"):
        load_nir(path, dt=1e-3)


def test_file_over_the_memory_budget_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "10KiB")
    with pytest.raises(NirError, match=r"over the memory budget of 10 KiB"):
        load_nir(DATA / "sinabs" / "iaf_ff.nir", dt=1e-3)
    path = tmp_path / "zeros.nir"               # 8 MB of zeros, gzip-compressed
    nir.write(path, nir.NIRGraph(nodes={"in": nir.Input(np.array([1000])),
                                        "w": nir.Linear(weight=np.zeros((1000, 1000))),
                                        "out": nir.Output(np.array([1000]))},
                                 edges=[("in", "w"), ("w", "out")], type_check=False))
    assert path.stat().st_size < 200_000
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "1MiB")      # file fits, datasets do not
    with pytest.raises(NirError, match=r"HDF5 object '/node/nodes/w/weight'.*memory budget"):
        load_nir(path, dt=1e-3)


def test_memory_budget_variable(monkeypatch):
    monkeypatch.delenv("NEUROCHIP_MEMORY_BUDGET", raising=False)
    assert memory_budget() == 4 * 2 ** 30
    assert parse_bytes("512MiB") == 2 ** 29 and parse_bytes("2GB") == 2 * 10 ** 9
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "lots")
    with pytest.raises(ValueError, match="NEUROCHIP_MEMORY_BUDGET"):
        memory_budget()


# ------------------------------------------------------------------ parameter values
@pytest.mark.parametrize("field, value, words", [
    ("tau", [], ("node 'lif'", "'tau'", "empty")),
    ("r", np.zeros(0), ("node 'lif'", "'r'", "empty")),
    ("v_threshold", 1 + 5j, ("'v_threshold'", "complex")),
    ("v_threshold", np.array([1 + 5j, 1]), ("'v_threshold'", "complex")),
    ("v_threshold", "1.5", ("'v_threshold'", "numbers")),
    ("v_leak", b"0", ("'v_leak'", "numbers")),
    ("v_threshold", True, ("'v_threshold'", "booleans")),
    ("tau", np.array([True, False]), ("'tau'", "booleans")),
    ("tau", [[1.0], [1.0, 2.0]], ("'tau'", "numbers")),
    ("v_threshold", 1e308, ("'v_threshold'", "beyond")),
    ("r", np.array([1.0, np.nan]), ("'r'", "non-finite")),
])
def test_bad_parameter_values_are_refused_by_node_and_field(field, value, words):
    refused(chain(lif(2, **{field: value})), *words)


def test_cubalif_w_in_and_weights_of_1e308():
    node = {"type": "CubaLIF", "tau_syn": np.full(2, 0.01), "tau_mem": np.full(2, 0.02),
            "r": np.ones(2), "v_leak": np.zeros(2), "v_threshold": np.ones(2),
            "w_in": np.full(2, 1e308)}
    refused(chain(node), "node 'lif'", "'w_in'", "1e+308")
    g = chain()
    g["nodes"]["w"]["weight"] = np.full((2, 2), 1e308)
    refused(g, "node 'w'", "'weight'", "1e+308")


def test_flatten_with_a_2d_input_type():
    g = chain(extra={"f": {"type": "Flatten", "input_type": np.array([[2, 1]]),
                           "start_dim": 0, "end_dim": -1}})
    g["edges"] = [("in", "f"), ("f", "w"), ("w", "lif"), ("lif", "out")]
    refused(g, "node 'f'", "input_type must be a list")


@pytest.mark.parametrize("kernel", [np.array([-np.inf, 2]), np.array([np.inf, 2]),
                                    np.array([np.nan, 2]), np.array([1e30, 2]), "3", True,
                                    np.array([[2, 2]])])
def test_pool_kernel_sizes_that_are_no_integers(kernel):
    g = {"type": "NIRGraph", "nodes": {
        "in": {"type": "Input", "shape": np.array([1, 4, 4])},
        "p": {"type": "SumPool2d", "kernel_size": kernel, "stride": np.array([2, 2]),
              "padding": np.array([0, 0])},
        "f": {"type": "Flatten", "start_dim": 0, "end_dim": -1},
        "n": {"type": "IF", "r": np.ones(1), "v_threshold": np.ones(1)},
        "out": {"type": "Output"}},
        "edges": [("in", "p"), ("p", "f"), ("f", "n"), ("n", "out")]}
    refused(g, "node 'p'", "kernel_size")


def test_absurd_shapes_and_unrolled_convolutions_are_refused_before_allocation():
    g = chain(n=2)
    g["nodes"]["in"]["shape"] = np.array([10 ** 7, 10 ** 7])
    refused(g, "node 'in'", "values")
    conv = {"type": "NIRGraph", "nodes": {
        "in": {"type": "Input", "shape": np.array([64, 4096, 4096])},
        "c": {"type": "Conv2d", "weight": np.ones((64, 64, 3, 3)), "stride": 1, "padding": 1,
              "dilation": 1, "groups": 1, "input_shape": np.array([4096, 4096])},
        "n": {"type": "IF", "r": np.ones(1), "v_threshold": np.ones(1)},
        "out": {"type": "Output"}}, "edges": [("in", "c"), ("c", "n"), ("n", "out")]}
    t0 = time.monotonic()
    refused(conv, "node 'c'", "unrolling it", "memory budget", "NEUROCHIP_MEMORY_BUDGET")
    assert time.monotonic() - t0 < 2
    refused(chain(lif(2, tau=np.full((10 ** 6, 1), 0.01), r=np.ones((1, 10 ** 6)), v_leak=0.0,
                      v_threshold=1.0, v_reset=0.0)), "node 'lif'", "memory budget")


def test_delay_of_10_to_the_13_ticks_is_refused():
    g = chain(extra={"d": {"type": "Delay", "delay": np.full(2, 1e10)}})
    g["edges"] = [("in", "w"), ("w", "d"), ("d", "lif"), ("lif", "out")]
    refused(g, "node 'd'", "1e+13 ticks", "over the limit")


def test_run_float_and_run_framework_refuse_runs_over_the_budget(monkeypatch):
    g = chain(n=4)
    net = load_nir(g, dt=1e-3)
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "1MiB")
    x = np.zeros((10 ** 5, 4))
    with pytest.raises(NirError, match=r"run_float over 100000 ticks x 4 neurons .*memory "
                                       r"budget of 1 MiB"):
        run_float(net, x)
    with pytest.raises(NirError, match=r"run_framework over 100000 steps x 4 neurons"):
        run_framework(g, x, "snntorch")


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("name, why", [("", "empty"), ("a/b", "'/'"), (".", "path"),
                                       ("a\x00b", "NUL"), ("\udcff", "UTF-8")])
def test_names_that_cannot_be_written_are_refused_at_load(name, why):
    text = refused(chain(names=("in", "w", name, "out")), "cannot be a NIR node name", why)
    assert repr(name) in text


def test_nested_bad_name_is_refused_with_its_path():
    g = chain()
    g["nodes"]["sub"] = {"type": "NIRGraph", "nodes": {"a/b": lif(2)}, "edges": []}
    refused(g, "node 'sub.a/b'")
