"""A NIR graph and its input, run on the float reference and on a chip, and how far the
two agree: the one call behind ``neurochip run/compare`` on a ``.nir`` file.

    from neurochip.lab.nir_runs import run_nir
    result = run_nir("model.nir", x, dt="1ms")          # x: (ticks, *input shape)
    print(result.agreement.format())                     # spikes per Output, chip vs float
    result.reference.spikes, result.chip.recording.spikes

Steps, each its own function: ``prepare`` (load the graph with ``load_nir``, the input as
the chip's input events), ``float_reference`` (the framework's own equations,
``formats.nir.run_framework``, or the netlist's float model ``run_float``),
``run_on_chip`` (compile with a calibration from the float model, run) and ``agreement``.

The float reference of a graph exported by snnTorch, Norse, Sinabs or Rockpool is that
framework's equations (``framework="auto"`` takes the exporter ``load_nir`` detected);
``framework="netlist"`` is the float model of the netlist the chip quantises. Its
stepping is ``"tick-per-hop"`` by default, as the chip passes a layer stack, so that the
comparison measures quantisation; ``"same-step"`` is what the frameworks compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compiler.calibration import Calibration
from ..compiler.pipeline import compile_netlist, float_run, roomy_core_spec, with_input_events
from ..compiler.warnings import run_warnings
from ..formats.netlist import ExpandedNetwork, expand
from ..formats.nir import NirNetwork, load_nir, run_float
from ..formats.nir.framework_run import STEPPINGS, run_framework
from ..formats.nir.frameworks import FRAMEWORKS
from ..formats.units import parse_duration
from ..hardware.chip import ChipSpec

REFERENCES = ("auto", "netlist", *FRAMEWORKS)


def chip_reset(reset: str, options: dict) -> str:
    """The loader's reset for a run whose float reference has framework ``options``: a
    framework's zero reset is the chip's reset to ``v_reset`` (0), its subtraction the
    chip's; ``reset`` given (not ``"auto"``) wins."""
    if reset != "auto" or "reset" not in options:
        return reset
    return {"zero": "value", "subtract": "subtract"}.get(options["reset"], reset)


@dataclass(frozen=True, eq=False)
class NirInput:
    """A loaded graph, its input ``x`` ``(ticks, n_inputs)`` and the expanded netlist with
    that input as the chip's input events."""

    graph: object            # what was loaded: a path, a nir.NIRGraph or its dict
    network: NirNetwork
    x: np.ndarray
    expanded: ExpandedNetwork

    @property
    def ticks(self) -> int:
        return self.x.shape[0]


def prepare(graph, inputs, dt, *, reset: str = "auto", convention: str = "auto",
            dt_export: float | None = None, ticks: int | None = None) -> NirInput:
    """Load ``graph`` at tick ``dt`` (seconds, or a string such as ``"1ms"``) with the
    input ``inputs`` (``(ticks, n_inputs)``, ``(ticks, *shape)``, a mapping per Input
    node, or ``None``: zero input of ``ticks`` ticks); ``ticks`` pads the input with
    zeros or cuts it."""
    net = load_nir(graph, dt=parse_duration(dt), reset=reset, convention=convention,
                   dt_export=dt_export)
    if ticks is not None:
        if isinstance(ticks, bool) or int(ticks) != ticks or ticks < 1:
            raise ValueError(f"ticks must be a positive integer, got {ticks!r}")
        ticks = int(ticks)
    if inputs is None:
        if ticks is None:
            raise ValueError("with no input, say how many ticks to run (ticks=)")
        inputs = np.zeros((ticks, net.n_inputs))
    x = net.input_array(inputs)
    if ticks is not None:
        x = np.concatenate([x, np.zeros((max(ticks - x.shape[0], 0), x.shape[1]))])[:ticks]
    return _prepared(graph, net, x)


