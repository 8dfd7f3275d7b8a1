"""The netlist's schema: the frozen dataclasses a loaded netlist is made of, and its
constants (``docs/netlist.md`` documents every field).

Time on the tick grid (``dt``): tick ``k`` covers ``[k dt, (k + 1) dt)``; an event at
time ``t`` belongs to tick ``floor(t / dt + 1e-9)`` (``tick_of``: a time within ``1e-9``
of a tick of a grid point counts as on it, so ``0.003 / 0.001`` is tick 3, not 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from firmware_models.lif.quantiser import NEVER_FIRES
from firmware_models.lif.reference import NUMERIC_FIELDS, LifPhysical

FORMAT = "neurochip-netlist"
VERSION = 1
MODELS = ("lif",)
LIF_PARAMS = (*NUMERIC_FIELDS, "reset")
RECORDABLE = ("spikes", "v", "i", "theta")
TICK_TOLERANCE = 1e-9   # in ticks: how close to a grid point a time counts as on it
MAX_COUNT = 2**31 - 1   # largest population size, run length in ticks, Poisson fan-in
MAX_EVENTS_PER_TICK = 1e6  # largest mean Poisson events per tick and neuron
MAX_DEPTH = 32          # deepest nesting of objects and lists a file may have
# Magnitudes far beyond any neuron that keep the float arithmetic finite (docs/netlist.md)
MAX_AMPERES = 1e6       # currents and weights, A
MAX_VOLTS = 1e6         # E_L, V_reset, alpha, |V_th| unless V_th >= NEVER_FIRES
SCALE_RANGE = (1e-30, 1e30)  # C (F), g_L (S), tau_syn and tau_theta (s)

DEFAULTS = {f: getattr(LifPhysical, f) for f in LIF_PARAMS}   # of every LIF parameter


def tick_of(t: float, dt: float) -> int:
    """The tick that time ``t`` (s) falls in."""
    return math.floor(t / dt + TICK_TOLERANCE)


Values = float | tuple[float, ...]          # a scalar, or one value per neuron/synapse


@dataclass(frozen=True)
class Normal:
    """Weights drawn from a normal distribution (A); draws are not clipped."""

    mean: float
    std: float


@dataclass(frozen=True)
class Uniform:
    """Weights drawn uniformly from ``[low, high)`` (A)."""

    low: float
    high: float


Weight = float | Normal | Uniform


@dataclass(frozen=True)
class Population:
    """``size`` neurons of firmware ``model``; ``params`` has every parameter of the model
    (omitted ones take their default when loaded), each a scalar or a tuple of ``size``."""

    name: str
    size: int
    params: Mapping[str, Any] = field(default_factory=dict)
    model: str = "lif"

    def physical(self) -> LifPhysical:
        """The population's ``LifPhysical`` with every numeric field of length ``size``."""
        values = {}
        for key, value in {**DEFAULTS, **self.params}.items():
            if isinstance(value, (tuple, list)):
                value = list(value) if key == "reset" else np.asarray(value, dtype=float)
            values[key] = value
        return LifPhysical(**values).broadcast(self.size)


class Connectivity:
    """Base of the four connectivity forms of a projection."""

    type: ClassVar[str]


@dataclass(frozen=True)
class ListConnectivity(Connectivity):
    """Explicit synapses ``pre[s] -> post[s]`` (indices within the populations)."""

    type: ClassVar[str] = "list"
    pre: tuple[int, ...]
    post: tuple[int, ...]
    weight: Values


@dataclass(frozen=True)
class DenseConnectivity(Connectivity):
    """``weights[i][j]``: pre neuron ``i`` onto post neuron ``j`` (pre × post, the
    transpose of NIR's (out, in)); a zero entry is no synapse."""

    type: ClassVar[str] = "dense"
    weights: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class FixedProbability(Connectivity):
    """Every (pre, post) pair independently with probability ``p``."""

    type: ClassVar[str] = "fixed_probability"
    p: float
    weight: Weight
    seed: int | None = None
    self_connections: bool = True


@dataclass(frozen=True)
class FixedFanIn(Connectivity):
    """Every post neuron gets exactly ``n`` distinct pre neurons, chosen uniformly."""

    type: ClassVar[str] = "fixed_fan_in"
    n: int
    weight: Weight
    seed: int | None = None
    self_connections: bool = True


@dataclass(frozen=True)
class Projection:
    """Synapses from population ``pre`` to ``post``; ``delay`` (s) is a scalar, a tuple per
    synapse (list connectivity) or a pre × post matrix (dense connectivity); ``None``
    (only when built in Python) is one tick, ``dt``, which loading writes explicitly."""

    pre: str
    post: str
    connectivity: Connectivity
    delay: float | tuple | None = None


class Input:
    """Base of the four input kinds; ``target`` is a population name."""

    kind: ClassVar[str]
    target: str


@dataclass(frozen=True)
class SpikeInput(Input):
    """Explicit spike times (s) per neuron index of ``target``, each a jump of ``weight`` A."""

    kind: ClassVar[str] = "spikes"
    target: str
    weight: float
    times: Mapping[int, tuple[float, ...]]


@dataclass(frozen=True)
class PoissonInput(Input):
    """``fan_in`` independent Poisson trains of ``rate`` Hz onto each targeted neuron,
    each spike a jump of ``weight`` A, within ``[start, stop)`` (``stop`` None: the end)."""

    kind: ClassVar[str] = "poisson"
    target: str
    rate: Values
    weight: Values
    seed: int | None = None
    fan_in: int = 1
    neurons: tuple[int, ...] | None = None
    start: float = 0.0
    stop: float | None = None


@dataclass(frozen=True)
class DcInput(Input):
    """A constant current (A) into the targeted neurons for the whole run."""

    kind: ClassVar[str] = "dc"
    target: str
    amplitude: Values
    neurons: tuple[int, ...] | None = None


@dataclass(frozen=True)
class StepInput(Input):
    """A piecewise-constant current: ``amplitudes[s]`` (A) from ``times[s]`` (s) on; 0
    before ``times[0]``."""

    kind: ClassVar[str] = "step"
    target: str
    times: tuple[float, ...]
    amplitudes: tuple[float, ...]
    neurons: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Probe:
    """Record ``record`` (a subset of ``RECORDABLE``) of every neuron of ``population``."""

    population: str
    record: tuple[str, ...]


@dataclass(frozen=True)
class Netlist:
    """A whole float network: tick ``dt`` (s), run ``duration`` (s), ``seed``, and the
    populations (in file order: that order fixes the global neuron indices), projections,
    inputs and probes."""

    dt: float
    duration: float
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...] = ()
    inputs: tuple[Input, ...] = ()
    probes: tuple[Probe, ...] = ()
    seed: int = 0

    @property
    def ticks(self) -> int:
        return round(self.duration / self.dt)

    @property
    def n(self) -> int:
        return sum(p.size for p in self.populations)

    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)

