"""The compiler: netlists onto chips, checked by hand on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_models.lif.quantiser import quantise
from neurochip import CoreSpec, SpecError
from neurochip.hardware.chip import ChipSpec
from neurochip.compiler.partition import greedy_partition, inter_core_entries, sequential_partition
from neurochip.compiler.pipeline import compile_netlist
from neurochip.formats.netlist import netlist_from_dict

LIF = {"C": 160e-12, "g_L": 10e-9, "E_L": -0.07, "V_th": -0.05, "V_reset": -0.065,
       "T_ref": 0.002, "tau_syn": 0.004}


def one_neuron(inputs, duration=0.02, params=None) -> dict:
    return {"format": "neurochip-netlist", "version": 1, "dt": 0.001, "duration": duration,
            "populations": {"p": {"model": "lif", "size": 1, "params": params or LIF}},
            "inputs": inputs, "probes": [{"population": "p", "record": ["spikes", "v"]}]}


def test_an_input_spike_reaches_the_current_register_at_its_tick():
    net = netlist_from_dict(one_neuron(
        [{"kind": "spikes", "target": "p", "weight": 2e-10, "times": {"0": [0.005]}}]))
    compiled = compile_netlist(net, ChipSpec(1, 1, core=CoreSpec(n_slots=4)))
    rec = compiled.run(record=("spikes", "i"))
    i = rec["i"][:, 0]
    # the jump, quantised: one weight at the chip's exponent, arriving in tick 5
    expected = int(compiled.network.input_w[0]) << compiled.report.w_exp
    assert np.all(i[:5] == 0) and i[5] == expected
    p = compiled.quantised.params  # the leak shift(i * m_i, k_i) (floor)
    assert i[6] == expected - ((expected * int(p.m_i[0])) >> int(p.k_i[0]))


def test_a_step_current_rewrites_the_bias_at_its_tick():
    net = netlist_from_dict(one_neuron(
        [{"kind": "step", "target": "p", "times": [0.004, 0.010], "amplitudes": [1e-10, 0]}]))
    compiled = compile_netlist(net, ChipSpec(1, 1, core=CoreSpec(n_slots=4)))
    rec = compiled.run(record=("v",))
    v = rec["v"][:, 0]
    bias = int(round(1e-10 / compiled.quantised.scales.i_lsb[0]))
    k, m = int(compiled.quantised.params.k_v[0]), int(compiled.quantised.params.m_v[0])
    assert np.all(v[:4] == 0) and v[4] == bias  # the step starts in tick 4
    assert v[5] == bias - ((bias * m) >> k) + bias
    assert v[10] == v[9] - ((v[9] * m) >> k)  # the current ends in tick 10: only the leak


def test_capacity_shortfall_is_refused_with_the_amount():
    net = netlist_from_dict({**one_neuron([]), "populations": {
        "p": {"model": "lif", "size": 10, "params": LIF}}})
    with pytest.raises(SpecError, match=r"the network has 10 neurons, the chip has 2 cores "
                                        r"× 4 slots = 8 \(short by 2 slots\)"):
        compile_netlist(net, ChipSpec(2, 1, core=CoreSpec(n_slots=4)))


def test_report_matches_the_chip_and_quantiser():
    net = netlist_from_dict({**one_neuron([]), "populations": {
        "a": {"model": "lif", "size": 6, "params": LIF},
        "b": {"model": "lif", "size": 5, "params": LIF}},
        "projections": [{"pre": "a", "post": "b", "delay": 0.002,
                         "connectivity": {"type": "fixed_fan_in", "n": 3, "weight": 1e-10,
                                          "seed": 1}}],
        "probes": []})
    spec = ChipSpec(2, 1, core=CoreSpec(n_slots=8))
    compiled = compile_netlist(net, spec, partitioner="sequential")
    report = compiled.report
    assert sum(c.slots for c in report.cores) == 11
    assert sum(c.synapse_words for c in report.cores) == 15  # 5 post × fan-in 3
    engine = compiled.chip.engine
    assert sum(c.routing_entries for c in report.cores) == engine.entry_axon.size
    direct = quantise(compiled.expanded.params, 0.001, spec.core, n=11, mantissa=True).errors
    assert [(e.name, e.max_relative) for e in report.parameter_errors] == \
        [(e.name, e.max_relative) for e in direct]
    assert {e.name for e in report.parameter_errors} >= {"tau_m", "V_th", "I_bias"}
    np.testing.assert_array_equal(compiled.network.delay, 2)
    assert report.delays_rounded == 0
    assert "synapse words" in report.format() and report.to_dict()["inter_core_ratio"] >= 0


def test_greedy_partition_cuts_traffic_on_a_clustered_network():
    rng = np.random.default_rng(0)
    n, clusters = 400, 4
    cluster = rng.permutation(np.repeat(np.arange(clusters), n // clusters))
    members = [np.flatnonzero(cluster == c) for c in range(clusters)]
    pre = np.repeat(np.arange(n), 10)
    inside = rng.random(pre.size) < 0.95
    post = np.where(inside, [rng.choice(members[cluster[p]]) for p in pre],
                    rng.integers(0, n, pre.size))
    delay = np.ones(pre.size, dtype=np.int64)
    blocks = sequential_partition(n, clusters, 128)
    greedy = greedy_partition(n, pre, post, clusters, 128)
    assert np.bincount(greedy).max() <= 128
    ratio = inter_core_entries(greedy, pre, post, delay) / inter_core_entries(blocks, pre,
                                                                                post, delay)
    assert ratio < 0.5, ratio


def test_the_example_compiles_and_runs_with_activity():
    from pathlib import Path

    from neurochip.formats.netlist import load_netlist
    net = load_netlist(Path(__file__).parent.parent / "examples" / "balanced.json")
    compiled = compile_netlist(net, ChipSpec(2, 2, core=CoreSpec(n_slots=64, ref_bits=6)))
    rec = compiled.run(ticks=200)
    assert rec.spikes.shape == (200, net.n) and rec.spikes.sum() > 0
    assert compiled.report.inter_core_entries <= compiled.report.inter_core_entries_sequential


def test_float_run_feeds_spikes_back_through_delayed_synapses():
    """Neuron a spikes in tick t; b's synaptic current jumps by W in tick t + 3."""
    from neurochip.compiler.pipeline import float_run
    from neurochip.formats.netlist import expand
    weight = 5e-11
    net = netlist_from_dict({**one_neuron(
        [{"kind": "spikes", "target": "a", "weight": 5e-9, "times": {"0": [0.002]}}]),
        "populations": {"a": {"model": "lif", "size": 1, "params": LIF},
                        "b": {"model": "lif", "size": 1, "params": LIF}},
        "projections": [{"pre": "a", "post": "b", "delay": 0.003,
                         "connectivity": {"type": "list", "pre": [0], "post": [0],
                                          "weight": [weight]}}],
        "probes": []})
    trace = float_run(expand(net))
    spike_ticks = np.flatnonzero(trace.spikes[:, 0])
    assert spike_ticks.size >= 1
    t = int(spike_ticks[0])
    assert np.all(trace.I_syn[:t + 3, 1] == 0)
    assert trace.I_syn[t + 3, 1] == pytest.approx(weight, rel=1e-12)
