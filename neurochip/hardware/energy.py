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
* ``sanafe-loihi``: the per-operation energies and latencies of SANA-FE 2.2.9's Loihi
  architecture (``arch/loihi.yaml``, shipped in the wheel as
  ``sanafe/examples/loihi.yaml``), latencies as cycles of a 10 GHz model clock (every
  latency there is a whole number of 0.1 ns), with its per-spike energy and its table of
  per-tick synchronisation times.

Beyond the per-operation counts of a tick, ``EnergyTable.spike`` is charged once per
spike (per slot that fired) and a preset's ``SyncTable`` adds a fixed time to every
tick, by the number of tiles in use; ``neurochip.lab.throughput.summarise`` applies both.
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
    spike: float = 0.0   # per slot that fired, whatever its routes (charged by summarise)

    def __post_init__(self):
        check_cost_fields(self, (int, float), "a non-negative number")


@dataclass(frozen=True)
class SyncTable:
    """A fixed time added to every tick for the chip-wide barrier, by tiles in use.

    A tile is a block of ``tile_width`` × ``tile_height`` cores of the mesh (cores
    ``(x, y)`` with the same ``(x // tile_width, y // tile_height)``); it is in use when
    one of its cores holds a slot. ``seconds_by_tiles`` lists ``(tiles, seconds)``; a
    chip with ``n`` tiles in use pays the entry of the largest key ``<= n`` (the first
    entry when ``n`` is below every key), as SANA-FE's ``sync_model: table`` does
    (``LookupTable::get``, src/utils.hpp). Empty: no synchronisation time.
    """

    seconds_by_tiles: tuple[tuple[int, float], ...] = ()
    tile_width: int = 1
    tile_height: int = 1

    def __post_init__(self):
        if self.tile_width < 1 or self.tile_height < 1:
            raise ValueError("SyncTable.tile_width and tile_height must be at least 1")
        keys = [k for k, _ in self.seconds_by_tiles]
        if keys != sorted(set(keys)) or any(s < 0 for _, s in self.seconds_by_tiles):
            raise ValueError("SyncTable.seconds_by_tiles needs increasing tile counts and "
                             f"non-negative times, got {self.seconds_by_tiles!r}")

    def tiles_in_use(self, slots_per_core: np.ndarray, mesh_width: int) -> int:
        core = np.flatnonzero(np.asarray(slots_per_core) > 0)
        x, y = core % mesh_width, core // mesh_width
        tiles_across = -(-mesh_width // self.tile_width)
        return int(np.unique(y // self.tile_height * tiles_across + x // self.tile_width).size)

    def seconds(self, tiles: int) -> float:
        if not self.seconds_by_tiles:
            return 0.0
        chosen = [s for k, s in self.seconds_by_tiles if k <= tiles]
        return chosen[-1] if chosen else self.seconds_by_tiles[0][1]

    def cycles(self, slots_per_core: np.ndarray, mesh_width: int, clock_hz: float) -> int:
        """Synchronisation cycles of one tick at ``clock_hz`` (rounded to the nearest)."""
        return int(round(self.seconds(self.tiles_in_use(slots_per_core, mesh_width))
                         * clock_hz))


@dataclass(frozen=True)
class Preset:
    name: str
    timing: TimingTable
    energy: EnergyTable
    clock_hz: float
    source: str
    sync: SyncTable = SyncTable()


# SANA-FE 2.2.9, arch/loihi.yaml (= sanafe/examples/loihi.yaml in the wheel; the same file
# at SLAM-Lab/SANA-FE commit 8951ab0). Joules and seconds there; picojoules and 0.1 ns
# cycles here. Line numbers are the file's.
SANAFE_LOIHI_YAML = "SANA-FE 2.2.9 arch/loihi.yaml (sanafe/examples/loihi.yaml)"
SANAFE_LOIHI_ENERGY = EnergyTable(
    row_fetch=0.0,          # l.37 energy_message_in: 0.0e-12 (axon_in, per message received)
    synop=35.5,             # l.73 energy_process_spike: 35.5e-12 (loihi_dense_synapse, the
                            #      first synapse unit: SANA-FE's default for a connection)
    neuron_active=72.8,     # l.43 energy_access_neuron 51.2e-12 + l.45 energy_update_neuron
                            #      21.6e-12 (an updated neuron pays both)
    neuron_idle=51.2,       # l.43 energy_access_neuron: 51.2e-12 (every neuron, every tick)
    route_lookup=111.0,     # l.88 energy_message_out: 111.0e-12 (per message sent)
    packet_local=0.0,       # no separate cost: a message to its own core pays message_out
    hop_x=3.0,              # l.22 energy_east_hop / l.26 energy_west_hop: 3.0e-12
    hop_y=4.2,              # l.20 energy_north_hop / l.24 energy_south_hop: 4.2e-12
    static_mw_per_core=0.0,  # no static power in the file
    spike=69.3,             # l.47 energy_spike_out: 69.3e-12 (per neuron that fired)
)
SANAFE_LOIHI_TIMING = TimingTable(
    row_fetch=160,      # l.38 latency_message_in: 16.0e-9
    synop=38,           # l.74 latency_process_spike: 3.8e-9 (loihi_dense_synapse)
    neuron_active=97,   # l.44 latency_access_neuron 6.0e-9 + l.46 latency_update_neuron 3.7e-9
    neuron_idle=60,     # l.44 latency_access_neuron: 6.0e-9
    route_lookup=51,    # l.89 latency_message_out: 5.1e-9
    inject=0,           # (inside latency_message_out)
    hop_x=41,           # l.23 latency_east_hop / l.27 latency_west_hop: 4.1e-9
    hop_y=65,           # l.21 latency_north_hop / l.25 latency_south_hop: 6.5e-9
)                       # l.48 latency_spike_out 30.0e-9 has no counterpart (docs/throughput.md)
SANAFE_LOIHI_SYNC = SyncTable(
    # l.15-16 sync_model: table, latency_sync: { 1: 0.6e-6, 2: 1.0e-6, 4: 1.4e-6, 29: 1.8e-6 }
    seconds_by_tiles=((1, 0.6e-6), (2, 1.0e-6), (4, 1.4e-6), (29, 1.8e-6)),
    tile_width=2, tile_height=2)   # l.29 loihi_core[0..3]: four cores per tile


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
    "sanafe-loihi": Preset("sanafe-loihi", SANAFE_LOIHI_TIMING, SANAFE_LOIHI_ENERGY, 10e9,
                           SANAFE_LOIHI_YAML, SANAFE_LOIHI_SYNC),
}


def tick_energy_pj(timing: TickTiming, energy: EnergyTable, clock_hz: float,
                   spikes: int = 0) -> float:
    """Energy of one tick in picojoules, with ``spikes`` slots that fired in it
    (``EnergyTable.spike`` each)."""
    ports = np.arange(timing.link_packets.size) % 4
    x_hops = timing.link_packets[(ports == PLUS_X) | (ports == MINUS_X)].sum()
    y_hops = timing.link_packets.sum() - x_hops
    local = np.count_nonzero(timing.packet_src == timing.packet_dst)
    dynamic = (energy.row_fetch * timing.rows.sum() + energy.synop * timing.synops.sum()
               + energy.neuron_active * timing.active.sum()
               + energy.neuron_idle * timing.idle.sum()
               + energy.route_lookup * timing.packet_src.size
               + energy.packet_local * local + energy.hop_x * x_hops + energy.hop_y * y_hops
               + energy.spike * spikes)
    static = energy.static_mw_per_core * 1e-3 * timing.rows.size * timing.cycles / clock_hz
    return float(dynamic + static * 1e12)
