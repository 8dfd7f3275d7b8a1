"""The reference LIF program compiled with numba: the same tick as ``kernel.lif_step``.

One pass over the slots; each overflow is tagged with the phase of the tick that wrote
it (``acc``, ``i``, ``v`` integration, ``v`` subtract reset, ``theta`` spike jump: the
order the numpy kernel writes its registers) so that strict mode names the same first
overflow.
Parameters and state travel as 2-D integer arrays, one row per slot and one column per
field in the order of ``LifParams`` and ``LifState`` (a slot's fields side by side: one
stream of memory per array in the tick's single pass). Checked bit for bit against ``kernel.lif_step`` by
tests/test_backends.py.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from numba import njit

from .kernel import LifParams, LifState

# register indices of the arrays the core passes (order of CoreSpec.registers())
ACC, I, V, THETA, REF = range(5)
# parameter rows (order of LifParams fields)
K_I, K_V, K_THETA, BIAS, V_TH, V_RESET, T_REF, ALPHA, RESET_MODE, NOISE_BITS, NOISE_SHIFT = \
    range(11)
# rounding and overflow-check codes
FLOOR, NEAREST, ZERO = range(3)
CHECK_OFF, CHECK_COUNT, CHECK_STRICT = range(3)
# phases of the tick, for the first overflow in strict mode
PHASE_REGISTER = (ACC, I, V, V, THETA)


def _narrow(array: np.ndarray) -> np.ndarray:
    """int32 when every value fits (half the memory traffic per tick), else int64."""
    info = np.iinfo(np.int32)
    if array.size == 0 or (array.min() >= info.min and array.max() <= info.max):
        return array.astype(np.int32)
    return array.astype(np.int64)


def pack_params(p: LifParams) -> np.ndarray:
    """(slots, fields): one slot's parameters side by side, read together in a tick."""
    return _narrow(np.stack([getattr(p, f.name) for f in fields(LifParams)], axis=1))


def pack_state(s: LifState, wide: bool = False) -> np.ndarray:
    """The registers as rows; int32 unless ``wide`` (a register can leave the int32
    range: an unsigned 32-bit theta) or a value needs more."""
    array = np.stack([getattr(s, f.name) for f in fields(LifState)], axis=1)
    return array.astype(np.int64) if wide else _narrow(array)


def unpack_state(array: np.ndarray) -> LifState:
    return LifState(*(array[:, k].copy() for k in range(len(fields(LifState)))))


@njit(cache=True, inline="always")
def shift(x, k, rounding):
    if rounding == FLOOR:
        return x >> k
    magnitude = -x if x < 0 else x
    if rounding == NEAREST:
        magnitude = (magnitude + ((1 << k) >> 1)) >> k
    else:
        magnitude = magnitude >> k
    return -magnitude if x < 0 else magnitude


@njit(cache=True)
def note_overflow(register, phase, slot, x, check, counts, error):
    """Count an overflow, or keep the first one (by phase, then slot) in strict mode."""
    if check == CHECK_STRICT:
        if error[0] < 0 or phase < error[0] or (phase == error[0] and slot < error[1]):
            error[0], error[1], error[2] = phase, slot, x
    elif check == CHECK_COUNT:
        counts[register] += 1


@njit(cache=True, inline="always")
def clip_or_wrap(x, lo, hi, bits, signed, wrap):
    """An out-of-range value stored in a register: saturated or wrapped."""
    if not wrap:
        return lo if x < lo else hi
    mask = (1 << bits) - 1
    if signed:
        half = 1 << (bits - 1)
        return ((x + half) & mask) - half
    return x & mask


