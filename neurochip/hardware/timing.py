"""Cycle-accurate timing of a tick on a mesh of cores (docs/timing.md).

The micro-architecture (docs/timing.md has a worked example):

* **Cores work in three phases**, each starting when the previous one ends, all cores
  starting at cycle 0 of the tick:

  1. *synaptic*: for every event that arrives this tick, one synapse-row fetch
     (``row_fetch`` cycles) and one synaptic op per word of the row (``synop``);
  2. *neuron update*: every slot, ``neuron_active`` cycles for a slot that does work and
     ``neuron_idle`` for a slot that the firmware model reports idle (at rest, no input);
  3. *routing*: for every routing entry of every slot that fired, in slot order then
     entry order, one lookup (``route_lookup``) and one packet injection (``inject``);
     the k-th packet of a core (k = 0, 1, ...) is injected at
     ``neuron_end + (k + 1) * (route_lookup + inject)``.

* **Packets** travel X first, then Y (dimension-order routing). Each directed link
  between neighbouring routers accepts one packet per cycle and takes ``hop_x`` or
  ``hop_y`` cycles to cross. A packet asks for its next link when it reaches a router
  (at injection for the first link); a link serves the waiting packets first-come-first-
  served by the cycle they asked, ties broken by the order the packets were injected in
  the chip (source core index, then packet index within the core). A packet to its own
  core uses no link and arrives when injected; otherwise it arrives when it leaves its
  last link.

* **The tick ends** (barrier) when every core has finished its routing phase and every
  packet has arrived: ``cycles = max(route_end, arrival)``.

``link_schedule`` computes the contention exactly without a per-cycle loop: on one link,
packets sorted by (request, order) start at ``start_k = max(request_k, start_{k-1} + 1)``,
i.e. ``start_k = k + cummax(request_j - j)``. With X-then-Y routing a +x link at column
``x`` only carries packets whose earlier hops used +x links at columns below ``x`` (and
likewise for -x, +y, -y, with every X hop before every Y hop), so scheduling the links
column by column and then row by row sees every request before it is needed:
``W + H - 2`` vectorised steps per tick, exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

# Ports of a router: the direction a link leaves in.
PLUS_X, MINUS_X, PLUS_Y, MINUS_Y = range(4)


def check_cost_fields(table, types: tuple[type, ...], what: str) -> None:
    """Every field of a cost table (cycles or energies per operation) is a number >= 0."""
    for f in fields(table):
        value = getattr(table, f.name)
        if not isinstance(value, types) or not value >= 0:
            raise ValueError(f"{type(table).__name__}.{f.name} must be {what}, got {value!r}")


@dataclass(frozen=True)
class TimingTable:
    """Cycles per operation of the emulated micro-architecture (docs/timing.md)."""

    row_fetch: int = 2
    synop: int = 1
    neuron_active: int = 2
    neuron_idle: int = 1
    route_lookup: int = 1
    inject: int = 1
    hop_x: int = 1
    hop_y: int = 1

    def __post_init__(self):
        check_cost_fields(self, (int, np.integer), "a non-negative integer number of cycles")
        if self.hop_x < 1 or self.hop_y < 1:
            raise ValueError("TimingTable.hop_x and hop_y must be at least 1 cycle")


@dataclass(frozen=True)
class Mesh:
    width: int
    height: int

    @property
    def n_cores(self) -> int:
        return self.width * self.height

    def xy(self, core):
        core = np.asarray(core)
        return core % self.width, core // self.width

    def hops(self, src, dst) -> np.ndarray:
        (sx, sy), (dx, dy) = self.xy(src), self.xy(dst)
        return np.abs(dx - sx) + np.abs(dy - sy)

    def routes(self, src: np.ndarray, dst: np.ndarray):
        """Every hop of every packet, X then Y: packet index, hop index, link id, whether
        it is an X hop, and its scheduling step (see ``link_schedule``).

        Link id = ``4 * core + port`` of the router the hop leaves from.
        """
        (sx, sy), (tx, ty) = self.xy(src), self.xy(dst)
        nx, ny = np.abs(tx - sx), np.abs(ty - sy)
        count = nx + ny
        packet = np.repeat(np.arange(src.size), count)
        first = np.concatenate([[0], np.cumsum(count)[:-1]]) if src.size else count
        hop = np.arange(int(count.sum())) - np.repeat(first, count)
        in_x = hop < nx[packet]
        step_x = np.sign(tx - sx)[packet]
        step_y = np.sign(ty - sy)[packet]
        x = np.where(in_x, sx[packet] + step_x * hop, tx[packet])
        y = np.where(in_x, sy[packet], sy[packet] + step_y * (hop - nx[packet]))
        port = np.where(in_x, np.where(step_x > 0, PLUS_X, MINUS_X),
                        np.where(step_y > 0, PLUS_Y, MINUS_Y))
        # links in the order packets can reach them: X links by distance travelled from the
        # west (for +x) or east (-x) edge, then Y links likewise from the north or south
        stage = np.where(in_x, np.where(step_x > 0, x, self.width - 1 - x),
                         self.width - 1 + np.where(step_y > 0, y, self.height - 1 - y))
        return packet, hop, (y * self.width + x) * 4 + port, in_x, stage


def link_schedule(inject: np.ndarray, packet: np.ndarray, hop: np.ndarray, link: np.ndarray,
                  latency: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Start cycle of every hop under FCFS link arbitration (module docstring).

    Hops are given packet by packet in hop order; ``latency[h]`` is the cycles hop ``h``
    takes; packets are ordered by their index (the injection order tie-break). ``step``
    orders the links so that every hop's previous hop lies on an earlier step
    (``Mesh.routes``): the links of one step are scheduled together, in one sort.
    """
    n = hop.size
    start = np.zeros(n, dtype=np.int64)
    if n == 0:
        return start
    by_step = np.argsort(step, kind="stable")
    bounds = np.searchsorted(step[by_step], np.arange(int(step.max()) + 2))
    for s in range(bounds.size - 1):
        chosen = by_step[bounds[s]:bounds[s + 1]]
        if chosen.size == 0:
            continue
        first = hop[chosen] == 0
        before = np.where(first, 0, chosen - 1)
        request = np.where(first, inject[packet[chosen]], start[before] + latency[before])
        start[chosen] = _fcfs(link[chosen], request, packet[chosen])
    return start


