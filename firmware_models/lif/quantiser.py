r"""Physical LIF parameters + dt + a core's widths -> integer register values, with errors.

The integer registers are the dimensionless form of the model (seed text, "无量纲化"):

* voltages are counted in ``v_lsb`` volts above ``E_L``: ``v = (V - E_L) / v_lsb``. The
  scale puts the threshold at ``1/headroom`` of the positive membrane range,
  ``v_th = (2^(v_bits-1) - 1) / headroom``, so spikes overshoot without saturating;
* a decay with time constant ``tau`` becomes the shift ``k`` whose
  ``tau_eff(k) = -dt / ln(1 - 2^-k)`` is nearest to ``tau`` in ratio, or, with
  ``mantissa=True`` (the reference LIF compiler), the leak ``(m, k)`` (decay
  ``1 - m 2^-k``, ``m`` of ``CoreSpec.leak_bits`` bits) whose
  ``tau_eff(k, m) = -dt / ln(1 - m 2^-k)`` is nearest (``leak_fields``; the shift,
  ``m = 1``, when it is within 0.1 %);
* the current register ``i`` is counted in *volts per tick*: the exact one-tick
  solution with input ``I`` held constant adds ``R (1 - a_m) I`` to ``V`` (with
  ``a_m = 1 - m_v 2^-k_v`` the decay the core implements), so one LSB of ``i`` (and of
  ``bias``) is ``i_lsb = v_lsb / (R (1 - a_m))`` amperes; a synaptic jump of ``W``
  amperes becomes ``W / i_lsb`` LSB, stored as mantissa ``w << w_exp``;
* ``T_ref`` becomes ``round(T_ref / dt)`` ticks;
* noise of intensity ``sigma`` (V/sqrt(s)) has per-tick standard deviation
  ``sigma sqrt(dt)``; the LFSR noise ``U{-2^(m-1) .. 2^(m-1)-1} << e`` has standard
  deviation ``2^e sqrt((4^m - 1) / 12)`` LSB, and ``(m, e)`` is chosen nearest in ratio.

``realised`` is the physical model the registers implement exactly (``tau_eff``,
rounded threshold, ...); the arithmetic error bound of docs/error-bounds.md is measured
against it, and the report lists how far each realised value is from what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ..base import first_violation
from .kernel import RESET_MODES, LifParams, param_formats
from .reference import LifPhysical


NEVER_FIRES = 1e10  # V: a threshold this high marks a neuron that never fires
_INT_LIMIT = 2.0 ** 62  # register values beyond this are refused before any int64 cast


class QuantiseError(ValueError):
    """A parameter the registers cannot hold: one line naming the population (when known),
    the neuron, the physical parameter and the value asked for."""


def _registers(values, asked, name: str, unit: str, where: str) -> np.ndarray:
    """``rint(values)`` as int64 -- ``values`` in LSB or ticks of ``asked`` (the physical
    parameter ``name``) -- refusing what no register can hold (non-finite or beyond
    2^62) by name, before the cast could wrap it into garbage."""
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.rint(np.asarray(values, dtype=float))
    bad = ~(np.abs(r) < _INT_LIMIT)
    if bad.any():
        j = int(np.flatnonzero(np.broadcast_to(bad, np.shape(r)).ravel())[0])
        value = float(np.broadcast_to(np.asarray(asked, dtype=float), np.shape(r)).ravel()[j])
        raise QuantiseError(f"{where}neuron {j}: {name} = {value:g} {unit} is beyond any "
                            f"register on this core ({float(r.ravel()[j]):g} "
                            f"{'ticks' if unit == 's' else 'LSB'}); change the parameter")
    return r.astype(np.int64)
MEMORYLESS_TICKS = 1e-3  # tau (ticks) that stands for "no memory": exp(-1000) == 0.0


def tau_eff(k, dt: float, m=1):
    """Time constant of the decay ``x - x m 2^-k`` per tick of ``dt``: ``-dt / ln(1 - m
    2^-k)``; 0 when the decay clears the register (``m 2^-k = 1``: ``k = 0``, ``m = 1``),
    ``inf`` for ``m = 0`` (no leak)."""
    k = np.asarray(k, dtype=float)
    fraction = np.asarray(m, dtype=float) * np.exp2(-k)
    decays = (fraction > 0) & (fraction < 1)
    tau = -dt / np.log1p(-np.where(decays, fraction, 0.5))
    return np.where(decays, tau, np.where(fraction >= 1, 0.0, np.inf))


def realised_tau(k, dt: float, m=1):
    """The time constant a leak ``(m, k)`` realises, as a float model takes it:
    ``tau_eff(k, dt, m)``, and for a leak that clears the register (``k = 0``: the
    register is this tick's input alone) ``dt * 1e-3``, whose decay ``exp(-1000)`` is
    exactly 0.0 -- the form NIR loads a memoryless state in."""
    tau = tau_eff(k, dt, m)
    return np.where(tau > 0, tau, dt * MEMORYLESS_TICKS)


def leak_shift(tau, dt: float, max_shift: int, memoryless: bool = True) -> np.ndarray:
    """The shift ``k`` whose decay realises ``tau``: ``k = 0`` (no memory) when the decay
    per tick ``exp(-dt/tau)`` is nearer to 0 than to ``1 - 2^-1`` (below 1/4), otherwise
    the ``k`` in ``1..max_shift`` whose ``tau_eff`` is nearest to ``tau`` in ratio
    (always the latter with ``memoryless=False``)."""
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    candidates = np.arange(1, max_shift + 1)
    ratio = np.abs(np.log(tau_eff(candidates, dt)[None, :] / tau[:, None]))
    with np.errstate(divide="ignore", over="ignore"):
        zero = np.exp(-dt / tau) < 0.25
    return np.where(zero & memoryless, 0, candidates[np.argmin(ratio, axis=1)])


def leak_fraction(m, k) -> np.ndarray:
    """``m 2^-k``: the part of a register one tick's leak ``(m, k)`` takes, ``1 - a``."""
    return np.asarray(m, dtype=float) * np.exp2(-np.asarray(k, dtype=float))


SHIFT_TOLERANCE = 1e-3  # a shift leak (m = 1) this close to tau in ratio is kept


def leak_fields(tau, dt: float, max_shift: int, leak_bits: int,
                memoryless: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The leak ``(m, k)`` whose decay ``1 - m 2^-k`` realises ``tau`` best: ``(1, 0)``
    (no memory) as ``leak_shift`` decides it; otherwise the ``1 <= m < min(2^k,
    2^leak_bits)``, ``1 <= k <= max_shift`` whose ``tau_eff`` is nearest to ``tau`` in
    ratio, except that the shift leak ``leak_shift`` picks (``m = 1``) is kept when it
    is within ``SHIFT_TOLERANCE`` or as near. ``m`` is odd or 1 (``(2m, k + 1)`` is the
    same decay as ``(m, k)``: the smaller ``k`` is used). ``leak_bits = 0`` (a core
    without mantissas) gives ``leak_shift``'s ``k`` with ``m = 1``."""
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    distinct, inverse = np.unique(tau, return_inverse=True)
    if distinct.size < tau.size:   # a function of each tau alone: once per distinct value
        m, k = leak_fields(distinct, dt, max_shift, leak_bits, memoryless)
        return m[inverse.reshape(tau.shape)], k[inverse.reshape(tau.shape)]
    k_shift = leak_shift(tau, dt, max_shift, memoryless)
    m = np.ones(tau.shape, dtype=np.int64)
    if not leak_bits or tau.size == 0:
        return m, k_shift
    ks = np.arange(1, max_shift + 1)
    one = np.exp2(ks.astype(float))[None, :, None]
    target = -np.expm1(-dt / tau)[:, None, None] * one           # m 2^-k = 1 - exp(-dt/tau)
    top = np.minimum(one - 1, float((1 << leak_bits) - 1))
    cand = np.clip(np.floor(target) + np.array([0.0, 1.0])[None, None, :], 1, top)
    error = np.abs(np.log(-np.log1p(-cand / one) * tau[:, None, None] / dt))
    flat = error.reshape(tau.size, -1)
    best = np.argmin(flat, axis=1)
    best_error = flat[np.arange(tau.size), best]
    k_best = ks[best // 2]
    m_best = cand.reshape(tau.size, -1)[np.arange(tau.size), best].astype(np.int64)
    shift_error = np.abs(np.log(tau_eff(np.maximum(k_shift, 1), dt) / tau))
    keep = (k_shift == 0) | (shift_error <= np.maximum(SHIFT_TOLERANCE, best_error))
    m = np.where(keep, 1, m_best)
    k = np.where(keep, k_shift, k_best)
    while True:  # (2m, k + 1) -> (m, k): the smallest k for the same decay
        even = (m % 2 == 0) & (k > 0)
        if not even.any():
            return m, k
        m, k = np.where(even, m // 2, m), np.where(even, k - 1, k)


@dataclass(frozen=True)
class ParameterError:
    """One parameter: what was asked (``target``) against what the registers give."""

    name: str
    unit: str
    target: np.ndarray
    realised: np.ndarray

    @property
    def relative(self) -> np.ndarray:
        target = np.asarray(self.target, dtype=float)
        diff = np.abs(np.asarray(self.realised, dtype=float) - target)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(target != 0, diff / np.abs(target), np.where(diff == 0, 0.0, np.inf))

    @property
    def max_relative(self) -> float:
        return float(np.max(self.relative, initial=0.0))

    @property
    def mean_relative(self) -> float:
        rel = self.relative
        return float(np.mean(rel)) if rel.size else 0.0


@dataclass(frozen=True)
class Scales:
    """How register values map to physical units."""

    dt: float
    E_L: np.ndarray   # V, the zero of v
    v_lsb: float      # V per LSB of v, v_th, v_reset, theta, alpha
    i_lsb: np.ndarray  # A per LSB of i and bias (per neuron)

    def volts(self, v) -> np.ndarray:
        return self.E_L + np.asarray(v, dtype=float) * self.v_lsb

    def amps(self, i) -> np.ndarray:
        return np.asarray(i, dtype=float) * self.i_lsb


@dataclass(frozen=True)
class QuantisedLif:
    params: LifParams
    scales: Scales
    realised: LifPhysical
    errors: tuple[ParameterError, ...]

    def report(self) -> str:
        return format_errors(self.errors)


def format_errors(errors) -> str:
    lines = [f"{'parameter':<12} {'unit':<5} {'asked':>12} {'realised':>12} "
             f"{'max rel err':>12} {'mean rel err':>12}"]
    for e in errors:
        lines.append(f"{e.name:<12} {e.unit:<5} {float(np.mean(e.target)):>12.5g} "
                     f"{float(np.mean(e.realised)):>12.5g} {e.max_relative:>12.3g} "
                     f"{e.mean_relative:>12.3g}")
    return "\n".join(lines)


def _noise_fields(sigma_lsb: np.ndarray, spec) -> tuple[np.ndarray, np.ndarray]:
    m = np.arange(1, spec.noise_bits_max + 1)
    e = np.arange(0, spec.max_shift + 1)
    mm, ee = np.meshgrid(m, e, indexing="ij")
    std = np.exp2(ee) * np.sqrt((4.0 ** mm - 1) / 12)
    bits = np.zeros(sigma_lsb.shape, dtype=np.int64)
    shift = np.zeros(sigma_lsb.shape, dtype=np.int64)
    on = sigma_lsb > 0
    if on.any() and m.size:
        ratio = np.abs(np.log(std.ravel())[None, :] - np.log(sigma_lsb[on])[:, None])
        best = np.argmin(ratio, axis=1)
        bits[on], shift[on] = mm.ravel()[best], ee.ravel()[best]
    return bits, shift


def noise_std_lsb(noise_bits, noise_shift) -> np.ndarray:
    """Standard deviation (LSB) of the LFSR noise value for given fields (0 when off)."""
    m = np.asarray(noise_bits, dtype=float)
    return np.exp2(np.asarray(noise_shift, dtype=float)) * np.sqrt((4.0 ** m - 1) / 12)


def quantise(p: LifPhysical, dt: float, spec, *, n: int | None = None,
             headroom: float = 2.0, v_lsb: float | None = None,
             current_span=None, v_lsb_min: float = 0.0, name: str | None = None,
             memoryless: bool = True, mantissa: bool = False) -> QuantisedLif:
    """Register values for ``n`` neurons of ``p`` on a core of ``spec`` at tick ``dt``.

    ``current_span`` (A, per neuron or one) is the largest input current the bias
    register must hold (``I_bias`` plus any dc or step input); when the threshold-based
    voltage scale is too fine for it, the scale is coarsened until the bias fits.
    Thresholds of 1e10 V and above mean "never fires" and do not set the scale; their
    register is the largest ``v_th`` (never reached while ``v`` does not saturate).
    ``v_lsb_min`` (V) is a floor on the scale (the compiler's: observed range, weights
    that must fit); ``name`` is the population named in errors; ``memoryless=False``
    keeps every leak shift at 1 or more (``leak_shift``); ``mantissa=True`` lets each
    leak be ``(m, k)`` with a mantissa of ``spec.leak_bits`` bits (``leak_fields``: any
    ``tau`` of 2 ticks or more within 0.1 %), otherwise every leak is a shift (``m = 1``).
    """
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt!r}")
    if not headroom >= 1:
        raise ValueError(f"headroom must be >= 1, got {headroom!r}")
    n = n if n is not None else max(np.size(getattr(p, f)) for f in
                                    ("C", "g_L", "E_L", "V_th", "V_reset", "T_ref", "tau_syn",
                                     "tau_theta", "alpha", "I_bias", "sigma"))
    q = p.broadcast(n)
    v_max = (1 << (spec.v_bits - 1)) - 1
    leak_bits = spec.leak_bits if mantissa else 0
    m_v, k_v = leak_fields(q.tau_m, dt, spec.max_shift, leak_bits, memoryless)
    gain = q.R * leak_fraction(m_v, k_v)  # R (1 - a_m): volts per tick per ampere
    cause = "the v_lsb given"
    if v_lsb is None:
        v_lsb, cause = _voltage_scale(q, gain, headroom, v_max, current_span, v_lsb_min)
    where = f"population {name}: " if name is not None else ""
    if not np.isfinite(v_lsb):
        raise QuantiseError(f"{where}voltage scale v_lsb is {v_lsb!r}: a voltage or an input "
                            f"current is too large for any register (I_bias, dc and step "
                            f"inputs up to {float(np.max(np.abs(current_span), initial=0)):g} "
                            f"A)" if current_span is not None else
                            f"{where}voltage scale v_lsb is {v_lsb!r}: a voltage is too large "
                            f"for any register")
    if not v_lsb > 0:
        never = bool(np.all(np.abs(q.V_th) >= NEVER_FIRES))
        raise QuantiseError(f"{where}voltage scale v_lsb must be positive, got {v_lsb!r} "
                         + ("(a population that never fires takes its scale from its "
                            "range: compile with a calibration)" if never else
                            "(V_th equals E_L?)"))

    m_i, k_i = leak_fields(q.tau_syn, dt, spec.max_shift, leak_bits, memoryless)
    m_theta, k_theta = leak_fields(q.tau_theta, dt, spec.max_shift, leak_bits, memoryless)
    tau_m_eff = realised_tau(k_v, dt, m_v)
    i_lsb = v_lsb / gain

    never = np.abs(q.V_th) >= NEVER_FIRES
    v_th = np.where(never, v_max, _registers(np.where(never, 0.0, (q.V_th - q.E_L) / v_lsb),
                                             q.V_th, "V_th", "V", where))
    v_reset = _registers((q.V_reset - q.E_L) / v_lsb, q.V_reset, "V_reset", "V", where)
    _check_resolution(q, v_th, v_reset, never, v_lsb, cause, where)
    bias = _registers(q.I_bias / i_lsb, q.I_bias, "I_bias", "A", where)
    t_ref = _registers(q.T_ref / dt, q.T_ref, "T_ref", "s", where)
    alpha = _registers(q.alpha / v_lsb, q.alpha, "alpha", "V", where)
    sigma_lsb = q.sigma * np.sqrt(dt) / v_lsb
    noise_bits, noise_shift = _noise_fields(sigma_lsb, spec)
    if np.ndim(p.reset) == 0 and p.reset not in RESET_MODES:
        raise ValueError(f"reset must be one of {RESET_MODES}, got {p.reset!r}")

    params = LifParams.make(n, k_i=k_i, k_v=k_v, k_theta=k_theta, bias=bias, v_th=v_th,
                            v_reset=v_reset, t_ref=t_ref, alpha=alpha, reset_mode=p.reset,
                            noise_bits=noise_bits, noise_shift=noise_shift, m_i=m_i, m_v=m_v,
                            m_theta=m_theta)
    _check_fields(params, spec, PHYSICAL_NAMES, where)
    sigma_real = noise_std_lsb(noise_bits, noise_shift) * (noise_bits > 0) * v_lsb / np.sqrt(dt)
    realised = replace(
        q, C=tau_m_eff * q.g_L, V_th=np.where(never, q.V_th, q.E_L + v_th * v_lsb),
        V_reset=q.E_L + v_reset * v_lsb, T_ref=t_ref * dt,
        tau_syn=realised_tau(k_i, dt, m_i), tau_theta=realised_tau(k_theta, dt, m_theta),
        alpha=alpha * v_lsb, I_bias=bias * i_lsb, sigma=sigma_real)
    scales = Scales(dt=dt, E_L=q.E_L, v_lsb=v_lsb, i_lsb=i_lsb)
    return QuantisedLif(params, scales, realised, _parameter_errors(q, realised))


def _voltage_scale(q: LifPhysical, gain, headroom: float, v_max: int, current_span,
                   v_lsb_min: float) -> tuple[float, str]:
    """``v_lsb`` from the thresholds, coarsened for the bias current and floored at
    ``v_lsb_min``, with what set it (for messages)."""
    reachable = np.abs(q.V_th - q.E_L)[np.abs(q.V_th) < NEVER_FIRES]
    span = np.max(np.abs(np.concatenate([reachable, q.V_reset - q.E_L])), initial=0.0)
    v_lsb, cause = float(span * headroom / v_max), "set by the thresholds"
    if current_span is not None:
        with np.errstate(over="ignore"):
            per_tick = float(np.max(gain * np.abs(current_span), initial=0.0)) / v_max
        if per_tick > v_lsb:
            v_lsb, cause = per_tick, (
                f"set by an input current of up to "
                f"{float(np.max(np.abs(current_span), initial=0.0)):g} A (I_bias, dc and "
                f"step inputs) that the bias register must hold")
    if float(v_lsb_min) > v_lsb:
        v_lsb, cause = float(v_lsb_min), "set by the weights or the calibrated range"
    return v_lsb, cause


def _check_resolution(q: LifPhysical, v_th, v_reset, never, v_lsb: float, cause: str,
                      where: str) -> None:
    """Refuse a voltage scale so coarse that a reset to a value lands on or above the
    threshold (the float model's ``V_reset < V_th`` lost), naming what set the scale."""
    lost = (q.reset_codes(np.size(v_th)) == 0) & ~never & (v_reset >= v_th)
    if not lost.any():
        return
    j = int(np.flatnonzero(lost)[0])
    raise QuantiseError(f"{where}neuron {j}: the voltage scale of {v_lsb:g} V per LSB "
                        f"({cause}) cannot tell V_reset = {float(q.V_reset[j]):g} V from "
                        f"V_th = {float(q.V_th[j]):g} V; "
                        + ("lower the weights into it" if "weights" in cause else
                           "lower the current" if "current" in cause else
                           "change the parameters") + " or widen v_bits")


REPORTED = (("tau_m", "s"), ("tau_syn", "s"), ("tau_theta", "s"), ("V_th", "V"),
            ("V_reset", "V"), ("T_ref", "s"), ("alpha", "V"), ("I_bias", "A"),
            ("sigma", "V/√s"))


def _parameter_errors(asked: LifPhysical, realised: LifPhysical
                      ) -> tuple[ParameterError, ...]:
    """One ``ParameterError`` per reported parameter, asked against realised."""
    return tuple(ParameterError(name, unit, getattr(asked, name), getattr(realised, name))
                 for name, unit in REPORTED)


PHYSICAL_NAMES = {"k_v": "tau_m", "k_i": "tau_syn", "k_theta": "tau_theta", "m_v": "tau_m",
                  "m_i": "tau_syn", "m_theta": "tau_theta", "bias": "I_bias", "v_th": "V_th",
                  "v_reset": "V_reset", "t_ref": "T_ref", "alpha": "alpha"}


def _check_fields(params: LifParams, spec, physical_names: dict[str, str],
                  where: str = "") -> None:
    """Refuse register values beyond their fields, naming the physical parameter."""
    bad = first_violation(params, param_formats(spec))
    if bad is not None:
        lo, hi = bad.format.range
        why = (" (a threshold below E_L: the unsigned v_th field cannot hold it)"
               if bad.field == "v_th" and bad.value < 0 else "")
        raise QuantiseError(
            f"{where}neuron {bad.index}: {physical_names.get(bad.field, bad.field)} needs "
            f"{bad.field}={bad.value}, beyond its {bad.format.bits}-bit field ({lo}..{hi}) "
            f"on this core{why}; change the parameter or the core's widths")


@dataclass(frozen=True)
class QuantisedWeights:
    w: np.ndarray       # mantissas, w_bits signed
    w_exp: int          # one exponent for all of them
    error: ParameterError
    clipped: int        # words whose value exceeded the largest mantissa at the largest exponent
    zeroed: int         # non-zero weights that rounded to 0
    clipped_mask: np.ndarray | None = None  # which weights were clipped


def quantise_weights(weights_amps, post_i_lsb, spec) -> QuantisedWeights:
    """Synaptic current jumps (A) onto ``w`` mantissas with one shared exponent.

    ``post_i_lsb`` is the ``i_lsb`` of each weight's target neuron. The exponent is the
    smallest that fits the largest weight; a weight beyond even the largest exponent is
    clipped and counted (``clipped``), never silently.
    """
    target = np.asarray(weights_amps, dtype=float)
    lsb = target / np.asarray(post_i_lsb, dtype=float)
    w_max = (1 << (spec.w_bits - 1)) - 1
    largest = float(np.max(np.abs(lsb), initial=0.0))
    w_exp = 0
    while w_exp < spec.max_w_exp and np.rint(largest / 2 ** w_exp) > w_max:
        w_exp += 1
    mantissa = np.rint(lsb / 2 ** w_exp)
    clipped = int(np.count_nonzero((mantissa > w_max) | (mantissa < -w_max - 1)))
    mantissa = np.clip(mantissa, -w_max - 1, w_max).astype(np.int64)
    zeroed = int(np.count_nonzero((mantissa == 0) & (target != 0)))
    realised = (mantissa << w_exp) * np.asarray(post_i_lsb, dtype=float)
    return QuantisedWeights(mantissa, w_exp, ParameterError("w", "A", target, realised),
                            clipped, zeroed, (np.rint(lsb / 2 ** w_exp) > w_max)
                            | (np.rint(lsb / 2 ** w_exp) < -w_max - 1))


def quantise_weights_per_group(weights_amps, post_i_lsb, post, groups: list[slice],
                               spec) -> QuantisedWeights:
    """``quantise_weights`` with one exponent per group of target neurons (``post[s]`` is
    weight ``s``'s target): ``w_exp`` is then one exponent per weight, and each group's
    weights use the whole mantissa whatever the scale of the others."""
    target = np.asarray(weights_amps, dtype=float)
    lsb = np.broadcast_to(np.asarray(post_i_lsb, dtype=float), target.shape)
    post = np.asarray(post, dtype=np.int64)
    w = np.zeros(target.size, dtype=np.int64)
    w_exp = np.zeros(target.size, dtype=np.int64)
    realised = np.zeros(target.size)
    mask = np.zeros(target.size, dtype=bool)
    for g in groups:
        sel = np.flatnonzero((post >= g.start) & (post < g.stop))
        if sel.size:
            part = quantise_weights(target[sel], lsb[sel], spec)
            w[sel], w_exp[sel], mask[sel] = part.w, part.w_exp, part.clipped_mask
            realised[sel] = part.error.realised
    zeroed = int(np.count_nonzero((w == 0) & (target != 0)))
    return QuantisedWeights(w, w_exp, ParameterError("w", "A", target, realised),
                            int(mask.sum()), zeroed, mask)


def quantise_groups(p: LifPhysical, dt: float, spec, groups: list[slice], *,
                    current_span=None, headroom: float = 2.0, v_lsb_min=None,
                    names=None, memoryless: bool = False,
                    mantissa: bool = False) -> QuantisedLif:
    """``quantise`` each group of neurons (contiguous, in order, covering all of them) with
    its own voltage scale, and put the results side by side: per-neuron ``v_lsb``.
    ``v_lsb_min`` (V, per neuron; the largest of a group counts) floors each group's
    scale; ``names`` (one per group) name the population in errors. ``memoryless`` lets a
    leak shift be 0 (off by default here: the Xylo dialect builds on this function and
    its model takes no shift of 0; the reference LIF's compiler turns it on), and
    ``mantissa`` leak mantissas (off by default for the same reason: Xylo leaks by
    shifts; the reference LIF's compiler turns it on)."""
    n = groups[-1].stop if groups else 0
    q = p.broadcast(n)
    span = np.broadcast_to(np.asarray(0.0 if current_span is None else current_span,
                                      dtype=float), (n,))
    floor = np.broadcast_to(np.asarray(0.0 if v_lsb_min is None else v_lsb_min,
                                       dtype=float), (n,))
    parts = []
    for k, g in enumerate(groups):
        part = replace(q, **{f: getattr(q, f)[g] for f in (
            "C", "g_L", "E_L", "V_th", "V_reset", "T_ref", "tau_syn", "tau_theta", "alpha",
            "I_bias", "sigma")}, reset=(list(np.atleast_1d(q.reset)[g])
                                        if np.ndim(q.reset) else q.reset))
        parts.append(quantise(part, dt, spec, n=g.stop - g.start, headroom=headroom,
                              current_span=span[g],
                              v_lsb_min=float(np.max(floor[g], initial=0.0)),
                              name=None if names is None else names[k],
                              memoryless=memoryless, mantissa=mantissa))
    cat = np.concatenate
    params = LifParams(**{f.name: cat([getattr(x.params, f.name) for x in parts])
                          for f in fields(LifParams)})
    scales = Scales(dt=dt, E_L=cat([x.scales.E_L for x in parts]),
                    v_lsb=cat([np.full(g.stop - g.start, x.scales.v_lsb)
                               for g, x in zip(groups, parts)]),
                    i_lsb=cat([x.scales.i_lsb for x in parts]))
    realised = replace(q, **{f: cat([np.broadcast_to(getattr(x.realised, f),
                                                     (g.stop - g.start,))
                                     for g, x in zip(groups, parts)])
                             for f in ("C", "V_th", "V_reset", "T_ref", "tau_syn",
                                       "tau_theta", "alpha", "I_bias", "sigma")})
    errors = tuple(ParameterError(e.name, e.unit,
                                  cat([np.broadcast_to(x.errors[k].target, (g.stop - g.start,))
                                       for g, x in zip(groups, parts)]),
                                  cat([np.broadcast_to(x.errors[k].realised,
                                                       (g.stop - g.start,))
                                       for g, x in zip(groups, parts)]))
                   for k, e in enumerate(parts[0].errors))
    return QuantisedLif(params, scales, realised, errors)
