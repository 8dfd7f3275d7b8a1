"""The seed text's experiments (``neurochip.lab.experiments``): emulated vs analytic.

Each experiment runs once at its default size (module-scoped fixtures, a few seconds in
all); every test states the claim it checks and where its bound comes from. The
derivations are in the docstrings of ``neurochip.lab.experiments`` and in
docs/experiments.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from firmware_models.lif import LifParams, analytic
from firmware_models.lif.reference import LifPhysical
from neurochip import Core, CoreSpec
from neurochip.lab import experiments as ex

TOL = 1e-6  # ticks: double-precision slack for a crossing that falls on a grid point


@pytest.fixture(scope="module")
def fi():
    return ex.fi_curve()


@pytest.fixture(scope="module")
def dim():
    return ex.dimensionless()


@pytest.fixture(scope="module")
def imp():
    return ex.impedance()


@pytest.fixture(scope="module")
def adapt():
    return ex.adaptation()


@pytest.fixture(scope="module")
def jit():
    return ex.jitter()


@pytest.fixture(scope="module")
def nl():
    return ex.nonlinear_leak()


# ================================================================================ helpers

def test_first_passage_ticks_matches_the_recursion():
    """``first_passage_ticks`` is the first ``j >= 1`` of ``u' = a u + (1 - a) u_inf`` at
    or above the level (brute force over the recursion), ``inf`` when ``u_inf`` is at or
    below the level, and 1 when the start is already there."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.integers(1, 8))
        a = 1 - 2.0 ** -k
        u0 = float(rng.uniform(-50, 50))
        level = float(rng.uniform(u0, 400))
        u_inf = float(rng.uniform(level - 20, 1000))
        j = ex.first_passage_ticks(u0, u_inf, a, level)[()]
        u, brute = u0, math.inf
        for step in range(1, 20000):
            u = a * u + (1 - a) * u_inf
            if u >= level:
                brute = step
                break
        if not (u_inf > level):
            assert j == math.inf
        elif abs(u - level) > 1e-9:  # not a tie decided by rounding
            assert j == brute
    assert ex.first_passage_ticks(5.0, 100.0, 0.5, 3.0)[()] == 1


def test_integer_isi_bracket_contains_a_scalar_integer_neuron():
    """The bracket of ``integer_isi_bracket`` holds for hand-built registers run on a core
    (floor rounding, reset to value), including a bias that puts ``u_inf`` exactly on the
    threshold (the float never fires: ``hi = inf``; the integer may)."""
    k_v = np.array([3, 4, 5, 6, 6, 4])
    bias = np.array([40, 20, 12, 5, 4, 64])
    params = LifParams.make(6, k_v=k_v, bias=bias, v_th=256,
                            v_reset=np.array([0, 10, 20, 0, 0, 30]),
                            t_ref=np.array([0, 2, 5, 0, 1, 3]))
    lo, hi = ex.integer_isi_bracket(params)
    assert hi[4] == math.inf  # u_inf = 4 * 64 = 256 = v_th
    rec = Core(CoreSpec(n_slots=6, n_axons=1), params).run(4000)
    for j, isi in enumerate(ex._intervals(rec.spikes)):
        assert isi.size >= 2 or hi[j] == math.inf
        if isi.size:
            assert lo[j] <= isi.min() and isi.max() <= hi[j]


def test_adaptation_steady_isi_without_alpha_is_the_f_i_formula():
    p = LifPhysical(C=160e-12, g_L=10e-9, T_ref=2e-3,
                    I_bias=np.array([0.1, 0.3, 0.6, 1.0]) * 1e-9)
    np.testing.assert_allclose(ex.adaptation_steady_isi(p), analytic.isi(p, 0.0), rtol=1e-9)


