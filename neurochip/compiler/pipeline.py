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

import os
from dataclasses import dataclass, field, replace

import numpy as np

from firmware_models.lif.quantiser import QuantisedLif

from ..hardware.checkpoint import Checkpoint
from ..hardware.chip import Chip, ChipSpec
from .calibration import Calibration, register_zero, scale_floors
from .dialects import DEFAULT_DIALECT, dialect_model, dialect_quantiser
from ..hardware.engine import Recording, check_ticks
from .partition import PARTITIONERS, greedy_partition, inter_core_entries, sequential_partition
from .placement import InputMap, Network, neuron_slots, place
from .report import CompileReport, CoreUse
from .weights import quantise_per_group
from ..formats.netlist import ExpandedNetwork, Netlist, expand
from ..formats.netlist.expansion import constant_value
from ..formats.netlist.schema import MAX_COUNT
from ..hardware.limits import over_budget
from ..hardware.spec import CoreSpec, SpecError

__all__ = ["PARTITIONERS", "Calibration", "CompileReport", "CompiledNetwork", "CoreUse", "compile_netlist",
           "float_run", "greedy_partition", "inter_core_entries", "roomy_core_spec",
           "sequential_partition", "with_input_events"]


def roomy_core_spec(slots: int, n_cores: int, distinct_delays: int = 4, **fields) -> CoreSpec:
    """A core with ``slots`` neuron slots and generous axons, synapse words and routing
    entries (room for one routing entry per destination core and delay); ``fields``
    (widths, modes) go to ``CoreSpec`` as given."""
    slots = max(int(slots), 1)
    return CoreSpec(**{"n_slots": slots, "n_axons": max(4096, 4 * slots),
                       "synapse_words": 1 << 20, "routing_entries": 1 << 16,
                       "max_fanout": max(16, n_cores * max(distinct_delays, 4)),
                       "ref_bits": 8, **fields})


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

    def inputs(self, ticks: int, start: int = 0) -> np.ndarray:
        """The chip's input array (ticks × axons) for the netlist's input events of ticks
        ``start .. start + ticks - 1``."""
        tick, channel = self.input_events
        keep = (tick >= start) & (tick < start + ticks)
        counts = np.zeros((ticks, self.network.n_inputs), dtype=np.int64)
        np.add.at(counts, (tick[keep] - start, channel[keep]), 1)
        limit = self.chip.model.max_input_events
        if limit is not None and counts.size and counts.max() > limit:
            k, c = (int(i) for i in np.argwhere(counts > limit)[0])
            raise SpecError(f"tick {start + k}: input channel {c} (neuron "
                            f"{int(self.network.input_post[c])}) carries {int(counts[k, c])} "
                            f"events, the {self.chip.model.name} dialect takes at most "
                            f"{limit} per channel and tick")
        return self.input_map.expand(counts, self.chip.layout.n_axons)

    def run(self, ticks: int | None = None, record: tuple[str, ...] = ("spikes", "v"),
            backend: str | None = None, progress=None, timing: bool = False) -> Recording:
        """Run ``ticks`` ticks from the chip's current tick (by default to the end of the
        netlist's duration); records every neuron in netlist order.

        The netlist's input events and bias schedule are in absolute ticks: a run from
        tick ``t`` (after an earlier run, or a ``restore``) gets the inputs of ticks
        ``t ..``. Bias registers are rewritten at every dc/step boundary.
        ``progress(k)`` (if given) is called with the number of ticks done after each
        segment. With ``timing``, ``Recording.timing`` has the chip's timing of every tick.
        """
        start = self.chip.t
        ticks = max(self.expanded.ticks - start, 0) if ticks is None else check_ticks(ticks)
        # the input arrays (ticks x channels, ticks x axons) and the recordings: refused
        # over the memory budget before anything is allocated
        why = over_budget(8 * ticks * (self.network.n_inputs + self.chip.layout.n_axons
                                       + self.expanded.n * len(record)),
                          f"a run of {ticks} ticks of the compiled network")
        if why:
            raise SpecError(why)
        inputs = self.inputs(ticks, start)
        starts, _ = self.bias_schedule
        end = start + ticks
        # run in segments at bias boundaries, and every 1000 ticks for a progress bar
        cuts = sorted({start, end, *[int(s) for s in starts if start < s < end],
                       *range(start, end, 1000)})
        pieces = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            self._apply_bias(a)
            pieces.append(self.chip.run(b - a, inputs[a - start:b - start], record,
                                        timing=timing, backend=backend))
            if progress is not None:
                progress(b - start)
        order = self.slot_of
        traces = {name: np.concatenate([p.traces[name] for p in pieces])[:, order]
                  if pieces else np.zeros((0, order.size), bool if name == "spikes"
                                          else np.int64)
                  for name in record}
        return Recording(start, traces, self.chip.overflow_counts,
                         [t for p in pieces for t in p.timing], dt=self.expanded.dt)

    def _apply_bias(self, tick: int) -> None:
        """Write the bias registers of the schedule segment holding ``tick``."""
        starts, biases = self.bias_schedule
        segment = int(np.searchsorted(starts, tick, side="right") - 1)
        params = self.chip.engine.params
        global_bias = params.bias.copy()
        global_bias[self.slot_of] = biases[max(segment, 0)]
        self.chip.engine.params = dialect_quantiser(self.dialect).with_bias(params,
                                                                             global_bias)

    def checkpoint(self, **meta: str) -> Checkpoint:
        """The chip's complete state now (``Chip.checkpoint``)."""
        return self.chip.checkpoint(**meta)

    def restore(self, checkpoint: Checkpoint | str | os.PathLike) -> None:
        """Continue from a checkpoint of this network on this chip: the bias registers
        are those of its last tick, as in the run it was taken from, and then
        ``Chip.restore`` (refused when the checkpoint is of another configuration)."""
        if not isinstance(checkpoint, Checkpoint):
            checkpoint = Checkpoint.load(checkpoint)
        params = self.chip.engine.params
        self._apply_bias(max(checkpoint.tick - 1, 0))
        try:
            self.chip.restore(checkpoint)
        except SpecError:
            self.chip.engine.params = params
            raise


