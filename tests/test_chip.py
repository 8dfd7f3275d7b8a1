"""The chip (a mesh of cores) against one big core, against ``Core``, and its refusals.

* Placement does not change what the network computes: a random network (random LIF
  parameters within their fields, random synapses with delays 1..max, input channels,
  no noise, random arithmetic modes and widths) placed on one big core (1×1 mesh) and on
  a random mesh with a random placement gives the same spikes and the same ``v``, ``i``,
  ``theta``, ``ref`` on every tick (neuron ``j`` sits at the ``k``-th slot of its core,
  ``k`` = number of lower-numbered neurons on that core), and the same overflow counts.
* With noise on, a 1×1 chip equals ``neurochip.Core`` with the same LFSR seed, bit for
  bit; on a 2×1 chip each core equals its own standalone ``Core`` (noise streams are
  per core and do not depend on the other cores).
* Build-time refusals name the core, slot, entry and limit (exact message text).
  Refusals name what is wrong: a negative placement names the neuron and core,
  ``Chip.inject`` on a core outside the mesh and a bool core index are refused.
"""

from __future__ import annotations

import os
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import router_sim  # noqa: E402

from firmware_models.lif import LifParams  # noqa: E402
from neurochip import Core  # noqa: E402
from neurochip.hardware.chip import Chip, ChipSpec, CoreConfig  # noqa: E402
from neurochip.compiler.placement import Network, place  # noqa: E402
from neurochip.hardware.routing import RoutingTable  # noqa: E402
from neurochip.hardware.spec import CoreSpec, SpecError  # noqa: E402
from neurochip.hardware.synapses import SynapseMemory  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])
REGISTERS = ("v", "i", "theta", "ref")


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def slot_of_neuron(core_of: np.ndarray) -> np.ndarray:
    """Slot of every neuron on its core: neurons of a core in ascending index order."""
    seen: dict[int, int] = {}
    slots = []
    for core in core_of.tolist():
        slots.append(seen.get(core, 0))
        seen[core] = slots[-1] + 1
    return np.array(slots, dtype=np.int64)


# ----------------------------------------------------------------- placement invariance

@settings(max_examples=60, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), overflow=st.sampled_from(["saturate", "wrap"]),
       rounding=st.sampled_from(["floor", "nearest", "zero"]),
       i_bits=st.integers(8, 16), v_bits=st.integers(10, 16), w_bits=st.integers(4, 8),
       delay_bits=st.integers(1, 4), split=st.integers(0, 8))
def test_any_placement_equals_one_big_core(seed, overflow, rounding, i_bits, v_bits, w_bits,
                                           delay_bits, split):
    rng = np.random.default_rng(seed)
    core_spec = CoreSpec(max_fanout=128, overflow=overflow, rounding=rounding, i_bits=i_bits,
                         v_bits=v_bits, w_bits=w_bits, delay_bits=delay_bits)
    net = router_sim.random_network(rng, core_spec, n_max=20, synapses_max=100)
    width, height = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    core_of = rng.integers(0, width * height, net.n)
    ticks = int(rng.integers(1, 25))
    channel_inputs = rng.integers(0, 3, (ticks, net.n_inputs)) * (
        rng.random((ticks, net.n_inputs)) < 0.4)
    record = ("spikes",) + REGISTERS

    big, big_inputs = place(net, np.zeros(net.n, dtype=np.int64),
                            ChipSpec(1, 1, core=core_spec))
    want = big.run(ticks, big_inputs.expand(channel_inputs, big.layout.n_axons), record,
                   timing=False)

    mesh, mesh_inputs = place(net, core_of, ChipSpec(width, height, core=core_spec))
    inputs = mesh_inputs.expand(channel_inputs, mesh.layout.n_axons)
    split = min(split, ticks)  # run in two pieces: state carries over between runs
    first = mesh.run(split, inputs[:split], record, timing=True)
    second = mesh.run(ticks - split, inputs[split:], record, timing=True)
    index = mesh.slot_index(core_of, slot_of_neuron(core_of))
    for name in record:
        got = np.concatenate([first[name], second[name]])[:, index]
        assert np.array_equal(got, want[name]), name
    assert mesh.overflow_counts == big.overflow_counts
    assert mesh.t == big.t == ticks


