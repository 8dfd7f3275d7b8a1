"""Partitions on MPI ranks (mpich's wheel, on localhost): ``mpiexec -n 2`` and ``-n 3``
runs are bit-identical to one process (``tests/mpi_chips.py``), and
``mpiexec -n N neurochip run NET --out r.npz`` writes the same file as one process
(docs/scale-out.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_backends import assert_same_array  # noqa: E402

pytest.importorskip("mpi4py")
HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
MPIEXEC = shutil.which("mpiexec", path=str(BIN)) or shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")
EXAMPLE = HERE.parent / "examples" / "balanced.json"


def mpiexec(ranks: int, *command: str, cwd=None) -> subprocess.CompletedProcess:
    # localhost only; a run that deadlocked would otherwise hang the suite
    return subprocess.run([MPIEXEC, "-n", str(ranks), *command], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize("ranks, seeds", [(2, (0, 6)), (3, (6, 12))])
def test_random_chips_on_ranks_bit_identical(ranks, seeds):
    done = mpiexec(ranks, sys.executable, str(HERE / "mpi_chips.py"), *map(str, seeds))
    assert done.returncode == 0, done.stdout + done.stderr
    checked = int(done.stdout.split("OK")[-1])
    assert checked >= 3, done.stdout


def test_cli_under_mpiexec_writes_what_one_process_writes(tmp_path):
    neurochip = str(BIN / "neurochip") if (BIN / "neurochip").exists() else None
    command = [neurochip] if neurochip else [sys.executable, "-m", "neurochip.cli"]
    arguments = ["run", str(EXAMPLE), "--ticks", "300", "--quiet"]
    alone = subprocess.run(command + arguments + ["--out", str(tmp_path / "one.npz")],
                           capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0, alone.stderr
    done = mpiexec(2, *command, *arguments, "--out", str(tmp_path / "two.npz"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.replace("two.npz", "one.npz") == alone.stdout  # rank 0 alone reports
    want, got = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert sorted(got) == sorted(want) and int(want["exc.spikes"].sum()) > 0
    for key in want:
        assert_same_array(got[key], want[key], key)
    # an existing --out is refused on every rank (exit 2), not left to hang the others
    again = mpiexec(2, *command, *arguments, "--out", str(tmp_path / "two.npz"))
    assert again.returncode == 2 and "exists" in again.stderr