def _fcfs(link: np.ndarray, request: np.ndarray, packet: np.ndarray) -> np.ndarray:
    """Start cycles on links that each take one packet per cycle, first come first served."""
    n = link.size
    order = _sort_order(link, request, packet)
    req_sorted, link_sorted = request[order], link[order]
    group_start = np.flatnonzero(np.r_[True, link_sorted[1:] != link_sorted[:-1]])
    group_of = np.repeat(np.arange(group_start.size), np.diff(np.r_[group_start, n]))
    position = np.arange(n) - group_start[group_of]
    # segmented cumulative maximum of (request - position): offset every group so that a
    # group never sees an earlier group's values
    span = int(req_sorted.max() - req_sorted.min() + n + 1)
    shifted = req_sorted - position + group_of * span
    started = np.empty(n, dtype=np.int64)
    started[order] = position + np.maximum.accumulate(shifted) - group_of * span
    return started


def _sort_order(link: np.ndarray, request: np.ndarray, packet: np.ndarray) -> np.ndarray:
    """Order by (link, request, packet): one int64 key when it fits, else lexsort."""
    r_span = int(request.max()) + 1
    p_span = int(packet.max()) + 1
    if (int(link.max()) + 1) * r_span * p_span < 2 ** 62:
        return np.argsort((link * r_span + request) * p_span + packet)
    return np.lexsort((packet, request, link))


@dataclass(frozen=True)
class TickTiming:
    """Cycle counts of one tick (cycles from the start of the tick).

    The ``packet_*`` arrays are signed integers of whatever width holds them: the compiled
    backend records them in the narrowest type that provably does (int16 cores, int32
    cycles on all but huge chips), as views into one record of the whole run.
    """

    synapse_end: np.ndarray   # per core
    neuron_end: np.ndarray    # per core
    route_end: np.ndarray     # per core
    packet_src: np.ndarray    # per packet: source core
    packet_dst: np.ndarray    # per packet: destination core
    packet_inject: np.ndarray  # per packet
    packet_arrive: np.ndarray  # per packet
    link_packets: np.ndarray  # per link id (4 per core): packets that crossed it
    rows: np.ndarray          # per core: synapse-row fetches
    synops: np.ndarray        # per core: synaptic ops
    active: np.ndarray        # per core: active neuron updates
    idle: np.ndarray          # per core: idle neuron updates
    cycles: int               # tick length (barrier)

    @property
    def hops(self) -> int:
        return int(self.link_packets.sum())


