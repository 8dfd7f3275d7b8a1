"""A precision-lab sweep on a Dask cluster against the serial sweep.

32 configurations (8 membrane widths × 2 rounding modes × 2 weight widths) of one
network (by default a balanced excitatory/inhibitory network of ``--neurons`` LIF
neurons, 80 % excitatory, a fan-in of 50 from each population and Poisson input, for
``--ticks`` ticks of 1 ms; or ``--netlist FILE``) through
``neurochip.lab.compare.compare``: in this process, then on a ``LocalCluster`` of
``--workers`` worker processes, then of worker threads (which share this process's
GIL), alternating, ``--repeats`` times. Per cluster it times the start, the first sweep
(each worker imports neurochip and loads the compiled kernel from numba's disk cache on
its first task), a second sweep on the warm cluster, and the close; "end to end" is
start + first sweep + close, what ``neurochip compare --workers N`` adds up to. Every
Dask sweep is checked to equal the serial one (every number, same order).

    python benchmarks/bench_sweep.py [--workers 2] [--repeats 3] [--neurons 1000]
                                     [--ticks 500] [--netlist FILE]

Prints a table of min/median seconds and speedups over serial; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

V_BITS = (6, 8, 10, 12, 14, 16, 20, 24)
ROUNDING = ("floor", "nearest")
W_BITS = (6, 8)


LIF = {"C": 160e-12, "g_L": 10e-9, "E_L": -0.07, "V_th": -0.05, "V_reset": -0.065,
       "T_ref": 0.002, "tau_syn": 0.004, "reset": "value"}


def network(neurons: int, ticks: int):
    """The default network: ``neurons`` LIF neurons (80 % excitatory), each with 50
    synapses from either population and 100 Poisson inputs at 10 Hz, ``ticks`` of 1 ms."""
    from neurochip.formats.netlist import expand, netlist_from_dict

    n_exc = neurons * 4 // 5
    sizes = {"exc": n_exc, "inh": neurons - n_exc}
    weights = {"exc": {"mean": 30e-12, "std": 6e-12}, "inh": {"low": -120e-12, "high": -80e-12}}
    return expand(netlist_from_dict({
        "format": "neurochip-netlist", "version": 1, "dt": 1e-3, "duration": ticks * 1e-3,
        "seed": 1,
        "populations": {name: {"model": "lif", "size": size, "params": LIF}
                        for name, size in sizes.items()},
        "projections": [{"pre": pre, "post": post, "delay": 1e-3,
                         "connectivity": {"type": "fixed_fan_in", "n": 50,
                                          "weight": weights[pre], "seed": 10 + k}}
                        for k, (pre, post) in enumerate((a, b) for a in sizes for b in sizes)],
        "inputs": [{"kind": "poisson", "target": name, "rate": 10.0, "weight": 60e-12,
                    "seed": 7 + k, "fan_in": 100} for k, name in enumerate(sizes)]}))


def configs() -> list[dict]:
    from neurochip.lab.compare import sweep

    return sweep(v_bits=V_BITS, w_bits=W_BITS, rounding=ROUNDING)


def serial(ex, ticks: int) -> tuple[float, float, list[dict]]:
    """Wall and CPU seconds of the serial sweep, and its results."""
    from neurochip.lab.compare import compare

    start, cpu = time.perf_counter(), time.process_time()
    results = compare(ex, configs(), ticks=ticks, keep_traces=False)
    return (time.perf_counter() - start, time.process_time() - cpu,
            [r.to_dict() for r in results])


def cpu_seconds(client, processes: bool) -> float:
    """CPU seconds used so far by this process and, with worker processes, by them."""
    used = time.process_time()
    if processes:
        used += sum(client.run(time.process_time).values())
    return used


def on_cluster(ex, ticks: int, workers: int, processes: bool, expected: list[dict]) -> dict:
    """Seconds to start a LocalCluster, run the sweep twice on it (wall, and CPU of this
    process and the worker processes), and close it."""
    from neurochip.lab.compare import compare, dask_client

    times = {}
    start = time.perf_counter()
    with dask_client(workers=workers, processes=processes) as client:
        times["start"] = time.perf_counter() - start
        for name in ("first", "warm"):
            begin, cpu = time.perf_counter(), cpu_seconds(client, processes)
            results = compare(ex, configs(), ticks=ticks, keep_traces=False, client=client)
            times[name] = time.perf_counter() - begin
            times[name + "_cpu"] = cpu_seconds(client, processes) - cpu
            if [r.to_dict() for r in results] != expected:
                sys.exit(f"the {'process' if processes else 'thread'} sweep differs from "
                         f"the serial one")
        closing = time.perf_counter()
    times["close"] = time.perf_counter() - closing
    times["end_to_end"] = times["start"] + times["first"] + times["close"]
    return times


def summary(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "all": values}


PARTS = ("start", "first", "first_cpu", "warm", "warm_cpu", "close", "end_to_end")


def print_report(report: dict) -> None:
    serial_s, serial_cpu = report["serial_s"], report["serial_cpu_s"]
    print(f"{report['runs']} runs of {report['network']} ({report['neurons']} neurons, "
          f"{report['ticks']} ticks), {report['workers']} workers, {report['repeats']} "
          f"repeats; seconds, min and median")
    print(f"{'serial':<28} {serial_s['min']:>7.2f} {serial_s['median']:>7.2f}")
    print(f"{'serial: CPU':<28} {serial_cpu['min']:>7.2f} {serial_cpu['median']:>7.2f}")
    for kind in ("processes", "threads"):
        for part in PARTS:
            s = report[kind][part + "_s"]
            line = f"{kind + ': ' + part.replace('_', ' '):<28} {s['min']:>7.2f} " \
                   f"{s['median']:>7.2f}"
            if part + "_speedup" in report[kind]:
                line += f"   speedup {report[kind][part + '_speedup']:.2f}x (medians)"
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netlist", help="a netlist file instead of the default network")
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=500,
                        help="ticks per run (500; with --netlist: its duration)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from neurochip.lab.compare import expanded_network

    ex = expanded_network(args.netlist) if args.netlist else network(args.neurons, args.ticks)
    ticks = min(args.ticks, ex.ticks)
    serial(ex, min(ticks, 20))   # this process loads (or compiles) the kernel once
    runs = {"serial": [], "serial_cpu": [], "processes": [], "threads": []}
    for _ in range(args.repeats):   # alternate, so that load on the machine hits all alike
        seconds, cpu, expected = serial(ex, ticks)
        runs["serial"].append(seconds)
        runs["serial_cpu"].append(cpu)
        for kind in ("processes", "threads"):
            runs[kind].append(on_cluster(ex, ticks, args.workers, kind == "processes",
                                         expected))
    report = {"network": Path(args.netlist).name if args.netlist else "the balanced network",
              "neurons": ex.n, "ticks": ticks, "runs": len(configs()),
              "workers": args.workers, "repeats": args.repeats,
              "serial_s": summary(runs["serial"]), "serial_cpu_s": summary(runs["serial_cpu"])}
    for kind in ("processes", "threads"):
        report[kind] = {part + "_s": summary([t[part] for t in runs[kind]]) for part in PARTS}
        for part in ("warm", "end_to_end"):
            report[kind][part + "_speedup"] = \
                report["serial_s"]["median"] / report[kind][part + "_s"]["median"]
    print_report(report)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
