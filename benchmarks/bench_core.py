"""Emulator speed on one core: the benchmark network (100 random synapses per neuron, ~27 Hz) at 1,000 and 10,000 neurons.

The network is ``neurochip.lab.examples.random_network``: each neuron has 100 random
synapses (its spikes reach 100 random slots through one routing entry to its own axon,
delay 1 tick), a DC bias that makes it fire every ~40 ticks on its own (about 25 Hz at
dt = 1 ms) and random initial membranes; weak random weights perturb the rhythm. Events
are counted as spikes × fan-out (synaptic events).

    python benchmarks/bench_core.py [--sizes 1000,10000] [--ticks 1000]
                                    [--backends numpy,compiled]
                                    [--dialect lif|loihi|xylo]

``--dialect loihi`` runs the same connectivity on a Loihi core (``dialect_spec``: 24-bit
registers, ``du = 4095`` so that ``u`` is each tick's input, no leak on ``v``, a bias
``100 << 4`` against the threshold ``1000 << 6``: the same 40-tick period).
``--dialect xylo`` runs it on a Xylo core with the parameters of docs/dialect-xylo.md's
speed figure (every weight onto ``isyn1``, ``dash_syn1 = 3``, ``dash_mem = 5``, threshold
1000, bias 32, the same initial membranes); spikes are the spike counts.

prints a line per size and backend and, last, one JSON object per size and backend with
keys ``neurons, fanout, ticks, spikes, events, seconds, events_per_s, backend``. Each
backend is warmed up first (its first call, which loads or compiles numba code, is
printed separately and not counted).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from firmware_models.loihi import LoihiParams, LoihiState
from firmware_models.loihi.kernel import VTH_SHIFT
from firmware_models.xylo import XyloParams, XyloState
from neurochip import Core, CoreSpec, RoutingTable, SynapseMemory
from neurochip.compiler.dialects import dialect_spec
from neurochip.lab.examples import random_network

PERIOD_TICKS = 40  # free-running period of the bias drive: 25 Hz at 1 ms ticks


def build(n: int, fanout: int = 100, seed: int = 0, dialect: str = "lif") -> Core:
    """``examples.random_network`` on one core: neuron j's spikes reach its own axon j,
    whose row holds its synapses."""
    net, state = random_network(n, fanout, PERIOD_TICKS, seed)
    spec = CoreSpec(n_slots=n, n_axons=n, synapse_words=n * fanout, routing_entries=n,
                    max_fanout=1)
    synapses = SynapseMemory.from_lists(n, net.pre, net.post, net.w)
    routes = RoutingTable.from_lists(n, np.arange(n), np.arange(n), delay=1)
    if dialect == "loihi":
        threshold = 1000 << VTH_SHIFT
        params = LoihiParams.make(n, du=4095, dv=0, bias_mant=100, bias_exp=4, vth=1000)
        core = Core(dialect_spec("loihi", spec), params, synapses, routes)
        core.state = LoihiState(np.zeros(n, np.int64), state.v * threshold // 1000)
        return core
    if dialect == "xylo":
        params = XyloParams.make(n, dash_syn1=3, dash_mem=5, threshold=1000, bias=32)
        core = Core(dialect_spec("xylo", spec), params, synapses, routes)
        zeros = np.zeros(n, np.int64)
        core.state = XyloState(zeros, zeros, state.v)
        return core
    core = Core(spec, net.params, synapses, routes)
    core.state = state
    return core


def warm_up(backend: str, dialect: str = "lif") -> float:
    """First call of a backend in this process (numba loads or compiles its code)."""
    start = time.perf_counter()
    build(64, 10, dialect=dialect).run(10, backend=backend)
    return time.perf_counter() - start


def measure(n: int, ticks: int, backend: str, fanout: int = 100, dialect: str = "lif") -> dict:
    core = build(n, fanout, dialect=dialect)
    start = time.perf_counter()
    recording = core.run(ticks, backend=backend)
    seconds = time.perf_counter() - start
    spikes = int(recording.spikes.sum())
    events = spikes * fanout
    return {"neurons": n, "fanout": fanout, "ticks": ticks, "spikes": spikes,
            "events": events, "seconds": round(seconds, 4),
            "events_per_s": round(events / seconds), "backend": backend,
            "rate_hz": round(spikes / n / ticks * 1e3, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--backends", default="numpy,compiled")
    parser.add_argument("--dialect", choices=("lif", "loihi", "xylo"), default="lif")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for backend in args.backends.split(","):
        print(f"{backend}: first call in this process (load or compile) "
              f"{warm_up(backend, args.dialect):.2f} s")
        results += [measure(n, args.ticks, backend, dialect=args.dialect) for n in sizes]
    brian2_cython = 3.8e7  # Brian2 2.9 cython runtime, 1,000 neurons, measured on this 2-core machine (docs/performance.md)
    for r in results:
        print(f"{r['backend']:>8} {r['neurons']:>7} neurons: {r['spikes']} spikes "
              f"({r['rate_hz']} Hz), "
              f"{r['events']:.3g} events in {r['seconds']:.3f} s = "
              f"{r['events_per_s']:.3g} events/s "
              f"({r['events_per_s'] / brian2_cython:.2f}× Brian2 cython)")
    for r in results:
        print(json.dumps({key: r[key] for key in ("neurons", "fanout", "ticks", "spikes",
                                                  "events", "seconds", "events_per_s",
                                                  "backend")}))


if __name__ == "__main__":
    main()
