"""The quantiser's rules (docs/quantisation.md), checked one by one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_models.lif.quantiser import (SHIFT_TOLERANCE, leak_fields, leak_shift,
                                           noise_std_lsb, quantise, quantise_weights,
                                           tau_eff)
from firmware_models.lif.reference import LifPhysical, simulate
from neurochip import Core, CoreSpec


def test_tau_eff_of_a_shift_leak_by_hand():
    # 1 - 2^-1 = 0.5 per tick: tau = -1 / ln 0.5 = 1.4427 ticks
    assert tau_eff(1, 1.0) == pytest.approx(1 / math.log(2), rel=1e-15)
    assert tau_eff(4, 1e-3) == pytest.approx(-1e-3 / math.log(15 / 16), rel=1e-15)
    assert tau_eff(0, 1e-3) == 0.0


@settings(max_examples=200, deadline=None)
@given(tau_ticks=st.floats(1.0, 5000.0), max_shift=st.integers(1, 31))
def test_leak_shift_is_the_nearest_in_ratio(tau_ticks, max_shift):
    k = int(leak_shift(tau_ticks, 1.0, max_shift)[0])
    chosen = abs(math.log(float(tau_eff(k, 1.0)) / tau_ticks))
    for other in range(1, max_shift + 1):
        assert chosen <= abs(math.log(float(tau_eff(other, 1.0)) / tau_ticks)) + 1e-12


# ---------------------------------------------------------------- leak mantissas

def test_tau_eff_of_a_mantissa_leak_by_hand():
    # m = 3, k = 5: 1 - 3/32 per tick, tau = -1 / ln(29/32) = 10.16 ticks
    assert tau_eff(5, 1.0, 3) == pytest.approx(-1 / math.log(29 / 32), rel=1e-15)
    assert tau_eff(4, 1e-3, 1) == tau_eff(4, 1e-3)
    assert tau_eff(4, 1.0, 0) == math.inf          # m = 0: no leak
    assert tau_eff(3, 1.0, 8) == 0.0               # m = 2^k: cleared every tick


@settings(max_examples=500, deadline=None)
@given(tau_ticks=st.floats(2.0, 1e4))
def test_every_tau_from_2_ticks_is_realised_within_1_percent(tau_ticks):
    """The default core (``leak_bits`` 12, shifts 0..31): every tau in [2, 10^4] ticks
    within 1 % -- in fact within 0.1 % (a shift is only kept that close) -- with
    ``m < min(2^k, 2^leak_bits)``."""
    spec = CoreSpec()
    m, k = (int(x[0]) for x in leak_fields(tau_ticks, 1.0, spec.max_shift, spec.leak_bits))
    realised = float(tau_eff(k, 1.0, m))
    assert abs(realised / tau_ticks - 1) <= 0.01
    assert abs(math.log(realised / tau_ticks)) <= SHIFT_TOLERANCE
    assert 1 <= m < min(1 << k, 1 << spec.leak_bits) or m == 1
    assert m % 2 == 1 and 1 <= k <= spec.max_shift
    # the same through quantise (tau_m, tau_syn and tau_theta alike) at dt = 0.1 ms
    dt = 1e-4
    q = quantise(LifPhysical(C=tau_ticks * dt * 10e-9, g_L=10e-9, tau_syn=tau_ticks * dt,
                             tau_theta=tau_ticks * dt, T_ref=0.0), dt, spec, n=1,
                 mantissa=True)
    for e in q.errors[:3]:
        assert e.max_relative <= 0.01, e.name


@settings(max_examples=200, deadline=None)
@given(tau_ticks=st.floats(1.0, 1e6), leak_bits=st.integers(0, 16),
       max_shift=st.integers(1, 31))
def test_leak_fields_are_never_worse_than_the_shift(tau_ticks, leak_bits, max_shift):
    """``(m, k)`` is at least as near as ``leak_shift``'s shift (or within the tolerance
    that keeps ``m = 1``), fits its fields, and is the shift itself without mantissas."""
    m, k = (int(x[0]) for x in leak_fields(tau_ticks, 1.0, max_shift, leak_bits))
    k_shift = int(leak_shift(tau_ticks, 1.0, max_shift)[0])
    shift_error = abs(math.log(float(tau_eff(k_shift, 1.0)) / tau_ticks))
    error = abs(math.log(float(tau_eff(k, 1.0, m)) / tau_ticks))
    assert error <= max(shift_error, SHIFT_TOLERANCE) + 1e-12
    assert 0 <= k <= max_shift and 1 <= m <= max(1, (1 << leak_bits) - 1) and m <= 1 << k
    if leak_bits == 0 or m == 1:
        assert (m, k) == (1, k_shift)


def test_leak_fields_keep_exact_shifts_and_memoryless_states():
    # tau_eff(6) = 63.4987 ticks asked: the shift, m = 1; 0.1 % off still a shift
    m, k = leak_fields([float(tau_eff(6, 1.0)), 1.0009 * float(tau_eff(6, 1.0)), 1e-3, 9.49],
                       1.0, 31, 12)
    assert m.tolist()[:3] == [1, 1, 1] and k.tolist()[:3] == [6, 6, 0]
    assert m[3] > 1 and abs(float(tau_eff(k[3], 1.0, m[3])) / 9.49 - 1) < 1e-3  # beta 0.9
    q = quantise(LifPhysical(tau_syn=1e-6), 1e-3, CoreSpec(), n=1, mantissa=True)
    assert (q.params.k_i[0], q.params.m_i[0]) == (0, 1)


def test_quantise_with_mantissas_realises_the_leak_it_stores():
    """snnTorch's beta = 0.9 (tau 9.49 ticks) and Rockpool's 20 ms at 1 ms: the realised
    tau is ``tau_eff(k, m)``, ``i_lsb`` divides the gain ``R m 2^-k`` out, and a shift
    core (``leak_bits = 0``) or ``mantissa=False`` gives the old shifts."""
    dt = 1e-3
    for tau in (-dt / math.log(0.9), 20e-3):
        p = LifPhysical(C=tau * 10e-9, g_L=10e-9, tau_syn=tau, T_ref=0.0)
        q = quantise(p, dt, CoreSpec(), n=1, mantissa=True)
        m, k = int(q.params.m_v[0]), int(q.params.k_v[0])
        assert m > 1
        tau_m = float(np.asarray(q.realised.tau_m).ravel()[0])
        assert tau_m == pytest.approx(float(tau_eff(k, dt, m)), rel=1e-12)
        assert tau_m == pytest.approx(tau, rel=1e-3)
        np.testing.assert_allclose(q.scales.i_lsb * p.R * m * 2.0 ** -k, q.scales.v_lsb,
                                   rtol=1e-12)
        for old in (quantise(p, dt, CoreSpec(), n=1),
                    quantise(p, dt, CoreSpec(leak_bits=0), n=1, mantissa=True)):
            assert old.params.m_v[0] == 1 == old.params.m_i[0]
            assert old.params.k_v[0] == leak_shift(tau, dt, 31)[0]


physical = st.builds(
    LifPhysical,
    C=st.floats(50e-12, 500e-12), g_L=st.floats(2e-9, 50e-9), E_L=st.floats(-80e-3, -55e-3),
    V_th=st.floats(-54e-3, -40e-3), V_reset=st.floats(-80e-3, -56e-3),
    T_ref=st.floats(0, 10e-3), tau_syn=st.floats(0.5e-3, 20e-3),
    tau_theta=st.floats(10e-3, 500e-3), alpha=st.floats(0, 4e-3),
    I_bias=st.floats(-0.3e-9, 0.3e-9), sigma=st.floats(0, 5e-3))


@settings(max_examples=150, deadline=None)
@given(p=physical, dt=st.sampled_from([1e-4, 5e-4, 1e-3]), v_bits=st.integers(10, 24))
def test_registers_follow_the_rules_and_realised_is_what_they_mean(p, dt, v_bits):
    spec = CoreSpec(v_bits=v_bits, i_bits=v_bits, theta_bits=v_bits, ref_bits=8)
    q = quantise(p, dt, spec, n=3)
    s, r, params = q.scales, q.realised, q.params
    v_max = (1 << (v_bits - 1)) - 1
    assert s.v_lsb == pytest.approx(2 * max(abs(p.V_th - p.E_L), abs(p.V_reset - p.E_L)) / v_max)
    assert np.all(params.v_th <= v_max // 2 + 1)  # headroom 2: threshold at half the range
    np.testing.assert_array_equal(params.v_th, np.rint((p.V_th - p.E_L) / s.v_lsb))
    np.testing.assert_array_equal(params.t_ref, np.rint(p.T_ref / dt))
    np.testing.assert_array_equal(params.k_v, leak_shift(p.tau_m, dt, spec.max_shift)[0])
    # i_lsb: the current whose one-tick exact response is one LSB of v
    a_m = 1 - 2.0 ** -params.k_v
    np.testing.assert_allclose(s.i_lsb * p.R * (1 - a_m), s.v_lsb, rtol=1e-12)
    # realised = register values read back in physical units
    np.testing.assert_allclose(r.V_th, p.E_L + params.v_th * s.v_lsb, rtol=1e-12)
    np.testing.assert_allclose(r.I_bias, params.bias * s.i_lsb, rtol=1e-12, atol=1e-30)
    np.testing.assert_allclose(r.tau_m, tau_eff(params.k_v, dt), rtol=1e-12)
    np.testing.assert_allclose(np.exp(-dt / r.tau_m), a_m, rtol=1e-12)
    # rounding to the nearest register value: realised within half an LSB of asked
    # (plus double rounding of volts near 0.1 V: a few 1e-17 V)
    assert np.all(np.abs(r.V_th - p.V_th) <= s.v_lsb / 2 + 1e-15)
    assert np.all(np.abs(r.I_bias - p.I_bias) <= s.i_lsb / 2 * (1 + 1e-9))
    # the report is exactly |realised - asked| / |asked|
    errors = {e.name: e for e in q.errors}
    expected = abs(float(r.tau_m[0]) - p.tau_m) / p.tau_m
    assert errors["tau_m"].max_relative == pytest.approx(expected, rel=1e-12)
    sigma_lsb = p.sigma * math.sqrt(dt) / s.v_lsb
    realised_std = float(noise_std_lsb(params.noise_bits[0], params.noise_shift[0]))
    if sigma_lsb == 0:
        assert params.noise_bits[0] == 0
    elif 0.5 <= sigma_lsb <= 2.0 ** 20:
        # the (m, e) grid steps by at most a factor 2, so the nearest is within sqrt(2)
        assert abs(math.log(realised_std / sigma_lsb)) <= math.log(2) / 2 + 1e-12


def test_bias_gives_the_float_steady_state_exactly():
    """With i_lsb = v_lsb / (R (1 - a)), the integer fixed point is R I / v_lsb (nearest)."""
    spec = CoreSpec(n_slots=1, n_axons=1)
    p = LifPhysical(C=160e-12, g_L=10e-9, V_th=0.0, I_bias=0.1e-9, T_ref=0.0,
                    reset="value", E_L=-70e-3, V_reset=-70e-3)
    q = quantise(p, 1e-3, spec, n=1)
    core = Core(spec, q.params)
    v = core.run(400, record=("v",))["v"][-1, 0]
    trace = simulate(q.realised, 1e-3, 400, n=1)
    u = (trace.V[-1, 0] - q.scales.E_L) / q.scales.v_lsb
    assert u == pytest.approx(int(q.params.bias[0]) * 2 ** int(q.params.k_v[0]), rel=1e-9)
    assert 0 <= v - u <= 2 ** int(q.params.k_v[0]) - 1  # floor bound of one register


def test_weights_share_the_smallest_fitting_exponent_and_count_losses():
    spec = CoreSpec(w_bits=8, w_exp_bits=2)  # mantissa -128..127, exponent 0..3
    lsb = np.ones(5)
    qw = quantise_weights([10.0, -128.0, 254.0, 0.4, 0.0], lsb, spec)
    assert qw.w_exp == 1  # 254 / 2 = 127 fits; exponent 0 does not
    np.testing.assert_array_equal(qw.w, [5, -64, 127, 0, 0])
    assert qw.zeroed == 1 and qw.clipped == 0
    big = quantise_weights([2000.0, 1.0], np.ones(2), spec)
    assert big.w_exp == 3 and big.clipped == 1 and big.w[0] == 127
    assert big.error.realised[0] == 127 * 8


def test_a_parameter_that_cannot_fit_is_refused_by_name():
    with pytest.raises(ValueError, match=r"neuron 0: T_ref needs t_ref=20, beyond its 4-bit "
                                         r"field \(0\.\.15\)"):
        quantise(LifPhysical(T_ref=2e-3), 1e-4, CoreSpec(), n=1)
    with pytest.raises(ValueError, match="dt must be positive"):
        quantise(LifPhysical(), 0.0, CoreSpec())
