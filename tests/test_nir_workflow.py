"""A NIR graph from file to chip and float reference, in Python and on the command line
(the real CLI in a subprocess), on the committed framework fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nir
import numpy as np
import pytest

from neurochip.formats.nir import load_nir
from neurochip.formats.units import format_duration, parse_duration
from neurochip.lab.nir_runs import (agreement, float_reference, prepare, run_nir,
                                    run_on_chip, semantic_gaps)

DATA = Path(__file__).parent / "data" / "nir"
SCRIPT = Path(sys.executable).parent / "neurochip"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neurochip.cli"]


def fixture(framework: str, case: str):
    stem = DATA / framework / case
    return stem.with_suffix(".nir"), np.load(stem.with_suffix(".npz"))


def neurochip(*args, cwd):
    return subprocess.run([*COMMAND, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


# ====================================================================== durations
@pytest.mark.parametrize("text, bare, seconds", [
    ("1ms", "s", 1e-3), ("0.1ms", "s", 1e-4), ("1e-4s", "ms", 1e-4), ("100us", "s", 1e-4),
    ("1", "ms", 1e-3), (2.5, "ms", 2.5e-3), (1e-4, "s", 1e-4), (" 5 ms ", "s", 5e-3)])
def test_durations_take_units_and_a_bare_number_in_the_callers_unit(text, bare, seconds):
    assert parse_duration(text, bare) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize("text, message", [
    ("1 fortnight", "dt must be a duration such as 1ms"), ("-1ms", "dt must be a positive"),
    ("0", "dt must be a positive"), ("nan", "dt must be a duration"), (True, "dt must be a "),
    ("inf s", "dt must be a duration")])
def test_bad_durations_are_refused_by_name(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text, "ms")


def test_a_duration_is_printed_in_the_unit_that_reads_best():
    assert format_duration(1e-3) == "1 ms" and format_duration(1e-4) == "100 us"
    assert format_duration(2.0) == "2 s"


# ====================================================================== Python
def test_one_call_runs_a_graph_on_the_chip_and_on_its_frameworks_equations():
    path, data = fixture("snntorch", "leaky_ff")
    result = run_nir(path, data["input"], "1ms")
    assert result.reference.kind == "snntorch"
    assert result.reference.stepping == "tick-per-hop"
    (row,) = result.agreement.outputs
    assert row.output == "output" and row.neurons == 4
    chip = np.asarray(result.chip.recording.spikes)[:, 16:20].sum()
    assert row.chip_spikes == chip and row.float_spikes == result.reference.spikes[:, 16:].sum()
    assert sum(result.chip.recording.overflow.values()) == 0
    text = result.agreement.format()
    assert text.startswith("agreement with the float reference: snntorch's equations")
    assert "neurons within one spike" in text
    assert any("reset_delay=True" in w for w in result.warnings)


def test_the_same_step_reference_is_the_frameworks_own_output():
    path, data = fixture("snntorch", "synaptic_ff")
    prepared = prepare(path, data["input"], 1e-3)
    same = float_reference(prepared, stepping="same-step")
    out = same.spikes[:, prepared.network.slice("3")]
    np.testing.assert_array_equal(out, data["output"])
    assert any("within one step" in w for w in semantic_gaps(prepared, same))


def test_multi_spike_references_are_named_as_what_the_chip_cannot_do():
    path, data = fixture("rockpool", "lif_ff")
    prepared = prepare(path, data["input"], "1ms")
    reference = float_reference(prepared)
    gaps = semantic_gaps(prepared, reference)
    assert any(g.startswith("warning: node 3_LIFTorch: the rockpool reference emits up to")
               for g in gaps)


def test_the_netlist_model_is_a_reference_too():
    path, data = fixture("sinabs", "iaf_ff")
    prepared = prepare(path, data["input"], "1ms")
    reference = float_reference(prepared, "netlist")
    assert reference.describe() == "float reference: the netlist's float model, tick-per-hop"
    with pytest.raises(ValueError, match="passes one tick per hop"):
        float_reference(prepared, "netlist", "same-step")
    with pytest.raises(ValueError, match="framework must be one of"):
        float_reference(prepared, "brian2")


def test_a_non_spiking_readout_runs_on_the_chip(tmp_path):
    """Input -> Linear -> LI -> Output: the membrane of a leaky integrator, recorded."""
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([3])),
               "fc": nir.Linear(weight=np.array([[0.5, 0.2, 0.0], [0.0, 0.3, 0.4]])),
               "readout": nir.LI(tau=np.array([0.01, 0.02]), r=np.array([1.0, 1.0]),
                                 v_leak=np.array([0.0, 0.0])),
               "output": nir.Output(output_type=np.array([2]))},
        edges=[("input", "fc"), ("fc", "readout"), ("readout", "output")])
    nir.write(tmp_path / "li.nir", graph)
    x = (np.random.default_rng(3).random((60, 3)) < 0.4).astype(float)
    prepared = prepare(tmp_path / "li.nir", x, "1ms")
    chip = run_on_chip(prepared)
    reference = float_reference(prepared, "netlist")
    v_chip = chip.compiled.quantised.scales.volts(chip.recording["v"])
    assert np.asarray(chip.recording.spikes).sum() == 0
    assert np.abs(reference.V).max() > 0.1
    # the error bound of a leaky register (docs/error-bounds.md) is a few hundred LSB at
    # most; the scale makes that a small fraction of the range
    assert np.abs(v_chip - reference.V).max() < 0.02 * np.abs(reference.V).max()
    assert agreement(prepared, chip, reference).outputs[0].chip_spikes == 0


def test_norse_tau_times_dt_files_are_recognised_and_said():
    path, data = fixture("norse", "lif_ff")
    net = load_nir(path, dt=1e-3)
    assert "Norse 1.1.0" in net.convention_reason and "dt_export" in net.convention_reason
    tau_m = net.netlist.population(net.population("1")).physical().tau_m
    assert 4e-3 < float(np.min(tau_m)) and float(np.max(tau_m)) < 0.03   # ms, not us
    explicit = load_nir(DATA / "norse" / "lif_ff_dt1e-4.nir", dt=1e-4, dt_export=1e-4)
    assert "dt_export = 0.0001 given" in explicit.convention_reason


def test_the_nir_papers_lif_keeps_its_seconds():
    path, _ = fixture("norse", "paper_lif")
    net = load_nir(path, dt=1e-4)
    assert "Norse 1.1.0" not in net.convention_reason


# ====================================================================== command line
@pytest.fixture
def leaky(tmp_path):
    path, data = fixture("snntorch", "leaky_ff")
    np.save(tmp_path / "x.npy", data["input"])
    return path, tmp_path


def test_compare_takes_a_nir_graph(leaky):
    path, cwd = leaky
    done = neurochip("compare", path, "--input", "x.npy", "--dt", "1ms", "--v-bits",
                     "8,12,16", "--json", "--backend", "numpy", cwd=cwd)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [c["label"] for c in report["configs"]] == ["v8 i16 w8 floor", "v12 i16 w8 floor",
                                                       "v16 i16 w8 floor"]
    assert report["float_reference"].startswith("float reference: snntorch's equations")
    assert report["dt"] == 1e-3 and report["neurons"] == 20


def test_run_echoes_the_tick_and_ends_with_the_agreement(leaky):
    path, cwd = leaky
    done = neurochip("run", path, "--input", "x.npy", "--dt", "1", "--backend", "numpy",
                     "--out", "r.npz", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "dt = 1 ms, 100 ticks" in done.stdout and "snntorch export" in done.stdout
    assert "agreement with the float reference" in done.stdout
    assert "(NIR node '1')" in done.stderr or "population" not in done.stderr
    saved = np.load(cwd / "r.npz")
    chip, float_ = saved["agreement.output"]
    assert chip > 0 and float_ > 0


def test_run_float_on_a_nir_graph_is_the_framework_and_takes_its_options(leaky):
    path, cwd = leaky
    delayed = neurochip("run", path, "--input", "x.npy", "--float", cwd=cwd)
    at_once = neurochip("run", path, "--input", "x.npy", "--float", "--option",
                        "reset_delay=false", cwd=cwd)
    assert delayed.returncode == 0 and at_once.returncode == 0, at_once.stderr
    assert "(reset=subtract, reset_delay=True), same-step: 128 spikes" in delayed.stdout
    assert "reset_delay=False), same-step" in at_once.stdout
    bad = neurochip("run", path, "--input", "x.npy", "--float", "--option", "refractory=2",
                    cwd=cwd)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "snntorch: no option 'refractory'" in bad.stderr


def test_compile_and_throughput_take_a_nir_graph(leaky):
    path, cwd = leaky
    done = neurochip("compile", path, "--input", "x.npy", "-o", "images", "--quiet", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert (cwd / "images" / "manifest.json").exists()
    tp = neurochip("throughput", path, "--input", "x.npy", "--ticks", "50", "--mesh", "2x2",
                   "--json", "--quiet", cwd=cwd)
    assert tp.returncode == 0, tp.stderr
    assert json.loads(tp.stdout)["ticks"] == 50


@pytest.mark.parametrize("args, message", [
    (["--dt", "1 fortnight"], "argument --dt: expected a duration such as 1ms"),
    (["--framework", "brian2"], "argument --framework: invalid choice"),
    (["--option", "reset_delay"], "argument --option: expected NAME=VALUE"),
    (["--input", "missing.npy"], "missing.npy: not a .npy or .npz array file"),
])
def test_bad_nir_options_are_one_line_and_exit_code_2(leaky, args, message):
    path, cwd = leaky
    done = neurochip("run", path, *args, cwd=cwd)
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1


def test_nir_options_on_a_netlist_are_refused(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "balanced.json"
    done = neurochip("run", example, "--dt", "0.5ms", "--ticks", "5", cwd=tmp_path)
    assert done.returncode == 2
    assert "--dt: for NIR graphs only" in done.stderr


@pytest.mark.parametrize("dialect", ["lif", "loihi"])
def test_the_nir_papers_single_lif_spikes_where_published_on_the_chip(dialect):
    """Norse export, dt = 0.1 ms, the paper's input train: spikes at 460, 510, 710, 760."""
    path, data = fixture("norse", "paper_lif")
    prepared = prepare(path, data["input"], "0.1ms")
    chip = run_on_chip(prepared, dialect=dialect)
    times = np.flatnonzero(np.asarray(chip.recording.spikes)[:, 0])
    assert times.size == 4
    assert np.all(np.abs(times - [460, 510, 710, 760]) <= 1)
    reference = float_reference(prepared)
    assert np.flatnonzero(reference.spikes[:, 0]).tolist() == [460, 510, 710, 760]


