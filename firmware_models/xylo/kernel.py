r"""The Xylo dialect: xylosim 0.1.3 (v2) arithmetic, as Rockpool 3.1 ``XyloSim`` runs it.

Registers (widths from the core's spec; the ``XYLO`` preset gives Xylo's 16 bits), all
saturating to the signed range after every operation: ``isyn1``, ``isyn2`` (two
synaptic currents; an output neuron simply has no weight onto ``isyn2``) and ``v``.
Parameters per slot: ``dash_syn1``, ``dash_syn2``, ``dash_mem`` (decay shifts, 0..15),
``threshold`` (0..2^(b-1)-1), ``bias`` (signed, ``v`` wide) and ``max_spikes``
(0..31: 31 for hidden neurons, 1 for output neurons).

``decay(x, d) = x >> d`` (floor), replaced by 1 when it is 0 and ``x > 0``. For every
slot, in this order::

    isyn_s = sat(isyn_s + w), one synaptic event at a time       # for s = 1, 2
             (ascending axon order, an axon's events one after the other; the core
              hands them over as SynapticEvents, Arithmetic.accumulate applies them)
    isyn_s = isyn_s - decay(isyn_s, dash_syn_s)                   # after this tick's input
    dv     = sat(-decay(v, dash_mem) + isyn1 + isyn2)    # -decay held in a v register
    dv     = sat(dv + bias)
    v      = sat(v + dv)
    count  = 0
    while v >= threshold and count < max_spikes:  count += 1;  v -= threshold

``x - decay(x, d)`` is not symmetric: with ``d = 1``, ``3 → 2 → 1 → 0`` but
``-3 → -1 → 0``; ``d = 0`` zeroes the value. It never leaves the range, so it needs no
``sat``. ``-decay(v, dash_mem)`` is held in a ``v``-wide register before the sum, as
xylosim's ``int16_t``: the one value that does not fit, ``-(-2^15)`` (``v = -2^15`` with
``dash_mem = 0``), wraps to ``-2^15``. The spike loop is computed in closed form: ``count = clip(v // threshold, 0,
max_spikes)`` (``max_spikes`` wherever ``v >= 0`` when ``threshold = 0``), then
``v -= count · threshold``. There is no refractory period and no noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import (Arithmetic, FieldFormat, FirmwareModel, RegisterFormat, SynapticEvents,
                    compiled_loader)
from ..records import SlotRecord, int_fields

MAX_SPIKES = 31        # hidden neurons: a 5-bit spike count per tick
MAX_OUTPUT_SPIKES = 1  # output neurons
MAX_INPUT_SPIKES = 15  # input events per channel and tick


@dataclass(frozen=True)
class XyloParams(SlotRecord):
    """Integer parameter fields, one entry per slot (all ``int64``)."""

    dash_syn1: np.ndarray
    dash_syn2: np.ndarray
    dash_mem: np.ndarray
    threshold: np.ndarray
    bias: np.ndarray
    max_spikes: np.ndarray

    @classmethod
    def make(cls, n: int, *, dash_syn1=4, dash_syn2=4, dash_mem=4, threshold=1000, bias=0,
             max_spikes=MAX_SPIKES) -> "XyloParams":
        """Parameters for ``n`` slots from scalars or per-slot sequences."""
        return cls(**int_fields("XyloParams", n, dict(
            dash_syn1=dash_syn1, dash_syn2=dash_syn2, dash_mem=dash_mem,
            threshold=threshold, bias=bias, max_spikes=max_spikes)))


@dataclass(frozen=True)
class XyloState(SlotRecord):
    """Integer registers, one entry per slot (all ``int64``)."""

    isyn1: np.ndarray
    isyn2: np.ndarray
    v: np.ndarray


def registers(spec) -> dict[str, RegisterFormat]:
    return {"isyn1": RegisterFormat(spec.i_bits, True, "saturate"),
            "isyn2": RegisterFormat(spec.i_bits, True, "saturate"),
            "v": RegisterFormat(spec.v_bits, True, "saturate")}


def param_formats(spec) -> dict[str, FieldFormat]:
    dash = FieldFormat(4, False)
    return {"dash_syn1": dash, "dash_syn2": dash, "dash_mem": dash,
            "threshold": FieldFormat(spec.v_bits - 1, False),
            "bias": FieldFormat(spec.v_bits, True),
            "max_spikes": FieldFormat(5, False)}


def decay(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``x >> d``, replaced by 1 where it is 0 and ``x > 0``."""
    step = x >> d
    return np.where((step == 0) & (x > 0), 1, step)


def xylo_step(p: XyloParams, s: XyloState, events: SynapticEvents, random_words,
              arith: Arithmetic) -> tuple[XyloState, np.ndarray]:
    """One tick of the Xylo program (module docstring) for every slot."""
    isyn = []
    for target, (name, dash) in enumerate((("isyn1", p.dash_syn1), ("isyn2", p.dash_syn2))):
        slots, w = events.of_target(target)
        x = arith.accumulate(getattr(s, name), slots, w, name)
        isyn.append(x - decay(x, dash))
    isyn1, isyn2 = isyn
    lo, hi = arith.registers["v"].range
    leak = -decay(s.v, p.dash_mem)
    leak = np.where(leak > hi, leak - (hi - lo + 1), leak)  # int16 negation of -32768
    dv = arith.fit(leak + isyn1 + isyn2, "v")
    dv = arith.fit(dv + p.bias, "v")
    v = arith.fit(s.v + dv, "v")
    threshold = np.maximum(p.threshold, 1)
    count = np.where(p.threshold == 0, np.where(v >= 0, p.max_spikes, 0),
                     np.clip(v // threshold, 0, p.max_spikes))
    v = v - count * p.threshold
    return XyloState(isyn1, isyn2, v), count


def is_idle(p: XyloParams, before: XyloState, events: SynapticEvents,
            fired: np.ndarray) -> np.ndarray:
    """Slots at rest (all registers 0) whose input sums to 0, with no bias and no spike."""
    quiet = ~events.total(p.n, 2).any(axis=0)
    return ((before.isyn1 == 0) & (before.isyn2 == 0) & (before.v == 0) & quiet
            & (p.bias == 0) & (fired == 0))


XYLO = FirmwareModel(
    name="xylo",
    params_type=XyloParams,
    state_type=XyloState,
    step=xylo_step,
    param_formats=param_formats,
    idle=is_idle,
    load_compiled=compiled_loader(__package__),
    registers=registers,
    targets=2,
    accumulation="sequential",
    max_spikes=MAX_SPIKES,
    max_input_events=MAX_INPUT_SPIKES,
)
