"""The QIF firmware model: integer kernel, float twin, quantiser, linearisation.

The kernel is checked against an independent plain-int model of its docstring; the
integer-vs-float distance against the interval derived in ``qif.quantiser``; the float
twin's fixed points, rheobase and linearisation against the algebra of
``qif.reference``.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalar_model as sm

from firmware_models.qif import QIF, QifParams, QifState, qif_step
from firmware_models.qif.quantiser import error_interval, quantise, stationary_error
from firmware_models.qif.reference import QifPhysical, simulate
from neurochip.hardware.core import Core
from neurochip.hardware.fixed import Arithmetic
from neurochip.hardware.spec import CoreSpec, SpecError

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
mV, ms, pA, nS, pF = 1e-3, 1e-3, 1e-12, 1e-9, 1e-12
DT = 0.25 * ms
TOL = 1e-6  # LSB: double-precision slack of the float twin over a few thousand ticks


# ------------------------------------------------------------- the plain-int oracle

def qif_tick(p: dict, r: dict, acc: int, policy: sm.Policy, events: list, slot: int):
    """One tick of ONE slot, from the kernel's docstring, on Python ints."""
    acc = sm.fit(acc, "acc", policy, events, slot)
    i = sm.fit(r["i"] - sm.shift_right(r["i"], p["k_i"], policy.rounding) + acc, "i",
               policy, events, slot)
    if r["ref"] > 0:
        return {"i": i, "v": r["v"], "ref": r["ref"] - 1}, False
    quadratic = sm.shift_right(r["v"] * (r["v"] - p["v_c"]), p["k_q"], policy.rounding)
    v = sm.fit(r["v"] + quadratic + i + p["bias"], "v", policy, events, slot)
    if v >= p["v_peak"]:
        return {"i": i, "v": p["v_reset"], "ref": p["t_ref"]}, True
    return {"i": i, "v": v, "ref": 0}, False


FIELDS = ("k_i", "k_q", "v_c", "bias", "v_peak", "v_reset", "t_ref")


@st.composite
def qif_case(draw):
    spec = CoreSpec(i_bits=draw(st.integers(8, 32)), v_bits=draw(st.integers(8, 31)),
                    ref_bits=draw(st.integers(1, 8)), shift_bits=draw(st.integers(1, 5)),
                    overflow=draw(st.sampled_from(("saturate", "wrap"))),
                    rounding=draw(st.sampled_from(sm.ROUNDINGS)))
    n = draw(st.integers(1, 6))
    shift = (0, spec.max_shift)
    ranges = {"k_i": shift, "k_q": shift, "v_c": sm.rng(spec.v_bits - 1, False),
              "bias": sm.rng(spec.v_bits, True), "v_peak": sm.rng(spec.v_bits - 1, False),
              "v_reset": sm.rng(spec.v_bits, True), "t_ref": sm.rng(spec.ref_bits, False)}
    ps = [{f: draw(st.integers(*ranges[f])) for f in FIELDS} for _ in range(n)]
    rs = [{"i": draw(st.integers(*sm.rng(spec.i_bits, True))),
               "v": draw(st.integers(*sm.rng(spec.v_bits, True))),
               "ref": draw(st.integers(*sm.rng(spec.ref_bits, False)))} for _ in range(n)]
    ilo, ihi = sm.rng(spec.i_bits, True)
    ticks = draw(st.integers(1, 6))
    accs = [draw(st.lists(st.integers(2 * ilo, 2 * ihi), min_size=n, max_size=n))
            for _ in range(ticks)]
    return spec, ps, rs, accs


@given(qif_case())
@settings(max_examples=200, **SETTINGS)
def test_qif_step_matches_the_plain_int_model(case):
    spec, ps, rs, accs = case
    n = len(ps)
    params = QifParams.make(n, **{f: [p[f] for p in ps] for f in FIELDS})
    state = QifState(*(np.array([r[f] for r in rs], dtype=np.int64) for f in ("i", "v", "ref")))
    arith = Arithmetic(spec.registers(), spec.overflow, spec.rounding, "count")
    policy = sm.Policy.of(spec)
    counts = {name: 0 for name in ("acc", "i", "v", "theta", "ref")}
    for t, acc in enumerate(accs):
        arith.tick = t
        state, fired = qif_step(params, state, np.array(acc, dtype=np.int64), None, arith)
        events: list = []
        expected = [qif_tick(ps[j], rs[j], acc[j], policy, events, j) for j in range(n)]
        rs = [r for r, _ in expected]
        for e in events:
            counts[e.register] += 1
        assert fired.tolist() == [f for _, f in expected], f"tick {t}"
        for f in ("i", "v", "ref"):
            assert getattr(state, f).tolist() == [r[f] for r in rs], f"tick {t}, {f}"
        assert arith.counts == counts, f"tick {t}"


