"""The cycle-accurate timing model against an independent brute-force simulation.

* ``link_schedule`` (the closed-form FCFS schedule iterated to a fixed point) against
  ``router_sim.simulate_mesh`` (a cycle-by-cycle simulation of the routers written from
  the docstring of ``neurochip/hardware/timing.py``): random meshes 1..4 × 1..4, hop latencies
  1..3, 0..60 packets; every packet's arrival cycle, every hop's start cycle and every
  link's packet count agree.
* ``tick_timing`` from random counts against ``router_sim.tick_model``: every phase end,
  injection, arrival, link count and the tick length agree, for random ``TimingTable``.
* A chip: random networks placed on random meshes with random timing tables, run with
  ``Chip.run(..., timing=True)``; a second identical chip is ticked by hand to get each
  tick's ``Activity``, from which the counts (row fetches, synaptic ops, idle and active
  slots, packets in slot/entry order) are rebuilt with plain Python loops and fed to the
  brute-force model: the recorded ``TickTiming`` equals it field by field on every tick.
* Two hand-worked examples with literal numbers (the ones docs/timing.md explains cycle
  by cycle): a 2×2 chip over two ticks with default ``TimingTable``, and a link where
  first-come-first-served overrides the injection-order tie-break.
* Timing can be switched off without changing any spike.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import router_sim  # noqa: E402

from firmware_models.lif import LifParams  # noqa: E402
from neurochip.hardware.chip import Chip, ChipSpec, CoreConfig  # noqa: E402
from neurochip.compiler.placement import place  # noqa: E402
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.spec import CoreSpec  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402
from neurochip.hardware.timing import Mesh, TimingTable, link_schedule, tick_timing  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])


# ----------------------------------------------------------------- strategies

@st.composite
def mesh_packets(draw, ordered_per_source: bool):
    """A mesh, hop latencies and packets ``(src, dst, inject)`` in injection order."""
    width, height = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n_cores = width * height
    hop_x, hop_y = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = draw(st.integers(0, 60))
    src = draw(st.lists(st.integers(0, n_cores - 1), min_size=n, max_size=n))
    dst = draw(st.lists(st.integers(0, n_cores - 1), min_size=n, max_size=n))
    if ordered_per_source:
        # as on the chip: packets grouped by source core, each core's injection cycles
        # non-decreasing from its own start cycle
        src.sort()
        base = draw(st.lists(st.integers(0, 30), min_size=n_cores, max_size=n_cores))
        gaps = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
        inject, last = [], {}
        for s, gap in zip(src, gaps):
            last[s] = last.get(s, base[s]) + gap
            inject.append(last[s])
    else:
        inject = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    return width, height, hop_x, hop_y, list(zip(src, dst, inject))


timing_tables = st.builds(
    TimingTable, row_fetch=st.integers(0, 3), synop=st.integers(0, 3),
    neuron_active=st.integers(0, 3), neuron_idle=st.integers(0, 3),
    route_lookup=st.sampled_from([0, 0, 1, 1, 2, 3]), inject=st.sampled_from([0, 1, 1, 2, 3]),
    hop_x=st.integers(1, 3),
    hop_y=st.integers(1, 3))


def library_schedule(width, height, hop_x, hop_y, packets):
    """Arrival, per-link counts and per-packet hop starts from ``link_schedule``."""
    mesh = Mesh(width, height)
    src = np.array([p[0] for p in packets], dtype=np.int64)
    dst = np.array([p[1] for p in packets], dtype=np.int64)
    inject = np.array([p[2] for p in packets], dtype=np.int64)
    packet, hop, link, in_x, step = mesh.routes(src, dst)
    latency = np.where(in_x, hop_x, hop_y)
    start = link_schedule(inject, packet, hop, link, latency, step)
    arrive = inject.copy()
    starts = [[] for _ in packets]
    for h in range(hop.size):
        starts[packet[h]].append(int(start[h]))
        arrive[packet[h]] = start[h] + latency[h]  # hops come in order: last one wins
    return (arrive.tolist(), np.bincount(link, minlength=4 * mesh.n_cores).tolist(), starts)


# ----------------------------------------------------------------- the router alone

@settings(max_examples=100, **SETTINGS)
@given(case=mesh_packets(ordered_per_source=True))
def test_link_schedule_equals_cycle_simulation(case):
    width, height, hop_x, hop_y, packets = case
    got = library_schedule(width, height, hop_x, hop_y, packets)
    want = router_sim.simulate_mesh(width, height, hop_x, hop_y, packets)
    assert got[0] == want[0], "arrival cycles"
    assert got[1] == want[1], "packets per link"
    assert got[2] == want[2], "start cycle of every hop"


@settings(max_examples=100, **SETTINGS)
@given(case=mesh_packets(ordered_per_source=True))
def test_compiled_link_schedule_equals_cycle_simulation(case):
    """The compiled backend's schedule (links served by merging their queues) against the
    same cycle-by-cycle simulation, with injections ordered per source as on the chip."""
    from neurochip.hardware.tick_kernel import fcfs_packets

    width, height, hop_x, hop_y, packets = case
    src, dst, inject = (np.array([p[k] for p in packets], dtype=np.int64).reshape(-1)
                        for k in range(3))
    arrive = np.empty(len(packets), dtype=np.int64)
    links = np.zeros(4 * width * height, dtype=np.int64)
    core_xy = np.stack([np.arange(width * height) % width,
                        np.arange(width * height) // width], axis=1)
    fcfs_packets(len(packets), inject, src, dst, width, height, hop_x, hop_y, arrive, links,
                 core_xy)
    want = router_sim.simulate_mesh(width, height, hop_x, hop_y, packets)
    assert arrive.tolist() == want[0], "arrival cycles"
    assert links.tolist() == want[1], "packets per link"


@settings(max_examples=60, **SETTINGS)
@given(case=mesh_packets(ordered_per_source=False))
def test_link_schedule_any_injection_order(case):
    """Injection cycles in any order: the tie-break is the packet's index."""
    width, height, hop_x, hop_y, packets = case
    got = library_schedule(width, height, hop_x, hop_y, packets)
    want = router_sim.simulate_mesh(width, height, hop_x, hop_y, packets)
    assert got == (want[0], want[1], want[2])


