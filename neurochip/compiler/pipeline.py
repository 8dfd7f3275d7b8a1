"""The compiler: a float netlist onto a chip, with a report of everything it changed.

Steps (docs/compiler.md):

1. **expand** the netlist (``netlist.expand``): every rule drawn into explicit arrays;
2. **quantise** the neurons, each population with its own voltage scale
   (``firmware_models.lif.quantiser.quantise_groups``: scale from the thresholds,
   coarsened if the bias must hold a larger current; leak shifts from tau/dt) and the weights
   (one exponent for the chip, mantissas of ``w_bits``; clipped and zeroed weights are
   counted), delays to whole ticks (at least 1);
3. **partition** the neurons onto cores: start from contiguous blocks, then move
   neurons towards the core most of their synapses lead to (label propagation under the
   slot capacity), which keeps spikes from crossing cores;
4. **route**: ``mapping.place`` builds the synapse memories and routing tables, and every
   capacity (slots, axons, synapse words, routing entries) is checked; a network that
   does not fit is refused with the capacity that is short and by how much.

Input spikes become events on input axons (one per target neuron and distinct weight);
dc and step currents are added to the bias registers, rewritten at each step's tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from firmware_models.lif.quantiser import ParameterError, QuantisedLif, format_errors

from ..hardware.chip import Chip, ChipSpec
from .dialects import DEFAULT_DIALECT, dialect_model, dialect_quantiser
from ..hardware.engine import Recording
from .placement import InputMap, Network, neuron_slots, place
from ..formats.netlist import ExpandedNetwork, Netlist, expand
from ..hardware.spec import CoreSpec, SpecError

PARTITIONERS = ("greedy", "sequential")


def roomy_core_spec(slots: int, n_cores: int, distinct_delays: int = 4, **fields) -> CoreSpec:
    """A core with ``slots`` neuron slots and generous axons, synapse words and routing
    entries (room for one routing entry per destination core and delay); ``fields``
    (widths, modes) go to ``CoreSpec`` as given."""
    slots = max(int(slots), 1)
    return CoreSpec(**{"n_slots": slots, "n_axons": max(4096, 4 * slots),
                       "synapse_words": 1 << 20, "routing_entries": 1 << 16,
                       "max_fanout": max(16, n_cores * max(distinct_delays, 4)),
                       "ref_bits": 8, **fields})


# ====================================================================== partitioning
def sequential_partition(n: int, n_cores: int, slots: int) -> np.ndarray:
    """Neurons in index order, filling each core's slots before the next core."""
    if n > n_cores * slots:
        raise SpecError(f"the network has {n} neurons, the chip has {n_cores} cores × {slots} "
                        f"slots = {n_cores * slots} (short by {n - n_cores * slots} slots)")
    per_core = -(-n // n_cores)  # spread evenly rather than filling the first cores
    return np.arange(n) // per_core


def inter_core_entries(core_of: np.ndarray, pre: np.ndarray, post: np.ndarray,
                       delay: np.ndarray) -> int:
    """Routing entries that leave their core: one per (neuron, other core, delay)."""
    n_cores = int(core_of.max()) + 1 if core_of.size else 1
    span = int(delay.max()) + 1 if delay.size else 1
    keys = np.unique((pre.astype(np.int64) * n_cores + core_of[post]) * span + delay)
    source, dest = np.divmod(keys // span, n_cores)
    return int(np.count_nonzero(core_of[source] != dest))


def greedy_partition(n: int, pre: np.ndarray, post: np.ndarray, n_cores: int, slots: int,
                     rounds: int = 20, seed: int = 0) -> np.ndarray:
    """Label propagation under a slot capacity, started from contiguous blocks.

    Each round, every neuron counts its synapses (in and out) per core and wants the core
    with the most; moves are granted in order of gain while the target core holds fewer
    than its limit (the slot capacity, and 20 % above an even share so that no core
    becomes the chip's bottleneck). Stops when a round moves no neuron.
    """
    core_of = sequential_partition(n, n_cores, slots)
    if n_cores == 1 or pre.size == 0:
        return core_of
    # keep the cores balanced (within 20 % of an even share) as well as within capacity
    limit = min(slots, max(int(np.ceil(1.2 * n / n_cores)), int(np.bincount(core_of).max())))
    rng = np.random.default_rng(seed)
    ends = np.concatenate([pre, post])
    others = np.concatenate([post, pre])
    for _ in range(rounds):
        links = np.zeros((n, n_cores), dtype=np.int64)
        np.add.at(links, (ends, core_of[others]), 1)
        best = np.argmax(links + rng.random(links.shape) * 0.5, axis=1)
        gain = links[np.arange(n), best] - links[np.arange(n), core_of]
        movers = np.flatnonzero((best != core_of) & (gain > 0))
        if movers.size == 0:
            break
        movers = movers[np.argsort(-gain[movers], kind="stable")]
        load = np.bincount(core_of, minlength=n_cores)
        moved = 0
        for j in movers:  # build time, not a hot path: at most n per round
            target = best[j]
            if load[target] < limit:
                load[core_of[j]] -= 1
                load[target] += 1
                core_of[j] = target
                moved += 1
        if moved == 0:
            break
    return core_of


# ====================================================================== report
@dataclass(frozen=True)
class CoreUse:
    core: int
    slots: int
    axons: int
    synapse_words: int
    routing_entries: int


@dataclass(frozen=True)
class CompileReport:
    partitioner: str
    capacities: dict[str, int]
    cores: tuple[CoreUse, ...]
    parameter_errors: tuple[ParameterError, ...]
    weight_error: ParameterError
    weights_clipped: int
    weights_zeroed: int
    w_exp: int
    delays_rounded: int
    inter_core_entries: int
    inter_core_entries_sequential: int

    @property
    def inter_core_ratio(self) -> float:
        """Inter-core routing entries of this partition over those of contiguous blocks."""
        base = self.inter_core_entries_sequential
        return self.inter_core_entries / base if base else 1.0

    def format(self) -> str:
        cap = self.capacities
        lines = ["per-core use (of capacity):",
                 f"{'core':>5} {'slots':>14} {'axons':>14} {'synapse words':>18} "
                 f"{'routing entries':>18}"]
        for c in self.cores:
            lines.append(
                f"{c.core:>5} {_used(c.slots, cap['n_slots']):>14} "
                f"{_used(c.axons, cap['n_axons']):>14} "
                f"{_used(c.synapse_words, cap['synapse_words']):>18} "
                f"{_used(c.routing_entries, cap['routing_entries']):>18}")
        lines += ["", "quantisation (asked → realised):", format_errors(
            (*self.parameter_errors, self.weight_error)),
            f"weights: exponent {self.w_exp}, {self.weights_clipped} clipped, "
            f"{self.weights_zeroed} rounded to zero; {self.delays_rounded} delays rounded "
            f"to whole ticks",
            f"partition ({self.partitioner}): {self.inter_core_entries} routing entries leave "
            f"their core, {self.inter_core_entries_sequential} with contiguous blocks "
            f"(ratio {self.inter_core_ratio:.3f})"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        def error(e: ParameterError) -> dict:
            return {"name": e.name, "unit": e.unit, "max_relative": e.max_relative,
                    "mean_relative": e.mean_relative}
        return {"partitioner": self.partitioner, "capacities": self.capacities,
                "cores": [vars(c) for c in self.cores],
                "parameters": [error(e) for e in self.parameter_errors],
                "weights": {**error(self.weight_error), "clipped": self.weights_clipped,
                            "zeroed": self.weights_zeroed, "w_exp": self.w_exp},
                "delays_rounded": self.delays_rounded,
                "inter_core_entries": self.inter_core_entries,
                "inter_core_entries_sequential": self.inter_core_entries_sequential,
                "inter_core_ratio": self.inter_core_ratio}


def _used(used: int, capacity: int) -> str:
    return f"{used} ({100 * used / capacity:.0f}%)"


# ====================================================================== compiled network
@dataclass
class CompiledNetwork:
    """A netlist on a chip: run it and read its probes back in the netlist's terms."""

    chip: Chip
    expanded: ExpandedNetwork
    quantised: QuantisedLif
    core_of: np.ndarray          # neuron -> core
    slot_of: np.ndarray          # neuron -> global slot
    input_map: InputMap
    input_events: tuple[np.ndarray, np.ndarray]  # (tick, channel) of every input event
    bias_schedule: tuple[np.ndarray, np.ndarray]  # (ticks, (segments, n) bias registers)
    report: CompileReport
    network: Network = field(repr=False)
    dialect: str = DEFAULT_DIALECT

    def inputs(self, ticks: int) -> np.ndarray:
        """The chip's input array (ticks × axons) for the netlist's input events."""
        tick, channel = self.input_events
        keep = tick < ticks
        counts = np.zeros((ticks, self.network.n_inputs), dtype=np.int64)
        np.add.at(counts, (tick[keep], channel[keep]), 1)
        limit = self.chip.model.max_input_events
        if limit is not None and counts.size and counts.max() > limit:
            k, c = (int(i) for i in np.argwhere(counts > limit)[0])
            raise SpecError(f"tick {k}: input channel {c} (neuron "
                            f"{int(self.network.input_post[c])}) carries {int(counts[k, c])} "
                            f"events, the {self.chip.model.name} dialect takes at most "
                            f"{limit} per channel and tick")
        return self.input_map.expand(counts, self.chip.layout.n_axons)

    def run(self, ticks: int | None = None, record: tuple[str, ...] = ("spikes", "v"),
            backend: str | None = None, progress=None, timing: bool = False) -> Recording:
        """Run from the chip's current tick; records every neuron in netlist order.

        Bias registers are rewritten at every dc/step boundary. ``progress(k)`` (if
        given) is called with the number of ticks done after each segment. With
        ``timing``, ``Recording.timing`` has the chip's timing of every tick.
        """
        ticks = self.expanded.ticks if ticks is None else ticks
        inputs = self.inputs(ticks)
        starts, biases = self.bias_schedule
        bounds = sorted({0, ticks, *[int(s) for s in starts if 0 < s < ticks]})
        # run in segments so a progress bar can move on long runs
        chunk = 1000
        cuts = sorted(set(bounds) | set(range(0, ticks, chunk)) | {ticks})
        pieces = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            segment = int(np.searchsorted(starts, a, side="right") - 1)
            bias = biases[max(segment, 0)]
            params = self.chip.engine.params
            global_bias = params.bias.copy()
            global_bias[self.slot_of] = bias
            self.chip.engine.params = dialect_quantiser(self.dialect).with_bias(
                params, global_bias)
            pieces.append(self.chip.run(b - a, inputs[a:b], record, timing=timing,
                                        backend=backend))
            if progress is not None:
                progress(b)
        order = self.slot_of
        traces = {name: np.concatenate([p.traces[name] for p in pieces])[:, order]
                  for name in record}
        return Recording(pieces[0].start_tick if pieces else self.chip.t, traces,
                         self.chip.overflow_counts, [t for p in pieces for t in p.timing])


def compile_netlist(netlist: Netlist | ExpandedNetwork, spec: ChipSpec,
                    partitioner: str = "greedy", seed: int = 0,
                    dialect: str | None = None) -> CompiledNetwork:
    """Quantise, partition and route ``netlist`` onto a chip of ``spec``.

    ``dialect`` (``neurochip.compiler.dialects``) picks the neuron arithmetic and its quantiser;
    by default ``spec.core.dialect``. The core spec should carry that dialect's widths
    (``dialect_spec``); a dialect other than the spec's is applied to it.
    """
    if dialect is not None and dialect != spec.core.dialect:
        spec = replace(spec, core=spec.core.replace(dialect=dialect))
    dialect = spec.core.dialect
    if partitioner not in PARTITIONERS:
        raise SpecError(f"partitioner must be one of {PARTITIONERS}, got {partitioner!r}")
    model, dq = dialect_model(dialect), dialect_quantiser(dialect)
    ex = netlist if isinstance(netlist, ExpandedNetwork) else expand(netlist)
    core_spec = spec.core
    n = ex.n
    # bias over time: the population's I_bias plus dc/step currents, per segment
    boundaries = sorted({0, *[int(t) for src in ex.currents for t in src.start_ticks]})
    starts = np.array(boundaries, dtype=np.int64)
    currents = np.zeros((starts.size, n))
    for src in ex.currents:
        for s, tick in enumerate(starts):
            step = int(np.searchsorted(src.start_ticks, tick, side="right") - 1)
            if step >= 0:
                currents[s, src.neurons] += src.amplitudes[step]
    total_current = ex.params.broadcast(n).I_bias + currents
    # each population gets its own voltage scale, coarse enough for its largest current
    groups = [ex.slice(name) for name in ex.names]
    q = dq.quantise_groups(ex.params, ex.dt, core_spec, groups,
                           current_span=np.max(np.abs(total_current), axis=0))
    biases = np.rint(total_current / q.scales.i_lsb)
    lo, hi = dq.bias_range(core_spec)
    if biases.size and (biases.min() < lo or biases.max() > hi):
        j = int(np.argwhere((biases < lo) | (biases > hi))[0][1])
        worst = biases[:, j][np.argmax(np.abs(biases[:, j]))]
        field = (f"the {core_spec.v_bits}-bit field" if dialect == "lif"
                 else f"the {dialect} bias")
        raise SpecError(f"neuron {j}: its input current needs a bias register of "
                        f"{int(worst)} LSB, beyond {field} ({lo}..{hi}); widen the "
                        f"membrane (v_bits)")
    biases = biases.astype(np.int64)

    # input channels: one per (neuron, distinct weight); every event is one on its channel
    if ex.event_neuron.size:
        keys, event_channel = np.unique(
            np.stack([ex.event_neuron, ex.event_weight.view(np.int64)]), axis=1,
            return_inverse=True)
        event_channel = event_channel.ravel().astype(np.int64)
    else:
        keys, event_channel = np.zeros((2, 0), np.int64), np.zeros(0, np.int64)
    channel_neuron = keys[0].astype(np.int64)
    channel_weight = keys[1].view(np.float64)

    # weights: recurrent synapses and input channels share one exponent
    all_weights = np.concatenate([ex.weight, channel_weight])
    all_post = np.concatenate([ex.post, channel_neuron]).astype(np.int64)
    qw = dq.quantise_weights(all_weights, dq.weight_lsb(q)[all_post], core_spec)
    w_syn, w_in = qw.w[:ex.weight.size], qw.w[ex.weight.size:]
    delay_ticks = np.maximum(ex.delay_ticks(), 1)
    delays_rounded = int(np.count_nonzero(np.abs(ex.delay / ex.dt - delay_ticks) > 1e-9))
    if delay_ticks.size and delay_ticks.max() > core_spec.max_delay:
        s = int(np.argmax(delay_ticks))
        raise SpecError(f"synapse {s} (neuron {int(ex.pre[s])} -> {int(ex.post[s])}): delay "
                        f"{ex.delay[s]:g} s is {int(delay_ticks[s])} ticks, beyond the "
                        f"{core_spec.delay_bits}-bit delay field (max {core_spec.max_delay})")

    readout = np.bincount(ex.pre.astype(np.int64), minlength=n) == 0
    params = dq.for_network(dq.with_bias(q.params, biases[0]), readout)
    net = Network(params, ex.pre.astype(np.int64), ex.post.astype(np.int64), w_syn,
                  delay_ticks, qw.w_exp, np.arange(channel_neuron.size, dtype=np.int64),
                  channel_neuron.astype(np.int64), w_in, int(channel_neuron.size))

    slots = core_spec.n_slots
    sequential = sequential_partition(n, spec.n_cores, slots)
    core_of = sequential
    crossing = crossing_sequential = inter_core_entries(sequential, net.pre, net.post,
                                                        net.delay)
    if partitioner == "greedy":
        candidate = greedy_partition(n, net.pre, net.post, spec.n_cores, slots, seed=seed)
        crossing_candidate = inter_core_entries(candidate, net.pre, net.post, net.delay)
        if crossing_candidate < crossing_sequential:  # never worse than contiguous blocks
            core_of, crossing = candidate, crossing_candidate
    chip, input_map = place(net, core_of, spec, model=model,
                            inputs_first=model.accumulation == "sequential")
    slot_of = neuron_slots(core_of, spec.n_cores)

    uses = []
    for c in range(spec.n_cores):
        engine = chip.engine
        lay = chip.layout
        s0, s1 = lay.slot_start[c], lay.slot_start[c + 1]
        a0, a1 = lay.axon_start[c], lay.axon_start[c + 1]
        words = int(engine.synapses.row_start[a1] - engine.synapses.row_start[a0])
        entries = int(engine.entry_start[s1] - engine.entry_start[s0])
        uses.append(CoreUse(c, int(s1 - s0), int(a1 - a0), words, entries))
    report = CompileReport(
        partitioner=partitioner,
        capacities={"n_slots": slots, "n_axons": core_spec.n_axons,
                    "synapse_words": core_spec.synapse_words,
                    "routing_entries": core_spec.routing_entries},
        cores=tuple(uses), parameter_errors=q.errors, weight_error=qw.error,
        weights_clipped=qw.clipped, weights_zeroed=qw.zeroed, w_exp=qw.w_exp,
        delays_rounded=delays_rounded,
        inter_core_entries=crossing, inter_core_entries_sequential=crossing_sequential)
    return CompiledNetwork(chip, ex, q, core_of, slot_of, input_map,
                           (ex.event_tick.astype(np.int64), event_channel),
                           (starts, biases), report, net, dialect)


def float_run(ex: ExpandedNetwork, ticks: int | None = None, seed: int | None = None):
    """The netlist on the float reference (``reference.simulate``), recurrence included:
    a spike in tick ``k`` adds its synapses' weights to the current in tick
    ``k + delay`` (delays rounded to whole ticks, at least 1, as on the chip)."""
    from firmware_models.lif.reference import simulate

    ticks = ex.ticks if ticks is None else ticks
    order = np.argsort(ex.pre, kind="stable")
    pre_start = np.concatenate([[0], np.cumsum(np.bincount(ex.pre, minlength=ex.n))])
    post, weight = ex.post[order], ex.weight[order]
    delay = np.maximum(ex.delay_ticks(), 1)[order]

    def feedback(k, fired, future):
        from ..hardware.synapses import row_words
        synapses, _ = row_words(pre_start, np.flatnonzero(fired))
        arrive = k + delay[synapses]
        keep = arrive < ticks
        np.add.at(future, (arrive[keep], post[synapses][keep]), weight[synapses][keep])

    return simulate(ex.params, ex.dt, ticks, n=ex.n, syn_input=ex.input_jumps()[:ticks],
                    I_ext=ex.current()[:ticks], seed=seed, feedback=feedback)


def with_input_events(ex: ExpandedNetwork, channel: np.ndarray, post: np.ndarray,
                      weight: np.ndarray, delay: np.ndarray, counts: np.ndarray
                      ) -> ExpandedNetwork:
    """``ex`` with input spikes added: ``counts[k, c]`` spikes on channel ``c`` in tick
    ``k``, each reaching neuron ``post[s]`` with ``weight[s]`` (A) in tick
    ``k + delay[s]`` for every input synapse ``s`` of that channel (as a NIR Input node
    drives its targets). The chip takes whole spikes: non-integer counts are refused."""
    counts = np.asarray(counts)
    if counts.size and (not np.all(np.isfinite(counts)) or np.any(counts < 0)
                        or not np.array_equal(counts, np.rint(counts))):
        bad = counts[(counts < 0) | (counts != np.rint(counts))].flat[0] if np.all(
            np.isfinite(counts)) else "a non-finite value"
        raise SpecError(f"the chip takes input spikes as whole counts per tick and channel, "
                        f"got {bad}; analog input runs on the float reference (--float)")
    ticks, n_channels = counts.shape
    order = np.argsort(channel, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(channel, minlength=n_channels))])
    post, weight, delay = post[order], weight[order], delay[order].astype(np.int64)
    k, c = np.nonzero(counts)
    lengths = start[c + 1] - start[c]
    from ..hardware.synapses import ranges
    syn = ranges(start[c], lengths)
    repeat = np.repeat(counts[k, c].astype(np.int64), lengths)
    tick = np.repeat(np.repeat(k, lengths) + delay[syn], repeat)
    neuron = np.repeat(post[syn], repeat)
    w = np.repeat(weight[syn], repeat)
    keep = tick < ex.ticks
    tick, neuron, w = tick[keep], neuron[keep], w[keep]
    events = np.lexsort((neuron, tick))
    return replace(ex, event_tick=np.concatenate([ex.event_tick, tick[events]]),
                   event_neuron=np.concatenate([ex.event_neuron, neuron[events]]),
                   event_weight=np.concatenate([ex.event_weight, w[events]]),
                   event_input=np.concatenate([ex.event_input,
                                               np.full(events.size, -1, np.int64)]))
