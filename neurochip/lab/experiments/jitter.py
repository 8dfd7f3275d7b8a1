"""``jitter``: spike-time jitter against noise amplitude and membrane slope, compared with
``σ_t ≈ σ_V / |dV/dt|``; Gaussian (float) vs LFSR (core) noise (docs/experiments.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from firmware_models.lif import analytic
from firmware_models.lif.quantiser import quantise
from firmware_models.lif.reference import LifPhysical, simulate

from ...hardware.core import Core
from ..figures import new_figure, save
from .common import (BASE, DT, core_spec, dc_target, label_axes, mV, ms,
                     spike_intervals)


JITTER_SIGMA_V = (0.25 * mV, 0.5 * mV, 1 * mV, 2 * mV, 4 * mV)
JITTER_RATIOS = (1.5, 2.0, 3.0, 5.0)


def jitter_prediction(p: LifPhysical, dt: float, I=0.0) -> dict:
    r"""Small-noise prediction of the ISI jitter of a LIF with noise intensity ``p.sigma``
    under a DC current (``I`` on top of ``p.I_bias``), reset to value.

    After the refractory period ``V`` leaves ``V_reset`` (no noise while held) and crosses
    ``V_th`` at ``t_c = tau_m ln((V_inf - V_reset)/(V_inf - V_th))`` with slope
    ``s = dV/dt = (V_inf - V_th)/tau_m``. The noise has by then built up the variance of
    the per-tick map, ``σ_V² = sigma² dt Σ_{j<J} a^{2j} = sigma² dt (1 - a^{2J})/(1 - a²)``
    (``a = e^{-dt/tau_m}``, ``J = t_c/dt``; ``≈ sigma² tau_m/2 (1 - e^{-2 t_c/tau_m})``).
    Linearising the crossing, ``δt = -δV / s``, so ``σ_t ≈ σ_V / |dV/dt|``; detecting the
    crossing on the tick grid adds a delay uniform on ``[0, dt)``: variance ``dt²/12``.

    Returns ``t_c``, ``slope`` (V/s), ``sigma_V`` (V), ``sigma_t`` (s, with the grid term)
    and ``epsilon = sigma_V / (V_inf - V_th)`` ``= σ_t / tau_m``, the small-noise
    parameter: the linearisation neglects terms of relative size ``O(epsilon)``.
    """
    q, u_inf = dc_target(p, I)
    gap, u_r, tau = q.V_th - q.E_L, q.V_reset - q.E_L, q.tau_m
    with np.errstate(invalid="ignore", divide="ignore"):
        t_c = np.where(u_inf > gap, tau * np.log((u_inf - u_r) / (u_inf - gap)), np.inf)
        slope = (u_inf - gap) / tau
        a = np.exp(-dt / tau)
        var_V = q.sigma ** 2 * dt * -np.expm1(2 * np.log(a) * t_c / dt) / -np.expm1(
            2 * np.log(a))
        sigma_V = np.sqrt(var_V)
        sigma_t = np.sqrt((sigma_V / slope) ** 2 + dt ** 2 / 12)
    return {"t_c": t_c, "slope": slope, "sigma_V": sigma_V, "sigma_t": sigma_t,
            "epsilon": sigma_V / (u_inf - gap)}


def _std_and_error(x: np.ndarray) -> tuple[float, float]:
    """Sample standard deviation and its relative standard error
    ``sqrt((m4/s^4 - 1) / (4 N))`` (no Gaussian assumption: the ISI density is skewed)."""
    x = np.asarray(x, dtype=float)
    if x.size < 3:
        return float("nan"), float("nan")
    d = x - x.mean()
    s2 = float(np.mean(d ** 2))
    m4 = float(np.mean(d ** 4))
    return math.sqrt(s2 * x.size / (x.size - 1)), math.sqrt(max(m4 / s2 ** 2 - 1, 0.0) /
                                                            (4 * x.size))


def noise_mean_lsb(params) -> np.ndarray:
    """Mean (LSB per tick) of the core's LFSR noise: ``U{-2^(m-1) .. 2^(m-1) - 1} << e``
    averages ``-1/2 << e = -2^(e-1)`` (0 where noise is off). Over a membrane of
    ``k_v`` it moves the resting point by ``-2^(e-1) 2^k_v`` LSB."""
    on = np.asarray(params.noise_bits) > 0
    return np.where(on, -np.exp2(np.asarray(params.noise_shift, dtype=float) - 1), 0.0)


def compensate_noise_mean(params):
    """``params`` with ``bias`` raised by the LFSR noise's mean where that is a whole
    number of LSB (``noise_shift >= 1``), so that the noise is zero-mean on ``v``;
    with ``noise_shift = 0`` the mean is -1/2 LSB and is left."""
    whole = (np.asarray(params.noise_bits) > 0) & (np.asarray(params.noise_shift) >= 1)
    lift = np.where(whole, np.left_shift(1, np.maximum(params.noise_shift - 1, 0)), 0)
    return replace(params, bias=params.bias + lift)


@dataclass(frozen=True)
class JitterResult:
    """Per condition (current ratio, stationary membrane noise ``σ_V∞``): ISI jitter.

    ``sigma_*`` are standard deviations of the pooled ISIs (s) of ``trials`` neurons;
    ``se_*`` their relative standard errors. ``predicted`` is ``jitter_prediction`` of
    the parameters the core realises (with the noise intensity the LFSR fields give),
    which is also what the float reference runs (with Gaussian noise). ``*_core`` is
    the core with the quantiser's registers and the bias compensating the LFSR noise's
    mean (``compensate_noise_mean``); ``*_raw`` the core with the quantiser's registers
    as they are, whose noise drifts ``v`` by ``noise_mean`` LSB per tick.
    """

    dt: float
    duration: float
    trials: int
    ratios: np.ndarray         # (n_c,) current / rheobase
    sigma_v_inf: np.ndarray    # (n_c,) V, asked stationary membrane noise
    sigma_asked: np.ndarray    # (n_c,) V/sqrt(s)
    sigma_realised: np.ndarray  # (n_c,) V/sqrt(s), of the LFSR fields
    noise_bits: np.ndarray     # (n_c,)
    noise_shift: np.ndarray    # (n_c,)
    slope: np.ndarray          # (n_c,) V/s at threshold
    sigma_V: np.ndarray        # (n_c,) V at the crossing
    epsilon: np.ndarray        # (n_c,)
    predicted: np.ndarray      # (n_c,) s
    mean_float: np.ndarray     # (n_c,) s, mean ISI
    mean_core: np.ndarray
    mean_raw: np.ndarray
    sigma_float: np.ndarray    # (n_c,) s
    sigma_core: np.ndarray
    sigma_raw: np.ndarray
    se_float: np.ndarray       # (n_c,) relative
    se_core: np.ndarray
    se_raw: np.ndarray
    noise_mean: np.ndarray     # (n_c,) LSB per tick of the LFSR noise
    v_lsb: float
    k_v: int
    samples_float: np.ndarray  # (n_c,) ISIs pooled
    samples_core: np.ndarray
    sweep: np.ndarray          # (n_c,) "sigma" or "slope" (which sweep the condition is in)

    def summary(self) -> str:
        lines = [f"jitter: {self.trials} neurons per condition, {self.duration:g} s, dt = "
                 f"{self.dt / ms:g} ms; ISI std (ms), prediction sqrt((σ_V/slope)² + dt²/12); "
                 f"core: bias compensates the LFSR noise mean",
                 f"{'I/I_rh':>6} {'σ_V∞ mV':>7} {'m,e':>5} {'slope':>6} {'σ_V mV':>6} "
                 f"{'eps':>5} {'pred':>6} {'float':>6} {'±%':>4} {'core':>6} {'±%':>4} "
                 f"{'f/pred':>6} {'c/pred':>6} {'c/f':>5} {'ISIs':>5}"]
        for c in range(len(self.ratios)):
            lines.append(
                f"{self.ratios[c]:>6.3g} {self.sigma_v_inf[c] / mV:>7.3g} "
                f"{f'{self.noise_bits[c]},{self.noise_shift[c]}':>5} "
                f"{self.slope[c]:>6.3g} {self.sigma_V[c] / mV:>6.3f} {self.epsilon[c]:>5.3f} "
                f"{self.predicted[c] / ms:>6.3f} {self.sigma_float[c] / ms:>6.3f} "
                f"{100 * self.se_float[c]:>4.1f} {self.sigma_core[c] / ms:>6.3f} "
                f"{100 * self.se_core[c]:>4.1f} "
                f"{self.sigma_float[c] / self.predicted[c]:>6.3f} "
                f"{self.sigma_core[c] / self.predicted[c]:>6.3f} "
                f"{self.sigma_core[c] / self.sigma_float[c]:>5.3f} "
                f"{int(self.samples_core[c]):>5}")
        lines.append("(slope in V/s; m,e: the LFSR noise_bits, noise_shift; ±%: standard "
                     "error of the std; eps = σ_V / (V_inf - V_th))")
        lines += ["", "the quantiser's registers as they are (LFSR noise mean -2^(e-1) LSB/tick "
                      "not compensated):",
                  f"{'I/I_rh':>6} {'σ_V∞ mV':>7} {'mean LSB':>8} {'V_inf shift mV':>14} "
                  f"{'ISI float':>9} {'ISI raw':>8} {'σ raw':>6} {'raw/pred':>8}"]
        for c in range(len(self.ratios)):
            shift = self.noise_mean[c] * 2 ** self.k_v * self.v_lsb
            lines.append(f"{self.ratios[c]:>6.3g} {self.sigma_v_inf[c] / mV:>7.3g} "
                         f"{self.noise_mean[c]:>8.3g} {shift / mV:>14.3f} "
                         f"{self.mean_float[c] / ms:>9.3f} {self.mean_raw[c] / ms:>8.3f} "
                         f"{self.sigma_raw[c] / ms:>6.3f} "
                         f"{self.sigma_raw[c] / self.predicted[c]:>8.3f}")
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        """Write ``figure()`` to ``path`` (PNG)."""
        save(self.figure(), path)

    def figure(self):
        """The experiment's figure (a ``matplotlib.figure.Figure``)."""
        fig, (ax1, ax2) = new_figure(1, 2, figsize=(11, 4.5))
        for ax, sweep, x, xlabel in ((ax1, "sigma", self.sigma_V / mV,
                                      "membrane noise at the crossing σ_V (mV)"),
                                     (ax2, "slope", self.slope, "slope at threshold dV/dt (V/s)")):
            sel = self.sweep == sweep
            order = np.argsort(x[sel])
            xs = x[sel][order]
            ax.plot(xs, self.predicted[sel][order] / ms, "k-", lw=1,
                    label="√((σ_V/slope)² + dt²/12)")
            ax.errorbar(xs, self.sigma_float[sel][order] / ms,
                        yerr=2 * (self.se_float * self.sigma_float)[sel][order] / ms, fmt="o",
                        mfc="none", label="float reference, Gaussian noise")
            ax.errorbar(xs, self.sigma_core[sel][order] / ms,
                        yerr=2 * (self.se_core * self.sigma_core)[sel][order] / ms, fmt="x",
                        label="core, LFSR noise (mean compensated)")
            ax.plot(xs, self.sigma_raw[sel][order] / ms, "+:", color="0.5", lw=0.8,
                    label="core, quantiser's registers as they are")
            label_axes(ax, xlabel, "spike-time jitter σ_t (ms)", legend=7, xscale="log",
                       yscale="log")
        ax1.set_title(f"against noise (I = {self.ratios[self.sweep == 'sigma'][0]:g} I_rh)")
        ax2.set_title(f"against slope (σ_V∞ = "
                      f"{self.sigma_v_inf[self.sweep == 'slope'][0] / mV:g} mV)")
        return fig