def test_placement_example_by_hand():
    """Three neurons in a chain 0 -> 1 -> 2 (delays 1 and 3) driven by one input
    channel; on one core and spread over a 3×1 mesh the spike ticks are the same."""
    net = Network(params=LifParams.make(3, v_th=10, k_i=0, k_v=0), pre=np.array([0, 1]),
                  post=np.array([1, 2]), w=np.array([20, 20]), delay=np.array([1, 3]),
                  input_channel=np.array([0]), input_post=np.array([0]),
                  input_w=np.array([20]), n_inputs=1)
    channel = np.zeros((8, 1), dtype=np.int64)
    channel[2, 0] = 1
    for core_of, width in (([0, 0, 0], 1), ([2, 0, 1], 3)):
        chip, input_map = place(net, np.array(core_of), ChipSpec(width, 1))
        rec = chip.run(8, input_map.expand(channel, chip.layout.n_axons))
        index = chip.slot_index(np.array(core_of), slot_of_neuron(np.array(core_of)))
        # k = 0: i = acc, v = i; input at tick 2 fires neuron 0 at 2, neuron 1 at 3,
        # neuron 2 at 6
        assert [np.flatnonzero(rec.spikes[:, j]).tolist() for j in index] == [[2], [3], [6]]


# ----------------------------------------------------------------- noise: chip = Core

def random_core(rng, spec: CoreSpec):
    """Parameters (noise on most slots), synapses and routes back to core 0."""
    net = router_sim.random_network(rng, spec, n_max=16, synapses_max=60, noise=True)
    n = net.n
    n_axons = int(rng.integers(1, 8))
    words = int(rng.integers(0, 40))
    synapses = SynapseMemory.from_lists(
        n_axons, rng.integers(0, n_axons, words), rng.integers(0, n, words),
        rng.integers(-128, 128, words), rng.integers(0, 4, n_axons))
    entries = int(rng.integers(0, 2 * n + 1))
    routes = RoutingTable.from_lists(n, rng.integers(0, n, entries),
                                     rng.integers(0, n_axons, entries),
                                     rng.integers(1, spec.max_delay + 1, entries), 0)
    seed = int(rng.integers(1, 2 ** 32))
    return net.params, synapses, routes, seed


