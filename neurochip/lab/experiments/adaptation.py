"""``adaptation``: ISI sequences from phasic to tonic as ``alpha`` and ``tau_theta`` vary
(docs/experiments.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from firmware_models.lif import analytic
from firmware_models.lif.quantiser import quantise
from firmware_models.lif.reference import LifPhysical, simulate

from ...hardware.core import Core
from ..figures import chip_label, legend_beside, new_figure, raster_title, save
from .common import (BASE, DT, bisect, core_spec, dc_target, grow_bracket, label_axes, mV, ms, nA,
                     spike_intervals)


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
    q, u_inf = dc_target(p, I)
    gap, u_r = q.V_th - q.E_L, q.V_reset - q.E_L
    tau, tau_th, t_ref, alpha = q.tau_m, q.tau_theta, q.T_ref, q.alpha
    fires = u_inf > gap
    out = np.full(u_inf.size, np.inf)
    if not fires.any():
        return out
    u_inf, gap, u_r, tau, tau_th, t_ref, alpha = (x[fires] for x in (
        u_inf, gap, u_r, tau, tau_th, t_ref, alpha))

    def crossing(theta_plus):
        def g(t):
            return (u_inf + (u_r - u_inf) * np.exp(-(t - t_ref) / tau) - gap
                    - theta_plus * np.exp(-t / tau_th))
        hi = grow_bracket(g, t_ref, tau)
        return bisect(g, t_ref.copy(), hi)

    def h(T):
        return T - crossing(alpha / -np.expm1(-T / tau_th))

    lo = crossing(alpha)
    hi = grow_bracket(h, lo, tau)
    out[fires] = bisect(h, lo, hi)
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
        """Write ``figure()`` to ``path`` (PNG)."""
        save(self.figure(), path)

    def figure(self):
        """The experiment's figure (a ``matplotlib.figure.Figure``)."""
        n_a, n_t = len(self.alphas), len(self.tau_thetas)
        fig, axes = new_figure(1, 1 + n_t, figsize=(4 * (1 + n_t) + 1.5, 4.8),
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
        raster_title(ax, f"{chip_label('emulator', dialect='lif', v_bits=self.v_bits[0])}"
                         f"\nspikes: tonic (top) to phasic", fontsize=10)
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
            label_axes(ax, "interval number", "ISI (ms)" if t == 0 else None,
                       f"τθ = {self.tau_thetas[t] / ms:g} ms (dotted: steady theory)",
                       title_size=10, xscale="log", yscale="log")
        # one legend for every panel, beside the last: inside a panel it hid the ISIs
        handles, labels = axes[1].get_legend_handles_labels()
        theory = axes[1].plot([], [], ":", color="0.3", lw=0.8)[0]
        legend_beside(axes[-1], handles=handles + [theory],
                      labels=labels + ["steady theory"], fontsize=7)
        return fig


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
        spec = core_spec(n, bits)
        q = quantise(p, dt, spec, n=n, v_lsb=v_lsb)
        rec = Core(spec, q.params).run(ticks)
        first_spikes = rec.spikes if first_spikes is None else first_spikes
        isi_core.append(tuple(spike_intervals(rec.spikes)))
        v_lsbs.append(v_lsb)
        alpha_reg.append(q.params.alpha.copy())
        stall.append((np.exp2(q.params.k_theta) - 1) * v_lsb)
        overflows.append(int(sum(rec.overflow.values())))
        k_theta = q.params.k_theta.copy()
    trace = simulate(p, dt, ticks, n=n)
    return AdaptationResult(
        dt=dt, duration=duration, current=current, ratio=ratio, alphas=alphas,
        tau_thetas=tau_thetas, v_bits=tuple(v_bits), isi_core=tuple(isi_core),
        isi_float=tuple(spike_intervals(trace.spikes)), spikes_core=first_spikes,
        steady_analytic=adaptation_steady_isi(p), v_lsb=np.array(v_lsbs),
        alpha_register=np.array(alpha_reg), k_theta=k_theta, theta_stall=np.array(stall),
        overflows=np.array(overflows))