# ====================================================================== the fixture table
def _fixture_cases():
    return sorted(p.with_suffix("") for p in DATA.glob("*/*.json") if "paper_cnn" not in p.name)


@pytest.mark.parametrize("stem", _fixture_cases(), ids=lambda s: f"{s.parent.name}-{s.name}")
def test_every_fixture_on_the_16_bit_chip_agrees_with_its_framework_or_says_why(stem):
    """The 16-bit reference-LIF chip with default options against the framework's
    equations (tick-per-hop, as the chip passes a layer stack): no overflow; total output
    spikes within 10 % and 90 % of output neurons within one spike, or a warning that names
    what the chip computes differently (several spikes per step, a delayed reset, a floor,
    a parameter or weight more than 5 % off)."""
    from tools.nir_agreement import measure

    row = measure(stem)
    assert row["overflows"] == 0
    total_ok = abs(row["chip_spikes"] - row["float_spikes"]) <= 0.1 * max(row["float_spikes"], 1)
    if not (total_ok and row["within_one"] >= 0.9):
        reasons = [w for w in row["warnings"] if w.startswith(("warning: node", "warning: the "
                                                               "float reference",
                                                               "warning: population"))]
        assert reasons, row


def test_run_takes_a_zero_reset_that_needs_a_refractory_tick(tmp_path):
    """snnTorch's Synaptic zero reset compiles with one refractory tick; the calibration
    run must carry it (run_float cannot, and once refused this run)."""
    path, data = fixture("snntorch", "synaptic_ff_zero")
    np.save(tmp_path / "x.npy", data["input"])
    done = neurochip("run", path, "--input", "x.npy", "--option", "reset=zero", "--backend",
                     "numpy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "snntorch's equations (reset=zero, reset_delay=True)" in done.stdout
    assert "reset_delay=True) subtracts" not in done.stderr
