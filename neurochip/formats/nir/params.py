"""The checked parameters of a node (``_P``) and those of a neuron node
(``_neuron_params``): required keys, finite values, positive time constants and ``r``,
and shapes that broadcast. A missing ``v_reset`` means zeros, a missing ``w_in`` means 1.

Every parameter is refused, naming node and field, when it is text, a bool, complex,
empty, ragged, non-finite or beyond ``MAX_MAGNITUDE``; integers (kernel sizes, strides,
padding, groups, dims) when not whole, finite and below ``MAX_INT``; shapes when not a
flat list of at most ``MAX_DIMS`` sizes whose values fit ``MAX_SIZE`` and the memory
budget (``limits.memory_budget``, ``NEURON_BYTES`` per value).
"""

from __future__ import annotations

import math

import numpy as np

from ...hardware.limits import over_budget

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
        a = _real_array(self.raw[key], f"parameter {key!r}", self.fail)
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
        a = _plain_array(value)
        if a is None or a.dtype.kind not in "iuf" or a.ndim > 1 or a.size not in (1, n) \
                or not np.all(np.isfinite(a)) or np.any(a != np.round(a)) \
                or np.any(np.abs(a) > MAX_INT):
            self.fail(f"parameter {key!r} must be an integer or {n} integers (at most "
                      f"{MAX_INT:.0e}), got {_show(value)}")
        return tuple(int(x) for x in np.broadcast_to(np.atleast_1d(a), (n,)))

    def shape(self, key: str) -> tuple[int, ...] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        a = _plain_array(value)
        if a is None or a.dtype.kind not in "iuf" or a.ndim > 1 or a.size > MAX_DIMS \
                or not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or np.any(a < 0) \
                or np.any(a > MAX_SIZE):
            self.fail(f"{key} must be a list of at most {MAX_DIMS} sizes, got {_show(value)}")
        shape = tuple(int(x) for x in np.atleast_1d(a))
        check_size(shape, f"{key} {shape}", self.fail)
        return shape


MAX_MAGNITUDE = 1e32      # |value| of any parameter; float32's largest is 3.4e38
MAX_INT = 2 ** 31 - 1     # integer parameters: kernel sizes, strides, padding, groups, dims
MAX_DIMS = 16             # axes of a shape
MAX_SIZE = 2 ** 40        # values in one shape (the memory budget refuses far fewer)
NEURON_BYTES = 256        # what one neuron (or node output value) costs a load, about


def _plain_array(value) -> np.ndarray | None:
    """``value`` as a numpy array, or None when it is no rectangular array."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if a.dtype.kind == "O":
        return None
    return a


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _real_array(value, what: str, fail) -> np.ndarray:
    """A parameter as finite float64 values: refuses text, bools, complex numbers,
    ragged or empty arrays, non-finite values and magnitudes over ``MAX_MAGNITUDE``."""
    a = _plain_array(value)
    if a is None:
        fail(f"{what} must be numbers, got {type(value).__name__} {_show(value)}")
    kind = a.dtype.kind
    if kind == "b":
        fail(f"{what} must be numbers, got booleans ({_show(value)})")
    if kind == "c":
        fail(f"{what} must be real, got complex values ({_show(value)})")
    if kind not in "iuf":
        fail(f"{what} must be numbers, got {a.dtype.name} ({_show(value)})")
    if a.size == 0:
        fail(f"{what} is empty (shape {a.shape})")
    if a.ndim > MAX_DIMS:
        fail(f"{what} has {a.ndim} axes (at most {MAX_DIMS})")
    a = a.astype(np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        fail(f"{what} has non-finite values ({float(a[bad].flat[0])!r} at index {_index(bad)})")
    big = np.abs(a) > MAX_MAGNITUDE
    if big.any():
        fail(f"{what} has a value beyond +-{MAX_MAGNITUDE:g} ({float(a[big].flat[0])!r} at "
             f"index {_index(big)})")
    return a


def check_size(shape, what: str, fail) -> int:
    """The number of values of ``shape``, refused when it exceeds ``MAX_SIZE`` or when
    that many neurons would not fit the memory budget."""
    n = math.prod(int(s) for s in shape)
    problem = None
    if n > MAX_SIZE:
        problem = f"{what} has {n:.3g} values (at most {MAX_SIZE:.3g})"
    else:
        why = over_budget(n * NEURON_BYTES, f"{what}: {n} values")
        problem = why
    if problem:
        fail(problem)
    return n


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
    check_size(shape, f"its parameters' shape {shape}", p.fail)
    out["_shape"] = shape
    return out
