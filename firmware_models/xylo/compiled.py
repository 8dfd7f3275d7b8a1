"""The Xylo program compiled with numba: the same tick as ``kernel.xylo_step``.

The in-order saturating accumulation is not done here but by the engine kernel's Xylo
delivery (``neurochip.hardware.tick_kernel``): it starts from this tick's ``isyn1`` and
``isyn2`` and adds the tick's events one at a time in ``DeliveryTable.events`` order,
saturating after each, into ``acc`` (``acc[t * n + j]``: current ``t`` of slot ``j``
after this tick's input; ``acc[2n + t * n + j]``: the wide sum of its events, for the
idle test, kept only with timing). This step does the rest: the decays, the three
saturating ``v`` writes and the closed-form spike loop, one pass over the slots.

Parameters in the order of ``XyloParams`` (``dash_syn1``, ``dash_syn2``, ``dash_mem``,
``threshold``, ``bias``, ``max_spikes``), registers in the order of ``XyloState``
(``isyn1``, ``isyn2``, ``v``), field-major as ``firmware_models.lif.compiled`` lays them
out. Every register saturates (``kernel.registers``). Phases of a tick, for the first
overflow in strict mode: 0 and 1 the accumulation into ``isyn1``/``isyn2`` (found by the
delivery), 2 to 4 the ``v`` writes ``dv``, ``dv + bias``, ``v + dv``. Checked bit for
bit against ``kernel.xylo_step`` by tests/test_compiled_xylo.py.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from numba import njit

from ..lif.compiled import CHECK_COUNT, CHECK_STRICT, holding
from .kernel import XyloParams, XyloState

ISYN1, ISYN2, V = range(3)  # registers
DASH_SYN1, DASH_SYN2, DASH_MEM, THRESHOLD, BIAS, MAX_SPIKES = range(6)
PHASE_REGISTER = (ISYN1, ISYN2, V, V, V)


def pack_params(p: XyloParams) -> np.ndarray:
    """(fields, slots) in the narrowest type that holds every value."""
    array = np.stack([getattr(p, f.name) for f in fields(XyloParams)], axis=0)
    return array.astype(holding(int(array.min(initial=0)), int(array.max(initial=0))))


def pack_state(s: XyloState, dtype: type) -> np.ndarray:
    return np.stack([s.isyn1, s.isyn2, s.v], axis=0).astype(dtype)


def unpack_state(array: np.ndarray) -> XyloState:
    return XyloState(*(array[k].astype(np.int64) for k in range(3)))


@njit(cache=True, inline="always")
def decay(x, d):
    """``x >> d``, 1 where that is 0 and ``x > 0``."""
    step = x >> d
    return np.int64(1) if (step == 0) & (x > 0) else step


@njit(cache=True, inline="always")
def xylo_slot(P, S, acc, n, j, v_lo, v_hi):
    """Slot ``j``'s tick: its new currents, ``v``, spike count, and the three ``v``
    values before saturation with their saturated values."""
    x1, x2 = acc[j], acc[n + j]
    isyn1 = x1 - decay(x1, np.int64(P[DASH_SYN1, j]))
    isyn2 = x2 - decay(x2, np.int64(P[DASH_SYN2, j]))
    v0 = np.int64(S[V, j])
    leak = -decay(v0, np.int64(P[DASH_MEM, j]))
    leak = leak - (v_hi - v_lo + 1) if leak > v_hi else leak  # int16 negation of -2^15
    raw1 = leak + isyn1 + isyn2
    dv1 = min(max(raw1, v_lo), v_hi)
    raw2 = dv1 + np.int64(P[BIAS, j])
    dv2 = min(max(raw2, v_lo), v_hi)
    raw3 = v0 + dv2
    v = min(max(raw3, v_lo), v_hi)
    threshold = np.int64(P[THRESHOLD, j])
    most = np.int64(P[MAX_SPIKES, j])
    # thresholds are unsigned; below its threshold (most slots, most ticks) a slot does
    # not fire and needs no division (v >= threshold > 0: floor is the plain quotient)
    if threshold == 0:
        count = most if v >= 0 else np.int64(0)
    elif v < threshold:
        count = np.int64(0)
    else:
        count = min(v // threshold, most)
    return (isyn1, isyn2, v - count * threshold, count, (raw1, raw2, raw3),
            (dv1 != raw1, dv2 != raw2, v != raw3))


@njit(cache=True)
def xylo_step_compiled(P, S, S_new, acc, lo, hi, check, counts, fired, spike_count, idle,
                       error, timing_on):
    """One tick for every slot after the Xylo delivery (module docstring): ``S`` (read)
    to ``S_new``; ``fired`` (a spike or more), ``spike_count`` and ``idle`` out. Strict
    mode puts the first ``v`` overflow in ``error`` (phase, slot, value), found by a
    second pass only when the first saw one: the lowest slot of the lowest phase, as the
    numpy kernel, which writes each value for every slot in turn, reports it."""
    n = S.shape[1]
    v_lo, v_hi = lo[V], hi[V]
    o_v = 0
    for j in range(n):
        isyn1, isyn2, v, count, raw, clipped = xylo_slot(P, S, acc, n, j, v_lo, v_hi)
        S_new[ISYN1, j] = isyn1
        S_new[ISYN2, j] = isyn2
        S_new[V, j] = v
        fired[j] = count > 0
        spike_count[j] = count
        quiet = (acc[2 * n + j] == 0) & (acc[3 * n + j] == 0) if timing_on else True
        idle[j] = ((S[ISYN1, j] == 0) & (S[ISYN2, j] == 0) & (S[V, j] == 0) & quiet
                   & (P[BIAS, j] == 0) & (count == 0))
        o_v += clipped[0] + clipped[1] + clipped[2]
    if check == CHECK_COUNT:
        counts[V] += o_v
    elif check == CHECK_STRICT and o_v > 0:
        for phase in range(3):
            for j in range(n):
                isyn1, isyn2, v, count, raw, clipped = xylo_slot(P, S, acc, n, j, v_lo,
                                                                 v_hi)
                if clipped[phase]:
                    error[0], error[1], error[2] = phase + 2, j, raw[phase]
                    return


STEP = xylo_step_compiled  # what CompiledModel.step is for this model
