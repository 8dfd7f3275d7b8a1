r"""The floating-point reference twin of the LIF, in physical SI units.

The model of the seed text (RC membrane, threshold, reset, refractory period, adaptive
threshold, noise) that the integer program of ``kernel`` approximates::

    C dV/dt        = -g_L (V - E_L) + I_syn + I_bias + I_ext(t)     (+ sigma dW/dt on V)
    dI_syn/dt      = -I_syn / tau_syn        (+ jumps: synaptic input)
    dTheta/dt      = -Theta / tau_theta      (+ alpha at every spike)
    spike when V >= V_th + Theta  (and not refractory)

``simulate`` advances it tick by tick in *exactly the order of the integer kernel* (the
order is part of the spec: the integer core approximates this map, and the
integer-vs-float bounds rest on it). With ``a_m = exp(-dt/tau_m)``,
``a_s = exp(-dt/tau_syn)``, ``a_th = exp(-dt/tau_theta)``, ``ref_ticks = round(T_ref/dt)``,
for every neuron at tick ``k``::

    I_syn = a_s I_syn + syn_input[k]
    if ref > 0:  ref -= 1;  V held (unchanged; no noise either)
    else:        V = E_L + (V - E_L) a_m + R (1 - a_m) (I_syn + I_bias + I_ext[k])
                 V += noise[k] + sigma sqrt(dt) xi_k            xi_k ~ N(0, 1)
    Theta = a_th Theta
    fire  = (ref was 0 at the start of the tick) and V >= V_th + Theta
    on fire:  V = V_reset                          reset "value"
              V = V - ((V_th - E_L) + Theta)       reset "subtract"
              V unchanged                          reset "none"
              ref = ref_ticks;  Theta = Theta + alpha

The ``"exact"`` membrane update is the exact solution of the membrane equation over one
tick *with its input held constant over the tick* (the synaptic current is sampled
once per tick, after its jump), which is what the integer core computes with
``v - (v >> k_v) + i + bias``. ``method="euler"`` replaces it by a forward-Euler step,
``V += dt/C (-g_L (V - E_L) + I)``, and every decay factor ``exp(-dt/tau)`` by
``1 - dt/tau`` (stable for ``dt < 2 tau``; no check is made).

Noise is Euler–Maruyama: ``sigma`` (V/sqrt(s)) is the intensity of white noise on
``dV/dt``; the Ornstein–Uhlenbeck membrane it gives has stationary variance
``sigma^2 tau_m / 2`` (the exact per-tick map: ``sigma^2 dt / (1 - a_m^2)``).

Reset by subtraction removes the threshold *measured from rest*, ``V_th - E_L + Theta``:
the integer registers count volts above ``E_L`` (``v = 0`` is rest), and
``v - (v_th + theta)`` there is exactly this. With ``E_L = 0`` (NIR, Norse, snnTorch) it
is the familiar ``V -= V_th + Theta``.

``spike_times_step_current`` is an independent, event-driven exact solver for one
neuron under a piecewise-constant current (no tick grid), used to check the per-tick
map against LIF theory (``analytic``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from ..traces import RecordedRun, canonical

RESET_MODES = ("value", "subtract", "none")  # same codes (0, 1, 2) as kernel.RESET_MODES
NUMERIC_FIELDS = ("C", "g_L", "E_L", "V_th", "V_reset", "T_ref", "tau_syn", "tau_theta",
                  "alpha", "I_bias", "sigma")
METHODS = ("exact", "euler")

# (field, test on the float64 array, what it must be)
_DOMAIN = (
    ("C", lambda x: x > 0, "positive (F)"),
    ("g_L", lambda x: x > 0, "positive (S)"),
    ("tau_syn", lambda x: x > 0, "positive (s)"),
    ("tau_theta", lambda x: x > 0, "positive (s)"),
    ("T_ref", lambda x: x >= 0, ">= 0 (s)"),
    ("alpha", lambda x: x >= 0, ">= 0 (V; the threshold offset only jumps up)"),
    ("sigma", lambda x: x >= 0, ">= 0 (V/sqrt(s))"),
)


def _first_bad(value, ok) -> object:
    """The first element of ``value`` where ``ok`` is False (as a Python float or str)."""
    arr, ok = np.broadcast_arrays(np.atleast_1d(np.asarray(value)), np.atleast_1d(ok))
    bad = arr[~ok]
    item = bad[0] if bad.size else arr[0]
    return item.item() if hasattr(item, "item") else item


@dataclass(frozen=True, eq=False)
class LifPhysical:
    r"""Leaky integrate-and-fire neuron in SI units.

    ``C dV/dt = -g_L (V - E_L) + I(t)`` with ``I = I_syn + I_bias (+ I_ext)``;
    ``tau_syn dI_syn/dt = -I_syn``; threshold ``V_th + Theta`` with
    ``tau_theta dTheta/dt = -Theta`` and ``Theta += alpha`` per spike; after a spike the
    reset (``reset``: ``"value"`` ``V = V_reset``, ``"subtract"``
    ``V -= V_th - E_L + Theta``, ``"none"``) and ``T_ref`` of absolute refractoriness
    (``V`` held). ``sigma`` is white-noise intensity on ``V`` (V/sqrt(s)).

    Every numeric field is a float or a 1-D float64 array of per-neuron values (all
    arrays of one length, scalars broadcast); ``reset`` is one of ``RESET_MODES`` or a
    1-D sequence of them. Arrays are stored as read-only copies. Invalid values raise
    ``ValueError`` naming the field and the offending value.
    """

    C: float = 200e-12         # F
    g_L: float = 10e-9         # S
    E_L: float = -70e-3        # V
    V_th: float = -50e-3       # V  (base threshold, theta_0)
    V_reset: float = -65e-3    # V
    T_ref: float = 2e-3        # s  absolute refractory period
    tau_syn: float = 5e-3      # s  synaptic current decay
    tau_theta: float = 100e-3  # s  adaptive threshold relaxation
    alpha: float = 0.0         # V  threshold jump per spike
    I_bias: float = 0.0        # A  constant input current
    sigma: float = 0.0         # V / sqrt(s): additive white-noise intensity on V
    reset: str = "value"       # "value" | "subtract" | "none" (or one per neuron)

    def __post_init__(self):
        sizes: dict[str, int] = {}
        for name in NUMERIC_FIELDS:
            raw = getattr(self, name)
            try:
                arr = np.array(raw, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"LifPhysical.{name} must be a real number or a 1-D array "
                                 f"of them, got {raw!r}") from None
            if np.iscomplexobj(np.asarray(raw)):
                raise ValueError(f"LifPhysical.{name} must be real, got {raw!r}")
            if arr.ndim > 1:
                raise ValueError(f"LifPhysical.{name} must be a scalar or 1-D (one value per "
                                 f"neuron), got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"LifPhysical.{name} must be finite, got "
                                 f"{_first_bad(arr, np.isfinite(arr))!r}")
            if arr.ndim == 0:
                object.__setattr__(self, name, float(arr))
            else:
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)
                sizes[name] = arr.shape[0]

        reset = self.reset
        if isinstance(reset, str):
            if reset not in RESET_MODES:
                raise ValueError(f"LifPhysical.reset must be one of {RESET_MODES}, got {reset!r}")
        else:
            modes = np.array(reset, dtype=str)
            if modes.ndim != 1:
                raise ValueError(f"LifPhysical.reset must be a string or a 1-D sequence of "
                                 f"strings, got {reset!r}")
            unknown = [m for m in modes.tolist() if m not in RESET_MODES]
            if unknown:
                raise ValueError(f"LifPhysical.reset must be one of {RESET_MODES}, got "
                                 f"{unknown[0]!r}")
            modes.flags.writeable = False
            object.__setattr__(self, "reset", modes)
            sizes["reset"] = modes.shape[0]

        lengths = {s for s in sizes.values() if s != 1}
        if len(lengths) > 1:
            raise ValueError("LifPhysical per-neuron fields have different lengths: " +
                             ", ".join(f"{k}={v}" for k, v in sizes.items()))

        for name, test, what in _DOMAIN:
            value = np.asarray(getattr(self, name))
            ok = test(value)
            if not np.all(ok):
                raise ValueError(f"LifPhysical.{name} must be {what}, got "
                                 f"{_first_bad(value, ok)!r}")
        by_value = np.asarray(self.reset) == "value"
        ok = ~by_value | (np.asarray(self.V_reset) < np.asarray(self.V_th))
        if not np.all(ok):
            raise ValueError(f"LifPhysical.V_reset must be below V_th for reset 'value', got "
                             f"V_reset={_first_bad(self.V_reset, ok)!r}, "
                             f"V_th={_first_bad(self.V_th, ok)!r}")

    # ----------------------------------------------------------------- derived values
    @property
    def R(self):
        """Membrane (leak) resistance ``1 / g_L`` (ohm)."""
        return 1.0 / self.g_L

    @property
    def tau_m(self):
        """Membrane time constant ``C / g_L = R C`` (s)."""
        return self.C / self.g_L

    @property
    def n(self) -> int | None:
        """Number of neurons the per-neuron fields fix, or ``None`` when all are scalar."""
        sizes = [np.size(getattr(self, f)) for f in (*NUMERIC_FIELDS, "reset")
                 if np.ndim(getattr(self, f))]
        return max(sizes) if sizes else None

    def broadcast(self, n: int) -> LifPhysical:
        """The same model with every numeric field a float64 array of shape ``(n,)``.

        ``reset`` stays a string when it is one (else it is broadcast too).
        """
        n = int(n)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        values = {}
        for name in NUMERIC_FIELDS:
            value = getattr(self, name)
            try:
                values[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
            except ValueError:
                raise ValueError(f"LifPhysical.{name} has {np.size(value)} values, cannot "
                                 f"broadcast to {n} neurons") from None
        reset = self.reset
        if not isinstance(reset, str):
            try:
                reset = np.broadcast_to(reset, (n,)).copy()
            except ValueError:
                raise ValueError(f"LifPhysical.reset has {np.size(reset)} values, cannot "
                                 f"broadcast to {n} neurons") from None
        return LifPhysical(**values, reset=reset)

    def reset_codes(self, n: int) -> np.ndarray:
        """Reset mode per neuron as ``int64`` codes (index into ``RESET_MODES``)."""
        codes = np.array([RESET_MODES.index(m) for m in np.atleast_1d(self.reset).tolist()],
                         dtype=np.int64)
        return np.broadcast_to(codes, (n,)).copy()

    # ----------------------------------------------------------------- value semantics
    def __eq__(self, other):
        if not isinstance(other, LifPhysical):
            return NotImplemented
        return all(np.array_equal(np.asarray(getattr(self, f.name)),
                                  np.asarray(getattr(other, f.name)))
                   and np.shape(getattr(self, f.name)) == np.shape(getattr(other, f.name))
                   for f in fields(self))

    def __hash__(self):
        return hash(tuple((np.shape(getattr(self, f.name)),
                           np.asarray(getattr(self, f.name)).tobytes()) for f in fields(self)))


@dataclass(frozen=True, eq=False)
class FloatTrace(RecordedRun):
    """What ``simulate`` recorded: every array is ``(ticks, n)``, row ``k`` the state after
    tick ``k``; named as the chip's registers (``V``, ``I_syn``, ``Theta``: the same
    arrays), with the views of ``firmware_models.traces`` (``spike_times``, ``trace``).

    Time convention: tick ``k`` (0-based) advances the state from ``t = k dt`` to
    ``t = (k + 1) dt``, so row ``k`` is the state at ``(k + 1) dt`` (``times``) and a spike
    decided in tick ``k`` happens at ``(k + 1) dt`` (``spike_times``): the end of the tick,
    i.e. the first grid point at which the threshold crossing is seen.
    """

    dt: float
    v: np.ndarray | None        # (ticks, n) volts, after each tick
    i: np.ndarray | None        # (ticks, n) amperes
    theta: np.ndarray | None    # (ticks, n) volts, threshold offset above V_th
    spikes: np.ndarray | None   # (ticks, n) bool
    # (None: not recorded -- ``simulate(record=...)`` allocates only what it records)

    V = property(lambda self: self.v, doc="``v``, the membrane (V)")
    I_syn = property(lambda self: self.i, doc="``i``, the synaptic current (A)")
    Theta = property(lambda self: self.theta, doc="``theta``, the threshold offset (V)")
    _tick_length = property(lambda self: self.dt)

    def _lookup(self, name: str):
        return getattr(self, name) if name in RECORDABLE else None

    def _recorded(self) -> tuple[str, ...]:
        return tuple(name for name in RECORDABLE if getattr(self, name) is not None)

    ticks = property(lambda self: self.trace(self._recorded()[0]).shape[0])
    n = property(lambda self: self.trace(self._recorded()[0]).shape[1])

    @property
    def times(self) -> np.ndarray:
        """Time (s) of each recorded row: ``(k + 1) dt``."""
        return (np.arange(self.ticks) + 1) * self.dt


RECORDABLE = ("v", "i", "theta", "spikes")   # the old V, I_syn, Theta: aliases


def _per_tick(name: str, value, ticks: int, n: int):
    """A ``(ticks, n)``-broadcastable 2-D input as float64 (``None`` stays ``None``; a
    function of the tick stays that function)."""
    if value is None or callable(value):
        return value
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (ticks, n) = ({ticks}, {n}), got shape {arr.shape}")
    try:
        return np.broadcast_to(arr, (ticks, n))
    except ValueError:
        raise ValueError(f"{name} has shape {arr.shape}, expected ({ticks}, {n})") from None


def _initial(name: str, value, default, n: int) -> np.ndarray:
    arr = np.asarray(default if value is None else value, dtype=np.float64)
    try:
        out = np.broadcast_to(arr, (n,)).copy()
    except ValueError:
        raise ValueError(f"{name} has shape {arr.shape}, expected a scalar or ({n},)") from None
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite")
    return out


def _infer_n(p: LifPhysical, n: int | None, inputs: dict) -> int:
    """Neuron count from ``n``, the parameters, the per-tick inputs and initial values."""
    seen: dict[str, int] = {}
    if p.n is not None and p.n != 1:
        seen["parameters"] = p.n
    for name, value in inputs.items():
        if value is None or callable(value):
            continue
        shape = np.shape(value)
        if name in ("V0", "I0", "Theta0"):
            size = shape[0] if len(shape) == 1 else 1
        else:
            size = shape[1] if len(shape) == 2 else 1
        if size != 1:
            seen[name] = size
    if n is not None:
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        n = int(n)
        for name, size in seen.items():
            if size != n:
                raise ValueError(f"{name} is for {size} neurons, but n={n}")
        return n
    sizes = set(seen.values())
    if len(sizes) > 1:
        raise ValueError("inconsistent neuron counts: " +
                         ", ".join(f"{k}={v}" for k, v in seen.items()))
    return sizes.pop() if sizes else 1


def decay_factors(p: LifPhysical, dt: float, method: str = "exact"):
    """``(a_m, a_s, a_th)``: ``exp(-dt/tau)`` (exact) or ``1 - dt/tau`` (euler)."""
    if method == "exact":
        return np.exp(-dt / p.tau_m), np.exp(-dt / p.tau_syn), np.exp(-dt / p.tau_theta)
    if method == "euler":
        return 1.0 - dt / p.tau_m, 1.0 - dt / p.tau_syn, 1.0 - dt / p.tau_theta
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _run_length(dt, ticks, method: str) -> tuple[float, int]:
    """``dt`` as a positive finite float and ``ticks`` as an int >= 0, or a named error."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ValueError(f"dt must be a positive number of seconds, got {dt!r}") from None
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be positive and finite, got {dt!r}")
    if isinstance(ticks, bool) or int(ticks) != ticks or ticks < 0:
        raise ValueError(f"ticks must be a non-negative integer, got {ticks!r}")
    return dt, int(ticks)


