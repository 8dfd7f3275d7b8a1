"""NeuroBench workload metrics of a run, per population (NIR neuron node) and in total.

    from neurochip.lab.metrics import metrics_of
    m = metrics_of(run_framework("net.nir", x, "snntorch"), x)    # a FrameworkRun
    m = metrics_of(result.reference, result.prepared)              # lab.nir_runs float reference
    m = metrics_of(result.chip, result.prepared)                   # a chip run
    m.to_neurobench()   # {"SynapticOperations": {...}, "ActivationSparsity": ..., ...}

The counts are NeuroBench 2.x's (``neurobench/metrics/workload/``, checked against
neurobench 2.3.0 on ``tests/data/neurobench``), for one sample:

* **effective synaptic operations** (``SynapticOperations``): per step, per connection
  into a node, the pairs (input, weight) with a nonzero input value and a nonzero weight
  (NeuroBench multiplies binarised copies of both, bias excluded). A connection's step
  counts as ACs when every value of its source in that step is -1, 0 or 1 (spikes), as
  MACs otherwise (graded values: an analog input, an LI membrane).
* **dense synaptic operations** (``Dense``): the same with every input and weight set to
  1: the connection's (input, output) pairs, zero weights included, every step.
* **activation sparsity** (``ActivationSparsity``, ``ActivationSparsityByLayer``): zero
  outputs over all outputs of the neuron nodes, over all steps.
* **membrane updates** (``MembraneUpdates``): per neuron, 1 in the first step, then 1 in
  every step whose stored membrane differs from the step before's.

Which step a synapse reads is the run's: ``same-step`` (the frameworks, NeuroBench's
hooks) or ``tick-per-hop``, with delays; a read before the first step counts nothing. The
chip run counts each recorded spike (and each nonzero input) once per nonzero-weight
synapse it leaves on, in the tick it is emitted, with the expanded netlist's float
weights; its membrane is the recorded ``v`` register. Where the chip's spikes equal the
reference's (same-step, zero delays) its synaptic operations and sparsity equal them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..formats.nir.framework_run import (FrameworkGraph, FrameworkRun, input_array,
                                         read_framework_graph, step_order)
from ..formats.nir.reading import _read_source


@dataclass(frozen=True)
class NodeMetrics:
    effective_acs: int = 0
    effective_macs: int = 0
    dense: int = 0
    nonzero: int = 0              # nonzero outputs over all steps
    activations: int = 0          # outputs over all steps
    membrane_updates: int = 0

    @property
    def activation_sparsity(self) -> float:
        a = self.activations
        return (a - self.nonzero) / a if a else 0.0

    def __add__(self, other: "NodeMetrics") -> "NodeMetrics":
        return NodeMetrics(*(getattr(self, f) + getattr(other, f) for f in _FIELDS))


_FIELDS = ("effective_acs", "effective_macs", "dense", "nonzero", "activations",
           "membrane_updates")


@dataclass(frozen=True)
class Metrics:
    """Per neuron node and in total; ``kind``: what ran (a framework, or ``chip``)."""

    kind: str
    steps: int
    nodes: dict[str, NodeMetrics] = field(default_factory=dict)

    @property
    def total(self) -> NodeMetrics:
        return sum(self.nodes.values(), NodeMetrics())

    @staticmethod
    def _synops(m: NodeMetrics) -> dict:
        return {"Effective_MACs": m.effective_macs, "Effective_ACs": m.effective_acs,
                "Dense": m.dense}

    def to_neurobench(self) -> dict:
        """The totals under NeuroBench's result names (one sample)."""
        t = self.total
        return {"SynapticOperations": self._synops(t),
                "ActivationSparsity": t.activation_sparsity,
                "ActivationSparsityByLayer": {n: m.activation_sparsity
                                              for n, m in self.nodes.items()},
                "MembraneUpdates": t.membrane_updates}

    def per_node(self) -> dict:
        return {n: {"SynapticOperations": self._synops(m), "MembraneUpdates":
                    m.membrane_updates, "ActivationSparsity": m.activation_sparsity}
                for n, m in self.nodes.items()}

    def format(self) -> str:
        lines = [f"NeuroBench metrics ({self.kind}, {self.steps} steps, one sample):",
                 "  node: effective ACs, MACs, dense ops, activation sparsity, membrane updates"]
        for name, m in [*self.nodes.items(), ("total", self.total)]:
            lines.append(f"  {name}: {m.effective_acs} ACs, {m.effective_macs} MACs, "
                         f"{m.dense} dense, sparsity {m.activation_sparsity:.4f}, "
                         f"{m.membrane_updates} membrane updates")
        return "\n".join(lines)


def _spiking(values: np.ndarray) -> bool:
    return bool(np.isin(values, (-1.0, 0.0, 1.0)).all())


def _membrane_updates(v: np.ndarray) -> int:
    v = np.asarray(v).reshape(v.shape[0], -1)
    return int(v.shape[1] + np.count_nonzero(v[1:] != v[:-1])) if v.shape[0] else 0