def _prepared(graph, net: NirNetwork, x: np.ndarray) -> NirInput:
    expanded = with_input_events(expand(net.netlist_for(x.shape[0])), net.input_channel,
                                 net.input_post, net.input_weight, net.input_delay, x)
    return NirInput(graph, net, x, expanded)


def with_refractory(prepared: NirInput, ticks_of: dict) -> NirInput:
    """``prepared`` with the refractory periods ``ticks_of`` (neuron node -> ticks, as
    ``framework_refractory`` gives them) set on its populations; the graph is not read
    again."""
    if not ticks_of:
        return prepared
    return _prepared(prepared.graph, _with_refractory(prepared.network, ticks_of), prepared.x)


def framework_refractory(network: NirNetwork, framework: str, options: dict,
                         node_options: dict | None = None) -> dict:
    """Refractory ticks that make the chip compute a framework's reset: snnTorch's zero
    reset with ``reset_delay=True`` clears the whole membrane of the step after a spike
    for Synaptic, RLeaky and RSynaptic (the CubaLIF and recurrent LIF nodes), which is one
    refractory tick after a reset to 0. ``node_options``: options per node, over
    ``options``."""
    if framework != "snntorch":
        return {}
    recurrent = {p.pre for p in network.netlist.projections if p.pre == p.post}
    out = {}
    for name, m in network.nodes.items():
        opts = {**options, **(node_options or {}).get(name, {})}
        whole = m.type == "CubaLIF" or (m.type == "LIF" and m.population in recurrent)
        if whole and opts.get("reset") == "zero" and opts.get("reset_delay", True):
            out[name] = 1
    return out


def _with_refractory(network: NirNetwork, ticks_of: dict) -> NirNetwork:
    from dataclasses import replace

    unknown = sorted(set(ticks_of) - set(network.nodes))
    if unknown:
        raise ValueError(f"refractory names {unknown[0]!r}, which is not a neuron node")
    period = {network.nodes[n].population: t * network.dt for n, t in ticks_of.items()}
    pops = tuple(replace(p, params={**p.params, "T_ref": period[p.name]})
                 if p.name in period else p for p in network.netlist.populations)
    return replace(network, netlist=replace(network.netlist, populations=pops))


@dataclass(frozen=True, eq=False)
class FloatReference:
    """A float run over all neurons in netlist order: ``spikes`` (counts), ``v`` and ``i``
    ``(ticks, n)`` (named as the chip's registers; ``V`` and ``I_syn`` are the same
    arrays), what computed it and how it passed the layer stack."""

    kind: str                # a framework name, or "netlist"
    stepping: str
    spikes: np.ndarray
    v: np.ndarray
    i: np.ndarray
    options: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    V = property(lambda self: self.v, doc="``v``, the membrane")
    I_syn = property(lambda self: self.i, doc="``i``, the synaptic current")

    def describe(self) -> str:
        what = "the netlist's float model" if self.kind == "netlist" else \
            f"{self.kind}'s equations" + (f" ({', '.join(f'{k}={v}' for k, v in self.options.items())})"
                                          if self.options else "")
        return f"float reference: {what}, {self.stepping}"


