"""Put an integer network onto a chip for a given placement of its neurons.

A ``Network`` is already quantised: neuron parameters (one firmware record for all
neurons), synapses ``(pre, post, w, delay)`` with one shared weight exponent (or one per
synapse: rows then hold only synapses of one exponent), and input channels with
synapses ``(channel, post, w, delay)``. ``place`` builds, for a placement
``core_of[neuron]``, the routing tables and synapse memories:

* neuron ``j`` gets one routing entry per (destination core, delay) among its synapses;
  that entry targets a fresh axon on the destination core whose row holds exactly
  ``j``'s synapses onto that core with that delay;
* an input channel gets one axon per (core, delay) of its targets, likewise; the
  returned ``InputMap`` turns per-channel event counts into the chip's axon inputs.

Neurons of one core take its slots in ascending neuron order (``neuron_slots`` gives
each neuron's global slot). Every synaptic event of the network therefore reaches the same neuron with the same
weight at the same tick wherever the neurons sit, so any placement gives the same spike
trains as one big core (when there is no noise: each core has its own LFSR stream).
Input events use the tick they are given for (delay counts only for spikes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_models.base import FirmwareModel

from ..hardware.chip import Chip, ChipSpec, CoreConfig
from ..hardware.routing import RoutingTable
from ..hardware.spec import SpecError
from ..hardware.synapses import SynapseMemory


@dataclass(frozen=True)
class Network:
    params: object            # firmware parameter record for all neurons
    pre: np.ndarray
    post: np.ndarray
    w: np.ndarray
    delay: np.ndarray
    w_exp: int = 0
    input_channel: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    input_post: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    input_w: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_inputs: int = 0
    input_w_exp: np.ndarray | None = None  # per input synapse, when w_exp is per synapse

    @property
    def n(self) -> int:
        return self.params.n


@dataclass(frozen=True)
class InputMap:
    """Which chip axons each input channel drives."""

    channel: np.ndarray  # per driven axon: its channel
    axon: np.ndarray     # per driven axon: global axon index

    def expand(self, channel_inputs: np.ndarray, n_axons: int) -> np.ndarray:
        """Per-channel event counts (ticks × channels) → chip inputs (ticks × axons)."""
        out = np.zeros((channel_inputs.shape[0], n_axons), dtype=np.int64)
        out[:, self.axon] = channel_inputs[:, self.channel]
        return out


def neuron_slots(core_of: np.ndarray, n_cores: int) -> np.ndarray:
    """Global slot (index into recordings and state) of every neuron of a placement."""
    core_of = np.asarray(core_of, dtype=np.int64)
    order = np.argsort(core_of, kind="stable")
    slots = np.empty(core_of.size, dtype=np.int64)
    slots[order] = np.arange(core_of.size)
    return slots


def _group(core_of_target: np.ndarray, source: np.ndarray, key: np.ndarray):
    """Distinct (destination core, source, key) triples and each synapse's triple index."""
    if core_of_target.size == 0:
        return np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64)
    s_span = int(source.max()) + 1
    k_span = int(key.max()) + 1
    combined = (core_of_target.astype(np.int64) * s_span + source) * k_span + key
    unique, inverse = np.unique(combined, return_inverse=True)
    core_source, k = np.divmod(unique, k_span)
    return np.stack([*np.divmod(core_source, s_span), k], axis=1), inverse.ravel()


CHUNK = 1 << 21     # synapses per chunk of the passes over all of them


@dataclass(frozen=True)
class _Rows:
    """One core's recurrent rows: one per distinct (pre, delay, exponent) of the synapses
    onto it, in that order; the words of a row in synapse order."""

    pre: np.ndarray       # per row: the presynaptic neuron
    delay: np.ndarray     # per row
    w_exp: np.ndarray     # per row
    length: np.ndarray    # per row: its words
    slot: np.ndarray      # per word: the local slot of the synapse's post neuron
    w: np.ndarray         # per word: the mantissa


def place(net: Network, core_of: np.ndarray, spec: ChipSpec,
          lfsr_seeds: dict[int, int] | None = None, *, model: FirmwareModel | None = None,
          inputs_first: bool = False) -> tuple[Chip, InputMap]:
    """The chip that runs ``net`` with neuron ``j`` on core ``core_of[j]``.

    ``model`` is the firmware model of ``net.params`` (by default the spec's dialect's).
    Each core numbers its recurrent
    axons before its input axons, or after them with ``inputs_first`` (for a model that
    applies events in ascending axon order, so that a tick's input events come before
    the spikes of earlier ticks, as on Xylo).

    The synapses are read in chunks: grouped by destination core (``_by_core``), then each
    core's rows sorted out (``_core_rows``); what is built is what grouping every
    synapse by ``(core, pre, delay, exponent)`` at once gave, word for word.
    """
    core_of = np.asarray(core_of, dtype=np.int64)
    if core_of.shape != (net.n,):
        raise SpecError(f"placement has shape {core_of.shape}, expected ({net.n},)")
    outside = np.flatnonzero((core_of < 0) | (core_of >= spec.n_cores))
    if outside.size:
        j = int(outside[0])
        raise SpecError(f"placement puts neuron {j} on core {int(core_of[j])}, the mesh has "
                        f"cores 0..{spec.n_cores - 1}")
    configs, inputs = _configs(net, core_of, spec, lfsr_seeds, inputs_first)
    chip = Chip(spec, configs, model=model)
    channel, core, axon = inputs
    return chip, InputMap(channel=channel, axon=chip.layout.axon_start[core] + axon)


