"""NeuroBench metrics (lab.metrics) against neurobench 2.3.0's own numbers
(tests/data/neurobench, made by tools/fixtures/neurobench)."""

import json
from pathlib import Path

import numpy as np
import pytest

from neurochip.formats.nir.framework_run import run_framework
from neurochip.lab.metrics import metrics_of
from neurochip.lab.nir_runs import run_nir

DATA = Path(__file__).parent / "data" / "neurobench"
CASES = ("leaky_ff_spikes", "leaky_ff_analog")


def _case(case):
    d = np.load(DATA / f"{case}.npz")
    return DATA / f"{case}.nir", d, json.loads((DATA / f"{case}.json").read_text())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_framework_run_equals_neurobench(case, dtype):
    path, d, meta = _case(case)
    run = run_framework(path, d["input"], "snntorch", dtype=dtype)
    for node in ("1", "3"):
        assert np.array_equal(run.out[node], d[f"spikes/{node}"])
    m = metrics_of(run, d["input"])
    assert m.to_neurobench() == meta["neurobench"]["total"]
    assert m.per_node() == meta["neurobench"]["per_node"]
    assert all(isinstance(v, int) for v in m.to_neurobench()["SynapticOperations"].values())


def test_float_reference_and_chip_run():
    path, d, meta = _case("leaky_ff_spikes")
    r = run_nir(path, d["input"], "1ms", framework="snntorch", stepping="same-step")
    ref = metrics_of(r.reference, r.prepared)
    assert ref.to_neurobench() == meta["neurobench"]["total"]
    chip = metrics_of(r.chip, r.prepared)
    assert set(chip.nodes) == {"1", "3"}
    assert chip.total.dense == ref.total.dense
    spikes = np.asarray(r.chip.recording.spikes)
    for name, m in r.prepared.network.nodes.items():
        if np.array_equal(spikes[:, m.start:m.stop], r.reference.spikes[:, m.start:m.stop]):
            assert chip.nodes[name].activation_sparsity == ref.nodes[name].activation_sparsity
    # the first layer hears the input only: the same ACs on the chip
    assert chip.nodes["1"].effective_acs == ref.nodes["1"].effective_acs
    assert "total" in chip.format()


def test_metrics_of_refuses_wrong_arguments():
    path, d, _ = _case("leaky_ff_spikes")
    r = run_nir(path, d["input"], "1ms", framework="snntorch", stepping="same-step")
    with pytest.raises(TypeError):
        metrics_of(r.chip, d["input"])
    with pytest.raises(TypeError):
        metrics_of(object(), r.prepared)
