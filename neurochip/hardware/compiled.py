"""The compiled backend's driver: an engine's arrays packed for ``tick_kernel.run_kernel``,
the kernel called (and resumed when its packet record fills), the results stored back.

Recordings and timing go to preallocated arrays. ``tests/test_backends.py`` checks every
register, spike and cycle against the numpy backend (``tests/test_compiled_xylo.py`` for
the Xylo dialect, whose in-order saturating delivery into two currents and spike counts
the kernel runs as a delivery of its own).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from firmware_models.lif.compiled import holding

from .fixed import RegisterOverflowError, register_range
from .spec import SpecError
from .tick_kernel import OVERFLOW, PACKETS_FULL, STEPS, fcfs_packets, run_kernel


class EventRows:
    """The axon buffer as the compiled kernel keeps it: ``axon[r, :length[r]]`` are the
    events arriving on the next tick ``t`` with ``t mod depth = r`` (``count`` events on
    each: one for a routed event, the given count for an input event).

    ``work[r]`` is the work of row ``r``'s events per destination core (row fetches and
    synaptic operations), counted as they join the row; kept only with ``n_cores``
    (timing on), from ``fixed``.

    A tick's input events join its row when the tick begins, so a row never holds more
    than its pending events, the most input events of one tick, and one event per
    routing entry (an entry's slot fires at most once a tick and its delay is fixed, so
    at most one of its events arrives on any one tick). Rows are filled in order: a
    tick's events are read from one stretch of memory, and the pages of a row past what
    it has held are never touched.
    """

    def __init__(self, buffer, n_entries: int, inputs_per_tick: int,
                 fixed: FixedTables | None, n_cores: int = 0):
        pending = [np.concatenate(row) if row else np.zeros(0, np.int64)
                   for row in buffer._rows]
        capacity = max(n_entries + max(p.size for p in pending) + inputs_per_tick, 1)
        self.axon = np.empty((buffer.depth, capacity),
                             np.int32 if buffer.n_axons <= 1 << 31 else np.int64)
        self.count = np.empty((buffer.depth, capacity), np.int64)
        self.length = np.array([p.size for p in pending], np.int64)
        self.pending = int(self.length.sum())  # events now, before a run
        self.work = np.zeros((buffer.depth, 2, n_cores), np.int64)
        for row, events in enumerate(pending):
            self.axon[row, :events.size] = events
            self.count[row, :events.size] = 1
            if n_cores:
                core, length = fixed.axon_rows[events, 2], fixed.axon_rows[events, 1]
                self.work[row, 0] = np.bincount(core, minlength=n_cores)
                self.work[row, 1] = np.bincount(core, weights=length, minlength=n_cores)

    def store_into(self, buffer) -> None:
        buffer._rows = [[] for _ in range(buffer.depth)]
        for row in np.flatnonzero(self.length):
            length = self.length[row]
            buffer._rows[row] = [np.repeat(self.axon[row, :length].astype(np.int64),
                                           self.count[row, :length])]


def _packet_record_types(engine, timing, pending: int, input_count) -> tuple:
    """Types of the packet records (source, destination, injection, arrival): the
    narrowest that provably hold every value, since fresh pages are most of their cost.

    Cycles of a tick are bounded by its work: at most ``E`` events arrive in one tick (the
    events pending now, every input event of the run, and one per routing entry, whose
    delay is fixed), each a row fetch and at most ``L`` synaptic ops; every slot is
    updated; every entry sends at most one packet, and a packet waits on each of its at
    most ``W + H - 2`` links for at most every other packet before taking ``hop`` cycles.
    """
    if timing is None:
        return (np.int32,) * 4
    table, mesh = timing.spec.timing, timing.mesh
    packets = engine.entry_axon.size * engine.model.max_spikes
    events = pending + int(input_count.sum()) + packets
    longest = int(timing.row_length.max(initial=0))
    bound = (events * (table.row_fetch + table.synop * longest)
             + engine.n * max(table.neuron_active, table.neuron_idle)
             + packets * (table.route_lookup + table.inject)
             + (mesh.width + mesh.height) * (packets + max(table.hop_x, table.hop_y)))
    cores = np.int16 if timing.n_cores <= np.iinfo(np.int16).max else np.int32
    cycles = np.int32 if bound <= np.iinfo(np.int32).max else np.int64
    return cores, cores, cycles, cycles


@dataclass(frozen=True)
class FixedTables:
    """What the kernel reads of an engine that never changes after it is built: register
    ranges, ``axon_rows`` (each axon's row offset, row length and core, side by side so
    that one read brings all three), the routing entries as words (axon in the low 32
    bits, delay in the high 32) and the synaptic operations of each entry's row.
    ``syn_words`` are the synapse words the kernel reads, each an index and a weight:
    the index is the word's slot, or for an in-order model (``accumulation=
    "sequential"``) ``target * n + slot`` (the index of the word's current in the
    kernel's ``acc``). Narrow when they fit (``slot_bits > 0``): one int32 per word,
    ``index = word & (2^slot_bits - 1)`` and ``weight = word >> slot_bits`` (arithmetic),
    held in an int64 array (half the memory to stream per event); else
    ``DeliveryTable.words64`` (index in the low 32 bits, weight in the high 32).
    ``axon_rows`` has one row more than there are axons: ``(slot_bits, 0, 0)``, the
    format of the words, for the kernel."""

    lo: np.ndarray
    hi: np.ndarray
    bits: np.ndarray
    signed: np.ndarray
    state_type: type
    axon_rows: np.ndarray
    entry_words: np.ndarray
    entry_ops: np.ndarray
    syn_words: np.ndarray
    slot_bits: int


_FIXED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fixed_tables(engine) -> FixedTables:
    """The engine's ``FixedTables``, built on its first compiled run (a run of few ticks
    would otherwise spend most of its time building them)."""
    if engine not in _FIXED:
        formats = list(engine.arith.registers.values())
        lo, hi = (np.array(bound) for bound in zip(*map(register_range, formats)))
        table = engine.delivery
        syn_words, slot_bits = _synapse_words(engine)
        axon_rows = np.stack([table.offset, table.length, engine.layout.axon_core], axis=1)
        _FIXED[engine] = FixedTables(
            lo, hi, np.array([f.bits for f in formats]), np.array([f.signed for f in formats]),
            holding(int(lo.min()), int(hi.max())),
            np.concatenate([axon_rows, [[slot_bits, 0, 0]]]).astype(np.int64),
            engine.entry_axon.astype(np.int64) | (engine.entry_delay.astype(np.int64) << 32),
            table.length[engine.entry_axon], syn_words, slot_bits)
    return _FIXED[engine]


def _synapse_words(engine) -> tuple[np.ndarray, int]:
    """``FixedTables.syn_words`` and ``slot_bits`` (0: the wide words)."""
    table = engine.delivery
    sequential = engine.model.accumulation == "sequential"
    if table.slot.size == 0:
        return table.words64, 0
    most_index = int(table.slot.max()) + (int(table.target.max()) * engine.n if sequential
                                          else 0)
    slot_bits = max(most_index.bit_length(), 1)
    weight_room = 1 << (31 - slot_bits)  # the weights then fit the word's high bits
    if -weight_room <= int(table.weight.min()) and int(table.weight.max()) < weight_room:
        narrow = np.zeros((table.slot.size + 1) // 2, np.int64)
        _pack_narrow(table.slot, table.weight, table.target, engine.n if sequential else 0,
                     slot_bits, narrow.view(np.int32))
        return narrow, slot_bits
    if not sequential:
        return table.words64, 0
    index = table.target.astype(np.int64) * engine.n + table.slot.astype(np.int64)
    return index | (table.weight.astype(np.int64) << 32), 0


@njit(cache=True)
def _pack_narrow(slot, weight, target, n_slots, slot_bits, out):
    """``out[w] = (weight << slot_bits) | (target * n_slots + slot)``, one pass (no
    word-sized temporaries: a core may hold 10^8 words)."""
    for w in range(slot.size):
        index = np.int64(target[w]) * n_slots + np.int64(slot[w])
        out[w] = np.int32((np.int64(weight[w]) << slot_bits) | index)


def run_compiled(engine, ticks: int, input_ptr, input_axon, input_count, record, timing):
    """Run ``ticks`` ticks of ``engine`` in compiled code.

    Returns (traces dict, list of per-tick timing arrays or None); updates the engine's
    state, buffer, LFSR lanes, overflow counts and tick. ``timing`` is a
    ``chip.ChipTiming`` or None.
    """
    compiled = engine.model.compiled
    if compiled is None or compiled.step not in STEPS:
        raise SpecError(f"the compiled engine runs the reference LIF, Loihi and Xylo programs; "
                        f"model {engine.model.name!r} needs backend='numpy'")
    spec = engine.spec
    fixed = fixed_tables(engine)
    names = list(engine.arith.registers)
    kept = [f.name for f in fields(engine.model.state_type)]  # the rows of S
    counts = np.zeros(len(names), dtype=np.int64)
    error = np.full(3, -1, dtype=np.int64)
    P = compiled.pack_params(engine.params)
    S = compiled.pack_state(engine.state, fixed.state_type)
    S_new = S.copy()
    record_flags = np.array(["spikes" in record] + [name in record for name in kept])
    rec_spikes = np.zeros((ticks, engine.n) if record_flags[0] else (0, 0),
                          dtype=bool if engine.model.max_spikes == 1 else np.int64)
    rec_regs = np.zeros((len(kept), ticks, engine.n) if record_flags[1:].any()
                        else (len(kept), 0, 0), dtype=np.int64)
    max_packets = engine.entry_axon.size * engine.model.max_spikes  # packets of a tick
    rows = EventRows(engine.buffer, engine.entry_axon.size,
                     int(np.diff(input_ptr).max(initial=0)), fixed,
                     timing.n_cores if timing is not None else 0)
    record_of_timing = _TimingRecord(engine, timing, ticks, rows.pending, input_count)
    noise = engine.noise
    lfsr = (noise.lanes, noise.lane_group, noise.tables) if noise is not None else \
        (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros((0, 4, 256), np.uint64))
    modes = (spec.overflow == "wrap", ("floor", "nearest", "zero").index(spec.rounding),
             ("off", "count", "strict").index(spec.overflow_check))

    done = 0
    while True:
        tr = record_of_timing
        k, status = run_kernel(
            engine.t + done, ticks - done, input_ptr[done:], input_axon,
            input_count, rows.axon, rows.count, rows.length, rows.work,
            fixed.axon_rows, fixed.syn_words, engine.entry_start, fixed.entry_words,
            fixed.entry_ops, STEPS.index(compiled.step), noise is not None, *lfsr,
            P, S, S_new, fixed.lo, fixed.hi, fixed.bits, fixed.signed, *modes, counts, error,
            record_flags, rec_spikes[done:], rec_regs[:, done:], timing is not None,
            *tr.static, tr.phase[done:], tr.work[done:], tr.links[done:], tr.cycles[done:],
            tr.packet_ptr[done:], *tr.packets, tr.capacity, max_packets, tr.keep_packets,
            tr.fired)
        done += k
        if status != PACKETS_FULL:
            break
        record_of_timing.grow()

    engine.t += done
    engine._state = compiled.unpack_state(S)  # in range by construction, as numpy's tick
    rows.store_into(engine.buffer)
    for name, value in zip(names, counts):
        engine.arith.counts[name] += int(value)
    if status == OVERFLOW:
        _raise_overflow(engine, compiled, names, error)
    traces = {name: rec_spikes if name == "spikes" else rec_regs[kept.index(name)]
              for name in record}
    return traces, record_of_timing.result() if timing is not None else None


class _TimingRecord:
    """The kernel's timing outputs for a run: per-tick phases, work, link loads and
    cycles, and the packet records (source, destination, injection, arrival cycle); or,
    when ``timing.packets`` is false, the slots fired at each tick instead of the packet
    records (one tick's packets are then scratch that stays in the caches)."""

    def __init__(self, engine, timing, ticks: int, pending: int, input_count):
        on = timing is not None
        n_cores = timing.n_cores if on else 1
        max_packets = engine.entry_axon.size * engine.model.max_spikes
        self.keep_packets = bool(on and timing.packets)
        # records: np.empty pages cost nothing until written, so start generous
        per_tick = max_packets if self.keep_packets else engine.n
        self.capacity = min(max(ticks * per_tick, 1), 1 << 23) if on else 0
        kept = ticks if on else 0
        self.phase = np.zeros((kept, 3, n_cores), np.int64)
        self.work = np.zeros((kept, 4, n_cores), np.int64)
        self.links = np.zeros((kept, 4 * n_cores), np.int64)
        self.cycles = np.zeros(kept, np.int64)
        self.packet_ptr = np.zeros(ticks + 1, np.int64)
        scratch = self.capacity if self.keep_packets else max(max_packets, 1) if on else 0
        self.packets = [np.empty(scratch, dtype) for dtype in
                        _packet_record_types(engine, timing, pending, input_count)]
        self.fired = np.empty(0 if self.keep_packets or not on else self.capacity,
                              np.int32 if engine.n <= 1 << 31 else np.int64)
        empty = np.zeros(0, np.int64)
        self.static = (timing.table, timing.slot_core, engine.layout.slot_start, n_cores,
                       timing.mesh.width, timing.mesh.height, timing.entry_dst) if on else \
            (np.zeros(8, np.int64), empty, np.zeros(2, np.int64), 1, 1, 1, empty)

    def grow(self) -> None:
        self.capacity *= 2
        kept = self.packets if self.keep_packets else [self.fired]
        grown = [np.empty(self.capacity, a.dtype) for a in kept]
        for new, old in zip(grown, kept):
            new[:old.size] = old
        if self.keep_packets:
            self.packets = grown
        else:
            self.fired = grown[0]

    def result(self) -> tuple:
        return (self.phase, self.work, self.links, self.cycles, self.packet_ptr,
                self.packets if self.keep_packets else self.fired)


def _raise_overflow(engine, compiled, names: list[str], error: np.ndarray):
    """The strict-mode overflow the kernel stopped on, named as the numpy tick names it."""
    phase, slot, value = (int(x) for x in error)
    name = names[compiled.phase_register[phase]]
    fmt = engine.arith.registers[name]
    core, local = engine.layout.locate(slot)
    raise RegisterOverflowError(core, local, name, engine.t, value, fmt.bits, fmt.signed,
                                register_range(fmt))


def kernel_cached() -> bool:
    """Whether numba's disk cache holds a compiled ``run_kernel`` (else the first run of
    the process compiles it, about 15 s). Without a writable cache: whether this process
    has compiled it already."""
    if run_kernel.signatures:
        return True
    from pathlib import Path

    try:
        cache_dir = Path(run_kernel._cache._cache_path)
    except AttributeError:
        return False
    return any(cache_dir.glob("tick_kernel.run_kernel-*.nbi"))


def _drop_stale_kernel_cache() -> None:
    """numba's disk cache keys ``run_kernel`` on this file only, yet the kernel has the
    firmware models' compiled steps built in: when a step's source changes, the cached
    kernel is stale. Keep a digest of the steps' modules beside the cache and drop the
    kernel's cache files when the digest changes."""
    import hashlib
    import sys
    from pathlib import Path

    try:
        cache_dir = Path(run_kernel._cache._cache_path)
        digest = hashlib.sha256(b"".join(
            Path(sys.modules[step.py_func.__module__].__file__).read_bytes()
            for step in (*STEPS, fcfs_packets))).hexdigest()  # and the link schedule
        stamp = cache_dir / "tick_kernel.run_kernel.depends"
        if stamp.exists() and stamp.read_text() == digest:
            return
        for stale in cache_dir.glob("tick_kernel.run_kernel-*.nb[ic]"):
            stale.unlink()
        stamp.write_text(digest)
    except (OSError, AttributeError):  # no writable cache: numba compiles in memory
        pass


_drop_stale_kernel_cache()
