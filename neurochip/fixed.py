"""Fixed-point arithmetic on numpy integer arrays: the operations a core's datapath has.

Every function works element-wise over ``int64`` arrays (or Python ints) without a
per-element Python loop. Widths are 1..32 bits for unsigned and 2..32 bits for signed
values, so every intermediate a tick forms (a sum of a few registers, a shifted weight)
is exact in ``int64``.

* ``saturate(x, bits, signed)`` clamps to the representable range.
* ``wrap(x, bits, signed)`` keeps the low ``bits`` bits (two's complement when signed).
* ``overflowed(x, bits, signed)`` is the boolean mask of elements outside the range.
* ``shift_right(x, k, rounding)`` is ``x / 2**k`` rounded by one of ``ROUNDING_MODES``:

  ========== ======================================= ==========================
  mode       result                                  error ``x/2**k - result``
  ========== ======================================= ==========================
  ``floor``  ``floor(x / 2**k)`` (arithmetic shift)  ``[0, 1 - 2**-k]``
  ``nearest`` nearest integer, halves away from 0   ``[-1/2, 1/2]``
  ``zero``   toward zero (``trunc``)                 ``|e| <= 1 - 2**-k``, sign of x
  ========== ======================================= ==========================

``Arithmetic`` bundles these with a ``CoreSpec``'s choices (overflow mode, rounding
mode, overflow check policy) into the one object a core hands to its firmware model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

ROUNDING_MODES = ("floor", "nearest", "zero")
OVERFLOW_MODES = ("saturate", "wrap")
OVERFLOW_CHECKS = ("off", "count", "strict")


def value_range(bits: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest value of a ``bits``-wide register."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def saturate(x, bits: int, signed: bool = True):
    lo, hi = value_range(bits, signed)
    return np.clip(x, lo, hi)


def wrap(x, bits: int, signed: bool = True):
    mask = (1 << bits) - 1
    if not signed:
        return np.bitwise_and(x, mask)
    half = 1 << (bits - 1)
    return np.bitwise_and(np.add(x, half), mask) - half


def overflowed(x, bits: int, signed: bool = True):
    lo, hi = value_range(bits, signed)
    x = np.asarray(x)
    return (x < lo) | (x > hi)


def shift_right(x, k, rounding: str = "floor"):
    """``x / 2**k`` rounded as ``rounding`` says; ``k`` may be an array (one per element)."""
    x = np.asarray(x, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    if rounding == "floor":
        return x >> k
    magnitude = np.abs(x)
    if rounding == "nearest":
        magnitude = (magnitude + ((np.int64(1) << k) >> 1)) >> k
    elif rounding == "zero":
        magnitude = magnitude >> k
    else:
        raise ValueError(f"rounding must be one of {ROUNDING_MODES}, got {rounding!r}")
    return np.where(x < 0, -magnitude, magnitude)


class RegisterOverflowError(ArithmeticError):
    """A register left its range while the core ran with ``overflow_check='strict'``."""

    def __init__(self, core: int, slot: int, register: str, tick: int, value: int,
                 bits: int, signed: bool):
        lo, hi = value_range(bits, signed)
        kind = "signed" if signed else "unsigned"
        super().__init__(
            f"core {core}, slot {slot}: register '{register}' overflowed at tick {tick}: "
            f"value {value} outside [{lo}, {hi}] ({bits}-bit {kind})")
        self.core, self.slot, self.register, self.tick, self.value = core, slot, register, tick, value


@dataclass(frozen=True)
class RegisterFormat:
    bits: int
    signed: bool


class Arithmetic:
    """The datapath a core hands its firmware model: shifts and register writes.

    ``fit(x, name)`` stores a wide intermediate into register ``name``: it applies the
    overflow mode (saturate or wrap) and the overflow check (``off``; ``count`` adds the
    number of overflowing elements to ``counts[name]``; ``strict`` raises
    ``RegisterOverflowError`` for the first one). ``locate`` turns an element index into
    ``(core, slot)`` for that message; ``tick`` is kept current by the core.
    """

    def __init__(self, registers: dict[str, RegisterFormat], overflow: str = "saturate",
                 rounding: str = "floor", overflow_check: str = "count",
                 locate: Callable[[int], tuple[int, int]] | None = None):
        if overflow not in OVERFLOW_MODES:
            raise ValueError(f"overflow must be one of {OVERFLOW_MODES}, got {overflow!r}")
        if rounding not in ROUNDING_MODES:
            raise ValueError(f"rounding must be one of {ROUNDING_MODES}, got {rounding!r}")
        if overflow_check not in OVERFLOW_CHECKS:
            raise ValueError(
                f"overflow_check must be one of {OVERFLOW_CHECKS}, got {overflow_check!r}")
        self.registers = dict(registers)
        self.overflow = overflow
        self.rounding = rounding
        self.overflow_check = overflow_check
        self.locate = locate or (lambda index: (0, int(index)))
        self.tick = 0
        self.counts = {name: 0 for name in self.registers}
        self._ranges = {name: value_range(f.bits, f.signed) for name, f in self.registers.items()}

    def shift(self, x, k):
        return shift_right(x, k, self.rounding)

    def fit(self, x, register: str):
        lo, hi = self._ranges[register]
        x = np.asarray(x, dtype=np.int64)
        if x.size == 0 or (x.min() >= lo and x.max() <= hi):
            return x
        if self.overflow_check == "strict":
            index = int(np.flatnonzero((x < lo) | (x > hi))[0])
            core, slot = self.locate(index)
            fmt = self.registers[register]
            raise RegisterOverflowError(core, slot, register, self.tick, int(x.flat[index]),
                                        fmt.bits, fmt.signed)
        if self.overflow_check == "count":
            self.counts[register] += int(np.count_nonzero((x < lo) | (x > hi)))
        if self.overflow == "saturate":
            return np.clip(x, lo, hi)
        fmt = self.registers[register]
        return wrap(x, fmt.bits, fmt.signed)
