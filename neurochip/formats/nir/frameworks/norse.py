r"""Norse 1.1.0 (``norse/torch/functional/lif_box.py``, ``lif.py``).

The exporter writes ``LIF(tau = dt_export * tau_mem, r = 1, v_leak, v_threshold)`` for
``LIFBoxCell`` and ``CubaLIF(tau_mem = dt_export * tau_mem, tau_syn = dt_export *
tau_syn, r = 1, w_in = 1, ...)`` for ``LIFCell``: Norse 1.1.0 multiplies every time
constant by ``to_nir``'s ``dt`` argument (default 1e-3), so a 10 ms neuron is stored as
``1e-5``. Older exports (the NIR paper's) store seconds. Per step of ``dt`` (the cell's
step), with ``tau`` the neuron's own time constant::

    LIFBoxCell:  v' = v + (dt/tau) (v_leak - v + r x)
    LIFCell:     j = i + w_in x;   v' = v + (dt/tau_mem) (v_leak - v + r j);
                 i = (1 - dt/tau_syn) j          (the membrane sees the jump first)
    s = [v' > theta];   v = v_reset where s, else v'

The state starts at ``v = v_leak``, ``i = 0``. Options: ``dt`` (the cell's step,
default 1e-3 s) and ``dt_export`` (``to_nir``'s ``dt``: 1e-3 s by default; ``1`` for a
file whose time constants are seconds). ``dt_export="auto"`` takes 1 when ``dt/tau < 1``
for every time constant of the graph (the Euler step is stable as written) and 1e-3
otherwise, and says which it chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import NodeFields, Options, State, check_options

NAME = "norse"
DEFAULTS = {"dt": 1e-3, "dt_export": "auto"}
CHOICES: dict[str, tuple] = {}
EXPORT_DT = 1e-3


def options(**given) -> Options:
    opts = check_options(NAME, DEFAULTS, given, CHOICES)
    for key in ("dt", "dt_export"):
        value = opts[key]
        if key == "dt_export" and value == "auto":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not (np.isfinite(value) and value > 0):
            raise ValueError(f"norse: option {key} must be a positive number of seconds"
                             f"{' or auto' if key == 'dt_export' else ''}, got {value!r}")
    return opts


def time_constants(node: NodeFields) -> list[np.ndarray]:
    keys = {"LIF": ("tau",), "LI": ("tau",), "CubaLIF": ("tau_mem", "tau_syn"),
            "CubaLI": ("tau_mem", "tau_syn")}.get(node.type, ())
    return [node.get(k) for k in keys]


def resolve_export_dt(nodes: list[NodeFields], opts: Options) -> tuple[float, str]:
    """``dt_export`` in force for a graph, and a sentence saying how it was chosen."""
    if opts["dt_export"] != "auto":
        return float(opts["dt_export"]), f"dt_export={opts['dt_export']!r} as given"
    taus = [t for node in nodes for t in time_constants(node)]
    shortest = min((float(t.min()) for t in taus), default=np.inf)
    if shortest > opts["dt"]:
        return 1.0, (f"time constants read as seconds (the shortest, {shortest:.3g} s, is "
                     f"longer than dt={opts['dt']:g} s)")
    return EXPORT_DT, (f"time constants read as Norse 1.1.0 writes them, tau * dt_export "
                       f"with dt_export={EXPORT_DT:g} (the shortest, {shortest:.3g}, is below "
                       f"dt={opts['dt']:g} s); pass dt_export= to say otherwise")


@dataclass(frozen=True)
class Params:
    kind: str
    k_mem: np.ndarray      # dt / tau_mem (0: no leak)
    k_syn: np.ndarray      # dt / tau_syn
    r: np.ndarray
    w_in: np.ndarray
    v_leak: np.ndarray
    theta: np.ndarray
    v_reset: np.ndarray


def neuron(node: NodeFields, opts: Options, dt_export: float = 1.0) -> Params:
    n, t = node.size, node.type
    dt = float(opts["dt"])
    zero = np.zeros(n)
    taus = [tau / dt_export for tau in time_constants(node)]
    k_mem = dt / taus[0] if taus else zero
    k_syn = dt / taus[1] if len(taus) > 1 else zero
    r = node.get("r", 1.0)
    if t in ("IF", "I"):   # dv/dt = r x: the Euler step adds dt r x
        r = r * dt
    theta = node.get("threshold") if t == "Threshold" else node.get("v_threshold", np.inf)
    return Params(t, k_mem, k_syn, r, node.get("w_in", 1.0), node.get("v_leak", 0.0), theta,
                  node.get("v_reset", 0.0))


def initial(p: Params, n: int, dtype=np.float64) -> State:
    return State.rest(n, p.v_leak, dtype)


def step(p: Params, state: State, x: np.ndarray) -> tuple[State, np.ndarray]:
    v, i = state.v, state.i
    if p.kind == "Threshold":
        s = (x > p.theta).astype(v.dtype)
        return state.with_(v=x.astype(v.dtype), s=s), s
    if p.kind in ("CubaLIF", "CubaLI"):
        j = i + p.w_in * x
        v_new = v + p.k_mem * ((p.v_leak - v) + p.r * j)
        i = j + (-p.k_syn) * j
    elif p.kind in ("IF", "I"):
        v_new = v + p.r * x
    else:
        v_new = v + p.k_mem * (p.r * x + p.v_leak - v)
    if p.kind in ("LI", "CubaLI", "I"):
        return state.with_(v=v_new, i=i), v_new
    s = (v_new - p.theta > 0).astype(v.dtype)
    v = (1 - s) * v_new + s * p.v_reset
    return State(v, i, s), s
