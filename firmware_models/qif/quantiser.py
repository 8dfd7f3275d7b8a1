r"""Physical QIF parameters + dt + a core's widths -> integer registers, with errors; and
the provable distance between the integer program and its float twin.

**Scales.** Voltages are counted in ``v_lsb`` volts above ``E_L``. In LSB the Euler step
of the leak is ``(dt / tau) u (u - D) / D`` with ``D = ΔV / v_lsb``; the kernel computes
``shift(v (v - v_c), k_q)``, so the quantiser makes ``dt / (tau D) = 2^-k_q`` hold by
choosing the *voltage scale* rather than rounding the time constant: for a shift
``k_q`` it takes ``v_c = D = round(2^k_q dt / tau)`` and ``v_lsb = ΔV / v_c`` (``V_c`` is
then exact), and ``tau`` is realised as ``dt 2^k_q / v_c`` (relative error at most
``1 / (2 v_c)``). ``k_q`` is the largest shift whose ``v_c`` leaves the largest voltage
(``V_peak`` or ``V_reset``, from ``E_L``) ``headroom`` times inside the ``v`` register.
Currents: one tick of Euler adds ``dt I / C`` volts, so one LSB of ``i`` and ``bias`` is
``i_lsb = C v_lsb / dt`` amperes. ``tau_syn`` becomes the shift ``k_i`` as for the LIF.

**Integer vs float (floor rounding, no synaptic input).** Run the integer registers and
the float twin of the *realised* parameters (``QuantisedQif.realised``) from the same
state, and let ``e = v_int - u`` (LSB; ``u`` the float membrane in LSB). With
``eps = x 2^-k - shift(x, k)`` the rounding error of the shift (in
``[lo_eps, hi_eps]``, ``lif.error_bound.shift_error_interval``), one tick gives exactly

    e' = A e + 2^-k e² - eps,        A = 1 + 2^-k (2u - v_c)

(the product ``v (v - v_c) - u (u - v_c) = e (2u - v_c) + e²``). ``A`` is the float map's
own slope: below the midpoint ``u < v_c / 2`` it is in ``(0, 1)`` and errors decay.
``g(e) = A e + 2^-k e²`` increases on ``e > -A 2^(k-1)``, so an interval ``[lo, hi]``
of ``e`` maps to ``[g(lo) - hi_eps, g(hi) - lo_eps]`` (``error_interval``). With floor
rounding ``eps >= 0``: the integer membrane is never above the float one, and at a
float fixed point ``u*`` the interval settles at about
``[-(2^k - 1) / (v_c - 2 u*), 0]`` LSB (``stationary_error``): at rest ``2^k / v_c``
``= tau / dt`` LSB, growing without bound as ``u*`` nears the midpoint. The spike
decisions agree while the float margin ``u - v_peak`` lies outside ``[-hi, -lo]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import first_violation
from ..lif.error_bound import shift_error_interval
from ..lif.quantiser import ParameterError, Scales, format_errors, leak_shift, tau_eff
from .kernel import QifParams, param_formats
from .reference import QifPhysical


@dataclass(frozen=True)
class QifScales(Scales):
    """The LIF's register-to-unit scales (``v_lsb`` per neuron here), and back to LSB."""

    def lsb(self, V) -> np.ndarray:
        return (np.asarray(V, dtype=float) - self.E_L) / self.v_lsb


@dataclass(frozen=True)
class QuantisedQif:
    params: QifParams
    scales: QifScales
    realised: QifPhysical
    errors: tuple[ParameterError, ...]

    def report(self) -> str:
        return format_errors(self.errors)


