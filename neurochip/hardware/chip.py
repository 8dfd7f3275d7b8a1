"""A chip: a W×H mesh of cores with routing tables, delays and cycle-accurate timing.

Core ``c`` sits at ``(x, y) = (c % W, c // W)``. Each core holds what one core can
(``CoreConfig``: neuron parameters, synapse memory, routing table, LFSR seed), checked
against the chip's ``CoreSpec`` when the chip is built. A routing entry names a
destination ``(core, axon, delay)``: a spike fired at tick ``t`` is one event on that
axon of that core at tick ``t + delay``, wherever the core is.

All cores tick together in one ``Engine`` (no per-core Python loop); with timing on,
each tick's ``Activity`` goes through ``timing.tick_timing`` and the chip reports, per
tick, the cycle each core ends each phase and each packet's injection and arrival.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from firmware_models.base import FirmwareModel
from firmware_models import MODELS

from .checkpoint import Checkpoint, capture, restore
from .validation import DEFAULT_LFSR_SEED, validate_core
from .engine import Activity, Engine, Layout, Recording, concatenate_records
from .routing import RoutingTable
from .spec import CoreSpec, SpecError
from .synapses import SynapseMemory, row_words
from .timing import Mesh, TickTiming, TickTotals, TimingTable, packet_cycles, tick_timing


@dataclass(frozen=True)
class ChipSpec:
    """Mesh size, the CoreSpec every core shares, the timing table and the clock."""

    width: int = 2
    height: int = 2
    core: CoreSpec = field(default_factory=CoreSpec)
    timing: TimingTable = field(default_factory=TimingTable)
    clock_hz: float = 100e6

    def __post_init__(self):
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SpecError(f"ChipSpec.{name} must be a positive integer, got {value!r}")
        if not self.clock_hz > 0:
            raise SpecError(f"ChipSpec.clock_hz must be positive, got {self.clock_hz!r}")

    @property
    def mesh(self) -> Mesh:
        return Mesh(self.width, self.height)

    @property
    def n_cores(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class CoreConfig:
    """What one core holds: its image."""

    params: object
    synapses: SynapseMemory | None = None
    routes: RoutingTable | None = None
    lfsr_seed: int = DEFAULT_LFSR_SEED


class Chip:
    """A mesh of cores ticking together; see the module docstring."""

    def __init__(self, spec: ChipSpec, cores: dict[int, CoreConfig] | Sequence[CoreConfig | None],
                 *, model: FirmwareModel | None = None):
        model = model if model is not None else MODELS[spec.core.dialect]
        n_cores = spec.n_cores
        if not isinstance(cores, dict):
            cores = dict(enumerate(cores))
        outside = [c for c in cores if isinstance(c, (bool, np.bool_))
                   or not (isinstance(c, (int, np.integer)) and 0 <= c < n_cores)]
        if outside:
            raise SpecError(f"core {outside[0]!r} is not on the {spec.width}×{spec.height} "
                            f"mesh (cores 0..{n_cores - 1})")
        empty = CoreConfig(model.params_type.make(0) if hasattr(model.params_type, "make")
                           else None)
        configs = [cores.get(c) or empty for c in range(n_cores)]
        synapses, routes = [], []
        for c, config in enumerate(configs):
            syn = config.synapses if config.synapses is not None \
                else SynapseMemory.empty(0)
            rt = config.routes if config.routes is not None \
                else RoutingTable.empty(config.params.n)
            validate_core(spec.core, model, config.params, syn, rt, c, n_cores)
            synapses.append(syn)
            routes.append(rt)
        n_axons = np.array([s.n_axons for s in synapses])
        for c, rt in enumerate(routes):
            beyond = np.flatnonzero(rt.axon >= n_axons[rt.core]) if rt.entries else []
            if len(beyond):
                entry = int(beyond[0])
                slot = int(np.searchsorted(rt.route_start, entry, "right") - 1)
                raise SpecError(
                    f"core {c}, slot {slot} entry {entry - int(rt.route_start[slot])}: axon "
                    f"{int(rt.axon[entry])} on core {int(rt.core[entry])}, which has "
                    f"{int(n_axons[rt.core[entry]])} axons in its synapse memory")

        self.spec, self.model = spec, model
        self.configs = tuple(CoreConfig(c.params, syn, rt, c.lfsr_seed)
                             for c, syn, rt in zip(configs, synapses, routes))
        self.layout = Layout.of([c.params.n for c in configs], n_axons)
        layout = self.layout
        params = concatenate_records([c.params for c in configs], model.params_type)
        global_synapses = SynapseMemory(
            row_start=np.concatenate([[0], np.cumsum(np.concatenate(
                [np.diff(s.row_start) for s in synapses]))]).astype(np.int64),
            slot=np.concatenate([s.slot + layout.slot_start[c] for c, s in enumerate(synapses)]),
            w=np.concatenate([s.w for s in synapses]),
            w_exp=np.concatenate([s.w_exp for s in synapses]),
            target=None if all(s.target is None for s in synapses)
            else np.concatenate([s.targets_of_words() for s in synapses]))
        entry_start = np.concatenate([[0], np.cumsum(np.concatenate(
            [np.diff(r.route_start) for r in routes]))]).astype(np.int64)
        entry_core = np.concatenate([r.core for r in routes]).astype(np.int64)
        entry_axon = np.concatenate([r.axon for r in routes]).astype(np.int64) \
            + layout.axon_start[entry_core]
        entry_delay = np.concatenate([r.delay for r in routes]).astype(np.int64)
        self.engine = Engine(spec.core, model, params, global_synapses, entry_start,
                             entry_axon, entry_delay, entry_core, layout,
                             [c.lfsr_seed for c in configs], name="chip")
        self.timing = ChipTiming(spec, model, self.engine, global_synapses)
        self.timing_enabled = True
        self.parallel = None  # a partitioned.Parallel: how run() splits the chip by default

    # ----------------------------------------------------------------- addressing
    @property
    def n(self) -> int:
        return self.layout.n_slots

    @property
    def t(self) -> int:
        return self.engine.t

    def slot_index(self, core: int, slot) -> np.ndarray:
        """Global index (in recordings and state) of ``slot`` on ``core``."""
        return self.layout.slot_start[core] + np.asarray(slot)

    def axon_index(self, core: int, axon) -> np.ndarray:
        """Global axon index (columns of ``inputs``) of ``axon`` on ``core``."""
        return self.layout.axon_start[core] + np.asarray(axon)

    @property
    def state(self):
        return self.engine.state

    @state.setter
    def state(self, value) -> None:
        self.engine.state = value

    @property
    def overflow_counts(self) -> dict[str, int]:
        return self.engine.overflow_counts

    def checkpoint(self, **meta: str) -> Checkpoint:
        """The chip's complete state now: registers, tick, pending events, LFSR lanes,
        overflow counts (``hardware.checkpoint``; ``meta``: free text kept with it)."""
        return capture(self.engine, self.spec, "Chip", meta)

    def restore(self, checkpoint: Checkpoint | str | os.PathLike) -> None:
        """Continue from ``checkpoint`` (or the checkpoint file at that path), which must
        come from a chip of this configuration: refused otherwise, naming what differs."""
        restore(self.engine, checkpoint, self.spec, "Chip")

    # ----------------------------------------------------------------- running
    def inject(self, core: int, axons, tick: int, counts=1) -> None:
        """External events on ``axons`` of ``core`` arriving at absolute ``tick``."""
        if isinstance(core, (bool, np.bool_)) or not isinstance(core, (int, np.integer)) \
                or not 0 <= core < self.spec.n_cores:
            raise SpecError(f"core {core!r} is not on the {self.spec.width}×"
                            f"{self.spec.height} mesh (cores 0..{self.spec.n_cores - 1})")
        axons = np.asarray(axons, dtype=np.int64)
        limit = self.layout.axon_start[core + 1] - self.layout.axon_start[core]
        bad = axons[(axons < 0) | (axons >= limit)]
        if bad.size:
            raise SpecError(f"core {core}: axon {int(bad[0])} outside 0..{limit - 1}")
        self.engine.inject(self.axon_index(core, axons), tick, counts, where=f"core {core}")

    def tick(self) -> tuple[np.ndarray, TickTiming | None]:
        """One tick; returns the fired mask (all slots) and its timing (or None)."""
        activity = self.engine.tick()
        return activity.fired, self.timing.of(activity) if self.timing_enabled else None

    def run(self, ticks: int, inputs: np.ndarray | None = None,
            record: tuple[str, ...] = ("spikes",), timing: bool | str = True,
            backend: str | None = None, threads: int | None = None,
            partitions=None) -> Recording:
        """Run ``ticks`` ticks; ``inputs`` (ticks × global axons) are event counts.

        ``timing``: ``True`` or ``"packets"``: ``Recording.timing`` holds one
        ``TickTiming`` per tick, with every packet's record; ``"totals"``: one
        ``TickTotals`` per tick (the same per-core and per-link counts and cycles, the
        packet records worked out only when asked for: much faster); ``False``: none.
        ``backend``: ``"compiled"`` (numba, default when installed) or ``"numpy"``.
        ``threads``/``partitions``: the cores run as ``partitions`` (a number, default
        ``threads``; or one list of cores per partition) on ``threads`` threads, with the
        same results (``hardware.partitioned``, docs/scale-out.md); by default as
        ``self.parallel`` says (one process, or what ``neurochip run`` chose).
        """
        if timing not in (True, False, "packets", "totals"):
            raise SpecError(f"timing must be True, False, 'packets' or 'totals', "
                            f"got {timing!r}")
        chosen = None if timing is False else \
            self.timing if timing != "totals" else self.timing.totals()
        parallel = self.parallel
        if threads is not None or partitions is not None:
            from .partitioned import Parallel
            parallel = Parallel(threads or 1, partitions)
        if parallel is not None and not parallel.one_process:
            from .partitioned import run_partitioned
            return run_partitioned(self, ticks, inputs, record, chosen, backend, parallel)
        return self.engine.run(ticks, inputs, record, backend=backend, timing=chosen)


class ChipTiming:
    """What the timing model needs to know about a chip, for both backends.

    The hops of every routing entry never change, so they are found once here.
    """

    def __init__(self, spec: ChipSpec, model: FirmwareModel, engine: Engine,
                 synapses: SynapseMemory):
        layout = engine.layout
        self.spec, self.model, self.engine = spec, model, engine
        self.mesh = spec.mesh
        self.n_cores = spec.n_cores
        t = spec.timing
        self.table = np.array([t.row_fetch, t.synop, t.neuron_active, t.neuron_idle,
                               t.route_lookup, t.inject, t.hop_x, t.hop_y], dtype=np.int64)
        self.slot_core = layout.slot_core
        self.axon_core = layout.axon_core
        self.row_length = np.diff(synapses.row_start)
        self.entry_src = np.repeat(self.slot_core, np.diff(engine.entry_start))
        self.entry_dst = engine.entry_core
        entry, hop, link, in_x, step = self.mesh.routes(self.entry_src, self.entry_dst)
        self.hop_start = np.concatenate(
            [[0], np.cumsum(np.bincount(entry, minlength=self.entry_dst.size))]).astype(np.int64)
        self.hop_index, self.hop_link, self.hop_in_x = hop, link, in_x
        self.hop_step = step.astype(np.int64)
        self.packets = True  # keep every packet's record (else ``TickTotals``)

    def totals(self) -> ChipTiming:
        """This timing, keeping per tick the totals and the fired slots only."""
        chosen = copy.copy(self)
        chosen.packets = False
        return chosen

    def packet_count(self, fired: np.ndarray) -> int:
        """Packets sent by the slots ``fired``."""
        starts = self.engine.entry_start
        return int((starts[fired + 1] - starts[fired]).sum())

    def packets_of(self, fired: np.ndarray, neuron_end: np.ndarray) -> tuple:
        """A tick's packet records (source, destination, injection and arrival cycle)
        from the slots that fired and each core's ``neuron_end``."""
        entries, _ = row_words(self.engine.entry_start, np.asarray(fired, np.int64))
        inject, arrive = packet_cycles(self.spec.timing, neuron_end, self.entry_src[entries],
                                       self._hops(entries))
        return self.entry_src[entries], self.entry_dst[entries], inject, arrive

    def _hops(self, entries: np.ndarray) -> tuple:
        words, lengths = row_words(self.hop_start, entries)
        packet = np.repeat(np.arange(entries.size), lengths)
        return (packet, self.hop_index[words], self.hop_link[words], self.hop_in_x[words],
                self.hop_step[words])

    def of(self, activity: Activity) -> TickTiming | TickTotals:
        """Timing of one tick from its ``Activity`` (numpy backend)."""
        idle = self.model.idle(self.engine.params, activity.before, activity.acc,
                               activity.fired)
        full = tick_timing(self.spec.timing, self.mesh, self.axon_core[activity.axons],
                           self.row_length[activity.axons], self.slot_core, idle,
                           self.entry_src[activity.entries], self.entry_dst[activity.entries],
                           hops=self._hops(activity.entries))
        if self.packets:
            return full
        names = ("packet_src", "packet_dst", "packet_inject", "packet_arrive")
        return TickTotals(full.synapse_end, full.neuron_end, full.route_end,
                          full.link_packets, full.rows, full.synops, full.active, full.idle,
                          full.cycles, np.flatnonzero(activity.fired), self,
                          {name: getattr(full, name) for name in names})

    def from_arrays(self, arrays) -> list[TickTiming] | list[TickTotals]:
        """Per-tick ``TickTiming`` (or ``TickTotals``) from the compiled backend's flat
        records."""
        if not self.packets:
            phase, work, links, cycles, ptr, fired = arrays
            return [TickTotals(phase[k, 0], phase[k, 1], phase[k, 2], links[k], work[k, 0],
                               work[k, 1], work[k, 2], work[k, 3], int(cycles[k]),
                               fired[ptr[k]:ptr[k + 1]], self)
                    for k in range(cycles.size)]
        phase, work, links, cycles, ptr, (src, dst, inject, arrive) = arrays
        # the packet records stay in the compact types the kernel wrote (views, no copy)
        return [TickTiming(phase[k, 0], phase[k, 1], phase[k, 2], src[ptr[k]:ptr[k + 1]],
                           dst[ptr[k]:ptr[k + 1]], inject[ptr[k]:ptr[k + 1]],
                           arrive[ptr[k]:ptr[k + 1]], links[k], work[k, 0], work[k, 1],
                           work[k, 2], work[k, 3], int(cycles[k]))
                for k in range(cycles.size)]
