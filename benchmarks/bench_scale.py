"""Scale-out: a chip on 1 and 2 threads, and on 1, 2 and 4 MPI ranks (docs/scale-out.md).

    python benchmarks/bench_scale.py [--ticks 200] [--repeat 3] [--ranks 1,2,4]

1. **Threads** (``Chip.run(..., threads=N)``): the ``scale_chip`` network at 10^5
   neurons (fan-out 100) and 10^6 neurons (fan-out ``--fanout-large``, 20), delay 1
   (an exchange every tick, the hardest case), timing off; threads 1 and 2 alternately,
   ``--repeat`` times each; prints every time, the fastest and the median, and the
   speedup of the fastest runs (``timeit``'s rule: the slower runs measure the
   neighbours on a shared machine). The spikes of both are checked equal.
2. **MPI ranks** (``partitioned.run_own_partition``: each rank makes and holds only its
   own cores): the 10^6-neuron chip on ``mpiexec -n R`` for each R of ``--ranks``;
   per rank the seconds of the run, its peak resident memory (``ru_maxrss``, the whole
   process: Python, numpy, numba and the rank's cores) and the event bytes it sent per
   tick.

The last lines are JSON objects, one per measurement (``kind``: ``threads`` or ``mpi``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from scale_chip import scale_core, scale_spec  # noqa: E402

from firmware_models.lif import LifState  # noqa: E402
from neurochip.hardware.chip import Chip  # noqa: E402


def whole_chip(neurons: int, fanout: int, delay: int = 1) -> Chip:
    spec, slots, k = scale_spec(neurons, fanout, delay=delay)
    made = [scale_core(c, spec, slots, k, fanout, delay) for c in range(spec.n_cores)]
    chip = Chip(spec, [config for config, _ in made])
    chip.state = LifState(*[np.concatenate([getattr(state, name) for _, state in made])
                            for name in ("i", "v", "theta", "ref")])
    return chip


def threads(neurons: int, fanout: int, ticks: int, repeat: int) -> dict:
    """Threads 1 and 2, alternately, each run from the same state."""
    chip = whole_chip(neurons, fanout)
    start = chip.checkpoint()
    for n in (1, 2):  # first calls: numba loads its code, the partitions are built
        chip.run(2, timing=False, threads=n)
    times = {1: [], 2: []}
    spikes = {}
    for _ in range(repeat):
        for n in (1, 2):
            chip.restore(start)
            began = time.perf_counter()
            recording = chip.run(ticks, timing=False, threads=n)
            times[n].append(time.perf_counter() - began)
            spikes[n] = recording.spikes
            print(f"  {neurons} neurons, {n} thread(s): {times[n][-1]:.3f} s", flush=True)
    assert np.array_equal(spikes[1], spikes[2]), "2 threads gave other spikes"
    return {"kind": "threads", "neurons": neurons, "fanout": fanout, "ticks": ticks,
            "spikes": int(spikes[1].sum()),
            "seconds_1": round(min(times[1]), 4), "seconds_2": round(min(times[2]), 4),
            "median_1": round(statistics.median(times[1]), 4),
            "median_2": round(statistics.median(times[2]), 4),
            "all_1": [round(t, 4) for t in times[1]], "all_2": [round(t, 4) for t in times[2]],
            "speedup": round(min(times[1]) / min(times[2]), 3),
            "load_average": os.getloadavg()[0]}


def rank_worker(neurons: int, fanout: int, ticks: int) -> None:
    """One rank of an MPI measurement (run under mpiexec by ``mpi``)."""
    from mpi4py import MPI

    from neurochip.hardware.partitioned import run_own_partition
    from neurochip.hardware.partitions import split_cores

    comm = MPI.COMM_WORLD
    spec, slots, k = scale_spec(neurons, fanout)
    mine = split_cores(slots, comm.size).cores(comm.rank)
    made = {int(c): scale_core(int(c), spec, slots, k, fanout) for c in mine}
    axons = np.array([slots[(c - np.arange(k)) % spec.n_cores].sum()
                      for c in range(spec.n_cores)])
    state = LifState(*[np.concatenate([getattr(made[c][1], name) for c in sorted(made)])
                       for name in ("i", "v", "theta", "ref")])
    configs = {c: config for c, (config, _) in made.items()}
    from neurochip.hardware import mpi_run

    sent = []
    original = mpi_run.MpiTransport.exchange

    def counted(self, pieces):
        result = original(self, pieces)
        sent.append(self.sent_bytes)
        return result

    mpi_run.MpiTransport.exchange = counted
    from firmware_models import MODELS

    run_own_partition(spec, MODELS["lif"], configs, slots, axons, state, 2, comm)  # warm
    comm.Barrier()
    began = time.perf_counter()
    traces, _ = run_own_partition(spec, MODELS["lif"], configs, slots, axons, state, ticks,
                                  comm)
    seconds = time.perf_counter() - began
    per_tick = (sent[-1] - sent[1]) / ticks if len(sent) > 2 else 0.0
    spikes = comm.allreduce(int(traces["spikes"].sum()))
    row = {"kind": "mpi", "ranks": comm.size, "rank": comm.rank, "neurons": neurons,
           "fanout": fanout, "ticks": ticks, "spikes": spikes, "seconds": round(seconds, 4),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                 1),
           "bytes_sent_per_tick": round(per_tick, 1)}
    rows = comm.gather(json.dumps(row))
    if comm.rank == 0:
        print("\n".join(rows))


def mpi(neurons: int, fanout: int, ticks: int, ranks: list[int]) -> list[dict]:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    rows = []
    for n in ranks:
        done = subprocess.run([str(mpiexec), "-n", str(n), sys.executable, __file__,
                               "--rank-worker", "--neurons", str(neurons), "--fanout",
                               str(fanout), "--ticks", str(ticks)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout, done.stderr)
            raise SystemExit(f"mpiexec -n {n} failed")
        found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        for row in found:
            print(f"  {n} rank(s), rank {row['rank']}: {row['seconds']:.3f} s, peak "
                  f"{row['peak_rss_mib']} MiB, {row['bytes_sent_per_tick']:.0f} B/tick sent")
        rows.extend(found)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fanout-large", type=int, default=20)
    parser.add_argument("--ranks", default="1,2,4")
    parser.add_argument("--skip", default="", help="threads-1e5, threads-1e6, mpi")
    parser.add_argument("--rank-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--neurons", type=int, default=10 ** 6, help=argparse.SUPPRESS)
    parser.add_argument("--fanout", type=int, default=20, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank_worker:
        rank_worker(args.neurons, args.fanout, args.ticks)
        return
    rows = []
    if "threads-1e5" not in args.skip:
        rows.append(threads(10 ** 5, 100, args.ticks, args.repeat))
    if "threads-1e6" not in args.skip:
        rows.append(threads(10 ** 6, args.fanout_large, max(args.ticks // 4, 10),
                            args.repeat))
    if "mpi" not in args.skip:
        rows.extend(mpi(10 ** 6, args.fanout_large, max(args.ticks // 4, 10),
                        [int(r) for r in args.ranks.split(",")]))
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
