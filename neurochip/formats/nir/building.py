"""Building the netlist of a shaped graph: one ``"lif"`` population per neuron node,
input channels per top-level Input node, projections and input synapses from the
signals that reach each neuron node, DC inputs from its biases, probes per Output node.

Time and delays (the chip's semantics, docs/tick.md): a spike decided in tick ``k``
reaches its post population in tick ``k + 1`` at the earliest, so every projection
between populations has a delay of ``1 + d`` ticks where ``d`` is the delay of its NIR
Delay nodes (0 without one). Input channels have no such tick: the input of tick ``k``
reaches the first populations in tick ``k + d``. A signal through ``L`` layers of
populations therefore arrives ``L - 1`` ticks later than in PyTorch-style simulators,
which pass a whole layer stack within one step. Recurrent cycles are ordinary
projections.

The functions here take the ``_Loader`` of ``loader`` (its shapes resolved) as
``loader``: they ask it for the signal into a node (``loader.input_signal``) and add
to its ``warnings``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ..netlist import Netlist, netlist_from_dict
from .constants import NON_SPIKING
from .conventions import _Model, _model
from .errors import NirError, _edge_at, _node_at
from .exact_values import _compact
from .network import InputMap, NodeMap, OutputMap
from .reading import _Graph

_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")


def _population_name(name: str, taken: set[str]) -> str:
    base = _NAME_BAD.sub("_", name) or "node"
    if not re.match(r"[A-Za-z_]", base):
        base = "n" + base
    out, k = base, 2
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def _populations(graph: _Graph, params: dict, conv: str, dt: float, dt0: float | None,
                 modes: Mapping[str, str]
                 ) -> tuple[dict[str, _Model], dict[str, NodeMap], dict[str, dict]]:
    """Per neuron node (in name order): its model, where it went, its population dict
    (the netlist file's form); ``modes`` is the reset mode of every neuron node."""
    taken: set[str] = set()
    models: dict[str, _Model] = {}
    node_maps: dict[str, NodeMap] = {}
    pop_dicts: dict[str, dict] = {}
    offset = 0
    for name, node in graph.nodes.items():
        if node.role != "neuron":
            continue
        model = _model(node, params[name], conv, dt, dt0, modes[name], graph.source)
        models[name] = model
        pop = _population_name(name, taken)
        size = int(np.prod(node.shape))
        node_maps[name] = NodeMap(name, node.type, pop, tuple(node.shape), offset, offset + size)
        offset += size
        values = {k: _compact(v) for k, v in model.values.items()}
        values.update(T_ref=0.0, alpha=0.0, I_bias=0.0, sigma=0.0, reset=model.reset)
        pop_dicts[name] = {"model": "lif", "size": size, "params": values}
    if not models:
        raise NirError(graph.source, "", "the graph has no neuron node (LIF, CubaLIF, IF, LI, "
                                         "CubaLI, I, Threshold): nothing to put on a chip")
    return models, node_maps, pop_dicts


def _input_maps(graph: _Graph) -> dict[str, InputMap]:
    """The channels of every top-level Input node, concatenated in name order."""
    input_maps: dict[str, InputMap] = {}
    ch = 0
    for name, node in graph.nodes.items():
        if node.role == "input":
            size = int(np.prod(node.shape))
            input_maps[name] = InputMap(name, tuple(node.shape), ch, ch + size)
            ch += size
    return input_maps


def _projections(graph: _Graph, loader, models: dict[str, _Model],
                 node_maps: dict[str, NodeMap], input_maps: dict[str, InputMap], dt: float):
    """The projections (netlist dicts), the DC current (A) of every neuron node a bias
    reaches, and the input synapses as lists of ``(channel, post, weight, delay)`` parts.
    """
    projections, dc = [], {}
    in_ch, in_post, in_w, in_d = synapses = ([], [], [], [])
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
                in_ch.append(s + input_maps[src].start)
                in_post.append(k + nm.start)
                in_w.append(w)
                in_d.append(d)
                continue
            if snode.type in NON_SPIKING:
                raise NirError(graph.source, _edge_at(src, _first_succ(graph, src, name)),
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
            dc[name] = sig.const * model.bias_gain
    return projections, dc, synapses


def _first_succ(graph: _Graph, src: str, target: str) -> str:
    succ = graph.succs[src]
    return target if target in succ else (succ[0] if succ else target)


def _input_synapses(channel: list, post: list, weight: list, delay: list):
    """The input synapses as arrays sorted by ``(channel, post, delay)``."""

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    channel, post, weight, delay = (cat(channel, np.int64), cat(post, np.int64),
                                    cat(weight, float), cat(delay, np.int64))
    order = np.lexsort((delay, post, channel))
    return channel[order], post[order], weight[order], delay[order]


def _outputs(graph: _Graph, loader, models: dict[str, _Model], node_maps: dict[str, NodeMap]
             ) -> tuple[dict[str, OutputMap], list[dict]]:
    """The Output nodes and the probes (netlist dicts) of the populations feeding them."""
    output_maps: dict[str, OutputMap] = {}
    records: dict[str, list[str]] = {}
    for name, node in graph.nodes.items():
        if node.role != "output":
            continue
        if not graph.preds[name]:
            loader.warnings.append(f"Output {name!r} has no incoming edge; ignored")
            continue
        feeders = _feeders(graph, name, loader.input_signal(name), node_maps)
        pops = tuple(node_maps[f].population for f in feeders)
        output_maps[name] = OutputMap(name, tuple(node.in_shape), tuple(feeders), pops)
        for f in feeders:
            want = ["spikes", "v"] if models[f].spiking else ["v"]
            have = records.setdefault(node_maps[f].population, [])
            have.extend(x for x in want if x not in have)
    probes = [{"population": pop, "record": rec} for pop, rec in records.items()]
    return output_maps, probes


def _feeders(graph: _Graph, name: str, sig, node_maps: dict[str, NodeMap]) -> list[str]:
    """The neuron nodes that feed Output ``name`` (signal ``sig``) directly, or a refusal."""
    source = graph.source
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
    return feeders


def _note_unconnected(graph: _Graph, warnings: list[str]) -> None:
    for name, node in graph.nodes.items():
        if not graph.preds[name] and not graph.succs[name]:
            warnings.append(f"node {name!r} is not connected; ignored"
                            if node.role != "neuron" else
                            f"neuron node {name!r} has no edge")


def _netlist(graph: _Graph, dt: float, node_maps: dict[str, NodeMap],
             pop_dicts: dict[str, dict], projections: list, dc: dict, probes: list) -> Netlist:
    """The float netlist (duration one tick); ``dc`` becomes its DC inputs."""
    source = graph.source
    inputs = [{"kind": "dc", "target": node_maps[name].population, "amplitude": _compact(amp)}
              for name, amp in dc.items()]
    data = {"format": "neurochip-netlist", "version": 1, "dt": dt, "duration": dt,
            "populations": {node_maps[k].population: v for k, v in pop_dicts.items()},
            "projections": projections, "inputs": inputs, "probes": probes}
    try:
        return netlist_from_dict(data, source)
    except ValueError as e:                       # pragma: no cover - a loader bug
        raise NirError(source, "", f"the netlist built from the graph is invalid: {e}") from None
