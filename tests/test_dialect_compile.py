"""Netlists and NIR graphs onto a dialect: the quantisers' numbers derived by hand, the
compiler and the precision lab with ``CoreSpec.dialect``, and the refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import nir
import numpy as np
import pytest

from firmware_models.loihi import LOIHI, LoihiParams
from firmware_models.loihi import quantiser as lq
from firmware_models.xylo import XYLO
from firmware_models.xylo import quantiser as xq
from firmware_models.lif.reference import LifPhysical
from neurochip.hardware.chip import ChipSpec
from neurochip.lab.compare import compare, resolve_config
from neurochip.compiler.pipeline import compile_netlist, roomy_core_spec, with_input_events
from neurochip.hardware.core import Core
from neurochip.compiler.dialects import dialect_spec
from neurochip.formats.netlist import expand, load_netlist
from neurochip.formats.nir import load_nir
from neurochip.hardware.spec import CoreSpec, SpecError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "balanced.toml"


def chip_spec(dialect: str, n: int) -> ChipSpec:
    return ChipSpec(2, 2, core=dialect_spec(dialect, roomy_core_spec(-(-n // 4), 4)))


# ------------------------------------------------------------------ Loihi quantiser
def test_loihi_decay_constants_by_hand():
    # dt = 1 ms: tau_m = 20 ms -> 4096 (1 - e^-0.05) = 199.77 -> dv = 200;
    # tau_syn = 5 ms -> 4096 (1 - e^-0.2) = 742.47 -> 742, less Lava's offset 1: du = 741
    assert lq.decay_constants([20e-3], 1e-3, 0, 1).tolist() == [200]
    assert lq.decay_constants([5e-3], 1e-3, 1, 0).tolist() == [741]
    # the realised tau of du = 741 is -dt / ln(1 - 742/4096)
    assert lq.realised_tau([741], 1e-3, 1)[0] == pytest.approx(-1e-3 / np.log(1 - 742 / 4096),
                                                              rel=1e-15)


def test_loihi_weights_sign_modes_and_truncation():
    # mixed mode loses the last bit: (w >> 1) << 1; excitatory with 6 weight bits: >> 2 << 2
    assert lq.truncate(np.array([3, -3, 255, -256]), "mixed").tolist() == [2, -4, 254, -256]
    assert lq.truncate(np.array([255, 7]), "excitatory", 6).tolist() == [252, 4]
    assert lq.sign_mode(np.array([1.0, -1.0])) == "mixed"
    assert lq.sign_mode(np.array([0.0, 2.0])) == "excitatory"
    assert lq.sign_mode(np.array([0.0, -2.0])) == "inhibitory"
    # weights of 100 and 300 LSB (of u / 64): exponent 1 (300 / 2 = 150 <= 255),
    # excitatory mantissas 50 and 150 (even already)
    q = lq.quantise_weights(np.array([100.0, 300.0]) * 64e-12, np.full(2, 1e-12),
                            CoreSpec(w_exp_bits=3))
    assert (q.w.tolist(), q.w_exp, q.clipped) == ([50, 150], 1, 0)


def test_loihi_bias_fields_by_hand():
    mant, exp = lq.bias_fields(np.array([4095, 5000, -4097, 524160]))
    # 5000 / 2 = 2500; -4097 / 2 = -2048.5 -> -2048 (rint, to even); 524160 = 4095 << 7
    assert mant.tolist() == [4095, 2500, -2048, 4095] and exp.tolist() == [0, 1, 1, 7]
    with pytest.raises(ValueError, match=r"^neuron 0: a bias of 524300 LSB is beyond "
                       r"bias_mant << bias_exp \(at most 524160 in magnitude\)$"):
        lq.bias_fields(np.array([524300]))


def test_loihi_quantiser_reports_what_loihi_cannot_hold():
    p = LifPhysical(T_ref=2e-3, alpha=1e-3, V_reset=-65e-3)
    q = lq.quantise_groups(p, 1e-3, dialect_spec("loihi"), [slice(0, 3)])
    rows = {e.name: e for e in q.errors}
    assert rows["T_ref"].realised.tolist() == [0.0] * 3 and rows["T_ref"].max_relative == 1
    assert rows["V_reset"].realised.tolist() == [-70e-3] * 3   # v = 0 is E_L
    # threshold 20 mV above rest at 1/2 of 2^23 - 1: vth << 6 close to 4194303
    assert abs(int(q.params.vth[0]) * 64 - 4194303) <= 32
    assert rows["V_th"].max_relative < 1e-5


# ------------------------------------------------------------------ Xylo quantiser
def test_xylo_weights_undo_the_same_tick_decay():
    p = LifPhysical(tau_syn=4e-3)
    q = xq.quantise_groups(p, 1e-3, dialect_spec("xylo"), [slice(0, 1)])
    d = int(q.params.dash_syn1[0])
    assert d == 2   # tau_eff(2) = -1 ms / ln(3/4) = 3.48 ms is nearest 4 ms
    assert xq.weight_lsb(q)[0] == q.scales.i_lsb[0] * (1 - 2 ** -d)
    assert q.params.dash_syn2.tolist() == q.params.dash_syn1.tolist()
    readout = xq.for_network(q.params, np.array([True]))
    assert readout.max_spikes.tolist() == [1] and q.params.max_spikes.tolist() == [31]
    assert "V_reset" not in {e.name for e in q.errors}


# ------------------------------------------------------------------ the spec's dialect
def test_core_spec_names_its_dialect():
    with pytest.raises(SpecError, match=r"^CoreSpec.dialect must be one of \('lif', 'loihi', "
                       r"'xylo'\), got 'truenorth'$"):
        CoreSpec(dialect="truenorth")
    spec = dialect_spec("loihi", CoreSpec(n_slots=4))
    assert (spec.dialect, spec.v_bits, spec.i_bits, spec.w_bits, spec.n_slots) == \
        ("loihi", 24, 24, 9, 4)
    assert Core(spec, LoihiParams.make(2)).model is LOIHI
    from firmware_models.lif import LifParams
    with pytest.raises(SpecError, match=r"^core 0: the loihi model takes LoihiParams, got "
                       r"LifParams \(the spec's dialect is 'loihi'\)$"):
        Core(spec, LifParams.make(2))
    assert resolve_config({"dialect": "xylo", "v_bits": 12}, CoreSpec()).v_bits == 12
    assert resolve_config({"dialect": "xylo"}, CoreSpec(v_bits=20)).v_bits == 16


@pytest.mark.parametrize("dialect, model, registers", [
    ("loihi", LOIHI, {"u", "v"}), ("xylo", XYLO, {"isyn1", "isyn2", "v"})])
def test_netlist_compiles_and_runs_in_a_dialect(dialect, model, registers):
    ex = expand(load_netlist(EXAMPLE))
    compiled = compile_netlist(ex, chip_spec(dialect, ex.n))
    assert compiled.chip.model is model and compiled.dialect == dialect
    assert set(compiled.chip.overflow_counts) == registers
    rec = compiled.run(100, record=("spikes", "v"))
    assert rec.spikes.shape == (100, ex.n) and rec.spikes.sum() > 0
    text = compiled.report.format()
    assert "T_ref" in text and "weights: exponent" in text


def test_dialects_side_by_side_in_the_precision_lab():
    results = compare(EXAMPLE, [{"dialect": d} for d in ("lif", "loihi", "xylo")], ticks=200)
    assert [r.spec["dialect"] for r in results] == ["lif", "loihi", "xylo"]
    assert [r.label.split()[0] for r in results] == ["v16", "loihi", "xylo"]
    assert all(r.error is None for r in results)
    assert len({r.total_float for r in results}) == 1   # one float reference for all


def test_loihi_reproduces_the_float_model_it_realises():
    """At 24 bits with toward-zero decays, Loihi's arithmetic follows the float LIF of its
    realised parameters spike for spike on the example network."""
    (result,) = compare(EXAMPLE, [{"dialect": "loihi"}], reference="realised")
    assert result.total > 0 and result.identical_fraction == 1.0
    assert result.v_rmse < 1e-6   # volts


def test_xylo_counts_every_spike_of_a_tick():
    (result,) = compare(EXAMPLE, [{"dialect": "xylo"}], ticks=300)
    compiled = compile_netlist(expand(load_netlist(EXAMPLE)), chip_spec("xylo", 100))
    spikes = compiled.run(300, record=("spikes",)).spikes
    assert result.total == int(spikes.sum()) and result.counts.tolist() == \
        spikes.sum(axis=0).tolist()


def test_nir_graph_compiles_to_every_dialect(tmp_path):
    path = tmp_path / "pair.nir"
    full = lambda x: np.full(1, float(x))  # noqa: E731
    nodes = {"in": nir.Input(np.array([1.0])), "w1": nir.Linear(np.array([[2.0]])),
             "a": nir.LIF(tau=full(0.01), r=full(1), v_leak=full(0), v_threshold=full(1)),
             "out": nir.Output(np.array([1.0]))}
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=[("in", "w1"), ("w1", "a"), ("a", "out")]))
    net = load_nir(path, dt=1e-3)
    x = np.zeros((50, 1))
    x[::2] = 1
    counts = {}
    for dialect in ("lif", "loihi", "xylo"):
        ex = with_input_events(expand(net.netlist_for(50)), net.input_channel, net.input_post,
                               net.input_weight, net.input_delay, x)
        compiled = compile_netlist(ex, ChipSpec(1, 1, core=dialect_spec(
            dialect, roomy_core_spec(1, 1))))
        counts[dialect] = int(compiled.run(50, record=("spikes",)).spikes.sum())
    assert all(c > 0 for c in counts.values()), counts


def test_a_current_beyond_loihi_is_refused():
    """The bias field holds 4095 << 7 LSB: a current that needs more coarsens the voltage
    scale until the threshold rounds to 0, and that is refused, naming the neuron."""
    ex = expand(load_netlist(EXAMPLE))
    p = replace(ex.params.broadcast(ex.n), I_bias=np.full(ex.n, 1e-3))
    with pytest.raises(ValueError, match=r"^neuron 0: V_th rounds to vth=0 at the voltage "
                       r"scale its input current forces \(v_lsb=[\d.e-]+ V, bias at most "
                       r"524160 LSB\)"):
        compile_netlist(replace(ex, params=p), chip_spec("loihi", ex.n))


# ------------------------------------------------------------------ images
def test_xylo_core_image_round_trips_with_its_targets():
    from neurochip.hardware.chip import CoreConfig
    from neurochip.compiler.dialects import xylo_network
    from neurochip.formats.image import decode_core, encode_core

    rng = np.random.default_rng(3)
    net = xylo_network(rng.integers(-128, 128, (3, 4, 2)), rng.integers(-128, 128, (4, 4, 2)),
                       rng.integers(-128, 128, (4, 2)), threshold=500, weight_shift_in=3)
    core = net.core
    data = encode_core(core.spec, CoreConfig(core.params, core.synapses, core.routes), 0, (1, 1))
    image = decode_core(data)
    assert image.spec.dialect == "xylo" and type(image.config.params).__name__ == "XyloParams"
    assert image.config.synapses.targets_of_words().tolist() == \
        core.synapses.targets_of_words().tolist()
    assert set(core.synapses.targets_of_words().tolist()) == {0, 1}
    raster = rng.integers(0, 3, (30, 3))
    again = Core(image.spec, image.config.params, image.config.synapses, image.config.routes)
    assert again.run(30, net.inputs(raster), ("spikes", "v")).traces["v"].tolist() == \
        net.run(raster, ("spikes", "v")).traces["v"].tolist()


@pytest.mark.parametrize("dialect", ["loihi", "xylo"])
def test_compiled_dialect_chip_boots_from_its_images(tmp_path, dialect):
    from neurochip.formats.image import load_chip, write_chip_images

    ex = expand(load_netlist(EXAMPLE))
    compiled = compile_netlist(ex, chip_spec(dialect, ex.n))
    chip = compiled.chip
    write_chip_images(chip.spec, dict(enumerate(chip.configs)), tmp_path)
    booted = load_chip(tmp_path)
    assert booted.model is chip.model
    inputs = compiled.inputs(100)
    assert booted.run(100, inputs, ("spikes", "v"), timing=False).traces["v"].tolist() == \
        chip.run(100, inputs, ("spikes", "v"), timing=False).traces["v"].tolist()


# ------------------------------------------------------------------ float twins
def test_loihi_twin_parameters_by_hand():
    from firmware_models.loihi import reference

    p = LoihiParams.make(1, du=741, dv=200, bias_mant=5, bias_exp=3, vth=100)
    asked = LifPhysical(g_L=10e-9, E_L=-70e-3)
    twin = reference.realised(p, asked, 1e-3, 1e-6)
    assert twin.tau_m[0] == pytest.approx(-1e-3 / np.log(1 - 200 / 4096), rel=1e-14)
    assert twin.tau_syn[0] == pytest.approx(-1e-3 / np.log(1 - 742 / 4096), rel=1e-14)
    assert twin.V_th[0] == pytest.approx(-70e-3 + 6400e-6, rel=1e-14)
    # 40 LSB of bias; one LSB of current moves v by one LSB per tick: 1e-6 V / (R dv/4096)
    assert twin.I_bias[0] == pytest.approx(40 * 1e-6 * 10e-9 * 4096 / 200, rel=1e-14)
    assert (twin.T_ref, twin.V_reset[0], twin.reset) == (0.0, -70e-3, "value")


def test_xylo_twin_parameters_by_hand():
    from firmware_models.xylo import XyloParams, reference

    p = XyloParams.make(1, dash_syn1=2, dash_mem=4, threshold=1000, bias=-50)
    twin = reference.realised(p, LifPhysical(g_L=10e-9, E_L=-70e-3), 1e-3, 2e-5)
    assert twin.tau_m[0] == pytest.approx(-1e-3 / np.log(1 - 1 / 16), rel=1e-14)
    assert twin.tau_syn[0] == pytest.approx(-1e-3 / np.log(3 / 4), rel=1e-14)
    assert twin.V_th[0] == pytest.approx(-70e-3 + 1000 * 2e-5, rel=1e-14)
    assert twin.I_bias[0] == pytest.approx(-50 * 2e-5 * 10e-9 * 16, rel=1e-14)
    assert twin.reset == "subtract" and twin.T_ref == 0.0


def test_loihi_quantiser_follows_a_narrower_membrane():
    # v_bits = 16: the threshold goes to (2^15 - 1)/2 LSB of v, vth = rint(32767/128) = 256
    p = LifPhysical()
    q = lq.quantise_groups(p, 1e-3, dialect_spec("loihi", v_bits=16), [slice(0, 1)])
    assert q.params.vth.tolist() == [256]
    assert lq.quantise_groups(p, 1e-3, dialect_spec("loihi"), [slice(0, 1)]).params.vth \
        .tolist() == [round(8388607 / 128)]


@pytest.mark.parametrize("dialect", ["loihi", "xylo"])
def test_placement_does_not_change_a_dialect_run(dialect):
    """Every neuron gets the same events in the same order (inputs by ascending channel,
    then spikes by ascending source neuron) whichever core it sits on, so one core and a
    2x2 mesh give the same spike trains and membranes -- here with weights 60 times the
    example's, so that thousands of additions saturate (Xylo) or wrap (Loihi)."""
    ex = expand(load_netlist(EXAMPLE))
    ex = replace(ex, weight=ex.weight * 60, event_weight=ex.event_weight * 60)
    one = compile_netlist(ex, ChipSpec(1, 1, core=dialect_spec(dialect, roomy_core_spec(
        ex.n, 1))))
    four = compile_netlist(ex, chip_spec(dialect, ex.n), partitioner="greedy")
    assert len(set(four.core_of.tolist())) == 4
    a, b = one.run(300, record=("spikes", "v")), four.run(300, record=("spikes", "v"))
    assert a.spikes.tolist() == b.spikes.tolist() and a["v"].tolist() == b["v"].tolist()
    assert a.overflow == b.overflow and sum(a.overflow.values()) > 1000


def test_xylo_refuses_more_than_15_input_events_per_channel_and_tick():
    """xylosim clips a channel's input to 15 events a tick; the emulator says so instead."""
    ex = expand(load_netlist(EXAMPLE))
    n_events = ex.event_tick.size
    ex = replace(ex, event_tick=np.concatenate([ex.event_tick, np.full(16, 3)]),
                 event_neuron=np.concatenate([ex.event_neuron, np.zeros(16, np.int64)]),
                 event_weight=np.concatenate([ex.event_weight, np.full(16, 1e-12)]),
                 event_input=np.concatenate([ex.event_input, np.full(16, -1)]))
    assert ex.event_tick.size == n_events + 16
    compiled = compile_netlist(ex, chip_spec("xylo", ex.n))
    with pytest.raises(SpecError, match=r"^tick 3: input channel \d+ \(neuron 0\) carries 16 "
                       r"events, the xylo dialect takes at most 15 per channel and tick$"):
        compiled.run(10)
    assert compile_netlist(ex, chip_spec("loihi", ex.n)).run(10).spikes.shape == (10, ex.n)
