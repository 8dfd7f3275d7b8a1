r"""How far the integer LIF can be from its float twin: a provable, per-tick bound.

Compare one tick of the integer kernel with the float reference of the *realised*
parameters (``quantiser.quantise(...).realised``, so that ``a = 1 - 2^-k`` exactly and
every drive is an integer number of LSB). Write ``e = x_int - x_float`` in LSB. From the
same register value ``x`` the integer decay gives ``x - shift(x, k)``, the float one
``x (1 - 2^-k)``; their difference is the rounding error of the shift

    eps = x 2^-k - shift(x, k)  in  floor: [0, 1 - 2^-k]
                                    zero:  [-(1 - 2^-k), 1 - 2^-k]  (sign of x)
                                    nearest: [-1/2, 1/2]            (0 when k = 0)

and errors already present decay with the register (``a = 1 - 2^-k >= 0``), so each
register's error obeys ``e' = a e + eps`` (plus what flows in). As intervals:

    i:      e_i' = a_i e_i + eps_i
    v:      e_v' = a_v e_v + eps_v + e_i'        (v adds the new i)   not refractory
            e_v' = e_v                           (held)               refractory
            e_v' = 0                             reset to value (both set v_reset exactly)
            e_v' = e_v - e_theta'                reset by subtraction
    theta:  e_t' = a_t e_t + eps_t               (theta >= 0: zero rounds as floor)

Starting from equal states the interval ends are sums of geometric series; the
stationary values with floor rounding are ``e_i in [0, 2^k_i - 1]`` and
``e_v in [0, 2^(k_i + k_v) - 1]`` (and ``[0, 2^k_v - 1]`` for a neuron without
synaptic current, whose ``i`` stays exactly 0). The integer neuron fires iff
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


def shift_error_interval(k, rounding: str) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``x 2^-k - shift(x, k)`` over all integers ``x``."""
    k = np.asarray(k, dtype=float)
    c = 1.0 - np.exp2(-k)
    if rounding == "floor":
        return np.zeros_like(c), c
    if rounding == "zero":
        return -c, c
    if rounding == "nearest":
        half = np.where(k > 0, 0.5, 0.0)
        return -half, half
    raise ValueError(f"unknown rounding {rounding!r}")


@dataclass
class ErrorBound:
    """Per-neuron intervals ``[lo, hi]`` of ``integer - float`` (LSB) for i, v and theta."""

    params: LifParams
    rounding: str

    def __post_init__(self):
        n = self.params.n
        self.a_i, self.a_v, self.a_t = (1.0 - np.exp2(-self.params.k_i.astype(float)),
                                        1.0 - np.exp2(-self.params.k_v.astype(float)),
                                        1.0 - np.exp2(-self.params.k_theta.astype(float)))
        self.eps_i = shift_error_interval(self.params.k_i, self.rounding)
        self.eps_v = shift_error_interval(self.params.k_v, self.rounding)
        lo_t, hi_t = shift_error_interval(self.params.k_theta, self.rounding)
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
