r"""The seed text's ideas as runnable experiments: emulated core vs float reference vs theory.

Each experiment is a function with small default sizes (a few seconds: many neurons with
different inputs side by side on one core, one run) that returns a frozen result
dataclass holding its numbers, with ``summary()`` (the numbers as text) and
``plot(path)`` (one PNG). ``EXPERIMENTS`` maps the command-line names to the functions;
``run_experiment`` runs one, writes ``NAME.png`` and prints its numbers (what
``neurochip experiment NAME`` does).

=================  =========================================================================
``fi-curve``       rate against DC current, core (8/12/16-bit membrane) vs float reference
                   vs ``analytic.rate``, for several refractory periods
``dimensionless``  physically different neurons collapse onto one ``T̂(î)`` curve; the
                   core's registers *are* that dimensionless form
``impedance``      subthreshold gain against frequency: core vs ``|Z(ω)|`` vs
                   ``analytic.discrete_gain`` (the exact response of the per-tick filter)
``adaptation``     ISI sequences from phasic to tonic as ``alpha`` and ``tau_theta`` vary
``jitter``         spike-time jitter against noise amplitude and membrane slope, compared
                   with ``σ_t ≈ σ_V / |dV/dt|``; Gaussian (float) vs LFSR (core) noise
``nonlinear-leak`` the LIF as the local linearisation of a quadratic leak: QIF float vs
                   QIF core (``firmware_models.qif``) vs the tangent LIF at ``V0``, whose
                   steady-state error ``c x² / g_eff`` grows with the square of the distance
=================  =========================================================================

docs/experiments.md gives the maths and the measured numbers of each experiment.

Conventions shared by all: ``dt = 0.25 ms`` by default, so that ``tau_m = 16 ms`` is 64
ticks and the shift leak ``k_v = 6`` realises it within 0.8 % (``tau_eff = 63.5`` ticks);
refractory periods are whole ticks; cores are built with ``ref_bits = 8`` so that a
5 ms refractory period (20 ticks) fits. Spike times are tick indices; a spike decided in
tick ``k`` is at ``(k + 1) dt`` (``reference.FloatTrace``), the same on the core, so
intervals are differences of tick indices.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

from firmware_models.lif import analytic
from firmware_models.lif.quantiser import quantise, quantise_groups
from firmware_models.lif.reference import LifPhysical, simulate
from firmware_models.qif import QIF, QifState
from firmware_models.qif.quantiser import error_interval as qif_error_interval
from firmware_models.qif.quantiser import quantise as quantise_qif
from firmware_models.qif.reference import Linearisation, QifPhysical
from firmware_models.qif.reference import simulate as simulate_qif

from ..hardware.core import Core
from ..hardware.spec import CoreSpec
from ..hardware.synapses import SynapseMemory

__all__ = [
    "EXPERIMENTS",
    "LEFT_OUT",
    "AdaptationResult",
    "DimensionlessResult",
    "FiCurveResult",
    "ImpedanceResult",
    "JitterResult",
    "NonlinearLeakResult",
    "adaptation",
    "adaptation_steady_isi",
    "compensate_noise_mean",
    "current_events",
    "dimensionless",
    "fi_curve",
    "first_passage_ticks",
    "impedance",
    "integer_isi_bracket",
    "jitter",
    "jitter_prediction",
    "noise_mean_lsb",
    "nonlinear_leak",
    "output_path",
    "run_experiment",
]

mV, ms, pA, nA, pF, nS = 1e-3, 1e-3, 1e-12, 1e-9, 1e-12, 1e-9

DT = 0.25 * ms
#: the neuron most experiments start from: tau_m = 16 ms, 20 mV from rest to threshold,
#: reset 5 mV above rest, rheobase 0.2 nA
BASE = LifPhysical(C=160 * pF, g_L=10 * nS, E_L=-70 * mV, V_th=-50 * mV, V_reset=-65 * mV,
                   T_ref=0.0)


def _spec(n: int, v_bits: int = 16, n_axons: int = 1) -> CoreSpec:
    return CoreSpec(n_slots=max(int(n), 1), n_axons=max(int(n_axons), 1), v_bits=v_bits,
                    ref_bits=8, theta_bits=max(16, v_bits),
                    synapse_words=max(131072, int(n_axons)))


def _intervals(spikes: np.ndarray) -> list[np.ndarray]:
    """Inter-spike intervals (ticks) of every column of a ``(ticks, n)`` spike raster."""
    return [np.diff(np.flatnonzero(spikes[:, j])) for j in range(spikes.shape[1])]


def _steady_rate(intervals: list[np.ndarray], dt: float) -> np.ndarray:
    """``1 / mean ISI`` (Hz) from the intervals after the first spike; 0 without one."""
    return np.array([1.0 / (x.mean() * dt) if x.size else 0.0 for x in intervals])


def _range(intervals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest interval per neuron (ticks; ``inf``/``-inf`` without one)."""
    lo = np.array([x.min() if x.size else np.inf for x in intervals], dtype=float)
    hi = np.array([x.max() if x.size else -np.inf for x in intervals], dtype=float)
    return lo, hi


def first_passage_ticks(u0, u_inf, a, level) -> np.ndarray:
    """Smallest ``j >= 1`` with ``u_j >= level`` for ``u_j = u_inf + (u0 - u_inf) a^j``
    (the per-tick recursion ``u' = a u + (1 - a) u_inf`` from ``u0``), ``inf`` if never.

    For ``u0 < u_inf`` the sequence rises monotonically towards ``u_inf`` (never reaching
    it), so ``j = max(1, ceil(ln((u_inf - level) / (u_inf - u0)) / ln a))``.
    """
    u0, u_inf, a, level = np.broadcast_arrays(*(np.asarray(x, dtype=float)
                                                for x in (u0, u_inf, a, level)))
    out = np.full(u0.shape, np.inf)
    already = level <= u0
    reach = ~already & (u_inf > level) & (u_inf > u0)
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.ceil(np.log((u_inf - level) / (u_inf - u0)) / np.log(a))
    out[reach] = np.maximum(1.0, j[reach])
    out[already] = 1.0
    return out