def jitter(*, dt: float = DT, duration: float = 1.0, trials: int = 128,
           sigma_v=JITTER_SIGMA_V, ratios=JITTER_RATIOS, at_ratio: float = 2.0,
           at_sigma_v: float = 1 * mV, T_ref: float = 2 * ms, neuron: LifPhysical = BASE,
           v_bits: int = 16, seed: int = 1) -> JitterResult:
    """Spike-time jitter against noise amplitude (at ``at_ratio`` × rheobase) and against
    the slope at threshold (currents ``ratios`` at ``at_sigma_v``), ``trials`` neurons
    per condition firing repeatedly (every ISI starts from the reset: a fresh trial).

    Noise is asked as the stationary std ``σ_V∞`` of the free membrane,
    ``sigma = σ_V∞ sqrt(2 / tau_m)``; the quantiser picks the LFSR fields whose noise std
    is nearest in ratio, and the float reference runs the realised parameters with
    Gaussian noise of the same std, so the two differ only in the noise's distribution
    (uniform vs Gaussian) and the integer arithmetic.
    """
    conditions = [(at_ratio, float(s), "sigma") for s in sigma_v]
    conditions += [(float(r), at_sigma_v, "slope") for r in ratios]
    n_c = len(conditions)
    ratio = np.array([c[0] for c in conditions])
    sv = np.array([c[1] for c in conditions])
    sweep = np.array([c[2] for c in conditions])
    tau = float(neuron.tau_m)
    sigma = sv * math.sqrt(2 / tau)
    n = n_c * trials
    p = replace(neuron, T_ref=T_ref, V_reset=neuron.E_L,
                I_bias=np.repeat(ratio * float(analytic.rheobase(neuron)), trials),
                sigma=np.repeat(sigma, trials))
    ticks = round(duration / dt)
    spec = core_spec(n, v_bits)
    q = quantise(p, dt, spec, n=n)
    raw = Core(spec, q.params).run(ticks)
    rec = Core(spec, compensate_noise_mean(q.params)).run(ticks)
    trace = simulate(q.realised, dt, ticks, n=n, seed=seed)
    pred = jitter_prediction(q.realised, dt)
    first = np.arange(n_c) * trials

    def pooled(spikes):
        ints = spike_intervals(spikes)
        out = []
        for c in range(n_c):
            out.append(np.concatenate(ints[c * trials:(c + 1) * trials]) * dt)
        return out

    f_isi, c_isi, r_isi = pooled(trace.spikes), pooled(rec.spikes), pooled(raw.spikes)
    f_stats = np.array([_std_and_error(x) for x in f_isi])
    c_stats = np.array([_std_and_error(x) for x in c_isi])
    r_stats = np.array([_std_and_error(x) for x in r_isi])
    return JitterResult(
        dt=dt, duration=duration, trials=trials, ratios=ratio, sigma_v_inf=sv,
        sigma_asked=sigma, sigma_realised=np.asarray(q.realised.sigma)[first],
        noise_bits=q.params.noise_bits[first], noise_shift=q.params.noise_shift[first],
        slope=pred["slope"][first], sigma_V=pred["sigma_V"][first],
        epsilon=pred["epsilon"][first], predicted=pred["sigma_t"][first],
        mean_float=np.array([x.mean() for x in f_isi]),
        mean_core=np.array([x.mean() for x in c_isi]),
        mean_raw=np.array([x.mean() for x in r_isi]),
        sigma_float=f_stats[:, 0], sigma_core=c_stats[:, 0], sigma_raw=r_stats[:, 0],
        se_float=f_stats[:, 1], se_core=c_stats[:, 1], se_raw=r_stats[:, 1],
        noise_mean=noise_mean_lsb(q.params)[first], v_lsb=float(q.scales.v_lsb),
        k_v=int(q.params.k_v[0]), samples_float=np.array([x.size for x in f_isi]),
        samples_core=np.array([x.size for x in c_isi]), sweep=sweep)

