r"""snnTorch 1.0.0 (``snntorch/_neurons/{leaky,synaptic,rleaky,rsynaptic}.py``).

The exporter writes ``LIF(tau = dt0/(1 - beta), r = tau/dt0)`` for ``Leaky`` and
``CubaLIF(tau_syn = dt0/(1 - alpha), tau_mem = dt0/(1 - beta), r, w_in = tau_syn/dt0)``
for ``Synaptic`` with ``dt0 = 1e-4`` s; ``RLeaky``/``RSynaptic`` are the same nodes with
a recurrent Affine back onto themselves. So ``beta = 1 - dt0/tau`` and ``alpha = 1 -
dt0/tau_syn``, and the input gains ``(dt0/tau) r`` and ``(dt0/tau_syn) w_in`` are 1.

Per step, with ``H(z) = [z > 0]`` (strict), ``theta`` the threshold, ``x`` the input
(recurrent term included) and ``r = H(m[t-1] - theta)`` taken from the *stored*
membrane of the previous step::

    Synaptic:   i = alpha i + x;   base = beta m + i          (i is never reset)
    subtract:   m = beta m + x - r theta          (Leaky)      m = base - r theta
    zero:       m = beta (1 - r) m + x            (Leaky)      m = (1 - r) base
                                       (RLeaky, Synaptic, RSynaptic: the whole new membrane)
    s = H(m - theta)
    reset_delay=False:  m -= (s - r) theta   (subtract)   or   m -= (s - r) m   (zero)

With ``reset_delay=True`` (snnTorch's default) the threshold is subtracted one step
after the spike and is not decayed by ``beta``; the stored membrane of a spiking step is
above threshold. ``reset_mechanism`` and ``reset_delay`` are not in the file: options.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import NodeFields, Options, State, check_options, snap_to_one

NAME = "snntorch"
EXPORT_DT = 1e-4
DEFAULTS = {"reset": "subtract", "reset_delay": True}
CHOICES = {"reset": ("subtract", "zero"), "reset_delay": (True, False)}


def options(**given) -> Options:
    return check_options(NAME, DEFAULTS, given, CHOICES)


@dataclass(frozen=True)
class Params:
    kind: str              # NIR type
    beta: np.ndarray       # membrane decay per step (1 for IF and I)
    alpha: np.ndarray      # current decay per step (0 without a current)
    gain: np.ndarray       # input gain onto the membrane (1 for snnTorch's own values)
    syn_gain: np.ndarray   # input gain onto the current
    theta: np.ndarray
    zero: bool             # reset to zero, else subtract
    delay: bool            # reset_delay
    whole: bool            # a zero reset clears the whole new membrane (not only the old)


def neuron(node: NodeFields, opts: Options) -> Params:
    n, t = node.size, node.type
    one, zero = np.ones(n), np.zeros(n)
    if t in ("LIF", "LI"):
        tau, r = node.get("tau"), node.get("r")
        dt0 = tau / r
        beta, gain, alpha, syn_gain = 1.0 - dt0 / tau, snap_to_one(dt0 / tau * r), zero, one
    elif t in ("CubaLIF", "CubaLI"):
        tau, tau_s, r = node.get("tau_mem"), node.get("tau_syn"), node.get("r")
        dt0 = tau / r
        beta, gain = 1.0 - dt0 / tau, snap_to_one(dt0 / tau * r)
        alpha = 1.0 - dt0 / tau_s
        syn_gain = snap_to_one(dt0 / tau_s * node.get("w_in", 1.0))
    else:  # IF, I: no leak; Threshold: memoryless
        beta = zero if t == "Threshold" else one
        gain, alpha, syn_gain = node.get("r", 1.0), zero, one
    theta = node.get("threshold") if t == "Threshold" else node.get("v_threshold", np.inf)
    return Params(t, beta, alpha, gain, syn_gain, theta, opts["reset"] == "zero",
                  bool(opts["reset_delay"]), t in ("CubaLIF", "CubaLI") or node.recurrent)


def initial(p: Params, n: int, dtype=np.float64) -> State:
    return State.rest(n, 0.0, dtype)


def step(p: Params, state: State, x: np.ndarray) -> tuple[State, np.ndarray]:
    m = state.v
    if p.kind == "Threshold":
        s = (x > p.theta).astype(m.dtype)
        return state.with_(v=x.astype(m.dtype), s=s), s
    i = state.i
    if p.kind in ("CubaLIF", "CubaLI"):
        i = p.alpha * i + p.syn_gain * x
        drive = i
    else:
        drive = x
    if p.kind in ("LI", "CubaLI", "I"):
        m = p.beta * m + p.gain * drive
        return state.with_(v=m, i=i), m
    r = (m - p.theta > 0).astype(m.dtype)
    if not p.zero:
        new = p.beta * m + p.gain * drive - r * p.theta
    elif p.whole:
        base = p.beta * m + p.gain * drive
        new = base - r * base
    else:
        new = p.beta * ((1 - r) * m) + p.gain * drive
    s = (new - p.theta > 0).astype(m.dtype)
    if not p.delay:
        d = s - r
        new = new - d * p.theta if not p.zero else new - d * new
    return State(new, i, s), s