def float_reference(prepared: NirInput, framework: str = "auto",
                    stepping: str = "tick-per-hop", **options) -> FloatReference:
    """The float run ``agreement`` compares with: ``framework`` (``REFERENCES``; ``auto``
    is the exporter the loader detected, the netlist's model for other graphs) with its
    ``options``; the netlist's model passes one tick per hop."""
    if framework not in REFERENCES:
        raise ValueError(f"framework must be one of {', '.join(REFERENCES)}, got "
                         f"{framework!r}")
    if stepping not in STEPPINGS:
        raise ValueError(f"stepping must be one of {', '.join(STEPPINGS)}, got {stepping!r}")
    net = prepared.network
    kind = framework if framework != "auto" else \
        (net.convention if net.convention in FRAMEWORKS else "netlist")
    if kind == "netlist":
        if options:
            raise ValueError(f"the netlist's float model takes no framework options, got "
                             f"{', '.join(options)}")
        if stepping != "tick-per-hop":
            raise ValueError("the netlist's float model passes one tick per hop; pass "
                             "framework= for a same-step run")
        run = run_float(net, prepared.x)
        return FloatReference("netlist", stepping, run.spikes.astype(float), run.v, run.i,
                              notes=net.warnings)
    if kind == "norse":
        options = {"dt": net.dt, **options}
    run = run_framework(prepared.graph, prepared.x, kind, stepping=stepping, **options)
    spikes, V, I = (np.zeros((prepared.ticks, net.n)) for _ in range(3))
    for name, m in net.nodes.items():
        spikes[:, m.start:m.stop] = run.out[name] if m.type not in ("LI", "CubaLI", "I") \
            else 0.0
        V[:, m.start:m.stop], I[:, m.start:m.stop] = run.v[name], run.i[name]
    return FloatReference(kind, stepping, spikes, V, I, dict(run.options), run.notes)


@dataclass(frozen=True, eq=False)
class ChipRun:
    compiled: object         # compiler.pipeline.CompiledNetwork
    recording: object        # hardware.engine.Recording (netlist order)
    warnings: tuple[str, ...]


def run_on_chip(prepared: NirInput, *, spec: ChipSpec | None = None, mesh=(2, 2),
                v_bits: int = 16, i_bits: int = 16, dialect: str = "lif",
                calibrate: bool = True, backend: str | None = None) -> ChipRun:
    """Compile the prepared network (scales calibrated on the netlist's float model of the
    same input, reference LIF only) and run it for the input's ticks."""
    ex = prepared.expanded
    if spec is None:
        cores = mesh[0] * mesh[1]
        spec = ChipSpec(*mesh, core=roomy_core_spec(-(-ex.n // cores), cores, v_bits=v_bits,
                                                    i_bits=i_bits, theta_bits=v_bits,
                                                    n_axons=max(1024, 4 * ex.n)))
    # the netlist's float model on the same input (equal to run_float, which has no
    # refractory counter): the ranges the registers must hold
    calibration = Calibration.from_run(float_run(ex, prepared.ticks)) \
        if calibrate and dialect == "lif" else None
    compiled = compile_netlist(ex, spec, dialect=dialect, calibration=calibration)
    recording = compiled.run(prepared.ticks, record=("spikes", "v"), backend=backend)
    warnings = tuple(compiled.report.warnings) + tuple(
        run_warnings(compiled.report, recording, spec.core, ("v",)))
    return ChipRun(compiled, recording, warnings)


@dataclass(frozen=True)
class OutputAgreement:
    output: str
    neurons: int
    chip_spikes: int
    float_spikes: int
    within_one: float        # fraction of the Output's neurons within one spike

    @property
    def relative_error(self) -> float:
        return abs(self.chip_spikes - self.float_spikes) / max(self.float_spikes, 1)


@dataclass(frozen=True)
class Agreement:
    reference: str           # FloatReference.describe()
    outputs: tuple[OutputAgreement, ...]

    def format(self) -> str:
        lines = [f"agreement with the {self.reference}:"]
        for o in self.outputs:
            lines.append(f"  {o.output}: chip {o.chip_spikes} spikes, float {o.float_spikes} "
                         f"({o.relative_error:+.1%} off); {o.within_one:.0%} of {o.neurons} "
                         f"neurons within one spike")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"reference": self.reference, "outputs": [
            {**o.__dict__, "relative_error": o.relative_error} for o in self.outputs]}


