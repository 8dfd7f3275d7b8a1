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


def place(net: Network, core_of: np.ndarray, spec: ChipSpec,
          lfsr_seeds: dict[int, int] | None = None, *, model: FirmwareModel | None = None,
          inputs_first: bool = False) -> tuple[Chip, InputMap]:
    """The chip that runs ``net`` with neuron ``j`` on core ``core_of[j]``.

    ``model`` is the firmware model of ``net.params`` (by default the spec's dialect's).
    Each core numbers its recurrent
    axons before its input axons, or after them with ``inputs_first`` (for a model that
    applies events in ascending axon order, so that a tick's input events come before
    the spikes of earlier ticks, as on Xylo).
    """
    core_of = np.asarray(core_of, dtype=np.int64)
    if core_of.shape != (net.n,):
        raise SpecError(f"placement has shape {core_of.shape}, expected ({net.n},)")
    outside = np.flatnonzero((core_of < 0) | (core_of >= spec.n_cores))
    if outside.size:
        j = int(outside[0])
        raise SpecError(f"placement puts neuron {j} on core {int(core_of[j])}, the mesh has "
                        f"cores 0..{spec.n_cores - 1}")
    slot_of = np.zeros(net.n, dtype=np.int64)
    members = [np.flatnonzero(core_of == c) for c in range(spec.n_cores)]
    for c, m in enumerate(members):
        slot_of[m] = np.arange(m.size)

    # Axons: recurrent (dest core, pre, delay) groups first, then input (core, channel, 0);
    # with per-synapse exponents the exponent is part of the key (one per row).
    per_synapse = np.ndim(net.w_exp) > 0
    rec_exp = np.asarray(net.w_exp, dtype=np.int64) if per_synapse else None
    inp_exp = (np.asarray(net.input_w_exp, dtype=np.int64) if per_synapse
               else np.zeros(net.input_channel.size, dtype=np.int64))
    spread = (int(max(np.max(rec_exp, initial=0), np.max(inp_exp, initial=0))) + 1
              if per_synapse else 1)
    rec_key = net.delay * spread + rec_exp if per_synapse else net.delay
    rec, rec_of = _group(core_of[net.post], net.pre, rec_key)
    inp, inp_of = _group(core_of[net.input_post], net.input_channel, inp_exp)
    group_exp = (np.concatenate([rec[:, 2] % spread, inp[:, 2]]) if per_synapse
                 else None)
    if per_synapse:
        rec = rec.copy()
        rec[:, 2] //= spread   # the key's delay
    groups = np.concatenate([rec, inp]) if inp.size else rec
    group_core = groups[:, 0] if groups.size else np.zeros(0, dtype=np.int64)
    order = np.argsort(group_core, kind="stable")
    if inputs_first and inp.size:
        is_input = np.arange(len(groups)) >= len(rec)
        order = np.lexsort((~is_input, group_core))
    axon_of_group = np.empty(len(groups), dtype=np.int64)
    axon_of_group[order] = np.arange(len(groups)) - np.searchsorted(
        group_core[order], group_core[order])
    n_rec = len(rec)

    configs = {}
    for c, m in enumerate(members):
        in_core = group_core == c
        n_axons = int(in_core.sum())
        syn_rec = np.flatnonzero(core_of[net.post] == c)
        syn_inp = np.flatnonzero(core_of[net.input_post] == c)
        axon = np.concatenate([axon_of_group[rec_of[syn_rec]],
                               axon_of_group[n_rec + inp_of[syn_inp]]])
        slot = np.concatenate([slot_of[net.post[syn_rec]], slot_of[net.input_post[syn_inp]]])
        w = np.concatenate([net.w[syn_rec], net.input_w[syn_inp]])
        row_exp = net.w_exp
        if per_synapse:
            row_exp = np.zeros(n_axons, dtype=np.int64)
            row_exp[axon_of_group[in_core]] = group_exp[in_core]
        synapses = SynapseMemory.from_lists(n_axons, axon, slot, w, row_exp)
        sources = rec[:, 1] if len(rec) else np.zeros(0, dtype=np.int64)
        mine = np.flatnonzero(core_of[sources] == c) if len(rec) else np.zeros(0, np.int64)
        routes = RoutingTable.from_lists(
            m.size, slot_of[sources[mine]], axon_of_group[mine], rec[mine, 2], rec[mine, 0])
        seed = (lfsr_seeds or {}).get(c)
        configs[c] = CoreConfig(net.params.take(m), synapses, routes,
                                *(() if seed is None else (seed,)))
    chip = Chip(spec, configs, model=model)
    driven = np.arange(n_rec, len(groups))
    input_map = InputMap(channel=groups[driven, 1] if driven.size else np.zeros(0, np.int64),
                         axon=chip.layout.axon_start[group_core[driven]]
                         + axon_of_group[driven])
    return chip, input_map