def test_current_events_put_the_counts_into_the_current_register():
    """With ``k_i = 0`` the current register is each tick's summed events: the binary
    event coding of ``current_events`` reproduces any integer current up to 255."""
    rng = np.random.default_rng(0)
    counts = rng.integers(-255, 256, size=(50, 3))
    events, synapses = ex.current_events(counts)
    spec = CoreSpec(n_slots=3, n_axons=events.shape[1])
    params = LifParams.make(3, k_i=0, k_v=4, v_th=30000)
    rec = Core(spec, params, synapses).run(50, events, record=("i",))
    np.testing.assert_array_equal(rec["i"], counts)
    with pytest.raises(ValueError, match="exceeds"):
        ex.current_events(np.array([[256]]))


# ============================================================================== fi-curve

def test_fi_float_reference_within_one_tick_of_analytic(fi):
    """DC input, exact per-tick map: ``V`` on the grid is the exact solution, so after a
    spike (held ``T_ref = m dt`` exactly) the crossing at ``T_ISI`` (analytic) is seen at
    the first grid point at or after it: every ISI after the first is the same and lies
    in ``[T_ISI, T_ISI + dt)``, so ``1/(T_ISI + dt) < rate_float <= 1/T_ISI``. Below
    rheobase both are silent."""
    fire = np.isfinite(fi.isi_analytic)
    ideal = fi.isi_analytic / fi.dt
    assert np.all(fi.isi_float_lo[fire] == fi.isi_float_hi[fire])  # periodic
    assert np.all(fi.isi_float_lo[fire] >= ideal[fire] - TOL)
    assert np.all(fi.isi_float_hi[fire] < ideal[fire] + 1 + TOL)
    rate = fi.rate_float[fire]
    assert np.all(rate <= fi.rate_analytic[fire] * (1 + 1e-9))
    assert np.all(rate > 1 / (fi.isi_analytic[fire] + fi.dt))
    assert np.all(fi.rate_float[~fire] == 0) and np.all(fi.rate_analytic[~fire] == 0)
    assert fire.sum() == 3 * 13  # 13 of the 16 currents are above rheobase


def test_fi_core_inside_the_error_bound_bracket_at_every_width(fi):
    """Floor rounding, no synaptic current: after a reset both the core and the float
    twin of its realised parameters hold ``v_reset`` exactly, and then
    ``0 <= v_core - u_float < 2^k_v - 1`` (docs/error-bounds.md). So the core fires no
    later than the float twin and not before the float twin would reach
    ``v_th - (2^k_v - 1)``: ``t_ref + J(v_th - E) <= ISI_core <= t_ref + J(v_th)``
    (``integer_isi_bracket``). A DC-driven core is periodic after its first spike, so
    every interval equals the first. The float twin's ISI *is* the upper end."""
    for b, bits in enumerate(fi.v_bits):
        fires = np.isfinite(fi.isi_core_hi[b])
        assert np.array_equal(fi.isi_core_lo[b][fires], fi.isi_core_hi[b][fires])
        assert np.all(fi.bracket_lo[b][fires] <= fi.isi_core_lo[b][fires]), bits
        assert np.all(fi.isi_core_hi[b][fires] <= fi.bracket_hi[b][fires]), bits
        must_fire = fi.bracket_hi[b] * fi.dt < fi.duration / 3
        assert np.all(fires[must_fire]), bits
        assert not np.any(fires[np.isinf(fi.bracket_lo[b])]), bits
        real = np.isfinite(fi.isi_realised_hi[b])
        np.testing.assert_array_equal(fi.isi_realised_hi[b][real], fi.bracket_hi[b][real])
        assert fi.overflows[b] == 0