def integer_isi_bracket(params, tol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    r"""``[lo, hi]`` (ticks) that every ISI of an integer LIF with a DC bias must lie in,
    for floor rounding, reset to value, no synaptic current, no noise, no adaptation.

    The float twin of the realised parameters (docs/error-bounds.md) is, in LSB,
    ``u' = a u + bias`` with ``a = 1 - 2^-k_v`` from ``u = v_reset`` after the
    ``t_ref`` held ticks, i.e. ``u_j = u_inf + (v_reset - u_inf) a^j`` with
    ``u_inf = bias 2^k_v``. After a reset both runs hold ``v_reset`` exactly, and from
    there the integer register is never below the float one and less than
    ``E = 2^k_v - 1`` LSB above it (``0 <= e_j <= (2^k_v - 1)(1 - a^j)``). So the integer
    neuron fires no later than the first ``j`` with ``u_j >= v_th`` and not before the
    first ``j`` with ``u_j >= v_th - E``; with ``J(x)`` that first ``j``
    (``first_passage_ticks``):

        t_ref + J(v_th - E) <= ISI <= t_ref + J(v_th)

    ``tol`` (LSB) widens both ends against the double-precision evaluation of ``u_j``.
    ``hi`` is ``inf`` where ``u_inf <= v_th`` (the float twin never fires; the integer
    neuron may), ``lo`` is ``inf`` where even ``v_th - E`` is out of reach.
    """
    k = np.asarray(params.k_v, dtype=float)
    a = 1.0 - np.exp2(-k)
    u_inf = np.asarray(params.bias) * np.exp2(k)
    v_th, v_reset, t_ref = (np.asarray(getattr(params, f), dtype=float)
                            for f in ("v_th", "v_reset", "t_ref"))
    E = np.exp2(k) - 1
    lo = t_ref + first_passage_ticks(v_reset, u_inf, a, v_th - E - tol)
    hi = t_ref + first_passage_ticks(v_reset, u_inf, a, v_th + tol)
    return lo, hi


def _fig():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


# ============================================================================= f-I curve

FI_RATIOS = (0.5, 0.9, 0.95, 1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5,
             5.0)


@dataclass(frozen=True)
class FiCurveResult:
    """Rates (Hz) per refractory period × current (and × membrane width for the core).

    ``isi_*`` are steady intervals in ticks (after the first spike; with a DC input every
    interval after the first is the same on the float reference and on the core, and
    ``*_lo``/``*_hi`` are the smallest and largest seen). ``bracket_lo``/``bracket_hi``
    are ``integer_isi_bracket`` of the registers.
    """

    neuron: LifPhysical         # the model, without T_ref and I_bias (set per neuron)
    dt: float
    duration: float
    ratios: np.ndarray          # (n_I,) current / rheobase
    currents: np.ndarray        # (n_I,) A
    rheobase: float             # A
    t_refs: np.ndarray          # (n_ref,) s
    v_bits: tuple               # (n_bits,)
    rate_analytic: np.ndarray   # (n_ref, n_I)
    rate_float: np.ndarray      # (n_ref, n_I) float reference, parameters as asked
    rate_core: np.ndarray       # (n_bits, n_ref, n_I)
    rate_realised: np.ndarray   # (n_bits, n_ref, n_I) float reference, realised parameters
    isi_analytic: np.ndarray    # (n_ref, n_I) s (inf below rheobase)
    isi_float_lo: np.ndarray    # (n_ref, n_I) ticks
    isi_float_hi: np.ndarray
    isi_core_lo: np.ndarray     # (n_bits, n_ref, n_I) ticks
    isi_core_hi: np.ndarray
    isi_realised_lo: np.ndarray  # (n_bits, n_ref, n_I) ticks
    isi_realised_hi: np.ndarray
    bracket_lo: np.ndarray      # (n_bits, n_ref, n_I) ticks
    bracket_hi: np.ndarray
    v_lsb: np.ndarray           # (n_bits,) V
    v_th_register: np.ndarray   # (n_bits,)
    k_v: int
    bias_register: np.ndarray   # (n_bits, n_I)
    overflows: np.ndarray       # (n_bits,) total register overflows of each core run

    @property
    def float_excess_ticks(self) -> tuple[float, float]:
        """Smallest and largest ``(ISI_float - ISI_analytic) / dt`` over all firing
        neurons: the derivation says they lie in ``[0, 1)``."""
        fire = np.isfinite(self.isi_analytic) & np.isfinite(self.isi_float_lo)
        lo = self.isi_float_lo[fire] - self.isi_analytic[fire] / self.dt
        hi = self.isi_float_hi[fire] - self.isi_analytic[fire] / self.dt
        return float(lo.min()), float(hi.max())

    def core_vs_realised_ticks(self, b: int) -> np.ndarray:
        """``ISI_core - ISI_float(realised)`` in ticks for membrane width index ``b``
        (``nan`` where either does not fire twice)."""
        ok = np.isfinite(self.isi_core_hi[b]) & np.isfinite(self.isi_realised_hi[b])
        with np.errstate(invalid="ignore"):
            return np.where(ok, self.isi_core_hi[b] - self.isi_realised_hi[b], np.nan)

    def summary(self) -> str:
        lines = [f"fi-curve: rate (Hz) against DC current, dt = {self.dt / ms:g} ms, "
                 f"{self.duration:g} s per run, rheobase {self.rheobase / nA:.3g} nA, "
                 f"k_v = {self.k_v} (tau_eff {analytic.tau_eff(self.k_v, self.dt) / ms:.4g} ms)"]
        for b, bits in enumerate(self.v_bits):
            lines.append(f"  {bits:>2}-bit core: v_lsb {self.v_lsb[b] / mV:.4g} mV, v_th register "
                         f"{int(self.v_th_register[b])}, bias registers "
                         f"{int(self.bias_register[b].min())}..{int(self.bias_register[b].max())}"
                         f", overflows {int(self.overflows[b])}")
        head = f"{'I/I_rh':>7} {'analytic':>9} {'float':>9}" + "".join(
            f" {f'core{b}':>9}" for b in self.v_bits)
        for r, t_ref in enumerate(self.t_refs):
            lines += ["", f"T_ref = {t_ref / ms:g} ms", head]
            for c, ratio in enumerate(self.ratios):
                lines.append(f"{ratio:>7.3g} {self.rate_analytic[r, c]:>9.2f} "
                             f"{self.rate_float[r, c]:>9.2f}" + "".join(
                                 f" {self.rate_core[b, r, c]:>9.2f}"
                                 for b in range(len(self.v_bits))))
        lo, hi = self.float_excess_ticks
        lines += ["", f"float reference vs analytic: ISI_float - ISI in [{lo:.3f}, {hi:.3f}] "
                      f"ticks (theory: [0, 1))"]
        for b, bits in enumerate(self.v_bits):
            inside = np.all((self.isi_core_lo[b] >= self.bracket_lo[b])
                            & (self.isi_core_hi[b] <= self.bracket_hi[b])
                            | ~np.isfinite(self.isi_core_hi[b]))
            d = self.core_vs_realised_ticks(b)
            lines.append(f"{bits:>2}-bit core vs float(realised): ISI_core - ISI_float in "
                         f"[{np.nanmin(d):.0f}, {np.nanmax(d):.0f}] ticks; inside the "
                         f"error-bound bracket: {'yes' if inside else 'NO'}")
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        plt = _fig()
        nb = len(self.v_bits)
        fig, axes = plt.subplots(2, nb, figsize=(4.2 * nb, 7), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
        axes = np.atleast_2d(axes).reshape(2, nb)
        fine = np.linspace(self.ratios.min(), self.ratios.max(), 400)
        for b, bits in enumerate(self.v_bits):
            ax = axes[0, b]
            for r, t_ref in enumerate(self.t_refs):
                p = replace(self.neuron, T_ref=float(t_ref), I_bias=0.0)
                ax.plot(fine, analytic.rate(p, fine * self.rheobase), color=f"C{r}", lw=1,
                        label=f"analytic, T_ref={t_ref / ms:g} ms")
                ax.plot(self.ratios, self.rate_float[r], "o", mfc="none", color=f"C{r}", ms=5,
                        label="float reference" if r == 0 else None)
                ax.plot(self.ratios, self.rate_core[b, r], "x", color=f"C{r}", ms=5,
                        label="core" if r == 0 else None)
            ax.set_title(f"{bits}-bit membrane (v_th = {int(self.v_th_register[b])} LSB)")
            ax.set_ylabel("rate (Hz)")
            ax.legend(fontsize=7, loc="upper left")
            ax = axes[1, b]
            for r in range(len(self.t_refs)):
                ok = np.isfinite(self.isi_analytic[r])
                ax.plot(self.ratios[ok], self.isi_core_hi[b, r][ok] -
                        self.isi_analytic[r][ok] / self.dt, "x-", color=f"C{r}", lw=0.8)
                ax.plot(self.ratios[ok], self.isi_float_hi[r][ok] -
                        self.isi_analytic[r][ok] / self.dt, "o:", mfc="none", color=f"C{r}",
                        lw=0.8, ms=4)
            ax.axhspan(0, 1, color="0.9", zorder=0)
            ax.set_yscale("symlog", linthresh=1)
            ax.set_xlabel("I / rheobase")
            ax.set_ylabel("ISI - analytic ISI (ticks)")
        fig.suptitle(f"f-I curve: core (x) vs float reference (o) vs analytic (line), "
                     f"dt = {self.dt / ms:g} ms. Below: ISI error in ticks (the refractory "
                     f"periods overlap); grey band: the float's one-tick bound", fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def fi_curve(*, dt: float = DT, duration: float = 1.0, t_refs=(0.0, 2 * ms, 5 * ms),
             v_bits=(8, 12, 16), ratios=FI_RATIOS, neuron: LifPhysical = BASE) -> FiCurveResult:
    """Rate against DC current on the core, the float reference and the analytic f-I curve.

    One neuron per (refractory period, current) on one core per membrane width; the
    float reference runs the same neurons with the parameters as asked (against the
    analytic curve) and as realised by each core (against the core).
    """
    ratios = np.asarray(ratios, dtype=float)
    t_refs = np.asarray(t_refs, dtype=float)
    n_I, n_ref = ratios.size, t_refs.size
    rh = float(analytic.rheobase(neuron))
    currents = ratios * rh
    ticks = round(duration / dt)
    p = replace(neuron, T_ref=np.repeat(t_refs, n_I), I_bias=np.tile(currents, n_ref))
    n = n_I * n_ref
    shape = (n_ref, n_I)
    isi_a = np.asarray(analytic.isi(p, 0.0)).reshape(shape)
    rate_a = np.asarray(analytic.rate(p, 0.0)).reshape(shape)

    asked = _intervals(simulate(p, dt, ticks, n=n).spikes)
    f_lo, f_hi = _range(asked)
    rates_core, rates_real, c_lo, c_hi, r_lo, r_hi, b_lo, b_hi = ([] for _ in range(8))
    v_lsb, v_th_reg, bias_reg, overflows = [], [], [], []
    k_v = None
    for bits in v_bits:
        q = quantise(p, dt, _spec(n, bits), n=n)
        core = Core(_spec(n, bits), q.params)
        rec = core.run(ticks)
        ints = _intervals(rec.spikes)
        lo, hi = _range(ints)
        rates_core.append(_steady_rate(ints, dt))
        c_lo.append(lo)
        c_hi.append(hi)
        real = _intervals(simulate(q.realised, dt, ticks, n=n).spikes)
        rates_real.append(_steady_rate(real, dt))
        lo, hi = _range(real)
        r_lo.append(lo)
        r_hi.append(hi)
        lo, hi = integer_isi_bracket(q.params)
        b_lo.append(lo)
        b_hi.append(hi)
        v_lsb.append(q.scales.v_lsb)
        v_th_reg.append(int(q.params.v_th[0]))
        bias_reg.append(q.params.bias[:n_I].copy())
        overflows.append(sum(rec.overflow.values()))
        k_v = int(q.params.k_v[0])
    nb = len(v_bits)
    stack = lambda xs: np.array(xs).reshape(nb, n_ref, n_I)
    return FiCurveResult(
        neuron=neuron, dt=dt, duration=duration, ratios=ratios, currents=currents, rheobase=rh,
        t_refs=t_refs, v_bits=tuple(v_bits), rate_analytic=rate_a,
        rate_float=_steady_rate(asked, dt).reshape(shape), rate_core=stack(rates_core),
        rate_realised=stack(rates_real), isi_analytic=isi_a, isi_float_lo=f_lo.reshape(shape),
        isi_float_hi=f_hi.reshape(shape), isi_core_lo=stack(c_lo), isi_core_hi=stack(c_hi),
        isi_realised_lo=stack(r_lo), isi_realised_hi=stack(r_hi), bracket_lo=stack(b_lo),
        bracket_hi=stack(b_hi), v_lsb=np.array(v_lsb), v_th_register=np.array(v_th_reg),
        k_v=k_v, bias_register=np.array(bias_reg), overflows=np.array(overflows))


# ========================================================================= dimensionless

#: physically different neurons: (C, g_L, E_L, V_th); tau_m = 16, 16, 16, 8, 32 ms
NEURON_TYPES = ((160 * pF, 10 * nS, -70 * mV, -50 * mV),
                (80 * pF, 5 * nS, -65 * mV, -55 * mV),
                (480 * pF, 30 * nS, -80 * mV, -40 * mV),
                (80 * pF, 10 * nS, -60 * mV, -45 * mV),
                (640 * pF, 20 * nS, -75 * mV, -50 * mV))
I_HATS = (0.9, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)


@dataclass(frozen=True)
class DimensionlessResult:
    """Per neuron type × î: physical rates, dimensionless ISIs and the core's registers.

    ``T_hat_float`` is the float reference's steady ISI over ``tau_m``; ``T_hat_core``
    the core's steady ISI (ticks) times ``dt / tau_eff(k_v)``. The register columns
    are what the core holds: every type has its own voltage scale ``v_lsb``.
    """

    dt: float
    v_reset_hat: float
    t_ref_hat: float
    i_hat: np.ndarray          # (n_I,)
    types: np.ndarray          # (n_types, 4): C, g_L, E_L, V_th (SI)
    tau_m: np.ndarray          # (n_types,) s
    currents: np.ndarray       # (n_types, n_I) A
    rate_float: np.ndarray     # (n_types, n_I) Hz
    T_hat: np.ndarray          # (n_I,) analytic isi_dimensionless
    T_hat_float: np.ndarray    # (n_types, n_I) (inf: silent)
    T_hat_core: np.ndarray     # (n_types, n_I)
    float_excess_ticks: np.ndarray  # (2, n_types, n_I): least, most (ISI_float - tau_m T̂)/dt
    v_lsb: np.ndarray          # (n_types,) V
    k_v: np.ndarray            # (n_types,)
    v_th: np.ndarray           # (n_types,) register
    v_reset: np.ndarray        # (n_types,) register
    t_ref: np.ndarray          # (n_types,) register (ticks)
    bias: np.ndarray           # (n_types, n_I) register
    isi_core: np.ndarray       # (n_types, n_I) ticks (largest seen; -inf silent)
    isi_core_lo: np.ndarray    # (n_types, n_I) ticks (smallest seen)
    bracket_lo: np.ndarray     # (n_types, n_I) integer_isi_bracket
    bracket_hi: np.ndarray
    identical_rasters: tuple   # ((type indices with one k_v), identical?) per k_v

    @property
    def i_hat_register(self) -> np.ndarray:
        """``bias 2^k_v / v_th``: the dimensionless current the registers hold."""
        return self.bias * np.exp2(self.k_v)[:, None] / self.v_th[:, None]

    @property
    def collapse_spread(self) -> np.ndarray:
        """Per î: largest minus smallest ``T̂_float`` over the types (``nan`` if silent)."""
        ok = np.all(np.isfinite(self.T_hat_float), axis=0)
        with np.errstate(invalid="ignore"):
            spread = self.T_hat_float.max(axis=0) - self.T_hat_float.min(axis=0)
        return np.where(ok, spread, np.nan)

    def summary(self) -> str:
        lines = [f"dimensionless: {len(self.types)} neuron types, v̂_r = {self.v_reset_hat:g}, "
                 f"t̂_ref = {self.t_ref_hat:g}, dt = {self.dt / ms:g} ms",
                 f"{'type':>4} {'C pF':>6} {'g_L nS':>7} {'E_L mV':>7} {'V_th mV':>8} "
                 f"{'tau ms':>7} | {'v_lsb uV':>9} {'k_v':>4} {'v_th':>6} {'v_reset':>8} "
                 f"{'t_ref':>6}  bias per î"]
        for t, (C, g, E, V) in enumerate(self.types):
            lines.append(f"{t:>4} {C / pF:>6.0f} {g / nS:>7.0f} {E / mV:>7.0f} {V / mV:>8.0f} "
                         f"{self.tau_m[t] / ms:>7.0f} | {self.v_lsb[t] * 1e6:>9.4f} "
                         f"{int(self.k_v[t]):>4} {int(self.v_th[t]):>6} "
                         f"{int(self.v_reset[t]):>8} {int(self.t_ref[t]):>6}  "
                         + " ".join(str(int(b)) for b in self.bias[t]))
        lines += ["", f"{'î':>5} {'T̂ analytic':>11} " + " ".join(
            f"{f'float{t}':>7}" for t in range(len(self.types))) + "  " + " ".join(
            f"{f'core{t}':>7}" for t in range(len(self.types)))]
        for c, ih in enumerate(self.i_hat):
            lines.append(f"{ih:>5.3g} {self.T_hat[c]:>11.4f} " + " ".join(
                f"{x:>7.4f}" for x in self.T_hat_float[:, c]) + "  " + " ".join(
                f"{x:>7.4f}" for x in self.T_hat_core[:, c]))
        spread = self.collapse_spread
        lines += ["",
                  f"float collapse: largest spread of T̂ over the types {np.nanmax(spread):.4f} "
                  f"(one tick is {self.dt / self.tau_m.min():.4f} of the shortest tau_m)",
                  f"float vs analytic: (ISI_float - tau_m T̂)/dt in "
                  f"[{np.nanmin(self.float_excess_ticks):.3f}, "
                  f"{np.nanmax(self.float_excess_ticks):.3f}] ticks (theory: [0, 1))",
                  f"registers: v_th {sorted(set(self.v_th.tolist()))}, v_reset "
                  f"{sorted(set(self.v_reset.tolist()))} for every type"]
        for group, same in self.identical_rasters:
            lines.append(f"types {list(group)} (k_v = {int(self.k_v[group[0]])}): identical "
                         f"registers and spike rasters: {'yes' if same else 'NO'}")
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        plt = _fig()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
        markers = "osD^v"
        for t in range(len(self.types)):
            C, g, E, V = self.types[t]
            label = (f"C={C / pF:.0f} pF, g_L={g / nS:.0f} nS, E_L={E / mV:.0f}, "
                     f"V_th={V / mV:.0f} mV")
            ax1.plot(self.currents[t] / nA, self.rate_float[t], markers[t] + "-", ms=4, lw=0.8,
                     label=label)
            ok = np.isfinite(self.T_hat_float[t])
            ax2.plot(self.i_hat[ok], self.T_hat_float[t][ok], markers[t], mfc="none", ms=7,
                     color=f"C{t}", label="float reference" if t == 0 else None)
            ok = np.isfinite(self.T_hat_core[t])
            ax2.plot(self.i_hat[ok], self.T_hat_core[t][ok], "x", ms=5, color=f"C{t}",
                     label="core" if t == 0 else None)
        fine = np.linspace(1.02, self.i_hat.max(), 300)
        ax2.plot(fine, analytic.isi_dimensionless(fine, self.v_reset_hat, self.t_ref_hat),
                 "k-", lw=1, label="T̂ = t̂_ref + ln((î - v̂_r)/(î - 1))", zorder=0)
        ax1.set_xlabel("I (nA)")
        ax1.set_ylabel("rate (Hz)")
        ax1.set_title("physical units: five different f-I curves")
        ax1.legend(fontsize=6.5)
        ax2.set_xlabel("î = R I / (V_th - E_L)")
        ax2.set_ylabel("T̂ = ISI / tau_m")
        ax2.set_yscale("log")
        ax2.set_title("dimensionless: one curve (o float, x core)")
        ax2.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def dimensionless(*, dt: float = DT, duration: float = 1.0, types=NEURON_TYPES,
                  i_hat=I_HATS, v_reset_hat: float = 0.25, t_ref_hat: float = 0.125,
                  v_bits: int = 16) -> DimensionlessResult:
    """Neurons with different ``C, g_L, E_L, V_th`` (same ``v̂_r``, ``t̂_ref``) at the
    same dimensionless currents ``î``: one ``T̂(î)`` curve, and one register set.

    Each type is quantised with its own voltage scale (``quantise_groups``), which is
    what makes its registers the dimensionless form: ``v = v̂ · v_th``.
    """
    types = np.asarray(types, dtype=float)
    i_hat = np.asarray(i_hat, dtype=float)
    n_t, n_I = len(types), i_hat.size
    n = n_t * n_I
    C, g_L, E_L, V_th = (np.repeat(types[:, j], n_I) for j in range(4))
    gap = V_th - E_L
    tau = C / g_L
    p = LifPhysical(C=C, g_L=g_L, E_L=E_L, V_th=V_th, V_reset=E_L + v_reset_hat * gap,
                    T_ref=np.rint(t_ref_hat * tau / dt) * dt, I_bias=np.tile(i_hat, n_t) *
                    g_L * gap)
    ticks = round(duration / dt)
    T_hat = np.asarray(analytic.isi_dimensionless(i_hat, v_reset_hat, t_ref_hat))

    trace = simulate(p, dt, ticks, n=n)
    ints = _intervals(trace.spikes)
    rate = _steady_rate(ints, dt).reshape(n_t, n_I)
    lo, hi = _range(ints)
    tau_t = types[:, 0] / types[:, 1]
    with np.errstate(divide="ignore"):
        T_float = np.where(rate > 0, 1.0 / np.where(rate > 0, rate, 1) / tau_t[:, None],
                           np.inf)
    isi_a = (T_hat[None, :] * tau_t[:, None]).ravel()
    with np.errstate(invalid="ignore"):
        excess_lo = np.where(np.isfinite(hi), lo - isi_a / dt, np.nan)
        excess_hi = np.where(np.isfinite(hi), hi - isi_a / dt, np.nan)

    groups = [slice(t * n_I, (t + 1) * n_I) for t in range(n_t)]
    spec = _spec(n, v_bits)
    q = quantise_groups(p, dt, spec, groups)
    rec = Core(spec, q.params).run(ticks)
    c_ints = _intervals(rec.spikes)
    c_lo, c_hi = _range(c_ints)
    rate_core = _steady_rate(c_ints, dt).reshape(n_t, n_I)
    k_v = q.params.k_v.reshape(n_t, n_I)[:, 0]
    tau_eff = np.asarray(analytic.tau_eff(k_v, dt))
    with np.errstate(divide="ignore"):
        T_core = np.where(rate_core > 0, 1.0 / np.where(rate_core > 0, rate_core, 1) /
                          tau_eff[:, None], np.inf)
    b_lo, b_hi = integer_isi_bracket(q.params)
    identical = []
    for k in np.unique(k_v):
        members = tuple(int(t) for t in np.flatnonzero(k_v == k))
        first = rec.spikes[:, groups[members[0]]]
        same = all(np.array_equal(first, rec.spikes[:, groups[t]]) for t in members) and all(
            np.array_equal(q.params.take(groups[members[0]]).bias,
                           q.params.take(groups[t]).bias) for t in members)
        identical.append((members, same))
    reg = lambda x: np.asarray(x).reshape(n_t, n_I)
    return DimensionlessResult(
        dt=dt, v_reset_hat=v_reset_hat, t_ref_hat=t_ref_hat, i_hat=i_hat, types=types,
        tau_m=tau_t, currents=reg(p.I_bias), rate_float=rate, T_hat=T_hat,
        T_hat_float=T_float, T_hat_core=T_core,
        float_excess_ticks=np.stack([reg(excess_lo), reg(excess_hi)]),
        v_lsb=reg(q.scales.v_lsb)[:, 0], k_v=k_v, v_th=reg(q.params.v_th)[:, 0],
        v_reset=reg(q.params.v_reset)[:, 0], t_ref=reg(q.params.t_ref)[:, 0],
        bias=reg(q.params.bias), isi_core=reg(c_hi), isi_core_lo=reg(c_lo),
        bracket_lo=reg(b_lo), bracket_hi=reg(b_hi), identical_rasters=tuple(identical))


# ============================================================================== impedance

#: whole cycles of the drive in the fit window (4096 ticks): 0.98 Hz .. 1.95 kHz at 0.25 ms
IMPEDANCE_CYCLES = (1, 2, 3, 5, 8, 13, 20, 32, 50, 80, 128, 200, 320, 512, 800, 1280, 2000)
_DRIVE_BITS = 8  # the current is delivered as binary-weighted events: |i| <= 2^8 - 1


def _fit_amplitude(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Amplitude of the (cos θ, sin θ) part of a least-squares fit of each column of
    ``x`` (samples × neurons) to ``(cos θ, sin θ, 1)`` (``theta``: samples × neurons)."""
    out = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        basis = np.stack([np.cos(theta[:, j]), np.sin(theta[:, j]), np.ones(len(x))], axis=1)
        coef, *_ = np.linalg.lstsq(basis, x[:, j], rcond=None)
        out[j] = math.hypot(coef[0], coef[1])
    return out


def current_events(counts: np.ndarray) -> tuple[np.ndarray, SynapseMemory]:
    """A per-tick integer current ``counts`` (ticks × n, LSB of ``i``) as synaptic events.

    Neuron ``j`` gets ``2 · 8`` axons, ``16 j + 8 s + b`` with weight ``±1`` (``s = 0``:
    +, ``s = 1``: −) and row exponent ``b``; bit ``b`` of ``|counts|`` is one event on the
    axon of its sign. With ``k_i = 0`` the current register is the tick's ``acc``, i.e.
    exactly ``counts[k]``. Returns the event counts (ticks × 16 n) and the synapse memory.
    """
    counts = np.asarray(counts, dtype=np.int64)
    top = (1 << _DRIVE_BITS) - 1
    if np.abs(counts).max(initial=0) > top:
        raise ValueError(f"current of {int(np.abs(counts).max())} LSB per tick exceeds the "
                         f"{top} the binary event drive carries")
    ticks, n = counts.shape
    bits = np.arange(_DRIVE_BITS)
    pos = (np.maximum(counts, 0)[:, :, None] >> bits) & 1
    neg = (np.maximum(-counts, 0)[:, :, None] >> bits) & 1
    events = np.stack([pos, neg], axis=2).reshape(ticks, n * 2 * _DRIVE_BITS)
    axon = np.arange(n * 2 * _DRIVE_BITS)
    slot = axon // (2 * _DRIVE_BITS)
    sign = np.where((axon // _DRIVE_BITS) % 2 == 0, 1, -1)
    w_exp = axon % _DRIVE_BITS
    return events, SynapseMemory.from_lists(axon.size, axon, slot, sign, w_exp)


@dataclass(frozen=True)
class ImpedanceResult:
    """Subthreshold gain (relative to DC, i.e. ``|Z| / R``) per frequency.

    ``gain_discrete_asked`` is ``discrete_gain(ω, dt, e^{-dt/tau_m})`` (the float
    reference's exact response), ``gain_discrete_core[b]`` the same with the core's
    ``a = 1 - 2^-k_v``; ``bound[b]`` the largest ``|gain_core - gain_discrete_core|``
    the quantisation allows (``impedance`` docstring).
    """

    dt: float
    tau_m: float
    R: float
    window: int
    warmup: int
    amplitude: float           # A
    freqs: np.ndarray          # Hz
    v_bits: tuple
    gain_analytic: np.ndarray  # |Z(ω)| / R
    gain_discrete_asked: np.ndarray
    gain_float: np.ndarray     # float reference, parameters as asked, exact sinusoid
    gain_core: np.ndarray      # (n_bits, n_f)
    gain_realised: np.ndarray  # (n_bits, n_f) float reference, realised, same rounded input
    gain_discrete_core: np.ndarray  # (n_bits, n_f)
    k_v: np.ndarray            # (n_bits,)
    drive_lsb: np.ndarray      # (n_bits,) amplitude of the drive in LSB of i per tick
    bound: np.ndarray          # (n_bits,) absolute gain bound
    overflows: np.ndarray      # (n_bits,) register overflows of each core run
    spikes: np.ndarray         # (n_bits, n_f) spikes per neuron (0: stayed subthreshold)

    @property
    def core_error(self) -> np.ndarray:
        """``max |gain_core - gain_discrete_core|`` per membrane width over the neurons
        that stayed subthreshold (``nan`` if none did)."""
        err = np.where(self.spikes == 0, np.abs(self.gain_core - self.gain_discrete_core),
                       -np.inf)
        best = err.max(axis=1)
        return np.where(np.isfinite(best), best, np.nan)

    @property
    def corner(self) -> float:
        """``1 / (2 π tau_m)`` (Hz), where ``|Z| = R / √2``."""
        return 1.0 / (2 * math.pi * self.tau_m)

    def summary(self) -> str:
        lines = [f"impedance: sinusoidal current of {self.amplitude / nA:.3g} nA, tau_m "
                 f"{self.tau_m / ms:g} ms (corner {self.corner:.2f} Hz), dt = "
                 f"{self.dt / ms:g} ms, fit over {self.window} ticks after {self.warmup}",
                 f"{'f Hz':>8} {'|Z|/R':>8} {'disc.':>8} {'float':>8}" + "".join(
                     f" {f'core{b}':>8} {f'disc{b}':>8}" for b in self.v_bits)]
        for i, f in enumerate(self.freqs):
            lines.append(f"{f:>8.2f} {self.gain_analytic[i]:>8.5f} "
                         f"{self.gain_discrete_asked[i]:>8.5f} {self.gain_float[i]:>8.5f}" +
                         "".join(f" {self.gain_core[b, i]:>8.5f} "
                                 f"{self.gain_discrete_core[b, i]:>8.5f}"
                                 for b in range(len(self.v_bits))))
        lines.append("")
        rel = np.abs(self.gain_float / self.gain_discrete_asked - 1).max()
        lines.append(f"float reference vs discrete_gain: largest relative difference {rel:.2g}; "
                     f"vs |Z|/R: {np.abs(self.gain_float / self.gain_analytic - 1).max():.3g} "
                     f"(the per-tick filter is not the continuous one near Nyquist)")
        for b, bits in enumerate(self.v_bits):
            spiked = self.freqs[self.spikes[b] > 0]
            lines.append(f"{bits:>2}-bit core (k_v = {int(self.k_v[b])}, drive "
                         f"{self.drive_lsb[b]:.4g} LSB/tick): max |gain - discrete_gain| "
                         f"{self.core_error[b]:.3g}, bound {self.bound[b]:.3g} "
                         f"({'inside' if self.core_error[b] <= self.bound[b] else 'OUTSIDE'})"
                         + ("; fired (not subthreshold, left out) at "
                            + ", ".join(f"{f:.3g}" for f in spiked) + " Hz" if spiked.size
                            else ""))
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        plt = _fig()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
        fine = np.geomspace(self.freqs.min(), 0.5 / self.dt, 400)
        ax1.loglog(fine, 1 / np.sqrt(1 + (2 * np.pi * fine * self.tau_m) ** 2), "k-", lw=1,
                   label="|Z|/R = 1/√(1+(ωτ)²)")
        ax1.loglog(fine, analytic.discrete_gain(2 * np.pi * fine, self.dt,
                                                math.exp(-self.dt / self.tau_m)),
                   "k--", lw=1, label="discrete_gain (per-tick filter)")
        ax1.loglog(self.freqs, self.gain_float, "o", mfc="none", color="0.3",
                   label="float reference")
        for b, bits in enumerate(self.v_bits):
            ax1.loglog(self.freqs, np.maximum(self.gain_core[b], 1e-4), "x", color=f"C{b}",
                       label=f"core, {bits}-bit membrane")
            ax2.semilogx(self.freqs, self.gain_core[b] - self.gain_discrete_core[b], "x-",
                         color=f"C{b}", lw=0.8, label=f"{bits}-bit (bound ±{self.bound[b]:.2g})")
            ax2.axhline(self.bound[b], color=f"C{b}", lw=0.6, ls=":")
            ax2.axhline(-self.bound[b], color=f"C{b}", lw=0.6, ls=":")
        ax1.axvline(self.corner, color="0.7", lw=0.8)
        ax1.set_xlabel("frequency (Hz)")
        ax1.set_ylabel("gain |V| / (R |I|)")
        ax1.set_title("subthreshold gain: a low-pass filter")
        ax1.legend(fontsize=7)
        ax2.set_yscale("symlog", linthresh=1e-3)
        ax2.set_xlabel("frequency (Hz)")
        ax2.set_ylabel("core gain - discrete_gain(1 - 2^-k_v)")
        ax2.set_title("core vs the exact per-tick response (dotted: bounds)")
        ax2.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def impedance(*, dt: float = DT, window: int = 4096, cycles=IMPEDANCE_CYCLES,
              amplitude: float = 0.8, v_bits=(8, 12, 16), neuron: LifPhysical = BASE,
              warmup_taus: float = 20.0) -> ImpedanceResult:
    r"""Gain of the membrane for a sinusoidal current ``I_k = I_1 cos(ω k dt)`` (held over
    tick ``k``), one neuron per frequency; ``amplitude`` is ``I_1`` in units of the
    rheobase (below 1 the neuron never fires).

    Frequencies are ``m / (window dt)`` for the whole numbers of cycles ``m``, so that the
    fit window holds whole periods and ``cos, sin, 1`` are orthogonal on it: the fitted
    amplitude of a sequence ``x`` is then ``max_φ (2/N) Σ x_k cos(θ_k - φ)``, which is at
    most ``U - L`` for any ``x_k`` in ``[L, U]`` (remove the midpoint; ``|cos| <= 1``).

    On the core the current reaches ``v`` through the current register with ``k_i = 0``
    (``i`` = this tick's events, ``current_events``), rounded to ``c_k = round(I_k /
    i_lsb)``. In LSB, ``v`` is the ideal filter ``v' = a v + c`` (``a = 1 - 2^-k_v``)
    plus the floor error ``e_k`` in ``[0, 2^k_v - 1)`` (docs/error-bounds.md) plus the
    filtered rounding residual, in ``[-2^(k_v-1), 2^(k_v-1)]``. The ideal filter answers
    ``I_1 cos`` with amplitude ``2^k_v A_1 |H|``, ``A_1 = I_1 / i_lsb``,
    ``|H| = discrete_gain(ω, dt, a)``; so

        |gain_core - discrete_gain| <= (2^(k_v+1) - 1) / (2^k_v A_1) + a^W

    where ``a^W`` covers the start-up transient left after ``W`` warm-up ticks. The
    bound shrinks as ``1/A_1``: it is a statement about how many LSB the drive spans.
    """
    cycles = np.asarray(cycles, dtype=np.int64)
    if np.any(cycles < 1) or np.any(2 * cycles >= window):
        raise ValueError(f"cycles must be in 1..{window // 2 - 1} (below Nyquist)")
    n = cycles.size
    freqs = cycles / (window * dt)
    omega = 2 * np.pi * freqs
    p = neuron.broadcast(n)
    I1 = amplitude * float(analytic.rheobase(neuron))
    tau = float(neuron.tau_m)
    warmup = math.ceil(warmup_taus * tau / dt)
    ticks = warmup + window
    k = np.arange(ticks)
    drive = I1 * np.cos(omega[None, :] * k[:, None] * dt)             # (ticks, n) A
    theta = omega[None, :] * k[warmup:, None] * dt

    trace = simulate(p, dt, ticks, n=n, I_ext=drive)
    gain_float = _fit_amplitude(trace.V[warmup:] - p.E_L, theta) / (I1 * p.R)
    gain_discrete_asked = np.asarray(analytic.discrete_gain(omega, dt, math.exp(-dt / tau)))

    g_core, g_real, g_disc, k_vs, A1s, bounds, overflows, spikes = ([] for _ in range(8))
    for bits in v_bits:
        spec = _spec(n, bits, n_axons=n * 2 * _DRIVE_BITS)
        q = quantise(p, dt, spec, n=n)
        params = replace(q.params, k_i=np.zeros(n, dtype=np.int64))
        kv = int(q.params.k_v[0])
        i_lsb = float(q.scales.i_lsb[0])
        counts = np.rint(drive / i_lsb).astype(np.int64)
        events, synapses = current_events(counts)
        rec = Core(spec, params, synapses).run(ticks, events, record=("spikes", "v"))
        A1 = I1 / i_lsb
        g_core.append(_fit_amplitude(rec["v"][warmup:].astype(float), theta) / (2 ** kv * A1))
        real = simulate(q.realised, dt, ticks, n=n, I_ext=counts * i_lsb)
        g_real.append(_fit_amplitude((real.V[warmup:] - p.E_L) / q.scales.v_lsb, theta)
                      / (2 ** kv * A1))
        a = 1.0 - 2.0 ** -kv
        g_disc.append(np.asarray(analytic.discrete_gain(omega, dt, a)))
        k_vs.append(kv)
        A1s.append(A1)
        bounds.append((2.0 ** (kv + 1) - 1) / (2 ** kv * A1) + a ** warmup)
        overflows.append(sum(rec.overflow.values()))
        spikes.append(rec.spikes.sum(axis=0))
    gain_analytic = np.asarray(analytic.impedance_magnitude(neuron, omega)) / float(neuron.R)
    return ImpedanceResult(
        dt=dt, tau_m=tau, R=float(neuron.R), window=window, warmup=warmup, amplitude=I1,
        freqs=freqs, v_bits=tuple(v_bits), gain_analytic=gain_analytic,
        gain_discrete_asked=gain_discrete_asked, gain_float=gain_float,
        gain_core=np.array(g_core), gain_realised=np.array(g_real),
        gain_discrete_core=np.array(g_disc), k_v=np.array(k_vs), drive_lsb=np.array(A1s),
        bound=np.array(bounds), overflows=np.array(overflows), spikes=np.array(spikes))


# ============================================================================= adaptation

def _bisect(f, lo: np.ndarray, hi: np.ndarray, iterations: int = 64) -> np.ndarray:
    """Root of ``f`` (increasing, elementwise) with ``f(lo) <= 0 < f(hi)``."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        up = f(mid) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def _grow(f, base: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``base + scale 2^j`` for the smallest ``j >= 0`` (per element) with ``f > 0``."""
    hi = base + scale
    for _ in range(200):
        bad = ~(f(hi) > 0)
        if not bad.any():
            return hi
        hi = np.where(bad, base + 2 * (hi - base), hi)
    raise RuntimeError("no upper bracket")


def adaptation_steady_isi(p: LifPhysical, I=0.0) -> np.ndarray:
    r"""Steady-state ISI (s) of the LIF with an adaptive threshold under a DC current
    (``I`` on top of ``p.I_bias``), in continuous time; ``inf`` where it never fires.

    After a spike ``V`` is held at ``V_reset`` for ``T_ref`` and then relaxes towards
    ``V_inf = E_L + R I``; the threshold offset decays from its value ``Θ+`` just after
    the spike, ``Θ(t) = Θ+ e^{-t/tau_theta}``. The next spike comes at the root ``t_c(Θ+)``
    of ``V(t) = V_th + Θ(t)`` (``V`` rises and ``Θ`` falls, so there is one). In the
    periodic state the offset before a spike, ``Θ+ - alpha``, is ``Θ+ e^{-T/tau_theta}``:

        Θ+ = alpha / (1 - e^{-T/tau_theta}),        T = t_c(Θ+(T))

    ``T - t_c(Θ+(T))`` increases with ``T`` (a longer ISI leaves a lower offset, hence an
    earlier crossing), so the fixed point is unique; both equations are solved by
    bisection. With ``alpha = 0`` this is ``analytic.isi``. Reset ``"value"`` only.
    """
    modes = np.atleast_1d(np.asarray(p.reset))
    if np.any(modes != "value"):
        raise ValueError("adaptation_steady_isi models reset 'value' only")
    n = max(p.n or 1, np.size(I))
    q = p.broadcast(n)
    u_inf = q.R * (np.broadcast_to(np.asarray(I, dtype=float), (n,)) + q.I_bias)
    gap, u_r = q.V_th - q.E_L, q.V_reset - q.E_L
    tau, tau_th, t_ref, alpha = q.tau_m, q.tau_theta, q.T_ref, q.alpha
    fires = u_inf > gap
    out = np.full(n, np.inf)
    if not fires.any():
        return out
    u_inf, gap, u_r, tau, tau_th, t_ref, alpha = (x[fires] for x in (
        u_inf, gap, u_r, tau, tau_th, t_ref, alpha))

    def crossing(theta_plus):
        def g(t):
            return (u_inf + (u_r - u_inf) * np.exp(-(t - t_ref) / tau) - gap
                    - theta_plus * np.exp(-t / tau_th))
        hi = _grow(g, t_ref, tau)
        return _bisect(g, t_ref.copy(), hi)

    def h(T):
        return T - crossing(alpha / -np.expm1(-T / tau_th))

    lo = crossing(alpha)
    hi = _grow(h, lo, tau)
    out[fires] = _bisect(h, lo, hi)
    return out


ALPHAS = (0.0, 2 * mV, 8 * mV, 32 * mV)
TAU_THETAS = (16 * ms, 128 * ms, 1024 * ms)


@dataclass(frozen=True)
class AdaptationResult:
    """ISI sequences (ticks) per (alpha, tau_theta) under one DC current.

    Neuron ``a * len(tau_thetas) + t`` has ``alphas[a]`` and ``tau_thetas[t]``.
    ``isi_core[b][j]`` are the intervals of neuron ``j`` on the core with membrane width
    ``v_bits[b]``; ``isi_float[j]`` on the float reference with the parameters as asked;
    ``steady_analytic`` is ``adaptation_steady_isi`` of those parameters.
    """

    dt: float
    duration: float
    current: float             # A
    ratio: float               # current / rheobase
    alphas: np.ndarray         # V
    tau_thetas: np.ndarray     # s
    v_bits: tuple
    isi_core: tuple            # per width, per neuron: intervals in ticks
    isi_float: tuple           # per neuron: intervals in ticks
    spikes_core: np.ndarray    # (ticks, n) bool, the first width
    steady_analytic: np.ndarray  # (n,) s
    v_lsb: np.ndarray          # (n_bits,) V
    alpha_register: np.ndarray   # (n_bits, n)
    k_theta: np.ndarray          # (n,)
    theta_stall: np.ndarray      # (n_bits, n) V: (2^k_theta - 1) v_lsb, the floor error bound
    overflows: np.ndarray        # (n_bits,)

    def _grid(self, values) -> np.ndarray:
        return np.asarray(values, dtype=float).reshape(len(self.alphas), len(self.tau_thetas))

    @staticmethod
    def _pick(seqs, which: int, dt: float) -> list:
        return [x[which] * dt if x.size else np.inf for x in seqs]

    def first_isi(self, b: int = 0) -> np.ndarray:
        """First ISI (s) on core ``b`` per (alpha, tau_theta)."""
        return self._grid(self._pick(self.isi_core[b], 0, self.dt))

    def last_isi(self, b: int = 0) -> np.ndarray:
        """Last ISI (s) on core ``b`` per (alpha, tau_theta)."""
        return self._grid(self._pick(self.isi_core[b], -1, self.dt))

    @property
    def float_last_isi(self) -> np.ndarray:
        return self._grid(self._pick(self.isi_float, -1, self.dt))

    def adaptation_index(self, b: int = 0) -> np.ndarray:
        """``(ISI_last - ISI_first) / (ISI_last + ISI_first)`` on core ``b``: 0 tonic,
        towards 1 phasic."""
        first, last = self.first_isi(b), self.last_isi(b)
        return (last - first) / (last + first)

    def counts(self, b: int = 0) -> np.ndarray:
        return self._grid([x.size + 1 if x.size else 0 for x in self.isi_core[b]])

    def summary(self) -> str:
        lines = [f"adaptation: DC current {self.current / nA:.3g} nA ({self.ratio:g} x "
                 f"rheobase) from t = 0, {self.duration:g} s, dt = {self.dt / ms:g} ms; ISIs in "
                 f"ms; A = (ISI_last - ISI_1)/(ISI_last + ISI_1)"]
        for b, bits in enumerate(self.v_bits):
            lines.append(f"  {bits}-bit core: v_lsb {self.v_lsb[b] * 1e6:.4g} uV, floor stall "
                         f"of theta up to (2^k_theta - 1) LSB = "
                         + ", ".join(f"{s / mV:.3g}" for s in
                                     np.unique(self.theta_stall[b])) + " mV")
        head = (f"{'alpha mV':>8} {'tau_th ms':>9} {'theory':>8} {'float':>8}" + "".join(
            f" | {f'spikes{b}':>8} {f'ISI1_{b}':>7} {f'last{b}':>8} {f'A{b}':>6}"
            for b in self.v_bits))
        lines.append(head)
        steady, fl = self._grid(self.steady_analytic), self.float_last_isi
        for a, alpha in enumerate(self.alphas):
            for t, tau in enumerate(self.tau_thetas):
                row = (f"{alpha / mV:>8g} {tau / ms:>9g} {steady[a, t] / ms:>8.2f} "
                       f"{fl[a, t] / ms:>8.2f}")
                for b in range(len(self.v_bits)):
                    row += (f" | {int(self.counts(b)[a, t]):>8} "
                            f"{self.first_isi(b)[a, t] / ms:>7.2f} "
                            f"{self.last_isi(b)[a, t] / ms:>8.2f} "
                            f"{self.adaptation_index(b)[a, t]:>6.3f}")
                lines.append(row)
        lines.append("(theory: adaptation_steady_isi; float/last: the last ISI of the run)")
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        plt = _fig()
        n_a, n_t = len(self.alphas), len(self.tau_thetas)
        fig, axes = plt.subplots(1, 1 + n_t, figsize=(4 * (1 + n_t), 4.8),
                                 gridspec_kw={"width_ratios": [1.4] + [1] * n_t})
        ax = axes[0]
        t_ms = (np.arange(self.spikes_core.shape[0]) + 1) * self.dt / ms
        labels = []
        for j in range(self.spikes_core.shape[1]):
            a, t = divmod(j, n_t)
            ax.vlines(t_ms[self.spikes_core[:, j]], j + 0.1, j + 0.9, color=f"C{a}", lw=0.8)
            labels.append(f"α={self.alphas[a] / mV:g} mV, τθ={self.tau_thetas[t] / ms:g} ms")
        ax.set_yticks(np.arange(len(labels)) + 0.5)
        ax.set_yticklabels(labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, min(t_ms[-1], 400))
        ax.set_xlabel("time (ms)")
        ax.set_title(f"{self.v_bits[0]}-bit core: tonic (top) to phasic", fontsize=10)
        marks = "x.+"
        for t in range(n_t):
            ax = axes[1 + t]
            for a in range(n_a):
                j = a * n_t + t
                isi = self.isi_float[j] * self.dt / ms
                ax.plot(np.arange(1, isi.size + 1), isi, "-", color=f"C{a}", lw=1,
                        label=f"α={self.alphas[a] / mV:g} mV float" if t == 0 else None)
                for b, bits in enumerate(self.v_bits):
                    isi = self.isi_core[b][j] * self.dt / ms
                    ax.plot(np.arange(1, isi.size + 1), isi, marks[b % 3], color=f"C{a}",
                            ms=4, label=f"{bits}-bit core" if (t == 0 and a == 0) else None)
                ax.axhline(self.steady_analytic[j] / ms, color=f"C{a}", ls=":", lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("interval number")
            ax.set_title(f"τθ = {self.tau_thetas[t] / ms:g} ms (dotted: steady theory)",
                         fontsize=10)
            if t == 0:
                ax.set_ylabel("ISI (ms)")
                ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def adaptation(*, dt: float = DT, duration: float = 2.0, ratio: float = 3.0,
               alphas=ALPHAS, tau_thetas=TAU_THETAS, T_ref: float = 2 * ms,
               neuron: LifPhysical = BASE, v_bits=(16, 24)) -> AdaptationResult:
    """Spike-frequency adaptation by a dynamic threshold under a DC step at ``t = 0``.

    One neuron per (alpha, tau_theta), on one core per membrane width (``theta_bits =
    v_bits``). The voltage scale leaves room for ``V_inf`` (a raised threshold can hold
    the membrane up to it): ``v_lsb = 2 R I / (2^(v_bits-1) - 1)``.
    """
    alphas = np.asarray(alphas, dtype=float)
    tau_thetas = np.asarray(tau_thetas, dtype=float)
    n = alphas.size * tau_thetas.size
    current = ratio * float(analytic.rheobase(neuron))
    p = replace(neuron, T_ref=T_ref, I_bias=current, alpha=np.repeat(alphas, tau_thetas.size),
                tau_theta=np.tile(tau_thetas, alphas.size)).broadcast(n)
    ticks = round(duration / dt)
    isi_core, v_lsbs, alpha_reg, stall, overflows = [], [], [], [], []
    first_spikes = None
    for bits in v_bits:
        v_lsb = 2 * float(neuron.R) * current / ((1 << (bits - 1)) - 1)
        spec = _spec(n, bits)
        q = quantise(p, dt, spec, n=n, v_lsb=v_lsb)
        rec = Core(spec, q.params).run(ticks)
        first_spikes = rec.spikes if first_spikes is None else first_spikes
        isi_core.append(tuple(_intervals(rec.spikes)))
        v_lsbs.append(v_lsb)
        alpha_reg.append(q.params.alpha.copy())
        stall.append((np.exp2(q.params.k_theta) - 1) * v_lsb)
        overflows.append(int(sum(rec.overflow.values())))
        k_theta = q.params.k_theta.copy()
    trace = simulate(p, dt, ticks, n=n)
    return AdaptationResult(
        dt=dt, duration=duration, current=current, ratio=ratio, alphas=alphas,
        tau_thetas=tau_thetas, v_bits=tuple(v_bits), isi_core=tuple(isi_core),
        isi_float=tuple(_intervals(trace.spikes)), spikes_core=first_spikes,
        steady_analytic=adaptation_steady_isi(p), v_lsb=np.array(v_lsbs),
        alpha_register=np.array(alpha_reg), k_theta=k_theta, theta_stall=np.array(stall),
        overflows=np.array(overflows))


# ================================================================================= jitter

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
    n = max(p.n or 1, np.size(I))
    q = p.broadcast(n)
    u_inf = q.R * (np.broadcast_to(np.asarray(I, dtype=float), (n,)) + q.I_bias)
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
        plt = _fig()
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
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
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("spike-time jitter σ_t (ms)")
            ax.legend(fontsize=7)
        ax1.set_title(f"against noise (I = {self.ratios[self.sweep == 'sigma'][0]:g} I_rh)")
        ax2.set_title(f"against slope (σ_V∞ = "
                      f"{self.sigma_v_inf[self.sweep == 'slope'][0] / mV:g} mV)")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


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
    spec = _spec(n, v_bits)
    q = quantise(p, dt, spec, n=n)
    raw = Core(spec, q.params).run(ticks)
    rec = Core(spec, compensate_noise_mean(q.params)).run(ticks)
    trace = simulate(q.realised, dt, ticks, n=n, seed=seed)
    pred = jitter_prediction(q.realised, dt)
    first = np.arange(n_c) * trials

    def pooled(spikes):
        ints = _intervals(spikes)
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


# ========================================================================= nonlinear-leak

#: the QIF of the experiment: rest -70 mV, unstable point -50 mV (ΔV = 20 mV), the same
#: C and g_L at rest as ``BASE`` (tau_m = 16 ms), spikes cut at -30 mV, reset to rest
QIF_BASE = QifPhysical(C=160 * pF, g_L=10 * nS, E_L=-70 * mV, V_c=-50 * mV,
                       V_peak=-30 * mV, V_reset=-70 * mV)
#: where the QIF settles relative to the operating point (mV): near and far, both sides
NL_DISPLACEMENTS = (-16.0, -8.0, -4.0, -2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0)
#: current steps beyond the saddle-node (multiples of it): the QIF fires, the LIF cannot
NL_SUPRA = (1.5, 3.0)


@dataclass(frozen=True)
class NonlinearLeakResult:
    r"""QIF (float, core) against the LIF that linearises it at ``V0``, per current step.

    Every neuron starts at ``V0`` with the holding current ``I0`` plus its step ``dI``;
    ``x`` is where the QIF settles relative to ``V0`` (its exact fixed point), ``x_lin =
    dI / g_eff`` where the LIF does, and ``predicted = c x² / g_eff`` their difference
    (``Linearisation``). ``final_*`` are membranes (V) after ``duration``; ``trace_*``
    the whole runs (V, ``(ticks, n)``); ``core_*`` per membrane width, with
    ``realised_*`` the float QIF of the parameters each core realises and ``bound_*``
    the interval of ``core - float(realised)`` (LSB, ``quantiser.error_interval``).
    """

    neuron: QifPhysical
    lin: Linearisation
    dt: float
    duration: float
    dI: np.ndarray              # (n,) A, step on top of I0
    x: np.ndarray               # (n,) V, QIF fixed point - V0 (nan: none, it fires)
    x_lin: np.ndarray           # (n,) V
    predicted: np.ndarray       # (n,) V, c x² / g_eff
    sub_max: np.ndarray         # (n,) V, c max_t (V_qif - V0)² / g_eff over the run
    trace_qif: np.ndarray       # (ticks, n) V, float QIF (asked)
    trace_lif: np.ndarray       # (ticks, n) V, float LIF (Euler, the same dt)
    spikes_qif: np.ndarray      # (n,) spike counts of the float QIF
    first_spike_qif: np.ndarray  # (n,) tick of its first spike (ticks: none)
    isi_qif: np.ndarray         # (n,) ticks, last ISI of the float QIF (nan: < 2 spikes)
    isi_theory: np.ndarray      # (n,) s, continuous-time ISI (inf below the saddle-node)
    v_bits: tuple
    trace_core: np.ndarray      # (n_bits, ticks, n) V
    trace_realised: np.ndarray  # (n_bits, ticks, n) V
    spikes_core: np.ndarray     # (n_bits, n)
    v_lsb: np.ndarray           # (n_bits,) V
    k_q: np.ndarray             # (n_bits,)
    v_c: np.ndarray             # (n_bits,) register
    bias: np.ndarray            # (n_bits, n) register
    bound_lo: np.ndarray        # (n_bits, ticks, n) LSB (nan after a spike)
    bound_hi: np.ndarray
    overflows: np.ndarray       # (n_bits,)

    @property
    def subthreshold(self) -> np.ndarray:
        return np.isfinite(self.x)

    @property
    def final_error(self) -> np.ndarray:
        """QIF minus LIF membrane at the end of the run (V)."""
        return self.trace_qif[-1] - self.trace_lif[-1]

    def core_error(self, b: int) -> np.ndarray:
        """Core minus float QIF (asked parameters) at the end of the run (V)."""
        return self.trace_core[b, -1] - self.trace_qif[-1]

    def inside_bound(self, b: int, tol: float = 1e-6) -> bool:
        """Whether ``core - float(realised)`` stayed inside ``bound_*`` at every tick where
        the bound is defined (no spike yet)."""
        e = (self.trace_core[b] - self.trace_realised[b]) / self.v_lsb[b]
        ok = np.isfinite(self.bound_lo[b])
        return bool(np.all((e[ok] >= self.bound_lo[b][ok] - tol)
                           & (e[ok] <= self.bound_hi[b][ok] + tol)))

    def crossover(self, b: int) -> float:
        """Distance |x| (V) at which the linearisation's steady error ``c x² / g_eff``
        equals the core's largest steady error from the QIF float (its arithmetic floor)."""
        sub = self.subthreshold
        floor = float(np.max(np.abs(self.core_error(b)[sub])))
        return math.sqrt(floor * self.lin.g_eff / self.lin.curvature)

    def summary(self) -> str:
        lin, p = self.lin, self.neuron
        sn = lin.g_eff ** 2 / (4 * lin.curvature)
        lines = [
            f"nonlinear-leak: QIF C dV/dt = (g_L/ΔV)(V - E_L)(V - V_c) + I, E_L "
            f"{float(p.E_L) / mV:g} mV, V_c {float(p.V_c) / mV:g} mV, g_L {float(p.g_L) / nS:g} "
            f"nS, C {float(p.C) / pF:g} pF; dt = {self.dt / ms:g} ms, {self.duration:g} s",
            f"operating point V0 = {lin.V0 / mV:g} mV (midpoint V_m = {float(p.V_m) / mV:g} mV): "
            f"holding current I0 = {lin.I0 / pA:.4g} pA; linearised LIF g_eff = "
            f"{lin.g_eff / nS:.4g} nS, E_eff = {lin.E_eff / mV:.4g} mV, tau_eff = "
            f"{lin.tau_eff / ms:.4g} ms; saddle-node at dI = {sn / pA:.4g} pA",
            "steady state: QIF x = V* - V0 vs LIF x_lin = dI/g_eff; error = QIF - LIF, "
            "predicted c x²/g_eff (mV)",
            f"{'dI pA':>8} {'x mV':>8} {'x_lin':>8} {'predicted':>9} {'measured':>9} "
            f"{'rel err':>8}" + "".join(f" {f'core{b}-QIF':>11}" for b in self.v_bits)]
        for j in range(self.dI.size):
            if self.subthreshold[j]:
                lines.append(
                    f"{self.dI[j] / pA:>8.4g} {self.x[j] / mV:>8.3f} {self.x_lin[j] / mV:>8.3f} "
                    f"{self.predicted[j] / mV:>9.4f} {self.final_error[j] / mV:>9.4f} "
                    f"{self.predicted[j] / abs(self.x[j]):>8.3f}"
                    + "".join(f" {self.core_error(b)[j] / mV:>11.4f}"
                              for b in range(len(self.v_bits))))
            else:
                cores = ", ".join(f"core{bits} {int(self.spikes_core[b, j])}"
                                  for b, bits in enumerate(self.v_bits))
                lines.append(
                    f"{self.dI[j] / pA:>8.4g}  QIF fires: {int(self.spikes_qif[j])} spikes (float"
                    f"), {cores}; ISI {self.isi_qif[j] * self.dt / ms:.2f} ms (theory "
                    f"{self.isi_theory[j] / ms:.2f} ms); LIF settles at x_lin = "
                    f"{self.x_lin[j] / mV:.3f} mV")
        sub = self.subthreshold
        ratio = self.final_error[sub] / self.predicted[sub]
        lines += ["", f"measured / predicted steady error: {ratio.min():.5f} .. {ratio.max():.5f}"
                      f" (|x| >= {np.min(np.abs(self.x[sub])) / mV:g} mV)"]
        for b, bits in enumerate(self.v_bits):
            lines.append(
                f"{bits:>2}-bit core: v_lsb {self.v_lsb[b] * 1e6:.4g} uV, k_q {int(self.k_q[b])}, "
                f"v_c {int(self.v_c[b])}, bias LSB {float(self.lin.C * self.v_lsb[b] / self.dt) / pA:.3g}"
                f" pA; largest steady |core - QIF| {np.max(np.abs(self.core_error(b)[sub])) / mV:.4g}"
                f" mV = the linearisation's error at |x| = {self.crossover(b) / mV:.3g} mV; "
                f"core vs float(realised) inside the error interval: "
                f"{'yes' if self.inside_bound(b) else 'NO'}; overflows {int(self.overflows[b])}")
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        plt = _fig()
        lin, p = self.lin, self.neuron
        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 4.2))
        V = np.linspace(float(p.E_L) - 20 * mV, float(p.V_c) + 5 * mV, 300)
        ax1.plot(V / mV, -p.leak(V) / pA, "k-", lw=1.2, label="QIF: -F(V)")
        ax1.plot(V / mV, lin.g_eff * (V - lin.E_eff) / pA, "C1--", lw=1,
                 label=f"LIF: g_eff (V - E_eff), g_eff = {lin.g_eff / nS:.3g} nS")
        ax1.axvline(lin.V0 / mV, color="0.6", lw=0.8)
        ax1.axhline(lin.I0 / pA, color="0.6", lw=0.8, ls=":")
        ax1.plot(lin.V0 / mV, lin.I0 / pA, "ko")
        ax1.set_xlabel("V (mV)")
        ax1.set_ylabel("current to hold V (pA)")
        ax1.set_title(f"the leak and its tangent at V0 = {lin.V0 / mV:g} mV", fontsize=9)
        ax1.legend(fontsize=7)
        ticks = min(self.trace_qif.shape[0], round(0.6 / self.dt))
        t = (np.arange(ticks) + 1) * self.dt / ms
        near = lambda target: int(np.nanargmin(np.abs(np.where(self.subthreshold, self.x,
                                                               np.nan) - target)))
        show = [near(1 * mV), near(4 * mV), near(-8 * mV)] + list(
            np.flatnonzero(~self.subthreshold)[:1])
        for c, j in enumerate(show):
            what = (f"x = {self.x[j] / mV:.3g} mV" if self.subthreshold[j] else
                    f"dI = {self.dI[j] / pA:.3g} pA (fires)")
            ax2.plot(t, self.trace_qif[:ticks, j] / mV, color=f"C{c}", lw=1.2,
                     label=f"QIF, {what}")
            ax2.plot(t, self.trace_lif[:ticks, j] / mV, color=f"C{c}", lw=1, ls="--")
            ax2.plot(t[::40], self.trace_core[0, :ticks:40, j] / mV, "x", color=f"C{c}", ms=3)
        ax2.axhline(lin.V0 / mV, color="0.6", lw=0.8)
        ax2.set_xlabel("time (ms)")
        ax2.set_ylabel("V (mV)")
        ax2.set_title(f"step responses: QIF float (line), LIF (dashed), "
                      f"{self.v_bits[0]}-bit core (x)", fontsize=9)
        ax2.legend(fontsize=7)
        sub = self.subthreshold
        ax = np.abs(self.x[sub]) / mV
        order = np.argsort(ax)
        for sign, marker in ((1, "o"), (-1, "s")):
            sel = np.sign(self.x[sub]) == sign
            ax3.plot(ax[sel], np.abs(self.final_error[sub][sel]) / mV, marker, mfc="none",
                     color="k", label=f"|QIF - LIF|, x {'>' if sign > 0 else '<'} 0")
        ax3.plot(ax[order], self.predicted[sub][order] / mV, "k-", lw=1,
                 label="c x² / g_eff")
        for b, bits in enumerate(self.v_bits):
            ax3.plot(ax, np.abs(self.core_error(b)[sub]) / mV, "x", color=f"C{b + 2}",
                     label=f"|core{bits} - QIF float|")
        ax3.set_xscale("log")
        ax3.set_yscale("log")
        ax3.set_xlabel("|x| = |V* - V0| (mV)")
        ax3.set_ylabel("steady-state error (mV)")
        ax3.set_title("error of the linearisation against distance", fontsize=9)
        ax3.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)


def nonlinear_leak(*, dt: float = DT, duration: float = 2.0, V0: float = -65 * mV,
                   displacements=NL_DISPLACEMENTS, supra=NL_SUPRA, v_bits=(16, 24),
                   neuron: QifPhysical = QIF_BASE) -> NonlinearLeakResult:
    """The QIF ``neuron`` held at ``V0`` and stepped to settle ``displacements`` (mV) away,
    plus steps ``supra`` × the saddle-node current (it fires), on the float QIF, on cores
    of ``v_bits`` membranes and on the LIF that linearises it at ``V0`` (all from ``V0``).

    The float QIF and the LIF both use forward Euler on the same ``dt``, so their
    difference obeys ``e' = (1 - dt g_eff / C) e + (dt / C) c (V_qif - V0)²`` exactly:
    from ``e = 0`` it stays in ``[0, c max (V_qif - V0)² / g_eff]`` and settles at
    ``c x² / g_eff`` (``sub_max`` and ``predicted``).
    """
    lin = neuron.linearise(V0)
    c = lin.curvature
    x = np.asarray(displacements, dtype=float) * mV
    sn = lin.g_eff ** 2 / (4 * c)
    dI = np.concatenate([lin.g_eff * x - c * x ** 2, np.asarray(supra, dtype=float) * sn])
    n = dI.size
    ticks = round(duration / dt)
    p = neuron.replace(I_bias=float(np.asarray(neuron.I_bias)) + lin.I0 + dI)
    qif = simulate_qif(p, dt, ticks, n=n, V0=V0)
    lif = simulate(lin.lif(I_bias=lin.I0 + dI), dt, ticks, n=n, method="euler", V0=V0)
    x_fixed = lin.qif_displacement(dI)
    ints = _intervals(qif.spikes)
    traces, realised, spikes, lsbs, kq, vc, bias, los, his, overflows = ([] for _ in range(10))
    for bits in v_bits:
        spec = _spec(n, bits)
        q = quantise_qif(p, dt, spec, n=n)
        core = Core(spec, q.params, model=QIF)
        v0 = np.rint(q.scales.lsb(V0)).astype(np.int64)
        core.state = QifState(np.zeros(n, np.int64), v0, np.zeros(n, np.int64))
        rec = core.run(ticks, record=("spikes", "v"), backend="numpy")
        real = simulate_qif(q.realised, dt, ticks, n=n, V0=q.scales.volts(v0))
        u = np.vstack([v0[None].astype(float), q.scales.lsb(real.V)])
        lo, hi = np.zeros((ticks, n)), np.zeros((ticks, n))
        a, b_ = np.zeros(n), np.zeros(n)
        alive = np.ones(n, dtype=bool)
        for k in range(ticks):
            a, b_ = qif_error_interval(a, b_, u[k], q.params, spec.rounding)
            alive &= ~real.spikes[k] & ~rec.spikes[k]
            lo[k] = np.where(alive, a, np.nan)
            hi[k] = np.where(alive, b_, np.nan)
        traces.append(q.scales.volts(rec["v"]))
        realised.append(real.V)
        spikes.append(rec.spikes.sum(axis=0))
        lsbs.append(float(q.scales.v_lsb[0]))
        kq.append(int(q.params.k_q[0]))
        vc.append(int(q.params.v_c[0]))
        bias.append(q.params.bias.copy())
        los.append(lo)
        his.append(hi)
        overflows.append(sum(rec.overflow.values()))
    dev = qif.V - V0
    return NonlinearLeakResult(
        neuron=neuron, lin=lin, dt=dt, duration=duration, dI=dI, x=x_fixed, x_lin=dI / lin.g_eff,
        predicted=lin.steady_error(x_fixed),
        sub_max=c * np.max(dev ** 2, axis=0) / lin.g_eff, trace_qif=qif.V, trace_lif=lif.V,
        spikes_qif=qif.spikes.sum(axis=0),
        first_spike_qif=np.where(qif.spikes.any(axis=0), np.argmax(qif.spikes, axis=0), ticks),
        isi_qif=np.array([float(i[-1]) if i.size else np.nan for i in ints]),
        isi_theory=np.asarray(p.isi(0.0), dtype=float), v_bits=tuple(v_bits),
        trace_core=np.array(traces), trace_realised=np.array(realised),
        spikes_core=np.array(spikes), v_lsb=np.array(lsbs), k_q=np.array(kq), v_c=np.array(vc),
        bias=np.array(bias), bound_lo=np.array(los), bound_hi=np.array(his),
        overflows=np.array(overflows))


# ============================================================================ registry

#: command-line name -> experiment function (each returns a result with ``summary()``
#: and ``plot(path)``)
EXPERIMENTS = {
    "fi-curve": fi_curve,
    "dimensionless": dimensionless,
    "impedance": impedance,
    "adaptation": adaptation,
    "jitter": jitter,
    "nonlinear-leak": nonlinear_leak,
}

#: ideas of the seed text without an experiment here, and why (none left)
LEFT_OUT: dict[str, str] = {}


def output_path(name: str, out_dir: str = ".") -> str:
    """Where ``run_experiment`` writes the plot of ``name``: ``out_dir/NAME.png``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return os.path.join(out_dir, f"{name}.png")


def run_experiment(name: str, out_dir: str = ".", *, force: bool = False, quiet: bool = False,
                   **options):
    """Run experiment ``name`` (``options`` go to its function), write its plot to
    ``out_dir/NAME.png`` (``out_dir`` is created; an existing plot is kept and
    ``FileExistsError`` raised unless ``force``) and, unless ``quiet``, print its numbers
    and the plot's path. Returns ``(result, path)``."""
    path = output_path(name, out_dir)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it or --out to "
                              f"choose another folder")
    result = EXPERIMENTS[name](**options)
    os.makedirs(out_dir or ".", exist_ok=True)
    result.plot(path)
    if not quiet:
        print(result.summary())
        print(f"plot: {os.path.abspath(path)}")
    return result, path