def tick_timing(table: TimingTable, mesh: Mesh, event_core: np.ndarray,
                row_lengths: np.ndarray, slot_core: np.ndarray, idle: np.ndarray,
                entry_src: np.ndarray, entry_dst: np.ndarray,
                hops: tuple | None = None) -> TickTiming:
    """Timing of one tick from what it did.

    ``event_core``/``row_lengths``: per event delivered this tick, the core (mesh index)
    of its axon and the length of the axon's row; ``slot_core``: mesh index of every
    slot; ``idle``: which slots were idle; ``entry_src``/``entry_dst``: source and
    destination core of every packet, in injection order (slot order, entry order);
    ``hops``: ``mesh.routes(entry_src, entry_dst)`` when the caller has it already.
    """
    n = mesh.n_cores
    rows = np.bincount(event_core, minlength=n)
    synops = np.bincount(event_core, weights=row_lengths, minlength=n)
    idle_count = np.bincount(slot_core, weights=idle, minlength=n)
    active = np.bincount(slot_core, minlength=n) - idle_count
    synapse_end = (table.row_fetch * rows + table.synop * synops).astype(np.int64)
    neuron_end = synapse_end + (table.neuron_active * active
                                + table.neuron_idle * idle_count).astype(np.int64)
    per_packet = table.route_lookup + table.inject
    route_end = neuron_end + per_packet * np.bincount(entry_src, minlength=n)
    hops = hops if hops is not None else mesh.routes(entry_src, entry_dst)
    inject, arrive = packet_cycles(table, neuron_end, entry_src, hops)
    link = hops[2]
    cycles = int(max(route_end.max(initial=0), arrive.max(initial=0)))
    return TickTiming(synapse_end, neuron_end, route_end, entry_src, entry_dst, inject, arrive,
                      np.bincount(link, minlength=4 * n), rows.astype(np.int64),
                      synops.astype(np.int64), active.astype(np.int64),
                      idle_count.astype(np.int64), cycles)


def packet_cycles(table: TimingTable, neuron_end: np.ndarray, entry_src: np.ndarray,
                  hops: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Injection and arrival cycle of every packet of a tick (docs/timing.md sections 2
    and 3): ``neuron_end`` per core, ``entry_src`` the packets' source cores in injection
    order, ``hops`` their ``Mesh.routes``."""
    per_packet = table.route_lookup + table.inject
    packets_of = np.bincount(entry_src, minlength=neuron_end.size)
    # k-th packet of its core: position among packets of the same source (already grouped)
    first_of_core = np.concatenate([[0], np.cumsum(packets_of)[:-1]])
    k = np.arange(entry_src.size) - first_of_core[entry_src]
    inject = neuron_end[entry_src] + (k + 1) * per_packet
    packet, hop, link, in_x, step = hops
    latency = np.where(in_x, table.hop_x, table.hop_y)
    start = link_schedule(inject, packet, hop, link, latency, step)
    arrive = inject.copy()
    if hop.size:
        last = np.r_[packet[1:] != packet[:-1], True]
        arrive[packet[last]] = start[last] + latency[last]
    return inject, arrive


@dataclass(frozen=True)
class TickTotals:
    """A tick's timing as ``Chip.run(..., timing="totals")`` keeps it: every per-core and
    per-link field of ``TickTiming`` and the tick's length, recorded as the tick runs, and
    the slots that fired (``fired``, in slot order). The per-packet fields
    (``packet_src``, ``packet_dst``, ``packet_inject``, ``packet_arrive``) are worked out
    from those on first request (``source.packets_of``) and are then the same as
    ``TickTiming``'s; ``full()`` is the whole ``TickTiming``."""

    synapse_end: np.ndarray   # per core
    neuron_end: np.ndarray    # per core
    route_end: np.ndarray     # per core
    link_packets: np.ndarray  # per link id
    rows: np.ndarray          # per core
    synops: np.ndarray        # per core
    active: np.ndarray        # per core
    idle: np.ndarray          # per core
    cycles: int               # tick length
    fired: np.ndarray         # slots that fired, in order
    source: object = field(repr=False, compare=False)  # the chip's ``ChipTiming``
    detail: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def hops(self) -> int:
        return int(self.link_packets.sum())

    @property
    def n_packets(self) -> int:
        return self.source.packet_count(self.fired)

    def _packets(self) -> dict:
        if not self.detail:
            names = ("packet_src", "packet_dst", "packet_inject", "packet_arrive")
            self.detail.update(zip(names, self.source.packets_of(self.fired,
                                                                 self.neuron_end)))
        return self.detail

    packet_src = property(lambda self: self._packets()["packet_src"])
    packet_dst = property(lambda self: self._packets()["packet_dst"])
    packet_inject = property(lambda self: self._packets()["packet_inject"])
    packet_arrive = property(lambda self: self._packets()["packet_arrive"])

    def full(self) -> TickTiming:
        return TickTiming(**{f.name: getattr(self, f.name) for f in fields(TickTiming)})
