"""Expansion: ``expand(netlist)`` turns every rule into explicit arrays (``ExpandedNetwork``).

Global neuron indices, one ``LifPhysical`` with per-neuron arrays, synapses
``(pre, post, weight A, delay s)``, input spike events ``(tick, neuron, weight A)``,
piecewise-constant input currents and probe index ranges. It is deterministic: every
random rule draws from its own ``numpy.random.default_rng``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from firmware_models.lif.reference import NUMERIC_FIELDS, LifPhysical

from .parsing import netlist_from_dict
from .schema import (MAX_COUNT, DcInput, DenseConnectivity, FixedProbability, ListConnectivity, Netlist,
                     Normal, PoissonInput, Population, Projection, SpikeInput, StepInput, Uniform,
                     Weight, tick_of)
from .writing import netlist_to_dict

_ROW_CHUNK = 1 << 22    # random draws per chunk when expanding large rules
_SORT_CHUNK = 1 << 22   # drawn entries per chunk when checking rows for repeats
SPARSE_FRACTION = 0.125  # random rules at most this dense draw only their synapses


# ====================================================================== expansion
@dataclass(frozen=True, eq=False)
class CurrentSource:
    """A piecewise-constant current: ``amplitudes[s]`` (A, one per neuron of ``neurons``)
    from tick ``start_ticks[s]`` until the next step (or the end of the run)."""

    input: int                 # index of the input in ``Netlist.inputs``
    neurons: np.ndarray        # global indices
    start_ticks: np.ndarray    # (steps,) increasing
    amplitudes: np.ndarray     # (steps, len(neurons)) amperes


@dataclass(frozen=True)
class ProbeRange:
    """A probe as a global index range ``start:stop``."""

    population: str
    start: int
    stop: int
    record: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ExpandedNetwork:
    """A netlist with every rule drawn: explicit arrays, global neuron indices.

    Population ``p`` holds neurons ``offsets[p] : offsets[p] + size`` (file order).
    Synapses are in projection order (``projection`` says which), within a projection in
    the order documented for its connectivity. Input spike events are sorted by
    ``(tick, neuron)``, stably in input order. Weights are current jumps (A), delays
    seconds.
    """

    dt: float
    ticks: int
    seed: int
    names: tuple[str, ...]
    offsets: dict[str, int]
    sizes: dict[str, int]
    params: LifPhysical
    pre: np.ndarray              # int64 global index
    post: np.ndarray             # int64 global index
    weight: np.ndarray           # float64 A
    delay: np.ndarray            # float64 s
    projection: np.ndarray       # int64: index into Netlist.projections
    event_tick: np.ndarray       # int64
    event_neuron: np.ndarray     # int64 global index
    event_weight: np.ndarray     # float64 A
    event_input: np.ndarray      # int64: index into Netlist.inputs
    currents: tuple[CurrentSource, ...]
    probes: tuple[ProbeRange, ...]

    @property
    def n(self) -> int:
        return sum(self.sizes.values())

    def slice(self, population: str) -> slice:
        start = self.offsets[population]
        return slice(start, start + self.sizes[population])

    def delay_ticks(self) -> np.ndarray:
        """Synaptic delays in ticks, ``round(delay / dt)`` (>= 1 by validation): a spike
        decided in tick ``k`` reaches the post neuron's current in tick ``k + d``."""
        ticks = np.rint(self.delay / self.dt)
        if ticks.size and not np.all(np.abs(ticks) <= MAX_COUNT):  # never wrap in the cast
            s = int(np.argmax(~(np.abs(ticks) <= MAX_COUNT)))
            raise ValueError(f"synapse {s}: delay {self.delay[s]:g} s is {ticks[s]:g} ticks "
                             f"of dt = {self.dt:g} s, beyond {MAX_COUNT} ticks")
        return ticks.astype(np.int64)

    def input_jumps(self) -> np.ndarray:
        """``(ticks, n)`` sum of input event weights per tick and neuron (A): the
        ``syn_input`` of ``firmware_models.lif.reference.simulate``."""
        out = np.zeros((self.ticks, self.n))
        np.add.at(out, (self.event_tick, self.event_neuron), self.event_weight)
        return out

    def current(self) -> np.ndarray:
        """``(ticks, n)`` external current of dc and step inputs (A), held over each tick:
        the ``I_ext`` of ``simulate``. Currents of several inputs onto a neuron add."""
        out = np.zeros((self.ticks, self.n))
        for src in self.currents:
            bounds = [*src.start_ticks.tolist(), self.ticks]
            for s in range(len(src.start_ticks)):
                out[bounds[s]:bounds[s + 1], src.neurons] += src.amplitudes[s]
        return out


