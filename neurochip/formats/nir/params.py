"""The checked parameters of a node (``_P``) and those of a neuron node
(``_neuron_params``): required keys, finite values, positive time constants and ``r``,
and shapes that broadcast. A missing ``v_reset`` means zeros, a missing ``w_in`` means 1.
"""

from __future__ import annotations

import numpy as np

from .errors import NirError, _node_at
from .reading import _Node


class _P:
    """Checked parameters of one node."""

    def __init__(self, node: _Node, source: str):
        self.node, self.source, self.raw = node, source, node.raw

    def fail(self, problem: str):
        raise NirError(self.source, _node_at(self.node.name), problem)

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def num(self, key: str, *, default=None, check: str = "") -> np.ndarray:
        if not self.has(key):
            if default is None:
                self.fail(f"missing required parameter {key!r} of {self.node.type}")
            return np.asarray(default, dtype=np.float64)
        value = self.raw[key]
        try:
            a = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            self.fail(f"parameter {key!r} must be numeric, got {type(value).__name__}")
        bad = ~np.isfinite(a)
        if bad.any():
            self.fail(f"parameter {key!r} has non-finite values ({float(a[bad].flat[0])!r} at "
                      f"index {_index(bad)})")
        tests = {"positive": (a > 0, "positive"), "nonneg": (a >= 0, ">= 0")}
        if check:
            ok, what = tests[check]
            if not np.all(ok):
                self.fail(f"parameter {key!r} must be {what}, got {float(a[~ok].flat[0])!r} at "
                          f"index {_index(~ok)}")
        return a

    def ints(self, key: str, n: int, default) -> tuple[int, ...]:
        value = self.raw.get(key)
        if value is None:
            value = default
        a = np.atleast_1d(np.asarray(value))
        if a.dtype.kind not in "iuf" or a.size not in (1, n) or np.any(a != np.round(a)):
            self.fail(f"parameter {key!r} must be an integer or {n} integers, got {value!r}")
        return tuple(int(x) for x in np.broadcast_to(a, (n,)))

    def shape(self, key: str) -> tuple[int, ...] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        a = np.atleast_1d(np.asarray(value))
        if a.dtype.kind not in "iuf" or np.any(a != np.round(a)) or np.any(a < 0):
            self.fail(f"{key} must be a list of sizes, got {value!r}")
        return tuple(int(x) for x in a)


def _index(mask: np.ndarray):
    idx = np.argwhere(mask)[0]
    return int(idx[0]) if idx.size == 1 else tuple(int(i) for i in idx)


_REQUIRED = {
    "LIF": ("tau", "r", "v_leak", "v_threshold"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak"),
    "IF": ("r", "v_threshold"),
    "LI": ("tau", "r", "v_leak"),
    "I": ("r",),
    "Threshold": ("threshold",),
}
_POSITIVE = ("tau", "tau_mem", "tau_syn", "r")


def _neuron_params(node: _Node, source: str) -> dict[str, np.ndarray]:
    p = _P(node, source)
    out = {}
    for key in _REQUIRED[node.type]:
        out[key] = p.num(key, check="positive" if key in _POSITIVE else "")
    if node.type in ("LIF", "CubaLIF", "IF"):
        out["v_reset"] = p.num("v_reset", default=0.0)     # missing v_reset means zeros
    if node.type in ("CubaLIF", "CubaLI"):
        out["w_in"] = p.num("w_in", default=1.0)           # missing w_in means 1
    try:
        shape = np.broadcast_shapes(*(a.shape for a in out.values()))
    except ValueError:
        p.fail("parameters have shapes that do not broadcast: " +
               ", ".join(f"{k} {a.shape}" for k, a in out.items()))
    out["_shape"] = shape
    return out