@njit(cache=True)
def lif_step_compiled(P, S, S_new, acc, words, noisy, lo, hi, bits, signed, wrap, rounding,
                      check, counts, fired, idle, error):
    """One tick for every slot: ``S`` (read) to ``S_new`` (written); ``fired``/``idle`` out;
    ``acc`` is consumed (left at zero).

    Slots are independent, so each is done in one pass; overflow counts do not depend on
    the order, and in strict mode ``error`` (3 int64: phase, slot, value; phase -1 when
    none) keeps the overflow of the lowest (phase, slot) — the one the numpy kernel,
    which writes each register for all slots in turn, reports first. After an error
    ``S_new`` must be discarded.
    """
    n = S.shape[0]
    error[0] = -1
    lo_acc, hi_acc, bits_acc, signed_acc = lo[ACC], hi[ACC], bits[ACC], signed[ACC]
    lo_i, hi_i, bits_i, signed_i = lo[I], hi[I], bits[I], signed[I]
    lo_v, hi_v, bits_v, signed_v = lo[V], hi[V], bits[V], signed[V]
    lo_t, hi_t, bits_t, signed_t = lo[THETA], hi[THETA], bits[THETA], signed[THETA]
    for j in range(n):
        a = np.int64(acc[j])
        if a < lo_acc or a > hi_acc:
            note_overflow(ACC, 0, j, a, check, counts, error)
            a = clip_or_wrap(a, lo_acc, hi_acc, bits_acc, signed_acc, wrap)
        i0 = np.int64(S[j, 0])  # int64 arithmetic whatever the storage
        i = i0 - shift(i0, np.int64(P[j, K_I]), rounding) + a
        if i < lo_i or i > hi_i:
            note_overflow(I, 1, j, i, check, counts, error)
            i = clip_or_wrap(i, lo_i, hi_i, bits_i, signed_i, wrap)
        S_new[j, 0] = i

        v = np.int64(S[j, 1])
        ref = np.int64(S[j, 3])
        refractory = ref > 0
        if refractory:
            new_v = v
            new_ref = ref - 1
        else:
            new_v = v - shift(v, np.int64(P[j, K_V]), rounding) + i + np.int64(P[j, BIAS])
            if noisy:
                m = np.int64(P[j, NOISE_BITS])
                new_v += (((words[j] & ((1 << m) - 1)) - ((1 << m) >> 1))
                          << np.int64(P[j, NOISE_SHIFT]))
            if new_v < lo_v or new_v > hi_v:
                note_overflow(V, 2, j, new_v, check, counts, error)
                new_v = clip_or_wrap(new_v, lo_v, hi_v, bits_v, signed_v, wrap)
            new_ref = ref
        theta0 = np.int64(S[j, 2])
        theta = theta0 - shift(theta0, np.int64(P[j, K_THETA]), rounding)
        threshold = np.int64(P[j, V_TH]) + theta
        spike = (not refractory) and new_v >= threshold
        fired[j] = spike
        idle[j] = (v == 0 and i0 == 0 and theta0 == 0 and ref == 0 and acc[j] == 0
                   and P[j, BIAS] == 0 and P[j, NOISE_BITS] == 0 and not spike)
        acc[j] = 0  # consumed: ready for the next tick's delivery
        if spike:
            mode = P[j, RESET_MODE]
            if mode == 0:
                new_v = np.int64(P[j, V_RESET])
            elif mode == 1:
                new_v = new_v - threshold
                if new_v < lo_v or new_v > hi_v:
                    note_overflow(V, 3, j, new_v, check, counts, error)
                    new_v = clip_or_wrap(new_v, lo_v, hi_v, bits_v, signed_v, wrap)
            new_ref = np.int64(P[j, T_REF])
            if P[j, ALPHA] != 0:
                theta = theta + np.int64(P[j, ALPHA])
                if theta < lo_t or theta > hi_t:
                    note_overflow(THETA, 4, j, theta, check, counts, error)
                    theta = clip_or_wrap(theta, lo_t, hi_t, bits_t, signed_t, wrap)
        S_new[j, 1] = new_v
        S_new[j, 2] = theta
        S_new[j, 3] = new_ref
