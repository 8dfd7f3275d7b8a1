"""The exact float values of a population that ``save_nir`` keeps in its neuron node's
metadata (key ``EXPORTER``: ``C, g_L, E_L, V_th, V_reset, tau_syn`` and the DC current,
as JSON), and their adoption by ``load_nir`` (physical convention) when they agree with
the node's NIR fields to ``1e-9``: so a network saved and loaded again gives an equal
``Netlist``.
"""

from __future__ import annotations

import json

import numpy as np

from .constants import EXPORTER
from .reading import _Node, _text

_EXACT_KEYS = ("C", "g_L", "E_L", "V_th", "V_reset", "tau_syn")


def _compact(a: np.ndarray):
    """A float when every value is equal, else a list (the netlist file's forms)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    return float(a[0]) if a.size and np.all(a == a[0]) else [float(x) for x in a]


def _exact_metadata(q, dc: np.ndarray) -> dict[str, str]:
    """The metadata of the neuron node of population parameters ``q`` (a
    ``LifPhysical``) with DC current ``dc`` (A per neuron)."""
    exact = {k: _compact(getattr(q, k)) for k in _EXACT_KEYS}
    stored_dc = _compact(dc) if np.any(dc) else None
    return {EXPORTER: json.dumps({"params": exact, "dc": stored_dc})}


def _adopt(node: _Node, pop: dict, dc: dict, name: str, warnings: list) -> None:
    """Take the exact float values ``save_nir`` wrote into a node's metadata when they
    agree (1e-9) with what its NIR fields give; otherwise keep the fields."""
    meta = node.raw.get("metadata")
    text = _text(meta.get(EXPORTER)) if isinstance(meta, dict) else None
    if text is None:
        return
    try:
        stored = json.loads(text)
        exact = {k: stored["params"][k] for k in _EXACT_KEYS}
        stored_dc = stored.get("dc")
    except (ValueError, KeyError, TypeError):
        warnings.append(f"node {name!r}: unreadable {EXPORTER} metadata; NIR fields used")
        return
    size = pop["size"]
    params = pop["params"]

    def close(a, b):
        a = np.broadcast_to(np.asarray(a, dtype=float), (size,))
        b = np.broadcast_to(np.asarray(b, dtype=float), (size,))
        return np.allclose(a, b, rtol=1e-9, atol=0)

    here = dc.get(name)
    try:
        ok = all(close(exact[k], params[k]) for k in _EXACT_KEYS)
        if stored_dc is None:
            ok &= here is None
        else:
            ok &= here is not None and close(stored_dc, here)
    except (ValueError, TypeError, OverflowError):
        ok = False
    if not ok:
        warnings.append(f"node {name!r}: {EXPORTER} metadata disagrees with the NIR fields; "
                        f"fields used")
        return
    for k in _EXACT_KEYS:
        params[k] = exact[k] if np.ndim(exact[k]) == 0 else list(exact[k])
    if stored_dc is not None:
        dc[name] = np.broadcast_to(np.asarray(stored_dc, dtype=float), (size,)).copy()
