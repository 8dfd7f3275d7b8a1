"""Pieces every quantiser shares: per-population scales and the asked-vs-realised rows.

A compiler quantises each population (a contiguous group of neurons) with its own
voltage scale; ``group_max`` spreads a group's largest value to every one of its
neurons. ``error_rows`` builds the ``ParameterError`` rows of the compile report from
the physical model asked for and the one the registers realise.
"""

from __future__ import annotations

import numpy as np

from .lif.quantiser import ParameterError

# the rows of a dialect's report (no tau_theta: neither dialect has an adaptive threshold,
# so the alpha row, realised 0, says all there is)
ROWS = (("tau_m", "s"), ("tau_syn", "s"), ("V_th", "V"), ("V_reset", "V"), ("T_ref", "s"),
        ("alpha", "V"), ("I_bias", "A"), ("sigma", "V/√s"))


def group_max(values, groups: list[slice], n: int) -> np.ndarray:
    """Per neuron: the largest of ``values`` over its group (0 for an empty group)."""
    values = np.broadcast_to(np.asarray(values, dtype=float), (n,))
    out = np.zeros(n)
    for g in groups:
        out[g] = np.max(values[g], initial=0.0)
    return out


def error_rows(asked, realised, n: int, rows=ROWS) -> tuple[ParameterError, ...]:
    """One ``ParameterError`` per named physical field (``LifPhysical`` attributes)."""
    return tuple(ParameterError(name, unit,
                                np.broadcast_to(np.asarray(getattr(asked, name), float), (n,)),
                                np.broadcast_to(np.asarray(getattr(realised, name), float), (n,)))
                 for name, unit in rows)