def agreement(prepared: NirInput, chip: ChipRun, reference: FloatReference) -> Agreement:
    """Spikes per Output node on the chip and in the float reference, and the fraction of
    the Output's neurons whose counts differ by at most one."""
    net, rows = prepared.network, []
    counts_chip = np.asarray(chip.recording.spikes).sum(axis=0)
    counts_float = reference.spikes.sum(axis=0)
    for name, out in net.outputs.items():
        idx = np.concatenate([np.arange(net.nodes[f].start, net.nodes[f].stop)
                              for f in out.nodes])
        c, f = counts_chip[idx].astype(int), np.rint(counts_float[idx]).astype(int)
        rows.append(OutputAgreement(name, idx.size, int(c.sum()), int(f.sum()),
                                    float(np.mean(np.abs(c - f) <= 1)) if idx.size else 1.0))
    return Agreement(reference.describe(), tuple(rows))


def semantic_gaps(prepared: NirInput, reference: FloatReference) -> list[str]:
    """Warnings for what the reference-LIF chip cannot compute as the float reference
    does, naming the node: several spikes per step, a delayed or undecayed reset, a
    membrane floor, a layer stack passed within one step."""
    net, lines = prepared.network, []
    fired = {name: reference.spikes[:, m.start:m.stop] for name, m in net.nodes.items()}
    for name, s in fired.items():
        if s.size and s.max() > 1:
            lines.append(f"warning: node {name}: the {reference.kind} reference emits up to "
                         f"{int(s.max())} spikes in one step; a reference-LIF slot emits one "
                         f"per tick")
    opts, spiking = reference.options, [n for n, s in fired.items() if s.any()]
    if reference.kind == "snntorch" and opts.get("reset_delay") \
            and opts.get("reset") == "subtract" and spiking:   # zero: exact (chip_reset)
        lines.append(f"warning: nodes {', '.join(spiking)}: snnTorch (reset_delay=True) "
                     f"subtracts the threshold one step after a spike and undecayed; the "
                     f"chip resets in the spike's tick")
    if reference.kind == "sinabs" and opts.get("min_v_mem") is not None:
        lines.append(f"warning: nodes {', '.join(net.nodes)}: Sinabs clamps the membrane at "
                     f"min_v_mem={opts['min_v_mem']}; the chip has no floor")
    if reference.stepping == "same-step" and len(net.nodes) > 1:
        lines.append("warning: the float reference passes the layer stack within one step; "
                     "the chip takes one tick per hop, so deeper layers answer later")
    return lines


def with_node_names(lines, network: NirNetwork) -> list[str]:
    """``population P`` in compiler warnings followed by the NIR node it came from."""
    import re

    node_of = {m.population: name for name, m in network.nodes.items()}

    def name(match):
        pop = match.group(1)
        return match.group(0) if pop not in node_of or node_of[pop] == pop else \
            f"population {pop} (NIR node {node_of[pop]!r})"
    return [re.sub(r"population ([A-Za-z0-9_-]+)", name, line) for line in lines]


@dataclass(frozen=True, eq=False)
class NirComparison:
    prepared: NirInput
    reference: FloatReference
    chip: ChipRun
    agreement: Agreement

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(with_node_names(self.chip.warnings, self.prepared.network)) + tuple(
            semantic_gaps(self.prepared, self.reference))


def run_nir(graph, inputs, dt, *, framework: str = "auto", stepping: str = "tick-per-hop",
            options: dict | None = None, reset: str = "auto", dt_export=None,
            ticks: int | None = None, **chip) -> NirComparison:
    """``prepare``, ``float_reference`` (``framework``, ``stepping``, ``options``),
    ``run_on_chip`` (``chip``: ``spec``, ``mesh``, ``v_bits``, ``i_bits``, ``dialect``,
    ``calibrate``, ``backend``) and their ``agreement``."""
    options = dict(options or {})
    prepared = prepare(graph, inputs, dt, reset=chip_reset(reset, options),
                       dt_export=dt_export, ticks=ticks)
    kind = framework if framework != "auto" else prepared.network.convention
    prepared = with_refractory(prepared, framework_refractory(
        prepared.network, kind, options, options.get("node_options")))
    reference = float_reference(prepared, framework, stepping, **options)
    run = run_on_chip(prepared, **chip)
    return NirComparison(prepared, reference, run, agreement(prepared, run, reference))