def test_a_core_runs_the_qif_and_refuses_fields_beyond_their_widths():
    spec = CoreSpec(n_slots=2, v_bits=12)
    params = QifParams.make(2, k_q=15, v_c=512, v_peak=1024, bias=[0, 40])
    rec = Core(spec, params, model=QIF).run(200, record=("spikes", "v"), backend="numpy")
    assert rec["v"][:, 0].tolist() == [0] * 200       # rest is a fixed point
    assert rec.spikes[:, 1].sum() > 0                  # 40 LSB/tick is far above rheobase
    with pytest.raises(SpecError, match=r"slot 1: parameter v_peak=2048 outside 0..2047"):
        Core(spec, QifParams.make(2, v_peak=[1024, 2048]), model=QIF)
    with pytest.raises(ValueError, match="QifParams.bias must be integers"):
        QifParams.make(1, bias=1.5)


# ------------------------------------------------------------------- float twin

def test_fixed_point_rheobase_and_the_linearisation_algebra():
    p = QifPhysical()
    assert float(p.rheobase) == pytest.approx(10 * nS * 20 * mV / 4)
    I = np.array([-100, -20, 0, 10, 30, 49.9]) * pA
    V = p.fixed_point(I)
    np.testing.assert_allclose(p.leak(V) + I, 0, atol=1e-22)            # F(V*) + I = 0
    assert np.all(V < p.V_m) and np.isnan(p.fixed_point(50.1 * pA))
    lin = p.linearise(-66 * mV)
    h = 1e-6
    slope = (p.leak(lin.V0 + h) - p.leak(lin.V0 - h)) / (2 * h)
    assert lin.g_eff == pytest.approx(-float(slope), rel=1e-9)
    assert float(p.leak(lin.V0)) + lin.I0 == pytest.approx(0, abs=1e-24)
    # the neglected current is exactly c (V - V0)^2
    Vs = np.linspace(-90, -45, 10) * mV
    tangent = -lin.g_eff * (Vs - lin.E_eff)
    np.testing.assert_allclose(p.leak(Vs) - tangent, lin.curvature * (Vs - lin.V0) ** 2,
                               rtol=1e-9, atol=1e-20)
    dI = np.array([-50, -5, 0.1, 5, 11]) * pA
    x = lin.qif_displacement(dI)
    np.testing.assert_allclose(p.fixed_point(lin.I0 + dI) - lin.V0, x, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(x - dI / lin.g_eff, lin.steady_error(x), rtol=1e-9)
    with pytest.raises(ValueError, match="V0=-0.055 V must lie below the midpoint"):
        p.linearise(-55 * mV)


@pytest.mark.parametrize("field, value, message", [
    ("V_c", -75 * mV, "QifPhysical.V_c must be above E_L"),
    ("V_peak", -60 * mV, "QifPhysical.V_peak must be above V_c"),
    ("C", 0.0, "QifPhysical.C must be positive"),
    ("g_L", float("nan"), "QifPhysical.g_L must be finite"),
])
def test_bad_physical_values_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        QifPhysical(**{field: value})


def test_float_twin_fires_with_the_continuous_isi_as_dt_shrinks():
    """Euler's ISI converges to the closed form: the error shrinks with dt (first order)."""
    p = QifPhysical(I_bias=100 * pA)
    theory = float(p.isi(0.0))
    errors = []
    for dt in (0.2 * ms, 0.1 * ms, 0.05 * ms):
        trace = simulate(p, dt, round(3 * theory / dt))
        isi = np.diff(np.flatnonzero(trace.spikes[:, 0]))[-1] * dt
        errors.append(abs(isi - theory))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.01 * theory


# -------------------------------------------------------------------- quantiser

def test_quantiser_chooses_the_voltage_scale_so_the_leak_is_a_shift():
    p = QifPhysical()
    for bits, k_q, v_c in ((12, 15, 512), (16, 19, 8192), (24, 27, 2 ** 21)):
        q = quantise(p, DT, CoreSpec(v_bits=bits))
        assert (int(q.params.k_q[0]), int(q.params.v_c[0])) == (k_q, v_c)
        # dt / (tau D) = 2^-k_q exactly, V_c exact, V_peak inside the register with headroom
        assert DT / (q.realised.tau_m[0] * v_c) == pytest.approx(2.0 ** -k_q, rel=1e-12)
        assert q.realised.V_c[0] == pytest.approx(-50 * mV, abs=1e-15)
        assert 1.25 * q.params.v_peak[0] <= 2 ** (bits - 1) - 1
    with pytest.raises(ValueError, match="no leak shift k_q fits V_peak"):
        quantise(p.replace(V_peak=0.1), DT, CoreSpec(v_bits=4))
    with pytest.raises(ValueError, match=r"I_bias needs bias=.*beyond its 12-bit field"):
        quantise(p.replace(I_bias=1e-6), DT, CoreSpec(v_bits=12))
    assert "I_bias" in quantise(p.replace(I_bias=30 * pA), DT, CoreSpec(v_bits=16)).report()


@pytest.mark.parametrize("bits, rounding", [(12, "floor"), (16, "floor"), (16, "nearest"),
                                            (16, "zero")])
def test_integer_qif_stays_inside_the_derived_error_interval(bits, rounding):
    """``v_int - u`` lies in ``error_interval`` iterated along the float twin of the
    realised parameters, every tick until the first spike, from rest and from V0, for
    currents below and above rheobase."""
    p = QifPhysical(I_bias=np.array([-80, 0, 20, 37.5, 45, 49, 55, 120]) * pA)
    spec = CoreSpec(n_slots=8, v_bits=bits, rounding=rounding, ref_bits=8)
    q = quantise(p, DT, spec)
    ticks = 3000
    for start in (0, int(np.rint(q.scales.lsb(-65 * mV)[0]))):
        v0 = np.full(8, start, dtype=np.int64)
        core = Core(spec, q.params, model=QIF)
        core.state = QifState(np.zeros(8, np.int64), v0, np.zeros(8, np.int64))
        rec = core.run(ticks, record=("spikes", "v"), backend="numpy")
        real = simulate(q.realised, DT, ticks, V0=q.scales.volts(v0))
        u = np.vstack([v0[None].astype(float), q.scales.lsb(real.V)])
        lo, hi = np.zeros(8), np.zeros(8)
        alive = np.ones(8, dtype=bool)
        checked = 0
        for k in range(ticks):
            lo, hi = error_interval(lo, hi, u[k], q.params, rounding)
            alive &= ~real.spikes[k] & ~rec.spikes[k]
            lo, hi = np.where(alive, lo, 0.0), np.where(alive, hi, 0.0)  # done: not checked
            # the interval's own condition of validity (g increasing on it)
            step = np.exp2(-q.params.k_q.astype(float))
            assert np.all(lo[alive] > -(1 + step * (2 * u[k + 1] - q.params.v_c))[alive]
                          / (2 * step[alive]))
            e = rec["v"][k] - u[k + 1]
            assert np.all(e[alive] >= lo[alive] - TOL), (k, e, lo)
            assert np.all(e[alive] <= hi[alive] + TOL), (k, e, hi)
            checked += alive.sum()
        assert checked > 8 * ticks // 2
        if rounding == "floor":   # the integer is never above the float, and the
            # stationary interval at rest is (2^k - 1) / v_c ~ tau/dt LSB
            assert np.all(hi == 0)
            # where the float settles (no spike), the interval is at most the stationary
            # first-order width (2^k - 1) / (v_c - 2 u*)
            settled = ~real.spikes.any(axis=0)
            assert settled.sum() >= 3
            first_order = stationary_error(u[-1], q.params)
            assert np.all(lo[settled] >= first_order[settled] - TOL)
            k = int(q.params.k_q[0])
            assert float(stationary_error(0.0, q.params)[0]) == pytest.approx(
                -(2 ** k - 1) / q.params.v_c[0])
        # the check covered spiking neurons up to their first spike (120 pA: far above
        # rheobase at every width), not only the subthreshold ones
        assert rec.spikes[:, -1].sum() > 1 and real.spikes[:, -1].sum() > 1
