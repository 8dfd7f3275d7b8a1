"""Quantisation that preserves the network (issue 13): memoryless synapses, non-spiking
readouts, calibrated scales, more bits never worse, warnings naming populations."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_models.lif.quantiser import leak_shift, quantise
from firmware_models.lif.reference import LifPhysical
from neurochip import CoreSpec
from neurochip.cli import main
from neurochip.compiler.calibration import Calibration
from neurochip.compiler.pipeline import compile_netlist, roomy_core_spec, with_input_events
from neurochip.compiler.warnings import run_warnings
from neurochip.formats.netlist import expand, load_netlist, netlist_from_dict
from neurochip.formats.nir import load_nir, run_float
from neurochip.hardware.chip import ChipSpec

HERE = os.path.dirname(__file__)
FIXTURES = sorted(glob.glob(os.path.join(HERE, "data", "nir", "*", "*.nir")))


# ====================================================================== k = 0
def test_a_memoryless_synapse_is_shift_zero_and_exact():
    dt = 1e-3
    assert leak_shift(dt * 1e-3, dt, 31)[0] == 0          # decay exp(-1000) = 0
    assert leak_shift(-dt / np.log(0.2), dt, 31)[0] == 0  # 0.2: nearer 0 than 0.5
    assert leak_shift(-dt / np.log(0.3), dt, 31)[0] == 1  # 0.3: nearer 0.5
    q = quantise(LifPhysical(tau_syn=dt * 1e-3), dt, CoreSpec(), n=2)
    assert np.all(q.params.k_i == 0)
    errors = {e.name: e for e in q.errors}
    assert errors["tau_syn"].max_relative == 0.0


# ====================================================================== netlists
def two_layer(readout_never_fires: bool, w=2e-9, v_bits=16):
    lif = {"C": 160e-12, "g_L": 10e-9, "E_L": -0.07, "V_th": -0.05, "V_reset": -0.07,
           "tau_syn": 4e-3}
    out = dict(lif, V_th=1e30 if readout_never_fires else -0.05, reset="none"
               if readout_never_fires else "value")
    return netlist_from_dict({
        "format": "neurochip-netlist", "version": 1, "dt": 1e-3, "duration": 0.2,
        "populations": {"hid": {"model": "lif", "size": 6, "params": lif},
                        "out": {"model": "lif", "size": 2, "params": out}},
        "projections": [{"pre": "hid", "post": "out", "delay": 1e-3, "connectivity": {
            "type": "dense", "weights": [[w, w]] * 6}}],
        "inputs": [{"kind": "dc", "target": "hid", "amplitude": 0.35e-9}],
        "probes": []})


def chip(n: int, v_bits: int = 16, **fields) -> ChipSpec:
    return ChipSpec(1, 1, core=roomy_core_spec(n, 1, v_bits=v_bits, i_bits=16,
                                               theta_bits=v_bits, **fields))


@pytest.mark.parametrize("calibration", [None, "float"])
def test_a_never_firing_readout_compiles_and_records_its_membrane(calibration):
    net = two_layer(readout_never_fires=True)
    compiled = compile_netlist(net, chip(8), calibration=calibration)
    out = compiled.expanded.slice("out")
    assert np.all(compiled.quantised.params.v_th[out] == (1 << 15) - 1)
    rec = compiled.run(record=("spikes", "v", "i"))
    assert rec.spikes[:, out].sum() == 0 and sum(rec.overflow.values()) == 0
    assert np.max(np.abs(rec["v"][:, out])) > 0


def test_calibration_fits_the_observed_range():
    ex = expand(two_layer(False, w=6e-9))
    cal = Calibration.from_run(__import__("neurochip.compiler.pipeline",
                                          fromlist=["float_run"]).float_run(ex))
    compiled = compile_netlist(ex, chip(8), calibration=cal)
    s = compiled.quantised.scales
    v_range = cal.v_range(ex.params.broadcast(ex.n).E_L)
    assert np.all(2 * v_range <= s.v_lsb * ((1 << 15) - 1) * (1 + 1e-9))
    assert np.all(2 * cal.I_abs <= s.i_lsb * ((1 << 15) - 1) * (1 + 1e-9))
    assert compiled.report.calibrated


def test_negative_threshold_relative_to_rest_compiles_with_a_moved_zero():
    path = os.path.join(HERE, "data", "nir-handmade", "two_lif_neurons.nir")
    net = load_nir(path, dt=1e-3)
    x = np.ones((50, net.n_inputs))
    ex = with_input_events(expand(net.netlist_for(50)), net.input_channel, net.input_post,
                           net.input_weight, net.input_delay, x)
    compiled = compile_netlist(ex, chip(ex.n))
    assert any("population lif1: its threshold lies" in w for w in compiled.report.warnings)
    rec = compiled.run(50)
    fr = run_float(net, x)
    # the tonic neuron fires on both; the chip starts at the moved zero, so skip tick 0
    assert abs(int(rec.spikes[1:, 0].sum()) - int(fr.spikes[1:, 0].sum())) <= 2


# ====================================================================== more bits
network = st.fixed_dictionaries({
    "n_hid": st.integers(1, 6), "n_out": st.integers(1, 4),
    "w": st.lists(st.floats(-40e-9, 40e-9), min_size=24, max_size=24),
    "tau_syn": st.floats(0.3e-3, 20e-3), "dc": st.floats(0.0, 2e-9),
    "v_th": st.floats(5e-3, 40e-3), "v_reset": st.floats(-30e-3, 0.0)})


def _random_netlist(d):
    lif = {"C": 160e-12, "g_L": 10e-9, "E_L": 0.0, "V_th": d["v_th"],
           "V_reset": d["v_reset"], "tau_syn": d["tau_syn"]}
    n_hid, n_out = d["n_hid"], d["n_out"]
    pre, post = np.meshgrid(np.arange(n_hid), np.arange(n_out), indexing="ij")
    w = np.resize(np.asarray(d["w"]), pre.size)
    return netlist_from_dict({
        "format": "neurochip-netlist", "version": 1, "dt": 1e-3, "duration": 0.01,
        "populations": {"hid": {"model": "lif", "size": n_hid, "params": lif},
                        "out": {"model": "lif", "size": n_out, "params": lif}},
        "projections": [{"pre": "hid", "post": "out", "delay": 1e-3, "connectivity": {
            "type": "list", "pre": pre.ravel().tolist(), "post": post.ravel().tolist(),
            "weight": w.tolist()}}],
        "inputs": [{"kind": "dc", "target": "hid", "amplitude": d["dc"]}], "probes": []})


@settings(max_examples=40, deadline=None)
@given(d=network, b=st.integers(10, 22), more=st.integers(1, 8))
def test_more_v_bits_are_never_worse(d, b, more):
    """"Worse" means: more weights clipped; a different leak shift; a coarser voltage
    LSB for some neuron (so a larger bound, half an LSB, on the error of V_th, V_reset,
    I_bias); or a realised value outside that bound. For the weights, whose step is the
    LSB times a power of two, the error must stay within half the step and the step
    within max(i_lsb, 2 |largest weight into the population| / w_max) -- a bound that
    never grows with v_bits."""
    ex = expand(_random_netlist(d))
    runs = [compile_netlist(ex, chip(ex.n, v_bits=bits)) for bits in (b, b + more)]
    (lo, hi) = runs
    assert hi.report.weights_clipped <= lo.report.weights_clipped
    assert hi.report.weights_clipped == 0
    for f in ("k_i", "k_v", "k_theta", "m_i", "m_v", "m_theta"):
        np.testing.assert_array_equal(getattr(hi.quantised.params, f),
                                      getattr(lo.quantised.params, f))
    s_lo, s_hi = lo.quantised.scales, hi.quantised.scales
    assert np.all(s_hi.v_lsb <= s_lo.v_lsb * (1 + 1e-12))
    for c in runs:
        s = c.quantised.scales
        e = {x.name: x for x in c.quantised.errors}
        for name in ("V_th", "V_reset"):
            assert np.all(np.abs(e[name].realised - e[name].target)
                          <= s.v_lsb / 2 * (1 + 1e-9) + 1e-15)  # + volts rounding
        w = c.report.weight_error
        post = c.report.weight_post
        i_lsb = s.i_lsb[post]
        err = np.abs(np.asarray(w.realised) - np.asarray(w.target))
        for name, a, z in c.report.populations:
            into = (post >= a) & (post < z)
            if not into.any():
                continue
            largest = np.max(np.abs(w.target[into]))
            bound = np.maximum(s_lo.i_lsb[post][into], 2 * largest / 127)
            assert np.all(err[into] <= bound / 2 * (1 + 1e-9) + 1e-30)


def test_balanced_example_at_24_bits_clips_nothing():
    ex = expand(load_netlist(os.path.join(HERE, "..", "examples", "balanced.json")))
    spec = ChipSpec(2, 2, core=roomy_core_spec(-(-ex.n // 4), 4, v_bits=24, i_bits=16,
                                               theta_bits=24))
    report = compile_netlist(ex, spec).report
    assert report.weights_clipped == 0


# ====================================================================== real graphs
def _fixture_run(path: str):
    import json

    data = np.load(path[:-4] + ".npz")
    with open(path[:-4] + ".json") as f:
        dt = json.load(f).get("dt") or 1e-3
    net = load_nir(path, dt=dt)
    x = net.input_array(data["input"])
    ticks = x.shape[0]
    fr = run_float(net, x)
    ex = with_input_events(expand(net.netlist_for(ticks)), net.input_channel,
                           net.input_post, net.input_weight, net.input_delay, x)
    spec = ChipSpec(2, 2, core=roomy_core_spec(-(-ex.n // 4), 4, v_bits=16, i_bits=16,
                                               theta_bits=16, n_axons=1 << 18))
    compiled = compile_netlist(ex, spec, calibration=Calibration.from_run(fr))
    rec = compiled.run(ticks, record=("spikes", "v", "i"))
    outs = [net.nodes[n] for o in net.outputs.values() for n in o.nodes]
    f = np.concatenate([fr.spikes[:, m.start:m.stop].sum(0) for m in outs]).astype(int)
    c = np.concatenate([rec.spikes[:, m.start:m.stop].sum(0) for m in outs]).astype(int)
    warnings = compiled.report.warnings + run_warnings(compiled.report, rec, spec.core)
    return f, c, int(sum(rec.overflow.values())), warnings


# the exporters whose fixtures load at dt = 1 ms (one tick = one exporter step); the
# large CNN is left to the measurement script (minutes on two cores)
SMALL = [p for p in FIXTURES if p.split(os.sep)[-2] in ("snntorch", "rockpool", "sinabs")
         and os.path.getsize(p) < 200_000 and "paper_cnn" not in p]


@pytest.mark.parametrize("path", SMALL, ids=lambda p: "/".join(p.split(os.sep)[-2:]))
def test_fixture_on_the_16_bit_chip_agrees_or_says_why(path):
    f, c, overflows, warnings = _fixture_run(path)
    assert overflows == 0
    total_ok = abs(int(c.sum()) - int(f.sum())) <= 0.1 * max(int(f.sum()), 1)
    neurons_ok = np.mean(np.abs(c - f) <= 1) >= 0.9
    if not (total_ok and neurons_ok):
        # a miss is explained: some realised parameter or weight more than 5 % off
        assert any(w.startswith("warning: population ") for w in warnings), warnings


# ====================================================================== CLI
def test_strict_turns_a_warning_into_exit_code_3(tmp_path, capsys):
    path = os.path.join(HERE, "..", "examples", "balanced.json")
    code = main(["compile", path, "-o", str(tmp_path / "out"), "--strict"])
    err = capsys.readouterr().err
    # the leak mantissa realises tau_syn = 4 ticks (a shift gave 3.476, 13 % off): what is
    # left to warn about is the weights' rounding
    assert "tau_syn realised" not in err
    assert "warning: population exc: 235 of 1060 weights into it more than 5 % off" in err
    assert code == 3
    assert main(["compile", path, "-o", str(tmp_path / "out2"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""   # --quiet: nothing printed, warnings included
    assert main(["compile", path, "-o", str(tmp_path / "out3"), "--quiet", "--strict"]) == 3
