r"""Sinabs 3.1.3 (``sinabs/layers/functional/lif.py``, ``lif_forward_single``).

The exporter writes ``IF(r = 1, v_threshold)`` for ``IAF`` and ``LIF(tau = tau_mem in
steps, r = 1, v_leak = 0, v_threshold)`` for ``LIF``. Per step, with ``a = e^(-1/tau)``
(``a = 1`` for IAF) and threshold ``theta``::

    v = a v + (1 - a) x      (LIF, norm_input=True: Sinabs' default)
    v = a v + x              (IAF; LIF with norm_input=False)
    MultiSpike (default):  s = [v > 0] trunc(v / theta)     SingleSpike:  s = [v >= theta]
    MembraneSubtract (default):  v -= s theta     MembraneReset:  v = v [s == 0]
    min_v_mem:  v = max(v, min_v_mem)  (after the reset; sinabs.from_nir sets -theta)

Spikes are decided before the reset of the same step. None of the spike function, reset
function, ``min_v_mem`` or ``norm_input`` is in the file: options.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import NodeFields, Options, State, check_options

NAME = "sinabs"
DEFAULTS = {"spike_fn": "multi", "reset": "subtract", "min_v_mem": None, "norm_input": True}
CHOICES = {"spike_fn": ("multi", "single"), "reset": ("subtract", "zero"),
           "norm_input": (True, False)}


def options(**given) -> Options:
    opts = check_options(NAME, DEFAULTS, given, CHOICES)
    floor = opts["min_v_mem"]
    if floor is not None and floor != "-threshold" and not (
            isinstance(floor, (int, float)) and np.isfinite(floor) and not isinstance(floor, bool)):
        raise ValueError(f"sinabs: option min_v_mem must be a finite number, '-threshold' "
                         f"(what sinabs.from_nir sets) or None, got {floor!r}")
    return opts


@dataclass(frozen=True)
class Params:
    kind: str
    a: np.ndarray          # membrane decay per step (1: IF and I)
    gain: np.ndarray       # input gain: (1 - a) r with norm_input, else r
    theta: np.ndarray
    multi: bool
    zero: bool
    floor: np.ndarray | float | None


def neuron(node: NodeFields, opts: Options) -> Params:
    n, t = node.size, node.type
    r = node.get("r", 1.0)
    if t in ("LIF", "LI", "CubaLIF", "CubaLI"):
        a = np.exp(-1.0 / node.get("tau_mem" if t.startswith("Cuba") else "tau"))
        gain = (1.0 - a) * r if opts["norm_input"] else r
    else:
        a, gain = np.full(n, 0.0 if t == "Threshold" else 1.0), r
    theta = node.get("threshold") if t == "Threshold" else node.get("v_threshold", np.inf)
    floor = -theta if opts["min_v_mem"] == "-threshold" else opts["min_v_mem"]
    return Params(t, a, gain, theta, opts["spike_fn"] == "multi", opts["reset"] == "zero",
                  floor)


def initial(p: Params, n: int, dtype=np.float64) -> State:
    return State.rest(n, 0.0, dtype)


def step(p: Params, state: State, x: np.ndarray) -> tuple[State, np.ndarray]:
    v = p.a * state.v + p.gain * x
    if p.kind in ("LI", "CubaLI", "I"):
        return state.with_(v=v), v
    if p.multi:
        s = (v > 0) * np.trunc(v / p.theta)
    else:
        s = (v - p.theta >= 0).astype(v.dtype)
    v = v * (s == 0) if p.zero else v - s * p.theta
    if p.floor is not None:
        v = np.maximum(v, p.floor)
    if p.kind == "Threshold":
        v = x.astype(v.dtype)
    return state.with_(v=v, s=s), s.astype(v.dtype)
