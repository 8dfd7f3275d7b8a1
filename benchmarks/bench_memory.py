"""Memory of a large network: 1,000,000 neurons with 100 synapses each on one core.

Builds the benchmark network of ``bench_core.py`` at the given size, runs it with the
compiled backend, and prints the peak resident memory of the process, the bytes the
emulator holds per synapse and per neuron, and the time of each step.

    python benchmarks/bench_memory.py [--neurons 1000000] [--ticks 100]

The last line is one JSON object with keys
``neurons, synapses, build_s, run_s, spikes, peak_rss_bytes, bytes_per_synapse,
bytes_per_neuron``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from bench_core import build


def held_bytes(core) -> tuple[int, int]:
    """Bytes of the per-synapse and per-neuron arrays the core keeps."""
    from neurochip.hardware.compiled import fixed_tables

    e = core.engine
    fixed = fixed_tables(e)  # kept by the compiled backend while the engine lives
    per_synapse = e.synapses.slot.nbytes + e.synapses.w.nbytes + e.delivery.pairs.nbytes
    state = sum(getattr(e.state, name).nbytes for name in ("i", "v", "theta", "ref"))
    params = sum(np.asarray(v).nbytes for v in vars(e.params).values()
                 if isinstance(v, np.ndarray))
    per_neuron = (state + params + e.synapses.row_start.nbytes + e.synapses.w_exp.nbytes
                  + e.delivery.offset.nbytes + e.delivery.length.nbytes
                  + e.entry_start.nbytes + e.entry_axon.nbytes + e.entry_delay.nbytes
                  + fixed.axon_rows.nbytes + fixed.entry_words.nbytes)
    return per_synapse, per_neuron


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=100)
    args = parser.parse_args()
    build(64, 10).run(5, backend="compiled")  # load the compiled code first
    start = time.perf_counter()
    core = build(args.neurons, args.fanout)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    recording = core.run(args.ticks, backend="compiled")
    run_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    synapse_bytes, neuron_bytes = held_bytes(core)
    synapses = args.neurons * args.fanout
    result = {"neurons": args.neurons, "synapses": synapses, "build_s": round(build_s, 2),
              "run_s": round(run_s, 2), "spikes": int(recording.spikes.sum()),
              "peak_rss_bytes": peak, "bytes_per_synapse": round(synapse_bytes / synapses, 2),
              "bytes_per_neuron": round(neuron_bytes / args.neurons, 2)}
    print(f"{args.neurons:,} neurons, {synapses:,} synapses: built in {build_s:.1f} s, "
          f"{args.ticks} ticks in {run_s:.1f} s ({result['spikes']:,} spikes)")
    print(f"peak resident memory {peak / 2**30:.2f} GiB; the core holds "
          f"{result['bytes_per_synapse']} bytes per synapse and {result['bytes_per_neuron']} "
          f"bytes per neuron")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
