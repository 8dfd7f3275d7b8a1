"""What the experiments share: units, the time step and base neuron, the core they run
on, interval statistics, the integer ISI bracket, root finding and axis labelling (the
figures themselves: ``lab.figures``).

Conventions shared by all: ``dt = 0.25 ms`` by default, so that ``tau_m = 16 ms`` is 64
ticks and the shift leak ``k_v = 6`` realises it within 0.8 % (``tau_eff = 63.5`` ticks);
refractory periods are whole ticks; cores are built with ``ref_bits = 8`` so that a
5 ms refractory period (20 ticks) fits. Spike times are tick indices; a spike decided in
tick ``k`` is at ``(k + 1) dt`` (``reference.FloatTrace``), the same on the core, so
intervals are differences of tick indices.
"""

from __future__ import annotations

import numpy as np

from firmware_models.lif.reference import LifPhysical

from ...hardware.spec import CoreSpec
from ..figures import legend_beside as figure_legend_beside
from ..figures import readable_log_ticks

__all__ = [
    "BASE",
    "DT",
    "bisect",
    "core_spec",
    "dc_target",
    "first_passage_ticks",
    "grow_bracket",
    "integer_isi_bracket",
    "interval_range",
    "label_axes",
    "mV", "ms", "pA", "nA", "pF", "nS",
    "spike_intervals",
    "steady_rate",
]

mV, ms, pA, nA, pF, nS = 1e-3, 1e-3, 1e-12, 1e-9, 1e-12, 1e-9

DT = 0.25 * ms
#: the neuron most experiments start from: tau_m = 16 ms, 20 mV from rest to threshold,
#: reset 5 mV above rest, rheobase 0.2 nA
BASE = LifPhysical(C=160 * pF, g_L=10 * nS, E_L=-70 * mV, V_th=-50 * mV, V_reset=-65 * mV,
                   T_ref=0.0)


def core_spec(n: int, v_bits: int = 16, n_axons: int = 1) -> CoreSpec:
    return CoreSpec(n_slots=max(int(n), 1), n_axons=max(int(n_axons), 1), v_bits=v_bits,
                    ref_bits=8, theta_bits=max(16, v_bits),
                    synapse_words=max(131072, int(n_axons)))


def spike_intervals(spikes: np.ndarray) -> list[np.ndarray]:
    """Inter-spike intervals (ticks) of every column of a ``(ticks, n)`` spike raster."""
    return [np.diff(np.flatnonzero(spikes[:, j])) for j in range(spikes.shape[1])]


def steady_rate(intervals: list[np.ndarray], dt: float) -> np.ndarray:
    """``1 / mean ISI`` (Hz) from the intervals after the first spike; 0 without one."""
    return np.array([1.0 / (x.mean() * dt) if x.size else 0.0 for x in intervals])


def interval_range(intervals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
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


def bisect(f, lo: np.ndarray, hi: np.ndarray, iterations: int = 64) -> np.ndarray:
    """Root of ``f`` (increasing, elementwise) with ``f(lo) <= 0 < f(hi)``."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        up = f(mid) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return 0.5 * (lo + hi)


def grow_bracket(f, base: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``base + scale 2^j`` for the smallest ``j >= 0`` (per element) with ``f > 0``."""
    hi = base + scale
    for _ in range(200):
        bad = ~(f(hi) > 0)
        if not bad.any():
            return hi
        hi = np.where(bad, base + 2 * (hi - base), hi)
    raise RuntimeError("no upper bracket")


def dc_target(p: LifPhysical, I=0.0) -> tuple[LifPhysical, np.ndarray]:
    """``p`` broadcast over its neurons (and over ``I``), and ``R (I + I_bias)``: how far
    above ``E_L`` (V) the free membrane settles under a DC current ``I`` on top of
    ``p.I_bias``."""
    n = max(p.n or 1, np.size(I))
    q = p.broadcast(n)
    return q, q.R * (np.broadcast_to(np.asarray(I, dtype=float), (n,)) + q.I_bias)


def label_axes(ax, xlabel: str, ylabel: str | None, title: str | None = None, *,
               title_size: float | None = None, legend: float | None = None,
               xscale: str | None = None, yscale: str | None = None,
               legend_beside: bool = False) -> None:
    """Scales, axis labels and title of one plot (``ylabel``, ``title``: none when
    ``None``), and a legend of font size ``legend`` (none when ``None``): where it
    covers the fewest points, or with ``legend_beside`` to the right of the axes;
    ``title_size`` is the title's font size (matplotlib's default when ``None``). Log
    axes get plain-number labels that do not overlap (``figures.readable_log_ticks``),
    so call it once the data are drawn."""
    if xscale is not None:
        ax.set_xscale(xscale)
    if yscale is not None:
        ax.set_yscale(yscale)
    readable_log_ticks(ax)
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title, **({} if title_size is None else {"fontsize": title_size}))
    if legend is not None and legend_beside:
        figure_legend_beside(ax, fontsize=legend)
    elif legend is not None:
        ax.legend(fontsize=legend, loc="best")