def test_link_schedule_long_chain_converges():
    """The hard cases for the fixed-point iteration: one packet across the whole mesh
    (each round fixes one more hop), queues of many packets on one link, and packets
    injected long after others."""
    packets = ([(0, 15, 0)] + [(0, 3, 0)] * 20 + [(1, 3, k) for k in range(10)]
               + [(12, 3, 500), (15, 0, 90), (3, 12, 91)])
    assert library_schedule(4, 4, 1, 2, packets) == router_sim.simulate_mesh(
        4, 4, 1, 2, packets)


def test_link_schedule_empty():
    assert link_schedule(*(np.zeros(0, np.int64),) * 6).size == 0
    timing = tick_timing(TimingTable(), Mesh(2, 2), np.zeros(0, np.int64),
                         np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool),
                         np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert timing.cycles == 0 and timing.hops == 0
    assert timing.link_packets.tolist() == [0] * 16


# ----------------------------------------------------------------- tick_timing from counts

@settings(max_examples=80, **SETTINGS)
@given(data=st.data(), table=timing_tables)
def test_tick_timing_equals_brute_force(data, table):
    width, height = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    n_cores = width * height
    # slots per core with an idle flag each; axons with events, their core, count, length
    slots = data.draw(st.lists(st.integers(0, 4), min_size=n_cores, max_size=n_cores))
    slot_core = np.repeat(np.arange(n_cores), slots)
    idle = np.array(data.draw(st.lists(st.booleans(), min_size=slot_core.size,
                                       max_size=slot_core.size)), dtype=bool)
    n_axons = data.draw(st.integers(0, 12))
    axon_core = np.array(data.draw(st.lists(st.integers(0, n_cores - 1), min_size=n_axons,
                                            max_size=n_axons)), dtype=np.int64)
    counts = np.array(data.draw(st.lists(st.integers(1, 3), min_size=n_axons,
                                         max_size=n_axons)), dtype=np.int64)
    lengths = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n_axons,
                                          max_size=n_axons)), dtype=np.int64)
    n_packets = data.draw(st.integers(0, 40))
    src = sorted(data.draw(st.lists(st.integers(0, n_cores - 1), min_size=n_packets,
                                    max_size=n_packets)))
    dst = data.draw(st.lists(st.integers(0, n_cores - 1), min_size=n_packets,
                             max_size=n_packets))

    # one entry per event: an axon with ``count`` events appears ``count`` times
    got = tick_timing(table, Mesh(width, height), np.repeat(axon_core, counts),
                      np.repeat(lengths, counts), slot_core, idle,
                      np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64))

    rows, synops = [0] * n_cores, [0] * n_cores
    for core, count, length in zip(axon_core.tolist(), counts.tolist(), lengths.tolist()):
        rows[core] += count
        synops[core] += count * length
    active_n, idle_n = [0] * n_cores, [0] * n_cores
    for core, is_idle in zip(slot_core.tolist(), idle.tolist()):
        (idle_n if is_idle else active_n)[core] += 1
    want = router_sim.tick_model(table, width, height, rows, synops, active_n, idle_n,
                                 list(zip(src, dst)))
    assert_timing_equal(got, want, rows, synops, active_n, idle_n, list(zip(src, dst)))