@settings(max_examples=40, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_noisy_1x1_chip_equals_core(seed):
    rng = np.random.default_rng(seed)
    spec = CoreSpec(max_fanout=64)
    params, synapses, routes, lfsr_seed = random_core(rng, spec)
    ticks = int(rng.integers(1, 30))
    inputs = rng.integers(0, 3, (ticks, synapses.n_axons)) * (
        rng.random((ticks, synapses.n_axons)) < 0.3)
    record = ("spikes",) + REGISTERS
    core = Core(spec, params, synapses, routes, lfsr_seed=lfsr_seed)
    chip = Chip(ChipSpec(1, 1, core=spec), [CoreConfig(params, synapses, routes, lfsr_seed)])
    want = core.run(ticks, inputs, record)
    got = chip.run(ticks, inputs, record, timing=True)
    for name in record:
        assert np.array_equal(got[name], want[name]), name
    assert chip.overflow_counts == core.overflow_counts


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_noisy_cores_are_independent(seed):
    """Each core of a 2×1 chip (own seed, routes to itself) equals its own ``Core``."""
    rng = np.random.default_rng(seed)
    spec = CoreSpec(max_fanout=64)
    a, b = random_core(rng, spec), random_core(rng, spec)
    b_routes = b[2]
    b_on_chip = RoutingTable(b_routes.route_start, np.ones_like(b_routes.core),
                             b_routes.axon, b_routes.delay)  # core 1 routes to core 1
    chip = Chip(ChipSpec(2, 1, core=spec), [CoreConfig(*a), CoreConfig(b[0], b[1], b_on_chip,
                                                                       b[3])])
    ticks = int(rng.integers(1, 20))
    inputs = rng.integers(0, 3, (ticks, chip.layout.n_axons))
    got = chip.run(ticks, inputs, ("spikes", "v"), timing=True)
    n_a, ax_a = a[0].n, a[1].n_axons
    for (params, synapses, routes, lfsr_seed), slots, axons in (
            (a, slice(0, n_a), slice(0, ax_a)), (b, slice(n_a, None), slice(ax_a, None))):
        core = Core(spec, params, synapses, routes, lfsr_seed=lfsr_seed)
        want = core.run(ticks, inputs[:, axons], ("spikes", "v"))
        assert np.array_equal(got.spikes[:, slots], want.spikes)
        assert np.array_equal(got["v"][:, slots], want["v"])


# ----------------------------------------------------------------- refusals at build time

def two_slot_core(n_axons=2, routes=None, n=2, **params):
    return CoreConfig(LifParams.make(n, **params),
                      SynapseMemory.from_lists(n_axons, [0], [0], [1]) if n_axons else None,
                      routes)


def test_route_to_core_outside_mesh():
    routes = RoutingTable.from_lists(2, [0, 1, 1], axon=0, core=[1, 3, 4])
    with pytest.raises(SpecError, match=exactly(
            "core 2 routing table, slot 1 entry 1: core=4 outside 0..3")):
        Chip(ChipSpec(2, 2), {c: two_slot_core() for c in (0, 1, 3)}
             | {2: two_slot_core(routes=routes)})
    routes = RoutingTable.from_lists(2, [1], axon=0, core=[-1])
    with pytest.raises(SpecError, match=exactly(
            "core 0 routing table, slot 1 entry 0: core=-1 outside 0..1")):
        Chip(ChipSpec(2, 1), [two_slot_core(routes=routes), two_slot_core()])


def test_axon_beyond_destination_synapse_memory():
    # core 1 has 2 axons; core 0 slot 1's second entry names its axon 2
    routes = RoutingTable.from_lists(2, [0, 1, 1], axon=[1, 0, 2], core=[1, 1, 1])
    with pytest.raises(SpecError, match=exactly(
            "core 0, slot 1 entry 1: axon 2 on core 1, which has 2 axons in its synapse "
            "memory")):
        Chip(ChipSpec(2, 1), [two_slot_core(routes=routes), two_slot_core()])
    # a core without a synapse memory has no axons
    routes = RoutingTable.from_lists(2, [1], axon=[0], core=[3])
    with pytest.raises(SpecError, match=exactly(
            "core 2, slot 1 entry 0: axon 0 on core 3, which has 0 axons in its synapse "
            "memory")):
        Chip(ChipSpec(2, 2), {2: two_slot_core(routes=routes)})
    # beyond the axon capacity of any core: refused by the core's own check
    routes = RoutingTable.from_lists(2, [0], axon=[8], core=[0])
    with pytest.raises(SpecError, match=exactly(
            "core 0 routing table, slot 0 entry 0: axon=8 outside 0..7")):
        Chip(ChipSpec(1, 1, core=CoreSpec(n_axons=8)), [two_slot_core(routes=routes)])


def test_too_many_neurons_on_a_core():
    net = Network(LifParams.make(7), *(np.zeros(0, np.int64),) * 4)
    with pytest.raises(SpecError, match=exactly(
            "core 1: 5 neurons, capacity n_slots=4 (short by 1)")):
        place(net, np.array([0, 1, 1, 1, 1, 1, 0]), ChipSpec(2, 1, core=CoreSpec(n_slots=4)))
    with pytest.raises(SpecError, match=exactly(
            "core 3: 5 neurons, capacity n_slots=4 (short by 1)")):
        Chip(ChipSpec(2, 2, core=CoreSpec(n_slots=4)), {3: two_slot_core(n=5)})


def test_slot_beyond_the_core():
    """A synapse word or a routing table naming a slot the core does not have."""
    synapses = SynapseMemory.from_lists(1, [0, 0], [1, 2], [5, 5])
    with pytest.raises(SpecError, match=exactly(
            "core 1 synapse memory, axon 0 word 1: slot=2 outside 0..1")):
        Chip(ChipSpec(2, 1), {1: CoreConfig(LifParams.make(2), synapses)})
    with pytest.raises(SpecError, match=exactly(
            "core 1: routing table has 3 slots, the core has 2")):
        Chip(ChipSpec(2, 1), {1: two_slot_core(routes=RoutingTable.empty(3))})
    with pytest.raises(SpecError, match=exactly("routing entry for slot 2, outside 0..1")):
        RoutingTable.from_lists(2, [2], axon=0)


def test_delay_outside_delay_bits():
    spec = ChipSpec(2, 2, core=CoreSpec(delay_bits=3))
    for delay in (8, 0):
        routes = RoutingTable.from_lists(2, [0, 0], axon=0, delay=[7, delay], core=0)
        with pytest.raises(SpecError, match=exactly(
                f"core 2 routing table, slot 0 entry 1: delay={delay} outside 1..7")):
            Chip(spec, {0: two_slot_core(), 2: two_slot_core(routes=routes)})
    # through place: neuron 0 -> neuron 1 with delays 2 and 8 gives entries (2, 8)
    net = Network(LifParams.make(2), pre=np.array([0, 0]), post=np.array([1, 1]),
                  w=np.array([1, 1]), delay=np.array([8, 2]))
    with pytest.raises(SpecError, match=exactly(
            "core 3 routing table, slot 0 entry 1: delay=8 outside 1..7")):
        place(net, np.array([3, 3]), spec)


def test_fanout_over_max_fanout():
    spec = ChipSpec(2, 2, core=CoreSpec(max_fanout=2))
    routes = RoutingTable.from_lists(2, [0, 1, 1, 1], axon=0, core=[0, 1, 2, 3])
    with pytest.raises(SpecError, match=exactly(
            "core 1 routing table, slot 1: fan-out 3 exceeds max_fanout=2")):
        Chip(spec, {c: two_slot_core() for c in (0, 2, 3)} | {1: two_slot_core(routes=routes)})
    # through place: neuron 2 (core 0, slot 1) reaches cores 1, 2, 3 -> three entries
    net = Network(LifParams.make(5), pre=np.array([2, 2, 2]), post=np.array([1, 3, 4]),
                  w=np.array([1, 1, 1]), delay=np.array([1, 1, 1]))
    with pytest.raises(SpecError, match=exactly(
            "core 0 routing table, slot 1: fan-out 3 exceeds max_fanout=2")):
        place(net, np.array([0, 1, 0, 2, 3]), spec)


def test_routing_entries_capacity():
    spec = ChipSpec(2, 1, core=CoreSpec(routing_entries=2))
    routes = RoutingTable.from_lists(2, [0, 1, 1], axon=0, core=0)
    with pytest.raises(SpecError, match=exactly(
            "core 1 routing table: 3 entries, capacity routing_entries=2 (short by 1)")):
        Chip(spec, {0: two_slot_core(), 1: two_slot_core(routes=routes)})


def test_core_index_outside_mesh():
    spec = ChipSpec(2, 2)
    for bad in (4, -1, 17):
        with pytest.raises(SpecError, match=exactly(
                f"core {bad} is not on the 2×2 mesh (cores 0..3)")):
            Chip(spec, {0: two_slot_core(), bad: two_slot_core()})
    with pytest.raises(SpecError, match=exactly("core 4 is not on the 2×2 mesh (cores 0..3)")):
        Chip(spec, [two_slot_core()] * 5)
    with pytest.raises(SpecError, match=exactly("core '1' is not on the 2×2 mesh (cores 0..3)")):
        Chip(spec, {"1": two_slot_core()})
    net = Network(LifParams.make(2), *(np.zeros(0, np.int64),) * 4)
    with pytest.raises(SpecError, match=exactly(
            "placement puts neuron 1 on core 4, the mesh has cores 0..3")):
        place(net, np.array([0, 4]), spec)


def test_negative_placement_is_named():
    net = Network(LifParams.make(2), *(np.zeros(0, np.int64),) * 4)
    with pytest.raises(SpecError, match=r"^placement puts neuron 0 on core -1, the mesh "
                                        r"has cores 0\.\.1$"):
        place(net, np.array([-1, 0]), ChipSpec(2, 1))


def test_inject_on_core_outside_mesh_is_refused():
    chip = Chip(ChipSpec(2, 2), {0: two_slot_core()})
    with pytest.raises(SpecError, match=r"^core 4 is not on the 2×2 mesh \(cores 0\.\.3\)$"):
        chip.inject(4, [0], 0)


def test_bool_core_index_is_refused():
    with pytest.raises(SpecError, match="core True"):
        Chip(ChipSpec(2, 1), {True: two_slot_core()})


def test_other_fields_named_by_core_and_slot():
    with pytest.raises(SpecError, match=exactly(
            "core 3, slot 1: parameter v_th=40000 outside 0..32767 (15-bit unsigned)")):
        Chip(ChipSpec(2, 2), {3: two_slot_core(v_th=[5, 40000])})
    with pytest.raises(SpecError, match=exactly(
            "core 2: lfsr_seed must be in 1..2**32-1 (zero locks the LFSR), got 0")):
        Chip(ChipSpec(2, 2), {2: CoreConfig(LifParams.make(1), lfsr_seed=0)})
    with pytest.raises(SpecError, match=exactly("ChipSpec.width must be a positive integer, "
                                                "got 0")):
        ChipSpec(0, 2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
