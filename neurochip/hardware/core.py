"""One neuromorphic core on its own: neuron slots, synapse memory, axon buffer with
delay slots, routing table (back to its own axons) and LFSR.

The tick itself is ``neurochip.hardware.engine`` (the same code runs a whole chip); this class
validates one core's configuration against its ``CoreSpec`` and names things by core
and slot.
"""

from __future__ import annotations

import numpy as np

from firmware_models.base import FirmwareModel, first_violation
from firmware_models import MODELS

from .engine import Engine, Layout, Recording
from .routing import RoutingTable
from .spec import CoreSpec, SpecError
from .synapses import SynapseMemory

__all__ = ["Core", "Recording", "validate_core"]

DEFAULT_LFSR_SEED = 0xACE1


def validate_params(model: FirmwareModel, params, spec: CoreSpec, core: int = 0) -> None:
    """Refuse a parameter value that does not fit its field, naming core, slot and field."""
    bad = first_violation(params, model.param_formats(spec))
    if bad is not None:
        lo, hi = bad.format.range
        kind = "signed" if bad.format.signed else "unsigned"
        raise SpecError(f"core {core}, slot {bad.index}: parameter {bad.field}={bad.value} "
                        f"outside {lo}..{hi} ({bad.format.bits}-bit {kind})")
    if hasattr(params, "noise_bits") and params.noise_bits.max(initial=0) > spec.noise_bits_max:
        slot = int(np.flatnonzero(params.noise_bits > spec.noise_bits_max)[0])
        raise SpecError(f"core {core}, slot {slot}: parameter noise_bits="
                        f"{int(params.noise_bits[slot])} exceeds noise_bits_max="
                        f"{spec.noise_bits_max}")


def validate_core(spec: CoreSpec, model: FirmwareModel, params, synapses: SynapseMemory,
                  routes: RoutingTable, core: int = 0, n_cores: int = 1) -> None:
    """Everything one core holds must fit its capacities and fields; names what does not."""
    if not isinstance(params, model.params_type):
        raise SpecError(f"core {core}: the {model.name} model takes "
                        f"{model.params_type.__name__}, got {type(params).__name__} (the "
                        f"spec's dialect is {spec.dialect!r})")
    n = params.n
    if n > spec.n_slots:
        raise SpecError(f"core {core}: {n} neurons, capacity n_slots={spec.n_slots} "
                        f"(short by {n - spec.n_slots})")
    validate_params(model, params, spec, core)
    synapses.validate(spec, n, core, model.targets)
    if routes.route_start.size != n + 1:
        raise SpecError(f"core {core}: routing table has {routes.route_start.size - 1} "
                        f"slots, the core has {n}")
    routes.validate(spec, spec.n_axons, core, n_cores)


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
