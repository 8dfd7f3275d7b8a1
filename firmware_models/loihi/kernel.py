r"""The Loihi dialect: Lava 0.10 ``PyLifModelBitAcc`` arithmetic, on integer registers.

Registers (widths from the core's spec; the ``LOIHI`` preset gives Loihi's 24 bits):
``u`` synaptic current, wraps; ``v`` membrane voltage, saturates at
``±(2^(b-1) - 1)``. Parameters per slot: ``du``, ``dv`` (decay constants, 0..4095),
``bias_mant`` (13-bit signed), ``bias_exp`` (0..7), ``vth`` (17-bit unsigned).

For every slot, in this order (``acc`` is ``a_in``, the wide sum of this tick's
``w << w_exp``)::

    p = u * (4096 - du - 1);   u = sign(p) * (|p| >> 12)      # toward zero
    u = wrap(u + (acc << 6), "u")                             # window -2^23+1 .. 2^23
    q = v * (4096 - dv);       v = sign(q) * (|q| >> 12)
    v = sat(v + u + (bias_mant << bias_exp), "v")             # the new u; ±(2^23 - 1)
    fire = v > (vth << 6)                                     # strict
    on fire: v = 0                                            # u is not reset

There is no refractory period and no noise. Lava wraps ``u`` by one correction: a value
above ``2^23`` loses ``2^24`` and one at or below ``-2^23`` gains it, so ``+2^23`` is left
as it is and ``-2^23`` becomes ``+2^23``: the window is ``-2^23 + 1 .. 2^23``. Here the
wrap is modulo ``2^24`` into that window, which is Lava's result wherever one correction
suffices (a raw value in ``-3·2^23 .. 3·2^23``; Lava leaves anything beyond outside 24
bits). ``du = 4095`` clears ``u`` every tick; ``dv = 0`` keeps ``v`` (a perfect
integrator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base import Arithmetic, FieldFormat, FirmwareModel, RegisterFormat, compiled_loader
from ..records import SlotRecord, int_fields

DECAY_UNITY = 4096   # Lava's decay_unity: decays are fractions of 2^12
DECAY_SHIFT = 12
ACT_SHIFT = 6        # synaptic input is aligned to the MSBs of u: a_in << 6
VTH_SHIFT = 6        # the threshold is compared as vth << 6
DS_OFFSET = 1        # u decays by (4096 - du - 1) / 4096, v by (4096 - dv) / 4096


@dataclass(frozen=True)
class LoihiParams(SlotRecord):
    """Integer parameter fields, one entry per slot (all ``int64``)."""

    du: np.ndarray
    dv: np.ndarray
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    vth: np.ndarray

    @classmethod
    def make(cls, n: int, *, du=0, dv=0, bias_mant=0, bias_exp=0, vth=10) -> "LoihiParams":
        """Parameters for ``n`` slots from scalars or per-slot sequences."""
        return cls(**int_fields("LoihiParams", n, dict(
            du=du, dv=dv, bias_mant=bias_mant, bias_exp=bias_exp, vth=vth)))


    @property
    def bias(self) -> np.ndarray:
        """The effective bias ``bias_mant << bias_exp`` added to ``v`` every tick."""
        return self.bias_mant << self.bias_exp


@dataclass(frozen=True)
class LoihiState(SlotRecord):
    """Integer registers, one entry per slot (all ``int64``)."""

    u: np.ndarray
    v: np.ndarray


def registers(spec) -> dict[str, RegisterFormat]:
    """``u`` wraps into ``-2^(b-1)+1 .. 2^(b-1)``; ``v`` saturates at ``±(2^(b-1)-1)``."""
    u_half, v_half = 1 << (spec.i_bits - 1), 1 << (spec.v_bits - 1)
    return {"u": RegisterFormat(spec.i_bits, True, "wrap", -u_half + 1, u_half),
            "v": RegisterFormat(spec.v_bits, True, "saturate", -v_half + 1, v_half - 1)}


PARAM_FORMATS = {
    "du": FieldFormat(12, False),
    "dv": FieldFormat(12, False),
    "bias_mant": FieldFormat(13, True),
    "bias_exp": FieldFormat(3, False),
    "vth": FieldFormat(17, False),
}


def param_formats(spec) -> dict[str, FieldFormat]:
    return dict(PARAM_FORMATS)


def decay(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``sign(x·factor) · (|x·factor| >> 12)``: multiply by ``factor / 4096``, toward zero."""
    p = x * factor
    return np.sign(p) * (np.abs(p) >> DECAY_SHIFT)


def loihi_step(p: LoihiParams, s: LoihiState, acc: np.ndarray, random_words,
               arith: Arithmetic) -> tuple[LoihiState, np.ndarray]:
    """One tick of the Loihi program (module docstring) for every slot."""
    u = arith.fit(decay(s.u, DECAY_UNITY - p.du - DS_OFFSET) + (acc << ACT_SHIFT), "u")
    v = arith.fit(decay(s.v, DECAY_UNITY - p.dv) + u + p.bias, "v")
    fired = v > (p.vth << VTH_SHIFT)
    if fired.any():
        v = np.where(fired, 0, v)
    return LoihiState(u, v), fired


def is_idle(p: LoihiParams, before: LoihiState, acc, fired: np.ndarray) -> np.ndarray:
    """Slots at rest (``u = v = 0``) with no input, no bias and no spike."""
    return (before.u == 0) & (before.v == 0) & (acc == 0) & (p.bias_mant == 0) & ~fired


LOIHI = FirmwareModel(
    name="loihi",
    params_type=LoihiParams,
    state_type=LoihiState,
    step=loihi_step,
    param_formats=param_formats,
    idle=is_idle,
    registers=registers,
    load_compiled=compiled_loader(__package__),
)
