"""The Loihi dialect (Lava 0.10 PyLifModelBitAcc): golden vectors derived by hand
(docs/dialect-loihi.md, "Golden vectors"), the kernel and whole cores against the
independent scalar oracle ``scalar_dialects``, and the refusals."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalar_dialects as sd  # noqa: E402

from firmware_models.loihi import LOIHI, LoihiParams, LoihiState  # noqa: E402
from firmware_models.loihi.kernel import registers  # noqa: E402
from neurochip.hardware.core import Core  # noqa: E402
from neurochip.compiler.dialects import dialect_spec, loihi_network  # noqa: E402
from neurochip.hardware.fixed import Arithmetic, RegisterOverflowError  # noqa: E402
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.spec import CoreSpec, SpecError  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
SPEC = dialect_spec("loihi", CoreSpec(n_slots=64, n_axons=64, synapse_words=4096,
                                      routing_entries=512))


def step(params: LoihiParams, u, v, a_in, check="count"):
    arith = Arithmetic(registers(SPEC), SPEC.overflow, SPEC.rounding, check)
    state, fired = LOIHI.step(params, LoihiState(np.array(u, dtype=np.int64),
                                                 np.array(v, dtype=np.int64)),
                              np.array(a_in, dtype=np.int64), None, arith)
    return state.u.tolist(), state.v.tolist(), fired.tolist(), arith.counts


# ------------------------------------------------------------------ golden vectors
def test_golden_current_decay_rounds_toward_zero():
    # p = ±1000 · 2047 = ±2,047,000; |p| >> 12 = 499 (499.75 toward zero; floor: -500)
    p = LoihiParams.make(2, du=2048, dv=0, vth=100)
    assert step(p, [1000, -1000], [0, 0], [0, 0])[:3] == ([499, -499], [499, -499],
                                                          [False, False])


def test_golden_input_bias_and_spike():
    # u = 0 + (3 << 6) = 192; v = (5000 · 1) >> 12 + 192 + (5 << 3) = 1 + 192 + 40 = 233
    # 233 > (3 << 6) = 192: spike, v = 0, u kept
    p = LoihiParams.make(1, du=0, dv=4095, bias_mant=5, bias_exp=3, vth=3)
    assert step(p, [0], [5000], [3])[:3] == ([192], [0], [True])


def test_golden_threshold_is_strict():
    # bias 3 << 6 = 192 = vth << 6: v = 192 is not above it; the next tick v = 384 is
    core = Core(SPEC, LoihiParams.make(1, dv=0, bias_mant=3, bias_exp=6, vth=3), model=LOIHI)
    rec = core.run(2, record=("spikes", "v"))
    assert rec.spikes[:, 0].tolist() == [False, True]
    assert rec["v"][:, 0].tolist() == [192, 0]


def test_golden_current_wraps():
    # u = 8,388,508: p = u · 4095, >> 12 = 8,386,460; + (100 << 6) = 8,392,860 > 2^23
    # -> 8,392,860 - 2^24 = -8,384,356
    p = LoihiParams.make(1, du=0, dv=4095, vth=131071)
    u, v, fired, counts = step(p, [8388508], [0], [100])
    assert u == [-8384356] and counts["u"] == 1
    assert v == [-8384356] and fired == [False]


def test_golden_wrap_window_edges():
    # Lava: +2^23 is left as it is, -2^23 becomes +2^23 (a_in = ±2^17: a_in << 6 = ±2^23)
    p = LoihiParams.make(2, du=0, dv=4095, vth=131071)
    u, _, _, counts = step(p, [0, 0], [0, 0], [2 ** 17, -2 ** 17])
    assert u == [2 ** 23, 2 ** 23] and counts["u"] == 1


def test_golden_wrap_beyond_lavas_single_correction():
    # a_in = 5 · 2^17: raw u = 5 · 2^23 = 41,943,040. Lava subtracts 2^24 once and keeps
    # 25,165,824 (outside 24 bits); the emulator wraps modulo 2^24 into -2^23+1 .. 2^23:
    # (41,943,040 + 8,388,607) mod 16,777,216 = 16,777,215, - 8,388,607 = 8,388,608
    p = LoihiParams.make(1, du=0, dv=4095, vth=131071)
    assert step(p, [0], [0], [5 * 2 ** 17])[0] == [2 ** 23]


def test_golden_voltage_saturates_symmetrically():
    # v = -8,388,000 + (-100 << 6) = -8,394,400 -> -(2^23 - 1) = -8,388,607, not -2^23
    p = LoihiParams.make(1, du=4095, dv=0, vth=0)
    u, v, fired, counts = step(p, [0], [-8388000], [-100])
    assert (u, v, fired, counts["v"]) == ([-6400], [-8388607], [False], 1)


def test_golden_u_not_reset_and_du_4095_clears():
    # du = 4095: u = 0 · old + a_in << 6 each tick, so u holds this tick's input only
    core = Core(SPEC, LoihiParams.make(1, du=4095, dv=4095, vth=1), model=LOIHI,
                synapses=SynapseMemory.from_lists(1, [0], [0], [2]))
    rec = core.run(3, inputs=np.array([[1], [0], [1]]), record=("spikes", "u", "v"))
    # tick 0: u = 128, v = 0 + 128 > 64 spike; tick 1: u = 0, v = 0; tick 2 as tick 0
    assert rec["u"][:, 0].tolist() == [128, 0, 128]
    assert rec.spikes[:, 0].tolist() == [True, False, True]


# ------------------------------------------------------------------ against the oracle
loihi_slot = st.fixed_dictionaries(dict(
    du=st.integers(0, 4095), dv=st.integers(0, 4095), bias_mant=st.integers(-4096, 4095),
    bias_exp=st.integers(0, 7), vth=st.integers(0, 131071),
    u=st.integers(-2 ** 23 + 1, 2 ** 23), v=st.integers(-2 ** 23 + 1, 2 ** 23 - 1)))


@given(st.lists(loihi_slot, min_size=1, max_size=8),
       st.lists(st.lists(st.integers(-2 ** 17, 2 ** 17), min_size=8, max_size=8),
                min_size=1, max_size=6))
@settings(max_examples=300, **SETTINGS)
def test_kernel_matches_scalar_oracle(slots, a_ins):
    n = len(slots)
    params = LoihiParams.make(n, **{k: [s[k] for s in slots] for k in
                                    ("du", "dv", "bias_mant", "bias_exp", "vth")})
    u, v = [s["u"] for s in slots], [s["v"] for s in slots]
    for a_in in a_ins:
        expected = [sd.loihi_tick(u[j], v[j], a_in[j], s["du"], s["dv"], s["bias_mant"],
                                  s["bias_exp"], s["vth"]) for j, s in enumerate(slots)]
        u, v, fired, _ = step(params, u, v, a_in[:n])
        assert (u, v, fired) == tuple(map(list, zip(*expected)))


@st.composite
def loihi_core_case(draw):
    n = draw(st.integers(1, 10))
    n_axons = draw(st.integers(1, 8))
    words = draw(st.lists(st.tuples(st.integers(0, n_axons - 1), st.integers(0, n - 1),
                                    st.integers(-256, 255)), max_size=30))
    w_exp = draw(st.lists(st.integers(0, 5), min_size=n_axons, max_size=n_axons))
    routes = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n_axons - 1),
                                     st.integers(1, 3)), max_size=12))
    params = {k: draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)) for k, lo, hi in
              (("du", 0, 4095), ("dv", 0, 4095), ("bias_mant", -4096, 4095),
               ("bias_exp", 0, 7), ("vth", 0, 2000))}
    ticks = draw(st.integers(1, 12))
    inputs = draw(st.lists(st.lists(st.integers(0, 2), min_size=n_axons, max_size=n_axons),
                           min_size=ticks, max_size=ticks))
    return n, n_axons, words, w_exp, routes, params, inputs


@given(loihi_core_case())
@settings(max_examples=80, **SETTINGS)
def test_core_matches_scalar_network(case):
    """A whole core (delivery, routing with delays, the kernel) against a plain loop."""
    n, n_axons, words, w_exp, routes, params, inputs = case
    ticks = len(inputs)
    syn = SynapseMemory.from_lists(n_axons, [a for a, _, _ in words], [s for _, s, _ in words],
                                   [w for _, _, w in words], w_exp)
    rt = RoutingTable.from_lists(n, [r[0] for r in routes], [r[1] for r in routes],
                                 [r[2] for r in routes])
    spec = SPEC.replace(max_fanout=16)
    core = Core(spec, LoihiParams.make(n, **params), syn, rt, model=LOIHI)
    rec = core.run(ticks, np.array(inputs), record=("spikes", "u", "v"))

    u, v = [0] * n, [0] * n
    pending: dict[int, list[int]] = {}
    for t in range(ticks):
        events = [a for a in range(n_axons) for _ in range(inputs[t][a])] + pending.pop(t, [])
        a_in = [0] * n
        for a in events:
            for axon, slot, w in words:
                if axon == a:
                    a_in[slot] += w * 2 ** w_exp[a]
        # Lava's single wrap correction is the whole story while |a_in << 6| <= 2^24
        # (docs/dialect-loihi.md); beyond it the emulator wraps modulo 2^24, Lava does not
        assume(all(abs(a) <= 2 ** 18 for a in a_in))
        spikes = []
        for j in range(n):
            u[j], v[j], s = sd.loihi_tick(u[j], v[j], a_in[j], params["du"][j], params["dv"][j],
                                          params["bias_mant"][j], params["bias_exp"][j],
                                          params["vth"][j])
            spikes.append(s)
            if s:
                for slot, axon, delay in routes:
                    if slot == j:
                        pending.setdefault(t + delay, []).append(axon)
        assert rec.spikes[t].tolist() == spikes, t
        assert rec["u"][t].tolist() == u and rec["v"][t].tolist() == v, t


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("field, value, message", [
    ("du", 4096, "parameter du=4096 outside 0..4095 (12-bit unsigned)"),
    ("bias_mant", -4097, "parameter bias_mant=-4097 outside -4096..4095 (13-bit signed)"),
    ("bias_exp", 8, "parameter bias_exp=8 outside 0..7 (3-bit unsigned)"),
    ("vth", 131072, "parameter vth=131072 outside 0..131071 (17-bit unsigned)"),
])
def test_bad_parameter_is_refused(field, value, message):
    with pytest.raises(SpecError, match="^core 0, slot 1: " + message.replace("(", r"\(")
                       .replace(")", r"\)") + "$"):
        Core(SPEC, LoihiParams.make(2, **{field: [0, value]}), model=LOIHI)


def test_state_outside_the_registers_is_refused():
    core = Core(SPEC, LoihiParams.make(2), model=LOIHI)
    core.state = LoihiState(np.array([2 ** 23, -2 ** 23 + 1]), np.array([0, 0]))
    with pytest.raises(SpecError, match=r"state.u=-8388608 outside -8388607..8388608"):
        core.state = LoihiState(np.array([0, -2 ** 23]), np.array([0, 0]))
    with pytest.raises(SpecError, match=r"state.v=8388608 outside -8388607..8388607"):
        core.state = LoihiState(np.array([0, 0]), np.array([2 ** 23, 0]))


def test_weight_outside_nine_bits_is_refused():
    with pytest.raises(SpecError, match=r"axon 0 word 0: w=256 outside -256..255"):
        Core(SPEC, LoihiParams.make(1), SynapseMemory.from_lists(1, [0], [0], [256]),
             model=LOIHI)


def test_strict_mode_names_the_wrapping_register():
    spec = SPEC.replace(overflow_check="strict")
    core = Core(spec, LoihiParams.make(1, du=0, dv=4095, vth=131071),
                SynapseMemory.from_lists(1, [0], [0], [255], 7), model=LOIHI)
    with pytest.raises(RegisterOverflowError, match="register 'u' overflowed at tick 0: "
                       r"value 16711680 outside \[-8388607, 8388608\]"):
        core.run(1, np.array([[8]]))  # (255 << 7) · 8 << 6 = 16,711,680


def test_recordable_registers_follow_the_model():
    core = Core(SPEC, LoihiParams.make(1), model=LOIHI)
    with pytest.raises(SpecError, match=r"cannot record 'i'; choose from \('spikes', 'u', 'v'\)"):
        core.run(1, record=("i",))


# ------------------------------------------------------------------ Lava-style networks
def test_golden_lava_network_truncation_and_delays():
    # mixed input weights [3, -3] are truncated to [2, -4] ((w >> 1) << 1); input spikes
    # on channel 0 at ticks 0 and 1 reach the neuron at ticks 1 and 2 (Dense is one tick
    # late): u = 2 << 6 = 128 at tick 1; with du = 2047: u = 128 * 2048 >> 12 = 64, +128 =
    # 192 at tick 2; dv = 4095 keeps v = u (0 + u): v = 0, 128, 192; vth = 2 (128): the
    # neuron fires at tick 2 (192 > 128) but not at tick 1 (128 is not above 128)
    net = loihi_network(np.array([[3, -3]]), np.zeros((1, 1), int),
                        LoihiParams.make(1, du=2047, dv=4095, vth=2))
    assert net.core.synapses.w.tolist() == [2, -4]
    rec = net.run(np.array([[1, 0], [1, 0], [0, 0]]), record=("spikes", "u", "v"))
    assert rec["u"][:, 0].tolist() == [0, 128, 192]
    assert rec["v"][:, 0].tolist() == [0, 128, 0]
    assert rec.spikes[:, 0].tolist() == [False, False, True]


@st.composite
def lava_case(draw):
    n_in, n = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    mode = draw(st.sampled_from(["mixed", "excitatory", "inhibitory"]))
    lo, hi = {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[mode]
    w_in = draw(st.lists(st.lists(st.integers(lo, hi), min_size=n_in, max_size=n_in),
                         min_size=n, max_size=n))
    w_rec = draw(st.lists(st.lists(st.integers(-256, 255), min_size=n, max_size=n),
                          min_size=n, max_size=n))
    bits = draw(st.integers(1, 8))
    # exponents up to 5 keep a tick's input (10 weights of 256 << 5, << 6) within the
    # range where Lava's single wrap correction and the modular wrap agree
    exps = draw(st.tuples(st.integers(0, 5), st.integers(0, 5)))
    neuron = st.fixed_dictionaries({
        "du": st.integers(0, 4095), "dv": st.integers(0, 4095),
        "bias_mant": st.integers(-4096, 4095), "bias_exp": st.integers(0, 7),
        "vth": st.integers(0, 3000)})
    neurons = draw(st.lists(neuron, min_size=n, max_size=n))
    ticks = draw(st.integers(1, 12))
    raster = draw(st.lists(st.lists(st.integers(0, 1), min_size=n_in, max_size=n_in),
                           min_size=ticks, max_size=ticks))
    return w_in, w_rec, mode, bits, exps, neurons, raster


@given(lava_case())
@settings(max_examples=80, **SETTINGS)
def test_lava_network_matches_lava_processes(case):
    """``loihi_network`` against Lava's process semantics step by step: Dense buffers
    (one timestep late), sign modes and truncation, weight exponents, the LIF."""
    w_in, w_rec, mode, bits, exps, neurons, raster = case
    keys = ("du", "dv", "bias_mant", "bias_exp", "vth")
    params = LoihiParams.make(len(neurons), **{k: [p[k] for p in neurons] for k in keys})
    net = loihi_network(np.array(w_in), np.array(w_rec), params, weight_exp_in=exps[0],
                        weight_exp_rec=exps[1], num_weight_bits=bits, sign_mode_in=mode,
                        sign_mode_rec="mixed")
    rec = net.run(np.array(raster), record=("spikes", "u", "v"))
    oracle = sd.LoihiNet([[sd.lava_truncate(w, mode, bits) for w in row] for row in w_in],
                         [[sd.lava_truncate(w, "mixed", bits) for w in row] for row in w_rec],
                         exps[0], exps[1], neurons)
    for t, s_in in enumerate(raster):
        spikes = oracle.tick(s_in)
        assert rec.spikes[t].tolist() == spikes, t
        assert rec["u"][t].tolist() == oracle.u and rec["v"][t].tolist() == oracle.v, t


def test_lava_weights_outside_their_sign_mode_are_refused():
    with pytest.raises(SpecError, match=r"^w_in\[0, 1\]=256 outside -256..255$"):
        loihi_network(np.array([[0, 256]]), np.zeros((1, 1), int), LoihiParams.make(1))
    with pytest.raises(SpecError, match=r"^w_rec \(excitatory\)\[0, 0\]=-1 outside 0..255$"):
        loihi_network(np.zeros((1, 1), int), np.array([[-1]]), LoihiParams.make(1),
                      sign_mode_rec="excitatory")
    with pytest.raises(SpecError, match=r"num_weight_bits must be in 1..8, got 9"):
        loihi_network(np.zeros((1, 1), int), np.zeros((1, 1), int), LoihiParams.make(1),
                      num_weight_bits=9)
