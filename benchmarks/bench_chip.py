"""Emulator speed on a 16-core chip: 10,000 neurons, 100 synapses each, timing on and off.

The network is ``neurochip.lab.examples.random_network`` (about 25 Hz at 1 ms ticks),
placed in contiguous blocks on a 4×4 mesh; each neuron reaches up to 16 cores, one
packet per destination core. Events are counted as spikes × fan-out (synaptic events).

    python benchmarks/bench_chip.py [--neurons 10000] [--ticks 1000] [--timing packets]

prints a line per configuration and, last, one JSON object per configuration with keys
``cores, neurons, fanout, ticks, spikes, events, seconds, events_per_s, timing, backend``
(``timing``: false, ``"totals"`` or ``"packets"``, what ``Chip.run(..., timing=)`` kept).
Each backend is warmed up first; its first call is printed separately. Timing off and
on run alternately, ``--repeat`` times each (a freshly built chip each time), and each
reports its fastest run, as ``timeit`` does: on a shared machine the slower runs
measure the neighbours (and where the memory of the run landed); every run's time is
printed too.
"""

from __future__ import annotations

import argparse
import json
import time

from neurochip import CoreSpec
from neurochip.hardware.chip import ChipSpec
from neurochip.lab.examples import random_network, sequential_placement
from neurochip.compiler.placement import place


def build(neurons: int, fanout: int, width: int = 4, height: int = 4):
    net, state = random_network(neurons, fanout)
    core = CoreSpec(n_slots=1024, n_axons=16384, synapse_words=1 << 18,
                    routing_entries=1 << 15, max_fanout=width * height)
    spec = ChipSpec(width, height, core=core)
    chip, _ = place(net, sequential_placement(neurons, spec.n_cores), spec)
    # the placement is contiguous, so global slot j is neuron j
    chip.state = state
    return chip


def warm_up(backend: str, timing: bool) -> float:
    """First call of a backend in this process (numba loads or compiles its code)."""
    start = time.perf_counter()
    build(64, 10).run(10, timing=timing, backend=backend)
    return time.perf_counter() - start


def measure(neurons: int, fanout: int, ticks: int, backend: str, repeat: int,
            mode: str = "totals") -> list[dict]:
    """Timing off and on (``mode``: ``Chip.run``'s ``timing="totals"`` or
    ``"packets"``), alternately, ``repeat`` times each (a fresh chip every run, so both
    see the same conditions); the fastest run of each is reported."""
    times = {False: [], True: []}
    for _ in range(repeat):
        for timing in (False, True):
            chip = build(neurons, fanout)
            start = time.perf_counter()
            recording = chip.run(ticks, timing=mode if timing else False, backend=backend)
            times[timing].append(time.perf_counter() - start)
            spikes = int(recording.spikes.sum())
            cycles = (sum(t.cycles for t in recording.timing) / ticks) if timing else None
    results = []
    for timing in (False, True):
        seconds = min(times[timing])
        results.append({
            "cores": chip.spec.n_cores, "neurons": neurons, "fanout": fanout, "ticks": ticks,
            "spikes": spikes, "events": spikes * fanout, "seconds": round(seconds, 4),
            "events_per_s": round(spikes * fanout / seconds),
            "timing": mode if timing else False,
            "backend": backend, "all_seconds": [round(s, 4) for s in times[timing]],
            "mean_cycles_per_tick": cycles if timing else None})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=10000)
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--backends", default="numpy,compiled")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per configuration; the fastest is reported (3)")
    parser.add_argument("--timing", default="totals", choices=("totals", "packets"),
                        help="what timing on keeps (Chip.run's timing=): totals (default) "
                             "or every packet's record")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        for timing in (False, True):
            print(f"{backend}, timing {'on' if timing else 'off'}: first call in this process "
                  f"{warm_up(backend, timing):.2f} s")
        results += measure(args.neurons, args.fanout, args.ticks, backend, args.repeat,
                           args.timing)
    for r in results:
        print(f"{r['backend']:>8}, timing {r['timing'] or 'off'}: {r['spikes']} "
              f"spikes, {r['events']:.3g} events in {r['seconds']:.3f} s = "
              f"{r['events_per_s']:.3g} events/s (runs: "
              f"{', '.join(f'{s:.3f}' for s in r['all_seconds'])} s)")
    for off, on in zip(results[::2], results[1::2]):
        print(f"{off['backend']}: timing on costs {on['seconds'] / off['seconds']:.2f}× the "
              f"run time without it")
    for r in results:
        print(json.dumps({key: r[key] for key in ("cores", "neurons", "fanout", "ticks",
                                                  "spikes", "events", "seconds",
                                                  "events_per_s", "timing", "backend")}))


if __name__ == "__main__":
    main()
