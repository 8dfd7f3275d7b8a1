"""Distances between a float and an emulator spike train: matched-spike timing
(``match_spikes``), the van Rossum distance (``van_rossum``) and the first tick at which
trains differ (``first_difference``, ``first_difference_per_neuron``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_WINDOW = 5      # ticks: how far apart a float and an emulator spike may be matched
DEFAULT_TAU = 10e-3     # s: the van Rossum kernel's time constant


@dataclass(frozen=True)
class Matching:
    """Float spikes matched to emulator spikes of one neuron (``match_spikes``)."""

    reference: np.ndarray   # matched float spike ticks
    other: np.ndarray       # the emulator spike tick each was matched to
    missed: int             # float spikes without a match
    extra: int              # emulator spikes without a match

    @property
    def deviations(self) -> np.ndarray:
        """Emulator tick minus float tick of every matched pair (positive: late)."""
        return self.other - self.reference


def match_spikes(reference, other, window: int = DEFAULT_WINDOW) -> Matching:
    """Match each reference spike (ticks), in increasing time, to the nearest not yet
    matched ``other`` spike within ``window`` ticks (``|other - reference| <= window``);
    of two equally near, the earlier. A reference spike with none in reach is missed;
    ``other`` spikes left over are extra. Greedy: an earlier spike may take the partner a
    later one would have preferred."""
    if window < 0:
        raise ValueError(f"window must be >= 0 ticks, got {window!r}")
    ref = np.sort(np.asarray(reference, dtype=np.int64).ravel())
    oth = np.sort(np.asarray(other, dtype=np.int64).ravel())
    used = np.zeros(oth.size, dtype=bool)
    pairs_ref, pairs_oth = [], []
    for f in ref.tolist():
        lo = int(np.searchsorted(oth, f - window, side="left"))
        hi = int(np.searchsorted(oth, f + window, side="right"))
        best, best_distance = -1, window + 1
        for j in range(lo, hi):
            distance = abs(int(oth[j]) - f)
            if not used[j] and distance < best_distance:
                best, best_distance = j, distance
        if best >= 0:
            used[best] = True
            pairs_ref.append(f)
            pairs_oth.append(int(oth[best]))
    matched = len(pairs_ref)
    return Matching(np.array(pairs_ref, dtype=np.int64), np.array(pairs_oth, dtype=np.int64),
                    int(ref.size - matched), int(oth.size - matched))


def van_rossum(a, b, tau_ticks: float):
    """Van Rossum distance between binned spike trains ``a`` and ``b`` (spike counts per
    tick: ``(ticks,)`` or ``(ticks, n)``, then one distance per column).

    With ``f``, ``g`` the trains filtered by the causal kernel ``exp(-t / tau)``,
    ``D^2 = (2 / tau) * integral_0^inf (f - g)^2 dt``, the integral taken to infinity
    (the tails after the last tick count). For trains on a tick grid this is exactly
    ``sum_k sum_l c_k c_l exp(-|k - l| / tau_ticks)`` with ``c = a - b`` per tick, which
    is what is computed (one pass over the ticks where ``c`` is not zero). One unmatched
    spike gives ``D = 1``; two spikes ``d`` ticks apart give
    ``D^2 = 2 (1 - exp(-d / tau_ticks))``.
    """
    if not tau_ticks > 0 or not math.isfinite(tau_ticks):
        raise ValueError(f"tau must be a positive number of ticks, got {tau_ticks!r}")
    c = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    one = c.ndim == 1
    c = c.reshape(c.shape[0], -1)
    decay = math.exp(-1.0 / tau_ticks)
    total = np.zeros(c.shape[1])
    tail = np.zeros(c.shape[1])   # sum over earlier ticks l of c_l decay^(k - l)
    previous = None
    for k in np.flatnonzero(np.any(c != 0, axis=1)).tolist():
        if previous is not None:
            tail = decay ** (k - previous) * (tail + c[previous])
        total += c[k] * (c[k] + 2 * tail)
        previous = k
    distance = np.sqrt(np.maximum(total, 0.0))
    return float(distance[0]) if one else distance


def first_difference(a, b) -> int | None:
    """The first tick (row) at which ``a`` and ``b`` differ in any neuron; None if never."""
    a, b = np.asarray(a), np.asarray(b)
    rows = (a != b).reshape(a.shape[0], -1).any(axis=1)
    hit = np.flatnonzero(rows)
    return int(hit[0]) if hit.size else None


def first_difference_per_neuron(a, b) -> np.ndarray:
    """Per neuron (column), the first tick at which the trains differ; -1 if never."""
    differs = np.asarray(a) != np.asarray(b)
    first = np.argmax(differs, axis=0)
    return np.where(differs.any(axis=0), first, -1).astype(np.int64)
