"""A chip run as partitions: on threads in this process, or on MPI ranks
(docs/scale-out.md). ``Chip.run(..., threads=N)`` and ``neurochip run --threads N``
come here, and so does a run under ``mpiexec`` (``mpi_run``).

Every partition (``partitions.Part``) ticks its own cores with the compiled kernel
(``partition_kernel.KernelSession``), ``interval`` ticks at a time, ``interval`` being
the shortest delay of a route between partitions (NEST's ``d_min``): a spike fired in
an interval reaches another partition in a later one. After each interval the
partitions' events to each other are exchanged (``exchange.remote_events``; on MPI one
``Alltoallv`` of int64 columns) and join the destination's input events of their tick.

Bit-identical to the one-process run, for any split: delivery sums the events of a
tick (or, for Xylo's in-order saturating delivery, sorts them by axon, and events of
one axon add the same row), so it does not matter that remote events join as inputs;
each core's registers, LFSR lanes and overflow counts depend on its own slots only.
With timing, each tick's per-core work and packet list, merged in the chip's
injection order, go through the same schedule (``exchange.schedule_ticks``); the
records are those of ``Chip.run``'s compiled backend, type for type. A strict-mode
overflow stops the partitioned run and the call is run again in one process, which
raises it with the one-process state.
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields

import numpy as np

from .compiled import _packet_record_types
from .engine import Recording, check_ticks, input_events, recordable, resolve_backend
from .exchange import EventStore, ingest, packets_of, remote_events, schedule_ticks
from .partition_kernel import KernelSession
from .partitions import Split, build_part, exchange_interval, split_cores
from .spec import SpecError
from .tick_kernel import OVERFLOW


@dataclass(frozen=True)
class Parallel:
    """How a chip runs: ``threads`` in this process; ``partitions`` (a number, one list
    of cores per partition, or a partition number per core; default one per thread, or
    per MPI rank); ``interval`` ticks between exchanges (default: the shortest delay
    between partitions); ``comm`` an mpi4py communicator (one partition per rank)."""

    threads: int = 1
    partitions: object = None
    interval: int | None = None
    comm: object = None

    def __post_init__(self):
        if isinstance(self.threads, bool) or not isinstance(self.threads, (int, np.integer)) \
                or self.threads < 1:
            raise SpecError(f"threads must be a whole number >= 1, got {self.threads!r}")

    @classmethod
    def for_process(cls, threads: int = 1) -> "Parallel":
        """``threads`` threads; on the ranks instead when mpiexec started this process
        (one partition per rank, ``mpi_run.world``)."""
        from .mpi_run import world

        return cls(threads=threads, comm=world())

    @property
    def one_process(self) -> bool:
        return self.comm is None and self.threads == 1 and self.partitions in (None, 1)


@dataclass
class _Group:
    """A chip's partitions for one split (cached per chip engine)."""

    split: Split
    parts: dict
    axon_part: np.ndarray
    axon_local: np.ndarray
    shortest: int


_GROUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _group(chip, split: Split, wanted) -> _Group:
    cache = _GROUPS.setdefault(chip.engine, {})
    group = cache.get(split.key)
    if group is None:
        layout = chip.layout
        configs = dict(enumerate(chip.configs))
        axon_core = layout.axon_core
        axon_part = split.core_part[axon_core]
        axon_local = np.zeros(layout.n_axons, np.int64)
        for p in range(split.n_parts):
            mine = np.flatnonzero(axon_part == p)
            axon_local[mine] = np.arange(mine.size)
        shortest = exchange_interval(configs, split, None, chip.engine.buffer.depth)
        group = cache[split.key] = _Group(split, {}, axon_part, axon_local, shortest)
    for p in wanted:
        if p not in group.parts:
            group.parts[p] = build_part(chip.spec.core, chip.model, dict(enumerate(
                chip.configs)), chip.layout.slot_start, chip.layout.axon_start, split, p)
    return group


class LocalTransport:
    """Every partition in this process: the exchange hands the events over as they are."""

    rank, root = 0, True

    def __init__(self, n_parts: int):
        self.local = list(range(n_parts))

    def exchange(self, pieces: list) -> dict:
        """Each partition's events from every other (rows: arrival, axon, count)."""
        return {p: np.concatenate([piece.events[:, piece.offsets[p]:piece.offsets[p + 1]]
                                   for piece in pieces], axis=1) for p in self.local}

    def total(self, values: np.ndarray) -> np.ndarray:
        return values

    def any(self, flag: bool) -> bool:
        return flag

    def to_root(self, pieces: list) -> list:
        return pieces

    def everywhere(self, ends: list) -> list:
        return ends

    def gather_traces(self, traces: dict) -> list:
        return list(traces.items())


