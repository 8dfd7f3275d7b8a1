r"""The float twin of the Xylo dialect: the reference LIF with the parameters a set of
Xylo registers realises.

Xylo's neuron is a current-based LIF with decays by shifts and reset by subtraction,
so its float model in physical units is the project's reference LIF
(``firmware_models.lif.reference``: ``LifPhysical`` and ``simulate``). ``realised``
says which ``LifPhysical`` an ``XyloParams`` implements on a voltage scale ``v_lsb``
(volts per LSB of ``v``, counted from ``E_L``):

* ``tau_m = tau_eff(dash_mem)``, ``tau_syn = tau_eff(dash_syn1)`` with
  ``tau_eff(k) = -dt / ln(1 - 2^-k)``;
* ``V_th = E_L + threshold · v_lsb``, reset by subtraction, no refractory period, no
  adaptation, no noise;
* ``I_bias = bias · i_lsb`` with ``i_lsb = v_lsb / (R 2^-dash_mem)``; a synaptic weight
  reaches the current multiplied by ``1 - 2^-dash_syn1`` (the decay comes after the
  input in the same tick), which ``quantiser.weight_lsb`` accounts for.

What the twin cannot follow: several spikes in one tick (the float LIF fires at most
once a tick, ``max_spikes`` up to 31), the saturation after every single synaptic
event, and the floor rounding with its minimum decay of 1.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lif.quantiser import tau_eff
from ..lif.reference import LifPhysical, simulate
from .kernel import XyloParams

__all__ = ["current_lsb", "realised", "simulate"]


def current_lsb(params: XyloParams, g_L, v_lsb) -> np.ndarray:
    """Amperes per LSB of ``isyn`` and of the bias: ``v_lsb / (R 2^-dash_mem)``."""
    return np.asarray(v_lsb, float) * np.asarray(g_L, float) \
        * np.exp2(params.dash_mem.astype(float))


def realised(params: XyloParams, asked: LifPhysical, dt: float, v_lsb) -> LifPhysical:
    """The ``LifPhysical`` that ``params`` implement on the scale ``v_lsb`` (per neuron),
    with ``asked``'s ``g_L`` and ``E_L`` as the anchors of that scale."""
    q = asked.broadcast(params.n)
    v_lsb = np.broadcast_to(np.asarray(v_lsb, float), (params.n,))
    return replace(
        q, C=tau_eff(params.dash_mem, dt) * q.g_L, tau_syn=tau_eff(params.dash_syn1, dt),
        V_th=q.E_L + params.threshold * v_lsb, T_ref=0.0, alpha=0.0,
        I_bias=params.bias * current_lsb(params, q.g_L, v_lsb), sigma=0.0, reset="subtract")
