"""The reference LIF program compiled with numba: the same tick as ``kernel.lif_step``.

One loop over slots per phase, in the order the numpy kernel writes its registers, so
that overflow counts and the first overflow reported in strict mode are the same:
``acc``, ``i``, ``v`` (integration), ``v`` (subtract reset), ``theta`` (spike jump).
Parameters and state travel as 2-D ``int64`` arrays, one row per field in the order of
``LifParams`` and ``LifState``. Checked bit for bit against ``kernel.lif_step`` by
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


def pack_params(p: LifParams) -> np.ndarray:
    return np.stack([getattr(p, f.name) for f in fields(LifParams)]).astype(np.int64)


def pack_state(s: LifState) -> np.ndarray:
    return np.stack([getattr(s, f.name) for f in fields(LifState)]).astype(np.int64)


def unpack_state(array: np.ndarray) -> LifState:
    return LifState(*(array[k].copy() for k in range(len(fields(LifState)))))


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
    """One tick for every slot: ``S`` (read) to ``S_new`` (written); ``fired``/``idle`` out.

    ``error`` (3 int64: phase, slot, value; phase -1 when none) receives the first
    overflow in strict mode; then ``S_new`` must be discarded.
    """
    n = S.shape[1]
    error[0] = -1
    lo_acc, hi_acc, bits_acc, signed_acc = lo[ACC], hi[ACC], bits[ACC], signed[ACC]
    lo_i, hi_i, bits_i, signed_i = lo[I], hi[I], bits[I], signed[I]
    lo_v, hi_v, bits_v, signed_v = lo[V], hi[V], bits[V], signed[V]
    lo_t, hi_t, bits_t, signed_t = lo[THETA], hi[THETA], bits[THETA], signed[THETA]
    for j in range(n):
        a = acc[j]
        if a < lo_acc or a > hi_acc:
            note_overflow(ACC, 0, j, a, check, counts, error)
            a = clip_or_wrap(a, lo_acc, hi_acc, bits_acc, signed_acc, wrap)
        i = S[0, j]
        i = i - shift(i, P[K_I, j], rounding) + a
        if i < lo_i or i > hi_i:
            note_overflow(I, 1, j, i, check, counts, error)
            i = clip_or_wrap(i, lo_i, hi_i, bits_i, signed_i, wrap)
        S_new[0, j] = i
    for j in range(n):
        v = S[1, j]
        ref = S[3, j]
        refractory = ref > 0
        if refractory:
            new_v = v
            S_new[3, j] = ref - 1
        else:
            new_v = v - shift(v, P[K_V, j], rounding) + S_new[0, j] + P[BIAS, j]
            if noisy:
                m = P[NOISE_BITS, j]
                new_v += (((words[j] & ((1 << m) - 1)) - ((1 << m) >> 1))
                          << P[NOISE_SHIFT, j])
            if new_v < lo_v or new_v > hi_v:
                note_overflow(V, 2, j, new_v, check, counts, error)
                new_v = clip_or_wrap(new_v, lo_v, hi_v, bits_v, signed_v, wrap)
            S_new[3, j] = ref
        theta = S[2, j]
        theta = theta - shift(theta, P[K_THETA, j], rounding)
        spike = (not refractory) and new_v >= P[V_TH, j] + theta
        fired[j] = spike
        idle[j] = (v == 0 and S[0, j] == 0 and S[2, j] == 0 and ref == 0 and acc[j] == 0
                   and P[BIAS, j] == 0 and P[NOISE_BITS, j] == 0 and not spike)
        S_new[1, j] = new_v
        S_new[2, j] = theta
    for j in range(n):
        if fired[j]:
            mode = P[RESET_MODE, j]
            if mode == 0:
                S_new[1, j] = P[V_RESET, j]
            elif mode == 1:
                x = S_new[1, j] - (P[V_TH, j] + S_new[2, j])
                if x < lo_v or x > hi_v:
                    note_overflow(V, 3, j, x, check, counts, error)
                    x = clip_or_wrap(x, lo_v, hi_v, bits_v, signed_v, wrap)
                S_new[1, j] = x
            S_new[3, j] = P[T_REF, j]
    for j in range(n):
        if fired[j] and P[ALPHA, j] != 0:
            x = S_new[2, j] + P[ALPHA, j]
            if x < lo_t or x > hi_t:
                note_overflow(THETA, 4, j, x, check, counts, error)
                x = clip_or_wrap(x, lo_t, hi_t, bits_t, signed_t, wrap)
            S_new[2, j] = x