def test_fi_16_bit_core_within_one_tick_of_its_float_twin_where_theory_says(fi):
    """Where the bracket is at most one tick wide, the core's ISI is within one tick of
    the realised float's. At 16 bits (``k_v = 6``: ``E = 63`` LSB against
    ``v_th = 16384``) that is every current from 1.35× rheobase up: the threshold
    error ``E`` is crossed in under a tick once the slope ``(u_inf - v_th) / 2^k_v``
    exceeds about ``E`` LSB per tick."""
    b = fi.v_bits.index(16)
    with np.errstate(invalid="ignore"):
        width = fi.bracket_hi[b] - fi.bracket_lo[b]
    narrow = np.isfinite(width) & (width <= 1)
    assert np.array_equal(narrow.any(axis=0), fi.ratios >= 1.35)
    diff = fi.core_vs_realised_ticks(b)
    assert np.all(np.abs(diff[narrow]) <= 1)
    assert np.nanmax(np.abs(diff)) <= 3  # and within 3 ticks everywhere it fires


def test_fi_narrow_membranes_show_the_floor_stall(fi):
    """At 8 bits the floor leak ``v >> 6`` is 0 below 64 LSB = ``v_th``: the membrane is a
    perfect integrator up to threshold, so 0.9× rheobase (bias 1 LSB) fires on the core
    and never on the float reference."""
    b = fi.v_bits.index(8)
    c = list(fi.ratios).index(0.9)
    assert fi.v_th_register[b] == 64 and fi.bias_register[b][c] == 1
    assert np.all(fi.rate_core[b, :, c] > 0) and np.all(fi.rate_float[:, c] == 0)


# ========================================================================= dimensionless

def test_dimensionless_registers_are_the_dimensionless_form(dim):
    """Per-neuron voltage scales make ``v_th`` and ``v_reset`` the same register for every
    type (``v̂ = v / v_th``), and the bias register ``î v_th 2^-k_v`` rounded: the
    registers' ``î`` is the asked one within half an LSB of bias."""
    assert len(set(dim.v_th.tolist())) == 1 and len(set(dim.v_reset.tolist())) == 1
    assert dim.v_reset[0] / dim.v_th[0] == pytest.approx(dim.v_reset_hat, abs=1e-3)
    half_lsb = 0.5 * np.exp2(dim.k_v)[:, None] / dim.v_th[:, None]
    assert np.all(np.abs(dim.i_hat_register - dim.i_hat[None, :]) <= half_lsb + 1e-12)
    np.testing.assert_array_equal(dim.t_ref, np.rint(dim.t_ref_hat * dim.tau_m / dim.dt))


def test_dimensionless_types_with_one_k_v_have_identical_registers_and_rasters(dim):
    """Three physically different neurons with ``tau_m = 16 ms`` quantise to the same
    registers, so the core runs them bit for bit the same."""
    groups = {g: same for g, same in dim.identical_rasters}
    assert groups[(0, 1, 2)] is True
    assert all(groups.values())


def test_dimensionless_float_collapse_within_one_tick(dim):
    """The float reference's ISI over ``tau_m`` is ``T̂(î, v̂_r, t̂_ref)`` within one
    tick: ``ISI in [tau_m T̂, tau_m T̂ + dt)`` (the one-tick bound of the f-I test,
    every ``T_ref`` a whole number of ticks), so all types lie within ``dt / tau_m`` of
    one curve and of each other."""
    lo, hi = dim.float_excess_ticks
    fires = np.isfinite(dim.T_hat)
    assert np.all(lo[:, fires] >= -TOL) and np.all(hi[:, fires] < 1 + TOL)
    assert np.all(np.isinf(dim.T_hat_float[:, ~fires]))
    step = dim.dt / dim.tau_m
    dev = dim.T_hat_float[:, fires] - dim.T_hat[fires]
    assert np.all((dev >= -1e-9) & (dev < step[:, None] + 1e-9))
    assert np.nanmax(dim.collapse_spread) < step.max()


def test_dimensionless_core_inside_the_error_bound_bracket(dim):
    fires = np.isfinite(dim.isi_core)
    assert np.all(dim.bracket_lo[fires] <= dim.isi_core_lo[fires])
    assert np.all(dim.isi_core[fires] <= dim.bracket_hi[fires])
    assert np.array_equal(fires, np.isfinite(dim.T_hat_core))


