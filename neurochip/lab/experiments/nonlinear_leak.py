"""``nonlinear-leak``: the LIF as the local linearisation of a quadratic leak: QIF float vs
QIF core (``firmware_models.qif``) vs the tangent LIF at ``V0``, whose steady-state error
``c x² / g_eff`` grows with the square of the distance (docs/experiments.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from firmware_models.lif.reference import simulate
from firmware_models.qif import QIF, QifState
from firmware_models.qif.quantiser import error_interval as qif_error_interval
from firmware_models.qif.quantiser import quantise as quantise_qif
from firmware_models.qif.reference import Linearisation, QifPhysical
from firmware_models.qif.reference import simulate as simulate_qif

from ...hardware.core import Core
from ..figures import new_figure, save
from .common import (DT, core_spec, label_axes, mV, ms, nS, pA, pF,
                     spike_intervals)


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
        """Write ``figure()`` to ``path`` (PNG)."""
        save(self.figure(), path, dpi=100)

    def figure(self):
        """The experiment's figure (a ``matplotlib.figure.Figure``)."""
        lin, p = self.lin, self.neuron
        # the step responses' legend gets a narrow column of its own: inside, it hid
        # the spikes
        fig, (ax1, ax2, key, ax3) = new_figure(1, 4, figsize=(15, 4.2), gridspec_kw={
            "width_ratios": [1, 1, 0.38, 1]})
        V = np.linspace(float(p.E_L) - 20 * mV, float(p.V_c) + 5 * mV, 300)
        ax1.plot(V / mV, -p.leak(V) / pA, "k-", lw=1.2, label="QIF: -F(V)")
        ax1.plot(V / mV, lin.g_eff * (V - lin.E_eff) / pA, "C1--", lw=1,
                 label=f"LIF: g_eff (V - E_eff), g_eff = {lin.g_eff / nS:.3g} nS")
        ax1.axvline(lin.V0 / mV, color="0.6", lw=0.8)
        ax1.axhline(lin.I0 / pA, color="0.6", lw=0.8, ls=":")
        ax1.plot(lin.V0 / mV, lin.I0 / pA, "ko")
        label_axes(ax1, "V (mV)", "current to hold V (pA)",
                   f"the leak and its tangent at V0 = {lin.V0 / mV:g} mV", title_size=9, legend=7)
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
        label_axes(ax2, "time (ms)", "V (mV)", f"step responses: QIF float (line), LIF (dashed), "
                   f"{self.v_bits[0]}-bit core (x)", title_size=9)
        key.axis("off")
        key.legend(*ax2.get_legend_handles_labels(), loc="center left", fontsize=7,
                   borderaxespad=0.0)
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
        label_axes(ax3, "|x| = |V* - V0| (mV)", "steady-state error (mV)",
                   "error of the linearisation against distance", title_size=9, legend=7,
                   xscale="log", yscale="log")
        return fig


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
    ints = spike_intervals(qif.spikes)
    traces, realised, spikes, lsbs, kq, vc, bias, los, his, overflows = ([] for _ in range(10))
    for bits in v_bits:
        spec = core_spec(n, bits)
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