@dataclass
class _Piece:
    """What one partition's interval gives the chip: events for other partitions and,
    with timing, its cores' work, packets and fired slots (global)."""

    part: int
    overflow: bool = False
    events: np.ndarray | None = None
    offsets: np.ndarray | None = None
    work: np.ndarray | None = None
    packets: np.ndarray | None = None
    fired: np.ndarray | None = None


@dataclass
class _Run:
    """The state of a partitioned run of ``ticks`` ticks from ``start``."""

    chip: object
    group: _Group
    transport: object
    start: int
    ticks: int
    record: tuple
    timing: object
    sessions: dict = field(default_factory=dict)
    stores: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)
    timing_pieces: list = field(default_factory=list)
    incoming: dict = field(default_factory=dict)
    pending_events: int = 0


def run_partitioned(chip, ticks: int, inputs=None, record=("spikes",), timing=None,
                    backend: str | None = None, parallel: Parallel = Parallel()) -> Recording:
    """``Chip.run`` as partitions (module docstring). ``timing``: the chip's
    ``ChipTiming`` (or its ``totals()``) or None, as ``Engine.run`` takes it."""
    engine = chip.engine
    ticks = check_ticks(ticks)
    engine._check_recording_budget(ticks, record, timing)
    if resolve_backend(backend, chip.model) != "compiled":
        raise SpecError("a partitioned run (threads or MPI ranks) uses the compiled "
                        "backend; backend='numpy' runs in one process only")
    allowed = recordable(chip.model)
    unknown = [name for name in record if name not in allowed]
    if unknown:
        raise SpecError(f"cannot record {unknown[0]!r}; choose from {allowed}")
    tick, axon, count = input_events(inputs, ticks, engine.buffer.n_axons)
    events = tick.astype(np.int64), axon.astype(np.int64), count
    if ticks == 0:  # nothing to split (and the same empty records)
        return engine.run(0, inputs, record, backend="compiled", timing=timing)
    if parallel.comm is not None:
        from .mpi_run import MpiTransport
        transport = MpiTransport(parallel.comm)
        n_parts = parallel.partitions or transport.size
    else:
        transport, n_parts = None, parallel.partitions or parallel.threads
    split = split_cores(np.diff(chip.layout.slot_start), n_parts)
    transport = transport or LocalTransport(split.n_parts)
    if parallel.comm is not None:
        transport.assign(split.n_parts)
    group = _group(chip, split, transport.local)
    interval = group.shortest if parallel.interval is None else exchange_interval(
        dict(enumerate(chip.configs)), split, parallel.interval, engine.buffer.depth)
    run = _Run(chip, group, transport, engine.t, ticks, tuple(record), timing)
    _begin(run, events)
    with _Lanes(parallel.threads, transport.local) as lanes:
        ok = _intervals(run, interval, lanes)
    if not ok:  # a strict-mode overflow: the one-process run raises it, same state
        return engine.run(ticks, inputs, record, backend="compiled", timing=timing)
    return _finish(run, events)


def _begin(run: _Run, events: tuple) -> None:
    """Each local partition's parameters, state, LFSR lanes and tick from the chip's
    engine; its input events (external and pending) into its store; its session."""
    engine, group = run.chip.engine, run.group
    pending = engine.buffer.pending(engine.t)
    run.pending_events = int(pending[2].sum())
    remote_in = np.zeros(group.split.n_parts, np.int64)
    for p in run.transport.local:
        remote_in += np.bincount(group.parts[p].remote_part, minlength=remote_in.size)
    remote_in = run.transport.total(remote_in)
    for p in run.transport.local:
        part = group.parts[p]
        sub = part.engine
        sub.params = _rows_of(engine.params, part.slot_index)
        sub._state = _rows_of(engine.state, part.slot_index)
        if sub.noise is not None:
            sub.noise.lanes[:] = engine.noise.lanes[part.slot_index]
        sub.t = engine.t
        sub.arith.counts = {name: 0 for name in sub.arith.counts}
        sub.buffer._rows = [[] for _ in range(sub.buffer.depth)]
        mine = group.axon_part[pending[1]] == p
        for tick in np.unique(pending[0][mine]):  # at most depth - 1 ticks
            now = mine & (pending[0] == tick)
            sub.buffer.schedule(int(tick), group.axon_local[pending[1][now]],
                                pending[2][now])
        mine = group.axon_part[events[1]] == p
        store = EventStore(events[0][mine] + engine.t, group.axon_local[events[1][mine]],
                           events[2][mine])
        bound = store.most_per_tick() + int(remote_in[p])
        run.stores[p] = store
        run.incoming[p] = np.zeros((3, 0), np.int64)
        run.sessions[p] = KernelSession(part, run.record, run.timing, bound, run.ticks)
        kind = {name: (bool if chip_spikes(sub) else np.int64) if name == "spikes"
                else np.int64 for name in run.record}
        run.traces[p] = {name: np.zeros((run.ticks, sub.n), kind[name])
                         for name in run.record}


