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

from typing import Callable

import numpy as np

from firmware_models.base import RegisterFormat

__all__ = ["Arithmetic", "RegisterFormat", "RegisterOverflowError", "overflowed", "saturate",
           "register_range", "shift_right", "value_range", "wrap", "wrap_into"]

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


def wrap_into(x, lo: int, hi: int):
    """``x`` wrapped modulo ``hi - lo + 1`` into the window ``lo .. hi``."""
    return np.mod(np.subtract(x, lo), hi - lo + 1) + lo


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
                 bits: int, signed: bool, bounds: tuple[int, int] | None = None):
        lo, hi = bounds or value_range(bits, signed)
        kind = "signed" if signed else "unsigned"
        super().__init__(
            f"core {core}, slot {slot}: register '{register}' overflowed at tick {tick}: "
            f"value {value} outside [{lo}, {hi}] ({bits}-bit {kind})")
        self.core, self.slot, self.register, self.tick, self.value = core, slot, register, tick, value


def register_range(fmt) -> tuple[int, int]:
    """A register's range: its own (``RegisterFormat.range``) or the usual bound."""
    return fmt.range if hasattr(fmt, "range") else value_range(fmt.bits, fmt.signed)


def _single_core(index) -> tuple[int, int]:
    """``Arithmetic.locate`` when none is given: every element is a slot of core 0."""
    return 0, int(index)


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
        self.locate = locate or _single_core
        self.tick = 0
        self.counts = {name: 0 for name in self.registers}
        self._ranges = {name: register_range(f) for name, f in self.registers.items()}

    def shift(self, x, k):
        return shift_right(x, k, self.rounding)

    def fit(self, x, register: str, slots=None):
        """``x`` written into ``register``; ``slots`` (one per element) names the slot of
        each element in a strict-mode error when ``x`` is not one value per slot."""
        lo, hi = self._ranges[register]
        x = np.asarray(x, dtype=np.int64)
        if x.size == 0 or (x.min() >= lo and x.max() <= hi):
            return x
        fmt = self.registers[register]
        if self.overflow_check == "strict":
            index = int(np.flatnonzero((x < lo) | (x > hi))[0])
            core, slot = self.locate(index if slots is None else int(slots[index]))
            raise RegisterOverflowError(core, slot, register, self.tick, int(x.flat[index]),
                                        fmt.bits, fmt.signed, (lo, hi))
        if self.overflow_check == "count":
            self.counts[register] += int(np.count_nonzero((x < lo) | (x > hi)))
        mode = fmt.overflow or self.overflow
        if mode == "saturate":
            return np.clip(x, lo, hi)
        if (lo, hi) == value_range(fmt.bits, fmt.signed):
            return wrap(x, fmt.bits, fmt.signed)
        return wrap_into(x, lo, hi)

    def accumulate(self, x, slots, w, register: str):
        """Add ``w[j]`` to ``x[slots[j]]`` one event at a time, in the given order, and
        ``fit`` the register after every single addition.

        A slot whose start plus all its positive (or negative) events stays inside the
        range, or whose running sums all do, gets the wide sum (the same result); the
        others are applied by rounds, round ``r`` adding every such slot's ``r``-th event
        at once (no per-slot loop).
        """
        x = np.array(x, dtype=np.int64)
        slots = np.asarray(slots, dtype=np.int64)
        if slots.size == 0:
            return x
        w = np.asarray(w, dtype=np.int64)
        lo, hi = self._ranges[register]
        # a slot whose start plus all its positive (negative) events stays below hi
        # (above lo) cannot leave the range in any order: the wide sum, without sorting
        up = np.bincount(slots, weights=np.maximum(w, 0), minlength=x.size)
        down = np.bincount(slots, weights=np.minimum(w, 0), minlength=x.size)
        safe = (x + up <= hi) & (x + down >= lo)
        x = x + (up + down).astype(np.int64)
        if safe.all():
            return x
        unsafe = ~safe
        x[unsafe] -= (up + down).astype(np.int64)[unsafe]   # these go one event at a time
        chosen = unsafe[slots]
        slots, w = slots[chosen], w[chosen]
        order = np.argsort(slots, kind="stable")
        s, w = slots[order], w[order]
        first = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
        length = np.diff(np.concatenate([first, [s.size]]))
        group = np.repeat(np.arange(first.size), length)
        running = np.cumsum(w)
        running = running - np.repeat(running[first] - w[first], length) + x[s]
        outside = (running < lo) | (running > hi)
        last = first + length - 1
        if not outside.any():
            x[s[last]] = running[last]
            return x
        bad = np.zeros(first.size, dtype=bool)
        bad[group[outside]] = True
        x[s[last[~bad]]] = running[last[~bad]]
        chosen = bad[group]
        rank = (np.arange(s.size) - first[group])[chosen]
        s, w = s[chosen], w[chosen]
        by_round = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_round], np.arange(int(rank.max()) + 2))
        for r in range(bounds.size - 1):
            index = by_round[bounds[r]:bounds[r + 1]]
            target = s[index]
            x[target] = self.fit(x[target] + w[index], register, slots=target)
        return x
