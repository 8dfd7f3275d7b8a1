r"""The floating-point twin of the QIF program, in physical SI units, and its LIF
linearisation.

The quadratic integrate-and-fire neuron (the normal form of a saddle-node onset)::

    C dV/dt   = F(V) + I_syn + I_bias + I_ext(t),   F(V) = (g_L / ΔV) (V - E_L)(V - V_c)
    dI_syn/dt = -I_syn / tau_syn                     (+ jumps: synaptic input)
    spike when V >= V_peak;  then V = V_reset and V is held for T_ref

with ``ΔV = V_c - E_L > 0``. ``F`` is the leak current: ``F(E_L) = F(V_c) = 0``,
``F'(E_L) = -g_L`` (near rest it is the LIF's leak ``-g_L (V - E_L)``) and ``F`` is
smallest at the midpoint ``V_m = (E_L + V_c) / 2``, ``F(V_m) = -g_L ΔV / 4``. So the
rheobase is ``I_rh = g_L ΔV / 4``; below it the stable fixed point (the resting
potential under a DC current ``I``) is

    V*(I) = V_m - sqrt(ΔV²/4 - I ΔV / g_L)                              (``fixed_point``)

and above it the neuron fires with (continuous time, ``β = sqrt((I - I_rh) ΔV / g_L)``)

    ISI = T_ref + (C ΔV / (g_L β)) [atan((V_peak - V_m)/β) - atan((V_reset - V_m)/β)].

**The LIF that linearises it.** ``F`` is quadratic, so its Taylor series at an operating
point ``V0`` stops after the square:

    F(V) = F(V0) - g_eff (V - V0) + (g_L / ΔV) (V - V0)²,
    g_eff = -F'(V0) = g_L (E_L + V_c - 2 V0) / ΔV                       (``linearise``)

For ``V0 < V_m`` the effective conductance is positive and
``-g_eff (V - E_eff)`` with ``E_eff = V0 + F(V0) / g_eff`` is a LIF leak that agrees with
``F`` to first order at ``V0``: the LIF of the seed text is this local linearisation.
The neglected current is exactly ``(g_L / ΔV)(V - V0)²``: zero at ``V0``, quadratic in
the distance.

``simulate`` advances the QIF tick by tick in *exactly the order of the integer kernel*
with forward Euler (what the integer program computes; the QIF has no per-tick
solution in closed form as cheap as the LIF's exponential)::

    I_syn = a_s I_syn + syn_input[k]                      a_s = exp(-dt / tau_syn)
    if ref > 0:  ref -= 1;  V held
    else:        V = V + dt/C (F(V) + I_syn + I_bias + I_ext[k])
    fire = (ref was 0) and V >= V_peak;  on fire: V = V_reset, ref = round(T_ref/dt)

Its fixed points are exactly those of the ODE (Euler does not move them); its
trajectories approach them with an ``O(dt / tau)`` error in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..lif.reference import FloatTrace, LifPhysical

NUMERIC_FIELDS = ("C", "g_L", "E_L", "V_c", "V_peak", "V_reset", "T_ref", "tau_syn", "I_bias")


@dataclass(frozen=True, eq=False)
class QifPhysical:
    """Quadratic integrate-and-fire neuron in SI units (module docstring).

    Every numeric field is a float or a 1-D float64 array (one value per neuron; arrays
    of one length, scalars broadcast). Invalid values raise ``ValueError`` naming the
    field and the value.
    """

    C: float = 160e-12        # F
    g_L: float = 10e-9        # S, leak conductance at rest (-F'(E_L))
    E_L: float = -70e-3       # V, stable fixed point without input (rest)
    V_c: float = -50e-3       # V, unstable fixed point without input
    V_peak: float = -30e-3    # V, spike cut-off
    V_reset: float = -70e-3   # V
    T_ref: float = 0.0        # s
    tau_syn: float = 5e-3     # s
    I_bias: float = 0.0       # A

    def __post_init__(self):
        sizes = set()
        for name in NUMERIC_FIELDS:
            raw = getattr(self, name)
            try:
                arr = np.array(raw, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"QifPhysical.{name} must be a real number or a 1-D array "
                                 f"of them, got {raw!r}") from None
            if arr.ndim > 1:
                raise ValueError(f"QifPhysical.{name} must be a scalar or 1-D, got shape "
                                 f"{arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"QifPhysical.{name} must be finite, got {raw!r}")
            if arr.ndim:
                arr.flags.writeable = False
                sizes.add(arr.shape[0])
            object.__setattr__(self, name, arr if arr.ndim else float(arr))
        if len(sizes - {1}) > 1:
            raise ValueError(f"QifPhysical per-neuron fields have different lengths "
                             f"{sorted(sizes)}")
        for name, ok, what in (
                ("C", lambda: np.asarray(self.C) > 0, "positive (F)"),
                ("g_L", lambda: np.asarray(self.g_L) > 0, "positive (S)"),
                ("tau_syn", lambda: np.asarray(self.tau_syn) > 0, "positive (s)"),
                ("T_ref", lambda: np.asarray(self.T_ref) >= 0, ">= 0 (s)"),
                ("V_c", lambda: np.asarray(self.V_c) > np.asarray(self.E_L),
                 "above E_L (the unstable fixed point lies above rest)"),
                ("V_peak", lambda: np.asarray(self.V_peak) > np.asarray(self.V_c),
                 "above V_c (spikes are the runaway beyond V_c)"),
                ("V_reset", lambda: np.asarray(self.V_reset) < np.asarray(self.V_peak),
                 "below V_peak")):
            good = np.broadcast_to(ok(), (max(sizes, default=1),))
            if not np.all(good):
                value = np.broadcast_to(np.asarray(getattr(self, name)), good.shape)
                raise ValueError(f"QifPhysical.{name} must be {what}, got "
                                 f"{float(value[~good][0])!r}")

    # ------------------------------------------------------------------ derived values
    @property
    def n(self) -> int | None:
        sizes = [np.size(getattr(self, f)) for f in NUMERIC_FIELDS if np.ndim(getattr(self, f))]
        return max(sizes) if sizes else None

    @property
    def tau_m(self):
        """``C / g_L`` (s): the membrane time constant at rest."""
        return np.asarray(self.C) / np.asarray(self.g_L)

    @property
    def delta_V(self):
        """``V_c - E_L`` (V)."""
        return np.asarray(self.V_c) - np.asarray(self.E_L)

    @property
    def V_m(self):
        """Midpoint ``(E_L + V_c) / 2`` (V), where ``F`` is smallest."""
        return (np.asarray(self.E_L) + np.asarray(self.V_c)) / 2

    @property
    def curvature(self):
        """``g_L / ΔV`` (S/V): ``F(V) = curvature (V - E_L)(V - V_c)``."""
        return np.asarray(self.g_L) / self.delta_V

    @property
    def rheobase(self):
        """``g_L ΔV / 4`` (A): the smallest DC current without a fixed point."""
        return np.asarray(self.g_L) * self.delta_V / 4

    def leak(self, V):
        """``F(V)`` (A)."""
        V = np.asarray(V, dtype=float)
        return self.curvature * (V - np.asarray(self.E_L)) * (V - np.asarray(self.V_c))

    def fixed_point(self, I):
        """The stable fixed point ``V*(I)`` (V) under a DC current ``I`` on top of
        ``I_bias`` (``nan`` at and above rheobase, where there is none)."""
        total = np.asarray(I, dtype=float) + np.asarray(self.I_bias)
        disc = self.delta_V ** 2 / 4 - total / self.curvature
        with np.errstate(invalid="ignore"):
            return np.where(disc > 0, self.V_m - np.sqrt(np.where(disc > 0, disc, 0.0)),
                            np.nan)

    def isi(self, I):
        """Continuous-time ISI (s) under a DC current ``I`` on top of ``I_bias`` (``inf`` at
        and below rheobase)."""
        total = np.asarray(I, dtype=float) + np.asarray(self.I_bias)
        excess = total - self.rheobase
        with np.errstate(invalid="ignore", divide="ignore"):
            beta = np.sqrt(np.where(excess > 0, excess, np.nan) / self.curvature)
            t = np.asarray(self.T_ref) + np.asarray(self.C) / (self.curvature * beta) * (
                np.arctan((np.asarray(self.V_peak) - self.V_m) / beta)
                - np.arctan((np.asarray(self.V_reset) - self.V_m) / beta))
        return np.where(excess > 0, t, np.inf)

    def linearise(self, V0) -> Linearisation:
        """The LIF that linearises this QIF at the operating point ``V0`` (below ``V_m``)."""
        return Linearisation.at(self, V0)

    def broadcast(self, n: int) -> QifPhysical:
        return QifPhysical(**{f: np.broadcast_to(np.asarray(getattr(self, f), dtype=float),
                                                 (n,)).copy() for f in NUMERIC_FIELDS})

    def replace(self, **changes) -> QifPhysical:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return QifPhysical(**values)


@dataclass(frozen=True)
class Linearisation:
    """The LIF tangent to a QIF at ``V0``: ``C dV/dt = -g_eff (V - E_eff) + I``.

    ``I0 = -F(V0)`` is the holding current that makes ``V0`` the fixed point of both;
    with ``I0 + ΔI`` the LIF settles at ``V0 + ΔI / g_eff`` and the QIF at ``V0 + x``,
    the root of ``-g_eff x + c x² + ΔI = 0`` (``c = g_L / ΔV``) nearest 0, so

        x - ΔI / g_eff = c x² / g_eff        (exact: the steady-state error of the LIF)

    is quadratic in the QIF's distance ``x`` from ``V0``, and relative to ``x`` it is
    ``x / (2 (V_m - V0))``: "near" means small against the distance to the midpoint.
    """

    V0: float
    g_eff: float     # S
    E_eff: float     # V
    I0: float        # A (beyond the QIF's I_bias)
    curvature: float  # S/V
    C: float

    @classmethod
    def at(cls, p: QifPhysical, V0) -> Linearisation:
        V0 = float(V0)
        if p.n not in (None, 1):
            raise ValueError("linearise one neuron: the QifPhysical has per-neuron arrays")
        scalar = {f: float(np.asarray(getattr(p, f)).reshape(-1)[0]) for f in NUMERIC_FIELDS}
        q = QifPhysical(**scalar)
        if not V0 < float(q.V_m):
            raise ValueError(f"operating point V0={V0!r} V must lie below the midpoint "
                             f"V_m={float(q.V_m)!r} V, where the leak's slope is negative")
        g_eff = float(q.g_L * (q.E_L + q.V_c - 2 * V0) / q.delta_V)
        F0 = float(q.leak(V0))
        return cls(V0=V0, g_eff=g_eff, E_eff=V0 + F0 / g_eff, I0=-F0 - q.I_bias,
                   curvature=float(q.curvature), C=q.C)

    @property
    def tau_eff(self) -> float:
        """``C / g_eff`` (s): the LIF's time constant."""
        return self.C / self.g_eff

    def lif(self, *, V_th: float = 1.0, I_bias=0.0) -> LifPhysical:
        """The linearised neuron as a ``LifPhysical`` (its threshold far away by default:
        the linearisation has no spike mechanism of its own)."""
        return LifPhysical(C=self.C, g_L=self.g_eff, E_L=self.E_eff, V_th=V_th,
                           V_reset=self.E_eff, T_ref=0.0, I_bias=I_bias)

    def steady_error(self, x):
        """``c x² / g_eff`` (V): QIF minus LIF steady state when the QIF settles ``x``
        volts from ``V0``."""
        return self.curvature * np.asarray(x, dtype=float) ** 2 / self.g_eff

    def qif_displacement(self, dI):
        """``x`` (V): where the QIF settles relative to ``V0`` under ``I0 + dI``
        (``nan`` beyond the saddle-node ``dI = g_eff² / (4 c)``)."""
        dI = np.asarray(dI, dtype=float)
        disc = self.g_eff ** 2 - 4 * self.curvature * dI
        with np.errstate(invalid="ignore"):
            # (g - sqrt(g² - 4 c dI)) / (2c), written without cancellation
            return np.where(disc >= 0, 2 * dI / (self.g_eff + np.sqrt(np.maximum(disc, 0))),
                            np.nan)