def chip_spikes(engine) -> bool:
    """Whether spikes are recorded as booleans (else as counts)."""
    return engine.model.max_spikes == 1


def _rows_of(record, index: np.ndarray):
    return type(record)(**{f.name: np.asarray(getattr(record, f.name))[index]
                           for f in fields(record)})


class _Lanes:
    """The local partitions dealt over ``threads`` lanes: the first lane runs on the
    calling thread, each other on a pool thread (one hand-over per lane and interval)."""

    def __init__(self, threads: int, parts: list):
        n = max(min(threads, len(parts)), 1)
        self.lanes = [parts[i::n] for i in range(n)]
        self.pool = ThreadPoolExecutor(n - 1) if n > 1 else None

    def __enter__(self) -> "_Lanes":
        return self

    def __exit__(self, *error) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def map(self, work) -> list:
        """``work(p)`` of every partition, in partition order."""
        futures = [self.pool.submit(lambda lane=lane: [work(p) for p in lane])
                   for lane in self.lanes[1:]]
        done = [work(p) for p in self.lanes[0]]
        done += [piece for future in futures for piece in future.result()]
        return sorted(done, key=lambda piece: piece.part)


def _intervals(run: _Run, interval: int, lanes: _Lanes) -> bool:
    """Every interval: the partitions run (on their lanes), then exchange; False on a
    strict-mode overflow in any partition."""
    end = run.start + run.ticks
    for first in range(run.start, end, interval):
        ticks = min(interval, end - first)
        pieces = lanes.map(lambda p: _advance(run, p, first, ticks))
        if run.transport.any(any(piece.overflow for piece in pieces)):
            return False
        run.incoming = run.transport.exchange(pieces)
        if run.timing is not None:
            everyone = run.transport.to_root(pieces)
            if run.transport.root:
                run.timing_pieces.append(_schedule(run, everyone, ticks))
    return True


def _advance(run: _Run, p: int, first: int, ticks: int) -> _Piece:
    """Partition ``p`` runs ticks ``first .. first + ticks - 1`` (on a pool thread)."""
    part, session = run.group.parts[p], run.sessions[p]
    _ingest(session, run.incoming[p])
    in_ptr, axons, counts = run.stores[p].take(first, ticks)
    done, status, spikes, regs, work, fired, ptr = session.advance(first, ticks, in_ptr,
                                                                  axons, counts)
    if status == OVERFLOW:
        return _Piece(p, overflow=True)
    offset = first - run.start
    for name, trace in run.traces[p].items():
        trace[offset:offset + ticks] = spikes if name == "spikes" else \
            regs[session.kept.index(name)]
    events, offsets = remote_events(spikes, first, part.remote_slots, part.remote_start,
                                    part.remote_words, run.group.split.n_parts)
    piece = _Piece(p, events=events, offsets=offsets)
    if run.timing is not None:
        k = np.repeat(np.arange(ticks), np.diff(ptr))
        slots = fired[:ptr[-1]].astype(np.int64)
        counts = None if chip_spikes(part.engine) else spikes[k, slots].astype(np.int64)
        piece.work = work.copy()
        piece.packets = packets_of(part, first, first + k, slots, counts)
        piece.fired = np.stack([k, part.slot_index[slots]])
    return piece


def _ingest(session: KernelSession, events: np.ndarray) -> None:
    rows = session.rows
    ingest(events, rows.axon, rows.count, rows.length, rows.work, session.fixed.axon_rows,
           session.timing_on)


