r"""Rockpool 3.1.0 (``rockpool/nn/modules/torch/lif_torch.py``, ``lif_neuron_torch.py``).

The exporter writes ``CubaLIF(tau_mem, tau_syn, r = tau_mem e^(-dt/tau_mem)/dt, w_in =
1)`` for ``LIFTorch`` and ``LIF(tau, r)`` for ``LIFNeuronTorch``; ``dt`` is not stored
but follows from ``r`` (``u + ln u = -ln r`` with ``u = dt/tau``). Per step, with ``a =
e^(-dt/tau_mem)``, ``b = e^(-dt/tau_syn)`` and threshold ``theta``::

    LIFTorch:        i = b (i + x);   v = a v + i        (the current decays in the step
                                                          its input arrives)
    LIFNeuronTorch:  v = a v + x                          (add, not a (v + x))
    s = [v >= theta] floor(v / theta),  at most max_spikes_per_dt;   v -= s theta

The output is a spike *count*; ``max_spikes_per_dt`` (default 2^16) is not in the file,
nor is Rockpool's neuron bias, nor its recurrent ``w_rec`` (the exporter drops both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import NodeFields, Options, State, check_options, snap_to_one

NAME = "rockpool"
DEFAULTS = {"max_spikes_per_dt": 2 ** 16}
CHOICES: dict[str, tuple] = {}


def options(**given) -> Options:
    opts = check_options(NAME, DEFAULTS, given, CHOICES)
    m = opts["max_spikes_per_dt"]
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"rockpool: option max_spikes_per_dt must be a positive integer, "
                         f"got {m!r}")
    return opts


def export_step(tau: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The ``dt`` for which ``r = (tau/dt) e^(-dt/tau)``: Newton on ``u + ln u = -ln r``."""
    target = -np.log(r)
    u = np.clip(1.0 / r, 1e-12, None)
    for _ in range(60):
        u = np.clip(u - (u + np.log(u) - target) / (1.0 + 1.0 / u), 1e-300, None)
    return u * tau


@dataclass(frozen=True)
class Params:
    kind: str
    a: np.ndarray          # membrane decay per step
    b: np.ndarray          # current decay per step (CubaLIF)
    gain: np.ndarray       # input gain onto the membrane (1 for Rockpool's own values)
    w_in: np.ndarray
    theta: np.ndarray
    max_spikes: int


def neuron(node: NodeFields, opts: Options) -> Params:
    n, t = node.size, node.type
    one = np.ones(n)
    if t in ("LIF", "LI", "CubaLIF", "CubaLI"):
        tau = node.get("tau_mem" if t in ("CubaLIF", "CubaLI") else "tau")
        r = node.get("r")
        dt = export_step(tau, r)
        a = np.exp(-dt / tau)
        gain = snap_to_one(r * dt / tau / a)
        b = np.exp(-dt / node.get("tau_syn")) if t in ("CubaLIF", "CubaLI") else one * 0
    else:  # IF, I: no leak; Threshold: memoryless
        a = one * (0.0 if t == "Threshold" else 1.0)
        gain, b = node.get("r", 1.0), one * 0
    theta = node.get("threshold") if t == "Threshold" else node.get("v_threshold", np.inf)
    return Params(t, a, b, gain, node.get("w_in", 1.0), theta,
                  int(opts["max_spikes_per_dt"]))


def initial(p: Params, n: int, dtype=np.float64) -> State:
    return State.rest(n, 0.0, dtype)


def step(p: Params, state: State, x: np.ndarray) -> tuple[State, np.ndarray]:
    i = state.i
    if p.kind in ("CubaLIF", "CubaLI"):
        i = (i + p.w_in * x) * p.b
        v = p.a * state.v + p.gain * i
    else:
        v = p.a * state.v + p.gain * x
    if p.kind in ("LI", "CubaLI", "I"):
        return state.with_(v=v, i=i), v
    s = (v >= p.theta) * np.floor(v / p.theta)
    s = np.minimum(s, p.max_spikes).astype(v.dtype)
    v = v - s * p.theta
    if p.kind == "Threshold":
        v = x.astype(v.dtype)
    return State(v, i, s), s