# ============================================================================= impedance

def test_impedance_float_reference_is_the_discrete_filter(imp):
    """The exact per-tick map is the filter ``v' = a v + (1 - a) R I``: its steady gain
    is ``discrete_gain(ω, dt, e^{-dt/tau_m})`` (least squares over whole periods,
    transient ``e^{-20}``)."""
    np.testing.assert_allclose(imp.gain_float, imp.gain_discrete_asked, rtol=1e-6)
    # a low-pass filter: falling gain, 1/sqrt(2) at the corner of |Z|
    assert np.all(np.diff(imp.gain_float) < 0)
    assert float(analytic.impedance_magnitude(ex.BASE, 1 / imp.tau_m)) == pytest.approx(
        imp.R / math.sqrt(2))


def test_impedance_core_matches_discrete_gain_within_the_quantisation_bound(imp):
    """``|gain_core - discrete_gain(ω, dt, 1 - 2^-k_v)| <= (2^(k_v+1) - 1)/(2^k_v A_1) +
    a^W`` (``impedance`` docstring: floor error and filtered input rounding span less
    than ``2^(k_v+1) - 1`` LSB; over whole periods a sequence confined to an interval of
    width ``w`` has a fitted amplitude of at most ``w``), for a membrane that stays below
    threshold. At 8 bits the drive rounds to ±1 LSB and the floor leak (0 below 64 LSB)
    lets slow drives integrate up to threshold: those neurons fire and are left out. At
    16 bits (``A_1 = 205`` LSB per tick) the bound is below 0.01 and the measured error
    more than ten times smaller."""
    assert np.all(imp.overflows == 0)
    for b, bits in enumerate(imp.v_bits):
        quiet = imp.spikes[b] == 0  # the bound is for a membrane that stays subthreshold
        assert quiet.all() or bits == 8
        err = np.abs(imp.gain_core[b] - imp.gain_discrete_core[b])[quiet]
        assert np.all(err <= imp.bound[b]), bits
    b16 = imp.v_bits.index(16)
    assert imp.bound[b16] < 0.01
    assert imp.core_error[b16] < imp.bound[b16] / 10


# ============================================================================ adaptation

def test_adaptation_alpha_zero_is_periodic_on_the_core(adapt):
    """DC drive, no adaptation: the registers after every reset are the same, so every
    interval after the first is the same (exactly), whatever ``tau_theta``."""
    n_t = len(adapt.tau_thetas)
    for b in range(len(adapt.v_bits)):
        values = {tuple(np.unique(adapt.isi_core[b][j])) for j in range(n_t)}
        assert len(values) == 1 and len(next(iter(values))) == 1


def test_adaptation_isis_lengthen_when_alpha_is_positive(adapt):
    """Each spike raises the threshold by alpha, which has not fully decayed by the next
    spike: ISIs lengthen from onset towards the steady state (up to one tick of grid
    wobble), on the float reference and on both cores."""
    n_t = len(adapt.tau_thetas)
    for j in range(n_t, len(adapt.alphas) * n_t):
        for isi in (adapt.isi_float[j], *(core[j] for core in adapt.isi_core)):
            assert isi.size >= 2
            assert isi[-1] > isi[0]
            assert np.all(np.diff(isi) >= -1)


def test_adaptation_goes_from_tonic_to_phasic(adapt):
    """The adaptation index grows with alpha (at each tau_theta) and with tau_theta (at
    each alpha > 0), on both cores."""
    for b in range(len(adapt.v_bits)):
        index = adapt.adaptation_index(b)
        assert np.all(index[0] == 0)
        assert np.all(np.diff(index, axis=0) > 0)
        assert np.all(np.diff(index[1:], axis=1) > 0)
        assert index[-1, -1] > 0.85  # phasic: a burst, then long silences


