"""The vectorised tick against the scalar oracle (tests/scalar_model.py), bit for bit.

* ``lif_step`` alone: random ``CoreSpec`` widths, rounding and overflow modes, random
  parameters within their field formats, random in-range states, random ``acc`` (also
  far out of range) and LFSR words, several ticks: every register, the fired mask and
  the overflow counts agree every tick; in strict mode the error names the same slot,
  register, value and tick.
* ``Core``: random small networks (synapse rows with exponents, routing entries with
  delays, external events through ``run(inputs=...)`` and ``inject``, noise on some
  slots) against ``ScalarCore`` for 30-60 ticks: identical spikes and registers on every
  tick.
* Golden checks: an event for tick ``t + d`` arrives exactly at ``t + d``; the LFSR
  words equal serial clocking.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalar_model as sm  # noqa: E402

from firmware_models.lif import kernel  # noqa: E402
from firmware_models.lif.kernel import LifParams, LifState, lif_step  # noqa: E402
from neurochip.hardware import lfsr  # noqa: E402
from neurochip.hardware.core import Core  # noqa: E402
from neurochip.hardware.fixed import Arithmetic, RegisterOverflowError  # noqa: E402
from neurochip.hardware.lfsr import CoreLfsr  # noqa: E402
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.spec import CoreSpec  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
PARAM_NAMES = ("k_i", "k_v", "k_theta", "bias", "v_th", "v_reset", "t_ref", "alpha",
               "reset_mode", "noise_bits", "noise_shift", "m_i", "m_v", "m_theta")
MANTISSAS = {"m_i": "k_i", "m_v": "k_v", "m_theta": "k_theta"}


# ----------------------------------------------------------------- strategies

def field_ranges(spec) -> dict[str, tuple[int, int]]:
    """Parameter ranges written from the CoreSpec docstring (not from param_formats)."""
    s = (0, 2 ** spec.shift_bits - 1)
    return {"k_i": s, "k_v": s, "k_theta": s, "noise_shift": s,
            "bias": sm.rng(spec.v_bits, True), "v_reset": sm.rng(spec.v_bits, True),
            "v_th": sm.rng(spec.v_bits - 1, False), "t_ref": sm.rng(spec.ref_bits, False),
            "alpha": sm.rng(spec.theta_bits, False), "reset_mode": (0, 2),
            "noise_bits": (0, spec.noise_bits_max),
            **{m: (0, 2 ** spec.leak_bits - 1) if spec.leak_bits else (1, 1)
               for m in MANTISSAS}}


def edgy(lo, hi):
    """Integers in lo..hi, often at or next to the ends."""
    edges = sorted({lo, hi, min(max(0, lo), hi), min(lo + 1, hi), max(hi - 1, lo)})
    return st.one_of(st.sampled_from(edges), st.integers(lo, hi))


@st.composite
def specs(draw, **fixed):
    values = dict(
        i_bits=draw(st.integers(8, 32)), v_bits=draw(st.integers(8, 32)),
        theta_bits=draw(st.integers(4, 32)), ref_bits=draw(st.integers(1, 8)),
        w_bits=draw(st.integers(2, 16)), w_exp_bits=draw(st.integers(0, 4)),
        delay_bits=draw(st.integers(1, 5)), shift_bits=draw(st.integers(1, 5)),
        noise_bits_max=draw(st.integers(0, 31)), leak_bits=draw(st.integers(0, 16)),
        overflow=draw(st.sampled_from(("saturate", "wrap"))),
        rounding=draw(st.sampled_from(sm.ROUNDINGS)), overflow_check="count")
    values.update(fixed)
    return CoreSpec(**values)


@st.composite
def neurons(draw, spec, n):
    ranges = field_ranges(spec)
    out = []
    for _ in range(n):
        values = {name: draw(edgy(*ranges[name])) for name in PARAM_NAMES}
        for m, k in MANTISSAS.items():  # a decay 1 - m 2^-k in [0, 1]: m <= 2^k
            values[m] = min(values[m], 2 ** values[k])
        out.append(sm.Neuron(**values))
    return out


@st.composite
def regs(draw, spec, n):
    out = []
    for _ in range(n):
        out.append(sm.Regs(i=draw(edgy(*sm.rng(spec.i_bits, True))),
                           v=draw(edgy(*sm.rng(spec.v_bits, True))),
                           theta=draw(edgy(*sm.rng(spec.theta_bits, False))),
                           ref=draw(edgy(*sm.rng(spec.ref_bits, False)))))
    return out


def to_params(ns: list[sm.Neuron]) -> LifParams:
    return LifParams.make(len(ns), **{name: [getattr(x, name) for x in ns]
                                      for name in PARAM_NAMES})


def to_state(rs: list[sm.Regs]) -> LifState:
    return LifState(*(np.array([getattr(r, name) for r in rs], dtype=np.int64)
                      for name in ("i", "v", "theta", "ref")))


def state_lists(s: LifState) -> list[list[int]]:
    return [np.asarray(getattr(s, name)).tolist() for name in ("i", "v", "theta", "ref")]


def regs_lists(rs: list[sm.Regs]) -> list[list[int]]:
    return [[getattr(r, name) for r in rs] for name in ("i", "v", "theta", "ref")]


# ----------------------------------------------------------------- formats

@given(specs())
@settings(max_examples=60, **SETTINGS)
def test_param_formats_match_spec_docstring(spec):
    formats = kernel.param_formats(spec)
    assert set(formats) == set(PARAM_NAMES) - (set() if spec.leak_bits else set(MANTISSAS))
    ours = field_ranges(spec)
    for name, fmt in formats.items():
        lo, hi = fmt.range
        if name == "noise_bits":
            assert lo == 0 and hi >= spec.noise_bits_max  # the core checks noise_bits_max too
        else:
            assert (lo, hi) == ours[name], name


# ----------------------------------------------------------------- lif_step vs oracle

@st.composite
def step_case(draw):
    spec = draw(specs())
    n = draw(st.integers(1, 16))
    ns = draw(neurons(spec, n))
    rs = draw(regs(spec, n))
    ticks = draw(st.integers(1, 6))
    ilo, ihi = sm.rng(spec.i_bits, True)
    acc_value = st.one_of(st.integers(-4 * 2 ** (spec.v_bits - 1), 4 * 2 ** (spec.v_bits - 1)),
                          edgy(ilo - 2, ihi + 2), st.integers(-2 ** 40, 2 ** 40))
    accs = [draw(st.lists(acc_value, min_size=n, max_size=n)) for _ in range(ticks)]
    use_words = draw(st.booleans())
    words = [draw(st.lists(st.integers(0, 2 ** 32 - 1), min_size=n, max_size=n))
             if use_words else None for _ in range(ticks)]
    return spec, ns, rs, accs, words


@given(step_case())
@settings(max_examples=200, **SETTINGS)
def test_lif_step_matches_scalar_model(case):
    spec, ns, rs, accs, words = case
    n = len(ns)
    params, state = to_params(ns), to_state(rs)
    arith = Arithmetic(spec.registers(), spec.overflow, spec.rounding, "count")
    policy = sm.Policy.of(spec)
    counts = {name: 0 for name in ("acc", "i", "v", "theta", "ref")}
    for t, (acc, w) in enumerate(zip(accs, words)):
        arith.tick = t
        state, fired = lif_step(params, state, np.array(acc, dtype=np.int64),
                                None if w is None else np.array(w, dtype=np.int64), arith)
        events: list[sm.OverflowEvent] = []
        new, expected_fired = [], []
        for j in range(n):
            r, f = sm.lif_tick(ns[j], rs[j], acc[j], None if w is None else w[j], policy,
                               events, j)
            new.append(r)
            expected_fired.append(f)
        rs = new
        for e in events:
            counts[e.register] += 1
        assert np.asarray(fired).dtype == bool
        assert np.asarray(fired).tolist() == expected_fired, f"tick {t}"
        assert state_lists(state) == regs_lists(rs), f"tick {t}"
        assert arith.counts == counts, f"tick {t}"


@given(step_case())
@settings(max_examples=150, **SETTINGS)
def test_lif_step_strict_names_first_overflow(case):
    spec, ns, rs, accs, words = case
    n = len(ns)
    params, state = to_params(ns), to_state(rs)
    arith = Arithmetic(spec.registers(), spec.overflow, spec.rounding, "strict",
                       locate=lambda index: (9, int(index)))
    policy = sm.Policy.of(spec)
    for t, (acc, w) in enumerate(zip(accs, words)):
        arith.tick = t
        events: list[sm.OverflowEvent] = []
        new, expected_fired = [], []
        for j in range(n):
            r, f = sm.lif_tick(ns[j], rs[j], acc[j], None if w is None else w[j], policy,
                               events, j)
            new.append(r)
            expected_fired.append(f)
        if events:
            first = min(events, key=lambda e: (e.stage, e.slot))
            bits, signed = policy.fmt(first.register)
            expected = str(sm.ScalarOverflow(9, t, first, bits, signed))
            with pytest.raises(RegisterOverflowError) as info:
                lif_step(params, state, np.array(acc, dtype=np.int64),
                         None if w is None else np.array(w, dtype=np.int64), arith)
            assert str(info.value) == expected
            assert (info.value.slot, info.value.register, info.value.tick,
                    info.value.value) == (first.slot, first.register, t, first.value)
            return
        state, fired = lif_step(params, state, np.array(acc, dtype=np.int64),
                                None if w is None else np.array(w, dtype=np.int64), arith)
        rs = new
        assert np.asarray(fired).tolist() == expected_fired
        assert state_lists(state) == regs_lists(rs)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_lif_step_golden(mode):
    """A hand-computed tick: 8-bit v, floor, k_v = 1, v_th 20, theta 8 decaying by 1/4."""
    spec = CoreSpec(v_bits=8, i_bits=8, theta_bits=8)
    p = LifParams.make(2, k_i=1, k_v=1, k_theta=2, bias=3, v_th=20, v_reset=-5, t_ref=2,
                       alpha=10, reset_mode=mode)
    s = LifState(i=np.array([10, 10]), v=np.array([20, 20]), theta=np.array([8, 8]),
                 ref=np.array([0, 1]))
    arith = Arithmetic(spec.registers(), spec.overflow, spec.rounding, "count")
    new, fired = lif_step(p, s, np.array([7, 7]), None, arith)
    # i = 10 - 5 + 7 = 12; slot 0: v = 20 - 10 + 12 + 3 = 25; theta = 8 - 2 = 6;
    # 25 >= 20 + 6 is false -> no spike. slot 1 refractory: v held at 20, ref -> 0.
    assert new.i.tolist() == [12, 12]
    assert new.v.tolist() == [25, 20]
    assert new.theta.tolist() == [6, 6]
    assert new.ref.tolist() == [0, 0]
    assert fired.tolist() == [False, False]
    new, fired = lif_step(p, new, np.array([30, 0]), None, arith)
    # i = 12 - 6 + 30 = 36 | 6; slot 0: v = 25 - 12 + 36 + 3 = 52; theta 6 - 1 = 5 -> fires
    # slot 1: v = 20 - 10 + 6 + 3 = 19 < 25 -> no spike
    assert fired.tolist() == [True, False]
    assert new.v.tolist() == [[-5, 19], [52 - 25, 19], [52, 19]][mode]
    assert new.ref.tolist() == [2, 0]
    assert new.theta.tolist() == [15, 5]
    assert new.i.tolist() == [36, 6]


# ----------------------------------------------------------------- whole core vs oracle

@st.composite
def network(draw):
    spec = draw(specs(i_bits=draw(st.integers(8, 16)), v_bits=draw(st.integers(8, 16)),
                      theta_bits=draw(st.integers(4, 16)), ref_bits=draw(st.integers(1, 4)),
                      w_bits=draw(st.integers(2, 8)), w_exp_bits=draw(st.integers(0, 3)),
                      delay_bits=draw(st.integers(1, 4)), shift_bits=draw(st.integers(3, 5)),
                      noise_bits_max=draw(st.integers(0, 8))))
    n = draw(st.integers(1, 20))
    n_axons = draw(st.integers(1, 24))
    max_fanout = draw(st.integers(1, 4))
    spec = spec.replace(n_slots=n + draw(st.integers(0, 3)), n_axons=n_axons,
                        max_fanout=max_fanout)
    vhi = 2 ** (spec.v_bits - 1) - 1
    wlo, whi = sm.rng(spec.w_bits, True)
    ns = []
    for _ in range(n):
        scale = 2 ** draw(st.integers(2, spec.v_bits - 1))  # threshold scale, often small
        v_th = draw(st.integers(0, min(vhi, scale)))
        k_i, k_v = draw(st.integers(0, 6)), draw(st.integers(0, 6))
        k_theta = draw(st.integers(0, spec.max_shift))
        mantissa = (lambda k: 1 if not spec.leak_bits else draw(st.one_of(
            st.just(1), st.integers(0, min(2 ** k, 2 ** spec.leak_bits - 1)))))  # often 1
        ns.append(sm.Neuron(
            k_i=k_i, k_v=k_v, k_theta=k_theta,
            m_i=mantissa(k_i), m_v=mantissa(k_v), m_theta=mantissa(k_theta),
            bias=draw(st.integers(-scale // 4, scale // 4)), v_th=v_th,
            v_reset=draw(st.integers(-scale // 2, scale // 2)),
            t_ref=draw(st.integers(0, 2 ** spec.ref_bits - 1)),
            alpha=draw(st.one_of(st.just(0), st.integers(0, 2 ** spec.theta_bits - 1))),
            reset_mode=draw(st.integers(0, 2)),
            noise_bits=draw(st.one_of(st.just(0), st.integers(0, spec.noise_bits_max))),
            noise_shift=draw(st.integers(0, 3))))
    n_words = draw(st.integers(0, 60))
    words = [(draw(st.integers(0, n_axons - 1)), draw(st.integers(0, n - 1)),
              draw(edgy(wlo, whi))) for _ in range(n_words)]
    w_exp = [draw(st.integers(0, spec.max_w_exp)) for _ in range(n_axons)]
    routes = [[(draw(st.integers(0, n_axons - 1)), draw(st.integers(1, spec.max_delay)))
               for _ in range(draw(st.integers(0, max_fanout)))] for _ in range(n)]
    ticks = draw(st.integers(30, 60))
    density = draw(st.sampled_from((0.0, 0.05, 0.2)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    inputs = (rng.random((ticks, n_axons)) < density) * rng.integers(1, 3, (ticks, n_axons))
    seed = draw(st.integers(1, 2 ** 32 - 1))
    chunks = draw(st.lists(st.integers(1, 20), min_size=1, max_size=4))
    injections = draw(st.lists(st.tuples(st.integers(0, n_axons - 1),
                                         st.integers(0, spec.max_delay),
                                         st.integers(1, 3)), max_size=6))
    return spec, ns, words, w_exp, routes, inputs, seed, chunks, injections


def build(spec, ns, words, w_exp, routes, seed, core_id=0):
    syn = SynapseMemory.from_lists(spec.n_axons, [a for a, _, _ in words],
                                   [s for _, s, _ in words], [w for _, _, w in words], w_exp)
    slots = [j for j, entries in enumerate(routes) for _ in entries]
    table = RoutingTable.from_lists(len(ns), slots, [a for e in routes for a, _ in e],
                                    [d for e in routes for _, d in e])
    core = Core(spec, to_params(ns), syn, table, core_id=core_id, lfsr_seed=seed)
    rows = [[] for _ in range(spec.n_axons)]
    for a, s, w in words:  # within a row, order does not matter for the sum
        rows[a].append((s, w))
    oracle = sm.ScalarCore(sm.Policy.of(spec), ns, rows, list(w_exp), routes, lfsr_seed=seed,
                           core_id=core_id, delay_bits=spec.delay_bits)
    return core, oracle


RECORD = ("spikes", "i", "v", "theta", "ref")


@given(network())
@settings(max_examples=60, **SETTINGS)
def test_core_matches_scalar_core(net):
    spec, ns, words, w_exp, routes, inputs, seed, chunks, injections = net
    core, oracle = build(spec, ns, words, w_exp, routes, seed)
    ticks = inputs.shape[0]
    done, spikes = 0, 0
    chunk_iter = iter(chunks * ticks)
    while done < ticks:
        # external events for future ticks, within the buffer horizon
        for axon, ahead, count in injections:
            core.inject([axon], core.t + ahead, count)
            oracle.inject(axon, oracle.t + ahead, count)
        k = min(next(chunk_iter), ticks - done)
        rec = core.run(k, inputs=inputs[done:done + k], record=RECORD)
        expected = oracle.run(k, inputs=inputs[done:done + k].tolist())
        for name in RECORD:
            got = rec[name].tolist()
            for tick in range(k):
                assert got[tick] == expected[name][tick], \
                    f"register {name} differs at tick {done + tick}"
        spikes += int(rec.spikes.sum())
        done += k
    assert core.t == oracle.t == ticks
    assert state_lists(core.state) == regs_lists(oracle.regs)
    assert core.overflow_counts == oracle.counts


def test_core_random_networks_are_active():
    """The random-network strategy is not vacuous: seeded draws spike and overflow."""
    total_spikes = 0
    overflow = 0

    @given(network())
    @settings(max_examples=40, database=None, derandomize=True, **SETTINGS)
    def run(net):
        nonlocal total_spikes, overflow
        spec, ns, words, w_exp, routes, inputs, seed, chunks, injections = net
        core, _ = build(spec, ns, words, w_exp, routes, seed)
        rec = core.run(inputs.shape[0], inputs=inputs)
        total_spikes += int(rec.spikes.sum())
        overflow += sum(core.overflow_counts.values())

    run()
    assert total_spikes > 100
    assert overflow > 0


def test_core_with_noise_matches_scalar_core():
    spec = CoreSpec(n_slots=7, n_axons=4, v_bits=12, noise_bits_max=12, rounding="nearest")
    ns = [sm.Neuron(k_v=2, v_th=60, bias=3, noise_bits=nb, noise_shift=sh, reset_mode=rm)
          for nb, sh, rm in [(0, 0, 0), (1, 0, 1), (4, 1, 2), (8, 0, 0), (12, 2, 1),
                             (3, 3, 0), (0, 5, 0)]]
    routes = [[(j % 4, 1 + j % 3)] for j in range(7)]
    words = [(a, s, 5 * (a + 1) - 3 * s) for a in range(4) for s in range(7)]
    core, oracle = build(spec, ns, words, [1, 0, 2, 3], routes, seed=0xDEADBEEF)
    rec = core.run(50, record=RECORD)
    expected = oracle.run(50)
    for name in RECORD:
        assert rec[name].tolist() == expected[name], name
    assert rec.spikes.sum() > 0


# ----------------------------------------------------------------- golden: delays

@pytest.mark.parametrize("delay_bits", [1, 2, 4])
def test_route_delay_arrives_exactly(delay_bits):
    """Slot 0 fires once at tick t0 (from an injected event); its route (axon 1, delay d)
    reaches slot 1 at exactly t0 + d, seen as the step in slot 1's current."""
    spec = CoreSpec(n_slots=2, n_axons=2, delay_bits=delay_bits)
    for d in range(1, spec.max_delay + 1):
        params = LifParams.make(2, k_i=[0, 31], k_v=[0, 0], v_th=[10, 32767])
        syn = SynapseMemory.from_lists(2, [0, 1], [0, 1], [100, 5])
        routes = RoutingTable.from_lists(2, [0], [1], [d])
        core = Core(spec, params, syn, routes)
        t0 = 3
        core.run(t0)
        core.inject([0], t0)
        rec = core.run(d + 3, record=("spikes", "i"))
        fired0 = np.flatnonzero(rec.spikes[:, 0]) + t0
        assert fired0.tolist() == [t0]
        i1 = rec["i"][:, 1]
        arrival = t0 + int(np.flatnonzero(i1)[0])
        assert arrival == t0 + d
        assert i1.tolist() == [0] * d + [5] * 3


