"""Writing a network as a NIR graph (``save_nir``) in the physical convention: each
population as the narrowest neuron node that expresses it (``_classify``), projections
and input synapses as Linear nodes per delay (a Delay node for the ticks beyond the
first), DC inputs as Affine biases, probes as Output nodes; what NIR cannot carry is
returned as notes. Each neuron node also carries its exact float values
(``exact_values``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from firmware_models.lif.reference import NUMERIC_FIELDS, LifPhysical

from ..netlist import DcInput, Netlist, PoissonInput, SpikeInput, StepInput, expand
from .constants import EXPORTER, NEVER_FIRES_V_TH, NO_LEAK_TICKS
from .exact_values import _exact_metadata
from .network import NirNetwork


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
    out = _GraphOut(network)
    dc = _dc_currents(out.netlist, notes)
    gains, bias_gain = _neuron_nodes(out, dc, notes)
    _projection_nodes(out, gains)
    if isinstance(network, NirNetwork):
        _channel_input_nodes(out, network, gains)
    else:
        _netlist_input_nodes(out, gains)
    _bias_nodes(out, dc, bias_gain)
    _output_nodes(out, network)
    _ensure_an_input(out)
    graph = nir.NIRGraph(nodes=out.nodes, edges=out.edges, type_check=False,
                         metadata={"exporter": EXPORTER, "convention": "physical",
                                   "dt": float(out.dt)})
    tmp = path.with_name(path.name + ".tmp")
    try:
        nir.write(tmp, graph)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return tuple(notes)


class _GraphOut:
    """The NIR graph being written for ``network``: its nodes and edges, the node name
    of every population, the Linear nodes into each population."""

    def __init__(self, network: Netlist | NirNetwork):
        if isinstance(network, NirNetwork):
            netlist = network.netlist
            node_name = {m.population: m.name.replace("/", "_") for m in network.nodes.values()}
        elif isinstance(network, Netlist):
            netlist = network
            node_name = {p.name: p.name for p in netlist.populations}
        else:
            raise TypeError(f"save_nir takes a Netlist or a NirNetwork, got "
                            f"{type(network).__name__}")
        self.netlist, self.node_name = netlist, node_name
        self.ex = expand(netlist)
        self.dt = netlist.dt
        self.nodes: dict[str, Any] = {}
        self.edges: list[tuple[str, str]] = []
        self.used: set[str] = {node_name[pop.name] for pop in netlist.populations}
        if isinstance(network, NirNetwork):       # the graph's own names stay as they are
            self.used |= set(network.inputs) | set(network.outputs)
        self.incoming: dict[str, list[str]] = {p.name: [] for p in netlist.populations}

    def fresh(self, base: str) -> str:
        """A node name from ``base`` not used yet (``base_2``, ``base_3``, ...)."""
        base = base.replace("/", "_")
        out, k = base, 2
        while out in self.used:
            out, k = f"{base}_{k}", k + 1
        self.used.add(out)
        return out

    def connect(self, src: str, post_pop: str, base: str, w: np.ndarray, delay_ticks: int):
        """A Linear node of weights ``w`` from node ``src`` into population ``post_pop``,
        through a Delay node of ``delay_ticks`` when it is not 0."""
        import nir

        lin = self.fresh(base)
        self.nodes[lin] = nir.Linear(weight=w)
        self.edges.append((src, lin))
        target = self.node_name[post_pop]
        if delay_ticks > 0:
            dname = self.fresh(base + "_delay")
            self.nodes[dname] = nir.Delay(delay=np.full(w.shape[0], delay_ticks * self.dt))
            self.edges.append((lin, dname))
            self.edges.append((dname, target))
        else:
            self.edges.append((lin, target))
        self.incoming[post_pop].append(lin)


def _dc_currents(netlist: Netlist, notes: list[str]) -> dict[str, np.ndarray]:
    """The DC current (A) of every neuron from the constant inputs; notes on the others."""
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
    return dc


def _neuron_nodes(out: _GraphOut, dc: dict[str, np.ndarray], notes: list[str]):
    """One neuron node per population (``dc`` gets the populations' ``I_bias``); the
    input gain and the bias gain (A per unit of NIR input) of every population."""
    ex, dt = out.ex, out.dt
    gains: dict[str, np.ndarray] = {}
    bias_gain: dict[str, np.ndarray] = {}
    for pop in out.netlist.populations:
        sl = ex.slice(pop.name)
        # the reset is not written (NIR has no field for it): "none" skips its check
        q = LifPhysical(**{f: getattr(ex.params, f)[sl] for f in NUMERIC_FIELDS}, reset="none")
        q = q.broadcast(pop.size)
        dc[pop.name] = dc[pop.name] + q.I_bias
        for field, default, what in (("T_ref", 0, "refractory period"),
                                     ("alpha", 0, "threshold adaptation"),
                                     ("sigma", 0, "noise")):
            if np.any(getattr(q, field) != default):
                notes.append(f"population {pop.name!r}: {what} ({field}) dropped (not in NIR)")
        kind = _classify(q, dt)
        w_in = 1.0 / (1.0 - np.exp(-dt / q.tau_syn))
        gains[pop.name] = np.ones(pop.size)
        bias_gain[pop.name] = w_in if kind in ("CubaLIF", "CubaLI") else np.ones(pop.size)
        node = _neuron_node(kind, q, dt, w_in)
        node.metadata = _exact_metadata(q, dc[pop.name])
        out.nodes[out.node_name[pop.name]] = node
    return gains, bias_gain


def _neuron_node(kind: str, q: LifPhysical, dt: float, w_in: np.ndarray):
    """The NIR node of type ``kind`` for population parameters ``q`` (physical units)."""
    import nir

    tau_m = q.C / q.g_L
    r = 1.0 / q.g_L
    if kind == "Threshold":
        return nir.Threshold(threshold=q.V_th.copy())
    if kind in ("IF", "I"):
        gain = q.R * (1.0 - np.exp(-dt / tau_m))     # volts per ampere and tick
        rr = gain / dt
        return (nir.IF(r=rr, v_threshold=q.V_th.copy(), v_reset=q.V_reset.copy())
                if kind == "IF" else nir.I(r=rr))
    if kind == "LIF":
        return nir.LIF(tau=tau_m, r=r, v_leak=q.E_L.copy(), v_threshold=q.V_th.copy(),
                       v_reset=q.V_reset.copy())
    if kind == "LI":
        return nir.LI(tau=tau_m, r=r, v_leak=q.E_L.copy())
    if kind == "CubaLIF":
        return nir.CubaLIF(tau_syn=q.tau_syn.copy(), tau_mem=tau_m, r=r, v_leak=q.E_L.copy(),
                           v_threshold=q.V_th.copy(), v_reset=q.V_reset.copy(), w_in=w_in)
    return nir.CubaLI(tau_syn=q.tau_syn.copy(), tau_mem=tau_m, r=r, v_leak=q.E_L.copy(),
                      w_in=w_in)


def _projection_nodes(out: _GraphOut, gains: dict[str, np.ndarray]) -> None:
    """Every projection as one dense Linear node per delay."""
    ex, node_name = out.ex, out.node_name
    dticks = ex.delay_ticks()
    for j, proj in enumerate(out.netlist.projections):
        sel = ex.projection == j
        pre = ex.pre[sel] - ex.offsets[proj.pre]
        post = ex.post[sel] - ex.offsets[proj.post]
        w = ex.weight[sel] / gains[proj.post][post]
        for d in np.unique(dticks[sel]):
            m = dticks[sel] == d
            W = np.zeros((ex.sizes[proj.post], ex.sizes[proj.pre]))
            np.add.at(W, (post[m], pre[m]), w[m])
            base = f"{node_name[proj.pre]}_to_{node_name[proj.post]}"
            out.connect(node_name[proj.pre], proj.post, base + (f"_d{d}" if d > 1 else ""), W,
                        int(d) - 1)


def _channel_input_nodes(out: _GraphOut, network: NirNetwork,
                         gains: dict[str, np.ndarray]) -> None:
    """The input channels of a ``NirNetwork``: an Input node per Input node (a Flatten
    after a multi-dimensional one), a Linear node per population and delay."""
    import nir

    ex = out.ex
    for im in network.inputs.values():
        iname = im.name
        out.nodes[iname] = nir.Input(input_type=np.array(im.shape))
        feed = iname
        if len(im.shape) != 1:
            feed = out.fresh(f"{iname}_flat")
            out.nodes[feed] = nir.Flatten(input_type={"input": np.array(im.shape)}, start_dim=0,
                                          end_dim=-1)
            out.edges.append((iname, feed))
        sel = (network.input_channel >= im.start) & (network.input_channel < im.stop)
        for pop in out.netlist.populations:
            lo, size = ex.offsets[pop.name], pop.size
            m = sel & (network.input_post >= lo) & (network.input_post < lo + size)
            for d in np.unique(network.input_delay[m]):
                mm = m & (network.input_delay == d)
                W = np.zeros((size, im.size))
                post = network.input_post[mm] - lo
                np.add.at(W, (post, network.input_channel[mm] - im.start),
                          network.input_weight[mm] / gains[pop.name][post])
                base = f"{iname}_to_{out.node_name[pop.name]}"
                out.connect(feed, pop.name, base + (f"_d{d}" if d else ""), W, int(d))


def _netlist_input_nodes(out: _GraphOut, gains: dict[str, np.ndarray]) -> None:
    """The spike and Poisson inputs of a ``Netlist``: Input nodes with diagonal weights."""
    import nir

    netlist = out.netlist
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
        iname = out.fresh(f"input{i}")
        out.nodes[iname] = nir.Input(input_type=np.array([targets.size]))
        W = np.zeros((size, targets.size))
        W[targets, np.arange(targets.size)] = weights / gains[inp.target][targets]
        out.connect(iname, inp.target, f"{iname}_to_{out.node_name[inp.target]}", W, 0)


def _bias_nodes(out: _GraphOut, dc: dict[str, np.ndarray],
                bias_gain: dict[str, np.ndarray]) -> None:
    """DC currents become the bias of an Affine into the population (the first Linear
    into it, else one from an extra ``dc`` Input with zero weights)."""
    import nir

    dc_source = None
    for pop in out.netlist.populations:
        amp = dc[pop.name]
        if not np.any(amp):
            continue
        bias = amp / bias_gain[pop.name]
        if out.incoming[pop.name]:
            lin = out.incoming[pop.name][0]
            out.nodes[lin] = nir.Affine(weight=out.nodes[lin].weight, bias=bias)
        else:
            if dc_source is None:
                dc_source = out.fresh("dc")
                out.nodes[dc_source] = nir.Input(input_type=np.array([1]))
            aff = out.fresh(f"dc_to_{out.node_name[pop.name]}")
            out.nodes[aff] = nir.Affine(weight=np.zeros((pop.size, 1)), bias=bias)
            out.edges.extend([(dc_source, aff), (aff, out.node_name[pop.name])])


def _output_nodes(out: _GraphOut, network: Netlist | NirNetwork) -> None:
    """Output nodes: those of a ``NirNetwork``, one per probe of a ``Netlist``."""
    import nir

    ex, node_name = out.ex, out.node_name
    if isinstance(network, NirNetwork):
        for o in network.outputs.values():
            # one Output per Output, fed by each of its populations (they loaded, so they
            # have the Output's size), so the names read back as they were
            sizes = {ex.sizes[pop] for pop in o.populations}
            size = sizes.pop() if len(sizes) == 1 else int(np.prod(o.shape))
            out.nodes[o.name] = nir.Output(output_type=np.array([size]))
            for pop in o.populations:
                out.edges.append((node_name[pop], o.name))
        return
    probes = out.netlist.probes
    for probe in probes:
        base = "output" if len(probes) == 1 else f"output_{probe.population}"
        oname = out.fresh(base)
        out.nodes[oname] = nir.Output(output_type=np.array([ex.sizes[probe.population]]))
        out.edges.append((node_name[probe.population], oname))


def _ensure_an_input(out: _GraphOut) -> None:
    """nir.read's type inference starts at an Input node: make sure there is one."""
    import nir

    if not any(isinstance(v, nir.Input) for v in out.nodes.values()):
        first = out.netlist.populations[0]
        iname = out.fresh("input")
        out.nodes[iname] = nir.Input(input_type=np.array([1]))
        lin = out.fresh(f"input_to_{out.node_name[first.name]}")
        out.nodes[lin] = nir.Linear(weight=np.zeros((first.size, 1)))
        out.edges.extend([(iname, lin), (lin, out.node_name[first.name])])