def quantise(p: QifPhysical, dt: float, spec, *, n: int | None = None,
             headroom: float = 1.25) -> QuantisedQif:
    """Register values for ``n`` neurons of ``p`` on a core of ``spec`` at tick ``dt``
    (module docstring). Raises ``ValueError`` naming the physical parameter whose register
    does not fit its field."""
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt must be positive, got {dt!r}")
    if not headroom >= 1:
        raise ValueError(f"headroom must be >= 1, got {headroom!r}")
    n = n if n is not None else (p.n or 1)
    q = p.broadcast(n)
    v_max = (1 << (spec.v_bits - 1)) - 1
    span = np.maximum(q.V_peak - q.E_L, np.abs(q.V_reset - q.E_L)) / q.delta_V
    shifts = np.arange(1, spec.max_shift + 1)
    v_c = np.rint(np.exp2(shifts)[None, :] * dt / q.tau_m[:, None])       # (n, shifts)
    fits = (v_c >= 1) & (v_c * span[:, None] * headroom <= v_max)
    if not np.all(fits.any(axis=1)):
        j = int(np.flatnonzero(~fits.any(axis=1))[0])
        raise ValueError(f"neuron {j}: no leak shift k_q fits V_peak={q.V_peak[j]!r} V on a "
                         f"{spec.v_bits}-bit membrane at dt={dt!r} s (tau_m="
                         f"{q.tau_m[j]!r} s); widen v_bits or lower V_peak")
    best = fits.shape[1] - 1 - np.argmax(fits[:, ::-1], axis=1)          # largest fitting
    k_q = shifts[best]
    D = v_c[np.arange(n), best]
    v_lsb = q.delta_V / D
    tau_real = dt * np.exp2(k_q) / D
    C_real = tau_real * q.g_L
    i_lsb = C_real * v_lsb / dt
    k_i = leak_shift(q.tau_syn, dt, spec.max_shift)
    params = QifParams.make(
        n, k_i=k_i, k_q=k_q, v_c=D.astype(np.int64),
        bias=np.rint(q.I_bias / i_lsb).astype(np.int64),
        v_peak=np.rint((q.V_peak - q.E_L) / v_lsb).astype(np.int64),
        v_reset=np.rint((q.V_reset - q.E_L) / v_lsb).astype(np.int64),
        t_ref=np.rint(q.T_ref / dt).astype(np.int64))
    bad = first_violation(params, param_formats(spec))
    if bad is not None:
        physical = {"k_q": "tau_m", "v_c": "V_c", "bias": "I_bias", "v_peak": "V_peak",
                    "v_reset": "V_reset", "t_ref": "T_ref", "k_i": "tau_syn"}[bad.field]
        lo, hi = bad.format.range
        raise ValueError(f"neuron {bad.index}: {physical} needs {bad.field}={bad.value}, "
                         f"beyond its {bad.format.bits}-bit field ({lo}..{hi}) on this core")
    realised = QifPhysical(
        C=C_real, g_L=q.g_L, E_L=q.E_L, V_c=q.E_L + params.v_c * v_lsb,
        V_peak=q.E_L + params.v_peak * v_lsb, V_reset=q.E_L + params.v_reset * v_lsb,
        T_ref=params.t_ref * dt, tau_syn=tau_eff(k_i, dt), I_bias=params.bias * i_lsb)
    errors = tuple(ParameterError(name, unit, target, actual) for name, unit, target, actual in (
        ("tau_m", "s", q.tau_m, realised.tau_m), ("tau_syn", "s", q.tau_syn, realised.tau_syn),
        ("V_c", "V", q.V_c, realised.V_c), ("V_peak", "V", q.V_peak, realised.V_peak),
        ("V_reset", "V", q.V_reset, realised.V_reset), ("T_ref", "s", q.T_ref, realised.T_ref),
        ("I_bias", "A", q.I_bias, realised.I_bias)))
    return QuantisedQif(params, QifScales(dt, q.E_L, v_lsb, i_lsb), realised, errors)


def error_interval(lo, hi, u, params: QifParams, rounding: str = "floor"):
    """One tick of the ``[lo, hi]`` interval of ``e = v_int - u`` (LSB) for a
    non-refractory neuron without synaptic input whose float membrane is ``u`` (LSB)
    *before* the tick (module docstring). Valid while ``lo > -A 2^(k_q - 1)``. Above the
    midpoint ``A > 1`` and ``hi`` grows quadratically: on the way to a spike the interval
    becomes wide (``inf`` when it leaves the floats), true but of little use there."""
    k = params.k_q.astype(float)
    step = np.exp2(-k)
    A = 1 + step * (2 * np.asarray(u, dtype=float) - params.v_c)
    eps_lo, eps_hi = shift_error_interval(params.k_q, rounding)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):  # the runaway before a spike
        return A * lo + step * lo ** 2 - eps_hi, A * hi + step * hi ** 2 - eps_lo


def stationary_error(u_star, params: QifParams) -> np.ndarray:
    """The floor-rounding error interval's lower end (LSB, negative) at a float fixed
    point ``u*`` to first order: ``-(2^k_q - 1) / (v_c - 2 u*)``."""
    return -(np.exp2(params.k_q.astype(float)) - 1) / (params.v_c - 2 * np.asarray(u_star))
