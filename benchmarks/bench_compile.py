"""Compile a large random netlist: 100,000 neurons and 10,000,000 synapses.

One population of LIF neurons with a fixed fan-in of 100 random presynaptic neurons,
compiled onto a mesh of 1,024-slot cores. Prints the time of each step and the peak
resident memory; the last line is one JSON object with keys
``neurons, synapses, cores, expand_s, compile_s, peak_rss_bytes``.

    python benchmarks/bench_compile.py [--neurons 100000] [--fan-in 100] [--mesh 10x10]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from neurochip import CoreSpec
from neurochip.hardware.chip import ChipSpec
from neurochip.compiler.pipeline import compile_netlist
from neurochip.formats.netlist import expand, netlist_from_dict


def netlist(neurons: int, fan_in: int) -> dict:
    return {"format": "neurochip-netlist", "version": 1, "dt": 0.001, "duration": 0.1,
            "populations": {"all": {"model": "lif", "size": neurons, "params": {
                "C": 160e-12, "g_L": 10e-9, "tau_syn": 0.004, "T_ref": 0.002,
                "I_bias": 0.21e-9}}},
            "projections": [{"pre": "all", "post": "all", "delay": 0.001, "connectivity": {
                "type": "fixed_fan_in", "n": fan_in,
                "weight": {"mean": 1e-11, "std": 2e-11}, "seed": 1}}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100_000)
    parser.add_argument("--fan-in", type=int, default=100)
    parser.add_argument("--mesh", default="10x10")
    parser.add_argument("--partitioner", default="greedy")
    args = parser.parse_args()
    width, height = (int(x) for x in args.mesh.split("x"))
    cores = width * height
    per_core = -(-args.neurons // cores)
    start = time.perf_counter()
    expanded = expand(netlist_from_dict(netlist(args.neurons, args.fan_in)))
    expand_s = time.perf_counter() - start
    spec = ChipSpec(width, height, core=CoreSpec(
        n_slots=1024, n_axons=1 << 20, synapse_words=1 << 24, routing_entries=1 << 20,
        max_fanout=cores, ref_bits=6))
    start = time.perf_counter()
    compiled = compile_netlist(expanded, spec, partitioner=args.partitioner)
    compile_s = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    synapses = int(expanded.pre.size)
    print(f"{args.neurons:,} neurons, {synapses:,} synapses on {cores} cores "
          f"(≤ {per_core} neurons each): expand {expand_s:.1f} s, compile {compile_s:.1f} s, "
          f"peak memory {peak / 2**30:.2f} GiB")
    print(f"partition: {compiled.report.inter_core_entries:,} inter-core routing entries "
          f"(blocks: {compiled.report.inter_core_entries_sequential:,})")
    print(json.dumps({"neurons": args.neurons, "synapses": synapses, "cores": cores,
                      "expand_s": round(expand_s, 2), "compile_s": round(compile_s, 2),
                      "peak_rss_bytes": peak}))


if __name__ == "__main__":
    main()