def _rng(seed: int | None, netlist_seed: int, section: int, index: int):
    """A rule's generator: its own seed, else one derived from the netlist's seed."""
    if seed is not None:
        return np.random.default_rng(seed)
    return np.random.default_rng([netlist_seed, section, index])


def _draw_weights(weight: Weight, count: int, rng) -> np.ndarray:
    if isinstance(weight, Normal):
        return rng.normal(weight.mean, weight.std, count)
    if isinstance(weight, Uniform):
        return rng.uniform(weight.low, weight.high, count)
    return np.full(count, float(weight))


def _distinct_per_row(rng, row: np.ndarray, m: int, exclude_self: bool,
                      row_length: int | None = None) -> np.ndarray:
    """For each entry of ``row`` (sorted) a value in ``0..m-1``, distinct within a row and,
    with ``exclude_self``, never equal to the row itself; returned sorted within each row.

    Every entry is drawn uniformly (``integers``), then the entries that repeat an earlier
    entry of their row are drawn again until none does. The rule treats all values alike,
    so each row's set is a uniform random subset of its size.

    The redraws come in the order of a stable sort of ``row * m + value`` (by row, by
    value, then by position). The first check runs over chunks of whole rows
    (``_repeats_by_chunk``), so it never holds more than a chunk's keys; the later checks
    look only at the rows redrawn, as before: the same draws, in the same order.
    """
    def draw(rows):
        values = rng.integers(0, m - exclude_self, size=rows.size)
        return values + (values >= rows) if exclude_self else values

    values = rng.integers(0, m - exclude_self, size=row.size)
    bounds = (list(range(0, row.size, max(1, _SORT_CHUNK // row_length) * row_length))
              + [row.size] if row_length else _row_chunks(row, _SORT_CHUNK))
    if exclude_self:
        for a, b in zip(bounds[:-1], bounds[1:]):
            part = values[a:b]
            part += part >= row[a:b]            # in place: no second array of all draws
    again = _repeats_by_chunk(row, values, m, bounds, row_length)
    if not again.size:
        return values                           # every row sorted by _repeats_by_chunk
    touched = _rows_of(row, np.unique(row[again]))   # kept in draw order until the end
    while again.size:
        values[again] = draw(row[again])
        check = _rows_of(row, np.unique(row[again]))   # re-check only the rows redrawn
        keys = row[check] * m + values[check]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        repeats = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
        again = check[order[repeats]]
    base = row[touched] * m
    values[touched] = np.sort(base + values[touched]) - base   # whole rows: sorted within
    return values


def _row_chunks(row: np.ndarray, size: int) -> list[int]:
    """Cut points ``0 = c_0 < c_1 < ... = row.size`` of ``row`` (sorted) into chunks of
    about ``size`` entries that never split a row."""
    cuts = [0]
    while cuts[-1] < row.size:
        a = cuts[-1]
        b = min(row.size, a + size)
        if b < row.size:
            cut = int(np.searchsorted(row, row[b], "left"))
            b = cut if cut > a else int(np.searchsorted(row, row[b], "right"))
        cuts.append(b)
    return cuts


def _rows_of(row: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The indices of every entry of ``rows`` (distinct, ascending) in ``row`` (sorted)."""
    lo, hi = np.searchsorted(row, rows, "left"), np.searchsorted(row, rows, "right")
    lengths = hi - lo
    return np.arange(lengths.sum()) + np.repeat(lo - np.cumsum(lengths) + lengths, lengths)


def _repeats_by_chunk(row: np.ndarray, values: np.ndarray, m: int, bounds,
                      row_length: int | None) -> np.ndarray:
    """The entries that repeat an earlier entry of their row, in stable-sort order of
    ``row * m + value`` (what a stable sort of all keys at once gives, chunk after chunk;
    ``row_length``: every row has that many entries, and each is sorted on its own).

    Rows without a repeat are sorted in place (they are final); rows with one keep their
    draw order, which the redraw order depends on."""
    again = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        r = row[a:b]
        base = r * m
        keys = base + values[a:b]
        if row_length:                            # rows of one length: sort each row
            keys.reshape(-1, row_length).sort(axis=1)
        else:
            keys.sort()
        repeated = np.flatnonzero(keys[1:] == keys[:-1])
        if repeated.size:
            rows = np.unique(r[repeated + 1])
            inside = _rows_of(r, rows)            # the chunk's entries in those rows
            own = base[inside] + values[a:b][inside]
            order = np.argsort(own, kind="stable")
            ordered = own[order]
            again.append(a + inside[order[np.flatnonzero(ordered[1:] == ordered[:-1]) + 1]])
            keys[inside] = own                    # those rows stay in draw order
        keys -= base
        values[a:b] = keys
    return np.concatenate(again) if again else np.zeros(0, dtype=np.int64)


def _synapses(proj: Projection, index: int, n_pre: int, n_post: int, seed: int):
    """Local (pre, post, weight, delay) of one projection."""
    c = proj.connectivity
    same = proj.pre == proj.post
    if isinstance(c, ListConnectivity):
        pre = np.array(c.pre, dtype=np.int64)
        post = np.array(c.post, dtype=np.int64)
        weight = np.broadcast_to(np.asarray(c.weight, dtype=float), pre.shape).copy()
        return pre, post, weight, _delays(proj.delay, pre.shape)
    if isinstance(c, DenseConnectivity):
        w = np.array(c.weights, dtype=float).reshape(n_pre, n_post)
        pre, post = np.nonzero(w)
        d = np.broadcast_to(np.asarray(proj.delay, dtype=float), w.shape)
        delay = d[pre, post].copy() if np.ndim(proj.delay) else _delays(proj.delay, pre.shape)
        return pre.astype(np.int64), post.astype(np.int64), w[pre, post], delay
    rng = _rng(c.seed, seed, 0, index)
    exclude = same and not c.self_connections
    pres, posts = [], []
    if isinstance(c, FixedProbability):
        others = n_post - exclude                  # candidates per pre neuron
        if c.p <= SPARSE_FRACTION:
            # a Bernoulli(p) choice of each pair = a Binomial(others, p) count per pre
            # neuron, then that many distinct post neurons uniformly
            counts = rng.binomial(others, c.p, size=n_pre)
            pre = np.repeat(np.arange(n_pre, dtype=np.int64), counts)
            post = _distinct_per_row(rng, pre, n_post, exclude)
            pres.append(pre)
            posts.append(post)
        else:
            rows = max(1, _ROW_CHUNK // max(1, n_post))
            for i0 in range(0, n_pre, rows):
                i1 = min(n_pre, i0 + rows)
                mask = rng.random((i1 - i0, n_post)) < c.p
                if exclude:
                    i = np.arange(i0, i1)
                    mask[i - i0, i] = False
                a, b = np.nonzero(mask)
                pres.append(a + i0)
                posts.append(b)
    else:
        others = n_pre - exclude                   # candidates per post neuron
        if c.n <= SPARSE_FRACTION * others:
            post = np.repeat(np.arange(n_post, dtype=np.int64), c.n)
            pres.append(_distinct_per_row(rng, post, n_pre, exclude, row_length=c.n))
            posts.append(post)
        else:
            rows = max(1, _ROW_CHUNK // max(1, n_pre))
            for j0 in range(0, n_post, rows):
                j1 = min(n_post, j0 + rows)
                keys = rng.random((j1 - j0, n_pre))
                if exclude:
                    j = np.arange(j0, j1)
                    keys[j - j0, j] = 2.0                 # never among the n smallest
                chosen = np.sort(np.argpartition(keys, c.n - 1, axis=1)[:, :c.n], axis=1)
                pres.append(chosen.ravel())
                posts.append(np.repeat(np.arange(j0, j1), c.n))
    pre, post = _joined(pres), _joined(posts)
    weight = _draw_weights(c.weight, pre.size, rng)
    return pre, post, weight, _constant(float(proj.delay), pre.size)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """``parts`` end to end as int64, without a copy when there is one part of int64."""
    if len(parts) == 1:
        return np.asarray(parts[0], dtype=np.int64)
    return np.concatenate(parts).astype(np.int64, copy=False) if parts \
        else np.zeros(0, np.int64)


def _constant(value, size: int, dtype=float) -> np.ndarray:
    """``size`` copies of ``value`` as one read-only view (no memory per synapse)."""
    return np.broadcast_to(np.asarray(value, dtype=dtype), (size,))


def constant_value(values: np.ndarray):
    """The value of every element when ``values`` is a view of one value (``_constant``,
    stride 0), else None: lets a per-synapse step work once instead of per synapse."""
    values = np.asarray(values)
    if values.ndim == 1 and values.size and values.strides[0] == 0:
        return values[0]
    return None


def _poisson_events(inp: PoissonInput, index: int, netlist: Netlist, ticks: int):
    rng = _rng(inp.seed, netlist.seed, 1, index)
    targets = np.arange(netlist.population(inp.target).size) if inp.neurons is None else \
        np.array(inp.neurons, dtype=np.int64)
    t0 = tick_of(inp.start, netlist.dt)
    t1 = ticks if inp.stop is None else min(ticks, tick_of(inp.stop, netlist.dt))
    lam = np.broadcast_to(np.asarray(inp.rate, dtype=float) * inp.fan_in * netlist.dt,
                          targets.shape)
    weight = np.broadcast_to(np.asarray(inp.weight, dtype=float), targets.shape)
    rows = max(1, _ROW_CHUNK // max(1, targets.size))
    out_t, out_j, out_w = [], [], []
    for k0 in range(t0, t1, rows):
        k1 = min(t1, k0 + rows)
        counts = rng.poisson(lam, size=(k1 - k0, targets.size))
        k, j = np.nonzero(counts)
        reps = counts[k, j]
        out_t.append(np.repeat(k + k0, reps))
        out_j.append(np.repeat(targets[j], reps))
        out_w.append(np.repeat(weight[j], reps))
    if not out_t:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_t), np.concatenate(out_j), np.concatenate(out_w)


def _population_params(populations: tuple[Population, ...]) -> LifPhysical:
    """One ``LifPhysical`` of every neuron, populations in order; ``reset`` a single mode
    when every population has the same one, else one per neuron."""
    physical = [p.physical() for p in populations]
    values = {f: np.concatenate([getattr(q, f) for q in physical]) for f in NUMERIC_FIELDS}
    resets = [q.reset for q in physical]
    if all(isinstance(r, str) for r in resets) and len(set(resets)) == 1:
        reset: Any = resets[0]
    else:
        reset = np.concatenate([np.broadcast_to(np.asarray(r), (p.size,))
                                for r, p in zip(resets, populations)])
    return LifPhysical(**values, reset=reset)


def _delays(delay, shape) -> np.ndarray:
    """A projection's delays: one view of a scalar delay, else a copy per synapse."""
    if np.ndim(delay) == 0:
        return _constant(float(delay), int(np.prod(shape)))
    return np.broadcast_to(np.asarray(delay, dtype=float), shape).copy()


def _all_synapses(netlist: Netlist, sizes: dict[str, int], offsets: dict[str, int]):
    """Global (pre, post, weight, delay, projection) of every projection, in order.

    A delay shared by every synapse, and the projection index of a single projection,
    are read-only views of one value (``constant_value``); the index arrays are moved to
    global indices in place (each projection's arrays are its own)."""
    parts = []
    for index, proj in enumerate(netlist.projections):
        pre, post, weight, delay = _synapses(proj, index, sizes[proj.pre], sizes[proj.post],
                                             netlist.seed)
        pre += offsets[proj.pre]
        post += offsets[proj.post]
        parts.append((pre, post, weight, delay))
    if len(parts) == 1:
        pre, post, weight, delay = parts[0]
        return (pre, post, np.asarray(weight, dtype=float), delay,
                _constant(0, pre.size, np.int64))
    sizes_ = [p[0].size for p in parts]
    delays = [constant_value(p[3]) for p in parts if p[3].size]
    if delays and None not in delays and len({float(d) for d in delays}) == 1:
        delay = _constant(float(delays[0]), sum(sizes_))
    else:
        delay = _cat([p[3] for p in parts], float)
    projection = np.repeat(np.arange(len(parts), dtype=np.int64), sizes_)
    pre, post, weight = (_cat([p[i] for p in parts], dtype)
                         for i, dtype in ((0, np.int64), (1, np.int64), (2, float)))
    return pre, post, weight, delay, projection


def _cat(arrays: list[np.ndarray], dtype) -> np.ndarray:
    if not arrays:
        return np.zeros(0, dtype=dtype)
    return np.concatenate(arrays).astype(dtype, copy=False)


def _current_source(inp: DcInput | StepInput, index: int, size: int, base: int, dt: float
                    ) -> CurrentSource:
    local = (np.arange(size) if inp.neurons is None
             else np.array(inp.neurons, dtype=np.int64))
    if isinstance(inp, DcInput):
        starts = np.zeros(1, dtype=np.int64)
        amps = np.broadcast_to(np.asarray(inp.amplitude, dtype=float),
                               (1, local.size)).copy()
    else:
        starts = np.array([tick_of(x, dt) for x in inp.times], dtype=np.int64)
        amps = np.repeat(np.asarray(inp.amplitudes, dtype=float)[:, None],
                         local.size, axis=1)
    return CurrentSource(index, local + base, starts, amps)


def _all_inputs(netlist: Netlist, sizes: dict[str, int], offsets: dict[str, int]):
    """Input spike events (tick, neuron, weight, input), sorted by (tick, neuron) and
    stably in input order, and the current sources of dc and step inputs."""
    dt, ticks = netlist.dt, netlist.ticks
    events = []
    currents = []
    for index, inp in enumerate(netlist.inputs):
        base = offsets[inp.target]
        if isinstance(inp, SpikeInput):
            t = [tick_of(x, dt) for j in sorted(inp.times) for x in inp.times[j]]
            j = [jj for jj in sorted(inp.times) for _ in inp.times[jj]]
            t_arr = np.array(t, dtype=np.int64)
            events.append((t_arr, np.array(j, dtype=np.int64) + base,
                           np.full(t_arr.size, inp.weight), index))
        elif isinstance(inp, PoissonInput):
            t_arr, j_arr, w_arr = _poisson_events(inp, index, netlist, ticks)
            events.append((t_arr, j_arr + base, w_arr, index))
        else:
            currents.append(_current_source(inp, index, sizes[inp.target], base, dt))
    if events:
        ev_t = np.concatenate([e[0] for e in events]).astype(np.int64)
        ev_j = np.concatenate([e[1] for e in events]).astype(np.int64)
        ev_w = np.concatenate([e[2] for e in events]).astype(float)
        ev_i = np.concatenate([np.full(e[0].size, e[3], dtype=np.int64) for e in events])
        order = np.lexsort((ev_j, ev_t))
        ev_t, ev_j, ev_w, ev_i = ev_t[order], ev_j[order], ev_w[order], ev_i[order]
    else:
        ev_t = ev_j = ev_i = np.zeros(0, dtype=np.int64)
        ev_w = np.zeros(0)
    return ev_t, ev_j, ev_w, ev_i, tuple(currents)


def expand(netlist: Netlist) -> ExpandedNetwork:
    """Draw every rule of ``netlist`` (checked first) into explicit arrays.

    Deterministic: a rule with a ``seed`` draws from ``numpy.random.default_rng(seed)``,
    one without from ``default_rng([netlist.seed, section, index])`` (section 0 for
    projections, 1 for inputs; ``index`` its position in its list).
    """
    netlist = netlist_from_dict(netlist_to_dict(netlist), "<netlist>")
    names = tuple(p.name for p in netlist.populations)
    sizes = {p.name: p.size for p in netlist.populations}
    offsets, total = {}, 0
    for p in netlist.populations:
        offsets[p.name] = total
        total += p.size
    params = _population_params(netlist.populations)
    synapses = _all_synapses(netlist, sizes, offsets)
    ev_t, ev_j, ev_w, ev_i, currents = _all_inputs(netlist, sizes, offsets)
    probes = tuple(ProbeRange(p.population, offsets[p.population],
                              offsets[p.population] + sizes[p.population], p.record)
                   for p in netlist.probes)
    return ExpandedNetwork(netlist.dt, netlist.ticks, netlist.seed, names, offsets, sizes,
                           params, *synapses, ev_t, ev_j, ev_w, ev_i, currents, probes)