def test_adaptation_float_steady_isi_within_one_tick_of_theory(adapt):
    """``adaptation_steady_isi`` solves ``T = t_c(Θ+(T))`` in continuous time; the grid
    delays each crossing by less than a tick, and since ``T - t_c(Θ+(T))`` increases a
    period-1 orbit of the per-tick map has ``T* <= ISI < T* + dt``; the map can also
    settle on two neighbouring tick counts that straddle ``T*``. So the mean of the
    last intervals is within one tick of ``T*`` wherever the run reached its steady
    state (last five intervals within one tick of each other)."""
    checked = 0
    for j, isi in enumerate(adapt.isi_float):
        tail = isi[-5:]
        if isi.size >= 10 and tail.max() - tail.min() <= 1:
            assert abs(tail.mean() * adapt.dt - adapt.steady_analytic[j]) <= adapt.dt
            checked += 1
    assert checked >= 10


def test_adaptation_wide_core_follows_the_float_reference(adapt):
    """The floor error of the threshold offset is below ``(2^k_theta - 1)`` LSB: 15 mV at
    16 bits with tau_theta = 1024 ms (k_theta = 12), which visibly lengthens the core's
    steady ISI; at 24 bits 0.06 mV, and the core's last ISI is the float's within two
    ticks."""
    b24 = adapt.v_bits.index(24)
    for core, fl in zip(adapt.isi_core[b24], adapt.isi_float):
        assert abs(int(core[-1]) - int(fl[-1])) <= 2
    b16 = adapt.v_bits.index(16)
    assert adapt.theta_stall[b16].max() == pytest.approx(4095 * adapt.v_lsb[b16])
    slow = len(adapt.tau_thetas) - 1
    assert np.all(adapt.last_isi(b16)[1:, slow] > adapt.float_last_isi[1:, slow] * 1.15)


# ================================================================================ jitter

def test_jitter_matches_the_linearised_crossing_in_the_small_noise_regime(jit):
    """``σ_t ≈ σ_V / |dV/dt|`` (with ``dt²/12`` for the grid). The crossing shift ``δ``
    solves ``s δ - δ² s / (2 tau_m) + ... = -η``; the first correction is relative
    ``O(ε)``, ``ε = σ_V/(V_inf - V_th) = σ_t/tau_m``, and enters the variance only at
    ``O(ε²)`` (it is uncorrelated with the symmetric ``η``). We allow ``ε`` plus four
    standard errors of the sample std, in the small-noise regime ``ε <= 0.2``."""
    small = jit.epsilon <= 0.2
    assert small.sum() >= 7
    for sigma, se in ((jit.sigma_float, jit.se_float), (jit.sigma_core, jit.se_core)):
        ratio = sigma[small] / jit.predicted[small]
        assert np.all(np.abs(ratio - 1) <= jit.epsilon[small] + 4 * se[small])


def test_jitter_lfsr_and_gaussian_noise_agree_within_sampling_error(jit):
    """Same noise std (the LFSR fields' ``2^e sqrt((4^m - 1)/12)`` LSB per tick), uniform
    vs Gaussian: after tens of ticks of leaky summation both are Gaussian to the
    precision here, so the jitters agree within four combined standard errors."""
    ratio = jit.sigma_core / jit.sigma_float
    combined = np.sqrt(jit.se_core ** 2 + jit.se_float ** 2)
    assert np.all(np.abs(ratio - 1) <= 4 * combined)
    assert np.all(jit.samples_core > 3000)


def test_jitter_grows_with_noise_and_falls_with_slope(jit):
    by_sigma = jit.sweep == "sigma"
    order = np.argsort(jit.sigma_v_inf[by_sigma])
    assert np.all(np.diff(jit.sigma_core[by_sigma][order]) > 0)
    by_slope = jit.sweep == "slope"
    order = np.argsort(jit.slope[by_slope])
    assert np.all(np.diff(jit.sigma_core[by_slope][order]) < 0)


