"""``fi-curve``: rate against DC current, core (8/12/16-bit membrane) vs float reference
vs ``analytic.rate``, for several refractory periods (docs/experiments.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from firmware_models.lif import analytic
from firmware_models.lif.quantiser import quantise
from firmware_models.lif.reference import LifPhysical, simulate

from ...hardware.core import Core
from ..figures import new_figure, save
from .common import (BASE, DT, core_spec, integer_isi_bracket, interval_range, label_axes, mV, ms,
                     nA, spike_intervals, steady_rate)


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
        """Write ``figure()`` to ``path`` (PNG)."""
        save(self.figure(), path)

    def figure(self):
        """The experiment's figure (a ``matplotlib.figure.Figure``)."""
        nb = len(self.v_bits)
        fig, axes = new_figure(2, nb, figsize=(4.2 * nb, 7), sharex=True,
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
            label_axes(ax, "I / rheobase", "ISI - analytic ISI (ticks)")
        fig.suptitle(f"f-I curve: core (x) vs float reference (o) vs analytic (line), "
                     f"dt = {self.dt / ms:g} ms. Below: ISI error in ticks (the refractory "
                     f"periods overlap); grey band: the float's one-tick bound", fontsize=10)
        return fig


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

    asked = spike_intervals(simulate(p, dt, ticks, n=n).spikes)
    f_lo, f_hi = interval_range(asked)
    rates_core, rates_real, c_lo, c_hi, r_lo, r_hi, b_lo, b_hi = ([] for _ in range(8))
    v_lsb, v_th_reg, bias_reg, overflows = [], [], [], []
    k_v = None
    for bits in v_bits:
        q = quantise(p, dt, core_spec(n, bits), n=n)
        core = Core(core_spec(n, bits), q.params)
        rec = core.run(ticks)
        ints = spike_intervals(rec.spikes)
        lo, hi = interval_range(ints)
        rates_core.append(steady_rate(ints, dt))
        c_lo.append(lo)
        c_hi.append(hi)
        real = spike_intervals(simulate(q.realised, dt, ticks, n=n).spikes)
        rates_real.append(steady_rate(real, dt))
        lo, hi = interval_range(real)
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
        rate_float=steady_rate(asked, dt).reshape(shape), rate_core=stack(rates_core),
        rate_realised=stack(rates_real), isi_analytic=isi_a, isi_float_lo=f_lo.reshape(shape),
        isi_float_hi=f_hi.reshape(shape), isi_core_lo=stack(c_lo), isi_core_hi=stack(c_hi),
        isi_realised_lo=stack(r_lo), isi_realised_hi=stack(r_hi), bracket_lo=stack(b_lo),
        bracket_hi=stack(b_hi), v_lsb=np.array(v_lsb), v_th_register=np.array(v_th_reg),
        k_v=k_v, bias_register=np.array(bias_reg), overflows=np.array(overflows))