def _schedule(run: _Run, pieces: list, ticks: int) -> tuple:
    """The chip's timing of an interval from every partition's piece."""
    chip = run.chip
    n_cores, n = chip.spec.n_cores, chip.layout.n_slots
    work = np.zeros((ticks, 4, n_cores), np.int64)
    for piece in pieces:
        work[:, :, run.group.split.cores(piece.part)] = piece.work
    packets = np.concatenate([piece.packets for piece in pieces], axis=1)
    order = np.argsort(packets[0] * n_cores + packets[1], kind="stable")
    k, src, dst = packets[0][order], packets[1][order], packets[2][order]
    ptr = np.searchsorted(k, np.arange(ticks + 1)).astype(np.int64)
    phase = np.zeros((ticks, 3, n_cores), np.int64)
    links = np.zeros((ticks, 4 * n_cores), np.int64)
    cycles = np.zeros(ticks, np.int64)
    inject, arrive = np.zeros(src.size, np.int64), np.zeros(src.size, np.int64)
    mesh = chip.spec.mesh
    schedule_ticks(work, ptr, src, dst, chip.timing.table, mesh.width, mesh.height, phase,
                   links, cycles, inject, arrive)
    fired = np.concatenate([piece.fired for piece in pieces], axis=1)
    fired = fired[:, np.argsort(fired[0] * n + fired[1], kind="stable")]
    fired_ptr = np.searchsorted(fired[0], np.arange(ticks + 1)).astype(np.int64)
    return phase, work, links, cycles, ptr, (src, dst, inject, arrive), fired_ptr, fired[1]


@dataclass
class _End:
    """One partition at the end of a run: its registers (one row per state field), LFSR
    lanes, events still to come (global axons), overflow counts."""

    part: int
    state: np.ndarray
    lanes: np.ndarray
    pending: np.ndarray
    counts: np.ndarray


def _end_of(run: _Run, p: int) -> _End:
    part, session, store = run.group.parts[p], run.sessions[p], run.stores[p]
    end = run.start + run.ticks
    _ingest(session, run.incoming[p])
    run.incoming[p] = np.zeros((3, 0), np.int64)
    ticks, axons, counts = session.pending(end)
    pending = np.stack([np.concatenate([ticks, store.tick]),
                        part.axon_index[np.concatenate([axons, store.axon])],
                        np.concatenate([counts, store.count])]).astype(np.int64)
    state = np.stack([np.asarray(getattr(session.compiled.unpack_state(session.S), f.name),
                                 np.int64) for f in fields(part.engine.model.state_type)]) \
        if part.engine.n else np.zeros((len(session.kept), 0), np.int64)
    lanes = part.engine.noise.lanes.copy() if part.engine.noise is not None else \
        np.zeros(part.engine.n, np.uint64)
    return _End(p, state, lanes, pending, session.counts.copy())


def _finish(run: _Run, events: tuple) -> Recording:
    """The partitions' ends into the chip's engine (every process gets every part's),
    the recordings and timing assembled (on the root)."""
    chip, engine = run.chip, run.chip.engine
    ends = run.transport.everywhere([_end_of(run, p) for p in run.transport.local])
    state = {f.name: np.asarray(getattr(engine.state, f.name), np.int64).copy()
             for f in fields(chip.model.state_type)}
    names = list(engine.arith.registers)
    pending = []
    for end in ends:
        index = _slots_of(chip, run.group.split, end.part)
        for row, name in enumerate(state):
            state[name][index] = end.state[row]
        if engine.noise is not None:
            engine.noise.lanes[index] = np.where(engine.noise.lane_group[index] >= 0,
                                                 end.lanes, engine.noise.lanes[index])
        for name, value in zip(names, end.counts):
            engine.arith.counts[name] += int(value)
        pending.append(end.pending)
    engine._state = chip.model.state_type(**state)
    for session in run.sessions.values():
        session.counts[:] = 0
    t = run.start + run.ticks
    _replace_pending(engine, t, np.concatenate(pending, axis=1))
    engine.t = t
    traces = _traces(run)
    timing = _timing_records(run, events) if run.timing is not None and run.transport.root \
        else []
    return Recording(run.start, traces, engine.overflow_counts, timing)


def _slots_of(chip, split: Split, part: int) -> np.ndarray:
    starts = chip.layout.slot_start
    return np.concatenate([np.arange(starts[c], starts[c + 1]) for c in split.cores(part)]
                          ).astype(np.int64)