def assert_timing_equal(got, want, rows, synops, active, idle, packets):
    assert got.rows.tolist() == rows
    assert got.synops.tolist() == synops
    assert got.active.tolist() == active
    assert got.idle.tolist() == idle
    assert got.synapse_end.tolist() == want["synapse_end"]
    assert got.neuron_end.tolist() == want["neuron_end"]
    assert got.route_end.tolist() == want["route_end"]
    assert got.packet_src.tolist() == [s for s, _ in packets]
    assert got.packet_dst.tolist() == [d for _, d in packets]
    assert got.packet_inject.tolist() == want["inject"]
    assert got.packet_arrive.tolist() == want["arrive"]
    assert got.link_packets.tolist() == want["link_packets"]
    assert got.hops == sum(want["link_packets"])
    assert got.cycles == want["cycles"]


# ----------------------------------------------------------------- a whole chip

def counts_of(chip, activity, params):
    """Per-core counts and the packet list of one tick, rebuilt with plain loops from
    what the tick did (events per axon, registers before, acc, fired) and the chip's
    tables: independent of ``ChipTiming.of``."""
    layout, engine = chip.layout, chip.engine
    n_cores = chip.spec.n_cores
    axon_start = layout.axon_start.tolist()
    slot_start = layout.slot_start.tolist()
    row_start = engine.synapses.row_start.tolist()

    def core_of(index, starts):
        return max(c for c in range(n_cores) if starts[c] <= index)

    rows, synops = [0] * n_cores, [0] * n_cores
    for axon in activity.axons.tolist():  # one entry per event
        core = core_of(axon, axon_start)
        rows[core] += 1
        synops[core] += row_start[axon + 1] - row_start[axon]
    active, idle = [0] * n_cores, [0] * n_cores
    before, acc, fired = activity.before, activity.acc.tolist(), activity.fired.tolist()
    packets = []
    for s in range(chip.n):
        core = core_of(s, slot_start)
        at_rest = (before.v[s] == 0 and before.i[s] == 0 and before.theta[s] == 0
                   and before.ref[s] == 0)
        quiet = params.bias[s] == 0 and params.noise_bits[s] == 0
        if at_rest and quiet and acc[s] == 0 and not fired[s]:
            idle[core] += 1
        else:
            active[core] += 1
        if fired[s]:
            for e in range(int(engine.entry_start[s]), int(engine.entry_start[s + 1])):
                packets.append((core, int(engine.entry_core[e])))
    return rows, synops, active, idle, packets