def simulate(p: QifPhysical, dt: float, ticks: int, *, n: int | None = None,
             syn_input=None, I_ext=None, V0=None) -> FloatTrace:
    """Run ``n`` neurons of ``p`` for ``ticks`` ticks of ``dt`` (module docstring: forward
    Euler in the kernel's order). ``syn_input[k]`` (A) jumps ``I_syn`` in tick ``k``,
    ``I_ext[k]`` (A) is held over tick ``k`` (arrays broadcastable to ``(ticks, n)``);
    ``V0`` is the initial membrane (default ``E_L``). ``Theta`` of the trace is zero."""
    if not (isinstance(dt, (int, float)) and dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
    if isinstance(ticks, bool) or int(ticks) != ticks or ticks < 0:
        raise ValueError(f"ticks must be a non-negative integer, got {ticks!r}")
    ticks = int(ticks)
    n = int(n or p.n or max(np.shape(I_ext)[-1:] + np.shape(V0)[-1:] + (1,)))
    q = p.broadcast(n)
    syn = None if syn_input is None else np.broadcast_to(np.asarray(syn_input, float),
                                                         (ticks, n))
    ext = None if I_ext is None else np.broadcast_to(np.asarray(I_ext, float), (ticks, n))
    V = np.broadcast_to(np.asarray(q.E_L if V0 is None else V0, dtype=float), (n,)).copy()
    I = np.zeros(n)
    a_s = np.exp(-dt / q.tau_syn)
    gain = dt / q.C
    ref_ticks = np.rint(q.T_ref / dt).astype(np.int64)
    ref = np.zeros(n, dtype=np.int64)
    out_V, out_I = np.empty((ticks, n)), np.empty((ticks, n))
    out_spikes = np.zeros((ticks, n), dtype=bool)
    for k in range(ticks):
        I = a_s * I
        if syn is not None:
            I = I + syn[k]
        drive = I + q.I_bias
        if ext is not None:
            drive = drive + ext[k]
        refractory = ref > 0
        V = np.where(refractory, V, V + gain * (q.leak(V) + drive))
        ref = ref - refractory
        fired = ~refractory & (V >= q.V_peak)
        if fired.any():
            V = np.where(fired, q.V_reset, V)
            ref = np.where(fired, ref_ticks, ref)
        out_V[k], out_I[k], out_spikes[k] = V, I, fired
    return FloatTrace(dt, out_V, out_I, np.zeros((ticks, n)), out_spikes)
