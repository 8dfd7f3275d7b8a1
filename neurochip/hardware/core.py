"""One neuromorphic core on its own: neuron slots, synapse memory, axon buffer with
delay slots, routing table (back to its own axons) and LFSR.

The tick itself is ``neurochip.hardware.engine`` (the same code runs a whole chip); this class
validates one core's configuration against its ``CoreSpec`` and names things by core
and slot.
"""

from __future__ import annotations

import os

import numpy as np

from firmware_models import MODELS
from firmware_models.base import FirmwareModel

from .checkpoint import Checkpoint, capture, restore
from .engine import Engine, Layout, Recording
from .routing import RoutingTable
from .spec import CoreSpec, SpecError
from .synapses import SynapseMemory
from .validation import DEFAULT_LFSR_SEED, validate_core

__all__ = ["Core", "Recording"]


class Core:
    """A core executing ``model`` (by default its spec's dialect) on ``params.n`` slots."""

    def __init__(self, spec: CoreSpec, params, synapses: SynapseMemory | None = None,
                 routes: RoutingTable | None = None, *, model: FirmwareModel | None = None,
                 core_id: int = 0, lfsr_seed: int = DEFAULT_LFSR_SEED):
        model = model if model is not None else MODELS[spec.dialect]
        n = params.n
        synapses = synapses if synapses is not None else SynapseMemory.empty(spec.n_axons)
        routes = routes if routes is not None else RoutingTable.empty(n)
        validate_core(spec, model, params, synapses, routes, core_id)
        if routes.entries and np.any(routes.core != 0):
            slot = int(np.searchsorted(routes.route_start, np.flatnonzero(routes.core)[0],
                                       "right") - 1)
            raise SpecError(f"core {core_id}, slot {slot}: a routing entry names core "
                            f"{int(routes.core[routes.core != 0][0])}; a standalone core "
                            f"routes only to itself (core 0); build a Chip for more")
        n_axons = synapses.n_axons
        if routes.entries and routes.axon.max() >= n_axons:
            entry = int(np.argmax(routes.axon >= n_axons))
            slot = int(np.searchsorted(routes.route_start, entry, "right") - 1)
            raise SpecError(f"core {core_id}, slot {slot}: routing entry to axon "
                            f"{int(routes.axon[entry])}, the synapse memory has {n_axons} axons")
        self.spec, self.params, self.model, self.core_id = spec, params, model, core_id
        self.synapses, self.routes = synapses, routes
        layout = Layout.of([n], [n_axons], [core_id])
        self.engine = Engine(spec, model, params, synapses, routes.route_start, routes.axon,
                             routes.delay, np.zeros(routes.entries, np.int64), layout,
                             [lfsr_seed], name=f"core {core_id}")

    @property
    def n(self) -> int:
        return self.params.n

    @property
    def t(self) -> int:
        """Index of the next tick to execute."""
        return self.engine.t

    @property
    def state(self):
        return self.engine.state

    @state.setter
    def state(self, new_state) -> None:
        self.engine.state = new_state

    @property
    def overflow_counts(self) -> dict[str, int]:
        return self.engine.overflow_counts

    @property
    def lfsr(self):
        """The noise generator (``next_words()``), or ``None`` when no slot uses noise."""
        return self.engine.noise

    def checkpoint(self, **meta: str) -> Checkpoint:
        """The core's complete state now (``hardware.checkpoint``; ``meta``: free text
        kept with it)."""
        return capture(self.engine, self.spec, "Core", meta)

    def restore(self, checkpoint: Checkpoint | str | os.PathLike) -> None:
        """Continue from ``checkpoint`` (or the checkpoint file at that path), which must
        come from a core of this configuration: refused otherwise, naming what differs."""
        restore(self.engine, checkpoint, self.spec, "Core")

    def inject(self, axons, tick: int, counts=1) -> None:
        """Schedule external events on ``axons`` arriving at absolute ``tick``."""
        self.engine.inject(axons, tick, counts, where=f"core {self.core_id}")

    def tick(self) -> np.ndarray:
        """Execute one tick; returns the boolean mask of slots that fired."""
        return self.engine.tick().fired

    def run(self, ticks: int, inputs: np.ndarray | None = None,
            record: tuple[str, ...] = ("spikes",), backend: str | None = None) -> Recording:
        """Run ``ticks`` ticks; ``inputs[k]`` are event counts per axon arriving at tick k.

        ``backend``: ``"compiled"`` (numba, default when installed) or ``"numpy"``.
        """
        return self.engine.run(ticks, inputs, record, backend=backend)