def _fire(q: LifPhysical, fired, V, ref, Theta, codes, ref_ticks):
    """The reset of the neurons that fired: ``V`` by their mode (value, subtract the
    threshold above rest, none), the refractory count, the threshold's jump ``alpha``."""
    threshold = q.V_th + Theta
    V = np.where(fired & (codes == 0), q.V_reset, V)
    V = np.where(fired & (codes == 1), V - (threshold - q.E_L), V)
    ref = np.where(fired, ref_ticks, ref)
    if np.any(q.alpha):
        Theta = np.where(fired, Theta + q.alpha, Theta)
    return V, ref, Theta


def _row(source, k: int):
    """Tick ``k`` of a per-tick input: a row of a ``(ticks, n)`` array or ``source(k)``."""
    return source(k) if callable(source) else source[k]


def _recorder(record, ticks: int, n: int) -> dict[str, np.ndarray]:
    """The output arrays of the recorded variables, ``(ticks, n)`` each."""
    record = tuple(canonical(r) for r in record)
    unknown = [r for r in record if r not in RECORDABLE]
    if unknown or not record:
        raise ValueError(f"record must name some of {RECORDABLE}, got {tuple(record)!r}")
    return {name: np.zeros((ticks, n), dtype=bool) if name == "spikes" else
            np.empty((ticks, n)) for name in record}


