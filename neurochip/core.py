"""One neuromorphic core: neuron slots, synapse memory, axon buffer, routing table, LFSR.

A tick (``Core.tick``) is, in this order:

1. read and clear the axon buffer row of this tick (events that arrive now);
2. ``acc`` = sum of ``w << w_exp`` over the synapse rows of those axons;
3. the firmware model's step (``firmware_models.lif.kernel`` for the reference LIF)
   updates every slot's registers from ``acc`` and, if noise is on, the LFSR words;
4. every routing entry of every slot that fired schedules one event on its axon at
   ``tick + delay``.

A standalone core routes only to itself (core 0); a chip connects many.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from firmware_models.base import FirmwareModel, first_violation
from firmware_models.lif import LIF

from .fixed import Arithmetic, value_range
from .lfsr import CoreLfsr
from .routing import AxonBuffer, RoutingTable
from .spec import CoreSpec, SpecError
from .synapses import SynapseMemory, deliver, row_words

RECORDABLE = ("spikes", "v", "i", "theta", "ref")


@dataclass
class Recording:
    """Per-tick records of a run: ``spikes`` (ticks × slots, bool) and register traces."""

    start_tick: int
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    overflow: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.traces[name]

    @property
    def spikes(self) -> np.ndarray:
        return self.traces["spikes"]

    def spike_counts(self) -> np.ndarray:
        return self.spikes.sum(axis=0)


def validate_params(model: FirmwareModel, params, spec: CoreSpec, core: int = 0) -> None:
    """Refuse a parameter value that does not fit its field, naming core, slot and field."""
    bad = first_violation(params, model.param_formats(spec))
    if bad is not None:
        lo, hi = bad.format.range
        kind = "signed" if bad.format.signed else "unsigned"
        raise SpecError(f"core {core}, slot {bad.index}: parameter {bad.field}={bad.value} "
                        f"outside {lo}..{hi} ({bad.format.bits}-bit {kind})")
    if params.noise_bits.max(initial=0) > spec.noise_bits_max:
        slot = int(np.argmax(params.noise_bits))
        raise SpecError(f"core {core}, slot {slot}: parameter noise_bits="
                        f"{int(params.noise_bits[slot])} exceeds noise_bits_max="
                        f"{spec.noise_bits_max}")


class Core:
    """A core executing ``model`` on ``params.n`` slots; see the module docstring."""

    def __init__(self, spec: CoreSpec, params, synapses: SynapseMemory | None = None,
                 routes: RoutingTable | None = None, *, model: FirmwareModel = LIF,
                 core_id: int = 0, lfsr_seed: int = 0xACE1):
        n = params.n
        if n > spec.n_slots:
            raise SpecError(f"core {core_id}: {n} neurons, capacity n_slots={spec.n_slots} "
                            f"(short by {n - spec.n_slots})")
        validate_params(model, params, spec, core_id)
        self.synapses = synapses if synapses is not None else SynapseMemory.empty(spec.n_axons)
        self.synapses.validate(spec, n, core_id)
        self.routes = routes if routes is not None else RoutingTable.empty(n)
        if self.routes.route_start.size != n + 1:
            raise SpecError(f"core {core_id}: routing table has "
                            f"{self.routes.route_start.size - 1} slots, the core has {n}")
        self.routes.validate(spec, self.synapses.n_axons, core_id, n_cores=1)
        self.spec, self.params, self.model, self.core_id = spec, params, model, core_id
        self.arith = Arithmetic(spec.registers(), spec.overflow, spec.rounding,
                                spec.overflow_check, locate=lambda index: (core_id, int(index)))
        self._state = model.init_state(params)
        self.buffer = AxonBuffer(self.synapses.n_axons, spec.delay_bits)
        self.lfsr = CoreLfsr(lfsr_seed, n) if model.uses_noise(params) else None
        self._scaled_w = self.synapses.scaled_weights()
        self.t = 0  # index of the next tick to execute

    @property
    def n(self) -> int:
        return self.params.n

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, new_state) -> None:
        registers = self.spec.registers()
        values = {}
        for f in fields(self.model.state_type):
            array = np.asarray(getattr(new_state, f.name), dtype=np.int64)
            if array.shape != (self.n,):
                raise SpecError(f"core {self.core_id}: state.{f.name} has shape {array.shape}, "
                                f"expected ({self.n},)")
            fmt = registers[f.name]
            lo, hi = value_range(fmt.bits, fmt.signed)
            bad = np.flatnonzero((array < lo) | (array > hi))
            if bad.size:
                raise SpecError(f"core {self.core_id}, slot {int(bad[0])}: state.{f.name}="
                                f"{int(array[bad[0]])} outside {lo}..{hi}")
            values[f.name] = array.copy()
        self._state = self.model.state_type(**values)

    @property
    def overflow_counts(self) -> dict[str, int]:
        return dict(self.arith.counts)

    def inject(self, axons, tick: int, counts=1) -> None:
        """Schedule external events on ``axons`` arriving at absolute ``tick``."""
        horizon = self.t + self.buffer.depth - 1
        if not self.t <= tick <= horizon:
            raise SpecError(f"core {self.core_id}: cannot inject for tick {tick}; the axon "
                            f"buffer holds ticks {self.t}..{horizon}")
        axons = np.asarray(axons, dtype=np.int64)
        bad = axons[(axons < 0) | (axons >= self.buffer.n_axons)]
        if bad.size:
            raise SpecError(f"core {self.core_id}: axon {int(bad[0])} outside "
                            f"0..{self.buffer.n_axons - 1}")
        self.buffer.schedule(tick, axons, counts)

    def tick(self) -> np.ndarray:
        """Execute one tick; returns the boolean mask of slots that fired."""
        t = self.t
        self.arith.tick = t
        axons, counts = self.buffer.pop(t)
        acc = deliver(self.synapses.row_start, self.synapses.slot, self._scaled_w, axons,
                      counts, self.n)
        words = self.lfsr.next_words() if self.lfsr is not None else None
        self._state, fired = self.model.step(self.params, self._state, acc, words, self.arith)
        if self.routes.entries:
            entries, _ = row_words(self.routes.route_start, np.flatnonzero(fired))
            if entries.size:
                self.buffer.schedule_delayed(t, self.routes.axon[entries],
                                             self.routes.delay[entries])
        self.t = t + 1
        return fired

    def run(self, ticks: int, inputs: np.ndarray | None = None,
            record: tuple[str, ...] = ("spikes",)) -> Recording:
        """Run ``ticks`` ticks; ``inputs[k]`` are event counts per axon arriving at tick k.

        Records the named registers (and ``spikes``) after every tick.
        """
        unknown = [name for name in record if name not in RECORDABLE]
        if unknown:
            raise SpecError(f"cannot record {unknown[0]!r}; choose from {RECORDABLE}")
        if inputs is not None:
            inputs = np.asarray(inputs)
            if inputs.shape != (ticks, self.buffer.n_axons):
                raise SpecError(f"inputs have shape {inputs.shape}, expected "
                                f"({ticks}, {self.buffer.n_axons}) (ticks × axons)")
            input_ticks, input_axons = np.nonzero(inputs)
            input_counts = inputs[input_ticks, input_axons]
            bounds = np.searchsorted(input_ticks, np.arange(ticks + 1))
        traces = {name: np.zeros((ticks, self.n), dtype=bool if name == "spikes" else np.int64)
                  for name in record}
        start = self.t
        for k in range(ticks):
            if inputs is not None and bounds[k] < bounds[k + 1]:
                chosen = slice(bounds[k], bounds[k + 1])
                self.buffer.schedule(self.t, input_axons[chosen], input_counts[chosen])
            fired = self.tick()
            for name, trace in traces.items():
                trace[k] = fired if name == "spikes" else getattr(self._state, name)
        return Recording(start, traces, self.overflow_counts)
