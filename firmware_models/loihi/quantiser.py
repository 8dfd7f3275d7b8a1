r"""Physical LIF parameters + dt -> Loihi registers (``du``, ``dv``, ``vth``, bias, weights).

The Loihi neuron is a current-based LIF, so the physical model is the project's
``LifPhysical`` and its float twin is the reference LIF run with the parameters the
registers realise (``reference.realised``). Per population:

* ``v`` counts ``v_lsb`` volts above ``E_L``; ``v_lsb`` puts the largest threshold of
  the population at ``1/headroom`` of ``2^(v_bits-1) - 1`` (``2^23 - 1`` on Loihi's 24
  bits), coarsened until the largest input
  current fits the bias (``|bias_mant << bias_exp| <= 4095 · 2^7``);
* ``dv = rint(4096 (1 - exp(-dt/tau_m)))`` in 1..4095 and
  ``du = rint(4096 (1 - exp(-dt/tau_syn))) - 1`` in 0..4095 (Lava's ``u`` decays by
  ``(4096 - du - 1)/4096``);
* ``u`` counts volts per tick like the LIF's ``i``: ``i_lsb = v_lsb / (R dv/4096)``;
  a weight of ``W`` amperes adds ``W / i_lsb`` to ``u``, which is ``(w << weight_exp)
  << 6``: ``w << weight_exp = W / (64 i_lsb)``;
* ``vth = rint((V_th - E_L) / (64 v_lsb))`` (compared as ``vth << 6``, strictly);
* ``I_bias / i_lsb`` as ``bias_mant << bias_exp`` with the smallest exponent that fits.

What Loihi cannot represent is reported, not hidden: the reset is to ``E_L`` (``v = 0``),
there is no refractory period, no adaptive threshold and no noise.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lif.quantiser import (NEVER_FIRES, ParameterError, QuantisedLif, QuantisedWeights,
                             Scales)
from ..lif.reference import LifPhysical
from ..scales import error_rows, group_max
from . import reference
from .reference import realised_tau  # noqa: F401  (part of the quantiser's interface)
from .kernel import DECAY_UNITY, DS_OFFSET, VTH_SHIFT, LoihiParams, PARAM_FORMATS

BIAS_MAX = 4095 << 7                 # largest |bias_mant << bias_exp|
SIGN_MODES = ("mixed", "excitatory", "inhibitory")


def decay_constants(tau, dt: float, offset: int, lo: int) -> np.ndarray:
    """``rint(4096 (1 - exp(-dt/tau))) - offset`` clipped to ``lo..4095``."""
    return np.clip(np.rint(DECAY_UNITY * -np.expm1(-dt / np.asarray(tau, float))) - offset,
                   lo, 4095).astype(np.int64)


def bias_fields(bias) -> tuple[np.ndarray, np.ndarray]:
    """``(bias_mant, bias_exp)`` for integer biases: the smallest exponent that fits the
    13-bit mantissa (``ValueError`` naming the neuron when none does)."""
    bias = np.asarray(bias, dtype=np.int64)
    exp = np.zeros(bias.shape, dtype=np.int64)
    for e in range(8):
        exp = np.where(np.abs(np.rint(bias / 2.0 ** exp)) > 4095, e + 1, exp)
    bad = np.flatnonzero(exp > 7)
    if bad.size:
        raise ValueError(f"neuron {int(bad[0])}: a bias of {int(bias[bad[0]])} LSB is beyond "
                         f"bias_mant << bias_exp (at most {BIAS_MAX} in magnitude)")
    return np.rint(bias / 2.0 ** exp).astype(np.int64), exp


def with_bias(params: LoihiParams, bias) -> LoihiParams:
    mant, exp = bias_fields(bias)
    return replace(params, bias_mant=mant, bias_exp=exp)


def quantise_groups(p: LifPhysical, dt: float, spec, groups: list[slice], *,
                    current_span=None, headroom: float = 2.0) -> QuantisedLif:
    """Loihi registers for every neuron, each population (group) with its own scale."""
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt!r}")
    n = groups[-1].stop if groups else 0
    q = p.broadcast(n)
    dv = decay_constants(q.tau_m, dt, 0, 1)
    du = decay_constants(q.tau_syn, dt, DS_OFFSET, 0)
    gain = q.R * dv / DECAY_UNITY                    # volts per tick per ampere
    reach = np.where(np.abs(q.V_th) < NEVER_FIRES, np.abs(q.V_th - q.E_L), 0.0)
    span = np.abs(np.broadcast_to(0.0 if current_span is None else current_span, (n,)))
    v_max = (1 << (spec.v_bits - 1)) - 1       # 2^23 - 1 on Loihi's own 24 bits
    v_lsb = np.maximum(group_max(reach * headroom / v_max, groups, n),
                       group_max(span * gain / BIAS_MAX, groups, n))
    if np.any(v_lsb <= 0):
        j = int(np.flatnonzero(v_lsb <= 0)[0])
        raise ValueError(f"neuron {j}: voltage scale v_lsb must be positive (V_th equals E_L?)")
    i_lsb = v_lsb / gain
    vth = np.rint((q.V_th - q.E_L) / (v_lsb * (1 << VTH_SHIFT))).astype(np.int64)
    vth = np.where(np.abs(q.V_th) >= NEVER_FIRES, PARAM_FORMATS["vth"].range[1], vth)
    lo, hi = PARAM_FORMATS["vth"].range
    collapsed = np.flatnonzero((vth == 0) & (reach > 0))
    if collapsed.size:
        j = int(collapsed[0])
        raise ValueError(f"neuron {j}: V_th rounds to vth=0 at the voltage scale its input "
                         f"current forces (v_lsb={v_lsb[j]:.3g} V, bias at most {BIAS_MAX} "
                         f"LSB); lower the input current or raise the threshold")
    bad = np.flatnonzero((vth < lo) | (vth > hi))
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"neuron {j}: V_th needs vth={int(vth[j])}, beyond its 17-bit field "
                         f"({lo}..{hi}); a threshold below E_L cannot be represented")
    bias = np.rint(q.I_bias / i_lsb).astype(np.int64)
    mant, exp = bias_fields(bias)
    params = LoihiParams.make(n, du=du, dv=dv, bias_mant=mant, bias_exp=exp, vth=vth)
    realised = reference.realised(params, q, dt, v_lsb)
    scales = Scales(dt=dt, E_L=np.asarray(q.E_L, float) * np.ones(n), v_lsb=v_lsb, i_lsb=i_lsb)
    return QuantisedLif(params, scales, realised, error_rows(q, realised, n))


def sign_mode(lsb: np.ndarray) -> str:
    """Lava's choice: mixed if there are weights of both signs, else the one sign."""
    if lsb.size and lsb.min() < 0 < lsb.max():
        return "mixed"
    return "inhibitory" if lsb.size and lsb.max() <= 0 and lsb.min() < 0 else "excitatory"


