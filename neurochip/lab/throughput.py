"""What a run says about the chip: throughput, bottlenecks and energy (docs/throughput.md).

From the per-tick ``TickTiming`` of a run and a preset (clock, energies):

* synaptic events (synaptic ops), ticks, cycles per tick (min / median / max);
* the bottleneck core (largest total of its three phases over the run) and the busiest
  link (most packets);
* achievable ticks per second and synaptic events per second at the clock (each tick
  takes its cycle count; nothing overlaps ticks), the real-time factor for the run's
  ``dt`` (above 1: faster than real time);
* energy per tick and per synaptic event.

A preset may add two costs the per-tick counts do not carry: ``EnergyTable.spike`` per
spike, and its ``SyncTable``: a fixed synchronisation time added to every tick's cycles
(so to ticks/s and the real-time factor too), by the tiles in use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from ..hardware.energy import EnergyTable, SyncTable, tick_energy_pj
from ..hardware.timing import Mesh, TickTiming

PORT_NAMES = ("+x", "-x", "+y", "-y")


@dataclass(frozen=True)
class ThroughputReport:
    ticks: int
    dt_s: float
    clock_hz: float
    spikes: int
    packets: int
    synaptic_events: int
    cycles_total: int
    cycles_per_tick_min: int
    cycles_per_tick_median: float
    cycles_per_tick_max: int
    bottleneck_core: int
    bottleneck_core_xy: tuple[int, int]
    bottleneck_core_cycles: int
    busiest_link: str
    busiest_link_packets: int
    ticks_per_s: float
    synaptic_events_per_s: float
    real_time_factor: float
    energy_per_tick_j: float
    energy_per_synaptic_event_j: float
    core_busy_cycles: list[int]
    cycles_per_tick: list[int]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def format_table(self) -> str:
        rows = [
            ("ticks", f"{self.ticks} of {self.dt_s * 1e3:g} ms"),
            ("spikes / packets", f"{self.spikes} / {self.packets}"),
            ("synaptic events", f"{self.synaptic_events}"),
            ("cycles per tick (min/median/max)",
             f"{self.cycles_per_tick_min} / {self.cycles_per_tick_median:g} / "
             f"{self.cycles_per_tick_max}"),
            ("bottleneck core", f"{self.bottleneck_core} at {self.bottleneck_core_xy} "
                                f"({self.bottleneck_core_cycles} busy cycles)"),
            ("busiest link", f"{self.busiest_link} ({self.busiest_link_packets} packets)"),
            (f"at {self.clock_hz / 1e6:g} MHz", f"{self.ticks_per_s:.4g} ticks/s, "
                                               f"{self.synaptic_events_per_s:.4g} synaptic events/s"),
            ("real-time factor", f"{self.real_time_factor:.4g}× real time"),
            ("energy", f"{self.energy_per_tick_j * 1e9:.4g} nJ per tick, "
                       f"{self.energy_per_synaptic_event_j * 1e12:.4g} pJ per synaptic event"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def link_name(mesh: Mesh, link: int) -> str:
    core, port = divmod(int(link), 4)
    x, y = core % mesh.width, core // mesh.width
    return f"core {core} ({x},{y}) {PORT_NAMES[port]}"


def summarise(timings: list[TickTiming], mesh: Mesh, spikes: int, dt_s: float,
              clock_hz: float, energy: EnergyTable,
              sync: SyncTable | None = None) -> ThroughputReport:
    """The report of a run: ``spikes`` its spike count, ``sync`` the preset's
    synchronisation table (none: ticks are their barrier cycles alone)."""
    if not timings:
        raise ValueError("no tick was timed: run with timing on")
    slots = timings[0].active + timings[0].idle
    sync_cycles = sync.cycles(slots, mesh.width, clock_hz) if sync is not None else 0
    cycles = np.array([t.cycles for t in timings], dtype=np.int64) + sync_cycles
    busy = np.sum([t.route_end for t in timings], axis=0)
    links = np.sum([t.link_packets for t in timings], axis=0)
    events = int(sum(int(t.synops.sum()) for t in timings))
    packets = int(sum(t.packet_src.size for t in timings))
    total = int(cycles.sum())
    seconds = total / clock_hz
    sync_static_pj = energy.static_mw_per_core * 1e9 * slots.size * sync_cycles / clock_hz
    energy_j = (sum(tick_energy_pj(t, energy, clock_hz) for t in timings)
                + energy.spike * spikes + sync_static_pj * len(timings)) * 1e-12
    core = int(np.argmax(busy))
    link = int(np.argmax(links))
    return ThroughputReport(
        ticks=len(timings), dt_s=dt_s, clock_hz=clock_hz, spikes=spikes, packets=packets,
        synaptic_events=events, cycles_total=total, cycles_per_tick_min=int(cycles.min()),
        cycles_per_tick_median=float(np.median(cycles)), cycles_per_tick_max=int(cycles.max()),
        bottleneck_core=core, bottleneck_core_xy=(core % mesh.width, core // mesh.width),
        bottleneck_core_cycles=int(busy[core]),
        busiest_link=link_name(mesh, link) if links.sum() else "none",
        busiest_link_packets=int(links[link]) if links.sum() else 0,
        ticks_per_s=len(timings) / seconds if seconds else float("inf"),
        synaptic_events_per_s=events / seconds if seconds else float("inf"),
        real_time_factor=len(timings) * dt_s / seconds if seconds else float("inf"),
        energy_per_tick_j=energy_j / len(timings),
        energy_per_synaptic_event_j=energy_j / events if events else float("nan"),
        core_busy_cycles=[int(b) for b in busy], cycles_per_tick=[int(c) for c in cycles])


def real_time_budget_cycles(report: ThroughputReport) -> float:
    """Clock cycles a tick may take for the chip to keep up with real time:
    ``clock_hz × dt_s`` (100 MHz × 1 ms = 100,000). A run is faster than real time
    (``real_time_factor`` above 1) when its ticks take fewer on average."""
    return report.clock_hz * report.dt_s


def report_figures(report: ThroughputReport, mesh: Mesh) -> dict:
    """``{"core-load", "cycles"}``: a heatmap of per-core busy cycles on the mesh, and
    cycles per tick over the run against the real-time budget (``matplotlib.figure
    .Figure`` objects)."""
    from .figures import legend_beside, new_figure

    fig, ax = new_figure(figsize=(2.4 + 0.55 * max(mesh.width, 4),
                                  1.2 + 0.55 * max(mesh.height, 4)))
    load = np.array(report.core_busy_cycles).reshape(mesh.height, mesh.width)
    image = ax.imshow(load, cmap="viridis", origin="upper")
    if mesh.width <= 8 and mesh.height <= 8:   # beyond, the numbers would not fit
        middle = (load.min() + load.max()) / 2
        for (y, x), value in np.ndenumerate(load):
            ax.text(x, y, _cycles_short(value), ha="center", va="center", fontsize=8,
                    color="k" if value > middle else "w")   # dark on viridis' yellow end
    ax.xaxis.set_major_locator(_whole_ticks(mesh.width))
    ax.yaxis.set_major_locator(_whole_ticks(mesh.height))
    ax.set_xlabel("core x")
    ax.set_ylabel("core y")
    ax.set_title(f"busy cycles per core, summed over {report.ticks} ticks", fontsize=9)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)   # as tall as the mesh
    bar.set_label("busy cycles (clock cycles)")
    figures = {"core-load": fig}

    fig, ax = new_figure(figsize=(9, 3.2))
    ax.plot(np.arange(1, report.ticks + 1), report.cycles_per_tick, lw=0.8,
            label="cycles per tick")
    budget = real_time_budget_cycles(report)
    ax.axhline(budget, color="C3", ls="--", lw=1,
               label=f"real-time budget: {report.clock_hz / 1e6:g} MHz × "
                     f"{report.dt_s * 1e3:g} ms = {budget:,.0f} cycles")
    if budget > 20 * max(report.cycles_per_tick_max, 1):   # both in view on a log axis
        ax.set_yscale("log")
    ax.set_xlabel("tick")
    ax.set_ylabel("clock cycles")
    ax.set_title(f"cycles per tick (median {report.cycles_per_tick_median:g}; real-time "
                 f"factor {report.real_time_factor:.3g})", fontsize=10)
    legend_beside(ax, fontsize=8)
    figures["cycles"] = fig
    return figures


def _cycles_short(value: float) -> str:
    """``812``, ``48.7k``, ``1.23M``: a cycle count that fits in a heatmap cell."""
    if value < 1e4:
        return f"{value:.0f}"
    return f"{value / 1e3:.3g}k" if value < 1e7 else f"{value / 1e6:.3g}M"


def _whole_ticks(cells: int):
    """Ticks on whole cells, at most about ten of them."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=min(cells, 10), integer=True)


