"""The tick over every slot of every core at once: flat arrays, no per-core loop.

Cores sit side by side in the flat arrays (``Layout``): core ``c`` owns slots
``slot_start[c] .. slot_start[c+1]`` and axons ``axon_start[c] .. axon_start[c+1]``.
Synapse rows name global slots and routing entries name global axons, so delivering the
events of a tick, running the firmware model and routing the spikes are each one
vectorised step whether the chip has one core or a thousand. A tick is, in this order:

1. read and clear the axon-buffer row of this tick (events that arrive now);
2. ``acc`` = sum of ``w << w_exp`` over the synapse rows of those axons (each event
   counted), per slot (and per input target, for a model with several); or, for a
   model with ``accumulation="sequential"``, the events themselves in application
   order (``SynapticEvents``: ascending axon, each event in turn, words in row order);
3. the firmware model's step (``firmware_models.lif.kernel`` for the reference LIF)
   updates every slot from ``acc`` and, on cores with noise, their LFSR words;
4. every routing entry of every slot that fired schedules one event on its axon at
   ``tick + delay`` (a packet; the timing model says when it arrives within the tick);
   a slot that fired ``c`` spikes (a model with ``max_spikes > 1``) sends ``c``.

``Core`` (one core) and ``Chip`` (a mesh) build an ``Engine``; ``Activity`` is what a
tick did, which the timing model turns into cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable, Sequence

import numpy as np

from firmware_models.base import FirmwareModel
from firmware_models.traces import RecordedRun

from .fixed import Arithmetic, register_range
from .lfsr import NoiseBank
from .limits import over_budget
from .routing import AxonBuffer
from .spec import CoreSpec, SpecError
from .synapses import DeliveryTable, SynapseMemory, row_words

RECORDABLE = ("spikes", "v", "i", "theta", "ref")  # the reference LIF's; see recordable()


def recordable(model: FirmwareModel) -> tuple[str, ...]:
    """What a run of ``model`` can record: ``spikes`` and every state register."""
    if model.registers is None:
        return RECORDABLE
    return ("spikes",) + tuple(f.name for f in fields(model.state_type))


def model_registers(model: FirmwareModel, spec: CoreSpec) -> dict:
    """The register formats a model runs with (its own, or the spec's LIF registers)."""
    return model.registers(spec) if model.registers is not None else spec.registers()


def concatenate_records(records: Sequence, record_type: type):
    """Field-wise concatenation of per-core parameter or state records."""
    return record_type(**{f.name: np.concatenate([getattr(r, f.name) for r in records])
                          for f in fields(record_type)})


@dataclass(frozen=True)
class Layout:
    """Where each core's slots and axons sit in the flat arrays."""

    slot_start: np.ndarray  # (n_cores + 1,)
    axon_start: np.ndarray  # (n_cores + 1,)
    core_ids: np.ndarray    # (n_cores,) the id each core is known by (its mesh index)

    @classmethod
    def of(cls, slots, axons, core_ids=None) -> "Layout":
        slots, axons = np.asarray(slots, np.int64), np.asarray(axons, np.int64)
        ids = np.arange(slots.size) if core_ids is None else np.asarray(core_ids, np.int64)
        return cls(np.concatenate([[0], np.cumsum(slots)]),
                   np.concatenate([[0], np.cumsum(axons)]), ids)

    @property
    def n_slots(self) -> int:
        return int(self.slot_start[-1])

    @property
    def n_axons(self) -> int:
        return int(self.axon_start[-1])

    @property
    def slot_core(self) -> np.ndarray:
        """Index (into ``core_ids``) of the core of every global slot."""
        return np.repeat(np.arange(self.core_ids.size), np.diff(self.slot_start))

    @property
    def axon_core(self) -> np.ndarray:
        return np.repeat(np.arange(self.core_ids.size), np.diff(self.axon_start))

    def locate(self, global_slot: int) -> tuple[int, int]:
        """``(core id, local slot)`` of a global slot."""
        index = int(np.searchsorted(self.slot_start, global_slot, "right") - 1)
        return int(self.core_ids[index]), int(global_slot - self.slot_start[index])


@dataclass
class Recording(RecordedRun):
    """Per-tick records of a run: ``spikes`` (ticks × slots, bool) and register traces,
    named as the registers are (``v``, ``i``, ``theta``, ``ref`` for the reference LIF;
    the float reference's ``V``, ``I_syn``, ``Theta`` are accepted for ``v``, ``i``,
    ``theta``). ``rec["v"]`` or ``rec.trace("v")`` is ``(ticks, slots)``;
    ``rec.trace("v", neuron_major=True)`` its ``(slots, ticks)`` view; ``spike_ticks()``,
    ``spike_times(dt)``, ``spike_indices()``: every spike, flat, by tick then slot
    (``firmware_models.traces``). ``dt`` (seconds), when the run knew it, is the default
    of ``spike_times``.

    ``overflow`` holds the engine's running overflow counts per register at the end of
    the run (since it was built, not only during this run).
    """

    start_tick: int
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    overflow: dict[str, int] = field(default_factory=dict)
    timing: list = field(default_factory=list)
    dt: float | None = None

    @property
    def _first_tick(self) -> int:
        return self.start_tick

    @property
    def _tick_length(self) -> float | None:
        return self.dt

    def _lookup(self, name: str):
        return self.traces.get(name)

    def _recorded(self) -> tuple[str, ...]:
        return tuple(self.traces)

    @property
    def spikes(self) -> np.ndarray:
        return self.trace("spikes")


@dataclass(frozen=True)
class Activity:
    """What one tick did: input to the timing model."""

    tick: int
    axons: np.ndarray          # one global axon index per event delivered
    acc: np.ndarray            # summed input per global slot
    before: object             # firmware state before the tick
    fired: np.ndarray          # bool per global slot
    entries: np.ndarray        # global routing entries sent, in slot then entry order


# the input port's capacity: at most 2^20 external events on one axon and 2^24 in all
# per tick. With weights below 2^30 (a 16-bit mantissa shifted by at most 15) no sum of
# them comes near the int64 accumulator's range, and the numpy backend's axon buffer,
# which holds one entry per event, stays within 128 MiB a tick
MAX_EVENTS = 2 ** 20
MAX_TICK_EVENTS = 2 ** 24
MAX_TICKS = 2 ** 31 - 1


def check_event_counts(counts, where: str) -> np.ndarray:
    """Event counts must be whole numbers in 0..``MAX_EVENTS``: refuse anything else,
    naming it (the same refusal whichever backend runs them)."""
    array = np.asarray(counts)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.array_equal(array, np.rint(array)):
            bad = float(array[~np.isfinite(array) | (array != np.rint(array))].flat[0])
            raise SpecError(f"{where}: event counts must be whole numbers, got {bad!r}")
    elif array.dtype.kind not in "iu":
        raise SpecError(f"{where}: event counts must be integers, got dtype {array.dtype}")
    if array.size and array.max() > MAX_EVENTS:
        raise SpecError(f"{where}: at most {MAX_EVENTS} events per axon and tick, got "
                        f"{_count_text(array.max())}")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise SpecError(f"{where}: event counts must be >= 0, got {int(array.min())}")
    return array


def _count_text(value) -> str:
    value = float(value) if np.asarray(value).dtype.kind == "f" else int(value)
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def check_ticks(ticks) -> int:
    """A number of ticks: a whole number in 0..``MAX_TICKS`` (not a bool, not a string)."""
    if isinstance(ticks, (bool, np.bool_)) or not isinstance(ticks, (int, np.integer)) \
            or not 0 <= ticks <= MAX_TICKS:
        raise SpecError(f"ticks must be a whole number in 0..{MAX_TICKS}, got {ticks!r}")
    return int(ticks)


def input_events(inputs, ticks: int, n_axons: int) -> tuple:
    """``inputs`` (ticks × axons event counts, or None) checked, as ``(tick, axon,
    count)`` of its nonzero entries in tick order."""
    if inputs is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if np.shape(inputs) != (ticks, n_axons):
        raise SpecError(f"inputs have shape {np.shape(inputs)}, expected "
                        f"({ticks}, {n_axons}) (ticks × axons)")
    inputs = check_event_counts(inputs, "inputs")
    per_tick = inputs.sum(axis=1, dtype=np.float64) if inputs.size else inputs
    if inputs.size and per_tick.max() > MAX_TICK_EVENTS:
        k = int(np.argmax(per_tick > MAX_TICK_EVENTS))
        raise SpecError(f"inputs: at most {MAX_TICK_EVENTS} events per tick, got "
                        f"{_count_text(per_tick[k])} in tick {k}")
    tick, axon = np.nonzero(inputs)
    return tick, axon, inputs[tick, axon]


class Engine:
    """All slots of all cores of one ``CoreSpec``, ticking together (module docstring).

    ``entry_start`` (per global slot), ``entry_axon`` (global axon) and ``entry_delay``
    are the routing entries; ``entry_core`` the destination core index of each.
    """

    def __init__(self, spec: CoreSpec, model: FirmwareModel, params, synapses: SynapseMemory,
                 entry_start: np.ndarray, entry_axon: np.ndarray, entry_delay: np.ndarray,
                 entry_core: np.ndarray, layout: Layout, lfsr_seeds, name: str = "chip"):
        self.spec, self.model, self.params, self.layout = spec, model, params, layout
        self.name = name
        self.synapses = synapses
        self.entry_start, self.entry_axon = entry_start, entry_axon
        self.entry_delay, self.entry_core = entry_delay, entry_core
        for index, seed in enumerate(lfsr_seeds):
            if not isinstance(seed, (int, np.integer)) or not 0 < seed < (1 << 32):
                raise SpecError(f"core {int(layout.core_ids[index])}: lfsr_seed must be in "
                                f"1..2**32-1 (zero locks the LFSR), got {seed!r}")
        self.lfsr_seeds = tuple(int(seed) for seed in lfsr_seeds)  # for checkpoints
        self.arith = Arithmetic(model_registers(model, spec), spec.overflow, spec.rounding,
                                spec.overflow_check, locate=layout.locate)
        self._state = model.state_type.zeros(params.n)
        self.buffer = AxonBuffer(layout.n_axons, spec.delay_bits)
        noise_bits = getattr(params, "noise_bits", np.zeros(layout.n_slots, np.int64))
        noisy_cores = np.bincount(layout.slot_core, weights=noise_bits != 0,
                                  minlength=layout.core_ids.size) > 0
        self.noise = NoiseBank(lfsr_seeds, np.diff(layout.slot_start), noisy_cores) \
            if noisy_cores.any() else None
        self.delivery = DeliveryTable.build(synapses, entry_axon)
        self.t = 0  # index of the next tick to execute

    @property
    def n(self) -> int:
        return self.layout.n_slots

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, new_state) -> None:
        registers = self.arith.registers
        values = {}
        for f in fields(self.model.state_type):
            array = np.asarray(getattr(new_state, f.name))
            if array.shape != (self.n,):
                raise SpecError(f"{self.name}: state.{f.name} has shape {array.shape}, "
                                f"expected ({self.n},)")
            if array.dtype.kind not in "iub":
                raise SpecError(f"{self.name}: state.{f.name} must be integers, got dtype "
                                f"{array.dtype}")
            array = array.astype(np.int64)
            lo, hi = register_range(registers[f.name])
            bad = np.flatnonzero((array < lo) | (array > hi))
            if bad.size:
                core, slot = self.layout.locate(int(bad[0]))
                raise SpecError(f"core {core}, slot {slot}: state.{f.name}="
                                f"{int(array[bad[0]])} outside {lo}..{hi}")
            values[f.name] = array.copy()
        self._state = self.model.state_type(**values)

    @property
    def overflow_counts(self) -> dict[str, int]:
        return dict(self.arith.counts)

    def inject(self, axons, tick: int, counts=1, where: str = "inject") -> None:
        """Schedule external events on global ``axons`` arriving at absolute ``tick``."""
        horizon = self.t + self.buffer.depth - 1
        if not isinstance(tick, (int, np.integer)) or isinstance(tick, bool):
            raise SpecError(f"{where}: the arrival tick must be an integer, got {tick!r}")
        if not self.t <= tick <= horizon:
            raise SpecError(f"{where}: cannot inject for tick {tick}; the axon "
                            f"buffer holds ticks {self.t}..{horizon}")
        axons = np.asarray(axons)
        if axons.size and axons.dtype.kind not in "iu":
            raise SpecError(f"{where}: axons must be integers, got dtype {axons.dtype}")
        axons = axons.astype(np.int64)
        bad = axons[(axons < 0) | (axons >= self.buffer.n_axons)]
        if bad.size:
            raise SpecError(f"{where}: axon {int(bad[0])} outside 0..{self.buffer.n_axons - 1}")
        self.buffer.schedule(tick, axons, check_event_counts(counts, where))

    def _check_recording_budget(self, ticks: int, record, timing) -> None:
        """What a run of ``ticks`` will hold: every recorded register and the spikes per
        slot and tick, the per-tick timing tables and the first block of packet records
        (they grow with the packets actually sent); refused over the memory budget
        before anything is allocated."""
        need = 8 * self.n * max(len(record), 1) * ticks
        if timing is not None:   # per-tick tables, and the packet records' first block
            need += 8 * 12 * timing.n_cores * ticks + 32 * min(ticks * self.entry_axon.size,
                                                                1 << 23)
        why = over_budget(need, f"a run of {ticks} ticks recording "
                                            f"{', '.join(record) or 'nothing'} on {self.n} "
                                            f"slots")
        if why:
            raise SpecError(why)

    def tick(self) -> Activity:
        t = self.t
        self.arith.tick = t
        axons = self.buffer.pop(t)
        model = self.model
        if model.accumulation == "sequential":
            acc = self.delivery.events(axons)
        elif model.targets > 1:
            acc = self.delivery.deliver_targets(axons, self.n, model.targets)
        else:
            acc = self.delivery.deliver(axons, self.n)
        words = self.noise.next_words() if self.noise is not None else None
        before = self._state
        self._state, fired = model.step(self.params, before, acc, words, self.arith)
        entries = np.empty(0, dtype=np.int64)
        if self.entry_axon.size:
            spiking = np.flatnonzero(fired)
            entries, lengths = row_words(self.entry_start, spiking)
            if model.max_spikes > 1 and entries.size:
                entries = np.repeat(entries, np.repeat(fired[spiking], lengths))
            if entries.size:
                self.buffer.schedule_delayed(t, self.entry_axon[entries],
                                             self.entry_delay[entries])
        self.t = t + 1
        return Activity(t, axons, acc, before, fired, entries)

    def run(self, ticks: int, inputs: np.ndarray | None = None,
            record: tuple[str, ...] = ("spikes",),
            on_tick: Callable[[Activity], object] | None = None,
            backend: str | None = None, timing=None) -> Recording:
        """Run ``ticks`` ticks; ``inputs[k]`` are event counts per axon arriving at tick k.

        Records the named registers (and ``spikes``) after every tick. ``backend`` is
        ``"compiled"`` (numba: all ticks in one call; the default when available) or
        ``"numpy"``. ``timing`` (a ``chip.ChipTiming``) adds one ``TickTiming`` per tick
        to ``Recording.timing``. ``on_tick`` sees each tick's ``Activity`` (numpy backend
        only: a per-tick Python callback).
        """
        ticks = check_ticks(ticks)
        self._check_recording_budget(ticks, record, timing)
        backend = resolve_backend(backend, self.model)
        if on_tick is not None and backend == "compiled":
            raise SpecError("a per-tick callback (on_tick) needs backend='numpy'")
        allowed = recordable(self.model)
        unknown = [name for name in record if name not in allowed]
        if unknown:
            raise SpecError(f"cannot record {unknown[0]!r}; choose from {allowed}")
        input_ticks, input_axons, input_counts = input_events(inputs, ticks,
                                                              self.buffer.n_axons)
        bounds = np.searchsorted(input_ticks, np.arange(ticks + 1))
        start = self.t
        if backend == "compiled":
            from .compiled import run_compiled
            traces, arrays = run_compiled(self, ticks, bounds, input_axons, input_counts,
                                          record, timing)
            return Recording(start, traces, self.overflow_counts,
                             timing.from_arrays(arrays) if timing is not None else [])
        spike_type = bool if self.model.max_spikes == 1 else np.int64
        traces = {name: np.zeros((ticks, self.n), dtype=spike_type if name == "spikes"
                                 else np.int64) for name in record}
        extra = []
        for k in range(ticks):
            if bounds[k] < bounds[k + 1]:
                chosen = slice(bounds[k], bounds[k + 1])
                self.buffer.schedule(self.t, input_axons[chosen], input_counts[chosen])
            activity = self.tick()
            if timing is not None:
                extra.append(timing.of(activity))
            if on_tick is not None:
                extra.append(on_tick(activity))
            for name, trace in traces.items():
                trace[k] = activity.fired if name == "spikes" else getattr(self._state, name)
        return Recording(start, traces, self.overflow_counts, extra)


BACKENDS = ("numpy", "compiled")


def resolve_backend(backend: str | None, model: FirmwareModel) -> str:
    """``None`` means compiled when the model has a compiled step and numba imports."""
    if backend is None:
        return "compiled" if model.compiled is not None else "numpy"
    if backend not in BACKENDS:
        raise SpecError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "compiled" and model.compiled is None:
        import importlib.util
        why = "numba is not installed" if importlib.util.find_spec("numba") is None \
            else "it runs on numpy only"
        raise SpecError(f"model {model.name!r} has no compiled backend here ({why}); use "
                        f"backend='numpy'")
    return backend
