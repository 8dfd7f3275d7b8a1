"""The reference LIF program compiled with numba: the same tick as ``kernel.lif_step``.

One pass over the slots (``lif_sweep``) with no branch in it, so that it compiles to
vector instructions: parameters and registers travel as 2-D integer arrays with one
row per field (in the order of ``LifParams`` and ``LifState``), each row a contiguous run
over slots; every choice (refractory or not, spike or not, reset mode, rounding,
saturate or wrap) is a select. The leaks are ``shift(x * m, k)``; when every mantissa
is 1 the packed parameters leave their rows out and a sweep compiled without the
multiplies runs (the plain shift leak, as fast as before mantissas). Each overflow is tagged with the phase of the tick that
wrote it (``acc``, ``i``, ``v`` integration, ``v`` subtract reset, ``theta`` spike jump:
the order the numpy kernel writes its registers) so that strict mode names the same
first overflow. Checked bit for bit against ``kernel.lif_step`` by tests/test_backends.py.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from numba import njit

from .kernel import LifParams, LifState

# register indices of the arrays the core passes (order of CoreSpec.registers())
ACC, I, V, THETA, REF = range(5)
# parameter rows (order of LifParams fields)
(K_I, K_V, K_THETA, BIAS, V_TH, V_RESET, T_REF, ALPHA, RESET_MODE, NOISE_BITS, NOISE_SHIFT,
 M_I, M_V, M_THETA) = range(14)
# rounding and overflow-check codes
FLOOR, NEAREST, ZERO = range(3)
CHECK_OFF, CHECK_COUNT, CHECK_STRICT = range(3)
# phases of the tick, for the first overflow in strict mode
PHASE_REGISTER = (ACC, I, V, V, THETA)


def holding(lo: int, hi: int) -> type:
    """The narrowest of int16, int32 and int64 that holds every value in ``lo..hi``."""
    for dtype in (np.int16, np.int32):
        if np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def pack_params(p: LifParams) -> np.ndarray:
    """(fields, slots): one row per parameter field, each a contiguous run over slots, in
    the narrowest type that holds them (less memory to stream through every tick). When
    every leak mantissa is 1 their rows are left out (``M_I`` rows): the kernel then runs
    the shift leak without multiplies."""
    names = [f.name for f in fields(LifParams)]
    if p.shift_leak:
        names = names[:M_I]
    array = np.stack([getattr(p, name) for name in names], axis=0)
    return array.astype(holding(int(array.min(initial=0)), int(array.max(initial=0))))


def pack_state(s: LifState, dtype: type) -> np.ndarray:
    """(registers, slots) as ``dtype``, which must hold every value the registers can
    take (``holding`` of their widest range)."""
    return np.stack([getattr(s, f.name) for f in fields(LifState)], axis=0).astype(dtype)


def unpack_state(array: np.ndarray) -> LifState:
    return LifState(*(array[k].astype(np.int64) for k in range(len(fields(LifState)))))


@njit(cache=True, inline="always")
def shift(x, k, rounding):
    """``x >> k`` rounded as the core rounds, as one floor shift of ``x + bias``: toward
    zero, ``bias = 2^k - 1`` for negative ``x``; nearest (half away from zero),
    ``bias = h`` for ``x >= 0`` and ``2^k - 1 - h`` for negative ``x``, ``h = 2^k >> 1``
    (``-((|x| + h) >> k) = floor((x - h + 2^k - 1) / 2^k)``)."""
    one = np.int64(1) << k
    half = one >> 1
    negative = x < 0
    bias = (one - 1 - half if negative else half) if rounding == NEAREST else (
        one - 1 if negative else np.int64(0))
    return (x + (np.int64(0) if rounding == FLOOR else bias)) >> k


@njit(cache=True, inline="always")
def fit(x, r, limits, wrap):
    """``x`` as register ``r`` stores it (saturated or wrapped; unchanged when in range);
    ``limits`` = (lo, hi, bits, signed) tuples over registers."""
    lo, hi, bits, signed = limits
    mask = (np.int64(1) << bits[r]) - 1
    half = (np.int64(1) << (bits[r] - 1)) if signed[r] else np.int64(0)
    return ((x + half) & mask) - half if wrap else min(max(x, lo[r]), hi[r])


@njit(cache=True, inline="always")
def lif_slot(a, i0, v, theta0, ref, k_i, k_v, k_theta, bias, v_th, v_reset, t_ref, alpha,
             mode, noise_bits, noise, m_i, m_v, m_theta, limits, wrap, rounding):
    """The tick of one slot, from its input ``a``, registers, parameters (leak mantissas
    ``m_*``: the leak is ``shift(x * m, k)``) and noise term:
    its new registers, spike and idleness, and for each phase of the tick that writes a
    register (``PHASE_REGISTER``) the value before it is stored and whether that value
    was out of range. Scalars in and out, selects rather than branches, so that the loop
    over slots compiles to vector instructions."""
    a_fit = fit(a, ACC, limits, wrap)
    i = i0 - shift(i0 * m_i, k_i, rounding) + a_fit
    i_fit = fit(i, I, limits, wrap)
    refractory = ref > 0
    integrated = v - shift(v * m_v, k_v, rounding) + i_fit + bias + noise
    integrated_fit = fit(integrated, V, limits, wrap)
    new_v = v if refractory else integrated_fit
    new_ref = ref - 1 if refractory else ref
    theta = theta0 - shift(theta0 * m_theta, k_theta, rounding)
    threshold = v_th + theta
    spike = (not refractory) & (new_v >= threshold)
    idle = ((v == 0) & (i0 == 0) & (theta0 == 0) & (ref == 0) & (a == 0) & (bias == 0)
            & (noise_bits == 0) & (not spike))
    subtracted = new_v - threshold
    subtracted_fit = fit(subtracted, V, limits, wrap)
    reset_v = v_reset if mode == 0 else (subtracted_fit if mode == 1 else new_v)
    jumped = theta + alpha
    jumped_fit = fit(jumped, THETA, limits, wrap)
    # a value is out of range exactly when storing it changes it (saturated or wrapped):
    # one compare where a range check takes two
    overflowed = (a_fit != a, i_fit != i, (not refractory) & (integrated_fit != integrated),
                  spike & (mode == 1) & (subtracted_fit != subtracted),
                  spike & (jumped_fit != jumped))
    return (i_fit, reset_v if spike else new_v, jumped_fit if spike else theta,
            t_ref if spike else new_ref, spike, idle, overflowed,
            (a, i, integrated, subtracted, jumped))


@njit(cache=True)
def lif_sweep(P, S, S_new, acc, words, limits, wrap, rounding, unit, noisy, keep_idle,
              fired, idle, first):
    """``lif_slot`` over every slot: with ``first=None`` writes ``S_new``, ``fired``,
    ``idle`` (only with ``keep_idle``) and returns the overflows per phase; given an
    ``error`` array as ``first``, writes nothing else and puts the overflow of the lowest
    (phase, slot) there. ``unit``: every leak mantissa is 1 (``P`` has no mantissa rows);
    without ``noisy`` every ``noise_bits`` is 0, so the noise term is 0.

    The parameter and register rows are contiguous runs over slots and the noise term is
    computed for every slot (zero words or ``noise_bits = 0`` give zero), so the loop has
    no branch and compiles to vector instructions; ``first is None`` is decided when
    numba compiles it, and so are ``unit``, ``noisy`` and ``keep_idle`` where they are
    constants of an inlined call (their arithmetic is then compiled out).
    """
    o_acc = o_i = o_v = o_reset = o_theta = 0
    for j in range(acc.size):
        m = np.int64(P[NOISE_BITS, j]) if noisy else np.int64(0)
        noise = (((words[j] & ((np.int64(1) << m) - 1)) - ((np.int64(1) << m) >> 1))
                 << np.int64(P[NOISE_SHIFT, j])) if noisy else np.int64(0)
        one = np.int64(1)
        m_i = one if unit else np.int64(P[M_I, j])
        m_v = one if unit else np.int64(P[M_V, j])
        m_theta = one if unit else np.int64(P[M_THETA, j])
        i, v, theta, ref, spike, quiet, overflowed, values = lif_slot(
            np.int64(acc[j]), np.int64(S[0, j]), np.int64(S[1, j]), np.int64(S[2, j]),
            np.int64(S[3, j]), np.int64(P[K_I, j]), np.int64(P[K_V, j]),
            np.int64(P[K_THETA, j]), np.int64(P[BIAS, j]), np.int64(P[V_TH, j]),
            np.int64(P[V_RESET, j]), np.int64(P[T_REF, j]), np.int64(P[ALPHA, j]),
            np.int64(P[RESET_MODE, j]), m, noise, m_i, m_v, m_theta, limits, wrap, rounding)
        if first is None:
            S_new[0, j] = i
            S_new[1, j] = v
            S_new[2, j] = theta
            S_new[3, j] = ref
            fired[j] = spike
            if keep_idle:
                idle[j] = quiet
            o_acc += overflowed[0]
            o_i += overflowed[1]
            o_v += overflowed[2]
            o_reset += overflowed[3]
            o_theta += overflowed[4]
        else:  # slots in order: the first slot of the lowest phase
            for phase in range(5):
                if overflowed[phase] and (first[0] < 0 or phase < first[0]):
                    first[0], first[1], first[2] = phase, j, values[phase]
    return o_acc, o_i, o_v, o_reset, o_theta


lif_sweep_inline = njit(cache=True, inline="always")(lif_sweep.py_func)


@njit(cache=True)
def lif_step_compiled(P, S, S_new, acc, words, lo, hi, bits, signed, wrap, rounding,
                      check, counts, fired, idle, error, noisy=True, keep_idle=True):
    """One tick for every slot: ``S`` (read) to ``S_new`` (written); ``fired``/``idle`` out;
    ``acc`` is consumed (left at zero); ``words`` are the LFSR words (zeros on a chip
    without noise: the noise term is computed for every slot and is then zero).
    ``noisy=False`` says that every ``noise_bits`` is 0 (the noise term is not computed),
    ``keep_idle=False`` that ``idle`` is not read (it is not written).

    Slots are independent, so each is done in one pass (``lif_sweep``) that counts the
    overflows of each phase. In strict mode ``error`` (3 int64: phase, slot, value; phase
    -1 when none) gets the overflow of the lowest (phase, slot) — the one the numpy
    kernel, which writes each register for all slots in turn, reports first — found by
    a second pass, only when the first saw one. After an error ``S_new`` must be
    discarded.
    """
    error[0] = -1
    limits = ((lo[0], lo[1], lo[2], lo[3], lo[4]), (hi[0], hi[1], hi[2], hi[3], hi[4]),
              (bits[0], bits[1], bits[2], bits[3], bits[4]),
              (signed[0], signed[1], signed[2], signed[3], signed[4]))
    unit = P.shape[0] <= M_I  # no mantissa rows: every leak is a plain shift
    # the default modes get sweeps of their own, with the other modes' arithmetic (and,
    # for shift leaks, the multiplies; without noise and timing, the noise term and the
    # idle flags) compiled out (inlined here, their mode arguments are constants)
    default = rounding == FLOOR and not wrap
    if default and unit and not noisy and not keep_idle:
        overflows = lif_sweep_inline(P, S, S_new, acc, words, limits, False, FLOOR, True,
                                     False, False, fired, idle, None)
    elif default and unit:
        overflows = lif_sweep_inline(P, S, S_new, acc, words, limits, False, FLOOR, True,
                                     noisy, keep_idle, fired, idle, None)
    elif default:
        overflows = lif_sweep_inline(P, S, S_new, acc, words, limits, False, FLOOR, False,
                                     noisy, keep_idle, fired, idle, None)
    else:
        overflows = lif_sweep(P, S, S_new, acc, words, limits, wrap, rounding, unit, noisy,
                              keep_idle, fired, idle, None)
    o_acc, o_i, o_v, o_reset, o_theta = overflows
    if check == CHECK_COUNT:
        counts[ACC] += o_acc
        counts[I] += o_i
        counts[V] += o_v + o_reset
        counts[THETA] += o_theta
    elif check == CHECK_STRICT and o_acc + o_i + o_v + o_reset + o_theta > 0:
        lif_sweep(P, S, S_new, acc, words, limits, wrap, rounding, unit, noisy, keep_idle,
                  fired, idle, error)
    acc[:] = 0  # consumed: ready for the next tick's delivery


STEP = lif_step_compiled  # what CompiledModel.step is for this model
