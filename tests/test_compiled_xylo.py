"""The compiled Xylo dialect (``firmware_models/xylo/compiled.py`` and the kernel's
``_deliver_xylo``) against the numpy Xylo engine, bit for bit:

* random ``xylo_network``s (both currents, every decay shift, biases, small and zero
  thresholds, up to 15 input events per channel and tick), run in one piece or two with
  mixed backends: every register (``isyn1``, ``isyn2``, ``v``) and spike count of every
  tick, the overflow counts and the state and axon buffer left behind;
* saturating cases (every weight at ``±127 << 7``: currents at the rails, 31 spikes a
  tick) and multi-spike routing (a count ``c`` sends each entry ``c`` times);
* strict overflow: the same error (core, slot, register, tick, value, message) and the
  same state afterwards, with the first overflow in ``isyn1``, ``isyn2`` and ``v``;
* random chips (several cores, random routing across the mesh, delays 1..3) with timing
  (every ``TickTiming`` field, packets included), with totals, and without timing.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_backends import (MIXES, SETTINGS, assert_same_array, assert_same_snapshot,  # noqa: E402
                           assert_same_timing, snapshot, timing_tables)

from firmware_models.xylo import XYLO, XyloParams, XyloState  # noqa: E402
from neurochip.compiler.dialects import dialect_spec, xylo_network  # noqa: E402
from neurochip.hardware.chip import Chip, ChipSpec, CoreConfig  # noqa: E402
from neurochip.hardware.core import Core  # noqa: E402
from neurochip.hardware.fixed import RegisterOverflowError  # noqa: E402
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.spec import CoreSpec  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402
from neurochip.hardware.timing import TickTotals, TimingTable  # noqa: E402

RECORD = ("spikes", "isyn1", "isyn2", "v")
TOTALS = ("synapse_end", "neuron_end", "route_end", "link_packets", "rows", "synops",
          "active", "idle", "cycles")

pytestmark = pytest.mark.skipif(XYLO.compiled is None, reason="numba is not installed")


# ----------------------------------------------------------------- xylo_network

def network_case(seed: int, saturate: bool = False, check: str = "count") -> dict:
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = (int(rng.integers(1, k)) for k in (6, 12, 4))
    shape = lambda *s: s + ((2,) if rng.random() < 0.8 else ())  # noqa: E731
    if saturate:
        draw = lambda *s: rng.choice([-127, 127], s)  # noqa: E731
        shifts = dict(weight_shift_in=7, weight_shift_rec=7, weight_shift_out=7)
    else:
        draw = lambda *s: rng.integers(-128, 128, s) * (rng.random(s) < 0.7)  # noqa: E731
        shifts = {f"weight_shift_{k}": int(rng.integers(0, 8)) for k in ("in", "rec", "out")}
    w_in, w_rec, w_out = draw(*shape(n_in, n_hid)), draw(*shape(n_hid, n_hid)), \
        draw(n_hid, n_out)
    per = lambda lo, hi: rng.integers(lo, hi, n_hid) if rng.random() < 0.5 \
        else int(rng.integers(lo, hi))  # noqa: E731
    threshold_hi = 32768 if rng.random() < 0.3 else 3000
    kw = dict(dash_mem=per(0, 16), dash_syn=per(0, 16), dash_syn2=per(0, 16),
              threshold=per(0, threshold_hi), bias=per(-2000, 2000),
              dash_mem_out=int(rng.integers(0, 16)), dash_syn_out=int(rng.integers(0, 16)),
              threshold_out=int(rng.integers(0, threshold_hi)),
              bias_out=int(rng.integers(-2000, 2000)), **shifts)
    ticks = int(rng.integers(5, 50))
    raster = rng.integers(0, 16, (ticks, n_in)) * (rng.random((ticks, n_in)) < 0.6)
    spec = dialect_spec("xylo", CoreSpec(n_slots=n_hid + n_out, n_axons=n_in + 2 * n_hid,
                                         synapse_words=4096, routing_entries=512,
                                         overflow_check=check))
    start = [rng.integers(-32768, 32768, n_hid + n_out) * (rng.random(n_hid + n_out) < 0.5)
             for _ in range(3)]
    return dict(weights=(w_in, w_rec, w_out), kw=kw, spec=spec, raster=raster,
                state=XyloState(*start), split=int(rng.integers(0, ticks + 1)))


def run_network(case: dict, backends: tuple[str, ...]):
    """Run in one piece or two (``split``); each piece's result or its strict error."""
    net = xylo_network(*case["weights"], spec=case["spec"], **case["kw"])
    net.core.state = case["state"]
    inputs = net.inputs(case["raster"])
    bounds = [0, inputs.shape[0]] if len(backends) == 1 else \
        [0, case["split"], inputs.shape[0]]
    results = []
    for a, b, backend in zip(bounds, bounds[1:], backends):
        try:
            rec = net.core.run(b - a, inputs[a:b], RECORD, backend=backend)
            results.append(("ok", {k: rec[k] for k in RECORD}, rec.overflow))
        except RegisterOverflowError as error:
            results.append(("error", (str(error), error.core, error.slot, error.register,
                                      error.tick, error.value), None))
        results.append(snapshot(net.core.engine))
    return results