def random_network_case(seed: int, max_cores: int = 16):
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    while width * height > max_cores:
        height -= 1
    core_spec = CoreSpec(max_fanout=128, delay_bits=int(rng.integers(1, 4)))
    net = router_sim.random_network(rng, core_spec, n_max=24, synapses_max=120)
    core_of = rng.integers(0, width * height, net.n)
    ticks = int(rng.integers(1, 7))
    channel_inputs = rng.integers(0, 3, (ticks, net.n_inputs)) * (rng.random(
        (ticks, net.n_inputs)) < 0.5)
    return width, height, core_spec, net, core_of, ticks, channel_inputs


def check_chip_timing(seed: int, table: TimingTable) -> int:
    """Run a random placed network with timing on; compare every tick with the
    brute-force model; return how many packets waited for a link (contention)."""
    width, height, core_spec, net, core_of, ticks, channel_inputs = random_network_case(seed)
    spec = ChipSpec(width, height, core=core_spec, timing=table)
    chip, input_map = place(net, core_of, spec)
    twin, _ = place(net, core_of, spec)
    inputs = input_map.expand(channel_inputs, chip.layout.n_axons)
    record = chip.run(ticks, inputs, timing=True)
    assert len(record.timing) == ticks
    params = twin.engine.params
    waited = 0
    for t in range(ticks):
        axons = np.flatnonzero(inputs[t])
        if axons.size:
            twin.engine.inject(axons, twin.t, inputs[t, axons])
        activity = twin.engine.tick()
        assert np.array_equal(activity.fired, record.spikes[t])
        rows, synops, active, idle, packets = counts_of(twin, activity, params)
        want = router_sim.tick_model(table, width, height, rows, synops, active, idle,
                                     packets)
        assert_timing_equal(record.timing[t], want, rows, synops, active, idle, packets)
        for (src, dst), inject, arrive in zip(packets, want["inject"], want["arrive"]):
            dx = abs(dst % width - src % width)
            dy = abs(dst // width - src // width)
            waited += arrive - inject > dx * table.hop_x + dy * table.hop_y
    return waited


@settings(max_examples=40, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), table=timing_tables)
def test_chip_timing_equals_brute_force(seed, table):
    check_chip_timing(seed, table)


def test_chip_timing_under_contention():
    """Fixed seeds with one packet per cycle per core: packets do queue for links."""
    waited = sum(check_chip_timing(seed, TimingTable(route_lookup=0, hop_x=2, hop_y=3))
                 for seed in range(25))
    assert waited > 10


# ----------------------------------------------------------------- worked example

def worked_example_chip():
    """The 2×2 chip of docs/timing.md (default timing table), and its tick-0 inputs.

    Every slot: LIF defaults with ``v_th = 100`` (k_i = k_v = 4, floor rounding).
    core 0 (0,0): axon 0 -> slot 0 (w 100). Slot 0 routes: A -> core 3 axon 0,
                  B -> core 1 axon 1 (delay 1).
    core 1 (1,0): axon 0 -> slot 0 (w 100); axon 1 -> slot 1 (w 1); slot 1 has bias 1.
                  Slot 0 routes: C -> core 3 axon 1, D -> core 1 axon 1 (its own core).
    core 2 (0,1): axon 0 -> slot 0 (w 100), slot 1 (w 5). Slot 0 routes: E -> core 1
                  axon 1 with delay 2.
    core 3 (1,1): axon 0 -> slot 0 (w 1); axon 1 -> slot 0 (w 1), slot 1 (w 1).
    Tick 0 inputs: one event on core 0 axon 0 and core 1 axon 0, two on core 2 axon 0.
    """
    cores = {
        0: CoreConfig(LifParams.make(2, v_th=100),
                      SynapseMemory.from_lists(1, [0], [0], [100]),
                      RoutingTable.from_lists(2, [0, 0], axon=[0, 1], delay=1, core=[3, 1])),
        1: CoreConfig(LifParams.make(2, v_th=100, bias=[0, 1]),
                      SynapseMemory.from_lists(2, [0, 1], [0, 1], [100, 1]),
                      RoutingTable.from_lists(2, [0, 0], axon=[1, 1], delay=1, core=[3, 1])),
        2: CoreConfig(LifParams.make(2, v_th=100),
                      SynapseMemory.from_lists(1, [0, 0], [0, 1], [100, 5]),
                      RoutingTable.from_lists(2, [0], axon=[1], delay=2, core=[1])),
        3: CoreConfig(LifParams.make(2, v_th=100),
                      SynapseMemory.from_lists(2, [0, 1, 1], [0, 0, 1], [1, 1, 1])),
    }
    chip = Chip(ChipSpec(2, 2), cores)
    inputs = np.zeros((3, chip.layout.n_axons), dtype=np.int64)
    inputs[0, chip.axon_index(0, 0)] = 1
    inputs[0, chip.axon_index(1, 0)] = 1
    inputs[0, chip.axon_index(2, 0)] = 2
    return chip, inputs


