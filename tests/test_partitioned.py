"""A chip run as partitions on threads (``Chip.run(..., threads=, partitions=)``,
``neurochip.hardware.partitioned``) is bit-identical to the one-process run: every
register trace, spike, overflow count, cycle count and packet record, and the state
after the run (registers, pending events, LFSR lanes, tick), for 1, 2 and 3 partitions
and random splits of the cores, with delays, noise and timing (docs/scale-out.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
from test_backends import (RECORD, SETTINGS, assert_same_array, assert_same_snapshot,  # noqa: E402
                           assert_same_timing, build_chip, chip_case, core_specs, snapshot,
                           timing_tables)
import test_compiled_xylo as xylo  # noqa: E402

from neurochip import CoreSpec, RegisterOverflowError, RoutingTable, SynapseMemory  # noqa: E402
from neurochip.hardware.chip import Chip, ChipSpec, CoreConfig  # noqa: E402
from neurochip.hardware.partitioned import Parallel  # noqa: E402
from neurochip.hardware.partitions import split_cores  # noqa: E402
from neurochip.hardware.spec import SpecError  # noqa: E402
from neurochip.hardware.timing import TimingTable  # noqa: E402
from firmware_models.lif import LifParams  # noqa: E402


def run_case(case: dict, partitions=None, threads: int = 2, timing=True) -> tuple:
    """Two runs in a row (the second continues from the first's state, pending events
    and lanes, and starts from a tick in the middle of the input), then the state."""
    chip, inputs = build_chip(case)
    ticks, split = inputs.shape[0], case["split"]
    options = {} if partitions is None else dict(threads=threads, partitions=partitions)
    first = chip.run(split, inputs[:split], RECORD, timing=timing, **options)
    second = chip.run(ticks - split, inputs[split:], RECORD,
                      timing="totals" if timing else False, **options)
    return first, second, snapshot(chip.engine)


def assert_same_runs(got: tuple, want: tuple, what: str) -> None:
    for g, w in zip(got[:2], want[:2]):
        assert g.start_tick == w.start_tick, what
        for name in RECORD:
            assert_same_array(g[name], w[name], f"{what} {name}")
        assert g.overflow == w.overflow, f"{what}: overflow {g.overflow} != {w.overflow}"
    assert_same_timing(got[0].timing, want[0].timing, what)
    assert_same_timing([t.full() for t in got[1].timing], [t.full() for t in want[1].timing],
                       f"{what} (totals)")
    for g, w in zip(got[1].timing, want[1].timing):
        assert_same_array(g.fired, w.fired, f"{what} fired")
    assert_same_snapshot(got[2], want[2], what)


def random_split(seed: int, n_cores: int, parts: int) -> list:
    """``parts`` partitions of arbitrary (not contiguous) sets of cores."""
    rng = np.random.default_rng(seed)
    core_part = np.concatenate([np.arange(parts), rng.integers(0, parts, n_cores - parts)])
    rng.shuffle(core_part)
    return [np.flatnonzero(core_part == p).tolist() for p in range(parts)]


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), spec=core_specs, table=timing_tables,
       split_seed=st.integers(0, 2 ** 32 - 1))
def test_partitions_bit_identical_to_one_process(seed, spec, table, split_seed):
    case = chip_case(seed, spec, table)
    want = run_case(case)
    n_cores = case["spec"].n_cores
    for parts in (1, 2, 3):
        if parts > n_cores:
            continue
        assert_same_runs(run_case(case, parts), want, f"{parts} blocks")
        split = random_split(split_seed, n_cores, parts)
        assert_same_runs(run_case(case, split, threads=parts), want, f"split {split}")


def test_fixed_seeds_exchange_packets_and_noise():
    """Seeds whose chips send thousands of packets between partitions, with noise and
    overflows counted: the exchange is exercised, not only the trivial cases."""
    crossing = spikes = 0
    for seed in range(6):
        case = chip_case(seed, CoreSpec(overflow_check="count", noise_bits_max=8),
                         TimingTable(hop_x=2, inject=3))
        want = run_case(case)
        if case["spec"].n_cores < 2:
            continue
        assert_same_runs(run_case(case, 2), want, f"seed {seed}")
        spikes += int(want[0].spikes.sum())
        half = case["spec"].n_cores // 2
        crossing += sum(int(np.sum((t.packet_src < half) != (t.packet_dst < half)))
                        for t in want[0].timing)
    assert spikes > 500 and crossing > 500, (spikes, crossing)


@settings(max_examples=15, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), table=xylo.timing_tables,
       timing=st.sampled_from([True, "totals", False]),
       check=st.sampled_from(["count", "strict"]))
def test_xylo_partitions_in_order_saturating_delivery(seed, table, timing, check):
    """Xylo's delivery saturates after every addition in ascending axon order: events
    from other partitions join that order exactly; spike counts above one send several
    packets per entry; a strict-mode overflow raises the same error, same state."""
    case = xylo.chip_case(seed, table, check)
    want = xylo.run_chip(case, "compiled", timing)
    n_cores = case["spec"].n_cores
    for parts in (2, 3):
        if parts <= n_cores:
            got = run_xylo(case, timing, parts)
            xylo.assert_same_chip(got, want, f"{parts} partitions", timing)


def run_xylo(case: dict, timing, parts: int):
    original = Chip.run

    def partitioned(self, *args, **kwargs):
        return original(self, *args, threads=2, partitions=parts, **kwargs)

    Chip.run = partitioned
    try:
        return xylo.run_chip(case, None, timing)
    finally:
        Chip.run = original


def two_cores(delay: int, n: int = 8) -> Chip:
    """Two cores that drive each other through routes of ``delay`` ticks."""
    configs = []
    for c in range(2):
        routes = RoutingTable.from_lists(n, np.arange(n), np.arange(n), delay, core=1 - c)
        synapses = SynapseMemory.from_lists(n, np.arange(n), np.arange(n), np.full(n, 40))
        params = LifParams.make(n, bias=np.arange(n) * 7 + 30, v_th=300)
        configs.append(CoreConfig(params, synapses, routes))
    return Chip(ChipSpec(2, 1, core=CoreSpec(n_slots=n, n_axons=n, delay_bits=3)), configs)


def test_exchange_interval_from_the_shortest_route_and_refused_below():
    ticks = 60
    want = two_cores(3).run(ticks, record=RECORD)
    chip = two_cores(3)
    chip.parallel = Parallel(threads=2, interval=3)
    got = chip.run(ticks, record=RECORD)
    assert int(want.spikes.sum()) > 20
    for name in RECORD:
        assert_same_array(got[name], want[name], name)
    assert_same_timing(got.timing, want.timing, "interval 3")
    chip.parallel = Parallel(threads=2, interval=4)
    with pytest.raises(SpecError, match=r"interval 4: the route of core 0, slot 0 entry 0 "
                                        r"to core 1 \(partition 1\) has delay 3"):
        chip.run(5)


def test_strict_overflow_same_error_and_state():
    case = chip_case(3, CoreSpec(overflow_check="strict", i_bits=6, v_bits=7),
                     TimingTable())
    results = []
    for options in ({}, dict(threads=2, partitions=2)):
        chip, inputs = build_chip(case)
        with pytest.raises(RegisterOverflowError) as error:
            chip.run(inputs.shape[0], inputs, RECORD, **options)
        results.append((str(error.value), snapshot(chip.engine)))
    assert results[0][0] == results[1][0]
    assert_same_snapshot(results[1][1], results[0][1], "after the overflow")


def test_splits_refused_with_their_reason():
    slots = [4, 4, 4, 4]
    assert split_cores(slots, 2).core_part.tolist() == [0, 0, 1, 1]
    assert split_cores([0, 9, 0, 0], 3).core_part.tolist() == [0, 1, 2, 2]
    for parts, message in ((5, "5 partitions of a chip of 4 cores"),
                           ([[0, 1], [1, 2, 3]], "core 1 is in two partitions"),
                           ([[0, 1], [2]], "core 3 is in no partition"),
                           ([[0, 7], [1, 2, 3]], "core 7 is not on the chip"),
                           ([0, 0, 2, 2], "partition 1 has no cores")):
        with pytest.raises(SpecError, match=message):
            split_cores(slots, parts)
    chip = two_cores(1)
    with pytest.raises(SpecError, match="compiled backend"):
        chip.run(3, threads=2, backend="numpy")
    with pytest.raises(SpecError, match="threads must be"):
        Parallel(threads=0)


def test_cli_threads_writes_the_same_recordings(tmp_path):
    """``neurochip run --threads 2`` writes the same .npz as one thread."""
    example = os.path.join(os.path.dirname(__file__), "..", "examples", "balanced.json")
    outputs = []
    for threads in ("1", "2"):
        out = tmp_path / f"r{threads}.npz"
        done = subprocess.run([sys.executable, "-m", "neurochip.cli", "run", example,
                               "--ticks", "200", "--out", str(out), "--quiet",
                               "--threads", threads], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append(np.load(out))
    assert sorted(outputs[0]) == sorted(outputs[1])
    assert int(outputs[0]["exc.spikes"].sum()) > 0
    for key in outputs[0]:
        assert_same_array(outputs[1][key], outputs[0][key], key)