def _future(feedback, horizon, ticks: int, n: int):
    """The feedback's array of later jumps: ``(ticks, n)``, or a ring of ``horizon`` rows."""
    if feedback is None or horizon is None:
        return None if feedback is None else np.zeros((ticks, n))
    if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer of ticks, got {horizon!r}")
    return np.zeros((min(int(horizon), max(ticks, 1)), n))


def simulate(p: LifPhysical, dt: float, ticks: int, *, n: int | None = None,
             syn_input: np.ndarray | None = None,
             I_ext: np.ndarray | None = None,
             method: str = "exact",
             seed: int | None = None,
             noise: np.ndarray | None = None,
             V0=None, I0=None, Theta0=None, feedback=None,
             record=RECORDABLE, horizon: int | None = None) -> FloatTrace:
    r"""Run ``n`` neurons of ``p`` for ``ticks`` ticks of ``dt`` seconds (module docstring).

    ``syn_input[k]`` (A) is the jump of ``I_syn`` arriving in tick ``k``; ``I_ext[k]``
    (A) an extra current held constant over tick ``k``; ``noise[k]`` (V) is added to
    ``V`` in tick ``k`` (e.g. the hardware's noise in volts); with ``sigma > 0``,
    ``sigma sqrt(dt) xi`` with ``xi`` drawn from ``np.random.default_rng(seed)``, one
    ``standard_normal(n)`` per tick (noise is not applied to refractory neurons, whose
    ``V`` is held). Per-tick arrays are 2-D, ``(ticks, n)`` or broadcastable to it
    (``(ticks, 1)``, ``(1, n)``); ``syn_input`` and ``I_ext`` may instead be functions
    of the tick ``k`` returning its ``(n,)`` values (nothing of the whole run is then
    allocated for them). Initial state: ``V0`` (default ``E_L``), ``I0`` (default 0),
    ``Theta0`` (default 0), no neuron refractory.

    ``feedback(k, fired, future)``, when given, is called after every tick ``k`` with the
    spikes of that tick and a ``(ticks, n)`` array of jumps (A) it may add to for later
    ticks (``future[k']`` joins ``syn_input[k']``): how a network of these neurons feeds
    its own spikes back through delayed synapses; with ``horizon`` (more ticks than the
    longest delay) a ring of ``horizon`` rows instead (tick ``k'`` is row ``k' % horizon``,
    cleared once read). ``record`` names the variables kept (``RECORDABLE``; the others
    are ``None``, never allocated). ``n`` defaults to what the parameters / inputs say
    (1 when nothing does). The tick loop is in Python, every tick vectorised over neurons.
    """
    dt, ticks = _run_length(dt, ticks, method)
    n = _infer_n(p, n, {"syn_input": syn_input, "I_ext": I_ext, "noise": noise,
                        "V0": V0, "I0": I0, "Theta0": Theta0})
    q = p.broadcast(n)
    syn = _per_tick("syn_input", syn_input, ticks, n)
    ext = _per_tick("I_ext", I_ext, ticks, n)
    extra_noise = _per_tick("noise", noise, ticks, n)
    V = _initial("V0", V0, q.E_L, n)
    I = _initial("I0", I0, 0.0, n)
    Theta = _initial("Theta0", Theta0, 0.0, n)

    a_m, a_s, a_th = decay_factors(q, dt, method)
    drive_gain = q.R * (1.0 - a_m) if method == "exact" else dt / q.C  # V per A in a tick
    ref_ticks = _refractory_ticks(q.T_ref, dt)
    codes = q.reset_codes(n)
    noisy = bool(np.any(q.sigma > 0))
    noise_scale = q.sigma * math.sqrt(dt)
    rng = np.random.default_rng(seed) if noisy else None

    out, ref = _recorder(tuple(record), ticks, n), np.zeros(n, dtype=np.int64)
    future = _future(feedback, horizon, ticks, n)
    rows = None if future is None else future.shape[0]

    for k in range(ticks):
        I = a_s * I
        if syn is not None:
            I = I + _row(syn, k)
        if future is not None:
            I = I + future[k % rows]
            if rows < ticks:
                future[k % rows] = 0.0
        drive = I + q.I_bias
        if ext is not None:
            drive = drive + _row(ext, k)
        refractory = ref > 0
        integrated = _integrate(q, V, drive, a_m, drive_gain, method)
        if extra_noise is not None:
            integrated = integrated + extra_noise[k]
        if noisy:
            integrated = integrated + noise_scale * rng.standard_normal(n)
        V = np.where(refractory, V, integrated)
        ref = ref - refractory
        Theta = a_th * Theta
        fired = ~refractory & (V >= q.V_th + Theta)
        if fired.any():
            V, ref, Theta = _fire(q, fired, V, ref, Theta, codes, ref_ticks)
        _keep(out, k, V, I, Theta, fired)
        if feedback is not None:
            feedback(k, fired, future)
    return FloatTrace(dt, out.get("v"), out.get("i"), out.get("theta"), out.get("spikes"))


