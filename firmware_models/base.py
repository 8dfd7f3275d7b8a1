"""What a firmware model is, and the arithmetic it is written against.

A firmware model lives twice: as the integer program a core executes each tick
(``step``) and as the floating-point model in physical units it approximates (its
reference twin), joined by a quantiser. This package never imports the core: the core
hands ``step`` an object with the ``Arithmetic`` interface below (``neurochip.hardware.fixed``
implements it), and ``spec`` is any object with the width attributes a model reads.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, fields
from functools import lru_cache, partial
from typing import Any, Callable, Protocol

import numpy as np


def no_compiled() -> None:
    """``FirmwareModel.load_compiled`` of a model without a compiled twin (a module-level
    function, not a lambda, so that models and the chips holding them pickle)."""
    return None


def compiled_loader(package: str) -> Callable[[], "CompiledModel | None"]:
    """``load_compiled`` for a model whose twin is ``<package>.compiled``: a picklable
    ``partial`` of ``compiled_twin``."""
    return partial(compiled_twin, package)


class Arithmetic(Protocol):
    """The datapath of a core: rounding shift, register write (overflow policy) and
    in-order accumulation (``fit`` after every single addition, see ``SynapticEvents``)."""

    registers: dict  # register name -> RegisterFormat, as the core runs the model

    def shift(self, x: np.ndarray, k: np.ndarray) -> np.ndarray: ...

    def fit(self, x: np.ndarray, register: str) -> np.ndarray: ...

    def accumulate(self, x: np.ndarray, slots: np.ndarray, w: np.ndarray,
                   register: str) -> np.ndarray: ...


@dataclass(frozen=True)
class RegisterFormat:
    """A state register: ``bits`` wide, signed or not.

    ``overflow`` (``"saturate"`` or ``"wrap"``) fixes the register's own overflow mode;
    ``None`` leaves it to the core's ``CoreSpec.overflow``. ``lo``/``hi`` narrow or move
    the range (a saturating register symmetric about 0, a wrapping one whose window is
    ``lo .. lo + 2^bits - 1``); ``None`` means the usual two's-complement bound.
    """

    bits: int
    signed: bool
    overflow: str | None = None
    lo: int | None = None
    hi: int | None = None

    @property
    def range(self) -> tuple[int, int]:
        lo, hi = bounds(self.bits, self.signed)
        return (lo if self.lo is None else self.lo, hi if self.hi is None else self.hi)


@dataclass(frozen=True)
class SynapticEvents:
    """The synaptic events of one tick in the order a sequential datapath applies them.

    Entry ``j`` adds ``w[j]`` (``w << w_exp``) to input target ``target[j]`` of slot
    ``slot[j]``; entries come in ascending axon order, an axon with ``c`` events gives
    its row ``c`` times in a row, and a row's words keep their stored order. A model
    whose ``accumulation`` is ``"sequential"`` receives this instead of ``acc``.
    """

    slot: np.ndarray    # int64
    target: np.ndarray  # int64
    w: np.ndarray       # int64

    def of_target(self, target: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.target == target
        return self.slot[chosen], self.w[chosen]

    def total(self, n: int, targets: int) -> np.ndarray:
        """The wide sum per target and slot, shape ``(targets, n)`` (for idle tests)."""
        out = np.zeros(targets * n, dtype=np.int64)
        np.add.at(out, self.target * n + self.slot, self.w)
        return out.reshape(targets, n)


def bounds(bits: int, signed: bool) -> tuple[int, int]:
    """Smallest and largest value of a ``bits``-wide two's-complement or unsigned field."""
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


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
        lo, hi = bounds(self.bits, self.signed)
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
    parameter field; the state after reset is ``state_type.zeros(n)`` (``SlotRecord``).
    ``idle(params, before, acc, fired)`` says which slots had nothing to do in a tick
    (the timing model charges them ``neuron_idle`` cycles instead of ``neuron_active``).
    ``load_compiled()`` returns the model's ``CompiledModel`` (numba), or ``None`` when
    the model has none or numba is not installed.

    General options a model may declare (the defaults are the reference LIF's):

    * ``registers(spec)``: its state registers and their formats (``RegisterFormat``),
      every field of ``state_type`` included; ``None`` means ``spec.registers()``.
    * ``targets``: synaptic input targets per slot (a synapse word names one); with
      more than one, ``acc`` has one row per target, shape ``(targets, n)``.
    * ``accumulation``: ``"wide"`` (sum every event of the tick exactly, the model fits
      the sum) or ``"sequential"`` (the model gets ``SynapticEvents`` in application
      order and adds them one at a time with ``Arithmetic.accumulate``).
    * ``max_spikes``: most spikes a slot emits in one tick; above 1, ``step`` returns a
      spike count per slot (``int64``) instead of a boolean mask, and a count ``c``
      sends every routing entry of the slot ``c`` times.
    * ``max_input_events``: most external events one input channel may carry in a tick
      (``None``: no limit); more is refused where inputs are built for the model.
    """

    name: str
    params_type: type
    state_type: type
    step: Callable[..., tuple[Any, np.ndarray]]
    param_formats: Callable[[Any], dict[str, FieldFormat]]
    idle: Callable[[Any, Any, np.ndarray, np.ndarray], np.ndarray]
    load_compiled: Callable[[], "CompiledModel | None"] = no_compiled
    registers: Callable[[Any], dict[str, RegisterFormat]] | None = None
    targets: int = 1
    accumulation: str = "wide"
    max_spikes: int = 1
    max_input_events: int | None = None

    @property
    def compiled(self) -> "CompiledModel | None":
        return self.load_compiled()

    def __reduce__(self):
        """A registered model (``register``, as ``firmware_models.MODELS`` are) pickles
        by its name, so an unpickled chip runs the very same model object; any other by
        its fields (which must be picklable: module-level functions, ``compiled_loader``)."""
        if _REGISTERED.get(self.name) is self:
            return registered_model, (self.name,)
        return type(self), tuple(getattr(self, f.name) for f in fields(self))


_REGISTERED: dict[str, FirmwareModel] = {}


def register(*models: FirmwareModel) -> dict[str, FirmwareModel]:
    """Register ``models`` (they then pickle by name); returns them by name."""
    for model in models:
        _REGISTERED[model.name] = model
    return {model.name: model for model in models}


def registered_model(name: str) -> FirmwareModel:
    """The registered model ``name`` (what a pickled registered model becomes)."""
    return _REGISTERED[name]


@dataclass(frozen=True)
class CompiledModel:
    """The compiled twin of a model's ``step`` and how its records become arrays.

    ``step(P, S, S_new, acc, words, lo, hi, bits, signed, wrap, rounding, check,
    counts, fired, idle, error)`` works on 2-D integer arrays (one row per field, each a
    contiguous run over slots);
    ``phase_register[k]`` is the register index (in ``CoreSpec.registers()`` order) that
    phase ``k`` of the step writes, for naming the first overflow in strict mode.
    """

    step: Callable
    pack_params: Callable[[Any], np.ndarray]
    pack_state: Callable[..., np.ndarray]  # (state, dtype holding every register value)
    unpack_state: Callable[[np.ndarray], Any]
    phase_register: tuple[int, ...]


@lru_cache(maxsize=None)
def compiled_twin(package: str) -> CompiledModel | None:
    """The ``CompiledModel`` of module ``<package>.compiled`` (which defines ``STEP``,
    ``pack_params``, ``pack_state``, ``unpack_state`` and ``PHASE_REGISTER``), or ``None``
    when numba is not installed: the model's numpy kernel is then the only one."""
    try:
        module = importlib.import_module(f"{package}.compiled")
    except ImportError:
        return None
    return CompiledModel(module.STEP, module.pack_params, module.pack_state,
                         module.unpack_state, module.PHASE_REGISTER)
