"""Routing tables and the axon input buffer with its delay slots.

A slot's routing entries (its fan-out) each name a destination ``(core, axon, delay)``:
a spike fired at tick ``t`` becomes one event on that axon at tick ``t + delay``,
``1 <= delay <= 2**delay_bits - 1``.

The axon buffer is a ring of ``2**delay_bits`` rows of pending events. Row ``t mod D``
holds what arrives at tick ``t``; it is read and cleared at the start of tick ``t``. A
delay never exceeds ``D - 1``, so a write never lands in the row being read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import CoreSpec, SpecError


@dataclass(frozen=True)
class RoutingTable:
    route_start: np.ndarray  # (n_slots + 1,) int64
    core: np.ndarray         # (entries,) int64
    axon: np.ndarray         # (entries,) int64
    delay: np.ndarray        # (entries,) int64

    @classmethod
    def from_lists(cls, n_slots: int, slot, axon, delay=1, core=0) -> "RoutingTable":
        """Entries from parallel arrays ``(slot, axon, delay, core)``; scalars broadcast."""
        slot = np.asarray(slot, dtype=np.int64).ravel()
        axon = np.broadcast_to(np.asarray(axon, dtype=np.int64), slot.shape)
        delay = np.broadcast_to(np.asarray(delay, dtype=np.int64), slot.shape)
        core = np.broadcast_to(np.asarray(core, dtype=np.int64), slot.shape)
        if slot.size and (slot.min() < 0 or slot.max() >= n_slots):
            bad = slot[(slot < 0) | (slot >= n_slots)][0]
            raise SpecError(f"routing entry for slot {bad}, outside 0..{n_slots - 1}")
        order = np.argsort(slot, kind="stable")
        counts = np.bincount(slot, minlength=n_slots)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(start, core[order].copy(), axon[order].copy(), delay[order].copy())

    @classmethod
    def empty(cls, n_slots: int) -> "RoutingTable":
        return cls.from_lists(n_slots, [], [])

    @property
    def entries(self) -> int:
        return self.axon.size

    def validate(self, spec: CoreSpec, n_axons: int, core: int = 0,
                 n_cores: int = 1) -> None:
        """Refuse entries the hardware cannot hold or deliver, naming slot and entry."""
        where = f"core {core} routing table"
        if self.entries > spec.routing_entries:
            raise SpecError(f"{where}: {self.entries} entries, capacity routing_entries="
                            f"{spec.routing_entries} (short by "
                            f"{self.entries - spec.routing_entries})")
        fanout = np.diff(self.route_start)
        if fanout.size and fanout.max() > spec.max_fanout:
            slot = int(np.flatnonzero(fanout > spec.max_fanout)[0])
            raise SpecError(f"{where}, slot {slot}: fan-out {int(fanout[slot])} exceeds "
                            f"max_fanout={spec.max_fanout}")
        for name, values, lo, hi in (("core", self.core, 0, n_cores - 1),
                                     ("axon", self.axon, 0, n_axons - 1),
                                     ("delay", self.delay, 1, spec.max_delay)):
            bad = np.flatnonzero((values < lo) | (values > hi))
            if bad.size:
                entry = int(bad[0])
                slot = int(np.searchsorted(self.route_start, entry, "right") - 1)
                raise SpecError(f"{where}, slot {slot} entry {entry - int(self.route_start[slot])}"
                                f": {name}={int(values[entry])} outside {lo}..{hi}")


class AxonBuffer:
    """Pending events for the next ``2**delay_bits - 1`` ticks, one list per arrival row.

    Each event is one axon index; an axon with several events this tick appears several
    times. Row ``t mod D`` collects what arrives at tick ``t``.
    """

    def __init__(self, n_axons: int, delay_bits: int):
        self.depth = 1 << delay_bits
        self.n_axons = n_axons
        self._rows: list[list[np.ndarray]] = [[] for _ in range(self.depth)]

    def schedule(self, tick: int, axons, counts=1) -> None:
        """Add ``counts`` events on each of ``axons`` arriving at ``tick``."""
        axons = np.asarray(axons, dtype=np.int64).ravel()
        events = np.repeat(axons, np.broadcast_to(counts, axons.shape))
        if events.size:
            self._rows[tick % self.depth].append(events)

    def schedule_delayed(self, now: int, axons: np.ndarray, delays: np.ndarray) -> None:
        """One event per entry, arriving at ``now + delay``."""
        if delays.min() == delays.max():
            self._rows[(now + int(delays[0])) % self.depth].append(axons)
            return
        order = np.argsort(delays, kind="stable")
        sorted_delays = delays[order]
        bounds = np.flatnonzero(np.diff(sorted_delays)) + 1
        for group in np.split(order, bounds):
            self._rows[(now + int(delays[group[0]])) % self.depth].append(axons[group])

    def pop(self, tick: int) -> np.ndarray:
        """Every event arriving at ``tick`` (one axon index per event); clears the row."""
        row = self._rows[tick % self.depth]
        self._rows[tick % self.depth] = []
        if not row:
            return np.zeros(0, dtype=np.int64)
        return row[0] if len(row) == 1 else np.concatenate(row)

    def pending(self, now: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every pending event, canonically: ``(tick, axon, count)`` sorted by arrival
        tick (absolute, ``now .. now + depth - 1``) then axon, one entry per pair.

        The events of a row are a multiset (delivery sums them, in-order accumulation
        sorts them), so this is the buffer's whole content, whatever order it was
        filled in."""
        sizes = [sum(part.size for part in row) for row in self._rows]
        if not any(sizes):
            empty = np.zeros(0, np.int64)
            return empty, empty.copy(), empty.copy()
        arrival = now + (np.arange(self.depth) - now) % self.depth
        ticks = np.repeat(arrival, sizes)
        axons = np.concatenate([part for row in self._rows for part in row]).astype(np.int64)
        keys, counts = np.unique((ticks - now) * self.n_axons + axons, return_counts=True)
        return now + keys // self.n_axons, keys % self.n_axons, counts.astype(np.int64)

    def replace_pending(self, now: int, ticks, axons, counts) -> None:
        """Make ``(tick, axon, count)`` (as ``pending`` gives them) the buffer's only
        events; refuses arrival ticks outside ``now .. now + depth - 1``, axons outside the
        buffer and counts below 1, changing nothing then."""
        ticks, axons, counts = (np.asarray(a, np.int64).ravel() for a in (ticks, axons, counts))
        if not ticks.size == axons.size == counts.size:
            raise SpecError(f"pending events: {ticks.size} ticks, {axons.size} axons and "
                            f"{counts.size} counts")
        for name, values, lo, hi in (("tick", ticks, now, now + self.depth - 1),
                                     ("axon", axons, 0, self.n_axons - 1),
                                     ("count", counts, 1, np.iinfo(np.int64).max)):
            bad = values[(values < lo) | (values > hi)]
            if bad.size:
                raise SpecError(f"pending event {name} {int(bad[0])} outside {lo}..{hi}")
        rows: list[list[np.ndarray]] = [[] for _ in range(self.depth)]
        order = np.argsort(ticks, kind="stable")
        ticks, axons, counts = ticks[order], axons[order], counts[order]
        cuts = np.flatnonzero(np.diff(ticks)) + 1
        for tick, axon, count in zip(np.split(ticks, cuts), np.split(axons, cuts),
                                     np.split(counts, cuts)):
            if tick.size:
                rows[int(tick[0]) % self.depth] = [np.repeat(axon, count)]
        self._rows = rows
