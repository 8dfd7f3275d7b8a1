"""A NIR graph run as the framework that exported it runs it (``run_framework``).

The graph's neuron nodes are stepped with one framework's own equations
(``frameworks``: snnTorch, Norse, Sinabs, Rockpool), on the raw numbers of the file,
and the stateless maps between them (Affine, Linear, Conv, pooling, Flatten, Scale,
Delay) are the synapse lists of ``lowering``. Two ways to pass a layer stack:

* ``"same-step"`` (what these frameworks do): in step ``t`` every neuron node sees the
  outputs of its sources of step ``t`` (nodes are stepped in dependency order; an edge
  that closes a cycle, as a recurrent layer's, carries the output of step ``t - 1``);
* ``"tick-per-hop"`` (what the chip does): a neuron node sees its neuron sources'
  outputs of step ``t - 1``; Input nodes still arrive in step ``t``.

A Delay node of ``d`` steps adds ``d`` to either. ``FrameworkRun`` says which stepping
and which options it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...hardware.limits import over_budget
from .building import _feeders, _input_maps
from .errors import NirError
from .frameworks import FRAMEWORKS, NodeFields, Options
from .frameworks import norse as norse_semantics
from .loader import _Loader
from .network import InputMap
from .params import _neuron_params
from .reading import _Graph, _read_source

STEPPINGS = ("same-step", "tick-per-hop")


@dataclass(frozen=True, eq=False)
class _Term:
    source: str            # a neuron node or an Input node
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray      # steps


@dataclass(frozen=True, eq=False)
class FrameworkGraph:
    """A NIR graph read for a framework run: neuron nodes with their fields, the terms
    of their inputs (raw file weights, delays in steps), constant inputs (biases), the
    Input channels and the nodes feeding each Output."""

    source: str
    nodes: dict[str, NodeFields]
    terms: dict[str, list[_Term]]
    const: dict[str, np.ndarray]
    inputs: dict[str, InputMap]
    outputs: dict[str, tuple[str, ...]]
    shapes: dict[str, tuple[int, ...]]
    warnings: tuple[str, ...] = ()

    @property
    def n_inputs(self) -> int:
        return sum(m.size for m in self.inputs.values())


def read_framework_graph(path_or_graph, *, delay_step: float = 1.0) -> FrameworkGraph:
    """Read a ``.nir`` file (or ``nir.NIRGraph``, or its dict) for ``run_framework``.
    Delay nodes are divided by ``delay_step`` (the framework's step in the file's time
    unit) and must give whole steps."""
    source, raw = _read_source(path_or_graph)
    graph = _Graph(raw, source)
    params = {name: _neuron_params(node, source) for name, node in graph.nodes.items()
              if node.role == "neuron"}
    if not params:
        raise NirError(source, "", "the graph has no neuron node: nothing to run")
    loader = _Loader(graph, delay_step, "physical", None, params)
    loader.resolve_shapes()
    nodes, terms, const, shapes = {}, {}, {}, {}
    for name, node in graph.nodes.items():
        if node.role != "neuron":
            continue
        size = int(np.prod(node.shape))
        sig = loader.input_signal(name)
        terms[name] = [_Term(src, *sig.terms[src]) for src in sorted(sig.terms)]
        if sig.const is not None and np.any(sig.const):
            const[name] = np.asarray(sig.const, dtype=np.float64)
        fields = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), params[name]["_shape"])
                  .reshape(-1) for k, v in params[name].items() if not k.startswith("_")}
        fields = {k: (np.broadcast_to(v, (size,)).copy() if v.size in (1, size) else v)
                  for k, v in fields.items()}
        recurrent = any(t.source == name for t in terms[name])
        nodes[name] = NodeFields(name, node.type, size, fields, recurrent)
        shapes[name] = tuple(node.shape)
    node_maps = {name: _Size(nodes[name].size) for name in nodes}
    outputs = {name: tuple(_feeders(graph, name, loader.input_signal(name), node_maps))
               for name, node in graph.nodes.items()
               if node.role == "output" and graph.preds[name]}
    return FrameworkGraph(source, nodes, terms, const, _input_maps(graph), outputs, shapes,
                          tuple(loader.warnings))


@dataclass(frozen=True)
class _Size:
    size: int


@dataclass(frozen=True, eq=False)
class FrameworkRun:
    """A framework run: per neuron node ``(steps, *shape)`` arrays of its output
    (``out``: spike counts, or the membrane of LI/CubaLI/I), ``v`` and ``i``."""

    graph: FrameworkGraph
    framework: str
    stepping: str
    options: dict
    out: dict[str, np.ndarray]
    v: dict[str, np.ndarray]
    i: dict[str, np.ndarray]
    notes: tuple[str, ...] = field(default=())

    def node(self, name: str, var: str = "out") -> np.ndarray:
        if var not in ("out", "v", "i"):
            raise ValueError(f"var must be 'out', 'v' or 'i', got {var!r}")
        if name not in self.out:
            raise KeyError(f"no neuron node {name!r} (neuron nodes: {', '.join(self.out)})")
        arr = getattr(self, var)[name]
        return arr.reshape(arr.shape[0], *self.graph.shapes[name])

    def output(self, name: str | None = None) -> np.ndarray:
        """``(steps, size)``: the outputs of the nodes feeding Output ``name`` (the only
        one by default), concatenated."""
        outs = self.graph.outputs
        if name is None:
            if len(outs) != 1:
                raise ValueError(f"name one of the Output nodes: {', '.join(outs) or 'none'}")
            (name,) = outs
        return np.concatenate([self.out[f] for f in outs[name]], axis=1)


def input_array(graph: FrameworkGraph, inputs) -> np.ndarray:
    """``(steps, n_inputs)`` from ``(steps, n_inputs)`` or ``(steps, *shape)`` (one Input
    node); a leading axis of size 1 in the node's shape (a batch axis some exporters
    write) may be left out."""
    x = np.asarray(inputs, dtype=np.float64)
    n = graph.n_inputs
    if x.ndim >= 1 and x.ndim != 2 and x.size and x.size // max(x.shape[0], 1) == n:
        x = x.reshape(x.shape[0], n)
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"{graph.source}: input array has shape {x.shape}, expected (steps, "
                         f"{n}) for the channels of {', '.join(graph.inputs) or 'no Input'}")
    if x.shape[0] < 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"{graph.source}: the input array must have at least one step and "
                         f"be finite")
    return x


def step_order(graph: FrameworkGraph) -> list[str]:
    """Neuron nodes in the order a step visits them: each after the sources it hears in
    the same step (Kahn's algorithm in name order; a cycle is broken at its first node
    by name, whose back edge then carries the previous step)."""
    deps = {n: {t.source for t in terms if t.source in graph.nodes and t.source != n
                and np.any(t.delay == 0)} for n, terms in graph.terms.items()}
    order: list[str] = []
    left = sorted(graph.nodes)
    while left:
        ready = [n for n in left if not deps[n] - set(order)]
        pick = ready[0] if ready else left[0]
        order.append(pick)
        left.remove(pick)
    return order


def run_framework(graph, inputs, framework: str, *, stepping: str = "same-step",
                  dtype=np.float64, node_options=None, **options) -> FrameworkRun:
    """Run ``graph`` (a path, a ``nir.NIRGraph`` or a ``FrameworkGraph``) on ``inputs``
    (``(steps, n_inputs)`` or ``(steps, *input shape)``) with the equations of
    ``framework`` (``"snntorch"``, ``"norse"``, ``"sinabs"``, ``"rockpool"``) and its
    ``options`` (see each framework module); ``node_options`` maps a neuron node's name
    to options of its own (e.g. ``{"lif2": {"reset_delay": False}}``)."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {', '.join(FRAMEWORKS)}, got "
                         f"{framework!r}")
    if stepping not in STEPPINGS:
        raise ValueError(f"stepping must be one of {', '.join(STEPPINGS)}, got {stepping!r}")
    module = FRAMEWORKS[framework]
    opts = module.options(**options)
    if not isinstance(graph, FrameworkGraph):
        graph = read_framework_graph(graph)
    node_options = dict(node_options or {})
    unknown = sorted(set(node_options) - set(graph.nodes))
    if unknown:
        raise ValueError(f"{graph.source}: node_options names {unknown[0]!r}, which is not a "
                         f"neuron node (neuron nodes: {', '.join(graph.nodes)})")
    per_node = {n: module.options(**{**options, **node_options.get(n, {})}) for n in graph.nodes}
    x = input_array(graph, inputs)
    neurons = sum(f.size for f in graph.nodes.values())
    why = over_budget(x.shape[0] * neurons * 4.0 * np.dtype(dtype).itemsize,
                      f"run_framework over {x.shape[0]} steps x {neurons} neurons")
    if why:
        raise NirError(graph.source, "", why)
    params, notes = _node_params(graph, module, opts, per_node)
    return _Stepper(graph, params, module, stepping, dtype).run(x, framework, opts, notes)


