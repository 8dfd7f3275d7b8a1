"""What ``neurochip run`` tells about a run: what ran (the emulator or the float
reference), the tick and reset, spikes per population (and per NIR Output node) and the
NeuroBench metrics (``lab.metrics``, docs/metrics.md), as console lines, one JSON object
(``--json``) and flat arrays for the ``--out`` file.

Populations are named as in the netlist (a NIR graph's populations are ``n`` + its node
name: node ``'1'`` is population ``n1``), as the ``--out`` keys (``n1.spikes``) and the
raster's legend are; a NIR node is named beside its population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..formats.units import format_duration
from ..lab.metrics import Metrics, NodeMetrics

SIDE_TITLES = {"chip": "chip", "float": "float"}


@dataclass(frozen=True)
class RunSide:
    """One simulator's part of a run: ``kind`` ``"chip"`` or ``"float"``, ``spikes``
    ``(ticks, n)`` in netlist order, its metrics keyed by population."""

    kind: str
    spikes: np.ndarray
    metrics: dict[str, NodeMetrics]


@dataclass(frozen=True)
class RunSummary:
    """A run as ``neurochip run`` reports it (the module docstring). ``ran``: what the
    user asked to run, a sentence; ``sides``: what ran first, then the float reference a
    chip run of a NIR graph is compared with."""

    source: str
    ran: str
    dt: float
    ticks: int
    reset: dict[str, str]                   # per population
    populations: dict[str, slice]           # netlist order
    nir_node: dict[str, str] = field(default_factory=dict)      # population -> node
    compared: str = ""                      # the float reference a chip run is set against
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # Output -> neurons
    sides: tuple[RunSide, ...] = ()

    def label(self, population: str) -> str:
        node = self.nir_node.get(population)
        return population if node is None or node == population else \
            f"{population} (NIR node {node!r})"

    def spikes(self, side: RunSide) -> dict:
        """Spikes per population, per NIR Output node and in total."""
        counts = np.asarray(side.spikes).sum(axis=0)
        whole = np.rint(counts).astype(np.int64)
        return {"populations": {p: int(whole[s].sum()) for p, s in self.populations.items()},
                "outputs": {o: int(whole[idx].sum()) for o, idx in self.outputs.items()},
                "total": int(whole.sum())}


def metrics_by_population(metrics: Metrics, population_of: dict[str, str] | None = None
                          ) -> dict[str, NodeMetrics]:
    """``metrics``'s nodes keyed by population (a NIR node by its population)."""
    population_of = population_of or {}
    return {population_of.get(n, n): m for n, m in metrics.nodes.items()}


def _neurobench(m: NodeMetrics) -> dict:
    return {"SynapticOperations": {"Effective_MACs": m.effective_macs,
                                   "Effective_ACs": m.effective_acs, "Dense": m.dense},
            "ActivationSparsity": m.activation_sparsity,
            "MembraneUpdates": m.membrane_updates}


def side_json(summary: RunSummary, side: RunSide) -> dict:
    total = sum(side.metrics.values(), NodeMetrics())
    populations = {}
    for p, m in side.metrics.items():
        populations[p] = {**_neurobench(m), **({"nir_node": summary.nir_node[p]}
                                               if p in summary.nir_node else {})}
    return {"spikes": summary.spikes(side),
            "neurobench": {"total": _neurobench(total), "populations": populations}}


def to_json(summary: RunSummary) -> dict:
    """The ``--json`` object's run part (``commands.run_command`` adds the rest)."""
    return {"netlist": summary.source, "ran": summary.ran,
            **({"compared_with": summary.compared} if summary.compared else {}),
            "dt": summary.dt,
            "ticks": summary.ticks, "reset": dict(summary.reset),
            "populations": {p: {"neurons": s.stop - s.start,
                                **({"nir_node": summary.nir_node[p]}
                                   if p in summary.nir_node else {})}
                            for p, s in summary.populations.items()},
            **{side.kind: side_json(summary, side) for side in summary.sides}}


METRIC_FIELDS = ("effective_acs", "effective_macs", "dense", "activation_sparsity",
                 "membrane_updates")


