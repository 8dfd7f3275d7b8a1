"""What partitions hand each other, and the chip's timing made from every partition's
activity (docs/scale-out.md).

* ``remote_events``: the events a partition's fired slots send to other partitions,
  as int64 rows ``(arrival tick, axon, count)`` grouped by destination; ``ingest``
  writes them into the destination kernel's axon-buffer rows, where a local route's
  event would be.
* ``EventStore``: a partition's external input events still to come, handed to the
  kernel one interval at a time.
* ``packets_of``: a partition's packets of an interval, in the chip's injection order
  within each source core (slot order, entry order, a slot's ``c`` spikes ``c``
  packets per entry), local and remote alike.
* ``schedule_ticks``: the timing model of ``tick_kernel._schedule_tick`` on the merged
  per-core work and packet list of each tick: the same phases, injections and FCFS link
  schedule (``tick_kernel.fcfs_packets``), so the same cycles.

A tick's timing is a function of its per-core work (row fetches, synaptic ops, active
and idle slots), which each partition counts for its own cores, and of its packet list
in injection order (source core, then the core's packets in order), which a stable sort
by (tick, source core) of the partitions' lists gives back exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .synapses import row_words
from .tick_kernel import fcfs_packets

# a remote entry as one word (one memory read per entry): the destination partition's
# axon in the low 40 bits, the delay (at most 2^8 - 1 ticks) in the next 8, the partition
# in the high 16
AXON_BITS, DELAY_BITS = 40, 8
MAX_PARTS = 1 << 15


def remote_words(part: np.ndarray, axon: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """``remote_events``'s entry words (``AXON_BITS``)."""
    return (axon.astype(np.int64) | (delay.astype(np.int64) << AXON_BITS)
            | (part.astype(np.int64) << (AXON_BITS + DELAY_BITS)))


@njit(cache=True, nogil=True)
def remote_events(spikes, first, remote_slots, remote_start, remote_words, n_parts):
    """The events that the slots ``remote_slots`` fired in ``spikes`` (ticks ``first``
    .., one row per tick; spike counts or booleans) send to other partitions by their
    entries (``remote_start`` per slot, ``remote_words``): an int64 array of rows
    (arrival tick, axon in the destination's numbering, count), the events of partition
    ``q`` from ``offsets[q]`` to ``offsets[q + 1]`` (returned too)."""
    fired_tick = np.empty(spikes.shape[0] * remote_slots.size, np.int64)
    fired_slot = np.empty_like(fired_tick)
    n_fired = 0
    for k in range(spikes.shape[0]):  # one pass over the spikes, most of them zero
        row = spikes[k]
        for j in remote_slots:
            if row[j]:
                fired_tick[n_fired] = k
                fired_slot[n_fired] = j
                n_fired += 1
    sizes = np.zeros(n_parts + 1, np.int64)
    shift = AXON_BITS + DELAY_BITS
    for f in range(n_fired):
        j = fired_slot[f]
        for e in range(remote_start[j], remote_start[j + 1]):
            sizes[(remote_words[e] >> shift) + 1] += 1
    offsets = np.cumsum(sizes)
    events = np.empty((3, offsets[-1]), np.int64)
    filled = offsets[:-1].copy()
    axon_mask = (np.int64(1) << AXON_BITS) - 1
    delay_mask = (np.int64(1) << DELAY_BITS) - 1
    for f in range(n_fired):
        k, j = fired_tick[f], fired_slot[f]
        c = np.int64(spikes[k, j])
        for e in range(remote_start[j], remote_start[j + 1]):
            word = remote_words[e]
            q = filled[word >> shift]
            filled[word >> shift] = q + 1
            events[0, q] = first + k + ((word >> AXON_BITS) & delay_mask)
            events[1, q] = word & axon_mask
            events[2, q] = c
    return events, offsets


@njit(cache=True, nogil=True)
def ingest(events, row_axon, row_count, row_length, row_work, axon_rows, timing_on):
    """Events from other partitions (rows: arrival tick, local axon, count) into the
    kernel's axon-buffer rows, as its routing phase writes a local route's event (with
    timing, their row fetches and synaptic ops counted for their core)."""
    last = row_length.size - 1
    for e in range(events.shape[1]):
        row = events[0, e] & last
        axon = events[1, e]
        count = events[2, e]
        row_axon[row, row_length[row]] = axon
        row_count[row, row_length[row]] = count
        row_length[row] += 1
        if timing_on:
            core = axon_rows[axon, 2]
            row_work[row, 0, core] += count
            row_work[row, 1, core] += count * axon_rows[axon, 1]


