r"""The quadratic integrate-and-fire program: what one tick computes, on integer registers.

For every slot, in this order (``shift`` rounds as the core's spec says, ``fit`` writes
a register with the spec's overflow mode and check)::

    acc   = fit(acc, "acc")                        # summed w << w_exp of this tick
    i     = fit(i - shift(i, k_i) + acc, "i")
    if ref > 0:  ref = ref - 1;  v unchanged       # refractory: v is held
    else:        v = fit(v + shift(v * (v - v_c), k_q) + i + bias, "v")
    fire  = (ref was 0) and v >= v_peak
    on fire:  v = v_reset;  ref = t_ref

``v`` counts LSB above the resting potential ``E_L`` and ``v_c`` is the unstable fixed
point (``V_c``) in the same units. The leak is the quadratic ``v (v - v_c) 2^-k_q``: a
multiply and a shift. It is negative between ``0`` and ``v_c`` (the membrane relaxes
towards rest below the midpoint ``v_c / 2`` and runs away above it) and positive
outside; near rest it is ``-v v_c 2^-k_q``, the linear leak ``-v dt / tau`` of a LIF
with ``dt / tau = v_c 2^-k_q``. This is forward Euler of

    C dV/dt = (g_L / ΔV) (V - E_L)(V - V_c) + I,      ΔV = V_c - E_L,

with ``dt / (tau ΔV) = 2^-k_q / v_lsb`` (``tau = C / g_L``) and ``i``, ``bias`` in
volts per tick (``reference`` and ``quantiser`` give the units). The product
``v (v - v_c)`` is formed at full width (``2 v_bits + 1`` bits: ``v_bits <= 31`` keeps it
inside the ``int64`` the emulator computes in) before the shift; only the sum is
written to the ``v`` register. Spikes are the runaway reaching ``v_peak``.

The QIF draws no noise: ``noise_bits`` is all zero (the core asks every model's
parameters which slots draw LFSR words).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..base import Arithmetic, FieldFormat, FirmwareModel
from ..records import SlotRecord


@dataclass(frozen=True)
class QifParams:
    """Integer parameter fields, one array entry per slot (all ``int64``)."""

    k_i: np.ndarray
    k_q: np.ndarray
    v_c: np.ndarray
    bias: np.ndarray
    v_peak: np.ndarray
    v_reset: np.ndarray
    t_ref: np.ndarray

    @classmethod
    def make(cls, n: int, *, k_i=4, k_q=16, v_c=1024, bias=0, v_peak=3072, v_reset=0,
             t_ref=0) -> QifParams:
        """Parameters for ``n`` slots from scalars or per-slot sequences of integers."""
        values = {"k_i": k_i, "k_q": k_q, "v_c": v_c, "bias": bias, "v_peak": v_peak, "v_reset": v_reset,
                      "t_ref": t_ref}
        arrays = {}
        for name, value in values.items():
            array = np.asarray(value)
            if array.dtype.kind not in "iub":
                as_float = array.astype(float)
                if not np.array_equal(np.rint(as_float), as_float):
                    raise ValueError(f"QifParams.{name} must be integers, got {value!r}")
                array = np.rint(as_float)
            try:
                arrays[name] = np.broadcast_to(array.astype(np.int64), (n,)).copy()
            except ValueError:
                raise ValueError(f"QifParams.{name} has shape {array.shape}, "
                                 f"expected a scalar or ({n},)") from None
        return cls(**arrays)

    @property
    def n(self) -> int:
        return self.v_c.shape[0]

    @property
    def noise_bits(self) -> np.ndarray:
        """No slot draws noise (what the core reads to decide which slots get LFSR words)."""
        return np.zeros(self.n, dtype=np.int64)

    def take(self, index) -> QifParams:
        return QifParams(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class QifState(SlotRecord):
    """Integer registers, one entry per slot (all ``int64``)."""

    i: np.ndarray
    v: np.ndarray
    ref: np.ndarray


def param_formats(spec) -> dict[str, FieldFormat]:
    """Shifts are ``shift_bits`` wide (``2^k_q = v_c tau / dt``: 5 bits reach a 24-bit
    membrane at ``tau = 64 dt``); voltages as the LIF's."""
    shift = FieldFormat(spec.shift_bits, False)
    return {
        "k_i": shift,
        "k_q": shift,
        "v_c": FieldFormat(spec.v_bits - 1, False),
        "bias": FieldFormat(spec.v_bits, True),
        "v_peak": FieldFormat(spec.v_bits - 1, False),
        "v_reset": FieldFormat(spec.v_bits, True),
        "t_ref": FieldFormat(spec.ref_bits, False),
    }


def qif_step(p: QifParams, s: QifState, acc: np.ndarray, random_words: np.ndarray | None,
             arith: Arithmetic) -> tuple[QifState, np.ndarray]:
    """One tick of the QIF program (module docstring) for every slot."""
    acc = arith.fit(acc, "acc")
    i = arith.fit(s.i - arith.shift(s.i, p.k_i) + acc, "i")
    refractory = s.ref > 0
    drive = s.v + arith.shift(s.v * (s.v - p.v_c), p.k_q) + i + p.bias
    v = arith.fit(np.where(refractory, s.v, drive), "v")
    ref = s.ref - refractory
    fired = (v >= p.v_peak) & ~refractory
    if fired.any():
        v = np.where(fired, p.v_reset, v)
        ref = np.where(fired, p.t_ref, ref)
    return QifState(i, v, ref), fired


def is_idle(p: QifParams, before: QifState, acc: np.ndarray, fired: np.ndarray) -> np.ndarray:
    """Slots at rest (``v = 0`` is a fixed point of the quadratic leak) with no input,
    no bias and no spike: the tick leaves them as they were."""
    return ((before.v == 0) & (before.i == 0) & (before.ref == 0) & (acc == 0)
            & (p.bias == 0) & ~fired)


QIF = FirmwareModel(
    name="qif",
    params_type=QifParams,
    state_type=QifState,
    step=qif_step,
    param_formats=param_formats,
    idle=is_idle,
)
