"""What a run says about the chip: throughput, bottlenecks and energy (docs/throughput.md).

From the per-tick ``TickTiming`` of a run and a preset (clock, energies):

* synaptic events (synaptic ops), ticks, cycles per tick (min / median / max);
* the bottleneck core (largest total of its three phases over the run) and the busiest
  link (most packets);
* achievable ticks per second and synaptic events per second at the clock (each tick
  takes its cycle count; nothing overlaps ticks), the real-time factor for the run's
  ``dt`` (above 1: faster than real time);
* energy per tick and per synaptic event.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from ..hardware.energy import EnergyTable, tick_energy_pj
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
              clock_hz: float, energy: EnergyTable) -> ThroughputReport:
    if not timings:
        raise ValueError("no tick was timed: run with timing on")
    cycles = np.array([t.cycles for t in timings], dtype=np.int64)
    busy = np.sum([t.route_end for t in timings], axis=0)
    links = np.sum([t.link_packets for t in timings], axis=0)
    events = int(sum(int(t.synops.sum()) for t in timings))
    packets = int(sum(t.packet_src.size for t in timings))
    total = int(cycles.sum())
    seconds = total / clock_hz
    energy_j = sum(tick_energy_pj(t, energy, clock_hz) for t in timings) * 1e-12
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


def plot_report(report: ThroughputReport, mesh: Mesh, path_prefix: str) -> list[str]:
    """A heatmap of per-core busy cycles on the mesh and cycles per tick over the run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(5, 4))
    load = np.array(report.core_busy_cycles).reshape(mesh.height, mesh.width)
    image = ax.imshow(load, cmap="viridis", origin="upper")
    for y in range(mesh.height):
        for x in range(mesh.width):
            ax.text(x, y, f"{load[y, x]:.3g}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xticks(range(mesh.width))
    ax.set_yticks(range(mesh.height))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("busy cycles per core over the run")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    paths.append(f"{path_prefix}-core-load.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(report.cycles_per_tick, lw=0.8)
    ax.set_xlabel("tick")
    ax.set_ylabel("cycles")
    ax.set_title("cycles per tick")
    fig.tight_layout()
    paths.append(f"{path_prefix}-cycles.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


def estimate_example(neurons: int, fanout: int, period: int, mesh: tuple[int, int],
                     ticks: int, dt_s: float, timing, energy: EnergyTable, clock_hz: float,
                     placement: str = "sequential", seed: int = 0, progress=None
                     ) -> tuple[ThroughputReport, Mesh]:
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
    report = summarise(timing_per_tick, spec.mesh, spikes, dt_s, clock_hz, energy)
    return report, spec.mesh