def test_worked_example_2x2():
    chip, inputs = worked_example_chip()
    rec = chip.run(3, inputs, record=("spikes", "v", "i"))
    t0, t1, t2 = rec.timing
    # spikes: tick 0 core 0 slot 0, core 1 slot 0, core 2 slot 0; tick 1 core 2 slot 0
    assert np.flatnonzero(rec.spikes[0]).tolist() == [0, 2, 4]
    assert np.flatnonzero(rec.spikes[1]).tolist() == [4]

    # ---- tick 0
    assert t0.rows.tolist() == [1, 1, 2, 0]
    assert t0.synops.tolist() == [1, 1, 4, 0]
    assert t0.active.tolist() == [1, 2, 2, 0]
    assert t0.idle.tolist() == [1, 0, 0, 2]
    assert t0.synapse_end.tolist() == [3, 3, 8, 0]
    assert t0.neuron_end.tolist() == [6, 7, 12, 2]
    assert t0.route_end.tolist() == [10, 11, 14, 2]
    #                          A   B   C   D   E
    assert t0.packet_src.tolist() == [0, 0, 1, 1, 2]
    assert t0.packet_dst.tolist() == [3, 1, 3, 1, 1]
    assert t0.packet_inject.tolist() == [8, 10, 9, 11, 14]
    assert t0.packet_arrive.tolist() == [10, 11, 11, 11, 16]
    links = {int(k): int(v) for k, v in enumerate(t0.link_packets) if v}
    # link 0 = router 0 +X, 6 = router 1 +Y (A and C, tie at cycle 9: A goes first),
    # 8 = router 2 +X, 15 = router 3 -Y
    assert links == {0: 2, 6: 2, 8: 1, 15: 1}
    assert t0.hops == 6
    assert t0.cycles == 16

    # ---- tick 1: A, C arrive at core 3; B, D both on core 1 axon 1 (two events)
    assert t1.rows.tolist() == [0, 2, 0, 2]
    assert t1.synops.tolist() == [0, 2, 0, 3]
    assert t1.active.tolist() == [1, 2, 2, 2]
    assert t1.idle.tolist() == [1, 0, 0, 0]
    assert t1.synapse_end.tolist() == [0, 6, 0, 7]
    assert t1.neuron_end.tolist() == [3, 10, 4, 11]
    assert t1.route_end.tolist() == [3, 10, 6, 11]
    assert t1.packet_src.tolist() == [2] and t1.packet_dst.tolist() == [1]
    assert t1.packet_inject.tolist() == [6] and t1.packet_arrive.tolist() == [8]
    assert t1.cycles == 11
    # registers after tick 1 (global slots: core c slot s is 2c + s)
    assert rec["i"][1].tolist() == [94, 0, 94, 2, 188, 10, 2, 1]
    assert rec["v"][1].tolist() == [94, 0, 94, 4, 0, 20, 2, 1]

    # ---- tick 2: E (delay 2) and E' (delay 2, sent at tick 1) are events at ticks 2, 3
    assert t2.rows.tolist() == [0, 1, 0, 0]