# ====================================================================== compiling
def compile_netlist(netlist: Netlist | ExpandedNetwork, spec: ChipSpec,
                    partitioner: str = "greedy", seed: int = 0,
                    dialect: str | None = None,
                    calibration: Calibration | str | None = None) -> CompiledNetwork:
    """Quantise, partition and route ``netlist`` onto a chip of ``spec``.

    ``dialect`` (``neurochip.compiler.dialects``) picks the neuron arithmetic and its quantiser;
    by default ``spec.core.dialect``. The core spec should carry that dialect's widths
    (``dialect_spec``); a dialect other than the spec's is applied to it.

    ``calibration`` (reference LIF only): a ``Calibration`` of a float run on the user's
    input (``Calibration.from_run(float_run(ex))`` or of ``formats.nir.run_float``), or
    ``"float"`` to run ``float_run`` on the netlist's own inputs here; each population's
    voltage scale then holds the observed range (``compiler.calibration``).
    """
    if dialect is not None and dialect != spec.core.dialect:
        spec = replace(spec, core=spec.core.replace(dialect=dialect))
    dialect = spec.core.dialect
    if partitioner not in PARTITIONERS:
        raise SpecError(f"partitioner must be one of {PARTITIONERS}, got {partitioner!r}")
    model, dq = dialect_model(dialect), dialect_quantiser(dialect)
    ex = netlist if isinstance(netlist, ExpandedNetwork) else expand(netlist)
    core_spec = spec.core
    if calibration is not None and dialect != "lif":
        raise SpecError(f"calibration is implemented for the lif dialect, not {dialect!r}")
    if isinstance(calibration, str):
        if calibration != "float":
            raise SpecError(f"calibration must be a Calibration or 'float', got "
                            f"{calibration!r}")
        calibration = Calibration.from_run(float_run(ex, record=("v", "i")))
    shifted = _shift_zero(ex) if dialect == "lif" else ex
    starts, total_current = _bias_schedule(shifted)
    channel_neuron, channel_weight, event_channel = _input_channels(ex)
    floors = None
    if dialect == "lif":
        floors = scale_floors(
            shifted, shifted.params.broadcast(ex.n), shifted.params.broadcast(ex.n).E_L,
            core_spec, [ex.slice(name) for name in ex.names], (ex.post, channel_neuron),
            (ex.weight, channel_weight), total_current, calibration)
    q, biases = _quantise_neurons(shifted, dq, core_spec, total_current, floors)
    qw, delay_ticks, delays_rounded = _quantise_synapses(ex, dq, q, core_spec,
                                                         channel_neuron, channel_weight,
                                                         per_population=dialect == "lif")
    pre = np.asarray(ex.pre, dtype=np.int64)          # views, not copies, of the synapses
    post = np.asarray(ex.post, dtype=np.int64)
    readout = np.bincount(pre, minlength=ex.n) == 0
    params = dq.for_network(dq.with_bias(q.params, biases[0]), readout)
    w_syn, w_in = qw.w[:ex.weight.size], qw.w[ex.weight.size:].astype(np.int64)
    w_exp = qw.w_exp if np.ndim(qw.w_exp) == 0 else qw.w_exp[:ex.weight.size]
    in_exp = None if np.ndim(qw.w_exp) == 0 else \
        qw.w_exp[ex.weight.size:].astype(np.int64)
    net = Network(params, pre, post, w_syn, delay_ticks, w_exp,
                  np.arange(channel_neuron.size, dtype=np.int64),
                  channel_neuron.astype(np.int64), w_in, int(channel_neuron.size), in_exp)
    core_of, crossing, crossing_sequential = _partition(net, ex.n, spec, partitioner, seed)
    chip, input_map = place(net, core_of, spec, model=model,
                            inputs_first=model.accumulation == "sequential")
    slot_of = neuron_slots(core_of, spec.n_cores)
    report = CompileReport(
        partitioner=partitioner,
        capacities={"n_slots": core_spec.n_slots, "n_axons": core_spec.n_axons,
                    "synapse_words": core_spec.synapse_words,
                    "routing_entries": core_spec.routing_entries},
        cores=_core_uses(chip, spec.n_cores), parameter_errors=q.errors,
        weight_error=qw.error, weights_clipped=qw.clipped, weights_zeroed=qw.zeroed,
        w_exp=qw.w_exp if np.ndim(qw.w_exp) == 0 else int(np.max(qw.w_exp, initial=0)), delays_rounded=delays_rounded,
        inter_core_entries=crossing, inter_core_entries_sequential=crossing_sequential,
        populations=_populations(ex), weight_post=post if not channel_neuron.size
        else np.concatenate([post, channel_neuron]).astype(np.int64),
        weight_clipped=getattr(qw, "clipped_mask", None), zero_shift=_zero_notes(ex, shifted),
        calibrated=calibration is not None, dt=ex.dt)
    return CompiledNetwork(chip, ex, q, core_of, slot_of, input_map,
                           (ex.event_tick.astype(np.int64), event_channel),
                           (starts, biases), report, net, dialect)