def to_arrays(summary: RunSummary) -> dict[str, np.ndarray]:
    """Flat ``--out`` entries: ``spikes.KIND.POPULATION`` (and ``.total``,
    ``output.KIND.OUTPUT``), ``metrics.KIND.POPULATION.FIELD`` and
    ``metrics.KIND.total.FIELD`` (FIELD one of ``METRIC_FIELDS``)."""
    out = {}
    for side in summary.sides:
        counts = summary.spikes(side)
        for p, c in counts["populations"].items():
            out[f"spikes.{side.kind}.{p}"] = np.array(c)
        for o, c in counts["outputs"].items():
            out[f"output.{side.kind}.{o}"] = np.array(c)
        out[f"spikes.{side.kind}.total"] = np.array(counts["total"])
        total = sum(side.metrics.values(), NodeMetrics())
        for p, m in [*side.metrics.items(), ("total", total)]:
            for name in METRIC_FIELDS:
                out[f"metrics.{side.kind}.{p}.{name}"] = np.array(getattr(m, name))
    return out


def _rate(count: int, neurons: int, seconds: float) -> str:
    return f"{count / (neurons * seconds):.3g}" if neurons and seconds else "-"


def format_summary(summary: RunSummary) -> str:
    """The console lines: what ran, dt and reset, spikes per population (per NIR Output
    node) for each side, the NeuroBench metrics per population and in total."""
    resets = sorted(set(summary.reset.values()))
    reset = resets[0] if len(resets) == 1 else \
        ", ".join(f"{p} {r}" for p, r in summary.reset.items())
    lines = [f"ran: {summary.ran}"] + (
        [f"compared with: the {summary.compared}"] if summary.compared else []) + [
             f"dt {format_duration(summary.dt)}, {summary.ticks} ticks "
             f"({summary.ticks * summary.dt:g} s), reset {reset}"]
    kinds = [SIDE_TITLES[s.kind] for s in summary.sides]
    counted = [summary.spikes(s) for s in summary.sides]
    width = max([len(summary.label(p)) for p in summary.populations] +
                [len(o) for o in summary.outputs] + [10])
    seconds = summary.ticks * summary.dt
    head = f"  {'population':<{width}} {'neurons':>8}" + "".join(
        f" {k + ' spikes':>13} {k + ' Hz':>9}" for k in kinds)
    lines += ["spikes per population:", head]
    for p, s in summary.populations.items():
        n = s.stop - s.start
        lines.append(f"  {summary.label(p):<{width}} {n:>8}" + "".join(
            f" {c['populations'][p]:>13} {_rate(c['populations'][p], n, seconds):>9}"
            for c in counted))
    total_n = sum(s.stop - s.start for s in summary.populations.values())
    lines.append(f"  {'total':<{width}} {total_n:>8}" + "".join(
        f" {c['total']:>13} {_rate(c['total'], total_n, seconds):>9}" for c in counted))
    if summary.outputs:
        lines.append("spikes per NIR Output node:")
        for o, idx in summary.outputs.items():
            lines.append(f"  {o:<{width}} {idx.size:>8}" + "".join(
                f" {c['outputs'][o]:>13} {_rate(c['outputs'][o], idx.size, seconds):>9}"
                for c in counted))
    return "\n".join(lines + format_metrics(summary))


def format_metrics(summary: RunSummary) -> list[str]:
    """NeuroBench's counts (docs/metrics.md), one line per population and side."""
    width = max([len(summary.label(p)) for p in summary.populations] + [10])
    lines = [f"NeuroBench metrics (one sample of {summary.ticks} ticks; docs/metrics.md):",
             f"  {'population':<{width}} {'':<5} {'eff. ACs':>12} {'eff. MACs':>10} "
             f"{'dense ops':>12} {'sparsity':>8} {'membrane upd.':>13}"]
    rows = [*((summary.label(p), p) for p in summary.populations), ("total", None)]
    for label, p in rows:
        for k, side in enumerate(summary.sides):
            m = sum(side.metrics.values(), NodeMetrics()) if p is None else \
                side.metrics.get(p, NodeMetrics())
            lines.append(f"  {label if k == 0 else '':<{width}} {SIDE_TITLES[side.kind]:<5} "
                         f"{m.effective_acs:>12} {m.effective_macs:>10} {m.dense:>12} "
                         f"{m.activation_sparsity:>8.4f} {m.membrane_updates:>13}")
    return lines


def stored_keys(keys) -> str:
    """The ``--out`` keys for the console, families shortened: ``metrics.chip.*``."""
    families = {"metrics": 2, "spikes": 2, "output": 2, "registers": 1, "agreement": 1}
    shown = []
    for key in sorted(keys):
        head = key.split(".")
        depth = families.get(head[0])
        name = key if depth is None or len(head) <= depth else \
            ".".join(head[:depth]) + ".*"
        if name not in shown:
            shown.append(name)
    return ", ".join(shown)
