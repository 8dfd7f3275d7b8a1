"""What every framework's neuron step shares: the state record, the node's NIR fields,
and the step signature.

A framework module (``snntorch``, ``norse``, ``sinabs``, ``rockpool``) turns the NIR
fields of one neuron node into its own parameter record and steps it::

    params = framework.neuron(node, options)      # NodeFields -> frozen record
    state, out = framework.step(params, state, x)  # x: this step's input, out: spikes

``out`` is what the node sends on: spike counts (0/1, or more where the framework emits
several spikes per step), or the membrane of a non-spiking node (LI, CubaLI, I).
Steps are pure functions of arrays; every record is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

SPIKING = ("LIF", "CubaLIF", "IF", "Threshold")
WITH_CURRENT = ("CubaLIF", "CubaLI")
LEAKY = ("LIF", "CubaLIF", "LI", "CubaLI")


class FrameworkError(ValueError):
    """A node or option a framework's semantics cannot take, named."""


@dataclass(frozen=True)
class NodeFields:
    """One neuron node as the file holds it: its NIR type, name, size, the NIR fields
    broadcast to ``(size,)`` (float64), and whether it feeds itself back (a recurrent
    layer: an input term whose source is the node itself)."""

    name: str
    type: str
    size: int
    fields: dict[str, np.ndarray]
    recurrent: bool = False

    def get(self, key: str, default: float | None = None) -> np.ndarray:
        if key in self.fields:
            return self.fields[key]
        if default is None:
            raise FrameworkError(f"node {self.name!r}: {self.type} has no field {key!r}")
        return np.full(self.size, float(default))

    @property
    def spiking(self) -> bool:
        return self.type in SPIKING


@dataclass(frozen=True)
class State:
    """Per neuron: membrane ``v``, synaptic current ``i`` (0 without one), and the
    output of the previous step ``s`` (some frameworks reset from it)."""

    v: np.ndarray
    i: np.ndarray
    s: np.ndarray

    @classmethod
    def rest(cls, n: int, v0: np.ndarray | float = 0.0, dtype=np.float64) -> "State":
        v = np.broadcast_to(np.asarray(v0, dtype=dtype), (n,)).copy()
        return cls(v, np.zeros(n, dtype), np.zeros(n, dtype))

    def with_(self, **changes) -> "State":
        return replace(self, **changes)


@dataclass(frozen=True)
class Options:
    """A framework's options that the NIR file does not carry (reset mode, spike
    function, ...): the values in force and which of them the user set."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str):
        return self.values[key]


def check_options(framework: str, defaults: dict[str, Any], given: dict[str, Any],
                  choices: dict[str, tuple]) -> Options:
    """``given`` over ``defaults``, refusing unknown names and values outside ``choices``."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise FrameworkError(f"{framework}: no option {unknown[0]!r} (options: "
                             f"{', '.join(sorted(defaults))})")
    values = {**defaults, **given}
    for key, allowed in choices.items():
        if values[key] not in allowed:
            raise FrameworkError(f"{framework}: option {key}={values[key]!r} is not one of "
                                 f"{', '.join(map(repr, allowed))}")
    return Options(values)


def snap_to_one(gain: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """A per-step gain this close to 1 is the exporter's 1 written through float32."""
    return np.where(np.abs(gain - 1.0) <= tol, 1.0, gain)