def weight_range(mode: str) -> tuple[int, int]:
    return {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[mode]


def truncate(w: np.ndarray, mode: str, num_weight_bits: int = 8) -> np.ndarray:
    """Lava's ``truncate_weights``: drop ``8 - num_weight_bits`` low bits (one more in mixed
    mode) by ``(w >> n) << n``."""
    n = 8 - num_weight_bits + (mode == "mixed")
    return (np.asarray(w, dtype=np.int64) >> n) << n


def quantise_weights(weights_amps, post_i_lsb, spec, num_weight_bits: int = 8
                     ) -> QuantisedWeights:
    """Synaptic jumps (A) onto Lava Dense weights: 8 bits and a sign mode, truncated to
    ``num_weight_bits``, one ``weight_exp`` (0..``spec.max_w_exp``) for all of them."""
    target = np.asarray(weights_amps, dtype=float)
    lsb = target / (np.asarray(post_i_lsb, dtype=float) * (1 << 6))
    mode = sign_mode(lsb)
    lo, hi = weight_range(mode)
    largest = float(np.max(np.abs(lsb), initial=0.0))
    w_exp = 0
    while w_exp < spec.max_w_exp and np.rint(largest / 2 ** w_exp) > max(hi, -lo):
        w_exp += 1
    mantissa = np.rint(lsb / 2 ** w_exp)
    clipped = int(np.count_nonzero((mantissa > hi) | (mantissa < lo)))
    mantissa = truncate(np.clip(mantissa, lo, hi), mode, num_weight_bits)
    zeroed = int(np.count_nonzero((mantissa == 0) & (target != 0)))
    realised = (mantissa << w_exp) * (1 << 6) * np.asarray(post_i_lsb, dtype=float)
    return QuantisedWeights(mantissa, w_exp, ParameterError("w", "A", target, realised),
                            clipped, zeroed)


def weight_lsb(q: QuantisedLif) -> np.ndarray:
    """Amperes of synaptic jump per LSB of ``u`` input, per neuron (``quantise_weights``
    multiplies by the ``<< 6`` itself)."""
    return q.scales.i_lsb


def bias_range(spec) -> tuple[int, int]:
    return -BIAS_MAX, BIAS_MAX


def for_network(params: LoihiParams, readout: np.ndarray) -> LoihiParams:
    return params
