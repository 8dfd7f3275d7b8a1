"""The integer LIF against its float twin: the provable error bound (docs/error-bounds.md).

The float reference runs with the parameters the registers realise
(``quantise(...).realised``), fed the same synaptic events with the realised weights, so
the only difference is the rounding of the leak shifts (plain shifts ``x - shift(x, k)``
or, with leak mantissas, ``x - shift(x m, k)``). ``ErrorBound`` carries the
interval of ``integer - float`` (LSB) per register and tick (derivation in its module
and in docs/error-bounds.md). Checked on every tick, per neuron, while the spike
decisions have agreed so far:

* ``v``, ``i`` and ``theta`` errors lie inside their intervals (float slack 1e-6 LSB);
* where the decisions differ, the float margin above threshold lies in the undecided
  band; after that the neuron is no longer compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from firmware_models.lif import LifParams, LifState
from firmware_models.lif.error_bound import ErrorBound
from firmware_models.lif.quantiser import quantise, quantise_weights
from firmware_models.lif.reference import LifPhysical, simulate
from neurochip import Core, CoreSpec, SynapseMemory
from neurochip.hardware.fixed import ROUNDING_MODES

FLOAT_SLACK = 1e-6  # LSB: double-precision rounding of the float run, far below 1 LSB
N = 4
AXONS = 3


def run_pair(p: LifPhysical, dt, spec, ticks, weights, inputs, mantissa: bool = False):
    q = quantise(p, dt, spec, n=N, mantissa=mantissa)
    post = np.tile(np.arange(N), AXONS)
    qw = quantise_weights(weights.ravel(), q.scales.i_lsb[post], spec)
    synapses = SynapseMemory.from_lists(AXONS, np.repeat(np.arange(AXONS), N), post, qw.w,
                                        qw.w_exp)
    core = Core(spec, q.params, synapses)
    recording = core.run(ticks, inputs, record=("spikes", "v", "i", "theta", "ref"))
    syn = inputs @ qw.error.realised.reshape(AXONS, N)
    trace = simulate(q.realised, dt, ticks, n=N, syn_input=syn)
    return q, recording, trace


def check_within_bound(q, spec, recording, trace) -> dict:
    """Walk the ticks; assert the bound; return what was observed (for non-vacuity)."""
    s, r = q.scales, q.realised
    params = q.params
    v_th = params.v_th.astype(float)
    a_m = np.exp(-s.dt / r.tau_m)
    a_th = np.exp(-s.dt / r.tau_theta)
    bound = ErrorBound(params, spec.rounding)
    agreed = np.ones(N, dtype=bool)
    ref = np.zeros(N, dtype=np.int64)
    V_prev = np.broadcast_to(r.E_L, (N,)).astype(float)
    Theta_prev = np.zeros(N)
    worst_ratio, spikes_compared = 0.0, 0
    for t in range(recording.spikes.shape[0]):
        refractory = ref > 0
        ref = ref - refractory
        bound.integrate(refractory)
        # float membrane before this tick's reset, from the exact one-tick map
        V_pre = np.where(refractory, V_prev,
                         r.E_L + (V_prev - r.E_L) * a_m
                         + r.R * (1 - a_m) * (trace.I_syn[t] + r.I_bias))
        Theta_pre = Theta_prev * a_th
        margin = (V_pre - r.E_L) / s.v_lsb - v_th - Theta_pre / s.v_lsb
        int_fired, float_fired = recording.spikes[t], trace.spikes[t]
        band_lo, band_hi = bound.decision_band()
        differ = agreed & (int_fired != float_fired)
        inside = (margin >= band_lo - FLOAT_SLACK) & (margin <= band_hi + FLOAT_SLACK)
        assert np.all(inside[differ]), (
            f"tick {t}: decisions differ outside the undecided band: margin "
            f"{margin[differ]}, band [{band_lo[differ]}, {band_hi[differ]}]")
        agreed &= ~differ
        spikes_compared += int(np.count_nonzero(int_fired & agreed))
        bound.reset(int_fired & agreed)
        ref = np.where(int_fired, params.t_ref, ref)

        for name, integer, flt, interval in (
                ("v", recording["v"][t], (trace.V[t] - r.E_L) / s.v_lsb, bound.v),
                ("i", recording["i"][t], trace.I_syn[t] / s.i_lsb, bound.i),
                ("theta", recording["theta"][t], trace.Theta[t] / s.v_lsb, bound.theta)):
            error = integer - flt
            lo, hi = interval
            ok = (error >= lo - FLOAT_SLACK) & (error <= hi + FLOAT_SLACK)
            assert np.all(ok[agreed]), (
                f"tick {t}: {name} error {error[agreed & ~ok]} outside "
                f"[{lo[agreed & ~ok]}, {hi[agreed & ~ok]}] LSB")
            width = np.maximum(np.abs(lo), np.abs(hi))
            if name == "v" and np.any(agreed & (width > 0)):
                worst_ratio = max(worst_ratio, float(np.max(
                    np.abs(error[agreed & (width > 0)]) / width[agreed & (width > 0)])))
        V_prev, Theta_prev = trace.V[t], trace.Theta[t]
    return {"worst_ratio": worst_ratio, "spikes": spikes_compared, "agreed": agreed}


@st.composite
def scenarios(draw):
    rounding = draw(st.sampled_from(ROUNDING_MODES))
    v_bits = draw(st.integers(10, 24))
    spec = CoreSpec(n_slots=N, n_axons=AXONS, v_bits=v_bits, i_bits=v_bits + 2,
                    theta_bits=v_bits, ref_bits=6, rounding=rounding, overflow_check="count")
    dt = draw(st.sampled_from([1e-4, 2e-4, 5e-4, 1e-3]))
    p = LifPhysical(
        C=draw(st.floats(50e-12, 400e-12)), g_L=draw(st.floats(5e-9, 20e-9)),
        E_L=draw(st.floats(-75e-3, -60e-3)), V_th=-50e-3 + draw(st.floats(-5e-3, 5e-3)),
        V_reset=draw(st.floats(-72e-3, -55e-3)), T_ref=draw(st.sampled_from([0, 1e-3, 2e-3])),
        tau_syn=draw(st.floats(1e-3, 10e-3)), tau_theta=draw(st.floats(20e-3, 200e-3)),
        alpha=np.array(draw(st.lists(st.sampled_from([0.0, 1e-3, 3e-3]), min_size=N,
                                     max_size=N))),
        I_bias=np.array(draw(st.lists(st.floats(0, 0.4e-9), min_size=N, max_size=N))),
        reset=draw(st.sampled_from(["value", "subtract"])))
    seed = draw(st.integers(0, 2 ** 31))
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.3e-9, 0.4e-9, size=(AXONS, N))
    ticks = 400

    inputs = (rng.random((ticks, AXONS)) < 60 * dt).astype(np.int64)
    return p, dt, spec, ticks, weights, inputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_integer_lif_stays_within_the_provable_bound_of_the_float_twin(scenario):
    p, dt, spec, ticks, weights, inputs = scenario
    q, recording, trace = run_pair(p, dt, spec, ticks, weights, inputs)
    assume(sum(recording.overflow.values()) == 0)  # the bound assumes no register clipped
    check_within_bound(q, spec, recording, trace)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(4, 16))
def test_the_bound_holds_with_leak_mantissas(scenario, leak_bits):
    """The same check with leaks ``(m, k)`` (``quantise(..., mantissa=True)``: the taus
    drawn are almost never a shift's, so ``m != 1``) and the bound of ``2^k / m``."""
    p, dt, spec, ticks, weights, inputs = scenario
    spec = spec.replace(leak_bits=leak_bits)
    q, recording, trace = run_pair(p, dt, spec, ticks, weights, inputs, mantissa=True)
    assume(sum(recording.overflow.values()) == 0)
    check_within_bound(q, spec, recording, trace)


def test_the_cross_check_is_not_vacuous_with_leak_mantissas():
    spec = CoreSpec(n_slots=N, n_axons=AXONS, v_bits=16, i_bits=18, ref_bits=6,
                    rounding="floor")
    p = LifPhysical(C=200e-12, tau_syn=5e-3, tau_theta=50e-3,
                    alpha=np.array([0, 0, 1e-3, 1e-3]), I_bias=np.full(N, 0.1e-9),
                    reset="value")
    rng = np.random.default_rng(3)
    ticks, dt = 2000, 1e-3
    inputs = (rng.random((ticks, AXONS)) < 100 * dt).astype(np.int64)
    q, recording, trace = run_pair(p, dt, spec, ticks, rng.normal(0.3e-9, 0.2e-9, (AXONS, N)),
                                   inputs, mantissa=True)
    assert np.all(q.params.m_v > 1) and np.all(q.params.m_i > 1)  # tau_m 20 ms, 5 ms
    assert sum(recording.overflow.values()) == 0
    observed = check_within_bound(q, spec, recording, trace)
    assert observed["spikes"] >= 300
    assert observed["worst_ratio"] > 0.3


def test_the_cross_check_is_not_vacuous():
    """A busy deterministic case: many spikes are compared and the error nears its bound."""
    spec = CoreSpec(n_slots=N, n_axons=AXONS, v_bits=16, i_bits=18, ref_bits=6,
                    rounding="nearest")
    p = LifPhysical(C=160e-12, tau_syn=4e-3, tau_theta=64e-3, alpha=np.array([0, 0, 1e-3, 1e-3]),
                    I_bias=np.full(N, 0.1e-9), reset="value")
    rng = np.random.default_rng(2)
    ticks, dt = 2000, 1e-3
    inputs = (rng.random((ticks, AXONS)) < 100 * dt).astype(np.int64)
    q, recording, trace = run_pair(p, dt, spec, ticks, rng.normal(0.3e-9, 0.2e-9, (AXONS, N)),
                                   inputs)
    assert sum(recording.overflow.values()) == 0
    observed = check_within_bound(q, spec, recording, trace)
    assert observed["spikes"] >= 500
    assert observed["worst_ratio"] > 0.5  # the bound is not loose: errors reach half of it


def test_floor_bound_is_reached_by_a_decaying_membrane():
    """Floor rounding stalls a decaying v at b·2^k + 2^k - 1, the float reaches b·2^k.

    With i = 0 and bias b, ``floor(v / 2^k) = b`` for every v in [b·2^k, b·2^k + 2^k - 1]
    so the integer map stops at the top of that range when approached from above; the
    float fixed point is ``b·2^k``: the error tends to 2^k - 1, the stationary bound.
    """
    k, b = 6, 3
    arith_spec = CoreSpec(n_slots=1, n_axons=1)
    params = LifParams.make(1, k_i=1, k_v=k, bias=b, v_th=30000, t_ref=0)
    core = Core(arith_spec, params)
    start = 20000
    core.state = LifState(np.zeros(1, np.int64), np.array([start]), np.zeros(1, np.int64),
                          np.zeros(1, np.int64))
    v = core.run(3000, record=("v",))["v"][:, 0]
    a = 1 - 2.0 ** -k
    t = np.arange(1, 3001)
    u = b * 2 ** k + (start - b * 2 ** k) * a ** t
    error = v - u
    assert v[-1] == b * 2 ** k + 2 ** k - 1
    assert np.all(error >= 0) and np.all(error <= (2 ** k - 1) * (1 - a ** t) + 1e-9)
    assert error[-1] > 2 ** k - 1 - 1e-6


def test_floor_bound_with_a_mantissa_is_reached_by_a_decaying_membrane():
    """With the leak ``(m, k)`` floor rounding stalls a decaying v at the largest v with
    ``floor(v m / 2^k) = b``, i.e. ``ceil((b + 1) 2^k / m) - 1``; the float fixed point
    is ``b 2^k / m``. ``k = 8, m = 5, b = 3``: the stall is 204, the float 153.6: an
    error of 50.4 LSB against the stationary bound ``(2^k - 1) / m = 51``."""
    k, m, b = 8, 5, 3
    params = LifParams.make(1, k_i=1, k_v=k, m_v=m, bias=b, v_th=30000, t_ref=0)
    core = Core(CoreSpec(n_slots=1, n_axons=1), params)
    start = 20000
    core.state = LifState(np.zeros(1, np.int64), np.array([start]), np.zeros(1, np.int64),
                          np.zeros(1, np.int64))
    v = core.run(3000, record=("v",))["v"][:, 0]
    a = 1 - m * 2.0 ** -k
    t = np.arange(1, 3001)
    fixed = b * 2 ** k / m
    error = v - (fixed + (start - fixed) * a ** t)
    assert v[-1] == 204 == -(-(b + 1) * 2 ** k // m) - 1
    bound = (2 ** k - 1) / m
    assert np.all(error >= 0) and np.all(error <= bound * (1 - a ** t) + 1e-9)
    assert error[-1] == pytest.approx(50.4) and bound == 51
    from firmware_models.lif.error_bound import stationary_bound
    assert stationary_bound(params)[1][0] == pytest.approx(
        ((2 ** k - 1) + 2 ** k * (2 ** 1 - 1)) / m)  # with the i error of k_i = 1 added