def _all_ones(raw):
    """The graph with every weight set to 1 (NeuroBench's ``make_binary_copy(all_ones)``)."""
    if isinstance(raw, dict):
        return {k: (np.ones_like(np.asarray(v, dtype=np.float64)) if k == "weight"
                    else _all_ones(v)) for k, v in raw.items()}
    return raw


def dense_pairs(graph_source) -> dict[str, int]:
    """Per neuron node: its connections' (input, output) pairs, zero weights included."""
    source, raw = _read_source(graph_source)
    ones = read_framework_graph(_all_ones(raw))
    return {n: int(sum(t.pre.size for t in terms)) for n, terms in ones.terms.items()}


def _late(graph, node, term, position, hop) -> int:
    """1 when ``term``'s source reaches ``node`` one step late (tick-per-hop, back edge)."""
    if term.source in graph.inputs:
        return 0
    return 1 if hop or position[term.source] >= position[node] else 0


def _synops_reference(graph: FrameworkGraph, x, out, steps, hop) -> dict:
    """Per node: (ACs, MACs), each synapse reading its source in the step the run read
    it; a step is ACs when the source's whole output read that step is -1, 0 or 1."""
    position = {n: k for k, n in enumerate(step_order(graph))}
    counts = {}
    for node, terms in graph.terms.items():
        acs = macs = 0
        for term in terms:
            nz = term.weight != 0
            if not nz.any():
                continue
            pre, delay = term.pre[nz], term.delay[nz].astype(np.int64)
            late = _late(graph, node, term, position, hop)
            if term.source in graph.inputs:
                m = graph.inputs[term.source]
                src = x[:, m.start:m.stop]
            else:
                src = np.asarray(out[term.source]).reshape(steps, -1)
            active = src != 0
            for t in range(steps):
                at = t - delay - late
                ok = at >= 0
                n = int(np.count_nonzero(active[at[ok], pre[ok]]))
                row = t - int(delay.min()) - late
                if not n:
                    continue
                if row < 0 or _spiking(src[row]):
                    acs += n
                else:
                    macs += n
        counts[node] = (acs, macs)
    return counts


def _reference_metrics(kind, graph, graph_source, x, out, v, steps, hop) -> Metrics:
    syn = _synops_reference(graph, x, out, steps, hop)
    dense = dense_pairs(graph_source)
    nodes = {}
    for node in graph.nodes:
        o = np.asarray(out[node])
        nodes[node] = NodeMetrics(syn[node][0], syn[node][1], steps * dense.get(node, 0),
                                  int(np.count_nonzero(o)), int(o.size),
                                  _membrane_updates(v[node]))
    return Metrics(kind, steps, nodes)


def _node_arrays(network, flat: np.ndarray) -> dict:
    return {name: flat[:, m.start:m.stop] for name, m in network.nodes.items()}


def _chip_metrics(chip, prepared) -> Metrics:
    net, ex, x = prepared.network, prepared.expanded, prepared.x
    spikes = np.asarray(chip.recording.spikes)[:x.shape[0]].astype(np.float64)
    v = np.asarray(chip.recording["v"])[:x.shape[0]]
    steps = spikes.shape[0]
    fired = np.count_nonzero(spikes, axis=0)             # emitted spikes per neuron
    inputs = np.count_nonzero(x, axis=0)                 # nonzero inputs per channel
    spiking_input = _spiking(x)
    dense = dense_pairs(prepared.graph)
    owner = np.full(net.n, -1)
    names = list(net.nodes)
    for k, m in enumerate(net.nodes.values()):
        owner[m.start:m.stop] = k
    nz = ex.weight != 0
    keep = nz & (ex.pre < net.n) & (ex.post < net.n)
    per_node_acs = np.bincount(owner[ex.post[keep]], weights=fired[ex.pre[keep]],
                               minlength=len(names))
    inz = net.input_weight != 0
    per_node_in = np.bincount(owner[net.input_post[inz]],
                              weights=inputs[net.input_channel[inz]], minlength=len(names))
    nodes = {}
    for k, (name, m) in enumerate(net.nodes.items()):
        s = spikes[:, m.start:m.stop]
        acs = int(per_node_acs[k]) + (int(per_node_in[k]) if spiking_input else 0)
        macs = 0 if spiking_input else int(per_node_in[k])
        nodes[name] = NodeMetrics(acs, macs, steps * dense.get(name, 0),
                                  int(np.count_nonzero(s)), int(s.size),
                                  _membrane_updates(v[:, m.start:m.stop]))
    return Metrics("chip", steps, nodes)


def input_synapses(netlist, ex) -> np.ndarray:
    """Per neuron, the input synapses onto it: one per neuron a ``spikes`` input names,
    ``fan_in`` per neuron a ``poisson`` input targets (dc and step currents are no
    synapses)."""
    from ..formats.netlist.schema import PoissonInput, SpikeInput

    out = np.zeros(ex.n, dtype=np.int64)
    for inp in netlist.inputs:
        base = ex.offsets[inp.target]
        if isinstance(inp, SpikeInput):
            out[base + np.array(sorted(inp.times), dtype=np.int64)] += 1
        elif isinstance(inp, PoissonInput):
            local = np.arange(ex.sizes[inp.target]) if inp.neurons is None else \
                np.array(inp.neurons, dtype=np.int64)
            out[base + local] += inp.fan_in
    return out