def packets_of(part, first: int, ticks: np.ndarray, slots: np.ndarray,
               counts: np.ndarray | None) -> np.ndarray:
    """``(tick - first, source core, destination core)`` of every packet sent by local
    ``slots`` fired at ``ticks`` (in tick then slot order), in injection order; with
    ``counts`` (spikes per fired slot, a model of several spikes a tick) each entry's
    packet ``count`` times in a row."""
    entries, lengths = row_words(part.packet_start, slots)
    k = np.repeat(ticks - first, lengths)
    src = np.repeat(part.slot_core[slots], lengths)
    dst = part.packet_dst[entries]
    if counts is not None and entries.size:
        times = np.repeat(counts, lengths)
        k, src, dst = (np.repeat(a, times) for a in (k, src, dst))
    return np.stack([k, src, dst]).astype(np.int64)


class EventStore:
    """Input events of one partition not yet handed to the kernel: ``(tick, local axon,
    count)``. The events of a tick are a multiset (delivery sums them; in-order
    delivery sorts them by axon), so the order they arrive in does not matter."""

    def __init__(self, ticks=None, axons=None, counts=None):
        empty = np.zeros(0, np.int64)
        self.tick = np.asarray(ticks if ticks is not None else empty, np.int64)
        self.axon = np.asarray(axons if axons is not None else empty, np.int64)
        self.count = np.asarray(counts if counts is not None else empty, np.int64)

    def add(self, ticks, axons, counts) -> None:
        self.tick = np.concatenate([self.tick, ticks])
        self.axon = np.concatenate([self.axon, axons])
        self.count = np.concatenate([self.count, counts])

    def take(self, first: int, ticks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The events of ticks ``first .. first + ticks - 1`` as the kernel's inputs
        (``in_ptr`` with ``ticks + 1`` bounds, axons, counts); they leave the store."""
        now = self.tick < first + ticks
        order = np.flatnonzero(now)
        order = order[np.argsort(self.tick[order], kind="stable")]
        ptr = np.searchsorted(self.tick[order], first + np.arange(ticks + 1)).astype(np.int64)
        taken = self.axon[order], self.count[order]
        keep = ~now
        self.tick, self.axon, self.count = self.tick[keep], self.axon[keep], self.count[keep]
        return ptr, taken[0], taken[1]

    def most_per_tick(self) -> int:
        return int(np.bincount(self.tick - self.tick.min()).max()) if self.tick.size else 0


@njit(cache=True, nogil=True)
def schedule_ticks(work, ptr, src, dst, table, width, height, phase, links, cycles, inject,
                   arrive):
    """Timing of ``work.shape[0]`` ticks: ``work[k]`` the per-core (row fetches, synaptic
    ops, active slots, idle slots) of tick ``k``, its packets ``ptr[k] .. ptr[k + 1]`` of
    ``src``/``dst`` in injection order. Writes the phase ends per core, the packets'
    injection and arrival cycles, the link loads and the tick lengths, as
    ``tick_kernel._schedule_tick`` does."""
    n_cores = work.shape[2]
    core_xy = np.empty((n_cores, 2), np.int64)
    for c in range(n_cores):
        core_xy[c, 0], core_xy[c, 1] = c % width, c // width
    per_packet = table[4] + table[5]
    packets_of_core = np.zeros(n_cores, np.int64)
    seen = np.zeros(n_cores, np.int64)
    for k in range(work.shape[0]):
        a, b = ptr[k], ptr[k + 1]
        packets_of_core[:] = 0
        seen[:] = 0
        for p in range(a, b):
            packets_of_core[src[p]] += 1
        for c in range(n_cores):
            synapse_end = table[0] * work[k, 0, c] + table[1] * work[k, 1, c]
            neuron_end = synapse_end + table[2] * work[k, 2, c] + table[3] * work[k, 3, c]
            phase[k, 0, c] = synapse_end
            phase[k, 1, c] = neuron_end
            phase[k, 2, c] = neuron_end + per_packet * packets_of_core[c]
        for p in range(a, b):
            c = src[p]
            seen[c] += 1
            inject[p] = phase[k, 1, c] + seen[c] * per_packet
        links[k, :] = 0
        fcfs_packets(b - a, inject[a:b], src[a:b], dst[a:b], width, height, table[6],
                     table[7], arrive[a:b], links[k], core_xy)
        longest = 0
        for c in range(n_cores):
            longest = max(longest, phase[k, 2, c])
        for p in range(a, b):
            longest = max(longest, arrive[p])
        cycles[k] = longest