def test_fcfs_beats_injection_order():
    """Second example of docs/timing.md: a packet that asked earlier goes before one
    injected earlier. TimingTable(route_lookup=0): one packet per cycle per core.

    core 0 (1 idle slot, neuron_end 1) sends A0, A1, A2 to core 3, injected at 2, 3, 4;
    core 1 (2 idle slots, neuron_end 2) sends C to core 3, injected at 3. All four cross
    link 6 (router 1, +Y): A0 and C ask at 3 (tie: A0, injected first in chip order);
    at 4, C (asked 3) goes before A1 (asked 4) although A1 comes first in injection order.
    """
    table = TimingTable(route_lookup=0)
    got = tick_timing(table, Mesh(2, 2), np.zeros(0, np.int64), np.zeros(0, np.int64),
                      np.array([0, 1, 1]), np.ones(3, bool),
                      np.array([0, 0, 0, 1]), np.array([3, 3, 3, 3]))
    assert got.neuron_end.tolist() == [1, 2, 0, 0]
    assert got.route_end.tolist() == [4, 3, 0, 0]
    #                              A0 A1 A2  C
    assert got.packet_inject.tolist() == [2, 3, 4, 3]
    assert got.packet_arrive.tolist() == [4, 6, 7, 5]
    assert got.link_packets[0] == 3 and got.link_packets[6] == 4
    assert got.cycles == 7
    sim = router_sim.simulate_mesh(2, 2, 1, 1, [(0, 3, 2), (0, 3, 3), (0, 3, 4), (1, 3, 3)])
    assert sim[2] == [[2, 3], [3, 5], [4, 6], [4]]  # link starts of A0, A1, A2, C


def test_brute_force_sim_by_hand():
    """The brute-force simulator itself on cases small enough to check by eye."""
    # own core: arrives when injected, no link
    assert router_sim.simulate_mesh(2, 2, 1, 1, [(3, 3, 5)]) == ([5], [0] * 16, [[]])
    # 3×1 row, hop_x 3: 0 -> 2 crosses link 0 (router 0 +X) then 4 (router 1 +X)
    arrive, links, starts = router_sim.simulate_mesh(3, 1, 3, 1, [(0, 2, 0), (1, 2, 1)])
    # packet 1 asks link 4 at 1 and goes; packet 0 asks it at 3 and goes
    assert arrive == [6, 4] and starts == [[0, 3], [1]]
    assert links[0] == 1 and links[4] == 2
    # -X and -Y: 3 -> 0 on 2×2 leaves router 3 by -X (link 13), router 2 by -Y (link 11)
    assert router_sim.simulate_mesh(2, 2, 2, 3, [(3, 0, 1)])[0] == [6]
    assert router_sim.path(2, 3, 0) == [(13, "x"), (11, "y")]


# ----------------------------------------------------------------- timing off

def test_timing_off_same_spikes():
    chip_on, inputs = worked_example_chip()
    chip_off, _ = worked_example_chip()
    on = chip_on.run(3, inputs, record=("spikes", "v", "i", "theta", "ref"), timing=True)
    off = chip_off.run(3, inputs, record=("spikes", "v", "i", "theta", "ref"), timing=False)
    assert off.timing == []
    assert len(on.timing) == 3
    for name in on.traces:
        assert np.array_equal(on[name], off[name]), name


@settings(max_examples=30, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_timing_off_random_networks(seed):
    width, height, core_spec, net, core_of, ticks, channel_inputs = random_network_case(seed)
    spec = ChipSpec(width, height, core=core_spec)
    (a, input_map), (b, _) = place(net, core_of, spec), place(net, core_of, spec)
    inputs = input_map.expand(channel_inputs, a.layout.n_axons)
    on = a.run(ticks, inputs, record=("spikes", "v"), timing=True)
    off = b.run(ticks, inputs, record=("spikes", "v"), timing=False)
    assert off.timing == [] and len(on.timing) == ticks
    assert np.array_equal(on.spikes, off.spikes) and np.array_equal(on["v"], off["v"])


def test_tick_without_timing():
    chip, inputs = worked_example_chip()
    chip.timing_enabled = False
    chip.engine.inject(np.flatnonzero(inputs[0]), 0, inputs[0][inputs[0] > 0])
    fired, timing = chip.tick()
    assert timing is None and np.flatnonzero(fired).tolist() == [0, 2, 4]
    chip.timing_enabled = True
    _, timing = chip.tick()
    assert timing.cycles == 11


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
