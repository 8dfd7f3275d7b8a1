"""Run by ``tests/test_mpi.py`` under ``mpiexec -n N``: random chips (delays, noise,
timing) on one partition per rank, checked on rank 0 against the one-process run,
every trace, overflow count, timing record and the state after the run on every rank.
Prints ``OK <chips checked>`` on rank 0.

    mpiexec -n 2 python tests/mpi_chips.py FIRST_SEED LAST_SEED
"""

from __future__ import annotations

import os
import sys

from mpi4py import MPI

sys.path.insert(0, os.path.dirname(__file__))
from test_backends import (RECORD, assert_same_array, assert_same_snapshot,  # noqa: E402
                           assert_same_timing, build_chip, chip_case, snapshot)

from neurochip import CoreSpec  # noqa: E402
from neurochip.hardware.partitioned import Parallel  # noqa: E402
from neurochip.hardware.timing import TimingTable  # noqa: E402


def runs(case: dict, comm) -> tuple:
    chip, inputs = build_chip(case)
    chip.parallel = Parallel(comm=comm) if comm is not None else None
    split = case["split"]
    first = chip.run(split, inputs[:split], RECORD, timing=True)
    second = chip.run(inputs.shape[0] - split, inputs[split:], RECORD, timing="totals")
    return first, second, snapshot(chip.engine)


def main() -> None:
    comm = MPI.COMM_WORLD
    checked = 0
    for seed in range(int(sys.argv[1]), int(sys.argv[2])):
        case = chip_case(seed, CoreSpec(overflow_check="count", noise_bits_max=8),
                         TimingTable(hop_x=2, inject=2))
        if case["spec"].n_cores < comm.size:
            continue
        got = runs(case, comm)
        want = runs(case, None)  # every rank: its chip must end as one process's does
        assert_same_snapshot(got[2], want[2], f"seed {seed} rank {comm.rank}")
        if comm.rank == 0:
            for g, w in zip(got[:2], want[:2]):
                for name in RECORD:
                    assert_same_array(g[name], w[name], f"seed {seed} {name}")
                assert g.overflow == w.overflow, seed
            assert_same_timing(got[0].timing, want[0].timing, f"seed {seed}")
            assert_same_timing([t.full() for t in got[1].timing],
                               [t.full() for t in want[1].timing], f"seed {seed} totals")
            checked += 1
    if comm.rank == 0:
        print("OK", checked)


if __name__ == "__main__":
    main()
