"""The Xylo dialect (xylosim 0.1.3 v2): golden vectors derived by hand
(docs/dialect-xylo.md, "Golden vectors"), the kernel, in-order accumulation and whole
networks against the independent scalar oracle ``scalar_dialects``, and the refusals."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalar_dialects as sd  # noqa: E402

from firmware_models.base import RegisterFormat, SynapticEvents  # noqa: E402
from firmware_models.xylo import XYLO, XyloParams, XyloState  # noqa: E402
from firmware_models.xylo.kernel import registers  # noqa: E402
from neurochip.hardware.core import Core  # noqa: E402
from neurochip.compiler.dialects import dialect_spec, xylo_network  # noqa: E402
from neurochip.hardware.fixed import Arithmetic, RegisterOverflowError  # noqa: E402
from neurochip.hardware.spec import CoreSpec, SpecError  # noqa: E402
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
SPEC = dialect_spec("xylo", CoreSpec(n_slots=64, n_axons=64, synapse_words=4096,
                                     routing_entries=512))


def step(params, isyn1, isyn2, v, events=((), (), ()), check="count"):
    arith = Arithmetic(registers(SPEC), SPEC.overflow, SPEC.rounding, check)
    slot, target, w = (np.array(x, dtype=np.int64) for x in events)
    state, count = XYLO.step(params, XyloState(*(np.array(x, dtype=np.int64)
                                                 for x in (isyn1, isyn2, v))),
                             SynapticEvents(slot, target, w), None, arith)
    return (state.isyn1.tolist(), state.isyn2.tolist(), state.v.tolist(), count.tolist(),
            arith.counts)


# ------------------------------------------------------------------ golden vectors
def test_golden_decay_is_not_symmetric():
    # d = 1: 3 -> 2 -> 1 -> 0 (the last step: 1 >> 1 = 0, replaced by 1) but
    # -3 -> -1 -> 0 (-3 >> 1 = -2, -1 >> 1 = -1); d = 0 zeroes the value at once
    p = XyloParams.make(3, dash_syn1=[1, 1, 0], dash_syn2=[1, 1, 0], dash_mem=15,
                        threshold=32767)
    isyn = [3, -3, 12345]
    seen = []
    for _ in range(3):
        isyn, _, _, _, _ = step(p, isyn, [0, 0, 0], [0, 0, 0])
        seen.append(isyn)
    assert seen == [[2, -1, 0], [1, 0, 0], [0, 0, 0]]


def test_golden_membrane_decay():
    # dash_mem = 1, no current: v = 3 -> 2 -> 1 -> 0 and v = -3 -> -1 -> 0
    core = Core(SPEC, XyloParams.make(2, dash_mem=1, threshold=32767), model=XYLO)
    core.state = XyloState(np.zeros(2, np.int64), np.zeros(2, np.int64), np.array([3, -3]))
    assert core.run(3, record=("v",))["v"].tolist() == [[2, -1], [1, 0], [0, 0]]


def test_golden_order_at_the_rails():
    # one isyn1, events in ascending channel order: +25600, +25600, -16384
    # sequential: 25600 -> 51200 saturates to 32767 -> 16383 (wide sum: 34816 -> 32767)
    # decay (4): 16383 - (16383 >> 4) = 16383 - 1023 = 15360; v = 15360
    # hidden (max 31), threshold 4000: 3 spikes, v = 15360 - 12000 = 3360
    # output (max 1): 1 spike, v = 11360
    p = XyloParams.make(2, dash_syn1=4, dash_mem=4, threshold=4000, max_spikes=[31, 1])
    events = ([0, 0, 0, 1, 1, 1], [0] * 6, [25600, 25600, -16384] * 2)
    isyn1, isyn2, v, count, counts = step(p, [0, 0], [0, 0], [0, 0], events)
    assert (isyn1, isyn2, v, count) == ([15360, 15360], [0, 0], [3360, 11360], [3, 1])
    assert counts["isyn1"] == 2  # one clipped addition per slot


def test_golden_network_counts_and_delays():
    """Input -> hidden 0 (no delay), 3 spikes -> hidden 1 (isyn2) and output one tick
    later, each spike adding its weight once, saturating after each."""
    # tick 0: isyn1(h0) = 100 << 5 = 3200 -> 3200 - max(3200 >> 15, 1) = 3199; v = 3199;
    #         threshold 1000: 3 spikes, v = 199
    # tick 1: h1.isyn2 = 3 x (50 << 6) = 9600 -> 9599; v = 9599, threshold 3000: 3, v = 599
    #         out.isyn1 = 16256, 32512, 32767 (clipped) -> 32766; v = 32766: 1 spike, 22766
    #         h0: isyn1 = 3198; dv = -1 + 3198 = 3197; v = 3396: 3 spikes, v = 396
    w_rec = np.array([[[0, 0], [0, 50]], [[0, 0], [0, 0]]])
    net = xylo_network(np.array([[[100, 0], [0, 0]]]), w_rec,
                       np.array([[127], [0]]), dash_syn=15, dash_syn2=15, dash_mem=15,
                       threshold=[1000, 3000], dash_syn_out=15, dash_mem_out=15,
                       threshold_out=10000, weight_shift_in=5, weight_shift_rec=6,
                       weight_shift_out=7)
    rec = net.run(np.array([[1], [0]]), record=("spikes", "isyn1", "isyn2", "v"))
    assert rec.spikes.tolist() == [[3, 0, 0], [3, 3, 1]]
    assert rec["isyn1"].tolist() == [[3199, 0, 0], [3198, 0, 32766]]
    assert rec["isyn2"].tolist() == [[0, 0, 0], [0, 9599, 0]]
    assert rec["v"].tolist() == [[199, 0, 0], [396, 599, 22766]]
    assert net.core.overflow_counts == {"isyn1": 1, "isyn2": 0, "v": 0}


def test_golden_bias_and_membrane_saturation():
    # v = 32000, isyn = 0, bias 1000, dash_mem 15: dv = -(32000 >> 15 = 0 -> 1) + 0 = -1;
    # dv = -1 + 1000 = 999; v = 32999 -> 32767; threshold 32767: 1 spike, v = 0
    p = XyloParams.make(1, dash_mem=15, bias=1000, threshold=32767)
    assert step(p, [0], [0], [32000])[2:4] == ([0], [1])


def test_golden_threshold_zero_and_count_limit():
    # threshold 0: every v >= 0 spikes max_spikes times and keeps v; a negative v does not
    p = XyloParams.make(2, dash_mem=15, threshold=0, max_spikes=[31, 5], bias=[7, -7])
    assert step(p, [0, 0], [0, 0], [0, 0])[2:4] == ([7, -7], [31, 0])


# ------------------------------------------------------------------ accumulate
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-40000, 40000)), max_size=40),
       st.lists(st.integers(-32768, 32767), min_size=6, max_size=6),
       st.sampled_from(["saturate", "wrap"]))
@settings(max_examples=300, **SETTINGS)
def test_accumulate_is_one_event_at_a_time(events, start, mode):
    arith = Arithmetic({"x": RegisterFormat(16, True, mode)})
    got = arith.accumulate(np.array(start), np.array([s for s, _ in events], dtype=np.int64),
                           np.array([w for _, w in events], dtype=np.int64), "x")
    expected, clipped = list(start), 0
    for slot, w in events:
        raw = expected[slot] + w
        fitted = sd.sat16(raw) if mode == "saturate" else (raw + 32768) % 65536 - 32768
        clipped += fitted != raw
        expected[slot] = fitted
    assert got.tolist() == expected
    assert arith.counts["x"] == clipped


def test_accumulate_strict_names_the_slot():
    arith = Arithmetic({"isyn1": RegisterFormat(16, True, "saturate")},
                       overflow_check="strict", locate=lambda i: (2, i))
    with pytest.raises(RegisterOverflowError, match="core 2, slot 4: register 'isyn1' "
                       r"overflowed at tick 0: value 40000 outside \[-32768, 32767\]"):
        arith.accumulate(np.zeros(6), np.array([1, 4, 4]), np.array([5, 20000, 20000]), "isyn1")


# ------------------------------------------------------------------ against the oracle
xylo_slot = st.fixed_dictionaries(dict(
    dash_syn1=st.integers(0, 15), dash_syn2=st.integers(0, 15), dash_mem=st.integers(0, 15),
    threshold=st.integers(0, 32767), bias=st.integers(-32768, 32767),
    max_spikes=st.integers(0, 31), isyn1=st.integers(-32768, 32767),
    isyn2=st.integers(-32768, 32767), v=st.integers(-32768, 32767),
    adds1=st.lists(st.integers(-128 * 128, 127 * 128), max_size=6),
    adds2=st.lists(st.integers(-128 * 128, 127 * 128), max_size=6)))


@given(st.lists(xylo_slot, min_size=1, max_size=8))
@settings(max_examples=400, **SETTINGS)
def test_kernel_matches_scalar_oracle(slots):
    n = len(slots)
    names = ("dash_syn1", "dash_syn2", "dash_mem", "threshold", "bias", "max_spikes")
    params = XyloParams.make(n, **{k: [s[k] for s in slots] for k in names})
    # interleave the slots' events: the order between slots must not matter
    events = sorted(((j, t, k, w) for j, s in enumerate(slots)
                     for t, key in enumerate(("adds1", "adds2"))
                     for k, w in enumerate(s[key])), key=lambda e: (e[2], -e[0]))
    got = step(params, [s["isyn1"] for s in slots], [s["isyn2"] for s in slots],
               [s["v"] for s in slots],
               ([e[0] for e in events], [e[1] for e in events], [e[3] for e in events]))
    for j, s in enumerate(slots):
        isyn, v, count = sd.xylo_tick([s["isyn1"], s["isyn2"]], s["v"], [s["adds1"], s["adds2"]],
                                      [s["dash_syn1"], s["dash_syn2"]], s["dash_mem"],
                                      s["threshold"], s["bias"], s["max_spikes"])
        assert [got[0][j], got[1][j], got[2][j], got[3][j]] == [isyn[0], isyn[1], v, count]


@st.composite
def xylo_case(draw):
    n_in, n_hid, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    weight = st.integers(-128, 127) | st.just(0)
    w_in = draw(st.lists(st.lists(st.lists(weight, min_size=2, max_size=2), min_size=n_hid,
                                  max_size=n_hid), min_size=n_in, max_size=n_in))
    w_rec = draw(st.lists(st.lists(st.lists(weight, min_size=2, max_size=2), min_size=n_hid,
                                   max_size=n_hid), min_size=n_hid, max_size=n_hid))
    w_out = draw(st.lists(st.lists(weight, min_size=n_out, max_size=n_out), min_size=n_hid,
                          max_size=n_hid))
    neuron = st.fixed_dictionaries(dict(
        dash_syn1=st.integers(0, 15), dash_syn2=st.integers(0, 15),
        dash_mem=st.integers(0, 15), threshold=st.integers(1, 32767),
        bias=st.integers(-2000, 2000)))
    hidden = draw(st.lists(neuron, min_size=n_hid, max_size=n_hid))
    output = draw(st.lists(neuron, min_size=n_out, max_size=n_out))
    shifts = draw(st.tuples(*[st.integers(0, 7)] * 3))
    ticks = draw(st.integers(1, 10))
    raster = draw(st.lists(st.lists(st.integers(0, 15), min_size=n_in, max_size=n_in),
                           min_size=ticks, max_size=ticks))
    return w_in, w_rec, w_out, hidden, output, shifts, raster


@given(xylo_case())
@settings(max_examples=80, **SETTINGS)
def test_network_matches_scalar_xylosim(case):
    """Input, recurrent and output weights, spike counts and delays, against a loop that
    applies every event of every channel, count times, in ascending channel order."""
    w_in, w_rec, w_out, hidden, output, shifts, raster = case
    col = lambda rows, key: [r[key] for r in rows]  # noqa: E731
    net = xylo_network(np.array(w_in), np.array(w_rec), np.array(w_out),
                       dash_syn=col(hidden, "dash_syn1"), dash_syn2=col(hidden, "dash_syn2"),
                       dash_mem=col(hidden, "dash_mem"), threshold=col(hidden, "threshold"),
                       bias=col(hidden, "bias"), dash_syn_out=col(output, "dash_syn1"),
                       dash_mem_out=col(output, "dash_mem"),
                       threshold_out=col(output, "threshold"), bias_out=col(output, "bias"),
                       weight_shift_in=shifts[0], weight_shift_rec=shifts[1],
                       weight_shift_out=shifts[2])
    rec = net.run(np.array(raster), record=("spikes", "isyn1", "isyn2", "v"))
    output = [dict(o, dash_syn2=0) for o in output]
    oracle = sd.XyloNet(w_in, w_rec, w_out, *shifts, hidden, output)
    for t, counts in enumerate(raster):
        h, o = oracle.tick(counts)
        assert rec.spikes[t].tolist() == h + o, t
        assert rec["v"][t].tolist() == oracle.h_v + oracle.o_v, t
        assert rec["isyn1"][t].tolist() == [x[0] for x in oracle.h_isyn + oracle.o_isyn], t
        assert rec["isyn2"][t].tolist() == [x[1] for x in oracle.h_isyn + oracle.o_isyn], t


# ------------------------------------------------------------------ refusals
def test_bad_parameters_are_refused():
    with pytest.raises(SpecError, match=r"^core 0, slot 1: parameter dash_mem=16 outside "
                       r"0..15 \(4-bit unsigned\)$"):
        Core(SPEC, XyloParams.make(2, dash_mem=[0, 16]), model=XYLO)
    with pytest.raises(SpecError, match=r"parameter threshold=-1 outside 0..32767"):
        Core(SPEC, XyloParams.make(1, threshold=-1), model=XYLO)
    with pytest.raises(SpecError, match=r"parameter max_spikes=32 outside 0..31"):
        Core(SPEC, XyloParams.make(1, max_spikes=32), model=XYLO)


def test_bad_weights_targets_and_inputs_are_refused():
    with pytest.raises(SpecError, match=r"^w_in\[0, 1, 0\]=128 outside -128..127$"):
        xylo_network(np.array([[[0, 0], [128, 0]]]), np.zeros((2, 2, 2)), np.zeros((2, 1)))
    with pytest.raises(SpecError, match=r"axon 0 word 0: target=2 outside 0..1"):
        Core(SPEC, XyloParams.make(1), SynapseMemory.from_lists(1, [0], [0], [1], 0, [2]),
             model=XYLO)
    net = xylo_network(np.ones((2, 1)), np.zeros((1, 1)), np.ones((1, 1)))
    with pytest.raises(SpecError, match=r"input raster\[1, 0\]=16 outside 0..15"):
        net.run(np.array([[1, 0], [16, 0]]))


def test_spike_counts_are_recorded_as_counts():
    net = xylo_network(np.full((1, 1), 127), np.zeros((1, 1)), np.zeros((1, 1)),
                       weight_shift_in=7, threshold=100, dash_syn=15, dash_mem=0)
    # isyn1 = 16256 - 1 = 16255 = v: 162 thresholds, capped at 31 spikes
    rec = net.run(np.array([[1]]))
    assert rec.spikes.dtype == np.int64 and rec.spikes.tolist() == [[31, 0]]


def test_golden_negated_decay_wraps_like_int16():
    # isyn1 = 100 - (100 >> 4) = 94. v = -32768, dash_mem = 0: decay = -32768, and
    # -(-32768) held in an int16 is -32768 (xylosim: int16_t dv_mem = -decay(...));
    # dv = sat(-32768 + 94) = -32674; v = sat(-32768 - 32674) = -32768
    p = XyloParams.make(1, dash_mem=0, threshold=100)
    assert step(p, [0], [0], [-32768], ([0], [0], [100]))[2] == [-32768]
    # with dash_mem = 1 nothing wraps: -decay = 16384, dv = 16384 + 94, v = -16290
    p = XyloParams.make(1, dash_mem=1, threshold=100)
    assert step(p, [0], [0], [-32768], ([0], [0], [100]))[2] == [-16290]


@st.composite
def xylo_core_case(draw):
    n = draw(st.integers(1, 8))
    n_axons = draw(st.integers(1, 6))
    words = draw(st.lists(st.tuples(st.integers(0, n_axons - 1), st.integers(0, n - 1),
                                    st.integers(-128, 127), st.integers(0, 1)), max_size=30))
    w_exp = draw(st.lists(st.integers(0, 7), min_size=n_axons, max_size=n_axons))
    routes = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n_axons - 1),
                                     st.integers(1, 3)), max_size=10))
    neuron = st.fixed_dictionaries({
        "dash_syn1": st.integers(0, 15), "dash_syn2": st.integers(0, 15),
        "dash_mem": st.integers(0, 15), "threshold": st.integers(0, 32767),
        "bias": st.integers(-3000, 3000), "max_spikes": st.integers(0, 31)})
    params = draw(st.lists(neuron, min_size=n, max_size=n))
    ticks = draw(st.integers(1, 10))
    inputs = draw(st.lists(st.lists(st.integers(0, 3), min_size=n_axons, max_size=n_axons),
                           min_size=ticks, max_size=ticks))
    return n, n_axons, words, w_exp, routes, params, inputs


@given(xylo_core_case())
@settings(max_examples=80, **SETTINGS)
def test_any_core_matches_an_in_order_loop(case):
    """Arbitrary synapse rows (both targets, any order), routes with delays 1..3 and
    several events per axon: the engine's in-order delivery (ascending axon, an axon's
    events one after the other, a row's words in stored order, each spike of a count
    routed) against a loop that does exactly that, one event at a time."""
    n, n_axons, words, w_exp, routes, params, inputs = case
    syn = SynapseMemory.from_lists(n_axons, [x[0] for x in words], [x[1] for x in words],
                                   [x[2] for x in words], w_exp, [x[3] for x in words])
    rt = RoutingTable.from_lists(n, [r[0] for r in routes], [r[1] for r in routes],
                                 [r[2] for r in routes])
    keys = ("dash_syn1", "dash_syn2", "dash_mem", "threshold", "bias", "max_spikes")
    core = Core(SPEC.replace(max_fanout=16), XyloParams.make(n, **{k: [p[k] for p in params]
                                                                  for k in keys}),
                syn, rt, model=XYLO)
    rec = core.run(len(inputs), np.array(inputs), record=("spikes", "isyn1", "isyn2", "v"))

    rows = {a: [(s, w * 2 ** w_exp[a], t) for a2, s, w, t in words if a2 == a]
            for a in range(n_axons)}
    isyn, v = [[0, 0] for _ in range(n)], [0] * n
    pending: dict[int, list[int]] = {}
    for t, counts in enumerate(inputs):
        events = sorted([a for a in range(n_axons) for _ in range(counts[a])]
                        + pending.pop(t, []))
        adds = [[[], []] for _ in range(n)]
        for a in events:
            for slot, w, target in rows[a]:
                adds[slot][target].append(w)
        spikes = []
        for j, p in enumerate(params):
            isyn[j], v[j], c = sd.xylo_tick(isyn[j], v[j], adds[j],
                                            [p["dash_syn1"], p["dash_syn2"]], p["dash_mem"],
                                            p["threshold"], p["bias"], p["max_spikes"])
            spikes.append(c)
            for slot, axon, delay in routes:
                if slot == j:
                    pending.setdefault(t + delay, []).extend([axon] * c)
        assert rec.spikes[t].tolist() == spikes, t
        assert rec["v"][t].tolist() == v, t
        assert rec["isyn1"][t].tolist() == [x[0] for x in isyn], t
        assert rec["isyn2"][t].tolist() == [x[1] for x in isyn], t
