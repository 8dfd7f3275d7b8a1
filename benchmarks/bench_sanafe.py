"""neurochip's ``sanafe-loihi`` preset side by side with SANA-FE on the same networks.

SANA-FE (Boyle et al., TCAD 2025; ``pip install sanafe==2.2.9``, the ``sanafe`` extra) is
the closest peer for chip time and energy. Both tools run the same networks with the
same per-operation costs (SANA-FE's ``arch/loihi.yaml``, neurochip's ``sanafe-loihi``
preset built from it: docs/throughput.md):

* SANA-FE's random-network grid, generated exactly as ``create_random_network`` of its
  ``scripts/tcad2025/random_network.py`` does (cores × neurons per core × messages per
  neuron × spike percentage, ``spikes_per_message`` synapses per message, threshold 64,
  bias 128 on the neurons that spike, weight 128, ``force_update``, neurons on cores in
  blocks), on SANA-FE's own Loihi architecture (8×4 tiles of 4 cores);
* a three-layer feed-forward net driven by biased neurons of its first layer.

Each tool runs the first half of the ticks (SANA-FE with its spike trace), then the
second half timed (SANA-FE without traces: its perf trace alone costs ~10 ms a tick);
energy and latency per tick are the second half's totals over its ticks (both tools are
in steady state by then), spikes are compared over the first half.

neurochip places SANA-FE's core ``k`` (tile ``k // 4``, tile ``t`` at column ``t // 4``,
row ``t % 4``) at cores ``(2 tx + k % 2, 2 ty + k % 4 // 2)`` of its mesh: a tile is a
2×2 block of cores, as the preset's sync table counts them. The LIF is the same integer
program on both (no leak, input current cleared every tick, hard reset to 0; SANA-FE
fires above its threshold, neurochip at ``v_th = threshold + 1``), so the spike trains
are compared spike for spike.

Per network it prints SANA-FE's and neurochip's energy and latency per tick, their
ratio (neurochip / SANA-FE), each tool's wall time per simulated tick (SANA-FE
``chip.sim`` with its ``detailed`` timing model on one thread; neurochip
``Chip.run(timing="totals")``, compiled backend, one thread, kernels compiled before),
and whether the spikes agree; a column ``ovl.`` recombines neurochip's own per-core counts
the way SANA-FE's timing model does (receive and send at once, 30 ns per spike) to show
where the latency ratio comes from; the last lines are one
JSON object per network ``{"network", "energy_ratio", "latency_ratio", "speedup"}``.

    python benchmarks/bench_sanafe.py [--ticks 100] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass

import numpy as np

from firmware_models.lif import LifParams

from neurochip.compiler.placement import Network, place
from neurochip.hardware.chip import ChipSpec
from neurochip.hardware.energy import PRESETS
from neurochip.hardware.spec import CoreSpec
from neurochip.lab.throughput import summarise

THRESHOLD = 64      # random_network.py
BIAS = 128
WEIGHT = 128
SPIKES_PER_MESSAGE = 4
SPIKE_OUT_S = 30.0e-9   # loihi.yaml l.48 latency_spike_out: no term of neurochip's model
# (cores, neurons per core, messages per neuron, spike percentage); messages <= cores
GRID = [(c, n, m, p) for c in (1, 4, 16) for n in (64, 256) for m in (1, 4) for p in (10, 50)
        if m <= c]
QUICK_GRID = [(1, 64, 1, 50), (4, 256, 4, 10), (16, 256, 4, 50)]


@dataclass(frozen=True)
class Net:
    """A network both tools build: neurons on SANA-FE cores, synapses, biases."""

    name: str
    core_of: np.ndarray   # SANA-FE core of every neuron
    bias: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    force_update: bool


def random_grid_net(cores: int, per_core: int, messages: int, percent: int) -> Net:
    """``create_random_network`` of random_network.py, draw for draw (Python's random,
    its seed rule), returning the synapses instead of building them."""
    seed = (cores * per_core * messages * SPIKES_PER_MESSAGE * percent) % 2 ** 31
    rng = random.Random(seed)
    n = cores * per_core
    bias = np.zeros(n, dtype=np.int64)
    pre, post = [], []
    for j in range(n):
        if rng.random() >= percent / 100:
            continue
        bias[j] = BIAS
        for c in rng.sample(range(cores), messages):
            for d in rng.sample(range(per_core), SPIKES_PER_MESSAGE):
                pre.append(j)
                post.append(c * per_core + d)
    return Net(f"random c{cores} n{per_core} m{messages} p{percent}",
               np.arange(n) // per_core, bias, np.array(pre, dtype=np.int64),
               np.array(post, dtype=np.int64), np.full(len(pre), WEIGHT), True)


def feed_forward_net(sizes=(512, 256, 64), per_core=128, fan_in=48, seed=1) -> Net:
    """Layers of ``sizes``; the first fires on its own (bias 4..40: every 2..17 ticks),
    each later neuron has ``fan_in`` random inputs of weight 4..28 from the layer before."""
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    bias = np.zeros(starts[-1], dtype=np.int64)
    bias[:sizes[0]] = rng.integers(4, 41, sizes[0])
    pre, post = [], []
    for layer in range(1, len(sizes)):
        for j in range(starts[layer], starts[layer + 1]):
            pre.append(rng.choice(np.arange(starts[layer - 1], starts[layer]), fan_in,
                                  replace=False))
            post.append(np.full(fan_in, j))
    pre, post = np.concatenate(pre), np.concatenate(post)
    core_of = np.concatenate([starts[k] // per_core + np.arange(s) // per_core
                              for k, s in enumerate(sizes)])
    return Net(f"feed-forward {'-'.join(map(str, sizes))}", core_of, bias, pre, post,
               rng.integers(4, 29, pre.size), False)


def neurochip_core(sanafe_core: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Mesh position of SANA-FE cores (a tile = a 2×2 block): core index and mesh size."""
    tile, offset = np.divmod(sanafe_core, 4)
    x = 2 * (tile // 4) + offset % 2
    y = 2 * (tile % 4) + offset // 2
    width, height = int(x.max()) + 1, int(y.max()) + 1
    return y * width + x, (width, height)


def preset_for(net: Net):
    """The sanafe-loihi preset; with ``force_update`` every neuron pays an update, which in
    neurochip's terms is ``neuron_idle = neuron_active`` (docs/throughput.md)."""
    preset = PRESETS["sanafe-loihi"]
    if not net.force_update:
        return preset
    return dataclasses.replace(
        preset,
        timing=dataclasses.replace(preset.timing, neuron_idle=preset.timing.neuron_active),
        energy=dataclasses.replace(preset.energy, neuron_idle=preset.energy.neuron_active))


def run_neurochip(net: Net, ticks: int) -> dict:
    preset = preset_for(net)
    core_of, (width, height) = neurochip_core(net.core_of)
    n = net.bias.size
    per_core = int(np.bincount(core_of).max())
    rows = np.unique(net.pre * width * height + core_of[net.post]).size
    spec = ChipSpec(width, height, core=CoreSpec(
        n_slots=per_core, n_axons=max(rows, 1), synapse_words=max(net.pre.size, 1),
        routing_entries=max(rows, 1), max_fanout=width * height, w_bits=9),
        timing=preset.timing, clock_hz=preset.clock_hz)
    params = LifParams.make(n, k_i=0, k_v=0, m_v=0, bias=net.bias, v_th=THRESHOLD + 1,
                            v_reset=0, t_ref=0)
    network = Network(params, net.pre, net.post, net.weight, np.ones(net.pre.size, np.int64))
    chip, _ = place(network, core_of, spec)
    half = ticks // 2
    first = chip.run(half, timing="totals")
    start = time.perf_counter()
    second = chip.run(ticks - half, timing="totals")
    wall = time.perf_counter() - start
    order = np.argsort(core_of, kind="stable")   # global slot k holds neuron order[k]
    spikes = np.zeros((ticks, n), dtype=bool)
    spikes[:, order] = np.concatenate([first.spikes, second.spikes])
    report = summarise(second.timing, spec.mesh, int(second.spikes.sum()), 1e-3,
                       preset.clock_hz, preset.energy, preset.sync)
    sync = report.cycles_per_tick_min - min(t.cycles for t in second.timing)
    return {"energy": report.energy_per_tick_j,
            "latency": report.cycles_total / report.ticks / preset.clock_hz,
            "overlapped": overlapped_latency(second, np.sort(core_of), sync) / preset.clock_hz,
            "wall": wall / (ticks - half), "spikes": spikes[:half]}


def overlapped_latency(recording, slot_core: np.ndarray, sync: int) -> float:
    """Mean cycles per tick if each core ran SANA-FE's way, from neurochip's own counts:
    its receive work (the synaptic phase) at the same time as its send work (neuron and
    routing phases plus SANA-FE's 30 ns per spike), the tick the longest of either on any
    core, plus the sync. An explanation of the latency ratio (docs/throughput.md), not a
    model: network time is left out."""
    spike_cycles = round(SPIKE_OUT_S * PRESETS["sanafe-loihi"].clock_hz)
    n_cores = recording.timing[0].route_end.size
    ticks = []
    for t, fired in zip(recording.timing, recording.spikes):
        spikes = np.bincount(slot_core[fired.astype(bool)], minlength=n_cores)
        send = t.route_end - t.synapse_end + spike_cycles * spikes
        ticks.append(max(int(t.synapse_end.max()), int(send.max())) + sync)
    return float(np.mean(ticks))


def run_sanafe(sanafe, net: Net, ticks: int) -> dict:
    arch = sanafe.load_arch(os.path.join(os.path.dirname(sanafe.__file__), "examples",
                                         "loihi.yaml"))
    network = sanafe.Network()
    attributes = {"force_update": net.force_update, "threshold": THRESHOLD, "reset": 0}
    group = network.create_neuron_group("pop", net.bias.size, attributes, log_spikes=True)
    neurons = group.neurons
    for j in np.flatnonzero(net.bias):
        neurons[int(j)].set_attributes(model_attributes={"bias": int(net.bias[j])})
    for a, b, w in zip(net.pre.tolist(), net.post.tolist(), net.weight.tolist()):
        neurons[a].connect_to_neuron(neurons[b], {"weight": w})
    cores = arch.cores()
    for j, k in enumerate(net.core_of.tolist()):
        neurons[j].map_to_core(cores[k])
    chip = sanafe.SpikingChip(arch)
    chip.load(network)
    half = ticks // 2
    traced = chip.sim(half, timing_model="detailed", processing_threads=1, spike_trace=True)
    spikes = np.zeros((half, net.bias.size), dtype=bool)
    for t, fired in enumerate(traced["spike_trace"]):
        spikes[t, [address.neuron_offset for address in fired]] = True
    # the timed half runs without traces: SANA-FE's perf trace alone costs ~10 ms a tick
    start = time.perf_counter()
    result = chip.sim(ticks - half, timing_model="detailed", processing_threads=1)
    wall = time.perf_counter() - start
    return {"energy": result["energy"]["total"] / (ticks - half),
            "latency": result["sim_time"] / (ticks - half),
            "wall": wall / (ticks - half), "spikes": spikes}


def compare(sanafe, net: Net, ticks: int) -> dict:
    theirs = run_sanafe(sanafe, net, ticks)
    ours = run_neurochip(net, ticks)
    return {"network": net.name, "neurons": int(net.bias.size), "synapses": int(net.pre.size),
            "sanafe_energy_nj": theirs["energy"] * 1e9,
            "neurochip_energy_nj": ours["energy"] * 1e9,
            "energy_ratio": ours["energy"] / theirs["energy"],
            "sanafe_latency_us": theirs["latency"] * 1e6,
            "neurochip_latency_us": ours["latency"] * 1e6,
            "latency_ratio": ours["latency"] / theirs["latency"],
            "overlapped_ratio": ours["overlapped"] / theirs["latency"],
            "sanafe_wall_ms": theirs["wall"] * 1e3, "neurochip_wall_ms": ours["wall"] * 1e3,
            "speedup": theirs["wall"] / ours["wall"],
            "spikes_equal": bool(np.array_equal(theirs["spikes"], ours["spikes"])),
            "spikes": int(ours["spikes"].sum())}


HEADER = (f"{'network':<28} {'E/tick nJ':>19} {'ratio':>6} {'latency/tick us':>17} "
          f"{'ratio':>6} {'ovl.':>5} {'wall/tick ms':>17} {'speedup':>8} spikes")


def format_row(r: dict) -> str:
    return (f"{r['network']:<28} {r['sanafe_energy_nj']:>9.4g} {r['neurochip_energy_nj']:>9.4g} "
            f"{r['energy_ratio']:>6.3f} {r['sanafe_latency_us']:>8.4g} "
            f"{r['neurochip_latency_us']:>8.4g} {r['latency_ratio']:>6.3f} "
            f"{r['overlapped_ratio']:>5.2f} "
            f"{r['sanafe_wall_ms']:>8.4g} {r['neurochip_wall_ms']:>8.4g} {r['speedup']:>7.1f}x "
            f"{'equal' if r['spikes_equal'] else 'DIFFER'}")


def preset_mismatches(yaml_path: str) -> list[str]:
    """Entries of the sanafe-loihi preset that differ from the installed loihi.yaml (the
    first value of each key: the LIF soma, the dense synapse, ...)."""
    text = open(yaml_path).read()

    def first(key: str) -> float:
        return float(re.search(rf"^\s*{key}:\s*([-+0-9.eE]+)", text, re.M).group(1))

    preset = PRESETS["sanafe-loihi"]
    e, t, hz = preset.energy, preset.timing, preset.clock_hz
    pairs = {
        "synop": (e.synop, first("energy_process_spike") * 1e12),
        "neuron_active": (e.neuron_active, (first("energy_access_neuron")
                                            + first("energy_update_neuron")) * 1e12),
        "neuron_idle": (e.neuron_idle, first("energy_access_neuron") * 1e12),
        "spike": (e.spike, first("energy_spike_out") * 1e12),
        "route_lookup": (e.route_lookup, first("energy_message_out") * 1e12),
        "row_fetch": (e.row_fetch, first("energy_message_in") * 1e12),
        "hop_x": (e.hop_x, first("energy_east_hop") * 1e12),
        "hop_y": (e.hop_y, first("energy_north_hop") * 1e12),
        "synop cycles": (t.synop, first("latency_process_spike") * hz),
        "neuron_active cycles": (t.neuron_active, (first("latency_access_neuron")
                                                   + first("latency_update_neuron")) * hz),
        "neuron_idle cycles": (t.neuron_idle, first("latency_access_neuron") * hz),
        "route cycles": (t.route_lookup + t.inject, first("latency_message_out") * hz),
        "row_fetch cycles": (t.row_fetch, first("latency_message_in") * hz),
        "hop_x cycles": (t.hop_x, first("latency_east_hop") * hz),
        "hop_y cycles": (t.hop_y, first("latency_north_hop") * hz),
    }
    wrong = [f"{name}: preset {ours:g}, file {theirs:g}" for name, (ours, theirs)
             in pairs.items() if abs(ours - theirs) > 1e-6 * max(1.0, abs(theirs))]
    sync = re.search(r"latency_sync:\s*\{([^}]*)\}", text).group(1)
    table = tuple((int(k), float(v)) for k, v in
                  (item.split(":") for item in sync.split(",")))
    if table != preset.sync.seconds_by_tiles:
        wrong.append(f"sync: preset {preset.sync.seconds_by_tiles}, file {table}")
    return wrong


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=100, help="ticks per network (100)")
    parser.add_argument("--quick", action="store_true", help="three grid points only")
    args = parser.parse_args(argv)
    try:
        import sanafe
    except ImportError:
        print("sanafe is not installed (pip install 'neurochip[sanafe]', i.e. "
              "sanafe==2.2.9): nothing to compare, skipping")
        return 0
    yaml_path = os.path.join(os.path.dirname(sanafe.__file__), "examples", "loihi.yaml")
    wrong = preset_mismatches(yaml_path)
    print(f"preset sanafe-loihi against {yaml_path}: "
          + ("the same numbers" if not wrong else "DIFFERENT: " + "; ".join(wrong)))
    nets = [random_grid_net(*point) for point in (QUICK_GRID if args.quick else GRID)]
    nets.append(feed_forward_net())
    run_neurochip(random_grid_net(1, 64, 1, 50), 4)   # compile the kernels first
    print(f"SANA-FE {importlib.metadata.version('sanafe')} (detailed timing model) vs "
          f"neurochip --preset sanafe-loihi, {args.ticks} ticks, means over the second half")
    print("ratio: neurochip / SANA-FE; ovl.: the latency ratio if neurochip's cores received "
          "while they sent and paid 30 ns per spike, as SANA-FE's do (docs/throughput.md)")
    print(f"{'':<28} {'SANA-FE  neurochip':>19} {'':>6} {'SANA-FE neurochip':>17} {'':>6} "
          f"{'':>5} {'SANA-FE neurochip':>17}")
    print(HEADER)
    rows = []
    for net in nets:
        rows.append(compare(sanafe, net, args.ticks))
        print(format_row(rows[-1]), flush=True)
    for r in rows:
        print(json.dumps({k: r[k] for k in ("network", "energy_ratio", "latency_ratio",
                                             "speedup")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