def _local_slots(core_of: np.ndarray, n_cores: int):
    """Each core's neurons (ascending) and every neuron's slot on its core."""
    order = np.argsort(core_of, kind="stable")
    counts = np.bincount(core_of, minlength=n_cores)
    starts = np.concatenate([[0], np.cumsum(counts)])
    slot_of = np.empty(core_of.size, dtype=np.int64)
    slot_of[order] = np.arange(core_of.size) - np.repeat(starts[:-1], counts)
    return [order[starts[c]:starts[c + 1]] for c in range(n_cores)], slot_of


def _configs(net: Network, core_of: np.ndarray, spec: ChipSpec, lfsr_seeds, inputs_first):
    """Every core's ``CoreConfig`` and the input channels' axons ``(channel, core, axon
    on that core)``; the temporaries of the passes over the synapses end here."""
    n_cores = spec.n_cores
    members, slot_of = _local_slots(core_of, n_cores)
    per_synapse = np.ndim(net.w_exp) > 0
    inp_exp = (np.asarray(net.input_w_exp, dtype=np.int64) if per_synapse
               else np.zeros(net.input_channel.size, dtype=np.int64))
    inp, inp_of = _group(core_of[net.input_post], net.input_channel, inp_exp)
    inp_core = inp[:, 0]
    n_inp = np.bincount(inp_core, minlength=n_cores)
    inp_rank = np.arange(len(inp)) - np.searchsorted(inp_core, inp_core)  # within its core
    by_core, bounds = _by_core(core_of, net.post, n_cores)
    rows = [_core_rows(net, by_core, bounds[c], bounds[c + 1], slot_of) for c in range(n_cores)]
    del by_core
    n_rec = np.array([r.length.size for r in rows], dtype=np.int64)
    rec_base = n_inp if inputs_first else np.zeros(n_cores, np.int64)
    inp_axon = inp_rank + (np.zeros(n_cores, np.int64) if inputs_first else n_rec)[inp_core]
    # routing entries: every core's rows in core order (as one sort by (core, pre, key)
    # lists them), then each source core's entries in that order, stable by slot
    row_core = np.repeat(np.arange(n_cores), n_rec)
    row_pre = _cat([r.pre for r in rows])
    row_delay = _cat([r.delay for r in rows])
    row_axon = _cat([np.arange(r.length.size) + rec_base[c] for c, r in enumerate(rows)])
    src = core_of[row_pre]
    src_order = np.argsort(src, kind="stable")
    src_bounds = np.searchsorted(src[src_order], np.arange(n_cores + 1))
    configs = {}
    for c in range(n_cores):
        mine = src_order[src_bounds[c]:src_bounds[c + 1]]
        routes = RoutingTable.from_lists(members[c].size, slot_of[row_pre[mine]],
                                         row_axon[mine], row_delay[mine], row_core[mine])
        synapses = _core_memory(net, rows[c], int(rec_base[c]), inp, inp_of, inp_axon,
                                slot_of, c, int(n_inp[c]))
        rows[c] = None                         # this core's words now live in its memory
        seed = (lfsr_seeds or {}).get(c)
        configs[c] = CoreConfig(net.params.take(members[c]), synapses, routes,
                                *(() if seed is None else (seed,)))
    return configs, (inp[:, 1], inp_core, inp_axon)


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64, copy=False) if parts \
        else np.zeros(0, np.int64)


def _core_memory(net: Network, rows: _Rows, rec_base: int, inp, inp_of, inp_axon,
                 slot_of, core: int, n_inputs: int) -> SynapseMemory:
    """Core ``core``'s synapse memory: its recurrent rows (from axon ``rec_base``) and its
    input channels' rows, each row's words in synapse order."""
    in_core = np.flatnonzero(inp[:, 0] == core) if len(inp) else np.zeros(0, np.int64)
    mine = np.flatnonzero(inp[inp_of, 0] == core) if inp_of.size else inp_of
    lengths = np.zeros(rows.length.size + n_inputs, dtype=np.int64)
    lengths[rec_base:rec_base + rows.length.size] = rows.length
    per_synapse = np.ndim(net.w_exp) > 0
    row_exp = net.w_exp
    if per_synapse:
        row_exp = np.zeros(lengths.size, dtype=np.int64)
        row_exp[rec_base:rec_base + rows.length.size] = rows.w_exp
        row_exp[inp_axon[in_core]] = inp[in_core, 2]
    if not mine.size:                          # no input rows: the words as they are
        return SynapseMemory.from_rows(lengths, rows.slot, rows.w, row_exp)
    axon = inp_axon[inp_of[mine]]
    order = np.argsort(axon, kind="stable")
    mine = mine[order]
    lengths[inp_axon[in_core]] = np.bincount(axon, minlength=lengths.size)[inp_axon[in_core]]
    in_slot, in_w = slot_of[net.input_post[mine]], net.input_w[mine]
    first = rec_base > 0                       # input rows before the recurrent ones
    slot = np.concatenate([in_slot, rows.slot] if first else [rows.slot, in_slot])
    w = np.concatenate([in_w, rows.w] if first else [rows.w, in_w])
    return SynapseMemory.from_rows(lengths, slot, w, row_exp)


