r"""NIR import and export: a NIR graph <-> a float ``Netlist`` in physical units.

NIR (the Neuromorphic Intermediate Representation, read and written by the ``nir``
package as HDF5 files) describes a network as a graph of *stateful* neuron nodes and
*stateless* maps between them. ``load_nir`` turns one into a ``NirNetwork``:

* every neuron node (LIF, CubaLIF, IF, LI, CubaLI, I, Threshold) becomes one population of
  the firmware model ``"lif"`` (``firmware_models.lif.reference.LifPhysical``), named after
  the node (``NirNetwork.nodes`` maps NIR names to population names and shapes);
* the stateless nodes between two neuron nodes (Affine, Linear, Scale, Conv1d, Conv2d,
  SumPool2d, AvgPool2d, Flatten, Delay, Identity, and the Input/Output nodes of nested
  subgraphs) are composed into the explicit synapse list of one projection: convolutions
  and pooling are unrolled with NIR's (PyTorch's) stride, padding, dilation and groups;
  an Affine or Conv bias, carried through the later maps, becomes a DC input current of
  the post population;
* a top-level Input node becomes input *channels* (``NirNetwork.inputs``): its maps onto
  the first populations are the synapses ``(channel, neuron, weight, delay)`` in
  ``NirNetwork.input_channel/input_post/input_weight/input_delay`` (the chip's input
  channels, ``mapping.Network``), and the user's input array drives them later;
* a top-level Output node becomes probes of the populations that feed it;
* nested ``NIRGraph`` nodes are flattened with dotted names (``"lif1.lif"``), and
  recurrent cycles are ordinary projections.

Time and delays (the chip's semantics, DESIGN §3): a spike decided in tick ``k`` reaches
its post population in tick ``k + 1`` at the earliest, so every projection between
populations has a delay of ``1 + d`` ticks where ``d`` is the delay of its NIR Delay
nodes (0 without one). Input channels have no such tick: the input of tick ``k`` reaches
the first populations in tick ``k + d``. A signal through ``L`` layers of populations
therefore arrives ``L - 1`` ticks later than in PyTorch-style simulators, which pass a
whole layer stack within one step.

The neuron models (NIR's equations)::

    LIF      tau dv/dt = (v_leak - v) + r I                      spike: v > v_threshold
    CubaLIF  tau_syn dI/dt = -I + w_in S;  tau_mem dv/dt = (v_leak - v) + r I
    IF       dv/dt = r I                                          spike: v > v_threshold
    LI, CubaLI   as LIF, CubaLIF without spikes;   I (integrator)   dv/dt = r I
    Threshold    z = H(x - threshold), no state

and the float reference per tick (``reference.simulate``; ``a_m = exp(-dt/tau_m)``,
``a_s = exp(-dt/tau_syn)``)::

    I_syn = a_s I_syn + J[k]                   J: synaptic jumps (A) arriving in tick k
    V     = E_L + a_m (V - E_L) + R (1 - a_m) (I_syn + I_dc)

Exporter conventions
--------------------
Exporters write the same equations with different meanings of ``r``, ``w_in`` and of
time. Each convention below says which per-tick map (one tick = one step of the
exporter's simulator) the numbers of the file imply; ``load_nir`` chooses LifPhysical
values that make the reference map above *equal* that map (``x[k]`` is the node's input
in tick ``k``: the weighted sum of spikes plus biases, in the file's units; ``h`` is the
file's time step in the file's time unit)::

    physical  h = dt (s)   v[k] = v_leak + a (v - v_leak) + r (1 - a) x[k],   a = e^(-dt/tau)
                           I[k] = b I + (1 - b) w_in x[k],   b = e^(-dt/tau_syn)
                           (NIR's ODEs solved exactly with the input held over the tick)
    norse     h = dt (s)   v[k] = v + (dt/tau) (v_leak - v + r x[k])     (Euler; r = 1)
                           I[k] = (1 - dt/tau_syn) I + w_in x[k]         (w_in = 1: raw jump)
    sinabs    h = 1 tick   as physical with tau in ticks: a = e^(-1/tau);
                           IF: v[k] = v + r x[k]                          (r = 1)
    snntorch  h = dt0      v[k] = (1 - dt0/tau) v + (dt0/tau) r x[k]      (Euler at dt0;
                           r = tau/dt0 gives v = beta v + x, beta = 1 - 1/r)
                           I[k] = (1 - dt0/tau_syn) I + (dt0/tau_syn) w_in x[k]
                           (w_in = tau_syn/dt0 gives I = alpha I + x)
    rockpool  h = dt0      v[k] = a v + (dt0/tau) r x[k],  a = e^(-dt0/tau)   (add, decay;
                           r = (tau/dt0) e^(-dt0/tau) ~ tau/dt0 - 1 gives v = a (v + x))
                           I[k] = b (I + w_in x[k]),  b = e^(-dt0/tau_syn)

For IF and I nodes every convention means ``v[k] = v + h r x[k]``. ``dt0`` is the
exporter's own time step, found in the file: snnTorch ``dt0 = tau / r`` (snnTorch writes
``dt0 = 1e-4`` s); Rockpool solves ``r = (tau/dt0) e^(-dt0/tau)`` for ``dt0``. With
snnTorch, Rockpool and Sinabs one tick is one exporter step whatever ``dt`` the user
picks (``dt`` only sets the physical time scale); with Norse and physical the file's
time constants are seconds and ``dt`` is the step. Delay nodes are in the same time
unit (``d = delay / h`` ticks; it must be a whole number).

``convention="auto"`` guesses: a file written by ``save_nir`` is physical; ``r == 1``
everywhere is Norse when some ``tau < 1`` (seconds) and Sinabs otherwise (ticks; also
for IF-only graphs); otherwise snnTorch when ``tau/r`` is one ``dt0`` for all nodes
(and ``w_in = tau_syn/dt0``), Rockpool when the Rockpool equation gives one ``dt0`` (and
``w_in = 1``) -- when both fit, the one whose ``dt0`` is a round number (three
significant digits) wins, then snnTorch; else physical. ``NirNetwork.convention`` and
``convention_reason`` say what was chosen.

Representations (constants of this module)
------------------------------------------
* No synaptic state (LIF, IF, LI, I, Threshold): ``tau_syn = dt * MEMORYLESS_TAU``
  (``dt/1000``), so ``a_s = exp(-1000) == 0.0`` exactly: the jump of tick ``k`` is the
  whole current of tick ``k``.
* No leak (IF, I): ``tau_m = NO_LEAK_TICKS * dt`` (``2**24`` ticks) and ``R`` chosen so
  that ``R (1 - a_m)`` is the gain ``h r``; the remaining leak is ``6e-8`` of ``v - E_L``
  per tick and the float gain is exact to about ``2e-9``.
* No spikes (LI, CubaLI, I): ``V_th = NEVER_FIRES_V_TH`` (``1e30`` V), reset ``"none"``.
* Threshold: ``tau_m = tau_syn = dt/1000`` (both decays exactly 0), ``R = 1``, ``E_L = 0``,
  ``V_th = threshold``, reset ``"none"``: ``V`` is this tick's input, and the neuron
  fires in the tick its input reaches the threshold.
* ``T_ref = 0``, ``alpha = 0``, ``sigma = 0``; ``dt`` and the reset mode are the user's
  (``reset="auto"``: ``"value"`` for Norse and physical, ``"subtract"`` for snnTorch,
  Sinabs and Rockpool, ``RESET_DEFAULTS``).
* The state starts at rest: ``V = E_L = v_leak``, ``I_syn = 0`` (Norse starts at
  ``v_leak`` too; the others write ``v_leak = 0`` and start at 0).

What is approximated (see docs/nir.md): one tick of latency per projection; a spike when
``v >= v_threshold`` (NIR: ``v > v_threshold``; they differ only at equality); reset
``"subtract"`` removes ``v_threshold - v_leak`` (NIR exporters subtract ``v_threshold``;
equal when ``v_leak = 0``); at most one spike per neuron and tick (Sinabs' and Rockpool's
multi-spike outputs are not reproduced); a bias into a CubaLIF becomes its steady-state
current at once (NIR's synapse would charge up with ``tau_syn``); Norse's CubaLIF uses
the synaptic current of the previous step in its membrane update, the reference the
current of this tick.

Errors: every refusal is a ``NirError`` (a ``ValueError``) with one line
``"{file}: {node or edge}: {what is wrong}"``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from firmware_models.lif.reference import (
    NUMERIC_FIELDS,
    RESET_MODES,
    LifPhysical,
    simulate,
)

from .netlist import (
    DcInput,
    Netlist,
    PoissonInput,
    SpikeInput,
    StepInput,
    expand,
    netlist_from_dict,
)

CONVENTIONS = ("auto", "physical", "norse", "sinabs", "snntorch", "rockpool")
NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
STATELESS_TYPES = ("Affine", "Linear", "Scale", "Delay", "Flatten", "Conv1d", "Conv2d",
                   "SumPool2d", "AvgPool2d", "Identity")
SUPPORTED_TYPES = ("Input", "Output", "NIRGraph", *NEURON_TYPES, *STATELESS_TYPES)
NON_SPIKING = ("LI", "CubaLI", "I")

NEVER_FIRES_V_TH = 1e30        # V: threshold of neurons that never spike (LI, CubaLI, I)
NO_LEAK_TICKS = 2 ** 24        # tau_m of neurons without leak (IF, I), in ticks
MEMORYLESS_TAU = 1e-3          # tau (in ticks) of a state with no memory: exp(-1000) == 0
SNNTORCH_DT = 1e-4             # s: the step snnTorch's exporter hard-codes
ROCKPOOL_DT = 1e-3             # s: Rockpool's default step (used only when nothing says)
GAIN_SNAP = 1e-12              # an input gain this close to 1 is taken as exactly 1
EXPORTER = "neurochip"
# reset="auto": what each exporter's simulator does by default
RESET_DEFAULTS = {"physical": "value", "norse": "value", "snntorch": "subtract",
                  "sinabs": "subtract", "rockpool": "subtract"}

_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")


# ====================================================================== errors
class NirError(ValueError):
    """A NIR graph refused: ``"{source}: {where}: {problem}"`` on one line.

    ``source`` is the file (or ``"<graph>"``), ``where`` the node or edge
    (``"node 'lif1.lif'"``, ``"edge 'fc1' -> 'lif1'"``; empty for the whole file).
    """

    def __init__(self, source: str, where: str, problem: str):
        self.source, self.where, self.problem = str(source), where, problem
        text = f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}"
        super().__init__(" ".join(text.split("\n")))


def _node_at(name: str) -> str:
    return f"node {name!r}"


def _edge_at(a: str, b: str) -> str:
    return f"edge {a!r} -> {b!r}"


# ====================================================================== results
@dataclass(frozen=True)
class NodeMap:
    """Where a NIR neuron node went: population ``population`` (global neurons
    ``start:stop``), the node's ``shape`` (its values in C order are the neurons)."""

    name: str
    type: str
    population: str
    shape: tuple[int, ...]
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class InputMap:
    """A top-level Input node: channels ``start:stop`` of the input array, ``shape``."""

    name: str
    shape: tuple[int, ...]
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


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


