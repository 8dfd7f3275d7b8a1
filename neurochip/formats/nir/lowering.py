"""Lowering the stateless nodes to synapse lists: every node's output as a linear
function of source nodes (``_Signal``), and the maps that transform it.

The stateless nodes between two neuron nodes (Affine, Linear, Scale, Conv1d, Conv2d,
SumPool2d, AvgPool2d, Flatten, Delay, Identity, and the Input/Output nodes of nested
subgraphs) are composed into the explicit synapse list of one projection: ``_matmul``
applies a sparse matrix (Affine/Linear weights, convolutions and pooling unrolled by
``_conv_coo`` with NIR's (PyTorch's) stride, padding (``_padding``: integers, ``"same"``,
``"valid"``), dilation and groups), ``_elementwise`` a Scale or a Delay; paths that meet
are summed (``_sum``) and synapses of weight 0 dropped (``_merge``). An Affine or Conv
bias, carried through the later maps as the signal's constant, becomes a DC input
current of the post population.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np

from ...hardware.limits import over_budget
from .params import _P
from .reading import _text


@dataclass
class _Signal:
    """A node's output as a linear function of source nodes (NIR units): per source,
    the terms ``(src index, out index, weight, delay ticks)``; plus a constant."""

    size: int
    terms: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    const: np.ndarray | None = None


def _merge(src, dst, w, d, n_dst):
    if src.size == 0:
        return src, dst, w, d
    dmax = int(d.max()) + 1
    if (int(src.max()) + 1) * n_dst * dmax >= 2 ** 62:    # the packed key would overflow
        rows = np.stack([src.astype(np.int64), dst.astype(np.int64), d.astype(np.int64)])
        uniq, inv = np.unique(rows, axis=1, return_inverse=True)
        ws = np.bincount(inv.ravel(), weights=w)
        keep = ws != 0
        return uniq[0][keep], uniq[1][keep], ws[keep], uniq[2][keep]
    key = (src.astype(np.int64) * n_dst + dst) * dmax + d
    uniq, inv = np.unique(key, return_inverse=True)
    ws = np.bincount(inv.ravel(), weights=w)
    d2 = uniq % dmax
    rest = uniq // dmax
    keep = ws != 0
    return (rest // n_dst)[keep], (rest % n_dst)[keep], ws[keep], d2[keep]


SYNAPSE_BYTES = 64      # what one synapse term costs while lowering (index, weight, delay
#                         arrays and their sorted copies), about


def _raise(problem: str):
    raise ValueError(problem)


def _identity(name: str, n: int) -> _Signal:
    i = np.arange(n, dtype=np.int64)
    return _Signal(n, {name: (i, i.copy(), np.ones(n), np.zeros(n, dtype=np.int64))})


def _sum(signals: list[_Signal], n: int) -> _Signal:
    terms: dict[str, list] = {}
    const = None
    for s in signals:
        for src, t in s.terms.items():
            terms.setdefault(src, []).append(t)
        if s.const is not None:
            const = s.const.copy() if const is None else const + s.const
    out = {}
    for src, parts in terms.items():
        cat = [np.concatenate([p[j] for p in parts]) for j in range(4)]
        out[src] = _merge(*cat, n) if len(parts) > 1 else tuple(cat)
    return _Signal(n, out, const)


def _matmul(sig: _Signal, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_out: int,
            fail=None) -> _Signal:
    """``out = M @ in`` with ``M`` given as (rows=out, cols=in, vals); ``fail`` refuses
    a product whose synapse count exceeds the memory budget (counted before it is
    built)."""
    order = np.argsort(cols, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(cols, np.arange(sig.size))
    counts = np.diff(np.append(starts, cols.size))
    total = sum(int(counts[k].sum()) for (_, k, _, _) in sig.terms.values())
    why = over_budget(total * SYNAPSE_BYTES, f"composing its map gives {total} synapses, which")
    if why:
        (fail or _raise)(why)
    terms = {}
    for src, (s, k, w, d) in sig.terms.items():
        cnt = counts[k]
        total = int(cnt.sum())
        rep = np.repeat(np.arange(k.size), cnt)
        offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        idx = starts[k][rep] + offs
        terms[src] = _merge(s[rep], rows[idx], w[rep] * vals[idx], d[rep], n_out)
    const = None
    if sig.const is not None:
        const = np.bincount(rows, weights=vals * sig.const[cols], minlength=n_out)
    return _Signal(n_out, terms, const)


def _elementwise(sig: _Signal, scale=None, delay=None) -> _Signal:
    terms = {}
    for src, (s, k, w, d) in sig.terms.items():
        if scale is not None:
            terms[src] = _merge(s, k, w * scale[k], d, sig.size)
        else:
            terms[src] = (s, k, w, d + delay[k])
    const = sig.const
    if const is not None and scale is not None:
        const = const * scale
    return _Signal(sig.size, terms, const)


def _padding(p: _P, key: str, kernel, dilation, stride) -> tuple[tuple[int, ...], tuple[int, ...]]:
    value = p.raw.get(key, 0)
    text = _text(value)
    nd = len(kernel)
    if text is not None:
        if text == "valid":
            return (0,) * nd, (0,) * nd
        if text == "same":
            if any(s != 1 for s in stride):
                p.fail("padding 'same' needs stride 1")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            lo = tuple(t // 2 for t in total)
            return lo, tuple(t - lo_ for t, lo_ in zip(total, lo))
        p.fail(f"padding must be 'same', 'valid' or integers, got {text!r}")
    pad = p.ints(key, nd, 0)
    if any(x < 0 for x in pad):
        p.fail(f"padding must be >= 0, got {pad}")
    return pad, pad


def _conv_coo(weight: np.ndarray, in_shape, stride, lo, hi, dilation, groups, p: _P):
    """The convolution as (out index, in index, weight) with C-order flat indices."""
    c_out, cin_g, *kernel = weight.shape
    nd = len(kernel)
    c_in, *spatial = in_shape
    if len(spatial) != nd:
        p.fail(f"input of shape {tuple(in_shape)} does not fit a {nd}-d convolution")
    if groups < 1 or c_out % groups or c_in != cin_g * groups:
        p.fail(f"{c_in} input channels do not fit weight {tuple(weight.shape)} with "
               f"groups = {groups}")
    out_sp = [(spatial[i] + lo[i] + hi[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
              for i in range(nd)]
    if any(o < 1 for o in out_sp):
        p.fail(f"gives an empty output ({out_sp}) for input {tuple(in_shape)}")
    cells = math.prod([c_out, cin_g, *kernel, *out_sp])       # the grid unrolled below
    why = over_budget(cells * 8.0 * (3 + 2 * nd), f"unrolling it ({cells:.3g} kernel "
                                                   f"positions: weight {tuple(weight.shape)}, "
                                                   f"output {tuple(out_sp)})")
    if why:
        p.fail(why)
    grids = np.meshgrid(np.arange(c_out), np.arange(cin_g), *[np.arange(k) for k in kernel],
                        *[np.arange(o) for o in out_sp], indexing="ij")
    o, cl = grids[0].ravel(), grids[1].ravel()
    ks = [g.ravel() for g in grids[2:2 + nd]]
    ys = [g.ravel() for g in grids[2 + nd:]]
    w = weight[(o, cl, *ks)]
    pos = [ys[i] * stride[i] - lo[i] + ks[i] * dilation[i] for i in range(nd)]
    ok = w != 0
    for i in range(nd):
        ok &= (pos[i] >= 0) & (pos[i] < spatial[i])
    c = (o // (c_out // groups)) * cin_g + cl
    in_idx = c[ok]
    out_idx = o[ok]
    for i in range(nd):
        in_idx = in_idx * spatial[i] + pos[i][ok]
        out_idx = out_idx * out_sp[i] + ys[i][ok]
    return out_idx.astype(np.int64), in_idx.astype(np.int64), w[ok], (c_out, *out_sp)