def _replace_pending(engine, now: int, pending: np.ndarray) -> None:
    """The chip's axon buffer: the events still to come, one entry per (tick, axon)."""
    n_axons = engine.buffer.n_axons
    keys = (pending[0] - now) * n_axons + pending[1]
    unique, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, weights=pending[2], minlength=unique.size).astype(np.int64)
    engine.buffer.replace_pending(now, now + unique // n_axons, unique % n_axons, counts)


def _traces(run: _Run) -> dict:
    """The recordings of every slot (those of other ranks' partitions on the root)."""
    chip = run.chip
    kinds = {name: (bool if chip_spikes(chip.engine) else np.int64) if name == "spikes"
             else np.int64 for name in run.record}
    traces = {name: np.zeros((run.ticks, chip.n), kinds[name]) for name in run.record}
    for p, local in run.transport.gather_traces(run.traces):
        index = _slots_of(chip, run.group.split, p)
        for name, trace in local.items():
            traces[name][:, index] = trace
    return traces


def _timing_records(run: _Run, events: tuple) -> list:
    """Per-tick ``TickTiming`` (or ``TickTotals``) from the intervals' schedules, in the
    record types the compiled backend uses."""
    chip, timing = run.chip, run.timing
    pieces = run.timing_pieces
    phase, work, links, cycles = (np.concatenate([piece[i] for piece in pieces])
                                  for i in range(4))
    ptr = _joined_bounds([piece[4] for piece in pieces])
    fired_ptr = _joined_bounds([piece[6] for piece in pieces])
    types = _packet_record_types(chip.engine, timing, run.pending_events, events[2])
    if timing.packets:
        packets = tuple(np.concatenate([piece[5][i] for piece in pieces]).astype(types[i])
                        for i in range(4))
        return timing.from_arrays((phase, work, links, cycles, ptr, packets))
    fired_type = np.int32 if chip.n <= 1 << 31 else np.int64
    fired = np.concatenate([piece[7] for piece in pieces]).astype(fired_type)
    return timing.from_arrays((phase, work, links, cycles, fired_ptr, fired))


def _joined_bounds(bounds: list) -> np.ndarray:
    """Per-interval bounds (each from 0) as one run's."""
    joined, offset = [np.zeros(1, np.int64)], 0
    for b in bounds:
        joined.append(b[1:] + offset)
        offset += int(b[-1])
    return np.concatenate(joined)


def run_own_partition(spec, model, configs: dict, slots_per_core, axons_per_core, state,
                      ticks: int, comm, record=("spikes",)) -> tuple[dict, dict]:
    """This rank's partition of a chip that no rank holds whole: ``configs`` are this
    rank's cores only (rank ``r`` has the ``r``-th of ``comm.size`` contiguous blocks
    of ``split_cores(slots_per_core, comm.size)``), ``state`` their registers. Runs
    ``ticks`` ticks from tick 0 with no external input and no timing; returns this
    partition's traces and the chip's overflow counts (summed over the ranks).
    Memory per rank: its own cores' tables and state (docs/scale-out.md)."""
    from .mpi_run import MpiTransport

    transport = MpiTransport(comm)
    split = split_cores(slots_per_core, transport.size)
    rank = transport.rank
    slot_start = np.concatenate([[0], np.cumsum(slots_per_core)]).astype(np.int64)
    axon_start = np.concatenate([[0], np.cumsum(axons_per_core)]).astype(np.int64)
    part = build_part(spec.core, model, configs, slot_start, axon_start, split, rank)
    part.engine.state = state
    shortest = int(part.remote_delay.min()) if part.remote_delay.size else 1 << 30
    shortest = -int(transport.total_max(np.array([-shortest], np.int64))[0])
    group = _Group(split, {rank: part}, np.zeros(0, np.int64), np.zeros(0, np.int64),
                   max(min(shortest, ticks), 1))
    run = _Run(None, group, transport, 0, ticks, tuple(record), None)
    remote_in = transport.total(np.bincount(part.remote_part, minlength=split.n_parts))
    run.stores[rank] = EventStore()
    run.incoming[rank] = np.zeros((3, 0), np.int64)
    run.sessions[rank] = KernelSession(part, run.record, None, int(remote_in[rank]), ticks)
    kind = bool if chip_spikes(part.engine) else np.int64
    run.traces[rank] = {name: np.zeros((ticks, part.engine.n), kind if name == "spikes"
                                       else np.int64) for name in run.record}
    with _Lanes(1, [rank]) as lanes:
        if not _intervals(run, group.shortest, lanes):
            raise SpecError("strict-mode overflow in a partition (run_own_partition does "
                            "not locate it: use overflow_check='count')")
    session = run.sessions[rank]
    _ingest(session, run.incoming[rank])
    session.store(ticks)
    names = list(part.engine.arith.registers)
    counts = transport.total(np.array([part.engine.arith.counts[n] for n in names],
                                      np.int64))
    return run.traces[rank], dict(zip(names, (int(c) for c in counts)))