def _by_core(core_of: np.ndarray, post: np.ndarray, n_cores: int):
    """The synapses grouped by the core of their post neuron, each group in synapse order,
    and the groups' bounds: ``None`` for the order when they already are (one core, or
    contiguous blocks over synapses sorted by post)."""
    core = np.empty(post.size, dtype=np.int16 if n_cores < 1 << 15 else np.int64)
    for a in range(0, post.size, CHUNK):
        core[a:a + CHUNK] = core_of[post[a:a + CHUNK]]
    counts = np.bincount(core, minlength=n_cores)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    if not core.size or np.all(core[1:] >= core[:-1]):
        return None, bounds
    return np.argsort(core, kind="stable"), bounds     # 16-bit keys: a radix sort


def _core_rows(net: Network, by_core, a: int, b: int, slot_of: np.ndarray) -> _Rows:
    """The rows of one core from its synapses ``by_core[a:b]`` (or ``a:b``): the keys
    ``(pre, delay, exponent)`` sorted as ``key << bits | position`` (distinct values:
    their sort is the stable sort of the keys, and sorts in place). The core's slots and
    weights are gathered first in synapse order (ascending: a pass that reads memory in
    order), then put in row order from those small arrays."""
    size = b - a
    index = slice(a, b) if by_core is None else by_core[a:b]
    key = np.array(net.pre[index], dtype=np.int64) if by_core is None \
        else np.asarray(net.pre[index], dtype=np.int64)   # own copies: sorted in place
    slot = np.empty(size, dtype=np.int32 if slot_of.size < 1 << 31 else np.int64)
    for c0 in range(0, size, CHUNK):
        part = slice(a + c0, min(b, a + c0 + CHUNK)) if by_core is None \
            else by_core[a + c0:min(b, a + c0 + CHUNK)]
        slot[c0:c0 + CHUNK] = slot_of[net.post[part]]
    w = np.asarray(net.w)[index]
    delay, w_exp, combo, kinds = _combos(net, by_core, a, b)
    if kinds > 1:
        key *= kinds
        key += combo
    del combo
    bits = max(1, int(size).bit_length())
    if size and (int(key.max()) + 1) << bits < 1 << 62:
        key <<= bits
        key |= np.arange(size, dtype=np.int64)
        key.sort()
        order = key & ((1 << bits) - 1)
        key >>= bits
    else:
        order = np.argsort(key, kind="stable")
        key = key[order]
    slot, w = slot[order], w[order]
    del order
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if size \
        else np.zeros(0, np.int64)
    row_key = key[starts]
    del key
    length = np.diff(np.append(starts, size))
    combo = row_key % kinds
    return _Rows(row_key // kinds, delay[combo], w_exp[combo], length, slot, w)


def _combos(net: Network, by_core, a: int, b: int):
    """The distinct (delay, exponent) pairs among a core's synapses (ascending: delay,
    then exponent), each synapse's pair (None when there is one pair for all) and how
    many there are."""
    delays, exps = np.asarray(net.delay), np.asarray(net.w_exp)
    one_delay = delays.ndim == 1 and delays.size and delays.strides[0] == 0
    if one_delay and exps.ndim:                 # one exponent onto this core: a scalar
        part = exps[a:b] if by_core is None else exps[by_core[a:b]]
        if part.size and part.min() == part.max():
            exps = part[0]
    if one_delay and exps.ndim == 0:
        return delays[:1].astype(np.int64), np.full(1, int(exps), np.int64), None, 1

    def of_core(values):
        if values.ndim == 0:
            return np.full(b - a, int(values), dtype=np.int64)
        part = values[a:b] if by_core is None else values[by_core[a:b]]
        return part.astype(np.int64)

    delay, exp = of_core(delays), of_core(exps)
    spread = int(exp.max(initial=0)) + 1
    raw = delay * spread + exp
    del delay, exp
    top = int(raw.max(initial=0)) + 1
    if top <= 4 * raw.size + (1 << 16):        # a table of the pairs: no sort
        present = np.zeros(top, dtype=bool)
        present[raw] = True
        pair = np.flatnonzero(present)
        dense = np.cumsum(present) - 1
        combo = dense[raw]
    else:
        pair, combo = np.unique(raw, return_inverse=True)
        combo = combo.ravel()
    pair = pair if pair.size else np.zeros(1, np.int64)
    return pair // spread, pair % spread, combo.astype(np.int64), pair.size
