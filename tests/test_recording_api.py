"""Recordings, chip and float, offer one naming (``v``, ``i``, ``theta``, ``spikes``; the
float reference's ``V``, ``I_syn``, ``Theta`` still accepted) and Brian2's views:
``spike_ticks``/``spike_times``/``spike_indices`` flat, by tick then neuron, and
neuron-major traces (``firmware_models.traces``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from firmware_models.lif.reference import LifPhysical, simulate
from neurochip.hardware.engine import Recording


@settings(max_examples=200, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(0, 12), st.integers(0, 6)),
              elements=st.integers(0, 3)),
       st.integers(0, 1000), st.floats(1e-6, 1e-2))
def test_spike_times_and_indices_are_brian2s_t_and_i(counts, start, dt):
    rec = Recording(start, {"spikes": counts})
    ticks, neurons = rec.spike_ticks(), rec.spike_indices()
    assert ticks.size == neurons.size == counts.sum()
    # Brian2's order: by time, ties by index; each spike of a multi-spike tick listed
    assert np.all(np.diff(ticks) >= 0)
    same = np.diff(ticks) == 0
    assert np.all(np.diff(neurons)[same] >= 0)
    for t, j in zip(ticks, neurons):
        assert counts[t - start, j] > 0
    again = np.zeros_like(counts)
    np.add.at(again, (ticks - start, neurons), 1)
    assert np.array_equal(again, counts)
    np.testing.assert_allclose(rec.spike_times(dt), (ticks + 1) * dt, rtol=1e-15)
    trains = rec.spike_trains(dt)
    assert len(trains) == counts.shape[1]
    for j, train in enumerate(trains):
        np.testing.assert_allclose(train, np.repeat(np.arange(counts.shape[0]) + start + 1,
                                                    counts[:, j]) * dt)


def test_a_recording_without_dt_asks_for_it():
    rec = Recording(0, {"spikes": np.eye(3, dtype=bool)})
    with pytest.raises(ValueError, match="pass dt="):
        rec.spike_times()
    assert rec.spike_times(0.5).tolist() == [0.5, 1.0, 1.5]
    with pytest.raises(ValueError, match="positive"):
        rec.spike_times(-1.0)


def test_one_naming_across_chip_and_float_runs():
    from neurochip.compiler.pipeline import compile_netlist, float_run, roomy_core_spec
    from neurochip.formats.netlist import expand, load_netlist
    from neurochip.hardware.chip import ChipSpec
    from pathlib import Path

    ex = expand(load_netlist(Path(__file__).parent.parent / "examples" / "balanced.json"))
    compiled = compile_netlist(ex, ChipSpec(1, 1, core=roomy_core_spec(ex.n, 1)))
    chip = compiled.run(30, record=("spikes", "v", "i", "theta"))
    floated = float_run(ex, 30)
    for rec in (chip, floated):
        for name, old in (("v", "V"), ("i", "I_syn"), ("theta", "Theta")):
            assert rec[name].shape == (30, ex.n)
            assert rec[old] is rec[name] or np.shares_memory(rec[old], rec[name])
            major = rec.trace(name, neuron_major=True)
            assert major.shape == (ex.n, 30) and np.shares_memory(major, rec[name])
        assert rec.spike_times().size == int(np.asarray(rec.spikes).sum())   # dt known
    assert chip.dt == floated.dt == ex.dt
    assert floated.V is floated.v and floated.I_syn is floated.i
    with pytest.raises(KeyError, match="recorded: spikes, v"):
        compiled.run(2, record=("spikes", "v"))["theta"]


def test_the_float_reference_takes_old_and_new_names_in_record():
    p = LifPhysical(I_bias=1e-9)
    new = simulate(p, 1e-3, 20, record=("v", "spikes"))
    old = simulate(p, 1e-3, 20, record=("V", "spikes"))
    assert np.array_equal(new.v, old.V) and new.i is None and old.I_syn is None
    assert new.spike_counts().tolist() == old.spike_counts().tolist()
    assert new.spike_trains()[0].tolist() == list((np.flatnonzero(new.spikes[:, 0]) + 1)
                                                  * 1e-3)
    with pytest.raises(ValueError, match="record must name"):
        simulate(p, 1e-3, 2, record=("w",))


def test_nir_float_runs_name_their_variables_as_the_chip():
    import nir

    from neurochip.formats.nir import load_nir, run_float
    from neurochip.lab.nir_runs import float_reference, prepare

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([1])),
               "fc": nir.Linear(weight=np.array([[3.0]])),
               "lif": nir.LIF(tau=np.array([0.02]), r=np.array([1.0]),
                              v_leak=np.array([0.0]), v_threshold=np.array([1.0])),
               "output": nir.Output(output_type=np.array([1]))},
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])
    x = np.ones((10, 1))
    run = run_float(load_nir(graph, dt=1e-3), x)
    assert np.array_equal(run.node("lif", "v"), run.node("lif", "V"))
    assert np.array_equal(run.node("lif", "i"), run.node("lif", "I_syn"))
    ref = float_reference(prepare(graph, x, "1ms"), "netlist")
    assert ref.V is ref.v and ref.I_syn is ref.i