def _bias_schedule(ex: ExpandedNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Bias over time: the segments' start ticks, and per segment and neuron the
    population's ``I_bias`` plus the dc/step currents in force (A)."""
    n = ex.n
    boundaries = sorted({0, *[int(t) for src in ex.currents for t in src.start_ticks]})
    starts = np.array(boundaries, dtype=np.int64)
    currents = np.zeros((starts.size, n))
    for src in ex.currents:
        for s, tick in enumerate(starts):
            step = int(np.searchsorted(src.start_ticks, tick, side="right") - 1)
            if step >= 0:
                currents[s, src.neurons] += src.amplitudes[step]
    return starts, ex.params.broadcast(n).I_bias + currents


def _populations(ex: ExpandedNetwork) -> tuple[tuple[str, int, int], ...]:
    return tuple((name, ex.offsets[name], ex.offsets[name] + ex.sizes[name])
                 for name in ex.names)


def _shift_zero(ex: ExpandedNetwork) -> ExpandedNetwork:
    """``ex`` with each neuron's ``E_L`` moved down to its register zero
    (``calibration.register_zero``) where its threshold or reset lies below ``E_L``, and
    the leak towards the old ``E_L`` carried as the bias ``g_L (E_L - zero)``: the same
    equation, ``C dV/dt = -g_L (V - zero) + g_L (E_L - zero) + I``."""
    q = ex.params.broadcast(ex.n)
    zero = register_zero(q)
    if not np.any(zero < q.E_L):
        return ex
    return replace(ex, params=replace(q, E_L=zero, I_bias=q.I_bias + q.g_L * (q.E_L - zero)))


def _zero_notes(ex: ExpandedNetwork, shifted: ExpandedNetwork) -> dict[str, float]:
    """Per population whose register zero moved below ``E_L``: how far (V)."""
    if shifted is ex:
        return {}
    moved = ex.params.broadcast(ex.n).E_L - shifted.params.E_L
    return {name: float(np.max(moved[ex.slice(name)], initial=0.0)) for name in ex.names
            if np.any(moved[ex.slice(name)] > 0)}


def _quantise_neurons(ex: ExpandedNetwork, dq, core_spec: CoreSpec,
                      total_current: np.ndarray, floors=None
                      ) -> tuple[QuantisedLif, np.ndarray]:
    """The neurons quantised, each population with its own voltage scale coarse enough
    for its largest current (and at least ``floors``, reference LIF), and the bias
    registers per segment (refused when a bias does not fit its register)."""
    groups = [ex.slice(name) for name in ex.names]
    extra = {} if floors is None else {"v_lsb_min": floors, "names": list(ex.names)}
    q = dq.quantise_groups(ex.params, ex.dt, core_spec, groups,
                           current_span=np.max(np.abs(total_current), axis=0), **extra)
    biases = np.rint(total_current / q.scales.i_lsb)
    lo, hi = dq.bias_range(core_spec)
    if biases.size and (biases.min() < lo or biases.max() > hi):
        j = int(np.argwhere((biases < lo) | (biases > hi))[0][1])
        worst = biases[:, j][np.argmax(np.abs(biases[:, j]))]
        register = (f"the {core_spec.v_bits}-bit field" if core_spec.dialect == "lif"
                    else f"the {core_spec.dialect} bias")
        name = next(p for p in ex.names if ex.slice(p).start <= j < ex.slice(p).stop)
        raise SpecError(f"population {name}, neuron {j - ex.offsets[name]}: its input "
                        f"current needs a bias register of "
                        f"{int(worst)} LSB, beyond {register} ({lo}..{hi}); widen the "
                        f"membrane (v_bits)")
    return q, biases.astype(np.int64)


def _input_channels(ex: ExpandedNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input channels, one per (neuron, distinct weight): each channel's neuron and
    weight, and the channel of every input event."""
    if ex.event_neuron.size:
        keys, event_channel = np.unique(
            np.stack([ex.event_neuron, ex.event_weight.view(np.int64)]), axis=1,
            return_inverse=True)
        event_channel = event_channel.ravel().astype(np.int64)
    else:
        keys, event_channel = np.zeros((2, 0), np.int64), np.zeros(0, np.int64)
    return keys[0].astype(np.int64), keys[1].view(np.float64), event_channel


def _quantise_synapses(ex: ExpandedNetwork, dq, q: QuantisedLif, core_spec: CoreSpec,
                       channel_neuron: np.ndarray, channel_weight: np.ndarray,
                       per_population: bool = False):
    """The weights of recurrent synapses and input channels, quantised with one shared
    exponent (``per_population``: one per target population, in chunks:
    ``compiler.weights``), and the delays in whole ticks (at least 1; refused beyond the
    delay field), with the number of delays that were rounded."""
    if per_population:
        qw = quantise_per_group((ex.weight, channel_weight), (ex.post, channel_neuron),
                                dq.weight_lsb(q), [ex.slice(name) for name in ex.names],
                                core_spec)
    else:
        all_weights = np.concatenate([ex.weight, channel_weight])
        all_post = np.concatenate([ex.post, channel_neuron]).astype(np.int64)
        qw = dq.quantise_weights(all_weights, dq.weight_lsb(q)[all_post], core_spec)
    delay, shared = ex.delay, constant_value(ex.delay)
    if shared is not None:                  # one delay for all: worked out once
        delay = np.asarray(ex.delay[:1])
    ticks = np.rint(delay / ex.dt)
    if ticks.size and not np.max(ticks) <= core_spec.max_delay:   # before any int cast
        s = int(np.argmax(np.where(np.isfinite(ticks), ticks, np.inf)))
        raise SpecError(f"synapse {s} (neuron {int(ex.pre[s])} -> {int(ex.post[s])}): delay "
                        f"{ex.delay[s]:g} s is {ticks[s]:g} ticks, beyond the "
                        f"{core_spec.delay_bits}-bit delay field (max {core_spec.max_delay})")
    delay_ticks = _delay_ticks(ex)
    rounded = np.count_nonzero(np.abs(delay / ex.dt - delay_ticks[:delay.size]) > 1e-9)
    delays_rounded = int(rounded) * (ex.delay.size if shared is not None else 1)
    return qw, delay_ticks, delays_rounded


MAX_DELAY_TICKS = MAX_COUNT     # the longest delay a run can have, as a netlist says


def _delay_ticks(ex: ExpandedNetwork) -> np.ndarray:
    """Every synapse's delay in whole ticks, at least 1, as int64; a delay that is not
    finite or beyond ``MAX_DELAY_TICKS`` is refused by synapse before the cast (which
    would wrap it into a short delay). One delay for all gives one value's view."""
    shared = constant_value(ex.delay)
    delay = ex.delay if shared is None else np.asarray(ex.delay[:1])
    ticks = np.rint(delay / ex.dt)
    if ticks.size and not np.all(ticks <= MAX_DELAY_TICKS):
        s = int(np.argmax(~(ticks <= MAX_DELAY_TICKS)))
        raise SpecError(f"synapse {s} (neuron {int(ex.pre[s])} -> {int(ex.post[s])}): delay "
                        f"{ex.delay[s]:g} s is {ticks[s]:g} ticks, beyond "
                        f"{MAX_DELAY_TICKS} ticks")
    ticks = np.maximum(ticks.astype(np.int64), 1)
    return ticks if shared is None else np.broadcast_to(ticks, ex.delay.shape)


def _partition(net: Network, n: int, spec: ChipSpec, partitioner: str, seed: int
               ) -> tuple[np.ndarray, int, int]:
    """Neuron -> core, and the routing entries that leave their core with it and with
    contiguous blocks: the greedy partition is kept only where it is better."""
    slots = spec.core.n_slots
    sequential = sequential_partition(n, spec.n_cores, slots)
    core_of = sequential
    crossing = crossing_sequential = inter_core_entries(sequential, net.pre, net.post,
                                                        net.delay)
    if partitioner == "greedy":
        candidate = greedy_partition(n, net.pre, net.post, spec.n_cores, slots, seed=seed)
        crossing_candidate = crossing_sequential if np.array_equal(candidate, sequential) \
            else inter_core_entries(candidate, net.pre, net.post, net.delay)
        if crossing_candidate < crossing_sequential:  # never worse than contiguous blocks
            core_of, crossing = candidate, crossing_candidate
    return core_of, crossing, crossing_sequential


def _core_uses(chip: Chip, n_cores: int) -> tuple[CoreUse, ...]:
    """What each core of the placed chip uses of its slots, axons, synapse words and
    routing entries."""
    uses = []
    for c in range(n_cores):
        engine = chip.engine
        lay = chip.layout
        s0, s1 = lay.slot_start[c], lay.slot_start[c + 1]
        a0, a1 = lay.axon_start[c], lay.axon_start[c + 1]
        words = int(engine.synapses.row_start[a1] - engine.synapses.row_start[a0])
        entries = int(engine.entry_start[s1] - engine.entry_start[s0])
        uses.append(CoreUse(c, int(s1 - s0), int(a1 - a0), words, entries))
    return tuple(uses)


# ====================================================================== float reference, inputs
def _event_rows(ex: ExpandedNetwork, ticks: int):
    """Tick ``k``'s input jumps (A per neuron), as ``ex.input_jumps()[k]`` (the same sums
    in the same order) without the ``(ticks, n)`` array."""
    bounds = np.searchsorted(ex.event_tick, np.arange(ticks + 1))

    def row(k):
        out = np.zeros(ex.n)
        a, b = bounds[k], bounds[k + 1]
        if b > a:
            np.add.at(out, ex.event_neuron[a:b], ex.event_weight[a:b])
        return out
    return row


def _current_rows(ex: ExpandedNetwork):
    """Tick ``k``'s external current (A per neuron), as ``ex.current()[k]`` (the same
    sums in the same order), one row per segment between step boundaries."""
    cache: dict[str, object] = {"segment": None, "row": None}
    edges = np.unique(np.concatenate([[0], *[src.start_ticks for src in ex.currents]]))

    def row(k):
        segment = int(np.searchsorted(edges, k, side="right"))
        if segment != cache["segment"]:
            out = np.zeros(ex.n)
            for src in ex.currents:
                step = int(np.searchsorted(src.start_ticks, k, side="right")) - 1
                if step >= 0:
                    out[src.neurons] += src.amplitudes[step]
            cache.update(segment=segment, row=out)
        return cache["row"]
    return row


FLOAT_RECORD = ("v", "i", "theta", "spikes")   # V, I_syn, Theta: accepted aliases


def float_run(ex: ExpandedNetwork, ticks: int | None = None, seed: int | None = None,
              record: tuple[str, ...] = FLOAT_RECORD):
    """The netlist on the float reference (``reference.simulate``), recurrence included:
    a spike in tick ``k`` adds its synapses' weights to the current in tick
    ``k + delay`` (delays rounded to whole ticks, at least 1, as on the chip).

    Only ``record`` (of ``v``, ``i``, ``theta``, ``spikes``) is allocated over the
    run; inputs are made tick by tick and delayed spikes kept in a ring as long as the
    longest delay. The run is refused (``SpecError``) when what it records exceeds the
    memory budget (``NEUROCHIP_MEMORY_BUDGET``)."""
    from firmware_models.lif.reference import simulate

    ticks = ex.ticks if ticks is None else ticks
    if isinstance(ticks, bool) or int(ticks) != ticks or not 0 <= ticks <= ex.ticks:
        raise SpecError(f"float run: ticks must be an integer in 0..{ex.ticks} (the "
                        f"netlist's run), got {ticks!r}")
    per_sample = sum(1 if name == "spikes" else 8 for name in record)
    problem = over_budget(float(ticks) * ex.n * per_sample + 64.0 * ex.n,
                          f"the float run ({ticks} ticks x {ex.n} neurons, recording "
                          f"{', '.join(record)})")
    if problem:
        raise SpecError(problem)
    order = np.argsort(ex.pre, kind="stable")
    pre_start = np.concatenate([[0], np.cumsum(np.bincount(ex.pre, minlength=ex.n))])
    post, weight = ex.post[order], ex.weight[order]
    delay = _delay_ticks(ex)[order]
    horizon = int(delay.max(initial=0)) + 1

    def feedback(k, fired, future):
        from ..hardware.synapses import row_words
        synapses, _ = row_words(pre_start, np.flatnonzero(fired))
        arrive = k + delay[synapses]
        keep = arrive < ticks
        np.add.at(future, (arrive[keep] % future.shape[0], post[synapses][keep]),
                  weight[synapses][keep])

    return simulate(ex.params, ex.dt, ticks, n=ex.n, syn_input=_event_rows(ex, ticks),
                    I_ext=_current_rows(ex), seed=seed, feedback=feedback, record=record,
                    horizon=horizon)


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
