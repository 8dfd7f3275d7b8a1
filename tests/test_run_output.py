"""What ``neurochip run`` tells (the real command in a subprocess): what ran, dt and
reset, spikes per population and per NIR Output node, and NeuroBench's metrics in the
text, ``--json`` and ``--out`` (docs/metrics.md), counted by hand on a tiny netlist and
checked against ``lab.metrics.metrics_of`` and neurobench's own numbers on a NIR graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "neurochip"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neurochip.cli"]
NEUROBENCH = ROOT / "tests" / "data" / "neurobench"

# a0 hears an input spike at ticks 2, 10, 18 and fires in each; a0 -> b0 (5 nA, delay
# 2 ticks), a0 -> b1 (weight 0), a1 -> b1 (a1 never fires)
TINY = {
    "format": "neurochip-netlist", "version": 1, "dt": 0.001, "duration": 0.02, "seed": 1,
    "populations": {
        "a": {"model": "lif", "size": 2, "params": {"T_ref": 0.002, "tau_syn": 0.001}},
        "b": {"model": "lif", "size": 2, "params": {"T_ref": 0.002, "tau_syn": 0.001,
                                                    "reset": "subtract"}}},
    "projections": [{"pre": "a", "post": "b", "delay": 0.002, "connectivity": {
        "type": "list", "pre": [0, 0, 1], "post": [0, 1, 1], "weight": [5e-9, 0.0, 5e-9]}}],
    "inputs": [{"kind": "spikes", "target": "a", "weight": 5e-9,
                "times": {"0": [0.002, 0.010, 0.0185]}}],
    "probes": [{"population": "a", "record": ["spikes", "v"]},
               {"population": "b", "record": ["spikes", "v"]}]}
PRE, POST, WEIGHT, DELAY = [0, 0, 1], [2, 3, 3], [5e-9, 0.0, 5e-9], 2


def neurochip(*args, cwd):
    return subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def hand_count(spikes: np.ndarray, v: np.ndarray) -> dict:
    """The definitions of docs/metrics.md, one synapse and one tick at a time."""
    ticks = spikes.shape[0]
    acs = {"a": 0, "b": 0}
    for k in range(ticks):                      # the input: one synapse onto a0
        acs["a"] += int(k in (2, 10, 18))
    for pre, post, w in zip(PRE, POST, WEIGHT):
        for k in range(ticks):
            if w != 0 and spikes[k, pre] and k + DELAY < ticks:
                acs["b"] += 1
    updates = {}
    for name, cols in (("a", [0, 1]), ("b", [2, 3])):
        count = 0
        for j in cols:
            count += 1 + sum(v[k, j] != v[k - 1, j] for k in range(1, ticks))
        updates[name] = count
    return {"a": {"Effective_ACs": acs["a"], "Dense": ticks * 1, "updates": updates["a"],
                  "sparsity": 1 - np.count_nonzero(spikes[:, :2]) / (2 * ticks)},
            "b": {"Effective_ACs": acs["b"], "Dense": ticks * 3, "updates": updates["b"],
                  "sparsity": 1 - np.count_nonzero(spikes[:, 2:]) / (2 * ticks)}}


@pytest.mark.parametrize("mode", ["chip", "float"])
def test_a_tiny_netlist_counts_as_by_hand(tmp_path, mode):
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    extra = ["--float"] if mode == "float" else ["--mesh", "1x1"]
    result = neurochip("run", "tiny.json", "--json", "--out", "r.npz", *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)              # stdout is the JSON object alone
    data = np.load(tmp_path / "r.npz")
    spikes = np.concatenate([data["a.spikes"], data["b.spikes"]], axis=1)
    assert spikes[:, 0].nonzero()[0].tolist() == [2, 10, 18]
    v = data["registers.v"] if mode == "chip" else np.concatenate(
        [data["a.v"], data["b.v"]], axis=1)
    want = hand_count(spikes, v)
    assert want["b"]["Effective_ACs"] == 2        # a0's spike in tick 18 lands after the run
    assert found["ran"].startswith("the emulator" if mode == "chip" else "the float reference")
    assert found["dt"] == 0.001 and found["ticks"] == 20
    assert found["reset"] == {"a": "value", "b": "subtract"}
    side = found[mode]
    assert side["spikes"]["populations"] == {"a": int(spikes[:, :2].sum()),
                                             "b": int(spikes[:, 2:].sum())}
    for name in ("a", "b"):
        got = side["neurobench"]["populations"][name]
        assert got["SynapticOperations"] == {"Effective_MACs": 0, "Dense": want[name]["Dense"],
                                             "Effective_ACs": want[name]["Effective_ACs"]}
        assert got["MembraneUpdates"] == want[name]["updates"]
        assert got["ActivationSparsity"] == pytest.approx(want[name]["sparsity"], abs=1e-15)
        assert data[f"metrics.{mode}.{name}.effective_acs"] == want[name]["Effective_ACs"]
        assert data[f"metrics.{mode}.{name}.dense"] == want[name]["Dense"]
        assert data[f"spikes.{mode}.{name}"] == side["spikes"]["populations"][name]
    total = side["neurobench"]["total"]["SynapticOperations"]
    assert total["Effective_ACs"] == want["a"]["Effective_ACs"] + want["b"]["Effective_ACs"]
    assert data[f"metrics.{mode}.total.dense"] == 80


def test_the_text_says_what_ran_dt_reset_and_spikes_per_population(tmp_path):
    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    chip = neurochip("run", "tiny.json", "--quiet", "--mesh", "1x1", cwd=tmp_path)
    floated = neurochip("run", "tiny.json", "--quiet", "--float", cwd=tmp_path)
    assert chip.returncode == 0 and floated.returncode == 0, chip.stderr + floated.stderr
    lines = chip.stdout.splitlines()
    assert any(x.startswith("ran: the emulator (bit-exact integer cores: lif dialect, "
                            "1×1 mesh") for x in lines)
    assert "dt 1 ms, 20 ticks (0.02 s), reset a value, b subtract" in lines
    assert any(x.startswith("ran: the float reference, not the emulator")
               for x in floated.stdout.splitlines())
    rows = {}
    for x in lines[lines.index("spikes per population:") + 1:]:
        rows.setdefault(x.split()[0], x.split())     # the spike table comes first
    assert rows["a"][:3] == ["a", "2", "3"] and rows["total"][1] == "4"
    assert "NeuroBench metrics" in chip.stdout and "float spikes" in floated.stdout


@pytest.fixture(scope="module")
def nir_case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nir")
    d = np.load(NEUROBENCH / "leaky_ff_spikes.npz")
    np.save(folder / "x.npy", d["input"])
    meta = json.loads((NEUROBENCH / "leaky_ff_spikes.json").read_text())
    return folder, d["input"], meta


def test_a_nir_run_reports_metrics_of_chip_and_float_as_metrics_of(nir_case):
    from neurochip.lab.metrics import metrics_of
    from neurochip.lab.nir_runs import run_nir

    folder, x, _ = nir_case
    graph = NEUROBENCH / "leaky_ff_spikes.nir"
    result = neurochip("run", graph, "--input", "x.npy", "--json", "--out", "c.npz",
                       cwd=folder)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    r = run_nir(graph, x, "1ms")
    for kind, run in (("chip", r.chip), ("float", r.reference)):
        m = metrics_of(run, r.prepared)
        got = found[kind]["neurobench"]
        assert got["total"]["SynapticOperations"] == m.to_neurobench()["SynapticOperations"]
        assert got["total"]["MembraneUpdates"] == m.total.membrane_updates
        for node, nm in m.nodes.items():
            pop = r.prepared.network.nodes[node].population
            assert got["populations"][pop]["nir_node"] == node
            assert got["populations"][pop]["SynapticOperations"]["Effective_ACs"] == \
                nm.effective_acs
    assert found["compared_with"].startswith("float reference: snntorch's equations")
    outputs = found["chip"]["spikes"]["outputs"]
    assert outputs == {o["output"]: o["chip_spikes"] for o in found["agreement"]["outputs"]}
    data = np.load(folder / "c.npz")
    assert data["metrics.chip.total.effective_acs"] == \
        found["chip"]["neurobench"]["total"]["SynapticOperations"]["Effective_ACs"]
    assert "n3.spikes" in data.files and "spikes.chip.n3" in data.files   # one naming


def test_a_float_nir_run_gives_neurobenchs_own_numbers(nir_case):
    folder, _, meta = nir_case
    result = neurochip("run", NEUROBENCH / "leaky_ff_spikes.nir", "--input", "x.npy",
                       "--float", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    total = json.loads(result.stdout)["float"]["neurobench"]["total"]
    want = meta["neurobench"]["total"]
    assert total["SynapticOperations"] == want["SynapticOperations"]
    assert total["ActivationSparsity"] == want["ActivationSparsity"]
    assert total["MembraneUpdates"] == want["MembraneUpdates"]


def test_compare_reports_float_and_chip_metrics_side_by_side(tmp_path):
    from neurochip.formats.netlist import expand, load_netlist
    from neurochip.lab.metrics import netlist_metrics

    (tmp_path / "tiny.json").write_text(json.dumps(TINY))
    result = neurochip("compare", "tiny.json", "--json", "--quiet", "--mesh", "1x1",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)["configs"][0]
    bench = config["neurobench"]
    assert set(bench) == {"float", "chip"}
    assert bench["chip"]["populations"]["b"]["SynapticOperations"]["Effective_ACs"] == 2
    assert bench["float"]["SynapticOperations"]["Dense"] == 80
    text = neurochip("compare", "tiny.json", "--mesh", "1x1", cwd=tmp_path)
    assert "NeuroBench metrics" in text.stdout and "float reference" in text.stdout
    netlist = load_netlist(tmp_path / "tiny.json")
    ex = expand(netlist)
    spikes = np.zeros((20, 4), bool)
    spikes[[2, 10, 18], 0] = True
    m = netlist_metrics(ex, spikes, np.zeros((20, 4)), "float", netlist)
    assert m.nodes["b"].effective_acs == 2 and m.nodes["a"].effective_acs == 3
    assert m.nodes["a"].membrane_updates == 2        # constant v: one update per neuron