@pytest.mark.parametrize("delay_bits", [1, 3, 4])
def test_inject_arrives_exactly(delay_bits):
    spec = CoreSpec(n_slots=1, n_axons=3, delay_bits=delay_bits)
    params = LifParams.make(1, k_i=31, v_th=32767)
    syn = SynapseMemory.from_lists(3, [2], [0], [7])
    for d in range(spec.max_delay + 1):
        core = Core(spec, params, syn)
        core.run(5)
        core.inject([2, 2], 5 + d)  # two events on the same axon add up
        rec = core.run(d + 2, record=("i",))
        assert rec["i"][:, 0].tolist() == [0] * d + [14, 14]


def test_run_inputs_arrive_at_their_tick():
    spec = CoreSpec(n_slots=1, n_axons=2)
    params = LifParams.make(1, k_i=0, v_th=32767)
    syn = SynapseMemory.from_lists(2, [0, 1], [0, 0], [3, -1], w_exp=[2, 0])
    core = Core(spec, params, syn)
    core.run(4)
    inputs = np.zeros((6, 2), dtype=np.int64)
    inputs[1, 0] = 1
    inputs[3, 0] = 2
    inputs[3, 1] = 5
    inputs[5, 1] = 1
    rec = core.run(6, inputs=inputs, record=("i",))
    assert rec.start_tick == 4
    # k_i = 0: i is exactly this tick's acc = sum count * (w << w_exp)
    assert rec["i"][:, 0].tolist() == [0, 12, 0, 24 - 5, 0, -1]