def _node_params(graph: FrameworkGraph, module, opts: Options, per_node: dict):
    notes = list(graph.warnings)
    if module is norse_semantics:
        dt_export, why = norse_semantics.resolve_export_dt(list(graph.nodes.values()), opts)
        notes.append(why)
        return {n: module.neuron(f, per_node[n], dt_export)
                for n, f in graph.nodes.items()}, notes
    return {n: module.neuron(f, per_node[n]) for n, f in graph.nodes.items()}, notes


class _Stepper:
    """The step loop: per step, every neuron node in ``step_order`` gathers its input
    terms from the outputs of the steps they come from and takes one framework step."""

    def __init__(self, graph: FrameworkGraph, params: dict, module, stepping: str, dtype):
        self.g, self.params, self.module, self.dtype = graph, params, module, dtype
        self.order = step_order(graph)
        self.hop = 1 if stepping == "tick-per-hop" else 0
        self.stepping = stepping

    def _source_step(self, node: str, term: _Term, t: int, position: dict) -> np.ndarray:
        """The step each synapse of ``term`` reads in step ``t`` (negative: before start)."""
        if term.source in self.g.inputs:
            return t - term.delay
        late = self.hop or position[term.source] >= position[node]
        return t - term.delay - (1 if late else 0)

    def run(self, x: np.ndarray, framework: str, opts: Options, notes: list) -> FrameworkRun:
        steps, g, dt = x.shape[0], self.g, self.dtype
        outs = {n: np.zeros((steps, f.size), dt) for n, f in g.nodes.items()}
        vs = {n: np.zeros((steps, f.size), dt) for n, f in g.nodes.items()}
        cs = {n: np.zeros((steps, f.size), dt) for n, f in g.nodes.items()}
        states = {n: self.module.initial(self.params[n], f.size, dt) for n, f in g.nodes.items()}
        position = {n: k for k, n in enumerate(self.order)}
        channel = {name: m.start for name, m in g.inputs.items()}
        for t in range(steps):
            for n in self.order:
                drive = np.zeros(g.nodes[n].size)
                for term in g.terms[n]:
                    at = self._source_step(n, term, t, position)
                    ok = at >= 0
                    if not ok.any():
                        continue
                    if term.source in g.inputs:
                        src = x[at[ok], term.pre[ok] + channel[term.source]]
                    else:
                        src = outs[term.source][at[ok], term.pre[ok]]
                    drive += np.bincount(term.post[ok], weights=term.weight[ok] * src,
                                         minlength=drive.size)
                if n in g.const:
                    drive = drive + g.const[n]
                states[n], out = self.module.step(self.params[n], states[n], drive.astype(dt))
                outs[n][t], vs[n][t], cs[n][t] = out, states[n].v, states[n].i
        return FrameworkRun(g, framework, self.stepping, dict(opts.values), outs, vs, cs,
                            tuple(notes))
