"""A short NIR fuzz run in the test suite (the long campaign: ``python tools/fuzz.py nir
--count 3000``, docs/reliability.md): generated graphs, mutated fixtures and corrupted
files through load_nir -> run_float / run_framework -> save_nir -> load_nir; any
outcome but a result or a ``NirError`` fails. Names: every name that loads round-trips."""

from __future__ import annotations

import random
import tempfile

import numpy as np
import pytest

pytest.importorskip("h5py")
pytest.importorskip("nir")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from neurochip.formats.nir import NirError, load_nir, save_nir  # noqa: E402
from tools.fuzzing import nir_cases  # noqa: E402
from tools.fuzzing.nir import run_case  # noqa: E402

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
SMALL = [f for f in nir_cases.fixture_files() if f.stat().st_size < 70_000]


def _check(kind, case, rng):
    outcome, detail = run_case(kind, case, rng)
    assert outcome in ("ok", "refused"), detail


@FAST
@given(st.randoms(use_true_random=False))
def test_generated_graphs(rng):
    graph = nir_cases.generate_graph(rng)
    if rng.random() < 0.5:
        graph = nir_cases.mutate(rng, graph)
    _check("graph", graph, rng)


@FAST
@given(st.randoms(use_true_random=False), st.sampled_from(SMALL))
def test_mutated_fixtures(rng, path):
    raw = nir_cases.fixture_raw(path)
    _check("graph", nir_cases.mutate(rng, raw), rng)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.randoms(use_true_random=False), st.sampled_from(SMALL))
def test_corrupted_files(rng, path):
    with tempfile.TemporaryDirectory() as d:
        out = f"{d}/c.nir"
        with open(out, "wb") as f:
            f.write(nir_cases.corrupt_bytes(rng, path.read_bytes()))
        _check("file", out, rng)


def _graph(names):
    i, w, n, o = names
    return {"type": "NIRGraph", "nodes": {
        i: {"type": "Input", "shape": np.array([2])},
        w: {"type": "Linear", "weight": np.eye(2)},
        n: {"type": "LIF", "tau": np.full(2, 0.01), "r": np.ones(2), "v_leak": np.zeros(2),
            "v_threshold": np.ones(2)},
        o: {"type": "Output", "shape": np.array([2])}},
        "edges": [(i, w), (w, n), (n, o)]}


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.text(min_size=0, max_size=12), min_size=4, max_size=4, unique=True))
def test_every_name_that_loads_round_trips(names):
    try:
        net = load_nir(_graph(names), dt=1e-3)
    except NirError as e:
        assert "cannot be a NIR node name" in str(e) or "flatten" in str(e), str(e)
        return
    with tempfile.TemporaryDirectory() as d:
        save_nir(net, f"{d}/n.nir")
        again = load_nir(f"{d}/n.nir", dt=1e-3)
    assert list(again.nodes) == list(net.nodes) == [names[2]]
    assert set(net.inputs) <= set(again.inputs) and names[0] in again.inputs
    assert list(again.outputs) == [names[3]]


def test_the_campaign_runner_counts_outcomes():
    from tools.fuzzing.nir import campaign
    results = campaign(6, seed=7, jobs=1, timeout=20)
    assert [r[0] for r in results] == list(range(6))
    assert all(r[3] in ("ok", "refused") for r in results), results
