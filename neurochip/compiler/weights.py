"""The weights of a large network quantised in chunks, as the quantiser would at once.

``quantise_weights_per_group`` (``firmware_models.lif.quantiser``) gives each group of
target neurons (a population) one exponent: the smallest ``e`` at which
``rint(max |w / i_lsb| / 2^e)`` fits the largest mantissa (or the largest exponent), then
every weight of the group ``m = clip(rint((w / i_lsb[post]) / 2^e))``, realised as
``(m << e) i_lsb[post]``. Written over whole arrays it holds about ten arrays of every
weight at once; ``quantise_per_group`` computes the same numbers (the same operations on
the same float64 values, so bit for bit) in two passes over chunks: the largest ``|w /
i_lsb|`` per group, then the mantissas. It keeps one array per output: mantissas in the
smallest integer type of ``w_bits``, exponents as int8 and the realised weights.
"""

from __future__ import annotations

import numpy as np

from firmware_models.lif.quantiser import ParameterError, QuantisedWeights

CHUNK = 1 << 21     # weights per chunk


def _parts(parts) -> list[np.ndarray]:
    return [np.asarray(p) for p in parts]


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    """The parts end to end; the first part itself when the others are empty."""
    nonempty = [p for p in parts if p.size]
    if len(nonempty) <= 1 and parts[0].dtype == dtype and parts[0].size == sum(
            p.size for p in parts):
        return parts[0]
    return np.concatenate(parts).astype(dtype, copy=False)


def _chunks(parts: list[np.ndarray]):
    """(start, part, a, b): every chunk of every part, with its offset in the whole."""
    start = 0
    for p in parts:
        for a in range(0, p.size, CHUNK):
            yield start + a, p, a, min(p.size, a + CHUNK)
        start += p.size


def mantissa_dtype(w_bits: int):
    """The smallest signed integer type that holds every ``w_bits``-bit mantissa."""
    for dtype in (np.int8, np.int16, np.int32):
        if w_bits <= np.iinfo(dtype).bits:
            return dtype
    return np.int64


def quantise_per_group(weight_parts, post_parts, i_lsb: np.ndarray, groups: list[slice],
                       spec) -> QuantisedWeights:
    """``quantise_weights_per_group(concatenate(weight_parts), i_lsb[post], post, groups,
    spec)`` (``post`` = ``concatenate(post_parts)``), in chunks; ``w`` in
    ``mantissa_dtype(spec.w_bits)``, ``w_exp`` int8 per weight. The error's ``target`` is
    the first part itself when the others are empty (no copy of the weights)."""
    weights, posts = _parts(weight_parts), _parts(post_parts)
    i_lsb = np.asarray(i_lsb, dtype=float)
    n = i_lsb.size
    group_of = np.full(n, len(groups), dtype=np.int64)     # len(groups): in no group
    for k, g in enumerate(groups):
        group_of[g] = k
    w_max = (1 << (spec.w_bits - 1)) - 1
    largest = np.zeros(len(groups) + 1)
    for (_, wp, a, b), (_, pp, _, _) in zip(_chunks(weights), _chunks(posts)):
        post = pp[a:b]
        ratio = np.abs(np.asarray(wp[a:b], dtype=float) / i_lsb[post])
        _group_max(largest, group_of[post], ratio)
    exps = np.zeros(len(groups) + 1, dtype=np.int64)
    for k in range(len(groups)):
        w_exp = 0
        while w_exp < spec.max_w_exp and np.rint(float(largest[k]) / 2 ** w_exp) > w_max:
            w_exp += 1
        exps[k] = w_exp
    total = sum(p.size for p in weights)
    w = np.zeros(total, dtype=mantissa_dtype(spec.w_bits))
    w_exp = np.zeros(total, dtype=np.int8)
    realised = np.zeros(total)
    mask = np.zeros(total, dtype=bool)
    zeroed = 0
    for (s, wp, a, b), (_, pp, _, _) in zip(_chunks(weights), _chunks(posts)):
        post, target = pp[a:b], np.asarray(wp[a:b], dtype=float)
        group = group_of[post]
        out = slice(s, s + b - a)
        if group[0] == group[-1] and np.all(group == group[0]):     # one group: scalars
            k = int(group[0])
            if k == len(groups):                                    # in no group: zeros
                zeroed += int(np.count_nonzero(target))
                continue
            e, lsb = int(exps[k]), i_lsb[post]
            m = np.rint(target / lsb / 2 ** e)
            mask[out] = (m > w_max) | (m < -w_max - 1)
            m = np.clip(m, -w_max - 1, w_max, out=m).astype(np.int64)
            w[out], w_exp[out] = m, e
            realised[out] = (m << e) * lsb
        else:
            inside = group < len(groups)
            e, lsb = exps[group], i_lsb[post]
            m = np.rint(target / lsb / 2.0 ** e)
            mask[out] = ((m > w_max) | (m < -w_max - 1)) & inside
            m = np.where(inside, np.clip(m, -w_max - 1, w_max), 0).astype(np.int64)
            w[out], w_exp[out] = m, np.where(inside, e, 0)
            realised[out] = np.where(inside, (m << e) * lsb, 0.0)
        zeroed += int(np.count_nonzero((m == 0) & (target != 0)))
    target = _joined(weights, float)
    return QuantisedWeights(w, w_exp, ParameterError("w", "A", target, realised),
                            int(mask.sum()), zeroed, mask)


def _group_max(largest: np.ndarray, group: np.ndarray, values: np.ndarray) -> None:
    """``largest[k] = max(largest[k], values where group == k)`` for every group (a max:
    exact in any order)."""
    if not values.size:
        return
    if group[0] == group[-1] and np.all(group == group[0]):
        largest[group[0]] = max(largest[group[0]], float(values.max()))
        return
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    cuts = np.flatnonzero(np.diff(sorted_group)) + 1
    starts = np.concatenate([[0], cuts])
    maxima = np.maximum.reduceat(values[order], starts)
    keys = sorted_group[starts]
    largest[keys] = np.maximum(largest[keys], maxima)
