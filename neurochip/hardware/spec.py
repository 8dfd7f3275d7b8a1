"""``CoreSpec``: every width, mode and capacity of one emulated core (docs/tick.md)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .fixed import OVERFLOW_CHECKS, OVERFLOW_MODES, ROUNDING_MODES, RegisterFormat


# the neuron arithmetics a core can run (neurochip.compiler.dialects): the reference LIF, Loihi as
# Lava's PyLifModelBitAcc models it, Xylo as xylosim models it
DIALECTS = ("lif", "loihi", "xylo")


class SpecError(ValueError):
    """A specification, parameter or configuration value the hardware cannot hold."""


def _is_int(value) -> bool:
    """An integer (Python or numpy), but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class CoreSpec:
    """Register widths (bits), arithmetic modes and capacities of a core.

    Registers: ``i`` synaptic current (signed), ``v`` membrane (signed), ``theta``
    adaptive-threshold offset (unsigned), ``ref`` refractory counter (unsigned),
    ``w`` weight mantissa (signed) with a per-row exponent of ``w_exp_bits`` bits.
    Parameters: leak shifts are ``shift_bits`` wide; ``bias`` and ``v_reset`` are
    ``v_bits`` signed; ``v_th`` is ``v_bits - 1`` unsigned; ``alpha`` is
    ``theta_bits`` unsigned; noise mantissa width is 0..``noise_bits_max`` and its
    left shift 0..2**``shift_bits``-1. Delays are 1..2**``delay_bits``-1 ticks.
    ``leak_bits`` is the width of the LIF leak mantissas ``m_i``, ``m_v``, ``m_theta``
    (a leak is ``x - shift(x * m, k)``, decay ``1 - m 2^-k`` per tick); 0 means the core
    has no mantissa fields (``m = 1``: the plain shift leak ``x - shift(x, k)``).
    ``dialect`` names the neuron arithmetic (``DIALECTS``; ``neurochip.compiler.dialects``): a
    ``Core`` or ``Chip`` built without an explicit firmware model runs that dialect's
    model, and the compiler quantises for it.
    """

    n_slots: int = 1024
    n_axons: int = 1024
    synapse_words: int = 131072
    routing_entries: int = 4096
    max_fanout: int = 16

    i_bits: int = 16
    v_bits: int = 16
    theta_bits: int = 16
    ref_bits: int = 4
    w_bits: int = 8
    w_exp_bits: int = 3
    delay_bits: int = 4
    shift_bits: int = 5
    noise_bits_max: int = 16
    leak_bits: int = 12

    overflow: str = "saturate"
    rounding: str = "floor"
    overflow_check: str = "count"
    dialect: str = "lif"

    def __post_init__(self):
        for name in ("n_slots", "n_axons", "synapse_words", "routing_entries", "max_fanout"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise SpecError(f"CoreSpec.{name} must be a positive integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        for name, lo, hi in (("i_bits", 2, 32), ("v_bits", 3, 32), ("theta_bits", 1, 32),
                             ("ref_bits", 1, 16), ("w_bits", 2, 16), ("w_exp_bits", 0, 4),
                             ("delay_bits", 1, 8), ("shift_bits", 1, 5),
                             ("noise_bits_max", 0, 31), ("leak_bits", 0, 16)):
            value = getattr(self, name)
            if not _is_int(value) or not lo <= value <= hi:
                raise SpecError(f"CoreSpec.{name} must be an integer in {lo}..{hi}, got {value!r}")
            object.__setattr__(self, name, int(value))
        for name, allowed in (("overflow", OVERFLOW_MODES), ("rounding", ROUNDING_MODES),
                              ("overflow_check", OVERFLOW_CHECKS), ("dialect", DIALECTS)):
            if getattr(self, name) not in allowed:
                raise SpecError(
                    f"CoreSpec.{name} must be one of {allowed}, got {getattr(self, name)!r}")

    @property
    def max_delay(self) -> int:
        return (1 << self.delay_bits) - 1

    @property
    def max_w_exp(self) -> int:
        return (1 << self.w_exp_bits) - 1

    @property
    def max_shift(self) -> int:
        return (1 << self.shift_bits) - 1

    def registers(self) -> dict[str, RegisterFormat]:
        """Formats of the state registers (``acc`` is the tick's summed input, ``i`` wide)."""
        return {
            "acc": RegisterFormat(self.i_bits, True),
            "i": RegisterFormat(self.i_bits, True),
            "v": RegisterFormat(self.v_bits, True),
            "theta": RegisterFormat(self.theta_bits, False),
            "ref": RegisterFormat(self.ref_bits, False),
        }

    def replace(self, **changes) -> "CoreSpec":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values)
        if unknown:
            raise SpecError(f"CoreSpec has no field(s) {sorted(unknown)}")
        values.update(changes)
        return CoreSpec(**values)