def test_jitter_uncompensated_lfsr_noise_drifts_the_membrane(jit):
    """The LFSR noise ``U{-2^(m-1) .. 2^(m-1) - 1} << e`` has mean ``-2^(e-1)`` LSB per
    tick: with the quantiser's fields as they are, ``V_inf`` drops by ``2^(e-1) 2^k_v``
    LSB and the ISIs lengthen; ``compensate_noise_mean`` adds that mean back to the
    bias exactly."""
    np.testing.assert_array_equal(jit.noise_mean, -np.exp2(jit.noise_shift - 1.0))
    assert np.all(jit.mean_raw > jit.mean_core)
    params = LifParams.make(2, bias=10, noise_bits=np.array([3, 3]),
                            noise_shift=np.array([0, 4]))
    np.testing.assert_array_equal(ex.compensate_noise_mean(params).bias, [10, 18])


# ======================================================================== nonlinear-leak

def test_nonlinear_leak_qif_minus_lif_stays_between_zero_and_the_quadratic_term(nl):
    """Both float models are forward Euler on one ``dt``, so ``e = V_qif - V_lif`` obeys
    ``e' = (1 - dt g_eff / C) e + (dt / C) c (V_qif - V0)²`` exactly: from ``e = 0`` it
    stays in ``[0, c max_{j<k} (V_qif,j - V0)² / g_eff]`` at every tick ``k`` (until the
    QIF's first spike), for every step, near and far."""
    lin = nl.lin
    before = np.vstack([np.full((1, nl.dI.size), lin.V0), nl.trace_qif[:-1]])
    ceiling = lin.curvature * np.maximum.accumulate((before - lin.V0) ** 2) / lin.g_eff
    e = nl.trace_qif - nl.trace_lif
    alive = np.arange(nl.trace_qif.shape[0])[:, None] < nl.first_spike_qif[None, :]
    assert alive[:, nl.subthreshold].all() and not alive[:, ~nl.subthreshold].all()
    assert np.all(e[alive] >= -1e-15) and np.all(e[alive] <= ceiling[alive] + 1e-15)


def test_nonlinear_leak_steady_error_is_c_x_squared_over_g_eff(nl):
    """At the end the error is ``c x² / g_eff`` (``x`` the QIF's exact fixed point
    relative to V0) up to what is left of the two relaxations: each Euler map contracts
    towards its fixed point by at least its largest slope on the way,
    ``1 - dt (g_eff - 2 c max(x, 0)) / C`` (QIF) and ``1 - dt g_eff / C`` (LIF), per tick."""
    lin, sub = nl.lin, nl.subthreshold
    ticks = nl.trace_qif.shape[0]
    a_qif = 1 - nl.dt * (lin.g_eff - 2 * lin.curvature * np.maximum(nl.x[sub], 0)) / lin.C
    a_lif = 1 - nl.dt * lin.g_eff / lin.C
    residual = np.abs(nl.x[sub]) * a_qif ** ticks + np.abs(nl.x_lin[sub]) * a_lif ** ticks
    assert np.all(np.abs(nl.final_error[sub] - nl.predicted[sub]) <= residual + 1e-15)
    # the claim itself: relative to the distance the error is x / (2 (V_m - V0)), so it is
    # small near V0 and grows linearly (absolutely: quadratically) with the distance
    # (c / g_eff = 1 / (2 (V_m - V0)): here 1 / (10 mV))
    np.testing.assert_allclose(nl.predicted[sub] / np.abs(nl.x[sub]),
                               np.abs(nl.x[sub]) / (2 * (float(nl.neuron.V_m) - lin.V0)),
                               rtol=1e-12)
    rel = nl.final_error[sub] / np.abs(nl.x[sub])
    slack = (residual + 1e-15) / np.abs(nl.x[sub])
    near, far = np.abs(nl.x[sub]) <= 0.5e-3, np.abs(nl.x[sub]) >= 4e-3
    assert np.all(rel[near] <= 0.05 + slack[near]) and np.all(rel[far] >= 0.4 - slack[far])