def assert_same_results(got: list, want: list, what: str) -> None:
    assert len(got) == len(want), what
    for k, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, dict) and "state" in w:
            assert_same_snapshot(g, w, f"{what} piece {k // 2}")
            continue
        assert g[0] == w[0], f"{what}: {g[0]} {g[1]} != {w[0]} {w[1]}"
        if w[0] == "error":
            assert g[1] == w[1], f"{what}: {g[1]} != {w[1]}"
        else:
            for name in RECORD:
                assert_same_array(g[1][name], w[1][name], f"{what} piece {k // 2} {name}")
            assert g[2] == w[2], f"{what}: overflow {g[2]} != {w[2]}"


def check_network(case: dict) -> list:
    want = run_network(case, ("numpy",))
    assert_same_results(run_network(case, ("compiled",)), want, "compiled")
    split_want = run_network(case, ("numpy", "numpy"))
    for mix in MIXES:
        assert_same_results(run_network(case, mix), split_want, "/".join(mix))
    return want


@settings(max_examples=40, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), saturate=st.booleans(),
       check=st.sampled_from(["off", "count", "strict"]))
def test_network_backends_bit_identical(seed, saturate, check):
    check_network(network_case(seed, saturate, check))


def test_fixed_seeds_saturate_and_fire_many_spikes():
    """The comparison is not vacuous: currents clip, counts reach 31 and multi-spike
    routing (a count c sends each entry c times) feeds the recurrent and output rows."""
    clipped = most = 0
    for seed in range(12):
        kind, traces, overflow = check_network(network_case(seed, saturate=True))[0]
        clipped += overflow["isyn1"] + overflow["isyn2"]
        most = max(most, int(traces["spikes"].max()))
        assert traces["spikes"].dtype == np.int64
    assert clipped > 1000 and most == 31


def test_strict_errors_in_each_register():
    """The first overflow of a tick in ``isyn1``, ``isyn2`` and each ``v`` write: the
    same error and the state of the tick before it, on both backends."""
    seen = set()
    for seed in range(60):
        case = network_case(seed, saturate=seed % 2 == 0, check="strict")
        result = check_network(case)[0]
        if result[0] == "error":
            seen.add(result[1][3])
    assert seen == {"isyn1", "isyn2", "v"}, seen


def test_strict_error_is_the_lowest_round_then_slot():
    """Two slots overflow in one tick: slot 0 first in event order but on its 3rd event
    (axon 0: three words onto it), slot 1 later but on its 1st (axon 1, from 20000). The
    numpy rounds report slot 1 (round 0 before round 2); the compiled delivery too."""
    syn = SynapseMemory.from_lists(2, [0, 0, 0, 1], [0, 0, 0, 1], [100, 100, 100, 120],
                                   7, 0)
    spec = dialect_spec("xylo", CoreSpec(n_slots=2, n_axons=2, synapse_words=8,
                                         routing_entries=1, overflow_check="strict"))
    errors = []
    for backend in ("numpy", "compiled"):
        core = Core(spec, XyloParams.make(2, threshold=30000), syn,
                    RoutingTable.from_lists(2, [], [], 1), model=XYLO)
        start = XyloState(np.array([0, 20000]), np.zeros(2, np.int64), np.zeros(2, np.int64))
        core.state = start
        with pytest.raises(RegisterOverflowError) as info:
            core.run(1, np.array([[1, 1]]), RECORD, backend=backend)
        errors.append((str(info.value), info.value.slot, info.value.value))
        assert core.engine.t == 0 and list(core.state.isyn1) == [0, 20000]
    assert errors[0] == errors[1] and errors[0][1:] == (1, 35360), errors


# ----------------------------------------------------------------- chips