def _integrate(q: LifPhysical, V, drive, a_m, drive_gain, method: str):
    """The membrane after one tick of ``drive`` (exact or forward Euler)."""
    if method == "exact":
        return q.E_L + (V - q.E_L) * a_m + drive_gain * drive
    return V + drive_gain * (-q.g_L * (V - q.E_L) + drive)


def _keep(out: dict, k: int, V, I, Theta, fired) -> None:
    """Row ``k`` of every recorded variable."""
    for name, value in (("v", V), ("i", I), ("theta", Theta), ("spikes", fired)):
        if name in out:
            out[name][k] = value


def _refractory_ticks(T_ref, dt: float) -> np.ndarray:
    """``round(T_ref / dt)`` per neuron as int64, refusing what int64 cannot hold."""
    t_ref = np.asarray(T_ref, dtype=float)
    if not np.all(np.rint(t_ref / dt) < 2.0 ** 62):
        bad = float(t_ref.ravel()[np.argmax(~(np.rint(t_ref / dt).ravel() < 2.0 ** 62))])
        raise ValueError(f"LifPhysical.T_ref = {bad:g} s is {bad / dt:g} ticks of dt = "
                         f"{dt:g} s, beyond a 64-bit tick count")
    return np.rint(t_ref / dt).astype(np.int64)


