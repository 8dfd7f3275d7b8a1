"""The ``sanafe-loihi`` preset: its numbers are those of SANA-FE's arch/loihi.yaml, its
energy of a small network is the hand count, and it agrees with what SANA-FE 2.2.9
printed for the same network (docs/throughput.md)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_models.lif import LifParams

from neurochip.compiler.placement import Network, place
from neurochip.hardware.chip import ChipSpec
from neurochip.hardware.energy import PRESETS, EnergyTable, SyncTable, tick_energy_pj
from neurochip.hardware.spec import CoreSpec
from neurochip.lab.throughput import summarise

from test_cli import COMMAND

PRESET = PRESETS["sanafe-loihi"]

# SANA-FE 2.2.9, arch/loihi.yaml (the wheel's sanafe/examples/loihi.yaml), copied by hand:
# joules and seconds, as in the file, with its line numbers.
YAML = {
    "energy_north_hop": 4.2e-12,        # l.20
    "latency_north_hop": 6.5e-9,        # l.21
    "energy_east_hop": 3.0e-12,         # l.22
    "latency_east_hop": 4.1e-9,         # l.23
    "energy_south_hop": 4.2e-12,        # l.24
    "latency_south_hop": 6.5e-9,        # l.25
    "energy_west_hop": 3.0e-12,         # l.26
    "latency_west_hop": 4.1e-9,         # l.27
    "energy_message_in": 0.0e-12,       # l.37  (loihi_in)
    "latency_message_in": 16.0e-9,      # l.38
    "energy_access_neuron": 51.2e-12,   # l.43  (loihi_lif)
    "latency_access_neuron": 6.0e-9,    # l.44
    "energy_update_neuron": 21.6e-12,   # l.45
    "latency_update_neuron": 3.7e-9,    # l.46
    "energy_spike_out": 69.3e-12,       # l.47
    "latency_spike_out": 30.0e-9,       # l.48
    "energy_process_spike": 35.5e-12,   # l.73  (loihi_dense_synapse, the first synapse unit)
    "latency_process_spike": 3.8e-9,    # l.74
    "energy_message_out": 111.0e-12,    # l.88  (loihi_out)
    "latency_message_out": 5.1e-9,      # l.89
}
LATENCY_SYNC = {1: 0.6e-6, 2: 1.0e-6, 4: 1.4e-6, 29: 1.8e-6}   # l.16 (sync_model: table)


def pj(name):
    return YAML[name] * 1e12


def cycles(*names):
    exact = sum(YAML[n] for n in names) * PRESET.clock_hz
    assert exact == pytest.approx(round(exact), abs=1e-6)  # 10 GHz: every latency is whole
    return round(exact)


def test_energies_are_the_files():
    e = PRESET.energy
    assert e.row_fetch == pj("energy_message_in")
    assert e.synop == pytest.approx(pj("energy_process_spike"))
    assert e.neuron_active == pytest.approx(pj("energy_access_neuron") + pj("energy_update_neuron"))
    assert e.neuron_idle == pytest.approx(pj("energy_access_neuron"))
    assert e.spike == pytest.approx(pj("energy_spike_out"))
    assert e.route_lookup == pytest.approx(pj("energy_message_out"))
    assert e.packet_local == 0.0 and e.static_mw_per_core == 0.0
    assert e.hop_x == pytest.approx(pj("energy_east_hop")) == pytest.approx(pj("energy_west_hop"))
    assert e.hop_y == pytest.approx(pj("energy_north_hop")) == pytest.approx(pj("energy_south_hop"))


def test_latencies_are_the_files():
    t = PRESET.timing
    assert PRESET.clock_hz == 10e9
    assert t.row_fetch == cycles("latency_message_in")
    assert t.synop == cycles("latency_process_spike")
    assert t.neuron_active == cycles("latency_access_neuron", "latency_update_neuron")
    assert t.neuron_idle == cycles("latency_access_neuron")
    assert t.route_lookup + t.inject == cycles("latency_message_out")
    assert t.hop_x == cycles("latency_east_hop") == cycles("latency_west_hop")
    assert t.hop_y == cycles("latency_north_hop") == cycles("latency_south_hop")
    assert dict(PRESET.sync.seconds_by_tiles) == LATENCY_SYNC
    assert (PRESET.sync.tile_width, PRESET.sync.tile_height) == (2, 2)  # loihi_core[0..3]


def small_network():
    """Core 0: neuron 0 (bias 128) and 1; core 1: neurons 2, 3. Neuron 0 has synapses of
    weight 128 onto 1, 2 and 3: it fires every tick, the others from tick 1 on."""
    spec = ChipSpec(2, 1, core=CoreSpec(n_slots=2, n_axons=4, synapse_words=8,
                                        routing_entries=4, max_fanout=2, w_bits=9),
                    timing=PRESET.timing, clock_hz=PRESET.clock_hz)
    # SANA-FE's LIF with threshold 64, reset 0, no leak, input current cleared each tick
    params = LifParams.make(4, k_i=0, k_v=0, m_v=0, bias=[128, 0, 0, 0], v_th=65)
    net = Network(params, np.array([0, 0, 0]), np.array([1, 2, 3]), np.full(3, 128),
                  np.ones(3, np.int64))
    chip, _ = place(net, np.array([0, 0, 1, 1]), spec)
    return chip, spec


def run_small(ticks=4):
    chip, spec = small_network()
    recording = chip.run(ticks, timing=True)
    return recording, spec


def test_energy_and_latency_by_hand():
    recording, spec = run_small()
    e, t = PRESET.energy, PRESET.timing
    # tick 0: neuron 0 updates and fires (two messages: to core 0 and core 1, one X hop),
    # neurons 1..3 are idle; ticks 1..3: every neuron updates and fires, and the two rows
    # of neuron 0's messages (1 synapse on core 0, 2 on core 1) are processed
    first = (e.neuron_active + 3 * e.neuron_idle + e.spike + 2 * e.route_lookup + e.hop_x)
    steady = (4 * e.neuron_active + 4 * e.spike + 2 * e.route_lookup + e.hop_x
              + 2 * e.row_fetch + 3 * e.synop)
    assert first == pytest.approx(520.7) and steady == pytest.approx(899.9)
    report = summarise(recording.timing, spec.mesh, int(recording.spikes.sum()), 1e-3,
                       PRESET.clock_hz, e, PRESET.sync)
    assert report.energy_per_tick_j * 4 == pytest.approx((first + 3 * steady) * 1e-12)
    # steady tick: core 0 = row + synop, 2 neurons, 2 messages; its second message (to
    # core 1) is injected last and crosses one X link; both cores are in one 2×2 tile
    core0 = t.row_fetch + t.synop + 2 * t.neuron_active + 2 * t.route_lookup
    sync = round(LATENCY_SYNC[1] * PRESET.clock_hz)
    assert report.cycles_per_tick[1:] == [core0 + t.hop_x + sync] * 3 == [6535] * 3


# What SANA-FE 2.2.9 printed for the same network (4 LIF neurons, threshold 64, reset 0,
# neuron 0 with bias 128 and weight-128 synapses onto 1, 2, 3; neurons 0, 1 on core 0 and
# 2, 3 on core 1 of loihi.yaml; chip.sim(4, perf_trace=True, spike_trace=True)), run once:
SANAFE_SPIKES = [[0], [0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]
SANAFE_TOTAL_ENERGY = [6.242e-10, 8.969e-10, 8.969e-10, 8.969e-10]   # J per tick
SANAFE_SIM_TIME = [6.735e-07, 6.896e-07, 6.896e-07, 6.896e-07]       # s per tick
SANAFE_HOPS = [0, 0, 0, 0]   # cores 0 and 1 share tile 0


def test_agrees_with_what_sanafe_printed():
    recording, spec = run_small()
    assert [np.flatnonzero(row).tolist() for row in recording.spikes] == SANAFE_SPIKES
    e = PRESET.energy
    per_tick = [tick_energy_pj(t, e, PRESET.clock_hz, int(s.sum()))
                for t, s in zip(recording.timing, recording.spikes)]
    # SANA-FE processes a tick's messages in that tick, neurochip in the next: its tick t
    # holds the synapses of tick t-1's spikes. And neurochip's cores 0 and 1 are one X
    # hop apart, SANA-FE's share a router (0 hops). Otherwise the charges are the same:
    assert per_tick[0] + 3 * e.synop - e.hop_x == pytest.approx(SANAFE_TOTAL_ENERGY[0] * 1e12)
    for ours, theirs in zip(per_tick[1:], SANAFE_TOTAL_ENERGY[1:]):
        assert ours - e.hop_x == pytest.approx(theirs * 1e12)
    # latency: both pay the 0.6 µs sync of one tile; SANA-FE's 89.6 ns of work is core 0's
    # generation timeline with 30 ns per spike, which neurochip has no term for (53.5 ns)
    sync = LATENCY_SYNC[1]
    report = summarise(recording.timing[1:], spec.mesh, 12, 1e-3, PRESET.clock_hz, e,
                       PRESET.sync)
    ours_s = np.array(report.cycles_per_tick) / PRESET.clock_hz
    theirs_work = 2 * (YAML["latency_access_neuron"] + YAML["latency_update_neuron"]
                       + YAML["latency_spike_out"]) + 2 * YAML["latency_message_out"]
    assert SANAFE_SIM_TIME[1] == pytest.approx(sync + theirs_work)
    assert ours_s == pytest.approx(sync + 53.5e-9)


def test_sync_lookup_is_sanafes():
    table = PRESET.sync
    # LookupTable::get: the largest key <= n, the first entry below every key
    assert [table.seconds(n) for n in (0, 1, 2, 3, 4, 28, 29, 32)] == \
        [0.6e-6, 0.6e-6, 1.0e-6, 1.0e-6, 1.4e-6, 1.4e-6, 1.8e-6, 1.8e-6]
    assert SyncTable().seconds(5) == 0.0
    with pytest.raises(ValueError, match="increasing"):
        SyncTable(((2, 1e-6), (1, 1e-6)))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 3), st.integers(1, 3),
       st.data())
def test_tiles_in_use_counts_blocks(width, height, tw, th, data):
    slots = np.array(data.draw(st.lists(st.integers(0, 2), min_size=width * height,
                                        max_size=width * height)))
    table = SyncTable(((1, 1e-6),), tile_width=tw, tile_height=th)
    used = {(c % width // tw, c // width // th) for c in np.flatnonzero(slots)}
    assert table.tiles_in_use(slots, width) == len(used)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1000), st.floats(0, 1e3))
def test_spike_energy_is_charged_per_spike(spikes, per_spike):
    recording, _ = run_small(1)
    t = recording.timing[0]
    base = tick_energy_pj(t, EnergyTable(), 1e9)
    assert tick_energy_pj(t, EnergyTable(spike=per_spike), 1e9, spikes) == \
        pytest.approx(base + per_spike * spikes)


def test_cli_offers_and_applies_the_preset(tmp_path):
    help_text = subprocess.run([*COMMAND, "throughput", "--help"], capture_output=True,
                               text=True, cwd=tmp_path, check=True).stdout
    assert "sanafe-loihi" in help_text
    out = subprocess.run([*COMMAND, "throughput", "--preset", "sanafe-loihi", "--mesh", "2x2",
                          "--neurons", "40", "--fanout", "4", "--ticks", "20", "--json",
                          "--quiet"], capture_output=True, text=True, cwd=tmp_path, check=True)
    report = json.loads(out.stdout)
    assert report["clock_hz"] == 10e9
    # four cores are one 2×2 tile: every tick pays SANA-FE's 0.6 µs sync on top of its work
    assert report["cycles_per_tick_min"] > 6000
    bad = subprocess.run([*COMMAND, "throughput", "--preset", "sanafe"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "sanafe-loihi" in bad.stderr