def test_nonlinear_leak_cores_inside_the_integer_error_interval(nl):
    """Every core's membrane minus the float QIF of the parameters it realises lies in
    ``qif.quantiser.error_interval`` at every tick before a spike; with floor rounding
    the core is never above the float (``hi = 0``)."""
    for b in range(len(nl.v_bits)):
        assert nl.inside_bound(b)
        ok = np.isfinite(nl.bound_hi[b])
        assert ok[:, nl.subthreshold].all() and np.all(nl.bound_hi[b][ok] == 0)
        assert nl.overflows[b] == 0


def test_nonlinear_leak_beyond_the_saddle_node_the_qif_fires_and_the_lif_cannot(nl):
    """Steps above ``g_eff² / (4 c)`` leave the QIF without a fixed point: it fires, on
    the float twin and on every core; the LIF, whose leak grows without bound, settles at
    ``x_lin``."""
    supra = ~nl.subthreshold
    assert supra.sum() == len(ex.NL_SUPRA)
    assert np.all(nl.dI[supra] > nl.lin.g_eff ** 2 / (4 * nl.lin.curvature))
    assert np.all(nl.spikes_qif[supra] > 1) and np.all(nl.spikes_core[:, supra] > 1)
    assert np.all(nl.spikes_qif[nl.subthreshold] == 0)
    lif_end = nl.trace_lif[-1, supra] - nl.lin.V0
    np.testing.assert_allclose(lif_end, nl.x_lin[supra], rtol=1e-4)


# ====================================================================== registry and CLI

def test_registry_and_run_experiment_write_the_plot_and_refuse_to_overwrite(tmp_path, capsys):
    assert list(ex.EXPERIMENTS) == ["fi-curve", "dimensionless", "impedance", "adaptation",
                                    "jitter", "nonlinear-leak"]
    assert ex.LEFT_OUT == {}
    out = tmp_path / "figs"
    _, path = ex.run_experiment("dimensionless", str(out), duration=0.3)
    assert path == str(out / "dimensionless.png")
    assert (out / "dimensionless.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "float collapse" in printed and f"plot: {out / 'dimensionless.png'}" in printed
    with pytest.raises(FileExistsError, match="--force"):
        ex.run_experiment("dimensionless", str(out), duration=0.3)
    ex.run_experiment("dimensionless", str(out), force=True, quiet=True, duration=0.3)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="unknown experiment"):
        ex.output_path("leaky-bucket")


def test_every_result_has_a_summary_and_a_plot(tmp_path, fi, dim, imp, adapt, jit, nl):
    for name, result in zip(ex.EXPERIMENTS, (fi, dim, imp, adapt, jit, nl)):
        assert isinstance(result.summary(), str) and len(result.summary().splitlines()) > 5
        path = tmp_path / f"{name}.png"
        result.plot(str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _cli_has_experiment() -> bool:
    from neurochip.cli import app as cli
    try:
        cli.build_parser().parse_args(["experiment", "jitter"])
    except (cli.UsageError, SystemExit):
        return False
    return True


@pytest.mark.skipif(not _cli_has_experiment(), reason="neurochip experiment not wired into cli")
def test_cli_experiment(tmp_path, capsys):
    from neurochip.cli import app as cli
    assert cli.main(["experiment", "dimensionless", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "dimensionless.png").exists()
    assert "float collapse" in capsys.readouterr().out
    assert cli.main(["experiment", "dimensionless", "--out", str(tmp_path)]) == 2
    assert cli.main(["experiment", "dimensionless", "--out", str(tmp_path), "--force",
                     "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["experiment", "leaky-bucket"]) == 2