def plot_report(report: ThroughputReport, mesh: Mesh, path_prefix: str) -> list[str]:
    """Write ``PREFIX-core-load.png`` and ``PREFIX-cycles.png`` (``report_figures``)."""
    from .figures import save

    paths = []
    for name, fig in report_figures(report, mesh).items():
        paths.append(f"{path_prefix}-{name}.png")
        save(fig, paths[-1], dpi=120)
    return paths


def estimate_example(neurons: int, fanout: int, period: int, mesh: tuple[int, int],
                     ticks: int, dt_s: float, timing, energy: EnergyTable, clock_hz: float,
                     placement: str = "sequential", seed: int = 0, progress=None,
                     sync: SyncTable | None = None) -> tuple[ThroughputReport, Mesh]:
    """Run the built-in random network on a mesh with timing on and summarise it.

    The run goes in segments of 1000 ticks; ``progress(k)``, when given, is called with
    the ticks done after each."""
    from ..hardware.chip import ChipSpec
    from .examples import random_network, sequential_placement
    from ..compiler.placement import place
    from ..hardware.spec import CoreSpec

    width, height = mesh
    n_cores = width * height
    net, state = random_network(neurons, fanout, period, seed)
    if placement == "sequential":
        core_of = sequential_placement(neurons, n_cores)
    else:
        core_of = np.random.default_rng(seed).permutation(sequential_placement(neurons, n_cores))
    per_core = int(np.bincount(core_of, minlength=n_cores).max())
    core = CoreSpec(n_slots=max(per_core, 1), n_axons=max(neurons + 1, 2),
                    synapse_words=max(neurons * fanout, 1),
                    routing_entries=max(per_core * n_cores, 1), max_fanout=n_cores)
    spec = ChipSpec(width, height, core=core, timing=timing, clock_hz=clock_hz)
    chip, _ = place(net, core_of, spec)
    order = np.argsort(core_of, kind="stable")  # global slot k holds neuron order[k]
    chip.state = type(state)(*(getattr(state, f)[order] for f in ("i", "v", "theta", "ref")))
    timing_per_tick, spikes = [], 0
    for start in range(0, ticks, 1000):
        piece = chip.run(min(1000, ticks - start), timing=True)
        timing_per_tick += piece.timing
        spikes += int(piece.spikes.sum())
        if progress is not None:
            progress(start + piece.spikes.shape[0])
    report = summarise(timing_per_tick, spec.mesh, spikes, dt_s, clock_hz, energy, sync)
    return report, spec.mesh