# ====================================================================== reading
def _read_source(path_or_graph) -> tuple[str, dict]:
    if isinstance(path_or_graph, (str, os.PathLike)):
        source = str(path_or_graph)
        try:
            import h5py
            from nir.serialization import hdf2dict
        except ImportError as e:                      # pragma: no cover
            raise NirError(source, "", f"reading .nir files needs the 'nir' package ({e})"
                           ) from None
        if not Path(path_or_graph).is_file():
            raise NirError(source, "", "no such file")
        try:
            with h5py.File(path_or_graph, "r") as f:
                if "node" not in f:
                    raise NirError(source, "", "not a NIR file (no 'node' group)")
                raw = hdf2dict(f["node"])
        except NirError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise NirError(source, "", f"cannot read as a NIR (HDF5) file: {e}") from None
        return source, raw
    if isinstance(path_or_graph, Mapping):
        return "<dict>", dict(path_or_graph)
    try:
        import nir
    except ImportError:                               # pragma: no cover
        nir = None
    if nir is not None and isinstance(path_or_graph, nir.NIRNode):
        return "<graph>", _raw_from_node(path_or_graph)
    raise TypeError(f"load_nir takes a .nir path, a nir.NIRGraph or a dict, got "
                    f"{type(path_or_graph).__name__}")


def _raw_from_node(node) -> dict:
    """A NIR node object as the dict ``nir.serialization.hdf2dict`` gives for it."""
    import nir
    meta = dict(getattr(node, "metadata", None) or {})
    if isinstance(node, nir.NIRGraph):
        return {"type": "NIRGraph", "nodes": {k: _raw_from_node(v) for k, v in node.nodes.items()},
                "edges": [tuple(e) for e in node.edges], "metadata": meta}
    if isinstance(node, nir.Input):
        return {"type": "Input", "shape": (node.input_type or {}).get("input"),
                "metadata": meta}
    if isinstance(node, nir.Output):
        return {"type": "Output", "shape": (node.output_type or {}).get("output"),
                "metadata": meta}
    out: dict[str, Any] = {"type": type(node).__name__, "metadata": meta}
    if isinstance(node, nir.Flatten):
        out.update(start_dim=node.start_dim, end_dim=node.end_dim,
                   input_type=(node.input_type or {}).get("input"))
        return out
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            if f.name in ("input_type", "output_type", "metadata"):
                continue
            value = getattr(node, f.name)
            if value is not None:
                out[f.name] = value
    return out


def _text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text(value.item())
    if isinstance(value, str):
        return value
    return None