def _scalar(p: LifPhysical, name: str) -> float:
    value = getattr(p, name)
    if np.size(value) != 1:
        raise ValueError(f"LifPhysical.{name} must be a scalar for the event-driven solver "
                         f"(one neuron), got {np.size(value)} values")
    return float(np.asarray(value).reshape(()))


def _current_pieces(steps) -> list[tuple[float, float]]:
    """``steps`` as ``(t_start, I)`` floats: starting at 0, strictly increasing, finite."""
    pieces = [(float(t), float(i)) for t, i in steps]
    if not pieces:
        raise ValueError("steps must contain at least one (t_start, I) piece")
    if pieces[0][0] != 0.0:
        raise ValueError(f"steps must start at t = 0, got t_start={pieces[0][0]!r}")
    for (t_a, _), (t_b, _) in itertools.pairwise(pieces):
        if not t_b > t_a:
            raise ValueError(f"steps must have strictly increasing t_start, got {t_a!r} then "
                             f"{t_b!r}")
    if not all(math.isfinite(t) and math.isfinite(i) for t, i in pieces):
        raise ValueError("steps must be finite")
    return pieces


def spike_times_step_current(p: LifPhysical, steps: Sequence[tuple[float, float]],
                             t_end: float, V0: float | None = None) -> np.ndarray:
    r"""Event-driven exact spike times (s) of ONE neuron under a piecewise-constant current.

    ``steps`` is a sequence of ``(t_start, I)`` (s, A), the first at ``t_start = 0``,
    strictly increasing; piece ``j`` holds ``I_j + p.I_bias`` on
    ``[t_j, t_{j+1})`` (the last one until ``t_end``). Between events the membrane is
    the exact solution

        V(t) = V_inf + (V(t0) - V_inf) exp(-(t - t0) / tau_m),   V_inf = E_L + R I,

    and the crossing of ``V_th`` is found in closed form: when ``V_inf > V_th`` (and
    ``V(t0) < V_th``) it is ``t* = t0 + tau_m ln((V(t0) - V_inf) / (V_th - V_inf))``,
    accepted if it falls before the piece ends. At a spike ``V = V_reset`` and ``V`` is
    held there for exactly ``T_ref`` (across piece boundaries if need be), then
    integration resumes. ``V0`` (default ``E_L``) at or above ``V_th`` fires at ``t = 0``.

    Scope: reset ``"value"`` only, no adaptation (``alpha = 0``), no noise
    (``sigma = 0``) — anything else raises ``ValueError``. The synaptic current
    ``I_syn`` and ``tau_syn`` play no part: the input *is* the membrane current. Spikes
    are returned in ``[0, t_end)``, continuous time (no tick grid).
    """
    if np.ndim(p.reset) != 0 and np.size(p.reset) != 1:
        raise ValueError("LifPhysical.reset must be a single mode for the event-driven solver")
    reset = str(np.asarray(p.reset).reshape(()))
    if reset != "value":
        raise ValueError(f"LifPhysical.reset must be 'value' for the event-driven solver, "
                         f"got {reset!r}")
    alpha, sigma = _scalar(p, "alpha"), _scalar(p, "sigma")
    if alpha != 0:
        raise ValueError(f"LifPhysical.alpha must be 0 for the event-driven solver "
                         f"(no adaptive threshold), got {alpha!r}")
    if sigma != 0:
        raise ValueError(f"LifPhysical.sigma must be 0 for the event-driven solver "
                         f"(deterministic), got {sigma!r}")
    E_L, V_th, V_reset = _scalar(p, "E_L"), _scalar(p, "V_th"), _scalar(p, "V_reset")
    T_ref, I_bias = _scalar(p, "T_ref"), _scalar(p, "I_bias")
    C, g_L = _scalar(p, "C"), _scalar(p, "g_L")
    R, tau = 1.0 / g_L, C / g_L

    t_end = float(t_end)
    if not (t_end > 0 and math.isfinite(t_end)):
        raise ValueError(f"t_end must be positive and finite, got {t_end!r}")
    pieces = _current_pieces(steps)
    V = E_L if V0 is None else float(V0)
    if not math.isfinite(V):
        raise ValueError(f"V0 must be finite, got {V0!r}")

    spikes: list[float] = []
    free_at = 0.0  # end of the current refractory period
    bounds = [t for t, _ in pieces[1:]] + [t_end]
    for (start, current), end in zip(pieces, bounds):
        if start >= t_end:
            break
        end = min(end, t_end)
        V_inf = E_L + R * (current + I_bias)
        t = start
        while True:
            if free_at > t:                  # refractory: V held at V_reset
                if free_at >= end:
                    break
                t = free_at
            if V >= V_th:                    # only V0 or a rounding hair at a piece edge
                spikes.append(t)
                V, free_at = V_reset, t + T_ref
                continue
            if V_inf > V_th:
                t_cross = t + tau * math.log((V - V_inf) / (V_th - V_inf))
                if t_cross < end:
                    spikes.append(t_cross)
                    V, free_at, t = V_reset, t_cross + T_ref, t_cross
                    continue
            V = V_inf + (V - V_inf) * math.exp(-(end - t) / tau)
            break
    return np.array(spikes, dtype=np.float64)
