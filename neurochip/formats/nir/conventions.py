r"""Exporter conventions: which exporter wrote a graph, its time step, and the
``"lif"`` population (``LifPhysical`` values and input gains) of each neuron node.

The neuron models (NIR's equations)::

    LIF      tau dv/dt = (v_leak - v) + r I                      spike: v > v_threshold
    CubaLIF  tau_syn dI/dt = -I + w_in S;  tau_mem dv/dt = (v_leak - v) + r I
    IF       dv/dt = r I                                          spike: v > v_threshold
    LI, CubaLI   as LIF, CubaLIF without spikes;   I (integrator)   dv/dt = r I
    Threshold    z = H(x - threshold), no state

and the float reference per tick (``reference.simulate``; ``a_m = exp(-dt/tau_m)``,
``a_s = exp(-dt/tau_syn)``)::

    I_syn = a_s I_syn + J[k]                   J: synaptic jumps (A) arriving in tick k
    V     = E_L + a_m (V - E_L) + R (1 - a_m) (I_syn + I_dc)

Exporter conventions
--------------------
Exporters write the same equations with different meanings of ``r``, ``w_in`` and of
time. Each convention below says which per-tick map (one tick = one step of the
exporter's simulator) the numbers of the file imply; ``load_nir`` chooses LifPhysical
values that make the reference map above *equal* that map (``x[k]`` is the node's input
in tick ``k``: the weighted sum of spikes plus biases, in the file's units; ``h`` is the
file's time step in the file's time unit)::

    physical  h = dt (s)   v[k] = v_leak + a (v - v_leak) + r (1 - a) x[k],   a = e^(-dt/tau)
                           I[k] = b I + (1 - b) w_in x[k],   b = e^(-dt/tau_syn)
                           (NIR's ODEs solved exactly with the input held over the tick)
    norse     h = dt (s)   v[k] = v + (dt/tau) (v_leak - v + r x[k])     (Euler; r = 1)
                           I[k] = (1 - dt/tau_syn) I + w_in x[k]         (w_in = 1: raw jump)
    sinabs    h = 1 tick   as physical with tau in ticks: a = e^(-1/tau);
                           IF: v[k] = v + r x[k]                          (r = 1)
    snntorch  h = dt0      v[k] = (1 - dt0/tau) v + (dt0/tau) r x[k]      (Euler at dt0;
                           r = tau/dt0 gives v = beta v + x, beta = 1 - 1/r)
                           I[k] = (1 - dt0/tau_syn) I + (dt0/tau_syn) w_in x[k]
                           (w_in = tau_syn/dt0 gives I = alpha I + x)
    rockpool  h = dt0      v[k] = a v + x[k],  a = e^(-dt0/tau)   (Rockpool 3.1 LIFNeuronTorch;
                           r = (tau/dt0) e^(-dt0/tau) only tells dt0)
                           I[k] = b (I + w_in x[k]),  v[k] = a v + I[k],  b = e^(-dt0/tau_syn)
                           (LIFTorch: the current decays in the step its input arrives)

For IF and I nodes every convention means ``v[k] = v + h r x[k]``. ``dt0`` is the
exporter's own time step, found in the file: snnTorch ``dt0 = tau / r`` (snnTorch writes
``dt0 = 1e-4`` s); Rockpool solves ``r = (tau/dt0) e^(-dt0/tau)`` for ``dt0``. With
snnTorch, Rockpool and Sinabs one tick is one exporter step whatever ``dt`` the user
picks (``dt`` only sets the physical time scale); with Norse and physical the file's
time constants are seconds and ``dt`` is the step. Delay nodes are in the same time
unit (``d = delay / h`` ticks; it must be a whole number).

``convention="auto"`` guesses: a file written by ``save_nir`` is physical; ``r == 1``
everywhere is Norse when some ``tau < 1`` (seconds) and Sinabs otherwise (ticks; also
for IF-only graphs); otherwise snnTorch when ``tau/r`` is one ``dt0`` for all nodes
(and ``w_in = tau_syn/dt0``), Rockpool when the Rockpool equation gives one ``dt0`` (and
``w_in = 1``) -- when both fit, the one whose ``dt0`` is a round number (three
significant digits) wins, then snnTorch; else physical. ``NirNetwork.convention`` and
``convention_reason`` say what was chosen.

What this leaves approximate (docs/nir.md lists it all): a spike when
``v >= v_threshold`` (NIR: ``v > v_threshold``; they differ only at equality); reset
``"subtract"`` removes ``v_threshold - v_leak`` (NIR exporters subtract ``v_threshold``;
equal when ``v_leak = 0``); at most one spike per neuron and tick (Sinabs' and Rockpool's
multi-spike outputs are not reproduced); a bias into a CubaLIF becomes its steady-state
current at once (NIR's synapse would charge up with ``tau_syn``); Norse's CubaLIF uses
the synaptic current of the previous step in its membrane update, the reference the
current of this tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .constants import (
    EXPORTER,
    GAIN_SNAP,
    MEMORYLESS_TAU,
    NEVER_FIRES_V_TH,
    NO_LEAK_TICKS,
    NON_SPIKING,
    NORSE_EXPORT_DT,
    ROCKPOOL_DT,
    SNNTORCH_DT,
)
from .params import _P
from .reading import _Graph, _Node, _text


# ====================================================================== which exporter
def _lambert_u(r: np.ndarray) -> np.ndarray:
    """``u > 0`` with ``r = exp(-u) / u`` (Rockpool's ``r`` for ``u = dt0/tau``)."""
    r = np.asarray(r, dtype=np.float64)
    u = 1.0 / (r + 1.0)
    for _ in range(60):
        g = u + np.log(u) + np.log(r)
        u_new = u - g / (1.0 + 1.0 / u)
        u = np.where(u_new > 0, u_new, u / 2)
    return u


def _consistent(values: list[np.ndarray], rtol: float = 1e-3) -> float | None:
    if not values:
        return None
    v = np.concatenate([np.ravel(x) for x in values])
    if not np.all(v > 0):
        return None
    med = float(np.median(v))
    return med if np.all(np.abs(v / med - 1) <= rtol) else None


def _is_round(x: float) -> bool:
    return abs(float(f"{x:.2e}") - x) <= 1e-5 * abs(x)


def _auto_convention(graph: _Graph, params: dict) -> tuple[str, str]:
    if _text(graph.metadata.get("exporter")) == EXPORTER:
        return "physical", f"written by {EXPORTER}'s save_nir (physical units)"
    with_r = {k: p for k, p in params.items() if "r" in p}
    if not with_r:
        return "physical", "no node has an r to tell the exporter by"
    if all(np.allclose(p["r"], 1.0, rtol=1e-6, atol=0) for p in with_r.values()):
        taus = [p[k] for p in params.values() for k in ("tau", "tau_mem", "tau_syn") if k in p]
        if not taus:
            return "sinabs", "r = 1 everywhere and no time constant (IF/I only): Sinabs"
        low = min(float(np.min(t)) for t in taus)
        if low >= 1:
            return "sinabs", "r = 1 everywhere and every tau >= 1: Sinabs (tau in ticks)"
        return "norse", "r = 1 everywhere and some tau < 1: Norse (tau in seconds)"
    leaky = _leaky(params)
    if not leaky:
        return "physical", "r != 1 and no time constant: taken literally"
    snn = _snntorch_dt0(leaky)
    rock = _rockpool_dt0(leaky)
    if snn is not None and rock is not None:
        if _is_round(rock) and not _is_round(snn):
            return "rockpool", (f"r = (tau/dt0) e^(-dt0/tau) with one round dt0 = {rock:.6g} s "
                                f"(tau/r = {snn:.6g} s is not round): Rockpool")
        return "snntorch", f"r = tau/dt0 with one dt0 = {snn:.6g} s: snnTorch"
    if snn is not None:
        return "snntorch", f"r = tau/dt0 with one dt0 = {snn:.6g} s: snnTorch"
    if rock is not None:
        return "rockpool", f"r = (tau/dt0) e^(-dt0/tau) with one dt0 = {rock:.6g} s: Rockpool"
    return "physical", ("r differs from 1 and fits neither snnTorch's r = tau/dt0 nor "
                        "Rockpool's r = (tau/dt0) e^(-dt0/tau) with one dt0: taken literally")


def _tau_mem(p):
    return p["tau"] if "tau" in p else p["tau_mem"]


def _leaky(params: dict) -> dict:
    """The neuron nodes with a membrane time constant (not IF, I, Threshold)."""
    return {k: p for k, p in params.items() if "tau" in p or "tau_mem" in p}


def _snntorch_steps(leaky: dict) -> list[np.ndarray]:
    """``dt0 = tau / r`` of every leaky node (snnTorch)."""
    return [_tau_mem(p) / p["r"] for p in leaky.values()]


def _rockpool_steps(leaky: dict) -> list[np.ndarray]:
    """``dt0`` solving ``r = (tau/dt0) e^(-dt0/tau)`` for every leaky node (Rockpool)."""
    return [_lambert_u(p["r"]) * _tau_mem(p) for p in leaky.values()]


def _snntorch_dt0(leaky: dict) -> float | None:
    dt0 = _consistent(_snntorch_steps(leaky))
    if dt0 is None:
        return None
    for p in leaky.values():
        if "tau_syn" in p and not np.allclose(p["tau_syn"] / p["w_in"], dt0, rtol=1e-3, atol=0):
            return None
    return dt0


def _rockpool_dt0(leaky: dict) -> float | None:
    dt0 = _consistent(_rockpool_steps(leaky), rtol=1e-4)
    if dt0 is None:
        return None
    if any("w_in" in p and not np.allclose(p["w_in"], 1.0) for p in leaky.values()):
        return None
    return dt0


def _exporter_step(conv: str, params: dict, dt_export: float | None) -> tuple[float, str]:
    """``dt0`` of the snnTorch or Rockpool convention (the caller's ``dt_export``, else
    the median over the nodes, else the exporter's default) and what to add to the
    reason."""
    if dt_export is not None:
        dt0 = float(dt_export)
        how = f"; dt0 = {dt0:.6g} s given by the caller"
    else:
        leaky = _leaky(params)
        if conv == "snntorch":
            vals = _snntorch_steps(leaky)
            fallback = SNNTORCH_DT
        else:
            vals = _rockpool_steps(leaky)
            fallback = ROCKPOOL_DT
        dt0 = float(np.median(np.concatenate([np.ravel(v) for v in vals]))) if vals \
            else fallback
        how = f"; exporter step dt0 = {dt0:.6g} s" + ("" if vals else " (default)")
    if not (dt0 > 0 and math.isfinite(dt0)):
        raise ValueError(f"dt_export must be a positive number of seconds, got {dt0!r}")
    return dt0, how


def _choose_convention(graph: _Graph, params: dict, convention: str,
                       dt_export: float | None) -> tuple[str, str, float | None]:
    """``(convention, reason, dt0)``: ``convention`` or the guessed one, why, and the
    exporter step ``dt0`` (None but for snnTorch and Rockpool)."""
    if convention == "auto":
        conv, reason = _auto_convention(graph, params)
    else:
        conv, reason = convention, "chosen by the caller"
    dt0 = None
    if conv in ("snntorch", "rockpool"):
        dt0, how = _exporter_step(conv, params, dt_export)
        reason += how
    return conv, reason, dt0


def norse_time_scale(params: dict, dt: float, dt_export: float | None) -> tuple[float, str]:
    """The factor Norse's exporter multiplied every time constant by: Norse 1.1.0 writes
    ``tau * dt_export`` (``to_nir``'s ``dt``, 1e-3 s by default), older exports seconds.
    ``dt_export`` given: that factor. Else 1e-3 when some time constant is below ``dt``
    (no Euler step of ``dt`` could run it as written) and all are below 1e-3 (neurons
    faster than 1 s once divided), 1 otherwise; with a sentence."""
    if dt_export is not None:
        return float(dt_export), f"; time constants divided by dt_export = {dt_export:g} given"
    taus = [p[k] for p in params.values() for k in ("tau", "tau_mem", "tau_syn") if k in p]
    shortest = min((float(np.min(t)) for t in taus), default=math.inf)
    longest = max((float(np.max(t)) for t in taus), default=0.0)
    if shortest >= dt or longest >= NORSE_EXPORT_DT:  # as written, or not 1.1.0's (< 1 s)
        return 1.0, ""
    return NORSE_EXPORT_DT, (f"; the shortest time constant, {shortest:.3g}, is below dt = "
                             f"{dt:g} s: read as Norse 1.1.0 writes them, tau * dt_export with "
                             f"to_nir's default dt_export = {NORSE_EXPORT_DT:g} s (pass "
                             f"dt_export= to say otherwise)")


def _file_step(conv: str, dt: float, dt0: float | None) -> float:
    """``h``: the file's time step in the file's time unit (s, or ticks for Sinabs)."""
    return {"physical": dt, "norse": dt, "sinabs": 1.0}.get(conv, dt0)


# ====================================================================== neuron models
@dataclass
class _Model:
    """One neuron node as per-neuron LifPhysical values and input gains (flat, size n)."""

    values: dict[str, np.ndarray]     # LifPhysical numeric fields
    in_gain: np.ndarray               # A per unit of NIR input, per post neuron
    bias_gain: np.ndarray             # A of DC current per unit of constant NIR input
    spiking: bool
    reset: str


@dataclass
class _Fit:
    """One neuron node being fitted to the reference map: its parameters ``p``, its
    ``n`` neurons, the convention ``conv``, the tick ``dt`` and the file's step ``h``."""

    p: dict
    shape: tuple[int, ...]
    n: int
    conv: str
    dt: float
    h: float
    fail: Callable[[str], None]

    @property
    def euler(self) -> bool:
        return self.conv in ("norse", "snntorch")

    @property
    def memoryless(self) -> float:
        return self.dt * MEMORYLESS_TAU

    def flat(self, key, default=None) -> np.ndarray:
        """Parameter ``key`` (or ``default``) broadcast to the node, flat float64."""
        a = self.p[key] if key in self.p else np.asarray(default, dtype=np.float64)
        return np.broadcast_to(a, self.shape).reshape(self.n).astype(np.float64)


def _model(node: _Node, p: dict, conv: str, dt: float, dt0: float | None, reset: str,
           source: str) -> _Model:
    """The population of neuron node ``node`` (parameters ``p``) in convention ``conv``."""
    shape = node.shape
    f = _Fit(p, shape, int(np.prod(shape)), conv, dt, _file_step(conv, dt, dt0),
             _P(node, source).fail)
    kind = node.type
    if kind == "Threshold":
        return _threshold_model(f)
    values, m_scale = _membrane(f, kind)
    tau_s, in_gain, bias_gain = _synapse(f, kind, m_scale)
    in_gain = np.where(np.abs(in_gain - 1.0) <= GAIN_SNAP, 1.0, in_gain)
    bias_gain = np.where(np.abs(bias_gain - 1.0) <= GAIN_SNAP, 1.0, bias_gain)
    spiking = kind not in NON_SPIKING
    V_th, V_reset, reset = _firing(f, spiking, reset)
    values.update(V_th=V_th, V_reset=V_reset, tau_syn=tau_s)
    for key, a in values.items():
        if not np.all(np.isfinite(a)) or (key in ("C", "g_L", "tau_syn") and np.any(a <= 0)):
            f.fail(f"gives a non-physical {key} ({float(a.flat[0])!r}) with dt = {dt!r} and "
                   f"convention {conv!r}")
    return _Model(values, in_gain, bias_gain, spiking, reset)


def _threshold_model(f: _Fit) -> _Model:
    """Threshold: both decays exactly 0, ``R = 1``: ``V`` is this tick's input."""
    n = f.n
    ones = np.ones(n)
    tau_m = np.full(n, f.memoryless)
    values = {"C": tau_m.copy(), "g_L": ones.copy(), "E_L": np.zeros(n),
              "V_th": f.flat("threshold"), "V_reset": np.zeros(n),
              "tau_syn": np.full(n, f.memoryless)}
    return _Model(values, ones.copy(), ones.copy(), True, "none")


def _membrane(f: _Fit, kind: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``C``, ``g_L``, ``E_L`` of the membrane, and the scale of the input the
    convention applies on top of the reference's ``R (1 - a_m)``."""
    n, h, dt = f.n, f.h, f.dt
    r = f.flat("r")
    if kind in ("IF", "I"):
        tau_m = np.full(n, NO_LEAK_TICKS * dt)
        gain = h * r                                        # volts per unit input per tick
        R = gain / (1.0 - np.exp(-dt / tau_m))
        g_L = 1.0 / R
        E_L = np.zeros(n)
        return {"C": tau_m * g_L, "g_L": g_L, "E_L": E_L}, np.ones(n)
    tau = f.flat("tau" if "tau" in f.p else "tau_mem")
    x = h / tau
    if f.euler:
        a_m = 1.0 - x
        if np.any(a_m <= 0):
            bad = a_m <= 0
            f.fail(f"membrane decay per tick 1 - h/tau = {float(a_m[bad][0])!r} <= 0 "
                   f"(h = {h!r}, tau = {float(tau[bad][0])!r}): the {f.conv} (Euler) step "
                   f"needs tau > h" + ("; Norse 1.1.0 writes tau * dt_export: pass "
                                       "dt_export=" if f.conv == "norse" else ""))
        tau_m = -dt / np.log1p(-x)
        m_scale = np.ones(n)
    else:
        a_m = np.exp(-x)
        tau_m = tau * (dt / h)
        # Rockpool adds its input unscaled: v = a v + x (LIFTorch: v = a v + i)
        m_scale = 1.0 / (r * (1.0 - a_m)) if f.conv == "rockpool" else np.ones(n)
    if np.any(a_m >= 1.0):
        f.fail(f"time constant too long for dt: exp(-h/tau) rounds to 1 "
               f"(tau = {float(tau.max())!r})")
    return {"C": tau_m / r, "g_L": 1.0 / r, "E_L": f.flat("v_leak")}, m_scale


def _synapse(f: _Fit, kind: str, m_scale: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``tau_syn``, the current jump per unit of input and the DC current per unit of
    constant input (no synaptic state but for CubaLIF and CubaLI)."""
    if kind not in ("CubaLIF", "CubaLI"):
        return np.full(f.n, f.memoryless), m_scale, m_scale.copy()
    h, dt, memoryless = f.h, f.dt, f.memoryless
    ts = f.flat("tau_syn")
    w_in = f.flat("w_in")
    xs = h / ts
    if f.euler:
        a_s = 1.0 - xs
        if np.any(a_s < 0):
            bad = a_s < 0
            f.fail(f"synaptic decay per tick 1 - h/tau_syn = {float(a_s[bad][0])!r} < 0 "
                   f"(h = {h!r}, tau_syn = {float(ts[bad][0])!r}): the {f.conv} (Euler) step "
                   f"needs tau_syn >= h")
        with np.errstate(divide="ignore"):
            tau_s = np.where(a_s > 0, -dt / np.log1p(-np.minimum(xs, 1.0)), memoryless)
        jump = w_in if f.conv == "norse" else xs * w_in
    else:
        a_s = np.exp(-xs)
        tau_s = np.where(a_s > 0, ts * (dt / h), memoryless)
        jump = a_s * w_in if f.conv == "rockpool" else (1.0 - a_s) * w_in
    in_gain = jump * m_scale
    return tau_s, in_gain, in_gain / (1.0 - a_s)


def _firing(f: _Fit, spiking: bool, reset: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``V_th``, ``V_reset`` and the reset mode (never firing for LI, CubaLI and I)."""
    n = f.n
    if not spiking:
        return np.full(n, NEVER_FIRES_V_TH), np.zeros(n), "none"
    V_th = f.flat("v_threshold")
    V_reset = f.flat("v_reset", 0.0)
    if reset == "value" and np.any(~(V_reset < V_th)):
        bad = ~(V_reset < V_th)
        f.fail(f"v_reset ({float(V_reset[bad][0])!r}) must be below v_threshold "
               f"({float(V_th[bad][0])!r}) for reset 'value'")
    return V_th, V_reset, reset
