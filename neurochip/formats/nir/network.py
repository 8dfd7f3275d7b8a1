"""What ``load_nir`` gives: a ``NirNetwork`` (the float netlist, the input channels and
the maps from NIR names to populations) and its parts ``NodeMap``, ``InputMap`` and
``OutputMap``.

* every neuron node becomes one population (``NirNetwork.nodes`` maps NIR names to
  population names, shapes and global neurons);
* a top-level Input node becomes input *channels* (``NirNetwork.inputs``): its maps onto
  the first populations are the synapses ``(channel, neuron, weight, delay)`` in
  ``NirNetwork.input_channel/input_post/input_weight/input_delay`` (the chip's input
  channels, ``mapping.Network``), and the user's input array drives them later;
* a top-level Output node becomes probes of the populations that feed it
  (``NirNetwork.outputs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ..netlist import Netlist


class _Span:
    """A run ``start:stop`` of global indices (neurons or input channels)."""

    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class NodeMap(_Span):
    """Where a NIR neuron node went: population ``population`` (global neurons
    ``start:stop``), the node's ``shape`` (its values in C order are the neurons)."""

    name: str
    type: str
    population: str
    shape: tuple[int, ...]
    start: int
    stop: int


@dataclass(frozen=True)
class InputMap(_Span):
    """A top-level Input node: channels ``start:stop`` of the input array, ``shape``."""

    name: str
    shape: tuple[int, ...]
    start: int
    stop: int


@dataclass(frozen=True)
class OutputMap:
    """A top-level Output node: the NIR neuron nodes (and populations) that feed it."""

    name: str
    shape: tuple[int, ...]
    nodes: tuple[str, ...]
    populations: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class NirNetwork:
    """A loaded NIR graph: the float ``netlist`` (physical units, ``dt`` in it) plus the
    input channels and the maps from NIR names to populations.

    ``netlist.duration`` is one tick; ``netlist_for(ticks)`` gives a netlist of the
    length of a run. Input synapses (global neuron indices, weights in amperes, delays
    in ticks >= 0) are sorted by ``(channel, post, delay)``.
    """

    source: str
    netlist: Netlist
    convention: str
    convention_reason: str
    dt_export: float | None
    reset: Mapping[str, str]
    nodes: Mapping[str, NodeMap]
    inputs: Mapping[str, InputMap]
    outputs: Mapping[str, OutputMap]
    input_channel: np.ndarray
    input_post: np.ndarray
    input_weight: np.ndarray
    input_delay: np.ndarray
    warnings: tuple[str, ...] = ()

    @property
    def dt(self) -> float:
        return self.netlist.dt

    @property
    def n(self) -> int:
        return self.netlist.n

    @property
    def n_inputs(self) -> int:
        return sum(i.size for i in self.inputs.values())

    def population(self, node: str) -> str:
        """The population name of NIR neuron node ``node``."""
        return self._node(node).population

    def slice(self, node: str) -> slice:
        """Global neuron indices of NIR neuron node ``node``."""
        m = self._node(node)
        return slice(m.start, m.stop)

    def _node(self, node: str) -> NodeMap:
        try:
            return self.nodes[node]
        except KeyError:
            raise KeyError(f"no neuron node {node!r} (neuron nodes: "
                           f"{', '.join(self.nodes)})") from None

    def netlist_for(self, ticks: int) -> Netlist:
        """The netlist with ``duration = ticks * dt``."""
        if isinstance(ticks, bool) or int(ticks) != ticks or ticks < 1:
            raise ValueError(f"ticks must be a positive integer, got {ticks!r}")
        return replace(self.netlist, duration=int(ticks) * self.netlist.dt)

    def input_array(self, inputs) -> np.ndarray:
        """``(ticks, n_inputs)`` float64 from ``inputs``: such an array, ``(ticks,
        *shape)`` when there is one Input node, or a mapping Input name -> ``(ticks,
        *shape)`` (missing Input nodes are zero)."""
        n_in = self.n_inputs
        if isinstance(inputs, Mapping):
            unknown = [k for k in inputs if k not in self.inputs]
            if unknown:
                raise ValueError(f"no Input node {unknown[0]!r} (Input nodes: "
                                 f"{', '.join(self.inputs) or 'none'})")
            arrays = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
            lengths = {a.shape[0] if a.ndim else 0 for a in arrays.values()}
            if len(lengths) != 1:
                raise ValueError("inputs of the Input nodes must have one number of ticks, "
                                 f"got {sorted(lengths)}")
            ticks = lengths.pop()
            out = np.zeros((ticks, n_in))
            for name, a in arrays.items():
                m = self.inputs[name]
                if a.shape[1:] != m.shape and a.shape[1:] != (m.size,):
                    raise ValueError(f"input of {name!r} has shape {a.shape}, expected "
                                     f"(ticks, {', '.join(map(str, m.shape))})")
                out[:, m.start:m.stop] = a.reshape(ticks, m.size)
            x = out
        else:
            x = np.asarray(inputs, dtype=np.float64)
            if x.ndim >= 2 and x.shape[1:] != (n_in,) and len(self.inputs) == 1:
                (m,) = self.inputs.values()
                if x.shape[1:] == m.shape:
                    x = x.reshape(x.shape[0], n_in)
            if x.ndim != 2 or x.shape[1] != n_in:
                raise ValueError(f"input array has shape {x.shape}, expected (ticks, "
                                 f"{n_in}) (channels of {', '.join(self.inputs) or 'none'})")
        if x.shape[0] < 1:
            raise ValueError("the input array must have at least one tick")
        if not np.all(np.isfinite(x)):
            raise ValueError("the input array must be finite")
        return x

    def input_jumps(self, inputs) -> np.ndarray:
        """``(ticks, n)`` synaptic jumps (A) the input array makes: input ``x[k, c]``
        reaches post neuron ``j`` in tick ``k + delay`` with ``x[k, c] * weight``."""
        x = self.input_array(inputs)
        ticks = x.shape[0]
        out = np.zeros((ticks, self.n))
        if not self.input_channel.size:
            return out
        for d in np.unique(self.input_delay):
            sel = self.input_delay == d
            ch, post, w = self.input_channel[sel], self.input_post[sel], self.input_weight[sel]
            for k in range(ticks - int(d)):
                row = x[k, ch]
                if row.any():
                    out[k + int(d)] += np.bincount(post, weights=row * w, minlength=self.n)
        return out

    def dense_weights(self, pre: str, post: str) -> np.ndarray:
        """``(post size, pre size)`` summed synaptic weights (A) from NIR node ``pre`` (a
        neuron node or an Input node) onto neuron node ``post`` (NIR's (out, in))."""
        to = self._node(post)
        if pre in self.inputs:
            m = self.inputs[pre]
            sel = ((self.input_channel >= m.start) & (self.input_channel < m.stop)
                   & (self.input_post >= to.start) & (self.input_post < to.stop))
            out = np.zeros((to.size, m.size))
            np.add.at(out, (self.input_post[sel] - to.start, self.input_channel[sel] - m.start),
                      self.input_weight[sel])
            return out
        src = self._node(pre)
        out = np.zeros((to.size, src.size))
        for proj in self.netlist.projections:
            if proj.pre == src.population and proj.post == to.population:
                c = proj.connectivity
                np.add.at(out, (np.asarray(c.post, dtype=np.int64),
                                np.asarray(c.pre, dtype=np.int64)),
                          np.broadcast_to(np.asarray(c.weight, dtype=float), (len(c.pre),)))
        return out
