"""What a netlist will cost before anything is allocated: the neurons, synapses, input
events, currents and recordings its rules ask for, in bytes, against the memory budget
(``neurochip.hardware.limits``: ``NEUROCHIP_MEMORY_BUDGET``, default 4 GiB).

``check_budget`` runs at the end of every load (``netlist_from_dict``), so ``expand``,
``compile_netlist`` and the runs never start on a network that cannot fit: the refusal
names the field that asks for the most and gives the estimate and the budget. The
estimates are deliberately generous (docs/reliability.md lists the bytes per item); a
random rule counts its expected synapses plus six standard deviations.
"""

from __future__ import annotations

import math

from ...hardware.limits import format_bytes, memory_budget, MEMORY_BUDGET_VAR
from .errors import FieldPath
from .schema import (DenseConnectivity, FixedProbability, ListConnectivity, Netlist,
                     PoissonInput, SpikeInput, StepInput, tick_of)

# Bytes per item over the whole path load -> expand -> compile -> run. The streamed
# compile (docs/compiler.md) peaks at about 80 bytes per synapse (the process's peak
# resident memory, benchmarks/bench_compile.py: 1,000,000 x 100 on 2x2 cores, 7.4 GiB):
# the expanded network 24, its weights quantised 11, the chip's memories and delivery
# table about 35 (per-core and global copies), the rest rows, entries and heap. A run
# adds its tables; many cores add routing entries (per entry, not counted here).
BYTES_PER_NEURON = 2048    # parameters and their copies, registers, chip state, partition
BYTES_PER_SYNAPSE = 112    # expansion, quantised weights, memories, a run's tables
BYTES_PER_EVENT = 128      # input events (tick, neuron, weight, input), sort, channels
BYTES_PER_CURRENT = 32     # one neuron of one step of a dc/step input, bias schedule
BYTES_PER_SAMPLE = 8       # one recorded value of one neuron in one tick


def _margin(mean: float) -> float:
    """An upper estimate of a count with this mean (mean + 6 standard deviations)."""
    return mean + 6.0 * math.sqrt(mean)


def synapse_estimate(netlist: Netlist, index: int) -> tuple[float, str]:
    """Synapses projection ``index`` will have (an upper estimate) and how it is counted."""
    proj = netlist.projections[index]
    c = proj.connectivity
    n_pre = netlist.population(proj.pre).size
    n_post = netlist.population(proj.post).size
    if isinstance(c, ListConnectivity):
        return float(len(c.pre)), "listed"
    if isinstance(c, DenseConnectivity):
        return float(n_pre) * n_post, f"{n_pre} x {n_post} dense"
    if isinstance(c, FixedProbability):
        return _margin(c.p * n_pre * n_post), f"p = {c.p:g} of {n_pre} x {n_post} pairs"
    return float(c.n) * n_post, f"fan-in {c.n} x {n_post} neurons"


def event_estimate(netlist: Netlist, index: int) -> float:
    """Input events input ``index`` will give (an upper estimate; 0 for currents)."""
    inp = netlist.inputs[index]
    if isinstance(inp, SpikeInput):
        return float(sum(len(t) for t in inp.times.values()))
    if not isinstance(inp, PoissonInput):
        return 0.0
    ticks = netlist.ticks
    start = tick_of(inp.start, netlist.dt)
    stop = ticks if inp.stop is None else min(ticks, tick_of(inp.stop, netlist.dt))
    count = (netlist.population(inp.target).size if inp.neurons is None
             else len(inp.neurons))
    rates = inp.rate if isinstance(inp.rate, tuple) else (inp.rate,)
    mean_rate = sum(rates) / len(rates)
    return _margin(mean_rate * inp.fan_in * netlist.dt * max(stop - start, 0) * count)


def _items(netlist: Netlist, path: FieldPath):
    """(field path, bytes, what) of everything that costs memory."""
    for p in netlist.populations:
        yield (path.key("populations").key(p.name).key("size"),
               float(p.size) * BYTES_PER_NEURON, f"{p.size} neurons")
    for j in range(len(netlist.projections)):
        count, how = synapse_estimate(netlist, j)
        yield (path.key("projections").at(j).key("connectivity"),
               count * BYTES_PER_SYNAPSE, f"about {count:.3g} synapses ({how})")
    for j, inp in enumerate(netlist.inputs):
        ipath = path.key("inputs").at(j)
        events = event_estimate(netlist, j)
        if events:
            yield ipath, events * BYTES_PER_EVENT, f"about {events:.3g} input events"
        if isinstance(inp, StepInput) or not isinstance(inp, (SpikeInput, PoissonInput)):
            count = (netlist.population(inp.target).size if inp.neurons is None
                     else len(inp.neurons))
            steps = len(inp.times) if isinstance(inp, StepInput) else 1
            yield (ipath, float(steps) * count * BYTES_PER_CURRENT,
                   f"{steps} steps x {count} neurons of current")
    for j, probe in enumerate(netlist.probes):
        size = netlist.population(probe.population).size
        yield (path.key("probes").at(j), float(netlist.ticks) * size * len(probe.record)
               * BYTES_PER_SAMPLE, f"{netlist.ticks} ticks x {size} neurons x "
               f"{len(probe.record)} variables recorded")


def netlist_bytes(netlist: Netlist) -> float:
    """The estimated peak memory (bytes) of loading, expanding, compiling and running."""
    return sum(b for _, b, _ in _items(netlist, FieldPath("")))


def check_budget(netlist: Netlist, source: str) -> None:
    """Refuse (``NetlistError``) a netlist whose estimate exceeds the memory budget,
    naming the field that asks for the most."""
    items = list(_items(netlist, FieldPath(source)))
    total = sum(b for _, b, _ in items)
    budget = memory_budget()
    if total <= budget:
        return
    where, most, what = max(items, key=lambda item: item[1])
    rest = ("" if most >= 0.9 * total else
            f", {format_bytes(total)} with the rest of the network")
    suggest = math.ceil(total / 2 ** 30)
    where.fail(f"{what} need about {format_bytes(most)}{rest}, over the memory budget of "
               f"{format_bytes(budget)} ({MEMORY_BUDGET_VAR}); where the machine has the "
               f"memory, raise it: {MEMORY_BUDGET_VAR}={suggest}GiB")