def netlist_of(source):
    """The ``Netlist`` behind ``source`` (a path or a ``Netlist``); ``None`` for an
    ``ExpandedNetwork``, whose inputs' synapses are no longer known."""
    import os

    from ..formats.netlist import Netlist, load_netlist

    if isinstance(source, Netlist):
        return source
    return load_netlist(source) if isinstance(source, (str, os.PathLike)) else None


def netlist_metrics(ex, spikes, v, kind: str, netlist=None) -> Metrics:
    """NeuroBench's counts over a native netlist's populations (``docs/metrics.md``) for a
    run of ``ex`` (an ``ExpandedNetwork``): ``spikes`` and ``v`` ``(ticks, n)`` in
    netlist order (a chip recording, its registers, or the float reference).

    * effective ACs into population ``P``: per synapse onto ``P`` with a nonzero weight,
      the ticks in which its pre neuron fired (binarised: a tick of ``c`` spikes counts
      once) and whose spike arrives inside the run (tick ``k + delay < ticks``: the
      weight was applied); plus every input event (a spike of an input on one synapse)
      with a nonzero weight. Every input is a spike, so no MACs; dc and step currents
      are no synaptic operations (NeuroBench leaves the bias out);
    * dense: ``ticks`` times the synapses onto ``P``, zero weights included, and the
      input synapses (``input_synapses``, when ``netlist`` is given);
    * activation sparsity: the (tick, neuron) pairs of ``P`` without a spike over all;
    * membrane updates: per neuron 1 in the first tick, then 1 per tick whose ``v``
      differs from the tick before's.
    """
    spikes = np.asarray(spikes)
    ticks, n = spikes.shape
    fired = spikes != 0
    owner = np.repeat(np.arange(len(ex.names)), [ex.sizes[p] for p in ex.names])
    # fired_before[k, j]: ticks before k in which j fired
    fired_before = np.zeros((ticks + 1, n), dtype=np.int64)
    np.cumsum(fired, axis=0, out=fired_before[1:])
    nz = ex.weight != 0
    last = np.clip(ticks - ex.delay_ticks()[nz], 0, ticks)   # fired before this: in time
    acs = np.bincount(owner[ex.post[nz]], weights=fired_before[last, ex.pre[nz]],
                      minlength=len(ex.names))
    arrived = (ex.event_weight != 0) & (ex.event_tick < ticks)
    acs += np.bincount(owner[ex.event_neuron[arrived]], minlength=len(ex.names))
    pairs = np.bincount(owner[ex.post], minlength=len(ex.names)).astype(np.int64)
    if netlist is not None:
        pairs += np.bincount(owner, weights=input_synapses(netlist, ex),
                             minlength=len(ex.names)).astype(np.int64)
    nodes = {}
    for k, name in enumerate(ex.names):
        part = ex.slice(name)
        nodes[name] = NodeMetrics(int(acs[k]), 0, ticks * int(pairs[k]),
                                  int(np.count_nonzero(fired[:, part])),
                                  int(fired[:, part].size),
                                  _membrane_updates(np.asarray(v)[:ticks, part]))
    return Metrics(kind, ticks, nodes)


def metrics_of(run, inputs) -> Metrics:
    """NeuroBench metrics of ``run``: a ``FrameworkRun`` with its input array ``inputs``,
    or a ``lab.nir_runs`` ``FloatReference`` / ``ChipRun`` with its ``NirInput``."""
    from .nir_runs import ChipRun, FloatReference, NirInput

    if isinstance(run, FrameworkRun):
        x = input_array(run.graph, inputs)
        hop = 1 if run.stepping == "tick-per-hop" else 0
        return _reference_metrics(run.framework, run.graph, run.graph.source, x, run.out,
                                  run.v, x.shape[0], hop)
    if not isinstance(inputs, NirInput):
        raise TypeError(f"metrics_of({type(run).__name__}, ...) takes the run's NirInput "
                        f"(lab.nir_runs.prepare), got {type(inputs).__name__}")
    if isinstance(run, ChipRun):
        return _chip_metrics(run, inputs)
    if isinstance(run, FloatReference):
        graph = read_framework_graph(inputs.graph)
        net, steps = inputs.network, inputs.ticks
        x = input_array(graph, inputs.x)
        hop = 1 if run.stepping == "tick-per-hop" else 0
        return _reference_metrics(run.kind, graph, inputs.graph, x,
                                  _node_arrays(net, run.spikes), _node_arrays(net, run.v),
                                  steps, hop)
    raise TypeError(f"metrics_of takes a FrameworkRun, FloatReference or ChipRun, got "
                    f"{type(run).__name__}")
