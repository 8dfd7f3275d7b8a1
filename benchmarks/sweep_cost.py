"""How cost grows with work: sweep firing rate and fan-out on a fixed 4×4 mesh.

The rate is the free-running rate its bias sets (recurrent input adds to it; the
measured rate is printed). For each point the built-in random network (``neurochip.lab.examples``) runs with timing
on; the script prints, and plots against rate and against fan-out, the estimated chip
cost (cycles per tick, synaptic events per second at the preset's clock) and the
emulator's own wall time.

    python benchmarks/sweep_cost.py [--neurons 2000] [--ticks 200] [--out sweep_cost.png]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from neurochip.hardware.energy import PRESETS
from neurochip.lab.throughput import estimate_example

RATES_HZ = (5, 10, 25, 50, 100)
FANOUTS = (10, 30, 100, 300)


def point(neurons: int, fanout: int, rate: float, ticks: int) -> dict:
    preset = PRESETS["reference"]
    start = time.perf_counter()
    report, _ = estimate_example(neurons=neurons, fanout=fanout, period=round(1000 / rate),
                                 mesh=(4, 4), ticks=ticks, dt_s=1e-3, timing=preset.timing,
                                 energy=preset.energy, clock_hz=preset.clock_hz)
    wall = time.perf_counter() - start
    return {"rate_hz": rate, "fanout": fanout, "spikes": report.spikes,
            "measured_rate_hz": report.spikes / neurons / (ticks * 1e-3),
            "synaptic_events": report.synaptic_events,
            "mean_cycles_per_tick": report.cycles_total / ticks,
            "chip_events_per_s": report.synaptic_events_per_s,
            "energy_per_event_pj": report.energy_per_synaptic_event_j * 1e12,
            "emulator_seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=2000)
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--out", default="sweep_cost.png")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    if os.path.exists(args.out) and not args.force:
        sys.exit(f"{args.out} exists; pass --force to overwrite it")
    by_rate = [point(args.neurons, 100, rate, args.ticks) for rate in RATES_HZ]
    by_fanout = [point(args.neurons, fanout, 25, args.ticks) for fanout in FANOUTS]
    print(f"{'rate Hz':>8} {'measured':>9} {'fan-out':>8} {'cycles/tick':>12} "
          f"{'chip events/s':>14} {'pJ/event':>9} {'emulator s':>11}")
    for p in by_rate + by_fanout:
        print(f"{p['rate_hz']:>8} {p['measured_rate_hz']:>9.1f} {p['fanout']:>8} "
              f"{p['mean_cycles_per_tick']:>12.1f} "
              f"{p['chip_events_per_s']:>14.3g} {p['energy_per_event_pj']:>9.1f} "
              f"{p['emulator_seconds']:>11.3f}")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    for column, (points, key, label) in enumerate(((by_rate, "rate_hz", "free-running firing rate (Hz)"),
                                                   (by_fanout, "fanout", "fan-out"))):
        x = [p[key] for p in points]
        axes[0, column].plot(x, [p["mean_cycles_per_tick"] for p in points], "o-")
        axes[0, column].set_ylabel("chip cycles per tick")
        axes[1, column].plot(x, [p["emulator_seconds"] for p in points], "o-", color="C3")
        axes[1, column].set_ylabel(f"emulator wall time (s, {args.ticks} ticks)")
        axes[1, column].set_xlabel(label)
        for ax in axes[:, column]:
            ax.set_xscale("log")
            ax.set_yscale("log")
    fig.suptitle(f"cost growth: {args.neurons} neurons on a 4×4 mesh, timing on")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"plot: {os.path.abspath(args.out)}")
    print(json.dumps({"by_rate": by_rate, "by_fanout": by_fanout}))


if __name__ == "__main__":
    main()
