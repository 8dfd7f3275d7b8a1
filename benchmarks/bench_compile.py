"""Compile a large random netlist: by default 100,000 neurons and 10,000,000 synapses.

One population of LIF neurons with a fixed fan-in of 100 random presynaptic neurons
(one seeded rule), expanded and compiled onto a mesh of cores with ``--slots`` slots
each (default: 1,024, or an even share of the neurons when that is more). Prints the
time of each step, the peak resident memory of this process (``getrusage(RUSAGE_SELF)
.ru_maxrss``: the whole process, the interpreter and its imports included) and that
peak per synapse; the last line is one JSON object with keys ``neurons, synapses,
seconds, peak_bytes`` (wall seconds of expand and compile; and ``cores, slots,
expand_s, compile_s, cpu_s`` (user and system CPU seconds of both), ``bytes_per_synapse,
import_bytes`` (the peak before the netlist is loaded)).

    python benchmarks/bench_compile.py [--neurons 100000] [--fan-in 100] [--mesh 10x10]
    python benchmarks/bench_compile.py --neurons 1000000 --mesh 2x2

Run it in a fresh process for each size: the peak is the process's.
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


def chip_spec(neurons: int, fan_in: int, width: int, height: int, slots: int | None
              ) -> ChipSpec:
    """Cores roomy enough for the network: every neuron's row on every core, twice an
    even share of the synapse words, an entry per core for every slot."""
    cores = width * height
    slots = slots or max(1024, -(-neurons // cores))
    return ChipSpec(width, height, core=CoreSpec(
        n_slots=slots, n_axons=max(1 << 20, neurons),
        synapse_words=max(1 << 24, 2 * neurons * fan_in // cores),
        routing_entries=max(1 << 20, slots * min(cores, fan_in)), max_fanout=cores,
        ref_bits=6))


def peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: KiB


def cpu_seconds() -> float:
    """User and system CPU time of this process so far (the machine may be shared: wall
    time then counts the waits for a core, CPU time does not)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=100_000)
    parser.add_argument("--fan-in", type=int, default=100)
    parser.add_argument("--mesh", default="10x10")
    parser.add_argument("--slots", type=int, default=None)
    parser.add_argument("--partitioner", default="greedy")
    args = parser.parse_args()
    width, height = (int(x) for x in args.mesh.split("x"))
    spec = chip_spec(args.neurons, args.fan_in, width, height, args.slots)
    import_bytes = peak_bytes()
    cpu = cpu_seconds()
    start = time.perf_counter()
    expanded = expand(netlist_from_dict(netlist(args.neurons, args.fan_in)))
    expand_s = time.perf_counter() - start
    start = time.perf_counter()
    compiled = compile_netlist(expanded, spec, partitioner=args.partitioner)
    compile_s = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    peak = peak_bytes()
    synapses = int(expanded.pre.size)
    cores = spec.n_cores
    print(f"{args.neurons:,} neurons, {synapses:,} synapses on {cores} cores of "
          f"{spec.core.n_slots:,} slots: expand {expand_s:.1f} s, compile {compile_s:.1f} s "
          f"({cpu:.1f} s of CPU)")
    print(f"peak memory {peak / 2**30:.2f} GiB ({import_bytes / 2**30:.2f} GiB before the "
          f"netlist), {peak / max(synapses, 1):.1f} bytes per synapse")
    print(f"partition: {compiled.report.inter_core_entries:,} inter-core routing entries "
          f"(blocks: {compiled.report.inter_core_entries_sequential:,})")
    print(json.dumps({"neurons": args.neurons, "synapses": synapses,
                      "seconds": round(expand_s + compile_s, 2), "peak_bytes": peak,
                      "cores": cores, "slots": spec.core.n_slots,
                      "expand_s": round(expand_s, 2), "compile_s": round(compile_s, 2),
                      "cpu_s": round(cpu, 2),
                      "bytes_per_synapse": round(peak / max(synapses, 1), 1),
                      "import_bytes": import_bytes}))


if __name__ == "__main__":
    main()
