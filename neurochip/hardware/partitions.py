"""A chip's cores split into partitions, each partition a sub-engine of its own cores
(docs/scale-out.md).

A ``Split`` names the partition of every core. ``build_part`` makes one partition's
``Part``: an ``Engine`` over its cores only (their parameters, synapse memories, LFSR
seeds; local slots and axons numbered core by core in ascending core order), whose
routing table keeps only the entries to cores of the same partition. The entries to
other partitions (``remote_*``) become events that the exchange hands to their
partition; ``packet_*`` keeps every entry of every slot in the chip's order, for the
timing model's packet list (source core, destination core, in injection order).

With every remote entry's delay at least ``d``, a spike fired at tick ``t`` reaches
another partition at ``t + d`` or later, so partitions can run ``d`` ticks between
exchanges and receive every event before its tick (NEST's ``d_min`` rule):
``exchange_interval`` finds the largest such ``d``, and refuses a chosen interval
that a route's delay is shorter than, naming the route.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np

from .engine import Engine, Layout, concatenate_records
from .exchange import MAX_PARTS, remote_words
from .spec import SpecError
from .synapses import SynapseMemory


@dataclass(frozen=True)
class Split:
    """``core_part[c]``: the partition of core ``c`` (0 .. ``n_parts - 1``, each used)."""

    core_part: np.ndarray

    @property
    def n_parts(self) -> int:
        return int(self.core_part.max()) + 1

    def cores(self, part: int) -> np.ndarray:
        return np.flatnonzero(self.core_part == part)

    @property
    def key(self) -> tuple:
        return tuple(int(p) for p in self.core_part)


def split_cores(slots_per_core: Sequence[int], parts) -> Split:
    """The split of a chip whose core ``c`` has ``slots_per_core[c]`` slots.

    ``parts``: a number ``P`` (contiguous blocks of core indices, cut where the running
    slot count crosses ``k / P`` of the total, so blocks carry about equal work, and
    each at least one core); or one sequence of cores per partition (every core in
    exactly one); or an array of ``n_cores`` partition numbers.
    """
    slots = np.asarray(slots_per_core, np.int64)
    n_cores = slots.size
    if isinstance(parts, (int, np.integer)) and parts > MAX_PARTS:
        raise SpecError(f"partitions: at most {MAX_PARTS}, got {parts}")
    if isinstance(parts, (int, np.integer)) and not isinstance(parts, bool):
        if not 1 <= parts <= n_cores:
            raise SpecError(f"partitions: {parts} partitions of a chip of {n_cores} cores "
                            f"(choose 1..{n_cores})")
        return Split(_balanced_blocks(slots, int(parts)))
    try:
        given = [np.asarray(p, dtype=np.int64).ravel() for p in parts]
    except (TypeError, ValueError):
        raise SpecError(f"partitions must be a number or lists of cores, got {parts!r}") \
            from None
    if len(given) == n_cores and all(g.size == 1 for g in given) and not \
            any(isinstance(p, (list, tuple, np.ndarray)) for p in parts):
        core_part = np.concatenate(given)  # one partition number per core
    else:
        core_part = np.full(n_cores, -1, np.int64)
        for index, cores in enumerate(given):
            bad = cores[(cores < 0) | (cores >= n_cores)]
            if bad.size:
                raise SpecError(f"partition {index}: core {int(bad[0])} is not on the chip "
                                f"(cores 0..{n_cores - 1})")
            twice = cores[core_part[cores] >= 0]
            if twice.size or np.unique(cores).size < cores.size:
                core = int(twice[0]) if twice.size else int(cores[np.argmax(
                    np.bincount(cores) > 1)])
                raise SpecError(f"partition {index}: core {core} is in two partitions")
            core_part[cores] = index
    missing = np.flatnonzero(core_part < 0)
    if missing.size:
        raise SpecError(f"partitions: core {int(missing[0])} is in no partition")
    used = np.unique(core_part)
    if used.size != core_part.max() + 1:
        empty = int(np.setdiff1d(np.arange(core_part.max() + 1), used)[0])
        raise SpecError(f"partitions: partition {empty} has no cores")
    return Split(core_part)


def _balanced_blocks(slots: np.ndarray, parts: int) -> np.ndarray:
    """Contiguous blocks of cores, about equal in slots, none empty."""
    n_cores = slots.size
    running = np.cumsum(slots) - slots / 2  # a core counts where its middle falls
    total = max(int(slots.sum()), 1)
    core_part = np.minimum((running * parts // total).astype(np.int64), parts - 1)
    # every block at least one core
    k = np.arange(parts)
    starts = np.searchsorted(core_part, k, side="left")
    # strictly increasing (starts - k never falls) and room for the blocks after
    starts = np.minimum(np.maximum.accumulate(starts - k), n_cores - parts) + k
    return np.searchsorted(starts, np.arange(n_cores), side="right") - 1


@dataclass
class Part:
    """One partition: its sub-engine and what the exchange and timing need of it.

    ``slot_index``/``axon_index``: global slot / axon of every local one.
    ``axon_base[c]``: first local axon of core ``c`` (a core of this partition).
    ``remote_start`` (per local slot, CSR) with ``remote_part``, ``remote_axon`` (the
    axon in the destination partition's local numbering) and ``remote_delay``: entries
    to other partitions. ``packet_start``/``packet_dst``: every entry, in the chip's
    order.
    """

    index: int
    cores: np.ndarray
    engine: Engine
    slot_index: np.ndarray
    axon_index: np.ndarray
    axon_base: np.ndarray
    slot_core: np.ndarray          # global core of every local slot
    remote_start: np.ndarray
    remote_part: np.ndarray
    remote_axon: np.ndarray
    remote_delay: np.ndarray
    packet_start: np.ndarray
    packet_dst: np.ndarray

    @cached_property
    def remote_words(self) -> np.ndarray:
        """The remote entries as ``exchange.remote_events`` reads them."""
        return remote_words(self.remote_part, self.remote_axon, self.remote_delay)

    @cached_property
    def remote_slots(self) -> np.ndarray:
        """Local slots with at least one remote entry."""
        return np.flatnonzero(np.diff(self.remote_start) > 0)


def _csr(slot: np.ndarray, n_slots: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(slot, minlength=n_slots))]).astype(
        np.int64)


def build_part(core_spec, model, configs: Mapping[int, object], slot_start: np.ndarray,
               axon_start: np.ndarray, split: Split, part: int) -> Part:
    """Partition ``part`` of a chip whose cores are ``configs`` (``chip.CoreConfig``, with
    synapses and routes filled in; only this partition's cores are read), and whose
    global layout is ``slot_start``/``axon_start`` (per core, ``n_cores + 1`` each)."""
    cores = split.cores(part)
    chosen = [configs[int(c)] for c in cores]
    layout = Layout.of([c.params.n for c in chosen], [c.synapses.n_axons for c in chosen],
                       cores)
    params = concatenate_records([c.params for c in chosen], model.params_type)
    synapses = [c.synapses for c in chosen]
    memory = SynapseMemory(
        row_start=np.concatenate([[0], np.cumsum(np.concatenate(
            [np.diff(s.row_start) for s in synapses]))]).astype(np.int64),
        slot=np.concatenate([s.slot + layout.slot_start[k] for k, s in enumerate(synapses)]),
        w=np.concatenate([s.w for s in synapses]),
        w_exp=np.concatenate([s.w_exp for s in synapses]),
        target=None if all(s.target is None for s in synapses)
        else np.concatenate([s.targets_of_words() for s in synapses]))
    local_of = np.full(split.core_part.size, -1, np.int64)
    local_of[cores] = np.arange(cores.size)
    routes = [c.routes for c in chosen]
    entry_slot = np.concatenate([layout.slot_start[k] + np.repeat(
        np.arange(c.params.n), np.diff(r.route_start)) for k, (c, r)
        in enumerate(zip(chosen, routes))]).astype(np.int64)
    dst = np.concatenate([r.core for r in routes]).astype(np.int64)
    axon = np.concatenate([r.axon for r in routes]).astype(np.int64)
    delay = np.concatenate([r.delay for r in routes]).astype(np.int64)
    here = split.core_part[dst] == part
    n = layout.n_slots
    engine = Engine(core_spec, model, params, memory, _csr(entry_slot[here], n),
                    layout.axon_start[local_of[dst[here]]] + axon[here], delay[here],
                    local_of[dst[here]], layout,
                    [c.lfsr_seed for c in chosen], name=f"partition {part}")
    away = ~here
    slot_index = np.concatenate([np.arange(slot_start[c], slot_start[c + 1]) for c in cores])
    axon_index = np.concatenate([np.arange(axon_start[c], axon_start[c + 1]) for c in cores])
    base = local_axon_bases(np.diff(axon_start), split)
    return Part(part, cores, engine, slot_index.astype(np.int64), axon_index.astype(np.int64),
                base, cores[layout.slot_core], _csr(entry_slot[away], n),
                split.core_part[dst[away]], base[dst[away]] + axon[away], delay[away],
                _csr(entry_slot, n), dst)


def local_axon_bases(axons_per_core: np.ndarray, split: Split) -> np.ndarray:
    """``base[c]``: the first local axon of core ``c`` in its partition (whose cores'
    axons are numbered core by core, in ascending core order)."""
    axons = np.asarray(axons_per_core, np.int64)
    base = np.zeros(axons.size, np.int64)
    for p in range(split.n_parts):
        cores = split.cores(p)
        base[cores] = np.cumsum(axons[cores]) - axons[cores]
    return base


def exchange_interval(configs: Mapping[int, object], split: Split,
                      interval: int | None, horizon: int) -> int:
    """Ticks between exchanges: ``interval`` if given (refused, naming the route, when a
    route between partitions is shorter), else the shortest delay of a route between
    partitions (``horizon`` when there is none: then nothing is exchanged)."""
    shortest, where = horizon, None
    for core, config in configs.items():
        routes = config.routes
        if routes is None or not routes.entries:
            continue
        away = np.flatnonzero(split.core_part[routes.core] != split.core_part[core])
        if away.size:
            entry = int(away[np.argmin(routes.delay[away])])
            if routes.delay[entry] < shortest:
                shortest = int(routes.delay[entry])
                where = (core, entry, routes)
    if interval is None:
        return max(shortest, 1)
    if isinstance(interval, bool) or not isinstance(interval, (int, np.integer)) \
            or interval < 1:
        raise SpecError(f"interval must be a whole number of ticks >= 1, got {interval!r}")
    if where is not None and shortest < interval:
        core, entry, routes = where
        slot = int(np.searchsorted(routes.route_start, entry, "right") - 1)
        raise SpecError(
            f"exchange interval {interval}: the route of core {core}, slot {slot} entry "
            f"{entry - int(routes.route_start[slot])} to core {int(routes.core[entry])} "
            f"(partition {int(split.core_part[routes.core[entry]])}) has delay "
            f"{int(routes.delay[entry])}, so its events would arrive before the exchange "
            f"(choose an interval <= {shortest}, or no interval)")
    return int(interval)