def chip_case(seed: int, table: TimingTable, check: str = "count") -> dict:
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    n_cores = width * height
    core = dialect_spec("xylo", CoreSpec(n_slots=32, n_axons=32, synapse_words=512,
                                         routing_entries=128, max_fanout=16,
                                         overflow_check=check))
    configs = []
    for c in range(n_cores):
        n, n_axons = int(rng.integers(1, 12)), int(rng.integers(1, 10))
        m = int(rng.integers(0, 40))
        shift = int(rng.integers(0, 8))
        synapses = SynapseMemory.from_lists(
            n_axons, rng.integers(0, n_axons, m), rng.integers(0, n, m),
            rng.integers(-128, 128, m), rng.integers(shift, 8, n_axons),
            rng.integers(0, 2, m))
        k = int(rng.integers(0, 3 * n))
        routes = RoutingTable.from_lists(n, np.sort(rng.integers(0, n, k)),
                                         rng.integers(0, 1, k), rng.integers(1, 4, k),
                                         core=rng.integers(0, n_cores, k))
        params = XyloParams.make(
            n, dash_syn1=rng.integers(0, 16, n), dash_syn2=rng.integers(0, 16, n),
            dash_mem=rng.integers(0, 16, n), threshold=rng.integers(0, 4000, n),
            bias=rng.integers(-500, 500, n) * (rng.random(n) < 0.5),
            max_spikes=rng.choice([0, 1, 5, 31], n))
        configs.append(CoreConfig(params, synapses, routes))
    return dict(spec=ChipSpec(width, height, core=core, timing=table), configs=configs,
                ticks=int(rng.integers(10, 40)), input_seed=int(rng.integers(0, 1 << 32)))


def run_chip(case: dict, backend: str, timing):
    chip = Chip(case["spec"], case["configs"])
    rng = np.random.default_rng(case["input_seed"])
    n_axons = chip.layout.n_axons
    inputs = rng.integers(0, 4, (case["ticks"], n_axons)) * (
        rng.random((case["ticks"], n_axons)) < 0.3)
    try:
        rec = chip.run(case["ticks"], inputs, RECORD, timing=timing, backend=backend)
    except RegisterOverflowError as error:
        return ("error", str(error), error.value), snapshot(chip.engine)
    return ("ok", {k: rec[k] for k in RECORD}, rec.overflow, rec.timing), \
        snapshot(chip.engine)


def assert_same_chip(got, want, what: str, timing) -> None:
    (g, g_snap), (w, w_snap) = got, want
    assert g[0] == w[0], f"{what}: {g[0]} != {w[0]}"
    assert_same_snapshot(g_snap, w_snap, what)
    if w[0] == "error":
        assert g[1:] == w[1:], what
        return
    for name in RECORD:
        assert_same_array(g[1][name], w[1][name], f"{what} {name}")
    assert g[2] == w[2], what
    if timing == "totals":
        for k, (a, b) in enumerate(zip(g[3], w[3])):
            assert isinstance(a, TickTotals) and isinstance(b, TickTotals)
            for name in TOTALS:
                assert_same_array(getattr(a, name), getattr(b, name), f"{what} {k} {name}")
            assert_same_array(a.fired, b.fired, f"{what} {k} fired", any_int=True)
    elif timing:
        assert_same_timing(g[3], w[3], what)
    else:
        assert g[3] == w[3] == []


@settings(max_examples=40, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), table=timing_tables,
       timing=st.sampled_from([True, "totals", False]),
       check=st.sampled_from(["count", "strict", "off"]))
def test_chip_backends_bit_identical(seed, table, timing, check):
    case = chip_case(seed, table, check)
    assert_same_chip(run_chip(case, "compiled", timing), run_chip(case, "numpy", timing),
                     f"timing={timing}", timing)


def test_chip_fixed_seeds_send_multi_spike_packets():
    """Packets cross the mesh, several per entry and tick (spike counts above 1)."""
    packets = multi = 0
    for seed in range(10):
        case = chip_case(seed, TimingTable(hop_x=2, hop_y=3))
        want = run_chip(case, "numpy", True)
        assert_same_chip(run_chip(case, "compiled", True), want, f"seed {seed}", True)
        if want[0][0] == "ok":
            packets += sum(t.packet_src.size for t in want[0][3])
            multi += int((want[0][1]["spikes"] > 1).sum())
    assert packets > 500 and multi > 50, (packets, multi)


def test_state_type_fields_are_the_packed_rows():
    """The compiled twin packs the records in their field order (what the kernel's
    row indices assume)."""
    from firmware_models.xylo import compiled

    assert [f.name for f in fields(XyloState)] == ["isyn1", "isyn2", "v"]
    assert [f.name for f in fields(XyloParams)][:6] == [
        "dash_syn1", "dash_syn2", "dash_mem", "threshold", "bias", "max_spikes"]
    assert compiled.PHASE_REGISTER == (0, 1, 2, 2, 2)
