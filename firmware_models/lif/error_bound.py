r"""How far the integer LIF can be from its float twin: a provable, per-tick bound.

Compare one tick of the integer kernel with the float reference of the *realised*
parameters (``quantiser.quantise(...).realised``, so that ``a = 1 - m 2^-k`` exactly
and every drive is an integer number of LSB). Write ``e = x_int - x_float`` in LSB. From
the same register value ``x`` the integer decay gives ``x - shift(x m, k)``, the float
one ``x (1 - m 2^-k)``; their difference is the rounding error of the shift of the
integer ``x m``, a multiple of ``2^-k'`` with ``k' = k - min(k, tz(m))`` (``tz``: the
trailing zero bits of ``m``; ``k' = 0`` for ``m = 0``)

    eps = x m 2^-k - shift(x m, k)  in  floor: [0, 1 - 2^-k']
                                        zero:  [-(1 - 2^-k'), 1 - 2^-k']  (sign of x)
                                        nearest: [-1/2, 1/2]      (0 when k' = 0)

and errors already present decay with the register (``a = 1 - m 2^-k >= 0``), so each
register's error obeys ``e' = a e + eps`` (plus what flows in). As intervals:

    i:      e_i' = a_i e_i + eps_i
    v:      e_v' = a_v e_v + eps_v + e_i'        (v adds the new i)   not refractory
            e_v' = e_v                           (held)               refractory
            e_v' = 0                             reset to value (both set v_reset exactly)
            e_v' = e_v - e_theta'                reset by subtraction
    theta:  e_t' = a_t e_t + eps_t               (theta >= 0: zero rounds as floor)

Starting from equal states the interval ends are sums of geometric series; the
stationary values with floor rounding are ``e_i in [0, (2^k_i - 1) / m_i]`` and
``e_v in [0, ((2^k_v - 1) + 2^k_v (2^k_i - 1) / m_i) / m_v]`` (``2^(k_i + k_v) - 1``
for shift leaks, ``m = 1``; ``[0, (2^k_v - 1) / m_v]`` for a neuron without synaptic
current, whose ``i`` stays exactly 0; ``stationary_bound``). With ``m = 0`` (no leak)
the register's own rounding error is 0 but what flows in is not forgotten. The integer neuron fires iff
``m >= e_t - e_v`` where ``m = u - (v_th + theta_float)`` is the float trajectory's
margin above threshold in LSB, so the spike decisions agree whenever ``m`` lies outside
``[min(0, lo(e_t - e_v)), max(0, hi(e_t - e_v))]``. The bound holds while no register
saturates or wraps and while the two runs have made the same spike decisions so far.
See docs/error-bounds.md for the derivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import LifParams


def effective_shift(k, m=1) -> np.ndarray:
    """``k' = k - min(k, tz(m))``: ``x m 2^-k`` is a multiple of ``2^-k'`` for every
    integer ``x`` (0 for ``m = 0``, whose product is 0)."""
    k = np.asarray(k, dtype=np.int64)
    m = np.broadcast_to(np.asarray(m, dtype=np.int64), k.shape)
    low = m & -m                                    # lowest set bit (0 for m = 0)
    tz = np.where(low > 0, np.log2(np.maximum(low, 1)).astype(np.int64), 0)
    return np.where(m == 0, 0, k - np.minimum(k, tz))


def shift_error_interval(k, rounding: str, m=1) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``x m 2^-k - shift(x m, k)`` over all integers ``x`` (``m = 1``: of
    ``x 2^-k - shift(x, k)``)."""
    k = effective_shift(k, m).astype(float)
    c = 1.0 - np.exp2(-k)
    if rounding == "floor":
        return np.zeros_like(c), c
    if rounding == "zero":
        return -c, c
    if rounding == "nearest":
        half = np.where(k > 0, 0.5, 0.0)
        return -half, half
    raise ValueError(f"unknown rounding {rounding!r}")


