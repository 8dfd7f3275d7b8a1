"""Closed-form LIF theory (``firmware_models.lif.analytic``): identities and bounds."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_models.lif import analytic
from firmware_models.lif.reference import LifPhysical, simulate

mV, ms, nA, pF, nS = 1e-3, 1e-3, 1e-9, 1e-12, 1e-9

FAST = settings(deadline=None, max_examples=60)


@st.composite
def neurons(draw):
    """Physically different neurons: C, g_L, E_L, V_th, V_reset, T_ref all drawn."""
    C = draw(st.floats(20 * pF, 1000 * pF))
    g_L = draw(st.floats(1 * nS, 100 * nS))
    E_L = draw(st.floats(-90 * mV, -40 * mV))
    gap = draw(st.floats(2 * mV, 40 * mV))
    below = draw(st.floats(0.5 * mV, 50 * mV))
    T_ref = draw(st.floats(0.0, 5 * ms))
    return LifPhysical(C=C, g_L=g_L, E_L=E_L, V_th=E_L + gap, V_reset=E_L + gap - below,
                       T_ref=T_ref)


# --------------------------------------------------------------------------- f-I curve

def test_isi_rate_rheobase_hand_values():
    """Defaults (R = 100 MOhm, tau_m = 20 ms, 20 mV from rest to threshold, reset 15 mV
    below threshold, T_ref = 2 ms): rheobase 0.2 nA; at 0.4 nA V_inf = -30 mV and
    ISI = 2 + 20 ln(35/20) ms."""
    p = LifPhysical()
    assert analytic.rheobase(p) == pytest.approx(0.2 * nA, rel=1e-14)
    assert analytic.v_inf(p, 0.4 * nA) == pytest.approx(-30 * mV, rel=1e-14)
    T = 2 * ms + 20 * ms * math.log(35 / 20)
    assert analytic.isi(p, 0.4 * nA) == pytest.approx(T, rel=1e-14)
    assert analytic.rate(p, 0.4 * nA) == pytest.approx(1 / T, rel=1e-14)
    assert isinstance(analytic.isi(p, 0.4 * nA), float)
    # arrays: silent at and below rheobase, firing above
    I = np.array([-1, 0, 0.1, 0.2, 0.2000001, 1]) * nA
    isi = analytic.isi(p, I)
    assert isi.shape == (6,) and np.all(np.isinf(isi[:4])) and np.all(np.isfinite(isi[4:]))
    np.testing.assert_array_equal(analytic.rate(p, I)[:4], 0.0)
    # I_bias is part of the total current
    assert analytic.isi(LifPhysical(I_bias=0.3 * nA), 0.1 * nA) == pytest.approx(T, rel=1e-14)


@FAST
@given(p=neurons(), u=st.floats(1e-3, 100.0), v=st.floats(1e-3, 100.0))
def test_f_i_curve_increasing_and_bounded_by_refractoriness(p, u, v):
    """d ISI / d V_inf < 0 (the ratio (V_inf - V_r)/(V_inf - V_th) falls towards 1), so
    rate rises with I and stays below 1/T_ref."""
    I1, I2 = sorted([analytic.rheobase(p) * (1 + u), analytic.rheobase(p) * (1 + v)])
    r1, r2 = analytic.rate(p, I1), analytic.rate(p, I2)
    assert 0 < r1 <= r2
    if p.T_ref > 0:
        assert r2 < 1 / p.T_ref


@FAST
@given(p=neurons(), u=st.floats(1e-3, 100.0))
def test_isi_equals_tau_times_dimensionless_isi(p, u):
    """T_ISI = tau_m T̂(î, v̂_r, t̂_ref): the dimensionless form is the physical one in
    units of tau_m."""
    I = analytic.rheobase(p) * (1 + u)
    i_hat = analytic.to_dimensionless(p, I=I)
    v_r, t_ref = analytic.dimensionless_parameters(p)
    assert i_hat == pytest.approx(1 + u, rel=1e-12)
    T_hat = analytic.isi_dimensionless(i_hat, v_r, t_ref)
    assert analytic.isi(p, I) == pytest.approx(p.tau_m * T_hat, rel=1e-9)


@FAST
@given(a=neurons(), b=neurons(), i_hat=st.floats(1.001, 50.0), v_r=st.floats(-5.0, 0.99),
       t_ref=st.floats(0.0, 0.5))
def test_dimensionless_collapse(a, b, i_hat, v_r, t_ref):
    """Two neurons with different C, g_L, E_L, V_th but the same (î, v̂_r, t̂_ref) fire
    with the same ISI in units of their own tau_m."""
    def realise(p):
        gap = p.V_th - p.E_L
        q = LifPhysical(C=p.C, g_L=p.g_L, E_L=p.E_L, V_th=p.V_th, V_reset=p.E_L + v_r * gap,
                        T_ref=t_ref * p.tau_m)
        return q, i_hat * gap / q.R
    (pa, Ia), (pb, Ib) = realise(a), realise(b)
    Ta, Tb = analytic.isi(pa, Ia) / pa.tau_m, analytic.isi(pb, Ib) / pb.tau_m
    assert Ta == pytest.approx(Tb, rel=1e-9)
    assert Ta == pytest.approx(analytic.isi_dimensionless(i_hat, v_r, t_ref), rel=1e-9)


def test_dimensionless_conversions():
    p = LifPhysical()
    assert analytic.to_dimensionless(p, V=-50 * mV) == pytest.approx(1.0)
    assert analytic.to_dimensionless(p, V=-70 * mV) == 0.0
    assert analytic.to_dimensionless(p, t=40 * ms) == pytest.approx(2.0)
    v, t, i = analytic.to_dimensionless(p, V=-65 * mV, t=10 * ms, I=0.4 * nA)
    assert (v, t, i) == pytest.approx((0.25, 0.5, 2.0))
    np.testing.assert_allclose(analytic.to_dimensionless(p, I=np.array([0.2, 0.6]) * nA), [1, 3])
    assert analytic.isi_dimensionless(1.0, 0.0) == math.inf
    assert analytic.isi_dimensionless(2.0, 0.0) == pytest.approx(math.log(2))
    assert analytic.dimensionless_parameters(LifPhysical(reset="subtract"))[0] == 0.0
    with pytest.raises(ValueError):
        analytic.to_dimensionless(p)
    with pytest.raises(ValueError, match="v_reset_hat"):
        analytic.isi_dimensionless(2.0, 1.0)


def test_isi_refuses_models_without_a_closed_form():
    with pytest.raises(ValueError, match="alpha"):
        analytic.isi(LifPhysical(alpha=1 * mV), 1 * nA)
    with pytest.raises(ValueError, match="none"):
        analytic.rate(LifPhysical(reset="none"), 1 * nA)
    # subtract: the exact crossing leaves V = E_L
    sub = analytic.isi(LifPhysical(reset="subtract"), 0.4 * nA)
    assert sub == pytest.approx(2 * ms + 20 * ms * math.log(40 / 20), rel=1e-14)


# --------------------------------------------------------------------------- impedance

def test_impedance_corner_and_dc():
    """|Z(1/tau_m)| = R/√2 with phase -45°, Z(0) = R, |Z| = abs(Z)."""
    p = LifPhysical()
    corner = 1 / p.tau_m
    assert analytic.impedance_magnitude(p, corner) == pytest.approx(p.R / math.sqrt(2), rel=1e-14)
    assert np.angle(analytic.impedance(p, corner)) == pytest.approx(-math.pi / 4, rel=1e-14)
    assert analytic.impedance(p, 0.0) == pytest.approx(p.R, rel=1e-15)
    omega = np.logspace(-1, 5, 50)
    np.testing.assert_allclose(np.abs(analytic.impedance(p, omega)),
                               analytic.impedance_magnitude(p, omega), rtol=1e-14)
    assert np.all(np.diff(analytic.impedance_magnitude(p, omega)) < 0)   # low-pass


@FAST
@given(a=st.floats(0.0, 0.999), omega_dt=st.floats(0.0, 3.0))
def test_discrete_gain_is_the_exact_response_of_the_recursion(a, omega_dt):
    """Drive ``v' = a v + (1 - a) u`` with ``u_k = e^{iωk dt}`` from ``v = 0``: the error
    against the steady state ``H e^{iωk dt}`` is ``-H a^k`` (it obeys ``e' = a e``), so after
    K ticks ``|v_K e^{-iωK dt}| = |H|`` within ``|H| a^K``. Also checks the closed form
    ``1 / sqrt(1 + 4 a sin^2(ω dt/2)/(1 - a)^2)``."""
    dt = 1e-4
    omega = omega_dt / dt
    K = 3000
    v = 0j
    for k in range(K + 1):
        v = a * v + (1 - a) * cmath.exp(1j * omega * k * dt)
    H = analytic.discrete_gain(omega, dt, a)
    assert abs(v * np.exp(-1j * omega * K * dt)) == pytest.approx(H, rel=a ** K + 1e-9)
    closed = 1 / math.sqrt(1 + 4 * a * math.sin(omega_dt / 2) ** 2 / (1 - a) ** 2)
    assert H == pytest.approx(closed, rel=1e-12)
    assert analytic.discrete_response(0.0, dt, a) == pytest.approx(1.0, rel=1e-15)


def test_per_tick_simulation_has_the_discrete_gain():
    """The exact per-tick map is ``V - E_L -> a_m (V - E_L) + R (1 - a_m) I``: the discrete
    filter with ``u = R I``. A sinusoidal I_ext (constant within each tick) gives, after
    the transient (it decays as ``a_m^k``; fitting ticks 4000..5999 leaves
    ``a_m^4000 = e^{-20}``, 2e-9 relative), a sinusoid of amplitude ``R I0 |H|``, recovered
    exactly by least squares on (cos, sin, 1)."""
    dt, ticks = 0.1 * ms, 6000
    p = LifPhysical(V_th=10.0, V_reset=0.0)
    a_m = math.exp(-dt / p.tau_m)
    I0 = 0.1 * nA
    for omega in (10.0, 1 / p.tau_m, 300.0, 3000.0):
        k = np.arange(ticks)
        trace = simulate(p, dt, ticks, I_ext=(I0 * np.cos(omega * k * dt))[:, None])
        x = trace.V[4000:, 0] - p.E_L
        kk = k[4000:]
        basis = np.stack([np.cos(omega * kk * dt), np.sin(omega * kk * dt), np.ones(kk.size)], 1)
        coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
        amplitude = math.hypot(coef[0], coef[1])
        expected = p.R * I0 * analytic.discrete_gain(omega, dt, a_m)
        assert amplitude == pytest.approx(expected, rel=1e-7)


@FAST
@given(omega_tau=st.floats(0.0, 1e3), h=st.floats(1e-6, 0.5))
def test_discrete_gain_tends_to_impedance(omega_tau, h):
    """With ``a = e^{-dt/tau}``, ``x = ω dt/2``, ``y = dt/(2 tau)`` (so ``ωtau = x/y``):
    ``4a/(1 - a)^2 = 1/sinh^2 y``, hence ``|H|^2 = 1/(1 + q_d)``, ``q_d = sin^2 x/sinh^2 y``,
    while ``|Z|^2/R^2 = 1/(1 + q_c)``, ``q_c = x^2/y^2``. Since ``sin x <= x`` and
    ``sinh y >= y``, ``q_d <= q_c``, and ``(1 + q_c)/(1 + q_d) <= q_c/q_d``, so

        1 <= |H| / (|Z|/R) <= (x / sin x)(sinh y / y)          (0 < x < π)

    and for ``x, y <= 1/2`` the right side is ``<= 1 + (x^2 + y^2)/5`` (series:
    ``x/sin x <= 1 + 0.172 x^2``, ``sinh y/y <= 1 + 0.17 y^2`` there): the discrete gain
    converges to the impedance, with error O(dt^2). Rounding: ``a`` itself is stored to
    within 2^-53, to which ``|H|`` is sensitive as ``1/(1 - a)`` (relative)."""
    tau = 20 * ms
    p = LifPhysical(C=200 * pF, g_L=200 * pF / tau)
    dt = 2 * h * tau
    y = h
    x = omega_tau * y
    if not x <= 0.5:
        x = 0.5                         # keep ω dt / 2 <= 1/2: choose ω from x instead
        omega_tau = x / y
    omega = omega_tau / tau
    a = math.exp(-dt / tau)
    ratio = (analytic.discrete_gain(omega, dt, a) /
             (analytic.impedance_magnitude(p, omega) / p.R))
    bound = (x / math.sin(x) if x > 0 else 1.0) * (math.sinh(y) / y)
    # a is stored to within 2^-53; |H| is sensitive to it relatively as 1/(1 - a)
    slack = 1e-13 + 2.0**-52 / (1 - a)
    assert 1 - slack <= ratio <= bound * (1 + slack)
    assert bound <= 1 + (x * x + y * y) / 5


def test_discrete_gain_error_is_second_order_in_dt():
    """At ω tau = 1, x = y = dt/(2 tau): ``sin x / sinh x = 1 - x^2/3 + O(x^4)``, so
    ``q_d = 1 - 2x^2/3 + O(x^4)`` and ``|H| / (|Z|/R) = sqrt(2/(1 + q_d)) = 1 + x^2/6 + O(x^4)``:
    the gap is quadratic in dt, halving dt divides it by ``4 (1 + O(x^2))`` (x <= 0.025
    here; 3.9..4.1 asserted) and it is x^2/6 to 1 %."""
    tau = 20 * ms
    p = LifPhysical()
    omega = 1 / tau
    gaps = []
    for dt in (1e-3, 5e-4, 2.5e-4, 1.25e-4):
        gain = analytic.discrete_gain(omega, dt, math.exp(-dt / tau))
        gaps.append(gain / (analytic.impedance_magnitude(p, omega) / p.R) - 1)
        x = dt / (2 * tau)
        assert gaps[-1] == pytest.approx(x * x / 6, rel=0.01)
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    assert np.all((3.9 < ratios) & (ratios < 4.1)), ratios


@pytest.mark.parametrize("dt, a", [(0.0, 0.5), (-1e-3, 0.5), (1e-3, 1.0), (1e-3, -0.1)])
def test_discrete_gain_refuses_bad_arguments(dt, a):
    with pytest.raises(ValueError):
        analytic.discrete_gain(1.0, dt, a)


# --------------------------------------------------------------------------- tau_eff

def test_tau_eff_bounds_and_values():
    """x = 2^-k: -ln(1 - x) = Σ x^n/n is strictly between x and Σ x^n = x/(1 - x), so
    (2^k - 1) dt < tau_eff < 2^k dt; k = 0 empties the register in one tick (0)."""
    dt = 1e-3
    k = np.arange(1, 41)
    tau = analytic.tau_eff(k, dt)
    assert np.all(((2.0**k - 1) * dt < tau) & (tau < 2.0**k * dt))
    assert analytic.tau_eff(0, dt) == 0.0
    assert analytic.tau_eff(1, dt) == pytest.approx(dt / math.log(2), rel=1e-15)
    assert isinstance(analytic.tau_eff(4, dt), float)
    # the decay x - x 2^-k per tick is exp(-t / tau_eff) on the grid
    for kk in (1, 3, 8):
        n = np.arange(200)
        np.testing.assert_allclose((1 - 2.0**-kk) ** n,
                                   np.exp(-n * dt / analytic.tau_eff(kk, dt)), rtol=1e-12)


@pytest.mark.parametrize("k, dt", [(-1, 1e-3), (1.5, 1e-3), (3, 0.0)])
def test_tau_eff_refuses_bad_arguments(k, dt):
    with pytest.raises(ValueError):
        analytic.tau_eff(k, dt)
