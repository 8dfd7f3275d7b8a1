r"""Physical LIF parameters + dt -> Xylo registers (``dash``, ``threshold``, bias, weights).

Xylo's neuron is a current-based LIF with decays by shifts, so the LIF quantiser's
scales apply unchanged (``firmware_models.lif.quantiser``): ``dash_mem`` and
``dash_syn1`` are the shifts ``k_v``, ``k_i`` (0..15) whose ``tau_eff`` is nearest
``tau_m``, ``tau_syn``; ``threshold`` is ``v_th``, ``bias`` is ``bias``; weights are
int8 mantissas with one ``weight_shift`` (the LIF's ``w_exp``). Xylo decays ``isyn``
*after* adding the tick's input, so a weight reaches ``v`` multiplied by
``1 - 2^-dash_syn``: ``weight_lsb`` divides that out (the LIF and Loihi decay first and
add the full weight). A netlist neuron has one
synaptic current, so every weight goes to ``isyn1`` (``dash_syn2`` copies ``dash_syn1``
and stays unused). ``for_network`` gives neurons without outgoing synapses (readouts)
Xylo's output-neuron limit of one spike per tick; the others may fire up to 31.

What Xylo cannot represent is reported, not hidden: the reset subtracts the threshold
(``V_reset`` is not used), there is no refractory period, no adaptive threshold, no noise.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..lif import quantiser as lif_quantiser
from ..lif.quantiser import QuantisedLif, QuantisedWeights
from ..lif.reference import LifPhysical
from ..scales import ROWS, error_rows
from . import reference
from .kernel import MAX_OUTPUT_SPIKES, MAX_SPIKES, XyloParams

DASH_BITS = 4


def _lif_spec(spec):
    # the LIF quantiser reads shift_bits (the dash range) and the widths; Xylo keeps no
    # refractory counter, so its field is made wide enough never to refuse T_ref
    return spec.replace(shift_bits=DASH_BITS, ref_bits=16)


def quantise_groups(p: LifPhysical, dt: float, spec, groups: list[slice], *,
                    current_span=None, headroom: float = 2.0) -> QuantisedLif:
    q = lif_quantiser.quantise_groups(p, dt, _lif_spec(spec), groups,
                                      current_span=current_span, headroom=headroom)
    lp = q.params
    params = XyloParams.make(lp.n, dash_syn1=lp.k_i, dash_syn2=lp.k_i, dash_mem=lp.k_v,
                             threshold=lp.v_th, bias=lp.bias, max_spikes=MAX_SPIKES)
    asked = p.broadcast(lp.n)
    realised = reference.realised(params, asked, dt, q.scales.v_lsb)
    rows = tuple(r for r in ROWS if r[0] != "V_reset")
    return QuantisedLif(params, q.scales, realised, error_rows(asked, realised, lp.n, rows))


def weight_lsb(q: QuantisedLif) -> np.ndarray:
    """Amperes of synaptic jump per LSB of weight, per neuron: ``i_lsb`` over the
    ``1 - 2^-dash_syn1`` that the same tick's decay leaves of it."""
    return q.scales.i_lsb * (1 - np.exp2(-q.params.dash_syn1.astype(float)))


def quantise_weights(weights_amps, post_i_lsb, spec) -> QuantisedWeights:
    return lif_quantiser.quantise_weights(weights_amps, post_i_lsb, spec)


def with_bias(params: XyloParams, bias) -> XyloParams:
    return replace(params, bias=np.asarray(bias, dtype=np.int64))


def bias_range(spec) -> tuple[int, int]:
    return -(1 << (spec.v_bits - 1)), (1 << (spec.v_bits - 1)) - 1


def for_network(params: XyloParams, readout: np.ndarray) -> XyloParams:
    """Readout neurons (no outgoing synapses) are Xylo output neurons: one spike a tick."""
    return replace(params, max_spikes=np.where(readout, MAX_OUTPUT_SPIKES, params.max_spikes))
