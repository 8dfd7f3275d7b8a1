"""One partition's engine packed once for ``tick_kernel.run_kernel`` and run one
exchange interval at a time (docs/scale-out.md).

``compiled.run_compiled`` packs an engine, runs all its ticks in one call and stores
the results back; a partition needs the same kernel resumed after every exchange, with
the events from other partitions joining as input events. ``KernelSession`` keeps the
packed arrays (state, axon-buffer rows, LFSR lanes, overflow counts) between calls:
the kernel leaves the state in ``S`` after every call, the rows hold the events still
to arrive, the lanes and counts advance in place. It always records spikes (of the
interval: the exchange reads the fired slots from them), and with timing it keeps
``timing="totals"``'s per-core work and fired slots; the kernel's own link schedule of
the partition's packets is scratch (the chip's schedule is made from every
partition's packets, ``exchange.schedule_ticks``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .compiled import EventRows, _packet_record_types, fixed_tables
from .spec import SpecError
from .tick_kernel import OVERFLOW, PACKETS_FULL, STEPS, run_kernel
from .timing import Mesh


@dataclass(frozen=True)
class _LocalTiming:
    """What ``compiled._packet_record_types`` reads of a timing: the partition's cores
    as a one-row mesh (its packets' schedule there is scratch)."""

    spec: object
    mesh: Mesh
    row_length: np.ndarray
    n_cores: int


@dataclass(frozen=True)
class _Spec:
    timing: object


class KernelSession:
    """``part.engine`` packed for the kernel; ``advance`` runs ticks, ``store`` writes the
    state, LFSR lanes and overflow counts back into the engine (module docstring).

    ``record``: register names to record besides spikes; ``timing``: the chip's
    ``ChipTiming`` (its cycle table) or None; ``input_bound``: the most input events
    one tick can bring (external, carried over and from other partitions).
    """

    def __init__(self, part, record: tuple[str, ...], timing, input_bound: int, ticks: int):
        engine = self.engine = part.engine
        compiled = self.compiled = engine.model.compiled
        if compiled is None or compiled.step not in STEPS:
            raise SpecError(f"a partitioned run uses the compiled engine, which runs the "
                            f"reference LIF, Loihi and Xylo programs; model "
                            f"{engine.model.name!r} runs on numpy only")
        self.fixed = fixed = fixed_tables(engine)
        self.names = list(engine.arith.registers)
        self.kept = [f.name for f in fields(engine.model.state_type)]
        self.counts = np.zeros(len(self.names), np.int64)
        self.error = np.full(3, -1, np.int64)
        self.P = compiled.pack_params(engine.params)
        self.S = compiled.pack_state(engine.state, fixed.state_type)
        self.S_new = self.S.copy()
        self.record_flags = np.array([True] + [name in record for name in self.kept])
        self.timing_on = timing is not None
        n_local = engine.layout.core_ids.size
        self.rows = EventRows(engine.buffer, engine.entry_axon.size, input_bound, fixed,
                              n_local if self.timing_on else 0)
        noise = engine.noise
        self.lfsr = (noise.lanes, noise.lane_group, noise.tables) if noise is not None else \
            (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros((0, 4, 256), np.uint64))
        spec = engine.spec
        self.modes = (spec.overflow == "wrap",
                      ("floor", "nearest", "zero").index(spec.rounding),
                      ("off", "count", "strict").index(spec.overflow_check))
        self.max_packets = engine.entry_axon.size * engine.model.max_spikes
        self.spike_type = bool if engine.model.max_spikes == 1 else np.int64
        self._timing_arrays(timing, n_local, input_bound, ticks)
        self._scratch: dict[int, tuple] = {}

    def _timing_arrays(self, timing, n_local: int, input_bound: int, ticks: int) -> None:
        engine = self.engine
        empty = np.zeros(0, np.int64)
        fired_type = np.int32 if engine.n <= 1 << 31 else np.int64
        if timing is None:
            self.static = (np.zeros(8, np.int64), empty, np.zeros(2, np.int64), 1, 1, 1,
                           empty)
            self.packets = [np.empty(0, t) for t in (np.int32,) * 4]
            self.fired_type = fired_type
            return
        mesh = Mesh(max(n_local, 1), 1)
        local = _LocalTiming(_Spec(timing.spec.timing), mesh,
                             np.diff(engine.synapses.row_start), n_local)
        types = _packet_record_types(engine, local, 0,
                                     np.array([input_bound * max(ticks, 1)]))
        self.static = (timing.table, engine.layout.slot_core, engine.layout.slot_start,
                       n_local, mesh.width, 1, engine.entry_core)
        self.packets = [np.empty(max(self.max_packets, 1), t) for t in types]
        self.fired_type = fired_type

    def _arrays(self, ticks: int) -> tuple:
        """Per-interval records (reused: every call writes all of them)."""
        if ticks not in self._scratch:
            n, n_local = self.engine.n, self.engine.layout.core_ids.size
            kept = ticks if self.timing_on else 0
            cores = n_local if self.timing_on else 1
            regs = (len(self.kept), ticks, n) if self.record_flags[1:].any() else \
                (len(self.kept), 0, 0)
            self._scratch[ticks] = (
                np.zeros((ticks, n), self.spike_type), np.zeros(regs, np.int64),
                np.zeros((kept, 3, cores), np.int64), np.zeros((kept, 4, cores), np.int64),
                np.zeros((kept, 4 * cores), np.int64), np.zeros(kept, np.int64),
                np.zeros(ticks + 1, np.int64),
                np.empty(ticks * n if self.timing_on else 0, self.fired_type))
        return self._scratch[ticks]

    def advance(self, t0: int, ticks: int, in_ptr, in_axon, in_count) -> tuple:
        """Run ticks ``t0 .. t0 + ticks - 1`` with these input events (``in_ptr``: one
        bound per tick and one more). Returns (ticks done, status, spikes, registers,
        per-core work, fired slots, fired bounds); the records are this call's and are
        overwritten by the next."""
        spikes, regs, phase, work, links, cycles, ptr, fired = self._arrays(ticks)
        ptr[0] = 0
        capacity = fired.size
        done, status = run_kernel(
            t0, ticks, in_ptr, in_axon, in_count, self.rows.axon, self.rows.count,
            self.rows.length, self.rows.work, self.fixed.axon_rows, self.fixed.syn_words,
            self.engine.entry_start, self.fixed.entry_words, self.fixed.entry_ops,
            STEPS.index(self.compiled.step), self.engine.noise is not None, *self.lfsr,
            self.P, self.S, self.S_new, self.fixed.lo, self.fixed.hi, self.fixed.bits,
            self.fixed.signed, *self.modes, self.counts, self.error, self.record_flags,
            spikes, regs, self.timing_on, *self.static, phase, work, links, cycles, ptr,
            *self.packets, capacity, self.max_packets, False, fired)
        if status == PACKETS_FULL:  # cannot happen: a tick fires at most every slot
            raise AssertionError("partition kernel: fired-slot record full")
        return done, status, spikes, regs, work, fired, ptr

    @property
    def overflowed(self) -> bool:
        return self.error[0] >= 0

    def pending(self, now: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events in the rows (local routes), as ``(tick, local axon, count)``."""
        rows = self.rows
        depth = rows.length.size
        full = np.flatnonzero(rows.length)
        ticks = now + (full - now) % depth
        lengths = rows.length[full]
        axons = np.concatenate([rows.axon[r, :rows.length[r]] for r in full]) \
            if full.size else np.zeros(0, np.int64)
        counts = np.concatenate([rows.count[r, :rows.length[r]] for r in full]) \
            if full.size else np.zeros(0, np.int64)
        return np.repeat(ticks, lengths), axons.astype(np.int64), counts.astype(np.int64)

    def store(self, ticks_done: int) -> None:
        """The state, lanes (in place already), overflow counts and tick back into the
        engine."""
        engine = self.engine
        engine._state = self.compiled.unpack_state(self.S)
        for name, value in zip(self.names, self.counts):
            engine.arith.counts[name] += int(value)
        self.counts[:] = 0
        engine.t += ticks_done
