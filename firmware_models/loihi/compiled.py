"""The Loihi program compiled with numba: the same tick as ``kernel.loihi_step``.

One pass over the slots with no branch in it (selects only), over field-major rows as
``firmware_models.lif.compiled`` lays them out: parameters in the order of
``LoihiParams`` (``du``, ``dv``, ``bias_mant``, ``bias_exp``, ``vth``), registers in the
order of ``LoihiState`` (``u``, ``v``). The registers' overflow modes are the model's
(``kernel.registers``: ``u`` wraps into its window, ``v`` saturates), whatever the
core's ``overflow``; ``lo``/``hi`` are their ranges. Checked bit for bit against
``kernel.loihi_step`` by tests/test_backends.py.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from numba import njit

from ..lif.compiled import CHECK_COUNT, CHECK_STRICT, holding
from .kernel import (
    ACT_SHIFT,
    DECAY_SHIFT,
    DECAY_UNITY,
    DS_OFFSET,
    VTH_SHIFT,
    LoihiParams,
    LoihiState,
)

U, V = range(2)  # registers, and the phases of the tick that write them
DU, DV, BIAS_MANT, BIAS_EXP, VTH = range(5)
PHASE_REGISTER = (U, V)


def pack_params(p: LoihiParams) -> np.ndarray:
    """(fields, slots) in the narrowest type that holds every value."""
    array = np.stack([getattr(p, f.name) for f in fields(LoihiParams)], axis=0)
    return array.astype(holding(int(array.min(initial=0)), int(array.max(initial=0))))


def pack_state(s: LoihiState, dtype: type) -> np.ndarray:
    return np.stack([s.u, s.v], axis=0).astype(dtype)


def unpack_state(array: np.ndarray) -> LoihiState:
    return LoihiState(array[U].astype(np.int64), array[V].astype(np.int64))


@njit(cache=True, inline="always")
def decayed(x, factor):
    """``sign(x·factor) · (|x·factor| >> 12)``, as a select."""
    p = x * factor
    return (p >> DECAY_SHIFT) if p >= 0 else -((-p) >> DECAY_SHIFT)


@njit(cache=True, inline="always")
def loihi_slot(P, S, acc, j, u_lo, u_span, v_lo, v_hi):
    """Slot ``j``'s tick: its new ``u``, the value before wrapping it, its ``v`` before
    the reset and the value before saturating it, and its spike."""
    raw_u = decayed(np.int64(S[U, j]), DECAY_UNITY - np.int64(P[DU, j]) - DS_OFFSET) + (
        acc[j] << ACT_SHIFT)
    u = (raw_u - u_lo) % u_span + u_lo  # into the window (Python's modulo: >= 0)
    raw_v = decayed(np.int64(S[V, j]), DECAY_UNITY - np.int64(P[DV, j])) + u + (
        np.int64(P[BIAS_MANT, j]) << np.int64(P[BIAS_EXP, j]))
    v = min(max(raw_v, v_lo), v_hi)
    return u, raw_u, v, raw_v, v > (np.int64(P[VTH, j]) << VTH_SHIFT)


@njit(cache=True)
def loihi_step_compiled(P, S, S_new, acc, words, lo, hi, bits, signed, wrap, rounding,
                        check, counts, fired, idle, error):
    """One tick for every slot (``CompiledModel.step``'s signature; ``words``, ``bits``,
    ``signed``, ``wrap`` and ``rounding`` are not used: Loihi has no noise and its
    registers fix their own modes). ``acc`` is consumed (left at zero). Strict mode
    (``CHECK_STRICT``) puts the first overflow in ``error`` (phase, slot, value; phase -1
    when none), found by a second pass only after the first saw one: the lowest slot
    whose ``u`` wraps, else the lowest whose ``v`` saturates, as the numpy kernel, which
    fits ``u`` for every slot first, reports it."""
    error[0] = -1
    u_lo, u_span, v_lo, v_hi = lo[U], hi[U] - lo[U] + 1, lo[V], hi[V]
    o_u = o_v = 0
    for j in range(acc.size):
        u, raw_u, v, raw_v, spike = loihi_slot(P, S, acc, j, u_lo, u_span, v_lo, v_hi)
        S_new[U, j] = u
        S_new[V, j] = 0 if spike else v
        fired[j] = spike
        idle[j] = ((S[U, j] == 0) & (S[V, j] == 0) & (acc[j] == 0) & (P[BIAS_MANT, j] == 0)
                   & (not spike))
        o_u += u != raw_u
        o_v += v != raw_v
    if check == CHECK_COUNT:
        counts[U] += o_u
        counts[V] += o_v
    elif check == CHECK_STRICT and o_u + o_v > 0:
        for phase in range(2):
            for j in range(acc.size):
                u, raw_u, v, raw_v, spike = loihi_slot(P, S, acc, j, u_lo, u_span, v_lo,
                                                       v_hi)
                if (u != raw_u) if phase == U else (v != raw_v):
                    error[0], error[1], error[2] = phase, j, raw_u if phase == U else raw_v
                    acc[:] = 0
                    return
    acc[:] = 0


STEP = loihi_step_compiled  # what CompiledModel.step is for this model