# ----------------------------------------------------------------- LFSR

def test_lfsr_taps_and_clock():
    assert lfsr.TAPS == sm.LFSR_TAPS == 0x80200003
    rng = np.random.default_rng(1)
    for state in [1, 2, 3, 0x80000000, 0xFFFFFFFF, *rng.integers(1, 2 ** 32, 50).tolist()]:
        expected = state
        for clocks in range(1, 70):
            expected = sm.lfsr_clock(expected)
            assert lfsr.clock(state, clocks) == expected


@given(st.integers(1, 2 ** 32 - 1), st.integers(1, 40), st.integers(1, 12))
@settings(max_examples=50, **SETTINGS)
def test_core_lfsr_words_equal_serial_clocking(seed, n, ticks):
    gen = CoreLfsr(seed, n)
    expected = sm.lfsr_words(seed, n, ticks)
    for t in range(ticks):
        words = gen.next_words()
        assert words.dtype == np.int64
        assert words.tolist() == expected[t], f"tick {t}"


def test_core_lfsr_rejects_zero_seed():
    with pytest.raises(ValueError, match=r"LFSR seed must be in 1\.\.2\*\*32-1"):
        CoreLfsr(0, 4)
    with pytest.raises(ValueError, match="LFSR seed"):
        CoreLfsr(2 ** 32, 4)


def test_core_lfsr_only_on_noisy_cores():
    spec = CoreSpec(n_slots=3, n_axons=1)
    assert Core(spec, LifParams.make(3)).lfsr is None
    noisy = Core(spec, LifParams.make(3, noise_bits=[0, 2, 0]), lfsr_seed=77)
    assert noisy.lfsr is not None
    # the noise of slot 1 at tick t comes from state after 32 * (3t + 2) clocks
    words = sm.lfsr_words(77, 3, 4)
    rec = noisy.run(4, record=("v",))
    v, expected = 0, []
    for t in range(4):
        v = v - (v >> 4) + ((words[t][1] % 4) - 2)
        expected.append(v)
    assert rec["v"][:, 1].tolist() == expected
