"""What a firmware model is, and the arithmetic it is written against.

A firmware model lives twice: as the integer program a core executes each tick
(``step``) and as the floating-point model in physical units it approximates (its
reference twin), joined by a quantiser. This package never imports the core: the core
hands ``step`` an object with the ``Arithmetic`` interface below (``neurochip.fixed``
implements it), and ``spec`` is any object with the width attributes a model reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np


class Arithmetic(Protocol):
    """The datapath of a core: rounding shift and register write (overflow policy)."""

    def shift(self, x: np.ndarray, k: np.ndarray) -> np.ndarray: ...

    def fit(self, x: np.ndarray, register: str) -> np.ndarray: ...


@dataclass(frozen=True)
class FieldFormat:
    """Width of one per-slot parameter field: ``bits`` wide, signed or not.

    ``largest`` narrows the range of a field whose top codes mean nothing (an enum).
    """

    bits: int
    signed: bool
    largest: int | None = None

    @property
    def range(self) -> tuple[int, int]:
        if self.signed:
            lo, hi = -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        else:
            lo, hi = 0, (1 << self.bits) - 1
        return lo, hi if self.largest is None else min(hi, self.largest)


@dataclass(frozen=True)
class FieldViolation:
    field: str
    index: int
    value: int
    format: FieldFormat


def first_violation(params, formats: dict[str, FieldFormat]) -> FieldViolation | None:
    """The first parameter value (field order, then slot) outside its field, if any."""
    for name, fmt in formats.items():
        values = getattr(params, name)
        lo, hi = fmt.range
        bad = np.flatnonzero((values < lo) | (values > hi))
        if bad.size:
            index = int(bad[0])
            return FieldViolation(name, index, int(values[index]), fmt)
    return None


@dataclass(frozen=True)
class FirmwareModel:
    """A neuron program: its records, its step function and its field widths.

    ``step(params, state, acc, random_words, arith) -> (state, fired)`` computes one
    tick for every slot; ``random_words`` is the LFSR output (one 32-bit word per slot)
    or ``None`` when no slot uses noise. ``param_formats(spec)`` gives the width of every
    parameter field, ``init_state(params)`` the state after reset.
    ``idle(params, before, acc, fired)`` says which slots had nothing to do in a tick
    (the timing model charges them ``neuron_idle`` cycles instead of ``neuron_active``).
    ``load_compiled()`` returns the model's ``CompiledModel`` (numba), or ``None`` when
    the model has none or numba is not installed.
    """

    name: str
    params_type: type
    state_type: type
    step: Callable[..., tuple[Any, np.ndarray]]
    param_formats: Callable[[Any], dict[str, FieldFormat]]
    init_state: Callable[[Any], Any]
    uses_noise: Callable[[Any], bool]
    idle: Callable[[Any, Any, np.ndarray, np.ndarray], np.ndarray]
    load_compiled: Callable[[], "CompiledModel | None"] = lambda: None

    @property
    def compiled(self) -> "CompiledModel | None":
        return self.load_compiled()


@dataclass(frozen=True)
class CompiledModel:
    """The compiled twin of a model's ``step`` and how its records become arrays.

    ``step(P, S, S_new, acc, words, noisy, lo, hi, bits, signed, wrap, rounding, check,
    counts, fired, idle, error)`` works on 2-D integer arrays (one row per slot, one
    column per field);
    ``phase_register[k]`` is the register index (in ``CoreSpec.registers()`` order) that
    phase ``k`` of the step writes, for naming the first overflow in strict mode.
    """

    step: Callable
    pack_params: Callable[[Any], np.ndarray]
    pack_state: Callable[..., np.ndarray]  # (state, wide=False)
    unpack_state: Callable[[np.ndarray], Any]
    phase_register: tuple[int, ...]