def decay(m, k) -> np.ndarray:
    """``a = 1 - m 2^-k``: what one tick's leak ``(m, k)`` leaves of a register."""
    return 1.0 - np.asarray(m, dtype=float) * np.exp2(-np.asarray(k, dtype=float))


def stationary_bound(params: LifParams, rounding: str = "floor"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the largest ``|e_i|`` and ``|e_v|`` (LSB) the bound reaches below
    threshold, from equal states, after any number of ticks: ``hi(eps) / (1 - a)`` for
    ``i``, ``(hi(eps_v) + bound_i) / (1 - a_v)`` for ``v`` (floor:
    ``(2^k_i - 1) / m_i`` and ``((2^k_v - 1) + 2^k_v (2^k_i - 1) / m_i) / m_v``; the
    interval ends of ``eps`` are symmetric or one-sided, so ``max |end|`` bounds both
    sides). ``inf`` where a register does not leak (``m = 0``) but takes an error in."""
    p = params

    def geometric(eps_hi, fraction):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(eps_hi == 0, 0.0, eps_hi / fraction)

    eps_i = np.maximum(*map(np.abs, shift_error_interval(p.k_i, rounding, p.m_i)))
    eps_v = np.maximum(*map(np.abs, shift_error_interval(p.k_v, rounding, p.m_v)))
    bound_i = geometric(eps_i, 1.0 - decay(p.m_i, p.k_i))
    bound_v = geometric(eps_v + bound_i, 1.0 - decay(p.m_v, p.k_v))
    return bound_i, bound_v


@dataclass
class ErrorBound:
    """Per-neuron intervals ``[lo, hi]`` of ``integer - float`` (LSB) for i, v and theta."""

    params: LifParams
    rounding: str

    def __post_init__(self):
        n = self.params.n
        p = self.params
        self.a_i, self.a_v, self.a_t = (decay(p.m_i, p.k_i), decay(p.m_v, p.k_v),
                                        decay(p.m_theta, p.k_theta))
        self.eps_i = shift_error_interval(p.k_i, self.rounding, p.m_i)
        self.eps_v = shift_error_interval(p.k_v, self.rounding, p.m_v)
        lo_t, hi_t = shift_error_interval(p.k_theta, self.rounding, p.m_theta)
        if self.rounding == "zero":  # theta >= 0, where zero rounding is floor
            lo_t = np.zeros_like(lo_t)
        self.eps_t = (lo_t, hi_t)
        self.i = [np.zeros(n), np.zeros(n)]
        self.v = [np.zeros(n), np.zeros(n)]
        self.theta = [np.zeros(n), np.zeros(n)]

    def integrate(self, refractory: np.ndarray) -> None:
        """The decay-and-add part of a tick (before the spike decision)."""
        for side in (0, 1):
            self.i[side] = self.a_i * self.i[side] + self.eps_i[side]
            integrated = self.a_v * self.v[side] + self.eps_v[side] + self.i[side]
            self.v[side] = np.where(refractory, self.v[side], integrated)
            self.theta[side] = self.a_t * self.theta[side] + self.eps_t[side]

    def decision_band(self) -> tuple[np.ndarray, np.ndarray]:
        """Float margins ``m`` (LSB above threshold) where the decisions may differ.

        The integer neuron fires iff ``m >= e_theta - e_v``; outside ``[lo, hi]`` both
        or neither fire. Call between ``integrate`` and ``reset``.
        """
        return (np.minimum(0.0, self.theta[0] - self.v[1]),
                np.maximum(0.0, self.theta[1] - self.v[0]))

    def reset(self, fired: np.ndarray) -> None:
        """Apply the (agreed) spikes of this tick."""
        modes = self.params.reset_mode
        after_value = fired & (modes == 0)
        after_subtract = fired & (modes == 1)
        lo = np.where(after_subtract, self.v[0] - self.theta[1], self.v[0])
        hi = np.where(after_subtract, self.v[1] - self.theta[0], self.v[1])
        self.v = [np.where(after_value, 0.0, lo), np.where(after_value, 0.0, hi)]