def _edges(value, source: str, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return []
        value = value.reshape(-1, value.shape[-1]).tolist() if value.ndim >= 2 else [value.tolist()]
    out = []
    for e in value:
        pair = [_text(x) for x in (e if isinstance(e, (list, tuple)) else [e])]
        if len(pair) != 2 or None in pair:
            raise NirError(source, where, f"edge {e!r} is not a pair of node names")
        out.append((pair[0], pair[1]))
    return out


@dataclass
class _Node:
    name: str            # flattened, dotted
    type: str            # NIR type, or "Identity" for a nested Input/Output
    role: str            # "input" | "output" | "neuron" | "stateless"
    raw: dict
    shape: tuple[int, ...] | None = None      # output shape, once resolved
    in_shape: tuple[int, ...] | None = None   # input shape, once resolved


class _Graph:
    """The flattened graph: nodes by dotted name, edges, predecessor lists."""

    def __init__(self, raw: dict, source: str):
        self.source = source
        self.nodes: dict[str, _Node] = {}
        self.edges: list[tuple[str, str]] = []
        if _text(raw.get("type")) not in (None, "NIRGraph"):
            raise NirError(source, "", f"the top node is a {_text(raw.get('type'))!r}, not a "
                                       f"NIRGraph")
        self.metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        self._walk(raw, "", top=True)
        seen = set()
        for a, b in self.edges:
            if (a, b) in seen:
                raise NirError(source, _edge_at(a, b), "duplicate edge")
            seen.add((a, b))
        self.nodes = {k: self.nodes[k] for k in sorted(self.nodes)}
        self.preds: dict[str, list[str]] = {k: [] for k in self.nodes}
        self.succs: dict[str, list[str]] = {k: [] for k in self.nodes}
        for a, b in sorted(self.edges):
            self.preds[b].append(a)
            self.succs[a].append(b)

    def _walk(self, graph: dict, prefix: str, top: bool) -> None:
        where = f"subgraph {prefix[:-1]!r}" if prefix else ""
        nodes = graph.get("nodes")
        if not isinstance(nodes, dict):
            raise NirError(self.source, where, "has no 'nodes'")
        for name, node in nodes.items():
            full = prefix + str(name)
            if not isinstance(node, dict) or _text(node.get("type")) is None:
                raise NirError(self.source, _node_at(full), "has no type")
            kind = _text(node["type"])
            if kind == "NIRGraph":
                if full in self.nodes:
                    raise NirError(self.source, _node_at(full), "two nodes flatten to this name")
                self._walk(node, full + ".", top=False)
                continue
            if kind not in SUPPORTED_TYPES:
                raise NirError(self.source, _node_at(full),
                               f"unsupported node type {kind!r} (supported: "
                               f"{', '.join(SUPPORTED_TYPES)})")
            if kind in ("Input", "Output"):
                role = kind.lower() if top else "stateless"
                kind = kind if top else "Identity"
            elif kind in NEURON_TYPES:
                role = "neuron"
            else:
                role = "stateless"
            if full in self.nodes:
                raise NirError(self.source, _node_at(full), "two nodes flatten to this name "
                                                            "(a dotted name and a subgraph)")
            self.nodes[full] = _Node(full, kind, role, node)
        for a, b in _edges(graph.get("edges"), self.source, where):
            src = self._resolve(nodes, prefix, a, "Output", (a, b))
            dst = self._resolve(nodes, prefix, b, "Input", (a, b))
            self.edges.append((src, dst))

    def _resolve(self, nodes: dict, prefix: str, name: str, port: str, edge) -> str:
        at = _edge_at(prefix + edge[0], prefix + edge[1])
        if name in nodes:
            node = nodes[name]
            if isinstance(node, dict) and _text(node.get("type")) == "NIRGraph":
                inner = node.get("nodes") or {}
                ports = sorted(k for k, v in inner.items()
                               if isinstance(v, dict) and _text(v.get("type")) == port)
                if len(ports) != 1:
                    raise NirError(self.source, at,
                                   f"subgraph {prefix + name!r} has {len(ports)} {port} nodes; "
                                   f"name one as '{name}.<node>'")
                return f"{prefix}{name}.{ports[0]}"
            return prefix + name
        head, dot, rest = name.partition(".")
        if dot and head in nodes and isinstance(nodes[head], dict) \
                and _text(nodes[head].get("type")) == "NIRGraph":
            return self._resolve(nodes[head].get("nodes") or {}, f"{prefix}{head}.", rest, port,
                                 (edge[0], edge[1]))
        inside = f" in subgraph {prefix[:-1]!r}" if prefix else ""
        raise NirError(self.source, at,
                       f"no node {name!r}{inside} (its nodes: "
                       f"{', '.join(sorted(map(str, nodes)))})")


# ====================================================================== parameters
class _P:
    """Checked parameters of one node."""

    def __init__(self, node: _Node, source: str):
        self.node, self.source, self.raw = node, source, node.raw

    def fail(self, problem: str):
        raise NirError(self.source, _node_at(self.node.name), problem)

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def num(self, key: str, *, default=None, check: str = "") -> np.ndarray:
        if not self.has(key):
            if default is None:
                self.fail(f"missing required parameter {key!r} of {self.node.type}")
            return np.asarray(default, dtype=np.float64)
        value = self.raw[key]
        try:
            a = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            self.fail(f"parameter {key!r} must be numeric, got {type(value).__name__}")
        bad = ~np.isfinite(a)
        if bad.any():
            self.fail(f"parameter {key!r} has non-finite values ({float(a[bad].flat[0])!r} at "
                      f"index {_index(bad)})")
        tests = {"positive": (a > 0, "positive"), "nonneg": (a >= 0, ">= 0")}
        if check:
            ok, what = tests[check]
            if not np.all(ok):
                self.fail(f"parameter {key!r} must be {what}, got {float(a[~ok].flat[0])!r} at "
                          f"index {_index(~ok)}")
        return a

    def ints(self, key: str, n: int, default) -> tuple[int, ...]:
        value = self.raw.get(key)
        if value is None:
            value = default
        a = np.atleast_1d(np.asarray(value))
        if a.dtype.kind not in "iuf" or a.size not in (1, n) or np.any(a != np.round(a)):
            self.fail(f"parameter {key!r} must be an integer or {n} integers, got {value!r}")
        return tuple(int(x) for x in np.broadcast_to(a, (n,)))

    def shape(self, key: str) -> tuple[int, ...] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        a = np.atleast_1d(np.asarray(value))
        if a.dtype.kind not in "iuf" or np.any(a != np.round(a)) or np.any(a < 0):
            self.fail(f"{key} must be a list of sizes, got {value!r}")
        return tuple(int(x) for x in a)


def _index(mask: np.ndarray):
    idx = np.argwhere(mask)[0]
    return int(idx[0]) if idx.size == 1 else tuple(int(i) for i in idx)


_REQUIRED = {
    "LIF": ("tau", "r", "v_leak", "v_threshold"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak"),
    "IF": ("r", "v_threshold"),
    "LI": ("tau", "r", "v_leak"),
    "I": ("r",),
    "Threshold": ("threshold",),
}
_POSITIVE = ("tau", "tau_mem", "tau_syn", "r")


def _neuron_params(node: _Node, source: str) -> dict[str, np.ndarray]:
    p = _P(node, source)
    out = {}
    for key in _REQUIRED[node.type]:
        out[key] = p.num(key, check="positive" if key in _POSITIVE else "")
    if node.type in ("LIF", "CubaLIF", "IF"):
        out["v_reset"] = p.num("v_reset", default=0.0)     # missing v_reset means zeros
    if node.type in ("CubaLIF", "CubaLI"):
        out["w_in"] = p.num("w_in", default=1.0)           # missing w_in means 1
    try:
        shape = np.broadcast_shapes(*(a.shape for a in out.values()))
    except ValueError:
        p.fail("parameters have shapes that do not broadcast: " +
               ", ".join(f"{k} {a.shape}" for k, a in out.items()))
    out["_shape"] = shape
    return out


# ====================================================================== conventions
def _lambert_u(r: np.ndarray) -> np.ndarray:
    """``u > 0`` with ``r = exp(-u) / u`` (Rockpool's ``r`` for ``u = dt0/tau``)."""
    r = np.asarray(r, dtype=np.float64)
    u = 1.0 / (r + 1.0)
    for _ in range(60):
        g = u + np.log(u) + np.log(r)
        u_new = u - g / (1.0 + 1.0 / u)
        u = np.where(u_new > 0, u_new, u / 2)
    return u


def _consistent(values: list[np.ndarray], rtol: float = 1e-3) -> float | None:
    if not values:
        return None
    v = np.concatenate([np.ravel(x) for x in values])
    if not np.all(v > 0):
        return None
    med = float(np.median(v))
    return med if np.all(np.abs(v / med - 1) <= rtol) else None


def _is_round(x: float) -> bool:
    return abs(float(f"{x:.2e}") - x) <= 1e-5 * abs(x)


def _auto_convention(graph: _Graph, params: dict) -> tuple[str, str]:
    if _text(graph.metadata.get("exporter")) == EXPORTER:
        return "physical", f"written by {EXPORTER}'s save_nir (physical units)"
    with_r = {k: p for k, p in params.items() if "r" in p}
    if not with_r:
        return "physical", "no node has an r to tell the exporter by"
    if all(np.allclose(p["r"], 1.0, rtol=1e-6, atol=0) for p in with_r.values()):
        taus = [p[k] for p in params.values() for k in ("tau", "tau_mem", "tau_syn") if k in p]
        if not taus:
            return "sinabs", "r = 1 everywhere and no time constant (IF/I only): Sinabs"
        low = min(float(np.min(t)) for t in taus)
        if low >= 1:
            return "sinabs", "r = 1 everywhere and every tau >= 1: Sinabs (tau in ticks)"
        return "norse", "r = 1 everywhere and some tau < 1: Norse (tau in seconds)"
    leaky = {k: p for k, p in params.items() if "tau" in p or "tau_mem" in p}
    if not leaky:
        return "physical", "r != 1 and no time constant: taken literally"
    snn = _snntorch_dt0(leaky)
    rock = _rockpool_dt0(leaky)
    if snn is not None and rock is not None:
        if _is_round(rock) and not _is_round(snn):
            return "rockpool", (f"r = (tau/dt0) e^(-dt0/tau) with one round dt0 = {rock:.6g} s "
                                f"(tau/r = {snn:.6g} s is not round): Rockpool")
        return "snntorch", f"r = tau/dt0 with one dt0 = {snn:.6g} s: snnTorch"
    if snn is not None:
        return "snntorch", f"r = tau/dt0 with one dt0 = {snn:.6g} s: snnTorch"
    if rock is not None:
        return "rockpool", f"r = (tau/dt0) e^(-dt0/tau) with one dt0 = {rock:.6g} s: Rockpool"
    return "physical", ("r differs from 1 and fits neither snnTorch's r = tau/dt0 nor "
                        "Rockpool's r = (tau/dt0) e^(-dt0/tau) with one dt0: taken literally")


def _tau_mem(p):
    return p["tau"] if "tau" in p else p["tau_mem"]


def _snntorch_dt0(leaky: dict) -> float | None:
    dt0 = _consistent([_tau_mem(p) / p["r"] for p in leaky.values()])
    if dt0 is None:
        return None
    for p in leaky.values():
        if "tau_syn" in p and not np.allclose(p["tau_syn"] / p["w_in"], dt0, rtol=1e-3, atol=0):
            return None
    return dt0


def _rockpool_dt0(leaky: dict) -> float | None:
    dt0 = _consistent([_lambert_u(p["r"]) * _tau_mem(p) for p in leaky.values()], rtol=1e-4)
    if dt0 is None:
        return None
    if any("w_in" in p and not np.allclose(p["w_in"], 1.0) for p in leaky.values()):
        return None
    return dt0


# ====================================================================== neuron models
@dataclass
class _Model:
    """One neuron node as per-neuron LifPhysical values and input gains (flat, size n)."""

    values: dict[str, np.ndarray]     # LifPhysical numeric fields
    in_gain: np.ndarray               # A per unit of NIR input, per post neuron
    bias_gain: np.ndarray             # A of DC current per unit of constant NIR input
    spiking: bool
    reset: str


def _model(node: _Node, p: dict, conv: str, dt: float, dt0: float | None, reset: str,
           source: str) -> _Model:
    fail = _P(node, source).fail
    shape = node.shape
    n = int(np.prod(shape))

    def flat(key, default=None):
        a = p[key] if key in p else np.asarray(default, dtype=np.float64)
        return np.broadcast_to(a, shape).reshape(n).astype(np.float64)

    h = {"physical": dt, "norse": dt, "sinabs": 1.0}.get(conv, dt0)
    euler = conv in ("norse", "snntorch")
    kind = node.type
    memoryless = dt * MEMORYLESS_TAU
    ones = np.ones(n)
    if kind == "Threshold":
        tau_m = np.full(n, memoryless)
        values = {"C": tau_m.copy(), "g_L": ones.copy(), "E_L": np.zeros(n),
                  "V_th": flat("threshold"), "V_reset": np.zeros(n),
                  "tau_syn": np.full(n, memoryless)}
        return _Model(values, ones.copy(), ones.copy(), True, "none")

    r = flat("r")
    if kind in ("IF", "I"):
        tau_m = np.full(n, NO_LEAK_TICKS * dt)
        gain = h * r                                        # volts per unit input per tick
        R = gain / (1.0 - np.exp(-dt / tau_m))
        g_L = 1.0 / R
        E_L = np.zeros(n)
        m_scale = ones.copy()
        values = {"C": tau_m * g_L, "g_L": g_L, "E_L": E_L}
    else:
        tau = flat("tau" if "tau" in p else "tau_mem")
        x = h / tau
        if euler:
            a_m = 1.0 - x
            if np.any(a_m <= 0):
                bad = a_m <= 0
                fail(f"membrane decay per tick 1 - h/tau = {float(a_m[bad][0])!r} <= 0 "
                     f"(h = {h!r}, tau = {float(tau[bad][0])!r}): the {conv} (Euler) step "
                     f"needs tau > h")
            tau_m = -dt / np.log1p(-x)
            m_scale = ones.copy()
        else:
            a_m = np.exp(-x)
            tau_m = tau * (dt / h)
            m_scale = x / (1.0 - a_m) if conv == "rockpool" else ones.copy()
        if np.any(a_m >= 1.0):
            fail(f"time constant too long for dt: exp(-h/tau) rounds to 1 "
                 f"(tau = {float(tau.max())!r})")
        values = {"C": tau_m / r, "g_L": 1.0 / r, "E_L": flat("v_leak")}

    if kind in ("CubaLIF", "CubaLI"):
        ts = flat("tau_syn")
        w_in = flat("w_in")
        xs = h / ts
        if euler:
            a_s = 1.0 - xs
            if np.any(a_s < 0):
                bad = a_s < 0
                fail(f"synaptic decay per tick 1 - h/tau_syn = {float(a_s[bad][0])!r} < 0 "
                     f"(h = {h!r}, tau_syn = {float(ts[bad][0])!r}): the {conv} (Euler) step "
                     f"needs tau_syn >= h")
            with np.errstate(divide="ignore"):
                tau_s = np.where(a_s > 0, -dt / np.log1p(-np.minimum(xs, 1.0)), memoryless)
            jump = w_in if conv == "norse" else xs * w_in
        else:
            a_s = np.exp(-xs)
            tau_s = np.where(a_s > 0, ts * (dt / h), memoryless)
            jump = a_s * w_in if conv == "rockpool" else (1.0 - a_s) * w_in
        in_gain = jump * m_scale
        bias_gain = in_gain / (1.0 - a_s)
    else:
        tau_s = np.full(n, memoryless)
        in_gain = m_scale
        bias_gain = m_scale.copy()
    in_gain = np.where(np.abs(in_gain - 1.0) <= GAIN_SNAP, 1.0, in_gain)
    bias_gain = np.where(np.abs(bias_gain - 1.0) <= GAIN_SNAP, 1.0, bias_gain)

    spiking = kind not in NON_SPIKING
    if spiking:
        V_th = flat("v_threshold")
        V_reset = flat("v_reset", 0.0)
        if reset == "value" and np.any(~(V_reset < V_th)):
            bad = ~(V_reset < V_th)
            fail(f"v_reset ({float(V_reset[bad][0])!r}) must be below v_threshold "
                 f"({float(V_th[bad][0])!r}) for reset 'value'")
    else:
        V_th = np.full(n, NEVER_FIRES_V_TH)
        V_reset = np.zeros(n)
        reset = "none"
    values.update(V_th=V_th, V_reset=V_reset, tau_syn=tau_s)
    for key, a in values.items():
        if not np.all(np.isfinite(a)) or (key in ("C", "g_L", "tau_syn") and np.any(a <= 0)):
            fail(f"gives a non-physical {key} ({float(a.flat[0])!r}) with dt = {dt!r} and "
                 f"convention {conv!r}")
    return _Model(values, in_gain, bias_gain, spiking, reset)


# ====================================================================== linear maps
@dataclass
class _Signal:
    """A node's output as a linear function of source nodes (NIR units): per source,
    the terms ``(src index, out index, weight, delay ticks)``; plus a constant."""

    size: int
    terms: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    const: np.ndarray | None = None


def _merge(src, dst, w, d, n_dst):
    if src.size == 0:
        return src, dst, w, d
    dmax = int(d.max()) + 1
    key = (src.astype(np.int64) * n_dst + dst) * dmax + d
    uniq, inv = np.unique(key, return_inverse=True)
    ws = np.bincount(inv.ravel(), weights=w)
    d2 = uniq % dmax
    rest = uniq // dmax
    keep = ws != 0
    return (rest // n_dst)[keep], (rest % n_dst)[keep], ws[keep], d2[keep]


def _identity(name: str, n: int) -> _Signal:
    i = np.arange(n, dtype=np.int64)
    return _Signal(n, {name: (i, i.copy(), np.ones(n), np.zeros(n, dtype=np.int64))})


def _sum(signals: list[_Signal], n: int) -> _Signal:
    terms: dict[str, list] = {}
    const = None
    for s in signals:
        for src, t in s.terms.items():
            terms.setdefault(src, []).append(t)
        if s.const is not None:
            const = s.const.copy() if const is None else const + s.const
    out = {}
    for src, parts in terms.items():
        cat = [np.concatenate([p[j] for p in parts]) for j in range(4)]
        out[src] = _merge(*cat, n) if len(parts) > 1 else tuple(cat)
    return _Signal(n, out, const)


def _matmul(sig: _Signal, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_out: int
            ) -> _Signal:
    """``out = M @ in`` with ``M`` given as (rows=out, cols=in, vals)."""
    order = np.argsort(cols, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(cols, np.arange(sig.size))
    counts = np.diff(np.append(starts, cols.size))
    terms = {}
    for src, (s, k, w, d) in sig.terms.items():
        cnt = counts[k]
        total = int(cnt.sum())
        rep = np.repeat(np.arange(k.size), cnt)
        offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        idx = starts[k][rep] + offs
        terms[src] = _merge(s[rep], rows[idx], w[rep] * vals[idx], d[rep], n_out)
    const = None
    if sig.const is not None:
        const = np.bincount(rows, weights=vals * sig.const[cols], minlength=n_out)
    return _Signal(n_out, terms, const)


def _elementwise(sig: _Signal, scale=None, delay=None) -> _Signal:
    terms = {}
    for src, (s, k, w, d) in sig.terms.items():
        if scale is not None:
            terms[src] = _merge(s, k, w * scale[k], d, sig.size)
        else:
            terms[src] = (s, k, w, d + delay[k])
    const = sig.const
    if const is not None and scale is not None:
        const = const * scale
    return _Signal(sig.size, terms, const)


def _padding(p: _P, key: str, kernel, dilation, stride) -> tuple[tuple[int, ...], tuple[int, ...]]:
    value = p.raw.get(key, 0)
    text = _text(value)
    nd = len(kernel)
    if text is not None:
        if text == "valid":
            return (0,) * nd, (0,) * nd
        if text == "same":
            if any(s != 1 for s in stride):
                p.fail("padding 'same' needs stride 1")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            lo = tuple(t // 2 for t in total)
            return lo, tuple(t - lo_ for t, lo_ in zip(total, lo))
        p.fail(f"padding must be 'same', 'valid' or integers, got {text!r}")
    pad = p.ints(key, nd, 0)
    if any(x < 0 for x in pad):
        p.fail(f"padding must be >= 0, got {pad}")
    return pad, pad


def _conv_coo(weight: np.ndarray, in_shape, stride, lo, hi, dilation, groups, p: _P):
    """The convolution as (out index, in index, weight) with C-order flat indices."""
    c_out, cin_g, *kernel = weight.shape
    nd = len(kernel)
    c_in, *spatial = in_shape
    if len(spatial) != nd:
        p.fail(f"input of shape {tuple(in_shape)} does not fit a {nd}-d convolution")
    if groups < 1 or c_out % groups or c_in != cin_g * groups:
        p.fail(f"{c_in} input channels do not fit weight {tuple(weight.shape)} with "
               f"groups = {groups}")
    out_sp = [(spatial[i] + lo[i] + hi[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
              for i in range(nd)]
    if any(o < 1 for o in out_sp):
        p.fail(f"gives an empty output ({out_sp}) for input {tuple(in_shape)}")
    grids = np.meshgrid(np.arange(c_out), np.arange(cin_g), *[np.arange(k) for k in kernel],
                        *[np.arange(o) for o in out_sp], indexing="ij")
    o, cl = grids[0].ravel(), grids[1].ravel()
    ks = [g.ravel() for g in grids[2:2 + nd]]
    ys = [g.ravel() for g in grids[2 + nd:]]
    w = weight[(o, cl, *ks)]
    pos = [ys[i] * stride[i] - lo[i] + ks[i] * dilation[i] for i in range(nd)]
    ok = w != 0
    for i in range(nd):
        ok &= (pos[i] >= 0) & (pos[i] < spatial[i])
    c = (o // (c_out // groups)) * cin_g + cl
    in_idx = c[ok]
    out_idx = o[ok]
    for i in range(nd):
        in_idx = in_idx * spatial[i] + pos[i][ok]
        out_idx = out_idx * out_sp[i] + ys[i][ok]
    return out_idx.astype(np.int64), in_idx.astype(np.int64), w[ok], (c_out, *out_sp)


# ====================================================================== the loader
class _Loader:
    def __init__(self, graph: _Graph, dt: float, conv: str, dt0: float | None):
        self.g, self.source, self.dt, self.conv, self.dt0 = graph, graph.source, dt, conv, dt0
        self.neuron_params: dict[str, dict] = {}
        self.warnings: list[str] = []
        self._signals: dict[str, _Signal] = {}
        self._stack: set[str] = set()
        self._maps: dict = {}

    # ------------------------------------------------------------------ shapes
    def declared_in(self, node: _Node) -> tuple[int, ...] | None:
        """The input shape a node states itself (None: it takes whatever comes)."""
        p = _P(node, self.source)
        t = node.type
        if t in ("Affine", "Linear"):
            w = self.weight(node)
            return (w.shape[1],)
        if t in ("Conv1d", "Conv2d"):
            w = self.conv_weight(node)
            sp = p.shape("input_shape")
            if sp is not None:
                nd = w.ndim - 2
                if len(sp) != nd:
                    p.fail(f"input_shape {sp} must have {nd} entries")
                return (w.shape[1] * self.groups(node), *sp)
            return None
        if t == "Flatten":
            sp = p.shape("input_type")
            return sp if sp and all(s > 0 for s in sp) else None
        if t in ("Scale", "Delay"):
            a = p.num("scale" if t == "Scale" else "delay")
            return a.shape if a.size > 1 else None
        if t in ("Identity", "Output"):
            sp = p.shape("shape")
            return sp if sp and all(s > 0 for s in sp) else None
        if node.role == "neuron":
            shape = self.neuron_params[node.name]["_shape"]
            return shape if int(np.prod(shape)) > 1 else None
        return None

    def in_shape(self, name: str) -> tuple[int, ...] | None:
        node = self.g.nodes[name]
        if node.in_shape is not None:
            return node.in_shape
        declared = self.declared_in(node)
        if declared is not None:
            return declared
        for pred in self.g.preds[name]:
            s = self.out_shape(pred)
            if s is not None:
                return s
        return None

    def out_shape(self, name: str) -> tuple[int, ...] | None:
        node = self.g.nodes[name]
        if node.shape is not None:
            return node.shape
        if name in self._stack:
            return None
        self._stack.add(name)
        try:
            shape = self._out_shape(node)
        finally:
            self._stack.discard(name)
        node.shape = shape
        return shape

    def _out_shape(self, node: _Node):
        p = _P(node, self.source)
        t = node.type
        if node.role == "input":
            shape = p.shape("shape")
            if shape is None:
                p.fail("Input node has no shape")
            return shape or (1,)
        if node.role == "neuron":
            own = self.neuron_params[node.name]["_shape"]
            if int(np.prod(own)) > 1:
                return tuple(own)
            got = self.in_shape(node.name) if self.g.preds[node.name] else None
            return tuple(got) if got is not None else (tuple(own) or (1,))
        if t in ("Affine", "Linear"):
            return (self.weight(node).shape[0],)
        inp = self.in_shape(node.name)
        if inp is None:
            return None
        if t in ("Conv1d", "Conv2d"):
            w = self.conv_weight(node)
            nd = w.ndim - 2
            inp = self.conv_input(node, inp, nd)
            return self.conv_map(node, inp)[3]
        if t in ("SumPool2d", "AvgPool2d"):
            if len(inp) != 3:
                p.fail(f"input of shape {inp} is not (channels, height, width)")
            return self.pool_map(node, inp)[3]
        if t == "Flatten":
            start = int(np.asarray(node.raw.get("start_dim", 1)))
            end = int(np.asarray(node.raw.get("end_dim", -1)))
            nd = len(inp)
            s, e = start % nd if nd else 0, end % nd if nd else 0
            if nd == 0 or not (-nd <= start < nd and -nd <= end < nd) or s > e:
                p.fail(f"start_dim {start} / end_dim {end} do not fit input shape {inp}")
            return (*inp[:s], int(np.prod(inp[s:e + 1])), *inp[e + 1:])
        return inp

    def conv_input(self, node: _Node, inp, nd):
        p = _P(node, self.source)
        declared = self.declared_in(node)
        if declared is not None:
            return declared
        if len(inp) != nd + 1:
            p.fail(f"cannot tell the (channels, spatial) input shape of {node.type} from "
                   f"{tuple(inp)}; give input_shape")
        return tuple(inp)

    # ------------------------------------------------------------------ parameters
    def weight(self, node: _Node) -> np.ndarray:
        p = _P(node, self.source)
        w = p.num("weight")
        if w.ndim != 2:
            p.fail(f"weight must be 2-D (out, in), got shape {w.shape}")
        return w

    def conv_weight(self, node: _Node) -> np.ndarray:
        p = _P(node, self.source)
        w = p.num("weight")
        nd = 1 if node.type == "Conv1d" else 2
        if w.ndim != nd + 2:
            p.fail(f"weight must be {nd + 2}-D (out channels, in channels / groups, kernel), "
                   f"got shape {w.shape}")
        return w

    def groups(self, node: _Node) -> int:
        return _P(node, self.source).ints("groups", 1, 1)[0]

    def conv_map(self, node: _Node, inp):
        key = (node.name, tuple(inp))
        if key not in self._maps:
            self._maps[key] = self._conv_map(node, inp)
        return self._maps[key]

    def _conv_map(self, node: _Node, inp):
        p = _P(node, self.source)
        w = self.conv_weight(node)
        nd = w.ndim - 2
        kernel = w.shape[2:]
        stride = p.ints("stride", nd, 1)
        dilation = p.ints("dilation", nd, 1)
        if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
            p.fail(f"stride {stride} and dilation {dilation} must be >= 1")
        lo, hi = _padding(p, "padding", kernel, dilation, stride)
        return _conv_coo(w, inp, stride, lo, hi, dilation, self.groups(node), p)

    def pool_map(self, node: _Node, inp):
        key = (node.name, tuple(inp))
        if key not in self._maps:
            self._maps[key] = self._pool_map(node, inp)
        return self._maps[key]

    def _pool_map(self, node: _Node, inp):
        p = _P(node, self.source)
        kernel = p.ints("kernel_size", 2, None) if p.has("kernel_size") else \
            p.fail("missing required parameter 'kernel_size'")
        stride = p.ints("stride", 2, kernel) if p.has("stride") else kernel
        stride = tuple(s if s > 0 else k for s, k in zip(stride, kernel))
        pad = p.ints("padding", 2, 0)
        if any(k < 1 for k in kernel) or any(x < 0 for x in pad):
            p.fail(f"kernel_size {kernel} must be >= 1 and padding {pad} >= 0")
        c = inp[0]
        value = 1.0 / (kernel[0] * kernel[1]) if node.type == "AvgPool2d" else 1.0
        weight = np.zeros((c, 1, *kernel))
        weight[:] = value
        return _conv_coo(weight, inp, stride, pad, pad, (1, 1), c, p)

    def delay_ticks(self, node: _Node, n: int) -> np.ndarray:
        p = _P(node, self.source)
        d = np.broadcast_to(p.num("delay", check="nonneg"), node.shape).reshape(n)
        h = {"physical": self.dt, "norse": self.dt, "sinabs": 1.0}.get(self.conv, self.dt0)
        ticks = d / h
        whole = np.rint(ticks)
        bad = np.abs(ticks - whole) > 1e-6 * np.maximum(1.0, whole)
        if bad.any():
            unit = "ticks" if self.conv == "sinabs" else "s"
            p.fail(f"delay {float(d[bad][0])!r} {unit} is not a whole number of ticks "
                   f"({ticks[bad][0]:.6g} ticks of {h!r})")
        return whole.astype(np.int64)

    # ------------------------------------------------------------------ signals
    def signal(self, name: str) -> _Signal:
        """The output of ``name`` as a linear function of the source nodes."""
        if name in self._signals:
            return self._signals[name]
        node = self.g.nodes[name]
        n = int(np.prod(node.shape))
        if node.role in ("input", "neuron"):
            sig = _identity(name, n)
        else:
            if name in self._stack:
                raise NirError(self.source, _node_at(name),
                               "is on a cycle of stateless nodes (a cycle needs a neuron node)")
            self._stack.add(name)
            try:
                sig = self._apply(node, self.input_signal(name))
            finally:
                self._stack.discard(name)
        self._signals[name] = sig
        return sig

    def input_signal(self, name: str) -> _Signal:
        node = self.g.nodes[name]
        n_in = int(np.prod(node.in_shape))
        return _sum([self.signal(p) for p in self.g.preds[name]], n_in)

    def _apply(self, node: _Node, sig: _Signal) -> _Signal:
        t = node.type
        p = _P(node, self.source)
        n_out = int(np.prod(node.shape))
        if t in ("Affine", "Linear"):
            w = self.weight(node)
            rows, cols = np.nonzero(w)
            out = _matmul(sig, rows.astype(np.int64), cols.astype(np.int64), w[rows, cols], n_out)
            if t == "Affine":
                b = p.num("bias")
                if b.size not in (1, n_out):
                    p.fail(f"bias has {b.size} values, expected {n_out}")
                b = np.broadcast_to(b, (n_out,)).reshape(n_out)
                if np.any(b):
                    out.const = b.copy() if out.const is None else out.const + b
            return out
        if t in ("Conv1d", "Conv2d"):
            w = self.conv_weight(node)
            inp = self.conv_input(node, node.in_shape, w.ndim - 2)
            rows, cols, vals, shape = self.conv_map(node, inp)
            out = _matmul(sig, rows, cols, vals, n_out)
            if p.has("bias"):
                b = p.num("bias")
                if b.size not in (1, shape[0]):
                    p.fail(f"bias has {b.size} values, expected {shape[0]}")
                const = np.repeat(np.broadcast_to(b, (shape[0],)), n_out // shape[0])
                if np.any(const):
                    out.const = const if out.const is None else out.const + const
            return out
        if t in ("SumPool2d", "AvgPool2d"):
            rows, cols, vals, _ = self.pool_map(node, node.in_shape)
            return _matmul(sig, rows, cols, vals, n_out)
        if t == "Scale":
            s = np.broadcast_to(p.num("scale"), node.shape).reshape(n_out)
            return _elementwise(sig, scale=s)
        if t == "Delay":
            return _elementwise(sig, delay=self.delay_ticks(node, n_out))
        return sig                                    # Flatten, Identity

    # ------------------------------------------------------------------ checks
    def check_edges(self) -> None:
        for a, b in sorted(self.g.edges):
            out = self.g.nodes[a].shape
            want = self.g.nodes[b].in_shape
            if out is None or want is None:
                continue
            if int(np.prod(out)) != int(np.prod(want)):
                raise NirError(self.source, _edge_at(a, b),
                               f"shape mismatch: {a!r} gives {_shape_text(out)}, {b!r} takes "
                               f"{_shape_text(want)}")
            if tuple(s for s in out if s != 1) != tuple(s for s in want if s != 1):
                self.warnings.append(f"edge {a!r} -> {b!r}: {a!r} gives {tuple(out)}, {b!r} "
                                     f"takes {tuple(want)}: same number of values, read as a "
                                     f"reshape (C order)")
            elif tuple(out) != tuple(want) and self.g.nodes[b].role == "output":
                self.warnings.append(f"Output {b!r} declares shape {tuple(want)} for the "
                                     f"{tuple(out)} values of {a!r}")


def _shape_text(shape) -> str:
    return f"{tuple(int(s) for s in shape)} ({int(np.prod(shape))} values)"


def _population_name(name: str, taken: set[str]) -> str:
    base = _NAME_BAD.sub("_", name) or "node"
    if not re.match(r"[A-Za-z_]", base):
        base = "n" + base
    out, k = base, 2
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def _compact(a: np.ndarray):
    """A float when every value is equal, else a list (the netlist file's forms)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    return float(a[0]) if a.size and np.all(a == a[0]) else [float(x) for x in a]


def load_nir(path_or_graph, dt: float, reset: str | Mapping[str, str] = "auto",
             convention: str = "auto", *, dt_export: float | None = None) -> NirNetwork:
    """Load a NIR graph (a ``.nir`` file, a ``nir.NIRGraph`` or its dict) as a float netlist.

    ``dt`` (s) is the tick; ``reset`` is ``"subtract"``, ``"value"`` or ``"none"`` for
    every spiking node, or a mapping NIR node name -> mode (the others ``"auto"``);
    ``"auto"`` is the exporter's own default (``RESET_DEFAULTS``: ``"value"``, to
    ``v_reset``, for Norse and physical -- NIR's equations --, ``"subtract"`` for snnTorch,
    Sinabs and Rockpool); NIR stores neither ``dt`` nor the reset. ``convention`` says how
    to read ``r``, ``w_in`` and time (module
    docstring); ``dt_export`` overrides the exporter step ``dt0`` of the snnTorch and
    Rockpool conventions. Files are read with ``h5py`` directly (no ``nir`` type check),
    so graphs that ``nir.read`` refuses for a mere shape declaration still load; every
    real problem is a ``NirError`` naming the file and the node or edge.
    """
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ValueError(f"dt must be a positive number of seconds, got {dt!r}") from None
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if isinstance(reset, str):
        reset_of = {}
        default_reset = reset
    else:
        reset_of, default_reset = dict(reset), "auto"
    for mode in (default_reset, *reset_of.values()):
        if mode not in (*RESET_MODES, "auto"):
            raise ValueError(f"reset must be 'auto' or one of {RESET_MODES}, got {mode!r}")

    source, raw = _read_source(path_or_graph)
    graph = _Graph(raw, source)
    for name in reset_of:
        if name not in graph.nodes or graph.nodes[name].role != "neuron":
            raise ValueError(f"reset names {name!r}, which is not a neuron node")

    params = {name: _neuron_params(node, source) for name, node in graph.nodes.items()
              if node.role == "neuron"}
    if convention == "auto":
        conv, reason = _auto_convention(graph, params)
    else:
        conv, reason = convention, "chosen by the caller"
    dt0 = None
    if conv in ("snntorch", "rockpool"):
        if dt_export is not None:
            dt0 = float(dt_export)
            reason += f"; dt0 = {dt0:.6g} s given by the caller"
        else:
            leaky = {k: p for k, p in params.items() if "tau" in p or "tau_mem" in p}
            if conv == "snntorch":
                vals = [_tau_mem(p) / p["r"] for p in leaky.values()]
                fallback = SNNTORCH_DT
            else:
                vals = [_lambert_u(p["r"]) * _tau_mem(p) for p in leaky.values()]
                fallback = ROCKPOOL_DT
            dt0 = float(np.median(np.concatenate([np.ravel(v) for v in vals]))) if vals \
                else fallback
            reason += f"; exporter step dt0 = {dt0:.6g} s" + ("" if vals else " (default)")
        if not (dt0 > 0 and math.isfinite(dt0)):
            raise ValueError(f"dt_export must be a positive number of seconds, got {dt0!r}")

    if default_reset == "auto":
        default_reset = RESET_DEFAULTS[conv]
    reset_of = {k: RESET_DEFAULTS[conv] if v == "auto" else v for k, v in reset_of.items()}
    loader = _Loader(graph, dt, conv, dt0)
    loader.neuron_params = params
    # shapes: outputs, then inputs of every node
    for name in graph.nodes:
        loader.out_shape(name)
    for name, node in graph.nodes.items():
        if node.shape is None:
            raise NirError(source, _node_at(name), "cannot infer its shape (no input reaches it "
                                                   "and it states none)")
    for name, node in graph.nodes.items():
        if node.role in ("input", "neuron"):
            node.in_shape = node.shape
        else:
            node.in_shape = loader.in_shape(name) or node.shape
    loader.check_edges()

    # populations
    taken: set[str] = set()
    models: dict[str, _Model] = {}
    node_maps: dict[str, NodeMap] = {}
    pop_dicts: dict[str, dict] = {}
    offset = 0
    for name, node in graph.nodes.items():
        if node.role != "neuron":
            continue
        mode = reset_of.get(name, default_reset)
        model = _model(node, params[name], conv, dt, dt0, mode, source)
        models[name] = model
        pop = _population_name(name, taken)
        size = int(np.prod(node.shape))
        node_maps[name] = NodeMap(name, node.type, pop, tuple(node.shape), offset, offset + size)
        offset += size
        values = {k: _compact(v) for k, v in model.values.items()}
        values.update(T_ref=0.0, alpha=0.0, I_bias=0.0, sigma=0.0, reset=model.reset)
        pop_dicts[name] = {"model": "lif", "size": size, "params": values}
    if not models:
        raise NirError(source, "", "the graph has no neuron node (LIF, CubaLIF, IF, LI, CubaLI, "
                                   "I, Threshold): nothing to put on a chip")

    # inputs
    input_maps: dict[str, InputMap] = {}
    ch = 0
    for name, node in graph.nodes.items():
        if node.role == "input":
            size = int(np.prod(node.shape))
            input_maps[name] = InputMap(name, tuple(node.shape), ch, ch + size)
            ch += size

    # projections, input synapses, DC
    projections, dc = [], {}
    in_ch, in_post, in_w, in_d = [], [], [], []
    for name, model in models.items():
        nm = node_maps[name]
        sig = loader.input_signal(name)
        for src in sorted(sig.terms):
            s, k, w, d = sig.terms[src]
            w = w * model.in_gain[k]
            keep = w != 0
            s, k, w, d = s[keep], k[keep], w[keep], d[keep]
            if not s.size:
                continue
            snode = graph.nodes[src]
            if snode.role == "input":
                im = input_maps[src]
                in_ch.append(s + im.start)
                in_post.append(k + nm.start)
                in_w.append(w)
                in_d.append(d)
                continue
            if snode.type in NON_SPIKING:
                raise NirError(source, _edge_at(src, _first_succ(graph, src, name)),
                               f"{snode.type} node {src!r} never spikes; its output is a "
                               f"membrane potential, which a spike projection cannot carry "
                               f"(only an Output may follow it)")
            delay = (float((1 + d[0]) * dt) if np.all(d == d[0])
                     else [float((1 + x) * dt) for x in d])
            projections.append({
                "pre": node_maps[src].population, "post": nm.population, "delay": delay,
                "connectivity": {"type": "list", "pre": s.tolist(), "post": k.tolist(),
                                 "weight": w.tolist()}})
        if sig.const is not None and np.any(sig.const):
            amp = sig.const * model.bias_gain
            dc[name] = amp

    # exact values of files written by save_nir (physical convention only)
    if conv == "physical":
        for name in models:
            _adopt(graph.nodes[name], pop_dicts[name], dc, name, loader.warnings)

    inputs = [{"kind": "dc", "target": node_maps[name].population, "amplitude": _compact(amp)}
              for name, amp in dc.items()]

    # outputs and probes
    output_maps: dict[str, OutputMap] = {}
    records: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        if node.role != "output":
            continue
        if not graph.preds[name]:
            loader.warnings.append(f"Output {name!r} has no incoming edge; ignored")
            continue
        sig = loader.input_signal(name)
        feeders = []
        for src, (s, k, w, d) in sorted(sig.terms.items()):
            snode = graph.nodes[src]
            if snode.role == "input":
                raise NirError(source, _node_at(name), f"Output is fed by Input {src!r}: an "
                                                       f"Output must follow neuron nodes")
            if not (np.array_equal(s, k) and np.all(w == 1) and not d.any()
                    and s.size == node_maps[src].size):
                raise NirError(source, _node_at(name),
                               f"Output is fed from {src!r} through weights, scales or delays; "
                               f"the chip records populations, so an Output must follow neuron "
                               f"nodes directly (reshapes allowed)")
            feeders.append(src)
        if sig.const is not None and np.any(sig.const):
            raise NirError(source, _node_at(name), "Output receives a bias; an Output must "
                                                   "follow neuron nodes directly")
        pops = tuple(node_maps[f].population for f in feeders)
        output_maps[name] = OutputMap(name, tuple(node.in_shape), tuple(feeders), pops)
        for f in feeders:
            want = ["spikes", "v"] if models[f].spiking else ["v"]
            have = records.setdefault(node_maps[f].population, [])
            have.extend(x for x in want if x not in have)
    probes = [{"population": pop, "record": rec} for pop, rec in records.items()]

    for name, node in graph.nodes.items():
        if not graph.preds[name] and not graph.succs[name]:
            loader.warnings.append(f"node {name!r} is not connected; ignored"
                                   if node.role != "neuron" else
                                   f"neuron node {name!r} has no edge")

    data = {"format": "neurochip-netlist", "version": 1, "dt": dt, "duration": dt,
            "populations": {node_maps[k].population: v for k, v in pop_dicts.items()},
            "projections": projections, "inputs": inputs, "probes": probes}
    try:
        netlist = netlist_from_dict(data, source)
    except ValueError as e:                       # pragma: no cover - a loader bug
        raise NirError(source, "", f"the netlist built from the graph is invalid: {e}") from None

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    channel, post, weight, delay = (cat(in_ch, np.int64), cat(in_post, np.int64),
                                    cat(in_w, float), cat(in_d, np.int64))
    order = np.lexsort((delay, post, channel))
    resets = {name: models[name].reset for name in models}
    return NirNetwork(source, netlist, conv, reason, dt0, resets, node_maps, input_maps,
                      output_maps, channel[order], post[order], weight[order], delay[order],
                      tuple(loader.warnings))


def _first_succ(graph: _Graph, src: str, target: str) -> str:
    succ = graph.succs[src]
    return target if target in succ else (succ[0] if succ else target)


_EXACT_KEYS = ("C", "g_L", "E_L", "V_th", "V_reset", "tau_syn")


def _adopt(node: _Node, pop: dict, dc: dict, name: str, warnings: list) -> None:
    """Take the exact float values ``save_nir`` wrote into a node's metadata when they
    agree (1e-9) with what its NIR fields give; otherwise keep the fields."""
    meta = node.raw.get("metadata")
    text = _text(meta.get(EXPORTER)) if isinstance(meta, dict) else None
    if text is None:
        return
    try:
        stored = json.loads(text)
        exact = {k: stored["params"][k] for k in _EXACT_KEYS}
        stored_dc = stored.get("dc")
    except (ValueError, KeyError, TypeError):
        warnings.append(f"node {name!r}: unreadable {EXPORTER} metadata; NIR fields used")
        return
    size = pop["size"]
    params = pop["params"]

    def close(a, b):
        a = np.broadcast_to(np.asarray(a, dtype=float), (size,))
        b = np.broadcast_to(np.asarray(b, dtype=float), (size,))
        return np.allclose(a, b, rtol=1e-9, atol=0)

    ok = all(close(exact[k], params[k]) for k in _EXACT_KEYS)
    here = dc.get(name)
    if stored_dc is None:
        ok &= here is None
    else:
        ok &= here is not None and close(stored_dc, here)
    if not ok:
        warnings.append(f"node {name!r}: {EXPORTER} metadata disagrees with the NIR fields; "
                        f"fields used")
        return
    for k in _EXACT_KEYS:
        params[k] = exact[k] if np.ndim(exact[k]) == 0 else list(exact[k])
    if stored_dc is not None:
        dc[name] = np.broadcast_to(np.asarray(stored_dc, dtype=float), (size,)).copy()


# ====================================================================== float run
@dataclass(frozen=True, eq=False)
class FloatRun:
    """A float reference run: ``(ticks, n)`` arrays over all neurons (global order of
    the netlist); row ``k`` is the state after tick ``k``."""

    network: NirNetwork
    spikes: np.ndarray
    V: np.ndarray
    I_syn: np.ndarray

    @property
    def ticks(self) -> int:
        return self.spikes.shape[0]

    def node(self, name: str, var: str = "spikes") -> np.ndarray:
        """``(ticks, *shape)`` of ``var`` (``"spikes"``, ``"V"``, ``"I_syn"``) of neuron
        node ``name``."""
        m = self.network._node(name)
        if var not in ("spikes", "V", "I_syn"):
            raise ValueError(f"var must be 'spikes', 'V' or 'I_syn', got {var!r}")
        return getattr(self, var)[:, m.start:m.stop].reshape(self.ticks, *m.shape)

    def population(self, name: str, var: str = "spikes") -> np.ndarray:
        """``(ticks, size)`` of ``var`` of population ``name`` (netlist name)."""
        for m in self.network.nodes.values():
            if m.population == name:
                return self.node(m.name, var).reshape(self.ticks, m.size)
        raise KeyError(f"no population {name!r}")

    def output(self, name: str | None = None) -> np.ndarray:
        """What Output node ``name`` (the only one by default) records: the spikes of the
        nodes feeding it (their membrane potential for LI, CubaLI and I), ``(ticks,
        *shape)``; several feeding nodes are concatenated."""
        outs = self.network.outputs
        if name is None:
            if len(outs) != 1:
                raise ValueError(f"name one of the Output nodes: {', '.join(outs) or 'none'}")
            (name,) = outs
        o = outs[name]
        parts = []
        for f in o.nodes:
            var = "V" if self.network.nodes[f].type in NON_SPIKING else "spikes"
            parts.append(self.node(f, var).reshape(self.ticks, -1).astype(float))
        flat = np.concatenate(parts, axis=1)
        return flat.reshape(self.ticks, *o.shape) if flat.shape[1] == int(np.prod(o.shape)) \
            else flat


def run_float(network: NirNetwork, inputs) -> FloatRun:
    """Run the float reference of a loaded graph, tick by tick.

    ``inputs``: ``(ticks, n_inputs)`` values of the input channels (spike counts or any
    real values; see ``NirNetwork.input_array``). The netlist is expanded with
    ``netlist.expand``; each tick calls ``firmware_models.lif.reference.simulate``
    (``method="exact"``: the conventions are built for it) for one tick over all neurons,
    carrying ``V``, ``I_syn`` and ``Theta``; spikes of tick ``k``
    are delivered in tick ``k + delay`` (>= 1). Refractory periods and noise are not
    carried between ticks, so the netlist must have ``T_ref = 0`` and ``sigma = 0`` (every
    loaded NIR graph has).
    """
    x = network.input_array(inputs)
    ticks = x.shape[0]
    ex = expand(network.netlist_for(ticks))
    n, dt = ex.n, ex.dt
    q = ex.params.broadcast(n)
    if np.any(np.rint(q.T_ref / dt) > 0) or np.any(q.sigma > 0):
        raise ValueError("run_float carries no refractory counter and no noise: the netlist "
                         "needs T_ref < dt/2 and sigma = 0")
    jumps = network.input_jumps(x)
    current = ex.current() if ex.currents else None
    d = ex.delay_ticks()
    L = int(d.max()) + 1 if d.size else 2
    ring = np.zeros((L, n))
    order = np.argsort(ex.pre, kind="stable")
    pre, post, w, d = ex.pre[order], ex.post[order], ex.weight[order], d[order]
    starts = np.searchsorted(pre, np.arange(n + 1))
    V = q.E_L.copy()
    I = np.zeros(n)
    Theta = np.zeros(n)
    out_s = np.zeros((ticks, n), dtype=bool)
    out_V = np.empty((ticks, n))
    out_I = np.empty((ticks, n))
    for k in range(ticks):
        slot = k % L
        syn = ring[slot] + jumps[k]
        ring[slot] = 0.0
        tr = simulate(q, dt, 1, n=n, syn_input=syn[None, :],
                      I_ext=None if current is None else current[k][None, :],
                      V0=V, I0=I, Theta0=Theta)
        V, I, Theta, fired = tr.V[0], tr.I_syn[0], tr.Theta[0], tr.spikes[0]
        out_s[k], out_V[k], out_I[k] = fired, V, I
        idx = np.flatnonzero(fired)
        if idx.size and pre.size:
            lo, hi = starts[idx], starts[idx + 1]
            cnt = hi - lo
            total = int(cnt.sum())
            if total:
                sel = np.repeat(lo, cnt) + (np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt))
                np.add.at(ring, ((k + d[sel]) % L, post[sel]), w[sel])
    return FloatRun(network, out_s, out_V, out_I)


# ====================================================================== export
def _classify(q: LifPhysical, dt: float) -> str:
    """The NIR node type that expresses a population (physical convention)."""
    tau_m = q.C / q.g_L
    memoryless = np.all(np.exp(-dt / q.tau_syn) == 0.0)
    never = np.all(q.V_th >= NEVER_FIRES_V_TH)
    no_leak = np.all(tau_m >= NO_LEAK_TICKS * dt / 2)
    zero_rest = np.all(q.E_L == 0)
    if memoryless and np.all(np.exp(-dt / tau_m) == 0.0) and np.all(q.g_L == 1.0) and zero_rest \
            and not never:
        return "Threshold"
    if memoryless and no_leak and zero_rest:
        return "I" if never else "IF"
    if memoryless:
        return "LI" if never else "LIF"
    return "CubaLI" if never else "CubaLIF"


def save_nir(network: Netlist | NirNetwork, path: str | os.PathLike, *,
             overwrite: bool = False) -> tuple[str, ...]:
    """Write ``network`` as a NIR graph (``nir.write``) in physical units; returns notes on
    what NIR cannot carry (empty when nothing was lost).

    Populations become LIF / CubaLIF / IF / LI / CubaLI / I / Threshold nodes (physical
    convention: ``tau = C/g_L``, ``r = 1/g_L``, ``w_in = 1/(1 - exp(-dt/tau_syn))`` so a
    weight is the current jump in amperes); projections become Linear nodes (Affine where
    a DC input becomes the bias) per delay, with a Delay node for the ticks beyond the
    first; input channels (``NirNetwork``) or spike/Poisson inputs (``Netlist``) become
    Input nodes; probes become Output nodes. The file also carries the exact float
    values in node metadata, so ``load_nir`` (physical convention) gives back the same
    netlist, while other tools read the standard fields. An existing file is refused
    unless ``overwrite=True``.
    """
    import nir

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it")
    notes: list[str] = []
    if isinstance(network, NirNetwork):
        netlist = network.netlist
        node_name = {m.population: m.name.replace("/", "_") for m in network.nodes.values()}
    elif isinstance(network, Netlist):
        netlist = network
        node_name = {p.name: p.name for p in netlist.populations}
    else:
        raise TypeError(f"save_nir takes a Netlist or a NirNetwork, got {type(network).__name__}")
    ex = expand(netlist)
    dt = netlist.dt
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    used: set[str] = set()

    def fresh(base: str) -> str:
        base = base.replace("/", "_")
        out, k = base, 2
        while out in used:
            out, k = f"{base}_{k}", k + 1
        used.add(out)
        return out

    for pop in netlist.populations:
        used.add(node_name[pop.name])

    # DC currents per population (constant inputs only)
    dc = {p.name: np.zeros(p.size) for p in netlist.populations}
    for inp in netlist.inputs:
        if isinstance(inp, DcInput):
            idx = np.arange(dc[inp.target].size) if inp.neurons is None else np.asarray(inp.neurons)
            dc[inp.target][idx] += np.broadcast_to(np.asarray(inp.amplitude, dtype=float),
                                                   idx.shape)
        elif isinstance(inp, StepInput):
            notes.append(f"step input onto {inp.target!r} dropped (NIR has no time-varying "
                         f"currents)")
        elif isinstance(inp, (SpikeInput, PoissonInput)):
            notes.append(f"{inp.kind} input onto {inp.target!r}: exported as an Input node; "
                         f"its {'spike times' if inp.kind == 'spikes' else 'rates'} are data, "
                         f"not part of NIR")

    gains: dict[str, np.ndarray] = {}
    bias_gain: dict[str, np.ndarray] = {}
    for pop in netlist.populations:
        sl = ex.slice(pop.name)
        q = LifPhysical(**{f: getattr(ex.params, f)[sl] for f in NUMERIC_FIELDS})
        q = q.broadcast(pop.size)
        dc[pop.name] = dc[pop.name] + q.I_bias
        for field, default, what in (("T_ref", 0, "refractory period"),
                                     ("alpha", 0, "threshold adaptation"),
                                     ("sigma", 0, "noise")):
            if np.any(getattr(q, field) != default):
                notes.append(f"population {pop.name!r}: {what} ({field}) dropped (not in NIR)")
        kind = _classify(q, dt)
        tau_m = q.C / q.g_L
        r = 1.0 / q.g_L
        a_s = np.exp(-dt / q.tau_syn)
        w_in = 1.0 / (1.0 - a_s)
        gains[pop.name] = np.ones(pop.size)
        bias_gain[pop.name] = w_in if kind in ("CubaLIF", "CubaLI") else np.ones(pop.size)
        if kind == "Threshold":
            node = nir.Threshold(threshold=q.V_th.copy())
        elif kind in ("IF", "I"):
            gain = q.R * (1.0 - np.exp(-dt / tau_m))     # volts per ampere and tick
            rr = gain / dt
            node = (nir.IF(r=rr, v_threshold=q.V_th.copy(), v_reset=q.V_reset.copy())
                    if kind == "IF" else nir.I(r=rr))
        elif kind == "LIF":
            node = nir.LIF(tau=tau_m, r=r, v_leak=q.E_L.copy(), v_threshold=q.V_th.copy(),
                           v_reset=q.V_reset.copy())
        elif kind == "LI":
            node = nir.LI(tau=tau_m, r=r, v_leak=q.E_L.copy())
        elif kind == "CubaLIF":
            node = nir.CubaLIF(tau_syn=q.tau_syn.copy(), tau_mem=tau_m, r=r, v_leak=q.E_L.copy(),
                               v_threshold=q.V_th.copy(), v_reset=q.V_reset.copy(), w_in=w_in)
        else:
            node = nir.CubaLI(tau_syn=q.tau_syn.copy(), tau_mem=tau_m, r=r, v_leak=q.E_L.copy(),
                              w_in=w_in)
        exact = {k: _plain_values(getattr(q, k)) for k in _EXACT_KEYS}
        stored_dc = _plain_values(dc[pop.name]) if np.any(dc[pop.name]) else None
        node.metadata = {EXPORTER: json.dumps({"params": exact, "dc": stored_dc})}
        nodes[node_name[pop.name]] = node

    incoming: dict[str, list[str]] = {p.name: [] for p in netlist.populations}

    def connect(src: str, post_pop: str, base: str, w: np.ndarray, delay_ticks: int):
        lin = fresh(base)
        nodes[lin] = nir.Linear(weight=w)
        edges.append((src, lin))
        target = node_name[post_pop]
        if delay_ticks > 0:
            dname = fresh(base + "_delay")
            nodes[dname] = nir.Delay(delay=np.full(w.shape[0], delay_ticks * dt))
            edges.append((lin, dname))
            edges.append((dname, target))
        else:
            edges.append((lin, target))
        incoming[post_pop].append(lin)

    # projections
    dticks = ex.delay_ticks()
    for j, proj in enumerate(netlist.projections):
        sel = ex.projection == j
        pre = ex.pre[sel] - ex.offsets[proj.pre]
        post = ex.post[sel] - ex.offsets[proj.post]
        w = ex.weight[sel] / gains[proj.post][post]
        for d in np.unique(dticks[sel]):
            m = dticks[sel] == d
            W = np.zeros((ex.sizes[proj.post], ex.sizes[proj.pre]))
            np.add.at(W, (post[m], pre[m]), w[m])
            base = f"{node_name[proj.pre]}_to_{node_name[proj.post]}"
            connect(node_name[proj.pre], proj.post, base + (f"_d{d}" if d > 1 else ""), W,
                    int(d) - 1)

    # inputs
    if isinstance(network, NirNetwork):
        for im in network.inputs.values():
            iname = fresh(im.name)
            nodes[iname] = nir.Input(input_type=np.array(im.shape))
            feed = iname
            if len(im.shape) != 1:
                feed = fresh(f"{iname}_flat")
                nodes[feed] = nir.Flatten(input_type={"input": np.array(im.shape)}, start_dim=0,
                                          end_dim=-1)
                edges.append((iname, feed))
            sel = (network.input_channel >= im.start) & (network.input_channel < im.stop)
            for pop in netlist.populations:
                lo, size = ex.offsets[pop.name], pop.size
                m = sel & (network.input_post >= lo) & (network.input_post < lo + size)
                for d in np.unique(network.input_delay[m]):
                    mm = m & (network.input_delay == d)
                    W = np.zeros((size, im.size))
                    post = network.input_post[mm] - lo
                    np.add.at(W, (post, network.input_channel[mm] - im.start),
                              network.input_weight[mm] / gains[pop.name][post])
                    base = f"{iname}_to_{node_name[pop.name]}"
                    connect(feed, pop.name, base + (f"_d{d}" if d else ""), W, int(d))
    else:
        for i, inp in enumerate(netlist.inputs):
            if not isinstance(inp, (SpikeInput, PoissonInput)):
                continue
            size = netlist.population(inp.target).size
            if isinstance(inp, SpikeInput):
                targets = np.arange(size)
                weights = np.full(size, float(inp.weight))
            else:
                targets = np.arange(size) if inp.neurons is None else np.asarray(inp.neurons)
                weights = np.broadcast_to(np.asarray(inp.weight, dtype=float), targets.shape) \
                    * inp.fan_in
            iname = fresh(f"input{i}")
            nodes[iname] = nir.Input(input_type=np.array([targets.size]))
            W = np.zeros((size, targets.size))
            W[targets, np.arange(targets.size)] = weights / gains[inp.target][targets]
            connect(iname, inp.target, f"{iname}_to_{node_name[inp.target]}", W, 0)

    # DC currents become the bias of an Affine into the population
    dc_source = None
    for pop in netlist.populations:
        amp = dc[pop.name]
        if not np.any(amp):
            continue
        bias = amp / bias_gain[pop.name]
        if incoming[pop.name]:
            lin = incoming[pop.name][0]
            nodes[lin] = nir.Affine(weight=nodes[lin].weight, bias=bias)
        else:
            if dc_source is None:
                dc_source = fresh("dc")
                nodes[dc_source] = nir.Input(input_type=np.array([1]))
            aff = fresh(f"dc_to_{node_name[pop.name]}")
            nodes[aff] = nir.Affine(weight=np.zeros((pop.size, 1)), bias=bias)
            edges.extend([(dc_source, aff), (aff, node_name[pop.name])])

    # probes
    if isinstance(network, NirNetwork):
        for o in network.outputs.values():
            for k, pop in enumerate(o.populations):
                oname = fresh(o.name if k == 0 else f"{o.name}_{k}")
                nodes[oname] = nir.Output(output_type=np.array([ex.sizes[pop]]))
                edges.append((node_name[pop], oname))
    else:
        for probe in netlist.probes:
            base = "output" if len(netlist.probes) == 1 else f"output_{probe.population}"
            oname = fresh(base)
            nodes[oname] = nir.Output(output_type=np.array([ex.sizes[probe.population]]))
            edges.append((node_name[probe.population], oname))

    # nir.read's type inference starts at an Input node: make sure there is one
    if not any(isinstance(v, nir.Input) for v in nodes.values()):
        first = netlist.populations[0]
        iname = fresh("input")
        nodes[iname] = nir.Input(input_type=np.array([1]))
        lin = fresh(f"input_to_{node_name[first.name]}")
        nodes[lin] = nir.Linear(weight=np.zeros((first.size, 1)))
        edges.extend([(iname, lin), (lin, node_name[first.name])])

    graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False,
                         metadata={"exporter": EXPORTER, "convention": "physical",
                                   "dt": float(dt)})
    tmp = path.with_name(path.name + ".tmp")
    try:
        nir.write(tmp, graph)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return tuple(notes)


def _plain_values(a):
    a = np.asarray(a, dtype=np.float64).ravel()
    return float(a[0]) if a.size and np.all(a == a[0]) else [float(x) for x in a]


__all__ = [
    "CONVENTIONS",
    "MEMORYLESS_TAU",
    "NEVER_FIRES_V_TH",
    "NO_LEAK_TICKS",
    "RESET_DEFAULTS",
    "FloatRun",
    "InputMap",
    "NirError",
    "NirNetwork",
    "NodeMap",
    "OutputMap",
    "load_nir",
    "run_float",
    "save_nir",
]
