"""``dimensionless``: physically different neurons collapse onto one ``T̂(î)`` curve; the
core's registers *are* that dimensionless form (docs/experiments.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_models.lif import analytic
from firmware_models.lif.quantiser import quantise_groups
from firmware_models.lif.reference import LifPhysical, simulate

from ...hardware.core import Core
from ..figures import new_figure, save
from .common import (DT, core_spec, integer_isi_bracket, interval_range, label_axes, mV, ms, nA,
                     nS, pF, spike_intervals, steady_rate)


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
        """Write ``figure()`` to ``path`` (PNG)."""
        save(self.figure(), path)

    def figure(self):
        """The experiment's figure (a ``matplotlib.figure.Figure``)."""
        fig, (ax1, ax2) = new_figure(1, 2, figsize=(11, 4.5))
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
        label_axes(ax1, "I (nA)", "rate (Hz)", "physical units: five different f-I curves",
                   legend=6.5)
        label_axes(ax2, "î = R I / (V_th - E_L)", "T̂ = ISI / tau_m",
                   "dimensionless: one curve (o float, x core)", legend=7, yscale="log")
        return fig


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
    ints = spike_intervals(trace.spikes)
    rate = steady_rate(ints, dt).reshape(n_t, n_I)
    lo, hi = interval_range(ints)
    tau_t = types[:, 0] / types[:, 1]
    with np.errstate(divide="ignore"):
        T_float = np.where(rate > 0, 1.0 / np.where(rate > 0, rate, 1) / tau_t[:, None],
                           np.inf)
    isi_a = (T_hat[None, :] * tau_t[:, None]).ravel()
    with np.errstate(invalid="ignore"):
        excess_lo = np.where(np.isfinite(hi), lo - isi_a / dt, np.nan)
        excess_hi = np.where(np.isfinite(hi), hi - isi_a / dt, np.nan)

    groups = [slice(t * n_I, (t + 1) * n_I) for t in range(n_t)]
    spec = core_spec(n, v_bits)
    q = quantise_groups(p, dt, spec, groups)
    rec = Core(spec, q.params).run(ticks)
    c_ints = spike_intervals(rec.spikes)
    c_lo, c_hi = interval_range(c_ints)
    rate_core = steady_rate(c_ints, dt).reshape(n_t, n_I)
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

