"""Energy per operation, and the presets that pair it with a timing table and a clock.

Energy of a tick = sum over operations of (count × energy per operation); the counts are
the ones the timing model already has (``TickTiming``): synapse-row fetches, synaptic
ops, active and idle neuron updates, routing lookups (one per packet), packets delivered
within their own core, and link traversals in X and in Y. Static power is charged per
core for the tick's duration at the preset's clock.

Presets (sources in docs/throughput.md):

* ``loihi-2018``: Davies et al., "Loihi: a neuromorphic manycore processor with on-chip
  learning", IEEE Micro 38(1), 2018, Table 2 (energy and latency per operation at the
  nominal 0.75 V). Loihi is asynchronous; its latencies are modelled as cycles of a
  1 GHz clock, rounded up.
* ``reference``: the default ``TimingTable`` of a simple synchronous core (one SRAM
  access per cycle) at 100 MHz, with the Loihi energies per operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timing import MINUS_X, PLUS_X, TickTiming, TimingTable, check_cost_fields


@dataclass(frozen=True)
class EnergyTable:
    """Picojoules per operation, and static power per core (milliwatts)."""

    row_fetch: float = 0.0
    synop: float = 23.6
    neuron_active: float = 81.0
    neuron_idle: float = 52.0
    route_lookup: float = 0.0
    packet_local: float = 1.7
    hop_x: float = 3.0
    hop_y: float = 4.0
    static_mw_per_core: float = 0.0

    def __post_init__(self):
        check_cost_fields(self, (int, float), "a non-negative number")


@dataclass(frozen=True)
class Preset:
    name: str
    timing: TimingTable
    energy: EnergyTable
    clock_hz: float
    source: str


PRESETS = {
    "reference": Preset("reference", TimingTable(), EnergyTable(), 100e6,
                        "default timing table at 100 MHz; energies of loihi-2018"),
    "loihi-2018": Preset(
        "loihi-2018",
        TimingTable(row_fetch=0, synop=4, neuron_active=9, neuron_idle=6, route_lookup=2,
                    inject=1, hop_x=5, hop_y=7),
        EnergyTable(),
        1e9,
        "Davies et al., IEEE Micro 38(1):82-99, 2018, Table 2"),
}


def tick_energy_pj(timing: TickTiming, energy: EnergyTable, clock_hz: float) -> float:
    """Energy of one tick in picojoules."""
    ports = np.arange(timing.link_packets.size) % 4
    x_hops = timing.link_packets[(ports == PLUS_X) | (ports == MINUS_X)].sum()
    y_hops = timing.link_packets.sum() - x_hops
    local = np.count_nonzero(timing.packet_src == timing.packet_dst)
    dynamic = (energy.row_fetch * timing.rows.sum() + energy.synop * timing.synops.sum()
               + energy.neuron_active * timing.active.sum()
               + energy.neuron_idle * timing.idle.sum()
               + energy.route_lookup * timing.packet_src.size
               + energy.packet_local * local + energy.hop_x * x_hops + energy.hop_y * y_hops)
    static = energy.static_mw_per_core * 1e-3 * timing.rows.size * timing.cycles / clock_hz
    return float(dynamic + static * 1e12)
