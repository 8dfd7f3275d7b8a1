"""Loading a NIR graph: ``load_nir`` and its ``_Loader``, which infers the shape of
every node and the signal (``lowering._Signal``) each one passes on.

``load_nir`` reads the graph (``reading``), checks the neuron parameters (``params``),
chooses the exporter convention (``conventions``), resolves the shapes, lowers the
stateless nodes to synapse lists and builds the netlist (``building``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from firmware_models.lif.reference import RESET_MODES

from ...hardware.limits import over_budget
from ..units import parse_duration
from .building import (
    _input_maps,
    _input_synapses,
    _netlist,
    _note_unconnected,
    _outputs,
    _populations,
    _projections,
)
from .constants import CONVENTIONS, RESET_DEFAULTS
from .conventions import _choose_convention, _file_step, norse_time_scale
from .errors import NirError, _edge_at, _node_at
from .exact_values import _adopt
from .lowering import _conv_coo, _elementwise, _identity, _matmul, _padding, _Signal, _sum
from .network import NirNetwork
from .params import NEURON_BYTES, _neuron_params, _P, check_size
from .reading import _Graph, _Node, _read_source


MAX_DELAY_TICKS = 2 ** 20     # ticks of one Delay node (the runs' ring buffers hold as many)


class _Loader:
    """The shapes and signals of the nodes of ``graph`` (``neuron_params``: the checked
    parameters of its neuron nodes) in convention ``conv`` with tick ``dt``."""

    def __init__(self, graph: _Graph, dt: float, conv: str, dt0: float | None,
                 neuron_params: dict[str, dict]):
        self.g, self.source, self.dt, self.conv, self.dt0 = graph, graph.source, dt, conv, dt0
        self.neuron_params = neuron_params
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
            start = p.ints("start_dim", 1, 1)[0]
            end = p.ints("end_dim", 1, -1)[0]
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

    def _cached(self, node: _Node, inp, build):
        """``build(node, inp)``, once per node and input shape."""
        key = (node.name, tuple(inp))
        if key not in self._maps:
            self._maps[key] = build(node, inp)
        return self._maps[key]

    def conv_map(self, node: _Node, inp):
        return self._cached(node, inp, self._conv_map)

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
        return self._cached(node, inp, self._pool_map)

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
        why = over_budget(8.0 * c * kernel[0] * kernel[1], f"a {kernel} kernel over {c} channels")
        if why:
            p.fail(why)
        value = 1.0 / (kernel[0] * kernel[1]) if node.type == "AvgPool2d" else 1.0
        weight = np.zeros((c, 1, *kernel))
        weight[:] = value
        return _conv_coo(weight, inp, stride, pad, pad, (1, 1), c, p)

    def delay_ticks(self, node: _Node, n: int) -> np.ndarray:
        p = _P(node, self.source)
        d = np.broadcast_to(p.num("delay", check="nonneg"), node.shape).reshape(n)
        h = _file_step(self.conv, self.dt, self.dt0)
        ticks = d / h
        long = ticks > MAX_DELAY_TICKS
        if long.any():
            p.fail(f"delay {float(d[long][0])!r} is {float(ticks[long][0]):.3g} ticks of "
                   f"{h!r}, over the limit of {MAX_DELAY_TICKS} ticks")
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
            out = _matmul(sig, rows.astype(np.int64), cols.astype(np.int64), w[rows, cols], n_out,
                          p.fail)
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
            out = _matmul(sig, rows, cols, vals, n_out, p.fail)
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
            return _matmul(sig, rows, cols, vals, n_out, p.fail)
        if t == "Scale":
            s = np.broadcast_to(p.num("scale"), node.shape).reshape(n_out)
            return _elementwise(sig, scale=s)
        if t == "Delay":
            return _elementwise(sig, delay=self.delay_ticks(node, n_out))
        return sig                                    # Flatten, Identity

    # ------------------------------------------------------------------ checks
    def resolve_shapes(self) -> None:
        """Set the output, then the input shape of every node; check the edges."""
        nodes = self.g.nodes
        for name in nodes:
            self.out_shape(name)
        total = 0
        for name, node in nodes.items():
            if node.shape is None:
                raise NirError(self.source, _node_at(name), "cannot infer its shape (no input "
                                                            "reaches it and it states none)")
            fail = _P(node, self.source).fail
            n = check_size(node.shape, f"its shape {tuple(node.shape)}", fail)
            total += n if node.role == "neuron" else 0
        why = over_budget(total * NEURON_BYTES, f"the graph's {total} neurons")
        if why:
            raise NirError(self.source, "", why)
        for name, node in nodes.items():
            if node.role in ("input", "neuron"):
                node.in_shape = node.shape
            else:
                node.in_shape = self.in_shape(name) or node.shape
        self.check_edges()

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


def load_nir(path_or_graph, dt: float, reset: str | Mapping[str, str] = "auto",
             convention: str = "auto", *, dt_export: float | None = None) -> NirNetwork:
    """Load a NIR graph (a ``.nir`` file, a ``nir.NIRGraph`` or its dict) as a float netlist.

    ``dt`` is the tick: seconds, or a duration with its unit (``"0.1ms"``, ``"1e-4s"``); ``reset`` is ``"subtract"``, ``"value"`` or ``"none"`` for
    every spiking node, or a mapping NIR node name -> mode (the others ``"auto"``);
    ``"auto"`` is the exporter's own default (``RESET_DEFAULTS``: ``"value"``, to
    ``v_reset``, for Norse and physical -- NIR's equations --, ``"subtract"`` for snnTorch,
    Sinabs and Rockpool); NIR stores neither ``dt`` nor the reset. ``convention`` says how
    to read ``r``, ``w_in`` and time (``conventions``, docs/nir.md); ``dt_export``
    overrides the exporter step ``dt0`` of the snnTorch and Rockpool conventions, and for
    Norse is ``to_nir``'s ``dt``, which Norse 1.1.0 multiplied every time constant by
    (guessed when a time constant is below ``dt``: ``conventions.norse_time_scale``). Files
    are read with ``h5py`` directly (no ``nir`` type check), so graphs that ``nir.read``
    refuses for a mere shape declaration still load; every real problem is a
    ``NirError`` naming the file and the node or edge.
    """
    dt, reset_of, default_reset = _check_arguments(dt, reset, convention)
    source, raw = _read_source(path_or_graph)
    graph = _Graph(raw, source)
    for name in reset_of:
        if name not in graph.nodes or graph.nodes[name].role != "neuron":
            raise ValueError(f"reset names {name!r}, which is not a neuron node")
    params = {name: _neuron_params(node, source) for name, node in graph.nodes.items()
              if node.role == "neuron"}
    conv, reason, dt0 = _choose_convention(graph, params, convention, dt_export)
    if conv == "norse":
        scale, how = norse_time_scale(params, dt, dt_export)
        reason += how
        params = {name: {k: (v / scale if k in ("tau", "tau_mem", "tau_syn") else v)
                         for k, v in p.items()} for name, p in params.items()}
    loader = _Loader(graph, dt, conv, dt0, params)
    loader.resolve_shapes()

    modes = _reset_modes(graph, reset_of, default_reset, conv)
    models, node_maps, pop_dicts = _populations(graph, params, conv, dt, dt0, modes)
    input_maps = _input_maps(graph)
    projections, dc, synapses = _projections(graph, loader, models, node_maps, input_maps, dt)
    if conv == "physical":                    # exact values of files written by save_nir
        for name in models:
            _adopt(graph.nodes[name], pop_dicts[name], dc, name, loader.warnings)
    output_maps, probes = _outputs(graph, loader, models, node_maps)
    _note_unconnected(graph, loader.warnings)
    loader.warnings.extend(_what_the_exporter_left_out(conv, list(models)))
    netlist = _netlist(graph, dt, node_maps, pop_dicts, projections, dc, probes)
    resets = {name: models[name].reset for name in models}
    return NirNetwork(source, netlist, conv, reason, dt0, resets, node_maps, input_maps,
                      output_maps, *_input_synapses(*synapses), tuple(loader.warnings))


# what each exporter does not write (measured on its own exports: docs/nir.md)
LEFT_OUT = {
    "snntorch": "snnTorch's exporter writes neither reset_mechanism nor reset_delay (the "
                "float reference takes them as options)",
    "norse": "Norse's exporter writes neither v_reset (0 is assumed) nor the cell's dt",
    "sinabs": "Sinabs' exporter writes no spike function (multi-spike), reset function or "
              "min_v_mem (the float reference takes them as options)",
    "rockpool": "Rockpool's exporter drops the neuron bias, the recurrent weights w_rec and "
                "max_spikes_per_dt: a network that had them runs without them",
}


def _what_the_exporter_left_out(conv: str, nodes: list[str]) -> list[str]:
    if conv not in LEFT_OUT or not nodes:
        return []
    shown = ", ".join(repr(n) for n in nodes[:6]) + (" and more" if len(nodes) > 6 else "")
    return [f"neuron node{'s' * (len(nodes) > 1)} {shown}: {LEFT_OUT[conv]}"]


def _check_arguments(dt, reset, convention: str) -> tuple[float, dict[str, str], str]:
    """``dt`` as a float, the reset modes named per node and the default mode."""
    if isinstance(dt, np.generic):
        dt = dt.item()
    dt = parse_duration(dt, "s")      # seconds, or "1ms", "1e-4s" as on the command line
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
    return dt, reset_of, default_reset


def _reset_modes(graph: _Graph, reset_of: dict[str, str], default_reset: str, conv: str
                 ) -> dict[str, str]:
    """The reset mode of every neuron node, ``"auto"`` being the exporter's default."""
    auto = RESET_DEFAULTS[conv]
    modes = {}
    for name, node in graph.nodes.items():
        if node.role == "neuron":
            mode = reset_of.get(name, default_reset)
            modes[name] = auto if mode == "auto" else mode
    return modes
