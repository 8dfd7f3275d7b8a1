"""The compiled link schedule (``hardware.link_schedule.fcfs_packets``) on its own.

Against the numpy schedule (``timing.link_schedule``, itself checked cycle by cycle
against ``router_sim`` in ``test_timing.py``) on meshes and loads larger than the
brute-force model can take, with the heavy contention of many packets injected in the
same cycle; and against ``router_sim.simulate_mesh`` directly on small ones.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import router_sim  # noqa: E402

from neurochip.hardware import tick_kernel  # noqa: E402
from neurochip.hardware.link_schedule import fcfs_packets  # noqa: E402
from neurochip.hardware.timing import Mesh, link_schedule  # noqa: E402

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.data_too_large])


@st.composite
def tick_packets(draw, max_side: int, max_packets: int):
    """A mesh, hop latencies and one tick's packets as the routing phase gives them:
    grouped by source core in core order, each core injecting at non-decreasing cycles
    (gap 0: several packets ask for their first link in the same cycle)."""
    width, height = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    n_cores = width * height
    hop_x, hop_y = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n = draw(st.integers(0, max_packets))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    max_gap = draw(st.sampled_from([0, 1, 2, 5]))
    rng = np.random.default_rng(seed)
    src = np.sort(rng.integers(0, n_cores, n))
    dst = rng.integers(0, n_cores, n)
    start = rng.integers(0, 40, n_cores)
    gaps = rng.integers(0, max_gap + 1, n)
    inject = np.empty(n, np.int64)
    for core in range(n_cores):
        mine = np.flatnonzero(src == core)
        inject[mine] = start[core] + np.cumsum(gaps[mine])
    return width, height, hop_x, hop_y, src, dst, inject


def compiled_schedule(width, height, hop_x, hop_y, src, dst, inject, types=np.int64):
    """Arrival cycles and packets per link from ``fcfs_packets``, with the record types
    of the compiled backend (``types``: cores, cycles)."""
    core_type, cycle_type = (types, types) if not isinstance(types, tuple) else types
    arrive = np.zeros(src.size, cycle_type)
    links = np.zeros(4 * width * height, np.int64)
    core_xy = np.stack([np.arange(width * height) % width,
                        np.arange(width * height) // width], axis=1)
    fcfs_packets(src.size, inject.astype(cycle_type), src.astype(core_type),
                 dst.astype(core_type), width, height, hop_x, hop_y, arrive, links, core_xy)
    return arrive.astype(np.int64), links


def numpy_schedule(width, height, hop_x, hop_y, src, dst, inject):
    mesh = Mesh(width, height)
    packet, hop, link, in_x, step = mesh.routes(src, dst)
    latency = np.where(in_x, hop_x, hop_y)
    start = link_schedule(inject, packet, hop, link, latency, step)
    arrive = inject.copy()
    if hop.size:
        last = np.r_[packet[1:] != packet[:-1], True]
        arrive[packet[last]] = start[last] + latency[last]
    return arrive, np.bincount(link, minlength=4 * mesh.n_cores)


@settings(max_examples=120, **SETTINGS)
@given(case=tick_packets(max_side=7, max_packets=600))
def test_compiled_schedule_equals_numpy_schedule(case):
    got_arrive, got_links = compiled_schedule(*case)
    want_arrive, want_links = numpy_schedule(*case)
    assert np.array_equal(got_arrive, want_arrive), "arrival cycles"
    assert np.array_equal(got_links, want_links), "packets per link"


@settings(max_examples=60, **SETTINGS)
@given(case=tick_packets(max_side=4, max_packets=50))
def test_compiled_schedule_equals_cycle_simulation_under_contention(case):
    width, height, hop_x, hop_y, src, dst, inject = case
    got_arrive, got_links = compiled_schedule(*case)
    want = router_sim.simulate_mesh(width, height, hop_x, hop_y,
                                    list(zip(src.tolist(), dst.tolist(), inject.tolist())))
    assert got_arrive.tolist() == want[0], "arrival cycles"
    assert got_links.tolist() == want[1], "packets per link"


@settings(max_examples=30, **SETTINGS)
@given(case=tick_packets(max_side=5, max_packets=300))
def test_compact_record_types_same_cycles(case):
    """The kernel hands the schedule int16 cores and int32 cycles (the packet records'
    types): same cycles as with int64."""
    wide = compiled_schedule(*case)
    narrow = compiled_schedule(*case, types=(np.int16, np.int32))
    assert np.array_equal(wide[0], narrow[0]) and np.array_equal(wide[1], narrow[1])


def test_all_at_once_on_one_link():
    """Twenty packets from core 0 to core 1, all injected at cycle 3: the link takes one
    a cycle, in packet order (the tie-break), so they arrive at 4, 5, ..., 23."""
    src, dst = np.zeros(20, np.int64), np.ones(20, np.int64)
    arrive, links = compiled_schedule(2, 1, 1, 1, src, dst, np.full(20, 3))
    assert arrive.tolist() == list(range(4, 24))
    assert links.tolist() == [20, 0, 0, 0, 0, 0, 0, 0]


def test_link_counts_add_up_and_kernel_uses_this_schedule():
    """``fcfs_packets`` adds to the link counts it is given (the kernel clears them per
    tick), and the compiled tick loop calls this very function."""
    src, dst, inject = np.array([0, 0, 3]), np.array([3, 3, 0]), np.array([1, 2, 2])
    core_xy = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
    links = np.zeros(16, np.int64)
    arrive = np.zeros(3, np.int64)
    for _ in range(2):
        fcfs_packets(3, inject, src, dst, 2, 2, 1, 1, arrive, links, core_xy)
    assert arrive.tolist() == [3, 4, 4]
    # twice: +x of core 0 (link 0) and +y of core 1 (6) two packets a call, -x of core 3
    # (13) and -y of core 2 (11) one
    assert links.tolist() == [{0: 4, 6: 4, 13: 2, 11: 2}.get(k, 0) for k in range(16)]
    assert tick_kernel.fcfs_packets is fcfs_packets
