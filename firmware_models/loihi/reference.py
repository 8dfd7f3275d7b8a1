r"""The float twin of the Loihi dialect: the reference LIF with the parameters a set of
Loihi registers realises.

Loihi's neuron is a current-based LIF, so its float model in physical units is the
project's reference LIF (``firmware_models.lif.reference``: ``LifPhysical`` and
``simulate``, the same per-tick order as the integer kernel: the current decays and
takes the tick's input, then the membrane decays and takes the new current and the
bias). ``realised`` says which ``LifPhysical`` a ``LoihiParams`` implements on a voltage
scale ``v_lsb`` (volts per LSB of ``v``, counted from ``E_L``):

* ``tau_m = -dt / ln(1 - dv/4096)``, ``tau_syn = -dt / ln(1 - (du + 1)/4096)``;
* ``V_th = E_L + (vth << 6) v_lsb`` (Loihi compares strictly; for a float membrane the
  difference between ``>`` and ``>=`` has probability 0);
* reset to ``E_L`` (``v = 0``), no refractory period, no adaptation, no noise;
* ``I_bias = (bias_mant << bias_exp) i_lsb`` with ``i_lsb = v_lsb / (R dv/4096)``, the
  current whose one-tick effect on ``V`` is one LSB.

The integer kernel differs from this twin only by its rounding (toward zero, below one
LSB per decay), the wrap of ``u`` and the saturation of ``v``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lif.reference import LifPhysical, simulate
from .kernel import DECAY_UNITY, DS_OFFSET, VTH_SHIFT, LoihiParams

__all__ = ["current_lsb", "realised", "realised_tau", "simulate"]


def realised_tau(constant, dt: float, offset: int) -> np.ndarray:
    """Time constant of the decay by ``(4096 - constant - offset) / 4096`` per tick; a
    register cleared every tick (``du = 4095``) gets ``dt / 1000``, whose per-tick factor
    ``exp(-1000)`` is 0 in float64 as well."""
    keep = 1 - (np.asarray(constant, float) + offset) / DECAY_UNITY
    with np.errstate(divide="ignore"):
        return np.where(keep > 0, -dt / np.log(np.where(keep > 0, keep, 0.5)), dt / 1000)


def current_lsb(params: LoihiParams, g_L, v_lsb) -> np.ndarray:
    """Amperes per LSB of ``u`` (and of the bias): ``v_lsb / (R dv/4096)``."""
    return np.asarray(v_lsb, float) * np.asarray(g_L, float) * DECAY_UNITY / params.dv


def realised(params: LoihiParams, asked: LifPhysical, dt: float, v_lsb) -> LifPhysical:
    """The ``LifPhysical`` that ``params`` implement on the scale ``v_lsb`` (per neuron),
    with ``asked``'s ``g_L`` and ``E_L`` as the anchors of that scale."""
    q = asked.broadcast(params.n)
    v_lsb = np.broadcast_to(np.asarray(v_lsb, float), (params.n,))
    return replace(
        q, C=realised_tau(params.dv, dt, 0) * q.g_L,
        tau_syn=realised_tau(params.du, dt, DS_OFFSET),
        V_th=q.E_L + (params.vth << VTH_SHIFT) * v_lsb, V_reset=q.E_L, T_ref=0.0, alpha=0.0,
        I_bias=params.bias * current_lsb(params, q.g_L, v_lsb), sigma=0.0, reset="value")
